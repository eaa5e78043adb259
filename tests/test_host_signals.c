/*
 * test_host_signals.c -- the runtime in hosts that do not leave signals to
 * it: a thread that blocks every signal still traps and times out, and gets
 * its mask back; a child forked after the engine (even while other threads
 * load modules and time out) has a working watchdog and no stale locks; a
 * SIGSEGV handler installed after the engine keeps guest traps working when
 * it forwards with wudf_handle_signal, gets a clear EPERM refusal when it
 * does not, and is worked around by WUDF_SIGNALS_REINSTALL (host faults
 * still reach it); a handler that took the deadline signal is displaced
 * again by the watchdog (and still gets the signals that are not ours); and
 * a call on a stack pthread does not know (a coroutine's) still turns deep
 * recursion into a trap, and refuses host calls deeper than the stack it
 * assumes there (which run on the main thread's known stack).
 *
 * Tests that change the process's signal handlers run in a child process, so
 * the others see the handlers the engine installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif

#include "helpers.h"

static struct wudf_engine* engine;
static struct wudf_module* traps;

static double now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

/* Runs `scenario` in a child process and asserts that it exits with 0 (its
 * assertions end it with 1) within `seconds`, not by a signal or a hang. */
static void run_in_child(void (*scenario)(void), int seconds) {
  fflush(stdout);
  fflush(stderr);
  pid_t child = fork();
  ASSERT(child >= 0);
  if (child == 0) {
    if (setjmp(test__escape) == 0) {
      scenario();
      fflush(stdout);
      _exit(0);
    }
    fflush(stdout);
    _exit(1);
  }
  int status = 0;
  double deadline = now_ms() + seconds * 1000.0;
  for (;;) {
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    ASSERT(done == 0 || errno == EINTR);
    if (now_ms() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      TEST_FAIL("the child process hung for %d s", seconds);
    }
    usleep(2000);
  }
  if (WIFSIGNALED(status)) TEST_FAIL("the child died of signal %d", WTERMSIG(status));
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* Seconds a child may take: guest code under valgrind is slow. */
static int child_seconds(void) { return timing_slack_ms() > 1000 ? 120 : 20; }

/* The guest calls every test makes: a timeout, an out-of-bounds trap, stack
 * exhaustion, and a call that works. */
static void calls_trap_and_time_out(void) {
  struct wudf_error error;
  struct wudf_instance* instance = new_instance(traps);
  double start = now_ms();
  ASSERT_STATUS(wudf_instance_call_name(instance, "spin", NULL, 0, NULL, 0, 30, &error),
                ETIMEDOUT, &error);
  /* Latency is test_timeout's business; a generous bound here, for a
   * machine busy with forks and other threads. */
  double elapsed = now_ms() - start;
  if (elapsed > 30.0 + 10 * timing_slack_ms()) {
    TEST_FAIL("the 30 ms deadline stopped the call after %.1f ms", elapsed);
  }
  wudf_instance_free(instance);

  instance = new_instance(traps);
  struct wudf_value address = i32_value(1 << 20), result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "load", &address, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_BOUNDS);
  wudf_instance_free(instance);

  instance = new_instance(traps);
  struct wudf_value zero = i32_value(0);
  ASSERT_STATUS(wudf_instance_call_name(instance, "recurse", &zero, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_STACK_EXHAUSTED);
  wudf_instance_free(instance);

  instance = new_instance(traps);
  struct wudf_value args[2] = {i32_value(40), i32_value(2)};
  ASSERT_EQ(call_i32(instance, "add", args, 2), 42);
  wudf_instance_free(instance);
}

/* ------------------------------------------------------------ signal masks */

struct blocked_result {
  int failed;
  int mask_kept;
};

static void* blocked_thread_main(void* argument) {
  struct blocked_result* result = argument;
  sigset_t all, after;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  /* The assertions end the thread's part with a longjmp: catch it here. */
  jmp_buf saved;
  memcpy(saved, test__escape, sizeof(saved));
  if (setjmp(test__escape) == 0) {
    calls_trap_and_time_out();
  } else {
    result->failed = 1;
  }
  memcpy(test__escape, saved, sizeof(saved));
  pthread_sigmask(SIG_SETMASK, NULL, &after);
  result->mask_kept = sigismember(&after, SIGSEGV) == 1 &&
                      sigismember(&after, SIGBUS) == 1 &&
                      sigismember(&after, SIGRTMAX - 3) == 1 &&
                      sigismember(&after, SIGUSR1) == 1;
  return NULL;
}

TEST(thread_blocking_every_signal_traps_and_times_out) {
  struct blocked_result result = {0, 0};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, NULL, blocked_thread_main, &result), 0);
  ASSERT_EQ(pthread_join(thread, NULL), 0);
  ASSERT_EQ(result.failed, 0);
  ASSERT_EQ(result.mask_kept, 1); /* the caller's mask, restored exactly */
}

