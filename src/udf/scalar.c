/*
 * scalar.c -- calls of scalar and batch functions, and the entry points
 * wudf_function_call and wudf_function_call_batch for every kind.
 *
 * A scalar call checks the caller's arguments against the signature,
 * splits the rows into guest calls that fit the per-call limits (call.c
 * plans each one: for a strict function only the rows without a null
 * argument), runs them, and either hands out the one guest call's result
 * as it is (a copy, or a zero-copy view) or assembles the column from the
 * guest calls' results and the null rows the guest never saw, by one more
 * gather. A batch call passes the whole batch in one guest call. Table and
 * aggregate functions called through wudf_function_call are handed to
 * table.c and aggregate.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "call.h"

/* The guest calls of one scalar function call, and how their results make
 * up the final column. */
struct wudf__scalar_parts {
  struct wudf__result** results; /* one per guest call that ran; segments of
                                    `output` point into them */
  size_t count;
  size_t capacity;
  struct wudf__segment_list output;  /* rows of the final column, in order */
};

static void wudf__scalar_parts_free(struct wudf__scalar_parts* parts) {
  for (size_t i = 0; i < parts->count; i++) {
    wudf__result_release(parts->results[i]);
    wudf__free(parts->results[i]);
  }
  wudf__free(parts->results);
  wudf__segment_list_free(&parts->output);
}

/* A new, empty result at the end of `parts`. NULL on ENOMEM. */
static struct wudf__result* wudf__scalar_parts_add(struct wudf__scalar_parts* parts) {
  if (parts->count == parts->capacity) {
    size_t capacity = parts->capacity ? 2 * parts->capacity : 4;
    struct wudf__result** grown = wudf__realloc(parts->results, capacity * sizeof(*grown));
    if (grown == NULL) return NULL;
    parts->results = grown;
    parts->capacity = capacity;
  }
  struct wudf__result* result = wudf__calloc(1, sizeof(*result));
  if (result != NULL) parts->results[parts->count++] = result;
  return result;
}

/* Appends the rows of one guest call to the final column: the guest's
 * result where rows were selected, nulls elsewhere. 0 or ENOMEM. */
static int wudf__scalar_place(struct wudf__scalar_parts* parts, const struct wudf__chunk* chunk,
                              const struct wudf__result* result) {
  int64_t row = chunk->start, next = 0; /* next: row of the guest's result */
  for (size_t i = 0; i < chunk->rows.count; i++) {
    const struct wudf__segment* taken = &chunk->rows.items[i];
    if (wudf__segment_push(&parts->output, NULL, 0, taken->start - row) != 0 ||
        wudf__segment_push(&parts->output, &result->array, next, taken->count) != 0) {
      return ENOMEM;
    }
    next += taken->count;
    row = taken->start + taken->count;
  }
  return wudf__segment_push(&parts->output, NULL, 0, chunk->start + chunk->count - row);
}

