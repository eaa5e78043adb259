/*
 * runtime.c -- the engine's own implementation of the wasm-rt runtime: linear
 * memory, tables, the function-type registry, traps and the signal handling
 * that turns faults in guest code into traps. See runtime.h for the model.
 *
 * Trap state is thread-local. A thread that runs guest code is in one of
 * three states: HOST (not running guest code), GUEST (running compiled module
 * code) or HOSTCALL (running host code called by the guest, e.g. a WASI
 * function or memory.grow). Signal handlers act only in GUEST state, where
 * unwinding with siglongjmp is safe because compiled guest code holds no locks
 * and owns no host resources. An interrupt that arrives in HOSTCALL state is
 * remembered and delivered when the host code returns to the guest. Anything
 * else -- a fault in host code, a signal not sent by our watchdog -- is handed
 * to the handler the process had installed before us, so the library never
 * swallows a crash or a signal that belongs to someone else.
 *
 * Host cooperation (docs/engine.md, "Host cooperation"):
 *   - Every run unblocks SIGSEGV, SIGBUS and the interrupt signal on the
 *     calling thread (one rt_sigprocmask) and restores the caller's mask
 *     after, so threads that block signals still trap and time out.
 *   - The signal mode (wudf_set_signal_mode) says who owns SIGSEGV/SIGBUS:
 *     CHECK (ours; every run checks with one sigaction query that our
 *     SIGSEGV handler is still installed and refuses with EPERM if not),
 *     REINSTALL (the same, but a displaced handler is installed again; host
 *     faults are then handed back to the handler that displaced us), or
 *     FORWARD (the host's handlers call wudf_handle_signal first; we install
 *     nothing more and check nothing). The interrupt signal is reserved for
 *     us: the watchdog reinstalls its handler if it finds it displaced.
 *   - fork: pthread_atfork handlers hold every lock of the runtime across
 *     fork, and the child gets a fresh watchdog when it first needs one.
 *   - The thread's stack is taken from pthread_getattr_np when that works
 *     and the call runs on it; otherwise (a main thread without /proc, a
 *     coroutine's stack) a conservative bound below the current stack
 *     pointer is assumed, and a fault near the faulting context's stack
 *     pointer is recognised as stack exhaustion without knowing the stack.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <unistd.h>

#include "wasi.h"

/* Under valgrind, the alternate signal stack must be registered as a stack:
 * otherwise the siglongjmp from a handler back to the thread's stack looks
 * like a huge stack-frame allocation and valgrind marks the live frames of
 * the caller undefined. The client requests are no-ops outside valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define WUDF__HAVE_VALGRIND 1
#endif
#endif

/* Address space reserved per linear memory: every address wasm2c's code can
 * form (a 32-bit address plus a 32-bit offset plus the access size) falls
 * inside it, so an out-of-bounds access always hits an inaccessible page. */
#define WUDF__RESERVATION (((size_t)8 << 30) + ((size_t)1 << 16))

/* Host code called from the guest needs this much native stack left. */
#define WUDF__HOSTCALL_STACK_RESERVE ((uintptr_t)64 << 10)

/* A fault this close to the low end of the thread's stack is exhaustion (the
 * main thread's low end is taken 1 MiB above the real one: 2 MiB below). */
#define WUDF__STACK_FAULT_BELOW ((uintptr_t)2 << 20)
#define WUDF__STACK_FAULT_ABOVE ((uintptr_t)256 << 10)

/* A fault this far below (or a little above) the faulting context's stack
 * pointer is exhaustion too: compiled guest code touches memory near its
 * stack pointer only for its own frames (calls push at sp - 8, stack-clash
 * probes touch each new page at sp, leaf functions use 128 bytes below sp). */
#define WUDF__STACK_FAULT_BELOW_SP ((uintptr_t)64 << 10)
#define WUDF__STACK_FAULT_ABOVE_SP ((uintptr_t)256)

/* When the runtime cannot know the thread's stack, it assumes this much below
 * the stack pointer at the start of a call (or half the RLIMIT_STACK soft
 * limit, if that is smaller). */
#define WUDF__UNKNOWN_STACK_ASSUMED ((uintptr_t)256 << 10)

/* Linux keeps this gap (stack_guard_gap, 256 pages by default) between the
 * main thread's growing stack and the mapping below it, which
 * pthread_getattr_np counts as stack when RLIMIT_STACK is unlimited. */
#define WUDF__MAIN_STACK_GUARD_GAP ((uintptr_t)1 << 20)

#define WUDF__ALTSTACK_SIZE ((size_t)64 << 10)

enum { WUDF__STATE_HOST = 0, WUDF__STATE_GUEST = 1, WUDF__STATE_HOSTCALL = 2 };

/* Per-thread runtime state. Touched by signal handlers, hence volatile and
 * initial-exec TLS (no lazy allocation inside a handler). */
struct wudf__thread {
  int initialised;
  volatile sig_atomic_t state;
  sigjmp_buf* volatile jump;
  struct wudf__rt_instance* volatile current;
  volatile sig_atomic_t pending_interrupt;
  volatile sig_atomic_t trap_signal; /* the signal that unwound, if any */
  volatile sig_atomic_t armed;       /* a deadline is armed for this call */
  volatile uint32_t generation;      /* of the armed call */
  uintptr_t stack_low;               /* of this call's stack (known or assumed) */
  uintptr_t known_low, known_high;   /* the stack pthread reports, or 0, 0 */
  uintptr_t assumed_stack;           /* bytes assumed when the stack is unknown */
  void* altstack;                    /* ours, if we installed one */
  unsigned altstack_id;              /* its valgrind stack id, if any */
  struct wudf__watch_slot* slot;
  /* A batch (wudf__rt_batch_enter): runs inside it skip the per-run signal
   * checks and mask changes, which the batch made once. */
  unsigned batch_depth;
  int batch_restore;                 /* the caller's mask blocked some of ours */
  sigset_t batch_caller_mask;        /* to restore when the batch ends */
  sigset_t batch_mask;               /* the mask runs of the batch need */
};

static __thread struct wudf__thread wudf__self
    __attribute__((tls_model("initial-exec")));

/* Why the last wudf__rt_run on this thread refused to run (see
 * wudf__rt_refusal). Never touched by signal handlers: default TLS model. */
static __thread int wudf__refusal_code;
static __thread char wudf__refusal_text[512];

static pthread_once_t wudf__process_once = PTHREAD_ONCE_INIT;
static int wudf__process_error;
static pthread_key_t wudf__thread_key;

/* ------------------------------------------------------------------ signals */

/* The process's signal arrangements. The handler we chain to for a signal
 * that is not ours is published as a pointer to a record that is never
 * changed or freed, since signal handlers read it at any moment. */
static struct {
  pthread_mutex_t lock;          /* installing and reinstalling handlers */
  atomic_int mode;               /* wudf_signal_mode */
  atomic_int faults_installed;   /* our SIGSEGV/SIGBUS handlers were installed */
  atomic_int handed_back;        /* REINSTALL: a host fault went back to the
                                    displacing handler since we reinstalled */
  /* What was installed before our first handler: where faults that are not
   * ours go. For the interrupt signal, the handler we last displaced. */
  _Atomic(const struct sigaction*) original_segv, original_bus,
      chain_interrupt;
  /* REINSTALL: the handlers we displaced when we reinstalled ours. */
  _Atomic(const struct sigaction*) displacer_segv, displacer_bus;
  sigset_t needed;               /* unblocked while guest code runs */
} wudf__signals = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A handler we displaced, kept for the life of the process. */
struct wudf__chain_record {
  struct sigaction action;
  struct wudf__chain_record* next;
};
static struct wudf__chain_record* wudf__chain_records; /* under the lock */

int wudf__interrupt_signal(void) { return SIGRTMAX - 3; }

