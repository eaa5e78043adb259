/*
 * flatbuf.c -- the bounds-checked FlatBuffers reader and the back-to-front
 * builder of flatbuf.h (the wire format of Arrow's IPC metadata).
 *
 * Reader: a table is a signed 32-bit offset back to its vtable followed by
 * its fields; the vtable lists, per field slot, the field's offset inside
 * the table (0: absent) after two 16-bit sizes (the vtable's and the
 * table's). References (to tables, strings, vectors) are unsigned 32-bit
 * offsets from where they are stored. Every one of these is checked before
 * it is followed.
 */
#include "flatbuf.h"

#include <stdlib.h>
#include <string.h>

#include "../common/common.h"

static uint32_t wudf__le_u32(const uint8_t* p) { return (uint32_t)wudf__le_i32(p); }
static uint16_t wudf__le_u16(const uint8_t* p) { return (uint16_t)wudf__le_i16(p); }

/* Checks the table at `at` (its vtable and inline part inside the buffer)
 * and fills `out`. 0 or -1. */
static int wudf__fb_check_table(const uint8_t* data, size_t size, size_t at,
                                struct wudf__fb_table* out) {
  if (at > size || size - at < 4) return -1;
  int64_t vtable = (int64_t)at - (int64_t)wudf__le_i32(data + at);
  if (vtable < 0 || (uint64_t)vtable > size || size - (size_t)vtable < 4) return -1;
  uint16_t vtable_size = wudf__le_u16(data + vtable);
  uint16_t table_size = wudf__le_u16(data + vtable + 2);
  if (vtable_size < 4 || (vtable_size & 1) || size - (size_t)vtable < vtable_size) return -1;
  if (table_size < 4 || size - at < table_size) return -1;
  out->data = data;
  out->size = size;
  out->at = at;
  out->vtable = (size_t)vtable;
  out->vtable_size = vtable_size;
  out->table_size = table_size;
  return 0;
}

int wudf__fb_root(const uint8_t* data, size_t size, struct wudf__fb_table* out) {
  if (data == NULL || size < 8) return -1;
  return wudf__fb_check_table(data, size, wudf__le_u32(data), out);
}

/* The position of field `slot`'s `width` bytes: 1 (`*pos` set), 0 absent,
 * -1 if the field lies outside the table. */
static int wudf__fb_field(const struct wudf__fb_table* t, int slot, size_t width, size_t* pos) {
  size_t entry = 4 + 2 * (size_t)slot;
  if (slot < 0 || entry + 2 > t->vtable_size) return 0;
  uint16_t offset = wudf__le_u16(t->data + t->vtable + entry);
  if (offset == 0) return 0;
  if ((size_t)offset + width > t->table_size) return -1;
  *pos = t->at + offset;
  return 1;
}

#define WUDF__FB_SCALAR(name, type, width, load)                                     \
  int name(const struct wudf__fb_table* t, int slot, type fallback, type* out) {     \
    size_t pos;                                                                      \
    int found = wudf__fb_field(t, slot, width, &pos);                                \
    if (found < 0) return -1;                                                        \
    *out = found ? (type)load : fallback;                                            \
    return 0;                                                                        \
  }
WUDF__FB_SCALAR(wudf__fb_u8, uint8_t, 1, t->data[pos])
WUDF__FB_SCALAR(wudf__fb_i16, int16_t, 2, wudf__le_i16(t->data + pos))
WUDF__FB_SCALAR(wudf__fb_i32, int32_t, 4, wudf__le_i32(t->data + pos))
WUDF__FB_SCALAR(wudf__fb_i64, int64_t, 8, wudf__le_i64(t->data + pos))

/* Follows the reference stored in field `slot`: 1 (`*target` set), 0, -1. */
static int wudf__fb_reference(const struct wudf__fb_table* t, int slot, size_t* target) {
  size_t pos;
  int found = wudf__fb_field(t, slot, 4, &pos);
  if (found <= 0) return found;
  uint32_t offset = wudf__le_u32(t->data + pos);
  if (offset > t->size - pos) return -1;
  *target = pos + offset;
  return 1;
}

int wudf__fb_table_field(const struct wudf__fb_table* t, int slot, struct wudf__fb_table* out) {
  size_t target;
  int found = wudf__fb_reference(t, slot, &target);
  if (found <= 0) return found;
  return wudf__fb_check_table(t->data, t->size, target, out) == 0 ? 1 : -1;
}

