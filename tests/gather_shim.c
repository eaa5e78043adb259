/*
 * gather_shim.c -- a test-only shared library that exposes the gatherer
 * (src/arrow/gather.c, emit.c) to tests/python/test_gather.py through
 * ctypes, so pyarrow can act as the oracle. It is built from the arrow
 * layer's sources and the common helpers only, never the whole library.
 *
 * Entry points:
 *   wudf_test_gather        gather segments of source arrays, export them.
 *   wudf_test_gather_guest  gather, write the plan into a fake guest memory
 *                           with wudf__plan_guest_write, read it back with
 *                           the small wasm32 reader below (checking every
 *                           field the writer must set, alignment, and that
 *                           nothing outside the reported range was
 *                           touched), and export a copy of what was read.
 *   wudf_test_live_allocations  allocations made through the library's
 *                           funnel and not yet freed (a counting allocator
 *                           is installed on first use), so the tests can
 *                           see that releasing an export frees its block.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/gather.h"

#define SHIM_API __attribute__((visibility("default")))
#define SHIM_MESSAGE 1024

/* ---------------------------------------------------- counting allocator */

static atomic_long shim_live;

static void* shim_malloc(void* user_data, size_t size) {
  (void)user_data;
  void* pointer = malloc(size == 0 ? 1 : size);
  if (pointer != NULL) atomic_fetch_add(&shim_live, 1);
  return pointer;
}

static void* shim_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  void* moved = realloc(pointer, size == 0 ? 1 : size);
  if (moved != NULL && pointer == NULL) atomic_fetch_add(&shim_live, 1);
  return moved;
}

static void shim_free(void* user_data, void* pointer) {
  (void)user_data;
  if (pointer != NULL) atomic_fetch_sub(&shim_live, 1);
  free(pointer);
}

/* Installs the counting allocator once. */
static void shim_init(void) {
  static atomic_int installed;
  if (atomic_exchange(&installed, 1) == 0) {
    static const struct wudf_allocator counting = {shim_malloc, shim_realloc, shim_free, NULL};
    wudf_set_allocator(&counting);
  }
}

/* Funnel allocations alive now. */
SHIM_API long wudf_test_live_allocations(void) {
  shim_init();
  return atomic_load(&shim_live);
}

/* ------------------------------------------------------------- segments */

/* Builds the segment list from the parallel arrays the tests pass
 * (`seg_source[i]` -1 for a null segment). Returns NULL on a bad index. */
static struct wudf__segment* shim_segments(struct ArrowArray** sources, size_t n_sources,
                                           const int64_t* seg_source, const int64_t* seg_start,
                                           const int64_t* seg_count, size_t n, char* message) {
  struct wudf__segment* segments = calloc(n == 0 ? 1 : n, sizeof(*segments));
  if (segments == NULL) {
    snprintf(message, SHIM_MESSAGE, "shim: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (seg_source[i] >= (int64_t)n_sources) {
      snprintf(message, SHIM_MESSAGE, "shim: segment %zu names source %lld", i,
               (long long)seg_source[i]);
      free(segments);
      return NULL;
    }
    segments[i].array = seg_source[i] < 0 ? NULL : sources[seg_source[i]];
    segments[i].start = seg_start[i];
    segments[i].count = seg_count[i];
  }
  return segments;
}

/* Gathers `count` segments of arrays of `schema` and exports the result;
 * returns the status, with the error message in `message`. */
static int shim_gather_export(const struct ArrowSchema* schema,
                              const struct wudf__segment* segments, size_t count,
                              const char* name, struct ArrowArray* out,
                              struct ArrowSchema* out_schema, char* message) {
  struct wudf_error error;
  memset(&error, 0, sizeof(error));
  struct wudf__gather* gather;
  int status = wudf__gather_new(schema, segments, count, &gather, &error);
  if (status == 0) {
    status = wudf__plan_export(wudf__gather_plan(gather), name, out, out_schema, &error);
    wudf__gather_free(gather);
  }
  if (status != 0) snprintf(message, SHIM_MESSAGE, "%s", error.message);
  return status;
}

/* After a successful export: exactly one funnel allocation more than
 * `live` (the export's block; the gather was freed). Otherwise the export
 * is released and the status is EPROTO. */
static int shim_check_one_block(int status, long live, struct ArrowArray* out,
                                struct ArrowSchema* out_schema, char* message) {
  if (status != 0) return status;
  long now = atomic_load(&shim_live);
  if (now == live + 1) return 0;
  snprintf(message, SHIM_MESSAGE, "the export holds %ld allocations, not 1", now - live);
  out->release(out);
  out_schema->release(out_schema);
  return EPROTO;
}

