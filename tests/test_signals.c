/*
 * test_signals.c -- signals that do not come from guest code are passed on,
 * never swallowed: a host fault reaches the handler the program installed
 * before the engine existed, and so does the runtime's interrupt signal when
 * someone other than the watchdog sends it. Guest traps still work after.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include "engine/runtime.h"
#include "helpers.h"

static sigjmp_buf host_recovery;
static volatile sig_atomic_t host_faults, foreign_interrupts;

static void host_segv_handler(int signal_number) {
  (void)signal_number;
  host_faults++;
  siglongjmp(host_recovery, 1);
}

static void host_interrupt_handler(int signal_number, siginfo_t* info, void* context) {
  (void)signal_number;
  (void)context;
  if (info->si_value.sival_int == 1234) foreign_interrupts++;
}

static struct wudf_engine* engine;
static struct wudf_module* traps;

TEST(host_fault_reaches_the_previous_handler) {
  if (sigsetjmp(host_recovery, 1) == 0) {
    volatile int* volatile nowhere = (int*)16;
    *nowhere = 1; /* a bug in the host, not in a guest */
    TEST_FAIL("the write should have faulted");
  }
  ASSERT_EQ(host_faults, 1);
  /* Guest faults are still traps, not given to the host's handler. */
  struct wudf_instance* instance = new_instance(traps);
  struct wudf_error error;
  struct wudf_value address = i32_value(1 << 20), result;
  ASSERT_STATUS(wudf_instance_call_name(instance, "load", &address, 1, &result, 1,
                                        WUDF_TIMEOUT_DEFAULT, &error), EFAULT, &error);
  ASSERT_EQ(error.trap, WUDF_TRAP_OUT_OF_BOUNDS);
  ASSERT_EQ(host_faults, 1);
  wudf_instance_free(instance);
}

TEST(foreign_interrupt_signal_is_passed_on) {
  union sigval value = {.sival_int = 1234};
  ASSERT_EQ(sigqueue(getpid(), wudf__interrupt_signal(), value), 0);
  for (int i = 0; i < 1000 && foreign_interrupts == 0; i++) usleep(1000);
  ASSERT_EQ(foreign_interrupts, 1);
  /* Timeouts still work. */
  struct wudf_instance* instance = new_instance(traps);
  struct wudf_error error;
  ASSERT_STATUS(wudf_instance_call_name(instance, "spin", NULL, 0, NULL, 0, 20, &error),
                ETIMEDOUT, &error);
  wudf_instance_free(instance);
  ASSERT_EQ(foreign_interrupts, 1);
}

int main(void) {
  /* The program's own handlers, installed before the engine's. */
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = host_segv_handler;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, NULL);
  action.sa_sigaction = host_interrupt_handler;
  action.sa_flags = SA_SIGINFO;
  sigaction(wudf__interrupt_signal(), &action, NULL);

  engine = new_engine();
  traps = load_module(engine, "traps");
  RUN_TEST(host_fault_reaches_the_previous_handler);
  RUN_TEST(foreign_interrupt_signal_is_passed_on);
  wudf_module_free(traps);
  wudf_engine_free(engine);
  return TEST_SUMMARY();
}
