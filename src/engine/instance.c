/*
 * instance.c -- the public instance object: instantiation under the runtime,
 * export calls with their signatures checked, the broken state after a trap,
 * and the error messages that name the export and the cause.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

void wudf_instance_config_init(const struct wudf_engine* engine,
                               struct wudf_instance_config* config) {
  memset(config, 0, sizeof(*config));
  config->struct_size = sizeof(*config);
  config->timeout_ms = engine->config.timeout_ms;
  config->memory_limit = engine->config.memory_limit;
  config->output_limit = engine->config.output_limit;
  config->deterministic = engine->config.deterministic;
}

#define WUDF__INSTANCE_FIELD(member) WUDF__FIELD(struct wudf_instance_config, member)
static const struct wudf__field wudf__instance_config_fields[] = {
    WUDF__INSTANCE_FIELD(timeout_ms), WUDF__INSTANCE_FIELD(memory_limit),
    WUDF__INSTANCE_FIELD(output_limit), WUDF__INSTANCE_FIELD(deterministic)};

int wudf__instance_config_read(struct wudf_instance_config* out,
                               const struct wudf_instance_config* config,
                               struct wudf_error* error) {
  return wudf__versioned_read(
      out, config, sizeof(*out), wudf__instance_config_fields,
      sizeof(wudf__instance_config_fields) / sizeof(wudf__instance_config_fields[0]),
      "struct wudf_instance_config", error);
}

/* Fills `error` for a run of `what` (an export or "start") that ended with
 * `trap` and returns the status code. */
static int wudf__trap_error(struct wudf_instance* instance, const char* what,
                            int trap, uint64_t timeout_ms,
                            struct wudf_error* error) {
  if (trap < 0) {
    return wudf__set_error(error, -trap, "%s: cannot run guest code here: %s",
                           what, wudf__rt_refusal(-trap));
  }
  int code;
  switch ((wudf_trap)trap) {
    case WUDF_TRAP_TIMEOUT:
      code = wudf__set_error(error, ETIMEDOUT, "%s: timeout: the call ran "
                             "longer than its limit of %llu ms", what,
                             (unsigned long long)timeout_ms);
      break;
    case WUDF_TRAP_EXIT:
      code = wudf__set_error(error, ECANCELED, "%s: the guest called "
                             "proc_exit(%d)", what, instance->runtime.exit_code);
      if (error != NULL) error->exit_code = instance->runtime.exit_code;
      break;
    case WUDF_TRAP_OUT_OF_MEMORY:
      if (instance->runtime.host_failure) { /* the host's, not the guest's */
        code = wudf__set_error(error, ENOMEM, "%s: out of memory: %s", what,
                               instance->runtime.detail);
      } else {
        code = wudf__set_error(error, EFAULT, "%s: trap: out of memory: %s",
                               what, instance->runtime.detail);
      }
      break;
    case WUDF_TRAP_UNREACHABLE:
      if (instance->runtime.grow_refused) {
        /* A guest that gives up after the host refused it memory (abort()
         * is `unreachable`) ran out of memory. */
        code = wudf__set_error(error, EFAULT, "%s: trap: out of memory: %s (the guest "
                               "then gave up: unreachable)", what,
                               instance->runtime.refusal);
        trap = WUDF_TRAP_OUT_OF_MEMORY;
        break;
      }
      code = wudf__set_error(error, EFAULT, "%s: trap: %s", what,
                             wudf_trap_name((wudf_trap)trap));
      break;
    default:
      code = wudf__set_error(error, EFAULT, "%s: trap: %s", what,
                             wudf_trap_name((wudf_trap)trap));
      break;
  }
  if (error != NULL) error->trap = (wudf_trap)trap;
  return code;
}

struct wudf__call_closure {
  void (*call)(void* instance, const uint64_t* args, uint64_t* results);
  void* state;
  const uint64_t* args;
  uint64_t* results;
};

static void wudf__run_call(void* closure) {
  struct wudf__call_closure* c = closure;
  c->call(c->state, c->args, c->results);
}

struct wudf__instantiate_closure {
  const struct wudf__glue_module* glue;
  void* state;
  void* wasi;
};

static void wudf__run_instantiate(void* closure) {
  struct wudf__instantiate_closure* c = closure;
  c->glue->instantiate(c->state, c->wasi);
}

