/*
 * percall.c -- the guest of bench_call: functions whose work is as small as
 * a function's can be (an int32 identity, an int32 add), so that the time
 * of a call is the per-call path of the host, and one whose work is all
 * compute (gcd), for the threads measurement.
 *
 *   wasmudf build bench/guests/percall.c -o percall.wasm
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(id32, "id32(int32) -> int32") {
  const int32_t* a = wudf_values_int32(wudf_arg(args, 0));
  int32_t* result = wudf_output_values(out);
  for (int64_t row = 0; row < args->length; row++) result[row] = a[row];
  return 0;
}

WUDF_SCALAR(add32, "add32(int32, int32) -> int32") {
  const int32_t* a = wudf_values_int32(wudf_arg(args, 0));
  const int32_t* b = wudf_values_int32(wudf_arg(args, 1));
  int32_t* result = wudf_output_values(out);
  for (int64_t row = 0; row < args->length; row++) result[row] = a[row] + b[row];
  return 0;
}

WUDF_SCALAR(gcd, "gcd(int32, int32) -> int32") {
  const int32_t* a = wudf_values_int32(wudf_arg(args, 0));
  const int32_t* b = wudf_values_int32(wudf_arg(args, 1));
  int32_t* result = wudf_output_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    int64_t x = a[row], y = b[row];
    while (y != 0) {
      int64_t t = x % y;
      x = y;
      y = t;
    }
    result[row] = (int32_t)(x < 0 ? -x : x);
  }
  return 0;
}
