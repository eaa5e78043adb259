/*
 * case: grows linear memory page by page past the instance's memory limit
 * and traps when memory.grow fails: out of memory, not the trap.
 * call: grow
 * config: memory_limit=4194304
 * trap: out of memory
 * expect: EFAULT
 * message: function 'grow': export 'wudf_fn_grow': trap: out of memory: memory.grow by 1 pages needs 65536 bytes, over the instance's memory_limit of 4194304 bytes (it holds 4128768 bytes of linear memory and 288 of tables) (the guest then gave up: unreachable)
 */
#include "hostile.h"

WUDF_SCALAR(grow, "grow(int32) -> int32") {
  for (;;) {
    if (__builtin_wasm_memory_grow(0, 1) == (__SIZE_TYPE__)-1) __builtin_trap();
  }
  return 0;
}
