/*
 * checked_divide.c -- a UDF that fails with a message: integer division that
 * reports division by zero (and the overflow of INT64_MIN / -1) as an error
 * naming the row, instead of trapping.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(checked_divide, "checked_divide(int64, int64) -> int64") {
  const int64_t* a = wudf_values_int64(wudf_arg(args, 0));
  const int64_t* b = wudf_values_int64(wudf_arg(args, 1));
  int64_t* result = wudf_output_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    if (b[row] == 0) return wudf_error("division by zero in row %lld", (long long)row);
    if (a[row] == INT64_MIN && b[row] == -1) {
      return wudf_error("integer overflow in row %lld", (long long)row);
    }
    result[row] = a[row] / b[row];
  }
  return 0;
}
