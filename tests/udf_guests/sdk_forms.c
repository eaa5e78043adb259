/*
 * sdk_forms.c -- a guest of the C SDK's shorter forms and fast paths, for
 * test_guest_sdk: every function is declared with its name written once
 * (WUDF_*_FN) or row-wise (WUDF_SCALAR_ROWWISE), and the columnar ones use
 * the whole-column fast paths (input values and bitmaps, output values and
 * validity, reserved string appends, table rows emitted in bulk).
 * `parses` reports how many signatures the SDK has parsed, so the test can
 * see that alternating calls do not parse again.
 */
#include <wasmudf/guest.h>

/* ----------------------------------------------------------- row-wise */

WUDF_SCALAR_ROWWISE(gcd_rw, int32, int32(a), int32(b)) {
  int64_t x = a, y = b;
  while (y != 0) {
    int64_t t = x % y;
    x = y;
    y = t;
  }
  return (int32_t)(x < 0 ? -x : x);
}

/* Upper-cases `s` when `loud`; the result lives in a static buffer (the
 * SDK copies it as soon as the function returns). */
WUDF_SCALAR_ROWWISE(shout, utf8, utf8(s), bool(loud)) {
  static char buffer[256];
  if (!loud || s.size > sizeof(buffer)) return s;
  for (size_t i = 0; i < s.size; i++) {
    char c = s.data[i];
    buffer[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
  }
  wudf_str upper = {buffer, s.size};
  return upper;
}

WUDF_SCALAR_ROWWISE(hypot2, float64, float64(x), float64(y)) { return x * x + y * y; }

WUDF_SCALAR_ROWWISE(is_even, bool, int64(x)) { return x % 2 == 0; }

WUDF_SCALAR_ROWWISE(narrow, uint8, uint16(x), int8(bias)) { return (uint8_t)(x + bias); }

WUDF_SCALAR_ROWWISE_WITH(add_days, "DETERMINISTIC", date32, date32(day), int32(days)) {
  return day + days;
}

WUDF_SCALAR_ROWWISE(fail_at_13, int32, int32(x)) {
  if (x == 13) wudf_error("fail_at_13: met 13");
  return x;
}

/* -------------------------------------------------- columnar, name once */

WUDF_SCALAR_FN(twice, "(int64 x) -> int64") {
  const int64_t* x = wudf_values_int64(wudf_arg(args, 0));
  int64_t* result = wudf_output_values_int64(out, args->length);
  if (result == NULL) return wudf_error("twice: out of memory");
  for (int64_t row = 0; row < args->length; row++) result[row] = 2 * x[row];
  return 0;
}

WUDF_SCALAR_FN(parses, "(int32) -> int64") {
  int64_t* result = wudf_output_values_int64(out, args->length);
  if (result == NULL) return wudf_error("parses: out of memory");
  for (int64_t row = 0; row < args->length; row++) result[row] = wudf_sdk_signature_parses();
  return 0;
}

/* Nulls stay null, through the bitmaps: the input's read with its offset
 * folded in, the output's written directly. */
WUDF_SCALAR_FN(halve, "(float64 x) -> float64 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  const double* x = wudf_values_float64(in);
  wudf_bitmap valid = wudf_validity(in);
  double* result = wudf_output_values_float64(out, args->length);
  if (result == NULL) return wudf_error("halve: out of memory");
  if (!wudf_has_nulls(in)) {
    for (int64_t row = 0; row < args->length; row++) result[row] = x[row] / 2;
    return 0;
  }
  uint8_t* out_valid = wudf_output_validity(out);
  if (out_valid == NULL) return wudf_error("halve: out of memory");
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_bitmap_get(valid, row)) {
      result[row] = x[row] / 2;
    } else {
      wudf_bit_clear(out_valid, row);
    }
  }
  return 0;
}

/* upper(utf8) with one reservation and unchecked appends; nulls appended
 * as nulls. */
