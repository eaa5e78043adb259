/*
 * print.c -- the CLI's readable table of Arrow data (`wasmudf run` and
 * `wasmudf show` without -o): a box of columns with each column's name and
 * type in the header, NULL for nulls, nested values (lists, structs, maps,
 * unions, run-end encoded) and dictionaries printed as their values,
 * temporal and decimal values written out, long strings cut with an
 * ellipsis and long results elided in the middle like DuckDB's (the first
 * and last rows around a "⋮" row, the row count in the footer).
 *
 * It walks the C Data Interface structs directly (format strings of the
 * Arrow specification), so it prints whatever the readers or a guest give,
 * and never reads outside the buffers the layout of each type implies.
 * Also here: cli_write_stream, which sends a result stream to the table
 * printer or to the library's CSV, JSON-lines and IPC writers.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "wasmudf/wasmudf.h"

/* ------------------------------------------------------------ strings */

/* A growing string; on allocation failure it stays truncated and `failed`
 * is set (the printer then reports out of memory). */
struct text {
  char* data;
  size_t length, capacity;
  int failed;
};

static void text_append(struct text* t, const char* bytes, size_t n) {
  if (t->failed) return;
  if (t->length + n + 1 > t->capacity) {
    size_t capacity = t->capacity ? t->capacity : 64;
    while (capacity < t->length + n + 1) capacity *= 2;
    char* data = realloc(t->data, capacity);
    if (data == NULL) {
      t->failed = 1;
      return;
    }
    t->data = data;
    t->capacity = capacity;
  }
  memcpy(t->data + t->length, bytes, n);
  t->length += n;
  t->data[t->length] = '\0';
}

static void text_puts(struct text* t, const char* s) { text_append(t, s, strlen(s)); }

static void text_printf(struct text* t, const char* format, ...) {
  char buffer[256];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  if (n > 0) text_append(t, buffer, (size_t)n < sizeof buffer ? (size_t)n : sizeof buffer - 1);
}

/* ------------------------------------------------------------- types */

/* Writes a readable name of the type `schema` describes ("int32",
 * "list<utf8>", "timestamp[us, UTC]", "dictionary<int8, utf8>": index, then value). */
static void type_name(struct text* t, const struct ArrowSchema* schema) {
  const char* f = schema->format;
  if (schema->dictionary != NULL) { /* as the type language writes it */
    struct ArrowSchema index = *schema;
    index.dictionary = NULL;
    text_puts(t, "dictionary<");
    type_name(t, &index);
    text_puts(t, ", ");
    type_name(t, schema->dictionary);
    text_puts(t, ">");
    return;
  }
  static const struct {
    const char* format;
    const char* name;
  } simple[] = {{"n", "null"},    {"b", "bool"},      {"c", "int8"},     {"C", "uint8"},
                {"s", "int16"},   {"S", "uint16"},    {"i", "int32"},    {"I", "uint32"},
                {"l", "int64"},   {"L", "uint64"},    {"e", "float16"},  {"f", "float32"},
                {"g", "float64"}, {"u", "utf8"},      {"U", "large_utf8"}, {"z", "binary"},
                {"Z", "large_binary"}, {"vu", "utf8_view"}, {"vz", "binary_view"},
                {"tdD", "date32"}, {"tdm", "date64"}, {"tts", "time32[s]"},
                {"ttm", "time32[ms]"}, {"ttu", "time64[us]"}, {"ttn", "time64[ns]"},
                {"tDs", "duration[s]"}, {"tDm", "duration[ms]"}, {"tDu", "duration[us]"},
                {"tDn", "duration[ns]"}, {"tiM", "interval[months]"},
                {"tiD", "interval[days_ms]"}, {"tin", "interval[month_day_nano]"}};
  int known = 0;
  for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
    if (strcmp(f, simple[k].format) == 0) {
      text_puts(t, simple[k].name);
      known = 1;
    }
  }
  if (known) {
  } else if (strncmp(f, "ts", 2) == 0 && strlen(f) >= 4) {
    const char* unit = f[2] == 's' ? "s" : f[2] == 'm' ? "ms" : f[2] == 'u' ? "us" : "ns";
    if (f[4] != '\0') text_printf(t, "timestamp[%s, %s]", unit, f + 4);
    else text_printf(t, "timestamp[%s]", unit);
  } else if (f[0] == 'd' && f[1] == ':') {
    int precision = 0, scale = 0, width = 128;
    sscanf(f + 2, "%d,%d,%d", &precision, &scale, &width);
    text_printf(t, "decimal%d(%d, %d)", width, precision, scale);
  } else if (f[0] == 'w' && f[1] == ':') {
    text_printf(t, "fixed_size_binary[%s]", f + 2);
  } else if (strcmp(f, "+l") == 0 || strcmp(f, "+L") == 0 || strcmp(f, "+vl") == 0 ||
             strcmp(f, "+vL") == 0 || strncmp(f, "+w:", 3) == 0) {
    text_puts(t, f[1] == 'L' ? "large_list<" : f[1] == 'v' ? (f[2] == 'L' ? "large_list_view<"
                                                                            : "list_view<")
                                               : f[1] == 'w' ? "fixed_size_list<" : "list<");
    if (schema->n_children == 1) type_name(t, schema->children[0]);
    if (f[1] == 'w') text_printf(t, ", %s", f + 3);
    text_puts(t, ">");
  } else if (strcmp(f, "+s") == 0 || strncmp(f, "+u", 2) == 0) {
    text_puts(t, f[1] == 's' ? "struct<" : f[2] == 'd' ? "dense_union<" : "sparse_union<");
    for (int64_t c = 0; c < schema->n_children; c++) {
      if (c > 0) text_puts(t, ", ");
      text_printf(t, "%s: ", schema->children[c]->name ? schema->children[c]->name : "");
      type_name(t, schema->children[c]);
    }
    text_puts(t, ">");
  } else if (strcmp(f, "+m") == 0) {
    text_puts(t, "map<");
    const struct ArrowSchema* entries = schema->n_children == 1 ? schema->children[0] : NULL;
    if (entries != NULL && entries->n_children == 2) {
      type_name(t, entries->children[0]);
      text_puts(t, ", ");
      type_name(t, entries->children[1]);
    }
    text_puts(t, ">");
  } else if (strcmp(f, "+r") == 0) {
    text_puts(t, "run_end_encoded<");
    if (schema->n_children == 2) {
      type_name(t, schema->children[0]);
      text_puts(t, ", ");
      type_name(t, schema->children[1]);
    }
    text_puts(t, ">");
  } else {
    text_puts(t, f);
  }
}

