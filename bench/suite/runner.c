/*
 * runner.c -- bench_suite, the C side of the benchmark suite
 * (bench/suite/suite.py runs it; docs/performance.md):
 *
 *   bench_suite run native|wasmudf|wasmudf-view PLAN
 *                                         time the kernels of PLAN
 *   bench_suite cold MODULE.wasm default|o2 [GCD_EXPORT]
 *                                         one first load, milliseconds
 *
 * PLAN has one task per line:
 *
 *   KERNEL KIND FUNCTION GROUPS ROWS MODULE.wasm DATA RESULT SAMPLES CALLS
 *
 * DATA is the kernel's argument batch as wudf_array_serialize bytes (made
 * once per run by suite.py, so every runner sees the same values). For each
 * task the runner makes one untimed call whose result it writes to RESULT
 * (each result array -- a table function's chunks -- as a little-endian
 * uint64 size and wudf_array_serialize bytes; suite.py compares the runners'
 * results), untimed calls more for warm-up (at least CALLS of them and
 * 0.3 s: V8 moves hot code to its optimising tier on a background thread
 * meanwhile; every runner does the same), then SAMPLES samples of CALLS
 * calls each, and prints
 *
 *   RESULT KERNEL ROWS MICROSECONDS...
 *
 * the time of one call in each sample. A call is what a caller of each
 * runner does to get its result:
 *   - native: the twin in native.c, reading the argument buffers in place
 *     and returning a malloc'd ArrowArray, released;
 *   - wasmudf: the public API with default options, release build, one
 *     warm instance: wudf_function_call (scalar: arguments copied into the
 *     guest, the call, the result validated and copied out), for the
 *     aggregate wudf_aggregate_new + _update + _finish + _free, for the
 *     table function wudf_table_call and every chunk of its stream; each
 *     result released;
 *   - wasmudf-view: the same with a zero-copy result
 *     (wudf_call_options.result = WUDF_RESULT_VIEW, max_rows_per_call =
 *     the task's rows: a view holds one guest call's result) for the
 *     scalar functions and the aggregate's finish; a table function's
 *     chunks are always copies (its calls are wasmudf's).
 * The wasmudf runner waits for the module's optimised tier
 * (wudf_module_wait_tier) before it makes the instance: the steady state is
 * cc -O2's code, never the fast tier's.
 * `cold` times wudf_engine_new + wudf_module_load_file with an empty cache
 * directory of its own (removed afterwards), with the default configuration
 * (the fast tier: tcc's code at once, cc -O2's built in the background and
 * waited for by wudf_engine_free, after the time is taken) or with "o2"
 * (fast_tier = 0: cc -O2 before the load returns). With GCD_EXPORT it then
 * instantiates the module and checks that GCD_EXPORT(12, 18) is 6.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench.h"
#include "native.h"
#include "wasmudf/wasmudf.h"

/* The least time of the warm-up calls of a task, in microseconds. */
#define WARM_UP_US 300000.0

/* Ends the program with a message. */
static void die(const char* what, const char* detail) {
  fprintf(stderr, "bench_suite: %s%s%s\n", what, detail != NULL ? ": " : "",
          detail != NULL ? detail : "");
  exit(1);
}

/* Reads a whole file; *size receives its length. */
static uint8_t* read_file(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  if (file == NULL) die("cannot open", path);
  fseek(file, 0, SEEK_END);
  long length = ftell(file);
  fseek(file, 0, SEEK_SET);
  uint8_t* bytes = malloc((size_t)length + 1);
  if (bytes == NULL || fread(bytes, 1, (size_t)length, file) != (size_t)length) {
    die("cannot read", path);
  }
  fclose(file);
  *size = (size_t)length;
  return bytes;
}

/* A sink of results: releases each array, after writing it to `file` when
 * that is not NULL. */
struct sink_context {
  FILE* file;
};

/* The native_sink of both runners (see struct sink_context). */
static void sink(void* context, struct ArrowArray* array, struct ArrowSchema* schema) {
  struct sink_context* sink_context = context;
  if (sink_context->file != NULL) {
    struct wudf_error error;
    uint8_t* bytes;
    size_t size;
    check(wudf_array_serialize(array, schema, &bytes, &size, &error), &error);
    uint64_t length = size;
    if (fwrite(&length, 8, 1, sink_context->file) != 1 ||
        fwrite(bytes, 1, size, sink_context->file) != size) {
      die("cannot write a result", NULL);
    }
    wudf_bytes_free(bytes);
  }
  array->release(array);
}

/* One task of the plan. */
struct task {
  char kernel[64], kind[16], function[64], module[4096], data[4096], result[4096];
  long long groups, rows;
  int samples, calls;
};

/* The wasmudf runner's state: one engine, the last module and instance,
 * and the call options (NULL: the defaults). */
struct wasmudf_state {
  const struct wudf_call_options* options;
  struct wudf_call_options view_options;
  struct wudf_engine* engine;
  struct wudf_module* module;
  struct wudf_instance* instance;
  char path[4096];
};

