/*
 * runtime.h -- the engine's implementation of the wasm-rt runtime (internal).
 *
 * Compiled modules call into the host through `struct wudf__rt_api`
 * (glue_abi.h); this layer implements it:
 *   - linear memory reserved as 8 GiB of PROT_NONE address space, of which
 *     only the current size is accessible, so the base never moves and every
 *     out-of-bounds access lands on a guard page;
 *   - tables, with a cap on their size;
 *   - the process-wide function-type registry, behind a mutex;
 *   - traps: thread-local unwind state; SIGSEGV/SIGBUS from guest code (guard
 *     pages, native stack exhaustion, handled on a per-thread alternate
 *     signal stack) and the watchdog's interrupt signal become traps, while
 *     any signal that does not come from guest code goes to whatever handler
 *     the process had before;
 *   - host cooperation: the signals it needs are unblocked for each run, the
 *     signal mode decides who owns SIGSEGV/SIGBUS (wudf_set_signal_mode,
 *     wudf_handle_signal), fork is handled with pthread_atfork.
 *
 * The unit of execution is wudf__rt_run: it runs a piece of guest code (a
 * constructor or an export call) on the calling thread, under a deadline, and
 * returns the trap that stopped it, if any.
 */
#ifndef WUDF_ENGINE_RUNTIME_H
#define WUDF_ENGINE_RUNTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "glue_abi.h"
#include "layer.h"

/* The largest memory a module can have: 65535 pages, since wasm-rt.h keeps the
 * byte size in a uint32_t. */
#define WUDF__MAX_PAGES 65535u
#define WUDF__PAGE_SIZE 65536u

/* An engine-wide memory budget: the bytes of linear memory and tables that
 * all instances sharing it hold, against `limit` (0: none). Instances
 * charge it as they allocate and grow, with a compare-and-swap, and give
 * their share back when released. */
struct wudf__rt_budget {
  _Atomic uint64_t used;
  uint64_t limit;
};

/* Everything the runtime allocated for one instance. The instance's owner
 * sets the limits before the first run and calls wudf__rt_instance_release
 * when done; the runtime fills in the rest.
 *
 * Accounting: linear memory (its current size) and tables (the bytes their
 * elements take in host memory: sizeof(wasm_rt_funcref_t) = 24 per funcref
 * element, 8 per externref element) are charged against `byte_limit`, the
 * instance's memory_limit, and against the engine's budget. Allocations
 * over either are refused: at instantiation with an out-of-memory trap,
 * in memory.grow and table.grow with -1 as the specification says -- and
 * then remembered, so that a guest that gives up with `unreachable` (what
 * abort() compiles to) is reported as out of memory. */
struct wudf__rt_instance {
  uint32_t memory_limit_pages;  /* cap on memory 0 (<= WUDF__MAX_PAGES) */
  uint32_t table_limit;         /* cap on elements of each table */
  uint64_t byte_limit;          /* cap on memory + tables in bytes, 0: none */
  struct wudf__rt_budget* budget; /* the engine's, or NULL */
  void* wasi_context;           /* handed to WASI functions */

  uint64_t memory_bytes;        /* charged for linear memory */
  uint64_t table_bytes;         /* charged for tables */
  /* Set when a memory.grow or table.grow of the current run was refused by
   * a limit of the host (not by the module's own maximum); `refusal`
   * explains it. Cleared when a run starts. */
  int grow_refused;
  char refusal[256];

  wasm_rt_memory_t* memory;     /* memory 0, or NULL */
  uint8_t* reservation;         /* its whole reserved address range */
  size_t reservation_size;

  void** tables;                /* every table allocated, to free */
  uint8_t* table_is_funcref;
  uint32_t table_count;
  uint32_t table_capacity;

  int exit_code;                /* for WUDF_TRAP_EXIT */
  char detail[256];             /* explains WUDF_TRAP_OUT_OF_MEMORY */
  /* Nonzero when the run's WUDF_TRAP_OUT_OF_MEMORY is the host's own
   * failure (an allocation or a mapping), not the guest's limit. */
  int host_failure;
};

/* The runtime as handed to compiled modules. */
const struct wudf__rt_api* wudf__rt_api_get(void);

/*
 * Runs body(closure) on the calling thread as guest code of `instance` (which
 * may be NULL for code that allocates nothing, such as a module's type
 * registration), with a deadline of `timeout_ms` (0: none). SIGSEGV, SIGBUS
 * and the interrupt signal are unblocked on the thread while it runs; the
 * caller's signal mask is restored after. Returns WUDF_TRAP_NONE when body
 * returns normally, otherwise the trap that unwound it. Returns a negative
 * errno, without running anything, when it cannot run guest code safely
 * (wudf__rt_refusal explains): -EDEADLK from inside guest code (a WASI
 * function), -EPERM when another handler displaced the runtime's SIGSEGV or
 * SIGBUS handler (signal mode WUDF_SIGNALS_CHECK), -ENOMEM or -EAGAIN when
 * the thread's runtime state (alternate signal stack, watchdog slot) or the
 * watchdog cannot be set up.
 */
int wudf__rt_run(struct wudf__rt_instance* instance, void (*body)(void*),
                 void* closure, uint64_t timeout_ms);

