/*
 * progress.c -- the progress line of `wasmudf run` over a file, on standard
 * error: input rows done, rows per second, elapsed time, and, when the
 * input's size is known (a file, not a pipe), how much of it is done and
 * the ETA: by rows for CSV (wudf_csv_read_progress), by bytes for Arrow
 * IPC (wudf_ipc_read_progress). It appears only when standard error is a
 * terminal and the run has taken more than a second (so scripts and short
 * runs see nothing), redraws at most ten times a second, and is erased at the end.
 * $WASMUDF_PROGRESS=never turns it off; =always shows it from the start
 * whatever standard error is (tests use it).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "wasmudf/wasmudf.h"

/* The line being drawn, for cli_progress_clear (one run per process). */
static struct cli_progress* active;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(struct cli_progress* progress, const struct ArrowArrayStream* source,
                        int source_csv) {
  memset(progress, 0, sizeof *progress);
  const char* mode = getenv("WASMUDF_PROGRESS");
  if (mode != NULL && strcmp(mode, "never") == 0) return;
  progress->always = mode != NULL && strcmp(mode, "always") == 0;
  progress->terminal = isatty(STDERR_FILENO);
  progress->enabled = progress->always || progress->terminal;
  progress->start = now_seconds();
  progress->source = source;
  progress->source_csv = source_csv;
  active = progress;
}

void cli_progress_clear(void) {
  if (active != NULL && active->shown && active->terminal) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  if (active != NULL) active->enabled = 0; /* the output is being written */
}

void cli_progress_update(struct cli_progress* progress, int64_t rows) {
  if (!progress->enabled) return;
  double now = now_seconds(), elapsed = now - progress->start;
  if (!progress->always && elapsed < 1.0) return;
  if (progress->shown && now - progress->last < 0.1) return;
  progress->last = now;
  progress->shown = 1;
  double rate = elapsed > 0 ? (double)rows / elapsed : 0;
  /* How far the input has got: rows of a CSV file, bytes of an IPC file. */
  int64_t done = 0, total = 0;
  int known = progress->source != NULL &&
              (progress->source_csv
                   ? wudf_csv_read_progress(progress->source, &done, &total, NULL)
                   : wudf_ipc_read_progress(progress->source, &done, &total, NULL)) == 0 &&
              total > 0;
  double fraction = known ? (double)done / (double)total : 0;
  /* A terminal redraws one line; anything else (always) gets lines. */
  fprintf(stderr, "%s%" PRId64 " rows", progress->terminal ? "\r\033[K" : "", rows);
  if (known && progress->source_csv) fprintf(stderr, " of %" PRId64, total);
  if (known) fprintf(stderr, " (%.0f%%)", 100.0 * fraction);
  fprintf(stderr, "  %.0f rows/s  %.1f s", rate, elapsed);
  if (known && fraction > 0 && fraction < 1) {
    fprintf(stderr, "  ETA %.1f s", elapsed * (1 - fraction) / fraction);
  }
  if (!progress->terminal) fputc('\n', stderr);
  fflush(stderr);
}

void cli_progress_end(struct cli_progress* progress) {
  if (progress->shown) {
    if (progress->terminal) fputs("\r\033[K", stderr); /* erased */
    fflush(stderr);
  }
  progress->shown = 0;
  if (active == progress) active = NULL;
}
