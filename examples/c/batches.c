/*
 * batches.c -- batch functions: a record batch in, a record batch of any
 * length out.
 *
 *   positive(id, value)  a filter: the rows whose value is positive (not
 *                        null, greater than 0), columns kept
 *   explode(id, items)   one row per item of each row's list (none for a
 *                        null or empty list), with its position; a null
 *                        item gives a null text
 *
 *   $ wasmudf run batches.wasm positive 1,2,3 -1.5,2.5,null
 */
#include <wasmudf/guest.h>

WUDF_BATCH(positive, "positive(int64 id, float64 value) -> struct<id: int64, value: float64>") {
  const wudf_input* ids = wudf_arg(args, 0);
  const wudf_input* values = wudf_arg(args, 1);
  wudf_output* out_ids = wudf_column(result, 0);
  wudf_output* out_values = wudf_column(result, 1);
  int64_t kept = 0;
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(values, row) || !(wudf_get_float64(values, row) > 0)) continue;
    if (wudf_is_null(ids, row)) {
      wudf_set_null(out_ids, kept);
    } else {
      wudf_set_int64(out_ids, kept, wudf_get_int64(ids, row));
    }
    wudf_set_float64(out_values, kept, wudf_get_float64(values, row));
    kept++;
  }
  return 0;
}

WUDF_BATCH(explode, "explode(int64 id, list<utf8> items) -> "
                    "struct<id: int64, position: int32, item: utf8>") {
  const wudf_input* ids = wudf_arg(args, 0);
  const wudf_input* lists = wudf_arg(args, 1);
  const wudf_input* items = wudf_child(lists, 0);
  wudf_output* out_ids = wudf_column(result, 0);
  wudf_output* out_positions = wudf_column(result, 1);
  wudf_output* out_items = wudf_column(result, 2);
  int64_t next = 0;
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(lists, row)) continue;
    wudf_range range = wudf_list_range(lists, row);
    for (int64_t at = range.start; at < range.end; at++, next++) {
      if (wudf_is_null(ids, row)) {
        wudf_set_null(out_ids, next);
      } else {
        wudf_set_int64(out_ids, next, wudf_get_int64(ids, row));
      }
      wudf_set_int32(out_positions, next, (int32_t)(at - range.start));
      if (wudf_is_null(items, at)) {
        wudf_set_null(out_items, next);
      } else {
        wudf_str item = wudf_get_str(items, at);
        wudf_set_str(out_items, next, item.data, item.size);
      }
    }
  }
  return 0;
}
