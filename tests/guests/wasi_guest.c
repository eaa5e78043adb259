/*
 * wasi_guest.c -- a C guest built with wasi-libc (clang --target=wasm32-wasi,
 * reactor model) for the WASI and memory tests: it prints, exits, reads the
 * clock and random bytes, and allocates until malloc fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static int constructed;
__attribute__((constructor)) static void construct(void) { constructed = 42; }

/* 42 once the engine has run _initialize (the reactor's constructors). */
EXPORT(constructed) int constructed_value(void) { return constructed; }

EXPORT(hello) int hello(int value) {
  printf("hello %d\n", value);
  fprintf(stderr, "to stderr %d\n", value * 2);
  return value + 1;
}

/* Prints `count` lines of 100 bytes. */
EXPORT(chatter) int chatter(int count) {
  for (int i = 0; i < count; i++) {
    printf("%099d\n", i);
  }
  return count;
}

EXPORT(quit) void quit(int code) { exit(code); }

EXPORT(fail) void fail(void) { abort(); }

/* Nanoseconds of CLOCK_MONOTONIC, and of CLOCK_REALTIME. */
EXPORT(monotonic) int64_t monotonic(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

EXPORT(realtime) int64_t realtime(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* 64 random bits from WASI random_get. */
EXPORT(random64) int64_t random64(void) {
  int64_t value = 0;
  arc4random_buf(&value, sizeof(value));
  return value;
}

/* Allocates 1 MiB blocks (touching them) until malloc fails; returns how many
 * it got. Under a memory limit this ends well before 4 GiB. */
static void* volatile bomb_chain; /* keeps every block reachable */

EXPORT(malloc_bomb) int malloc_bomb(void) {
  int blocks = 0;
  for (;;) {
    char* block = malloc(1 << 20);
    if (block == NULL) return blocks;
    memset(block, 1, 1 << 20);
    *(void**)block = bomb_chain;
    bomb_chain = block;
    blocks++;
  }
}

/* Writes to stdout until the deadline stops it: a timeout that arrives while
 * the guest is inside host code (fd_write) is delivered when it returns. */
EXPORT(print_forever) void print_forever(void) {
  for (;;) printf("tick\n");
}

/* Recursion that keeps a frame alive: ends in stack exhaustion. */
EXPORT(deep) int deep(int n) {
  volatile char frame[256];
  frame[n & 255] = (char)n;
  return deep(n + 1) + frame[(n * 7) & 255];
}
