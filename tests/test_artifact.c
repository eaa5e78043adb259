/*
 * test_artifact.c -- compile once, run anywhere: an artifact made by
 * wudf_module_compile_artifact loads and runs in a process that has no
 * compiler and no wasm2c (none is run: the tools it is configured with are
 * tripwires that leave a marker), and a damaged, tampered or mismatched
 * artifact is refused before any of its code is mapped (the count of
 * artifact objects handed to dlopen does not move, and an object whose
 * constructor would leave a marker leaves none).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/sha256.h"
#include "helpers.h"

extern char** environ;
uint64_t wudf__artifact_dlopen_count(void);

/* The artifact of tiers.wasm, made once in main. */
static uint8_t* artifact;
static size_t artifact_size;
static char work[4096];

/* bits(x) of tiers.wat: clz + 100 * ctz + 10000 * popcnt. */
static int32_t expected_bits(uint32_t x) {
  return __builtin_clz(x) + 100 * __builtin_ctz(x) + 10000 * __builtin_popcount(x);
}

static int32_t call_bits(struct wudf_module* module, uint32_t x) {
  struct wudf_instance* instance = new_instance(module);
  struct wudf_value arg = i32_value((int32_t)x);
  int32_t result = call_i32(instance, "bits", &arg, 1);
  wudf_instance_free(instance);
  return result;
}

static int file_exists(const char* path) {
  struct stat info;
  return stat(path, &info) == 0;
}

static void write_file(const char* path, const void* data, size_t size, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) != 0) {
    TEST_FAIL("cannot write %s", path);
  }
  chmod(path, mode);
}

/* --------------------------------------------------------- rewriting */

/* A copy of `artifact` with its manifest line "NAME ..." replaced by
 * "NAME VALUE" (or, with `object`, its native code replaced and the
 * object_sha256/object_size lines updated), and its content_sha256
 * recomputed: a consistent artifact whose values differ. */
static uint8_t* rewrite(const char* name, const char* value, const uint8_t* object,
                        size_t object_size, size_t* out_size) {
  const char* marker = "\ncontent_sha256 ";
  const uint8_t* found = memmem(artifact, 4096, marker, strlen(marker));
  ASSERT(found != NULL);
  size_t prefix_length = (size_t)(found - artifact) + 1;
  size_t header_length = prefix_length + strlen(marker) - 1 + 65;
  char prefix[8192];
  memcpy(prefix, artifact, prefix_length);
  prefix[prefix_length] = '\0';
  const uint8_t* payload = artifact + header_length;
  size_t payload_size = artifact_size - header_length;
  char module_size_text[32];
  char* line = strstr(prefix, "\nmodule_size ");
  ASSERT(line != NULL);
  sscanf(line + 13, "%31s", module_size_text);
  size_t module_size = (size_t)strtoull(module_size_text, NULL, 10);
  char replaced[8192] = "";
  const char* names[3] = {name, NULL, NULL};
  char values[3][128];
  snprintf(values[0], sizeof(values[0]), "%s", value ? value : "");
  if (object != NULL) {
    struct wudf__sha256 hash;
    wudf__sha256_init(&hash);
    wudf__sha256_update(&hash, object, object_size);
    wudf__sha256_hex(&hash, values[1]);
    names[1] = "object_sha256";
    names[2] = "object_size";
    snprintf(values[2], sizeof(values[2]), "%zu", object_size);
  }
  for (char* start = prefix; *start != '\0';) {
    char* end = strchr(start, '\n');
    size_t length = (size_t)(end - start) + 1;
    int done = 0;
    for (int i = 0; i < 3; i++) {
      if (names[i] == NULL) continue;
      size_t name_length = strlen(names[i]);
      if (strncmp(start, names[i], name_length) == 0 && start[name_length] == ' ') {
        snprintf(replaced + strlen(replaced), sizeof(replaced) - strlen(replaced), "%s %s\n",
                 names[i], values[i]);
        done = 1;
      }
    }
    if (!done) strncat(replaced, start, length);
    start = end + 1;
  }
  if (object == NULL) {
    object = payload + module_size;
    object_size = payload_size - module_size;
  }
  struct wudf__sha256 hash;
  wudf__sha256_init(&hash);
  wudf__sha256_update(&hash, replaced, strlen(replaced));
  wudf__sha256_update(&hash, payload, module_size);
  wudf__sha256_update(&hash, object, object_size);
  char content[65];
  wudf__sha256_hex(&hash, content);
  size_t total = strlen(replaced) + strlen(marker) - 1 + 65 + module_size + object_size;
  uint8_t* out = malloc(total);
  ASSERT(out != NULL);
  size_t at = 0;
  memcpy(out, replaced, strlen(replaced));
  at += strlen(replaced);
  at += (size_t)sprintf((char*)out + at, "content_sha256 %s\n", content);
  memcpy(out + at, payload, module_size);
  memcpy(out + at + module_size, object, object_size);
  *out_size = total;
  return out;
}

