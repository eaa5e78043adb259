/*
 * csv_read.c -- CSV input (wudf_csv_read_path, wudf_csv_read_memory): the
 * whole input is read and split into cells (RFC 4180 quoting), every
 * column's type is inferred or taken from the caller's schema and every
 * value checked against it during the call, so the stream it returns can
 * only fail for lack of memory. Batches are built on demand, each column
 * an independent array (its release frees only its own buffers).
 *
 * Type inference (as pyarrow's CSV reader, in its order): a column starts
 * as null and moves to the first kind of int64, bool, float64, date32,
 * time32[s], timestamp, utf8, binary that parses every non-null value seen
 * so far; null words are nulls except in utf8 and binary columns.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../arrow/format.h"
#include "../arrow/gather.h"
#include "../common/common.h"

enum wudf__csv_kind { K_NULL, K_INT, K_BOOL, K_FLOAT, K_DATE, K_TIME, K_TIMESTAMP, K_STRING,
                      K_BINARY, K_KINDS };

struct wudf__csv_cell {
  uint64_t start;
  uint32_t length;
  uint8_t quoted;
};

struct wudf__csv_column {
  char* name;
  char format[64];
  struct wudf__format parsed;
  int kind;       /* the parser used: enum wudf__csv_kind */
  int unit;       /* timestamps and times: 0 s, 1 ms, 2 us, 3 ns */
  int utc;        /* timestamps: values end with Z */
  int nullable;
  int64_t flags;
};

struct wudf__csv_reader {
  char* text;                    /* the input, unescaped in place */
  size_t size;
  struct wudf__csv_cell* cells;  /* rows x columns */
  size_t cell_count, cell_capacity;
  int64_t* lines;                /* the line of each row */
  int64_t rows, columns, next_row, batch_rows;
  int64_t first_row;             /* 1 after a header row */
  struct wudf__csv_column* column;
  struct ArrowSchema schema_view; /* borrowed tree for wudf__schema_export */
  struct ArrowSchema** child_views;
  struct ArrowSchema* child_storage;
  char name[256];
  struct wudf_error failure;
};

static const char* const wudf__null_words[] = {"", "NA", "N/A", "n/a", "NULL", "null", "NaN",
                                                "nan", "#N/A", "-NaN", "-nan"};

static int wudf__is_null_word(const char* s, uint32_t n) {
  for (size_t i = 0; i < sizeof wudf__null_words / sizeof *wudf__null_words; i++) {
    if (strlen(wudf__null_words[i]) == n && memcmp(s, wudf__null_words[i], n) == 0) return 1;
  }
  return 0;
}

/* ---------------------------------------------------------- parsers */

static int wudf__parse_int(const char* s, uint32_t n, int64_t* out) {
  uint32_t i = 0;
  int negative = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  if (i == n) return -1;
  uint64_t v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    if (v > (UINT64_MAX - 9) / 10) return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (negative ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) return -1;
  *out = negative ? (int64_t)(0 - v) : (int64_t)v;
  return 0;
}

static int wudf__parse_uint(const char* s, uint32_t n, uint64_t* out) {
  uint32_t i = 0;
  if (i < n && s[i] == '+') i++;
  if (i == n) return -1;
  uint64_t v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return 0;
}

static int wudf__parse_bool(const char* s, uint32_t n, int* out) {
  static const char* const yes[] = {"true", "True", "TRUE", "1"};
  static const char* const no[] = {"false", "False", "FALSE", "0"};
  for (int i = 0; i < 4; i++) {
    if (strlen(yes[i]) == n && memcmp(s, yes[i], n) == 0) return *out = 1, 0;
    if (strlen(no[i]) == n && memcmp(s, no[i], n) == 0) return *out = 0, 0;
  }
  return -1;
}

static int wudf__parse_float(const char* s, uint32_t n, double* out) {
  char buffer[128];
  if (n == 0 || n >= sizeof buffer) return -1;
  uint32_t i = 0, digits = 0;
  if (s[i] == '-' || s[i] == '+') i++;
  if (n - i == 3 && (memcmp(s + i, "inf", 3) == 0 || memcmp(s + i, "Inf", 3) == 0)) {
    *out = s[0] == '-' ? -INFINITY : INFINITY;
    return 0;
  }
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
  if (i < n && s[i] == '.') {
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
  }
  if (digits == 0) return -1;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    uint32_t exponent_digits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) exponent_digits++;
    if (exponent_digits == 0) return -1;
  }
  if (i != n) return -1;
  memcpy(buffer, s, n);
  buffer[n] = '\0';
  *out = strtod(buffer, NULL);
  return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (days-from-civil:
 * years counted from March, in 400-year eras of 146,097 days). */
