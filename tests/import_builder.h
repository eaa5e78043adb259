/*
 * import_builder.h -- writes wasm32 Arrow C Data Interface trees by hand
 * into a fake guest linear memory (a byte buffer), for the tests of the
 * result validator (test_import.c) and the seeds of its fuzzer
 * (fuzz/make_seeds.c). Each helper appends to the memory and returns the
 * guest offset of what it wrote; offset 0 is never used, so it stays the
 * null pointer. Structs are written field by field at their wasm32 offsets
 * (arrow/wasm32.h), never copied from host structs.
 *
 * Header-only (static inline functions): include it once per program.
 */
#ifndef WUDF_TESTS_IMPORT_BUILDER_H
#define WUDF_TESTS_IMPORT_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/wasm32.h"

/* The memory being written: `memory.size` is what the validator sees (the
 * whole buffer), `ib_used` how much the helpers have written. */
static struct wudf__guest_memory ib_memory;
static uint64_t ib_used;

/* Nonzero release callback index written into every struct. */
#define IB_RELEASE 7u

/* Uses `bytes` (of `size` bytes) as the guest memory and empties it. */
static inline void ib_start(uint8_t* bytes, uint64_t size) {
  ib_memory.base = bytes;
  ib_memory.size = size;
  memset(bytes, 0, size);
  ib_used = 64; /* offsets below 64 stay unused: 0 is the null pointer */
}

/* Reserves `size` zeroed bytes aligned to `align` and returns their offset. */
static inline uint32_t ib_alloc_aligned(uint64_t size, uint64_t align) {
  uint64_t at = (ib_used + align - 1) / align * align;
  if (at + size > ib_memory.size) {
    fprintf(stderr, "import_builder: the fake guest memory is full\n");
    abort();
  }
  ib_used = at + size;
  return (uint32_t)at;
}

static inline uint32_t ib_alloc(uint64_t size) { return ib_alloc_aligned(size, 8); }

/* Copies `size` bytes into memory; returns their offset. */
static inline uint32_t ib_put(const void* data, uint64_t size) {
  uint32_t at = ib_alloc(size == 0 ? 1 : size);
  if (size > 0) memcpy(ib_memory.base + at, data, size);
  return at;
}

/* The same, at an odd address (wasm allows unaligned buffers). */
static inline uint32_t ib_put_unaligned(const void* data, uint64_t size) {
  uint32_t at = ib_alloc_aligned(size + 1, 8) + 1;
  if (size > 0) memcpy(ib_memory.base + at, data, size);
  return at;
}

static inline uint32_t ib_str(const char* text) { return ib_put(text, strlen(text) + 1); }

/* Field stores, for building and for breaking structs. */
static inline void ib_set_u32(uint32_t at, uint32_t value) { wudf__store_u32(&ib_memory, at, value); }
static inline void ib_set_i64(uint32_t at, int64_t value) { wudf__store_i64(&ib_memory, at, value); }
static inline uint32_t ib_get_u32(uint32_t at) { return wudf__load_u32(&ib_memory, at); }

/* A list of guest offsets or values: IB_LIST(a, b, c) expands to the count
 * and a compound-literal array, IB_NONE to an empty list. */
