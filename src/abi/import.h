/*
 * import.h -- guest to host: validating a guest's result in linear memory
 * (docs/abi.md, section 5) and mirroring it as host structs.
 *
 * Nothing a guest returns is trusted. The result (a wasm32 ArrowArray +
 * ArrowSchema tree of any type) is checked in two steps:
 *
 *   1. wudf__mirror_schema: the schema tree -- every struct inside linear
 *      memory and not released, strings NUL-terminated inside memory,
 *      formats known (arrow/format.h), child counts the format's, metadata
 *      well-formed, flags known, nesting at most WUDF__MAX_DEPTH, no cycles.
 *      It becomes a host ("mirror") ArrowSchema tree whose strings point
 *      into guest memory. The caller (the UDF layer) then compares it with
 *      the declared type before looking at any data.
 *   2. wudf__mirror_array: the array tree against that schema, at the
 *      requested level (below). It becomes a host ArrowArray tree whose
 *      buffers point into guest memory, with offsets, lengths and null
 *      counts as the guest gave them (null_count filled in when the guest
 *      gave -1).
 *
 * Levels. WUDF__VALIDATE_FULL (the default) checks everything nanoarrow's
 * "full" level does: struct and buffer counts and sizes for the type, every
 * buffer inside linear memory at the size lengths and offsets require,
 * offsets monotonic and in range, view lengths, buffer indices and offsets
 * in range and prefixes equal to the data, UTF-8 of string types, union
 * type ids declared and dense offsets in range of their child, dictionary
 * indices in range, run ends positive, strictly increasing and covering
 * offset + length, run ends and map keys without nulls, null counts equal
 * to the bitmaps, children long enough for their parents; every size
 * computed with overflow checks. WUDF__VALIDATE_STRUCTURE (for guests the
 * caller trusts) skips only what the host never follows itself: UTF-8,
 * view prefixes, null counts against bitmaps, dictionary indices. At every
 * level the host never reads outside linear memory.
 *
 * Every rejection is EPROTO with a message "PATH: RULE: detail", where
 * PATH names the node from the root (root name given by the caller; then
 * ".NAME" per child, with the child's schema name or "children[i]" when it
 * is empty, and ".dictionary") and RULE is one of the rule names listed in
 * docs/abi.md, section 5 (e.g. "offsets", "utf8", "union type id").
 *
 * A mirror is valid while guest memory is not changed (no guest code runs).
 */
#ifndef WUDF_ABI_IMPORT_H
#define WUDF_ABI_IMPORT_H

#include <stdint.h>

#include "../common/common.h"
#include "../arrow/wasm32.h"

enum wudf__validation_level { WUDF__VALIDATE_FULL = 0, WUDF__VALIDATE_STRUCTURE = 1 };

struct wudf__mirror; /* host copies of a guest result's structs */

/* Checks the guest schema tree at `schema` and mirrors it. On success
 * `*out` is a new mirror whose wudf__mirror_root_schema is the tree; on
 * failure `*out` is NULL. `path` names the root in messages. EPROTO or
 * ENOMEM. */
int wudf__mirror_schema(const struct wudf__guest_memory* memory, uint32_t schema,
                        const char* path, struct wudf__mirror** out, struct wudf_error* error);

/* As wudf__mirror_schema, with nesting limited to `max_depth` levels (the
 * root is level 1) when that is below WUDF__MAX_DEPTH: deeper nesting is
 * EFBIG ("PATH: nesting deeper than the caller's limit of N levels"), a
 * limit of the caller rather than a broken rule. */
int wudf__mirror_schema_limited(const struct wudf__guest_memory* memory, uint32_t schema,
                                const char* path, int max_depth, struct wudf__mirror** out,
                                struct wudf_error* error);

/* Checks the guest array tree at `array` against the mirror's schema at
 * `level` and mirrors it; `length` is the root length required (-1: any).
 * EPROTO or ENOMEM; on failure the mirror keeps no array. */
int wudf__mirror_array(struct wudf__mirror* mirror, const struct wudf__guest_memory* memory,
                       uint32_t array, int64_t length, int level, const char* path,
                       struct wudf_error* error);

/* The mirrored root schema / array (NULL before wudf__mirror_array). The
 * structs belong to the mirror: do not release them. */
const struct ArrowSchema* wudf__mirror_root_schema(const struct wudf__mirror* mirror);
const struct ArrowArray* wudf__mirror_root_array(const struct wudf__mirror* mirror);

/*
 * Moves the mirrored array out as a consumer-owned ArrowArray `*out` (a
 * zero-copy view: its buffers stay in guest memory). Its release callback,
 * and those of its children and dictionaries (which may be moved out and
 * released in any order), follow the C Data Interface; when the last of
 * them is released, `on_release(context)` is called once and the mirror's
 * memory freed. After this call the mirror must not be used except by
 * wudf__mirror_free, which then frees nothing the view needs.
 */
void wudf__mirror_take_array(struct wudf__mirror* mirror, struct ArrowArray* out,
                             void (*on_release)(void* context), void* context);

/* Frees the mirror (NULL is fine). */
void wudf__mirror_free(struct wudf__mirror* mirror);

/* Reads the NUL-terminated string at guest offset `at` into `out` (at most
 * `size` - 1 bytes, truncated), for a guest's error message. Returns 0, or
 * -1 if `at` is outside memory. */
int wudf__guest_string(const struct wudf__guest_memory* memory, uint32_t at, char* out,
                       size_t size);

#endif /* WUDF_ABI_IMPORT_H */
