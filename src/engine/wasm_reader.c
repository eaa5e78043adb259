/*
 * wasm_reader.c -- decodes a WebAssembly binary and checks it before anything
 * else in the engine touches it (the contract is in wasm_reader.h).
 *
 * The reader is a single forward pass written from chapter 5 (binary format)
 * of the WebAssembly core specification, release 2.0, together with the
 * encodings of the proposals the engine refuses, so that it can name them. It
 * walks every section in the required order, every entry of every vector and
 * every instruction of every function body, decoding all immediates, and stops
 * at the first problem with an errno-style code and a message naming the place
 * (section, entry or function) and the byte offset. It checks what the binary
 * format requires (LEB128 ranges, UTF-8 names, section order and sizes,
 * balanced blocks) and every rule of validation (chapter 3) for the features
 * the engine accepts: index ranges, constant expressions and their types,
 * element and table types, declared function references, and the operand
 * types of every instruction of every body, with the validation algorithm of
 * the specification's appendix (an operand stack and a control stack, where
 * the stack below an unconditional branch is polymorphic). A module that
 * passes is valid: no later tool needs to validate it again.
 *
 * Memory discipline: every read goes through the bounds-checked primitives
 * below, which never look past `end` (the end of the current module, section
 * or function body) and read byte by byte, so nothing is read unaligned or out
 * of bounds. Every vector length is checked against the bytes left and
 * against the configured limit before anything is allocated for it. Every
 * allocation is attached to the caller's `struct wudf__wasm_info` as soon as
 * it succeeds, so a single wudf__wasm_info_release frees everything on any
 * failure path. The reader keeps no global mutable state.
 */
#include "wasm_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Section ids (spec 5.5.2, plus the tag section of exception handling). */
enum {
  SECTION_CUSTOM = 0,
  SECTION_TYPE = 1,
  SECTION_IMPORT = 2,
  SECTION_FUNCTION = 3,
  SECTION_TABLE = 4,
  SECTION_MEMORY = 5,
  SECTION_GLOBAL = 6,
  SECTION_EXPORT = 7,
  SECTION_START = 8,
  SECTION_ELEMENT = 9,
  SECTION_CODE = 10,
  SECTION_DATA = 11,
  SECTION_DATA_COUNT = 12,
  SECTION_TAG = 13
};

/* Names of the refused features, as they appear in "unsupported feature
 * <NAME>: ..." messages. */
#define FEATURE_SIMD "SIMD"
#define FEATURE_THREADS "threads"
#define FEATURE_MEMORY64 "memory64"
#define FEATURE_MULTI_MEMORY "multi-memory"
#define FEATURE_EXCEPTIONS "exception handling"
#define FEATURE_TAIL_CALLS "tail calls"
#define FEATURE_GC "GC/function references"
#define FEATURE_NUL_NAMES "NUL in names"

/* The largest memory a 32-bit module may declare: 65536 pages of 64 KiB. */
#define MAX_MEMORY_PAGES 65536u

/* Opcodes that the walker treats specially. */
enum {
  OP_BLOCK = 0x02,
  OP_LOOP = 0x03,
  OP_IF = 0x04,
  OP_ELSE = 0x05,
  OP_END = 0x0B,
  OP_GLOBAL_GET = 0x23,
  OP_I32_CONST = 0x41,
  OP_I64_CONST = 0x42,
  OP_F32_CONST = 0x43,
  OP_F64_CONST = 0x44,
  OP_REF_NULL = 0xD0,
  OP_REF_FUNC = 0xD2,
  OP_PREFIX_GC = 0xFB,
  OP_PREFIX_MISC = 0xFC,
  OP_PREFIX_SIMD = 0xFD,
  OP_PREFIX_THREADS = 0xFE
};

/* Kinds of open blocks on the control stack of a function body. */
enum { FRAME_FUNCTION, FRAME_BLOCK, FRAME_LOOP, FRAME_IF, FRAME_ELSE };

/* The operand type of unreachable code, which matches every type (the
 * "Unknown" of the validation algorithm); no value type byte is zero. */
#define TYPE_UNKNOWN 0x00

/* An open block of the body being checked (a "control frame" of the
 * validation algorithm): its kind, its parameter and result types (pointers
 * into the module's types or into single_value_types, never into the frame
 * array, which moves), the operand stack height at its start, and whether
 * the rest of it is unreachable. */
struct frame {
  uint8_t kind;
  uint8_t unreachable;
  uint32_t param_count;
  uint32_t result_count;
  const uint8_t* params;
  const uint8_t* results;
  size_t height;
};

/* A global's type: its value type byte and mutability. */
struct global_type {
  uint8_t type;
  uint8_t is_mutable;
};

/* The state of one wudf__wasm_read call. */
struct reader {
  /* The module and the read position. */
  const uint8_t* bytes;
  size_t size;
  size_t pos;
  size_t end;           /* reads stop here: module, section or body end */
  const char* end_name; /* what `end` is the end of, for messages */

  const struct wudf__wasm_limits* limits;
  struct wudf__wasm_info* info;
  struct wudf_error* error;

  /* Where the reader is, for messages. */
  int section_id;        /* -1 between sections */
  const char* item_kind; /* the kind of entry being read, or NULL */
  uint32_t item_index;
  int in_function;
  uint32_t function_index; /* in the function index space */

  /* Index spaces and counts that `info` does not hold. */
  uint32_t table_total;  /* imported + defined tables */
  uint32_t memory_total; /* imported + defined memories */
  uint32_t defined_function_count;
  uint32_t code_count;
  uint32_t element_count;
  int has_data_count;
  uint32_t data_count;
  uint32_t data_segment_count;
  uint32_t custom_capacity;

  /* The types that the type rules look up and the binary does not keep in
   * `info`: every table's element type, every global's type, every element
   * segment's reference type, and the functions that ref.func may name in a
   * body (C.refs: those named outside bodies, a bitmap). */
  uint8_t* table_types;
  uint32_t table_type_capacity;
  struct global_type* globals;
  uint32_t global_capacity;
  uint32_t imported_global_count;
  uint8_t* element_types;
  uint8_t* declared_functions;

