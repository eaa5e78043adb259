/*
 * test_load.c -- loading: malformed binaries and unsupported features (SIMD,
 * threads, memory64, multi-memory, exceptions) are refused with a message
 * before wasm2c ever sees them; imports other than WASI are refused naming
 * the import; a module wasm2c itself rejects gives an error quoting wasm2c,
 * and the host carries on; export names that need mangling, a start function
 * and exports with reference types are handled. wudf_module_inspect reads a
 * module's exports and functions without compiling it.
 */
#include <errno.h>
#include <unistd.h>

#include "helpers.h"

static struct wudf_engine* engine;

static int load_bytes(const unsigned char* bytes, size_t size, struct wudf_error* error) {
  struct wudf_module* module = NULL;
  int status = wudf_module_load(engine, bytes, size, &module, error);
  wudf_module_free(module);
  return status;
}

TEST(malformed_is_refused) {
  struct wudf_error error;
  static const unsigned char not_wasm[] = "\x7f" "ELF\x02\x01\x01";
  ASSERT_STATUS(load_bytes(not_wasm, sizeof(not_wasm) - 1, &error), ENOEXEC, &error);
  ASSERT_CONTAINS(error.message, "malformed");
  static const unsigned char truncated[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00,
                                            0x00, 0x00, 0x01, 0x10, 0x01};
  ASSERT_STATUS(load_bytes(truncated, sizeof(truncated), &error), ENOEXEC, &error);
  ASSERT_STATUS(load_bytes(NULL, 0, &error), ENOEXEC, &error);
}

/* A module with one function (type () -> ()) whose body is `code`. */
static size_t module_with_body(unsigned char* out, const unsigned char* code,
                               size_t code_size) {
  static const unsigned char head[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  /* magic, version */
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00,              /* type: () -> () */
      0x03, 0x02, 0x01, 0x00,                          /* function 0: type 0 */
      0x05, 0x03, 0x01, 0x00, 0x01};                   /* memory: min 1 */
  size_t n = 0;
  memcpy(out, head, sizeof(head));
  n = sizeof(head);
  out[n++] = 0x0a;                        /* code section */
  out[n++] = (unsigned char)(code_size + 3);
  out[n++] = 0x01;                        /* one body */
  out[n++] = (unsigned char)(code_size + 1);
  out[n++] = 0x00;                        /* no locals */
  memcpy(out + n, code, code_size);
  return n + code_size;
}

