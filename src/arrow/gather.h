/*
 * gather.h -- copying rows of Arrow arrays of any type: the one place that
 * knows how every layout is sliced, concatenated and written out.
 *
 * A gather takes a schema (a trusted, well-formed tree: the caller's
 * arguments, or a guest result after abi/import.c validated it) and a list
 * of segments -- runs of rows of source arrays of that schema, or runs of
 * null rows -- and plans the array that is their concatenation, with offset
 * 0 everywhere. The plan (struct wudf__plan) is a tree of nodes whose
 * buffers either point into the sources (when the bytes can be used as
 * they are, e.g. the values of one segment of a fixed-width column) or into
 * buffers the gather built (rebased offsets, shifted bitmaps, compacted view
 * data, concatenated dictionaries). Nothing is written to a destination yet.
 *
 * A plan is then emitted once: into host memory as an exported ArrowArray +
 * ArrowSchema (wudf__plan_export), or into a guest's linear memory as wasm32
 * structs (wudf__plan_guest_size / wudf__plan_guest_write). Both write every
 * struct, pointer array and buffer of the tree into one block.
 *
 * Semantics of the gathered array, per layout (rows are the segments' rows):
 *   - validity: one bit per row, NULL segments null; the buffer is omitted
 *     (NULL) when no row is null. null_count is exact.
 *   - binary/utf8 (and large): offsets rebased to start at 0, data copied
 *     for the rows' byte range only.
 *   - views: views rewritten to point into one variadic data buffer holding
 *     only the bytes of non-inline rows (so n_buffers is 4, or 3 when no row
 *     needs data); inline views are copied as they are.
 *   - lists, maps: offsets rebased, the child gathered over the rows' child
 *     ranges; list views likewise with offsets rebased and sizes copied;
 *     fixed-size lists gather N child rows per row.
 *   - struct, sparse union: children gathered over the same rows (for a
 *     struct, child row = parent offset + row).
 *   - dense union: type ids copied, each child gathered over the rows that
 *     point into it, offsets renumbered.
 *   - dictionary: indices copied (shifted when segments come from arrays
 *     with different dictionaries); the dictionary is the concatenation of
 *     each distinct source dictionary, whole, in first-use order. An index
 *     type too narrow for the concatenation is EOVERFLOW.
 *   - run-end encoded: runs cut to the segments and renumbered; a NULL
 *     segment is one run of a null value. Run ends past the run-end type's
 *     range are EOVERFLOW.
 *   - null rows of nested types have empty (zero-length) children entries;
 *     null rows of a union are a null in the child of the first type id.
 * Offsets past the 32-bit range of utf8/binary/list are EOVERFLOW.
 *
 * Host memory comes from the allocation funnel (common/alloc.c).
 */
#ifndef WUDF_ARROW_GATHER_H
#define WUDF_ARROW_GATHER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "format.h"
#include "wasm32.h"
#include "../common/common.h"

/* Rows [start, start + count) of `array` (relative to its offset), or
 * `count` null rows when `array` is NULL. */
struct wudf__segment {
  const struct ArrowArray* array;
  int64_t start;
  int64_t count;
};

/* A growable list of segments that merges each new run into the previous
 * one when it continues it (same array and adjacent rows, or both null). */
struct wudf__segment_list {
  struct wudf__segment* items;
  size_t count;
  size_t capacity;
};

/* Appends rows [start, start + count) of `array` (NULL: null rows) to
 * `list`, merging them into the last run when they continue it. Empty runs
 * are dropped. Returns 0 or ENOMEM. */
int wudf__segment_push(struct wudf__segment_list* list, const struct ArrowArray* array,
                       int64_t start, int64_t count);

/* Frees a segment list's storage, leaving it empty. */
void wudf__segment_list_free(struct wudf__segment_list* list);

struct wudf__plan_buffer {
  const uint8_t* data; /* NULL only when size is 0 (or for an absent validity) */
  int64_t size;        /* bytes */
};

/* As a plan buffer's `data` in a hand-made plan given to wudf__plan_export:
 * the buffer is allocated but not written; the caller fills it after the
 * export (the flat path of udf/scalar.c writes each guest call's rows
 * straight into the final column this way). */
extern const uint8_t wudf__plan_unwritten[1];

/* One node of a planned array. Offsets are 0 throughout. */
struct wudf__plan {
  const struct ArrowSchema* schema; /* the source schema of this node */
  int64_t length;
  int64_t null_count;
  int32_t n_buffers;
  struct wudf__plan_buffer* buffers;
  int32_t n_children;
  struct wudf__plan** children;
  struct wudf__plan* dictionary; /* NULL unless dictionary-encoded */
};

/* Checks that an array given by a caller has the shape its schema's format
 * requires (buffer and child counts, dictionaries; nesting at most
 * WUDF__MAX_DEPTH from `depth`, the root's level), so the gatherer can walk
 * it. 0, or -1 with the failing node's name in `where` (`size` bytes).
 * Inline: every function call checks its arguments with it. */
