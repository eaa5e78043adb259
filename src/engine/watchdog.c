/*
 * watchdog.c -- deadlines for guest calls.
 *
 * Compiled guest code has no preemption points, so a runaway loop is stopped
 * from outside: one process-wide watchdog thread watches a slot per thread
 * that runs guest code. Arming a slot costs two atomic stores and a clock
 * read, no system call; the watchdog wakes at the earliest deadline (and at
 * least every WUDF__WATCHDOG_TICK_NS while calls are armed, to notice newly
 * armed ones), and for each call past its deadline sends the runtime's
 * interrupt signal to the calling thread with pthread_sigqueue, tagged with
 * WUDF__INTERRUPT_MAGIC and the call's generation. The signal handler
 * (runtime.c) unwinds the guest as a timeout trap. A signal is resent every
 * WUDF__WATCHDOG_RESEND_NS until the call ends, in case the first one reached
 * the thread before it recorded the call's generation, or while host code
 * deferred it.
 *
 * The watchdog sleeps on a condition variable after WUDF__WATCHDOG_IDLE_NS
 * without armed calls; arming wakes it only then. It is started by the first
 * engine and joined when the last engine is freed.
 *
 * Before it signals a call, the watchdog checks that the runtime's handler of
 * the interrupt signal is still installed (the signal is reserved for the
 * runtime) and installs it again if not: a cost paid per expired deadline,
 * not per call.
 *
 * fork: the watchdog thread and every other thread's slot do not survive in
 * a child. The child handler (wudf__watchdog_fork) drops the other threads'
 * slots, makes the lock and condition variable usable again and marks the
 * watchdog for a restart, which the child's first call with a deadline does
 * (wudf__watchdog_ensure), so a child that only execs pays nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "runtime.h"

#define WUDF__WATCHDOG_TICK_NS (2 * 1000 * 1000ull)
#define WUDF__WATCHDOG_RESEND_NS (10 * 1000 * 1000ull)
#define WUDF__WATCHDOG_IDLE_NS (1000 * 1000 * 1000ull)

struct wudf__watch_slot {
  pthread_t thread;
  _Atomic uint64_t deadline_ns; /* 0: no call armed */
  _Atomic uint32_t generation;
  uint32_t signalled_generation; /* watchdog thread only */
  uint64_t signalled_at_ns;      /* watchdog thread only */
  struct wudf__watch_slot* next;
};

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
  int users;        /* engines alive */
  int running;      /* the thread exists */
  int stop;
  atomic_int idle;  /* the thread sleeps until woken */
  atomic_int restart; /* forked: the thread must be started again */
  struct wudf__watch_slot* slots;
} wudf__watchdog = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t wudf__now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static struct timespec wudf__timespec(uint64_t ns) {
  struct timespec value = {.tv_sec = (time_t)(ns / 1000000000ull),
                           .tv_nsec = (long)(ns % 1000000000ull)};
  return value;
}

/* Signals every slot past its deadline; returns the earliest pending
 * deadline, or 0 when no call is armed. Called with the lock held. */
static uint64_t wudf__watchdog_scan(uint64_t now) {
  uint64_t earliest = 0;
  for (struct wudf__watch_slot* slot = wudf__watchdog.slots; slot != NULL;
       slot = slot->next) {
    uint64_t deadline = atomic_load(&slot->deadline_ns);
    if (deadline == 0) continue;
    if (now >= deadline) {
      uint32_t generation = atomic_load(&slot->generation);
      if (slot->signalled_generation != generation ||
          now - slot->signalled_at_ns >= WUDF__WATCHDOG_RESEND_NS) {
        /* A handler that displaced ours would get the signal instead (and
         * the default action of a real-time signal ends the process). */
        wudf__rt_check_interrupt_handler();
        union sigval value;
        value.sival_ptr =
            (void*)(uintptr_t)(((uint64_t)WUDF__INTERRUPT_MAGIC << 32) |
                               generation);
        pthread_sigqueue(slot->thread, wudf__interrupt_signal(), value);
        slot->signalled_generation = generation;
        slot->signalled_at_ns = now;
      }
      deadline = now + WUDF__WATCHDOG_RESEND_NS;
    }
    if (earliest == 0 || deadline < earliest) earliest = deadline;
  }
  return earliest;
}

static void* wudf__watchdog_main(void* unused) {
  (void)unused;
  uint64_t last_active = wudf__now_ns();
  pthread_mutex_lock(&wudf__watchdog.lock);
  while (!wudf__watchdog.stop) {
    uint64_t now = wudf__now_ns();
    uint64_t earliest = wudf__watchdog_scan(now);
    if (earliest != 0) last_active = now;
    if (earliest == 0 && now - last_active >= WUDF__WATCHDOG_IDLE_NS) {
      atomic_store(&wudf__watchdog.idle, 1);
      /* Re-scan after publishing idle: a call armed just before saw idle == 0
       * and did not wake us. */
      if (wudf__watchdog_scan(wudf__now_ns()) == 0) {
        pthread_cond_wait(&wudf__watchdog.wake, &wudf__watchdog.lock);
      }
      atomic_store(&wudf__watchdog.idle, 0);
      last_active = wudf__now_ns();
      continue;
    }
    uint64_t wake_at = now + WUDF__WATCHDOG_TICK_NS;
    if (earliest != 0 && earliest < wake_at) wake_at = earliest;
    struct timespec until = wudf__timespec(wake_at);
    pthread_cond_timedwait(&wudf__watchdog.wake, &wudf__watchdog.lock, &until);
  }
  pthread_mutex_unlock(&wudf__watchdog.lock);
  return NULL;
}

