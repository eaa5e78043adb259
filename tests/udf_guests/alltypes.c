/*
 * alltypes.c -- test guest: every Arrow type of the signature language
 * across the boundary, through the C guest SDK's input trees, accessors and
 * builders (tests/python/test_types_oracle.py checks it against pyarrow).
 *
 *   - id_NAME(T) -> T for every concrete type T, called on null input: the
 *     argument is moved into the result unchanged (wudf_output_take_input),
 *     so the host must hand back exactly what it was given.
 *   - Transforms, one or more per type family, that read every value with
 *     the typed accessors and build the result with the SDK's builders, so
 *     a test can tell that the guest computed it: integers + 1 (wrapping),
 *     floats * 2, decimals negated or formatted, dates + 1 day, times,
 *     timestamps and durations + 1 unit, intervals + 1 month (or day),
 *     fixed-size binary and binary reversed, strings upper-cased (ASCII),
 *     lists reversed or doubled, struct fields swapped, map values doubled,
 *     unions described, dictionaries upper-cased or built without
 *     duplicates, run-end encoded arrays decoded, bool negated.
 *   - Batch functions with columns of many types.
 */
#include <stdio.h>
#include <wasmudf/guest.h>

/* ------------------------------------------------------------ identities */

/* Declares id_NAME(TYPE) -> TYPE, the argument moved into the result. */
#define IDENTITY(name, type)                                                   \
  WUDF_SCALAR(id_##name, "id_" #name "(" type ") -> " type                     \
                         " CALLED ON NULL INPUT") {                            \
    return wudf_output_take_input(out, wudf_arg(args, 0));                     \
  }

IDENTITY(null, "null")
IDENTITY(bool, "bool")
IDENTITY(int8, "int8")
IDENTITY(int16, "int16")
IDENTITY(int32, "int32")
IDENTITY(int64, "int64")
IDENTITY(uint8, "uint8")
IDENTITY(uint16, "uint16")
IDENTITY(uint32, "uint32")
IDENTITY(uint64, "uint64")
IDENTITY(float16, "float16")
IDENTITY(float32, "float32")
IDENTITY(float64, "float64")
IDENTITY(decimal32, "decimal32(9, 2)")
IDENTITY(decimal64, "decimal64(18, 3)")
IDENTITY(decimal128, "decimal128(38, 10)")
IDENTITY(decimal256, "decimal256(76, 20)")
IDENTITY(date32, "date32")
IDENTITY(date64, "date64")
IDENTITY(time32_s, "time32(s)")
IDENTITY(time32_ms, "time32(ms)")
IDENTITY(time64_us, "time64(us)")
IDENTITY(time64_ns, "time64(ns)")
IDENTITY(ts_s, "timestamp(s)")
IDENTITY(ts_ms, "timestamp(ms)")
IDENTITY(ts_us, "timestamp(us)")
IDENTITY(ts_ns, "timestamp(ns)")
IDENTITY(ts_us_utc, "timestamp(us, 'UTC')")
IDENTITY(ts_ns_paris, "timestamp(ns, 'Europe/Paris')")
IDENTITY(ts_ms_offset, "timestamp(ms, '+05:30')")
IDENTITY(dur_s, "duration(s)")
IDENTITY(dur_ms, "duration(ms)")
IDENTITY(dur_us, "duration(us)")
IDENTITY(dur_ns, "duration(ns)")
IDENTITY(interval_months, "interval(months)")
IDENTITY(interval_day_time, "interval(day_time)")
IDENTITY(interval_mdn, "interval(month_day_nano)")
IDENTITY(fsb, "fixed_size_binary(5)")
IDENTITY(utf8, "utf8")
IDENTITY(large_utf8, "large_utf8")
IDENTITY(utf8_view, "utf8_view")
IDENTITY(binary, "binary")
IDENTITY(large_binary, "large_binary")
IDENTITY(binary_view, "binary_view")
IDENTITY(list_int32, "list<int32>")
IDENTITY(large_list_utf8, "large_list<utf8>")
IDENTITY(fsl_int16, "fixed_size_list<int16, 3>")
IDENTITY(list_view_int32, "list_view<int32>")
IDENTITY(large_list_view_utf8, "large_list_view<utf8>")
IDENTITY(list_list_int64, "list<list<int64>>")
IDENTITY(list_struct, "list<struct<x: int32, y: int32>>")
IDENTITY(struct, "struct<a: int32, b: utf8, c: list<float64>>")
IDENTITY(struct_nested, "struct<s: struct<x: int8, y: bool>, m: map<int32, utf8>>")
IDENTITY(struct_empty, "struct<>")
IDENTITY(map, "map<utf8, int32>")
IDENTITY(map_nested, "map<int64, list<utf8>>")
IDENTITY(sparse_union, "sparse_union<i: int32, s: utf8>")
IDENTITY(dense_union, "dense_union<i: int32, s: utf8, f: float64>")
IDENTITY(struct_union, "struct<u: sparse_union<i: int32, s: utf8>, n: int64>")
IDENTITY(list_dense_union, "list<dense_union<i: int32, s: utf8>>")
IDENTITY(dict_int8_utf8, "dictionary<int8, utf8>")
IDENTITY(dict_uint64_utf8, "dictionary<uint64, utf8>")
IDENTITY(dict_uint32_int64, "dictionary<uint32, int64>")
IDENTITY(dict_int64_large_utf8, "dictionary<int64, large_utf8, ordered>")
IDENTITY(dict_uint8_binary_view, "dictionary<uint8, binary_view>")
IDENTITY(dict_nested, "dictionary<int16, list<dictionary<int8, utf8>>>")
IDENTITY(dict_dict, "dictionary<int8, dictionary<int8, utf8>>")
IDENTITY(struct_dict, "struct<d: dictionary<int32, utf8>>")
IDENTITY(ree_int32_int64, "run_end_encoded<int32, int64>")
IDENTITY(ree_int16_utf8, "run_end_encoded<int16, utf8>")
IDENTITY(ree_int64_float64, "run_end_encoded<int64, float64>")