/* Moves a fast-tier instance's entry points to its module's optimised
 * object once the background build has published it. Called before an
 * export call, on the thread that owns the instance, so no code of this
 * instance runs: between calls. Both objects come from the same wasm2c
 * output, so they agree on the instance struct (checked by its size), on
 * function type ids (registered by signature in the host's table) and on
 * everything else the guest state holds. The entries of the instance's
 * funcref tables that point at the fast object's functions move to their
 * optimised twins (wudf__tier_twin), so indirect calls run optimised code
 * too; entries of WASI forwarders, and funcref globals (which the host
 * cannot see), keep the fast object's addresses: that object stays loaded
 * as long as the module. Cold: called at most until the switch. */
void wudf__instance_switch(struct wudf_instance* instance) {
  const struct wudf__glue_module* optimized =
      atomic_load_explicit(&instance->head.module->optimized_glue, memory_order_acquire);
  if (optimized == NULL || optimized->instance_size != instance->glue->instance_size) {
    return;
  }
  struct wudf__rt_instance* runtime = &instance->runtime;
  for (uint32_t t = 0; t < runtime->table_count; t++) {
    if (!runtime->table_is_funcref[t]) continue;
    wasm_rt_funcref_table_t* table = runtime->tables[t];
    for (uint32_t i = 0; i < table->size; i++) {
      wasm_rt_funcref_t* entry = &table->data[i];
      if (entry->func == NULL || entry->module_instance != instance->state) continue;
      wasm_rt_function_ptr_t twin = wudf__tier_twin(instance->head.module, entry->func);
      if (twin != NULL) entry->func = twin;
    }
  }
  instance->glue = optimized;
  instance->glue_exports = instance->head.module->optimized_exports;
  instance->tier = WUDF_TIER_OPTIMIZED;
}

int wudf_instance_new(struct wudf_module* module,
                      const struct wudf_instance_config* config,
                      struct wudf_instance** out, struct wudf_error* error) {
  if (module == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "module and out must not be NULL");
  }
  if (module->glue == NULL) {
    return wudf__set_error(error, EINVAL, "the module was inspected "
                           "(wudf_module_inspect), not compiled: load it with "
                           "wudf_module_load to run it");
  }
  /* The layer above's state lives in the same allocation, after the
   * instance (layer.h): no second allocation, one pointer load to reach. */
  const struct wudf__layer* layer = wudf__upper_layer;
  size_t state_at = (sizeof(struct wudf_instance) + _Alignof(max_align_t) - 1) &
                    ~(_Alignof(max_align_t) - 1);
  size_t size = layer != NULL && layer->instance_state_size > 0
                    ? state_at + layer->instance_state_size
                    : sizeof(struct wudf_instance);
  struct wudf_instance* instance = wudf__calloc(1, size);
  if (instance == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  if (size > sizeof(struct wudf_instance)) instance->head.layer_state = (char*)instance + state_at;
  instance->head.memory = &instance->runtime.memory;
  wudf_instance_config_init(module->engine, &instance->config);
  if (config != NULL) {
    int status = wudf__instance_config_read(&instance->config, config, error);
    if (status != 0) {
      wudf__free(instance);
      return status;
    }
  }
  if (layer != NULL) {
    int status = layer->instance_attach(instance, error);
    if (status != 0) {
      wudf__free(instance);
      return status;
    }
  }
  /* New instances run the optimised object once the background build has
   * published it (tier.c); until then the module's own. */
  const struct wudf__glue_module* optimized =
      atomic_load_explicit(&module->optimized_glue, memory_order_acquire);
  if (optimized != NULL) {
    instance->glue = optimized;
    instance->glue_exports = module->optimized_exports;
    instance->tier = WUDF_TIER_OPTIMIZED;
  } else {
    instance->glue = module->glue;
    instance->glue_exports = module->glue_exports;
    instance->tier = module->tier == WUDF__TIER_FAST ? WUDF_TIER_FAST : WUDF_TIER_OPTIMIZED;
  }
  instance->state = wudf__calloc(1, instance->glue->instance_size);
  if (instance->state == NULL) {
    if (layer != NULL) layer->instance_detach(instance);
    wudf__free(instance);
    return wudf__set_error(error, ENOMEM, "out of memory");
  }
  uint64_t limit_pages = instance->config.memory_limit / WUDF__PAGE_SIZE;
  if (instance->config.memory_limit == 0 || limit_pages > WUDF__MAX_PAGES) {
    limit_pages = WUDF__MAX_PAGES;
  }
  instance->runtime.memory_limit_pages = (uint32_t)limit_pages;
  instance->runtime.byte_limit = instance->config.memory_limit;
  instance->runtime.budget = &module->engine->budget;
  instance->runtime.table_limit = module->engine->limits.max_table_size;
  wudf__wasi_init(&instance->wasi, instance->config.output_limit,
                  instance->config.deterministic);
  instance->runtime.wasi_context = &instance->wasi;
  instance->head.module = module;
  atomic_fetch_add(&module->references, 1);

  struct wudf__instantiate_closure closure = {instance->glue, instance->state,
                                              &instance->wasi};
  int trap = wudf__rt_run(&instance->runtime, wudf__run_instantiate, &closure,
                          instance->config.timeout_ms);
  if (trap != 0) {
    int status = wudf__trap_error(instance, "instantiation", trap,
                                  instance->config.timeout_ms, error);
    wudf_instance_free(instance);
    return status;
  }
  /* A WASI reactor exports _initialize, which runs its constructors and must
   * run before any other export. */
  uint32_t initialize;
  if (wudf_module_find_export(module, "_initialize", &initialize, NULL) == 0 &&
      module->exports[initialize].param_count == 0 &&
      module->exports[initialize].result_count == 0) {
    struct wudf__call_closure call = {instance->glue_exports[initialize]->call,
                                      instance->state, NULL, NULL};
    trap = wudf__rt_run(&instance->runtime, wudf__run_call, &call,
                        instance->config.timeout_ms);
    if (trap != 0) {
      int status = wudf__trap_error(instance, "instantiation (_initialize)",
                                    trap, instance->config.timeout_ms, error);
      wudf_instance_free(instance);
      return status;
    }
  }
  instance->instantiated = 1;
  *out = instance;
  return 0;
}