static void wudf__watchdog_init_wake(void) {
  pthread_condattr_t attributes;
  pthread_condattr_init(&attributes);
  pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
  pthread_cond_init(&wudf__watchdog.wake, &attributes);
  pthread_condattr_destroy(&attributes);
}

/* Starts the watchdog thread. Called with the lock held; returns 0 or an
 * errno. */
static int wudf__watchdog_start(void) {
  wudf__watchdog_init_wake();
  wudf__watchdog.stop = 0;
  atomic_store(&wudf__watchdog.idle, 0);
  /* The watchdog must never receive the interrupt itself. */
  sigset_t block, previous;
  sigemptyset(&block);
  sigaddset(&block, wudf__interrupt_signal());
  pthread_sigmask(SIG_BLOCK, &block, &previous);
  int status = pthread_create(&wudf__watchdog.thread, NULL,
                              wudf__watchdog_main, NULL);
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  if (status == 0) {
    wudf__watchdog.running = 1;
  } else {
    pthread_cond_destroy(&wudf__watchdog.wake);
  }
  return status;
}

int wudf__watchdog_retain(void) {
  pthread_mutex_lock(&wudf__watchdog.lock);
  int status = 0;
  if (!wudf__watchdog.running) status = wudf__watchdog_start();
  if (status == 0) {
    wudf__watchdog.users++;
    atomic_store(&wudf__watchdog.restart, 0);
  }
  pthread_mutex_unlock(&wudf__watchdog.lock);
  return status;
}

int wudf__watchdog_ensure(void) {
  if (!atomic_load_explicit(&wudf__watchdog.restart, memory_order_acquire)) {
    return 0;
  }
  pthread_mutex_lock(&wudf__watchdog.lock);
  int status = 0;
  if (atomic_load(&wudf__watchdog.restart)) {
    if (wudf__watchdog.users > 0 && !wudf__watchdog.running) {
      status = wudf__watchdog_start();
    }
    if (status == 0) atomic_store(&wudf__watchdog.restart, 0);
  }
  pthread_mutex_unlock(&wudf__watchdog.lock);
  return status;
}

void wudf__watchdog_fork(int stage) {
  if (stage == WUDF__FORK_PREPARE) {
    pthread_mutex_lock(&wudf__watchdog.lock);
    return;
  }
  if (stage == WUDF__FORK_CHILD) {
    /* Only the forking thread exists here: drop every other thread's slot
     * (their pthread_t no longer names a thread) and the watchdog thread,
     * whose condition variable may still count it as a waiter. */
    pthread_t self = pthread_self();
    struct wudf__watch_slot** link = &wudf__watchdog.slots;
    while (*link != NULL) {
      struct wudf__watch_slot* slot = *link;
      if (pthread_equal(slot->thread, self)) {
        link = &slot->next;
      } else {
        *link = slot->next;
        free(slot);
      }
    }
    if (wudf__watchdog.running) wudf__watchdog_init_wake();
    wudf__watchdog.running = 0;
    wudf__watchdog.stop = 0;
    atomic_store(&wudf__watchdog.idle, 0);
    atomic_store(&wudf__watchdog.restart, wudf__watchdog.users > 0);
  }
  pthread_mutex_unlock(&wudf__watchdog.lock);
}

void wudf__watchdog_release(void) {
  pthread_mutex_lock(&wudf__watchdog.lock);
  int join = 0;
  if (--wudf__watchdog.users == 0 && wudf__watchdog.running) {
    wudf__watchdog.stop = 1;
    pthread_cond_signal(&wudf__watchdog.wake);
    join = 1;
  }
  pthread_mutex_unlock(&wudf__watchdog.lock);
  if (join) {
    pthread_join(wudf__watchdog.thread, NULL);
    pthread_mutex_lock(&wudf__watchdog.lock);
    wudf__watchdog.running = 0;
    pthread_cond_destroy(&wudf__watchdog.wake);
    pthread_mutex_unlock(&wudf__watchdog.lock);
  }
}

struct wudf__watch_slot* wudf__watch_slot_new(void) {
  /* Slots live as long as their thread: plain calloc, not the funnel. */
  struct wudf__watch_slot* slot = calloc(1, sizeof(*slot));
  if (slot == NULL) return NULL;
  slot->thread = pthread_self();
  pthread_mutex_lock(&wudf__watchdog.lock);
  slot->next = wudf__watchdog.slots;
  wudf__watchdog.slots = slot;
  pthread_mutex_unlock(&wudf__watchdog.lock);
  return slot;
}

void wudf__watch_slot_free(struct wudf__watch_slot* slot) {
  if (slot == NULL) return;
  pthread_mutex_lock(&wudf__watchdog.lock);
  for (struct wudf__watch_slot** link = &wudf__watchdog.slots; *link != NULL;
       link = &(*link)->next) {
    if (*link == slot) {
      *link = slot->next;
      break;
    }
  }
  pthread_mutex_unlock(&wudf__watchdog.lock);
  free(slot);
}

uint32_t wudf__watch_arm(struct wudf__watch_slot* slot, uint64_t timeout_ms) {
  uint32_t generation = atomic_fetch_add(&slot->generation, 1) + 1;
  uint64_t timeout_ns = timeout_ms > UINT64_MAX / 2000000ull
                            ? UINT64_MAX / 2
                            : timeout_ms * 1000000ull;
  atomic_store(&slot->deadline_ns, wudf__now_ns() + timeout_ns);
  if (atomic_load(&wudf__watchdog.idle)) {
    pthread_mutex_lock(&wudf__watchdog.lock);
    pthread_cond_signal(&wudf__watchdog.wake);
    pthread_mutex_unlock(&wudf__watchdog.lock);
  }
  return generation;
}

void wudf__watch_disarm(struct wudf__watch_slot* slot) {
  atomic_store(&slot->deadline_ns, 0);
}
