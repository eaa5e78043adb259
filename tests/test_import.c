/*
 * test_import.c -- the validator of guest results (src/abi/import.c):
 * wasm32 result trees are written by hand into a fake linear memory
 * (tests/import_builder.h). A valid result of every layout is accepted and
 * its mirror checked field by field; then each validation rule is broken
 * alone, and the rejection must be EPROTO with a message starting with the
 * expected "PATH: RULE: ". Also: nesting at the depth limit, cycles, DAGs,
 * the STRUCTURE level, zero-copy views released in every order, and
 * allocation failures.
 */
#include <errno.h>
#include <stdint.h>

#include "abi/import.h"
#include "arrow/format.h"
#include "import_builder.h"
#include "test.h"
#include "udf/signature.h"

static uint8_t memory_bytes[1 << 20];
static struct wudf_error error;
static struct wudf__mirror* mirror;

/* Empties the fake memory (and frees the previous test's mirror). */
static void fresh(void) {
  wudf__mirror_free(mirror);
  mirror = NULL;
  ib_start(memory_bytes, sizeof(memory_bytes));
}

/* Runs both steps on a result at `level`, requiring `length` rows (-1: any).
 * The mirror stays in `mirror`. */
static int run_at(struct ib_result result, int level, int64_t length) {
  wudf__mirror_free(mirror);
  mirror = NULL;
  memset(&error, 0, sizeof(error));
  int status = wudf__mirror_schema(&ib_memory, result.schema, "result", &mirror, &error);
  if (status != 0) {
    if (mirror != NULL) TEST_FAIL("a failed schema step left a mirror");
    return status;
  }
  status = wudf__mirror_array(mirror, &ib_memory, result.array, length, level, "result", &error);
  if (status != 0 && wudf__mirror_root_array(mirror) != NULL) {
    TEST_FAIL("a failed array step left an array");
  }
  return status;
}

static int run(struct ib_result result) { return run_at(result, WUDF__VALIDATE_FULL, -1); }

#define ACCEPT(result) ASSERT_STATUS(run(result), 0, &error)
#define ACCEPT_AT(result, level) ASSERT_STATUS(run_at(result, level, -1), 0, &error)

/* Asserts a rejection whose message starts with `prefix` ("PATH: RULE: "). */
#define REJECT_AT(result, level, prefix)                                        \
  do {                                                                          \
    int reject__status = run_at(result, level, -1);                             \
    if (reject__status != EPROTO)                                               \
      TEST_FAIL("expected EPROTO with \"%s\", got %d: %s", prefix,              \
                reject__status, error.message);                                 \
    if (strncmp(error.message, prefix, strlen(prefix)) != 0)                    \
      TEST_FAIL("expected a message starting \"%s\", got \"%s\"", prefix,       \
                error.message);                                                 \
  } while (0)
#define REJECT(result, prefix) REJECT_AT(result, WUDF__VALIDATE_FULL, prefix)

/* A rejection at FULL that STRUCTURE accepts. */
#define REJECT_FULL_ONLY(result, prefix)                 \
  do {                                                   \
    REJECT(result, prefix);                              \
    ACCEPT_AT(result, WUDF__VALIDATE_STRUCTURE);         \
  } while (0)

static const struct ArrowArray* root(void) { return wudf__mirror_root_array(mirror); }
static const struct ArrowSchema* root_schema(void) { return wudf__mirror_root_schema(mirror); }

/* The host address of guest offset `at`. */
static const void* host(uint32_t at) { return ib_memory.base + at; }

/* Points buffer `index` of `array` at the last `available` bytes of memory. */
static void buffer_to_end(uint32_t array, int index, uint64_t available) {
  ib_set_u32(ib_buffer_at(array, index), (uint32_t)(ib_memory.size - available));
}

/* ============================================================ valid trees */

TEST(valid_int32) {
  fresh();
  struct ib_result r = ib_int32_result();
  ACCEPT(r);
  const struct ArrowArray* a = root();
  ASSERT_EQ(a->length, 4);
  ASSERT_EQ(a->null_count, 1);
  ASSERT_EQ(a->offset, 0);
  ASSERT_EQ(a->n_buffers, 2);
  ASSERT_EQ(a->n_children, 0);
  ASSERT(a->buffers[0] == host(ib_get_u32(ib_buffer_at(r.array, 0))));
  ASSERT(a->buffers[1] == host(ib_get_u32(ib_buffer_at(r.array, 1))));
  const int32_t* values = a->buffers[1];
  ASSERT_EQ(values[0], 1);
  ASSERT_EQ(values[3], 4);
  ASSERT(a->release != NULL);
  ASSERT(a->dictionary == NULL);
  const struct ArrowSchema* s = root_schema();
  ASSERT_STR_EQ(s->format, "i");
  ASSERT_STR_EQ(s->name, "x");
  ASSERT(s->metadata == NULL);
  ASSERT_EQ(s->flags, 2);
  ASSERT_EQ(s->n_children, 0);
  ASSERT(s->format == host(ib_get_u32(r.schema + WUDF__SCHEMA_FORMAT)));
  /* The expected row count. */
  ASSERT_STATUS(run_at(r, WUDF__VALIDATE_FULL, 4), 0, &error);
}

TEST(valid_null_count_computed) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, -1);
  ACCEPT(r);
  ASSERT_EQ(root()->null_count, 1);
  ACCEPT_AT(r, WUDF__VALIDATE_STRUCTURE);
  ASSERT_EQ(root()->null_count, 1);
  /* No validity buffer: no nulls. */
  ib_set_u32(ib_buffer_at(r.array, 0), 0);
  ACCEPT(r);
  ASSERT_EQ(root()->null_count, 0);
  ASSERT(root()->buffers[0] == NULL);
}

TEST(valid_null) {
  fresh();
  struct ib_result r = {ib_array(3, 3, 0, IB_NONE, IB_NONE, 0), ib_schema("n", "z", IB_NONE, 0)};
  ACCEPT(r);
  ASSERT_EQ(root()->null_count, 3);
  ASSERT_EQ(root()->n_buffers, 0);
  ASSERT(root()->buffers != NULL);
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, -1);
  ACCEPT(r);
  ASSERT_EQ(root()->null_count, 3);
}

TEST(valid_bool_with_offset) {
  fresh();
  uint32_t values = ib_bits("0110100111");
  struct ib_result r = {ib_array(7, 2, 3, IB_LIST(ib_bits("1110110111"), values), IB_NONE, 0),
                        ib_schema("b", "flag", IB_NONE, 0)};
  ACCEPT(r);
  ASSERT_EQ(root()->offset, 3);
  ASSERT_EQ(root()->null_count, 2);
  ASSERT(root()->buffers[1] == host(values));
  /* 10 bits need 2 bytes: 1 byte is too few. */
  buffer_to_end(r.array, 1, 1);
  REJECT(r, "result: buffer: ");
}

/* Every fixed-width format: accepted with the right buffer, refused when
 * its values buffer is one byte short. */
TEST(valid_fixed_width_formats) {
  static const char* const formats[] = {
      "c", "C", "s", "S", "i", "I", "l", "L", "e", "f", "g", "d:9,2,32", "d:18,3,64",
      "d:38,10", "d:38,10,128", "d:76,5,256", "tdD", "tdm", "tts", "ttm", "ttu", "ttn",
      "tss:", "tsm:UTC", "tsu:Europe/Paris", "tsn:+01:00", "tDs", "tDm", "tDu", "tDn", "tiM",
      "tiD", "tin", "w:3", "w:1"};
  for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
    fresh();
    struct wudf__format parsed;
    ASSERT_EQ(wudf__format_parse(formats[k], &parsed), 0);
    uint64_t bytes = 5 * (uint64_t)parsed.byte_width;
    uint8_t data[5 * 32];
    for (uint64_t i = 0; i < bytes; i++) data[i] = (uint8_t)(i * 7 + 1);
    uint32_t values = ib_put_unaligned(data, bytes);
    struct ib_result r = {ib_array(3, 0, 2, IB_LIST(0, values), IB_NONE, 0),
                          ib_schema(formats[k], "v", IB_NONE, 0)};
    if (run(r) != 0) TEST_FAIL("format %s: %s", formats[k], error.message);
    ASSERT(root()->buffers[1] == host(values));
    ASSERT_EQ(memcmp(root()->buffers[1], data, bytes), 0);
    ASSERT_STR_EQ(root_schema()->format, formats[k]);
    buffer_to_end(r.array, 1, bytes - 1);
    REJECT(r, "result: buffer: ");
    buffer_to_end(r.array, 1, bytes);
    ACCEPT(r);
  }
}

TEST(valid_utf8_sliced) {
  fresh();
  struct ib_result r = ib_utf8_result();
  ACCEPT(r);
  const struct ArrowArray* a = root();
  ASSERT_EQ(a->offset, 1);
  ASSERT_EQ(a->length, 4);
  ASSERT_EQ(a->n_buffers, 3);
  const int32_t* offsets = a->buffers[1];
  const char* data = a->buffers[2];
  ASSERT_EQ(offsets[4] - offsets[3], 6);
  ASSERT_EQ(memcmp(data + offsets[3], "h\xc3\xa9llo", 6), 0);
}

