/*
 * stress.c -- test guest of test_stress: a function that works (and whose
 * results the test checks), and one each that faults on memory, traps,
 * runs forever in guest code, and runs forever in host calls (WASI), so
 * that calls fail at random in every way while others succeed.
 */
#include <time.h>

#include <wasmudf/guest.h>

WUDF_SCALAR(work, "work(int32) -> int32") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int32(out, row, wudf_get_int32(in, row) * 2 + 1);
  }
  return 0;
}

/* Reads far outside linear memory: a fault the signal handler turns into
 * a trap. */
WUDF_SCALAR(fault, "fault(int32) -> int32") {
  volatile int32_t* far = (volatile int32_t*)(uintptr_t)0xfffffff0u;
  wudf_set_int32(out, 0, *far);
  return 0;
}

WUDF_SCALAR(halt, "halt(int32) -> int32") {
  __builtin_trap();
  return 0;
}

WUDF_SCALAR(spin, "spin(int32) -> int32") {
  volatile int64_t turns = 0;
  for (;;) turns++;
  return 0;
}

/* Forever in host calls: the deadline stops it when a host call returns. */
WUDF_SCALAR(sleepy, "sleepy(int32) -> int32") {
  struct timespec now;
  for (;;) clock_gettime(CLOCK_MONOTONIC, &now);
  return 0;
}
