/*
 * marshal.c -- writes the arguments of one guest call into its input block
 * (see marshal.h). Layout: the 16-byte header, the argument struct and its
 * schema, then per argument its ArrowArray, ArrowSchema, buffer pointers,
 * names and formats, then every buffer, 64-byte aligned.
 *
 * A range of rows keeps the sub-byte part of its offset (0-7), so bitmaps are
 * copied byte for byte; string offsets are rebased to start at zero, so only
 * the bytes of the rows in the call are copied. A selection is gathered.
 */
#include "marshal.h"

#include <string.h>

#include "../arrow/bits.h"
#include "../udf/signature.h"

/* A cursor over the block being laid out; in a dry run nothing is written. */
struct wudf__writer {
  const struct wudf__guest_memory* memory;
  uint32_t block;
  uint64_t cursor;
  int dry;
};

/* Reserves `size` bytes aligned to `align` and returns their block-relative
 * offset. */
static uint64_t wudf__take(struct wudf__writer* w, uint64_t size, uint64_t align) {
  w->cursor = (w->cursor + align - 1) & ~(align - 1);
  uint64_t at = w->cursor;
  w->cursor += size;
  return at;
}

static uint8_t* wudf__at(struct wudf__writer* w, uint64_t relative) {
  return w->memory->base + w->block + relative;
}

static uint32_t wudf__guest(struct wudf__writer* w, uint64_t relative) {
  return w->block + (uint32_t)relative;
}

static void wudf__put_u32(struct wudf__writer* w, uint64_t relative, uint32_t value) {
  if (!w->dry) memcpy(wudf__at(w, relative), &value, sizeof(value));
}

static void wudf__put_i64(struct wudf__writer* w, uint64_t relative, int64_t value) {
  if (!w->dry) memcpy(wudf__at(w, relative), &value, sizeof(value));
}

/* Writes a NUL-terminated string and returns its guest offset. */
static uint32_t wudf__put_string(struct wudf__writer* w, const char* text) {
  size_t size = strlen(text) + 1;
  uint64_t at = wudf__take(w, size, 1);
  if (!w->dry) memcpy(wudf__at(w, at), text, size);
  return wudf__guest(w, at);
}

/* The buffers of one argument: fills buffer_offsets[0..2] (guest offsets,
 * 0 for none) and returns the array's offset and null count. */
