/*
 * layer.h -- the engine's interface to the layer above it (internal): the
 * hooks the engine calls on a layer's behalf, the opaque state a layer keeps
 * per module and per instance, and the engine's services a layer uses.
 *
 * The engine (src/engine) knows nothing of what sits above it: it calls the
 * hooks of `wudf__upper_layer` at the few points of a module's and an
 * instance's life where a layer must act -- load and destroy, create and
 * destroy, snapshot and reset -- and keeps the layer's state behind
 * `void*` slots it never looks into. Which layer that is, if any, is chosen
 * at link time by the composition root: src/library.c names the UDF layer
 * (src/udf) for the full library, src/engine/no_layer.c names none for the
 * engine-only library (-DWUDF_ENGINE_ONLY=ON). Nothing is registered at run
 * time; there are no weak symbols and no constructors. See
 * docs/architecture.md for the layers and their one direction of
 * dependency.
 *
 * A layer reaches its per-instance state with wudf__instance_layer_state
 * (one pointer load: the per-call paths of the UDF layer use it) and its
 * per-module state with wudf__module_layer_state. What the per-call paths
 * read of an instance (its module, lifetime word, broken flag and memory)
 * is in the instance's head, read by inline accessors; everything else a
 * layer uses of the engine is a plain function declared here.
 */
#ifndef WUDF_ENGINE_LAYER_H
#define WUDF_ENGINE_LAYER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "glue_abi.h" /* wasm_rt_memory_t */

/* The hooks of the layer above the engine. Every hook is called on a cold
 * path (load, create, free, snapshot, reset), never per export call. */
struct wudf__layer {
  const char* name; /* for messages and docs, e.g. "udf" */
  /* The bytes of per-instance state the engine reserves, zeroed, in each
   * instance's own allocation (wudf__instance_layer_state); 0 for none. */
  size_t instance_state_size;
  /* Reads what the layer needs of a module just read, checked and
   * described (its exports known; compiled unless inspected): `bytes` are
   * the module's. 0, or an error code with `error` set, which fails the
   * load (module_detach is then still called). May set the module's layer
   * state (wudf__module_set_layer_state). */
  int (*module_attach)(struct wudf_module* module, const uint8_t* bytes, size_t size,
                       struct wudf_error* error);
  /* Frees the module's layer state, if any; called once as the module is
   * destroyed, also after a failed module_attach. */
  void (*module_detach)(struct wudf_module* module);
  /* Sets up the layer state of an instance just allocated, before it is
   * instantiated: 0, or an error code with `error` set (the instance is
   * then freed without instance_detach). */
  int (*instance_attach)(struct wudf_instance* instance, struct wudf_error* error);
  /* Frees what the instance's layer state owns, as the instance is
   * destroyed (from any thread, no guest code may run). */
  void (*instance_detach)(struct wudf_instance* instance);
  /* Records the layer state that wudf_instance_snapshot keeps, on the
   * thread that has entered the instance, after the engine's own snapshot
   * succeeded. */
  void (*instance_snapshot)(struct wudf_instance* instance);
  /* Restores the layer state of the snapshot after wudf_instance_reset put
   * memory and tables back, on the thread that has entered the instance;
   * no view pins it and nothing holds it then. */
  void (*instance_reset)(struct wudf_instance* instance);
};

/* The layer above the engine in this library, or NULL: defined by the
 * composition root linked in (src/library.c or src/engine/no_layer.c). */
extern const struct wudf__layer* const wudf__upper_layer;

/* The bits of an instance's lifetime word (`life` below). */
#define WUDF__PINNED 1u         /* a zero-copy view of guest memory is alive */
#define WUDF__FREE_REQUESTED 2u /* wudf_instance_free was called */
#define WUDF__HOLDER 4u         /* the unit of the holders' count */

/* The head of struct wudf_instance (its first member): what a layer reads
 * of an instance on its per-call paths without a function call. The engine
 * writes it; a layer reads it only through the accessors below. */
struct wudf__instance_head {
  /* The layer above's state of this instance: the layer's
   * instance_state_size bytes, zeroed, in the instance's own allocation
   * after struct wudf_instance; NULL when no layer is linked. */
  void* layer_state;
  struct wudf_module* module; /* the module it was created from */
  /* Lifetime. `life` holds WUDF__PINNED while a zero-copy result view of
   * guest memory is alive (then no export may run: EBUSY),
   * WUDF__FREE_REQUESTED once wudf_instance_free was called, and in its
   * upper bits (units of WUDF__HOLDER) the number of holders: objects of a
   * layer above that outlive calls (a table stream, an accumulator) and
   * keep the instance. The instance is destroyed when it is freed, not
   * pinned and not held, by whichever of wudf_instance_free, the view's
   * last release and the last holder's release comes last. */
  atomic_uint life;
  int broken; /* a trap broke it: no export runs until a reset */
  /* Where the runtime keeps the instance's memory 0 (NULL: none). */
  wasm_rt_memory_t* const* memory;
};

/* The head of struct wudf_module (its first member). */
struct wudf__module_head {
  /* The layer above's state of this module (set by its module_attach,
   * freed by its module_detach), or NULL. */
  void* layer_state;
};

/* The head of `instance`. */
static inline const struct wudf__instance_head* wudf__instance_head(
    const struct wudf_instance* instance) {
  return (const struct wudf__instance_head*)(const void*)instance;
}

/* The layer state of an instance (instance_state_size bytes), or NULL when
 * no layer is linked. */
static inline void* wudf__instance_layer_state(const struct wudf_instance* instance) {
  return wudf__instance_head(instance)->layer_state;
}

/* The module the instance was created from. */
static inline struct wudf_module* wudf__instance_module(const struct wudf_instance* instance) {
  return wudf__instance_head(instance)->module;
}