int wudf__fb_string(const struct wudf__fb_table* t, int slot, const char** out, size_t* length) {
  size_t target;
  int found = wudf__fb_reference(t, slot, &target);
  if (found <= 0) return found;
  if (t->size - target < 4) return -1;
  uint32_t n = wudf__le_u32(t->data + target);
  if (n > t->size - target - 4) return -1;
  *out = (const char*)t->data + target + 4;
  *length = n;
  return 1;
}

int wudf__fb_vector_field(const struct wudf__fb_table* t, int slot, size_t element_size,
                          struct wudf__fb_vector* out) {
  size_t target;
  int found = wudf__fb_reference(t, slot, &target);
  if (found <= 0) return found;
  if (t->size - target < 4) return -1;
  uint32_t count = wudf__le_u32(t->data + target);
  if ((uint64_t)count * element_size > t->size - target - 4) return -1;
  out->data = t->data;
  out->size = t->size;
  out->at = target + 4;
  out->count = count;
  return 1;
}

int wudf__fb_vector_table(const struct wudf__fb_vector* v, size_t index,
                          struct wudf__fb_table* out) {
  if (index >= v->count) return -1;
  size_t pos = v->at + 4 * index;
  uint32_t offset = wudf__le_u32(v->data + pos);
  if (offset > v->size - pos) return -1;
  return wudf__fb_check_table(v->data, v->size, pos + offset, out);
}

const uint8_t* wudf__fb_vector_element(const struct wudf__fb_vector* v, size_t index,
                                       size_t element_size) {
  return v->data + v->at + index * element_size;
}

/* --------------------------------------------------------------- builder */

#define WUDF__FB_MAX_SIZE ((size_t)1 << 31)

void wudf__fb_builder_init(struct wudf__fb_builder* b) { memset(b, 0, sizeof *b); }

void wudf__fb_builder_free(struct wudf__fb_builder* b) {
  wudf__free(b->buffer);
  memset(b, 0, sizeof *b);
}

/* Makes room for `n` more bytes in front; 0 or -1 (failed set). */
static int wudf__fb_reserve(struct wudf__fb_builder* b, size_t n) {
  if (b->failed) return -1;
  if (n > WUDF__FB_MAX_SIZE - b->used) {
    b->failed = 1;
    return -1;
  }
  if (b->used + n <= b->capacity) return 0;
  size_t capacity = b->capacity ? b->capacity : 256;
  while (capacity < b->used + n) capacity *= 2;
  uint8_t* grown = wudf__malloc(capacity);
  if (grown == NULL) {
    b->failed = 1;
    return -1;
  }
  if (b->used) memcpy(grown + capacity - b->used, b->buffer + b->capacity - b->used, b->used);
  wudf__free(b->buffer);
  b->buffer = grown;
  b->capacity = capacity;
  return 0;
}

/* Prepends `n` bytes (zeros when `bytes` is NULL). */
static void wudf__fb_push(struct wudf__fb_builder* b, const void* bytes, size_t n) {
  if (wudf__fb_reserve(b, n) != 0) return;
  b->used += n;
  uint8_t* at = b->buffer + b->capacity - b->used;
  if (bytes) memcpy(at, bytes, n);
  else memset(at, 0, n);
}

/* Pads so that after `additional` more bytes the size is a multiple of
 * `align`. */
static void wudf__fb_prepare(struct wudf__fb_builder* b, size_t align, size_t additional) {
  size_t pad = (align - (b->used + additional) % align) % align;
  if (pad) wudf__fb_push(b, NULL, pad);
}

static void wudf__fb_push_u32(struct wudf__fb_builder* b, uint32_t value) {
  uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                      (uint8_t)(value >> 24)};
  wudf__fb_push(b, bytes, 4);
}

/* Prepends a reference to `ref` (aligned). */
static void wudf__fb_push_ref(struct wudf__fb_builder* b, wudf__fb_ref ref) {
  wudf__fb_prepare(b, 4, 4);
  wudf__fb_push_u32(b, (uint32_t)(b->used + 4 - ref));
}

wudf__fb_ref wudf__fb_create_string(struct wudf__fb_builder* b, const char* text, size_t length) {
  wudf__fb_prepare(b, 4, length + 1);
  wudf__fb_push(b, NULL, 1);
  wudf__fb_push(b, text, length);
  wudf__fb_push_u32(b, (uint32_t)length);
  return (wudf__fb_ref)b->used;
}

