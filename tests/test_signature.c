/*
 * test_signature.c -- the type language of signatures (src/udf/signature.c)
 * on its own: every type of the grammar and every alias parses to its
 * canonical text, canonical texts parse to themselves, every error class is
 * reported with its column and expectation, decoding gives the C Data
 * Interface's format strings and the children's names and texts, matching
 * hand-built ArrowSchema trees succeeds or names the path and both sides of
 * the first difference, describing schema trees inverts decoding, and the
 * depth and length limits hold. The program compiles signature.c directly,
 * so it needs nothing else of the library.
 */
#include <stdarg.h>

#include "test.h"
#include "udf/signature.h"
#include "wasmudf/wasmudf.h"

/* ------------------------------------------------------------- helpers */

/* Parses `text` as a function of `kind`, failing the test on error. */
static void parse_ok(const char* text, uint8_t kind, struct wudf__signature* out) {
  char message[256];
  if (wudf__signature_parse(text, kind, out, message, sizeof(message)) != 0) {
    TEST_FAIL("parsing \"%s\" failed: %s", text, message);
  }
}

/* The canonical text of the single-argument type `type`, via a signature
 * "f(TYPE) -> null"; the buffer is static. */
static const char* canonical_of(const char* type) {
  static char signature_text[4096];
  static struct wudf__signature signature;
  static char out[WUDF__MAX_SIGNATURE];
  snprintf(signature_text, sizeof(signature_text), "f(%s) -> null", type);
  parse_ok(signature_text, WUDF__KIND_SCALAR, &signature);
  ASSERT_EQ(signature.arg_count, 1);
  return wudf__signature_arg(&signature, 0, out, sizeof(out));
}

/* Asserts that parsing `text` as `kind` fails with exactly `expected`. */
static void parse_fails(const char* text, uint8_t kind, const char* expected) {
  struct wudf__signature signature;
  char message[512];
  if (wudf__signature_parse(text, kind, &signature, message, sizeof(message)) == 0) {
    TEST_FAIL("\"%s\" parsed, expected the error \"%s\"", text, expected);
  }
  if (strcmp(message, expected) != 0) {
    TEST_FAIL("\"%s\": expected the error\n  \"%s\", got\n  \"%s\"", text, expected, message);
  }
}

/* Schema trees built by the tests, from a static pool (reset per test). */
struct built_schema {
  struct ArrowSchema schema;
  struct ArrowSchema* children[80];
  char format[WUDF__MAX_FORMAT];
  char name[WUDF__MAX_NAME + 8];
};

static struct built_schema pool[4096];
static size_t pool_used;

/* A schema node of `format` named `name` with `n` children (ArrowSchema*
 * arguments). The strings are copied. */
static struct ArrowSchema* node(const char* format, const char* name, int n, ...) {
  if (pool_used == sizeof(pool) / sizeof(pool[0])) TEST_FAIL("the schema pool is exhausted");
  struct built_schema* built = &pool[pool_used++];
  memset(built, 0, sizeof(*built));
  snprintf(built->format, sizeof(built->format), "%s", format);
  snprintf(built->name, sizeof(built->name), "%s", name != NULL ? name : "");
  built->schema.format = built->format;
  built->schema.name = name != NULL ? built->name : NULL;
  built->schema.flags = ARROW_FLAG_NULLABLE;
  built->schema.n_children = n;
  built->schema.children = built->children;
  va_list args;
  va_start(args, n);
  for (int i = 0; i < n; i++) built->children[i] = va_arg(args, struct ArrowSchema*);
  va_end(args);
  return &built->schema;
}

/* Gives `schema` the dictionary `values`; returns `schema`. */
static struct ArrowSchema* with_dictionary(struct ArrowSchema* schema, struct ArrowSchema* values) {
  schema->dictionary = values;
  return schema;
}

/* Builds the schema tree a canonical type text describes, through the
 * decoder alone (wudf__type_decode, _child, _dictionary). */
static struct ArrowSchema* schema_of(const char* text, size_t length, const char* name) {
  struct wudf__type_node decoded;
  if (wudf__type_decode(text, length, &decoded) != 0) {
    TEST_FAIL("cannot decode \"%.*s\"", (int)length, text);
  }
  struct ArrowSchema* schema = node(decoded.format, name, 0);
  schema->n_children = decoded.child_count;
  char scratch[WUDF__MAX_SIGNATURE];
  char child_name[WUDF__MAX_NAME + 1];
  for (uint32_t i = 0; i < decoded.child_count; i++) {
    const char *piece, *type;
    size_t piece_length, type_length;
    ASSERT_EQ(wudf__type_child(&decoded, i, &piece, &piece_length, &type, &type_length, scratch),
              0);
    snprintf(child_name, sizeof(child_name), "%.*s", (int)piece_length, piece);
    schema->children[i] = schema_of(type, type_length, child_name);
  }
  if (decoded.dictionary) {
    const char* values;
    size_t values_length;
    ASSERT_EQ(wudf__type_dictionary(&decoded, &values, &values_length), 0);
    schema->dictionary = schema_of(values, values_length, "");
    if (decoded.ordered) schema->flags |= ARROW_FLAG_DICTIONARY_ORDERED;
  }
  return schema;
}

/* Matches `text` against `schema`; returns the status, message in `message`. */
static int match(const char* text, const struct ArrowSchema* schema, char* message,
                 size_t size) {
  return wudf__type_match(text, strlen(text), schema, message, size);
}

/* Asserts that `schema` matches `text`. */
static void match_ok(const char* text, const struct ArrowSchema* schema) {
  char message[1024];
  if (match(text, schema, message, sizeof(message)) != 0) {
    TEST_FAIL("\"%s\" did not match: %s", text, message);
  }
}

/* Asserts that `schema` does not match `text`, with exactly `expected`. */
static void match_fails(const char* text, const struct ArrowSchema* schema,
                        const char* expected) {
  char message[1024];
  if (match(text, schema, message, sizeof(message)) == 0) {
    TEST_FAIL("\"%s\" matched, expected \"%s\"", text, expected);
  }
  if (strcmp(message, expected) != 0) {
    TEST_FAIL("\"%s\": expected the message\n  \"%s\", got\n  \"%s\"", text, expected, message);
  }
}

/* The description of `schema`, in a static buffer. */
static const char* describe(const struct ArrowSchema* schema) {
  static char out[2048];
  wudf__type_describe(schema, out, sizeof(out));
  return out;
}

/* --------------------------------------------------------------- parsing */

/* Spellings of every type (aliases, spaces, quotes) and their canonical
 * texts. */
