/*
 * engine.h -- the engine's objects behind the opaque public handles, and the
 * compile pipeline's entry point (internal).
 *
 * The engine knows nothing of the layers above it (docs/architecture.md):
 * what a layer keeps per module and per instance hangs off the opaque
 * `head.layer_state` slots below, set up and torn down by the hooks of
 * layer.h.
 */
#ifndef WUDF_ENGINE_ENGINE_H
#define WUDF_ENGINE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>

#include "../common/common.h"
#include "glue_abi.h"
#include "layer.h"
#include "process.h"
#include "runtime.h"
#include "wasi.h"
#include "wasm_reader.h"

/* Paths in the compile cache are built in fixed buffers of WUDF__PATH_MAX
 * bytes; the engine refuses a cache directory longer than WUDF__CACHE_DIR_MAX
 * so the names it appends (at most 100 bytes) always fit. */
#define WUDF__PATH_MAX 4096
#define WUDF__CACHE_DIR_MAX (WUDF__PATH_MAX - 128)

struct wudf__failure;
struct wudf__tier_job;

/* The two tiers of compiled code (docs/engine.md, "Tiers"). */
#define WUDF__TIER_OPTIMIZED 0 /* cc -O2: what every load made before tiers */
#define WUDF__TIER_FAST 1      /* fast_cc (tcc) at the first load */

struct wudf_engine {
  char* cache_dir;
  char* cc;
  char* wasm2c;
  char* fast_cc;          /* the fast tier's compiler */
  int fast_fallback;      /* fast_cc was not found: the fast tier is cc -O0 */
  char** cflags;          /* user flags, NULL-terminated */
  struct wudf_engine_config config; /* defaults; its strings are not used */
  struct wudf__tool_identity cc_identity;
  struct wudf__tool_identity wasm2c_identity;
  struct wudf__tool_identity fast_cc_identity;
  struct wudf__wasm_limits limits;
  struct wudf__rt_budget budget; /* memory_budget across the instances */
  /* Compiles that failed, remembered by key (failures.c). */
  pthread_mutex_t failures_lock;
  struct wudf__failure* failures;
  uint64_t lock_timeout_ms; /* longest wait for another compile of a key */
  _Atomic uint64_t compiles;
  _Atomic uint64_t cache_hits;
  _Atomic uint64_t failures_remembered;
  /* Tiers (tier.c): the background optimised builds, joined by
   * wudf_engine_free; `tier_lock` guards the list, `tier_done` is signalled
   * as each ends. */
  pthread_mutex_t tier_lock;
  pthread_cond_t tier_done;
  struct wudf__tier_job* tier_jobs;
  /* Builds compiling now, and the most at once (half the online CPUs, at
   * least 1): a host that loads a hundred modules gets them built a few at
   * a time, not a hundred compilers at once. Under tier_lock. */
  unsigned tier_running;
  unsigned tier_max;
  /* Set by wudf_engine_cancel_builds: background builds stop (their
   * compilers are killed) and no new one starts. */
  atomic_int tier_cancelled;
  _Atomic uint64_t fast_compiles;
  _Atomic uint64_t fast_failures;
  _Atomic uint64_t optimized_ready;
  _Atomic uint64_t optimized_failures;
};

/* Every entry point a layer above uses (entering an instance, the i32
 * export call, pins and holders, module references, ...) is declared in
 * layer.h, with the heads of the two structs below. */

struct wudf_module {
  /* The layer above's state of this module (layer.h). First member. */
  struct wudf__module_head head;
  atomic_int references;  /* the caller's handle + one per instance */
  struct wudf_engine* engine;
  struct wudf__wasm_info info;
  struct wudf__loaded* loaded; /* the compiled object (compile.c) */
  const struct wudf__glue_module* glue; /* NULL: inspected, not compiled */
  int tier;               /* the tier of `glue` (WUDF__TIER_*) */
  /* The optimised object a background build made for a module loaded with
   * the fast tier: published once (release) with its export table; new
   * instances take it (acquire), existing ones keep `glue`. */
  _Atomic(const struct wudf__glue_module*) optimized_glue;
  const struct wudf__glue_export** optimized_exports;
  struct wudf__loaded* optimized_loaded;
  /* The fast object's function addresses, sorted, each with its index in
   * the glue's function list: how the switch finds the optimised twin of a
   * funcref table entry (wudf__tier_twin). Published with optimized_glue. */
  struct wudf__tier_function* fast_functions;
  uint32_t fast_function_count;
  /* Callable exports: those with only numeric types, in glue order. */
  uint32_t export_count;
  struct wudf_export_info* exports;
  const struct wudf__glue_export** glue_exports;
  wudf_valtype* types;    /* storage for every export's params and results */
};