TEST(main_thread_blocking_faults_gets_its_mask_back) {
  sigset_t block, before, after;
  sigemptyset(&block);
  sigaddset(&block, SIGSEGV);
  sigaddset(&block, SIGRTMAX - 3);
  pthread_sigmask(SIG_BLOCK, &block, &before);
  calls_trap_and_time_out();
  pthread_sigmask(SIG_SETMASK, &before, &after);
  ASSERT_EQ(sigismember(&after, SIGSEGV), 1);
  ASSERT_EQ(sigismember(&after, SIGRTMAX - 3), 1);
  ASSERT_EQ(sigismember(&after, SIGBUS), sigismember(&before, SIGBUS));
}

/* -------------------------------------------------------------------- fork */

static void child_after_fork(void) {
  calls_trap_and_time_out();
  /* Loading takes the loader's lock and registers types. */
  struct wudf_module* names = load_module(engine, "names");
  struct wudf_instance* instance = new_instance(names);
  ASSERT_EQ(call_i32(instance, "Zed", NULL, 0), 2);
  wudf_instance_free(instance);
  wudf_module_free(names);
}

TEST(forked_child_has_a_watchdog) {
  calls_trap_and_time_out(); /* the watchdog runs in the parent */
  run_in_child(child_after_fork, child_seconds());
  calls_trap_and_time_out(); /* and still does */
}

static atomic_int busy_stop;
static atomic_int busy_rounds;

/* Keeps the runtime's locks busy: loads, instantiations, timeouts. */
static void* busy_thread_main(void* unused) {
  (void)unused;
  while (!atomic_load(&busy_stop)) {
    struct wudf_module* module = NULL;
    struct wudf_instance* instance = NULL;
    if (wudf_module_load_file(engine, module_path("names"), &module, NULL) == 0) {
      if (wudf_instance_new(module, NULL, &instance, NULL) == 0) {
        wudf_instance_free(instance);
      }
      wudf_module_free(module);
    }
    if (wudf_instance_new(traps, NULL, &instance, NULL) == 0) {
      wudf_instance_call_name(instance, "spin", NULL, 0, NULL, 0, 1, NULL);
      wudf_instance_free(instance);
    }
    atomic_fetch_add(&busy_rounds, 1);
  }
  return NULL;
}

TEST(fork_while_other_threads_load_and_time_out) {
  pthread_t busy;
  atomic_store(&busy_stop, 0);
  atomic_store(&busy_rounds, 0);
  ASSERT_EQ(pthread_create(&busy, NULL, busy_thread_main, NULL), 0);
  while (atomic_load(&busy_rounds) < 2) usleep(1000);
  int forks = timing_slack_ms() > 1000 ? 3 : 12;
  for (int i = 0; i < forks; i++) {
    run_in_child(child_after_fork, child_seconds());
    usleep(3000);
  }
  atomic_store(&busy_stop, 1);
  ASSERT_EQ(pthread_join(busy, NULL), 0);
}

/* ------------------------------------------------ handlers installed later */

static sigjmp_buf host_recovery;
static volatile sig_atomic_t host_faults;

/* A host handler that knows about wasmudf: guest faults first. */
static void forwarding_handler(int signal_number, siginfo_t* info, void* context) {
  if (wudf_handle_signal(signal_number, info, context)) return;
  host_faults++;
  siglongjmp(host_recovery, 1);
}

/* A host handler that does not: every SIGSEGV is the host's. */
static void oblivious_handler(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)info;
  (void)context;
  host_faults++;
  siglongjmp(host_recovery, 1);
}

static void install_host_handler(void (*handler)(int, siginfo_t*, void*)) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGSEGV, &action, NULL), 0);
}

/* Makes a fault in host code and asserts the host's handler got it. */
static void host_fault_reaches_host_handler(void) {
  int before = host_faults;
  if (sigsetjmp(host_recovery, 1) == 0) {
    volatile int* volatile nowhere = (int*)16;
    *nowhere = 1; /* a bug in the host */
    TEST_FAIL("the write should have faulted");
  }
  ASSERT_EQ(host_faults, before + 1);
}

static void forwarding_handler_installed_later(void) {
  ASSERT_EQ(wudf_set_signal_mode(WUDF_SIGNALS_FORWARD), 0);
  install_host_handler(forwarding_handler);
  calls_trap_and_time_out();
  ASSERT_EQ(host_faults, 0); /* guest faults never reached the host */
  host_fault_reaches_host_handler();
  calls_trap_and_time_out();
}

