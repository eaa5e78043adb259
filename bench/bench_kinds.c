/*
 * bench_kinds.c -- what table and aggregate functions cost, against native C
 * doing the same work in the same run:
 *   - GROUP BY: sum(int64) and avg(float64) over 1 M rows into 1,000 and
 *     100,000 groups (examples/c/aggregates.c through wudf_aggregate_update
 *     and _finish: marshal, one guest call, the guest's loop, validation,
 *     copy out), against a native loop into per-group states that builds
 *     the same Arrow result;
 *   - merging: the states of 100,000 groups taken out of one accumulator
 *     (Arrow arrays, validated and copied), into bytes and back, and merged
 *     into another;
 *   - a table function: series() yielding 10 M rows from 100 input rows,
 *     drained from the ArrowArrayStream in chunks of 65,536 rows, against a
 *     native loop writing the same chunks (input_row and value columns).
 *
 *   bench_kinds AGGREGATES.wasm TABLES.wasm   (examples/c/aggregates.c and
 *                                              tables.c, `wasmudf build`)
 *
 * Medians of several runs. Not a test: it checks only that wasm and native
 * agree; `make bench` runs it, `make check` never does.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "wasmudf/wasmudf.h"

enum { ROWS = 1000000, RUNS = 7, SERIES_INPUTS = 100, SERIES_EACH = 100000, CHUNK = 65536 };

static void no_release_array(struct ArrowArray* array) { array->release = NULL; }
static void no_release_schema(struct ArrowSchema* schema) { schema->release = NULL; }

static void make_array(struct ArrowArray* array, struct ArrowSchema* schema,
                       const void** buffers, int64_t length, const char* format) {
  memset(array, 0, sizeof(*array));
  memset(schema, 0, sizeof(*schema));
  array->length = length;
  array->n_buffers = 2;
  array->buffers = buffers;
  array->release = no_release_array;
  schema->format = format;
  schema->name = "";
  schema->release = no_release_schema;
}

static uint32_t find(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  uint32_t index;
  check(wudf_module_find_function(module, name, &index, &error), &error);
  return index;
}

/* The native GROUP BY sum: per-group sums with the overflow check and
 * "any row" flag of the example, then the int64 result with a validity
 * bitmap, as the wasm function returns it. */
static void native_sum(const int64_t* values, const uint32_t* groups, int64_t rows,
                       int64_t group_count, int64_t* sums, uint8_t* any, int64_t* out,
                       uint8_t* validity) {
  memset(sums, 0, (size_t)group_count * sizeof(*sums));
  memset(any, 0, (size_t)group_count);
  for (int64_t row = 0; row < rows; row++) {
    uint32_t g = groups[row];
    if (__builtin_add_overflow(sums[g], values[row], &sums[g])) {
      fprintf(stderr, "bench_kinds: overflow\n");
      exit(1);
    }
    any[g] = 1;
  }
  memset(validity, 0, (size_t)(group_count + 7) / 8);
  for (int64_t g = 0; g < group_count; g++) {
    out[g] = any[g] ? sums[g] : 0;
    if (any[g]) validity[g / 8] |= (uint8_t)(1u << (g % 8));
  }
}

static void native_avg(const double* values, const uint32_t* groups, int64_t rows,
                       int64_t group_count, double* sums, int64_t* counts, double* out) {
  memset(sums, 0, (size_t)group_count * sizeof(*sums));
  memset(counts, 0, (size_t)group_count * sizeof(*counts));
  for (int64_t row = 0; row < rows; row++) {
    sums[groups[row]] += values[row];
    counts[groups[row]]++;
  }
  for (int64_t g = 0; g < group_count; g++) {
    out[g] = counts[g] > 0 ? sums[g] / (double)counts[g] : 0;
  }
}

/* Runs wasm `function` over one column grouped into `group_count` groups;
 * returns the milliseconds of update + finish, the result in `*out`. */
