/*
 * test_udf_constants.c -- a mock engine: it registers every function of
 * several modules (the examples, the types and kinds guests, the alltypes
 * guest of every Arrow type) from their ArrowSchema types alone
 * (wudf_function_schema, never the type language's text), builds a value
 * of each argument's type from that schema, and runs each function with
 * constant arguments (wudf_function_call_args), checking the result
 * against the same call on columns the mock engine materialised itself,
 * against the registered result type, and, for the identity functions of
 * alltypes, against the argument. Then the constants' own rules: known
 * values, zero and one rows, a deterministic function run once, streams,
 * accumulators, pools, and the refusals.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static struct wudf_engine* engine;

/* The allocation funnel of this program: fails the `fail_countdown`-th
 * allocation from now when it is positive. */
static long fail_countdown;
static int failed_once;

static void* test_malloc(void* user, size_t size) {
  (void)user;
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return malloc(size);
}
static void* test_realloc(void* user, void* pointer, size_t size) {
  (void)user;
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return realloc(pointer, size);
}
static void test_free(void* user, void* pointer) {
  (void)user;
  free(pointer);
}

/* ------------------------------------------------ arrays from a schema */

/* Frees an array the mock engine built: every buffer, child and
 * dictionary was malloc'ed for it alone. */
static void generated_release(struct ArrowArray* array) {
  for (int64_t i = 0; i < array->n_buffers; i++) free((void*)array->buffers[i]);
  free(array->buffers);
  for (int64_t i = 0; i < array->n_children; i++) {
    array->children[i]->release(array->children[i]);
    free(array->children[i]);
  }
  free(array->children);
  if (array->dictionary != NULL) {
    array->dictionary->release(array->dictionary);
    free(array->dictionary);
  }
  array->release = NULL;
}

/* Bytes per value of a fixed-width format, 0 for the others. */
static int64_t fixed_width(const char* format) {
  static const struct {
    const char* prefix;
    int64_t width;
  } widths[] = {{"c", 1},    {"C", 1},    {"s", 2},    {"S", 2},    {"e", 2},    {"i", 4},
                {"I", 4},    {"f", 4},    {"l", 8},    {"L", 8},    {"g", 8},    {"tdD", 4},
                {"tdm", 8},  {"tts", 4},  {"ttm", 4},  {"ttu", 8},  {"ttn", 8},  {"ts", 8},
                {"tD", 8},   {"tiM", 4},  {"tiD", 8},  {"tin", 16}};
  for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
    size_t length = strlen(widths[i].prefix);
    if (strncmp(format, widths[i].prefix, length) == 0 &&
        (format[length] == '\0' || format[length] == ':' || widths[i].prefix[0] == 't')) {
      return widths[i].width;
    }
  }
  if (strncmp(format, "w:", 2) == 0) return atoi(format + 2);
  if (strncmp(format, "d:", 2) == 0) {
    const char* bits = strrchr(format, ',');
    int count = 0;
    for (const char* c = format; *c; c++) count += *c == ',';
    return count == 2 ? atoi(bits + 1) / 8 : 16;
  }
  return 0;
}

/* Fills `out` with `rows` rows of `schema`'s type, every row the same
 * value chosen by `seed`, without nulls. 0, or -1 for a layout the mock
 * engine does not build (views, unions, run-end encoding). */