/* ------------------------------------------------------------ values */

static int bit(const void* bits, int64_t i) {
  return (((const uint8_t*)bits)[i >> 3] >> (i & 7)) & 1;
}

/* Days since 1970-01-01 as a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t* year, int* month, int* day) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *day = (int)(doy - (153 * mp + 2) / 5 + 1);
  *month = (int)(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void write_date(struct text* t, int64_t days) {
  int64_t year;
  int month, day;
  civil_from_days(days, &year, &month, &day);
  text_printf(t, "%04" PRId64 "-%02d-%02d", year, month, day);
}

/* A time of day from `units` of 10^-digits seconds since midnight. */
static void write_time(struct text* t, int64_t value, int digits) {
  int64_t per_second = 1;
  for (int d = 0; d < digits; d++) per_second *= 10;
  int64_t seconds = floor_div(value, per_second);
  int64_t fraction = value - seconds * per_second;
  int64_t in_day = seconds % 86400;
  if (in_day < 0) in_day += 86400;
  text_printf(t, "%02d:%02d:%02d", (int)(in_day / 3600), (int)(in_day / 60 % 60),
              (int)(in_day % 60));
  if (digits > 0 && fraction != 0) text_printf(t, ".%0*" PRId64, digits, fraction);
}

static int unit_digits(char unit) { return unit == 's' ? 0 : unit == 'm' ? 3 : unit == 'u' ? 6 : 9; }

/* A two's complement little-endian integer of `bytes` bytes, scaled by
 * 10^-scale, in decimal. */
static void write_decimal(struct text* t, const uint8_t* value, int bytes, int scale) {
  uint32_t limbs[8];
  int n = bytes / 4;
  memcpy(limbs, value, (size_t)bytes);
  int negative = (limbs[n - 1] >> 31) & 1;
  if (negative) { /* negate: invert and add one */
    uint64_t carry = 1;
    for (int k = 0; k < n; k++) {
      uint64_t sum = (uint64_t)(uint32_t)~limbs[k] + carry;
      limbs[k] = (uint32_t)sum;
      carry = sum >> 32;
    }
  }
  char digits[100];
  int count = 0;
  for (;;) {
    int zero = 1;
    uint64_t remainder = 0;
    for (int k = n - 1; k >= 0; k--) {
      uint64_t current = (remainder << 32) | limbs[k];
      limbs[k] = (uint32_t)(current / 10);
      remainder = current % 10;
      if (limbs[k]) zero = 0;
    }
    digits[count++] = (char)('0' + remainder);
    if (zero) break;
  }
  while (count <= scale) digits[count++] = '0';
  if (negative) text_puts(t, "-");
  for (int k = count - 1; k >= 0; k--) {
    char c = digits[k];
    text_append(t, &c, 1);
    if (k == scale && scale > 0) text_puts(t, ".");
  }
}

/* A string value: quoted in nested values, control characters escaped. */
static void write_string(struct text* t, const char* bytes, int64_t n, int nested) {
  if (nested) text_puts(t, "'");
  for (int64_t k = 0; k < n; k++) {
    unsigned char c = (unsigned char)bytes[k];
    if (c == '\n') text_puts(t, "\\n");
    else if (c == '\t') text_puts(t, "\\t");
    else if (c == '\r') text_puts(t, "\\r");
    else if (c < 0x20 || c == 0x7f) text_printf(t, "\\x%02x", c);
    else if (nested && c == '\'') text_puts(t, "\\'");
    else text_append(t, (const char*)&c, 1);
  }
  if (nested) text_puts(t, "'");
}

