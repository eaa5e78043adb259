/*
 * rowwise.c -- scalar UDFs in the C SDK's row-wise form: a plain C function
 * of one row's values, declared once. WUDF_SCALAR_ROWWISE(NAME, RESULT,
 * TYPE(ARG), ...) writes the signature from the declaration
 * ("gcd(int32 a, int32 b) -> int32"), exports the function and runs the row
 * loop; rows where an argument is null are null and the body never sees
 * them. Errors are raised with wudf_error; the call then fails with that
 * message once the loop ends.
 *
 *   wasmudf build rowwise.c -o rowwise.wasm && wasmudf list rowwise.wasm
 *   wasmudf run rowwise.wasm gcd 12,null,7 18,5,21     # 6, null, 7
 */
#include <wasmudf/guest.h>

WUDF_SCALAR_ROWWISE(gcd, int32, int32(a), int32(b)) {
  int64_t x = a, y = b; /* 64-bit: |INT32_MIN| fits */
  while (y != 0) {
    int64_t t = x % y;
    x = y;
    y = t;
  }
  x = x < 0 ? -x : x;
  if (x > INT32_MAX) wudf_error("gcd: the result does not fit int32");
  return (int32_t)x;
}

/* Fahrenheit from Celsius; DETERMINISTIC lets an engine fold constants. */
WUDF_SCALAR_ROWWISE_WITH(fahrenheit, "DETERMINISTIC", float64, float64(celsius)) {
  return celsius * 9.0 / 5.0 + 32.0;
}