static inline int wudf__check_shape(const struct ArrowArray* array,
                                    const struct ArrowSchema* schema, int depth, char* where,
                                    size_t size) {
  struct wudf__format format;
  if (array == NULL || schema == NULL || schema->format == NULL || depth > WUDF__MAX_DEPTH ||
      wudf__format_parse(schema->format, &format) != 0 || array->length < 0 ||
      array->offset < 0 || array->n_children != schema->n_children ||
      (format.n_children >= 0 && array->n_children != format.n_children) ||
      (format.layout == WUDF__LAYOUT_VIEW ? array->n_buffers < 3
                                          : array->n_buffers != format.n_buffers) ||
      (array->n_buffers > 0 && array->buffers == NULL) ||
      (array->n_children > 0 && (array->children == NULL || schema->children == NULL)) ||
      ((schema->dictionary == NULL) != (array->dictionary == NULL))) {
    snprintf(where, size, "%s", schema != NULL && schema->name != NULL ? schema->name : "?");
    return -1;
  }
  for (int64_t i = 0; i < array->n_children; i++) {
    if (wudf__check_shape(array->children[i], schema->children[i], depth + 1, where, size)) {
      return -1;
    }
  }
  if (schema->dictionary != NULL &&
      wudf__check_shape(array->dictionary, schema->dictionary, depth + 1, where, size) != 0) {
    return -1;
  }
  return 0;
}

struct wudf__gather; /* owns a plan and every buffer the planning built */

/*
 * Plans the concatenation of `count` segments of arrays of `schema` (each
 * source array must have that schema; segments must lie inside their
 * arrays). On success stores a new gather in `*out`; the sources must stay
 * alive and unchanged until it is freed. Errors: ENOMEM, EOVERFLOW (offsets
 * or run ends or dictionary indices beyond their type), EINVAL (a segment
 * outside its array, a format the plan cannot carry), each with a message.
 */
int wudf__gather_new(const struct ArrowSchema* schema, const struct wudf__segment* segments,
                     size_t count, struct wudf__gather** out, struct wudf_error* error);

/* The planned array. */
const struct wudf__plan* wudf__gather_plan(const struct wudf__gather* gather);

/* Frees the gather (NULL is fine). */
void wudf__gather_free(struct wudf__gather* gather);

/*
 * Writes the plan into host memory: `*out` and `*out_schema` become an
 * independent array and schema (format, names, metadata and flags copied
 * from the plan's source schemas; the root named `name` unless it is NULL).
 * The schema tree written is plan->schema's own (its children and
 * dictionary), which matches the plan tree node for node in every plan a
 * gather makes; a hand-made plan must keep that true.
 * Buffers are 64-byte aligned. The release callbacks follow the C Data
 * Interface rules exactly (children and dictionaries may be moved out and
 * released in any order). On failure (ENOMEM) nothing is written.
 */
int wudf__plan_export(const struct wudf__plan* plan, const char* name, struct ArrowArray* out,
                      struct ArrowSchema* out_schema, struct wudf_error* error);

/* The export of one flat fixed-width array (no children, no dictionary)
 * of `length` values of `width` bytes and their validity (NULL: no nulls;
 * else bits from bit 0), named `name`, as wudf__plan_export would make it
 * from a one-node plan, without the plan's walks: one allocation. ENOMEM. */
int wudf__flat_export(const char* format, const char* name, int64_t flags, int64_t length,
                      int64_t null_count, const uint8_t* validity, const uint8_t* values,
                      int64_t width, struct ArrowArray* out, struct ArrowSchema* out_schema,
                      struct wudf_error* error);

/* Deep-copies a schema tree into host memory (as wudf__plan_export does for
 * a plan's schema), renaming the root to `name` unless it is NULL. ENOMEM. */
int wudf__schema_export(const struct ArrowSchema* schema, const char* name,
                        struct ArrowSchema* out, struct wudf_error* error);

/* Where the guest copy of a plan is. */
struct wudf__guest_placement {
  uint32_t array;        /* guest offset of the root struct ArrowArray */
  uint32_t schema;       /* of the root struct ArrowSchema */
  uint32_t struct_count; /* ArrowArray + ArrowSchema structs written */
  uint32_t size;         /* bytes written from `at`: wudf__plan_guest_size */
};

/* Room the guest copy keeps for the root's name: a rename longer than this
 * (and longer than the source root's name) is cut. */
#define WUDF__PLAN_MAX_NAME 64

/* Bytes the guest copy of `plan` needs, or -1 past 2^32 - 1. The tree
 * (structs, pointer arrays, strings and metadata 8-byte aligned; buffers
 * 64-byte aligned in guest memory) starts at the first 64-byte boundary at
 * or after `at`; the size counts the worst case of that padding (63 bytes)
 * so it depends neither on `at` nor on the rename of the root. */
int64_t wudf__plan_guest_size(const struct wudf__plan* plan);

/*
 * Writes the plan as wasm32 structs into guest memory at `at` (any
 * alignment, with wudf__plan_guest_size bytes checked by the caller); all
 * of those bytes are written (padding zeroed). Every array struct gets
 * release = `array_release` and every schema struct release =
 * `schema_release` (function table indices) and private_data =
 * `private_data`. `name` renames the root unless NULL (cut to
 * WUDF__PLAN_MAX_NAME bytes, or to the source root name's length if that
 * is longer). The size and the writes come from one layout walk run twice
 * (dry, then real), so they cannot disagree.
 */
void wudf__plan_guest_write(const struct wudf__plan* plan, const char* name,
                            const struct wudf__guest_memory* memory, uint32_t at,
                            uint32_t array_release, uint32_t schema_release,
                            uint32_t private_data, struct wudf__guest_placement* out);

#endif /* WUDF_ARROW_GATHER_H */
