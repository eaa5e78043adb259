/*
 * append.c -- the column builder of append.h: flat rows appended from
 * arrays of the column's type (validity bits copied at any bit offset,
 * string offsets rebased onto the column's data) and null rows, exported by
 * moving the buffers into the array.
 */
#include "append.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bits.h"
#include "format.h"
#include "gather.h"

int wudf__append_init(struct wudf__append* column, const char* format, int64_t rows,
                      int64_t data_hint, struct wudf_error* error) {
  memset(column, 0, sizeof(*column));
  struct wudf__format parsed;
  if (format == NULL || wudf__format_parse(format, &parsed) != 0) return ENOTSUP;
  if (parsed.layout == WUDF__LAYOUT_FIXED && parsed.byte_width > 0) {
    column->width = parsed.byte_width;
  } else if (parsed.layout == WUDF__LAYOUT_BINARY) {
    column->width = 4;
  } else if (parsed.layout == WUDF__LAYOUT_LARGE_BINARY) {
    column->width = 8;
  } else {
    return ENOTSUP;
  }
  column->layout = parsed.layout;
  int offsets = parsed.layout != WUDF__LAYOUT_FIXED;
  if (rows < 0 || rows >= (INT64_MAX - 1) / column->width) {
    return wudf__set_error(error, EOVERFLOW, "a column of %" PRId64 " rows", rows);
  }
  column->capacity = rows;
  column->values = wudf__malloc((size_t)((rows + offsets) * column->width));
  if (offsets && column->values != NULL) {
    if (data_hint < 1) data_hint = 1;
    column->data = wudf__malloc((size_t)data_hint);
    column->data_capacity = data_hint;
    wudf__offset_set(column->values, column->width == 8, 0, 0);
  }
  if (column->values == NULL || (offsets && column->data == NULL)) {
    wudf__append_free(column);
    return wudf__set_error(error, ENOMEM, "out of memory for a column of %" PRId64 " rows",
                           rows);
  }
  return 0;
}

/* Makes room for `count` more rows. EINVAL past the capacity. */
static int wudf__append_room(const struct wudf__append* column, int64_t count,
                             struct wudf_error* error) {
  if (count < 0 || count > column->capacity - column->length) {
    return wudf__set_error(error, EINVAL, "%" PRId64 " rows appended to a column of %" PRId64
                           " rows with room for %" PRId64, count, column->length,
                           column->capacity);
  }
  return 0;
}

/* Allocates the validity bitmap, every row so far valid. ENOMEM. */
static int wudf__append_validity(struct wudf__append* column, struct wudf_error* error) {
  if (column->validity != NULL) return 0;
  column->validity = wudf__malloc((size_t)((column->capacity + 7) / 8));
  if (column->validity == NULL) {
    return wudf__set_error(error, ENOMEM, "out of memory for a validity bitmap");
  }
  wudf__bits_fill(column->validity, 0, column->length, 1);
  return 0;
}

/* Makes the data buffer hold `size` bytes, doubling. ENOMEM. */
static int wudf__append_data(struct wudf__append* column, int64_t size,
                             struct wudf_error* error) {
  if (size <= column->data_capacity) return 0;
  int64_t capacity = column->data_capacity;
  while (capacity < size) capacity = capacity > INT64_MAX / 2 ? size : 2 * capacity;
  uint8_t* grown = wudf__realloc(column->data, (size_t)capacity);
  if (grown == NULL) {
    return wudf__set_error(error, ENOMEM, "out of memory for %" PRId64 " bytes of strings",
                           capacity);
  }
  column->data = grown;
  column->data_capacity = capacity;
  return 0;
}

