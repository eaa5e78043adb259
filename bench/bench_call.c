/*
 * bench_call.c -- the per-call path of a scalar UDF call, measured:
 *   - a 1-row call end to end through wudf_function_call (add32 of
 *     bench/guests/percall.c), with the guest calls (export runs) and the
 *     host allocations it makes, counted through the allocation funnel;
 *   - a 1 M-row int32 identity call (default options: guest calls of
 *     about chunk_bytes; and in one guest call) against a memcpy of the
 *     bytes that cross the boundary (4 MB in, 4 MB out);
 *   - 10 M rows with the default options against the same rows in one
 *     guest call;
 *   - an instance of a pool reset to its initial state against a fresh
 *     instantiation;
 *   - gcd over a compute-bound batch on 1 and 2 threads, each thread
 *     with its own instance from one pool.
 *
 *   bench_call PERCALL.wasm   (bench/guests/percall.c, built with
 *                              `wasmudf build`)
 *
 * Medians of several runs. Not a test: it checks that results agree and
 * `make check` never runs it; `make bench` does.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <execinfo.h>

#include "bench.h"
#include "engine/engine.h"
#include "wasmudf/wasmudf.h"

enum { RUNS = 7, SMALL_CALLS = 20000, MILLION = 1000000, TEN_MILLION = 10000000 };

/* The allocation funnel, counted. */
static atomic_long allocations;
static int trace_allocations;
static void trace_allocation(void) {
  if (!trace_allocations) return;
  void* frames[4];
  int count = backtrace(frames, 4);
  backtrace_symbols_fd(frames, count, 2);
  fprintf(stderr, "--\n");
}
static void* counting_malloc(void* user_data, size_t size) {
  (void)user_data;
  atomic_fetch_add(&allocations, 1);
  trace_allocation();
  return malloc(size);
}
static void* counting_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  atomic_fetch_add(&allocations, 1);
  trace_allocation();
  return realloc(pointer, size);
}
static void counting_free(void* user_data, void* pointer) {
  (void)user_data;
  free(pointer);
}

static void no_release_array(struct ArrowArray* array) { array->release = NULL; }
static void no_release_schema(struct ArrowSchema* schema) { schema->release = NULL; }

/* The calling thread's CPU time in microseconds: on a shared machine, the
 * time a call costs without the time its thread waited for a core. */
static double cpu_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return (double)now.tv_sec * 1e6 + (double)now.tv_nsec / 1e3;
}

/* A borrowed int32 column over `values`. */
static void int32_column(struct ArrowArray* array, struct ArrowSchema* schema,
                         const void** buffers, const int32_t* values, int64_t length) {
  memset(array, 0, sizeof(*array));
  memset(schema, 0, sizeof(*schema));
  buffers[0] = NULL;
  buffers[1] = values;
  array->length = length;
  array->n_buffers = 2;
  array->buffers = buffers;
  array->release = no_release_array;
  schema->format = "i";
  schema->name = "";
  schema->release = no_release_schema;
}

static void release_result(struct ArrowArray* out, struct ArrowSchema* out_schema) {
  out->release(out);
  out_schema->release(out_schema);
}

/* Calls `function` of `instance` on one int32 column of `rows` rows of
 * `values`; returns the time in ms (the thread's CPU time in `*cpu_ms`
 * unless NULL) and checks the identity's result. */
static double time_id32_cpu(struct wudf_instance* instance, uint32_t function,
                            const int32_t* values, int64_t rows,
                            const struct wudf_call_options* options, double* cpu_ms) {
  const void* buffers[2];
  struct ArrowArray array;
  struct ArrowSchema schema;
  int32_column(&array, &schema, buffers, values, rows);
  const struct ArrowArray* args[1] = {&array};
  const struct ArrowSchema* schemas[1] = {&schema};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  struct wudf_error error;
  double start = now_us(), cpu_start = cpu_us();
  check(wudf_function_call(instance, function, 1, args, schemas, options, &out, &out_schema,
                           &error), &error);
  double ms = (now_us() - start) / 1000;
  if (cpu_ms != NULL) *cpu_ms = (cpu_us() - cpu_start) / 1000;
  if (out.length != rows || memcmp(out.buffers[1], values, (size_t)rows * 4) != 0) {
    fprintf(stderr, "bench_call: id32 result differs\n");
    exit(1);
  }
  release_result(&out, &out_schema);
  return ms;
}

