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
 *     emits forever, through wudf_function_call and through a stream), and
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
  struct wudf_engine_stats stats;
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

int main(void) {
  engine = new_engine();
  RUN_TEST(tables_count_against_the_memory_limit);
  RUN_TEST(tables_and_elements_are_capped_at_load);
  RUN_TEST(table_grow_beyond_the_limits_returns_minus_one);
  RUN_TEST(engine_budget_spans_instances);
  RUN_TEST(abort_after_refused_grow_is_out_of_memory);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
