/*
 * test_udf_abi.c -- the guest ABI's contract from the host's side: the
 * examples give the values computed here; a guest whose result breaks a rule
 * is rejected with an error naming the rule, and the same instance keeps
 * working; a guest's own error comes back with its message; arguments of the
 * wrong type, count or length are refused naming the argument; a bad
 * metadata record refuses the module; and many calls -- by guests that
 * release their inputs, that never do, and that keep one past the call --
 * leave the guest's memory where it was.
 */
#include "udf_helpers.h"

static struct wudf_engine* engine;

static int call1(struct wudf_instance* instance, const char* name, const struct column* arg,
                 struct column* result, struct wudf_error* error) {
  const struct ArrowArray* args[1] = {&arg->array};
  const struct ArrowSchema* schemas[1] = {&arg->schema};
  return call_function(instance, name, 1, args, schemas, NULL, result, error);
}

/* A column of int32 values; null where `nulls` has a 1. */
static struct column int32_column(const int32_t* values, const int* nulls, int64_t length) {
  struct builder builder;
  builder_init(&builder, TYPE_INT32, length);
  for (int64_t i = 0; i < length; i++) {
    if (nulls != NULL && nulls[i]) {
      builder_set_null(&builder, i);
    } else {
      memcpy(builder_value(&builder, i), &values[i], 4);
    }
  }
  return builder_finish(&builder, "x");
}

static struct column utf8_column(const char* const* values, int64_t length) {
  struct builder builder;
  builder_init(&builder, TYPE_UTF8, length);
  for (int64_t i = 0; i < length; i++) {
    if (values[i] == NULL) {
      builder_set_null(&builder, i);
    } else {
      builder_append(&builder, i, values[i], (int64_t)strlen(values[i]));
    }
  }
  return builder_finish(&builder, "s");
}

static void assert_utf8_row(const struct column* result, int64_t row, const char* expected) {
  if (expected == NULL) {
    ASSERT_EQ(row_is_null(&result->array, row), 1);
    return;
  }
  ASSERT_EQ(row_is_null(&result->array, row), 0);
  int64_t size;
  const char* got = row_string(&result->array, 0, row, &size);
  if ((size_t)size != strlen(expected) || memcmp(got, expected, (size_t)size) != 0) {
    TEST_FAIL("row %" PRId64 ": '%.*s', expected '%s'", row, (int)size, got, expected);
  }
}

