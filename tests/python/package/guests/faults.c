/*
 * faults.c -- test guest of the Python package's error classes: a function
 * that never returns (a deadline stops it), one that traps, one that faults
 * on memory, one that calls proc_exit, and one that reports an error for
 * negative input.
 */
#include <stdlib.h>

#include <wasmudf/guest.h>

WUDF_SCALAR(spin, "spin(int32) -> int32") {
  volatile int32_t sink = 0;
  for (;;) sink++;
  return 0;
}

WUDF_SCALAR(crash, "crash(int32) -> int32") {
  __builtin_trap();
  return 0;
}

/* Reads far outside linear memory: a hardware fault (SIGSEGV) that the
 * runtime's signal handler turns into a trap. */
WUDF_SCALAR(segv, "segv(int32) -> int32") {
  volatile int32_t* far = (volatile int32_t*)(uintptr_t)0xfffffff0u;
  wudf_set_int32(out, 0, *far);
  return 0;
}

WUDF_SCALAR(quit, "quit(int32) -> int32") {
  exit(3);
  return 0;
}

WUDF_SCALAR(positive, "positive(int32) -> int32") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    int32_t value = wudf_get_int32(in, row);
    if (value < 0) return wudf_error("positive: row %lld is %d", (long long)row, value);
    wudf_set_int32(out, row, value);
  }
  return 0;
}