static void wudf__write_buffers(struct wudf__writer* w, const struct wudf__marshal_arg* arg,
                                const struct wudf__marshal_rows* rows,
                                uint32_t buffer_offsets[3], int64_t* offset,
                                int64_t* null_count) {
  const struct ArrowArray* a = arg->array;
  const uint8_t* validity = a->buffers[0];
  const uint8_t* values = a->buffers[1];
  unsigned bit_width = wudf__type_bit_width(arg->type);
  int large = 0;
  int variable = wudf__type_is_variable(arg->type, &large);
  unsigned offset_width = large ? 8 : 4;
  buffer_offsets[0] = buffer_offsets[1] = buffer_offsets[2] = 0;
  int64_t count = rows->count;
  int64_t first = a->offset + rows->start; /* absolute index of row 0 */

  if (rows->selection != NULL) {
    /* Gather: the selected rows are valid in every argument. */
    *offset = 0;
    *null_count = 0;
    const int64_t* selection = rows->selection;
    if (variable) {
      const uint8_t* data = a->buffers[2];
      uint64_t total = 0;
      for (int64_t i = 0; i < count; i++) {
        int64_t row = first + selection[i];
        total += (uint64_t)(wudf__offset_get(values, large, row + 1) -
                            wudf__offset_get(values, large, row));
      }
      uint64_t offsets_at = wudf__take(w, (uint64_t)(count + 1) * offset_width, WUDF__BLOCK_ALIGN);
      uint64_t data_at = wudf__take(w, total, WUDF__BLOCK_ALIGN);
      buffer_offsets[1] = wudf__guest(w, offsets_at);
      buffer_offsets[2] = wudf__guest(w, data_at);
      if (w->dry) return;
      uint8_t* out_offsets = wudf__at(w, offsets_at);
      uint8_t* out_data = wudf__at(w, data_at);
      int64_t position = 0;
      wudf__offset_set(out_offsets, large, 0, 0);
      for (int64_t i = 0; i < count; i++) {
        int64_t row = first + selection[i];
        int64_t start = wudf__offset_get(values, large, row);
        int64_t size = wudf__offset_get(values, large, row + 1) - start;
        memcpy(out_data + position, data + start, (size_t)size);
        position += size;
        wudf__offset_set(out_offsets, large, i + 1, position);
      }
    } else if (bit_width == 1) {
      uint64_t at = wudf__take(w, (uint64_t)(count + 7) / 8, WUDF__BLOCK_ALIGN);
      buffer_offsets[1] = wudf__guest(w, at);
      if (w->dry) return;
      uint8_t* out = wudf__at(w, at);
      memset(out, 0, (size_t)(count + 7) / 8);
      for (int64_t i = 0; i < count; i++) {
        if (wudf__bit_get(values, first + selection[i])) wudf__bit_set(out, i, 1);
      }
    } else {
      size_t width = bit_width / 8;
      uint64_t at = wudf__take(w, (uint64_t)count * width, WUDF__BLOCK_ALIGN);
      buffer_offsets[1] = wudf__guest(w, at);
      if (w->dry) return;
      uint8_t* out = wudf__at(w, at);
      for (int64_t i = 0; i < count; i++) {
        memcpy(out + (size_t)i * width, values + (size_t)(first + selection[i]) * width, width);
      }
    }
    return;
  }

  /* A range: keep the offset's sub-byte part so bitmaps copy byte-wise. */
  int64_t shift = first & 7;
  int64_t base = first - shift;
  int64_t n = shift + count;
  *offset = shift;
  int64_t nulls = 0;
  if (validity != NULL && a->null_count != 0 && count > 0) {
    nulls = count - wudf__bits_count(validity, first, count);
  }
  *null_count = nulls;
  if (nulls > 0) {
    uint64_t at = wudf__take(w, (uint64_t)(n + 7) / 8, WUDF__BLOCK_ALIGN);
    buffer_offsets[0] = wudf__guest(w, at);
    if (!w->dry) memcpy(wudf__at(w, at), validity + base / 8, (size_t)(n + 7) / 8);
  }
  if (variable) {
    const uint8_t* data = a->buffers[2];
    int64_t data_start = wudf__offset_get(values, large, base);
    int64_t data_end = wudf__offset_get(values, large, base + n);
    uint64_t offsets_at = wudf__take(w, (uint64_t)(n + 1) * offset_width, WUDF__BLOCK_ALIGN);
    uint64_t data_at = wudf__take(w, (uint64_t)(data_end - data_start), WUDF__BLOCK_ALIGN);
    buffer_offsets[1] = wudf__guest(w, offsets_at);
    buffer_offsets[2] = wudf__guest(w, data_at);
    if (w->dry) return;
    uint8_t* out_offsets = wudf__at(w, offsets_at);
    for (int64_t i = 0; i <= n; i++) {
      wudf__offset_set(out_offsets, large, i,
                         wudf__offset_get(values, large, base + i) - data_start);
    }
    if (data_end > data_start) {
      memcpy(wudf__at(w, data_at), data + data_start, (size_t)(data_end - data_start));
    }
  } else if (bit_width == 1) {
    uint64_t at = wudf__take(w, (uint64_t)(n + 7) / 8, WUDF__BLOCK_ALIGN);
    buffer_offsets[1] = wudf__guest(w, at);
    if (!w->dry) memcpy(wudf__at(w, at), values + base / 8, (size_t)(n + 7) / 8);
  } else {
    size_t width = bit_width / 8;
    uint64_t at = wudf__take(w, (uint64_t)n * width, WUDF__BLOCK_ALIGN);
    buffer_offsets[1] = wudf__guest(w, at);
    if (!w->dry) memcpy(wudf__at(w, at), values + (size_t)base * width, (size_t)n * width);
  }
}

/* Writes `value` in decimal, NUL-terminated, at `out` (11 bytes at most);
 * snprintf costs more than the rest of a small call's layout. */