TEST(seed_sum_example) {
  struct wudf_module* module = load_module(engine, "example_sum");
  struct wudf_instance* instance = new_instance(module);
  const int32_t values[3] = {1, 0, 3};
  const int nulls[3] = {0, 1, 0};
  struct column input = int32_column(values, nulls, 3);
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call1(instance, "sum", &input, &result, &error), &error);
  ASSERT_EQ(result.array.length, 1);
  ASSERT_STR_EQ(result.schema.children[0]->name, "sum");
  ASSERT_EQ(((const int64_t*)result.array.children[0]->buffers[1])[0], 4);
  column_release(&result);
  column_release(&input);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(gcd_example) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  const int32_t a[6] = {12, 18, 0, -7, 1071, INT32_MIN};
  const int32_t b[6] = {8, 27, 5, 21, 462, 6};
  const int a_nulls[6] = {0, 0, 1, 0, 0, 0};
  struct column x = int32_column(a, a_nulls, 6), y = int32_column(b, NULL, 6);
  const struct ArrowArray* args[2] = {&x.array, &y.array};
  const struct ArrowSchema* schemas[2] = {&x.schema, &y.schema};
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call_function(instance, "gcd", 2, args, schemas, NULL, &result, &error), &error);
  const int32_t expected[6] = {4, 9, 0, 7, 21, 2};
  for (int64_t r = 0; r < 6; r++) {
    ASSERT_EQ(row_is_null(&result.array, r), r == 2);
    if (r != 2) ASSERT_EQ(((const int32_t*)result.array.buffers[1])[r], expected[r]);
  }
  column_release(&result);
  column_release(&x);
  column_release(&y);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(string_examples_with_nulls) {
  struct wudf_module* module = load_module(engine, "example_strings");
  struct wudf_instance* instance = new_instance(module);
  const char* left[5] = {"hello", NULL, NULL, "Wasm 2", ""};
  const char* right[5] = {"!", "only", NULL, NULL, ""};
  struct column l = utf8_column(left, 5), r = utf8_column(right, 5);
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call1(instance, "upper", &l, &result, &error), &error);
  const char* upper[5] = {"HELLO", NULL, NULL, "WASM 2", ""};
  for (int64_t i = 0; i < 5; i++) assert_utf8_row(&result, i, upper[i]);
  column_release(&result);
  const struct ArrowArray* args[2] = {&l.array, &r.array};
  const struct ArrowSchema* schemas[2] = {&l.schema, &r.schema};
  ASSERT_OK(call_function(instance, "concat", 2, args, schemas, NULL, &result, &error), &error);
  const char* concat[5] = {"hello!", "only", NULL, "Wasm 2", ""};
  for (int64_t i = 0; i < 5; i++) assert_utf8_row(&result, i, concat[i]);
  column_release(&result);
  column_release(&l);
  column_release(&r);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(a_function_fails_with_its_message) {
  struct wudf_module* module = load_module(engine, "example_checked_divide");
  struct wudf_instance* instance = new_instance(module);
  struct builder builder;
  struct column a, b;
  builder_init(&builder, TYPE_INT64, 3);
  int64_t av[3] = {10, 20, 30}, bv[3] = {2, 0, 3};
  memcpy(builder.values, av, sizeof(av));
  a = builder_finish(&builder, "a");
  builder_init(&builder, TYPE_INT64, 3);
  memcpy(builder.values, bv, sizeof(bv));
  b = builder_finish(&builder, "b");
  const struct ArrowArray* args[2] = {&a.array, &b.array};
  const struct ArrowSchema* schemas[2] = {&a.schema, &b.schema};
  struct column result;
  struct wudf_error error;
  ASSERT_STATUS(call_function(instance, "checked_divide", 2, args, schemas, NULL, &result,
                              &error), EREMOTEIO, &error);
  ASSERT_STR_EQ(error.message, "function 'checked_divide' failed: division by zero in row 1");
  ASSERT_EQ(result.array.release == NULL, 1);
  /* The instance is not broken: a good call works. */
  ASSERT_EQ(wudf_instance_is_broken(instance), 0);
  bv[1] = 4;
  memcpy((void*)b.array.buffers[1], bv, sizeof(bv));
  ASSERT_OK(call_function(instance, "checked_divide", 2, args, schemas, NULL, &result, &error),
            &error);
  ASSERT_EQ(((const int64_t*)result.array.buffers[1])[1], 5);
  column_release(&result);
  column_release(&a);
  column_release(&b);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(lying_results_are_rejected) {
  static const struct {
    const char* function;
    const char* rule;
  } cases[] = {
      {"buffer_outside", "result: buffer: buffers[1] (values): 12 bytes at 4294963200 are "
                         "outside linear memory"},
      {"null_values", "result: buffer: buffers[1] (values) is null but 12 bytes are needed"},
      {"buffers_outside", "result: buffer: the array of 2 buffer pointers at 4294967280 is "
                          "outside linear memory"},
      {"negative_length", "result: length: length -1 is outside"},
      {"wrong_length", "result: length: length is 2, expected 3"},
      {"too_long", "result: length: length is 4, expected 3"},
      {"huge_offset", "result: offset: offset 9223372036854775806"},
      {"wrong_buffer_count", "result: n_buffers: 3 buffers, a fixed-width array has 2"},
      {"wrong_type", "result: type: expected int32 (format 'i'), got int64 (format 'l')"},
      {"format_outside", "result: format: the format at 4294967295 is not a NUL-terminated"},
      {"has_children", "result: n_children: 1 children"},
      {"null_count_lies", "result: null_count: 1 nulls but no validity buffer"},
      {"no_result", "result: released: the array's release is null"},
      {"offset_past_data", "result: buffer: buffers[2] (data): 1073741824 bytes at"},
      {"offsets_decrease", "result: offsets: offsets[2] = 2 is less than offsets[1] = 5"},
      {"negative_offset", "result: offsets: offsets[0] = -4 is negative"},
      {"bad_utf8", "result: utf8: value 0 is not valid UTF-8"},
  };
  struct wudf_module* module = load_module(engine, "liars");
  struct wudf_instance* instance = new_instance(module);
  const int32_t values[3] = {1, 2, 3};
  struct column input = int32_column(values, NULL, 3);
  struct column result;
  struct wudf_error error;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ASSERT_STATUS(call1(instance, cases[i].function, &input, &result, &error), EPROTO, &error);
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "function '%s'", cases[i].function);
    ASSERT_CONTAINS(error.message, prefix);
    ASSERT_CONTAINS(error.message, cases[i].rule);
    /* The host carries on with the same instance. */
    ASSERT_OK(call1(instance, "control", &input, &result, &error), &error);
    ASSERT_EQ(((const int32_t*)result.array.buffers[1])[2], 2);
    column_release(&result);
  }
  /* A trap in the guest's release callback: an error, the instance broken,
   * a new one works. */
  ASSERT_STATUS(call1(instance, "trap_in_release", &input, &result, &error), EFAULT, &error);
  ASSERT_CONTAINS(error.message, "function 'trap_in_release'");
  ASSERT_CONTAINS(error.message, "unreachable");
  ASSERT_EQ(wudf_instance_is_broken(instance), 1);
  ASSERT_STATUS(call1(instance, "control", &input, &result, &error), ENOTRECOVERABLE, &error);
  wudf_instance_free(instance);
  instance = new_instance(module);
  ASSERT_OK(call1(instance, "control", &input, &result, &error), &error);
  column_release(&result);
  column_release(&input);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(arguments_are_checked_against_the_signature) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  const int32_t values[4] = {1, 2, 3, 4};
  struct column a = int32_column(values, NULL, 4), b = int32_column(values, NULL, 3);
  const char* strings[4] = {"a", "b", "c", "d"};
  struct column s = utf8_column(strings, 4);
  struct column result;
  struct wudf_error error;
  const struct ArrowArray* args[2] = {&a.array, &s.array};
  const struct ArrowSchema* schemas[2] = {&a.schema, &s.schema};
  ASSERT_STATUS(call_function(instance, "gcd", 2, args, schemas, NULL, &result, &error),
                EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'gcd': argument 2: expected int32 (format 'i'), "
                               "got utf8 (format 'u')");
  ASSERT_STATUS(call_function(instance, "gcd", 1, args, schemas, NULL, &result, &error),
                EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'gcd' takes 2 arguments, 1 given");
  args[1] = &b.array;
  schemas[1] = &b.schema;
  ASSERT_STATUS(call_function(instance, "gcd", 2, args, schemas, NULL, &result, &error),
                EINVAL, &error);
  ASSERT_CONTAINS(error.message, "argument 2 has 3 rows, argument 1 has 4");
  ASSERT_STATUS(call_function(instance, "nope", 2, args, schemas, NULL, &result, &error),
                ENOENT, &error);
  column_release(&a);
  column_release(&b);
  column_release(&s);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(bad_metadata_refuses_the_module) {
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_load_file(engine, module_path("bad_meta_type"), &module, &error),
                EPROTO, &error);
  ASSERT_CONTAINS(error.message, "widen(int33) -> int64");
  ASSERT_CONTAINS(error.message, "unknown type 'int33'");
  ASSERT_STATUS(wudf_module_load_file(engine, module_path("bad_meta_export"), &module, &error),
                EPROTO, &error);
  ASSERT_CONTAINS(error.message, "scalar function 'ghost' is declared but the module has no "
                                 "export wudf_fn_ghost");
  ASSERT_STATUS(wudf_module_load_file(engine, module_path("bad_meta_kind"), &module, &error),
                EPROTO, &error);
  ASSERT_CONTAINS(error.message, "unknown function kind 'window'");
}