static void write_binary(struct text* t, const uint8_t* bytes, int64_t n) {
  text_puts(t, "\\x");
  for (int64_t k = 0; k < n; k++) text_printf(t, "%02x", bytes[k]);
}

static double half_to_double(uint16_t h) {
  int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double value = exponent == 0 ? ldexp(mantissa, -24)
                 : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                  : ldexp(mantissa + 1024, exponent - 25);
  return (h & 0x8000) ? -value : value;
}

/* The shortest of %.6g .. %.17g that reads back as the same value. */
static void write_float(struct text* t, double value, int single) {
  char buffer[64];
  for (int digits = 6; digits <= 17; digits++) {
    snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    double back = strtod(buffer, NULL);
    if (single ? (float)back == (float)value : back == value) break;
  }
  text_puts(t, buffer);
}

static int64_t read_int(const struct ArrowArray* array, const char* format, int64_t i) {
  const void* values = array->buffers[1];
  switch (format[0]) {
    case 'c': return ((const int8_t*)values)[i];
    case 'C': return ((const uint8_t*)values)[i];
    case 's': return ((const int16_t*)values)[i];
    case 'S': return ((const uint16_t*)values)[i];
    case 'i': return ((const int32_t*)values)[i];
    case 'I': return ((const uint32_t*)values)[i];
    case 'L': return (int64_t)((const uint64_t*)values)[i];
    default: return ((const int64_t*)values)[i];
  }
}

static void write_value(struct text* t, const struct ArrowArray* array,
                        const struct ArrowSchema* schema, int64_t index, int nested);