static int64_t wudf__days_from_civil(int64_t year, int month, int day) {
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

static int wudf__digits(const char* s, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* YYYY-MM-DD at the start of `s` (10 bytes). */
static int wudf__parse_date(const char* s, uint32_t n, int64_t* days) {
  int year, month, day;
  if (n < 10 || s[4] != '-' || s[7] != '-' || wudf__digits(s, 4, &year) != 0 ||
      wudf__digits(s + 5, 2, &month) != 0 || wudf__digits(s + 8, 2, &day) != 0) {
    return -1;
  }
  static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1]) return -1;
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return -1;
  *days = wudf__days_from_civil(year, month, day);
  return 0;
}

/* HH:MM:SS[.fraction] of exactly `n` bytes: nanoseconds in the day and the
 * fraction's digit count. */
static int wudf__parse_clock(const char* s, uint32_t n, int64_t* nanos, int* fraction_digits) {
  int hour, minute, second;
  if (n < 8 || s[2] != ':' || s[5] != ':' || wudf__digits(s, 2, &hour) != 0 ||
      wudf__digits(s + 3, 2, &minute) != 0 || wudf__digits(s + 6, 2, &second) != 0 ||
      hour > 23 || minute > 59 || second > 59) {
    return -1;
  }
  int64_t fraction = 0;
  int count = 0;
  if (n > 8) {
    if (s[8] != '.' || n == 9 || n > 18) return -1;
    for (uint32_t i = 9; i < n; i++) {
      if (s[i] < '0' || s[i] > '9') return -1;
      fraction = fraction * 10 + (s[i] - '0');
      count++;
    }
    for (int i = count; i < 9; i++) fraction *= 10;
  }
  *nanos = ((int64_t)hour * 3600 + minute * 60 + second) * 1000000000 + fraction;
  *fraction_digits = count;
  return 0;
}

/* YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z]: nanoseconds since the epoch. */
static int wudf__parse_timestamp(const char* s, uint32_t n, int64_t* nanos, int* digits,
                                 int* utc) {
  int64_t days, clock;
  *utc = n > 0 && s[n - 1] == 'Z';
  if (*utc) n--;
  if (n < 19 || (s[10] != 'T' && s[10] != ' ') || wudf__parse_date(s, 10, &days) != 0 ||
      wudf__parse_clock(s + 11, n - 11, &clock, digits) != 0) {
    return -1;
  }
  if (days > 106751 || days < -106751) return -1; /* the int64 nanosecond range */
  *nanos = days * 86400 * (int64_t)1000000000 + clock;
  return 0;
}

static const int64_t wudf__unit_divisor[4] = {1000000000, 1000000, 1000, 1};

/* ------------------------------------------------------------ cells */

static int wudf__push_cell(struct wudf__csv_reader* r, uint64_t start, uint64_t length,
                           int quoted) {
  if (length > UINT32_MAX) return EFBIG;
  if (r->cell_count == r->cell_capacity) {
    size_t capacity = r->cell_capacity ? 2 * r->cell_capacity : 1024;
    void* grown = wudf__realloc(r->cells, capacity * sizeof *r->cells);
    if (grown == NULL) return ENOMEM;
    r->cells = grown;
    r->cell_capacity = capacity;
  }
  r->cells[r->cell_count].start = start;
  r->cells[r->cell_count].length = (uint32_t)length;
  r->cells[r->cell_count].quoted = (uint8_t)quoted;
  r->cell_count++;
  return 0;
}

/* Splits the text into rows of cells; the first row's width is the
 * table's. Lines that are empty are skipped. */
