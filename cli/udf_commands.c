/*
 * udf_commands.c -- the CLI's commands about user-defined functions: list
 * the functions of a module, build a C guest with the SDK, and run a
 * function on small columns typed on the command line. Uses only the public
 * API (include/wasmudf/wasmudf.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "wasmudf/wasmudf.h"

extern char** environ;

static int report(const struct wudf_error* error) {
  fprintf(stderr, "wasmudf: %s\n", error->message);
  return 1;
}

/* ------------------------------------------------------------------ list */

int command_list(int argc, char** argv) {
  if (argc != 1) {
    fprintf(stderr, "usage: wasmudf list MODULE.wasm\n");
    return 2;
  }
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  struct wudf_module* module = NULL;
  if (wudf_engine_new(NULL, &engine, &error) != 0) return report(&error);
  /* The functions are in the module's metadata: nothing to compile. */
  int status = wudf_module_inspect_file(engine, argv[0], &module, &error);
  if (status == 0) {
    uint32_t count = wudf_module_function_count(module);
    for (uint32_t i = 0; i < count; i++) {
      struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
      wudf_module_function(module, i, &info, NULL);
      printf("%-9s %s\n", wudf_function_kind_name(info.kind), info.signature);
    }
    if (count == 0) fprintf(stderr, "wasmudf: %s declares no functions\n", argv[0]);
  }
  wudf_module_free(module);
  wudf_engine_cancel_builds(engine); /* exit now, not after cc -O2 */
  wudf_engine_free(engine);
  return status == 0 ? 0 : report(&error);
}

/* ----------------------------------------------------------------- build */

/* The guest SDK that `wasmudf build` uses: its wasm32 object, and the
 * directory holding wasmudf/guest.h (given to clang as -I). */
struct sdk_paths {
  char object[PATH_MAX];
  char include[PATH_MAX];
};

/* Writes the directory of the running executable (from /proc/self/exe, links
 * resolved) into `dir` (`size` bytes). Returns 0, or -1 with errno set. */
