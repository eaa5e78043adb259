/*
 * import.c -- validation of guest results and their copy into host columns
 * (see import.h). Checks come first, in the order a reader would need them:
 * the struct is in memory, its fields are sane for the type, every buffer
 * the type needs is in memory at the size the length and offset require,
 * offsets are monotonic and in range, strings are UTF-8, the null count
 * agrees with the bitmap. Only then are bytes copied.
 */
#include "import.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../arrow/bits.h"
#include "../udf/signature.h"

/* The largest logical index a guest column may reach: memory is at most
 * 4 GiB, so no valid column of this ABI has more bits than this. */
#define WUDF__MAX_INDEX ((int64_t)1 << 35)

static int wudf__reject(struct wudf_error* error, const char* path, const char* format,
                        ...) WUDF__PRINTF(3, 4);

static int wudf__reject(struct wudf_error* error, const char* path, const char* format,
                        ...) {
  if (error == NULL) return EPROTO;
  char detail[sizeof(error->message)];
  va_list args;
  va_start(args, format);
  vsnprintf(detail, sizeof(detail), format, args);
  va_end(args);
  return wudf__set_error(error, EPROTO, "%s: %s", path, detail);
}

int wudf__guest_string(const struct wudf__guest_memory* memory, uint32_t at, char* out,
                       size_t size) {
  if (size == 0) return -1;
  out[0] = '\0';
  if (at == 0 || at >= memory->size) return -1;
  size_t i = 0;
  while (i + 1 < size && at + i < memory->size && memory->base[at + i] != 0) {
    out[i] = (char)memory->base[at + i];
    i++;
  }
  out[i] = '\0';
  return 0;
}

/* Checks the schema at `schema`: in memory, not released, format `format`,
 * `children` children, no dictionary. */
static int wudf__check_schema(const struct wudf__guest_memory* memory, uint32_t schema,
                              const char* format, int64_t children, const char* path,
                              struct wudf_error* error) {
  if (!wudf__guest_range_ok(memory, schema, WUDF__SCHEMA_SIZE)) {
    return wudf__reject(error, path, "the ArrowSchema at %" PRIu32
                        " is outside linear memory", schema);
  }
  if (wudf__load_u32(memory, schema + WUDF__SCHEMA_RELEASE) == 0) {
    return wudf__reject(error, path, "schema.release is null (no result, or "
                        "already released)");
  }
  uint32_t format_at = wudf__load_u32(memory, schema + WUDF__SCHEMA_FORMAT);
  char actual[16];
  size_t i = 0;
  for (; i < sizeof(actual); i++) {
    if (format_at == 0 || !wudf__guest_range_ok(memory, (uint64_t)format_at + i, 1)) {
      return wudf__reject(error, path, "schema.format is outside linear memory");
    }
    actual[i] = (char)memory->base[format_at + i];
    if (actual[i] == '\0') break;
  }
  if (i == sizeof(actual)) {
    return wudf__reject(error, path, "schema.format is not a short NUL-terminated "
                        "string");
  }
  if (strcmp(actual, format) != 0) {
    wudf__neutralise_controls(actual);
    return wudf__reject(error, path, "wrong type: format '%s', expected '%s'", actual,
                        format);
  }
  int64_t n_children = wudf__load_i64(memory, schema + WUDF__SCHEMA_N_CHILDREN);
  if (n_children != children) {
    return wudf__reject(error, path, "schema.n_children is %" PRId64 ", expected %" PRId64,
                        n_children, children);
  }
  if (wudf__load_u32(memory, schema + WUDF__SCHEMA_DICTIONARY) != 0) {
    return wudf__reject(error, path, "schema.dictionary is set for a type without one");
  }
  return 0;
}

/* The common fields of an ArrowArray: in memory, not released, the length,
 * a sane offset and null count, `n_buffers` buffers whose pointer array is in
 * memory, `n_children` children, no dictionary. */
