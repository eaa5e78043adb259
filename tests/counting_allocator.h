/*
 * counting_allocator.h -- an allocation funnel for tests (wudf_set_allocator):
 * it counts the live allocations, so a test can check that a path frees
 * what it allocates, and fails the allocation after `allocations_left` more
 * (-1: never), so a test can fail each allocation of a path in turn.
 * Included by one test file each: everything here is static.
 */
#ifndef WUDF_TESTS_COUNTING_ALLOCATOR_H
#define WUDF_TESTS_COUNTING_ALLOCATOR_H

#include <stdatomic.h>
#include <stdlib.h>

#include <wasmudf/wasmudf.h>

static atomic_long live_allocations;
static atomic_long allocations_left = -1; /* fail when it reaches 0; -1: never */

/* Whether the next allocation may succeed (and counts it down). */
static int allocation_allowed(void) {
  long left = atomic_load(&allocations_left);
  if (left < 0) return 1;
  if (left == 0) return 0;
  atomic_fetch_sub(&allocations_left, 1);
  return 1;
}

static void* counting_malloc(void* user_data, size_t size) {
  (void)user_data;
  if (!allocation_allowed()) return NULL;
  void* pointer = malloc(size == 0 ? 1 : size);
  if (pointer != NULL) atomic_fetch_add(&live_allocations, 1);
  return pointer;
}

static void* counting_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  if (!allocation_allowed()) return NULL;
  void* moved = realloc(pointer, size == 0 ? 1 : size);
  if (moved != NULL && pointer == NULL) atomic_fetch_add(&live_allocations, 1);
  return moved;
}

static void counting_free(void* user_data, void* pointer) {
  (void)user_data;
  if (pointer != NULL) atomic_fetch_sub(&live_allocations, 1);
  free(pointer);
}

#endif
