/*
 * test_limits.c -- the resource limits of instances and calls, each error
 * naming the limit and its value:
 *   - tables count against the instance's memory_limit (the 85-byte
 *     module of 8 funcref tables of 10 M elements under 64 KiB is refused
 *     at instantiation), the number of tables and of elements per table are
 *     capped at load, table.grow beyond the limits returns -1;
 *   - the engine's memory_budget across all of its live instances, at
 *     instantiation and in memory.grow, given back when instances go;
 *   - a guest that aborts after the host refused it memory is reported as
 *     out of memory, not as `unreachable`;
 *   - the total rows and bytes of a call's output (a table function that
 *     emits forever, through wudf_function_call; a stream per chunk), and
 *     the nesting depth of arguments and results.
 */
#include "udf_helpers.h"

static struct wudf_engine* engine;

static struct wudf_instance* instance_with_limit(struct wudf_engine* owner,
                                                 struct wudf_module* module, uint64_t limit,
                                                 struct wudf_error* error, int* status) {
  struct wudf_instance_config config;
  wudf_instance_config_init(owner, &config);
  config.memory_limit = limit;
  struct wudf_instance* instance = NULL;
  *status = wudf_instance_new(module, &config, &instance, error);
  return instance;
}

static uint64_t memory_in_use(struct wudf_engine* owner) {
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(owner, &stats);
  return stats.memory_in_use;
}

/* ------------------------------------------------------------------ tables */

TEST(tables_count_against_the_memory_limit) {
  struct wudf_module* module = load_module(engine, "many_tables");
  struct wudf_error error;
  int status;
  struct wudf_instance* instance = instance_with_limit(engine, module, 64 << 10, &error,
                                                       &status);
  ASSERT_STATUS(status, EFAULT, &error);
  ASSERT(instance == NULL);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_MEMORY);
  ASSERT_STR_EQ(error.message, "instantiation: trap: out of memory: table 0 of 10000000 "
                               "funcref elements needs 240000000 bytes, over the instance's "
                               "memory_limit of 65536 bytes (it holds 0 bytes of linear "
                               "memory and 0 of tables)");
  /* Room for two tables: the third is refused, naming what the first two
   * hold. */
  instance = instance_with_limit(engine, module, 500000000, &error, &status);
  ASSERT_STATUS(status, EFAULT, &error);
  ASSERT_STR_EQ(error.message, "instantiation: trap: out of memory: table 2 of 10000000 "
                               "funcref elements needs 240000000 bytes, over the instance's "
                               "memory_limit of 500000000 bytes (it holds 0 bytes of linear "
                               "memory and 480000000 of tables)");
  ASSERT_EQ(memory_in_use(engine), 0);
  wudf_module_free(module);
}

TEST(tables_and_elements_are_capped_at_load) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  ASSERT_EQ(config.max_tables, 100);
  ASSERT_EQ(config.max_table_elements, 10000000);
  config.max_tables = 7;
  struct wudf_engine* strict = new_engine_with(&config);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_load_file(strict, module_path("many_tables"), &module, &error),
                EFBIG, &error);
  ASSERT_CONTAINS(error.message, "more than 7 tables (limit 7: max_tables)");
  wudf_engine_free(strict);

  wudf_engine_config_init(&config);
  config.max_table_elements = 1000;
  strict = new_engine_with(&config);
  ASSERT_STATUS(wudf_module_load_file(strict, module_path("many_tables"), &module, &error),
                EFBIG, &error);
  ASSERT_CONTAINS(error.message, "table of 10000000 initial elements (limit 1000)");
  wudf_engine_free(strict);
}

