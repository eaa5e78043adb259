/*
 * bench.h -- what the benchmarks share: a monotonic clock in microseconds,
 * the median of a set of runs, failing loudly on a library error, and
 * waiting for a module's optimised code before timing its calls.
 */
#ifndef WUDF_BENCH_H
#define WUDF_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wasmudf/wasmudf.h"

static inline double now_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1e6 + (double)now.tv_nsec / 1e3;
}

static inline int bench_compare(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Sorts `values` and returns their median. */
static inline double median(double* values, int count) {
  qsort(values, (size_t)count, sizeof(double), bench_compare);
  return values[count / 2];
}

/* Ends the program with the error's message when `status` is not 0. */
static inline void check(int status, const struct wudf_error* error) {
  if (status != 0) {
    fprintf(stderr, "bench: %s\n", error->message);
    exit(1);
  }
}

/* Waits for the optimised code of `module` (`what` names it): with the
 * engine's fast tier (the default) a first load runs calls on tcc's code
 * while cc -O2 builds in the background, and timing calls then would time
 * tcc's code and a compiler competing for the cores. Ends the program when
 * the optimised code does not come. */
static inline void wait_optimized(struct wudf_module* module, const char* what) {
  int tier = wudf_module_wait_tier(module, 0);
  if (tier != WUDF_TIER_OPTIMIZED) {
    fprintf(stderr, "bench: %s: no optimised code (tier %d); not timing another tier's\n",
            what, tier);
    exit(1);
  }
}

#endif /* WUDF_BENCH_H */
