/*
 * series.c -- benchmark kernel: a table function, series(start, stop), the
 * integers start .. stop of each input row (as PostgreSQL's
 * generate_series). The suite gives 16 values per input row, so a batch of
 * N rows is N output rows from N / 16 input rows, in chunks of 65,536.
 *
 * Native twin: native_series in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_TABLE(series, "series(int32 start, int32 stop) -> setof int32") {
  int32_t start = wudf_get_int32(wudf_arg(args, 0), row);
  int32_t stop = wudf_get_int32(wudf_arg(args, 1), row);
  /* A row resumed in a later chunk has emitted rows already. */
  for (int64_t value = (int64_t)start + table->emitted; value <= stop; value++) {
    int64_t at = wudf_table_emit(table);
    if (at < 0) return 0; /* the chunk is full */
    wudf_set_int32(wudf_table_column(table, 0), at, (int32_t)value);
  }
  return 0;
}
