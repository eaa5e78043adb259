/*
 * test_wasi.c -- the WASI subset with a C guest built by wasi-libc: output
 * is captured per instance and bounded; proc_exit is an error carrying the
 * code; the reactor's constructors ran; clocks and random_get work, and are
 * reproducible in deterministic mode.
 */
#include <errno.h>
#include <time.h>

#include "helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* guest;

TEST(constructors_ran) {
  struct wudf_instance* instance = new_instance(guest);
  ASSERT_EQ(call_i32(instance, "constructed", NULL, 0), 42);
  wudf_instance_free(instance);
}

TEST(output_is_captured) {
  struct wudf_instance* instance = new_instance(guest);
  struct wudf_value seven = i32_value(7);
  ASSERT_EQ(call_i32(instance, "hello", &seven, 1), 8);
  size_t size, dropped;
  const char* output = wudf_instance_output(instance, &size, &dropped);
  char text[256];
  ASSERT(size < sizeof(text));
  memcpy(text, output, size);
  text[size] = '\0';
  ASSERT_STR_EQ(text, "hello 7\nto stderr 14\n");
  ASSERT_EQ(dropped, 0);
  wudf_instance_output_clear(instance);
  wudf_instance_output(instance, &size, NULL);
  ASSERT_EQ(size, 0);
  /* Instances do not share output. */
  struct wudf_instance* other = new_instance(guest);
  wudf_instance_output(other, &size, NULL);
  ASSERT_EQ(size, 0);
  wudf_instance_free(other);
  wudf_instance_free(instance);
}

TEST(output_is_bounded) {
  struct wudf_instance_config config;
  wudf_instance_config_init(engine, &config);
  config.output_limit = 1000;
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  ASSERT_OK(wudf_instance_new(guest, &config, &instance, &error), &error);
  struct wudf_value lines = i32_value(50); /* 50 lines of 100 bytes */
  ASSERT_EQ(call_i32(instance, "chatter", &lines, 1), 50);
  size_t size, dropped;
  const char* output = wudf_instance_output(instance, &size, &dropped);
  ASSERT_EQ(size, 1000);
  ASSERT_EQ(dropped, 4000);
  ASSERT(output[99] == '\n' && output[0] == '0');
  wudf_instance_free(instance);
}

TEST(proc_exit_carries_the_code) {
  struct wudf_instance* instance = new_instance(guest);
  struct wudf_error error;
  struct wudf_value code = i32_value(3);
  ASSERT_STATUS(wudf_instance_call_name(instance, "quit", &code, 1, NULL, 0,
                                        WUDF_TIMEOUT_DEFAULT, &error), ECANCELED, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_EXIT);
  ASSERT_EQ(error.exit_code, 3);
  ASSERT_CONTAINS(error.message, "export 'quit'");
  ASSERT_CONTAINS(error.message, "proc_exit(3)");
  wudf_instance_free(instance);
}

TEST(abort_is_unreachable) {
  struct wudf_instance* instance = new_instance(guest);
  struct wudf_error error;
  ASSERT_STATUS(wudf_instance_call_name(instance, "fail", NULL, 0, NULL, 0,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_UNREACHABLE);
  wudf_instance_free(instance);
}

static int64_t call_i64(struct wudf_instance* instance, const char* name) {
  struct wudf_error error;
  struct wudf_value result;
  ASSERT_OK(wudf_instance_call_name(instance, name, NULL, 0, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT_EQ(result.type, WUDF_I64);
  return result.of.i64;
}

TEST(clocks_and_random) {
  struct wudf_instance* instance = new_instance(guest);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t host_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  int64_t guest_ns = call_i64(instance, "realtime");
  ASSERT(guest_ns - host_ns < 5000000000ll && host_ns - guest_ns < 5000000000ll);
  int64_t first = call_i64(instance, "monotonic");
  int64_t second = call_i64(instance, "monotonic");
  ASSERT(second >= first);
  ASSERT_NE(call_i64(instance, "random64"), call_i64(instance, "random64"));
  wudf_instance_free(instance);
}

TEST(deterministic_mode) {
  struct wudf_instance_config config;
  wudf_instance_config_init(engine, &config);
  config.deterministic = 1;
  int64_t values[2][3];
  for (int round = 0; round < 2; round++) {
    struct wudf_error error;
    struct wudf_instance* instance = NULL;
    ASSERT_OK(wudf_instance_new(guest, &config, &instance, &error), &error);
    values[round][0] = call_i64(instance, "random64");
    values[round][1] = call_i64(instance, "realtime");
    values[round][2] = call_i64(instance, "realtime");
    wudf_instance_free(instance);
  }
  ASSERT_EQ(values[0][0], values[1][0]);
  ASSERT_EQ(values[0][1], values[1][1]);
  ASSERT_EQ(values[0][2], values[1][2]);
  ASSERT_EQ(values[0][2] - values[0][1], 1000000);
}

TEST(guest_recursion_traps_cleanly) {
  /* The C guest's frames live on wasm's shadow stack in linear memory and on
   * the native stack: either runs out first, and either is a clean trap. */
  struct wudf_instance* instance = new_instance(guest);
  struct wudf_error error;
  struct wudf_value zero = i32_value(0), result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "deep", &zero, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT(error.trap == WUDF_TRAP_OUT_OF_BOUNDS || error.trap == WUDF_TRAP_STACK_EXHAUSTED);
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  guest = load_module(engine, "wasi_guest");
  RUN_TEST(constructors_ran);
  RUN_TEST(output_is_captured);
  RUN_TEST(output_is_bounded);
  RUN_TEST(proc_exit_carries_the_code);
  RUN_TEST(abort_is_unreachable);
  RUN_TEST(clocks_and_random);
  RUN_TEST(deterministic_mode);
  RUN_TEST(guest_recursion_traps_cleanly);
  wudf_module_free(guest);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
