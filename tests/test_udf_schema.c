/*
 * test_udf_schema.c -- wudf_function_schema: every kind's arguments, result
 * and state as ArrowSchema trees (formats, names, nullability, nested
 * children, dictionaries), what an engine registers a function from; and
 * its refusals. Under ASan and valgrind too, so every tree is freed whole.
 */
#include <errno.h>

#include "helpers.h"

static struct wudf_engine* engine;

/* Function `name` of `module`'s index. */
static uint32_t function_index(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  uint32_t index = 0;
  ASSERT_OK(wudf_module_find_function(module, name, &index, &error), &error);
  return index;
}

/* The schema of `part` of function `name`, asserted to succeed. */
static struct ArrowSchema schema_of(struct wudf_module* module, const char* name,
                                    wudf_schema_part part) {
  struct wudf_error error;
  struct ArrowSchema schema;
  ASSERT_OK(wudf_function_schema(module, function_index(module, name), part, &schema, &error),
            &error);
  ASSERT(schema.release != NULL);
  return schema;
}

/* Asserts one node: format, name and nullability. */
static void expect_node(const struct ArrowSchema* node, const char* format, const char* name,
                        int nullable) {
  ASSERT_STR_EQ(node->format, format);
  ASSERT_STR_EQ(node->name, name);
  ASSERT_EQ((node->flags & ARROW_FLAG_NULLABLE) != 0, nullable);
}

TEST(scalar_arguments_and_result) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct ArrowSchema arguments = schema_of(module, "gcd", WUDF_SCHEMA_ARGUMENTS);
  expect_node(&arguments, "+s", "gcd", 0);
  ASSERT_EQ(arguments.n_children, 2);
  expect_node(arguments.children[0], "i", "arg0", 1);
  expect_node(arguments.children[1], "i", "arg1", 1);
  arguments.release(&arguments);
  ASSERT(arguments.release == NULL);

  struct ArrowSchema result = schema_of(module, "gcd", WUDF_SCHEMA_RESULT);
  expect_node(&result, "i", "gcd", 1);
  ASSERT_EQ(result.n_children, 0);
  result.release(&result);

  struct wudf_error error;
  struct ArrowSchema none;
  none.release = NULL;
  ASSERT_EQ(wudf_function_schema(module, 0, WUDF_SCHEMA_STATE, &none, &error), EINVAL);
  ASSERT_CONTAINS(error.message, "'gcd' is a scalar function: it has no STATE type");
  ASSERT(none.release == NULL); /* untouched on failure */
  wudf_module_free(module);
}

TEST(table_arguments_are_named_and_chunks_start_with_input_row) {
  struct wudf_module* module = load_module(engine, "example_tables");
  struct ArrowSchema arguments = schema_of(module, "series", WUDF_SCHEMA_ARGUMENTS);
  ASSERT_EQ(arguments.n_children, 2);
  expect_node(arguments.children[0], "i", "start", 1);
  expect_node(arguments.children[1], "i", "stop", 1);
  arguments.release(&arguments);

  struct ArrowSchema chunk = schema_of(module, "series", WUDF_SCHEMA_RESULT);
  expect_node(&chunk, "+s", "series", 1);
  ASSERT_EQ(chunk.n_children, 2);
  expect_node(chunk.children[0], "l", "input_row", 0);
  expect_node(chunk.children[1], "i", "series", 1);
  chunk.release(&chunk);
  wudf_module_free(module);
}

TEST(aggregate_result_and_state) {
  struct wudf_module* module = load_module(engine, "example_aggregates");
  struct ArrowSchema result = schema_of(module, "avg", WUDF_SCHEMA_RESULT);
  expect_node(&result, "g", "avg", 1);
  result.release(&result);
  struct ArrowSchema state = schema_of(module, "avg", WUDF_SCHEMA_STATE);
  expect_node(&state, "+s", "avg", 1);
  ASSERT_EQ(state.n_children, 2);
  expect_node(state.children[0], "g", "sum", 1);
  expect_node(state.children[1], "l", "count", 1);
  state.release(&state);
  struct ArrowSchema arguments = schema_of(module, "string_agg", WUDF_SCHEMA_ARGUMENTS);
  expect_node(arguments.children[0], "u", "value", 1);
  expect_node(arguments.children[1], "u", "separator", 1);
  arguments.release(&arguments);
  wudf_module_free(module);
}

TEST(batch_result_is_its_struct) {
  struct wudf_module* module = load_module(engine, "example_batches");
  struct ArrowSchema result = schema_of(module, "positive", WUDF_SCHEMA_RESULT);
  expect_node(&result, "+s", "positive", 1);
  ASSERT_EQ(result.n_children, 2);
  expect_node(result.children[0], "l", "id", 1);
  expect_node(result.children[1], "g", "value", 1);
  result.release(&result);
  wudf_module_free(module);
}

TEST(nested_maps_and_dictionaries) {
  struct wudf_module* module = load_module(engine, "alltypes");
  struct ArrowSchema map = schema_of(module, "id_map", WUDF_SCHEMA_RESULT);
  expect_node(&map, "+m", "id_map", 1);
  ASSERT_EQ(map.n_children, 1);
  expect_node(map.children[0], "+s", "entries", 0);
  expect_node(map.children[0]->children[0], "u", "key", 0);
  expect_node(map.children[0]->children[1], "i", "value", 1);
  map.release(&map);

  struct ArrowSchema dictionary = schema_of(module, "id_dict_int64_large_utf8",
                                            WUDF_SCHEMA_ARGUMENTS);
  const struct ArrowSchema* argument = dictionary.children[0];
  ASSERT_STR_EQ(argument->format, "l");
  ASSERT(argument->dictionary != NULL);
  ASSERT_STR_EQ(argument->dictionary->format, "U");
  ASSERT((argument->flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0);
  dictionary.release(&dictionary);
  wudf_module_free(module);
}

TEST(refusals) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_error error;
  struct ArrowSchema schema;
  ASSERT_EQ(wudf_function_schema(module, 1, WUDF_SCHEMA_RESULT, &schema, &error), EINVAL);
  ASSERT_CONTAINS(error.message, "out of range");
  ASSERT_EQ(wudf_function_schema(module, 0, (wudf_schema_part)9, &schema, &error), EINVAL);
  ASSERT_CONTAINS(error.message, "unknown schema part 9");
  ASSERT_EQ(wudf_function_schema(module, 0, WUDF_SCHEMA_RESULT, NULL, &error), EINVAL);
  ASSERT_EQ(wudf_function_schema(NULL, 0, WUDF_SCHEMA_RESULT, &schema, NULL), EINVAL);
  wudf_module_free(module);
}

int main(void) {
  engine = new_engine();
  RUN_TEST(scalar_arguments_and_result);
  RUN_TEST(table_arguments_are_named_and_chunks_start_with_input_row);
  RUN_TEST(aggregate_result_and_state);
  RUN_TEST(batch_result_is_its_struct);
  RUN_TEST(nested_maps_and_dictionaries);
  RUN_TEST(refusals);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
