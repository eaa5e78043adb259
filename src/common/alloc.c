/*
 * alloc.c -- the allocation funnel. Every host-side allocation of the library
 * goes through wudf__malloc/realloc/free, which call the allocator installed
 * with wudf_set_allocator (the C library's by default). Having one funnel lets
 * tests fail the Nth allocation and check that each failure path releases
 * what it took, the way SQLite tests its malloc failures.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void* wudf__default_malloc(void* user_data, size_t size) {
  (void)user_data;
  return malloc(size);
}

static void* wudf__default_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  return realloc(pointer, size);
}

static void wudf__default_free(void* user_data, void* pointer) {
  (void)user_data;
  free(pointer);
}

static struct wudf_allocator wudf__allocator = {
    wudf__default_malloc, wudf__default_realloc, wudf__default_free, NULL};

static atomic_int wudf__engines_alive;

void wudf__engine_count_add(int delta) {
  atomic_fetch_add(&wudf__engines_alive, delta);
}

int wudf_set_allocator(const struct wudf_allocator* allocator) {
  if (atomic_load(&wudf__engines_alive) != 0) return EINVAL;
  if (allocator == NULL) {
    wudf__allocator.malloc = wudf__default_malloc;
    wudf__allocator.realloc = wudf__default_realloc;
    wudf__allocator.free = wudf__default_free;
    wudf__allocator.user_data = NULL;
    return WUDF_OK;
  }
  if (allocator->malloc == NULL || allocator->realloc == NULL ||
      allocator->free == NULL) {
    return EINVAL;
  }
  wudf__allocator = *allocator;
  return WUDF_OK;
}

void* wudf__malloc(size_t size) {
  return wudf__allocator.malloc(wudf__allocator.user_data, size);
}

void* wudf__calloc(size_t count, size_t size) {
  size_t total;
  if (wudf__mul_overflows(count, size, &total)) return NULL;
  void* pointer = wudf__malloc(total);
  if (pointer != NULL) memset(pointer, 0, total);
  return pointer;
}

void* wudf__realloc(void* pointer, size_t size) {
  return wudf__allocator.realloc(wudf__allocator.user_data, pointer, size);
}

void wudf__free(void* pointer) {
  if (pointer != NULL) wudf__allocator.free(wudf__allocator.user_data, pointer);
}

char* wudf__strdup(const char* string) {
  size_t size = strlen(string) + 1;
  char* copy = wudf__malloc(size);
  if (copy != NULL) memcpy(copy, string, size);
  return copy;
}