/* ---------------------------------------------------------- fixed width */

/* inc_T: x + 1, wrapping at the type's range (two's complement). */
#define INCREMENT(T, ctype, utype)                                             \
  WUDF_SCALAR(inc_##T, "inc_" #T "(" #T ") -> " #T) {                          \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    ctype* result = wudf_output_values(out);                                   \
    for (int64_t row = 0; row < args->length; row++) {                         \
      result[row] = (ctype)(utype)((utype)wudf_get_##T(in, row) + 1u);         \
    }                                                                          \
    return 0;                                                                  \
  }
INCREMENT(int8, int8_t, uint8_t)
INCREMENT(int16, int16_t, uint16_t)
INCREMENT(int32, int32_t, uint32_t)
INCREMENT(int64, int64_t, uint64_t)
INCREMENT(uint8, uint8_t, uint8_t)
INCREMENT(uint16, uint16_t, uint16_t)
INCREMENT(uint32, uint32_t, uint32_t)
INCREMENT(uint64, uint64_t, uint64_t)

WUDF_SCALAR(dbl_float16, "dbl_float16(float16) -> float16") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_float16(out, row, wudf_get_float16(in, row) * 2.0f);
  }
  return 0;
}

WUDF_SCALAR(dbl_float32, "dbl_float32(float32) -> float32") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_float32(out, row, wudf_get_float32(in, row) * 2.0f);
  }
  return 0;
}

WUDF_SCALAR(dbl_float64, "dbl_float64(float64) -> float64") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_float64(out, row, wudf_get_float64(in, row) * 2.0);
  }
  return 0;
}

WUDF_SCALAR(not_bool, "not_bool(bool) -> bool") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_bool(out, row, !wudf_get_bool(in, row));
  }
  return 0;
}

/* 1 for every row of a null column (every row is null). */
WUDF_SCALAR(null_flags, "null_flags(null) -> int64 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int64(out, row, wudf_is_null(in, row) ? 1 : 0);
  }
  return 0;
}

/* ------------------------------------------------------------ deep nesting */

/* list<...<int32>...> 31 lists deep: the deepest type the language allows. */
#define LIST1(type) "list<" type ">"
#define LIST2(type) LIST1(LIST1(type))
#define LIST4(type) LIST2(LIST2(type))
#define LIST8(type) LIST4(LIST4(type))
#define LIST16(type) LIST8(LIST8(type))
#define DEEP LIST16(LIST8(LIST4(LIST2(LIST1("int32")))))

IDENTITY(deep, DEEP)

/* Wraps each value in 31 one-element lists, built level by level. */
WUDF_SCALAR(deep_wrap, "deep_wrap(int32) -> " DEEP) {
  const wudf_input* in = wudf_arg(args, 0);
  wudf_output* levels[31];
  levels[0] = out;
  for (int level = 1; level < 31; level++) {
    levels[level] = wudf_output_list_values(levels[level - 1]);
  }
  wudf_output* values = wudf_output_list_values(levels[30]);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int32(values, row, wudf_get_int32(in, row));
    for (int level = 30; level >= 0; level--) wudf_list_end_row(levels[level], row);
  }
  return 0;
}

/* ------------------------------------------------------------- decimals */