static const struct {
  const char* input;
  const char* canonical;
} spellings[] = {
    {"null", "null"},
    {"bool", "bool"},
    {"boolean", "bool"},
    {"int8", "int8"},
    {"int16", "int16"},
    {"int32", "int32"},
    {"int64", "int64"},
    {"uint8", "uint8"},
    {"uint16", "uint16"},
    {"uint32", "uint32"},
    {"uint64", "uint64"},
    {"float16", "float16"},
    {"halffloat", "float16"},
    {"float32", "float32"},
    {"float", "float32"},
    {"float64", "float64"},
    {"double", "float64"},
    {"utf8", "utf8"},
    {"string", "utf8"},
    {"large_utf8", "large_utf8"},
    {"large_string", "large_utf8"},
    {"utf8_view", "utf8_view"},
    {"string_view", "utf8_view"},
    {"binary", "binary"},
    {"large_binary", "large_binary"},
    {"binary_view", "binary_view"},
    {"date32", "date32"},
    {"date64", "date64"},
    {"time32(s)", "time32(s)"},
    {"time32 ( ms )", "time32(ms)"},
    {"time64(us)", "time64(us)"},
    {"time64(ns)", "time64(ns)"},
    {"timestamp(s)", "timestamp(s)"},
    {"timestamp(ms)", "timestamp(ms)"},
    {"timestamp(us)", "timestamp(us)"},
    {"timestamp(ns)", "timestamp(ns)"},
    {"timestamp(us, 'UTC')", "timestamp(us, \"UTC\")"},
    {"timestamp( ns ,\"America/New_York\" )", "timestamp(ns, \"America/New_York\")"},
    {"timestamp(s, '+05:30')", "timestamp(s, \"+05:30\")"},
    {"timestamp(ms, 'say \"hi\"')", "timestamp(ms, 'say \"hi\"')"},
    {"timestamp(ms, \"O'Neil\")", "timestamp(ms, \"O'Neil\")"},
    {"timestamp(us, 'a<b>, (c)')", "timestamp(us, \"a<b>, (c)\")"},
    {"timestamp(us, 'Zürich')", "timestamp(us, \"Zürich\")"},
    {"duration(s)", "duration(s)"},
    {"duration(ms)", "duration(ms)"},
    {"duration(us)", "duration(us)"},
    {"duration(ns)", "duration(ns)"},
    {"interval(months)", "interval(months)"},
    {"interval( day_time )", "interval(day_time)"},
    {"interval(month_day_nano)", "interval(month_day_nano)"},
    {"decimal32(9, 2)", "decimal32(9, 2)"},
    {"decimal32(1,0)", "decimal32(1, 0)"},
    {"decimal64(18,-3)", "decimal64(18, -3)"},
    {"decimal128(38, 10)", "decimal128(38, 10)"},
    {"decimal(5,2)", "decimal128(5, 2)"},
    {"decimal128(1, -1000)", "decimal128(1, -1000)"},
    {"decimal256(76, 1000)", "decimal256(76, 1000)"},
    {"decimal256( 40 , 007 )", "decimal256(40, 7)"},
    {"fixed_size_binary(16)", "fixed_size_binary(16)"},
    {"fixed_size_binary( 1 )", "fixed_size_binary(1)"},
    {"fixed_size_binary(2147483647)", "fixed_size_binary(2147483647)"},
    {"list<int32>", "list<int32>"},
    {"list < string >", "list<utf8>"},
    {"large_list<float>", "large_list<float32>"},
    {"list_view<boolean>", "list_view<bool>"},
    {"large_list_view<binary>", "large_list_view<binary>"},
    {"fixed_size_list<int8, 0>", "fixed_size_list<int8, 0>"},
    {"fixed_size_list<double,3>", "fixed_size_list<float64, 3>"},
    {"struct<>", "struct<>"},
    {"struct< >", "struct<>"},
    {"struct<a:int32,b : string>", "struct<a: int32, b: utf8>"},
    {"struct<int32: int32, list: list<int8>, _x9: null>",
     "struct<int32: int32, list: list<int8>, _x9: null>"},
    {"map<string, int32>", "map<utf8, int32>"},
    {"map<int32,list<struct<x:int8>>>", "map<int32, list<struct<x: int8>>>"},
    {"sparse_union<a: int32>", "sparse_union<a: int32>"},
    {"dense_union<a:int32, b:string>", "dense_union<a: int32, b: utf8>"},
    {"sparse_union<a: int32=1, b:utf8 = 0>", "sparse_union<a: int32 = 1, b: utf8 = 0>"},
    {"dense_union<a: int32 = 0, b: utf8=127>", "dense_union<a: int32, b: utf8 = 127>"},
    {"struct<'x': int32, \"\": utf8, \"\": int8>", "struct<x: int32, \"\": utf8, \"\": int8>"},
    {"struct<\"a b\": int32, 'say \"hi\"': bool>", "struct<\"a b\": int32, 'say \"hi\"': bool>"},
    {"struct<a: int8, a: list<int8>>", "struct<a: int8, a: list<int8>>"},
    {"dictionary<int32, utf8>", "dictionary<int32, utf8>"},
    {"dictionary<uint8, string, ordered>", "dictionary<uint8, utf8, ordered>"},
    {"dictionary<int8,dictionary<int16,utf8>>", "dictionary<int8, dictionary<int16, utf8>>"},
    {"dictionary<int64, list<timestamp(ms,'UTC')>>",
     "dictionary<int64, list<timestamp(ms, \"UTC\")>>"},
    {"run_end_encoded<int16, utf8>", "run_end_encoded<int16, utf8>"},
    {"run_end_encoded<int64,list<int32>>", "run_end_encoded<int64, list<int32>>"},
    {"\tlist<struct<a: decimal(38, 10),\n b: timestamp(us, 'UTC')>>\r",
     "list<struct<a: decimal128(38, 10), b: timestamp(us, \"UTC\")>>"},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

TEST(every_spelling_parses_to_its_canonical_text) {
  for (size_t i = 0; i < COUNT(spellings); i++) {
    const char* got = canonical_of(spellings[i].input);
    if (strcmp(got, spellings[i].canonical) != 0) {
      TEST_FAIL("\"%s\": expected \"%s\", got \"%s\"", spellings[i].input,
                spellings[i].canonical, got);
    }
  }
}

TEST(canonical_texts_round_trip) {
  char canonical[WUDF__MAX_SIGNATURE];
  for (size_t i = 0; i < COUNT(spellings); i++) {
    snprintf(canonical, sizeof(canonical), "%s", canonical_of(spellings[i].input));
    ASSERT_STR_EQ(canonical_of(canonical), canonical);
  }
}

TEST(signatures_are_canonical_with_spans) {
  struct wudf__signature signature;
  char piece[WUDF__MAX_SIGNATURE];
  parse_ok("  gcd ( int32 ,int32 )->int32 ", WUDF__KIND_SCALAR, &signature);
  ASSERT_STR_EQ(signature.text, "gcd(int32, int32) -> int32");
  ASSERT_STR_EQ(signature.name, "gcd");
  ASSERT_EQ(signature.kind, WUDF__KIND_SCALAR);
  ASSERT_EQ(signature.strict, 1);
  ASSERT_EQ(signature.arg_count, 2);
  ASSERT_STR_EQ(wudf__signature_arg(&signature, 1, piece, sizeof(piece)), "int32");
  ASSERT_STR_EQ(wudf__signature_arg(&signature, 2, piece, sizeof(piece)), "");
  ASSERT_STR_EQ(wudf__signature_result(&signature, piece, sizeof(piece)), "int32");
  /* Truncation keeps the output terminated. */
  ASSERT_STR_EQ(wudf__signature_arg(&signature, 0, piece, 3), "in");

  parse_ok("now() -> timestamp(us, 'UTC') called on NULL input", WUDF__KIND_SCALAR, &signature);
  ASSERT_STR_EQ(signature.text, "now() -> timestamp(us, \"UTC\") CALLED ON NULL INPUT");
  ASSERT_EQ(signature.arg_count, 0);
  ASSERT_EQ(signature.strict, 0);
  ASSERT_STR_EQ(wudf__signature_result(&signature, piece, sizeof(piece)),
                "timestamp(us, \"UTC\")");
  /* The canonical text parses to itself. */
  struct wudf__signature again;
  parse_ok(signature.text, WUDF__KIND_SCALAR, &again);
  ASSERT_STR_EQ(again.text, signature.text);

  parse_ok("f(int8) -> int8 RETURNS NULL ON NULL INPUT", WUDF__KIND_SCALAR, &signature);
  ASSERT_STR_EQ(signature.text, "f(int8) -> int8");
  ASSERT_EQ(signature.strict, 1);

  /* Scalars return any type, a struct included; arguments may be structs. */
  parse_ok("pair(struct<a: int8>, map<utf8, int8>) -> struct<x: int8, y: list<int8>>",
           WUDF__KIND_SCALAR, &signature);
  ASSERT_STR_EQ(wudf__signature_arg(&signature, 1, piece, sizeof(piece)), "map<utf8, int8>");
  ASSERT_STR_EQ(wudf__signature_result(&signature, piece, sizeof(piece)),
                "struct<x: int8, y: list<int8>>");

  parse_ok("sum(int32, dictionary<int8, utf8>) -> struct<sum: int64, keys: list<utf8>>",
           WUDF__KIND_BATCH, &signature);
  ASSERT_EQ(signature.kind, WUDF__KIND_BATCH);
  ASSERT_EQ(signature.strict, 0);
  ASSERT_STR_EQ(signature.text,
                "sum(int32, dictionary<int8, utf8>) -> struct<sum: int64, keys: list<utf8>>");
  ASSERT_STR_EQ(wudf__signature_result(&signature, piece, sizeof(piece)),
                "struct<sum: int64, keys: list<utf8>>");
  parse_ok("empty() -> struct<>", WUDF__KIND_BATCH, &signature);
  ASSERT_STR_EQ(signature.text, "empty() -> struct<>");
}

TEST(records) {
  struct wudf__signature signature;
  char message[256];
  ASSERT_EQ(wudf__record_parse("wasmudf:1 scalar upper(string) -> string", &signature, message,
                               sizeof(message)),
            0);
  ASSERT_STR_EQ(signature.text, "upper(utf8) -> utf8");
  ASSERT_EQ(signature.kind, WUDF__KIND_SCALAR);
  ASSERT_EQ(wudf__record_parse("wasmudf:1 batch s(int32) -> struct<s: int64>", &signature,
                               message, sizeof(message)),
            0);
  ASSERT_EQ(signature.kind, WUDF__KIND_BATCH);
  ASSERT_EQ(wudf__record_parse("wasmudf:2 scalar f() -> int32", &signature, message,
                               sizeof(message)),
            -1);
  ASSERT_STR_EQ(message, "the record does not start with 'wasmudf:1 '");
  ASSERT_EQ(wudf__record_parse("wasmudf:1 window f() -> int32", &signature, message,
                               sizeof(message)),
            -1);
  ASSERT_STR_EQ(message, "unknown function kind 'window'");
  ASSERT_EQ(wudf__record_parse("wasmudf:1 scalar f(int33) -> int32", &signature, message,
                               sizeof(message)),
            -1);
  ASSERT_STR_EQ(message, "at column 4: unknown type 'int33'");
  ASSERT_STR_EQ(wudf__kind_name(WUDF__KIND_SCALAR), "scalar");
  ASSERT_STR_EQ(wudf__kind_name(WUDF__KIND_BATCH), "batch");
  ASSERT_STR_EQ(wudf__kind_name(WUDF__KIND_TABLE), "table");
  ASSERT_STR_EQ(wudf__kind_name(WUDF__KIND_AGGREGATE), "aggregate");
  ASSERT(wudf__kind_name(WUDF__KIND_NONE) == NULL);
  ASSERT(wudf__kind_name(WUDF__KIND_LAST + 1) == NULL);
  ASSERT_EQ(wudf__record_parse("wasmudf:1 table s(int32) -> setof int32", &signature, message,
                               sizeof(message)),
            0);
  ASSERT_EQ(signature.kind, WUDF__KIND_TABLE);
  ASSERT_EQ(wudf__record_parse("wasmudf:1 aggregate s(int32) -> int64 state int64",
                               &signature, message, sizeof(message)),
            0);
  ASSERT_EQ(signature.kind, WUDF__KIND_AGGREGATE);
  ASSERT_STR_EQ(signature.text, "s(int32) -> int64 STATE int64");
}

/* The type one guest call returns, via wudf__signature_output_type. */
static const char* output_type_of(const struct wudf__signature* signature) {
  static char out[WUDF__MAX_SIGNATURE];
  ASSERT(wudf__signature_output_type(signature, out, sizeof(out)) >= 0);
  return out;
}

TEST(kinds_argument_names_and_clauses) {
  struct wudf__signature signature;
  char piece[WUDF__MAX_SIGNATURE];
  /* Argument names: optional, kept in the canonical text, with spans. */
  parse_ok("series( int32  start,int32 stop ) -> SETOF int32", WUDF__KIND_TABLE, &signature);
  ASSERT_STR_EQ(signature.text, "series(int32 start, int32 stop) -> setof int32");
  ASSERT_EQ(signature.arg_count, 2);
  ASSERT_STR_EQ(wudf__signature_arg(&signature, 1, piece, sizeof(piece)), "int32");
  ASSERT_EQ(signature.arg_names[0].length, 5);
  ASSERT(memcmp(signature.text + signature.arg_names[1].start, "stop", 4) == 0);
  ASSERT_EQ(signature.setof, 1);
  ASSERT_EQ(signature.strict, 1);
  ASSERT_STR_EQ(wudf__signature_result(&signature, piece, sizeof(piece)), "int32");
  ASSERT_STR_EQ(output_type_of(&signature), "struct<input_row: int64, series: int32>");

  parse_ok("g(list<utf8>, int8 n) -> int8", WUDF__KIND_SCALAR, &signature);
  ASSERT_STR_EQ(signature.text, "g(list<utf8>, int8 n) -> int8");
  ASSERT_EQ(signature.arg_names[0].length, 0);
  ASSERT_EQ(signature.arg_names[1].length, 1);
  ASSERT_STR_EQ(output_type_of(&signature), "int8");

  /* Table functions with named columns. */
  parse_ok("split(utf8 text, utf8 by) -> table< part :utf8, n: int32> called on null input "
           "deterministic", WUDF__KIND_TABLE, &signature);
  ASSERT_STR_EQ(signature.text, "split(utf8 text, utf8 by) -> table<part: utf8, n: int32> "
                "CALLED ON NULL INPUT DETERMINISTIC");
  ASSERT_EQ(signature.setof, 0);
  ASSERT_EQ(signature.strict, 0);
  ASSERT_EQ(signature.deterministic, 1);
  ASSERT_STR_EQ(output_type_of(&signature),
                "struct<input_row: int64, part: utf8, n: int32>");

  /* Aggregates: STATE anywhere among the clauses, written first. */
  parse_ok("avg(float64) -> float64 deterministic STATE struct<sum: float64, count: int64>",
           WUDF__KIND_AGGREGATE, &signature);
  ASSERT_STR_EQ(signature.text, "avg(float64) -> float64 STATE struct<sum: float64, count: "
                "int64> DETERMINISTIC");
  ASSERT_EQ(signature.strict, 1);
  ASSERT(memcmp(signature.text + signature.state.start, "struct<sum: float64, count: int64>",
                signature.state.length) == 0);
  ASSERT_STR_EQ(output_type_of(&signature), "float64");
  parse_ok("n(int8) -> int64 CALLED ON NULL INPUT STATE int64 NOT DETERMINISTIC",
           WUDF__KIND_AGGREGATE, &signature);
  ASSERT_STR_EQ(signature.text, "n(int8) -> int64 STATE int64 CALLED ON NULL INPUT");
  ASSERT_EQ(signature.deterministic, 0);
  ASSERT_EQ(signature.strict, 0);

  /* Batch functions may be DETERMINISTIC; every canonical text parses to
   * itself. */
  parse_ok("b(int8) -> struct<x: int8> DETERMINISTIC", WUDF__KIND_BATCH, &signature);
  ASSERT_STR_EQ(signature.text, "b(int8) -> struct<x: int8> DETERMINISTIC");
  ASSERT_STR_EQ(output_type_of(&signature), "struct<x: int8>");
  static const struct {
    uint8_t kind;
    const char* text;
  } canonical[] = {
      {WUDF__KIND_TABLE, "series(int32 start, int32 stop) -> setof int32"},
      {WUDF__KIND_TABLE, "t() -> table<a: list<int8>> CALLED ON NULL INPUT DETERMINISTIC"},
      {WUDF__KIND_AGGREGATE, "a(utf8 s, utf8) -> utf8 STATE struct<s: utf8, n: int32>"},
      {WUDF__KIND_SCALAR, "f(timestamp(us, \"UTC\") at) -> int8 DETERMINISTIC"},
  };
  for (size_t i = 0; i < COUNT(canonical); i++) {
    parse_ok(canonical[i].text, canonical[i].kind, &signature);
    ASSERT_STR_EQ(signature.text, canonical[i].text);
  }

  /* The chunk type of a table ("struct<input_row: int64, f: T>", 15 bytes
   * longer than "f() -> setof T") must fit as the signature does: fields
   * of 40-byte names make T so long that the signature has 1015 bytes. */
  char text[WUDF__MAX_SIGNATURE + 64];
  size_t used = (size_t)snprintf(text, sizeof(text), "f() -> setof struct<");
  for (int field = 0; used < 1015 - 2 - 8; field++) {
    size_t room = 1015 - 1 - used - 8; /* what a last field "NAME: int8" may take */
    int name_length = room >= 40 + 8 ? 40 : (int)room - 8 + 2;
    used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%c%0*d: int8",
                             field > 0 ? ", " : "", 'a' + field, name_length - 1, 0);
  }
  snprintf(text + used, sizeof(text) - used, ">");
  char message[256];
  ASSERT_EQ(wudf__signature_parse(text, WUDF__KIND_TABLE, &signature, message,
                                  sizeof(message)),
            -1);
  ASSERT_STR_EQ(message, "at column 8: the table's chunk type is longer than 1023 bytes");
  /* The signature itself is canonical and fits: as a scalar's result the
   * same type parses. */
  ASSERT_GE(strlen(text), 1009);
  ASSERT_LE(strlen(text), 1023);
  memcpy(text + 7, "      ", 6);
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
}

