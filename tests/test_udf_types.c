/*
 * test_udf_types.c -- every type of the guest ABI across the boundary, both
 * ways: identity functions (called on nulls) return their input row for row,
 * strict transforms return the transformed value with nulls where the input
 * is null -- for whole arrays, slices at odd offsets, empty arrays, all-null
 * arrays, and inputs split into many guest calls. Expected values are
 * computed here from the input pattern, never from the function's output.
 */
#include "udf_helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* types;
static struct wudf_instance* instance;

static const uint8_t fixed_types[] = {
    TYPE_INT8,   TYPE_INT16,  TYPE_INT32,   TYPE_INT64,
    TYPE_UINT8,  TYPE_UINT16, TYPE_UINT32,  TYPE_UINT64,
    TYPE_FLOAT32, TYPE_FLOAT64};

static const uint8_t string_types[] = {TYPE_UTF8, TYPE_LARGE_UTF8,
                                       TYPE_BINARY, TYPE_LARGE_BINARY};

/* The negation the guest's neg_T computes, on the input's bytes. */
static void negate(uint8_t type, const uint8_t* in, uint8_t* out) {
  switch (type) {
#define NEG(T, ctype)                 \
  case T: {                           \
    ctype x;                          \
    memcpy(&x, in, sizeof(x));        \
    x = (ctype)(0 - x);               \
    memcpy(out, &x, sizeof(x));       \
    break;                            \
  }
    NEG(TYPE_INT8, int8_t)
    NEG(TYPE_INT16, int16_t)
    NEG(TYPE_INT32, int32_t)
    NEG(TYPE_INT64, int64_t)
    NEG(TYPE_UINT8, uint8_t)
    NEG(TYPE_UINT16, uint16_t)
    NEG(TYPE_UINT32, uint32_t)
    NEG(TYPE_UINT64, uint64_t)
    NEG(TYPE_FLOAT32, float)
    NEG(TYPE_FLOAT64, double)
#undef NEG
  }
}

/* Calls `function` on rows [offset, offset + length) of a fresh pattern
 * column of `type` and checks every row against `check`. */
enum check { CHECK_IDENTITY, CHECK_NEGATE, CHECK_NOT, CHECK_REVERSE, CHECK_LENGTH };

static void run_case(uint8_t type, const char* function, enum check check, int64_t total,
                     int64_t offset, int64_t length, int null_every,
                     const struct wudf_call_options* options) {
  struct column input = make_column(type, total, null_every);
  struct ArrowArray slice = slice_of(&input, offset, length);
  const struct ArrowArray* args[1] = {&slice};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call_function(instance, function, 1, args, schemas, options, &result, &error),
            &error);
  ASSERT_EQ(result.array.length, length);
  uint8_t result_type = check == CHECK_LENGTH ? TYPE_INT64 : type;
  ASSERT_STR_EQ(result.schema.format, type_format(result_type));
  int large = 0;
  int variable = type_is_variable(type, &large);
  size_t width = type_bit_width(type) / 8;
  for (int64_t r = 0; r < length; r++) {
    int64_t i = offset + r; /* the pattern's row */
    int null = pattern_is_null(i, null_every);
    if (row_is_null(&result.array, r) != null) {
      TEST_FAIL("%s: row %" PRId64 ": null is %d, expected %d", function, r,
                row_is_null(&result.array, r), null);
    }
    if (null) continue;
    if (type == TYPE_BOOL) {
      int expected = (i % 3 == 0) ^ (check == CHECK_NOT);
      ASSERT_EQ(row_bool(&result.array, r), expected);
    } else if (variable) {
      char text[128];
      pattern_string(i, text, sizeof(text));
      int64_t size = (int64_t)strlen(text);
      if (check == CHECK_LENGTH) {
        int64_t got;
        memcpy(&got, row_bytes(&result.array, r, 8), 8);
        ASSERT_EQ(got, size);
        continue;
      }
      if (check == CHECK_REVERSE) {
        for (int64_t k = 0; k < size / 2; k++) {
          char swap = text[k];
          text[k] = text[size - 1 - k];
          text[size - 1 - k] = swap;
        }
      }
      int64_t got_size;
      const char* got = row_string(&result.array, large, r, &got_size);
      ASSERT_EQ(got_size, size);
      if (memcmp(got, text, (size_t)size) != 0) {
        TEST_FAIL("%s: row %" PRId64 ": '%.*s', expected '%s'", function, r, (int)got_size,
                  got, text);
      }
    } else {
      uint8_t expected[8], input_value[8];
      pattern_fixed(type, i, input_value);
      if (check == CHECK_NEGATE) {
        negate(type, input_value, expected);
      } else {
        memcpy(expected, input_value, width);
      }
      if (memcmp(row_bytes(&result.array, r, width), expected, width) != 0) {
        TEST_FAIL("%s: row %" PRId64 " differs", function, r);
      }
    }
  }
  column_release(&result);
  column_release(&input);
}