static double time_id32(struct wudf_instance* instance, uint32_t function,
                        const int32_t* values, int64_t rows,
                        const struct wudf_call_options* options) {
  return time_id32_cpu(instance, function, values, rows, options, NULL);
}

/* One thread's share of the threads measurement: gcd over `rows` rows of
 * its own, through the pool. */
struct share {
  struct wudf_pool* pool;
  uint32_t function;
  const int32_t* a;
  const int32_t* b;
  int64_t rows;
  double cpu_ms; /* the thread's CPU time */
};

/* The same work natively: the control of the machine's own speed-up. */
static void* run_share_native(void* argument) {
  struct share* share = argument;
  double cpu_start = cpu_us();
  int32_t* out = malloc((size_t)share->rows * sizeof(int32_t));
  for (int64_t row = 0; row < share->rows; row++) {
    int64_t x = share->a[row], y = share->b[row];
    while (y != 0) {
      int64_t t = x % y;
      x = y;
      y = t;
    }
    out[row] = (int32_t)(x < 0 ? -x : x);
  }
  volatile int32_t sink = out[share->rows / 2];
  (void)sink;
  free(out);
  share->cpu_ms = (cpu_us() - cpu_start) / 1000;
  return NULL;
}

static void* run_share(void* argument) {
  struct share* share = argument;
  double cpu_start = cpu_us();
  const void *a_buffers[2], *b_buffers[2];
  struct ArrowArray a, b;
  struct ArrowSchema a_schema, b_schema;
  int32_column(&a, &a_schema, a_buffers, share->a, share->rows);
  int32_column(&b, &b_schema, b_buffers, share->b, share->rows);
  const struct ArrowArray* args[2] = {&a, &b};
  const struct ArrowSchema* schemas[2] = {&a_schema, &b_schema};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  struct wudf_error error;
  for (int64_t done = 0; done < share->rows; done += 65536) {
    int64_t count = share->rows - done < 65536 ? share->rows - done : 65536;
    a.offset = b.offset = done;
    a.length = b.length = count;
    check(wudf_pool_call(share->pool, share->function, 2, args, schemas, NULL, &out,
                         &out_schema, &error), &error);
    release_result(&out, &out_schema);
  }
  share->cpu_ms = (cpu_us() - cpu_start) / 1000;
  return NULL;
}

/* gcd over the same rows on one thread and on two (each half), through a
 * pool: the speed-up of the second thread on a compute-bound function. */