static void wudf__on_fault(int signal_number, siginfo_t* info, void* context);
static void wudf__on_interrupt(int signal_number, siginfo_t* info,
                               void* context);

/* Nonzero when `action` is our handler for `signal_number`, installed with
 * the flags it needs. */
static int wudf__is_ours(int signal_number, const struct sigaction* action) {
  void (*ours)(int, siginfo_t*, void*) =
      signal_number == wudf__interrupt_signal() ? wudf__on_interrupt
                                                : wudf__on_fault;
  return (action->sa_flags & (SA_SIGINFO | SA_ONSTACK)) ==
             (SA_SIGINFO | SA_ONSTACK) &&
         action->sa_sigaction == ours;
}

/* Nonzero when the function `action` runs (its handler, for SA_SIGINFO or
 * not) is one of ours, whatever its flags. */
static int wudf__runs_ours(const struct sigaction* action) {
  return (action->sa_flags & SA_SIGINFO) &&
         (action->sa_sigaction == wudf__on_fault ||
          action->sa_sigaction == wudf__on_interrupt);
}

static _Atomic(const struct sigaction*)* wudf__original_slot(int signal_number) {
  if (signal_number == SIGSEGV) return &wudf__signals.original_segv;
  if (signal_number == SIGBUS) return &wudf__signals.original_bus;
  return &wudf__signals.chain_interrupt;
}

/* Installs our handler for `signal_number` and publishes what it displaced
 * in `chain` (the handler to pass other signals to), unless that is one of
 * ours (we never chain to ourselves) or the record there already describes
 * it. Returns 0 or an errno. Called with wudf__signals.lock held. */
static int wudf__install(int signal_number,
                         _Atomic(const struct sigaction*)* chain) {
  struct sigaction action, displaced;
  memset(&action, 0, sizeof(action));
  sigemptyset(&action.sa_mask);
  if (signal_number == wudf__interrupt_signal()) {
    action.sa_sigaction = wudf__on_interrupt;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  } else {
    action.sa_sigaction = wudf__on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaddset(&action.sa_mask, wudf__interrupt_signal());
  }
  /* Process-lifetime records, read by handlers at any moment: plain malloc,
   * never freed (but listed, so leak checkers see them reachable). A new one
   * only when a new handler displaced ours. */
  struct wudf__chain_record* record = malloc(sizeof(*record));
  if (record == NULL) return ENOMEM;
  if (sigaction(signal_number, &action, &displaced) != 0) {
    int saved = errno;
    free(record);
    return saved;
  }
  const struct sigaction* known = atomic_load(chain);
  if (wudf__runs_ours(&displaced) ||
      (known != NULL && known->sa_sigaction == displaced.sa_sigaction &&
       known->sa_flags == displaced.sa_flags)) {
    free(record);
    return 0;
  }
  record->action = displaced;
  record->next = wudf__chain_records;
  wudf__chain_records = record;
  atomic_store(chain, &record->action);
  return 0;
}

/* Hands a signal we do not handle to `previous` (NULL: the default action).
 * For a fault with the default disposition, restores it and returns: the
 * faulting instruction runs again and the process dies as it would have
 * without us. */
static void wudf__chain_signal(int signal_number, siginfo_t* info,
                               void* context,
                               const struct sigaction* previous) {
  int fault = signal_number == SIGSEGV || signal_number == SIGBUS;
  if (previous != NULL && (previous->sa_flags & SA_SIGINFO)) {
    previous->sa_sigaction(signal_number, info, context);
    return;
  }
  void (*handler)(int) = previous != NULL ? previous->sa_handler : SIG_DFL;
  if (handler == SIG_IGN && !fault) return;
  if (handler == SIG_DFL || handler == SIG_IGN) {
    signal(signal_number, SIG_DFL);
    /* A signal that did not come from a fault is not raised again by
     * returning: raise it (delivered when this handler returns). */
    if (!fault || info->si_code <= 0) raise(signal_number);
    return;
  }
  handler(signal_number);
}

/* Unwinds the guest with the trap a fault stands for, if the calling thread
 * runs guest code and the fault is the guest's; returns otherwise. */
static void wudf__take_fault(int signal_number, siginfo_t* info,
                             void* context) {
  struct wudf__thread* self = &wudf__self;
  if (self->state != WUDF__STATE_GUEST || self->jump == NULL ||
      info->si_code <= 0) {
    return;
  }
  uintptr_t address = (uintptr_t)info->si_addr;
  struct wudf__rt_instance* instance = self->current;
  wudf_trap trap = WUDF_TRAP_NONE;
  uintptr_t sp = 0;
#if defined(__x86_64__)
  if (context != NULL) sp = (uintptr_t)((ucontext_t*)context)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  if (context != NULL) sp = (uintptr_t)((ucontext_t*)context)->uc_mcontext.sp;
#else
  (void)context;
#endif
  if (instance != NULL && instance->reservation != NULL &&
      address - (uintptr_t)instance->reservation <
          instance->reservation_size) {
    trap = WUDF_TRAP_OUT_OF_BOUNDS;
  } else if (address + WUDF__STACK_FAULT_BELOW >= self->stack_low &&
             address < self->stack_low + WUDF__STACK_FAULT_ABOVE) {
    trap = WUDF_TRAP_STACK_EXHAUSTED;
  } else if (sp != 0 && address + WUDF__STACK_FAULT_BELOW_SP >= sp &&
             address <= sp + WUDF__STACK_FAULT_ABOVE_SP) {
    trap = WUDF_TRAP_STACK_EXHAUSTED;
  }
  if (trap != WUDF_TRAP_NONE) {
    self->trap_signal = signal_number;
    siglongjmp(*self->jump, (int)trap);
  }
}

/* Handles the interrupt if it is ours: unwinds the guest, defers it while
 * host code runs, or drops it for a call that has ended. Returns 0 when the
 * signal is someone else's. */
static int wudf__take_interrupt(int signal_number, siginfo_t* info) {
  if (info->si_code != SI_QUEUE || info->si_pid != getpid()) return 0;
  uint64_t value = (uint64_t)(uintptr_t)info->si_value.sival_ptr;
  if ((uint32_t)(value >> 32) != WUDF__INTERRUPT_MAGIC) return 0;
  struct wudf__thread* self = &wudf__self;
  if (self->armed && (uint32_t)value == self->generation) {
    if (self->state == WUDF__STATE_GUEST && self->jump != NULL) {
      self->trap_signal = signal_number;
      siglongjmp(*self->jump, (int)WUDF_TRAP_TIMEOUT);
    }
    if (self->state == WUDF__STATE_HOSTCALL) self->pending_interrupt = 1;
  }
  return 1; /* ours, possibly for a call that already ended */
}

static void wudf__on_fault(int signal_number, siginfo_t* info, void* context) {
  wudf__take_fault(signal_number, info, context);
  if (atomic_load(&wudf__signals.mode) == WUDF_SIGNALS_REINSTALL) {
    /* We took this signal back from a handler installed after us: give that
     * handler the host's fault as if we had never come back (ours is
     * reinstalled before the next guest call). The flag makes a handler that
     * passes the fault back to us reach the original handler, not a loop. */
    const struct sigaction* displacer = atomic_load(
        signal_number == SIGSEGV ? &wudf__signals.displacer_segv
                                 : &wudf__signals.displacer_bus);
    if (displacer != NULL && !atomic_exchange(&wudf__signals.handed_back, 1)) {
      sigaction(signal_number, displacer, NULL);
      if (info->si_code <= 0) raise(signal_number);
      return; /* a real fault happens again, now in the displacer */
    }
  }
  wudf__chain_signal(signal_number, info, context,
                     atomic_load(wudf__original_slot(signal_number)));
}

static void wudf__on_interrupt(int signal_number, siginfo_t* info,
                               void* context) {
  if (wudf__take_interrupt(signal_number, info)) return;
  wudf__chain_signal(signal_number, info, context,
                     atomic_load(&wudf__signals.chain_interrupt));
}

