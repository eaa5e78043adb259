/*
 * concat.c -- benchmark kernel: concat(utf8, utf8) called on null input: a
 * null argument counts as empty and the result is null only when both are
 * null (about one row in a hundred; one in ten of each column is null).
 *
 * Native twin: native_concat in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(concat, "concat(utf8, utf8) -> utf8 CALLED ON NULL INPUT") {
  const wudf_input* left = wudf_arg(args, 0);
  const wudf_input* right = wudf_arg(args, 1);
  const int32_t* left_offsets = wudf_utf8_offsets(left);
  const int32_t* right_offsets = wudf_utf8_offsets(right);
  int64_t rows = args->length;
  /* One reservation: at most the bytes of both columns (null rows may
   * hold bytes too), then appends that check nothing. */
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
    wudf_copy_bytes(target, a.data, a.size);
    wudf_copy_bytes(target + a.size, b.data, b.size);
  }
  return 0;
}
