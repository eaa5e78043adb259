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
 * For CSV input the columns are inferred first and the argument columns
 * then read as the function's argument types (so "1,2" feeds int32
 * arguments as int32).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmudf/wasmudf.h"

int command_run_files(int argc, char** argv);

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

/* Output batches kept for text outputs, handed out as a stream. */
struct kept_batches {
  struct ArrowSchema schema;
  struct ArrowArray* batches;
  size_t count, capacity, next;
};

static int kept_get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out);
static int kept_get_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct kept_batches* kept = stream->private_data;
  memset(out, 0, sizeof *out);
  if (kept->next < kept->count) {
    *out = kept->batches[kept->next];
    kept->batches[kept->next++].release = NULL;
  }
  return 0;
}
static const char* kept_last_error(struct ArrowArrayStream* stream) { (void)stream; return NULL; }
static void kept_free(struct kept_batches* kept) {
  for (size_t i = 0; i < kept->count; i++) {
    if (kept->batches[i].release) kept->batches[i].release(&kept->batches[i]);
  }
  free(kept->batches);
  if (kept->schema.release) kept->schema.release(&kept->schema);
  free(kept);
}
static void kept_release(struct ArrowArrayStream* stream) {
  kept_free(stream->private_data);
  stream->release = NULL;
}

/* Schema copies for the kept stream: the library copies on get_schema of
 * its own streams; here the kept schema is handed out once (moved). */
static int kept_get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  struct kept_batches* kept = stream->private_data;
  if (kept->schema.release == NULL) return EINVAL;
  *out = kept->schema;
  kept->schema.release = NULL;
  return 0;
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

