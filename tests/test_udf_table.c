/*
 * test_udf_table.c -- table functions through wudf_table_call: chunks bound
 * by max_output_rows and complete, one input row yielding many chunks in
 * flat guest memory, input rows re-cut and mapped back (slices, strict
 * nulls, several guest inputs), several columns, several streams on one
 * instance, early release, the instance freed under a stream, and every
 * protocol violation of a lying guest named with its rule. Expected rows are
 * computed here from the inputs.
 */
#include <pthread.h>

#include "udf_helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* examples;
static struct wudf_module* kinds;
static struct wudf_module* liars;

static uint32_t function_index(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  uint32_t index = 0;
  ASSERT_OK(wudf_module_find_function(module, name, &index, &error), &error);
  return index;
}

/* An int32 or int64 column of `n` rows; rows where `nulls` (may be NULL)
 * is nonzero are null. */
static struct column int_column(uint8_t type, const int64_t* values, const int* nulls,
                                int64_t n) {
  struct builder builder;
  builder_init(&builder, type, n);
  for (int64_t i = 0; i < n; i++) {
    if (nulls != NULL && nulls[i]) {
      builder_set_null(&builder, i);
    } else if (type == TYPE_INT32) {
      int32_t v = (int32_t)values[i];
      memcpy(builder_value(&builder, i), &v, 4);
    } else {
      memcpy(builder_value(&builder, i), &values[i], 8);
    }
  }
  return builder_finish(&builder, "x");
}

/* Opens a stream of function `name` of `module` over `count` arrays. */
static int open_stream(struct wudf_instance* instance, struct wudf_module* module,
                       const char* name, uint32_t count, const struct ArrowArray* const* arrays,
                       const struct ArrowSchema* const* schemas,
                       const struct wudf_call_options* options, struct ArrowArrayStream* stream,
                       struct wudf_error* error) {
  return wudf_table_call(instance, function_index(module, name), count, arrays, schemas,
                         options, stream, error);
}

/* The values of int64 column `column` of a chunk. */
static const int64_t* chunk_int64(const struct ArrowArray* chunk, int column) {
  const struct ArrowArray* child = chunk->children[column];
  return (const int64_t*)child->buffers[1] + child->offset + chunk->offset;
}

static const int32_t* chunk_int32(const struct ArrowArray* chunk, int column) {
  const struct ArrowArray* child = chunk->children[column];
  return (const int32_t*)child->buffers[1] + child->offset + chunk->offset;
}

/* ---------------------------------------------------------------- series */

/* Inputs of series: starts i % 7 - 2, stops start + i % 5 - 1 (some
 * empty); null where (i % 11 == 3) for starts and (i % 13 == 5) for stops. */
#define SERIES_ROWS 500
static struct column series_starts, series_stops;

static void make_series_inputs(void) {
  int64_t starts[SERIES_ROWS], stops[SERIES_ROWS];
  int start_nulls[SERIES_ROWS], stop_nulls[SERIES_ROWS];
  for (int64_t i = 0; i < SERIES_ROWS; i++) {
    starts[i] = i % 7 - 2;
    stops[i] = starts[i] + i % 5 - 1;
    start_nulls[i] = i % 11 == 3;
    stop_nulls[i] = i % 13 == 5;
  }
  series_starts = int_column(TYPE_INT32, starts, start_nulls, SERIES_ROWS);
  series_stops = int_column(TYPE_INT32, stops, stop_nulls, SERIES_ROWS);
}

/* Reads the whole stream and checks it is series over rows [offset,
 * offset + length) of the inputs, in chunks of at most `chunk_rows`. */