TEST(every_error_class_names_column_and_expectation) {
  static const struct {
    uint8_t kind;
    const char* text;
    const char* message;
  } cases[] = {
      {WUDF__KIND_SCALAR, "(int32) -> int32", "at column 1: expected the function name"},
      {WUDF__KIND_SCALAR, "f int32 -> int32", "at column 3: expected '('"},
      {WUDF__KIND_SCALAR, "f(int33) -> int32", "at column 3: unknown type 'int33'"},
      {WUDF__KIND_SCALAR, "f(Int32) -> int32", "at column 3: unknown type 'Int32'"},
      {WUDF__KIND_SCALAR, "f(,) -> int32", "at column 3: expected a type"},
      {WUDF__KIND_SCALAR, "f(int32 -> int32", "at column 9: expected ',' or ')'"},
      {WUDF__KIND_SCALAR, "f(int32) int32", "at column 10: expected '->'"},
      {WUDF__KIND_SCALAR, "f(int32) ->", "at column 12: expected a type"},
      {WUDF__KIND_SCALAR, "f(int32) -> int32 garbage", "at column 19: unexpected text"},
      {WUDF__KIND_SCALAR, "f(list int32) -> int32", "at column 8: expected '<'"},
      {WUDF__KIND_SCALAR, "f(list<int32) -> int32", "at column 13: expected '>'"},
      {WUDF__KIND_SCALAR, "f(list<>) -> int32", "at column 8: expected a type"},
      {WUDF__KIND_SCALAR, "f(struct<a: int32 b: utf8>) -> int32",
       "at column 19: expected ',' or '>'"},
      {WUDF__KIND_SCALAR, "f(struct<a int32>) -> int32", "at column 12: expected ':'"},
      {WUDF__KIND_SCALAR, "f(struct<: int32>) -> int32", "at column 10: expected a field name"},
      {WUDF__KIND_SCALAR, "f(struct<a: int32,>) -> int32",
       "at column 19: expected a field name"},
      {WUDF__KIND_SCALAR, "f(sparse_union<a: int32, b: utf8, a: utf8>) -> int32",
       "at column 35: duplicate field 'a'"},
      {WUDF__KIND_SCALAR, "f(sparse_union<a: int32 = 3, b: utf8 = 3>) -> int32",
       "at column 40: duplicate union type id 3"},
      {WUDF__KIND_SCALAR, "f(sparse_union<a: int32 = 1, b: utf8>) -> int32",
       "at column 37: duplicate union type id 1"},
      {WUDF__KIND_SCALAR, "f(sparse_union<a: int32 = 128>) -> int32",
       "at column 27: union type id 128 is out of range (0 to 127)"},
      {WUDF__KIND_SCALAR, "f(struct<\"a: int32>) -> int32",
       "at column 10: unterminated field name"},
      {WUDF__KIND_SCALAR, "f(dense_union<x: int8, x: int8>) -> int32",
       "at column 24: duplicate field 'x'"},
      {WUDF__KIND_SCALAR, "f(sparse_union<>) -> int32",
       "at column 16: expected a field name (a union has at least one field)"},
      {WUDF__KIND_SCALAR, "f(decimal128(39, 2)) -> int32",
       "at column 14: decimal128 precision 39 is out of range (1 to 38)"},
      {WUDF__KIND_SCALAR, "f(decimal32(10, 2)) -> int32",
       "at column 13: decimal32 precision 10 is out of range (1 to 9)"},
      {WUDF__KIND_SCALAR, "f(decimal64(19, 2)) -> int32",
       "at column 13: decimal64 precision 19 is out of range (1 to 18)"},
      {WUDF__KIND_SCALAR, "f(decimal256(77, 2)) -> int32",
       "at column 14: decimal256 precision 77 is out of range (1 to 76)"},
      {WUDF__KIND_SCALAR, "f(decimal(0, 0)) -> int32",
       "at column 11: decimal128 precision 0 is out of range (1 to 38)"},
      {WUDF__KIND_SCALAR, "f(decimal128(10, 1001)) -> int32",
       "at column 18: scale 1001 is out of range (-1000 to 1000)"},
      {WUDF__KIND_SCALAR, "f(decimal128(10, -1001)) -> int32",
       "at column 18: scale -1001 is out of range (-1000 to 1000)"},
      {WUDF__KIND_SCALAR, "f(decimal128(10)) -> int32", "at column 16: expected ','"},
      {WUDF__KIND_SCALAR, "f(decimal128(x, 1)) -> int32",
       "at column 14: expected a number (decimal128 precision)"},
      {WUDF__KIND_SCALAR, "f(decimal128) -> int32", "at column 13: expected '('"},
      {WUDF__KIND_SCALAR, "f(fixed_size_binary(0)) -> int32",
       "at column 21: byte width 0 is out of range (1 to 2147483647)"},
      {WUDF__KIND_SCALAR, "f(fixed_size_binary(2147483648)) -> int32",
       "at column 21: byte width 2147483648 is out of range (1 to 2147483647)"},
      {WUDF__KIND_SCALAR, "f(fixed_size_binary(123456789012345678901234567890)) -> int32",
       "at column 21: byte width 123456789012345678901234... is out of range "
       "(1 to 2147483647)"},
      {WUDF__KIND_SCALAR, "f(fixed_size_list<int8, -1>) -> int32",
       "at column 25: list size -1 is out of range (0 to 2147483647)"},
      {WUDF__KIND_SCALAR, "f(fixed_size_list<int8>) -> int32", "at column 23: expected ','"},
      {WUDF__KIND_SCALAR, "f(time32(us)) -> int32",
       "at column 10: expected a time unit (s or ms)"},
      {WUDF__KIND_SCALAR, "f(time64(s)) -> int32",
       "at column 10: expected a time unit (us or ns)"},
      {WUDF__KIND_SCALAR, "f(timestamp(h)) -> int32",
       "at column 13: expected a time unit (s, ms, us or ns)"},
      {WUDF__KIND_SCALAR, "f(duration()) -> int32",
       "at column 12: expected a time unit (s, ms, us or ns)"},
      {WUDF__KIND_SCALAR, "f(interval(weeks)) -> int32",
       "at column 12: expected an interval unit (months, day_time or month_day_nano)"},
      {WUDF__KIND_SCALAR, "f(timestamp(us, UTC)) -> int32",
       "at column 17: expected a quoted time zone"},
      {WUDF__KIND_SCALAR, "f(timestamp(us, 'UTC)) -> int32",
       "at column 17: expected ' to end the time zone"},
      {WUDF__KIND_SCALAR, "f(timestamp(us, '')) -> int32",
       "at column 17: expected a time zone (a timestamp without one is written "
       "timestamp(UNIT))"},
      {WUDF__KIND_SCALAR, "f(timestamp(us, 'a\tb')) -> int32",
       "at column 19: a time zone may not contain control characters"},
      {WUDF__KIND_SCALAR,
       "f(timestamp(us, '12345678901234567890123456789012345678901234567890123456789012345'))"
       " -> int32",
       "at column 17: the time zone is longer than 64 bytes"},
      {WUDF__KIND_SCALAR, "f(timestamp(us 'UTC')) -> int32", "at column 16: expected ')'"},
      {WUDF__KIND_SCALAR, "f(dictionary<utf8, int32>) -> int32",
       "at column 14: expected an index type (int8, int16, int32, int64, uint8, uint16, "
       "uint32 or uint64), got 'utf8'"},
      {WUDF__KIND_SCALAR, "f(dictionary<list<int8>, int32>) -> int32",
       "at column 14: expected an index type (int8, int16, int32, int64, uint8, uint16, "
       "uint32 or uint64), got 'list'"},
      {WUDF__KIND_SCALAR, "f(dictionary<int32>) -> int32", "at column 19: expected ','"},
      {WUDF__KIND_SCALAR, "f(dictionary<int32, utf8, sorted>) -> int32",
       "at column 27: expected 'ordered'"},
      {WUDF__KIND_SCALAR, "f(run_end_encoded<int8, utf8>) -> int32",
       "at column 19: expected a run-end type (int16, int32 or int64), got 'int8'"},
      {WUDF__KIND_SCALAR, "f(run_end_encoded<, utf8>) -> int32",
       "at column 19: expected a run-end type (int16, int32 or int64)"},
      {WUDF__KIND_SCALAR, "f(map<utf8>) -> int32", "at column 11: expected ','"},
      {WUDF__KIND_BATCH, "f(int32) -> int64",
       "at column 13: the result of a batch function must be a struct<...>"},
      {WUDF__KIND_BATCH, "f(int32) -> list<struct<a: int8>>",
       "at column 13: the result of a batch function must be a struct<...>"},
      {WUDF__KIND_BATCH, "f(int32) -> struct<a: int32> CALLED ON NULL INPUT",
       "at column 30: null handling does not apply to batch functions (they see their whole "
       "input)"},
      /* Argument names. */
      {WUDF__KIND_SCALAR, "f(int32 a, int32 a) -> int32",
       "at column 18: duplicate argument name 'a'"},
      {WUDF__KIND_SCALAR, "f(int32 a b) -> int32", "at column 11: expected ',' or ')'"},
      {WUDF__KIND_SCALAR, "f(int32 7) -> int32", "at column 9: expected ',' or ')'"},
      /* Table results. */
      {WUDF__KIND_TABLE, "f(int32) -> int32",
       "at column 13: a table function returns setof TYPE or table<NAME: TYPE, ...>"},
      {WUDF__KIND_TABLE, "f(int32) -> table<>",
       "at column 13: a table function returns at least one column"},
      {WUDF__KIND_TABLE, "f(int32) -> table<a: int8, input_row: int64>",
       "at column 13: the column name 'input_row' is reserved for the input row of each "
       "output row"},
      {WUDF__KIND_TABLE, "input_row(int32) -> setof int64",
       "at column 21: a table function returning setof names its column after itself, and "
       "'input_row' is reserved"},
      {WUDF__KIND_TABLE, "f(int32) -> table<a: int8, a: int8>",
       "at column 28: duplicate field 'a'"},
      {WUDF__KIND_TABLE, "f(int32) -> setof", "at column 18: expected a type"},
      {WUDF__KIND_SCALAR, "f(int32) -> setof int32", "at column 13: unknown type 'setof'"},
      /* Clauses. */
      {WUDF__KIND_AGGREGATE, "f(int32) -> int64",
       "at column 18: an aggregate function needs a STATE type (STATE TYPE after the result)"},
      {WUDF__KIND_AGGREGATE, "f(int32) -> int64 STATE int64 STATE int64",
       "at column 31: a second STATE"},
      {WUDF__KIND_AGGREGATE, "f(int32) -> int64 STATE", "at column 24: expected a type"},
      {WUDF__KIND_SCALAR, "f(int32) -> int64 STATE int64",
       "at column 19: only an aggregate function has a STATE"},
      {WUDF__KIND_SCALAR, "f(int32) -> int64 NOT", "at column 19: unexpected text"},
      {WUDF__KIND_NONE, "f(int32) -> int32", "at column 1: unknown function kind 0"},
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    parse_fails(cases[i].text, cases[i].kind, cases[i].message);
  }
}