SHIM_API int wudf_test_gather(const struct ArrowSchema* schema, struct ArrowArray** sources,
                              size_t n_sources, const int64_t* seg_source,
                              const int64_t* seg_start, const int64_t* seg_count, size_t n,
                              const char* name, struct ArrowArray* out,
                              struct ArrowSchema* out_schema, char* message) {
  shim_init();
  message[0] = '\0';
  struct wudf__segment* segments =
      shim_segments(sources, n_sources, seg_source, seg_start, seg_count, n, message);
  if (segments == NULL) return EINVAL;
  long live = atomic_load(&shim_live);
  int status = shim_gather_export(schema, segments, n, name, out, out_schema, message);
  free(segments);
  return shim_check_one_block(status, live, out, out_schema, message);
}

/* ------------------------------------------------------ wasm32 reader */

/* Reading a guest copy back: the memory, the values every struct must
 * carry, and a failure message. */
struct shim_reader {
  const uint8_t* base;
  uint64_t size;
  uint32_t array_release, schema_release, private_data;
  uint32_t structs; /* structs read */
  char* message;
  int failed;
};

static int shim_fail(struct shim_reader* reader, const char* what, uint64_t at) {
  if (!reader->failed) {
    snprintf(reader->message, SHIM_MESSAGE, "guest copy: %s (at %llu)", what,
             (unsigned long long)at);
  }
  reader->failed = 1;
  return -1;
}

static uint32_t shim_u32(const struct shim_reader* reader, uint64_t at) {
  uint32_t value;
  memcpy(&value, reader->base + at, 4);
  return value;
}

static int64_t shim_i64(const struct shim_reader* reader, uint64_t at) {
  int64_t value;
  memcpy(&value, reader->base + at, 8);
  return value;
}

/* A NUL-terminated string at guest offset `at` (NULL when 0). */
static const char* shim_string(struct shim_reader* reader, uint32_t at, int required) {
  if (at == 0) {
    if (required) shim_fail(reader, "a required string is missing", at);
    return NULL;
  }
  if (at >= reader->size || memchr(reader->base + at, 0, reader->size - at) == NULL) {
    shim_fail(reader, "a string runs out of memory", at);
    return NULL;
  }
  return (const char*)(reader->base + at);
}

static void shim_free_schema(struct ArrowSchema* schema);
static void shim_free_array(struct ArrowArray* array);

/* Never called: the read-back structs are freed by shim_free_*. */
static void shim_dummy_schema_release(struct ArrowSchema* schema) { (void)schema; }
static void shim_dummy_array_release(struct ArrowArray* array) { (void)array; }

/* Reads the wasm32 ArrowSchema at `at` into a new host struct. */
static struct ArrowSchema* shim_read_schema(struct shim_reader* reader, uint32_t at, int depth) {
  if (depth > 80 || at % 8 != 0 || (uint64_t)at + 48 > reader->size) {
    shim_fail(reader, "a schema struct is misplaced", at);
    return NULL;
  }
  struct ArrowSchema* schema = calloc(1, sizeof(*schema));
  if (schema == NULL) {
    shim_fail(reader, "out of memory", at);
    return NULL;
  }
  reader->structs++;
  schema->release = shim_dummy_schema_release;
  schema->format = shim_string(reader, shim_u32(reader, at + WUDF__SCHEMA_FORMAT), 1);
  schema->name = shim_string(reader, shim_u32(reader, at + WUDF__SCHEMA_NAME), 0);
  uint32_t metadata = shim_u32(reader, at + WUDF__SCHEMA_METADATA);
  if (metadata != 0) {
    if (metadata % 8 != 0 || metadata >= reader->size) shim_fail(reader, "metadata", at);
    else schema->metadata = (const char*)(reader->base + metadata);
  }
  if (shim_u32(reader, at + 12) != 0) shim_fail(reader, "schema padding not zero", at);
  schema->flags = shim_i64(reader, at + WUDF__SCHEMA_FLAGS);
  schema->n_children = shim_i64(reader, at + WUDF__SCHEMA_N_CHILDREN);
  if (shim_u32(reader, at + WUDF__SCHEMA_RELEASE) != reader->schema_release ||
      shim_u32(reader, at + WUDF__SCHEMA_PRIVATE_DATA) != reader->private_data) {
    shim_fail(reader, "schema release or private_data not as given", at);
  }
  uint32_t children = shim_u32(reader, at + WUDF__SCHEMA_CHILDREN);
  if (schema->n_children < 0 || schema->n_children > 1000 ||
      (schema->n_children > 0 &&
       (children % 8 != 0 || (uint64_t)children + 4 * (uint64_t)schema->n_children > reader->size)) ||
      (schema->n_children == 0 && children != 0)) {
    shim_fail(reader, "schema children", at);
    schema->n_children = 0;
  }
  if (schema->n_children > 0) {
    schema->children = calloc((size_t)schema->n_children, sizeof(*schema->children));
    for (int64_t i = 0; schema->children != NULL && i < schema->n_children; i++) {
      schema->children[i] = shim_read_schema(reader, shim_u32(reader, children + 4 * i), depth + 1);
    }
  }
  uint32_t dictionary = shim_u32(reader, at + WUDF__SCHEMA_DICTIONARY);
  if (dictionary != 0) schema->dictionary = shim_read_schema(reader, dictionary, depth + 1);
  return schema;
}

