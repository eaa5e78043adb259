/*
 * signature.h -- function signatures and the type language of the guest ABI
 * (docs/abi.md, section 6): parsing "gcd(int32, int32) -> int32" and types
 * such as "list<struct<a: decimal128(38, 10), b: timestamp(us, \"UTC\")>>",
 * and relating declared types to Arrow schemas.
 *
 * A declared type is kept as its canonical text; there is no type tree.
 * Code that needs the structure decodes one node at a time
 * (wudf__type_decode): the node's Arrow format string and where its
 * children's texts are. Decoding is cheap (linear in the node's text) and
 * needs no allocation, which is what the guest side wants.
 *
 * This file and signature.c are compiled twice: into the host library and,
 * for wasm32, into the C guest SDK, so host and guest read signatures with
 * the same code. They therefore use only the freestanding parts of libc
 * (string functions, snprintf) and never allocate.
 *
 * Type grammar (canonical spelling first, accepted aliases after '|'):
 *
 *   null | bool|boolean | int8 | int16 | int32 | int64
 *   | uint8 | uint16 | uint32 | uint64
 *   | float16|halffloat | float32|float | float64|double
 *   | utf8|string | large_utf8|large_string | utf8_view|string_view
 *   | binary | large_binary | binary_view
 *   | date32 | date64 | time32(s|ms) | time64(us|ns)
 *   | timestamp(UNIT) | timestamp(UNIT, "ZONE")    UNIT: s ms us ns; the zone
 *                                                 may be quoted '...' too
 *   | duration(UNIT)
 *   | interval(months) | interval(day_time) | interval(month_day_nano)
 *   | decimal32(P, S) | decimal64(P, S) | decimal128(P, S)|decimal(P, S)
 *   | decimal256(P, S)
 *   | fixed_size_binary(N)
 *   | list<T> | large_list<T> | list_view<T> | large_list_view<T>
 *   | fixed_size_list<T, N>
 *   | struct<NAME: T, ...>              (zero or more fields)
 *   | map<K, V>
 *   | sparse_union<NAME: T [= ID], ...> | dense_union<NAME: T [= ID], ...>
 *                                       (type id ID 0..127, by default the
 *                                       field's position; written
 *                                       canonically only when it is not)
 *   | dictionary<INDEX, T> | dictionary<INDEX, T, ordered>
 *                                       (INDEX: int8 .. int64, uint8 .. uint64)
 *   | run_end_encoded<RUN_ENDS, T>      (RUN_ENDS: int16, int32, int64)
 *
 * NAME is an identifier ([A-Za-z_][A-Za-z0-9_]*) or any name quoted with
 * '"' or '\'' (empty allowed; no control characters, not the quote around
 * it), at most WUDF__MAX_NAME bytes; canonically an identifier is bare and
 * other names are quoted with '"' ('\'' when the name contains '"'). The
 * fields of a union (and a table's columns) have distinct names and type
 * ids; a struct's field names may repeat. A struct has 0 to
 * WUDF__MAX_FIELDS fields, a union 1 to WUDF__MAX_FIELDS. Type
 * names, units and "ordered" are case-sensitive; spaces (space, tab, CR,
 * LF) may appear between any two tokens. Parameters: decimal precision P is
 * 1..9, 1..18, 1..38, 1..76 for decimal32/64/128/256 and the scale S is
 * -1000..1000; fixed_size_binary(N) has N >= 1 and fixed_size_list<T, N>
 * N >= 0 (both at most 2^31 - 1); a zone is 1 to 64 bytes, none of them a
 * control character or the quote around it (bytes >= 0x80 are taken as
 * they are).
 *
 * Canonical text separates list items with ", " and names with ": ", has no
 * other spaces, writes numbers in plain decimal, and quotes zones with '"'
 * (with '...' when the zone itself contains '"'). Types nest at most
 * WUDF__MAX_DEPTH deep, counted as Arrow schema trees nest: a primitive has
 * depth 1, list<int32> depth 2, map<K, V> puts K and V two levels down (the
 * map and its entries struct), a dictionary's values and run_end_encoded's
 * children are one level down. A signature's canonical text, and so every
 * type in it, is shorter than WUDF__MAX_SIGNATURE bytes; a map's entries
 * text (see wudf__type_child) must fit that too.
 */
#ifndef WUDF_UDF_SIGNATURE_H
#define WUDF_UDF_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "../arrow/format.h"

#define WUDF__ABI_VERSION 1
#define WUDF__RECORD_PREFIX "wasmudf:1 "
#define WUDF__EXPORT_PREFIX "wudf_fn_"
#define WUDF__MAX_ARGS 64
#define WUDF__MAX_NAME 64
#define WUDF__MAX_SIGNATURE 1024 /* canonical text, NUL included */
/* WUDF__MAX_FIELDS, WUDF__MAX_DEPTH and WUDF__MAX_FORMAT, the limits of
 * Arrow type trees, are arrow/format.h's. */

/* The control block of table and aggregate calls (docs/abi.md, section 3):
 * 32 bytes in guest memory, 8-byte aligned, written by the host before
 * every call; the guest answers in `flags`. */
