/*
 * test_gather.c -- the gatherer (src/arrow/gather.c) and its emitters
 * (src/arrow/emit.c) from C, where sanitizers and valgrind watch: what a
 * plan borrows instead of copying, the release rules of an export (children
 * and dictionaries moved out and released in odd orders, on several
 * threads), every allocation failing in turn without a leak, the overflow
 * errors (32-bit offsets and view offsets past INT32_MAX), the guest copy's
 * layout, and the types pyarrow cannot build (interval months and
 * day-time, fixed-size lists of size 0). The pyarrow oracle test
 * (tests/python/test_gather.py) covers the values of every other type.
 * The column builder (src/arrow/append.c): rows appended from sources at
 * any offset with and without nulls, null rows, string offsets rebased,
 * the 32-bit overflow, the capacity, every allocation failing in turn,
 * and the export's ownership.
 *
 * Built from the arrow layer's sources only (tests/CMakeLists.txt), so it
 * runs while the rest of the library is being rewritten.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "arrow/append.h"
#include "arrow/bits.h"
#include "arrow/gather.h"
#include "counting_allocator.h"
#include "test.h"

/* ------------------------------------------------ hand-built sources */

static void source_release_array(struct ArrowArray* array) { array->release = NULL; }
static void source_release_schema(struct ArrowSchema* schema) { schema->release = NULL; }

static struct ArrowArray make_array(int64_t length, int64_t null_count, int64_t offset,
                                    int64_t n_buffers, const void** buffers, int64_t n_children,
                                    struct ArrowArray** children) {
  struct ArrowArray array;
  memset(&array, 0, sizeof(array));
  array.length = length;
  array.null_count = null_count;
  array.offset = offset;
  array.n_buffers = n_buffers;
  array.buffers = buffers;
  array.n_children = n_children;
  array.children = children;
  array.release = source_release_array;
  return array;
}

static struct ArrowSchema make_schema(const char* format, const char* name, int64_t n_children,
                                      struct ArrowSchema** children) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  schema.format = format;
  schema.name = name;
  schema.flags = ARROW_FLAG_NULLABLE;
  schema.n_children = n_children;
  schema.children = children;
  schema.release = source_release_schema;
  return schema;
}

static struct wudf__gather* gather_or_fail(const struct ArrowSchema* schema,
                                           const struct wudf__segment* segments, size_t count) {
  struct wudf_error error;
  struct wudf__gather* gather = NULL;
  int status = wudf__gather_new(schema, segments, count, &gather, &error);
  if (status != 0) TEST_FAIL("gather failed (%d): %s", status, error.message);
  return gather;
}

static int32_t i32_at(const void* buffer, int64_t i) {
  int32_t value;
  memcpy(&value, (const uint8_t*)buffer + i * 4, 4);
  return value;
}

/* ---------------------------------------------------------------- tests */

TEST(bit_helpers_match_single_bits) {
  srand(7);
  for (int iteration = 0; iteration < 5000; iteration++) {
    int source_start = rand() % 64, target_start = rand() % 64, count = rand() % 300;
    size_t source_bytes = (size_t)(source_start + count + 7) / 8 + 1;
    uint8_t* source = malloc(source_bytes);
    uint8_t target[48], expected[48];
    for (size_t i = 0; i < source_bytes; i++) source[i] = (uint8_t)rand();
    for (int i = 0; i < 48; i++) target[i] = expected[i] = (uint8_t)rand();
    wudf__bits_copy(target, target_start, source, source_start, count);
    for (int i = 0; i < count; i++) {
      wudf__bit_set(expected, target_start + i, wudf__bit_get(source, source_start + i));
    }
    ASSERT(memcmp(target, expected, sizeof(target)) == 0);
    int value = rand() & 1;
    wudf__bits_fill(target, target_start, count, value);
    for (int i = 0; i < count; i++) wudf__bit_set(expected, target_start + i, value);
    ASSERT(memcmp(target, expected, sizeof(target)) == 0);
    free(source);
  }
}

TEST(single_segments_borrow) {
  /* int32 without nulls: the values are borrowed at offset + start. */
  int32_t values[16];
  for (int i = 0; i < 16; i++) values[i] = i * 10;
  const void* buffers[2] = {NULL, values};
  struct ArrowArray array = make_array(14, 0, 2, 2, buffers, 0, NULL);
  struct ArrowSchema schema = make_schema("i", "x", 0, NULL);
  struct wudf__segment segments[2] = {{&array, 3, 4}, {&array, 7, 2}}; /* adjacent: merged */
  struct wudf__gather* gather = gather_or_fail(&schema, segments, 2);
  const struct wudf__plan* plan = wudf__gather_plan(gather);
  ASSERT_EQ(plan->length, 6);
  ASSERT_EQ(plan->null_count, 0);
  ASSERT(plan->buffers[0].data == NULL);
  ASSERT(plan->buffers[1].data == (const uint8_t*)(values + 5));
  ASSERT_EQ(plan->buffers[1].size, 24);
  wudf__gather_free(gather);

  /* A validity bitmap whose first row is on a byte boundary is borrowed
   * too; one that is not is shifted into a new bitmap. */
  uint8_t validity[2] = {0xff, 0xfd}; /* row 9 null */
  const void* nullable_buffers[2] = {validity, values};
  struct ArrowArray nullable = make_array(16, 1, 0, 2, nullable_buffers, 0, NULL);
  struct wudf__segment aligned = {&nullable, 8, 8};
  gather = gather_or_fail(&schema, &aligned, 1);
  plan = wudf__gather_plan(gather);
  ASSERT_EQ(plan->null_count, 1);
  ASSERT(plan->buffers[0].data == validity + 1);
  wudf__gather_free(gather);
  struct wudf__segment unaligned = {&nullable, 5, 8};
  gather = gather_or_fail(&schema, &unaligned, 1);
  plan = wudf__gather_plan(gather);
  ASSERT_EQ(plan->null_count, 1);
  ASSERT(plan->buffers[0].data != validity);
  ASSERT_EQ(plan->buffers[0].data[0], 0xef); /* row 9 is row 4 now */
  wudf__gather_free(gather);

  /* utf8: the bytes are borrowed; offsets too when they start at 0. */
  int32_t offsets[5] = {0, 2, 5, 5, 9};
  const char* data = "abcdefghi";
  const void* string_buffers[3] = {NULL, offsets, data};
  struct ArrowArray strings = make_array(4, 0, 0, 3, string_buffers, 0, NULL);
  struct ArrowSchema string_schema = make_schema("u", "s", 0, NULL);
  struct wudf__segment first_rows = {&strings, 0, 2};
  gather = gather_or_fail(&string_schema, &first_rows, 1);
  plan = wudf__gather_plan(gather);
  ASSERT(plan->buffers[1].data == (const uint8_t*)offsets);
  ASSERT(plan->buffers[2].data == (const uint8_t*)data);
  ASSERT_EQ(plan->buffers[2].size, 5);
  wudf__gather_free(gather);
  struct wudf__segment last_rows = {&strings, 1, 3};
  gather = gather_or_fail(&string_schema, &last_rows, 1);
  plan = wudf__gather_plan(gather);
  ASSERT(plan->buffers[2].data == (const uint8_t*)data + 2);
  ASSERT_EQ(i32_at(plan->buffers[1].data, 0), 0);
  ASSERT_EQ(i32_at(plan->buffers[1].data, 3), 7);
  wudf__gather_free(gather);
}

