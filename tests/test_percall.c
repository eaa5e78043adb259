/*
 * test_percall.c -- the per-call path and what serves many calls: the flat
 * path of scalar calls (fixed-width arguments and result: one guest call
 * of a kept input block, results placed straight into the final column
 * across guest calls) against the rows expected, including slices, nulls
 * and strict functions that leave it for the general path, and cut into
 * guest calls of about chunk_bytes; the steady path
 * allocates nothing on the host but the result (counted through the
 * allocation funnel) and makes two guest calls; instance reset restores
 * memory, globals, tables and memory size after a guest changed them, and
 * mends a broken instance; pools hand each thread its own instance, reset
 * broken ones and, with reset_after_use, every one, and give equal results
 * from many threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "helpers.h"
#include "udf/call.h"
#include "test.h"
#include "udf_helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* scribble;
static struct wudf_module* snapshot_module;

/* The allocation funnel, counted. */
static atomic_long allocations;
static void* counting_malloc(void* user_data, size_t size) {
  (void)user_data;
  atomic_fetch_add(&allocations, 1);
  return malloc(size);
}
static void* counting_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  atomic_fetch_add(&allocations, 1);
  return realloc(pointer, size);
}
static void counting_free(void* user_data, void* pointer) {
  (void)user_data;
  free(pointer);
}

static uint32_t function_index(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  uint32_t index;
  ASSERT_OK(wudf_module_find_function(module, name, &index, &error), &error);
  return index;
}

/* An int32 column of `length` rows: row i is i * 7 - 300, null where
 * i % null_every == 3 (null_every 0: no nulls). */
static struct column int32_rows(int64_t length, int null_every) {
  struct builder builder;
  builder_init(&builder, TYPE_INT32, length);
  for (int64_t i = 0; i < length; i++) {
    if (null_every > 0 && i % null_every == 3) {
      builder_set_null(&builder, i);
    } else {
      int32_t value = (int32_t)(i * 7 - 300);
      memcpy(builder_value(&builder, i), &value, 4);
    }
  }
  return builder_finish(&builder, "x");
}

/* Checks `result` = work(rows [offset, offset + length) of int32_rows). */
static void check_work(const struct ArrowArray* result, int64_t offset, int64_t length,
                       int null_every) {
  ASSERT_EQ(result->length, length);
  int64_t nulls = 0;
  for (int64_t row = 0; row < length; row++) {
    int64_t i = offset + row;
    if (null_every > 0 && i % null_every == 3) {
      ASSERT(row_is_null(result, row));
      nulls++;
      continue;
    }
    ASSERT(!row_is_null(result, row));
    int32_t value;
    memcpy(&value, row_bytes(result, row, 4), 4);
    ASSERT_EQ(value, (int32_t)(i * 7 - 300) * 3 - 1);
  }
  ASSERT_EQ(result->null_count, nulls);
  if (nulls == 0) ASSERT(result->buffers[0] == NULL);
}

/* work over slices (byte-aligned and not), with and without nulls, in one
 * guest call and in many. */
TEST(flat_path_rows) {
  struct wudf_instance* instance = new_instance(scribble);
  static const int64_t offsets[] = {0, 16, 3};
  static const int64_t rows_per_call[] = {0, 100, 8, 5};
  for (int with_nulls = 0; with_nulls < 2; with_nulls++) {
    int null_every = with_nulls ? 7 : 0;
    struct column input = int32_rows(1000, null_every);
    for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
      for (size_t r = 0; r < sizeof(rows_per_call) / sizeof(rows_per_call[0]); r++) {
        struct wudf_call_options options;
        wudf_call_options_init(&options);
        if (rows_per_call[r] > 0) options.max_rows_per_call = rows_per_call[r];
        int64_t length = 1000 - offsets[o] - 1;
        struct ArrowArray slice = slice_of(&input, offsets[o], length);
        const struct ArrowArray* args[1] = {&slice};
        const struct ArrowSchema* schemas[1] = {&input.schema};
        struct column result;
        struct wudf_error error;
        ASSERT_OK(call_function(instance, "work", 1, args, schemas, &options, &result, &error),
                  &error);
        check_work(&result.array, offsets[o], length, null_every);
        ASSERT_STR_EQ(result.schema.format, "i");
        ASSERT_STR_EQ(result.schema.name, "work");
        column_release(&result);
      }
    }
    column_release(&input);
  }
  wudf_instance_free(instance);
}

