/*
 * nulladd.c -- benchmark kernel: a null-heavy add. add(a, b) of two int64
 * columns with about half of each column null; the function is called on
 * null input and makes a row null when either argument is, so every row
 * crosses the boundary with its validity bitmaps. Sums wrap (two's
 * complement).
 *
 * Native twin: native_nulladd in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(nulladd, "nulladd(int64, int64) -> int64 CALLED ON NULL INPUT") {
  const wudf_input* a = wudf_arg(args, 0);
  const wudf_input* b = wudf_arg(args, 1);
  const uint64_t* x = (const uint64_t*)wudf_values_int64(a);
  const uint64_t* y = (const uint64_t*)wudf_values_int64(b);
  int64_t* result = wudf_output_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    result[row] = (int64_t)(x[row] + y[row]);
  }
  if (a->validity == NULL && b->validity == NULL) return 0;
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(a, row) || wudf_is_null(b, row)) wudf_set_null(out, row);
  }
  return 0;
}
