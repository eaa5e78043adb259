/*
 * wasmudf/guest.h -- the C guest SDK: write user-defined functions over Arrow
 * data in C, compile them to WebAssembly, run them with wasmudf.
 *
 *   #include <wasmudf/guest.h>
 *
 *   WUDF_SCALAR_FN(gcd, "(int32, int32) -> int32") {
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
 * wudf_input per argument) and fills `out`, the result column. By default a
 * function is strict ("RETURNS NULL ON NULL INPUT"): the host never passes
 * rows where an argument is null and makes those results null itself. With
 * "CALLED ON NULL INPUT" at the end of the signature the function sees
 * nulls (wudf_is_null) and decides.
 *
 * A batch function (WUDF_BATCH) gets the arguments of a whole batch and fills
 * `result`, a struct of the declared columns, with any number of rows. A
 * table function (WUDF_TABLE) emits any number of rows per input row, in
 * bounded chunks (see wudf_table); an aggregate function (WUDF_AGGREGATE)
 * folds rows into per-group states (see wudf_aggregate_fns).
 *
 * Return 0 for success, or `return wudf_error("...", ...)` to fail the call
 * with a message the host reports. Accessors do not check their arguments
 * in a normal build: the SDK has already checked that the inputs have the
 * declared types, and accessors compile to plain loads. Built with
 * -DWUDF_DEBUG (`wasmudf build -DWUDF_DEBUG f.c -o f.wasm`), every typed
 * accessor checks the type of the input it reads and a wrong one traps
 * with a message naming the function, the argument and the accessor (see
 * "Checked accessors" below).
 *
 * Shorter forms (see "Declaring functions"): WUDF_SCALAR_FN(gcd, "(int32,
 * int32) -> int32") writes the name once (the signature is the rest), and
 * WUDF_SCALAR_ROWWISE(gcd, int32, int32(a), int32(b)) { ... return x; }
 * declares a strict scalar function one row at a time, its signature made
 * from the C declaration. Whole-column fast paths for kernels are in "Fast
 * paths".
 *
 * Every Arrow type of the signature language (docs/abi.md, section 6) can be
 * read: inputs are trees that mirror the argument's ArrowArray and
 * ArrowSchema (children, dictionary). Results of every type can be built
 * except unions, run-end encoded arrays and list views, which a function can
 * still return by moving an argument of the same type into the result
 * (wudf_output_take_input, no copy).
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
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/* Type codes of inputs and outputs, one per type of the signature language.
 * A dictionary-encoded column is not a type code of its own: it has the
 * code of its index type (WUDF_INT8 ... WUDF_UINT64), is_dictionary set, and
 * its values in `dictionary` (see wudf_input and wudf_output). */
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
  WUDF_LARGE_BINARY,
  WUDF_NULL,
  WUDF_FLOAT16,
  WUDF_DECIMAL32,
  WUDF_DECIMAL64,
  WUDF_DECIMAL128,
  WUDF_DECIMAL256,
  WUDF_DATE32,                   /* days since the epoch, int32 */
  WUDF_DATE64,                   /* milliseconds since the epoch, int64 */
  WUDF_TIME32,                   /* seconds or milliseconds of the day, int32 */
  WUDF_TIME64,                   /* micro- or nanoseconds of the day, int64 */
  WUDF_TIMESTAMP,                /* `unit`s since the epoch, int64; `timezone` */
  WUDF_DURATION,                 /* `unit`s, int64 */
  WUDF_INTERVAL_MONTHS,          /* int32 */
  WUDF_INTERVAL_DAY_TIME,        /* wudf_interval_day_time */
  WUDF_INTERVAL_MONTH_DAY_NANO,  /* wudf_interval_month_day_nano */
  WUDF_FIXED_SIZE_BINARY,        /* `byte_width` bytes per row */
  WUDF_UTF8_VIEW,
  WUDF_BINARY_VIEW,
  WUDF_LIST,
  WUDF_LARGE_LIST,
  WUDF_FIXED_SIZE_LIST,          /* `list_size` values per row */
  WUDF_LIST_VIEW,
  WUDF_LARGE_LIST_VIEW,
  WUDF_STRUCT,
  WUDF_MAP,
  WUDF_SPARSE_UNION,
  WUDF_DENSE_UNION,
  WUDF_RUN_END_ENCODED
} wudf_type;

/* Time units of time32/time64, timestamps and durations. */
typedef enum wudf_time_unit {
  WUDF_UNIT_NONE = 0,
  WUDF_SECOND,
  WUDF_MILLISECOND,
  WUDF_MICROSECOND,
  WUDF_NANOSECOND
} wudf_time_unit;

/* An interval(day_time) value. */
typedef struct wudf_interval_day_time {
  int32_t days;
  int32_t milliseconds;
} wudf_interval_day_time;

/* An interval(month_day_nano) value. */
typedef struct wudf_interval_month_day_nano {
  int32_t months;
  int32_t days;
  int64_t nanoseconds;
} wudf_interval_month_day_nano;

/* The unscaled value of a decimal128 / decimal256: a two's complement
 * integer as little-endian 64-bit limbs (limbs[0] is the least
 * significant), exactly as Arrow stores it. decimal32 and decimal64 values
 * are plain int32_t and int64_t. */
typedef struct wudf_decimal128 {
  uint64_t limbs[2];
} wudf_decimal128;

typedef struct wudf_decimal256 {
  uint64_t limbs[4];
} wudf_decimal256;

/* A string or binary value; not NUL-terminated. */
typedef struct wudf_str {
  const char* data;
  size_t size;
} wudf_str;

/* Rows [start, end) of a list's values (see wudf_list_range). */
typedef struct wudf_range {
  int64_t start;
  int64_t end;
} wudf_range;

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * One argument column, or one node inside it, as a view of its ArrowArray.
 * Row `row` of the view is position `offset + row` of its buffers, and every
 * accessor applies that offset. Children follow the row mapping of Arrow:
 *
 *   - struct fields and sparse union children have the rows of their parent
 *     (the parent's offset is folded into theirs): field row r is struct
 *     row r;
 *   - the values of a list, large list, list view, fixed-size list and map
 *     are indexed by the ranges wudf_list_range gives;
 *   - a map's keys and values (wudf_map_keys, wudf_map_values) are indexed
 *     by wudf_list_range of the map;
 *   - a dense union child is indexed by wudf_union_child_row;
 *   - a dictionary is indexed by wudf_dict_index;
 *   - run-end encoded values are indexed by wudf_ree_physical.
 *
 * `null_count` is 0 when no row of the view is null; otherwise the array's
 * count, or -1 (unknown) for fields whose parent offset was folded in.
 * wudf_is_null reads the node's own validity bitmap: a union has none (its
 * nulls are in its children), a run-end encoded array neither (its nulls are
 * in its values), a dictionary-encoded array's bitmap is that of its
 * indices, and a null array is null everywhere.
 */
typedef struct wudf_input {
  wudf_type type;             /* for a dictionary: the index type */
  int64_t length;             /* rows of the view */
  int64_t offset;             /* position of row 0 in the buffers */
  int64_t null_count;
  const uint8_t* validity;    /* NULL when no row is null */
  const void* values;         /* buffers[1]: values, bits, offsets (strings,
                                 lists, maps, list views), 16-byte views;
                                 dense union offsets */
  const uint8_t* data;        /* buffers[2] of strings and binary */
  const struct ArrowArray* array;
  const struct ArrowSchema* schema;
  const char* name;           /* the field's name (schema->name), or "" */

  /* Parameters of the type. */
  wudf_time_unit unit;        /* time32/64, timestamp, duration */
  const char* timezone;       /* timestamp: the zone, "" without; else NULL */
  int32_t precision;          /* decimals */
  int32_t scale;              /* decimals */
  int32_t byte_width;         /* bytes per value of fixed-width types */
  int64_t list_size;          /* fixed-size list */

  /* Nested types. */
  int n_children;
  const struct wudf_input* children;   /* n_children views */
  bool is_dictionary;
  const struct wudf_input* dictionary; /* the values of a dictionary */

  /* Layout details used by the accessors. */
  const void* sizes;                   /* list views: buffers[2] */
  const int8_t* type_ids;              /* unions: buffers[0] */
  int64_t variadic_count;              /* views: data buffers */
  const uint8_t* const* variadic;      /* views: buffers[2 ...] */
  int8_t union_child[128];             /* unions: type id -> child, -1 */
} wudf_input;

/* The arguments of one call. */
typedef struct wudf_args {
  int64_t length;  /* rows in this call */
  int count;       /* number of arguments */
  const wudf_input* inputs;
} wudf_args;

/* ------------------------------------------------------------------------ */
/* Checked accessors                                                         */
/* ------------------------------------------------------------------------ */

/*
 * With WUDF_DEBUG defined before this header is included (e.g. `wasmudf
 * build -DWUDF_DEBUG ...`), every typed accessor below checks that the
 * input it reads has a type it can read: wudf_get_int32 / wudf_values_int32
 * any 4-byte integer-like fixed-width type (int32, uint32, date32, time32,
 * decimal32, interval(months), 4-byte dictionary indices), the float
 * getters their float type only, wudf_get_str strings and binary (and
 * fixed_size_binary), wudf_get_bool bool, wudf_list_range lists and maps,
 * wudf_dict_index dictionaries, wudf_arg an index below the argument
 * count. A wrong one writes
 *
 *   wasmudf guest: gcd: wudf_get_int32 on argument 2 'b' of type utf8
 *   (expected a 4-byte fixed-width input)
 *
 * to the guest's stderr (wudf_instance_output on the host; the CLI prints
 * it) and traps (the host's call fails with EFAULT, "unreachable"), so the
 * mistake cannot go on reading the wrong bytes. Without WUDF_DEBUG the
 * checks are not compiled at all: accessors cost what they cost before.
 */
