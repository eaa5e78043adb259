/*
 * table.c -- table functions: each input row yields zero or more output
 * rows, produced in bounded chunks and handed out as an ArrowArrayStream.
 *
 * A run walks the caller's rows in inputs of at most max_rows_per_call rows
 * (for a strict function, only the rows without a null argument). Each
 * input goes to the guest once (op INPUT, docs/abi.md section 3); the guest
 * keeps it and returns the first chunk of its output, at most
 * max_output_rows rows, with the flag MORE when the input has more: the
 * next call (op CONTINUE) returns the next chunk, until a chunk without
 * MORE ends the input. A chunk is validated like any result (its type is
 * struct<input_row: int64, COLUMNS>), copied, and its input_row column --
 * the guest's row within the input -- checked (no nulls, in range,
 * non-decreasing) and rewritten to the caller's row. So memory stays
 * bounded on both sides whatever one row yields. A stream released before
 * its end lets the guest forget its input (op CLOSE) at the instance's next
 * call; releases never run guest code.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "call.h"

/* The state of one table function run over the caller's rows. */
struct wudf__table_run {
  struct wudf_instance* instance;
  uint32_t function;
  uint32_t handle;
  struct wudf_call_options options;
  const struct wudf__arguments* arguments; /* the caller's columns, borrowed */
  struct wudf__arguments* owned_arguments; /* the stream's own, freed with it */
  struct wudf__broadcast* broadcast; /* wudf_table_call_args' columns, or NULL */
  /* A record batch's columns re-cut by its offset (the arguments point at
   * them), for wudf_table_call_batch. */
  struct ArrowArray columns[WUDF__MAX_ARGS];
  int64_t next_row;   /* the first argument row not yet given to the guest */
  int input_open;     /* the guest holds an input with more output */
  struct wudf__chunk input; /* the rows of the current input (segments) */
  size_t segment;     /* the input_row mapping: the segment of the last row, */
  int64_t segment_base; /* and the input row its first row is */
  int64_t last_row;   /* the last input_row of this input, -1 before any */
  /* The output counted against the call's result limits: the whole run's
   * for wudf_function_call, each chunk's for a stream (a stream is how a
   * consumer reads output of any size in bounded memory, and stops when it
   * likes). */
  struct wudf__output_tally tally;
  int tally_per_chunk;
  int done;           /* 1: ended; `status` is the end's */
  int status;
  struct wudf_error error;
};

/* Ends the run with `status` (0: its end), keeping the error message. */
static int wudf__table_end(struct wudf__table_run* run, int status) {
  run->done = 1;
  run->status = status;
  if (status == 0) run->error.message[0] = '\0';
  return status;
}

/* Starts a call on the run's instance; the call's error is the run's. */
static int wudf__table_begin(struct wudf__table_run* run, struct wudf__call* call) {
  return wudf__call_begin(call, run->instance, run->function, WUDF__KIND_TABLE, &run->options,
                          &run->error);
}

/* The argument row of row `row` (0-based) of the current input; rows are
 * asked for in non-decreasing order within one input. */
static int64_t wudf__table_argument_row(struct wudf__table_run* run, int64_t row) {
  const struct wudf__segment_list* rows = &run->input.rows;
  while (run->segment + 1 < rows->count &&
         row >= run->segment_base + rows->items[run->segment].count) {
    run->segment_base += rows->items[run->segment].count;
    run->segment++;
  }
  return rows->items[run->segment].start + (row - run->segment_base);
}

/* Nonzero when one of the `count` (>= 1) input rows a chunk names is outside
 * [0, selected) or goes back (below the one before it, the first below
 * `last`). One pass of 64-bit subtractions and ORs, which every x86-64 CPU
 * vectorizes (no compares, no packing of their masks): the sign bit of the
 * OR is set when a row is negative, when `selected - 1 - row` is (the row
 * is too large), or when `row - previous` is (it went back). Wrapping
 * unsigned arithmetic: a difference can wrap only when a row is out of
 * range, and that row sets the bit on its own. */
WUDF__CLONES static int wudf__rows_out_of_order(const int64_t* rows, int64_t count, int64_t last,
                                                int64_t selected) {
  uint64_t limit = (uint64_t)selected - 1;
  uint64_t bits = (uint64_t)rows[0] | (limit - (uint64_t)rows[0]) |
                  ((uint64_t)rows[0] - (uint64_t)last);
  for (int64_t i = 1; i < count; i++) {
    uint64_t row = (uint64_t)rows[i];
    bits |= row | (limit - row) | (row - (uint64_t)rows[i - 1]);
  }
  return (int)(bits >> 63);
}