/* wudf__rt_batch_enter and wudf__rt_batch_leave, the batches of runs a
 * layer above brackets its export calls with, are declared in layer.h. */

/* Why the last wudf__rt_run on this thread refused with -`code`: a sentence
 * for an error message (strerror(code) when there is nothing better). Valid
 * until the thread's next run. */
const char* wudf__rt_refusal(int code);

/*
 * A snapshot of an instance's linear memory and tables, for a fast reset:
 * a memory of at most WUDF__SNAPSHOT_COPY_MAX bytes as a copy written back
 * over its pages (no page faults afterwards); a larger one's bytes in a
 * memfd, mapped copy-on-write over the memory when restored (one mmap:
 * pages the guest wrote are dropped, untouched pages cost nothing); each
 * table's size and elements. wudf__rt_snapshot_take
 * returns 0 or an errno (ENOMEM, or memfd_create's); the snapshot is freed
 * with wudf__rt_snapshot_free.
 *
 * wudf__rt_snapshot_restore returns the instance to the snapshot: memory
 * mapped back to the snapshot's bytes and size (pages grown since are made
 * inaccessible again and their charge given back), the module's state
 * struct `state` (globals, the memory and table descriptors) copied from
 * `state_copy` (taken with the snapshot), tables back to their size and
 * elements (their storage stays where it is). 0, or an errno when a
 * mapping fails (the instance must then be discarded).
 */
#define WUDF__SNAPSHOT_COPY_MAX ((uint32_t)1 << 20)
struct wudf__rt_snapshot {
  uint8_t* copy;            /* the bytes of a small memory, or NULL */
  int memfd;                /* a larger memory's bytes, or -1 */
  uint32_t memory_size;     /* bytes */
  uint32_t table_count;
  uint32_t* table_sizes;
  void** table_copies;
};
int wudf__rt_snapshot_take(const struct wudf__rt_instance* instance,
                           struct wudf__rt_snapshot* snapshot);
int wudf__rt_snapshot_restore(struct wudf__rt_instance* instance,
                              const struct wudf__rt_snapshot* snapshot, void* state,
                              const void* state_copy, size_t state_size);
void wudf__rt_snapshot_free(struct wudf__rt_snapshot* snapshot);

/* Frees the memory and tables of `instance` and zeroes its bookkeeping. */
void wudf__rt_instance_release(struct wudf__rt_instance* instance);

/* For host functions called from guest code (WASI): the instance being run
 * on this thread, and the bracket that marks host code, so that an interrupt
 * is deferred while host code runs and delivered (as a timeout trap) when the
 * host function returns to the guest. wudf__rt_hostcall_enter traps with
 * WUDF_TRAP_STACK_EXHAUSTED when too little native stack is left to run host
 * code safely. */
struct wudf__rt_instance* wudf__rt_current(void);
int wudf__rt_hostcall_enter(void);
void wudf__rt_hostcall_leave(int saved);

/* Unwinds the current run with `trap` (from host code called by the guest). */
__attribute__((noreturn)) void wudf__rt_trap(wudf_trap trap);

/* Engines hold the process-wide runtime services (signal handlers, the
 * watchdog thread) while they live. Retain returns 0 or an errno. */
int wudf__rt_retain(struct wudf_error* error);
void wudf__rt_release(void);

/* The watchdog (watchdog.c): a thread that interrupts calls past their
 * deadline by sending the runtime's interrupt signal to the calling thread. */
struct wudf__watch_slot;
int wudf__watchdog_retain(void);
void wudf__watchdog_release(void);
/* Starts the watchdog again in a child process forked while it ran (it does
 * not survive fork). One atomic load when nothing is to be done. Returns 0 or
 * an errno. */
int wudf__watchdog_ensure(void);
/* A slot per thread that runs guest code; NULL when out of memory. */
struct wudf__watch_slot* wudf__watch_slot_new(void);
void wudf__watch_slot_free(struct wudf__watch_slot* slot);
/* Arms the slot for a call of `timeout_ms` and returns the call's generation,
 * which the interrupt signal carries so a late signal cannot hit a later
 * call. */
uint32_t wudf__watch_arm(struct wudf__watch_slot* slot, uint64_t timeout_ms);
void wudf__watch_disarm(struct wudf__watch_slot* slot);

/* The interrupt signal and the tag in its value that marks it as ours. */
int wudf__interrupt_signal(void);
#define WUDF__INTERRUPT_MAGIC 0x57554446u /* "WUDF" */

/* Checks that the runtime's handler of the interrupt signal is installed and
 * installs it again if another displaced it (the signal is reserved for the
 * runtime); the watchdog calls it before it interrupts a call. Returns 0 or
 * an errno. */
int wudf__rt_check_interrupt_handler(void);

/* The stages of fork, for the pthread_atfork handlers the runtime registers:
 * each part with locks takes them at PREPARE and gives them up in the parent
 * and the child, where it also forgets the threads that did not survive. */
enum { WUDF__FORK_PREPARE, WUDF__FORK_PARENT, WUDF__FORK_CHILD };
void wudf__watchdog_fork(int stage);
void wudf__loader_fork(int stage); /* compile.c: the table of loaded objects */

#endif /* WUDF_ENGINE_RUNTIME_H */
