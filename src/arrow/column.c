/*
 * column.c -- host-owned Arrow arrays (see column.h): the column builder and
 * the release callbacks of what it produces. Everything is allocated through
 * the library's allocation funnel; a released array frees exactly what its
 * private data lists.
 */
#include "column.h"

#include <errno.h>
#include <string.h>

#include "../udf/signature.h"
#include "bits.h"

/* What a host array owns. */
struct wudf__host_array {
  const void* buffers[3];
  void* owned[3];
  struct ArrowArray** children;   /* child_storage, by pointer */
  struct ArrowArray* child_storage;
};

struct wudf__host_schema {
  char* name;
  struct ArrowSchema** children;
  struct ArrowSchema* child_storage;
};

static void wudf__host_array_release(struct ArrowArray* array) {
  struct wudf__host_array* owned = array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    if (array->children[i]->release != NULL) array->children[i]->release(array->children[i]);
  }
  for (int i = 0; i < 3; i++) wudf__free(owned->owned[i]);
  wudf__free(owned->children);
  wudf__free(owned->child_storage);
  wudf__free(owned);
  array->release = NULL;
}

static void wudf__host_schema_release(struct ArrowSchema* schema) {
  struct wudf__host_schema* owned = schema->private_data;
  for (int64_t i = 0; i < schema->n_children; i++) {
    if (schema->children[i]->release != NULL) schema->children[i]->release(schema->children[i]);
  }
  wudf__free(owned->name);
  wudf__free(owned->children);
  wudf__free(owned->child_storage);
  wudf__free(owned);
  schema->release = NULL;
}

int wudf__column_init(struct wudf__column* column, uint8_t type, int64_t length) {
  memset(column, 0, sizeof(*column));
  if (length < 0 || length > ((int64_t)1 << 48)) return EOVERFLOW;
  column->type = type;
  column->length = length;
  column->bit_width = wudf__type_bit_width(type);
  size_t bytes;
  if (wudf__type_is_variable(type, &column->large)) {
    bytes = (size_t)(length + 1) * (column->large ? 8 : 4);
  } else if (column->bit_width == 1) {
    bytes = (size_t)(length + 7) / 8;
  } else {
    bytes = (size_t)length * (column->bit_width / 8);
  }
  column->values = wudf__calloc(1, bytes == 0 ? 1 : bytes);
  return column->values == NULL ? ENOMEM : 0;
}

void wudf__column_free(struct wudf__column* column) {
  wudf__free(column->validity);
  wudf__free(column->values);
  wudf__free(column->data);
  memset(column, 0, sizeof(*column));
}

int wudf__column_set_null(struct wudf__column* column, int64_t row) {
  if (column->validity == NULL) {
    size_t bytes = (size_t)(column->length + 7) / 8;
    column->validity = wudf__malloc(bytes == 0 ? 1 : bytes);
    if (column->validity == NULL) return ENOMEM;
    memset(column->validity, 0xff, bytes == 0 ? 1 : bytes);
  }
  if (wudf__bit_get(column->validity, row)) {
    wudf__bit_set(column->validity, row, 0);
    column->null_count++;
  }
  return 0;
}

/* Writes the end offset of row `row`. */
static void wudf__column_set_end(struct wudf__column* column, int64_t row, int64_t end) {
  wudf__offset_set(column->values, column->large, row + 1, end);
}

/* Gives rows [rows_appended, row) an empty value. */
static void wudf__column_fill_to(struct wudf__column* column, int64_t row) {
  for (int64_t i = column->rows_appended; i < row; i++) {
    wudf__column_set_end(column, i, column->data_size);
  }
  if (row > column->rows_appended) column->rows_appended = row;
}

int wudf__column_append(struct wudf__column* column, int64_t row, const uint8_t* bytes,
                        int64_t size) {
  wudf__column_fill_to(column, row);
  int64_t limit = column->large ? INT64_MAX : INT32_MAX;
  if (size > limit - column->data_size) return EOVERFLOW;
  int64_t needed = column->data_size + size;
  if (needed > column->data_capacity) {
    int64_t capacity = column->data_capacity < 1024 ? 1024 : column->data_capacity;
    while (capacity < needed) {
      capacity = capacity > INT64_MAX / 2 ? needed : capacity * 2;
    }
    uint8_t* grown = wudf__realloc(column->data, (size_t)capacity);
    if (grown == NULL) return ENOMEM;
    column->data = grown;
    column->data_capacity = capacity;
  }
  if (size > 0) memcpy(column->data + column->data_size, bytes, (size_t)size);
  column->data_size = needed;
  wudf__column_set_end(column, row, column->data_size);
  column->rows_appended = row + 1;
  return 0;
}

