/*
 * case: a correct result (on the raw ABI) whose release callback traps when
 * the host releases it after copying.
 * call: trap_release
 * trap: unreachable executed
 * expect: EFAULT
 * message: function 'trap_release': export 'wudf_release_array': trap: unreachable executed
 */
#include "hostile.h"

static int32_t values[1024];
static const void* buffers[2];

static void schema_release(struct ArrowSchema* schema) { schema->release = NULL; }
static void trapping_release(struct ArrowArray* array) { __builtin_trap(); }

WUDF__METADATA("scalar", "trap_release(int32) -> int32")
__attribute__((export_name("wudf_fn_trap_release"))) int32_t trap_release(
    struct ArrowArray* args, struct ArrowSchema* args_schema, struct ArrowArray* out,
    struct ArrowSchema* out_schema) {
  int64_t length = args->length > 1024 ? 1024 : args->length;
  args->release(args);
  args_schema->release(args_schema);
  memset(out, 0, sizeof(*out));
  memset(out_schema, 0, sizeof(*out_schema));
  out_schema->format = "i";
  out_schema->name = "";
  out_schema->release = schema_release;
  for (int64_t i = 0; i < length; i++) values[i] = (int32_t)i;
  buffers[1] = values;
  out->length = length;
  out->n_buffers = 2;
  out->buffers = buffers;
  out->release = trapping_release;
  return 0;
}
