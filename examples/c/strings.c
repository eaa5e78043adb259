/*
 * strings.c -- string UDFs with nulls, written the fast way: whole input
 * columns (wudf_utf8_offsets, wudf_utf8_data); a result with the input's
 * sizes filled in one loop (wudf_output_str_sized_like), or one
 * reservation of the result's rows and bytes (wudf_output_reserve_str) and
 * then appends that check nothing (wudf_append_str_uninit).
 *
 * upper(utf8) is strict: a null input gives null without the guest seeing it.
 * concat(utf8, utf8) is called on null input and decides itself: a null
 * argument counts as empty, and the result is null only when both are null.
 */
#include <wasmudf/guest.h>

/* Eight bytes upper-cased at once: a byte of 'a' .. 'z' loses bit 5; every
 * other byte (UTF-8 sequences included) stays as it is. No byte's sum
 * carries into the next. */
static uint64_t upper8(uint64_t bytes) {
  const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  uint64_t low7 = bytes & ~high;
  uint64_t from_a = low7 + (0x80 - 'a') * ones;     /* high bit: byte >= 'a' */
  uint64_t past_z = low7 + (0x80 - 'z' - 1) * ones; /* high bit: byte > 'z' */
  uint64_t lower = from_a & ~past_z & ~bytes & high;
  return bytes ^ (lower >> 2);                      /* 0x80 >> 2 is bit 5 */
}

/* Upper-casing keeps every string's size: the result takes the input's
 * offsets (wudf_output_str_sized_like) and one loop maps all the bytes,
 * eight at a time. */
WUDF_SCALAR_FN(upper, "(utf8) -> utf8") {
  const wudf_input* in = wudf_arg(args, 0);
  const int32_t* offsets = wudf_utf8_offsets(in);
  const char* from = wudf_utf8_data(in) + offsets[0];
  int32_t size = offsets[args->length] - offsets[0];
  char* to = wudf_output_str_sized_like(out, in);
  if (to == NULL) return wudf_error("upper: out of memory");
  int32_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t bytes;
    memcpy(&bytes, from + i, 8);
    bytes = upper8(bytes);
    memcpy(to + i, &bytes, 8);
  }
  for (; i < size; i++) {
    char c = from[i];
    to[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  return 0;
}

WUDF_SCALAR_FN(concat, "(utf8, utf8) -> utf8 CALLED ON NULL INPUT") {
  const wudf_input* left = wudf_arg(args, 0);
  const wudf_input* right = wudf_arg(args, 1);
  const int32_t* left_offsets = wudf_utf8_offsets(left);
  const int32_t* right_offsets = wudf_utf8_offsets(right);
  int64_t rows = args->length;
  /* At most the bytes of both columns (null rows may hold bytes too). */
  int64_t bytes = (int64_t)(left_offsets[rows] - left_offsets[0]) +
                  (right_offsets[rows] - right_offsets[0]);
  if (wudf_output_reserve_str(out, rows, bytes) != 0) return wudf_error("concat: out of memory");
  for (int64_t row = 0; row < rows; row++) {
    bool left_valid = wudf_is_valid(left, row), right_valid = wudf_is_valid(right, row);
    if (!left_valid && !right_valid) {
      wudf_append_null(out);
      continue;
    }
    wudf_str a = left_valid ? wudf_get_utf8(left, row) : (wudf_str){"", 0};
    wudf_str b = right_valid ? wudf_get_utf8(right, row) : (wudf_str){"", 0};
    char* target = wudf_append_str_uninit(out, a.size + b.size);
    memcpy(target, a.data, a.size);
    memcpy(target + a.size, b.data, b.size);
  }
  return 0;
}