/* An argument of the declared fixed-width format whose array does not have
 * that format's shape (buffers, children, dictionary, offset) is refused
 * on the flat path with the shape error, naming the argument. */
TEST(flat_path_refuses_malformed_arguments) {
  struct wudf_instance* instance = new_instance(scribble);
  struct column input = int32_rows(20, 0);
  struct ArrowArray child_array;
  memset(&child_array, 0, sizeof(child_array));
  struct ArrowArray* children[1] = {&child_array};
  for (int variant = 0; variant < 4; variant++) {
    struct ArrowArray broken = input.array;
    switch (variant) {
      case 0: broken.n_buffers = 1; break;
      case 1: broken.buffers = NULL; break;
      case 2: broken.n_children = 1; broken.children = children; break;
      default: broken.offset = -1; break;
    }
    const struct ArrowArray* args[1] = {&broken};
    const struct ArrowSchema* schemas[1] = {&input.schema};
    struct column result;
    struct wudf_error error;
    ASSERT_STATUS(call_function(instance, "work", 1, args, schemas, NULL, &result, &error),
                  EINVAL, &error);
    ASSERT_CONTAINS(error.message, "argument 1");
    ASSERT_CONTAINS(error.message, "is not a well-formed int32 array (at 'x'");
  }
  column_release(&input);
  wudf_instance_free(instance);
}

/* chunk_bytes cuts a flat call's rows into guest calls of about that many
 * bytes of arguments and result (work: 4 + 4 bytes a row): a multiple of 64
 * rows, at least 4,096, at most max_rows_per_call; 0 turns it off and a
 * zero-copy view is one guest call. Every cut gives the same rows, with and
 * without nulls, sliced at a byte boundary of the bitmap or not (the
 * general path, not cut). */
TEST(chunk_bytes_cuts_flat_calls) {
  struct wudf_instance* instance = new_instance(scribble);
  uint32_t work = function_index(scribble, "work");
  const int64_t rows = 100000;
  static const struct {
    int64_t chunk_bytes, max_rows, guest_calls; /* guest_calls: -1 not checked */
  } cases[] = {
      {0, 1 << 20, 1},                  /* off: one guest call */
      {64 << 10, 1 << 20, 13},          /* 8,192 rows a call */
      {64 << 10 | 100, 1 << 20, 13},    /* 8,204 rows, cut to a multiple of 64 */
      {1, 1 << 20, 25},                 /* at least 4,096 rows a call */
      {64 << 10, 5000, 20},             /* max_rows_per_call below the cut */
      {512 << 10, 1 << 20, 2},          /* the default: 65,536 rows a call */
      {(int64_t)1 << 40, 1 << 20, 1},   /* more than every row */
  };
  for (int with_nulls = 0; with_nulls < 2; with_nulls++) {
    int null_every = with_nulls ? 7 : 0;
    struct column input = int32_rows(rows + 16, null_every);
    for (int64_t offset = 0; offset <= 16; offset += 16) {
      struct ArrowArray slice = slice_of(&input, offset, rows);
      const struct ArrowArray* args[1] = {&slice};
      const struct ArrowSchema* schemas[1] = {&input.schema};
      /* The guest runs of one guest call (the call and the release of its
       * result), measured with chunk_bytes off after a first call that
       * made the guest's input block as large as any case needs. */
      int64_t runs_per_call = -1;
      struct wudf_call_options whole;
      wudf_call_options_init(&whole);
      whole.chunk_bytes = 0;
      struct wudf_error error;
      struct ArrowArray out;
      struct ArrowSchema out_schema;
      ASSERT_OK(wudf_function_call(instance, work, 1, args, schemas, &whole, &out, &out_schema,
                                   &error), &error);
      out.release(&out);
      out_schema.release(&out_schema);
      for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct wudf_call_options options;
        wudf_call_options_init(&options);
        options.chunk_bytes = cases[c].chunk_bytes;
        options.max_rows_per_call = cases[c].max_rows;
        uint64_t runs = instance->guest_runs;
        ASSERT_OK(wudf_function_call(instance, work, 1, args, schemas, &options, &out,
                                     &out_schema, &error), &error);
        int64_t made = (int64_t)(instance->guest_runs - runs);
        if (runs_per_call < 0) runs_per_call = made;
        ASSERT_EQ(made, cases[c].guest_calls * runs_per_call);
        check_work(&out, offset, rows, null_every);
        out.release(&out);
        out_schema.release(&out_schema);
      }
      /* A view is the result of one guest call: not cut. */
      struct wudf_call_options options;
      wudf_call_options_init(&options);
      options.chunk_bytes = 1;
      options.result = WUDF_RESULT_VIEW;
      ASSERT_OK(wudf_function_call(instance, work, 1, args, schemas, &options, &out,
                                   &out_schema, &error), &error);
      check_work(&out, offset, rows, null_every);
      out.release(&out);
      out_schema.release(&out_schema);
    }
    /* Sliced off a byte boundary with nulls: the general path, whole. */
    struct ArrowArray slice = slice_of(&input, 3, rows);
    const struct ArrowArray* args[1] = {&slice};
    const struct ArrowSchema* schemas[1] = {&input.schema};
    struct wudf_call_options options;
    wudf_call_options_init(&options);
    options.chunk_bytes = 1;
    struct column result;
    struct wudf_error error;
    ASSERT_OK(call_function(instance, "work", 1, args, schemas, &options, &result, &error),
              &error);
    check_work(&result.array, 3, rows, null_every);
    column_release(&result);
    column_release(&input);
  }
  wudf_instance_free(instance);
}

