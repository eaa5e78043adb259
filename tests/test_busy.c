/*
 * test_busy.c -- one instance used from several threads at once, which the
 * header forbids, is refused instead of racing: a call that finds another
 * thread in a call on the instance returns EBUSY naming its export or
 * function, and touches nothing. Threads hammering one instance get only
 * correct results or EBUSY, through raw export calls, UDF calls and both
 * mixed (a UDF call holds the instance over all of its export calls), and
 * the instance stays healthy. Worker threads never assert (the framework's
 * escape is per thread): they count, and the main thread checks.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "udf_helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* busy;
static struct wudf_module* kinds;

/* What busy.wat's mix(seed, n) returns when no other call interferes. */
static int32_t expected_mix(uint32_t seed, uint32_t n) {
  uint32_t value = seed;
  for (uint32_t i = 0; i < n; i++) value = value * 31u + i;
  return (int32_t)value;
}

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
}

/* ------------------------------------------------------- a refused call */

struct spinner {
  struct wudf_instance* instance;
  int status;
  struct wudf_error error;
};

static void* spin_main(void* argument) {
  struct spinner* spinner = argument;
  spinner->status = wudf_instance_call_name(spinner->instance, "spin", NULL, 0, NULL, 0,
                                            1000, &spinner->error);
  return NULL;
}

TEST(call_during_another_threads_call_is_refused) {
  struct wudf_instance* instance = new_instance(busy);
  struct spinner spinner = {instance, -1, {0}};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, NULL, spin_main, &spinner), 0);
  /* Wait until the other thread is inside its call. */
  for (int i = 0; i < 10000 && atomic_load(&instance->busy_owner) == 0; i++) sleep_ms(1);
  ASSERT(atomic_load(&instance->busy_owner) != 0);

  struct wudf_error error;
  struct wudf_value args[2] = {i32_value(1), i32_value(10)};
  struct wudf_value result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "mix", args, 2, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EBUSY, &error);
  ASSERT_STR_EQ(error.message, "export 'mix': the instance is in use by another thread (an "
                               "instance runs one call at a time: give each thread its own "
                               "instance)");
  ASSERT_EQ(error.trap, WUDF_TRAP_NONE);

  ASSERT_EQ(pthread_join(thread, NULL), 0);
  ASSERT_STATUS(spinner.status, ETIMEDOUT, &spinner.error);
  ASSERT(atomic_load(&instance->busy_owner) == 0);
  wudf_instance_free(instance);
}

/* A UDF call names its function when refused, and an accumulator freed
 * while another thread is in a call leaves its guest work for the next
 * call instead of running it in the middle of the other thread's. */
TEST(function_call_during_another_threads_call_is_refused) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  uint32_t twice, sum;
  ASSERT_OK(wudf_module_find_function(kinds, "twice", &twice, &error), &error);
  ASSERT_OK(wudf_module_find_function(kinds, "calls", &sum, &error), &error);
  struct wudf_aggregate* aggregate = NULL;
  ASSERT_OK(wudf_aggregate_new(instance, sum, &aggregate, &error), &error);

  /* Stand in for another thread in a call: take the flag with a token
   * that is not this thread's. */
  static char other_thread;
  atomic_store(&instance->busy_owner, (uintptr_t)&other_thread);
  instance->busy_depth = 1;

  struct builder builder;
  builder_init(&builder, TYPE_INT32, 3);
  for (int32_t i = 0; i < 3; i++) memcpy(builder_value(&builder, i), &(int32_t){i + 1}, 4);
  struct column column = builder_finish(&builder, "x");
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct column result;
  ASSERT_STATUS(call_function(instance, "twice", 1, arrays, schemas, NULL, &result, &error),
                EBUSY, &error);
  ASSERT_STR_EQ(error.message, "function 'twice': the instance is in use by another thread "
                               "(an instance runs one call at a time: give each thread its "
                               "own instance)");
  struct column starts = make_column(TYPE_INT64, 2, 0);
  const struct ArrowArray* start_arrays[1] = {&starts.array};
  const struct ArrowSchema* start_schemas[1] = {&starts.schema};
  ASSERT_STATUS(wudf_aggregate_update(aggregate, 1, start_arrays, start_schemas, NULL, 1, NULL,
                                      &error), EBUSY, &error);
  ASSERT_CONTAINS(error.message, "function 'calls': the instance is in use by another thread");
  struct ArrowArrayStream stream;
  uint32_t endless;
  ASSERT_OK(wudf_module_find_function(kinds, "endless", &endless, &error), &error);
  ASSERT_OK(wudf_table_call(instance, endless, 1, start_arrays, start_schemas, NULL, &stream,
                            &error), &error);
  struct ArrowArray chunk;
  ASSERT_EQ(stream.get_next(&stream, &chunk), EBUSY);
  ASSERT_CONTAINS(stream.get_last_error(&stream),
                  "function 'endless': the instance is in use by another thread");
  /* Freed now, its guest work waits. */
  wudf_aggregate_free(aggregate);
  ASSERT_EQ(atomic_load(&wudf__udf_of(instance)->handles_pending), 1);

  /* The other thread leaves: everything works again, the waiting work
   * runs first. */
  instance->busy_depth = 0;
  atomic_store(&instance->busy_owner, 0);
  ASSERT_OK(call_function(instance, "twice", 1, arrays, schemas, NULL, &result, &error),
            &error);
  ASSERT_EQ(atomic_load(&wudf__udf_of(instance)->handles_pending), 0);
  const int32_t* doubled = (const int32_t*)result.array.buffers[1];
  ASSERT_EQ(doubled[0], 2);
  ASSERT_EQ(doubled[2], 6);
  column_release(&result);
  ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
  ASSERT(chunk.release != NULL && chunk.length > 0);
  chunk.release(&chunk);
  stream.release(&stream);
  column_release(&starts);
  column_release(&column);
  ASSERT(!wudf_instance_is_broken(instance));
  wudf_instance_free(instance);
}

