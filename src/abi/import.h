/*
 * import.h -- guest to host: validating a guest's result in linear memory
 * and copying it into host-owned columns (docs/abi.md, section 5).
 *
 * Nothing a guest returns is trusted: every struct, pointer, length, offset
 * and buffer is checked against linear memory and the declared type before
 * the first byte of data is read. Errors are EPROTO with a message naming
 * the field ("result.buffers[1]") and the rule it breaks.
 */
#ifndef WUDF_ABI_IMPORT_H
#define WUDF_ABI_IMPORT_H

#include <stdint.h>

#include "../arrow/column.h"
#include "../common/common.h"
#include "wasm32.h"

/* Where the rows of a guest column go in the host column: row i of the
 * guest column becomes host row `start + i`, or `start + rows[i]` when
 * `rows` is not NULL. */
struct wudf__import_target {
  struct wudf__column* column;
  int64_t start;
  const int64_t* rows;
};

/*
 * Checks the guest column at `array`/`schema` (guest offsets; `schema` 0 to
 * skip the schema, already checked by a parent) as a column of `type` and
 * exactly `length` rows, seen through an extra `parent_offset` (a struct
 * parent's offset), and copies it into `target`. `path` names the column in
 * messages.
 */
int wudf__import_column(const struct wudf__guest_memory* memory, uint32_t array,
                        uint32_t schema, uint8_t type, int64_t length,
                        int64_t parent_offset, const char* path,
                        const struct wudf__import_target* target,
                        struct wudf_error* error);

/*
 * Checks the guest struct array at `array`/`schema` whose children must be
 * `count` columns of `types` (names are free), and returns its length in
 * `*length` and the guest offsets of its children and their schemas, so the
 * caller can size the host columns and import each child with
 * wudf__import_column (passing `*offset` as parent_offset). The struct must
 * have no nulls.
 */
int wudf__import_struct(const struct wudf__guest_memory* memory, uint32_t array,
                        uint32_t schema, uint32_t count, const uint8_t* types,
                        const char* path, int64_t max_length, int64_t* length,
                        int64_t* offset, uint32_t* children, uint32_t* child_schemas,
                        struct wudf_error* error);

/* Reads the NUL-terminated string at guest offset `at` into `out` (at most
 * `size` - 1 bytes, truncated), for a guest's error message. Returns 0, or
 * -1 if `at` is outside memory. */
int wudf__guest_string(const struct wudf__guest_memory* memory, uint32_t at, char* out,
                       size_t size);

#endif /* WUDF_ABI_IMPORT_H */