static void check_series_stream(struct ArrowArrayStream* stream, int64_t offset,
                                int64_t length, int64_t chunk_rows) {
  int64_t row = 0, value = 0; /* the next expected output */
  int started = 0;
  struct ArrowArray chunk;
  int64_t chunks = 0, total = 0, expected_total = 0;
  for (int64_t r = 0; r < length; r++) {
    int64_t i = offset + r;
    if (i % 11 != 3 && i % 13 != 5 && i % 5 >= 1) expected_total += i % 5;
  }
  for (;;) {
    ASSERT_EQ(stream->get_next(stream, &chunk), 0);
    if (chunk.release == NULL) break;
    chunks++;
    ASSERT_EQ(chunk.n_children, 2);
    ASSERT(chunk.length > 0 && chunk.length <= chunk_rows);
    ASSERT_EQ(chunk.null_count, 0);
    const int64_t* rows = chunk_int64(&chunk, 0);
    const int32_t* values = chunk_int32(&chunk, 1);
    for (int64_t k = 0; k < chunk.length; k++) {
      /* Advance the expectation to the next row with output. */
      while (!started || value > (row + offset) % 7 - 2 + (row + offset) % 5 - 1) {
        if (started) row++;
        started = 1;
        ASSERT_LT(row, length);
        int64_t i = offset + row;
        value = i % 7 - 2;
        if (i % 11 == 3 || i % 13 == 5) value = INT64_MAX; /* skipped: no output */
      }
      ASSERT_EQ(rows[k], row);
      ASSERT_EQ(values[k], value);
      value++;
    }
    total += chunk.length;
    chunk.release(&chunk);
  }
  ASSERT_EQ(total, expected_total);
  ASSERT(chunks >= (expected_total + chunk_rows - 1) / chunk_rows);
  /* After the end, the end again. */
  ASSERT_EQ(stream->get_next(stream, &chunk), 0);
  ASSERT(chunk.release == NULL);
}

TEST(chunks_are_bounded_and_complete) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_error error;
  static const int64_t chunk_sizes[] = {65536, 7, 1, 100};
  static const int64_t input_sizes[] = {1 << 20, 1 << 20, 3, 50};
  for (size_t c = 0; c < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); c++) {
    struct wudf_call_options options;
    wudf_call_options_init(&options);
    options.max_output_rows = chunk_sizes[c];
    options.max_rows_per_call = input_sizes[c];
    /* Whole, and a slice at an odd offset. */
    for (int sliced = 0; sliced < 2; sliced++) {
      int64_t offset = sliced ? 13 : 0, length = sliced ? 400 : SERIES_ROWS;
      struct ArrowArray a = slice_of(&series_starts, offset, length);
      struct ArrowArray b = slice_of(&series_stops, offset, length);
      const struct ArrowArray* arrays[2] = {&a, &b};
      const struct ArrowSchema* schemas[2] = {&series_starts.schema, &series_stops.schema};
      struct ArrowArrayStream stream;
      ASSERT_OK(open_stream(instance, examples, "series", 2, arrays, schemas, &options,
                            &stream, &error), &error);
      check_series_stream(&stream, offset, length, chunk_sizes[c]);
      stream.release(&stream);
      ASSERT(stream.release == NULL);
    }
  }
  wudf_instance_free(instance);
}

TEST(schema_before_any_guest_call) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  int64_t n[1] = {3};
  struct column column = int_column(TYPE_INT32, n, NULL, 1);
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct ArrowArrayStream stream;
  ASSERT_OK(open_stream(instance, kinds, "columns", 1, arrays, schemas, NULL, &stream, &error),
            &error);
  struct ArrowSchema schema;
  ASSERT_EQ(stream.get_schema(&stream, &schema), 0);
  ASSERT_STR_EQ(schema.format, "+s");
  ASSERT_STR_EQ(schema.name, "columns");
  ASSERT_EQ(schema.n_children, 4);
  ASSERT_STR_EQ(schema.children[0]->name, "input_row");
  ASSERT_STR_EQ(schema.children[0]->format, "l");
  ASSERT_EQ(schema.children[0]->flags, 0);
  ASSERT_STR_EQ(schema.children[1]->name, "i");
  ASSERT_STR_EQ(schema.children[1]->format, "i");
  ASSERT_EQ(schema.children[1]->flags, ARROW_FLAG_NULLABLE);
  ASSERT_STR_EQ(schema.children[2]->format, "u");
  ASSERT_STR_EQ(schema.children[3]->name, "half");
  ASSERT_STR_EQ(schema.children[3]->format, "g");
  schema.release(&schema);
  /* No guest code ran: the instance was never prepared. */
  ASSERT_EQ(wudf__udf_of(instance)->abi.ready, 0);
  struct ArrowArray chunk;
  ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
  ASSERT_EQ(chunk.length, 3);
  const struct ArrowArray* text = chunk.children[2];
  const int32_t* offsets = text->buffers[1];
  ASSERT_EQ(offsets[3] - offsets[0], 3); /* "0", "1", "2" */
  ASSERT(memcmp((const char*)text->buffers[2] + offsets[0], "012", 3) == 0);
  ASSERT(((const double*)chunk.children[3]->buffers[1])[2] == 1.0);
  chunk.release(&chunk);
  stream.release(&stream);
  column_release(&column);
  wudf_instance_free(instance);
}

