/*
 * signature.c -- parsing of function signatures and metadata records (see
 * signature.h and docs/abi.md, section 6). A small recursive-descent parser
 * over a tokenizer of identifiers and punctuation; shared by host and guest.
 */
#include "signature.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct wudf__type_entry {
  const char* name;
  const char* alias;
  const char* format;
  unsigned bit_width;
};

static const struct wudf__type_entry wudf__types[WUDF__TYPE_COUNT] = {
    [WUDF__TYPE_BOOL] = {"bool", "boolean", "b", 1},
    [WUDF__TYPE_INT8] = {"int8", NULL, "c", 8},
    [WUDF__TYPE_INT16] = {"int16", NULL, "s", 16},
    [WUDF__TYPE_INT32] = {"int32", NULL, "i", 32},
    [WUDF__TYPE_INT64] = {"int64", NULL, "l", 64},
    [WUDF__TYPE_UINT8] = {"uint8", NULL, "C", 8},
    [WUDF__TYPE_UINT16] = {"uint16", NULL, "S", 16},
    [WUDF__TYPE_UINT32] = {"uint32", NULL, "I", 32},
    [WUDF__TYPE_UINT64] = {"uint64", NULL, "L", 64},
    [WUDF__TYPE_FLOAT32] = {"float32", "float", "f", 32},
    [WUDF__TYPE_FLOAT64] = {"float64", "double", "g", 64},
    [WUDF__TYPE_UTF8] = {"utf8", "string", "u", 0},
    [WUDF__TYPE_LARGE_UTF8] = {"large_utf8", "large_string", "U", 0},
    [WUDF__TYPE_BINARY] = {"binary", NULL, "z", 0},
    [WUDF__TYPE_LARGE_BINARY] = {"large_binary", NULL, "Z", 0},
    [WUDF__TYPE_STRUCT] = {"struct", NULL, "+s", 0},
};

const char* wudf__type_name(uint8_t type) {
  return type > 0 && type < WUDF__TYPE_COUNT ? wudf__types[type].name : NULL;
}

const char* wudf__type_format(uint8_t type) {
  return type > 0 && type < WUDF__TYPE_COUNT ? wudf__types[type].format : NULL;
}

uint8_t wudf__type_from_format(const char* format) {
  for (uint8_t type = 1; type < WUDF__TYPE_COUNT; type++) {
    if (strcmp(format, wudf__types[type].format) == 0) return type;
  }
  return WUDF__TYPE_NONE;
}

unsigned wudf__type_bit_width(uint8_t type) {
  return type > 0 && type < WUDF__TYPE_COUNT ? wudf__types[type].bit_width : 0;
}

int wudf__type_is_variable(uint8_t type, int* large_offsets) {
  int variable = type == WUDF__TYPE_UTF8 || type == WUDF__TYPE_LARGE_UTF8 ||
                 type == WUDF__TYPE_BINARY || type == WUDF__TYPE_LARGE_BINARY;
  if (large_offsets != NULL) {
    *large_offsets = type == WUDF__TYPE_LARGE_UTF8 || type == WUDF__TYPE_LARGE_BINARY;
  }
  return variable;
}

const char* wudf__kind_name(uint8_t kind) {
  switch (kind) {
    case WUDF__KIND_SCALAR: return "scalar";
    case WUDF__KIND_BATCH: return "batch";
  }
  return NULL;
}

/* ------------------------------------------------------------------ parser */

struct wudf__parser {
  const char* text;
  const char* at;
  char* message;
  size_t message_size;
};

static int wudf__parse_fail(struct wudf__parser* p, const char* format, ...) {
  if (p->message_size == 0) return -1;
  int used = snprintf(p->message, p->message_size, "at column %d: ",
                      (int)(p->at - p->text) + 1);
  if (used < 0 || (size_t)used >= p->message_size) return -1;
  va_list args;
  va_start(args, format);
  vsnprintf(p->message + used, p->message_size - (size_t)used, format, args);
  va_end(args);
  return -1;
}

static void wudf__skip_spaces(struct wudf__parser* p) {
  while (*p->at == ' ' || *p->at == '\t' || *p->at == '\n') p->at++;
}

