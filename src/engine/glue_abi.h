/*
 * glue_abi.h -- the contract between libwasmudf and a compiled module.
 *
 * Every module the engine compiles becomes one shared object made of three
 * parts in a single translation unit: wasm2c's output for the module, the
 * fixed runtime shim (glue_shim.c, which defines the wasm_rt_* functions
 * wasm2c's code calls and forwards them to the host), and a generated table
 * (glue.c) that describes the module to the host. The shared object exports a
 * single symbol, WUDF__GLUE_BIND_SYMBOL; everything else is hidden, so nothing
 * in the module can bind to, or be bound by, symbols of the host process.
 *
 * The host hands the module a `struct wudf__rt_api` (its runtime: memory,
 * tables, traps, function types, WASI); the module hands back a
 * `struct wudf__glue_module` (its instance size, constructor, destructor, and
 * one uniform entry point per function export). Values cross as uint64_t
 * slots: i32/i64 zero-extended, f32/f64 as their bit patterns.
 *
 * This header is compiled both into the host and, as text embedded in the
 * library, into every module; WUDF__GLUE_ABI_VERSION changes whenever either
 * side's view of these structs changes, and the text itself is part of the
 * cache key.
 */
#ifndef WUDF_ENGINE_GLUE_ABI_H
#define WUDF_ENGINE_GLUE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __TINYC__
/*
 * The fast tier (docs/engine.md, "Tiers"): a module compiled by tcc.
 *
 * tcc lacks the GCC builtins wasm2c's output and the shim use; they are
 * defined here as plain C. It has no stack-clash protection either: a frame
 * larger than the guard page below a thread's stack could be written past
 * the guard, into whatever is mapped below. wasm2c declares a function's
 * parameters and locals first, each initialised (tcc lays them out
 * downwards, so these writes walk down the frame without a gap), then runs
 * FUNC_PROLOGUE before touching anything else. With stack depth counting
 * on, FUNC_PROLOGUE evaluates WASM_RT_MAX_CALL_STACK_DEPTH, which here reads
 * one byte of every page from the frame's top down to the stack pointer, so
 * the frame's first access below the guard is a read of the guard itself (a
 * stack-exhaustion trap). The depth counter is a dummy compared with the
 * largest uint32_t, so it never traps; concurrent threads may garble it.
 */
#if !defined(__x86_64__)
#error "the tcc tier needs x86_64 (the stack probe is x86_64 assembly)"
#endif
#include <stdlib.h>

#define WUDF__TCC_PAGE 4096
#define WUDF__TCC_PROBE_FRAME()                                               \
  ({                                                                          \
    char* wudf__probe_sp;                                                     \
    __asm__ volatile("mov %%rsp, %0" : "=r"(wudf__probe_sp));                 \
    char* wudf__probe = (char*)__builtin_frame_address(0) - WUDF__TCC_PAGE;   \
    for (; wudf__probe > wudf__probe_sp; wudf__probe -= WUDF__TCC_PAGE) {     \
      WUDF__TCC_TOUCH(wudf__probe);                                           \
    }                                                                         \
    WUDF__TCC_TOUCH(wudf__probe_sp);                                          \
    0;                                                                        \
  })
/* Reads one byte at `address` (tcc drops a discarded volatile read). */
#define WUDF__TCC_TOUCH(address) \
  __asm__ volatile("cmpb $0, (%0)" : : "r"(address) : "cc", "memory")
#define WASM_RT_USE_STACK_DEPTH_COUNT 1
#define WASM_RT_MAX_CALL_STACK_DEPTH (WUDF__TCC_PROBE_FRAME(), 0xffffffffu)

static inline int wudf__tcc_popcountll(unsigned long long x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (int)((x * 0x0101010101010101ull) >> 56);
}
/* Count leading zeros of a nonzero value: smear the highest set bit down,
 * then count the ones. */
