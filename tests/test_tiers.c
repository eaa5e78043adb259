/*
 * test_tiers.c -- the fast tier (engine fast_tier, docs/engine.md "Tiers"):
 * a first load compiled by tcc runs correct results at once -- the GCC
 * builtins glue_abi.h supplies, libm, traps, and stack exhaustion in frames
 * larger than a guard page (stack probes), on the main thread and on a
 * thread with a small stack; the optimised build appears in the background
 * (polled with a bounded wait): new instances run it, and an instance made
 * before moves to it at its next call, keeping its state and table; later loads take the optimised object from the cache; both
 * tiers' entries are verified by manifest (a tampered fast entry is
 * compiled again); a fast compiler that fails leaves the load to cc -O2, an
 * optimised build that fails leaves the module on the fast code, and the
 * child of a fork frees the engine without waiting for the parent's build.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "helpers.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_DEFINED(address, size) ((void)(address), (void)(size))
#endif

/* The longest wait for a background build (cc -O2 of a small module takes
 * about a second; valgrind and a loaded machine, much longer). */
#define OPTIMIZED_WAIT_SECONDS 300

/* Makes a fresh cache directory under WUDF_TEST_TMP. */
static void fresh_cache(char* path, size_t size, const char* name) {
  snprintf(path, size, "%s/%s-XXXXXX", getenv("WUDF_TEST_TMP"), name);
  ASSERT(mkdtemp(path) != NULL);
}

static struct wudf_engine* tier_engine(const char* cache, const char* cc, const char* fast_cc) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  config.fast_tier = 1;
  config.cc = cc;
  config.fast_cc = fast_cc;
  return new_engine_with(&config);
}

