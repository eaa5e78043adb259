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

#include "../arrow/append.h"
#include "../arrow/bits.h"
#include "../arrow/format.h"

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

/* The same rows appended to `column`: null rows where the guest saw none,
 * the rows of `rows` (the guest's result; NULL when it saw none)
 * elsewhere. */
static int wudf__scalar_append(struct wudf__append* column, const struct wudf__chunk* chunk,
                               const struct ArrowArray* rows, struct wudf_error* error) {
  int64_t row = chunk->start, next = 0; /* next: row of the guest's result */
  int status = 0;
  for (size_t i = 0; status == 0 && i < chunk->rows.count; i++) {
    const struct wudf__segment* taken = &chunk->rows.items[i];
    status = wudf__append_nulls(column, taken->start - row, error);
    if (status == 0) status = wudf__append_rows(column, rows, next, taken->count, error);
    next += taken->count;
    row = taken->start + taken->count;
  }
  if (status == 0) status = wudf__append_nulls(column, chunk->start + chunk->count - row, error);
  return status;
}

/* Names the function and the step in the message of a failure `status`
 * to build the column from the guest calls' results; returns `status`. */
static int wudf__assembly_failed(struct wudf__call* call, int status) {
  wudf__error_prefix(call->error, status, "function '%s': assembling the result",
                     call->udf->signature.name);
  return status;
}

/* Bytes of string data in rows [start, start + count) of a string or
 * binary array (`large`: 64-bit offsets). */
static int64_t wudf__data_bytes(const struct ArrowArray* array, int large, int64_t start,
                                int64_t count) {
  const uint8_t* offsets = array->buffers[1];
  if (count <= 0 || offsets == NULL) return 0;
  return wudf__offset_get(offsets, large, array->offset + start + count) -
         wudf__offset_get(offsets, large, array->offset + start);
}

/* The bytes of one row of a scalar call through the general path, for
 * cutting it into guest calls of about chunk_bytes: the arguments' widths,
 * offsets and average string bytes (a list of fixed-width values: its
 * offset and its values' average bytes), and the result's, guessed as much
 * string data as the arguments have; 0 (not cut) unless the result is
 * appendable and every argument is of one of those types without a
 * dictionary (every guest call would get the whole dictionary: measured,
 * dictlookup gains nothing at 1 M rows and loses 5 % at 65,536). */
static int64_t wudf__general_row_bytes(const struct wudf__udf* udf,
                                       const struct wudf__arguments* arguments) {
  if (udf->append_layout == 0 || arguments->rows <= 0) return 0;
  int64_t rows = arguments->rows, bytes = 0, strings = 0;
  for (uint32_t i = 0; i < arguments->count; i++) {
    const struct ArrowArray* array = arguments->arrays[i];
    const struct ArrowSchema* schema = arguments->schemas[i];
    uint8_t layout = arguments->layouts[i];
    struct wudf__format format, values;
    if (schema->dictionary != NULL || wudf__format_parse(schema->format, &format) != 0) return 0;
    if (layout == WUDF__LAYOUT_FIXED && format.byte_width > 0) {
      bytes += format.byte_width;
    } else if (layout == WUDF__LAYOUT_BINARY || layout == WUDF__LAYOUT_LARGE_BINARY) {
      int large = layout == WUDF__LAYOUT_LARGE_BINARY;
      strings += wudf__data_bytes(array, large, 0, rows) / rows;
      bytes += large ? 8 : 4;
    } else if ((layout == WUDF__LAYOUT_LIST || layout == WUDF__LAYOUT_LARGE_LIST) &&
               schema->n_children == 1 && schema->children[0]->dictionary == NULL &&
               wudf__format_parse(schema->children[0]->format, &values) == 0 &&
               values.layout == WUDF__LAYOUT_FIXED && values.byte_width > 0) {
      int large = layout == WUDF__LAYOUT_LARGE_LIST;
      /* The values of the rows: the offsets' span, as for strings. */
      bytes += (large ? 8 : 4) + wudf__data_bytes(array, large, 0, rows) * values.byte_width / rows;
    } else {
      return 0;
    }
  }
  if (udf->append_layout == WUDF__LAYOUT_FIXED) return bytes + strings + udf->flat_result_width;
  return bytes + 2 * strings + (udf->append_layout == WUDF__LAYOUT_LARGE_BINARY ? 8 : 4);
}

