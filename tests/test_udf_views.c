/*
 * test_udf_views.c -- zero-copy result views (WUDF_RESULT_VIEW) and their
 * lifetime rules: a view shows the same rows as a copy, with buffers inside
 * the instance's linear memory; while it lives the instance refuses every
 * call (EBUSY); freeing the instance under a view is deferred to the view's
 * last release (which may come from a child moved out, on another thread);
 * the guest's memory is given back at the next call, so views called in a
 * loop do not grow it; and a call that cannot be one guest call refuses to
 * make a view (ENOTSUP). Run under ASan and valgrind like every C test, so a
 * view read after its instance was freed would be caught.
 */
#include <pthread.h>

#include "udf_helpers.h"

static struct wudf_engine* engine;

/* Nonzero when `pointer` lies inside the instance's linear memory. */
static int in_guest_memory(const struct wudf_instance* instance, const void* pointer) {
  const uint8_t* base = instance->runtime.memory->data;
  const uint8_t* at = pointer;
  return at >= base && at < base + instance->runtime.memory->size;
}

static void options_view(struct wudf_call_options* options) {
  wudf_call_options_init(options);
  options->result = WUDF_RESULT_VIEW;
}

/* Two int32 columns for gcd: a[i] = 12 * i, b[i] = 18; nulls where asked. */
static void gcd_columns(int64_t length, int null_every, struct column* a, struct column* b) {
  struct builder builder;
  builder_init(&builder, TYPE_INT32, length);
  for (int64_t i = 0; i < length; i++) {
    int32_t v = (int32_t)(12 * i);
    memcpy(builder_value(&builder, i), &v, 4);
    if (null_every > 0 && i % null_every == 1) builder_set_null(&builder, i);
  }
  *a = builder_finish(&builder, "a");
  builder_init(&builder, TYPE_INT32, length);
  for (int64_t i = 0; i < length; i++) {
    int32_t v = 18;
    memcpy(builder_value(&builder, i), &v, 4);
  }
  *b = builder_finish(&builder, "b");
}

static int32_t gcd_of(int32_t x, int32_t y) {
  while (y != 0) {
    int32_t t = x % y;
    x = y;
    y = t;
  }
  return x < 0 ? -x : x;
}

static int call_gcd(struct wudf_instance* instance, const struct column* a,
                    const struct column* b, const struct wudf_call_options* options,
                    struct column* result, struct wudf_error* error) {
  const struct ArrowArray* args[2] = {&a->array, &b->array};
  const struct ArrowSchema* schemas[2] = {&a->schema, &b->schema};
  return call_function(instance, "gcd", 2, args, schemas, options, result, error);
}

TEST(a_view_shows_the_rows_of_a_copy_from_guest_memory) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  struct column a, b, copy, view;
  gcd_columns(1000, 0, &a, &b);
  struct wudf_call_options options;
  options_view(&options);
  struct wudf_error error;
  ASSERT_OK(call_gcd(instance, &a, &b, NULL, &copy, &error), &error);
  ASSERT_OK(call_gcd(instance, &a, &b, &options, &view, &error), &error);
  ASSERT_EQ(view.array.length, 1000);
  ASSERT_STR_EQ(view.schema.format, "i");
  ASSERT_STR_EQ(view.schema.name, "gcd");
  ASSERT_EQ(in_guest_memory(instance, view.array.buffers[1]), 1);
  ASSERT_EQ(in_guest_memory(instance, copy.array.buffers[1]), 0);
  for (int64_t i = 0; i < 1000; i++) {
    int32_t got = ((const int32_t*)view.array.buffers[1])[view.array.offset + i];
    ASSERT_EQ(got, gcd_of((int32_t)(12 * i), 18));
    ASSERT_EQ(got, ((const int32_t*)copy.array.buffers[1])[copy.array.offset + i]);
  }
  column_release(&view);
  column_release(&copy);
  column_release(&a);
  column_release(&b);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(a_live_view_pins_its_instance) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  struct column a, b, view, other;
  gcd_columns(10, 0, &a, &b);
  struct wudf_call_options options;
  options_view(&options);
  struct wudf_error error;
  ASSERT_OK(call_gcd(instance, &a, &b, &options, &view, &error), &error);
  /* Neither a function call nor a raw export call may run guest code. */
  ASSERT_STATUS(call_gcd(instance, &a, &b, NULL, &other, &error), EBUSY, &error);
  ASSERT_CONTAINS(error.message, "view");
  ASSERT_STATUS(wudf_instance_call_name(instance, "wudf_abi_version", NULL, 0, NULL, 0,
                                        WUDF_TIMEOUT_DEFAULT, &error), EBUSY, &error);
  /* The schema is a host copy: releasing it first changes nothing. */
  view.schema.release(&view.schema);
  ASSERT_STATUS(call_gcd(instance, &a, &b, NULL, &other, &error), EBUSY, &error);
  view.array.release(&view.array);
  ASSERT_OK(call_gcd(instance, &a, &b, NULL, &other, &error), &error);
  ASSERT_EQ(((const int32_t*)other.array.buffers[1])[3], gcd_of(36, 18));
  column_release(&other);
  column_release(&a);
  column_release(&b);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(freeing_a_pinned_instance_waits_for_the_view) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  struct column a, b, view;
  gcd_columns(100, 0, &a, &b);
  struct wudf_call_options options;
  options_view(&options);
  struct wudf_error error;
  ASSERT_OK(call_gcd(instance, &a, &b, &options, &view, &error), &error);
  wudf_instance_free(instance);
  wudf_module_free(module);
  /* The memory behind the view is still mapped (ASan and valgrind would
   * report a read of freed memory). */
  for (int64_t i = 0; i < 100; i++) {
    ASSERT_EQ(((const int32_t*)view.array.buffers[1])[i], gcd_of((int32_t)(12 * i), 18));
  }
  column_release(&view); /* frees the instance (leak checkers verify) */
  column_release(&a);
  column_release(&b);
}

