/*
 * failures.c -- the memory of failed compiles (see engine.h).
 *
 * A module whose compile fails or passes a compile limit would fail the same
 * way on every load, each time paying the whole timeout again (wasm2c's time
 * grows about quadratically with the number of functions: a module of
 * 100,000 trivial functions keeps it busy for ten minutes). So the failure
 * is remembered under the module's cache key, which already names the
 * module bytes, the tools and the flags, together with the compile limits
 * it ran under and its message: in the engine (for this process) and as a
 * small text file CACHE/v1/XX/KEY.failed (for every process sharing the
 * cache). A later load of the same key is refused at once with the original
 * message -- unless one of its limits is more generous than those recorded,
 * in which case it is compiled again. wudf_engine_forget_failures forgets
 * them all; a successful compile forgets its key.
 *
 * The marker is data, never code: it is parsed strictly, and anything that
 * does not parse is ignored.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

#define WUDF__FAILURE_MAGIC "wasmudf compile failure 1"

/* One remembered failure. */
struct wudf__failure {
  struct wudf__failure* next;
  char key[65];
  int code;
  struct wudf__compile_limits limits;
  char message[sizeof(((struct wudf_error*)0)->message)];
};

void wudf__compile_limits_of(const struct wudf_engine* engine,
                             struct wudf__compile_limits* limits) {
  limits->timeout_ms = engine->config.compile_timeout_ms;
  limits->cpu_seconds = engine->config.compile_cpu_seconds;
  limits->memory_bytes = engine->config.compile_memory_limit;
  limits->file_bytes = engine->config.compile_file_limit;
}

/* Nonzero when limit `now` allows more than `then` (0 is no limit). */
static int wudf__more_generous(uint64_t now, uint64_t then) {
  return then != 0 && (now == 0 || now > then);
}

/* Nonzero when a compile under `now` could end otherwise than one under
 * `then` did: some limit is more generous. */
static int wudf__worth_retrying(const struct wudf__compile_limits* now,
                                const struct wudf__compile_limits* then) {
  return wudf__more_generous(now->timeout_ms, then->timeout_ms) ||
         wudf__more_generous(now->cpu_seconds, then->cpu_seconds) ||
         wudf__more_generous(now->memory_bytes, then->memory_bytes) ||
         wudf__more_generous(now->file_bytes, then->file_bytes);
}

/* The refusal of a remembered failure. */
static int wudf__refuse(struct wudf_engine* engine, const struct wudf__failure* failure,
                        const char* where, struct wudf_error* error) {
  atomic_fetch_add(&engine->failures_remembered, 1);
  return wudf__set_error(error, failure->code, "compile refused at once: this module "
                         "failed to compile before, under compile limits at least as "
                         "generous as these (%s; wudf_engine_forget_failures forgets it): "
                         "%s", where, failure->message);
}

/* Reads the marker at `path` into `*failure`: 0, or -1 when it is absent or
 * does not parse. */
static int wudf__read_marker(const char* path, struct wudf__failure* failure) {
  FILE* file = fopen(path, "re");
  if (file == NULL) return -1;
  char line[sizeof(failure->message) + 16];
  int good = fgets(line, sizeof(line), file) != NULL &&
             strcmp(line, WUDF__FAILURE_MAGIC "\n") == 0;
  unsigned long long values[5];
  static const char* const names[5] = {"code", "compile_timeout_ms", "compile_cpu_seconds",
                                        "compile_memory_limit", "compile_file_limit"};
  for (int i = 0; good && i < 5; i++) {
    char format[64];
    snprintf(format, sizeof(format), "%s %%llu\n", names[i]);
    good = fgets(line, sizeof(line), file) != NULL && sscanf(line, format, &values[i]) == 1;
  }
  good = good && fgets(line, sizeof(line), file) != NULL &&
         strncmp(line, "message ", 8) == 0 && values[0] > 0 && values[0] < 4096;
  fclose(file);
  if (!good) return -1;
  size_t length = strcspn(line + 8, "\n");
  memcpy(failure->message, line + 8, length);
  failure->message[length] = '\0';
  failure->code = (int)values[0];
  failure->limits.timeout_ms = values[1];
  failure->limits.cpu_seconds = values[2];
  failure->limits.memory_bytes = values[3];
  failure->limits.file_bytes = values[4];
  return 0;
}

