/*
 * signature.c -- the type language of the guest ABI and function signatures
 * (see signature.h and docs/abi.md, section 6).
 *
 * Four pieces share one table of type names:
 *   - the parser, a recursive-descent reader of signatures that writes each
 *     type's canonical text as it goes (so a parsed signature is its
 *     canonical text plus spans into it);
 *   - the decoder, which reads one node of a canonical text (its name,
 *     parameters and where its children are) and derives the node's Arrow
 *     format string;
 *   - the matcher, which walks a canonical text and an ArrowSchema tree side
 *     by side and names the first difference;
 *   - the describer, which turns an ArrowSchema tree back into a canonical
 *     text, for messages.
 *
 * The file is compiled for the host and, for wasm32, into the C guest SDK.
 * It therefore uses only freestanding libc (string functions, snprintf),
 * never allocates, and keeps every recursive frame small: the guest's stack
 * is 64 KiB and types nest WUDF__MAX_DEPTH deep.
 */
#include "signature.h"

#ifdef __wasm32__
#include <wasmudf/guest.h>
#else
#include <wasmudf/wasmudf.h>
#endif

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Keeps a helper out of its recursive callers: its locals (and the argument
 * buffers of its variadic calls, which wasm32 places on the stack) then live
 * only while it runs, not in every level of a recursion. */
#define WUDF__NOINLINE __attribute__((noinline))

/* ------------------------------------------------------------- the table */

/* How a type name is spelled and what its node carries. */
enum wudf__type_class {
  WUDF__CLASS_PLAIN = 1,    /* no parameters, no children: "int32" */
  WUDF__CLASS_TIME32,       /* time32(s|ms) */
  WUDF__CLASS_TIME64,       /* time64(us|ns) */
  WUDF__CLASS_TIMESTAMP,    /* timestamp(UNIT) or timestamp(UNIT, "ZONE") */
  WUDF__CLASS_DURATION,     /* duration(UNIT) */
  WUDF__CLASS_INTERVAL,     /* interval(months|day_time|month_day_nano) */
  WUDF__CLASS_DECIMAL,      /* decimalNN(P, S) */
  WUDF__CLASS_FIXED_BINARY, /* fixed_size_binary(N) */
  WUDF__CLASS_LIST,         /* list<T> and its large and view variants */
  WUDF__CLASS_FIXED_LIST,   /* fixed_size_list<T, N> */
  WUDF__CLASS_STRUCT,       /* struct<NAME: T, ...> */
  WUDF__CLASS_MAP,          /* map<K, V> */
  WUDF__CLASS_UNION,        /* sparse_union<...>, dense_union<...> */
  WUDF__CLASS_DICTIONARY,   /* dictionary<INDEX, T[, ordered]> */
  WUDF__CLASS_RUN_END       /* run_end_encoded<RUN_ENDS, T> */
};

/* Roles an integer type may play besides being a value. */
enum { WUDF__ROLE_INDEX = 1, WUDF__ROLE_RUN_ENDS = 2 };

struct wudf__type_entry {
  const char* name;      /* the canonical name */
  const char* alias;     /* another accepted spelling, or NULL */
  const char* format;    /* the whole format of PLAIN, LIST, STRUCT, MAP and
                            RUN_END types; the prefix of UNION ones; else NULL */
  uint8_t type_class;    /* enum wudf__type_class */
  uint8_t roles;         /* WUDF__ROLE_* of integer types */
  uint16_t decimal_bits; /* DECIMAL: 32, 64, 128 or 256 */
};

static const struct wudf__type_entry wudf__entries[] = {
    {"null", NULL, "n", WUDF__CLASS_PLAIN, 0, 0},
    {"bool", "boolean", "b", WUDF__CLASS_PLAIN, 0, 0},
    {"int8", NULL, "c", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX, 0},
    {"int16", NULL, "s", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX | WUDF__ROLE_RUN_ENDS, 0},
    {"int32", NULL, "i", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX | WUDF__ROLE_RUN_ENDS, 0},
    {"int64", NULL, "l", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX | WUDF__ROLE_RUN_ENDS, 0},
    {"uint8", NULL, "C", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX, 0},
    {"uint16", NULL, "S", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX, 0},
    {"uint32", NULL, "I", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX, 0},
    {"uint64", NULL, "L", WUDF__CLASS_PLAIN, WUDF__ROLE_INDEX, 0},
    {"float16", "halffloat", "e", WUDF__CLASS_PLAIN, 0, 0},
    {"float32", "float", "f", WUDF__CLASS_PLAIN, 0, 0},
    {"float64", "double", "g", WUDF__CLASS_PLAIN, 0, 0},
    {"utf8", "string", "u", WUDF__CLASS_PLAIN, 0, 0},
    {"large_utf8", "large_string", "U", WUDF__CLASS_PLAIN, 0, 0},
    {"utf8_view", "string_view", "vu", WUDF__CLASS_PLAIN, 0, 0},
    {"binary", NULL, "z", WUDF__CLASS_PLAIN, 0, 0},
    {"large_binary", NULL, "Z", WUDF__CLASS_PLAIN, 0, 0},
    {"binary_view", NULL, "vz", WUDF__CLASS_PLAIN, 0, 0},
    {"date32", NULL, "tdD", WUDF__CLASS_PLAIN, 0, 0},
    {"date64", NULL, "tdm", WUDF__CLASS_PLAIN, 0, 0},
    {"time32", NULL, NULL, WUDF__CLASS_TIME32, 0, 0},
    {"time64", NULL, NULL, WUDF__CLASS_TIME64, 0, 0},
    {"timestamp", NULL, NULL, WUDF__CLASS_TIMESTAMP, 0, 0},
    {"duration", NULL, NULL, WUDF__CLASS_DURATION, 0, 0},
    {"interval", NULL, NULL, WUDF__CLASS_INTERVAL, 0, 0},
    {"decimal32", NULL, NULL, WUDF__CLASS_DECIMAL, 0, 32},
    {"decimal64", NULL, NULL, WUDF__CLASS_DECIMAL, 0, 64},
    {"decimal128", "decimal", NULL, WUDF__CLASS_DECIMAL, 0, 128},
    {"decimal256", NULL, NULL, WUDF__CLASS_DECIMAL, 0, 256},
    {"fixed_size_binary", NULL, NULL, WUDF__CLASS_FIXED_BINARY, 0, 0},
    {"list", NULL, "+l", WUDF__CLASS_LIST, 0, 0},
    {"large_list", NULL, "+L", WUDF__CLASS_LIST, 0, 0},
    {"list_view", NULL, "+vl", WUDF__CLASS_LIST, 0, 0},
    {"large_list_view", NULL, "+vL", WUDF__CLASS_LIST, 0, 0},
    {"fixed_size_list", NULL, NULL, WUDF__CLASS_FIXED_LIST, 0, 0},
    {"struct", NULL, "+s", WUDF__CLASS_STRUCT, 0, 0},
    {"map", NULL, "+m", WUDF__CLASS_MAP, 0, 0},
    {"sparse_union", NULL, "+us:", WUDF__CLASS_UNION, 0, 0},
    {"dense_union", NULL, "+ud:", WUDF__CLASS_UNION, 0, 0},
    {"dictionary", NULL, NULL, WUDF__CLASS_DICTIONARY, 0, 0},
    {"run_end_encoded", NULL, "+r", WUDF__CLASS_RUN_END, 0, 0},
};

#define WUDF__ENTRY_COUNT (sizeof(wudf__entries) / sizeof(wudf__entries[0]))

/* Bounds of numeric parameters. */
#define WUDF__MAX_SCALE 1000
#define WUDF__MAX_FIXED_SIZE 2147483647LL /* Arrow sizes are int32 */
#define WUDF__MAX_ZONE 64

/* The type named by the `length` bytes at `name` (aliases too when
 * `allow_alias`), or NULL. */
static const struct wudf__type_entry* wudf__lookup(const char* name, size_t length,
                                                   int allow_alias) {
  for (size_t i = 0; i < WUDF__ENTRY_COUNT; i++) {
    const struct wudf__type_entry* entry = &wudf__entries[i];
    if (strlen(entry->name) == length && memcmp(entry->name, name, length) == 0) return entry;
    if (allow_alias && entry->alias != NULL && strlen(entry->alias) == length &&
        memcmp(entry->alias, name, length) == 0) {
      return entry;
    }
  }
  return NULL;
}

/* The parameterless type whose whole format is `format` (never a union,
 * whose format carries ids), or NULL. */
static const struct wudf__type_entry* wudf__lookup_format(const char* format) {
  for (size_t i = 0; i < WUDF__ENTRY_COUNT; i++) {
    const struct wudf__type_entry* entry = &wudf__entries[i];
    if (entry->format != NULL && entry->type_class != WUDF__CLASS_UNION &&
        strcmp(entry->format, format) == 0) {
      return entry;
    }
  }
  return NULL;
}

/* The largest precision of a decimal of `bits` bits. */
static int64_t wudf__decimal_max_precision(unsigned bits) {
  return bits == 32 ? 9 : bits == 64 ? 18 : bits == 128 ? 38 : 76;
}

/* The letter of a time unit word ("ms" -> 'm'), or 0. */
static char wudf__unit_letter(const char* word, size_t length) {
  if (length == 1 && word[0] == 's') return 's';
  if (length == 2 && word[1] == 's') {
    if (word[0] == 'm') return 'm';
    if (word[0] == 'u') return 'u';
    if (word[0] == 'n') return 'n';
  }
  return 0;
}

/* The word of a time unit letter ('m' -> "ms"). */
static const char* wudf__unit_word(char letter) {
  switch (letter) {
    case 's': return "s";
    case 'm': return "ms";
    case 'u': return "us";
    default: return "ns";
  }
}

/* The units a temporal class accepts, as letters. */
static const char* wudf__units_of(uint8_t type_class) {
  switch (type_class) {
    case WUDF__CLASS_TIME32: return "sm";
    case WUDF__CLASS_TIME64: return "un";
    default: return "smun";
  }
}

/* The letter of an interval word ("day_time" -> 'D'), or 0. */
static char wudf__interval_letter(const char* word, size_t length) {
  if (length == 6 && memcmp(word, "months", 6) == 0) return 'M';
  if (length == 8 && memcmp(word, "day_time", 8) == 0) return 'D';
  if (length == 14 && memcmp(word, "month_day_nano", 14) == 0) return 'n';
  return 0;
}

/* The word of an interval letter ('D' -> "day_time"). */
static const char* wudf__interval_word(char letter) {
  return letter == 'M' ? "months" : letter == 'D' ? "day_time" : "month_day_nano";
}

static int wudf__is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int wudf__is_digit(char c) { return c >= '0' && c <= '9'; }

/* Whether byte `c` may appear in a time zone (anything but control
 * characters; the quotes are checked by the callers). */
static int wudf__is_zone_byte(char c) {
  unsigned char byte = (unsigned char)c;
  return byte >= 0x20 && byte != 0x7f;
}

/* Length of the identifier starting at `text` (reading at most `limit`
 * bytes; a NUL ends it too), 0 if there is none. */
static size_t wudf__identifier_length(const char* text, size_t limit) {
  if (limit == 0 || !wudf__is_letter(text[0])) return 0;
  size_t length = 1;
  while (length < limit && (wudf__is_letter(text[length]) || wudf__is_digit(text[length]))) {
    length++;
  }
  return length;
}

/* Length of the field name at `text` (at most `limit` bytes): an
 * identifier, or a name quoted with '"' or '\'' (quotes included; 0 when
 * the closing quote is missing). */
