/*
 * test.h -- the tiny test framework of the wasmudf test suite.
 *
 * A test file defines functions with TEST(name) and lists them in main with
 * RUN_TEST(name). Assertions print both sides on failure (like libuv's
 * ASSERT_EQ), then end the current test; main returns nonzero if any test
 * failed, and prints "N passed, N failed" so ctest and people read the same
 * result.
 */
#ifndef WUDF_TEST_H
#define WUDF_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test__passed, test__failed;
static jmp_buf test__escape;
static const char* test__current;

#define TEST(name) static void test_##name(void)

#define RUN_TEST(name)                                        \
  do {                                                        \
    test__current = #name;                                    \
    if (setjmp(test__escape) == 0) {                          \
      test_##name();                                          \
      test__passed++;                                         \
      printf("ok     %s\n", #name);                           \
    } else {                                                  \
      test__failed++;                                         \
      printf("FAILED %s\n", #name);                           \
    }                                                         \
    test__current = NULL;                                     \
    fflush(stdout);                                           \
  } while (0)

#define TEST_SUMMARY()                                        \
  (printf("%d passed, %d failed\n", test__passed, test__failed), \
   test__failed == 0 ? 0 : 1)

/* Outside a test (in main's set-up) a failure ends the program. */
#define TEST_FAIL(...)                                        \
  do {                                                        \
    fprintf(stderr, "%s:%d: in %s: ", __FILE__, __LINE__,     \
            test__current ? test__current : "set-up");        \
    fprintf(stderr, __VA_ARGS__);                             \
    fprintf(stderr, "\n");                                    \
    if (test__current == NULL) {                              \
      printf("0 passed, 1 failed\n");                         \
      exit(1);                                                \
    }                                                         \
    longjmp(test__escape, 1);                                 \
  } while (0)

#define ASSERT(cond)                                          \
  do {                                                        \
    if (!(cond)) TEST_FAIL("assertion failed: %s", #cond);    \
  } while (0)

#define ASSERT_INT_OP(a, op, b)                                             \
  do {                                                                      \
    long long test__a = (long long)(a), test__b = (long long)(b);           \
    if (!(test__a op test__b))                                              \
      TEST_FAIL("expected %s %s %s, got %lld and %lld", #a, #op, #b,        \
                test__a, test__b);                                          \
  } while (0)

#define ASSERT_EQ(a, b) ASSERT_INT_OP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP(a, <=, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP(a, >=, b)

#define ASSERT_STR_EQ(a, b)                                                 \
  do {                                                                      \
    const char *test__a = (a), *test__b = (b);                              \
    if (test__a == NULL || test__b == NULL || strcmp(test__a, test__b) != 0) \
      TEST_FAIL("expected %s == %s, got \"%s\" and \"%s\"", #a, #b,         \
                test__a ? test__a : "(null)", test__b ? test__b : "(null)"); \
  } while (0)

/* Asserts that `haystack` contains `needle`. */
#define ASSERT_CONTAINS(haystack, needle)                                   \
  do {                                                                      \
    const char *test__h = (haystack), *test__n = (needle);                  \
    if (test__h == NULL || strstr(test__h, test__n) == NULL)                \
      TEST_FAIL("expected %s to contain \"%s\", got \"%s\"", #haystack,     \
                test__n, test__h ? test__h : "(null)");                     \
  } while (0)

/* Asserts a wasmudf call returned `expected`, printing the error message. */
#define ASSERT_STATUS(call, expected, error)                                \
  do {                                                                      \
    int test__status = (call);                                              \
    if (test__status != (expected))                                         \
      TEST_FAIL("%s returned %d, expected %d (%s): %s", #call,              \
                test__status, (int)(expected), #expected,                   \
                (error)->message);                                          \
  } while (0)

#define ASSERT_OK(call, error) ASSERT_STATUS(call, 0, error)

#endif /* WUDF_TEST_H */