#define IB_LIST(...) \
  (int64_t)(sizeof((uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)), ((const uint32_t[]){__VA_ARGS__})
#define IB_NONE 0, NULL

/* Typed buffers from literal values. */
#define IB_I8(...) ib_put((int8_t[]){__VA_ARGS__}, sizeof((int8_t[]){__VA_ARGS__}))
#define IB_I16(...) ib_put((int16_t[]){__VA_ARGS__}, sizeof((int16_t[]){__VA_ARGS__}))
#define IB_I32(...) ib_put((int32_t[]){__VA_ARGS__}, sizeof((int32_t[]){__VA_ARGS__}))
#define IB_I64(...) ib_put((int64_t[]){__VA_ARGS__}, sizeof((int64_t[]){__VA_ARGS__}))

/* An array of `count` guest pointers. */
static inline uint32_t ib_pointers(int64_t count, const uint32_t* values) {
  if (count == 0) return 0;
  return ib_put(values, 4 * (uint64_t)count);
}

/* A bitmap from a string of '0' and '1', bit 0 first (LSB-first). */
static inline uint32_t ib_bits(const char* bits) {
  size_t count = strlen(bits);
  uint32_t at = ib_alloc(count / 8 + 1);
  for (size_t i = 0; i < count; i++) {
    if (bits[i] == '1') ib_memory.base[at + i / 8] |= (uint8_t)(1u << (i % 8));
  }
  return at;
}

/* A schema node. `name` may be NULL (null pointer). */
static inline uint32_t ib_schema(const char* format, const char* name, int64_t n_children,
                          const uint32_t* children, uint32_t dictionary) {
  uint32_t at = ib_alloc(WUDF__SCHEMA_SIZE);
  ib_set_u32(at + WUDF__SCHEMA_FORMAT, format ? ib_str(format) : 0);
  ib_set_u32(at + WUDF__SCHEMA_NAME, name ? ib_str(name) : 0);
  ib_set_u32(at + WUDF__SCHEMA_METADATA, 0);
  ib_set_i64(at + WUDF__SCHEMA_FLAGS, 2); /* ARROW_FLAG_NULLABLE */
  ib_set_i64(at + WUDF__SCHEMA_N_CHILDREN, n_children);
  ib_set_u32(at + WUDF__SCHEMA_CHILDREN, ib_pointers(n_children, children));
  ib_set_u32(at + WUDF__SCHEMA_DICTIONARY, dictionary);
  ib_set_u32(at + WUDF__SCHEMA_RELEASE, IB_RELEASE);
  ib_set_u32(at + WUDF__SCHEMA_PRIVATE_DATA, 0);
  return at;
}

/* An array node. */
static inline uint32_t ib_array(int64_t length, int64_t null_count, int64_t offset,
                         int64_t n_buffers, const uint32_t* buffers, int64_t n_children,
                         const uint32_t* children, uint32_t dictionary) {
  uint32_t at = ib_alloc(WUDF__ARRAY_SIZE);
  ib_set_i64(at + WUDF__ARRAY_LENGTH, length);
  ib_set_i64(at + WUDF__ARRAY_NULL_COUNT, null_count);
  ib_set_i64(at + WUDF__ARRAY_OFFSET, offset);
  ib_set_i64(at + WUDF__ARRAY_N_BUFFERS, n_buffers);
  ib_set_i64(at + WUDF__ARRAY_N_CHILDREN, n_children);
  ib_set_u32(at + WUDF__ARRAY_BUFFERS, ib_pointers(n_buffers, buffers));
  ib_set_u32(at + WUDF__ARRAY_CHILDREN, ib_pointers(n_children, children));
  ib_set_u32(at + WUDF__ARRAY_DICTIONARY, dictionary);
  ib_set_u32(at + WUDF__ARRAY_RELEASE, IB_RELEASE);
  ib_set_u32(at + WUDF__ARRAY_PRIVATE_DATA, 0);
  return at;
}

/* Guest offset of buffer `index` / child `index` of the array at `array`,
 * and of child `index` of a schema. */
static inline uint32_t ib_buffer_at(uint32_t array, int index) {
  return ib_get_u32(array + WUDF__ARRAY_BUFFERS) + 4u * (uint32_t)index;
}
static inline uint32_t ib_child(uint32_t array, int index) {
  return ib_get_u32(ib_get_u32(array + WUDF__ARRAY_CHILDREN) + 4u * (uint32_t)index);
}
static inline uint32_t ib_schema_child(uint32_t schema, int index) {
  return ib_get_u32(ib_get_u32(schema + WUDF__SCHEMA_CHILDREN) + 4u * (uint32_t)index);
}

/* A 16-byte binary view: inline when `length` <= 12 (bytes from `data`),
 * else prefix + buffer index + offset (data is the value, for its prefix). */
static inline void ib_view(uint8_t* view, const char* data, int32_t length, int32_t buffer_index,
                    int32_t offset) {
  memset(view, 0, 16);
  memcpy(view, &length, 4);
  if (length <= 12) {
    memcpy(view + 4, data, (size_t)length);
  } else {
    memcpy(view + 4, data, 4);
    memcpy(view + 8, &buffer_index, 4);
    memcpy(view + 12, &offset, 4);
  }
}

/* A guest (array, schema) pair: a result. */
struct ib_result {
  uint32_t array;
  uint32_t schema;
};

/* ------------------------------------------------- valid results by type */

/* int32 [1, null, 3, 4] (validity "1011"), offset 0. */
static inline struct ib_result ib_int32_result(void) {
  struct ib_result r;
  r.schema = ib_schema("i", "x", IB_NONE, 0);
  r.array = ib_array(4, 1, 0, IB_LIST(ib_bits("1011"), IB_I32(1, 0, 3, 4)), IB_NONE, 0);
  return r;
}

/* utf8 ["a", null, "héllo", ""] sliced from offset 1 of a 5-row array
 * (rows "zz", "a", null, "héllo", ""). */
static inline struct ib_result ib_utf8_result(void) {
  struct ib_result r;
  r.schema = ib_schema("u", "s", IB_NONE, 0);
  const char data[] = "zzah\xc3\xa9llo";
  r.array = ib_array(4, 1, 1,
                     IB_LIST(ib_bits("11011"), IB_I32(0, 2, 3, 3, 9, 9),
                             ib_put(data, sizeof(data) - 1)),
                     IB_NONE, 0);
  return r;
}

/* utf8_view ["short", null, "a value longer than twelve", "x"], one
 * variadic buffer, plus a second (unused) one. */
static inline struct ib_result ib_view_result(void) {
  struct ib_result r;
  r.schema = ib_schema("vu", "v", IB_NONE, 0);
  const char* text = "a value longer than twelve";
  uint8_t views[4 * 16];
  ib_view(views, "short", 5, 0, 0);
  ib_view(views + 16, "", 0, 0, 0);
  ib_view(views + 32, text, (int32_t)strlen(text), 0, 3);
  ib_view(views + 48, "x", 1, 0, 0);
  char data[64];
  memcpy(data, "xyz", 3);
  memcpy(data + 3, text, strlen(text));
  int64_t sizes[2] = {3 + (int64_t)strlen(text), 2};
  r.array = ib_array(4, 1, 0,
                     IB_LIST(ib_bits("1011"), ib_put(views, sizeof(views)),
                             ib_put(data, (uint64_t)sizes[0]), ib_put("ok", 2),
                             ib_put(sizes, sizeof(sizes))),
                     IB_NONE, 0);
  return r;
}

/* list<int32> [[1, 2], null, [], [3]] over child [1, 2, 3]. */
static inline struct ib_result ib_list_result(void) {
  struct ib_result r;
  r.schema = ib_schema("+l", "l", IB_LIST(ib_schema("i", "item", IB_NONE, 0)), 0);
  uint32_t child = ib_array(3, 0, 0, IB_LIST(0, IB_I32(1, 2, 3)), IB_NONE, 0);
  r.array = ib_array(4, 1, 0, IB_LIST(ib_bits("1011"), IB_I32(0, 2, 2, 2, 3)),
                     IB_LIST(child), 0);
  return r;
}

/* struct<a: int64, b: utf8> of 2 rows. */
static inline struct ib_result ib_struct_result(void) {
  struct ib_result r;
  r.schema = ib_schema("+s", "t",
                       IB_LIST(ib_schema("l", "a", IB_NONE, 0), ib_schema("u", "b", IB_NONE, 0)),
                       0);
  uint32_t a = ib_array(2, 0, 0, IB_LIST(0, IB_I64(10, 20)), IB_NONE, 0);
  uint32_t b = ib_array(2, 0, 0, IB_LIST(0, IB_I32(0, 1, 3), ib_put("xyz", 3)), IB_NONE, 0);
  r.array = ib_array(2, 0, 0, IB_LIST(0), IB_LIST(a, b), 0);
  return r;
}

/* map<utf8, int32> [{"k": 1, "l": 2}, {}]. */
static inline struct ib_result ib_map_result(void) {
  struct ib_result r;
  uint32_t entries_schema =
      ib_schema("+s", "entries",
                IB_LIST(ib_schema("u", "key", IB_NONE, 0), ib_schema("i", "value", IB_NONE, 0)),
                0);
  r.schema = ib_schema("+m", "m", IB_LIST(entries_schema), 0);
  ib_set_i64(r.schema + WUDF__SCHEMA_FLAGS, 2 | 4); /* nullable, keys sorted */
  uint32_t keys = ib_array(2, 0, 0, IB_LIST(0, IB_I32(0, 1, 2), ib_put("kl", 2)), IB_NONE, 0);
  uint32_t values = ib_array(2, 0, 0, IB_LIST(0, IB_I32(1, 2)), IB_NONE, 0);
  uint32_t entries = ib_array(2, 0, 0, IB_LIST(0), IB_LIST(keys, values), 0);
  r.array = ib_array(2, 0, 0, IB_LIST(0, IB_I32(0, 2, 2)), IB_LIST(entries), 0);
  return r;
}

/* dense_union<i: int32, s: utf8> [i 5, s "ab", i 7] with type ids 3, 9. */
static inline struct ib_result ib_dense_union_result(void) {
  struct ib_result r;
  r.schema = ib_schema("+ud:3,9", "u",
                       IB_LIST(ib_schema("i", "i", IB_NONE, 0), ib_schema("u", "s", IB_NONE, 0)),
                       0);
  uint32_t ints = ib_array(2, 0, 0, IB_LIST(0, IB_I32(5, 7)), IB_NONE, 0);
  uint32_t strings = ib_array(1, 0, 0, IB_LIST(0, IB_I32(0, 2), ib_put("ab", 2)), IB_NONE, 0);
  r.array = ib_array(3, 0, 0, IB_LIST(IB_I8(3, 9, 3), IB_I32(0, 0, 1)),
                     IB_LIST(ints, strings), 0);
  return r;
}

/* sparse_union<i: int32, f: float64> [i 1, f 2.5, i 3] with type ids 0, 1. */
static inline struct ib_result ib_sparse_union_result(void) {
  struct ib_result r;
  r.schema = ib_schema("+us:0,1", "u",
                       IB_LIST(ib_schema("i", "i", IB_NONE, 0), ib_schema("g", "f", IB_NONE, 0)),
                       0);
  uint32_t ints = ib_array(3, 0, 0, IB_LIST(0, IB_I32(1, 0, 3)), IB_NONE, 0);
  double doubles[3] = {0, 2.5, 0};
  uint32_t floats = ib_array(3, 0, 0, IB_LIST(0, ib_put(doubles, sizeof(doubles))), IB_NONE, 0);
  r.array = ib_array(3, 0, 0, IB_LIST(IB_I8(0, 1, 0)), IB_LIST(ints, floats), 0);
  return r;
}

/* dictionary<int8, utf8> ["b", "a", null, "b"] over the dictionary
 * ["a", "b"]. */
static inline struct ib_result ib_dictionary_result(void) {
  struct ib_result r;
  r.schema = ib_schema("c", "d", IB_NONE, ib_schema("u", NULL, IB_NONE, 0));
  uint32_t dictionary =
      ib_array(2, 0, 0, IB_LIST(0, IB_I32(0, 1, 2), ib_put("ab", 2)), IB_NONE, 0);
  r.array = ib_array(4, 1, 0, IB_LIST(ib_bits("1101"), IB_I8(1, 0, 99, 1)), IB_NONE,
                     dictionary);
  return r;
}

/* run_end_encoded<int32, utf8> ["x", "x", null, "y", "y", "y"] as runs
 * ending at 2, 3, 6, sliced to rows [1, 5). */
static inline struct ib_result ib_run_end_result(void) {
  struct ib_result r;
  r.schema = ib_schema("+r", "r",
                       IB_LIST(ib_schema("i", "run_ends", IB_NONE, 0),
                               ib_schema("u", "values", IB_NONE, 0)),
                       0);
  uint32_t run_ends = ib_array(3, 0, 0, IB_LIST(0, IB_I32(2, 3, 6)), IB_NONE, 0);
  uint32_t values = ib_array(3, 1, 0, IB_LIST(ib_bits("101"), IB_I32(0, 1, 1, 2),
                                              ib_put("xy", 2)), IB_NONE, 0);
  r.array = ib_array(4, 0, 1, IB_NONE, IB_LIST(run_ends, values), 0);
  return r;
}

/* fixed_size_list<int16, 2> [[1, 2], null, [5, 6]]. */
static inline struct ib_result ib_fixed_list_result(void) {
  struct ib_result r;
  r.schema = ib_schema("+w:2", "f", IB_LIST(ib_schema("s", "item", IB_NONE, 0)), 0);
  uint32_t child = ib_array(6, 0, 0, IB_LIST(0, IB_I16(1, 2, 0, 0, 5, 6)), IB_NONE, 0);
  r.array = ib_array(3, 1, 0, IB_LIST(ib_bits("101")), IB_LIST(child), 0);
  return r;
}

/* list_view<int32> [[2, 3], [1], null, []] over child [1, 2, 3]. */
static inline struct ib_result ib_list_view_result(void) {
  struct ib_result r;
  r.schema = ib_schema("+vl", "lv", IB_LIST(ib_schema("i", "item", IB_NONE, 0)), 0);
  uint32_t child = ib_array(3, 0, 0, IB_LIST(0, IB_I32(1, 2, 3)), IB_NONE, 0);
  r.array = ib_array(4, 1, 0, IB_LIST(ib_bits("1101"), IB_I32(1, 0, 0, 3), IB_I32(2, 1, 0, 0)),
                     IB_LIST(child), 0);
  return r;
}

#endif /* WUDF_TESTS_IMPORT_BUILDER_H */
