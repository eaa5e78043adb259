/*
 * wudf_guest.c -- the C guest SDK's runtime, compiled for wasm32 into every C
 * guest (see include/wasmudf/guest.h and docs/abi.md).
 *
 * It provides the exports the ABI requires (allocation, the release
 * callbacks of inputs, release of outputs, the error message), checks the
 * inputs of each call against the function's signature and gives the
 * function views of them as trees (struct wudf_input), builds the result as
 * a tree of builders made from the declared result type (struct
 * wudf_output), moves the finished result into the host's output slots with
 * release callbacks of its own, and releases the inputs -- with their real
 * release callbacks -- after every call. Types are read with the type
 * language of src/udf/signature.c and the layout table of
 * src/arrow/format.c, both compiled into the SDK.
 *
 * The SDK never trusts itself into undefined behaviour: every size is
 * computed with overflow checks, every allocation is checked (a failure
 * fails the call with "out of memory"), and every buffer an output owns is
 * freed by the release callback of the array it ends up in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "../src/arrow/format.h"
#include "../src/udf/signature.h"
#include "wasmudf/guest.h"

#define WUDF__EXPORT(name) WUDF__EXPORT_AS(#name)

/* The header of an input block (docs/abi.md, section 4). */
struct wudf__block_header {
  uint32_t live;
  uint32_t magic;
  uint32_t reserved[2];
};
#define WUDF__BLOCK_MAGIC 0x46445557u

/* The largest buffer the SDK allocates (wasm32 memory is 4 GiB at most). */
#define WUDF__MAX_BYTES ((uint64_t)INT32_MAX)
/* The most rows one output node can have. */
#define WUDF__MAX_ROWS ((int64_t)1 << 31)

/* ------------------------------------------------------------ allocation */

/* Allocates `size` bytes (a power-of-two `align` up to 64) for the host;
 * returns the offset or 0. */
WUDF__EXPORT(wudf_abi_version) int32_t wudf_abi_version(void) { return WUDF__ABI_VERSION; }

/* Allocates a block for the host (docs/abi.md, section 1); 0 on failure. */
WUDF__EXPORT(wudf_alloc) int32_t wudf_alloc(int32_t size, int32_t align) {
  if (size <= 0 || align <= 0 || align > 64 || (align & (align - 1)) != 0) return 0;
  size_t rounded = ((size_t)size + 63) & ~(size_t)63;
  return (int32_t)(uintptr_t)aligned_alloc(64, rounded);
}

/* Frees a block of wudf_alloc; 0 is a no-op. */
WUDF__EXPORT(wudf_free) void wudf_free(int32_t pointer) {
  free((void*)(uintptr_t)pointer);
}

/* ----------------------------------------------------- input release */

/* Drops one reference to an input block; frees it at the last. A damaged
 * header is a bug of the host or of the guest: trap. */
static void wudf__block_drop(void* block) {
  struct wudf__block_header* header = block;
  if (header->magic != WUDF__BLOCK_MAGIC || header->live == 0) abort();
  if (--header->live == 0) {
    header->magic = 0;
    free(block);
  }
}

/* The release callback of every input ArrowSchema: releases what is left
 * of its children and dictionary, then drops its block reference. */
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

/* The release callback of every input ArrowArray, as for schemas. */
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

/* The table index of the input array release callback. */
WUDF__EXPORT(wudf_input_array_release) int32_t wudf_input_array_release(void) {
  return (int32_t)(uintptr_t)&wudf__input_array_release;
}

/* The table index of the input schema release callback. */
WUDF__EXPORT(wudf_input_schema_release) int32_t wudf_input_schema_release(void) {
  return (int32_t)(uintptr_t)&wudf__input_schema_release;
}

/* Releases the guest ArrowArray at `pointer` unless it is released. */
WUDF__EXPORT(wudf_release_array) void wudf_release_array(int32_t pointer) {
  struct ArrowArray* array = (struct ArrowArray*)(uintptr_t)pointer;
  if (array != NULL && array->release != NULL) array->release(array);
}

/* Releases the guest ArrowSchema at `pointer` unless it is released. */
WUDF__EXPORT(wudf_release_schema) void wudf_release_schema(int32_t pointer) {
  struct ArrowSchema* schema = (struct ArrowSchema*)(uintptr_t)pointer;
  if (schema != NULL && schema->release != NULL) schema->release(schema);
}

/* Releases a result's ArrowArray and ArrowSchema in one call (the optional
 * export of docs/abi.md, section 1: one guest call per call fewer). */
WUDF__EXPORT(wudf_release_result) void wudf_release_result(int32_t array, int32_t schema) {
  wudf_release_array(array);
  wudf_release_schema(schema);
}

/* ------------------------------------------------------------------ errors */

static char wudf__message[1024];
static int wudf__message_set;

/* The message of the last failed call, or 0. */
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

int wudf__error_pending(void) { return wudf__message_set; }


/* -------------------------------------------------------- checked sizes */

/* Stores count * width in *bytes when both are non-negative and the
 * product is at most WUDF__MAX_BYTES; returns 0, or -1 otherwise. */
static int wudf__bytes(int64_t count, int64_t width, size_t* bytes) {
  uint64_t product;
  if (count < 0 || width < 0 ||
      __builtin_mul_overflow((uint64_t)count, (uint64_t)width, &product) ||
      product > WUDF__MAX_BYTES) {
    return -1;
  }
  *bytes = (size_t)product;
  return 0;
}

/* Grows the allocation at *buffer from `old_bytes` to `new_bytes` (both at
 * most WUDF__MAX_BYTES), zeroing the new part. Returns 0 or -1 (buffer
 * untouched). */
static int wudf__grow(void** buffer, size_t old_bytes, size_t new_bytes) {
  if (*buffer == NULL) old_bytes = 0;
  void* grown = realloc(*buffer, new_bytes == 0 ? 1 : new_bytes);
  if (grown == NULL) return -1;
  if (new_bytes > old_bytes) memset((char*)grown + old_bytes, 0, new_bytes - old_bytes);
  *buffer = grown;
  return 0;
}

/* ------------------------------------------------------------ type codes */

/* The SDK's type code of a format string whose layout `layout` describes. */
static wudf_type wudf__type_code(const char* format, const struct wudf__format* layout) {
  switch (layout->layout) {
    case WUDF__LAYOUT_NULL: return WUDF_NULL;
    case WUDF__LAYOUT_BOOL: return WUDF_BOOL;
    case WUDF__LAYOUT_BINARY: return layout->utf8 ? WUDF_UTF8 : WUDF_BINARY;
    case WUDF__LAYOUT_LARGE_BINARY: return layout->utf8 ? WUDF_LARGE_UTF8 : WUDF_LARGE_BINARY;
    case WUDF__LAYOUT_VIEW: return layout->utf8 ? WUDF_UTF8_VIEW : WUDF_BINARY_VIEW;
    case WUDF__LAYOUT_LIST: return WUDF_LIST;
    case WUDF__LAYOUT_LARGE_LIST: return WUDF_LARGE_LIST;
    case WUDF__LAYOUT_LIST_VIEW: return WUDF_LIST_VIEW;
    case WUDF__LAYOUT_LARGE_LIST_VIEW: return WUDF_LARGE_LIST_VIEW;
    case WUDF__LAYOUT_FIXED_LIST: return WUDF_FIXED_SIZE_LIST;
    case WUDF__LAYOUT_STRUCT: return WUDF_STRUCT;
    case WUDF__LAYOUT_MAP: return WUDF_MAP;
    case WUDF__LAYOUT_SPARSE_UNION: return WUDF_SPARSE_UNION;
    case WUDF__LAYOUT_DENSE_UNION: return WUDF_DENSE_UNION;
    case WUDF__LAYOUT_RUN_END: return WUDF_RUN_END_ENCODED;
    default: break;
  }
  /* Fixed-width: the format's first characters tell the logical type. */
  switch (format[0]) {
    case 'c': return WUDF_INT8;
    case 'C': return WUDF_UINT8;
    case 's': return WUDF_INT16;
    case 'S': return WUDF_UINT16;
    case 'i': return WUDF_INT32;
    case 'I': return WUDF_UINT32;
    case 'l': return WUDF_INT64;
    case 'L': return WUDF_UINT64;
    case 'e': return WUDF_FLOAT16;
    case 'f': return WUDF_FLOAT32;
    case 'g': return WUDF_FLOAT64;
    case 'w': return WUDF_FIXED_SIZE_BINARY;
    case 'd':
      switch (layout->byte_width) {
        case 4: return WUDF_DECIMAL32;
        case 8: return WUDF_DECIMAL64;
        case 32: return WUDF_DECIMAL256;
        default: return WUDF_DECIMAL128;
      }
    default: break;
  }
  /* Temporal formats "t..". */
  switch (format[1]) {
    case 'd': return format[2] == 'D' ? WUDF_DATE32 : WUDF_DATE64;
    case 't': return layout->byte_width == 4 ? WUDF_TIME32 : WUDF_TIME64;
    case 's': return WUDF_TIMESTAMP;
    case 'D': return WUDF_DURATION;
    default: break;
  }
  switch (format[2]) {
    case 'M': return WUDF_INTERVAL_MONTHS;
    case 'D': return WUDF_INTERVAL_DAY_TIME;
    default: return WUDF_INTERVAL_MONTH_DAY_NANO;
  }
}

/* The SDK's time unit of a layout's unit. */
static wudf_time_unit wudf__unit(uint8_t unit) {
  switch (unit) {
    case WUDF__UNIT_S: return WUDF_SECOND;
    case WUDF__UNIT_MS: return WUDF_MILLISECOND;
    case WUDF__UNIT_US: return WUDF_MICROSECOND;
    case WUDF__UNIT_NS: return WUDF_NANOSECOND;
    default: return WUDF_UNIT_NONE;
  }
}

/* ------------------------------------------------------------------ inputs */

/* The input views of the current call: one pool, reused call after call
 * (it only grows, to the largest tree seen). */
static wudf_input* wudf__input_pool;
static size_t wudf__input_pool_capacity;

/* Counts the nodes of a schema tree (children and dictionaries included),
 * adding to *count; -1 when deeper than WUDF__MAX_DEPTH. */
static int wudf__count_nodes(const struct ArrowSchema* schema, int depth, size_t* count) {
  if (depth > WUDF__MAX_DEPTH) return -1;
  *count += 1;
  for (int64_t i = 0; i < schema->n_children; i++) {
    if (wudf__count_nodes(schema->children[i], depth + 1, count) != 0) return -1;
  }
  if (schema->dictionary != NULL) {
    return wudf__count_nodes(schema->dictionary, depth + 1, count);
  }
  return 0;
}

/* Fills the fields of view `in` of `array` (described by `schema`) except
 * its children and dictionary; see wudf__input_init. Returns the node's
 * layout (enum wudf__layout), or 0 if the array does not have the layout of
 * its format. Kept out of the recursion so that its frame (the parsed
 * format) is not on the stack once per nesting level. */
__attribute__((noinline)) static uint8_t wudf__input_node(wudf_input* in,
                                                          const struct ArrowArray* array,
                                                          const struct ArrowSchema* schema,
                                                          int64_t fold, int64_t length) {
  struct wudf__format layout;
  if (wudf__format_parse(schema->format, &layout) != 0) return 0;
  int64_t required_buffers = layout.n_buffers;
  if (array->n_children != schema->n_children || array->n_buffers < required_buffers ||
      (schema->dictionary == NULL) != (array->dictionary == NULL) ||
      (array->n_children > 0 && array->children == NULL) ||
      (array->n_buffers > 0 && array->buffers == NULL)) {
    return 0;
  }
  memset(in, 0, sizeof(*in));
  in->type = wudf__type_code(schema->format, &layout);
  in->length = length;
  in->offset = array->offset + fold;
  in->null_count = fold == 0 || array->null_count == 0 ? array->null_count : -1;
  in->array = array;
  in->schema = schema;
  in->name = schema->name != NULL ? schema->name : "";
  in->unit = wudf__unit(layout.unit);
  in->timezone = in->type == WUDF_TIMESTAMP ? layout.timezone : NULL;
  in->precision = layout.precision;
  in->scale = layout.scale;
  in->byte_width = (int32_t)layout.byte_width;
  in->list_size = layout.list_size;
  memset(in->union_child, 0xff, sizeof(in->union_child));
  const void* const* buffers = array->buffers;
  switch (layout.layout) {
    case WUDF__LAYOUT_SPARSE_UNION:
    case WUDF__LAYOUT_DENSE_UNION:
      in->type_ids = buffers[0];
      if (layout.layout == WUDF__LAYOUT_DENSE_UNION) in->values = buffers[1];
      for (int32_t i = 0; i < layout.type_id_count; i++) {
        in->union_child[(uint8_t)layout.type_ids[i] & 127u] = (int8_t)i;
      }
      break;
    case WUDF__LAYOUT_NULL:
    case WUDF__LAYOUT_RUN_END:
      break;
    default:
      if (array->null_count != 0) in->validity = buffers[0];
      if (array->n_buffers > 1) in->values = buffers[1];
      if (array->n_buffers > 2) in->data = buffers[2];
      if (layout.layout == WUDF__LAYOUT_LIST_VIEW ||
          layout.layout == WUDF__LAYOUT_LARGE_LIST_VIEW) {
        in->sizes = buffers[2];
      }
      if (layout.layout == WUDF__LAYOUT_VIEW) {
        in->variadic_count = array->n_buffers - 3;
        in->variadic = (const uint8_t* const*)(buffers + 2);
      }
      break;
  }
  return layout.layout;
}

/* Fills view `in` of `array` (described by `schema`). `fold` is the offset
 * of the enclosing struct or sparse union added to the array's own (0
 * otherwise) and `length` the rows of the view. Children and the
 * dictionary take views from the pool at *next. Returns 0, or -1 if the
 * array does not have the layout of its format. */
static int wudf__input_init(wudf_input* in, const struct ArrowArray* array,
                            const struct ArrowSchema* schema, int64_t fold, int64_t length,
                            size_t* next) {
  uint8_t layout = wudf__input_node(in, array, schema, fold, length);
  if (layout == 0) return -1;
  /* Struct fields and sparse union members have their parent's rows. */
  int folds = layout == WUDF__LAYOUT_STRUCT || layout == WUDF__LAYOUT_SPARSE_UNION;
  if (array->n_children > 0) {
    wudf_input* children = &wudf__input_pool[*next];
    *next += (size_t)array->n_children;
    in->n_children = (int)array->n_children;
    in->children = children;
    for (int64_t i = 0; i < array->n_children; i++) {
      const struct ArrowArray* child = array->children[i];
      if (child == NULL || schema->children[i] == NULL) return -1;
      if (wudf__input_init(&children[i], child, schema->children[i], folds ? in->offset : 0,
                           folds ? length : child->length, next) != 0) {
        return -1;
      }
    }
  }
  if (array->dictionary != NULL) {
    wudf_input* dictionary = &wudf__input_pool[(*next)++];
    in->is_dictionary = true;
    in->dictionary = dictionary;
    if (wudf__input_init(dictionary, array->dictionary, schema->dictionary, 0,
                         array->dictionary->length, next) != 0) {
      return -1;
    }
  }
  return 0;
}