WUDF_SCALAR(neg_decimal32, "neg_decimal32(decimal32(9, 2)) -> decimal32(9, 2)") {
  const wudf_input* in = wudf_arg(args, 0);
  if (in->precision != 9 || in->scale != 2) return wudf_error("neg_decimal32: parameters");
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_decimal32(out, row, -wudf_get_decimal32(in, row));
  }
  return 0;
}

WUDF_SCALAR(neg_decimal64, "neg_decimal64(decimal64(18, 3)) -> decimal64(18, 3)") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_decimal64(out, row, -wudf_get_decimal64(in, row));
  }
  return 0;
}

WUDF_SCALAR(neg_decimal128, "neg_decimal128(decimal128(38, 10)) -> decimal128(38, 10)") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_decimal128(out, row, wudf_decimal128_negate(wudf_get_decimal128(in, row)));
  }
  return 0;
}

WUDF_SCALAR(neg_decimal256, "neg_decimal256(decimal256(76, 20)) -> decimal256(76, 20)") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_decimal256(out, row, wudf_decimal256_negate(wudf_get_decimal256(in, row)));
  }
  return 0;
}

WUDF_SCALAR(fmt_decimal128, "fmt_decimal128(decimal128(38, 10)) -> utf8") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    char text[96];
    size_t length = wudf_decimal128_format(wudf_get_decimal128(in, row), in->scale, text,
                                           sizeof(text));
    wudf_set_str(out, row, text, length);
  }
  return 0;
}

WUDF_SCALAR(fmt_decimal256, "fmt_decimal256(decimal256(76, 20)) -> utf8") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    char text[96];
    size_t length = wudf_decimal256_format(wudf_get_decimal256(in, row), in->scale, text,
                                           sizeof(text));
    wudf_set_str(out, row, text, length);
  }
  return 0;
}

/* int64 x to decimals of value x.05 (scale 2), or to_int64 of them back. */
WUDF_SCALAR(dec_from_int, "dec_from_int(int64) -> struct<d128: decimal128(22, 2), "
                          "d256: decimal256(40, 2), back: int64>") {
  const wudf_input* in = wudf_arg(args, 0);
  wudf_output* d128 = wudf_output_child(out, 0);
  wudf_output* d256 = wudf_output_child(out, 1);
  wudf_output* back = wudf_output_child(out, 2);
  for (int64_t row = 0; row < args->length; row++) {
    int64_t x = wudf_get_int64(in, row);
    if (x > INT64_MAX / 100 - 1 || x < INT64_MIN / 100 + 1) {
      wudf_set_null(out, row);
      continue;
    }
    int64_t unscaled = x * 100 + (x < 0 ? -5 : 5);
    wudf_decimal128 value128 = wudf_decimal128_from_int64(unscaled);
    wudf_set_decimal128(d128, row, value128);
    wudf_set_decimal256(d256, row, wudf_decimal256_from_int64(unscaled));
    int64_t recovered = 0;
    if (!wudf_decimal128_to_int64(value128, &recovered)) return wudf_error("to_int64");
    wudf_set_int64(back, row, recovered);
  }
  return 0;
}

/* ------------------------------------------------------------- temporal */

WUDF_SCALAR(next_day_date32, "next_day_date32(date32) -> date32") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_date32(out, row, wudf_get_date32(in, row) + 1);
  }
  return 0;
}

WUDF_SCALAR(next_day_date64, "next_day_date64(date64) -> date64") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_date64(out, row, wudf_get_date64(in, row) + 86400000);
  }
  return 0;
}

/* inc_NAME(TYPE) -> TYPE: + 1 unit through the named 32- or 64-bit
 * accessors, checking the unit the SDK decoded. */
#define INC_TEMPORAL(name, type, kind, unit_code)                             \
  WUDF_SCALAR(inc_##name, "inc_" #name "(" type ") -> " type) {               \
    const wudf_input* in = wudf_arg(args, 0);                                 \
    if (in->unit != (unit_code) || out->unit != (unit_code)) {                \
      return wudf_error("inc_" #name ": unit %d", (int)in->unit);             \
    }                                                                         \
    for (int64_t row = 0; row < args->length; row++) {                        \
      wudf_set_##kind(out, row, wudf_get_##kind(in, row) + 1);                \
    }                                                                         \
    return 0;                                                                 \
  }
INC_TEMPORAL(time32_s, "time32(s)", time32, WUDF_SECOND)
INC_TEMPORAL(time32_ms, "time32(ms)", time32, WUDF_MILLISECOND)
INC_TEMPORAL(time64_us, "time64(us)", time64, WUDF_MICROSECOND)
INC_TEMPORAL(time64_ns, "time64(ns)", time64, WUDF_NANOSECOND)
INC_TEMPORAL(ts_s, "timestamp(s)", timestamp, WUDF_SECOND)
INC_TEMPORAL(ts_us_utc, "timestamp(us, 'UTC')", timestamp, WUDF_MICROSECOND)
INC_TEMPORAL(ts_ns_paris, "timestamp(ns, 'Europe/Paris')", timestamp, WUDF_NANOSECOND)
INC_TEMPORAL(dur_s, "duration(s)", duration, WUDF_SECOND)
INC_TEMPORAL(dur_ns, "duration(ns)", duration, WUDF_NANOSECOND)

/* The zone of a timestamp argument, as a string. */
WUDF_SCALAR(ts_zone, "ts_zone(timestamp(ms, '+05:30')) -> utf8") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_str(out, row, in->timezone, strlen(in->timezone));
  }
  return 0;
}

