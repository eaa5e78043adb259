/*
 * bench_udf.c -- what a scalar UDF call costs over Arrow data, measured
 * against native C in the same run:
 *   - gcd(int32, int32) over 1 M rows through wudf_function_call (marshal into
 *     guest memory, the guest's loop, validation, copy out), against the same
 *     loop compiled natively over the same arrays, and against a plain memcpy
 *     of the bytes that cross the boundary (8 MB in, 4 MB out);
 *   - upper(utf8) over 1 M short strings, against a native loop;
 *   - a 1 M-row result (gcd's int32, upper's strings) taken in one guest call
 *     as a host copy (the default) and as a zero-copy view of guest memory,
 *     against a memcpy of the result's bytes;
 *   - gcd on 1,024 rows end to end, call after call, against the native
 *     loop on the same rows;
 *   - the fixed cost of a 1-row call.
 *
 *   bench_udf GCD.wasm STRINGS.wasm   (examples/c/gcd.c and strings.c, built
 *                                      with `wasmudf build`)
 *
 * Medians of several runs. Not a test: it asserts only that the results
 * agree, and `make check` never runs it; `make bench` does.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "wasmudf/wasmudf.h"

enum { ROWS = 1000000, RUNS = 7, SMALL_CALLS = 20000, BATCH_CALLS = 2000 };

/* A borrowed host array over caller buffers. */
static void no_release_array(struct ArrowArray* array) { array->release = NULL; }
static void no_release_schema(struct ArrowSchema* schema) { schema->release = NULL; }

static void make_array(struct ArrowArray* array, struct ArrowSchema* schema, const void** buffers,
                       int64_t length, int n_buffers, const char* format) {
  memset(array, 0, sizeof(*array));
  memset(schema, 0, sizeof(*schema));
  array->length = length;
  array->n_buffers = n_buffers;
  array->buffers = buffers;
  array->release = no_release_array;
  schema->format = format;
  schema->name = "";
  schema->release = no_release_schema;
}

