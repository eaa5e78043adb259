/*
 * hostile.h -- what every case of the hostile-guest corpus shares: `ok`, a
 * well-behaved function that the runner (tests/test_hostile.c) calls on a
 * fresh instance after the hostile call, to show that the module, the
 * engine and the process are still fine.
 */
#ifndef WUDF_TEST_HOSTILE_H
#define WUDF_TEST_HOSTILE_H

#include <wasmudf/guest.h>

WUDF_SCALAR(ok, "ok(int32) -> int32") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int32(out, row, wudf_get_int32(in, row));
  }
  return 0;
}

#endif /* WUDF_TEST_HOSTILE_H */