/* interval(months) and interval(day_time): fixed-width values of 4 and 8
 * bytes, which pyarrow cannot build. */
TEST(intervals_months_and_day_time) {
  const char* formats[2] = {"tiM", "tiD"};
  for (int f = 0; f < 2; f++) {
    int width = f == 0 ? 4 : 8;
    uint8_t a_values[6 * 8], b_values[3 * 8];
    for (int i = 0; i < (int)sizeof(a_values); i++) a_values[i] = (uint8_t)i;
    for (int i = 0; i < (int)sizeof(b_values); i++) b_values[i] = (uint8_t)(200 + i);
    uint8_t a_validity[1] = {0x3b}; /* rows 2 and 6+ null */
    const void* a_buffers[2] = {a_validity, a_values};
    const void* b_buffers[2] = {NULL, b_values};
    struct ArrowArray a = make_array(5, 1, 1, 2, a_buffers, 0, NULL); /* rows 1..5 */
    struct ArrowArray b = make_array(3, 0, 0, 2, b_buffers, 0, NULL);
    struct ArrowSchema schema = make_schema(formats[f], "interval", 0, NULL);
    struct wudf__segment segments[3] = {{&a, 0, 3}, {NULL, 0, 2}, {&b, 1, 2}};
    struct wudf__gather* gather = gather_or_fail(&schema, segments, 3);
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    ASSERT_EQ(wudf__plan_export(wudf__gather_plan(gather), NULL, &out, &out_schema, NULL), 0);
    wudf__gather_free(gather);
    ASSERT_STR_EQ(out_schema.format, formats[f]);
    ASSERT_STR_EQ(out_schema.name, "interval");
    ASSERT_EQ(out.length, 7);
    ASSERT_EQ(out.null_count, 3); /* a's row 1 (source row 2) and the two null rows */
    const uint8_t* validity = out.buffers[0];
    const uint8_t* values = out.buffers[1];
    ASSERT_EQ((uintptr_t)values % 64, 0);
    int expected_valid[7] = {1, 0, 1, 0, 0, 1, 1};
    for (int row = 0; row < 7; row++) ASSERT_EQ(wudf__bit_get(validity, row), expected_valid[row]);
    ASSERT(memcmp(values, a_values + 1 * width, (size_t)(3 * width)) == 0);
    ASSERT(memcmp(values + 5 * width, b_values + 1 * width, (size_t)(2 * width)) == 0);
    for (int i = 3 * width; i < 5 * width; i++) ASSERT_EQ(values[i], 0);
    out.release(&out);
    out_schema.release(&out_schema);
  }
}

TEST(fixed_size_list_of_size_zero) {
  uint8_t validity[1] = {0x05};
  const void* buffers[1] = {validity};
  const void* child_buffers[2] = {NULL, NULL};
  struct ArrowArray child = make_array(0, 0, 0, 2, child_buffers, 0, NULL);
  struct ArrowArray* children[1] = {&child};
  struct ArrowArray lists = make_array(4, 2, 0, 1, buffers, 1, children);
  struct ArrowSchema item = make_schema("i", "item", 0, NULL);
  struct ArrowSchema* schema_children[1] = {&item};
  struct ArrowSchema schema = make_schema("+w:0", "l", 1, schema_children);
  struct wudf__segment segments[2] = {{&lists, 0, 3}, {NULL, 0, 2}};
  struct wudf__gather* gather = gather_or_fail(&schema, segments, 2);
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_EQ(wudf__plan_export(wudf__gather_plan(gather), "renamed", &out, &out_schema, NULL), 0);
  wudf__gather_free(gather);
  ASSERT_EQ(out.length, 5);
  ASSERT_EQ(out.null_count, 3);
  ASSERT_EQ(out.n_children, 1);
  ASSERT_EQ(out.children[0]->length, 0);
  ASSERT_STR_EQ(out_schema.name, "renamed");
  ASSERT_STR_EQ(out_schema.children[0]->name, "item");
  out.release(&out);
  out_schema.release(&out_schema);
}