/* Nonzero when a trap broke the instance (wudf_instance_is_broken). */
static inline int wudf__instance_broken(const struct wudf_instance* instance) {
  return wudf__instance_head(instance)->broken;
}

/* Nonzero while a zero-copy view pins the instance (then no export may
 * run: EBUSY). */
static inline int wudf__instance_pinned(const struct wudf_instance* instance) {
  return (atomic_load(&wudf__instance_head(instance)->life) & WUDF__PINNED) != 0;
}

/* Nonzero when neither a view pins the instance nor a holder holds it. */
static inline int wudf__instance_idle(const struct wudf_instance* instance) {
  unsigned life = atomic_load(&wudf__instance_head(instance)->life);
  return !(life & WUDF__PINNED) && life / WUDF__HOLDER == 0;
}

/* The instance's linear memory: its first byte (NULL when it has none) and
 * its size in `*size`. Valid until guest code runs again (memory.grow may
 * move it). */
static inline uint8_t* wudf__instance_memory(const struct wudf_instance* instance,
                                             uint64_t* size) {
  const wasm_rt_memory_t* memory = *wudf__instance_head(instance)->memory;
  *size = memory != NULL ? memory->size : 0;
  return memory != NULL ? memory->data : NULL;
}

/* The layer state of a module, or NULL when none was set. */
static inline void* wudf__module_layer_state(const struct wudf_module* module) {
  return ((const struct wudf__module_head*)(const void*)module)->layer_state;
}

/* Sets the module's layer state (module_attach; NULL in module_detach). */
static inline void wudf__module_set_layer_state(struct wudf_module* module, void* state) {
  ((struct wudf__module_head*)(void*)module)->layer_state = state;
}

/* ------------------------------------------------- the engine's services */

/* Enters a call on the instance from the calling thread: 0, or EBUSY when
 * another thread is in a call on it (nothing is changed then). Entries of
 * the thread already in the call nest. Every successful entry is matched
 * by one wudf__instance_leave on the same thread. The caller writes the
 * error message, naming its export or function. */
int wudf__instance_enter(struct wudf_instance* instance);
void wudf__instance_leave(struct wudf_instance* instance);

/* Reads a caller's versioned instance configuration over `out` (which
 * holds the engine's defaults). 0 or EINVAL (instance.c). */
int wudf__instance_config_read(struct wudf_instance_config* out,
                               const struct wudf_instance_config* config,
                               struct wudf_error* error);

/* The message of a refused entry, for `what` (e.g. "export 'f'"). */
int wudf__instance_busy_error(struct wudf_error* error, const char* what);

/* An export call of a layer above (the guest ABI of udf/call.c) on an
 * instance the calling thread has entered: export `index` takes
 * `arg_count` (at most 7) i32 arguments and returns at most one i32, as
 * checked when the layer attached the module, so the public call's checks
 * of the index and the argument types are skipped; the pin and broken
 * checks, the deadline and the trap messages are wudf_instance_call's. */
int wudf__instance_call_i32(struct wudf_instance* instance, uint32_t index,
                            const uint32_t* args, size_t arg_count, uint32_t* result,
                            uint64_t timeout_ms, struct wudf_error* error);

/* Pins the instance for a view: 0, or EBUSY if it is already pinned. */
int wudf__instance_pin(struct wudf_instance* instance);

/* Drops the pin of a view (from any thread); destroys the instance if
 * wudf_instance_free was called while it was pinned and nothing holds it. */
void wudf__instance_unpin(struct wudf_instance* instance);

/* Takes and drops a holder's reference (an object of a layer that
 * outlives calls: a table stream, an accumulator). Dropping the last one
 * of a freed instance destroys it (from any thread, no guest code). */
void wudf__instance_hold(struct wudf_instance* instance);
void wudf__instance_unhold(struct wudf_instance* instance);

/*
 * A batch of runs on the calling thread: the signal checks and mask changes
 * wudf__rt_run makes for every run outside a batch (a sigaction query of
 * SIGSEGV in modes CHECK and REINSTALL, a pthread_sigmask to unblock the
 * runtime's signals and, when the caller blocked them, another to restore
 * the mask) are made once by wudf__rt_batch_enter and undone by
 * wudf__rt_batch_leave, and runs inside skip them. A function call over
 * Arrow data brackets its several export calls this way (the UDF layer).
 * Returns 1 when the batch is entered (then call wudf__rt_batch_leave once,
 * on this thread), 0 when it is not (from guest code, on a thread that has
 * not run guest code yet, or when a check refuses: the runs then make their
 * own checks and report the refusal). Batches nest. Between the runs of a
 * batch the thread's host code runs with the runtime's signals unblocked.
 */
int wudf__rt_batch_enter(void);
void wudf__rt_batch_leave(void);

/* Takes and drops one reference to `module`, destroying it with the
 * last. */
void wudf__module_retain(struct wudf_module* module);
void wudf__module_release(struct wudf_module* module);

/* The engine the module was loaded by. */
struct wudf_engine* wudf__module_engine(const struct wudf_module* module);

/* Callable export `index` (below wudf_module_export_count) of `module`:
 * its name and wasm types, owned by the module. */
const struct wudf_export_info* wudf__module_export_info(const struct wudf_module* module,
                                                        uint32_t index);

/* Nonzero when the module defines a linear memory. */
int wudf__module_has_memory(const struct wudf_module* module);

/* The custom section `name` of the module: 1 with its payload's offset in
 * the module's bytes and its size, or 0 when it has none. */
int wudf__module_custom_section(const struct wudf_module* module, const char* name,
                                size_t* offset, size_t* size);

#endif /* WUDF_ENGINE_LAYER_H */
