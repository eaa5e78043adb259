/*
 * sdk_debug.c -- a guest built as a debug SDK build (WUDF_DEBUG defined
 * before the header), for test_guest_sdk: checked accessors let a correct
 * function run, and trap with a message naming the function, the argument
 * and the accessor when one reads an argument of another type.
 */
#define WUDF_DEBUG 1
#include <wasmudf/guest.h>

/* Correct: the checks pass. */
WUDF_SCALAR_FN(checked_ok, "(int32 x, utf8 s) -> int64") {
  const wudf_input* x = wudf_arg(args, 0);
  const wudf_input* s = wudf_arg(args, 1);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int64(out, row, (int64_t)wudf_get_int32(x, row) + (int64_t)wudf_get_str(s, row).size);
  }
  return 0;
}

/* Wrong: reads the utf8 argument as int32. */
WUDF_SCALAR_FN(misread, "(int32 x, utf8 text) -> int32") {
  const wudf_input* text = wudf_arg(args, 1);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int32(out, row, wudf_get_int32(text, row));
  }
  return 0;
}

/* Wrong: a float getter on an int64 argument. */
WUDF_SCALAR_FN(misread_float, "(int64 n) -> float64") {
  const double* values = wudf_values_float64(wudf_arg(args, 0));
  for (int64_t row = 0; row < args->length; row++) wudf_set_float64(out, row, values[row]);
  return 0;
}

/* Wrong: an argument that does not exist. */
WUDF_SCALAR_FN(bad_index, "(int32 x) -> int32") {
  const wudf_input* missing = wudf_arg(args, 2);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int32(out, row, wudf_get_int32(missing, row));
  }
  return 0;
}
