/*
 * append.h -- a column of one flat type built by appending rows of arrays
 * of that type and null rows: fixed-width values (not booleans), or
 * strings and binary with 32- or 64-bit offsets. The scalar call assembles
 * the results of many guest calls with it, each appended while it is still
 * in the CPU's cache and then released, where keeping them all and
 * gathering them at the end would read every byte a second time from
 * memory (udf/scalar.c).
 *
 * The validity and values (or offsets) buffers are allocated once for the
 * rows the column will have; the data of strings grows by doubling. The
 * export moves the buffers into the exported array: nothing is copied.
 */
#ifndef WUDF_ARROW_APPEND_H
#define WUDF_ARROW_APPEND_H

#include <stdint.h>

#include "../common/common.h"

struct wudf__append {
  uint8_t layout;         /* WUDF__LAYOUT_FIXED, _BINARY or _LARGE_BINARY */
  int64_t width;          /* FIXED: bytes of a value; else of an offset */
  int64_t capacity;       /* rows the column may get */
  int64_t length;         /* rows so far */
  int64_t null_count;
  uint8_t* validity;      /* NULL while no row is null */
  uint8_t* values;        /* FIXED: values; else capacity + 1 offsets */
  uint8_t* data;          /* BINARY: the bytes of the rows */
  int64_t data_size;
  int64_t data_capacity;
};

/*
 * Starts an empty column of `format` for at most `rows` rows, with room
 * for `data_hint` bytes of string data at first. 0; ENOTSUP (without a
 * message) when the format is not one of the flat types above, so that the
 * caller builds the column another way; ENOMEM.
 */
int wudf__append_init(struct wudf__append* column, const char* format, int64_t rows,
                      int64_t data_hint, struct wudf_error* error);

/*
 * Appends rows [start, start + count) of `array`, a valid array of the
 * column's format (seen through its offset). 0; ENOMEM; EOVERFLOW when 32-bit
 * offsets would pass 2^31 - 1 bytes; EINVAL past the column's capacity.
 * On failure the column is unchanged.
 */
int wudf__append_rows(struct wudf__append* column, const struct ArrowArray* array,
                      int64_t start, int64_t count, struct wudf_error* error);

/* Appends `count` null rows. 0, ENOMEM or EINVAL as above. */
int wudf__append_nulls(struct wudf__append* column, int64_t count, struct wudf_error* error);

/*
 * Exports the column: `*out` gets the rows appended, its buffers moved out
 * of `column` (which is left empty, to be freed), and `*out_schema` a copy
 * of `schema` (the column's format; its flags and metadata kept) renamed
 * `name`. Release callbacks follow the C Data Interface. ENOMEM (nothing
 * written, the column unchanged).
 */
int wudf__append_export(struct wudf__append* column, const struct ArrowSchema* schema,
                        const char* name, struct ArrowArray* out,
                        struct ArrowSchema* out_schema, struct wudf_error* error);

/* Frees what the column still owns. */
void wudf__append_free(struct wudf__append* column);

#endif /* WUDF_ARROW_APPEND_H */
