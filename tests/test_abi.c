/*
 * test_abi.c -- the stable ABI inside one process: versioned structs read
 * as far as their struct_size goes (an older, smaller struct works with
 * the defaults for the rest; a larger one only with a zero tail; a size
 * that cuts a field is refused), output structs written no further than
 * their struct_size, and one meaning per status code (a UDF's own error,
 * EREMOTEIO, leaves the instance usable; proc_exit, ECANCELED, breaks it).
 * The exported symbols, their version node and the SONAME are checked on
 * the installed library by packaging/test_install.sh.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* gcd;
static struct wudf_module* types;

static void static_release(struct ArrowArray* array) { array->release = NULL; }
static void static_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

/* An int32 column of three rows (no nulls). */
struct int32_column {
  int32_t values[3];
  const void* buffers[2];
  struct ArrowArray array;
};
static const struct ArrowSchema int32_schema = {.format = "i", .name = "",
                                                .flags = ARROW_FLAG_NULLABLE,
                                                .release = static_schema_release};

static void int32_fill(struct int32_column* column, int32_t a, int32_t b, int32_t c) {
  column->values[0] = a;
  column->values[1] = b;
  column->values[2] = c;
  column->buffers[0] = NULL;
  column->buffers[1] = column->values;
  column->array = (struct ArrowArray){.length = 3, .n_buffers = 2, .buffers = column->buffers,
                                      .release = static_release};
}

/* Calls call_rows of the types guest on three rows with `options`: each
 * row gives the rows of its guest call, so max_rows_per_call shows. */
static int call_rows(const struct wudf_call_options* options, int64_t* first,
                     struct wudf_error* error) {
  struct wudf_instance* instance = new_instance(types);
  uint32_t index = 0;
  ASSERT_OK(wudf_module_find_function(types, "call_rows", &index, error), error);
  struct int32_column column;
  int32_fill(&column, 1, 2, 3);
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&int32_schema};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  int status = wudf_function_call(instance, index, 1, arrays, schemas, options, &out,
                                  &out_schema, error);
  if (status == 0) {
    *first = ((const int64_t*)out.buffers[1])[0];
    out.release(&out);
    out_schema.release(&out_schema);
  }
  wudf_instance_free(instance);
  return status;
}

/* struct wudf_call_options as a caller built against an older header
 * would have it: the first five fields only. */
struct call_options_v0 {
  size_t struct_size;
  int64_t max_rows_per_call;
  int64_t max_block_bytes;
  uint64_t timeout_ms;
  wudf_validation validation;
  wudf_result_mode result;
};

TEST(an_older_smaller_options_struct_works) {
  struct call_options_v0 old;
  memset(&old, 0, sizeof(old));
  old.struct_size = sizeof(old);
  old.max_rows_per_call = 1;
  old.max_block_bytes = (int64_t)64 << 20;
  old.timeout_ms = WUDF_TIMEOUT_DEFAULT;
  struct wudf_error error;
  int64_t first = 0;
  ASSERT_OK(call_rows((const struct wudf_call_options*)&old, &first, &error), &error);
  ASSERT_EQ(first, 1); /* its max_rows_per_call was read... */
  /* ... and the fields it lacks have their defaults (a nesting limit of 0
   * would be refused, a row limit of 0 would be none). */
  ASSERT_OK(call_rows(NULL, &first, &error), &error);
  ASSERT_EQ(first, 3);
}

/* The current struct followed by fields of a newer header. */
struct call_options_next {
  struct wudf_call_options current;
  int64_t future_field;
};