int wudf_handle_signal(int signal_number, void* info, void* context) {
  if (info == NULL) return 0;
  if (signal_number == SIGSEGV || signal_number == SIGBUS) {
    wudf__take_fault(signal_number, info, context);
    return 0;
  }
  if (signal_number == wudf__interrupt_signal()) {
    return wudf__take_interrupt(signal_number, info);
  }
  return 0;
}

int wudf_set_signal_mode(wudf_signal_mode mode) {
  if (mode != WUDF_SIGNALS_CHECK && mode != WUDF_SIGNALS_REINSTALL &&
      mode != WUDF_SIGNALS_FORWARD) {
    return EINVAL;
  }
  atomic_store(&wudf__signals.mode, (int)mode);
  return 0;
}

/* Records why the run is refused and returns the negative code. */
static int wudf__refuse(int code, const char* format, ...) WUDF__PRINTF(2, 3);

static int wudf__refuse(int code, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(wudf__refusal_text, sizeof(wudf__refusal_text), format, args);
  va_end(args);
  wudf__refusal_code = code;
  return -code;
}

const char* wudf__rt_refusal(int code) {
  if (code == wudf__refusal_code && wudf__refusal_text[0] != '\0') {
    return wudf__refusal_text;
  }
  return strerror(code);
}

/* Describes an installed handler for an error message: its address and the
 * object that defines it. */
static void wudf__describe_handler(const struct sigaction* action, char* text,
                                   size_t size) {
  void* function = (action->sa_flags & SA_SIGINFO)
                       ? (void*)action->sa_sigaction
                       : (void*)action->sa_handler;
  if (!(action->sa_flags & SA_SIGINFO) && action->sa_handler == SIG_DFL) {
    snprintf(text, size, "the default action");
    return;
  }
  if (!(action->sa_flags & SA_SIGINFO) && action->sa_handler == SIG_IGN) {
    snprintf(text, size, "SIG_IGN");
    return;
  }
  Dl_info where;
  if (dladdr(function, &where) != 0 && where.dli_fname != NULL) {
    snprintf(text, size, "the handler at %p in %s", function, where.dli_fname);
  } else {
    snprintf(text, size, "the handler at %p", function);
  }
}

/* The per-run check of SIGSEGV/SIGBUS in modes CHECK and REINSTALL: our
 * handler must be installed for guest faults to become traps. Costs one
 * sigaction query when all is well. Returns 0 or a refusal. */
static int wudf__check_fault_handlers(void) {
  int mode = atomic_load_explicit(&wudf__signals.mode, memory_order_relaxed);
  if (mode == WUDF_SIGNALS_FORWARD) return 0;
  struct sigaction current;
  if (sigaction(SIGSEGV, NULL, &current) == 0 &&
      wudf__is_ours(SIGSEGV, &current)) {
    return 0;
  }
  int status = 0;
  pthread_mutex_lock(&wudf__signals.lock);
  if (!atomic_load(&wudf__signals.faults_installed)) {
    /* The mode was FORWARD when the first engine was made. */
    status = wudf__install(SIGSEGV, &wudf__signals.original_segv);
    if (status == 0) status = wudf__install(SIGBUS, &wudf__signals.original_bus);
    if (status == 0) atomic_store(&wudf__signals.faults_installed, 1);
    pthread_mutex_unlock(&wudf__signals.lock);
    if (status != 0) {
      return wudf__refuse(status, "cannot install the runtime's SIGSEGV and "
                          "SIGBUS handlers: %s", strerror(status));
    }
    return 0;
  }
  static const int faults[2] = {SIGSEGV, SIGBUS};
  for (int i = 0; i < 2 && status == 0; i++) {
    int signal_number = faults[i];
    if (sigaction(signal_number, NULL, &current) != 0 ||
        wudf__is_ours(signal_number, &current)) {
      continue;
    }
    if (mode == WUDF_SIGNALS_REINSTALL) {
      /* Remember the displacing handler, to hand host faults back to it. */
      status = wudf__install(signal_number,
                             signal_number == SIGSEGV
                                 ? &wudf__signals.displacer_segv
                                 : &wudf__signals.displacer_bus);
      if (status != 0) {
        pthread_mutex_unlock(&wudf__signals.lock);
        return wudf__refuse(status, "cannot reinstall the runtime's %s "
                            "handler: %s",
                            signal_number == SIGSEGV ? "SIGSEGV" : "SIGBUS",
                            strerror(status));
      }
      continue;
    }
    char displacer[300];
    wudf__describe_handler(&current, displacer, sizeof(displacer));
    pthread_mutex_unlock(&wudf__signals.lock);
    return wudf__refuse(
        EPERM,
        "the runtime's %s handler was replaced by %s, installed after the "
        "engine: a fault of guest code would reach it instead of becoming a "
        "trap. Make that handler call wudf_handle_signal() first and set "
        "wudf_set_signal_mode(WUDF_SIGNALS_FORWARD), or set "
        "WUDF_SIGNALS_REINSTALL",
        signal_number == SIGSEGV ? "SIGSEGV" : "SIGBUS", displacer);
  }
  atomic_store(&wudf__signals.handed_back, 0);
  pthread_mutex_unlock(&wudf__signals.lock);
  return 0;
}

int wudf__rt_check_interrupt_handler(void) {
  struct sigaction current;
  int signal_number = wudf__interrupt_signal();
  if (sigaction(signal_number, NULL, &current) != 0 ||
      wudf__is_ours(signal_number, &current)) {
    return 0;
  }
  /* Someone took the signal reserved for us: take it back and pass them the
   * signals that are not ours. */
  pthread_mutex_lock(&wudf__signals.lock);
  int status = wudf__install(signal_number, &wudf__signals.chain_interrupt);
  pthread_mutex_unlock(&wudf__signals.lock);
  return status;
}

/* Thread exit: remove the alternate stack we installed, free the slot. */
static void wudf__thread_exit(void* value) {
  struct wudf__thread* self = value;
  if (self->altstack != NULL) {
    stack_t disable = {.ss_flags = SS_DISABLE};
    sigaltstack(&disable, NULL);
#ifdef WUDF__HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(self->altstack_id);
#endif
    munmap(self->altstack, WUDF__ALTSTACK_SIZE);
    self->altstack = NULL;
  }
  wudf__watch_slot_free(self->slot);
  self->slot = NULL;
  self->initialised = 0;
}

static pthread_mutex_t wudf__retain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wudf__types_lock = PTHREAD_MUTEX_INITIALIZER;

/* fork: hold every lock of the runtime (in the order code nests them), so the
 * child starts with none held; the child then forgets the parent's other
 * threads and gets a new watchdog when it needs one (watchdog.c). */
static void wudf__fork_prepare(void) {
  pthread_mutex_lock(&wudf__retain_lock);
  wudf__loader_fork(WUDF__FORK_PREPARE);
  pthread_mutex_lock(&wudf__types_lock);
  wudf__watchdog_fork(WUDF__FORK_PREPARE);
  pthread_mutex_lock(&wudf__signals.lock);
}

static void wudf__fork_parent(void) {
  pthread_mutex_unlock(&wudf__signals.lock);
  wudf__watchdog_fork(WUDF__FORK_PARENT);
  pthread_mutex_unlock(&wudf__types_lock);
  wudf__loader_fork(WUDF__FORK_PARENT);
  pthread_mutex_unlock(&wudf__retain_lock);
}

static void wudf__fork_child(void) {
  pthread_mutex_unlock(&wudf__signals.lock);
  wudf__watchdog_fork(WUDF__FORK_CHILD);
  pthread_mutex_unlock(&wudf__types_lock);
  wudf__loader_fork(WUDF__FORK_CHILD);
  pthread_mutex_unlock(&wudf__retain_lock);
}

