/*
 * wasm32.h -- the wasm32 layout of the Arrow C Data Interface structs
 * (docs/abi.md, section 2) and bounded access to a guest's linear memory.
 *
 * The host never copies a host struct into guest memory or casts guest
 * memory to a host struct: pointers are 64-bit here and 32-bit there. Every
 * field is read and written at its wasm32 offset, little-endian, and every
 * access is checked against the memory's current size first.
 */
#ifndef WUDF_ARROW_WASM32_H
#define WUDF_ARROW_WASM32_H

#include <stdint.h>
#include <string.h>

/* struct ArrowSchema on wasm32: 48 bytes, 8-byte aligned. */
#define WUDF__SCHEMA_SIZE 48u
#define WUDF__SCHEMA_FORMAT 0u
#define WUDF__SCHEMA_NAME 4u
#define WUDF__SCHEMA_METADATA 8u
#define WUDF__SCHEMA_FLAGS 16u
#define WUDF__SCHEMA_N_CHILDREN 24u
#define WUDF__SCHEMA_CHILDREN 32u
#define WUDF__SCHEMA_DICTIONARY 36u
#define WUDF__SCHEMA_RELEASE 40u
#define WUDF__SCHEMA_PRIVATE_DATA 44u

/* struct ArrowArray on wasm32: 64 bytes, 8-byte aligned. */
#define WUDF__ARRAY_SIZE 64u
#define WUDF__ARRAY_LENGTH 0u
#define WUDF__ARRAY_NULL_COUNT 8u
#define WUDF__ARRAY_OFFSET 16u
#define WUDF__ARRAY_N_BUFFERS 24u
#define WUDF__ARRAY_N_CHILDREN 32u
#define WUDF__ARRAY_BUFFERS 40u
#define WUDF__ARRAY_CHILDREN 44u
#define WUDF__ARRAY_DICTIONARY 48u
#define WUDF__ARRAY_RELEASE 52u
#define WUDF__ARRAY_PRIVATE_DATA 56u

_Static_assert(WUDF__SCHEMA_PRIVATE_DATA + 4 == WUDF__SCHEMA_SIZE,
               "the wasm32 ArrowSchema ends with private_data");
_Static_assert(WUDF__ARRAY_PRIVATE_DATA + 8 == WUDF__ARRAY_SIZE,
               "the wasm32 ArrowArray ends with private_data and padding");

/* The header of an input block (docs/abi.md, section 4). */
#define WUDF__BLOCK_HEADER_SIZE 16u
#define WUDF__BLOCK_LIVE 0u
#define WUDF__BLOCK_MAGIC_OFFSET 4u
#define WUDF__BLOCK_MAGIC 0x46445557u
#define WUDF__BLOCK_ALIGN 64u

/* A view of a guest's linear memory, valid while the guest is not running
 * (memory.grow may only change it during a call). */
struct wudf__guest_memory {
  uint8_t* base;
  uint64_t size;
};

/* Nonzero when [offset, offset + length) lies inside the memory. */
static inline int wudf__guest_range_ok(const struct wudf__guest_memory* memory,
                                       uint64_t offset, uint64_t length) {
  return offset <= memory->size && length <= memory->size - offset;
}

/* Loads and stores of little-endian fields; the caller has checked the
 * range. The host is little-endian (x86-64, aarch64), as wasm is. */
static inline uint32_t wudf__load_u32(const struct wudf__guest_memory* memory,
                                      uint64_t offset) {
  uint32_t value;
  memcpy(&value, memory->base + offset, sizeof(value));
  return value;
}

static inline int64_t wudf__load_i64(const struct wudf__guest_memory* memory,
                                     uint64_t offset) {
  int64_t value;
  memcpy(&value, memory->base + offset, sizeof(value));
  return value;
}

static inline void wudf__store_u32(const struct wudf__guest_memory* memory,
                                   uint64_t offset, uint32_t value) {
  memcpy(memory->base + offset, &value, sizeof(value));
}

static inline void wudf__store_i64(const struct wudf__guest_memory* memory,
                                   uint64_t offset, int64_t value) {
  memcpy(memory->base + offset, &value, sizeof(value));
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "wasmudf supports little-endian hosts only"
#endif

#endif /* WUDF_ARROW_WASM32_H */