/* Internal: reports a misused accessor and traps (guest/wudf_guest.c):
 * `input` is the wudf_input read, or for "wudf_arg" the wudf_args and
 * `index` the bad argument index. */
__attribute__((noreturn, cold)) void wudf__misuse(const void* input, int index,
                                                  const char* accessor,
                                                  const char* expected);
#if defined(WUDF_DEBUG)
#define WUDF__CHECK(in, ok, accessor, expected)                               \
  do {                                                                         \
    if (!(ok)) wudf__misuse((in), -1, (accessor), (expected));                 \
  } while (0)
#else
#define WUDF__CHECK(in, ok, accessor, expected) ((void)0)
#endif

/* Internal: the bytes per value of a fixed-width type code (0 for others;
 * -1 for fixed_size_binary, whose width is the input's byte_width). */
static inline int wudf__type_width(wudf_type type) {
  switch (type) {
    case WUDF_INT8: case WUDF_UINT8: return 1;
    case WUDF_INT16: case WUDF_UINT16: case WUDF_FLOAT16: return 2;
    case WUDF_INT32: case WUDF_UINT32: case WUDF_FLOAT32: case WUDF_DATE32:
    case WUDF_TIME32: case WUDF_DECIMAL32: case WUDF_INTERVAL_MONTHS: return 4;
    case WUDF_INT64: case WUDF_UINT64: case WUDF_FLOAT64: case WUDF_DATE64:
    case WUDF_TIME64: case WUDF_TIMESTAMP: case WUDF_DURATION: case WUDF_DECIMAL64:
    case WUDF_INTERVAL_DAY_TIME: return 8;
    case WUDF_DECIMAL128: case WUDF_INTERVAL_MONTH_DAY_NANO: return 16;
    case WUDF_DECIMAL256: return 32;
    case WUDF_FIXED_SIZE_BINARY: return -1;
    default: return 0;
  }
}

/* Internal: whether an integer-like getter of `width` bytes may read `in`
 * (any fixed-width type of that width but the floats; see above). */
static inline bool wudf__reads_as_int(const wudf_input* in, int width) {
  return wudf__type_width(in->type) == width && in->type != WUDF_FLOAT32 &&
         in->type != WUDF_FLOAT64;
}

/* Internal: whether `in` is a string, binary, view or fixed_size_binary. */
static inline bool wudf__is_stringlike(const wudf_input* in) {
  return (in->type >= WUDF_UTF8 && in->type <= WUDF_LARGE_BINARY) ||
         in->type == WUDF_UTF8_VIEW || in->type == WUDF_BINARY_VIEW ||
         in->type == WUDF_FIXED_SIZE_BINARY;
}

static inline const wudf_input* wudf_arg(const wudf_args* args, int index) {
#if defined(WUDF_DEBUG)
  if (index < 0 || index >= args->count) {
    wudf__misuse(args, index, "wudf_arg", "an argument index below the argument count");
  }
#endif
  return &args->inputs[index];
}

/* Child `index` of a nested input (a struct field, a union member, a list's
 * values, a map's entries, run ends (0) and values (1) of run-end encoded). */
static inline const wudf_input* wudf_child(const wudf_input* in, int index) {
  return &in->children[index];
}

/* Whether row `row` is null in the node's own validity bitmap (see
 * wudf_input). */
static inline bool wudf_is_null(const wudf_input* in, int64_t row) {
  if (in->validity == NULL) return in->type == WUDF_NULL;
  int64_t bit = in->offset + row;
  return (in->validity[bit >> 3] & (1u << (bit & 7))) == 0;
}

/* Fixed-width getters and the values of all rows, offset applied:
 * values[0 .. length). A getter reads any fixed-width type of its width:
 * wudf_get_int64 reads timestamps, durations, date64, time64 and decimal64
 * too; the named getters below are the same reads under the type's name. */
#define WUDF__GETTER(name, ctype, ok, expected)                                \
  static inline ctype wudf_get_##name(const wudf_input* in, int64_t row) {    \
    WUDF__CHECK(in, ok, "wudf_get_" #name, expected);                          \
    return ((const ctype*)in->values)[in->offset + row];                       \
  }                                                                            \
  static inline const ctype* wudf_values_##name(const wudf_input* in) {       \
    WUDF__CHECK(in, ok, "wudf_values_" #name, expected);                       \
    return (const ctype*)in->values + in->offset;                              \
  }
#define WUDF__INT_GETTER(name, ctype)                                          \
  WUDF__GETTER(name, ctype, wudf__reads_as_int(in, (int)sizeof(ctype)),        \
               sizeof(ctype) == 1   ? "a 1-byte fixed-width input"             \
               : sizeof(ctype) == 2 ? "a 2-byte fixed-width input"             \
               : sizeof(ctype) == 4 ? "a 4-byte fixed-width input"             \
                                    : "an 8-byte fixed-width input")
WUDF__INT_GETTER(int8, int8_t)
WUDF__INT_GETTER(int16, int16_t)
WUDF__INT_GETTER(int32, int32_t)
WUDF__INT_GETTER(int64, int64_t)
WUDF__INT_GETTER(uint8, uint8_t)
WUDF__INT_GETTER(uint16, uint16_t)
WUDF__INT_GETTER(uint32, uint32_t)
WUDF__INT_GETTER(uint64, uint64_t)
WUDF__GETTER(float32, float, in->type == WUDF_FLOAT32, "a float32 input")
WUDF__GETTER(float64, double, in->type == WUDF_FLOAT64, "a float64 input")
WUDF__INT_GETTER(date32, int32_t)
WUDF__INT_GETTER(date64, int64_t)
WUDF__INT_GETTER(time32, int32_t)
WUDF__INT_GETTER(time64, int64_t)
WUDF__INT_GETTER(timestamp, int64_t)
WUDF__INT_GETTER(duration, int64_t)
WUDF__INT_GETTER(decimal32, int32_t)
WUDF__INT_GETTER(decimal64, int64_t)
WUDF__INT_GETTER(interval_months, int32_t)
WUDF__GETTER(float16_bits, uint16_t, wudf__type_width(in->type) == 2, "a 2-byte input")
#undef WUDF__INT_GETTER
#undef WUDF__GETTER

static inline bool wudf_get_bool(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, in->type == WUDF_BOOL, "wudf_get_bool", "a bool input");
  int64_t bit = in->offset + row;
  return (((const uint8_t*)in->values)[bit >> 3] & (1u << (bit & 7))) != 0;
}

/* The `byte_width` bytes of a fixed-width row (any fixed-width type). */
static inline const uint8_t* wudf_get_fixed(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, wudf__type_width(in->type) != 0, "wudf_get_fixed", "a fixed-width input");
  return (const uint8_t*)in->values + (in->offset + row) * (int64_t)in->byte_width;
}

/* Converts IEEE 754 half-precision bits to float (exactly). */
static inline float wudf_float16_to_float(uint16_t bits) {
  uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t fraction = bits & 0x3ffu;
  uint32_t word;
  if (exponent == 0x1f) {
    word = sign | 0x7f800000u | (fraction << 13); /* infinity, NaN */
  } else if (exponent != 0) {
    word = sign | ((exponent + 112) << 23) | (fraction << 13);
  } else if (fraction == 0) {
    word = sign; /* zero */
  } else {
    /* Subnormal: normalise the fraction. */
    uint32_t shift = 0;
    while ((fraction & 0x400u) == 0) {
      fraction <<= 1;
      shift++;
    }
    word = sign | ((113 - shift) << 23) | ((fraction & 0x3ffu) << 13);
  }
  float value;
  memcpy(&value, &word, sizeof(value));
  return value;
}

/* Converts a float to half-precision bits, rounding to nearest even
 * (overflow gives infinity, NaN stays NaN). */
static inline uint16_t wudf_float16_from_float(float value) {
  uint32_t word;
  memcpy(&word, &value, sizeof(word));
  uint16_t sign = (uint16_t)((word >> 16) & 0x8000u);
  uint32_t exponent = (word >> 23) & 0xffu;
  uint32_t fraction = word & 0x7fffffu;
  if (exponent == 0xff) {
    return (uint16_t)(sign | 0x7c00u | (fraction != 0 ? 0x200u | (fraction >> 13) : 0));
  }
  int32_t half_exponent = (int32_t)exponent - 112;
  if (half_exponent >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  uint32_t mantissa;
  int32_t shift;
  if (half_exponent <= 0) {
    if (half_exponent < -10) return sign; /* below half the smallest subnormal */
    mantissa = fraction | 0x800000u;
    shift = 14 - half_exponent;
    half_exponent = 0;
  } else {
    mantissa = fraction;
    shift = 13;
  }
  uint32_t result = ((uint32_t)half_exponent << 10) | (mantissa >> shift);
  uint32_t remainder = mantissa & ((1u << shift) - 1);
  uint32_t halfway = 1u << (shift - 1);
  if (remainder > halfway || (remainder == halfway && (result & 1u) != 0)) result++;
  return (uint16_t)(sign | result); /* a carry into the exponent is right */
}

static inline float wudf_get_float16(const wudf_input* in, int64_t row) {
  return wudf_float16_to_float(wudf_get_float16_bits(in, row));
}

static inline wudf_decimal128 wudf_get_decimal128(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, in->type == WUDF_DECIMAL128, "wudf_get_decimal128", "a decimal128 input");
  wudf_decimal128 value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 16, sizeof(value));
  return value;
}

static inline wudf_decimal256 wudf_get_decimal256(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, in->type == WUDF_DECIMAL256, "wudf_get_decimal256", "a decimal256 input");
  wudf_decimal256 value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 32, sizeof(value));
  return value;
}

static inline wudf_interval_day_time wudf_get_interval_day_time(const wudf_input* in,
                                                                int64_t row) {
  WUDF__CHECK(in, in->type == WUDF_INTERVAL_DAY_TIME, "wudf_get_interval_day_time",
              "an interval(day_time) input");
  wudf_interval_day_time value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 8, sizeof(value));
  return value;
}