TEST(one_row_yields_many_chunks_in_flat_guest_memory) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_error error;
  int64_t starts[1] = {-1000000}, stops[1] = {1999999};
  struct column a = int_column(TYPE_INT32, starts, NULL, 1);
  struct column b = int_column(TYPE_INT32, stops, NULL, 1);
  const struct ArrowArray* arrays[2] = {&a.array, &b.array};
  const struct ArrowSchema* schemas[2] = {&a.schema, &b.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 10000;
  struct ArrowArrayStream stream;
  ASSERT_OK(open_stream(instance, examples, "series", 2, arrays, schemas, &options, &stream,
                        &error), &error);
  int64_t next = -1000000, chunks = 0;
  uint64_t memory_after_two = 0;
  struct ArrowArray chunk;
  while (stream.get_next(&stream, &chunk) == 0 && chunk.release != NULL) {
    ASSERT_EQ(chunk.length, 10000);
    const int32_t* values = chunk_int32(&chunk, 1);
    const int64_t* rows = chunk_int64(&chunk, 0);
    for (int64_t k = 0; k < chunk.length; k++, next++) {
      ASSERT_EQ(values[k], next);
      ASSERT_EQ(rows[k], 0);
    }
    chunk.release(&chunk);
    if (++chunks == 2) memory_after_two = wudf_instance_memory_size(instance);
  }
  ASSERT_EQ(chunks, 300);
  ASSERT_EQ(next, 2000000);
  /* Three million rows went through guest memory that did not grow after
   * the second chunk: each chunk is built in the same buffers. */
  ASSERT_EQ(wudf_instance_memory_size(instance), memory_after_two);
  stream.release(&stream);
  column_release(&a);
  column_release(&b);
  wudf_instance_free(instance);
}

TEST(null_handling_both_ways) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  int64_t values[10] = {0};
  int nulls[10] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 1};
  struct column column = int_column(TYPE_INT32, values, nulls, 10);
  struct ArrowArray sliced = slice_of(&column, 1, 8);
  const struct ArrowArray* arrays[1] = {&sliced};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 3;
  /* CALLED ON NULL INPUT: one row per input row, nulls seen. */
  struct ArrowArrayStream stream;
  ASSERT_OK(open_stream(instance, kinds, "null_flags", 1, arrays, schemas, &options, &stream,
                        &error), &error);
  int64_t row = 0;
  struct ArrowArray chunk;
  while (stream.get_next(&stream, &chunk) == 0 && chunk.release != NULL) {
    for (int64_t k = 0; k < chunk.length; k++, row++) {
      ASSERT_EQ(chunk_int64(&chunk, 0)[k], row);
      ASSERT_EQ(chunk_int32(&chunk, 1)[k], nulls[row + 1]);
    }
    chunk.release(&chunk);
  }
  ASSERT_EQ(row, 8);
  stream.release(&stream);
  /* Strict (the examples): rows with a null argument yield nothing, and a
   * call of only such rows never reaches the guest. */
  struct column all_null = int_column(TYPE_INT32, values, (int[]){1, 1, 1}, 3);
  const struct ArrowArray* nothing[2] = {&all_null.array, &all_null.array};
  const struct ArrowSchema* nothing_schemas[2] = {&all_null.schema, &all_null.schema};
  struct wudf_instance* fresh = new_instance(examples);
  ASSERT_OK(open_stream(fresh, examples, "series", 2, nothing, nothing_schemas, NULL, &stream,
                        &error), &error);
  ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
  ASSERT(chunk.release == NULL);
  stream.release(&stream);
  /* The only guest calls were the ABI's set-up: no input was written. */
  ASSERT_EQ(wudf__udf_of(fresh)->abi.ready, 1);
  wudf_instance_free(fresh);
  column_release(&all_null);
  column_release(&column);
  wudf_instance_free(instance);
}

