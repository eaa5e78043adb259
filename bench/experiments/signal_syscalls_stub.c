/*
 * signal_syscalls_stub.c -- an experiment, not part of the library: an
 * LD_PRELOAD stub that answers the two system calls every guest call makes
 * (docs/performance.md, "Fixed costs per call") from user space, to measure
 * what they cost. NOT SAFE: with it a guest fault on a thread that blocks
 * SIGSEGV kills the process, and a displaced handler goes unnoticed.
 *
 *   - sigaction(signal, NULL, &old), the query of WUDF_SIGNALS_CHECK: after
 *     the first real query of a signal, answered from a copy (a sigaction
 *     that installs a handler forgets the copy and goes to libc);
 *   - pthread_sigmask: does nothing and reports an empty old mask (so the
 *     runtime never restores one).
 *
 * Build and use (repository root, after `make bench-suite` made the plans):
 *
 *   cc -O2 -shared -fPIC bench/experiments/signal_syscalls_stub.c \
 *      -o /tmp/signal_syscalls_stub.so -ldl
 *   build/release/bench/bench_suite run wasmudf build/bench/plan-wasmudf-gcd-1.txt
 *   LD_PRELOAD=/tmp/signal_syscalls_stub.so \
 *      build/release/bench/bench_suite run wasmudf build/bench/plan-wasmudf-gcd-1.txt
 *
 * (alternate the two a few times: the machine's speed moves between runs).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stddef.h>

static int (*real_sigaction)(int, const struct sigaction*, struct sigaction*);
static struct sigaction known[_NSIG];
static int is_known[_NSIG];

int sigaction(int signal_number, const struct sigaction* action, struct sigaction* old) {
  if (real_sigaction == NULL) real_sigaction = dlsym(RTLD_NEXT, "sigaction");
  int in_range = signal_number > 0 && signal_number < _NSIG;
  if (in_range && action == NULL && old != NULL && is_known[signal_number]) {
    *old = known[signal_number];
    return 0;
  }
  int status = real_sigaction(signal_number, action, old);
  if (in_range) {
    if (action != NULL) {
      is_known[signal_number] = 0;
    } else if (status == 0 && old != NULL) {
      known[signal_number] = *old;
      is_known[signal_number] = 1;
    }
  }
  return status;
}

int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  (void)how;
  (void)set;
  if (old != NULL) sigemptyset(old);
  return 0;
}