/* The column of a scalar call built by appending each guest call's
 * result where the guest wrote it (a result sink): no host copy of each
 * result, no gather of them all at the end. */
struct wudf__scalar_column {
  struct wudf__call* call;
  const struct wudf__chunk* chunk; /* the guest call's rows */
  int64_t total;                   /* rows of the whole call */
  int started;
  struct wudf__append column;
  struct ArrowSchema schema;       /* the first result's, a host copy */
};

/* The result sink's put: starts the column at the first result (room for
 * the string data of every row at its rate), counts the output and
 * appends the chunk's rows. */
static int wudf__scalar_column_put(void* context, const struct ArrowArray* array,
                                   const struct ArrowSchema* schema, struct wudf_error* error) {
  struct wudf__scalar_column* self = context;
  const struct wudf__udf* udf = self->call->udf;
  int large = udf->append_layout == WUDF__LAYOUT_LARGE_BINARY;
  int64_t data = udf->append_layout == WUDF__LAYOUT_FIXED
                     ? 0
                     : wudf__data_bytes(array, large, 0, array->length);
  int status = 0;
  if (!self->started) {
    int64_t hint = 0;
    if (udf->append_layout != WUDF__LAYOUT_FIXED && array->length > 0) {
      hint = data > INT64_MAX / self->total ? INT64_MAX : data * self->total / array->length;
      if (hint > INT32_MAX) hint = INT32_MAX; /* a guess; the data grows past it if need be */
    }
    status = wudf__append_init(&self->column, schema->format, self->total, hint + 64, error);
    if (status == 0) {
      status = wudf__schema_export(schema, udf->signature.name, &self->schema, error);
      if (status != 0) wudf__append_free(&self->column);
    }
    if (status != 0) return wudf__assembly_failed(self->call, status);
    self->started = 1;
  }
  int64_t width = udf->append_layout == WUDF__LAYOUT_FIXED ? udf->flat_result_width
                                                           : (large ? 8 : 4);
  int64_t bytes = array->length * width + data +
                  (array->null_count != 0 ? (array->length + 7) / 8 : 0);
  status = wudf__count_output(self->call, array->length, bytes);
  if (status == 0) status = wudf__scalar_append(&self->column, self->chunk, array, error);
  return status == 0 || status == EFBIG ? status : wudf__assembly_failed(self->call, status);
}

/* ------------------------------------------------------------- flat path */

/* The input plan of some rows of flat arguments: a struct node over one
 * fixed-width node per argument, whose buffers point into the caller's
 * arrays (no gather, no host allocation). */
struct wudf__flat_input {
  struct wudf__plan root;
  struct wudf__plan_buffer root_buffer;
  struct wudf__plan columns[WUDF__MAX_ARGS];
  struct wudf__plan* pointers[WUDF__MAX_ARGS];
  struct wudf__plan_buffer buffers[WUDF__MAX_ARGS][2];
  int64_t widths[WUDF__MAX_ARGS];
};

/* Nonzero when the arguments suit the flat path: every column of a
 * fixed-width type without a dictionary and, when it has nulls, with its
 * validity at a byte boundary and a function that sees nulls (a strict
 * function's null rows are compacted away by the general path). Fills the
 * widths; `*with_nulls` tells whether a column has a validity bitmap. */
static int wudf__flat_arguments(const struct wudf__call* call,
                                const struct wudf__arguments* arguments,
                                struct wudf__flat_input* input, int* with_nulls) {
  *with_nulls = 0;
  for (uint32_t i = 0; i < arguments->count; i++) {
    const struct ArrowArray* array = arguments->arrays[i];
    const struct ArrowSchema* schema = arguments->schemas[i];
    if (arguments->layouts[i] != WUDF__LAYOUT_FIXED || schema->dictionary != NULL ||
        schema->metadata != NULL || arguments->widths[i] <= 0) {
      return 0;
    }
    if (array->null_count != 0 && array->buffers[0] != NULL) {
      if (call->udf->signature.strict || array->offset % 8 != 0) return 0;
      *with_nulls = 1;
    }
    input->widths[i] = arguments->widths[i];
  }
  return 1;
}