/* Loads `bytes` as an artifact, expecting `expected` with `message` in the
 * error, and that no artifact object was handed to dlopen. */
static void expect_refused(const uint8_t* bytes, size_t size, int expected,
                           const char* message) {
  struct wudf_engine* engine = new_engine();
  struct wudf_module* module = NULL;
  struct wudf_error error;
  uint64_t before = wudf__artifact_dlopen_count();
  ASSERT_STATUS(wudf_module_load_artifact(engine, bytes, size, &module, &error), expected,
                &error);
  ASSERT(module == NULL);
  ASSERT_CONTAINS(error.message, message);
  ASSERT_EQ(wudf__artifact_dlopen_count(), before);
  wudf_engine_free(engine);
}

/* ------------------------------------------------------------- tests */

TEST(loads_and_runs) {
  struct wudf_engine* engine = new_engine();
  struct wudf_module* module = NULL;
  struct wudf_error error;
  uint64_t before = wudf__artifact_dlopen_count();
  ASSERT_OK(wudf_module_load_artifact(engine, artifact, artifact_size, &module, &error),
            &error);
  ASSERT_EQ(wudf__artifact_dlopen_count(), before + 1);
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_OPTIMIZED);
  uint32_t inputs[] = {1, 0xf0, 0x80000000u, 0x12345678u, 0xffffffffu};
  for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
    ASSERT_EQ(call_bits(module, inputs[i]), expected_bits(inputs[i]));
  }
  struct wudf_instance* instance = new_instance(module);
  struct wudf_value args[2] = {i32_value(-7), i32_value(2)};
  ASSERT_EQ(call_i32(instance, "div_s", args, 2), -3);
  wudf_instance_free(instance);
  struct wudf_engine_stats stats = {.struct_size = sizeof(stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.compiles, 0);
  ASSERT_EQ(stats.fast_compiles, 0);
  wudf_module_free(module);
  wudf_engine_free(engine);
  ASSERT(wudf_is_artifact(artifact, artifact_size));
  size_t wasm_size;
  unsigned char* wasm = read_whole_file(module_path("tiers"), &wasm_size);
  ASSERT(!wudf_is_artifact(wasm, wasm_size));
  free(wasm);
}

/* The child of loads_without_compiler: its environment has PATH=/nonexistent
 * and tripwires for cc, wasm2c and tcc. `mode` "artifact" loads the artifact
 * file and checks a call; "control" loads the plain module, which must fail
 * (it needs the tools, and runs a tripwire). Exits 0 when all held. */
static int child(const char* mode, const char* path) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  ASSERT(config.fast_tier); /* on: the load would start tcc if it compiled */
  struct wudf_engine* engine = new_engine_with(&config);
  struct wudf_module* module = NULL;
  struct wudf_error error;
  if (strcmp(mode, "control") == 0) {
    int status = wudf_module_load_file(engine, path, &module, &error);
    wudf_engine_free(engine);
    return status != 0 ? 0 : 1;
  }
  ASSERT_OK(wudf_module_load_artifact_file(engine, path, &module, &error), &error);
  ASSERT_EQ(call_bits(module, 0x12345678u), expected_bits(0x12345678u));
  struct wudf_engine_stats stats = {.struct_size = sizeof(stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.compiles + stats.fast_compiles + stats.cache_hits, 0);
  wudf_module_free(module);
  wudf_engine_free(engine);
  return 0;
}

/* Runs this program as `child(mode, path)` with no compiler on PATH and
 * tripwires as every tool; returns its exit status. */