/* Every shape a column can have: whole, sliced at offsets that are and are
 * not multiples of 8, empty, all null, without nulls. */
static void run_shapes(uint8_t type, const char* function, enum check check) {
  run_case(type, function, check, 300, 0, 300, 7, NULL);
  run_case(type, function, check, 300, 5, 250, 7, NULL);
  run_case(type, function, check, 300, 16, 100, 3, NULL);
  run_case(type, function, check, 300, 299, 1, 7, NULL);
  run_case(type, function, check, 10, 4, 0, 7, NULL);
  run_case(type, function, check, 0, 0, 0, 7, NULL);
  run_case(type, function, check, 50, 3, 40, 1, NULL); /* all null */
  run_case(type, function, check, 100, 0, 100, 0, NULL); /* no nulls */
}

TEST(fixed_width_identity) {
  for (size_t t = 0; t < sizeof(fixed_types); t++) {
    char name[64];
    snprintf(name, sizeof(name), "id_%s", type_name(fixed_types[t]));
    run_shapes(fixed_types[t], name, CHECK_IDENTITY);
  }
}

TEST(fixed_width_strict_transform) {
  for (size_t t = 0; t < sizeof(fixed_types); t++) {
    char name[64];
    snprintf(name, sizeof(name), "neg_%s", type_name(fixed_types[t]));
    run_shapes(fixed_types[t], name, CHECK_NEGATE);
  }
}

TEST(bool_identity_and_not) {
  run_shapes(TYPE_BOOL, "id_bool", CHECK_IDENTITY);
  run_shapes(TYPE_BOOL, "not", CHECK_NOT);
}

TEST(strings_and_binary) {
  for (size_t t = 0; t < sizeof(string_types); t++) {
    const char* type = type_name(string_types[t]);
    char name[64];
    snprintf(name, sizeof(name), "id_%s", type);
    run_shapes(string_types[t], name, CHECK_IDENTITY);
    snprintf(name, sizeof(name), "reverse_%s", type);
    run_shapes(string_types[t], name, CHECK_REVERSE);
    snprintf(name, sizeof(name), "len_%s", type);
    run_shapes(string_types[t], name, CHECK_LENGTH);
  }
}

TEST(long_inputs_are_split_into_calls) {
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_rows_per_call = 7;
  run_case(TYPE_INT32, "id_int32", CHECK_IDENTITY, 1000, 3, 990, 5, &options);
  run_case(TYPE_UTF8, "reverse_utf8", CHECK_REVERSE, 1000, 9, 900, 5, &options);
  run_case(TYPE_BOOL, "not", CHECK_NOT, 1000, 1, 999, 5, &options);
  /* The guest saw calls of at most 7 rows: 990 = 141 * 7 + 3. */
  struct column input = make_column(TYPE_INT32, 990, 0);
  const struct ArrowArray* args[1] = {&input.array};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call_function(instance, "call_rows", 1, args, schemas, &options, &result, &error),
            &error);
  const int64_t* rows = (const int64_t*)result.array.buffers[1];
  for (int64_t r = 0; r < 990; r++) ASSERT_EQ(rows[r], r < 987 ? 7 : 3);
  column_release(&result);
  /* A byte limit splits too: 2 KiB blocks hold far fewer than 990 rows. */
  options.max_rows_per_call = 1 << 20;
  options.max_block_bytes = 2048;
  ASSERT_OK(call_function(instance, "call_rows", 1, args, schemas, &options, &result, &error),
            &error);
  rows = (const int64_t*)result.array.buffers[1];
  int64_t calls = 0;
  for (int64_t r = 0; r < 990; r += rows[r]) {
    ASSERT(rows[r] > 0 && rows[r] < 500);
    calls++;
  }
  ASSERT(calls > 2);
  column_release(&result);
  run_case(TYPE_LARGE_UTF8, "id_large_utf8", CHECK_IDENTITY, 1000, 3, 990, 5, &options);
  /* One row larger than the limit is an error, not a crash. */
  options.max_block_bytes = 16;
  ASSERT_STATUS(call_function(instance, "call_rows", 1, args, schemas, &options, &result,
                              &error), EFBIG, &error);
  ASSERT_CONTAINS(error.message, "row 0 alone");
  column_release(&input);
}

