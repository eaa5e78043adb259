/*
 * strings.c -- string UDFs with nulls, written the fast way: whole input
 * columns (wudf_utf8_offsets, wudf_utf8_data), one reservation of the
 * result's rows and bytes (wudf_output_reserve_str), then appends that
 * check nothing (wudf_append_str_uninit).
 *
 * upper(utf8) is strict: a null input gives null without the guest seeing it.
 * concat(utf8, utf8) is called on null input and decides itself: a null
 * argument counts as empty, and the result is null only when both are null.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR_FN(upper, "(utf8) -> utf8") {
  const wudf_input* in = wudf_arg(args, 0);
  const int32_t* offsets = wudf_utf8_offsets(in);
  const char* data = wudf_utf8_data(in);
  int64_t rows = args->length;
  if (wudf_output_reserve_str(out, rows, offsets[rows] - offsets[0]) != 0) {
    return wudf_error("upper: out of memory");
  }
  for (int64_t row = 0; row < rows; row++) {
    const char* s = data + offsets[row];
    int32_t size = offsets[row + 1] - offsets[row];
    char* target = wudf_append_str_uninit(out, (size_t)size);
    for (int32_t i = 0; i < size; i++) {
      char c = s[i];
      target[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
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
