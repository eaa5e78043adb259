/*
 * ipc_fixture.h -- a hand-built record batch of many layouts (int32 with a
 * null, utf8, list<int32>, an int8 dictionary of utf8, utf8 views with data
 * buffers, a dense union with type ids 3 and 9, a struct, a run-end encoded
 * column) as static C Data Interface structs, for tests/test_ipc.c and the
 * IPC fuzzer's seeds (tests/fuzz/make_ipc_seeds.c). Call make_views()
 * first; every struct is borrowed (release marks only).
 */
#ifndef WUDF_TESTS_IPC_FIXTURE_H
#define WUDF_TESTS_IPC_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "wasmudf/wasmudf.h"

static void borrowed_array_release(struct ArrowArray* array) { array->release = NULL; }
static void borrowed_schema_release(struct ArrowSchema* schema) { (void)schema; }

#define ROWS 5

/* Column i: int32 with a null at row 2. */
static int32_t i_values[ROWS] = {1, 2, 3, 4, 5};
static uint8_t i_validity[1] = {0x1B};
/* Column s: utf8. */
static int32_t s_offsets[ROWS + 1] = {0, 1, 1, 7, 8, 25};
static const char s_data[] = "ah\xC3\xA9llox" "a long string value";
/* Column l: list<int32>. */
static int32_t l_offsets[ROWS + 1] = {0, 2, 2, 3, 5, 6};
static int32_t l_child_values[6] = {10, 11, 12, 13, 14, 15};
/* Column d: dictionary int8 -> utf8. */
static int8_t d_indices[ROWS] = {0, 1, 2, 1, 0};
static int32_t d_offsets[4] = {0, 3, 8, 12};
static const char d_data[] = "redgreenblue";
/* Column v: utf8 view; rows 1 and 3 are long. */
static const char v_long[] = "this is longer than twelveand this one too, also long";
static uint8_t v_views[ROWS * 16];
static int64_t v_sizes[1] = {sizeof v_long - 1};
/* Column u: dense union "+ud:3,9" of int64 and utf8. */
static int8_t u_types[ROWS] = {3, 9, 9, 3, 9};
static int32_t u_offsets[ROWS] = {0, 0, 1, 1, 2};
static int64_t u_ints[2] = {7, 8};
static int32_t u_str_offsets[4] = {0, 1, 2, 3};
static const char u_str_data[] = "pqr";
/* Column st: struct {x: int16}. */
static int16_t st_x[ROWS] = {-1, -2, -3, -4, -5};
/* Column r: run-end encoded int32 -> int64. */
static int32_t r_ends[2] = {2, 5};
static int64_t r_values[2] = {100, 200};

static const void* i_buffers[2] = {i_validity, i_values};
static const void* s_buffers[3] = {NULL, s_offsets, s_data};
static const void* l_buffers[2] = {NULL, l_offsets};
static const void* l_child_buffers[2] = {NULL, l_child_values};
static const void* d_buffers[2] = {NULL, d_indices};
static const void* d_dict_buffers[3] = {NULL, d_offsets, d_data};
static const void* v_buffers[4] = {NULL, v_views, v_long, v_sizes};
static const void* u_buffers[2] = {u_types, u_offsets};
static const void* u_int_buffers[2] = {NULL, u_ints};
static const void* u_str_buffers[3] = {NULL, u_str_offsets, u_str_data};
static const void* st_buffers[1] = {NULL};
static const void* st_x_buffers[2] = {NULL, st_x};
static const void* r_end_buffers[2] = {NULL, r_ends};
static const void* r_value_buffers[2] = {NULL, r_values};
static const void* root_buffers[1] = {NULL};

#define LEAF(name, len, nulls, nbuf, bufs)                                          \
  static struct ArrowArray name = {len, nulls, 0, nbuf, 0, (const void**)bufs, NULL, NULL, \
                                   borrowed_array_release, NULL}
LEAF(i_array, ROWS, 1, 2, i_buffers);
LEAF(s_array, ROWS, 0, 3, s_buffers);
LEAF(l_child, 6, 0, 2, l_child_buffers);
LEAF(d_dict, 3, 0, 3, d_dict_buffers);
LEAF(v_array, ROWS, 0, 4, v_buffers);
LEAF(u_int_child, 2, 0, 2, u_int_buffers);
LEAF(u_str_child, 3, 0, 3, u_str_buffers);
LEAF(st_x_array, ROWS, 0, 2, st_x_buffers);
LEAF(r_end_array, 2, 0, 2, r_end_buffers);
LEAF(r_value_array, 2, 0, 2, r_value_buffers);
static struct ArrowArray* l_children[1] = {&l_child};
static struct ArrowArray l_array = {ROWS, 0, 0, 2, 1, l_buffers, l_children, NULL,
                                    borrowed_array_release, NULL};