/* Plans rows [start, start + count) of the flat arguments; `start` is a
 * multiple of 8 when a column has nulls. */
static void wudf__flat_plan(const struct wudf__arguments* arguments, int64_t start,
                            int64_t count, struct wudf__flat_input* input) {
  struct wudf__plan* root = &input->root;
  memset(root, 0, sizeof(*root));
  root->schema = &arguments->schema;
  root->length = count;
  input->root_buffer.data = NULL; /* the struct has no nulls */
  input->root_buffer.size = 0;
  root->n_buffers = 1;
  root->buffers = &input->root_buffer;
  root->n_children = (int32_t)arguments->count;
  root->children = input->pointers;
  for (uint32_t i = 0; i < arguments->count; i++) {
    const struct ArrowArray* array = arguments->arrays[i];
    struct wudf__plan* column = &input->columns[i];
    struct wudf__plan_buffer* buffers = input->buffers[i];
    int64_t row = array->offset + start, width = input->widths[i];
    memset(column, 0, sizeof(*column));
    column->schema = arguments->schemas[i];
    column->length = count;
    column->n_buffers = 2;
    column->buffers = buffers;
    buffers[0].data = NULL;
    buffers[0].size = 0;
    if (array->null_count != 0 && array->buffers[0] != NULL) {
      const uint8_t* bits = array->buffers[0];
      column->null_count = count - wudf__bits_count(bits, row, count);
      if (column->null_count > 0) {
        buffers[0].data = bits + row / 8;
        buffers[0].size = (count + 7) / 8;
      }
    }
    buffers[1].data = count > 0 ? (const uint8_t*)array->buffers[1] + row * width : NULL;
    buffers[1].size = count * width;
    input->pointers[i] = column;
  }
}

/*
 * The flat path of a scalar call: arguments of fixed-width types (see
 * wudf__flat_arguments) and a flat result type (udf->flat_result_width),
 * copied out. The input block is written from a plan over the caller's
 * buffers, the result taken by the flat result check of call.c, and a call
 * of more rows than max_rows_per_call (in guest calls of max_rows_per_call
 * rows) writes each guest call's rows straight into the final column,
 * allocated once. Returns 0 when the call does not suit it (the general
 * path then runs), 1 when it ran the call, with `*status` its result.
 */