static inline wudf_interval_month_day_nano wudf_get_interval_month_day_nano(
    const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, in->type == WUDF_INTERVAL_MONTH_DAY_NANO,
              "wudf_get_interval_month_day_nano", "an interval(month_day_nano) input");
  wudf_interval_month_day_nano value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 16, sizeof(value));
  return value;
}

/* The bytes of a utf8, large_utf8, utf8_view, binary, large_binary,
 * binary_view or fixed_size_binary row. */
static inline wudf_str wudf_get_str(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, wudf__is_stringlike(in), "wudf_get_str", "a string or binary input");
  int64_t i = in->offset + row;
  wudf_str s;
  switch (in->type) {
    case WUDF_LARGE_UTF8:
    case WUDF_LARGE_BINARY: {
      int64_t start = ((const int64_t*)in->values)[i];
      s.data = (const char*)in->data + start;
      s.size = (size_t)(((const int64_t*)in->values)[i + 1] - start);
      return s;
    }
    case WUDF_UTF8_VIEW:
    case WUDF_BINARY_VIEW: {
      const uint8_t* view = (const uint8_t*)in->values + i * 16;
      int32_t size, buffer, at;
      memcpy(&size, view, 4);
      s.size = (size_t)size;
      if (size <= 12) {
        s.data = (const char*)view + 4;
      } else {
        memcpy(&buffer, view + 8, 4);
        memcpy(&at, view + 12, 4);
        s.data = (const char*)in->variadic[buffer] + at;
      }
      return s;
    }
    case WUDF_FIXED_SIZE_BINARY:
      s.data = (const char*)in->values + i * (int64_t)in->byte_width;
      s.size = (size_t)in->byte_width;
      return s;
    default: {
      int32_t start = ((const int32_t*)in->values)[i];
      s.data = (const char*)in->data + start;
      s.size = (size_t)(((const int32_t*)in->values)[i + 1] - start);
      return s;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Fast paths: whole columns and bitmaps                                     */
/* ------------------------------------------------------------------------ */

/*
 * Kernels that want native speed read whole columns rather than one getter
 * call per row: wudf_values_int32(in) (and the other wudf_values_*) is the
 * column's values with the offset applied, wudf_validity(in) its validity
 * bitmap with the offset folded in, and wudf_utf8_offsets/wudf_utf8_data the
 * two buffers of a utf8 or binary column. The bit helpers work on any Arrow
 * bitmap (bit i of byte i / 8, least significant first).
 *
 *   const double* x = wudf_values_float64(wudf_arg(args, 0));
 *   wudf_bitmap valid = wudf_validity(wudf_arg(args, 0));
 *   for (int64_t row = 0; row < args->length; row++)
 *     if (wudf_bitmap_get(valid, row)) total += x[row];
 */

static inline bool wudf_bit_get(const uint8_t* bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1u;
}
static inline void wudf_bit_set(uint8_t* bits, int64_t i) {
  bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}
static inline void wudf_bit_clear(uint8_t* bits, int64_t i) {
  bits[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}

/* A validity bitmap of an input with its offset folded in: row r is valid
 * when `bits` is NULL (no row is null) or bit `offset + r` of `bits` is set
 * (`offset` < 8, `bits` advanced by whole bytes). */
typedef struct wudf_bitmap {
  const uint8_t* bits;
  int64_t offset;
} wudf_bitmap;

/* The input's validity bitmap (bits NULL when no row is null; a null-type
 * input is all null and has none: test its type). */
static inline wudf_bitmap wudf_validity(const wudf_input* in) {
  wudf_bitmap bitmap;
  bitmap.bits = in->validity != NULL ? in->validity + (in->offset >> 3) : NULL;
  bitmap.offset = in->offset & 7;
  return bitmap;
}

/* Whether row `row` of the bitmap is valid. */
static inline bool wudf_bitmap_get(wudf_bitmap bitmap, int64_t row) {
  return bitmap.bits == NULL || wudf_bit_get(bitmap.bits, bitmap.offset + row);
}

/* Whether any row of the input may be null (false for a null-type input,
 * which is all null: test its type). One test per call instead of per row:
 *   if (!wudf_has_nulls(a) && !wudf_has_nulls(b)) { ...the plain loop... } */
static inline bool wudf_has_nulls(const wudf_input* in) { return in->validity != NULL; }

/* Whether row `row` is valid in the node's bitmap (wudf_is_null's
 * opposite without its null-type test). */
static inline bool wudf_is_valid(const wudf_input* in, int64_t row) {
  return in->validity == NULL || wudf_bit_get(in->validity, in->offset + row);
}

/* The offsets of a utf8 or binary input (int32 offsets) with the offset
 * applied: row r is bytes [offsets[r], offsets[r + 1]) of wudf_utf8_data;
 * length + 1 entries. offsets[0] need not be 0. */
static inline const int32_t* wudf_utf8_offsets(const wudf_input* in) {
  WUDF__CHECK(in, in->type == WUDF_UTF8 || in->type == WUDF_BINARY, "wudf_utf8_offsets",
              "a utf8 or binary input");
  return (const int32_t*)in->values + in->offset;
}
static inline const char* wudf_utf8_data(const wudf_input* in) {
  WUDF__CHECK(in, in->type == WUDF_UTF8 || in->type == WUDF_BINARY, "wudf_utf8_data",
              "a utf8 or binary input");
  return (const char*)in->data;
}

/* wudf_get_str for utf8 and binary inputs without the type switch. */
static inline wudf_str wudf_get_utf8(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, in->type == WUDF_UTF8 || in->type == WUDF_BINARY, "wudf_get_utf8",
              "a utf8 or binary input");
  const int32_t* offsets = (const int32_t*)in->values + in->offset + row;
  wudf_str s;
  s.data = (const char*)in->data + offsets[0];
  s.size = (size_t)(offsets[1] - offsets[0]);
  return s;
}

/* The values of a list, large list, list view, large list view,
 * fixed-size list or map (for a map: its entries; see wudf_map_keys). */
static inline const wudf_input* wudf_list_values(const wudf_input* in) {
  return &in->children[0];
}

/* The rows of wudf_list_values (for a map: of wudf_map_keys and
 * wudf_map_values) that row `row` holds. */
static inline wudf_range wudf_list_range(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, (in->type >= WUDF_LIST && in->type <= WUDF_LARGE_LIST_VIEW) ||
                  in->type == WUDF_MAP,
              "wudf_list_range", "a list or map input");
  int64_t i = in->offset + row;
  wudf_range range;
  switch (in->type) {
    case WUDF_LARGE_LIST:
      range.start = ((const int64_t*)in->values)[i];
      range.end = ((const int64_t*)in->values)[i + 1];
      break;
    case WUDF_LIST_VIEW:
      range.start = ((const int32_t*)in->values)[i];
      range.end = range.start + ((const int32_t*)in->sizes)[i];
      break;
    case WUDF_LARGE_LIST_VIEW:
      range.start = ((const int64_t*)in->values)[i];
      range.end = range.start + ((const int64_t*)in->sizes)[i];
      break;
    case WUDF_FIXED_SIZE_LIST:
      range.start = i * in->list_size;
      range.end = range.start + in->list_size;
      break;
    default: /* list, map */
      range.start = ((const int32_t*)in->values)[i];
      range.end = ((const int32_t*)in->values)[i + 1];
      break;
  }
  return range;
}

/* Field `index` of a struct; its row r is the struct's row r. */
static inline const wudf_input* wudf_field(const wudf_input* in, int index) {
  return &in->children[index];
}

/* The keys and values of a map, indexed by wudf_list_range of the map. */
static inline const wudf_input* wudf_map_keys(const wudf_input* in) {
  return &in->children[0].children[0];
}
static inline const wudf_input* wudf_map_values(const wudf_input* in) {
  return &in->children[0].children[1];
}

/* The type id of a union row. */
static inline int8_t wudf_union_type_id(const wudf_input* in, int64_t row) {
  return in->type_ids[in->offset + row];
}

/* The index of the child that holds a union row (wudf_child). */
static inline int wudf_union_child_index(const wudf_input* in, int64_t row) {
  return in->union_child[(uint8_t)in->type_ids[in->offset + row] & 127u];
}

/* The row of that child: the same row for a sparse union, the row the
 * offsets buffer gives for a dense one. */
static inline int64_t wudf_union_child_row(const wudf_input* in, int64_t row) {
  if (in->type == WUDF_SPARSE_UNION) return row;
  return ((const int32_t*)in->values)[in->offset + row];
}

/* The index of a dictionary-encoded row into wudf_dictionary(in), whatever
 * the index type. */
static inline int64_t wudf_dict_index(const wudf_input* in, int64_t row) {
  WUDF__CHECK(in, in->is_dictionary, "wudf_dict_index", "a dictionary-encoded input");
  int64_t i = in->offset + row;
  switch (in->type) {
    case WUDF_INT8: return ((const int8_t*)in->values)[i];
    case WUDF_UINT8: return ((const uint8_t*)in->values)[i];
    case WUDF_INT16: return ((const int16_t*)in->values)[i];
    case WUDF_UINT16: return ((const uint16_t*)in->values)[i];
    case WUDF_INT32: return ((const int32_t*)in->values)[i];
    case WUDF_UINT32: return ((const uint32_t*)in->values)[i];
    case WUDF_UINT64: return (int64_t)((const uint64_t*)in->values)[i];
    default: return ((const int64_t*)in->values)[i];
  }
}

/* The values of a dictionary-encoded input. */
static inline const wudf_input* wudf_dictionary(const wudf_input* in) {
  return in->dictionary;
}

/* The run ends and the values of a run-end encoded input. */
static inline const wudf_input* wudf_ree_run_ends(const wudf_input* in) {
  return &in->children[0];
}
static inline const wudf_input* wudf_ree_values(const wudf_input* in) {
  return &in->children[1];
}

/* The row of wudf_ree_values that holds row `row` (binary search over the
 * run ends). */
int64_t wudf_ree_physical(const wudf_input* in, int64_t row);

/* ------------------------------------------------------------------------ */
/* Decimals                                                                  */
/* ------------------------------------------------------------------------ */

wudf_decimal128 wudf_decimal128_from_int64(int64_t value);
wudf_decimal256 wudf_decimal256_from_int64(int64_t value);
/* Stores the value in *out and returns true when it fits an int64. */
bool wudf_decimal128_to_int64(wudf_decimal128 value, int64_t* out);
bool wudf_decimal256_to_int64(wudf_decimal256 value, int64_t* out);
/* Two's complement negation (the most negative value stays itself). */
wudf_decimal128 wudf_decimal128_negate(wudf_decimal128 value);
wudf_decimal256 wudf_decimal256_negate(wudf_decimal256 value);
/* Writes the value with `scale` digits after the point ("-12.345") into
 * `out` (NUL-terminated, truncated to `size`); returns the untruncated
 * length. A negative scale appends zeros. */
size_t wudf_decimal128_format(wudf_decimal128 value, int32_t scale, char* out, size_t size);
size_t wudf_decimal256_format(wudf_decimal256 value, int32_t scale, char* out, size_t size);

/* ------------------------------------------------------------------------ */
/* Outputs                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * A result column under construction, or one node inside it: a tree that
 * mirrors the declared result type (children for nested types, `dictionary`
 * for a dictionary-encoded type, parameters as in wudf_input).
 *
 * Rows grow as they are set; a row not set is valid and zero (or empty).
 * A scalar function's result starts with every row present when its rows
 * can be set in any order (fixed-width, bool, null, views, structs of
 * those, dictionary indices), so functions may write wudf_output_values
 * directly. Strings, binary, lists and maps are built in row order: setting
 * row r after row s < r fills the rows between with empty values; setting
 * an earlier row than the last one set is an error that fails the call.
 * Allocation failures, setters of the wrong type, and builders of types the
 * SDK cannot build also fail the call (with a message naming the column)
 * when the function returns.
 *
 * Setters by type:
 *   - fixed-width: a setter of width W works on every fixed-width output of
 *     W bytes per value: wudf_set_int32 on int32, uint32, date32, time32,
 *     decimal32, interval(months); wudf_set_int64 on int64, uint64, date64,
 *     time64, timestamps, durations, decimal64. The named setters
 *     (wudf_set_date32, wudf_set_timestamp, ...) are the same calls.
 *   - float16: wudf_set_float16 (rounds a float), or wudf_set_uint16 for
 *     raw bits.
 *   - decimals: wudf_set_decimal32/64/128/256 (the unscaled value).
 *   - strings, binary, views, fixed_size_binary: wudf_set_str and
 *     wudf_set_str_uninit (for fixed_size_binary the size must be the byte
 *     width; views and fixed_size_binary rows may be set in any order).
 *   - lists, large lists, maps: append the row's values to
 *     wudf_output_list_values(out) (for a map: keys and values to
 *     wudf_output_map_keys/values, same row each), then
 *     wudf_list_end_row(out, row). Rows are ended in order.
 *   - fixed-size lists: row r's values are rows [r * list_size, (r + 1) *
 *     list_size) of wudf_output_list_values(out): set them, then
 *     wudf_list_end_row(out, r) (or let the result grow to the call's rows).
 *   - structs: set fields (wudf_output_child) at the struct's row; the
 *     struct has as many rows as its longest field; wudf_set_null(out, row)
 *     makes a struct row null.
 *   - dictionaries: `out` holds the indices (wudf_set_index, or the
 *     setter of the index type) and wudf_output_dictionary(out) the values,
 *     built like any output; wudf_set_dict_str adds strings without
 *     duplicates.
 *   - any type, unions, run-end encoded and list views included:
 *     wudf_output_take_input moves an argument of the same type into the
 *     output without copying.
 */
typedef struct wudf_output {
  wudf_type type;     /* for a dictionary: the index type */
  int64_t length;     /* rows so far (a struct: see wudf_output_rows) */
  int64_t capacity;   /* rows allocated */
  int64_t null_count;
  uint8_t* validity;  /* allocated at the first null */
  void* values;       /* values, bits, offsets (length + 1 entries), views */
  uint8_t* data;      /* bytes of strings, binary and views */
  int64_t data_size;
  int64_t data_capacity;
  int failed;         /* the output is unusable; see `failure` */
  const char* name;   /* the column's (field's) name */

  /* Parameters of the type, as in wudf_input. */
  wudf_time_unit unit;
  const char* timezone;
  int32_t precision;
  int32_t scale;
  int32_t byte_width;
  int64_t list_size;

  /* Nested types. */
  int n_children;
  struct wudf_output* children;
  bool is_dictionary;
  struct wudf_output* dictionary;

  /* Internal state of the SDK. */
  const char* failure;        /* why the output failed (a static string) */
  uint8_t builder;            /* how rows are stored (guest/wudf_guest.c) */
  int64_t flags;              /* ArrowSchema flags of the node */
  char* format;               /* the node's Arrow format string */
  char* type_text;            /* the node's canonical type text */
  size_t type_length;
  struct ArrowArray taken;    /* an argument moved in (release set) */
  void* dedup;                /* wudf_set_dict_str's hash table */
  uint8_t recount;            /* wudf_output_validity was used: count nulls */
  struct ArrowSchema* taken_schema; /* a copy of the moved argument's schema
                                       (names, flags, metadata kept) */
} wudf_output;

/* The columns of a batch function's result. */
typedef struct wudf_result {
  int count;
  wudf_output* columns;
} wudf_result;

static inline wudf_output* wudf_column(wudf_result* result, int index) {
  return &result->columns[index];
}

/* Child `index` of a nested output: a struct field, a list's values, a
 * map's entries (a struct of keys and values). */
static inline wudf_output* wudf_output_child(wudf_output* out, int index) {
  return &out->children[index];
}

/* The values of a list, large list, fixed-size list (or a map's entries). */
static inline wudf_output* wudf_output_list_values(wudf_output* out) {
  return &out->children[0];
}

/* The keys and values of a map output. */
static inline wudf_output* wudf_output_map_keys(wudf_output* out) {
  return &out->children[0].children[0];
}
static inline wudf_output* wudf_output_map_values(wudf_output* out) {
  return &out->children[0].children[1];
}

/* The values of a dictionary output. */
static inline wudf_output* wudf_output_dictionary(wudf_output* out) {
  return out->dictionary;
}

/* The rows an output has so far: `length`, except for a struct (its longest
 * field, if longer) and a fixed-size list (enough rows for its values).
 * The next row to append to a list's values is wudf_output_rows(values). */
int64_t wudf_output_rows(const wudf_output* out);

/* Makes room for `rows` rows; returns 0 or -1 (and marks the output failed). */
int wudf_output_reserve(wudf_output* out, int64_t rows);
/* Sets the number of rows (growing with valid zero or empty rows, or
 * shrinking where rows are not built in order); 0 or -1. */
int wudf_output_resize(wudf_output* out, int64_t rows);

/* Makes row `row` null. For a list or map it also ends the row (see
 * wudf_list_end_row); for a struct the fields keep whatever was set. */
void wudf_set_null(wudf_output* out, int64_t row);
void wudf_set_bool(wudf_output* out, int64_t row, bool value);

/*
 * The fixed-width setters below are inline: a row the output already has
 * (and that is valid), or the next row within reserved room, is written in
 * place after a handful of comparisons; anything else (a null row set
 * again, a row past the room, a failed output, a setter of another width
 * or type) goes to the SDK's checked setter, which grows the output or
 * fails it exactly as described above. A loop of setters over a scalar
 * result's rows therefore costs a few instructions per row, not a call.
 */

/* Internal: how wudf_output.builder says "fixed-width values" (checked
 * against the SDK's own enum when the SDK is built). */
#define WUDF__BUILD_FIXED_CODE 3

/* Internal: the slot of row `row` of `out` when a setter of `width`-byte
 * values may write it without the checked path; NULL otherwise. Rows past
 * `length` within `capacity` are zero and valid already, so appending one
 * only moves `length`. */
static inline void* wudf__direct_slot(wudf_output* out, int64_t row, int32_t width) {
  if (out->failed || out->builder != WUDF__BUILD_FIXED_CODE || out->byte_width != width) {
    return NULL;
  }
  if ((uint64_t)row < (uint64_t)out->length) {
    if (out->validity != NULL && ((out->validity[row >> 3] >> (row & 7)) & 1u) == 0) {
      return NULL;
    }
  } else if (row == out->length && row < out->capacity) {
    out->length = row + 1;
  } else {
    return NULL;
  }
  return (uint8_t*)out->values + row * (int64_t)width;
}

/* Internal: the inline setter of `ctype` (a value type of `sizeof(ctype)`
 * bytes) and its checked out-of-line path; `also` is a further condition
 * of the inline path (floats: the output's type). */
#define WUDF__INLINE_SETTER(name, ctype, also)                                  \
  void wudf__set_##name##_checked(wudf_output* out, int64_t row, ctype value);  \
  static inline void wudf_set_##name(wudf_output* out, int64_t row, ctype value) { \
    void* slot = (also) ? wudf__direct_slot(out, row, (int32_t)sizeof(ctype)) : NULL; \
    if (slot != NULL) {                                                         \
      memcpy(slot, &value, sizeof(value)); /* any type of this width */         \
    } else {                                                                    \
      wudf__set_##name##_checked(out, row, value);                              \
    }                                                                           \
  }
