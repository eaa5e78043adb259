/*
 * embed.c -- the smallest engine that embeds libwasmudf: it loads a module
 * given on the command line, lists the functions it declares, and calls one
 * scalar function over int32 columns it builds by hand through the Arrow C
 * Data Interface (no Arrow library needed), printing one line per row.
 *
 *   embed MODULE.wasm [FUNCTION]     (FUNCTION defaults to "gcd")
 *
 * With the gcd guest (examples/c/gcd.c, built by `wasmudf build`) it prints
 *
 *   scalar    gcd(int32, int32) -> int32
 *   gcd(12, 18) = 6
 *   gcd(1071, 462) = 21
 *   gcd(-7, 21) = 7
 *   gcd(null, 5) = null
 *
 * The function must take one to four int32 arguments and return int32. It
 * is built outside the project's tree against an installed libwasmudf:
 * CMakeLists.txt here (find_package) or Makefile (pkg-config); see
 * docs/embedding.md. Exit status: 0 success, 1 error, 2 usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <wasmudf/wasmudf.h>

enum { ROWS = 4, MAX_ARGS = 4 };

/* The input rows: column c of row r is VALUES[c][r]; row 3 of column 0 is
 * null (bit 3 of its validity bitmap is clear), so a strict function gives
 * null there without being called on it. */
static const int32_t VALUES[MAX_ARGS][ROWS] = {
    {12, 1071, -7, 0}, {18, 462, 21, 5}, {3, 4, 5, 6}, {7, 8, 9, 10}};
static const uint8_t FIRST_VALIDITY = 0x07; /* rows 0, 1, 2 valid */

/* One int32 column as the C Data Interface describes it: the structs point
 * into static data owned by this program. */
struct int32_column {
  struct ArrowArray array;
  struct ArrowSchema schema;
  const void* buffers[2];
};

/* libwasmudf borrows argument columns and never releases them; these
 * callbacks exist because the interface requires a non-NULL release on a
 * live struct. They only mark the struct released. */
static void release_array(struct ArrowArray* array) { array->release = NULL; }
static void release_schema(struct ArrowSchema* schema) { schema->release = NULL; }

/* Fills `*column` with argument column `index` (0 <= index < MAX_ARGS) of
 * ROWS rows: format "i" (int32), buffers [validity, values]. The column
 * stays valid for the program's lifetime; nothing needs freeing. */
static void int32_column_init(struct int32_column* column, int index) {
  memset(column, 0, sizeof(*column));
  column->buffers[0] = index == 0 ? &FIRST_VALIDITY : NULL; /* NULL: no nulls */
  column->buffers[1] = VALUES[index];
  column->array.length = ROWS;
  column->array.null_count = index == 0 ? 1 : 0;
  column->array.offset = 0;
  column->array.n_buffers = 2;
  column->array.buffers = column->buffers;
  column->array.release = release_array;
  column->schema.format = "i";
  column->schema.name = "";
  column->schema.flags = ARROW_FLAG_NULLABLE;
  column->schema.release = release_schema;
}

/* Nonzero when bit `i` of the Arrow validity bitmap `bits` is set; a NULL
 * bitmap means every row is valid. */
static int is_valid(const uint8_t* bits, int64_t i) {
  return bits == NULL || (bits[i / 8] >> (i % 8)) & 1;
}

/* Prints the module's functions, one "KIND SIGNATURE" line each, as
 * `wasmudf list` does. Returns 0, or the error code of wudf_module_function
 * with `*error` filled. */
static int list_functions(const struct wudf_module* module, struct wudf_error* error) {
  uint32_t count = wudf_module_function_count(module);
  for (uint32_t i = 0; i < count; i++) {
    struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
    int status = wudf_module_function(module, i, &info, error);
    if (status != 0) return status;
    printf("%-9s %s\n", wudf_function_kind_name(info.kind), info.signature);
  }
  return 0;
}

/* Calls scalar function `index` of the instance's module on the first
 * info->arg_count columns and prints "NAME(ARGS) = RESULT" for every row.
 * Returns 0, or an error code with `*error` filled (EINVAL when the
 * function is not a scalar function of int32 arguments returning int32). */