static int run_child(const char* mode, const char* path, const char* tripwire,
                     const char* cache) {
  char self[4096];
  ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  ASSERT(length > 0);
  self[length] = '\0';
  char cc[4200], wasm2c[4200], tcc[4200], cache_variable[4200], modules[4200];
  snprintf(cc, sizeof(cc), "CC=%s", tripwire);
  snprintf(wasm2c, sizeof(wasm2c), "WASMUDF_WASM2C=%s", tripwire);
  snprintf(tcc, sizeof(tcc), "WASMUDF_FAST_CC=%s", tripwire);
  snprintf(cache_variable, sizeof(cache_variable), "WASMUDF_CACHE_DIR=%s", cache);
  snprintf(modules, sizeof(modules), "WUDF_TEST_MODULES=%s", getenv("WUDF_TEST_MODULES"));
  char* envp[] = {"PATH=/nonexistent", cc, wasm2c, tcc, cache_variable, modules,
                  "WASMUDF_FAST_TIER=1", NULL, NULL};
  /* The sanitizers' options, when they run. */
  char* asan = getenv("ASAN_OPTIONS");
  char asan_variable[4200];
  if (asan != NULL) {
    snprintf(asan_variable, sizeof(asan_variable), "ASAN_OPTIONS=%s", asan);
    envp[7] = asan_variable;
  }
  char* argv[] = {self, "--child", (char*)mode, (char*)path, NULL};
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, self, NULL, NULL, argv, envp), 0);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(loads_without_compiler) {
  char path[4200], tripwire[4200], marker[4200], cache[4200];
  snprintf(path, sizeof(path), "%s/tiers.wudf", work);
  snprintf(tripwire, sizeof(tripwire), "%s/tripwire", work);
  snprintf(marker, sizeof(marker), "%s/tool-ran", work);
  snprintf(cache, sizeof(cache), "%s/empty-cache", work);
  write_file(path, artifact, artifact_size, 0644);
  /* A tool that leaves the marker (with shell built-ins only: no PATH). */
  char script[8600];
  snprintf(script, sizeof(script), "#!/bin/sh\n: > '%s'\nexit 1\n", marker);
  write_file(tripwire, script, strlen(script), 0755);
  unlink(marker);
  ASSERT_EQ(run_child("artifact", path, tripwire, cache), 0);
  ASSERT(!file_exists(marker));
  ASSERT(!file_exists(cache)); /* not even the cache was touched */
  /* The control: the plain module cannot load there, and trips the wire. */
  ASSERT_EQ(run_child("control", module_path("tiers"), tripwire, cache), 0);
  ASSERT(file_exists(marker));
}

TEST(refuses_flipped_bytes) {
  const char* marker = "\ncontent_sha256 ";
  const uint8_t* found = memmem(artifact, 4096, marker, strlen(marker));
  ASSERT(found != NULL);
  size_t header_length = (size_t)(found - artifact) + strlen(marker) + 65;
  size_t offsets[] = {
      30,                          /* the manifest (its library line) */
      (size_t)(found - artifact) - 3, /* the manifest (object_size) */
      header_length - 2,           /* the content hash itself */
      header_length + 20,          /* the embedded module */
      artifact_size / 2 + 1000,    /* the native code */
      artifact_size - 1,           /* the native code's last byte */
  };
  uint8_t* copy = malloc(artifact_size);
  ASSERT(copy != NULL);
  for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
    memcpy(copy, artifact, artifact_size);
    copy[offsets[i]] ^= 0x01;
    expect_refused(copy, artifact_size, EBADMSG, "");
  }
  /* Truncated, and not an artifact at all. */
  expect_refused(artifact, artifact_size - 1, EBADMSG, "content_sha256");
  expect_refused(artifact, 10, EBADMSG, "not an artifact");
  free(copy);
}

