/*
 * run_files.c -- `wasmudf run MODULE FUNCTION INPUT [-o OUTPUT] [--args
 * COL,...]`: a function over the columns of a file. INPUT is an Arrow IPC
 * file (.arrow, .feather) or stream (.arrows, or "-" for a stream on
 * standard input) or a CSV file (.csv); the argument columns are the ones
 * --args names, or else the first columns in order. Scalar functions give
 * one column named after the function, batch functions their columns,
 * table functions their rows (with input_row counted across batches).
 * OUTPUT's extension chooses its format: .arrow (IPC file), .arrows (IPC
 * stream), .csv, .jsonl / .json (JSON lines); without -o the result is
 * printed as CSV. Aggregate functions are not run over files yet.
 *
 * --timeout MS and --memory-limit SIZE set the engine's call deadline and
 * memory cap (as for `wasmudf call`).
 *
 * The run is a pull stream (struct run_stream): each get_next reads the
 * next input batch and calls the function on it (or takes the next chunk
 * of a table function's output), so the writers -- which consume streams
 * -- keep one batch in memory at a time.
 *
 * For CSV input the columns are inferred first and the argument columns
 * then read as the function's argument types (so "1,2" feeds int32
 * arguments as int32).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "wasmudf/wasmudf.h"

int command_run_files(int argc, char** argv, int threads);

static int ends_with(const char* text, const char* suffix) {
  size_t n = strlen(text), m = strlen(suffix);
  return n >= m && strcmp(text + n - m, suffix) == 0;
}

/* Whether `argv[2]` of `run` names a file input rather than literals. */
int run_input_is_file(const char* input);
int run_input_is_file(const char* input) {
  return strcmp(input, "-") == 0 || ends_with(input, ".arrow") || ends_with(input, ".arrows") ||
         ends_with(input, ".feather") || ends_with(input, ".csv") || ends_with(input, ".ipc");
}

/* A struct batch of one column (the moved `column`), named by its schema. */
struct wrapped {
  struct ArrowArray child;
  struct ArrowArray* children[1];
  const void* buffers[1];
  struct ArrowSchema child_schema;
  struct ArrowSchema* schema_children[1];
};
static void wrapped_array_release(struct ArrowArray* array) {
  struct wrapped* w = array->private_data;
  if (w->child.release) w->child.release(&w->child);
  free(w);
  array->release = NULL;
}
static void wrapped_schema_release(struct ArrowSchema* schema) {
  struct wrapped* w = schema->private_data;
  if (w->child_schema.release) w->child_schema.release(&w->child_schema);
  free(w);
  schema->release = NULL;
}

int cli_wrap_column(struct ArrowArray* column, struct ArrowSchema* column_schema,
                       struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wrapped* a = calloc(1, sizeof *a);
  struct wrapped* s = calloc(1, sizeof *s);
  if (a == NULL || s == NULL) {
    free(a);
    free(s);
    return ENOMEM;
  }
  a->child = *column;
  column->release = NULL;
  a->children[0] = &a->child;
  memset(out, 0, sizeof *out);
  out->length = a->child.length;
  out->n_buffers = 1;
  out->buffers = a->buffers;
  out->n_children = 1;
  out->children = a->children;
  out->release = wrapped_array_release;
  out->private_data = a;
  s->child_schema = *column_schema;
  column_schema->release = NULL;
  s->schema_children[0] = &s->child_schema;
  memset(out_schema, 0, sizeof *out_schema);
  out_schema->format = "+s";
  out_schema->name = "";
  out_schema->n_children = 1;
  out_schema->children = s->schema_children;
  out_schema->release = wrapped_schema_release;
  out_schema->private_data = s;
  return 0;
}

