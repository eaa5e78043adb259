/*
 * bits.c -- the out-of-line part of bits.h: counting the set bits of whole
 * 64-bit words, the inner loop of null counts over validity bitmaps.
 *
 * The x86-64 baseline has no popcount instruction (the compiler calls its
 * runtime's function for each word); the SSE4.2 and AVX2 copies made by
 * WUDF__CLONES use the instruction, chosen once at load time by the CPU.
 */
#include "bits.h"

#include "../common/common.h"

/* The loop, in CPU-specific copies. Static and separate from the exported
 * function because clang refuses clones of a function declared (in bits.h)
 * and called before its definition. */
WUDF__CLONES static int64_t wudf__count_words_cloned(const uint8_t* bytes, int64_t words) {
  int64_t total = 0;
  for (int64_t w = 0; w < words; w++) {
    uint64_t word;
    memcpy(&word, bytes + w * 8, sizeof(word));
    total += __builtin_popcountll(word);
  }
  return total;
}

int64_t wudf__bits_count_words(const uint8_t* bytes, int64_t words) {
  return wudf__count_words_cloned(bytes, words);
}