TEST(offsets_past_int32_are_eoverflow) {
  /* Offsets claim 1.5 GB per row; the bytes are never read, because the
   * overflow is found before anything is copied. */
  static const char byte = 0;
  int32_t offsets[2] = {0, 1500000000};
  const void* buffers[3] = {NULL, offsets, &byte};
  struct ArrowArray strings = make_array(1, 0, 0, 3, buffers, 0, NULL);
  struct ArrowSchema schema = make_schema("u", "s", 0, NULL);
  struct wudf__segment segments[2] = {{&strings, 0, 1}, {&strings, 0, 1}};
  struct wudf__gather* gather = NULL;
  struct wudf_error error;
  ASSERT_EQ(wudf__gather_new(&schema, segments, 2, &gather, &error), EOVERFLOW);
  ASSERT(gather == NULL);
  ASSERT(strstr(error.message, "32-bit") != NULL);

  /* The same for a list's child rows. */
  const void* child_buffers[2] = {NULL, &byte};
  struct ArrowArray child = make_array(1500000000, 0, 0, 2, child_buffers, 0, NULL);
  struct ArrowArray* children[1] = {&child};
  const void* list_buffers[2] = {NULL, offsets};
  struct ArrowArray lists = make_array(1, 0, 0, 2, list_buffers, 1, children);
  struct ArrowSchema item = make_schema("c", "item", 0, NULL);
  struct ArrowSchema* schema_children[1] = {&item};
  struct ArrowSchema list_schema = make_schema("+l", "l", 1, schema_children);
  struct wudf__segment list_segments[2] = {{&lists, 0, 1}, {&lists, 0, 1}};
  ASSERT_EQ(wudf__gather_new(&list_schema, list_segments, 2, &gather, &error), EOVERFLOW);

  /* Views: two rows of 1.5 GB out of line pass the 32-bit view offsets. */
  uint8_t views[16];
  int32_t size = 1500000000, zero = 0;
  memcpy(views, &size, 4);
  memcpy(views + 4, "abcd", 4);
  memcpy(views + 8, &zero, 4);
  memcpy(views + 12, &zero, 4);
  int64_t variadic_sizes[1] = {1500000000};
  const void* view_buffers[4] = {NULL, views, &byte, variadic_sizes};
  struct ArrowArray view_array = make_array(1, 0, 0, 4, view_buffers, 0, NULL);
  struct ArrowSchema view_schema = make_schema("vu", "v", 0, NULL);
  struct wudf__segment view_segments[2] = {{&view_array, 0, 1}, {&view_array, 0, 1}};
  ASSERT_EQ(wudf__gather_new(&view_schema, view_segments, 2, &gather, &error), EOVERFLOW);
}

TEST(views_are_compacted) {
  /* Rows: inline "hi", out-of-line 20 bytes in buffer 1, null (garbage
   * view), out-of-line 13 bytes in buffer 0. */
  const char* buffer0 = "xxxxTHIRTEEN-BYTES";
  const char* buffer1 = "..twenty-bytes-long-string";
  uint8_t views[4 * 16];
  memset(views, 0, sizeof(views));
  int32_t fields[4][4] = {{2, 0, 0, 0}, {20, 0, 1, 2}, {99, 0, 7, 1000}, {13, 0, 0, 4}};
  for (int row = 0; row < 4; row++) {
    memcpy(views + row * 16, &fields[row][0], 4);
    memcpy(views + row * 16 + 8, &fields[row][2], 4);
    memcpy(views + row * 16 + 12, &fields[row][3], 4);
  }
  memcpy(views + 4, "hi", 2);
  memcpy(views + 16 + 4, "twen", 4);
  memcpy(views + 48 + 4, "THIR", 4);
  int64_t sizes[2] = {18, 26};
  uint8_t validity[1] = {0x0b};
  const void* buffers[5] = {validity, views, buffer0, buffer1, sizes};
  struct ArrowArray array = make_array(4, 1, 0, 5, buffers, 0, NULL);
  struct ArrowSchema schema = make_schema("vu", "v", 0, NULL);
  struct wudf__segment segments[2] = {{&array, 0, 4}, {NULL, 0, 1}};
  struct wudf__gather* gather = gather_or_fail(&schema, segments, 2);
  const struct wudf__plan* plan = wudf__gather_plan(gather);
  ASSERT_EQ(plan->n_buffers, 4);
  ASSERT_EQ(plan->null_count, 2);
  ASSERT_EQ(plan->buffers[2].size, 33);
  ASSERT(memcmp(plan->buffers[2].data, "twenty-bytes-long-stTHIRTEEN-BYTE", 33) == 0);
  const uint8_t* out_views = plan->buffers[1].data;
  ASSERT(memcmp(out_views, views, 16) == 0);           /* inline: as it was */
  ASSERT_EQ(i32_at(out_views + 16, 0), 20);
  ASSERT_EQ(i32_at(out_views + 16, 2), 0);             /* buffer 0 */
  ASSERT_EQ(i32_at(out_views + 16, 3), 0);             /* at 0 */
  for (int i = 32; i < 48; i++) ASSERT_EQ(out_views[i], 0); /* the null row */
  ASSERT_EQ(i32_at(out_views + 48, 3), 20);
  for (int i = 64; i < 80; i++) ASSERT_EQ(out_views[i], 0); /* the null segment */
  int64_t data_size;
  memcpy(&data_size, plan->buffers[3].data, 8);
  ASSERT_EQ(data_size, 33);
  wudf__gather_free(gather);

  /* Only inline rows: no data buffer, an empty sizes buffer. */
  struct wudf__segment inline_only = {&array, 0, 1};
  gather = gather_or_fail(&schema, &inline_only, 1);
  ASSERT_EQ(wudf__gather_plan(gather)->n_buffers, 3);
  ASSERT_EQ(wudf__gather_plan(gather)->buffers[2].size, 0);
  wudf__gather_free(gather);
}

/* The nested source of the release tests: struct<l: list<utf8>, d:
 * dictionary<int8, utf8>> of 4 rows, the struct sliced by 1. */
