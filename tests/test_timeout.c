/*
 * test_timeout.c -- deadlines: an infinite loop is stopped within its deadline
 * plus a few milliseconds and reported as a timeout; the calling thread
 * carries on; per-call overrides beat the instance default; a deadline that
 * expires while the guest is in host code (WASI) is delivered when the host
 * code returns; and calls that finish in time are not disturbed.
 */
#include <errno.h>
#include <time.h>

#include "helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* traps;

static double now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

/* Runs `name` with deadline `timeout_ms` and returns how long it took. */
static double timed_out_after(struct wudf_instance* instance, const char* name,
                              uint64_t timeout_ms) {
  struct wudf_error error;
  double start = now_ms();
  int status = wudf_instance_call_name(instance, name, NULL, 0, NULL, 0,
                                       timeout_ms, &error);
  double elapsed = now_ms() - start;
  ASSERT_STATUS(status, ETIMEDOUT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_TIMEOUT);
  char expected[64];
  snprintf(expected, sizeof(expected), "limit of %llu ms", (unsigned long long)timeout_ms);
  ASSERT_CONTAINS(error.message, expected);
  return elapsed;
}

TEST(infinite_loop_stops_near_deadline) {
  uint64_t deadlines[] = {20, 100, 250};
  for (size_t i = 0; i < 3; i++) {
    /* One untimed stop first, on an instance of its own (a timeout
     * breaks its instance): the first run of the code and of the watchdog
     * costs seconds under valgrind (translation), not the deadline's
     * latency this test measures. */
    struct wudf_instance* warm = new_instance(traps);
    timed_out_after(warm, "spin", 1);
    wudf_instance_free(warm);
    struct wudf_instance* instance = new_instance(traps);
    double elapsed = timed_out_after(instance, "spin", deadlines[i]);
    printf("  deadline %llu ms: stopped after %.2f ms\n",
           (unsigned long long)deadlines[i], elapsed);
    ASSERT_GE(elapsed, (double)deadlines[i] - 1.0);
    wudf_instance_free(instance);
    /* "within the deadline plus a few milliseconds" */
    ASSERT_LE(elapsed, (double)deadlines[i] + timing_slack_ms());
  }
}

TEST(instance_default_and_per_call_override) {
  struct wudf_instance_config config;
  wudf_instance_config_init(engine, &config);
  config.timeout_ms = 30;
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  ASSERT_OK(wudf_instance_new(traps, &config, &instance, &error), &error);
  double start = now_ms();
  ASSERT_STATUS(wudf_instance_call_name(instance, "spin", NULL, 0, NULL, 0,
                                        WUDF_TIMEOUT_DEFAULT, &error),
                ETIMEDOUT, &error);
  ASSERT_CONTAINS(error.message, "limit of 30 ms");
  double elapsed = now_ms() - start;
  wudf_instance_free(instance);
  ASSERT_LT(elapsed, 30.0 + timing_slack_ms());

  /* A per-call deadline of 0 means none: a long but finite loop completes
   * under an instance default that would have stopped it. */
  config.timeout_ms = 1;
  ASSERT_OK(wudf_instance_new(traps, &config, &instance, &error), &error);
  struct wudf_value from = i32_value(-100000000);
  struct wudf_value result;
  ASSERT_OK(wudf_instance_call_name(instance, "spin_counting", &from, 1, &result, 1,
                                    0, &error), &error);
  ASSERT_EQ(result.of.i32, 0);
  wudf_instance_free(instance);
}

TEST(thread_carries_on_and_fresh_instance_works) {
  for (int round = 0; round < 5; round++) {
    struct wudf_instance* instance = new_instance(traps);
    timed_out_after(instance, "spin", 10);
    wudf_instance_free(instance);
    instance = new_instance(traps);
    struct wudf_value args[2] = {i32_value(round), i32_value(1)};
    ASSERT_EQ(call_i32(instance, "add", args, 2), round + 1);
    wudf_instance_free(instance);
  }
}

TEST(deadline_inside_host_code) {
  struct wudf_module* guest = load_module(engine, "wasi_guest");
  struct wudf_instance* instance = new_instance(guest);
  double elapsed = timed_out_after(instance, "print_forever", 50);
  printf("  deadline 50 ms inside host code: stopped after %.2f ms\n", elapsed);
  size_t size;
  const char* output = wudf_instance_output(instance, &size, NULL);
  int printed = size >= 5 && memcmp(output, "tick\n", 5) == 0;
  wudf_instance_free(instance);
  wudf_module_free(guest);
  ASSERT(printed);
  /* Under valgrind the interrupt reaches a thread that keeps calling host
   * code seconds late (0.66 to 3.2 s measured on an idle machine, against
   * 50.1 to 50.3 ms natively and under ASan): there the test checks that
   * the deadline is delivered, not when. */
  if (!under_valgrind()) ASSERT_LE(elapsed, 50.0 + timing_slack_ms());
}

TEST(many_short_calls_are_not_disturbed) {
  /* 20000 calls, each with a deadline: none of them may be hit by a stray
   * interrupt meant for an earlier call. */
  struct wudf_instance* instance = new_instance(traps);
  struct wudf_value args[2] = {i32_value(1), i32_value(2)};
  struct wudf_value result;
  struct wudf_error error;
  for (int i = 0; i < 20000; i++) {
    ASSERT_OK(wudf_instance_call_name(instance, "add", args, 2, &result, 1, 5, &error),
              &error);
    ASSERT_EQ(result.of.i32, 3);
  }
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  traps = load_module(engine, "traps");
  RUN_TEST(infinite_loop_stops_near_deadline);
  RUN_TEST(instance_default_and_per_call_override);
  RUN_TEST(thread_carries_on_and_fresh_instance_works);
  RUN_TEST(deadline_inside_host_code);
  RUN_TEST(many_short_calls_are_not_disturbed);
  wudf_module_free(traps);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