static int wudf__split(struct wudf__csv_reader* r, char delimiter, struct wudf_error* error) {
  char* s = r->text;
  size_t size = r->size, pos = 0;
  int64_t line = 1, lines_capacity = 0;
  while (pos < size) {
    int64_t row_line = line;
    size_t row_start = r->cell_count;
    for (;;) {
      int status;
      if (pos < size && s[pos] == '"') {
        size_t out = ++pos, start = out;
        int64_t quote_line = line;
        for (;;) {
          if (pos >= size) {
            return wudf__set_error(error, EINVAL, "%s: line %lld: a quote that is never closed",
                                   r->name, (long long)quote_line);
          }
          char c = s[pos];
          if (c == '"') {
            if (pos + 1 < size && s[pos + 1] == '"') {
              s[out++] = '"';
              pos += 2;
              continue;
            }
            pos++;
            break;
          }
          if (c == '\n') line++;
          s[out++] = c;
          pos++;
        }
        if (pos < size && s[pos] != delimiter && s[pos] != '\n' && s[pos] != '\r') {
          return wudf__set_error(error, EINVAL, "%s: line %lld: text after a closing quote",
                                 r->name, (long long)line);
        }
        status = wudf__push_cell(r, start, out - start, 1);
      } else {
        size_t start = pos;
        while (pos < size && s[pos] != delimiter && s[pos] != '\n' && s[pos] != '\r') pos++;
        status = wudf__push_cell(r, start, pos - start, 0);
      }
      if (status != 0) {
        return wudf__set_error(error, status, "%s: line %lld: %s", r->name, (long long)line,
                               status == EFBIG ? "a field over 4 GiB" : "out of memory");
      }
      if (pos < size && s[pos] == delimiter) {
        pos++;
        continue;
      }
      if (pos < size && s[pos] == '\r') pos++;
      if (pos < size && s[pos] == '\n') pos++;
      line++;
      break;
    }
    size_t width = r->cell_count - row_start;
    if (width == 1 && r->cells[row_start].length == 0 && !r->cells[row_start].quoted) {
      r->cell_count = row_start; /* an empty line */
      continue;
    }
    if (r->columns == 0) r->columns = (int64_t)width;
    if ((int64_t)width != r->columns) {
      return wudf__set_error(error, EINVAL, "%s: line %lld: %zu fields, expected %lld",
                             r->name, (long long)row_line, width, (long long)r->columns);
    }
    if (r->rows == lines_capacity) {
      lines_capacity = lines_capacity ? 2 * lines_capacity : 1024;
      void* grown = wudf__realloc(r->lines, (size_t)lines_capacity * sizeof *r->lines);
      if (grown == NULL) return wudf__set_error(error, ENOMEM, "%s: out of memory", r->name);
      r->lines = grown;
    }
    r->lines[r->rows++] = row_line;
  }
  return 0;
}

static const struct wudf__csv_cell* wudf__cell(const struct wudf__csv_reader* r, int64_t row,
                                               int64_t column) {
  return &r->cells[row * r->columns + column];
}

/* ------------------------------------------------------------ types */

/* Whether `cell` parses as `kind` (for timestamps, updating the unit and
 * the zone flag seen). */
static int wudf__fits(struct wudf__csv_reader* r, const struct wudf__csv_cell* cell, int kind,
                      struct wudf__csv_column* column, int first) {
  const char* s = r->text + cell->start;
  uint32_t n = cell->length;
  int64_t i;
  double d;
  int b, digits, utc;
  switch (kind) {
    case K_NULL: return 0;
    case K_INT: return wudf__parse_int(s, n, &i) == 0;
    case K_BOOL: return wudf__parse_bool(s, n, &b) == 0;
    case K_FLOAT: return wudf__parse_float(s, n, &d) == 0;
    case K_DATE: return n == 10 && wudf__parse_date(s, n, &i) == 0;
    case K_TIME: return wudf__parse_clock(s, n, &i, &digits) == 0 && digits == 0;
    case K_TIMESTAMP:
      if (wudf__parse_timestamp(s, n, &i, &digits, &utc) != 0) return 0;
      if (first) {
        column->utc = utc;
        column->unit = 0;
      } else if (utc != column->utc) {
        return 0;
      }
      /* As pyarrow: whole seconds, or nanoseconds with any fraction. */
      if (digits > 0) column->unit = 3;
      return 1;
    case K_STRING: {
      size_t bad;
      return wudf__utf8_valid((const uint8_t*)s, n, &bad);
    }
    default: return 1;
  }
}

static int wudf__null_cell(const struct wudf__csv_reader* r, const struct wudf__csv_cell* cell,
                           int kind) {
  if (kind == K_STRING || kind == K_BINARY) return 0;
  return wudf__is_null_word(r->text + cell->start, cell->length);
}

/* Infers the type of column `c`. */
static void wudf__infer(struct wudf__csv_reader* r, int64_t c, int64_t first_row) {
  struct wudf__csv_column* column = &r->column[c];
  int kind = K_NULL;
  for (int64_t row = first_row; row < r->rows; row++) {
    const struct wudf__csv_cell* cell = wudf__cell(r, row, c);
    if (wudf__null_cell(r, cell, K_INT)) continue;
    if (kind != K_NULL && wudf__fits(r, cell, kind, column, 0)) continue;
    /* Move to the first later kind that fits every non-null value so far. */
    for (kind = kind + 1; kind < K_BINARY; kind++) {
      int all = 1, first = 1;
      for (int64_t k = first_row; k <= row && all; k++) {
        const struct wudf__csv_cell* earlier = wudf__cell(r, k, c);
        if (wudf__null_cell(r, earlier, kind)) continue;
        all = wudf__fits(r, earlier, kind, column, first);
        first = 0;
      }
      if (all) break;
    }
  }
  column->kind = kind;
  static const char units[] = "smun";
  switch (kind) {
    case K_NULL: strcpy(column->format, "n"); break;
    case K_INT: strcpy(column->format, "l"); break;
    case K_BOOL: strcpy(column->format, "b"); break;
    case K_FLOAT: strcpy(column->format, "g"); break;
    case K_DATE: strcpy(column->format, "tdD"); break;
    case K_TIME: strcpy(column->format, "tts"); column->unit = 0; break;
    case K_TIMESTAMP:
      snprintf(column->format, sizeof column->format, "ts%c:%s", units[column->unit],
               column->utc ? "UTC" : "");
      break;
    case K_STRING: strcpy(column->format, "u"); break;
    default: strcpy(column->format, "z"); column->kind = K_BINARY; break;
  }
  column->nullable = 1;
}

