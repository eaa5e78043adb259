/*
 * test_threads.c -- concurrency: several threads call their own instances of
 * several modules at once, with results checked; traps and timeouts on one
 * thread leave the others undisturbed; engines and modules are shared.
 */
#include <errno.h>
#include <pthread.h>

#include "helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* traps;
static struct wudf_module* guest;

struct worker {
  int id;
  int failures;
  int traps_seen;
  char message[1024];
};

static void* worker_main(void* argument) {
  struct worker* worker = argument;
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  struct wudf_instance* printer = NULL;
  if (wudf_instance_new(traps, NULL, &instance, &error) != 0 ||
      wudf_instance_new(guest, NULL, &printer, &error) != 0) {
    snprintf(worker->message, sizeof(worker->message), "%s", error.message);
    worker->failures++;
    wudf_instance_free(instance);
    return NULL;
  }
  for (int i = 0; i < 3000; i++) {
    struct wudf_value args[2] = {i32_value(worker->id * 100000), i32_value(i)};
    struct wudf_value result;
    if (wudf_instance_call_name(instance, "add", args, 2, &result, 1,
                                WUDF_TIMEOUT_DEFAULT, &error) != 0 ||
        result.of.i32 != worker->id * 100000 + i) {
      worker->failures++;
    }
    if (i % 500 == 0) {
      /* Every so often, trap on purpose and carry on with a new instance. */
      struct wudf_value zero[2] = {i32_value(1), i32_value(0)};
      if (wudf_instance_call_name(instance, "div_s", zero, 2, &result, 1,
                                  WUDF_TIMEOUT_DEFAULT, &error) == EFAULT &&
          error.trap == WUDF_TRAP_DIVIDE_BY_ZERO) {
        worker->traps_seen++;
      }
      wudf_instance_free(instance);
      instance = NULL;
      if (wudf_instance_new(traps, NULL, &instance, &error) != 0) {
        worker->failures++;
        break;
      }
      struct wudf_value value = i32_value(worker->id);
      if (wudf_instance_call_name(printer, "hello", &value, 1, &result, 1,
                                  WUDF_TIMEOUT_DEFAULT, &error) != 0 ||
          result.of.i32 != worker->id + 1) {
        worker->failures++;
      }
    }
  }
  if (worker->id == 0) {
    /* One thread also times out; the others must not notice. */
    if (wudf_instance_call_name(instance, "spin", NULL, 0, NULL, 0, 30, &error) == ETIMEDOUT) {
      worker->traps_seen++;
    }
  }
  size_t size;
  const char* output = wudf_instance_output(printer, &size, NULL);
  char expected[64];
  int length = snprintf(expected, sizeof(expected), "hello %d\n", worker->id);
  if (size < (size_t)length || memcmp(output, expected, (size_t)length) != 0) {
    worker->failures++;
  }
  wudf_instance_free(instance);
  wudf_instance_free(printer);
  return NULL;
}

TEST(threads_call_instances_concurrently) {
  enum { THREADS = 4 };
  pthread_t threads[THREADS];
  struct worker workers[THREADS];
  memset(workers, 0, sizeof(workers));
  for (int i = 0; i < THREADS; i++) {
    workers[i].id = i;
    ASSERT_EQ(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) ASSERT_EQ(pthread_join(threads[i], NULL), 0);
  for (int i = 0; i < THREADS; i++) {
    if (workers[i].failures != 0) TEST_FAIL("worker %d: %d failures %s", i,
                                            workers[i].failures, workers[i].message);
    ASSERT_EQ(workers[i].traps_seen, i == 0 ? 7 : 6);
  }
}

struct moved_call {
  struct wudf_instance* instance;
  int status;
  int32_t result;
};

static void* call_from_other_thread(void* argument) {
  struct moved_call* call = argument;
  struct wudf_value args[2] = {i32_value(40), i32_value(2)};
  struct wudf_value result;
  call->status = wudf_instance_call_name(call->instance, "add", args, 2, &result, 1,
                                         WUDF_TIMEOUT_DEFAULT, NULL);
  call->result = result.of.i32;
  return NULL;
}

TEST(instance_moves_between_threads) {
  /* One thread at a time, but any thread: create here, call there, then
   * here again. */
  struct wudf_instance* instance = new_instance(traps);
  struct wudf_value args[2] = {i32_value(1), i32_value(2)};
  ASSERT_EQ(call_i32(instance, "add", args, 2), 3);
  struct moved_call call = {instance, -1, 0};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, NULL, call_from_other_thread, &call), 0);
  ASSERT_EQ(pthread_join(thread, NULL), 0);
  ASSERT_EQ(call.status, 0);
  ASSERT_EQ(call.result, 42);
  ASSERT_EQ(call_i32(instance, "add", args, 2), 3);
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  traps = load_module(engine, "traps");
  guest = load_module(engine, "wasi_guest");
  RUN_TEST(threads_call_instances_concurrently);
  RUN_TEST(instance_moves_between_threads);
  wudf_module_free(guest);
  wudf_module_free(traps);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
