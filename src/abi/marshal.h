/*
 * marshal.h -- host to guest: writing the arguments of one call into one
 * input block in guest memory (docs/abi.md, sections 3 and 4).
 *
 * The arguments are host arrays (already checked against the signature by
 * the caller). A call covers either the rows [start, start + count) of every
 * argument, or the rows listed in a selection (used to pass only the rows of
 * a strict function where no argument is null; the guest then sees no
 * nulls). The same code computes the block's size (a dry run) and writes it,
 * so the two cannot disagree.
 */
#ifndef WUDF_ABI_MARSHAL_H
#define WUDF_ABI_MARSHAL_H

#include <stdint.h>

#include "../common/common.h"
#include "wasm32.h"

/* One argument column: a host array and its type (enum wudf__type). */
struct wudf__marshal_arg {
  uint8_t type;
  const struct ArrowArray* array;
};

/* The rows of one call. */
struct wudf__marshal_rows {
  int64_t start;             /* first row (relative to each array's offset) */
  int64_t count;             /* rows in the call */
  const int64_t* selection;  /* NULL, or `count` rows relative to `start` */
};

/* Where the written structs are, as guest offsets. */
struct wudf__marshal_result {
  uint32_t args;         /* the struct ArrowArray of the arguments */
  uint32_t args_schema;  /* its ArrowSchema */
  uint32_t struct_count; /* structs in the block (for the header's count) */
};

/* Size in bytes of the block for these rows, or -1 if it would not fit in
 * 32 bits. */
int64_t wudf__marshal_size(const struct wudf__marshal_arg* args, uint32_t arg_count,
                           const struct wudf__marshal_rows* rows);

/* Writes the block at guest offset `block` (which has room for
 * wudf__marshal_size bytes, checked by the caller). Every struct gets
 * `array_release`/`schema_release` and private_data = block; the header's
 * live count is the number of structs plus one, the host's own reference. */
void wudf__marshal_write(const struct wudf__guest_memory* memory, uint32_t block,
                         const struct wudf__marshal_arg* args, uint32_t arg_count,
                         const struct wudf__marshal_rows* rows, uint32_t array_release,
                         uint32_t schema_release, struct wudf__marshal_result* out);

#endif /* WUDF_ABI_MARSHAL_H */