/* A text of `count` repetitions of `piece` into `out`. */
static char* repeat(char* out, size_t size, const char* piece, int count) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < count; i++) used += (size_t)snprintf(out + used, size - used, "%s", piece);
  return out;
}

/* A canonical struct text of exactly `target` bytes (at least 40) into
 * `out`: fields "aN: binary_view", then one "z...: int8" padding field. */
static const char* struct_of_length(char* out, size_t size, int target) {
  char padding[64];
  int length = snprintf(out, size, "struct<");
  int field = 0;
  while (target - length > 48) {
    length += snprintf(out + length, size - (size_t)length, "%sa%d: binary_view",
                       field ? ", " : "", field);
    field++;
  }
  /* What is left: [", "] "z" padding ": int8>" */
  int rest = target - length - (field ? 2 : 0) - 1 - 7;
  snprintf(out + length, size - (size_t)length, "%sz%s: int8>", field ? ", " : "",
           repeat(padding, sizeof(padding), "z", rest));
  if ((int)strlen(out) != target) {
    TEST_FAIL("struct_of_length(%d) is %zu long", target, strlen(out));
  }
  return out;
}

TEST(limits_on_names_arguments_fields_and_length) {
  char text[8192], name[128], arguments[512];
  struct wudf__signature signature;

  repeat(name, sizeof(name), "n", 64);
  snprintf(text, sizeof(text), "%s() -> int8", name);
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  ASSERT_STR_EQ(signature.name, name);
  snprintf(text, sizeof(text), "%sn() -> int8", name);
  parse_fails(text, WUDF__KIND_SCALAR, "at column 1: the function name is longer than 64 bytes");

  snprintf(text, sizeof(text), "f(struct<%s: int8>) -> int8", name);
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  snprintf(text, sizeof(text), "f(struct<%sn: int8>) -> int8", name);
  parse_fails(text, WUDF__KIND_SCALAR, "at column 10: a field name is longer than 64 bytes");

  /* 64 arguments, not 65. */
  snprintf(text, sizeof(text), "f(%sint8) -> int8",
           repeat(arguments, sizeof(arguments), "int8,", 63));
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  ASSERT_EQ(signature.arg_count, 64);
  snprintf(text, sizeof(text), "f(%sint8) -> int8",
           repeat(arguments, sizeof(arguments), "int8,", 64));
  parse_fails(text, WUDF__KIND_SCALAR, "at column 323: more than 64 arguments");

  /* 64 fields, not 65; a union of 64 has the longest format. */
  size_t used = (size_t)snprintf(text, sizeof(text), "f(sparse_union<");
  for (int i = 0; i < 64; i++) {
    used += (size_t)snprintf(text + used, sizeof(text) - used, "%sf%d: null", i ? ", " : "", i);
  }
  snprintf(text + used, sizeof(text) - used, ">) -> null");
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  struct wudf__type_node decoded;
  ASSERT_EQ(wudf__type_decode(signature.text + signature.args[0].start,
                              signature.args[0].length, &decoded),
            0);
  ASSERT_EQ(decoded.child_count, 64);
  ASSERT_EQ(strlen(decoded.format), 185);
  ASSERT_EQ(strncmp(decoded.format, "+us:0,1,2,", 10), 0);
  ASSERT_STR_EQ(decoded.format + strlen(decoded.format) - 6, ",62,63");
  snprintf(text + used, sizeof(text) - used, ", f64: null>) -> null");
  parse_fails(text, WUDF__KIND_SCALAR, "at column 710: more than 64 fields");

  /* The canonical text must stay under WUDF__MAX_SIGNATURE bytes: "f(" and
   * ") -> null" leave 1012 bytes for the argument's text. */
  char argument[1100];
  snprintf(text, sizeof(text), "f(%s) -> null",
           struct_of_length(argument, sizeof(argument), 1012));
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  ASSERT_EQ(strlen(signature.text), WUDF__MAX_SIGNATURE - 1);
  ASSERT_STR_EQ(signature.text, text);
  snprintf(text, sizeof(text), "f(%s) -> null",
           struct_of_length(argument, sizeof(argument), 1013));
  /* The text overflows while the result type is written. */
  parse_fails(text, WUDF__KIND_SCALAR,
              "at column 1021: the signature is longer than 1023 bytes in canonical form");
  /* Spaces in the input do not count. */
  snprintf(text, sizeof(text), "  f ( %s )   ->   null  ",
           struct_of_length(argument, sizeof(argument), 1012));
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  ASSERT_EQ(strlen(signature.text), WUDF__MAX_SIGNATURE - 1);
}

TEST(map_entries_must_fit_the_scratch_buffer) {
  /* "map<K, V>" as the argument of "f(...) -> null" may be 1012 bytes long,
   * but its entries "struct<key: K, value: V>" are 15 bytes longer and must
   * fit WUDF__MAX_SIGNATURE bytes with the NUL. */
  char key[1100], text[2048];
  struct wudf__signature signature;
  for (int total = 1012; total >= 1004; total--) {
    /* map<K, null> is K + 11 bytes. */
    snprintf(text, sizeof(text), "f(map<%s, null>) -> null",
             struct_of_length(key, sizeof(key), total - 11));
    char message[256];
    int status = wudf__signature_parse(text, WUDF__KIND_SCALAR, &signature, message,
                                       sizeof(message));
    if (total + 15 > WUDF__MAX_SIGNATURE - 1) {
      ASSERT_EQ(status, -1);
      ASSERT_STR_EQ(message, "at column 3: the map's entries type is longer than 1023 bytes");
    } else {
      if (status != 0) TEST_FAIL("a map of %d bytes: %s", total, message);
      struct wudf__type_node map, entries;
      char scratch[WUDF__MAX_SIGNATURE];
      const char* type;
      size_t type_length;
      ASSERT_EQ(wudf__type_decode(signature.text + 2, (size_t)total, &map), 0);
      ASSERT_EQ(wudf__type_child(&map, 0, NULL, NULL, &type, &type_length, scratch), 0);
      ASSERT_EQ(type_length, (size_t)total + 15);
      ASSERT_EQ(strlen(scratch), type_length);
      ASSERT_EQ(wudf__type_decode(type, type_length, &entries), 0);
      ASSERT_STR_EQ(entries.format, "+s");
    }
  }
}