static void run_threads(struct wudf_module* module, const int32_t* values) {
  enum { ROWS = 1 << 21 };
  struct wudf_error error;
  struct wudf_pool* pool;
  check(wudf_pool_new(module, NULL, &pool, &error), &error);
  uint32_t gcd;
  check(wudf_module_find_function(module, "gcd", &gcd, &error), &error);
  int32_t* a = malloc(ROWS * sizeof(int32_t));
  int32_t* b = malloc(ROWS * sizeof(int32_t));
  for (int64_t i = 0; i < ROWS; i++) {
    a[i] = (int32_t)((uint32_t)values[i] >> 1);
    b[i] = (int32_t)(((uint32_t)values[i + ROWS] >> 12) + 1);
  }
  double ms[2][2][RUNS]; /* [native][threads - 1][run] */
  double busiest[2][2][RUNS]; /* the CPU time of the busiest thread */
  for (int run = 0; run < RUNS; run++) {
    for (int native = 0; native < 2; native++) {
      for (int threads = 1; threads <= 2; threads++) {
        struct share shares[2];
        pthread_t ids[2];
        double start = now_us();
        for (int t = 0; t < threads; t++) {
          int64_t per = ROWS / threads;
          shares[t] = (struct share){pool, gcd, a + t * per, b + t * per, per, 0};
          pthread_create(&ids[t], NULL, native ? run_share_native : run_share, &shares[t]);
        }
        for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
        ms[native][threads - 1][run] = (now_us() - start) / 1000;
        busiest[native][threads - 1][run] = shares[0].cpu_ms;
        if (threads == 2 && shares[1].cpu_ms > shares[0].cpu_ms) {
          busiest[native][1][run] = shares[1].cpu_ms;
        }
      }
    }
  }
  double one = median(ms[0][0], RUNS), two = median(ms[0][1], RUNS);
  double native_one = median(ms[1][0], RUNS), native_two = median(ms[1][1], RUNS);
  printf("gcd over %d rows through a pool (calls of 65,536 rows), median of %d:\n", ROWS,
         RUNS);
  printf("  wasmudf: 1 thread %8.2f ms, 2 threads %8.2f ms: speed-up %.2fx\n", one, two,
         one / two);
  printf("  native C (control: what the machine gives 2 threads now): 1 thread %8.2f ms, "
         "2 threads %8.2f ms: speed-up %.2fx\n", native_one, native_two,
         native_one / native_two);
  double cpu_one = median(busiest[0][0], RUNS), cpu_two = median(busiest[0][1], RUNS);
  double native_cpu_one = median(busiest[1][0], RUNS);
  double native_cpu_two = median(busiest[1][1], RUNS);
  printf("  CPU time of the busiest thread (the wall time with a free core per thread): "
         "wasmudf %.2f ms / %.2f ms = %.2fx, native %.2f ms / %.2f ms = %.2fx\n", cpu_one,
         cpu_two, cpu_one / cpu_two, native_cpu_one, native_cpu_two,
         native_cpu_one / native_cpu_two);
  free(a);
  free(b);
  wudf_pool_free(pool);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bench_call PERCALL.wasm\n");
    return 2;
  }
  struct wudf_allocator counting = {counting_malloc, counting_realloc, counting_free, NULL};
  wudf_set_allocator(&counting);
  struct wudf_error error;
  struct wudf_engine* engine;
  struct wudf_module* module;
  struct wudf_instance* instance;
  check(wudf_engine_new(NULL, &engine, &error), &error);
  check(wudf_module_load_file(engine, argv[1], &module, &error), &error);
  wait_optimized(module, argv[1]);
  check(wudf_instance_new(module, NULL, &instance, &error), &error);
  uint32_t id32, add32;
  check(wudf_module_find_function(module, "id32", &id32, &error), &error);
  check(wudf_module_find_function(module, "add32", &add32, &error), &error);

  if (getenv("BENCH_CALL_THREADS_ONLY") != NULL) { /* the threads measurement alone */
    int32_t* seeds = malloc((size_t)2 * (1 << 21) * sizeof(int32_t) + 4);
    for (int64_t i = 0; i < 2 * (1 << 21); i++) seeds[i] = (int32_t)(i * 2654435761u);
    run_threads(module, seeds);
    free(seeds);
    return 0;
  }

  /* A 1-row call. */
  int32_t one_a = 20, one_b = 22;
  const void *a_buffers[2], *b_buffers[2];
  struct ArrowArray a_array, b_array;
  struct ArrowSchema a_schema, b_schema;
  int32_column(&a_array, &a_schema, a_buffers, &one_a, 1);
  int32_column(&b_array, &b_schema, b_buffers, &one_b, 1);
  const struct ArrowArray* args[2] = {&a_array, &b_array};
  const struct ArrowSchema* schemas[2] = {&a_schema, &b_schema};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  for (int i = 0; i < 100; i++) { /* warm: the instance's first-call set-up */
    check(wudf_function_call(instance, add32, 2, args, schemas, NULL, &out, &out_schema,
                             &error), &error);
    release_result(&out, &out_schema);
  }
  uint64_t runs_before = instance->guest_runs;
  long allocations_before = atomic_load(&allocations);
  trace_allocations = getenv("BENCH_CALL_TRACE") != NULL;
  check(wudf_function_call(instance, add32, 2, args, schemas, NULL, &out, &out_schema, &error),
        &error);
  long call_allocations = atomic_load(&allocations) - allocations_before;
  trace_allocations = 0;
  uint64_t call_runs = instance->guest_runs - runs_before;
  if (((const int32_t*)out.buffers[1])[0] != 42) {
    fprintf(stderr, "bench_call: add32 result differs\n");
    return 1;
  }
  release_result(&out, &out_schema);
  double small_us[RUNS], small_cpu_us[RUNS];
  for (int run = 0; run < RUNS; run++) {
    double start = now_us(), cpu_start = cpu_us();
    for (int i = 0; i < SMALL_CALLS; i++) {
      wudf_function_call(instance, add32, 2, args, schemas, NULL, &out, &out_schema, &error);
      release_result(&out, &out_schema);
    }
    small_us[run] = (now_us() - start) / SMALL_CALLS;
    small_cpu_us[run] = (cpu_us() - cpu_start) / SMALL_CALLS;
  }
  if (getenv("BENCH_CALL_SMALL_ONLY") != NULL) { /* for profiling the 1-row call */
    printf("%.3f us per 1-row call (%.3f us of the thread's CPU time)\n", median(small_us, RUNS),
           median(small_cpu_us, RUNS));
    return 0;
  }
  double raw_ns[RUNS];
  uint32_t add_export;
  check(wudf_module_find_export(module, "wudf_abi_version", &add_export, &error), &error);
  for (int run = 0; run < RUNS; run++) {
    struct wudf_value result;
    double start = now_us();
    for (int i = 0; i < SMALL_CALLS; i++) {
      wudf_instance_call(instance, add_export, NULL, 0, &result, 1, WUDF_TIMEOUT_DEFAULT,
                         &error);
    }
    raw_ns[run] = (now_us() - start) * 1000 / SMALL_CALLS;
  }
  printf("1-row add32(int32, int32) through wudf_function_call, median of %d x %d calls:\n",
         RUNS, SMALL_CALLS);
  printf("  %.3f us per call (%.3f us of the thread's CPU time); %llu guest calls and %ld "
         "host allocations per call (one wudf_instance_call of wudf_abi_version: %.0f ns)\n",
         median(small_us, RUNS), median(small_cpu_us, RUNS), (unsigned long long)call_runs,
         call_allocations, median(raw_ns, RUNS));

  /* 1 M and 10 M rows of int32. */
  int32_t* values = malloc((size_t)TEN_MILLION * sizeof(int32_t));
  int32_t* copy = malloc((size_t)TEN_MILLION * 2 * sizeof(int32_t));
  for (int64_t i = 0; i < TEN_MILLION; i++) values[i] = (int32_t)(i * 2654435761u);
  struct wudf_call_options one_call;
  wudf_call_options_init(&one_call);
  one_call.max_rows_per_call = TEN_MILLION;
  one_call.max_block_bytes = (int64_t)1 << 30;
  one_call.chunk_bytes = 0; /* not cut for the cache either */
  struct wudf_call_options view;
  wudf_call_options_init(&view);
  view.result = WUDF_RESULT_VIEW;
  double million_ms[RUNS], memcpy_ms[RUNS], default_ms[RUNS], whole_ms[RUNS], view_ms[RUNS];
  double million_cpu[RUNS], memcpy_cpu[RUNS], default_cpu[RUNS], whole_cpu[RUNS], view_cpu[RUNS];
  double uncut_ms[RUNS], uncut_cpu[RUNS];
  time_id32(instance, id32, values, MILLION, NULL);
  for (int run = 0; run < RUNS; run++) {
    million_ms[run] = time_id32_cpu(instance, id32, values, MILLION, NULL, &million_cpu[run]);
    uncut_ms[run] = time_id32_cpu(instance, id32, values, MILLION, &one_call, &uncut_cpu[run]);
    view_ms[run] = time_id32_cpu(instance, id32, values, MILLION, &view, &view_cpu[run]);
    double start = now_us(), cpu_start = cpu_us();
    memcpy(copy, values, (size_t)MILLION * 4);
    memcpy(copy + MILLION, copy, (size_t)MILLION * 4);
    memcpy_ms[run] = (now_us() - start) / 1000;
    memcpy_cpu[run] = (cpu_us() - cpu_start) / 1000;
  }
  /* The 10 M-row calls after all the 1 M-row ones: each kind in its steady
   * state (a 40 MB result lets the C library give its heap back, and the
   * next 4 MB result then writes to fresh pages). */
  time_id32(instance, id32, values, TEN_MILLION, &one_call);
  for (int run = 0; run < RUNS; run++) {
    default_ms[run] = time_id32_cpu(instance, id32, values, TEN_MILLION, NULL, &default_cpu[run]);
    whole_ms[run] = time_id32_cpu(instance, id32, values, TEN_MILLION, &one_call,
                                  &whole_cpu[run]);
  }
  double m = median(million_ms, RUNS), c = median(memcpy_ms, RUNS);
  double d = median(default_ms, RUNS), w = median(whole_ms, RUNS);
  double mc = median(million_cpu, RUNS), cc = median(memcpy_cpu, RUNS);
  double dc = median(default_cpu, RUNS), wc = median(whole_cpu, RUNS);
  double vc = median(view_cpu, RUNS);
  printf("id32(int32), median of %d, wall time (the thread's CPU time):\n", RUNS);
  printf("  1 M rows, default options       %8.2f ms (%8.2f ms); memcpy of its 8 MB %6.2f ms "
         "(%6.2f ms): %.2fx (%.2fx)\n", m, mc, c, cc, m / c, mc / cc);
  printf("  1 M rows in one guest call      %8.2f ms (%8.2f ms): %.2fx (%.2fx) the memcpy\n",
         median(uncut_ms, RUNS), median(uncut_cpu, RUNS), median(uncut_ms, RUNS) / c,
         median(uncut_cpu, RUNS) / cc);
  printf("  1 M rows, a zero-copy view      %8.2f ms (%8.2f ms): %.2fx (%.2fx) the memcpy\n",
         median(view_ms, RUNS), vc, median(view_ms, RUNS) / c, vc / cc);
  printf("  10 M rows, default options      %8.2f ms (%8.2f ms)\n", d, dc);
  printf("  10 M rows in one guest call     %8.2f ms (%8.2f ms): default / one call %.2fx "
         "(%.2fx)\n", w, wc, d / w, dc / wc);

  /* Reset to the snapshot against a fresh instance: each followed by the
   * first call it makes possible (the fresh one asks its ABI set-up then;
   * the reset one too, since its snapshot was taken before any call). */
  struct wudf_instance* fresh;
  struct wudf_instance* resettable;
  double instantiate_us[RUNS], reset_us[RUNS], instantiate_cpu[RUNS], reset_cpu[RUNS];
  check(wudf_instance_new(module, NULL, &resettable, &error), &error);
  check(wudf_instance_snapshot(resettable, &error), &error); /* as a pool does */
  for (int run = 0; run < RUNS; run++) {
    double start = now_us(), cpu_start = cpu_us();
    for (int i = 0; i < 100; i++) {
      check(wudf_instance_new(module, NULL, &fresh, &error), &error);
      time_id32(fresh, id32, values, 1000, NULL);
      wudf_instance_free(fresh);
    }
    instantiate_us[run] = (now_us() - start) / 100;
    instantiate_cpu[run] = (cpu_us() - cpu_start) / 100;
    double spent = 0, spent_cpu = 0;
    for (int i = 0; i < 100; i++) {
      time_id32(resettable, id32, values, 1000, NULL); /* a used instance */
      start = now_us();
      cpu_start = cpu_us();
      check(wudf_instance_reset(resettable, &error), &error);
      time_id32(resettable, id32, values, 1000, NULL);
      spent += now_us() - start;
      spent_cpu += cpu_us() - cpu_start;
    }
    reset_us[run] = spent / 100;
    reset_cpu[run] = spent_cpu / 100;
  }
  printf("a used instance (%llu KiB of memory) reset to its snapshot and called (1,000 rows): "
         "%.2f us (%.2f us CPU);\n  a fresh instance instantiated, called and freed: %.2f us "
         "(%.2f us CPU); median of %d x 100\n",
         (unsigned long long)wudf_instance_memory_size(resettable) / 1024,
         median(reset_us, RUNS), median(reset_cpu, RUNS), median(instantiate_us, RUNS),
         median(instantiate_cpu, RUNS), RUNS);
  wudf_instance_free(resettable);

  /* gcd on 1 and 2 threads, each on its own instance of one pool. */
  run_threads(module, values);

  free(values);
  free(copy);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_free(engine);
  return 0;
}