TEST(table_grow_beyond_the_limits_returns_minus_one) {
  /* limits.wat: memory 1 page (65536 bytes), table of 1 funcref (24 bytes)
   * with maximum 1000. */
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.max_table_elements = 100;
  struct wudf_engine* strict = new_engine_with(&config);
  struct wudf_module* module = load_module(strict, "limits");
  struct wudf_error error;
  int status;
  struct wudf_instance* instance = instance_with_limit(strict, module, 65536 + 24 * 50,
                                                       &error, &status);
  ASSERT_OK(status, &error);
  struct wudf_value n = i32_value(40);
  ASSERT_EQ(call_i32(instance, "grow_table", &n, 1), 1);   /* 1 -> 41 elements */
  n = i32_value(10);
  ASSERT_EQ(call_i32(instance, "grow_table", &n, 1), -1);  /* 51 * 24 bytes > limit */
  n = i32_value(9);
  ASSERT_EQ(call_i32(instance, "grow_table", &n, 1), 41);  /* 50 * 24: fits exactly */
  wudf_instance_free(instance);
  instance = instance_with_limit(strict, module, 0, &error, &status);
  ASSERT_OK(status, &error);
  n = i32_value(100);
  ASSERT_EQ(call_i32(instance, "grow_table", &n, 1), -1);  /* 101 > max_table_elements */
  n = i32_value(99);
  ASSERT_EQ(call_i32(instance, "grow_table", &n, 1), 1);
  /* The refusal is remembered for the call's error, should the guest give
   * up: here it did not. */
  ASSERT(!wudf_instance_is_broken(instance));
  wudf_instance_free(instance);
  wudf_module_free(module);
  ASSERT_EQ(memory_in_use(strict), 0);
  wudf_engine_free(strict);
}

/* ----------------------------------------------------------- engine budget */

