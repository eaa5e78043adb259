/*
 * process.c -- runs wasm2c and the C compiler as child processes, each in a
 * process group of its own under rlimits and a deadline (see process.h), and
 * identifies them for the cache key.
 *
 * The child is made with fork (_Fork where the C library has it, which
 * skips the host's atfork handlers) rather than posix_spawn, because
 * posix_spawn cannot set rlimits; between fork and exec the child calls
 * only async-signal-safe functions. Every process the tool starts inherits
 * the group and the rlimits, so killpg reaches a hung cc1 below the cc
 * driver as well.
 */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* Finds `name` as execvp would: as it is when it contains a slash, else the
 * first executable regular file of that name in PATH. 0 or ENOENT. */
static int wudf__find_program(const char* name, char* out, size_t capacity) {
  struct stat info;
  if (strchr(name, '/') != NULL) {
    if (strlen(name) >= capacity || access(name, X_OK) != 0 || stat(name, &info) != 0 ||
        !S_ISREG(info.st_mode)) {
      return ENOENT;
    }
    snprintf(out, capacity, "%s", name);
    return 0;
  }
  const char* search = getenv("PATH");
  if (search == NULL) search = "/usr/local/bin:/usr/bin:/bin";
  while (*search != '\0') {
    const char* end = strchr(search, ':');
    size_t length = end ? (size_t)(end - search) : strlen(search);
    if (length > 0 && length + strlen(name) + 2 <= capacity) {
      snprintf(out, capacity, "%.*s/%s", (int)length, search, name);
      if (access(out, X_OK) == 0 && stat(out, &info) == 0 && S_ISREG(info.st_mode)) {
        return 0;
      }
    }
    search += length;
    if (*search == ':') search++;
  }
  return ENOENT;
}

/* Sets a soft and hard rlimit of the calling process; 0 leaves it. A hard
 * limit already lower stays (raising it is not allowed). Async-signal-safe:
 * runs in the child between fork and exec. */
static void wudf__limit(int resource, uint64_t value) {
  if (value == 0) return;
  struct rlimit current;
  if (getrlimit(resource, &current) != 0) return;
  rlim_t wanted = value > (uint64_t)RLIM_INFINITY - 1 ? RLIM_INFINITY - 1 : (rlim_t)value;
  if (current.rlim_max != RLIM_INFINITY && current.rlim_max < wanted) {
    wanted = current.rlim_max;
  }
  struct rlimit limit = {wanted, current.rlim_max};
  if (resource == RLIMIT_CPU && (current.rlim_max == RLIM_INFINITY ||
                                 current.rlim_max > wanted + 1)) {
    /* SIGXCPU at the soft limit, SIGKILL a second later. */
    limit.rlim_max = wanted + 1;
  } else if (current.rlim_max == RLIM_INFINITY || current.rlim_max > wanted) {
    limit.rlim_max = wanted;
  }
  setrlimit(resource, &limit);
}

/* The child's side of wudf__process_run, between fork and exec: only
 * async-signal-safe calls. Never returns. */
__attribute__((noreturn)) static void wudf__child(const char* path, char* const argv[],
                                                  int input, int output,
                                                  const struct wudf__process_limits* limits) {
  struct sigaction default_action;
  memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  for (int signal_number = 1; signal_number < NSIG; signal_number++) {
    sigaction(signal_number, &default_action, NULL); /* fails harmlessly for some */
  }
  setpgid(0, 0);
  if (dup2(input, 0) < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0) _exit(126);
#ifdef SYS_close_range
  syscall(SYS_close_range, 3u, ~0u, 0u);
#endif
  wudf__limit(RLIMIT_CPU, limits->cpu_seconds);
  wudf__limit(RLIMIT_AS, limits->memory_bytes);
  wudf__limit(RLIMIT_DATA, limits->memory_bytes);
  wudf__limit(RLIMIT_FSIZE, limits->file_bytes);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, NULL);
  execve(path, argv, environ);
  _exit(127);
}

/* fork without the process's atfork handlers where the C library has it:
 * the child only calls exec, and handlers an embedding host or another
 * library installed have no business running for it. */
static pid_t wudf__fork(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  return _Fork();
#else
  return fork();
#endif
}