  /* The body being checked, reused across bodies: its locals (parameters
   * first), the operand stack and the control stack. `op_prefix` and
   * `op_code` name the instruction being checked, for messages. */
  uint8_t* locals;
  uint32_t local_capacity;
  uint32_t local_count;
  uint8_t* values;
  size_t value_count;
  size_t value_capacity;
  struct frame* frames;
  size_t frame_count;
  size_t frame_capacity;
  uint32_t op_prefix; /* 0, or the prefix byte of a prefixed instruction */
  uint32_t op_code;
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* Returns the specification's name of section `id`. */
static const char* section_name(int id) {
  switch (id) {
    case SECTION_CUSTOM: return "custom";
    case SECTION_TYPE: return "type";
    case SECTION_IMPORT: return "import";
    case SECTION_FUNCTION: return "function";
    case SECTION_TABLE: return "table";
    case SECTION_MEMORY: return "memory";
    case SECTION_GLOBAL: return "global";
    case SECTION_EXPORT: return "export";
    case SECTION_START: return "start";
    case SECTION_ELEMENT: return "element";
    case SECTION_CODE: return "code";
    case SECTION_DATA: return "data";
    case SECTION_DATA_COUNT: return "data count";
    case SECTION_TAG: return "tag";
  }
  return "unknown";
}

/* Writes where the reader is ("function 3", "export 2 of section 7 (export)",
 * "section 1 (type)") into `out`, or an empty string between sections. */
static void describe_place(const struct reader* r, char* out, size_t size) {
  if (r->in_function) {
    snprintf(out, size, "function %" PRIu32, r->function_index);
  } else if (r->section_id >= 0 && r->item_kind != NULL) {
    snprintf(out, size, "%s %" PRIu32 " of section %d (%s)", r->item_kind,
             r->item_index, r->section_id, section_name(r->section_id));
  } else if (r->section_id >= 0) {
    snprintf(out, size, "section %d (%s)", r->section_id,
             section_name(r->section_id));
  } else {
    out[0] = '\0';
  }
}

/* Fills the caller's error with `code` and the message "<category>: <detail>
 * in <place> at offset 0x<offset>", where the category follows from the code
 * (and names `feature` for ENOTSUP), unless `is_invalid` makes it "invalid
 * module" (a well-formed binary that breaks a rule of validation, ENOEXEC).
 * Returns `code`. */
static int vfail(struct reader* r, int code, int is_invalid, const char* feature,
                 size_t offset, const char* format, va_list args) {
  char detail[512];
  char place[160];
  char category[96];
  vsnprintf(detail, sizeof(detail), format, args);
  describe_place(r, place, sizeof(place));
  switch (code) {
    case ENOTSUP:
      snprintf(category, sizeof(category), "unsupported feature %s", feature);
      break;
    case EFBIG:
      snprintf(category, sizeof(category), "module too large");
      break;
    case ENOMEM:
      snprintf(category, sizeof(category), "out of memory");
      break;
    default:
      snprintf(category, sizeof(category), "%s module",
               is_invalid ? "invalid" : "malformed");
      break;
  }
  return wudf__set_error(r->error, code, "%s: %s%s%s at offset 0x%zx",
                         category, detail, place[0] != '\0' ? " in " : "",
                         place, offset);
}

/* Fails with `code` (ENOEXEC, EFBIG or ENOMEM) at `offset`; returns `code`. */
static int fail(struct reader* r, int code, size_t offset, const char* format,
                ...) WUDF__PRINTF(4, 5);
static int fail(struct reader* r, int code, size_t offset, const char* format,
                ...) {
  va_list args;
  va_start(args, format);
  vfail(r, code, 0, NULL, offset, format, args);
  va_end(args);
  return code;
}

/* Fails with ENOEXEC at `offset` for a rule of validation ("invalid module:
 * ..."); returns ENOEXEC. */
static int invalid(struct reader* r, size_t offset, const char* format, ...)
    WUDF__PRINTF(3, 4);
static int invalid(struct reader* r, size_t offset, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vfail(r, ENOEXEC, 1, NULL, offset, format, args);
  va_end(args);
  return ENOEXEC;
}

/* Fails with ENOTSUP for `feature` at `offset`; returns ENOTSUP. */
static int unsupported(struct reader* r, size_t offset, const char* feature,
                       const char* format, ...) WUDF__PRINTF(4, 5);
static int unsupported(struct reader* r, size_t offset, const char* feature,
                       const char* format, ...) {
  va_list args;
  va_start(args, format);
  vfail(r, ENOTSUP, 0, feature, offset, format, args);
  va_end(args);
  return ENOTSUP;
}

/* Fails with ENOMEM at the current position; returns ENOMEM. */
static int out_of_memory(struct reader* r) {
  return fail(r, ENOMEM, r->pos, "cannot allocate the module description");
}

/* Writes `name` into `out` for a message: printable ASCII as is, any other
 * byte (and the quote and backslash) as \xNN, cut with "..." when long. */
static void quote_name(const char* name, char* out, size_t size) {
  static const char hex[] = "0123456789abcdef";
  size_t used = 0;
  for (const unsigned char* p = (const unsigned char*)name; *p != '\0'; p++) {
    if (used + 8 >= size) {
      memcpy(out + used, "...", 3);
      used += 3;
      break;
    }
    if (*p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\') {
      out[used++] = (char)*p;
    } else {
      out[used++] = '\\';
      out[used++] = 'x';
      out[used++] = hex[*p >> 4];
      out[used++] = hex[*p & 0x0F];
    }
  }
  out[used] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Bounds-checked primitives                                                 */
/* ------------------------------------------------------------------------ */

/* Fails with ENOEXEC unless `count` more bytes lie before `end`. */
static int need(struct reader* r, size_t count) {
  if (count <= r->end - r->pos) return 0;
  return fail(r, ENOEXEC, r->pos, "unexpected end of %s", r->end_name);
}

/* Reads one byte. */
static int read_byte(struct reader* r, uint8_t* out) {
  int status = need(r, 1);
  if (status != 0) return status;
  *out = r->bytes[r->pos++];
  return 0;
}

/* Skips `count` bytes. */
static int skip(struct reader* r, size_t count) {
  int status = need(r, count);
  if (status != 0) return status;
  r->pos += count;
  return 0;
}

/*
 * Reads a LEB128 integer of `bits` bits (32, 33 or 64), signed or not, with
 * the rules of spec 5.2.2: at most ceil(bits / 7) bytes ("integer
 * representation too long" otherwise), and in a maximal-length encoding the
 * unused bits of the last byte must be zero (unsigned) or copies of the sign
 * bit (signed) ("integer too large" otherwise). Shorter non-minimal encodings
 * (0x80 0x00 for 0) are valid in the specification, and toolchains emit them
 * as padding, so they are accepted. Signed results are sign-extended to 64
 * bits in `*out`.
 */
static int read_leb(struct reader* r, unsigned bits, int is_signed,
                    uint64_t* out) {
  const size_t start = r->pos;
  const unsigned max_bytes = (bits + 6) / 7;
  uint64_t value = 0;
  unsigned shift = 0;
  uint8_t byte = 0;
  for (unsigned i = 0; i < max_bytes; i++) {
    int status = read_byte(r, &byte);
    if (status != 0) return status;
    if (i + 1 == max_bytes) {
      if (byte & 0x80) {
        return fail(r, ENOEXEC, start, "integer representation too long");
      }
      const unsigned used = bits - 7 * i; /* value bits in this byte */
      const uint8_t unused_mask = (uint8_t)(0x7Fu & ~((1u << used) - 1u));
      uint8_t expected = 0;
      if (is_signed && ((byte >> (used - 1)) & 1u)) expected = unused_mask;
      if ((byte & unused_mask) != expected) {
        return fail(r, ENOEXEC, start, "integer too large");
      }
    }
    value |= (uint64_t)(byte & 0x7Fu) << shift;
    shift += 7;
    if (!(byte & 0x80)) break;
  }
  if (is_signed && shift < 64 && (byte & 0x40)) value |= ~UINT64_C(0) << shift;
  *out = value;
  return 0;
}

/* Reads a u32 LEB128. */
static int read_u32(struct reader* r, uint32_t* out) {
  uint64_t value = 0;
  int status = read_leb(r, 32, 0, &value);
  if (status == 0) *out = (uint32_t)value;
  return status;
}

/* Reads an s33 LEB128 (block types) into `*out`. */
static int read_s33(struct reader* r, int64_t* out) {
  uint64_t value = 0;
  int status = read_leb(r, 33, 1, &value);
  if (status != 0) return status;
  /* Convert without relying on implementation-defined narrowing. */
  *out = value <= (uint64_t)INT64_MAX ? (int64_t)value
                                       : -(int64_t)(~value) - 1;
  return 0;
}

/*
 * Reads a vector length and checks it before anyone allocates for it: at
 * least `min_entry_size` bytes per entry must remain before `end` (ENOEXEC,
 * so a length of 2^32-1 in a ten-byte section fails at once), and the length
 * must not exceed `limit` (EFBIG). `what` names the entries, plural.
 */
static int read_count(struct reader* r, const char* what,
                      size_t min_entry_size, uint32_t limit, uint32_t* out) {
  const size_t at = r->pos;
  uint32_t count = 0;
  int status = read_u32(r, &count);
  if (status != 0) return status;
  if ((uint64_t)count * min_entry_size > (uint64_t)(r->end - r->pos)) {
    return fail(r, ENOEXEC, at, "%" PRIu32 " %s overrun the %s", count, what,
                r->end_name);
  }
  if (count > limit) {
    return fail(r, EFBIG, at, "%" PRIu32 " %s (limit %" PRIu32 ")", count,
                what, limit);
  }
  *out = count;
  return 0;
}

/* Reads a u32 index and fails with ENOEXEC unless it is below `bound`, the
 * size of the index space that `what` ("function", "type", ...) names. */
static int read_index(struct reader* r, const char* what, uint64_t bound,
                      uint32_t* out) {
  const size_t at = r->pos;
  uint32_t index;
  int status = read_u32(r, &index);
  if (status != 0) return status;
  if (index >= bound) {
    return fail(r, ENOEXEC, at,
                "%s index %" PRIu32 " out of range (the module has %" PRIu64
                ")",
                what, index, bound);
  }
  if (out != NULL) *out = index;
  return 0;
}


/*
 * Reads a name (spec 5.2.4) and returns it in `*out` as a NUL-terminated copy
 * the caller must attach to the info or free. Invalid UTF-8 is ENOEXEC. A name
 * containing U+0000 is valid WebAssembly but cannot be represented as a C
 * string without aliasing another name, so it is refused with ENOTSUP.
 */
static int read_name(struct reader* r, char** out) {
  uint32_t length = 0;
  int status = read_u32(r, &length);
  if (status != 0) return status;
  if (length > r->end - r->pos) {
    return fail(r, ENOEXEC, r->pos, "name of %" PRIu32 " bytes overruns the %s",
                length, r->end_name);
  }
  const uint8_t* text = r->bytes + r->pos;
  size_t bad = 0;
  if (!wudf__utf8_valid(text, length, &bad)) {
    return fail(r, ENOEXEC, r->pos + bad, "name is not valid UTF-8");
  }
  const void* nul = length != 0 ? memchr(text, 0, length) : NULL;
  if (nul != NULL) {
    return unsupported(r, r->pos + (size_t)((const uint8_t*)nul - text),
                       FEATURE_NUL_NAMES, "name contains a NUL character");
  }
  char* copy = wudf__malloc((size_t)length + 1);
  if (copy == NULL) return out_of_memory(r);
  if (length != 0) memcpy(copy, text, length);
  copy[length] = '\0';
  r->pos += length;
  *out = copy;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/* Returns nonzero for type bytes of the GC and function-references
 * proposals: (ref null ht), (ref ht), the abstract heap-type shorthands and
 * their bottom types. */
static int is_gc_type_byte(uint8_t byte) {
  return (byte >= 0x63 && byte <= 0x6E && byte != 0x69) ||
         (byte >= 0x71 && byte <= 0x73);
}

/* Returns nonzero for the exnref and nullexnref type bytes of exception
 * handling. */
static int is_exception_type_byte(uint8_t byte) {
  return byte == 0x69 || byte == 0x74;
}

/* Checks that `byte`, read at `at`, is a value type the engine supports:
 * i32, i64, f32, f64, funcref or externref. */
static int check_value_type(struct reader* r, uint8_t byte, size_t at) {
  switch (byte) {
    case WUDF__WASM_I32:
    case WUDF__WASM_I64:
    case WUDF__WASM_F32:
    case WUDF__WASM_F64:
    case WUDF__WASM_FUNCREF:
    case WUDF__WASM_EXTERNREF:
      return 0;
    case WUDF__WASM_V128:
      return unsupported(r, at, FEATURE_SIMD, "value type v128");
  }
  if (is_gc_type_byte(byte)) {
    return unsupported(r, at, FEATURE_GC, "value type 0x%02x", byte);
  }
  if (is_exception_type_byte(byte)) {
    return unsupported(r, at, FEATURE_EXCEPTIONS, "value type 0x%02x", byte);
  }
  return fail(r, ENOEXEC, at, "invalid value type 0x%02x", byte);
}

/* Reads a value type into `*out` (may be NULL). */
static int read_value_type(struct reader* r, uint8_t* out) {
  const size_t at = r->pos;
  uint8_t byte;
  int status = read_byte(r, &byte);
  if (status == 0) status = check_value_type(r, byte, at);
  if (status == 0 && out != NULL) *out = byte;
  return status;
}

/* Reads a reference type (funcref or externref) into `*out` (may be NULL),
 * as tables and element segments use it, or, when `is_heap_type`, the heap
 * type of ref.null, where the function-references proposal also allows a
 * concrete type index. */
static int read_reference_type(struct reader* r, int is_heap_type,
                               uint8_t* out) {
  const size_t at = r->pos;
  uint8_t byte;
  int status = read_byte(r, &byte);
  if (status != 0) return status;
  if (byte == WUDF__WASM_FUNCREF || byte == WUDF__WASM_EXTERNREF) {
    if (out != NULL) *out = byte;
    return 0;
  }
  if (byte == WUDF__WASM_V128) {
    return unsupported(r, at, FEATURE_SIMD, "value type v128");
  }
  if (is_gc_type_byte(byte) || (is_heap_type && (byte & 0xC0) != 0x40)) {
    /* Besides the shorthands, a heap type byte that does not start a
     * negative s33 starts a concrete type index: a typed reference. */
    return unsupported(r, at, FEATURE_GC, "reference type 0x%02x", byte);
  }
  if (is_exception_type_byte(byte)) {
    return unsupported(r, at, FEATURE_EXCEPTIONS, "reference type 0x%02x",
                       byte);
  }
  return fail(r, ENOEXEC, at, "invalid reference type 0x%02x", byte);
}

/*
 * Reads a result type vector (vec(valtype), spec 5.3.5) of at most `limit`
 * entries into a new array stored through `*types` (NULL when empty) with its
 * length in `*count`. The array is stored before its entries are read, so the
 * info owns it even when an entry is bad. `what` is "parameters" or "results".
 */
static int read_result_type(struct reader* r, const char* what, uint32_t limit,
                            uint32_t* count, uint8_t** types) {
  uint32_t length = 0;
  int status = read_count(r, what, 1, limit, &length);
  if (status != 0) return status;
  if (length == 0) return 0;
  *types = wudf__malloc(length);
  if (*types == NULL) return out_of_memory(r);
  *count = length;
  for (uint32_t i = 0; i < length; i++) {
    status = read_value_type(r, &(*types)[i]);
    if (status != 0) return status;
  }
  return 0;
}

/*
 * Reads limits (spec 5.3.7) of a table or memory (`what`). Flags 0x00 and 0x01
 * are the MVP forms; 0x02/0x03 mark shared memories (threads) and 0x04-0x07
 * 64-bit indexes (memory64), both refused with ENOTSUP; other flags are
 * malformed. `*max` is left alone when there is no maximum.
 */
static int read_limits(struct reader* r, const char* what, uint32_t* min,
                       uint32_t* max, int* has_max) {
  const size_t at = r->pos;
  uint8_t flags;
  int status = read_byte(r, &flags);
  if (status != 0) return status;
  if (flags == 0x02 || flags == 0x03) {
    return unsupported(r, at, FEATURE_THREADS,
                       "shared %s (limits flags 0x%02x)", what, flags);
  }
  if (flags >= 0x04 && flags <= 0x07) {
    return unsupported(r, at, FEATURE_MEMORY64,
                       "64-bit %s (limits flags 0x%02x)", what, flags);
  }
  if (flags > 0x01) {
    return fail(r, ENOEXEC, at, "invalid limits flags 0x%02x", flags);
  }
  status = read_u32(r, min);
  if (status != 0) return status;
  *has_max = flags == 0x01;
  if (*has_max) status = read_u32(r, max);
  return status;
}

/*
 * Returns `array`, of `*capacity` entries of `entry_size` bytes, with room
 * for `needed` entries: itself, or a reallocation to double the capacity (at
 * least 16, at least `needed`; an array of capacity 0 is always allocated,
 * so the result is never NULL on success), updating `*capacity`. Returns
 * NULL (and `array` stays allocated) when that fails. The callers' counts are bounded
 * by the module's size or a limit, so the sizes cannot overflow.
 */
static void* reserve(void* array, size_t entry_size, uint32_t* capacity,
                     uint64_t needed) {
  if (needed <= *capacity && *capacity != 0) return array;
  uint64_t grown = *capacity != 0 ? (uint64_t)*capacity * 2 : 16;
  if (grown < needed) grown = needed;
  if (grown > UINT32_MAX) grown = UINT32_MAX;
  void* bigger = wudf__realloc(array, (size_t)grown * entry_size);
  if (bigger != NULL) *capacity = (uint32_t)grown;
  return bigger;
}

/*
 * Reads a table type (spec 5.3.9), counts the table in the table index space
 * and records its element type and, for table 0, its limits in the info. The
 * initial size is checked against max_table_size (EFBIG).
 */
static int read_table_type(struct reader* r) {
  const size_t at = r->pos;
  if (r->pos < r->end && r->bytes[r->pos] == 0x40) {
    return unsupported(r, at, FEATURE_GC, "table with an initializer");
  }
  uint8_t element_type = 0;
  int status = read_reference_type(r, 0, &element_type);
  if (status != 0) return status;
  uint32_t min = 0, max = UINT32_MAX;
  int has_max = 0;
  status = read_limits(r, "table", &min, &max, &has_max);
  if (status != 0) return status;
  if (has_max && min > max) {
    return fail(r, ENOEXEC, at,
                "table minimum %" PRIu32 " exceeds its maximum %" PRIu32, min,
                max);
  }
  if (min > r->limits->max_table_size) {
    return fail(r, EFBIG, at,
                "table of %" PRIu32 " initial elements (limit %" PRIu32 ")",
                min, r->limits->max_table_size);
  }
  if (r->table_total >= r->limits->max_tables) {
    return fail(r, EFBIG, at, "more than %" PRIu32 " tables (limit %" PRIu32 ": max_tables)",
                r->limits->max_tables, r->limits->max_tables);
  }
  uint8_t* table_types = reserve(r->table_types, 1, &r->table_type_capacity,
                                 (uint64_t)r->table_total + 1);
  if (table_types == NULL) return out_of_memory(r);
  r->table_types = table_types;
  if (r->table_total == 0) {
    r->info->table_min = min;
    r->info->table_max = has_max ? max : UINT32_MAX;
  }
  r->table_types[r->table_total++] = element_type;
  return 0;
}

/*
 * Reads a memory type (spec 5.3.8), imported or defined, and records it in
 * the info. A second memory in the module is refused (multi-memory); sizes
 * beyond 65536 pages or a minimum above the maximum are malformed.
 */
static int read_memory_type(struct reader* r) {
  const size_t at = r->pos;
  uint32_t min = 0, max = MAX_MEMORY_PAGES;
  int has_max = 0;
  int status = read_limits(r, "memory", &min, &max, &has_max);
  if (status != 0) return status;
  if (r->memory_total >= 1) {
    return unsupported(r, at, FEATURE_MULTI_MEMORY, "a second memory");
  }
  if (min > MAX_MEMORY_PAGES) {
    return fail(r, ENOEXEC, at,
                "memory minimum of %" PRIu32 " pages exceeds 65536 pages", min);
  }
  if (has_max && max > MAX_MEMORY_PAGES) {
    return fail(r, ENOEXEC, at,
                "memory maximum of %" PRIu32 " pages exceeds 65536 pages", max);
  }
  if (has_max && min > max) {
    return fail(r, ENOEXEC, at,
                "memory minimum %" PRIu32 " exceeds its maximum %" PRIu32, min,
                max);
  }
  r->memory_total++;
  r->info->has_memory = 1;
  r->info->memory_min_pages = min;
  r->info->memory_max_pages = has_max ? max : MAX_MEMORY_PAGES;
  r->info->memory_has_max = has_max;
  return 0;
}

/* Reads a global type (spec 5.3.10), counts the global in the global index
 * space, against max_globals, and records its type. */
static int read_global_type(struct reader* r) {
  const size_t at = r->pos;
  uint8_t type = 0;
  int status = read_value_type(r, &type);
  if (status != 0) return status;
  const size_t mut_at = r->pos;
  uint8_t mutability;
  status = read_byte(r, &mutability);
  if (status != 0) return status;
  if (mutability > 1) {
    return fail(r, ENOEXEC, mut_at, "invalid global mutability 0x%02x",
                mutability);
  }
  if (r->info->global_count >= r->limits->max_globals) {
    return fail(r, EFBIG, at, "more than %" PRIu32 " globals",
                r->limits->max_globals);
  }
  struct global_type* globals =
      reserve(r->globals, sizeof(*r->globals), &r->global_capacity,
              (uint64_t)r->info->global_count + 1);
  if (globals == NULL) return out_of_memory(r);
  r->globals = globals;
  r->globals[r->info->global_count].type = type;
  r->globals[r->info->global_count].is_mutable = mutability;
  r->info->global_count++;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Constant expressions                                                      */
/* ------------------------------------------------------------------------ */

/* Returns the text name of a value type byte ("any" for TYPE_UNKNOWN). */
static const char* type_name(uint8_t type) {
  switch (type) {
    case WUDF__WASM_I32: return "i32";
    case WUDF__WASM_I64: return "i64";
    case WUDF__WASM_F32: return "f32";
    case WUDF__WASM_F64: return "f64";
    case WUDF__WASM_FUNCREF: return "funcref";
    case WUDF__WASM_EXTERNREF: return "externref";
    case TYPE_UNKNOWN: return "any";
  }
  return "?";
}

/* Records that ref.func may name `function` in a body: it is named outside
 * the bodies (in a global, an element segment or an export; spec 3.4.10,
 * C.refs). The bitmap is made with the first entry, once the function index
 * space is complete. */
static int declare_function(struct reader* r, uint32_t function) {
  if (r->declared_functions == NULL) {
    r->declared_functions =
        wudf__calloc(((size_t)r->info->function_count + 7) / 8, 1);
    if (r->declared_functions == NULL) return out_of_memory(r);
  }
  r->declared_functions[function / 8] |= (uint8_t)(1u << (function % 8));
  return 0;
}

/* Returns nonzero when ref.func may name `function` in a body. */
static int is_declared_function(const struct reader* r, uint32_t function) {
  return r->declared_functions != NULL &&
         (r->declared_functions[function / 8] >> (function % 8)) & 1u;
}

/*
 * Reads a constant expression (spec 3.3.10 and 5.4.9) that must produce a
 * value of type `expected` (`what` names it for messages: "the initializer
 * of global 3"): exactly one of i32.const, i64.const, f32.const, f64.const,
 * global.get, ref.null or ref.func, followed by end. global.get may read an
 * immutable imported global (spec 3.4: constant expressions are checked in a
 * context whose globals are the imported ones). ref.func
 * declares its function (C.refs). v128.const and the GC constant
 * instructions are refused with ENOTSUP; anything else (including the
 * arithmetic of the extended-const proposal) is ENOEXEC.
 */
static int read_const_expr(struct reader* r, uint8_t expected,
                           const char* what) {
  const size_t start = r->pos;
  unsigned instructions = 0;
  uint8_t type = TYPE_UNKNOWN;
  for (;;) {
    const size_t at = r->pos;
    uint8_t op;
    int status = read_byte(r, &op);
    if (status != 0) return status;
    if (op == OP_END) break;
    switch (op) {
      case OP_I32_CONST:
      case OP_I64_CONST: {
        uint64_t ignored;
        status = read_leb(r, op == OP_I32_CONST ? 32 : 64, 1, &ignored);
        type = op == OP_I32_CONST ? WUDF__WASM_I32 : WUDF__WASM_I64;
        break;
      }
      case OP_F32_CONST:
        status = skip(r, 4);
        type = WUDF__WASM_F32;
        break;
      case OP_F64_CONST:
        status = skip(r, 8);
        type = WUDF__WASM_F64;
        break;
      case OP_GLOBAL_GET: {
        const size_t index_at = r->pos;
        uint32_t global = 0;
        status = read_u32(r, &global);
        if (status != 0) return status;
        if (global >= r->imported_global_count) {
          return invalid(r, index_at,
                         "unknown global %" PRIu32 " in %s (a constant "
                         "expression may read only the %" PRIu32
                         " imported globals)",
                         global, what, r->imported_global_count);
        }
        if (r->globals[global].is_mutable) {
          return invalid(r, at,
                         "constant expression required: %s reads mutable "
                         "global %" PRIu32,
                         what, global);
        }
        type = r->globals[global].type;
        break;
      }
      case OP_REF_NULL: status = read_reference_type(r, 1, &type); break;
      case OP_REF_FUNC: {
        uint32_t function = 0;
        status = read_index(r, "function", r->info->function_count, &function);
        if (status == 0) status = declare_function(r, function);
        type = WUDF__WASM_FUNCREF;
        break;
      }
      case OP_PREFIX_SIMD:
        return unsupported(r, at, FEATURE_SIMD,
                           "instruction 0xfd in a constant expression");
      case OP_PREFIX_GC:
        return unsupported(r, at, FEATURE_GC,
                           "instruction 0xfb in a constant expression");
      default:
        return fail(r, ENOEXEC, at,
                    "instruction 0x%02x is not allowed in a constant "
                    "expression",
                    op);
    }
    if (status != 0) return status;
    if (++instructions > 1) {
      return fail(r, ENOEXEC, at,
                  "constant expression has more than one instruction");
    }
  }
  if (instructions == 0) {
    return fail(r, ENOEXEC, start, "constant expression is empty");
  }
  if (type != expected) {
    return invalid(r, start, "type mismatch: %s is %s, expected %s", what,
                   type_name(type), type_name(expected));
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Function bodies                                                           */
/* ------------------------------------------------------------------------ */

/* Single value types, for the result of a block type written as one value
 * type: frames point into this array. */
static const uint8_t single_value_types[] = {
    WUDF__WASM_I32,     WUDF__WASM_I64,     WUDF__WASM_F32,
    WUDF__WASM_F64,     WUDF__WASM_FUNCREF, WUDF__WASM_EXTERNREF};

/* Returns a pointer to `type` in single_value_types; `type` is a supported
 * value type. */
static const uint8_t* single_value_type(uint8_t type) {
  for (size_t i = 0; i + 1 < sizeof(single_value_types); i++) {
    if (single_value_types[i] == type) return &single_value_types[i];
  }
  return &single_value_types[sizeof(single_value_types) - 1];
}

/* Returns the name of an instruction the engine refuses, for messages. */
static const char* refused_instruction_name(uint8_t op) {
  switch (op) {
    case 0x06: return "try";
    case 0x07: return "catch";
    case 0x08: return "throw";
    case 0x09: return "rethrow";
    case 0x0A: return "throw_ref";
    case 0x12: return "return_call";
    case 0x13: return "return_call_indirect";
    case 0x14: return "call_ref";
    case 0x15: return "return_call_ref";
    case 0x18: return "delegate";
    case 0x19: return "catch_all";
    case 0x1F: return "try_table";
    case 0xD3: return "ref.as_non_null/ref.eq";
    case 0xD4: return "br_on_null/ref.as_non_null";
    case 0xD5: return "br_on_non_null/br_on_null";
    case 0xD6: return "br_on_non_null";
  }
  return "?";
}

/* Writes the instruction being checked ("instruction 0x6a", "instruction
 * 0xfc 17") into `out`, for messages. */
static void describe_instruction(const struct reader* r, char* out,
                                 size_t size) {
  if (r->op_prefix != 0) {
    snprintf(out, size, "instruction 0x%02" PRIx32 " %" PRIu32, r->op_prefix,
             r->op_code);
  } else {
    snprintf(out, size, "instruction 0x%02" PRIx32, r->op_code);
  }
}

/* Returns the innermost open frame. */
static struct frame* top_frame(struct reader* r) {
  return &r->frames[r->frame_count - 1];
}

/* Pushes an operand of `type` (TYPE_UNKNOWN allowed) for the instruction at
 * `at`. The operand stack may not grow beyond max_operand_stack (EFBIG), so
 * multi-value results cannot make it huge. */
static int push_value(struct reader* r, uint8_t type, size_t at) {
  if (r->value_count == r->value_capacity) {
    if (r->value_count >= r->limits->max_operand_stack) {
      return fail(r, EFBIG, at,
                  "operand stack deeper than %" PRIu32 " values",
                  r->limits->max_operand_stack);
    }
    size_t capacity = r->value_capacity != 0 ? r->value_capacity * 2 : 256;
    if (capacity > r->limits->max_operand_stack) {
      capacity = r->limits->max_operand_stack;
    }
    uint8_t* values = wudf__realloc(r->values, capacity);
    if (values == NULL) return out_of_memory(r);
    r->values = values;
    r->value_capacity = capacity;
  }
  r->values[r->value_count++] = type;
  return 0;
}

/* Pushes `count` operands of the given types. */
static int push_values(struct reader* r, const uint8_t* types, uint32_t count,
                       size_t at) {
  for (uint32_t i = 0; i < count; i++) {
    int status = push_value(r, types[i], at);
    if (status != 0) return status;
  }
  return 0;
}

/*
 * Pops an operand that must be of type `expected` (TYPE_UNKNOWN: any type)
 * for the instruction at `at` and stores its type in `*actual` (may be
 * NULL). Below the innermost frame's height there is nothing to pop, unless
 * the frame's rest is unreachable, where the stack is polymorphic and the
 * operand is TYPE_UNKNOWN.
 */
static int pop_value(struct reader* r, size_t at, uint8_t expected,
                     uint8_t* actual) {
  const struct frame* frame = top_frame(r);
  uint8_t type = TYPE_UNKNOWN;
  char instruction[40];
  if (r->value_count == frame->height) {
    if (!frame->unreachable) {
      describe_instruction(r, instruction, sizeof(instruction));
      return invalid(r, at,
                     "type mismatch: %s needs an operand of type %s but the "
                     "operand stack of its block is empty",
                     instruction, type_name(expected));
    }
  } else {
    type = r->values[--r->value_count];
  }
  if (expected != TYPE_UNKNOWN && type != TYPE_UNKNOWN && type != expected) {
    describe_instruction(r, instruction, sizeof(instruction));
    return invalid(r, at,
                   "type mismatch: %s needs an operand of type %s but finds %s",
                   instruction, type_name(expected), type_name(type));
  }
  if (actual != NULL) *actual = type;
  return 0;
}

/* Pops `count` operands of the given types (the last one first). */
static int pop_values(struct reader* r, const uint8_t* types, uint32_t count,
                      size_t at) {
  for (uint32_t i = count; i > 0; i--) {
    int status = pop_value(r, at, types[i - 1], NULL);
    if (status != 0) return status;
  }
  return 0;
}

/*
 * Checks, without popping, that the top of the operand stack holds `count`
 * operands of the given types, as popping and pushing them back would
 * (br_table checks every target's types this way). Positions below the
 * innermost frame's height match only where its rest is unreachable.
 */
static int peek_values(struct reader* r, const uint8_t* types, uint32_t count,
                       size_t at) {
  const struct frame* frame = top_frame(r);
  const size_t available = r->value_count - frame->height;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t expected = types[count - 1 - i]; /* i-th from the top */
    uint8_t type = TYPE_UNKNOWN;
    char instruction[40];
    if (i < available) {
      type = r->values[r->value_count - 1 - i];
    } else if (!frame->unreachable) {
      describe_instruction(r, instruction, sizeof(instruction));
      return invalid(r, at,
                     "type mismatch: %s needs %" PRIu32 " operands but the "
                     "operand stack of its block has %zu",
                     instruction, count, available);
    }
    if (type != TYPE_UNKNOWN && type != expected) {
      describe_instruction(r, instruction, sizeof(instruction));
      return invalid(r, at,
                     "type mismatch: %s needs an operand of type %s but finds "
                     "%s",
                     instruction, type_name(expected), type_name(type));
    }
  }
  return 0;
}

/*
 * Opens a block of `kind` with the given parameter and result types (the
 * parameters already popped by the caller) and pushes its parameters again
 * inside it. Nesting deeper than max_block_depth (the function's own frame
 * not counted) is EFBIG; the stack grows by doubling, bounded by the body
 * size.
 */
static int push_frame(struct reader* r, uint8_t kind, const uint8_t* params,
                      uint32_t param_count, const uint8_t* results,
                      uint32_t result_count, size_t at) {
  if (kind != FRAME_FUNCTION && r->frame_count > r->limits->max_block_depth) {
    return fail(r, EFBIG, at, "blocks nested more than %" PRIu32 " deep",
                r->limits->max_block_depth);
  }
  if (r->frame_count == r->frame_capacity) {
    size_t capacity = r->frame_capacity != 0 ? r->frame_capacity * 2 : 16;
    struct frame* frames =
        wudf__realloc(r->frames, capacity * sizeof(*frames));
    if (frames == NULL) return out_of_memory(r);
    r->frames = frames;
    r->frame_capacity = capacity;
  }
  struct frame* frame = &r->frames[r->frame_count++];
  frame->kind = kind;
  frame->unreachable = 0;
  frame->params = params;
  frame->param_count = param_count;
  frame->results = results;
  frame->result_count = result_count;
  frame->height = r->value_count;
  return push_values(r, params, param_count, at);
}

/* Closes the innermost block at its `end` or `else` (at `at`): its results
 * must be exactly what is left on its operand stack. Copies the frame to
 * `*closed`. */
static int pop_frame(struct reader* r, size_t at, struct frame* closed) {
  struct frame* frame = top_frame(r);
  int status = pop_values(r, frame->results, frame->result_count, at);
  if (status != 0) return status;
  if (r->value_count != frame->height) {
    return invalid(r, at,
                   "type mismatch: %zu operands left on the stack at the end "
                   "of a block with %" PRIu32 " results",
                   r->value_count - frame->height + frame->result_count,
                   frame->result_count);
  }
  *closed = *frame;
  r->frame_count--;
  return 0;
}

/* Makes the rest of the innermost block unreachable (after unreachable, br,
 * br_table, return): its operand stack becomes polymorphic. */
static void set_unreachable(struct reader* r) {
  struct frame* frame = top_frame(r);
  r->value_count = frame->height;
  frame->unreachable = 1;
}

/* The types a branch to `frame` carries: a loop's parameters, any other
 * block's results. */
static void label_types(const struct frame* frame, const uint8_t** types,
                        uint32_t* count) {
  if (frame->kind == FRAME_LOOP) {
    *types = frame->params;
    *count = frame->param_count;
  } else {
    *types = frame->results;
    *count = frame->result_count;
  }
}

/* Returns nonzero when two type vectors are equal. */
static int same_types(const uint8_t* a, uint32_t a_count, const uint8_t* b,
                      uint32_t b_count) {
  return a_count == b_count && (a_count == 0 || memcmp(a, b, a_count) == 0);
}

/*
 * Reads a block type (spec 5.4.1): 0x40 (no parameters or results), a value
 * type (one result), or a non-negative s33 index into the type section (its
 * parameters and results).
 */
static int read_block_type(struct reader* r, const uint8_t** params,
                           uint32_t* param_count, const uint8_t** results,
                           uint32_t* result_count) {
  const size_t at = r->pos;
  int status = need(r, 1);
  if (status != 0) return status;
  const uint8_t byte = r->bytes[r->pos];
  *params = *results = NULL;
  *param_count = *result_count = 0;
  if (byte == 0x40) {
    r->pos++;
    return 0;
  }
  if ((byte & 0xC0) == 0x40) {
    /* A one-byte negative s33: the value-type shorthand. */
    r->pos++;
    status = check_value_type(r, byte, at);
    if (status != 0) return status;
    *results = single_value_type(byte);
    *result_count = 1;
    return 0;
  }
  int64_t index;
  status = read_s33(r, &index);
  if (status != 0) return status;
  if (index < 0) {
    return fail(r, ENOEXEC, at, "invalid block type %" PRId64, index);
  }
  if ((uint64_t)index >= r->info->type_count) {
    return fail(r, ENOEXEC, at,
                "type index %" PRId64 " out of range (the module has %" PRIu32
                ")",
                index, r->info->type_count);
  }
  const struct wudf__wasm_functype* type = &r->info->types[index];
  *params = type->params;
  *param_count = type->param_count;
  *results = type->results;
  *result_count = type->result_count;
  return 0;
}

/* Reads a branch label, checks that it names one of the open blocks (the
 * function's own frame included) and returns that block's frame. */
static int read_label(struct reader* r, const struct frame** target) {
  const size_t at = r->pos;
  uint32_t label;
  int status = read_u32(r, &label);
  if (status != 0) return status;
  if (label >= r->frame_count) {
    return fail(r, ENOEXEC, at,
                "branch depth %" PRIu32 " out of range (%zu enclosing blocks)",
                label, r->frame_count);
  }
  *target = &r->frames[r->frame_count - 1 - label];
  return 0;
}

/* Fails with ENOEXEC unless the module has a memory for the instruction at
 * `at` (described by `what`) to use. */
static int need_memory(struct reader* r, size_t at, const char* what) {
  if (r->memory_total != 0) return 0;
  return fail(r, ENOEXEC, at, "%s uses memory 0 but the module has no memory",
              what);
}

/* Reads the reserved memory-index byte of memory.size, memory.grow and the
 * bulk memory instructions: zero, or multi-memory (ENOTSUP). */
static int read_memory_byte(struct reader* r, const char* what) {
  const size_t at = r->pos;
  uint8_t byte;
  int status = read_byte(r, &byte);
  if (status != 0) return status;
  if (byte != 0) {
    return unsupported(r, at, FEATURE_MULTI_MEMORY,
                       "%s with memory byte 0x%02x", what, byte);
  }
  return 0;
}

/*
 * Reads the memarg of load/store `op` (spec 5.4.6) and checks its operands:
 * a load pops an i32 address and pushes its value type, a store pops the
 * value and the address. An alignment field with bit 6 set announces an
 * explicit memory index (multi-memory, ENOTSUP); an alignment above the
 * access's natural alignment, or a field of 128 or more, is ENOEXEC.
 */
static int read_memarg(struct reader* r, uint8_t op, size_t op_at) {
  /* log2 of the access width, and the value type, of opcodes 0x28
   * (i32.load) to 0x3e (i64.store32). */
  static const uint8_t natural_alignment[] = {
      2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, /* loads  0x28-0x35 */
      2, 3, 2, 3, 0, 1, 0, 1, 2                 /* stores 0x36-0x3e */
  };
  static const uint8_t value_type[] = {
      WUDF__WASM_I32, WUDF__WASM_I64, WUDF__WASM_F32, WUDF__WASM_F64,
      WUDF__WASM_I32, WUDF__WASM_I32, WUDF__WASM_I32, WUDF__WASM_I32,
      WUDF__WASM_I64, WUDF__WASM_I64, WUDF__WASM_I64, WUDF__WASM_I64,
      WUDF__WASM_I64, WUDF__WASM_I64,                   /* loads */
      WUDF__WASM_I32, WUDF__WASM_I64, WUDF__WASM_F32, WUDF__WASM_F64,
      WUDF__WASM_I32, WUDF__WASM_I32, WUDF__WASM_I64, WUDF__WASM_I64,
      WUDF__WASM_I64                                    /* stores */
  };
  const size_t at = r->pos;
  uint32_t align, offset;
  int status = read_u32(r, &align);
  if (status != 0) return status;
  if (align & 0x40) {
    return unsupported(r, at, FEATURE_MULTI_MEMORY,
                       "memory index in the memory argument of instruction "
                       "0x%02x",
                       op);
  }
  const uint8_t natural = natural_alignment[op - 0x28];
  if (align > natural) {
    return invalid(r, at,
                   "alignment 2**%" PRIu32
                   " exceeds the natural alignment 2**%u of instruction 0x%02x",
                   align, natural, op);
  }
  status = read_u32(r, &offset);
  if (status == 0) status = need_memory(r, op_at, "a load or store");
  if (status != 0) return status;
  const uint8_t type = value_type[op - 0x28];
  if (op <= 0x35) {
    status = pop_value(r, op_at, WUDF__WASM_I32, NULL);
    return status == 0 ? push_value(r, type, op_at) : status;
  }
  status = pop_value(r, op_at, type, NULL);
  return status == 0 ? pop_value(r, op_at, WUDF__WASM_I32, NULL) : status;
}

/* Pops `count` i32 operands (the lengths, offsets and indexes of the bulk
 * memory and table instructions). */
static int pop_i32s(struct reader* r, unsigned count, size_t at) {
  for (unsigned i = 0; i < count; i++) {
    int status = pop_value(r, at, WUDF__WASM_I32, NULL);
    if (status != 0) return status;
  }
  return 0;
}

/* Fails with ENOEXEC unless the module has a data count section, which
 * memory.init and data.drop need (spec 5.5.13). Reads the data index. */
static int read_data_index(struct reader* r, uint32_t subop, size_t at) {
  if (!r->has_data_count) {
    return fail(r, ENOEXEC, at,
                "instruction 0xfc %" PRIu32 " needs a data count section",
                subop);
  }
  return read_index(r, "data segment", r->data_count, NULL);
}

/* Fails with "type mismatch" at `at` unless reference types `a` (of `what_a`)
 * and `b` (of `what_b`) are equal. */
static int same_reference_type(struct reader* r, size_t at, uint8_t a,
                               const char* what_a, uint32_t index_a,
                               uint8_t b, const char* what_b,
                               uint32_t index_b) {
  if (a == b) return 0;
  return invalid(r, at,
                 "type mismatch: %s %" PRIu32 " holds %s but %s %" PRIu32
                 " holds %s",
                 what_a, index_a, type_name(a), what_b, index_b,
                 type_name(b));
}

/*
 * Reads and checks the rest of a 0xFC-prefixed instruction at `at`: the
 * saturating truncations (0-7), bulk memory (8-11) and table operations
 * (12-17).
 */
static int read_misc_instruction(struct reader* r, size_t at) {
  uint32_t subop;
  int status = read_u32(r, &subop);
  if (status != 0) return status;
  r->op_prefix = OP_PREFIX_MISC;
  r->op_code = subop;
  const uint64_t tables = r->table_total;
  uint32_t table = 0, other = 0, segment = 0;
  switch (subop) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: {
      /* iNN.trunc_sat_fMM_s/u: f32 sources first, i32 results first. */
      const uint8_t source = (subop & 2) ? WUDF__WASM_F64 : WUDF__WASM_F32;
      const uint8_t result = subop < 4 ? WUDF__WASM_I32 : WUDF__WASM_I64;
      status = pop_value(r, at, source, NULL);
      return status == 0 ? push_value(r, result, at) : status;
    }
    case 8: /* memory.init dataidx 0x00 */
      status = read_data_index(r, subop, at);
      if (status == 0) status = read_memory_byte(r, "memory.init");
      if (status == 0) status = need_memory(r, at, "memory.init");
      return status == 0 ? pop_i32s(r, 3, at) : status;
    case 9: /* data.drop dataidx */
      return read_data_index(r, subop, at);
    case 10: /* memory.copy 0x00 0x00 */
      status = read_memory_byte(r, "memory.copy");
      if (status == 0) status = read_memory_byte(r, "memory.copy");
      if (status == 0) status = need_memory(r, at, "memory.copy");
      return status == 0 ? pop_i32s(r, 3, at) : status;
    case 11: /* memory.fill 0x00 */
      status = read_memory_byte(r, "memory.fill");
      if (status == 0) status = need_memory(r, at, "memory.fill");
      return status == 0 ? pop_i32s(r, 3, at) : status;
    case 12: /* table.init elemidx tableidx */
      status = read_index(r, "element segment", r->element_count, &segment);
      if (status == 0) status = read_index(r, "table", tables, &table);
      if (status == 0) {
        status = same_reference_type(r, at, r->table_types[table], "table",
                                     table, r->element_types[segment],
                                     "element segment", segment);
      }
      return status == 0 ? pop_i32s(r, 3, at) : status;
    case 13: /* elem.drop elemidx */
      return read_index(r, "element segment", r->element_count, NULL);
    case 14: /* table.copy tableidx tableidx */
      status = read_index(r, "table", tables, &table);
      if (status == 0) status = read_index(r, "table", tables, &other);
      if (status == 0) {
        status = same_reference_type(r, at, r->table_types[table], "table",
                                     table, r->table_types[other], "table",
                                     other);
      }
      return status == 0 ? pop_i32s(r, 3, at) : status;
    case 15: /* table.grow tableidx: [t i32] -> [i32] */
      status = read_index(r, "table", tables, &table);
      if (status == 0) status = pop_value(r, at, WUDF__WASM_I32, NULL);
      if (status == 0) status = pop_value(r, at, r->table_types[table], NULL);
      return status == 0 ? push_value(r, WUDF__WASM_I32, at) : status;
    case 16: /* table.size tableidx: [] -> [i32] */
      status = read_index(r, "table", tables, NULL);
      return status == 0 ? push_value(r, WUDF__WASM_I32, at) : status;
    case 17: /* table.fill tableidx: [i32 t i32] -> [] */
      status = read_index(r, "table", tables, &table);
      if (status == 0) status = pop_value(r, at, WUDF__WASM_I32, NULL);
      if (status == 0) status = pop_value(r, at, r->table_types[table], NULL);
      return status == 0 ? pop_value(r, at, WUDF__WASM_I32, NULL) : status;
  }
  return fail(r, ENOEXEC, at, "unknown opcode 0xfc %" PRIu32, subop);
}

/* Decodes, without reporting errors, the u32 sub-opcode after a prefix byte
 * at `at` so refusal messages can name it; returns 0 when it cannot. */
static int peek_subopcode(const struct reader* r, size_t at, uint32_t* out) {
  uint32_t value = 0;
  for (unsigned i = 0; i < 5 && at + 1 + i < r->end; i++) {
    const uint8_t byte = r->bytes[at + 1 + i];
    value |= (uint32_t)(byte & 0x7Fu) << (7 * i);
    if (!(byte & 0x80)) {
      *out = value;
      return 1;
    }
  }
  return 0;
}

/* Fails with ENOTSUP for the prefixed instruction at `at` (0xFB, 0xFD or
 * 0xFE), naming its sub-opcode when it can be decoded. */
static int refuse_prefixed(struct reader* r, uint8_t prefix, size_t at) {
  const char* feature = prefix == OP_PREFIX_SIMD ? FEATURE_SIMD
                        : prefix == OP_PREFIX_THREADS ? FEATURE_THREADS
                                                      : FEATURE_GC;
  uint32_t subop;
  if (peek_subopcode(r, at, &subop)) {
    return unsupported(r, at, feature, "instruction 0x%02x 0x%02" PRIx32,
                       prefix, subop);
  }
  return unsupported(r, at, feature, "instruction 0x%02x", prefix);
}

/*
 * The operand and result types of numeric instruction `op` (0x45-0xC4, spec
 * 5.4.7): `*first` and `*second` are its operands (`*second` is
 * TYPE_UNKNOWN for one operand), `*result` its result.
 */
static void numeric_signature(uint8_t op, uint8_t* first, uint8_t* second,
                              uint8_t* result) {
  const uint8_t i32 = WUDF__WASM_I32, i64 = WUDF__WASM_I64;
  const uint8_t f32 = WUDF__WASM_F32, f64 = WUDF__WASM_F64;
  uint8_t a = i32, b = TYPE_UNKNOWN, out = i32;
  if (op == 0x45) {                      /* i32.eqz */
  } else if (op <= 0x4F) {               /* i32 comparisons */
    b = i32;
  } else if (op == 0x50) {               /* i64.eqz */
    a = i64;
  } else if (op <= 0x5A) {               /* i64 comparisons */
    a = b = i64;
  } else if (op <= 0x60) {               /* f32 comparisons */
    a = b = f32;
  } else if (op <= 0x66) {               /* f64 comparisons */
    a = b = f64;
  } else if (op <= 0x69) {               /* i32 clz, ctz, popcnt */
  } else if (op <= 0x78) {               /* i32 binary */
    b = i32;
  } else if (op <= 0x7B) {               /* i64 clz, ctz, popcnt */
    a = out = i64;
  } else if (op <= 0x8A) {               /* i64 binary */
    a = b = out = i64;
  } else if (op <= 0x91) {               /* f32 unary */
    a = out = f32;
  } else if (op <= 0x98) {               /* f32 binary */
    a = b = out = f32;
  } else if (op <= 0x9F) {               /* f64 unary */
    a = out = f64;
  } else if (op <= 0xA6) {               /* f64 binary */
    a = b = out = f64;
  } else {
    /* Conversions 0xA7-0xBF and sign extension 0xC0-0xC4: source, result. */
    static const uint8_t conversions[][2] = {
        {0x7E, 0x7F},                                         /* wrap */
        {0x7D, 0x7F}, {0x7D, 0x7F}, {0x7C, 0x7F}, {0x7C, 0x7F}, /* i32.trunc */
        {0x7F, 0x7E}, {0x7F, 0x7E},                           /* extend */
        {0x7D, 0x7E}, {0x7D, 0x7E}, {0x7C, 0x7E}, {0x7C, 0x7E}, /* i64.trunc */
        {0x7F, 0x7D}, {0x7F, 0x7D}, {0x7E, 0x7D}, {0x7E, 0x7D}, /* f32.conv */
        {0x7C, 0x7D},                                         /* demote */
        {0x7F, 0x7C}, {0x7F, 0x7C}, {0x7E, 0x7C}, {0x7E, 0x7C}, /* f64.conv */
        {0x7D, 0x7C},                                         /* promote */
        {0x7D, 0x7F}, {0x7C, 0x7E}, {0x7F, 0x7D}, {0x7E, 0x7C}, /* reinterp */
        {0x7F, 0x7F}, {0x7F, 0x7F},                           /* i32.extend */
        {0x7E, 0x7E}, {0x7E, 0x7E}, {0x7E, 0x7E}};            /* i64.extend */
    a = conversions[op - 0xA7][0];
    out = conversions[op - 0xA7][1];
  }
  *first = a;
  *second = b;
  *result = out;
}

/* Checks a call of a function of `type` at `at`: pops its parameters and
 * pushes its results. */
static int check_call(struct reader* r, const struct wudf__wasm_functype* type,
                      size_t at) {
  int status = pop_values(r, type->params, type->param_count, at);
  return status == 0 ? push_values(r, type->results, type->result_count, at)
                     : status;
}

/* Checks select without a type (spec 3.3.2): two operands of one numeric
 * type (or of unknown type in unreachable code) and an i32 condition. */
static int check_untyped_select(struct reader* r, size_t at) {
  uint8_t first = TYPE_UNKNOWN, second = TYPE_UNKNOWN;
  int status = pop_value(r, at, WUDF__WASM_I32, NULL);
  if (status == 0) status = pop_value(r, at, TYPE_UNKNOWN, &second);
  if (status == 0) status = pop_value(r, at, TYPE_UNKNOWN, &first);
  if (status != 0) return status;
  const uint8_t reference = first == WUDF__WASM_FUNCREF ||
                                    first == WUDF__WASM_EXTERNREF
                                ? first
                                : second;
  if (reference == WUDF__WASM_FUNCREF || reference == WUDF__WASM_EXTERNREF) {
    return invalid(r, at,
                   "type mismatch: select without a type cannot choose "
                   "between references (%s); select (result %s) can",
                   type_name(reference), type_name(reference));
  }
  if (first != TYPE_UNKNOWN && second != TYPE_UNKNOWN && first != second) {
    return invalid(r, at,
                   "type mismatch: select chooses between %s and %s",
                   type_name(first), type_name(second));
  }
  return push_value(r, first != TYPE_UNKNOWN ? first : second, at);
}

/* Checks br_table at `at` (its i32 operand already popped): every target
 * must take as many values as the first, of the types on the stack. */
static int check_br_table(struct reader* r, size_t at) {
  uint32_t count = 0;
  int status = read_count(r, "branch targets", 1, UINT32_MAX, &count);
  const uint8_t* types = NULL;
  uint32_t arity = 0;
  for (uint64_t i = 0; status == 0 && i <= count; i++) {
    const struct frame* target = NULL;
    status = read_label(r, &target);
    if (status != 0) break;
    const uint8_t* target_types = NULL;
    uint32_t target_arity = 0;
    label_types(target, &target_types, &target_arity);
    if (i == 0) {
      arity = target_arity;
    } else if (target_arity != arity) {
      return invalid(r, at,
                     "type mismatch: br_table targets take %" PRIu32
                     " and %" PRIu32 " values",
                     arity, target_arity);
    }
    types = target_types;
    status = peek_values(r, target_types, target_arity, at);
  }
  if (status == 0) status = pop_values(r, types, arity, at);
  if (status == 0) set_unreachable(r);
  return status;
}

/*
 * Walks and type-checks the instructions of the current function body, whose
 * type is `type` and whose locals (parameters included) are in r->locals, up
 * to and including the end that closes the function's own block. Decodes
 * every immediate, checks every index, and runs the validation algorithm of
 * the specification's appendix: each instruction pops its operands from and
 * pushes its results onto the operand stack of its innermost block.
 */
static int read_instructions(struct reader* r,
                             const struct wudf__wasm_functype* type) {
  struct wudf__wasm_info* info = r->info;
  r->value_count = 0;
  r->frame_count = 0;
  int status = push_frame(r, FRAME_FUNCTION, NULL, 0, type->results,
                          type->result_count, r->pos);
  while (status == 0 && r->frame_count > 0) {
    const size_t at = r->pos;
    uint8_t op;
    status = read_byte(r, &op);
    if (status != 0) break;
    r->op_prefix = 0;
    r->op_code = op;
    const uint8_t* params = NULL;
    const uint8_t* results = NULL;
    uint32_t param_count = 0, result_count = 0, index = 0;
    const struct frame* target = NULL;
    struct frame closed;
    uint8_t value_type = 0;
    switch (op) {
      case 0x00: /* unreachable */
        set_unreachable(r);
        break;
      case 0x01: /* nop */
        break;
      case OP_BLOCK:
      case OP_LOOP:
      case OP_IF:
        status = read_block_type(r, &params, &param_count, &results,
                                 &result_count);
        if (status == 0 && op == OP_IF) {
          status = pop_value(r, at, WUDF__WASM_I32, NULL);
        }
        if (status == 0) status = pop_values(r, params, param_count, at);
        if (status == 0) {
          status = push_frame(r,
                              op == OP_BLOCK  ? FRAME_BLOCK
                              : op == OP_LOOP ? FRAME_LOOP
                                              : FRAME_IF,
                              params, param_count, results, result_count, at);
        }
        break;
      case OP_ELSE:
        if (top_frame(r)->kind != FRAME_IF) {
          status = fail(r, ENOEXEC, at, "else without a matching if");
          break;
        }
        status = pop_frame(r, at, &closed);
        if (status == 0) {
          status = push_frame(r, FRAME_ELSE, closed.params,
                              closed.param_count, closed.results,
                              closed.result_count, at);
        }
        break;
      case OP_END:
        status = pop_frame(r, at, &closed);
        if (status != 0) break;
        if (closed.kind == FRAME_IF &&
            !same_types(closed.params, closed.param_count, closed.results,
                        closed.result_count)) {
          status = invalid(r, at,
                           "type mismatch: an if without else must have the "
                           "same parameters and results");
          break;
        }
        if (r->frame_count > 0) {
          status = push_values(r, closed.results, closed.result_count, at);
        }
        break;
      case 0x0C: /* br */
        status = read_label(r, &target);
        if (status != 0) break;
        label_types(target, &results, &result_count);
        status = pop_values(r, results, result_count, at);
        if (status == 0) set_unreachable(r);
        break;
      case 0x0D: /* br_if */
        status = read_label(r, &target);
        if (status != 0) break;
        label_types(target, &results, &result_count);
        status = pop_value(r, at, WUDF__WASM_I32, NULL);
        if (status == 0) status = pop_values(r, results, result_count, at);
        if (status == 0) status = push_values(r, results, result_count, at);
        break;
      case 0x0E: /* br_table vec(labelidx) labelidx */
        status = pop_value(r, at, WUDF__WASM_I32, NULL);
        if (status == 0) status = check_br_table(r, at);
        break;
      case 0x0F: /* return */
        status = pop_values(r, type->results, type->result_count, at);
        if (status == 0) set_unreachable(r);
        break;
      case 0x10: /* call funcidx */
        status = read_index(r, "function", info->function_count, &index);
        if (status == 0) {
          status = check_call(r, &info->types[info->function_types[index]],
                              at);
        }
        break;
      case 0x11: { /* call_indirect typeidx tableidx */
        uint32_t table = 0;
        status = read_index(r, "type", info->type_count, &index);
        if (status == 0) status = read_index(r, "table", r->table_total, &table);
        if (status != 0) break;
        if (r->table_types[table] != WUDF__WASM_FUNCREF) {
          status = invalid(r, at,
                           "type mismatch: call_indirect through table %" PRIu32
                           " of %s",
                           table, type_name(r->table_types[table]));
          break;
        }
        status = pop_value(r, at, WUDF__WASM_I32, NULL);
        if (status == 0) status = check_call(r, &info->types[index], at);
        break;
      }
      case 0x06: case 0x07: case 0x08: case 0x09: case 0x0A: case 0x18:
      case 0x19: case 0x1F:
        status = unsupported(r, at, FEATURE_EXCEPTIONS,
                             "instruction 0x%02x (%s)", op,
                             refused_instruction_name(op));
        break;
      case 0x12: case 0x13:
        status = unsupported(r, at, FEATURE_TAIL_CALLS,
                             "instruction 0x%02x (%s)", op,
                             refused_instruction_name(op));
        break;
      case 0x14: case 0x15: case 0xD3: case 0xD4: case 0xD5: case 0xD6:
        status = unsupported(r, at, FEATURE_GC, "instruction 0x%02x (%s)", op,
                             refused_instruction_name(op));
        break;
      case 0x1A: /* drop */
        status = pop_value(r, at, TYPE_UNKNOWN, NULL);
        break;
      case 0x1B: /* select */
        status = check_untyped_select(r, at);
        break;
      case 0x1C: { /* select vec(valtype) */
        uint32_t count = 0;
        status = read_count(r, "select types", 1, UINT32_MAX, &count);
        for (uint32_t i = 0; status == 0 && i < count; i++) {
          status = read_value_type(r, &value_type);
        }
        if (status != 0) break;
        if (count != 1) {
          status = invalid(r, at,
                           "invalid result arity: select with %" PRIu32
                           " types (it takes exactly one)",
                           count);
          break;
        }
        status = pop_value(r, at, WUDF__WASM_I32, NULL);
        if (status == 0) status = pop_value(r, at, value_type, NULL);
        if (status == 0) status = pop_value(r, at, value_type, NULL);
        if (status == 0) status = push_value(r, value_type, at);
        break;
      }
      case 0x20: /* local.get */
      case 0x21: /* local.set */
      case 0x22: /* local.tee */
        status = read_index(r, "local", r->local_count, &index);
        if (status != 0) break;
        value_type = r->locals[index];
        if (op != 0x20) status = pop_value(r, at, value_type, NULL);
        if (status == 0 && op != 0x21) status = push_value(r, value_type, at);
        break;
      case 0x23: /* global.get */
      case 0x24: /* global.set */
        status = read_index(r, "global", info->global_count, &index);
        if (status != 0) break;
        value_type = r->globals[index].type;
        if (op == 0x23) {
          status = push_value(r, value_type, at);
        } else if (!r->globals[index].is_mutable) {
          status = invalid(r, at,
                           "global is immutable: global.set of global %" PRIu32,
                           index);
        } else {
          status = pop_value(r, at, value_type, NULL);
        }
        break;
      case 0x25: /* table.get: [i32] -> [t] */
        status = read_index(r, "table", r->table_total, &index);
        if (status == 0) status = pop_value(r, at, WUDF__WASM_I32, NULL);
        if (status == 0) status = push_value(r, r->table_types[index], at);
        break;
      case 0x26: /* table.set: [i32 t] -> [] */
        status = read_index(r, "table", r->table_total, &index);
        if (status == 0) status = pop_value(r, at, r->table_types[index], NULL);
        if (status == 0) status = pop_value(r, at, WUDF__WASM_I32, NULL);
        break;
      case 0x3F:   /* memory.size 0x00: [] -> [i32] */
      case 0x40: { /* memory.grow 0x00: [i32] -> [i32] */
        const char* name = op == 0x3F ? "memory.size" : "memory.grow";
        status = read_memory_byte(r, name);
        if (status == 0) status = need_memory(r, at, name);
        if (status == 0 && op == 0x40) {
          status = pop_value(r, at, WUDF__WASM_I32, NULL);
        }
        if (status == 0) status = push_value(r, WUDF__WASM_I32, at);
        break;
      }
      case OP_I32_CONST:
      case OP_I64_CONST: {
        uint64_t ignored;
        status = read_leb(r, op == OP_I32_CONST ? 32 : 64, 1, &ignored);
        if (status == 0) {
          status = push_value(
              r, op == OP_I32_CONST ? WUDF__WASM_I32 : WUDF__WASM_I64, at);
        }
        break;
      }
      case OP_F32_CONST:
        status = skip(r, 4);
        if (status == 0) status = push_value(r, WUDF__WASM_F32, at);
        break;
      case OP_F64_CONST:
        status = skip(r, 8);
        if (status == 0) status = push_value(r, WUDF__WASM_F64, at);
        break;
      case OP_REF_NULL:
        status = read_reference_type(r, 1, &value_type);
        if (status == 0) status = push_value(r, value_type, at);
        break;
      case 0xD1: /* ref.is_null: [t] -> [i32] for a reference type t */
        status = pop_value(r, at, TYPE_UNKNOWN, &value_type);
        if (status != 0) break;
        if (value_type != TYPE_UNKNOWN && value_type != WUDF__WASM_FUNCREF &&
            value_type != WUDF__WASM_EXTERNREF) {
          status = invalid(r, at,
                           "type mismatch: ref.is_null needs a reference but "
                           "finds %s",
                           type_name(value_type));
          break;
        }
        status = push_value(r, WUDF__WASM_I32, at);
        break;
      case OP_REF_FUNC:
        status = read_index(r, "function", info->function_count, &index);
        if (status != 0) break;
        if (!is_declared_function(r, index)) {
          status = invalid(r, at,
                           "undeclared function reference: ref.func %" PRIu32
                           " names a function that no element segment, "
                           "export or global names",
                           index);
          break;
        }
        status = push_value(r, WUDF__WASM_FUNCREF, at);
        break;
      case OP_PREFIX_MISC:
        status = read_misc_instruction(r, at);
        break;
      case OP_PREFIX_GC:
      case OP_PREFIX_SIMD:
      case OP_PREFIX_THREADS:
        status = refuse_prefixed(r, op, at);
        break;
      default:
        if (op >= 0x28 && op <= 0x3E) {
          status = read_memarg(r, op, at); /* loads and stores */
        } else if (op >= 0x45 && op <= 0xC4) {
          /* Numeric instructions without immediates, including the
           * sign-extension operators 0xC0-0xC4. */
          uint8_t first, second, result;
          numeric_signature(op, &first, &second, &result);
          if (second != TYPE_UNKNOWN) status = pop_value(r, at, second, NULL);
          if (status == 0) status = pop_value(r, at, first, NULL);
          if (status == 0) status = push_value(r, result, at);
        } else {
          status = fail(r, ENOEXEC, at, "unknown opcode 0x%02x", op);
        }
        break;
    }
  }
  return status;
}

/*
 * Reads one function body (spec 5.5.13) of the current function, whose
 * extent the caller has made `end`: the local declarations, checked against
 * max_locals, then the instructions, whose final end must be the body's last
 * byte.
 */
static int read_body(struct reader* r) {
  const struct wudf__wasm_info* info = r->info;
  const struct wudf__wasm_functype* type =
      &info->types[info->function_types[r->function_index]];
  uint32_t groups = 0;
  int status = read_count(r, "local declarations", 2, UINT32_MAX, &groups);
  if (status != 0) return status;
  /* The parameters are the first locals. */
  uint8_t* locals = reserve(r->locals, 1, &r->local_capacity,
                            type->param_count);
  if (locals == NULL) return out_of_memory(r);
  r->locals = locals;
  if (type->param_count != 0) {
    memcpy(r->locals, type->params, type->param_count);
  }
  uint64_t declared = 0;
  for (uint32_t i = 0; i < groups; i++) {
    const size_t at = r->pos;
    uint32_t count = 0;
    status = read_u32(r, &count);
    if (status != 0) return status;
    /* Both terms are below 2^32 and the sum is checked at every step, so it
     * cannot overflow 64 bits. */
    declared += count;
    if (declared > r->limits->max_locals) {
      return fail(r, EFBIG, at,
                  "%" PRIu64 " locals declared (limit %" PRIu32 ")", declared,
                  r->limits->max_locals);
    }
    uint8_t local_type = 0;
    status = read_value_type(r, &local_type);
    if (status != 0) return status;
    const uint64_t first = type->param_count + declared - count;
    locals = reserve(r->locals, 1, &r->local_capacity, first + count);
    if (locals == NULL) return out_of_memory(r);
    r->locals = locals;
    if (count != 0) memset(r->locals + first, local_type, count);
  }
  r->local_count = (uint32_t)(type->param_count + declared);
  status = read_instructions(r, type);
  if (status != 0) return status;
  if (r->pos != r->end) {
    return fail(r, ENOEXEC, r->pos,
                "%zu bytes after the final end of the function body",
                r->end - r->pos);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

/* Reads a custom section (spec 5.5.3): its name, and the rest as payload. */
static int read_custom_section(struct reader* r) {
  struct wudf__wasm_info* info = r->info;
  if (info->custom_count == r->custom_capacity) {
    if (r->custom_capacity > UINT32_MAX / 2) {
      return fail(r, EFBIG, r->pos, "more than %" PRIu32 " custom sections",
                  r->custom_capacity);
    }
    uint32_t capacity = r->custom_capacity != 0 ? r->custom_capacity * 2 : 4;
    struct wudf__wasm_custom* customs =
        wudf__realloc(info->customs, (size_t)capacity * sizeof(*customs));
    if (customs == NULL) return out_of_memory(r);
    info->customs = customs;
    r->custom_capacity = capacity;
  }
  char* name = NULL;
  int status = read_name(r, &name);
  if (status != 0) return status;
  struct wudf__wasm_custom* custom = &info->customs[info->custom_count++];
  custom->name = name;
  custom->offset = r->pos;
  custom->size = r->end - r->pos;
  r->pos = r->end;
  return 0;
}

/* Reads the type section (spec 5.5.4): function types only. */
static int read_type_section(struct reader* r) {
  struct wudf__wasm_info* info = r->info;
  uint32_t count = 0;
  int status = read_count(r, "types", 3, r->limits->max_types, &count);
  if (status != 0) return status;
  if (count == 0) return 0;
  info->types = wudf__calloc(count, sizeof(*info->types));
  if (info->types == NULL) return out_of_memory(r);
  info->type_count = count;
  r->item_kind = "type";
  for (uint32_t i = 0; i < count; i++) {
    struct wudf__wasm_functype* type = &info->types[i];
    r->item_index = i;
    const size_t at = r->pos;
    uint8_t form;
    status = read_byte(r, &form);
    if (status != 0) return status;
    if (form == 0x4E || form == 0x4F || form == 0x50 || form == 0x5E ||
        form == 0x5F) {
      return unsupported(r, at, FEATURE_GC, "type form 0x%02x", form);
    }
    if (form != 0x60) {
      return fail(r, ENOEXEC, at, "invalid type form 0x%02x", form);
    }
    status = read_result_type(r, "parameters", r->limits->max_params,
                              &type->param_count, &type->params);
    if (status == 0) {
      status = read_result_type(r, "results", r->limits->max_params,
                                &type->result_count, &type->results);
    }
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  return 0;
}

/* Reads the import section (spec 5.5.5), recording every import and
 * counting it in its index space, then starts the function index space with
 * the imported functions. */
static int read_import_section(struct reader* r) {
  struct wudf__wasm_info* info = r->info;
  uint32_t count = 0;
  int status = read_count(r, "imports", 4, r->limits->max_imports, &count);
  if (status != 0 || count == 0) return status;
  info->imports = wudf__calloc(count, sizeof(*info->imports));
  if (info->imports == NULL) return out_of_memory(r);
  info->import_count = count;
  r->item_kind = "import";
  uint32_t functions = 0;
  for (uint32_t i = 0; i < count; i++) {
    struct wudf__wasm_import* import = &info->imports[i];
    r->item_index = i;
    status = read_name(r, &import->module);
    if (status == 0) status = read_name(r, &import->name);
    if (status != 0) return status;
    const size_t at = r->pos;
    status = read_byte(r, &import->kind);
    if (status != 0) return status;
    switch (import->kind) {
      case WUDF__EXTERN_FUNC:
        status = read_index(r, "type", info->type_count, &import->type_index);
        if (status == 0 && functions >= r->limits->max_functions) {
          status = fail(r, EFBIG, at, "more than %" PRIu32 " functions",
                        r->limits->max_functions);
        }
        functions++;
        break;
      case WUDF__EXTERN_TABLE: status = read_table_type(r); break;
      case WUDF__EXTERN_MEMORY: status = read_memory_type(r); break;
      case WUDF__EXTERN_GLOBAL: status = read_global_type(r); break;
      case WUDF__EXTERN_TAG:
        status = unsupported(r, at, FEATURE_EXCEPTIONS, "tag import");
        break;
      default:
        status = fail(r, ENOEXEC, at, "invalid import kind 0x%02x",
                      import->kind);
        break;
    }
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  if (functions != 0) {
    info->function_types = wudf__calloc(functions, sizeof(uint32_t));
    if (info->function_types == NULL) return out_of_memory(r);
    uint32_t next = 0;
    for (uint32_t i = 0; i < count; i++) {
      if (info->imports[i].kind == WUDF__EXTERN_FUNC) {
        info->function_types[next++] = info->imports[i].type_index;
      }
    }
  }
  info->imported_function_count = functions;
  r->imported_global_count = info->global_count;
  info->function_count = functions;
  return 0;
}

/* Reads the function section (spec 5.5.6): the type of every defined
 * function, appended to the function index space. */
static int read_function_section(struct reader* r) {
  struct wudf__wasm_info* info = r->info;
  const size_t at = r->pos;
  uint32_t count = 0;
  int status = read_count(r, "functions", 1, UINT32_MAX, &count);
  if (status != 0) return status;
  const uint64_t total = (uint64_t)info->imported_function_count + count;
  if (total > r->limits->max_functions) {
    return fail(r, EFBIG, at,
                "%" PRIu64 " functions (limit %" PRIu32 ")", total,
                r->limits->max_functions);
  }
  if (count == 0) return 0;
  uint32_t* types =
      wudf__realloc(info->function_types, (size_t)total * sizeof(uint32_t));
  if (types == NULL) return out_of_memory(r);
  info->function_types = types;
  r->item_kind = "function";
  for (uint32_t i = 0; i < count; i++) {
    r->item_index = info->imported_function_count + i;
    status = read_index(r, "type", info->type_count,
                        &types[info->imported_function_count + i]);
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  info->function_count = (uint32_t)total;
  r->defined_function_count = count;
  return 0;
}

/* Reads the table section (spec 5.5.7). */
static int read_table_section(struct reader* r) {
  uint32_t count = 0;
  int status = read_count(r, "tables", 3, UINT32_MAX, &count);
  if (status != 0) return status;
  r->item_kind = "table";
  for (uint32_t i = 0; i < count; i++) {
    r->item_index = r->table_total;
    status = read_table_type(r);
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  r->info->table_count = count;
  return 0;
}

/* Reads the memory section (spec 5.5.8); one memory in all, imports
 * included. */
static int read_memory_section(struct reader* r) {
  const size_t at = r->pos;
  uint32_t count = 0;
  int status = read_count(r, "memories", 2, UINT32_MAX, &count);
  if (status != 0) return status;
  if ((uint64_t)r->memory_total + count > 1) {
    return unsupported(r, at, FEATURE_MULTI_MEMORY,
                       "%" PRIu64 " memories",
                       (uint64_t)r->memory_total + count);
  }
  r->item_kind = "memory";
  for (uint32_t i = 0; i < count; i++) {
    r->item_index = r->memory_total;
    status = read_memory_type(r);
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  return 0;
}

/* Reads the global section (spec 5.5.9); an initializer must have the
 * global's type and may read only imported globals (spec 3.4.10). */
static int read_global_section(struct reader* r) {
  uint32_t count = 0;
  int status = read_count(r, "globals", 3, UINT32_MAX, &count);
  if (status != 0) return status;
  r->item_kind = "global";
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t index = r->info->global_count;
    r->item_index = index;
    status = read_global_type(r);
    if (status == 0) {
      status = read_const_expr(r, r->globals[index].type,
                               "the global's initializer");
    }
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  return 0;
}

/* An export's name and position, sorted to find duplicates. */
struct export_key {
  const char* name;
  uint32_t index;
  size_t offset;
};

/* Orders export keys by name, then by position in the section. */
static int compare_export_keys(const void* a, const void* b) {
  const struct export_key* x = a;
  const struct export_key* y = b;
  int order = strcmp(x->name, y->name);
  if (order != 0) return order;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Fails with ENOEXEC when two of the `count` exports share a name. Sorting
 * keeps this O(n log n) for the largest export sections allowed. */
static int check_duplicate_exports(struct reader* r, struct export_key* keys,
                                   uint32_t count) {
  qsort(keys, count, sizeof(*keys), compare_export_keys);
  for (uint32_t i = 1; i < count; i++) {
    if (strcmp(keys[i - 1].name, keys[i].name) == 0) {
      char quoted[80];
      quote_name(keys[i].name, quoted, sizeof(quoted));
      r->item_kind = "export";
      r->item_index = keys[i].index;
      return fail(r, ENOEXEC, keys[i].offset,
                  "duplicate export name \"%s\" (also export %" PRIu32 ")",
                  quoted, keys[i - 1].index);
    }
  }
  return 0;
}

/* Reads the export section (spec 5.5.10), checking each index against its
 * index space and that names are unique. Exported functions are declared
 * for ref.func. */
static int read_export_section(struct reader* r) {
  struct wudf__wasm_info* info = r->info;
  uint32_t count = 0;
  int status = read_count(r, "exports", 3, r->limits->max_exports, &count);
  if (status != 0 || count == 0) return status;
  info->exports = wudf__calloc(count, sizeof(*info->exports));
  if (info->exports == NULL) return out_of_memory(r);
  info->export_count = count;
  struct export_key* keys = wudf__malloc((size_t)count * sizeof(*keys));
  if (keys == NULL) return out_of_memory(r);
  r->item_kind = "export";
  for (uint32_t i = 0; i < count && status == 0; i++) {
    struct wudf__wasm_export* export = &info->exports[i];
    r->item_index = i;
    keys[i].offset = r->pos;
    keys[i].index = i;
    status = read_name(r, &export->name);
    if (status != 0) break;
    keys[i].name = export->name;
    const size_t at = r->pos;
    status = read_byte(r, &export->kind);
    if (status != 0) break;
    switch (export->kind) {
      case WUDF__EXTERN_FUNC:
        status = read_index(r, "function", info->function_count,
                            &export->index);
        if (status == 0) status = declare_function(r, export->index);
        break;
      case WUDF__EXTERN_TABLE:
        status = read_index(r, "table", r->table_total, &export->index);
        break;
      case WUDF__EXTERN_MEMORY:
        status = read_index(r, "memory", r->memory_total, &export->index);
        break;
      case WUDF__EXTERN_GLOBAL:
        status = read_index(r, "global", info->global_count, &export->index);
        break;
      case WUDF__EXTERN_TAG:
        status = unsupported(r, at, FEATURE_EXCEPTIONS, "tag export");
        break;
      default:
        status = fail(r, ENOEXEC, at, "invalid export kind 0x%02x",
                      export->kind);
        break;
    }
  }
  r->item_kind = NULL;
  if (status == 0) status = check_duplicate_exports(r, keys, count);
  wudf__free(keys);
  return status;
}

/* Reads the start section (spec 5.5.11): a function of type [] -> []. */
static int read_start_section(struct reader* r) {
  struct wudf__wasm_info* info = r->info;
  const size_t at = r->pos;
  uint32_t function = 0;
  int status = read_index(r, "function", info->function_count, &function);
  if (status != 0) return status;
  const struct wudf__wasm_functype* type =
      &info->types[info->function_types[function]];
  if (type->param_count != 0 || type->result_count != 0) {
    return fail(r, ENOEXEC, at,
                "start function %" PRIu32
                " must take no parameters and return nothing",
                function);
  }
  info->has_start = 1;
  info->start_function = function;
  return 0;
}

/*
 * Reads the element section (spec 5.5.12) in all eight encodings and checks
 * it (spec 3.4.5). Bit 0 of the flags marks a passive or declarative
 * segment, bit 1 an explicit table index (active) or a declarative segment
 * (passive), bit 2 expressions instead of function indexes. Every segment's
 * reference type is recorded; an active segment's table must hold that
 * type, its offset is an i32, its expressions are of its type, and the
 * functions it names are declared for ref.func.
 */
static int read_element_section(struct reader* r) {
  struct wudf__wasm_info* info = r->info;
  uint32_t count = 0;
  int status =
      read_count(r, "element segments", 3, r->limits->max_segments, &count);
  if (status != 0 || count == 0) return status;
  r->element_types = wudf__malloc(count);
  if (r->element_types == NULL) return out_of_memory(r);
  r->item_kind = "element segment";
  for (uint32_t i = 0; i < count; i++) {
    r->item_index = i;
    const size_t at = r->pos;
    uint32_t flags;
    status = read_u32(r, &flags);
    if (status != 0) return status;
    if (flags > 7) {
      return fail(r, ENOEXEC, at, "invalid element segment flags %" PRIu32,
                  flags);
    }
    uint32_t table = 0;
    size_t table_at = r->pos;
    if (!(flags & 1)) { /* active: optional table index, then the offset */
      if (flags & 2) status = read_u32(r, &table);
      if (status != 0) return status;
      if (table >= r->table_total) {
        return fail(r, ENOEXEC, table_at,
                    "table index %" PRIu32 " out of range (the module has %"
                    PRIu32 ")",
                    table, r->table_total);
      }
      status = read_const_expr(r, WUDF__WASM_I32,
                               "the segment's offset");
      if (status != 0) return status;
    }
    uint8_t type = WUDF__WASM_FUNCREF;
    if (flags & 3) { /* an element kind or reference type follows */
      if (flags & 4) {
        status = read_reference_type(r, 0, &type);
      } else {
        const size_t kind_at = r->pos;
        uint8_t kind;
        status = read_byte(r, &kind);
        if (status == 0 && kind != 0x00) {
          status = fail(r, ENOEXEC, kind_at, "invalid element kind 0x%02x",
                        kind);
        }
      }
      if (status != 0) return status;
    }
    r->element_types[i] = type;
    r->element_count = i + 1;
    if (!(flags & 1) && r->table_types[table] != type) {
      return invalid(r, table_at,
                     "type mismatch: a segment of %s for table %" PRIu32
                     " of %s",
                     type_name(type), table, type_name(r->table_types[table]));
    }
    uint32_t elements = 0;
    if (flags & 4) {
      status = read_count(r, "element expressions", 2, UINT32_MAX, &elements);
      for (uint32_t k = 0; status == 0 && k < elements; k++) {
        status = read_const_expr(r, type,
                                 "an element expression");
      }
    } else {
      status = read_count(r, "element functions", 1, UINT32_MAX, &elements);
      for (uint32_t k = 0; status == 0 && k < elements; k++) {
        uint32_t function = 0;
        status = read_index(r, "function", info->function_count, &function);
        if (status == 0) status = declare_function(r, function);
      }
    }
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  return 0;
}

/* Reads the data count section (spec 5.5.15). */
static int read_data_count_section(struct reader* r) {
  const size_t at = r->pos;
  uint32_t count = 0;
  int status = read_u32(r, &count);
  if (status != 0) return status;
  if (count > r->limits->max_segments) {
    return fail(r, EFBIG, at, "%" PRIu32 " data segments (limit %" PRIu32 ")",
                count, r->limits->max_segments);
  }
  r->has_data_count = 1;
  r->data_count = count;
  return 0;
}

/* Reads the code section (spec 5.5.13): one body per defined function, each
 * within max_body_size. */
static int read_code_section(struct reader* r) {
  const size_t at = r->pos;
  uint32_t count = 0;
  int status = read_count(r, "function bodies", 3, UINT32_MAX, &count);
  if (status != 0) return status;
  if (count != r->defined_function_count) {
    return fail(r, ENOEXEC, at,
                "%" PRIu32 " function bodies for %" PRIu32
                " functions declared in the function section",
                count, r->defined_function_count);
  }
  const size_t section_end = r->end;
  for (uint32_t i = 0; i < count; i++) {
    r->in_function = 1;
    r->function_index = r->info->imported_function_count + i;
    const size_t size_at = r->pos;
    uint32_t size;
    status = read_u32(r, &size);
    if (status != 0) return status;
    if (size > section_end - r->pos) {
      return fail(r, ENOEXEC, size_at,
                  "function body of %" PRIu32 " bytes overruns the section",
                  size);
    }
    if (size > r->limits->max_body_size) {
      return fail(r, EFBIG, size_at,
                  "function body of %" PRIu32 " bytes (limit %zu)", size,
                  r->limits->max_body_size);
    }
    r->end = r->pos + size;
    r->end_name = "function body";
    status = read_body(r);
    if (status != 0) return status;
    r->end = section_end;
    r->end_name = "section";
  }
  r->in_function = 0;
  r->code_count = count;
  return 0;
}

/* Reads the data section (spec 5.5.14): active segments of memory 0 and
 * passive segments. */
static int read_data_section(struct reader* r) {
  const size_t at = r->pos;
  uint32_t count = 0;
  int status =
      read_count(r, "data segments", 2, r->limits->max_segments, &count);
  if (status != 0) return status;
  if (r->has_data_count && count != r->data_count) {
    return fail(r, ENOEXEC, at,
                "%" PRIu32 " data segments but the data count section says %"
                PRIu32,
                count, r->data_count);
  }
  r->item_kind = "data segment";
  for (uint32_t i = 0; i < count; i++) {
    r->item_index = i;
    const size_t flags_at = r->pos;
    uint32_t flags;
    status = read_u32(r, &flags);
    if (status != 0) return status;
    if (flags > 2) {
      return fail(r, ENOEXEC, flags_at, "invalid data segment flags %" PRIu32,
                  flags);
    }
    if (flags != 1) { /* active */
      const size_t memory_at = r->pos;
      uint32_t memory = 0;
      if (flags == 2) status = read_u32(r, &memory);
      if (status != 0) return status;
      if (memory != 0) {
        return unsupported(r, memory_at, FEATURE_MULTI_MEMORY,
                           "data segment for memory %" PRIu32, memory);
      }
      status = need_memory(r, flags_at, "an active data segment");
      if (status == 0) {
        status = read_const_expr(r, WUDF__WASM_I32,
                                 "the segment's offset");
      }
      if (status != 0) return status;
    }
    uint32_t length = 0;
    status = read_u32(r, &length);
    if (status == 0) status = skip(r, length);
    if (status != 0) return status;
  }
  r->item_kind = NULL;
  r->data_segment_count = count;
  return 0;
}

/* Returns the position of non-custom section `id` in the required order
 * (spec 5.5.2; the data count section sits between element and code). */
static int section_rank(int id) {
  switch (id) {
    case SECTION_TYPE: return 1;
    case SECTION_IMPORT: return 2;
    case SECTION_FUNCTION: return 3;
    case SECTION_TABLE: return 4;
    case SECTION_MEMORY: return 5;
    case SECTION_GLOBAL: return 6;
    case SECTION_EXPORT: return 7;
    case SECTION_START: return 8;
    case SECTION_ELEMENT: return 9;
    case SECTION_DATA_COUNT: return 10;
    case SECTION_CODE: return 11;
    case SECTION_DATA: return 12;
  }
  return 0;
}

/* Reads the contents of section `id`, which the caller has bounded with
 * `end`. */
static int read_section_contents(struct reader* r, int id) {
  switch (id) {
    case SECTION_CUSTOM: return read_custom_section(r);
    case SECTION_TYPE: return read_type_section(r);
    case SECTION_IMPORT: return read_import_section(r);
    case SECTION_FUNCTION: return read_function_section(r);
    case SECTION_TABLE: return read_table_section(r);
    case SECTION_MEMORY: return read_memory_section(r);
    case SECTION_GLOBAL: return read_global_section(r);
    case SECTION_EXPORT: return read_export_section(r);
    case SECTION_START: return read_start_section(r);
    case SECTION_ELEMENT: return read_element_section(r);
    case SECTION_DATA_COUNT: return read_data_count_section(r);
    case SECTION_CODE: return read_code_section(r);
    case SECTION_DATA: return read_data_section(r);
  }
  return fail(r, ENOEXEC, r->pos, "unknown section %d", id);
}

/*
 * Reads the whole module (spec 5.5.16): the size limit, the preamble, the
 * sections in order (each consuming exactly its declared size), and the
 * cross-section rules that can only be checked at the end.
 */
static int read_module(struct reader* r) {
  static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6D};
  if (r->size > r->limits->max_module_size) {
    return fail(r, EFBIG, 0, "module of %zu bytes (limit %zu)", r->size,
                r->limits->max_module_size);
  }
  if (r->size < 4 || memcmp(r->bytes, magic, 4) != 0) {
    return fail(r, ENOEXEC, 0, "bad magic number (not a WebAssembly module)");
  }
  r->pos = 4;
  int status = need(r, 4);
  if (status != 0) return status;
  const uint32_t version = (uint32_t)r->bytes[4] |
                           (uint32_t)r->bytes[5] << 8 |
                           (uint32_t)r->bytes[6] << 16 |
                           (uint32_t)r->bytes[7] << 24;
  if (version != 1) {
    return fail(r, ENOEXEC, 4, "unknown binary version 0x%08" PRIx32, version);
  }
  r->pos = 8;
  int last_rank = 0;
  int last_id = -1;
  while (r->pos < r->size) {
    const size_t start = r->pos;
    uint8_t id;
    uint32_t size;
    status = read_byte(r, &id);
    if (status == 0) status = read_u32(r, &size);
    if (status != 0) return status;
    if (id == SECTION_TAG) {
      return unsupported(r, start, FEATURE_EXCEPTIONS, "section 13 (tag)");
    }
    if (id > SECTION_TAG) {
      return fail(r, ENOEXEC, start, "unknown section id %u", id);
    }
    if (size > r->size - r->pos) {
      return fail(r, ENOEXEC, start, "section %u (%s) overruns the module", id,
                  section_name(id));
    }
    if (id != SECTION_CUSTOM) {
      const int rank = section_rank(id);
      if (rank == last_rank) {
        return fail(r, ENOEXEC, start, "duplicate section %u (%s)", id,
                    section_name(id));
      }
      if (rank < last_rank) {
        return fail(r, ENOEXEC, start,
                    "section %u (%s) out of order (after section %d (%s))", id,
                    section_name(id), last_id, section_name(last_id));
      }
      last_rank = rank;
      last_id = id;
    }
    r->section_id = id;
    r->end = r->pos + size;
    r->end_name = "section";
    status = read_section_contents(r, id);
    if (status != 0) return status;
    if (r->pos != r->end) {
      return fail(r, ENOEXEC, r->pos,
                  "section size mismatch: %zu bytes left unread",
                  r->end - r->pos);
    }
    r->section_id = -1;
    r->end = r->size;
    r->end_name = "module";
  }
  if (r->code_count != r->defined_function_count) {
    return fail(r, ENOEXEC, r->size,
                "%" PRIu32 " functions declared but no code section",
                r->defined_function_count);
  }
  if (r->has_data_count && r->data_segment_count != r->data_count) {
    return fail(r, ENOEXEC, r->size,
                "the data count section says %" PRIu32
                " data segments but there is no data section",
                r->data_count);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

void wudf__wasm_limits_init(struct wudf__wasm_limits* limits) {
  limits->max_module_size = (size_t)64 << 20;
  limits->max_types = 100000;
  limits->max_functions = 100000;
  limits->max_imports = 10000;
  limits->max_exports = 100000;
  limits->max_globals = 100000;
  limits->max_params = 1000;
  limits->max_locals = 50000;
  limits->max_body_size = (size_t)8 << 20;
  limits->max_table_size = 10000000;
  limits->max_tables = 100;
  limits->max_segments = 100000;
  limits->max_block_depth = 1024;
  limits->max_operand_stack = 1000000;
}

int wudf__wasm_read(const uint8_t* bytes, size_t size,
                    const struct wudf__wasm_limits* limits,
                    struct wudf__wasm_info* info, struct wudf_error* error) {
  if (info == NULL || (bytes == NULL && size != 0)) {
    return wudf__set_error(error, EINVAL,
                           "wudf__wasm_read: NULL module bytes or info");
  }
  struct wudf__wasm_limits defaults;
  if (limits == NULL) {
    wudf__wasm_limits_init(&defaults);
    limits = &defaults;
  }
  memset(info, 0, sizeof(*info));
  struct reader r;
  memset(&r, 0, sizeof(r));
  r.bytes = bytes;
  r.size = size;
  r.end = size;
  r.end_name = "module";
  r.limits = limits;
  r.info = info;
  r.error = error;
  r.section_id = -1;
  int status = read_module(&r);
  wudf__free(r.table_types);
  wudf__free(r.globals);
  wudf__free(r.element_types);
  wudf__free(r.declared_functions);
  wudf__free(r.locals);
  wudf__free(r.values);
  wudf__free(r.frames);
  if (status != 0) {
    wudf__wasm_info_release(info);
    return status;
  }
  return 0;
}

void wudf__wasm_info_release(struct wudf__wasm_info* info) {
  if (info == NULL) return;
  for (uint32_t i = 0; i < info->type_count; i++) {
    wudf__free(info->types[i].params);
    wudf__free(info->types[i].results);
  }
  wudf__free(info->types);
  for (uint32_t i = 0; i < info->import_count; i++) {
    wudf__free(info->imports[i].module);
    wudf__free(info->imports[i].name);
  }
  wudf__free(info->imports);
  wudf__free(info->function_types);
  for (uint32_t i = 0; i < info->export_count; i++) {
    wudf__free(info->exports[i].name);
  }
  wudf__free(info->exports);
  for (uint32_t i = 0; i < info->custom_count; i++) {
    wudf__free(info->customs[i].name);
  }
  wudf__free(info->customs);
  memset(info, 0, sizeof(*info));
}

const struct wudf__wasm_custom* wudf__wasm_find_custom(
    const struct wudf__wasm_info* info, const char* name) {
  if (info == NULL || name == NULL) return NULL;
  for (uint32_t i = 0; i < info->custom_count; i++) {
    if (strcmp(info->customs[i].name, name) == 0) return &info->customs[i];
  }
  return NULL;
}
