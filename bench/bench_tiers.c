/*
 * bench_tiers.c -- cold start against code speed, per compiler: the first
 * load of a module (validate + wasm2c + compile + dlopen, into an empty
 * cache) and, when the module exports the compute function, the time of a
 * compute-bound call, for one compiler configuration per run:
 *
 *   bench_tiers MODE MODULE.wasm [EXPORT]
 *
 * EXPORT (default gcd_sum) takes an i32 n and returns an i64: gcd_sum of
 * examples/engine/gcd.c (division-bound), alu_sum of bench/guests/alu.c
 * (shifts, multiplies, loads and stores). Both are linked into this program
 * too, compiled natively: their native time is printed as the baseline.
 *
 * MODE:
 *   gcc-O2    fast tier off: every load is wasm2c + gcc -O2 (what a load
 *             cost before the tiers)
 *   gcc-O0, clang-O0   fast tier off, -O0 appended to the flags
 *   tcc       the default: the fast tier (tcc), then gcc -O2 in the
 *             background; also reports when the optimised code was ready
 *             (wudf_module_wait_tier) and its call time on a new instance
 *   tcc-only  the fast tier with no optimised build (cc is /bin/false): the
 *             first load exactly as the default makes it (the background
 *             build starts after the load returns), and tcc's code alone;
 *             what bench_cold.py repeats against wasmtime
 *   cc-O0     the default without tcc (fast_cc missing): the fast tier is
 *             gcc -O0, then gcc -O2 in the background
 *
 * Prints one line: mode, module, first-load ms, call ms (median of 5) and,
 * for tcc and cc-O0, the optimised build's ready time and call ms, then the
 * native call ms. Not a test; asserts nothing but the results' agreement.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "wasmudf/wasmudf.h"

/* examples/engine/gcd.c and bench/guests/alu.c, compiled natively. */
int64_t gcd_sum(int32_t n);
int64_t alu_sum(int32_t n);

enum { SUM_N = 2000000, RUNS = 5 };

/* The compute export: argv[3], or gcd_sum. */
static const char* compute_export = "gcd_sum";

static int32_t compute_n(void) {
  return strcmp(compute_export, "gcd_sum") == 0 ? SUM_N : 50 * SUM_N;
}

/* Median of 5 calls of the compute export on a new instance of `module`, in
 * ms, or -1 when the module has no such export. Sets `*tier` to the
 * instance's tier. */
static double compute_ms(struct wudf_module* module, int* tier, int64_t* sum) {
  struct wudf_error error;
  uint32_t index;
  if (wudf_module_find_export(module, compute_export, &index, NULL) != 0) return -1;
  struct wudf_instance* instance;
  check(wudf_instance_new(module, NULL, &instance, &error), &error);
  *tier = wudf_instance_tier(instance);
  struct wudf_value n = {.type = WUDF_I32, .of.i32 = compute_n()}, result;
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

/* Median of 5 native calls of the compute function, in ms (-1: none). */
static double native_ms(void) {
  int64_t (*function)(int32_t) = NULL;
  if (strcmp(compute_export, "gcd_sum") == 0) function = gcd_sum;
  if (strcmp(compute_export, "alu_sum") == 0) function = alu_sum;
  if (function == NULL) return -1;
  double ms[RUNS];
  volatile int64_t sink = 0;
  for (int i = 0; i < RUNS; i++) {
    double start = now_us();
    sink += function(compute_n());
    ms[i] = (now_us() - start) / 1000;
  }
  (void)sink;
  return median(ms, RUNS);
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: bench_tiers gcc-O2|gcc-O0|clang-O0|tcc|tcc-only|cc-O0 "
            "MODULE.wasm [EXPORT]\n");
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
  config.cc = "gcc";
  config.fast_tier = 0;
  if (strcmp(mode, "gcc-O2") == 0) {
  } else if (strcmp(mode, "gcc-O0") == 0) {
    config.cflags = "-O0";
  } else if (strcmp(mode, "clang-O0") == 0) {
    config.cc = "clang";
    config.cflags = "-O0";
  } else if (strcmp(mode, "tcc") == 0) {
    config.fast_tier = 1;
  } else if (strcmp(mode, "tcc-only") == 0) {
    config.cc = "/bin/false"; /* no optimised build: the calls stay on tcc's code */
    config.fast_tier = 1;
  } else if (strcmp(mode, "cc-O0") == 0) {
    config.fast_tier = 1;
    config.fast_cc = "/nonexistent/tcc";
  } else {
    fprintf(stderr, "bench_tiers: unknown mode %s\n", mode);
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
  double call_ms = compute_ms(module, &tier, &sum);
  printf("%-9s %-44s first load %9.1f ms", mode, argv[2], load_ms);
  if (call_ms >= 0) printf("  call %8.1f ms (tier %d)", call_ms, tier);
  if (strcmp(mode, "tcc") == 0 || strcmp(mode, "cc-O0") == 0) {
    if (wudf_module_wait_tier(module, 0) != WUDF_TIER_OPTIMIZED) {
      fprintf(stderr, "\nbench_tiers: the optimised build failed\n");
      return 1;
    }
    double ready_ms = (now_us() - start) / 1000;
    double optimized_ms = compute_ms(module, &tier, &optimized_sum);
    printf("  optimised ready %9.1f ms", ready_ms);
    if (optimized_ms >= 0) printf("  call %8.1f ms (tier %d)", optimized_ms, tier);
    if (optimized_ms >= 0 && optimized_sum != sum) {
      fprintf(stderr, "\nbench_tiers: %s differs between tiers\n", compute_export);
      return 1;
    }
  }
  double native = call_ms >= 0 ? native_ms() : -1;
  if (native >= 0) printf("  native %8.1f ms", native);
  printf("\n");
  wudf_module_free(module);
  wudf_engine_free(engine);
  char command[128];
  snprintf(command, sizeof(command), "rm -rf '%s'", cache);
  return system(command) == 0 ? 0 : 1;
}
