/*
 * wasm_prepare.c -- the bytes wasm2c is given: a validated module rewritten
 * so that wasm2c's time stays about linear in its size, and so that the C
 * name of every defined function is known to the glue (docs/engine.md,
 * "Tiers", "What wasm2c is given").
 *
 * Two rewrites, both leaving the module's behaviour unchanged:
 *
 *   - Active data segments are merged. wasm2c 1.0.32 copies its set of
 *     global C names (one per function, data segment, ...) for every
 *     function it writes, so its time grows as functions x names: a Go
 *     module (1,314 functions, 22,426 data segments) spends 1.7 s there and
 *     0.4 s with its segments merged. Segments of memory 0 with constant
 *     offsets that do not overlap are sorted by offset and joined when the
 *     gap between them is at most WUDF__DATA_MERGE_GAP bytes, the gap filled
 *     with zeros (memory starts zeroed, so the result is the same). Only
 *     modules without a data count section are merged: without one no
 *     instruction names a segment (memory.init, data.drop), so segment
 *     indices may change. A module whose segments overlap, or that has
 *     passive segments, keeps its data section as it is.
 *
 *   - Custom sections are dropped and a name section is appended that
 *     names defined function i "wudf_f<i>", so wasm2c calls it
 *     w2c_wudf_f<i> and the glue can list every function's address by
 *     index (the map a live instance's funcref tables are moved with at the
 *     tier switch). The engine reads no names from wasm2c's output; traps
 *     are reported by kind and export.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* Largest gap, in bytes, filled with zeros to join two data segments. */
#define WUDF__DATA_MERGE_GAP 256u

struct wudf__bytes {
  uint8_t* data;
  size_t size;
  size_t capacity;
  int failed;
};

static void wudf__bytes_put(struct wudf__bytes* out, const void* data, size_t size) {
  if (out->failed) return;
  if (out->capacity - out->size < size) {
    size_t capacity = out->capacity ? out->capacity : 4096;
    while (capacity - out->size < size) capacity *= 2;
    uint8_t* grown = wudf__realloc(out->data, capacity);
    if (grown == NULL) {
      out->failed = 1;
      return;
    }
    out->data = grown;
    out->capacity = capacity;
  }
  if (size != 0) memcpy(out->data + out->size, data, size);
  out->size += size;
}

static void wudf__bytes_zeros(struct wudf__bytes* out, size_t count) {
  static const uint8_t zeros[64];
  while (count > 0) {
    size_t chunk = count < sizeof(zeros) ? count : sizeof(zeros);
    wudf__bytes_put(out, zeros, chunk);
    count -= chunk;
  }
}

static void wudf__bytes_leb(struct wudf__bytes* out, uint64_t value) {
  uint8_t encoded[10];
  size_t used = 0;
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    encoded[used++] = value ? (uint8_t)(byte | 0x80) : byte;
  } while (value);
  wudf__bytes_put(out, encoded, used);
}

static void wudf__bytes_sleb(struct wudf__bytes* out, int64_t value) {
  uint8_t encoded[10];
  size_t used = 0;
  for (;;) {
    uint8_t byte = value & 0x7f;
    value >>= 7; /* arithmetic on the compilers the engine supports */
    int done = (value == 0 && !(byte & 0x40)) || (value == -1 && (byte & 0x40));
    encoded[used++] = done ? byte : (uint8_t)(byte | 0x80);
    if (done) break;
  }
  wudf__bytes_put(out, encoded, used);
}