/* list<list<...<int8>...>> with `levels` types in all. */
static char* nested_lists(char* out, size_t size, int levels, const char* leaf) {
  size_t used = 0;
  for (int i = 1; i < levels; i++) used += (size_t)snprintf(out + used, size - used, "list<");
  used += (size_t)snprintf(out + used, size - used, "%s", leaf);
  for (int i = 1; i < levels; i++) used += (size_t)snprintf(out + used, size - used, ">");
  return out;
}

TEST(depth_limit) {
  char type[1024], text[1100];
  struct wudf__signature signature;
  snprintf(text, sizeof(text), "f(%s) -> null", nested_lists(type, sizeof(type), 32, "int8"));
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  snprintf(text, sizeof(text), "f(%s) -> null", nested_lists(type, sizeof(type), 33, "int8"));
  /* The 33rd type starts after 32 "list<" of 5 bytes, at column 3 + 160. */
  parse_fails(text, WUDF__KIND_SCALAR, "at column 163: types nest deeper than 32 levels");

  /* A map counts two levels (the map and its entries struct). */
  snprintf(text, sizeof(text), "f(%s) -> null",
           nested_lists(type, sizeof(type), 30, "map<int8, int8>"));
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  snprintf(text, sizeof(text), "f(%s) -> null",
           nested_lists(type, sizeof(type), 31, "map<int8, int8>"));
  parse_fails(text, WUDF__KIND_SCALAR, "at column 157: types nest deeper than 32 levels");

  /* Dictionary values and run-end children are one level down. */
  snprintf(text, sizeof(text), "f(%s) -> null",
           nested_lists(type, sizeof(type), 31, "dictionary<int8, utf8>"));
  parse_ok(text, WUDF__KIND_SCALAR, &signature);
  snprintf(text, sizeof(text), "f(%s) -> null",
           nested_lists(type, sizeof(type), 32, "run_end_encoded<int16, utf8>"));
  parse_fails(text, WUDF__KIND_SCALAR, "at column 181: types nest deeper than 32 levels");
}

/* -------------------------------------------------------------- decoding */

TEST(decode_gives_c_data_interface_formats) {
  static const struct {
    const char* text;
    const char* format;
    uint32_t child_count;
    uint8_t dictionary, ordered;
  } cases[] = {
      {"null", "n", 0, 0, 0},
      {"sparse_union<a: int32 = 1, b: utf8 = 0>", "+us:1,0", 2, 0, 0},
      {"dense_union<a: int32, b: utf8 = 127>", "+ud:0,127", 2, 0, 0},
      {"bool", "b", 0, 0, 0},
      {"int8", "c", 0, 0, 0},
      {"int16", "s", 0, 0, 0},
      {"int32", "i", 0, 0, 0},
      {"int64", "l", 0, 0, 0},
      {"uint8", "C", 0, 0, 0},
      {"uint16", "S", 0, 0, 0},
      {"uint32", "I", 0, 0, 0},
      {"uint64", "L", 0, 0, 0},
      {"float16", "e", 0, 0, 0},
      {"float32", "f", 0, 0, 0},
      {"float64", "g", 0, 0, 0},
      {"utf8", "u", 0, 0, 0},
      {"large_utf8", "U", 0, 0, 0},
      {"utf8_view", "vu", 0, 0, 0},
      {"binary", "z", 0, 0, 0},
      {"large_binary", "Z", 0, 0, 0},
      {"binary_view", "vz", 0, 0, 0},
      {"date32", "tdD", 0, 0, 0},
      {"date64", "tdm", 0, 0, 0},
      {"time32(s)", "tts", 0, 0, 0},
      {"time32(ms)", "ttm", 0, 0, 0},
      {"time64(us)", "ttu", 0, 0, 0},
      {"time64(ns)", "ttn", 0, 0, 0},
      {"timestamp(s)", "tss:", 0, 0, 0},
      {"timestamp(ms)", "tsm:", 0, 0, 0},
      {"timestamp(us)", "tsu:", 0, 0, 0},
      {"timestamp(ns)", "tsn:", 0, 0, 0},
      {"timestamp(us, \"UTC\")", "tsu:UTC", 0, 0, 0},
      {"timestamp(ns, \"a<b>, (c)\")", "tsn:a<b>, (c)", 0, 0, 0},
      {"timestamp(ms, 'say \"hi\"')", "tsm:say \"hi\"", 0, 0, 0},
      {"duration(s)", "tDs", 0, 0, 0},
      {"duration(ms)", "tDm", 0, 0, 0},
      {"duration(us)", "tDu", 0, 0, 0},
      {"duration(ns)", "tDn", 0, 0, 0},
      {"interval(months)", "tiM", 0, 0, 0},
      {"interval(day_time)", "tiD", 0, 0, 0},
      {"interval(month_day_nano)", "tin", 0, 0, 0},
      {"decimal32(9, 2)", "d:9,2,32", 0, 0, 0},
      {"decimal64(18, -3)", "d:18,-3,64", 0, 0, 0},
      {"decimal128(38, 10)", "d:38,10", 0, 0, 0},
      {"decimal256(76, 0)", "d:76,0,256", 0, 0, 0},
      {"fixed_size_binary(16)", "w:16", 0, 0, 0},
      {"list<int32>", "+l", 1, 0, 0},
      {"large_list<int32>", "+L", 1, 0, 0},
      {"list_view<int32>", "+vl", 1, 0, 0},
      {"large_list_view<int32>", "+vL", 1, 0, 0},
      {"fixed_size_list<int8, 3>", "+w:3", 1, 0, 0},
      {"fixed_size_list<int8, 0>", "+w:0", 1, 0, 0},
      {"struct<>", "+s", 0, 0, 0},
      {"struct<a: int32, b: utf8>", "+s", 2, 0, 0},
      {"map<utf8, int32>", "+m", 1, 0, 0},
      {"sparse_union<a: int32, b: utf8, c: null>", "+us:0,1,2", 3, 0, 0},
      {"dense_union<x: int8>", "+ud:0", 1, 0, 0},
      {"dictionary<int32, utf8>", "i", 0, 1, 0},
      {"dictionary<uint64, utf8, ordered>", "L", 0, 1, 1},
      {"dictionary<int8, dictionary<int16, utf8>>", "c", 0, 1, 0},
      {"run_end_encoded<int32, utf8>", "+r", 2, 0, 0},
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    struct wudf__type_node decoded;
    /* Decoding reads exactly `length` bytes: a text inside a larger one. */
    char text[256];
    snprintf(text, sizeof(text), "%s, int8>", cases[i].text);
    if (wudf__type_decode(text, strlen(cases[i].text), &decoded) != 0) {
      TEST_FAIL("cannot decode \"%s\"", cases[i].text);
    }
    ASSERT_STR_EQ(decoded.format, cases[i].format);
    ASSERT_EQ(decoded.child_count, cases[i].child_count);
    ASSERT_EQ(decoded.dictionary, cases[i].dictionary);
    ASSERT_EQ(decoded.ordered, cases[i].ordered);
    ASSERT(decoded.text == text);
    ASSERT_EQ(decoded.length, strlen(cases[i].text));
    /* And the parser agrees the text is canonical. */
    ASSERT_STR_EQ(canonical_of(cases[i].text), cases[i].text);
  }
}

TEST(decode_refuses_texts_that_are_not_canonical) {
  static const char* const texts[] = {
      "", "string", "int32 ", " int32", "Int32", "int3", "list<int32 >", "list< int32>",
      "list<int32>x", "list<>", "list", "list<int32", "decimal128(38,10)", "decimal(38, 10)",
      "decimal128(038, 10)", "decimal128(39, 1)", "decimal128(1, -0)", "decimal128(1, 1001)",
      "timestamp(us, 'UTC')", "timestamp(us, \"\")", "timestamp(us,\"UTC\")",
      "timestamp(us, \"UTC)", "timestamp(hour)", "time32(us)", "time64(ms)", "interval(weeks)",
      "struct<a:int32>", "struct<a: int32,b: int8>", "struct<1: int8>", "struct<a int8>",
      "dictionary<utf8, int32>", "dictionary<int32, utf8, unordered>", "dictionary<int32>",
      "run_end_encoded<int8, utf8>", "sparse_union<>", "map<int32>", "map<int32, int8, int8>",
      "fixed_size_list<int8, -1>", "fixed_size_list<int8>", "fixed_size_binary(0)",
      "fixed_size_list<int8, 3, 4>", "list<int8>>", "null()", "int32(1)"};
  struct wudf__type_node decoded;
  for (size_t i = 0; i < COUNT(texts); i++) {
    if (wudf__type_decode(texts[i], strlen(texts[i]), &decoded) == 0) {
      TEST_FAIL("\"%s\" decoded as format '%s'", texts[i], decoded.format);
    }
  }
  ASSERT_EQ(wudf__type_decode(NULL, 0, &decoded), -1);
}

/* Asserts child `index` of `decoded` is named `name` with type `type`. */
static void assert_child(const struct wudf__type_node* decoded, uint32_t index, const char* name,
                         const char* type, char* scratch) {
  const char *got_name, *got_type;
  size_t name_length, type_length;
  ASSERT_EQ(wudf__type_child(decoded, index, &got_name, &name_length, &got_type, &type_length,
                             scratch),
            0);
  if (name_length != strlen(name) || memcmp(got_name, name, name_length) != 0 ||
      type_length != strlen(type) || memcmp(got_type, type, type_length) != 0) {
    TEST_FAIL("child %u of \"%.*s\": expected %s: %s, got %.*s: %.*s", (unsigned)index,
              (int)decoded->length, decoded->text, name, type, (int)name_length, got_name,
              (int)type_length, got_type);
  }
}

