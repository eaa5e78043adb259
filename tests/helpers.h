/*
 * helpers.h -- what the engine tests share: locating the guest modules the
 * build produced, and making engines, modules and instances with asserts.
 */
#ifndef WUDF_TEST_HELPERS_H
#define WUDF_TEST_HELPERS_H

#include <stdlib.h>

#include "test.h"
#include "wasmudf/wasmudf.h"

/* The path of built guest module `name` (without .wasm), in a static buffer. */
static inline const char* module_path(const char* name) {
  static char path[4096];
  const char* directory = getenv("WUDF_TEST_MODULES");
  if (directory == NULL) TEST_FAIL("WUDF_TEST_MODULES is not set; run through ctest");
  snprintf(path, sizeof(path), "%s/%s.wasm", directory, name);
  return path;
}

/* Extra milliseconds a timing assertion allows beyond its nominal bound.
 * Native and sanitizer builds use 50; the valgrind suite, which runs guest
 * code under emulation, sets $WUDF_TEST_SLACK_MS much higher. */
static inline double timing_slack_ms(void) {
  const char* text = getenv("WUDF_TEST_SLACK_MS");
  return text != NULL ? atof(text) : 50.0;
}

/* Whether the test runs under valgrind (the valgrind suite sets
 * $WUDF_TEST_UNDER_VALGRIND), for the few timing bounds that only hold on
 * the real CPU. */
static inline int under_valgrind(void) { return getenv("WUDF_TEST_UNDER_VALGRIND") != NULL; }

/* Reads a whole file into malloc'd memory. */
static inline unsigned char* read_whole_file(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  if (file == NULL) TEST_FAIL("cannot open %s", path);
  fseek(file, 0, SEEK_END);
  long length = ftell(file);
  fseek(file, 0, SEEK_SET);
  unsigned char* bytes = malloc(length > 0 ? (size_t)length : 1);
  if (bytes == NULL || fread(bytes, 1, (size_t)length, file) != (size_t)length) {
    TEST_FAIL("cannot read %s", path);
  }
  fclose(file);
  *size = (size_t)length;
  return bytes;
}

static inline struct wudf_engine* new_engine_with(const struct wudf_engine_config* config) {
  struct wudf_error error;
  struct wudf_engine* engine = NULL;
  ASSERT_OK(wudf_engine_new(config, &engine, &error), &error);
  return engine;
}

static inline struct wudf_engine* new_engine(void) { return new_engine_with(NULL); }

static inline struct wudf_module* load_module(struct wudf_engine* engine, const char* name) {
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_OK(wudf_module_load_file(engine, module_path(name), &module, &error), &error);
  return module;
}

static inline struct wudf_instance* new_instance(struct wudf_module* module) {
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  ASSERT_OK(wudf_instance_new(module, NULL, &instance, &error), &error);
  return instance;
}

static inline struct wudf_value i32_value(int32_t value) {
  struct wudf_value v = {.type = WUDF_I32, .of.i32 = value};
  return v;
}

static inline struct wudf_value i64_value(int64_t value) {
  struct wudf_value v = {.type = WUDF_I64, .of.i64 = value};
  return v;
}

static inline struct wudf_value f32_value(float value) {
  struct wudf_value v = {.type = WUDF_F32, .of.f32 = value};
  return v;
}

static inline struct wudf_value f64_value(double value) {
  struct wudf_value v = {.type = WUDF_F64, .of.f64 = value};
  return v;
}

/* Calls `name` with i32 arguments and one i32 result, asserting success. */
static inline int32_t call_i32(struct wudf_instance* instance, const char* name,
                        const struct wudf_value* args, size_t count) {
  struct wudf_error error;
  struct wudf_value result;
  ASSERT_OK(wudf_instance_call_name(instance, name, args, count, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT_EQ(result.type, WUDF_I32);
  return result.of.i32;
}

#endif /* WUDF_TEST_HELPERS_H */
