/*
 * strings.c -- string UDFs with nulls.
 *
 * upper(utf8) is strict: a null input gives null without the guest seeing it.
 * concat(utf8, utf8) is called on null input and decides itself: a null
 * argument counts as empty, and the result is null only when both are null.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(upper, "upper(utf8) -> utf8") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_str s = wudf_get_str(in, row);
    char* target = wudf_set_str_uninit(out, row, s.size);
    if (target == NULL) return wudf_error("upper: out of memory");
    for (size_t i = 0; i < s.size; i++) {
      char c = s.data[i];
      target[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
  }
  return 0;
}

WUDF_SCALAR(concat, "concat(utf8, utf8) -> utf8 CALLED ON NULL INPUT") {
  const wudf_input* left = wudf_arg(args, 0);
  const wudf_input* right = wudf_arg(args, 1);
  for (int64_t row = 0; row < args->length; row++) {
    int left_null = wudf_is_null(left, row), right_null = wudf_is_null(right, row);
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
