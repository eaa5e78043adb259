/*
 * test_layer.c -- the engine's interface to the layer above it
 * (src/engine/layer.h), in both builds. The engine-only library
 * (-DWUDF_ENGINE_ONLY=ON) has no layer: modules and instances carry no
 * layer state, and a module that declares functions still loads and runs
 * its exports. The full library has the UDF layer, whose module state is
 * set and whose instance state sits in the instance's own allocation,
 * right after the instance. Either way the head the engine keeps for the
 * layer (module, lifetime, broken flag, memory) agrees with the engine.
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>

#include "engine/engine.h"
#include "helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* module;

TEST(the_layer_of_this_build) {
#ifdef WUDF_TEST_ENGINE_ONLY
  ASSERT(wudf__upper_layer == NULL);
#else
  ASSERT(wudf__upper_layer != NULL);
  ASSERT_STR_EQ(wudf__upper_layer->name, "udf");
  ASSERT(wudf__upper_layer->instance_state_size > 0);
#endif
}

TEST(layer_state_of_modules_and_instances) {
  struct wudf_instance* instance = new_instance(module);
  void* module_state = wudf__module_layer_state(module);
  void* instance_state = wudf__instance_layer_state(instance);
#ifdef WUDF_TEST_ENGINE_ONLY
  ASSERT(module_state == NULL);
  ASSERT(instance_state == NULL);
#else
  ASSERT(module_state != NULL); /* the table of the declared functions */
  /* After the instance, at the first maximally aligned address. */
  uintptr_t after = (uintptr_t)instance + sizeof(struct wudf_instance);
  ASSERT((uintptr_t)instance_state >= after);
  ASSERT((uintptr_t)instance_state - after < alignof(max_align_t));
  ASSERT((uintptr_t)instance_state % alignof(max_align_t) == 0);
#endif
  wudf_instance_free(instance);
}

TEST(the_head_agrees_with_the_engine) {
  struct wudf_instance* instance = new_instance(module);
  ASSERT(wudf__instance_module(instance) == module);
  ASSERT_EQ(wudf__instance_broken(instance), wudf_instance_is_broken(instance));
  ASSERT_EQ(wudf__instance_pinned(instance), 0);
  ASSERT_EQ(wudf__instance_idle(instance), 1);
  uint64_t size = 0;
  uint8_t* memory = wudf__instance_memory(instance, &size);
  ASSERT(memory != NULL);
  ASSERT_EQ(size, wudf_instance_memory_size(instance));
  /* A pin and a holder show in the lifetime word; dropping them leaves the
   * instance idle (and alive: it was not freed). */
  ASSERT_EQ(wudf__instance_pin(instance), 0);
  ASSERT_EQ(wudf__instance_pinned(instance), 1);
  ASSERT_EQ(wudf__instance_pin(instance), EBUSY);
  wudf__instance_unpin(instance);
  wudf__instance_hold(instance);
  ASSERT_EQ(wudf__instance_pinned(instance), 0);
  ASSERT_EQ(wudf__instance_idle(instance), 0);
  wudf__instance_unhold(instance);
  ASSERT_EQ(wudf__instance_idle(instance), 1);
  wudf_instance_free(instance);
}

TEST(a_module_with_functions_runs_its_exports) {
  /* The guest ABI's own exports are plain exports to the engine, with or
   * without the layer that speaks the ABI. */
  struct wudf_instance* instance = new_instance(module);
  ASSERT_EQ(call_i32(instance, "wudf_abi_version", NULL, 0), 1);
  ASSERT_EQ(wudf_instance_snapshot(instance, NULL), 0);
  ASSERT_EQ(call_i32(instance, "wudf_abi_version", NULL, 0), 1);
  ASSERT_EQ(wudf_instance_reset(instance, NULL), 0);
  ASSERT_EQ(call_i32(instance, "wudf_abi_version", NULL, 0), 1);
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  module = load_module(engine, "example_gcd");
  RUN_TEST(the_layer_of_this_build);
  RUN_TEST(layer_state_of_modules_and_instances);
  RUN_TEST(the_head_agrees_with_the_engine);
  RUN_TEST(a_module_with_functions_runs_its_exports);
  wudf_module_free(module);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