static int executable_dir(char* dir, size_t size) {
  ssize_t length = readlink("/proc/self/exe", dir, size);
  if (length < 0) return -1;
  if ((size_t)length >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  dir[length] = '\0';
  char* slash = strrchr(dir, '/');
  if (slash == NULL) {
    errno = ENOENT;
    return -1;
  }
  *(slash == dir ? slash + 1 : slash) = '\0';
  return 0;
}

/* Fills `*paths`: $WASMUDF_SDK_OBJECT and $WASMUDF_SDK_INCLUDE when set and
 * non-empty, otherwise WUDF_SDK_OBJECT_RELATIVE and WUDF_SDK_INCLUDE_RELATIVE
 * under the executable's directory (BINDIR/../share/wasmudf/wudf_guest.o and
 * BINDIR/../include by default). Checks that the object and
 * INCLUDE/wasmudf/guest.h exist. Returns 0, or 1 after printing a message
 * that names the path tried and where it came from. */
static int find_sdk(struct sdk_paths* paths) {
  const char* object = getenv("WASMUDF_SDK_OBJECT");
  const char* include = getenv("WASMUDF_SDK_INCLUDE");
  int object_from_env = object != NULL && object[0] != '\0';
  int include_from_env = include != NULL && include[0] != '\0';
  char bindir[PATH_MAX] = "";
  if (!object_from_env || !include_from_env) {
    if (executable_dir(bindir, sizeof(bindir)) != 0) {
      fprintf(stderr, "wasmudf: cannot find the C guest SDK: /proc/self/exe: %s (set "
              "WASMUDF_SDK_OBJECT and WASMUDF_SDK_INCLUDE)\n", strerror(errno));
      return 1;
    }
  }
  int n = object_from_env
              ? snprintf(paths->object, sizeof(paths->object), "%s", object)
              : snprintf(paths->object, sizeof(paths->object), "%s/%s", bindir,
                         WUDF_SDK_OBJECT_RELATIVE);
  int m = include_from_env
              ? snprintf(paths->include, sizeof(paths->include), "%s", include)
              : snprintf(paths->include, sizeof(paths->include), "%s/%s", bindir,
                         WUDF_SDK_INCLUDE_RELATIVE);
  if (n < 0 || (size_t)n >= sizeof(paths->object) || m < 0 ||
      (size_t)m >= sizeof(paths->include)) {
    fprintf(stderr, "wasmudf: the path of the C guest SDK is too long\n");
    return 1;
  }
  struct stat info;
  if (stat(paths->object, &info) != 0 || !S_ISREG(info.st_mode)) {
    if (object_from_env) {
      fprintf(stderr, "wasmudf: the C guest SDK is missing: tried %s (WASMUDF_SDK_OBJECT)\n",
              paths->object);
    } else {
      fprintf(stderr, "wasmudf: the C guest SDK is missing: tried %s (relative to the "
              "wasmudf executable; build or install the project, or set "
              "WASMUDF_SDK_OBJECT)\n", paths->object);
    }
    return 1;
  }
  char header[sizeof(paths->include) + sizeof("/wasmudf/guest.h")];
  snprintf(header, sizeof(header), "%s/wasmudf/guest.h", paths->include);
  if (stat(header, &info) != 0) {
    if (include_from_env) {
      fprintf(stderr, "wasmudf: the C guest SDK header is missing: tried %s "
              "(WASMUDF_SDK_INCLUDE)\n", header);
    } else {
      fprintf(stderr, "wasmudf: the C guest SDK header is missing: tried %s (relative to "
              "the wasmudf executable; build or install the project, or set "
              "WASMUDF_SDK_INCLUDE)\n", header);
    }
    return 1;
  }
  return 0;
}

int command_build(int argc, char** argv) {
  const char* clang = getenv("WASMUDF_CLANG");
  if (clang == NULL || clang[0] == '\0') clang = "clang";
  int has_output = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) has_output = 1;
  }
  if (argc < 3 || !has_output) {
    fprintf(stderr, "usage: wasmudf build [CLANG_FLAGS...] SOURCE.c... -o OUT.wasm\n");
    return 2;
  }
  static struct sdk_paths sdk;
  if (find_sdk(&sdk) != 0) return 1;
  char include_flag[PATH_MAX + 3];
  snprintf(include_flag, sizeof(include_flag), "-I%s", sdk.include);
  const char* fixed[] = {clang, "--target=wasm32-wasi", "-O2", "-mexec-model=reactor",
                         include_flag};
  size_t fixed_count = sizeof(fixed) / sizeof(fixed[0]);
  char** command = calloc(fixed_count + (size_t)argc + 3, sizeof(char*));
  if (command == NULL) {
    fprintf(stderr, "wasmudf: out of memory\n");
    return 1;
  }
  size_t n = 0;
  for (size_t i = 0; i < fixed_count; i++) command[n++] = (char*)fixed[i];
  for (int i = 0; i < argc; i++) command[n++] = argv[i];
  command[n++] = sdk.object;
  command[n++] = "-Wl,--strip-debug";
  command[n] = NULL;
  pid_t child;
  int status = posix_spawnp(&child, clang, NULL, NULL, command, environ);
  free(command);
  if (status != 0) {
    fprintf(stderr, "wasmudf: cannot run %s: %s\n", clang, strerror(status));
    return 1;
  }
  int wait_status;
  while (waitpid(child, &wait_status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    fprintf(stderr, "wasmudf: %s failed\n", clang);
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------- run */

/* A column typed on the command line; its buffers are ours. */
struct cli_column {
  struct ArrowArray array;
  struct ArrowSchema schema;
  const void* buffers[3];
  uint8_t* validity;
  uint8_t* values;
  char* data;
  char* scratch; /* one value at a time, while parsing */
};

/* The library borrows arguments: release only marks them released. */
static void cli_array_release(struct ArrowArray* array) { array->release = NULL; }
static void cli_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

static void cli_column_free(struct cli_column* column) {
  free(column->validity);
  free(column->values);
  free(column->data);
  free(column->scratch);
}

static size_t cli_width(char format) {
  switch (format) {
    case 'c': case 'C': return 1;
    case 's': case 'S': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'g': return 8;
  }
  return 0;
}

/* Parses one value of `format` into `target` (width bytes); 0 or -1. */
static int cli_parse_value(char format, const char* text, void* target) {
  char* end;
  errno = 0;
  switch (format) {
    case 'c': case 's': case 'i': case 'l': {
      long long value = strtoll(text, &end, 0);
      if (errno || end == text || *end) return -1;
      long long low = format == 'c' ? INT8_MIN : format == 's' ? INT16_MIN
                      : format == 'i' ? INT32_MIN : INT64_MIN;
      long long high = format == 'c' ? INT8_MAX : format == 's' ? INT16_MAX
                       : format == 'i' ? INT32_MAX : INT64_MAX;
      if (value < low || value > high) return -1;
      int8_t v8 = (int8_t)value;
      int16_t v16 = (int16_t)value;
      int32_t v32 = (int32_t)value;
      int64_t v64 = value;
      memcpy(target, format == 'c' ? (void*)&v8 : format == 's' ? (void*)&v16
                     : format == 'i' ? (void*)&v32 : (void*)&v64, cli_width(format));
      return 0;
    }
    case 'C': case 'S': case 'I': case 'L': {
      if (text[0] == '-') return -1;
      unsigned long long value = strtoull(text, &end, 0);
      if (errno || end == text || *end) return -1;
      unsigned long long high = format == 'C' ? UINT8_MAX : format == 'S' ? UINT16_MAX
                                : format == 'I' ? UINT32_MAX : UINT64_MAX;
      if (value > high) return -1;
      uint8_t v8 = (uint8_t)value;
      uint16_t v16 = (uint16_t)value;
      uint32_t v32 = (uint32_t)value;
      uint64_t v64 = value;
      memcpy(target, format == 'C' ? (void*)&v8 : format == 'S' ? (void*)&v16
                     : format == 'I' ? (void*)&v32 : (void*)&v64, cli_width(format));
      return 0;
    }
    case 'f': {
      float value = strtof(text, &end);
      if (end == text || *end) return -1;
      memcpy(target, &value, 4);
      return 0;
    }
    case 'g': {
      double value = strtod(text, &end);
      if (end == text || *end) return -1;
      memcpy(target, &value, 8);
      return 0;
    }
  }
  return -1;
}

/* Builds a column of `format` from "v1,v2,null,...". 0 or -1 (message
 * printed). */
static int cli_column_parse(const char* format, const char* text, struct cli_column* column,
                            const char* where) {
  memset(column, 0, sizeof(*column));
  char f = format[0];
  int variable = f == 'u' || f == 'U' || f == 'z' || f == 'Z';
  int large = f == 'U' || f == 'Z';
  if (format[1] != '\0' || (!variable && f != 'b' && cli_width(f) == 0)) {
    fprintf(stderr, "wasmudf: run: %s: literals of format '%s' are not supported yet (use a "
                    "file input)\n", where, format);
    return -1;
  }
  int64_t rows = 1;
  for (const char* p = text; *p; p++) rows += *p == ',';
  if (text[0] == '\0') rows = 0;
  size_t text_size = strlen(text);
  column->validity = calloc((size_t)(rows + 7) / 8 + 1, 1);
  column->values = calloc((size_t)(rows + 1) * 8 + 1, 1);
  column->data = malloc(text_size + 1);
  column->scratch = malloc(text_size + 1);
  if (column->validity == NULL || column->values == NULL || column->data == NULL ||
      column->scratch == NULL) {
    fprintf(stderr, "wasmudf: out of memory\n");
    return -1;
  }
  int64_t nulls = 0, data_size = 0, row = 0;
  const char* start = text;
  while (row < rows) {
    const char* end = strchr(start, ',');
    if (end == NULL) end = start + strlen(start);
    /* The value, whole (no length limit): a scratch copy as long as the
     * text. */
    char* value = column->scratch;
    size_t length = (size_t)(end - start);
    memcpy(value, start, length);
    value[length] = '\0';
    int is_null = strcmp(value, "null") == 0;
    if (is_null) {
      nulls++;
    } else {
      column->validity[row / 8] |= (uint8_t)(1u << (row % 8));
      if (variable) {
        memcpy(column->data + data_size, value, length);
        data_size += (int64_t)length;
      } else if (f == 'b') {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0 &&
            strcmp(value, "1") != 0 && strcmp(value, "0") != 0) {
          fprintf(stderr, "wasmudf: run: %s, row %lld: '%s' is not a bool\n", where,
                  (long long)row, value);
          return -1;
        }
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
          column->values[row / 8] |= (uint8_t)(1u << (row % 8));
        }
      } else if (cli_parse_value(f, value, column->values + (size_t)row * cli_width(f)) != 0) {
        fprintf(stderr, "wasmudf: run: %s, row %lld: '%s' is not a valid value of format '%s'\n",
                where, (long long)row, value, format);
        return -1;
      }
    }
    if (variable) {
      if (large) {
        memcpy(column->values + (size_t)(row + 1) * 8, &data_size, 8);
      } else {
        int32_t end32 = (int32_t)data_size;
        memcpy(column->values + (size_t)(row + 1) * 4, &end32, 4);
      }
    }
    row++;
    start = *end ? end + 1 : end;
  }
  column->buffers[0] = nulls ? column->validity : NULL;
  column->buffers[1] = column->values;
  column->buffers[2] = column->data;
  column->array.length = rows;
  column->array.null_count = nulls;
  column->array.n_buffers = variable ? 3 : 2;
  column->array.buffers = column->buffers;
  column->array.release = cli_array_release;
  column->schema.format = format;
  column->schema.name = "";
  column->schema.flags = ARROW_FLAG_NULLABLE;
  column->schema.release = cli_schema_release;
  return 0;
}

