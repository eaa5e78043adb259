/*
 * udf_helpers.h -- what the UDF tests share: a small table of the flat
 * types, host arrays of those types built here (with their own release
 * callbacks, independent of the library), slices of them, calls of
 * functions by name, and typed reads of result rows. Every other type is
 * covered by the pyarrow oracle tests (tests/python).
 */
#ifndef WUDF_TEST_UDF_HELPERS_H
#define WUDF_TEST_UDF_HELPERS_H

#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "engine/engine.h"
#include "udf/call.h"
#include "helpers.h"

/* The flat types of these tests. */
enum test_type {
  TYPE_BOOL = 1, TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_UINT8, TYPE_UINT16,
  TYPE_UINT32, TYPE_UINT64, TYPE_FLOAT32, TYPE_FLOAT64, TYPE_UTF8, TYPE_LARGE_UTF8,
  TYPE_BINARY, TYPE_LARGE_BINARY, TYPE_COUNT
};

static const struct {
  const char* name;
  const char* format;
  unsigned bits; /* 0: variable length */
} test_types[TYPE_COUNT] = {
    [TYPE_BOOL] = {"bool", "b", 1},          [TYPE_INT8] = {"int8", "c", 8},
    [TYPE_INT16] = {"int16", "s", 16},       [TYPE_INT32] = {"int32", "i", 32},
    [TYPE_INT64] = {"int64", "l", 64},       [TYPE_UINT8] = {"uint8", "C", 8},
    [TYPE_UINT16] = {"uint16", "S", 16},     [TYPE_UINT32] = {"uint32", "I", 32},
    [TYPE_UINT64] = {"uint64", "L", 64},     [TYPE_FLOAT32] = {"float32", "f", 32},
    [TYPE_FLOAT64] = {"float64", "g", 64},   [TYPE_UTF8] = {"utf8", "u", 0},
    [TYPE_LARGE_UTF8] = {"large_utf8", "U", 0}, [TYPE_BINARY] = {"binary", "z", 0},
    [TYPE_LARGE_BINARY] = {"large_binary", "Z", 0},
};

static inline const char* type_name(uint8_t type) { return test_types[type].name; }
static inline const char* type_format(uint8_t type) { return test_types[type].format; }
static inline unsigned type_bit_width(uint8_t type) { return test_types[type].bits; }
static inline int type_is_variable(uint8_t type, int* large) {
  if (large != NULL) *large = type == TYPE_LARGE_UTF8 || type == TYPE_LARGE_BINARY;
  return test_types[type].bits == 0;
}

/* A host column under construction: rows are set in order (strings) or in
 * any order (fixed width); finished into an array with its own release. */
struct builder {
  uint8_t type;
  int64_t length;
  int64_t nulls;
  uint8_t* validity;
  uint8_t* values;
  uint8_t* data;
  int64_t data_size;
  int64_t rows_appended;
};

static inline void builder_init(struct builder* b, uint8_t type, int64_t length) {
  memset(b, 0, sizeof(*b));
  b->type = type;
  b->length = length;
  b->validity = calloc((size_t)length / 8 + 1, 1);
  memset(b->validity, 0xff, (size_t)length / 8 + 1);
  unsigned bits = type_bit_width(type);
  size_t values = bits == 0 ? (size_t)(length + 1) * 8 : bits == 1 ? (size_t)length / 8 + 1
                                                                    : (size_t)length * bits / 8;
  b->values = calloc(values + 8, 1);
  b->data = malloc(1);
  ASSERT(b->validity != NULL && b->values != NULL && b->data != NULL);
}

static inline void builder_set_null(struct builder* b, int64_t row) {
  b->validity[row / 8] &= (uint8_t)~(1u << (row % 8));
  b->nulls++;
}

static inline uint8_t* builder_value(struct builder* b, int64_t row) {
  return b->values + (size_t)row * (type_bit_width(b->type) / 8);
}

/* Strings: rows before `row` not yet appended become empty. */
static inline void builder_append(struct builder* b, int64_t row, const void* bytes,
                                  int64_t size) {
  int large;
  type_is_variable(b->type, &large);
  b->data = realloc(b->data, (size_t)(b->data_size + size + 1));
  ASSERT(b->data != NULL);
  memcpy(b->data + b->data_size, bytes, (size_t)size);
  for (; b->rows_appended <= row; b->rows_appended++) {
    int64_t end = b->data_size + (b->rows_appended == row ? size : 0);
    if (large) {
      memcpy(b->values + (size_t)(b->rows_appended + 1) * 8, &end, 8);
    } else {
      int32_t end32 = (int32_t)end;
      memcpy(b->values + (size_t)(b->rows_appended + 1) * 4, &end32, 4);
    }
  }
  b->data_size += size;
}

static inline void builder_free_array(struct ArrowArray* array) {
  for (int64_t i = 0; i < array->n_buffers; i++) free((void*)array->buffers[i]);
  free(array->buffers);
  array->release = NULL;
}

static inline void builder_free_schema(struct ArrowSchema* schema) {
  free((void*)schema->name);
  schema->release = NULL;
}

/* A host array and its schema, released by column_release. */
struct column {
  struct ArrowArray array;
  struct ArrowSchema schema;
};

