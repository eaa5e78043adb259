/*
 * format.c -- Arrow format strings to physical layouts (see format.h). The
 * grammar is the C Data Interface specification's table of format strings;
 * anything outside it is refused.
 */
#include "format.h"

#include <stddef.h>
#include <string.h>

/* Parses a decimal integer in [min, max] from *text, advancing it. */
static int wudf__parse_int(const char** text, int64_t min, int64_t max, int64_t* value) {
  const char* p = *text;
  int negative = 0;
  if (*p == '-') {
    negative = 1;
    p++;
  }
  if (*p < '0' || *p > '9') return -1;
  int64_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (INT64_C(1) << 40)) return -1;
    v = v * 10 + (*p - '0');
  }
  if (negative) v = -v;
  if (v < min || v > max) return -1;
  *value = v;
  *text = p;
  return 0;
}

static void wudf__set_fixed(struct wudf__format* out, int64_t byte_width, uint8_t integer) {
  out->layout = WUDF__LAYOUT_FIXED;
  out->byte_width = byte_width;
  out->integer = integer;
  out->n_buffers = 2;
}

/* One-character primitive formats. */
static int wudf__parse_primitive(char c, struct wudf__format* out) {
  switch (c) {
    case 'n': out->layout = WUDF__LAYOUT_NULL; out->n_buffers = 0; return 0;
    case 'b': out->layout = WUDF__LAYOUT_BOOL; out->n_buffers = 2; return 0;
    case 'c': wudf__set_fixed(out, 1, 1); return 0;
    case 'C': wudf__set_fixed(out, 1, 2); return 0;
    case 's': wudf__set_fixed(out, 2, 1); return 0;
    case 'S': wudf__set_fixed(out, 2, 2); return 0;
    case 'i': wudf__set_fixed(out, 4, 1); return 0;
    case 'I': wudf__set_fixed(out, 4, 2); return 0;
    case 'l': wudf__set_fixed(out, 8, 1); return 0;
    case 'L': wudf__set_fixed(out, 8, 2); return 0;
    case 'e': wudf__set_fixed(out, 2, 0); return 0;
    case 'f': wudf__set_fixed(out, 4, 0); return 0;
    case 'g': wudf__set_fixed(out, 8, 0); return 0;
    case 'z': case 'u':
      out->layout = WUDF__LAYOUT_BINARY;
      out->utf8 = c == 'u';
      out->n_buffers = 3;
      return 0;
    case 'Z': case 'U':
      out->layout = WUDF__LAYOUT_LARGE_BINARY;
      out->utf8 = c == 'U';
      out->n_buffers = 3;
      return 0;
    default: return -1;
  }
}

static int wudf__unit_of(char c, uint8_t* unit) {
  switch (c) {
    case 's': *unit = WUDF__UNIT_S; return 0;
    case 'm': *unit = WUDF__UNIT_MS; return 0;
    case 'u': *unit = WUDF__UNIT_US; return 0;
    case 'n': *unit = WUDF__UNIT_NS; return 0;
    default: return -1;
  }
}

/* "t..." temporal formats. */
static int wudf__parse_temporal(const char* f, struct wudf__format* out) {
  if (f[2] == '\0') return -1; /* every temporal format has 3 characters or more */
  switch (f[1]) {
    case 'd': /* tdD date32 days, tdm date64 milliseconds */
      if (f[3] != '\0') return -1;
      if (f[2] == 'D') wudf__set_fixed(out, 4, 0);
      else if (f[2] == 'm') wudf__set_fixed(out, 8, 0);
      else return -1;
      return 0;
    case 't': /* time32 s/ms, time64 us/ns */
      if (f[3] != '\0' || wudf__unit_of(f[2], &out->unit) != 0) return -1;
      wudf__set_fixed(out, f[2] == 's' || f[2] == 'm' ? 4 : 8, 0);
      return 0;
    case 's': /* timestamp: "ts?:" then an optional time zone */
      if (wudf__unit_of(f[2], &out->unit) != 0 || f[3] != ':') return -1;
      wudf__set_fixed(out, 8, 0);
      out->timezone = f + 4;
      return 0;
    case 'D': /* duration */
      if (f[3] != '\0' || wudf__unit_of(f[2], &out->unit) != 0) return -1;
      wudf__set_fixed(out, 8, 0);
      return 0;
    case 'i': /* intervals: months, days + milliseconds, months + days + ns */
      if (f[3] != '\0') return -1;
      if (f[2] == 'M') wudf__set_fixed(out, 4, 0);
      else if (f[2] == 'D') wudf__set_fixed(out, 8, 0);
      else if (f[2] == 'n') wudf__set_fixed(out, 16, 0);
      else return -1;
      return 0;
    default: return -1;
  }
}

/* "d:P,S" or "d:P,S,BITS". */
static int wudf__parse_decimal(const char* f, struct wudf__format* out) {
  const char* p = f + 2;
  int64_t precision, scale, bits = 128;
  if (wudf__parse_int(&p, 1, 76, &precision) != 0 || *p++ != ',') return -1;
  if (wudf__parse_int(&p, -1000000, 1000000, &scale) != 0) return -1;
  if (*p == ',') {
    p++;
    if (wudf__parse_int(&p, 32, 256, &bits) != 0) return -1;
  }
  if (*p != '\0') return -1;
  int64_t max_precision = bits == 32 ? 9 : bits == 64 ? 18 : bits == 128 ? 38 : bits == 256 ? 76 : 0;
  if (max_precision == 0 || precision > max_precision) return -1;
  wudf__set_fixed(out, bits / 8, 0);
  out->precision = (int32_t)precision;
  out->scale = (int32_t)scale;
  return 0;
}