static int64_t call_i64(struct wudf_instance* instance, const char* name, int64_t value) {
  struct wudf_error error;
  struct wudf_value arg = i64_value(value), result;
  ASSERT_OK(wudf_instance_call_name(instance, name, &arg, 1, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  return result.of.i64;
}

/* The results every tier must give. */
static void check_results(struct wudf_module* module) {
  struct wudf_instance* instance = new_instance(module);
  static const uint32_t words[] = {1u, 0x80000000u, 0xf0u, 12345678u, 0xffffffffu, 0u};
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
    uint32_t x = words[i];
    int clz = x ? __builtin_clz(x) : 32, ctz = x ? __builtin_ctz(x) : 32;
    struct wudf_value arg = i32_value((int32_t)x);
    ASSERT_EQ(call_i32(instance, "bits", &arg, 1), clz + 100 * ctz + 10000 * __builtin_popcount(x));
  }
  static const uint64_t longs[] = {1u, 0x8000000000000000u, 0xf00000000u,
                                   0x123456789abcdefu, ~(uint64_t)0, 0u};
  for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
    uint64_t x = longs[i];
    int64_t clz = x ? __builtin_clzll(x) : 64, ctz = x ? __builtin_ctzll(x) : 64;
    ASSERT_EQ(call_i64(instance, "bits64", (int64_t)x),
              clz + 100 * ctz + 10000 * __builtin_popcountll(x));
  }
  struct wudf_error error;
  struct wudf_value arg = f64_value(2.5), result;
  ASSERT_OK(wudf_instance_call_name(instance, "nearest", &arg, 1, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT(result.of.f64 == 2.0);
  arg = f32_value(16.0f);
  ASSERT_OK(wudf_instance_call_name(instance, "sqrt32", &arg, 1, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  ASSERT(result.of.f32 == 4.0f);
  struct wudf_value n = i32_value(1000);
  ASSERT_OK(wudf_instance_call_name(instance, "gcd_sum", &n, 1, &result, 1,
                                    WUDF_TIMEOUT_DEFAULT, &error), &error);
  int64_t expected = 0;
  for (int32_t i = 1; i <= 1000; i++) {
    int32_t a = i, b = 1000;
    while (b != 0) {
      int32_t t = a % b;
      a = b;
      b = t;
    }
    expected += a;
  }
  ASSERT_EQ(result.of.i64, expected);
  struct wudf_value args[2] = {i32_value(1), i32_value(0)};
  ASSERT_STATUS(wudf_instance_call_name(instance, "div_s", args, 2, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_DIVIDE_BY_ZERO);
  wudf_instance_free(instance);
}

/* Recursion through frames larger than a guard page ends in a
 * stack-exhaustion trap, not a crash. */
static void check_exhaustion(struct wudf_module* module, const char* name) {
  struct wudf_instance* instance = new_instance(module);
  ASSERT_EQ(wudf_instance_tier(instance), wudf_module_tier(module));
  struct wudf_error error;
  struct wudf_value arg = i32_value(1), result; /* skip_frame: not the deep branch */
  ASSERT_STATUS(wudf_instance_call_name(instance, name, &arg, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_STACK_EXHAUSTED);
  wudf_instance_free(instance);
}

struct exhaustion_job {
  struct wudf_module* module;
};

static void* exhaust_on_thread(void* argument) {
  struct exhaustion_job* job = argument;
  check_exhaustion(job->module, "many_locals");
  check_exhaustion(job->module, "deep_operands");
  return NULL;
}

/* The same on a thread with a 512 KiB stack and one guard page. */
static void check_exhaustion_on_small_thread(struct wudf_module* module) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 512 << 10);
  pthread_attr_setguardsize(&attributes, 4096);
  struct exhaustion_job job = {module};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attributes, exhaust_on_thread, &job), 0);
  pthread_join(thread, NULL);
  pthread_attr_destroy(&attributes);
}

/* A thread stack with writable memory right below its guard page: what a
 * frame that skipped the guard would write into without a fault. */
#define VICTIM_BYTES (64 << 10)
#define GUARD_BYTES 4096
#define STACK_BYTES (512 << 10)

/* Runs skip_frame from `pad` bytes further down the stack. */
static void __attribute__((noinline)) skip_frame_from(struct wudf_module* module,
                                                      size_t pad) {
  volatile char padding[pad + 1];
  padding[0] = 0;
  padding[pad] = 0;
  check_exhaustion(module, "skip_frame");
  ASSERT_EQ(padding[0] + padding[pad], 0);
}

/* The frames of skip_frame are touched only at their ends, about 4.8 KB
 * apart; whether that stride steps over the guard page depends on where the
 * recursion starts, so it starts at ten offsets 512 bytes apart (one of
 * which skips the guard when nothing probes the frames). */
static void* exhaust_skip_frame(void* argument) {
  for (size_t offset = 0; offset < 10; offset++) {
    skip_frame_from(((struct exhaustion_job*)argument)->module, offset * 512);
  }
  return NULL;
}

/* Runs skip_frame to stack exhaustion on a stack laid out as [victim |
 * guard | stack]: it must trap at the guard and leave the victim as it
 * was. */
static void check_guard_not_skipped(struct wudf_module* module) {
#ifdef __SANITIZE_THREAD__
  /* ThreadSanitizer refuses threads on a stack of the caller's (EINVAL). */
  (void)module;
  return;
#endif
  size_t total = VICTIM_BYTES + GUARD_BYTES + STACK_BYTES;
  unsigned char* region = mmap(NULL, total, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT(region != MAP_FAILED);
  memset(region, 0xa5, VICTIM_BYTES);
  ASSERT_EQ(mprotect(region + VICTIM_BYTES, GUARD_BYTES, PROT_NONE), 0);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  ASSERT_EQ(pthread_attr_setstack(&attributes, region + VICTIM_BYTES + GUARD_BYTES,
                                  STACK_BYTES), 0);
  struct exhaustion_job job = {module};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attributes, exhaust_skip_frame, &job), 0);
  pthread_join(thread, NULL);
  pthread_attr_destroy(&attributes);
  /* Memcheck marks memory below a lowered stack pointer undefined, though
   * nothing wrote it: the bytes themselves are what is checked. */
  VALGRIND_MAKE_MEM_DEFINED(region, VICTIM_BYTES);
  size_t touched = 0;
  for (size_t i = 0; i < VICTIM_BYTES; i++) touched += region[i] != 0xa5;
  munmap(region, total);
  ASSERT_EQ(touched, 0);
}

/* Counts the entries of `instance`'s funcref tables that hold one of
 * `glue`'s functions (for this instance), and in *total the non-null
 * entries. */
static uint32_t entries_in(const struct wudf_instance* instance,
                           const struct wudf__glue_module* glue, uint32_t* total) {
  uint32_t found = 0;
  *total = 0;
  const struct wudf__rt_instance* runtime = &instance->runtime;
  for (uint32_t t = 0; t < runtime->table_count; t++) {
    if (!runtime->table_is_funcref[t]) continue;
    const wasm_rt_funcref_table_t* table = runtime->tables[t];
    for (uint32_t i = 0; i < table->size; i++) {
      if (table->data[i].func == NULL) continue;
      (*total)++;
      for (uint32_t f = 0; f < glue->function_count; f++) {
        if (table->data[i].func == glue->functions[f] &&
            table->data[i].module_instance == instance->state) {
          found++;
        }
      }
    }
  }
  return found;
}

/* Polls until new instances of `module` get the optimised tier. */
static void wait_optimized(struct wudf_module* module) {
  for (int i = 0; i < OPTIMIZED_WAIT_SECONDS * 100; i++) {
    if (wudf_module_tier(module) == WUDF_TIER_OPTIMIZED) return;
    usleep(10000);
  }
  TEST_FAIL("the optimised build was not ready after %d s", OPTIMIZED_WAIT_SECONDS);
}

/* Counts the entries (.so with .manifest) in `cache`/v1/XX. */
static int count_entries(const char* cache) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/v1", cache);
  DIR* top = opendir(path);
  if (top == NULL) return 0;
  int count = 0;
  struct dirent* shard;
  while ((shard = readdir(top)) != NULL) {
    if (strlen(shard->d_name) != 2) continue;
    char sub[4400];
    snprintf(sub, sizeof(sub), "%.4000s/%.2s", path, shard->d_name);
    DIR* directory = opendir(sub);
    struct dirent* entry;
    while (directory != NULL && (entry = readdir(directory)) != NULL) {
      size_t length = strlen(entry->d_name);
      if (length > 9 && strcmp(entry->d_name + length - 9, ".manifest") == 0) count++;
    }
    if (directory != NULL) closedir(directory);
  }
  closedir(top);
  return count;
}

