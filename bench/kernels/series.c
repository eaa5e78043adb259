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
  int64_t want = (int64_t)stop - start - table->emitted + 1;
  if (want <= 0) return 0;
  int32_t from = (int32_t)((int64_t)start + table->emitted);
  int64_t first;
  int64_t added = wudf_table_emit_rows(table, want, &first);
  if (added == 0) return 0; /* the chunk is full */
  int32_t* values = wudf_output_values_int32(wudf_table_column(table, 0), first + added);
  if (values == NULL) return wudf_error("series: out of memory");
  for (int64_t k = 0; k < added; k++) values[first + k] = (int32_t)(from + k);
  return 0;
}
