/*
 * gather.c -- planning the concatenation of row segments of Arrow arrays of
 * any type (see gather.h for the semantics per layout).
 *
 * The planner walks the schema tree once. At each node it turns the
 * segments it was given (runs of rows of source arrays, or runs of null
 * rows) into the node's buffers and into the segments of each child: a
 * struct's child sees the same rows, a list's child sees the ranges the
 * offsets select, a dense union's children see the rows that point into
 * them, a dictionary sees each distinct source dictionary once. Segment
 * lists merge adjacent runs of the same array, so a slice stays one
 * segment all the way down and its buffers can be borrowed instead of
 * copied. Built buffers and plan nodes live in chunks owned by the gather;
 * temporary segment lists are freed as soon as their node is planned.
 *
 * Sources are trusted (a caller's arguments, or a result the importer has
 * validated), but every size is still overflow-checked and every segment is
 * checked against the length of the array it reads, so a malformed source
 * is an error rather than a read out of bounds of that array. The check
 * of a caller's array against its schema before it is gathered is
 * gather.h's (wudf__check_shape).
 */
#include "gather.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "bits.h"
#include "format.h"

/* Nesting the planner follows (schemas here are trusted; results are cut
 * at WUDF__MAX_DEPTH = 32 by the importer, so this only bounds recursion). */
#define WUDF__GATHER_MAX_DEPTH 64

/* One allocation owned by a gather; its payload follows, aligned like
 * max_align_t. */
struct wudf__gather_chunk {
  struct wudf__gather_chunk* next;
  max_align_t payload[];
};

struct wudf__gather {
  struct wudf__plan* root;
  struct wudf__gather_chunk* chunks;
};

/* Context of one planning: the gather being filled and the error channel. */
struct wudf__planner {
  struct wudf__gather* gather;
  struct wudf_error* error;
};

/* Allocates `size` bytes owned by the gather (NULL on failure, or for a
 * zero size). The bytes are uninitialised. */
static void* wudf__gather_alloc(struct wudf__gather* gather, size_t size) {
  size_t total;
  if (size == 0) return NULL;
  if (wudf__add_overflows(sizeof(struct wudf__gather_chunk), size, &total)) return NULL;
  struct wudf__gather_chunk* chunk = wudf__malloc(total);
  if (chunk == NULL) return NULL;
  chunk->next = gather->chunks;
  gather->chunks = chunk;
  return chunk->payload;
}

/* Allocates `count` * `width` bytes for a built buffer of the planner's
 * gather; sets ENOMEM or EOVERFLOW in the error channel on failure. A zero
 * size succeeds with `*out` NULL. */
static int wudf__planner_buffer(struct wudf__planner* planner, int64_t count, int64_t width,
                                uint8_t** out) {
  size_t bytes;
  *out = NULL;
  if (count < 0 || width < 0 || wudf__mul_overflows((size_t)count, (size_t)width, &bytes) ||
      bytes > (size_t)INT64_MAX) {
    return wudf__set_error(planner->error, EOVERFLOW,
                           "gather: a buffer of %" PRId64 " x %" PRId64 " bytes is too large",
                           count, width);
  }
  if (bytes == 0) return 0;
  *out = wudf__gather_alloc(planner->gather, bytes);
  if (*out == NULL) {
    return wudf__set_error(planner->error, ENOMEM, "gather: out of memory (%zu bytes)", bytes);
  }
  return 0;
}

int wudf__segment_push(struct wudf__segment_list* list, const struct ArrowArray* array,
                              int64_t start, int64_t count) {
  if (count == 0) return 0;
  if (list->count > 0) {
    struct wudf__segment* last = &list->items[list->count - 1];
    if (last->array == array && (array == NULL || last->start + last->count == start)) {
      last->count += count;
      return 0;
    }
  }
  if (list->count == list->capacity) {
    size_t capacity = list->capacity == 0 ? 8 : list->capacity * 2;
    size_t bytes;
    if (wudf__mul_overflows(capacity, sizeof(struct wudf__segment), &bytes)) return ENOMEM;
    struct wudf__segment* items = wudf__realloc(list->items, bytes);
    if (items == NULL) return ENOMEM;
    list->items = items;
    list->capacity = capacity;
  }
  list->items[list->count].array = array;
  list->items[list->count].start = array == NULL ? 0 : start;
  list->items[list->count].count = count;
  list->count++;
  return 0;
}

/* wudf__segment_push that reports ENOMEM through the planner. */
static int wudf__planner_push(struct wudf__planner* planner, struct wudf__segment_list* list,
                              const struct ArrowArray* array, int64_t start, int64_t count) {
  if (wudf__segment_push(list, array, start, count) != 0) {
    return wudf__set_error(planner->error, ENOMEM, "gather: out of memory (segment list)");
  }
  return 0;
}

void wudf__segment_list_free(struct wudf__segment_list* list) {
  wudf__free(list->items);
  memset(list, 0, sizeof(*list));
}

/* `base` advanced by `bytes`, or NULL when `base` is NULL (no arithmetic on
 * a null pointer). */
static const uint8_t* wudf__advance(const void* base, int64_t bytes) {
  return base == NULL ? NULL : (const uint8_t*)base + bytes;
}

/* Buffer `index` of a source array. */
static const uint8_t* wudf__source_buffer(const struct ArrowArray* array, int64_t index) {
  return (const uint8_t*)array->buffers[index];
}

/* A new plan node for `schema` with zeroed buffer and child tables. */
static int wudf__node_new(struct wudf__planner* planner, const struct ArrowSchema* schema,
                          int64_t length, int32_t n_buffers, int32_t n_children,
                          struct wudf__plan** out) {
  size_t bytes = sizeof(struct wudf__plan) + (size_t)n_buffers * sizeof(struct wudf__plan_buffer) +
                 (size_t)n_children * sizeof(struct wudf__plan*);
  struct wudf__plan* node = wudf__gather_alloc(planner->gather, bytes);
  if (node == NULL) return wudf__set_error(planner->error, ENOMEM, "gather: out of memory");
  memset(node, 0, bytes);
  node->schema = schema;
  node->length = length;
  node->n_buffers = n_buffers;
  node->buffers = (struct wudf__plan_buffer*)(node + 1);
  node->n_children = n_children;
  node->children = (struct wudf__plan**)(node->buffers + n_buffers);
  *out = node;
  return 0;
}

/* Null rows among a segment's rows (all of them for a null segment). */
static int64_t wudf__segment_nulls(const struct wudf__segment* segment) {
  const struct ArrowArray* array = segment->array;
  if (array == NULL) return segment->count;
  const uint8_t* validity = wudf__source_buffer(array, 0);
  if (array->null_count == 0 || validity == NULL) return 0;
  if (segment->start == 0 && segment->count == array->length && array->null_count > 0) {
    return array->null_count;
  }
  return segment->count - wudf__bits_count(validity, array->offset + segment->start,
                                           segment->count);
}

/* Nonzero when row `row` (relative to the array's offset) is null. */
static int wudf__row_is_null(const struct ArrowArray* array, int64_t row) {
  const uint8_t* validity = wudf__source_buffer(array, 0);
  return array->null_count != 0 && validity != NULL &&
         !wudf__bit_get(validity, array->offset + row);
}

/*
 * Plans buffer 0 of `node` (a validity bitmap over the segments' rows) and
 * its null_count. No buffer when no row is null; a borrowed one when one
 * segment starts on a byte boundary of its source bitmap; otherwise a
 * bitmap built with byte and word operations.
 */
