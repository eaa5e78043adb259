/*
 * glue_shim.c -- the wasm-rt.h API inside a compiled module.
 *
 * This file is not compiled into libwasmudf. The library embeds its text and
 * writes it next to wasm2c's output when it compiles a module; the generated
 * glue includes it, so it becomes part of the module's shared object. It
 * defines every function wasm2c's code may call (wasm_rt_trap,
 * wasm_rt_grow_memory, ...) as a forwarder to the host runtime handed over in
 * wudf_glue_bind, which is how one runtime -- the library's own, thread-safe
 * one -- serves every module, and how no module ever links wabt's reference
 * runtime. All definitions are hidden (-fvisibility=hidden), so a host process
 * that happens to define the same names cannot interpose on them.
 */
#include <stdarg.h>

static const struct wudf__rt_api* wudf__rt;

#ifdef __TINYC__
/* The dummy depth counter of the tcc tier (glue_abi.h). */
uint32_t wasm_rt_call_stack_depth;
#endif

void wasm_rt_init(void) {}

bool wasm_rt_is_initialized(void) { return wudf__rt != NULL; }

void wasm_rt_free(void) {}

void wasm_rt_trap(wasm_rt_trap_t code) {
  wudf__rt->trap(code);
  __builtin_unreachable();
}

const char* wasm_rt_strerror(wasm_rt_trap_t trap) {
  (void)trap;
  return "trap";
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  /* The reader caps params and results per type well below this. */
  wasm_rt_type_t types[4096];
  (void)WUDF__TCC_PROBE_FRAME(); /* 16 KiB of frame: probed under tcc */
  uint32_t count = params + results;
  if (count > sizeof(types) / sizeof(types[0])) wasm_rt_trap(WASM_RT_TRAP_OOB);
  va_list args;
  va_start(args, results);
  for (uint32_t i = 0; i < count; i++) types[i] = va_arg(args, wasm_rt_type_t);
  va_end(args);
  return wudf__rt->register_func_type(params, results, types);
}

/* Exception handling is refused before compilation; these exist only so that
 * every declaration of wasm-rt.h has a definition. */
uint32_t wasm_rt_register_tag(uint32_t size) {
  (void)size;
  wasm_rt_trap(WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
}

void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void* values) {
  (void)tag;
  (void)size;
  (void)values;
  wasm_rt_trap(WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
}

void wasm_rt_throw(void) { wasm_rt_trap(WASM_RT_TRAP_UNCAUGHT_EXCEPTION); }

WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) { return NULL; }

void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target) { (void)target; }

uint32_t wasm_rt_exception_tag(void) { return 0; }

uint32_t wasm_rt_exception_size(void) { return 0; }

void* wasm_rt_exception(void) { return NULL; }

void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages,
                             uint32_t max_pages) {
  wudf__rt->allocate_memory(memory, initial_pages, max_pages);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t pages) {
  return wudf__rt->grow_memory(memory, pages);
}

void wasm_rt_free_memory(wasm_rt_memory_t* memory) {
  wudf__rt->free_memory(memory);
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table,
                                    uint32_t elements, uint32_t max_elements) {
  wudf__rt->allocate_funcref_table(table, elements, max_elements);
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* table) {
  wudf__rt->free_funcref_table(table);
}

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* table,
                                    uint32_t delta, wasm_rt_funcref_t init) {
  return wudf__rt->grow_funcref_table(table, delta, init);
}

void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* table,
                                      uint32_t elements,
                                      uint32_t max_elements) {
  wudf__rt->allocate_externref_table(table, elements, max_elements);
}

void wasm_rt_free_externref_table(wasm_rt_externref_table_t* table) {
  wudf__rt->free_externref_table(table);
}

uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t* table,
                                      uint32_t delta, wasm_rt_externref_t init) {
  return wudf__rt->grow_externref_table(table, delta, init);
}

/* Bit-pattern conversions used by the generated export trampolines. */
static inline float wudf__f32_from_bits(uint64_t bits) {
  uint32_t narrow = (uint32_t)bits;
  float value;
  memcpy(&value, &narrow, sizeof(value));
  return value;
}

static inline double wudf__f64_from_bits(uint64_t bits) {
  double value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static inline uint64_t wudf__f32_bits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return bits;
}

static inline uint64_t wudf__f64_bits(double value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return bits;
}