/* Frees everything the instance owns. */
static void wudf__instance_destroy(struct wudf_instance* instance) {
  /* The runtime owns memory and tables; wasm2c's free function would only
   * hand them back to it, so it is not called. */
  wudf__rt_instance_release(&instance->runtime);
  wudf__wasi_release(&instance->wasi);
  if (instance->state_copy != NULL) wudf__rt_snapshot_free(&instance->snapshot);
  wudf__free(instance->state_copy);
  wudf__free(instance->state);
  if (wudf__upper_layer != NULL) wudf__upper_layer->instance_detach(instance);
  wudf__module_release(instance->head.module);
  wudf__free(instance);
}

/* A token of the calling thread for the in-call flag: the address of a
 * thread-local byte, unique among live threads and never 0. */
static __thread char wudf__thread_token;

int wudf__instance_enter(struct wudf_instance* instance) {
  uintptr_t self = (uintptr_t)&wudf__thread_token;
  uintptr_t expected = 0;
  if (atomic_compare_exchange_strong_explicit(&instance->busy_owner, &expected, self,
                                              memory_order_acquire, memory_order_relaxed)) {
    instance->busy_depth = 1;
    return 0;
  }
  if (expected == self) {
    instance->busy_depth++;
    return 0;
  }
  return EBUSY;
}

void wudf__instance_leave(struct wudf_instance* instance) {
  if (--instance->busy_depth == 0) {
    atomic_store_explicit(&instance->busy_owner, 0, memory_order_release);
  }
}

int wudf__instance_busy_error(struct wudf_error* error, const char* what) {
  return wudf__set_error(error, EBUSY, "%s: the instance is in use by another thread (an "
                         "instance runs one call at a time: give each thread its own "
                         "instance)", what);
}

/* The number of holders in a `life` word. */
static unsigned wudf__holders(unsigned life) { return life / WUDF__HOLDER; }

void wudf_instance_free(struct wudf_instance* instance) {
  if (instance == NULL) return;
  unsigned previous = atomic_fetch_or(&instance->head.life, WUDF__FREE_REQUESTED);
  /* A live view, stream or accumulator destroys it when it goes. */
  if ((previous & WUDF__PINNED) || wudf__holders(previous) > 0) return;
  wudf__instance_destroy(instance);
}

int wudf__instance_pin(struct wudf_instance* instance) {
  unsigned previous = atomic_fetch_or(&instance->head.life, WUDF__PINNED);
  return (previous & WUDF__PINNED) ? EBUSY : 0;
}

