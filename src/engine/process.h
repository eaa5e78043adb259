/*
 * process.h -- running the external tools of the compile pipeline (internal).
 *
 * wasm2c and the C compiler run as child processes, each in a process group
 * of its own under rlimits, so whatever they do -- abort, crash, hang, eat
 * memory, start helpers -- the host process carries on and gets an error
 * that quotes what the tool printed and names the limit it passed.
 */
#ifndef WUDF_ENGINE_PROCESS_H
#define WUDF_ENGINE_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <time.h>

#include "../common/common.h"

/* The limits a tool runs under; 0 means none for each. */
struct wudf__process_limits {
  /* Wall clock: the moment (CLOCK_MONOTONIC) the tool's whole process
   * group is killed, and the configured timeout it comes from, for the
   * message. */
  struct timespec deadline;
  int has_deadline;
  uint64_t timeout_ms;
  uint64_t cpu_seconds;   /* RLIMIT_CPU of every process of the tool */
  uint64_t memory_bytes;  /* RLIMIT_AS and RLIMIT_DATA of every process */
  uint64_t file_bytes;    /* RLIMIT_FSIZE: the largest file it may write */
  /* When set and nonzero, the tool's process group is killed and the run
   * fails with ECANCELED (wudf_engine_cancel_builds); may be NULL. */
  const atomic_int* cancel;
};

/*
 * Runs argv[0] (looked up in PATH unless it contains a slash) with `argv`
 * (NULL-terminated) in a new process group: standard input from /dev/null,
 * standard output and error into the file `log_path`, no other descriptors,
 * default signal dispositions, an empty signal mask, no core dumps and the
 * rlimits of `limits` (inherited by everything it starts). At the deadline
 * the whole group is killed with SIGKILL; when the tool ends, whatever it
 * left running in its group is killed too. Returns 0 when it exits with
 * status 0. Otherwise EIO with a message naming the tool, how it ended (and
 * the limit it passed, with its configuration name and value) and the start
 * of its output, and `*tool_failed` set; or ENOENT / EIO with
 * `*tool_failed` clear when it could not be started or waited for (a
 * condition of this host, not of the input).
 */
int wudf__process_run(char* const argv[], const char* log_path,
                      const struct wudf__process_limits* limits, int* tool_failed,
                      struct wudf_error* error);

/* What identifies an installed tool for the cache key without running it:
 * its resolved path, size and modification time (as ccache does). */
struct wudf__tool_identity {
  char path[4096];  /* empty when not found */
  off_t size;
  struct timespec modified;
};

/* Resolves `name` through PATH (or as a path) and stats it; returns 0, or
 * ENOENT with `identity->path` empty. */
int wudf__tool_identify(const char* name, struct wudf__tool_identity* identity);

#endif /* WUDF_ENGINE_PROCESS_H */