TEST(valid_binary_and_large) {
  fresh();
  /* Binary accepts any bytes; large offsets are 64-bit. */
  struct ib_result r = {
      ib_array(2, 0, 0, IB_LIST(0, IB_I32(0, 2, 3), ib_put("\xff\xfe\x80", 3)), IB_NONE, 0),
      ib_schema("z", "b", IB_NONE, 0)};
  ACCEPT(r);
  struct ib_result large = {
      ib_array(2, 0, 0, IB_LIST(0, IB_I64(0, 2, 3), ib_put("ab\xc3", 3)), IB_NONE, 0),
      ib_schema("Z", "b", IB_NONE, 0)};
  ACCEPT(large);
  ASSERT_EQ(((const int64_t*)root()->buffers[1])[2], 3);
  ib_set_u32(large.schema + WUDF__SCHEMA_FORMAT, ib_str("U"));
  REJECT(large, "result: utf8: ");
  /* An empty array may have null offsets and data: mirrored with one zero
   * offset, as the C Data Interface wants (and Arrow C++ reads). */
  struct ib_result empty = {ib_array(0, 0, 0, IB_LIST(0, 0, 0), IB_NONE, 0),
                            ib_schema("u", "e", IB_NONE, 0)};
  ACCEPT(empty);
  ASSERT(root()->buffers[1] != NULL);
  ASSERT_EQ(((const int32_t*)root()->buffers[1])[0], 0);
  ASSERT(root()->buffers[2] == NULL);
  /* Not at an offset: offsets[3] must exist. */
  ib_set_i64(empty.array + WUDF__ARRAY_OFFSET, 3);
  REJECT(empty, "result: buffer: buffers[1] (offsets) is null but 16 bytes are needed");
  ib_set_u32(ib_buffer_at(empty.array, 1), (uint32_t)ib_memory.size - 12);
  REJECT(empty, "result: buffer: buffers[1] (offsets)");
  ib_set_u32(ib_buffer_at(empty.array, 1), (uint32_t)ib_memory.size - 16);
  ACCEPT(empty);
  /* The data buffer holds every byte up to the last offset, even when the
   * rows are all empty. */
  fresh();
  struct ib_result blanks = {ib_array(1, 0, 0, IB_LIST(0, IB_I32(5, 5), 0), IB_NONE, 0),
                             ib_schema("u", "e", IB_NONE, 0)};
  REJECT(blanks, "result: buffer: buffers[2] (data) is null but 5 bytes are needed");
  ib_set_u32(ib_buffer_at(blanks.array, 2), (uint32_t)ib_memory.size - 4);
  REJECT(blanks, "result: buffer: buffers[2] (data)");
  ib_set_u32(ib_buffer_at(blanks.array, 2), (uint32_t)ib_memory.size - 5);
  ACCEPT(blanks);
  /* Fixed width: the values of an empty array at an offset cover the
   * offset (null values only at offset 0). */
  struct ib_result ints = {ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0),
                           ib_schema("i", "i", IB_NONE, 0)};
  ACCEPT(ints);
  ib_set_i64(ints.array + WUDF__ARRAY_OFFSET, 3);
  REJECT(ints, "result: buffer: buffers[1] (values) is null but 12 bytes are needed");
  ib_set_u32(ib_buffer_at(ints.array, 1), (uint32_t)ib_memory.size - 8);
  REJECT(ints, "result: buffer: buffers[1] (values)");
  ib_set_u32(ib_buffer_at(ints.array, 1), (uint32_t)ib_memory.size - 12);
  ACCEPT(ints);
}

TEST(valid_views) {
  fresh();
  struct ib_result r = ib_view_result();
  ACCEPT(r);
  const struct ArrowArray* a = root();
  ASSERT_EQ(a->n_buffers, 5);
  ASSERT_EQ(a->null_count, 1);
  const int64_t* sizes = a->buffers[4];
  ASSERT_EQ(sizes[0], 29);
  ASSERT_EQ(sizes[1], 2);
  const uint8_t* views = a->buffers[1];
  int32_t index, offset;
  memcpy(&index, views + 32 + 8, 4);
  memcpy(&offset, views + 32 + 12, 4);
  ASSERT_EQ(memcmp((const char*)a->buffers[2 + index] + offset, "a value longer than twelve",
                   26), 0);
  /* Binary views; no variadic buffers at all when every value is inline. */
  uint8_t inline_views[2 * 16];
  ib_view(inline_views, "abc", 3, 0, 0);
  ib_view(inline_views + 16, "twelve bytes", 12, 0, 0);
  struct ib_result small = {
      ib_array(2, 0, 0, IB_LIST(0, ib_put(inline_views, sizeof(inline_views)), 0), IB_NONE, 0),
      ib_schema("vz", "b", IB_NONE, 0)};
  ACCEPT(small);
  ASSERT_EQ(root()->n_buffers, 3);
}

TEST(valid_list) {
  fresh();
  struct ib_result r = ib_list_result();
  ACCEPT(r);
  const struct ArrowArray* a = root();
  ASSERT_EQ(a->n_children, 1);
  ASSERT_EQ(a->children[0]->length, 3);
  ASSERT_EQ(((const int32_t*)a->children[0]->buffers[1])[2], 3);
  ASSERT_STR_EQ(root_schema()->children[0]->name, "item");
  ASSERT(a->children[0]->release != NULL);
  /* Large list: 64-bit offsets. */
  fresh();
  uint32_t child = ib_array(3, 0, 0, IB_LIST(0, IB_I32(1, 2, 3)), IB_NONE, 0);
  struct ib_result large = {
      ib_array(2, 0, 0, IB_LIST(0, IB_I64(1, 1, 3)), IB_LIST(child), 0),
      ib_schema("+L", "l", IB_LIST(ib_schema("i", "item", IB_NONE, 0)), 0)};
  ACCEPT(large);
  ASSERT_EQ(((const int64_t*)root()->buffers[1])[2], 3);
}

TEST(valid_fixed_list_and_list_view) {
  fresh();
  ACCEPT(ib_fixed_list_result());
  ASSERT_EQ(root()->children[0]->length, 6);
  ASSERT_EQ(root()->n_buffers, 1);
  fresh();
  ACCEPT(ib_list_view_result());
  ASSERT_EQ(root()->n_buffers, 3);
  ASSERT_EQ(((const int32_t*)root()->buffers[2])[0], 2);
  /* Large list view. */
  fresh();
  uint32_t child = ib_array(3, 0, 0, IB_LIST(0, IB_I32(1, 2, 3)), IB_NONE, 0);
  struct ib_result large = {
      ib_array(2, 0, 0, IB_LIST(0, IB_I64(2, 0), IB_I64(1, 3)), IB_LIST(child), 0),
      ib_schema("+vL", "l", IB_LIST(ib_schema("i", "item", IB_NONE, 0)), 0)};
  ACCEPT(large);
}

TEST(valid_struct_and_map) {
  fresh();
  ACCEPT(ib_struct_result());
  ASSERT_EQ(root()->n_children, 2);
  ASSERT_STR_EQ(root_schema()->children[1]->name, "b");
  ASSERT_EQ(((const int64_t*)root()->children[0]->buffers[1])[1], 20);
  ASSERT(root()->buffers[0] == NULL);
  fresh();
  ACCEPT(ib_map_result());
  ASSERT_EQ(root_schema()->flags, 6);
  ASSERT_EQ(root()->children[0]->children[0]->length, 2);
}

TEST(valid_unions) {
  fresh();
  ACCEPT(ib_dense_union_result());
  ASSERT_EQ(root()->n_buffers, 2);
  ASSERT_EQ(root()->null_count, 0);
  ASSERT_EQ(((const int8_t*)root()->buffers[0])[1], 9);
  fresh();
  struct ib_result sparse = ib_sparse_union_result();
  ib_set_i64(sparse.array + WUDF__ARRAY_NULL_COUNT, -1);
  ACCEPT(sparse);
  ASSERT_EQ(root()->n_buffers, 1);
  ASSERT_EQ(root()->null_count, 0);
  ASSERT_EQ(((const double*)root()->children[1]->buffers[1])[1], 2.5);
}

TEST(valid_dictionary) {
  fresh();
  struct ib_result r = ib_dictionary_result();
  ACCEPT(r);
  ASSERT(root()->dictionary != NULL);
  ASSERT_EQ(root()->dictionary->length, 2);
  ASSERT(root_schema()->dictionary != NULL);
  ASSERT_STR_EQ(root_schema()->dictionary->format, "u");
  ASSERT(root_schema()->dictionary->name == NULL);
  /* Ordered. */
  ib_set_i64(r.schema + WUDF__SCHEMA_FLAGS, 1);
  ACCEPT(r);
  /* A nested dictionary: uint16 indices into a dictionary whose values are
   * int32 indices into ["p", "q"]. */
  fresh();
  uint32_t inner_schema = ib_schema("i", NULL, IB_NONE, ib_schema("u", NULL, IB_NONE, 0));
  uint32_t inner_dictionary =
      ib_array(2, 0, 0, IB_LIST(0, IB_I32(0, 1, 2), ib_put("pq", 2)), IB_NONE, 0);
  uint32_t outer_dictionary = ib_array(3, 0, 0, IB_LIST(0, IB_I32(1, 0, 1)), IB_NONE,
                                       inner_dictionary);
  struct ib_result nested = {
      ib_array(3, 0, 0, IB_LIST(0, IB_I16(2, 2, 0)), IB_NONE, outer_dictionary),
      ib_schema("S", "n", IB_NONE, inner_schema)};
  ACCEPT(nested);
  ASSERT_EQ(root()->dictionary->dictionary->length, 2);
  /* Every index type. */
  static const char* const index_formats[] = {"c", "C", "s", "S", "i", "I", "l", "L"};
  for (size_t k = 0; k < 8; k++) {
    fresh();
    struct wudf__format parsed;
    ASSERT_EQ(wudf__format_parse(index_formats[k], &parsed), 0);
    uint8_t indices[16] = {0};
    indices[parsed.byte_width] = 1; /* [0, 1] */
    uint32_t dictionary = ib_array(2, 0, 0, IB_LIST(0, IB_I32(10, 20)), IB_NONE, 0);
    struct ib_result each = {
        ib_array(2, 0, 0, IB_LIST(0, ib_put(indices, 2 * (uint64_t)parsed.byte_width)),
                 IB_NONE, dictionary),
        ib_schema(index_formats[k], "d", IB_NONE, ib_schema("i", NULL, IB_NONE, 0))};
    ACCEPT(each);
  }
}