/* Reads the wasm32 ArrowArray at `at` into a new host struct whose
 * buffers point into the memory. */
static struct ArrowArray* shim_read_array(struct shim_reader* reader, uint32_t at, int depth) {
  if (depth > 80 || at % 8 != 0 || (uint64_t)at + 64 > reader->size) {
    shim_fail(reader, "an array struct is misplaced", at);
    return NULL;
  }
  struct ArrowArray* array = calloc(1, sizeof(*array));
  if (array == NULL) {
    shim_fail(reader, "out of memory", at);
    return NULL;
  }
  reader->structs++;
  array->release = shim_dummy_array_release;
  array->length = shim_i64(reader, at + WUDF__ARRAY_LENGTH);
  array->null_count = shim_i64(reader, at + WUDF__ARRAY_NULL_COUNT);
  array->offset = shim_i64(reader, at + WUDF__ARRAY_OFFSET);
  array->n_buffers = shim_i64(reader, at + WUDF__ARRAY_N_BUFFERS);
  array->n_children = shim_i64(reader, at + WUDF__ARRAY_N_CHILDREN);
  if (array->offset != 0) shim_fail(reader, "offset not 0", at);
  if (shim_u32(reader, at + 60) != 0) shim_fail(reader, "array padding not zero", at);
  if (shim_u32(reader, at + WUDF__ARRAY_RELEASE) != reader->array_release ||
      shim_u32(reader, at + WUDF__ARRAY_PRIVATE_DATA) != reader->private_data) {
    shim_fail(reader, "array release or private_data not as given", at);
  }
  uint32_t buffers = shim_u32(reader, at + WUDF__ARRAY_BUFFERS);
  uint32_t children = shim_u32(reader, at + WUDF__ARRAY_CHILDREN);
  if (array->n_buffers < 0 || array->n_buffers > 100 || array->n_children < 0 ||
      array->n_children > 1000 ||
      (array->n_buffers > 0 &&
       (buffers % 8 != 0 || (uint64_t)buffers + 4 * (uint64_t)array->n_buffers > reader->size)) ||
      (array->n_children > 0 &&
       (children % 8 != 0 || (uint64_t)children + 4 * (uint64_t)array->n_children > reader->size))) {
    shim_fail(reader, "array buffers or children tables", at);
    array->n_buffers = array->n_children = 0;
  }
  if (array->n_buffers > 0) {
    array->buffers = calloc((size_t)array->n_buffers, sizeof(*array->buffers));
    for (int64_t i = 0; array->buffers != NULL && i < array->n_buffers; i++) {
      uint32_t buffer = shim_u32(reader, buffers + 4 * i);
      if (buffer == 0) continue;
      if (buffer % 64 != 0 || buffer > reader->size) {
        shim_fail(reader, "a buffer is not 64-byte aligned inside memory", buffer);
      }
      array->buffers[i] = reader->base + buffer;
    }
  }
  if (array->n_children > 0) {
    array->children = calloc((size_t)array->n_children, sizeof(*array->children));
    for (int64_t i = 0; array->children != NULL && i < array->n_children; i++) {
      array->children[i] = shim_read_array(reader, shim_u32(reader, children + 4 * i), depth + 1);
      if (array->children[i] == NULL) shim_fail(reader, "a child array is missing", at);
    }
  }
  uint32_t dictionary = shim_u32(reader, at + WUDF__ARRAY_DICTIONARY);
  if (dictionary != 0) array->dictionary = shim_read_array(reader, dictionary, depth + 1);
  return array;
}

static void shim_free_schema(struct ArrowSchema* schema) {
  if (schema == NULL) return;
  for (int64_t i = 0; schema->children != NULL && i < schema->n_children; i++) {
    shim_free_schema(schema->children[i]);
  }
  free(schema->children);
  shim_free_schema(schema->dictionary);
  free(schema);
}

