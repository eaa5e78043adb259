/*
 * wasm_reader.h -- reads and checks a WebAssembly binary before anything else
 * touches it.
 *
 * The reader is the engine's gate: wasm2c aborts on some inputs (SIMD) and a
 * compiler can be made to spend minutes on others, so every module passes
 * through here first. It decodes the whole binary -- every section, and every
 * instruction of every function body -- and refuses, with a message that says
 * what and where:
 *   - malformed input (bad magic/version, truncated or overlong LEB128,
 *     sections out of order or overrunning, bad UTF-8 names, unknown opcodes,
 *     unbalanced blocks): ENOEXEC;
 *   - features the engine does not support (SIMD: the v128 type or any 0xFD
 *     instruction; threads: shared memory or any 0xFE instruction;
 *     memory64; multi-memory; exception handling: the tag section, tag
 *     imports/exports or try/catch/throw/rethrow/delegate; tail calls;
 *     GC/function-references types): ENOTSUP;
 *   - sizes beyond `struct wudf__wasm_limits`: EFBIG.
 *   - modules that break a rule of validation (spec chapter 3: index
 *     ranges, constant expressions, and the operand types of every
 *     instruction, checked with the validation algorithm of the
 *     specification's appendix): ENOEXEC, "invalid module: type mismatch:
 *     ...".
 * A module it accepts is valid WebAssembly made of features the engine
 * supports, so wasm2c only ever sees modules it can translate.
 *
 * What it extracts is what the rest of the engine needs: function types,
 * imports, exports, the memory and table limits, and custom sections.
 */
#ifndef WUDF_ENGINE_WASM_READER_H
#define WUDF_ENGINE_WASM_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

/* Value type bytes, as encoded in the binary format. */
enum {
  WUDF__WASM_I32 = 0x7F,
  WUDF__WASM_I64 = 0x7E,
  WUDF__WASM_F32 = 0x7D,
  WUDF__WASM_F64 = 0x7C,
  WUDF__WASM_V128 = 0x7B,
  WUDF__WASM_FUNCREF = 0x70,
  WUDF__WASM_EXTERNREF = 0x6F
};

/* External kinds, as encoded in import and export entries. */
enum {
  WUDF__EXTERN_FUNC = 0,
  WUDF__EXTERN_TABLE = 1,
  WUDF__EXTERN_MEMORY = 2,
  WUDF__EXTERN_GLOBAL = 3,
  WUDF__EXTERN_TAG = 4
};

/* Size limits; the reader refuses (EFBIG) anything larger. */
struct wudf__wasm_limits {
  size_t max_module_size;     /* bytes of the whole binary */
  uint32_t max_types;         /* entries in the type section */
  uint32_t max_functions;     /* imported + defined functions */
  uint32_t max_imports;
  uint32_t max_exports;
  uint32_t max_globals;
  uint32_t max_params;        /* params (and, separately, results) per type */
  uint32_t max_locals;        /* declared locals per function body */
  size_t max_body_size;       /* bytes of one function body */
  uint32_t max_table_size;    /* initial elements of a table */
  uint32_t max_tables;        /* tables (imported and defined) */
  uint32_t max_segments;      /* data segments, and element segments */
  uint32_t max_block_depth;   /* nesting of block/loop/if in one body */
  uint32_t max_operand_stack; /* operands on the stack of one body at once */
};

/* Fills `limits` with the defaults (module size 64 MiB, 100000 functions,
 * 50000 locals, 8 MiB per body, 100 tables of 10 million elements, block
 * depth 1024, an operand stack of one million values, and proportionate
 * values for the rest). */
void wudf__wasm_limits_init(struct wudf__wasm_limits* limits);

struct wudf__wasm_functype {
  uint32_t param_count;
  uint32_t result_count;
  uint8_t* params;   /* value type bytes; owned by the info */
  uint8_t* results;
};

struct wudf__wasm_import {
  char* module;        /* NUL-terminated, owned by the info */
  char* name;
  uint8_t kind;        /* WUDF__EXTERN_* */
  uint32_t type_index; /* kind FUNC: index into types */
};

struct wudf__wasm_export {
  char* name;          /* NUL-terminated, owned by the info */
  uint8_t kind;        /* WUDF__EXTERN_* */
  uint32_t index;      /* in the index space of `kind` */
};

struct wudf__wasm_custom {
  char* name;          /* NUL-terminated, owned by the info */
  size_t offset;       /* payload position in the module bytes */
  size_t size;         /* payload size */
};

struct wudf__wasm_info {
  uint32_t type_count;
  struct wudf__wasm_functype* types;

  uint32_t import_count;
  struct wudf__wasm_import* imports;

  /* The function index space: imported functions first, then defined ones.
   * function_types[i] is the type index of function i. */
  uint32_t function_count;
  uint32_t imported_function_count;
  uint32_t* function_types;

  uint32_t export_count;
  struct wudf__wasm_export* exports;

  int has_memory;            /* a memory is defined (imports are refused) */
  uint32_t memory_min_pages;
  uint32_t memory_max_pages; /* 65536 when the module declares no maximum */
  int memory_has_max;

  uint32_t table_count;      /* defined tables */
  uint32_t table_min;        /* of table 0 */
  uint32_t table_max;        /* of table 0, UINT32_MAX when none */

  uint32_t global_count;
  int has_start;
  uint32_t start_function;

  uint32_t custom_count;
  struct wudf__wasm_custom* customs;
};

/*
 * Reads `size` bytes at `bytes` and fills `*info` (which the caller provides,
 * uninitialised). On success the caller owns the contents of `*info` and
 * releases them with wudf__wasm_info_release. On failure `*info` holds nothing
 * to release, and `error` (may be NULL) says ENOEXEC, ENOTSUP, EFBIG or ENOMEM
 * with a message such as
 *   "malformed module: section 10 (code) overruns the module at offset 0x1f2"
 *   "unsupported feature SIMD: instruction 0xfd 0x0c in function 3 at offset 0x8a"
 *   "module too large: function 7 declares 80000 locals (limit 50000)".
 * `limits` may be NULL for the defaults.
 */
int wudf__wasm_read(const uint8_t* bytes, size_t size,
                    const struct wudf__wasm_limits* limits,
                    struct wudf__wasm_info* info, struct wudf_error* error);

/* Releases what wudf__wasm_read put into `*info`, and zeroes it. */
void wudf__wasm_info_release(struct wudf__wasm_info* info);

/* Returns the custom section called `name`, or NULL. */
const struct wudf__wasm_custom* wudf__wasm_find_custom(
    const struct wudf__wasm_info* info, const char* name);

#endif /* WUDF_ENGINE_WASM_READER_H */