TEST(valid_run_end) {
  fresh();
  struct ib_result r = ib_run_end_result();
  ACCEPT(r);
  ASSERT_EQ(root()->offset, 1);
  ASSERT_EQ(root()->n_buffers, 0);
  ASSERT_EQ(root()->null_count, 0);
  ASSERT_EQ(root()->children[1]->null_count, 1);
  /* int16 and int64 run ends. */
  fresh();
  struct ib_result r16 = {
      ib_array(3, 0, 0, IB_NONE,
               IB_LIST(ib_array(2, 0, 0, IB_LIST(0, IB_I16(1, 3)), IB_NONE, 0),
                       ib_array(2, 0, 0, IB_LIST(0, IB_I64(5, 6)), IB_NONE, 0)), 0),
      ib_schema("+r", "r", IB_LIST(ib_schema("s", "run_ends", IB_NONE, 0),
                                   ib_schema("l", "values", IB_NONE, 0)), 0)};
  ACCEPT(r16);
  fresh();
  struct ib_result r64 = {
      ib_array(3, 0, 0, IB_NONE,
               IB_LIST(ib_array(1, 0, 0, IB_LIST(0, IB_I64(3)), IB_NONE, 0),
                       ib_array(1, 0, 0, IB_LIST(0, IB_I64(5)), IB_NONE, 0)), 0),
      ib_schema("+r", "r", IB_LIST(ib_schema("l", "run_ends", IB_NONE, 0),
                                   ib_schema("l", "values", IB_NONE, 0)), 0)};
  ACCEPT(r64);
  /* Empty. */
  fresh();
  struct ib_result empty = {
      ib_array(0, 0, 0, IB_NONE,
               IB_LIST(ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0),
                       ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0)), 0),
      ib_schema("+r", "r", IB_LIST(ib_schema("i", "run_ends", IB_NONE, 0),
                                   ib_schema("i", "values", IB_NONE, 0)), 0)};
  ACCEPT(empty);
}

TEST(valid_metadata) {
  fresh();
  struct ib_result r = ib_int32_result();
  uint8_t blob[4 + 4 + 3 + 4 + 2];
  int32_t n = 1, key = 3, value = 2;
  memcpy(blob, &n, 4);
  memcpy(blob + 4, &key, 4);
  memcpy(blob + 8, "key", 3);
  memcpy(blob + 11, &value, 4);
  memcpy(blob + 15, "va", 2);
  uint32_t at = ib_put(blob, sizeof(blob));
  ib_set_u32(r.schema + WUDF__SCHEMA_METADATA, at);
  ACCEPT(r);
  ASSERT(root_schema()->metadata == host(at));
}

/* A struct of every layout at once, nested under lists, with names. */
TEST(valid_everything_nested) {
  fresh();
  struct ib_result parts[] = {ib_int32_result(), ib_utf8_result(), ib_view_result(),
                              ib_list_result(), ib_struct_result(), ib_map_result(),
                              ib_dense_union_result(), ib_sparse_union_result(),
                              ib_dictionary_result(), ib_run_end_result(),
                              ib_fixed_list_result(), ib_list_view_result()};
  enum { N = sizeof(parts) / sizeof(parts[0]) };
  uint32_t arrays[N], schemas[N];
  int64_t rows = 2; /* the struct takes the first 2 rows of each (offset applies) */
  for (int i = 0; i < N; i++) {
    arrays[i] = parts[i].array;
    schemas[i] = parts[i].schema;
    char name[16];
    snprintf(name, sizeof(name), "f%d", i);
    ib_set_u32(schemas[i] + WUDF__SCHEMA_NAME, ib_str(name));
  }
  struct ib_result r = {ib_array(rows, 0, 0, IB_LIST(0), N, arrays, 0),
                        ib_schema("+s", "all", N, schemas, 0)};
  ACCEPT(r);
  ASSERT_EQ(root()->n_children, N);
  ASSERT_STR_EQ(root_schema()->children[N - 1]->name, "f11");
  ACCEPT_AT(r, WUDF__VALIDATE_STRUCTURE);
}

/* ============================================================ schema rules */

TEST(schema_struct_in_memory) {
  fresh();
  struct ib_result r = ib_int32_result();
  r.schema = 0;
  REJECT(r, "result: struct in memory: ");
  r.schema = (uint32_t)ib_memory.size - 47;
  REJECT(r, "result: struct in memory: ");
  r = ib_list_result();
  ib_set_u32(ib_get_u32(r.schema + WUDF__SCHEMA_CHILDREN), (uint32_t)ib_memory.size - 40);
  REJECT(r, "result.children[0]: struct in memory: ");
}

TEST(schema_released) {
  fresh();
  struct ib_result r = ib_list_result();
  ib_set_u32(ib_schema_child(r.schema, 0) + WUDF__SCHEMA_RELEASE, 0);
  REJECT(r, "result.item: released: ");
}

TEST(schema_format) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_u32(r.schema + WUDF__SCHEMA_FORMAT, 0);
  REJECT(r, "result: format: ");
  /* Not NUL-terminated inside memory. */
  ib_memory.base[ib_memory.size - 1] = 'i';
  ib_set_u32(r.schema + WUDF__SCHEMA_FORMAT, (uint32_t)ib_memory.size - 1);
  REJECT(r, "result: format: ");
  /* 128 bytes: too long; 127 bytes: read, then unknown. */
  char text[130];
  memset(text, 'i', sizeof(text));
  text[128] = '\0';
  ib_set_u32(r.schema + WUDF__SCHEMA_FORMAT, ib_str(text));
  REJECT(r, "result: format: ");
  text[127] = '\0';
  ib_set_u32(r.schema + WUDF__SCHEMA_FORMAT, ib_str(text));
  REJECT(r, "result: format: unknown");
  static const char* const bad[] = {"q", "w:0", "d:40,2,32", "+us:1,1", "+x", "tsu", "ii"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ib_set_u32(r.schema + WUDF__SCHEMA_FORMAT, ib_str(bad[i]));
    REJECT(r, "result: format: ");
  }
}

TEST(schema_name) {
  fresh();
  struct ib_result r = ib_list_result();
  uint32_t item = ib_schema_child(r.schema, 0);
  /* Not NUL-terminated inside memory: the path falls back to the index. */
  memset(ib_memory.base + ib_memory.size - 8, 'n', 8);
  ib_set_u32(item + WUDF__SCHEMA_NAME, (uint32_t)ib_memory.size - 8);
  REJECT(r, "result.children[0]: name: ");
  /* 4096 bytes are fine, 4097 are not. */
  char* name = malloc(4098);
  memset(name, 'n', 4097);
  name[4097] = '\0';
  ib_set_u32(item + WUDF__SCHEMA_NAME, ib_str(name));
  REJECT(r, "result.children[0]: name: ");
  name[4096] = '\0';
  ib_set_u32(item + WUDF__SCHEMA_NAME, ib_str(name));
  free(name);
  ACCEPT(r);
  /* An empty name: the path uses the index. */
  ib_set_u32(item + WUDF__SCHEMA_NAME, ib_str(""));
  ib_set_u32(item + WUDF__SCHEMA_RELEASE, 0);
  REJECT(r, "result.children[0]: released: ");
}

/* Writes a metadata blob of `pairs` pairs with the given key/value lengths
 * (written as given; bytes follow when the length is positive). */
static uint32_t metadata_blob(int32_t pairs, int32_t key_length, int32_t value_length) {
  uint32_t at = ib_put(&pairs, 4);
  for (int32_t i = 0; i < pairs; i++) {
    ib_put(&key_length, 4);
    if (key_length > 0) ib_alloc_aligned((uint64_t)key_length, 1);
    ib_put(&value_length, 4);
    if (value_length > 0) ib_alloc_aligned((uint64_t)value_length, 1);
  }
  return at;
}

TEST(schema_metadata) {
  fresh();
  struct ib_result r = ib_int32_result();
  /* (ib_put pads to 8 bytes, so write blobs by hand.) */
  uint32_t at = ib_alloc(64);
  int32_t words[] = {-1};
  memcpy(ib_memory.base + at, words, 4);
  ib_set_u32(r.schema + WUDF__SCHEMA_METADATA, at);
  REJECT(r, "result: metadata: ");
  int32_t negative_length[] = {1, -5};
  memcpy(ib_memory.base + at, negative_length, 8);
  REJECT(r, "result: metadata: ");
  int32_t past_end[] = {1, 1, 'a', 1000000};
  memcpy(ib_memory.base + at, past_end, 16);
  REJECT(r, "result: metadata: ");
  int32_t too_many_pairs[] = {1000};
  memcpy(ib_memory.base + at, too_many_pairs, 4);
  REJECT(r, "result: metadata: ");
  /* The blob itself at the end of memory. */
  ib_set_u32(r.schema + WUDF__SCHEMA_METADATA, (uint32_t)ib_memory.size - 2);
  REJECT(r, "result: metadata: ");
  /* Well-formed, but more than 1 MiB in the tree: 3 fields sharing a
   * 400 KiB blob. */
  fresh();
  uint32_t big = metadata_blob(1, 400 * 1024, 0);
  uint32_t field = ib_schema("i", "a", IB_NONE, 0);
  ib_set_u32(field + WUDF__SCHEMA_METADATA, big);
  uint32_t child = ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0);
  struct ib_result shared = {ib_array(0, 0, 0, IB_LIST(0), IB_LIST(child, child, child), 0),
                             ib_schema("+s", "s", IB_LIST(field, field, field), 0)};
  REJECT(shared, "result.a: metadata: ");
  ib_set_i64(shared.schema + WUDF__SCHEMA_N_CHILDREN, 2);
  ib_set_i64(shared.array + WUDF__ARRAY_N_CHILDREN, 2);
  ACCEPT(shared);
}

TEST(schema_flags) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_i64(r.schema + WUDF__SCHEMA_FLAGS, 8);
  REJECT(r, "result: flags: ");
  ib_set_i64(r.schema + WUDF__SCHEMA_FLAGS, INT64_MIN);
  REJECT(r, "result: flags: ");
  ib_set_i64(r.schema + WUDF__SCHEMA_FLAGS, 1); /* ordered, no dictionary */
  REJECT(r, "result: flags: ");
  ib_set_i64(r.schema + WUDF__SCHEMA_FLAGS, 4); /* keys sorted, not a map */
  REJECT(r, "result: flags: ");
  ib_set_i64(r.schema + WUDF__SCHEMA_FLAGS, 0);
  ACCEPT(r);
}