struct wudf_instance {
  /* What a layer above reads on its per-call paths (layer.h): the layer's
   * state, the module, the lifetime word `life`, the broken flag and where
   * the memory is. First member. */
  struct wudf__instance_head head;
  /* The compiled code this instance runs: the module's at its creation. */
  const struct wudf__glue_module* glue;
  const struct wudf__glue_export* const* glue_exports;
  int tier;
  struct wudf_instance_config config;
  int instantiated;
  struct wudf__rt_instance runtime;
  struct wudf__wasi wasi;
  void* state;            /* wasm2c's instance struct */
  /* The in-call flag. An instance runs one call at a time: `busy_owner`
   * holds a token of the thread running a call on it (0 when idle), taken
   * with a compare-and-swap by every call that runs guest code or touches
   * guest state, so a second thread is refused with EBUSY instead of
   * racing. The owner may enter again (a function call runs many export
   * calls); `busy_depth` counts its entries and only the owner touches
   * it. */
  _Atomic(uintptr_t) busy_owner;
  unsigned busy_depth;
  /* Export calls run on this instance (each a wudf__rt_run), for tests and
   * benchmarks that count the guest calls of a function call. */
  uint64_t guest_runs;
  /* The snapshot of wudf_instance_snapshot: memory and tables (runtime)
   * and a copy of wasm2c's state struct (the layer above keeps its own,
   * layer.h). `state_copy` NULL: none. */
  struct wudf__rt_snapshot snapshot;
  void* state_copy;
};

/* The bits of `head.life`, WUDF__PINNED, WUDF__FREE_REQUESTED and
 * WUDF__HOLDER, are defined in layer.h. */

/* Moves an instance on the fast tier to its module's optimised object when
 * it has been published: entry points and funcref table entries (see
 * instance.c). Call only between calls, on the thread that entered the
 * instance; through wudf__instance_upgrade. */
void wudf__instance_switch(struct wudf_instance* instance);

/* The tier check every path that runs an export must make before it picks
 * the entry point (instance->glue_exports): one predictable branch once
 * the instance runs optimised code. */
static inline void wudf__instance_upgrade(struct wudf_instance* instance) {
  if (__builtin_expect(instance->tier == WUDF_TIER_FAST, 0)) wudf__instance_switch(instance);
}

/*
 * Produces the compiled module for `bytes` (already read into `info`): from
 * the cache, or by running wasm2c and the compiler and storing the result.
 * On success sets module->library and module->glue. Updates the engine's
 * counters.
 */
int wudf__compile_load(struct wudf_engine* engine, const uint8_t* bytes,
                       size_t size, struct wudf_module* module,
                       struct wudf_error* error);

/* Compiles (or finds) the optimised object of a module into `holder`'s
 * `loaded` and `glue` (the background build of tier.c). */
int wudf__compile_optimized(struct wudf_engine* engine, const uint8_t* bytes, size_t size,
                            const struct wudf__wasm_info* info,
                            struct wudf_module* holder, struct wudf_error* error);

/* Starts the background optimised build of `module`, loaded with the fast
 * tier and fully described (tier.c). Best effort: when no thread can be started the module
 * keeps the fast code. */
void wudf__tier_start(struct wudf_engine* engine, struct wudf_module* module,
                      const uint8_t* bytes, size_t size);

/* One entry of a module's fast_functions. */
struct wudf__tier_function {
  wasm_rt_function_ptr_t address;
  uint32_t index;
};

/* The optimised object's function for `address`, a function of the fast
 * object of `module` (published: optimized_glue is set), or NULL when
 * `address` is none of the fast object's functions (a WASI forwarder). */
wasm_rt_function_ptr_t wudf__tier_twin(const struct wudf_module* module,
                                       wasm_rt_function_ptr_t address);

/* The flag a compile running on this thread must watch: the engine's
 * tier_cancelled when the thread is a background build's, else NULL (a
 * compile a caller waits for is never cancelled). */
const atomic_int* wudf__tier_cancel_flag(struct wudf_engine* engine);

/* Waits for the engine's background builds and joins them (engine free). */
void wudf__tier_join_all(struct wudf_engine* engine);

/* Releases the module's optimised object, if any (module destroy). */
void wudf__tier_release(struct wudf_module* module);

/* The compile limits of an engine's configuration, as a failure is
 * remembered under them (failures.c). */
struct wudf__compile_limits {
  uint64_t timeout_ms;
  uint64_t cpu_seconds;
  uint64_t memory_bytes;
  uint64_t file_bytes;
};
void wudf__compile_limits_of(const struct wudf_engine* engine,
                             struct wudf__compile_limits* limits);