/* One timed call of the wasmudf runner (see the top of the file) over the
 * argument batch; results go to `context`. Ends the program on an error. */
static void wasmudf_call(struct wasmudf_state* state, const struct task* task,
                         uint32_t function, const struct ArrowArray* batch,
                         const struct ArrowSchema* batch_schema, struct sink_context* context) {
  struct wudf_error error;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  const struct ArrowArray* args[64];
  const struct ArrowSchema* schemas[64];
  uint32_t count = (uint32_t)batch->n_children;
  for (uint32_t i = 0; i < count; i++) {
    args[i] = batch->children[i];
    schemas[i] = batch_schema->children[i];
  }
  if (strcmp(task->kind, "scalar") == 0) {
    check(wudf_function_call(state->instance, function, count, args, schemas, state->options,
                             &out, &out_schema, &error), &error);
    sink(context, &out, &out_schema);
    out_schema.release(&out_schema);
  } else if (strcmp(task->kind, "aggregate") == 0) {
    /* The last column is the group id. */
    struct wudf_aggregate* aggregate;
    const uint32_t* groups = batch->children[count - 1]->buffers[1];
    check(wudf_aggregate_new(state->instance, function, &aggregate, &error), &error);
    check(wudf_aggregate_update(aggregate, count - 1, args, schemas, groups, task->groups,
                                NULL, &error), &error);
    check(wudf_aggregate_finish(aggregate, state->options, &out, &out_schema, &error),
          &error);
    wudf_aggregate_free(aggregate);
    sink(context, &out, &out_schema);
    out_schema.release(&out_schema);
  } else {
    struct ArrowArrayStream stream;
    check(wudf_table_call(state->instance, function, count, args, schemas, NULL, &stream,
                          &error), &error);
    struct ArrowSchema chunk_schema;
    bool have_schema = false;
    if (context->file != NULL) {
      if (stream.get_schema(&stream, &chunk_schema) != 0) die("get_schema failed", NULL);
      have_schema = true;
    }
    for (;;) {
      if (stream.get_next(&stream, &out) != 0) {
        die("stream failed", stream.get_last_error(&stream));
      }
      if (out.release == NULL) break;
      sink(context, &out, have_schema ? &chunk_schema : NULL);
    }
    if (have_schema) chunk_schema.release(&chunk_schema);
    stream.release(&stream);
  }
}

/* Runs one task of the plan with `runner` and prints its RESULT line. */
static void run_task(const char* runner, struct wasmudf_state* state, const struct task* task) {
  struct wudf_error error;
  size_t size;
  uint8_t* bytes = read_file(task->data, &size);
  struct ArrowArray batch;
  struct ArrowSchema batch_schema;
  check(wudf_array_deserialize(bytes, size, WUDF_VALIDATION_FULL, &batch, &batch_schema,
                               &error), &error);
  free(bytes);
  bool native = strcmp(runner, "native") == 0;
  if (state->options != NULL) state->view_options.max_rows_per_call = task->rows;
  uint32_t function = 0;
  if (!native) {
    if (strcmp(state->path, task->module) != 0) {
      wudf_instance_free(state->instance);
      wudf_module_free(state->module);
      state->instance = NULL;
      state->module = NULL;
      check(wudf_module_load_file(state->engine, task->module, &state->module, &error),
            &error);
      /* The steady state is the optimised code: with the fast tier (the
       * default) the load returns with tcc's code and builds cc -O2's in
       * the background; wait for it before the instance is made. */
      if (wudf_module_wait_tier(state->module, 0) != WUDF_TIER_OPTIMIZED) {
        die("the optimised build of the module failed", task->module);
      }
      check(wudf_instance_new(state->module, NULL, &state->instance, &error), &error);
      snprintf(state->path, sizeof(state->path), "%s", task->module);
    }
    check(wudf_module_find_function(state->module, task->function, &function, &error),
          &error);
  }
  /* The untimed first call: warm-up, and the result for the comparison. */
  struct sink_context keep = {fopen(task->result, "wb")};
  if (keep.file == NULL) die("cannot write", task->result);
  if (native) {
    if (native_run(task->kernel, &batch, task->groups, sink, &keep) != 0) exit(1);
  } else {
    wasmudf_call(state, task, function, &batch, &batch_schema, &keep);
  }
  if (fclose(keep.file) != 0) die("cannot write", task->result);
  struct sink_context drop = {NULL};
  /* Warm-up: at least one sample's calls and WARM_UP_US of them. */
  double warm_up_start = now_us();
  for (int call = 0; call < task->calls || now_us() - warm_up_start < WARM_UP_US; call++) {
    if (native) {
      native_run(task->kernel, &batch, task->groups, sink, &drop);
    } else {
      wasmudf_call(state, task, function, &batch, &batch_schema, &drop);
    }
  }
  printf("RESULT %s %lld", task->kernel, task->rows);
  for (int sample = 0; sample < task->samples; sample++) {
    double start = now_us();
    for (int call = 0; call < task->calls; call++) {
      if (native) {
        native_run(task->kernel, &batch, task->groups, sink, &drop);
      } else {
        wasmudf_call(state, task, function, &batch, &batch_schema, &drop);
      }
    }
    printf(" %.4f", (now_us() - start) / task->calls);
  }
  printf("\n");
  fflush(stdout);
  batch.release(&batch);
  batch_schema.release(&batch_schema);
}