#define WUDF__CONTROL_SIZE 32u
#define WUDF__CONTROL_OP 0u      /* uint32: WUDF__OP_* */
#define WUDF__CONTROL_HANDLE 4u  /* uint32: the stream or accumulator, >= 1 */
#define WUDF__CONTROL_COUNT 8u   /* int64: table: most rows to return;
                                    aggregate: the number of groups */
#define WUDF__CONTROL_FLAGS 16u  /* uint32: tables, guest to host:
                                    WUDF__FLAG_MORE; aggregates, host to
                                    guest: WUDF__FLAG_GROUPS_CHECKED */
#define WUDF__FLAG_MORE 1u       /* table: this input has more output */
#define WUDF__FLAG_GROUPS_CHECKED 1u /* aggregate UPDATE, MERGE: the host has
                                        checked every group id is below count */

/* Operations of table functions ... */
#define WUDF__OP_TABLE_INPUT 1u     /* a new input; return its first chunk */
#define WUDF__OP_TABLE_CONTINUE 2u  /* the next chunk of the current input */
#define WUDF__OP_TABLE_CLOSE 3u     /* forget the handle's input */
/* ... and of aggregate functions. */
#define WUDF__OP_AGGREGATE_UPDATE 1u  /* fold rows into their groups' states */
#define WUDF__OP_AGGREGATE_MERGE 2u   /* fold partial states into the groups' */
#define WUDF__OP_AGGREGATE_STATE 3u   /* return the states of every group */
#define WUDF__OP_AGGREGATE_FINISH 4u  /* return the result of every group */
#define WUDF__OP_AGGREGATE_FREE 5u    /* forget the handle's states */

/* The names of the extra columns in the input of aggregate calls. */
#define WUDF__GROUP_COLUMN "group"
#define WUDF__STATE_COLUMN "state"

enum wudf__kind {
  WUDF__KIND_NONE = 0,
  WUDF__KIND_SCALAR,
  WUDF__KIND_BATCH,
  WUDF__KIND_TABLE,
  WUDF__KIND_AGGREGATE
};
#define WUDF__KIND_LAST WUDF__KIND_AGGREGATE

/* The first column of every chunk a table function returns: the input row
 * each output row came from. No declared column may have this name. */
#define WUDF__TABLE_ROW_COLUMN "input_row"

/* A piece of a signature's canonical text. */
struct wudf__span {
  uint16_t start;
  uint16_t length;
};

/*
 * A parsed signature: its canonical text and spans into it. The grammar
 * (docs/abi.md, section 6):
 *
 *   SIGNATURE = NAME "(" [ARG {"," ARG}] ")" "->" RESULT {CLAUSE}
 *   ARG       = TYPE [NAME]                       argument names are optional
 *   RESULT    = TYPE                              scalar, aggregate
 *             | "struct<" ... ">"                 batch (its columns)
 *             | "setof" TYPE                      table: one column, named
 *                                                 after the function
 *             | "table<" NAME ":" TYPE {, ...} ">"  table: named columns
 *   CLAUSE    = "STATE" TYPE                      aggregate (required there)
 *             | "RETURNS NULL ON NULL INPUT" | "CALLED ON NULL INPUT"
 *             | "DETERMINISTIC" | "NOT DETERMINISTIC"
 *
 * Clause words are case-insensitive. Null handling applies to scalar,
 * table and aggregate functions (strict by default); a batch function sees
 * its input whole. Canonically a signature is written
 * "name(T a, T) -> R", then " STATE S", " CALLED ON NULL INPUT" when not
 * strict, and " DETERMINISTIC" when declared so.
 */
struct wudf__signature {
  uint8_t kind;
  uint8_t strict;             /* 1: RETURNS NULL ON NULL INPUT (the default) */
  uint8_t deterministic;      /* 1: DETERMINISTIC (default: not) */
  uint8_t setof;              /* table: 1 for "setof T", 0 for "table<...>" */
  char name[WUDF__MAX_NAME + 1];
  char text[WUDF__MAX_SIGNATURE];
  uint32_t arg_count;
  struct wudf__span args[WUDF__MAX_ARGS];
  struct wudf__span arg_names[WUDF__MAX_ARGS]; /* length 0: unnamed */
  /* The result: a type (scalar, aggregate), a struct<...> (batch), the
   * column's type of "setof T", or the whole "table<...>" text (table). */
  struct wudf__span result;
  struct wudf__span state;    /* aggregate: the state type */
};

/* Parses a signature for a function of `kind`. Returns 0, or -1 with a
 * message in `message` (always NUL-terminated when message_size > 0) giving
 * the column and what was expected. A batch result must be a struct type,
 * a table result "setof T" or "table<...>", and an aggregate needs a STATE
 * clause; a scalar result may be any type. */
int wudf__signature_parse(const char* text, uint8_t kind, struct wudf__signature* out,
                          char* message, size_t message_size);

/* Parses one metadata record ("wasmudf:1 KIND SIGNATURE"), as above. */
int wudf__record_parse(const char* record, struct wudf__signature* out, char* message,
                       size_t message_size);

