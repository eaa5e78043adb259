/*
 * case: unbounded recursion whose frames live on the guest's shadow stack
 * in linear memory (address-taken locals): the stack runs below the start
 * of linear memory and the guest traps on the out-of-bounds access.
 * call: recurse_in_memory
 * expect: EFAULT
 * trap: out of bounds memory access
 * message: function 'recurse_in_memory': export 'wudf_fn_recurse_in_memory': trap: out of bounds memory access
 */
#include "hostile.h"

/* Recurses until `depth` reaches `limit` (never, for the limit given). */
static int64_t dive(int64_t depth, int64_t limit) {
  volatile char frame[256];
  frame[depth % 256] = (char)depth;
  if (depth == limit) return frame[0];
  return dive(depth + 1, limit) + frame[depth % 256];
}

WUDF_SCALAR(recurse_in_memory, "recurse_in_memory(int32) -> int32") {
  return (int)dive(wudf_get_int32(wudf_arg(args, 0), 0), -1);
}
