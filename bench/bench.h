/*
 * bench.h -- what the benchmarks share: a monotonic clock in microseconds,
 * the median of a set of runs, and failing loudly on a library error.
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

#endif /* WUDF_BENCH_H */
