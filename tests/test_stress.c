/*
 * test_stress.c -- many threads sharing two modules through pools of
 * instances, with calls that succeed, fault, trap and time out at random.
 * Every successful call's result is checked; every failure must be the
 * one its function gives; a broken instance is replaced; nothing may
 * crash, hang or leak. Run in every configuration, and by `make check`
 * under ThreadSanitizer too (-DWUDF_TSAN=ON).
 *
 * Timeouts under ThreadSanitizer: TSan holds asynchronous signals back
 * until the thread next enters its runtime, and guest code (compiled at
 * run time, not instrumented) never does, so a deadline cannot stop a
 * guest that loops in its own code there. Under TSan ($WUDF_TEST_TSAN)
 * the timeouts come from `sleepy`, which loops in host calls (WASI clock
 * reads): the interrupt reaches the thread inside the host call and the
 * runtime turns it into a timeout trap when the host call returns. The
 * guest-code loop (`spin`) is covered by the other configurations.
 */
#include <errno.h>
#include <pthread.h>

#include "udf_helpers.h"

enum { THREADS = 8, POOL = 3, ROWS = 64 };

/* A pool of instances of one module, shared by every thread. */
struct pool {
  struct wudf_module* module;
  pthread_mutex_t lock;
  pthread_cond_t available;
  struct wudf_instance* free[POOL];
  int count;
};

static struct pool pools[2];
static long iterations;
static int under_tsan;

static struct wudf_instance* pool_take(struct pool* pool) {
  pthread_mutex_lock(&pool->lock);
  while (pool->count == 0) pthread_cond_wait(&pool->available, &pool->lock);
  struct wudf_instance* instance = pool->free[--pool->count];
  pthread_mutex_unlock(&pool->lock);
  return instance;
}

static void pool_give(struct pool* pool, struct wudf_instance* instance) {
  pthread_mutex_lock(&pool->lock);
  pool->free[pool->count++] = instance;
  pthread_cond_signal(&pool->available);
  pthread_mutex_unlock(&pool->lock);
}

/* What a thread found wrong, if anything. */
struct worker {
  unsigned seed;
  char failure[1200];
  long calls, faults, traps, timeouts;
};

static void* work_thread(void* argument) {
  struct worker* worker = argument;
  struct builder b;
  builder_init(&b, TYPE_INT32, ROWS);
  for (int32_t row = 0; row < ROWS; row++) {
    int32_t value = (int32_t)(rand_r(&worker->seed) % 100000);
    memcpy(builder_value(&b, row), &value, sizeof(value));
  }
  struct column input = builder_finish(&b, "x");
  const struct ArrowArray* args[1] = {&input.array};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  for (long i = 0; i < iterations && worker->failure[0] == '\0'; i++) {
    struct pool* pool = &pools[rand_r(&worker->seed) % 2];
    int dice = rand_r(&worker->seed) % 100;
    const char* name = dice < 80   ? "work"
                       : dice < 87 ? "fault"
                       : dice < 94 ? "halt"
                       : dice < 97 || under_tsan ? "sleepy" : "spin";
    struct wudf_instance* instance = pool_take(pool);
    struct wudf_call_options options;
    wudf_call_options_init(&options);
    options.timeout_ms = 20;
    struct column result;
    struct wudf_error error;
    int status = call_function(instance, name, 1, args, schemas, &options, &result, &error);
    worker->calls++;
    int expected = strcmp(name, "work") == 0 ? 0
                   : strcmp(name, "fault") == 0 || strcmp(name, "halt") == 0 ? EFAULT
                   : ETIMEDOUT;
    if (status != expected) {
      snprintf(worker->failure, sizeof(worker->failure), "%s: expected %d, got %d: %.1000s", name,
               expected, status, status != 0 ? error.message : "success");
    } else if (status == 0) {
      for (int64_t row = 0; row < ROWS; row++) {
        int32_t in = ((const int32_t*)input.array.buffers[1])[row];
        int32_t out = ((const int32_t*)result.array.buffers[1])[result.array.offset + row];
        if (out != in * 2 + 1) {
          snprintf(worker->failure, sizeof(worker->failure),
                   "work: row %lld: expected %d, got %d", (long long)row, in * 2 + 1, out);
          break;
        }
      }
      column_release(&result);
    } else {
      worker->faults += strcmp(name, "fault") == 0;
      worker->traps += strcmp(name, "halt") == 0;
      worker->timeouts += expected == ETIMEDOUT;
    }
    if (wudf_instance_is_broken(instance)) { /* a trap breaks it: replace it */
      wudf_instance_free(instance);
      if (wudf_instance_new(pool->module, NULL, &instance, &error) != 0) {
        snprintf(worker->failure, sizeof(worker->failure), "instance_new: %.1000s", error.message);
        instance = NULL;
      }
    }
    if (instance != NULL) pool_give(pool, instance);
  }
  column_release(&input);
  return NULL;
}

TEST(threads_share_modules_through_pools_while_calls_fail_at_random) {
  pthread_t threads[THREADS];
  struct worker workers[THREADS];
  for (int t = 0; t < THREADS; t++) {
    memset(&workers[t], 0, sizeof(workers[t]));
    workers[t].seed = 1234u + (unsigned)t;
    ASSERT_EQ(pthread_create(&threads[t], NULL, work_thread, &workers[t]), 0);
  }
  long calls = 0, faults = 0, traps = 0, timeouts = 0;
  for (int t = 0; t < THREADS; t++) {
    ASSERT_EQ(pthread_join(threads[t], NULL), 0);
    if (workers[t].failure[0] != '\0') TEST_FAIL("thread %d: %s", t, workers[t].failure);
    calls += workers[t].calls;
    faults += workers[t].faults;
    traps += workers[t].traps;
    timeouts += workers[t].timeouts;
  }
  printf("%ld calls: %ld faults, %ld traps, %ld timeouts\n", calls, faults, traps, timeouts);
  ASSERT_EQ(calls, THREADS * iterations);
  ASSERT(faults > 0 && traps > 0 && timeouts > 0);
}

int main(void) {
  under_tsan = getenv("WUDF_TEST_TSAN") != NULL;
  /* Emulated (valgrind) runs are far slower: fewer calls, the same mix. */
  iterations = getenv("WUDF_TEST_SLACK_MS") != NULL ? 40 : 150;
  struct wudf_engine* engine = new_engine();
  for (int p = 0; p < 2; p++) {
    pools[p].module = load_module(engine, "stress"); /* twice: the second from the cache */
    pthread_mutex_init(&pools[p].lock, NULL);
    pthread_cond_init(&pools[p].available, NULL);
    for (int i = 0; i < POOL; i++) pools[p].free[pools[p].count++] = new_instance(pools[p].module);
  }
  RUN_TEST(threads_share_modules_through_pools_while_calls_fail_at_random);
  for (int p = 0; p < 2; p++) {
    for (int i = 0; i < pools[p].count; i++) wudf_instance_free(pools[p].free[i]);
    wudf_module_free(pools[p].module);
    pthread_mutex_destroy(&pools[p].lock);
    pthread_cond_destroy(&pools[p].available);
  }
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