struct nested_source {
  int32_t list_offsets[6];
  int32_t string_offsets[6];
  const void* string_buffers[3];
  struct ArrowArray strings;
  struct ArrowArray* list_children[1];
  const void* list_buffers[2];
  struct ArrowArray list;
  int8_t indices[5];
  const void* index_buffers[2];
  int32_t dictionary_offsets[4];
  const void* dictionary_buffers[3];
  struct ArrowArray dictionary;
  struct ArrowArray dictionary_encoded;
  struct ArrowArray* struct_children[2];
  const void* struct_buffers[1];
  struct ArrowArray root;
  struct ArrowSchema string_schema, list_schema, dictionary_schema, index_schema, root_schema;
  struct ArrowSchema* list_schema_children[1];
  struct ArrowSchema* root_schema_children[2];
};

static void nested_source_init(struct nested_source* s) {
  memset(s, 0, sizeof(*s));
  int32_t list_offsets[6] = {0, 1, 3, 3, 4, 5};
  int32_t string_offsets[6] = {0, 3, 6, 6, 10, 11};
  memcpy(s->list_offsets, list_offsets, sizeof(list_offsets));
  memcpy(s->string_offsets, string_offsets, sizeof(string_offsets));
  s->string_buffers[1] = s->string_offsets;
  s->string_buffers[2] = "onetwofourZ";
  s->strings = make_array(5, 0, 0, 3, s->string_buffers, 0, NULL);
  s->list_children[0] = &s->strings;
  s->list_buffers[1] = s->list_offsets;
  s->list = make_array(5, 0, 0, 2, s->list_buffers, 1, s->list_children);
  int8_t indices[5] = {2, 0, 1, 2, 0};
  memcpy(s->indices, indices, sizeof(indices));
  s->index_buffers[1] = s->indices;
  int32_t dictionary_offsets[4] = {0, 1, 2, 3};
  memcpy(s->dictionary_offsets, dictionary_offsets, sizeof(dictionary_offsets));
  s->dictionary_buffers[1] = s->dictionary_offsets;
  s->dictionary_buffers[2] = "abc";
  s->dictionary = make_array(3, 0, 0, 3, s->dictionary_buffers, 0, NULL);
  s->dictionary_encoded = make_array(5, 0, 0, 2, s->index_buffers, 0, NULL);
  s->dictionary_encoded.dictionary = &s->dictionary;
  s->struct_children[0] = &s->list;
  s->struct_children[1] = &s->dictionary_encoded;
  s->root = make_array(4, 0, 1, 1, s->struct_buffers, 2, s->struct_children);
  s->string_schema = make_schema("u", "item", 0, NULL);
  s->list_schema_children[0] = &s->string_schema;
  s->list_schema = make_schema("+l", "l", 1, s->list_schema_children);
  s->dictionary_schema = make_schema("u", NULL, 0, NULL);
  s->index_schema = make_schema("c", "d", 0, NULL);
  s->index_schema.dictionary = &s->dictionary_schema;
  s->root_schema_children[0] = &s->list_schema;
  s->root_schema_children[1] = &s->index_schema;
  s->root_schema = make_schema("+s", "root", 2, s->root_schema_children);
  /* Metadata on the root: one pair "k" -> "vv". */
  static const char metadata[] = {1, 0, 0, 0, 1, 0, 0, 0, 'k', 2, 0, 0, 0, 'v', 'v'};
  s->root_schema.metadata = metadata;
}

/* Exports rows 1..3 of the nested source, a null row, and row 0. */
static int export_nested(struct nested_source* s, struct ArrowArray* out,
                         struct ArrowSchema* out_schema) {
  struct wudf__segment segments[3] = {{&s->root, 1, 3}, {NULL, 0, 1}, {&s->root, 0, 1}};
  struct wudf__gather* gather = NULL;
  struct wudf_error error;
  int status = wudf__gather_new(&s->root_schema, segments, 3, &gather, &error);
  if (status == 0) {
    status = wudf__plan_export(wudf__gather_plan(gather), NULL, out, out_schema, &error);
  }
  wudf__gather_free(gather);
  return status;
}

/* Reads row `row` of a utf8 array (offset 0) into `text`. */
static void string_at(const struct ArrowArray* array, int64_t row, char* text) {
  int32_t begin = i32_at(array->buffers[1], row), end = i32_at(array->buffers[1], row + 1);
  memcpy(text, (const char*)array->buffers[2] + begin, (size_t)(end - begin));
  text[end - begin] = '\0';
}