static void forward_mode_before_the_first_engine(void) {
  /* A host that owns SIGSEGV from the start: the engine must not take it. */
  ASSERT_EQ(wudf_set_signal_mode(WUDF_SIGNALS_FORWARD), 0);
  install_host_handler(forwarding_handler);
  struct sigaction bus_before, current;
  ASSERT_EQ(sigaction(SIGBUS, NULL, &bus_before), 0); /* a sanitizer's, or none */
  engine = new_engine();
  traps = load_module(engine, "traps");
  ASSERT_EQ(sigaction(SIGSEGV, NULL, &current), 0);
  ASSERT(current.sa_sigaction == forwarding_handler);
  ASSERT_EQ(sigaction(SIGBUS, NULL, &current), 0);
  ASSERT(current.sa_sigaction == bus_before.sa_sigaction);
  calls_trap_and_time_out();
  host_fault_reaches_host_handler();

  /* Back to the default mode: the next call installs the runtime's handlers
   * (on top of the host's, which gets the faults that are not the guest's). */
  ASSERT_EQ(wudf_set_signal_mode(WUDF_SIGNALS_CHECK), 0);
  calls_trap_and_time_out();
  ASSERT_EQ(sigaction(SIGSEGV, NULL, &current), 0);
  ASSERT(current.sa_sigaction != forwarding_handler);
  host_fault_reaches_host_handler();
  ASSERT_EQ(host_faults, 2);
  wudf_module_free(traps);
  wudf_engine_free(engine);
}

TEST(forward_mode_before_the_first_engine_installs_nothing) {
  run_in_child(forward_mode_before_the_first_engine, child_seconds());
}

TEST(forwarding_handler_installed_after_the_engine) {
  run_in_child(forwarding_handler_installed_later, child_seconds());
}

static void oblivious_handler_is_refused(void) {
  struct sigaction ours;
  ASSERT_EQ(sigaction(SIGSEGV, NULL, &ours), 0);
  install_host_handler(oblivious_handler);
  /* Instantiation runs guest code too: refused before any runs. */
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  ASSERT_STATUS(wudf_instance_new(traps, NULL, &instance, &error), EPERM, &error);
  ASSERT_CONTAINS(error.message, "instantiation: cannot run guest code here: the "
                  "runtime's SIGSEGV handler was replaced by the handler at 0x");
  ASSERT_CONTAINS(error.message, "wudf_handle_signal");
  printf("  %s\n", error.message);

  /* With the runtime's handler back, calls work; displaced again, a call is
   * refused and the instance is not broken by it. */
  ASSERT_EQ(sigaction(SIGSEGV, &ours, NULL), 0);
  instance = new_instance(traps);
  install_host_handler(oblivious_handler);
  struct wudf_value args[2] = {i32_value(40), i32_value(2)}, result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "add", args, 2, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EPERM, &error);
  ASSERT_CONTAINS(error.message, "export 'add': cannot run guest code here: the "
                  "runtime's SIGSEGV handler was replaced");
  ASSERT_EQ(wudf_instance_is_broken(instance), 0);
  ASSERT_EQ(sigaction(SIGSEGV, &ours, NULL), 0);
  ASSERT_EQ(call_i32(instance, "add", args, 2), 42);
  wudf_instance_free(instance);
  ASSERT_EQ(host_faults, 0);
}

TEST(oblivious_handler_gets_a_clear_refusal) {
  run_in_child(oblivious_handler_is_refused, child_seconds());
}

static void reinstall_mode_takes_the_signal_back(void) {
  ASSERT_EQ(wudf_set_signal_mode(WUDF_SIGNALS_REINSTALL), 0);
  install_host_handler(oblivious_handler);
  calls_trap_and_time_out(); /* the first call took SIGSEGV back */
  ASSERT_EQ(host_faults, 0);
  /* A host fault goes to the handler installed later, as if we had never
   * taken the signal back; the next guest call takes it back again. */
  host_fault_reaches_host_handler();
  calls_trap_and_time_out();
  host_fault_reaches_host_handler();
  ASSERT_EQ(host_faults, 2);
}

TEST(reinstall_mode_keeps_traps_and_host_faults_working) {
  run_in_child(reinstall_mode_takes_the_signal_back, child_seconds());
}

static volatile sig_atomic_t foreign_interrupts;

static void interrupt_taker(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)context;
  if (info->si_value.sival_int == 1234) foreign_interrupts++;
}

static void interrupt_handler_is_taken_back(void) {
  /* SIGRTMAX - 3 is reserved for the library; someone took it anyway. */
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = interrupt_taker;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGRTMAX - 3, &action, NULL), 0);
  /* The watchdog takes it back before it interrupts the call... */
  calls_trap_and_time_out();
  /* ...and passes on the signals that are not the library's. */
  union sigval value = {.sival_int = 1234};
  ASSERT_EQ(sigqueue(getpid(), SIGRTMAX - 3, value), 0);
  for (int i = 0; i < 1000 && foreign_interrupts == 0; i++) usleep(1000);
  ASSERT_EQ(foreign_interrupts, 1);
}