static void wudf__process_init(void) {
  if (pthread_key_create(&wudf__thread_key, wudf__thread_exit) != 0) {
    wudf__process_error = EAGAIN;
    return;
  }
  sigemptyset(&wudf__signals.needed);
  sigaddset(&wudf__signals.needed, SIGSEGV);
  sigaddset(&wudf__signals.needed, SIGBUS);
  sigaddset(&wudf__signals.needed, wudf__interrupt_signal());
  int status = pthread_atfork(wudf__fork_prepare, wudf__fork_parent,
                              wudf__fork_child);
  pthread_mutex_lock(&wudf__signals.lock);
  if (status == 0 &&
      atomic_load(&wudf__signals.mode) != WUDF_SIGNALS_FORWARD) {
    status = wudf__install(SIGSEGV, &wudf__signals.original_segv);
    if (status == 0) status = wudf__install(SIGBUS, &wudf__signals.original_bus);
    if (status == 0) atomic_store(&wudf__signals.faults_installed, 1);
  }
  if (status == 0) {
    status = wudf__install(wudf__interrupt_signal(),
                           &wudf__signals.chain_interrupt);
  }
  pthread_mutex_unlock(&wudf__signals.lock);
  wudf__process_error = status;
}

/* Finds the calling thread's stack as pthread reports it, or leaves it
 * unknown (0, 0). The main thread's stack grows on demand, and glibc reports
 * it as reaching down RLIMIT_STACK or to the mapping below, whichever is
 * nearer; when that mapping is what stops it, the kernel keeps a guard gap
 * above it. Which one it was cannot be told exactly (the report leaves out
 * the arguments and environment above the stack), so the gap is always left
 * out: host calls on the main thread stop 1 MiB early, and a report with no
 * room left is taken as unknown. Under valgrind, which grows the client's
 * main stack into a reservation of its own, the mapping below means
 * nothing: the rlimit is the bound. */
static void wudf__find_stack(struct wudf__thread* self) {
  self->known_low = self->known_high = 0;
  struct rlimit limit = {RLIM_INFINITY, RLIM_INFINITY};
  getrlimit(RLIMIT_STACK, &limit);
  int limited = limit.rlim_cur != RLIM_INFINITY;
  self->assumed_stack = WUDF__UNKNOWN_STACK_ASSUMED;
  if (limited && limit.rlim_cur / 2 < self->assumed_stack) {
    self->assumed_stack = (uintptr_t)(limit.rlim_cur / 2);
  }
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return;
  void* stack_address;
  size_t stack_size;
  int status = pthread_attr_getstack(&attributes, &stack_address, &stack_size);
  pthread_attr_destroy(&attributes);
  if (status != 0 || stack_size == 0) return;
  uintptr_t low = (uintptr_t)stack_address, high = low + stack_size;
  if (getpid() == gettid()) {
    int valgrind_main = 0;
#ifdef WUDF__HAVE_VALGRIND
    if (RUNNING_ON_VALGRIND && limited && limit.rlim_cur < high) {
      uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
      low = (high - (uintptr_t)limit.rlim_cur + page) & ~(page - 1);
      valgrind_main = 1;
    }
#endif
    if (!valgrind_main) {
      if (stack_size <= WUDF__MAIN_STACK_GUARD_GAP + 2 * WUDF__HOSTCALL_STACK_RESERVE) {
        return;
      }
      low += WUDF__MAIN_STACK_GUARD_GAP;
    }
  }
  self->known_low = low;
  self->known_high = high;
}

/* Sets up the calling thread: stack bounds, an alternate signal stack (unless
 * the thread has one), and its watchdog slot. Returns 0 or an errno. */
