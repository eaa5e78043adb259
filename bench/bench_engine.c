/*
 * bench_engine.c -- what the engine costs, measured: the first load of a
 * module (validate + wasm2c + cc + dlopen), a load from the on-disk cache,
 * instantiation, a trivial call (the fixed overhead of crossing into the
 * sandbox and back, with and without a deadline), and a compute-bound export
 * against the same C source compiled natively into this program.
 *
 *   bench_engine GCD.wasm   (examples/engine/gcd.c built for wasm32-wasi)
 *
 * Each number is the median of several runs. Not a test: it asserts nothing
 * and is not run by `make check`; `make bench` runs it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "wasmudf/wasmudf.h"

/* examples/engine/gcd.c, compiled natively. */
int32_t gcd(int32_t a, int32_t b);
int64_t gcd_sum(int32_t n);

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bench_engine GCD.wasm\n");
    return 2;
  }
  char cache[] = "/tmp/wudf-bench-cache-XXXXXX";
  if (mkdtemp(cache) == NULL) return 1;
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  struct wudf_error error;
  struct wudf_engine* engine;
  struct wudf_module* module;
  struct wudf_instance* instance;
  enum { COMPILES = 5, LOADS = 50, INSTANCES = 200, CALLS = 1000000 };
  double compile_ms[COMPILES], load_us[LOADS], instantiate_us[INSTANCES];
  char command[200];

  for (int i = 0; i < COMPILES; i++) {
    snprintf(command, sizeof(command), "rm -rf '%s'/v1", cache);
    if (system(command) != 0) return 1;
    check(wudf_engine_new(&config, &engine, &error), &error);
    double start = now_us();
    check(wudf_module_load_file(engine, argv[1], &module, &error), &error);
    compile_ms[i] = (now_us() - start) / 1000;
    wudf_module_free(module);
    wudf_engine_free(engine);
  }
  check(wudf_engine_new(&config, &engine, &error), &error);
  for (int i = 0; i < LOADS; i++) {
    /* The previous module was freed and dlclosed: this is a real load. */
    double start = now_us();
    check(wudf_module_load_file(engine, argv[1], &module, &error), &error);
    check(wudf_instance_new(module, NULL, &instance, &error), &error);
    load_us[i] = now_us() - start;
    wudf_instance_free(instance);
    wudf_module_free(module);
  }
  check(wudf_module_load_file(engine, argv[1], &module, &error), &error);
  wait_optimized(module, argv[1]);
  for (int i = 0; i < INSTANCES; i++) {
    double start = now_us();
    check(wudf_instance_new(module, NULL, &instance, &error), &error);
    instantiate_us[i] = now_us() - start;
    wudf_instance_free(instance);
  }
  check(wudf_instance_new(module, NULL, &instance, &error), &error);
  uint32_t index;
  check(wudf_module_find_export(module, "gcd", &index, &error), &error);
  struct wudf_value args[2] = {{.type = WUDF_I32, .of.i32 = 12}, {.type = WUDF_I32, .of.i32 = 18}};
  struct wudf_value result;
  double call_ns[2];
  const uint64_t deadlines[2] = {WUDF_TIMEOUT_DEFAULT, 0};
  for (int d = 0; d < 2; d++) {
    double start = now_us();
    for (int i = 0; i < CALLS; i++) {
      check(wudf_instance_call(instance, index, args, 2, &result, 1, deadlines[d], &error),
            &error);
    }
    call_ns[d] = (now_us() - start) * 1000 / CALLS;
  }

  /* Compute-bound: gcd_sum(N) in the sandbox and natively, same source. */
  enum { SUM_N = 2000000, SUM_RUNS = 5 };
  double wasm_ms[SUM_RUNS], native_ms[SUM_RUNS];
  check(wudf_module_find_export(module, "gcd_sum", &index, &error), &error);
  struct wudf_value n = {.type = WUDF_I32, .of.i32 = SUM_N};
  int64_t wasm_sum = 0, native_sum = 0;
  for (int i = 0; i < SUM_RUNS; i++) {
    double start = now_us();
    check(wudf_instance_call(instance, index, &n, 1, &result, 1, 0, &error), &error);
    wasm_ms[i] = (now_us() - start) / 1000;
    wasm_sum = result.of.i64;
    start = now_us();
    native_sum = gcd_sum(SUM_N);
    native_ms[i] = (now_us() - start) / 1000;
  }
  if (wasm_sum != native_sum) {
    fprintf(stderr, "bench_engine: gcd_sum differs: wasm %lld, native %lld\n",
            (long long)wasm_sum, (long long)native_sum);
    return 1;
  }
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_free(engine);
  snprintf(command, sizeof(command), "rm -rf '%s'", cache);
  if (system(command) != 0) return 1;

  printf("module: %s\n", argv[1]);
  printf("first load (validate, wasm2c, cc, dlopen), median of %d: %8.1f ms\n", COMPILES,
         median(compile_ms, COMPILES));
  printf("cached load + instantiate, median of %d:             %8.1f us\n", LOADS,
         median(load_us, LOADS));
  printf("instantiate alone, median of %d:                    %8.1f us\n", INSTANCES,
         median(instantiate_us, INSTANCES));
  printf("call of gcd(12, 18) with a deadline, mean of %d:    %8.1f ns\n", CALLS, call_ns[0]);
  printf("call of gcd(12, 18), no deadline, mean of %d:      %8.1f ns\n", CALLS, call_ns[1]);
  double wasm = median(wasm_ms, SUM_RUNS), native = median(native_ms, SUM_RUNS);
  printf("gcd_sum(%d), median of %d: wasm %.1f ms, native C %.1f ms, ratio %.2fx\n", SUM_N,
         SUM_RUNS, wasm, native, wasm / native);
  return 0;
}