static double wasm_grouped(struct wudf_instance* instance, uint32_t function,
                           const struct ArrowArray* column, const struct ArrowSchema* schema,
                           const uint32_t* groups, int64_t group_count,
                           struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wudf_error error;
  struct wudf_aggregate* aggregate;
  check(wudf_aggregate_new(instance, function, &aggregate, &error), &error);
  const struct ArrowArray* args[1] = {column};
  const struct ArrowSchema* schemas[1] = {schema};
  double start = now_us();
  check(wudf_aggregate_update(aggregate, 1, args, schemas, groups, group_count, NULL, &error),
        &error);
  check(wudf_aggregate_finish(aggregate, NULL, out, out_schema, &error), &error);
  double ms = (now_us() - start) / 1000;
  wudf_aggregate_free(aggregate);
  return ms;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_kinds AGGREGATES.wasm TABLES.wasm\n");
    return 2;
  }
  struct wudf_error error;
  struct wudf_engine* engine;
  struct wudf_module* aggregates;
  struct wudf_module* tables;
  struct wudf_instance* instance;
  struct wudf_instance* table_instance;
  check(wudf_engine_new(NULL, &engine, &error), &error);
  check(wudf_module_load_file(engine, argv[1], &aggregates, &error), &error);
  check(wudf_module_load_file(engine, argv[2], &tables, &error), &error);
  wait_optimized(aggregates, argv[1]);
  wait_optimized(tables, argv[2]);
  check(wudf_instance_new(aggregates, NULL, &instance, &error), &error);
  check(wudf_instance_new(tables, NULL, &table_instance, &error), &error);
  uint32_t sum = find(aggregates, "sum"), avg = find(aggregates, "avg");
  uint32_t series = find(tables, "series");

  int64_t* ints = malloc(ROWS * sizeof(int64_t));
  double* floats = malloc(ROWS * sizeof(double));
  uint32_t* groups = malloc(ROWS * sizeof(uint32_t));
  for (int64_t i = 0; i < ROWS; i++) {
    ints[i] = (i * 7919) % 1000003 - 500000;
    floats[i] = (double)((i * 104729) % 100003) * 0.25;
  }
  const void* int_buffers[2] = {NULL, ints};
  const void* float_buffers[2] = {NULL, floats};
  struct ArrowArray int_array, float_array;
  struct ArrowSchema int_schema, float_schema;
  make_array(&int_array, &int_schema, int_buffers, ROWS, "l");
  make_array(&float_array, &float_schema, float_buffers, ROWS, "g");

  static const int64_t group_counts[2] = {1000, 100000};
  int64_t* sums = malloc(100000 * sizeof(int64_t));
  double* float_sums = malloc(100000 * sizeof(double));
  int64_t* counts = malloc(100000 * sizeof(int64_t));
  uint8_t* any = malloc(100000);
  int64_t* native_out = malloc(100000 * sizeof(int64_t));
  double* native_avg_out = malloc(100000 * sizeof(double));
  uint8_t* validity = malloc(100000 / 8 + 1);
  printf("GROUP BY over %d rows, median of %d (wasm: one update call + finish, results "
         "validated and copied):\n", ROWS, RUNS);
  for (int k = 0; k < 2; k++) {
    int64_t group_count = group_counts[k];
    for (int64_t i = 0; i < ROWS; i++) {
      groups[i] = (uint32_t)(((uint64_t)i * 2654435761u) % (uint64_t)group_count);
    }
    double wasm_sum[RUNS], native_sum_ms[RUNS], wasm_avg[RUNS], native_avg_ms[RUNS];
    for (int run = 0; run < RUNS; run++) {
      struct ArrowArray out;
      struct ArrowSchema out_schema;
      wasm_sum[run] = wasm_grouped(instance, sum, &int_array, &int_schema, groups,
                                   group_count, &out, &out_schema);
      double start = now_us();
      native_sum(ints, groups, ROWS, group_count, sums, any, native_out, validity);
      native_sum_ms[run] = (now_us() - start) / 1000;
      if (out.length != group_count || memcmp(out.buffers[1], native_out,
                                              (size_t)group_count * sizeof(int64_t)) != 0) {
        fprintf(stderr, "bench_kinds: sums differ\n");
        return 1;
      }
      out.release(&out);
      out_schema.release(&out_schema);
      wasm_avg[run] = wasm_grouped(instance, avg, &float_array, &float_schema, groups,
                                   group_count, &out, &out_schema);
      start = now_us();
      native_avg(floats, groups, ROWS, group_count, float_sums, counts, native_avg_out);
      native_avg_ms[run] = (now_us() - start) / 1000;
      if (memcmp(out.buffers[1], native_avg_out, (size_t)group_count * sizeof(double)) != 0) {
        fprintf(stderr, "bench_kinds: averages differ\n");
        return 1;
      }
      out.release(&out);
      out_schema.release(&out_schema);
    }
    double ws = median(wasm_sum, RUNS), ns = median(native_sum_ms, RUNS);
    double wa = median(wasm_avg, RUNS), na = median(native_avg_ms, RUNS);
    printf("  %6lld groups: sum  wasm %7.2f ms, native C %7.2f ms, ratio %.2fx\n",
           (long long)group_count, ws, ns, ws / ns);
    printf("  %6lld groups: avg  wasm %7.2f ms, native C %7.2f ms, ratio %.2fx\n",
           (long long)group_count, wa, na, wa / na);
  }

  /* Partial states of 100,000 groups: out, to bytes and back, merged. */
  double state_ms[RUNS], bytes_ms[RUNS], merge_ms[RUNS];
  size_t bytes_size = 0;
  for (int run = 0; run < RUNS; run++) {
    struct wudf_aggregate* left;
    struct wudf_aggregate* right;
    check(wudf_aggregate_new(instance, avg, &left, &error), &error);
    check(wudf_aggregate_new(instance, avg, &right, &error), &error);
    const struct ArrowArray* args[1] = {&float_array};
    const struct ArrowSchema* schemas[1] = {&float_schema};
    check(wudf_aggregate_update(left, 1, args, schemas, groups, 100000, NULL, &error), &error);
    struct ArrowArray states, back;
    struct ArrowSchema states_schema, back_schema;
    double start = now_us();
    check(wudf_aggregate_state(left, NULL, &states, &states_schema, &error), &error);
    state_ms[run] = (now_us() - start) / 1000;
    uint8_t* bytes;
    start = now_us();
    check(wudf_array_serialize(&states, &states_schema, &bytes, &bytes_size, &error), &error);
    check(wudf_array_deserialize(bytes, bytes_size, WUDF_VALIDATION_FULL, &back, &back_schema,
                                 &error), &error);
    bytes_ms[run] = (now_us() - start) / 1000;
    start = now_us();
    check(wudf_aggregate_merge(right, &back, &back_schema, NULL, 100000, NULL, &error), &error);
    merge_ms[run] = (now_us() - start) / 1000;
    wudf_bytes_free(bytes);
    states.release(&states);
    states_schema.release(&states_schema);
    back.release(&back);
    back_schema.release(&back_schema);
    wudf_aggregate_free(left);
    wudf_aggregate_free(right);
  }
  printf("partial avg states of 100,000 groups (struct<sum: float64, count: int64>):\n");
  printf("  taken out %6.2f ms, to %zu bytes and back (validated) %6.2f ms, merged %6.2f ms\n",
         median(state_ms, RUNS), bytes_size, median(bytes_ms, RUNS), median(merge_ms, RUNS));

  /* series(): 100 inputs x 100,000 rows through the stream. */
  int32_t starts[SERIES_INPUTS], stops[SERIES_INPUTS];
  for (int i = 0; i < SERIES_INPUTS; i++) {
    starts[i] = i * 1000;
    stops[i] = starts[i] + SERIES_EACH - 1;
  }
  const void* start_buffers[2] = {NULL, starts};
  const void* stop_buffers[2] = {NULL, stops};
  struct ArrowArray start_array, stop_array;
  struct ArrowSchema start_schema, stop_schema;
  make_array(&start_array, &start_schema, start_buffers, SERIES_INPUTS, "i");
  make_array(&stop_array, &stop_schema, stop_buffers, SERIES_INPUTS, "i");
  const struct ArrowArray* series_args[2] = {&start_array, &stop_array};
  const struct ArrowSchema* series_schemas[2] = {&start_schema, &stop_schema};
  int64_t* native_rows = malloc(CHUNK * sizeof(int64_t));
  int32_t* native_values = malloc(CHUNK * sizeof(int32_t));
  double wasm_series[RUNS], native_series[RUNS];
  for (int run = 0; run < RUNS; run++) {
    struct ArrowArrayStream stream;
    uint64_t wasm_check = 0, native_check = 0;
    double start = now_us();
    check(wudf_table_call(table_instance, series, 2, series_args, series_schemas, NULL,
                          &stream, &error), &error);
    struct ArrowArray chunk;
    int64_t total = 0;
    while (stream.get_next(&stream, &chunk) == 0 && chunk.release != NULL) {
      const int64_t* rows = chunk.children[0]->buffers[1];
      const int32_t* values = chunk.children[1]->buffers[1];
      /* The consumer reads every row, as the native side does. */
      for (int64_t k = 0; k < chunk.length; k++) {
        wasm_check += (uint64_t)rows[k] * 31 + (uint64_t)(uint32_t)values[k];
      }
      total += chunk.length;
      chunk.release(&chunk);
    }
    stream.release(&stream);
    wasm_series[run] = (now_us() - start) / 1000;
    if (total != (int64_t)SERIES_INPUTS * SERIES_EACH) {
      fprintf(stderr, "bench_kinds: series gave %lld rows\n", (long long)total);
      return 1;
    }
    /* Native: the same chunks, written the same way. */
    start = now_us();
    int64_t filled = 0;
    for (int i = 0; i < SERIES_INPUTS; i++) {
      for (int64_t v = starts[i]; v <= stops[i]; v++) {
        native_rows[filled] = i;
        native_values[filled] = (int32_t)v;
        if (++filled == CHUNK) {
          for (int64_t k = 0; k < CHUNK; k++) {
            native_check += (uint64_t)native_rows[k] * 31 + (uint64_t)(uint32_t)native_values[k];
          }
          filled = 0;
        }
      }
    }
    for (int64_t k = 0; k < filled; k++) {
      native_check += (uint64_t)native_rows[k] * 31 + (uint64_t)(uint32_t)native_values[k];
    }
    native_series[run] = (now_us() - start) / 1000;
    if (wasm_check != native_check) {
      fprintf(stderr, "bench_kinds: series chunks differ\n");
      return 1;
    }
  }
  double wt = median(wasm_series, RUNS), nt = median(native_series, RUNS);
  printf("series(): %d input rows -> %d rows in chunks of %d, median of %d:\n", SERIES_INPUTS,
         SERIES_INPUTS * SERIES_EACH, CHUNK, RUNS);
  printf("  wasm stream %7.2f ms (%.1f M rows/s), native C %7.2f ms, ratio %.2fx\n", wt,
         (double)SERIES_INPUTS * SERIES_EACH / wt / 1000, nt, wt / nt);

  free(ints);
  free(floats);
  free(groups);
  free(sums);
  free(float_sums);
  free(counts);
  free(any);
  free(native_out);
  free(native_avg_out);
  free(validity);
  free(native_rows);
  free(native_values);
  wudf_instance_free(instance);
  wudf_instance_free(table_instance);
  wudf_module_free(aggregates);
  wudf_module_free(tables);
  wudf_engine_free(engine);
  return 0;
}
