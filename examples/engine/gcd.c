/*
 * gcd.c -- a small guest for the engine demo: plain numeric exports, one of
 * which divides by zero when asked to and one of which never returns.
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor gcd.c -o gcd.wasm
 *   wasmudf call gcd.wasm gcd 1071 462
 */
#include <stdint.h>
#include <stdio.h>

/* Built natively too, by bench/, as the baseline of the same code. */
#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(#name)))
#else
#define EXPORT(name)
#endif

EXPORT(gcd) int32_t gcd(int32_t a, int32_t b) {
  while (b != 0) {
    int32_t t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}

/* Sum of gcd(i, n) for i in [1, n]: enough work to notice. */
EXPORT(gcd_sum) int64_t gcd_sum(int32_t n) {
  int64_t total = 0;
  for (int32_t i = 1; i <= n; i++) total += gcd(i, n);
  return total;
}

EXPORT(divide) int32_t divide(int32_t a, int32_t b) { return a / b; }

EXPORT(greet) int32_t greet(int32_t times) {
  for (int32_t i = 0; i < times; i++) printf("hello from the sandbox (%d)\n", i + 1);
  return times;
}

EXPORT(forever) void forever(void) {
  for (volatile int i = 0;; i++) {
  }
}