wudf__fb_ref wudf__fb_create_vector(struct wudf__fb_builder* b, const void* elements,
                                    size_t count, size_t element_size, size_t align) {
  size_t bytes;
  if (wudf__mul_overflows(count, element_size, &bytes) || bytes > WUDF__FB_MAX_SIZE) {
    b->failed = 1;
    return 0;
  }
  wudf__fb_prepare(b, 4, bytes);
  wudf__fb_prepare(b, align < 4 ? 4 : align, bytes);
  if (bytes) wudf__fb_push(b, elements, bytes);
  wudf__fb_push_u32(b, (uint32_t)count);
  return (wudf__fb_ref)b->used;
}

wudf__fb_ref wudf__fb_create_ref_vector(struct wudf__fb_builder* b, const wudf__fb_ref* refs,
                                        size_t count) {
  wudf__fb_prepare(b, 4, 4 * count);
  for (size_t i = count; i-- > 0;) wudf__fb_push_ref(b, refs[i]);
  wudf__fb_push_u32(b, (uint32_t)count);
  return (wudf__fb_ref)b->used;
}

void wudf__fb_table_start(struct wudf__fb_builder* b) {
  b->in_table = 1;
  b->field_count = 0;
}

static void wudf__fb_add(struct wudf__fb_builder* b, int slot, int size, uint64_t value) {
  if (!b->in_table || b->field_count >= WUDF__FB_MAX_FIELDS || slot < 0 || slot > 63) {
    b->failed = 1;
    return;
  }
  b->fields[b->field_count].slot = slot;
  b->fields[b->field_count].size = size;
  b->fields[b->field_count].value = value;
  b->field_count++;
}

void wudf__fb_add_scalar(struct wudf__fb_builder* b, int slot, int size, uint64_t value) {
  wudf__fb_add(b, slot, size, value);
}

void wudf__fb_add_ref(struct wudf__fb_builder* b, int slot, wudf__fb_ref ref) {
  wudf__fb_add(b, slot, 0, ref);
}

wudf__fb_ref wudf__fb_table_end(struct wudf__fb_builder* b) {
  b->in_table = 0;
  size_t start = b->used;
  size_t positions[WUDF__FB_MAX_FIELDS];
  int max_slot = -1;
  /* Widest first, so they sit nearest the end with the least padding. */
  static const int order[] = {8, 4, 0, 2, 1};
  for (int pass = 0; pass < 5; pass++) {
    for (int i = 0; i < b->field_count; i++) {
      int size = b->fields[i].size;
      if (size != order[pass]) continue;
      if (size == 0) {
        wudf__fb_push_ref(b, (wudf__fb_ref)b->fields[i].value);
      } else {
        uint8_t bytes[8];
        for (int k = 0; k < size; k++) bytes[k] = (uint8_t)(b->fields[i].value >> (8 * k));
        wudf__fb_prepare(b, (size_t)size, (size_t)size);
        wudf__fb_push(b, bytes, (size_t)size);
      }
      positions[i] = b->used;
      if (b->fields[i].slot > max_slot) max_slot = b->fields[i].slot;
    }
  }
  wudf__fb_prepare(b, 4, 4);
  wudf__fb_push(b, NULL, 4);
  size_t table = b->used;
  size_t table_size = table - start;
  size_t vtable_size = 4 + 2 * (size_t)(max_slot + 1);
  uint8_t vtable[4 + 2 * 64];
  memset(vtable, 0, sizeof vtable);
  vtable[0] = (uint8_t)vtable_size;
  vtable[1] = (uint8_t)(vtable_size >> 8);
  vtable[2] = (uint8_t)table_size;
  vtable[3] = (uint8_t)(table_size >> 8);
  for (int i = 0; i < b->field_count; i++) {
    size_t offset = table - positions[i];
    vtable[4 + 2 * b->fields[i].slot] = (uint8_t)offset;
    vtable[5 + 2 * b->fields[i].slot] = (uint8_t)(offset >> 8);
  }
  if (table_size > 0xFFFF) b->failed = 1;
  wudf__fb_push(b, vtable, vtable_size);
  if (b->failed) return 0;
  uint32_t soffset = (uint32_t)(b->used - table);
  uint8_t* at = b->buffer + b->capacity - table;
  at[0] = (uint8_t)soffset;
  at[1] = (uint8_t)(soffset >> 8);
  at[2] = (uint8_t)(soffset >> 16);
  at[3] = (uint8_t)(soffset >> 24);
  return (wudf__fb_ref)table;
}

int wudf__fb_finish(struct wudf__fb_builder* b, wudf__fb_ref root, const uint8_t** data,
                    size_t* size) {
  wudf__fb_prepare(b, 8, 4);
  wudf__fb_push_ref(b, root);
  if (b->failed) return -1;
  *data = b->buffer + b->capacity - b->used;
  *size = b->used;
  return 0;
}