static struct ArrowArray d_array = {ROWS, 0, 0, 2, 0, d_buffers, NULL, &d_dict,
                                    borrowed_array_release, NULL};
static struct ArrowArray* u_children[2] = {&u_int_child, &u_str_child};
static struct ArrowArray u_array = {ROWS, 0, 0, 2, 2, u_buffers, u_children, NULL,
                                    borrowed_array_release, NULL};
static struct ArrowArray* st_children[1] = {&st_x_array};
static struct ArrowArray st_array = {ROWS, 0, 0, 1, 1, st_buffers, st_children, NULL,
                                     borrowed_array_release, NULL};
static struct ArrowArray* r_children[2] = {&r_end_array, &r_value_array};
static struct ArrowArray r_array = {ROWS, 0, 0, 0, 2, NULL, r_children, NULL,
                                    borrowed_array_release, NULL};
#define COLUMNS 8
static struct ArrowArray* root_children[COLUMNS] = {&i_array, &s_array, &l_array, &d_array,
                                                    &v_array, &u_array, &st_array, &r_array};
static struct ArrowArray root_array = {ROWS, 0, 0, 1, COLUMNS, root_buffers, root_children,
                                       NULL, borrowed_array_release, NULL};

#define FIELD(name, fmt, nm, flg, n, kids, dict)                                   \
  static struct ArrowSchema name = {fmt, nm, NULL, flg, n, kids, dict,             \
                                    borrowed_schema_release, NULL}
FIELD(i_schema, "i", "i", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
FIELD(s_schema, "u", "s", 0, 0, NULL, NULL);
FIELD(l_item, "i", "item", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
static struct ArrowSchema* l_kids[1] = {&l_item};
FIELD(l_schema, "+l", "l", ARROW_FLAG_NULLABLE, 1, l_kids, NULL);
FIELD(d_values, "u", "", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
FIELD(d_schema, "c", "d", ARROW_FLAG_NULLABLE, 0, NULL, &d_values);
FIELD(v_schema, "vu", "v", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
FIELD(u_int_schema, "l", "n", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
FIELD(u_str_schema, "u", "t", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
static struct ArrowSchema* u_kids[2] = {&u_int_schema, &u_str_schema};
FIELD(u_schema, "+ud:3,9", "u", 0, 2, u_kids, NULL);
FIELD(st_x_schema, "s", "x", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
static struct ArrowSchema* st_kids[1] = {&st_x_schema};
FIELD(st_schema, "+s", "st", ARROW_FLAG_NULLABLE, 1, st_kids, NULL);
FIELD(r_end_schema, "i", "run_ends", 0, 0, NULL, NULL);
FIELD(r_value_schema, "l", "values", ARROW_FLAG_NULLABLE, 0, NULL, NULL);
static struct ArrowSchema* r_kids[2] = {&r_end_schema, &r_value_schema};
FIELD(r_schema, "+r", "r", ARROW_FLAG_NULLABLE, 2, r_kids, NULL);
static struct ArrowSchema* root_kids[COLUMNS] = {&i_schema, &s_schema, &l_schema, &d_schema,
                                                 &v_schema, &u_schema, &st_schema, &r_schema};
FIELD(root_schema, "+s", "", 0, COLUMNS, root_kids, NULL);

static void make_views(void) {
  /* Rows 0, 2, 4 inline; rows 1 and 3 in the data buffer. */
  static const char* inline_values[3] = {"ab", "", "twelve bytes"};
  int inline_index = 0;
  int64_t offset = 0;
  int32_t long_lengths[2] = {26, 27};
  int long_index = 0;
  for (int row = 0; row < ROWS; row++) {
    uint8_t* view = v_views + 16 * row;
    memset(view, 0, 16);
    if (row % 2 == 0) {
      const char* text = inline_values[inline_index++];
      int32_t n = (int32_t)strlen(text);
      memcpy(view, &n, 4);
      memcpy(view + 4, text, (size_t)n);
    } else {
      int32_t n = long_lengths[long_index++], buffer = 0, at = (int32_t)offset;
      memcpy(view, &n, 4);
      memcpy(view + 4, v_long + offset, 4);
      memcpy(view + 8, &buffer, 4);
      memcpy(view + 12, &at, 4);
      offset += n;
    }
  }
}

#endif /* WUDF_TESTS_IPC_FIXTURE_H */