TEST(a_newer_larger_struct_needs_a_zero_tail) {
  struct call_options_next next;
  memset(&next, 0, sizeof(next));
  wudf_call_options_init(&next.current);
  next.current.struct_size = sizeof(next);
  next.current.max_rows_per_call = 2;
  struct wudf_error error;
  int64_t first = 0;
  ASSERT_OK(call_rows(&next.current, &first, &error), &error);
  ASSERT_EQ(first, 2);
  next.future_field = 7;
  ASSERT_STATUS(call_rows(&next.current, &first, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "struct wudf_call_options: struct_size");
  ASSERT_CONTAINS(error.message, "does not know");
}

TEST(a_size_that_is_no_version_is_refused) {
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  ASSERT_EQ(options.struct_size, sizeof(options));
  struct wudf_error error;
  int64_t first = 0;
  options.struct_size = offsetof(struct wudf_call_options, max_block_bytes) + 4;
  ASSERT_STATUS(call_rows(&options, &first, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "ends inside a field");
  options.struct_size = 0; /* never initialised */
  ASSERT_STATUS(call_rows(&options, &first, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "initialise it with its _init function");

  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.struct_size = 3;
  struct wudf_engine* refused = NULL;
  ASSERT_STATUS(wudf_engine_new(&config, &refused, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "wudf_engine_new: struct wudf_engine_config");
  ASSERT(refused == NULL);
}

/* struct wudf_engine_config and wudf_instance_config of older headers. */
struct engine_config_v0 {
  size_t struct_size;
  const char* cache_dir;
  const char* cc;
  const char* cflags;
  const char* wasm2c;
  uint64_t timeout_ms;
};
struct instance_config_v0 {
  size_t struct_size;
  uint64_t timeout_ms;
};

TEST(older_configurations_work) {
  struct engine_config_v0 old;
  memset(&old, 0, sizeof(old));
  old.struct_size = sizeof(old);
  old.timeout_ms = 5000;
  struct wudf_error error;
  struct wudf_engine* other = NULL;
  ASSERT_OK(wudf_engine_new((const struct wudf_engine_config*)&old, &other, &error), &error);
  struct wudf_instance_config defaults;
  wudf_instance_config_init(other, &defaults);
  ASSERT_EQ(defaults.timeout_ms, 5000);
  ASSERT_EQ(defaults.output_limit, 64 * 1024); /* not in v0: the default */
  wudf_engine_free(other);

  struct instance_config_v0 instance_config = {sizeof(instance_config), 1234};
  struct wudf_instance* instance = NULL;
  ASSERT_OK(wudf_instance_new(gcd, (const struct wudf_instance_config*)&instance_config,
                              &instance, &error), &error);
  wudf_instance_free(instance);

  /* A pool of instances configured by an older instance struct. */
  struct wudf_pool_config pool_config;
  wudf_pool_config_init(engine, &pool_config);
  pool_config.instance = (const struct wudf_instance_config*)&instance_config;
  pool_config.max_instances = 1;
  struct wudf_pool* pool = NULL;
  ASSERT_OK(wudf_pool_new(gcd, &pool_config, &pool, &error), &error);
  ASSERT_OK(wudf_pool_acquire(pool, &instance, &error), &error);
  wudf_pool_release(pool, instance);
  struct wudf_pool_stats stats = {.struct_size = sizeof stats};
  wudf_pool_stats(pool, &stats);
  ASSERT_EQ(stats.created, 1);
  ASSERT_EQ(stats.idle, 1);
  wudf_pool_free(pool);
}

TEST(output_structs_are_written_no_further_than_their_size) {
  /* An older caller's engine stats: the first two counters, then bytes
   * that are not the struct's. */
  struct {
    size_t struct_size;
    uint64_t compiles;
    uint64_t cache_hits;
    unsigned char beyond[64];
  } old;
  memset(&old, 0xa5, sizeof(old));
  old.struct_size = offsetof(struct wudf_engine_stats, cache_hits) + sizeof(uint64_t);
  wudf_engine_stats(engine, (struct wudf_engine_stats*)&old);
  ASSERT_EQ(old.struct_size, offsetof(struct wudf_engine_stats, cache_hits) + 8);
  ASSERT(old.compiles != 0xa5a5a5a5a5a5a5a5u);
  for (size_t i = 0; i < sizeof(old.beyond); i++) ASSERT_EQ(old.beyond[i], 0xa5);

  struct wudf_function_info info;
  memset(&info, 0xa5, sizeof(info));
  info.struct_size = offsetof(struct wudf_function_info, kind) + sizeof(info.kind);
  struct wudf_error error;
  ASSERT_OK(wudf_module_function(gcd, 0, &info, &error), &error);
  ASSERT_STR_EQ(info.name, "gcd");
  ASSERT_EQ(info.kind, WUDF_FUNCTION_SCALAR);
  ASSERT(info.signature == (const char*)(uintptr_t)0xa5a5a5a5a5a5a5a5u); /* untouched */

  /* 0 (a zero-initialised struct) stands for the WASMUDF_1 layout: all of
   * it is written, struct_size stays 0; 1..7 is no size at all. */
  struct wudf_function_info zeroed = {0};
  ASSERT_OK(wudf_module_function(gcd, 0, &zeroed, &error), &error);
  ASSERT_EQ(zeroed.struct_size, 0);
  ASSERT_STR_EQ(zeroed.name, "gcd");
  ASSERT_EQ(zeroed.deterministic, 0);
  ASSERT(zeroed.signature != NULL);
  struct wudf_engine_stats zeroed_stats = {0};
  wudf_engine_stats(engine, &zeroed_stats);
  ASSERT_EQ(zeroed_stats.struct_size, 0);
  ASSERT_EQ(zeroed_stats.compiles, old.compiles);
  ASSERT_EQ(zeroed_stats.cache_hits, old.cache_hits);
  info.struct_size = 4;
  ASSERT_STATUS(wudf_module_function(gcd, 0, &info, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "set it to sizeof(struct wudf_function_info)");
  struct wudf_export_info export_info = {.struct_size = sizeof export_info};
  ASSERT_OK(wudf_module_export(gcd, 0, &export_info, &error), &error);
  ASSERT(export_info.name != NULL);
}

TEST(one_meaning_per_status_code) {
  static const int codes[] = {EINVAL,    ENOMEM, ENOENT, ENOEXEC, ENOTSUP, EFBIG,
                              EOVERFLOW, EIO,    EACCES, EPERM,   EBUSY,   EPROTO,
                              EREMOTEIO, EFAULT, ETIMEDOUT, ECANCELED, ENOTRECOVERABLE};
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    ASSERT(strcmp(wudf_status_string(codes[i]), "unknown status") != 0);
    for (size_t j = 0; j < i; j++) {
      ASSERT(strcmp(wudf_status_string(codes[i]), wudf_status_string(codes[j])) != 0);
    }
  }
  ASSERT_STR_EQ(wudf_status_string(0), "success");
  ASSERT_STR_EQ(wudf_status_string(EDOM), "unknown status");
  ASSERT_EQ(WUDF_STATUS_GUEST_ERROR, EREMOTEIO);
  ASSERT_EQ(wudf_status_breaks_instance(EREMOTEIO), 0);
  ASSERT_EQ(wudf_status_breaks_instance(EPROTO), 0);
  ASSERT_EQ(wudf_status_breaks_instance(ECANCELED), 1);
  ASSERT_EQ(wudf_status_breaks_instance(EFAULT), 1);
  ASSERT_EQ(wudf_status_breaks_instance(ETIMEDOUT), 1);
  ASSERT_EQ(wudf_status_breaks_instance(ENOTRECOVERABLE), 1);
}

TEST(a_guest_error_leaves_the_instance_usable) {
  struct wudf_module* module = load_module(engine, "example_checked_divide");
  struct wudf_instance* instance = new_instance(module);
  static const int64_t numerators[2] = {6, 1}, denominators[2] = {3, 0};
  const void* n_buffers[2] = {NULL, numerators};
  const void* d_buffers[2] = {NULL, denominators};
  struct ArrowArray n = {.length = 2, .n_buffers = 2, .buffers = n_buffers,
                         .release = static_release};
  struct ArrowArray d = {.length = 2, .n_buffers = 2, .buffers = d_buffers,
                         .release = static_release};
  struct ArrowSchema int64_schema = {.format = "l", .name = "", .flags = ARROW_FLAG_NULLABLE,
                                     .release = static_schema_release};
  const struct ArrowArray* arrays[2] = {&n, &d};
  const struct ArrowSchema* schemas[2] = {&int64_schema, &int64_schema};
  struct wudf_error error;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_STATUS(wudf_function_call(instance, 0, 2, arrays, schemas, NULL, &out, &out_schema,
                                   &error), EREMOTEIO, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_NONE);
  ASSERT_EQ(wudf_instance_is_broken(instance), 0);
  n.length = d.length = 1;
  ASSERT_OK(wudf_function_call(instance, 0, 2, arrays, schemas, NULL, &out, &out_schema,
                               &error), &error);
  ASSERT_EQ(((const int64_t*)out.buffers[1])[0], 2);
  out.release(&out);
  out_schema.release(&out_schema);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

int main(void) {
  engine = new_engine();
  gcd = load_module(engine, "example_gcd");
  types = load_module(engine, "types");
  RUN_TEST(an_older_smaller_options_struct_works);
  RUN_TEST(a_newer_larger_struct_needs_a_zero_tail);
  RUN_TEST(a_size_that_is_no_version_is_refused);
  RUN_TEST(older_configurations_work);
  RUN_TEST(output_structs_are_written_no_further_than_their_size);
  RUN_TEST(one_meaning_per_status_code);
  RUN_TEST(a_guest_error_leaves_the_instance_usable);
  wudf_module_free(types);
  wudf_module_free(gcd);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
