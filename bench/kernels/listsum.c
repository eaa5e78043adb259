/*
 * listsum.c -- benchmark kernel: the sum of each row's list<int64> (0 to 8
 * values, 4 on average; an empty list sums to 0; sums wrap). A nested
 * input: offsets into a child column.
 *
 * Native twin: native_listsum in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(listsum, "listsum(list<int64>) -> int64") {
  const wudf_input* lists = wudf_arg(args, 0);
  const uint64_t* values = (const uint64_t*)wudf_values_int64(wudf_list_values(lists));
  int64_t* result = wudf_output_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_range range = wudf_list_range(lists, row);
    uint64_t sum = 0;
    for (int64_t i = range.start; i < range.end; i++) sum += values[i];
    result[row] = (int64_t)sum;
  }
  return 0;
}