static int wudf__call_scalar_flat(struct wudf__call* call, const struct wudf__arguments* arguments,
                                  struct ArrowArray* out, struct ArrowSchema* out_schema,
                                  int* status) {
  const struct wudf_call_options* options = call->options;
  const struct wudf__udf* udf = call->udf;
  if (udf->flat_result_width <= 0 || options->result != WUDF_RESULT_COPY) return 0;
  struct wudf__flat_input input;
  int with_nulls;
  if (!wudf__flat_arguments(call, arguments, &input, &with_nulls)) return 0;
  int64_t total = arguments->rows;
  /* A call of at most WUDF__MIN_CHUNK_ROWS rows is never cut for the
   * cache: the 1-row call does not count its bytes. */
  int64_t row_bytes = 0;
  if (total > WUDF__MIN_CHUNK_ROWS) {
    row_bytes = udf->flat_result_width;
    for (uint32_t i = 0; i < arguments->count; i++) row_bytes += input.widths[i];
  }
  int64_t max_rows = wudf__rows_per_call(options, row_bytes);
  int64_t step = total <= max_rows ? total : max_rows;
  /* Guest calls of a column with nulls start at byte boundaries of its
   * bitmap; with another step the general path splits the rows. */
  if (step < total && with_nulls && step % 8 != 0) return 0;
  wudf__flat_plan(arguments, 0, step, &input);
  int64_t size = wudf__flat_input_write(&input.root, NULL, 0, 0, 0, 0, NULL);
  if (size < 0 || WUDF__BLOCK_HEADER_SIZE + size > options->max_block_bytes) return 0;
  struct wudf__guest_request request;
  memset(&request, 0, sizeof(request));
  request.plan = &input.root;
  request.plan_size = size;
  request.wants_result = 1;
  request.length = step;
  request.flat = 1;
  request.flat_input = 1;
  if (step == total) {
    struct wudf__result result;
    memset(&result, 0, sizeof(result));
    *status = wudf__run_guest(call, &request, &result);
    if (*status == 0) {
      *out = result.array;
      *out_schema = result.schema;
    }
    return 1;
  }
  /* Several guest calls, each placing its rows into the final column. */
  int64_t width = udf->flat_result_width;
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  schema.format = udf->result_format;
  struct wudf__plan_buffer unwritten[2] = {{wudf__plan_unwritten, (total + 7) / 8},
                                           {wudf__plan_unwritten, total * width}};
  struct wudf__plan column;
  memset(&column, 0, sizeof(column));
  column.schema = &schema;
  column.length = total;
  column.n_buffers = 2;
  column.buffers = unwritten;
  *status = wudf__plan_export(&column, udf->signature.name, out, out_schema, call->error);
  if (*status != 0) return 1;
  struct wudf__flat_sink sink;
  memset(&sink, 0, sizeof(sink));
  sink.values = (uint8_t*)(uintptr_t)out->buffers[1];
  sink.validity = (uint8_t*)(uintptr_t)out->buffers[0];
  sink.width = width;
  /* The guest calls write the bits of rows [0, total); the bits after them
   * in the last byte are zero (the buffer comes uninitialised). */
  if (total % 8 != 0) sink.validity[total / 8] = 0;
  request.sink = &sink;
  for (int64_t start = 0; start < total && *status == 0; start += step) {
    int64_t count = total - start < step ? total - start : step;
    wudf__flat_plan(arguments, start, count, &input);
    request.plan_size = wudf__flat_input_write(&input.root, NULL, 0, 0, 0, 0, NULL);
    request.length = count;
    struct wudf__result unused;
    memset(&unused, 0, sizeof(unused));
    *status = wudf__run_guest(call, &request, &unused);
    wudf__result_release(&unused);
  }
  if (*status != 0) {
    out->release(out);
    out_schema->release(out_schema);
    return 1;
  }
  out->null_count = sink.nulls;
  if (sink.nulls == 0) out->buffers[0] = NULL;
  out_schema->flags = sink.flags;
  return 1;
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
  int status = 0;
  if (wudf__call_scalar_flat(call, arguments, out, out_schema, &status)) return status;
  struct wudf__scalar_parts parts;
  memset(&parts, 0, sizeof(parts));
  struct wudf__chunk chunk;
  memset(&chunk, 0, sizeof(chunk));
  int64_t step = wudf__rows_per_call(
      options, total > WUDF__MIN_CHUNK_ROWS ? wudf__general_row_bytes(call->udf, arguments) : 0);
  /* With several guest calls and a result the column builder appends,
   * each guest call's rows are appended where the guest wrote them (a
   * result sink); otherwise every result is copied, kept, and the column
   * gathered from them at the end. */
  struct wudf__scalar_column column;
  memset(&column, 0, sizeof(column));
  column.call = call;
  column.chunk = &chunk;
  column.total = total;
  struct wudf__result_sink sink = {wudf__scalar_column_put, &column};
  int appending = !view && call->udf->append_layout != 0 && step < total;
  int64_t start = 0, guest_calls = 0;
  do {
    int64_t count = total - start < step ? total - start : step;
    status = wudf__plan_chunk(call, arguments, start, count, signature->strict, view, &chunk);
    /* A guest call runs for the selected rows, and once for a result
     * schema when no row at all has been selected yet. */
    struct wudf__result* result = NULL;
    if (status == 0 && (chunk.selected > 0 || guest_calls == 0)) {
      result = appending ? NULL : wudf__scalar_parts_add(&parts);
      if (!appending && result == NULL) {
        status = wudf__set_error(call->error, ENOMEM, "out of memory");
      }
      if (status == 0) {
        struct wudf__guest_request request;
        memset(&request, 0, sizeof(request));
        request.plan = wudf__gather_plan(chunk.gather);
        request.plan_size = chunk.size;
        request.wants_result = 1;
        request.length = chunk.selected;
        request.view = view;
        request.result_sink = appending ? &sink : NULL;
        struct wudf__result none;
        memset(&none, 0, sizeof(none));
        status = wudf__run_guest(call, &request, appending ? &none : result);
        guest_calls++;
      }
    } else if (status == 0 && appending) {
      /* No guest call: the chunk's rows are all null. */
      status = wudf__scalar_append(&column.column, &chunk, NULL, call->error);
      if (status != 0) status = wudf__assembly_failed(call, status);
    }
    wudf__gather_free(chunk.gather);
    chunk.gather = NULL;
    if (status == 0 && !appending && wudf__scalar_place(&parts, &chunk, result) != 0) {
      status = wudf__set_error(call->error, ENOMEM, "out of memory");
    }
    start += chunk.count;
  } while (status == 0 && start < total);
  wudf__chunk_free(&chunk);

  if (status == 0 && appending) {
    status = wudf__append_export(&column.column, &column.schema, NULL, out, out_schema,
                                 call->error);
    if (status != 0) status = wudf__assembly_failed(call, status);
  } else if (status == 0) {
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
      if (status != 0) status = wudf__assembly_failed(call, status);
    }
  }
  wudf__append_free(&column.column);
  if (column.schema.release != NULL) column.schema.release(&column.schema);
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
  options->struct_size = sizeof(*options);
  options->max_rows_per_call = (int64_t)1 << 20;
  options->max_block_bytes = (int64_t)64 << 20;
  options->timeout_ms = WUDF_TIMEOUT_DEFAULT;
  options->validation = WUDF_VALIDATION_FULL;
  options->result = WUDF_RESULT_COPY;
  options->max_output_rows = (int64_t)1 << 16;
  options->result_row_limit = INT32_MAX;
  options->result_byte_limit = (int64_t)1 << 30;
  options->nesting_depth_limit = WUDF__MAX_DEPTH;
  options->chunk_bytes = WUDF__DEFAULT_CHUNK_BYTES;
}