static int wudf__thread_init(struct wudf__thread* self) {
  wudf__find_stack(self);
  self->slot = wudf__watch_slot_new();
  if (self->slot == NULL) return ENOMEM;

  stack_t current;
  if (sigaltstack(NULL, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
    void* altstack = mmap(NULL, WUDF__ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (altstack == MAP_FAILED) {
      wudf__watch_slot_free(self->slot);
      self->slot = NULL;
      return ENOMEM;
    }
    stack_t install = {.ss_sp = altstack, .ss_size = WUDF__ALTSTACK_SIZE};
    if (sigaltstack(&install, NULL) != 0) {
      munmap(altstack, WUDF__ALTSTACK_SIZE);
      wudf__watch_slot_free(self->slot);
      self->slot = NULL;
      return errno;
    }
    self->altstack = altstack;
#ifdef WUDF__HAVE_VALGRIND
    self->altstack_id = VALGRIND_STACK_REGISTER(
        altstack, (char*)altstack + WUDF__ALTSTACK_SIZE);
#endif
  }
  pthread_setspecific(wudf__thread_key, self);
  self->initialised = 1;
  return 0;
}

/* The low end of the stack this call runs on: the reported stack when the
 * call runs on it, else a conservative bound below the current frame. */
static void wudf__pick_stack(struct wudf__thread* self) {
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  if (here > self->known_low && here <= self->known_high) {
    self->stack_low = self->known_low;
  } else {
    self->stack_low = here > self->assumed_stack ? here - self->assumed_stack : 0;
  }
}

/* ------------------------------------------------------------ run and trap */

void wudf__rt_trap(wudf_trap trap) {
  struct wudf__thread* self = &wudf__self;
  if (self->jump == NULL) {
    fprintf(stderr, "wasmudf: trap '%s' outside of guest code\n",
            wudf_trap_name(trap));
    abort();
  }
  siglongjmp(*self->jump, (int)trap);
}

int wudf__rt_run(struct wudf__rt_instance* instance, void (*body)(void*),
                 void* closure, uint64_t timeout_ms) {
  struct wudf__thread* self = &wudf__self;
  if (self->state != WUDF__STATE_HOST) {
    return wudf__refuse(EDEADLK, "called from inside guest code");
  }
  if (!self->initialised) {
    int status = wudf__thread_init(self);
    if (status != 0) {
      return wudf__refuse(status, "cannot set up the thread's signal stack "
                          "and watchdog slot: %s", strerror(status));
    }
  }
  int batched = self->batch_depth > 0;
  int status = batched ? 0 : wudf__check_fault_handlers();
  if (status != 0) return status;
  if (timeout_ms != 0) {
    status = wudf__watchdog_ensure();
    if (status != 0) {
      return wudf__refuse(status, "cannot start the watchdog thread: %s",
                          strerror(status));
    }
  }
  wudf__pick_stack(self);
  /* Guest faults and the deadline need these signals on this thread, whatever
   * the host blocks: unblock them for the run, restore the mask after. */
  sigset_t caller_mask;
  int restore_mask = 0;
  if (!batched) {
    pthread_sigmask(SIG_UNBLOCK, &wudf__signals.needed, &caller_mask);
    restore_mask = sigismember(&caller_mask, SIGSEGV) == 1 ||
                   sigismember(&caller_mask, SIGBUS) == 1 ||
                   sigismember(&caller_mask, wudf__interrupt_signal()) == 1;
  }
  sigjmp_buf jump;
  if (instance != NULL) {
    instance->grow_refused = 0;
    instance->host_failure = 0;
  }
  self->current = instance;
  self->pending_interrupt = 0;
  self->trap_signal = 0;
  if (timeout_ms != 0) {
    self->generation = wudf__watch_arm(self->slot, timeout_ms);
    self->armed = 1;
  }
  int trap = sigsetjmp(jump, 0);
  if (trap == 0) {
    self->jump = &jump;
    atomic_signal_fence(memory_order_seq_cst);
    self->state = WUDF__STATE_GUEST;
    atomic_signal_fence(memory_order_seq_cst);
    body(closure);
    atomic_signal_fence(memory_order_seq_cst);
  }
  self->state = WUDF__STATE_HOST;
  atomic_signal_fence(memory_order_seq_cst);
  if (self->armed) {
    self->armed = 0;
    wudf__watch_disarm(self->slot);
  }
  self->jump = NULL;
  self->current = NULL;
  if (batched) {
    if (self->trap_signal != 0) {
      /* Left a handler by siglongjmp: back to the batch's mask. */
      pthread_sigmask(SIG_SETMASK, &self->batch_mask, NULL);
      self->trap_signal = 0;
    }
  } else if (restore_mask || self->trap_signal != 0) {
    /* The caller blocked some of our signals, or we left a handler by
     * siglongjmp without restoring the mask (that would cost a system call
     * on every run) and delivery blocked some: back to the caller's mask. */
    pthread_sigmask(SIG_SETMASK, &caller_mask, NULL);
    self->trap_signal = 0;
  }
  return trap;
}

int wudf__rt_batch_enter(void) {
  struct wudf__thread* self = &wudf__self;
  if (self->state != WUDF__STATE_HOST || !self->initialised) return 0;
  if (self->batch_depth > 0) {
    self->batch_depth++;
    return 1;
  }
  /* The checks every run makes outside a batch, made once; a refusal is
   * left for the batch's first run to report, unbatched. */
  if (wudf__check_fault_handlers() != 0) return 0;
  pthread_sigmask(SIG_UNBLOCK, &wudf__signals.needed, &self->batch_caller_mask);
  self->batch_restore = sigismember(&self->batch_caller_mask, SIGSEGV) == 1 ||
                        sigismember(&self->batch_caller_mask, SIGBUS) == 1 ||
                        sigismember(&self->batch_caller_mask, wudf__interrupt_signal()) == 1;
  self->batch_mask = self->batch_caller_mask;
  sigdelset(&self->batch_mask, SIGSEGV);
  sigdelset(&self->batch_mask, SIGBUS);
  sigdelset(&self->batch_mask, wudf__interrupt_signal());
  self->batch_depth = 1;
  return 1;
}

void wudf__rt_batch_leave(void) {
  struct wudf__thread* self = &wudf__self;
  if (self->batch_depth == 0 || --self->batch_depth > 0) return;
  if (self->batch_restore) pthread_sigmask(SIG_SETMASK, &self->batch_caller_mask, NULL);
}

struct wudf__rt_instance* wudf__rt_current(void) { return wudf__self.current; }

int wudf__rt_hostcall_enter(void) {
  struct wudf__thread* self = &wudf__self;
  int saved = self->state;
  if (saved == WUDF__STATE_GUEST) {
    /* Below the low end is too deep as well: on a stack the runtime cannot
     * see, the guest may recurse past the bound it assumed. */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (here < self->stack_low + WUDF__HOSTCALL_STACK_RESERVE) {
      wudf__rt_trap(WUDF_TRAP_STACK_EXHAUSTED);
    }
  }
  self->state = WUDF__STATE_HOSTCALL;
  atomic_signal_fence(memory_order_seq_cst);
  return saved;
}

void wudf__rt_hostcall_leave(int saved) {
  struct wudf__thread* self = &wudf__self;
  atomic_signal_fence(memory_order_seq_cst);
  self->state = saved;
  atomic_signal_fence(memory_order_seq_cst);
  if (saved == WUDF__STATE_GUEST && self->pending_interrupt) {
    self->pending_interrupt = 0;
    wudf__rt_trap(WUDF_TRAP_TIMEOUT);
  }
}

/* ------------------------------------------------------- process services */

int wudf__rt_retain(struct wudf_error* error) {
  pthread_once(&wudf__process_once, wudf__process_init);
  if (wudf__process_error != 0) {
    return wudf__set_error(error, wudf__process_error,
                           "cannot install the runtime's signal handlers: %s",
                           strerror(wudf__process_error));
  }
  pthread_mutex_lock(&wudf__retain_lock);
  int status = wudf__watchdog_retain();
  pthread_mutex_unlock(&wudf__retain_lock);
  if (status != 0) {
    return wudf__set_error(error, status, "cannot start the watchdog: %s",
                           strerror(status));
  }
  return 0;
}

void wudf__rt_release(void) {
  pthread_mutex_lock(&wudf__retain_lock);
  wudf__watchdog_release();
  pthread_mutex_unlock(&wudf__retain_lock);
}

/* ------------------------------------------------------ function types */

struct wudf__functype_entry {
  uint32_t param_count;
  uint32_t result_count;
  wasm_rt_type_t* types;
};

static struct wudf__functype_entry* wudf__types;
static uint32_t wudf__type_count, wudf__type_capacity;

/* Returns the index + 1 of the signature (0 is the null funcref's type). The
 * registry lives as long as the process, since compiled modules keep the
 * indices in their static data. Traps with out-of-memory if it cannot grow. */
static uint32_t wudf__rt_register_func_type(uint32_t param_count,
                                            uint32_t result_count,
                                            const wasm_rt_type_t* types) {
  int saved = wudf__rt_hostcall_enter();
  size_t count = (size_t)param_count + result_count;
  uint32_t index = 0;
  pthread_mutex_lock(&wudf__types_lock);
  for (uint32_t i = 0; i < wudf__type_count; i++) {
    struct wudf__functype_entry* entry = &wudf__types[i];
    if (entry->param_count == param_count &&
        entry->result_count == result_count &&
        (count == 0 ||
         memcmp(entry->types, types, count * sizeof(*types)) == 0)) {
      index = i + 1;
      break;
    }
  }
  if (index == 0) {
    int failed = 0;
    if (wudf__type_count == wudf__type_capacity) {
      uint32_t capacity = wudf__type_capacity ? wudf__type_capacity * 2 : 64;
      void* grown = realloc(wudf__types, capacity * sizeof(*wudf__types));
      if (grown == NULL) {
        failed = 1;
      } else {
        wudf__types = grown;
        wudf__type_capacity = capacity;
      }
    }
    wasm_rt_type_t* copy = NULL;
    if (!failed && count > 0) {
      /* Process-lifetime data: plain malloc, not the funnel, so a test
       * allocator that is swapped out later never sees it freed. */
      copy = malloc(count * sizeof(*types));
      if (copy == NULL) failed = 1; else memcpy(copy, types, count * sizeof(*types));
    }
    if (!failed) {
      wudf__types[wudf__type_count].param_count = param_count;
      wudf__types[wudf__type_count].result_count = result_count;
      wudf__types[wudf__type_count].types = copy;
      index = ++wudf__type_count;
    }
  }
  pthread_mutex_unlock(&wudf__types_lock);
  if (index == 0) {
    struct wudf__rt_instance* instance = wudf__self.current;
    if (instance != NULL) {
      snprintf(instance->detail, sizeof(instance->detail),
               "cannot register a function type");
    }
    wudf__rt_trap(WUDF_TRAP_OUT_OF_MEMORY);
  }
  wudf__rt_hostcall_leave(saved);
  return index;
}

/* -------------------------------------------------------------- accounting */

/*
 * Charges `bytes` more of memory or tables (`what`, for the message) to the
 * instance's byte limit and to the engine's budget. Returns 0, or -1 with
 * the reason in `detail` (`size` bytes) and nothing charged.
 */
static int wudf__charge(struct wudf__rt_instance* instance, uint64_t bytes, const char* what,
                        char* detail, size_t size) {
  uint64_t held = instance->memory_bytes + instance->table_bytes;
  if (instance->byte_limit != 0 &&
      (bytes > instance->byte_limit || held > instance->byte_limit - bytes)) {
    snprintf(detail, size,
             "%s needs %llu bytes, over the instance's memory_limit of %llu bytes "
             "(it holds %llu bytes of linear memory and %llu of tables)",
             what, (unsigned long long)bytes, (unsigned long long)instance->byte_limit,
             (unsigned long long)instance->memory_bytes,
             (unsigned long long)instance->table_bytes);
    return -1;
  }
  struct wudf__rt_budget* budget = instance->budget;
  if (budget != NULL && budget->limit != 0) {
    uint64_t used = atomic_load_explicit(&budget->used, memory_order_relaxed);
    do {
      if (bytes > budget->limit || used > budget->limit - bytes) {
        snprintf(detail, size,
                 "%s needs %llu bytes, over the engine's memory_budget of %llu bytes "
                 "(its instances hold %llu bytes)",
                 what, (unsigned long long)bytes, (unsigned long long)budget->limit,
                 (unsigned long long)used);
        return -1;
      }
    } while (!atomic_compare_exchange_weak_explicit(&budget->used, &used, used + bytes,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
  } else if (budget != NULL) {
    atomic_fetch_add_explicit(&budget->used, bytes, memory_order_relaxed);
  }
  return 0;
}

/* Gives back `bytes` charged to the engine's budget (the instance's own
 * counters are the caller's). */
static void wudf__rt_uncharge(struct wudf__rt_instance* instance, uint64_t bytes) {
  if (instance->budget != NULL) {
    atomic_fetch_sub_explicit(&instance->budget->used, bytes, memory_order_relaxed);
  }
}

/* Records a grow refused by a host limit (see struct wudf__rt_instance). */
static void wudf__grow_refused(struct wudf__rt_instance* instance, const char* detail) {
  instance->grow_refused = 1;
  snprintf(instance->refusal, sizeof(instance->refusal), "%s", detail);
}

/* ------------------------------------------------------------------ memory */

static uint32_t wudf__min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

__attribute__((noreturn)) static void wudf__out_of_memory(
    struct wudf__rt_instance* instance, const char* detail) {
  if (instance != NULL) {
    snprintf(instance->detail, sizeof(instance->detail), "%s", detail);
    instance->host_failure = 1;
  }
  wudf__rt_trap(WUDF_TRAP_OUT_OF_MEMORY);
}

static void wudf__rt_allocate_memory(wasm_rt_memory_t* memory,
                                     uint32_t initial_pages,
                                     uint32_t max_pages) {
  int saved = wudf__rt_hostcall_enter();
  struct wudf__rt_instance* instance = wudf__self.current;
  if (instance == NULL || instance->memory != NULL) {
    snprintf(instance->detail, sizeof(instance->detail),
             "a second linear memory is not supported");
    wudf__rt_trap(WUDF_TRAP_OUT_OF_MEMORY);
  }
  uint32_t cap = wudf__min_u32(wudf__min_u32(max_pages, WUDF__MAX_PAGES),
                               instance->memory_limit_pages);
  if (initial_pages > cap) {
    char limit[96];
    if (cap == instance->memory_limit_pages && instance->byte_limit != 0) {
      snprintf(limit, sizeof(limit), "the instance's memory_limit of %llu bytes",
               (unsigned long long)instance->byte_limit);
    } else {
      snprintf(limit, sizeof(limit), "the runtime's largest memory");
    }
    snprintf(instance->detail, sizeof(instance->detail),
             "the module needs %u pages (%llu bytes) of linear memory at "
             "start, more than the limit of %u pages (%s)",
             initial_pages, (unsigned long long)initial_pages * WUDF__PAGE_SIZE,
             cap, limit);
    wudf__rt_trap(WUDF_TRAP_OUT_OF_MEMORY);
  }
  uint64_t initial_bytes = (uint64_t)initial_pages * WUDF__PAGE_SIZE;
  char what[96];
  snprintf(what, sizeof(what), "the linear memory of %u pages at start", initial_pages);
  if (wudf__charge(instance, initial_bytes, what, instance->detail,
                   sizeof(instance->detail)) != 0) {
    wudf__rt_trap(WUDF_TRAP_OUT_OF_MEMORY);
  }
  instance->memory_bytes = initial_bytes;
  void* base = mmap(NULL, WUDF__RESERVATION, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    wudf__out_of_memory(instance,
                        "cannot reserve address space for linear memory");
  }
  size_t size = (size_t)initial_pages * WUDF__PAGE_SIZE;
  if (size != 0 && mprotect(base, size, PROT_READ | PROT_WRITE) != 0) {
    munmap(base, WUDF__RESERVATION);
    wudf__out_of_memory(instance, "cannot map the initial linear memory");
  }
  instance->memory = memory;
  instance->reservation = base;
  instance->reservation_size = WUDF__RESERVATION;
  memory->data = base;
  memory->pages = initial_pages;
  memory->max_pages = max_pages;
  memory->size = (uint32_t)size;
  wudf__rt_hostcall_leave(saved);
}

static uint32_t wudf__rt_grow_memory(wasm_rt_memory_t* memory,
                                     uint32_t delta_pages) {
  int saved = wudf__rt_hostcall_enter();
  struct wudf__rt_instance* instance = wudf__self.current;
  uint32_t result = UINT32_MAX;
  if (instance != NULL && memory == instance->memory) {
    uint32_t old_pages = memory->pages;
    uint64_t new_pages = (uint64_t)old_pages + delta_pages;
    uint32_t cap = wudf__min_u32(wudf__min_u32(memory->max_pages,
                                               WUDF__MAX_PAGES),
                                 instance->memory_limit_pages);
    uint64_t delta_bytes = (uint64_t)delta_pages * WUDF__PAGE_SIZE;
    char what[96], detail[256];
    snprintf(what, sizeof(what), "memory.grow by %u pages", delta_pages);
    if (new_pages <= cap) {
      if (delta_pages == 0) {
        result = old_pages;
      } else if (wudf__charge(instance, delta_bytes, what, detail, sizeof(detail)) != 0) {
        wudf__grow_refused(instance, detail);
      } else if (mprotect(memory->data + (size_t)old_pages * WUDF__PAGE_SIZE,
                          (size_t)delta_bytes, PROT_READ | PROT_WRITE) == 0) {
        memory->pages = (uint32_t)new_pages;
        memory->size = (uint32_t)(new_pages * WUDF__PAGE_SIZE);
        instance->memory_bytes += delta_bytes;
        result = old_pages;
      } else {
        wudf__rt_uncharge(instance, delta_bytes);
      }
    } else if (new_pages <= wudf__min_u32(memory->max_pages, WUDF__MAX_PAGES)) {
      /* Within the module's maximum: the host's limit refused it. */
      if (instance->byte_limit != 0 && cap == instance->memory_limit_pages) {
        snprintf(detail, sizeof(detail),
                 "%s to %llu pages, over the instance's memory_limit of %llu bytes "
                 "(%u pages)", what, (unsigned long long)new_pages,
                 (unsigned long long)instance->byte_limit, instance->memory_limit_pages);
      } else {
        snprintf(detail, sizeof(detail), "%s to %llu pages, over the runtime's largest "
                 "memory of %u pages", what, (unsigned long long)new_pages, cap);
      }
      wudf__grow_refused(instance, detail);
    }
  }
  wudf__rt_hostcall_leave(saved);
  return result;
}

/* Memories and tables are owned by the runtime record of their instance and
 * freed by wudf__rt_instance_release; the module's own free function is never
 * called, so these have nothing to do. */
static void wudf__rt_free_memory(wasm_rt_memory_t* memory) { (void)memory; }

/* ------------------------------------------------------------------ tables */

/* Records `table` in the current instance before its storage is allocated, so
 * that a trap at any point leaves nothing untracked. */
static struct wudf__rt_instance* wudf__track_table(void* table, int funcref) {
  struct wudf__rt_instance* instance = wudf__self.current;
  if (instance == NULL) wudf__out_of_memory(NULL, "");
  if (instance->table_count == instance->table_capacity) {
    uint32_t capacity = instance->table_capacity ? instance->table_capacity * 2 : 4;
    void** tables = wudf__realloc(instance->tables, capacity * sizeof(void*));
    if (tables == NULL) wudf__out_of_memory(instance, "cannot track a table");
    instance->tables = tables;
    uint8_t* kinds = wudf__realloc(instance->table_is_funcref, capacity);
    if (kinds == NULL) wudf__out_of_memory(instance, "cannot track a table");
    instance->table_is_funcref = kinds;
    instance->table_capacity = capacity;
  }
  instance->tables[instance->table_count] = table;
  instance->table_is_funcref[instance->table_count] = (uint8_t)funcref;
  instance->table_count++;
  return instance;
}

/* Allocates `elements` zeroed elements of `element_size` bytes for the
 * table just tracked (the instance's last; `kind` names its element type),
 * charged to the instance's limits, or traps. */
static void* wudf__table_storage(struct wudf__rt_instance* instance,
                                 uint32_t elements, size_t element_size, const char* kind) {
  uint32_t index = instance->table_count - 1;
  if (elements > instance->table_limit) {
    snprintf(instance->detail, sizeof(instance->detail),
             "table %u needs %u %s elements, more than the limit of %u elements "
             "per table (max_table_elements)", index, elements, kind,
             instance->table_limit);
    wudf__rt_trap(WUDF_TRAP_OUT_OF_MEMORY);
  }
  char what[96];
  snprintf(what, sizeof(what), "table %u of %u %s elements", index, elements, kind);
  uint64_t bytes = (uint64_t)elements * element_size;
  if (wudf__charge(instance, bytes, what, instance->detail, sizeof(instance->detail)) != 0) {
    wudf__rt_trap(WUDF_TRAP_OUT_OF_MEMORY);
  }
  instance->table_bytes += bytes;
  void* data = wudf__calloc(elements ? elements : 1, element_size);
  if (data == NULL) wudf__out_of_memory(instance, "cannot allocate a table");
  return data;
}

/* Grows a table's storage by `delta` elements of `element_size` bytes,
 * charged to the instance's limits, returning the new storage or NULL (the
 * grow fails, the table is intact). */
static void* wudf__table_grow_storage(void* data, uint32_t size,
                                      uint32_t max_size, uint32_t delta,
                                      size_t element_size) {
  struct wudf__rt_instance* instance = wudf__self.current;
  uint64_t new_size = (uint64_t)size + delta;
  if (instance == NULL || new_size > max_size) return NULL;
  char what[96], detail[256];
  snprintf(what, sizeof(what), "table.grow by %u elements", delta);
  if (new_size > instance->table_limit) {
    snprintf(detail, sizeof(detail), "%s to %llu, over the limit of %u elements per table "
             "(max_table_elements)", what, (unsigned long long)new_size,
             instance->table_limit);
    wudf__grow_refused(instance, detail);
    return NULL;
  }
  uint64_t bytes = (uint64_t)delta * element_size;
  if (wudf__charge(instance, bytes, what, detail, sizeof(detail)) != 0) {
    wudf__grow_refused(instance, detail);
    return NULL;
  }
  void* grown = wudf__realloc(data, (size_t)(new_size ? new_size : 1) * element_size);
  if (grown == NULL) {
    wudf__rt_uncharge(instance, bytes);
    return NULL;
  }
  instance->table_bytes += bytes;
  return grown;
}

static void wudf__rt_allocate_funcref_table(wasm_rt_funcref_table_t* table,
                                            uint32_t elements,
                                            uint32_t max_elements) {
  int saved = wudf__rt_hostcall_enter();
  table->data = NULL;
  table->size = 0;
  table->max_size = max_elements;
  struct wudf__rt_instance* instance = wudf__track_table(table, 1);
  table->data = wudf__table_storage(instance, elements, sizeof(*table->data), "funcref");
  table->size = elements;
  wudf__rt_hostcall_leave(saved);
}

static uint32_t wudf__rt_grow_funcref_table(wasm_rt_funcref_table_t* table,
                                            uint32_t delta,
                                            wasm_rt_funcref_t init) {
  int saved = wudf__rt_hostcall_enter();
  uint32_t result = UINT32_MAX;
  wasm_rt_funcref_t* data = wudf__table_grow_storage(
      table->data, table->size, table->max_size, delta, sizeof(*table->data));
  if (data != NULL) {
    for (uint32_t i = table->size; i < table->size + delta; i++) data[i] = init;
    table->data = data;
    result = table->size;
    table->size += delta;
  }
  wudf__rt_hostcall_leave(saved);
  return result;
}

static void wudf__rt_free_funcref_table(wasm_rt_funcref_table_t* table) {
  (void)table;
}

static void wudf__rt_allocate_externref_table(wasm_rt_externref_table_t* table,
                                              uint32_t elements,
                                              uint32_t max_elements) {
  int saved = wudf__rt_hostcall_enter();
  table->data = NULL;
  table->size = 0;
  table->max_size = max_elements;
  struct wudf__rt_instance* instance = wudf__track_table(table, 0);
  table->data = wudf__table_storage(instance, elements, sizeof(*table->data), "externref");
  table->size = elements;
  wudf__rt_hostcall_leave(saved);
}

static uint32_t wudf__rt_grow_externref_table(wasm_rt_externref_table_t* table,
                                              uint32_t delta,
                                              wasm_rt_externref_t init) {
  int saved = wudf__rt_hostcall_enter();
  uint32_t result = UINT32_MAX;
  wasm_rt_externref_t* data = wudf__table_grow_storage(
      table->data, table->size, table->max_size, delta, sizeof(*table->data));
  if (data != NULL) {
    for (uint32_t i = table->size; i < table->size + delta; i++) data[i] = init;
    table->data = data;
    result = table->size;
    table->size += delta;
  }
  wudf__rt_hostcall_leave(saved);
  return result;
}

static void wudf__rt_free_externref_table(wasm_rt_externref_table_t* table) {
  (void)table;
}

void wudf__rt_instance_release(struct wudf__rt_instance* instance) {
  wudf__rt_uncharge(instance, instance->memory_bytes + instance->table_bytes);
  instance->memory_bytes = instance->table_bytes = 0;
  if (instance->reservation != NULL) {
    munmap(instance->reservation, instance->reservation_size);
  }
  instance->reservation = NULL;
  instance->reservation_size = 0;
  instance->memory = NULL;
  for (uint32_t i = 0; i < instance->table_count; i++) {
    if (instance->table_is_funcref[i]) {
      wasm_rt_funcref_table_t* table = instance->tables[i];
      wudf__free(table->data);
      table->data = NULL;
    } else {
      wasm_rt_externref_table_t* table = instance->tables[i];
      wudf__free(table->data);
      table->data = NULL;
    }
  }
  wudf__free(instance->tables);
  wudf__free(instance->table_is_funcref);
  instance->tables = NULL;
  instance->table_is_funcref = NULL;
  instance->table_count = instance->table_capacity = 0;
}

/* ------------------------------------------------------------------- glue */

static void wudf__rt_trap_from_module(wasm_rt_trap_t code) {
  wudf_trap trap;
  switch (code) {
    case WASM_RT_TRAP_OOB: trap = WUDF_TRAP_OUT_OF_BOUNDS; break;
    case WASM_RT_TRAP_INT_OVERFLOW: trap = WUDF_TRAP_INTEGER_OVERFLOW; break;
    case WASM_RT_TRAP_DIV_BY_ZERO: trap = WUDF_TRAP_DIVIDE_BY_ZERO; break;
    case WASM_RT_TRAP_INVALID_CONVERSION:
      trap = WUDF_TRAP_INVALID_CONVERSION;
      break;
    case WASM_RT_TRAP_UNREACHABLE: trap = WUDF_TRAP_UNREACHABLE; break;
    case WASM_RT_TRAP_CALL_INDIRECT: trap = WUDF_TRAP_BAD_INDIRECT_CALL; break;
    case WASM_RT_TRAP_EXHAUSTION: trap = WUDF_TRAP_STACK_EXHAUSTED; break;
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION:
    default: trap = WUDF_TRAP_UNCAUGHT_EXCEPTION; break;
  }
  wudf__rt_trap(trap);
}

static const struct wudf__rt_api wudf__api = {
    .abi_version = WUDF__GLUE_ABI_VERSION,
    .trap = wudf__rt_trap_from_module,
    .register_func_type = wudf__rt_register_func_type,
    .allocate_memory = wudf__rt_allocate_memory,
    .grow_memory = wudf__rt_grow_memory,
    .free_memory = wudf__rt_free_memory,
    .allocate_funcref_table = wudf__rt_allocate_funcref_table,
    .grow_funcref_table = wudf__rt_grow_funcref_table,
    .free_funcref_table = wudf__rt_free_funcref_table,
    .allocate_externref_table = wudf__rt_allocate_externref_table,
    .grow_externref_table = wudf__rt_grow_externref_table,
    .free_externref_table = wudf__rt_free_externref_table,
    .wasi_call = wudf__wasi_call,
};

const struct wudf__rt_api* wudf__rt_api_get(void) { return &wudf__api; }

/* -------------------------------------------------------------- snapshots */

/* Bytes of one element of table `i`. */
static size_t wudf__table_element_size(const struct wudf__rt_instance* instance, uint32_t i) {
  return instance->table_is_funcref[i] ? sizeof(wasm_rt_funcref_t)
                                       : sizeof(wasm_rt_externref_t);
}

/* The data pointer and size of table `i`, whichever its kind. */
static void wudf__table_fields(const struct wudf__rt_instance* instance, uint32_t i,
                               void*** data, uint32_t** size) {
  if (instance->table_is_funcref[i]) {
    wasm_rt_funcref_table_t* table = instance->tables[i];
    *data = (void**)&table->data;
    *size = &table->size;
  } else {
    wasm_rt_externref_table_t* table = instance->tables[i];
    *data = (void**)&table->data;
    *size = &table->size;
  }
}

int wudf__rt_snapshot_take(const struct wudf__rt_instance* instance,
                           struct wudf__rt_snapshot* snapshot) {
  memset(snapshot, 0, sizeof(*snapshot));
  snapshot->memfd = -1;
  if (instance->memory != NULL && instance->memory->size > 0 &&
      instance->memory->size <= WUDF__SNAPSHOT_COPY_MAX) {
    /* Small: a copy, written back over the pages (no faults after). */
    snapshot->copy = wudf__malloc(instance->memory->size);
    if (snapshot->copy == NULL) return ENOMEM;
    memcpy(snapshot->copy, instance->memory->data, instance->memory->size);
    snapshot->memory_size = instance->memory->size;
  } else if (instance->memory != NULL && instance->memory->size > 0) {
    uint32_t size = instance->memory->size;
    snapshot->memfd = memfd_create("wasmudf-snapshot", MFD_CLOEXEC);
    if (snapshot->memfd < 0) return errno;
    size_t written = 0;
    while (written < size) {
      ssize_t n = write(snapshot->memfd, instance->memory->data + written, size - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int status = n < 0 ? errno : EIO;
        wudf__rt_snapshot_free(snapshot);
        return status;
      }
      written += (size_t)n;
    }
    snapshot->memory_size = size;
  }
  if (instance->table_count > 0) {
    snapshot->table_sizes = wudf__calloc(instance->table_count, sizeof(uint32_t));
    snapshot->table_copies = wudf__calloc(instance->table_count, sizeof(void*));
    if (snapshot->table_sizes == NULL || snapshot->table_copies == NULL) {
      wudf__rt_snapshot_free(snapshot);
      return ENOMEM;
    }
    snapshot->table_count = instance->table_count;
    for (uint32_t i = 0; i < instance->table_count; i++) {
      void** data;
      uint32_t* size;
      wudf__table_fields(instance, i, &data, &size);
      size_t bytes = (size_t)*size * wudf__table_element_size(instance, i);
      snapshot->table_sizes[i] = *size;
      if (bytes == 0) continue;
      snapshot->table_copies[i] = wudf__malloc(bytes);
      if (snapshot->table_copies[i] == NULL) {
        wudf__rt_snapshot_free(snapshot);
        return ENOMEM;
      }
      memcpy(snapshot->table_copies[i], *data, bytes);
    }
  }
  return 0;
}

int wudf__rt_snapshot_restore(struct wudf__rt_instance* instance,
                              const struct wudf__rt_snapshot* snapshot, void* state,
                              const void* state_copy, size_t state_size) {
  if (snapshot->table_count != instance->table_count ||
      (snapshot->memory_size > 0 && instance->memory == NULL)) {
    return EINVAL;
  }
  /* The tables' storage may have moved (table.grow): keep where it is now
   * across the copy of the module's state, which holds their pointers. */
  void* table_data[64];
  uint32_t kept = instance->table_count < 64 ? instance->table_count : 64;
  if (instance->table_count > 64) return ENOTSUP;
  uint32_t table_size_now[64];
  for (uint32_t i = 0; i < kept; i++) {
    void** data;
    uint32_t* size;
    wudf__table_fields(instance, i, &data, &size);
    table_data[i] = *data;
    table_size_now[i] = *size;
  }
  uint32_t memory_now = instance->memory != NULL ? instance->memory->size : 0;
  /* Linear memory: the snapshot's bytes mapped copy-on-write over the
   * first pages (what the guest wrote is dropped), pages it grew beyond
   * them back to inaccessible reservation. */
  if (snapshot->copy != NULL) {
    /* The memory is at least as large as the snapshot (it never shrinks,
     * and a reset leaves it at the snapshot's size). */
    memcpy(instance->memory->data, snapshot->copy, snapshot->memory_size);
  } else if (snapshot->memory_size > 0 &&
             mmap(instance->memory->data, snapshot->memory_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_FIXED, snapshot->memfd, 0) == MAP_FAILED) {
    return errno;
  }
  if (memory_now > snapshot->memory_size &&
      mmap(instance->memory->data + snapshot->memory_size, memory_now - snapshot->memory_size,
           PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
           0) == MAP_FAILED) {
    return errno;
  }
  /* Globals and everything else of the module's state. */
  memcpy(state, state_copy, state_size);
  if (instance->memory != NULL) {
    if (memory_now > snapshot->memory_size) {
      wudf__rt_uncharge(instance, memory_now - snapshot->memory_size);
    }
    instance->memory_bytes = snapshot->memory_size;
    instance->memory->size = snapshot->memory_size;
    instance->memory->pages = snapshot->memory_size / WUDF__PAGE_SIZE;
  }
  for (uint32_t i = 0; i < kept; i++) {
    void** data;
    uint32_t* size;
    wudf__table_fields(instance, i, &data, &size);
    size_t element = wudf__table_element_size(instance, i);
    *data = table_data[i];
    *size = snapshot->table_sizes[i];
    if (table_size_now[i] > snapshot->table_sizes[i]) {
      uint64_t bytes = (uint64_t)(table_size_now[i] - snapshot->table_sizes[i]) * element;
      wudf__rt_uncharge(instance, bytes);
      instance->table_bytes -= bytes;
    }
    if (snapshot->table_copies[i] != NULL) {
      memcpy(table_data[i], snapshot->table_copies[i], (size_t)snapshot->table_sizes[i] * element);
    }
  }
  instance->grow_refused = 0;
  instance->host_failure = 0;
  instance->exit_code = 0;
  return 0;
}

void wudf__rt_snapshot_free(struct wudf__rt_snapshot* snapshot) {
  if (snapshot->memfd >= 0) close(snapshot->memfd);
  snapshot->memfd = -1;
  wudf__free(snapshot->copy);
  snapshot->copy = NULL;
  for (uint32_t i = 0; snapshot->table_copies != NULL && i < snapshot->table_count; i++) {
    wudf__free(snapshot->table_copies[i]);
  }
  wudf__free(snapshot->table_copies);
  wudf__free(snapshot->table_sizes);
  snapshot->table_copies = NULL;
  snapshot->table_sizes = NULL;
  snapshot->table_count = 0;
  snapshot->memory_size = 0;
}