TEST(decode_children_of_every_node_kind) {
  char scratch[WUDF__MAX_SIGNATURE];
  struct wudf__type_node decoded, inner;
  const char* text = "struct<a: list<int8>, b: timestamp(us, \"x, y>\"), c: map<utf8, int8>>";
  ASSERT_EQ(wudf__type_decode(text, strlen(text), &decoded), 0);
  ASSERT_EQ(decoded.child_count, 3);
  assert_child(&decoded, 0, "a", "list<int8>", scratch);
  assert_child(&decoded, 1, "b", "timestamp(us, \"x, y>\")", scratch);
  assert_child(&decoded, 2, "c", "map<utf8, int8>", scratch);
  ASSERT_EQ(wudf__type_child(&decoded, 3, NULL, NULL, NULL, NULL, scratch), -1);

  static const struct {
    const char* text;
    const char* names[3];
    const char* types[3];
  } cases[] = {
      {"list<struct<x: int8>>", {"item"}, {"struct<x: int8>"}},
      {"large_list<utf8>", {"item"}, {"utf8"}},
      {"list_view<int8>", {"item"}, {"int8"}},
      {"large_list_view<list<int8>>", {"item"}, {"list<int8>"}},
      {"fixed_size_list<list<int8>, 4>", {"item"}, {"list<int8>"}},
      {"sparse_union<a: int8, b: list<utf8>>", {"a", "b"}, {"int8", "list<utf8>"}},
      {"dense_union<z: timestamp(ns, 'a\"b')>", {"z"}, {"timestamp(ns, 'a\"b')"}},
      {"run_end_encoded<int16, list<utf8>>", {"run_ends", "values"}, {"int16", "list<utf8>"}},
      {"map<utf8, list<int8>>", {"entries"}, {"struct<key: utf8, value: list<int8>>"}},
      {"struct<key: int8, value: int16, x: null>",
       {"key", "value", "x"},
       {"int8", "int16", "null"}},
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    ASSERT_EQ(wudf__type_decode(cases[i].text, strlen(cases[i].text), &decoded), 0);
    for (uint32_t c = 0; c < decoded.child_count; c++) {
      assert_child(&decoded, c, cases[i].names[c], cases[i].types[c], scratch);
    }
    ASSERT_EQ(wudf__type_child(&decoded, decoded.child_count, NULL, NULL, NULL, NULL, scratch),
              -1);
  }

  /* A map's entries are spelled in the scratch buffer, and decode as a
   * struct of key and value. */
  text = "map<dictionary<int8, utf8>, struct<a: int8>>";
  ASSERT_EQ(wudf__type_decode(text, strlen(text), &decoded), 0);
  const char* entries;
  size_t entries_length;
  ASSERT_EQ(wudf__type_child(&decoded, 0, NULL, NULL, &entries, &entries_length, scratch), 0);
  ASSERT(entries == scratch);
  ASSERT_EQ(wudf__type_child(&decoded, 0, NULL, NULL, NULL, NULL, NULL), -1);
  ASSERT_EQ(wudf__type_decode(entries, entries_length, &inner), 0);
  ASSERT_STR_EQ(inner.format, "+s");
  ASSERT_EQ(inner.child_count, 2);
  char scratch2[WUDF__MAX_SIGNATURE];
  assert_child(&inner, 0, "key", "dictionary<int8, utf8>", scratch2);
  assert_child(&inner, 1, "value", "struct<a: int8>", scratch2);

  /* Dictionary values, nested dictionaries included. */
  text = "dictionary<int16, dictionary<uint8, large_utf8>, ordered>";
  ASSERT_EQ(wudf__type_decode(text, strlen(text), &decoded), 0);
  ASSERT_EQ(decoded.child_count, 0);
  ASSERT_EQ(wudf__type_child(&decoded, 0, NULL, NULL, NULL, NULL, scratch), -1);
  const char* values;
  size_t values_length;
  ASSERT_EQ(wudf__type_dictionary(&decoded, &values, &values_length), 0);
  ASSERT_EQ(values_length, strlen("dictionary<uint8, large_utf8>"));
  ASSERT_EQ(memcmp(values, "dictionary<uint8, large_utf8>", values_length), 0);
  ASSERT_EQ(wudf__type_decode(values, values_length, &inner), 0);
  ASSERT_STR_EQ(inner.format, "C");
  ASSERT_EQ(inner.ordered, 0);
  ASSERT_EQ(wudf__type_dictionary(&inner, &values, &values_length), 0);
  ASSERT_EQ(values_length, 10);
  ASSERT_EQ(memcmp(values, "large_utf8", 10), 0);
  ASSERT_EQ(wudf__type_decode("utf8", 4, &inner), 0);
  ASSERT_EQ(wudf__type_dictionary(&inner, &values, &values_length), -1);
  ASSERT_EQ(wudf__type_child(&inner, 0, NULL, NULL, NULL, NULL, scratch), -1);
}

/* --------------------------------------------------- describe and match */

TEST(decoded_trees_describe_as_their_text_and_match_it) {
  /* For every canonical text: the schema tree built from its decoding
   * describes as the text and matches it. */
  for (size_t i = 0; i < COUNT(spellings); i++) {
    pool_used = 0;
    const char* text = spellings[i].canonical;
    struct ArrowSchema* schema = schema_of(text, strlen(text), "");
    ASSERT_STR_EQ(describe(schema), text);
    match_ok(text, schema);
  }
  pool_used = 0;
  const char* text = "struct<a: map<utf8, list<dictionary<int8, utf8>>>, "
                     "u: dense_union<r: run_end_encoded<int32, fixed_size_list<float16, 2>>, "
                     "s: sparse_union<t: time64(ns)>>>";
  struct ArrowSchema* schema = schema_of(text, strlen(text), "");
  ASSERT_STR_EQ(describe(schema), text);
  match_ok(text, schema);
}

TEST(describe_schemas_as_pyarrow_exports_them) {
  pool_used = 0;
  /* pa.map_(pa.string(), pa.int32()) */
  struct ArrowSchema* map = node("+m", "", 1,
                                 node("+s", "entries", 2, node("u", "key", 0),
                                      node("i", "value", 0)));
  ASSERT_STR_EQ(describe(map), "map<utf8, int32>");
  /* pa.dictionary(pa.int8(), pa.string(), ordered=True) */
  struct ArrowSchema* dictionary = with_dictionary(node("c", "", 0), node("u", "", 0));
  dictionary->flags |= ARROW_FLAG_DICTIONARY_ORDERED;
  ASSERT_STR_EQ(describe(dictionary), "dictionary<int8, utf8, ordered>");
  /* pa.run_end_encoded(pa.int32(), pa.float64()) */
  ASSERT_STR_EQ(describe(node("+r", "", 2, node("i", "run_ends", 0), node("g", "values", 0))),
                "run_end_encoded<int32, float64>");
  ASSERT_STR_EQ(describe(node("tsu:Europe/Paris", "", 0)), "timestamp(us, \"Europe/Paris\")");
  ASSERT_STR_EQ(describe(node("tss:a\"b", "", 0)), "timestamp(s, 'a\"b')");
  ASSERT_STR_EQ(describe(node("+w:2", "", 1, node("f", "item", 0))),
                "fixed_size_list<float32, 2>");
  ASSERT_STR_EQ(describe(node("+ud:0,1", "", 2, node("i", "a", 0), node("u", "b", 0))),
                "dense_union<a: int32, b: utf8>");
  ASSERT_STR_EQ(describe(node("+s", "", 1, node("w:4", "id", 0))),
                "struct<id: fixed_size_binary(4)>");

  /* Outside the type language. */
  static const struct {
    const char* format;
    const char* description;
  } unsupported[] = {
      {"x", "unsupported type (format 'x')"},
      {"", "unsupported type (format '')"},
      {"d:38,10,128", "unsupported type (format 'd:38,10,128')"},
      {"d:38,010", "unsupported type (format 'd:38,010')"},
      {"d:39,1", "unsupported type (format 'd:39,1')"},
      {"d:10,2,32", "unsupported type (format 'd:10,2,32')"},
      {"d:5,2,16", "unsupported type (format 'd:5,2,16')"},
      {"w:0", "unsupported type (format 'w:0')"},
      {"w:", "unsupported type (format 'w:')"},
      {"tsu", "unsupported type (format 'tsu')"},
      {"tsx:", "unsupported type (format 'tsx:')"},
      {"tts:", "unsupported type (format 'tts:')"},
      {"tiX", "unsupported type (format 'tiX')"},
      {"tDh", "unsupported type (format 'tDh')"},
      {"+us:", "unsupported type (format '+us:')"},
      {"+us:1", "unsupported type (format '+us:1' with 0 children)"},
      {"+ud:0,0", "unsupported type (format '+ud:0,0')"},
      {"+w:-1", "unsupported type (format '+w:-1')"},
      {"tsu:a\"b'c", "unsupported type (format 'tsu:a\"b'c')"},
      {"tsu:a\x01" "b", "unsupported type (format 'tsu:a?b')"},
      {"+l", "unsupported type (format '+l' with 0 children)"},
      {"+m", "unsupported type (format '+m' with 0 children)"},
      {"+r", "unsupported type (format '+r' with 0 children)"},
  };
  for (size_t i = 0; i < COUNT(unsupported); i++) {
    ASSERT_STR_EQ(describe(node(unsupported[i].format, "", 0)), unsupported[i].description);
  }
  ASSERT_STR_EQ(describe(node("i", "", 1, node("i", "", 0))),
                "unsupported type (format 'i' with 1 children)");
  ASSERT_STR_EQ(describe(node("+m", "", 1, node("+s", "entries", 1, node("u", "key", 0)))),
                "unsupported type (format '+m' whose entries are not a struct of 2 fields)");
  ASSERT_STR_EQ(describe(node("+r", "", 2, node("c", "", 0), node("u", "", 0))),
                "unsupported type (format '+r' whose run ends are not int16, int32 or int64)");
  ASSERT_STR_EQ(describe(with_dictionary(node("u", "", 0), node("u", "", 0))),
                "unsupported type (format 'u' with a dictionary)");
  ASSERT_STR_EQ(describe(node("+s", "", 1, node("\x7f", "we\nird", 0))),
                "struct<\"we?ird\": unsupported type (format '?')>");
  struct ArrowSchema* missing = node("+s", "", 1, NULL);
  ASSERT_STR_EQ(describe(missing), "unsupported type (format '+s' with a missing child)");
  ASSERT_STR_EQ(describe(NULL), "unsupported type (no format)");

  /* Truncation keeps the output terminated and in bounds. */
  char small[8];
  wudf__type_describe(map, small, sizeof(small));
  ASSERT_STR_EQ(small, "map<utf");
  wudf__type_describe(map, small, 1);
  ASSERT_STR_EQ(small, "");
  wudf__type_describe(map, small, 0);

  /* A tree deeper than WUDF__MAX_DEPTH is cut with "...". */
  struct ArrowSchema* deep = node("i", "item", 0);
  for (int i = 0; i < 40; i++) deep = node("+l", "item", 1, deep);
  char expected[512];
  size_t used = 0;
  for (int i = 0; i < 32; i++) {
    used += (size_t)snprintf(expected + used, sizeof(expected) - used, "list<");
  }
  used += (size_t)snprintf(expected + used, sizeof(expected) - used, "...");
  for (int i = 0; i < 32; i++) {
    used += (size_t)snprintf(expected + used, sizeof(expected) - used, ">");
  }
  ASSERT_STR_EQ(describe(deep), expected);
}

