/*
 * test_go_reactor.c -- a Go module through the engine (docs/engine.md,
 * "Tiers"): the reactor of tests/guests/go_reactor (Go's runtime, about
 * 1.9 MB of wasm, thousands of functions and some 22,000 data segments,
 * which wasm_prepare.c merges for wasm2c) loads on the fast tier, its
 * _initialize runs the Go runtime's start-up, and its exports return what
 * the same computations give in C: wrapping arithmetic, a division loop,
 * interface calls (call_indirect) and strconv/sort on Go's heap. The
 * optimised build is not made here (cc -O2 of 22 MB of C takes minutes):
 * cc is /bin/false, so the module stays on tcc's code. When Go was not
 * found at configure time the module is not built and the test says so.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static int64_t call_i32_i64(struct wudf_instance* instance, const char* name, int32_t n) {
  struct wudf_error error;
  struct wudf_value arg = i32_value(n), result;
  ASSERT_OK(wudf_instance_call_name(instance, name, &arg, 1, &result, 1, WUDF_TIMEOUT_DEFAULT,
                                    &error), &error);
  ASSERT_EQ(result.type, WUDF_I64);
  return result.of.i64;
}

static int64_t expected_gcd_sum(int32_t n) {
  int64_t sum = 0;
  for (int32_t i = 1; i < n; i++) {
    int32_t a = i, b = n - i;
    while (b != 0) {
      int32_t t = a % b;
      a = b;
      b = t;
    }
    sum += a;
  }
  return sum;
}

static int64_t expected_shapes_area(int32_t n) {
  int64_t sum = 0;
  for (int64_t i = 0; i < n; i++) sum += i % 2 == 0 ? i * i : i * (i + 1);
  return sum;
}

static int compare_strings(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static int64_t expected_digit_sum(int32_t n) {
  char** words = calloc((size_t)n + 1, sizeof(char*));
  ASSERT(words != NULL);
  for (int32_t i = 0; i < n; i++) {
    words[i] = malloc(16);
    ASSERT(words[i] != NULL);
    snprintf(words[i], 16, "%d", i);
  }
  qsort(words, (size_t)n, sizeof(char*), compare_strings);
  int64_t sum = 0;
  for (int32_t i = 0; i < n / 2; i++) {
    for (const char* c = words[i]; *c; c++) sum += *c - '0';
  }
  for (int32_t i = 0; i < n; i++) free(words[i]);
  free(words);
  char quoted[32];
  return sum + snprintf(quoted, sizeof(quoted), "\"%d\"", n);
}

TEST(go_reactor_runs_on_the_fast_tier) {
  const char* path = module_path("go_reactor");
  if (access(path, R_OK) != 0) {
    printf("  skipped: %s was not built (Go 1.24 or later was not found when the build was "
           "configured)\n", path);
    return;
  }
  char cache[4096];
  snprintf(cache, sizeof(cache), "%s/go-reactor-XXXXXX", getenv("WUDF_TEST_TMP"));
  ASSERT(mkdtemp(cache) != NULL);
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  config.fast_tier = 1;
  config.cc = "/bin/false"; /* no optimised build: see the top of the file */
  struct wudf_engine* engine = new_engine_with(&config);
  struct wudf_module* module = load_module(engine, "go_reactor");
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_FAST);
  struct wudf_instance* instance = new_instance(module); /* runs _initialize */
  ASSERT_EQ(wudf_instance_tier(instance), WUDF_TIER_FAST);

  struct wudf_value pair[2] = {i32_value(40), i32_value(2)};
  ASSERT_EQ(call_i32(instance, "add", pair, 2), 42);
  pair[0] = i32_value(INT32_MAX);
  pair[1] = i32_value(1);
  ASSERT_EQ(call_i32(instance, "add", pair, 2), INT32_MIN);
  ASSERT_EQ(call_i32_i64(instance, "gcd_sum", 1000), expected_gcd_sum(1000));
  ASSERT_EQ(call_i32_i64(instance, "gcd_sum", 1), 0);
  ASSERT_EQ(call_i32_i64(instance, "shapes_area", 1000), expected_shapes_area(1000));
  ASSERT_EQ(call_i32_i64(instance, "digit_sum", 500), expected_digit_sum(500));
  /* Again on the same instance: Go's heap and scheduler state carry over. */
  ASSERT_EQ(call_i32_i64(instance, "digit_sum", 37), expected_digit_sum(37));
  ASSERT_EQ(call_i32_i64(instance, "shapes_area", 3), expected_shapes_area(3));

  /* A second instance of the same module starts from scratch (not under
   * valgrind, where each start of Go's runtime takes half a minute). */
  if (getenv("WUDF_TEST_SLACK_MS") != NULL) {
    wudf_instance_free(instance);
    wudf_module_free(module);
    wudf_engine_free(engine);
    return;
  }
  struct wudf_instance* second = new_instance(module);
  ASSERT_EQ(call_i32_i64(second, "gcd_sum", 777), expected_gcd_sum(777));
  wudf_instance_free(second);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_free(engine);
}

int main(void) {
  RUN_TEST(go_reactor_runs_on_the_fast_tier);
  return TEST_SUMMARY();
}
