/*
 * wudf_guest.c -- the C guest SDK's runtime, compiled for wasm32 into every C
 * guest (see include/wasmudf/guest.h and docs/abi.md).
 *
 * It provides the exports the ABI requires (allocation, the release
 * callbacks of inputs, release of outputs, the error message), checks the
 * inputs of each call against the function's signature, gives the function
 * views of its arguments and builders for its result, moves the result into
 * the host's output slots with a release callback of its own, and releases
 * the inputs -- with their real release callbacks -- after every call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/udf/signature.h"
#include "wasmudf/guest.h"

#define WUDF__EXPORT(name) __attribute__((export_name(#name)))

/* The header of an input block (docs/abi.md, section 4). */
struct wudf__block_header {
  uint32_t live;
  uint32_t magic;
  uint32_t reserved[2];
};
#define WUDF__BLOCK_MAGIC 0x46445557u

/* ------------------------------------------------------------ allocation */

WUDF__EXPORT(wudf_abi_version) int32_t wudf_abi_version(void) { return WUDF__ABI_VERSION; }

WUDF__EXPORT(wudf_alloc) int32_t wudf_alloc(int32_t size, int32_t align) {
  if (size <= 0 || align <= 0 || align > 64 || (align & (align - 1)) != 0) return 0;
  size_t rounded = ((size_t)size + 63) & ~(size_t)63;
  return (int32_t)(uintptr_t)aligned_alloc(64, rounded);
}

WUDF__EXPORT(wudf_free) void wudf_free(int32_t pointer) {
  free((void*)(uintptr_t)pointer);
}

/* ----------------------------------------------------- input release */

static void wudf__block_drop(void* block) {
  struct wudf__block_header* header = block;
  if (header->magic != WUDF__BLOCK_MAGIC || header->live == 0) abort();
  if (--header->live == 0) {
    header->magic = 0;
    free(block);
  }
}

static void wudf__input_schema_release(struct ArrowSchema* schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    struct ArrowSchema* child = schema->children[i];
    if (child->release != NULL) child->release(child);
  }
  if (schema->dictionary != NULL && schema->dictionary->release != NULL) {
    schema->dictionary->release(schema->dictionary);
  }
  void* block = schema->private_data;
  schema->release = NULL;
  wudf__block_drop(block);
}

static void wudf__input_array_release(struct ArrowArray* array) {
  for (int64_t i = 0; i < array->n_children; i++) {
    struct ArrowArray* child = array->children[i];
    if (child->release != NULL) child->release(child);
  }
  if (array->dictionary != NULL && array->dictionary->release != NULL) {
    array->dictionary->release(array->dictionary);
  }
  void* block = array->private_data;
  array->release = NULL;
  wudf__block_drop(block);
}

WUDF__EXPORT(wudf_input_array_release) int32_t wudf_input_array_release(void) {
  return (int32_t)(uintptr_t)&wudf__input_array_release;
}

WUDF__EXPORT(wudf_input_schema_release) int32_t wudf_input_schema_release(void) {
  return (int32_t)(uintptr_t)&wudf__input_schema_release;
}

WUDF__EXPORT(wudf_release_array) void wudf_release_array(int32_t pointer) {
  struct ArrowArray* array = (struct ArrowArray*)(uintptr_t)pointer;
  if (array != NULL && array->release != NULL) array->release(array);
}

WUDF__EXPORT(wudf_release_schema) void wudf_release_schema(int32_t pointer) {
  struct ArrowSchema* schema = (struct ArrowSchema*)(uintptr_t)pointer;
  if (schema != NULL && schema->release != NULL) schema->release(schema);
}

/* ------------------------------------------------------------------ errors */

static char wudf__message[1024];
static int wudf__message_set;

WUDF__EXPORT(wudf_error_message) int32_t wudf_error_message(void) {
  return wudf__message_set ? (int32_t)(uintptr_t)wudf__message : 0;
}

int wudf_error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(wudf__message, sizeof(wudf__message), format, args);
  va_end(args);
  wudf__message_set = 1;
  return 1;
}