/* The function over the input, as an ArrowArrayStream of output batches. */
struct run_stream {
  struct ArrowArrayStream* in;
  const struct ArrowSchema* in_schema;
  struct wudf_instance* instance;
  uint32_t index;
  const struct wudf_function_info* info;
  const int* columns;
  int64_t rows_before;      /* input rows of earlier batches */
  struct ArrowArray batch;  /* the input batch a table function is on */
  struct ArrowArrayStream rows;
  struct ArrowSchema out_schema;
  struct ArrowArray pending; /* the first output batch, read ahead */
  /* The arguments of the current call: a table function's stream borrows
   * them until it is released. */
  struct ArrowArray sliced[64];
  const struct ArrowArray* args[64];
  const struct ArrowSchema* arg_schemas[64];
  char message[1200];
  int failure; /* the exit status of the failure (CLI_EXIT_*) */
  const char* input_path;
  /* --threads N (scalar functions): each batch's rows split over N threads
   * calling through one pool; the slices' results queue up in order. */
  int threads;
  struct wudf_pool* pool;
  struct ArrowArray queue[256];
  struct ArrowSchema queue_schemas[256];
  int queue_head, queue_count;
  struct cli_progress progress;
};

/* One slice of a batch, called on a thread of its own. */
struct file_slice {
  struct run_stream* run;
  struct ArrowArray args_storage[64];
  const struct ArrowArray* args[64];
  struct ArrowArray result;
  struct ArrowSchema result_schema;
  struct wudf_error error;
  int status;
};

static void* file_slice_run(void* argument) {
  struct file_slice* slice = argument;
  struct run_stream* run = slice->run;
  slice->status = wudf_pool_call(run->pool, run->index, run->info->arg_count, slice->args,
                                 run->arg_schemas, NULL, &slice->result, &slice->result_schema,
                                 &slice->error);
  return NULL;
}

static void borrowed_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

/* The output schema, borrowed from the run (its writers in this file copy
 * it or are done with it before the run ends). */
static int run_get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  struct run_stream* run = stream->private_data;
  if (run->out_schema.release == NULL) return EINVAL;
  *out = run->out_schema;
  out->release = borrowed_schema_release;
  return 0;
}

/* Records a failure: its message and exit status (`error`, when the
 * library's, classifies limits and guest failures; else `otherwise`). */
static int run_fail(struct run_stream* run, int status, const char* message,
                    const struct wudf_error* error, int otherwise) {
  snprintf(run->message, sizeof run->message, "%s", message ? message : strerror(status));
  run->failure = otherwise;
  if (status == EINVAL && error != NULL) {
    /* Arguments the function does not take: name the columns given. */
    size_t used = strlen(run->message);
    used += (size_t)snprintf(run->message + used, sizeof run->message - used,
                             " (the columns of %s:", run->input_path);
    for (uint32_t a = 0; a < run->info->arg_count && used < sizeof run->message; a++) {
      const char* name = run->in_schema->children[run->columns[a]]->name;
      used += (size_t)snprintf(run->message + used, sizeof run->message - used, "%s '%s'",
                               a ? "," : "", name ? name : "");
    }
    if (used < sizeof run->message) {
      snprintf(run->message + used, sizeof run->message - used, "; see --args)");
    }
    run->failure = CLI_EXIT_USAGE;
  }
  if (status == ETIMEDOUT || (error && error->trap == WUDF_TRAP_OUT_OF_MEMORY)) {
    run->failure = CLI_EXIT_LIMIT;
  }
  return status;
}

/* Keeps the first schema of the output, releases the others. */
static void run_schema(struct run_stream* run, struct ArrowSchema* schema) {
  if (run->out_schema.release == NULL) {
    run->out_schema = *schema;
    schema->release = NULL;
  } else if (schema->release) {
    schema->release(schema);
  }
}

/* Calls the scalar function on the current batch's rows split over
 * run->threads threads; queues the results (as batches) in input order. */