/* The struct batches of a literal run's result, in order, for
 * cli_write_stream. */
struct cli_results {
  struct ArrowArray batches[256];
  int64_t count;
  struct ArrowSchema schema; /* of the first batch */
};

/* Adds a result (moved): a struct batch as it is, a column wrapped as a
 * batch of one. 0 or ENOMEM (the result released). */
static int cli_results_add(struct cli_results* results, struct ArrowArray* array,
                           struct ArrowSchema* schema, int is_batch) {
  struct ArrowArray batch;
  struct ArrowSchema batch_schema;
  if (is_batch) {
    batch = *array;
    batch_schema = *schema;
    array->release = NULL;
    schema->release = NULL;
  } else if (cli_wrap_column(array, schema, &batch, &batch_schema) != 0) {
    array->release(array);
    schema->release(schema);
    return ENOMEM;
  }
  if (results->count == (int64_t)(sizeof results->batches / sizeof results->batches[0])) {
    batch.release(&batch);
    batch_schema.release(&batch_schema);
    fprintf(stderr, "wasmudf: run: more than 256 result batches from literals\n");
    return E2BIG;
  }
  results->batches[results->count++] = batch;
  if (results->schema.release == NULL) results->schema = batch_schema;
  else batch_schema.release(&batch_schema);
  return 0;
}