/* Element `index` (not counting the array's offset) of `array`. */
static void write_value(struct text* t, const struct ArrowArray* array,
                        const struct ArrowSchema* schema, int64_t index, int nested) {
  const char* f = schema->format;
  int64_t i = array->offset + index;
  int no_validity = f[0] == 'n' || strncmp(f, "+u", 2) == 0 || strcmp(f, "+r") == 0;
  if (f[0] == 'n' || (!no_validity && array->null_count != 0 && array->n_buffers > 0 &&
                      array->buffers[0] != NULL && !bit(array->buffers[0], i))) {
    text_puts(t, "NULL");
    return;
  }
  if (schema->dictionary != NULL) {
    write_value(t, array->dictionary, schema->dictionary, read_int(array, f, i), nested);
    return;
  }
  const void* values = array->n_buffers > 1 ? array->buffers[1] : NULL;
  switch (f[0]) {
    case 'b': text_puts(t, bit(values, i) ? "true" : "false"); return;
    case 'c': case 's': case 'i': case 'l':
      text_printf(t, "%" PRId64, read_int(array, f, i));
      return;
    case 'C': case 'S': case 'I':
      text_printf(t, "%" PRId64, read_int(array, f, i));
      return;
    case 'L': text_printf(t, "%" PRIu64, ((const uint64_t*)values)[i]); return;
    case 'e': text_printf(t, "%.5g", half_to_double(((const uint16_t*)values)[i])); return;
    case 'f': write_float(t, ((const float*)values)[i], 1); return;
    case 'g': write_float(t, ((const double*)values)[i], 0); return;
    case 'u': case 'z': case 'U': case 'Z': {
      int64_t start, end;
      if (f[0] == 'u' || f[0] == 'z') {
        start = ((const int32_t*)values)[i];
        end = ((const int32_t*)values)[i + 1];
      } else {
        start = ((const int64_t*)values)[i];
        end = ((const int64_t*)values)[i + 1];
      }
      const char* data = (const char*)array->buffers[2] + start;
      if (f[0] == 'u' || f[0] == 'U') write_string(t, data, end - start, nested);
      else write_binary(t, (const uint8_t*)data, end - start);
      return;
    }
    case 'v': { /* utf8_view, binary_view: 16-byte views */
      const uint8_t* view = (const uint8_t*)values + 16 * i;
      int32_t length;
      memcpy(&length, view, 4);
      const char* data = (const char*)view + 4;
      if (length > 12) {
        int32_t buffer, offset;
        memcpy(&buffer, view + 8, 4);
        memcpy(&offset, view + 12, 4);
        data = (const char*)array->buffers[2 + buffer] + offset;
      }
      if (f[1] == 'u') write_string(t, data, length, nested);
      else write_binary(t, (const uint8_t*)data, length);
      return;
    }
    case 'w': {
      int width = atoi(f + 2);
      write_binary(t, (const uint8_t*)values + (int64_t)width * i, width);
      return;
    }
    case 'd': {
      int precision = 0, scale = 0, width = 128;
      sscanf(f + 2, "%d,%d,%d", &precision, &scale, &width);
      write_decimal(t, (const uint8_t*)values + (int64_t)(width / 8) * i, width / 8, scale);
      return;
    }
    case 't': {
      if (f[1] == 'd') {
        if (f[2] == 'D') write_date(t, ((const int32_t*)values)[i]);
        else write_date(t, floor_div(((const int64_t*)values)[i], 86400000));
      } else if (f[1] == 't') {
        int64_t v = (f[2] == 's' || f[2] == 'm') ? ((const int32_t*)values)[i]
                                                 : ((const int64_t*)values)[i];
        write_time(t, v, unit_digits(f[2]));
      } else if (f[1] == 's') {
        int64_t v = ((const int64_t*)values)[i];
        int digits = unit_digits(f[2]);
        int64_t per_second = 1;
        for (int d = 0; d < digits; d++) per_second *= 10;
        write_date(t, floor_div(floor_div(v, per_second), 86400));
        text_puts(t, " ");
        write_time(t, v, digits);
        if (f[3] == ':' && f[4] != '\0') text_puts(t, "Z"); /* an instant, shown in UTC */
      } else if (f[1] == 'D') {
        static const char* units[] = {"s", "ms", "us", "ns"};
        int digits = unit_digits(f[2]);
        text_printf(t, "%" PRId64 " %s", ((const int64_t*)values)[i], units[digits / 3]);
      } else if (f[1] == 'i') {
        if (f[2] == 'M') {
          text_printf(t, "%" PRId32 " months", ((const int32_t*)values)[i]);
        } else if (f[2] == 'D') {
          int32_t parts[2];
          memcpy(parts, (const uint8_t*)values + 8 * i, 8);
          text_printf(t, "%" PRId32 " days %" PRId32 " ms", parts[0], parts[1]);
        } else {
          int32_t months, days;
          int64_t nanoseconds;
          const uint8_t* at = (const uint8_t*)values + 16 * i;
          memcpy(&months, at, 4);
          memcpy(&days, at + 4, 4);
          memcpy(&nanoseconds, at + 8, 8);
          text_printf(t, "%" PRId32 " months %" PRId32 " days %" PRId64 " ns", months, days,
                      nanoseconds);
        }
      } else {
        text_puts(t, "?");
      }
      return;
    }
    case '+': break;
    default: text_puts(t, "?"); return;
  }
  /* Nested types. */
  if (f[1] == 'l' || f[1] == 'L' || f[1] == 'w' || f[1] == 'v' || f[1] == 'm') {
    int64_t start, length;
    if (f[1] == 'w') {
      length = atoi(f + 3);
      start = i * length;
    } else if (f[1] == 'v') { /* list views: offsets and sizes */
      if (f[2] == 'l') {
        start = ((const int32_t*)values)[i];
        length = ((const int32_t*)array->buffers[2])[i];
      } else {
        start = ((const int64_t*)values)[i];
        length = ((const int64_t*)array->buffers[2])[i];
      }
    } else if (f[1] == 'L') {
      start = ((const int64_t*)values)[i];
      length = ((const int64_t*)values)[i + 1] - start;
    } else {
      start = ((const int32_t*)values)[i];
      length = ((const int32_t*)values)[i + 1] - start;
    }
    const struct ArrowArray* child = array->children[0];
    const struct ArrowSchema* child_schema = schema->children[0];
    if (f[1] == 'm') {
      text_puts(t, "{");
      for (int64_t k = 0; k < length; k++) {
        if (k > 0) text_puts(t, ", ");
        int64_t entry = child->offset + start + k;
        write_value(t, child->children[0], child_schema->children[0], entry, 1);
        text_puts(t, "=");
        write_value(t, child->children[1], child_schema->children[1], entry, 1);
      }
      text_puts(t, "}");
      return;
    }
    text_puts(t, "[");
    for (int64_t k = 0; k < length; k++) {
      if (k > 0) text_puts(t, ", ");
      write_value(t, child, child_schema, start + k, 1);
    }
    text_puts(t, "]");
    return;
  }
  if (f[1] == 's') {
    text_puts(t, "{");
    for (int64_t c = 0; c < schema->n_children; c++) {
      if (c > 0) text_puts(t, ", ");
      const char* name = schema->children[c]->name ? schema->children[c]->name : "";
      write_string(t, name, (int64_t)strlen(name), 1);
      text_puts(t, ": ");
      write_value(t, array->children[c], schema->children[c], i, 1);
    }
    text_puts(t, "}");
    return;
  }
  if (f[1] == 'u') { /* unions: type ids, and offsets when dense */
    int8_t type_id = ((const int8_t*)array->buffers[0])[i];
    /* The type codes after "+ud:" / "+us:", in child order. */
    int64_t child = -1, position = 0;
    const char* codes = f + 4;
    while (*codes) {
      if (atoi(codes) == type_id) {
        child = position;
        break;
      }
      codes = strchr(codes, ',');
      if (codes == NULL) break;
      codes++;
      position++;
    }
    if (child < 0 || child >= array->n_children) {
      text_puts(t, "?");
      return;
    }
    int64_t at = f[2] == 'd' ? ((const int32_t*)array->buffers[1])[i] : i;
    write_value(t, array->children[child], schema->children[child], at, nested);
    return;
  }
  if (f[1] == 'r') { /* run-end encoded: the run holding logical element i */
    const struct ArrowArray* ends = array->children[0];
    const char* ends_format = schema->children[0]->format;
    int64_t low = 0, high = ends->length;
    while (low < high) {
      int64_t middle = low + (high - low) / 2;
      if (read_int(ends, ends_format, ends->offset + middle) <= i) low = middle + 1;
      else high = middle;
    }
    write_value(t, array->children[1], schema->children[1], low, nested);
    return;
  }
  text_puts(t, "?");
}