static int wudf__call_scalar(struct wudf__call* call, const struct wudf__arguments* arguments,
                             struct ArrowArray* out, struct ArrowSchema* out_schema) {
  const struct wudf__signature* signature = &call->udf->signature;
  const struct wudf_call_options* options = call->options;
  int64_t total = arguments->rows;
  int64_t max_rows = options->max_rows_per_call > 0 ? options->max_rows_per_call : 1;
  /* A scalar function's column has a row per argument row. */
  if (options->result_row_limit > 0 && total > options->result_row_limit) {
    return wudf__set_error(call->error, EFBIG, "function '%s': its result would have %" PRId64
                           " rows, more than result_row_limit (%" PRId64 " rows)",
                           signature->name, total, options->result_row_limit);
  }
  int view = options->result == WUDF_RESULT_VIEW;
  if (view && total > max_rows) {
    return wudf__set_error(call->error, ENOTSUP, "function '%s': a zero-copy view needs the "
                           "result of one guest call, but %" PRId64 " rows exceed "
                           "max_rows_per_call (%" PRId64 ")", signature->name, total,
                           max_rows);
  }
  if (view && signature->strict && wudf__arguments_any_null(arguments, 0, total)) {
    return wudf__set_error(call->error, ENOTSUP, "function '%s': a zero-copy view cannot "
                           "hold the null rows of a strict function; its arguments have "
                           "nulls", signature->name);
  }
  struct wudf__scalar_parts parts;
  memset(&parts, 0, sizeof(parts));
  struct wudf__chunk chunk;
  memset(&chunk, 0, sizeof(chunk));
  int status = 0;
  int64_t start = 0;
  do {
    int64_t count = total - start < max_rows ? total - start : max_rows;
    status = wudf__plan_chunk(call, arguments, start, count, signature->strict, view, &chunk);
    /* A guest call runs for the selected rows, and once for a result
     * schema when no row at all has been selected yet. */
    struct wudf__result* result = NULL;
    if (status == 0 && (chunk.selected > 0 || parts.count == 0)) {
      result = wudf__scalar_parts_add(&parts);
      if (result == NULL) status = wudf__set_error(call->error, ENOMEM, "out of memory");
      if (status == 0) {
        struct wudf__guest_request request;
        memset(&request, 0, sizeof(request));
        request.plan = wudf__gather_plan(chunk.gather);
        request.plan_size = chunk.size;
        request.wants_result = 1;
        request.length = chunk.selected;
        request.view = view;
        status = wudf__run_guest(call, &request, result);
      }
    }
    wudf__gather_free(chunk.gather);
    chunk.gather = NULL;
    if (status == 0 && wudf__scalar_place(&parts, &chunk, result) != 0) {
      status = wudf__set_error(call->error, ENOMEM, "out of memory");
    }
    start += chunk.count;
  } while (status == 0 && start < total);
  wudf__chunk_free(&chunk);

  if (status == 0) {
    struct wudf__result* first = parts.results[0];
    int whole = parts.count == 1 && parts.output.count <= 1 &&
                (parts.output.count == 0 || parts.output.items[0].array == &first->array);
    if (whole) {
      /* One guest call gave every row: its result is the column. */
      *out = first->array;
      *out_schema = first->schema;
      first->present = 0;
    } else {
      struct wudf__gather* gather = NULL;
      status = wudf__gather_new(&first->schema, parts.output.items, parts.output.count,
                                &gather, call->error);
      if (status == 0) {
        status = wudf__plan_export(wudf__gather_plan(gather), signature->name, out,
                                   out_schema, call->error);
      }
      wudf__gather_free(gather);
      if (status != 0) {
        wudf__error_prefix(call->error, status, "function '%s': assembling the result",
                           signature->name);
      }
    }
  }
  wudf__scalar_parts_free(&parts);
  return status;
}

static int wudf__call_batch(struct wudf__call* call, const struct wudf__arguments* arguments,
                            struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wudf__chunk chunk;
  memset(&chunk, 0, sizeof(chunk));
  int status = wudf__plan_chunk(call, arguments, 0, arguments->rows, 0, 1, &chunk);
  if (status == EFBIG) {
    status = wudf__set_error(call->error, EFBIG, "function '%s': a batch function sees its "
                             "whole input in one call, and these %" PRId64 " rows need more "
                             "than the %" PRId64 " bytes one call may pass",
                             call->udf->signature.name, arguments->rows,
                             call->options->max_block_bytes);
  }
  struct wudf__result result;
  memset(&result, 0, sizeof(result));
  if (status == 0) {
    struct wudf__guest_request request;
    memset(&request, 0, sizeof(request));
    request.plan = wudf__gather_plan(chunk.gather);
    request.plan_size = chunk.size;
    request.wants_result = 1;
    request.length = -1;
    request.view = call->options->result == WUDF_RESULT_VIEW;
    status = wudf__run_guest(call, &request, &result);
  }
  wudf__chunk_free(&chunk);
  if (status != 0) return status;
  *out = result.array;
  *out_schema = result.schema;
  return 0;
}

/* ----------------------------------------------------------------- entry */

void wudf_call_options_init(struct wudf_call_options* options) {
  memset(options, 0, sizeof(*options));
  options->max_rows_per_call = (int64_t)1 << 20;
  options->max_block_bytes = (int64_t)64 << 20;
  options->timeout_ms = WUDF_TIMEOUT_DEFAULT;
  options->validation = WUDF_VALIDATION_FULL;
  options->result = WUDF_RESULT_COPY;
  options->max_output_rows = (int64_t)1 << 16;
  options->result_row_limit = INT32_MAX;
  options->result_byte_limit = (int64_t)1 << 30;
  options->nesting_depth_limit = WUDF__MAX_DEPTH;
}