static int wudf__check_array_header(const struct wudf__guest_memory* memory, uint32_t array,
                                    int64_t length, int64_t n_buffers, int64_t n_children,
                                    const char* path, int64_t* offset, int64_t* null_count,
                                    uint32_t* buffers, struct wudf_error* error) {
  if (!wudf__guest_range_ok(memory, array, WUDF__ARRAY_SIZE)) {
    return wudf__reject(error, path, "the ArrowArray at %" PRIu32
                        " is outside linear memory", array);
  }
  if (wudf__load_u32(memory, array + WUDF__ARRAY_RELEASE) == 0) {
    return wudf__reject(error, path, "array.release is null (no result, or already "
                        "released)");
  }
  int64_t actual_length = wudf__load_i64(memory, array + WUDF__ARRAY_LENGTH);
  if (actual_length < 0) {
    return wudf__reject(error, path, "negative length %" PRId64, actual_length);
  }
  if (length >= 0 && actual_length != length) {
    return wudf__reject(error, path, "length is %" PRId64 ", expected %" PRId64,
                        actual_length, length);
  }
  *offset = wudf__load_i64(memory, array + WUDF__ARRAY_OFFSET);
  if (*offset < 0 || *offset > WUDF__MAX_INDEX || actual_length > WUDF__MAX_INDEX) {
    return wudf__reject(error, path, "offset %" PRId64 " or length %" PRId64
                        " out of range", *offset, actual_length);
  }
  *null_count = wudf__load_i64(memory, array + WUDF__ARRAY_NULL_COUNT);
  if (*null_count < -1 || *null_count > actual_length) {
    return wudf__reject(error, path, "null_count %" PRId64 " out of range for length %"
                        PRId64, *null_count, actual_length);
  }
  int64_t actual_buffers = wudf__load_i64(memory, array + WUDF__ARRAY_N_BUFFERS);
  if (actual_buffers != n_buffers) {
    return wudf__reject(error, path, "n_buffers is %" PRId64 ", the type has %" PRId64,
                        actual_buffers, n_buffers);
  }
  int64_t actual_children = wudf__load_i64(memory, array + WUDF__ARRAY_N_CHILDREN);
  if (actual_children != n_children) {
    return wudf__reject(error, path, "n_children is %" PRId64 ", expected %" PRId64,
                        actual_children, n_children);
  }
  if (wudf__load_u32(memory, array + WUDF__ARRAY_DICTIONARY) != 0) {
    return wudf__reject(error, path, "dictionary is set for a type without one");
  }
  *buffers = wudf__load_u32(memory, array + WUDF__ARRAY_BUFFERS);
  if (*buffers == 0 || !wudf__guest_range_ok(memory, *buffers, 4 * (uint64_t)n_buffers)) {
    return wudf__reject(error, path, "the buffers array is outside linear memory");
  }
  return 0;
}

/* Checks that buffer `index` of the column holds `bytes` bytes in memory and
 * returns its address in `*at`. A buffer of 0 bytes may be null. */
static int wudf__check_buffer(const struct wudf__guest_memory* memory, uint32_t buffers,
                              int index, uint64_t bytes, const char* path, uint32_t* at,
                              struct wudf_error* error) {
  *at = wudf__load_u32(memory, buffers + 4 * (uint32_t)index);
  if (bytes == 0) return 0;
  if (*at == 0) {
    return wudf__reject(error, path, "buffers[%d] is null but %" PRIu64
                        " bytes are needed", index, bytes);
  }
  if (!wudf__guest_range_ok(memory, *at, bytes)) {
    return wudf__reject(error, path, "buffers[%d]: %" PRIu64 " bytes at %" PRIu32
                        " are outside linear memory (%" PRIu64 " bytes)",
                        index, bytes, *at, memory->size);
  }
  return 0;
}

