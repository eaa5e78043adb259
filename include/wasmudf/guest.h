/*
 * wasmudf/guest.h -- the C guest SDK: write user-defined functions over Arrow
 * data in C, compile them to WebAssembly, run them with wasmudf.
 *
 *   #include <wasmudf/guest.h>
 *
 *   WUDF_SCALAR(gcd, "gcd(int32, int32) -> int32") {
 *     const wudf_input* a = wudf_arg(args, 0);
 *     const wudf_input* b = wudf_arg(args, 1);
 *     for (int64_t row = 0; row < args->length; row++) {
 *       int32_t x = wudf_get_int32(a, row), y = wudf_get_int32(b, row);
 *       while (y != 0) { int32_t t = x % y; x = y; y = t; }
 *       wudf_set_int32(out, row, x < 0 ? -x : x);
 *     }
 *     return 0;
 *   }
 *
 *   $ wasmudf build gcd.c -o gcd.wasm
 *
 * A scalar function gets `args` (the arguments of `args->length` rows, one
 * wudf_input per argument) and fills `out`, the result column, which already
 * has `args->length` rows: every row valid and zero (or empty) until set.
 * By default a function is strict ("RETURNS NULL ON NULL INPUT"): the host
 * never passes rows where an argument is null and makes those results null
 * itself. With "CALLED ON NULL INPUT" at the end of the signature the
 * function sees nulls (wudf_is_null) and decides.
 *
 * A batch function (WUDF_BATCH) gets the arguments of a whole batch and fills
 * `result`, a struct of the declared columns, with any number of rows.
 *
 * Return 0 for success, or `return wudf_error("...", ...)` to fail the call
 * with a message the host reports. Accessors do not check their arguments:
 * the SDK has already checked that the inputs have the declared types.
 *
 * Everything here implements the guest ABI of docs/abi.md: the SDK provides
 * the required exports, parses inputs, builds outputs in guest memory with a
 * real release callback, and releases its inputs after each call.
 */
#ifndef WASMUDF_GUEST_H
#define WASMUDF_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The Arrow C Data Interface (https://arrow.apache.org/docs/format/        */
/* CDataInterface.html), as the specification defines it.                  */
/* ------------------------------------------------------------------------ */

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#if defined(__wasm32__)
/* The wasm32 layout of docs/abi.md, section 2. */
_Static_assert(sizeof(struct ArrowSchema) == 48, "ArrowSchema is 48 bytes on wasm32");
_Static_assert(sizeof(struct ArrowArray) == 64, "ArrowArray is 64 bytes on wasm32");
_Static_assert(offsetof(struct ArrowSchema, flags) == 16, "ArrowSchema.flags");
_Static_assert(offsetof(struct ArrowSchema, release) == 40, "ArrowSchema.release");
_Static_assert(offsetof(struct ArrowArray, buffers) == 40, "ArrowArray.buffers");
_Static_assert(offsetof(struct ArrowArray, release) == 52, "ArrowArray.release");
#endif

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */
/* ------------------------------------------------------------------------ */

/* Type codes of inputs and outputs (the type names of signatures). */
typedef enum wudf_type {
  WUDF_BOOL = 1,
  WUDF_INT8,
  WUDF_INT16,
  WUDF_INT32,
  WUDF_INT64,
  WUDF_UINT8,
  WUDF_UINT16,
  WUDF_UINT32,
  WUDF_UINT64,
  WUDF_FLOAT32,
  WUDF_FLOAT64,
  WUDF_UTF8,
  WUDF_LARGE_UTF8,
  WUDF_BINARY,
  WUDF_LARGE_BINARY
} wudf_type;

/* One argument column, as a view of its ArrowArray. */
typedef struct wudf_input {
  wudf_type type;
  int64_t length;
  int64_t offset;       /* the array's offset: accessors apply it */
  int64_t null_count;
  const uint8_t* validity;  /* NULL when no row is null */
  const void* values;       /* buffers[1]: values, bits or offsets */
  const uint8_t* data;      /* buffers[2] of strings and binary */
  const struct ArrowArray* array;
  const struct ArrowSchema* schema;
} wudf_input;