static inline struct column builder_finish(struct builder* b, const char* name) {
  struct column column;
  memset(&column, 0, sizeof(column));
  if (type_is_variable(b->type, NULL)) builder_append(b, b->length - 1, "", 0);
  int variable = type_is_variable(b->type, NULL);
  column.array.length = b->length;
  column.array.null_count = b->nulls;
  column.array.n_buffers = variable ? 3 : 2;
  column.array.buffers = calloc(3, sizeof(void*));
  ASSERT(column.array.buffers != NULL);
  if (b->nulls > 0) {
    column.array.buffers[0] = b->validity;
  } else {
    free(b->validity);
  }
  column.array.buffers[1] = b->values;
  if (variable) {
    column.array.buffers[2] = b->data;
  } else {
    free(b->data);
  }
  column.array.release = builder_free_array;
  column.schema.format = type_format(b->type);
  column.schema.name = strdup(name);
  column.schema.flags = ARROW_FLAG_NULLABLE;
  column.schema.release = builder_free_schema;
  return column;
}

static inline void struct_free_array(struct ArrowArray* array) {
  for (int64_t i = 0; i < array->n_children; i++) {
    if (array->children[i]->release != NULL) array->children[i]->release(array->children[i]);
    free(array->children[i]);
  }
  free(array->children);
  free(array->buffers);
  array->release = NULL;
}

static inline void struct_free_schema(struct ArrowSchema* schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    if (schema->children[i]->release != NULL) schema->children[i]->release(schema->children[i]);
    free(schema->children[i]);
  }
  free(schema->children);
  schema->release = NULL;
}

/* A struct column of `count` columns moved in (their release becomes the
 * struct's), `length` rows, no nulls. */
static inline struct column make_struct(int64_t length, int count, struct column* columns) {
  struct column out;
  memset(&out, 0, sizeof(out));
  out.array.length = length;
  out.array.n_buffers = 1;
  out.array.buffers = calloc(1, sizeof(void*));
  out.array.n_children = count;
  out.array.children = calloc((size_t)count, sizeof(struct ArrowArray*));
  out.array.release = struct_free_array;
  out.schema.format = "+s";
  out.schema.name = "";
  out.schema.n_children = count;
  out.schema.children = calloc((size_t)count, sizeof(struct ArrowSchema*));
  out.schema.release = struct_free_schema;
  ASSERT(out.array.buffers != NULL && out.array.children != NULL &&
              out.schema.children != NULL);
  for (int i = 0; i < count; i++) {
    out.array.children[i] = malloc(sizeof(struct ArrowArray));
    out.schema.children[i] = malloc(sizeof(struct ArrowSchema));
    ASSERT(out.array.children[i] != NULL && out.schema.children[i] != NULL);
    *out.array.children[i] = columns[i].array;
    *out.schema.children[i] = columns[i].schema;
    columns[i].array.release = NULL;
    columns[i].schema.release = NULL;
  }
  return out;
}

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
    case TYPE_INT8: { int8_t x = (int8_t)v; memcpy(out, &x, 1); break; }
    case TYPE_UINT8: { uint8_t x = (uint8_t)v; memcpy(out, &x, 1); break; }
    case TYPE_INT16: { int16_t x = (int16_t)v; memcpy(out, &x, 2); break; }
    case TYPE_UINT16: { uint16_t x = (uint16_t)v; memcpy(out, &x, 2); break; }
    case TYPE_INT32: { int32_t x = (int32_t)v; memcpy(out, &x, 4); break; }
    case TYPE_UINT32: { uint32_t x = (uint32_t)v; memcpy(out, &x, 4); break; }
    case TYPE_INT64: { int64_t x = v * 1000003; memcpy(out, &x, 8); break; }
    case TYPE_UINT64: { uint64_t x = (uint64_t)v * 1000003u; memcpy(out, &x, 8); break; }
    case TYPE_FLOAT32: { float x = (float)d; memcpy(out, &x, 4); break; }
    case TYPE_FLOAT64: { double x = d; memcpy(out, &x, 8); break; }
  }
}

/* Builds a column of `type` and `length` rows of the pattern. */
static inline struct column make_column(uint8_t type, int64_t length, int null_every) {
  struct builder builder;
  builder_init(&builder, type, length);
  for (int64_t i = 0; i < length; i++) {
    if (pattern_is_null(i, null_every)) {
      builder_set_null(&builder, i);
    } else if (type_is_variable(type, NULL)) {
      char text[128];
      pattern_string(i, text, sizeof(text));
      builder_append(&builder, i, text, (int64_t)strlen(text));
    } else if (type == TYPE_BOOL) {
      if (i % 3 == 0) builder.values[i / 8] |= (uint8_t)(1u << (i % 8));
    } else {
      pattern_fixed(type, i, builder_value(&builder, i));
    }
  }
  return builder_finish(&builder, "input");
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
  int status = wudf_module_find_function(wudf__instance_module(instance), name, &index, error);
  if (status != 0) return status;
  memset(result, 0, sizeof(*result));
  return wudf_function_call(instance, index, count, args, schemas, options, &result->array,
                            &result->schema, error);
}

#endif /* WUDF_TEST_UDF_HELPERS_H */
