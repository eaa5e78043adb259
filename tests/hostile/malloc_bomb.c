/*
 * case: allocates until malloc fails, then aborts (as most guests do on a
 * failed allocation): reported as running out of memory, not as the abort.
 * call: bomb
 * config: memory_limit=16777216
 * trap: out of memory
 * expect: EFAULT
 * message: function 'bomb': export 'wudf_fn_bomb': trap: out of memory: memory.grow by 17 pages to 259 pages, over the instance's memory_limit of 16777216 bytes (256 pages) (the guest then gave up: unreachable)
 */
#include <stdlib.h>

#include "hostile.h"

/* Where the blocks go, so that the compiler cannot drop the allocations. */
static char* volatile last_block;

WUDF_SCALAR(bomb, "bomb(int32) -> int32") {
  for (;;) {
    char* block = malloc(1 << 20);
    if (block == NULL) abort();
    block[0] = 1;
    last_block = block;
  }
  return 0;
}