TEST(schema_n_children) {
  fresh();
  struct ib_result r = ib_list_result();
  ib_set_i64(r.schema + WUDF__SCHEMA_N_CHILDREN, 2);
  REJECT(r, "result: n_children: ");
  ib_set_i64(r.schema + WUDF__SCHEMA_N_CHILDREN, 0);
  REJECT(r, "result: n_children: ");
  r = ib_int32_result();
  ib_set_i64(r.schema + WUDF__SCHEMA_N_CHILDREN, 1);
  REJECT(r, "result: n_children: ");
  r = ib_sparse_union_result();
  ib_set_i64(r.schema + WUDF__SCHEMA_N_CHILDREN, 1);
  REJECT(r, "result: n_children: ");
  r = ib_run_end_result();
  ib_set_i64(r.schema + WUDF__SCHEMA_N_CHILDREN, 1);
  REJECT(r, "result: n_children: ");
  /* A struct: 0 to 64 children. */
  fresh();
  uint32_t fields[65], arrays[65];
  for (int i = 0; i < 65; i++) {
    fields[i] = ib_schema("n", NULL, IB_NONE, 0);
    arrays[i] = ib_array(1, 1, 0, IB_NONE, IB_NONE, 0);
  }
  struct ib_result wide = {ib_array(1, 0, 0, IB_LIST(0), 64, arrays, 0),
                           ib_schema("+s", "w", 64, fields, 0)};
  ACCEPT(wide);
  ASSERT_EQ(root()->n_children, 64);
  ib_set_i64(wide.schema + WUDF__SCHEMA_N_CHILDREN, 65);
  ib_set_u32(wide.schema + WUDF__SCHEMA_CHILDREN, ib_pointers(65, fields));
  REJECT(wide, "result: n_children: ");
  ib_set_i64(wide.schema + WUDF__SCHEMA_N_CHILDREN, -1);
  REJECT(wide, "result: n_children: ");
  struct ib_result empty = {ib_array(1, 0, 0, IB_LIST(0), IB_NONE, 0),
                            ib_schema("+s", "e", IB_NONE, 0)};
  ACCEPT(empty);
}

TEST(schema_children) {
  fresh();
  struct ib_result r = ib_list_result();
  uint32_t pointers = ib_get_u32(r.schema + WUDF__SCHEMA_CHILDREN);
  ib_set_u32(r.schema + WUDF__SCHEMA_CHILDREN, 0);
  REJECT(r, "result: children: ");
  ib_set_u32(r.schema + WUDF__SCHEMA_CHILDREN, (uint32_t)ib_memory.size - 3);
  REJECT(r, "result: children: ");
  ib_set_u32(r.schema + WUDF__SCHEMA_CHILDREN, pointers);
  ib_set_u32(pointers, 0);
  REJECT(r, "result: children: child 0 is null");
}

TEST(schema_dictionary) {
  fresh();
  struct ib_result r = ib_utf8_result();
  ib_set_u32(r.schema + WUDF__SCHEMA_DICTIONARY, ib_schema("i", NULL, IB_NONE, 0));
  REJECT(r, "result: dictionary: ");
  r = ib_struct_result();
  ib_set_u32(r.schema + WUDF__SCHEMA_DICTIONARY, ib_schema("i", NULL, IB_NONE, 0));
  REJECT(r, "result: dictionary: ");
  /* The dictionary's own schema is checked, under ".dictionary". */
  r = ib_dictionary_result();
  uint32_t values = ib_get_u32(r.schema + WUDF__SCHEMA_DICTIONARY);
  ib_set_u32(values + WUDF__SCHEMA_FORMAT, ib_str("?"));
  REJECT(r, "result.dictionary: format: ");
}

TEST(schema_map_entries) {
  fresh();
  struct ib_result r = ib_map_result();
  uint32_t entries = ib_schema_child(r.schema, 0);
  ib_set_u32(entries + WUDF__SCHEMA_FORMAT, ib_str("i"));
  ib_set_i64(entries + WUDF__SCHEMA_N_CHILDREN, 0);
  REJECT(r, "result: map entries: ");
  fresh();
  uint32_t one_field = ib_schema("+s", "entries", IB_LIST(ib_schema("u", "key", IB_NONE, 0)), 0);
  struct ib_result single = {ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0),
                             ib_schema("+m", "m", IB_LIST(one_field), 0)};
  REJECT(single, "result: map entries: ");
}

TEST(schema_run_ends_type) {
  static const char* const bad[] = {"g", "c", "I", "u", "+s"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    fresh();
    struct ib_result r = ib_run_end_result();
    ib_set_u32(ib_schema_child(r.schema, 0) + WUDF__SCHEMA_FORMAT, ib_str(bad[i]));
    REJECT(r, "result: run ends: ");
  }
  fresh();
  struct ib_result r = ib_run_end_result();
  ib_set_u32(ib_schema_child(r.schema, 0) + WUDF__SCHEMA_DICTIONARY,
             ib_schema("i", NULL, IB_NONE, 0));
  REJECT(r, "result: run ends: ");
}

/* list<list<...<int32>>> with `levels` nodes in all; the arrays match. */
static struct ib_result nested_lists(int levels) {
  uint32_t schema = ib_schema("i", "item", IB_NONE, 0);
  uint32_t array = ib_array(1, 0, 0, IB_LIST(0, IB_I32(42)), IB_NONE, 0);
  for (int i = 1; i < levels; i++) {
    schema = ib_schema("+l", "item", IB_LIST(schema), 0);
    array = ib_array(1, 0, 0, IB_LIST(0, IB_I32(0, 1)), IB_LIST(array), 0);
  }
  struct ib_result r = {array, schema};
  return r;
}

TEST(depth_limit) {
  fresh();
  ACCEPT(nested_lists(WUDF__MAX_DEPTH));
  const struct ArrowArray* a = root();
  for (int i = 1; i < WUDF__MAX_DEPTH; i++) a = a->children[0];
  ASSERT_EQ(((const int32_t*)a->buffers[1])[0], 42);
  fresh();
  REJECT(nested_lists(WUDF__MAX_DEPTH + 1),
         "result.item.item.item.item.item.item.item.item.item.item.item.item.item.item.item."
         "item.item.item.item.item.item.item.item.item.item.item.item.item.item.item.item.item"
         ": depth: ");
  /* A dictionary is a level too: 31 lists, then a dictionary-encoded leaf. */
  fresh();
  uint32_t schema = ib_schema("i", "item", IB_NONE, ib_schema("i", NULL, IB_NONE, 0));
  uint32_t array = ib_array(1, 0, 0, IB_LIST(0, IB_I32(0)), IB_NONE,
                            ib_array(1, 0, 0, IB_LIST(0, IB_I32(7)), IB_NONE, 0));
  for (int i = 1; i < WUDF__MAX_DEPTH; i++) {
    schema = ib_schema("+l", "item", IB_LIST(schema), 0);
    array = ib_array(1, 0, 0, IB_LIST(0, IB_I32(0, 1)), IB_LIST(array), 0);
  }
  struct ib_result r = {array, schema};
  REJECT(r, "result.item");
  ASSERT_CONTAINS(error.message, ".dictionary: depth: ");
}

TEST(schema_cycle) {
  fresh();
  /* A list whose item is the list itself. */
  uint32_t list = ib_schema("+l", "self", IB_LIST(0), 0);
  ib_set_u32(ib_get_u32(list + WUDF__SCHEMA_CHILDREN), list);
  struct ib_result r = {ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0), list};
  REJECT(r, "result.self: cycle: ");
  /* A dictionary whose values schema is the field itself. */
  fresh();
  uint32_t field = ib_schema("i", "d", IB_NONE, 0);
  ib_set_u32(field + WUDF__SCHEMA_DICTIONARY, field);
  struct ib_result d = {ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0), field};
  REJECT(d, "result.dictionary: cycle: ");
}

TEST(dag_shared_nodes) {
  /* Two fields sharing one schema node and one array node: accepted, and
   * mirrored as two distinct nodes. */
  fresh();
  uint32_t field = ib_schema("i", "same", IB_NONE, 0);
  uint32_t child = ib_array(2, 0, 0, IB_LIST(0, IB_I32(1, 2)), IB_NONE, 0);
  struct ib_result r = {ib_array(2, 0, 0, IB_LIST(0), IB_LIST(child, child), 0),
                        ib_schema("+s", "s", IB_LIST(field, field), 0)};
  ACCEPT(r);
  ASSERT(root()->children[0] != root()->children[1]);
  ASSERT(root()->children[0]->buffers[1] == root()->children[1]->buffers[1]);
  ASSERT(root_schema()->children[0] != root_schema()->children[1]);
  /* A DAG of 5 levels of 64 children each sharing one node: 64^5 paths.
   * Refused by the node bound, quickly. */
  fresh();
  uint32_t schema = ib_schema("n", "leaf", IB_NONE, 0);
  uint32_t array = ib_array(1, 1, 0, IB_NONE, IB_NONE, 0);
  for (int level = 0; level < 5; level++) {
    uint32_t schemas[64], arrays[64];
    for (int i = 0; i < 64; i++) {
      schemas[i] = schema;
      arrays[i] = array;
    }
    schema = ib_schema("+s", "wide", 64, schemas, 0);
    array = ib_array(1, 0, 0, IB_LIST(0), 64, arrays, 0);
  }
  struct ib_result dag = {array, schema};
  REJECT(dag, "result.wide.wide");
  ASSERT_CONTAINS(error.message, ": nodes: ");
}

/* ============================================================= array rules */

TEST(array_struct_in_memory) {
  fresh();
  struct ib_result r = ib_int32_result();
  r.array = 0;
  REJECT(r, "result: struct in memory: ");
  r.array = (uint32_t)ib_memory.size - 63;
  REJECT(r, "result: struct in memory: ");
  r = ib_list_result();
  ib_set_u32(ib_get_u32(r.array + WUDF__ARRAY_CHILDREN), (uint32_t)ib_memory.size - 8);
  REJECT(r, "result.item: struct in memory: ");
}

TEST(array_released) {
  fresh();
  struct ib_result r = ib_struct_result();
  ib_set_u32(ib_child(r.array, 1) + WUDF__ARRAY_RELEASE, 0);
  REJECT(r, "result.b: released: ");
  ib_set_u32(r.array + WUDF__ARRAY_RELEASE, 0);
  REJECT(r, "result: released: ");
}

