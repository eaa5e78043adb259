/*
 * constant.c -- constant arguments (wudf_function_call_args and friends):
 * an engine passes a value that stands for every row of a batch as a
 * one-row array flagged WUDF_ARGUMENT_CONSTANT, as DuckDB's constant
 * vectors and DataFusion's ColumnarValue::Scalar do.
 *
 * The guest ABI has no constants (a guest sees ordinary columns), so each
 * constant is broadcast on the host into a column of the call's rows: by
 * doubling, each step one gather of the column so far concatenated with
 * itself (arrow/gather.c knows every layout), log2(rows) steps that copy
 * about twice the final column in all. A DETERMINISTIC scalar function
 * whose arguments are all constants runs on one row instead, and its
 * result is broadcast the same way.
 */
#include <errno.h>
#include <string.h>

#include "../arrow/gather.h"
#include "call.h"

int wudf__broadcast_check(uint32_t count, const struct wudf_argument* args, int64_t rows,
                          struct wudf__broadcast* out, struct wudf_error* error) {
  if (count > 0 && args == NULL) {
    return wudf__set_error(error, EINVAL, "args must not be NULL");
  }
  if (count > WUDF__MAX_ARGS) {
    return wudf__set_error(error, EINVAL, "%u arguments, more than the limit of %d", count,
                           WUDF__MAX_ARGS);
  }
  if (rows < 0) return wudf__set_error(error, EINVAL, "rows is negative (%lld)", (long long)rows);
  memset(out, 0, sizeof(*out));
  out->count = count;
  out->rows = rows;
  for (uint32_t i = 0; i < count; i++) {
    const struct wudf_argument* argument = &args[i];
    if (argument->array == NULL || argument->schema == NULL) {
      return wudf__set_error(error, EINVAL, "argument %u: array and schema must not be NULL",
                             i + 1);
    }
    if ((argument->flags & ~WUDF_ARGUMENT_CONSTANT) != 0 || argument->reserved != 0) {
      return wudf__set_error(error, EINVAL, "argument %u: unknown flags 0x%x (reserved %u)",
                             i + 1, argument->flags, argument->reserved);
    }
    int constant = (argument->flags & WUDF_ARGUMENT_CONSTANT) != 0;
    int64_t expected = constant ? 1 : rows;
    if (argument->array->length != expected) {
      return wudf__set_error(error, EINVAL, "argument %u: a %s of %lld rows, expected %lld",
                             i + 1, constant ? "constant" : "column",
                             (long long)argument->array->length, (long long)expected);
    }
    out->arrays[i] = argument->array;
    out->schemas[i] = argument->schema;
    out->constants += (uint32_t)constant;
    out->constant[i] = (uint8_t)constant;
  }
  return 0;
}

int wudf__broadcast_array(const struct ArrowArray* array, const struct ArrowSchema* schema,
                          int64_t rows, struct ArrowArray* out, struct wudf_error* error) {
  struct ArrowArray current;
  memset(&current, 0, sizeof(current));
  const struct ArrowArray* source = array;
  int64_t have = 1;
  int status = 0;
  do {
    /* The column so far, then as much of it again as is missing. */
    struct wudf__segment segments[2] = {{source, 0, rows == 0 ? 0 : have}, {source, 0, 0}};
    int64_t add = rows - have < have ? rows - have : have;
    if (add < 0) add = 0;
    segments[1].count = add;
    struct wudf__gather* gather = NULL;
    status = wudf__gather_new(schema, segments, add > 0 ? 2 : 1, &gather, error);
    struct ArrowArray next;
    struct ArrowSchema next_schema;
    if (status == 0) {
      status = wudf__plan_export(wudf__gather_plan(gather), NULL, &next, &next_schema, error);
    }
    wudf__gather_free(gather);
    if (status != 0) break;
    next_schema.release(&next_schema);
    if (current.release != NULL) current.release(&current);
    current = next;
    source = &current;
    have += add;
  } while (have < rows);
  if (status != 0) {
    if (current.release != NULL) current.release(&current);
    return status;
  }
  *out = current;
  return 0;
}

int wudf__broadcast_fill(struct wudf__broadcast* broadcast, struct wudf_error* error) {
  for (uint32_t i = 0; i < broadcast->count; i++) {
    /* A constant of a one-row call is already its column. */
    if (!broadcast->constant[i] || broadcast->rows == 1) continue;
    int status = wudf__broadcast_array(broadcast->arrays[i], broadcast->schemas[i],
                                       broadcast->rows, &broadcast->owned[i], error);
    if (status != 0) {
      wudf__broadcast_release(broadcast);
      return status;
    }
    broadcast->arrays[i] = &broadcast->owned[i];
  }
  return 0;
}

void wudf__broadcast_release(struct wudf__broadcast* broadcast) {
  for (uint32_t i = 0; i < broadcast->count; i++) {
    if (broadcast->owned[i].release != NULL) broadcast->owned[i].release(&broadcast->owned[i]);
    broadcast->owned[i].release = NULL;
  }
}
