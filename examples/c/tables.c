/*
 * tables.c -- table functions (set-returning): each input row yields zero or
 * more output rows, handed to the host in bounded chunks.
 *
 *   series(start, stop)  the integers start, start + 1, ..., stop (as
 *                        PostgreSQL's generate_series; none when start >
 *                        stop). series(1, 3) gives 1, 2, 3.
 *   split(text, sep)     the pieces of text between occurrences of sep (as
 *                        Python's str.split(sep)): split('a,b,,c', ',')
 *                        gives 'a', 'b', '', 'c'; an empty separator gives
 *                        the whole text.
 *
 * Both are strict: a row with a null argument yields no rows. Every output
 * row also carries input_row, the argument row it came from.
 *
 *   $ wasmudf run tables.wasm series 1,5 3,4
 */
#include <wasmudf/guest.h>

/* The rows of one input row are emitted at once (wudf_table_emit_rows) and
 * written straight into the column's values. */
WUDF_TABLE_FN(series, "(int32 start, int32 stop) -> setof int32") {
  int32_t start = wudf_get_int32(wudf_arg(args, 0), row);
  int32_t stop = wudf_get_int32(wudf_arg(args, 1), row);
  /* A row resumed in a later chunk has emitted rows already. */
  int64_t next = (int64_t)start + table->emitted;
  if (next > stop) return 0;
  int64_t first;
  int64_t added = wudf_table_emit_rows(table, (int64_t)stop - next + 1, &first);
  int32_t* values = wudf_output_values_int32(wudf_table_column(table, 0), first + added);
  if (values == NULL) return wudf_error("series: out of memory");
  for (int64_t k = 0; k < added; k++) values[first + k] = (int32_t)(next + k);
  return 0; /* when not all were added, the chunk is full: called again */
}

/* The first occurrence of `sep` in text[from, size), or size. */
static size_t find(wudf_str text, size_t from, wudf_str sep) {
  for (size_t at = from; at + sep.size <= text.size; at++) {
    if (memcmp(text.data + at, sep.data, sep.size) == 0) return at;
  }
  return text.size;
}

WUDF_TABLE_FN(split, "(utf8 text, utf8 separator) -> setof utf8") {
  wudf_str text = wudf_get_str(wudf_arg(args, 0), row);
  wudf_str sep = wudf_get_str(wudf_arg(args, 1), row);
  /* table->state: the byte where the next piece starts. */
  size_t at = (size_t)table->state;
  for (;;) {
    size_t end = sep.size > 0 ? find(text, at, sep) : text.size;
    int64_t out = wudf_table_emit(table);
    if (out < 0) {
      table->state = (int64_t)at;
      return 0;
    }
    wudf_set_str(wudf_table_column(table, 0), out, text.data + at, end - at);
    if (end == text.size) return 0;
    at = end + sep.size;
  }
}