/* What the SDK keeps about each function called (see wudf__function_of):
 * its parsed signature, the format strings of its flat arguments (checked
 * with one string comparison per call), and its result tree, emptied after
 * every call and reused by the next call of the same function. */
struct wudf__function {
  const char* key;    /* the record this slot is for (wudf__function_of) */
  const char* record; /* the metadata record held (parsed), or NULL */
  struct wudf__signature signature;
  const char* arg_formats[WUDF__MAX_ARGS]; /* NULL: a nested argument */
  char* formats;                           /* the storage of arg_formats */
  wudf_output root;       /* what a call returns: the result, a table's chunk */
  wudf_output state_root; /* an aggregate's STATE output */
  int64_t last_chunk_rows; /* a table function's last chunk: the next one's reserve */
};

/* Checks argument `index` of a call against its declared type; 0 or an
 * error code with the message set. */
static int wudf__check_arg(const struct wudf__function* function, uint32_t index,
                           const struct ArrowSchema* schema) {
  const char* format = function->arg_formats[index];
  if (format != NULL && schema->format != NULL && strcmp(schema->format, format) == 0 &&
      schema->n_children == 0 && schema->dictionary == NULL) {
    return 0;
  }
  /* Nested, or different: the matcher decides, and names the difference. */
  char message[256];
  const struct wudf__signature* signature = &function->signature;
  const struct wudf__span* span = &signature->args[index];
  if (wudf__type_match(signature->text + span->start, span->length, schema, message,
                       sizeof(message)) != 0) {
    return wudf_error("%s: argument %u: %s", signature->name, index + 1, message);
  }
  return 0;
}

/* Checks the arguments of a call against the signature and fills their
 * views; the struct has `extra` more columns after the arguments (an
 * aggregate update's group ids), which the caller checks. Returns 0 or a
 * nonzero code with the error message set. */
static int wudf__bind_args(const struct wudf__function* function,
                           const struct ArrowArray* args, const struct ArrowSchema* args_schema,
                           int64_t extra, wudf_args* view) {
  const struct wudf__signature* signature = &function->signature;
  if (args == NULL || args_schema == NULL || args->release == NULL ||
      args_schema->release == NULL) {
    return wudf_error("%s: no arguments were passed", signature->name);
  }
  int64_t columns = (int64_t)signature->arg_count + extra;
  if (args_schema->format == NULL || strcmp(args_schema->format, "+s") != 0 ||
      args->n_children != columns || args_schema->n_children != columns) {
    return wudf_error("%s: expected a struct of %lld columns", signature->name,
                      (long long)columns);
  }
  size_t count = signature->arg_count;
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    int status = wudf__check_arg(function, i, args_schema->children[i]);
    if (status != 0) return status;
    if (args->children[i]->length != args->length) {
      return wudf_error("%s: argument %u has %lld rows, the call %lld", signature->name,
                        i + 1, (long long)args->children[i]->length,
                        (long long)args->length);
    }
    if (function->arg_formats[i] == NULL) {
      size_t nodes = 0;
      if (wudf__count_nodes(args_schema->children[i], 1, &nodes) != 0) {
        return wudf_error("%s: argument %u is nested too deeply", signature->name, i + 1);
      }
      count += nodes - 1;
    }
  }
  if (count > wudf__input_pool_capacity) {
    size_t bytes;
    if (wudf__bytes((int64_t)count, (int64_t)sizeof(wudf_input), &bytes) != 0) {
      return wudf_error("%s: out of memory", signature->name);
    }
    wudf_input* grown = realloc(wudf__input_pool, bytes);
    if (grown == NULL) return wudf_error("%s: out of memory", signature->name);
    wudf__input_pool = grown;
    wudf__input_pool_capacity = count;
  }
  size_t next = signature->arg_count;
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    if (wudf__input_init(&wudf__input_pool[i], args->children[i], args_schema->children[i],
                         0, args->length, &next) != 0) {
      return wudf_error("%s: argument %u does not have the layout of its type",
                        signature->name, i + 1);
    }
  }
  view->length = args->length;
  view->count = (int)signature->arg_count;
  view->inputs = wudf__input_pool;
  return 0;
}

/* Reads run end `index` of a run-end encoded array's run ends. */
static int64_t wudf__run_end(const wudf_input* ends, int64_t index) {
  int64_t i = ends->offset + index;
  switch (ends->type) {
    case WUDF_INT16: return ((const int16_t*)ends->values)[i];
    case WUDF_INT32: return ((const int32_t*)ends->values)[i];
    default: return ((const int64_t*)ends->values)[i];
  }
}