/* The canonical text of argument `index` / of the result, NUL-terminated
 * into `out` (truncated to `size`); returns `out`. */
const char* wudf__signature_arg(const struct wudf__signature* signature, uint32_t index,
                                char* out, size_t size);
const char* wudf__signature_result(const struct wudf__signature* signature, char* out,
                                   size_t size);

/* The name of a kind ("scalar"), or NULL. */
const char* wudf__kind_name(uint8_t kind);

/* The type of what one guest call of the function returns, as a canonical
 * type text NUL-terminated into `out` (WUDF__MAX_SIGNATURE bytes suffice):
 * the result type of a scalar or aggregate function, the struct of a batch
 * function, and for a table function the struct of one output chunk,
 * "struct<input_row: int64, COLUMNS>" (the parser makes sure it fits).
 * Returns its length, or -1 if it does not fit `size`. */
int wudf__signature_output_type(const struct wudf__signature* signature, char* out,
                                size_t size);

/* ---------------------------------------------------------------- types */

/* One decoded node of a canonical type text. */
struct wudf__type_node {
  /* The Arrow format string of the node ("i", "+l", "tsu:UTC", "d:38,10",
   * "+us:0,1", "w:16"). For a dictionary it is the index type's format;
   * the values are the dictionary child. */
  char format[WUDF__MAX_FORMAT];
  uint8_t dictionary;     /* 1: dictionary<...>; see wudf__type_dictionary */
  uint8_t ordered;        /* dictionary<..., ordered> */
  uint32_t child_count;   /* struct/union fields, 1 for lists, 1 for map
                             (its entries struct), 2 for run_end_encoded */
  const char* text;       /* the node's own text and its length */
  size_t length;
};

/* Decodes the canonical type at `text` (`length` bytes, as produced by the
 * parser; the text need not be NUL-terminated) into `node`. Returns 0, or -1
 * if the text is not a canonical type (never for texts taken from a parsed
 * signature). The node's own spelling is checked strictly; its children's
 * texts are checked when they are decoded in turn. */
int wudf__type_decode(const char* text, size_t length, struct wudf__type_node* node);

/* Child `index` of a decoded node: its field name (struct and union fields;
 * "item" for list types, "entries" for a map, "key"/"value" for the two
 * fields of a map's entries struct, "run_ends"/"values" for
 * run_end_encoded) and its type text. A map's single child is the text
 * "struct<key: K, value: V>"; since that text is not inside the map's text,
 * `*type` then points into `scratch` (WUDF__MAX_SIGNATURE bytes; the text is
 * also NUL-terminated there). Any of the four outputs may be NULL. Returns 0
 * or -1 (index out of range, or a map without scratch). A dictionary node
 * has no children here: its values come from wudf__type_dictionary. */
int wudf__type_child(const struct wudf__type_node* node, uint32_t index, const char** name,
                     size_t* name_length, const char** type, size_t* type_length,
                     char* scratch);

/* The value type text of a dictionary node. Returns 0 or -1. */
int wudf__type_dictionary(const struct wudf__type_node* node, const char** type,
                          size_t* type_length);

/* Decides whether the Arrow schema tree `schema` has the declared type
 * `text`: same format strings node by node (time zones included), same
 * child counts, same struct and union field names (names of list, map and
 * run-end children, and of a map's key and value, are free), a dictionary
 * exactly where declared (the ordered flag and nullability are not
 * compared). Returns 0, or -1 with a message in `message` (NUL-terminated
 * when message_size > 0) naming the path of the first difference (schema
 * names, ".children[N]" for an empty name, ".dictionary"; no "at ...: "
 * for the top node), the expected type and format, and the schema's
 * description (wudf__type_describe) and format:
 *   "at .a.item: expected int32 (format 'i'), got int64 (format 'l')"
 *   "expected struct<a: int32> (format '+s', 1 child), got struct<a: int32,
 *    b: utf8> (format '+s', 2 children)"
 *   "at .s: expected field 2 to be named 'b', got 'c'"
 * The schema must be well-formed (format non-NULL, n_children >= 0,
 * children non-NULL when n_children > 0): host schemas from the caller,
 * guest schemas after abi/import.c checked them. Whatever its formats are,
 * matching does not crash; a NULL child pointer is reported. */
struct ArrowSchema;
int wudf__type_match(const char* text, size_t length, const struct ArrowSchema* schema,
                     char* message, size_t message_size);

/* Writes the canonical type text of the Arrow schema tree `schema` into
 * `out` ("list<int32>"), for messages; the inverse of decoding for trees in
 * the type language (a pyarrow map_(string(), int32()) is "map<utf8,
 * int32>"). Writes "unsupported type (format 'x')" for a node outside it
 * (an unknown or non-canonical format such as "d:38,10,128", union ids
 * other than 0..n-1, wrong child counts: "... with 2 children"). Field
 * names and formats are copied with control characters as '?'; a tree
 * deeper than WUDF__MAX_DEPTH is cut with "...". Truncates to `size`. */
void wudf__type_describe(const struct ArrowSchema* schema, char* out, size_t size);

#endif /* WUDF_UDF_SIGNATURE_H */