TEST(array_cycle) {
  fresh();
  /* list<list<int32>> whose inner array is the outer one. */
  uint32_t schema =
      ib_schema("+l", "outer", IB_LIST(ib_schema("+l", "inner",
                                                 IB_LIST(ib_schema("i", "item", IB_NONE, 0)),
                                                 0)), 0);
  uint32_t array = ib_array(1, 0, 0, IB_LIST(0, IB_I32(0, 0)), IB_LIST(0), 0);
  ib_set_u32(ib_get_u32(array + WUDF__ARRAY_CHILDREN), array);
  struct ib_result r = {array, schema};
  REJECT(r, "result.inner: cycle: ");
}

TEST(array_length) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, -1);
  REJECT(r, "result: length: ");
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, ((int64_t)1 << 48) + 1);
  REJECT(r, "result: length: ");
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, 4);
  int status = run_at(r, WUDF__VALIDATE_FULL, 5);
  ASSERT_EQ(status, EPROTO);
  ASSERT_CONTAINS(error.message, "result: length: length is 4, expected 5");
}

TEST(array_offset) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, -1);
  REJECT(r, "result: offset: ");
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, INT64_MAX);
  REJECT(r, "result: offset: ");
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, (int64_t)1 << 48);
  REJECT(r, "result: offset: ");
  /* An offset past the buffers: the buffers are too short. */
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, 1);
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, -1);
  buffer_to_end(r.array, 1, 16);
  REJECT(r, "result: buffer: ");
  buffer_to_end(r.array, 1, 20);
  ACCEPT(r);
}

TEST(array_null_count) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, -2);
  REJECT(r, "result: null_count: ");
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, 5);
  REJECT(r, "result: null_count: ");
  /* Against the bitmap (FULL only; STRUCTURE keeps the declared count). */
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, 2);
  REJECT_FULL_ONLY(r, "result: null_count: ");
  ASSERT_EQ(root()->null_count, 2);
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, 0);
  REJECT_FULL_ONLY(r, "result: null_count: ");
  /* Nulls without a validity buffer (every level). */
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, 1);
  ib_set_u32(ib_buffer_at(r.array, 0), 0);
  REJECT(r, "result: null_count: ");
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: null_count: ");
  /* A null array: every row is null. */
  struct ib_result nulls = {ib_array(3, 0, 0, IB_NONE, IB_NONE, 0),
                            ib_schema("n", "z", IB_NONE, 0)};
  REJECT(nulls, "result: null_count: ");
  /* Unions and run-end arrays have no validity. */
  r = ib_sparse_union_result();
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, 1);
  REJECT(r, "result: null_count: ");
  r = ib_run_end_result();
  ib_set_i64(r.array + WUDF__ARRAY_NULL_COUNT, 1);
  REJECT(r, "result: null_count: ");
  /* A child's count, with the path. */
  r = ib_struct_result();
  ib_set_i64(ib_child(r.array, 0) + WUDF__ARRAY_NULL_COUNT, 1);
  REJECT(r, "result.a: null_count: ");
}

TEST(array_n_buffers) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 3);
  REJECT(r, "result: n_buffers: ");
  r = ib_utf8_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 2);
  REJECT(r, "result: n_buffers: ");
  r = ib_view_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 2);
  REJECT(r, "result: n_buffers: ");
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 1000000);
  REJECT(r, "result: n_buffers: ");
  r = ib_struct_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 0);
  REJECT(r, "result: n_buffers: ");
  r = ib_run_end_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 1);
  REJECT(r, "result: n_buffers: ");
  r = ib_dense_union_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 1);
  REJECT(r, "result: n_buffers: ");
  r = ib_list_view_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 2);
  REJECT(r, "result: n_buffers: ");
  r = ib_fixed_list_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_BUFFERS, 2);
  REJECT(r, "result: n_buffers: ");
  struct ib_result nulls = {ib_array(3, 3, 0, IB_LIST(0), IB_NONE, 0),
                            ib_schema("n", "z", IB_NONE, 0)};
  REJECT(nulls, "result: n_buffers: ");
}

TEST(array_n_children_children) {
  fresh();
  struct ib_result r = ib_list_result();
  ib_set_i64(r.array + WUDF__ARRAY_N_CHILDREN, 2);
  REJECT(r, "result: n_children: ");
  ib_set_i64(r.array + WUDF__ARRAY_N_CHILDREN, 1);
  uint32_t pointers = ib_get_u32(r.array + WUDF__ARRAY_CHILDREN);
  ib_set_u32(r.array + WUDF__ARRAY_CHILDREN, 0);
  REJECT(r, "result: children: ");
  ib_set_u32(r.array + WUDF__ARRAY_CHILDREN, (uint32_t)ib_memory.size - 2);
  REJECT(r, "result: children: ");
  ib_set_u32(r.array + WUDF__ARRAY_CHILDREN, pointers);
  ib_set_u32(pointers, 0);
  REJECT(r, "result: children: child 0 is null");
}

TEST(array_dictionary) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_u32(r.array + WUDF__ARRAY_DICTIONARY, ib_int32_result().array);
  REJECT(r, "result: dictionary: ");
  r = ib_dictionary_result();
  ib_set_u32(r.array + WUDF__ARRAY_DICTIONARY, 0);
  REJECT(r, "result: dictionary: ");
  /* The dictionary array is checked against the value schema. */
  r = ib_dictionary_result();
  uint32_t dictionary = ib_get_u32(r.array + WUDF__ARRAY_DICTIONARY);
  ib_set_i64(dictionary + WUDF__ARRAY_N_BUFFERS, 2);
  REJECT(r, "result.dictionary: n_buffers: ");
}

TEST(array_buffer) {
  fresh();
  struct ib_result r = ib_int32_result();
  ib_set_u32(r.array + WUDF__ARRAY_BUFFERS, 0);
  REJECT(r, "result: buffer: ");
  ib_set_u32(r.array + WUDF__ARRAY_BUFFERS, (uint32_t)ib_memory.size - 7);
  REJECT(r, "result: buffer: ");
  r = ib_int32_result();
  ib_set_u32(ib_buffer_at(r.array, 1), 0);
  REJECT(r, "result: buffer: buffers[1] (values) is null");
  /* Validity: 4 rows need 1 byte. */
  r = ib_int32_result();
  ib_set_u32(ib_buffer_at(r.array, 0), (uint32_t)ib_memory.size);
  REJECT(r, "result: buffer: buffers[0] (validity)");
  /* Each buffer of each layout one byte short, at the end of memory. */
  struct {
    struct ib_result (*make)(void);
    int buffer;
    uint64_t bytes; /* what the buffer needs */
  } cases[] = {
      {ib_utf8_result, 1, 6 * 4},      {ib_utf8_result, 2, 9},
      {ib_view_result, 1, 4 * 16},     {ib_view_result, 2, 29},
      {ib_view_result, 3, 2},          {ib_view_result, 4, 16},
      {ib_list_result, 1, 5 * 4},      {ib_list_view_result, 1, 4 * 4},
      {ib_list_view_result, 2, 4 * 4}, {ib_dense_union_result, 0, 3},
      {ib_dense_union_result, 1, 12},  {ib_sparse_union_result, 0, 3},
      {ib_map_result, 1, 12},          {ib_fixed_list_result, 0, 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    fresh();
    r = cases[i].make();
    /* Copy the buffer's bytes to the end of memory: exactly enough. */
    uint32_t at = ib_get_u32(ib_buffer_at(r.array, cases[i].buffer));
    memcpy(ib_memory.base + ib_memory.size - cases[i].bytes, ib_memory.base + at,
           cases[i].bytes);
    buffer_to_end(r.array, cases[i].buffer, cases[i].bytes);
    if (run(r) != 0) TEST_FAIL("case %zu: %s", i, error.message);
    memmove(ib_memory.base + ib_memory.size - cases[i].bytes + 1,
            ib_memory.base + ib_memory.size - cases[i].bytes, cases[i].bytes - 1);
    buffer_to_end(r.array, cases[i].buffer, cases[i].bytes - 1);
    if (run(r) != EPROTO || strncmp(error.message, "result: buffer: ", 16) != 0) {
      TEST_FAIL("case %zu: %s", i, error.message);
    }
  }
}

TEST(array_offsets) {
  fresh();
  /* utf8: negative first offset, decreasing offsets. */
  struct ib_result r = ib_utf8_result();
  uint32_t offsets = ib_get_u32(ib_buffer_at(r.array, 1));
  int32_t value = -1;
  memcpy(ib_memory.base + offsets + 4, &value, 4); /* offsets[1]: the first of the slice */
  REJECT(r, "result: offsets: offsets[1] = -1 is negative");
  value = 2;
  memcpy(ib_memory.base + offsets + 4, &value, 4);
  value = 1;
  memcpy(ib_memory.base + offsets + 12, &value, 4);
  REJECT(r, "result: offsets: offsets[3] = 1 is less than offsets[2] = 3");
  /* offsets[0] is outside the slice and is not read. */
  r = ib_utf8_result();
  offsets = ib_get_u32(ib_buffer_at(r.array, 1));
  value = -7;
  memcpy(ib_memory.base + offsets, &value, 4);
  ACCEPT(r);
  /* A list inside a struct: the path names both. */
  fresh();
  struct ib_result list = ib_list_result();
  uint32_t field = list.schema;
  ib_set_u32(field + WUDF__SCHEMA_NAME, ib_str("a"));
  struct ib_result outer = {ib_array(4, 0, 0, IB_LIST(0), IB_LIST(list.array), 0),
                            ib_schema("+s", "s", IB_LIST(field), 0)};
  ACCEPT(outer);
  offsets = ib_get_u32(ib_buffer_at(list.array, 1));
  value = 3;
  memcpy(ib_memory.base + offsets + 4, &value, 4);
  REJECT(outer, "result.a: offsets: ");
  /* list<utf8> inside a struct, the utf8 offsets decreasing. */
  fresh();
  uint32_t strings = ib_array(2, 0, 0, IB_LIST(0, IB_I32(0, 2, 1), ib_put("ab", 2)), IB_NONE, 0);
  uint32_t lists = ib_array(1, 0, 0, IB_LIST(0, IB_I32(0, 2)), IB_LIST(strings), 0);
  struct ib_result deep = {
      ib_array(1, 0, 0, IB_LIST(0), IB_LIST(lists), 0),
      ib_schema("+s", "s", IB_LIST(ib_schema("+l", "a", IB_LIST(ib_schema("u", "item", IB_NONE,
                                                                          0)), 0)), 0)};
  REJECT(deep, "result.a.item: offsets: ");
  /* Large offsets and list view offsets/sizes. */
  fresh();
  struct ib_result large = {
      ib_array(2, 0, 0, IB_LIST(0, IB_I64(0, 5, 4), ib_put("abcde", 5)), IB_NONE, 0),
      ib_schema("Z", "b", IB_NONE, 0)};
  REJECT(large, "result: offsets: ");
  fresh();
  struct ib_result view = ib_list_view_result();
  uint32_t sizes = ib_get_u32(ib_buffer_at(view.array, 2));
  value = -1;
  memcpy(ib_memory.base + sizes + 4, &value, 4);
  REJECT(view, "result: offsets: ");
  fresh();
  view = ib_list_view_result();
  offsets = ib_get_u32(ib_buffer_at(view.array, 1));
  memcpy(ib_memory.base + offsets, &value, 4);
  REJECT(view, "result: offsets: ");
  fresh();
  uint32_t child = ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0);
  struct ib_result overflow = {
      ib_array(1, 0, 0, IB_LIST(0, IB_I64(INT64_MAX), IB_I64(1)), IB_LIST(child), 0),
      ib_schema("+vL", "l", IB_LIST(ib_schema("i", "item", IB_NONE, 0)), 0)};
  REJECT(overflow, "result: offsets: ");
  /* Data offsets past the end of memory: the data buffer is too short. */
  fresh();
  struct ib_result far = {
      ib_array(1, 0, 0, IB_LIST(0, IB_I64(0, (int64_t)1 << 40), ib_put("a", 1)), IB_NONE, 0),
      ib_schema("Z", "b", IB_NONE, 0)};
  REJECT(far, "result: buffer: buffers[2] (data)");
}