WUDF__INLINE_SETTER(int8, int8_t, 1)
WUDF__INLINE_SETTER(int16, int16_t, 1)
WUDF__INLINE_SETTER(int32, int32_t, 1)
WUDF__INLINE_SETTER(int64, int64_t, 1)
WUDF__INLINE_SETTER(uint8, uint8_t, 1)
WUDF__INLINE_SETTER(uint16, uint16_t, 1)
WUDF__INLINE_SETTER(uint32, uint32_t, 1)
WUDF__INLINE_SETTER(uint64, uint64_t, 1)
WUDF__INLINE_SETTER(float32, float, out->type == WUDF_FLOAT32 && !out->is_dictionary)
WUDF__INLINE_SETTER(float64, double, out->type == WUDF_FLOAT64 && !out->is_dictionary)
WUDF__INLINE_SETTER(decimal128, wudf_decimal128, 1)
WUDF__INLINE_SETTER(decimal256, wudf_decimal256, 1)
WUDF__INLINE_SETTER(interval_day_time, wudf_interval_day_time, 1)
WUDF__INLINE_SETTER(interval_month_day_nano, wudf_interval_month_day_nano, 1)
#undef WUDF__INLINE_SETTER

/* Sets a float16 row to `value` rounded to half precision. */
void wudf_set_float16(wudf_output* out, int64_t row, float value);
/* Sets a row of any fixed-width output to `byte_width` bytes at `bytes`. */
void wudf_set_fixed(wudf_output* out, int64_t row, const void* bytes);