int wudf__import_column(const struct wudf__guest_memory* memory, uint32_t array,
                        uint32_t schema, uint8_t type, int64_t length,
                        int64_t parent_offset, const char* path,
                        const struct wudf__import_target* target,
                        struct wudf_error* error) {
  int large = 0;
  int variable = wudf__type_is_variable(type, &large);
  unsigned bit_width = wudf__type_bit_width(type);
  int64_t n_buffers = variable ? 3 : 2;
  if (schema != 0) {
    int status = wudf__check_schema(memory, schema, wudf__type_format(type), 0, path, error);
    if (status != 0) return status;
  }
  int64_t offset = 0, null_count = 0;
  uint32_t buffers = 0;
  int status = wudf__check_array_header(memory, array, -1, n_buffers, 0, path, &offset,
                                        &null_count, &buffers, error);
  if (status != 0) return status;
  int64_t actual_length = wudf__load_i64(memory, array + WUDF__ARRAY_LENGTH);
  if (schema != 0 && actual_length != length) {
    /* A top-level column has exactly the rows of the call. */
    return wudf__reject(error, path, "length is %" PRId64 ", expected %" PRId64,
                        actual_length, length);
  }
  /* The window of rows this column contributes. */
  int64_t start = offset + parent_offset;
  if (parent_offset < 0 || parent_offset > WUDF__MAX_INDEX ||
      parent_offset + length > actual_length) {
    return wudf__reject(error, path, "length %" PRId64 " is shorter than the %" PRId64
                        " rows its parent needs", actual_length, parent_offset + length);
  }
  uint64_t end = (uint64_t)(start + length); /* < 2^37, no overflow */

  /* Validity. */
  uint32_t validity = wudf__load_u32(memory, buffers);
  if (validity == 0) {
    if (null_count > 0) {
      return wudf__reject(error, path, "null_count is %" PRId64 " but there is no "
                          "validity buffer", null_count);
    }
  } else {
    status = wudf__check_buffer(memory, buffers, 0, (end + 7) / 8, path, &validity, error);
    if (status != 0) return status;
  }
  const uint8_t* validity_bits = validity != 0 && length > 0 ? memory->base + validity : NULL;
  int64_t nulls = validity_bits ? length - wudf__bits_count(validity_bits, start, length) : 0;
  /* The declared count describes the array's own rows; check it when the
   * window is the whole array. */
  if (null_count >= 0 && parent_offset == 0 && length == actual_length && nulls != null_count) {
    return wudf__reject(error, path, "null_count is %" PRId64 " but the validity "
                        "bitmap has %" PRId64 " nulls", null_count, nulls);
  }

  /* Values. */
  uint32_t values = 0, data = 0;
  if (variable) {
    uint64_t offset_width = large ? 8 : 4;
    status = wudf__check_buffer(memory, buffers, 1, length == 0 ? 0 : (end + 1) * offset_width,
                                path, &values, error);
    if (status != 0) return status;
    int64_t previous = length == 0 ? 0 : wudf__offset_get(memory->base + values, large, start);
    if (previous < 0) {
      return wudf__reject(error, path, "offsets[%" PRId64 "] is negative (%" PRId64 ")",
                          start, previous);
    }
    int64_t first = previous;
    for (int64_t i = 1; i <= length; i++) {
      int64_t next = wudf__offset_get(memory->base + values, large, start + i);
      if (next < previous) {
        return wudf__reject(error, path, "offsets decrease at index %" PRId64 " (%" PRId64
                            " after %" PRId64 ")", start + i, next, previous);
      }
      previous = next;
    }
    uint64_t data_bytes = (uint64_t)previous;
    status = wudf__check_buffer(memory, buffers, 2, previous > first ? data_bytes : 0, path,
                                &data, error);
    if (status != 0) {
      if (previous > first && data != 0) {
        return wudf__reject(error, path, "offsets reach %" PRId64 ", past the end of the "
                            "data in linear memory", previous);
      }
      return status;
    }
    /* All-ASCII data (the common case) is valid UTF-8 whatever the offsets. */
    int ascii = 1;
    if (type == WUDF__TYPE_UTF8 || type == WUDF__TYPE_LARGE_UTF8) {
      const uint8_t* bytes = memory->base + data + first;
      int64_t size = previous - first, k = 0;
      uint64_t high = 0;
      for (; k + 8 <= size; k += 8) {
        uint64_t word;
        memcpy(&word, bytes + k, 8);
        high |= word;
      }
      for (; k < size; k++) high |= bytes[k];
      ascii = (high & 0x8080808080808080ull) == 0;
    }
    if (!ascii) {
      for (int64_t i = 0; i < length; i++) {
        if (validity_bits != NULL && !wudf__bit_get(validity_bits, start + i)) continue;
        int64_t a = wudf__offset_get(memory->base + values, large, start + i);
        int64_t b = wudf__offset_get(memory->base + values, large, start + i + 1);
        size_t bad;
        if (!wudf__utf8_valid(memory->base + data + a, (size_t)(b - a), &bad)) {
          return wudf__reject(error, path, "row %" PRId64 " is not valid UTF-8 (byte %zu)",
                              i, bad);
        }
      }
    }
  } else {
    uint64_t bytes = bit_width == 1 ? (end + 7) / 8 : end * (bit_width / 8);
    status = wudf__check_buffer(memory, buffers, 1, length == 0 ? 0 : bytes, path, &values,
                                error);
    if (status != 0) return status;
  }

  /* Everything is checked: copy. */
  struct wudf__column* column = target->column;
  if (variable && target->rows == NULL && validity_bits == NULL && length > 0) {
    /* Contiguous rows without nulls: one copy of the bytes. */
    int appended = wudf__column_append_rows(
        column, target->start, length, memory->base + values + (uint64_t)start * (large ? 8 : 4),
        large, memory->base + data);
    if (appended != 0) {
      return wudf__set_error(error, appended, "%s: the result is too large for its type, or "
                             "out of memory", path);
    }
    return 0;
  }
  for (int64_t i = 0; i < length; i++) {
    int64_t row = target->start + (target->rows ? target->rows[i] : i);
    int valid = validity_bits == NULL || wudf__bit_get(validity_bits, start + i);
    if (!valid) {
      if (wudf__column_set_null(column, row) != 0) {
        return wudf__set_error(error, ENOMEM, "out of memory");
      }
      continue;
    }
    if (variable) {
      int64_t a = wudf__offset_get(memory->base + values, large, start + i);
      int64_t b = wudf__offset_get(memory->base + values, large, start + i + 1);
      int append = wudf__column_append(column, row, memory->base + data + a, b - a);
      if (append != 0) {
        return wudf__set_error(error, append, "%s: the result is too large for its "
                               "type, or out of memory", path);
      }
    } else if (bit_width == 1) {
      wudf__bit_set(column->values, row, wudf__bit_get(memory->base + values, start + i));
    } else if (target->rows == NULL && validity_bits == NULL) {
      /* Contiguous and without nulls: one copy. */
      size_t width = bit_width / 8;
      memcpy(wudf__column_value(column, row), memory->base + values + (uint64_t)start * width,
             (size_t)length * width);
      break;
    } else {
      size_t width = bit_width / 8;
      memcpy(wudf__column_value(column, row),
             memory->base + values + (uint64_t)(start + i) * width, width);
    }
  }
  return 0;
}