/* The memory of failed compiles (failures.c). `marker` is the key's marker
 * file, CACHE/v1/XX/KEY.failed.
 *   check:    0 when the key is not known to have failed under compile
 *             limits at least as generous as the engine's; otherwise the
 *             original code, with a message that quotes the original one.
 *   remember: records a failure (`code`, `message`) of the key under the
 *             engine's limits, in the engine and in the marker (best effort).
 *   forget:   drops the key's record and marker (after a good compile).
 *   free:     drops the engine's records (not the markers). */
int wudf__failure_check(struct wudf_engine* engine, const char* key, const char* marker,
                        struct wudf_error* error);
void wudf__failure_remember(struct wudf_engine* engine, const char* key, const char* marker,
                            int code, const char* message);
void wudf__failure_forget(struct wudf_engine* engine, const char* key, const char* marker);
void wudf__failures_free(struct wudf_engine* engine);
/* Releases `module`'s share of its compiled object (unloaded with the last
 * module using it). */
void wudf__compile_unload(struct wudf_module* module);

/* Nonzero when export `export` of `info` is a function with only numeric
 * types: the exports the glue makes callable, in export order. */
int wudf__callable_export(const struct wudf__wasm_info* info,
                          const struct wudf__wasm_export* export);

/* The bytes wasm2c is given for validated `bytes` (read into `info`):
 * adjacent active data segments merged, custom sections dropped and a name
 * section that names defined function i "wudf_f<i>" (wasm_prepare.c).
 * Returns 0 with a new buffer in *prepared (the caller frees it), or
 * ENOMEM. */
int wudf__wasm_prepare(const uint8_t* bytes, size_t size, const struct wudf__wasm_info* info,
                       uint8_t** prepared, size_t* prepared_size);

/* What the artifact build (compile.c) gives artifact.c: the key the glue was
 * compiled under, wasm2c's version, the SHA-256 of the wasm-rt.h the
 * compiler read, and the object's bytes (a funnel buffer). */
struct wudf__artifact_build {
  const char* required_wasm2c_version; /* set by the caller: refused before compiling */
  char key[65];
  char wasm2c_version[64];
  char runtime_header_sha256[65];
  uint8_t* object;
  size_t object_size;
};

/* Compiles the optimised object of `bytes` (read into `info`) synchronously
 * in a work directory of the cache, outside the cache's entries, and reads
 * it into `build`. Returns 0, ENOTSUP when `wasm2c --version` is not
 * build->required_wasm2c_version (before compiling), or the compile's
 * error. */
int wudf__compile_artifact_object(struct wudf_engine* engine, const uint8_t* bytes,
                                  size_t size, const struct wudf__wasm_info* info,
                                  struct wudf__artifact_build* build,
                                  struct wudf_error* error);

/* Loads the verified object open at `fd` (which it takes; `label` names it
 * in messages) as the object of `key` into `module`'s `loaded` and `glue`:
 * dlopen, bind, the type registration. Returns 0, ENOEXEC (not an object
 * of this key), EACCES or ENOMEM. */
int wudf__compile_load_object(struct wudf_engine* engine, int fd, const char* label,
                              const char* key, struct wudf_module* module,
                              struct wudf_error* error);

/* Reads and checks a module (wasm_read, the import policy), then gives it
 * compiled code: with `artifact` NULL, by wudf__compile_load (unless
 * `inspect`); otherwise by calling `artifact(engine, module, closure,
 * error)`. Describes the exports and attaches the layer above (layer.h),
 * which reads what it needs of the module (engine.c). */
typedef int (*wudf__object_source)(struct wudf_engine* engine, struct wudf_module* module,
                                   void* closure, struct wudf_error* error);
int wudf__module_open_with(struct wudf_engine* engine, const uint8_t* bytes, size_t size,
                           int inspect, wudf__object_source artifact, void* closure,
                           struct wudf_module** out, struct wudf_error* error);

/* The number of artifact objects handed to dlopen in this process
 * (artifact.c): the tests' proof that a refused artifact was never mapped. */
uint64_t wudf__artifact_dlopen_count(void);

/* Writes wasm2c's mangled form of `name` ("Z_" + escaped bytes) to `out`. */
int wudf__mangle(const char* name, char* out, size_t capacity);

/* The embedded texts of glue_abi.h and glue_shim.c (generated at build time
 * from the files of the same names). */
extern const char wudf__glue_abi_text[];
extern const char wudf__glue_shim_text[];

#endif /* WUDF_ENGINE_ENGINE_H */