TEST(refuses_mismatches) {
  /* Consistent artifacts (their content hash recomputed) whose values do
   * not match this library or this machine. */
  static const struct {
    const char* name;
    const char* value;
    int expected;
    const char* message;
  } cases[] = {
      {"glue_abi", "999", ENOTSUP, "glue ABI 999"},
      {"glue_sha256", "0000000000000000000000000000000000000000000000000000000000000000",
       ENOTSUP, "other glue sources"},
      {"wasm2c", "0.0.1", ENOTSUP, "wasm2c 0.0.1"},
      {"runtime_header_sha256",
       "1111111111111111111111111111111111111111111111111111111111111111", ENOTSUP,
       "wasm-rt.h"},
      {"target", "riscv64-linux-musl", ENOTSUP, "compiled for riscv64-linux-musl"},
      {"module_sha256", "2222222222222222222222222222222222222222222222222222222222222222",
       EBADMSG, "module_sha256"},
      {"object_sha256", "3333333333333333333333333333333333333333333333333333333333333333",
       EBADMSG, "object_sha256"},
      {"module_size", "1", EBADMSG, "do not fill"},
      {"key", "not-a-key", EBADMSG, "malformed"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t size;
    uint8_t* copy = rewrite(cases[i].name, cases[i].value, NULL, 0, &size);
    expect_refused(copy, size, cases[i].expected, cases[i].message);
    free(copy);
  }
}

/* Builds `source` into a shared object with the system compiler; returns
 * its bytes. */
static uint8_t* build_object(const char* name, const char* source, size_t* size) {
  char c_path[4200], so_path[4200], command[9000];
  snprintf(c_path, sizeof(c_path), "%s/%s.c", work, name);
  snprintf(so_path, sizeof(so_path), "%s/%s.so", work, name);
  write_file(c_path, source, strlen(source), 0644);
  snprintf(command, sizeof(command), "cc -shared -fPIC -O1 -o '%s' '%s'", so_path, c_path);
  ASSERT_EQ(system(command), 0);
  return read_whole_file(so_path, size);
}

TEST(refuses_code_with_constructors) {
  char marker[4200], source[9000], so_path[4200];
  snprintf(marker, sizeof(marker), "%s/constructor-ran", work);
  snprintf(so_path, sizeof(so_path), "%s/evil.so", work);
  unlink(marker);
  /* Exports the glue's entry point, and leaves a marker when loaded. */
  snprintf(source, sizeof(source),
           "#include <fcntl.h>\n#include <unistd.h>\n"
           "__attribute__((constructor)) static void evil(void) {\n"
           "  close(open(\"%s\", O_CREAT | O_WRONLY, 0600));\n}\n"
           "__attribute__((visibility(\"default\"))) const void* wudf_glue_bind(const void* r) "
           "{ return r; }\n",
           marker);
  size_t object_size;
  uint8_t* object = build_object("evil", source, &object_size);
  size_t size;
  uint8_t* copy = rewrite(NULL, NULL, object, object_size, &size);
  expect_refused(copy, size, EBADMSG, "initialisers in its init array");
  free(copy);
  ASSERT(!file_exists(marker));
  /* The control: loaded as a library, the object does leave its marker. */
  void* library = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
  ASSERT(library != NULL);
  ASSERT(file_exists(marker));
  dlclose(library);
  free(object);

  /* An object exporting more than the glue's entry point. */
  object = build_object("extra", "__attribute__((visibility(\"default\"))) int extra(void) "
                        "{ return 1; }\n__attribute__((visibility(\"default\"))) const "
                        "void* wudf_glue_bind(const void* r) { return r; }\n",
                        &object_size);
  copy = rewrite(NULL, NULL, object, object_size, &size);
  expect_refused(copy, size, EBADMSG, "it exports extra");
  free(copy);
  free(object);
  /* Not an ELF object at all. */
  copy = rewrite(NULL, NULL, (const uint8_t*)"#!/bin/sh\necho hi\n", 18, &size);
  expect_refused(copy, size, EBADMSG, "ELF");
  free(copy);
}

TEST(refuses_another_modules_code) {
  /* The code of another module (traps.wasm), with its own key: a
   * consistent artifact whose object passes the ELF checks; its export
   * table does not match tiers.wasm's exports. */
  struct wudf_engine* engine = new_engine();
  struct wudf_error error;
  size_t size, other_size;
  unsigned char* bytes = read_whole_file(module_path("traps"), &size);
  uint8_t* other;
  ASSERT_OK(wudf_module_compile_artifact(engine, bytes, size, &other, &other_size, &error),
            &error);
  free(bytes);
  wudf_engine_free(engine);
  char key[65];
  const char* line = strstr((const char*)other, "\nkey ");
  ASSERT(line != NULL);
  memcpy(key, line + 5, 64);
  key[64] = '\0';
  line = strstr((const char*)other, "\nmodule_size ");
  size_t module_size = (size_t)strtoull(line + 13, NULL, 10);
  const uint8_t* found = memmem(other, 4096, "\ncontent_sha256 ", 16);
  size_t header_length = (size_t)(found - other) + 16 + 65;
  const uint8_t* object = other + header_length + module_size;
  size_t object_size = other_size - header_length - module_size;
  uint8_t* copy = rewrite("key", key, object, object_size, &size);
  /* Verified, then loaded; refused before the module is handed out. */
  engine = new_engine();
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_load_artifact(engine, copy, size, &module, &error), EBADMSG,
                &error);
  ASSERT_CONTAINS(error.message, "export table does not match");
  ASSERT(module == NULL);
  wudf_engine_free(engine);
  free(copy);
  /* With tiers' key, the glue itself refuses to bind. */
  copy = rewrite(NULL, NULL, object, object_size, &size);
  engine = new_engine();
  ASSERT_STATUS(wudf_module_load_artifact(engine, copy, size, &module, &error), ENOEXEC,
                &error);
  ASSERT_CONTAINS(error.message, "not the compiled module for key");
  wudf_engine_free(engine);
  free(copy);
  wudf_artifact_free(other);
}