static int wrap_column(struct ArrowArray* column, struct ArrowSchema* column_schema,
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

struct output {
  const char* path;
  int text;                       /* 0 IPC, 1 CSV, 2 JSON lines */
  struct wudf_ipc_writer* writer; /* IPC */
  struct kept_batches* kept;      /* text */
};

/* Sends one output batch (taken). `schema`, when not NULL, is taken too:
 * the first one opens the output (IPC) or is kept for the text writers;
 * later ones are released. */
static int output_batch(struct output* o, struct ArrowArray* batch, struct ArrowSchema* schema,
                        struct wudf_error* error) {
  int status = 0;
  if (o->text) {
    if (o->kept == NULL) o->kept = calloc(1, sizeof *o->kept);
    if (o->kept == NULL) status = ENOMEM;
    if (status == 0 && schema && o->kept->schema.release == NULL) {
      o->kept->schema = *schema;
      schema->release = NULL;
    }
    if (status == 0 && o->kept->count == o->kept->capacity) {
      size_t capacity = o->kept->capacity ? 2 * o->kept->capacity : 16;
      void* grown = realloc(o->kept->batches, capacity * sizeof *o->kept->batches);
      if (grown == NULL) status = ENOMEM;
      else {
        o->kept->batches = grown;
        o->kept->capacity = capacity;
      }
    }
    if (status == 0) {
      o->kept->batches[o->kept->count++] = *batch;
      batch->release = NULL;
    } else {
      snprintf(error->message, sizeof error->message, "out of memory");
      batch->release(batch);
    }
  } else {
    if (o->writer == NULL && schema) {
      struct wudf_ipc_write_options options;
      wudf_ipc_write_options_init(&options);
      options.format = ends_with(o->path, ".arrows") || strcmp(o->path, "-") == 0
                           ? WUDF_IPC_STREAM : WUDF_IPC_FILE;
      status = wudf_ipc_writer_open_path(o->path, schema, &options, &o->writer, error);
    }
    if (status == 0) status = wudf_ipc_writer_write(o->writer, batch, error);
    batch->release(batch);
  }
  if (schema && schema->release) schema->release(schema);
  return status;
}

static void usage(void) {
  fprintf(stderr, "usage: wasmudf run MODULE.wasm FUNCTION INPUT [-o OUTPUT] [--args COL,...]\n"
                  "       INPUT: .arrow, .arrows, .csv, or - (an IPC stream on stdin)\n");
}

int command_run_files(int argc, char** argv) {
  const char *module_path = argv[0], *function = argv[1], *input = argv[2], *output_path = NULL;
  const char* arg_names = NULL;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) output_path = argv[++i];
    else if (strcmp(argv[i], "--args") == 0 && i + 1 < argc) arg_names = argv[++i];
    else {
      fprintf(stderr, "wasmudf: run: unknown option '%s'\n", argv[i]);
      usage();
      return 2;
    }
  }
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  struct wudf_module* module = NULL;
  struct wudf_instance* instance = NULL;
  struct ArrowArrayStream in;
  memset(&in, 0, sizeof in);
  struct ArrowSchema in_schema;
  memset(&in_schema, 0, sizeof in_schema);
  struct output out = {output_path ? output_path : "-", 1, NULL, NULL};
  if (output_path) {
    if (ends_with(output_path, ".csv")) out.text = 1;
    else if (ends_with(output_path, ".jsonl") || ends_with(output_path, ".json")) out.text = 2;
    else if (ends_with(output_path, ".arrow") || ends_with(output_path, ".arrows") ||
             ends_with(output_path, ".feather")) out.text = 0;
    else {
      fprintf(stderr, "wasmudf: run: %s: unknown output format (use .arrow, .arrows, .csv or "
                      ".jsonl)\n", output_path);
      return 2;
    }
  }
  int exit_status = 1, status;
  uint32_t index;
  struct wudf_function_info info;
  int columns[64];
  if (wudf_engine_new(NULL, &engine, &error) != 0 ||
      wudf_module_load_file(engine, module_path, &module, &error) != 0 ||
      wudf_module_find_function(module, function, &index, &error) != 0 ||
      wudf_module_function(module, index, &info, &error) != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    goto done;
  }
  if (info.kind == WUDF_FUNCTION_AGGREGATE || info.arg_count > 64) {
    fprintf(stderr, "wasmudf: run: %s: aggregate functions over files are not supported yet\n",
            function);
    exit_status = 2;
    goto done;
  }
  int csv = ends_with(input, ".csv");
  status = csv ? wudf_csv_read_path(input, NULL, &in, &error)
               : wudf_ipc_read_path(input, NULL, &in, &error);
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    goto done;
  }
  if ((status = in.get_schema(&in, &in_schema)) != 0) {
    fprintf(stderr, "wasmudf: %s: %s\n", input, in.get_last_error(&in));
    goto done;
  }
  /* The argument columns. */
  for (uint32_t a = 0; a < info.arg_count; a++) columns[a] = (int)a;
  if (arg_names) {
    const char* at = arg_names;
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
        exit_status = 2;
        goto done;
      }
      at = comma ? comma + 1 : at + n;
    }
  } else if ((int64_t)info.arg_count > in_schema.n_children) {
    fprintf(stderr, "wasmudf: run: %s takes %u columns, %s has %lld\n", info.signature,
            info.arg_count, input, (long long)in_schema.n_children);
    exit_status = 2;
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
    fprintf(stderr, "wasmudf: %s\n", error.message);
    goto done;
  }
  int64_t rows_before = 0;
  for (;;) {
    struct ArrowArray batch;
    if ((status = in.get_next(&in, &batch)) != 0) {
      fprintf(stderr, "wasmudf: %s\n", in.get_last_error(&in));
      goto done;
    }
    if (batch.release == NULL) break;
    const struct ArrowArray* args[64];
    const struct ArrowSchema* arg_schemas[64];
    /* Arguments: the batch's columns (a sliced batch's offset is applied
     * to each column by giving the library the struct's own slice). */
    struct ArrowArray sliced[64];
    for (uint32_t a = 0; a < info.arg_count; a++) {
      sliced[a] = *batch.children[columns[a]];
      sliced[a].offset += batch.offset;
      sliced[a].length = batch.length;
      args[a] = &sliced[a];
      arg_schemas[a] = in_schema.children[columns[a]];
    }
    struct ArrowArray result;
    struct ArrowSchema result_schema;
    if (info.kind == WUDF_FUNCTION_TABLE) {
      struct ArrowArrayStream rows;
      status = wudf_table_call(instance, index, info.arg_count, args, arg_schemas, NULL, &rows,
                               &error);
      if (status != 0) {
        batch.release(&batch);
        fprintf(stderr, "wasmudf: %s\n", error.message);
        goto done;
      }
      struct ArrowSchema chunk_schema;
      memset(&chunk_schema, 0, sizeof chunk_schema);
      rows.get_schema(&rows, &chunk_schema);
      while ((status = rows.get_next(&rows, &result)) == 0 && result.release) {
        /* input_row counts across the input's batches. */
        if (rows_before && result.n_children > 0) {
          int64_t* input_row = (int64_t*)(uintptr_t)result.children[0]->buffers[1];
          for (int64_t r = 0; r < result.children[0]->length; r++) {
            input_row[result.children[0]->offset + r] += rows_before;
          }
        }
        status = output_batch(&out, &result, chunk_schema.release ? &chunk_schema : NULL,
                              &error);
        if (status != 0) break;
      }
      if (status != 0 && rows.get_last_error(&rows)) {
        fprintf(stderr, "wasmudf: %s\n", rows.get_last_error(&rows));
      } else if (status != 0) {
        fprintf(stderr, "wasmudf: %s\n", error.message);
      }
      if (chunk_schema.release) chunk_schema.release(&chunk_schema);
      rows.release(&rows);
    } else {
      status = wudf_function_call(instance, index, info.arg_count, args, arg_schemas, NULL,
                                  &result, &result_schema, &error);
      if (status == 0 && info.kind != WUDF_FUNCTION_BATCH) {
        struct ArrowArray wrapped;
        struct ArrowSchema wrapped_schema;
        status = wrap_column(&result, &result_schema, &wrapped, &wrapped_schema);
        if (status == 0) {
          result = wrapped;
          result_schema = wrapped_schema;
        }
      }
      if (status == 0) status = output_batch(&out, &result, &result_schema, &error);
      if (status != 0) fprintf(stderr, "wasmudf: %s\n", error.message);
    }
    rows_before += batch.length;
    batch.release(&batch);
    if (status != 0) goto done;
  }
  if (out.text) {
    if (out.kept == NULL || out.kept->schema.release == NULL) {
      /* No batches: nothing to print (an empty CSV has no header here). */
      exit_status = 0;
      goto done;
    }
    struct ArrowArrayStream stream = {kept_get_schema, kept_get_next, kept_last_error,
                                      kept_release, out.kept};
    out.kept = NULL;
    status = out.text == 1 ? wudf_csv_write_stream(&stream, out.path, ',', &error)
                           : wudf_jsonl_write_stream(&stream, out.path, &error);
  } else if (out.writer) {
    status = wudf_ipc_writer_close(out.writer, &error);
    out.writer = NULL;
  } else {
    status = 0; /* no batches: no output file */
  }
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    goto done;
  }
  exit_status = 0;
done:
  if (out.kept) kept_free(out.kept);
  if (out.writer) wudf_ipc_writer_abort(out.writer);
  if (in_schema.release) in_schema.release(&in_schema);
  if (in.release) in.release(&in);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_free(engine);
  return exit_status;
}