void wudf__instance_unpin(struct wudf_instance* instance) {
  unsigned previous = atomic_fetch_and(&instance->head.life, ~WUDF__PINNED);
  if ((previous & WUDF__FREE_REQUESTED) && wudf__holders(previous) == 0) {
    wudf__instance_destroy(instance);
  }
}

void wudf__instance_hold(struct wudf_instance* instance) {
  atomic_fetch_add(&instance->head.life, WUDF__HOLDER);
}

void wudf__instance_unhold(struct wudf_instance* instance) {
  unsigned previous = atomic_fetch_sub(&instance->head.life, WUDF__HOLDER);
  if ((previous & WUDF__FREE_REQUESTED) && !(previous & WUDF__PINNED) &&
      wudf__holders(previous) == 1) {
    wudf__instance_destroy(instance);
  }
}

/* Formats a list of value types as "(i32, f64)". */
static void wudf__format_types(char* out, size_t capacity,
                               const wudf_valtype* types, size_t count) {
  size_t used = (size_t)snprintf(out, capacity, "(");
  for (size_t i = 0; i < count && used < capacity; i++) {
    used += (size_t)snprintf(out + used, capacity - used, "%s%s",
                             i ? ", " : "", wudf_valtype_name(types[i]));
  }
  if (used < capacity) snprintf(out + used, capacity - used, ")");
}

static int wudf__check_arguments(const struct wudf_export_info* export,
                                 const struct wudf_value* args,
                                 size_t arg_count, size_t result_count,
                                 struct wudf_error* error) {
  int matches = arg_count == export->param_count;
  for (size_t i = 0; matches && i < arg_count; i++) {
    if (args[i].type != export->params[i]) matches = 0;
  }
  if (!matches) {
    char expected[256], given[256];
    wudf_valtype given_types[64];
    size_t shown = arg_count < 64 ? arg_count : 64;
    for (size_t i = 0; i < shown; i++) given_types[i] = args[i].type;
    wudf__format_types(expected, sizeof(expected), export->params,
                       export->param_count);
    wudf__format_types(given, sizeof(given), given_types, shown);
    return wudf__set_error(error, EINVAL,
                           "export '%s' takes %s but was called with %s",
                           export->name, expected, given);
  }
  if (result_count < export->result_count) {
    return wudf__set_error(error, EINVAL,
                           "export '%s' returns %u values but room was given "
                           "for %zu", export->name, export->result_count,
                           result_count);
  }
  return 0;
}

static int wudf__instance_call_entered(struct wudf_instance* instance, uint32_t index,
                                       const struct wudf_value* args, size_t arg_count,
                                       struct wudf_value* results, size_t result_count,
                                       uint64_t timeout_ms, struct wudf_error* error);

int wudf_instance_call(struct wudf_instance* instance, uint32_t index,
                       const struct wudf_value* args, size_t arg_count,
                       struct wudf_value* results, size_t result_count,
                       uint64_t timeout_ms, struct wudf_error* error) {
  if (instance == NULL || (args == NULL && arg_count != 0) ||
      (results == NULL && result_count != 0)) {
    return wudf__set_error(error, EINVAL, "invalid arguments");
  }
  const struct wudf_module* module = instance->head.module;
  if (index >= module->export_count) {
    return wudf__set_error(error, EINVAL, "export index %u out of range (%u exports)",
                           index, module->export_count);
  }
  if (wudf__instance_enter(instance) != 0) {
    char what[300];
    snprintf(what, sizeof(what), "export '%s'", module->exports[index].name);
    return wudf__instance_busy_error(error, what);
  }
  int status = wudf__instance_call_entered(instance, index, args, arg_count, results,
                                           result_count, timeout_ms, error);
  wudf__instance_leave(instance);
  return status;
}