/* Reads an unsigned LEB128 at *at (the module is validated: well formed). */
static uint64_t wudf__read_leb(const uint8_t* bytes, size_t* at) {
  uint64_t value = 0;
  unsigned shift = 0;
  uint8_t byte;
  do {
    byte = bytes[(*at)++];
    if (shift < 64) value |= (uint64_t)(byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return value;
}

static int64_t wudf__read_sleb(const uint8_t* bytes, size_t* at) {
  int64_t value = 0;
  unsigned shift = 0;
  uint8_t byte;
  do {
    byte = bytes[(*at)++];
    if (shift < 64) value |= (int64_t)((uint64_t)(byte & 0x7f) << shift);
    shift += 7;
  } while (byte & 0x80);
  if (shift < 64 && (byte & 0x40)) value |= (int64_t)(~(uint64_t)0 << shift);
  return value;
}

struct wudf__segment {
  uint32_t offset;
  uint32_t index;  /* position in the section: the tie-break of the sort */
  const uint8_t* data;
  size_t size;
};

static int wudf__segment_order(const void* left, const void* right) {
  const struct wudf__segment* a = left;
  const struct wudf__segment* b = right;
  if (a->offset != b->offset) return a->offset < b->offset ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* Writes the merged form of data section `body` (`size` bytes) to `out` and
 * returns 1, or returns 0 (nothing written) when the section must stay as it
 * is; -1 when out of memory. */
static int wudf__merge_data(const uint8_t* body, size_t size, struct wudf__bytes* out,
                            uint32_t* merged_count) {
  size_t at = 0;
  uint64_t count = wudf__read_leb(body, &at);
  if (count < 2) return 0;
  struct wudf__segment* segments = wudf__calloc((size_t)count, sizeof(*segments));
  if (segments == NULL) return -1;
  int mergeable = 1;
  for (uint64_t i = 0; i < count && mergeable; i++) {
    uint64_t flags = wudf__read_leb(body, &at);
    if (flags == 2) {
      if (wudf__read_leb(body, &at) != 0) mergeable = 0; /* memory index */
    } else if (flags != 0) {
      mergeable = 0; /* passive */
    }
    /* The offset: exactly `i32.const N end`. */
    if (!mergeable || at + 1 >= size || body[at] != 0x41) {
      mergeable = 0;
      break;
    }
    at++;
    int64_t offset = wudf__read_sleb(body, &at);
    if (at >= size || body[at] != 0x0b) {
      mergeable = 0;
      break;
    }
    at++;
    uint64_t length = wudf__read_leb(body, &at);
    segments[i].offset = (uint32_t)offset;
    segments[i].index = (uint32_t)i;
    segments[i].data = body + at;
    segments[i].size = (size_t)length;
    at += (size_t)length;
  }
  if (!mergeable) {
    wudf__free(segments);
    return 0;
  }
  qsort(segments, (size_t)count, sizeof(*segments), wudf__segment_order);
  /* Overlapping segments: the later one wins, so the order matters. */
  for (uint64_t i = 1; i < count; i++) {
    if ((uint64_t)segments[i].offset <
        (uint64_t)segments[i - 1].offset + segments[i - 1].size) {
      wudf__free(segments);
      return 0;
    }
  }
  /* Count the runs, then write them. */
  uint32_t runs = 1;
  for (uint64_t i = 1; i < count; i++) {
    uint64_t end = (uint64_t)segments[i - 1].offset + segments[i - 1].size;
    if (segments[i].offset - end > WUDF__DATA_MERGE_GAP) runs++;
  }
  wudf__bytes_leb(out, runs);
  for (uint64_t start = 0; start < count;) {
    uint64_t stop = start + 1;
    uint64_t end = (uint64_t)segments[start].offset + segments[start].size;
    while (stop < count && segments[stop].offset - end <= WUDF__DATA_MERGE_GAP) {
      end = (uint64_t)segments[stop].offset + segments[stop].size;
      stop++;
    }
    uint8_t header[] = {0x00, 0x41};
    wudf__bytes_put(out, header, sizeof(header));
    wudf__bytes_sleb(out, (int32_t)segments[start].offset);
    uint8_t end_byte = 0x0b;
    wudf__bytes_put(out, &end_byte, 1);
    wudf__bytes_leb(out, end - segments[start].offset);
    for (uint64_t i = start; i < stop; i++) {
      if (i > start) {
        wudf__bytes_zeros(out, segments[i].offset -
                                   ((uint64_t)segments[i - 1].offset + segments[i - 1].size));
      }
      wudf__bytes_put(out, segments[i].data, segments[i].size);
    }
    start = stop;
  }
  wudf__free(segments);
  *merged_count = runs;
  return out->failed ? -1 : 1;
}

/* Appends the name section that names defined function i "wudf_f<i>". */
static void wudf__append_names(struct wudf__bytes* out, const struct wudf__wasm_info* info) {
  struct wudf__bytes names = {0};
  uint32_t defined = info->function_count - info->imported_function_count;
  wudf__bytes_leb(&names, defined);
  for (uint32_t i = info->imported_function_count; i < info->function_count; i++) {
    char name[32];
    int length = snprintf(name, sizeof(name), "wudf_f%u", i);
    wudf__bytes_leb(&names, i);
    wudf__bytes_leb(&names, (uint64_t)length);
    wudf__bytes_put(&names, name, (size_t)length);
  }
  if (names.failed) {
    out->failed = 1;
    wudf__free(names.data);
    return;
  }
  struct wudf__bytes payload = {0};
  static const uint8_t section_name[] = {4, 'n', 'a', 'm', 'e', 1 /* function names */};
  wudf__bytes_put(&payload, section_name, sizeof(section_name));
  wudf__bytes_leb(&payload, names.size);
  wudf__bytes_put(&payload, names.data, names.size);
  wudf__free(names.data);
  uint8_t custom = 0;
  wudf__bytes_put(out, &custom, 1);
  wudf__bytes_leb(out, payload.size);
  wudf__bytes_put(out, payload.data, payload.size);
  if (payload.failed) out->failed = 1;
  wudf__free(payload.data);
}

int wudf__wasm_prepare(const uint8_t* bytes, size_t size, const struct wudf__wasm_info* info,
                       uint8_t** prepared, size_t* prepared_size) {
  struct wudf__bytes out = {0};
  wudf__bytes_put(&out, bytes, 8); /* magic and version */
  int has_data_count = 0;
  size_t at = 8;
  while (at < size) {
    uint8_t id = bytes[at++];
    size_t section_size = (size_t)wudf__read_leb(bytes, &at);
    const uint8_t* body = bytes + at;
    at += section_size;
    if (id == 0) continue; /* custom: names are replaced, the rest unused */
    if (id == 12) has_data_count = 1;
    if (id == 11 && !has_data_count) {
      struct wudf__bytes merged = {0};
      uint32_t runs = 0;
      int status = wudf__merge_data(body, section_size, &merged, &runs);
      if (status < 0) {
        wudf__free(merged.data);
        wudf__free(out.data);
        return ENOMEM;
      }
      if (status > 0) {
        wudf__bytes_put(&out, &id, 1);
        wudf__bytes_leb(&out, merged.size);
        wudf__bytes_put(&out, merged.data, merged.size);
        wudf__free(merged.data);
        continue;
      }
      wudf__free(merged.data);
    }
    wudf__bytes_put(&out, &id, 1);
    wudf__bytes_leb(&out, section_size);
    wudf__bytes_put(&out, body, section_size);
  }
  wudf__append_names(&out, info);
  if (out.failed) {
    wudf__free(out.data);
    return ENOMEM;
  }
  *prepared = out.data;
  *prepared_size = out.size;
  return 0;
}