/* "+u?:" followed by comma-separated type ids (possibly none). */
static int wudf__parse_union(const char* f, struct wudf__format* out) {
  const char* p = f + 4;
  uint8_t seen[WUDF__MAX_UNION_TYPES] = {0};
  out->type_id_count = 0;
  while (*p != '\0') {
    int64_t id;
    if (out->type_id_count == WUDF__MAX_UNION_TYPES ||
        wudf__parse_int(&p, 0, WUDF__MAX_UNION_TYPES - 1, &id) != 0 || seen[id]) {
      return -1;
    }
    seen[id] = 1;
    out->type_ids[out->type_id_count++] = (int8_t)id;
    if (*p == ',') {
      p++;
      if (*p == '\0') return -1;
    } else if (*p != '\0') {
      return -1;
    }
  }
  out->n_children = out->type_id_count;
  return 0;
}

/* "+..." nested formats. */
static int wudf__parse_nested(const char* f, struct wudf__format* out) {
  const char* p;
  int64_t size;
  out->n_children = 1;
  if (strcmp(f, "+l") == 0) {
    out->layout = WUDF__LAYOUT_LIST;
    out->n_buffers = 2;
  } else if (strcmp(f, "+L") == 0) {
    out->layout = WUDF__LAYOUT_LARGE_LIST;
    out->n_buffers = 2;
  } else if (strcmp(f, "+vl") == 0) {
    out->layout = WUDF__LAYOUT_LIST_VIEW;
    out->n_buffers = 3;
  } else if (strcmp(f, "+vL") == 0) {
    out->layout = WUDF__LAYOUT_LARGE_LIST_VIEW;
    out->n_buffers = 3;
  } else if (strncmp(f, "+w:", 3) == 0) {
    p = f + 3;
    if (wudf__parse_int(&p, 0, INT32_MAX, &size) != 0 || *p != '\0') return -1;
    out->layout = WUDF__LAYOUT_FIXED_LIST;
    out->list_size = size;
    out->n_buffers = 1;
  } else if (strcmp(f, "+s") == 0) {
    out->layout = WUDF__LAYOUT_STRUCT;
    out->n_buffers = 1;
    out->n_children = -1;
  } else if (strcmp(f, "+m") == 0) {
    out->layout = WUDF__LAYOUT_MAP;
    out->n_buffers = 2;
  } else if (strncmp(f, "+us:", 4) == 0) {
    out->layout = WUDF__LAYOUT_SPARSE_UNION;
    out->n_buffers = 1;
    return wudf__parse_union(f, out);
  } else if (strncmp(f, "+ud:", 4) == 0) {
    out->layout = WUDF__LAYOUT_DENSE_UNION;
    out->n_buffers = 2;
    return wudf__parse_union(f, out);
  } else if (strcmp(f, "+r") == 0) {
    out->layout = WUDF__LAYOUT_RUN_END;
    out->n_buffers = 0;
    out->n_children = 2;
  } else {
    return -1;
  }
  return 0;
}

int wudf__format_parse(const char* format, struct wudf__format* out) {
  /* Every field but the union ids (which only unions fill, and read only
   * up to type_id_count): this runs for every node of every call. */
  memset(out, 0, offsetof(struct wudf__format, type_ids));
  out->timezone = NULL;
  if (format == NULL || format[0] == '\0') return -1;
  if (format[1] == '\0') return wudf__parse_primitive(format[0], out);
  switch (format[0]) {
    case 'v': /* views */
      if (format[2] != '\0' || (format[1] != 'u' && format[1] != 'z')) return -1;
      out->layout = WUDF__LAYOUT_VIEW;
      out->utf8 = format[1] == 'u';
      out->n_buffers = 3;
      return 0;
    case 'w': { /* fixed-size binary "w:N" */
      const char* p = format + 1;
      int64_t width;
      if (*p++ != ':' || wudf__parse_int(&p, 1, INT32_MAX, &width) != 0 || *p != '\0') {
        return -1;
      }
      wudf__set_fixed(out, width, 0);
      return 0;
    }
    case 'd':
      return format[1] == ':' ? wudf__parse_decimal(format, out) : -1;
    case 't':
      return wudf__parse_temporal(format, out);
    case '+':
      return wudf__parse_nested(format, out);
    default:
      return -1;
  }
}

int wudf__layout_has_validity(uint8_t layout) {
  return layout != WUDF__LAYOUT_NULL && layout != WUDF__LAYOUT_SPARSE_UNION &&
         layout != WUDF__LAYOUT_DENSE_UNION && layout != WUDF__LAYOUT_RUN_END;
}

const char* wudf__layout_name(uint8_t layout) {
  static const char* const names[] = {
      "?", "null", "boolean", "fixed-width", "binary", "large binary", "binary view",
      "list", "large list", "list view", "large list view", "fixed-size list", "struct",
      "map", "sparse union", "dense union", "run-end encoded"};
  return layout < sizeof(names) / sizeof(names[0]) ? names[layout] : "?";
}