TEST(child_length) {
  fresh();
  /* A list's last offset past its child. */
  struct ib_result r = ib_list_result();
  ib_set_i64(ib_child(r.array, 0) + WUDF__ARRAY_LENGTH, 2);
  REJECT(r, "result.item: child length: ");
  /* A struct's child shorter than offset + length. */
  r = ib_struct_result();
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, 1);
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, 1);
  ACCEPT(r);
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, 2);
  REJECT(r, "result.a: child length: ");
  /* Even an empty struct's children cover its offset (as Arrow C++ has it). */
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, 0);
  ACCEPT(r);
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, 3);
  REJECT(r, "result.a: child length: ");
  /* Fixed-size list: (offset + length) * N child rows. */
  r = ib_fixed_list_result();
  ib_set_i64(ib_child(r.array, 0) + WUDF__ARRAY_LENGTH, 5);
  REJECT(r, "result.item: child length: ");
  /* Sparse union children as long as the union. */
  r = ib_sparse_union_result();
  ib_set_i64(ib_child(r.array, 1) + WUDF__ARRAY_LENGTH, 2);
  REJECT(r, "result.f: child length: ");
  /* Run-end values at least as many as the run ends. */
  r = ib_run_end_result();
  ib_set_i64(ib_child(r.array, 1) + WUDF__ARRAY_LENGTH, 2);
  REJECT(r, "result.values: child length: ");
  /* List view: offset + size past the child. */
  r = ib_list_view_result();
  ib_set_i64(ib_child(r.array, 0) + WUDF__ARRAY_LENGTH, 2);
  REJECT(r, "result.item: child length: ");
  /* A map's entries. */
  r = ib_map_result();
  ib_set_i64(ib_child(r.array, 0) + WUDF__ARRAY_LENGTH, 1);
  REJECT(r, "result.entries: child length: ");
  /* A struct child's own offset counts: it must cover its own slice. */
  fresh();
  r = ib_struct_result();
  uint32_t a = ib_child(r.array, 0);
  buffer_to_end(a, 1, 16);
  ACCEPT(r);
  ib_set_i64(a + WUDF__ARRAY_OFFSET, 1);
  REJECT(r, "result.a: buffer: ");
}

TEST(utf8_rule) {
  fresh();
  struct ib_result r = ib_utf8_result();
  uint32_t data = ib_get_u32(ib_buffer_at(r.array, 2));
  ib_memory.base[data + 5] = 0xff; /* inside "héllo" */
  REJECT_FULL_ONLY(r, "result: utf8: value 2 ");
  /* In a null row: accepted. */
  ib_memory.base[data + 5] = 0xa9;
  ACCEPT(r);
  ib_memory.base[data + 3] = 0xc3; /* row 2's bytes (the null row) are empty; make row 0 bad */
  ib_memory.base[data + 2] = 0x80;
  REJECT(r, "result: utf8: value 0 ");
  /* Overlong, surrogate, truncated. */
  static const char* const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    fresh();
    int32_t size = (int32_t)strlen(bad[i]);
    struct ib_result one = {
        ib_array(1, 0, 0, IB_LIST(0, ib_put((int32_t[]){0, size}, 8), ib_put(bad[i], (uint64_t)size)),
                 IB_NONE, 0),
        ib_schema("u", "s", IB_NONE, 0)};
    REJECT_FULL_ONLY(one, "result: utf8: ");
    ib_set_u32(one.schema + WUDF__SCHEMA_FORMAT, ib_str("z"));
    ACCEPT(one);
  }
  /* Views: inline and out of line. */
  fresh();
  r = ib_view_result();
  uint32_t views = ib_get_u32(ib_buffer_at(r.array, 1));
  ib_memory.base[views + 4 + 1] = 0xff; /* "short" */
  REJECT_FULL_ONLY(r, "result: utf8: value 0 ");
  fresh();
  r = ib_view_result();
  data = ib_get_u32(ib_buffer_at(r.array, 2));
  ib_memory.base[data + 3 + 10] = 0xff; /* past the prefix */
  REJECT_FULL_ONLY(r, "result: utf8: value 2 ");
  /* A utf8 dictionary's values. */
  fresh();
  r = ib_dictionary_result();
  uint32_t dictionary = ib_get_u32(r.array + WUDF__ARRAY_DICTIONARY);
  ib_memory.base[ib_get_u32(ib_buffer_at(dictionary, 2))] = 0x80;
  REJECT_FULL_ONLY(r, "result.dictionary: utf8: ");
}

TEST(view_rule) {
  fresh();
  struct ib_result r = ib_view_result();
  uint32_t views = ib_get_u32(ib_buffer_at(r.array, 1));
  int32_t value = -1;
  memcpy(ib_memory.base + views + 16, &value, 4); /* the null row's length */
  REJECT(r, "result: view: view 1 has negative length");
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: view: ");
  fresh();
  r = ib_view_result();
  views = ib_get_u32(ib_buffer_at(r.array, 1));
  value = 2;
  memcpy(ib_memory.base + views + 32 + 8, &value, 4); /* buffer index 2 of 2 */
  REJECT(r, "result: view: view 2 refers to variadic buffer 2");
  value = -1;
  memcpy(ib_memory.base + views + 32 + 8, &value, 4);
  REJECT(r, "result: view: ");
  value = 1; /* buffer 1 has 2 bytes */
  memcpy(ib_memory.base + views + 32 + 8, &value, 4);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: view: view 2 covers bytes [3, 29)");
  value = 0;
  memcpy(ib_memory.base + views + 32 + 8, &value, 4);
  value = 4; /* offset 4 + 26 > 29 */
  memcpy(ib_memory.base + views + 32 + 12, &value, 4);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: view: ");
  value = -1;
  memcpy(ib_memory.base + views + 32 + 12, &value, 4);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: view: ");
  /* The prefix: FULL only. */
  fresh();
  r = ib_view_result();
  views = ib_get_u32(ib_buffer_at(r.array, 1));
  ib_memory.base[views + 32 + 4] = 'A';
  REJECT_FULL_ONLY(r, "result: view: view 2: the prefix differs");
}

TEST(variadic_sizes_rule) {
  fresh();
  struct ib_result r = ib_view_result();
  uint32_t sizes = ib_get_u32(ib_buffer_at(r.array, 4));
  int64_t value = -1;
  memcpy(ib_memory.base + sizes + 8, &value, 8);
  REJECT(r, "result: variadic sizes: ");
  /* A size larger than memory holds: the buffer is outside memory. */
  value = (int64_t)ib_memory.size;
  memcpy(ib_memory.base + sizes + 8, &value, 8);
  REJECT(r, "result: buffer: buffers[3] (variadic data)");
}

TEST(union_rules) {
  fresh();
  struct ib_result r = ib_sparse_union_result();
  uint32_t ids = ib_get_u32(ib_buffer_at(r.array, 0));
  ib_memory.base[ids + 1] = 2;
  REJECT(r, "result: union type id: row 1 has type id 2");
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: union type id: ");
  ib_memory.base[ids + 1] = 0x80;
  REJECT(r, "result: union type id: ");
  fresh();
  r = ib_dense_union_result();
  ids = ib_get_u32(ib_buffer_at(r.array, 0));
  ib_memory.base[ids + 2] = 0; /* declared ids are 3 and 9 */
  REJECT(r, "result: union type id: row 2 has type id 0");
  fresh();
  r = ib_dense_union_result();
  uint32_t offsets = ib_get_u32(ib_buffer_at(r.array, 1));
  int32_t value = -1;
  memcpy(ib_memory.base + offsets + 8, &value, 4);
  REJECT(r, "result: union offset: row 2 has negative offset");
  value = 2; /* child "i" has 2 rows */
  memcpy(ib_memory.base + offsets + 8, &value, 4);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: union offset: row 2 has offset 2 into child 0");
  /* Sliced: rows outside [offset, offset + length) are not read. */
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, 2);
  ACCEPT(r);
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, 1);
  REJECT(r, "result: union offset: row 1 ");
}