/* A strict function: nulls leave the flat path (compaction), no nulls take
 * it; both give the same rows. */
TEST(flat_path_strict) {
  struct wudf_instance* instance = new_instance(scribble);
  for (int with_nulls = 0; with_nulls < 2; with_nulls++) {
    struct column a = int32_rows(300, with_nulls ? 5 : 0);
    struct column b = make_column(TYPE_INT64, 300, 0);
    const struct ArrowArray* args[2] = {&a.array, &b.array};
    const struct ArrowSchema* schemas[2] = {&a.schema, &b.schema};
    struct wudf_call_options options;
    wudf_call_options_init(&options);
    options.max_rows_per_call = 64;
    struct column result;
    struct wudf_error error;
    ASSERT_OK(call_function(instance, "add", 2, args, schemas, &options, &result, &error),
              &error);
    ASSERT_EQ(result.array.length, 300);
    for (int64_t i = 0; i < 300; i++) {
      if (with_nulls && i % 5 == 3) {
        ASSERT(row_is_null(&result.array, i));
        continue;
      }
      int64_t b_value, value;
      memcpy(&b_value, row_bytes(&b.array, i, 8), 8);
      memcpy(&value, row_bytes(&result.array, i, 8), 8);
      ASSERT_EQ(value, (int64_t)(int32_t)(i * 7 - 300) + b_value);
    }
    column_release(&result);
    column_release(&a);
    column_release(&b);
  }
  wudf_instance_free(instance);
}

/* After the first call, a call allocates on the host only its result, and
 * runs two guest calls (the function and wudf_release_result). */
TEST(steady_path_allocates_only_the_result) {
  struct wudf_instance* instance = new_instance(scribble);
  uint32_t work = function_index(scribble, "work");
  for (int64_t rows = 1; rows <= 4096; rows *= 64) {
    struct column input = int32_rows(rows, 0);
    const struct ArrowArray* args[1] = {&input.array};
    const struct ArrowSchema* schemas[1] = {&input.schema};
    struct wudf_error error;
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    ASSERT_OK(wudf_function_call(instance, work, 1, args, schemas, NULL, &out, &out_schema,
                                 &error), &error);
    out.release(&out);
    out_schema.release(&out_schema);
    for (int call = 0; call < 10; call++) {
      long before = atomic_load(&allocations);
      uint64_t runs = instance->guest_runs;
      ASSERT_OK(wudf_function_call(instance, work, 1, args, schemas, NULL, &out, &out_schema,
                                   &error), &error);
      ASSERT_EQ(atomic_load(&allocations) - before, 1);
      ASSERT_EQ(instance->guest_runs - runs, 2);
      check_work(&out, 0, rows, 0);
      out.release(&out);
      out_schema.release(&out_schema);
    }
    column_release(&input);
  }
  wudf_instance_free(instance);
}