/* ------------------------------------------------------------------ output */

static int wudf__output_fail(wudf_output* out) {
  out->failed = 1;
  return -1;
}

static size_t wudf__value_bytes(const wudf_output* out, int64_t rows) {
  unsigned bits = wudf__type_bit_width((uint8_t)out->type);
  if (bits == 1) return (size_t)((rows + 7) / 8);
  if (bits != 0) return (size_t)rows * (bits / 8);
  int large = 0;
  wudf__type_is_variable((uint8_t)out->type, &large);
  return (size_t)(rows + 1) * (large ? 8 : 4);
}

/* Grows a buffer of `old_bytes` to `new_bytes`, zeroing the new part. */
static int wudf__grow(void** buffer, size_t old_bytes, size_t new_bytes) {
  if (*buffer == NULL) old_bytes = 0;
  void* grown = realloc(*buffer, new_bytes == 0 ? 1 : new_bytes);
  if (grown == NULL) return -1;
  if (new_bytes > old_bytes) memset((char*)grown + old_bytes, 0, new_bytes - old_bytes);
  *buffer = grown;
  return 0;
}

int wudf_output_reserve(wudf_output* out, int64_t rows) {
  if (out->failed) return -1;
  if (rows <= out->capacity) return 0;
  if (rows > ((int64_t)1 << 31)) return wudf__output_fail(out);
  int64_t capacity = out->capacity < 64 ? 64 : out->capacity;
  while (capacity < rows) capacity *= 2;
  if (wudf__grow(&out->values, wudf__value_bytes(out, out->capacity),
                 wudf__value_bytes(out, capacity)) != 0) {
    return wudf__output_fail(out);
  }
  if (out->validity != NULL) {
    size_t old_bytes = (size_t)(out->capacity + 7) / 8;
    size_t new_bytes = (size_t)(capacity + 7) / 8;
    if (wudf__grow((void**)&out->validity, old_bytes, new_bytes) != 0) {
      return wudf__output_fail(out);
    }
    /* New rows are valid until set null. */
    for (int64_t i = out->capacity; i < capacity; i++) {
      out->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
  }
  out->capacity = capacity;
  return 0;
}

/* Extends the offsets of a string output so rows [length, rows) are empty. */
static void wudf__extend_offsets(wudf_output* out, int64_t rows) {
  int large = 0;
  wudf__type_is_variable((uint8_t)out->type, &large);
  for (int64_t i = out->length + 1; i <= rows; i++) {
    if (large) {
      ((int64_t*)out->values)[i] = out->data_size;
    } else {
      ((int32_t*)out->values)[i] = (int32_t)out->data_size;
    }
  }
}

int wudf_output_resize(wudf_output* out, int64_t rows) {
  if (rows < 0 || wudf_output_reserve(out, rows) != 0) return wudf__output_fail(out);
  if (wudf__type_is_variable((uint8_t)out->type, NULL)) {
    if (rows < out->length) return wudf__output_fail(out);
    wudf__extend_offsets(out, rows);
  }
  if (rows < out->length && out->validity != NULL) {
    for (int64_t i = rows; i < out->length; i++) {
      if ((out->validity[i >> 3] & (1u << (i & 7))) == 0) out->null_count--;
      out->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
  }
  out->length = rows;
  return 0;
}

/* Makes row `row` exist and marks it valid; 0 or -1. */
static int wudf__touch(wudf_output* out, int64_t row) {
  if (out->failed || row < 0) return wudf__output_fail(out);
  if (row >= out->length && wudf_output_resize(out, row + 1) != 0) return -1;
  if (out->validity != NULL && (out->validity[row >> 3] & (1u << (row & 7))) == 0) {
    out->validity[row >> 3] |= (uint8_t)(1u << (row & 7));
    out->null_count--;
  }
  return 0;
}

void wudf_set_null(wudf_output* out, int64_t row) {
  int variable = wudf__type_is_variable((uint8_t)out->type, NULL);
  if (variable && row < out->length - 1) {
    wudf__output_fail(out);
    return;
  }
  if (wudf__touch(out, row) != 0) return;
  if (out->validity == NULL) {
    size_t bytes = (size_t)(out->capacity + 7) / 8;
    out->validity = malloc(bytes == 0 ? 1 : bytes);
    if (out->validity == NULL) {
      wudf__output_fail(out);
      return;
    }
    memset(out->validity, 0xff, bytes == 0 ? 1 : bytes);
  }
  out->validity[row >> 3] &= (uint8_t) ~(1u << (row & 7));
  out->null_count++;
}

void wudf_set_bool(wudf_output* out, int64_t row, bool value) {
  if (wudf__touch(out, row) != 0) return;
  uint8_t* bits = out->values;
  if (value) {
    bits[row >> 3] |= (uint8_t)(1u << (row & 7));
  } else {
    bits[row >> 3] &= (uint8_t) ~(1u << (row & 7));
  }
}

#define WUDF__SETTER(name, ctype)                                     \
  void wudf_set_##name(wudf_output* out, int64_t row, ctype value) { \
    if (wudf__touch(out, row) != 0) return;                          \
    ((ctype*)out->values)[row] = value;                              \
  }
WUDF__SETTER(int8, int8_t)
WUDF__SETTER(int16, int16_t)
WUDF__SETTER(int32, int32_t)
WUDF__SETTER(int64, int64_t)
WUDF__SETTER(uint8, uint8_t)
WUDF__SETTER(uint16, uint16_t)
WUDF__SETTER(uint32, uint32_t)
WUDF__SETTER(uint64, uint64_t)
WUDF__SETTER(float32, float)
WUDF__SETTER(float64, double)
#undef WUDF__SETTER

char* wudf_set_str_uninit(wudf_output* out, int64_t row, size_t size) {
  /* The common case first: the next row, with room for it and its bytes. */
  if (row == out->length && row < out->capacity && out->data != NULL && !out->failed &&
      (int64_t)size <= out->data_capacity - out->data_size) {
    if (out->type == WUDF_UTF8 || out->type == WUDF_BINARY) {
      if (out->data_size + (int64_t)size <= INT32_MAX) {
        char* target = (char*)out->data + out->data_size;
        out->data_size += (int64_t)size;
        ((int32_t*)out->values)[row + 1] = (int32_t)out->data_size;
        out->length = row + 1;
        return target;
      }
    } else if (out->type == WUDF_LARGE_UTF8 || out->type == WUDF_LARGE_BINARY) {
      char* target = (char*)out->data + out->data_size;
      out->data_size += (int64_t)size;
      ((int64_t*)out->values)[row + 1] = out->data_size;
      out->length = row + 1;
      return target;
    }
  }
  int large = 0;
  if (!wudf__type_is_variable((uint8_t)out->type, &large)) {
    wudf__output_fail(out);
    return NULL;
  }
  /* Strings are written in row order: only the last row or a later one. */
  if (row < out->length - 1 ||
      (row == out->length - 1 && row >= 0 && out->length > 0 &&
       (large ? ((int64_t*)out->values)[row + 1] != ((int64_t*)out->values)[row]
              : ((int32_t*)out->values)[row + 1] != ((int32_t*)out->values)[row]))) {
    wudf__output_fail(out);
    return NULL;
  }
  if (wudf__touch(out, row) != 0) return NULL;
  int64_t limit = large ? INT64_MAX : INT32_MAX;
  if ((int64_t)size > limit - out->data_size) {
    wudf__output_fail(out);
    return NULL;
  }
  int64_t needed = out->data_size + (int64_t)size;
  if (needed > out->data_capacity || out->data == NULL) {
    int64_t capacity = out->data_capacity < 256 ? 256 : out->data_capacity;
    while (capacity < needed) capacity *= 2;
    void* grown = realloc(out->data, (size_t)capacity);
    if (grown == NULL) {
      wudf__output_fail(out);
      return NULL;
    }
    out->data = grown;
    out->data_capacity = capacity;
  }
  char* target = (char*)out->data + out->data_size;
  out->data_size = needed;
  if (large) {
    ((int64_t*)out->values)[row + 1] = out->data_size;
  } else {
    ((int32_t*)out->values)[row + 1] = (int32_t)out->data_size;
  }
  return target;
}

void wudf_set_str(wudf_output* out, int64_t row, const char* data, size_t size) {
  char* target = wudf_set_str_uninit(out, row, size);
  if (target != NULL && size > 0) memcpy(target, data, size);
}

static void wudf__output_free(wudf_output* out) {
  free(out->validity);
  free(out->values);
  free(out->data);
  memset(out, 0, sizeof(*out));
}

/* ------------------------------------------------- moving results to the host */

/* What an output ArrowArray owns: its buffers, its buffer pointer array, and
 * for a struct its children. One malloc'ed block per array. */
struct wudf__owned_array {
  const void* buffers[3];
  void* owned[3];
  struct ArrowArray* child_pointers[WUDF__MAX_FIELDS];
  struct ArrowArray children[];
};

static void wudf__output_array_release(struct ArrowArray* array) {
  struct wudf__owned_array* owned = array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    struct ArrowArray* child = array->children[i];
    if (child->release != NULL) child->release(child);
  }
  for (int i = 0; i < 3; i++) free(owned->owned[i]);
  free(owned);
  array->release = NULL;
}