static void cli_results_free(struct cli_results* results) {
  for (int64_t k = 0; k < results->count; k++) {
    if (results->batches[k].release) results->batches[k].release(&results->batches[k]);
  }
  if (results->schema.release) results->schema.release(&results->schema);
  results->count = 0;
}

/* Writes the results (moved) as cli_write_stream does; the exit status. */
static int cli_results_write(struct cli_results* results, const char* output_path,
                             enum cli_format format, int64_t max_rows) {
  if (results->schema.release == NULL) return CLI_EXIT_OK; /* nothing came back */
  struct ArrowArrayStream stream;
  if (cli_batches_stream(results->batches, results->count, &results->schema, &stream) != 0) {
    fprintf(stderr, "wasmudf: out of memory\n");
    return CLI_EXIT_GUEST;
  }
  results->count = 0;
  struct wudf_error error;
  int status = cli_write_stream(&stream, output_path, format, max_rows, &error);
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    return CLI_EXIT_INPUT;
  }
  return CLI_EXIT_OK;
}

/* One slice of a scalar call run on its own thread (--threads): rows
 * [start, start + count) of the columns, through the pool. */
struct cli_slice {
  struct wudf_pool* pool;
  uint32_t function;
  uint32_t arg_count;
  const struct cli_column* columns;
  int64_t start, count;
  struct ArrowArray result;
  struct ArrowSchema result_schema;
  struct wudf_error error;
  int status;
};