WUDF_SCALAR(inc_months, "inc_months(interval(months)) -> interval(months)") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_interval_months(out, row, wudf_get_interval_months(in, row) + 1);
  }
  return 0;
}

WUDF_SCALAR(inc_day_time, "inc_day_time(interval(day_time)) -> interval(day_time)") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_interval_day_time value = wudf_get_interval_day_time(in, row);
    value.days += 1;
    wudf_set_interval_day_time(out, row, value);
  }
  return 0;
}

WUDF_SCALAR(inc_mdn, "inc_mdn(interval(month_day_nano)) -> interval(month_day_nano)") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_interval_month_day_nano value = wudf_get_interval_month_day_nano(in, row);
    value.months += 1;
    wudf_set_interval_month_day_nano(out, row, value);
  }
  return 0;
}

/* --------------------------------------------------- strings and binary */

/* Sets row `row` of `out` to the bytes of `s`, reversed. */
static void set_reversed(wudf_output* out, int64_t row, wudf_str s) {
  char* target = wudf_set_str_uninit(out, row, s.size);
  if (target == NULL) return; /* the output is failed: the call fails */
  for (size_t i = 0; i < s.size; i++) target[i] = s.data[s.size - 1 - i];
}

/* Sets row `row` of `out` to `s` with ASCII letters upper-cased. */
static void set_upper(wudf_output* out, int64_t row, wudf_str s) {
  char* target = wudf_set_str_uninit(out, row, s.size);
  if (target == NULL) return;
  for (size_t i = 0; i < s.size; i++) {
    char c = s.data[i];
    target[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
  }
}

#define REVERSE(name, type)                                                    \
  WUDF_SCALAR(reverse_##name, "reverse_" #name "(" type ") -> " type) {        \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    for (int64_t row = 0; row < args->length; row++) {                         \
      set_reversed(out, row, wudf_get_str(in, row));                           \
    }                                                                          \
    return 0;                                                                  \
  }
REVERSE(fsb, "fixed_size_binary(5)")
REVERSE(binary, "binary")
REVERSE(large_binary, "large_binary")
REVERSE(binary_view, "binary_view")

#define UPPER(name, type)                                                      \
  WUDF_SCALAR(upper_##name, "upper_" #name "(" type ") -> " type) {            \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    for (int64_t row = 0; row < args->length; row++) {                         \
      set_upper(out, row, wudf_get_str(in, row));                              \
    }                                                                          \
    return 0;                                                                  \
  }
UPPER(utf8, "utf8")
UPPER(large_utf8, "large_utf8")
UPPER(utf8_view, "utf8_view")

/* ---------------------------------------------------------------- lists */

/* Appends element `i` of int32 input `items` to `values` (nulls kept). */
static void append_int32(wudf_output* values, const wudf_input* items, int64_t i) {
  int64_t at = wudf_output_rows(values);
  if (wudf_is_null(items, i)) {
    wudf_set_null(values, at);
  } else {
    wudf_set_int32(values, at, wudf_get_int32(items, i));
  }
}

WUDF_SCALAR(reverse_list_int32, "reverse_list_int32(list<int32>) -> list<int32>") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* items = wudf_list_values(in);
  wudf_output* values = wudf_output_list_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(in, row);
    for (int64_t i = range.end - 1; i >= range.start; i--) append_int32(values, items, i);
    wudf_list_end_row(out, row);
  }
  return 0;
}

/* A list view read through its offsets and sizes, built as a plain list. */
WUDF_SCALAR(reverse_list_view, "reverse_list_view(list_view<int32>) -> list<int32>") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* items = wudf_list_values(in);
  wudf_output* values = wudf_output_list_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(in, row);
    for (int64_t i = range.end - 1; i >= range.start; i--) append_int32(values, items, i);
    wudf_list_end_row(out, row);
  }
  return 0;
}

