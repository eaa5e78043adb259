/*
 * upper.c -- benchmark kernel: upper(utf8), ASCII letters to upper case,
 * every other byte unchanged. A string kernel: offsets in, offsets and
 * bytes out.
 *
 * Native twin: native_upper in bench/suite/native.c.
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
