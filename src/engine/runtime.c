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
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* A fault this close to the low end of the thread's stack is exhaustion. */
#define WUDF__STACK_FAULT_BELOW ((uintptr_t)1 << 20)
#define WUDF__STACK_FAULT_ABOVE ((uintptr_t)256 << 10)

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
  volatile sig_atomic_t trap_signal; /* the signal that unwound, to unblock */
  volatile sig_atomic_t armed;       /* a deadline is armed for this call */
  volatile uint32_t generation;      /* of the armed call */
  uintptr_t stack_low;
  void* altstack;                    /* ours, if we installed one */
  unsigned altstack_id;              /* its valgrind stack id, if any */
  struct wudf__watch_slot* slot;
};

static __thread struct wudf__thread wudf__self
    __attribute__((tls_model("initial-exec")));

static pthread_once_t wudf__process_once = PTHREAD_ONCE_INIT;
static int wudf__process_error;
static pthread_key_t wudf__thread_key;
static struct sigaction wudf__previous_segv, wudf__previous_bus,
    wudf__previous_interrupt;

/* ------------------------------------------------------------------ signals */

int wudf__interrupt_signal(void) { return SIGRTMAX - 3; }

/* Hands a signal we do not handle to the handler installed before ours. For a
 * fault with the default disposition, restores it and returns: the faulting
 * instruction runs again and the process dies as it would have without us. */
static void wudf__chain_signal(int signal_number, siginfo_t* info,
                               void* context,
                               const struct sigaction* previous) {
  if (previous->sa_flags & SA_SIGINFO) {
    previous->sa_sigaction(signal_number, info, context);
    return;
  }
  if (previous->sa_handler == SIG_IGN &&
      signal_number != SIGSEGV && signal_number != SIGBUS) {
    return;
  }
  if (previous->sa_handler == SIG_DFL || previous->sa_handler == SIG_IGN) {
    signal(signal_number, SIG_DFL);
    if (signal_number != SIGSEGV && signal_number != SIGBUS) {
      raise(signal_number); /* delivered when this handler returns */
    }
    return;
  }
  previous->sa_handler(signal_number);
}

static void wudf__on_fault(int signal_number, siginfo_t* info, void* context) {
  struct wudf__thread* self = &wudf__self;
  if (self->state == WUDF__STATE_GUEST && self->jump != NULL) {
    uintptr_t address = (uintptr_t)info->si_addr;
    struct wudf__rt_instance* instance = self->current;
    wudf_trap trap = WUDF_TRAP_NONE;
    if (instance != NULL && instance->reservation != NULL &&
        address - (uintptr_t)instance->reservation <
            instance->reservation_size) {
      trap = WUDF_TRAP_OUT_OF_BOUNDS;
    } else if (address + WUDF__STACK_FAULT_BELOW >= self->stack_low &&
               address < self->stack_low + WUDF__STACK_FAULT_ABOVE) {
      trap = WUDF_TRAP_STACK_EXHAUSTED;
    }
    if (trap != WUDF_TRAP_NONE) {
      self->trap_signal = signal_number;
      siglongjmp(*self->jump, (int)trap);
    }
  }
  wudf__chain_signal(signal_number, info, context,
                     signal_number == SIGSEGV ? &wudf__previous_segv
                                              : &wudf__previous_bus);
}

static void wudf__on_interrupt(int signal_number, siginfo_t* info,
                               void* context) {
  if (info->si_code == SI_QUEUE && info->si_pid == getpid()) {
    uint64_t value = (uint64_t)(uintptr_t)info->si_value.sival_ptr;
    if ((uint32_t)(value >> 32) == WUDF__INTERRUPT_MAGIC) {
      struct wudf__thread* self = &wudf__self;
      if (self->armed && (uint32_t)value == self->generation) {
        if (self->state == WUDF__STATE_GUEST && self->jump != NULL) {
          self->trap_signal = signal_number;
          siglongjmp(*self->jump, (int)WUDF_TRAP_TIMEOUT);
        }
        if (self->state == WUDF__STATE_HOSTCALL) self->pending_interrupt = 1;
      }
      return; /* ours, but for a call that already ended */
    }
  }
  wudf__chain_signal(signal_number, info, context, &wudf__previous_interrupt);
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

static void wudf__process_init(void) {
  if (pthread_key_create(&wudf__thread_key, wudf__thread_exit) != 0) {
    wudf__process_error = EAGAIN;
    return;
  }
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = wudf__on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, wudf__interrupt_signal());
  if (sigaction(SIGSEGV, &action, &wudf__previous_segv) != 0 ||
      sigaction(SIGBUS, &action, &wudf__previous_bus) != 0) {
    wudf__process_error = errno;
    return;
  }
  action.sa_sigaction = wudf__on_interrupt;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(wudf__interrupt_signal(), &action,
                &wudf__previous_interrupt) != 0) {
    wudf__process_error = errno;
  }
}

/* Sets up the calling thread: stack bounds, an alternate signal stack (unless
 * the thread has one), and its watchdog slot. Returns 0 or an errno. */
static int wudf__thread_init(struct wudf__thread* self) {
  pthread_attr_t attributes;
  void* stack_address;
  size_t stack_size;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return EAGAIN;
  int status = pthread_attr_getstack(&attributes, &stack_address, &stack_size);
  pthread_attr_destroy(&attributes);
  if (status != 0) return EAGAIN;
  self->stack_low = (uintptr_t)stack_address;

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
  if (self->state != WUDF__STATE_HOST) return -EDEADLK;
  if (!self->initialised) {
    int status = wudf__thread_init(self);
    if (status != 0) return -status;
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
  if (self->trap_signal != 0) {
    /* We left a handler by siglongjmp without restoring the signal mask (that
     * would cost a system call on every run): unblock what delivery blocked. */
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, self->trap_signal);
    sigaddset(&unblock, wudf__interrupt_signal());
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    self->trap_signal = 0;
  }
  return trap;
}

struct wudf__rt_instance* wudf__rt_current(void) { return wudf__self.current; }

int wudf__rt_hostcall_enter(void) {
  struct wudf__thread* self = &wudf__self;
  int saved = self->state;
  if (saved == WUDF__STATE_GUEST) {
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (here - self->stack_low < WUDF__HOSTCALL_STACK_RESERVE) {
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

static pthread_mutex_t wudf__retain_lock = PTHREAD_MUTEX_INITIALIZER;

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

static pthread_mutex_t wudf__types_lock = PTHREAD_MUTEX_INITIALIZER;
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
