/*
 * bench_deadline.c -- how late a deadline stops a runaway guest: a module
 * whose export `spin` loops forever (built here, byte by byte) is called
 * 100 times with each deadline of 1, 10 and 100 ms, each call on a fresh
 * instance (the timeout breaks the instance), and the time from the call's
 * start to the error, less the deadline, is reported as its median and
 * worst. The watchdog thread and the interrupt signal are all that stop
 * the guest, so this is the latency a host can count on.
 *
 *   bench_deadline
 *
 * Not a test: `make bench` runs it.
 */
#include <errno.h>
#include <stdio.h>

#include "bench.h"

/* (module (func (export "spin") (loop $forever (br $forever)))) */
static const uint8_t spin_module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,        /* magic, version */
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                    /* type: [] -> [] */
    0x03, 0x02, 0x01, 0x00,                                /* function 0: type 0 */
    0x07, 0x08, 0x01, 0x04, 's', 'p', 'i', 'n', 0x00, 0x00, /* export "spin" */
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, /* loop br 0 */
};

enum { CALLS = 100 };

int main(void) {
  char cache[] = "/tmp/wudf-bench-cache-XXXXXX";
  if (mkdtemp(cache) == NULL) return 1;
  struct wudf_engine_config config;
  wudf_engine_config_init(&config);
  config.cache_dir = cache;
  struct wudf_error error;
  struct wudf_engine* engine;
  struct wudf_module* module;
  check(wudf_engine_new(&config, &engine, &error), &error);
  check(wudf_module_load(engine, spin_module, sizeof(spin_module), &module, &error), &error);
  wait_optimized(module, "the spin module");
  uint32_t spin;
  check(wudf_module_find_export(module, "spin", &spin, &error), &error);
  printf("deadline-to-error latency, %d calls each (time to the error less the deadline)\n",
         CALLS);
  printf("%-10s %12s %12s\n", "deadline", "median", "worst");
  const uint64_t deadlines[] = {1, 10, 100};
  for (size_t d = 0; d < sizeof(deadlines) / sizeof(deadlines[0]); d++) {
    double late[CALLS];
    for (int i = 0; i < CALLS; i++) {
      struct wudf_instance_config instance_config;
      wudf_instance_config_init(engine, &instance_config);
      instance_config.timeout_ms = deadlines[d];
      struct wudf_instance* instance;
      check(wudf_instance_new(module, &instance_config, &instance, &error), &error);
      double start = now_us();
      int status = wudf_instance_call(instance, spin, NULL, 0, NULL, 0, WUDF_TIMEOUT_DEFAULT,
                                      &error);
      late[i] = now_us() - start - (double)deadlines[d] * 1000.0;
      wudf_instance_free(instance);
      if (status != ETIMEDOUT) {
        fprintf(stderr, "bench_deadline: expected a timeout, got %d: %s\n", status,
                error.message);
        return 1;
      }
    }
    double worst = late[0];
    for (int i = 1; i < CALLS; i++) worst = late[i] > worst ? late[i] : worst;
    printf("%7llu ms %9.1f us %9.1f us\n", (unsigned long long)deadlines[d],
           median(late, CALLS), worst);
  }
  wudf_module_free(module);
  wudf_engine_free(engine);
  return 0;
}