/* The parser kind for a declared format, or -1. */
static int wudf__kind_of(const char* format, const struct wudf__format* f, int* unit) {
  if (f->integer) return K_INT;
  if (strcmp(format, "n") == 0) return K_NULL;
  if (strcmp(format, "b") == 0) return K_BOOL;
  if (strcmp(format, "f") == 0 || strcmp(format, "g") == 0) return K_FLOAT;
  if (strcmp(format, "u") == 0 || strcmp(format, "U") == 0) return K_STRING;
  if (strcmp(format, "z") == 0 || strcmp(format, "Z") == 0) return K_BINARY;
  if (strcmp(format, "tdD") == 0 || strcmp(format, "tdm") == 0) return K_DATE;
  if (format[0] == 't' && (format[1] == 's' || format[1] == 't')) {
    *unit = f->unit == WUDF__UNIT_S ? 0 : f->unit == WUDF__UNIT_MS ? 1 : f->unit == WUDF__UNIT_US ? 2 : 3;
    return format[1] == 's' ? K_TIMESTAMP : K_TIME;
  }
  return -1;
}

/* Checks every value of declared column `c`. */
static int wudf__check_column(struct wudf__csv_reader* r, int64_t c, int64_t first_row,
                              struct wudf_error* error) {
  struct wudf__csv_column* column = &r->column[c];
  for (int64_t row = first_row; row < r->rows; row++) {
    const struct wudf__csv_cell* cell = wudf__cell(r, row, c);
    const char* s = r->text + cell->start;
    uint32_t n = cell->length;
    if (wudf__null_cell(r, cell, column->kind)) {
      if (!column->nullable) {
        return wudf__set_error(error, EINVAL, "%s: line %lld, column '%s': a null in a column "
                               "declared not null", r->name, (long long)r->lines[row],
                               column->name);
      }
      continue;
    }
    int ok = 1;
    int64_t i;
    uint64_t u;
    double d;
    int b, digits, utc;
    switch (column->kind) {
      case K_NULL: ok = 0; break;
      case K_INT:
        if (column->parsed.integer == 2) {
          ok = wudf__parse_uint(s, n, &u) == 0 &&
               (column->parsed.byte_width == 8 || u < (1ull << (8 * column->parsed.byte_width)));
        } else {
          int64_t limit = column->parsed.byte_width == 8 ? INT64_MAX
                          : (int64_t)1 << (8 * column->parsed.byte_width - 1);
          ok = wudf__parse_int(s, n, &i) == 0 &&
               (column->parsed.byte_width == 8 || (i >= -limit && i < limit));
        }
        break;
      case K_BOOL: ok = wudf__parse_bool(s, n, &b) == 0; break;
      case K_FLOAT: ok = wudf__parse_float(s, n, &d) == 0; break;
      case K_DATE: ok = n == 10 && wudf__parse_date(s, n, &i) == 0; break;
      case K_TIME: ok = wudf__parse_clock(s, n, &i, &digits) == 0; break;
      case K_TIMESTAMP:
        /* A zoned type needs the zone (Z) written, as pyarrow's reader. */
        ok = wudf__parse_timestamp(s, n, &i, &digits, &utc) == 0 &&
             (utc || column->format[4] == '\0');
        break;
      case K_STRING: {
        size_t bad;
        ok = wudf__utf8_valid((const uint8_t*)s, n, &bad);
        break;
      }
      default: break;
    }
    if (!ok) {
      return wudf__set_error(error, EINVAL, "%s: line %lld, column '%s': '%.*s' is not a "
                             "value of type '%s'", r->name, (long long)r->lines[row],
                             column->name, (int)(n > 64 ? 64 : n), s, column->format);
    }
  }
  return 0;
}

/* ------------------------------------------------------------ batches */

struct wudf__csv_node {
  void* blocks[3];
  const void* buffers[3];
  struct ArrowArray* children;
  struct ArrowArray** child_pointers;
};

