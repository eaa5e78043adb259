/*
 * fuzz_import.c -- a libFuzzer target for the validator of guest results
 * (src/abi/import.c).
 *
 * An input is a 16-byte header followed by a guest memory image:
 *
 *   bytes 0-3    guest offset of the root ArrowArray (little-endian u32)
 *   bytes 4-7    guest offset of the root ArrowSchema
 *   bytes 8-11   the root length required (0xffffffff: any)
 *   byte 12      bit 0: validate at STRUCTURE level instead of FULL
 *   bytes 13-15  unused
 *   bytes 16-    linear memory (its size is the rest of the input)
 *
 * The image is copied into a heap block of exactly its size, so that
 * AddressSanitizer reports any read outside "linear memory". The target runs
 * wudf__mirror_schema then wudf__mirror_array. A rejection must be EPROTO
 * with a "PATH: RULE: detail" message naming a known rule. An accepted result
 * is then walked the way a consumer would: every byte of every buffer the
 * layout says exists is read (validity and value bits, values, offsets and
 * the data they reach, views and the bytes they point at, variadic buffers,
 * type ids, sizes, children, dictionaries), and the invariants the validator
 * promises are checked again independently (offsets monotonic, children long
 * enough, ids declared, run ends increasing, and at FULL level null counts,
 * UTF-8 and dictionary indices); a broken promise aborts. Finally the mirror
 * is taken as a view and released, and the release hook must run once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/import.h"
#include "arrow/bits.h"
#include "arrow/format.h"

#define FUZZ_HEADER 16

/* Aborts with a message when an invariant does not hold. */
#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "fuzz_import: invariant failed at %s:%d: %s\n", __FILE__, \
              __LINE__, #cond);                                                 \
      abort();                                                                  \
    }                                                                           \
  } while (0)

static volatile uint64_t fuzz_sink;

/* Reads every one of the `size` bytes at `bytes` (NULL only when 0).
 * Buffers are read at the sizes consumers such as Arrow C++ compute from
 * offset + length whenever the pointer is not null, even for an empty
 * array (see wudf__buffer in import.c). */
static void fuzz_touch(const void* bytes, uint64_t size) {
  FUZZ_CHECK(size == 0 || bytes != NULL);
  const uint8_t* p = bytes;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < size; i++) sum += p[i];
  fuzz_sink += sum;
}

static int64_t fuzz_offset(const void* buffer, int large, int64_t i) {
  return wudf__offset_get(buffer, large, i);
}

/* Reads a signed or unsigned integer of `width` bytes; stores whether it is
 * out of int64 range (a negative signed value or an unsigned one >= 2^63). */
static int64_t fuzz_integer(const uint8_t* at, int64_t width, int is_signed) {
  switch (width) {
    case 1: return is_signed ? (int64_t)(int8_t)at[0] : (int64_t)at[0];
    case 2: {
      uint16_t v;
      memcpy(&v, at, 2);
      return is_signed ? (int64_t)(int16_t)v : (int64_t)v;
    }
    case 4: {
      uint32_t v;
      memcpy(&v, at, 4);
      return is_signed ? (int64_t)(int32_t)v : (int64_t)v;
    }
    default: {
      uint64_t v;
      memcpy(&v, at, 8);
      if (!is_signed && v > (uint64_t)INT64_MAX) return -1;
      return (int64_t)v;
    }
  }
}

static void fuzz_walk(const struct ArrowArray* array, const struct ArrowSchema* schema,
                      int full, int depth);

/* Checks the value bytes of a UTF-8 row at FULL level. */
static void fuzz_utf8(const uint8_t* bytes, uint64_t size) {
  size_t bad;
  FUZZ_CHECK(wudf__utf8_valid(bytes, (size_t)size, &bad));
}