/* ------------------------------------------------------------- table */

/* Display width of UTF-8 text: its code points. */
static size_t display_width(const char* s) {
  size_t width = 0;
  if (s == NULL) return 0; /* a cell lost to an allocation failure */
  for (; *s; s++) width += ((unsigned char)*s & 0xc0) != 0x80;
  return width;
}

/* Cuts `s` (malloc'd) to at most `max` code points, the last one "…";
 * returns it, reallocated when the ellipsis needs more bytes than the code
 * points it replaces (then NULL when out of memory, `s` freed). */
static char* cut(char* s, size_t max) {
  if (s == NULL || max == 0 || display_width(s) <= max) return s;
  size_t points = 0, at = 0;
  for (; s[at]; at++) {
    if (((unsigned char)s[at] & 0xc0) != 0x80) {
      if (points == max - 1) break;
      points++;
    }
  }
  char* room = realloc(s, at + sizeof "…");
  if (room == NULL) {
    free(s);
    return NULL;
  }
  memcpy(room + at, "…", sizeof "…");
  return room;
}

/* The widest cell, in characters (--max-width; 0: no limit). */
static size_t cell_max = 40;

int cli_set_max_width(const char* command, const char* text) {
  char* end;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0 || (value > 0 && value < 2)) {
    fprintf(stderr, "wasmudf: %s: --max-width takes a number of characters (at least 2; 0: "
                    "no limit), not '%s'\n", command, text);
    return CLI_EXIT_USAGE;
  }
  cell_max = (size_t)value;
  return 0;
}

struct table {
  const struct ArrowSchema* schema;
  int64_t columns;
  int64_t rows;       /* rows seen */
  int64_t head_max;   /* rows kept from the start */
  int64_t tail_max;   /* rows kept from the end */
  char** head;        /* head_max x columns cells */
  char** tail;        /* tail_max x columns cells, oldest row first */
  int right[1024];    /* numeric columns align right */
};

static char* format_cell(const struct ArrowArray* column, const struct ArrowSchema* schema,
                         int64_t row) {
  struct text t = {0};
  write_value(&t, column, schema, row, 0);
  if (t.failed || t.data == NULL) {
    free(t.data);
    return strdup(t.failed ? "(out of memory)" : "");
  }
  char* cell = cut(t.data, cell_max);
  return cell ? cell : strdup("(out of memory)");
}

static int numeric(const struct ArrowSchema* schema) {
  const char* f = schema->dictionary ? schema->dictionary->format : schema->format;
  return f[1] == '\0' && strchr("csilCSILefg", f[0]) != NULL ? 1 : f[0] == 'd' && f[1] == ':';
}

static void rule(FILE* out, const size_t* widths, int64_t columns, const char* left,
                 const char* middle, const char* right) {
  fputs(left, out);
  for (int64_t c = 0; c < columns; c++) {
    if (c > 0) fputs(middle, out);
    for (size_t k = 0; k < widths[c] + 2; k++) fputs("─", out);
  }
  fputs(right, out);
  fputc('\n', out);
}

static void cell(FILE* out, const char* s, size_t width, int align) {
  if (s == NULL) s = "";
  size_t pad = width - display_width(s);
  size_t before = align > 0 ? pad : align == 0 ? pad / 2 : 0;
  fprintf(out, " %*s%s%*s ", (int)before, "", s, (int)(pad - before), "");
}

static void print_row(FILE* out, char** cells, const size_t* widths, int64_t columns,
                      const int* right) {
  fputs("│", out);
  for (int64_t c = 0; c < columns; c++) {
    if (c > 0) fputs("│", out);
    cell(out, cells[c], widths[c], right[c] ? 1 : -1);
  }
  fputs("│\n", out);
}

/* Prints `stream` as a table on `out`, at most `max_rows` rows (the first
 * and last halves when longer; 0: all). 0, or an errno with `error` set. */