/* The named setters of fixed-width types (see wudf_output). */
static inline void wudf_set_date32(wudf_output* out, int64_t row, int32_t days) {
  wudf_set_int32(out, row, days);
}
static inline void wudf_set_date64(wudf_output* out, int64_t row, int64_t milliseconds) {
  wudf_set_int64(out, row, milliseconds);
}
static inline void wudf_set_time32(wudf_output* out, int64_t row, int32_t value) {
  wudf_set_int32(out, row, value);
}
static inline void wudf_set_time64(wudf_output* out, int64_t row, int64_t value) {
  wudf_set_int64(out, row, value);
}
static inline void wudf_set_timestamp(wudf_output* out, int64_t row, int64_t value) {
  wudf_set_int64(out, row, value);
}
static inline void wudf_set_duration(wudf_output* out, int64_t row, int64_t value) {
  wudf_set_int64(out, row, value);
}
static inline void wudf_set_interval_months(wudf_output* out, int64_t row, int32_t months) {
  wudf_set_int32(out, row, months);
}
static inline void wudf_set_decimal32(wudf_output* out, int64_t row, int32_t unscaled) {
  wudf_set_int32(out, row, unscaled);
}
static inline void wudf_set_decimal64(wudf_output* out, int64_t row, int64_t unscaled) {
  wudf_set_int64(out, row, unscaled);
}

/* Sets a string, binary, view or fixed-size binary row to a copy of `size`
 * bytes at `data`. */
void wudf_set_str(wudf_output* out, int64_t row, const char* data, size_t size);
/* Sets such a row to `size` bytes the caller writes through the returned
 * pointer (valid until the next set on this output); NULL on failure. */
char* wudf_set_str_uninit(wudf_output* out, int64_t row, size_t size);

/* Ends row `row` of a list, large list or map: its values are those
 * appended to wudf_output_list_values(out) since the previous row ended
 * (rows skipped in between are empty). For a fixed-size list, makes rows up
 * to `row` exist and pads its values to (row + 1) * list_size. */
void wudf_list_end_row(wudf_output* out, int64_t row);

/* Sets a dictionary output's row to index `index` (any index type; the
 * index must fit it). */
void wudf_set_index(wudf_output* out, int64_t row, int64_t index);
/* Returns the index of the string or binary value (`size` bytes at `data`)
 * in the dictionary of `out`, appending it to the dictionary's values when
 * it is new; -1 on failure. The dictionary's values must be utf8, binary,
 * their large or view variants, and be built only by this function. */
int64_t wudf_dict_add_str(wudf_output* out, const char* data, size_t size);
/* wudf_set_index(out, row, wudf_dict_add_str(out, data, size)). */
void wudf_set_dict_str(wudf_output* out, int64_t row, const char* data, size_t size);

/* Moves argument `in` (an argument, a list's values, or a dictionary: an
 * input whose rows are its array's) into `out`, whose type it must have,
 * without copying: `out` becomes the argument's ArrowArray, whatever was
 * built in `out` is dropped. The argument's input block then lives until
 * the host releases the result. Returns 0, or fails the call: returns
 * nonzero with the error message set (`return wudf_output_take_input(...)`
 * works). An input can be moved once. */
int wudf_output_take_input(wudf_output* out, const wudf_input* in);

/* The values of a fixed-width output as an array of `length` entries the
 * caller may write directly (e.g. after wudf_output_resize). */
static inline void* wudf_output_values(wudf_output* out) { return out->values; }

/* ------------------------------------------------------------------------ */
/* Fast paths: whole output columns and string appends                      */
/* ------------------------------------------------------------------------ */

/*
 * wudf_output_values_int32(out, rows) gives the output `rows` rows and
 * returns its values as a writable int32_t array of that length (NULL, the
 * output failed, when its values are not 4 bytes wide or memory ran out),
 * so a kernel writes results[row] = ... with no call per row; the same for
 * every fixed width. wudf_output_validity(out) gives the output a validity
 * bitmap (all rows valid) whose bits the kernel clears with wudf_bit_clear
 * for null rows; the null count is counted when the function returns.
 *
 *   int64_t* sums = wudf_output_values_int64(out, count);
 *   uint8_t* valid = wudf_output_validity(out);
 *   if (sums == NULL || valid == NULL) return wudf_error("sum: out of memory");
 *   for (int64_t g = 0; g < count; g++) {
 *     sums[g] = s[g].sum;
 *     if (!s[g].any) wudf_bit_clear(valid, g);
 *   }
 *
 * Strings (utf8 and binary: int32 offsets) are appended in row order: one
 * wudf_output_reserve_str(out, rows, bytes) for room for `rows` more rows
 * of `bytes` more bytes in all, then inline appends that check nothing:
 *
 *   if (wudf_output_reserve_str(out, args->length, total_bytes) != 0)
 *     return wudf_error("upper: out of memory");
 *   for (...) { char* target = wudf_append_str_uninit(out, size); ... }
 *
 * An append past the reserved room is undefined behaviour: reserve what
 * you append (wudf_set_str and wudf_set_str_uninit stay checked).
 */

/* The values of fixed-width output `out` (`width` bytes each) for `rows`
 * rows, made to exist (rows not written are zero); NULL, and the output
 * failed, when its width is another or memory ran out. */
void* wudf_output_fixed_values(wudf_output* out, int64_t rows, int32_t width);

#define WUDF__OUTPUT_VALUES(name, ctype)                                       \
  static inline ctype* wudf_output_values_##name(wudf_output* out, int64_t rows) { \
    return (ctype*)wudf_output_fixed_values(out, rows, (int32_t)sizeof(ctype)); \
  }
WUDF__OUTPUT_VALUES(int8, int8_t)
WUDF__OUTPUT_VALUES(int16, int16_t)
WUDF__OUTPUT_VALUES(int32, int32_t)
WUDF__OUTPUT_VALUES(int64, int64_t)
WUDF__OUTPUT_VALUES(uint8, uint8_t)
WUDF__OUTPUT_VALUES(uint16, uint16_t)
WUDF__OUTPUT_VALUES(uint32, uint32_t)
WUDF__OUTPUT_VALUES(uint64, uint64_t)
WUDF__OUTPUT_VALUES(float32, float)
WUDF__OUTPUT_VALUES(float64, double)
#undef WUDF__OUTPUT_VALUES

/* The output's validity bitmap (made, all rows valid, when it has none):
 * bit r is row r; clear a bit to make the row null. Covers the rows the
 * output has room for (call it after the values). The null count is
 * recounted when the function returns. NULL (output failed) when out of
 * memory. */
uint8_t* wudf_output_validity(wudf_output* out);

/* Makes room to append `rows` more rows of `bytes` more bytes in all to a
 * utf8 or binary output; 0, or -1 (the output failed: another type, more
 * than 2^31 - 1 bytes, out of memory). */
int wudf_output_reserve_str(wudf_output* out, int64_t rows, int64_t bytes);

/* For kernels that keep every string's size (upper, lower, masks, byte
 * maps): gives an empty utf8 or binary output the rows of utf8 or binary
 * input `in`, with the same sizes and nulls (offsets copied, rebased to 0;
 * validity copied), and returns its data for the caller to fill: row r is
 * bytes [offsets[r] - offsets[0], offsets[r + 1] - offsets[0]) with
 * offsets = wudf_utf8_offsets(in), wudf_utf8_offsets(in)[length] -
 * offsets[0] bytes in all, so one loop over the input's bytes fills it:
 *
 *   const int32_t* offsets = wudf_utf8_offsets(in);
 *   const char* from = wudf_utf8_data(in) + offsets[0];
 *   char* to = wudf_output_str_sized_like(out, in);
 *   if (to == NULL) return wudf_error("upper: out of memory");
 *   for (int32_t i = 0; i < offsets[in->length] - offsets[0]; i++) to[i] = ...;
 *
 * NULL (the output failed) for other types, an output with rows, or out
 * of memory. */
char* wudf_output_str_sized_like(wudf_output* out, const wudf_input* in);

/* Appends the next row (row wudf_output_rows(out)) of `size` bytes that the
 * caller writes through the returned pointer, within the reserved room. */
static inline char* wudf_append_str_uninit(wudf_output* out, size_t size) {
  char* target = (char*)out->data + out->data_size;
  out->data_size += (int64_t)size;
  out->length++;
  ((int32_t*)out->values)[out->length] = (int32_t)out->data_size;
  return target;
}

/* Copies `size` bytes from `from` to `to` (not overlapping). Strings of
 * up to 16 bytes are copied inline as two (possibly overlapping) loads and
 * stores of the first and the last bytes, never past either buffer: a
 * call of libc's memcpy, a byte loop in WebAssembly, costs more than the
 * copy of such a string. */