TEST(engine_budget_spans_instances) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  ASSERT(config.memory_budget > 0); /* half the machine's memory by default */
  /* Two instances of limits.wat (65536 + 24 bytes each) and one more page. */
  config.memory_budget = 2 * (65536 + 24) + 65536;
  struct wudf_engine* budgeted = new_engine_with(&config);
  struct wudf_module* module = load_module(budgeted, "limits");
  struct wudf_instance* a = new_instance(module);
  struct wudf_instance* b = new_instance(module);
  ASSERT_EQ(memory_in_use(budgeted), 2 * (65536 + 24));
  struct wudf_value one = i32_value(1);
  ASSERT_EQ(call_i32(a, "grow", &one, 1), 1); /* the last page of the budget */
  ASSERT_EQ(call_i32(b, "grow", &one, 1), -1);
  struct wudf_error error;
  struct wudf_instance* c = NULL;
  ASSERT_STATUS(wudf_instance_new(module, NULL, &c, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_MEMORY);
  ASSERT_STR_EQ(error.message, "instantiation: trap: out of memory: the linear memory of 1 "
                               "pages at start needs 65536 bytes, over the engine's "
                               "memory_budget of 196656 bytes (its instances hold 196656 "
                               "bytes)");
  /* grow_or_abort gives up when refused: reported as out of memory. */
  ASSERT_STATUS(wudf_instance_call_name(b, "grow_or_abort", &one, 1, &(struct wudf_value){0},
                                        1, WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_MEMORY);
  ASSERT_STR_EQ(error.message, "export 'grow_or_abort': trap: out of memory: memory.grow by "
                               "1 pages needs 65536 bytes, over the engine's memory_budget of "
                               "196656 bytes (its instances hold 196656 bytes) (the guest "
                               "then gave up: unreachable)");
  /* An instance that goes gives its memory back. */
  wudf_instance_free(b);
  ASSERT_EQ(memory_in_use(budgeted), 2 * 65536 + 24);
  ASSERT_EQ(call_i32(a, "grow", &one, 1), 2);
  ASSERT_EQ(memory_in_use(budgeted), 3 * 65536 + 24);
  wudf_instance_free(a);
  ASSERT_EQ(memory_in_use(budgeted), 0);
  c = new_instance(module);
  wudf_instance_free(c);
  ASSERT_EQ(memory_in_use(budgeted), 0);
  wudf_module_free(module);
  wudf_engine_free(budgeted);
}

/* ------------------------------------------------- giving up after a refusal */

TEST(abort_after_refused_grow_is_out_of_memory) {
  struct wudf_module* module = load_module(engine, "limits");
  struct wudf_error error;
  int status;
  struct wudf_instance* instance = instance_with_limit(engine, module, 2 * 65536 + 24, &error,
                                                       &status);
  ASSERT_OK(status, &error);
  struct wudf_value pages = i32_value(1);
  ASSERT_EQ(call_i32(instance, "grow_or_abort", &pages, 1), 2);
  pages = i32_value(5);
  struct wudf_value result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "grow_or_abort", &pages, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_MEMORY);
  ASSERT_STR_EQ(error.message, "export 'grow_or_abort': trap: out of memory: memory.grow by 5 "
                               "pages to 7 pages, over the instance's memory_limit of 131096 "
                               "bytes (2 pages) (the guest then gave up: unreachable)");
  wudf_instance_free(instance);

  /* Without a refusal, or after one by the module's own maximum (100
   * pages), `unreachable` stays what it is. */
  instance = instance_with_limit(engine, module, 0, &error, &status);
  ASSERT_OK(status, &error);
  ASSERT_STATUS(wudf_instance_call_name(instance, "abort", NULL, 0, NULL, 0,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_UNREACHABLE);
  ASSERT_STR_EQ(error.message, "export 'abort': trap: unreachable executed");
  wudf_instance_free(instance);
  instance = instance_with_limit(engine, module, 0, &error, &status);
  ASSERT_OK(status, &error);
  pages = i32_value(100);
  ASSERT_STATUS(wudf_instance_call_name(instance, "grow_or_abort", &pages, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_UNREACHABLE);
  wudf_instance_free(instance);
  /* A refusal is forgotten when the next call starts. */
  instance = instance_with_limit(engine, module, 2 * 65536 + 24, &error, &status);
  ASSERT_OK(status, &error);
  pages = i32_value(5);
  ASSERT_EQ(call_i32(instance, "grow", &pages, 1), -1);
  ASSERT_STATUS(wudf_instance_call_name(instance, "abort", NULL, 0, NULL, 0,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_UNREACHABLE);
  wudf_instance_free(instance);
  wudf_module_free(module);
}


/* ------------------------------------------------------------ call output */

static struct wudf_module* kinds;
static struct wudf_module* alltypes;

static uint32_t function_index(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  uint32_t index = 0;
  ASSERT_OK(wudf_module_find_function(module, name, &index, &error), &error);
  return index;
}

/* One int64 row, 0: the argument of endless. */
static struct column one_start(void) {
  struct builder builder;
  builder_init(&builder, TYPE_INT64, 1);
  memcpy(builder_value(&builder, 0), &(int64_t){0}, 8);
  return builder_finish(&builder, "start");
}

TEST(endless_table_function_fails_fast_through_function_call) {
  struct wudf_instance* instance = new_instance(kinds);
  struct column start = one_start();
  const struct ArrowArray* arrays[1] = {&start.array};
  const struct ArrowSchema* schemas[1] = {&start.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  ASSERT_EQ(options.result_row_limit, INT32_MAX);
  ASSERT_EQ(options.result_byte_limit, 1 << 30);
  ASSERT_EQ(options.nesting_depth_limit, 32);
  struct wudf_error error;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  uint32_t endless = function_index(kinds, "endless");
  /* Chunks of 65,536 rows of (input_row int64, value int64): 1 MiB each. */
  options.result_row_limit = 100000;
  ASSERT_STATUS(wudf_function_call(instance, endless, 1, arrays, schemas, &options, &out,
                                   &out_schema, &error), EFBIG, &error);
  ASSERT_STR_EQ(error.message, "function 'endless': its output passed result_row_limit "
                               "(100000 rows): 131072 rows so far, 2097152 bytes");
  wudf_call_options_init(&options);
  options.result_byte_limit = 3 << 20;
  ASSERT_STATUS(wudf_function_call(instance, endless, 1, arrays, schemas, &options, &out,
                                   &out_schema, &error), EFBIG, &error);
  ASSERT_STR_EQ(error.message, "function 'endless': its output passed result_byte_limit "
                               "(3145728 bytes): 4194304 bytes so far, 262144 rows");
  /* The instance is fine: the guest only produced what it was asked. */
  ASSERT(!wudf_instance_is_broken(instance));
  ASSERT_EQ(memory_in_use(engine), wudf_instance_memory_size(instance) +
                                       instance->runtime.table_bytes);
  column_release(&start);
  wudf_instance_free(instance);
}

TEST(endless_table_function_stops_at_the_default_limit) {
  /* The case with the defaults: stopped at 1 GiB, not 4 GB. Slow
   * under valgrind (a thousand guest calls of 1 MiB each), so natively
   * only. */
  if (getenv("WUDF_TEST_SLACK_MS") != NULL) return;
  struct wudf_instance* instance = new_instance(kinds);
  struct column start = one_start();
  const struct ArrowArray* arrays[1] = {&start.array};
  const struct ArrowSchema* schemas[1] = {&start.schema};
  struct wudf_error error;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_STATUS(wudf_function_call(instance, function_index(kinds, "endless"), 1, arrays,
                                   schemas, NULL, &out, &out_schema, &error), EFBIG, &error);
  ASSERT_STR_EQ(error.message, "function 'endless': its output passed result_byte_limit "
                               "(1073741824 bytes): 1074790400 bytes so far, 67174400 rows");
  column_release(&start);
  wudf_instance_free(instance);
}

TEST(stream_output_is_limited_per_chunk) {
  struct wudf_instance* instance = new_instance(kinds);
  struct column start = one_start();
  const struct ArrowArray* arrays[1] = {&start.array};
  const struct ArrowSchema* schemas[1] = {&start.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 1000;
  options.result_row_limit = 2500;
  struct ArrowArrayStream stream;
  struct wudf_error error;
  uint32_t endless = function_index(kinds, "endless");
  ASSERT_OK(wudf_table_call(instance, endless, 1, arrays, schemas, &options, &stream, &error),
            &error);
  struct ArrowArray chunk;
  /* A stream reads any amount in bounded chunks: far past the limit in
   * total, each chunk within it. */
  for (int i = 0; i < 10; i++) {
    ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
    ASSERT_EQ(chunk.length, 1000);
    chunk.release(&chunk);
  }
  stream.release(&stream);
  /* A chunk over the limit ends the stream with the limit's error. */
  options.result_row_limit = 500;
  ASSERT_OK(wudf_table_call(instance, endless, 1, arrays, schemas, &options, &stream, &error),
            &error);
  ASSERT_EQ(stream.get_next(&stream, &chunk), EFBIG);
  ASSERT_STR_EQ(stream.get_last_error(&stream), "function 'endless': its output passed "
                                                "result_row_limit (500 rows): 1000 rows so "
                                                "far, 16000 bytes");
  ASSERT_EQ(stream.get_next(&stream, &chunk), EFBIG); /* it only repeats */
  stream.release(&stream);
  column_release(&start);
  wudf_instance_free(instance);
}

TEST(scalar_and_aggregate_output_is_limited) {
  struct wudf_instance* instance = new_instance(kinds);
  struct column column = make_column(TYPE_INT32, 1000, 0);
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.result_row_limit = 999;
  struct column result;
  struct wudf_error error;
  ASSERT_STATUS(call_function(instance, "twice", 1, arrays, schemas, &options, &result,
                              &error), EFBIG, &error);
  ASSERT_STR_EQ(error.message, "function 'twice': its result would have 1000 rows, more "
                               "than result_row_limit (999 rows)");
  wudf_call_options_init(&options);
  options.max_rows_per_call = 100; /* 400 bytes per guest call */
  options.result_byte_limit = 1000;
  ASSERT_STATUS(call_function(instance, "twice", 1, arrays, schemas, &options, &result,
                              &error), EFBIG, &error);
  ASSERT_STR_EQ(error.message, "function 'twice': its output passed result_byte_limit (1000 "
                               "bytes): 1200 bytes so far, 300 rows");
  options.result_byte_limit = 4000;
  ASSERT_OK(call_function(instance, "twice", 1, arrays, schemas, &options, &result, &error),
            &error);
  column_release(&result);

  /* An aggregate's results: one row per group. */
  struct wudf_aggregate* aggregate = NULL;
  ASSERT_OK(wudf_aggregate_new(instance, function_index(kinds, "count_all"), &aggregate,
                               &error), &error);
  struct column values = make_column(TYPE_INT64, 10, 0);
  const struct ArrowArray* value_arrays[1] = {&values.array};
  const struct ArrowSchema* value_schemas[1] = {&values.schema};
  uint32_t groups[10] = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
  ASSERT_OK(wudf_aggregate_update(aggregate, 1, value_arrays, value_schemas, groups, 5, NULL,
                                  &error), &error);
  wudf_call_options_init(&options);
  options.result_row_limit = 4;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_STATUS(wudf_aggregate_finish(aggregate, &options, &out, &out_schema, &error), EFBIG,
                &error);
  ASSERT_STR_EQ(error.message, "function 'count_all': its output passed result_row_limit (4 "
                               "rows): 5 rows so far, 40 bytes");
  options.result_row_limit = 5;
  ASSERT_OK(wudf_aggregate_finish(aggregate, &options, &out, &out_schema, &error), &error);
  ASSERT_EQ(out.length, 5);
  out.release(&out);
  out_schema.release(&out_schema);
  wudf_aggregate_free(aggregate);
  column_release(&values);
  column_release(&column);
  wudf_instance_free(instance);
}

TEST(nesting_depth_is_limited_per_call) {
  /* deep_wrap(int32) -> 31 lists around int32: 32 levels, the most. */
  struct wudf_instance* instance = new_instance(alltypes);
  struct column column = make_column(TYPE_INT32, 3, 0);
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct column deep;
  struct wudf_error error;
  ASSERT_OK(call_function(instance, "deep_wrap", 1, arrays, schemas, NULL, &deep, &error),
            &error);
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.nesting_depth_limit = 31;
  struct column result;
  ASSERT_STATUS(call_function(instance, "deep_wrap", 1, arrays, schemas, &options, &result,
                              &error), EFBIG, &error);
  ASSERT_CONTAINS(error.message, "function 'deep_wrap': its result is over "
                                 "nesting_depth_limit: result.");
  ASSERT_CONTAINS(error.message, ": nesting deeper than the caller's limit of 31 levels");
  /* The same nesting as an argument. */
  const struct ArrowArray* deep_arrays[1] = {&deep.array};
  const struct ArrowSchema* deep_schemas[1] = {&deep.schema};
  ASSERT_STATUS(call_function(instance, "id_deep", 1, deep_arrays, deep_schemas, &options,
                              &result, &error), EFBIG, &error);
  ASSERT_STR_EQ(error.message, "function 'id_deep': argument 1 nests deeper than "
                               "nesting_depth_limit (31 levels)");
  options.nesting_depth_limit = 33;
  ASSERT_STATUS(call_function(instance, "id_deep", 1, deep_arrays, deep_schemas, &options,
                              &result, &error), EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'id_deep': nesting_depth_limit 33 is outside 1 to "
                               "32");
  options.nesting_depth_limit = 0; /* the library's own, 32 */
  ASSERT_OK(call_function(instance, "id_deep", 1, deep_arrays, deep_schemas, &options,
                          &result, &error), &error);
  column_release(&result);
  column_release(&deep);
  column_release(&column);
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  RUN_TEST(tables_count_against_the_memory_limit);
  RUN_TEST(tables_and_elements_are_capped_at_load);
  RUN_TEST(table_grow_beyond_the_limits_returns_minus_one);
  RUN_TEST(engine_budget_spans_instances);
  RUN_TEST(abort_after_refused_grow_is_out_of_memory);
  kinds = load_module(engine, "kinds");
  alltypes = load_module(engine, "alltypes");
  RUN_TEST(endless_table_function_fails_fast_through_function_call);
  RUN_TEST(endless_table_function_stops_at_the_default_limit);
  RUN_TEST(stream_output_is_limited_per_chunk);
  RUN_TEST(scalar_and_aggregate_output_is_limited);
  RUN_TEST(nesting_depth_is_limited_per_call);
  wudf_module_free(alltypes);
  wudf_module_free(kinds);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