TEST(export_values_and_move_out_release_orders) {
  struct nested_source s;
  nested_source_init(&s);
  long before = atomic_load(&live_allocations);
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  ASSERT_EQ(export_nested(&s, &out, &out_schema), 0);
  ASSERT_EQ(atomic_load(&live_allocations), before + 1); /* one block */

  /* Values: rows are source rows 2, 3, 4, null, 1 (struct offset 1). */
  ASSERT_EQ(out.length, 5);
  ASSERT_EQ(out.null_count, 1);
  ASSERT_EQ(out.offset, 0);
  struct ArrowArray* list = out.children[0];
  ASSERT_EQ(list->length, 5);
  int32_t expected_offsets[6] = {0, 0, 1, 2, 2, 4};
  for (int i = 0; i < 6; i++) ASSERT_EQ(i32_at(list->buffers[1], i), expected_offsets[i]);
  char text[16];
  string_at(list->children[0], 0, text);
  ASSERT_STR_EQ(text, "four");
  string_at(list->children[0], 3, text);
  ASSERT_STR_EQ(text, "");
  struct ArrowArray* encoded = out.children[1];
  const int8_t* indices = encoded->buffers[1];
  ASSERT_EQ(indices[0], 1);
  ASSERT_EQ(indices[4], 0);
  ASSERT_EQ(encoded->dictionary->length, 3);
  ASSERT_STR_EQ(out_schema.name, "root");
  ASSERT_STR_EQ(out_schema.children[1]->dictionary->format, "u");
  ASSERT(out_schema.children[1]->dictionary->name == NULL);
  ASSERT(memcmp(out_schema.metadata, s.root_schema.metadata, 15) == 0);
  ASSERT_EQ(out_schema.flags, ARROW_FLAG_NULLABLE);

  /* Move the list child and the dictionary out, release the parent. */
  struct ArrowArray moved_list, moved_dictionary;
  memcpy(&moved_list, out.children[0], sizeof(moved_list));
  out.children[0]->release = NULL;
  memcpy(&moved_dictionary, out.children[1]->dictionary, sizeof(moved_dictionary));
  out.children[1]->dictionary->release = NULL;
  out.release(&out);
  ASSERT(out.release == NULL);
  ASSERT_EQ(atomic_load(&live_allocations), before + 1);

  /* The schema: release a child in place, move the other out, release the
   * root, then the moved one. */
  struct ArrowSchema moved_schema;
  out_schema.children[0]->release(out_schema.children[0]);
  ASSERT(out_schema.children[0]->release == NULL);
  memcpy(&moved_schema, out_schema.children[1], sizeof(moved_schema));
  out_schema.children[1]->release = NULL;
  out_schema.release(&out_schema);
  ASSERT_STR_EQ(moved_schema.format, "c");
  moved_schema.release(&moved_schema);
  ASSERT(moved_schema.release == NULL);

  /* The moved-out arrays still read their values. */
  string_at(moved_list.children[0], 1, text);
  ASSERT_STR_EQ(text, "Z");
  moved_dictionary.release(&moved_dictionary);
  ASSERT_EQ(atomic_load(&live_allocations), before + 1);
  /* Move a grandchild out of the moved child, release in reverse. */
  struct ArrowArray moved_strings;
  memcpy(&moved_strings, moved_list.children[0], sizeof(moved_strings));
  moved_list.children[0]->release = NULL;
  moved_list.release(&moved_list);
  ASSERT_EQ(atomic_load(&live_allocations), before + 1);
  string_at(&moved_strings, 0, text);
  ASSERT_STR_EQ(text, "four");
  moved_strings.release(&moved_strings);
  ASSERT_EQ(atomic_load(&live_allocations), before); /* the last reference freed it */
}

static void* release_array_thread(void* argument) {
  struct ArrowArray* array = argument;
  array->release(array);
  return NULL;
}

static void* release_schema_thread(void* argument) {
  struct ArrowSchema* schema = argument;
  schema->release(schema);
  return NULL;
}

TEST(release_on_several_threads) {
  struct nested_source s;
  nested_source_init(&s);
  long before = atomic_load(&live_allocations);
  for (int round = 0; round < 50; round++) {
    struct ArrowArray out, moved[2];
    struct ArrowSchema out_schema, moved_schema[2];
    ASSERT_EQ(export_nested(&s, &out, &out_schema), 0);
    for (int i = 0; i < 2; i++) {
      memcpy(&moved[i], out.children[i], sizeof(moved[i]));
      out.children[i]->release = NULL;
      memcpy(&moved_schema[i], out_schema.children[i], sizeof(moved_schema[i]));
      out_schema.children[i]->release = NULL;
    }
    pthread_t threads[6];
    ASSERT_EQ(pthread_create(&threads[0], NULL, release_array_thread, &out), 0);
    ASSERT_EQ(pthread_create(&threads[1], NULL, release_array_thread, &moved[0]), 0);
    ASSERT_EQ(pthread_create(&threads[2], NULL, release_array_thread, &moved[1]), 0);
    ASSERT_EQ(pthread_create(&threads[3], NULL, release_schema_thread, &out_schema), 0);
    ASSERT_EQ(pthread_create(&threads[4], NULL, release_schema_thread, &moved_schema[0]), 0);
    ASSERT_EQ(pthread_create(&threads[5], NULL, release_schema_thread, &moved_schema[1]), 0);
    for (int i = 0; i < 6; i++) pthread_join(threads[i], NULL);
    ASSERT_EQ(atomic_load(&live_allocations), before);
  }
}

/* Two int8 dictionary arrays whose dictionaries (distinct arrays) hold
 * `values` int32 values each, the second's shifted by `shift`: rows 0..3 of
 * each, indices 0, 99 % values, null, 1. */
struct dictionary_pair {
  int32_t values[2][200];
  int8_t indices[2][4];
  uint8_t validity;
  const void* value_buffers[2][2];
  const void* index_buffers[2][2];
  struct ArrowArray dictionaries[2];
  struct ArrowArray arrays[2];
  struct ArrowSchema value_schema, schema;
};

static void dictionary_pair_init(struct dictionary_pair* d, int32_t values, int32_t shift) {
  memset(d, 0, sizeof(*d));
  d->validity = 0x0b; /* rows 0, 1, 3 valid */
  for (int k = 0; k < 2; k++) {
    for (int32_t i = 0; i < values; i++) d->values[k][i] = i + (k == 1 ? shift : 0);
    d->indices[k][0] = 0;
    d->indices[k][1] = (int8_t)(99 % values);
    d->indices[k][3] = 1;
    d->value_buffers[k][1] = d->values[k];
    d->index_buffers[k][0] = &d->validity;
    d->index_buffers[k][1] = d->indices[k];
    d->dictionaries[k] = make_array(values, 0, 0, 2, d->value_buffers[k], 0, NULL);
    d->arrays[k] = make_array(4, 1, 0, 2, d->index_buffers[k], 0, NULL);
    d->arrays[k].dictionary = &d->dictionaries[k];
  }
  d->value_schema = make_schema("i", "", 0, NULL);
  d->schema = make_schema("c", "d", 0, NULL);
  d->schema.dictionary = &d->value_schema;
}

