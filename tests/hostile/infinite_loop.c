/*
 * case: a scalar function that never returns; the call's deadline stops it.
 * call: spin
 * config: timeout_ms=100
 * trap: timeout
 * expect: ETIMEDOUT
 * message: function 'spin': export 'wudf_fn_spin': timeout: the call ran longer than its limit of 100 ms
 */
#include "hostile.h"

WUDF_SCALAR(spin, "spin(int32) -> int32") {
  volatile int64_t turns = 0;
  for (;;) turns++;
  return 0;
}
