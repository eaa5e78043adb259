/*
 * liars.c -- test guest whose results break the guest ABI, one rule per
 * function; the host must reject each with an error naming the rule and
 * carry on. Each function builds a correct result first (in static memory,
 * with a release callback that only marks it released) and then breaks
 * exactly one thing. Also: a guest that never releases its inputs (the host
 * must clean up after it), and one whose release callback traps.
 */
#include <wasmudf/guest.h>

#define DECLARE(name, signature)                                               \
  WUDF__METADATA("scalar", signature)                                          \
  __attribute__((export_name("wudf_fn_" #name))) int32_t name(                 \
      struct ArrowArray* args, struct ArrowSchema* args_schema,                \
      struct ArrowArray* out, struct ArrowSchema* out_schema)

static int32_t values[1024];
static int32_t offsets[1025];
static char data[4096];
static const void* buffers[4];
static struct ArrowArray* no_children[1];

static void array_release(struct ArrowArray* array) { array->release = NULL; }
static void schema_release(struct ArrowSchema* schema) { schema->release = NULL; }
static void trapping_release(struct ArrowArray* array) { __builtin_trap(); }

/* Releases the inputs and builds a valid result of `length` rows of
 * `format` ("i" or "u"); returns the length. */
static int64_t valid_result(struct ArrowArray* args, struct ArrowSchema* args_schema,
                            struct ArrowArray* out, struct ArrowSchema* out_schema,
                            const char* format) {
  int64_t length = args->length > 1024 ? 1024 : args->length;
  args->release(args);
  args_schema->release(args_schema);
  memset(out, 0, sizeof(*out));
  memset(out_schema, 0, sizeof(*out_schema));
  out_schema->format = format;
  out_schema->name = "";
  out_schema->release = schema_release;
  out->length = length;
  out->release = array_release;
  out->buffers = buffers;
  buffers[0] = NULL;
  if (format[0] == 'u') {
    for (int64_t i = 0; i <= length; i++) offsets[i] = (int32_t)i;
    memset(data, 'x', sizeof(data));
    buffers[1] = offsets;
    buffers[2] = data;
    out->n_buffers = 3;
  } else {
    for (int64_t i = 0; i < length; i++) values[i] = (int32_t)i;
    buffers[1] = values;
    out->n_buffers = 2;
  }
  return length;
}

DECLARE(control, "control(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  return 0;
}

DECLARE(buffer_outside, "buffer_outside(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  buffers[1] = (const void*)(uintptr_t)0xfffff000u;
  return 0;
}

DECLARE(null_values, "null_values(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  buffers[1] = NULL;
  return 0;
}

DECLARE(buffers_outside, "buffers_outside(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->buffers = (const void**)(uintptr_t)0xfffffff0u;
  return 0;
}

DECLARE(negative_length, "negative_length(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->length = -1;
  return 0;
}

DECLARE(wrong_length, "wrong_length(int32) -> int32") {
  int64_t length = valid_result(args, args_schema, out, out_schema, "i");
  out->length = length - 1;
  return 0;
}

DECLARE(too_long, "too_long(int32) -> int32") {
  int64_t length = valid_result(args, args_schema, out, out_schema, "i");
  out->length = length + 1;
  return 0;
}

DECLARE(huge_offset, "huge_offset(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->offset = INT64_MAX - 1;
  return 0;
}

DECLARE(wrong_buffer_count, "wrong_buffer_count(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->n_buffers = 3;
  return 0;
}

DECLARE(wrong_type, "wrong_type(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out_schema->format = "l";
  return 0;
}

DECLARE(format_outside, "format_outside(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out_schema->format = (const char*)(uintptr_t)0xffffffffu;
  return 0;
}

DECLARE(has_children, "has_children(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->n_children = 1;
  out->children = no_children;
  return 0;
}

DECLARE(null_count_lies, "null_count_lies(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->null_count = 1; /* but there is no validity buffer */
  return 0;
}

DECLARE(no_result, "no_result(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->release = NULL;
  return 0;
}

DECLARE(offset_past_data, "offset_past_data(int32) -> utf8") {
  int64_t length = valid_result(args, args_schema, out, out_schema, "u");
  offsets[length] = 1 << 30;
  return 0;
}

DECLARE(offsets_decrease, "offsets_decrease(int32) -> utf8") {
  int64_t length = valid_result(args, args_schema, out, out_schema, "u");
  if (length >= 2) offsets[1] = 5;
  return 0;
}

DECLARE(negative_offset, "negative_offset(int32) -> utf8") {
  valid_result(args, args_schema, out, out_schema, "u");
  offsets[0] = -4;
  return 0;
}

DECLARE(bad_utf8, "bad_utf8(int32) -> utf8") {
  valid_result(args, args_schema, out, out_schema, "u");
  data[0] = (char)0xff;
  return 0;
}

DECLARE(trap_in_release, "trap_in_release(int32) -> int32") {
  valid_result(args, args_schema, out, out_schema, "i");
  out->release = trapping_release;
  return 0;
}

/* Never releases its inputs: a correct result, a lazy guest. */
DECLARE(keeps_inputs, "keeps_inputs(int32) -> int32") {
  int64_t length = args->length > 1024 ? 1024 : args->length;
  memset(out, 0, sizeof(*out));
  memset(out_schema, 0, sizeof(*out_schema));
  out_schema->format = "i";
  out_schema->name = "";
  out_schema->release = schema_release;
  for (int64_t i = 0; i < length; i++) values[i] = (int32_t)i;
  buffers[0] = NULL;
  buffers[1] = values;
  out->length = length;
  out->n_buffers = 2;
  out->buffers = buffers;
  out->release = array_release;
  return 0;
}

/* Moves its first argument out of the arguments and keeps it until the next
 * call: the input block must survive the call, and be freed later. */
static struct ArrowArray kept;
DECLARE(moves_input, "moves_input(int32) -> int32") {
  if (kept.release != NULL) kept.release(&kept);
  kept = *args->children[0];
  args->children[0]->release = NULL;
  int64_t length = args->length;
  /* The kept child still reads correctly after its parent is released. */
  args->release(args);
  args_schema->release(args_schema);
  const int32_t* in = (const int32_t*)kept.buffers[1] + kept.offset;
  memset(out, 0, sizeof(*out));
  memset(out_schema, 0, sizeof(*out_schema));
  out_schema->format = "i";
  out_schema->name = "";
  out_schema->release = schema_release;
  for (int64_t i = 0; i < length && i < 1024; i++) values[i] = in[i];
  buffers[0] = NULL;
  buffers[1] = values;
  out->length = length;
  out->n_buffers = 2;
  out->buffers = buffers;
  out->release = array_release;
  return 0;
}
