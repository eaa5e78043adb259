/*
 * test_cache_trust.c -- nothing from the compile cache is loaded before it is
 * verified: every entry has a manifest with the object's SHA-256; an object
 * replaced by one whose constructor would leave a marker file (or made
 * writable by others, or swapped for a symbolic link) is never dlopen()ed
 * but compiled again; cache directories that are writable by group or
 * others, or belong to another user, are refused with an error naming the
 * directory, its mode and owner; work directories and lock files left by
 * dead processes are removed while those of a live one stay; a lock held by
 * a stuck process makes a load fail after lock_timeout_ms, naming the lock
 * and the process; a cache on a noexec mount is refused (before compiling,
 * and when an existing entry cannot be mapped); entries compiled under umask
 * 002 are still trusted; and modules of one key share one loaded object.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/cache.h"
#include "engine/sha256.h"
#include "helpers.h"

static char tmp[4096];
static char traps_key[65]; /* the cache key of the "traps" module */

static double now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

static void run_command(const char* format, const char* a, const char* b) {
  char command[9000];
  snprintf(command, sizeof(command), format, a, b);
  if (system(command) != 0) TEST_FAIL("command failed: %s", command);
}

/* A new empty directory `tmp`/NAME-PID, mode 0700. */
static void fresh_directory(char* out, size_t size, const char* name) {
  snprintf(out, size, "%s/%s-%d", tmp, name, (int)getpid());
  run_command("rm -rf '%s' && mkdir -m 0700 -p '%s'", out, out);
}

static int exists(const char* path) {
  struct stat info;
  return lstat(path, &info) == 0;
}

static struct wudf_engine* engine_for(const char* cache, uint64_t lock_timeout_ms) {
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  if (lock_timeout_ms != 0) config.lock_timeout_ms = lock_timeout_ms;
  return new_engine_with(&config);
}

/* Loads "traps" with a cache in `cache`, checks it works and returns the
 * engine's compile count. */
static uint64_t load_traps_in(const char* cache) {
  struct wudf_engine* engine = engine_for(cache, 0);
  struct wudf_module* module = load_module(engine, "traps");
  struct wudf_instance* instance = new_instance(module);
  struct wudf_value args[2] = {i32_value(40), i32_value(2)};
  ASSERT_EQ(call_i32(instance, "add", args, 2), 42);
  wudf_instance_free(instance);
  wudf_module_free(module);
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  wudf_engine_free(engine);
  return stats.compiles;
}

/* Expects loading "traps" with a cache in `cache` to fail with `code`; the
 * message must contain `needle`. */
static void expect_load_refused(const char* cache, int code, const char* needle) {
  struct wudf_engine* engine = engine_for(cache, 0);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  ASSERT_STATUS(wudf_module_load_file(engine, module_path("traps"), &module, &error),
                code, &error);
  ASSERT_CONTAINS(error.message, needle);
  printf("  %s\n", error.message);
  wudf_engine_free(engine);
}

/* The path of file KEY.`suffix` of entry `key` in `cache`. */
static void entry_path(char* out, size_t size, const char* cache, const char* key,
                       const char* suffix) {
  snprintf(out, size, "%s/v1/%.2s/%s%s", cache, key, key, suffix);
}

static void hash_file(const char* path, char hex[65]) {
  size_t size;
  unsigned char* bytes = read_whole_file(path, &size);
  struct wudf__sha256 hash;
  wudf__sha256_init(&hash);
  wudf__sha256_update(&hash, bytes, size);
  wudf__sha256_hex(&hash, hex);
  free(bytes);
}