/* Strings, binary and fixed-width results of string arguments over many
 * guest calls (cut by chunk_bytes: 4,096 rows a call at the least; and by
 * max_rows_per_call), appended to the column where each guest call wrote
 * them: every row, null and offset right, sliced or not; the byte limit
 * counts them as they come. */
TEST(results_of_many_guest_calls_are_appended) {
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.chunk_bytes = 1;
  for (size_t t = 0; t < sizeof(string_types); t++) {
    const char* type = type_name(string_types[t]);
    char name[64];
    snprintf(name, sizeof(name), "reverse_%s", type);
    run_case(string_types[t], name, CHECK_REVERSE, 20000, 0, 20000, 5, &options);
    run_case(string_types[t], name, CHECK_REVERSE, 20000, 13, 19000, 3, &options);
    run_case(string_types[t], name, CHECK_REVERSE, 20000, 8, 16384, 0, &options);
    snprintf(name, sizeof(name), "len_%s", type);
    run_case(string_types[t], name, CHECK_LENGTH, 20000, 5, 19990, 7, &options);
  }
  /* Cut by max_rows_per_call too, down to one row a call. */
  options.chunk_bytes = 0;
  options.max_rows_per_call = 1;
  run_case(TYPE_UTF8, "reverse_utf8", CHECK_REVERSE, 300, 1, 250, 4, &options);
  /* The result byte limit sees every guest call's rows as they come. */
  wudf_call_options_init(&options);
  options.chunk_bytes = 1;
  options.result_byte_limit = 100000;
  struct column input = make_column(TYPE_UTF8, 20000, 0);
  const struct ArrowArray* args[1] = {&input.array};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  struct column result;
  struct wudf_error error;
  ASSERT_STATUS(call_function(instance, "reverse_utf8", 1, args, schemas, &options, &result,
                              &error), EFBIG, &error);
  ASSERT_CONTAINS(error.message, "its output passed result_byte_limit (100000 bytes)");
  options.result_byte_limit = 0;
  ASSERT_OK(call_function(instance, "reverse_utf8", 1, args, schemas, &options, &result,
                          &error), &error);
  column_release(&result);
  column_release(&input);
}

TEST(strict_functions_never_see_null_rows) {
  /* mix(int32, utf8, float64, bool) fails if it sees a null; nulls are
   * spread differently over the four arguments. */
  struct column a = make_column(TYPE_INT32, 200, 5);
  struct column b = make_column(TYPE_UTF8, 200, 7);
  struct column c = make_column(TYPE_FLOAT64, 200, 0);
  struct column d = make_column(TYPE_BOOL, 200, 11);
  struct ArrowArray sa = slice_of(&a, 3, 150), sb = slice_of(&b, 3, 150);
  struct ArrowArray sc = slice_of(&c, 3, 150), sd = slice_of(&d, 3, 150);
  const struct ArrowArray* args[4] = {&sa, &sb, &sc, &sd};
  const struct ArrowSchema* schemas[4] = {&a.schema, &b.schema, &c.schema, &d.schema};
  struct column result;
  struct wudf_error error;
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_rows_per_call = 16;
  ASSERT_OK(call_function(instance, "mix", 4, args, schemas, &options, &result, &error), &error);
  ASSERT_EQ(result.array.length, 150);
  int64_t nulls = 0;
  for (int64_t r = 0; r < 150; r++) {
    int64_t i = r + 3;
    int null = pattern_is_null(i, 5) || pattern_is_null(i, 7) || pattern_is_null(i, 11);
    ASSERT_EQ(row_is_null(&result.array, r), null);
    nulls += null;
    if (null) continue;
    char text[128], expected[256];
    pattern_string(i, text, sizeof(text));
    snprintf(expected, sizeof(expected), "%d:%s:%g:%d", (int)(i * 37 - 1000), text,
             (double)i * 1.5 - 100, i % 3 == 0);
    int64_t size;
    const char* got = row_string(&result.array, 0, r, &size);
    if ((size_t)size != strlen(expected) || memcmp(got, expected, (size_t)size) != 0) {
      TEST_FAIL("row %" PRId64 ": '%.*s', expected '%s'", r, (int)size, got, expected);
    }
  }
  ASSERT_EQ(result.array.null_count, nulls);
  column_release(&result);
  column_release(&a);
  column_release(&b);
  column_release(&c);
  column_release(&d);
}