TEST(streams_interleave_with_each_other_and_with_calls) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  int64_t n[2] = {5, 3};
  struct column counts = int_column(TYPE_INT32, n, NULL, 2);
  const struct ArrowArray* arrays[1] = {&counts.array};
  const struct ArrowSchema* schemas[1] = {&counts.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 2;
  struct ArrowArrayStream first, second;
  ASSERT_OK(open_stream(instance, kinds, "columns", 1, arrays, schemas, &options, &first,
                        &error), &error);
  ASSERT_OK(open_stream(instance, kinds, "columns", 1, arrays, schemas, &options, &second,
                        &error), &error);
  int64_t seen[2] = {0, 0};
  struct ArrowArrayStream* streams[2] = {&first, &second};
  int done[2] = {0, 0};
  while (!done[0] || !done[1]) {
    for (int s = 0; s < 2; s++) {
      if (done[s]) continue;
      struct ArrowArray chunk;
      ASSERT_EQ(streams[s]->get_next(streams[s], &chunk), 0);
      if (chunk.release == NULL) {
        done[s] = 1;
        continue;
      }
      for (int64_t k = 0; k < chunk.length; k++, seen[s]++) {
        int64_t expected_row = seen[s] < 5 ? 0 : 1;
        int64_t expected_i = seen[s] < 5 ? seen[s] : seen[s] - 5;
        ASSERT_EQ(chunk_int64(&chunk, 0)[k], expected_row);
        ASSERT_EQ(chunk_int32(&chunk, 1)[k], expected_i);
      }
      chunk.release(&chunk);
      /* A scalar call between chunks. */
      struct column doubled;
      ASSERT_OK(call_function(instance, "twice", 1, arrays, schemas, NULL, &doubled, &error),
                &error);
      ASSERT_EQ(((const int32_t*)doubled.array.buffers[1])[0], 10);
      column_release(&doubled);
    }
  }
  ASSERT_EQ(seen[0], 8);
  ASSERT_EQ(seen[1], 8);
  first.release(&first);
  second.release(&second);
  column_release(&counts);
  wudf_instance_free(instance);
}

TEST(streams_released_early_let_the_guest_forget_their_input) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  int64_t start[1] = {100};
  struct column column = int_column(TYPE_INT64, start, NULL, 1);
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 1000;
  uint64_t memory = 0;
  for (int round = 0; round < 300; round++) {
    struct ArrowArrayStream stream;
    ASSERT_OK(open_stream(instance, kinds, "endless", 1, arrays, schemas, &options, &stream,
                          &error), &error);
    for (int c = 0; c < 2; c++) {
      struct ArrowArray chunk;
      ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
      ASSERT_EQ(chunk.length, 1000);
      ASSERT_EQ(chunk_int64(&chunk, 1)[999], 100 + c * 1000 + 999);
      chunk.release(&chunk);
    }
    /* Released mid-input: the guest still holds the input until the next
     * call on the instance tells it to close. */
    stream.release(&stream);
    if (round == 10) memory = wudf_instance_memory_size(instance);
  }
  ASSERT_EQ(wudf_instance_memory_size(instance), memory);
  /* Handles were reused, not leaked. */
  ASSERT_LE(wudf__udf_of(instance)->handle_capacity, 8);
  column_release(&column);
  wudf_instance_free(instance);
}

/* Releases the streams of `arg` (a struct released_streams) one by one. */
struct released_streams {
  struct ArrowArrayStream* streams;
  int count;
};

static void* release_streams(void* arg) {
  struct released_streams* work = arg;
  for (int i = 0; i < work->count; i++) work->streams[i].release(&work->streams[i]);
  return NULL;
}