static int wudf__plan_validity(struct wudf__planner* planner, const struct wudf__segment* segments,
                               size_t count, struct wudf__plan* node) {
  int64_t nulls = 0;
  for (size_t i = 0; i < count; i++) nulls += wudf__segment_nulls(&segments[i]);
  node->null_count = nulls;
  node->buffers[0].data = NULL;
  node->buffers[0].size = 0;
  if (nulls == 0) return 0;
  int64_t bytes = (node->length + 7) / 8;
  if (count == 1 && segments[0].array != NULL &&
      ((segments[0].array->offset + segments[0].start) & 7) == 0) {
    const struct ArrowArray* array = segments[0].array;
    node->buffers[0].data = wudf__advance(array->buffers[0], (array->offset + segments[0].start) / 8);
    node->buffers[0].size = bytes;
    return 0;
  }
  uint8_t* bits;
  int status = wudf__planner_buffer(planner, bytes, 1, &bits);
  if (status != 0) return status;
  bits[bytes - 1] = 0; /* the bits past the last row: zero, never heap garbage */
  int64_t at = 0;
  for (size_t i = 0; i < count; i++) {
    const struct wudf__segment* segment = &segments[i];
    const struct ArrowArray* array = segment->array;
    if (array == NULL) {
      wudf__bits_fill(bits, at, segment->count, 0);
    } else if (array->null_count == 0 || array->buffers[0] == NULL) {
      wudf__bits_fill(bits, at, segment->count, 1);
    } else {
      wudf__bits_copy(bits, at, wudf__source_buffer(array, 0), array->offset + segment->start,
                      segment->count);
    }
    at += segment->count;
  }
  node->buffers[0].data = bits;
  node->buffers[0].size = bytes;
  return 0;
}

/* Plans buffer `index` of `node` as fixed-width values of `width` bytes:
 * borrowed for a single segment, otherwise concatenated (null segments
 * zero-filled). */
static int wudf__plan_fixed_values(struct wudf__planner* planner,
                                   const struct wudf__segment* segments, size_t count,
                                   int64_t width, int index, struct wudf__plan* node) {
  struct wudf__plan_buffer* buffer = &node->buffers[index];
  if (count == 1 && segments[0].array != NULL) {
    const struct ArrowArray* array = segments[0].array;
    buffer->size = segments[0].count * width;
    buffer->data = wudf__advance(array->buffers[index], (array->offset + segments[0].start) * width);
    return 0;
  }
  uint8_t* values;
  int status = wudf__planner_buffer(planner, node->length, width, &values);
  if (status != 0) return status;
  int64_t at = 0;
  for (size_t i = 0; i < count; i++) {
    const struct wudf__segment* segment = &segments[i];
    size_t bytes = (size_t)(segment->count * width);
    if (segment->array == NULL) {
      memset(values + at, 0, bytes);
    } else {
      const struct ArrowArray* array = segment->array;
      memcpy(values + at,
             wudf__source_buffer(array, index) + (array->offset + segment->start) * width, bytes);
    }
    at += (int64_t)bytes;
  }
  buffer->data = values;
  buffer->size = node->length * width;
  return 0;
}

/* Plans buffer 1 of a boolean node: value bits, borrowed when one segment
 * starts on a byte boundary, otherwise copied (null segments false). */
static int wudf__plan_bool_values(struct wudf__planner* planner,
                                  const struct wudf__segment* segments, size_t count,
                                  struct wudf__plan* node) {
  int64_t bytes = (node->length + 7) / 8;
  if (count == 1 && segments[0].array != NULL &&
      ((segments[0].array->offset + segments[0].start) & 7) == 0) {
    const struct ArrowArray* array = segments[0].array;
    node->buffers[1].data = wudf__advance(array->buffers[1], (array->offset + segments[0].start) / 8);
    node->buffers[1].size = bytes;
    return 0;
  }
  uint8_t* bits;
  int status = wudf__planner_buffer(planner, bytes, 1, &bits);
  if (status != 0 || bits == NULL) return status;
  bits[bytes - 1] = 0; /* the bits past the last row: zero, never heap garbage */
  int64_t at = 0;
  for (size_t i = 0; i < count; i++) {
    const struct wudf__segment* segment = &segments[i];
    if (segment->array == NULL) {
      wudf__bits_fill(bits, at, segment->count, 0);
    } else {
      wudf__bits_copy(bits, at, wudf__source_buffer(segment->array, 1),
                      segment->array->offset + segment->start, segment->count);
    }
    at += segment->count;
  }
  node->buffers[1].data = bits;
  node->buffers[1].size = bytes;
  return 0;
}

/*
 * Plans buffer 1 of `node` as offsets (32-bit, or 64-bit when `large`)
 * rebased to start at 0, and lists in `ranges` the range each non-null
 * segment selects (array = the segment's array, start = its first offset,
 * count = the span; a byte range for binary, a child row range for lists;
 * adjacent ranges of one array merge).
 * The offsets are borrowed when one segment's first offset is already 0.
 * EOVERFLOW when the total passes the offset type.
 */
static int wudf__plan_offsets(struct wudf__planner* planner, const struct wudf__segment* segments,
                              size_t count, int large, struct wudf__plan* node,
                              struct wudf__segment_list* ranges) {
  int64_t width = large ? 8 : 4;
  int64_t limit = large ? INT64_MAX : INT32_MAX;
  int64_t total = 0;
  for (size_t i = 0; i < count; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) continue;
    const uint8_t* offsets = wudf__source_buffer(array, 1);
    int64_t first = array->offset + segments[i].start;
    int64_t begin = wudf__offset_get(offsets, large, first);
    int64_t end = wudf__offset_get(offsets, large, first + segments[i].count);
    if (begin < 0 || end < begin) {
      return wudf__set_error(planner->error, EINVAL,
                             "gather: a source's offsets decrease ([%" PRId64 ", %" PRId64 "])",
                             begin, end);
    }
    if (end - begin > limit - total) {
      return wudf__set_error(planner->error, EOVERFLOW,
                             "gather: the rows hold more than %" PRId64 " %s, past the range "
                             "of %s offsets", limit,
                             node->n_children > 0 ? "child rows" : "bytes",
                             large ? "64-bit" : "32-bit");
    }
    total += end - begin;
    int status = wudf__planner_push(planner, ranges, array, begin, end - begin);
    if (status != 0) return status;
  }
  struct wudf__plan_buffer* buffer = &node->buffers[1];
  if (count == 1 && segments[0].array != NULL) {
    const struct ArrowArray* array = segments[0].array;
    const uint8_t* offsets = wudf__source_buffer(array, 1);
    if (wudf__offset_get(offsets, large, array->offset + segments[0].start) == 0) {
      buffer->data = offsets + (array->offset + segments[0].start) * width;
      buffer->size = (node->length + 1) * width;
      return 0;
    }
  }
  uint8_t* rebased;
  int status = wudf__planner_buffer(planner, node->length + 1, width, &rebased);
  if (status != 0) return status;
  int64_t row = 0, base = 0;
  wudf__offset_set(rebased, large, 0, 0);
  for (size_t i = 0; i < count; i++) {
    const struct wudf__segment* segment = &segments[i];
    if (segment->array == NULL) {
      int64_t rows = segment->count;
      for (int64_t j = 1; j <= rows; j++) wudf__offset_set(rebased, large, row + j, base);
    } else {
      const uint8_t* offsets = wudf__source_buffer(segment->array, 1);
      int64_t first = segment->array->offset + segment->start;
      /* Both ends of every rebased range fit an entry (checked above). */
      wudf__offsets_shift(rebased + (row + 1) * width, offsets + (first + 1) * width,
                          segment->count, base - wudf__offset_get(offsets, large, first),
                          large);
      base = wudf__offset_get(rebased, large, row + segment->count);
    }
    row += segment->count;
  }
  buffer->data = rebased;
  buffer->size = (node->length + 1) * width;
  return 0;
}