static int run_threads(struct run_stream* run) {
  int threads = run->threads;
  if (threads > run->batch.length) threads = (int)run->batch.length;
  struct file_slice* slices = calloc((size_t)threads, sizeof *slices);
  pthread_t* ids = calloc((size_t)threads, sizeof *ids);
  if (slices == NULL || ids == NULL) {
    free(slices);
    free(ids);
    return run_fail(run, ENOMEM, "out of memory", NULL, CLI_EXIT_GUEST);
  }
  for (int t = 0; t < threads; t++) {
    struct file_slice* slice = &slices[t];
    slice->run = run;
    int64_t start = run->batch.length * t / threads;
    int64_t count = run->batch.length * (t + 1) / threads - start;
    for (uint32_t a = 0; a < run->info->arg_count; a++) {
      slice->args_storage[a] = run->sliced[a];
      slice->args_storage[a].offset += start;
      slice->args_storage[a].length = count;
      slice->args_storage[a].null_count = -1; /* of a slice: unknown */
      slice->args[a] = &slice->args_storage[a];
    }
    if (pthread_create(&ids[t], NULL, file_slice_run, slice) != 0) {
      file_slice_run(slice); /* no thread: this one runs it */
      ids[t] = pthread_self();
    }
  }
  for (int t = 0; t < threads; t++) {
    if (!pthread_equal(ids[t], pthread_self())) pthread_join(ids[t], NULL);
  }
  int status = 0;
  for (int t = 0; t < threads; t++) {
    struct file_slice* slice = &slices[t];
    if (slice->status != 0) {
      if (status == 0) {
        status = run_fail(run, slice->status, slice->error.message, &slice->error,
                          CLI_EXIT_GUEST);
      }
      continue;
    }
    if (status == 0 &&
        cli_wrap_column(&slice->result, &slice->result_schema, &run->queue[run->queue_count],
                        &run->queue_schemas[run->queue_count]) == 0) {
      run->queue_count++;
      continue;
    }
    if (status == 0) status = run_fail(run, ENOMEM, "out of memory", NULL, CLI_EXIT_GUEST);
    if (slice->result.release) slice->result.release(&slice->result);
    if (slice->result_schema.release) slice->result_schema.release(&slice->result_schema);
  }
  free(slices);
  free(ids);
  return status;
}

static int run_produce(struct run_stream* run, struct ArrowArray* out) {
  struct wudf_error error;
  memset(out, 0, sizeof *out);
  for (;;) {
    if (run->queue_head < run->queue_count) {
      int k = run->queue_head++;
      run_schema(run, &run->queue_schemas[k]);
      *out = run->queue[k];
      run->queue[k].release = NULL;
      return 0;
    }
    run->queue_head = run->queue_count = 0;
    if (run->rows.release) {
      int status = run->rows.get_next(&run->rows, out);
      if (status != 0) return run_fail(run, status, run->rows.get_last_error(&run->rows), NULL,
                                       CLI_EXIT_GUEST);
      if (out->release) {
        /* input_row counts across the input's batches. */
        if (run->rows_before && out->n_children > 0) {
          int64_t* input_row = (int64_t*)(uintptr_t)out->children[0]->buffers[1];
          for (int64_t r = 0; r < out->children[0]->length; r++) {
            input_row[out->children[0]->offset + r] += run->rows_before;
          }
        }
        return 0;
      }
      run->rows.release(&run->rows);
      run->rows_before += run->batch.length;
      run->batch.release(&run->batch);
    }
    int status = run->in->get_next(run->in, &run->batch);
    if (status != 0) return run_fail(run, status, run->in->get_last_error(run->in), NULL,
                                     CLI_EXIT_INPUT);
    if (run->batch.release == NULL) return 0; /* the end */
    struct ArrowArray* sliced = run->sliced;
    const struct ArrowArray** args = run->args;
    const struct ArrowSchema** arg_schemas = run->arg_schemas;
    for (uint32_t a = 0; a < run->info->arg_count; a++) {
      /* A sliced batch's offset applies to each column. */
      sliced[a] = *run->batch.children[run->columns[a]];
      sliced[a].offset += run->batch.offset;
      sliced[a].length = run->batch.length;
      args[a] = &sliced[a];
      arg_schemas[a] = run->in_schema->children[run->columns[a]];
    }
    if (run->threads > 1 && run->info->kind == WUDF_FUNCTION_SCALAR && run->batch.length > 1) {
      status = run_threads(run);
      run->rows_before += run->batch.length;
      run->batch.release(&run->batch);
      if (status != 0) return status;
      continue; /* the queue has the slices' results */
    }
    if (run->info->kind == WUDF_FUNCTION_TABLE) {
      status = wudf_table_call(run->instance, run->index, run->info->arg_count, args,
                               arg_schemas, NULL, &run->rows, &error);
      if (status != 0) {
        run->batch.release(&run->batch);
        return run_fail(run, status, error.message, &error, CLI_EXIT_GUEST);
      }
      struct ArrowSchema chunk_schema;
      if (run->rows.get_schema(&run->rows, &chunk_schema) == 0) run_schema(run, &chunk_schema);
      continue;
    }
    struct ArrowArray result;
    struct ArrowSchema result_schema;
    status = wudf_function_call(run->instance, run->index, run->info->arg_count, args,
                                arg_schemas, NULL, &result, &result_schema, &error);
    run->rows_before += run->batch.length;
    run->batch.release(&run->batch);
    if (status != 0) return run_fail(run, status, error.message, &error, CLI_EXIT_GUEST);
    if (run->info->kind != WUDF_FUNCTION_BATCH) {
      struct ArrowArray wrapped;
      struct ArrowSchema wrapped_schema;
      status = cli_wrap_column(&result, &result_schema, &wrapped, &wrapped_schema);
      if (status != 0) {
        result.release(&result);
        result_schema.release(&result_schema);
        return run_fail(run, status, "out of memory", NULL, CLI_EXIT_GUEST);
      }
      result = wrapped;
      result_schema = wrapped_schema;
    }
    run_schema(run, &result_schema);
    *out = result;
    return 0;
  }
}