TEST(dictionaries_past_the_index_type_are_unified) {
  /* 2 x 100 equal values: 200 concatenated pass int8; unified: 100. */
  struct dictionary_pair d;
  dictionary_pair_init(&d, 100, 0);
  struct wudf__segment segments[2] = {{&d.arrays[0], 0, 4}, {&d.arrays[1], 0, 4}};
  struct wudf__gather* gather = gather_or_fail(&d.schema, segments, 2);
  const struct wudf__plan* plan = wudf__gather_plan(gather);
  ASSERT_EQ(plan->length, 8);
  ASSERT_EQ(plan->dictionary->length, 100);
  const int8_t* indices = (const int8_t*)plan->buffers[1].data;
  ASSERT_EQ(indices[4], 0);
  ASSERT_EQ(indices[5], 99);
  ASSERT_EQ(indices[7], 1);
  wudf__gather_free(gather);

  /* Shifted by 50: 150 distinct values still pass int8. */
  dictionary_pair_init(&d, 100, 50);
  struct wudf_error error;
  ASSERT_EQ(wudf__gather_new(&d.schema, segments, 2, &gather, &error), EOVERFLOW);
  ASSERT(strstr(error.message, "150 distinct values") != NULL);

  /* Shifted by 28: 128 distinct values, exactly what int8 addresses. */
  dictionary_pair_init(&d, 100, 28);
  gather = gather_or_fail(&d.schema, segments, 2);
  plan = wudf__gather_plan(gather);
  ASSERT_EQ(plan->dictionary->length, 128);
  indices = (const int8_t*)plan->buffers[1].data;
  ASSERT_EQ(indices[4], 28);  /* the second dictionary's 0 is the value 28 */
  ASSERT_EQ(indices[5], 127); /* its 99 is 127, new, the last one */
  ASSERT_EQ(indices[7], 29);  /* its 1 is 29 */
  wudf__gather_free(gather);

  /* Every allocation of the unification failing in turn. */
  dictionary_pair_init(&d, 100, 0);
  long before = atomic_load(&live_allocations);
  int succeeded = 0;
  for (long fail_at = 0; fail_at < 100 && !succeeded; fail_at++) {
    atomic_store(&allocations_left, fail_at);
    int status = wudf__gather_new(&d.schema, segments, 2, &gather, &error);
    atomic_store(&allocations_left, -1);
    if (status == 0) {
      succeeded = 1;
      wudf__gather_free(gather);
    } else {
      ASSERT_EQ(status, ENOMEM);
    }
    ASSERT_EQ(atomic_load(&live_allocations), before);
  }
  ASSERT(succeeded);
}

/* Runs `make` (an export into `out`, 0 or ENOMEM) with its first, second,
 * ... allocation failing until one run succeeds (within `most`): each
 * failure must be ENOMEM and leave no allocation behind. */
static void fail_each_allocation(int (*make)(void* context, struct ArrowArray* out,
                                             struct ArrowSchema* out_schema),
                                 void* context, long most) {
  long before = atomic_load(&live_allocations);
  int succeeded = 0;
  for (long fail_at = 0; fail_at < most && !succeeded; fail_at++) {
    atomic_store(&allocations_left, fail_at);
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    int status = make(context, &out, &out_schema);
    atomic_store(&allocations_left, -1);
    if (status == 0) {
      succeeded = 1;
      out.release(&out);
      out_schema.release(&out_schema);
    } else {
      ASSERT_EQ(status, ENOMEM);
    }
    ASSERT_EQ(atomic_load(&live_allocations), before);
  }
  ASSERT(succeeded);
}

static int make_nested(void* context, struct ArrowArray* out, struct ArrowSchema* out_schema) {
  return export_nested(context, out, out_schema);
}

TEST(every_allocation_failure_is_enomem_without_leaks) {
  struct nested_source s;
  nested_source_init(&s);
  fail_each_allocation(make_nested, &s, 200);
}

TEST(schema_export_copies_and_renames) {
  struct nested_source s;
  nested_source_init(&s);
  long before = atomic_load(&live_allocations);
  struct ArrowSchema copy;
  ASSERT_EQ(wudf__schema_export(&s.root_schema, "result", &copy, NULL), 0);
  ASSERT_EQ(atomic_load(&live_allocations), before + 1);
  ASSERT_STR_EQ(copy.name, "result");
  ASSERT(copy.format != s.root_schema.format);
  ASSERT_STR_EQ(copy.format, "+s");
  ASSERT_EQ(copy.n_children, 2);
  ASSERT_STR_EQ(copy.children[0]->children[0]->name, "item");
  ASSERT_STR_EQ(copy.children[1]->name, "d");
  ASSERT(copy.children[1]->dictionary != NULL);
  ASSERT(memcmp(copy.metadata, s.root_schema.metadata, 15) == 0);
  copy.release(&copy);
  ASSERT_EQ(atomic_load(&live_allocations), before);
}

TEST(guest_copy_layout) {
  struct nested_source s;
  nested_source_init(&s);
  struct wudf__segment segments[2] = {{&s.root, 0, 4}, {NULL, 0, 2}};
  struct wudf__gather* gather = gather_or_fail(&s.root_schema, segments, 2);
  const struct wudf__plan* plan = wudf__gather_plan(gather);
  int64_t size = wudf__plan_guest_size(plan);
  ASSERT_LT(0, size);
  uint64_t at = 4096 + 40; /* 8-aligned, not 64-aligned */
  size_t memory_size = ((size_t)size + 3 * 4096) / 4096 * 4096; /* whole pages */
  uint8_t* base = aligned_alloc(4096, memory_size);
  memset(base, 0xcc, memory_size);
  struct wudf__guest_memory memory = {base, memory_size};
  struct wudf__guest_placement placed;
  wudf__plan_guest_write(plan, "args", &memory, (uint32_t)at, 11, 12, 77, &placed);
  ASSERT_EQ(placed.size, size);
  ASSERT_EQ(placed.struct_count, 10); /* 5 arrays (with the dictionary) + 5 schemas */
  ASSERT_EQ(placed.array % 64, 0);
  ASSERT(placed.array >= at && placed.schema < at + (uint64_t)size);
  ASSERT_EQ(wudf__load_i64(&memory, placed.array + WUDF__ARRAY_LENGTH), 6);
  ASSERT_EQ(wudf__load_i64(&memory, placed.array + WUDF__ARRAY_NULL_COUNT), 2);
  ASSERT_EQ(wudf__load_i64(&memory, placed.array + WUDF__ARRAY_N_CHILDREN), 2);
  ASSERT_EQ(wudf__load_u32(&memory, placed.array + WUDF__ARRAY_RELEASE), 11);
  ASSERT_EQ(wudf__load_u32(&memory, placed.schema + WUDF__SCHEMA_RELEASE), 12);
  ASSERT_EQ(wudf__load_u32(&memory, placed.schema + WUDF__SCHEMA_PRIVATE_DATA), 77);
  uint32_t name = wudf__load_u32(&memory, placed.schema + WUDF__SCHEMA_NAME);
  ASSERT_STR_EQ((const char*)base + name, "args");
  uint32_t buffers = wudf__load_u32(&memory, placed.array + WUDF__ARRAY_BUFFERS);
  uint32_t validity = wudf__load_u32(&memory, buffers);
  ASSERT_EQ(validity % 64, 0);
  ASSERT_EQ(base[validity], 0x0f); /* rows 0-3 valid, 4-5 null */
  for (uint64_t i = 0; i < at; i++) ASSERT_EQ(base[i], 0xcc);
  for (uint64_t i = at + (uint64_t)size; i < memory.size; i++) ASSERT_EQ(base[i], 0xcc);
  free(base);
  wudf__gather_free(gather);
}

