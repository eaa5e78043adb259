/*
 * signature.h -- function signatures and metadata records of the guest ABI
 * (docs/abi.md, section 6): parsing "gcd(int32, int32) -> int32" into types,
 * and the mapping between signature type names and Arrow format strings.
 *
 * This file and signature.c are compiled twice: into the host library and,
 * for wasm32, into the C guest SDK, so host and guest read signatures with
 * the same code. They therefore use only the freestanding parts of libc and
 * never allocate: a parsed signature is a fixed-size struct.
 */
#ifndef WUDF_UDF_SIGNATURE_H
#define WUDF_UDF_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#define WUDF__ABI_VERSION 1
#define WUDF__RECORD_PREFIX "wasmudf:1 "
#define WUDF__EXPORT_PREFIX "wudf_fn_"
#define WUDF__MAX_ARGS 64
#define WUDF__MAX_FIELDS 64
#define WUDF__MAX_NAME 64

/* The types a signature can name. Zero is "no type". */
enum wudf__type {
  WUDF__TYPE_NONE = 0,
  WUDF__TYPE_BOOL,
  WUDF__TYPE_INT8,
  WUDF__TYPE_INT16,
  WUDF__TYPE_INT32,
  WUDF__TYPE_INT64,
  WUDF__TYPE_UINT8,
  WUDF__TYPE_UINT16,
  WUDF__TYPE_UINT32,
  WUDF__TYPE_UINT64,
  WUDF__TYPE_FLOAT32,
  WUDF__TYPE_FLOAT64,
  WUDF__TYPE_UTF8,
  WUDF__TYPE_LARGE_UTF8,
  WUDF__TYPE_BINARY,
  WUDF__TYPE_LARGE_BINARY,
  WUDF__TYPE_STRUCT, /* only as the result of a batch function */
  WUDF__TYPE_COUNT
};

enum wudf__kind { WUDF__KIND_NONE = 0, WUDF__KIND_SCALAR, WUDF__KIND_BATCH };

struct wudf__field {
  char name[WUDF__MAX_NAME + 1];
  uint8_t type;
};

struct wudf__signature {
  uint8_t kind;
  uint8_t strict;      /* 1: RETURNS NULL ON NULL INPUT (the default) */
  char name[WUDF__MAX_NAME + 1];
  uint32_t arg_count;
  uint8_t arg_types[WUDF__MAX_ARGS];
  uint8_t result_type; /* WUDF__TYPE_STRUCT for a batch function */
  uint32_t field_count; /* fields of a struct result */
  struct wudf__field fields[WUDF__MAX_FIELDS];
};

/* Parses a signature (the grammar of docs/abi.md) for a function of `kind`.
 * Returns 0, or -1 with a message in `message` (always NUL-terminated when
 * message_size > 0). A scalar result must not be a struct; a batch result
 * must be one. */
int wudf__signature_parse(const char* text, uint8_t kind,
                          struct wudf__signature* out, char* message,
                          size_t message_size);

/* Parses one metadata record ("wasmudf:1 KIND SIGNATURE"), as above. */
int wudf__record_parse(const char* record, struct wudf__signature* out,
                       char* message, size_t message_size);

/* Writes the signature in canonical form ("gcd(int32, int32) -> int32",
 * plus " CALLED ON NULL INPUT" when not strict) into `out`, truncating. */
void wudf__signature_format(const struct wudf__signature* signature, char* out,
                            size_t size);

/* The canonical name ("int32") and Arrow format ("i") of a type, or NULL. */
const char* wudf__type_name(uint8_t type);
const char* wudf__type_format(uint8_t type);

/* The type whose Arrow format is exactly `format`, or WUDF__TYPE_NONE. */
uint8_t wudf__type_from_format(const char* format);

/* Bits per value of a fixed-width type (1 for bool), 0 for others. */
unsigned wudf__type_bit_width(uint8_t type);

/* Nonzero for utf8/binary and their large variants; *large_offsets gets 1
 * for the 64-bit-offset variants. */
int wudf__type_is_variable(uint8_t type, int* large_offsets);

/* The name of a kind ("scalar"), or NULL. */
const char* wudf__kind_name(uint8_t kind);

#endif /* WUDF_UDF_SIGNATURE_H */