TEST(simd_is_refused_before_wasm2c) {
  /* v128.const 0 ; drop ; end -- wasm2c 1.0.32 aborts on this. */
  unsigned char code[20] = {0xfd, 0x0c};
  memset(code + 2, 0, 16);
  code[18] = 0x1a;
  code[19] = 0x0b;
  unsigned char bytes[128];
  size_t size = module_with_body(bytes, code, sizeof(code));
  struct wudf_error error;
  ASSERT_STATUS(load_bytes(bytes, size, &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "SIMD");
}

TEST(threads_are_refused) {
  /* i32.atomic.load */
  static const unsigned char code[] = {0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a, 0x0b};
  unsigned char bytes[128];
  size_t size = module_with_body(bytes, code, sizeof(code));
  struct wudf_error error;
  ASSERT_STATUS(load_bytes(bytes, size, &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "threads");
}

TEST(exceptions_are_refused) {
  /* try ... end */
  static const unsigned char code[] = {0x06, 0x40, 0x0b, 0x0b};
  unsigned char bytes[128];
  size_t size = module_with_body(bytes, code, sizeof(code));
  struct wudf_error error;
  ASSERT_STATUS(load_bytes(bytes, size, &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "exception");
}

TEST(memory64_and_multi_memory_are_refused) {
  struct wudf_error error;
  static const unsigned char memory64[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                           0x05, 0x03, 0x01, 0x04, 0x01};
  ASSERT_STATUS(load_bytes(memory64, sizeof(memory64), &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "memory64");
  static const unsigned char two_memories[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                               0x05, 0x05, 0x02, 0x00, 0x01, 0x00, 0x01};
  ASSERT_STATUS(load_bytes(two_memories, sizeof(two_memories), &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "multi-memory");
  static const unsigned char shared[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                         0x05, 0x04, 0x01, 0x03, 0x01, 0x02};
  ASSERT_STATUS(load_bytes(shared, sizeof(shared), &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "threads");
}

TEST(size_cap_is_enforced) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.max_module_size = 100;
  struct wudf_engine* small = new_engine_with(&config);
  size_t size;
  unsigned char* bytes = read_whole_file(module_path("traps"), &size);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_load(small, bytes, size, &module, &error), EFBIG, &error);
  ASSERT_STATUS(wudf_module_load_file(small, module_path("traps"), &module, &error),
                EFBIG, &error);
  ASSERT_CONTAINS(error.message, "too large");
  free(bytes);
  wudf_engine_free(small);
}

TEST(foreign_imports_are_refused_by_name) {
  /* (import "env" "host_fn" (func)) */
  static const unsigned char env_import[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x0f, 0x01, 0x03, 'e', 'n', 'v', 0x07, 'h', 'o', 's', 't', '_', 'f', 'n', 0x00, 0x00};
  struct wudf_error error;
  ASSERT_STATUS(load_bytes(env_import, sizeof(env_import), &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "env.host_fn");
  /* (import "wasi_snapshot_preview1" "fd_write" (func)) -- wrong signature */
  static const unsigned char wrong_wasi[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x23, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o',
      't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x08, 'f', 'd', '_', 'w', 'r', 'i',
      't', 'e', 0x00, 0x00};
  ASSERT_STATUS(load_bytes(wrong_wasi, sizeof(wrong_wasi), &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "fd_write");
  ASSERT_CONTAINS(error.message, "signature");
  /* (import "wasi_snapshot_preview1" "no_such_call" (func)) */
  static const unsigned char unknown_wasi[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x27, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o',
      't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x0c, 'n', 'o', '_', 's', 'u', 'c',
      'h', '_', 'c', 'a', 'l', 'l', 0x00, 0x00};
  ASSERT_STATUS(load_bytes(unknown_wasi, sizeof(unknown_wasi), &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "no_such_call");
}

TEST(names_cannot_inject_control_characters_into_messages) {
  /* (import "env" "a\1b[2Jb" (func)): an escape sequence in an import name. */
  static const unsigned char escape_import[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x0f, 0x01, 0x03, 'e', 'n', 'v', 0x07, 'a', 0x1b, '[', '2', 'J', '\n', 'b', 0x00, 0x00};
  struct wudf_error error;
  ASSERT_STATUS(load_bytes(escape_import, sizeof(escape_import), &error), ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "env.a?[2J?b");
  ASSERT_EQ(strchr(error.message, 0x1b) == NULL, 1);
  ASSERT_EQ(strchr(error.message, '\n') == NULL, 1);
}

TEST(type_errors_are_refused_before_any_tool_runs) {
  /* The engine's validator type-checks bodies itself: the module never
   * reaches wasm2c (no compile is counted). */
  struct wudf_engine_stats before = {.struct_size = sizeof before}, after = before;
  wudf_engine_stats(engine, &before);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_load_file(engine, module_path("bad_body"), &module, &error),
                ENOEXEC, &error);
  ASSERT_CONTAINS(error.message, "invalid module: type mismatch");
  ASSERT_CONTAINS(error.message, "function 0");
  wudf_engine_stats(engine, &after);
  ASSERT_EQ(after.compiles, before.compiles);
}

TEST(wasm2c_failure_is_an_error_not_a_crash) {
  /* A wasm2c that fails (here /bin/false) gives EIO naming the tool and its
   * exit status. */
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.wasm2c = "/bin/false";
  char cache[4096];
  snprintf(cache, sizeof(cache), "%s/failing-wasm2c-cache", getenv("WUDF_TEST_TMP"));
  config.cache_dir = cache;
  struct wudf_engine* failing = new_engine_with(&config);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_load_file(failing, module_path("names"), &module, &error), EIO,
                &error);
  ASSERT_CONTAINS(error.message, "/bin/false failed with exit status 1");
  wudf_engine_free(failing);
  /* The engine still works. */
  module = load_module(engine, "traps");
  wudf_module_free(module);
}

TEST(missing_tools_are_reported) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.wasm2c = "/nonexistent/wasm2c";
  char cache[4096];
  snprintf(cache, sizeof(cache), "%s/missing-tools-cache", getenv("WUDF_TEST_TMP"));
  config.cache_dir = cache;
  struct wudf_engine* broken = new_engine_with(&config);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  int status = wudf_module_load_file(broken, module_path("names"), &module, &error);
  ASSERT(status == ENOENT || status == EIO);
  ASSERT_CONTAINS(error.message, "/nonexistent/wasm2c");
  wudf_engine_free(broken);
}

TEST(names_start_and_reference_exports) {
  struct wudf_module* module = load_module(engine, "names");
  struct wudf_instance* instance = new_instance(module);
  ASSERT_EQ(call_i32(instance, "a-b", NULL, 0), 1);
  ASSERT_EQ(call_i32(instance, "Zed", NULL, 0), 2);
  ASSERT_EQ(call_i32(instance, "x_y.\xc3\xbc", NULL, 0), 3);
  ASSERT_EQ(call_i32(instance, "", NULL, 0), 4);
  ASSERT_EQ(call_i32(instance, "started", NULL, 0), 7);
  /* An export taking a funcref cannot be called with numbers: not listed. */
  uint32_t index;
  struct wudf_error error;
  ASSERT_STATUS(wudf_module_find_export(module, "takes_ref", &index, &error), ENOENT, &error);
  ASSERT_EQ(wudf_module_export_count(module), 5);
  wudf_instance_free(instance);
  wudf_module_free(module);
}

TEST(start_function_trap_fails_instantiation) {
  struct wudf_module* module = load_module(engine, "start_traps");
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  ASSERT_STATUS(wudf_instance_new(module, NULL, &instance, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_UNREACHABLE);
  ASSERT_CONTAINS(error.message, "instantiation");
  wudf_module_free(module);
}

TEST(inspect_reads_exports_and_functions_without_compiling) {
  /* An engine whose tools fail: inspecting runs neither and writes no cache. */
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.wasm2c = "/bin/false";
  config.cc = "/bin/false";
  char cache[4096];
  snprintf(cache, sizeof(cache), "%s/inspect-cache", getenv("WUDF_TEST_TMP"));
  config.cache_dir = cache;
  struct wudf_engine* toolless = new_engine_with(&config);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_inspect_file(toolless, module_path("example_gcd"), &module,
                                         &error), 0, &error);
#ifndef WUDF_TEST_ENGINE_ONLY
  /* The declared functions are the UDF layer's: absent from an engine-only
   * library (-DWUDF_ENGINE_ONLY=ON). */
  ASSERT_EQ(wudf_module_function_count(module), 1);
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  ASSERT_STATUS(wudf_module_function(module, 0, &info, &error), 0, &error);
  ASSERT_STR_EQ(info.signature, "gcd(int32, int32) -> int32");
#endif
  /* The same exports, in the same order, as a compiled load reports. */
  struct wudf_module* loaded = load_module(engine, "example_gcd");
  ASSERT_EQ(wudf_module_export_count(module), wudf_module_export_count(loaded));
  for (uint32_t i = 0; i < wudf_module_export_count(loaded); i++) {
    struct wudf_export_info a = {.struct_size = sizeof a}, b = a;
    ASSERT_STATUS(wudf_module_export(module, i, &a, &error), 0, &error);
    ASSERT_STATUS(wudf_module_export(loaded, i, &b, &error), 0, &error);
    ASSERT_STR_EQ(a.name, b.name);
    ASSERT_EQ(a.param_count, b.param_count);
    ASSERT_EQ(a.result_count, b.result_count);
    for (uint32_t p = 0; p < a.param_count; p++) ASSERT_EQ(a.params[p], b.params[p]);
    for (uint32_t r = 0; r < a.result_count; r++) ASSERT_EQ(a.results[r], b.results[r]);
  }
  wudf_module_free(loaded);
  /* It cannot run. */
  struct wudf_instance* instance = NULL;
  ASSERT_STATUS(wudf_instance_new(module, NULL, &instance, &error), EINVAL, &error);
  ASSERT_CONTAINS(error.message, "inspected");
  wudf_module_free(module);
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(toolless, &stats);
  ASSERT_EQ(stats.compiles, 0);
  ASSERT_EQ(access(cache, F_OK), -1);
  /* Its checks are the load's: malformed bytes and foreign imports. */
  static const unsigned char garbage[] = {0, 'a', 's', 'x', 1, 0, 0, 0};
  ASSERT_STATUS(wudf_module_inspect(toolless, garbage, sizeof(garbage), &module, &error),
                ENOEXEC, &error);
  ASSERT_STATUS(wudf_module_inspect_file(toolless, "/nonexistent.wasm", &module, &error),
                ENOENT, &error);
  wudf_engine_free(toolless);
}

int main(void) {
  engine = new_engine();
  RUN_TEST(malformed_is_refused);
  RUN_TEST(simd_is_refused_before_wasm2c);
  RUN_TEST(threads_are_refused);
  RUN_TEST(exceptions_are_refused);
  RUN_TEST(memory64_and_multi_memory_are_refused);
  RUN_TEST(size_cap_is_enforced);
  RUN_TEST(foreign_imports_are_refused_by_name);
  RUN_TEST(names_cannot_inject_control_characters_into_messages);
  RUN_TEST(type_errors_are_refused_before_any_tool_runs);
  RUN_TEST(wasm2c_failure_is_an_error_not_a_crash);
  RUN_TEST(missing_tools_are_reported);
  RUN_TEST(names_start_and_reference_exports);
  RUN_TEST(start_function_trap_fails_instantiation);
  RUN_TEST(inspect_reads_exports_and_functions_without_compiling);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