static void wudf__csv_node_release(struct ArrowArray* array) {
  struct wudf__csv_node* node = array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    if (node->child_pointers[i]->release) node->child_pointers[i]->release(node->child_pointers[i]);
  }
  for (int i = 0; i < 3; i++) wudf__free(node->blocks[i]);
  wudf__free(node->children);
  wudf__free(node->child_pointers);
  wudf__free(node);
  array->release = NULL;
}

/* Builds rows [first, first + count) of column `c` into `out`. */
static int wudf__build_column(struct wudf__csv_reader* r, int64_t c, int64_t first, int64_t count,
                              struct ArrowArray* out) {
  struct wudf__csv_column* column = &r->column[c];
  struct wudf__csv_node* node = wudf__calloc(1, sizeof *node);
  if (node == NULL) return ENOMEM;
  memset(out, 0, sizeof *out);
  out->length = count;
  out->private_data = node;
  out->release = wudf__csv_node_release;
  out->buffers = node->buffers;
  if (column->kind == K_NULL) {
    out->null_count = count;
    out->n_buffers = 0;
    return 0;
  }
  const struct wudf__format* f = &column->parsed;
  int text = column->kind == K_STRING || column->kind == K_BINARY;
  int large = strcmp(column->format, "U") == 0 || strcmp(column->format, "Z") == 0;
  out->n_buffers = text ? 3 : 2;
  uint8_t* validity = wudf__calloc((size_t)(count + 7) / 8 + 1, 1);
  node->blocks[0] = validity;
  size_t width = column->kind == K_BOOL ? 0 : text ? (large ? 8 : 4) : (size_t)f->byte_width;
  size_t values_size = column->kind == K_BOOL ? (size_t)(count + 7) / 8 + 1
                                              : width * (size_t)(count + (text ? 1 : 0));
  uint8_t* values = wudf__calloc(values_size ? values_size : 1, 1);
  node->blocks[1] = values;
  if (validity == NULL || values == NULL) {
    wudf__csv_node_release(out);
    return ENOMEM;
  }
  uint64_t data_size = 0;
  int64_t nulls = 0;
  for (int64_t k = 0; k < count; k++) {
    const struct wudf__csv_cell* cell = wudf__cell(r, first + k, c);
    const char* s = r->text + cell->start;
    uint32_t n = cell->length;
    if (wudf__null_cell(r, cell, column->kind)) {
      nulls++;
      if (text) {
        if (large) memcpy(values + 8 * (k + 1), &data_size, 8);
        else {
          int32_t o = (int32_t)data_size;
          memcpy(values + 4 * (k + 1), &o, 4);
        }
      }
      continue;
    }
    validity[k / 8] |= (uint8_t)(1u << (k % 8));
    int64_t i = 0, clock;
    uint64_t u = 0;
    double d = 0;
    int b = 0, digits = 0, utc = 0;
    switch (column->kind) {
      case K_INT:
        if (f->integer == 2) {
          wudf__parse_uint(s, n, &u);
          memcpy(values + width * (size_t)k, &u, width);
        } else {
          wudf__parse_int(s, n, &i);
          memcpy(values + width * (size_t)k, &i, width); /* little-endian: the low bytes */
        }
        break;
      case K_BOOL:
        wudf__parse_bool(s, n, &b);
        if (b) values[k / 8] |= (uint8_t)(1u << (k % 8));
        break;
      case K_FLOAT:
        wudf__parse_float(s, n, &d);
        if (width == 8) {
          memcpy(values + 8 * k, &d, 8);
        } else {
          float x = (float)d;
          memcpy(values + 4 * k, &x, 4);
        }
        break;
      case K_DATE:
        wudf__parse_date(s, n, &i);
        if (width == 4) {
          int32_t v = (int32_t)i;
          memcpy(values + 4 * k, &v, 4);
        } else {
          i *= 86400000;
          memcpy(values + 8 * k, &i, 8);
        }
        break;
      case K_TIME:
        wudf__parse_clock(s, n, &clock, &digits);
        clock /= wudf__unit_divisor[column->unit];
        if (width == 4) {
          int32_t v = (int32_t)clock;
          memcpy(values + 4 * k, &v, 4);
        } else {
          memcpy(values + 8 * k, &clock, 8);
        }
        break;
      case K_TIMESTAMP:
        wudf__parse_timestamp(s, n, &i, &digits, &utc);
        i = i >= 0 ? i / wudf__unit_divisor[column->unit]
                   : -((-i + wudf__unit_divisor[column->unit] - 1) / wudf__unit_divisor[column->unit]);
        memcpy(values + 8 * k, &i, 8);
        break;
      default: /* text */
        data_size += n;
        if (large) {
          memcpy(values + 8 * (k + 1), &data_size, 8);
        } else {
          if (data_size > INT32_MAX) {
            wudf__csv_node_release(out);
            return EOVERFLOW;
          }
          int32_t o = (int32_t)data_size;
          memcpy(values + 4 * (k + 1), &o, 4);
        }
    }
  }
  out->null_count = nulls;
  node->buffers[0] = nulls ? validity : NULL;
  node->buffers[1] = values;
  if (text) {
    uint8_t* data = wudf__malloc(data_size ? data_size : 1);
    node->blocks[2] = data;
    if (data == NULL) {
      wudf__csv_node_release(out);
      return ENOMEM;
    }
    uint64_t at = 0;
    for (int64_t k = 0; k < count; k++) {
      const struct wudf__csv_cell* cell = wudf__cell(r, first + k, c);
      if (wudf__null_cell(r, cell, column->kind)) continue;
      memcpy(data + at, r->text + cell->start, cell->length);
      at += cell->length;
    }
    node->buffers[2] = data;
  }
  return 0;
}