WUDF_SCALAR_FN(upper_fast, "(utf8 s) -> utf8 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  const int32_t* offsets = wudf_utf8_offsets(in);
  const char* data = wudf_utf8_data(in);
  if (wudf_output_reserve_str(out, args->length, offsets[args->length] - offsets[0]) != 0) {
    return wudf_error("upper_fast: out of memory");
  }
  for (int64_t row = 0; row < args->length; row++) {
    if (!wudf_is_valid(in, row)) {
      wudf_append_null(out);
      continue;
    }
    int32_t start = offsets[row], size = offsets[row + 1] - start;
    char* target = wudf_append_str_uninit(out, (size_t)size);
    for (int32_t i = 0; i < size; i++) {
      char c = data[start + i];
      target[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
  }
  return 0;
}

/* lower(utf8) keeping every size and null: the input's offsets and
 * validity taken over, one loop over all the bytes. */
WUDF_SCALAR_FN(lower_sized, "(utf8 s) -> utf8 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  const int32_t* offsets = wudf_utf8_offsets(in);
  const char* from = wudf_utf8_data(in) + offsets[0];
  char* to = wudf_output_str_sized_like(out, in);
  if (to == NULL) return wudf_error("lower_sized: out of memory");
  for (int32_t i = 0; i < offsets[args->length] - offsets[0]; i++) {
    char c = from[i];
    to[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
  }
  return 0;
}

/* The first or the second string, copied with wudf_append_str. */
WUDF_SCALAR_FN(pick, "(utf8 a, utf8 b, bool first) -> utf8") {
  const wudf_input* a = wudf_arg(args, 0);
  const wudf_input* b = wudf_arg(args, 1);
  const wudf_input* first = wudf_arg(args, 2);
  int64_t bytes = (int64_t)(wudf_utf8_offsets(a)[args->length] - wudf_utf8_offsets(a)[0]) +
                  (wudf_utf8_offsets(b)[args->length] - wudf_utf8_offsets(b)[0]);
  if (wudf_output_reserve_str(out, args->length, bytes) != 0) {
    return wudf_error("pick: out of memory");
  }
  for (int64_t row = 0; row < args->length; row++) {
    wudf_str s = wudf_get_bool(first, row) ? wudf_get_utf8(a, row) : wudf_get_utf8(b, row);
    wudf_append_str(out, s.data, s.size);
  }
  return 0;
}

/* The sum of the string's bytes, read with wudf_get_utf8. */
WUDF_SCALAR_FN(byte_sum, "(binary b) -> int64") {
  const wudf_input* in = wudf_arg(args, 0);
  int64_t* result = wudf_output_values_int64(out, args->length);
  if (result == NULL) return wudf_error("byte_sum: out of memory");
  for (int64_t row = 0; row < args->length; row++) {
    wudf_str s = wudf_get_utf8(in, row);
    int64_t sum = 0;
    for (size_t i = 0; i < s.size; i++) sum += (uint8_t)s.data[i];
    result[row] = sum;
  }
  return 0;
}

WUDF_BATCH_FN(split_sign, "(int32 x) -> struct<negative: int32, rest: int32>") {
  const int32_t* x = wudf_values_int32(wudf_arg(args, 0));
  int64_t negatives = 0, rest = 0;
  for (int64_t row = 0; row < args->length; row++) {
    if (x[row] < 0) {
      wudf_set_int32(wudf_column(result, 0), negatives++, x[row]);
    } else {
      wudf_set_int32(wudf_column(result, 1), rest++, x[row]);
    }
  }
  return 0;
}

/* series(start, stop) emitting its rows in bulk. */
WUDF_TABLE_FN(range_fast, "(int32 start, int32 stop) -> setof int32") {
  int32_t start = wudf_get_int32(wudf_arg(args, 0), row);
  int32_t stop = wudf_get_int32(wudf_arg(args, 1), row);
  int64_t want = (int64_t)stop - start + 1 - table->emitted;
  if (want <= 0) return 0;
  int64_t first;
  int64_t added = wudf_table_emit_rows(table, want, &first);
  int32_t* values = wudf_output_values_int32(wudf_table_column(table, 0), first + added);
  if (values == NULL) return wudf_error("range_fast: out of memory");
  int64_t value = (int64_t)start + table->emitted - added;
  for (int64_t k = 0; k < added; k++) values[first + k] = (int32_t)(value + k);
  return 0;
}

/* ------------------------------------------------------------ aggregate */

typedef struct {
  int64_t count;
} count_state;

static int count_update(void* states, const uint32_t* groups, const wudf_args* args) {
  count_state* s = states;
  for (int64_t row = 0; row < args->length; row++) s[groups[row]].count++;
  return 0;
}

static int count_merge(void* states, const uint32_t* groups, const wudf_input* partial) {
  count_state* s = states;
  const int64_t* counts = wudf_values_int64(partial);
  for (int64_t row = 0; row < partial->length; row++) s[groups[row]].count += counts[row];
  return 0;
}

/* Empty groups are null in the result, zero in the state. */
static int count_out(const void* states, int64_t count, wudf_output* out, bool nulls) {
  const count_state* s = states;
  int64_t* values = wudf_output_values_int64(out, count);
  uint8_t* valid = nulls ? wudf_output_validity(out) : NULL;
  if (values == NULL || (nulls && valid == NULL)) return wudf_error("counted: out of memory");
  for (int64_t g = 0; g < count; g++) {
    values[g] = s[g].count;
    if (nulls && s[g].count == 0) wudf_bit_clear(valid, g);
  }
  return 0;
}

static int count_state_out(const void* states, int64_t count, wudf_output* out) {
  return count_out(states, count, out, false);
}

static int count_finish(const void* states, int64_t count, wudf_output* out) {
  return count_out(states, count, out, true);
}

static const wudf_aggregate_fns count_fns = {sizeof(count_state), count_update, count_merge,
                                             count_state_out, count_finish, NULL};
WUDF_AGGREGATE_FN(counted, "(int32) -> int64 STATE int64", count_fns)