int64_t wudf_ree_physical(const wudf_input* in, int64_t row) {
  const wudf_input* ends = &in->children[0];
  int64_t position = in->offset + row;
  int64_t low = 0, high = ends->length;
  /* The first run whose end is past the position. */
  while (low < high) {
    int64_t middle = low + (high - low) / 2;
    if (wudf__run_end(ends, middle) > position) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

/* ---------------------------------------------------------------- decimals */

/* Sets limbs[0 .. count) to the sign extension of `value`. */
static void wudf__limbs_from_int64(uint64_t* limbs, int count, int64_t value) {
  limbs[0] = (uint64_t)value;
  for (int i = 1; i < count; i++) limbs[i] = value < 0 ? UINT64_MAX : 0;
}

/* Whether the limbs hold an int64 (every upper limb extends limb 0's sign). */
static bool wudf__limbs_to_int64(const uint64_t* limbs, int count, int64_t* out) {
  uint64_t extension = (int64_t)limbs[0] < 0 ? UINT64_MAX : 0;
  for (int i = 1; i < count; i++) {
    if (limbs[i] != extension) return false;
  }
  *out = (int64_t)limbs[0];
  return true;
}

/* Negates the two's complement integer in limbs[0 .. count). */
static void wudf__limbs_negate(uint64_t* limbs, int count) {
  uint64_t carry = 1;
  for (int i = 0; i < count; i++) {
    limbs[i] = ~limbs[i] + carry;
    carry = carry != 0 && limbs[i] == 0;
  }
}

/* Divides the unsigned integer in limbs[0 .. count) by 10 in place and
 * returns the remainder. */
static unsigned wudf__limbs_divide_10(uint64_t* limbs, int count) {
  uint64_t remainder = 0;
  for (int i = count - 1; i >= 0; i--) {
    uint64_t high = (remainder << 32) | (limbs[i] >> 32);
    uint64_t high_quotient = high / 10;
    remainder = high % 10;
    uint64_t low = (remainder << 32) | (limbs[i] & 0xffffffffu);
    uint64_t low_quotient = low / 10;
    remainder = low % 10;
    limbs[i] = (high_quotient << 32) | low_quotient;
  }
  return (unsigned)remainder;
}

/* Formats the signed integer in limbs[0 .. count) scaled by `scale` into
 * `out` (see wudf_decimal128_format). */
static size_t wudf__limbs_format(const uint64_t* value, int count, int32_t scale, char* out,
                                 size_t size) {
  uint64_t limbs[4];
  memcpy(limbs, value, (size_t)count * sizeof(uint64_t));
  bool negative = (int64_t)limbs[count - 1] < 0;
  if (negative) wudf__limbs_negate(limbs, count);
  char digits[80]; /* 2^256 has 78 decimal digits */
  int digit_count = 0;
  do {
    digits[digit_count++] = (char)('0' + wudf__limbs_divide_10(limbs, count));
    bool zero = true;
    for (int i = 0; i < count; i++) zero = zero && limbs[i] == 0;
    if (zero) break;
  } while (digit_count < (int)sizeof(digits));
  size_t used = 0;
#define WUDF__PUT(c)                          \
  do {                                        \
    if (used + 1 < size) out[used] = (c);     \
    used++;                                   \
  } while (0)
  if (negative) WUDF__PUT('-');
  if (scale <= 0) {
    for (int i = digit_count - 1; i >= 0; i--) WUDF__PUT(digits[i]);
    for (int64_t i = 0; i < -(int64_t)scale; i++) WUDF__PUT('0');
  } else {
    if (digit_count <= scale) {
      WUDF__PUT('0');
      WUDF__PUT('.');
      for (int64_t i = digit_count; i < scale; i++) WUDF__PUT('0');
      for (int i = digit_count - 1; i >= 0; i--) WUDF__PUT(digits[i]);
    } else {
      for (int i = digit_count - 1; i >= 0; i--) {
        WUDF__PUT(digits[i]);
        if (i == scale) WUDF__PUT('.');
      }
    }
  }
#undef WUDF__PUT
  if (size > 0) out[used < size ? used : size - 1] = '\0';
  return used;
}

wudf_decimal128 wudf_decimal128_from_int64(int64_t value) {
  wudf_decimal128 result;
  wudf__limbs_from_int64(result.limbs, 2, value);
  return result;
}

wudf_decimal256 wudf_decimal256_from_int64(int64_t value) {
  wudf_decimal256 result;
  wudf__limbs_from_int64(result.limbs, 4, value);
  return result;
}

bool wudf_decimal128_to_int64(wudf_decimal128 value, int64_t* out) {
  return wudf__limbs_to_int64(value.limbs, 2, out);
}

bool wudf_decimal256_to_int64(wudf_decimal256 value, int64_t* out) {
  return wudf__limbs_to_int64(value.limbs, 4, out);
}

wudf_decimal128 wudf_decimal128_negate(wudf_decimal128 value) {
  wudf__limbs_negate(value.limbs, 2);
  return value;
}

wudf_decimal256 wudf_decimal256_negate(wudf_decimal256 value) {
  wudf__limbs_negate(value.limbs, 4);
  return value;
}

size_t wudf_decimal128_format(wudf_decimal128 value, int32_t scale, char* out, size_t size) {
  return wudf__limbs_format(value.limbs, 2, scale, out, size);
}

size_t wudf_decimal256_format(wudf_decimal256 value, int32_t scale, char* out, size_t size) {
  return wudf__limbs_format(value.limbs, 4, scale, out, size);
}

/* ------------------------------------------------------------------ output */

/* How an output node stores its rows (wudf_output.builder). guest.h's
 * inline setters test for WUDF__BUILD_FIXED by its number. */
enum wudf__builder {
  WUDF__BUILD_UNSUPPORTED = 0, /* unions, run-end encoded, list views */
  WUDF__BUILD_NULL,            /* no buffers */
  WUDF__BUILD_BOOL,            /* validity, bits */
  WUDF__BUILD_FIXED,           /* validity, byte_width bytes per row */
  WUDF__BUILD_STRING,          /* validity, int32 offsets, data; in row order */
  WUDF__BUILD_LARGE_STRING,    /* validity, int64 offsets, data; in row order */
  WUDF__BUILD_VIEW,            /* validity, 16-byte views, one data buffer */
  WUDF__BUILD_LIST,            /* validity, int32 offsets, one child; in order */
  WUDF__BUILD_LARGE_LIST,      /* validity, int64 offsets, one child; in order */
  WUDF__BUILD_FIXED_LIST,      /* validity, one child of list_size per row */
  WUDF__BUILD_STRUCT           /* validity, children with the struct's rows */
};
_Static_assert(WUDF__BUILD_FIXED == WUDF__BUILD_FIXED_CODE, "guest.h's inline setters");

/* Whether rows of the builder must be set in order (offsets). */
static bool wudf__ordered(const wudf_output* out) {
  return out->builder == WUDF__BUILD_STRING || out->builder == WUDF__BUILD_LARGE_STRING ||
         out->builder == WUDF__BUILD_LIST || out->builder == WUDF__BUILD_LARGE_LIST;
}

/* Whether the builder's offsets are 64-bit. */
static bool wudf__large(const wudf_output* out) {
  return out->builder == WUDF__BUILD_LARGE_STRING || out->builder == WUDF__BUILD_LARGE_LIST;
}

/* Marks the output failed, keeping the first reason; returns -1. */
static int wudf__fail(wudf_output* out, const char* reason) {
  if (!out->failed) out->failure = reason;
  out->failed = 1;
  return -1;
}

/* Whether an argument was moved into the output. */
static bool wudf__taken(const wudf_output* out) { return out->taken.release != NULL; }

/* Bytes of the values buffer for `rows` rows; 0 or -1 (too large). */
static int wudf__value_bytes(const wudf_output* out, int64_t rows, size_t* bytes) {
  switch (out->builder) {
    case WUDF__BUILD_BOOL: return wudf__bytes((rows + 7) / 8, 1, bytes);
    case WUDF__BUILD_FIXED: return wudf__bytes(rows, out->byte_width, bytes);
    case WUDF__BUILD_STRING:
    case WUDF__BUILD_LIST: return wudf__bytes(rows + 1, 4, bytes);
    case WUDF__BUILD_LARGE_STRING:
    case WUDF__BUILD_LARGE_LIST: return wudf__bytes(rows + 1, 8, bytes);
    case WUDF__BUILD_VIEW: return wudf__bytes(rows, 16, bytes);
    default: *bytes = 0; return 0;
  }
}

/* The end offset of row `row - 1` (offsets entry `row`) of an ordered
 * builder. */
static int64_t wudf__offset_at(const wudf_output* out, int64_t row) {
  return wudf__large(out) ? ((const int64_t*)out->values)[row]
                          : ((const int32_t*)out->values)[row];
}

/* Sets offsets entry `row` of an ordered builder (the value fits). */
static void wudf__set_offset(wudf_output* out, int64_t row, int64_t value) {
  if (wudf__large(out)) {
    ((int64_t*)out->values)[row] = value;
  } else {
    ((int32_t*)out->values)[row] = (int32_t)value;
  }
}

static int wudf__reserve_exactly(wudf_output* out, int64_t capacity);

/* wudf_output_reserve, with room for exactly `rows` rows when `exact` is
 * set (no rounding up to a power of two). */
static int wudf__reserve(wudf_output* out, int64_t rows, int exact) {
  if (out->failed) return -1;
  if (wudf__taken(out)) return wudf__fail(out, "the output was replaced by a moved argument");
  if (out->builder == WUDF__BUILD_UNSUPPORTED) {
    if (rows <= 0) return 0;
    return wudf__fail(out, "results of this type cannot be built (unions, run-end encoded "
                           "and list views can only be moved from an argument with "
                           "wudf_output_take_input)");
  }
  if (rows <= out->capacity) return 0;
  if (rows > WUDF__MAX_ROWS) return wudf__fail(out, "more than 2^31 rows");
  if (exact) return wudf__reserve_exactly(out, rows);
  int64_t capacity = out->capacity < 64 ? 64 : out->capacity;
  while (capacity < rows) capacity *= 2;
  if (capacity > WUDF__MAX_ROWS) capacity = WUDF__MAX_ROWS;
  return wudf__reserve_exactly(out, capacity);
}

int wudf_output_reserve(wudf_output* out, int64_t rows) { return wudf__reserve(out, rows, 0); }

/* Grows `out` (not moved into, of a buildable type) to `capacity` rows,
 * more than it has and at most WUDF__MAX_ROWS: the new values zero, the
 * new rows valid. 0, or -1 with the output failed. */
static int wudf__reserve_exactly(wudf_output* out, int64_t capacity) {
  size_t old_bytes, new_bytes;
  if (wudf__value_bytes(out, out->capacity, &old_bytes) != 0 ||
      wudf__value_bytes(out, capacity, &new_bytes) != 0) {
    return wudf__fail(out, "out of memory");
  }
  if (new_bytes > 0 && wudf__grow(&out->values, old_bytes, new_bytes) != 0) {
    return wudf__fail(out, "out of memory");
  }
  if (out->validity != NULL) {
    size_t old_bits = (size_t)(out->capacity + 7) / 8;
    size_t new_bits = (size_t)(capacity + 7) / 8;
    if (wudf__grow((void**)&out->validity, old_bits, new_bits) != 0) {
      return wudf__fail(out, "out of memory");
    }
    /* New rows are valid until set null. */
    for (int64_t i = out->capacity; i < capacity; i++) {
      out->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
  }
  out->capacity = capacity;
  return 0;
}

int64_t wudf_output_rows(const wudf_output* out) {
  if (wudf__taken(out)) return out->taken.length;
  int64_t rows = out->length;
  if (out->builder == WUDF__BUILD_STRUCT) {
    for (int i = 0; i < out->n_children; i++) {
      int64_t child = wudf_output_rows(&out->children[i]);
      if (child > rows) rows = child;
    }
  } else if (out->builder == WUDF__BUILD_FIXED_LIST && out->list_size > 0) {
    int64_t child = wudf_output_rows(&out->children[0]);
    int64_t needed = child / out->list_size + (child % out->list_size != 0);
    if (needed > rows) rows = needed;
  }
  return rows;
}

/* The row count of the child of a list or map: its rows, with a struct
 * child's fields padded to them so later appends line up. -1 on failure
 * (the child is marked failed). */
static int64_t wudf__settle(wudf_output* child) {
  int64_t rows = wudf_output_rows(child);
  if (wudf__taken(child)) return rows;
  if (wudf_output_resize(child, rows) != 0) return -1;
  return rows;
}

int wudf_output_resize(wudf_output* out, int64_t rows) {
  if (out->failed) return -1;
  if (rows < 0) return wudf__fail(out, "a negative number of rows");
  if (wudf__taken(out)) {
    if (rows == out->taken.length) return 0;
    return wudf__fail(out, "a moved argument has a different number of rows");
  }
  if (wudf__ordered(out) && rows < out->length) {
    return wudf__fail(out, "rows of strings, binary, lists and maps cannot be removed");
  }
  if (wudf_output_reserve(out, rows) != 0) return -1;
  if (out->builder == WUDF__BUILD_STRING || out->builder == WUDF__BUILD_LARGE_STRING) {
    for (int64_t i = out->length; i < rows; i++) wudf__set_offset(out, i + 1, out->data_size);
  } else if (out->builder == WUDF__BUILD_LIST || out->builder == WUDF__BUILD_LARGE_LIST) {
    int64_t end = rows > out->length ? wudf__offset_at(out, out->length) : 0;
    for (int64_t i = out->length; i < rows; i++) wudf__set_offset(out, i + 1, end);
  } else if (rows < out->length) {
    /* Dropped rows become zero again, so growing back gives zero rows. */
    if (out->builder == WUDF__BUILD_FIXED || out->builder == WUDF__BUILD_VIEW) {
      size_t start, end;
      wudf__value_bytes(out, rows, &start);
      wudf__value_bytes(out, out->length, &end);
      memset((uint8_t*)out->values + start, 0, end - start);
    } else if (out->builder == WUDF__BUILD_BOOL) {
      for (int64_t i = rows; i < out->length; i++) {
        ((uint8_t*)out->values)[i >> 3] &= (uint8_t) ~(1u << (i & 7));
      }
    }
  }
  if (rows < out->length && out->validity != NULL) {
    for (int64_t i = rows; i < out->length; i++) {
      if ((out->validity[i >> 3] & (1u << (i & 7))) == 0) out->null_count--;
      out->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
  }
  out->length = rows;
  if (out->builder == WUDF__BUILD_STRUCT) {
    for (int i = 0; i < out->n_children; i++) {
      if (wudf_output_resize(&out->children[i], rows) != 0) {
        return wudf__fail(out, out->children[i].failure);
      }
    }
  } else if (out->builder == WUDF__BUILD_FIXED_LIST) {
    size_t values;
    if (wudf__bytes(rows, out->list_size, &values) != 0) {
      return wudf__fail(out, "too many values");
    }
    if (wudf_output_resize(&out->children[0], (int64_t)values) != 0) {
      return wudf__fail(out, out->children[0].failure);
    }
  }
  return 0;
}

/* Makes row `row` exist and marks it valid; 0 or -1. */
static int wudf__touch(wudf_output* out, int64_t row) {
  if (out->failed) return -1;
  if (row < 0) return wudf__fail(out, "a negative row");
  if (row == out->length && row < out->capacity &&
      (out->builder == WUDF__BUILD_FIXED || out->builder == WUDF__BUILD_BOOL)) {
    /* Appending into reserved room: rows past `length` are zero and valid
     * already (reserve and resize keep them so). */
    out->length = row + 1;
  } else if (row >= out->length) {
    if (out->builder == WUDF__BUILD_STRUCT || out->builder == WUDF__BUILD_FIXED_LIST) {
      /* Only the node's own rows: its children catch up when settled. */
      if (wudf_output_reserve(out, row + 1) != 0) return -1;
      out->length = row + 1;
    } else if (wudf_output_resize(out, row + 1) != 0) {
      return -1;
    }
  }
  if (out->validity != NULL && (out->validity[row >> 3] & (1u << (row & 7))) == 0) {
    out->validity[row >> 3] |= (uint8_t)(1u << (row & 7));
    out->null_count--;
  }
  return 0;
}

/* The slot of fixed-width row `row` of an output of `width` bytes per
 * value, made to exist; NULL (and the output failed) otherwise. */
static void* wudf__fixed_slot(wudf_output* out, int64_t row, int32_t width) {
  if (out->failed) return NULL;
  if (out->builder != WUDF__BUILD_FIXED || out->byte_width != width) {
    wudf__fail(out, "a setter for another type was used");
    return NULL;
  }
  if (wudf__touch(out, row) != 0) return NULL;
  return (uint8_t*)out->values + row * (int64_t)width;
}

/* Ends row `row` of a list or map with the child's current rows (rows in
 * between empty); 0 or -1. */
static int wudf__end_list_row(wudf_output* out, int64_t row) {
  if (row < out->length - 1) return wudf__fail(out, "list rows were ended out of order");
  int64_t end = wudf__settle(&out->children[0]);
  if (end < 0) return wudf__fail(out, out->children[0].failure);
  if (!wudf__large(out) && end > INT32_MAX) {
    return wudf__fail(out, "more than 2^31 - 1 list values (use a large list)");
  }
  if (wudf__touch(out, row) != 0) return -1;
  if (end < wudf__offset_at(out, row)) return wudf__fail(out, "list values were removed");
  wudf__set_offset(out, row + 1, end);
  return 0;
}

void wudf_list_end_row(wudf_output* out, int64_t row) {
  if (out->failed) return;
  if (out->builder == WUDF__BUILD_LIST || out->builder == WUDF__BUILD_LARGE_LIST) {
    wudf__end_list_row(out, row);
  } else if (out->builder == WUDF__BUILD_FIXED_LIST) {
    if (wudf__touch(out, row) != 0) return;
    size_t needed;
    if (wudf__bytes(row + 1, out->list_size, &needed) != 0) {
      wudf__fail(out, "too many values");
      return;
    }
    wudf_output* values = &out->children[0];
    if (wudf_output_rows(values) < (int64_t)needed &&
        wudf_output_resize(values, (int64_t)needed) != 0) {
      wudf__fail(out, values->failure);
    }
  } else {
    wudf__fail(out, "wudf_list_end_row was used on an output that is not a list or map");
  }
}

void wudf_set_null(wudf_output* out, int64_t row) {
  if (out->failed) return;
  if (wudf__ordered(out) && row < out->length - 1) {
    wudf__fail(out, "rows of strings, binary, lists and maps were set out of order");
    return;
  }
  if (out->builder == WUDF__BUILD_LIST || out->builder == WUDF__BUILD_LARGE_LIST) {
    if (row >= out->length && wudf__end_list_row(out, row) != 0) return;
  } else if (wudf__touch(out, row) != 0) {
    return;
  }
  if (out->builder == WUDF__BUILD_NULL) return; /* every row is null */
  if (out->validity == NULL) {
    size_t bytes = (size_t)(out->capacity + 7) / 8;
    out->validity = malloc(bytes == 0 ? 1 : bytes);
    if (out->validity == NULL) {
      wudf__fail(out, "out of memory");
      return;
    }
    memset(out->validity, 0xff, bytes == 0 ? 1 : bytes);
  }
  if ((out->validity[row >> 3] & (1u << (row & 7))) != 0) {
    out->validity[row >> 3] &= (uint8_t) ~(1u << (row & 7));
    out->null_count++;
  }
}

void wudf_set_bool(wudf_output* out, int64_t row, bool value) {
  if (out->failed) return;
  if (out->builder != WUDF__BUILD_BOOL) {
    wudf__fail(out, "a setter for another type was used");
    return;
  }
  if (wudf__touch(out, row) != 0) return;
  uint8_t* bits = out->values;
  if (value) {
    bits[row >> 3] |= (uint8_t)(1u << (row & 7));
  } else {
    bits[row >> 3] &= (uint8_t) ~(1u << (row & 7));
  }
}

/* The checked paths of the inline setters of guest.h (wudf__direct_slot
 * declined the row). */
#define WUDF__SETTER(name, ctype)                                         \
  void wudf__set_##name##_checked(wudf_output* out, int64_t row, ctype value) { \
    void* slot = wudf__fixed_slot(out, row, (int32_t)sizeof(ctype));     \
    if (slot != NULL) memcpy(slot, &value, sizeof(value));               \
  }
WUDF__SETTER(int8, int8_t)
WUDF__SETTER(int16, int16_t)
WUDF__SETTER(int32, int32_t)
WUDF__SETTER(int64, int64_t)
WUDF__SETTER(uint8, uint8_t)
WUDF__SETTER(uint16, uint16_t)
WUDF__SETTER(uint32, uint32_t)
WUDF__SETTER(uint64, uint64_t)
WUDF__SETTER(decimal128, wudf_decimal128)
WUDF__SETTER(decimal256, wudf_decimal256)
WUDF__SETTER(interval_day_time, wudf_interval_day_time)
WUDF__SETTER(interval_month_day_nano, wudf_interval_month_day_nano)
#undef WUDF__SETTER

/* Float setters insist on their own type: their bits mean nothing else. */
#define WUDF__FLOAT_SETTER(name, ctype, code, converted)                  \
  void wudf__set_##name##_checked(wudf_output* out, int64_t row, ctype value) { \
    if (out->failed) return;                                             \
    if (out->type != (code) || out->is_dictionary) {                     \
      wudf__fail(out, "a setter for another type was used");             \
      return;                                                            \
    }                                                                    \
    void* slot = wudf__fixed_slot(out, row, (int32_t)sizeof(converted)); \
    if (slot != NULL) {                                                  \
      converted stored = (converted)(value);                             \
      memcpy(slot, &stored, sizeof(stored));                             \
    }                                                                    \
  }
WUDF__FLOAT_SETTER(float32, float, WUDF_FLOAT32, float)
WUDF__FLOAT_SETTER(float64, double, WUDF_FLOAT64, double)
#undef WUDF__FLOAT_SETTER

void wudf_set_float16(wudf_output* out, int64_t row, float value) {
  if (out->failed) return;
  if (out->type != WUDF_FLOAT16) {
    wudf__fail(out, "a setter for another type was used");
    return;
  }
  wudf_set_uint16(out, row, wudf_float16_from_float(value));
}

void wudf_set_fixed(wudf_output* out, int64_t row, const void* bytes) {
  if (out->failed) return;
  void* slot = wudf__fixed_slot(out, row, out->byte_width);
  if (slot != NULL && out->byte_width > 0) memcpy(slot, bytes, (size_t)out->byte_width);
}

/* Appends `size` bytes of room to the data buffer of a string, binary or
 * view output (at most `limit` bytes in all); returns where they start, or
 * NULL (and the output failed). */
static uint8_t* wudf__data_room(wudf_output* out, size_t size, int64_t limit) {
  if ((uint64_t)size > (uint64_t)(limit - out->data_size)) {
    wudf__fail(out, "too many bytes of strings or binary for the type");
    return NULL;
  }
  int64_t needed = out->data_size + (int64_t)size;
  if (needed > out->data_capacity || out->data == NULL) {
    int64_t capacity = out->data_capacity < 256 ? 256 : out->data_capacity;
    while (capacity < needed) capacity *= 2;
    if ((uint64_t)capacity > WUDF__MAX_BYTES) capacity = (int64_t)WUDF__MAX_BYTES;
    if (capacity < needed) {
      wudf__fail(out, "out of memory");
      return NULL;
    }
    void* grown = realloc(out->data, (size_t)capacity);
    if (grown == NULL) {
      wudf__fail(out, "out of memory");
      return NULL;
    }
    out->data = grown;
    out->data_capacity = capacity;
  }
  uint8_t* target = out->data + out->data_size;
  out->data_size = needed;
  return target;
}

/* wudf_set_str_uninit for views: any row, any order. */
static char* wudf__set_view(wudf_output* out, int64_t row, size_t size) {
  if (size > INT32_MAX) {
    wudf__fail(out, "a view value of more than 2^31 - 1 bytes");
    return NULL;
  }
  if (wudf__touch(out, row) != 0) return NULL;
  int32_t at = 0;
  uint8_t* target = NULL;
  if (size > 12) {
    int64_t start = out->data_size;
    target = wudf__data_room(out, size, INT32_MAX);
    if (target == NULL) return NULL;
    at = (int32_t)start;
  }
  uint8_t* view = (uint8_t*)out->values + row * 16;
  int32_t length = (int32_t)size;
  int32_t buffer = 0;
  memset(view, 0, 16);
  memcpy(view, &length, 4);
  if (size <= 12) return (char*)view + 4;
  /* The prefix (bytes 4..8) is copied from the data when the output is
   * finished, since the caller writes the data after this returns. */
  memcpy(view + 8, &buffer, 4);
  memcpy(view + 12, &at, 4);
  return (char*)target;
}

char* wudf_set_str_uninit(wudf_output* out, int64_t row, size_t size) {
  /* The common case first: the next row, with room for it and its bytes. */
  if (row == out->length && row < out->capacity && out->data != NULL && !out->failed &&
      size <= (uint64_t)(out->data_capacity - out->data_size)) {
    if (out->builder == WUDF__BUILD_STRING) {
      if (out->data_size + (int64_t)size <= INT32_MAX) {
        char* target = (char*)out->data + out->data_size;
        out->data_size += (int64_t)size;
        ((int32_t*)out->values)[row + 1] = (int32_t)out->data_size;
        out->length = row + 1;
        return target;
      }
    } else if (out->builder == WUDF__BUILD_LARGE_STRING) {
      char* target = (char*)out->data + out->data_size;
      out->data_size += (int64_t)size;
      ((int64_t*)out->values)[row + 1] = out->data_size;
      out->length = row + 1;
      return target;
    }
  }
  if (out->failed) return NULL;
  if (out->builder == WUDF__BUILD_VIEW) return wudf__set_view(out, row, size);
  if (out->builder == WUDF__BUILD_FIXED && out->type == WUDF_FIXED_SIZE_BINARY) {
    if (size != (size_t)out->byte_width) {
      wudf__fail(out, "a fixed_size_binary value of another size");
      return NULL;
    }
    return wudf__fixed_slot(out, row, out->byte_width);
  }
  if (out->builder != WUDF__BUILD_STRING && out->builder != WUDF__BUILD_LARGE_STRING) {
    wudf__fail(out, "a string setter was used on an output that is not a string or binary");
    return NULL;
  }
  /* Strings are written in row order: only the last row, if still empty,
   * or a later one. */
  if (row < out->length - 1 ||
      (row == out->length - 1 && wudf__offset_at(out, row + 1) != wudf__offset_at(out, row))) {
    wudf__fail(out, "rows of strings, binary, lists and maps were set out of order");
    return NULL;
  }
  if (wudf__touch(out, row) != 0) return NULL;
  uint8_t* target =
      wudf__data_room(out, size, out->builder == WUDF__BUILD_LARGE_STRING ? INT64_MAX : INT32_MAX);
  if (target == NULL) return NULL;
  wudf__set_offset(out, row + 1, out->data_size);
  return (char*)target;
}

void wudf_set_str(wudf_output* out, int64_t row, const char* data, size_t size) {
  char* target = wudf_set_str_uninit(out, row, size);
  if (target != NULL) wudf_copy_bytes(target, data, size);
}

/* ------------------------------------------------------------- fast paths */

void* wudf_output_fixed_values(wudf_output* out, int64_t rows, int32_t width) {
  if (out->failed) return NULL;
  if (out->builder != WUDF__BUILD_FIXED || out->byte_width != width) {
    wudf__fail(out, "wudf_output_values_* of another width was used");
    return NULL;
  }
  if (rows != out->length && wudf_output_resize(out, rows) != 0) return NULL;
  if (out->values == NULL && wudf_output_reserve(out, 1) != 0) return NULL;
  return out->values;
}

uint8_t* wudf_output_validity(wudf_output* out) {
  if (out->failed) return NULL;
  if (out->builder == WUDF__BUILD_NULL || out->builder == WUDF__BUILD_UNSUPPORTED ||
      wudf__taken(out)) {
    wudf__fail(out, "wudf_output_validity was used on an output without a validity bitmap");
    return NULL;
  }
  if (out->validity == NULL) {
    size_t bytes = (size_t)(out->capacity + 7) / 8;
    out->validity = malloc(bytes == 0 ? 1 : bytes);
    if (out->validity == NULL) {
      wudf__fail(out, "out of memory");
      return NULL;
    }
    memset(out->validity, 0xff, bytes == 0 ? 1 : bytes);
  }
  /* Its bits change without the setters: count the nulls at the end. */
  out->recount = 1;
  return out->validity;
}

char* wudf_output_str_sized_like(wudf_output* out, const wudf_input* in) {
  if (out->failed) return NULL;
  if (in->type != WUDF_UTF8 && in->type != WUDF_BINARY) {
    wudf__fail(out, "wudf_output_str_sized_like was given an input that is not utf8 or binary");
    return NULL;
  }
  if (out->length != 0) {
    wudf__fail(out, "wudf_output_str_sized_like was used on an output with rows");
    return NULL;
  }
  const int32_t* offsets = (const int32_t*)in->values + in->offset;
  int64_t rows = in->length;
  int64_t base = offsets[0], bytes = (int64_t)offsets[rows] - base;
  if (wudf_output_reserve_str(out, rows, bytes) != 0) return NULL;
  int32_t* target = out->values;
  if (base == 0) {
    memcpy(target, offsets, (size_t)(rows + 1) * sizeof(int32_t));
  } else {
    for (int64_t row = 0; row <= rows; row++) target[row] = (int32_t)(offsets[row] - base);
  }
  if (in->validity != NULL && rows > 0) {
    uint8_t* validity = wudf_output_validity(out);
    if (validity == NULL) return NULL;
    for (int64_t row = 0; row < rows; row++) {
      if (!wudf_bit_get(in->validity, in->offset + row)) wudf_bit_clear(validity, row);
    }
  }
  out->length = rows;
  out->data_size = bytes;
  return (char*)out->data;
}

int wudf_output_reserve_str(wudf_output* out, int64_t rows, int64_t bytes) {
  if (out->failed) return -1;
  if (out->builder != WUDF__BUILD_STRING) {
    return wudf__fail(out, "wudf_output_reserve_str was used on an output that is not "
                           "utf8 or binary");
  }
  if (rows < 0 || bytes < 0 || bytes > INT32_MAX - out->data_size ||
      rows > WUDF__MAX_ROWS - out->length) {
    return wudf__fail(out, "too many rows or bytes of strings for the type");
  }
  /* Offsets entry `length + rows` must exist: capacity is in rows, and the
   * offsets buffer has capacity + 1 entries. */
  if (wudf_output_reserve(out, out->length + rows) != 0) return -1;
  if (out->length == 0) ((int32_t*)out->values)[0] = 0;
  int64_t needed = out->data_size + bytes;
  if (needed > out->data_capacity || out->data == NULL) {
    int64_t capacity = out->data_capacity < 256 ? 256 : out->data_capacity;
    while (capacity < needed) capacity *= 2;
    if ((uint64_t)capacity > WUDF__MAX_BYTES) capacity = (int64_t)WUDF__MAX_BYTES;
    void* grown = realloc(out->data, (size_t)capacity);
    if (grown == NULL) return wudf__fail(out, "out of memory");
    out->data = grown;
    out->data_capacity = capacity;
  }
  return 0;
}

/* --------------------------------------------------------- dictionaries */

void wudf_set_index(wudf_output* out, int64_t row, int64_t index) {
  if (out->failed) return;
  if (!out->is_dictionary) {
    wudf__fail(out, "wudf_set_index was used on an output that is not a dictionary");
    return;
  }
  int64_t limit;
  switch (out->type) {
    case WUDF_INT8: limit = INT8_MAX; break;
    case WUDF_UINT8: limit = UINT8_MAX; break;
    case WUDF_INT16: limit = INT16_MAX; break;
    case WUDF_UINT16: limit = UINT16_MAX; break;
    case WUDF_INT32: limit = INT32_MAX; break;
    case WUDF_UINT32: limit = UINT32_MAX; break;
    default: limit = INT64_MAX; break;
  }
  if (index < 0 || index > limit) {
    wudf__fail(out, "a dictionary index out of the index type's range");
    return;
  }
  uint8_t* slot = wudf__fixed_slot(out, row, out->byte_width);
  if (slot == NULL) return;
  /* Little-endian: the low bytes of the index are the narrower value. */
  memcpy(slot, &index, (size_t)out->byte_width);
}

/* wudf_dict_add_str's hash table: slots hold index + 1, or 0 when empty. */
struct wudf__dedup {
  int64_t* slots;
  int64_t capacity; /* a power of two */
  int64_t count;    /* values in the table (the dictionary's rows) */
};

/* FNV-1a over the bytes. */
static uint64_t wudf__hash(const char* data, size_t size) {
  uint64_t hash = 0xcbf29ce484222325u;
  for (size_t i = 0; i < size; i++) {
    hash ^= (uint8_t)data[i];
    hash *= 0x100000001b3u;
  }
  return hash;
}

/* Row `row` of a string, binary or view output being built. */
static wudf_str wudf__output_str(const wudf_output* out, int64_t row) {
  wudf_str s;
  if (out->builder == WUDF__BUILD_VIEW) {
    const uint8_t* view = (const uint8_t*)out->values + row * 16;
    int32_t size, at;
    memcpy(&size, view, 4);
    memcpy(&at, view + 12, 4);
    s.size = (size_t)size;
    s.data = size <= 12 ? (const char*)view + 4 : (const char*)out->data + at;
  } else {
    int64_t start = wudf__offset_at(out, row);
    s.data = (const char*)out->data + start;
    s.size = (size_t)(wudf__offset_at(out, row + 1) - start);
  }
  return s;
}

/* Grows the table to `capacity` slots and re-inserts every value; 0 or -1. */
static int wudf__dedup_rehash(struct wudf__dedup* table, const wudf_output* values,
                              int64_t capacity) {
  size_t bytes;
  if (wudf__bytes(capacity, 8, &bytes) != 0) return -1;
  int64_t* slots = calloc(1, bytes);
  if (slots == NULL) return -1;
  for (int64_t row = 0; row < table->count; row++) {
    wudf_str s = wudf__output_str(values, row);
    uint64_t at = wudf__hash(s.data, s.size) & (uint64_t)(capacity - 1);
    while (slots[at] != 0) at = (at + 1) & (uint64_t)(capacity - 1);
    slots[at] = row + 1;
  }
  free(table->slots);
  table->slots = slots;
  table->capacity = capacity;
  return 0;
}

int64_t wudf_dict_add_str(wudf_output* out, const char* data, size_t size) {
  if (out->failed) return -1;
  wudf_output* values = out->dictionary;
  if (!out->is_dictionary ||
      (values->builder != WUDF__BUILD_STRING && values->builder != WUDF__BUILD_LARGE_STRING &&
       values->builder != WUDF__BUILD_VIEW) || wudf__taken(values)) {
    wudf__fail(out, "wudf_dict_add_str needs a dictionary of strings or binary");
    return -1;
  }
  struct wudf__dedup* table = out->dedup;
  if (table == NULL) {
    table = calloc(1, sizeof(*table));
    if (table == NULL) {
      wudf__fail(out, "out of memory");
      return -1;
    }
    out->dedup = table;
  }
  if (values->length != table->count) {
    wudf__fail(out, "the dictionary values were changed outside wudf_dict_add_str");
    return -1;
  }
  if ((table->count + 1) * 2 > table->capacity &&
      wudf__dedup_rehash(table, values, table->capacity < 16 ? 16 : table->capacity * 2) != 0) {
    wudf__fail(out, "out of memory");
    return -1;
  }
  uint64_t mask = (uint64_t)(table->capacity - 1);
  uint64_t at = wudf__hash(data, size) & mask;
  for (; table->slots[at] != 0; at = (at + 1) & mask) {
    wudf_str s = wudf__output_str(values, table->slots[at] - 1);
    if (s.size == size && (size == 0 || memcmp(s.data, data, size) == 0)) {
      return table->slots[at] - 1;
    }
  }
  int64_t index = values->length;
  wudf_set_str(values, index, data, size);
  if (values->failed) {
    wudf__fail(out, values->failure);
    return -1;
  }
  table->slots[at] = index + 1;
  table->count++;
  return index;
}

void wudf_set_dict_str(wudf_output* out, int64_t row, const char* data, size_t size) {
  int64_t index = wudf_dict_add_str(out, data, size);
  if (index >= 0) wudf_set_index(out, row, index);
}

/* ------------------------------------------------------- building outputs */

static void wudf__taken_schema_drop(wudf_output* out);

/* Frees what the output tree owns except its structure (buffers, moved
 * arguments, tables), leaving every node empty and usable again. */
static void wudf__output_clear(wudf_output* out) {
  free(out->validity);
  free(out->values);
  free(out->data);
  if (out->dedup != NULL) {
    free(((struct wudf__dedup*)out->dedup)->slots);
    free(out->dedup);
  }
  if (wudf__taken(out)) out->taken.release(&out->taken);
  wudf__taken_schema_drop(out);
  out->validity = NULL;
  out->values = NULL;
  out->data = NULL;
  out->dedup = NULL;
  out->length = out->capacity = out->null_count = 0;
  out->data_size = out->data_capacity = 0;
  out->failed = 0;
  out->recount = 0;
  out->failure = NULL;
  memset(&out->taken, 0, sizeof(out->taken));
  for (int i = 0; i < out->n_children; i++) wudf__output_clear(&out->children[i]);
  if (out->dictionary != NULL) wudf__output_clear(out->dictionary);
}

/* Frees the output tree entirely (the node itself excepted). */
static void wudf__output_destroy(wudf_output* out) {
  wudf__output_clear(out);
  for (int i = 0; i < out->n_children; i++) wudf__output_destroy(&out->children[i]);
  free(out->children);
  if (out->dictionary != NULL) {
    wudf__output_destroy(out->dictionary);
    free(out->dictionary);
  }
  free(out->format);
  memset(out, 0, sizeof(*out));
}

/* The text of a map's entries child, when wudf__type_child needs one. */
static char wudf__type_scratch[WUDF__MAX_SIGNATURE];

/* The builder of a layout. */
static uint8_t wudf__builder_of(const struct wudf__format* layout) {
  switch (layout->layout) {
    case WUDF__LAYOUT_NULL: return WUDF__BUILD_NULL;
    case WUDF__LAYOUT_BOOL: return WUDF__BUILD_BOOL;
    case WUDF__LAYOUT_FIXED: return WUDF__BUILD_FIXED;
    case WUDF__LAYOUT_BINARY: return WUDF__BUILD_STRING;
    case WUDF__LAYOUT_LARGE_BINARY: return WUDF__BUILD_LARGE_STRING;
    case WUDF__LAYOUT_VIEW: return WUDF__BUILD_VIEW;
    case WUDF__LAYOUT_LIST:
    case WUDF__LAYOUT_MAP: return WUDF__BUILD_LIST;
    case WUDF__LAYOUT_LARGE_LIST: return WUDF__BUILD_LARGE_LIST;
    case WUDF__LAYOUT_FIXED_LIST: return WUDF__BUILD_FIXED_LIST;
    case WUDF__LAYOUT_STRUCT: return WUDF__BUILD_STRUCT;
    default: return WUDF__BUILD_UNSUPPORTED;
  }
}

/* Sets the type code, builder and parameters of `out` from its format
 * string; returns the layout (enum wudf__layout), or 0 for a format the
 * layout table refuses. Kept out of wudf__output_init's recursion so that
 * the parsed format is not on the stack once per nesting level. */
__attribute__((noinline)) static uint8_t wudf__output_node(wudf_output* out) {
  struct wudf__format layout;
  if (wudf__format_parse(out->format, &layout) != 0) return 0;
  out->type = wudf__type_code(out->format, &layout);
  out->builder = wudf__builder_of(&layout);
  out->unit = wudf__unit(layout.unit);
  out->timezone = out->type == WUDF_TIMESTAMP ? layout.timezone : NULL;
  out->precision = layout.precision;
  out->scale = layout.scale;
  out->byte_width = (int32_t)layout.byte_width;
  out->list_size = layout.list_size;
  return layout.layout;
}

/* Makes `out` an empty output of the canonical type `text` (`length`
 * bytes), named `name` (`name_length` bytes), with schema flags `flags`.
 * Children and dictionary are made recursively. Returns 0, or -1 (out of
 * memory or not a canonical type); `out` is destroyable either way. */
static int wudf__output_init(wudf_output* out, const char* text, size_t length,
                             const char* name, size_t name_length, int64_t flags) {
  memset(out, 0, sizeof(*out));
  /* One block for the node's strings: its type text is copied first, so
   * that texts decoded from it (and the shared scratch) stay valid. */
  size_t bytes = length + 1 + name_length + 1 + WUDF__MAX_FORMAT;
  char* strings = malloc(bytes);
  if (strings == NULL) return -1;
  out->format = strings;
  char* type_text = strings + WUDF__MAX_FORMAT;
  char* own_name = type_text + length + 1;
  memcpy(type_text, text, length);
  type_text[length] = '\0';
  memcpy(own_name, name, name_length);
  own_name[name_length] = '\0';
  out->type_text = type_text;
  out->type_length = length;
  out->name = own_name;
  struct wudf__type_node node;
  if (wudf__type_decode(type_text, length, &node) != 0) return -1;
  memcpy(out->format, node.format, WUDF__MAX_FORMAT);
  out->format[WUDF__MAX_FORMAT - 1] = '\0';
  uint8_t layout = wudf__output_node(out);
  if (layout == 0) return -1;
  out->flags = flags | (node.ordered ? ARROW_FLAG_DICTIONARY_ORDERED : 0);
  if (node.child_count > 0) {
    out->children = calloc(node.child_count, sizeof(wudf_output));
    if (out->children == NULL) return -1;
    out->n_children = (int)node.child_count;
    for (uint32_t i = 0; i < node.child_count; i++) {
      const char *child_name, *child_text;
      size_t child_name_length, child_length;
      if (wudf__type_child(&node, i, &child_name, &child_name_length, &child_text,
                           &child_length, wudf__type_scratch) != 0) {
        return -1;
      }
      /* A map's entries and their keys, and run ends, are never null. */
      int64_t child_flags = ARROW_FLAG_NULLABLE;
      if (layout == WUDF__LAYOUT_MAP || layout == WUDF__LAYOUT_RUN_END) {
        if (i == 0) child_flags = 0;
      }
      if (wudf__output_init(&out->children[i], child_text, child_length, child_name,
                            child_name_length, child_flags) != 0) {
        return -1;
      }
      if (layout == WUDF__LAYOUT_MAP && out->children[i].n_children > 0) {
        out->children[i].children[0].flags = 0;
      }
    }
  }
  if (node.dictionary) {
    const char* values_text;
    size_t values_length;
    if (wudf__type_dictionary(&node, &values_text, &values_length) != 0) return -1;
    out->is_dictionary = true;
    out->dictionary = calloc(1, sizeof(wudf_output));
    if (out->dictionary == NULL) return -1;
    if (wudf__output_init(out->dictionary, values_text, values_length, "", 0,
                          ARROW_FLAG_NULLABLE) != 0) {
      return -1;
    }
  }
  return 0;
}

/* Gives a scalar result its call's rows where rows may be set in any
 * order, so functions can write values directly; 0 or -1. */
static int wudf__presize(wudf_output* out, int64_t rows) {
  switch (out->builder) {
    case WUDF__BUILD_NULL:
    case WUDF__BUILD_BOOL:
    case WUDF__BUILD_FIXED:
    case WUDF__BUILD_VIEW:
      /* The rows exactly: a scalar result never has more, and room past
       * them would only be zeroed for nothing (reserve rounds up to a
       * power of two: up to twice the bytes). */
      if (wudf__reserve(out, rows, 1) != 0) return -1;
      return wudf_output_resize(out, rows);
    case WUDF__BUILD_STRUCT:
      if (wudf_output_reserve(out, rows) != 0) return -1;
      out->length = rows;
      for (int i = 0; i < out->n_children; i++) {
        if (wudf__presize(&out->children[i], rows) != 0) return -1;
      }
      return 0;
    default:
      return 0;
  }
}

/* ------------------------------------------------- schemas of moved inputs */

/* A schema node copied from an input, owning its strings and children. */
struct wudf__copied_schema {
  struct ArrowSchema schema;
  struct ArrowSchema* children[];
};

/* Releases a copied schema tree (children, dictionary, strings). */
static void wudf__copied_schema_release(struct ArrowSchema* schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    struct ArrowSchema* child = schema->children[i];
    if (child != NULL && child->release != NULL) child->release(child);
  }
  if (schema->dictionary != NULL && schema->dictionary->release != NULL) {
    schema->dictionary->release(schema->dictionary);
  }
  free((void*)schema->format);
  free((void*)schema->name);
  free((void*)schema->metadata);
  schema->release = NULL;
  free(schema->private_data);
}

/* The size of a C Data Interface metadata blob (int32 count, then
 * length-prefixed keys and values); 0 for none. */
static size_t wudf__metadata_size(const char* metadata) {
  if (metadata == NULL) return 0;
  int32_t pairs;
  memcpy(&pairs, metadata, 4);
  size_t size = 4;
  for (int32_t i = 0; i < pairs * 2; i++) {
    int32_t length;
    memcpy(&length, metadata + size, 4);
    size += 4 + (size_t)length;
  }
  return size;
}

/* A malloc'd copy of `size` bytes of `bytes` (NULL for NULL). */
static char* wudf__bytes_copy(const char* bytes, size_t size) {
  if (bytes == NULL) return NULL;
  char* copy = malloc(size > 0 ? size : 1);
  if (copy != NULL) memcpy(copy, bytes, size);
  return copy;
}

/* Deep-copies the schema tree `source` (an input's, checked by the host)
 * with its names, flags and metadata, the root named `name` when not NULL.
 * Returns the copy (release it) or NULL when out of memory. */
static struct ArrowSchema* wudf__schema_copy(const struct ArrowSchema* source, const char* name) {
  int64_t n_children = source->n_children > 0 ? source->n_children : 0;
  struct wudf__copied_schema* node =
      calloc(1, sizeof(*node) + (size_t)n_children * sizeof(struct ArrowSchema*));
  if (node == NULL) return NULL;
  struct ArrowSchema* schema = &node->schema;
  schema->private_data = node;
  schema->release = wudf__copied_schema_release;
  schema->flags = source->flags;
  schema->children = n_children > 0 ? node->children : NULL;
  if (name == NULL) name = source->name != NULL ? source->name : "";
  schema->format = wudf__bytes_copy(source->format, strlen(source->format) + 1);
  schema->name = wudf__bytes_copy(name, strlen(name) + 1);
  schema->metadata = wudf__bytes_copy(source->metadata, wudf__metadata_size(source->metadata));
  int failed = schema->format == NULL || schema->name == NULL ||
               (source->metadata != NULL && schema->metadata == NULL);
  for (int64_t i = 0; i < n_children && !failed; i++) {
    node->children[i] = wudf__schema_copy(source->children[i], NULL);
    if (node->children[i] == NULL) failed = 1;
    else schema->n_children = i + 1;
  }
  if (!failed && source->dictionary != NULL) {
    schema->dictionary = wudf__schema_copy(source->dictionary, NULL);
    if (schema->dictionary == NULL) failed = 1;
  }
  if (failed) {
    wudf__copied_schema_release(schema);
    return NULL;
  }
  return schema;
}

/* Drops the copy of a moved input's schema an output holds, if any. */
static void wudf__taken_schema_drop(wudf_output* out) {
  if (out->taken_schema != NULL) out->taken_schema->release(out->taken_schema);
  out->taken_schema = NULL;
}

int wudf_output_take_input(wudf_output* out, const wudf_input* in) {
  struct ArrowArray* array = (struct ArrowArray*)in->array;
  if (array->release == NULL) {
    return wudf_error("wudf_output_take_input: the input was already moved");
  }
  if (in->offset != array->offset || in->length != array->length) {
    return wudf_error("wudf_output_take_input: only an argument, a list's values or a "
                      "dictionary can be moved (a struct field has its parent's rows)");
  }
  char message[256];
  if (wudf__type_match(out->type_text, out->type_length, in->schema, message,
                       sizeof(message)) != 0) {
    return wudf_error("wudf_output_take_input: the input does not have the output's type "
                      "%s: %s", out->type_text, message);
  }
  wudf__output_clear(out);
  /* The result keeps the input's own schema (field names, nullability,
   * metadata such as an extension type), not just its declared type. */
  out->taken_schema = wudf__schema_copy(in->schema, NULL);
  if (out->taken_schema == NULL) return wudf_error("wudf_output_take_input: out of memory");
  /* Moving, as the C Data Interface defines it: copy, mark the source
   * released. The input block lives until this copy is released. */
  out->taken = *array;
  array->release = NULL;
  out->length = out->taken.length;
  out->null_count = out->taken.null_count;
  return 0;
}

/* ------------------------------------------------------ finishing outputs */

/* The path of the node being finished, for messages ("result.a.item"). */
struct wudf__path {
  char text[256];
  size_t length;
};

/* Appends "." and `name` (or `fallback` when empty) to the path; returns
 * the previous length for wudf__path_pop. */
static size_t wudf__path_push(struct wudf__path* path, const char* name, const char* fallback) {
  size_t previous = path->length;
  const char* part = name != NULL && name[0] != '\0' ? name : fallback;
  int written = snprintf(path->text + path->length, sizeof(path->text) - path->length, ".%s",
                         part);
  if (written > 0) {
    path->length += (size_t)written;
    if (path->length >= sizeof(path->text)) path->length = sizeof(path->text) - 1;
  }
  return previous;
}

/* Restores the path to `length`. */
static void wudf__path_pop(struct wudf__path* path, size_t length) {
  path->length = length;
  path->text[length] = '\0';
}

/* Makes the output tree final: rows padded to `rows` (-1: as built), view
 * prefixes filled, every buffer the export needs allocated. Returns 0, or
 * a nonzero code with the error message set (naming `function` and the
 * node's path). The tree stays destroyable. */
static int wudf__finish(wudf_output* out, int64_t rows, const char* function,
                        struct wudf__path* path) {
  if (wudf__taken(out)) {
    if (rows >= 0 && out->taken.length != rows) {
      return wudf_error("%s: %s: the moved argument has %lld rows, the result needs %lld",
                        function, path->text, (long long)out->taken.length,
                        (long long)rows);
    }
    return 0;
  }
  if (out->failed) {
    return wudf_error("%s: %s (%s): %s", function, path->text, out->type_text,
                      out->failure != NULL ? out->failure : "failed");
  }
  int64_t built = wudf_output_rows(out);
  if (rows < 0) rows = built;
  if (built > rows) {
    return wudf_error("%s: %s has %lld rows, the result needs %lld", function, path->text,
                      (long long)built, (long long)rows);
  }
  if (out->builder == WUDF__BUILD_UNSUPPORTED && rows > 0) {
    return wudf_error("%s: %s (%s): results of this type cannot be built; move an argument "
                      "of the type into it with wudf_output_take_input", function,
                      path->text, out->type_text);
  }
  /* Rows, and the buffers an empty array still needs (offsets of row 0). */
  if (wudf_output_resize(out, rows) != 0 ||
      (out->values == NULL && out->builder != WUDF__BUILD_UNSUPPORTED &&
       wudf_output_reserve(out, 1) != 0)) {
    return wudf_error("%s: %s (%s): %s", function, path->text, out->type_text,
                      out->failure != NULL ? out->failure : "failed");
  }
  if (out->builder == WUDF__BUILD_UNSUPPORTED || out->builder == WUDF__BUILD_STRING ||
      out->builder == WUDF__BUILD_LARGE_STRING || out->builder == WUDF__BUILD_VIEW ||
      out->builder == WUDF__BUILD_NULL || out->builder == WUDF__BUILD_STRUCT ||
      out->builder == WUDF__BUILD_FIXED_LIST) {
    /* Empty placeholders where the layout has buffers without values. */
    if (out->values == NULL) out->values = calloc(1, 16);
    if (out->data == NULL) out->data = malloc(1);
    if (out->values == NULL || out->data == NULL) {
      return wudf_error("%s: out of memory", function);
    }
  }
  if (out->builder == WUDF__BUILD_NULL) out->null_count = rows;
  if (out->recount && out->validity != NULL) {
    /* wudf_output_validity handed the bitmap out: count what it says,
     * 64 rows per popcount (an i64.popcnt, which may become a call where
     * the host's compiler cannot assume the instruction). */
    int64_t valid = 0, words = rows >> 6, whole = rows >> 3;
    for (int64_t word = 0; word < words; word++) {
      uint64_t bits;
      memcpy(&bits, out->validity + word * 8, sizeof(bits));
      valid += __builtin_popcountll(bits);
    }
    for (int64_t byte = words * 8; byte < whole; byte++) {
      valid += __builtin_popcount(out->validity[byte]);
    }
    for (int64_t row = whole << 3; row < rows; row++) {
      valid += out->validity[row >> 3] >> (row & 7) & 1u;
    }
    out->null_count = rows - valid;
  }
  if (out->builder == WUDF__BUILD_VIEW) {
    for (int64_t row = 0; row < rows; row++) {
      uint8_t* view = (uint8_t*)out->values + row * 16;
      int32_t size, at;
      memcpy(&size, view, 4);
      memcpy(&at, view + 12, 4);
      if (size > 12) memcpy(view + 4, out->data + at, 4);
    }
  }
  for (int i = 0; i < out->n_children; i++) {
    int64_t child_rows = -1;
    if (out->builder == WUDF__BUILD_STRUCT || out->builder == WUDF__BUILD_UNSUPPORTED) {
      child_rows = rows;
    } else if (out->builder == WUDF__BUILD_FIXED_LIST) {
      child_rows = rows * out->list_size; /* checked by the resize above */
    }
    size_t previous = wudf__path_push(path, out->children[i].name, "item");
    int status = wudf__finish(&out->children[i], child_rows, function, path);
    wudf__path_pop(path, previous);
    if (status != 0) return status;
    if ((out->builder == WUDF__BUILD_LIST || out->builder == WUDF__BUILD_LARGE_LIST) &&
        wudf_output_rows(&out->children[0]) < wudf__offset_at(out, rows)) {
      return wudf_error("%s: %s: list values were removed", function, path->text);
    }
  }
  if (out->dictionary != NULL) {
    size_t previous = wudf__path_push(path, "dictionary", "dictionary");
    int status = wudf__finish(out->dictionary, -1, function, path);
    wudf__path_pop(path, previous);
    if (status != 0) return status;
  }
  return 0;
}

/* ------------------------------------------------- moving results to the host */

/* The bookkeeping blocks of an exported result (one per ArrowArray and per
 * ArrowSchema node) freed by the host's release are kept for the next
 * export of a block of the same size, up to WUDF__SPARE_SLOTS blocks of at
 * most WUDF__SPARE_MAX bytes: a function whose result has the same shape
 * call after call then exports it without allocating. */
#define WUDF__SPARE_SLOTS 4
#define WUDF__SPARE_MAX 1024
static struct {
  void* block;
  size_t size;
} wudf__spares[WUDF__SPARE_SLOTS];

/* A zeroed block of `size` bytes: a kept one of that size, or calloc's. */
static void* wudf__block_calloc(size_t size) {
  for (int i = 0; i < WUDF__SPARE_SLOTS; i++) {
    if (wudf__spares[i].block != NULL && wudf__spares[i].size == size) {
      void* block = wudf__spares[i].block;
      wudf__spares[i].block = NULL;
      memset(block, 0, size);
      return block;
    }
  }
  return calloc(1, size);
}

/* Frees a block of wudf__block_calloc (of `size` bytes), or keeps it. */
static void wudf__block_free(void* block, size_t size) {
  if (block == NULL) return;
  if (size <= WUDF__SPARE_MAX) {
    for (int i = 0; i < WUDF__SPARE_SLOTS; i++) {
      if (wudf__spares[i].block == NULL) {
        wudf__spares[i].block = block;
        wudf__spares[i].size = size;
        return;
      }
    }
  }
  free(block);
}

/* What an output ArrowArray owns: its buffers, its buffer pointer array,
 * its children and dictionary structs (after this header: n_children
 * ArrowArrays, the dictionary's, then the child pointer array). */
struct wudf__owned_array {
  size_t size; /* of the block (wudf__block_calloc) */
  void* owned[3];
  const void* buffers[4];
  int64_t variadic_sizes[1];
  struct ArrowArray** child_pointers;
  struct ArrowArray* dictionary;
  struct ArrowArray structs[];
};

/* Releases an output array: children and dictionary still present, owned
 * buffers, and the owned block. */
static void wudf__output_array_release(struct ArrowArray* array) {
  struct wudf__owned_array* owned = array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    struct ArrowArray* child = array->children[i];
    if (child->release != NULL) child->release(child);
  }
  if (array->dictionary != NULL && array->dictionary->release != NULL) {
    array->dictionary->release(array->dictionary);
  }
  for (int i = 0; i < 3; i++) free(owned->owned[i]);
  wudf__block_free(owned, owned->size);
  array->release = NULL;
}