static inline void wudf_copy_bytes(char* to, const char* from, size_t size) {
  if (size >= 8 && size <= 16) {
    uint64_t head, tail;
    memcpy(&head, from, 8);
    memcpy(&tail, from + size - 8, 8);
    memcpy(to, &head, 8);
    memcpy(to + size - 8, &tail, 8);
  } else if (size >= 4 && size < 8) {
    uint32_t head, tail;
    memcpy(&head, from, 4);
    memcpy(&tail, from + size - 4, 4);
    memcpy(to, &head, 4);
    memcpy(to + size - 4, &tail, 4);
  } else if (size > 0 && size < 4) {
    char first = from[0], middle = from[size >> 1], last = from[size - 1];
    to[0] = first;
    to[size >> 1] = middle;
    to[size - 1] = last;
  } else if (size > 16) {
    memcpy(to, from, size);
  }
}

/* Appends the next row, a copy of `size` bytes at `data`. */
static inline void wudf_append_str(wudf_output* out, const char* data, size_t size) {
  wudf_copy_bytes(wudf_append_str_uninit(out, size), data, size);
}

/* Appends a null row (checked; the row counts against the reserved rows). */
static inline void wudf_append_null(wudf_output* out) { wudf_set_null(out, out->length); }

/* Fails the call with a printf-style message; returns a nonzero code, so
 * functions write `return wudf_error("bad value %d", v);`. */
int wudf_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------------ */
/* Table functions                                                           */
/* ------------------------------------------------------------------------ */

/*
 * A table function (WUDF_TABLE) is called once per input row, with `row`,
 * and emits that row's output rows:
 *
 *   WUDF_TABLE(series, "series(int32 start, int32 stop) -> setof int32") {
 *     int32_t start = wudf_get_int32(wudf_arg(args, 0), row);
 *     int32_t stop = wudf_get_int32(wudf_arg(args, 1), row);
 *     for (int64_t value = start + table->emitted; value <= stop; value++) {
 *       int64_t out = wudf_table_emit(table);
 *       if (out < 0) return 0;     // the chunk is full: called again later
 *       wudf_set_int32(wudf_table_column(table, 0), out, (int32_t)value);
 *     }
 *     return 0;
 *   }
 *
 * Output goes to the host in chunks of bounded size. When the chunk is
 * full, wudf_table_emit returns -1: return 0 then, and the SDK calls the
 * function again for the same row in the next chunk, with `emitted` (the
 * rows this input row has produced so far) and `state` (a value of the
 * function's own, kept from the previous call; 0 at a new row) telling it
 * where to go on. So one input row may yield any number of rows without
 * the guest holding them all. The output row's input_row column is set by
 * the SDK; the declared columns are wudf_table_column(table, 0 ..), built
 * like any output at the row wudf_table_emit returned (rows not set are
 * valid and zero or empty). A strict function is never called for a row
 * with a null argument (the host yields no rows for it).
 */
typedef struct wudf_table {
  int64_t emitted; /* rows the current input row produced so far */
  int64_t state;   /* the function's resume point for this row; 0 at first */

  /* Internal state of the SDK. */
  int64_t row;           /* the input row */
  int64_t chunk_rows;    /* rows in the chunk so far */
  int64_t limit;         /* the most rows of the chunk */
  int64_t reserved;      /* rows `row_values` has room for */
  int64_t* row_values;   /* the input_row column's values */
  bool full;             /* an emit was refused */
  wudf_output* rows;     /* the input_row column */
  wudf_output* columns;  /* the declared columns */
} wudf_table;

/* Internal: wudf_table_emit past the reserved room. */
int64_t wudf__table_emit_slow(wudf_table* table);

/* Adds an output row for the current input row: returns its index in the
 * chunk's columns, or -1 when the chunk is full (then return 0; the row
 * continues in the next chunk). */
static inline int64_t wudf_table_emit(wudf_table* table) {
  int64_t row = table->chunk_rows;
  if (row < table->reserved && row < table->limit && !table->full) {
    table->row_values[row] = table->row;
    table->chunk_rows = row + 1;
    table->emitted++;
    return row;
  }
  return wudf__table_emit_slow(table);
}

/* Declared column `index` (0-based) of the chunk being built. */
static inline wudf_output* wudf_table_column(wudf_table* table, int index) {
  return &table->columns[index];
}

/* Adds up to `count` output rows for the current input row at once: returns
 * how many were added (fewer when the chunk fills up: then return 0 after
 * filling them, and the row continues in the next chunk), the first one's
 * index in *first. The declared columns are then written for rows *first
 * .. *first + added - 1, e.g. through wudf_output_values_int32(column,
 * *first + added):
 *
 *   int64_t first, want = (int64_t)stop - start - table->emitted + 1;
 *   int64_t added = wudf_table_emit_rows(table, want, &first);
 *   int32_t* values = wudf_output_values_int32(wudf_table_column(table, 0),
 *                                              first + added);
 *   if (values == NULL) return wudf_error("series: out of memory");
 *   for (int64_t k = 0; k < added; k++) values[first + k] = ...;
 */
int64_t wudf_table_emit_rows(wudf_table* table, int64_t count, int64_t* first);

/* ------------------------------------------------------------------------ */
/* Aggregate functions                                                       */
/* ------------------------------------------------------------------------ */

/*
 * An aggregate function (WUDF_AGGREGATE) keeps one state per group, a C
 * object of `state_size` bytes that starts zeroed (the empty group), and
 * provides four callbacks; the SDK keeps the states of every accumulator
 * the host opened and grows them as groups appear:
 *
 *   update(states, groups, args): fold row r of `args` into
 *       states[groups[r]] (groups[r] < the number of groups). The host
 *       passes many rows of many groups per call; a strict function never
 *       sees a row with a null argument.
 *   merge(states, groups, partial): fold partial state row r (an input of
 *       the declared STATE type, made by `state` of this function in this
 *       or another instance) into states[groups[r]].
 *   state(states, count, out): write the states of groups 0 .. count - 1
 *       as rows 0 .. count - 1 of `out`, an output of the STATE type.
 *   finish(states, count, out): write the results of groups 0 .. count - 1
 *       into `out`, an output of the result type (e.g. a null for an empty
 *       group of a sum).
 *   destroy(state), optional: free what one group's state owns (NULL when
 *       states own no memory).
 *
 * `states` points at `count` consecutive states (cast it to the state
 * type); it may move between calls. Callbacks return 0 or wudf_error(...).
 *
 *   typedef struct { double sum; int64_t count; } avg_state;
 *   static int avg_update(void* states, const uint32_t* groups,
 *                         const wudf_args* args) { ... }
 *   ...
 *   static const wudf_aggregate_fns avg_fns = {sizeof(avg_state),
 *       avg_update, avg_merge, avg_state_out, avg_finish, NULL};
 *   WUDF_AGGREGATE(avg, "avg(float64) -> float64 "
 *                  "STATE struct<sum: float64, count: int64>", avg_fns)
 */
typedef struct wudf_aggregate_fns {
  size_t state_size;
  int (*update)(void* states, const uint32_t* groups, const wudf_args* args);
  int (*merge)(void* states, const uint32_t* groups, const wudf_input* partial);
  int (*state)(const void* states, int64_t count, wudf_output* out);
  int (*finish)(const void* states, int64_t count, wudf_output* out);
  void (*destroy)(void* state);
} wudf_aggregate_fns;

/* A growable byte string for states that own memory (e.g. a string
 * aggregate's text); free it in `destroy` with wudf_bytes_release. */
typedef struct wudf_bytes {
  char* data;
  uint32_t size;
  uint32_t capacity;
} wudf_bytes;

/* Appends `size` bytes; 0, or -1 when out of memory (or past 2 GiB). */
int wudf_bytes_append(wudf_bytes* bytes, const void* data, size_t size);
/* Frees the bytes and empties the string. */
void wudf_bytes_release(wudf_bytes* bytes);

/* ------------------------------------------------------------------------ */
/* Declaring functions                                                       */
/* ------------------------------------------------------------------------ */

typedef int (*wudf_scalar_fn)(const wudf_args* args, wudf_output* out);
typedef int (*wudf_batch_fn)(const wudf_args* args, wudf_result* result);
typedef int (*wudf_table_fn)(const wudf_args* args, int64_t row, wudf_table* table);

/* Internal: the SDK's side of one call (guest/wudf_guest.c). `control` is
 * the control block of docs/abi.md, section 3. */
int32_t wudf__run_scalar(const char* record, wudf_scalar_fn fn,
                         struct ArrowArray* args, struct ArrowSchema* args_schema,
                         struct ArrowArray* out, struct ArrowSchema* out_schema);
int32_t wudf__run_batch(const char* record, wudf_batch_fn fn,
                        struct ArrowArray* args, struct ArrowSchema* args_schema,
                        struct ArrowArray* out, struct ArrowSchema* out_schema);
int32_t wudf__run_table(const char* record, wudf_table_fn fn,
                        struct ArrowArray* args, struct ArrowSchema* args_schema,
                        struct ArrowArray* out, struct ArrowSchema* out_schema,
                        void* control);
int32_t wudf__run_aggregate(const char* record, const wudf_aggregate_fns* fns,
                            struct ArrowArray* args, struct ArrowSchema* args_schema,
                            struct ArrowArray* out, struct ArrowSchema* out_schema,
                            void* control);

/* The metadata record goes to the "wasmudf" custom section through the
 * assembler (clang 14 has no C attribute for custom sections). The
 * signature's string literals are handed to the assembler as they are
 * written in C (stringified, their quotes and escapes kept), so the
 * assembler reads the same escapes C does and a signature may contain
 * double quotes: timestamp(us, \"UTC\") as well as timestamp(us, 'UTC'). */
#if defined(__wasm__)
#define WUDF__METADATA(kind, signature) WUDF__METADATA_TEXT(kind, signature)
#define WUDF__METADATA_TEXT(kind, signature)                                   \
  __asm__(".section .custom_section.wasmudf,\"\",@\n"                          \
          ".ascii \"wasmudf:1 " kind " \" " #signature "\n"                     \
          ".byte 0\n"                                                          \
          ".text\n");