TEST(streams_released_on_another_thread_while_calls_run) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  int64_t start[1] = {0};
  struct column column = int_column(TYPE_INT64, start, NULL, 1);
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 100;
  enum { STREAMS = 40 };
  static struct ArrowArrayStream streams[STREAMS];
  for (int i = 0; i < STREAMS; i++) {
    ASSERT_OK(open_stream(instance, kinds, "endless", 1, arrays, schemas, &options, &streams[i],
                          &error), &error);
    struct ArrowArray chunk;
    ASSERT_EQ(streams[i].get_next(&streams[i], &chunk), 0);
    chunk.release(&chunk);
  }
  struct released_streams work = {streams, STREAMS};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, NULL, release_streams, &work), 0);
  int64_t n[1] = {21};
  struct column twenty_one = int_column(TYPE_INT32, n, NULL, 1);
  const struct ArrowArray* scalar_args[1] = {&twenty_one.array};
  const struct ArrowSchema* scalar_schemas[1] = {&twenty_one.schema};
  for (int i = 0; i < 300; i++) {
    struct column doubled;
    ASSERT_OK(call_function(instance, "twice", 1, scalar_args, scalar_schemas, NULL, &doubled,
                            &error), &error);
    ASSERT_EQ(((const int32_t*)doubled.array.buffers[1])[0], 42);
    column_release(&doubled);
  }
  ASSERT_EQ(pthread_join(thread, NULL), 0);
  /* The next call closes what the guest still held; then every handle is
   * free. */
  struct column doubled;
  ASSERT_OK(call_function(instance, "twice", 1, scalar_args, scalar_schemas, NULL, &doubled,
                          &error), &error);
  column_release(&doubled);
  for (uint32_t h = 1; h < wudf__udf_of(instance)->handle_capacity; h++) {
    ASSERT_EQ(wudf__udf_of(instance)->handles[h].state, WUDF__HANDLE_FREE);
  }
  ASSERT_EQ(atomic_load(&wudf__udf_of(instance)->handles_pending), 0);
  column_release(&twenty_one);
  column_release(&column);
  wudf_instance_free(instance);
}

TEST(a_stream_holds_its_instance) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_error error;
  struct ArrowArray a = slice_of(&series_starts, 0, 100);
  struct ArrowArray b = slice_of(&series_stops, 0, 100);
  const struct ArrowArray* arrays[2] = {&a, &b};
  const struct ArrowSchema* schemas[2] = {&series_starts.schema, &series_stops.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 5;
  struct ArrowArrayStream stream;
  ASSERT_OK(open_stream(instance, examples, "series", 2, arrays, schemas, &options, &stream,
                        &error), &error);
  /* Freed by its owner: the stream keeps it until its release, which then
   * frees it (the sanitizers and valgrind see no leak, no use after free). */
  wudf_instance_free(instance);
  check_series_stream(&stream, 0, 100, 5);
  stream.release(&stream);
}

TEST(batch_columns_are_kept_by_the_stream) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_error error;
  struct column columns[2] = {series_starts, series_stops};
  struct column batch = make_struct(SERIES_ROWS, 2, columns);
  /* The batch itself is a slice: its offset applies to both columns. */
  batch.array.offset = 13;
  batch.array.length = 400;
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 9;
  options.max_rows_per_call = 37;
  struct ArrowArrayStream stream;
  ASSERT_OK(wudf_table_call_batch(instance, function_index(examples, "series"), &batch.array,
                                  &batch.schema, &options, &stream, &error), &error);
  check_series_stream(&stream, 13, 400, 9);
  stream.release(&stream);
  /* The batch's columns are copies of the inputs' structs: free only the
   * batch's own memory. */
  for (int i = 0; i < 2; i++) {
    free(batch.array.children[i]);
    free(batch.schema.children[i]);
  }
  free(batch.array.children);
  free(batch.array.buffers);
  free(batch.schema.children);
  wudf_instance_free(instance);
}

/* ---------------------------------------------------------------- errors */

/* Opens a stream of liar `name` on a 3-row int32 column, reads it to its
 * end or first error; returns that status with the message in `error`. */