WUDF_SCALAR(double_large_list, "double_large_list(large_list<int64>) -> large_list<int64>") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* items = wudf_list_values(in);
  wudf_output* values = wudf_output_list_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(in, row);
    for (int64_t i = range.start; i < range.end; i++) {
      int64_t at = wudf_output_rows(values);
      if (wudf_is_null(items, i)) {
        wudf_set_null(values, at);
      } else {
        wudf_set_int64(values, at, (int64_t)((uint64_t)wudf_get_int64(items, i) * 2u));
      }
    }
    wudf_list_end_row(out, row);
  }
  return 0;
}

/* Upper-cases the strings of a large list view into a large list. */
WUDF_SCALAR(upper_large_list_view,
            "upper_large_list_view(large_list_view<utf8>) -> large_list<utf8>") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* items = wudf_list_values(in);
  wudf_output* values = wudf_output_list_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(in, row);
    for (int64_t i = range.start; i < range.end; i++) {
      int64_t at = wudf_output_rows(values);
      if (wudf_is_null(items, i)) {
        wudf_set_null(values, at);
      } else {
        set_upper(values, at, wudf_get_str(items, i));
      }
    }
    wudf_list_end_row(out, row);
  }
  return 0;
}

WUDF_SCALAR(reverse_fsl_int16,
            "reverse_fsl_int16(fixed_size_list<int16, 3>) -> fixed_size_list<int16, 3>") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* items = wudf_list_values(in);
  wudf_output* values = wudf_output_list_values(out);
  if (in->list_size != 3 || out->list_size != 3) return wudf_error("list size");
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(in, row);
    for (int64_t j = 0; j < 3; j++) {
      int64_t source = range.end - 1 - j, target = row * 3 + j;
      if (wudf_is_null(items, source)) {
        wudf_set_null(values, target);
      } else {
        wudf_set_int16(values, target, wudf_get_int16(items, source));
      }
    }
    wudf_list_end_row(out, row);
  }
  return 0;
}

/* The sum of x + y over the valid elements of a list of structs (null
 * fields count 0). */
WUDF_SCALAR(list_struct_sum, "list_struct_sum(list<struct<x: int32, y: int32>>) -> int64") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* items = wudf_list_values(in);
  const wudf_input* x = wudf_field(items, 0);
  const wudf_input* y = wudf_field(items, 1);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(in, row);
    int64_t sum = 0;
    for (int64_t i = range.start; i < range.end; i++) {
      if (wudf_is_null(items, i)) continue;
      if (!wudf_is_null(x, i)) sum += wudf_get_int32(x, i);
      if (!wudf_is_null(y, i)) sum += wudf_get_int32(y, i);
    }
    wudf_set_int64(out, row, sum);
  }
  return 0;
}

/* ---------------------------------------------------- structs and maps */

/* Swaps the fields; null structs stay null. */
WUDF_SCALAR(swap_struct, "swap_struct(struct<a: int32, b: utf8>) -> "
                         "struct<b: utf8, a: int32> CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* a = wudf_field(in, 0);
  const wudf_input* b = wudf_field(in, 1);
  wudf_output* out_b = wudf_output_child(out, 0);
  wudf_output* out_a = wudf_output_child(out, 1);
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(in, row)) {
      wudf_set_null(out, row);
      continue;
    }
    if (wudf_is_null(a, row)) {
      wudf_set_null(out_a, row);
    } else {
      wudf_set_int32(out_a, row, wudf_get_int32(a, row));
    }
    if (wudf_is_null(b, row)) {
      wudf_set_null(out_b, row);
    } else {
      wudf_str s = wudf_get_str(b, row);
      wudf_set_str(out_b, row, s.data, s.size);
    }
  }
  return 0;
}

WUDF_SCALAR(double_map_values, "double_map_values(map<utf8, int32>) -> map<utf8, int64>") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* keys = wudf_map_keys(in);
  const wudf_input* items = wudf_map_values(in);
  wudf_output* out_keys = wudf_output_map_keys(out);
  wudf_output* out_items = wudf_output_map_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(in, row);
    for (int64_t i = range.start; i < range.end; i++) {
      int64_t at = wudf_output_rows(out_keys);
      wudf_str key = wudf_get_str(keys, i);
      wudf_set_str(out_keys, at, key.data, key.size);
      if (wudf_is_null(items, i)) {
        wudf_set_null(out_items, at);
      } else {
        wudf_set_int64(out_items, at, 2 * (int64_t)wudf_get_int32(items, i));
      }
    }
    wudf_list_end_row(out, row);
  }
  return 0;
}

/* Builds nested results from flat arguments: n, the words of s (split at
 * spaces), the pair [n, -n], a dictionary tag "even"/"odd", the date n. */
