/*
 * tier.c -- the background optimised build of a module loaded with the fast
 * tier (docs/engine.md, "Tiers").
 *
 * A load with fast_tier set and no optimised object at hand links the fast
 * tier's object (tcc) and starts a job here: a thread that runs the ordinary
 * compile path (cache lookup, lock, wasm2c, cc -O2, manifest, verified load)
 * on a copy of the bytes, then publishes the optimised object in the module.
 * At most engine->tier_max jobs compile at once; the others wait their turn.
 * Instances created after that run it; instances already alive move to it
 * at their next export call, funcref table entries included (instance.c,
 * wudf__tier_twin below); the fast object stays loaded with the module. The job
 * holds a reference to the module, so freeing the module never waits for
 * it; wudf_engine_free waits for and joins every job of the engine (in the
 * child of a fork, where the threads do not exist, it drops them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

struct wudf__tier_job {
  struct wudf_engine* engine;
  struct wudf_module* module; /* a reference, dropped when the job ends */
  uint8_t* bytes;             /* a copy of the module's bytes */
  size_t size;
  pthread_t thread;
  pid_t process;              /* the process the thread runs in */
  int done;                   /* under engine->tier_lock */
  struct wudf__tier_job* next;
};

/* Set on the threads of background builds (wudf__tier_cancel_flag). */
static _Thread_local int wudf__on_tier_thread;

const atomic_int* wudf__tier_cancel_flag(struct wudf_engine* engine) {
  return wudf__on_tier_thread ? &engine->tier_cancelled : NULL;
}

static int wudf__function_order(const void* left, const void* right) {
  const struct wudf__tier_function* a = left;
  const struct wudf__tier_function* b = right;
  uintptr_t x = (uintptr_t)a->address, y = (uintptr_t)b->address;
  return x < y ? -1 : x > y;
}

wasm_rt_function_ptr_t wudf__tier_twin(const struct wudf_module* module,
                                       wasm_rt_function_ptr_t address) {
  const struct wudf__glue_module* optimized =
      atomic_load_explicit(&module->optimized_glue, memory_order_acquire);
  if (optimized == NULL) return NULL;
  uintptr_t wanted = (uintptr_t)address;
  size_t low = 0, high = module->fast_function_count;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    uintptr_t here = (uintptr_t)module->fast_functions[middle].address;
    if (here == wanted) return optimized->functions[module->fast_functions[middle].index];
    if (here < wanted) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return NULL;
}

/* Publishes `holder`'s optimised object in `module`, with the table of its
 * exports in the module's export order and the sorted map of the fast
 * object's functions. Returns 0 or ENOMEM/ENOEXEC (the caller then releases
 * the object). */
static int wudf__tier_publish(struct wudf_module* module, struct wudf_module* holder) {
  const struct wudf__glue_module* glue = holder->glue;
  const struct wudf__glue_module* fast = module->glue;
  if (glue->export_count != module->export_count ||
      glue->function_base != fast->function_base ||
      glue->function_count != fast->function_count) {
    return ENOEXEC;
  }
  const struct wudf__glue_export** exports =
      wudf__calloc(module->export_count + 1, sizeof(*exports));
  struct wudf__tier_function* functions =
      wudf__calloc(fast->function_count + 1, sizeof(*functions));
  if (exports == NULL || functions == NULL) {
    wudf__free(exports);
    wudf__free(functions);
    return ENOMEM;
  }
  for (uint32_t i = 0; i < module->export_count; i++) {
    if (strcmp(glue->exports[i].name, module->exports[i].name) != 0) {
      wudf__free(exports);
      wudf__free(functions);
      return ENOEXEC;
    }
    exports[i] = &glue->exports[i];
  }
  for (uint32_t i = 0; i < fast->function_count; i++) {
    functions[i].address = fast->functions[i];
    functions[i].index = i;
  }
  qsort(functions, fast->function_count, sizeof(*functions), wudf__function_order);
  module->fast_functions = functions;
  module->fast_function_count = fast->function_count;
  module->optimized_exports = exports;
  module->optimized_loaded = holder->loaded;
  atomic_store_explicit(&module->optimized_glue, glue, memory_order_release);
  return 0;
}

static void* wudf__tier_run(void* argument) {
  struct wudf__tier_job* job = argument;
  struct wudf_engine* engine = job->engine;
  struct wudf_module* module = job->module;
  wudf__on_tier_thread = 1;
  /* Wait for a turn: at most tier_max builds compile at once. */
  pthread_mutex_lock(&engine->tier_lock);
  while (engine->tier_running >= engine->tier_max && !atomic_load(&engine->tier_cancelled)) {
    pthread_cond_wait(&engine->tier_done, &engine->tier_lock);
  }
  engine->tier_running++;
  pthread_mutex_unlock(&engine->tier_lock);
  struct wudf_module holder;
  memset(&holder, 0, sizeof(holder));
  struct wudf_error error;
  int status = ECANCELED;
  if (!atomic_load(&engine->tier_cancelled)) {
    status = wudf__compile_optimized(engine, job->bytes, job->size, &module->info, &holder,
                                     &error);
  }
  if (status == 0) {
    status = wudf__tier_publish(module, &holder);
    if (status != 0) wudf__compile_unload(&holder);
  }
  /* A cancelled build is not a failure: the module keeps its fast code. */
  if (status != ECANCELED) {
    atomic_fetch_add(status == 0 ? &engine->optimized_ready : &engine->optimized_failures, 1);
  }
  wudf__free(job->bytes);
  job->bytes = NULL;
  wudf__module_release(module);
  pthread_mutex_lock(&engine->tier_lock);
  engine->tier_running--;
  job->done = 1;
  pthread_cond_broadcast(&engine->tier_done);
  pthread_mutex_unlock(&engine->tier_lock);
  return NULL;
}