TEST(invalid_requests_are_einval) {
  struct wudf__gather* gather = NULL;
  struct wudf_error error;
  int32_t values[4] = {1, 2, 3, 4};
  const void* buffers[2] = {NULL, values};
  struct ArrowArray array = make_array(4, 0, 0, 2, buffers, 0, NULL);
  struct wudf__segment inside = {&array, 0, 4};

  struct ArrowSchema unknown = make_schema("q", "x", 0, NULL);
  ASSERT_EQ(wudf__gather_new(&unknown, &inside, 1, &gather, &error), EINVAL);
  ASSERT(strstr(error.message, "'q'") != NULL);

  struct ArrowSchema values_schema = make_schema("u", NULL, 0, NULL);
  struct ArrowSchema float_indices = make_schema("f", "x", 0, NULL);
  float_indices.dictionary = &values_schema;
  ASSERT_EQ(wudf__gather_new(&float_indices, &inside, 1, &gather, &error), EINVAL);

  struct ArrowSchema int32_schema = make_schema("i", "x", 0, NULL);
  struct wudf__segment outside = {&array, 2, 3};
  ASSERT_EQ(wudf__gather_new(&int32_schema, &outside, 1, &gather, &error), EINVAL);
  ASSERT(gather == NULL);

  struct ArrowSchema empty_union = make_schema("+us:", "u", 0, NULL);
  struct wudf__segment nulls = {NULL, 0, 2};
  ASSERT_EQ(wudf__gather_new(&empty_union, &nulls, 1, &gather, &error), EINVAL);
  /* ...but zero rows of it are fine. */
  ASSERT_EQ(wudf__gather_new(&empty_union, NULL, 0, &gather, &error), 0);
  ASSERT_EQ(wudf__gather_plan(gather)->length, 0);
  wudf__gather_free(gather);

  /* A schema whose child count is not its format's. */
  struct ArrowSchema bad_list = make_schema("+l", "l", 0, NULL);
  ASSERT_EQ(wudf__gather_new(&bad_list, NULL, 0, &gather, &error), EINVAL);
}

/* Strings "s<i>" for i in [0, 40), null where i % 3 == 1, appended in
 * pieces from three slices plus null rows; the same for int16 values. */
static int build_appended(const char* format, struct ArrowArray* out, struct ArrowSchema* out_schema,
                          struct wudf_error* error) {
  static char data[400];
  static int32_t offsets[41];
  static int16_t values[40];
  static uint8_t validity[5];
  int32_t at = 0;
  memset(validity, 0, sizeof(validity));
  for (int i = 0; i < 40; i++) {
    offsets[i] = at;
    at += snprintf(data + at, sizeof(data) - (size_t)at, "s%d", i);
    values[i] = (int16_t)(i * 100 - 7);
    if (i % 3 != 1) wudf__bit_set(validity, i, 1);
  }
  offsets[40] = at;
  int strings = strcmp(format, "u") == 0;
  const void* buffers[3] = {validity, strings ? (const void*)offsets : (const void*)values, data};
  /* The source seen from row 2 on, 38 rows. */
  struct ArrowArray source = make_array(38, 0, 2, strings ? 3 : 2, buffers, 0, NULL);
  for (int i = 2; i < 40; i++) source.null_count += i % 3 == 1;
  struct ArrowSchema schema = make_schema(format, "source", 0, NULL);
  struct wudf__append column;
  int status = wudf__append_init(&column, format, 50, 4, error);
  if (status != 0) return status;
  /* Source rows 2..11 (bit offsets 2 and 4), 3 nulls, rows 12..39, 2
   * nulls: 43 rows of the 50 there is room for. */
  if (status == 0) status = wudf__append_rows(&column, &source, 0, 10, error);
  if (status == 0) status = wudf__append_nulls(&column, 3, error);
  if (status == 0) status = wudf__append_rows(&column, &source, 10, 28, error);
  if (status == 0) status = wudf__append_nulls(&column, 2, error);
  if (status == 0) status = wudf__append_rows(&column, &source, 5, 0, error);
  if (status == 0) status = wudf__append_export(&column, &schema, "built", out, out_schema, error);
  wudf__append_free(&column);
  return status;
}