static void fuzz_walk(const struct ArrowArray* array, const struct ArrowSchema* schema,
                      int full, int depth) {
  FUZZ_CHECK(depth <= 32);
  FUZZ_CHECK(array->release != NULL && schema->release != NULL);
  struct wudf__format format;
  FUZZ_CHECK(wudf__format_parse(schema->format, &format) == 0);
  fuzz_touch(schema->format, strlen(schema->format) + 1);
  if (schema->name != NULL) fuzz_touch(schema->name, strlen(schema->name) + 1);
  const int64_t length = array->length, offset = array->offset, end = offset + length;
  FUZZ_CHECK(length >= 0 && offset >= 0 && end >= offset);
  FUZZ_CHECK(array->null_count >= 0 && array->null_count <= length);
  FUZZ_CHECK(array->n_children == schema->n_children);
  FUZZ_CHECK((array->dictionary != NULL) == (schema->dictionary != NULL));
  FUZZ_CHECK(array->buffers != NULL);
  if (format.layout == WUDF__LAYOUT_VIEW) {
    FUZZ_CHECK(array->n_buffers >= 3);
  } else {
    FUZZ_CHECK(array->n_buffers == format.n_buffers);
  }
  const uint8_t* bits = NULL;
  if (wudf__layout_has_validity(format.layout)) {
    bits = array->buffers[0];
    if (bits != NULL) {
      fuzz_touch(bits, (uint64_t)(end + 7) / 8);
      if (full && length > 0) {
        FUZZ_CHECK(length - wudf__bits_count(bits, offset, length) == array->null_count);
      }
    }
    if (bits == NULL) FUZZ_CHECK(array->null_count == 0);
  } else if (format.layout == WUDF__LAYOUT_NULL) {
    FUZZ_CHECK(array->null_count == length);
  } else {
    FUZZ_CHECK(array->null_count == 0);
  }
  int64_t extent = length == 0 ? 0 : end;
#define VALID(row) (bits == NULL || wudf__bit_get(bits, (row)))
#define TOUCH_UNLESS_NULL(buffer, size)                  \
  do {                                                   \
    if ((buffer) != NULL) fuzz_touch((buffer), (size));  \
    else FUZZ_CHECK((size) == 0);                        \
  } while (0)
  switch (format.layout) {
    case WUDF__LAYOUT_NULL:
      break;
    case WUDF__LAYOUT_BOOL:
      TOUCH_UNLESS_NULL(array->buffers[1], (uint64_t)(end + 7) / 8);
      break;
    case WUDF__LAYOUT_FIXED:
      TOUCH_UNLESS_NULL(array->buffers[1], (uint64_t)end * (uint64_t)format.byte_width);
      break;
    case WUDF__LAYOUT_BINARY:
    case WUDF__LAYOUT_LARGE_BINARY: {
      int large = format.layout == WUDF__LAYOUT_LARGE_BINARY;
      const uint8_t* offsets = array->buffers[1];
      const uint8_t* data = array->buffers[2];
      FUZZ_CHECK(offsets != NULL);
      fuzz_touch(offsets, (uint64_t)(end + 1) * (large ? 8 : 4));
      if (length == 0) break;
      int64_t first = fuzz_offset(offsets, large, offset);
      FUZZ_CHECK(first >= 0);
      /* The data is as long as the last offset says. */
      TOUCH_UNLESS_NULL(data, (uint64_t)fuzz_offset(offsets, large, end));
      for (int64_t i = offset; i < end; i++) {
        int64_t a = fuzz_offset(offsets, large, i), b = fuzz_offset(offsets, large, i + 1);
        FUZZ_CHECK(a <= b);
        if (a == b) continue;
        fuzz_touch(data + a, (uint64_t)(b - a));
        if (full && format.utf8 && VALID(i)) fuzz_utf8(data + a, (uint64_t)(b - a));
      }
      break;
    }
    case WUDF__LAYOUT_VIEW: {
      int64_t variadic = array->n_buffers - 3;
      const int64_t* sizes_buffer = array->buffers[array->n_buffers - 1];
      fuzz_touch(sizes_buffer, 8 * (uint64_t)variadic);
      for (int64_t k = 0; k < variadic; k++) {
        int64_t size;
        memcpy(&size, (const uint8_t*)sizes_buffer + 8 * k, 8);
        FUZZ_CHECK(size >= 0);
        fuzz_touch(array->buffers[2 + k], (uint64_t)size);
      }
      const uint8_t* views = array->buffers[1];
      TOUCH_UNLESS_NULL(views, 16 * (uint64_t)end);
      for (int64_t i = offset; i < end; i++) {
        const uint8_t* view = views + 16 * i;
        int32_t size, index, at;
        memcpy(&size, view, 4);
        FUZZ_CHECK(size >= 0);
        const uint8_t* value = view + 4;
        if (size > 12) {
          memcpy(&index, view + 8, 4);
          memcpy(&at, view + 12, 4);
          FUZZ_CHECK(index >= 0 && index < variadic && at >= 0);
          value = (const uint8_t*)array->buffers[2 + index] + at;
          if (full) FUZZ_CHECK(memcmp(view + 4, value, 4) == 0);
        }
        fuzz_touch(value, (uint64_t)size);
        if (full && format.utf8 && VALID(i)) fuzz_utf8(value, (uint64_t)size);
      }
      break;
    }
    case WUDF__LAYOUT_LIST:
    case WUDF__LAYOUT_LARGE_LIST:
    case WUDF__LAYOUT_MAP: {
      int large = format.layout == WUDF__LAYOUT_LARGE_LIST;
      const struct ArrowArray* child = array->children[0];
      FUZZ_CHECK(array->buffers[1] != NULL);
      fuzz_touch(array->buffers[1], (uint64_t)(end + 1) * (large ? 8 : 4));
      if (length > 0) {
        const uint8_t* offsets = array->buffers[1];
        FUZZ_CHECK(fuzz_offset(offsets, large, offset) >= 0);
        for (int64_t i = offset; i < end; i++) {
          FUZZ_CHECK(fuzz_offset(offsets, large, i) <= fuzz_offset(offsets, large, i + 1));
        }
        FUZZ_CHECK(fuzz_offset(offsets, large, end) <= child->length);
      }
      if (format.layout == WUDF__LAYOUT_MAP) {
        FUZZ_CHECK(child->n_children == 2);
        const struct ArrowArray* keys = child->children[0];
        struct wudf__format key_format;
        FUZZ_CHECK(wudf__format_parse(schema->children[0]->children[0]->format, &key_format) ==
                   0);
        if (wudf__layout_has_validity(key_format.layout) && keys->buffers[0] != NULL) {
          FUZZ_CHECK(wudf__bits_count(keys->buffers[0], keys->offset, keys->length) ==
                     keys->length);
        }
        if (key_format.layout == WUDF__LAYOUT_NULL) FUZZ_CHECK(keys->length == 0);
      }
      fuzz_walk(child, schema->children[0], full, depth + 1);
      break;
    }
    case WUDF__LAYOUT_LIST_VIEW:
    case WUDF__LAYOUT_LARGE_LIST_VIEW: {
      int large = format.layout == WUDF__LAYOUT_LARGE_LIST_VIEW;
      const struct ArrowArray* child = array->children[0];
      TOUCH_UNLESS_NULL(array->buffers[1], (uint64_t)end * (large ? 8 : 4));
      TOUCH_UNLESS_NULL(array->buffers[2], (uint64_t)end * (large ? 8 : 4));
      for (int64_t i = offset; i < end; i++) {
        int64_t at = fuzz_offset(array->buffers[1], large, i);
        int64_t size = fuzz_offset(array->buffers[2], large, i);
        FUZZ_CHECK(at >= 0 && size >= 0 && at <= child->length && size <= child->length - at);
      }
      fuzz_walk(child, schema->children[0], full, depth + 1);
      break;
    }
    case WUDF__LAYOUT_FIXED_LIST:
    {
      int64_t child_rows;
      FUZZ_CHECK(!__builtin_mul_overflow(extent, format.list_size, &child_rows));
      FUZZ_CHECK(array->children[0]->length >= child_rows);
    }
      fuzz_walk(array->children[0], schema->children[0], full, depth + 1);
      break;
    case WUDF__LAYOUT_STRUCT:
      for (int64_t k = 0; k < array->n_children; k++) {
        FUZZ_CHECK(array->children[k]->length >= extent);
        fuzz_walk(array->children[k], schema->children[k], full, depth + 1);
      }
      break;
    case WUDF__LAYOUT_SPARSE_UNION:
    case WUDF__LAYOUT_DENSE_UNION: {
      int dense = format.layout == WUDF__LAYOUT_DENSE_UNION;
      const int8_t* ids = array->buffers[0];
      TOUCH_UNLESS_NULL(ids, (uint64_t)end);
      if (dense) TOUCH_UNLESS_NULL(array->buffers[1], 4 * (uint64_t)end);
      for (int64_t i = offset; i < end; i++) {
        int child = -1;
        for (int32_t k = 0; k < format.type_id_count; k++) {
          if (format.type_ids[k] == ids[i]) child = k;
        }
        FUZZ_CHECK(child >= 0);
        if (dense) {
          int32_t at;
          memcpy(&at, (const uint8_t*)array->buffers[1] + 4 * i, 4);
          FUZZ_CHECK(at >= 0 && at < array->children[child]->length);
        }
      }
      for (int64_t k = 0; k < array->n_children; k++) {
        if (!dense) FUZZ_CHECK(array->children[k]->length >= extent);
        fuzz_walk(array->children[k], schema->children[k], full, depth + 1);
      }
      break;
    }
    case WUDF__LAYOUT_RUN_END: {
      const struct ArrowArray* run_ends = array->children[0];
      struct wudf__format run_format;
      FUZZ_CHECK(wudf__format_parse(schema->children[0]->format, &run_format) == 0);
      FUZZ_CHECK(run_format.integer == 1 && run_format.byte_width >= 2);
      FUZZ_CHECK(run_ends->buffers[0] == NULL ||
                 wudf__bits_count(run_ends->buffers[0], run_ends->offset, run_ends->length) ==
                     run_ends->length);
      int64_t previous = 0;
      for (int64_t j = 0; j < run_ends->length; j++) {
        int64_t value = fuzz_integer((const uint8_t*)run_ends->buffers[1] +
                                         run_format.byte_width * (run_ends->offset + j),
                                     run_format.byte_width, 1);
        FUZZ_CHECK(value > previous);
        previous = value;
      }
      if (length > 0) FUZZ_CHECK(previous >= end);
      FUZZ_CHECK(array->children[1]->length >= run_ends->length);
      fuzz_walk(run_ends, schema->children[0], full, depth + 1);
      fuzz_walk(array->children[1], schema->children[1], full, depth + 1);
      break;
    }
    default:
      FUZZ_CHECK(!"a layout the walker does not know");
  }
  if (array->dictionary != NULL) {
    FUZZ_CHECK(format.integer != 0);
    fuzz_walk(array->dictionary, schema->dictionary, full, depth + 1);
    if (full) {
      for (int64_t i = offset; i < end; i++) {
        if (!VALID(i)) continue;
        int64_t index = fuzz_integer((const uint8_t*)array->buffers[1] + format.byte_width * i,
                                     format.byte_width, format.integer == 1);
        FUZZ_CHECK(index >= 0 && index < array->dictionary->length);
      }
    }
  }
#undef VALID
#undef TOUCH_UNLESS_NULL
}