static int run_get_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct run_stream* run = stream->private_data;
  if (run->pending.release) {
    *out = run->pending;
    run->pending.release = NULL;
    return 0;
  }
  int status = run_produce(run, out);
  cli_progress_update(&run->progress, run->rows_before);
  return status;
}

static const char* run_last_error(struct ArrowArrayStream* stream) {
  struct run_stream* run = stream->private_data;
  return run->message[0] ? run->message : NULL;
}

/* Ends the run's own state (not the input, instance or schema it borrows). */
static void run_release(struct ArrowArrayStream* stream) {
  struct run_stream* run = stream->private_data;
  if (run->pending.release) run->pending.release(&run->pending);
  if (run->rows.release) run->rows.release(&run->rows);
  if (run->batch.release) run->batch.release(&run->batch);
  if (run->out_schema.release) run->out_schema.release(&run->out_schema);
  for (int k = run->queue_head; k < run->queue_count; k++) {
    if (run->queue[k].release) run->queue[k].release(&run->queue[k]);
    if (run->queue_schemas[k].release) run->queue_schemas[k].release(&run->queue_schemas[k]);
  }
  run->queue_head = run->queue_count = 0;
  stream->release = NULL;
}

static void usage(void) {
  fprintf(stderr, "usage: wasmudf run MODULE.wasm FUNCTION INPUT [-o OUTPUT] [--args COL,...]\n"
                  "                   [--format table|csv|jsonl|arrow|arrows] [--max-rows N]\n"
                  "                   [--timeout MS] [--memory-limit SIZE]\n"
                  "       INPUT: .arrow, .arrows, .csv, or - (an IPC stream on stdin)\n"
                  "       (wasmudf run --help for more)\n");
}

/* Reads INPUT (.csv by its extension, else Arrow IPC, "-" standard input)
 * into `in`. 0, or CLI_EXIT_INPUT after printing a message. */
static int open_input(const char* input, struct ArrowArrayStream* in) {
  struct wudf_error error;
  size_t n = strlen(input);
  int csv = n >= 4 && strcmp(input + n - 4, ".csv") == 0;
  int status = csv ? wudf_csv_read_path(input, NULL, in, &error)
                   : wudf_ipc_read_path(input, NULL, in, &error);
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    return CLI_EXIT_INPUT;
  }
  return 0;
}