TEST(functions_are_described) {
  struct wudf_module* module = load_module(engine, "example_strings");
  ASSERT_EQ(wudf_module_function_count(module), 2);
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  struct wudf_error error;
  uint32_t index;
  ASSERT_OK(wudf_module_find_function(module, "concat", &index, &error), &error);
  ASSERT_OK(wudf_module_function(module, index, &info, &error), &error);
  ASSERT_STR_EQ(info.name, "concat");
  ASSERT_EQ(info.kind, WUDF_FUNCTION_SCALAR);
  ASSERT_STR_EQ(info.signature, "concat(utf8, utf8) -> utf8 CALLED ON NULL INPUT");
  ASSERT_EQ(info.arg_count, 2);
  ASSERT_STR_EQ(info.arg_formats[1], "u");
  ASSERT_STR_EQ(info.result_format, "u");
  ASSERT_EQ(info.strict, 0);
  ASSERT_STATUS(wudf_module_function(module, 2, &info, &error), EINVAL, &error);
  wudf_module_free(module);
  /* A module without metadata has no functions. */
  module = load_module(engine, "traps");
  ASSERT_EQ(wudf_module_function_count(module), 0);
  wudf_module_free(module);
}

/* Calls `name` `calls` times; returns the memory size after the first 100
 * and at the end. */
