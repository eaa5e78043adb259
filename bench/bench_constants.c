/*
 * bench_constants.c -- what a constant argument costs (docs/engine.md,
 * "Constant arguments"): gcd(constant, column) through
 * wudf_function_call_args against gcd(column, column) through
 * wudf_function_call with the constant already materialised by the
 * caller (not timed), at several row counts. The difference is the
 * library's broadcast of the constant. Median of 9 calls each.
 *
 *   bench_constants example_gcd.wasm
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

static void no_release(struct ArrowArray* array) { array->release = NULL; }
static void no_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bench_constants GCD_WASM\n");
    return 2;
  }
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  check(wudf_engine_new(NULL, &engine, &error), &error);
  struct wudf_module* module = NULL;
  check(wudf_module_load_file(engine, argv[1], &module, &error), &error);
  wait_optimized(module, argv[1]);
  struct wudf_instance* instance = NULL;
  check(wudf_instance_new(module, NULL, &instance, &error), &error);
  struct ArrowSchema int32 = {"i", "", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL,
                              no_schema_release, NULL};
  static const int64_t sizes[] = {1000, 100000, 1000000};
  printf("%10s %16s %16s %12s\n", "rows", "columns (ms)", "constant (ms)", "difference");
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    int64_t rows = sizes[s];
    int32_t* values = malloc((size_t)rows * sizeof(int32_t));
    int32_t* twelves = malloc((size_t)rows * sizeof(int32_t));
    for (int64_t r = 0; r < rows; r++) {
      values[r] = (int32_t)(r * 7 + 1);
      twelves[r] = 12;
    }
    const void* value_buffers[2] = {NULL, values};
    const void* twelve_buffers[2] = {NULL, twelves};
    struct ArrowArray column = {rows, 0, 0, 2, 0, value_buffers, NULL, NULL, no_release, NULL};
    struct ArrowArray materialised = {rows, 0, 0, 2, 0, twelve_buffers, NULL, NULL, no_release,
                                      NULL};
    struct ArrowArray constant = {1, 0, 0, 2, 0, twelve_buffers, NULL, NULL, no_release, NULL};
    double column_ms[9], constant_ms[9];
    for (int i = 0; i < 9; i++) {
      const struct ArrowArray* arrays[2] = {&materialised, &column};
      const struct ArrowSchema* schemas[2] = {&int32, &int32};
      struct ArrowArray out;
      struct ArrowSchema out_schema;
      double start = now_us();
      check(wudf_function_call(instance, 0, 2, arrays, schemas, NULL, &out, &out_schema,
                               &error), &error);
      column_ms[i] = (now_us() - start) / 1e3;
      out.release(&out);
      out_schema.release(&out_schema);
      struct wudf_argument args[2] = {{&constant, &int32, WUDF_ARGUMENT_CONSTANT, 0},
                                      {&column, &int32, 0, 0}};
      start = now_us();
      check(wudf_function_call_args(instance, 0, 2, args, rows, NULL, &out, &out_schema,
                                    &error), &error);
      constant_ms[i] = (now_us() - start) / 1e3;
      out.release(&out);
      out_schema.release(&out_schema);
    }
    double a = median(column_ms, 9), b = median(constant_ms, 9);
    printf("%10lld %16.3f %16.3f %+11.1f%%\n", (long long)rows, a, b, (b - a) / a * 100.0);
    free(values);
    free(twelves);
  }
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_free(engine);
  return 0;
}
