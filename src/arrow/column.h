/*
 * column.h -- host-owned Arrow arrays: a builder for one column of a known
 * number of rows, filled chunk by chunk from guest results, and finished
 * into an ArrowArray + ArrowSchema whose release callbacks free host memory
 * (through the allocation funnel).
 *
 * Fixed-width and boolean rows may be written in any order. String and
 * binary rows are appended in row order; rows skipped over become empty.
 * A row is valid until wudf__column_set_null.
 */
#ifndef WUDF_ARROW_COLUMN_H
#define WUDF_ARROW_COLUMN_H

#include <stdint.h>

#include "../common/common.h"

struct wudf__column {
  uint8_t type;          /* enum wudf__type, not STRUCT */
  unsigned bit_width;    /* of fixed-width types; 0 for strings */
  int large;             /* 64-bit offsets */
  int64_t length;
  int64_t null_count;
  uint8_t* validity;     /* NULL until the first null */
  uint8_t* values;       /* values, bits, or length + 1 offsets */
  uint8_t* data;         /* string bytes */
  int64_t data_size;
  int64_t data_capacity;
  int64_t rows_appended; /* strings: rows whose end offset is written */
};

/* Prepares a column of `length` rows, all valid and zero. 0 or ENOMEM. */
int wudf__column_init(struct wudf__column* column, uint8_t type, int64_t length);

/* Frees what the column still owns. */
void wudf__column_free(struct wudf__column* column);

/* Marks `row` null. 0 or ENOMEM. */
int wudf__column_set_null(struct wudf__column* column, int64_t row);

/* Fixed-width rows: the address of row `row`'s value (bit_width >= 8). */
static inline uint8_t* wudf__column_value(struct wudf__column* column, int64_t row) {
  return column->values + (size_t)row * (column->bit_width / 8);
}

/* Strings: appends `size` bytes as row `row` (rows in increasing order; the
 * rows in between become empty). 0, ENOMEM, or EOVERFLOW past the offsets'
 * range. */
int wudf__column_append(struct wudf__column* column, int64_t row, const uint8_t* bytes,
                        int64_t size);

/* Strings: appends rows [row, row + count), all valid, whose `count` + 1
 * offsets (32- or 64-bit as `large_offsets` says; read unaligned) index
 * `data`: one copy of the bytes and a rebase of the offsets. Same errors as
 * wudf__column_append. */
int wudf__column_append_rows(struct wudf__column* column, int64_t row, int64_t count,
                             const uint8_t* offsets, int large_offsets, const uint8_t* data);

/* Moves the column into a host-owned array and schema named `name`. On
 * failure (ENOMEM) the column is unchanged and out/out_schema untouched. */
int wudf__column_finish(struct wudf__column* column, const char* name,
                        struct ArrowArray* out, struct ArrowSchema* out_schema);

/* Makes a host-owned struct array of `count` finished children (moved in:
 * their release becomes the parent's business) and `length` rows, and its
 * schema from the children's schemas (also moved). On failure (ENOMEM) the
 * children are left as they were. */
int wudf__struct_finish(int64_t length, uint32_t count, struct ArrowArray* children,
                        struct ArrowSchema* child_schemas, struct ArrowArray* out,
                        struct ArrowSchema* out_schema);

#endif /* WUDF_ARROW_COLUMN_H */