/* Parses --max-rows N (0: all). 0 or CLI_EXIT_USAGE (message printed). */
static int parse_rows(const char* command, const char* text, int64_t* rows) {
  char* end;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0) {
    fprintf(stderr, "wasmudf: %s: --max-rows takes a number of rows (0: all), not '%s'\n",
            command, text);
    return CLI_EXIT_USAGE;
  }
  *rows = value;
  return 0;
}

/* `wasmudf show INPUT [-o OUTPUT] [--format F] [--max-rows N]`: a file's
 * rows as a table (or converted to OUTPUT's format). */
int command_show(int argc, char** argv) {
  const char *input = NULL, *output_path = NULL, *format_name = NULL;
  int64_t max_rows = 40;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) output_path = argv[++i];
    else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) format_name = argv[++i];
    else if (strcmp(argv[i], "--max-width") == 0 && i + 1 < argc) {
      if (cli_set_max_width("show", argv[++i]) != 0) return CLI_EXIT_USAGE;
    } else if (strcmp(argv[i], "--max-rows") == 0 && i + 1 < argc) {
      if (parse_rows("show", argv[++i], &max_rows) != 0) return CLI_EXIT_USAGE;
    } else if (input == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
      input = argv[i];
    } else {
      fprintf(stderr, "wasmudf: show: unexpected argument '%s'\n"
                      "usage: wasmudf show INPUT [-o OUTPUT] [--format F] [--max-rows N]\n",
              argv[i]);
      return CLI_EXIT_USAGE;
    }
  }
  if (input == NULL) {
    fprintf(stderr, "wasmudf: show needs an INPUT file\n"
                    "usage: wasmudf show INPUT [-o OUTPUT] [--format F] [--max-rows N]\n");
    return CLI_EXIT_USAGE;
  }
  enum cli_format format;
  if (cli_output_format(output_path, format_name, &format) != 0) return CLI_EXIT_USAGE;
  struct ArrowArrayStream in;
  if (open_input(input, &in) != 0) return CLI_EXIT_INPUT;
  struct wudf_error error;
  int status = cli_write_stream(&in, output_path, format, max_rows, &error);
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    return CLI_EXIT_INPUT;
  }
  return CLI_EXIT_OK;
}