static void wudf__decimal(uint32_t value, char* out) {
  char digits[10];
  int count = 0;
  do {
    digits[count++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0) *out++ = digits[--count];
  *out = '\0';
}

/* Lays out (dry) or writes the whole block; returns its size. */
static uint64_t wudf__layout(struct wudf__writer* w, const struct wudf__marshal_arg* args,
                             uint32_t arg_count, const struct wudf__marshal_rows* rows,
                             uint32_t array_release, uint32_t schema_release,
                             struct wudf__marshal_result* out) {
  uint32_t structs = 2 + 2 * arg_count;
  uint64_t header = wudf__take(w, WUDF__BLOCK_HEADER_SIZE, WUDF__BLOCK_ALIGN);
  wudf__put_u32(w, header + WUDF__BLOCK_LIVE, structs + 1);
  wudf__put_u32(w, header + WUDF__BLOCK_MAGIC_OFFSET, WUDF__BLOCK_MAGIC);
  wudf__put_u32(w, header + 8, 0);
  wudf__put_u32(w, header + 12, 0);

  uint64_t top = wudf__take(w, WUDF__ARRAY_SIZE, 8);
  uint64_t top_schema = wudf__take(w, WUDF__SCHEMA_SIZE, 8);
  uint64_t top_buffers = wudf__take(w, 4, 4);
  uint64_t array_children = wudf__take(w, 4 * (uint64_t)arg_count, 4);
  uint64_t schema_children = wudf__take(w, 4 * (uint64_t)arg_count, 4);
  uint32_t struct_format = wudf__put_string(w, "+s");
  uint32_t empty_name = wudf__put_string(w, "");

  /* The struct of arguments. */
  wudf__put_i64(w, top + WUDF__ARRAY_LENGTH, rows->count);
  wudf__put_i64(w, top + WUDF__ARRAY_NULL_COUNT, 0);
  wudf__put_i64(w, top + WUDF__ARRAY_OFFSET, 0);
  wudf__put_i64(w, top + WUDF__ARRAY_N_BUFFERS, 1);
  wudf__put_i64(w, top + WUDF__ARRAY_N_CHILDREN, arg_count);
  wudf__put_u32(w, top + WUDF__ARRAY_BUFFERS, wudf__guest(w, top_buffers));
  wudf__put_u32(w, top + WUDF__ARRAY_CHILDREN, wudf__guest(w, array_children));
  wudf__put_u32(w, top + WUDF__ARRAY_DICTIONARY, 0);
  wudf__put_u32(w, top + WUDF__ARRAY_RELEASE, array_release);
  wudf__put_u32(w, top + WUDF__ARRAY_PRIVATE_DATA, w->block);
  wudf__put_u32(w, top + WUDF__ARRAY_PRIVATE_DATA + 4, 0);
  wudf__put_u32(w, top_buffers, 0);

  wudf__put_u32(w, top_schema + WUDF__SCHEMA_FORMAT, struct_format);
  wudf__put_u32(w, top_schema + WUDF__SCHEMA_NAME, empty_name);
  wudf__put_u32(w, top_schema + WUDF__SCHEMA_METADATA, 0);
  wudf__put_u32(w, top_schema + 12, 0);
  wudf__put_i64(w, top_schema + WUDF__SCHEMA_FLAGS, 0);
  wudf__put_i64(w, top_schema + WUDF__SCHEMA_N_CHILDREN, arg_count);
  wudf__put_u32(w, top_schema + WUDF__SCHEMA_CHILDREN, wudf__guest(w, schema_children));
  wudf__put_u32(w, top_schema + WUDF__SCHEMA_DICTIONARY, 0);
  wudf__put_u32(w, top_schema + WUDF__SCHEMA_RELEASE, schema_release);
  wudf__put_u32(w, top_schema + WUDF__SCHEMA_PRIVATE_DATA, w->block);

  for (uint32_t i = 0; i < arg_count; i++) {
    uint64_t array = wudf__take(w, WUDF__ARRAY_SIZE, 8);
    uint64_t schema = wudf__take(w, WUDF__SCHEMA_SIZE, 8);
    uint64_t buffers = wudf__take(w, 3 * 4, 4);
    char name[16] = "arg";
    wudf__decimal(i, name + 3);
    uint32_t name_at = wudf__put_string(w, name);
    uint32_t format_at = wudf__put_string(w, wudf__type_format(args[i].type));
    uint32_t buffer_offsets[3];
    int64_t offset = 0, null_count = 0;
    wudf__write_buffers(w, &args[i], rows, buffer_offsets, &offset, &null_count);
    int64_t n_buffers = wudf__type_is_variable(args[i].type, NULL) ? 3 : 2;

    wudf__put_u32(w, array_children + 4 * (uint64_t)i, wudf__guest(w, array));
    wudf__put_u32(w, schema_children + 4 * (uint64_t)i, wudf__guest(w, schema));
    for (int b = 0; b < 3; b++) wudf__put_u32(w, buffers + 4 * (uint64_t)b, buffer_offsets[b]);

    wudf__put_i64(w, array + WUDF__ARRAY_LENGTH, rows->count);
    wudf__put_i64(w, array + WUDF__ARRAY_NULL_COUNT, null_count);
    wudf__put_i64(w, array + WUDF__ARRAY_OFFSET, offset);
    wudf__put_i64(w, array + WUDF__ARRAY_N_BUFFERS, n_buffers);
    wudf__put_i64(w, array + WUDF__ARRAY_N_CHILDREN, 0);
    wudf__put_u32(w, array + WUDF__ARRAY_BUFFERS, wudf__guest(w, buffers));
    wudf__put_u32(w, array + WUDF__ARRAY_CHILDREN, 0);
    wudf__put_u32(w, array + WUDF__ARRAY_DICTIONARY, 0);
    wudf__put_u32(w, array + WUDF__ARRAY_RELEASE, array_release);
    wudf__put_u32(w, array + WUDF__ARRAY_PRIVATE_DATA, w->block);
    wudf__put_u32(w, array + WUDF__ARRAY_PRIVATE_DATA + 4, 0);

    wudf__put_u32(w, schema + WUDF__SCHEMA_FORMAT, format_at);
    wudf__put_u32(w, schema + WUDF__SCHEMA_NAME, name_at);
    wudf__put_u32(w, schema + WUDF__SCHEMA_METADATA, 0);
    wudf__put_u32(w, schema + 12, 0);
    wudf__put_i64(w, schema + WUDF__SCHEMA_FLAGS, ARROW_FLAG_NULLABLE);
    wudf__put_i64(w, schema + WUDF__SCHEMA_N_CHILDREN, 0);
    wudf__put_u32(w, schema + WUDF__SCHEMA_CHILDREN, 0);
    wudf__put_u32(w, schema + WUDF__SCHEMA_DICTIONARY, 0);
    wudf__put_u32(w, schema + WUDF__SCHEMA_RELEASE, schema_release);
    wudf__put_u32(w, schema + WUDF__SCHEMA_PRIVATE_DATA, w->block);
  }
  if (out != NULL) {
    out->args = wudf__guest(w, top);
    out->args_schema = wudf__guest(w, top_schema);
    out->struct_count = structs;
  }
  return w->cursor;
}

int64_t wudf__marshal_size(const struct wudf__marshal_arg* args, uint32_t arg_count,
                           const struct wudf__marshal_rows* rows) {
  struct wudf__writer w = {NULL, 0, 0, 1};
  uint64_t size = wudf__layout(&w, args, arg_count, rows, 0, 0, NULL);
  return size > (uint64_t)INT32_MAX ? -1 : (int64_t)size;
}

void wudf__marshal_write(const struct wudf__guest_memory* memory, uint32_t block,
                         const struct wudf__marshal_arg* args, uint32_t arg_count,
                         const struct wudf__marshal_rows* rows, uint32_t array_release,
                         uint32_t schema_release, struct wudf__marshal_result* out) {
  struct wudf__writer w = {memory, block, 0, 0};
  wudf__layout(&w, args, arg_count, rows, array_release, schema_release, out);
}
