/*
 * udf_helpers.h -- what the UDF tests share: host arrays built with the
 * library's own column builder (so they have host release callbacks), slices
 * of them, calls of functions by name, and typed reads of result rows.
 */
#ifndef WUDF_TEST_UDF_HELPERS_H
#define WUDF_TEST_UDF_HELPERS_H

#include <errno.h>
#include <string.h>

#include "arrow/column.h"
#include "engine/engine.h"
#include "helpers.h"
#include "udf/signature.h"

/* A host array and its schema, released by column_release. */
struct column {
  struct ArrowArray array;
  struct ArrowSchema schema;
};

static inline void column_release(struct column* column) {
  if (column->array.release != NULL) column->array.release(&column->array);
  if (column->schema.release != NULL) column->schema.release(&column->schema);
}

/* The test pattern: row i is null when null_every > 0 and i % null_every ==
 * null_every / 2; otherwise fixed-width rows hold i * 37 - 1000 (wrapped to
 * the type; floats get i * 1.5 - 100), bools i % 3 == 0, strings "s<i>"
 * repeated i % 4 times (so some are empty). */
static inline int pattern_is_null(int64_t i, int null_every) {
  return null_every > 0 && i % null_every == null_every / 2;
}

static inline void pattern_string(int64_t i, char* out, size_t size) {
  out[0] = '\0';
  size_t used = 0;
  for (int64_t k = 0; k < i % 4; k++) {
    used += (size_t)snprintf(out + used, size - used, "s%" PRId64, i);
  }
}

static inline void pattern_fixed(uint8_t type, int64_t i, void* out) {
  int64_t v = i * 37 - 1000;
  double d = (double)i * 1.5 - 100;
  switch (type) {
    case WUDF__TYPE_INT8: { int8_t x = (int8_t)v; memcpy(out, &x, 1); break; }
    case WUDF__TYPE_UINT8: { uint8_t x = (uint8_t)v; memcpy(out, &x, 1); break; }
    case WUDF__TYPE_INT16: { int16_t x = (int16_t)v; memcpy(out, &x, 2); break; }
    case WUDF__TYPE_UINT16: { uint16_t x = (uint16_t)v; memcpy(out, &x, 2); break; }
    case WUDF__TYPE_INT32: { int32_t x = (int32_t)v; memcpy(out, &x, 4); break; }
    case WUDF__TYPE_UINT32: { uint32_t x = (uint32_t)v; memcpy(out, &x, 4); break; }
    case WUDF__TYPE_INT64: { int64_t x = v * 1000003; memcpy(out, &x, 8); break; }
    case WUDF__TYPE_UINT64: { uint64_t x = (uint64_t)v * 1000003u; memcpy(out, &x, 8); break; }
    case WUDF__TYPE_FLOAT32: { float x = (float)d; memcpy(out, &x, 4); break; }
    case WUDF__TYPE_FLOAT64: { double x = d; memcpy(out, &x, 8); break; }
  }
}

/* Builds a column of `type` and `length` rows of the pattern. */
static inline struct column make_column(uint8_t type, int64_t length, int null_every) {
  struct wudf__column builder;
  struct column column;
  ASSERT_EQ(wudf__column_init(&builder, type, length), 0);
  for (int64_t i = 0; i < length; i++) {
    if (pattern_is_null(i, null_every)) {
      ASSERT_EQ(wudf__column_set_null(&builder, i), 0);
    } else if (wudf__type_is_variable(type, NULL)) {
      char text[128];
      pattern_string(i, text, sizeof(text));
      ASSERT_EQ(wudf__column_append(&builder, i, (const uint8_t*)text, (int64_t)strlen(text)), 0);
    } else if (type == WUDF__TYPE_BOOL) {
      if (i % 3 == 0) builder.values[i / 8] |= (uint8_t)(1u << (i % 8));
    } else {
      pattern_fixed(type, i, wudf__column_value(&builder, i));
    }
  }
  ASSERT_EQ(wudf__column_finish(&builder, "input", &column.array, &column.schema), 0);
  return column;
}

/* A borrowed view of rows [offset, offset + length) of `column`. */
static inline struct ArrowArray slice_of(const struct column* column, int64_t offset,
                                         int64_t length) {
  struct ArrowArray view = column->array;
  view.offset += offset;
  view.length = length;
  view.null_count = -1;
  return view;
}

static inline int row_is_null(const struct ArrowArray* array, int64_t row) {
  const uint8_t* validity = array->buffers[0];
  int64_t i = array->offset + row;
  return validity != NULL && !((validity[i / 8] >> (i % 8)) & 1);
}

/* The bytes of fixed-width row `row` (width bytes). */
static inline const uint8_t* row_bytes(const struct ArrowArray* array, int64_t row,
                                       size_t width) {
  return (const uint8_t*)array->buffers[1] + (size_t)(array->offset + row) * width;
}

static inline int row_bool(const struct ArrowArray* array, int64_t row) {
  int64_t i = array->offset + row;
  return (((const uint8_t*)array->buffers[1])[i / 8] >> (i % 8)) & 1;
}

/* The bytes of string row `row` of a utf8/binary (large or not) array. */
static inline const char* row_string(const struct ArrowArray* array, int large, int64_t row,
                                     int64_t* size) {
  int64_t i = array->offset + row, start, end;
  if (large) {
    start = ((const int64_t*)array->buffers[1])[i];
    end = ((const int64_t*)array->buffers[1])[i + 1];
  } else {
    start = ((const int32_t*)array->buffers[1])[i];
    end = ((const int32_t*)array->buffers[1])[i + 1];
  }
  *size = end - start;
  return (const char*)array->buffers[2] + start;
}

/* Calls function `name` on `count` arguments; returns the status. */
static inline int call_function(struct wudf_instance* instance, const char* name,
                                uint32_t count, const struct ArrowArray* const* args,
                                const struct ArrowSchema* const* schemas,
                                const struct wudf_call_options* options,
                                struct column* result, struct wudf_error* error) {
  uint32_t index;
  int status = wudf_module_find_function(instance->module, name, &index, error);
  if (status != 0) return status;
  memset(result, 0, sizeof(*result));
  return wudf_function_call(instance, index, count, args, schemas, options, &result->array,
                            &result->schema, error);
}

#endif /* WUDF_TEST_UDF_HELPERS_H */