/* Moves the finished output tree into `array`: buffers pass to the array,
 * moved arguments are moved on. Returns 0, or -1 on allocation failure
 * (the output keeps what was not moved and stays destroyable). */
static int wudf__export_array(wudf_output* out, struct ArrowArray* array) {
  if (wudf__taken(out)) {
    *array = out->taken;
    memset(&out->taken, 0, sizeof(out->taken));
    return 0;
  }
  size_t structs = (size_t)out->n_children + (out->dictionary != NULL ? 1 : 0);
  size_t size = sizeof(struct wudf__owned_array) +
                structs * (sizeof(struct ArrowArray) + sizeof(void*));
  struct wudf__owned_array* owned = wudf__block_calloc(size);
  if (owned == NULL) return -1;
  owned->size = size;
  owned->child_pointers = (struct ArrowArray**)(owned->structs + structs);
  int exported = 0;
  for (; exported < out->n_children; exported++) {
    if (wudf__export_array(&out->children[exported], &owned->structs[exported]) != 0) break;
    owned->child_pointers[exported] = &owned->structs[exported];
  }
  int failed = exported < out->n_children;
  if (!failed && out->dictionary != NULL) {
    owned->dictionary = &owned->structs[out->n_children];
    if (wudf__export_array(out->dictionary, owned->dictionary) != 0) {
      owned->dictionary = NULL;
      failed = 1;
    }
  }
  if (failed) {
    for (int i = 0; i < exported; i++) owned->structs[i].release(&owned->structs[i]);
    wudf__block_free(owned, owned->size);
    return -1;
  }
  memset(array, 0, sizeof(*array));
  const void* validity = out->null_count > 0 ? out->validity : NULL;
  int64_t n_buffers = 0;
  switch (out->builder) {
    case WUDF__BUILD_NULL:
      break;
    case WUDF__BUILD_BOOL:
    case WUDF__BUILD_FIXED:
    case WUDF__BUILD_LIST:
    case WUDF__BUILD_LARGE_LIST:
      owned->buffers[0] = validity;
      owned->buffers[1] = out->values;
      n_buffers = 2;
      break;
    case WUDF__BUILD_STRING:
    case WUDF__BUILD_LARGE_STRING:
      owned->buffers[0] = validity;
      owned->buffers[1] = out->values;
      owned->buffers[2] = out->data;
      n_buffers = 3;
      break;
    case WUDF__BUILD_VIEW:
      owned->buffers[0] = validity;
      owned->buffers[1] = out->values;
      if (out->data_size > 0) {
        owned->buffers[2] = out->data;
        owned->variadic_sizes[0] = out->data_size;
        owned->buffers[3] = owned->variadic_sizes;
        n_buffers = 4;
      } else {
        owned->buffers[2] = owned->variadic_sizes;
        n_buffers = 3;
      }
      break;
    case WUDF__BUILD_FIXED_LIST:
    case WUDF__BUILD_STRUCT:
      owned->buffers[0] = validity;
      n_buffers = 1;
      break;
    default: /* an empty union, run-end encoded or list view */
      switch (out->type) {
        case WUDF_SPARSE_UNION:
          owned->buffers[0] = out->values;
          n_buffers = 1;
          break;
        case WUDF_DENSE_UNION:
          owned->buffers[0] = out->values;
          owned->buffers[1] = out->data;
          n_buffers = 2;
          break;
        case WUDF_LIST_VIEW:
        case WUDF_LARGE_LIST_VIEW:
          owned->buffers[1] = out->values;
          owned->buffers[2] = out->data;
          n_buffers = 3;
          break;
        default:
          break;
      }
      break;
  }
  owned->owned[0] = out->validity;
  owned->owned[1] = out->values;
  owned->owned[2] = out->data;
  out->validity = NULL;
  out->values = NULL;
  out->data = NULL;
  array->length = out->length;
  array->null_count = out->null_count;
  array->n_buffers = n_buffers;
  array->buffers = owned->buffers;
  array->n_children = out->n_children;
  array->children = out->n_children > 0 ? owned->child_pointers : NULL;
  array->dictionary = owned->dictionary;
  array->release = wudf__output_array_release;
  array->private_data = owned;
  return 0;
}