WUDF_SCALAR(make_nested,
            "make_nested(int32, utf8) -> struct<n: int32, words: list<utf8>, "
            "pair: fixed_size_list<int32, 2>, tag: dictionary<int8, utf8>, when: date32>") {
  const wudf_input* numbers = wudf_arg(args, 0);
  const wudf_input* texts = wudf_arg(args, 1);
  wudf_output* n = wudf_output_child(out, 0);
  wudf_output* words = wudf_output_child(out, 1);
  wudf_output* word = wudf_output_list_values(words);
  wudf_output* pair = wudf_output_child(out, 2);
  wudf_output* tag = wudf_output_child(out, 3);
  wudf_output* when = wudf_output_child(out, 4);
  for (int64_t row = 0; row < args->length; row++) {
    int32_t x = wudf_get_int32(numbers, row);
    wudf_str s = wudf_get_str(texts, row);
    wudf_set_int32(n, row, x);
    size_t start = 0;
    for (size_t i = 0; i <= s.size; i++) {
      if (i == s.size || s.data[i] == ' ') {
        if (i > start) wudf_set_str(word, wudf_output_rows(word), s.data + start, i - start);
        start = i + 1;
      }
    }
    wudf_list_end_row(words, row);
    wudf_set_int32(wudf_output_list_values(pair), row * 2, x);
    wudf_set_int32(wudf_output_list_values(pair), row * 2 + 1, (int32_t)(0u - (uint32_t)x));
    wudf_list_end_row(pair, row);
    wudf_set_dict_str(tag, row, x % 2 == 0 ? "even" : "odd", x % 2 == 0 ? 4 : 3);
    wudf_set_date32(when, row, x);
  }
  return 0;
}

/* Moves both arguments into the fields of a struct (nulls of either stay
 * in its field; the struct itself has none). */
WUDF_SCALAR(wrap_struct, "wrap_struct(list<int32>, utf8) -> struct<l: list<int32>, s: utf8> "
                         "CALLED ON NULL INPUT") {
  int status = wudf_output_take_input(wudf_output_child(out, 0), wudf_arg(args, 0));
  if (status != 0) return status;
  return wudf_output_take_input(wudf_output_child(out, 1), wudf_arg(args, 1));
}

/* Results built without setting anything: a null column, an empty struct. */
WUDF_SCALAR(nothing, "nothing(int32) -> null") { return 0; }
WUDF_SCALAR(empty_struct, "empty_struct(int32) -> struct<>") { return 0; }

/* --------------------------------------------------------------- unions */

/* "NAME:VALUE" for each row of a sparse union, null when the value is. */
WUDF_SCALAR(describe_sparse,
            "describe_sparse(sparse_union<i: int32, s: utf8>) -> utf8 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    int child_index = wudf_union_child_index(in, row);
    if (child_index < 0) return wudf_error("describe_sparse: unknown type id");
    const wudf_input* child = wudf_child(in, child_index);
    int64_t child_row = wudf_union_child_row(in, row);
    if (wudf_is_null(child, child_row)) {
      wudf_set_null(out, row);
      continue;
    }
    char text[256];
    int length;
    if (wudf_union_type_id(in, row) == 0) {
      length = snprintf(text, sizeof(text), "%s:%d", child->name,
                        wudf_get_int32(child, child_row));
    } else {
      wudf_str s = wudf_get_str(child, child_row);
      length = snprintf(text, sizeof(text), "%s:%.*s", child->name, (int)s.size, s.data);
    }
    wudf_set_str(out, row, text, (size_t)length < sizeof(text) ? (size_t)length : sizeof(text) - 1);
  }
  return 0;
}

/* The numeric value of a dense union row: i as float64, f itself, the
 * length of s; null when the value is. */
WUDF_SCALAR(dense_to_float, "dense_to_float(dense_union<i: int32, s: utf8, f: float64>) -> "
                            "float64 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    const wudf_input* child = wudf_child(in, wudf_union_child_index(in, row));
    int64_t child_row = wudf_union_child_row(in, row);
    if (wudf_is_null(child, child_row)) {
      wudf_set_null(out, row);
    } else if (child->type == WUDF_INT32) {
      wudf_set_float64(out, row, wudf_get_int32(child, child_row));
    } else if (child->type == WUDF_FLOAT64) {
      wudf_set_float64(out, row, wudf_get_float64(child, child_row));
    } else {
      wudf_set_float64(out, row, (double)wudf_get_str(child, child_row).size);
    }
  }
  return 0;
}

/* --------------------------------------------------------- dictionaries */