static int wudf__csv_get_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct wudf__csv_reader* r = stream->private_data;
  memset(out, 0, sizeof *out);
  if (r->next_row >= r->rows) return 0;
  int64_t count = r->rows - r->next_row < r->batch_rows ? r->rows - r->next_row : r->batch_rows;
  struct wudf__csv_node* node = wudf__calloc(1, sizeof *node);
  struct ArrowArray* children = wudf__calloc((size_t)r->columns + 1, sizeof *children);
  struct ArrowArray** pointers = wudf__calloc((size_t)r->columns + 1, sizeof *pointers);
  if (node == NULL || children == NULL || pointers == NULL) {
    wudf__free(node);
    wudf__free(children);
    wudf__free(pointers);
    wudf__set_error(&r->failure, ENOMEM, "%s: out of memory", r->name);
    return ENOMEM;
  }
  node->children = children;
  node->child_pointers = pointers;
  out->length = count;
  out->n_buffers = 1;
  out->buffers = node->buffers;
  out->children = pointers;
  out->private_data = node;
  out->release = wudf__csv_node_release;
  for (int64_t c = 0; c < r->columns; c++) {
    pointers[c] = &children[c];
    int status = wudf__build_column(r, c, r->next_row, count, &children[c]);
    if (status != 0) {
      out->n_children = c;
      out->release(out);
      wudf__set_error(&r->failure, status, "%s: column '%s': %s", r->name, r->column[c].name,
                      status == EOVERFLOW ? "more than 2 GiB of text in one batch (use a "
                                            "large_utf8 schema or smaller batches)"
                                          : "out of memory");
      return status;
    }
    out->n_children = c + 1;
  }
  r->next_row += count;
  return 0;
}

static void wudf__csv_reader_free(struct wudf__csv_reader* r) {
  if (r == NULL) return;
  for (int64_t c = 0; r->column && c < r->columns; c++) wudf__free(r->column[c].name);
  wudf__free(r->column);
  wudf__free(r->text);
  wudf__free(r->cells);
  wudf__free(r->lines);
  wudf__free(r->child_views);
  wudf__free(r->child_storage);
  wudf__free(r);
}

static int wudf__csv_get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  struct wudf__csv_reader* r = stream->private_data;
  return wudf__schema_export(&r->schema_view, NULL, out, &r->failure);
}

static const char* wudf__csv_last_error(struct ArrowArrayStream* stream) {
  struct wudf__csv_reader* r = stream->private_data;
  return r->failure.message[0] ? r->failure.message : NULL;
}

int wudf_csv_read_progress(const struct ArrowArrayStream* stream, int64_t* done,
                           int64_t* total, struct wudf_error* error) {
  if (stream == NULL || stream->release == NULL || stream->get_next != wudf__csv_get_next ||
      done == NULL || total == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_csv_read_progress: not an open stream of "
                                         "wudf_csv_read_*, or a NULL out pointer");
  }
  const struct wudf__csv_reader* r = stream->private_data;
  *total = r->rows > r->first_row ? r->rows - r->first_row : 0;
  *done = r->next_row > r->first_row ? r->next_row - r->first_row : 0;
  return 0;
}

static void wudf__csv_release(struct ArrowArrayStream* stream) {
  wudf__csv_reader_free(stream->private_data);
  stream->release = NULL;
}

static void wudf__view_release(struct ArrowSchema* schema) { (void)schema; }

/* Parses the text the reader holds and opens the stream. Frees `r` on
 * failure. */