static void* cli_slice_run(void* argument) {
  struct cli_slice* slice = argument;
  struct ArrowArray arrays[64];
  const struct ArrowArray* pointers[64];
  const struct ArrowSchema* schemas[64];
  for (uint32_t i = 0; i < slice->arg_count; i++) {
    arrays[i] = slice->columns[i].array;
    arrays[i].offset = slice->start;
    arrays[i].length = slice->count;
    if (arrays[i].null_count != 0) arrays[i].null_count = -1; /* of a slice: unknown */
    pointers[i] = &arrays[i];
    schemas[i] = &slice->columns[i].schema;
  }
  slice->status = wudf_pool_call(slice->pool, slice->function, slice->arg_count, pointers,
                                 schemas, NULL, &slice->result, &slice->result_schema,
                                 &slice->error);
  return NULL;
}

/* A scalar call on `threads` threads, each on rows of its own and an
 * instance of its own from one pool; prints the rows in input order. The
 * exit status. */
static int cli_run_threads(struct wudf_engine* engine, struct wudf_module* module,
                           uint32_t function, uint32_t arg_count,
                           const struct cli_column* columns, int64_t rows, int threads,
                           struct cli_results* results) {
  struct wudf_error error;
  struct wudf_pool_config config;
  wudf_pool_config_init(engine, &config);
  config.max_instances = (uint32_t)threads;
  struct wudf_pool* pool = NULL;
  if (wudf_pool_new(module, &config, &pool, &error) != 0) return cli_fail(&error, CLI_EXIT_MODULE);
  if (threads > rows) threads = rows > 0 ? (int)rows : 1;
  struct cli_slice* slices = calloc((size_t)threads, sizeof(*slices));
  pthread_t* ids = calloc((size_t)threads, sizeof(*ids));
  int exit_status = 1;
  if (slices == NULL || ids == NULL) {
    fprintf(stderr, "wasmudf: out of memory\n");
    goto done;
  }
  for (int t = 0; t < threads; t++) {
    struct cli_slice* slice = &slices[t];
    slice->pool = pool;
    slice->function = function;
    slice->arg_count = arg_count;
    slice->columns = columns;
    slice->start = rows * t / threads;
    slice->count = rows * (t + 1) / threads - slice->start;
    if (pthread_create(&ids[t], NULL, cli_slice_run, slice) != 0) {
      cli_slice_run(slice); /* no thread: this one runs it */
      ids[t] = pthread_self();
    }
  }
  for (int t = 0; t < threads; t++) {
    if (!pthread_equal(ids[t], pthread_self())) pthread_join(ids[t], NULL);
  }
  exit_status = 0;
  for (int t = 0; t < threads && exit_status == 0; t++) {
    if (slices[t].status != 0) exit_status = cli_fail(&slices[t].error, CLI_EXIT_GUEST);
  }
  /* The slices' results in input order, each a batch. */
  for (int t = 0; t < threads; t++) {
    struct cli_slice* slice = &slices[t];
    if (slice->status != 0) continue;
    if (exit_status == 0) {
      if (cli_results_add(results, &slice->result, &slice->result_schema, 0) != 0) {
        exit_status = CLI_EXIT_GUEST;
      }
    } else {
      slice->result.release(&slice->result);
      slice->result_schema.release(&slice->result_schema);
    }
  }
done:
  free(slices);
  free(ids);
  wudf_pool_free(pool);
  return exit_status;
}

int run_input_is_file(const char* input);   /* run_files.c */
int command_run_files(int argc, char** argv, int threads);