TEST(every_entry_has_a_manifest) {
  char cache[4200];
  fresh_directory(cache, sizeof(cache), "trust-manifest");
  ASSERT_EQ(load_traps_in(cache), 1);
  /* The key: the name of the only compiled object. */
  char directory[4300];
  snprintf(directory, sizeof(directory), "%s/v1", cache);
  DIR* versions = opendir(directory);
  ASSERT(versions != NULL);
  struct dirent* entry;
  while ((entry = readdir(versions)) != NULL) {
    if (strlen(entry->d_name) != 2) continue;
    char sub[4600];
    snprintf(sub, sizeof(sub), "%s/%.2s", directory, entry->d_name);
    DIR* objects = opendir(sub);
    struct dirent* object;
    while (objects != NULL && (object = readdir(objects)) != NULL) {
      size_t length = strlen(object->d_name);
      if (length == 67 && strcmp(object->d_name + 64, ".so") == 0) {
        memcpy(traps_key, object->d_name, 64);
        traps_key[64] = '\0';
      }
    }
    if (objects != NULL) closedir(objects);
  }
  closedir(versions);
  ASSERT_EQ(strlen(traps_key), 64);

  char so[4400], manifest[4400], hex[65], expected[512];
  entry_path(so, sizeof(so), cache, traps_key, ".so");
  entry_path(manifest, sizeof(manifest), cache, traps_key, ".manifest");
  hash_file(so, hex);
  struct stat info;
  ASSERT_EQ(stat(so, &info), 0);
  snprintf(expected, sizeof(expected),
           "wasmudf compiled module 1\nkey %s\nsize %lld\nsha256 %s\n", traps_key,
           (long long)info.st_size, hex);
  size_t size;
  char* text = (char*)read_whole_file(manifest, &size);
  int same = size == strlen(expected) && memcmp(text, expected, size) == 0;
  free(text);
  ASSERT(same);
  /* No lock file or work directory is left behind. */
  char lock[4400];
  entry_path(lock, sizeof(lock), cache, traps_key, ".lock");
  ASSERT(!exists(lock));
  snprintf(directory, sizeof(directory), "%s/v1/tmp", cache);
  DIR* work = opendir(directory);
  ASSERT(work != NULL);
  int left = 0;
  while ((entry = readdir(work)) != NULL) left += entry->d_name[0] != '.';
  closedir(work);
  ASSERT_EQ(left, 0);
}

/* Builds a shared object whose constructor creates `marker`. */
static void build_marker_object(const char* directory, const char* marker, char* out,
                                size_t size) {
  char source[4400];
  snprintf(source, sizeof(source), "%s/evil.c", directory);
  snprintf(out, size, "%s/evil.so", directory);
  FILE* file = fopen(source, "w");
  ASSERT(file != NULL);
  fprintf(file,
          "#include <stdio.h>\n"
          "__attribute__((constructor)) static void evil(void) {\n"
          "  FILE* f = fopen(\"%s\", \"w\");\n"
          "  if (f) { fputs(\"code from the cache ran\\n\", f); fclose(f); }\n"
          "}\n"
          "int wudf_glue_bind(void) { return 0; }\n",
          marker);
  fclose(file);
  run_command("cc -shared -fPIC -o '%s' '%s'", out, source);
}

TEST(tampered_objects_never_run) {
  ASSERT_EQ(strlen(traps_key), 64);
  char directory[4200], cache[4300], marker[4300], evil[4400], so[4400];
  char manifest[4400];
  fresh_directory(directory, sizeof(directory), "trust-tampered");
  snprintf(cache, sizeof(cache), "%s/cache", directory);
  snprintf(marker, sizeof(marker), "%s/marker", directory);
  build_marker_object(directory, marker, evil, sizeof(evil));
  entry_path(so, sizeof(so), cache, traps_key, ".so");
  entry_path(manifest, sizeof(manifest), cache, traps_key, ".manifest");
  ASSERT_EQ(load_traps_in(cache), 1);

  /* 1. The object replaced, its manifest kept: the hash differs. */
  run_command("cp '%s' '%s'", evil, so);
  ASSERT_EQ(load_traps_in(cache), 1);
  ASSERT(!exists(marker));

  /* 2. The object replaced, its manifest removed. */
  run_command("cp '%s' '%s'", evil, so);
  run_command("rm '%s'%s", manifest, "");
  ASSERT_EQ(load_traps_in(cache), 1);
  ASSERT(!exists(marker));

  /* 3. A genuine object that group and others may write: not trusted. */
  ASSERT_EQ(chmod(so, 0666), 0);
  ASSERT_EQ(load_traps_in(cache), 1);
  struct stat info;
  ASSERT_EQ(stat(so, &info), 0);
  ASSERT_EQ(info.st_mode & 0022, 0);

  /* 4. A symbolic link to the object, manifest intact. */
  char genuine[4400];
  snprintf(genuine, sizeof(genuine), "%s/genuine.so", directory);
  run_command("cp '%s' '%s'", so, genuine);
  ASSERT_EQ(unlink(so), 0);
  ASSERT_EQ(symlink(genuine, so), 0);
  ASSERT_EQ(load_traps_in(cache), 1);
  ASSERT_EQ(lstat(so, &info), 0);
  ASSERT(S_ISREG(info.st_mode));

  /* The untouched entry is a cache hit. */
  ASSERT_EQ(load_traps_in(cache), 0);
  ASSERT(!exists(marker));
  /* The marker object does write its marker when loaded (the test would
   * prove nothing otherwise): in a child, to keep its code out of here. */
  pid_t child = fork();
  ASSERT(child >= 0);
  if (child == 0) _exit(dlopen(evil, RTLD_NOW) != NULL ? 0 : 1);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT(exists(marker));
}