static int make_array(const struct ArrowSchema* schema, int64_t rows, int seed,
                      struct ArrowArray* out) {
  memset(out, 0, sizeof(*out));
  out->length = rows;
  out->release = generated_release;
  const char* format = schema->format;
  int64_t buffers = 0, children = 0;
  uint8_t* data[3] = {NULL, NULL, NULL};
  int64_t child_rows = rows;
  if (schema->dictionary != NULL) {
    /* Index 0 of a one-entry dictionary. */
    buffers = 2;
    data[1] = calloc((size_t)(rows * fixed_width(format) + 1), 1);
    out->dictionary = malloc(sizeof(*out->dictionary));
    if (make_array(schema->dictionary, 1, seed, out->dictionary) != 0) {
      free(out->dictionary);
      free(data[1]);
      return -1;
    }
  } else if (strcmp(format, "n") == 0) {
    out->null_count = rows;
  } else if (strcmp(format, "b") == 0) {
    buffers = 2;
    data[1] = calloc((size_t)(rows / 8 + 1), 1);
    for (int64_t r = 0; r < rows && seed % 2; r++) data[1][r / 8] |= (uint8_t)(1u << (r % 8));
  } else if (fixed_width(format) > 0) {
    int64_t width = fixed_width(format);
    buffers = 2;
    data[1] = malloc((size_t)(rows * width + 1));
    for (int64_t r = 0; r < rows; r++) {
      for (int64_t b = 0; b < width; b++) data[1][r * width + b] = (uint8_t)(seed * 7 + b + 1);
    }
  } else if (strcmp(format, "u") == 0 || strcmp(format, "z") == 0 ||
             strcmp(format, "U") == 0 || strcmp(format, "Z") == 0) {
    int large = format[0] == 'U' || format[0] == 'Z';
    const char text[3] = {'a', 'b', (char)('a' + seed % 26)};
    buffers = 3;
    data[1] = malloc((size_t)((rows + 1) * (large ? 8 : 4)));
    data[2] = malloc((size_t)(rows * 3 + 1));
    for (int64_t r = 0; r <= rows; r++) {
      if (large) {
        ((int64_t*)data[1])[r] = r * 3;
      } else {
        ((int32_t*)data[1])[r] = (int32_t)(r * 3);
      }
      if (r < rows) memcpy(data[2] + r * 3, text, 3);
    }
  } else if (strcmp(format, "+l") == 0 || strcmp(format, "+L") == 0 ||
             strcmp(format, "+m") == 0) {
    int large = format[1] == 'L';
    buffers = 2;
    children = 1;
    /* One element per row, so that deep types stay small. */
    data[1] = malloc((size_t)((rows + 1) * (large ? 8 : 4)));
    for (int64_t r = 0; r <= rows; r++) {
      if (large) {
        ((int64_t*)data[1])[r] = r;
      } else {
        ((int32_t*)data[1])[r] = (int32_t)r;
      }
    }
  } else if (strncmp(format, "+w:", 3) == 0) {
    buffers = 1;
    children = 1;
    child_rows = rows * atoi(format + 3);
  } else if (strcmp(format, "+s") == 0) {
    buffers = 1;
    children = schema->n_children;
  } else {
    return -1;
  }
  out->n_buffers = buffers;
  out->buffers = calloc((size_t)buffers + 1, sizeof(void*));
  for (int64_t i = 0; i < buffers; i++) out->buffers[i] = data[i];
  out->n_children = children;
  out->children = calloc((size_t)children + 1, sizeof(struct ArrowArray*));
  for (int64_t i = 0; i < children; i++) {
    out->children[i] = malloc(sizeof(struct ArrowArray));
    if (make_array(schema->children[i], child_rows, seed + 1 + (int)i, out->children[i]) != 0) {
      free(out->children[i]);
      out->n_children = i;
      generated_release(out);
      return -1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------ comparing */

/* The bytes of an array (wudf_array_serialize), for comparing results. */
static uint8_t* bytes_of(const struct ArrowArray* array, const struct ArrowSchema* schema,
                         size_t* size) {
  struct wudf_error error;
  uint8_t* bytes = NULL;
  ASSERT_OK(wudf_array_serialize(array, schema, &bytes, size, &error), &error);
  return bytes;
}

/* Asserts two results hold the same data and types. */
static void expect_same(const char* function, const char* what, const struct ArrowArray* a,
                        const struct ArrowSchema* a_schema, const struct ArrowArray* b,
                        const struct ArrowSchema* b_schema) {
  size_t a_size = 0, b_size = 0;
  uint8_t* a_bytes = bytes_of(a, a_schema, &a_size);
  uint8_t* b_bytes = bytes_of(b, b_schema, &b_size);
  int same = a_size == b_size && memcmp(a_bytes, b_bytes, a_size) == 0;
  wudf_bytes_free(a_bytes);
  wudf_bytes_free(b_bytes);
  if (!same) TEST_FAIL("function '%s': the result differs from %s", function, what);
}

/* Asserts a result's root has the registered type's format and children. */
static void expect_type(const char* function, const struct ArrowSchema* result,
                        const struct ArrowSchema* registered) {
  if (strcmp(result->format, registered->format) != 0 ||
      result->n_children != registered->n_children) {
    TEST_FAIL("function '%s': result format %s with %lld children, registered %s with %lld",
              function, result->format, (long long)result->n_children, registered->format,
              (long long)registered->n_children);
  }
}

/* Nonzero when `schema` has a dictionary at any level (whose identity a
 * guest may give back as another dictionary of the same values). */
static int has_dictionary(const struct ArrowSchema* schema) {
  if (schema->dictionary != NULL) return 1;
  for (int64_t i = 0; i < schema->n_children; i++) {
    if (has_dictionary(schema->children[i])) return 1;
  }
  return 0;
}

/* --------------------------------------------------------- the registry */

/* What the mock engine keeps of a function to plan a call: only schemas. */
struct registered_function {
  uint32_t index;
  wudf_function_kind kind;
  char name[128];
  struct ArrowSchema arguments; /* struct: one child per argument */
  struct ArrowSchema result;
};

static void register_function(struct wudf_module* module, uint32_t index,
                              struct registered_function* out) {
  struct wudf_error error;
  struct wudf_function_info info = {.struct_size = sizeof info};
  ASSERT_OK(wudf_module_function(module, index, &info, &error), &error);
  out->index = index;
  out->kind = info.kind;
  snprintf(out->name, sizeof(out->name), "%s", info.name);
  ASSERT_OK(wudf_function_schema(module, index, WUDF_SCHEMA_ARGUMENTS, &out->arguments, &error),
            &error);
  ASSERT_OK(wudf_function_schema(module, index, WUDF_SCHEMA_RESULT, &out->result, &error),
            &error);
  ASSERT_STR_EQ(out->arguments.format, "+s");
  ASSERT_EQ((uint32_t)out->arguments.n_children, info.arg_count);
  if (info.kind == WUDF_FUNCTION_AGGREGATE) {
    struct ArrowSchema state;
    ASSERT_OK(wudf_function_schema(module, index, WUDF_SCHEMA_STATE, &state, &error), &error);
    ASSERT_STR_EQ(state.format, info.state_format);
    state.release(&state);
  }
}

static void unregister_function(struct registered_function* function) {
  function->arguments.release(&function->arguments);
  function->result.release(&function->result);
}

/* Counts of what run_module did. */
static int functions_run, functions_skipped, constant_calls;

/* The rows of every call of run_module. */
#define ROWS 5

/* An empty struct of `rows` rows: the arguments of a function without any. */
static const void* no_buffers[1] = {NULL};
static void static_release(struct ArrowArray* array) { array->release = NULL; }
static void static_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

/* Runs function `f` of `module` on a fresh instance three ways -- every
 * argument a constant; the first a constant and the rest columns; every
 * argument a column the mock engine built -- and checks they agree. */
static void run_function(struct wudf_module* module, struct registered_function* f) {
  uint32_t count = (uint32_t)f->arguments.n_children;
  if (getenv("WUDF_TEST_VERBOSE") != NULL) printf("  %s\n", f->name);
  struct ArrowArray constants[8], columns[8];
  if (count > 8) {
    functions_skipped++;
    return;
  }
  for (uint32_t i = 0; i < count; i++) {
    const struct ArrowSchema* type = f->arguments.children[i];
    if (make_array(type, 1, (int)i + 2, &constants[i]) != 0) {
      for (uint32_t j = 0; j < i; j++) {
        constants[j].release(&constants[j]);
        columns[j].release(&columns[j]);
      }
      functions_skipped++;
      return;
    }
    ASSERT_EQ(make_array(type, ROWS, (int)i + 2, &columns[i]), 0);
  }
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.result_row_limit = 100000; /* kinds' endless table function */
  options.max_rows_per_call = 2;     /* several guest calls per call */

  /* Every argument a column: what the engine would do without constants. */
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error column_error;
  struct ArrowArray column_result;
  struct ArrowSchema column_schema;
  int column_status;
  if (count == 0) {
    struct ArrowArray batch = {.length = ROWS, .n_buffers = 1, .buffers = no_buffers,
                               .release = static_release};
    struct ArrowSchema batch_schema = {.format = "+s", .name = "",
                                       .release = static_schema_release};
    column_status = wudf_function_call_batch(instance, f->index, &batch, &batch_schema,
                                             &options, &column_result, &column_schema,
                                             &column_error);
  } else {
    const struct ArrowArray* arrays[8];
    const struct ArrowSchema* schemas[8];
    for (uint32_t i = 0; i < count; i++) {
      arrays[i] = &columns[i];
      schemas[i] = f->arguments.children[i];
    }
    column_status = wudf_function_call(instance, f->index, count, arrays, schemas, &options,
                                       &column_result, &column_schema, &column_error);
  }
  wudf_instance_free(instance);

  /* Constants: all of them, then only the first. */
  for (int mixed = 0; mixed <= (count >= 2); mixed++) {
    struct wudf_argument args[8];
    for (uint32_t i = 0; i < count; i++) {
      int constant = !mixed || i == 0;
      args[i] = (struct wudf_argument){constant ? &constants[i] : &columns[i],
                                       f->arguments.children[i],
                                       constant ? WUDF_ARGUMENT_CONSTANT : 0u, 0};
    }
    instance = new_instance(module);
    struct wudf_error error;
    struct ArrowArray result;
    struct ArrowSchema result_schema;
    int status = wudf_function_call_args(instance, f->index, count, args, ROWS, &options,
                                         &result, &result_schema, &error);
    constant_calls++;
    if (status != column_status) {
      TEST_FAIL("function '%s': %d with constants (%s), %d with columns (%s)", f->name, status,
                status ? error.message : "", column_status,
                column_status ? column_error.message : "");
    }
    if (status == 0) {
      ASSERT_STR_EQ(result_schema.name, f->name);
      expect_type(f->name, &result_schema, &f->result);
      /* (A DETERMINISTIC function of constants only runs on one row: its
       * call_rows probe tells, see below.) */
      if (strcmp(f->name, "call_rows_deterministic") != 0 || mixed) {
        expect_same(f->name, mixed ? "the call on columns (first argument constant)"
                              : "the call on columns (all constant)",
                    &result, &result_schema, &column_result, &column_schema);
      }
      /* An identity function of alltypes gives its argument back. */
      if (strncmp(f->name, "id_", 3) == 0 && count == 1 &&
          !has_dictionary(f->arguments.children[0])) {
        ASSERT_EQ(result.length, ROWS);
        struct ArrowSchema renamed = *f->arguments.children[0];
        renamed.name = f->name;
        /* (Data compared under one schema: the guest names a map's
         * children its own way.) */
        expect_same(f->name, "its argument", &result, &renamed, &columns[0], &renamed);
      }
      result.release(&result);
      result_schema.release(&result_schema);
    } else {
      ASSERT_STR_EQ(error.message, column_error.message);
    }
    wudf_instance_free(instance);
  }
  if (column_status == 0) {
    column_result.release(&column_result);
    column_schema.release(&column_schema);
  }
  for (uint32_t i = 0; i < count; i++) {
    constants[i].release(&constants[i]);
    columns[i].release(&columns[i]);
  }
  functions_run++;
}

/* Registers every function of module `name` from its schemas and runs
 * each with constants. */
static void run_module(const char* name) {
  struct wudf_module* module = load_module(engine, name);
  uint32_t count = wudf_module_function_count(module);
  ASSERT(count > 0);
  struct registered_function* registry = calloc(count, sizeof(*registry));
  for (uint32_t i = 0; i < count; i++) register_function(module, i, &registry[i]);
  for (uint32_t i = 0; i < count; i++) run_function(module, &registry[i]);
  for (uint32_t i = 0; i < count; i++) unregister_function(&registry[i]);
  free(registry);
  wudf_module_free(module);
}

TEST(mock_engine_runs_every_function_with_constants) {
  static const char* const modules[] = {
      "example_gcd",    "example_checked_divide", "example_strings", "example_sum",
      "example_batches", "example_tables",        "example_aggregates", "kinds",
      "types",          "alltypes"};
  for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) run_module(modules[i]);
  printf("  %d functions run (%d constant calls), %d skipped (argument layouts the mock "
         "engine does not build)\n", functions_run, constant_calls, functions_skipped);
  ASSERT_GE(functions_run, 150);
}

/* ------------------------------------------------------- known values */

/* An int32 column of `rows` values; nulls where `valid` is 0. */
struct int32_column {
  int32_t values[16];
  uint8_t validity[2];
  const void* buffers[2];
  struct ArrowArray array;
};
static const struct ArrowSchema int32_schema = {.format = "i", .name = "",
                                                .flags = ARROW_FLAG_NULLABLE,
                                                .release = static_schema_release};

static void int32_fill(struct int32_column* column, const int32_t* values, const int* valid,
                       int64_t rows) {
  memset(column, 0, sizeof(*column));
  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    column->values[r] = values[r];
    int is_valid = valid == NULL || valid[r];
    if (is_valid) column->validity[r / 8] |= (uint8_t)(1u << (r % 8));
    nulls += !is_valid;
  }
  column->buffers[0] = nulls > 0 ? column->validity : NULL;
  column->buffers[1] = column->values;
  column->array = (struct ArrowArray){.length = rows, .null_count = nulls, .n_buffers = 2,
                                      .buffers = column->buffers, .release = static_release};
}

static uint32_t find(struct wudf_module* module, const char* name) {
  struct wudf_error error;
  uint32_t index = 0;
  ASSERT_OK(wudf_module_find_function(module, name, &index, &error), &error);
  return index;
}

TEST(gcd_of_a_constant_and_a_column) {
  struct wudf_module* module = load_module(engine, "example_gcd");
  struct wudf_instance* instance = new_instance(module);
  struct int32_column twelve, column;
  int32_fill(&twelve, (const int32_t[]){12}, NULL, 1);
  int32_fill(&column, (const int32_t[]){18, 8, 0, 0}, (const int[]){1, 1, 0, 1}, 4);
  struct wudf_argument args[2] = {{&twelve.array, &int32_schema, WUDF_ARGUMENT_CONSTANT, 0},
                                  {&column.array, &int32_schema, 0, 0}};
  struct wudf_error error;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_OK(wudf_function_call_args(instance, find(module, "gcd"), 2, args, 4, NULL, &out,
                                    &out_schema, &error), &error);
  ASSERT_EQ(out.length, 4);
  ASSERT_EQ(out.null_count, 1);
  const int32_t* values = out.buffers[1];
  const uint8_t* validity = out.buffers[0];
  ASSERT_EQ(values[0], 6);
  ASSERT_EQ(values[1], 4);
  ASSERT_EQ(validity[0] & 4, 0);
  ASSERT_EQ(values[3], 12);
  out.release(&out);
  out_schema.release(&out_schema);

  /* A null constant: a strict function gives null on every row. */
  struct int32_column null_constant;
  int32_fill(&null_constant, (const int32_t[]){0}, (const int[]){0}, 1);
  args[0].array = &null_constant.array;
  ASSERT_OK(wudf_function_call_args(instance, find(module, "gcd"), 2, args, 4, NULL, &out,
                                    &out_schema, &error), &error);
  ASSERT_EQ(out.length, 4);
  ASSERT_EQ(out.null_count, 4);
  out.release(&out);
  out_schema.release(&out_schema);

  /* Zero rows: an empty result. */
  struct int32_column empty;
  int32_fill(&empty, NULL, NULL, 0);
  args[0].array = &twelve.array;
  args[1].array = &empty.array;
  ASSERT_OK(wudf_function_call_args(instance, find(module, "gcd"), 2, args, 0, NULL, &out,
                                    &out_schema, &error), &error);
  ASSERT_EQ(out.length, 0);
  out.release(&out);
  out_schema.release(&out_schema);

  /* Refusals: a constant of two rows, a column of the wrong length,
   * unknown flags; nothing runs and the instance stays usable. */
  args[1].array = &column.array;
  args[0].array = &column.array;
  ASSERT_STATUS(wudf_function_call_args(instance, 0, 2, args, 4, NULL, &out, &out_schema,
                                        &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "argument 1: a constant of 4 rows, expected 1");
  args[0].array = &twelve.array;
  ASSERT_STATUS(wudf_function_call_args(instance, 0, 2, args, 5, NULL, &out, &out_schema,
                                        &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "argument 2: a column of 4 rows, expected 5");
  args[1].flags = 2;
  ASSERT_STATUS(wudf_function_call_args(instance, 0, 2, args, 4, NULL, &out, &out_schema,
                                        &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "unknown flags");
  args[1].flags = 0;
  ASSERT_OK(wudf_function_call_args(instance, 0, 2, args, 4, NULL, &out, &out_schema, &error),
            &error);
  out.release(&out);
  out_schema.release(&out_schema);

  /* Through a pool. */
  struct wudf_pool* pool = NULL;
  ASSERT_OK(wudf_pool_new(module, NULL, &pool, &error), &error);
  ASSERT_OK(wudf_pool_call_args(pool, 0, 2, args, 4, NULL, &out, &out_schema, &error), &error);
  ASSERT_EQ(((const int32_t*)out.buffers[1])[1], 4);
  out.release(&out);
  out_schema.release(&out_schema);
  wudf_pool_free(pool);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(a_deterministic_function_of_constants_runs_once) {
  struct wudf_module* module = load_module(engine, "types");
  struct wudf_instance* instance = new_instance(module);
  struct int32_column seven;
  int32_fill(&seven, (const int32_t[]){7}, NULL, 1);
  struct wudf_argument args[1] = {{&seven.array, &int32_schema, WUDF_ARGUMENT_CONSTANT, 0}};
  struct wudf_error error;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  enum { MANY = 100000 };
  /* call_rows gives each row the rows its guest call saw: the broadcast
   * column went to the guest whole (in one guest call: chunk_bytes off)... */
  struct wudf_call_options whole;
  wudf_call_options_init(&whole);
  whole.chunk_bytes = 0;
  ASSERT_OK(wudf_function_call_args(instance, find(module, "call_rows"), 1, args, MANY, &whole,
                                    &out, &out_schema, &error), &error);
  ASSERT_EQ(out.length, MANY);
  ASSERT_EQ(((const int64_t*)out.buffers[1])[MANY - 1], MANY);
  out.release(&out);
  out_schema.release(&out_schema);
  /* ... while the DETERMINISTIC one ran on one row, its result broadcast. */
  ASSERT_OK(wudf_function_call_args(instance, find(module, "call_rows_deterministic"), 1, args,
                                    MANY, NULL, &out, &out_schema, &error), &error);
  ASSERT_EQ(out.length, MANY);
  ASSERT_EQ(out.null_count, 0);
  for (int64_t r = 0; r < MANY; r++) {
    if (((const int64_t*)out.buffers[1])[r] != 1) TEST_FAIL("row %lld", (long long)r);
  }
  ASSERT_STR_EQ(out_schema.name, "call_rows_deterministic");
  out.release(&out);
  out_schema.release(&out_schema);
  /* Over the row limit it runs as any call, which reports the limit. */
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  options.result_row_limit = 1000;
  ASSERT_STATUS(wudf_function_call_args(instance, find(module, "call_rows_deterministic"), 1,
                                        args, MANY, &options, &out, &out_schema, &error),
                EFBIG, &error);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(a_utf8_constant_broadcast_to_many_rows) {
  struct wudf_module* module = load_module(engine, "types");
  struct wudf_instance* instance = new_instance(module);
  static const int32_t offsets[2] = {0, 5};
  const void* buffers[3] = {NULL, offsets, "hello"};
  struct ArrowArray hello = {.length = 1, .n_buffers = 3, .buffers = buffers,
                             .release = static_release};
  struct ArrowSchema utf8 = {.format = "u", .name = "", .flags = ARROW_FLAG_NULLABLE,
                             .release = static_schema_release};
  struct wudf_argument args[1] = {{&hello, &utf8, WUDF_ARGUMENT_CONSTANT, 0}};
  struct wudf_error error;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  enum { MANY = 70001 };
  ASSERT_OK(wudf_function_call_args(instance, find(module, "reverse_utf8"), 1, args, MANY,
                                    NULL, &out, &out_schema, &error), &error);
  ASSERT_EQ(out.length, MANY);
  const int32_t* out_offsets = out.buffers[1];
  const char* data = out.buffers[2];
  ASSERT_EQ(out_offsets[MANY], 5 * MANY);
  for (int64_t r = 0; r < MANY; r++) {
    if (memcmp(data + out_offsets[r], "olleh", 5) != 0) TEST_FAIL("row %lld", (long long)r);
  }
  out.release(&out);
  out_schema.release(&out_schema);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(table_streams_and_accumulators_take_constants) {
  struct wudf_module* module = load_module(engine, "example_tables");
  struct wudf_instance* instance = new_instance(module);
  struct wudf_error error;
  /* series(1, stop) for stop in 3, 0, 2: the constant start and a column. */
  struct int32_column one, stops;
  int32_fill(&one, (const int32_t[]){1}, NULL, 1);
  int32_fill(&stops, (const int32_t[]){3, 0, 2}, NULL, 3);
  struct wudf_argument args[2] = {{&one.array, &int32_schema, WUDF_ARGUMENT_CONSTANT, 0},
                                  {&stops.array, &int32_schema, 0, 0}};
  struct ArrowArrayStream stream;
  ASSERT_OK(wudf_table_call_args(instance, find(module, "series"), 2, args, 3, NULL, &stream,
                                 &error), &error);
  /* The stream owns the broadcast column: the caller's may go now. */
  memset(&one, 0xa5, sizeof(one));
  int64_t rows = 0;
  int64_t input_rows[16];
  int32_t values[16];
  for (;;) {
    struct ArrowArray chunk;
    ASSERT_EQ(stream.get_next(&stream, &chunk), 0);
    if (chunk.release == NULL) break;
    for (int64_t r = 0; r < chunk.length && rows < 16; r++, rows++) {
      input_rows[rows] = ((const int64_t*)chunk.children[0]->buffers[1])[r];
      values[rows] = ((const int32_t*)chunk.children[1]->buffers[1])[r];
    }
    chunk.release(&chunk);
  }
  stream.release(&stream);
  /* The same call on columns, the oracle. */
  struct int32_column ones;
  int32_fill(&ones, (const int32_t[]){1, 1, 1}, NULL, 3);
  const struct ArrowArray* arrays[2] = {&ones.array, &stops.array};
  const struct ArrowSchema* schemas[2] = {&int32_schema, &int32_schema};
  struct ArrowArray whole;
  struct ArrowSchema whole_schema;
  ASSERT_OK(wudf_function_call(instance, find(module, "series"), 2, arrays, schemas, NULL,
                               &whole, &whole_schema, &error), &error);
  ASSERT_EQ(whole.length, rows);
  ASSERT(rows > 0);
  for (int64_t r = 0; r < rows; r++) {
    ASSERT_EQ(input_rows[r], ((const int64_t*)whole.children[0]->buffers[1])[r]);
    ASSERT_EQ(values[r], ((const int32_t*)whole.children[1]->buffers[1])[r]);
  }
  ASSERT_EQ(input_rows[0], 0);
  ASSERT_EQ(values[0], 1);
  whole.release(&whole);
  whole_schema.release(&whole_schema);
  wudf_instance_free(instance);
  wudf_module_free(module);

  /* sum(5) over 4 rows in groups 0, 1, 0, 0: 15 and 5. */
  module = load_module(engine, "example_aggregates");
  instance = new_instance(module);
  static const int64_t five_value[1] = {5};
  const void* buffers[2] = {NULL, five_value};
  struct ArrowArray five = {.length = 1, .n_buffers = 2, .buffers = buffers,
                            .release = static_release};
  struct ArrowSchema int64_schema = {.format = "l", .name = "", .flags = ARROW_FLAG_NULLABLE,
                                     .release = static_schema_release};
  struct wudf_argument sum_args[1] = {{&five, &int64_schema, WUDF_ARGUMENT_CONSTANT, 0}};
  struct wudf_aggregate* sum = NULL;
  ASSERT_OK(wudf_aggregate_new(instance, find(module, "sum"), &sum, &error), &error);
  static const uint32_t groups[4] = {0, 1, 0, 0};
  ASSERT_OK(wudf_aggregate_update_args(sum, 1, sum_args, 4, groups, 2, NULL, &error), &error);
  struct ArrowArray totals;
  struct ArrowSchema totals_schema;
  ASSERT_OK(wudf_aggregate_finish(sum, NULL, &totals, &totals_schema, &error), &error);
  ASSERT_EQ(totals.length, 2);
  ASSERT_EQ(((const int64_t*)totals.buffers[1])[0], 15);
  ASSERT_EQ(((const int64_t*)totals.buffers[1])[1], 5);
  totals.release(&totals);
  totals_schema.release(&totals_schema);
  wudf_aggregate_free(sum);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

/* Every call with constants once: a broadcast utf8 constant, a
 * deterministic function run once, a stream, an accumulator. */
static int every_call(struct wudf_module* types, struct wudf_module* tables,
                      struct wudf_module* aggregates, struct wudf_instance* const* instances,
                      struct wudf_error* error) {
  static const int32_t offsets[2] = {0, 2};
  const void* text_buffers[3] = {NULL, offsets, "hi"};
  struct ArrowArray text = {.length = 1, .n_buffers = 3, .buffers = text_buffers,
                            .release = static_release};
  struct ArrowSchema utf8 = {.format = "u", .name = "", .flags = ARROW_FLAG_NULLABLE,
                             .release = static_schema_release};
  struct int32_column seven, stops;
  int32_fill(&seven, (const int32_t[]){7}, NULL, 1);
  int32_fill(&stops, (const int32_t[]){9, 8, 9}, NULL, 3);
  struct wudf_argument args[2] = {{&text, &utf8, WUDF_ARGUMENT_CONSTANT, 0}};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  int status = wudf_function_call_args(instances[0], find(types, "reverse_utf8"), 1, args,
                                       300, NULL, &out, &out_schema, error);
  if (status != 0) return status;
  out.release(&out);
  out_schema.release(&out_schema);
  args[0] = (struct wudf_argument){&seven.array, &int32_schema, WUDF_ARGUMENT_CONSTANT, 0};
  status = wudf_function_call_args(instances[0], find(types, "call_rows_deterministic"), 1,
                                   args, 300, NULL, &out, &out_schema, error);
  if (status != 0) return status;
  out.release(&out);
  out_schema.release(&out_schema);
  args[1] = (struct wudf_argument){&stops.array, &int32_schema, 0, 0};
  struct ArrowArrayStream stream;
  status = wudf_table_call_args(instances[1], find(tables, "series"), 2, args, 3, NULL,
                                &stream, error);
  if (status != 0) return status;
  for (;;) {
    struct ArrowArray chunk;
    status = stream.get_next(&stream, &chunk);
    if (status != 0 || chunk.release == NULL) break;
    chunk.release(&chunk);
  }
  if (status != 0) snprintf(error->message, sizeof(error->message), "%s",
                            stream.get_last_error(&stream));
  error->code = status;
  stream.release(&stream);
  if (status != 0) return status;
  static const int64_t five_value[1] = {5};
  const void* five_buffers[2] = {NULL, five_value};
  struct ArrowArray five = {.length = 1, .n_buffers = 2, .buffers = five_buffers,
                            .release = static_release};
  struct ArrowSchema int64_schema = {.format = "l", .name = "", .flags = ARROW_FLAG_NULLABLE,
                                     .release = static_schema_release};
  args[0] = (struct wudf_argument){&five, &int64_schema, WUDF_ARGUMENT_CONSTANT, 0};
  struct wudf_aggregate* sum = NULL;
  status = wudf_aggregate_new(instances[2], find(aggregates, "sum"), &sum, error);
  if (status != 0) return status;
  status = wudf_aggregate_update_args(sum, 1, args, 10, NULL, 1, NULL, error);
  wudf_aggregate_free(sum);
  return status;
}

TEST(every_allocation_failure_is_enomem_and_harmless) {
  struct wudf_module* types = load_module(engine, "types");
  struct wudf_module* tables = load_module(engine, "example_tables");
  struct wudf_module* aggregates = load_module(engine, "example_aggregates");
  struct wudf_instance* instances[3] = {new_instance(types), new_instance(tables),
                                        new_instance(aggregates)};
  struct wudf_error error;
  int failures = 0;
  for (long k = 1;; k++) {
    failed_once = 0;
    fail_countdown = k;
    int status = every_call(types, tables, aggregates, instances, &error);
    fail_countdown = 0;
    if (!failed_once) {
      ASSERT_OK(status, &error);
      break;
    }
    ASSERT_STATUS(status, ENOMEM, &error);
    failures++;
    /* The instances are as good as new. */
    ASSERT_OK(every_call(types, tables, aggregates, instances, &error), &error);
  }
  ASSERT(failures > 10);
  for (int i = 0; i < 3; i++) wudf_instance_free(instances[i]);
  wudf_module_free(aggregates);
  wudf_module_free(tables);
  wudf_module_free(types);
}

int main(void) {
  static const struct wudf_allocator allocator = {test_malloc, test_realloc, test_free, NULL};
  if (wudf_set_allocator(&allocator) != 0) TEST_FAIL("cannot install the allocator");
  engine = new_engine();
  RUN_TEST(mock_engine_runs_every_function_with_constants);
  RUN_TEST(gcd_of_a_constant_and_a_column);
  RUN_TEST(a_deterministic_function_of_constants_runs_once);
  RUN_TEST(a_utf8_constant_broadcast_to_many_rows);
  RUN_TEST(table_streams_and_accumulators_take_constants);
  RUN_TEST(every_allocation_failure_is_enomem_and_harmless);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
