/*
 * test_traps.c -- every trap kind comes back as an error that names the
 * export and the cause; the instance is then broken, a fresh one works, and
 * the host carries on. Also: argument checking and value passing.
 */
#include <errno.h>
#include <math.h>

#include "helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* module;

/* Calls `name` on a fresh instance, expects trap `trap` with status `code`,
 * and checks the message names the export and the cause. Then checks the
 * instance refuses further calls and a new instance works. */
static void expect_trap(const char* name, const struct wudf_value* args,
                        size_t count, int code, wudf_trap trap) {
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  struct wudf_value results[2];
  ASSERT_STATUS(wudf_instance_call_name(instance, name, args, count, results, 2,
                                        WUDF_TIMEOUT_DEFAULT, &error),
                code, &error);
  ASSERT_EQ(error.code, code);
  ASSERT_EQ(error.trap, trap);
  char expected_name[128];
  snprintf(expected_name, sizeof(expected_name), "export '%s'", name);
  ASSERT_CONTAINS(error.message, expected_name);
  ASSERT_CONTAINS(error.message, wudf_trap_name(trap));
  ASSERT(wudf_instance_is_broken(instance));

  struct wudf_value two[2] = {i32_value(2), i32_value(3)};
  ASSERT_STATUS(wudf_instance_call_name(instance, "add", two, 2, results, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error),
                ENOTRECOVERABLE, &error);
  ASSERT_CONTAINS(error.message, "broken");
  wudf_instance_free(instance);

  instance = new_instance(module);
  ASSERT_EQ(call_i32(instance, "add", two, 2), 5);
  wudf_instance_free(instance);
}

TEST(out_of_bounds_load) {
  struct wudf_value address = i32_value(65536 - 2); /* straddles the end */
  expect_trap("load", &address, 1, EFAULT, WUDF_TRAP_OUT_OF_BOUNDS);
}

TEST(out_of_bounds_store) {
  struct wudf_value args[2] = {i32_value(3 * 65536), i32_value(1)};
  expect_trap("store", args, 2, EFAULT, WUDF_TRAP_OUT_OF_BOUNDS);
}

TEST(out_of_bounds_far_offset) {
  /* Address 0xfffffff0 plus offset 0xfffffff0: the farthest a wasm32 access
   * can reach, still inside the reservation's guard region. */
  expect_trap("load_far", NULL, 0, EFAULT, WUDF_TRAP_OUT_OF_BOUNDS);
}

TEST(divide_by_zero) {
  struct wudf_value args[2] = {i32_value(7), i32_value(0)};
  expect_trap("div_s", args, 2, EFAULT, WUDF_TRAP_DIVIDE_BY_ZERO);
  expect_trap("rem_u", args, 2, EFAULT, WUDF_TRAP_DIVIDE_BY_ZERO);
}

TEST(integer_overflow) {
  struct wudf_value args[2] = {i32_value(INT32_MIN), i32_value(-1)};
  expect_trap("div_s", args, 2, EFAULT, WUDF_TRAP_INTEGER_OVERFLOW);
  struct wudf_value big = f64_value(1e20);
  expect_trap("trunc", &big, 1, EFAULT, WUDF_TRAP_INTEGER_OVERFLOW);
}

TEST(invalid_conversion) {
  struct wudf_value nan_value = f64_value(NAN);
  expect_trap("trunc", &nan_value, 1, EFAULT, WUDF_TRAP_INVALID_CONVERSION);
}

TEST(unreachable) {
  expect_trap("unreachable", NULL, 0, EFAULT, WUDF_TRAP_UNREACHABLE);
}

TEST(stack_exhausted) {
  struct wudf_value zero = i32_value(0);
  expect_trap("recurse", &zero, 1, EFAULT, WUDF_TRAP_STACK_EXHAUSTED);
}

