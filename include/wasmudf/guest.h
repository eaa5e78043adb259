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
 * with a message the host reports. Accessors do not check their arguments:
 * the SDK has already checked that the inputs have the declared types.
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

static inline const wudf_input* wudf_arg(const wudf_args* args, int index) {
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
#define WUDF__GETTER(name, ctype)                                              \
  static inline ctype wudf_get_##name(const wudf_input* in, int64_t row) {    \
    return ((const ctype*)in->values)[in->offset + row];                       \
  }                                                                            \
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
WUDF__GETTER(date32, int32_t)
WUDF__GETTER(date64, int64_t)
WUDF__GETTER(time32, int32_t)
WUDF__GETTER(time64, int64_t)
WUDF__GETTER(timestamp, int64_t)
WUDF__GETTER(duration, int64_t)
WUDF__GETTER(decimal32, int32_t)
WUDF__GETTER(decimal64, int64_t)
WUDF__GETTER(interval_months, int32_t)
WUDF__GETTER(float16_bits, uint16_t)
#undef WUDF__GETTER

static inline bool wudf_get_bool(const wudf_input* in, int64_t row) {
  int64_t bit = in->offset + row;
  return (((const uint8_t*)in->values)[bit >> 3] & (1u << (bit & 7))) != 0;
}

/* The `byte_width` bytes of a fixed-width row (any fixed-width type). */
static inline const uint8_t* wudf_get_fixed(const wudf_input* in, int64_t row) {
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
  wudf_decimal128 value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 16, sizeof(value));
  return value;
}

static inline wudf_decimal256 wudf_get_decimal256(const wudf_input* in, int64_t row) {
  wudf_decimal256 value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 32, sizeof(value));
  return value;
}

static inline wudf_interval_day_time wudf_get_interval_day_time(const wudf_input* in,
                                                                int64_t row) {
  wudf_interval_day_time value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 8, sizeof(value));
  return value;
}

static inline wudf_interval_month_day_nano wudf_get_interval_month_day_nano(
    const wudf_input* in, int64_t row) {
  wudf_interval_month_day_nano value;
  memcpy(&value, (const uint8_t*)in->values + (in->offset + row) * 16, sizeof(value));
  return value;
}

/* The bytes of a utf8, large_utf8, utf8_view, binary, large_binary,
 * binary_view or fixed_size_binary row. */
static inline wudf_str wudf_get_str(const wudf_input* in, int64_t row) {
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

/* The values of a list, large list, list view, large list view,
 * fixed-size list or map (for a map: its entries; see wudf_map_keys). */
static inline const wudf_input* wudf_list_values(const wudf_input* in) {
  return &in->children[0];
}

/* The rows of wudf_list_values (for a map: of wudf_map_keys and
 * wudf_map_values) that row `row` holds. */
static inline wudf_range wudf_list_range(const wudf_input* in, int64_t row) {
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
/* Sets a float16 row to `value` rounded to half precision. */
void wudf_set_float16(wudf_output* out, int64_t row, float value);
void wudf_set_decimal128(wudf_output* out, int64_t row, wudf_decimal128 value);
void wudf_set_decimal256(wudf_output* out, int64_t row, wudf_decimal256 value);
void wudf_set_interval_day_time(wudf_output* out, int64_t row, wudf_interval_day_time value);
void wudf_set_interval_month_day_nano(wudf_output* out, int64_t row,
                                      wudf_interval_month_day_nano value);
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
 * signature must be a plain string literal without double quotes: write
 * time zones with single quotes, timestamp(us, 'UTC'). */
#if defined(__wasm__)
#define WUDF__METADATA(kind, signature)                                        \
  __asm__(".section .custom_section.wasmudf,\"\",@\n"                          \
          ".asciz \"wasmudf:1 " kind " " signature "\"\n"                      \
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
 * braces that follow are its body, with parameters `args` and `out`. */
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

#ifdef __cplusplus
}
#endif

#endif /* WASMUDF_GUEST_H */