/* Plans buffer 2 of a binary node: the bytes of `ranges` (byte ranges of
 * the segments' data buffers), borrowed when they are one range. */
static int wudf__plan_binary_data(struct wudf__planner* planner,
                                  const struct wudf__segment_list* ranges,
                                  struct wudf__plan* node) {
  struct wudf__plan_buffer* buffer = &node->buffers[2];
  buffer->data = NULL;
  buffer->size = 0;
  if (ranges->count == 0) return 0;
  if (ranges->count == 1) { /* one byte range (several segments may share it) */
    buffer->data = wudf__advance(ranges->items[0].array->buffers[2], ranges->items[0].start);
    buffer->size = ranges->items[0].count;
    return 0;
  }
  int64_t total = 0;
  for (size_t i = 0; i < ranges->count; i++) total += ranges->items[i].count;
  uint8_t* data;
  int status = wudf__planner_buffer(planner, total, 1, &data);
  if (status != 0) return status;
  int64_t at = 0;
  for (size_t i = 0; i < ranges->count; i++) {
    const struct wudf__segment* range = &ranges->items[i];
    memcpy(data + at, wudf__source_buffer(range->array, 2) + range->start, (size_t)range->count);
    at += range->count;
  }
  buffer->data = data;
  buffer->size = total;
  return 0;
}

/* Reads the int32 at `bytes` (unaligned). */
static int32_t wudf__read_i32(const uint8_t* bytes) {
  int32_t value;
  memcpy(&value, bytes, sizeof(value));
  return value;
}

/*
 * Checks a non-inline view of a source (length `size` > 12) and returns
 * where its bytes are, or NULL (with an EINVAL error) when the view names a
 * variadic buffer the array does not have or bytes past that buffer.
 */
static const uint8_t* wudf__view_bytes(struct wudf__planner* planner,
                                       const struct ArrowArray* array, const uint8_t* view,
                                       int32_t size) {
  int64_t variadic = array->n_buffers - 3;
  int32_t index = wudf__read_i32(view + 8);
  int32_t offset = wudf__read_i32(view + 12);
  if (index < 0 || index >= variadic || offset < 0) {
    wudf__set_error(planner->error, EINVAL, "gather: a view names buffer %" PRId32
                    " at %" PRId32 " of %" PRId64 " variadic buffers", index, offset, variadic);
    return NULL;
  }
  const uint8_t* sizes = wudf__source_buffer(array, array->n_buffers - 1);
  if (sizes != NULL) {
    int64_t buffer_size;
    memcpy(&buffer_size, sizes + (int64_t)index * 8, 8);
    if ((int64_t)offset + size > buffer_size) {
      wudf__set_error(planner->error, EINVAL, "gather: a view's bytes [%" PRId32 ", +%" PRId32
                      ") pass the end of variadic buffer %" PRId32, offset, size, index);
      return NULL;
    }
  }
  return wudf__source_buffer(array, 2 + index);
}

/*
 * Plans a view node (validity done): views copied, inline ones as they
 * are, the others rewritten to point into one compacted data buffer; null
 * rows get empty views. Buffers: validity, views, [data,] sizes.
 */
static int wudf__plan_views(struct wudf__planner* planner, const struct wudf__segment* segments,
                            size_t count, struct wudf__plan* node) {
  /* First pass: the bytes the non-inline, non-null rows need. */
  int64_t total = 0;
  for (size_t i = 0; i < count; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) continue;
    const uint8_t* views = wudf__source_buffer(array, 1) + (array->offset + segments[i].start) * 16;
    for (int64_t row = 0; row < segments[i].count; row++) {
      int32_t size = wudf__read_i32(views + row * 16);
      if (size <= 12 || wudf__row_is_null(array, segments[i].start + row)) continue;
      if (wudf__view_bytes(planner, array, views + row * 16, size) == NULL) return EINVAL;
      if (size > INT32_MAX - total) {
        return wudf__set_error(planner->error, EOVERFLOW,
                               "gather: the view rows hold more than %d bytes, past the "
                               "32-bit offsets of views", INT32_MAX);
      }
      total += size;
    }
  }
  uint8_t* views_out;
  uint8_t* data = NULL;
  int status = wudf__planner_buffer(planner, node->length, 16, &views_out);
  if (status == 0) status = wudf__planner_buffer(planner, total, 1, &data);
  if (status != 0) return status;
  int64_t row_out = 0, at = 0;
  for (size_t i = 0; i < count; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) {
      memset(views_out + row_out * 16, 0, (size_t)segments[i].count * 16);
      row_out += segments[i].count;
      continue;
    }
    const uint8_t* views = wudf__source_buffer(array, 1) + (array->offset + segments[i].start) * 16;
    for (int64_t row = 0; row < segments[i].count; row++, row_out++) {
      const uint8_t* view = views + row * 16;
      uint8_t* target = views_out + row_out * 16;
      int32_t size = wudf__read_i32(view);
      if (wudf__row_is_null(array, segments[i].start + row)) {
        memset(target, 0, 16);
      } else if (size <= 12) {
        memcpy(target, view, 16);
      } else {
        const uint8_t* bytes = wudf__view_bytes(planner, array, view, size);
        int32_t offset = wudf__read_i32(view + 12);
        int32_t buffer_index = 0, new_offset = (int32_t)at;
        memcpy(data + at, bytes + offset, (size_t)size);
        memcpy(target, view, 8); /* length and prefix */
        memcpy(target + 8, &buffer_index, 4);
        memcpy(target + 12, &new_offset, 4);
        at += size;
      }
    }
  }
  node->buffers[1].data = views_out;
  node->buffers[1].size = node->length * 16;
  if (total > 0) {
    int64_t* sizes = wudf__gather_alloc(planner->gather, sizeof(int64_t));
    if (sizes == NULL) return wudf__set_error(planner->error, ENOMEM, "gather: out of memory");
    *sizes = total;
    node->n_buffers = 4;
    node->buffers[2].data = data;
    node->buffers[2].size = total;
    node->buffers[3].data = (const uint8_t*)sizes;
    node->buffers[3].size = 8;
  } else {
    node->n_buffers = 3; /* no data buffer; buffers[2] is the empty sizes buffer */
    node->buffers[2].data = NULL;
    node->buffers[2].size = 0;
  }
  return 0;
}

static int wudf__plan_node(struct wudf__planner* planner, const struct ArrowSchema* schema,
                           const struct wudf__segment* segments, size_t count, int depth,
                           struct wudf__plan** out);

/* Plans child `index` of `node` over `list`, then frees the list. */
static int wudf__plan_child(struct wudf__planner* planner, struct wudf__plan* node, int32_t index,
                            struct wudf__segment_list* list, int depth) {
  int status = wudf__plan_node(planner, node->schema->children[index], list->items, list->count,
                               depth + 1, &node->children[index]);
  wudf__segment_list_free(list);
  return status;
}

/*
 * Plans a list-view node (validity done): per segment the child range from
 * the smallest offset to the largest end of its non-empty rows is gathered;
 * offsets are rebased into the gathered child, empty rows point at their
 * segment's base, sizes are copied (borrowed for one segment).
 */