TEST(writable_cache_directories_are_refused) {
  char directory[4200], cache[4300], version[4400], expected[4600];
  fresh_directory(directory, sizeof(directory), "trust-writable");
  snprintf(cache, sizeof(cache), "%s/cache", directory);
  ASSERT_EQ(mkdir(cache, 0700), 0);
  ASSERT_EQ(chmod(cache, 0770), 0);
  snprintf(expected, sizeof(expected),
           "the cache directory %s (mode 0770, owner uid %u) is writable by its group",
           cache, (unsigned)geteuid());
  expect_load_refused(cache, EACCES, expected);

  ASSERT_EQ(chmod(cache, 0700), 0);
  ASSERT_EQ(load_traps_in(cache), 1);
  /* A directory below, writable by others. */
  snprintf(version, sizeof(version), "%s/v1", cache);
  ASSERT_EQ(chmod(version, 0703), 0);
  snprintf(expected, sizeof(expected),
           "the cache directory %s (mode 0703, owner uid %u) is writable by others",
           version, (unsigned)geteuid());
  expect_load_refused(cache, EACCES, expected);
  ASSERT_EQ(chmod(version, 0700), 0);
  ASSERT_EQ(load_traps_in(cache), 0);
}

TEST(cache_of_another_user_is_refused) {
  char directory[4200], cache[4300], expected[4600];
  fresh_directory(directory, sizeof(directory), "trust-owner");
  snprintf(cache, sizeof(cache), "%s/cache", directory);
  uid_t other = 65534; /* nobody */
  if (geteuid() == 0) {
    ASSERT_EQ(mkdir(cache, 0700), 0);
    ASSERT_EQ(chown(cache, other, other), 0);
  } else {
    snprintf(cache, sizeof(cache), "/"); /* root's */
    other = 0;
  }
  snprintf(expected, sizeof(expected),
           "the cache directory %s belongs to uid %u, not to the current user (uid %u)",
           cache, (unsigned)other, (unsigned)geteuid());
  expect_load_refused(cache, EACCES, expected);
}

/* Creates directory `path` (0700) with one file in it. */
static void make_work_directory(const char* path) {
  ASSERT_EQ(mkdir(path, 0700), 0);
  char file[4500];
  snprintf(file, sizeof(file), "%s/module.c", path);
  FILE* out = fopen(file, "w");
  ASSERT(out != NULL);
  fputs("/* left by a process that died */\n", out);
  fclose(out);
}

/* A key of 64 copies of `digit`. */
static void fake_key(char key[65], char digit) {
  memset(key, digit, 64);
  key[64] = '\0';
}