int wudf__arguments_collect(struct wudf__call* call, uint32_t arg_count,
                            const struct ArrowArray* const* arrays,
                            const struct ArrowSchema* const* schemas, int64_t rows,
                            struct wudf__arguments** out) {
  const struct wudf__signature* signature = &call->udf->signature;
  if (arg_count != signature->arg_count) {
    return wudf__set_error(call->error, EINVAL, "function '%s' takes %u arguments, %u given",
                           signature->name, signature->arg_count, arg_count);
  }
  struct wudf__arguments* arguments = wudf__malloc(sizeof(*arguments));
  if (arguments == NULL) return wudf__set_error(call->error, ENOMEM, "out of memory");
  wudf__arguments_init(arguments, rows);
  for (uint32_t i = 0; i < arg_count; i++) {
    int status = wudf__arguments_check(call, i, arrays[i], schemas[i], arguments);
    if (status != 0) {
      wudf__free(arguments);
      return status;
    }
  }
  *out = arguments;
  return 0;
}

static int wudf__call_function(struct wudf_instance* instance, uint32_t function,
                               uint32_t arg_count, const struct ArrowArray* const* arrays,
                               const struct ArrowSchema* const* schemas, int64_t rows,
                               const struct wudf_call_options* options,
                               struct ArrowArray* out, struct ArrowSchema* out_schema,
                               struct wudf_error* error) {
  struct wudf__call call;
  int status = wudf__call_check(&call, instance, function, WUDF__KIND_NONE, options, error);
  if (status != 0) return status;
  uint8_t kind = call.udf->signature.kind;
  if ((kind == WUDF__KIND_TABLE || kind == WUDF__KIND_AGGREGATE) &&
      call.options->result == WUDF_RESULT_VIEW) {
    return wudf__set_error(error, ENOTSUP, "function '%s': a %s function's result is "
                           "assembled from several guest calls and cannot be a zero-copy "
                           "view", call.udf->signature.name, wudf__kind_name(kind));
  }
  struct wudf__arguments* arguments = NULL;
  status = wudf__arguments_collect(&call, arg_count, arrays, schemas, rows, &arguments);
  if (status != 0) return status;
  status = wudf__call_enter(&call);
  if (status == 0) {
    switch (kind) {
      case WUDF__KIND_BATCH: status = wudf__call_batch(&call, arguments, out, out_schema); break;
      case WUDF__KIND_TABLE:
        status = wudf__table_collect(&call, arguments, out, out_schema);
        break;
      case WUDF__KIND_AGGREGATE:
        status = wudf__aggregate_once(&call, arguments, out, out_schema);
        break;
      default: status = wudf__call_scalar(&call, arguments, out, out_schema); break;
    }
  }
  wudf__call_end(&call);
  wudf__free(arguments);
  return status;
}

int wudf_function_call(struct wudf_instance* instance, uint32_t function,
                       uint32_t arg_count, const struct ArrowArray* const* args,
                       const struct ArrowSchema* const* arg_schemas,
                       const struct wudf_call_options* options,
                       struct ArrowArray* out, struct ArrowSchema* out_schema,
                       struct wudf_error* error) {
  if (instance == NULL || out == NULL || out_schema == NULL) {
    return wudf__set_error(error, EINVAL, "instance, out and out_schema must not be NULL");
  }
  int status = wudf__check_columns(arg_count, args, arg_schemas, "wudf_function_call_batch",
                                   error);
  if (status != 0) return status;
  return wudf__call_function(instance, function, arg_count, args, arg_schemas,
                             args[0]->length, options, out, out_schema, error);
}

int wudf_function_call_batch(struct wudf_instance* instance, uint32_t function,
                             const struct ArrowArray* batch,
                             const struct ArrowSchema* batch_schema,
                             const struct wudf_call_options* options,
                             struct ArrowArray* out, struct ArrowSchema* out_schema,
                             struct wudf_error* error) {
  if (instance == NULL || batch == NULL || batch_schema == NULL || out == NULL ||
      out_schema == NULL) {
    return wudf__set_error(error, EINVAL, "instance, batch, batch_schema, out and "
                           "out_schema must not be NULL");
  }
  struct wudf__batch_columns columns;
  int status = wudf__batch_columns(batch, batch_schema, &columns, error);
  if (status != 0) return status;
  return wudf__call_function(instance, function, columns.count, columns.arrays, columns.schemas,
                             batch->length, options, out, out_schema, error);
}