TEST(displaced_interrupt_handler_is_taken_back) {
  run_in_child(interrupt_handler_is_taken_back, child_seconds());
}

/* --------------------------------------------------------- unknown stacks */

#define COROUTINE_STACK ((size_t)4 << 20)

static ucontext_t main_context, coroutine_context;
static int coroutine_failed;
static struct wudf_module* deep_host;

/* Calls grow_deep(depth): recursion, then a host call at the deepest point. */
static int grow_deep(int32_t depth, struct wudf_error* error, int32_t* result) {
  struct wudf_instance* instance = new_instance(deep_host);
  struct wudf_value argument = i32_value(depth), value;
  int status = wudf_instance_call_name(instance, "grow_deep", &argument, 1, &value, 1,
                                       WUDF_TIMEOUT_DEFAULT, error);
  *result = value.of.i32;
  wudf_instance_free(instance);
  return status;
}

/* A host call this deep (about 1 MiB: the compiler folds three levels into
 * a 16-byte frame) is more than the 256 KiB the runtime assumes of a stack
 * it cannot see, and well within the 4 MiB coroutine stack or the main
 * thread's. */
#define DEEP_HOST_CALL 200000

static void coroutine_main(void) {
  jmp_buf saved;
  memcpy(saved, test__escape, sizeof(saved));
  if (setjmp(test__escape) == 0) {
    calls_trap_and_time_out();
    struct wudf_error error;
    int32_t result;
    ASSERT_OK(grow_deep(10, &error, &result), &error);
    ASSERT_EQ(result, 11);
    /* Deeper than the assumed stack: the host call traps instead of running
     * on stack the runtime cannot vouch for. */
    ASSERT_STATUS(grow_deep(DEEP_HOST_CALL, &error, &result), EFAULT, &error);
    ASSERT_EQ(error.trap, WUDF_TRAP_STACK_EXHAUSTED);
  } else {
    coroutine_failed = 1;
  }
  memcpy(test__escape, saved, sizeof(saved));
}

TEST(deep_host_call_on_a_known_stack_runs) {
  struct wudf_error error;
  int32_t result;
  ASSERT_OK(grow_deep(DEEP_HOST_CALL, &error, &result), &error);
  ASSERT_EQ(result, DEEP_HOST_CALL + 1);
}

TEST(recursion_on_a_coroutine_stack_traps) {
  /* A stack pthread does not report, with a guard page below it. */
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char* region = mmap(NULL, COROUTINE_STACK + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT(region != MAP_FAILED);
  ASSERT_EQ(mprotect(region, page, PROT_NONE), 0);
#ifdef HAVE_VALGRIND
  unsigned stack_id = VALGRIND_STACK_REGISTER(region + page, region + page + COROUTINE_STACK);
#endif
  ASSERT_EQ(getcontext(&coroutine_context), 0);
  coroutine_context.uc_stack.ss_sp = region + page;
  coroutine_context.uc_stack.ss_size = COROUTINE_STACK;
  coroutine_context.uc_link = &main_context;
  makecontext(&coroutine_context, coroutine_main, 0);
  coroutine_failed = 0;
  ASSERT_EQ(swapcontext(&main_context, &coroutine_context), 0);
#ifdef HAVE_VALGRIND
  VALGRIND_STACK_DEREGISTER(stack_id);
#endif
  munmap(region, COROUTINE_STACK + page);
  ASSERT_EQ(coroutine_failed, 0);
}

int main(void) {
  /* First, in a child of a process that has made no engine yet. */
  RUN_TEST(forward_mode_before_the_first_engine_installs_nothing);
  engine = new_engine();
  traps = load_module(engine, "traps");
  deep_host = load_module(engine, "deep_host");
  RUN_TEST(thread_blocking_every_signal_traps_and_times_out);
  RUN_TEST(main_thread_blocking_faults_gets_its_mask_back);
  RUN_TEST(forked_child_has_a_watchdog);
  RUN_TEST(fork_while_other_threads_load_and_time_out);
  RUN_TEST(forwarding_handler_installed_after_the_engine);
  RUN_TEST(oblivious_handler_gets_a_clear_refusal);
  RUN_TEST(reinstall_mode_keeps_traps_and_host_faults_working);
  RUN_TEST(displaced_interrupt_handler_is_taken_back);
  RUN_TEST(deep_host_call_on_a_known_stack_runs);
  RUN_TEST(recursion_on_a_coroutine_stack_traps);
  wudf_module_free(deep_host);
  wudf_module_free(traps);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