/* wudf_instance_call on an instance the calling thread has entered. */
static int wudf__instance_call_entered(struct wudf_instance* instance, uint32_t index,
                                       const struct wudf_value* args, size_t arg_count,
                                       struct wudf_value* results, size_t result_count,
                                       uint64_t timeout_ms, struct wudf_error* error) {
  const struct wudf_module* module = instance->head.module;
  const struct wudf_export_info* export = &module->exports[index];
  if (atomic_load(&instance->head.life) & WUDF__PINNED) {
    return wudf__set_error(error, EBUSY,
                           "export '%s': a zero-copy result view of this instance's "
                           "memory is still alive; release it first", export->name);
  }
  if (instance->head.broken) {
    return wudf__set_error(error, ENOTRECOVERABLE,
                           "export '%s': the instance is broken by an earlier "
                           "trap; create a new instance", export->name);
  }
  int status = wudf__check_arguments(export, args, arg_count, result_count, error);
  if (status != 0) return status;

  uint64_t slots_stack[16];
  uint64_t* slots = slots_stack;
  size_t slot_count = (size_t)export->param_count + export->result_count;
  if (slot_count > 16) {
    slots = wudf__calloc(slot_count, sizeof(uint64_t));
    if (slots == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < arg_count; i++) {
    switch (args[i].type) {
      case WUDF_I32: slots[i] = (uint32_t)args[i].of.i32; break;
      case WUDF_I64: slots[i] = (uint64_t)args[i].of.i64; break;
      case WUDF_F32: {
        uint32_t bits;
        memcpy(&bits, &args[i].of.f32, sizeof(bits));
        slots[i] = bits;
        break;
      }
      case WUDF_F64: memcpy(&slots[i], &args[i].of.f64, sizeof(double)); break;
    }
  }
  uint64_t* result_slots = slots + export->param_count;
  wudf__instance_upgrade(instance);
  struct wudf__call_closure closure = {instance->glue_exports[index]->call,
                                       instance->state, slots, result_slots};
  if (timeout_ms == WUDF_TIMEOUT_DEFAULT) timeout_ms = instance->config.timeout_ms;
  instance->guest_runs++;
  int trap = wudf__rt_run(&instance->runtime, wudf__run_call, &closure, timeout_ms);
  if (trap != 0) {
    if (trap > 0) instance->head.broken = 1;
    char what[300];
    snprintf(what, sizeof(what), "export '%s'", export->name);
    status = wudf__trap_error(instance, what, trap, timeout_ms, error);
  } else {
    for (uint32_t i = 0; i < export->result_count; i++) {
      results[i].type = export->results[i];
      switch (export->results[i]) {
        case WUDF_I32: results[i].of.i32 = (int32_t)(uint32_t)result_slots[i]; break;
        case WUDF_I64: results[i].of.i64 = (int64_t)result_slots[i]; break;
        case WUDF_F32: {
          uint32_t bits = (uint32_t)result_slots[i];
          memcpy(&results[i].of.f32, &bits, sizeof(bits));
          break;
        }
        case WUDF_F64: memcpy(&results[i].of.f64, &result_slots[i], sizeof(double)); break;
      }
    }
  }
  if (slots != slots_stack) wudf__free(slots);
  return status;
}

int wudf_instance_call_name(struct wudf_instance* instance, const char* name,
                            const struct wudf_value* args, size_t arg_count,
                            struct wudf_value* results, size_t result_count,
                            uint64_t timeout_ms, struct wudf_error* error) {
  if (instance == NULL || name == NULL) {
    return wudf__set_error(error, EINVAL, "instance and name must not be NULL");
  }
  uint32_t index;
  int status = wudf_module_find_export(instance->head.module, name, &index, error);
  if (status != 0) return status;
  return wudf_instance_call(instance, index, args, arg_count, results,
                            result_count, timeout_ms, error);
}

int wudf_instance_is_broken(const struct wudf_instance* instance) {
  return instance->head.broken;
}

const char* wudf_instance_output(const struct wudf_instance* instance,
                                 size_t* size, size_t* dropped) {
  if (size != NULL) *size = instance->wasi.output_size;
  if (dropped != NULL) *dropped = instance->wasi.output_dropped;
  return instance->wasi.output ? instance->wasi.output : "";
}

void wudf_instance_output_clear(struct wudf_instance* instance) {
  instance->wasi.output_size = 0;
  instance->wasi.output_dropped = 0;
}

uint64_t wudf_instance_memory_size(const struct wudf_instance* instance) {
  return instance->runtime.memory ? instance->runtime.memory->size : 0;
}

int wudf_instance_tier(const struct wudf_instance* instance) { return instance->tier; }

int wudf__instance_call_i32(struct wudf_instance* instance, uint32_t index,
                            const uint32_t* args, size_t arg_count, uint32_t* result,
                            uint64_t timeout_ms, struct wudf_error* error) {
  const struct wudf_export_info* export = &instance->head.module->exports[index];
  if (atomic_load(&instance->head.life) & WUDF__PINNED) {
    return wudf__set_error(error, EBUSY,
                           "export '%s': a zero-copy result view of this instance's "
                           "memory is still alive; release it first", export->name);
  }
  if (instance->head.broken) {
    return wudf__set_error(error, ENOTRECOVERABLE,
                           "export '%s': the instance is broken by an earlier "
                           "trap; create a new instance", export->name);
  }
  uint64_t slots[8];
  for (size_t i = 0; i < arg_count; i++) slots[i] = args[i];
  wudf__instance_upgrade(instance);
  struct wudf__call_closure closure = {instance->glue_exports[index]->call, instance->state,
                                       slots, slots + arg_count};
  if (timeout_ms == WUDF_TIMEOUT_DEFAULT) timeout_ms = instance->config.timeout_ms;
  instance->guest_runs++;
  int trap = wudf__rt_run(&instance->runtime, wudf__run_call, &closure, timeout_ms);
  if (trap != 0) {
    if (trap > 0) instance->head.broken = 1;
    char what[300];
    snprintf(what, sizeof(what), "export '%s'", export->name);
    return wudf__trap_error(instance, what, trap, timeout_ms, error);
  }
  if (result != NULL && export->result_count > 0) *result = (uint32_t)slots[arg_count];
  return 0;
}

/* ------------------------------------------------------------ snapshots */

int wudf_instance_snapshot(struct wudf_instance* instance, struct wudf_error* error) {
  if (instance == NULL) return wudf__set_error(error, EINVAL, "instance must not be NULL");
  if (wudf__instance_enter(instance) != 0) {
    return wudf__instance_busy_error(error, "wudf_instance_snapshot");
  }
  int status = 0;
  if (instance->head.broken) {
    status = wudf__set_error(error, ENOTRECOVERABLE, "wudf_instance_snapshot: the instance "
                             "is broken by an earlier trap");
  }
  void* copy = NULL;
  struct wudf__rt_snapshot snapshot;
  if (status == 0) {
    copy = wudf__malloc(instance->glue->instance_size);
    if (copy == NULL) status = wudf__set_error(error, ENOMEM, "out of memory");
  }
  if (status == 0) {
    int taken = wudf__rt_snapshot_take(&instance->runtime, &snapshot);
    if (taken != 0) {
      status = wudf__set_error(error, taken, "wudf_instance_snapshot: cannot keep the "
                               "instance's memory: %s", strerror(taken));
    }
  }
  if (status != 0) {
    wudf__free(copy);
    wudf__instance_leave(instance);
    return status;
  }
  memcpy(copy, instance->state, instance->glue->instance_size);
  if (instance->state_copy != NULL) wudf__rt_snapshot_free(&instance->snapshot);
  wudf__free(instance->state_copy);
  instance->snapshot = snapshot;
  instance->state_copy = copy;
  if (wudf__upper_layer != NULL) wudf__upper_layer->instance_snapshot(instance);
  wudf__instance_leave(instance);
  return 0;
}

int wudf_instance_reset(struct wudf_instance* instance, struct wudf_error* error) {
  if (instance == NULL) return wudf__set_error(error, EINVAL, "instance must not be NULL");
  if (instance->state_copy == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_instance_reset: the instance has no "
                           "snapshot (wudf_instance_snapshot)");
  }
  if (wudf__instance_enter(instance) != 0) {
    return wudf__instance_busy_error(error, "wudf_instance_reset");
  }
  unsigned life = atomic_load(&instance->head.life);
  if ((life & WUDF__PINNED) || life / WUDF__HOLDER > 0) {
    wudf__instance_leave(instance);
    return wudf__set_error(error, EBUSY, "wudf_instance_reset: a zero-copy view, table "
                           "stream or accumulator of the instance is still alive");
  }
  int status = wudf__rt_snapshot_restore(&instance->runtime, &instance->snapshot,
                                         instance->state, instance->state_copy,
                                         instance->glue->instance_size);
  if (status != 0) {
    instance->head.broken = 1;
    wudf__instance_leave(instance);
    return wudf__set_error(error, status, "wudf_instance_reset: cannot map the snapshot "
                           "back: %s; free the instance", strerror(status));
  }
  instance->head.broken = 0;
  if (wudf__upper_layer != NULL) wudf__upper_layer->instance_reset(instance);
  size_t output_limit = instance->wasi.output_limit;
  int deterministic = instance->wasi.deterministic;
  wudf__wasi_release(&instance->wasi);
  wudf__wasi_init(&instance->wasi, output_limit, deterministic);
  wudf__instance_leave(instance);
  return 0;
}