/* `bench_suite run RUNNER PLAN`: every task of the plan, in order, on one
 * engine (and, for wasmudf, one instance per module). */
static int run(const char* runner, const char* plan_path) {
  if (strcmp(runner, "native") != 0 && strcmp(runner, "wasmudf") != 0 &&
      strcmp(runner, "wasmudf-view") != 0) {
    die("unknown runner (native, wasmudf or wasmudf-view)", runner);
  }
  FILE* plan = fopen(plan_path, "r");
  if (plan == NULL) die("cannot open", plan_path);
  struct wasmudf_state state = {0};
  if (strcmp(runner, "wasmudf-view") == 0) {
    wudf_call_options_init(&state.view_options);
    state.view_options.result = WUDF_RESULT_VIEW;
    state.options = &state.view_options;
  }
  /* $BENCH_CHUNK_BYTES sets chunk_bytes of the copying runner, for
   * comparing cuts of the rows into guest calls (0: max_rows_per_call). */
  static struct wudf_call_options chunk_options;
  if (getenv("BENCH_CHUNK_BYTES") != NULL && state.options == NULL) {
    wudf_call_options_init(&chunk_options);
    chunk_options.chunk_bytes = atoll(getenv("BENCH_CHUNK_BYTES"));
    state.options = &chunk_options;
  }
  struct wudf_error error;
  check(wudf_engine_new(NULL, &state.engine, &error), &error);
  char line[16384];
  while (fgets(line, sizeof(line), plan) != NULL) {
    struct task task;
    if (line[0] == '\n' || line[0] == '#') continue;
    if (sscanf(line, "%63s %15s %63s %lld %lld %4095s %4095s %4095s %d %d", task.kernel,
               task.kind, task.function, &task.groups, &task.rows, task.module, task.data,
               task.result, &task.samples, &task.calls) != 10 || task.calls < 1) {
      die("malformed plan line", line);
    }
    run_task(runner, &state, &task);
  }
  fclose(plan);
  wudf_instance_free(state.instance);
  wudf_module_free(state.module);
  wudf_engine_free(state.engine);
  return 0;
}

/* nftw callback: removes one entry of the cold-start cache directory. */
static int remove_entry(const char* path, const struct stat* info, int flag, struct FTW* ftw) {
  (void)info;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Instantiates the module and checks that export `name`(12, 18) returns
 * 6 (the Go module's gcd): the module loaded is one that runs. */
static void check_gcd_export(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  struct wudf_instance* instance;
  check(wudf_instance_new(module, NULL, &instance, &error), &error);
  struct wudf_value args[2] = {{WUDF_I32, {.i32 = 12}}, {WUDF_I32, {.i32 = 18}}};
  struct wudf_value result;
  check(wudf_instance_call_name(instance, name, args, 2, &result, 1, 0, &error), &error);
  if (result.of.i32 != 6) die("the module's gcd export gave a wrong result", name);
  wudf_instance_free(instance);
}

/* `bench_suite cold`: see the top of the file. */
static int cold(const char* module_path, const char* tier, const char* gcd_export) {
  char directory[] = "/tmp/wasmudf-cold-XXXXXX";
  if (mkdtemp(directory) == NULL) die("mkdtemp failed", strerror(errno));
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = directory;
  /* "default": the engine's default (the fast tier: tcc first, cc -O2 in
   * the background); "o2": fast_tier = 0, cc -O2 before the load returns. */
  if (strcmp(tier, "o2") == 0) {
    config.fast_tier = 0;
  } else if (strcmp(tier, "default") != 0) {
    die("unknown tier (default or o2)", tier);
  }
  struct wudf_error error;
  struct wudf_engine* engine;
  struct wudf_module* module;
  double start = now_us();
  check(wudf_engine_new(&config, &engine, &error), &error);
  check(wudf_module_load_file(engine, module_path, &module, &error), &error);
  double ms = (now_us() - start) / 1000;
  printf("COLD %.3f\n", ms);
  fflush(stdout);
  if (gcd_export != NULL) check_gcd_export(module, gcd_export);
  wudf_module_free(module);
  wudf_engine_free(engine); /* waits for a background build */
  nftw(directory, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "run") == 0) return run(argv[2], argv[3]);
  if ((argc == 4 || argc == 5) && strcmp(argv[1], "cold") == 0) {
    return cold(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
  }
  fprintf(stderr, "usage: bench_suite run native|wasmudf|wasmudf-view PLAN\n"
                  "       bench_suite cold MODULE.wasm default|o2 [GCD_EXPORT]\n");
  return 2;
}