TEST(record_batch_calls) {
  /* The same function called with one struct array holding the arguments,
   * itself sliced. */
  struct column a = make_column(TYPE_INT32, 64, 5);
  struct column b = make_column(TYPE_UTF8, 64, 0);
  struct column c = make_column(TYPE_FLOAT64, 64, 0);
  struct column d = make_column(TYPE_BOOL, 64, 0);
  struct column columns[4] = {a, b, c, d};
  struct column batch = make_struct(64, 4, columns);
  batch.array.offset = 10;
  batch.array.length = 40;
  uint32_t index;
  struct wudf_error error;
  ASSERT_OK(wudf_module_find_function(types, "mix", &index, &error), &error);
  struct column result;
  ASSERT_OK(wudf_function_call_batch(instance, index, &batch.array, &batch.schema, NULL,
                                     &result.array, &result.schema, &error), &error);
  ASSERT_EQ(result.array.length, 40);
  for (int64_t r = 0; r < 40; r++) {
    ASSERT_EQ(row_is_null(&result.array, r), pattern_is_null(r + 10, 5));
  }
  column_release(&result);
  /* A batch function: a different number of rows out. */
  ASSERT_OK(wudf_module_find_function(types, "non_null", &index, &error), &error);
  struct column strings = make_column(TYPE_UTF8, 30, 4);
  struct ArrowArray view = slice_of(&strings, 1, 25);
  const struct ArrowArray* args[1] = {&view};
  const struct ArrowSchema* schemas[1] = {&strings.schema};
  ASSERT_OK(wudf_function_call(instance, index, 1, args, schemas, NULL, &result.array,
                               &result.schema, &error), &error);
  ASSERT_STR_EQ(result.schema.format, "+s");
  ASSERT_EQ(result.array.n_children, 2);
  ASSERT_STR_EQ(result.schema.children[0]->name, "position");
  ASSERT_STR_EQ(result.schema.children[1]->format, "u");
  int64_t kept = 0;
  for (int64_t r = 0; r < 25; r++) {
    if (pattern_is_null(r + 1, 4)) continue;
    const struct ArrowArray* position = result.array.children[0];
    ASSERT_EQ(((const int64_t*)position->buffers[1])[kept], r);
    char text[128];
    pattern_string(r + 1, text, sizeof(text));
    int64_t size;
    const char* got = row_string(result.array.children[1], 0, kept, &size);
    ASSERT_EQ(size, (int64_t)strlen(text));
    ASSERT(memcmp(got, text, (size_t)size) == 0);
    kept++;
  }
  ASSERT_EQ(result.array.length, kept);
  column_release(&result);
  column_release(&strings);
  column_release(&batch);
}

int main(void) {
  engine = new_engine();
  types = load_module(engine, "types");
  instance = new_instance(types);
  RUN_TEST(fixed_width_identity);
  RUN_TEST(fixed_width_strict_transform);
  RUN_TEST(bool_identity_and_not);
  RUN_TEST(strings_and_binary);
  RUN_TEST(long_inputs_are_split_into_calls);
  RUN_TEST(results_of_many_guest_calls_are_appended);
  RUN_TEST(strict_functions_never_see_null_rows);
  RUN_TEST(record_batch_calls);
  wudf_instance_free(instance);
  wudf_module_free(types);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