static int call_and_print(struct wudf_instance* instance, uint32_t index,
                          const struct wudf_function_info* info, struct wudf_error* error) {
  if (info->kind != WUDF_FUNCTION_SCALAR || info->arg_count < 1 ||
      info->arg_count > MAX_ARGS || strcmp(info->result_format, "i") != 0) {
    snprintf(error->message, sizeof(error->message),
             "%s is not a scalar function of 1 to %d int32 arguments returning int32",
             info->signature, MAX_ARGS);
    return error->code = EINVAL;
  }
  for (uint32_t a = 0; a < info->arg_count; a++) {
    if (strcmp(info->arg_formats[a], "i") != 0) {
      snprintf(error->message, sizeof(error->message),
               "%s: argument %u is %s, not int32", info->name, (unsigned)a + 1,
               info->arg_types[a]);
      return error->code = EINVAL;
    }
  }

  struct int32_column columns[MAX_ARGS];
  const struct ArrowArray* args[MAX_ARGS];
  const struct ArrowSchema* schemas[MAX_ARGS];
  for (uint32_t a = 0; a < info->arg_count; a++) {
    int32_column_init(&columns[a], (int)a);
    args[a] = &columns[a].array;
    schemas[a] = &columns[a].schema;
  }

  /* Default options: results copied into host memory, fully validated. */
  struct ArrowArray result;
  struct ArrowSchema result_schema;
  int status = wudf_function_call(instance, index, info->arg_count, args, schemas, NULL,
                                  &result, &result_schema, error);
  if (status != 0) return status; /* nothing to release */

  /* The result is int32 (checked above against the declared type, and by
   * the library against what the guest returned): [validity, values]. */
  const uint8_t* validity = result.buffers[0];
  const int32_t* values = result.buffers[1];
  for (int64_t row = 0; row < result.length; row++) {
    printf("%s(", info->name);
    for (uint32_t a = 0; a < info->arg_count; a++) {
      const struct int32_column* column = &columns[a];
      if (is_valid(column->buffers[0], row)) {
        printf("%s%d", a > 0 ? ", " : "", (int)VALUES[a][row]);
      } else {
        printf("%snull", a > 0 ? ", " : "");
      }
    }
    int64_t i = result.offset + row;
    if (is_valid(validity, i)) {
      printf(") = %d\n", (int)values[i]);
    } else {
      printf(") = null\n");
    }
  }
  /* The caller owns the result: release both structs. */
  result.release(&result);
  result_schema.release(&result_schema);
  return 0;
}

/* Loads argv[1], lists its functions, calls argv[2] (default "gcd") and
 * frees everything in the reverse order of creation. */
int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: embed MODULE.wasm [FUNCTION]\n");
    return 2;
  }
  const char* name = argc == 3 ? argv[2] : "gcd";
  struct wudf_error error = {0};
  struct wudf_engine* engine = NULL;
  struct wudf_module* module = NULL;
  struct wudf_instance* instance = NULL;
  uint32_t index = 0;
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  /* NULL configuration: cache in $WASMUDF_CACHE_DIR (else ~/.cache/wasmudf),
   * 10 s deadline per call, 1 GiB memory cap. */
  int status = wudf_engine_new(NULL, &engine, &error);
  if (status == 0) status = wudf_module_load_file(engine, argv[1], &module, &error);
  if (status == 0) status = list_functions(module, &error);
  if (status == 0) status = wudf_module_find_function(module, name, &index, &error);
  if (status == 0) status = wudf_module_function(module, index, &info, &error);
  if (status == 0) status = wudf_instance_new(module, NULL, &instance, &error);
  if (status == 0) status = call_and_print(instance, index, &info, &error);
  if (status != 0) fprintf(stderr, "embed: %s\n", error.message);
  wudf_instance_free(instance); /* each accepts NULL */
  wudf_module_free(module);
  wudf_engine_free(engine);
  return status == 0 ? 0 : 1;
}