/* The native baseline: the loop of examples/c/gcd.c. */
static void native_gcd(const int32_t* a, const int32_t* b, int32_t* out, int64_t rows) {
  for (int64_t row = 0; row < rows; row++) {
    int64_t x = a[row], y = b[row];
    while (y != 0) {
      int64_t t = x % y;
      x = y;
      y = t;
    }
    out[row] = (int32_t)(x < 0 ? -x : x);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_udf GCD.wasm STRINGS.wasm\n");
    return 2;
  }
  struct wudf_error error;
  struct wudf_engine* engine;
  struct wudf_module* gcd_module;
  struct wudf_module* strings_module;
  struct wudf_instance* gcd_instance;
  struct wudf_instance* strings_instance;
  check(wudf_engine_new(NULL, &engine, &error), &error);
  check(wudf_module_load_file(engine, argv[1], &gcd_module, &error), &error);
  check(wudf_module_load_file(engine, argv[2], &strings_module, &error), &error);
  wait_optimized(gcd_module, argv[1]);
  wait_optimized(strings_module, argv[2]);
  check(wudf_instance_new(gcd_module, NULL, &gcd_instance, &error), &error);
  check(wudf_instance_new(strings_module, NULL, &strings_instance, &error), &error);
  uint32_t gcd, upper;
  check(wudf_module_find_function(gcd_module, "gcd", &gcd, &error), &error);
  check(wudf_module_find_function(strings_module, "upper", &upper, &error), &error);

  /* gcd over 1 M rows. */
  int32_t* a = malloc(ROWS * sizeof(int32_t));
  int32_t* b = malloc(ROWS * sizeof(int32_t));
  int32_t* native_out = malloc(ROWS * sizeof(int32_t));
  int32_t* copy = malloc(3 * ROWS * sizeof(int32_t));
  for (int64_t i = 0; i < ROWS; i++) {
    a[i] = (int32_t)((i * 7919) % 100003);
    b[i] = (int32_t)((i * 104729) % 1009 + 1);
  }
  const void* a_buffers[2] = {NULL, a};
  const void* b_buffers[2] = {NULL, b};
  struct ArrowArray a_array, b_array;
  struct ArrowSchema a_schema, b_schema;
  make_array(&a_array, &a_schema, a_buffers, ROWS, 2, "i");
  make_array(&b_array, &b_schema, b_buffers, ROWS, 2, "i");
  const struct ArrowArray* args[2] = {&a_array, &b_array};
  const struct ArrowSchema* schemas[2] = {&a_schema, &b_schema};
  double wasm_ms[RUNS], native_ms[RUNS], memcpy_ms[RUNS], chunked_ms[RUNS];
  struct wudf_call_options chunked;
  wudf_call_options_init(&chunked);
  chunked.max_rows_per_call = 65536;
  for (int run = 0; run < RUNS; run++) {
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    double start = now_us();
    check(wudf_function_call(gcd_instance, gcd, 2, args, schemas, NULL, &out, &out_schema,
                             &error), &error);
    wasm_ms[run] = (now_us() - start) / 1000;
    start = now_us();
    native_gcd(a, b, native_out, ROWS);
    native_ms[run] = (now_us() - start) / 1000;
    if (memcmp(out.buffers[1], native_out, ROWS * sizeof(int32_t)) != 0) {
      fprintf(stderr, "bench_udf: gcd results differ\n");
      return 1;
    }
    out.release(&out);
    out_schema.release(&out_schema);
    start = now_us();
    check(wudf_function_call(gcd_instance, gcd, 2, args, schemas, &chunked, &out, &out_schema,
                             &error), &error);
    chunked_ms[run] = (now_us() - start) / 1000;
    if (memcmp(out.buffers[1], native_out, ROWS * sizeof(int32_t)) != 0) {
      fprintf(stderr, "bench_udf: chunked gcd results differ\n");
      return 1;
    }
    out.release(&out);
    out_schema.release(&out_schema);
    start = now_us();
    memcpy(copy, a, ROWS * sizeof(int32_t));
    memcpy(copy + ROWS, b, ROWS * sizeof(int32_t));
    memcpy(copy + 2 * ROWS, native_out, ROWS * sizeof(int32_t));
    memcpy_ms[run] = (now_us() - start) / 1000;
  }

  /* upper over 1 M strings of 0-15 bytes. */
  int32_t* offsets = malloc((ROWS + 1) * sizeof(int32_t));
  char* data = malloc((size_t)ROWS * 16);
  char* native_data = malloc((size_t)ROWS * 16);
  offsets[0] = 0;
  for (int64_t i = 0; i < ROWS; i++) {
    int length = (int)(i % 16);
    for (int k = 0; k < length; k++) data[offsets[i] + k] = (char)('a' + (i + k) % 26);
    offsets[i + 1] = offsets[i] + length;
  }
  const void* s_buffers[3] = {NULL, offsets, data};
  struct ArrowArray s_array;
  struct ArrowSchema s_schema;
  make_array(&s_array, &s_schema, s_buffers, ROWS, 3, "u");
  const struct ArrowArray* s_args[1] = {&s_array};
  const struct ArrowSchema* s_schemas[1] = {&s_schema};
  double upper_ms[RUNS], native_upper_ms[RUNS];
  for (int run = 0; run < RUNS; run++) {
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    double start = now_us();
    check(wudf_function_call(strings_instance, upper, 1, s_args, s_schemas, NULL, &out,
                             &out_schema, &error), &error);
    upper_ms[run] = (now_us() - start) / 1000;
    start = now_us();
    int32_t* native_offsets = malloc((ROWS + 1) * sizeof(int32_t));
    native_offsets[0] = 0;
    for (int64_t i = 0; i < ROWS; i++) {
      int32_t begin = offsets[i], end = offsets[i + 1];
      for (int32_t k = begin; k < end; k++) {
        char c = data[k];
        native_data[native_offsets[i] + (k - begin)] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
      }
      native_offsets[i + 1] = native_offsets[i] + (end - begin);
    }
    native_upper_ms[run] = (now_us() - start) / 1000;
    if (memcmp(out.buffers[2], native_data, (size_t)offsets[ROWS]) != 0) {
      fprintf(stderr, "bench_udf: upper results differ\n");
      return 1;
    }
    free(native_offsets);
    out.release(&out);
    out_schema.release(&out_schema);
  }

  /* A 1 M-row result, copied out or viewed in place (one guest call each). */
  struct wudf_call_options one_call;
  wudf_call_options_init(&one_call);
  one_call.max_rows_per_call = ROWS;
  one_call.max_block_bytes = (int64_t)256 << 20;
  char* scratch = malloc((ROWS + 1) * sizeof(int32_t) + (size_t)ROWS * 16);
  double copy_ms[RUNS], view_ms[RUNS], result_memcpy_ms[RUNS];
  double s_copy_ms[RUNS], s_view_ms[RUNS], s_memcpy_ms[RUNS];
  for (int run = 0; run < RUNS; run++) {
    for (int mode = 0; mode < 2; mode++) {
      one_call.result = mode == 0 ? WUDF_RESULT_COPY : WUDF_RESULT_VIEW;
      struct ArrowArray out;
      struct ArrowSchema out_schema;
      double start = now_us();
      check(wudf_function_call(gcd_instance, gcd, 2, args, schemas, &one_call, &out,
                               &out_schema, &error), &error);
      double gcd_ms = (now_us() - start) / 1000;
      if (memcmp(out.buffers[1], native_out, ROWS * sizeof(int32_t)) != 0) {
        fprintf(stderr, "bench_udf: gcd results differ (%s)\n", mode ? "view" : "copy");
        return 1;
      }
      out.release(&out);
      out_schema.release(&out_schema);
      start = now_us();
      check(wudf_function_call(strings_instance, upper, 1, s_args, s_schemas, &one_call, &out,
                               &out_schema, &error), &error);
      double upper_call_ms = (now_us() - start) / 1000;
      if (memcmp(out.buffers[2], native_data, (size_t)offsets[ROWS]) != 0) {
        fprintf(stderr, "bench_udf: upper results differ (%s)\n", mode ? "view" : "copy");
        return 1;
      }
      out.release(&out);
      out_schema.release(&out_schema);
      (mode == 0 ? copy_ms : view_ms)[run] = gcd_ms;
      (mode == 0 ? s_copy_ms : s_view_ms)[run] = upper_call_ms;
    }
    double start = now_us();
    memcpy(copy, native_out, ROWS * sizeof(int32_t));
    result_memcpy_ms[run] = (now_us() - start) / 1000;
    start = now_us();
    memcpy(scratch, offsets, (ROWS + 1) * sizeof(int32_t));
    memcpy(scratch + (ROWS + 1) * sizeof(int32_t), native_data, (size_t)offsets[ROWS]);
    s_memcpy_ms[run] = (now_us() - start) / 1000;
  }

  /* gcd on 1,024 rows end to end, call after call, against the native loop
   * on the same rows (the small-batch case of the kernel targets). */
  a_array.length = b_array.length = 1024;
  double batch_us[RUNS], native_batch_us[RUNS];
  for (int run = 0; run < RUNS; run++) {
    double start = now_us();
    for (int i = 0; i < BATCH_CALLS; i++) {
      struct ArrowArray out;
      struct ArrowSchema out_schema;
      check(wudf_function_call(gcd_instance, gcd, 2, args, schemas, NULL, &out, &out_schema,
                               &error), &error);
      if (i == 0 && memcmp(out.buffers[1], native_out, 1024 * sizeof(int32_t)) != 0) {
        fprintf(stderr, "bench_udf: 1,024-row gcd results differ\n");
        return 1;
      }
      out.release(&out);
      out_schema.release(&out_schema);
    }
    batch_us[run] = (now_us() - start) / BATCH_CALLS;
    start = now_us();
    for (int i = 0; i < BATCH_CALLS; i++) {
      native_gcd(a, b, copy, 1024);
      __asm__ volatile("" : : "r"(copy) : "memory"); /* keep every call */
    }
    native_batch_us[run] = (now_us() - start) / BATCH_CALLS;
  }

  /* The fixed cost of one call of one row. */
  a_array.length = b_array.length = 1;
  double small_us[RUNS];
  for (int run = 0; run < RUNS; run++) {
    double start = now_us();
    for (int i = 0; i < SMALL_CALLS; i++) {
      struct ArrowArray out;
      struct ArrowSchema out_schema;
      check(wudf_function_call(gcd_instance, gcd, 2, args, schemas, NULL, &out, &out_schema,
                               &error), &error);
      out.release(&out);
      out_schema.release(&out_schema);
    }
    small_us[run] = (now_us() - start) / SMALL_CALLS;
  }

  double w = median(wasm_ms, RUNS), n = median(native_ms, RUNS), m = median(memcpy_ms, RUNS);
  double u = median(upper_ms, RUNS), nu = median(native_upper_ms, RUNS);
  printf("gcd(int32, int32), %d rows, median of %d:\n", ROWS, RUNS);
  printf("  wasmudf call (marshal + guest + validate + copy out) %8.2f ms\n", w);
  printf("  native C loop                                        %8.2f ms   ratio %.2fx\n", n,
         w / n);
  printf("  the same in 16 guest calls of 65,536 rows             %8.2f ms   ratio %.2fx\n",
         median(chunked_ms, RUNS), median(chunked_ms, RUNS) / n);
  printf("  memcpy of the 12 MB that cross the boundary          %8.2f ms\n", m);
  printf("  call overhead beyond the native loop                 %8.2f ms = %.1fx the memcpy\n",
         w - n, (w - n) / m);
  printf("upper(utf8), %d strings of 0-15 bytes, median of %d:\n", ROWS, RUNS);
  printf("  wasmudf call %8.2f ms, native C loop %8.2f ms, ratio %.2fx\n", u, nu, u / nu);
  double c = median(copy_ms, RUNS), v = median(view_ms, RUNS);
  double sc = median(s_copy_ms, RUNS), sv = median(s_view_ms, RUNS);
  printf("a 1 M-row result in one guest call, copied out vs viewed in guest memory:\n");
  printf("  gcd   -> int32 (4 MB):  copy %8.2f ms, view %8.2f ms, saved %6.2f ms "
         "(memcpy of the result %5.2f ms)\n", c, v, c - v, median(result_memcpy_ms, RUNS));
  printf("  upper -> utf8 (11.5 MB): copy %8.2f ms, view %8.2f ms, saved %6.2f ms "
         "(memcpy of the result %5.2f ms)\n", sc, sv, sc - sv, median(s_memcpy_ms, RUNS));
  printf("gcd on 1,024 rows, end to end, median of %d x %d calls: wasmudf %.2f us, native C "
         "%.2f us, ratio %.2fx\n", RUNS, BATCH_CALLS, median(batch_us, RUNS),
         median(native_batch_us, RUNS), median(batch_us, RUNS) / median(native_batch_us, RUNS));
  printf("1-row gcd call, end to end, median of %d x %d calls: %.2f us\n", RUNS, SMALL_CALLS,
         median(small_us, RUNS));
  free(a);
  free(b);
  free(native_out);
  free(copy);
  free(offsets);
  free(data);
  free(native_data);
  free(scratch);
  wudf_instance_free(gcd_instance);
  wudf_instance_free(strings_instance);
  wudf_module_free(gcd_module);
  wudf_module_free(strings_module);
  wudf_engine_free(engine);
  return 0;
}