static void repeat_calls(struct wudf_instance* instance, const char* name,
                         const struct column* input, int calls, uint64_t* warm,
                         uint64_t* end) {
  struct column result;
  struct wudf_error error;
  for (int i = 0; i < calls; i++) {
    ASSERT_OK(call1(instance, name, input, &result, &error), &error);
    column_release(&result);
    if (i == 99) *warm = wudf_instance_memory_size(instance);
  }
  *end = wudf_instance_memory_size(instance);
}

TEST(ten_thousand_calls_do_not_grow_guest_memory) {
  struct wudf_module* types = load_module(engine, "types");
  struct wudf_module* liars = load_module(engine, "liars");
  struct wudf_instance* a = new_instance(types);
  struct wudf_instance* b = new_instance(liars);
  struct column strings = make_column(TYPE_UTF8, 500, 7);
  const int32_t values[64] = {0};
  struct column ints = int32_column(values, NULL, 64);
  uint64_t warm, end;
  repeat_calls(a, "reverse_utf8", &strings, 10000, &warm, &end);
  ASSERT_EQ(end, warm);
  repeat_calls(b, "keeps_inputs", &ints, 10000, &warm, &end);
  ASSERT_EQ(end, warm);
  repeat_calls(b, "moves_input", &ints, 10000, &warm, &end);
  ASSERT_EQ(end, warm);
  column_release(&strings);
  column_release(&ints);
  wudf_instance_free(a);
  wudf_instance_free(b);
  wudf_module_free(types);
  wudf_module_free(liars);
}

int main(void) {
  engine = new_engine();
  RUN_TEST(seed_sum_example);
  RUN_TEST(gcd_example);
  RUN_TEST(string_examples_with_nulls);
  RUN_TEST(a_function_fails_with_its_message);
  RUN_TEST(lying_results_are_rejected);
  RUN_TEST(arguments_are_checked_against_the_signature);
  RUN_TEST(bad_metadata_refuses_the_module);
  RUN_TEST(functions_are_described);
  RUN_TEST(ten_thousand_calls_do_not_grow_guest_memory);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