TEST(refuses_invalid_module) {
  /* A consistent artifact whose module fails the engine's validator: the
   * validator runs before the object is mapped. */
  const char* marker = "\ncontent_sha256 ";
  const uint8_t* found = memmem(artifact, 4096, marker, strlen(marker));
  size_t header_length = (size_t)(found - artifact) + strlen(marker) + 65;
  size_t size;
  uint8_t* copy;
  /* Rebuild by hand: corrupt the module's version field, fix the hashes. */
  uint8_t* changed = malloc(artifact_size);
  ASSERT(changed != NULL);
  memcpy(changed, artifact, artifact_size);
  changed[header_length + 4] = 0x02; /* wasm version 2 */
  uint8_t* saved = artifact;
  artifact = changed;
  char* line = strstr((char*)changed, "\nmodule_size ");
  size_t module_size = (size_t)strtoull(line + 13, NULL, 10);
  struct wudf__sha256 hash;
  char hex[65];
  wudf__sha256_init(&hash);
  wudf__sha256_update(&hash, changed + header_length, module_size);
  wudf__sha256_hex(&hash, hex);
  copy = rewrite("module_sha256", hex, NULL, 0, &size);
  artifact = saved;
  free(changed);
  expect_refused(copy, size, ENOEXEC, "version");
  free(copy);
}

TEST(file_api) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/file_api.wudf", work);
  unlink(path);
  struct wudf_engine* engine = new_engine();
  struct wudf_error error;
  ASSERT_OK(wudf_module_compile_artifact_file(engine, module_path("tiers"), path, &error),
            &error);
  struct wudf_module* module = NULL;
  ASSERT_OK(wudf_module_load_artifact_file(engine, path, &module, &error), &error);
  ASSERT_EQ(call_bits(module, 0xf0), expected_bits(0xf0));
  wudf_module_free(module);
  /* A plain module is not an artifact, and the reverse. */
  ASSERT_STATUS(wudf_module_load_artifact_file(engine, module_path("tiers"), &module, &error),
                EBADMSG, &error);
  ASSERT_CONTAINS(error.message, "not an artifact");
  ASSERT_STATUS(wudf_module_load_file(engine, path, &module, &error), ENOEXEC, &error);
  /* An invalid module is refused at compile time, by the validator. */
  ASSERT_STATUS(wudf_module_compile_artifact_file(engine, module_path("bad_body"), path,
                                                  &error),
                ENOEXEC, &error);
  wudf_engine_free(engine);
}

TEST(compile_refuses_other_tools) {
  /* A wasm2c of another version: refused before anything is compiled. */
  char fake_wasm2c[4200], fake_cc[4200], include[4200], header[4300], script[9000];
  snprintf(fake_wasm2c, sizeof(fake_wasm2c), "%s/fake-wasm2c", work);
  snprintf(script, sizeof(script), "#!/bin/sh\necho 9.9.9\n");
  write_file(fake_wasm2c, script, strlen(script), 0755);
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.wasm2c = fake_wasm2c;
  struct wudf_engine* engine = new_engine_with(&config);
  size_t size;
  unsigned char* bytes = read_whole_file(module_path("tiers"), &size);
  uint8_t* out = NULL;
  size_t out_size = 0;
  struct wudf_error error;
  ASSERT_STATUS(wudf_module_compile_artifact(engine, bytes, size, &out, &out_size, &error),
                ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "is version 9.9.9");
  ASSERT(out == NULL);
  wudf_engine_free(engine);

  /* A compiler that reads another wasm-rt.h (the real one with a line
   * more, found first on its include path): refused. */
  snprintf(include, sizeof(include), "%s/other-runtime", work);
  mkdir(include, 0700);
  snprintf(header, sizeof(header), "%s/wasm-rt.h", include);
  size_t header_size;
  unsigned char* real = read_whole_file(WUDF_TEST_WASM_RT_HEADER, &header_size);
  unsigned char* changed = malloc(header_size + 32);
  ASSERT(changed != NULL);
  memcpy(changed, real, header_size);
  memcpy(changed + header_size, "\n/* another build */\n", 22);
  write_file(header, changed, header_size + 22, 0644);
  free(real);
  free(changed);
  snprintf(fake_cc, sizeof(fake_cc), "%s/fake-cc", work);
  snprintf(script, sizeof(script), "#!/bin/sh\nexec cc -I'%s' \"$@\"\n", include);
  write_file(fake_cc, script, strlen(script), 0755);
  wudf_engine_config_init(&config);
  config.cc = fake_cc;
  engine = new_engine_with(&config);
  ASSERT_STATUS(wudf_module_compile_artifact(engine, bytes, size, &out, &out_size, &error),
                ENOTSUP, &error);
  ASSERT_CONTAINS(error.message, "wasm-rt.h");
  ASSERT(out == NULL);
  wudf_engine_free(engine);
  free(bytes);
}