/* Checks the chunk a guest returned (a host copy) and rewrites its
 * input_row column to the caller's rows. EPROTO naming the rule. */
static int wudf__table_check_chunk(struct wudf__table_run* run, struct wudf__call* call,
                                   struct ArrowArray* chunk, uint32_t flags) {
  char where[128];
  snprintf(where, sizeof(where), "function '%s' returned an invalid result: result",
           call->udf->signature.name);
  if ((flags & ~WUDF__FLAG_MORE) != 0) {
    return wudf__set_error(call->error, EPROTO, "%s: control flags: unknown bits 0x%x",
                           where, flags & ~WUDF__FLAG_MORE);
  }
  if (chunk->length > run->options.max_output_rows) {
    return wudf__set_error(call->error, EPROTO, "%s: length: a chunk of %" PRId64 " rows, "
                           "more than the %" PRId64 " asked for", where, chunk->length,
                           run->options.max_output_rows);
  }
  if ((flags & WUDF__FLAG_MORE) && chunk->length == 0) {
    return wudf__set_error(call->error, EPROTO, "%s: more: an empty chunk with the flag "
                           "MORE (a chunk that promises more output must have rows)", where);
  }
  if (chunk->null_count != 0) {
    return wudf__set_error(call->error, EPROTO, "%s: null_count: a chunk row is null (rows "
                           "of a table have no struct-level nulls)", where);
  }
  if (chunk->length == 0) return 0;
  struct ArrowArray* rows = chunk->children[0];
  if (rows->null_count != 0) {
    return wudf__set_error(call->error, EPROTO, "%s.input_row: null_count: %" PRId64
                           " null input rows", where, rows->null_count);
  }
  int64_t* values = (int64_t*)rows->buffers[1] + rows->offset;
  int64_t last = run->last_row;
  /* Only when a row is wrong does the loop below look for it. */
  int bad = wudf__rows_out_of_order(values, chunk->length, last, run->input.selected);
  if (!bad) last = values[chunk->length - 1];
  for (int64_t i = 0; bad && i < chunk->length; i++) {
    int64_t row = values[i];
    if (row < 0 || row >= run->input.selected) {
      return wudf__set_error(call->error, EPROTO, "%s.input_row: input row: row %" PRId64
                             " names input row %" PRId64 ", outside the %" PRId64
                             " rows of the input", where, i, row, run->input.selected);
    }
    if (row < last) {
      return wudf__set_error(call->error, EPROTO, "%s.input_row: input row: row %" PRId64
                             " names input row %" PRId64 " after row %" PRId64
                             " (input rows must not decrease)", where, i, row, last);
    }
    last = row;
  }
  run->last_row = last;
  if (run->input.rows.count == 1) {
    /* One run of the caller's rows: a shift, none when the run starts at
     * the caller's row 0 (a call over the whole argument). */
    int64_t start = run->input.rows.items[0].start;
    if (start != 0) {
      for (int64_t i = 0; i < chunk->length; i++) values[i] += start;
    }
  } else {
    for (int64_t i = 0; i < chunk->length; i++) {
      values[i] = wudf__table_argument_row(run, values[i]);
    }
  }
  return 0;
}

/*
 * One step of a run inside an entered call: gives the guest the next input
 * or asks for the input's next chunk. 0 with `*chunk` present (a chunk with
 * rows), 0 with nothing present and `*again` set (nothing to hand out yet:
 * step again), 0 with nothing present (the run's end), or an error, which
 * ends the run.
 */
