/*
 * serialize.c -- Arrow arrays of any type as one block of bytes, and back
 * (wudf_array_serialize / wudf_array_deserialize): the format engines use
 * to spill aggregate states or ship them to another worker.
 *
 * The bytes are the guest ABI's own wasm32 image of the array (docs/abi.md,
 * section 9): a 16-byte header, then the ArrowArray and ArrowSchema trees
 * with every pointer a 32-bit offset from the start of the bytes, exactly
 * as the host writes arguments into guest memory (arrow/emit.c). Reading
 * treats the bytes as a guest's linear memory: the validator of guest
 * results (abi/import.c) checks them completely before a single value is
 * copied out, so corrupt or hostile bytes are an error, never a crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "../arrow/gather.h"
#include "import.h"

/* The header: magic, format version, the offsets of the root structs. */
#define WUDF__BYTES_MAGIC "WUDFARR"
#define WUDF__BYTES_VERSION 1
#define WUDF__BYTES_HEADER 16u
#define WUDF__BYTES_ARRAY_AT 8u
#define WUDF__BYTES_SCHEMA_AT 12u
/* The release fields of the image: any nonzero value ("not released"). */
#define WUDF__BYTES_LIVE 1u

int wudf_array_serialize(const struct ArrowArray* array, const struct ArrowSchema* schema,
                         uint8_t** out, size_t* size, struct wudf_error* error) {
  if (array == NULL || schema == NULL || out == NULL || size == NULL) {
    return wudf__set_error(error, EINVAL, "array, schema, out and size must not be NULL");
  }
  char where[128];
  if (array->release == NULL || schema->release == NULL ||
      wudf__check_shape(array, schema, 1, where, sizeof(where)) != 0) {
    return wudf__set_error(error, EINVAL, "the array is released or not well-formed (at "
                           "'%s': buffer or child counts, offset, length or dictionary)",
                           array->release == NULL || schema->release == NULL ? "" : where);
  }
  struct wudf__segment all = {array, 0, array->length};
  struct wudf__gather* gather = NULL;
  int status = wudf__gather_new(schema, &all, 1, &gather, error);
  if (status != 0) return status;
  const struct wudf__plan* plan = wudf__gather_plan(gather);
  int64_t image = wudf__plan_guest_size(plan);
  if (image < 0 || (uint64_t)image > UINT32_MAX - WUDF__BYTES_HEADER) {
    wudf__gather_free(gather);
    return wudf__set_error(error, EFBIG, "the array needs more than 4 GiB as bytes");
  }
  size_t total = WUDF__BYTES_HEADER + (size_t)image;
  uint8_t* bytes = wudf__calloc(1, total);
  if (bytes == NULL) {
    wudf__gather_free(gather);
    return wudf__set_error(error, ENOMEM, "out of memory");
  }
  struct wudf__guest_memory memory = {bytes, total};
  struct wudf__guest_placement placed;
  wudf__plan_guest_write(plan, NULL, &memory, WUDF__BYTES_HEADER, WUDF__BYTES_LIVE,
                         WUDF__BYTES_LIVE, 0, &placed);
  wudf__gather_free(gather);
  memcpy(bytes, WUDF__BYTES_MAGIC, 7);
  bytes[7] = WUDF__BYTES_VERSION;
  wudf__store_u32(&memory, WUDF__BYTES_ARRAY_AT, placed.array);
  wudf__store_u32(&memory, WUDF__BYTES_SCHEMA_AT, placed.schema);
  *out = bytes;
  *size = total;
  return 0;
}

int wudf_array_deserialize(const uint8_t* bytes, size_t size, wudf_validation validation,
                           struct ArrowArray* out, struct ArrowSchema* out_schema,
                           struct wudf_error* error) {
  if (bytes == NULL || out == NULL || out_schema == NULL) {
    return wudf__set_error(error, EINVAL, "bytes, out and out_schema must not be NULL");
  }
  if (validation != WUDF_VALIDATION_FULL && validation != WUDF_VALIDATION_STRUCTURE) {
    return wudf__set_error(error, EINVAL, "unknown validation level %d", (int)validation);
  }
  if (size < WUDF__BYTES_HEADER || memcmp(bytes, WUDF__BYTES_MAGIC, 7) != 0) {
    return wudf__set_error(error, EPROTO, "the bytes are not a serialized array (no "
                           "'" WUDF__BYTES_MAGIC "' header)");
  }
  if (bytes[7] != WUDF__BYTES_VERSION) {
    return wudf__set_error(error, EPROTO, "serialized array format version %u; this "
                           "library reads version %d", bytes[7], WUDF__BYTES_VERSION);
  }
  if (size > UINT32_MAX) {
    return wudf__set_error(error, EPROTO, "the bytes are larger than 4 GiB");
  }
  /* The validator reads values through typed pointers: give it a 64-byte
   * aligned copy, as guest memory is (buffers are aligned to it). */
  uint8_t* block = wudf__malloc(size + 63);
  if (block == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  uint8_t* base = (uint8_t*)(((uintptr_t)block + 63) & ~(uintptr_t)63);
  memcpy(base, bytes, size);
  struct wudf__guest_memory memory = {base, size};
  uint32_t array_at = wudf__load_u32(&memory, WUDF__BYTES_ARRAY_AT);
  uint32_t schema_at = wudf__load_u32(&memory, WUDF__BYTES_SCHEMA_AT);
  struct wudf__mirror* mirror = NULL;
  int status = wudf__mirror_schema(&memory, schema_at, "array", &mirror, error);
  if (status == 0) {
    status = wudf__mirror_array(mirror, &memory, array_at, -1, (int)validation, "array", error);
  }
  if (status == EPROTO) wudf__error_prefix(error, status, "invalid serialized array");
  if (status == 0) {
    const struct ArrowArray* array = wudf__mirror_root_array(mirror);
    struct wudf__segment all = {array, 0, array->length};
    struct wudf__gather* gather = NULL;
    status = wudf__gather_new(wudf__mirror_root_schema(mirror), &all, 1, &gather, error);
    if (status == 0) {
      status = wudf__plan_export(wudf__gather_plan(gather), NULL, out, out_schema, error);
    }
    wudf__gather_free(gather);
  }
  wudf__mirror_free(mirror);
  wudf__free(block);
  return status;
}

void wudf_bytes_free(uint8_t* bytes) { wudf__free(bytes); }