static int wudf__plan_list_views(struct wudf__planner* planner,
                                 const struct wudf__segment* segments, size_t count, int large,
                                 struct wudf__plan* node, int depth) {
  int64_t width = large ? 8 : 4;
  int64_t limit = large ? INT64_MAX : INT32_MAX;
  uint8_t* offsets_out;
  uint8_t* sizes_out = NULL;
  int borrow_sizes = count == 1 && segments[0].array != NULL;
  int status = wudf__planner_buffer(planner, node->length, width, &offsets_out);
  if (status == 0 && !borrow_sizes) {
    status = wudf__planner_buffer(planner, node->length, width, &sizes_out);
  }
  if (status != 0) return status;
  struct wudf__segment_list child = {0};
  int64_t base = 0, row_out = 0;
  for (size_t i = 0; i < count && status == 0; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) {
      for (int64_t row = 0; row < segments[i].count; row++, row_out++) {
        wudf__offset_set(offsets_out, large, row_out, base);
        if (sizes_out != NULL) wudf__offset_set(sizes_out, large, row_out, 0);
      }
      continue;
    }
    const uint8_t* offsets = wudf__source_buffer(array, 1);
    const uint8_t* sizes = wudf__source_buffer(array, 2);
    int64_t first = array->offset + segments[i].start;
    int64_t low = INT64_MAX, high = 0;
    for (int64_t row = 0; row < segments[i].count; row++) {
      int64_t size = wudf__offset_get(sizes, large, first + row);
      int64_t offset = wudf__offset_get(offsets, large, first + row);
      if (size == 0) continue;
      if (size < 0 || offset < 0 || offset > INT64_MAX - size) {
        status = wudf__set_error(planner->error, EINVAL, "gather: a list view row has "
                                 "offset %" PRId64 " and size %" PRId64, offset, size);
        break;
      }
      if (offset < low) low = offset;
      if (offset + size > high) high = offset + size;
    }
    if (status != 0) break;
    if (low > high) low = high = 0; /* no non-empty row */
    if (high - low > limit - base) {
      status = wudf__set_error(planner->error, EOVERFLOW,
                               "gather: the list view rows span more than %" PRId64
                               " child rows, past the range of their offsets", limit);
      break;
    }
    for (int64_t row = 0; row < segments[i].count; row++, row_out++) {
      int64_t size = wudf__offset_get(sizes, large, first + row);
      int64_t offset = size == 0 ? base : wudf__offset_get(offsets, large, first + row) - low + base;
      wudf__offset_set(offsets_out, large, row_out, offset);
      if (sizes_out != NULL) wudf__offset_set(sizes_out, large, row_out, size);
    }
    status = wudf__planner_push(planner, &child, array->children[0], low, high - low);
    base += high - low;
  }
  if (status != 0) {
    wudf__segment_list_free(&child);
    return status;
  }
  node->buffers[1].data = offsets_out;
  node->buffers[1].size = node->length * width;
  if (!borrow_sizes) {
    node->buffers[2].data = sizes_out;
  } else {
    node->buffers[2].data = wudf__advance(segments[0].array->buffers[2],
                                          (segments[0].array->offset + segments[0].start) * width);
  }
  node->buffers[2].size = node->length * width;
  return wudf__plan_child(planner, node, 0, &child, depth);
}

/* The child index of each union type id (-1: not declared). */
static void wudf__union_children(const struct wudf__format* format, int8_t child_of[128]) {
  memset(child_of, -1, 128);
  for (int32_t i = 0; i < format->type_id_count; i++) {
    child_of[(uint8_t)format->type_ids[i]] = (int8_t)i;
  }
}

/* Plans the type ids (buffer 0) of a union node: borrowed for one segment,
 * otherwise copied, null segments taking the first type id. */
static int wudf__plan_type_ids(struct wudf__planner* planner, const struct wudf__segment* segments,
                               size_t count, const struct wudf__format* format,
                               struct wudf__plan* node) {
  if (count == 1 && segments[0].array != NULL) {
    return wudf__plan_fixed_values(planner, segments, count, 1, 0, node);
  }
  uint8_t* ids;
  int status = wudf__planner_buffer(planner, node->length, 1, &ids);
  if (status != 0) return status;
  int64_t at = 0;
  for (size_t i = 0; i < count; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) {
      memset(ids + at, (uint8_t)format->type_ids[0], (size_t)segments[i].count);
    } else {
      memcpy(ids + at, wudf__source_buffer(array, 0) + array->offset + segments[i].start,
             (size_t)segments[i].count);
    }
    at += segments[i].count;
  }
  node->buffers[0].data = ids;
  node->buffers[0].size = node->length;
  return 0;
}

/*
 * Plans a sparse union: type ids copied, every child gathered over the
 * same rows (null segments are null rows in every child, and rows of the
 * first type id).
 */
static int wudf__plan_sparse_union(struct wudf__planner* planner,
                                   const struct wudf__segment* segments, size_t count,
                                   const struct wudf__format* format, struct wudf__plan* node,
                                   int depth) {
  int status = wudf__plan_type_ids(planner, segments, count, format, node);
  for (int32_t c = 0; c < node->n_children && status == 0; c++) {
    struct wudf__segment_list child = {0};
    for (size_t i = 0; i < count && status == 0; i++) {
      const struct ArrowArray* array = segments[i].array;
      status = wudf__planner_push(planner, &child, array == NULL ? NULL : array->children[c],
                                  array == NULL ? 0 : array->offset + segments[i].start,
                                  segments[i].count);
    }
    if (status != 0) {
      wudf__segment_list_free(&child);
      break;
    }
    status = wudf__plan_child(planner, node, c, &child, depth);
  }
  return status;
}

/*
 * Plans a dense union: type ids copied; each row's value is appended to
 * the gathered child of its type (runs of consecutive child rows merge
 * into one segment) and its offset renumbered; a null row is a null
 * appended to the first child.
 */
static int wudf__plan_dense_union(struct wudf__planner* planner,
                                  const struct wudf__segment* segments, size_t count,
                                  const struct wudf__format* format, struct wudf__plan* node,
                                  int depth) {
  int status = wudf__plan_type_ids(planner, segments, count, format, node);
  if (status != 0) return status;
  uint8_t* offsets_out;
  status = wudf__planner_buffer(planner, node->length, 4, &offsets_out);
  if (status != 0) return status;
  int8_t child_of[128];
  wudf__union_children(format, child_of);
  int32_t n_children = node->n_children;
  struct wudf__segment_list* lists = NULL;
  int64_t* next = NULL;
  if (n_children > 0) {
    lists = wudf__calloc((size_t)n_children, sizeof(*lists));
    next = wudf__calloc((size_t)n_children, sizeof(*next));
    if (lists == NULL || next == NULL) {
      status = wudf__set_error(planner->error, ENOMEM, "gather: out of memory");
    }
  }
  int64_t row_out = 0;
  for (size_t i = 0; i < count && status == 0; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) {
      if (next[0] + segments[i].count - 1 > INT32_MAX) {
        status = wudf__set_error(planner->error, EOVERFLOW, "gather: a dense union child "
                                 "passes the range of its 32-bit offsets");
        break;
      }
      for (int64_t row = 0; row < segments[i].count; row++) {
        int32_t offset = (int32_t)next[0]++;
        memcpy(offsets_out + (row_out++) * 4, &offset, 4);
      }
      status = wudf__planner_push(planner, &lists[0], NULL, 0, segments[i].count);
      continue;
    }
    const int8_t* ids = (const int8_t*)wudf__source_buffer(array, 0) + array->offset + segments[i].start;
    const uint8_t* offsets = wudf__source_buffer(array, 1) + (array->offset + segments[i].start) * 4;
    for (int64_t row = 0; row < segments[i].count && status == 0; row++) {
      int8_t id = ids[row];
      int c = id < 0 ? -1 : child_of[id];
      int32_t source_offset = wudf__read_i32(offsets + row * 4);
      if (c < 0 || source_offset < 0) {
        status = wudf__set_error(planner->error, EINVAL, "gather: a dense union row has "
                                 "type id %d and offset %" PRId32, id, source_offset);
        break;
      }
      if (next[c] > INT32_MAX) {
        status = wudf__set_error(planner->error, EOVERFLOW, "gather: a dense union child "
                                 "passes the range of its 32-bit offsets");
        break;
      }
      int32_t offset = (int32_t)next[c]++;
      memcpy(offsets_out + (row_out++) * 4, &offset, 4);
      status = wudf__planner_push(planner, &lists[c], array->children[c], source_offset, 1);
    }
  }
  if (status == 0) {
    node->buffers[1].data = offsets_out;
    node->buffers[1].size = node->length * 4;
  }
  for (int32_t c = 0; lists != NULL && c < n_children; c++) {
    if (status == 0) {
      status = wudf__plan_child(planner, node, c, &lists[c], depth);
    } else {
      wudf__segment_list_free(&lists[c]);
    }
  }
  wudf__free(lists);
  wudf__free(next);
  return status;
}