/* Joins and frees the jobs that have ended. Jobs started in the parent of
 * a fork have no thread in this process: they are dropped (their copy of
 * the module's reference stays taken, so the child's copy of the module is
 * never freed: it keeps the fast code). Called with tier_lock held. */
static void wudf__tier_reap(struct wudf_engine* engine) {
  pid_t self = getpid();
  for (struct wudf__tier_job** link = &engine->tier_jobs; *link != NULL;) {
    struct wudf__tier_job* job = *link;
    if (job->process != self) {
      *link = job->next;
      wudf__free(job->bytes);
      wudf__free(job);
      continue;
    }
    if (!job->done) {
      link = &job->next;
      continue;
    }
    *link = job->next;
    pthread_join(job->thread, NULL);
    wudf__free(job);
  }
}

void wudf__tier_start(struct wudf_engine* engine, struct wudf_module* module,
                      const uint8_t* bytes, size_t size) {
  if (atomic_load(&engine->tier_cancelled)) return; /* the module keeps the fast code */
  struct wudf__tier_job* job = wudf__calloc(1, sizeof(*job));
  uint8_t* copy = wudf__malloc(size ? size : 1);
  if (job == NULL || copy == NULL) {
    wudf__free(job);
    wudf__free(copy);
    atomic_fetch_add(&engine->optimized_failures, 1);
    return;
  }
  memcpy(copy, bytes, size);
  job->engine = engine;
  job->module = module;
  job->bytes = copy;
  job->size = size;
  job->process = getpid();
  atomic_fetch_add(&module->references, 1);
  pthread_mutex_lock(&engine->tier_lock);
  wudf__tier_reap(engine);
  if (engine->tier_max == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    engine->tier_max = cpus >= 4 ? (unsigned)(cpus / 2) : 1;
  }
  if (pthread_create(&job->thread, NULL, wudf__tier_run, job) != 0) {
    pthread_mutex_unlock(&engine->tier_lock);
    atomic_fetch_sub(&module->references, 1);
    wudf__free(copy);
    wudf__free(job);
    atomic_fetch_add(&engine->optimized_failures, 1);
    return;
  }
  job->next = engine->tier_jobs;
  engine->tier_jobs = job;
  pthread_mutex_unlock(&engine->tier_lock);
}

void wudf__tier_join_all(struct wudf_engine* engine) {
  pthread_mutex_lock(&engine->tier_lock);
  for (;;) {
    wudf__tier_reap(engine);
    if (engine->tier_jobs == NULL) break;
    pthread_cond_wait(&engine->tier_done, &engine->tier_lock);
  }
  pthread_mutex_unlock(&engine->tier_lock);
}

void wudf__tier_release(struct wudf_module* module) {
  if (module->optimized_loaded != NULL) {
    struct wudf_module holder;
    memset(&holder, 0, sizeof(holder));
    holder.loaded = module->optimized_loaded;
    wudf__compile_unload(&holder);
    module->optimized_loaded = NULL;
  }
  wudf__free(module->optimized_exports);
  module->optimized_exports = NULL;
  wudf__free(module->fast_functions);
  module->fast_functions = NULL;
  module->fast_function_count = 0;
}

int wudf_module_wait_tier(struct wudf_module* module, uint64_t timeout_ms) {
  if (module == NULL) return WUDF_TIER_NONE;
  struct wudf_engine* engine = module->engine;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline); /* the condition variable's clock */
  deadline.tv_sec += (time_t)(timeout_ms / 1000);
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pid_t self = getpid();
  pthread_mutex_lock(&engine->tier_lock);
  while (atomic_load_explicit(&module->optimized_glue, memory_order_acquire) == NULL) {
    /* A build of this module still running in this process? (A job that
     * ended may name a module since freed: only running ones count.) */
    int running = 0;
    for (struct wudf__tier_job* job = engine->tier_jobs; job != NULL; job = job->next) {
      if (job->module == module && !job->done && job->process == self) running = 1;
    }
    if (!running) break;
    if (timeout_ms == 0) {
      pthread_cond_wait(&engine->tier_done, &engine->tier_lock);
    } else if (pthread_cond_timedwait(&engine->tier_done, &engine->tier_lock, &deadline) ==
               ETIMEDOUT) {
      break;
    }
  }
  pthread_mutex_unlock(&engine->tier_lock);
  return wudf_module_tier(module);
}

void wudf_engine_cancel_builds(struct wudf_engine* engine) {
  if (engine == NULL) return;
  pthread_mutex_lock(&engine->tier_lock);
  atomic_store(&engine->tier_cancelled, 1);
  pthread_cond_broadcast(&engine->tier_done); /* builds waiting for a turn */
  pthread_mutex_unlock(&engine->tier_lock);
}