/* The arguments of one call. */
typedef struct wudf_args {
  int64_t length;  /* rows in this call */
  int count;       /* number of arguments */
  const wudf_input* inputs;
} wudf_args;

/* A string or binary value; not NUL-terminated. */
typedef struct wudf_str {
  const char* data;
  size_t size;
} wudf_str;

static inline const wudf_input* wudf_arg(const wudf_args* args, int index) {
  return &args->inputs[index];
}

static inline bool wudf_is_null(const wudf_input* in, int64_t row) {
  if (in->validity == NULL) return false;
  int64_t bit = in->offset + row;
  return (in->validity[bit >> 3] & (1u << (bit & 7))) == 0;
}

#define WUDF__GETTER(name, ctype)                                              \
  static inline ctype wudf_get_##name(const wudf_input* in, int64_t row) {    \
    return ((const ctype*)in->values)[in->offset + row];                       \
  }                                                                            \
  /* The values of all rows, offset applied: values[0 .. length). */           \
  static inline const ctype* wudf_values_##name(const wudf_input* in) {       \
    return (const ctype*)in->values + in->offset;                              \
  }
WUDF__GETTER(int8, int8_t)
WUDF__GETTER(int16, int16_t)
WUDF__GETTER(int32, int32_t)
WUDF__GETTER(int64, int64_t)
WUDF__GETTER(uint8, uint8_t)
WUDF__GETTER(uint16, uint16_t)
WUDF__GETTER(uint32, uint32_t)
WUDF__GETTER(uint64, uint64_t)
WUDF__GETTER(float32, float)
WUDF__GETTER(float64, double)
#undef WUDF__GETTER

static inline bool wudf_get_bool(const wudf_input* in, int64_t row) {
  int64_t bit = in->offset + row;
  return (((const uint8_t*)in->values)[bit >> 3] & (1u << (bit & 7))) != 0;
}

/* The value of a utf8, binary, large_utf8 or large_binary row. */
static inline wudf_str wudf_get_str(const wudf_input* in, int64_t row) {
  int64_t i = in->offset + row;
  int64_t start, end;
  if (in->type == WUDF_LARGE_UTF8 || in->type == WUDF_LARGE_BINARY) {
    start = ((const int64_t*)in->values)[i];
    end = ((const int64_t*)in->values)[i + 1];
  } else {
    start = ((const int32_t*)in->values)[i];
    end = ((const int32_t*)in->values)[i + 1];
  }
  wudf_str s = {(const char*)in->data + start, (size_t)(end - start)};
  return s;
}

/* ------------------------------------------------------------------------ */
/* Outputs                                                                   */
/* ------------------------------------------------------------------------ */

/* A result column under construction. Rows grow as they are set; a row not
 * set is valid and zero (or empty). Strings and binary are built in row
 * order: setting row r after row s < r fills the rows between with empty
 * values; setting an earlier row than the last one set is an error that
 * fails the call. Allocation failures also fail the call (with "out of
 * memory") when the function returns. */
typedef struct wudf_output {
  wudf_type type;
  int64_t length;     /* rows so far */
  int64_t capacity;   /* rows allocated */
  int64_t null_count;
  uint8_t* validity;  /* allocated at the first null */
  void* values;       /* values, bits, or offsets (length + 1 entries) */
  uint8_t* data;      /* bytes of strings and binary */
  int64_t data_size;
  int64_t data_capacity;
  int failed;         /* an allocation failed or rows were out of order */
  const char* name;
} wudf_output;

/* The columns of a batch function's result. */
typedef struct wudf_result {
  int count;
  wudf_output* columns;
} wudf_result;

static inline wudf_output* wudf_column(wudf_result* result, int index) {
  return &result->columns[index];
}

/* Makes room for `rows` rows; returns 0 or -1 (and marks the output failed). */
int wudf_output_reserve(wudf_output* out, int64_t rows);
/* Sets the number of rows (growing or shrinking); 0 or -1. */
int wudf_output_resize(wudf_output* out, int64_t rows);

