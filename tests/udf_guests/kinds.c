/*
 * kinds.c -- test guest of table and aggregate functions written with the
 * SDK, for what the examples do not show: null handling declared both
 * ways, a table that never ends, a table function with several columns,
 * an aggregate that counts its guest calls, one that fails and one that
 * traps.
 */
#include <stdio.h>

#include <wasmudf/guest.h>

/* A scalar function, to pin the instance with a view and to call between
 * a stream's chunks. */
WUDF_SCALAR(twice, "twice(int32) -> int32") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int32(out, row, 2 * wudf_get_int32(in, row));
  }
  return 0;
}

/* ---------------------------------------------------------------- tables */

/* One row per input row, nulls included: 1 for a null argument, else 0. */
WUDF_TABLE(null_flags, "null_flags(int32) -> setof int32 CALLED ON NULL INPUT") {
  int64_t out = wudf_table_emit(table);
  if (out < 0) return 0;
  wudf_set_int32(wudf_table_column(table, 0), out, wudf_is_null(wudf_arg(args, 0), row));
  return 0;
}

/* Counts up from the argument forever (the consumer stops reading). */
WUDF_TABLE(endless, "endless(int64) -> setof int64") {
  int64_t start = wudf_get_int64(wudf_arg(args, 0), row);
  for (;;) {
    int64_t out = wudf_table_emit(table);
    if (out < 0) return 0;
    wudf_set_int64(wudf_table_column(table, 0), out, start + table->emitted - 1);
  }
}

/* Several columns: for n, the rows (i, "i", i * 0.5) for i in 0 .. n - 1;
 * fails for a negative n. */
WUDF_TABLE(columns, "columns(int32 n) -> table<i: int32, text: utf8, half: float64>") {
  int32_t n = wudf_get_int32(wudf_arg(args, 0), row);
  if (n < 0) return wudf_error("columns: n is %d", n);
  for (int32_t i = (int32_t)table->emitted; i < n; i++) {
    int64_t out = wudf_table_emit(table);
    if (out < 0) return 0;
    char text[16];
    int length = snprintf(text, sizeof(text), "%d", i);
    wudf_set_int32(wudf_table_column(table, 0), out, i);
    wudf_set_str(wudf_table_column(table, 1), out, text, (size_t)length);
    wudf_set_float64(wudf_table_column(table, 2), out, i * 0.5);
  }
  return 0;
}

/* ------------------------------------------------------------ aggregates */

typedef struct {
  int64_t count;
} count_state;

static int count_rows_update(void* states, const uint32_t* groups, const wudf_args* args) {
  count_state* s = states;
  for (int64_t row = 0; row < args->length; row++) s[groups[row]].count++;
  return 0;
}

static int count_merge(void* states, const uint32_t* groups, const wudf_input* partial) {
  count_state* s = states;
  for (int64_t row = 0; row < partial->length; row++) {
    s[groups[row]].count += wudf_get_int64(partial, row);
  }
  return 0;
}

static int count_out(const void* states, int64_t count, wudf_output* out) {
  const count_state* s = states;
  for (int64_t g = 0; g < count; g++) wudf_set_int64(out, g, s[g].count);
  return 0;
}

/* The rows of each group, nulls included (count(*)). */
static const wudf_aggregate_fns count_all_fns = {sizeof(count_state), count_rows_update,
                                                 count_merge, count_out, count_out, NULL};
WUDF_AGGREGATE(count_all, "count_all(int64) -> int64 STATE int64 CALLED ON NULL INPUT",
               count_all_fns)

/* The non-null rows of each group (count(x)): the same code, strict. */
WUDF_AGGREGATE(count_values, "count_values(int64) -> int64 STATE int64", count_all_fns)

/* How many update calls reached the guest, for every group. */
static int64_t update_calls;

static int calls_update(void* states, const uint32_t* groups, const wudf_args* args) {
  update_calls++;
  return 0;
}

static int calls_finish(const void* states, int64_t count, wudf_output* out) {
  for (int64_t g = 0; g < count; g++) wudf_set_int64(out, g, update_calls);
  return 0;
}

static const wudf_aggregate_fns calls_fns = {sizeof(count_state), calls_update, count_merge,
                                             count_out, calls_finish, NULL};
WUDF_AGGREGATE(calls, "calls(int64) -> int64 STATE int64", calls_fns)

/* Fails every update with a message of its own. */
static int failing_update(void* states, const uint32_t* groups, const wudf_args* args) {
  return wudf_error("failing: refusing %lld rows", (long long)args->length);
}

static const wudf_aggregate_fns failing_fns = {sizeof(count_state), failing_update,
                                               count_merge, count_out, count_out, NULL};
WUDF_AGGREGATE(failing, "failing(int64) -> int64 STATE int64", failing_fns)

/* Traps when finishing. */
static int trapping_finish(const void* states, int64_t count, wudf_output* out) {
  __builtin_trap();
}

static const wudf_aggregate_fns trapping_fns = {sizeof(count_state), count_rows_update,
                                                count_merge, count_out, trapping_finish, NULL};
WUDF_AGGREGATE(trapping, "trapping(int64) -> int64 STATE int64", trapping_fns)

/* Counts live states: destroy must run for every group when the host
 * frees an accumulator. */
static int64_t live_states;

typedef struct {
  wudf_bytes bytes;
} owning_state;

static int owning_update(void* states, const uint32_t* groups, const wudf_args* args) {
  owning_state* s = states;
  for (int64_t row = 0; row < args->length; row++) {
    owning_state* state = &s[groups[row]];
    if (state->bytes.data == NULL) live_states++;
    if (wudf_bytes_append(&state->bytes, "x", 1) != 0) return wudf_error("out of memory");
  }
  return 0;
}

static int owning_finish(const void* states, int64_t count, wudf_output* out) {
  const owning_state* s = states;
  for (int64_t g = 0; g < count; g++) wudf_set_int64(out, g, s[g].bytes.size);
  return 0;
}

static int live_finish(const void* states, int64_t count, wudf_output* out) {
  for (int64_t g = 0; g < count; g++) wudf_set_int64(out, g, live_states);
  return 0;
}

static void owning_destroy(void* state) {
  owning_state* s = state;
  if (s->bytes.data != NULL) live_states--;
  wudf_bytes_release(&s->bytes);
}

static const wudf_aggregate_fns owning_fns = {sizeof(owning_state), owning_update, count_merge,
                                              owning_finish, owning_finish, owning_destroy};
WUDF_AGGREGATE(owning, "owning(int64) -> int64 STATE int64", owning_fns)

/* Reports live_states (its own states own nothing). */
static const wudf_aggregate_fns live_fns = {sizeof(count_state), count_rows_update,
                                            count_merge, count_out, live_finish, NULL};
WUDF_AGGREGATE(live, "live(int64) -> int64 STATE int64", live_fns)

/* No arguments: count(*) of a batch's rows. */
WUDF_AGGREGATE(count_star, "count_star() -> int64 STATE int64", count_all_fns)

/* No arguments: for each row of a batch, its row number twice. */
WUDF_TABLE(twice_each, "twice_each() -> setof int64") {
  for (int64_t i = table->emitted; i < 2; i++) {
    int64_t out = wudf_table_emit(table);
    if (out < 0) return 0;
    wudf_set_int64(wudf_table_column(table, 0), out, row);
  }
  return 0;
}
