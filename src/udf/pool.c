/*
 * pool.c -- instance pools (wudf_pool_*): many threads calling the functions
 * of one module, each on an instance of its own at a time. Idle instances
 * wait on a stack (the one released last is taken first, so a thread that
 * calls again soon tends to get the instance, and the caches, it had);
 * instances are created on demand up to max_instances, each snapshotted
 * right after instantiation, so that one released broken (or any, with
 * reset_after_use) is reset to its initial state (wudf_instance_reset: one
 * mmap, docs/engine.md) instead of instantiated again. One mutex guards the
 * stack and the counts; guest code never runs under it.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "call.h"

struct wudf_pool {
  struct wudf_module* module;
  struct wudf_pool_config config; /* config.instance points at `instance` */
  struct wudf_instance_config instance;
  pthread_mutex_t lock;
  pthread_cond_t released; /* an instance came back (or a place freed) */
  struct wudf_instance** idle;
  uint32_t idle_count;
  uint32_t idle_capacity;
  uint32_t live;           /* instances of the pool: idle + acquired */
  struct wudf_pool_stats stats;
};

void wudf_pool_config_init(const struct wudf_engine* engine, struct wudf_pool_config* config) {
  (void)engine;
  memset(config, 0, sizeof(*config));
  config->struct_size = sizeof(*config);
}

#define WUDF__POOL_FIELD(member) WUDF__FIELD(struct wudf_pool_config, member)
static const struct wudf__field wudf__pool_config_fields[] = {
    WUDF__POOL_FIELD(max_instances), WUDF__POOL_FIELD(reset_after_use),
    WUDF__POOL_FIELD(instance)};

int wudf_pool_new(struct wudf_module* module, const struct wudf_pool_config* config,
                  struct wudf_pool** out, struct wudf_error* error) {
  if (module == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "module and out must not be NULL");
  }
  struct wudf_pool_config settings;
  wudf_pool_config_init(wudf__module_engine(module), &settings);
  struct wudf_instance_config instance;
  wudf_instance_config_init(wudf__module_engine(module), &instance);
  if (config != NULL) {
    int status = wudf__versioned_read(
        &settings, config, sizeof(settings), wudf__pool_config_fields,
        sizeof(wudf__pool_config_fields) / sizeof(wudf__pool_config_fields[0]),
        "wudf_pool_new: struct wudf_pool_config", error);
    if (status == 0 && settings.instance != NULL) {
      status = wudf__instance_config_read(&instance, settings.instance, error);
    }
    if (status != 0) return status;
  }
  struct wudf_pool* pool = wudf__calloc(1, sizeof(*pool));
  if (pool == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  pool->config = settings;
  pool->instance = instance;
  pool->config.instance = &pool->instance;
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->released, NULL);
  pool->module = module;
  wudf__module_retain(module);
  *out = pool;
  return 0;
}

/* Instantiates and snapshots a new instance of the pool (outside the
 * lock). */
static int wudf__pool_create(struct wudf_pool* pool, struct wudf_instance** out,
                             struct wudf_error* error) {
  struct wudf_instance* instance = NULL;
  int status = wudf_instance_new(pool->module, &pool->instance, &instance, error);
  if (status == 0) status = wudf_instance_snapshot(instance, error);
  if (status != 0) {
    wudf_instance_free(instance);
    return wudf__error_prefix(error, status, "wudf_pool_acquire: a new instance");
  }
  *out = instance;
  return 0;
}

int wudf_pool_acquire(struct wudf_pool* pool, struct wudf_instance** out,
                      struct wudf_error* error) {
  if (pool == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "pool and out must not be NULL");
  }
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    if (pool->idle_count > 0) {
      *out = pool->idle[--pool->idle_count];
      pool->stats.idle = pool->idle_count;
      pool->stats.in_use++;
      pthread_mutex_unlock(&pool->lock);
      return 0;
    }
    if (pool->config.max_instances == 0 || pool->live < pool->config.max_instances) break;
    pthread_cond_wait(&pool->released, &pool->lock);
  }
  /* A place for a new instance: taken now, instantiated outside the lock. */
  pool->live++;
  pool->stats.in_use++;
  pthread_mutex_unlock(&pool->lock);
  int status = wudf__pool_create(pool, out, error);
  pthread_mutex_lock(&pool->lock);
  if (status == 0) {
    pool->stats.created++;
  } else {
    pool->live--;
    pool->stats.in_use--;
    pthread_cond_signal(&pool->released);
  }
  pthread_mutex_unlock(&pool->lock);
  return status;
}