int wudf__import_struct(const struct wudf__guest_memory* memory, uint32_t array,
                        uint32_t schema, uint32_t count, const uint8_t* types,
                        const char* path, int64_t max_length, int64_t* length,
                        int64_t* offset, uint32_t* children, uint32_t* child_schemas,
                        struct wudf_error* error) {
  int status = wudf__check_schema(memory, schema, "+s", count, path, error);
  if (status != 0) return status;
  int64_t null_count = 0;
  uint32_t buffers = 0;
  status = wudf__check_array_header(memory, array, -1, 1, count, path, offset, &null_count,
                                    &buffers, error);
  if (status != 0) return status;
  *length = wudf__load_i64(memory, array + WUDF__ARRAY_LENGTH);
  if (*length > max_length) {
    return wudf__reject(error, path, "%" PRId64 " rows, more than the limit of %" PRId64,
                        *length, max_length);
  }
  if (wudf__load_u32(memory, buffers) != 0 && null_count != 0) {
    return wudf__reject(error, path, "a struct result must have no nulls");
  }
  uint32_t array_children = wudf__load_u32(memory, array + WUDF__ARRAY_CHILDREN);
  uint32_t schema_children = wudf__load_u32(memory, schema + WUDF__SCHEMA_CHILDREN);
  if (!wudf__guest_range_ok(memory, array_children, 4 * (uint64_t)count) ||
      !wudf__guest_range_ok(memory, schema_children, 4 * (uint64_t)count) ||
      (count > 0 && (array_children == 0 || schema_children == 0))) {
    return wudf__reject(error, path, "the children arrays are outside linear memory");
  }
  for (uint32_t i = 0; i < count; i++) {
    children[i] = wudf__load_u32(memory, array_children + 4 * i);
    child_schemas[i] = wudf__load_u32(memory, schema_children + 4 * i);
    char child_path[96];
    snprintf(child_path, sizeof(child_path), "%s.children[%u]", path, i);
    status = wudf__check_schema(memory, child_schemas[i], wudf__type_format(types[i]), 0,
                                child_path, error);
    if (status != 0) return status;
  }
  return 0;
}
