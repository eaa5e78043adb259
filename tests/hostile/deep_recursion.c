/*
 * case: unbounded recursion that keeps its frames on the native stack (no
 * address-taken locals, so nothing on the guest's shadow stack in linear
 * memory), called on a host thread with a small (256 KiB) stack: the
 * runtime's stack check stops it before the host stack ends.
 * call: recurse
 * stack: 262144
 * expect: EFAULT
 * trap: call stack exhausted
 * message: function 'recurse': export 'wudf_fn_recurse': trap: call stack exhausted
 */
#include "hostile.h"

/* Called through a pointer the compiler cannot see through, so the
 * recursion is not turned into a loop. */
static int64_t dive(int64_t depth);
static int64_t (*volatile next)(int64_t) = dive;

static int64_t dive(int64_t depth) {
  if (depth == -1) return 0;
  return next(depth + 1) * 3 + depth;
}

WUDF_SCALAR(recurse, "recurse(int32) -> int32") {
  return (int)dive(wudf_get_int32(wudf_arg(args, 0), 0));
}