TEST(fast_tier_then_optimized) {
  char cache[4096];
  fresh_cache(cache, sizeof(cache), "tiers");
  struct wudf_engine* engine = tier_engine(cache, NULL, NULL);
  struct wudf_module* module = load_module(engine, "tiers");
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.fast_compiles, 1);
  /* Runs at once, on the fast code (unless the background build already
   * finished: then both instances below are optimised, which the checks
   * allow). */
  struct wudf_instance* early = new_instance(module);
  int early_tier = wudf_instance_tier(early);
  ASSERT(early_tier == WUDF_TIER_FAST || early_tier == WUDF_TIER_OPTIMIZED);
  check_results(module);
  struct wudf_value pair[2] = {i32_value(1071), i32_value(462)};
  ASSERT_EQ(call_i32(early, "gcd_indirect", pair, 2), 21);
  /* Slot 1 is written by the code the instance runs now. */
  ASSERT_EQ(wudf_instance_call_name(early, "set_slot", NULL, 0, NULL, 0, WUDF_TIMEOUT_DEFAULT,
                                    NULL), 0);
  uint32_t total = 0;
  if (early_tier == WUDF_TIER_FAST) {
    ASSERT_EQ(entries_in(early, early->glue, &total), 2);
    ASSERT_EQ(total, 2);
  }
  check_exhaustion(module, "many_locals");
  check_exhaustion(module, "deep_operands");
  check_exhaustion_on_small_thread(module);
  check_guard_not_skipped(module);

  ASSERT_EQ(wudf_module_wait_tier(module, OPTIMIZED_WAIT_SECONDS * 1000), WUDF_TIER_OPTIMIZED);
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.optimized_ready, 1);
  ASSERT_EQ(stats.compiles, 1);
  ASSERT_EQ(stats.optimized_failures, 0);
  struct wudf_instance* late = new_instance(module);
  ASSERT_EQ(wudf_instance_tier(late), WUDF_TIER_OPTIMIZED);
  /* The early instance moves to the optimised code at its next call and
   * keeps its state; its table entries, the one written at instantiation
   * and the one set_slot wrote, move to the optimised gcd. */
  ASSERT_EQ(wudf_instance_tier(early), early_tier);
  struct wudf_value arg = i32_value(0xf0);
  ASSERT_EQ(call_i32(early, "bits", &arg, 1), 24 + 400 + 40000);
  ASSERT_EQ(wudf_instance_tier(early), WUDF_TIER_OPTIMIZED);
  const struct wudf__glue_module* optimized = atomic_load(&module->optimized_glue);
  if (optimized == NULL) optimized = module->glue; /* optimised from the start */
  ASSERT_EQ(entries_in(early, optimized, &total), 2);
  ASSERT_EQ(total, 2);
  ASSERT_EQ(call_i32(late, "bits", &arg, 1), 24 + 400 + 40000);
  ASSERT_EQ(call_i32(early, "gcd_indirect", pair, 2), 21);
  ASSERT_EQ(call_i32(early, "gcd_slot", pair, 2), 21);
  ASSERT_EQ(call_i32(late, "gcd_indirect", pair, 2), 21);
  ASSERT_EQ(wudf_instance_call_name(late, "set_slot", NULL, 0, NULL, 0, WUDF_TIMEOUT_DEFAULT,
                                    NULL), 0);
  ASSERT_EQ(call_i32(late, "gcd_slot", pair, 2), 21);
  ASSERT_EQ(entries_in(late, optimized, &total), 2);
  check_results(module);
  check_exhaustion(module, "deep_operands");
  check_guard_not_skipped(module);
  wudf_instance_free(early);
  wudf_instance_free(late);
  wudf_module_free(module);
  /* Both tiers are in the cache, each with its manifest. */
  ASSERT_EQ(count_entries(cache), 2);
  wudf_engine_free(engine);

  /* A later load takes the optimised object from the cache. */
  engine = tier_engine(cache, NULL, NULL);
  module = load_module(engine, "tiers");
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_OPTIMIZED);
  ASSERT_EQ(wudf_module_wait_tier(module, 0), WUDF_TIER_OPTIMIZED);
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.fast_compiles, 0);
  ASSERT_EQ(stats.compiles, 0);
  ASSERT_EQ(stats.cache_hits, 1);
  wudf_module_free(module);
  wudf_engine_free(engine);
}