TEST(dictionary_index_rule) {
  fresh();
  struct ib_result r = ib_dictionary_result();
  uint32_t indices = ib_get_u32(ib_buffer_at(r.array, 1));
  ib_memory.base[indices + 3] = 2;
  REJECT_FULL_ONLY(r, "result: dictionary index: row 3 has index 2");
  ib_memory.base[indices + 3] = 0xff; /* -1 as int8 */
  REJECT_FULL_ONLY(r, "result: dictionary index: row 3 has index (negative)");
  ib_set_u32(r.schema + WUDF__SCHEMA_FORMAT, ib_str("C")); /* 255 as uint8 */
  REJECT_FULL_ONLY(r, "result: dictionary index: row 3 has index 255");
  /* 64-bit indices, signed and unsigned. */
  fresh();
  uint32_t dictionary = ib_array(2, 0, 0, IB_LIST(0, IB_I32(10, 20)), IB_NONE, 0);
  struct ib_result wide = {ib_array(2, 0, 0, IB_LIST(0, IB_I64(1, INT64_MIN)), IB_NONE, dictionary),
                           ib_schema("l", "d", IB_NONE, ib_schema("i", NULL, IB_NONE, 0))};
  REJECT_FULL_ONLY(wide, "result: dictionary index: row 1 ");
  ib_set_u32(wide.schema + WUDF__SCHEMA_FORMAT, ib_str("L"));
  REJECT_FULL_ONLY(wide, "result: dictionary index: row 1 ");
}

TEST(run_ends_rule) {
  fresh();
  struct ib_result r = ib_run_end_result();
  uint32_t run_ends = ib_child(r.array, 0);
  uint32_t values = ib_get_u32(ib_buffer_at(run_ends, 1));
  int32_t value = 0;
  memcpy(ib_memory.base + values, &value, 4);
  REJECT(r, "result: run ends: run_ends[0] = 0 is not positive");
  value = 3; /* [3, 3, 6] */
  memcpy(ib_memory.base + values, &value, 4);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: run ends: run_ends[1] = 3 does not exceed");
  value = 2;
  memcpy(ib_memory.base + values, &value, 4);
  ACCEPT(r);
  /* Ending before offset + length = 5. */
  value = 4;
  memcpy(ib_memory.base + values + 8, &value, 4);
  REJECT(r, "result: run ends: the runs end at 4, before offset + length = 5");
  ib_set_i64(r.array + WUDF__ARRAY_OFFSET, 0);
  ACCEPT(r);
  /* Nulls in the run ends: declared or in the bitmap. */
  fresh();
  r = ib_run_end_result();
  run_ends = ib_child(r.array, 0);
  ib_set_u32(ib_buffer_at(run_ends, 0), ib_bits("110"));
  ib_set_i64(run_ends + WUDF__ARRAY_NULL_COUNT, 1);
  REJECT(r, "result: run ends: the run ends have nulls");
  ib_set_i64(run_ends + WUDF__ARRAY_NULL_COUNT, 0);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: run ends: the run ends have nulls");
  /* No runs for a non-empty array. */
  fresh();
  struct ib_result none = {
      ib_array(1, 0, 0, IB_NONE,
               IB_LIST(ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0),
                       ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0)), 0),
      ib_schema("+r", "r", IB_LIST(ib_schema("i", "run_ends", IB_NONE, 0),
                                   ib_schema("i", "values", IB_NONE, 0)), 0)};
  REJECT(none, "result: run ends: ");
}

TEST(map_keys_rule) {
  fresh();
  struct ib_result r = ib_map_result();
  uint32_t keys = ib_child(ib_child(r.array, 0), 0);
  ib_set_u32(ib_buffer_at(keys, 0), ib_bits("10"));
  ib_set_i64(keys + WUDF__ARRAY_NULL_COUNT, 1);
  REJECT(r, "result: map keys: the keys have 1 null");
  /* Found from the bitmap even when STRUCTURE trusts the count. */
  ib_set_i64(keys + WUDF__ARRAY_NULL_COUNT, 0);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: map keys: ");
  /* Null entries neither. */
  fresh();
  r = ib_map_result();
  uint32_t entries = ib_child(r.array, 0);
  ib_set_u32(ib_buffer_at(entries, 0), ib_bits("01"));
  ib_set_i64(entries + WUDF__ARRAY_NULL_COUNT, 1);
  REJECT(r, "result: map entries: the entries have nulls");
  ib_set_i64(entries + WUDF__ARRAY_NULL_COUNT, 0);
  REJECT_AT(r, WUDF__VALIDATE_STRUCTURE, "result: map entries: ");
  /* Null values are fine. */
  fresh();
  r = ib_map_result();
  uint32_t values = ib_child(ib_child(r.array, 0), 1);
  ib_set_u32(ib_buffer_at(values, 0), ib_bits("10"));
  ib_set_i64(values + WUDF__ARRAY_NULL_COUNT, 1);
  ACCEPT(r);
}

TEST(size_overflow_rule) {
  fresh();
  /* Fixed-size list: (offset + length) * N overflows. */
  uint32_t child = ib_array(0, 0, 0, IB_LIST(0, 0), IB_NONE, 0);
  struct ib_result r = {ib_array((int64_t)1 << 40, 0, 0, IB_LIST(0), IB_LIST(child), 0),
                        ib_schema("+w:2147483647", "f", IB_LIST(ib_schema("i", "item", IB_NONE,
                                                                          0)), 0)};
  REJECT(r, "result: size overflow: ");
  /* Fixed width: rows * width overflows. */
  struct ib_result wide = {ib_array((int64_t)1 << 40, 0, 0, IB_LIST(0, 0), IB_NONE, 0),
                           ib_schema("w:2147483647", "w", IB_NONE, 0)};
  REJECT(wide, "result: size overflow: ");
  /* Large but not overflowing: simply outside memory. */
  struct ib_result big = {ib_array((int64_t)1 << 40, 0, 0, IB_LIST(0, IB_I32(1)), IB_NONE, 0),
                          ib_schema("i", "i", IB_NONE, 0)};
  REJECT(big, "result: buffer: ");
}

TEST(budget_rule) {
  /* 64 x 64 leaves sharing one utf8 array of 100,000 empty strings (400 KB
   * of offsets): about 1.6 GB to read, past the budget of 4 x 1 MiB + 64 MiB.
   * Refused after reading about that much. */
  fresh();
  enum { ROWS = 100000 };
  uint32_t offsets = ib_alloc(4 * (ROWS + 1));
  uint32_t leaf = ib_array(ROWS, 0, 0, IB_LIST(0, offsets, 0), IB_NONE, 0);
  uint32_t leaf_schema = ib_schema("u", "leaf", IB_NONE, 0);
  uint32_t arrays[64], schemas[64];
  for (int i = 0; i < 64; i++) {
    arrays[i] = leaf;
    schemas[i] = leaf_schema;
  }
  struct ib_result one_level = {ib_array(ROWS, 0, 0, IB_LIST(0), 64, arrays, 0),
                                ib_schema("+s", "inner", 64, schemas, 0)};
  /* One level: 64 x 400 KB = 25.6 MB, within the budget. */
  ACCEPT(one_level);
  for (int i = 0; i < 64; i++) {
    arrays[i] = one_level.array;
    schemas[i] = one_level.schema;
  }
  struct ib_result two_levels = {ib_array(ROWS, 0, 0, IB_LIST(0), 64, arrays, 0),
                                 ib_schema("+s", "outer", 64, schemas, 0)};
  REJECT(two_levels, "result.inner.leaf: budget: ");
  /* The STRUCTURE level reads less, but the offsets are still checked. */
  REJECT_AT(two_levels, WUDF__VALIDATE_STRUCTURE, "result.inner.leaf: budget: ");
}

TEST(budget_overlapping_views) {
  /* 40,000 views of the same 99,000 bytes. When the buffer is not valid
   * UTF-8 as a whole, each view is checked alone: 4 GB, past the budget.
   * When it is, each view costs O(1) and the result is accepted. */
  fresh();
  enum { VIEWS = 40000, SIZE = 100000, LENGTH = 99000 };
  uint32_t data = ib_alloc(SIZE);
  memset(ib_memory.base + data, 'a', SIZE);
  ib_memory.base[data + SIZE - 1] = 0xff;
  uint32_t views = ib_alloc(16 * (uint64_t)VIEWS);
  for (int i = 0; i < VIEWS; i++) {
    ib_view(ib_memory.base + views + 16 * (uint64_t)i, "aaaa", LENGTH, 0, i % 100);
  }
  int64_t size = SIZE;
  struct ib_result r = {ib_array(VIEWS, 0, 0, IB_LIST(0, views, data, ib_put(&size, 8)),
                                 IB_NONE, 0),
                        ib_schema("vu", "v", IB_NONE, 0)};
  REJECT_FULL_ONLY(r, "result: budget: ");
  ib_memory.base[data + SIZE - 1] = 'a';
  ACCEPT(r);
  /* A view starting or ending inside a character of a valid buffer. */
  memcpy(ib_memory.base + data + 200, "\xc3\xa9", 2);
  ib_view(ib_memory.base + views, "\xa9" "aaa", 20, 0, 201);
  REJECT(r, "result: utf8: value 0 is not valid UTF-8 (it starts inside a character)");
  ib_view(ib_memory.base + views, "aaaa", 20, 0, 181);
  REJECT(r, "result: utf8: value 0 is not valid UTF-8 (it ends inside a character)");
  ib_view(ib_memory.base + views, "aaaa", 21, 0, 181);
  ACCEPT(r);
}

TEST(messages_neutralise_names) {
  fresh();
  struct ib_result r = ib_struct_result();
  uint32_t field = ib_schema_child(r.schema, 0);
  ib_set_u32(field + WUDF__SCHEMA_NAME, ib_str("a\nb\x1b[31m"));
  ib_set_i64(ib_child(r.array, 0) + WUDF__ARRAY_N_BUFFERS, 1);
  REJECT(r, "result.a?b?[31m: n_buffers: ");
  /* Invalid UTF-8 in a name is replaced too; long names are cut. */
  char name[200];
  memset(name, 'x', sizeof(name));
  name[0] = (char)0xff;
  name[199] = '\0';
  ib_set_u32(field + WUDF__SCHEMA_NAME, ib_str(name));
  REJECT(r, "result.?xxx");
  ASSERT_CONTAINS(error.message, "xxx...: n_buffers: ");
  ASSERT_LT(strlen(error.message), 400);
}

