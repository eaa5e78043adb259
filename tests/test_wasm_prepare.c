/*
 * test_wasm_prepare.c -- unit test of src/engine/wasm_prepare.c, the bytes
 * wasm2c is given (docs/engine.md, "What wasm2c is given").
 *
 * Modules are assembled inline from a few sections. It checks that active
 * data segments of memory 0 are sorted and merged where the gap is at most
 * 256 bytes, with zeros in the gaps and the bytes of every segment in place;
 * that a data section stays as it is when segments overlap, when one is
 * passive, or when the module has a data count section; that custom
 * sections are dropped and a name section naming defined function i
 * "wudf_f<i>" is appended; that the output is a valid module; and that
 * every allocation failure is ENOMEM with nothing leaked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "test.h"

/* A module under construction: magic, version, then whole sections. */
struct module {
  uint8_t bytes[4096];
  size_t size;
};

static void begin(struct module* module) {
  static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  memcpy(module->bytes, header, sizeof(header));
  module->size = sizeof(header);
}

/* Appends section `id` with `size` bytes of body (sizes below 128). */
static void section(struct module* module, uint8_t id, const uint8_t* body, size_t size) {
  ASSERT(size < 128 && module->size + size + 2 <= sizeof(module->bytes));
  module->bytes[module->size++] = id;
  module->bytes[module->size++] = (uint8_t)size;
  memcpy(module->bytes + module->size, body, size);
  module->size += size;
}

/* Type () -> (), two functions of it, a memory of one page. */
static void functions_and_memory(struct module* module) {
  static const uint8_t types[] = {1, 0x60, 0, 0};
  static const uint8_t functions[] = {2, 0, 0};
  static const uint8_t memory[] = {1, 0x00, 1};
  section(module, 1, types, sizeof(types));
  section(module, 3, functions, sizeof(functions));
  section(module, 5, memory, sizeof(memory));
}

static void code(struct module* module) {
  static const uint8_t bodies[] = {2, 2, 0, 0x0b, 2, 0, 0x0b};
  section(module, 10, bodies, sizeof(bodies));
}