struct wudf__owned_schema {
  struct ArrowSchema* child_pointers[WUDF__MAX_FIELDS];
  char names[WUDF__MAX_FIELDS][WUDF__MAX_NAME + 1];
  struct ArrowSchema children[];
};

static void wudf__output_schema_release(struct ArrowSchema* schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    struct ArrowSchema* child = schema->children[i];
    if (child->release != NULL) child->release(child);
  }
  free(schema->private_data);
  schema->release = NULL;
}

static void wudf__leaf_schema_release(struct ArrowSchema* schema) {
  schema->release = NULL;
}

/* Moves a finished column into `array` (ownership of its buffers passes to
 * the array). Returns 0 or -1 on allocation failure (column untouched). */
static int wudf__column_to_array(wudf_output* out, struct ArrowArray* array) {
  struct wudf__owned_array* owned = calloc(1, sizeof(*owned));
  if (owned == NULL) return -1;
  if (out->values == NULL && wudf_output_reserve(out, 1) != 0) {
    free(owned);
    return -1;
  }
  int variable = wudf__type_is_variable((uint8_t)out->type, NULL);
  if (variable && out->data == NULL) {
    out->data = malloc(1);
    if (out->data == NULL) {
      free(owned);
      return -1;
    }
  }
  owned->buffers[0] = out->null_count > 0 ? out->validity : NULL;
  owned->buffers[1] = out->values;
  owned->buffers[2] = out->data;
  owned->owned[0] = out->validity;
  owned->owned[1] = out->values;
  owned->owned[2] = out->data;
  memset(array, 0, sizeof(*array));
  array->length = out->length;
  array->null_count = out->null_count;
  array->n_buffers = variable ? 3 : 2;
  array->buffers = owned->buffers;
  array->release = wudf__output_array_release;
  array->private_data = owned;
  out->validity = NULL;
  out->values = NULL;
  out->data = NULL;
  return 0;
}

