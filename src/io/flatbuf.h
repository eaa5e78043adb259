/*
 * flatbuf.h -- the small FlatBuffers reader and builder behind the Arrow IPC
 * format (io/ipc_read.c, io/ipc_write.c): only what Arrow's Schema.fbs,
 * Message.fbs and File.fbs use -- tables, scalars, strings, vectors of
 * scalars, structs and tables, and unions (a type byte plus a table).
 *
 * The reader trusts nothing: every offset, vtable, string and vector is
 * checked against the buffer before a byte of it is read, and every size is
 * computed with overflow checks, so any bytes give an error (-1), never an
 * out-of-range read. Offsets only ever lead forward or to the same place,
 * so the callers bound recursion depth and the number of tables they visit
 * (a hostile buffer can make a table its own child).
 *
 * The builder writes back to front, as FlatBuffers builders do: children
 * (strings, vectors, tables) are made before the tables that refer to them
 * and are referred to by the handle (a wudf__fb_ref) their creation
 * returned. Every scalar is aligned to its size relative to the end, and
 * the finished buffer is a multiple of 8 bytes, so it is aligned when
 * placed at an 8-byte boundary (as Arrow's encapsulated messages are).
 */
#ifndef WUDF_IO_FLATBUF_H
#define WUDF_IO_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- reader */

/* A table inside a buffer of `size` bytes at `data`. */
struct wudf__fb_table {
  const uint8_t* data;
  size_t size;
  size_t at;           /* the table's start */
  size_t vtable;       /* its vtable's start */
  uint16_t vtable_size;
  uint16_t table_size; /* bytes of the table's inline part */
};

/* A vector inside the buffer: `count` elements starting at `at`. */
struct wudf__fb_vector {
  const uint8_t* data;
  size_t size;
  size_t at;     /* first element */
  size_t count;
};

/* The root table of the buffer. 0, or -1 if the buffer cannot hold it. */
int wudf__fb_root(const uint8_t* data, size_t size, struct wudf__fb_table* out);

/* Scalars of field `slot`, or `fallback` when the field is absent. Each
 * returns -1 if the field's bytes lie outside the table. */
int wudf__fb_u8(const struct wudf__fb_table* t, int slot, uint8_t fallback, uint8_t* out);
int wudf__fb_i16(const struct wudf__fb_table* t, int slot, int16_t fallback, int16_t* out);
int wudf__fb_i32(const struct wudf__fb_table* t, int slot, int32_t fallback, int32_t* out);
int wudf__fb_i64(const struct wudf__fb_table* t, int slot, int64_t fallback, int64_t* out);

/* The table, string or vector field `slot`: 1 when present (`*out` set),
 * 0 when absent, -1 when malformed. Strings are not required to be
 * NUL-terminated (only their bytes are checked). */
int wudf__fb_table_field(const struct wudf__fb_table* t, int slot, struct wudf__fb_table* out);
int wudf__fb_string(const struct wudf__fb_table* t, int slot, const char** out, size_t* length);
int wudf__fb_vector_field(const struct wudf__fb_table* t, int slot, size_t element_size,
                          struct wudf__fb_vector* out);

/* Element `index` (< count) of a vector of tables: 0 or -1. */
int wudf__fb_vector_table(const struct wudf__fb_vector* v, size_t index,
                          struct wudf__fb_table* out);
/* The bytes of element `index` of a vector of `element_size`-byte scalars
 * or structs (checked when the vector was read). */
const uint8_t* wudf__fb_vector_element(const struct wudf__fb_vector* v, size_t index,
                                       size_t element_size);

/* Little-endian loads. */
static inline int16_t wudf__le_i16(const uint8_t* p) {
  return (int16_t)(uint16_t)(p[0] | (uint16_t)p[1] << 8);
}
static inline int32_t wudf__le_i32(const uint8_t* p) {
  return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24);
}
static inline int64_t wudf__le_i64(const uint8_t* p) {
  return (int64_t)((uint64_t)(uint32_t)wudf__le_i32(p) |
                   (uint64_t)(uint32_t)wudf__le_i32(p + 4) << 32);
}

/* --------------------------------------------------------------- builder */

/* A handle of something built: its distance from the end of the buffer. */
typedef uint32_t wudf__fb_ref;

#define WUDF__FB_MAX_FIELDS 16

struct wudf__fb_builder {
  uint8_t* buffer;   /* bytes live at buffer[capacity - used, capacity) */
  size_t capacity;
  size_t used;
  int failed;        /* an allocation failed or the buffer passed 2 GiB */
  /* The table being built. */
  int in_table;
  int field_count;
  struct {
    int slot;
    int size;        /* 1, 2, 4, 8; 0 for a reference */
    uint64_t value;
  } fields[WUDF__FB_MAX_FIELDS];
};

/* Starts an empty builder (no allocation yet). */
void wudf__fb_builder_init(struct wudf__fb_builder* b);
/* Frees the builder's buffer. */
void wudf__fb_builder_free(struct wudf__fb_builder* b);

wudf__fb_ref wudf__fb_create_string(struct wudf__fb_builder* b, const char* text, size_t length);
/* A vector of `count` elements of `element_size` bytes (little-endian
 * scalars or structs already laid out), aligned to `align`. */
wudf__fb_ref wudf__fb_create_vector(struct wudf__fb_builder* b, const void* elements,
                                    size_t count, size_t element_size, size_t align);
/* A vector of references to tables or strings. */
wudf__fb_ref wudf__fb_create_ref_vector(struct wudf__fb_builder* b, const wudf__fb_ref* refs,
                                        size_t count);

/* Tables: start, add fields (at most WUDF__FB_MAX_FIELDS, any order), end. */
void wudf__fb_table_start(struct wudf__fb_builder* b);
void wudf__fb_add_scalar(struct wudf__fb_builder* b, int slot, int size, uint64_t value);
void wudf__fb_add_ref(struct wudf__fb_builder* b, int slot, wudf__fb_ref ref);
wudf__fb_ref wudf__fb_table_end(struct wudf__fb_builder* b);

/* Finishes the buffer with `root` as its root table. On success `*data`
 * (inside the builder, valid until it is freed) and `*size` (a multiple of
 * 8) are set and 0 returned; -1 if anything failed. */
int wudf__fb_finish(struct wudf__fb_builder* b, wudf__fb_ref root, const uint8_t** data,
                    size_t* size);

#endif /* WUDF_IO_FLATBUF_H */