/* What an output ArrowSchema owns: one block with its children and
 * dictionary structs, the child pointer array, format and name. */
struct wudf__owned_schema {
  size_t size; /* of the block (wudf__block_calloc) */
  struct ArrowSchema** child_pointers;
  struct ArrowSchema* dictionary;
  struct ArrowSchema structs[];
};

/* Releases an output schema, its children and dictionary. */
static void wudf__output_schema_release(struct ArrowSchema* schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    struct ArrowSchema* child = schema->children[i];
    if (child->release != NULL) child->release(child);
  }
  if (schema->dictionary != NULL && schema->dictionary->release != NULL) {
    schema->dictionary->release(schema->dictionary);
  }
  struct wudf__owned_schema* owned = schema->private_data;
  wudf__block_free(owned, owned->size);
  schema->release = NULL;
}

/* Writes the schema of the output tree into `schema`, the root named
 * `name`. Returns 0 or -1 (out of memory; nothing left allocated). */
static int wudf__export_schema(const wudf_output* out, const char* name,
                               struct ArrowSchema* schema) {
  if (out->taken_schema != NULL) {
    /* A moved input: its own schema, under the output's name. */
    struct ArrowSchema* copy = wudf__schema_copy(out->taken_schema, name);
    if (copy == NULL) return -1;
    *schema = *copy; /* moved: private_data still owns the node */
    return 0;
  }
  size_t structs = (size_t)out->n_children + (out->dictionary != NULL ? 1 : 0);
  size_t format_size = strlen(out->format) + 1, name_size = strlen(name) + 1;
  size_t size = sizeof(struct wudf__owned_schema) +
                structs * (sizeof(struct ArrowSchema) + sizeof(void*)) + format_size +
                name_size;
  struct wudf__owned_schema* owned = wudf__block_calloc(size);
  if (owned == NULL) return -1;
  owned->size = size;
  owned->child_pointers = (struct ArrowSchema**)(owned->structs + structs);
  char* format = (char*)(owned->child_pointers + structs);
  char* own_name = format + format_size;
  memcpy(format, out->format, format_size);
  memcpy(own_name, name, name_size);
  int exported = 0;
  for (; exported < out->n_children; exported++) {
    const wudf_output* child = &out->children[exported];
    if (wudf__export_schema(child, child->name, &owned->structs[exported]) != 0) break;
    owned->child_pointers[exported] = &owned->structs[exported];
  }
  int failed = exported < out->n_children;
  if (!failed && out->dictionary != NULL) {
    owned->dictionary = &owned->structs[out->n_children];
    if (wudf__export_schema(out->dictionary, "", owned->dictionary) != 0) failed = 1;
  }
  if (failed) {
    for (int i = 0; i < exported; i++) owned->structs[i].release(&owned->structs[i]);
    wudf__block_free(owned, owned->size);
    return -1;
  }
  memset(schema, 0, sizeof(*schema));
  schema->format = format;
  schema->name = own_name;
  schema->flags = out->flags;
  schema->n_children = out->n_children;
  schema->children = out->n_children > 0 ? owned->child_pointers : NULL;
  schema->dictionary = owned->dictionary;
  schema->release = wudf__output_schema_release;
  schema->private_data = owned;
  return 0;
}

