/*
 * alu.c -- an ALU-bound kernel for bench_tiers (no division, unlike gcd_sum):
 * a xorshift generator mixed into a running sum, with shifts, multiplies
 * and a data-dependent branch, over a 64 KiB table in linear memory.
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor alu.c -o alu.wasm
 *   bench_tiers tcc alu.wasm alu_sum
 */
#include <stdint.h>

static uint32_t table[16384];

__attribute__((export_name("alu_sum"))) int64_t alu_sum(int32_t n) {
  uint64_t state = 0x9e3779b97f4a7c15u, total = 0;
  for (int32_t i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    uint32_t slot = (uint32_t)state & 16383u;
    table[slot] += (uint32_t)(state >> 32);
    total += (state & 1) ? table[slot] : (uint64_t)(table[(slot * 7u) & 16383u] * 3u);
  }
  return (int64_t)total;
}