static int print_table(struct ArrowArrayStream* stream, FILE* out, int64_t max_rows,
                       struct wudf_error* error) {
  struct ArrowSchema schema;
  int status = stream->get_schema(stream, &schema);
  if (status != 0) {
    const char* message = stream->get_last_error(stream);
    snprintf(error->message, sizeof error->message, "%s", message ? message : "no schema");
    return status;
  }
  int64_t columns = schema.n_children;
  if (strcmp(schema.format, "+s") != 0 || columns > 1024) {
    snprintf(error->message, sizeof error->message,
             "the result is not a batch of at most 1024 columns (format '%s')", schema.format);
    schema.release(&schema);
    return EINVAL;
  }
  struct table table = {0};
  table.head_max = max_rows > 0 ? (max_rows + 1) / 2 : INT64_MAX;
  table.tail_max = max_rows > 0 ? max_rows / 2 : 0;
  size_t head_capacity = 0;
  if (table.tail_max > 0) {
    table.tail = calloc((size_t)(table.tail_max * (columns ? columns : 1)), sizeof(char*));
    if (table.tail == NULL) {
      schema.release(&schema);
      snprintf(error->message, sizeof error->message, "out of memory");
      return ENOMEM;
    }
  }
  int64_t tail_rows = 0;
  /* The batches holding rows after the head, newest last, kept (not
   * formatted) while their rows may be among the last tail_max: only the
   * rows shown are formatted, however long the input. */
  struct kept {
    struct ArrowArray batch;
    int64_t from, count; /* its rows after the head */
  }* kept = NULL;
  int64_t kept_count = 0, kept_capacity = 0, kept_rows = 0;
  struct ArrowArray batch;
  int failed_here = 0; /* out of memory in this loop (not the stream's error) */
  while (!failed_here && (status = stream->get_next(stream, &batch)) == 0 &&
         batch.release != NULL) {
    int64_t r = 0;
    for (; r < batch.length && table.rows < table.head_max && !failed_here; r++) {
      if ((size_t)(table.rows + 1) * (size_t)(columns ? columns : 1) > head_capacity) {
        size_t capacity = head_capacity ? head_capacity * 2 : (size_t)(64 * (columns ? columns : 1));
        char** head = realloc(table.head, capacity * sizeof(char*));
        if (head == NULL) {
          failed_here = 1;
          break;
        }
        table.head = head;
        head_capacity = capacity;
      }
      char** target = table.head + table.rows * columns;
      for (int64_t c = 0; c < columns; c++) {
        /* The batch's offset applies to its columns. */
        target[c] = format_cell(batch.children[c], schema.children[c], batch.offset + r);
      }
      table.rows++;
    }
    int64_t rest = failed_here ? 0 : batch.length - r;
    table.rows += rest;
    if (rest == 0 || table.tail_max == 0) {
      batch.release(&batch);
      continue;
    }
    if (kept_count == kept_capacity) {
      int64_t capacity = kept_capacity ? kept_capacity * 2 : 8;
      struct kept* grown = realloc(kept, (size_t)capacity * sizeof *kept);
      if (grown == NULL) {
        batch.release(&batch);
        failed_here = 1;
        break;
      }
      kept = grown;
      kept_capacity = capacity;
    }
    kept[kept_count].batch = batch;
    kept[kept_count].from = r;
    kept[kept_count].count = rest;
    kept_count++;
    kept_rows += rest;
    /* Let go of the oldest batches the newer ones cover. */
    int64_t drop = 0;
    while (kept_count - drop > 1 && kept_rows - kept[drop].count >= table.tail_max) {
      kept_rows -= kept[drop].count;
      kept[drop].batch.release(&kept[drop].batch);
      drop++;
    }
    if (drop > 0) {
      memmove(kept, kept + drop, (size_t)(kept_count - drop) * sizeof *kept);
      kept_count -= drop;
    }
  }
  /* The last rows, oldest first, into the tail. */
  if (!failed_here && status == 0 && kept_count > 0) {
    tail_rows = kept_rows < table.tail_max ? kept_rows : table.tail_max;
    int64_t skip = kept_rows - tail_rows;
    int64_t slot = 0;
    for (int64_t k = 0; k < kept_count; k++) {
      for (int64_t r = 0; r < kept[k].count; r++) {
        if (skip > 0) {
          skip--;
          continue;
        }
        const struct ArrowArray* b = &kept[k].batch;
        for (int64_t c = 0; c < columns; c++) {
          table.tail[slot * columns + c] =
              format_cell(b->children[c], schema.children[c], b->offset + kept[k].from + r);
        }
        slot++;
      }
    }
  }
  for (int64_t k = 0; k < kept_count; k++) kept[k].batch.release(&kept[k].batch);
  free(kept);
  if (failed_here) status = ENOMEM;
  if (out == stdout) cli_progress_clear(); /* the table goes where the line is */
  if (status != 0) {
    const char* message = failed_here ? "out of memory" : stream->get_last_error(stream);
    snprintf(error->message, sizeof error->message, "%s", message ? message : strerror(status));
  } else {
    /* The widths: the name, the type, the cells. */
    size_t* widths = calloc((size_t)(columns ? columns : 1), sizeof(size_t));
    char** types = calloc((size_t)(columns ? columns : 1), sizeof(char*));
    char** names = calloc((size_t)(columns ? columns : 1), sizeof(char*));
    int64_t head_rows = table.rows < table.head_max ? table.rows : table.head_max;
    int elided = table.rows > head_rows + tail_rows;
    for (int64_t c = 0; widths && types && names && c < columns; c++) {
      struct text t = {0};
      type_name(&t, schema.children[c]);
      types[c] = t.data ? t.data : strdup("");
      types[c] = cut(types[c], cell_max);
      if (types[c] == NULL) types[c] = strdup("?");
      names[c] = strdup(schema.children[c]->name ? schema.children[c]->name : "");
      names[c] = cut(names[c], cell_max);
      table.right[c] = numeric(schema.children[c]);
      widths[c] = display_width(types[c]);
      if (names[c] && display_width(names[c]) > widths[c]) widths[c] = display_width(names[c]);
      for (int64_t r = 0; r < head_rows; r++) {
        size_t w = display_width(table.head[r * columns + c]);
        if (w > widths[c]) widths[c] = w;
      }
      for (int64_t r = 0; r < tail_rows; r++) {
        size_t w = display_width(table.tail[r * columns + c]);
        if (w > widths[c]) widths[c] = w;
      }
      if (widths[c] < 4) widths[c] = 4; /* room for NULL */
    }
    if (widths && types && names) {
      rule(out, widths, columns, "┌", "┬", "┐");
      fputs("│", out);
      for (int64_t c = 0; c < columns; c++) {
        if (c > 0) fputs("│", out);
        cell(out, names[c] ? names[c] : "", widths[c], 0);
      }
      fputs("│\n│", out);
      for (int64_t c = 0; c < columns; c++) {
        if (c > 0) fputs("│", out);
        cell(out, types[c], widths[c], 0);
      }
      fputs("│\n", out);
      rule(out, widths, columns, "├", "┼", "┤");
      for (int64_t r = 0; r < head_rows; r++) {
        print_row(out, table.head + r * columns, widths, columns, table.right);
      }
      if (elided) {
        fputs("│", out);
        for (int64_t c = 0; c < columns; c++) {
          if (c > 0) fputs("│", out);
          cell(out, "⋮", widths[c], 0);
        }
        fputs("│\n", out);
      }
      for (int64_t r = 0; r < tail_rows; r++) {
        print_row(out, table.tail + r * columns, widths, columns, table.right);
      }
      rule(out, widths, columns, "└", "┴", "┘");
      if (elided) {
        fprintf(out, "  %" PRId64 " rows (%" PRId64 " shown)  %" PRId64 " column%s\n",
                table.rows, head_rows + tail_rows, columns, columns == 1 ? "" : "s");
      } else {
        fprintf(out, "  %" PRId64 " row%s  %" PRId64 " column%s\n", table.rows,
                table.rows == 1 ? "" : "s", columns, columns == 1 ? "" : "s");
      }
    } else {
      status = ENOMEM;
      snprintf(error->message, sizeof error->message, "out of memory");
    }
    for (int64_t c = 0; types && names && c < columns; c++) {
      free(types[c]);
      free(names[c]);
    }
    free(types);
    free(names);
    free(widths);
  }
  int64_t head_rows = table.rows < table.head_max ? table.rows : table.head_max;
  for (int64_t k = 0; k < head_rows * columns; k++) free(table.head[k]);
  for (int64_t k = 0; k < tail_rows * columns; k++) free(table.tail[k]);
  free(table.head);
  free(table.tail);
  schema.release(&schema);
  if (status == 0 && fflush(out) != 0) {
    snprintf(error->message, sizeof error->message, "standard output: %s", strerror(errno));
    status = EIO;
  }
  return status;
}