/* Reads entry `i` of a run ends buffer of `width` bytes (signed). */
static int64_t wudf__run_end_get(const uint8_t* run_ends, int64_t width, int64_t i) {
  if (width == 2) {
    int16_t value;
    memcpy(&value, run_ends + i * 2, 2);
    return value;
  }
  return wudf__offset_get(run_ends, width == 8, i);
}

/* Writes entry `i` of a run ends buffer of `width` bytes (the caller has
 * checked the value fits). */
static void wudf__run_end_set(uint8_t* run_ends, int64_t width, int64_t i, int64_t value) {
  if (width == 2) {
    int16_t value16 = (int16_t)value;
    memcpy(run_ends + i * 2, &value16, 2);
  } else {
    wudf__offset_set(run_ends, width == 8, i, value);
  }
}

/* The first run of `run_ends` (an array of `width`-byte signed ends) whose
 * end is past logical row `row`, or the array's length if none. */
static int64_t wudf__run_find(const struct ArrowArray* run_ends, int64_t width, int64_t row) {
  const uint8_t* ends = wudf__source_buffer(run_ends, 1);
  int64_t low = 0, high = run_ends->length;
  while (low < high) {
    int64_t middle = low + (high - low) / 2;
    if (wudf__run_end_get(ends, width, run_ends->offset + middle) > row) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

/*
 * Plans a run-end encoded node: each segment's runs are cut to its rows and
 * renumbered, the values child gathered over those runs' values; a null
 * segment is one run of a null value.
 */
static int wudf__plan_run_end(struct wudf__planner* planner, const struct wudf__segment* segments,
                              size_t count, struct wudf__plan* node, int depth) {
  const struct ArrowSchema* ends_schema = node->schema->children[0];
  struct wudf__format ends_format;
  if (wudf__format_parse(ends_schema->format, &ends_format) != 0 ||
      ends_format.layout != WUDF__LAYOUT_FIXED || ends_format.integer != 1 ||
      ends_format.byte_width < 2 || ends_schema->dictionary != NULL) {
    return wudf__set_error(planner->error, EINVAL, "gather: run ends of format '%s' (int16, "
                           "int32 or int64 expected)", ends_schema->format);
  }
  int64_t width = ends_format.byte_width;
  int64_t limit = width == 2 ? INT16_MAX : width == 4 ? INT32_MAX : INT64_MAX;
  if (node->length > limit) {
    return wudf__set_error(planner->error, EOVERFLOW, "gather: %" PRId64 " rows pass the "
                           "range of %d-bit run ends", node->length, (int)(width * 8));
  }
  /* First pass: count the runs, checking each segment lies in its runs. */
  int64_t runs = 0;
  for (size_t i = 0; i < count; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) {
      runs++;
      continue;
    }
    int64_t first = array->offset + segments[i].start;
    int64_t last = first + segments[i].count - 1;
    int64_t begin = wudf__run_find(array->children[0], width, first);
    int64_t end = wudf__run_find(array->children[0], width, last);
    if (end >= array->children[0]->length || end >= array->children[1]->length) {
      return wudf__set_error(planner->error, EINVAL, "gather: the runs of a run-end encoded "
                             "source end before its row %" PRId64, last);
    }
    runs += end - begin + 1;
  }
  uint8_t* ends_out;
  struct wudf__plan* ends_node = NULL;
  int status = wudf__planner_buffer(planner, runs, width, &ends_out);
  if (status == 0) status = wudf__node_new(planner, ends_schema, runs, 2, 0, &ends_node);
  if (status != 0) return status;
  struct wudf__segment_list values = {0};
  int64_t run = 0, base = 0;
  for (size_t i = 0; i < count && status == 0; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) {
      base += segments[i].count;
      wudf__run_end_set(ends_out, width, run++, base);
      status = wudf__planner_push(planner, &values, NULL, 0, 1);
      continue;
    }
    const struct ArrowArray* source_ends = array->children[0];
    const uint8_t* ends = wudf__source_buffer(source_ends, 1);
    int64_t first = array->offset + segments[i].start;
    int64_t stop = first + segments[i].count;
    int64_t k = wudf__run_find(source_ends, width, first);
    int64_t k_first = k;
    for (;; k++) {
      int64_t end = wudf__run_end_get(ends, width, source_ends->offset + k);
      int64_t cut = end < stop ? end : stop;
      wudf__run_end_set(ends_out, width, run++, base + cut - first);
      if (end >= stop) break;
    }
    base += segments[i].count;
    status = wudf__planner_push(planner, &values, array->children[1], k_first, k - k_first + 1);
  }
  if (status != 0) {
    wudf__segment_list_free(&values);
    return status;
  }
  ends_node->buffers[1].data = ends_out;
  ends_node->buffers[1].size = runs * width;
  node->children[0] = ends_node;
  return wudf__plan_child(planner, node, 1, &values, depth);
}

/* Largest index an integer type of `width` bytes (`integer`: 1 signed, 2
 * unsigned) can hold. */
static int64_t wudf__index_max(int64_t width, uint8_t integer) {
  if (width >= 8) return INT64_MAX;
  return integer == 1 ? (INT64_C(1) << (width * 8 - 1)) - 1 : (INT64_C(1) << (width * 8)) - 1;
}

/* Reads index `i` of an integer buffer of `width` bytes. */
static int64_t wudf__index_get(const uint8_t* values, int64_t width, uint8_t integer, int64_t i) {
  const uint8_t* at = values + i * width;
  switch (width) {
    case 1: return integer == 1 ? (int64_t)(int8_t)at[0] : (int64_t)at[0];
    case 2: {
      uint16_t value;
      memcpy(&value, at, 2);
      return integer == 1 ? (int64_t)(int16_t)value : (int64_t)value;
    }
    case 4: {
      uint32_t value;
      memcpy(&value, at, 4);
      return integer == 1 ? (int64_t)(int32_t)value : (int64_t)value;
    }
    default: {
      int64_t value;
      memcpy(&value, at, 8);
      return value;
    }
  }
}

/* Writes index `i` (the caller has checked it fits the type). */
static void wudf__index_set(uint8_t* values, int64_t width, int64_t i, int64_t value) {
  uint64_t bits = (uint64_t)value;
  memcpy(values + i * width, &bits, (size_t)width); /* little-endian: the low bytes */
}

/* The bytes that identify one dictionary value for unification: `*null` is
 * set for a null row; otherwise `*bytes`/`*size` are the value's bytes (a
 * bool is one byte, 0 or 1, in `*bit`). Returns 0, or -1 for a layout whose
 * values are not compared (views, nested types: their dictionaries are not
 * unified). */
