/*
 * test_guest_sdk.c -- the C guest SDK's shorter forms and fast paths, run
 * through the engine (guests tests/udf_guests/sdk_forms.c and
 * sdk_debug.c): row-wise scalar functions give the values computed here
 * (nulls skipped, errors reported, the signature made from the C
 * declaration); functions declared with the name written once, and the
 * whole-column fast paths (input values and bitmaps with offsets, output
 * values and validity, reserved string appends, bulk table rows, an
 * aggregate writing its result directly) give the same results as the
 * checked per-row calls would, on sliced inputs too; calls alternating
 * between functions parse each signature once; and a debug SDK build traps
 * a wrong-type accessor with a message naming the function, the argument
 * and the accessor.
 */
#include "udf_helpers.h"

static struct wudf_engine* engine;

/* A column of `type` from int64 values (fixed width) or strings; row i
 * null where nulls[i] (nulls may be NULL). */
static struct column ints(uint8_t type, const int64_t* values, const int* nulls,
                          int64_t length) {
  struct builder builder;
  builder_init(&builder, type, length);
  unsigned bytes = type_bit_width(type) / 8;
  for (int64_t i = 0; i < length; i++) {
    if (nulls != NULL && nulls[i]) {
      builder_set_null(&builder, i);
    } else if (type == TYPE_BOOL) {
      if (values[i]) builder.values[i / 8] |= (uint8_t)(1u << (i % 8));
    } else if (type == TYPE_FLOAT64) {
      double d = (double)values[i];
      memcpy(builder_value(&builder, i), &d, 8);
    } else {
      memcpy(builder_value(&builder, i), &values[i], bytes); /* little-endian */
    }
  }
  return builder_finish(&builder, "x");
}

static struct column strings(uint8_t type, const char* const* values, int64_t length) {
  struct builder builder;
  builder_init(&builder, type, length);
  for (int64_t i = 0; i < length; i++) {
    if (values[i] == NULL) {
      builder_set_null(&builder, i);
    } else {
      builder_append(&builder, i, values[i], (int64_t)strlen(values[i]));
    }
  }
  return builder_finish(&builder, "s");
}

static int call(struct wudf_instance* instance, const char* name, uint32_t count,
                const struct column* columns, struct column* result,
                struct wudf_error* error) {
  const struct ArrowArray* args[4];
  const struct ArrowSchema* schemas[4];
  for (uint32_t i = 0; i < count; i++) {
    args[i] = &columns[i].array;
    schemas[i] = &columns[i].schema;
  }
  return call_function(instance, name, count, args, schemas, NULL, result, error);
}

static void assert_string_row(const struct column* result, int64_t row, const char* expected) {
  ASSERT_EQ(row_is_null(&result->array, row), expected == NULL);
  if (expected == NULL) return;
  int64_t size;
  const char* got = row_string(&result->array, 0, row, &size);
  if ((size_t)size != strlen(expected) || memcmp(got, expected, (size_t)size) != 0) {
    TEST_FAIL("row %" PRId64 ": '%.*s', expected '%s'", row, (int)size, got, expected);
  }
}

static const char* signature_of(struct wudf_module* module, const char* name) {
  static struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  struct wudf_error error;
  uint32_t index;
  ASSERT_OK(wudf_module_find_function(module, name, &index, &error), &error);
  ASSERT_OK(wudf_module_function(module, index, &info, &error), &error);
  return info.signature;
}

TEST(rowwise_signatures_come_from_the_declaration) {
  struct wudf_module* module = load_module(engine, "sdk_forms");
  ASSERT_STR_EQ(signature_of(module, "gcd_rw"), "gcd_rw(int32 a, int32 b) -> int32");
  ASSERT_STR_EQ(signature_of(module, "shout"), "shout(utf8 s, bool loud) -> utf8");
  ASSERT_STR_EQ(signature_of(module, "narrow"), "narrow(uint16 x, int8 bias) -> uint8");
  ASSERT_STR_EQ(signature_of(module, "add_days"),
                "add_days(date32 day, int32 days) -> date32 DETERMINISTIC");
  ASSERT_STR_EQ(signature_of(module, "twice"), "twice(int64 x) -> int64");
  ASSERT_STR_EQ(signature_of(module, "range_fast"),
                "range_fast(int32 start, int32 stop) -> setof int32");
  ASSERT_STR_EQ(signature_of(module, "counted"), "counted(int32) -> int64 STATE int64");
  wudf_module_free(module);
}