TEST(freeing_the_module_does_not_wait) {
  /* The module is freed at once; the engine waits for its build. */
  char cache[4096];
  fresh_cache(cache, sizeof(cache), "tiers-free");
  struct wudf_engine* engine = tier_engine(cache, NULL, NULL);
  struct wudf_module* module = load_module(engine, "tiers");
  wudf_module_free(module);
  wudf_engine_free(engine);
}

/* Flips one byte in the middle of the only .so in `cache`/v1/XX. */
static void tamper_only_object(const char* cache) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/v1", cache);
  DIR* top = opendir(path);
  ASSERT(top != NULL);
  struct dirent* shard;
  int tampered = 0;
  while ((shard = readdir(top)) != NULL) {
    if (strlen(shard->d_name) != 2) continue;
    char sub[4400];
    snprintf(sub, sizeof(sub), "%.4000s/%.2s", path, shard->d_name);
    DIR* directory = opendir(sub);
    struct dirent* entry;
    while (directory != NULL && (entry = readdir(directory)) != NULL) {
      size_t length = strlen(entry->d_name);
      if (length < 3 || strcmp(entry->d_name + length - 3, ".so") != 0) continue;
      char file[4700];
      snprintf(file, sizeof(file), "%.4100s/%.255s", sub, entry->d_name);
      int fd = open(file, O_RDWR);
      ASSERT(fd >= 0);
      struct stat info;
      ASSERT_EQ(fstat(fd, &info), 0);
      unsigned char byte;
      ASSERT_EQ(pread(fd, &byte, 1, info.st_size / 2), 1);
      byte ^= 0xff;
      ASSERT_EQ(pwrite(fd, &byte, 1, info.st_size / 2), 1);
      close(fd);
      tampered++;
    }
    if (directory != NULL) closedir(directory);
  }
  closedir(top);
  ASSERT_EQ(tampered, 1);
}