/* ================================================================== views */

static int released_calls;
static void count_release(void* context) {
  ASSERT(context == &released_calls);
  released_calls++;
}

TEST(view_release_root) {
  fresh();
  ACCEPT(ib_struct_result());
  struct ArrowArray view;
  released_calls = 0;
  wudf__mirror_take_array(mirror, &view, count_release, &released_calls);
  ASSERT(wudf__mirror_root_array(mirror) == NULL);
  wudf__mirror_free(mirror); /* the view outlives the mirror */
  mirror = NULL;
  ASSERT_EQ(view.length, 2);
  ASSERT_EQ(((const int64_t*)view.children[0]->buffers[1])[1], 20);
  view.release(&view);
  ASSERT(view.release == NULL);
  ASSERT_EQ(released_calls, 1);
}

TEST(view_release_children_moved) {
  fresh();
  ACCEPT(ib_struct_result());
  struct ArrowArray view, a, b;
  released_calls = 0;
  wudf__mirror_take_array(mirror, &view, count_release, &released_calls);
  /* Move both children out (C Data Interface: copy, mark released). */
  a = *view.children[0];
  view.children[0]->release = NULL;
  b = *view.children[1];
  view.children[1]->release = NULL;
  b.release(&b);
  ASSERT_EQ(released_calls, 0);
  view.release(&view);
  ASSERT_EQ(released_calls, 0);
  wudf__mirror_free(mirror);
  mirror = NULL;
  ASSERT_EQ(((const int64_t*)a.buffers[1])[0], 10);
  a.release(&a);
  ASSERT_EQ(released_calls, 1);
}

TEST(view_release_dictionary_and_deep_child_first) {
  fresh();
  /* struct<d: dictionary<int8, utf8>, l: list<int32>> */
  struct ib_result d = ib_dictionary_result();
  struct ib_result l = ib_list_result();
  struct ib_result r = {ib_array(2, 0, 0, IB_LIST(0), IB_LIST(d.array, l.array), 0),
                        ib_schema("+s", "s", IB_LIST(d.schema, l.schema), 0)};
  ACCEPT(r);
  struct ArrowArray view, dictionary, item;
  released_calls = 0;
  wudf__mirror_take_array(mirror, &view, count_release, &released_calls);
  dictionary = *view.children[0]->dictionary;
  view.children[0]->dictionary->release = NULL;
  item = *view.children[1]->children[0];
  view.children[1]->children[0]->release = NULL;
  item.release(&item);
  view.release(&view);
  ASSERT_EQ(released_calls, 0);
  ASSERT_EQ(dictionary.length, 2);
  dictionary.release(&dictionary);
  ASSERT_EQ(released_calls, 1);
}

TEST(view_on_release_null_and_free_without_take) {
  fresh();
  ACCEPT(ib_list_result());
  struct ArrowArray view;
  wudf__mirror_take_array(mirror, &view, NULL, NULL);
  view.release(&view);
  /* A mirror freed without taking its array frees everything. */
  fresh();
  ACCEPT(ib_map_result());
  wudf__mirror_free(mirror);
  mirror = NULL;
  wudf__mirror_free(NULL);
}

TEST(mirror_array_twice_and_after_take) {
  fresh();
  struct ib_result r = ib_list_result();
  ACCEPT(r);
  /* Again on the same mirror: the first array is replaced. */
  ASSERT_OK(wudf__mirror_array(mirror, &ib_memory, r.array, -1, WUDF__VALIDATE_FULL, "result",
                               &error), &error);
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, 9);
  ASSERT_EQ(wudf__mirror_array(mirror, &ib_memory, r.array, -1, WUDF__VALIDATE_FULL, "result",
                               &error), EPROTO);
  ASSERT(wudf__mirror_root_array(mirror) == NULL);
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, 4);
  ASSERT_OK(wudf__mirror_array(mirror, &ib_memory, r.array, 4, WUDF__VALIDATE_FULL, NULL,
                               &error), &error);
  struct ArrowArray view;
  wudf__mirror_take_array(mirror, &view, NULL, NULL);
  ASSERT_EQ(wudf__mirror_array(mirror, &ib_memory, r.array, -1, WUDF__VALIDATE_FULL, "result",
                               &error), EINVAL);
  view.release(&view);
  /* A NULL error is fine. */
  ib_set_i64(r.array + WUDF__ARRAY_LENGTH, -4);
  struct wudf__mirror* other = NULL;
  ASSERT_EQ(wudf__mirror_schema(&ib_memory, r.schema, "x", &other, NULL), 0);
  ASSERT_EQ(wudf__mirror_array(other, &ib_memory, r.array, -1, 0, "x", NULL), EPROTO);
  wudf__mirror_free(other);
}

/* ===================================================== allocation failures */

static int allocations_left;
static void* failing_malloc(void* user_data, size_t size) {
  (void)user_data;
  if (allocations_left-- <= 0) return NULL;
  return malloc(size);
}
static void* failing_realloc(void* user_data, void* pointer, size_t size) {
  (void)user_data;
  if (allocations_left-- <= 0) return NULL;
  return realloc(pointer, size);
}
static void plain_free(void* user_data, void* pointer) {
  (void)user_data;
  free(pointer);
}

TEST(allocation_failures) {
  fresh();
  /* A tree big enough for several arena chunks. */
  uint32_t fields[64], arrays[64];
  for (int i = 0; i < 64; i++) {
    struct ib_result part = i % 2 ? ib_map_result() : ib_dense_union_result();
    fields[i] = part.schema;
    arrays[i] = part.array;
  }
  struct ib_result r = {ib_array(2, 0, 0, IB_LIST(0), 64, arrays, 0),
                        ib_schema("+s", "s", 64, fields, 0)};
  ACCEPT(r);
  struct wudf_allocator failing = {failing_malloc, failing_realloc, plain_free, NULL};
  int succeeded = 0;
  for (int budget = 0; budget < 200 && !succeeded; budget++) {
    wudf__mirror_free(mirror);
    mirror = NULL;
    ASSERT_EQ(wudf_set_allocator(&failing), 0);
    allocations_left = budget;
    int status = run(r);
    wudf__mirror_free(mirror); /* under the failing allocator: frees only */
    mirror = NULL;
    ASSERT_EQ(wudf_set_allocator(NULL), 0);
    if (status == 0) {
      succeeded = 1;
    } else {
      ASSERT_EQ(status, ENOMEM);
      ASSERT_CONTAINS(error.message, "out of memory");
    }
  }
  ASSERT(succeeded);
}

TEST(guest_string) {
  fresh();
  uint32_t at = ib_str("a message");
  char out[6];
  ASSERT_EQ(wudf__guest_string(&ib_memory, at, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "a mes");
  ASSERT_EQ(wudf__guest_string(&ib_memory, 0, out, sizeof(out)), -1);
  ASSERT_EQ(wudf__guest_string(&ib_memory, (uint32_t)ib_memory.size, out, sizeof(out)), -1);
  ib_memory.base[ib_memory.size - 1] = 'z';
  ASSERT_EQ(wudf__guest_string(&ib_memory, (uint32_t)ib_memory.size - 1, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "z");
}

int main(void) {
  RUN_TEST(valid_int32);
  RUN_TEST(valid_null_count_computed);
  RUN_TEST(valid_null);
  RUN_TEST(valid_bool_with_offset);
  RUN_TEST(valid_fixed_width_formats);
  RUN_TEST(valid_utf8_sliced);
  RUN_TEST(valid_binary_and_large);
  RUN_TEST(valid_views);
  RUN_TEST(valid_list);
  RUN_TEST(valid_fixed_list_and_list_view);
  RUN_TEST(valid_struct_and_map);
  RUN_TEST(valid_unions);
  RUN_TEST(valid_dictionary);
  RUN_TEST(valid_run_end);
  RUN_TEST(valid_metadata);
  RUN_TEST(valid_everything_nested);
  RUN_TEST(schema_struct_in_memory);
  RUN_TEST(schema_released);
  RUN_TEST(schema_format);
  RUN_TEST(schema_name);
  RUN_TEST(schema_metadata);
  RUN_TEST(schema_flags);
  RUN_TEST(schema_n_children);
  RUN_TEST(schema_children);
  RUN_TEST(schema_dictionary);
  RUN_TEST(schema_map_entries);
  RUN_TEST(schema_run_ends_type);
  RUN_TEST(depth_limit);
  RUN_TEST(schema_cycle);
  RUN_TEST(dag_shared_nodes);
  RUN_TEST(array_struct_in_memory);
  RUN_TEST(array_released);
  RUN_TEST(array_cycle);
  RUN_TEST(array_length);
  RUN_TEST(array_offset);
  RUN_TEST(array_null_count);
  RUN_TEST(array_n_buffers);
  RUN_TEST(array_n_children_children);
  RUN_TEST(array_dictionary);
  RUN_TEST(array_buffer);
  RUN_TEST(array_offsets);
  RUN_TEST(child_length);
  RUN_TEST(utf8_rule);
  RUN_TEST(view_rule);
  RUN_TEST(variadic_sizes_rule);
  RUN_TEST(union_rules);
  RUN_TEST(dictionary_index_rule);
  RUN_TEST(run_ends_rule);
  RUN_TEST(map_keys_rule);
  RUN_TEST(size_overflow_rule);
  RUN_TEST(budget_rule);
  RUN_TEST(budget_overlapping_views);
  RUN_TEST(messages_neutralise_names);
  RUN_TEST(view_release_root);
  RUN_TEST(view_release_children_moved);
  RUN_TEST(view_release_dictionary_and_deep_child_first);
  RUN_TEST(view_on_release_null_and_free_without_take);
  RUN_TEST(mirror_array_twice_and_after_take);
  RUN_TEST(allocation_failures);
  RUN_TEST(guest_string);
  wudf__mirror_free(mirror);
  return TEST_SUMMARY();
}