/* A batch view whose child is moved out and outlives its parent. */
TEST(a_child_moved_out_of_a_view_keeps_the_pin) {
  struct wudf_module* module = load_module(engine, "example_sum");
  struct wudf_instance* instance = new_instance(module);
  struct column a, b;
  gcd_columns(10, 3, &a, &b); /* a = 0, null, 24, 36, null, ... */
  struct wudf_call_options options;
  options_view(&options);
  struct wudf_error error;
  struct column result;
  const struct ArrowArray* args[1] = {&a.array};
  const struct ArrowSchema* schemas[1] = {&a.schema};
  ASSERT_OK(call_function(instance, "sum", 1, args, schemas, &options, &result, &error),
            &error);
  ASSERT_STR_EQ(result.schema.format, "+s");
  ASSERT_EQ(result.array.n_children, 1);
  struct ArrowArray child = *result.array.children[0];
  result.array.children[0]->release = NULL; /* moved */
  column_release(&result);
  ASSERT_STATUS(call_function(instance, "sum", 1, args, schemas, NULL, &result, &error), EBUSY,
                &error);
  int64_t expected = 0;
  for (int64_t i = 0; i < 10; i++) {
    if (i % 3 != 1) expected += 12 * i;
  }
  int64_t got;
  memcpy(&got, (const uint8_t*)child.buffers[1] + 8 * child.offset, 8);
  ASSERT_EQ(got, expected);
  child.release(&child);
  ASSERT_OK(call_function(instance, "sum", 1, args, schemas, NULL, &result, &error), &error);
  column_release(&result);
  column_release(&a);
  column_release(&b);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

static void* release_on_thread(void* view) {
  struct ArrowArray* array = view;
  array->release(array);
  return NULL;
}

TEST(the_last_release_may_come_from_another_thread) {
  for (int round = 0; round < 20; round++) {
    struct wudf_module* module = load_module(engine, "example_gcd");
    struct wudf_instance* instance = new_instance(module);
    struct column a, b, view;
    gcd_columns(50, 0, &a, &b);
    struct wudf_call_options options;
    options_view(&options);
    struct wudf_error error;
    ASSERT_OK(call_gcd(instance, &a, &b, &options, &view, &error), &error);
    view.schema.release(&view.schema);
    pthread_t thread;
    ASSERT_EQ(pthread_create(&thread, NULL, release_on_thread, &view.array), 0);
    wudf_instance_free(instance); /* races with the release: one of them frees */
    ASSERT_EQ(pthread_join(thread, NULL), 0);
    wudf_module_free(module);
    column_release(&a);
    column_release(&b);
  }
}

TEST(views_in_a_loop_do_not_grow_guest_memory) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  struct column a, b, view;
  gcd_columns(5000, 0, &a, &b);
  struct wudf_call_options options;
  options_view(&options);
  struct wudf_error error;
  uint64_t warm = 0;
  for (int i = 0; i < 300; i++) {
    ASSERT_OK(call_gcd(instance, &a, &b, &options, &view, &error), &error);
    column_release(&view);
    if (i == 20) warm = wudf_instance_memory_size(instance);
  }
  ASSERT_EQ(wudf_instance_memory_size(instance), warm);
  column_release(&a);
  column_release(&b);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(a_view_needs_exactly_one_guest_call) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  struct column a, b, view;
  struct wudf_call_options options;
  options_view(&options);
  struct wudf_error error;
  gcd_columns(100, 0, &a, &b);
  options.max_rows_per_call = 30;
  ASSERT_STATUS(call_gcd(instance, &a, &b, &options, &view, &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "max_rows_per_call");
  column_release(&a);
  column_release(&b);
  /* gcd is strict: null arguments make host-made null rows. */
  gcd_columns(100, 7, &a, &b);
  options.max_rows_per_call = 1000;
  ASSERT_STATUS(call_gcd(instance, &a, &b, &options, &view, &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "strict");
  /* The instance is fine: the same call as a copy works. */
  ASSERT_OK(call_gcd(instance, &a, &b, NULL, &view, &error), &error);
  ASSERT_EQ(row_is_null(&view.array, 1), 1);
  ASSERT_EQ(row_is_null(&view.array, 2), 0);
  column_release(&view);
  column_release(&a);
  column_release(&b);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

int main(void) {
  engine = new_engine();
  RUN_TEST(a_view_shows_the_rows_of_a_copy_from_guest_memory);
  RUN_TEST(a_live_view_pins_its_instance);
  RUN_TEST(freeing_a_pinned_instance_waits_for_the_view);
  RUN_TEST(a_child_moved_out_of_a_view_keeps_the_pin);
  RUN_TEST(the_last_release_may_come_from_another_thread);
  RUN_TEST(views_in_a_loop_do_not_grow_guest_memory);
  RUN_TEST(a_view_needs_exactly_one_guest_call);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