TEST(failed_optimized_build_keeps_fast_code_and_manifests_guard_it) {
  /* cc fails: the module stays on the fast code. */
  char cache[4096];
  fresh_cache(cache, sizeof(cache), "tiers-nocc");
  struct wudf_engine* engine = tier_engine(cache, "/bin/false", NULL);
  struct wudf_module* module = load_module(engine, "tiers");
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  /* wudf_module_wait_tier returns when the build has failed. */
  ASSERT_EQ(wudf_module_wait_tier(module, OPTIMIZED_WAIT_SECONDS * 1000), WUDF_TIER_FAST);
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.optimized_failures, 1);
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_FAST);
  struct wudf_instance* instance = new_instance(module);
  ASSERT_EQ(wudf_instance_tier(instance), WUDF_TIER_FAST);
  struct wudf_value arg = i32_value(1);
  ASSERT_EQ(call_i32(instance, "bits", &arg, 1), 31 + 0 + 10000);
  wudf_instance_free(instance);
  /* Deterministically on the fast code: results, traps, stack probes. */
  check_results(module);
  check_exhaustion(module, "many_locals");
  check_exhaustion(module, "deep_operands");
  check_exhaustion_on_small_thread(module);
  check_guard_not_skipped(module);
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_FAST);
  wudf_module_free(module);
  wudf_engine_free(engine);
  /* The fast entry is the only one; a tampered copy is not loaded but
   * compiled again. */
  ASSERT_EQ(count_entries(cache), 1);
  tamper_only_object(cache);
  engine = tier_engine(cache, "/bin/false", NULL);
  module = load_module(engine, "tiers");
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.fast_compiles, 1);
  ASSERT_EQ(stats.cache_hits, 0);
  check_results(module);
  wudf_module_free(module);
  wudf_engine_free(engine);
}

TEST(missing_fast_compiler_falls_back_to_cc_at_O0) {
  /* Without tcc the fast tier is cc -O0: a fast compile all the same, then
   * the optimised build in the background. */
  char cache[4096];
  fresh_cache(cache, sizeof(cache), "tiers-notcc");
  struct wudf_engine* engine = tier_engine(cache, NULL, "/nonexistent/tcc");
  struct wudf_module* module = load_module(engine, "tiers");
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.fast_compiles, 1);
  ASSERT_EQ(stats.fast_failures, 0);
  check_results(module);
  check_exhaustion(module, "deep_operands");
  wait_optimized(module);
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.compiles, 1);
  ASSERT_EQ(stats.optimized_ready, 1);
  check_results(module);
  wudf_module_free(module);
  ASSERT_EQ(count_entries(cache), 2);
  wudf_engine_free(engine);
}

TEST(failing_fast_compiler_falls_back_to_the_optimized_compile) {
  char cache[4096];
  fresh_cache(cache, sizeof(cache), "tiers-badtcc");
  struct wudf_engine* engine = tier_engine(cache, NULL, "/bin/false");
  struct wudf_module* module = load_module(engine, "tiers");
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_OPTIMIZED);
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.fast_failures, 1);
  ASSERT_EQ(stats.compiles, 1);
  check_results(module);
  wudf_module_free(module);
  wudf_engine_free(engine);
}

