/*
 * bits.h -- Arrow bitmaps (validity and boolean values: LSB-first bits,
 * addressed by bit index) and offsets buffers (32- or 64-bit entries, read
 * and written unaligned, as guest memory may hold them anywhere). Small
 * inline helpers shared by the marshaller, the result importer and the
 * column builder.
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

/* Number of set bits in [start, start + count). */
static inline int64_t wudf__bits_count(const uint8_t* bits, int64_t start, int64_t count) {
  int64_t total = 0;
  int64_t i = start, end = start + count;
  while (i < end && (i & 7) != 0) total += wudf__bit_get(bits, i++);
  while (end - i >= 64) {
    uint64_t word;
    memcpy(&word, bits + (i >> 3), sizeof(word));
    total += __builtin_popcountll(word);
    i += 64;
  }
  while (i < end) total += wudf__bit_get(bits, i++);
  return total;
}

/* Copies `count` bits from src[src_start...] to dst[dst_start...]. */
static inline void wudf__bits_copy(uint8_t* dst, int64_t dst_start, const uint8_t* src,
                                   int64_t src_start, int64_t count) {
  if (count <= 0) return;
  if ((dst_start & 7) == 0 && (src_start & 7) == 0) {
    int64_t whole = count >> 3;
    memcpy(dst + (dst_start >> 3), src + (src_start >> 3), (size_t)whole);
    for (int64_t i = whole << 3; i < count; i++) {
      wudf__bit_set(dst, dst_start + i, wudf__bit_get(src, src_start + i));
    }
    return;
  }
  for (int64_t i = 0; i < count; i++) {
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

#endif /* WUDF_ARROW_BITS_H */