void wudf_set_null(wudf_output* out, int64_t row);
void wudf_set_bool(wudf_output* out, int64_t row, bool value);
void wudf_set_int8(wudf_output* out, int64_t row, int8_t value);
void wudf_set_int16(wudf_output* out, int64_t row, int16_t value);
void wudf_set_int32(wudf_output* out, int64_t row, int32_t value);
void wudf_set_int64(wudf_output* out, int64_t row, int64_t value);
void wudf_set_uint8(wudf_output* out, int64_t row, uint8_t value);
void wudf_set_uint16(wudf_output* out, int64_t row, uint16_t value);
void wudf_set_uint32(wudf_output* out, int64_t row, uint32_t value);
void wudf_set_uint64(wudf_output* out, int64_t row, uint64_t value);
void wudf_set_float32(wudf_output* out, int64_t row, float value);
void wudf_set_float64(wudf_output* out, int64_t row, double value);
/* Sets a string or binary row to a copy of `size` bytes at `data`. */
void wudf_set_str(wudf_output* out, int64_t row, const char* data, size_t size);
/* Sets a string or binary row to `size` bytes the caller writes through the
 * returned pointer (valid until the next set on this output); NULL on
 * failure. */
char* wudf_set_str_uninit(wudf_output* out, int64_t row, size_t size);

/* The values of a fixed-width output as an array of `length` entries the
 * caller may write directly (e.g. after wudf_output_resize). */
static inline void* wudf_output_values(wudf_output* out) { return out->values; }

/* Fails the call with a printf-style message; returns a nonzero code, so
 * functions write `return wudf_error("bad value %d", v);`. */
int wudf_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------------ */
/* Declaring functions                                                       */
/* ------------------------------------------------------------------------ */

typedef int (*wudf_scalar_fn)(const wudf_args* args, wudf_output* out);
typedef int (*wudf_batch_fn)(const wudf_args* args, wudf_result* result);

/* Internal: the SDK's side of one call (guest/wudf_guest.c). */
int32_t wudf__run_scalar(const char* record, wudf_scalar_fn fn,
                         struct ArrowArray* args, struct ArrowSchema* args_schema,
                         struct ArrowArray* out, struct ArrowSchema* out_schema);
int32_t wudf__run_batch(const char* record, wudf_batch_fn fn,
                        struct ArrowArray* args, struct ArrowSchema* args_schema,
                        struct ArrowArray* out, struct ArrowSchema* out_schema);

/* The metadata record goes to the "wasmudf" custom section through the
 * assembler (clang 14 has no C attribute for custom sections). The
 * signature must be a plain string literal without double quotes. */
#define WUDF__METADATA(kind, signature)                                        \
  __asm__(".section .custom_section.wasmudf,\"\",@\n"                          \
          ".asciz \"wasmudf:1 " kind " " signature "\"\n"                      \
          ".text\n");

#define WUDF__DECLARE(kind, name, signature, fn_type, runner, params)          \
  WUDF__METADATA(kind, signature)                                              \
  static int wudf__body_##name params;                                         \
  __attribute__((export_name("wudf_fn_" #name))) int32_t wudf__export_##name(  \
      struct ArrowArray* args, struct ArrowSchema* args_schema,                \
      struct ArrowArray* out, struct ArrowSchema* out_schema) {                \
    return runner("wasmudf:1 " kind " " signature, wudf__body_##name, args,    \
                  args_schema, out, out_schema);                               \
  }                                                                            \
  static int wudf__body_##name params

/* Declares scalar function `name` with `signature` (see docs/abi.md); the
 * braces that follow are its body, with parameters `args` and `out`. */
#define WUDF_SCALAR(name, signature)                                           \
  WUDF__DECLARE("scalar", name, signature, wudf_scalar_fn, wudf__run_scalar,   \
                (const wudf_args* args, wudf_output* out))

/* Declares batch function `name`; its body has parameters `args` and
 * `result`. The signature's result is a struct<name: type, ...>. */
#define WUDF_BATCH(name, signature)                                            \
  WUDF__DECLARE("batch", name, signature, wudf_batch_fn, wudf__run_batch,      \
                (const wudf_args* args, wudf_result* result))

#ifdef __cplusplus
}
#endif

#endif /* WASMUDF_GUEST_H */
