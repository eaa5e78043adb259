/*
 * bits.h -- Arrow bitmaps (validity and boolean values: LSB-first bits,
 * addressed by bit index) and offsets buffers (32- or 64-bit entries, read
 * and written unaligned, as guest memory may hold them anywhere). Small
 * inline helpers shared by the marshaller, the result importer and the
 * column builder; the one loop worth several CPU-specific copies lives in
 * bits.c (a function with target clones cannot be a static inline one: the
 * clones' resolver would be defined once per translation unit).
 */
#ifndef WUDF_ARROW_BITS_H
#define WUDF_ARROW_BITS_H

#include <stdint.h>
#include <string.h>

static inline int wudf__bit_get(const uint8_t* bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}

static inline void wudf__bit_set(uint8_t* bits, int64_t i, int value) {
  if (value) {
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
  } else {
    bits[i >> 3] &= (uint8_t) ~(1u << (i & 7));
  }
}

/* Number of set bits in `words` 64-bit words at `bytes` (any alignment);
 * bits.c. */
int64_t wudf__bits_count_words(const uint8_t* bytes, int64_t words);

/* Number of set bits in [start, start + count). */
static inline int64_t wudf__bits_count(const uint8_t* bits, int64_t start, int64_t count) {
  int64_t total = 0;
  int64_t i = start, end = start + count;
  while (i < end && (i & 7) != 0) total += wudf__bit_get(bits, i++);
  if (end - i >= 64) {
    int64_t words = (end - i) >> 6;
    total += wudf__bits_count_words(bits + (i >> 3), words);
    i += words << 6;
  }
  while (i < end) total += wudf__bit_get(bits, i++);
  return total;
}

/* Sets (`value` nonzero) or clears the `count` bits of dst[start...],
 * whole bytes with memset. */
static inline void wudf__bits_fill(uint8_t* dst, int64_t start, int64_t count, int value) {
  if (count <= 0) return;
  while (count > 0 && (start & 7) != 0) {
    wudf__bit_set(dst, start++, value);
    count--;
  }
  memset(dst + (start >> 3), value ? 0xff : 0, (size_t)(count >> 3));
  for (int64_t i = count & ~(int64_t)7; i < count; i++) wudf__bit_set(dst, start + i, value);
}

/* Copies `count` bits from src[src_start...] to dst[dst_start...] (the
 * ranges do not overlap). After at most 7 single bits the destination is
 * byte-aligned; the body then moves whole bytes: memcpy when the source is
 * aligned too, otherwise 64 bits per step, each assembled from two shifted
 * source reads. Reads no source byte outside the source bit range. */
static inline void wudf__bits_copy(uint8_t* dst, int64_t dst_start, const uint8_t* src,
                                   int64_t src_start, int64_t count) {
  while (count > 0 && (dst_start & 7) != 0) {
    wudf__bit_set(dst, dst_start++, wudf__bit_get(src, src_start++));
    count--;
  }
  if (count <= 0) return;
  uint8_t* to = dst + (dst_start >> 3);
  const uint8_t* from = src + (src_start >> 3);
  int shift = (int)(src_start & 7);
  int64_t whole = count >> 3;
  if (shift == 0) {
    memcpy(to, from, (size_t)whole);
  } else {
    /* Output byte i is (from[i] >> shift) | (from[i + 1] << (8 - shift));
     * from[whole] is inside the source range because shift > 0. */
    int64_t i = 0;
    for (; i + 8 <= whole; i += 8) {
      uint64_t word;
      memcpy(&word, from + i, sizeof(word));
      word = (word >> shift) | ((uint64_t)from[i + 8] << (64 - shift));
      memcpy(to + i, &word, sizeof(word));
    }
    for (; i < whole; i++) {
      to[i] = (uint8_t)((from[i] >> shift) | (from[i + 1] << (8 - shift)));
    }
  }
  for (int64_t i = whole << 3; i < count; i++) {
    wudf__bit_set(dst, dst_start + i, wudf__bit_get(src, src_start + i));
  }
}

/* Entry `i` of an offsets buffer of 64-bit (`large`) or 32-bit entries. */
static inline int64_t wudf__offset_get(const uint8_t* offsets, int large, int64_t i) {
  if (large) {
    int64_t value;
    memcpy(&value, offsets + i * 8, 8);
    return value;
  }
  int32_t value;
  memcpy(&value, offsets + i * 4, 4);
  return value;
}

/* Sets entry `i` (the caller has checked `value` fits a 32-bit entry). */
static inline void wudf__offset_set(uint8_t* offsets, int large, int64_t i, int64_t value) {
  if (large) {
    memcpy(offsets + i * 8, &value, 8);
  } else {
    int32_t value32 = (int32_t)value;
    memcpy(offsets + i * 4, &value32, 4);
  }
}

/* Writes `count` entries dst[i] = src[i] + shift (wrapping: the caller
 * knows every result fits an entry), both buffers of any alignment and not
 * overlapping. Everything the loop reads is a local, so the compiler
 * vectorizes it (a loop that reads its bounds or pointers through a struct
 * is not: each store through uint8_t* may have changed them). */
static inline void wudf__offsets_shift(uint8_t* dst, const uint8_t* src, int64_t count,
                                       int64_t shift, int large) {
  if (large) {
    uint64_t delta = (uint64_t)shift;
    for (int64_t i = 0; i < count; i++) {
      uint64_t value;
      memcpy(&value, src + i * 8, 8);
      value += delta;
      memcpy(dst + i * 8, &value, 8);
    }
  } else {
    uint32_t delta = (uint32_t)shift;
    for (int64_t i = 0; i < count; i++) {
      uint32_t value;
      memcpy(&value, src + i * 4, 4);
      value += delta;
      memcpy(dst + i * 4, &value, 4);
    }
  }
}

#endif /* WUDF_ARROW_BITS_H */
