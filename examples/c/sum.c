/*
 * sum.c -- the seed's sum as a batch function: the sum of the non-null values
 * of an int32 column, as one row. Int32 [1, null, 3] gives 4.
 */
#include <wasmudf/guest.h>

WUDF_BATCH_FN(sum, "(int32) -> struct<sum: int64>") {
  const wudf_input* values = wudf_arg(args, 0);
  int64_t total = 0;
  for (int64_t row = 0; row < args->length; row++) {
    if (!wudf_is_null(values, row)) total += wudf_get_int32(values, row);
  }
  wudf_set_int64(wudf_column(result, 0), 0, total);
  return 0;
}