/* ------------------------------------------------------------ output */

int cli_output_format(const char* output_path, const char* format_name,
                      enum cli_format* format) {
  if (format_name != NULL) {
    if (strcmp(format_name, "table") == 0) *format = CLI_FORMAT_TABLE;
    else if (strcmp(format_name, "csv") == 0) *format = CLI_FORMAT_CSV;
    else if (strcmp(format_name, "jsonl") == 0 || strcmp(format_name, "json") == 0)
      *format = CLI_FORMAT_JSONL;
    else if (strcmp(format_name, "arrow") == 0) *format = CLI_FORMAT_ARROW;
    else if (strcmp(format_name, "arrows") == 0) *format = CLI_FORMAT_ARROWS;
    else {
      fprintf(stderr, "wasmudf: --format takes table, csv, jsonl, arrow or arrows, not '%s'\n",
              format_name);
      return CLI_EXIT_USAGE;
    }
    return 0;
  }
  if (output_path == NULL) {
    *format = CLI_FORMAT_TABLE;
    return 0;
  }
  size_t n = strlen(output_path);
#define ENDS(s) (n >= strlen(s) && strcmp(output_path + n - strlen(s), s) == 0)
  if (ENDS(".csv")) *format = CLI_FORMAT_CSV;
  else if (ENDS(".jsonl") || ENDS(".json")) *format = CLI_FORMAT_JSONL;
  else if (ENDS(".arrow") || ENDS(".feather")) *format = CLI_FORMAT_ARROW;
  else if (ENDS(".arrows")) *format = CLI_FORMAT_ARROWS;
  else if (ENDS(".txt")) *format = CLI_FORMAT_TABLE;
  else {
    fprintf(stderr, "wasmudf: %s: unknown output format (use .arrow, .arrows, .csv, .jsonl or "
                    ".txt, or --format)\n", output_path);
    return CLI_EXIT_USAGE;
  }
#undef ENDS
  return 0;
}

