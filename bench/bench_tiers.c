/*
 * bench_tiers.c -- cold start against code speed, per compiler: the first
 * load of a module (validate + wasm2c + compile + dlopen, into an empty
 * cache) and, when the module exports gcd_sum (examples/engine/gcd.c), the
 * time of a compute-bound call, for one compiler configuration per run:
 *
 *   bench_tiers gcc-O2|gcc-O0|clang-O0|tcc|tcc-only MODULE.wasm [EXPORT]
 *
 * EXPORT (default gcd_sum) takes an i32 n and returns an i64: gcd_sum of
 * examples/engine/gcd.c (division-bound), alu_sum of bench/guests/alu.c
 * (shifts, multiplies, loads and stores).
 *
 * gcc-O2 is the engine's default; gcc-O0 and clang-O0 append -O0 -lm to the
 * flags (the last -O wins; unoptimised code calls libm); tcc is the fast tier (fast_tier = 1), whose
 * optimised build then finishes in the background: the run also reports when
 * it was ready and the speed of a new instance on it (the first instance's
 * calls move to the optimised code as soon as it is ready, so its time mixes
 * both); tcc-only has no optimised build (cc is /bin/false), so its calls
 * measure tcc's code alone. Prints one line:
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

/* The compute export: argv[3], or gcd_sum. */
static const char* compute_export = "gcd_sum";

/* Median of 5 calls of the compute export with n = SUM_N (gcd_sum) or
 * 50 * SUM_N (others) on a new instance of `module`, in ms, or -1 when the
 * module has no such export. Sets `*tier` to the instance's tier. */
static double gcd_sum_ms(struct wudf_module* module, int* tier, int64_t* sum) {
  struct wudf_error error;
  uint32_t index;
  if (wudf_module_find_export(module, compute_export, &index, NULL) != 0) return -1;
  struct wudf_instance* instance;
  check(wudf_instance_new(module, NULL, &instance, &error), &error);
  *tier = wudf_instance_tier(instance);
  int32_t count = strcmp(compute_export, "gcd_sum") == 0 ? SUM_N : 50 * SUM_N;
  struct wudf_value n = {.type = WUDF_I32, .of.i32 = count}, result;
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
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: bench_tiers gcc-O2|gcc-O0|clang-O0|tcc|tcc-only MODULE.wasm "
            "[EXPORT]\n");
    return 2;
  }
  if (argc == 4) compute_export = argv[3];
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
  } else if (strcmp(mode, "tcc-only") == 0) {
    config.cc = "/bin/false"; /* no optimised build: the calls stay on tcc's code */
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
  if (config.fast_tier && strcmp(mode, "tcc") == 0) {
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
      fprintf(stderr, "\nbench_tiers: %s differs between tiers\n", compute_export);
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
