/*
 * process.h -- running the external tools of the compile pipeline (internal).
 *
 * wasm2c and the C compiler run as child processes, so whatever they do --
 * abort, crash, hang -- the host process carries on and gets an error that
 * quotes what the tool printed.
 */
#ifndef WUDF_ENGINE_PROCESS_H
#define WUDF_ENGINE_PROCESS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "../common/common.h"

/*
 * Runs argv[0] (looked up in PATH unless it contains a slash) with `argv`
 * (NULL-terminated), standard input from /dev/null and standard output and
 * error into the file `log_path`, with default signal dispositions and an
 * empty signal mask. Waits at most `timeout_seconds`, then kills it. Returns
 * 0 when it exits with status 0; otherwise EIO (or ENOENT when it cannot be
 * started) with a message naming the tool, how it ended, and the start of its
 * output.
 */
int wudf__process_run(char* const argv[], const char* log_path,
                      unsigned timeout_seconds, struct wudf_error* error);

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