void wudf_pool_release(struct wudf_pool* pool, struct wudf_instance* instance) {
  if (pool == NULL || instance == NULL) return;
  int keep = 1, reset = 0;
  if (wudf__instance_broken(instance) || pool->config.reset_after_use) {
    keep = wudf_instance_reset(instance, NULL) == 0;
    reset = keep;
  } else {
    keep = wudf__instance_idle(instance);
  }
  pthread_mutex_lock(&pool->lock);
  pool->stats.in_use--;
  if (reset) pool->stats.resets++;
  if (keep && pool->idle_count == pool->idle_capacity) {
    uint32_t capacity = pool->idle_capacity ? 2 * pool->idle_capacity : 8;
    struct wudf_instance** grown = wudf__realloc(pool->idle, capacity * sizeof(*grown));
    if (grown == NULL) {
      keep = 0;
    } else {
      pool->idle = grown;
      pool->idle_capacity = capacity;
    }
  }
  if (keep) {
    pool->idle[pool->idle_count++] = instance;
  } else {
    pool->live--;
    pool->stats.dropped++;
  }
  pool->stats.idle = pool->idle_count;
  pthread_cond_signal(&pool->released);
  pthread_mutex_unlock(&pool->lock);
  /* A held instance is freed by its last holder. */
  if (!keep) wudf_instance_free(instance);
}

/* The checks of a call through the pool (`caller` names it in messages) and
 * the instance it runs on, acquired: 0, or the error with nothing acquired.
 * A pooled call's result is always a copy: a view would pin the instance. */
static int wudf__pool_checkout(struct wudf_pool* pool, const struct wudf_call_options* options,
                               const char* caller, struct wudf_instance** instance,
                               struct wudf_error* error) {
  if (pool == NULL) return wudf__set_error(error, EINVAL, "%s: pool must not be NULL", caller);
  struct wudf_call_options settings;
  int status = wudf__call_options_read(&settings, options, error);
  if (status != 0) return status;
  if (settings.result != WUDF_RESULT_COPY) {
    return wudf__set_error(error, ENOTSUP, "%s: a zero-copy view would pin a pooled "
                           "instance; acquire one with wudf_pool_acquire instead", caller);
  }
  *instance = NULL;
  return wudf_pool_acquire(pool, instance, error);
}

int wudf_pool_call(struct wudf_pool* pool, uint32_t function, uint32_t arg_count,
                   const struct ArrowArray* const* args,
                   const struct ArrowSchema* const* arg_schemas,
                   const struct wudf_call_options* options, struct ArrowArray* out,
                   struct ArrowSchema* out_schema, struct wudf_error* error) {
  struct wudf_instance* instance;
  int status = wudf__pool_checkout(pool, options, "wudf_pool_call", &instance, error);
  if (status != 0) return status;
  status = wudf_function_call(instance, function, arg_count, args, arg_schemas, options, out,
                              out_schema, error);
  wudf_pool_release(pool, instance);
  return status;
}

int wudf_pool_call_args(struct wudf_pool* pool, uint32_t function, uint32_t arg_count,
                        const struct wudf_argument* args, int64_t rows,
                        const struct wudf_call_options* options, struct ArrowArray* out,
                        struct ArrowSchema* out_schema, struct wudf_error* error) {
  struct wudf_instance* instance;
  int status = wudf__pool_checkout(pool, options, "wudf_pool_call_args", &instance, error);
  if (status != 0) return status;
  status = wudf_function_call_args(instance, function, arg_count, args, rows, options, out,
                                   out_schema, error);
  wudf_pool_release(pool, instance);
  return status;
}

void wudf_pool_stats(struct wudf_pool* pool, struct wudf_pool_stats* out) {
  if (pool == NULL || out == NULL) return;
  pthread_mutex_lock(&pool->lock);
  struct wudf_pool_stats full = pool->stats;
  pthread_mutex_unlock(&pool->lock);
  full.struct_size = sizeof(full);
  wudf__versioned_write(out, &full, sizeof(full), WUDF__SIZE_1(struct wudf_pool_stats, in_use));
}

void wudf_pool_free(struct wudf_pool* pool) {
  if (pool == NULL) return;
  for (uint32_t i = 0; i < pool->idle_count; i++) wudf_instance_free(pool->idle[i]);
  wudf__free(pool->idle);
  pthread_cond_destroy(&pool->released);
  pthread_mutex_destroy(&pool->lock);
  wudf__module_release(pool->module);
  wudf__free(pool);
}
