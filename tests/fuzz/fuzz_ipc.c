/*
 * fuzz_ipc.c -- a libFuzzer target for the Arrow IPC reader (src/io).
 *
 * An input is any bytes, read as an IPC stream or file from memory (copied
 * into a heap block of exactly their size, so AddressSanitizer reports any
 * read past them). Every batch the reader accepts is then walked the way a
 * consumer would -- every byte of every buffer its layout says exists is
 * read (validity and values, offsets and the data they reach, views and
 * the bytes they point at, type ids, dense offsets into their child, run
 * ends, dictionaries) -- and the promises of the reader are checked again
 * independently (offsets monotone and inside their data, union ids
 * declared, dictionary indices inside their dictionary); a broken promise
 * aborts. A rejection must come with a message naming the input. Limits
 * are lowered (64 MiB per message and of decompressed bytes) so the
 * fuzzer's memory limit is not the first thing it finds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/format.h"
#include "wasmudf/wasmudf.h"

#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "fuzz_ipc: broken promise: %s (line %d)\n", #cond, __LINE__); \
      abort();                                                                  \
    }                                                                           \
  } while (0)

static volatile uint64_t sink;

static void touch(const void* data, int64_t size) {
  const uint8_t* bytes = data;
  uint64_t sum = 0;
  for (int64_t i = 0; i < size; i++) sum += bytes[i];
  sink += sum;
}

static int64_t offset_at(const void* offsets, int large, int64_t i) {
  if (large) {
    int64_t v;
    memcpy(&v, (const uint8_t*)offsets + 8 * i, 8);
    return v;
  }
  int32_t v;
  memcpy(&v, (const uint8_t*)offsets + 4 * i, 4);
  return v;
}

static int is_valid(const struct ArrowArray* a, int64_t i) {
  const uint8_t* bits = a->buffers[0];
  int64_t at = a->offset + i;
  return bits == NULL || ((bits[at / 8] >> (at % 8)) & 1);
}

static void walk(const struct ArrowArray* a, const struct ArrowSchema* s, int depth) {
  struct wudf__format f;
  FUZZ_CHECK(depth < 200);
  FUZZ_CHECK(wudf__format_parse(s->format, &f) == 0);
  FUZZ_CHECK(a->length >= 0 && a->offset >= 0);
  int64_t n = a->offset + a->length;
  if (wudf__layout_has_validity(f.layout) && a->n_buffers > 0 && a->buffers[0]) {
    touch(a->buffers[0], (n + 7) / 8);
  }
  int large = f.layout == WUDF__LAYOUT_LARGE_BINARY || f.layout == WUDF__LAYOUT_LARGE_LIST ||
              f.layout == WUDF__LAYOUT_LARGE_LIST_VIEW;
  switch (f.layout) {
    case WUDF__LAYOUT_BOOL: touch(a->buffers[1], (n + 7) / 8); break;
    case WUDF__LAYOUT_FIXED: touch(a->buffers[1], n * f.byte_width); break;
    case WUDF__LAYOUT_BINARY:
    case WUDF__LAYOUT_LARGE_BINARY:
      if (a->length > 0) {
        int64_t first = offset_at(a->buffers[1], large, a->offset);
        int64_t last = offset_at(a->buffers[1], large, n);
        FUZZ_CHECK(first >= 0 && last >= first);
        touch((const uint8_t*)a->buffers[2] + first, last - first);
      }
      break;
    case WUDF__LAYOUT_VIEW: {
      int64_t data_buffers = a->n_buffers - 3;
      const int64_t* sizes = a->buffers[a->n_buffers - 1];
      for (int64_t i = a->offset; i < n; i++) {
        const uint8_t* view = (const uint8_t*)a->buffers[1] + 16 * i;
        int32_t length, index, offset;
        memcpy(&length, view, 4);
        FUZZ_CHECK(length >= 0);
        if (length <= 12) continue;
        memcpy(&index, view + 8, 4);
        memcpy(&offset, view + 12, 4);
        FUZZ_CHECK(index >= 0 && index < data_buffers && offset >= 0 &&
                   offset + (int64_t)length <= sizes[index]);
        touch((const uint8_t*)a->buffers[2 + index] + offset, length);
      }
      break;
    }
    case WUDF__LAYOUT_LIST:
    case WUDF__LAYOUT_LARGE_LIST:
    case WUDF__LAYOUT_MAP:
      if (a->length > 0) {
        for (int64_t i = a->offset; i < n; i++) {
          FUZZ_CHECK(offset_at(a->buffers[1], large, i) <=
                     offset_at(a->buffers[1], large, i + 1));
        }
        FUZZ_CHECK(offset_at(a->buffers[1], large, n) <= a->children[0]->length);
      }
      break;
    case WUDF__LAYOUT_LIST_VIEW:
    case WUDF__LAYOUT_LARGE_LIST_VIEW:
      for (int64_t i = 0; i < a->length; i++) {
        if (!is_valid(a, i)) continue;
        int64_t start = offset_at(a->buffers[1], large, a->offset + i);
        int64_t size = offset_at(a->buffers[2], large, a->offset + i);
        FUZZ_CHECK(start >= 0 && size >= 0 && start + size <= a->children[0]->length);
      }
      break;
    case WUDF__LAYOUT_SPARSE_UNION:
    case WUDF__LAYOUT_DENSE_UNION: {
      int8_t child_of[128];
      memset(child_of, -1, sizeof child_of);
      for (int k = 0; k < f.type_id_count; k++) child_of[f.type_ids[k]] = (int8_t)k;
      for (int64_t i = a->offset; i < n; i++) {
        int8_t id = ((const int8_t*)a->buffers[0])[i];
        FUZZ_CHECK(id >= 0 && child_of[id] >= 0);
        if (f.layout == WUDF__LAYOUT_DENSE_UNION) {
          int32_t at;
          memcpy(&at, (const uint8_t*)a->buffers[1] + 4 * i, 4);
          FUZZ_CHECK(at >= 0 && at < a->children[child_of[id]]->length);
        }
      }
      break;
    }
    default: break;
  }
  for (int64_t i = 0; i < a->n_children; i++) walk(a->children[i], s->children[i], depth + 1);
  if (a->dictionary) {
    FUZZ_CHECK(s->dictionary != NULL);
    const uint8_t* indices = a->buffers[1];
    for (int64_t i = 0; i < a->length; i++) {
      if (!is_valid(a, i)) continue;
      int64_t index = 0;
      int64_t at = a->offset + i;
      switch (f.byte_width) {
        case 1: index = f.integer == 1 ? (int8_t)indices[at] : indices[at]; break;
        case 2: { int16_t v; memcpy(&v, indices + 2 * at, 2); index = f.integer == 1 ? v : (uint16_t)v; break; }
        case 4: { int32_t v; memcpy(&v, indices + 4 * at, 4); index = f.integer == 1 ? v : (uint32_t)v; break; }
        default: memcpy(&index, indices + 8 * at, 8);
      }
      FUZZ_CHECK(index >= 0 && index < a->dictionary->length);
    }
    walk(a->dictionary, s->dictionary, depth + 1);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t* copy = malloc(size ? size : 1);
  if (size) memcpy(copy, data, size);
  struct wudf_ipc_read_options options;
  wudf_ipc_read_options_init(&options);
  options.max_message_bytes = 64 << 20;
  options.max_decompressed_bytes = 64 << 20;
  struct ArrowArrayStream stream;
  struct wudf_error error;
  int status = wudf_ipc_read_memory(copy, size, &options, &stream, &error);
  if (status != 0) {
    FUZZ_CHECK(status == ENOMEM || strstr(error.message, "<memory>") != NULL);
    free(copy);
    return 0;
  }
  struct ArrowSchema schema;
  FUZZ_CHECK(stream.get_schema(&stream, &schema) == 0);
  for (int batches = 0; batches < 10000; batches++) {
    struct ArrowArray batch;
    status = stream.get_next(&stream, &batch);
    if (status != 0) {
      const char* message = stream.get_last_error(&stream);
      FUZZ_CHECK(status == ENOMEM || (message && strstr(message, "<memory>") != NULL));
      break;
    }
    if (batch.release == NULL) break;
    walk(&batch, &schema, 0);
    batch.release(&batch);
  }
  schema.release(&schema);
  stream.release(&stream);
  free(copy);
  return 0;
}
