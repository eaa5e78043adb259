/*
 * test_memory.c -- linear memory limits: memory.grow honours the module's
 * maximum and the configured cap; a module whose initial memory exceeds the
 * cap is refused at instantiation with an out-of-memory error; a C guest's
 * malloc bomb ends with malloc returning NULL under the cap; guard pages make
 * every access past the current size trap, also after growing.
 */
#include <errno.h>

#include "helpers.h"

static struct wudf_engine* engine;

static struct wudf_instance* instance_with_limit(struct wudf_module* module,
                                                 uint64_t limit) {
  struct wudf_instance_config config;
  wudf_instance_config_init(engine, &config);
  config.memory_limit = limit;
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  ASSERT_OK(wudf_instance_new(module, &config, &instance, &error), &error);
  return instance;
}

TEST(grow_honours_module_maximum) {
  /* traps.wat: memory 1 page, maximum 4. */
  struct wudf_module* module = load_module(engine, "traps");
  struct wudf_instance* instance = instance_with_limit(module, 0);
  struct wudf_value two = i32_value(2), one = i32_value(1), zero = i32_value(0);
  ASSERT_EQ(call_i32(instance, "grow", &two, 1), 1);   /* 1 -> 3 pages */
  ASSERT_EQ(call_i32(instance, "grow", &two, 1), -1);  /* 5 > max 4 */
  ASSERT_EQ(call_i32(instance, "grow", &one, 1), 3);   /* 3 -> 4 */
  ASSERT_EQ(call_i32(instance, "grow", &zero, 1), 4);
  ASSERT_EQ(call_i32(instance, "size", NULL, 0), 4);
  ASSERT_EQ(wudf_instance_memory_size(instance), 4 * 65536);
  /* The new pages are usable; the byte after them is not. */
  struct wudf_value last[2] = {i32_value(4 * 65536 - 4), i32_value(99)};
  struct wudf_error error;
  ASSERT_OK(wudf_instance_call_name(instance, "store", last, 2, NULL, 0,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT_EQ(call_i32(instance, "load", last, 1), 99);
  struct wudf_value past = i32_value(4 * 65536 - 3);
  struct wudf_value result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "load", &past, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_BOUNDS);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(grow_honours_configured_cap) {
  struct wudf_module* module = load_module(engine, "traps");
  struct wudf_instance* instance = instance_with_limit(module, 2 * 65536 + 100);
  struct wudf_value one = i32_value(1);
  ASSERT_EQ(call_i32(instance, "grow", &one, 1), 1);   /* 1 -> 2 pages */
  ASSERT_EQ(call_i32(instance, "grow", &one, 1), -1);  /* cap is 2 pages */
  ASSERT_EQ(call_i32(instance, "size", NULL, 0), 2);
  ASSERT(!wudf_instance_is_broken(instance));
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(initial_memory_over_cap_is_refused) {
  struct wudf_module* module = load_module(engine, "bigmem");
  struct wudf_instance_config config;
  wudf_instance_config_init(engine, &config);
  config.memory_limit = 50 * 65536;
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  ASSERT_STATUS(wudf_instance_new(module, &config, &instance, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_MEMORY);
  ASSERT_CONTAINS(error.message, "out of memory");
  ASSERT_CONTAINS(error.message, "100 pages");
  ASSERT_CONTAINS(error.message, "limit of 50 pages");
  ASSERT(instance == NULL);
  /* With room, the same module instantiates. */
  instance = instance_with_limit(module, 100 * 65536);
  ASSERT_EQ(call_i32(instance, "size", NULL, 0), 100);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(malloc_bomb_stops_at_cap) {
  struct wudf_module* module = load_module(engine, "wasi_guest");
  struct wudf_instance* instance = instance_with_limit(module, 16 << 20);
  int blocks = call_i32(instance, "malloc_bomb", NULL, 0);
  /* 16 MiB of memory holds at most 15 blocks of 1 MiB next to the data and
   * stack; it holds some. */
  ASSERT_GE(blocks, 8);
  ASSERT_LE(blocks, 15);
  ASSERT_LE(wudf_instance_memory_size(instance), 16 << 20);
  /* The instance is still healthy. */
  ASSERT_EQ(call_i32(instance, "constructed", NULL, 0), 42);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(many_instances_release_their_memory) {
  /* 300 instances of 100 pages, one after the other: each must give back
   * its mapping (8 GiB of address space apiece would run out otherwise). */
  struct wudf_module* module = load_module(engine, "bigmem");
  for (int i = 0; i < 300; i++) {
    struct wudf_instance* instance = instance_with_limit(module, 0);
    ASSERT_EQ(call_i32(instance, "size", NULL, 0), 100);
    wudf_instance_free(instance);
  }
  wudf_module_free(module);
}

int main(void) {
  engine = new_engine();
  RUN_TEST(grow_honours_module_maximum);
  RUN_TEST(grow_honours_configured_cap);
  RUN_TEST(initial_memory_over_cap_is_refused);
  RUN_TEST(malloc_bomb_stops_at_cap);
  RUN_TEST(many_instances_release_their_memory);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