/* ------------------------------------------------------------------ calls */

/* Forgets the function held (its result trees and formats included). */
static void wudf__function_reset(struct wudf__function* function) {
  wudf__output_destroy(&function->root);
  wudf__output_destroy(&function->state_root);
  free(function->formats);
  function->formats = NULL;
  function->record = NULL;
}

/* Signatures parsed so far (wudf_sdk_signature_parses). */
static int64_t wudf__parses;

int64_t wudf_sdk_signature_parses(void) { return wudf__parses; }

/* The function of the call in progress, for wudf__misuse's message. */
static const struct wudf__function* wudf__current;

/* Every function called so far, one slot each, found by the address of its
 * metadata record (a string literal per function): a module's functions
 * keep their parsed signatures and result trees however calls alternate
 * between them. The slot of the last call is tried first. */
static struct wudf__function** wudf__functions;
static size_t wudf__function_count;
static size_t wudf__function_capacity;

/* The slot of the function of `record` (made on first use, never freed:
 * one per exported function); NULL with the message set when out of
 * memory. */
static struct wudf__function* wudf__function_of(const char* record) {
  static struct wudf__function* last;
  if (last != NULL && last->key == record) return last;
  for (size_t i = 0; i < wudf__function_count; i++) {
    if (wudf__functions[i]->key == record) return last = wudf__functions[i];
  }
  if (wudf__function_count == wudf__function_capacity) {
    size_t capacity = wudf__function_capacity ? wudf__function_capacity * 2 : 8;
    struct wudf__function** grown = realloc(wudf__functions, capacity * sizeof(*grown));
    if (grown == NULL) {
      wudf_error("out of memory for the function of '%s'", record);
      return NULL;
    }
    wudf__functions = grown;
    wudf__function_capacity = capacity;
  }
  struct wudf__function* function = calloc(1, sizeof(*function));
  if (function == NULL) {
    wudf_error("out of memory for the function of '%s'", record);
    return NULL;
  }
  function->key = record;
  wudf__functions[wudf__function_count++] = function;
  return last = function;
}

/* Writes `size` bytes to the guest's stderr (WASI), best effort. */
static void wudf__write_stderr(const char* text, size_t size) {
  __wasi_ciovec_t piece = {(const uint8_t*)text, size};
  __wasi_size_t written = 0;
  (void)__wasi_fd_write(2, &piece, 1, &written);
}