static int wudf__is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int wudf__is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reads an identifier into `out` (WUDF__MAX_NAME + 1 bytes). */
static int wudf__parse_identifier(struct wudf__parser* p, char* out,
                                  const char* what) {
  wudf__skip_spaces(p);
  if (!wudf__is_letter(*p->at)) return wudf__parse_fail(p, "expected %s", what);
  size_t length = 0;
  while (wudf__is_letter(p->at[length]) || wudf__is_digit(p->at[length])) {
    length++;
  }
  if (length > WUDF__MAX_NAME) {
    return wudf__parse_fail(p, "%s longer than %d bytes", what, WUDF__MAX_NAME);
  }
  memcpy(out, p->at, length);
  out[length] = '\0';
  p->at += length;
  return 0;
}

/* Consumes `token` (punctuation) or fails naming it. */
static int wudf__expect(struct wudf__parser* p, const char* token) {
  wudf__skip_spaces(p);
  size_t length = strlen(token);
  if (strncmp(p->at, token, length) != 0) {
    return wudf__parse_fail(p, "expected '%s'", token);
  }
  p->at += length;
  return 0;
}

static int wudf__accept(struct wudf__parser* p, const char* token) {
  wudf__skip_spaces(p);
  size_t length = strlen(token);
  if (strncmp(p->at, token, length) != 0) return 0;
  p->at += length;
  return 1;
}

static uint8_t wudf__type_by_name(const char* name) {
  for (uint8_t type = 1; type < WUDF__TYPE_COUNT; type++) {
    if (strcmp(name, wudf__types[type].name) == 0 ||
        (wudf__types[type].alias && strcmp(name, wudf__types[type].alias) == 0)) {
      return type;
    }
  }
  return WUDF__TYPE_NONE;
}