TEST(the_column_builder_appends) {
  const char* formats[2] = {"u", "s"};
  for (int f = 0; f < 2; f++) {
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    struct wudf_error error;
    if (build_appended(formats[f], &out, &out_schema, &error) != 0) {
      TEST_FAIL("%s: %s", formats[f], error.message);
    }
    ASSERT_STR_EQ(out_schema.format, formats[f]);
    ASSERT_STR_EQ(out_schema.name, "built");
    ASSERT_EQ(out.length, 43);
    ASSERT_EQ(out.offset, 0);
    ASSERT_EQ(out.n_buffers, f == 0 ? 3 : 2);
    int64_t nulls = 0;
    for (int64_t r = 0; r < 43; r++) {
      /* The column's row r is source row i, or a null row (-1). */
      int64_t i = r < 10 ? r + 2 : r < 13 ? -1 : r < 41 ? r - 1 : -1;
      int valid = i >= 0 && i % 3 != 1;
      ASSERT_EQ(wudf__bit_get(out.buffers[0], r), valid);
      nulls += !valid;
      if (f == 0) {
        int64_t start = wudf__offset_get(out.buffers[1], 0, r);
        int64_t end = wudf__offset_get(out.buffers[1], 0, r + 1);
        char expected[16] = "";
        if (i >= 0) snprintf(expected, sizeof(expected), "s%d", (int)i);
        ASSERT_EQ(end - start, (int64_t)strlen(expected));
        ASSERT(memcmp((const char*)out.buffers[2] + start, expected, strlen(expected)) == 0);
      } else if (i >= 0) {
        int16_t value;
        memcpy(&value, (const uint8_t*)out.buffers[1] + r * 2, 2);
        ASSERT_EQ(value, (int16_t)(i * 100 - 7));
      }
    }
    ASSERT_EQ(out.null_count, nulls);
    /* The schema and the array are released apart, in either order. */
    if (f == 0) {
      out.release(&out);
      out_schema.release(&out_schema);
    } else {
      out_schema.release(&out_schema);
      out.release(&out);
    }
    ASSERT(out.release == NULL && out_schema.release == NULL);
  }
}

TEST(the_column_builder_refuses) {
  struct wudf_error error;
  struct wudf__append column;
  /* Types it does not build: the caller gathers instead. */
  ASSERT_EQ(wudf__append_init(&column, "b", 10, 0, &error), ENOTSUP);
  ASSERT_EQ(wudf__append_init(&column, "+l", 10, 0, &error), ENOTSUP);
  ASSERT_EQ(wudf__append_init(&column, "vu", 10, 0, &error), ENOTSUP);
  ASSERT_EQ(wudf__append_init(&column, "n", 10, 0, &error), ENOTSUP);
  /* Past its capacity, and past 32-bit offsets: the column unchanged. */
  ASSERT_EQ(wudf__append_init(&column, "u", 6, 0, &error), 0);
  ASSERT_EQ(wudf__append_nulls(&column, 7, &error), EINVAL);
  ASSERT_EQ(column.length, 0);
  ASSERT_EQ(wudf__append_nulls(&column, 3, &error), 0);
  static const int32_t offsets[3] = {0, 10, 20};
  static const char data[20] = "0123456789abcdefghij";
  const void* buffers[3] = {NULL, offsets, data};
  struct ArrowArray source = make_array(2, 0, 0, 3, buffers, 0, NULL);
  ASSERT_EQ(wudf__append_rows(&column, &source, 0, 2, &error), 0);
  ASSERT_EQ(wudf__append_rows(&column, &source, 0, 2, &error), EINVAL);
  ASSERT_EQ(column.length, 5);
  ASSERT_EQ(column.data_size, 20);
  ASSERT_EQ(wudf__offset_get(column.values, 0, 5), 20);
  column.data_size = INT32_MAX - 5; /* as if 2 GiB were there */
  ASSERT_EQ(wudf__append_rows(&column, &source, 1, 1, &error), EOVERFLOW);
  ASSERT_CONTAINS(error.message, "32-bit offsets");
  ASSERT_EQ(column.length, 5);
  ASSERT_EQ(column.data_size, (int64_t)INT32_MAX - 5);
  wudf__append_free(&column);
  /* The large variant takes it. */
  static const int64_t large_offsets[3] = {0, 10, 20};
  const void* large_buffers[3] = {NULL, large_offsets, data};
  struct ArrowArray large = make_array(2, 0, 0, 3, large_buffers, 0, NULL);
  ASSERT_EQ(wudf__append_init(&column, "U", 2, 0, &error), 0);
  ASSERT_EQ(wudf__append_rows(&column, &large, 0, 2, &error), 0);
  ASSERT_EQ(column.data_size, 20);
  ASSERT_EQ(wudf__offset_get(column.values, 1, 2), 20);
  wudf__append_free(&column);
}

static int make_appended(void* context, struct ArrowArray* out, struct ArrowSchema* out_schema) {
  struct wudf_error error;
  return build_appended(context, out, out_schema, &error);
}

TEST(the_column_builder_fails_each_allocation_without_leaks) {
  fail_each_allocation(make_appended, "u", 50);
  fail_each_allocation(make_appended, "s", 50);
}

int main(void) {
  static const struct wudf_allocator counting = {counting_malloc, counting_realloc,
                                                 counting_free, NULL};
  if (wudf_set_allocator(&counting) != 0) TEST_FAIL("cannot install the allocator");
  RUN_TEST(bit_helpers_match_single_bits);
  RUN_TEST(single_segments_borrow);
  RUN_TEST(intervals_months_and_day_time);
  RUN_TEST(fixed_size_list_of_size_zero);
  RUN_TEST(offsets_past_int32_are_eoverflow);
  RUN_TEST(views_are_compacted);
  RUN_TEST(export_values_and_move_out_release_orders);
  RUN_TEST(release_on_several_threads);
  RUN_TEST(every_allocation_failure_is_enomem_without_leaks);
  RUN_TEST(dictionaries_past_the_index_type_are_unified);
  RUN_TEST(schema_export_copies_and_renames);
  RUN_TEST(guest_copy_layout);
  RUN_TEST(invalid_requests_are_einval);
  RUN_TEST(the_column_builder_appends);
  RUN_TEST(the_column_builder_refuses);
  RUN_TEST(the_column_builder_fails_each_allocation_without_leaks);
  return TEST_SUMMARY();
}