/* The same indices over upper-cased dictionary values. */
WUDF_SCALAR(upper_dict, "upper_dict(dictionary<int8, utf8>) -> dictionary<int8, utf8> "
                        "CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* dictionary = wudf_dictionary(in);
  wudf_output* values = wudf_output_dictionary(out);
  if (!in->is_dictionary || !out->is_dictionary) return wudf_error("not a dictionary");
  for (int64_t i = 0; i < dictionary->length; i++) {
    if (wudf_is_null(dictionary, i)) {
      wudf_set_null(values, i);
    } else {
      set_upper(values, i, wudf_get_str(dictionary, i));
    }
  }
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(in, row)) {
      wudf_set_null(out, row);
    } else {
      wudf_set_index(out, row, wudf_dict_index(in, row));
    }
  }
  return 0;
}

/* Dictionary-encodes strings, each distinct value once. */
WUDF_SCALAR(dedup_dict, "dedup_dict(utf8) -> dictionary<int32, utf8>") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_str s = wudf_get_str(in, row);
    wudf_set_dict_str(out, row, s.data, s.size);
  }
  return 0;
}

/* Decodes a dictionary of int64 (a null value is a null row). */
WUDF_SCALAR(decode_dict, "decode_dict(dictionary<uint16, int64>) -> int64") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* dictionary = wudf_dictionary(in);
  for (int64_t row = 0; row < args->length; row++) {
    int64_t index = wudf_dict_index(in, row);
    if (wudf_is_null(dictionary, index)) {
      wudf_set_null(out, row);
    } else {
      wudf_set_int64(out, row, wudf_get_int64(dictionary, index));
    }
  }
  return 0;
}

/* --------------------------------------------------------- run-end encoded */

/* Decodes run-end encoded int64 values, + 1. */
WUDF_SCALAR(ree_inc, "ree_inc(run_end_encoded<int32, int64>) -> int64 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  const wudf_input* values = wudf_ree_values(in);
  for (int64_t row = 0; row < args->length; row++) {
    int64_t physical = wudf_ree_physical(in, row);
    if (wudf_is_null(values, physical)) {
      wudf_set_null(out, row);
    } else {
      wudf_set_int64(out, row, wudf_get_int64(values, physical) + 1);
    }
  }
  return 0;
}

/* ----------------------------------------------------------------- batch */

/* Columns of many types from one batch (nulls included, since batch
 * functions see them): total = x + the length of l; text = s as a view;
 * items = l as a large list; tag = the dictionary's value re-encoded
 * without duplicates; when = t + 1 s; amount = x.05; same = l moved. */
WUDF_BATCH(mixed_batch,
           "mixed_batch(int32, utf8, list<int32>, dictionary<int8, utf8>, "
           "timestamp(ms, 'UTC')) -> struct<total: int64, text: utf8_view, "
           "items: large_list<int32>, tag: dictionary<int16, utf8>, "
           "when: timestamp(ms, 'UTC'), amount: decimal128(12, 2), same: list<int32>>") {
  const wudf_input* x = wudf_arg(args, 0);
  const wudf_input* s = wudf_arg(args, 1);
  const wudf_input* l = wudf_arg(args, 2);
  const wudf_input* d = wudf_arg(args, 3);
  const wudf_input* t = wudf_arg(args, 4);
  wudf_output* total = wudf_column(result, 0);
  wudf_output* text = wudf_column(result, 1);
  wudf_output* items = wudf_column(result, 2);
  wudf_output* tag = wudf_column(result, 3);
  wudf_output* when = wudf_column(result, 4);
  wudf_output* amount = wudf_column(result, 5);
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(x, row) || wudf_is_null(l, row)) {
      wudf_set_null(total, row);
    } else {
      wudf_range range = wudf_list_range(l, row);
      wudf_set_int64(total, row, wudf_get_int32(x, row) + (range.end - range.start));
    }
    if (wudf_is_null(s, row)) {
      wudf_set_null(text, row);
    } else {
      wudf_str value = wudf_get_str(s, row);
      wudf_set_str(text, row, value.data, value.size);
    }
    if (wudf_is_null(l, row)) {
      wudf_set_null(items, row);
    } else {
      wudf_range range = wudf_list_range(l, row);
      wudf_output* values = wudf_output_list_values(items);
      for (int64_t i = range.start; i < range.end; i++) {
        append_int32(values, wudf_list_values(l), i);
      }
      wudf_list_end_row(items, row);
    }
    if (wudf_is_null(d, row) || wudf_is_null(wudf_dictionary(d), wudf_dict_index(d, row))) {
      wudf_set_null(tag, row);
    } else {
      wudf_str value = wudf_get_str(wudf_dictionary(d), wudf_dict_index(d, row));
      wudf_set_dict_str(tag, row, value.data, value.size);
    }
    if (wudf_is_null(t, row)) {
      wudf_set_null(when, row);
    } else {
      wudf_set_timestamp(when, row, wudf_get_timestamp(t, row) + 1000);
    }
    if (wudf_is_null(x, row)) {
      wudf_set_null(amount, row);
    } else {
      int64_t value = wudf_get_int32(x, row);
      wudf_set_decimal128(amount, row,
                          wudf_decimal128_from_int64(value * 100 + (value < 0 ? -5 : 5)));
    }
  }
  return wudf_output_take_input(wudf_column(result, 6), l);
}

