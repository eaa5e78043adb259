/*
 * aggregate.c -- aggregate functions: accumulators whose per-group states
 * live in the guest, updated many groups per guest call, mergeable across
 * instances through Arrow arrays of the declared STATE type.
 *
 * Every guest call is one op of docs/abi.md, section 3, on the
 * accumulator's handle with the accumulator's group count: UPDATE passes
 * the arguments plus a "group" column (uint32, the caller's group ids),
 * MERGE a "state" column of partial states plus the group column, STATE
 * and FINISH return an array of exactly group-count rows (validated like
 * any result), FREE lets the guest forget the states. Rows are split into
 * guest calls of at most max_rows_per_call rows; a strict function's rows
 * with a null argument are left out, as SQL aggregates skip nulls.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/common.h"
#include "call.h"

/* The most groups an accumulator may have (its states live in wasm32
 * memory). */
#define WUDF__MAX_GROUPS ((int64_t)INT32_MAX)

struct wudf_aggregate {
  struct wudf_instance* instance;
  uint32_t function;
  uint32_t handle;
  int64_t group_count;
};

/* The host-made "group" column of a guest call: the caller's ids, or
 * zeros. */
struct wudf__group_column {
  struct ArrowArray array;
  struct ArrowSchema schema;
  const void* buffers[2];
  uint32_t* zeros; /* owned, when the caller gave no ids */
};

static void wudf__group_array_release(struct ArrowArray* array) { array->release = NULL; }
static void wudf__group_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

/* Makes the group column of `rows` rows from `ids` (NULL: all group 0).
 * 0 or ENOMEM. */
