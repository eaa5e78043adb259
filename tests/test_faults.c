/*
 * test_faults.c -- every host allocation failing in turn, through the
 * allocation funnel (wudf_set_allocator), during a module's load from the
 * cache, its instantiation, scalar calls over strings, a record-batch call
 * and a table function's stream: each failure must be ENOMEM with a
 * message, leak nothing (the suite runs under ASan and valgrind) and leave
 * the engine, the module and the instance as good as new.
 */
#include <errno.h>

#include "udf_helpers.h"

/* The allocation funnel of this program: fails the `fail_countdown`-th
 * allocation from now when it is positive. */
static long fail_countdown;
static int failed_once;

static void* faulty_malloc(void* user, size_t size) {
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return malloc(size);
}

static void* faulty_realloc(void* user, void* pointer, size_t size) {
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return realloc(pointer, size);
}

static void faulty_free(void* user, void* pointer) { free(pointer); }

static struct wudf_engine* engine;

/* Runs `round` with the k-th allocation failing, for k = 1, 2, ... until a
 * round allocates fewer than k times: every failed round must return
 * ENOMEM with a message, and the next round without failures must
 * succeed. Returns the number of allocations the round makes. */
static long fail_each_allocation(int (*round)(struct wudf_error*)) {
  struct wudf_error error;
  long k = 1;
  for (;; k++) {
    failed_once = 0;
    fail_countdown = k;
    int status = round(&error);
    fail_countdown = 0;
    if (!failed_once) {
      ASSERT_OK(status, &error);
      break;
    }
    if (status != ENOMEM) {
      TEST_FAIL("allocation %ld failing gave %d (%s), expected ENOMEM", k, status,
                status != 0 ? error.message : "success");
    }
    ASSERT(error.message[0] != '\0');
    ASSERT_OK(round(&error), &error);
  }
  return k - 1;
}

/* -------------------------------------------------------------- rounds */

static int load_round(struct wudf_error* error) {
  struct wudf_module* module = NULL;
  int status = wudf_module_load_file(engine, module_path("example_strings"), &module, error);
  wudf_module_free(module);
  return status;
}

static struct wudf_module* strings;

static int instance_round(struct wudf_error* error) {
  struct wudf_instance* instance = NULL;
  int status = wudf_instance_new(strings, NULL, &instance, error);
  wudf_instance_free(instance);
  return status;
}

static struct wudf_instance* instance;
static struct column words;  /* utf8, nulls every 5th row */
static struct column others; /* utf8, nulls every 3rd row */

static int scalar_round(struct wudf_error* error) {
  struct column result;
  const struct ArrowArray* args[2] = {&words.array, &others.array};
  const struct ArrowSchema* schemas[2] = {&words.schema, &others.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_rows_per_call = 300; /* several guest calls appended to the column */
  int status = call_function(instance, "upper", 1, args, schemas, &options, &result, error);
  if (status == 0) {
    ASSERT_EQ(result.array.length, words.array.length);
    column_release(&result);
    status = call_function(instance, "concat", 2, args, schemas, &options, &result, error);
    if (status == 0) column_release(&result);
  }
  return status;
}

static struct column batch; /* struct<utf8, utf8> */

static int batch_round(struct wudf_error* error) {
  uint32_t concat;
  int status = wudf_module_find_function(strings, "concat", &concat, error);
  struct column result;
  memset(&result, 0, sizeof(result));
  if (status == 0) {
    status = wudf_function_call_batch(instance, concat, &batch.array, &batch.schema, NULL,
                                      &result.array, &result.schema, error);
  }
  if (status == 0) column_release(&result);
  return status;
}

static struct wudf_module* tables;
static struct wudf_instance* table_instance;
static struct column starts, stops;

static int stream_round(struct wudf_error* error) {
  uint32_t series;
  int status = wudf_module_find_function(tables, "series", &series, error);
  if (status != 0) return status;
  const struct ArrowArray* args[2] = {&starts.array, &stops.array};
  const struct ArrowSchema* schemas[2] = {&starts.schema, &stops.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 100;
  struct ArrowArrayStream stream;
  status = wudf_table_call(table_instance, series, 2, args, schemas, &options, &stream, error);
  if (status != 0) return status;
  struct ArrowSchema schema;
  status = stream.get_schema(&stream, &schema);
  if (status == 0) schema.release(&schema);
  int64_t rows = 0;
  while (status == 0) {
    struct ArrowArray chunk;
    status = stream.get_next(&stream, &chunk);
    if (status != 0 || chunk.release == NULL) break;
    rows += chunk.length;
    chunk.release(&chunk);
  }
  if (status != 0) {
    snprintf(error->message, sizeof(error->message), "%s", stream.get_last_error(&stream));
    error->code = status;
  } else {
    ASSERT_EQ(rows, 4 * 250);
  }
  stream.release(&stream);
  return status;
}

/* --------------------------------------------------------------- tests */

TEST(loading_from_the_cache) {
  ASSERT_GE(fail_each_allocation(load_round), 5);
}

TEST(instantiating) {
  ASSERT_GE(fail_each_allocation(instance_round), 3);
}

TEST(scalar_calls_over_strings) {
  instance = new_instance(strings);
  ASSERT_GE(fail_each_allocation(scalar_round), 10);
  wudf_instance_free(instance);
}

TEST(record_batch_calls) {
  instance = new_instance(strings);
  ASSERT_GE(fail_each_allocation(batch_round), 5);
  wudf_instance_free(instance);
}

TEST(table_streams) {
  table_instance = new_instance(tables);
  ASSERT_GE(fail_each_allocation(stream_round), 10);
  wudf_instance_free(table_instance);
}

int main(void) {
  static const struct wudf_allocator allocator = {faulty_malloc, faulty_realloc, faulty_free,
                                                  NULL};
  if (wudf_set_allocator(&allocator) != 0) TEST_FAIL("cannot install the allocator");
  engine = new_engine();
  strings = load_module(engine, "example_strings"); /* compiled and cached once */
  tables = load_module(engine, "example_tables");
  words = make_column(TYPE_UTF8, 1000, 5);
  others = make_column(TYPE_UTF8, 1000, 3);
  struct column columns[2] = {make_column(TYPE_UTF8, 1000, 4), make_column(TYPE_UTF8, 1000, 7)};
  batch = make_struct(1000, 2, columns);
  struct builder b;
  builder_init(&b, TYPE_INT32, 4);
  for (int32_t row = 0; row < 4; row++) {
    int32_t start = row * 1000;
    memcpy(builder_value(&b, row), &start, sizeof(start));
  }
  starts = builder_finish(&b, "start");
  builder_init(&b, TYPE_INT32, 4);
  for (int32_t row = 0; row < 4; row++) {
    int32_t stop = row * 1000 + 249;
    memcpy(builder_value(&b, row), &stop, sizeof(stop));
  }
  stops = builder_finish(&b, "stop");
  RUN_TEST(loading_from_the_cache);
  RUN_TEST(instantiating);
  RUN_TEST(scalar_calls_over_strings);
  RUN_TEST(record_batch_calls);
  RUN_TEST(table_streams);
  column_release(&words);
  column_release(&others);
  column_release(&batch);
  column_release(&starts);
  column_release(&stops);
  wudf_module_free(strings);
  wudf_module_free(tables);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
