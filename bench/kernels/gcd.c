/*
 * gcd.c -- benchmark kernel: the greatest common divisor of two int32
 * columns (Euclid's loop per row). A compute-bound scalar function whose
 * inputs and result are plain fixed-width values.
 *
 * Native twin: native_gcd in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(gcd, "gcd(int32, int32) -> int32") {
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
    result[row] = (int32_t)(x < 0 ? -x : x);
  }
  return 0;
}