static size_t wudf__field_name_length(const char* text, size_t limit) {
  if (limit > 0 && (text[0] == '"' || text[0] == '\'')) {
    for (size_t i = 1; i < limit && text[i] != '\0'; i++) {
      if (text[i] == text[0]) return i + 1;
    }
    return 0;
  }
  return wudf__identifier_length(text, limit);
}

/* A struct or union field item of a canonical text, text[start..end):
 * "NAME: T", the name possibly quoted, a union's item possibly ending in
 * " = ID" (its type id when not its position). */
struct wudf__field_item {
  const char* name;    /* without quotes */
  size_t name_length;
  size_t type_at;      /* the type text is text[type_at..type_end) */
  size_t type_end;
  int64_t id;          /* the written type id, or -1 */
};

/* Splits the field item text[start..end). Returns 0 or -1. */
static int wudf__split_field(const char* text, size_t start, size_t end,
                             struct wudf__field_item* item) {
  size_t name_length = wudf__field_name_length(text + start, end - start);
  if (name_length == 0 || start + name_length + 2 > end ||
      memcmp(text + start + name_length, ": ", 2) != 0) {
    return -1;
  }
  int quoted = text[start] == '"' || text[start] == '\'';
  item->name = text + start + (quoted ? 1 : 0);
  item->name_length = quoted ? name_length - 2 : name_length;
  item->type_at = start + name_length + 2;
  item->type_end = end;
  item->id = -1;
  /* No type text ends in " = " and digits: that suffix is a type id. */
  size_t digits = end;
  while (digits > item->type_at && wudf__is_digit(text[digits - 1])) digits--;
  if (digits < end && digits >= item->type_at + 4 && memcmp(text + digits - 3, " = ", 3) == 0) {
    int64_t id = 0;
    for (size_t i = digits; i < end; i++) {
      if (id > 1000) return -1;
      id = id * 10 + (text[i] - '0');
    }
    item->id = id;
    item->type_end = digits - 3;
  }
  return 0;
}

/* ------------------------------------------------------------ text output */

/* A bounded, always NUL-terminated output buffer. Writes that do not fit are
 * truncated and set `full`. */
struct wudf__text {
  char* data;
  size_t size;
  size_t used;
  int full;
};

/* Starts `text` over `size` bytes at `data` (size may be 0). */
static void wudf__text_init(struct wudf__text* text, char* data, size_t size) {
  text->data = data;
  text->size = size;
  text->used = 0;
  text->full = size == 0;
  if (size > 0) data[0] = '\0';
}

/* Appends `length` bytes, truncating. */
static void wudf__put(struct wudf__text* text, const char* bytes, size_t length) {
  if (text->size == 0) {
    text->full = 1;
    return;
  }
  size_t room = text->size - 1 - text->used;
  if (length > room) {
    length = room;
    text->full = 1;
  }
  memcpy(text->data + text->used, bytes, length);
  text->used += length;
  text->data[text->used] = '\0';
}

/* Appends a NUL-terminated string. */
static void wudf__puts(struct wudf__text* text, const char* string) {
  wudf__put(text, string, strlen(string));
}

/* Appends printf-style output from a va_list, truncating. */
static void wudf__vputf(struct wudf__text* text, const char* format, va_list args) {
  if (text->size == 0) {
    text->full = 1;
    return;
  }
  size_t room = text->size - text->used;
  int written = vsnprintf(text->data + text->used, room, format, args);
  if (written < 0) {
    text->data[text->used] = '\0';
    text->full = 1;
  } else if ((size_t)written >= room) {
    text->used = text->size - 1;
    text->full = 1;
  } else {
    text->used += (size_t)written;
  }
}

/* Appends printf-style output, truncating. */
__attribute__((format(printf, 2, 3)))
static void wudf__putf(struct wudf__text* text, const char* format, ...) {
  va_list args;
  va_start(args, format);
  wudf__vputf(text, format, args);
  va_end(args);
}

/* Appends untrusted bytes (a name or format from a schema) for a message:
 * control characters become '?', and more than `limit` bytes end in "...". */
static void wudf__put_sanitized(struct wudf__text* text, const char* string, size_t limit) {
  if (string == NULL) return;
  size_t i = 0;
  for (; string[i] != '\0' && i < limit && !text->full; i++) {
    char c = wudf__is_zone_byte(string[i]) ? string[i] : '?';
    wudf__put(text, &c, 1);
  }
  if (string[i] != '\0' && i == limit) wudf__puts(text, "...");
}

/* ------------------------------------------------------------- type heads */

/* A node's name and parameters: what its format and the head of its
 * canonical text ("timestamp(us, \"UTC\")") are made of. */
struct wudf__head {
  const struct wudf__type_entry* entry;
  const struct wudf__type_entry* index; /* DICTIONARY: the index type */
  const char* zone;                     /* TIMESTAMP: zone bytes, or NULL */
  int64_t number;      /* DECIMAL precision, FIXED_BINARY width, FIXED_LIST size */
  int32_t scale;       /* DECIMAL */
  uint32_t child_count;/* UNION: the number of fields */
  const int8_t* type_ids; /* UNION: the type ids, or NULL for 0..n-1 */
  uint8_t zone_length; /* TIMESTAMP: 0 when there is no zone */
  char unit;           /* time unit s m u n; interval M D n */
};

/* Writes the Arrow format string of `head` into `format` (`size` bytes).
 * Returns 0, or -1 if it does not fit. */
static int wudf__head_format(const struct wudf__head* head, char* format, size_t size) {
  struct wudf__text out;
  wudf__text_init(&out, format, size);
  switch (head->entry->type_class) {
    case WUDF__CLASS_TIME32:
    case WUDF__CLASS_TIME64: wudf__putf(&out, "tt%c", head->unit); break;
    case WUDF__CLASS_TIMESTAMP:
      wudf__putf(&out, "ts%c:", head->unit);
      if (head->zone_length > 0) wudf__put(&out, head->zone, head->zone_length);
      break;
    case WUDF__CLASS_DURATION: wudf__putf(&out, "tD%c", head->unit); break;
    case WUDF__CLASS_INTERVAL: wudf__putf(&out, "ti%c", head->unit); break;
    case WUDF__CLASS_DECIMAL:
      wudf__putf(&out, "d:%lld,%d", (long long)head->number, (int)head->scale);
      if (head->entry->decimal_bits != 128) wudf__putf(&out, ",%u", head->entry->decimal_bits);
      break;
    case WUDF__CLASS_FIXED_BINARY: wudf__putf(&out, "w:%lld", (long long)head->number); break;
    case WUDF__CLASS_FIXED_LIST: wudf__putf(&out, "+w:%lld", (long long)head->number); break;
    case WUDF__CLASS_UNION:
      wudf__puts(&out, head->entry->format);
      for (uint32_t i = 0; i < head->child_count; i++) {
        unsigned id = head->type_ids != NULL ? (unsigned)head->type_ids[i] : (unsigned)i;
        wudf__putf(&out, i == 0 ? "%u" : ",%u", id);
      }
      break;
    case WUDF__CLASS_DICTIONARY: wudf__puts(&out, head->index->format); break;
    default: wudf__puts(&out, head->entry->format); break;
  }
  return out.full ? -1 : 0;
}

/* Writes the canonical head of `head`: the name and, for parameterized
 * types, the parameters ("decimal128(38, 10)"). Nested types' "<...>" parts
 * are written by the callers. */
static void wudf__put_head(struct wudf__text* out, const struct wudf__head* head) {
  wudf__puts(out, head->entry->name);
  switch (head->entry->type_class) {
    case WUDF__CLASS_TIME32:
    case WUDF__CLASS_TIME64:
    case WUDF__CLASS_DURATION:
      wudf__putf(out, "(%s)", wudf__unit_word(head->unit));
      break;
    case WUDF__CLASS_TIMESTAMP:
      wudf__putf(out, "(%s", wudf__unit_word(head->unit));
      if (head->zone_length > 0) {
        /* '"' quotes, unless the zone itself holds one. */
        char quote = memchr(head->zone, '"', head->zone_length) != NULL ? '\'' : '"';
        wudf__putf(out, ", %c", quote);
        wudf__put(out, head->zone, head->zone_length);
        wudf__put(out, &quote, 1);
      }
      wudf__puts(out, ")");
      break;
    case WUDF__CLASS_INTERVAL: wudf__putf(out, "(%s)", wudf__interval_word(head->unit)); break;
    case WUDF__CLASS_DECIMAL:
      wudf__putf(out, "(%lld, %d)", (long long)head->number, (int)head->scale);
      break;
    case WUDF__CLASS_FIXED_BINARY: wudf__putf(out, "(%lld)", (long long)head->number); break;
    default: break;
  }
}

/* ------------------------------------------------------------------ parser */

struct wudf__parser {
  const char* input;      /* the whole text, for columns */
  const char* at;         /* the cursor */
  struct wudf__text out;  /* the canonical text being written */
  char* message;
  size_t message_size;
};

/* Writes "at column N: " and the formatted message for position `where`;
 * returns -1. */
__attribute__((format(printf, 3, 4)))
static int wudf__fail(struct wudf__parser* p, const char* where, const char* format, ...) {
  if (p->message_size == 0) return -1;
  int used = snprintf(p->message, p->message_size, "at column %zu: ",
                      (size_t)(where - p->input) + 1);
  if (used < 0 || (size_t)used >= p->message_size) return -1;
  va_list args;
  va_start(args, format);
  vsnprintf(p->message + used, p->message_size - (size_t)used, format, args);
  va_end(args);
  return -1;
}

/* Fails unless the canonical text still fits WUDF__MAX_SIGNATURE; the
 * message points at `where`, the input that was being written. */
WUDF__NOINLINE static int wudf__check_room(struct wudf__parser* p, const char* where) {
  if (!p->out.full) return 0;
  return wudf__fail(p, where, "the signature is longer than %d bytes in canonical form",
                    WUDF__MAX_SIGNATURE - 1);
}

/* Appends `length` bytes to the canonical text. */
WUDF__NOINLINE static int wudf__emit(struct wudf__parser* p, const char* bytes, size_t length) {
  wudf__put(&p->out, bytes, length);
  return wudf__check_room(p, p->at);
}

static int wudf__emits(struct wudf__parser* p, const char* string) {
  return wudf__emit(p, string, strlen(string));
}