/* A module without the optional export wudf_release_result (as every
 * module built before it): results are released with two guest calls,
 * and every path still gives the right rows. */
TEST(modules_without_release_result) {
  struct wudf_module* module = load_module(engine, "scribble");
  wudf__udf_table_of(module)->has_release_result = 0;
  struct wudf_instance* instance = new_instance(module);
  uint32_t work = function_index(module, "work");
  struct column input = int32_rows(500, 7);
  const struct ArrowArray* args[1] = {&input.array};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  struct wudf_error error;
  for (int mode = 0; mode < 3; mode++) {
    struct wudf_call_options options;
    wudf_call_options_init(&options);
    if (mode == 1) options.max_rows_per_call = 64;
    if (mode == 2) options.result = WUDF_RESULT_VIEW;
    for (int call = 0; call < 3; call++) {
      uint64_t runs = instance->guest_runs;
      struct ArrowArray out;
      struct ArrowSchema out_schema;
      ASSERT_OK(wudf_function_call(instance, work, 1, args, schemas, &options, &out,
                                   &out_schema, &error), &error);
      check_work(&out, 0, 500, 7);
      out.release(&out);
      out_schema.release(&out_schema);
      if (mode == 0 && call > 0) ASSERT_EQ(instance->guest_runs - runs, 3);
    }
  }
  column_release(&input);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

static int32_t call_snapshot(struct wudf_instance* instance, const char* name, int32_t arg,
                             int has_arg) {
  struct wudf_value value = i32_value(arg);
  return call_i32(instance, name, has_arg ? &value : NULL, has_arg ? 1 : 0);
}

/* A guest that changed its global, memory, memory size, table entries and
 * table size is back to the snapshot after a reset: of a small memory
 * (kept as a copy), and of one grown past WUDF__SNAPSHOT_COPY_MAX before
 * the snapshot (kept in a memfd, mapped back copy-on-write). */
static void check_reset_restores(int32_t pre_grow) {
  struct wudf_instance* instance = new_instance(snapshot_module);
  struct wudf_error error;
  int32_t pages = 1;
  if (pre_grow > 0) {
    ASSERT_EQ(call_snapshot(instance, "grow", pre_grow, 1), 1);
    pages += pre_grow;
    ASSERT(wudf_instance_memory_size(instance) > WUDF__SNAPSHOT_COPY_MAX);
  }
  ASSERT_OK(wudf_instance_snapshot(instance, &error), &error);
  uint64_t memory_at_start = wudf_instance_memory_size(instance);
  for (int round = 0; round < 3; round++) {
    ASSERT_EQ(call_snapshot(instance, "bump_global", 0, 0), 5);
    ASSERT_EQ(call_snapshot(instance, "bump_global", 0, 0), 6);
    ASSERT_EQ(call_snapshot(instance, "bump_memory", 0, 0), 42);
    ASSERT_EQ(call_snapshot(instance, "bump_memory", 0, 0), 43);
    ASSERT_EQ(call_snapshot(instance, "call0", 0, 0), 7);
    ASSERT_OK(wudf_instance_call_name(instance, "swap_table", NULL, 0, NULL, 0,
                                      WUDF_TIMEOUT_DEFAULT, &error), &error);
    ASSERT_EQ(call_snapshot(instance, "call0", 0, 0), 8);
    ASSERT_EQ(call_snapshot(instance, "grow_table", 5, 1), 2);
    ASSERT_EQ(call_snapshot(instance, "table_size", 0, 0), 7);
    ASSERT_EQ(call_snapshot(instance, "grow", 3, 1), pages);
    ASSERT_EQ(call_snapshot(instance, "pages", 0, 0), pages + 3);
    ASSERT_EQ(call_snapshot(instance, "read_page", pages + 2, 1), 1);
    ASSERT(wudf_instance_memory_size(instance) > memory_at_start);
    ASSERT_OK(wudf_instance_reset(instance, &error), &error);
    ASSERT_EQ(wudf_instance_memory_size(instance), memory_at_start);
    ASSERT_EQ(call_snapshot(instance, "pages", 0, 0), pages);
    ASSERT_EQ(call_snapshot(instance, "table_size", 0, 0), 2);
    /* The last page written before the snapshot has its word back. */
    if (pre_grow > 0) ASSERT_EQ(call_snapshot(instance, "read_page", pages - 1, 1), 1);
    /* The grown pages are outside memory again: reading one traps. */
    struct wudf_value page = i32_value(pages + 2);
    struct wudf_value result;
    ASSERT_STATUS(wudf_instance_call_name(instance, "read_page", &page, 1, &result, 1,
                                          WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
    ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_BOUNDS);
    ASSERT_OK(wudf_instance_reset(instance, &error), &error);
  }
  wudf_instance_free(instance);
}

TEST(reset_restores_state) {
  check_reset_restores(0);
  check_reset_restores(20);
}

/* A trap breaks an instance; a reset mends it. Resets are refused without
 * a snapshot and while a view of the instance's memory is alive. */
TEST(reset_mends_and_refuses) {
  struct wudf_instance* instance = new_instance(snapshot_module);
  struct wudf_error error;
  ASSERT_STATUS(wudf_instance_reset(instance, &error), EINVAL, &error);
  ASSERT_OK(wudf_instance_snapshot(instance, &error), &error);
  struct wudf_value result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "crash", NULL, 0, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_STATUS(wudf_instance_call_name(instance, "pages", NULL, 0, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), ENOTRECOVERABLE,
                &error);
  ASSERT_OK(wudf_instance_reset(instance, &error), &error);
  ASSERT_EQ(call_snapshot(instance, "bump_global", 0, 0), 5);
  wudf_instance_free(instance);

  /* A view pins the instance: no reset until it is released. */
  instance = new_instance(scribble);
  ASSERT_OK(wudf_instance_snapshot(instance, &error), &error);
  struct column input = int32_rows(10, 0);
  const struct ArrowArray* args[1] = {&input.array};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.result = WUDF_RESULT_VIEW;
  struct column view;
  ASSERT_OK(call_function(instance, "work", 1, args, schemas, &options, &view, &error),
            &error);
  ASSERT_STATUS(wudf_instance_reset(instance, &error), EBUSY, &error);
  column_release(&view);
  ASSERT_OK(wudf_instance_reset(instance, &error), &error);
  struct column copied;
  ASSERT_OK(call_function(instance, "work", 1, args, schemas, NULL, &copied, &error), &error);
  check_work(&copied.array, 0, 10, 0);
  column_release(&copied);
  column_release(&input);
  wudf_instance_free(instance);
}

/* calls() through a pool: the value it returns tells a reused instance
 * (it counts on) from a reset one (it starts again at 1). */
static int64_t pool_calls(struct wudf_pool* pool, const char* name, int expect_status) {
  struct column input = int32_rows(1, 0);
  const struct ArrowArray* args[1] = {&input.array};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  struct wudf_error error;
  int64_t value = -1;
  ASSERT_STATUS(wudf_pool_call(pool, function_index(scribble, name), 1, args, schemas, NULL,
                               &out, &out_schema, &error), expect_status, &error);
  if (expect_status == 0) {
    memcpy(&value, out.buffers[1], 8);
    out.release(&out);
    out_schema.release(&out_schema);
  }
  column_release(&input);
  return value;
}

TEST(pool_reuses_and_resets) {
  struct wudf_error error;
  struct wudf_pool* pool;
  ASSERT_OK(wudf_pool_new(scribble, NULL, &pool, &error), &error);
  ASSERT_EQ(pool_calls(pool, "calls", 0), 1);
  ASSERT_EQ(pool_calls(pool, "calls", 0), 2);
  ASSERT_EQ(pool_calls(pool, "calls", 0), 3);
  /* A trap: the broken instance is reset, not replaced. */
  pool_calls(pool, "halt", EFAULT);
  struct wudf_pool_stats stats = {.struct_size = sizeof(struct wudf_pool_stats)};
  wudf_pool_stats(pool, &stats);
  ASSERT_EQ(stats.created, 1);
  ASSERT_EQ(stats.resets, 1);
  ASSERT_EQ(stats.idle, 1);
  ASSERT_EQ(stats.in_use, 0);
  ASSERT_EQ(pool_calls(pool, "calls", 0), 1);
  ASSERT_EQ(pool_calls(pool, "calls", 0), 2);
  /* Acquired instances are distinct; released ones come back. */
  struct wudf_instance *first, *second;
  ASSERT_OK(wudf_pool_acquire(pool, &first, &error), &error);
  ASSERT_OK(wudf_pool_acquire(pool, &second, &error), &error);
  ASSERT(first != second);
  wudf_pool_stats(pool, &stats);
  ASSERT_EQ(stats.in_use, 2);
  ASSERT_EQ(stats.created, 2);
  wudf_pool_release(pool, second);
  /* An instance a view still pins cannot be reused: released, it is
   * dropped (the view's release frees it) and later replaced. */
  struct wudf_call_options view_options;
  wudf_call_options_init(&view_options);
  view_options.result = WUDF_RESULT_VIEW;
  struct column pinned_input = int32_rows(4, 0);
  const struct ArrowArray* pinned_args[1] = {&pinned_input.array};
  const struct ArrowSchema* pinned_schemas[1] = {&pinned_input.schema};
  struct column view;
  ASSERT_OK(call_function(first, "work", 1, pinned_args, pinned_schemas, &view_options, &view,
                          &error), &error);
  wudf_pool_release(pool, first);
  wudf_pool_stats(pool, &stats);
  ASSERT_EQ(stats.dropped, 1);
  ASSERT_EQ(stats.idle, 1);
  check_work(&view.array, 0, 4, 0);
  column_release(&view);
  column_release(&pinned_input);
  ASSERT_EQ(pool_calls(pool, "calls", 0) >= 1, 1);
  /* A view would pin a pooled instance. */
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.result = WUDF_RESULT_VIEW;
  struct column input = int32_rows(1, 0);
  const struct ArrowArray* args[1] = {&input.array};
  const struct ArrowSchema* schemas[1] = {&input.schema};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_STATUS(wudf_pool_call(pool, function_index(scribble, "work"), 1, args, schemas,
                               &options, &out, &out_schema, &error), ENOTSUP, &error);
  column_release(&input);
  wudf_pool_free(pool);

  /* reset_after_use: no state passes between calls, and memory the guest
   * leaked is given back. */
  struct wudf_pool_config config;
  wudf_pool_config_init(engine, &config);
  config.reset_after_use = 1;
  ASSERT_OK(wudf_pool_new(scribble, &config, &pool, &error), &error);
  for (int i = 0; i < 3; i++) ASSERT_EQ(pool_calls(pool, "calls", 0), 1);
  struct wudf_instance* instance;
  ASSERT_OK(wudf_pool_acquire(pool, &instance, &error), &error);
  uint64_t memory_at_start = wudf_instance_memory_size(instance);
  struct column kib = int32_rows(1, 0);
  int32_t four_mib = 4096;
  memcpy((void*)kib.array.buffers[1], &four_mib, 4);
  const struct ArrowArray* leak_args[1] = {&kib.array};
  const struct ArrowSchema* leak_schemas[1] = {&kib.schema};
  struct column result;
  ASSERT_OK(call_function(instance, "leak", 1, leak_args, leak_schemas, NULL, &result, &error),
            &error);
  column_release(&result);
  ASSERT(wudf_instance_memory_size(instance) > memory_at_start);
  wudf_pool_release(pool, instance);
  ASSERT_OK(wudf_pool_acquire(pool, &instance, &error), &error);
  ASSERT_EQ(wudf_instance_memory_size(instance), memory_at_start);
  wudf_pool_release(pool, instance);
  column_release(&kib);
  wudf_pool_stats(pool, &stats);
  ASSERT_EQ(stats.created, 1);
  ASSERT_EQ(stats.resets, 5);
  wudf_pool_free(pool);
}

/* Many threads through a pool of at most 3 instances: every result right,
 * some calls trapping (their instances reset). */
struct worker {
  struct wudf_pool* pool;
  uint32_t work, halt;
  int id;
  int failures;
};

static void* pool_worker(void* argument) {
  struct worker* worker = argument;
  uint32_t work = worker->work, halt = worker->halt;
  for (int call = 0; call < 60; call++) {
    int64_t length = 50 + (worker->id * 13 + call * 7) % 200;
    struct column input = int32_rows(length + 20, 9);
    struct ArrowArray slice = slice_of(&input, call % 20, length);
    const struct ArrowArray* args[1] = {&slice};
    const struct ArrowSchema* schemas[1] = {&input.schema};
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    struct wudf_error error;
    int trapping = call % 17 == worker->id % 17;
    int status = wudf_pool_call(worker->pool, trapping ? halt : work, 1, args, schemas, NULL,
                                &out, &out_schema, &error);
    if (trapping) {
      if (status != EFAULT) worker->failures++;
    } else if (status != 0) {
      worker->failures++;
    } else {
      for (int64_t row = 0; row < length; row++) {
        int64_t i = call % 20 + row;
        int null = i % 9 == 3;
        int32_t value;
        memcpy(&value, (const uint8_t*)out.buffers[1] + 4 * row, 4);
        const uint8_t* validity = out.buffers[0];
        int is_null = validity != NULL && !((validity[row / 8] >> (row % 8)) & 1);
        if (is_null != null || (!null && value != (int32_t)(i * 7 - 300) * 3 - 1)) {
          worker->failures++;
          break;
        }
      }
      out.release(&out);
      out_schema.release(&out_schema);
    }
    column_release(&input);
  }
  return NULL;
}

TEST(pool_threads) {
  struct wudf_error error;
  struct wudf_pool_config config;
  wudf_pool_config_init(engine, &config);
  config.max_instances = 3;
  struct wudf_pool* pool;
  ASSERT_OK(wudf_pool_new(scribble, &config, &pool, &error), &error);
  enum { THREADS = 8 };
  pthread_t threads[THREADS];
  struct worker workers[THREADS];
  for (int t = 0; t < THREADS; t++) {
    workers[t] = (struct worker){pool, function_index(scribble, "work"),
                                 function_index(scribble, "halt"), t, 0};
    ASSERT_EQ(pthread_create(&threads[t], NULL, pool_worker, &workers[t]), 0);
  }
  for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
  for (int t = 0; t < THREADS; t++) ASSERT_EQ(workers[t].failures, 0);
  struct wudf_pool_stats stats = {.struct_size = sizeof(struct wudf_pool_stats)};
  wudf_pool_stats(pool, &stats);
  ASSERT(stats.created >= 1 && stats.created <= 3);
  ASSERT_EQ(stats.in_use, 0);
  ASSERT_EQ(stats.idle, (uint32_t)stats.created);
  ASSERT(stats.resets >= 1);
  wudf_pool_free(pool);
}

int main(void) {
  struct wudf_allocator counting = {counting_malloc, counting_realloc, counting_free, NULL};
  if (wudf_set_allocator(&counting) != 0) TEST_FAIL("cannot install the allocator");
  engine = new_engine();
  scribble = load_module(engine, "scribble");
  snapshot_module = load_module(engine, "snapshot");
  RUN_TEST(flat_path_rows);
  RUN_TEST(flat_path_strict);
  RUN_TEST(flat_path_refuses_malformed_arguments);
  RUN_TEST(chunk_bytes_cuts_flat_calls);
  RUN_TEST(steady_path_allocates_only_the_result);
  RUN_TEST(modules_without_release_result);
  RUN_TEST(reset_restores_state);
  RUN_TEST(reset_mends_and_refuses);
  RUN_TEST(pool_reuses_and_resets);
  RUN_TEST(pool_threads);
  wudf_module_free(scribble);
  wudf_module_free(snapshot_module);
  wudf_engine_free(engine);
  wudf_set_allocator(NULL);
  return TEST_SUMMARY();
}
