/*
 * scribble.c -- test guest of test_percall: functions that leave state
 * behind in the guest (a counter in linear memory, memory the guest never
 * frees), one that traps, and the work of the pool threads, so that tests
 * can tell a reused instance from a reset one.
 */
#include <stdlib.h>

#include <wasmudf/guest.h>

static int64_t calls;
static char* volatile last_leak; /* keeps the compiler from eliding the leak */

/* The number of calls of this function on the instance so far, this one
 * included, in every row. */
WUDF_SCALAR(calls, "calls(int32) -> int64") {
  calls++;
  for (int64_t row = 0; row < args->length; row++) wudf_set_int64(out, row, calls);
  return 0;
}

/* Leaks `x` KiB of guest memory per row (memory grows), returns x. */
WUDF_SCALAR(leak, "leak(int32) -> int32") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    int32_t x = wudf_get_int32(in, row);
    last_leak = malloc((size_t)x * 1024);
    if (last_leak != NULL) last_leak[0] = 1;
    wudf_set_int32(out, row, x);
  }
  return 0;
}

WUDF_SCALAR(halt, "halt(int32) -> int32") {
  calls += 1000;
  __builtin_trap();
  return 0;
}

/* x * 3 - 1, over any rows (CALLED ON NULL INPUT: nulls stay null). */
WUDF_SCALAR(work, "work(int32) -> int32 CALLED ON NULL INPUT") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(in, row)) {
      wudf_set_null(out, row);
    } else {
      wudf_set_int32(out, row, wudf_get_int32(in, row) * 3 - 1);
    }
  }
  return 0;
}

/* Strict: rows with a null argument are null and never reach the guest. */
WUDF_SCALAR(add, "add(int32, int64) -> int64") {
  const wudf_input* a = wudf_arg(args, 0);
  const wudf_input* b = wudf_arg(args, 1);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_int64(out, row, wudf_get_int32(a, row) + wudf_get_int64(b, row));
  }
  return 0;
}