TEST(rowwise_functions_compute_and_skip_nulls) {
  struct wudf_module* module = load_module(engine, "sdk_forms");
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  struct column result;
  /* gcd, with a null row (strict: null, the function not called). */
  const int64_t a[6] = {12, 18, 0, -7, 1071, INT32_MIN};
  const int64_t b[6] = {8, 27, 5, 21, 462, 6};
  const int nulls[6] = {0, 0, 1, 0, 0, 0};
  struct column gcd_args[2] = {ints(TYPE_INT32, a, nulls, 6), ints(TYPE_INT32, b, NULL, 6)};
  ASSERT_OK(call(instance, "gcd_rw", 2, gcd_args, &result, &error), &error);
  const int32_t gcds[6] = {4, 9, 0, 7, 21, 2};
  for (int64_t r = 0; r < 6; r++) {
    ASSERT_EQ(row_is_null(&result.array, r), r == 2);
    if (r != 2) ASSERT_EQ(((const int32_t*)result.array.buffers[1])[r], gcds[r]);
  }
  column_release(&result);
  /* The same on a slice (offset 1): rows 1..5. */
  struct ArrowArray sliced[2] = {slice_of(&gcd_args[0], 1, 5), slice_of(&gcd_args[1], 1, 5)};
  const struct ArrowArray* slice_arrays[2] = {&sliced[0], &sliced[1]};
  const struct ArrowSchema* slice_schemas[2] = {&gcd_args[0].schema, &gcd_args[1].schema};
  ASSERT_OK(call_function(instance, "gcd_rw", 2, slice_arrays, slice_schemas, NULL, &result,
                          &error), &error);
  for (int64_t r = 0; r < 5; r++) {
    ASSERT_EQ(row_is_null(&result.array, r), r == 1);
    if (r != 1) ASSERT_EQ(((const int32_t*)result.array.buffers[1])[r], gcds[r + 1]);
  }
  column_release(&result);
  column_release(&gcd_args[0]);
  column_release(&gcd_args[1]);

  /* Strings and bools in, strings out (from a static buffer or the input). */
  const char* text[5] = {"hello", "Quiet", NULL, "", "wasm 2"};
  const int64_t loud[5] = {1, 0, 1, 1, 1};
  struct column shout_args[2] = {strings(TYPE_UTF8, text, 5), ints(TYPE_BOOL, loud, NULL, 5)};
  ASSERT_OK(call(instance, "shout", 2, shout_args, &result, &error), &error);
  const char* shouted[5] = {"HELLO", "Quiet", NULL, "", "WASM 2"};
  for (int64_t r = 0; r < 5; r++) assert_string_row(&result, r, shouted[r]);
  column_release(&result);
  column_release(&shout_args[0]);
  column_release(&shout_args[1]);

  /* float64, bool, narrow integers, dates. */
  const int64_t x[4] = {3, -1, 0, 5}, y[4] = {4, 2, 0, 12};
  struct column xy[2] = {ints(TYPE_FLOAT64, x, NULL, 4), ints(TYPE_FLOAT64, y, NULL, 4)};
  ASSERT_OK(call(instance, "hypot2", 2, xy, &result, &error), &error);
  const double hyp[4] = {25, 5, 0, 169};
  for (int r = 0; r < 4; r++) ASSERT_EQ(((const double*)result.array.buffers[1])[r], hyp[r]);
  column_release(&result);
  column_release(&xy[0]);
  column_release(&xy[1]);

  const int64_t n[5] = {0, 1, -2, 7, 10};
  struct column even_arg = ints(TYPE_INT64, n, NULL, 5);
  ASSERT_OK(call(instance, "is_even", 1, &even_arg, &result, &error), &error);
  for (int r = 0; r < 5; r++) ASSERT_EQ(row_bool(&result.array, r), n[r] % 2 == 0);
  column_release(&result);
  column_release(&even_arg);

  const int64_t wide[3] = {250, 7, 1000}, bias[3] = {10, -7, 0};
  struct column narrow_args[2] = {ints(TYPE_UINT16, wide, NULL, 3),
                                  ints(TYPE_INT8, bias, NULL, 3)};
  ASSERT_OK(call(instance, "narrow", 2, narrow_args, &result, &error), &error);
  const uint8_t narrowed[3] = {4, 0, 232};
  for (int r = 0; r < 3; r++) ASSERT_EQ(((const uint8_t*)result.array.buffers[1])[r], narrowed[r]);
  column_release(&result);
  column_release(&narrow_args[0]);
  column_release(&narrow_args[1]);

  const int64_t days[2] = {19000, -3}, plus[2] = {31, 3};
  struct column date_args[2] = {ints(TYPE_INT32, days, NULL, 2), ints(TYPE_INT32, plus, NULL, 2)};
  date_args[0].schema.format = "tdD";
  ASSERT_OK(call(instance, "add_days", 2, date_args, &result, &error), &error);
  ASSERT_STR_EQ(result.schema.format, "tdD");
  ASSERT_EQ(((const int32_t*)result.array.buffers[1])[0], 19031);
  ASSERT_EQ(((const int32_t*)result.array.buffers[1])[1], 0);
  column_release(&result);
  column_release(&date_args[0]);
  column_release(&date_args[1]);

  /* wudf_error in a row-wise body fails the call with its message. */
  const int64_t thirteen[3] = {1, 13, 2};
  struct column fail_arg = ints(TYPE_INT32, thirteen, NULL, 3);
  ASSERT_STATUS(call(instance, "fail_at_13", 1, &fail_arg, &result, &error), EREMOTEIO, &error);
  ASSERT_CONTAINS(error.message, "fail_at_13: met 13");
  /* ... and the instance goes on: a call without 13 succeeds. */
  fail_arg.array.length = 1;
  ASSERT_OK(call(instance, "fail_at_13", 1, &fail_arg, &result, &error), &error);
  ASSERT_EQ(((const int32_t*)result.array.buffers[1])[0], 1);
  column_release(&result);
  fail_arg.array.length = 3;
  column_release(&fail_arg);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(fast_paths_give_the_checked_results) {
  struct wudf_module* module = load_module(engine, "sdk_forms");
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  struct column result;
  enum { ROWS = 3000 };
  /* halve: float64 with nulls, on a slice at a bit offset not a multiple
   * of 8 (the bitmap's offset folded in), and without nulls. */
  struct column floats = make_column(TYPE_FLOAT64, ROWS, 7);
  struct ArrowArray view = slice_of(&floats, 13, ROWS - 13);
  const struct ArrowArray* view_args[1] = {&view};
  const struct ArrowSchema* view_schemas[1] = {&floats.schema};
  ASSERT_OK(call_function(instance, "halve", 1, view_args, view_schemas, NULL, &result, &error),
            &error);
  int64_t nulls = 0;
  for (int64_t r = 0; r < ROWS - 13; r++) {
    int64_t i = r + 13;
    int is_null = pattern_is_null(i, 7);
    nulls += is_null;
    ASSERT_EQ(row_is_null(&result.array, r), is_null);
    if (!is_null) {
      ASSERT_EQ(((const double*)result.array.buffers[1])[r], ((double)i * 1.5 - 100) / 2);
    }
  }
  ASSERT_EQ(result.array.null_count, nulls);
  column_release(&result);
  column_release(&floats);

  /* upper_fast: nulls, empty strings, a slice. */
  struct column text = make_column(TYPE_UTF8, ROWS, 5);
  view = slice_of(&text, 3, ROWS - 3);
  view_schemas[0] = &text.schema;
  ASSERT_OK(call_function(instance, "upper_fast", 1, view_args, view_schemas, NULL, &result,
                          &error), &error);
  ASSERT_EQ(result.array.length, ROWS - 3);
  for (int64_t r = 0; r < ROWS - 3; r++) {
    int64_t i = r + 3;
    if (pattern_is_null(i, 5)) {
      assert_string_row(&result, r, NULL);
      continue;
    }
    char expected[128];
    pattern_string(i, expected, sizeof(expected));
    for (char* c = expected; *c != '\0'; c++) {
      if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    }
    assert_string_row(&result, r, expected);
  }
  column_release(&result);
  /* lower_sized on the upper-cased pattern: sizes and nulls taken over. */
  ASSERT_OK(call_function(instance, "lower_sized", 1, view_args, view_schemas, NULL, &result,
                          &error), &error);
  ASSERT_EQ(result.array.length, ROWS - 3);
  nulls = 0;
  for (int64_t r = 0; r < ROWS - 3; r++) {
    int64_t i = r + 3;
    if (pattern_is_null(i, 5)) {
      nulls++;
      assert_string_row(&result, r, NULL);
      continue;
    }
    char expected[128];
    pattern_string(i, expected, sizeof(expected));
    assert_string_row(&result, r, expected);
  }
  ASSERT_EQ(result.array.null_count, nulls);
  column_release(&result);
  column_release(&text);

  /* pick: whole rows appended (wudf_append_str) within one reservation. */
  const char* left[4] = {"one", "", "three", "four"};
  const char* right[4] = {"1", "2", "", "4"};
  const int64_t firsts[4] = {1, 0, 1, 0};
  struct column pick_args[3] = {strings(TYPE_UTF8, left, 4), strings(TYPE_UTF8, right, 4),
                                ints(TYPE_BOOL, firsts, NULL, 4)};
  ASSERT_OK(call(instance, "pick", 3, pick_args, &result, &error), &error);
  const char* picked[4] = {"one", "2", "three", "4"};
  for (int64_t r = 0; r < 4; r++) assert_string_row(&result, r, picked[r]);
  column_release(&result);
  for (int i = 0; i < 3; i++) column_release(&pick_args[i]);
  /* pick again over strings of every size from 0 to 40 bytes, each byte
   * distinct: the inline copies of up to 16 bytes (wudf_copy_bytes) and
   * memcpy beyond, every byte in place. */
  char sized_text[41][41];
  const char* sized[41];
  const char* empties[41];
  int64_t all_first[41];
  for (int size = 0; size <= 40; size++) {
    for (int i = 0; i < size; i++) sized_text[size][i] = (char)('A' + (size * 7 + i) % 58);
    sized_text[size][size] = '\0';
    sized[size] = sized_text[size];
    empties[size] = "";
    all_first[size] = 1;
  }
  struct column sized_args[3] = {strings(TYPE_UTF8, sized, 41), strings(TYPE_UTF8, empties, 41),
                                 ints(TYPE_BOOL, all_first, NULL, 41)};
  ASSERT_OK(call(instance, "pick", 3, sized_args, &result, &error), &error);
  for (int64_t r = 0; r <= 40; r++) assert_string_row(&result, r, sized[r]);
  column_release(&result);
  for (int i = 0; i < 3; i++) column_release(&sized_args[i]);

  /* byte_sum over binary (wudf_get_utf8), twice (output values). */
  const char* bytes[3] = {"a", "", "ab"};
  struct column binary = strings(TYPE_BINARY, bytes, 3);
  ASSERT_OK(call(instance, "byte_sum", 1, &binary, &result, &error), &error);
  ASSERT_EQ(((const int64_t*)result.array.buffers[1])[0], 97);
  ASSERT_EQ(((const int64_t*)result.array.buffers[1])[1], 0);
  ASSERT_EQ(((const int64_t*)result.array.buffers[1])[2], 97 + 98);
  column_release(&result);
  column_release(&binary);
  const int64_t big[3] = {1, -4, INT64_MAX / 2};
  struct column big_arg = ints(TYPE_INT64, big, NULL, 3);
  ASSERT_OK(call(instance, "twice", 1, &big_arg, &result, &error), &error);
  for (int r = 0; r < 3; r++) ASSERT_EQ(((const int64_t*)result.array.buffers[1])[r], 2 * big[r]);
  column_release(&result);
  column_release(&big_arg);

  /* A batch function declared with the name once. */
  const int64_t signs[5] = {-1, 2, -3, 4, 5};
  struct column sign_arg = ints(TYPE_INT32, signs, NULL, 5);
  ASSERT_OK(call(instance, "split_sign", 1, &sign_arg, &result, &error), &error);
  ASSERT_EQ(result.array.length, 3);
  ASSERT_EQ(((const int32_t*)result.array.children[0]->buffers[1])[1], -3);
  ASSERT_EQ(((const int32_t*)result.array.children[1]->buffers[1])[2], 5);
  ASSERT_EQ(row_is_null(result.array.children[0], 2), 0); /* padded with zero */
  column_release(&result);
  column_release(&sign_arg);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(table_rows_emitted_in_bulk_cross_chunks) {
  struct wudf_module* module = load_module(engine, "sdk_forms");
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  const int64_t starts[4] = {1, 10, 5, -2}, stops[4] = {3, 9, 25004, 2};
  const int nulls[4] = {0, 0, 0, 1};
  struct column args[2] = {ints(TYPE_INT32, starts, NULL, 4), ints(TYPE_INT32, stops, nulls, 4)};
  const struct ArrowArray* arrays[2] = {&args[0].array, &args[1].array};
  const struct ArrowSchema* schemas[2] = {&args[0].schema, &args[1].schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 1000; /* every input row of 25,000 rows spans chunks */
  uint32_t index;
  ASSERT_OK(wudf_module_find_function(module, "range_fast", &index, &error), &error);
  struct ArrowArrayStream stream;
  ASSERT_OK(wudf_table_call(instance, index, 2, arrays, schemas, &options, &stream, &error),
            &error);
  /* Expected: 1, 2, 3 (row 0), nothing (row 1), 5 .. 25004 (row 2), nothing
   * for the null row 3. */
  int64_t seen = 0;
  struct ArrowArray chunk;
  while (stream.get_next(&stream, &chunk) == 0 && chunk.release != NULL) {
    ASSERT(chunk.length <= 1000);
    const struct ArrowArray* rows = chunk.children[0];
    const struct ArrowArray* values = chunk.children[1];
    for (int64_t k = 0; k < chunk.length; k++, seen++) {
      int64_t input_row = ((const int64_t*)rows->buffers[1])[rows->offset + k];
      int32_t value = ((const int32_t*)values->buffers[1])[values->offset + k];
      ASSERT_EQ(input_row, seen < 3 ? 0 : 2);
      ASSERT_EQ(value, seen < 3 ? seen + 1 : seen - 3 + 5);
    }
    chunk.release(&chunk);
  }
  ASSERT_EQ(seen, 3 + 25000);
  stream.release(&stream);
  column_release(&args[0]);
  column_release(&args[1]);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(aggregate_writes_its_result_directly) {
  struct wudf_module* module = load_module(engine, "sdk_forms");
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  uint32_t index;
  ASSERT_OK(wudf_module_find_function(module, "counted", &index, &error), &error);
  struct wudf_aggregate* aggregate;
  ASSERT_OK(wudf_aggregate_new(instance, index, &aggregate, &error), &error);
  const int64_t values[6] = {1, 2, 3, 4, 5, 6};
  struct column column = ints(TYPE_INT32, values, NULL, 6);
  const struct ArrowArray* args[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  const uint32_t groups[6] = {0, 2, 2, 0, 2, 4};
  ASSERT_OK(wudf_aggregate_update(aggregate, 1, args, schemas, groups, 5, NULL, &error), &error);
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_OK(wudf_aggregate_finish(aggregate, NULL, &out, &out_schema, &error), &error);
  ASSERT_EQ(out.length, 5);
  ASSERT_EQ(out.null_count, 2);
  const int64_t expected[5] = {2, 0, 3, 0, 1};
  for (int64_t g = 0; g < 5; g++) {
    ASSERT_EQ(row_is_null(&out, g), expected[g] == 0);
    if (expected[g] != 0) ASSERT_EQ(((const int64_t*)out.buffers[1])[g], expected[g]);
  }
  out.release(&out);
  out_schema.release(&out_schema);
  wudf_aggregate_free(aggregate);
  column_release(&column);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

/* Calls `parses` and returns what it reports. */
static int64_t parses_so_far(struct wudf_instance* instance, const struct column* one_row) {
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call(instance, "parses", 1, one_row, &result, &error), &error);
  int64_t parses = ((const int64_t*)result.array.buffers[1])[0];
  column_release(&result);
  return parses;
}

TEST(alternating_calls_parse_each_signature_once) {
  struct wudf_module* module = load_module(engine, "sdk_forms");
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  const int64_t one[1] = {6};
  struct column one_row = ints(TYPE_INT32, one, NULL, 1);
  struct column two[2] = {ints(TYPE_INT32, one, NULL, 1), ints(TYPE_INT32, one, NULL, 1)};
  struct column int64_row = ints(TYPE_INT64, one, NULL, 1);
  ASSERT_EQ(parses_so_far(instance, &one_row), 1);
  /* Two functions of the same kind (scalar), called alternately, and a
   * table and an aggregate in between. */
  for (int round = 0; round < 50; round++) {
    struct column result;
    ASSERT_OK(call(instance, "gcd_rw", 2, two, &result, &error), &error);
    ASSERT_EQ(((const int32_t*)result.array.buffers[1])[0], 6);
    column_release(&result);
    ASSERT_OK(call(instance, "twice", 1, &int64_row, &result, &error), &error);
    ASSERT_EQ(((const int64_t*)result.array.buffers[1])[0], 12);
    column_release(&result);
    ASSERT_EQ(parses_so_far(instance, &one_row), 3);
  }
  column_release(&one_row);
  column_release(&two[0]);
  column_release(&two[1]);
  column_release(&int64_row);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

/* Calls a function of sdk_debug expecting the accessor trap, and checks
 * the message the guest wrote. */
static void expect_misuse(const char* name, uint32_t count, const struct column* columns,
                          const char* message) {
  struct wudf_module* module = load_module(engine, "sdk_debug");
  struct wudf_instance* instance = new_instance(module);
  struct column result;
  struct wudf_error error;
  ASSERT_STATUS(call(instance, name, count, columns, &result, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_UNREACHABLE);
  size_t size;
  const char* output = wudf_instance_output(instance, &size, NULL);
  char text[1024];
  snprintf(text, sizeof(text), "%.*s", (int)size, output);
  ASSERT_CONTAINS(text, message);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(debug_build_traps_wrong_accessors_naming_them) {
  const int64_t values[2] = {4, 5};
  const char* words[2] = {"ab", "cde"};
  struct column args[2] = {ints(TYPE_INT32, values, NULL, 2), strings(TYPE_UTF8, words, 2)};
  /* Right accessors pass their checks. */
  struct wudf_module* module = load_module(engine, "sdk_debug");
  struct wudf_instance* instance = new_instance(module);
  struct column result;
  struct wudf_error error;
  ASSERT_OK(call(instance, "checked_ok", 2, args, &result, &error), &error);
  ASSERT_EQ(((const int64_t*)result.array.buffers[1])[0], 6);
  ASSERT_EQ(((const int64_t*)result.array.buffers[1])[1], 8);
  column_release(&result);
  wudf_instance_free(instance);
  wudf_module_free(module);
  /* Wrong ones trap, naming function, argument and accessor. */
  expect_misuse("misread", 2, args,
                "wasmudf guest: misread: wudf_get_int32 on argument 2 'text' of type utf8 "
                "(expected a 4-byte fixed-width input)");
  struct column int64s = ints(TYPE_INT64, values, NULL, 2);
  expect_misuse("misread_float", 1, &int64s,
                "wasmudf guest: misread_float: wudf_values_float64 on argument 1 'n' of type "
                "int64 (expected a float64 input)");
  expect_misuse("bad_index", 1, args,
                "wasmudf guest: bad_index: wudf_arg(args, 2) but the function has 1 argument");
  column_release(&int64s);
  column_release(&args[0]);
  column_release(&args[1]);
}

int main(void) {
  engine = new_engine();
  RUN_TEST(rowwise_signatures_come_from_the_declaration);
  RUN_TEST(rowwise_functions_compute_and_skip_nulls);
  RUN_TEST(fast_paths_give_the_checked_results);
  RUN_TEST(table_rows_emitted_in_bulk_cross_chunks);
  RUN_TEST(aggregate_writes_its_result_directly);
  RUN_TEST(alternating_calls_parse_each_signature_once);
  RUN_TEST(debug_build_traps_wrong_accessors_naming_them);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