int wudf__failure_check(struct wudf_engine* engine, const char* key, const char* marker,
                        struct wudf_error* error) {
  struct wudf__compile_limits now;
  wudf__compile_limits_of(engine, &now);
  int status = 0;
  pthread_mutex_lock(&engine->failures_lock);
  for (struct wudf__failure* f = engine->failures; f != NULL; f = f->next) {
    if (strcmp(f->key, key) == 0 && !wudf__worth_retrying(&now, &f->limits)) {
      status = wudf__refuse(engine, f, "remembered by this engine", error);
      break;
    }
  }
  pthread_mutex_unlock(&engine->failures_lock);
  if (status != 0) return status;
  struct wudf__failure* read = wudf__malloc(sizeof(*read));
  if (read == NULL) return 0; /* then it is compiled again */
  if (wudf__read_marker(marker, read) == 0 && !wudf__worth_retrying(&now, &read->limits)) {
    char where[WUDF__PATH_MAX + 32];
    snprintf(where, sizeof(where), "recorded in %s", marker);
    status = wudf__refuse(engine, read, where, error);
  }
  wudf__free(read);
  return status;
}

void wudf__failure_remember(struct wudf_engine* engine, const char* key, const char* marker,
                            int code, const char* message) {
  struct wudf__failure* failure = wudf__calloc(1, sizeof(*failure));
  if (failure == NULL) return; /* then it is compiled again next time */
  snprintf(failure->key, sizeof(failure->key), "%s", key);
  failure->code = code;
  wudf__compile_limits_of(engine, &failure->limits);
  snprintf(failure->message, sizeof(failure->message), "%s", message);
  for (char* c = failure->message; *c != '\0'; c++) {
    if (*c == '\n' || *c == '\r') *c = ' ';
  }
  /* The marker: written beside, then renamed into place. A cache that
   * cannot be written only loses the memory across processes. */
  char temporary[WUDF__PATH_MAX + 128];
  snprintf(temporary, sizeof(temporary), "%s.%ld.tmp", marker, (long)getpid());
  FILE* file = fopen(temporary, "we");
  if (file != NULL) {
    int written = fprintf(file,
                          WUDF__FAILURE_MAGIC "\ncode %d\ncompile_timeout_ms %" PRIu64
                          "\ncompile_cpu_seconds %" PRIu64 "\ncompile_memory_limit %" PRIu64
                          "\ncompile_file_limit %" PRIu64 "\nmessage %s\n",
                          code, failure->limits.timeout_ms, failure->limits.cpu_seconds,
                          failure->limits.memory_bytes, failure->limits.file_bytes,
                          failure->message) > 0;
    if (fclose(file) != 0 || !written || rename(temporary, marker) != 0) unlink(temporary);
  }
  pthread_mutex_lock(&engine->failures_lock);
  failure->next = engine->failures;
  engine->failures = failure;
  pthread_mutex_unlock(&engine->failures_lock);
}

void wudf__failure_forget(struct wudf_engine* engine, const char* key, const char* marker) {
  pthread_mutex_lock(&engine->failures_lock);
  for (struct wudf__failure** link = &engine->failures; *link != NULL;) {
    struct wudf__failure* f = *link;
    if (strcmp(f->key, key) == 0) {
      *link = f->next;
      wudf__free(f);
    } else {
      link = &f->next;
    }
  }
  pthread_mutex_unlock(&engine->failures_lock);
  unlink(marker);
}

void wudf__failures_free(struct wudf_engine* engine) {
  while (engine->failures != NULL) {
    struct wudf__failure* f = engine->failures;
    engine->failures = f->next;
    wudf__free(f);
  }
}

/* Removes every *.failed file in `directory`; 0 or an errno. */
static int wudf__remove_markers(const char* directory) {
  DIR* listing = opendir(directory);
  if (listing == NULL) return errno == ENOENT ? 0 : errno;
  int status = 0;
  struct dirent* entry;
  while ((entry = readdir(listing)) != NULL) {
    size_t length = strlen(entry->d_name);
    if (length < 8 || strcmp(entry->d_name + length - 7, ".failed") != 0) continue;
    char path[WUDF__PATH_MAX + 300];
    snprintf(path, sizeof(path), "%s/%s", directory, entry->d_name);
    if (unlink(path) != 0 && errno != ENOENT) status = errno;
  }
  closedir(listing);
  return status;
}

int wudf_engine_forget_failures(struct wudf_engine* engine, struct wudf_error* error) {
  if (engine == NULL) return wudf__set_error(error, EINVAL, "engine must not be NULL");
  pthread_mutex_lock(&engine->failures_lock);
  wudf__failures_free(engine);
  pthread_mutex_unlock(&engine->failures_lock);
  /* The markers live in CACHE/v1/XX/, XX the first two hex digits of the
   * key. */
  int status = 0;
  char directory[WUDF__PATH_MAX];
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 256; i++) {
    snprintf(directory, sizeof(directory), "%s/v1/%c%c", engine->cache_dir, hex[i >> 4],
             hex[i & 15]);
    int removed = wudf__remove_markers(directory);
    if (removed != 0) status = removed;
  }
  if (status != 0) {
    return wudf__set_error(error, EIO, "cannot remove the failure markers under %s/v1: %s",
                           engine->cache_dir, strerror(status));
  }
  return 0;
}