/* The rows whose x is even (a result with fewer rows than the batch), with
 * the list and the string of that row. */
WUDF_BATCH(even_rows, "even_rows(int32, utf8, list<int32>) -> "
                      "struct<x: int32, s: large_utf8, l: list<int32>>") {
  const wudf_input* x = wudf_arg(args, 0);
  const wudf_input* s = wudf_arg(args, 1);
  const wudf_input* l = wudf_arg(args, 2);
  wudf_output* out_x = wudf_column(result, 0);
  wudf_output* out_s = wudf_column(result, 1);
  wudf_output* out_l = wudf_column(result, 2);
  int64_t kept = 0;
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(x, row) || wudf_get_int32(x, row) % 2 != 0) continue;
    wudf_set_int32(out_x, kept, wudf_get_int32(x, row));
    if (wudf_is_null(s, row)) {
      wudf_set_null(out_s, kept);
    } else {
      wudf_str value = wudf_get_str(s, row);
      wudf_set_str(out_s, kept, value.data, value.size);
    }
    if (wudf_is_null(l, row)) {
      wudf_set_null(out_l, kept);
    } else {
      wudf_range range = wudf_list_range(l, row);
      for (int64_t i = range.start; i < range.end; i++) {
        append_int32(wudf_output_list_values(out_l), wudf_list_values(l), i);
      }
      wudf_list_end_row(out_l, kept);
    }
    kept++;
  }
  return 0;
}

/* ----------------------------------------------------- inline setters */

/* The paths of guest.h's inline setters: a row set null and then set again
 * (the checked path makes it valid), a row only set null, and rows set in
 * place (the inline path). Row r of the int64 argument x gives, by r % 3:
 * 0 -> 2x (null, then set), 1 -> null, 2 -> 2x. */
WUDF_SCALAR(setter_paths, "setter_paths(int64) -> int64") {
  const int64_t* x = wudf_values_int64(wudf_arg(args, 0));
  for (int64_t row = 0; row < args->length; row++) {
    if (row % 3 != 2) wudf_set_null(out, row);
    if (row % 3 != 1) wudf_set_int64(out, row, 2 * x[row]);
  }
  return 0;
}

/* Appends through the setters of a batch result (not presized): the first
 * row grows the column (checked path), the next ones fill reserved room
 * (inline path), then a row two past the end (checked: the rows between
 * are zero). Column f is set in place with the float setter and padded. */
WUDF_BATCH(setter_appends, "setter_appends(int64) -> struct<v: int64, f: float64>") {
  const int64_t* x = wudf_values_int64(wudf_arg(args, 0));
  wudf_output* v = wudf_column(result, 0);
  wudf_output* f = wudf_column(result, 1);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int64(v, v->length, x[row]);
    wudf_set_float64(f, row, (double)x[row] / 2);
  }
  wudf_set_int64(v, v->length + 2, -1);
  return 0;
}

/* A float setter on an int64 result fails the call (the inline path checks
 * the type as the checked one does). */
WUDF_SCALAR(wrong_float_setter, "wrong_float_setter(int32) -> int64") {
  wudf_set_float64(out, 0, 1.0);
  return 0;
}

/* A setter of another width on a fixed-width result fails the call, and
 * later setters of the right width then change nothing. */
WUDF_SCALAR(wrong_width_setter, "wrong_width_setter(int32) -> int64") {
  wudf_set_int32(out, 0, 1);
  wudf_set_int64(out, 0, 1);
  return 0;
}

/* --------------------------------------------------------------- misuse */

/* Builders the SDK does not have fail the call with a message. */
WUDF_SCALAR(build_union, "build_union(int32) -> sparse_union<i: int32, s: utf8>") {
  wudf_set_int32(wudf_output_child(out, 0), 0, 1);
  wudf_set_null(out, 0);
  return 0;
}

/* A setter of the wrong type fails the call. */
WUDF_SCALAR(wrong_setter, "wrong_setter(int32) -> utf8") {
  wudf_set_int32(out, 0, 1);
  return 0;
}

/* Moving an argument of another type fails the call. */
WUDF_SCALAR(take_wrong_type, "take_wrong_type(int32) -> int64") {
  return wudf_output_take_input(out, wudf_arg(args, 0));
}