static int wudf__table_step(struct wudf__table_run* run, struct wudf__call* call,
                            struct wudf__result* chunk, int* again) {
  const struct wudf__arguments* arguments = run->arguments;
  int64_t max_rows = run->options.max_rows_per_call;
  struct wudf__guest_request request;
  memset(&request, 0, sizeof(request));
  request.handle = run->handle;
  request.count = run->options.max_output_rows;
  request.wants_result = 1;
  request.length = -1;
  int status;
  if (!run->input_open) {
    if (run->next_row >= arguments->rows) return wudf__table_end(run, 0);
    int64_t rest = arguments->rows - run->next_row;
    status = wudf__plan_chunk(call, arguments, run->next_row,
                              rest < max_rows ? rest : max_rows,
                              call->udf->signature.strict, 0, &run->input);
    if (status != 0) return wudf__table_end(run, status);
    if (run->input.selected == 0) {
      /* Every row has a null argument: no output, no guest call. */
      wudf__gather_free(run->input.gather);
      run->input.gather = NULL;
      run->next_row += run->input.count;
      *again = 1;
      return 0;
    }
    request.op = WUDF__OP_TABLE_INPUT;
    request.plan = wudf__gather_plan(run->input.gather);
    request.plan_size = run->input.size;
    run->input_open = 1;
    run->segment = 0;
    run->segment_base = 0;
    run->last_row = -1;
  } else {
    request.op = WUDF__OP_TABLE_CONTINUE;
  }
  status = wudf__run_guest(call, &request, chunk);
  wudf__gather_free(run->input.gather);
  run->input.gather = NULL;
  if (status == 0) status = wudf__table_check_chunk(run, call, &chunk->array, request.flags);
  if (status != 0) {
    wudf__result_release(chunk);
    return wudf__table_end(run, status);
  }
  if (!(request.flags & WUDF__FLAG_MORE)) {
    run->input_open = 0;
    run->next_row += run->input.count;
  }
  if (chunk->array.length > 0) return 0;
  wudf__result_release(chunk);
  *again = 1;
  return 0;
}

/*
 * The next chunk of the run into `*chunk` (present), or its end (0 and
 * nothing present). Errors end the run, except EBUSY (nothing happened).
 */
static int wudf__table_next(struct wudf__table_run* run, struct wudf__result* chunk) {
  memset(chunk, 0, sizeof(*chunk));
  if (run->done) {
    if (run->status != 0) {
      /* get_last_error keeps the message; the code repeats. */
      return run->status;
    }
    return 0;
  }
  for (;;) {
    struct wudf__call call;
    int status = wudf__table_begin(run, &call);
    if (status == EBUSY) return status;
    if (status != 0) return wudf__table_end(run, status);
    int again = 0;
    if (run->tally_per_chunk) memset(&run->tally, 0, sizeof(run->tally));
    call.tally = &run->tally;
    status = wudf__table_step(run, &call, chunk, &again);
    wudf__call_end(&call);
    if (status != 0 || !again) return status;
  }
}

/* Makes `run` (zeroed) a run of `call`'s function, index `function`, over
 * `arguments` (borrowed): takes a handle and holds the instance. */
static int wudf__table_run_start(struct wudf__call* call, const struct wudf__arguments* arguments,
                                 uint32_t function, struct wudf__table_run* run) {
  int status = wudf__handle_acquire(call->instance, &run->handle, call->error);
  if (status != 0) return status;
  run->instance = call->instance;
  run->function = function;
  run->options = *call->options;
  if (run->options.max_rows_per_call < 1) run->options.max_rows_per_call = 1;
  if (run->options.max_output_rows < 1) run->options.max_output_rows = 1;
  if (run->options.max_output_rows > INT32_MAX) run->options.max_output_rows = INT32_MAX;
  run->arguments = arguments;
  wudf__instance_hold(call->instance);
  return 0;
}

/* Frees a run; the guest forgets what it kept (at the next call, unless
 * `now`). No guest code runs unless `now`. */
static void wudf__table_run_free(struct wudf__table_run* run, int now) {
  struct wudf_instance* instance = run->instance;
  wudf__handle_finish(instance, run->function, run->handle,
                      run->input_open ? WUDF__OP_TABLE_CLOSE : 0, now);
  wudf__chunk_free(&run->input);
  wudf__free(run->owned_arguments);
  if (run->broadcast != NULL) {
    wudf__broadcast_release(run->broadcast);
    wudf__free(run->broadcast);
  }
  wudf__free(run);
  wudf__instance_unhold(instance);
}

/* The index of `call`'s function in its module. */
static uint32_t wudf__function_index(const struct wudf__call* call) {
  return (uint32_t)(call->udf - call->table->functions);
}

/* ------------------------------------------------------------- collect */

