/*
 * kind_liars.c -- test guest whose table and aggregate functions break the
 * protocol of docs/abi.md, section 3, one rule per function; the host must
 * reject each with an error naming the function and the rule, and carry on.
 *
 * Written against the raw ABI (no SDK runner): each table function takes
 * its input (releasing it, so the host keeps no block), and returns a
 * chunk struct<input_row: int64, NAME: int32> built in static memory with
 * a release that only marks it released, then breaks one thing. Each
 * aggregate returns `count` rows of int64 for STATE and FINISH and breaks
 * one thing.
 */
#include <wasmudf/guest.h>

/* The control block (docs/abi.md, section 3). */
struct control {
  uint32_t op;
  uint32_t handle;
  int64_t count;
  uint32_t flags;
  uint32_t reserved[3];
};

#define DECLARE(kind, name, signature)                                              \
  WUDF__METADATA(kind, signature)                                                   \
  __attribute__((export_name("wudf_fn_" #name))) int32_t name(                      \
      struct ArrowArray* args, struct ArrowSchema* args_schema, struct ArrowArray* out, \
      struct ArrowSchema* out_schema, struct control* control)

static int64_t rows[256];
static int32_t values[256];
static const void* row_buffers[2];
static const void* value_buffers[2];
static const void* struct_buffers[1];
static uint8_t struct_validity[32];
static struct ArrowArray row_array, value_array;
static struct ArrowArray* array_children[2] = {&row_array, &value_array};
static struct ArrowSchema row_schema, value_schema;
static struct ArrowSchema* schema_children[2] = {&row_schema, &value_schema};

static void array_release(struct ArrowArray* array) { array->release = NULL; }
static void schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

static void release_input(struct ArrowArray* args, struct ArrowSchema* args_schema) {
  if (args != NULL && args->release != NULL) args->release(args);
  if (args_schema != NULL && args_schema->release != NULL) args_schema->release(args_schema);
}

/* A valid chunk of `length` rows naming input rows 0, 1, ... (clamped to
 * `input_rows` - 1), values 7. */
static void valid_chunk(struct ArrowArray* out, struct ArrowSchema* out_schema,
                        int64_t length, int64_t input_rows, const char* column) {
  for (int64_t i = 0; i < length; i++) {
    rows[i] = i < input_rows ? i : input_rows - 1;
    values[i] = 7;
  }
  row_buffers[0] = NULL;
  row_buffers[1] = rows;
  value_buffers[0] = NULL;
  value_buffers[1] = values;
  struct_buffers[0] = NULL;
  row_array = (struct ArrowArray){.length = length, .n_buffers = 2, .buffers = row_buffers,
                                  .release = array_release};
  value_array = (struct ArrowArray){.length = length, .n_buffers = 2,
                                    .buffers = value_buffers, .release = array_release};
  *out = (struct ArrowArray){.length = length, .n_buffers = 1, .buffers = struct_buffers,
                             .n_children = 2, .children = array_children,
                             .release = array_release};
  row_schema = (struct ArrowSchema){.format = "l", .name = "input_row",
                                    .release = schema_release};
  value_schema = (struct ArrowSchema){.format = "i", .name = column,
                                      .flags = ARROW_FLAG_NULLABLE, .release = schema_release};
  *out_schema = (struct ArrowSchema){.format = "+s", .name = "", .n_children = 2,
                                     .children = schema_children, .release = schema_release};
}

/* The rows of the input of an INPUT op (0 for CONTINUE). */
static int64_t take_input(struct ArrowArray* args, struct ArrowSchema* args_schema) {
  int64_t length = args != NULL ? args->length : 0;
  release_input(args, args_schema);
  return length;
}

DECLARE("table", fine, "fine(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, n < 2 ? n : 2, n, "fine");
  return 0;
}

DECLARE("table", row_outside, "row_outside(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 2, n, "row_outside");
  rows[1] = n; /* one past the input */
  return 0;
}

DECLARE("table", row_negative, "row_negative(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 2, n, "row_negative");
  rows[0] = -1;
  return 0;
}

/* The extremes of int64, where a check by subtraction would wrap. */
DECLARE("table", row_largest, "row_largest(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 2, n, "row_largest");
  rows[1] = INT64_MAX;
  return 0;
}

DECLARE("table", row_smallest, "row_smallest(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 2, n, "row_smallest");
  rows[1] = INT64_MIN;
  return 0;
}

DECLARE("table", rows_decrease, "rows_decrease(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 2, n, "rows_decrease");
  rows[0] = 1;
  rows[1] = 0;
  return 0;
}

/* Row 1 in the first chunk (with MORE), row 0 in the next. */
static int across_calls;
DECLARE("table", rows_decrease_across, "rows_decrease_across(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 1, 2, "rows_decrease_across");
  if (control->op == 1) {
    across_calls = 0;
    rows[0] = n > 1 ? 1 : 0;
    control->flags = 1;
  } else {
    rows[0] = 0;
  }
  across_calls++;
  return 0;
}

DECLARE("table", row_null, "row_null(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 2, n, "row_null");
  static uint8_t validity[1] = {1};
  row_buffers[0] = validity;
  row_array.null_count = 1;
  return 0;
}

DECLARE("table", more_empty, "more_empty(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 0, n, "more_empty");
  control->flags = 1;
  return 0;
}

DECLARE("table", too_many, "too_many(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  int64_t length = control->count + 1 > 256 ? 256 : control->count + 1;
  valid_chunk(out, out_schema, length, n, "too_many");
  return 0;
}

DECLARE("table", bad_flags, "bad_flags(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 1, n, "bad_flags");
  control->flags = 6;
  return 0;
}

DECLARE("table", null_chunk_row, "null_chunk_row(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 2, n, "null_chunk_row");
  struct_validity[0] = 1; /* row 1 null */
  struct_buffers[0] = struct_validity;
  out->null_count = 1;
  return 0;
}

DECLARE("table", wrong_column, "wrong_column(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 1, n, "wrong_column");
  value_schema.format = "s";
  return 0;
}

DECLARE("table", no_row_column, "no_row_column(int32) -> setof int32") {
  int64_t n = take_input(args, args_schema);
  valid_chunk(out, out_schema, 1, n, "no_row_column");
  row_schema.name = "row";
  return 0;
}

/* -------------------------------------------------------------- aggregates */

/* `count` rows of int64 (value 1) for STATE and FINISH; nothing otherwise. */
static int64_t results[4096];
static const void* result_buffers[2];

static void valid_result(struct ArrowArray* out, struct ArrowSchema* out_schema, int64_t count,
                         const char* format) {
  for (int64_t i = 0; i < count && i < 4096; i++) results[i] = 1;
  result_buffers[0] = NULL;
  result_buffers[1] = results;
  *out = (struct ArrowArray){.length = count, .n_buffers = 2, .buffers = result_buffers,
                             .release = array_release};
  *out_schema = (struct ArrowSchema){.format = format, .name = "",
                                     .flags = ARROW_FLAG_NULLABLE, .release = schema_release};
}

DECLARE("aggregate", state_short, "state_short(int64) -> int64 STATE int64") {
  release_input(args, args_schema);
  if (control->op == 3 || control->op == 4) {
    valid_result(out, out_schema, control->op == 3 ? control->count - 1 : control->count, "l");
  }
  return 0;
}

DECLARE("aggregate", finish_wrong_type, "finish_wrong_type(int64) -> int64 STATE int64") {
  release_input(args, args_schema);
  if (control->op == 3 || control->op == 4) {
    valid_result(out, out_schema, control->count, control->op == 4 ? "g" : "l");
  }
  return 0;
}

DECLARE("aggregate", finish_nothing, "finish_nothing(int64) -> int64 STATE int64") {
  release_input(args, args_schema);
  if (control->op == 3) valid_result(out, out_schema, control->count, "l");
  return 0;
}