static int wudf__group_column_init(struct wudf__group_column* column, const uint32_t* ids,
                                   int64_t rows, struct wudf_error* error) {
  memset(column, 0, sizeof(*column));
  if (ids == NULL) {
    column->zeros = wudf__calloc(rows > 0 ? (size_t)rows : 1, sizeof(uint32_t));
    if (column->zeros == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
    ids = column->zeros;
  }
  column->buffers[0] = NULL;
  column->buffers[1] = ids;
  column->array.length = rows;
  column->array.n_buffers = 2;
  column->array.buffers = column->buffers;
  column->array.release = wudf__group_array_release;
  column->schema.format = "I";
  column->schema.name = WUDF__GROUP_COLUMN;
  column->schema.release = wudf__group_schema_release;
  return 0;
}

static void wudf__group_column_free(struct wudf__group_column* column) {
  wudf__free(column->zeros);
}

/* The largest of `rows` (>= 0) group ids, 0 for none: a loop without
 * branches, compiled for SSE4.2 and AVX2 beside the x86-64 baseline, which
 * has no unsigned 32-bit maximum instruction (WUDF__CLONES). */
WUDF__CLONES static uint32_t wudf__largest_id(const uint32_t* ids, int64_t rows) {
  uint32_t largest = 0;
  for (int64_t row = 0; row < rows; row++) largest = ids[row] > largest ? ids[row] : largest;
  return largest;
}

/* Checks a new group count and the ids of `rows` rows against it. */
static int wudf__check_groups(const struct wudf__call* call, const struct wudf_aggregate* agg,
                              const uint32_t* ids, int64_t rows, int64_t group_count) {
  const char* name = call->udf->signature.name;
  if (group_count < 1 || group_count > WUDF__MAX_GROUPS || group_count < agg->group_count) {
    return wudf__set_error(call->error, EINVAL, "function '%s': group count %" PRId64
                           " must be at least 1, at least the accumulator's %" PRId64
                           " and at most %" PRId64, name, group_count, agg->group_count,
                           WUDF__MAX_GROUPS);
  }
  if (ids == NULL) return 0;
  /* The largest id first; only when it is out of range, the row that has
   * it. */
  if ((int64_t)wudf__largest_id(ids, rows) < group_count) return 0;
  for (int64_t row = 0; row < rows; row++) {
    if ((int64_t)ids[row] >= group_count) {
      return wudf__set_error(call->error, EINVAL, "function '%s': row %" PRId64 " has group "
                             "id %" PRIu32 ", not below the group count %" PRId64, name, row,
                             ids[row], group_count);
    }
  }
  return 0;
}

/*
 * Folds the columns of `arguments` (the caller's, checked) plus the group
 * column into the accumulator's states with `op` (UPDATE or MERGE), in
 * guest calls of at most max_rows_per_call rows; `strict` leaves out rows
 * with a null column. The call must have begun.
 */
static int wudf__aggregate_fold(struct wudf__call* call, struct wudf_aggregate* agg,
                                struct wudf__arguments* arguments, const uint32_t* ids,
                                int64_t group_count, uint32_t op, int strict) {
  struct wudf__group_column groups;
  int status = wudf__group_column_init(&groups, ids, arguments->rows, call->error);
  if (status != 0) return status;
  wudf__arguments_add(arguments, &groups.array, &groups.schema, WUDF__GROUP_COLUMN);
  /* The groups exist from now on, whatever the guest calls do (a failed
   * fold leaves the states unspecified, never fewer). */
  agg->group_count = group_count;
  int64_t max_rows = call->options->max_rows_per_call > 0 ? call->options->max_rows_per_call : 1;
  struct wudf__chunk chunk;
  memset(&chunk, 0, sizeof(chunk));
  for (int64_t start = 0; status == 0 && start < arguments->rows; start += chunk.count) {
    int64_t rest = arguments->rows - start;
    status = wudf__plan_chunk(call, arguments, start, rest < max_rows ? rest : max_rows,
                              strict, 0, &chunk);
    if (status == 0 && chunk.selected > 0) {
      struct wudf__guest_request request;
      memset(&request, 0, sizeof(request));
      request.plan = wudf__gather_plan(chunk.gather);
      request.plan_size = chunk.size;
      request.op = op;
      request.handle = agg->handle;
      request.count = group_count;
      /* Every id is below the count (wudf__check_groups, or all 0 when
       * there are none): the SDK need not look again. */
      request.control_flags = WUDF__FLAG_GROUPS_CHECKED;
      struct wudf__result none;
      memset(&none, 0, sizeof(none));
      status = wudf__run_guest(call, &request, &none);
    }
    wudf__gather_free(chunk.gather);
    chunk.gather = NULL;
  }
  wudf__chunk_free(&chunk);
  wudf__group_column_free(&groups);
  return status;
}

/* Asks the guest for the states (op STATE) or results (op FINISH) of every
 * group. The call must have begun. */
static int wudf__aggregate_emit(struct wudf__call* call, struct wudf_aggregate* agg,
                                uint32_t op, struct ArrowArray* out,
                                struct ArrowSchema* out_schema) {
  const struct wudf__udf* udf = call->udf;
  struct wudf__guest_request request;
  memset(&request, 0, sizeof(request));
  request.op = op;
  request.handle = agg->handle;
  request.count = agg->group_count;
  request.wants_result = 1;
  request.length = agg->group_count;
  if (op == WUDF__OP_AGGREGATE_STATE) {
    request.result_type = udf->state_type;
    request.result_type_length = strlen(udf->state_type);
    request.result_path = "state";
  } else {
    request.view = call->options->result == WUDF_RESULT_VIEW;
  }
  struct wudf__result result;
  memset(&result, 0, sizeof(result));
  int status = wudf__run_guest(call, &request, &result);
  if (status != 0) return status;
  *out = result.array;
  *out_schema = result.schema;
  return 0;
}

/* ------------------------------------------------------------- public */

int wudf_aggregate_new(struct wudf_instance* instance, uint32_t function,
                       struct wudf_aggregate** out, struct wudf_error* error) {
  if (instance == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "instance and out must not be NULL");
  }
  struct wudf__call call;
  int status = wudf__call_check(&call, instance, function, WUDF__KIND_AGGREGATE, NULL, error);
  if (status != 0) return status;
  if (wudf__instance_broken(instance)) return wudf__call_usable(&call); /* the trap's message */
  struct wudf_aggregate* agg = wudf__calloc(1, sizeof(*agg));
  if (agg == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  status = wudf__handle_acquire(instance, &agg->handle, error);
  if (status != 0) {
    wudf__free(agg);
    return status;
  }
  agg->instance = instance;
  agg->function = function;
  wudf__instance_hold(instance);
  *out = agg;
  return 0;
}

void wudf_aggregate_free(struct wudf_aggregate* agg) {
  if (agg == NULL) return;
  struct wudf_instance* instance = agg->instance;
  wudf__handle_finish(instance, agg->function, agg->handle, WUDF__OP_AGGREGATE_FREE, 1);
  wudf__free(agg);
  wudf__instance_unhold(instance);
}

int64_t wudf_aggregate_group_count(const struct wudf_aggregate* agg) {
  return agg != NULL ? agg->group_count : 0;
}

/* Checks the arguments of an update and folds them. */
static int wudf__aggregate_update(struct wudf_aggregate* agg, uint32_t arg_count,
                                  const struct ArrowArray* const* args,
                                  const struct ArrowSchema* const* arg_schemas, int64_t rows,
                                  const uint32_t* group_ids, int64_t group_count,
                                  const struct wudf_call_options* options,
                                  struct wudf_error* error) {
  struct wudf__call call;
  int status = wudf__call_check(&call, agg->instance, agg->function, WUDF__KIND_AGGREGATE,
                                options, error);
  struct wudf__arguments* arguments = NULL;
  if (status == 0) {
    status = wudf__arguments_collect(&call, arg_count, args, arg_schemas, rows, &arguments);
  }
  if (status == 0) {
    status = wudf__call_enter(&call);
  }
  /* The groups are checked inside the call: the accumulator's count is
   * the instance's state. */
  if (status == 0) status = wudf__check_groups(&call, agg, group_ids, rows, group_count);
  if (status == 0) {
    status = wudf__aggregate_fold(&call, agg, arguments, group_ids, group_count,
                                  WUDF__OP_AGGREGATE_UPDATE, call.udf->signature.strict);
  }
  wudf__call_end(&call);
  wudf__free(arguments);
  return status;
}

int wudf_aggregate_update(struct wudf_aggregate* agg, uint32_t arg_count,
                          const struct ArrowArray* const* args,
                          const struct ArrowSchema* const* arg_schemas,
                          const uint32_t* group_ids, int64_t group_count,
                          const struct wudf_call_options* options, struct wudf_error* error) {
  if (agg == NULL) return wudf__set_error(error, EINVAL, "aggregate must not be NULL");
  int status = wudf__check_columns(arg_count, args, arg_schemas,
                                   "wudf_aggregate_update_batch", error);
  if (status != 0) return status;
  return wudf__aggregate_update(agg, arg_count, args, arg_schemas, args[0]->length, group_ids,
                                group_count, options, error);
}

int wudf_aggregate_update_batch(struct wudf_aggregate* agg, const struct ArrowArray* batch,
                                const struct ArrowSchema* batch_schema,
                                const uint32_t* group_ids, int64_t group_count,
                                const struct wudf_call_options* options,
                                struct wudf_error* error) {
  if (agg == NULL || batch == NULL || batch_schema == NULL) {
    return wudf__set_error(error, EINVAL, "aggregate, batch and batch_schema must not be "
                           "NULL");
  }
  struct wudf__batch_columns columns;
  int status = wudf__batch_columns(batch, batch_schema, &columns, error);
  if (status != 0) return status;
  return wudf__aggregate_update(agg, columns.count, columns.arrays, columns.schemas,
                                batch->length, group_ids, group_count, options, error);
}

int wudf_aggregate_update_args(struct wudf_aggregate* agg, uint32_t arg_count,
                               const struct wudf_argument* args, int64_t rows,
                               const uint32_t* group_ids, int64_t group_count,
                               const struct wudf_call_options* options,
                               struct wudf_error* error) {
  if (agg == NULL) return wudf__set_error(error, EINVAL, "aggregate must not be NULL");
  struct wudf__broadcast* broadcast = wudf__malloc(sizeof(*broadcast));
  if (broadcast == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  int status = wudf__broadcast_check(arg_count, args, rows, broadcast, error);
  if (status == 0) status = wudf__broadcast_fill(broadcast, error);
  if (status == 0) {
    status = wudf__aggregate_update(agg, arg_count, broadcast->arrays, broadcast->schemas,
                                    rows, group_ids, group_count, options, error);
  }
  wudf__broadcast_release(broadcast);
  wudf__free(broadcast);
  return status;
}

int wudf_aggregate_merge(struct wudf_aggregate* agg, const struct ArrowArray* states,
                         const struct ArrowSchema* states_schema, const uint32_t* group_ids,
                         int64_t group_count, const struct wudf_call_options* options,
                         struct wudf_error* error) {
  if (agg == NULL || states == NULL || states_schema == NULL) {
    return wudf__set_error(error, EINVAL, "aggregate, states and states_schema must not be "
                           "NULL");
  }
  struct wudf__call call;
  int status = wudf__call_check(&call, agg->instance, agg->function, WUDF__KIND_AGGREGATE,
                                options, error);
  if (status != 0) return status;
  const struct wudf__udf* udf = call.udf;
  const char* name = udf->signature.name;
  if (states->release == NULL || states_schema->release == NULL ||
      states_schema->format == NULL) {
    return wudf__set_error(error, EINVAL, "function '%s': the states are released", name);
  }
  char message[512];
  if (wudf__type_match(udf->state_type, strlen(udf->state_type), states_schema, message,
                       sizeof(message)) != 0) {
    return wudf__set_error(error, EINVAL, "function '%s': the states to merge are not of its "
                           "STATE type %s: %s", name, udf->state_type, message);
  }
  char where[128];
  if (wudf__check_shape(states, states_schema, 1, where, sizeof(where)) != 0) {
    return wudf__set_error(error, EINVAL, "function '%s': the states are not a well-formed "
                           "%s array (at '%s')", name, udf->state_type, where);
  }
  struct wudf__arguments* arguments = wudf__malloc(sizeof(*arguments));
  if (arguments == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  wudf__arguments_init(arguments, states->length);
  wudf__arguments_add(arguments, states, states_schema, WUDF__STATE_COLUMN);
  status = wudf__call_enter(&call);
  if (status == 0) {
    status = wudf__check_groups(&call, agg, group_ids, states->length, group_count);
  }
  if (status == 0) {
    status = wudf__aggregate_fold(&call, agg, arguments, group_ids, group_count,
                                  WUDF__OP_AGGREGATE_MERGE, 0);
  }
  wudf__call_end(&call);
  wudf__free(arguments);
  return status;
}

/* STATE or FINISH from the public calls. */
static int wudf__aggregate_result(struct wudf_aggregate* agg, uint32_t op,
                                  const struct wudf_call_options* options,
                                  struct ArrowArray* out, struct ArrowSchema* out_schema,
                                  struct wudf_error* error) {
  if (agg == NULL || out == NULL || out_schema == NULL) {
    return wudf__set_error(error, EINVAL, "aggregate, out and out_schema must not be NULL");
  }
  struct wudf__call call;
  int status = wudf__call_begin(&call, agg->instance, agg->function, WUDF__KIND_AGGREGATE,
                                options, error);
  if (status != 0) return status;
  if (op == WUDF__OP_AGGREGATE_STATE && call.options->result == WUDF_RESULT_VIEW) {
    status = wudf__set_error(error, ENOTSUP, "function '%s': states are always copied (no "
                             "zero-copy views)", call.udf->signature.name);
  } else {
    status = wudf__aggregate_emit(&call, agg, op, out, out_schema);
  }
  wudf__call_end(&call);
  return status;
}

int wudf_aggregate_state(struct wudf_aggregate* agg, const struct wudf_call_options* options,
                         struct ArrowArray* out, struct ArrowSchema* out_schema,
                         struct wudf_error* error) {
  return wudf__aggregate_result(agg, WUDF__OP_AGGREGATE_STATE, options, out, out_schema, error);
}

int wudf_aggregate_finish(struct wudf_aggregate* agg, const struct wudf_call_options* options,
                          struct ArrowArray* out, struct ArrowSchema* out_schema,
                          struct wudf_error* error) {
  return wudf__aggregate_result(agg, WUDF__OP_AGGREGATE_FINISH, options, out, out_schema,
                                error);
}

/* ---------------------------------------------------- wudf_function_call */

int wudf__aggregate_once(struct wudf__call* call, const struct wudf__arguments* arguments,
                         struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wudf_aggregate agg;
  memset(&agg, 0, sizeof(agg));
  agg.instance = call->instance;
  agg.function = (uint32_t)(call->udf - call->table->functions);
  int status = wudf__handle_acquire(call->instance, &agg.handle, call->error);
  if (status != 0) return status;
  /* The fold appends the group column: work on a copy of the arguments. */
  struct wudf__arguments* copy = wudf__malloc(sizeof(*copy));
  if (copy == NULL) status = wudf__set_error(call->error, ENOMEM, "out of memory");
  if (status == 0) {
    wudf__arguments_init(copy, arguments->rows);
    for (uint32_t i = 0; i < arguments->count; i++) {
      wudf__arguments_add(copy, arguments->arrays[i], &arguments->renamed[i],
                          arguments->renamed[i].name);
    }
    status = wudf__aggregate_fold(call, &agg, copy, NULL, 1, WUDF__OP_AGGREGATE_UPDATE,
                                  call->udf->signature.strict);
  }
  if (status == 0) status = wudf__aggregate_emit(call, &agg, WUDF__OP_AGGREGATE_FINISH, out,
                                                 out_schema);
  wudf__free(copy);
  wudf__handle_finish(call->instance, agg.function, agg.handle, WUDF__OP_AGGREGATE_FREE, 1);
  return status;
}