TEST(bad_indirect_calls) {
  struct wudf_value null_entry = i32_value(0);   /* never initialised */
  struct wudf_value wrong_type = i32_value(2);   /* () -> i32, not i32 -> i32 */
  struct wudf_value past_end = i32_value(100);   /* table has 4 entries */
  expect_trap("call_indirect", &null_entry, 1, EFAULT, WUDF_TRAP_BAD_INDIRECT_CALL);
  expect_trap("call_indirect", &wrong_type, 1, EFAULT, WUDF_TRAP_BAD_INDIRECT_CALL);
  expect_trap("call_indirect", &past_end, 1, EFAULT, WUDF_TRAP_BAD_INDIRECT_CALL);
  struct wudf_instance* instance = new_instance(module);
  struct wudf_value good = i32_value(1);
  ASSERT_EQ(call_i32(instance, "call_indirect", &good, 1), 7);
  wudf_instance_free(instance);
}

TEST(timeout_is_a_trap_too) {
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  ASSERT_STATUS(wudf_instance_call_name(instance, "spin", NULL, 0, NULL, 0, 50, &error),
                ETIMEDOUT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_TIMEOUT);
  ASSERT_CONTAINS(error.message, "export 'spin'");
  ASSERT_CONTAINS(error.message, "timeout");
  ASSERT(wudf_instance_is_broken(instance));
  wudf_instance_free(instance);
}

TEST(values_of_every_type) {
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  struct wudf_value args[3] = {i64_value(1ll << 40), f32_value(0.5f), f64_value(0.25)};
  struct wudf_value result;
  ASSERT_OK(wudf_instance_call_name(instance, "types", args, 3, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT_EQ(result.type, WUDF_F64);
  ASSERT(result.of.f64 == (double)(1ll << 40) + 0.75);

  struct wudf_value swap_args[2] = {i64_value(-5), f64_value(-2.5)};
  struct wudf_value swapped[2];
  ASSERT_OK(wudf_instance_call_name(instance, "swap", swap_args, 2, swapped, 2,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT_EQ(swapped[0].type, WUDF_F64);
  ASSERT(swapped[0].of.f64 == -2.5);
  ASSERT_EQ(swapped[1].type, WUDF_I64);
  ASSERT_EQ(swapped[1].of.i64, -5);

  /* Float bits survive the trip: the sign of a negated zero. */
  struct wudf_value negative_zero = f32_value(0.0f);
  ASSERT_OK(wudf_instance_call_name(instance, "neg_f32", &negative_zero, 1, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT(signbit(result.of.f32));
  wudf_instance_free(instance);
}

TEST(argument_checking) {
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  struct wudf_value result;
  struct wudf_value one = i32_value(1);
  ASSERT_STATUS(wudf_instance_call_name(instance, "add", &one, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "export 'add' takes (i32, i32) but was called with (i32)");
  struct wudf_value mixed[2] = {i32_value(1), f64_value(2)};
  ASSERT_STATUS(wudf_instance_call_name(instance, "add", mixed, 2, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "called with (i32, f64)");
  struct wudf_value two[2] = {i32_value(1), i32_value(2)};
  ASSERT_STATUS(wudf_instance_call_name(instance, "add", two, 2, NULL, 0,
                                        WUDF_TIMEOUT_DEFAULT, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "returns 1 values");
  ASSERT_STATUS(wudf_instance_call_name(instance, "nope", two, 2, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), ENOENT, &error);
  ASSERT_CONTAINS(error.message, "'nope'");
  /* A refused call does not break the instance. */
  ASSERT(!wudf_instance_is_broken(instance));
  ASSERT_EQ(call_i32(instance, "add", two, 2), 3);
  wudf_instance_free(instance);
}

TEST(memory_persists_across_calls) {
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  struct wudf_value args[2] = {i32_value(100), i32_value(12345)};
  ASSERT_OK(wudf_instance_call_name(instance, "store", args, 2, NULL, 0,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT_EQ(call_i32(instance, "load", args, 1), 12345);
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  module = load_module(engine, "traps");
  RUN_TEST(out_of_bounds_load);
  RUN_TEST(out_of_bounds_store);
  RUN_TEST(out_of_bounds_far_offset);
  RUN_TEST(divide_by_zero);
  RUN_TEST(integer_overflow);
  RUN_TEST(invalid_conversion);
  RUN_TEST(unreachable);
  RUN_TEST(stack_exhausted);
  RUN_TEST(bad_indirect_calls);
  RUN_TEST(timeout_is_a_trap_too);
  RUN_TEST(values_of_every_type);
  RUN_TEST(argument_checking);
  RUN_TEST(memory_persists_across_calls);
  wudf_module_free(module);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