/* The allocation funnel of this program: fails the `fail_countdown`-th
 * allocation from now when it is positive. */
static long fail_countdown;
static int failed_once;

static void* faulty_malloc(void* user, size_t size) {
  (void)user;
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return malloc(size);
}

static void* faulty_realloc(void* user, void* pointer, size_t size) {
  (void)user;
  if (fail_countdown > 0 && --fail_countdown == 0) {
    failed_once = 1;
    return NULL;
  }
  return realloc(pointer, size);
}

static void faulty_free(void* user, void* pointer) {
  (void)user;
  free(pointer);
}

TEST(load_with_each_allocation_failing) {
  /* Every allocation of an artifact's load failing in turn: ENOMEM with a
   * message, nothing leaked (ASan, valgrind), and the next load works. */
  struct wudf_engine* engine = new_engine();
  long k = 1;
  for (;; k++) {
    struct wudf_module* module = NULL;
    struct wudf_error error;
    failed_once = 0;
    fail_countdown = k;
    int status = wudf_module_load_artifact(engine, artifact, artifact_size, &module, &error);
    fail_countdown = 0;
    if (!failed_once) {
      ASSERT_OK(status, &error);
      ASSERT_EQ(call_bits(module, 0xf0), expected_bits(0xf0));
      wudf_module_free(module);
      break;
    }
    if (status != ENOMEM) {
      TEST_FAIL("allocation %ld failing gave %d (%s), expected ENOMEM", k, status,
                status != 0 ? error.message : "success");
    }
    ASSERT(module == NULL);
    ASSERT(error.message[0] != '\0');
  }
  ASSERT_GE(k, 5);
  wudf_engine_free(engine);
}

int main(int argc, char** argv) {
  static const struct wudf_allocator allocator = {faulty_malloc, faulty_realloc, faulty_free,
                                                  NULL};
  if (wudf_set_allocator(&allocator) != 0) TEST_FAIL("wudf_set_allocator failed");
  if (argc == 4 && strcmp(argv[1], "--child") == 0) {
    int status = child(argv[2], argv[3]);
    return status;
  }
  const char* tmp = getenv("WUDF_TEST_TMP");
  snprintf(work, sizeof(work), "%s/artifact.XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(work) == NULL) TEST_FAIL("cannot create %s", work);
  struct wudf_engine* engine = new_engine();
  struct wudf_error error;
  size_t size;
  unsigned char* bytes = read_whole_file(module_path("tiers"), &size);
  if (wudf_module_compile_artifact(engine, bytes, size, &artifact, &artifact_size, &error) != 0) {
    TEST_FAIL("wudf_module_compile_artifact: %s", error.message);
  }
  free(bytes);
  wudf_engine_free(engine);
  RUN_TEST(loads_and_runs);
  RUN_TEST(loads_without_compiler);
  RUN_TEST(refuses_flipped_bytes);
  RUN_TEST(refuses_mismatches);
  RUN_TEST(refuses_code_with_constructors);
  RUN_TEST(refuses_another_modules_code);
  RUN_TEST(refuses_invalid_module);
  RUN_TEST(file_api);
  RUN_TEST(compile_refuses_other_tools);
  RUN_TEST(load_with_each_allocation_failing);
  wudf_artifact_free(artifact);
  char command[4200 + 16];
  snprintf(command, sizeof(command), "rm -rf '%s'", work);
  if (system(command) != 0) fprintf(stderr, "cannot remove %s\n", work);
  return TEST_SUMMARY();
}