static int wudf__csv_open(struct wudf__csv_reader* r, const struct wudf_csv_read_options* options,
                          struct ArrowArrayStream* out, struct wudf_error* error) {
  struct wudf_csv_read_options defaults;
  wudf_csv_read_options_init(&defaults);
  if (options == NULL) options = &defaults;
  char delimiter = options->delimiter ? options->delimiter : ',';
  r->batch_rows = options->batch_rows > 0 ? options->batch_rows : 65536;
  int status = wudf__split(r, delimiter, error);
  const struct ArrowSchema* declared = options->schema;
  int64_t first_row = options->has_header ? 1 : 0;
  if (status == 0 && declared) {
    if (declared->format == NULL || strcmp(declared->format, "+s") != 0) {
      status = wudf__set_error(error, EINVAL, "%s: the schema must be a struct of the columns",
                               r->name);
    } else if (r->rows > 0 && declared->n_children != r->columns) {
      status = wudf__set_error(error, EINVAL, "%s: %lld columns, the schema has %lld", r->name,
                               (long long)r->columns, (long long)declared->n_children);
    } else {
      r->columns = declared->n_children;
    }
  }
  if (status == 0 && r->rows == 0 && !declared) {
    status = wudf__set_error(error, EINVAL, "%s: no lines (the column names are unknown)",
                             r->name);
  }
  if (status == 0) {
    r->column = wudf__calloc((size_t)r->columns + 1, sizeof *r->column);
    r->child_views = wudf__calloc((size_t)r->columns + 1, sizeof *r->child_views);
    r->child_storage = wudf__calloc((size_t)r->columns + 1, sizeof *r->child_storage);
    if (!r->column || !r->child_views || !r->child_storage) {
      status = wudf__set_error(error, ENOMEM, "%s: out of memory", r->name);
    }
  }
  for (int64_t c = 0; status == 0 && c < r->columns; c++) {
    struct wudf__csv_column* column = &r->column[c];
    char fallback[32];
    const char* name = fallback;
    size_t name_length;
    snprintf(fallback, sizeof fallback, "f%lld", (long long)c);
    name_length = strlen(fallback);
    if (declared && declared->children[c]->name) {
      name = declared->children[c]->name;
      name_length = strlen(name);
    } else if (options->has_header && r->rows > 0) {
      const struct wudf__csv_cell* cell = wudf__cell(r, 0, c);
      name = r->text + cell->start;
      name_length = cell->length;
    }
    column->name = wudf__malloc(name_length + 1);
    if (column->name == NULL) {
      status = wudf__set_error(error, ENOMEM, "%s: out of memory", r->name);
      break;
    }
    memcpy(column->name, name, name_length);
    column->name[name_length] = '\0';
    if (declared) {
      const struct ArrowSchema* field = declared->children[c];
      snprintf(column->format, sizeof column->format, "%s", field->format ? field->format : "");
      column->nullable = (field->flags & ARROW_FLAG_NULLABLE) != 0;
      column->flags = field->flags;
      if (field->dictionary || wudf__format_parse(column->format, &column->parsed) != 0 ||
          (column->kind = wudf__kind_of(column->format, &column->parsed, &column->unit)) < 0 ||
          strlen(field->format) >= sizeof column->format) {
        status = wudf__set_error(error, ENOTSUP, "%s: column '%s': CSV cannot be read as "
                                 "type '%s'", r->name, column->name, field->format);
        break;
      }
      status = wudf__check_column(r, c, first_row, error);
    } else {
      wudf__infer(r, c, first_row);
      column->flags = ARROW_FLAG_NULLABLE;
      wudf__format_parse(column->format, &column->parsed);
    }
  }
  if (status != 0) {
    wudf__csv_reader_free(r);
    return status;
  }
  /* The schema tree the stream exports (copied by get_schema). */
  r->schema_view.format = "+s";
  r->schema_view.name = "";
  r->schema_view.n_children = r->columns;
  r->schema_view.children = r->child_views;
  r->schema_view.release = wudf__view_release;
  for (int64_t c = 0; c < r->columns; c++) {
    r->child_views[c] = &r->child_storage[c];
    r->child_storage[c].format = r->column[c].format;
    r->child_storage[c].name = r->column[c].name;
    r->child_storage[c].flags = r->column[c].flags;
    r->child_storage[c].release = wudf__view_release;
  }
  r->next_row = first_row;
  r->first_row = first_row;
  out->get_schema = wudf__csv_get_schema;
  out->get_next = wudf__csv_get_next;
  out->get_last_error = wudf__csv_last_error;
  out->release = wudf__csv_release;
  out->private_data = r;
  return 0;
}

void wudf_csv_read_options_init(struct wudf_csv_read_options* options) {
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof(*options);
  options->delimiter = ',';
  options->has_header = 1;
  options->batch_rows = 65536;
  options->max_input_bytes = (int64_t)1 << 32;
}