/* ------------------------------------------------------------- hammering */

#define HAMMER_THREADS 4
#define HAMMER_ROUNDS 300

/* Released when every hammering thread is ready, so that they overlap. */
static pthread_barrier_t hammer_start;

struct hammer {
  struct wudf_instance* instance;
  int id;
  int mode; /* 0: export calls of mix; 1: UDF calls of twice; 2: raw ABI export */
  int correct;
  int busy;
  int wrong;     /* a wrong result: a race */
  int other;     /* any other error */
  char last_other[1100];
};

static void hammer_record_error(struct hammer* h, int status, const struct wudf_error* error) {
  if (status == EBUSY && strstr(error->message, "the instance is in use by another thread")) {
    h->busy++;
  } else {
    h->other++;
    snprintf(h->last_other, sizeof(h->last_other), "%d: %.1024s", status, error->message);
  }
}

static void hammer_exports(struct hammer* h) {
  for (int round = 0; round < HAMMER_ROUNDS; round++) {
    uint32_t seed = (uint32_t)(h->id * 100000 + round), n = 20000 + (uint32_t)round % 7;
    struct wudf_value args[2] = {i32_value((int32_t)seed), i32_value((int32_t)n)};
    struct wudf_value result;
    struct wudf_error error;
    int status = wudf_instance_call_name(h->instance, "mix", args, 2, &result, 1,
                                         WUDF_TIMEOUT_DEFAULT, &error);
    if (status != 0) {
      hammer_record_error(h, status, &error);
    } else if (result.of.i32 == expected_mix(seed, n)) {
      h->correct++;
    } else {
      h->wrong++;
    }
  }
}

static void hammer_functions(struct hammer* h) {
  enum { ROWS = 64 };
  struct builder builder;
  builder_init(&builder, TYPE_INT32, ROWS);
  for (int i = 0; i < ROWS; i++) {
    int32_t v = h->id * 1000 + i;
    memcpy(builder_value(&builder, i), &v, 4);
  }
  struct column column = builder_finish(&builder, "x");
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  uint32_t twice;
  struct wudf_error error;
  if (wudf_module_find_function(kinds, "twice", &twice, &error) != 0) {
    h->other = HAMMER_ROUNDS;
    return;
  }
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_rows_per_call = 16; /* several guest calls per function call */
  for (int round = 0; round < HAMMER_ROUNDS; round++) {
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    int status = wudf_function_call(h->instance, twice, 1, arrays, schemas, &options, &out,
                                    &out_schema, &error);
    if (status != 0) {
      hammer_record_error(h, status, &error);
      continue;
    }
    const int32_t* values = (const int32_t*)out.buffers[1] + out.offset;
    int right = out.length == ROWS;
    for (int i = 0; right && i < ROWS; i++) right = values[i] == 2 * (h->id * 1000 + i);
    if (right) h->correct++; else h->wrong++;
    out.release(&out);
    out_schema.release(&out_schema);
  }
  column_release(&column);
}

