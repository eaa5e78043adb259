/*
 * test_cache.c -- the compile cache: SHA-256 against the FIPS 180-4 vectors;
 * a second load of the same bytes does not run the compiler (checked with a
 * compiler wrapper that counts its invocations); $WASMUDF_CACHE_DIR is
 * honoured; a damaged entry is rebuilt; two processes compiling the same
 * module at once both succeed and compile it once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/sha256.h"
#include "helpers.h"

static char tmp[4096];

TEST(sha256_vectors) {
  struct {
    const char* input;
    size_t repeat;
    const char* digest;
  } vectors[] = {
      {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    struct wudf__sha256 hash;
    wudf__sha256_init(&hash);
    for (size_t r = 0; r < vectors[i].repeat; r++) {
      wudf__sha256_update(&hash, vectors[i].input, strlen(vectors[i].input));
    }
    char hex[65];
    wudf__sha256_hex(&hash, hex);
    ASSERT_STR_EQ(hex, vectors[i].digest);
  }
}

/* Writes a `cc` wrapper that appends a line to `counter` and runs the real
 * compiler; returns its path in `wrapper`. */
static void make_counting_compiler(const char* directory, char* wrapper, size_t size,
                                   char* counter, size_t counter_size) {
  snprintf(wrapper, size, "%s/counting-cc", directory);
  snprintf(counter, counter_size, "%s/cc-invocations", directory);
  FILE* file = fopen(wrapper, "w");
  ASSERT(file != NULL);
  fprintf(file, "#!/bin/sh\necho run >> '%s'\nexec cc \"$@\"\n", counter);
  fclose(file);
  ASSERT_EQ(chmod(wrapper, 0755), 0);
  unlink(counter);
}

static int count_lines(const char* path) {
  FILE* file = fopen(path, "r");
  if (file == NULL) return 0;
  int lines = 0, c;
  while ((c = fgetc(file)) != EOF) lines += c == '\n';
  fclose(file);
  return lines;
}

static void fresh_directory(char* out, size_t size, const char* name) {
  snprintf(out, size, "%s/%s-%d", tmp, name, (int)getpid());
  char command[8300];
  snprintf(command, sizeof(command), "rm -rf '%s' && mkdir -p '%s'", out, out);
  ASSERT_EQ(system(command), 0);
}

TEST(second_load_skips_the_compiler) {
  char directory[4200], wrapper[4300], counter[4300], cache[4300];
  fresh_directory(directory, sizeof(directory), "cache-hit");
  make_counting_compiler(directory, wrapper, sizeof(wrapper), counter, sizeof(counter));
  snprintf(cache, sizeof(cache), "%s/cache", directory);
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cc = wrapper;
  config.cache_dir = cache;

  struct wudf_engine* engine = new_engine_with(&config);
  struct wudf_module* module = load_module(engine, "traps");
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.compiles, 1);
  ASSERT_EQ(stats.cache_hits, 0);
  ASSERT_EQ(count_lines(counter), 1);
  wudf_module_free(module);
  wudf_engine_free(engine);

  /* A new engine (as a new process would) finds it in the cache. */
  engine = new_engine_with(&config);
  module = load_module(engine, "traps");
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.compiles, 0);
  ASSERT_EQ(stats.cache_hits, 1);
  ASSERT_EQ(count_lines(counter), 1);
  struct wudf_instance* instance = new_instance(module);
  struct wudf_value args[2] = {i32_value(20), i32_value(22)};
  ASSERT_EQ(call_i32(instance, "add", args, 2), 42);
  wudf_instance_free(instance);
  wudf_module_free(module);

  /* Different extra flags are a different key: compiled again. */
  wudf_engine_free(engine);
  config.cflags = "-DWUDF_TEST_FLAG=1";
  engine = new_engine_with(&config);
  module = load_module(engine, "traps");
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.compiles, 1);
  ASSERT_EQ(count_lines(counter), 2);
  wudf_module_free(module);
  wudf_engine_free(engine);
}