static int run_liar(struct wudf_instance* instance, const char* name, int64_t chunk_rows,
                    struct wudf_error* error) {
  int64_t values[3] = {1, 2, 3};
  struct column column = int_column(TYPE_INT32, values, NULL, 3);
  const struct ArrowArray* arrays[1] = {&column.array};
  const struct ArrowSchema* schemas[1] = {&column.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = chunk_rows;
  struct ArrowArrayStream stream;
  ASSERT_OK(open_stream(instance, liars, name, 1, arrays, schemas, &options, &stream, error),
            error);
  int status;
  struct ArrowArray chunk;
  while ((status = stream.get_next(&stream, &chunk)) == 0 && chunk.release != NULL) {
    chunk.release(&chunk);
  }
  if (status != 0) {
    const char* message = stream.get_last_error(&stream);
    ASSERT(message != NULL);
    snprintf(error->message, sizeof(error->message), "%s", message);
    /* The error repeats. */
    ASSERT_EQ(stream.get_next(&stream, &chunk), status);
  }
  stream.release(&stream);
  column_release(&column);
  return status;
}

TEST(every_protocol_violation_is_named) {
  struct wudf_instance* instance = new_instance(liars);
  struct wudf_error error;
  static const struct {
    const char* function;
    int64_t chunk_rows;
    const char* message;
  } cases[] = {
      {"row_outside", 100, "function 'row_outside' returned an invalid result: "
                           "result.input_row: input row: row 1 names input row 3, outside the "
                           "3 rows of the input"},
      {"row_negative", 100, "result.input_row: input row: row 0 names input row -1"},
      {"row_largest", 100, "result.input_row: input row: row 1 names input row "
                           "9223372036854775807, outside the 3 rows of the input"},
      {"row_smallest", 100, "result.input_row: input row: row 1 names input row "
                            "-9223372036854775808, outside the 3 rows of the input"},
      {"rows_decrease", 100, "result.input_row: input row: row 1 names input row 0 after row "
                             "1 (input rows must not decrease)"},
      {"rows_decrease_across", 100, "row 0 names input row 0 after row 1"},
      {"row_null", 100, "result.input_row: null_count: 1 null input rows"},
      {"more_empty", 100, "result: more: an empty chunk with the flag MORE"},
      {"too_many", 5, "result: length: a chunk of 6 rows, more than the 5 asked for"},
      {"bad_flags", 100, "result: control flags: unknown bits 0x6"},
      {"null_chunk_row", 100, "result: null_count: a chunk row is null"},
      {"wrong_column", 100, "returned an invalid result: result: type: at .wrong_column: "
                            "expected int32 (format 'i'), got int16 (format 's')"},
      {"no_row_column", 100, "result: type: expected field 1 to be named 'input_row', got "
                             "'row'"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ASSERT_EQ(run_liar(instance, cases[i].function, cases[i].chunk_rows, &error), EPROTO);
    ASSERT_CONTAINS(error.message, cases[i].message);
    /* The instance carries on. */
    ASSERT_EQ(run_liar(instance, "fine", 100, &error), 0);
  }
  wudf_instance_free(instance);
}

TEST(failures_of_calls_and_streams) {
  struct wudf_instance* instance = new_instance(kinds);
  struct wudf_error error;
  int64_t n[3] = {2, -1, 4};
  struct column column = int_column(TYPE_INT32, n, NULL, 3);
  const struct ArrowArray* arrays[2] = {&column.array, &column.array};
  const struct ArrowSchema* schemas[2] = {&column.schema, &column.schema};
  struct ArrowArrayStream stream;
  /* The guest's own failure ends the stream with its message. */
  ASSERT_OK(open_stream(instance, kinds, "columns", 1, arrays, schemas, NULL, &stream, &error),
            &error);
  struct ArrowArray chunk;
  ASSERT_EQ(stream.get_next(&stream, &chunk), EREMOTEIO);
  ASSERT_STR_EQ(stream.get_last_error(&stream), "function 'columns' failed: columns: n is -1");
  stream.release(&stream);
  /* Types are checked when the stream opens, naming the argument. */
  struct column int64_column = int_column(TYPE_INT64, n, NULL, 3);
  const struct ArrowArray* wrong[1] = {&int64_column.array};
  const struct ArrowSchema* wrong_schemas[1] = {&int64_column.schema};
  ASSERT_STATUS(open_stream(instance, kinds, "columns", 1, wrong, wrong_schemas, NULL, &stream,
                            &error), EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'columns': argument 1 (n): expected int32 (format "
                               "'i'), got int64 (format 'l')");
  ASSERT_STATUS(open_stream(instance, kinds, "columns", 2, arrays, schemas, NULL, &stream,
                            &error), EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'columns' takes 1 arguments, 2 given");
  /* Kinds and modes. */
  ASSERT_STATUS(open_stream(instance, kinds, "twice", 1, arrays, schemas, NULL, &stream,
                            &error), EINVAL, &error);
  ASSERT_STR_EQ(error.message, "function 'twice' is a scalar function: call it with "
                               "wudf_function_call");
  ASSERT_STATUS(open_stream(instance, kinds, "count_all", 1, wrong, wrong_schemas, NULL,
                            &stream, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "is an aggregate function: call it with wudf_aggregate_new");
  struct wudf_call_options view;
  wudf_call_options_init(&view);
  view.result = WUDF_RESULT_VIEW;
  ASSERT_STATUS(open_stream(instance, kinds, "columns", 1, arrays, schemas, &view, &stream,
                            &error), ENOTSUP, &error);
  struct column result;
  ASSERT_STATUS(call_function(instance, "columns", 1, arrays, schemas, &view, &result, &error),
                ENOTSUP, &error);
  /* A view pins the instance: get_next is EBUSY until it goes, and then
   * carries on (nothing happened). */
  struct ArrowArray first_row = slice_of(&column, 0, 1);
  const struct ArrowArray* two[1] = {&first_row};
  ASSERT_OK(open_stream(instance, kinds, "columns", 1, two, schemas, NULL, &stream, &error),
            &error);
  struct column pinned;
  ASSERT_OK(call_function(instance, "twice", 1, arrays, schemas, &view, &pinned, &error),
            &error);
  ASSERT_EQ(stream.get_next(&stream, &chunk), EBUSY);
  ASSERT_CONTAINS(stream.get_last_error(&stream), "zero-copy result view");
  column_release(&pinned);
  ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
  ASSERT_EQ(chunk.length, 2);
  chunk.release(&chunk);
  stream.release(&stream);
  column_release(&int64_column);
  column_release(&column);
  wudf_instance_free(instance);
}

TEST(function_call_concatenates_the_chunks) {
  struct wudf_instance* instance = new_instance(examples);
  struct wudf_error error;
  struct ArrowArray a = slice_of(&series_starts, 7, 300);
  struct ArrowArray b = slice_of(&series_stops, 7, 300);
  const struct ArrowArray* arrays[2] = {&a, &b};
  const struct ArrowSchema* schemas[2] = {&series_starts.schema, &series_stops.schema};
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.max_output_rows = 4;
  struct column result;
  ASSERT_OK(call_function(instance, "series", 2, arrays, schemas, &options, &result, &error),
            &error);
  ASSERT_STR_EQ(result.schema.format, "+s");
  ASSERT_STR_EQ(result.schema.children[0]->name, "input_row");
  /* The same rows as the stream gives. */
  struct ArrowArrayStream stream;
  ASSERT_OK(open_stream(instance, examples, "series", 2, arrays, schemas, &options, &stream,
                        &error), &error);
  int64_t at = 0;
  struct ArrowArray chunk;
  while (stream.get_next(&stream, &chunk) == 0 && chunk.release != NULL) {
    for (int64_t k = 0; k < chunk.length; k++, at++) {
      ASSERT_EQ(chunk_int64(&chunk, 0)[k], chunk_int64(&result.array, 0)[at]);
      ASSERT_EQ(chunk_int32(&chunk, 1)[k], chunk_int32(&result.array, 1)[at]);
    }
    chunk.release(&chunk);
  }
  ASSERT_EQ(at, result.array.length);
  stream.release(&stream);
  column_release(&result);
  wudf_instance_free(instance);
}

int main(void) {
  engine = new_engine();
  examples = load_module(engine, "example_tables");
  kinds = load_module(engine, "kinds");
  liars = load_module(engine, "kind_liars");
  make_series_inputs();
  RUN_TEST(chunks_are_bounded_and_complete);
  RUN_TEST(schema_before_any_guest_call);
  RUN_TEST(one_row_yields_many_chunks_in_flat_guest_memory);
  RUN_TEST(null_handling_both_ways);
  RUN_TEST(streams_interleave_with_each_other_and_with_calls);
  RUN_TEST(streams_released_early_let_the_guest_forget_their_input);
  RUN_TEST(streams_released_on_another_thread_while_calls_run);
  RUN_TEST(a_stream_holds_its_instance);
  RUN_TEST(batch_columns_are_kept_by_the_stream);
  RUN_TEST(every_protocol_violation_is_named);
  RUN_TEST(failures_of_calls_and_streams);
  RUN_TEST(function_call_concatenates_the_chunks);
  column_release(&series_starts);
  column_release(&series_stops);
  wudf_module_free(examples);
  wudf_module_free(kinds);
  wudf_module_free(liars);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