void wudf__misuse(const void* input, int index, const char* accessor, const char* expected) {
  const struct wudf__function* function = wudf__current;
  const char* name = function != NULL && function->signature.name[0] != '\0'
                         ? function->signature.name
                         : "(no function)";
  char message[512];
  int length;
  if (strcmp(accessor, "wudf_arg") == 0 || input == NULL) {
    /* wudf_arg with a bad index: `input` is the wudf_args. */
    const wudf_args* args = input;
    length = snprintf(message, sizeof(message),
                      "wasmudf guest: %s: %s(args, %d) but the function has %d argument%s\n",
                      name, accessor, index, args != NULL ? args->count : 0,
                      args != NULL && args->count == 1 ? "" : "s");
  } else {
    const wudf_input* in = input;
    size_t args = function != NULL ? function->signature.arg_count : 0;
    const wudf_input* pool = wudf__input_pool;
    char where[160];
    if (pool != NULL && in >= pool && in < pool + args) {
      size_t i = (size_t)(in - pool);
      const struct wudf__span* span = &function->signature.args[i];
      const struct wudf__span* arg_name = &function->signature.arg_names[i];
      snprintf(where, sizeof(where), "argument %zu%s%.*s%s of type %.*s", i + 1,
               arg_name->length > 0 ? " '" : "", (int)arg_name->length,
               function->signature.text + arg_name->start, arg_name->length > 0 ? "'" : "",
               (int)span->length, function->signature.text + span->start);
    } else {
      snprintf(where, sizeof(where), "input '%s' of Arrow format '%s'", in->name,
               in->schema != NULL && in->schema->format != NULL ? in->schema->format : "?");
    }
    length = snprintf(message, sizeof(message), "wasmudf guest: %s: %s on %s (expected %s)\n",
                      name, accessor, where, expected);
  }
  if (length > 0) {
    size_t size = (size_t)length < sizeof(message) ? (size_t)length : sizeof(message) - 1;
    wudf__write_stderr(message, size);
    wudf_error("%.*s", (int)size - 1, message + sizeof("wasmudf guest: ") - 1);
  }
  __builtin_trap();
}

/* The text of what a call of the function being prepared returns. */
static char wudf__output_text[WUDF__MAX_SIGNATURE];

/* Makes `function` hold the function of metadata record `record` (a
 * string literal per function, so its address identifies it): parses it,
 * notes the formats of its flat arguments and builds its result tree (for
 * a table function the tree of one chunk; for an aggregate also its state
 * tree). Returns 0 or an error code with the message set. */
static int wudf__function_prepare(struct wudf__function* function, const char* record) {
  if (function->record == record) return 0;
  wudf__function_reset(function);
  struct wudf__signature* signature = &function->signature;
  char message[256];
  wudf__parses++;
  if (wudf__record_parse(record, signature, message, sizeof(message)) != 0) {
    return wudf_error("invalid signature '%s': %s", record, message);
  }
  function->formats = malloc((size_t)signature->arg_count * WUDF__MAX_FORMAT + 1);
  if (function->formats == NULL) return wudf_error("%s: out of memory", signature->name);
  char* next = function->formats;
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    struct wudf__type_node node;
    const struct wudf__span* span = &signature->args[i];
    function->arg_formats[i] = NULL;
    if (wudf__type_decode(signature->text + span->start, span->length, &node) != 0) {
      wudf__function_reset(function);
      return wudf_error("%s: argument %u has no canonical type", signature->name, i + 1);
    }
    if (node.child_count == 0 && !node.dictionary) {
      size_t size = strnlen(node.format, WUDF__MAX_FORMAT - 1);
      memcpy(next, node.format, size);
      next[size] = '\0';
      function->arg_formats[i] = next;
      next += size + 1;
    }
  }
  int length = wudf__signature_output_type(signature, wudf__output_text,
                                           sizeof(wudf__output_text));
  if (length < 0 || wudf__output_init(&function->root, wudf__output_text, (size_t)length, "",
                                      0, ARROW_FLAG_NULLABLE) != 0) {
    wudf__function_reset(function);
    return wudf_error("%s: out of memory", signature->name);
  }
  if ((signature->kind == WUDF__KIND_BATCH || signature->kind == WUDF__KIND_TABLE) &&
      function->root.builder != WUDF__BUILD_STRUCT) {
    wudf__function_reset(function);
    return wudf_error("%s: a batch or table function's result must be a struct",
                      signature->name);
  }
  if (signature->kind == WUDF__KIND_TABLE) {
    function->root.children[0].flags = 0; /* input_row has no nulls */
  }
  if (signature->kind == WUDF__KIND_AGGREGATE &&
      wudf__output_init(&function->state_root, signature->text + signature->state.start,
                        signature->state.length, "", 0, ARROW_FLAG_NULLABLE) != 0) {
    wudf__function_reset(function);
    return wudf_error("%s: out of memory", signature->name);
  }
  function->record = record;
  return 0;
}

/* Releases the arguments (what the function did not move out of them). */
static void wudf__release_inputs(struct ArrowArray* args, struct ArrowSchema* args_schema) {
  if (args != NULL && args->release != NULL) args->release(args);
  if (args_schema != NULL && args_schema->release != NULL) {
    args_schema->release(args_schema);
  }
}

/* Finishes the result tree `root` (of `rows` rows, -1: any) and moves it
 * into the output slots, the root schema named `name`. Returns 0 or an
 * error code with the message set; `root` is left destroyable. */
static int wudf__deliver(wudf_output* root, int64_t rows, const char* function,
                         const char* name, struct ArrowArray* out,
                         struct ArrowSchema* out_schema) {
  struct wudf__path path;
  const char* root_name = name[0] != '\0' ? name : "result";
  path.length = strnlen(root_name, sizeof(path.text) - 1);
  memcpy(path.text, root_name, path.length);
  path.text[path.length] = '\0';
  int status = wudf__finish(root, rows, function, &path);
  if (status != 0) return status;
  if (wudf__export_schema(root, name, out_schema) != 0) {
    return wudf_error("%s: out of memory", function);
  }
  if (wudf__export_array(root, out) != 0) {
    out_schema->release(out_schema);
    return wudf_error("%s: out of memory", function);
  }
  return 0;
}

/* The rows a struct result has: those of its longest column. */
static int64_t wudf__struct_rows(const wudf_output* root) {
  int64_t rows = 0;
  for (int i = 0; i < root->n_children; i++) {
    int64_t column = wudf_output_rows(&root->children[i]);
    if (column > rows) rows = column;
  }
  return rows;
}

/* The start of every call: the message cleared, the function of `record`
 * found (*function: its slot, or an empty stand-in when out of memory) and
 * prepared. 0, or an error code with the message set. */
static int wudf__begin(const char* record, struct wudf__function** function) {
  static struct wudf__function stand_in;
  wudf__message_set = 0;
  struct wudf__function* slot = wudf__function_of(record);
  *function = slot != NULL ? slot : &stand_in;
  wudf__current = *function;
  if (slot == NULL) return 1;
  return wudf__function_prepare(slot, record);
}

/* The signature of the function called last is kept parsed, with its
 * result tree; calling another function prepares its own. */
int32_t wudf__run_scalar(const char* record, wudf_scalar_fn fn,
                         struct ArrowArray* args, struct ArrowSchema* args_schema,
                         struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wudf__function* function;
  int status = wudf__begin(record, &function);
  wudf_args view;
  memset(&view, 0, sizeof(view));
  if (status == 0) status = wudf__bind_args(function, args, args_schema, 0, &view);
  wudf_output* root = &function->root;
  if (status == 0) {
    /* Rows that can be set in any order exist from the start. */
    wudf__presize(root, view.length);
    status = fn(&view, root);
  }
  wudf__release_inputs(args, args_schema);
  const char* name = function->signature.name;
  if (status == 0) status = wudf__deliver(root, view.length, name, name, out, out_schema);
  wudf__output_clear(root);
  if (status != 0 && !wudf__message_set) wudf_error("%s failed with code %d", name, status);
  return status;
}

int32_t wudf__run_batch(const char* record, wudf_batch_fn fn,
                        struct ArrowArray* args, struct ArrowSchema* args_schema,
                        struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wudf__function* function;
  int status = wudf__begin(record, &function);
  wudf_args view;
  memset(&view, 0, sizeof(view));
  if (status == 0) status = wudf__bind_args(function, args, args_schema, 0, &view);
  wudf_output* root = &function->root;
  if (status == 0) {
    wudf_result result = {root->n_children, root->children};
    status = fn(&view, &result);
  }
  wudf__release_inputs(args, args_schema);
  const char* name = function->signature.name;
  /* The batch has the rows of its longest column; the others are padded. */
  if (status == 0) status = wudf__deliver(root, wudf__struct_rows(root), name, "", out, out_schema);
  wudf__output_clear(root);
  if (status != 0 && !wudf__message_set) wudf_error("%s failed with code %d", name, status);
  return status;
}

/* ---------------------------------------------------------------- handles */

/* The control block of table and aggregate calls (docs/abi.md, section 3). */
struct wudf__control {
  uint32_t op;
  uint32_t handle;
  int64_t count;
  uint32_t flags;
  uint32_t reserved[3];
};
_Static_assert(sizeof(struct wudf__control) == WUDF__CONTROL_SIZE, "control block size");
_Static_assert(offsetof(struct wudf__control, handle) == WUDF__CONTROL_HANDLE, "handle");
_Static_assert(offsetof(struct wudf__control, count) == WUDF__CONTROL_COUNT, "count");
_Static_assert(offsetof(struct wudf__control, flags) == WUDF__CONTROL_FLAGS, "flags");

/* What the SDK keeps per handle the host opened: a table function's input
 * and position in it, or an aggregate's states. */
struct wudf__handle {
  const char* record; /* the function it belongs to; NULL: unused */
  /* Table functions. */
  int open;                   /* `args` holds an input with more output */
  struct ArrowArray args;     /* the input, moved out of the host's block */
  struct ArrowSchema args_schema;
  int64_t row, emitted, state;
  /* Aggregate functions. */
  uint8_t* states;
  int64_t count;              /* groups */
  const wudf_aggregate_fns* fns;
};

static struct wudf__handle* wudf__handles;
static uint32_t wudf__handle_capacity;

/* The SDK's state of `handle` for the function of `record`, made on first
 * use; NULL (message set) when out of memory or the handle belongs to
 * another function. */
static struct wudf__handle* wudf__handle_of(uint32_t handle, const char* record,
                                            const char* name) {
  if (handle == 0 || handle > (1u << 20)) {
    wudf_error("%s: invalid handle %u", name, handle);
    return NULL;
  }
  if (handle >= wudf__handle_capacity) {
    uint32_t capacity = wudf__handle_capacity ? wudf__handle_capacity : 8;
    while (capacity <= handle) capacity *= 2;
    struct wudf__handle* grown = realloc(wudf__handles, capacity * sizeof(*grown));
    if (grown == NULL) {
      wudf_error("%s: out of memory", name);
      return NULL;
    }
    memset(grown + wudf__handle_capacity, 0,
           (capacity - wudf__handle_capacity) * sizeof(*grown));
    wudf__handles = grown;
    wudf__handle_capacity = capacity;
  }
  struct wudf__handle* slot = &wudf__handles[handle];
  if (slot->record == NULL) slot->record = record;
  if (slot->record != record) {
    wudf_error("%s: handle %u belongs to another function", name, handle);
    return NULL;
  }
  return slot;
}

/* The start of a table or aggregate call: the answer flags cleared, the
 * function prepared, the handle's state found (made on first use). 0, or a
 * nonzero code with the message set (`*slot` then NULL). */
static int wudf__controlled_begin(struct wudf__function** function, const char* record,
                                  struct wudf__control* control, struct wudf__handle** slot) {
  control->flags = 0;
  *slot = NULL;
  int status = wudf__begin(record, function);
  if (status != 0) return status;
  *slot = wudf__handle_of(control->handle, record, (*function)->signature.name);
  return *slot != NULL ? 0 : 1;
}

/* ----------------------------------------------------------------- tables */

/* Makes room for `rows` rows in a table chunk's input_row column (int64,
 * no validity) without zeroing them: every row of that column is written
 * (by wudf_table_emit, its slow path or wudf_table_emit_rows) before it
 * counts. 0, or -1 with the column failed. */
static int wudf__reserve_unzeroed(wudf_output* out, int64_t rows) {
  if (out->failed) return -1;
  if (rows <= out->capacity) return 0;
  if (rows > WUDF__MAX_ROWS) return wudf__fail(out, "more than 2^31 rows");
  int64_t capacity = out->capacity < 64 ? 64 : out->capacity;
  while (capacity < rows) capacity *= 2;
  if (capacity > WUDF__MAX_ROWS) capacity = WUDF__MAX_ROWS;
  void* grown = realloc(out->values, (size_t)capacity * sizeof(int64_t));
  if (grown == NULL) return wudf__fail(out, "out of memory");
  out->values = grown;
  out->capacity = capacity;
  return 0;
}

int64_t wudf__table_emit_slow(wudf_table* table) {
  if (table->full || table->chunk_rows >= table->limit) {
    table->full = true;
    return -1;
  }
  int64_t row = table->chunk_rows++;
  /* Past the reserved room: the rows written there become the column's
   * rows, and it grows as any output. */
  wudf_output* rows = table->rows;
  if (rows->length < row) rows->length = row;
  wudf_set_int64(rows, row, table->row);
  if (!rows->failed) {
    /* The column grew: later emits write into its new room inline. */
    table->row_values = rows->values;
    table->reserved = rows->capacity;
  }
  table->emitted++;
  return row;
}

int64_t wudf_table_emit_rows(wudf_table* table, int64_t count, int64_t* first) {
  int64_t start = table->chunk_rows;
  *first = start;
  if (count <= 0) return 0;
  if (table->full || start >= table->limit) {
    table->full = true;
    return 0;
  }
  int64_t granted = table->limit - start < count ? table->limit - start : count;
  /* The input_row column gets the rows at once (its buffer may move; every
   * row of it is written, so it is never zeroed). */
  wudf_output* rows = table->rows;
  if (wudf__reserve_unzeroed(rows, start + granted) != 0) {
    table->full = true; /* the failure fails the call at delivery */
    return 0;
  }
  int64_t* values = rows->values;
  rows->length = start + granted;
  /* A store per row for the first 64 rows (a memory.copy is a call of the
   * host's memcpy: dearer than a few stores), then copies of them doubling
   * in size. */
  int64_t stored = granted < 64 ? granted : 64;
  for (int64_t i = 0; i < stored; i++) values[start + i] = table->row;
  for (int64_t filled = stored; filled < granted;) {
    int64_t chunk = filled < granted - filled ? filled : granted - filled;
    memcpy(values + start + filled, values + start, (size_t)chunk * sizeof(int64_t));
    filled += chunk;
  }
  table->row_values = values;
  table->reserved = rows->capacity;
  table->chunk_rows = start + granted;
  table->emitted += granted;
  if (granted < count) table->full = true;
  return granted;
}