TEST(cache_dir_from_environment) {
  char directory[4200], cache[4300], expected[4400];
  fresh_directory(directory, sizeof(directory), "cache-env");
  snprintf(cache, sizeof(cache), "%s/from-env", directory);
  char* saved = getenv("WASMUDF_CACHE_DIR") ? strdup(getenv("WASMUDF_CACHE_DIR")) : NULL;
  setenv("WASMUDF_CACHE_DIR", cache, 1);
  struct wudf_engine* engine = new_engine();
  struct wudf_module* module = load_module(engine, "names");
  snprintf(expected, sizeof(expected), "%s/v1", cache);
  struct stat info;
  ASSERT_EQ(stat(expected, &info), 0);
  wudf_module_free(module);
  wudf_engine_free(engine);
  if (saved) {
    setenv("WASMUDF_CACHE_DIR", saved, 1);
    free(saved);
  }
}

TEST(damaged_entry_is_rebuilt) {
  char directory[4200], cache[4300], command[9000];
  fresh_directory(directory, sizeof(directory), "cache-damaged");
  snprintf(cache, sizeof(cache), "%s/cache", directory);
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  struct wudf_engine* engine = new_engine_with(&config);
  wudf_module_free(load_module(engine, "names"));
  /* Truncate every cached object. */
  snprintf(command, sizeof(command),
           "find '%s' -name '*.so' -exec sh -c 'echo garbage > \"$1\"' _ {} \\;", cache);
  ASSERT_EQ(system(command), 0);
  struct wudf_engine* second = new_engine_with(&config);
  struct wudf_module* module = load_module(second, "names");
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(second, &stats);
  ASSERT_EQ(stats.compiles, 1);
  struct wudf_instance* instance = new_instance(module);
  ASSERT_EQ(call_i32(instance, "Zed", NULL, 0), 2);
  wudf_instance_free(instance);
  wudf_module_free(module);
  wudf_engine_free(second);
  wudf_engine_free(engine);
}

TEST(concurrent_processes_compile_once) {
  char directory[4200], wrapper[4300], counter[4300], cache[4300];
  fresh_directory(directory, sizeof(directory), "cache-race");
  make_counting_compiler(directory, wrapper, sizeof(wrapper), counter, sizeof(counter));
  snprintf(cache, sizeof(cache), "%s/cache", directory);
  pid_t children[4];
  for (int i = 0; i < 4; i++) {
    children[i] = fork();
    ASSERT(children[i] >= 0);
    if (children[i] == 0) {
      struct wudf_engine_config config;
      wudf_engine_config_init(&config);
      config.cc = wrapper;
      config.cache_dir = cache;
      struct wudf_engine* engine = NULL;
      struct wudf_module* module = NULL;
      struct wudf_instance* instance = NULL;
      struct wudf_value args[2] = {i32_value(i), i32_value(1)};
      struct wudf_value result;
      int ok = wudf_engine_new(&config, &engine, NULL) == 0 &&
               wudf_module_load_file(engine, module_path("traps"), &module, NULL) == 0 &&
               wudf_instance_new(module, NULL, &instance, NULL) == 0 &&
               wudf_instance_call_name(instance, "add", args, 2, &result, 1,
                                       WUDF_TIMEOUT_DEFAULT, NULL) == 0 &&
               result.of.i32 == i + 1;
      _exit(ok ? 0 : 1);
    }
  }
  for (int i = 0; i < 4; i++) {
    int status;
    ASSERT_EQ(waitpid(children[i], &status, 0), children[i]);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
  }
  ASSERT_EQ(count_lines(counter), 1);
}

int main(void) {
  snprintf(tmp, sizeof(tmp), "%s", getenv("WUDF_TEST_TMP") ? getenv("WUDF_TEST_TMP") : "/tmp");
  RUN_TEST(sha256_vectors);
  RUN_TEST(second_load_skips_the_compiler);
  RUN_TEST(cache_dir_from_environment);
  RUN_TEST(damaged_entry_is_rebuilt);
  RUN_TEST(concurrent_processes_compile_once);
  return TEST_SUMMARY();
}