static void wudf__skip_spaces(struct wudf__parser* p) {
  while (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r') p->at++;
}

/* Consumes character `c` (after spaces) if it is next; returns 1 if so. */
static int wudf__accept(struct wudf__parser* p, char c) {
  wudf__skip_spaces(p);
  if (*p->at != c) return 0;
  p->at++;
  return 1;
}

/* Consumes character `c` or fails naming it. */
WUDF__NOINLINE static int wudf__expect(struct wudf__parser* p, char c) {
  if (wudf__accept(p, c)) return 0;
  return wudf__fail(p, p->at, "expected '%c'", c);
}

/* Consumes ',' (returns 1) or `close` (returns 0), or fails naming both
 * (returns -1). */
WUDF__NOINLINE static int wudf__expect_separator(struct wudf__parser* p, char close) {
  if (wudf__accept(p, ',')) return 1;
  if (wudf__accept(p, close)) return 0;
  return wudf__fail(p, p->at, "expected ',' or '%c'", close);
}

/* Reads an identifier after spaces: its start and length (0 if none). */
static const char* wudf__take_identifier(struct wudf__parser* p, size_t* length) {
  wudf__skip_spaces(p);
  const char* start = p->at;
  *length = wudf__identifier_length(start, (size_t)-1);
  p->at += *length;
  return start;
}

/* Reads an integer in [min, max] after spaces ("what" names it in
 * messages). */
static int wudf__parse_number(struct wudf__parser* p, int64_t min, int64_t max,
                              const char* what, int64_t* value) {
  wudf__skip_spaces(p);
  const char* start = p->at;
  const char* digits = *start == '-' ? start + 1 : start;
  if (!wudf__is_digit(*digits)) return wudf__fail(p, start, "expected a number (%s)", what);
  int64_t magnitude = 0;
  int huge = 0;
  for (; wudf__is_digit(*digits); digits++) {
    if (magnitude > 100000000000LL) huge = 1; /* far beyond every bound */
    else magnitude = magnitude * 10 + (*digits - '0');
  }
  int64_t number = *start == '-' ? -magnitude : magnitude;
  if (huge || number < min || number > max) {
    int shown = digits - start > 24 ? 24 : (int)(digits - start);
    return wudf__fail(p, start, "%s %.*s%s is out of range (%lld to %lld)", what, shown, start,
                      digits - start > 24 ? "..." : "", (long long)min, (long long)max);
  }
  p->at = digits;
  *value = number;
  return 0;
}

/* Reads a time unit among the letters `allowed` into head->unit. */
static int wudf__parse_unit(struct wudf__parser* p, const char* allowed, struct wudf__head* head) {
  size_t length;
  const char* word = wudf__take_identifier(p, &length);
  char letter = wudf__unit_letter(word, length);
  if (letter == 0 || strchr(allowed, letter) == NULL) {
    return wudf__fail(p, word, "expected a time unit (%s)",
                      strlen(allowed) == 2 ? (allowed[0] == 's' ? "s or ms" : "us or ns")
                                           : "s, ms, us or ns");
  }
  head->unit = letter;
  return 0;
}

/* Reads a quoted time zone ('...' or "...") into head->zone. */
static int wudf__parse_zone(struct wudf__parser* p, struct wudf__head* head) {
  wudf__skip_spaces(p);
  const char* start = p->at;
  char quote = *start;
  if (quote != '"' && quote != '\'') return wudf__fail(p, start, "expected a quoted time zone");
  size_t length = 0;
  for (;;) {
    char c = start[1 + length];
    if (c == quote) break;
    if (c == '\0') return wudf__fail(p, start, "expected %c to end the time zone", quote);
    if (!wudf__is_zone_byte(c)) {
      return wudf__fail(p, start + 1 + length, "a time zone may not contain control characters");
    }
    length++;
    if (length > WUDF__MAX_ZONE) {
      return wudf__fail(p, start, "the time zone is longer than %d bytes", WUDF__MAX_ZONE);
    }
  }
  if (length == 0) {
    return wudf__fail(p, start, "expected a time zone (a timestamp without one is "
                                "written timestamp(UNIT))");
  }
  head->zone = start + 1;
  head->zone_length = (uint8_t)length;
  p->at = start + 2 + length;
  return 0;
}

/* Reads the parenthesized parameters of a parameterized type into `head`
 * (nothing for other classes). */
static int wudf__parse_parameters(struct wudf__parser* p, struct wudf__head* head) {
  const struct wudf__type_entry* entry = head->entry;
  int64_t number;
  switch (entry->type_class) {
    case WUDF__CLASS_TIME32:
    case WUDF__CLASS_TIME64:
    case WUDF__CLASS_DURATION:
    case WUDF__CLASS_TIMESTAMP:
      if (wudf__expect(p, '(') != 0 ||
          wudf__parse_unit(p, wudf__units_of(entry->type_class), head) != 0) {
        return -1;
      }
      if (entry->type_class == WUDF__CLASS_TIMESTAMP && wudf__accept(p, ',') &&
          wudf__parse_zone(p, head) != 0) {
        return -1;
      }
      return wudf__expect(p, ')');
    case WUDF__CLASS_INTERVAL: {
      if (wudf__expect(p, '(') != 0) return -1;
      size_t length;
      const char* word = wudf__take_identifier(p, &length);
      head->unit = wudf__interval_letter(word, length);
      if (head->unit == 0) {
        return wudf__fail(p, word, "expected an interval unit (months, day_time or "
                                   "month_day_nano)");
      }
      return wudf__expect(p, ')');
    }
    case WUDF__CLASS_DECIMAL: {
      char what[24];
      snprintf(what, sizeof(what), "%s precision", entry->name);
      if (wudf__expect(p, '(') != 0 ||
          wudf__parse_number(p, 1, wudf__decimal_max_precision(entry->decimal_bits), what,
                             &head->number) != 0 ||
          wudf__expect(p, ',') != 0 ||
          wudf__parse_number(p, -WUDF__MAX_SCALE, WUDF__MAX_SCALE, "scale", &number) != 0) {
        return -1;
      }
      head->scale = (int32_t)number;
      return wudf__expect(p, ')');
    }
    case WUDF__CLASS_FIXED_BINARY:
      if (wudf__expect(p, '(') != 0 ||
          wudf__parse_number(p, 1, WUDF__MAX_FIXED_SIZE, "byte width", &head->number) != 0) {
        return -1;
      }
      return wudf__expect(p, ')');
    default:
      return 0;
  }
}

static size_t wudf__item_end(const char* text, size_t end, size_t at);

/* Reports a union without fields (the cursor is past its '>'). */
WUDF__NOINLINE static int wudf__fail_empty_union(struct wudf__parser* p) {
  return wudf__fail(p, p->at - 1, "expected a field name (a union has at least one field)");
}

/* Whether the canonical field list text[from..to) ("a: T, b: T") has a field
 * named by the `length` bytes at `name`. */
static int wudf__has_field(const char* text, size_t from, size_t to, const char* name,
                           size_t length) {
  size_t at = from;
  while (at < to) {
    size_t end = wudf__item_end(text, to, at);
    if (end == (size_t)-1) return 0;
    struct wudf__field_item item;
    if (wudf__split_field(text, at, end, &item) == 0 && item.name_length == length &&
        memcmp(item.name, name, length) == 0) {
      return 1;
    }
    at = end + 2; /* ", " */
  }
  return 0;
}

static int wudf__parse_type(struct wudf__parser* p, unsigned depth);

/* Reads field `count` + 1's name of a field list whose canonical text
 * starts at out.data[fields_at], checks it (distinct from the earlier ones
 * when `distinct`), and writes it (after ", " unless it is the first). A
 * name is an identifier or quoted with '"' or '\'' (any bytes but control
 * characters and that quote; empty allowed); it is written bare when it is
 * an identifier, else quoted with '"' (with '\'' if it contains '"'). */
WUDF__NOINLINE static int wudf__parse_field_name(struct wudf__parser* p, size_t fields_at,
                                                uint32_t count, int distinct) {
  wudf__skip_spaces(p);
  if (count == WUDF__MAX_FIELDS) {
    return wudf__fail(p, p->at, "more than %d fields", WUDF__MAX_FIELDS);
  }
  size_t length;
  const char* name;
  const char* start = p->at;
  if (*p->at == '"' || *p->at == '\'') {
    char quote = *p->at;
    name = p->at + 1;
    length = 0;
    while (name[length] != quote) {
      if (name[length] == '\0') return wudf__fail(p, start, "unterminated field name");
      if (!wudf__is_zone_byte(name[length])) {
        return wudf__fail(p, name + length, "a control character in a field name");
      }
      length++;
    }
    p->at = name + length + 1;
  } else {
    name = wudf__take_identifier(p, &length);
    if (length == 0) return wudf__fail(p, name, "expected a field name");
  }
  if (length > WUDF__MAX_NAME) {
    return wudf__fail(p, name, "a field name is longer than %d bytes", WUDF__MAX_NAME);
  }
  if (distinct && wudf__has_field(p->out.data, fields_at, p->out.used, name, length)) {
    return wudf__fail(p, start, "duplicate field '%.*s'", (int)length, name);
  }
  if (count > 0 && wudf__emits(p, ", ") != 0) return -1;
  if (length > 0 && wudf__identifier_length(name, length) == length) {
    return wudf__emit(p, name, length);
  }
  const char* quote = memchr(name, '"', length) != NULL ? "'" : "\"";
  if (wudf__emits(p, quote) != 0 || wudf__emit(p, name, length) != 0) return -1;
  return wudf__emits(p, quote);
}

/* Reads the optional "= ID" after union field `count`'s type (ID 0..127;
 * without it the id is `count`), checks that the id is new (`used`: a
 * bitmap of the ids so far) and writes " = ID" when it is not `count`. */
WUDF__NOINLINE static int wudf__parse_type_id(struct wudf__parser* p, uint32_t count,
                                             uint64_t used[2]) {
  int64_t id = count;
  const char* where = p->at;
  if (wudf__accept(p, '=')) {
    wudf__skip_spaces(p);
    where = p->at;
    if (wudf__parse_number(p, 0, 127, "union type id", &id) != 0) return -1;
  }
  if (used[id / 64] & (UINT64_C(1) << (id % 64))) {
    return wudf__fail(p, where, "duplicate union type id %d", (int)id);
  }
  used[id / 64] |= UINT64_C(1) << (id % 64);
  if (id == (int64_t)count) return 0;
  char text[16];
  snprintf(text, sizeof(text), " = %d", (int)id);
  return wudf__emits(p, text);
}

/* Reads "<NAME: T, ...>" of a struct or union (its name is written). A
 * union field may end in "= ID" (its type id); a struct's field names may
 * repeat, a union's and a table's may not. */
static int wudf__parse_fields(struct wudf__parser* p, const struct wudf__type_entry* entry,
                              unsigned depth) {
  if (wudf__expect(p, '<') != 0 || wudf__emits(p, "<") != 0) return -1;
  size_t fields_at = p->out.used;
  uint32_t count = 0;
  int is_union = entry->type_class == WUDF__CLASS_UNION;
  int distinct = is_union || strcmp(entry->name, "table") == 0;
  uint64_t used_ids[2] = {0, 0};
  if (wudf__accept(p, '>')) {
    if (is_union) return wudf__fail_empty_union(p);
    return wudf__emits(p, ">");
  }
  for (;;) {
    if (wudf__parse_field_name(p, fields_at, count, distinct) != 0 ||
        wudf__expect(p, ':') != 0 || wudf__emits(p, ": ") != 0 ||
        wudf__parse_type(p, depth + 1) != 0 ||
        (is_union && wudf__parse_type_id(p, count, used_ids) != 0)) {
      return -1;
    }
    count++;
    int more = wudf__expect_separator(p, '>');
    if (more < 0) return -1;
    if (more == 0) break;
  }
  return wudf__emits(p, ">");
}

/* Reads an integer type for a dictionary's index (role WUDF__ROLE_INDEX) or
 * a run-end type (WUDF__ROLE_RUN_ENDS) and writes its name. */
WUDF__NOINLINE static int wudf__parse_integer_type(struct wudf__parser* p, uint8_t role) {
  size_t length;
  const char* name = wudf__take_identifier(p, &length);
  const struct wudf__type_entry* entry = wudf__lookup(name, length, 0);
  if (entry == NULL || (entry->roles & role) == 0) {
    const char* expected = role == WUDF__ROLE_INDEX
                               ? "an index type (int8, int16, int32, int64, uint8, uint16, "
                                 "uint32 or uint64)"
                               : "a run-end type (int16, int32 or int64)";
    if (length == 0) return wudf__fail(p, name, "expected %s", expected);
    return wudf__fail(p, name, "expected %s, got '%.*s'", expected,
                      (int)(length > WUDF__MAX_NAME ? WUDF__MAX_NAME : length), name);
  }
  return wudf__emits(p, entry->name);
}

/* Reads a type name at nesting `depth` and returns its entry, or NULL after
 * reporting an unknown name or a type nested too deep; `*start` is where
 * the name is. */
WUDF__NOINLINE static const struct wudf__type_entry* wudf__parse_type_name(
    struct wudf__parser* p, unsigned depth, const char** start) {
  size_t length;
  *start = wudf__take_identifier(p, &length);
  if (length == 0) {
    wudf__fail(p, *start, "expected a type");
    return NULL;
  }
  const struct wudf__type_entry* entry = wudf__lookup(*start, length, 1);
  if (entry == NULL) {
    wudf__fail(p, *start, "unknown type '%.*s'",
               (int)(length > WUDF__MAX_NAME ? WUDF__MAX_NAME : length), *start);
    return NULL;
  }
  if (depth > WUDF__MAX_DEPTH) {
    wudf__fail(p, *start, "types nest deeper than %d levels", WUDF__MAX_DEPTH);
    return NULL;
  }
  return entry;
}

/* Reads the parameters of a childless type named at `start` and writes its
 * canonical text. */
WUDF__NOINLINE static int wudf__parse_leaf(struct wudf__parser* p,
                                           const struct wudf__type_entry* entry,
                                           const char* start) {
  struct wudf__head head;
  memset(&head, 0, sizeof(head));
  head.entry = entry;
  if (wudf__parse_parameters(p, &head) != 0) return -1;
  wudf__put_head(&p->out, &head);
  return wudf__check_room(p, start);
}

/* Reads ", N>" ending a fixed_size_list and writes it. */
WUDF__NOINLINE static int wudf__parse_list_size(struct wudf__parser* p) {
  int64_t size;
  if (wudf__expect(p, ',') != 0 ||
      wudf__parse_number(p, 0, WUDF__MAX_FIXED_SIZE, "list size", &size) != 0 ||
      wudf__expect(p, '>') != 0) {
    return -1;
  }
  char text[32];
  snprintf(text, sizeof(text), ", %lld>", (long long)size);
  return wudf__emits(p, text);
}

/* Reads the optional ", ordered" and the '>' ending a dictionary and writes
 * them. */
WUDF__NOINLINE static int wudf__parse_dictionary_end(struct wudf__parser* p) {
  if (wudf__accept(p, ',')) {
    size_t length;
    const char* word = wudf__take_identifier(p, &length);
    if (length != 7 || memcmp(word, "ordered", 7) != 0) {
      return wudf__fail(p, word, "expected 'ordered'");
    }
    if (wudf__emits(p, ", ordered") != 0) return -1;
  }
  if (wudf__expect(p, '>') != 0) return -1;
  return wudf__emits(p, ">");
}

/* Checks that the entries of the map whose canonical text starts at
 * out.data[map_at] (and was just written), "struct<key: K, value: V>", 15
 * bytes longer than "map<K, V>", fit the scratch buffer wudf__type_child
 * spells them in. */
WUDF__NOINLINE static int wudf__check_entries_room(struct wudf__parser* p, const char* start,
                                                   size_t map_at) {
  if (p->out.used - map_at + 15 < WUDF__MAX_SIGNATURE) return 0;
  return wudf__fail(p, start, "the map's entries type is longer than %d bytes",
                    WUDF__MAX_SIGNATURE - 1);
}

/* Reads one type at nesting `depth` (1 for a top-level type) and writes its
 * canonical text. The frame holds a few scalars only: everything else is in
 * the non-inlined helpers above. */
static int wudf__parse_type(struct wudf__parser* p, unsigned depth) {
  const char* start;
  const struct wudf__type_entry* entry = wudf__parse_type_name(p, depth, &start);
  if (entry == NULL) return -1;
  switch (entry->type_class) {
    case WUDF__CLASS_LIST:
      if (wudf__expect(p, '<') != 0 || wudf__emits(p, entry->name) != 0 ||
          wudf__emits(p, "<") != 0 || wudf__parse_type(p, depth + 1) != 0 ||
          wudf__expect(p, '>') != 0) {
        return -1;
      }
      return wudf__emits(p, ">");
    case WUDF__CLASS_FIXED_LIST:
      if (wudf__expect(p, '<') != 0 || wudf__emits(p, "fixed_size_list<") != 0 ||
          wudf__parse_type(p, depth + 1) != 0) {
        return -1;
      }
      return wudf__parse_list_size(p);
    case WUDF__CLASS_STRUCT:
    case WUDF__CLASS_UNION:
      if (wudf__emits(p, entry->name) != 0) return -1;
      return wudf__parse_fields(p, entry, depth);
    case WUDF__CLASS_MAP: {
      size_t map_at = p->out.used;
      if (wudf__expect(p, '<') != 0 || wudf__emits(p, "map<") != 0 ||
          wudf__parse_type(p, depth + 2) != 0 || wudf__expect(p, ',') != 0 ||
          wudf__emits(p, ", ") != 0 || wudf__parse_type(p, depth + 2) != 0 ||
          wudf__expect(p, '>') != 0 || wudf__emits(p, ">") != 0) {
        return -1;
      }
      return wudf__check_entries_room(p, start, map_at);
    }
    case WUDF__CLASS_DICTIONARY:
      if (wudf__expect(p, '<') != 0 || wudf__emits(p, "dictionary<") != 0 ||
          wudf__parse_integer_type(p, WUDF__ROLE_INDEX) != 0 || wudf__expect(p, ',') != 0 ||
          wudf__emits(p, ", ") != 0 || wudf__parse_type(p, depth + 1) != 0) {
        return -1;
      }
      return wudf__parse_dictionary_end(p);
    case WUDF__CLASS_RUN_END:
      if (wudf__expect(p, '<') != 0 || wudf__emits(p, "run_end_encoded<") != 0 ||
          wudf__parse_integer_type(p, WUDF__ROLE_RUN_ENDS) != 0 || wudf__expect(p, ',') != 0 ||
          wudf__emits(p, ", ") != 0 || wudf__parse_type(p, depth + 1) != 0 ||
          wudf__expect(p, '>') != 0) {
        return -1;
      }
      return wudf__emits(p, ">");
    default:
      return wudf__parse_leaf(p, entry, start);
  }
}

/* Case-insensitive match of a whole word at the cursor. */
static int wudf__accept_word(struct wudf__parser* p, const char* word) {
  wudf__skip_spaces(p);
  size_t i = 0;
  for (; word[i] != '\0'; i++) {
    char c = p->at[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != word[i]) return 0;
  }
  if (wudf__is_letter(p->at[i]) || wudf__is_digit(p->at[i])) return 0;
  p->at += i;
  return 1;
}

/* Matches a sequence of words, or consumes nothing. */
static int wudf__accept_phrase(struct wudf__parser* p, const char* const* words) {
  const char* start = p->at;
  for (; *words != NULL; words++) {
    if (!wudf__accept_word(p, *words)) {
      p->at = start;
      return 0;
    }
  }
  return 1;
}

/* Parses one type and records where its canonical text is. */
static int wudf__parse_span(struct wudf__parser* p, struct wudf__span* span) {
  size_t start = p->out.used;
  if (wudf__parse_type(p, 1) != 0) return -1;
  span->start = (uint16_t)start;
  span->length = (uint16_t)(p->out.used - start);
  return 0;
}

/* Reads an argument's optional name after its type (the cursor is past the
 * type) and writes " NAME"; names are distinct. */
WUDF__NOINLINE static int wudf__parse_arg_name(struct wudf__parser* p,
                                               struct wudf__signature* out) {
  size_t length;
  const char* name = wudf__take_identifier(p, &length);
  struct wudf__span* span = &out->arg_names[out->arg_count];
  span->start = 0;
  span->length = 0;
  if (length == 0) return 0;
  if (length > WUDF__MAX_NAME) {
    return wudf__fail(p, name, "an argument name is longer than %d bytes", WUDF__MAX_NAME);
  }
  for (uint32_t i = 0; i < out->arg_count; i++) {
    const struct wudf__span* other = &out->arg_names[i];
    if (other->length == length && memcmp(out->text + other->start, name, length) == 0) {
      return wudf__fail(p, name, "duplicate argument name '%.*s'", (int)length, name);
    }
  }
  if (wudf__emits(p, " ") != 0) return -1;
  span->start = (uint16_t)p->out.used;
  span->length = (uint16_t)length;
  return wudf__emit(p, name, length);
}

/* The "struct<input_row: int64, " that starts a table function's chunk
 * type, and how many bytes the chunk type adds to the signature's text. */
#define WUDF__TABLE_CHUNK_HEAD "struct<" WUDF__TABLE_ROW_COLUMN ": int64, "

/* Reads a table function's result, "setof T" or "table<NAME: T, ...>", and
 * writes it; checks the chunk type it makes fits WUDF__MAX_SIGNATURE and
 * has no column named input_row. */
WUDF__NOINLINE static int wudf__parse_table_result(struct wudf__parser* p,
                                                   struct wudf__signature* out) {
  static const struct wudf__type_entry columns = {"table", NULL, "+s", WUDF__CLASS_STRUCT,
                                                  0, 0};
  wudf__skip_spaces(p);
  const char* start = p->at;
  size_t added;
  if (wudf__accept_word(p, "setof")) {
    out->setof = 1;
    wudf__skip_spaces(p);
    if (wudf__emits(p, "setof ") != 0) return -1;
    size_t type_at = p->out.used;
    /* The column is a field of the chunk struct: one level down. */
    if (wudf__parse_type(p, 2) != 0) return -1;
    out->result.start = (uint16_t)type_at;
    out->result.length = (uint16_t)(p->out.used - type_at);
    if (strcmp(out->name, WUDF__TABLE_ROW_COLUMN) == 0) {
      return wudf__fail(p, start, "a table function returning setof names its column after "
                        "itself, and '" WUDF__TABLE_ROW_COLUMN "' is reserved");
    }
    /* struct<input_row: int64, NAME: T> */
    added = strlen(WUDF__TABLE_CHUNK_HEAD) + strlen(out->name) + 3;
  } else if (wudf__accept_word(p, "table")) {
    out->setof = 0;
    size_t table_at = p->out.used;
    if (wudf__emits(p, "table") != 0 || wudf__parse_fields(p, &columns, 1) != 0) return -1;
    out->result.start = (uint16_t)table_at;
    out->result.length = (uint16_t)(p->out.used - table_at);
    size_t fields_at = table_at + 6, fields_end = p->out.used - 1;
    if (fields_at == fields_end) {
      return wudf__fail(p, start, "a table function returns at least one column");
    }
    uint32_t columns_count = 0;
    for (size_t at = fields_at; at < fields_end; columns_count++) {
      size_t item_end = wudf__item_end(p->out.data, fields_end, at);
      if (item_end == (size_t)-1) break;
      at = item_end + 2; /* ", " */
    }
    if (columns_count >= WUDF__MAX_FIELDS) {
      return wudf__fail(p, start, "a table function returns at most %d columns (its chunks "
                        "have one more, " WUDF__TABLE_ROW_COLUMN ")", WUDF__MAX_FIELDS - 1);
    }
    if (wudf__has_field(p->out.data, fields_at, fields_end, WUDF__TABLE_ROW_COLUMN,
                        strlen(WUDF__TABLE_ROW_COLUMN))) {
      return wudf__fail(p, start, "the column name '" WUDF__TABLE_ROW_COLUMN "' is reserved "
                        "for the input row of each output row");
    }
    /* table<F> becomes struct<input_row: int64, F> */
    added = strlen(WUDF__TABLE_CHUNK_HEAD) + 1;
  } else {
    return wudf__fail(p, start, "a table function returns setof TYPE or table<NAME: TYPE, "
                      "...>");
  }
  if (out->result.length + added >= WUDF__MAX_SIGNATURE) {
    return wudf__fail(p, start, "the table's chunk type is longer than %d bytes",
                      WUDF__MAX_SIGNATURE - 1);
  }
  return 0;
}

/* Reads the clauses after the result (STATE, null handling,
 * DETERMINISTIC) and writes them in canonical order. */
WUDF__NOINLINE static int wudf__parse_clauses(struct wudf__parser* p,
                                              struct wudf__signature* out) {
  static const char* const strict_words[] = {"returns", "null", "on", "null", "input", NULL};
  static const char* const called_words[] = {"called", "on", "null", "input", NULL};
  static const char* const not_deterministic[] = {"not", "deterministic", NULL};
  uint8_t kind = out->kind;
  int has_state = 0;
  for (;;) {
    wudf__skip_spaces(p);
    const char* clause_at = p->at;
    if (wudf__accept_word(p, "state")) {
      if (kind != WUDF__KIND_AGGREGATE) {
        return wudf__fail(p, clause_at, "only an aggregate function has a STATE");
      }
      if (has_state) return wudf__fail(p, clause_at, "a second STATE");
      has_state = 1;
      wudf__skip_spaces(p);
      if (wudf__emits(p, " STATE ") != 0 || wudf__parse_span(p, &out->state) != 0) return -1;
      continue;
    }
    if (wudf__accept_phrase(p, not_deterministic)) {
      out->deterministic = 0;
      continue;
    }
    if (wudf__accept_word(p, "deterministic")) {
      out->deterministic = 1;
      continue;
    }
    if (wudf__accept_phrase(p, strict_words)) {
      out->strict = 1;
    } else if (wudf__accept_phrase(p, called_words)) {
      out->strict = 0;
    } else {
      break;
    }
    if (kind == WUDF__KIND_BATCH) {
      return wudf__fail(p, clause_at, "null handling does not apply to batch functions (they "
                        "see their whole input)");
    }
  }
  wudf__skip_spaces(p);
  if (*p->at != '\0') return wudf__fail(p, p->at, "unexpected text");
  if (kind == WUDF__KIND_AGGREGATE && !has_state) {
    return wudf__fail(p, p->at, "an aggregate function needs a STATE type (STATE TYPE after "
                      "the result)");
  }
  /* A batch function always sees its whole input, nulls included. */
  if (kind == WUDF__KIND_BATCH) out->strict = 0;
  if (kind != WUDF__KIND_BATCH && !out->strict &&
      wudf__emits(p, " CALLED ON NULL INPUT") != 0) {
    return -1;
  }
  if (out->deterministic && wudf__emits(p, " DETERMINISTIC") != 0) return -1;
  return 0;
}

int wudf__signature_parse(const char* text, uint8_t kind, struct wudf__signature* out,
                          char* message, size_t message_size) {
  struct wudf__parser parser;
  struct wudf__parser* p = &parser;
  p->input = text;
  p->at = text;
  p->message = message;
  p->message_size = message_size;
  if (message_size > 0) message[0] = '\0';
  memset(out, 0, sizeof(*out));
  wudf__text_init(&p->out, out->text, sizeof(out->text));
  out->kind = kind;
  out->strict = 1;
  if (wudf__kind_name(kind) == NULL) {
    return wudf__fail(p, text, "unknown function kind %u", (unsigned)kind);
  }

  size_t length;
  const char* name = wudf__take_identifier(p, &length);
  if (length == 0) return wudf__fail(p, name, "expected the function name");
  if (length > WUDF__MAX_NAME) {
    return wudf__fail(p, name, "the function name is longer than %d bytes", WUDF__MAX_NAME);
  }
  memcpy(out->name, name, length);
  out->name[length] = '\0';
  if (wudf__emit(p, name, length) != 0 || wudf__expect(p, '(') != 0 ||
      wudf__emits(p, "(") != 0) {
    return -1;
  }
  if (!wudf__accept(p, ')')) {
    for (;;) {
      wudf__skip_spaces(p);
      if (out->arg_count == WUDF__MAX_ARGS) {
        return wudf__fail(p, p->at, "more than %d arguments", WUDF__MAX_ARGS);
      }
      if ((out->arg_count > 0 && wudf__emits(p, ", ") != 0) ||
          wudf__parse_span(p, &out->args[out->arg_count]) != 0 ||
          wudf__parse_arg_name(p, out) != 0) {
        return -1;
      }
      out->arg_count++;
      int more = wudf__expect_separator(p, ')');
      if (more < 0) return -1;
      if (more == 0) break;
    }
  }
  wudf__skip_spaces(p);
  if (p->at[0] != '-' || p->at[1] != '>') return wudf__fail(p, p->at, "expected '->'");
  p->at += 2;
  if (wudf__emits(p, ") -> ") != 0) return -1;
  wudf__skip_spaces(p);
  const char* result_at = p->at;
  if (kind == WUDF__KIND_TABLE) {
    if (wudf__parse_table_result(p, out) != 0) return -1;
  } else {
    if (wudf__parse_span(p, &out->result) != 0) return -1;
    if (kind == WUDF__KIND_BATCH &&
        strncmp(out->text + out->result.start, "struct<", 7) != 0) {
      return wudf__fail(p, result_at, "the result of a batch function must be a struct<...>");
    }
  }
  return wudf__parse_clauses(p, out);
}

int wudf__record_parse(const char* record, struct wudf__signature* out, char* message,
                       size_t message_size) {
  size_t prefix = strlen(WUDF__RECORD_PREFIX);
  if (strncmp(record, WUDF__RECORD_PREFIX, prefix) != 0) {
    if (message_size > 0) {
      snprintf(message, message_size,
               "the record does not start with '" WUDF__RECORD_PREFIX "'");
    }
    return -1;
  }
  const char* rest = record + prefix;
  uint8_t kind = WUDF__KIND_NONE;
  size_t kind_length = 0;
  while (wudf__is_letter(rest[kind_length])) kind_length++;
  for (uint8_t k = WUDF__KIND_SCALAR; k <= WUDF__KIND_LAST; k++) {
    if (strlen(wudf__kind_name(k)) == kind_length &&
        strncmp(rest, wudf__kind_name(k), kind_length) == 0) {
      kind = k;
    }
  }
  if (kind == WUDF__KIND_NONE) {
    if (message_size > 0) {
      snprintf(message, message_size, "unknown function kind '%.*s'",
               (int)(kind_length > 32 ? 32 : kind_length), rest);
    }
    return -1;
  }
  return wudf__signature_parse(rest + kind_length, kind, out, message, message_size);
}

/* Copies span `span` of the signature's text into `out`, truncating. */
static const char* wudf__copy_span(const struct wudf__signature* signature,
                                   struct wudf__span span, char* out, size_t size) {
  if (size == 0) return out;
  size_t length = span.length < size - 1 ? span.length : size - 1;
  memcpy(out, signature->text + span.start, length);
  out[length] = '\0';
  return out;
}

const char* wudf__signature_arg(const struct wudf__signature* signature, uint32_t index,
                                char* out, size_t size) {
  if (index >= signature->arg_count) {
    if (size > 0) out[0] = '\0';
    return out;
  }
  return wudf__copy_span(signature, signature->args[index], out, size);
}

const char* wudf__signature_result(const struct wudf__signature* signature, char* out,
                                   size_t size) {
  return wudf__copy_span(signature, signature->result, out, size);
}

const char* wudf__kind_name(uint8_t kind) {
  switch (kind) {
    case WUDF__KIND_SCALAR: return "scalar";
    case WUDF__KIND_BATCH: return "batch";
    case WUDF__KIND_TABLE: return "table";
    case WUDF__KIND_AGGREGATE: return "aggregate";
  }
  return NULL;
}

int wudf__signature_output_type(const struct wudf__signature* signature, char* out,
                                size_t size) {
  struct wudf__text text;
  wudf__text_init(&text, out, size);
  const char* result = signature->text + signature->result.start;
  if (signature->kind != WUDF__KIND_TABLE) {
    wudf__put(&text, result, signature->result.length);
  } else if (signature->setof) {
    wudf__putf(&text, WUDF__TABLE_CHUNK_HEAD "%s: %.*s>", signature->name,
               (int)signature->result.length, result);
  } else {
    /* "table<F>": the fields F follow "table<" and end before '>'. */
    wudf__puts(&text, WUDF__TABLE_CHUNK_HEAD);
    wudf__put(&text, result + 6, (size_t)signature->result.length - 6);
  }
  return text.full ? -1 : (int)text.used;
}

/* ---------------------------------------------------------------- decoder */

/* The end of the item (a type, "NAME: T", a number or a word) that starts
 * at text[at] inside a "<...>" list: the index of the ',' or unmatched '>'
 * or ')' that ends it, or `end`. Brackets nest; quoted zones are skipped.
 * Returns (size_t)-1 for an unterminated quote. Iterative, so any nesting
 * costs no stack. */
static size_t wudf__item_end(const char* text, size_t end, size_t at) {
  size_t depth = 0;
  for (; at < end; at++) {
    char c = text[at];
    if (c == '"' || c == '\'') {
      const char* close = memchr(text + at + 1, c, end - at - 1);
      if (close == NULL) return (size_t)-1;
      at = (size_t)(close - text);
    } else if (c == '<' || c == '(') {
      depth++;
    } else if (c == '>' || c == ')') {
      if (depth == 0) return at;
      depth--;
    } else if (c == ',' && depth == 0) {
      return at;
    }
  }
  return at;
}

/* Consumes `literal` at text[*at] if it is there. */
static int wudf__take(const char* text, size_t length, size_t* at, const char* literal) {
  size_t n = strlen(literal);
  if (length - *at < n || memcmp(text + *at, literal, n) != 0) return 0;
  *at += n;
  return 1;
}

/* Reads a canonically written integer (no '+', no leading zeros, no "-0")
 * in [min, max] at text[*at]. Returns 0 or -1. */
static int wudf__take_int(const char* text, size_t length, size_t* at, int64_t min,
                          int64_t max, int64_t* value) {
  size_t i = *at;
  int negative = i < length && text[i] == '-';
  if (negative) i++;
  if (i >= length || !wudf__is_digit(text[i])) return -1;
  if (text[i] == '0' && (negative || (i + 1 < length && wudf__is_digit(text[i + 1])))) {
    return -1;
  }
  int64_t magnitude = 0;
  for (; i < length && wudf__is_digit(text[i]); i++) {
    if (magnitude > 100000000000LL) return -1;
    magnitude = magnitude * 10 + (text[i] - '0');
  }
  int64_t number = negative ? -magnitude : magnitude;
  if (number < min || number > max) return -1;
  *value = number;
  *at = i;
  return 0;
}

/* Consumes a type item (it must start with a letter) at text[*at]. */
static int wudf__take_item(const char* text, size_t length, size_t* at) {
  if (*at >= length || !wudf__is_letter(text[*at])) return -1;
  size_t end = wudf__item_end(text, length, *at);
  if (end == (size_t)-1 || text[end - 1] == ' ') return -1;
  *at = end;
  return 0;
}

/* Reads a canonical time zone ("..." or, when it holds '"', '...'). */
static int wudf__take_zone(const char* text, size_t length, size_t* at, struct wudf__head* head) {
  if (*at >= length) return -1;
  char quote = text[*at];
  if (quote != '"' && quote != '\'') return -1;
  const char* zone = text + *at + 1;
  const char* close = memchr(zone, quote, length - *at - 1);
  if (close == NULL) return -1;
  size_t zone_length = (size_t)(close - zone);
  if (zone_length == 0 || zone_length > WUDF__MAX_ZONE) return -1;
  for (size_t i = 0; i < zone_length; i++) {
    if (!wudf__is_zone_byte(zone[i])) return -1;
  }
  if (quote == '\'' && memchr(zone, '"', zone_length) == NULL) return -1;
  head->zone = zone;
  head->zone_length = (uint8_t)zone_length;
  *at += zone_length + 2;
  return 0;
}

/* Reads the canonical parameters "(...)" of `head`'s class at text[*at]. */
static int wudf__take_parameters(const char* text, size_t length, size_t* at,
                                 struct wudf__head* head) {
  uint8_t type_class = head->entry->type_class;
  int64_t number;
  size_t word_length;
  if (!wudf__take(text, length, at, "(")) return -1;
  switch (type_class) {
    case WUDF__CLASS_TIME32:
    case WUDF__CLASS_TIME64:
    case WUDF__CLASS_DURATION:
    case WUDF__CLASS_TIMESTAMP:
      word_length = wudf__identifier_length(text + *at, length - *at);
      head->unit = wudf__unit_letter(text + *at, word_length);
      if (head->unit == 0 || strchr(wudf__units_of(type_class), head->unit) == NULL) return -1;
      *at += word_length;
      if (type_class == WUDF__CLASS_TIMESTAMP && wudf__take(text, length, at, ", ") &&
          wudf__take_zone(text, length, at, head) != 0) {
        return -1;
      }
      break;
    case WUDF__CLASS_INTERVAL:
      word_length = wudf__identifier_length(text + *at, length - *at);
      head->unit = wudf__interval_letter(text + *at, word_length);
      if (head->unit == 0) return -1;
      *at += word_length;
      break;
    case WUDF__CLASS_DECIMAL:
      if (wudf__take_int(text, length, at, 1,
                         wudf__decimal_max_precision(head->entry->decimal_bits),
                         &head->number) != 0 ||
          !wudf__take(text, length, at, ", ") ||
          wudf__take_int(text, length, at, -WUDF__MAX_SCALE, WUDF__MAX_SCALE, &number) != 0) {
        return -1;
      }
      head->scale = (int32_t)number;
      break;
    case WUDF__CLASS_FIXED_BINARY:
      if (wudf__take_int(text, length, at, 1, WUDF__MAX_FIXED_SIZE, &head->number) != 0) {
        return -1;
      }
      break;
    default:
      return -1;
  }
  return wudf__take(text, length, at, ")") ? 0 : -1;
}

/* Reads "<NAME: T, ...>" at text[*at], counting the fields. */
/* Consumes the "<NAME: T, ...>" fields of a struct or union at text[*at],
 * counting them; `ids` (a union's, WUDF__MAX_FIELDS entries) receives their
 * type ids, written " = ID" only when not the position; NULL for a struct,
 * whose fields have no ids. Returns 0 or -1. */
static int wudf__take_fields(const char* text, size_t length, size_t* at, uint32_t* count,
                             int8_t* ids) {
  *count = 0;
  if (!wudf__take(text, length, at, "<")) return -1;
  if (wudf__take(text, length, at, ">")) return 0;
  uint64_t used[2] = {0, 0};
  for (;;) {
    if (*count == WUDF__MAX_FIELDS) return -1;
    size_t end = wudf__item_end(text, length, *at);
    struct wudf__field_item item;
    if (end == (size_t)-1 || end >= length || wudf__split_field(text, *at, end, &item) != 0 ||
        item.name_length > WUDF__MAX_NAME) {
      return -1;
    }
    size_t type_at = item.type_at;
    if (wudf__take_item(text, item.type_end, &type_at) != 0 || type_at != item.type_end) {
      return -1;
    }
    int64_t id = item.id < 0 ? (int64_t)*count : item.id;
    if (item.id >= 0 && (ids == NULL || item.id == (int64_t)*count || item.id > 127)) return -1;
    if (ids != NULL) {
      if (used[id / 64] & (UINT64_C(1) << (id % 64))) return -1;
      used[id / 64] |= UINT64_C(1) << (id % 64);
      ids[*count] = (int8_t)id;
    }
    *at = end;
    ++*count;
    if (wudf__take(text, length, at, ">")) return 0;
    if (!wudf__take(text, length, at, ", ")) return -1;
  }
}

/* Decodes the node at `text` into `node` and tells its class. Checks the
 * node's own spelling strictly; its children are checked when decoded. */
static int wudf__decode_node(const char* text, size_t length, struct wudf__type_node* node,
                             uint8_t* type_class) {
  memset(node, 0, sizeof(*node));
  node->text = text;
  node->length = length;
  if (text == NULL) return -1;
  size_t at = wudf__identifier_length(text, length);
  struct wudf__head head;
  memset(&head, 0, sizeof(head));
  head.entry = wudf__lookup(text, at, 0);
  if (head.entry == NULL) return -1;
  *type_class = head.entry->type_class;
  int64_t size;
  size_t name_length;
  int8_t type_ids[WUDF__MAX_FIELDS];
  switch (head.entry->type_class) {
    case WUDF__CLASS_PLAIN:
      break;
    case WUDF__CLASS_LIST:
      if (!wudf__take(text, length, &at, "<") || wudf__take_item(text, length, &at) != 0 ||
          !wudf__take(text, length, &at, ">")) {
        return -1;
      }
      node->child_count = 1;
      break;
    case WUDF__CLASS_FIXED_LIST:
      if (!wudf__take(text, length, &at, "<") || wudf__take_item(text, length, &at) != 0 ||
          !wudf__take(text, length, &at, ", ") ||
          wudf__take_int(text, length, &at, 0, WUDF__MAX_FIXED_SIZE, &size) != 0 ||
          !wudf__take(text, length, &at, ">")) {
        return -1;
      }
      head.number = size;
      node->child_count = 1;
      break;
    case WUDF__CLASS_STRUCT:
    case WUDF__CLASS_UNION:
      if (wudf__take_fields(text, length, &at, &node->child_count,
                            head.entry->type_class == WUDF__CLASS_UNION ? type_ids : NULL) != 0) {
        return -1;
      }
      if (head.entry->type_class == WUDF__CLASS_UNION && node->child_count == 0) return -1;
      head.child_count = node->child_count;
      head.type_ids = type_ids;
      break;
    case WUDF__CLASS_MAP:
      if (!wudf__take(text, length, &at, "<") || wudf__take_item(text, length, &at) != 0 ||
          !wudf__take(text, length, &at, ", ") || wudf__take_item(text, length, &at) != 0 ||
          !wudf__take(text, length, &at, ">")) {
        return -1;
      }
      node->child_count = 1;
      break;
    case WUDF__CLASS_DICTIONARY:
    case WUDF__CLASS_RUN_END:
      if (!wudf__take(text, length, &at, "<")) return -1;
      name_length = wudf__identifier_length(text + at, length - at);
      head.index = wudf__lookup(text + at, name_length, 0);
      if (head.index == NULL ||
          (head.index->roles & (head.entry->type_class == WUDF__CLASS_DICTIONARY
                                    ? WUDF__ROLE_INDEX
                                    : WUDF__ROLE_RUN_ENDS)) == 0) {
        return -1;
      }
      at += name_length;
      if (!wudf__take(text, length, &at, ", ") || wudf__take_item(text, length, &at) != 0) {
        return -1;
      }
      if (head.entry->type_class == WUDF__CLASS_DICTIONARY) {
        node->dictionary = 1;
        node->ordered = (uint8_t)wudf__take(text, length, &at, ", ordered");
      } else {
        node->child_count = 2;
      }
      if (!wudf__take(text, length, &at, ">")) return -1;
      break;
    default:
      if (wudf__take_parameters(text, length, &at, &head) != 0) return -1;
      break;
  }
  if (at != length) return -1;
  return wudf__head_format(&head, node->format, sizeof(node->format));
}

int wudf__type_decode(const char* text, size_t length, struct wudf__type_node* node) {
  uint8_t type_class;
  return wudf__decode_node(text, length, node, &type_class);
}

/* Finds item `index` of the "<...>" list whose first item starts at
 * text[at]: its start and end. Returns 0 or -1. */
static int wudf__nth_item(const char* text, size_t length, size_t at, uint32_t index,
                          size_t* start, size_t* end) {
  for (uint32_t i = 0;; i++) {
    size_t item_end = wudf__item_end(text, length, at);
    if (item_end == (size_t)-1 || item_end >= length) return -1;
    if (i == index) {
      *start = at;
      *end = item_end;
      return 0;
    }
    if (text[item_end] != ',') return -1;
    at = item_end + 2;
  }
}

/* The class of a decoded node and where its "<...>" items start. */
static uint8_t wudf__node_class(const struct wudf__type_node* node, size_t* items_at) {
  size_t name_length = wudf__identifier_length(node->text, node->length);
  const struct wudf__type_entry* entry = wudf__lookup(node->text, name_length, 0);
  *items_at = name_length + 1;
  return entry != NULL ? entry->type_class : 0;
}

/* Sets an optional output of wudf__type_child. */
static void wudf__set_piece(const char** piece, size_t* piece_length, const char* value,
                            size_t value_length) {
  if (piece != NULL) *piece = value;
  if (piece_length != NULL) *piece_length = value_length;
}

int wudf__type_child(const struct wudf__type_node* node, uint32_t index, const char** name,
                     size_t* name_length, const char** type, size_t* type_length,
                     char* scratch) {
  if (node == NULL || node->text == NULL || index >= node->child_count) return -1;
  const char* text = node->text;
  size_t items_at, start, end;
  uint8_t type_class = wudf__node_class(node, &items_at);
  switch (type_class) {
    case WUDF__CLASS_STRUCT:
    case WUDF__CLASS_UNION: {
      struct wudf__field_item item;
      if (wudf__nth_item(text, node->length, items_at, index, &start, &end) != 0 ||
          wudf__split_field(text, start, end, &item) != 0) {
        return -1;
      }
      wudf__set_piece(name, name_length, item.name, item.name_length);
      wudf__set_piece(type, type_length, text + item.type_at, item.type_end - item.type_at);
      return 0;
    }
    case WUDF__CLASS_LIST:
    case WUDF__CLASS_FIXED_LIST:
      if (wudf__nth_item(text, node->length, items_at, 0, &start, &end) != 0) return -1;
      wudf__set_piece(name, name_length, "item", 4);
      wudf__set_piece(type, type_length, text + start, end - start);
      return 0;
    case WUDF__CLASS_RUN_END:
      if (wudf__nth_item(text, node->length, items_at, index, &start, &end) != 0) return -1;
      wudf__set_piece(name, name_length, index == 0 ? "run_ends" : "values", index == 0 ? 8 : 6);
      wudf__set_piece(type, type_length, text + start, end - start);
      return 0;
    case WUDF__CLASS_MAP: {
      size_t value_start, value_end;
      if (scratch == NULL ||
          wudf__nth_item(text, node->length, items_at, 0, &start, &end) != 0 ||
          wudf__nth_item(text, node->length, items_at, 1, &value_start, &value_end) != 0) {
        return -1;
      }
      struct wudf__text out;
      wudf__text_init(&out, scratch, WUDF__MAX_SIGNATURE);
      wudf__puts(&out, "struct<key: ");
      wudf__put(&out, text + start, end - start);
      wudf__puts(&out, ", value: ");
      wudf__put(&out, text + value_start, value_end - value_start);
      wudf__puts(&out, ">");
      if (out.full) return -1;
      wudf__set_piece(name, name_length, "entries", 7);
      wudf__set_piece(type, type_length, scratch, out.used);
      return 0;
    }
    default:
      return -1;
  }
}

int wudf__type_dictionary(const struct wudf__type_node* node, const char** type,
                          size_t* type_length) {
  if (node == NULL || node->text == NULL || !node->dictionary) return -1;
  size_t items_at, start, end;
  if (wudf__node_class(node, &items_at) != WUDF__CLASS_DICTIONARY ||
      wudf__nth_item(node->text, node->length, items_at, 1, &start, &end) != 0) {
    return -1;
  }
  wudf__set_piece(type, type_length, node->text + start, end - start);
  return 0;
}

/* -------------------------------------------------------------- describer */

/* Reads an Arrow format string into `head` when it is the format of a node
 * of the type language, spelled exactly as wudf__head_format spells it
 * (so describing and decoding are inverses). Returns 0 or -1. */
static int wudf__head_of_format(const char* format, struct wudf__head* head) {
  memset(head, 0, sizeof(*head));
  size_t length = strlen(format);
  head->entry = wudf__lookup_format(format);
  if (head->entry != NULL) return 0;
  size_t at;
  int64_t number;
  if (length == 3 && format[0] == 't' && strchr("tDi", format[1]) != NULL) {
    head->unit = format[2];
    if (format[1] == 'i') {
      if (format[2] != 'M' && format[2] != 'D' && format[2] != 'n') return -1;
      head->entry = wudf__lookup("interval", 8, 0);
    } else if (format[1] == 'D') {
      if (strchr("smun", format[2]) == NULL || format[2] == '\0') return -1;
      head->entry = wudf__lookup("duration", 8, 0);
    } else if (format[2] == 's' || format[2] == 'm') {
      head->entry = wudf__lookup("time32", 6, 0);
    } else if (format[2] == 'u' || format[2] == 'n') {
      head->entry = wudf__lookup("time64", 6, 0);
    } else {
      return -1;
    }
    return 0;
  }
  if (length >= 4 && format[0] == 't' && format[1] == 's' && format[3] == ':') {
    if (format[2] == '\0' || strchr("smun", format[2]) == NULL) return -1;
    size_t zone_length = length - 4;
    const char* zone = format + 4;
    if (zone_length > WUDF__MAX_ZONE) return -1;
    for (size_t i = 0; i < zone_length; i++) {
      if (!wudf__is_zone_byte(zone[i])) return -1;
    }
    /* A zone holding both quotes cannot be written. */
    if (memchr(zone, '"', zone_length) != NULL && memchr(zone, '\'', zone_length) != NULL) {
      return -1;
    }
    head->entry = wudf__lookup("timestamp", 9, 0);
    head->unit = format[2];
    head->zone = zone;
    head->zone_length = (uint8_t)zone_length;
    return 0;
  }
  if (length >= 2 && format[0] == 'd' && format[1] == ':') {
    at = 2;
    int64_t precision, scale, bits = 128;
    if (wudf__take_int(format, length, &at, 1, 76, &precision) != 0 ||
        !wudf__take(format, length, &at, ",") ||
        wudf__take_int(format, length, &at, -WUDF__MAX_SCALE, WUDF__MAX_SCALE, &scale) != 0) {
      return -1;
    }
    if (wudf__take(format, length, &at, ",") &&
        (wudf__take_int(format, length, &at, 32, 256, &bits) != 0 || bits == 128)) {
      return -1;
    }
    if (at != length) return -1;
    const char* name = bits == 32 ? "decimal32" : bits == 64 ? "decimal64"
                     : bits == 128 ? "decimal128" : bits == 256 ? "decimal256" : NULL;
    if (name == NULL) return -1;
    head->entry = wudf__lookup(name, strlen(name), 0);
    if (precision > wudf__decimal_max_precision(head->entry->decimal_bits)) return -1;
    head->number = precision;
    head->scale = (int32_t)scale;
    return 0;
  }
  if (length >= 2 && format[0] == 'w' && format[1] == ':') {
    at = 2;
    if (wudf__take_int(format, length, &at, 1, WUDF__MAX_FIXED_SIZE, &number) != 0 ||
        at != length) {
      return -1;
    }
    head->entry = wudf__lookup("fixed_size_binary", 17, 0);
    head->number = number;
    return 0;
  }
  if (length >= 3 && memcmp(format, "+w:", 3) == 0) {
    at = 3;
    if (wudf__take_int(format, length, &at, 0, WUDF__MAX_FIXED_SIZE, &number) != 0 ||
        at != length) {
      return -1;
    }
    head->entry = wudf__lookup("fixed_size_list", 15, 0);
    head->number = number;
    return 0;
  }
  if (length >= 4 && (memcmp(format, "+us:", 4) == 0 || memcmp(format, "+ud:", 4) == 0)) {
    /* Distinct ids 0..127; those that are not their position are written
     * after their fields (wudf__describe). */
    at = 4;
    uint32_t count = 0;
    uint64_t used[2] = {0, 0};
    do {
      if (count == WUDF__MAX_FIELDS || wudf__take_int(format, length, &at, 0, 127, &number) != 0 ||
          (used[number / 64] & (UINT64_C(1) << (number % 64))) != 0) {
        return -1;
      }
      used[number / 64] |= UINT64_C(1) << (number % 64);
      count++;
    } while (wudf__take(format, length, &at, ","));
    if (at != length) return -1;
    head->entry = wudf__lookup(format[2] == 's' ? "sparse_union" : "dense_union",
                               format[2] == 's' ? 12 : 11, 0);
    head->child_count = count;
    return 0;
  }
  return -1;
}

/* Child `index` of `schema`, or NULL when it is missing. */
static const struct ArrowSchema* wudf__schema_child(const struct ArrowSchema* schema,
                                                    int64_t index) {
  if (schema->children == NULL || index < 0 || index >= schema->n_children) return NULL;
  return schema->children[index];
}

/* Whether `schema` is a plain (childless, dictionary-less) node of an
 * integer type with `role`; returns its entry or NULL. */
static const struct wudf__type_entry* wudf__integer_schema(const struct ArrowSchema* schema,
                                                          uint8_t role) {
  if (schema == NULL || schema->format == NULL || schema->dictionary != NULL ||
      schema->n_children != 0) {
    return NULL;
  }
  const struct wudf__type_entry* entry = wudf__lookup_format(schema->format);
  return entry != NULL && (entry->roles & role) != 0 ? entry : NULL;
}

/* Writes "unsupported type (format 'F'...)" for `schema`, with `note`. */
static int wudf__put_unsupported(struct wudf__text* out, const struct ArrowSchema* schema,
                                 const char* note) {
  wudf__puts(out, "unsupported type (format '");
  wudf__put_sanitized(out, schema->format, WUDF__MAX_NAME);
  wudf__puts(out, "'");
  if (schema->dictionary != NULL) wudf__puts(out, " with a dictionary");
  if (note != NULL) wudf__puts(out, note);
  wudf__puts(out, ")");
  return 0;
}

/* Writes "unsupported type (format 'F' with N children)", or "with a
 * missing child" when `missing`. */
WUDF__NOINLINE static int wudf__put_unsupported_children(struct wudf__text* out,
                                                         const struct ArrowSchema* schema,
                                                         int missing) {
  char note[48];
  snprintf(note, sizeof(note), missing ? " with a missing child" : " with %lld children",
           (long long)schema->n_children);
  return wudf__put_unsupported(out, schema, note);
}

/* Writes the name of a struct or union field for a description: the
 * schema's name, sanitized. */
static void wudf__put_field_name(struct wudf__text* out, const struct ArrowSchema* child) {
  const char* name = child->name != NULL ? child->name : "";
  size_t length = strlen(name);
  if (length > 0 && length <= WUDF__MAX_NAME && wudf__identifier_length(name, length) == length) {
    wudf__puts(out, name);
    return;
  }
  const char* quote = strchr(name, '"') != NULL ? "'" : "\"";
  wudf__puts(out, quote);
  wudf__put_sanitized(out, name, WUDF__MAX_NAME);
  wudf__puts(out, quote);
}

/* Type id `index` of the union format `format` ("+us:5,7"), or -1. */
static int wudf__union_type_id(const char* format, int64_t index) {
  const char* at = format + 4;
  for (int64_t i = 0; i < index && at != NULL; i++) {
    at = strchr(at, ',');
    if (at != NULL) at++;
  }
  if (at == NULL || !wudf__is_digit(*at)) return -1;
  int id = 0;
  for (; wudf__is_digit(*at) && id < 1000; at++) id = id * 10 + (*at - '0');
  return id;
}

/* Writes the canonical text of the schema tree at `schema` (nesting `depth`
 * counted from 1). Returns 1 when the whole tree is in the type language,
 * 0 when something was written as unsupported (or cut at the depth limit or
 * the end of the buffer). Stops early once the buffer is full. */
static int wudf__describe(struct wudf__text* out, const struct ArrowSchema* schema,
                          unsigned depth) {
  if (out->full) return 0;
  if (schema == NULL || schema->format == NULL) {
    wudf__puts(out, "unsupported type (no format)");
    return 0;
  }
  if (depth > WUDF__MAX_DEPTH) {
    wudf__puts(out, "...");
    return 0;
  }
  if (schema->dictionary != NULL) {
    const struct wudf__type_entry* index = wudf__lookup_format(schema->format);
    if (index == NULL || (index->roles & WUDF__ROLE_INDEX) == 0 || schema->n_children != 0) {
      return wudf__put_unsupported(out, schema, NULL);
    }
    wudf__puts(out, "dictionary<");
    wudf__puts(out, index->name);
    wudf__puts(out, ", ");
    int supported = wudf__describe(out, schema->dictionary, depth + 1);
    if (schema->flags & ARROW_FLAG_DICTIONARY_ORDERED) wudf__puts(out, ", ordered");
    wudf__puts(out, ">");
    return supported;
  }
  struct wudf__head head;
  if (wudf__head_of_format(schema->format, &head) != 0) {
    return wudf__put_unsupported(out, schema, NULL);
  }
  uint8_t type_class = head.entry->type_class;
  int64_t expected_children;
  switch (type_class) {
    case WUDF__CLASS_LIST:
    case WUDF__CLASS_FIXED_LIST:
    case WUDF__CLASS_MAP: expected_children = 1; break;
    case WUDF__CLASS_RUN_END: expected_children = 2; break;
    case WUDF__CLASS_UNION: expected_children = head.child_count; break;
    case WUDF__CLASS_STRUCT: expected_children = schema->n_children; break;
    default: expected_children = 0; break;
  }
  int missing = 0;
  for (int64_t i = 0; i < schema->n_children && !missing; i++) {
    missing = wudf__schema_child(schema, i) == NULL;
  }
  if (schema->n_children != expected_children || schema->n_children < 0 || missing) {
    return wudf__put_unsupported_children(out, schema, missing);
  }
  const struct ArrowSchema* first = wudf__schema_child(schema, 0);
  if (type_class == WUDF__CLASS_MAP &&
      (first->format == NULL || strcmp(first->format, "+s") != 0 ||
       first->dictionary != NULL || first->n_children != 2 ||
       wudf__schema_child(first, 0) == NULL || wudf__schema_child(first, 1) == NULL)) {
    return wudf__put_unsupported(out, schema, " whose entries are not a struct of 2 fields");
  }
  if (type_class == WUDF__CLASS_RUN_END &&
      wudf__integer_schema(first, WUDF__ROLE_RUN_ENDS) == NULL) {
    return wudf__put_unsupported(out, schema, " whose run ends are not int16, int32 or int64");
  }

  wudf__put_head(out, &head);
  int supported = 1;
  switch (type_class) {
    case WUDF__CLASS_LIST:
    case WUDF__CLASS_FIXED_LIST:
      wudf__puts(out, "<");
      supported = wudf__describe(out, first, depth + 1);
      if (type_class == WUDF__CLASS_FIXED_LIST) {
        wudf__putf(out, ", %lld", (long long)head.number);
      }
      wudf__puts(out, ">");
      break;
    case WUDF__CLASS_STRUCT:
    case WUDF__CLASS_UNION:
      wudf__puts(out, "<");
      for (int64_t i = 0; i < schema->n_children && !out->full; i++) {
        if (i > 0) wudf__puts(out, ", ");
        wudf__put_field_name(out, schema->children[i]);
        wudf__puts(out, ": ");
        supported &= wudf__describe(out, schema->children[i], depth + 1);
        if (type_class == WUDF__CLASS_UNION) {
          int id = wudf__union_type_id(schema->format, i);
          if (id != (int)i) wudf__putf(out, " = %d", id);
        }
      }
      wudf__puts(out, ">");
      break;
    case WUDF__CLASS_MAP:
      wudf__puts(out, "<");
      supported = wudf__describe(out, first->children[0], depth + 2);
      wudf__puts(out, ", ");
      supported &= wudf__describe(out, first->children[1], depth + 2);
      wudf__puts(out, ">");
      break;
    case WUDF__CLASS_RUN_END:
      wudf__puts(out, "<");
      wudf__puts(out, wudf__integer_schema(first, WUDF__ROLE_RUN_ENDS)->name);
      wudf__puts(out, ", ");
      supported = wudf__describe(out, schema->children[1], depth + 1);
      wudf__puts(out, ">");
      break;
    default:
      break;
  }
  return supported && !out->full;
}

void wudf__type_describe(const struct ArrowSchema* schema, char* out, size_t size) {
  struct wudf__text text;
  wudf__text_init(&text, out, size);
  wudf__describe(&text, schema, 1);
}

/* ----------------------------------------------------------------- matcher */

/* The longest path: a segment per level, each "." and a name of at most
 * WUDF__MAX_NAME bytes plus "...". */
#define WUDF__MAX_PATH (WUDF__MAX_DEPTH * (WUDF__MAX_NAME + 4) + 1)

/* State shared by all levels of one wudf__type_match, so that its frames
 * stay small. */
struct wudf__matcher {
  struct wudf__type_node node; /* the node being compared; deeper levels reuse it */
  struct wudf__text message;
  struct wudf__text path;      /* ".a.item" */
  unsigned depth;              /* nesting of the node being compared; a
                                  description of the got side starts there,
                                  so the two recursions together stay within
                                  WUDF__MAX_DEPTH frames */
  char path_data[WUDF__MAX_PATH];
};

/* Starts the message: "at PATH: " (nothing at the top). */
static void wudf__put_where(struct wudf__matcher* m) {
  if (m->path.used > 0) {
    wudf__puts(&m->message, "at ");
    wudf__puts(&m->message, m->path.data);
    wudf__puts(&m->message, ": ");
  }
}

/* Writes " (format 'F'[ with a dictionary][, N children])". */
static void wudf__put_format_note(struct wudf__text* out, const char* format, int dictionary,
                                  int with_count, long long count) {
  wudf__puts(out, " (format '");
  wudf__put_sanitized(out, format, WUDF__MAX_NAME);
  wudf__puts(out, "'");
  if (dictionary) wudf__puts(out, " with a dictionary");
  if (with_count) wudf__putf(out, ", %lld %s", count, count == 1 ? "child" : "children");
  wudf__puts(out, ")");
}

/* Writes the "got" side of a mismatch: the description of `schema` and,
 * when it is in the type language, its format. */
static void wudf__put_got(struct wudf__matcher* m, const struct ArrowSchema* schema,
                          int with_count) {
  wudf__puts(&m->message, ", got ");
  if (wudf__describe(&m->message, schema, m->depth)) {
    wudf__put_format_note(&m->message, schema->format, schema->dictionary != NULL, with_count,
                          (long long)schema->n_children);
  }
}

/* Reports that `schema` is not the node just decoded into m->node (with
 * child counts when `with_count`). Returns -1. */
static int wudf__mismatch(struct wudf__matcher* m, const struct ArrowSchema* schema,
                          int with_count) {
  wudf__put_where(m);
  wudf__puts(&m->message, "expected ");
  wudf__put(&m->message, m->node.text, m->node.length);
  wudf__put_format_note(&m->message, m->node.format, m->node.dictionary, with_count,
                        (long long)m->node.child_count);
  wudf__put_got(m, schema, with_count);
  return -1;
}

/* Reports a problem given as a formatted message. Returns -1. */
__attribute__((format(printf, 2, 3)))
static int wudf__match_fail(struct wudf__matcher* m, const char* format, ...) {
  wudf__put_where(m);
  va_list args;
  va_start(args, format);
  wudf__vputf(&m->message, format, args);
  va_end(args);
  return -1;
}

static int wudf__match_node(struct wudf__matcher* m, const char* text, size_t length,
                            const struct ArrowSchema* schema, unsigned depth);

/* Matches child `index` of `parent` against the type at `text`, with the
 * child's path segment pushed meanwhile. */
static int wudf__match_child(struct wudf__matcher* m, const char* text, size_t length,
                             const struct ArrowSchema* parent, int64_t index, unsigned depth) {
  const struct ArrowSchema* child = wudf__schema_child(parent, index);
  if (child == NULL) return wudf__match_fail(m, "child %lld is missing", (long long)index);
  size_t saved = m->path.used;
  if (child->name != NULL && child->name[0] != '\0') {
    wudf__puts(&m->path, ".");
    wudf__put_sanitized(&m->path, child->name, WUDF__MAX_NAME);
  } else {
    wudf__putf(&m->path, ".children[%lld]", (long long)index);
  }
  int status = wudf__match_node(m, text, length, child, depth);
  m->path.used = saved;
  m->path.data[saved] = '\0';
  return status;
}

/* Matches a map's entries (child 0 of `map`, a struct of key and value)
 * against the key and value types of the map node at `text`. */
static int wudf__match_entries(struct wudf__matcher* m, const char* text, size_t length,
                               size_t items_at, const struct ArrowSchema* map, unsigned depth) {
  size_t key_start, key_end, value_start, value_end;
  if (wudf__nth_item(text, length, items_at, 0, &key_start, &key_end) != 0 ||
      wudf__nth_item(text, length, items_at, 1, &value_start, &value_end) != 0) {
    return wudf__match_fail(m, "the declared type is not canonical");
  }
  const struct ArrowSchema* entries = wudf__schema_child(map, 0);
  if (entries == NULL) return wudf__match_fail(m, "child 0 is missing");
  size_t saved = m->path.used;
  if (entries->name != NULL && entries->name[0] != '\0') {
    wudf__puts(&m->path, ".");
    wudf__put_sanitized(&m->path, entries->name, WUDF__MAX_NAME);
  } else {
    wudf__puts(&m->path, ".children[0]");
  }
  if (entries->format == NULL || strcmp(entries->format, "+s") != 0 ||
      entries->dictionary != NULL || entries->n_children != 2) {
    wudf__put_where(m);
    wudf__puts(&m->message, "expected struct<key: ");
    wudf__put(&m->message, text + key_start, key_end - key_start);
    wudf__puts(&m->message, ", value: ");
    wudf__put(&m->message, text + value_start, value_end - value_start);
    wudf__puts(&m->message, ">");
    wudf__put_format_note(&m->message, "+s", 0, 1, 2);
    wudf__put_got(m, entries, 1);
    return -1;
  }
  int status = wudf__match_child(m, text + key_start, key_end - key_start, entries, 0,
                                 depth + 1);
  if (status == 0) {
    status = wudf__match_child(m, text + value_start, value_end - value_start, entries, 1,
                               depth + 1);
  }
  m->path.used = saved;
  m->path.data[saved] = '\0';
  return status;
}

/* Matches the schema tree `schema` against the canonical type `text` at
 * nesting `depth`. The frame holds only scalars: the decoded node lives in
 * the matcher and is overwritten by deeper levels, so everything needed
 * after a recursive call is copied out first. */
static int wudf__match_node(struct wudf__matcher* m, const char* text, size_t length,
                            const struct ArrowSchema* schema, unsigned depth) {
  uint8_t type_class;
  m->depth = depth;
  if (depth > WUDF__MAX_DEPTH) {
    return wudf__match_fail(m, "the declared type nests deeper than %d levels",
                            WUDF__MAX_DEPTH);
  }
  if (wudf__decode_node(text, length, &m->node, &type_class) != 0) {
    return wudf__match_fail(m, "the declared type '%.*s' is not canonical",
                            (int)(length > 200 ? 200 : length), text != NULL ? text : "");
  }
  if (schema->format == NULL) return wudf__mismatch(m, schema, 0);
  if (m->node.dictionary != (schema->dictionary != NULL) ||
      strcmp(m->node.format, schema->format) != 0) {
    return wudf__mismatch(m, schema, 0);
  }
  uint32_t child_count = m->node.child_count;
  if (schema->n_children != (int64_t)child_count) return wudf__mismatch(m, schema, 1);

  size_t items_at = wudf__identifier_length(text, length) + 1;
  size_t start, end;
  switch (type_class) {
    case WUDF__CLASS_STRUCT:
    case WUDF__CLASS_UNION:
      for (uint32_t i = 0; i < child_count; i++) {
        struct wudf__field_item item;
        if (wudf__nth_item(text, length, items_at, 0, &start, &end) != 0 ||
            wudf__split_field(text, start, end, &item) != 0) {
          return wudf__match_fail(m, "the declared type is not canonical");
        }
        const struct ArrowSchema* child = wudf__schema_child(schema, i);
        if (child == NULL) return wudf__match_fail(m, "child %u is missing", (unsigned)i);
        const char* got = child->name != NULL ? child->name : "";
        if (strlen(got) != item.name_length || memcmp(got, item.name, item.name_length) != 0) {
          wudf__match_fail(m, "expected field %u to be named '%.*s', got '", (unsigned)i + 1,
                           (int)item.name_length, item.name);
          wudf__put_sanitized(&m->message, got, WUDF__MAX_NAME);
          wudf__puts(&m->message, "'");
          return -1;
        }
        if (wudf__match_child(m, text + item.type_at, item.type_end - item.type_at, schema, i,
                              depth + 1) != 0) {
          return -1;
        }
        items_at = end + 2;
      }
      return 0;
    case WUDF__CLASS_LIST:
    case WUDF__CLASS_FIXED_LIST:
    case WUDF__CLASS_RUN_END:
      for (uint32_t i = 0; i < child_count; i++) {
        if (wudf__nth_item(text, length, items_at, i, &start, &end) != 0) {
          return wudf__match_fail(m, "the declared type is not canonical");
        }
        if (wudf__match_child(m, text + start, end - start, schema, i, depth + 1) != 0) {
          return -1;
        }
      }
      return 0;
    case WUDF__CLASS_MAP:
      return wudf__match_entries(m, text, length, items_at, schema, depth + 1);
    case WUDF__CLASS_DICTIONARY: {
      if (wudf__nth_item(text, length, items_at, 1, &start, &end) != 0) {
        return wudf__match_fail(m, "the declared type is not canonical");
      }
      size_t saved = m->path.used;
      wudf__puts(&m->path, ".dictionary");
      int status = wudf__match_node(m, text + start, end - start, schema->dictionary, depth + 1);
      m->path.used = saved;
      m->path.data[saved] = '\0';
      return status;
    }
    default:
      return 0;
  }
}

int wudf__type_match(const char* text, size_t length, const struct ArrowSchema* schema,
                     char* message, size_t message_size) {
  struct wudf__matcher matcher;
  wudf__text_init(&matcher.message, message, message_size);
  wudf__text_init(&matcher.path, matcher.path_data, sizeof(matcher.path_data));
  matcher.depth = 1;
  if (schema == NULL) return wudf__match_fail(&matcher, "no schema");
  return wudf__match_node(&matcher, text, length, schema, 1);
}