int command_run(int argc, char** argv) {
  /* --threads N (anywhere) is taken out here; the other options stay for
   * run_files.c or are read below for literal columns. */
  int threads = 1;
  char** rest = calloc((size_t)argc + 1, sizeof(char*));
  if (rest == NULL) {
    fprintf(stderr, "wasmudf: out of memory\n");
    return CLI_EXIT_GUEST;
  }
  int rest_count = 0;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "--threads", 9) == 0 && (argv[i][9] == '=' || argv[i][9] == '\0')) {
      const char* value = argv[i][9] == '=' ? argv[i] + 10 : (i + 1 < argc ? argv[++i] : "");
      char* end;
      long parsed = strtol(value, &end, 10);
      if (*value == '\0' || *end != '\0' || parsed < 1 || parsed > 256) {
        fprintf(stderr, "wasmudf: run: --threads takes a number from 1 to 256, not '%s'\n",
                value);
        free(rest);
        return CLI_EXIT_USAGE;
      }
      threads = (int)parsed;
    } else {
      rest[rest_count++] = argv[i];
    }
  }
  argc = rest_count;
  argv = rest;
  /* A file as the input: run_files.c. */
  if (argc >= 3 && run_input_is_file(argv[2])) {
    int exit_status = command_run_files(argc, argv, threads);
    free(rest);
    return exit_status;
  }
  /* Literal columns: the options, then MODULE FUNCTION COLUMN... */
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  const char *output_path = NULL, *format_name = NULL;
  int64_t max_rows = 40;
  char* positional[66];
  int positional_count = 0;
  for (int i = 0; i < argc; i++) {
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "-o") == 0 && value) {
      output_path = argv[++i];
    } else if (strcmp(argv[i], "--format") == 0 && value) {
      format_name = argv[++i];
    } else if (strcmp(argv[i], "--max-rows") == 0 && value) {
      char* end;
      long long parsed = strtoll(argv[++i], &end, 10);
      if (*end != '\0' || end == argv[i] || parsed < 0) {
        fprintf(stderr, "wasmudf: run: --max-rows takes a number of rows (0: all), not '%s'\n",
                argv[i]);
        free(rest);
        return CLI_EXIT_USAGE;
      }
      max_rows = parsed;
    } else if (strcmp(argv[i], "--max-width") == 0 && value) {
      if (cli_set_max_width("run", argv[++i]) != 0) {
        free(rest);
        return CLI_EXIT_USAGE;
      }
    } else if (strcmp(argv[i], "--timeout") == 0 && value) {
      char* end;
      errno = 0;
      config.timeout_ms = strtoull(argv[++i], &end, 10);
      if (errno != 0 || *end != '\0' || argv[i][0] == '-' || end == argv[i]) {
        fprintf(stderr, "wasmudf: run: --timeout takes milliseconds, not '%s'\n", argv[i]);
        free(rest);
        return CLI_EXIT_USAGE;
      }
    } else if (strcmp(argv[i], "--memory-limit") == 0 && value) {
      if (cli_parse_size(argv[++i], &config.memory_limit) != 0) {
        fprintf(stderr, "wasmudf: run: --memory-limit takes a size (65536, 64K, 16M, 1G), "
                        "not '%s'\n", argv[i]);
        free(rest);
        return CLI_EXIT_USAGE;
      }
    } else if (strncmp(argv[i], "--", 2) == 0 || strcmp(argv[i], "-o") == 0) {
      fprintf(stderr, "wasmudf: run: unknown option '%s' (or its value is missing)\n", argv[i]);
      free(rest);
      return CLI_EXIT_USAGE;
    } else if (positional_count < 66) {
      positional[positional_count++] = argv[i];
    } else {
      fprintf(stderr, "wasmudf: run: more than 64 columns\n");
      free(rest);
      return CLI_EXIT_USAGE;
    }
  }
  argc = positional_count;
  argv = positional;
  if (argc < 2) {
    fprintf(stderr, "usage: wasmudf run [OPTIONS] MODULE FUNCTION COLUMN...\n"
                    "       wasmudf run [OPTIONS] MODULE FUNCTION INPUT\n"
                    "       (wasmudf run --help for more)\n");
    free(rest);
    return CLI_EXIT_USAGE;
  }
  enum cli_format format;
  if (cli_output_format(output_path, format_name, &format) != 0) {
    free(rest);
    return CLI_EXIT_USAGE;
  }
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  struct wudf_module* module = NULL;
  struct wudf_instance* instance = NULL;
  struct cli_column* columns = NULL;
  struct cli_results* results = calloc(1, sizeof *results);
  int exit_status = CLI_EXIT_GUEST;
  uint32_t index, arg_count = (uint32_t)(argc - 2);
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  if (results == NULL) {
    fprintf(stderr, "wasmudf: out of memory\n");
    goto done;
  }
  if (wudf_engine_new(&config, &engine, &error) != 0 ||
      cli_load_module(engine, argv[0], &module, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_MODULE);
    goto done;
  }
  if (wudf_module_find_function(module, argv[1], &index, &error) != 0 ||
      wudf_module_function(module, index, &info, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_USAGE);
    goto done;
  }
  if (arg_count != info.arg_count) {
    fprintf(stderr, "wasmudf: %s takes %u columns, %u given\n", info.signature,
            info.arg_count, arg_count);
    exit_status = CLI_EXIT_USAGE;
    goto done;
  }
  columns = calloc(arg_count + 1, sizeof(*columns));
  const struct ArrowArray* arrays[64];
  const struct ArrowSchema* schemas[64];
  if (columns == NULL || arg_count > 64) goto done;
  for (uint32_t i = 0; i < arg_count; i++) {
    char where[1200];
    snprintf(where, sizeof where, "column %u of %s", i + 1, info.signature);
    if (cli_column_parse(info.arg_formats[i], argv[2 + i], &columns[i], where) != 0) {
      exit_status = CLI_EXIT_USAGE;
      goto done;
    }
    arrays[i] = &columns[i].array;
    schemas[i] = &columns[i].schema;
  }
  if (threads > 1 && info.kind == WUDF_FUNCTION_SCALAR && arg_count > 0) {
    exit_status = cli_run_threads(engine, module, index, arg_count, columns,
                                  columns[0].array.length, threads, results);
    if (exit_status == 0) exit_status = cli_results_write(results, output_path, format, max_rows);
    goto done;
  }
  if (wudf_instance_new(module, NULL, &instance, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_GUEST);
    goto done;
  }
  if (info.kind == WUDF_FUNCTION_TABLE) {
    /* A table function's output, chunk by chunk as the stream gives it. */
    struct ArrowArrayStream stream;
    if (wudf_table_call(instance, index, arg_count, arrays, schemas, NULL, &stream,
                        &error) != 0) {
      exit_status = cli_fail(&error, CLI_EXIT_GUEST);
      goto done;
    }
    struct ArrowSchema chunk_schema;
    if (stream.get_schema(&stream, &chunk_schema) != 0) {
      fprintf(stderr, "wasmudf: %s: no schema\n", info.signature);
      stream.release(&stream);
      goto done;
    }
    int status;
    struct ArrowArray chunk;
    while ((status = stream.get_next(&stream, &chunk)) == 0 && chunk.release != NULL) {
      struct ArrowSchema copy = chunk_schema;
      copy.release = cli_schema_release; /* the first batch's schema is chunk_schema */
      if (results->schema.release == NULL) {
        results->schema = chunk_schema;
        chunk_schema.release = NULL;
        copy = results->schema;
        copy.release = cli_schema_release;
      }
      if (cli_results_add(results, &chunk, &copy, 1) != 0) {
        status = ENOMEM;
        break;
      }
    }
    if (chunk_schema.release) chunk_schema.release(&chunk_schema);
    if (status != 0) {
      const char* message = stream.get_last_error(&stream);
      fprintf(stderr, "wasmudf: %s\n", message != NULL ? message : strerror(status));
      exit_status = status == ETIMEDOUT ? CLI_EXIT_LIMIT : CLI_EXIT_GUEST;
      stream.release(&stream);
      goto done;
    }
    stream.release(&stream);
  } else {
    struct ArrowArray result;
    struct ArrowSchema result_schema;
    if (wudf_function_call(instance, index, arg_count, arrays, schemas, NULL, &result,
                           &result_schema, &error) != 0) {
      exit_status = cli_fail(&error, CLI_EXIT_GUEST);
      goto done;
    }
    if (cli_results_add(results, &result, &result_schema,
                        info.kind == WUDF_FUNCTION_BATCH) != 0) {
      goto done;
    }
  }
  exit_status = cli_results_write(results, output_path, format, max_rows);
done:
  if (results) cli_results_free(results);
  free(results);
  for (uint32_t i = 0; columns != NULL && i < arg_count; i++) cli_column_free(&columns[i]);
  free(columns);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_cancel_builds(engine); /* exit now, not after cc -O2 */
  wudf_engine_free(engine);
  free(rest);
  return exit_status;
}
