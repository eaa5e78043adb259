/*
 * format.h -- the physical layout behind an Arrow format string (the
 * "format" field of struct ArrowSchema, see the C Data Interface
 * specification): which buffers an array of that type has, how wide its
 * values are, how many children it needs, and the parameters a format
 * carries (decimal precision and scale, fixed sizes, union type ids, time
 * units and zones).
 *
 * Everything that walks Arrow arrays -- the validator of guest results
 * (abi/import.c), the gatherer that copies rows between memories
 * (arrow/gather.c) -- asks this table instead of switching on format
 * strings, so a type is described once. Parsing rejects every malformed or
 * unknown format: a layout exists only for a format this library can carry.
 *
 * Compiled into the host library and the C guest SDK (it uses only
 * string.h); it never allocates.
 */
#ifndef WUDF_ARROW_FORMAT_H
#define WUDF_ARROW_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* The limits of the Arrow type trees this library carries: the type
 * language (udf/signature.h), the validator of guest results
 * (abi/import.c) and the gatherer share them. */
#define WUDF__MAX_FIELDS 64      /* children of one type node */
#define WUDF__MAX_DEPTH 32       /* type nesting, and guest results' nesting */
#define WUDF__MAX_FORMAT 192     /* an Arrow format string, NUL included; the
                                    longest, a union of WUDF__MAX_FIELDS
                                    fields ("+us:0,1,...,63"), has 186 bytes */

/* Physical layouts. A dictionary-encoded array has the layout of its index
 * type (its schema's format) plus a dictionary; that is not a layout. */
enum wudf__layout {
  WUDF__LAYOUT_NULL = 1,       /* "n": no buffers */
  WUDF__LAYOUT_BOOL,           /* "b": validity, value bits */
  WUDF__LAYOUT_FIXED,          /* validity, values of byte_width bytes */
  WUDF__LAYOUT_BINARY,         /* "z", "u": validity, int32 offsets, data */
  WUDF__LAYOUT_LARGE_BINARY,   /* "Z", "U": validity, int64 offsets, data */
  WUDF__LAYOUT_VIEW,           /* "vz", "vu": validity, 16-byte views,
                                  variadic data buffers..., int64 sizes */
  WUDF__LAYOUT_LIST,           /* "+l": validity, int32 offsets; 1 child */
  WUDF__LAYOUT_LARGE_LIST,     /* "+L": validity, int64 offsets; 1 child */
  WUDF__LAYOUT_LIST_VIEW,      /* "+vl": validity, int32 offsets, sizes */
  WUDF__LAYOUT_LARGE_LIST_VIEW,/* "+vL": validity, int64 offsets, sizes */
  WUDF__LAYOUT_FIXED_LIST,     /* "+w:N": validity; 1 child of N per row */
  WUDF__LAYOUT_STRUCT,         /* "+s": validity; any number of children */
  WUDF__LAYOUT_MAP,            /* "+m": as LIST; 1 struct child of 2 */
  WUDF__LAYOUT_SPARSE_UNION,   /* "+us:ids": int8 type ids; no validity */
  WUDF__LAYOUT_DENSE_UNION,    /* "+ud:ids": int8 type ids, int32 offsets */
  WUDF__LAYOUT_RUN_END         /* "+r": no buffers; run ends, values */
};

/* Time units of temporal formats. */
enum wudf__time_unit { WUDF__UNIT_NONE = 0, WUDF__UNIT_S, WUDF__UNIT_MS, WUDF__UNIT_US,
                       WUDF__UNIT_NS };

#define WUDF__MAX_UNION_TYPES 128

struct wudf__format {
  uint8_t layout;          /* enum wudf__layout */
  uint8_t utf8;            /* BINARY, LARGE_BINARY, VIEW: data is UTF-8 */
  uint8_t integer;         /* 1 signed integer, 2 unsigned integer, 0 not */
  uint8_t unit;            /* enum wudf__time_unit of temporal types */
  int64_t byte_width;      /* FIXED: bytes per value */
  int64_t list_size;       /* FIXED_LIST: values per row */
  int32_t n_buffers;       /* buffers of the layout; for VIEW the minimum
                              (2 + 1 sizes buffer, no variadic buffers) */
  int32_t n_children;      /* required children; -1: any number (struct,
                              unions, where the format's ids decide) */
  int32_t precision;       /* decimals */
  int32_t scale;           /* decimals */
  int32_t type_id_count;   /* unions: number of type ids */
  int8_t type_ids[WUDF__MAX_UNION_TYPES]; /* unions: the ids, in child order */
  const char* timezone;    /* timestamps: points into the format string
                              after "ts?:" (may be empty) */
};

/*
 * Parses `format` into `out`. Returns 0, or -1 if the format is malformed,
 * unknown, or has parameters out of range (decimal precision beyond its
 * width, a non-positive fixed width, duplicate or negative union ids, more
 * than WUDF__MAX_UNION_TYPES of them). `out->timezone` points into `format`.
 */
int wudf__format_parse(const char* format, struct wudf__format* out);

/* Nonzero when the layout's first buffer is a validity bitmap (every layout
 * with buffers except unions). */
int wudf__layout_has_validity(uint8_t layout);

/* A short human name of a layout ("list view"), for messages. */
const char* wudf__layout_name(uint8_t layout);

#endif /* WUDF_ARROW_FORMAT_H */
