/*
 * process.c -- runs wasm2c and the C compiler as child processes (see
 * process.h), and identifies them for the cache key.
 */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

/* Reads up to `capacity - 1` bytes from the start of `path` into `text`,
 * NUL-terminated, with trailing white space trimmed. */
static void wudf__read_head(const char* path, char* text, size_t capacity) {
  text[0] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t got = read(fd, text, capacity - 1);
  close(fd);
  if (got < 0) got = 0;
  text[got] = '\0';
  while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == ' ' ||
                     text[got - 1] == '\r' || text[got - 1] == '\t')) {
    text[--got] = '\0';
  }
}

int wudf__process_run(char* const argv[], const char* log_path,
                      unsigned timeout_seconds, struct wudf_error* error) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  if (posix_spawn_file_actions_init(&actions) != 0) {
    return wudf__set_error(error, ENOMEM, "cannot start %s", argv[0]);
  }
  if (posix_spawnattr_init(&attributes) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return wudf__set_error(error, ENOMEM, "cannot start %s", argv[0]);
  }
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t child;
  int status = posix_spawnp(&child, argv[0], &actions, &attributes, argv,
                            environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (status != 0) {
    return wudf__set_error(error, status == ENOENT ? ENOENT : EIO,
                           "cannot run %s: %s", argv[0], strerror(status));
  }

  /* Poll with a growing interval: tools take from milliseconds to minutes. */
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long interval_us = 500;
  int wait_status = 0;
  for (;;) {
    pid_t done = waitpid(child, &wait_status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) {
      return wudf__set_error(error, EIO, "cannot wait for %s: %s", argv[0],
                             strerror(errno));
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((unsigned long)(now.tv_sec - start.tv_sec) >= timeout_seconds) {
      kill(child, SIGKILL);
      while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
      }
      return wudf__set_error(error, EIO, "%s did not finish within %u s",
                             argv[0], timeout_seconds);
    }
    usleep((useconds_t)interval_us);
    if (interval_us < 20000) interval_us *= 2;
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return 0;

  char output[700];
  wudf__read_head(log_path, output, sizeof(output));
  if (WIFSIGNALED(wait_status)) {
    return wudf__set_error(error, EIO, "%s was killed by signal %d (%s): %s",
                           argv[0], WTERMSIG(wait_status),
                           strsignal(WTERMSIG(wait_status)), output);
  }
  return wudf__set_error(error, EIO, "%s failed with exit status %d: %s",
                         argv[0], WEXITSTATUS(wait_status), output);
}

int wudf__tool_identify(const char* name, struct wudf__tool_identity* identity) {
  memset(identity, 0, sizeof(*identity));
  char candidate[sizeof(identity->path)];
  struct stat info;
  if (strchr(name, '/') != NULL) {
    if (realpath(name, candidate) == NULL || stat(candidate, &info) != 0) {
      return ENOENT;
    }
  } else {
    const char* search = getenv("PATH");
    if (search == NULL) search = "/usr/local/bin:/usr/bin:/bin";
    int found = 0;
    while (*search != '\0' && !found) {
      const char* end = strchr(search, ':');
      size_t length = end ? (size_t)(end - search) : strlen(search);
      char joined[sizeof(candidate)];
      if (length > 0 && length + strlen(name) + 2 <= sizeof(joined)) {
        snprintf(joined, sizeof(joined), "%.*s/%s", (int)length, search, name);
        if (access(joined, X_OK) == 0 && realpath(joined, candidate) != NULL &&
            stat(candidate, &info) == 0 && S_ISREG(info.st_mode)) {
          found = 1;
        }
      }
      search += length;
      if (*search == ':') search++;
    }
    if (!found) return ENOENT;
  }
  memcpy(identity->path, candidate, sizeof(identity->path));
  identity->size = info.st_size;
  identity->modified = info.st_mtim;
  return 0;
}