static int wudf__dictionary_value(const struct ArrowArray* array, const struct wudf__format* format,
                                  int64_t row, int* null, const uint8_t** bytes, int64_t* size,
                                  uint8_t* bit) {
  *null = format->layout == WUDF__LAYOUT_NULL || wudf__row_is_null(array, row);
  *bytes = NULL;
  *size = 0;
  if (*null) return format->layout == WUDF__LAYOUT_NULL || format->layout == WUDF__LAYOUT_BOOL ||
                    format->layout == WUDF__LAYOUT_FIXED || format->layout == WUDF__LAYOUT_BINARY ||
                    format->layout == WUDF__LAYOUT_LARGE_BINARY ? 0 : -1;
  int64_t at = array->offset + row;
  switch (format->layout) {
    case WUDF__LAYOUT_BOOL:
      *bit = (uint8_t)wudf__bit_get(wudf__source_buffer(array, 1), at);
      *bytes = bit;
      *size = 1;
      return 0;
    case WUDF__LAYOUT_FIXED:
      *bytes = wudf__source_buffer(array, 1) + at * format->byte_width;
      *size = format->byte_width;
      return 0;
    case WUDF__LAYOUT_BINARY:
    case WUDF__LAYOUT_LARGE_BINARY: {
      int large = format->layout == WUDF__LAYOUT_LARGE_BINARY;
      const uint8_t* offsets = wudf__source_buffer(array, 1);
      int64_t begin = wudf__offset_get(offsets, large, at);
      int64_t end = wudf__offset_get(offsets, large, at + 1);
      if (begin < 0 || end < begin) return -1;
      *bytes = wudf__source_buffer(array, 2) + begin;
      *size = end - begin;
      return 0;
    }
    default:
      return -1;
  }
}

/* FNV-1a of a dictionary value (nulls hash alike). */
static uint64_t wudf__dictionary_hash(int null, const uint8_t* bytes, int64_t size) {
  uint64_t hash = null ? UINT64_C(0x9e3779b97f4a7c15) : UINT64_C(14695981039346656037);
  for (int64_t i = 0; i < size; i++) hash = (hash ^ bytes[i]) * UINT64_C(1099511628211);
  return hash;
}

/*
 * Unifies `distinct` source dictionaries (`total` values in all, whole-array
 * segments) whose concatenation does not fit the index type: equal values
 * (and all nulls) become one entry, kept in first-seen order. On success
 * `*remap` (total entries, freed by the caller) maps a value's position in
 * the concatenation to its unified index and `*unified` (freed by the
 * caller; `*unified_count` segments, adjacent rows merged) lists the
 * unified dictionary's rows. Returns 0; 1 (no error set) when the distinct
 * values still exceed `index_max` (their number in `*values`) or the
 * values' type is not compared (wudf__dictionary_value; `*values` is -1);
 * ENOMEM.
 */
static int wudf__dictionary_unify(struct wudf__planner* planner,
                                  const struct wudf__segment* dictionaries, size_t distinct,
                                  int64_t total, const struct ArrowSchema* values_schema,
                                  int64_t index_max, int64_t* values, int64_t** remap,
                                  struct wudf__segment** unified, size_t* unified_count) {
  struct wudf__format format;
  *remap = NULL;
  *unified = NULL;
  *unified_count = 0;
  *values = -1;
  if (values_schema == NULL || values_schema->dictionary != NULL ||
      wudf__format_parse(values_schema->format, &format) != 0) {
    return 1;
  }
  size_t capacity = 16;
  while ((int64_t)capacity < total * 2) capacity *= 2;
  if (total > INT64_MAX / 4 || (uint64_t)total > SIZE_MAX / 2 / sizeof(struct wudf__segment)) {
    return wudf__set_error(planner->error, ENOMEM, "gather: out of memory");
  }
  int64_t* table = wudf__malloc(capacity * sizeof(*table));
  int64_t* positions = wudf__malloc((size_t)total * sizeof(*positions));
  struct wudf__segment* rows = wudf__malloc((size_t)total * sizeof(*rows));
  if (table == NULL || positions == NULL || rows == NULL) {
    wudf__free(table);
    wudf__free(positions);
    wudf__free(rows);
    return wudf__set_error(planner->error, ENOMEM, "gather: out of memory");
  }
  for (size_t i = 0; i < capacity; i++) table[i] = -1;
  int64_t count = 0, position = 0;
  int status = 0;
  for (size_t d = 0; d < distinct && status == 0; d++) {
    const struct ArrowArray* array = dictionaries[d].array;
    for (int64_t row = 0; row < dictionaries[d].count; row++, position++) {
      int null;
      const uint8_t* bytes;
      int64_t size;
      uint8_t bit;
      if (wudf__dictionary_value(array, &format, row, &null, &bytes, &size, &bit) != 0) {
        status = -1;
        break;
      }
      size_t slot = (size_t)wudf__dictionary_hash(null, bytes, size) & (capacity - 1);
      for (;; slot = (slot + 1) & (capacity - 1)) {
        int64_t entry = table[slot];
        if (entry < 0) {
          table[slot] = count;
          rows[count].array = array;
          rows[count].start = row;
          rows[count].count = 1;
          positions[position] = count++;
          break;
        }
        int other_null;
        const uint8_t* other_bytes;
        int64_t other_size;
        uint8_t other_bit;
        wudf__dictionary_value(rows[entry].array, &format, rows[entry].start, &other_null,
                               &other_bytes, &other_size, &other_bit);
        if (other_null == null && other_size == size &&
            (size == 0 || memcmp(other_bytes, bytes, (size_t)size) == 0)) {
          positions[position] = entry;
          break;
        }
      }
    }
  }
  wudf__free(table);
  if (status != 0 || count - 1 > index_max) {
    wudf__free(positions);
    wudf__free(rows);
    if (status == 0) *values = count;
    return 1;
  }
  size_t merged = 0;
  for (int64_t u = 0; u < count; u++) {
    if (merged > 0 && rows[merged - 1].array == rows[u].array &&
        rows[merged - 1].start + rows[merged - 1].count == rows[u].start) {
      rows[merged - 1].count++;
    } else {
      rows[merged++] = rows[u];
    }
  }
  *remap = positions;
  *unified = rows;
  *unified_count = merged;
  return 0;
}

/*
 * Plans a dictionary-encoded node (validity done): the dictionary is the
 * concatenation of the distinct source dictionaries in first-use order;
 * indices are copied as they are when there is at most one, otherwise
 * shifted by the start of their dictionary in the concatenation (null rows
 * get index 0). When the concatenation has more values than the index type
 * can address, the dictionaries are unified instead (equal values kept
 * once, wudf__dictionary_unify) and the indices remapped; only when even
 * the distinct values do not fit, or the values are of a nested or view
 * type, is that EOVERFLOW.
 */