static void shim_free_array(struct ArrowArray* array) {
  if (array == NULL) return;
  for (int64_t i = 0; array->children != NULL && i < array->n_children; i++) {
    shim_free_array(array->children[i]);
  }
  free(array->children);
  free(array->buffers);
  shim_free_array(array->dictionary);
  free(array);
}

SHIM_API int wudf_test_gather_guest(const struct ArrowSchema* schema, struct ArrowArray** sources,
                                    size_t n_sources, const int64_t* seg_source,
                                    const int64_t* seg_start, const int64_t* seg_count, size_t n,
                                    const char* name, uint32_t at, struct ArrowArray* out,
                                    struct ArrowSchema* out_schema, char* message) {
  shim_init();
  message[0] = '\0';
  struct wudf__segment* segments =
      shim_segments(sources, n_sources, seg_source, seg_start, seg_count, n, message);
  if (segments == NULL) return EINVAL;
  struct wudf_error error;
  memset(&error, 0, sizeof(error));
  struct wudf__gather* gather;
  int status = wudf__gather_new(schema, segments, n, &gather, &error);
  free(segments);
  if (status != 0) {
    snprintf(message, SHIM_MESSAGE, "%s", error.message);
    return status;
  }
  const struct wudf__plan* plan = wudf__gather_plan(gather);
  int64_t size = wudf__plan_guest_size(plan);
  if (size < 0) {
    wudf__gather_free(gather);
    snprintf(message, SHIM_MESSAGE, "guest size past 32 bits");
    return EOVERFLOW;
  }
  /* Two fake memories, filled with different canaries, aligned like a
   * real linear memory (page-aligned) so guest offsets and host addresses
   * agree modulo 64. The plan is written into both: bytes outside [at, at
   * + size) must keep their canary, and bytes inside must be the same in
   * both (every byte of the range written, none left as it was). */
  uint64_t memory_size = (uint64_t)at + (uint64_t)size + 256;
  size_t allocated = (size_t)((memory_size + 4095) / 4096 * 4096);
  uint8_t* base = aligned_alloc(4096, allocated);
  uint8_t* other = aligned_alloc(4096, allocated);
  if (base == NULL || other == NULL) {
    free(base);
    free(other);
    wudf__gather_free(gather);
    snprintf(message, SHIM_MESSAGE, "shim: out of memory");
    return ENOMEM;
  }
  memset(base, 0xa5, (size_t)memory_size);
  memset(other, 0x5a, (size_t)memory_size);
  struct wudf__guest_memory memory = {base, memory_size};
  struct wudf__guest_memory other_memory = {other, memory_size};
  const uint32_t array_release = 7, schema_release = 9, private_data = 0x1234;
  struct wudf__guest_placement placed, other_placed;
  memset(&placed, 0xff, sizeof(placed));
  wudf__plan_guest_write(plan, name, &memory, at, array_release, schema_release, private_data,
                         &placed);
  wudf__plan_guest_write(plan, name, &other_memory, at, array_release, schema_release,
                         private_data, &other_placed);
  wudf__gather_free(gather); /* the guest copy must not need the plan */
  struct shim_reader reader = {base, memory_size, array_release, schema_release, private_data,
                               0, message, 0};
  for (uint64_t i = 0; i < memory_size; i++) {
    int inside = i >= at && i < (uint64_t)at + (uint64_t)size;
    if (!inside && (base[i] != 0xa5 || other[i] != 0x5a)) {
      shim_fail(&reader, "a byte outside the reported range was written", i);
      break;
    }
    if (inside && base[i] != other[i]) {
      shim_fail(&reader, "a byte inside the reported range was not written", i);
      break;
    }
  }
  free(other);
  if (placed.size != (uint32_t)size) shim_fail(&reader, "placement size differs from the size", size);
  struct ArrowArray* array = shim_read_array(&reader, placed.array, 0);
  struct ArrowSchema* read_schema = shim_read_schema(&reader, placed.schema, 0);
  if (reader.structs != placed.struct_count) shim_fail(&reader, "struct count", placed.struct_count);
  status = reader.failed ? EPROTO : 0;
  if (status == 0 && (array == NULL || read_schema == NULL)) status = EPROTO;
  if (status == 0) {
    struct wudf__segment whole = {array, 0, array->length};
    long live = atomic_load(&shim_live);
    status = shim_gather_export(read_schema, &whole, 1, NULL, out, out_schema, message);
    status = shim_check_one_block(status, live, out, out_schema, message);
  }
  shim_free_array(array);
  shim_free_schema(read_schema);
  free(base);
  return status;
}