#define WUDF__EXPORT_AS(name) __attribute__((export_name(name)))
#else
/* Compiled natively (to unit-test a function's body outside wasm): no
 * custom section, and the entry points are plain external functions
 * wudf__export_NAME. */
#define WUDF__METADATA(kind, signature)
#define WUDF__EXPORT_AS(name)
#endif

#define WUDF__DECLARE(kind, name, signature, fn_type, runner, params)          \
  WUDF__METADATA(kind, signature)                                              \
  static int wudf__body_##name params;                                         \
  WUDF__EXPORT_AS("wudf_fn_" #name) int32_t wudf__export_##name(               \
      struct ArrowArray* args, struct ArrowSchema* args_schema,                \
      struct ArrowArray* out, struct ArrowSchema* out_schema) {                \
    return runner("wasmudf:1 " kind " " signature, wudf__body_##name, args,    \
                  args_schema, out, out_schema);                               \
  }                                                                            \
  static int wudf__body_##name params

/* Declares scalar function `name` with `signature` (see docs/abi.md); the
 * braces that follow are its body, with parameters `args` and `out`. The
 * signature repeats the name; WUDF_SCALAR_FN below takes it once (and the
 * same holds for WUDF_BATCH, WUDF_TABLE and WUDF_AGGREGATE). */
#define WUDF_SCALAR(name, signature)                                           \
  WUDF__DECLARE("scalar", name, signature, wudf_scalar_fn, wudf__run_scalar,   \
                (const wudf_args* args, wudf_output* out))

/* Declares batch function `name`; its body has parameters `args` and
 * `result`. The signature's result is a struct<name: type, ...>. */
#define WUDF_BATCH(name, signature)                                            \
  WUDF__DECLARE("batch", name, signature, wudf_batch_fn, wudf__run_batch,      \
                (const wudf_args* args, wudf_result* result))

/* Declares table function `name`; its body has parameters `args`, `row`
 * and `table` (see wudf_table). The signature's result is "setof TYPE" or
 * "table<NAME: TYPE, ...>". */
#define WUDF_TABLE(name, signature)                                            \
  WUDF__METADATA("table", signature)                                           \
  static int wudf__body_##name(const wudf_args* args, int64_t row,             \
                               wudf_table* table);                             \
  WUDF__EXPORT_AS("wudf_fn_" #name) int32_t wudf__export_##name(               \
      struct ArrowArray* args, struct ArrowSchema* args_schema,                \
      struct ArrowArray* out, struct ArrowSchema* out_schema, void* control) { \
    return wudf__run_table("wasmudf:1 table " signature, wudf__body_##name,    \
                           args, args_schema, out, out_schema, control);       \
  }                                                                            \
  static int wudf__body_##name(const wudf_args* args, int64_t row,             \
                               wudf_table* table)

/* Declares aggregate function `name` implemented by the callbacks of
 * `fns`, a wudf_aggregate_fns defined before. The signature has a STATE
 * clause: "avg(float64) -> float64 STATE struct<sum: float64, ...>". */
#define WUDF_AGGREGATE(name, signature, fns)                                   \
  WUDF__METADATA("aggregate", signature)                                       \
  WUDF__EXPORT_AS("wudf_fn_" #name) int32_t wudf__export_##name(               \
      struct ArrowArray* args, struct ArrowSchema* args_schema,                \
      struct ArrowArray* out, struct ArrowSchema* out_schema, void* control) { \
    return wudf__run_aggregate("wasmudf:1 aggregate " signature, &(fns), args, \
                               args_schema, out, out_schema, control);         \
  }

/* ------------------------------------------------------------------------ */
/* The name written once                                                     */
/* ------------------------------------------------------------------------ */

/*
 * The macros above take the name twice, as the C identifier and inside the
 * signature, and nothing but a failed load says when they differ. These
 * take it once: the signature is everything after the name, and the
 * metadata record is made from both, so they cannot disagree.
 *
 *   WUDF_SCALAR_FN(gcd, "(int32, int32) -> int32") { ...as WUDF_SCALAR... }
 *   WUDF_BATCH_FN(stats, "(float64 x) -> struct<n: int64, mean: float64>")
 *   WUDF_TABLE_FN(series, "(int32 start, int32 stop) -> setof int32")
 *   WUDF_AGGREGATE_FN(avg, "(float64) -> float64 STATE struct<...>", avg_fns)
 */
#define WUDF_SCALAR_FN(name, signature) WUDF_SCALAR(name, #name signature)
#define WUDF_BATCH_FN(name, signature) WUDF_BATCH(name, #name signature)
#define WUDF_TABLE_FN(name, signature) WUDF_TABLE(name, #name signature)
#define WUDF_AGGREGATE_FN(name, signature, fns) WUDF_AGGREGATE(name, #name signature, fns)

/* ------------------------------------------------------------------------ */
/* Row-wise scalar functions                                                 */
/* ------------------------------------------------------------------------ */

/*
 * A simple scalar function written one row at a time, as a plain C function
 * whose declaration is also its signature:
 *
 *   WUDF_SCALAR_ROWWISE(gcd, int32, int32(a), int32(b)) {
 *     while (b != 0) { int32_t t = a % b; a = b; b = t; }
 *     return a < 0 ? -a : a;
 *   }
 *
 * declares `static int32_t gcd(int32_t a, int32_t b)` (callable from C, so
 * natively testable; so the name cannot be one the C library declares, such
 * as abs or round), and exports it as "gcd(int32 a, int32 b) -> int32":
 * the SDK's columnar loop reads each argument's column, calls it per row
 * and writes the result column. The arguments are TYPE(NAME) pairs and the
 * result a TYPE, from
 *
 *   bool (bool), int8 .. int64 (int8_t ..), uint8 .. uint64 (uint8_t ..),
 *   float32 (float), float64 (double), date32 (int32_t), date64 (int64_t),
 *   utf8 and binary (wudf_str: data and size, not NUL-terminated).
 *
 * Row-wise functions are strict: a row with a null argument is null and the
 * function is not called for it (the host normally removes such rows
 * before the call). A utf8 or binary result is copied as soon as the
 * function returns, so it may point into a static or reused buffer, or
 * into an argument. To fail the call, call wudf_error(...) and return any
 * value: the call fails with that message once the rows are done. Up to 8
 * arguments. WUDF_SCALAR_ROWWISE_WITH(name, "DETERMINISTIC", result, ...)
 * appends options to the signature (not "CALLED ON NULL INPUT": write a
 * columnar WUDF_SCALAR_FN for functions that see nulls).
 */
#define WUDF_SCALAR_ROWWISE(name, result, ...)                                  \
  WUDF_SCALAR_ROWWISE_WITH(name, "", result, __VA_ARGS__)

#define WUDF_SCALAR_ROWWISE_WITH(name, options, result, ...)                    \
  static WUDF__RW_CTYPE_##result name(WUDF__MAP(WUDF__RW_DECL, WUDF__RW_COMMA, __VA_ARGS__)); \
  WUDF_SCALAR(name, #name "(" WUDF__MAP(WUDF__RW_SQL, WUDF__RW_SQLSEP, __VA_ARGS__) ") -> " \
              WUDF__RW_SQLTYPE_##result " " options) {                          \
    WUDF__MAP(WUDF__RW_INPUT, WUDF__RW_NOSEP, __VA_ARGS__)                      \
    bool wudf__nulls = false WUDF__MAP(WUDF__RW_HAS_NULLS, WUDF__RW_NOSEP, __VA_ARGS__); \
    void* wudf__values = out->values;                                           \
    int64_t wudf__rows = args->length;                                          \
    if (out->failed) return wudf_error(#name ": out of memory");                \
    if (!wudf__nulls) {                                                         \
      for (int64_t row = 0; row < wudf__rows; row++) {                          \
        wudf__rw_put_##result(out, wudf__values, row,                           \
            name(WUDF__MAP(WUDF__RW_READ, WUDF__RW_COMMA, __VA_ARGS__)));       \
      }                                                                         \
    } else {                                                                    \
      for (int64_t row = 0; row < wudf__rows; row++) {                          \
        if (false WUDF__MAP(WUDF__RW_IS_NULL, WUDF__RW_NOSEP, __VA_ARGS__)) {   \
          wudf_set_null(out, row);                                              \
          continue;                                                             \
        }                                                                       \
        wudf__rw_put_##result(out, wudf__values, row,                           \
            name(WUDF__MAP(WUDF__RW_READ, WUDF__RW_COMMA, __VA_ARGS__)));       \
      }                                                                         \
    }                                                                           \
    return wudf__error_pending();                                               \
  }                                                                             \
  static WUDF__RW_CTYPE_##result name(WUDF__MAP(WUDF__RW_DECL, WUDF__RW_COMMA, __VA_ARGS__))

/* Internal: nonzero when wudf_error was called during the current call. */
int wudf__error_pending(void);

/* Internal: the preprocessor machinery of WUDF_SCALAR_ROWWISE. WUDF__MAP(m,
 * sep, x0, x1, ...) is m(0, x0) sep() m(1, x1) ...; an argument TYPE(NAME)
 * is taken apart by pasting: WUDF__RW_DECL_TYPE(NAME) is its C
 * declaration, WUDF__RW_SQL_TYPE(NAME) its signature text,
 * WUDF__RW_TAG_TYPE(NAME) the TYPE alone (bool may arrive as _Bool, the
 * expansion of stdbool's macro). */