static int wudf__plan_dictionary(struct wudf__planner* planner,
                                 const struct wudf__segment* segments, size_t count,
                                 const struct wudf__format* format, struct wudf__plan* node,
                                 int depth) {
  /* Distinct dictionaries as whole segments, and each segment's base. */
  struct wudf__segment* dictionaries = NULL;
  int64_t* bases = NULL;
  size_t distinct = 0;
  int64_t total = 0;
  if (count > 0) {
    dictionaries = wudf__calloc(count, sizeof(*dictionaries));
    bases = wudf__calloc(count, sizeof(*bases));
    if (dictionaries == NULL || bases == NULL) {
      wudf__free(dictionaries);
      wudf__free(bases);
      return wudf__set_error(planner->error, ENOMEM, "gather: out of memory");
    }
  }
  int status = 0;
  for (size_t i = 0; i < count && status == 0; i++) {
    const struct ArrowArray* array = segments[i].array;
    if (array == NULL) continue;
    int64_t base = 0;
    size_t d = 0;
    for (; d < distinct && dictionaries[d].array != array->dictionary; d++) {
      base += dictionaries[d].count;
    }
    if (d == distinct) {
      if (array->dictionary->length < 0 || array->dictionary->length > INT64_MAX / 2 - total) {
        status = wudf__set_error(planner->error, EOVERFLOW, "gather: dictionaries too long");
        break;
      }
      dictionaries[distinct].array = array->dictionary;
      dictionaries[distinct].start = 0;
      dictionaries[distinct].count = array->dictionary->length;
      distinct++;
      total += array->dictionary->length;
    }
    bases[i] = base;
  }
  int64_t* remap = NULL;
  struct wudf__segment* unified = NULL;
  size_t unified_count = 0;
  if (status == 0 && distinct > 1 &&
      total - 1 > wudf__index_max(format->byte_width, format->integer)) {
    /* The concatenation does not fit the index type: unify the values. */
    int64_t values = -1;
    status = wudf__dictionary_unify(planner, dictionaries, distinct, total,
                                    node->schema->dictionary,
                                    wudf__index_max(format->byte_width, format->integer), &values,
                                    &remap, &unified, &unified_count);
    if (status == 1 && values >= 0) {
      status = wudf__set_error(planner->error, EOVERFLOW, "gather: %zu dictionaries of %" PRId64
                               " distinct values are too many for %d-bit %s indices", distinct,
                               values, (int)(format->byte_width * 8),
                               format->integer == 1 ? "signed" : "unsigned");
    } else if (status == 1) {
      status = wudf__set_error(planner->error, EOVERFLOW, "gather: %zu dictionaries of %" PRId64
                               " values in all are too many for %d-bit %s indices (dictionaries"
                               " of nested or view values are not unified)", distinct, total,
                               (int)(format->byte_width * 8),
                               format->integer == 1 ? "signed" : "unsigned");
    }
  }
  if (status == 0 && distinct <= 1) {
    status = wudf__plan_fixed_values(planner, segments, count, format->byte_width, 1, node);
  } else if (status == 0) {
    int64_t width = format->byte_width;
    uint8_t* indices;
    status = wudf__planner_buffer(planner, node->length, width, &indices);
    int64_t row_out = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
      const struct ArrowArray* array = segments[i].array;
      if (array == NULL) {
        memset(indices + row_out * width, 0, (size_t)(segments[i].count * width));
        row_out += segments[i].count;
        continue;
      }
      const uint8_t* source = wudf__source_buffer(array, 1);
      for (int64_t row = 0; row < segments[i].count; row++, row_out++) {
        int64_t value = 0;
        if (!wudf__row_is_null(array, segments[i].start + row)) {
          value = wudf__index_get(source, width, format->integer,
                                  array->offset + segments[i].start + row);
          if (value < 0 || value >= array->dictionary->length) {
            status = wudf__set_error(planner->error, EINVAL, "gather: dictionary index %"
                                     PRId64 " outside its dictionary of %" PRId64,
                                     value, array->dictionary->length);
            break;
          }
          value += bases[i];
          if (remap != NULL) value = remap[value];
        }
        wudf__index_set(indices, width, row_out, value);
      }
    }
    if (status == 0) {
      node->buffers[1].data = indices;
      node->buffers[1].size = node->length * width;
    }
  }
  if (status == 0) {
    if (unified != NULL) {
      status = wudf__plan_node(planner, node->schema->dictionary, unified, unified_count,
                               depth + 1, &node->dictionary);
    } else {
      /* Empty dictionaries add no rows: leave them out of the segments. */
      size_t kept = 0;
      for (size_t d = 0; d < distinct; d++) {
        if (dictionaries[d].count > 0) dictionaries[kept++] = dictionaries[d];
      }
      status = wudf__plan_node(planner, node->schema->dictionary, dictionaries, kept, depth + 1,
                               &node->dictionary);
    }
  }
  wudf__free(remap);
  wudf__free(unified);
  wudf__free(dictionaries);
  wudf__free(bases);
  return status;
}

/* Checks that a source array has the structure `schema` and `format` ask
 * for (buffer and child counts, dictionary presence) so reading it stays
 * inside its tables. */
static int wudf__check_source(struct wudf__planner* planner, const struct ArrowSchema* schema,
                              const struct wudf__format* format, const struct ArrowArray* array) {
  int64_t buffers_needed = format->n_buffers;
  if (array->n_buffers < buffers_needed || array->n_children != schema->n_children ||
      (array->dictionary == NULL) != (schema->dictionary == NULL) ||
      (array->n_buffers > 0 && array->buffers == NULL) ||
      (array->n_children > 0 && array->children == NULL) || array->offset < 0 ||
      array->length < 0) {
    return wudf__set_error(planner->error, EINVAL,
                           "gather: a source array does not match its schema '%s' "
                           "(%" PRId64 " buffers, %" PRId64 " children, dictionary %s)",
                           schema->format, array->n_buffers, array->n_children,
                           array->dictionary != NULL ? "present" : "absent");
  }
  for (int64_t i = 0; i < array->n_children; i++) {
    if (array->children[i] == NULL) {
      return wudf__set_error(planner->error, EINVAL, "gather: a source array's child %" PRId64
                             " is NULL", i);
    }
  }
  return 0;
}

/* Plans the node of `schema` over `segments` (rows of source arrays of
 * that schema, or null runs) into `*out`. */