int wudf__append_rows(struct wudf__append* column, const struct ArrowArray* array,
                      int64_t start, int64_t count, struct wudf_error* error) {
  int status = wudf__append_room(column, count, error);
  if (status != 0 || count == 0) return status;
  int64_t first = array->offset + start;
  const uint8_t* bits = array->null_count != 0 ? array->buffers[0] : NULL;
  int64_t valid = bits != NULL ? wudf__bits_count(bits, first, count) : count;
  if (valid < count && (status = wudf__append_validity(column, error)) != 0) return status;
  if (column->layout == WUDF__LAYOUT_FIXED) {
    memcpy(column->values + column->length * column->width,
           (const uint8_t*)array->buffers[1] + first * column->width,
           (size_t)(count * column->width));
  } else {
    int large = column->width == 8;
    const uint8_t* offsets = array->buffers[1];
    int64_t from = wudf__offset_get(offsets, large, first);
    int64_t bytes = wudf__offset_get(offsets, large, first + count) - from;
    if (!large && bytes > INT32_MAX - column->data_size) {
      return wudf__set_error(error, EOVERFLOW, "the strings pass the 2147483647 bytes 32-bit "
                             "offsets reach (%" PRId64 " bytes)", column->data_size + bytes);
    }
    if ((status = wudf__append_data(column, column->data_size + bytes, error)) != 0) {
      return status;
    }
    if (bytes > 0) memcpy(column->data + column->data_size, (const uint8_t*)array->buffers[2] + from,
                          (size_t)bytes);
    int64_t width = large ? 8 : 4;
    wudf__offsets_shift(column->values + (column->length + 1) * width,
                        offsets + (first + 1) * width, count, column->data_size - from, large);
    column->data_size += bytes;
  }
  if (column->validity != NULL) {
    if (bits != NULL) {
      wudf__bits_copy(column->validity, column->length, bits, first, count);
    } else {
      wudf__bits_fill(column->validity, column->length, count, 1);
    }
  }
  column->null_count += count - valid;
  column->length += count;
  return 0;
}

int wudf__append_nulls(struct wudf__append* column, int64_t count, struct wudf_error* error) {
  int status = wudf__append_room(column, count, error);
  if (status != 0 || count == 0) return status;
  if ((status = wudf__append_validity(column, error)) != 0) return status;
  wudf__bits_fill(column->validity, column->length, count, 0);
  if (column->layout == WUDF__LAYOUT_FIXED) {
    memset(column->values + column->length * column->width, 0,
           (size_t)(count * column->width));
  } else {
    for (int64_t i = 1; i <= count; i++) {
      wudf__offset_set(column->values, column->width == 8, column->length + i,
                       column->data_size);
    }
  }
  column->null_count += count;
  column->length += count;
  return 0;
}

/* What an exported column's array owns. */
struct wudf__append_owner {
  const void* buffers[3];
  void* owned[3];
};

static void wudf__append_release(struct ArrowArray* array) {
  struct wudf__append_owner* owner = array->private_data;
  for (int i = 0; i < 3; i++) wudf__free(owner->owned[i]);
  wudf__free(owner);
  array->release = NULL;
}

int wudf__append_export(struct wudf__append* column, const struct ArrowSchema* schema,
                        const char* name, struct ArrowArray* out,
                        struct ArrowSchema* out_schema, struct wudf_error* error) {
  struct wudf__append_owner* owner = wudf__calloc(1, sizeof(*owner));
  if (owner == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  int status = wudf__schema_export(schema, name, out_schema, error);
  if (status != 0) {
    wudf__free(owner);
    return status;
  }
  if (column->null_count == 0) {
    wudf__free(column->validity);
    column->validity = NULL;
  }
  owner->owned[0] = column->validity;
  owner->owned[1] = column->values;
  owner->owned[2] = column->data;
  for (int i = 0; i < 3; i++) owner->buffers[i] = owner->owned[i];
  memset(out, 0, sizeof(*out));
  out->length = column->length;
  out->null_count = column->null_count;
  out->n_buffers = column->layout == WUDF__LAYOUT_FIXED ? 2 : 3;
  out->buffers = owner->buffers;
  out->release = wudf__append_release;
  out->private_data = owner;
  column->validity = column->values = column->data = NULL;
  return 0;
}

void wudf__append_free(struct wudf__append* column) {
  wudf__free(column->validity);
  wudf__free(column->values);
  wudf__free(column->data);
  memset(column, 0, sizeof(*column));
}