/* The rule names of import.c; a rejection must name one of them. */
static const char* const fuzz_rules[] = {
    "struct in memory", "released", "format", "name", "metadata", "flags", "n_children",
    "children", "dictionary", "map entries", "depth", "cycle", "nodes", "length", "offset",
    "null_count", "n_buffers", "buffer", "offsets", "utf8", "view", "variadic sizes",
    "union type id", "union offset", "dictionary index", "run ends", "child length",
    "map keys", "size overflow", "budget"};

static void fuzz_check_rejection(int status, const struct wudf_error* error) {
  FUZZ_CHECK(status == EPROTO);
  FUZZ_CHECK(strncmp(error->message, "result", 6) == 0);
  int named = 0;
  for (size_t i = 0; i < sizeof(fuzz_rules) / sizeof(fuzz_rules[0]) && !named; i++) {
    char needle[64];
    snprintf(needle, sizeof(needle), ": %s: ", fuzz_rules[i]);
    named = strstr(error->message, needle) != NULL;
  }
  FUZZ_CHECK(named);
  for (const char* p = error->message; *p; p++) FUZZ_CHECK((unsigned char)*p >= 0x20);
}

static int fuzz_released;
static void fuzz_on_release(void* context) {
  FUZZ_CHECK(context == &fuzz_released);
  fuzz_released++;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < FUZZ_HEADER) return 0;
  uint32_t array_at, schema_at, expected;
  memcpy(&array_at, data, 4);
  memcpy(&schema_at, data + 4, 4);
  memcpy(&expected, data + 8, 4);
  int level = (data[12] & 1) ? WUDF__VALIDATE_STRUCTURE : WUDF__VALIDATE_FULL;
  int64_t length = expected == UINT32_MAX ? -1 : (int64_t)expected;
  size_t memory_size = size - FUZZ_HEADER;
  uint8_t* bytes = malloc(memory_size == 0 ? 1 : memory_size);
  if (bytes == NULL) return 0;
  memcpy(bytes, data + FUZZ_HEADER, memory_size);
  struct wudf__guest_memory memory = {bytes, memory_size};

  char message[64];
  (void)wudf__guest_string(&memory, schema_at, message, sizeof(message));

  struct wudf_error error;
  struct wudf__mirror* mirror = NULL;
  int status = wudf__mirror_schema(&memory, schema_at, "result", &mirror, &error);
  if (status != 0) {
    FUZZ_CHECK(mirror == NULL);
    fuzz_check_rejection(status, &error);
    free(bytes);
    return 0;
  }
  status = wudf__mirror_array(mirror, &memory, array_at, length, level, "result", &error);
  if (status != 0) {
    FUZZ_CHECK(wudf__mirror_root_array(mirror) == NULL);
    fuzz_check_rejection(status, &error);
  } else {
    const struct ArrowArray* root = wudf__mirror_root_array(mirror);
    if (length >= 0) FUZZ_CHECK(root->length == length);
    fuzz_walk(root, wudf__mirror_root_schema(mirror), level == WUDF__VALIDATE_FULL, 1);
    struct ArrowArray view;
    fuzz_released = 0;
    wudf__mirror_take_array(mirror, &view, fuzz_on_release, &fuzz_released);
    /* Move the first child out (if any), release the root, then it. */
    struct ArrowArray moved;
    int has_child = view.n_children > 0;
    if (has_child) {
      moved = *view.children[0];
      view.children[0]->release = NULL;
    }
    view.release(&view);
    FUZZ_CHECK(fuzz_released == (has_child ? 0 : 1));
    if (has_child) moved.release(&moved);
    FUZZ_CHECK(fuzz_released == 1);
  }
  wudf__mirror_free(mirror);
  free(bytes);
  return 0;
}