/* The rows reserved up front for a chunk's columns: as many as the
 * function's previous chunk had, at least WUDF__CHUNK_RESERVE_MIN and at
 * most WUDF__CHUNK_RESERVE (a chunk may be longer: its buffers then grow
 * as usual). Reserving the most for every chunk zeroed 256 KB of an int32
 * column for a chunk of 1,024 rows, most of such a call's time. */
#define WUDF__CHUNK_RESERVE 65536
#define WUDF__CHUNK_RESERVE_MIN 1024

/* Releases a table handle's kept input; the handle is then unused (the
 * host may give it to another function). */
static void wudf__table_drop(struct wudf__handle* slot) {
  if (slot->open) wudf__release_inputs(&slot->args, &slot->args_schema);
  slot->open = 0;
  slot->record = NULL;
}

int32_t wudf__run_table(const char* record, wudf_table_fn fn, struct ArrowArray* args,
                        struct ArrowSchema* args_schema, struct ArrowArray* out,
                        struct ArrowSchema* out_schema, void* control_block) {
  struct wudf__function* function;
  struct wudf__control* control = control_block;
  struct wudf__handle* slot = NULL;
  int status = wudf__controlled_begin(&function, record, control, &slot);
  const char* name = function->signature.name;
  if (status == 0) {
    switch (control->op) {
      case WUDF__OP_TABLE_INPUT:
        if (args == NULL || args_schema == NULL) {
          status = wudf_error("%s: an input op without input", name);
          break;
        }
        /* Keep the input past this call: move it out of the host's
         * structs (the C Data Interface's move), which the host then sees
         * released. */
        wudf__table_drop(slot);
        slot->record = record;
        slot->args = *args;
        slot->args_schema = *args_schema;
        args->release = NULL;
        args_schema->release = NULL;
        slot->open = 1;
        slot->row = slot->emitted = slot->state = 0;
        break;
      case WUDF__OP_TABLE_CONTINUE:
        if (!slot->open) status = wudf_error("%s: no input to continue", name);
        break;
      case WUDF__OP_TABLE_CLOSE:
        wudf__table_drop(slot);
        return 0;
      default:
        status = wudf_error("%s: unknown table op %u", name, control->op);
        break;
    }
  }
  wudf_args view;
  memset(&view, 0, sizeof(view));
  if (status == 0) {
    status = wudf__bind_args(function, &slot->args, &slot->args_schema, 0, &view);
  }
  wudf_output* root = &function->root;
  wudf_table table;
  memset(&table, 0, sizeof(table));
  if (status == 0) {
    table.limit = control->count > 0 ? control->count : 1;
    table.rows = &root->children[0];
    table.columns = &root->children[1];
    /* Room for the chunk's rows at once, instead of growing every chunk's
     * buffers anew (a failure here fails the call at delivery). */
    int64_t reserve = function->last_chunk_rows;
    if (reserve < WUDF__CHUNK_RESERVE_MIN) reserve = WUDF__CHUNK_RESERVE_MIN;
    if (reserve > WUDF__CHUNK_RESERVE) reserve = WUDF__CHUNK_RESERVE;
    if (reserve > table.limit) reserve = table.limit;
    wudf__reserve_unzeroed(table.rows, reserve);
    for (int i = 1; i < root->n_children; i++) {
      uint8_t builder = root->children[i].builder;
      if (builder == WUDF__BUILD_FIXED || builder == WUDF__BUILD_BOOL ||
          builder == WUDF__BUILD_STRING || builder == WUDF__BUILD_LARGE_STRING ||
          builder == WUDF__BUILD_VIEW) {
        wudf_output_reserve(&root->children[i], reserve);
      }
    }
    /* wudf_table_emit writes input_row straight into its reserved room. */
    if (!table.rows->failed) {
      table.row_values = table.rows->values;
      table.reserved = table.rows->capacity;
    }
    while (slot->row < view.length) {
      table.row = slot->row;
      table.emitted = slot->emitted;
      table.state = slot->state;
      status = fn(&view, slot->row, &table);
      if (status != 0) break;
      slot->emitted = table.emitted;
      slot->state = table.state;
      if (table.full) break;
      slot->row++;
      slot->emitted = slot->state = 0;
    }
  }
  int more = status == 0 && table.full;
  /* The rows emitted into the reserved room are the column's rows. */
  if (table.rows != NULL && table.rows->length < table.chunk_rows &&
      table.chunk_rows <= table.reserved) {
    table.rows->length = table.chunk_rows;
  }
  if (status == 0) {
    function->last_chunk_rows = table.chunk_rows;
    status = wudf__deliver(root, table.chunk_rows, name, "", out, out_schema);
  }
  wudf__output_clear(root);
  if (status == 0 && more) {
    control->flags = WUDF__FLAG_MORE;
  } else if (slot != NULL) {
    /* The input is done (or failed): let it go. */
    wudf__table_drop(slot);
  }
  /* What the host passed and the SDK did not keep. */
  wudf__release_inputs(args, args_schema);
  if (status != 0 && !wudf__message_set) wudf_error("%s failed with code %d", name, status);
  return status;
}

/* ------------------------------------------------------------- aggregates */

int wudf_bytes_append(wudf_bytes* bytes, const void* data, size_t size) {
  if (size == 0) return 0;
  uint64_t needed = (uint64_t)bytes->size + size;
  if (needed > INT32_MAX) return -1;
  if (needed > bytes->capacity) {
    uint64_t capacity = bytes->capacity ? (uint64_t)bytes->capacity * 2 : 16;
    while (capacity < needed) capacity *= 2;
    if (capacity > INT32_MAX) capacity = INT32_MAX;
    char* grown = realloc(bytes->data, (size_t)capacity);
    if (grown == NULL) return -1;
    bytes->data = grown;
    bytes->capacity = (uint32_t)capacity;
  }
  memcpy(bytes->data + bytes->size, data, size);
  bytes->size = (uint32_t)needed;
  return 0;
}

void wudf_bytes_release(wudf_bytes* bytes) {
  free(bytes->data);
  memset(bytes, 0, sizeof(*bytes));
}

/* Gives an aggregate handle `count` groups (new ones zeroed: empty). */
static int wudf__states_grow(struct wudf__handle* slot, const wudf_aggregate_fns* fns,
                             int64_t count, const char* name) {
  if (count <= slot->count) return 0;
  size_t bytes;
  if (count > INT32_MAX || wudf__bytes(count, (int64_t)fns->state_size, &bytes) != 0) {
    return wudf_error("%s: %lld groups of %zu-byte states do not fit in memory", name,
                      (long long)count, fns->state_size);
  }
  uint8_t* grown = realloc(slot->states, bytes > 0 ? bytes : 1);
  if (grown == NULL) return wudf_error("%s: out of memory for %lld groups", name,
                                       (long long)count);
  size_t old = (size_t)slot->count * fns->state_size;
  memset(grown + old, 0, bytes - old);
  slot->states = grown;
  slot->count = count;
  return 0;
}

/* Frees an aggregate handle's states. */
static void wudf__states_free(struct wudf__handle* slot, const wudf_aggregate_fns* fns) {
  if (fns->destroy != NULL) {
    for (int64_t g = 0; g < slot->count; g++) {
      fns->destroy(slot->states + (size_t)g * fns->state_size);
    }
  }
  free(slot->states);
  slot->states = NULL;
  slot->count = 0;
  slot->record = NULL;
}

/* The group ids of column `index` of an update or merge input: uint32
 * without nulls, one per row. NULL (message set) otherwise. */
static const uint32_t* wudf__group_ids(const struct ArrowArray* args,
                                       const struct ArrowSchema* args_schema, int64_t index,
                                       const char* name) {
  const struct ArrowArray* ids = args->children[index];
  const struct ArrowSchema* schema = args_schema->children[index];
  if (ids == NULL || schema == NULL || schema->format == NULL ||
      strcmp(schema->format, "I") != 0 || ids->n_buffers != 2 || ids->null_count != 0 ||
      ids->length != args->length || ids->buffers == NULL || ids->buffers[1] == NULL) {
    wudf_error("%s: the group column is not uint32 without nulls", name);
    return NULL;
  }
  return (const uint32_t*)ids->buffers[1] + ids->offset;
}

/* Checks every group id is below the group count (so callbacks may index
 * states with them). */
static int wudf__check_group_ids(const uint32_t* groups, int64_t rows, int64_t count,
                                 const char* name) {
  /* Four independent maxima: one pass at the speed of the loads. */
  uint32_t m0 = 0, m1 = 0, m2 = 0, m3 = 0;
  int64_t row = 0;
  for (; row + 4 <= rows; row += 4) {
    m0 = groups[row] > m0 ? groups[row] : m0;
    m1 = groups[row + 1] > m1 ? groups[row + 1] : m1;
    m2 = groups[row + 2] > m2 ? groups[row + 2] : m2;
    m3 = groups[row + 3] > m3 ? groups[row + 3] : m3;
  }
  for (; row < rows; row++) m0 = groups[row] > m0 ? groups[row] : m0;
  uint32_t largest = m0 > m1 ? m0 : m1;
  largest = largest > m2 ? largest : m2;
  largest = largest > m3 ? largest : m3;
  if ((int64_t)largest < count) return 0;
  for (row = 0; row < rows; row++) {
    if ((int64_t)groups[row] >= count) {
      return wudf_error("%s: row %lld has group %u of %lld", name, (long long)row,
                        groups[row], (long long)count);
    }
  }
  return 0;
}

/* Folds an update (arguments + group column) into the states. */
static int wudf__aggregate_update(struct wudf__function* function, struct wudf__handle* slot,
                                  const wudf_aggregate_fns* fns, struct ArrowArray* args,
                                  struct ArrowSchema* args_schema, int checked) {
  const char* name = function->signature.name;
  wudf_args view;
  memset(&view, 0, sizeof(view));
  int status = wudf__bind_args(function, args, args_schema, 1, &view);
  if (status != 0) return status;
  const uint32_t* groups = wudf__group_ids(args, args_schema, args->n_children - 1, name);
  if (groups == NULL) return 1;
  if (!checked) status = wudf__check_group_ids(groups, view.length, slot->count, name);
  if (status == 0) status = fns->update(slot->states, groups, &view);
  return status;
}

/* Folds partial states (state column + group column) into the states. */
static int wudf__aggregate_merge(struct wudf__function* function, struct wudf__handle* slot,
                                 const wudf_aggregate_fns* fns, struct ArrowArray* args,
                                 struct ArrowSchema* args_schema, int checked) {
  const struct wudf__signature* signature = &function->signature;
  const char* name = signature->name;
  if (args == NULL || args_schema == NULL || args->n_children != 2 ||
      args_schema->n_children != 2 || args->children == NULL ||
      args_schema->children == NULL || args->children[0] == NULL ||
      args_schema->children[0] == NULL) {
    return wudf_error("%s: a merge input is a struct of states and group ids", name);
  }
  const struct ArrowSchema* schema = args_schema->children[0];
  char message[256];
  if (wudf__type_match(signature->text + signature->state.start, signature->state.length,
                       schema, message, sizeof(message)) != 0) {
    return wudf_error("%s: the partial states: %s", name, message);
  }
  const uint32_t* groups = wudf__group_ids(args, args_schema, 1, name);
  if (groups == NULL) return 1;
  size_t nodes = 0;
  if (wudf__count_nodes(schema, 1, &nodes) != 0) {
    return wudf_error("%s: the partial states are nested too deeply", name);
  }
  if (nodes > wudf__input_pool_capacity) {
    size_t bytes;
    wudf_input* grown = NULL;
    if (wudf__bytes((int64_t)nodes, (int64_t)sizeof(wudf_input), &bytes) == 0) {
      grown = realloc(wudf__input_pool, bytes);
    }
    if (grown == NULL) return wudf_error("%s: out of memory", name);
    wudf__input_pool = grown;
    wudf__input_pool_capacity = nodes;
  }
  size_t next = 1;
  if (wudf__input_init(&wudf__input_pool[0], args->children[0], schema, 0, args->length,
                       &next) != 0) {
    return wudf_error("%s: the partial states do not have the layout of their type", name);
  }
  int status = checked ? 0 : wudf__check_group_ids(groups, args->length, slot->count, name);
  if (status == 0) status = fns->merge(slot->states, groups, &wudf__input_pool[0]);
  return status;
}

int32_t wudf__run_aggregate(const char* record, const wudf_aggregate_fns* fns,
                            struct ArrowArray* args, struct ArrowSchema* args_schema,
                            struct ArrowArray* out, struct ArrowSchema* out_schema,
                            void* control_block) {
  struct wudf__function* function;
  struct wudf__control* control = control_block;
  struct wudf__handle* slot = NULL;
  /* The host's word that every group id is below the count (docs/abi.md,
   * section 3): the ids are not checked again. */
  int checked = (control->flags & WUDF__FLAG_GROUPS_CHECKED) != 0;
  int status = wudf__controlled_begin(&function, record, control, &slot);
  const char* name = function->signature.name;
  if (status == 0 && control->op == WUDF__OP_AGGREGATE_FREE) {
    wudf__states_free(slot, fns);
    wudf__release_inputs(args, args_schema);
    return 0;
  }
  if (status == 0 && control->count < 0) {
    status = wudf_error("%s: a negative group count", name);
  }
  if (status == 0) status = wudf__states_grow(slot, fns, control->count, name);
  wudf_output* root = NULL;
  if (status == 0) {
    switch (control->op) {
      case WUDF__OP_AGGREGATE_UPDATE:
        status = wudf__aggregate_update(function, slot, fns, args, args_schema, checked);
        break;
      case WUDF__OP_AGGREGATE_MERGE:
        status = wudf__aggregate_merge(function, slot, fns, args, args_schema, checked);
        break;
      case WUDF__OP_AGGREGATE_STATE:
        root = &function->state_root;
        wudf__presize(root, control->count);
        status = fns->state(slot->states, control->count, root);
        break;
      case WUDF__OP_AGGREGATE_FINISH:
        root = &function->root;
        wudf__presize(root, control->count);
        status = fns->finish(slot->states, control->count, root);
        break;
      default:
        status = wudf_error("%s: unknown aggregate op %u", name, control->op);
        break;
    }
  }
  wudf__release_inputs(args, args_schema);
  if (status == 0 && root != NULL) {
    status = wudf__deliver(root, control->count, name, name, out, out_schema);
  }
  if (root != NULL) wudf__output_clear(root);
  if (status != 0 && !wudf__message_set) wudf_error("%s failed with code %d", name, status);
  return status;
}