TEST(stale_work_directories_and_locks_are_removed) {
  ASSERT_EQ(strlen(traps_key), 64);
  char cache[4200], path[4500];
  fresh_directory(cache, sizeof(cache), "trust-stale");
  char dead[65], unlocked[65], alive[65], neighbour[65];
  fake_key(dead, '0');
  fake_key(unlocked, '1');
  fake_key(alive, '2');
  memcpy(neighbour, traps_key, 2); /* in the same directory as traps */
  memset(neighbour + 2, '3', 62);
  neighbour[64] = '\0';
  snprintf(path, sizeof(path), "%s/v1", cache);
  ASSERT_EQ(mkdir(path, 0700), 0);
  snprintf(path, sizeof(path), "%s/v1/tmp", cache);
  ASSERT_EQ(mkdir(path, 0700), 0);
  snprintf(path, sizeof(path), "%s/v1/11", cache);
  ASSERT_EQ(mkdir(path, 0700), 0);
  snprintf(path, sizeof(path), "%s/v1/22", cache);
  ASSERT_EQ(mkdir(path, 0700), 0);
  snprintf(path, sizeof(path), "%s/v1/%.2s", cache, traps_key);
  ASSERT_EQ(mkdir(path, 0700), 0);

  char dead_work[4500], unlocked_work[4500], alive_work[4500], own_work[4500];
  char old_work[4500], recent_work[4500];
  snprintf(dead_work, sizeof(dead_work), "%s/v1/tmp/%s.Ab3xYz", cache, dead);
  snprintf(unlocked_work, sizeof(unlocked_work), "%s/v1/tmp/%s.Qw8rTy", cache, unlocked);
  snprintf(alive_work, sizeof(alive_work), "%s/v1/tmp/%s.Zx5cVb", cache, alive);
  snprintf(own_work, sizeof(own_work), "%s/v1/tmp/%s.Mn2bVc", cache, traps_key);
  snprintf(old_work, sizeof(old_work), "%s/v1/tmp/0123456789abcdef.Kl9jHg", cache);
  snprintf(recent_work, sizeof(recent_work), "%s/v1/tmp/fedcba9876543210.Po7iUy", cache);
  make_work_directory(dead_work);      /* its key's directory does not exist */
  make_work_directory(unlocked_work);  /* its lock file exists, not locked */
  make_work_directory(alive_work);     /* its lock is held by a live process */
  make_work_directory(own_work);       /* of the key being compiled */
  make_work_directory(old_work);       /* the old naming, two days old */
  make_work_directory(recent_work);     /* the old naming, just made */
  struct timespec times[2] = {{time(NULL) - 2 * 86400, 0}, {time(NULL) - 2 * 86400, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, old_work, times, 0), 0);

  char unlocked_lock[4500], alive_lock[4500], neighbour_lock[4500];
  entry_path(unlocked_lock, sizeof(unlocked_lock), cache, unlocked, ".lock");
  entry_path(alive_lock, sizeof(alive_lock), cache, alive, ".lock");
  entry_path(neighbour_lock, sizeof(neighbour_lock), cache, neighbour, ".lock");
  close(open(unlocked_lock, O_CREAT | O_WRONLY, 0600));
  close(open(neighbour_lock, O_CREAT | O_WRONLY, 0600));

  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t holder = fork();
  ASSERT(holder >= 0);
  if (holder == 0) {
    int fd;
    if (wudf__cache_lock(alive_lock, 0, &fd, NULL) != 0) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    for (;;) pause();
  }
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);

  ASSERT_EQ(load_traps_in(cache), 1);
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  close(ready[0]);
  close(ready[1]);

  ASSERT(!exists(dead_work));
  ASSERT(!exists(unlocked_work));
  ASSERT(!exists(unlocked_lock));
  ASSERT(!exists(own_work));
  ASSERT(!exists(old_work));
  ASSERT(!exists(neighbour_lock));
  ASSERT(exists(alive_work));    /* someone is compiling it */
  ASSERT(exists(alive_lock));
  ASSERT(exists(recent_work));   /* unknown and recent: left alone */
}

TEST(lock_held_by_a_stuck_process_times_out) {
  ASSERT_EQ(strlen(traps_key), 64);
  char cache[4200], lock[4500];
  fresh_directory(cache, sizeof(cache), "trust-lock");
  run_command("mkdir -m 0700 -p '%s/v1/%.2s'", cache, traps_key);
  entry_path(lock, sizeof(lock), cache, traps_key, ".lock");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t stuck = fork();
  ASSERT(stuck >= 0);
  if (stuck == 0) {
    int fd;
    if (wudf__cache_lock(lock, 0, &fd, NULL) != 0) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    for (;;) pause(); /* holds the lock and never finishes */
  }
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);

  struct wudf_engine* engine = engine_for(cache, 300);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  double start = now_ms();
  int status = wudf_module_load_file(engine, module_path("traps"), &module, &error);
  double elapsed = now_ms() - start;
  kill(stuck, SIGKILL);
  waitpid(stuck, NULL, 0);
  close(ready[0]);
  close(ready[1]);
  ASSERT_STATUS(status, ETIMEDOUT, &error);
  char expected[4700];
  snprintf(expected, sizeof(expected),
           "waiting for the cache lock %s, held by process %d", lock, (int)stuck);
  ASSERT_CONTAINS(error.message, expected);
  ASSERT_CONTAINS(error.message, "timed out after 3");
  printf("  %s (%.0f ms)\n", error.message, elapsed);
  ASSERT(elapsed >= 300.0);
  /* Bounded, not timed: a loaded machine may take a while to wake us. */
  ASSERT(elapsed <= 300.0 + timing_slack_ms() + 3000.0);

  /* With the stuck process gone, the same engine compiles it. */
  module = load_module(engine, "traps");
  wudf_module_free(module);
  wudf_engine_free(engine);
}

/* In a child with a mount namespace of its own: a cache on a noexec tmpfs is
 * refused before anything is compiled, and an entry that was compiled on an
 * executable mount, since remounted noexec, is refused when it cannot be
 * mapped. Exits 77 when the mounts cannot be made (not root). */