int wudf__arguments_collect(struct wudf__call* call, uint32_t arg_count,
                            const struct ArrowArray* const* arrays,
                            const struct ArrowSchema* const* schemas, int64_t rows,
                            struct wudf__arguments** out) {
  struct wudf__arguments* arguments = wudf__malloc(sizeof(*arguments));
  if (arguments == NULL) return wudf__set_error(call->error, ENOMEM, "out of memory");
  int status = wudf__arguments_fill(call, arg_count, arrays, schemas, rows, arguments);
  if (status != 0) {
    wudf__free(arguments);
    return status;
  }
  *out = arguments;
  return 0;
}

int wudf__arguments_fill(struct wudf__call* call, uint32_t arg_count,
                         const struct ArrowArray* const* arrays,
                         const struct ArrowSchema* const* schemas, int64_t rows,
                         struct wudf__arguments* arguments) {
  const struct wudf__signature* signature = &call->udf->signature;
  if (arg_count != signature->arg_count) {
    return wudf__set_error(call->error, EINVAL, "function '%s' takes %u arguments, %u given",
                           signature->name, signature->arg_count, arg_count);
  }
  wudf__arguments_init(arguments, rows);
  for (uint32_t i = 0; i < arg_count; i++) {
    int status = wudf__arguments_check(call, i, arrays[i], schemas[i], arguments);
    if (status != 0) return status;
  }
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
  /* On the stack: a call allocates nothing of its own on the host but its
   * result (and, off the flat path, the gathers of its data). */
  struct wudf__arguments arguments_space;
  struct wudf__arguments* arguments = &arguments_space;
  status = wudf__arguments_fill(&call, arg_count, arrays, schemas, rows, arguments);
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

/* Nonzero when the call of `function` on `broadcast`'s all-constant
 * arguments may run on one row and broadcast the result: a deterministic
 * scalar function, a copied result, more than one row, within the row
 * limit. */
static int wudf__constant_call_once(const struct wudf_instance* instance, uint32_t function,
                                    const struct wudf__broadcast* broadcast,
                                    const struct wudf_call_options* options) {
  const struct wudf_module* module = wudf__instance_module(instance);
  if (broadcast->count == 0 || broadcast->constants != broadcast->count ||
      broadcast->rows <= 1 || function >= wudf_module_function_count(module)) {
    return 0;
  }
  const struct wudf__signature* signature =
      &wudf__udf_table_of(module)->functions[function].signature;
  return signature->kind == WUDF__KIND_SCALAR && signature->deterministic &&
         options->result == WUDF_RESULT_COPY &&
         (options->result_row_limit == 0 || broadcast->rows <= options->result_row_limit);
}

/* Runs a deterministic scalar function on one row of constants and
 * broadcasts its result to broadcast->rows rows. 1 when done (status in
 * `*status`); 0 when the result is too large to broadcast within
 * result_byte_limit (the caller then calls on every row, which reports
 * the limit as an ordinary call does). */
static int wudf__call_once(struct wudf_instance* instance, uint32_t function,
                           const struct wudf__broadcast* broadcast,
                           const struct wudf_call_options* options,
                           const struct wudf_call_options* settings, struct ArrowArray* out,
                           struct ArrowSchema* out_schema, int* status,
                           struct wudf_error* error) {
  struct ArrowArray one;
  struct ArrowSchema one_schema;
  *status = wudf__call_function(instance, function, broadcast->count, broadcast->arrays,
                                broadcast->schemas, 1, options, &one, &one_schema, error);
  if (*status != 0) return 1;
  if (settings->result_byte_limit != 0) {
    /* The serialized size bounds the row's bytes (buffers, offsets and
     * structs): the broadcast holds at most `rows` times as much. */
    uint8_t* bytes = NULL;
    size_t size = 0;
    *status = wudf_array_serialize(&one, &one_schema, &bytes, &size, error);
    wudf_bytes_free(bytes);
    if (*status == 0 &&
        (double)size * (double)broadcast->rows > (double)settings->result_byte_limit) {
      one.release(&one);
      one_schema.release(&one_schema);
      return 0;
    }
  }
  if (*status == 0) *status = wudf__broadcast_array(&one, &one_schema, broadcast->rows, out, error);
  one.release(&one);
  if (*status == 0) {
    *out_schema = one_schema;
  } else {
    one_schema.release(&one_schema);
  }
  return 1;
}

int wudf_function_call_args(struct wudf_instance* instance, uint32_t function,
                            uint32_t arg_count, const struct wudf_argument* args,
                            int64_t rows, const struct wudf_call_options* options,
                            struct ArrowArray* out, struct ArrowSchema* out_schema,
                            struct wudf_error* error) {
  if (instance == NULL || out == NULL || out_schema == NULL) {
    return wudf__set_error(error, EINVAL, "instance, out and out_schema must not be NULL");
  }
  struct wudf_call_options settings;
  int status = wudf__call_options_read(&settings, options, error);
  if (status != 0) return status;
  struct wudf__broadcast* broadcast = wudf__malloc(sizeof(*broadcast));
  if (broadcast == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  status = wudf__broadcast_check(arg_count, args, rows, broadcast, error);
  if (status == 0 && wudf__constant_call_once(instance, function, broadcast, &settings) &&
      wudf__call_once(instance, function, broadcast, options, &settings, out, out_schema,
                      &status, error)) {
    wudf__free(broadcast);
    return status;
  }
  if (status == 0) status = wudf__broadcast_fill(broadcast, error);
  if (status == 0) {
    status = wudf__call_function(instance, function, arg_count, broadcast->arrays,
                                 broadcast->schemas, rows, options, out, out_schema, error);
  }
  wudf__broadcast_release(broadcast);
  wudf__free(broadcast);
  return status;
}