/* ------------------------------------------------------------------ calls */

/* Checks the arguments of a call against the signature and fills views.
 * Returns 0 or a nonzero code with the error message set. */
static int wudf__bind_args(const struct wudf__signature* signature,
                           struct ArrowArray* args, struct ArrowSchema* args_schema,
                           wudf_input* inputs, wudf_args* view) {
  if (args == NULL || args_schema == NULL || args->release == NULL ||
      args_schema->release == NULL) {
    return wudf_error("%s: no arguments were passed", signature->name);
  }
  if (strcmp(args_schema->format, "+s") != 0 ||
      args->n_children != (int64_t)signature->arg_count ||
      args_schema->n_children != (int64_t)signature->arg_count) {
    return wudf_error("%s: expected a struct of %u arguments", signature->name,
                      signature->arg_count);
  }
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    const struct ArrowArray* array = args->children[i];
    const struct ArrowSchema* schema = args_schema->children[i];
    uint8_t type = wudf__type_from_format(schema->format);
    if (type != signature->arg_types[i]) {
      return wudf_error("%s: argument %u has format '%s', expected %s",
                        signature->name, i + 1, schema->format,
                        wudf__type_name(signature->arg_types[i]));
    }
    if (array->length != args->length) {
      return wudf_error("%s: argument %u has %lld rows, the call %lld",
                        signature->name, i + 1, (long long)array->length,
                        (long long)args->length);
    }
    wudf_input* in = &inputs[i];
    in->type = (wudf_type)type;
    in->length = array->length;
    in->offset = array->offset;
    in->null_count = array->null_count;
    in->validity = array->null_count == 0 ? NULL : array->buffers[0];
    in->values = array->buffers[1];
    in->data = array->n_buffers > 2 ? array->buffers[2] : NULL;
    in->array = array;
    in->schema = schema;
  }
  view->length = args->length;
  view->count = (int)signature->arg_count;
  view->inputs = inputs;
  return 0;
}