static void noexec_scenario(const char* directory) {
  if (unshare(CLONE_NEWNS) != 0 ||
      mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("tmpfs", directory, "tmpfs", MS_NOEXEC, "size=64m,mode=0700") != 0) {
    _exit(77);
  }
  char cache[4300], expected[4600];
  snprintf(cache, sizeof(cache), "%s/cache", directory);
  snprintf(expected, sizeof(expected),
           "the cache directory %s is on a file system mounted noexec", cache);
  struct wudf_engine* engine = engine_for(cache, 0);
  struct wudf_error error;
  struct wudf_module* module = NULL;
  if (wudf_module_load_file(engine, module_path("traps"), &module, &error) != EACCES ||
      strstr(error.message, expected) == NULL) {
    fprintf(stderr, "noexec before compiling: %s\n", error.message);
    _exit(1);
  }
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  if (stats.compiles != 0) _exit(2);
  printf("  %s\n", error.message);
  fflush(stdout);
  wudf_engine_free(engine);

  if (mount("tmpfs", directory, "tmpfs", MS_REMOUNT, "size=64m,mode=0700") != 0) {
    _exit(77);
  }
  if (load_traps_in(cache) != 1) _exit(3);
  if (mount("tmpfs", directory, "tmpfs", MS_REMOUNT | MS_NOEXEC, "size=64m,mode=0700") != 0) {
    _exit(77);
  }
  engine = engine_for(cache, 0);
  if (wudf_module_load_file(engine, module_path("traps"), &module, &error) != EACCES ||
      strstr(error.message, expected) == NULL) {
    fprintf(stderr, "noexec at dlopen: %s\n", error.message);
    _exit(4);
  }
  wudf_engine_free(engine);
  _exit(0);
}

TEST(noexec_cache_is_refused) {
  char directory[4200];
  fresh_directory(directory, sizeof(directory), "trust-noexec");
  fflush(stdout);
  pid_t child = fork();
  ASSERT(child >= 0);
  if (child == 0) {
    if (setjmp(test__escape) == 0) noexec_scenario(directory);
    _exit(5); /* an assertion failed */
  }
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    printf("  skipped: cannot mount a noexec tmpfs here (needs CAP_SYS_ADMIN)\n");
    return;
  }
  ASSERT_EQ(WEXITSTATUS(status), 0);
}

TEST(entries_made_under_a_permissive_umask_are_trusted) {
  /* The compiler honours the umask: 002 would make objects group-writable,
   * which loads refuse to trust. */
  char cache[4200];
  fresh_directory(cache, sizeof(cache), "trust-umask");
  mode_t saved = umask(002);
  uint64_t first = load_traps_in(cache);
  uint64_t second = load_traps_in(cache);
  umask(saved);
  ASSERT_EQ(first, 1);
  ASSERT_EQ(second, 0);
}

TEST(modules_of_one_key_share_the_loaded_object) {
  char cache[4200];
  fresh_directory(cache, sizeof(cache), "trust-shared");
  struct wudf_engine* engine = engine_for(cache, 0);
  struct wudf_module* first = load_module(engine, "traps");
  /* The cache is gone: the second module comes from the first's object. */
  run_command("rm -rf '%s/v1'%s", cache, "");
  struct wudf_module* second = load_module(engine, "traps");
  struct wudf_engine_stats stats = {.struct_size = sizeof(struct wudf_engine_stats)};
  wudf_engine_stats(engine, &stats);
  ASSERT_EQ(stats.compiles, 1);
  ASSERT_EQ(stats.cache_hits, 1);
  wudf_module_free(first);
  struct wudf_instance* instance = new_instance(second);
  struct wudf_value args[2] = {i32_value(1), i32_value(2)};
  ASSERT_EQ(call_i32(instance, "add", args, 2), 3);
  wudf_instance_free(instance);
  wudf_module_free(second);
  wudf_engine_free(engine);
}

int main(void) {
  snprintf(tmp, sizeof(tmp), "%s", getenv("WUDF_TEST_TMP") ? getenv("WUDF_TEST_TMP") : "/tmp");
  RUN_TEST(every_entry_has_a_manifest);
  RUN_TEST(tampered_objects_never_run);
  RUN_TEST(writable_cache_directories_are_refused);
  RUN_TEST(cache_of_another_user_is_refused);
  RUN_TEST(stale_work_directories_and_locks_are_removed);
  RUN_TEST(lock_held_by_a_stuck_process_times_out);
  RUN_TEST(noexec_cache_is_refused);
  RUN_TEST(entries_made_under_a_permissive_umask_are_trusted);
  RUN_TEST(modules_of_one_key_share_the_loaded_object);
  return TEST_SUMMARY();
}