TEST(a_forked_child_frees_the_engine_without_the_build) {
  /* Not under valgrind: its leak check at the child's exit reports what the
   * parent's background thread held at the fork (that thread does not exist
   * in the child, so nothing there can free it). The debug, ASan and TSan
   * builds run this test. */
  if (getenv("WUDF_TEST_SLACK_MS") != NULL) {
    printf("  skipped under valgrind (see the comment)\n");
    return;
  }
  /* A compiler that takes a while, so the build still runs at the fork. */
  char cache[4096], slow_cc[4200];
  fresh_cache(cache, sizeof(cache), "tiers-fork");
  snprintf(slow_cc, sizeof(slow_cc), "%s/slow-cc", cache);
  FILE* script = fopen(slow_cc, "w");
  ASSERT(script != NULL);
  fprintf(script, "#!/bin/sh\nsleep 1\nexec cc \"$@\"\n");
  fclose(script);
  ASSERT_EQ(chmod(slow_cc, 0700), 0);
  struct wudf_engine* engine = tier_engine(cache, slow_cc, NULL);
  struct wudf_module* module = load_module(engine, "tiers");
  pid_t child = fork();
  ASSERT(child >= 0);
  if (child == 0) {
    /* The background thread does not exist here: freeing must not wait for
     * it. The child's module stays on the fast code. */
    int tier = wudf_module_tier(module);
    wudf_module_free(module);
    wudf_engine_free(engine);
    _exit(tier == WUDF_TIER_FAST ? 0 : 3);
  }
  int status = 0;
  for (int i = 0; i < OPTIMIZED_WAIT_SECONDS * 100; i++) {
    if (waitpid(child, &status, WNOHANG) == child) break;
    if (i == OPTIMIZED_WAIT_SECONDS * 100 - 1) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      TEST_FAIL("the child did not finish freeing the engine");
    }
    usleep(10000);
  }
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  /* The parent's build finishes as usual. */
  wait_optimized(module);
  wudf_module_free(module);
  wudf_engine_free(engine);
}

/* Writes `path`, a compiler that logs "start" to `log`, sleeps `pause`
 * (sleep(1)'s argument), logs "end" and runs cc. */
static void write_slow_cc(const char* path, const char* log, const char* pause) {
  FILE* script = fopen(path, "w");
  ASSERT(script != NULL);
  fprintf(script, "#!/bin/sh\necho start >> '%s'\nsleep %s\necho end >> '%s'\n"
          "exec cc \"$@\"\n", log, pause, log);
  fclose(script);
  ASSERT_EQ(chmod(path, 0700), 0);
}

TEST(background_builds_take_turns) {
  /* Three modules loaded at once: their builds compile at most tier_max at
   * a time. A compiler that logs its start and end (with a pause between)
   * shows how many ran at once. */
  char cache[4096], slow_cc[4200], log[4200];
  fresh_cache(cache, sizeof(cache), "tiers-turns");
  snprintf(slow_cc, sizeof(slow_cc), "%s/slow-cc", cache);
  snprintf(log, sizeof(log), "%s/cc.log", cache);
  write_slow_cc(slow_cc, log, "0.3");
  struct wudf_engine* engine = tier_engine(cache, slow_cc, NULL);
  static const char* const names[] = {"tiers", "traps", "limits"};
  struct wudf_module* modules[3];
  for (int i = 0; i < 3; i++) modules[i] = load_module(engine, names[i]);
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(wudf_module_wait_tier(modules[i], OPTIMIZED_WAIT_SECONDS * 1000),
              WUDF_TIER_OPTIMIZED);
  }
  unsigned most = engine->tier_max;
  ASSERT(most >= 1);
  FILE* lines = fopen(log, "r");
  ASSERT(lines != NULL);
  char line[64];
  unsigned running = 0, peak = 0, starts = 0;
  while (fgets(line, sizeof(line), lines) != NULL) {
    if (strncmp(line, "start", 5) == 0) {
      running++;
      starts++;
      if (running > peak) peak = running;
    } else if (running > 0) {
      running--;
    }
  }
  fclose(lines);
  ASSERT_EQ(starts, 3);
  ASSERT(peak <= most);
  for (int i = 0; i < 3; i++) wudf_module_free(modules[i]);
  wudf_engine_free(engine);
}