/* Finds section `id` in `bytes`: its body and size, or NULL. */
static const uint8_t* find_section(const uint8_t* bytes, size_t size, uint8_t id,
                                   size_t* body_size) {
  size_t at = 8;
  while (at < size) {
    uint8_t here = bytes[at++];
    size_t length = 0;
    unsigned shift = 0;
    uint8_t byte;
    do {
      byte = bytes[at++];
      length |= (size_t)(byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (here == id) {
      *body_size = length;
      return bytes + at;
    }
    at += length;
  }
  return NULL;
}

/* Reads `module`, prepares it and checks the output is a valid module. */
static uint8_t* prepare(const struct module* module, size_t* size) {
  struct wudf__wasm_info info;
  struct wudf_error error;
  ASSERT_EQ(wudf__wasm_read(module->bytes, module->size, NULL, &info, &error), 0);
  uint8_t* prepared = NULL;
  ASSERT_EQ(wudf__wasm_prepare(module->bytes, module->size, &info, &prepared, size), 0);
  struct wudf__wasm_info again;
  ASSERT_EQ(wudf__wasm_read(prepared, *size, NULL, &again, &error), 0);
  ASSERT_EQ(again.function_count, info.function_count);
  wudf__wasm_info_release(&again);
  wudf__wasm_info_release(&info);
  return prepared;
}

TEST(nearby_segments_are_merged_in_offset_order) {
  struct module module;
  begin(&module);
  functions_and_memory(&module);
  code(&module);
  /* Segments at 200 ("cd": a gap of 197), 0 ("ab"), 2 ("x": no gap), 1000
   * ("far": a gap of 798). */
  static const uint8_t data[] = {4,
                                 0, 0x41, 0xc8, 0x01, 0x0b, 2, 'c', 'd',
                                 0, 0x41, 0x00, 0x0b, 2, 'a', 'b',
                                 2, 0, 0x41, 0x02, 0x0b, 1, 'x',
                                 0, 0x41, 0xe8, 0x07, 0x0b, 3, 'f', 'a', 'r'};
  section(&module, 11, data, sizeof(data));
  static const uint8_t custom[] = {4, 'n', 'o', 't', 'e', 1, 2, 3};
  section(&module, 0, custom, sizeof(custom));
  size_t size;
  uint8_t* prepared = prepare(&module, &size);
  size_t body_size;
  const uint8_t* body = find_section(prepared, size, 11, &body_size);
  ASSERT(body != NULL);
  /* Two runs: [0, 202) = "abx", zeros, "cd"; and [1000, 1003) = "far". */
  ASSERT_EQ(body[0], 2);
  ASSERT_EQ(body[1], 0);    /* active, memory 0 */
  ASSERT_EQ(body[2], 0x41); /* i32.const 0 */
  ASSERT_EQ(body[3], 0);
  ASSERT_EQ(body[4], 0x0b);
  ASSERT_EQ(body[5], 0xca); /* length 202, LEB128 */
  ASSERT_EQ(body[6], 0x01);
  const uint8_t* run = body + 7;
  ASSERT(memcmp(run, "abx", 3) == 0);
  for (int i = 3; i < 200; i++) ASSERT_EQ(run[i], 0);
  ASSERT(memcmp(run + 200, "cd", 2) == 0);
  const uint8_t* second = run + 202;
  static const uint8_t far[] = {0, 0x41, 0xe8, 0x07, 0x0b, 3, 'f', 'a', 'r'};
  ASSERT(memcmp(second, far, sizeof(far)) == 0);
  ASSERT_EQ((size_t)(second + sizeof(far) - body), body_size);
  /* The custom section is gone; the name section names functions 0 and 1. */
  const uint8_t* names = find_section(prepared, size, 0, &body_size);
  ASSERT(names != NULL);
  static const uint8_t expected[] = {4, 'n', 'a', 'm', 'e', 1, 19, 2,
                                     0, 7, 'w', 'u', 'd', 'f', '_', 'f', '0',
                                     1, 7, 'w', 'u', 'd', 'f', '_', 'f', '1'};
  ASSERT_EQ(body_size, sizeof(expected));
  ASSERT(memcmp(names, expected, sizeof(expected)) == 0);
  wudf__free(prepared);
}

/* The data section of the prepared module equals the original's. */
static void assert_data_kept(const struct module* module) {
  size_t size, original_size, prepared_size;
  uint8_t* prepared = prepare(module, &size);
  const uint8_t* original = find_section(module->bytes, module->size, 11, &original_size);
  const uint8_t* kept = find_section(prepared, size, 11, &prepared_size);
  ASSERT(original != NULL && kept != NULL);
  ASSERT_EQ(prepared_size, original_size);
  ASSERT(memcmp(kept, original, original_size) == 0);
  wudf__free(prepared);
}

TEST(overlapping_segments_are_kept) {
  struct module module;
  begin(&module);
  functions_and_memory(&module);
  code(&module);
  /* "abc" at 0, then "Z" at 1: the later one wins, order matters. */
  static const uint8_t data[] = {2, 0, 0x41, 0, 0x0b, 3, 'a', 'b', 'c',
                                 0, 0x41, 1, 0x0b, 1, 'Z'};
  section(&module, 11, data, sizeof(data));
  assert_data_kept(&module);
}

TEST(passive_segments_and_data_count_keep_the_section) {
  struct module module;
  begin(&module);
  functions_and_memory(&module);
  static const uint8_t count[] = {2};
  section(&module, 12, count, sizeof(count));
  code(&module);
  static const uint8_t data[] = {2, 0, 0x41, 0, 0x0b, 1, 'a', 0, 0x41, 1, 0x0b, 1, 'b'};
  section(&module, 11, data, sizeof(data));
  assert_data_kept(&module); /* a data count section: indices may be named */

  begin(&module);
  functions_and_memory(&module);
  code(&module);
  static const uint8_t passive[] = {2, 0, 0x41, 0, 0x0b, 1, 'a', 1, 1, 'b'};
  section(&module, 11, passive, sizeof(passive));
  assert_data_kept(&module);
}

/* A test allocator: live blocks and an injected failure at call `fail_at`. */
static struct {
  long live;
  long calls;
  long fail_at;
} heap;

static void* counting_malloc(void* user_data, size_t size) {
  (void)user_data;
  if (heap.calls++ == heap.fail_at) return NULL;
  void* pointer = malloc(size != 0 ? size : 1);
  if (pointer != NULL) heap.live++;
  return pointer;
}

static void* counting_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  if (heap.calls++ == heap.fail_at) return NULL;
  void* result = realloc(pointer, size != 0 ? size : 1);
  if (result != NULL && pointer == NULL) heap.live++;
  return result;
}

static void counting_free(void* user_data, void* pointer) {
  (void)user_data;
  if (pointer != NULL) heap.live--;
  free(pointer);
}

TEST(allocation_failures_are_enomem) {
  struct module module;
  begin(&module);
  functions_and_memory(&module);
  code(&module);
  static const uint8_t data[] = {2, 0, 0x41, 0, 0x0b, 1, 'a', 0, 0x41, 4, 0x0b, 1, 'b'};
  section(&module, 11, data, sizeof(data));
  struct wudf__wasm_info info;
  struct wudf_error error;
  ASSERT_EQ(wudf__wasm_read(module.bytes, module.size, NULL, &info, &error), 0);
  static const struct wudf_allocator allocator = {counting_malloc, counting_realloc,
                                                  counting_free, NULL};
  long failures = 0;
  for (long fail_at = 0;; fail_at++) {
    heap.live = 0;
    heap.calls = 0;
    heap.fail_at = fail_at;
    ASSERT_EQ(wudf_set_allocator(&allocator), 0);
    uint8_t* prepared = NULL;
    size_t size = 0;
    int status = wudf__wasm_prepare(module.bytes, module.size, &info, &prepared, &size);
    if (status == 0) wudf__free(prepared);
    wudf_set_allocator(NULL);
    ASSERT_EQ(heap.live, 0);
    if (status == 0) break;
    ASSERT_EQ(status, ENOMEM);
    failures++;
  }
  ASSERT(failures >= 3); /* output, merged data, names */
  wudf__wasm_info_release(&info);
}

int main(void) {
  RUN_TEST(nearby_segments_are_merged_in_offset_order);
  RUN_TEST(overlapping_segments_are_kept);
  RUN_TEST(passive_segments_and_data_count_keep_the_section);
  RUN_TEST(allocation_failures_are_enomem);
  return TEST_SUMMARY();
}