int command_run_files(int argc, char** argv, int threads) {
  const char *module_path = argv[0], *function = argv[1], *input = argv[2], *output_path = NULL;
  const char *arg_names = NULL, *format_name = NULL, *group_by = NULL;
  int64_t max_rows = 40;
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) output_path = argv[++i];
    else if (strcmp(argv[i], "--args") == 0 && i + 1 < argc) arg_names = argv[++i];
    else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) format_name = argv[++i];
    else if (strcmp(argv[i], "--group-by") == 0 && i + 1 < argc) group_by = argv[++i];
    else if (strcmp(argv[i], "--max-width") == 0 && i + 1 < argc) {
      if (cli_set_max_width("run", argv[++i]) != 0) return CLI_EXIT_USAGE;
    } else if (strcmp(argv[i], "--max-rows") == 0 && i + 1 < argc) {
      if (parse_rows("run", argv[++i], &max_rows) != 0) return CLI_EXIT_USAGE;
    } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      char* end;
      errno = 0;
      config.timeout_ms = strtoull(argv[++i], &end, 10);
      if (errno != 0 || *end != '\0' || argv[i][0] == '-' || end == argv[i]) {
        fprintf(stderr, "wasmudf: run: --timeout takes milliseconds, not '%s'\n", argv[i]);
        return 2;
      }
    } else if (strcmp(argv[i], "--memory-limit") == 0 && i + 1 < argc) {
      if (cli_parse_size(argv[++i], &config.memory_limit) != 0) {
        fprintf(stderr, "wasmudf: run: --memory-limit takes a size (65536, 64K, 16M, 1G), "
                        "not '%s'\n", argv[i]);
        return 2;
      }
    } else {
      fprintf(stderr, "wasmudf: run: unknown option '%s'\n", argv[i]);
      usage();
      return 2;
    }
  }
  enum cli_format format;
  if (cli_output_format(output_path, format_name, &format) != 0) return CLI_EXIT_USAGE;
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  struct wudf_module* module = NULL;
  struct wudf_instance* instance = NULL;
  struct ArrowArrayStream in;
  memset(&in, 0, sizeof in);
  struct ArrowSchema in_schema;
  memset(&in_schema, 0, sizeof in_schema);
  struct run_stream run;
  memset(&run, 0, sizeof run);
  int exit_status = 1, status;
  uint32_t index;
  struct wudf_function_info info = {.struct_size = sizeof(info)};
  int columns[64];
  if (wudf_engine_new(&config, &engine, &error) != 0 ||
      cli_load_module(engine, module_path, &module, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_MODULE);
    goto done;
  }
  if (wudf_module_find_function(module, function, &index, &error) != 0 ||
      wudf_module_function(module, index, &info, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_USAGE);
    goto done;
  }
  if (info.arg_count > 64) {
    fprintf(stderr, "wasmudf: run: %s takes more than 64 arguments\n", info.signature);
    exit_status = CLI_EXIT_USAGE;
    goto done;
  }
  if (group_by != NULL && info.kind != WUDF_FUNCTION_AGGREGATE) {
    fprintf(stderr, "wasmudf: run: --group-by needs an aggregate function; %s is a %s "
                    "function\n", info.signature, wudf_function_kind_name(info.kind));
    exit_status = CLI_EXIT_USAGE;
    goto done;
  }
  int csv = ends_with(input, ".csv");
  exit_status = CLI_EXIT_INPUT;
  if (open_input(input, &in) != 0) goto done;
  if (in.get_schema(&in, &in_schema) != 0) {
    fprintf(stderr, "wasmudf: %s: %s\n", input, in.get_last_error(&in));
    goto done;
  }
  /* The argument columns. */
  for (uint32_t a = 0; a < info.arg_count; a++) columns[a] = (int)a;
  if (arg_names) {
    const char* at = arg_names;
    uint32_t named = 1;
    for (const char* p = arg_names; *p; p++) named += *p == ',';
    if (named != info.arg_count) {
      fprintf(stderr, "wasmudf: run: --args names %u column%s, %s takes %u\n", named,
              named == 1 ? "" : "s", info.signature, info.arg_count);
      exit_status = CLI_EXIT_USAGE;
      goto done;
    }
    for (uint32_t a = 0; a < info.arg_count; a++) {
      const char* comma = strchr(at, ',');
      size_t n = comma ? (size_t)(comma - at) : strlen(at);
      columns[a] = -1;
      for (int64_t c = 0; c < in_schema.n_children; c++) {
        const char* name = in_schema.children[c]->name;
        if (name && strlen(name) == n && strncmp(name, at, n) == 0) columns[a] = (int)c;
      }
      if (columns[a] < 0) {
        fprintf(stderr, "wasmudf: run: %s has no column '%.*s'\n", input, (int)n, at);
        exit_status = CLI_EXIT_USAGE;
        goto done;
      }
      at = comma ? comma + 1 : at + n;
    }
  } else if ((int64_t)info.arg_count > in_schema.n_children) {
    fprintf(stderr, "wasmudf: run: %s takes %u columns, %s has %lld\n", info.signature,
            info.arg_count, input, (long long)in_schema.n_children);
    exit_status = CLI_EXIT_USAGE;
    goto done;
  }
  if (csv) {
    /* Read again with the argument columns declared as the function's. */
    struct ArrowSchema declared = in_schema, fields[256], *field_pointers[256];
    if (in_schema.n_children > 256) {
      fprintf(stderr, "wasmudf: run: %s: more than 256 CSV columns\n", input);
      goto done;
    }
    for (int64_t c = 0; c < in_schema.n_children; c++) {
      fields[c] = *in_schema.children[c];
      field_pointers[c] = &fields[c];
    }
    for (uint32_t a = 0; a < info.arg_count; a++) {
      const char* want = info.arg_formats[a];
      if (want[0] != '+') fields[columns[a]].format = want;
    }
    declared.children = field_pointers;
    struct wudf_csv_read_options options;
    wudf_csv_read_options_init(&options);
    options.schema = &declared;
    in.release(&in);
    status = wudf_csv_read_path(input, &options, &in, &error);
    in_schema.release(&in_schema);
    if (status != 0) {
      fprintf(stderr, "wasmudf: %s\n", error.message);
      goto done;
    }
    if (in.get_schema(&in, &in_schema) != 0) {
      fprintf(stderr, "wasmudf: %s: %s\n", input, in.get_last_error(&in));
      goto done;
    }
  }
  if (wudf_instance_new(module, NULL, &instance, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_GUEST);
    goto done;
  }
  if (info.kind == WUDF_FUNCTION_AGGREGATE) {
    int group_column = -1;
    for (int64_t c = 0; group_by != NULL && c < in_schema.n_children; c++) {
      if (in_schema.children[c]->name && strcmp(in_schema.children[c]->name, group_by) == 0) {
        group_column = (int)c;
      }
    }
    if (group_by != NULL && group_column < 0) {
      fprintf(stderr, "wasmudf: run: --group-by: %s has no column '%s'\n", input, group_by);
      exit_status = CLI_EXIT_USAGE;
      goto done;
    }
    exit_status = cli_run_aggregate(instance, index, &info, &in, csv, &in_schema, columns,
                                    group_column, input, output_path, format, max_rows);
    goto done;
  }
  if (threads > 1 && info.kind == WUDF_FUNCTION_SCALAR) {
    struct wudf_pool_config pool_config;
    wudf_pool_config_init(engine, &pool_config);
    pool_config.max_instances = (uint32_t)threads;
    if (wudf_pool_new(module, &pool_config, &run.pool, &error) != 0) {
      exit_status = cli_fail(&error, CLI_EXIT_MODULE);
      goto done;
    }
    run.threads = threads;
  } else if (threads > 1) {
    fprintf(stderr, "wasmudf: run: --threads applies to scalar functions; %s is a %s "
                    "function\n", info.signature, wudf_function_kind_name(info.kind));
    exit_status = CLI_EXIT_USAGE;
    goto done;
  }
  run.in = &in;
  run.input_path = input;
  run.in_schema = &in_schema;
  run.instance = instance;
  run.index = index;
  run.info = &info;
  run.columns = columns;
  cli_progress_start(&run.progress, &in, csv);
  if (output_path == NULL && format != CLI_FORMAT_TABLE && isatty(STDOUT_FILENO)) {
    run.progress.enabled = 0; /* rows go to the terminal as they come */
  }
  /* The first output batch fixes the output's schema; no batch, no output. */
  status = run_produce(&run, &run.pending);
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", run.message);
    exit_status = run.failure;
    goto done;
  }
  if (run.pending.release == NULL) {
    exit_status = 0;
    goto done;
  }
  struct ArrowArrayStream stream = {run_get_schema, run_get_next, run_last_error, run_release,
                                    &run};
  status = cli_write_stream(&stream, output_path, format, max_rows, &error);
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    exit_status = run.failure ? run.failure : CLI_EXIT_INPUT;
    goto done;
  }
  exit_status = 0;
done:
  if (run.pending.release || run.rows.release || run.batch.release || run.out_schema.release ||
      run.queue_count > 0) {
    struct ArrowArrayStream rest = {NULL, NULL, NULL, run_release, &run};
    run_release(&rest);
  }
  if (in_schema.release) in_schema.release(&in_schema);
  if (in.release) in.release(&in);
  cli_progress_end(&run.progress);
  wudf_pool_free(run.pool);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_cancel_builds(engine); /* exit now, not after cc -O2 */
  wudf_engine_free(engine);
  return exit_status;
}