TEST(cancelled_builds_stop_and_the_module_keeps_its_fast_code) {
  /* A compiler that would take a minute: wudf_engine_cancel_builds kills it,
   * wudf_engine_free returns at once, the module runs its fast code, and
   * the cancelled build counts as neither ready nor failed. A module loaded
   * after the cancel starts no build. */
  char cache[4096], slow_cc[4200], started[4200];
  fresh_cache(cache, sizeof(cache), "tiers-cancel");
  snprintf(slow_cc, sizeof(slow_cc), "%s/slow-cc", cache);
  snprintf(started, sizeof(started), "%s/started", cache);
  write_slow_cc(slow_cc, started, "60");
  struct wudf_engine* engine = tier_engine(cache, slow_cc, NULL);
  struct wudf_module* module = load_module(engine, "tiers");
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_FAST);
  /* Wait (bounded) until the slow compiler runs, so the cancel kills it. */
  struct stat info;
  for (int i = 0; i < 3000 && stat(started, &info) != 0; i++) usleep(10000);
  ASSERT_EQ(stat(started, &info), 0);
  struct timespec before, after;
  clock_gettime(CLOCK_MONOTONIC, &before);
  wudf_engine_cancel_builds(engine);
  ASSERT_EQ(wudf_module_wait_tier(module, OPTIMIZED_WAIT_SECONDS * 1000), WUDF_TIER_FAST);
  clock_gettime(CLOCK_MONOTONIC, &after);
  /* Far less than the compiler's minute (a loose bound: correctness, not speed). */
  ASSERT(after.tv_sec - before.tv_sec < 45);
  check_results(module);
  struct wudf_module* later = load_module(engine, "traps");
  ASSERT_EQ(wudf_module_wait_tier(later, 1), WUDF_TIER_FAST);
  struct wudf_engine_stats stats = {.struct_size = sizeof(stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.optimized_ready, 0);
  ASSERT_EQ(stats.optimized_failures, 0);
  wudf_module_free(later);
  wudf_module_free(module);
  wudf_engine_cancel_builds(NULL);
  wudf_engine_free(engine);
}

TEST(on_by_default_and_the_environment_turns_it_off) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  ASSERT_EQ(config.fast_tier, 1);
  setenv("WASMUDF_FAST_TIER", "0", 1);
  wudf_engine_config_init(&config);
  ASSERT_EQ(config.fast_tier, 0);
  setenv("WASMUDF_FAST_TIER", "1", 1);
  wudf_engine_config_init(&config);
  ASSERT_EQ(config.fast_tier, 1);
  unsetenv("WASMUDF_FAST_TIER");
  /* Off: the load compiles with cc -O2 before it returns. */
  char cache[4096];
  fresh_cache(cache, sizeof(cache), "tiers-off");
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  config.fast_tier = 0;
  struct wudf_engine* engine = new_engine_with(&config);
  struct wudf_module* module = load_module(engine, "tiers");
  ASSERT_EQ(wudf_module_tier(module), WUDF_TIER_OPTIMIZED);
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.fast_compiles, 0);
  ASSERT_EQ(stats.compiles, 1);
  wudf_module_free(module);
  wudf_engine_free(engine);
}

int main(void) {
  unsetenv("WASMUDF_FAST_TIER");
  RUN_TEST(fast_tier_then_optimized);
  RUN_TEST(freeing_the_module_does_not_wait);
  RUN_TEST(failed_optimized_build_keeps_fast_code_and_manifests_guard_it);
  RUN_TEST(missing_fast_compiler_falls_back_to_cc_at_O0);
  RUN_TEST(failing_fast_compiler_falls_back_to_the_optimized_compile);
  RUN_TEST(a_forked_child_frees_the_engine_without_the_build);
  RUN_TEST(background_builds_take_turns);
  RUN_TEST(cancelled_builds_stop_and_the_module_keeps_its_fast_code);
  RUN_TEST(on_by_default_and_the_environment_turns_it_off);
  return TEST_SUMMARY();
}