/* Parses the record of the function being called into `signature`, unless
 * `signature` already holds it (`*parsed` remembers the record it holds:
 * each function's record is its own string literal). 0 or an error code. */
static int wudf__signature_of(const char* record, struct wudf__signature* signature,
                              const char** parsed) {
  if (*parsed == record) return 0;
  char message[256];
  *parsed = NULL;
  if (wudf__record_parse(record, signature, message, sizeof(message)) != 0) {
    return wudf_error("invalid signature '%s': %s", record, message);
  }
  *parsed = record;
  return 0;
}

static void wudf__release_inputs(struct ArrowArray* args, struct ArrowSchema* args_schema) {
  if (args != NULL && args->release != NULL) args->release(args);
  if (args_schema != NULL && args_schema->release != NULL) {
    args_schema->release(args_schema);
  }
}

/* The signature of the function called last is kept parsed; calling
 * another function parses its own. */
int32_t wudf__run_scalar(const char* record, wudf_scalar_fn fn,
                         struct ArrowArray* args, struct ArrowSchema* args_schema,
                         struct ArrowArray* out, struct ArrowSchema* out_schema) {
  static struct wudf__signature signature;
  static const char* parsed;
  static wudf_input inputs[WUDF__MAX_ARGS];
  wudf__message_set = 0;
  int status = wudf__signature_of(record, &signature, &parsed);
  wudf_args view;
  if (status == 0) status = wudf__bind_args(&signature, args, args_schema, inputs, &view);
  if (status != 0) {
    wudf__release_inputs(args, args_schema);
    return status;
  }
  wudf_output column;
  memset(&column, 0, sizeof(column));
  column.type = (wudf_type)signature.result_type;
  column.name = signature.name;
  /* Fixed-width results start with every row present, so functions may write
   * the values array directly; strings grow in row order as they are set. */
  int variable = wudf__type_is_variable(signature.result_type, NULL);
  wudf_output_resize(&column, variable ? 0 : view.length);
  if (!column.failed) status = fn(&view, &column);
  wudf__release_inputs(args, args_schema);
  if (status == 0 && variable && column.length < view.length) {
    wudf_output_resize(&column, view.length);
  }
  if (status == 0 && column.failed) {
    status = wudf_error("%s: out of memory, or string rows set out of order",
                        signature.name);
  }
  if (status == 0 && column.length != view.length) {
    status = wudf_error("%s: the result has %lld rows, the call %lld", signature.name,
                        (long long)column.length, (long long)view.length);
  }
  if (status == 0 && wudf__column_to_array(&column, out) != 0) {
    status = wudf_error("%s: out of memory", signature.name);
  }
  wudf__output_free(&column);
  if (status != 0) {
    if (!wudf__message_set) wudf_error("%s failed with code %d", signature.name, status);
    return status;
  }
  memset(out_schema, 0, sizeof(*out_schema));
  out_schema->format = wudf__type_format(signature.result_type);
  out_schema->name = "";
  out_schema->flags = ARROW_FLAG_NULLABLE;
  out_schema->release = wudf__leaf_schema_release;
  return 0;
}