#define WUDF__CAT(a, b) WUDF__CAT_(a, b)
#define WUDF__CAT_(a, b) a##b
#define WUDF__COUNT(...) WUDF__COUNT_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define WUDF__COUNT_(_1, _2, _3, _4, _5, _6, _7, _8, n, ...) n
#define WUDF__MAP(m, sep, ...) WUDF__CAT(WUDF__MAP_, WUDF__COUNT(__VA_ARGS__))(m, sep, __VA_ARGS__)
#define WUDF__MAP_1(m, s, a) m(0, a)
#define WUDF__MAP_2(m, s, a, b) m(0, a) s() m(1, b)
#define WUDF__MAP_3(m, s, a, b, c) m(0, a) s() m(1, b) s() m(2, c)
#define WUDF__MAP_4(m, s, a, b, c, d) m(0, a) s() m(1, b) s() m(2, c) s() m(3, d)
#define WUDF__MAP_5(m, s, a, b, c, d, e) WUDF__MAP_4(m, s, a, b, c, d) s() m(4, e)
#define WUDF__MAP_6(m, s, a, b, c, d, e, f) WUDF__MAP_5(m, s, a, b, c, d, e) s() m(5, f)
#define WUDF__MAP_7(m, s, a, b, c, d, e, f, g)                                  \
  WUDF__MAP_6(m, s, a, b, c, d, e, f) s() m(6, g)
#define WUDF__MAP_8(m, s, a, b, c, d, e, f, g, h)                               \
  WUDF__MAP_7(m, s, a, b, c, d, e, f, g) s() m(7, h)
#define WUDF__RW_COMMA() ,
#define WUDF__RW_NOSEP()
#define WUDF__RW_SQLSEP() ", "
#define WUDF__RW_DECL(i, item) WUDF__RW_DECL_##item
#define WUDF__RW_SQL(i, item) WUDF__RW_SQL_##item
#define WUDF__RW_INPUT(i, item) const wudf_input* wudf__in##i = &args->inputs[i];
#define WUDF__RW_HAS_NULLS(i, item) || wudf__in##i->validity != NULL
#define WUDF__RW_IS_NULL(i, item) || !wudf_is_valid(wudf__in##i, row)
#define WUDF__RW_READ(i, item) WUDF__CAT(wudf__rw_get_, WUDF__RW_TAG_##item)(wudf__in##i, row)

/* The types: C type, signature text, reader, and result writer. */
#define WUDF__RW_TYPE(tag, ctype, text)                                        \
  static inline ctype wudf__rw_get_##tag(const wudf_input* in, int64_t row) { \
    return ((const ctype*)in->values)[in->offset + row];                       \
  }                                                                            \
  static inline void wudf__rw_put_##tag(wudf_output* out, void* values, int64_t row, \
                                        ctype value) {                         \
    (void)out;                                                                 \
    ((ctype*)values)[row] = value;                                             \
  }
WUDF__RW_TYPE(int8, int8_t, "int8")
WUDF__RW_TYPE(int16, int16_t, "int16")
WUDF__RW_TYPE(int32, int32_t, "int32")
WUDF__RW_TYPE(int64, int64_t, "int64")
WUDF__RW_TYPE(uint8, uint8_t, "uint8")
WUDF__RW_TYPE(uint16, uint16_t, "uint16")
WUDF__RW_TYPE(uint32, uint32_t, "uint32")
WUDF__RW_TYPE(uint64, uint64_t, "uint64")
WUDF__RW_TYPE(float32, float, "float32")
WUDF__RW_TYPE(float64, double, "float64")
WUDF__RW_TYPE(date32, int32_t, "date32")
WUDF__RW_TYPE(date64, int64_t, "date64")
#undef WUDF__RW_TYPE
static inline bool wudf__rw_get__Bool(const wudf_input* in, int64_t row) {
  return wudf_bit_get((const uint8_t*)in->values, in->offset + row);
}
static inline void wudf__rw_put__Bool(wudf_output* out, void* values, int64_t row, bool value) {
  (void)out;
  if (value) {
    wudf_bit_set((uint8_t*)values, row);
  } else {
    wudf_bit_clear((uint8_t*)values, row);
  }
}
static inline wudf_str wudf__rw_get_utf8(const wudf_input* in, int64_t row) {
  const int32_t* offsets = (const int32_t*)in->values + in->offset + row;
  wudf_str s;
  s.data = (const char*)in->data + offsets[0];
  s.size = (size_t)(offsets[1] - offsets[0]);
  return s;
}
static inline void wudf__rw_put_utf8(wudf_output* out, void* values, int64_t row,
                                     wudf_str value) {
  (void)values;
  wudf_set_str(out, row, value.data, value.size);
}
#define wudf__rw_get_bool wudf__rw_get__Bool
#define wudf__rw_put_bool wudf__rw_put__Bool
#define wudf__rw_get_binary wudf__rw_get_utf8
#define wudf__rw_put_binary wudf__rw_put_utf8

#define WUDF__RW_DECL_bool(name) bool name
#define WUDF__RW_DECL__Bool(name) bool name
#define WUDF__RW_DECL_int8(name) int8_t name
#define WUDF__RW_DECL_int16(name) int16_t name
#define WUDF__RW_DECL_int32(name) int32_t name
#define WUDF__RW_DECL_int64(name) int64_t name
#define WUDF__RW_DECL_uint8(name) uint8_t name
#define WUDF__RW_DECL_uint16(name) uint16_t name
#define WUDF__RW_DECL_uint32(name) uint32_t name
#define WUDF__RW_DECL_uint64(name) uint64_t name
#define WUDF__RW_DECL_float32(name) float name
#define WUDF__RW_DECL_float64(name) double name
#define WUDF__RW_DECL_date32(name) int32_t name
#define WUDF__RW_DECL_date64(name) int64_t name
#define WUDF__RW_DECL_utf8(name) wudf_str name
#define WUDF__RW_DECL_binary(name) wudf_str name

#define WUDF__RW_SQL_bool(name) "bool " #name
#define WUDF__RW_SQL__Bool(name) "bool " #name
#define WUDF__RW_SQL_int8(name) "int8 " #name
#define WUDF__RW_SQL_int16(name) "int16 " #name
#define WUDF__RW_SQL_int32(name) "int32 " #name
#define WUDF__RW_SQL_int64(name) "int64 " #name
#define WUDF__RW_SQL_uint8(name) "uint8 " #name
#define WUDF__RW_SQL_uint16(name) "uint16 " #name
#define WUDF__RW_SQL_uint32(name) "uint32 " #name
#define WUDF__RW_SQL_uint64(name) "uint64 " #name
#define WUDF__RW_SQL_float32(name) "float32 " #name
#define WUDF__RW_SQL_float64(name) "float64 " #name
#define WUDF__RW_SQL_date32(name) "date32 " #name
#define WUDF__RW_SQL_date64(name) "date64 " #name
#define WUDF__RW_SQL_utf8(name) "utf8 " #name
#define WUDF__RW_SQL_binary(name) "binary " #name

#define WUDF__RW_TAG_bool(name) bool
#define WUDF__RW_TAG__Bool(name) _Bool
#define WUDF__RW_TAG_int8(name) int8
#define WUDF__RW_TAG_int16(name) int16
#define WUDF__RW_TAG_int32(name) int32
#define WUDF__RW_TAG_int64(name) int64
#define WUDF__RW_TAG_uint8(name) uint8
#define WUDF__RW_TAG_uint16(name) uint16
#define WUDF__RW_TAG_uint32(name) uint32
#define WUDF__RW_TAG_uint64(name) uint64
#define WUDF__RW_TAG_float32(name) float32
#define WUDF__RW_TAG_float64(name) float64
#define WUDF__RW_TAG_date32(name) date32
#define WUDF__RW_TAG_date64(name) date64
#define WUDF__RW_TAG_utf8(name) utf8
#define WUDF__RW_TAG_binary(name) binary

#define WUDF__RW_CTYPE_bool bool
#define WUDF__RW_CTYPE__Bool bool
#define WUDF__RW_CTYPE_int8 int8_t
#define WUDF__RW_CTYPE_int16 int16_t
#define WUDF__RW_CTYPE_int32 int32_t
#define WUDF__RW_CTYPE_int64 int64_t
#define WUDF__RW_CTYPE_uint8 uint8_t
#define WUDF__RW_CTYPE_uint16 uint16_t
#define WUDF__RW_CTYPE_uint32 uint32_t
#define WUDF__RW_CTYPE_uint64 uint64_t
#define WUDF__RW_CTYPE_float32 float
#define WUDF__RW_CTYPE_float64 double
#define WUDF__RW_CTYPE_date32 int32_t
#define WUDF__RW_CTYPE_date64 int64_t
#define WUDF__RW_CTYPE_utf8 wudf_str
#define WUDF__RW_CTYPE_binary wudf_str

#define WUDF__RW_SQLTYPE_bool "bool"
#define WUDF__RW_SQLTYPE__Bool "bool"
#define WUDF__RW_SQLTYPE_int8 "int8"
#define WUDF__RW_SQLTYPE_int16 "int16"
#define WUDF__RW_SQLTYPE_int32 "int32"
#define WUDF__RW_SQLTYPE_int64 "int64"
#define WUDF__RW_SQLTYPE_uint8 "uint8"
#define WUDF__RW_SQLTYPE_uint16 "uint16"
#define WUDF__RW_SQLTYPE_uint32 "uint32"
#define WUDF__RW_SQLTYPE_uint64 "uint64"
#define WUDF__RW_SQLTYPE_float32 "float32"
#define WUDF__RW_SQLTYPE_float64 "float64"
#define WUDF__RW_SQLTYPE_date32 "date32"
#define WUDF__RW_SQLTYPE_date64 "date64"
#define WUDF__RW_SQLTYPE_utf8 "utf8"
#define WUDF__RW_SQLTYPE_binary "binary"

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                               */
/* ------------------------------------------------------------------------ */

/* How many times this instance's SDK has parsed a function's signature
 * (once per function: parsed signatures and result trees are kept per
 * function, so calls that alternate between functions parse nothing). */
int64_t wudf_sdk_signature_parses(void);

#ifdef __cplusplus
}
#endif

#endif /* WASMUDF_GUEST_H */