int wudf__table_collect(struct wudf__call* call, const struct wudf__arguments* arguments,
                        struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wudf__table_run* run = wudf__calloc(1, sizeof(*run));
  if (run == NULL) return wudf__set_error(call->error, ENOMEM, "out of memory");
  int status = wudf__table_run_start(call, arguments, wudf__function_index(call), run);
  if (status != 0) {
    wudf__free(run);
    return status;
  }
  struct wudf__result* chunks = NULL;
  size_t count = 0, capacity = 0;
  for (;;) {
    if (count == capacity) {
      capacity = capacity ? 2 * capacity : 8;
      struct wudf__result* grown = wudf__realloc(chunks, capacity * sizeof(*grown));
      if (grown == NULL) {
        status = wudf__set_error(call->error, ENOMEM, "out of memory");
        break;
      }
      chunks = grown;
    }
    status = wudf__table_next(run, &chunks[count]);
    if (status != 0) {
      if (call->error != NULL) *call->error = run->error;
      break;
    }
    if (!chunks[count].present) break;
    count++;
  }
  struct wudf__segment* segments = NULL;
  if (status == 0 && count > 0) {
    segments = wudf__malloc(count * sizeof(*segments));
    if (segments == NULL) status = wudf__set_error(call->error, ENOMEM, "out of memory");
  }
  if (status == 0) {
    /* Every chunk has the declared type; the first one's schema (or, with
     * no output, the declared one) describes them all. */
    struct ArrowSchema declared;
    memset(&declared, 0, sizeof(declared));
    const struct ArrowSchema* schema = count > 0 ? &chunks[0].schema : NULL;
    if (count == 0) {
      status = wudf__table_chunk_schema(call->udf, &declared, call->error);
      schema = &declared;
    }
    for (size_t i = 0; i < count; i++) {
      segments[i] = (struct wudf__segment){&chunks[i].array, 0, chunks[i].array.length};
    }
    struct wudf__gather* gather = NULL;
    if (status == 0) status = wudf__gather_new(schema, segments, count, &gather, call->error);
    if (status == 0) {
      status = wudf__plan_export(wudf__gather_plan(gather), call->udf->signature.name, out,
                                 out_schema, call->error);
    }
    wudf__gather_free(gather);
    if (declared.release != NULL) declared.release(&declared);
    if (status != 0) {
      wudf__error_prefix(call->error, status, "function '%s': assembling the result",
                         call->udf->signature.name);
    }
  }
  for (size_t i = 0; i < count; i++) wudf__result_release(&chunks[i]);
  wudf__free(chunks);
  wudf__free(segments);
  wudf__table_run_free(run, 1);
  return status;
}

/* -------------------------------------------------------------- stream */

static struct wudf__table_run* wudf__stream_run(struct ArrowArrayStream* stream) {
  return stream->private_data;
}

int wudf__table_chunk_schema(const struct wudf__udf* udf, struct ArrowSchema* out,
                             struct wudf_error* error) {
  int status = wudf__type_schema(udf->output_type, udf->output_type_length,
                                 udf->signature.name, out, error);
  if (status == 0) out->children[0]->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
  return status;
}

static int wudf__stream_get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  struct wudf__table_run* run = wudf__stream_run(stream);
  const struct wudf__udf_table* table = wudf__udf_table_of(wudf__instance_module(run->instance));
  return wudf__table_chunk_schema(&table->functions[run->function], out, &run->error);
}

static int wudf__stream_get_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct wudf__table_run* run = wudf__stream_run(stream);
  struct wudf__result chunk;
  int status = wudf__table_next(run, &chunk);
  if (status != 0) return status;
  if (!chunk.present) {
    memset(out, 0, sizeof(*out)); /* released: the end */
    return 0;
  }
  *out = chunk.array;
  chunk.schema.release(&chunk.schema);
  return 0;
}

static const char* wudf__stream_get_last_error(struct ArrowArrayStream* stream) {
  struct wudf__table_run* run = wudf__stream_run(stream);
  return run->error.message[0] != '\0' ? run->error.message : NULL;
}

static void wudf__stream_release(struct ArrowArrayStream* stream) {
  if (stream->release == NULL) return;
  wudf__table_run_free(wudf__stream_run(stream), 0);
  stream->release = NULL;
  stream->private_data = NULL;
}

/* Opens a stream over `count` columns; `batch_columns` (NULL, or columns
 * re-cut from a record batch that `arrays` point at) are copied into the
 * stream so that it does not point into the caller's stack; `broadcast`
 * (NULL, or the columns of wudf_table_call_args that `arrays` point at)
 * becomes the stream's on success. */
