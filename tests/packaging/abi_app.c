/*
 * abi_app.c -- an application of an older release, built against the
 * installed header and libwasmudf.so.1 by packaging/test_install.sh: its
 * option and configuration structs are copies of smaller, older versions
 * (as its header had them, with struct_size giving their size), and its
 * output struct is a prefix of today's. It loads MODULE, calls gcd on
 * hand-built int32 columns and with a constant, and prints the rows; the
 * library must read the old structs, give the missing fields their
 * defaults, and write no byte past the old output struct.
 *
 *   abi_app gcd.wasm
 */
#include <stdio.h>
#include <string.h>

#include "wasmudf/wasmudf.h"

/* struct wudf_engine_config of an older header: its first four fields. */
struct old_engine_config {
  size_t struct_size;
  const char* cache_dir;
  const char* cc;
  const char* cflags;
  const char* wasm2c;
};

/* struct wudf_call_options of an older header: its first five fields. */
struct old_call_options {
  size_t struct_size;
  int64_t max_rows_per_call;
  int64_t max_block_bytes;
  uint64_t timeout_ms;
  wudf_validation validation;
  wudf_result_mode result;
};

/* struct wudf_function_info of an older header: name and kind only, and a
 * canary the library must not touch. */
struct old_function_info {
  size_t struct_size;
  const char* name;
  wudf_function_kind kind;
  unsigned char canary[256];
};

static void no_release(struct ArrowArray* array) { array->release = NULL; }
static void no_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

static int fail(const char* what, const struct wudf_error* error) {
  fprintf(stderr, "abi_app: %s: %s (%s)\n", what, error->message,
          wudf_status_string(error->code));
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: abi_app MODULE\n");
    return 2;
  }
  struct wudf_error error;
  struct old_engine_config config;
  memset(&config, 0, sizeof(config));
  config.struct_size = sizeof(config);
  struct wudf_engine* engine = NULL;
  if (wudf_engine_new((const struct wudf_engine_config*)&config, &engine, &error) != 0) {
    return fail("engine", &error);
  }
  struct wudf_module* module = NULL;
  if (wudf_module_load_file(engine, argv[1], &module, &error) != 0) return fail("load", &error);
  struct old_function_info info;
  memset(&info, 0x5a, sizeof(info));
  info.struct_size = offsetof(struct old_function_info, canary);
  if (wudf_module_function(module, 0, (struct wudf_function_info*)&info, &error) != 0) {
    return fail("function", &error);
  }
  for (size_t i = 0; i < sizeof(info.canary); i++) {
    if (info.canary[i] != 0x5a) {
      fprintf(stderr, "abi_app: the library wrote past the old struct (byte %zu)\n", i);
      return 1;
    }
  }
  printf("%s %s\n", wudf_function_kind_name(info.kind), info.name);

  struct wudf_instance* instance = NULL;
  if (wudf_instance_new(module, NULL, &instance, &error) != 0) return fail("instance", &error);
  static const int32_t a[3] = {12, 1071, -7}, b[3] = {18, 462, 21}, twelve[1] = {12};
  const void* a_buffers[2] = {NULL, a}, *b_buffers[2] = {NULL, b};
  const void* twelve_buffers[2] = {NULL, twelve};
  struct ArrowArray a_array = {3, 0, 0, 2, 0, a_buffers, NULL, NULL, no_release, NULL};
  struct ArrowArray b_array = {3, 0, 0, 2, 0, b_buffers, NULL, NULL, no_release, NULL};
  struct ArrowArray twelve_array = {1, 0, 0, 2, 0, twelve_buffers, NULL, NULL, no_release, NULL};
  struct ArrowSchema int32 = {"i", "", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL,
                              no_schema_release, NULL};
  struct old_call_options options = {sizeof(options), 1, 1 << 20, WUDF_TIMEOUT_DEFAULT,
                                     WUDF_VALIDATION_FULL, WUDF_RESULT_COPY};
  const struct ArrowArray* arrays[2] = {&a_array, &b_array};
  const struct ArrowSchema* schemas[2] = {&int32, &int32};
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  if (wudf_function_call(instance, 0, 2, arrays, schemas,
                         (const struct wudf_call_options*)&options, &out, &out_schema,
                         &error) != 0) {
    return fail("call", &error);
  }
  for (int64_t r = 0; r < out.length; r++) {
    printf("gcd(%d, %d) = %d\n", a[r], b[r], ((const int32_t*)out.buffers[1])[r]);
  }
  out.release(&out);
  out_schema.release(&out_schema);
  struct wudf_argument args[2] = {{&twelve_array, &int32, WUDF_ARGUMENT_CONSTANT, 0},
                                  {&b_array, &int32, 0, 0}};
  if (wudf_function_call_args(instance, 0, 2, args, 3,
                              (const struct wudf_call_options*)&options, &out, &out_schema,
                              &error) != 0) {
    return fail("call with a constant", &error);
  }
  for (int64_t r = 0; r < out.length; r++) {
    printf("gcd(12, %d) = %d\n", b[r], ((const int32_t*)out.buffers[1])[r]);
  }
  out.release(&out);
  out_schema.release(&out_schema);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_free(engine);
  return 0;
}