/* Nonzero once `deadline` (CLOCK_MONOTONIC) has passed. */
static int wudf__passed(const struct timespec* deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > deadline->tv_sec ||
         (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Appends to `text` which of `limits` probably ended a tool that failed
 * with `output`, or was killed by `signal_number` (0: it exited). */
static void wudf__limit_hint(const struct wudf__process_limits* limits, int signal_number,
                             const char* output, char* text, size_t size) {
  text[0] = '\0';
  if (limits->memory_bytes != 0 &&
      (signal_number == SIGABRT || signal_number == SIGSEGV || signal_number == SIGBUS ||
       signal_number == SIGKILL || strstr(output, "memory") != NULL ||
       strstr(output, "alloc") != NULL)) {
    snprintf(text, size, " (it ran under compile_memory_limit, %llu bytes of address "
             "space per process)", (unsigned long long)limits->memory_bytes);
  } else if (limits->cpu_seconds != 0 && strstr(output, "CPU time") != NULL) {
    snprintf(text, size, " (a process passed compile_cpu_seconds, %llu s of CPU time)",
             (unsigned long long)limits->cpu_seconds);
  } else if (limits->file_bytes != 0 && strstr(output, "File size") != NULL) {
    snprintf(text, size, " (a process passed compile_file_limit, files of %llu bytes)",
             (unsigned long long)limits->file_bytes);
  }
}

int wudf__process_run(char* const argv[], const char* log_path,
                      const struct wudf__process_limits* limits, int* tool_failed,
                      struct wudf_error* error) {
  *tool_failed = 0;
  char path[4096];
  if (wudf__find_program(argv[0], path, sizeof(path)) != 0) {
    return wudf__set_error(error, ENOENT, "cannot run %s: not found", argv[0]);
  }
  int output = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (output < 0) {
    return wudf__set_error(error, EIO, "cannot create %s: %s", log_path, strerror(errno));
  }
  int input = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (input < 0) {
    close(output);
    return wudf__set_error(error, EIO, "cannot open /dev/null: %s", strerror(errno));
  }
  /* No signal handler of the host may run in the child before it resets
   * them: block everything across the fork. */
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t child = wudf__fork();
  if (child == 0) wudf__child(path, argv, input, output, limits);
  int fork_error = errno;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  close(input);
  close(output);
  if (child < 0) {
    return wudf__set_error(error, EIO, "cannot start %s: %s", argv[0], strerror(fork_error));
  }
  setpgid(child, child); /* as the child does: whichever runs first */

  /* Poll with a growing interval: tools take from milliseconds to minutes.
   * WNOWAIT leaves the child a zombie, so its process group id cannot be
   * reused before the group is killed. */
  long interval_us = 500;
  int timed_out = 0, cancelled = 0;
  for (;;) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int waited = waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG | WNOWAIT);
    if (waited == 0 && info.si_pid == child) break;
    if (waited < 0 && errno != EINTR) {
      int saved_errno = errno;
      killpg(child, SIGKILL);
      while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
      }
      return wudf__set_error(error, EIO, "cannot wait for %s: %s", argv[0],
                             strerror(saved_errno));
    }
    if (limits->has_deadline && wudf__passed(&limits->deadline)) {
      timed_out = 1;
      break;
    }
    if (limits->cancel != NULL && atomic_load(limits->cancel)) {
      cancelled = 1;
      break;
    }
    usleep((useconds_t)interval_us);
    if (interval_us < 20000) interval_us *= 2;
  }
  /* Nothing the tool started outlives it. */
  killpg(child, SIGKILL);
  int wait_status = 0;
  while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (cancelled) {
    return wudf__set_error(error, ECANCELED, "%s was stopped: the engine's background builds "
                           "were cancelled (wudf_engine_cancel_builds)", argv[0]);
  }
  if (timed_out) {
    *tool_failed = 1;
    return wudf__set_error(error, EIO, "%s did not finish within the compile timeout of "
                           "%llu ms (compile_timeout_ms); its process group was killed",
                           argv[0], (unsigned long long)limits->timeout_ms);
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return 0;

  *tool_failed = 1;
  char text[700], hint[160];
  wudf__read_head(log_path, text, sizeof(text));
  if (WIFSIGNALED(wait_status)) {
    int signal_number = WTERMSIG(wait_status);
    if (signal_number == SIGXCPU) {
      return wudf__set_error(error, EIO, "%s passed its CPU time limit of %llu s "
                             "(compile_cpu_seconds) and was killed", argv[0],
                             (unsigned long long)limits->cpu_seconds);
    }
    if (signal_number == SIGXFSZ) {
      return wudf__set_error(error, EIO, "%s passed the file size limit of %llu bytes "
                             "(compile_file_limit) and was killed", argv[0],
                             (unsigned long long)limits->file_bytes);
    }
    wudf__limit_hint(limits, signal_number, text, hint, sizeof(hint));
    return wudf__set_error(error, EIO, "%s was killed by signal %d (%s)%s: %s", argv[0],
                           signal_number, strsignal(signal_number), hint, text);
  }
  wudf__limit_hint(limits, 0, text, hint, sizeof(hint));
  return wudf__set_error(error, EIO, "%s failed with exit status %d%s: %s", argv[0],
                         WEXITSTATUS(wait_status), hint, text);
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