/* type = name | "struct" "<" field { "," field } ">" (struct if allowed). */
static int wudf__parse_type(struct wudf__parser* p, int allow_struct,
                            struct wudf__signature* out, uint8_t* type) {
  char name[WUDF__MAX_NAME + 1];
  const char* start = p->at;
  if (wudf__parse_identifier(p, name, "a type") != 0) return -1;
  *type = wudf__type_by_name(name);
  if (*type == WUDF__TYPE_NONE) {
    p->at = start;
    wudf__skip_spaces(p);
    return wudf__parse_fail(p, "unknown type '%s'", name);
  }
  if (*type != WUDF__TYPE_STRUCT) return 0;
  if (!allow_struct) {
    p->at = start;
    wudf__skip_spaces(p);
    return wudf__parse_fail(p, "a struct is allowed only as the result of a "
                               "batch function");
  }
  if (wudf__expect(p, "<") != 0) return -1;
  do {
    if (out->field_count == WUDF__MAX_FIELDS) {
      return wudf__parse_fail(p, "more than %d fields", WUDF__MAX_FIELDS);
    }
    struct wudf__field* field = &out->fields[out->field_count];
    if (wudf__parse_identifier(p, field->name, "a field name") != 0) return -1;
    for (uint32_t i = 0; i < out->field_count; i++) {
      if (strcmp(out->fields[i].name, field->name) == 0) {
        return wudf__parse_fail(p, "duplicate field '%s'", field->name);
      }
    }
    if (wudf__expect(p, ":") != 0) return -1;
    if (wudf__parse_type(p, 0, out, &field->type) != 0) return -1;
    out->field_count++;
  } while (wudf__accept(p, ","));
  return wudf__expect(p, ">");
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

int wudf__signature_parse(const char* text, uint8_t kind,
                          struct wudf__signature* out, char* message,
                          size_t message_size) {
  struct wudf__parser p = {text, text, message, message_size};
  if (message_size > 0) message[0] = '\0';
  memset(out, 0, sizeof(*out));
  out->kind = kind;
  out->strict = 1;
  if (wudf__parse_identifier(&p, out->name, "the function name") != 0) return -1;
  if (wudf__expect(&p, "(") != 0) return -1;
  if (!wudf__accept(&p, ")")) {
    do {
      if (out->arg_count == WUDF__MAX_ARGS) {
        return wudf__parse_fail(&p, "more than %d arguments", WUDF__MAX_ARGS);
      }
      if (wudf__parse_type(&p, 0, out, &out->arg_types[out->arg_count]) != 0) {
        return -1;
      }
      out->arg_count++;
    } while (wudf__accept(&p, ","));
    if (wudf__expect(&p, ")") != 0) return -1;
  }
  if (wudf__expect(&p, "->") != 0) return -1;
  const char* result_at = p.at;
  if (wudf__parse_type(&p, kind == WUDF__KIND_BATCH, out, &out->result_type) != 0) {
    return -1;
  }
  if (kind == WUDF__KIND_BATCH && out->result_type != WUDF__TYPE_STRUCT) {
    p.at = result_at;
    wudf__skip_spaces(&p);
    return wudf__parse_fail(&p, "the result of a batch function must be a "
                                "struct<...>");
  }
  static const char* const strict_words[] = {"returns", "null", "on", "null",
                                             "input", NULL};
  static const char* const called_words[] = {"called", "on", "null", "input", NULL};
  for (;;) {
    const char* flag_at = p.at;
    if (wudf__accept_phrase(&p, strict_words)) {
      out->strict = 1;
    } else if (wudf__accept_phrase(&p, called_words)) {
      out->strict = 0;
    } else {
      break;
    }
    if (kind != WUDF__KIND_SCALAR) {
      p.at = flag_at;
      wudf__skip_spaces(&p);
      return wudf__parse_fail(&p, "null handling applies to scalar functions "
                                  "only");
    }
  }
  /* A batch function always sees its whole input, nulls included. */
  if (kind != WUDF__KIND_SCALAR) out->strict = 0;
  wudf__skip_spaces(&p);
  if (*p.at != '\0') return wudf__parse_fail(&p, "unexpected text");
  return 0;
}

int wudf__record_parse(const char* record, struct wudf__signature* out,
                       char* message, size_t message_size) {
  size_t prefix = strlen(WUDF__RECORD_PREFIX);
  if (strncmp(record, WUDF__RECORD_PREFIX, prefix) != 0) {
    snprintf(message, message_size,
             "the record does not start with '" WUDF__RECORD_PREFIX "'");
    return -1;
  }
  const char* rest = record + prefix;
  uint8_t kind = WUDF__KIND_NONE;
  size_t kind_length = 0;
  while (wudf__is_letter(rest[kind_length])) kind_length++;
  for (uint8_t k = WUDF__KIND_SCALAR; k <= WUDF__KIND_BATCH; k++) {
    if (strlen(wudf__kind_name(k)) == kind_length &&
        strncmp(rest, wudf__kind_name(k), kind_length) == 0) {
      kind = k;
    }
  }
  if (kind == WUDF__KIND_NONE) {
    snprintf(message, message_size, "unknown function kind '%.*s'",
             (int)(kind_length > 32 ? 32 : kind_length), rest);
    return -1;
  }
  return wudf__signature_parse(rest + kind_length, kind, out, message, message_size);
}

/* Appends to a bounded buffer, truncating. */
static void wudf__append(char* out, size_t size, size_t* used, const char* text) {
  size_t length = strlen(text);
  if (*used + 1 >= size) return;
  size_t room = size - 1 - *used;
  if (length > room) length = room;
  memcpy(out + *used, text, length);
  *used += length;
  out[*used] = '\0';
}

void wudf__signature_format(const struct wudf__signature* signature, char* out,
                            size_t size) {
  if (size == 0) return;
  size_t used = 0;
  out[0] = '\0';
  wudf__append(out, size, &used, signature->name);
  wudf__append(out, size, &used, "(");
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    if (i > 0) wudf__append(out, size, &used, ", ");
    wudf__append(out, size, &used, wudf__type_name(signature->arg_types[i]));
  }
  wudf__append(out, size, &used, ") -> ");
  wudf__append(out, size, &used, wudf__type_name(signature->result_type));
  if (signature->result_type == WUDF__TYPE_STRUCT) {
    wudf__append(out, size, &used, "<");
    for (uint32_t i = 0; i < signature->field_count; i++) {
      if (i > 0) wudf__append(out, size, &used, ", ");
      wudf__append(out, size, &used, signature->fields[i].name);
      wudf__append(out, size, &used, ": ");
      wudf__append(out, size, &used, wudf__type_name(signature->fields[i].type));
    }
    wudf__append(out, size, &used, ">");
  }
  if (signature->kind == WUDF__KIND_SCALAR && !signature->strict) {
    wudf__append(out, size, &used, " CALLED ON NULL INPUT");
  }
}
