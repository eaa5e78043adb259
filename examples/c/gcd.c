/*
 * gcd.c -- a scalar UDF: the greatest common divisor of two int32 columns.
 * Strict (the default): rows where either argument is null are null, and the
 * function never sees them.
 *
 * The same as a row-wise function (its arguments named in the signature):
 *
 *   WUDF_SCALAR_ROWWISE(gcd, int32, int32(a), int32(b)) {
 *     int64_t x = a, y = b;
 *     while (y != 0) { int64_t t = x % y; x = y; y = t; }
 *     return (int32_t)(x < 0 ? -x : x);   // without the INT32_MIN check
 *   }
 *
 *   wasmudf build gcd.c -o gcd.wasm && wasmudf list gcd.wasm
 */
#include <wasmudf/guest.h>

WUDF_SCALAR_FN(gcd, "(int32, int32) -> int32") {
  /* Whole columns: the arguments' values and the result's, one pointer
   * each, no call per row. */
  const int32_t* a = wudf_values_int32(wudf_arg(args, 0));
  const int32_t* b = wudf_values_int32(wudf_arg(args, 1));
  int32_t* result = wudf_output_values_int32(out, args->length);
  if (result == NULL) return wudf_error("gcd: out of memory");
  for (int64_t row = 0; row < args->length; row++) {
    int64_t x = a[row], y = b[row]; /* 64-bit: |INT32_MIN| fits */
    while (y != 0) {
      int64_t t = x % y;
      x = y;
      y = t;
    }
    x = x < 0 ? -x : x;
    if (x > INT32_MAX) return wudf_error("gcd: result of row %lld does not fit int32", (long long)row);
    result[row] = (int32_t)x;
  }
  return 0;
}
