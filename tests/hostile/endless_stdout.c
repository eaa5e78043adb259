/*
 * case: writes to stdout forever; the captured output stays within the
 * instance's output limit and the deadline stops the writer.
 * call: chatter
 * config: timeout_ms=200 output_limit=4096
 * expect: ETIMEDOUT
 * output_at_most: 4096
 * message: function 'chatter': export 'wudf_fn_chatter': timeout: the call ran longer than its limit of 200 ms
 */
#include <stdio.h>

#include "hostile.h"

WUDF_SCALAR(chatter, "chatter(int32) -> int32") {
  for (;;) {
    fputs("all work and no play makes jack a dull boy\n", stdout);
    fflush(stdout);
  }
  return 0;
}