static inline int wudf__tcc_clzll(unsigned long long x) {
  x |= x >> 1;
  x |= x >> 2;
  x |= x >> 4;
  x |= x >> 8;
  x |= x >> 16;
  x |= x >> 32;
  return 64 - wudf__tcc_popcountll(x);
}
static inline int wudf__tcc_ctzll(unsigned long long x) {
  return wudf__tcc_popcountll((x & (0 - x)) - 1);
}
#define __builtin_popcountll(x) wudf__tcc_popcountll((unsigned long long)(x))
#define __builtin_popcount(x) wudf__tcc_popcountll((unsigned long long)(unsigned)(x))
#define __builtin_clzll(x) wudf__tcc_clzll((unsigned long long)(x))
#define __builtin_clz(x) (wudf__tcc_clzll((unsigned long long)(unsigned)(x)) - 32)
#define __builtin_ctzll(x) wudf__tcc_ctzll((unsigned long long)(x))
#define __builtin_ctz(x) wudf__tcc_ctzll((unsigned long long)(unsigned)(x))
#define __builtin_unreachable() abort()
/* f32.neg and f64.neg flip the sign bit, of NaNs too; tcc's unary minus
 * does not. wasm2c's "x = -(y)" reaches here as "x =W_(y)"
 * (wudf__patch_for_tcc in compile.c). */
static inline float wudf__tcc_neg32(float x) {
  union { float f; uint32_t u; } v;
  v.f = x;
  v.u ^= 0x80000000u;
  return v.f;
}
static inline double wudf__tcc_neg64(double x) {
  union { double f; uint64_t u; } v;
  v.f = x;
  v.u ^= 0x8000000000000000ull;
  return v.f;
}
#define W_(x) _Generic((x), float: wudf__tcc_neg32, double: wudf__tcc_neg64)(x)
#else
#define WUDF__TCC_PROBE_FRAME() 0
#endif

#include "wasm-rt.h"

#define WUDF__GLUE_ABI_VERSION 2u
#define WUDF__GLUE_BIND_SYMBOL "wudf_glue_bind"

/* The host runtime, as seen from a module. Every function is called from
 * guest code on the thread running the guest. `trap` and `wasi_call` may not
 * return (they unwind to the host's call boundary). */
struct wudf__rt_api {
  uint32_t abi_version;
  void (*trap)(wasm_rt_trap_t code);
  uint32_t (*register_func_type)(uint32_t param_count, uint32_t result_count,
                                 const wasm_rt_type_t* types);
  void (*allocate_memory)(wasm_rt_memory_t* memory, uint32_t initial_pages,
                          uint32_t max_pages);
  uint32_t (*grow_memory)(wasm_rt_memory_t* memory, uint32_t delta_pages);
  void (*free_memory)(wasm_rt_memory_t* memory);
  void (*allocate_funcref_table)(wasm_rt_funcref_table_t* table,
                                 uint32_t elements, uint32_t max_elements);
  uint32_t (*grow_funcref_table)(wasm_rt_funcref_table_t* table,
                                 uint32_t delta, wasm_rt_funcref_t init);
  void (*free_funcref_table)(wasm_rt_funcref_table_t* table);
  void (*allocate_externref_table)(wasm_rt_externref_table_t* table,
                                   uint32_t elements, uint32_t max_elements);
  uint32_t (*grow_externref_table)(wasm_rt_externref_table_t* table,
                                   uint32_t delta, wasm_rt_externref_t init);
  void (*free_externref_table)(wasm_rt_externref_table_t* table);
  /* Calls WASI preview1 function `function` (an index into the host's table
   * of WASI functions) with its arguments; returns its i32 result. */
  uint32_t (*wasi_call)(void* wasi_context, uint32_t function,
                        const uint64_t* args);
};

/* One callable function export. */
struct wudf__glue_export {
  const char* name;          /* the export name, as in the module */
  const char* signature;     /* value types as letters, "ij:f" = (i32,i64)->f32 */
  void (*call)(void* instance, const uint64_t* args, uint64_t* results);
};

/* The module, as seen from the host. */
struct wudf__glue_module {
  uint32_t abi_version;
  const char* cache_key;     /* the key this object was compiled under */
  size_t instance_size;      /* bytes of wasm2c's instance struct */
  void (*init_module)(void); /* once per load: registers function types */
  /* Initialises `instance` (instance_size zeroed bytes): memory, tables,
   * globals, data, then runs the start function. */
  void (*instantiate)(void* instance, void* wasi_context);
  void (*free_instance)(void* instance);
  uint32_t export_count;
  const struct wudf__glue_export* exports;
  /* Every defined function, by index: functions[i] is function
   * function_base + i (function_base = the imported functions). Two objects
   * of one module list the same functions in the same order, which is how
   * the tier switch moves funcref table entries from one to the other. */
  uint32_t function_base;
  uint32_t function_count;
  const wasm_rt_function_ptr_t* functions;
};

typedef const struct wudf__glue_module* (*wudf__glue_bind_fn)(
    const struct wudf__rt_api* runtime);

#endif /* WUDF_ENGINE_GLUE_ABI_H */
