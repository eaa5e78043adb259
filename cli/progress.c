/*
 * progress.c -- the progress line of `wasmudf run` over a file, on standard
 * error: input rows done, rows per second, elapsed time, and the ETA when
 * the total is known. It appears only when standard error is a terminal and
 * the run has taken more than a second (so scripts and short runs see
 * nothing), redraws at most ten times a second, and is erased at the end.
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

/* The line being drawn, for cli_progress_clear (one run per process). */
static struct cli_progress* active;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(struct cli_progress* progress, int64_t total_rows) {
  memset(progress, 0, sizeof *progress);
  const char* mode = getenv("WASMUDF_PROGRESS");
  if (mode != NULL && strcmp(mode, "never") == 0) return;
  progress->always = mode != NULL && strcmp(mode, "always") == 0;
  progress->terminal = isatty(STDERR_FILENO);
  progress->enabled = progress->always || progress->terminal;
  progress->start = now_seconds();
  progress->total = total_rows;
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
  /* A terminal redraws one line; anything else (always) gets lines. */
  fprintf(stderr, "%s%" PRId64 " rows", progress->terminal ? "\r\033[K" : "", rows);
  if (progress->total > 0) {
    fprintf(stderr, " of %" PRId64 " (%.0f%%)", progress->total,
            100.0 * (double)rows / (double)progress->total);
  }
  fprintf(stderr, "  %.0f rows/s  %.1f s", rate, elapsed);
  if (progress->total > 0 && rate > 0 && rows < progress->total) {
    fprintf(stderr, "  ETA %.1f s", (double)(progress->total - rows) / rate);
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