static int wudf__table_open(struct wudf_instance* instance, uint32_t function, uint32_t count,
                            const struct ArrowArray* const* arrays,
                            const struct ArrowSchema* const* schemas, int64_t rows,
                            const struct ArrowArray* batch_columns,
                            struct wudf__broadcast* broadcast,
                            const struct wudf_call_options* options,
                            struct ArrowArrayStream* out, struct wudf_error* error) {
  struct wudf__call call;
  int status = wudf__call_check(&call, instance, function, WUDF__KIND_TABLE, options, error);
  if (status != 0) return status;
  const char* name = call.udf->signature.name;
  if (call.options->result == WUDF_RESULT_VIEW) {
    return wudf__set_error(error, ENOTSUP, "function '%s': the chunks of a table function "
                           "are always copies (no zero-copy views)", name);
  }
  status = wudf__call_usable(&call);
  if (status != 0) return status;
  struct wudf__table_run* run = wudf__calloc(1, sizeof(*run));
  if (run == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  const struct ArrowArray* kept[WUDF__MAX_ARGS];
  for (uint32_t i = 0; i < count; i++) {
    kept[i] = arrays[i];
    if (batch_columns != NULL) {
      run->columns[i] = batch_columns[i];
      kept[i] = &run->columns[i];
    }
  }
  status = wudf__arguments_collect(&call, count, kept, schemas, rows, &run->owned_arguments);
  if (status == 0) status = wudf__table_run_start(&call, run->owned_arguments, function, run);
  run->tally_per_chunk = 1;
  if (status != 0) {
    wudf__free(run->owned_arguments);
    wudf__free(run);
    return status;
  }
  run->broadcast = broadcast;
  memset(out, 0, sizeof(*out));
  out->get_schema = wudf__stream_get_schema;
  out->get_next = wudf__stream_get_next;
  out->get_last_error = wudf__stream_get_last_error;
  out->release = wudf__stream_release;
  out->private_data = run;
  return 0;
}

int wudf_table_call(struct wudf_instance* instance, uint32_t function, uint32_t arg_count,
                    const struct ArrowArray* const* args,
                    const struct ArrowSchema* const* arg_schemas,
                    const struct wudf_call_options* options, struct ArrowArrayStream* out,
                    struct wudf_error* error) {
  if (instance == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "instance and out must not be NULL");
  }
  int status = wudf__check_columns(arg_count, args, arg_schemas, "wudf_table_call_batch",
                                   error);
  if (status != 0) return status;
  return wudf__table_open(instance, function, arg_count, args, arg_schemas, args[0]->length,
                          NULL, NULL, options, out, error);
}

int wudf_table_call_batch(struct wudf_instance* instance, uint32_t function,
                          const struct ArrowArray* batch, const struct ArrowSchema* batch_schema,
                          const struct wudf_call_options* options,
                          struct ArrowArrayStream* out, struct wudf_error* error) {
  if (instance == NULL || batch == NULL || batch_schema == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "instance, batch, batch_schema and out must not be "
                           "NULL");
  }
  struct wudf__batch_columns columns;
  int status = wudf__batch_columns(batch, batch_schema, &columns, error);
  if (status != 0) return status;
  return wudf__table_open(instance, function, columns.count, columns.arrays, columns.schemas,
                          batch->length, columns.columns, NULL, options, out, error);
}

int wudf_table_call_args(struct wudf_instance* instance, uint32_t function, uint32_t arg_count,
                         const struct wudf_argument* args, int64_t rows,
                         const struct wudf_call_options* options, struct ArrowArrayStream* out,
                         struct wudf_error* error) {
  if (instance == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "instance and out must not be NULL");
  }
  struct wudf__broadcast* broadcast = wudf__malloc(sizeof(*broadcast));
  if (broadcast == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  int status = wudf__broadcast_check(arg_count, args, rows, broadcast, error);
  if (status == 0) status = wudf__broadcast_fill(broadcast, error);
  if (status == 0) {
    status = wudf__table_open(instance, function, arg_count, broadcast->arrays,
                              broadcast->schemas, rows, NULL, broadcast, options, out, error);
    if (status == 0) return 0;
  }
  wudf__broadcast_release(broadcast);
  wudf__free(broadcast);
  return status;
}