int wudf__column_append_rows(struct wudf__column* column, int64_t row, int64_t count,
                             const uint8_t* offsets, int large_offsets, const uint8_t* data) {
  if (count == 0) return 0;
  int64_t first = wudf__offset_get(offsets, large_offsets, 0);
  int64_t last = wudf__offset_get(offsets, large_offsets, count);
  /* One append of all the bytes makes room and fills rows before `row`. */
  int64_t base = column->data_size;
  int status = wudf__column_append(column, row, data + first, last - first);
  if (status != 0) return status;
  for (int64_t i = 1; i <= count; i++) {
    wudf__column_set_end(column, row + i - 1,
                         base + wudf__offset_get(offsets, large_offsets, i) - first);
  }
  column->rows_appended = row + count;
  return 0;
}

static int wudf__schema_init(struct ArrowSchema* schema, const char* format,
                             const char* name) {
  struct wudf__host_schema* owned = wudf__calloc(1, sizeof(*owned));
  if (owned == NULL) return ENOMEM;
  owned->name = wudf__strdup(name);
  if (owned->name == NULL) {
    wudf__free(owned);
    return ENOMEM;
  }
  memset(schema, 0, sizeof(*schema));
  schema->format = format;
  schema->name = owned->name;
  schema->flags = ARROW_FLAG_NULLABLE;
  schema->release = wudf__host_schema_release;
  schema->private_data = owned;
  return 0;
}

int wudf__column_finish(struct wudf__column* column, const char* name,
                        struct ArrowArray* out, struct ArrowSchema* out_schema) {
  int variable = wudf__type_is_variable(column->type, NULL);
  if (variable) {
    wudf__column_fill_to(column, column->length);
    if (column->data == NULL) {
      column->data = wudf__malloc(1);
      if (column->data == NULL) return ENOMEM;
    }
  }
  struct wudf__host_array* owned = wudf__calloc(1, sizeof(*owned));
  if (owned == NULL) return ENOMEM;
  struct ArrowSchema schema;
  if (wudf__schema_init(&schema, wudf__type_format(column->type), name) != 0) {
    wudf__free(owned);
    return ENOMEM;
  }
  owned->buffers[0] = column->null_count > 0 ? column->validity : NULL;
  owned->buffers[1] = column->values;
  owned->buffers[2] = column->data;
  owned->owned[0] = column->validity;
  owned->owned[1] = column->values;
  owned->owned[2] = column->data;
  memset(out, 0, sizeof(*out));
  out->length = column->length;
  out->null_count = column->null_count;
  out->n_buffers = variable ? 3 : 2;
  out->buffers = owned->buffers;
  out->release = wudf__host_array_release;
  out->private_data = owned;
  *out_schema = schema;
  column->validity = NULL;
  column->values = NULL;
  column->data = NULL;
  wudf__column_free(column);
  return 0;
}

int wudf__struct_finish(int64_t length, uint32_t count, struct ArrowArray* children,
                        struct ArrowSchema* child_schemas, struct ArrowArray* out,
                        struct ArrowSchema* out_schema) {
  struct wudf__host_array* owned = wudf__calloc(1, sizeof(*owned));
  struct ArrowArray** array_pointers = wudf__calloc(count + 1, sizeof(*array_pointers));
  struct ArrowArray* array_storage = wudf__calloc(count + 1, sizeof(*array_storage));
  struct ArrowSchema** schema_pointers = wudf__calloc(count + 1, sizeof(*schema_pointers));
  struct ArrowSchema* schema_storage = wudf__calloc(count + 1, sizeof(*schema_storage));
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  int status = ENOMEM;
  if (owned != NULL && array_pointers != NULL && array_storage != NULL &&
      schema_pointers != NULL && schema_storage != NULL) {
    status = wudf__schema_init(&schema, "+s", "");
  }
  if (status != 0) {
    wudf__free(owned);
    wudf__free(array_pointers);
    wudf__free(array_storage);
    wudf__free(schema_pointers);
    wudf__free(schema_storage);
    return status;
  }
  for (uint32_t i = 0; i < count; i++) {
    array_storage[i] = children[i]; /* move */
    children[i].release = NULL;
    array_pointers[i] = &array_storage[i];
    schema_storage[i] = child_schemas[i];
    child_schemas[i].release = NULL;
    schema_pointers[i] = &schema_storage[i];
  }
  owned->children = array_pointers;
  owned->child_storage = array_storage;
  memset(out, 0, sizeof(*out));
  out->length = length;
  out->n_buffers = 1;
  out->buffers = owned->buffers; /* no validity: buffers[0] is NULL */
  out->n_children = count;
  out->children = array_pointers;
  out->release = wudf__host_array_release;
  out->private_data = owned;

  struct wudf__host_schema* schema_owned = schema.private_data;
  schema_owned->children = schema_pointers;
  schema_owned->child_storage = schema_storage;
  schema.flags = 0;
  schema.n_children = count;
  schema.children = schema_pointers;
  *out_schema = schema;
  return 0;
}
