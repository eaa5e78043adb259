/*
 * poly.c -- benchmark kernel: a float polynomial, p(x) = 1 + x/2 - x^2/3 +
 * x^3/4 - x^4/5 + x^5/6 - x^6/7 + x^7/8, by Horner's rule over a float64
 * column. Arithmetic-bound and vectorisable; the order of operations is
 * fixed so that every runner computes the same bits.
 *
 * Native twin: native_poly in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(poly, "poly(float64) -> float64") {
  const double* x = wudf_values_float64(wudf_arg(args, 0));
  double* result = wudf_output_values_float64(out, args->length);
  if (result == NULL) return wudf_error("poly: out of memory");
  for (int64_t row = 0; row < args->length; row++) {
    double v = x[row];
    double p = 1.0 / 8;
    p = p * v - 1.0 / 7;
    p = p * v + 1.0 / 6;
    p = p * v - 1.0 / 5;
    p = p * v + 1.0 / 4;
    p = p * v - 1.0 / 3;
    p = p * v + 1.0 / 2;
    p = p * v + 1.0;
    result[row] = p;
  }
  return 0;
}