TEST(match_structs_lists_and_names) {
  pool_used = 0;
  struct ArrowSchema* schema = node("+s", "", 2, node("i", "a", 0),
                                    node("+l", "b", 1, node("u", "item", 0)));
  match_ok("struct<a: int32, b: list<utf8>>", schema);
  /* Nullability is not compared. */
  schema->children[0]->flags = 0;
  match_ok("struct<a: int32, b: list<utf8>>", schema);
  /* Names of list children are free. */
  schema->children[1]->children[0]->name = "element";
  match_ok("struct<a: int32, b: list<utf8>>", schema);

  match_fails("struct<a: int32, b: list<large_utf8>>", schema,
              "at .b.element: expected large_utf8 (format 'U'), got utf8 (format 'u')");
  match_fails("struct<a: int32, b: large_list<utf8>>", schema,
              "at .b: expected large_list<utf8> (format '+L'), got list<utf8> (format '+l')");
  match_fails("struct<a: int32>", schema,
              "expected struct<a: int32> (format '+s', 1 child), got struct<a: int32, b: "
              "list<utf8>> (format '+s', 2 children)");
  match_fails("struct<a: int32, c: list<utf8>>", schema,
              "expected field 2 to be named 'c', got 'b'");
  match_fails("int32", schema,
              "expected int32 (format 'i'), got struct<a: int32, b: list<utf8>> (format '+s')");

  /* Unnamed children are named by position in paths. */
  struct ArrowSchema* unnamed = node("+s", "", 1, node("+l", NULL, 1, node("l", "", 0)));
  match_fails("struct<a: list<int32>>", unnamed, "expected field 1 to be named 'a', got ''");
  unnamed->children[0]->name = "a";
  match_fails("struct<a: list<int32>>", unnamed,
              "at .a.children[0]: expected int32 (format 'i'), got int64 (format 'l')");

  /* Fixed-size lists compare their size through the format. */
  struct ArrowSchema* fixed = node("+w:3", "", 1, node("e", "item", 0));
  match_ok("fixed_size_list<float16, 3>", fixed);
  match_fails("fixed_size_list<float16, 2>", fixed,
              "expected fixed_size_list<float16, 2> (format '+w:2'), got "
              "fixed_size_list<float16, 3> (format '+w:3')");

  /* A text that is not canonical is refused, not guessed at. */
  char message[256];
  ASSERT_EQ(match("string", node("u", "", 0), message, sizeof(message)), -1);
  ASSERT_STR_EQ(message, "the declared type 'string' is not canonical");
  ASSERT_EQ(match("int32", NULL, message, sizeof(message)), -1);
  ASSERT_STR_EQ(message, "no schema");
}

TEST(match_maps) {
  pool_used = 0;
  struct ArrowSchema* map = node("+m", "", 1,
                                 node("+s", "entries", 2, node("u", "key", 0),
                                      node("i", "value", 0)));
  match_ok("map<utf8, int32>", map);
  /* The names of the entries and their fields are free. */
  map->children[0]->name = "kv";
  map->children[0]->children[0]->name = "keys";
  map->children[0]->children[1]->name = "values";
  match_ok("map<utf8, int32>", map);
  match_fails("map<utf8, int64>", map,
              "at .kv.values: expected int64 (format 'l'), got int32 (format 'i')");
  match_fails("map<binary, int32>", map,
              "at .kv.keys: expected binary (format 'z'), got utf8 (format 'u')");

  struct ArrowSchema* not_struct = node("+m", "", 1, node("+l", "entries", 1, node("i", "", 0)));
  match_fails("map<utf8, int32>", not_struct,
              "at .entries: expected struct<key: utf8, value: int32> (format '+s', 2 children), "
              "got list<int32> (format '+l', 1 child)");
  struct ArrowSchema* one_field = node("+m", "", 1, node("+s", "", 1, node("u", "key", 0)));
  match_fails("map<utf8, int32>", one_field,
              "at .children[0]: expected struct<key: utf8, value: int32> (format '+s', 2 "
              "children), got struct<key: utf8> (format '+s', 1 child)");
  match_fails("list<struct<key: utf8, value: int32>>", map,
              "expected list<struct<key: utf8, value: int32>> (format '+l'), got map<utf8, "
              "int32> (format '+m')");
}

TEST(match_dictionaries) {
  pool_used = 0;
  struct ArrowSchema* dictionary = with_dictionary(node("i", "", 0), node("u", "", 0));
  match_ok("dictionary<int32, utf8>", dictionary);
  /* The ordered flag is not compared. */
  match_ok("dictionary<int32, utf8, ordered>", dictionary);
  dictionary->flags |= ARROW_FLAG_DICTIONARY_ORDERED;
  match_ok("dictionary<int32, utf8>", dictionary);

  match_fails("dictionary<int8, utf8>", dictionary,
              "expected dictionary<int8, utf8> (format 'c' with a dictionary), got "
              "dictionary<int32, utf8, ordered> (format 'i' with a dictionary)");
  match_fails("dictionary<int32, binary>", dictionary,
              "at .dictionary: expected binary (format 'z'), got utf8 (format 'u')");
  match_fails("utf8", dictionary,
              "expected utf8 (format 'u'), got dictionary<int32, utf8, ordered> (format 'i' "
              "with a dictionary)");
  match_fails("int32", dictionary,
              "expected int32 (format 'i'), got dictionary<int32, utf8, ordered> (format 'i' "
              "with a dictionary)");
  match_fails("dictionary<int32, utf8>", node("i", "", 0),
              "expected dictionary<int32, utf8> (format 'i' with a dictionary), got int32 "
              "(format 'i')");

  /* Nested dictionaries, inside a struct. */
  struct ArrowSchema* nested = node(
      "+s", "", 1,
      with_dictionary(node("s", "d", 0), with_dictionary(node("C", "", 0), node("U", "", 0))));
  match_ok("struct<d: dictionary<int16, dictionary<uint8, large_utf8>>>", nested);
  match_fails("struct<d: dictionary<int16, dictionary<uint8, utf8>>>", nested,
              "at .d.dictionary.dictionary: expected utf8 (format 'u'), got large_utf8 "
              "(format 'U')");
}

TEST(match_unions_run_ends_and_zones) {
  pool_used = 0;
  struct ArrowSchema* sparse = node("+us:0,1", "", 2, node("i", "a", 0), node("u", "b", 0));
  match_ok("sparse_union<a: int32, b: utf8>", sparse);
  match_fails("dense_union<a: int32, b: utf8>", sparse,
              "expected dense_union<a: int32, b: utf8> (format '+ud:0,1'), got "
              "sparse_union<a: int32, b: utf8> (format '+us:0,1')");
  match_fails("sparse_union<a: int32, c: utf8>", sparse,
              "expected field 2 to be named 'c', got 'b'");
  match_fails("sparse_union<a: int32>", sparse,
              "expected sparse_union<a: int32> (format '+us:0'), got sparse_union<a: int32, b: "
              "utf8> (format '+us:0,1')");
  struct ArrowSchema* other_ids = node("+us:1,0", "", 2, node("i", "a", 0), node("u", "b", 0));
  match_fails("sparse_union<a: int32, b: utf8>", other_ids,
              "expected sparse_union<a: int32, b: utf8> (format '+us:0,1'), got "
              "sparse_union<a: int32 = 1, b: utf8 = 0> (format '+us:1,0')");

  struct ArrowSchema* run_ends = node("+r", "", 2, node("i", "run_ends", 0),
                                      node("+l", "values", 1, node("u", "item", 0)));
  match_ok("run_end_encoded<int32, list<utf8>>", run_ends);
  match_fails("run_end_encoded<int64, list<utf8>>", run_ends,
              "at .run_ends: expected int64 (format 'l'), got int32 (format 'i')");
  match_fails("run_end_encoded<int32, list<binary>>", run_ends,
              "at .values.item: expected binary (format 'z'), got utf8 (format 'u')");

  match_ok("timestamp(us, \"UTC\")", node("tsu:UTC", "", 0));
  match_ok("timestamp(us)", node("tsu:", "", 0));
  match_fails("timestamp(us, \"UTC\")", node("tsu:", "", 0),
              "expected timestamp(us, \"UTC\") (format 'tsu:UTC'), got timestamp(us) (format "
              "'tsu:')");
  match_fails("timestamp(us, \"UTC\")", node("tsu:Europe/Paris", "", 0),
              "expected timestamp(us, \"UTC\") (format 'tsu:UTC'), got timestamp(us, "
              "\"Europe/Paris\") (format 'tsu:Europe/Paris')");
  match_fails("timestamp(ns, \"UTC\")", node("tsu:UTC", "", 0),
              "expected timestamp(ns, \"UTC\") (format 'tsn:UTC'), got timestamp(us, \"UTC\") "
              "(format 'tsu:UTC')");
  match_fails("decimal128(38, 10)", node("d:38,10,128", "", 0),
              "expected decimal128(38, 10) (format 'd:38,10'), got unsupported type (format "
              "'d:38,10,128')");
  match_ok("decimal32(9, -2)", node("d:9,-2,32", "", 0));
  match_ok("interval(day_time)", node("tiD", "", 0));
}

TEST(match_survives_odd_schemas_and_small_buffers) {
  pool_used = 0;
  static const char* const formats[] = {
      "", "+", "+w:", "+w:x", "d:", "d:1", "d:1,", "ts", "tsu", "t", "tt", "ti", "tD",
      "+us:", "+us:,", "+us:0,", "+ud:99999999999999999999", "w:", "w:-1", "v", "vx", "\x01",
      "+s", "+l", "+m", "+r", "+vl", "n", "tsu:\x7f"};
  static const char* const texts[] = {"int32", "list<int32>", "struct<a: int8>",
                                      "map<int8, int8>", "run_end_encoded<int32, int8>",
                                      "dictionary<int8, utf8>", "sparse_union<a: int8>"};
  char message[512];
  for (size_t f = 0; f < COUNT(formats); f++) {
    for (int n = 0; n <= 2; n++) {
      struct ArrowSchema* schema = node(formats[f], "", 0);
      schema->n_children = n;
      for (int i = 0; i < n; i++) {
        schema->children[i] = node(formats[(f + (size_t)i + 1) % COUNT(formats)], "", 0);
      }
      for (size_t t = 0; t < COUNT(texts); t++) {
        int status = match(texts[t], schema, message, sizeof(message));
        ASSERT(status == 0 || status == -1);
        ASSERT(strlen(message) < sizeof(message));
        if (status != 0) ASSERT(message[0] != '\0');
      }
    }
  }
  /* A child pointer that is NULL is reported, not followed. */
  struct ArrowSchema* holes = node("+s", "", 1, NULL);
  match_fails("struct<a: int8>", holes, "child 0 is missing");
  struct ArrowSchema* map_hole = node("+m", "", 1, NULL);
  match_fails("map<int8, int8>", map_hole, "child 0 is missing");

  /* Every message size, down to 0, stays in bounds and terminated. */
  struct ArrowSchema* schema = node("+s", "", 1, node("+l", "a", 1, node("l", "item", 0)));
  char full[512];
  ASSERT_EQ(match("struct<a: list<int32>>", schema, full, sizeof(full)), -1);
  for (size_t size = 0; size <= strlen(full) + 1; size++) {
    char small[600];
    memset(small, 'X', sizeof(small));
    ASSERT_EQ(match("struct<a: list<int32>>", schema, small, size), -1);
    if (size > 0) {
      ASSERT_EQ(strlen(small), size - 1 < strlen(full) ? size - 1 : strlen(full));
      ASSERT_EQ(strncmp(small, full, size - 1), 0);
    }
    ASSERT_EQ(small[size], 'X');
  }
}