static const struct wudf__field wudf__csv_read_fields[] = {
    WUDF__FIELD(struct wudf_csv_read_options, delimiter),
    WUDF__FIELD(struct wudf_csv_read_options, has_header),
    WUDF__FIELD(struct wudf_csv_read_options, schema),
    WUDF__FIELD(struct wudf_csv_read_options, batch_rows),
    WUDF__FIELD(struct wudf_csv_read_options, max_input_bytes)};

/* The caller's options (NULL: the defaults) as this library's struct in
 * `copy`; `*options` is pointed at it. 0 or EINVAL for a struct_size the
 * library cannot read. */
static int wudf__csv_options_read(const struct wudf_csv_read_options** options,
                                  struct wudf_csv_read_options* copy, struct wudf_error* error) {
  wudf_csv_read_options_init(copy);
  if (*options != NULL) {
    int status = wudf__versioned_read(
        copy, *options, sizeof(*copy), wudf__csv_read_fields,
        sizeof(wudf__csv_read_fields) / sizeof(wudf__csv_read_fields[0]),
        "struct wudf_csv_read_options", error);
    if (status != 0) return status;
  }
  *options = copy;
  return 0;
}

int wudf_csv_read_memory(const char* data, size_t size, const struct wudf_csv_read_options* options,
                         struct ArrowArrayStream* out, struct wudf_error* error) {
  if ((data == NULL && size) || out == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_csv_read_memory: invalid arguments");
  }
  struct wudf_csv_read_options copy;
  int read_status = wudf__csv_options_read(&options, &copy, error);
  if (read_status != 0) return read_status;
  int64_t limit = options && options->max_input_bytes > 0 ? options->max_input_bytes
                                                          : (int64_t)1 << 32;
  if ((uint64_t)size > (uint64_t)limit) {
    return wudf__set_error(error, EFBIG, "<memory>: %zu bytes of CSV, over max_input_bytes "
                           "(%lld)", size, (long long)limit);
  }
  struct wudf__csv_reader* r = wudf__calloc(1, sizeof *r);
  char* text = wudf__malloc(size + 1);
  if (r == NULL || text == NULL) {
    wudf__free(r);
    wudf__free(text);
    return wudf__set_error(error, ENOMEM, "<memory>: out of memory");
  }
  if (size) memcpy(text, data, size);
  r->text = text;
  r->size = size;
  snprintf(r->name, sizeof r->name, "<memory>");
  return wudf__csv_open(r, options, out, error);
}

int wudf_csv_read_path(const char* path, const struct wudf_csv_read_options* options,
                       struct ArrowArrayStream* out, struct wudf_error* error) {
  if (path == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_csv_read_path: invalid arguments");
  }
  struct wudf_csv_read_options copy;
  int read_status = wudf__csv_options_read(&options, &copy, error);
  if (read_status != 0) return read_status;
  int64_t limit = options && options->max_input_bytes > 0 ? options->max_input_bytes
                                                          : (int64_t)1 << 32;
  int stdin_input = strcmp(path, "-") == 0;
  int fd = stdin_input ? 0 : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wudf__set_error(error, errno, "%s: %s", path, strerror(errno));
  struct wudf__csv_reader* r = wudf__calloc(1, sizeof *r);
  if (r == NULL) {
    if (!stdin_input) close(fd);
    return wudf__set_error(error, ENOMEM, "%s: out of memory", path);
  }
  snprintf(r->name, sizeof r->name, "%s", stdin_input ? "<stdin>" : path);
  size_t capacity = 0;
  int status = 0;
  for (;;) {
    if (r->size + 65536 + 1 > capacity) {
      size_t grown_capacity = capacity ? 2 * capacity : 1 << 20;
      char* grown = wudf__realloc(r->text, grown_capacity);
      if (grown == NULL) {
        status = wudf__set_error(error, ENOMEM, "%s: out of memory", r->name);
        break;
      }
      r->text = grown;
      capacity = grown_capacity;
    }
    ssize_t n = read(fd, r->text + r->size, capacity - r->size - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = wudf__set_error(error, EIO, "%s: read failed: %s", r->name, strerror(errno));
      break;
    }
    if (n == 0) break;
    r->size += (size_t)n;
    if ((uint64_t)r->size > (uint64_t)limit) {
      status = wudf__set_error(error, EFBIG, "%s: more than max_input_bytes (%lld) of CSV",
                               r->name, (long long)limit);
      break;
    }
  }
  if (!stdin_input) close(fd);
  if (status != 0) {
    wudf__csv_reader_free(r);
    return status;
  }
  return wudf__csv_open(r, options, out, error);
}
