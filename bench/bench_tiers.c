/*
 * bench_tiers.c -- cold start against code speed, per compiler: the first
 * load of a module (validate + wasm2c + compile + dlopen, into an empty
 * cache) and, when the module exports gcd_sum (examples/engine/gcd.c), the
 * time of a compute-bound call, for one compiler configuration per run:
 *
 *   bench_tiers gcc-O2|gcc-O0|clang-O0|tcc MODULE.wasm
 *
 * gcc-O2 is the engine's default; gcc-O0 and clang-O0 append -O0 -lm to the
 * flags (the last -O wins; unoptimised code calls libm); tcc is the fast tier (fast_tier = 1), whose
 * optimised build then finishes in the background: the run also reports when
 * it was ready and the speed of a new instance on it. Prints one line:
 * compiler, module, first-load ms, call ms (median of 5), and for tcc the
 * background build's ms and the optimised call ms. Not a test; asserts
 * nothing but the results' agreement.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "wasmudf/wasmudf.h"

enum { SUM_N = 2000000, RUNS = 5 };

/* Median of 5 gcd_sum(SUM_N) calls on a new instance of `module`, in ms, or
 * -1 when the module has no gcd_sum. Sets `*tier` to the instance's tier. */
static double gcd_sum_ms(struct wudf_module* module, int* tier, int64_t* sum) {
  struct wudf_error error;
  uint32_t index;
  if (wudf_module_find_export(module, "gcd_sum", &index, NULL) != 0) return -1;
  struct wudf_instance* instance;
  check(wudf_instance_new(module, NULL, &instance, &error), &error);
  *tier = wudf_instance_tier(instance);
  struct wudf_value n = {.type = WUDF_I32, .of.i32 = SUM_N}, result;
  double ms[RUNS];
  for (int i = 0; i < RUNS; i++) {
    double start = now_us();
    check(wudf_instance_call(instance, index, &n, 1, &result, 1, 0, &error), &error);
    ms[i] = (now_us() - start) / 1000;
  }
  *sum = result.of.i64;
  wudf_instance_free(instance);
  return median(ms, RUNS);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_tiers gcc-O2|gcc-O0|clang-O0|tcc MODULE.wasm\n");
    return 2;
  }
  const char* mode = argv[1];
  char cache[] = "/tmp/wudf-bench-tiers-XXXXXX";
  if (mkdtemp(cache) == NULL) return 1;
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  config.timeout_ms = 0;
  config.compile_timeout_ms = 0;
  config.compile_cpu_seconds = 0;
  config.compile_memory_limit = 0;
  if (strcmp(mode, "gcc-O2") == 0) {
    config.cc = "gcc";
  } else if (strcmp(mode, "gcc-O0") == 0) {
    config.cc = "gcc";
    config.cflags = "-O0 -lm"; /* at -O0 gcc calls libm's ceil, floor, ... */
  } else if (strcmp(mode, "clang-O0") == 0) {
    config.cc = "clang";
    config.cflags = "-O0 -lm";
  } else if (strcmp(mode, "tcc") == 0) {
    config.cc = "gcc";
    config.fast_tier = 1;
  } else {
    fprintf(stderr, "bench_tiers: unknown compiler %s\n", mode);
    return 2;
  }
  struct wudf_error error;
  struct wudf_engine* engine;
  check(wudf_engine_new(&config, &engine, &error), &error);
  struct wudf_module* module;
  double start = now_us();
  check(wudf_module_load_file(engine, argv[2], &module, &error), &error);
  double load_ms = (now_us() - start) / 1000;
  int tier = 0;
  int64_t sum = 0, optimized_sum = 0;
  double call_ms = gcd_sum_ms(module, &tier, &sum);
  printf("%-9s %-40s first load %9.1f ms  call %8.1f ms (tier %d)", mode, argv[2], load_ms,
         call_ms, tier);
  if (config.fast_tier) {
    while (wudf_module_tier(module) != WUDF_TIER_OPTIMIZED) {
      struct wudf_engine_stats stats;
      wudf_engine_stats(engine, &stats);
      if (stats.optimized_failures != 0) {
        fprintf(stderr, "bench_tiers: the optimised build failed\n");
        return 1;
      }
      usleep(10000);
    }
    double ready_ms = (now_us() - start) / 1000;
    double optimized_ms = gcd_sum_ms(module, &tier, &optimized_sum);
    printf("  optimised ready %9.1f ms  call %8.1f ms (tier %d)", ready_ms, optimized_ms,
           tier);
    if (optimized_ms >= 0 && optimized_sum != sum) {
      fprintf(stderr, "\nbench_tiers: gcd_sum differs between tiers\n");
      return 1;
    }
  }
  printf("\n");
  wudf_module_free(module);
  wudf_engine_free(engine);
  char command[128];
  snprintf(command, sizeof(command), "rm -rf '%s'", cache);
  return system(command) == 0 ? 0 : 1;
}