TEST(match_depth) {
  pool_used = 0;
  char type[1024];
  nested_lists(type, sizeof(type), 32, "int32");
  struct ArrowSchema* schema = node("i", "item", 0);
  for (int i = 1; i < 32; i++) schema = node("+l", "item", 1, schema);
  match_ok(type, schema);
  nested_lists(type, sizeof(type), 32, "int64");
  char expected[1024];
  size_t used = (size_t)snprintf(expected, sizeof(expected), "at ");
  for (int i = 1; i < 32; i++) {
    used += (size_t)snprintf(expected + used, sizeof(expected) - used, ".item");
  }
  snprintf(expected + used, sizeof(expected) - used,
           ": expected int64 (format 'l'), got int32 (format 'i')");
  match_fails(type, schema, expected);

  /* A deeper declared text (not from the parser) is refused, not followed. */
  nested_lists(type, sizeof(type), 40, "int32");
  schema = node("i", "item", 0);
  for (int i = 1; i < 40; i++) schema = node("+l", "item", 1, schema);
  char message[1024];
  ASSERT_EQ(match(type, schema, message, sizeof(message)), -1);
  ASSERT_CONTAINS(message, ": the declared type nests deeper than 32 levels");

  /* A schema far deeper than the declared type: the mismatch's description
   * is cut, not followed. */
  schema = node("i", "item", 0);
  for (int i = 0; i < 200; i++) schema = node("+l", "item", 1, schema);
  ASSERT_EQ(match("list<int32>", schema, message, sizeof(message)), -1);
  ASSERT_CONTAINS(message, "at .item: expected int32 (format 'i'), got list<list<");
  ASSERT_CONTAINS(message, "...>>");
}

/* ------------------------------------------------- randomized properties */

/* A deterministic pseudo-random generator (xorshift), so failures repeat. */
static uint64_t random_state = 0x9e3779b97f4a7c15ULL;

static unsigned random_below(unsigned n) {
  random_state ^= random_state << 13;
  random_state ^= random_state >> 7;
  random_state ^= random_state << 17;
  return (unsigned)(random_state % n);
}

/* Appends to a bounded buffer. */
static void append(char* out, size_t size, size_t* used, const char* text) {
  int written = snprintf(out + *used, size - *used, "%s", text);
  if (written > 0) *used += (size_t)written < size - *used ? (size_t)written : size - *used - 1;
}

/* Optional spaces, as a user might type them. */
static void random_spaces(char* out, size_t size, size_t* used) {
  static const char* const spaces[] = {"", "", "", " ", "  ", "\t", "\n"};
  append(out, size, used, spaces[random_below(COUNT(spaces))]);
}

/* Writes a random valid type (any spelling) of at most `depth` levels. */
static void random_type(char* out, size_t size, size_t* used, int depth) {
  static const char* const leaves[] = {
      "null", "bool", "boolean", "int8", "int16", "int32", "int64", "uint8", "uint16",
      "uint32", "uint64", "float16", "halffloat", "float", "float32", "double", "float64",
      "utf8", "string", "large_utf8", "large_string", "utf8_view", "string_view", "binary",
      "large_binary", "binary_view", "date32", "date64", "time32(ms)", "time64( ns)",
      "timestamp(s)", "timestamp(us, 'UTC')", "timestamp(ns,\"Asia/Tokyo\")",
      "timestamp(ms, 'x\"y')", "duration(us)", "interval(months)", "interval(day_time)",
      "interval(month_day_nano)", "decimal32(9, -2)", "decimal64(1,0)", "decimal(38, 38)",
      "decimal256(76, 1000)", "fixed_size_binary(3)"};
  static const char* const indexes[] = {"int8", "int16", "int32", "int64",
                                        "uint8", "uint16", "uint32", "uint64"};
  static const char* const run_ends[] = {"int16", "int32", "int64"};
  char piece[64];
  random_spaces(out, size, used);
  unsigned kind = depth <= 1 ? 0 : random_below(12);
  switch (kind) {
    case 0: case 1: case 2:
      append(out, size, used, leaves[random_below(COUNT(leaves))]);
      break;
    case 3: {
      static const char* const lists[] = {"list", "large_list", "list_view", "large_list_view"};
      append(out, size, used, lists[random_below(COUNT(lists))]);
      append(out, size, used, "<");
      random_type(out, size, used, depth - 1);
      append(out, size, used, ">");
      break;
    }
    case 4:
      append(out, size, used, "fixed_size_list<");
      random_type(out, size, used, depth - 1);
      snprintf(piece, sizeof(piece), ",%u>", random_below(5));
      append(out, size, used, piece);
      break;
    case 5: case 6: case 7: {
      static const char* const records[] = {"struct", "sparse_union", "dense_union"};
      unsigned which = kind - 5;
      unsigned fields = random_below(4) + (which > 0 ? 1 : 0);
      append(out, size, used, records[which]);
      append(out, size, used, "<");
      for (unsigned i = 0; i < fields; i++) {
        snprintf(piece, sizeof(piece), "%sf%u", i > 0 ? "," : "", i);
        append(out, size, used, piece);
        random_spaces(out, size, used);
        append(out, size, used, ":");
        random_type(out, size, used, depth - 1);
      }
      random_spaces(out, size, used);
      append(out, size, used, ">");
      break;
    }
    case 8:
      if (depth < 3) {
        append(out, size, used, "int8");
        break;
      }
      append(out, size, used, "map<");
      random_type(out, size, used, depth - 2);
      append(out, size, used, ",");
      random_type(out, size, used, depth - 2);
      append(out, size, used, ">");
      break;
    case 9: case 10:
      append(out, size, used, "dictionary<");
      append(out, size, used, indexes[random_below(COUNT(indexes))]);
      append(out, size, used, ",");
      random_type(out, size, used, depth - 1);
      append(out, size, used, random_below(2) ? ", ordered>" : ">");
      break;
    default:
      append(out, size, used, "run_end_encoded<");
      append(out, size, used, run_ends[random_below(COUNT(run_ends))]);
      append(out, size, used, ", ");
      random_type(out, size, used, depth - 1);
      append(out, size, used, ">");
      break;
  }
  random_spaces(out, size, used);
}

/* Checks every property of one parsed signature's first argument: the
 * canonical text parses to itself, every node decodes, the schema tree it
 * decodes to describes as the text and matches it. */
static void check_parsed(const struct wudf__signature* signature) {
  char canonical[WUDF__MAX_SIGNATURE];
  wudf__signature_arg(signature, 0, canonical, sizeof(canonical));
  ASSERT_STR_EQ(canonical_of(canonical), canonical);
  pool_used = 0;
  struct ArrowSchema* schema = schema_of(canonical, strlen(canonical), "");
  ASSERT_STR_EQ(describe(schema), canonical);
  match_ok(canonical, schema);
}

TEST(random_types_parse_decode_describe_and_match) {
  char type[8192], text[8300];
  struct wudf__signature signature;
  char message[512];
  int parsed = 0, refused = 0;
  for (int round = 0; round < 3000; round++) {
    size_t used = 0;
    type[0] = '\0';
    random_type(type, sizeof(type), &used, 1 + (int)random_below(6));
    snprintf(text, sizeof(text), "f(%s) -> null", type);
    if (wudf__signature_parse(text, WUDF__KIND_SCALAR, &signature, message,
                              sizeof(message)) != 0) {
      /* Only the length limit may refuse a generated type. */
      ASSERT_CONTAINS(message, "longer than 1023 bytes");
      continue;
    }
    check_parsed(&signature);

    /* One byte changed: the parser either refuses with a column, or
     * accepts something whose canonical text keeps every property. */
    static const char bytes[] = "<>(),:'\" a1-_z\t";
    size_t length = strlen(text);
    size_t at = random_below((unsigned)length);
    if (random_below(2)) {
      text[at] = bytes[random_below(sizeof(bytes) - 1)];
    } else {
      memmove(text + at, text + at + 1, length - at);
    }
    if (wudf__signature_parse(text, WUDF__KIND_SCALAR, &signature, message,
                              sizeof(message)) != 0) {
      ASSERT_EQ(strncmp(message, "at column ", 10), 0);
      refused++;
    } else if (signature.arg_count == 1) {
      check_parsed(&signature);
      parsed++;
    }
  }
  /* Both outcomes were exercised. */
  ASSERT_GE(parsed, 100);
  ASSERT_GE(refused, 100);
}

int main(void) {
  RUN_TEST(every_spelling_parses_to_its_canonical_text);
  RUN_TEST(canonical_texts_round_trip);
  RUN_TEST(signatures_are_canonical_with_spans);
  RUN_TEST(records);
  RUN_TEST(kinds_argument_names_and_clauses);
  RUN_TEST(every_error_class_names_column_and_expectation);
  RUN_TEST(limits_on_names_arguments_fields_and_length);
  RUN_TEST(map_entries_must_fit_the_scratch_buffer);
  RUN_TEST(depth_limit);
  RUN_TEST(decode_gives_c_data_interface_formats);
  RUN_TEST(decode_refuses_texts_that_are_not_canonical);
  RUN_TEST(decode_children_of_every_node_kind);
  RUN_TEST(decoded_trees_describe_as_their_text_and_match_it);
  RUN_TEST(describe_schemas_as_pyarrow_exports_them);
  RUN_TEST(match_structs_lists_and_names);
  RUN_TEST(match_maps);
  RUN_TEST(match_dictionaries);
  RUN_TEST(match_unions_run_ends_and_zones);
  RUN_TEST(match_survives_odd_schemas_and_small_buffers);
  RUN_TEST(match_depth);
  RUN_TEST(random_types_parse_decode_describe_and_match);
  return TEST_SUMMARY();
}