int32_t wudf__run_batch(const char* record, wudf_batch_fn fn,
                        struct ArrowArray* args, struct ArrowSchema* args_schema,
                        struct ArrowArray* out, struct ArrowSchema* out_schema) {
  static struct wudf__signature signature;
  static const char* parsed;
  static wudf_input inputs[WUDF__MAX_ARGS];
  static wudf_output columns[WUDF__MAX_FIELDS];
  wudf__message_set = 0;
  int status = wudf__signature_of(record, &signature, &parsed);
  wudf_args view;
  if (status == 0) status = wudf__bind_args(&signature, args, args_schema, inputs, &view);
  if (status != 0) {
    wudf__release_inputs(args, args_schema);
    return status;
  }
  uint32_t count = signature.field_count;
  memset(columns, 0, count * sizeof(columns[0]));
  for (uint32_t i = 0; i < count; i++) {
    columns[i].type = (wudf_type)signature.fields[i].type;
    columns[i].name = signature.fields[i].name;
  }
  wudf_result result = {(int)count, columns};
  status = fn(&view, &result);
  wudf__release_inputs(args, args_schema);
  int64_t rows = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (columns[i].length > rows) rows = columns[i].length;
  }
  for (uint32_t i = 0; status == 0 && i < count; i++) {
    wudf_output_resize(&columns[i], rows);
    if (columns[i].failed) {
      status = wudf_error("%s: column %s: out of memory, or string rows set out "
                          "of order", signature.name, columns[i].name);
    }
  }
  struct wudf__owned_array* owned = NULL;
  struct wudf__owned_schema* owned_schema = NULL;
  if (status == 0) {
    owned = calloc(1, sizeof(*owned) + count * sizeof(struct ArrowArray));
    owned_schema = calloc(1, sizeof(*owned_schema) + count * sizeof(struct ArrowSchema));
    if (owned == NULL || owned_schema == NULL) {
      status = wudf_error("%s: out of memory", signature.name);
    }
  }
  uint32_t moved = 0;
  for (; status == 0 && moved < count; moved++) {
    if (wudf__column_to_array(&columns[moved], &owned->children[moved]) != 0) {
      status = wudf_error("%s: out of memory", signature.name);
      break;
    }
    owned->child_pointers[moved] = &owned->children[moved];
  }
  for (uint32_t i = 0; i < count; i++) wudf__output_free(&columns[i]);
  if (status != 0) {
    for (uint32_t i = 0; owned != NULL && i < moved; i++) {
      owned->children[i].release(&owned->children[i]);
    }
    free(owned);
    free(owned_schema);
    if (!wudf__message_set) wudf_error("%s failed with code %d", signature.name, status);
    return status;
  }
  memset(out, 0, sizeof(*out));
  out->length = rows;
  out->n_buffers = 1;
  out->buffers = owned->buffers; /* buffers[0] = NULL: no nulls */
  out->n_children = count;
  out->children = owned->child_pointers;
  out->release = wudf__output_array_release;
  out->private_data = owned;

  memset(out_schema, 0, sizeof(*out_schema));
  for (uint32_t i = 0; i < count; i++) {
    struct ArrowSchema* child = &owned_schema->children[i];
    child->format = wudf__type_format(signature.fields[i].type);
    memcpy(owned_schema->names[i], signature.fields[i].name, WUDF__MAX_NAME + 1);
    child->name = owned_schema->names[i];
    child->flags = ARROW_FLAG_NULLABLE;
    child->release = wudf__leaf_schema_release;
    owned_schema->child_pointers[i] = child;
  }
  out_schema->format = "+s";
  out_schema->name = "";
  out_schema->n_children = count;
  out_schema->children = owned_schema->child_pointers;
  out_schema->release = wudf__output_schema_release;
  out_schema->private_data = owned_schema;
  return 0;
}