static int wudf__plan_node(struct wudf__planner* planner, const struct ArrowSchema* schema,
                           const struct wudf__segment* segments, size_t count, int depth,
                           struct wudf__plan** out) {
  *out = NULL;
  if (depth > WUDF__GATHER_MAX_DEPTH) {
    return wudf__set_error(planner->error, EINVAL, "gather: types nest deeper than %d levels",
                           WUDF__GATHER_MAX_DEPTH);
  }
  struct wudf__format format;
  if (schema == NULL || wudf__format_parse(schema->format, &format) != 0) {
    return wudf__set_error(planner->error, EINVAL, "gather: unknown format '%s'",
                           schema == NULL || schema->format == NULL ? "(null)" : schema->format);
  }
  if (schema->dictionary != NULL &&
      (format.layout != WUDF__LAYOUT_FIXED || format.integer == 0)) {
    return wudf__set_error(planner->error, EINVAL, "gather: dictionary indices of format '%s' "
                           "(an integer type expected)", schema->format);
  }
  if (schema->n_children < 0 || (schema->n_children > 0 && schema->children == NULL) ||
      (format.n_children >= 0 && schema->n_children != format.n_children) ||
      ((format.layout == WUDF__LAYOUT_SPARSE_UNION || format.layout == WUDF__LAYOUT_DENSE_UNION) &&
       schema->n_children != format.type_id_count) ||
      schema->n_children > INT32_MAX) {
    return wudf__set_error(planner->error, EINVAL, "gather: a schema of format '%s' with %"
                           PRId64 " children", schema->format, schema->n_children);
  }
  int64_t length = 0;
  for (size_t i = 0; i < count; i++) {
    const struct wudf__segment* segment = &segments[i];
    if (segment->array != NULL) {
      int status = wudf__check_source(planner, schema, &format, segment->array);
      if (status != 0) return status;
      if (segment->start < 0 || segment->count < 0 ||
          segment->start > segment->array->length - segment->count) {
        return wudf__set_error(planner->error, EINVAL, "gather: rows [%" PRId64 ", +%" PRId64
                               ") outside a source array of %" PRId64 " rows (format '%s')",
                               segment->start, segment->count, segment->array->length,
                               schema->format);
      }
    } else if (segment->count < 0) {
      return wudf__set_error(planner->error, EINVAL, "gather: a null segment of %" PRId64
                             " rows", segment->count);
    }
    if (segment->count > INT64_MAX / 2 - length) {
      return wudf__set_error(planner->error, EOVERFLOW, "gather: too many rows");
    }
    length += segment->count;
  }
  /* A view node has room for 4 buffers; wudf__plan_views says how many. */
  struct wudf__plan* node = NULL;
  int status = wudf__node_new(planner, schema, length,
                              format.layout == WUDF__LAYOUT_VIEW ? 4 : format.n_buffers,
                              (int32_t)schema->n_children, &node);
  if (status != 0) return status;
  if (wudf__layout_has_validity(format.layout)) {
    status = wudf__plan_validity(planner, segments, count, node);
    if (status != 0) return status;
  }
  if (schema->dictionary != NULL) {
    status = wudf__plan_dictionary(planner, segments, count, &format, node, depth);
    if (status == 0) *out = node;
    return status;
  }
  struct wudf__segment_list list = {0};
  switch (format.layout) {
    case WUDF__LAYOUT_NULL:
      node->null_count = length;
      break;
    case WUDF__LAYOUT_BOOL:
      status = wudf__plan_bool_values(planner, segments, count, node);
      break;
    case WUDF__LAYOUT_FIXED:
      status = wudf__plan_fixed_values(planner, segments, count, format.byte_width, 1, node);
      break;
    case WUDF__LAYOUT_BINARY:
    case WUDF__LAYOUT_LARGE_BINARY:
      status = wudf__plan_offsets(planner, segments, count,
                                  format.layout == WUDF__LAYOUT_LARGE_BINARY, node, &list);
      if (status == 0) status = wudf__plan_binary_data(planner, &list, node);
      wudf__segment_list_free(&list);
      break;
    case WUDF__LAYOUT_VIEW:
      status = wudf__plan_views(planner, segments, count, node);
      break;
    case WUDF__LAYOUT_LIST:
    case WUDF__LAYOUT_LARGE_LIST:
    case WUDF__LAYOUT_MAP:
      status = wudf__plan_offsets(planner, segments, count,
                                  format.layout == WUDF__LAYOUT_LARGE_LIST, node, &list);
      /* The ranges name the parents: move them to the child arrays. */
      for (size_t i = 0; i < list.count && status == 0; i++) {
        list.items[i].array = list.items[i].array->children[0];
      }
      if (status == 0) {
        status = wudf__plan_child(planner, node, 0, &list, depth);
      } else {
        wudf__segment_list_free(&list);
      }
      break;
    case WUDF__LAYOUT_LIST_VIEW:
    case WUDF__LAYOUT_LARGE_LIST_VIEW:
      status = wudf__plan_list_views(planner, segments, count,
                                     format.layout == WUDF__LAYOUT_LARGE_LIST_VIEW, node, depth);
      break;
    case WUDF__LAYOUT_FIXED_LIST:
      for (size_t i = 0; i < count && status == 0; i++) {
        const struct ArrowArray* array = segments[i].array;
        int64_t start = 0, rows;
        if ((array != NULL && __builtin_mul_overflow(array->offset + segments[i].start,
                                                     format.list_size, &start)) ||
            __builtin_mul_overflow(segments[i].count, format.list_size, &rows)) {
          status = wudf__set_error(planner->error, EOVERFLOW,
                                   "gather: fixed-size list child rows overflow");
          break;
        }
        status = wudf__planner_push(planner, &list, array == NULL ? NULL : array->children[0],
                                    start, rows);
      }
      if (status == 0) {
        status = wudf__plan_child(planner, node, 0, &list, depth);
      } else {
        wudf__segment_list_free(&list);
      }
      break;
    case WUDF__LAYOUT_STRUCT:
      for (int32_t c = 0; c < node->n_children && status == 0; c++) {
        for (size_t i = 0; i < count && status == 0; i++) {
          const struct ArrowArray* array = segments[i].array;
          status = wudf__planner_push(planner, &list, array == NULL ? NULL : array->children[c],
                                      array == NULL ? 0 : array->offset + segments[i].start,
                                      segments[i].count);
        }
        if (status == 0) {
          status = wudf__plan_child(planner, node, c, &list, depth);
        }
      }
      wudf__segment_list_free(&list);
      break;
    case WUDF__LAYOUT_SPARSE_UNION:
    case WUDF__LAYOUT_DENSE_UNION:
      if (node->n_children == 0 && length > 0) {
        status = wudf__set_error(planner->error, EINVAL, "gather: rows of a union without "
                                 "member types");
      } else if (format.layout == WUDF__LAYOUT_SPARSE_UNION) {
        status = wudf__plan_sparse_union(planner, segments, count, &format, node, depth);
      } else {
        status = wudf__plan_dense_union(planner, segments, count, &format, node, depth);
      }
      node->null_count = 0;
      break;
    case WUDF__LAYOUT_RUN_END:
      status = wudf__plan_run_end(planner, segments, count, node, depth);
      node->null_count = 0;
      break;
    default:
      status = wudf__set_error(planner->error, EINVAL, "gather: layout of format '%s' "
                               "cannot be gathered", schema->format);
  }
  if (status == 0) *out = node;
  return status;
}

int wudf__gather_new(const struct ArrowSchema* schema, const struct wudf__segment* segments,
                     size_t count, struct wudf__gather** out, struct wudf_error* error) {
  *out = NULL;
  if (schema == NULL || (count > 0 && segments == NULL)) {
    return wudf__set_error(error, EINVAL, "gather: no schema or no segments");
  }
  struct wudf__gather* gather = wudf__calloc(1, sizeof(*gather));
  if (gather == NULL) return wudf__set_error(error, ENOMEM, "gather: out of memory");
  struct wudf__planner planner = {gather, error};
  struct wudf__segment_list list = {0};
  int status = 0;
  for (size_t i = 0; i < count && status == 0; i++) {
    const struct wudf__segment* segment = &segments[i];
    if (segment->count < 0 || (segment->array != NULL &&
                               (segment->start < 0 || segment->array->length < 0 ||
                                segment->start > segment->array->length - segment->count))) {
      status = wudf__set_error(error, EINVAL, "gather: segment %zu (rows [%" PRId64 ", +%"
                               PRId64 ")) lies outside its array of %" PRId64 " rows", i,
                               segment->start, segment->count,
                               segment->array != NULL ? segment->array->length : 0);
      break;
    }
    status = wudf__planner_push(&planner, &list, segment->array, segment->start,
                                segment->count);
  }
  if (status == 0) {
    status = wudf__plan_node(&planner, schema, list.items, list.count, 1, &gather->root);
  }
  wudf__segment_list_free(&list);
  if (status != 0) {
    wudf__gather_free(gather);
    return status;
  }
  *out = gather;
  return 0;
}

const struct wudf__plan* wudf__gather_plan(const struct wudf__gather* gather) {
  return gather->root;
}

void wudf__gather_free(struct wudf__gather* gather) {
  if (gather == NULL) return;
  struct wudf__gather_chunk* chunk = gather->chunks;
  while (chunk != NULL) {
    struct wudf__gather_chunk* next = chunk->next;
    wudf__free(chunk);
    chunk = next;
  }
  wudf__free(gather);
}