static void hammer_abi_export(struct hammer* h) {
  for (int round = 0; round < HAMMER_ROUNDS; round++) {
    struct wudf_value result;
    struct wudf_error error;
    int status = wudf_instance_call_name(h->instance, "wudf_abi_version", NULL, 0, &result, 1,
                                         WUDF_TIMEOUT_DEFAULT, &error);
    if (status != 0) {
      hammer_record_error(h, status, &error);
    } else if (result.of.i32 == 1) {
      h->correct++;
    } else {
      h->wrong++;
    }
  }
}

static void* hammer_main(void* argument) {
  struct hammer* h = argument;
  pthread_barrier_wait(&hammer_start);
  switch (h->mode) {
    case 0: hammer_exports(h); break;
    case 1: hammer_functions(h); break;
    default: hammer_abi_export(h); break;
  }
  return NULL;
}

/* Runs HAMMER_THREADS threads of the given modes on `instance` and checks
 * that every call gave the right result or EBUSY. */
static void hammer(struct wudf_instance* instance, const int* modes) {
  struct hammer hammers[HAMMER_THREADS];
  pthread_t threads[HAMMER_THREADS];
  memset(hammers, 0, sizeof(hammers));
  ASSERT_EQ(pthread_barrier_init(&hammer_start, NULL, HAMMER_THREADS), 0);
  for (int i = 0; i < HAMMER_THREADS; i++) {
    hammers[i].instance = instance;
    hammers[i].id = i + 1;
    hammers[i].mode = modes[i];
    ASSERT_EQ(pthread_create(&threads[i], NULL, hammer_main, &hammers[i]), 0);
  }
  int correct = 0, busy_count = 0;
  for (int i = 0; i < HAMMER_THREADS; i++) ASSERT_EQ(pthread_join(threads[i], NULL), 0);
  pthread_barrier_destroy(&hammer_start);
  for (int i = 0; i < HAMMER_THREADS; i++) {
    if (hammers[i].other != 0) TEST_FAIL("thread %d: %s", i, hammers[i].last_other);
    ASSERT_EQ(hammers[i].wrong, 0);
    ASSERT_EQ(hammers[i].correct + hammers[i].busy, HAMMER_ROUNDS);
    correct += hammers[i].correct;
    busy_count += hammers[i].busy;
  }
  printf("       %d correct, %d refused with EBUSY\n", correct, busy_count);
  ASSERT_GE(correct, 1);
  ASSERT(atomic_load(&instance->busy_owner) == 0);
  ASSERT(!wudf_instance_is_broken(instance));
}

TEST(threads_hammering_exports_get_results_or_ebusy) {
  struct wudf_instance* instance = new_instance(busy);
  static const int modes[HAMMER_THREADS] = {0, 0, 0, 0};
  hammer(instance, modes);
  struct wudf_value args[2] = {i32_value(7), i32_value(1000)};
  ASSERT_EQ(call_i32(instance, "mix", args, 2), expected_mix(7, 1000));
  wudf_instance_free(instance);
}

TEST(threads_hammering_functions_get_results_or_ebusy) {
  struct wudf_instance* instance = new_instance(kinds);
  static const int modes[HAMMER_THREADS] = {1, 1, 1, 1};
  hammer(instance, modes);
  wudf_instance_free(instance);
}

/* A function call's export calls (allocation, the function, releases) are
 * never interleaved with another thread's export call. */
TEST(threads_mixing_functions_and_exports_get_results_or_ebusy) {
  struct wudf_instance* instance = new_instance(kinds);
  static const int modes[HAMMER_THREADS] = {1, 2, 1, 2};
  hammer(instance, modes);
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  busy = load_module(engine, "busy");
  kinds = load_module(engine, "kinds");
  RUN_TEST(call_during_another_threads_call_is_refused);
  RUN_TEST(function_call_during_another_threads_call_is_refused);
  RUN_TEST(threads_hammering_exports_get_results_or_ebusy);
  RUN_TEST(threads_hammering_functions_get_results_or_ebusy);
  RUN_TEST(threads_mixing_functions_and_exports_get_results_or_ebusy);
  wudf_module_free(kinds);
  wudf_module_free(busy);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
