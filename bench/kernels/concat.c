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
  for (int64_t row = 0; row < args->length; row++) {
    bool left_null = wudf_is_null(left, row), right_null = wudf_is_null(right, row);
    if (left_null && right_null) {
      wudf_set_null(out, row);
      continue;
    }
    wudf_str a = left_null ? (wudf_str){"", 0} : wudf_get_str(left, row);
    wudf_str b = right_null ? (wudf_str){"", 0} : wudf_get_str(right, row);
    char* target = wudf_set_str_uninit(out, row, a.size + b.size);
    if (target == NULL) return wudf_error("concat: out of memory");
    memcpy(target, a.data, a.size);
    memcpy(target + a.size, b.data, b.size);
  }
  return 0;
}
