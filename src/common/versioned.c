/*
 * versioned.c -- reading and filling the caller's versioned public structs
 * (wasmudf.h, "Versioned structs"): a struct begins with its struct_size,
 * fields are only ever appended, and a caller built against an older or a
 * newer header keeps working with this library (docs/embedding.md, "A
 * stable ABI").
 */
#include <string.h>

#include "common.h"

int wudf__versioned_read(void* out, const void* in, size_t known,
                         const struct wudf__field* fields, size_t field_count,
                         const char* what, struct wudf_error* error) {
  size_t size;
  memcpy(&size, in, sizeof(size));
  size_t minimum = field_count > 0 ? fields[0].end : sizeof(size_t);
  if (size < minimum) {
    return wudf__set_error(error, EINVAL, "%s: struct_size %zu is smaller than the smallest "
                           "version of the struct (%zu bytes); initialise it with its _init "
                           "function", what, size, minimum);
  }
  if (size > known) {
    const unsigned char* tail = (const unsigned char*)in + known;
    for (size_t i = 0; i < size - known; i++) {
      if (tail[i] != 0) {
        return wudf__set_error(error, EINVAL, "%s: struct_size %zu is larger than this "
                               "library's struct (%zu bytes) and byte %zu past its end is "
                               "set: the caller asks for something this version of wasmudf "
                               "does not know", what, size, known, known + i);
      }
    }
    size = known;
  }
  for (size_t i = 0; i < field_count; i++) {
    if (fields[i].start < size && fields[i].end > size) {
      return wudf__set_error(error, EINVAL, "%s: struct_size %zu ends inside a field (bytes "
                             "%zu to %zu): not the size of any version of the struct", what,
                             size, fields[i].start, fields[i].end);
    }
  }
  /* Copy field by field: the bytes past the last covered field may be the
   * caller's padding, not ours to read as values. */
  for (size_t i = 0; i < field_count && fields[i].end <= size; i++) {
    memcpy((char*)out + fields[i].start, (const char*)in + fields[i].start,
           fields[i].end - fields[i].start);
  }
  memcpy(out, &known, sizeof(known));
  return 0;
}

void wudf__versioned_write(void* out, const void* full, size_t known, size_t first) {
  size_t size;
  memcpy(&size, out, sizeof(size));
  if (size == 0) size = first;
  if (size > known) size = known;
  if (size > sizeof(size_t)) {
    memcpy((char*)out + sizeof(size_t), (const char*)full + sizeof(size_t),
           size - sizeof(size_t));
  }
}