int cli_write_stream(struct ArrowArrayStream* stream, const char* output_path,
                     enum cli_format format, int64_t max_rows, struct wudf_error* error) {
  const char* path = output_path ? output_path : "-";
  memset(error, 0, sizeof *error);
  switch (format) {
    case CLI_FORMAT_TABLE: {
      FILE* out = stdout;
      if (output_path != NULL && strcmp(output_path, "-") != 0) {
        out = fopen(output_path, "w");
        if (out == NULL) {
          int code = errno;
          snprintf(error->message, sizeof error->message, "%s: %s", output_path, strerror(code));
          stream->release(stream);
          return code;
        }
      }
      int status = print_table(stream, out, output_path ? 0 : max_rows, error);
      stream->release(stream); /* as the library's writers do */
      if (out != stdout && fclose(out) != 0 && status == 0) {
        status = EIO;
        snprintf(error->message, sizeof error->message, "%s: %s", output_path, strerror(errno));
      }
      return status;
    }
    case CLI_FORMAT_CSV: return wudf_csv_write_stream(stream, path, ',', error);
    case CLI_FORMAT_JSONL: return wudf_jsonl_write_stream(stream, path, error);
    case CLI_FORMAT_ARROW:
    case CLI_FORMAT_ARROWS: {
      struct wudf_ipc_write_options options;
      wudf_ipc_write_options_init(&options);
      options.format = format == CLI_FORMAT_ARROWS ? WUDF_IPC_STREAM : WUDF_IPC_FILE;
      return wudf_ipc_write_stream(stream, path, &options, error);
    }
  }
  return EINVAL;
}

/* ------------------------------------------------- a stream of batches */

struct batches {
  struct ArrowArray* batches;
  int64_t count, next;
  struct ArrowSchema schema;
};

static void batches_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

static int batches_get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  struct batches* b = stream->private_data;
  *out = b->schema; /* borrowed: the stream outlives its consumers here */
  out->release = batches_schema_release;
  return 0;
}

static int batches_get_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct batches* b = stream->private_data;
  if (b->next < b->count) {
    *out = b->batches[b->next];
    b->batches[b->next++].release = NULL;
  } else {
    memset(out, 0, sizeof *out);
  }
  return 0;
}

static const char* batches_last_error(struct ArrowArrayStream* stream) {
  (void)stream;
  return NULL;
}

static void batches_release(struct ArrowArrayStream* stream) {
  struct batches* b = stream->private_data;
  for (int64_t k = 0; k < b->count; k++) {
    if (b->batches[k].release) b->batches[k].release(&b->batches[k]);
  }
  free(b->batches);
  if (b->schema.release) b->schema.release(&b->schema);
  free(b);
  stream->release = NULL;
}

int cli_batches_stream(struct ArrowArray* batches, int64_t count, struct ArrowSchema* schema,
                       struct ArrowArrayStream* out) {
  struct batches* b = calloc(1, sizeof *b);
  struct ArrowArray* copy = calloc((size_t)(count ? count : 1), sizeof *copy);
  if (b == NULL || copy == NULL) {
    free(b);
    free(copy);
    for (int64_t k = 0; k < count; k++) {
      if (batches[k].release) batches[k].release(&batches[k]);
    }
    if (schema->release) schema->release(schema);
    return ENOMEM;
  }
  for (int64_t k = 0; k < count; k++) {
    copy[k] = batches[k];
    batches[k].release = NULL;
  }
  b->batches = copy;
  b->count = count;
  b->schema = *schema;
  schema->release = NULL;
  out->get_schema = batches_get_schema;
  out->get_next = batches_get_next;
  out->get_last_error = batches_last_error;
  out->release = batches_release;
  out->private_data = b;
  return 0;
}

/* ------------------------------------------------ values for group keys */

char* cli_value_text(const struct ArrowArray* array, const struct ArrowSchema* schema,
                     int64_t index) {
  struct text t = {0};
  write_value(&t, array, schema, index, 0);
  if (t.failed) {
    free(t.data);
    return NULL;
  }
  return t.data ? t.data : strdup("");
}
