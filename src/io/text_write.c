/*
 * text_write.c -- record batches as text: CSV and JSON lines
 * (wudf_csv_write_stream, wudf_jsonl_write_stream).
 *
 * Each row is formatted into a growing buffer, flushed to the output when
 * it passes 1 MiB. Values are read by their layout (arrow/format.h) with
 * the array's offset applied, so slices and children of any offset print
 * right; dictionaries print their values. Calendar conversions use the
 * proleptic Gregorian calendar on days since 1970-01-01.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../arrow/format.h"
#include "../common/common.h"

struct wudf__text {
  char* data;
  size_t size;
  size_t capacity;
  int failed;
};

static void wudf__text_append(struct wudf__text* t, const char* bytes, size_t n) {
  if (t->failed) return;
  if (t->size + n > t->capacity) {
    size_t capacity = t->capacity ? t->capacity : 4096;
    while (capacity < t->size + n) capacity *= 2;
    char* grown = wudf__realloc(t->data, capacity);
    if (grown == NULL) {
      t->failed = 1;
      return;
    }
    t->data = grown;
    t->capacity = capacity;
  }
  memcpy(t->data + t->size, bytes, n);
  t->size += n;
}

static void wudf__text_printf(struct wudf__text* t, const char* format, ...)
    WUDF__PRINTF(2, 3);
static void wudf__text_printf(struct wudf__text* t, const char* format, ...) {
  char buffer[128];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  if (n > 0) wudf__text_append(t, buffer, (size_t)n < sizeof buffer ? (size_t)n : sizeof buffer - 1);
}

/* Year, month, day of `days` since 1970-01-01 (civil-from-days: shift the
 * year to start in March, count 400-year eras of 146,097 days). */
static void wudf__civil(int64_t days, int64_t* year, int* month, int* day) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t of_era = days - era * 146097;
  int64_t year_of_era = (of_era - of_era / 1460 + of_era / 36524 - of_era / 146096) / 365;
  int64_t day_of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t shifted_month = (5 * day_of_year + 2) / 153;
  *day = (int)(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  *month = (int)(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  *year = year_of_era + era * 400 + (*month <= 2);
}

static int64_t wudf__floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static void wudf__write_date(struct wudf__text* t, int64_t days) {
  int64_t year;
  int month, day;
  wudf__civil(days, &year, &month, &day);
  wudf__text_printf(t, "%04lld-%02d-%02d", (long long)year, month, day);
}

/* HH:MM:SS[.fraction] of `value` units (per second: `scale`) in a day. */
static void wudf__write_clock(struct wudf__text* t, int64_t value, int64_t scale, int digits) {
  int64_t seconds = wudf__floor_div(value, scale), fraction = value - seconds * scale;
  int64_t in_day = seconds % 86400;
  if (in_day < 0) in_day += 86400;
  wudf__text_printf(t, "%02d:%02d:%02d", (int)(in_day / 3600), (int)(in_day / 60 % 60),
                    (int)(in_day % 60));
  if (digits > 0) wudf__text_printf(t, ".%0*lld", digits, (long long)fraction);
}

static void wudf__write_timestamp(struct wudf__text* t, int64_t value, int64_t scale, int digits,
                                  int utc) {
  int64_t seconds = wudf__floor_div(value, scale);
  wudf__write_date(t, wudf__floor_div(seconds, 86400));
  wudf__text_append(t, " ", 1);
  wudf__write_clock(t, value, scale, digits);
  if (utc) wudf__text_append(t, "Z", 1);
}

static void wudf__write_json_string(struct wudf__text* t, const uint8_t* s, int64_t n) {
  wudf__text_append(t, "\"", 1);
  int64_t start = 0;
  for (int64_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    wudf__text_append(t, (const char*)s + start, (size_t)(i - start));
    switch (c) {
      case '"': wudf__text_append(t, "\\\"", 2); break;
      case '\\': wudf__text_append(t, "\\\\", 2); break;
      case '\n': wudf__text_append(t, "\\n", 2); break;
      case '\r': wudf__text_append(t, "\\r", 2); break;
      case '\t': wudf__text_append(t, "\\t", 2); break;
      default: wudf__text_printf(t, "\\u%04x", c);
    }
    start = i + 1;
  }
  wudf__text_append(t, (const char*)s + start, (size_t)(n - start));
  wudf__text_append(t, "\"", 1);
}

static void wudf__write_csv_field(struct wudf__text* t, const uint8_t* s, int64_t n,
                                  char delimiter) {
  int quote = n == 0;
  for (int64_t i = 0; i < n && !quote; i++) {
    quote = s[i] == (uint8_t)delimiter || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  }
  if (!quote) {
    wudf__text_append(t, (const char*)s, (size_t)n);
    return;
  }
  wudf__text_append(t, "\"", 1);
  int64_t start = 0;
  for (int64_t i = 0; i < n; i++) {
    if (s[i] != '"') continue;
    wudf__text_append(t, (const char*)s + start, (size_t)(i + 1 - start));
    wudf__text_append(t, "\"", 1);
    start = i + 1;
  }
  wudf__text_append(t, (const char*)s + start, (size_t)(n - start));
  wudf__text_append(t, "\"", 1);
}

static int wudf__valid(const struct ArrowArray* a, int64_t row) {
  const uint8_t* bits = a->n_buffers > 0 ? a->buffers[0] : NULL;
  int64_t at = a->offset + row;
  return bits == NULL || ((bits[at / 8] >> (at % 8)) & 1);
}

static int64_t wudf__int_at(const uint8_t* p, int width, int is_signed, int64_t at) {
  switch (width) {
    case 1: return is_signed ? (int8_t)p[at] : p[at];
    case 2: { int16_t v; memcpy(&v, p + 2 * at, 2); return is_signed ? v : (uint16_t)v; }
    case 4: { int32_t v; memcpy(&v, p + 4 * at, 4); return is_signed ? (int64_t)v : (int64_t)(uint32_t)v; }
    default: { int64_t v; memcpy(&v, p + 8 * at, 8); return v; }
  }
}

static float wudf__half_to_float(uint16_t h) {
  int sign = h >> 15, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  float value;
  if (exponent == 0) value = ldexpf((float)mantissa, -24);
  else if (exponent == 31) value = mantissa ? NAN : INFINITY;
  else value = ldexpf((float)(mantissa | 0x400), exponent - 25);
  return sign ? -value : value;
}

/* Formats the decimal integer `value` with `scale` digits after the point. */
static void wudf__write_decimal(struct wudf__text* t, __int128 value, int scale) {
  char digits[64];
  int n = 0, negative = value < 0;
  unsigned __int128 magnitude = negative ? -(unsigned __int128)value : (unsigned __int128)value;
  do {
    digits[n++] = (char)('0' + (int)(magnitude % 10));
    magnitude /= 10;
  } while (magnitude && n < 60);
  if (negative) wudf__text_append(t, "-", 1);
  if (scale <= 0) {
    for (int i = n - 1; i >= 0; i--) wudf__text_append(t, &digits[i], 1);
    for (int i = 0; i < -scale; i++) wudf__text_append(t, "0", 1);
    return;
  }
  while (n <= scale) digits[n++] = '0';
  for (int i = n - 1; i >= 0; i--) {
    wudf__text_append(t, &digits[i], 1);
    if (i == scale) wudf__text_append(t, ".", 1);
  }
}

struct wudf__text_context {
  int json;
  char delimiter;
  const char* column;
  struct wudf_error* error;
};

static int wudf__write_value(struct wudf__text* t, const struct ArrowArray* a,
                             const struct ArrowSchema* s, int64_t row,
                             struct wudf__text_context* c, int depth);

static int wudf__unsupported(struct wudf__text_context* c, const char* format) {
  return wudf__set_error(c->error, ENOTSUP, "column '%s': type '%s' has no %s text form here",
                         c->column, format, c->json ? "JSON" : "CSV");
}

static int wudf__write_value(struct wudf__text* t, const struct ArrowArray* a,
                             const struct ArrowSchema* s, int64_t row,
                             struct wudf__text_context* c, int depth) {
  if (depth > 64) return wudf__unsupported(c, s->format);
  if (!wudf__valid(a, row) && s->format[0] != '+') {
    if (c->json) wudf__text_append(t, "null", 4);
    return 0;
  }
  struct wudf__format f;
  if (wudf__format_parse(s->format, &f) != 0) return wudf__unsupported(c, s->format);
  int64_t at = a->offset + row;
  const char* format = s->format;
  if (s->dictionary) {
    int64_t index = wudf__int_at(a->buffers[1], (int)f.byte_width, f.integer == 1, at);
    return wudf__write_value(t, a->dictionary, s->dictionary, index, c, depth + 1);
  }
  const uint8_t* values = a->n_buffers > 1 ? a->buffers[1] : NULL;
  switch (f.layout) {
    case WUDF__LAYOUT_NULL:
      if (c->json) wudf__text_append(t, "null", 4);
      return 0;
    case WUDF__LAYOUT_BOOL:
      if ((values[at / 8] >> (at % 8)) & 1) wudf__text_append(t, "true", 4);
      else wudf__text_append(t, "false", 5);
      return 0;
    case WUDF__LAYOUT_FIXED: break;
    case WUDF__LAYOUT_BINARY:
    case WUDF__LAYOUT_LARGE_BINARY:
    case WUDF__LAYOUT_VIEW: {
      const uint8_t* bytes;
      int64_t n;
      if (f.layout == WUDF__LAYOUT_VIEW) {
        const uint8_t* view = values + 16 * at;
        int32_t length, buffer, offset;
        memcpy(&length, view, 4);
        n = length;
        if (length <= 12) {
          bytes = view + 4;
        } else {
          memcpy(&buffer, view + 8, 4);
          memcpy(&offset, view + 12, 4);
          bytes = (const uint8_t*)a->buffers[2 + buffer] + offset;
        }
      } else {
        int64_t start = wudf__int_at(values, f.layout == WUDF__LAYOUT_BINARY ? 4 : 8, 1, at);
        int64_t end = wudf__int_at(values, f.layout == WUDF__LAYOUT_BINARY ? 4 : 8, 1, at + 1);
        bytes = (const uint8_t*)a->buffers[2] + start;
        n = end - start;
      }
      if (!c->json) {
        wudf__write_csv_field(t, bytes, n, c->delimiter);
      } else if (f.utf8) {
        wudf__write_json_string(t, bytes, n);
      } else {
        return wudf__unsupported(c, format);
      }
      return 0;
    }
    case WUDF__LAYOUT_LIST:
    case WUDF__LAYOUT_LARGE_LIST:
    case WUDF__LAYOUT_FIXED_LIST:
    case WUDF__LAYOUT_MAP: {
      if (!c->json) return wudf__unsupported(c, format);
      if (!wudf__valid(a, row)) {
        wudf__text_append(t, "null", 4);
        return 0;
      }
      int64_t start, end;
      if (f.layout == WUDF__LAYOUT_FIXED_LIST) {
        start = at * f.list_size;
        end = start + f.list_size;
      } else {
        int width = f.layout == WUDF__LAYOUT_LARGE_LIST ? 8 : 4;
        start = wudf__int_at(values, width, 1, at);
        end = wudf__int_at(values, width, 1, at + 1);
      }
      const struct ArrowArray* child = a->children[0];
      const struct ArrowSchema* child_schema = s->children[0];
      wudf__text_append(t, "[", 1);
      for (int64_t i = start; i < end; i++) {
        if (i > start) wudf__text_append(t, ",", 1);
        int status;
        if (f.layout == WUDF__LAYOUT_MAP) {
          wudf__text_append(t, "{\"key\":", 7);
          status = wudf__write_value(t, child->children[0], child_schema->children[0],
                                     child->offset + i, c, depth + 1);
          wudf__text_append(t, ",\"value\":", 9);
          if (status == 0) {
            status = wudf__write_value(t, child->children[1], child_schema->children[1],
                                       child->offset + i, c, depth + 1);
          }
          wudf__text_append(t, "}", 1);
        } else {
          status = wudf__write_value(t, child, child_schema, i, c, depth + 1);
        }
        if (status != 0) return status;
      }
      wudf__text_append(t, "]", 1);
      return 0;
    }
    case WUDF__LAYOUT_STRUCT: {
      if (!c->json) return wudf__unsupported(c, format);
      if (!wudf__valid(a, row)) {
        wudf__text_append(t, "null", 4);
        return 0;
      }
      wudf__text_append(t, "{", 1);
      for (int64_t i = 0; i < a->n_children; i++) {
        if (i) wudf__text_append(t, ",", 1);
        const char* name = s->children[i]->name ? s->children[i]->name : "";
        wudf__write_json_string(t, (const uint8_t*)name, (int64_t)strlen(name));
        wudf__text_append(t, ":", 1);
        int status = wudf__write_value(t, a->children[i], s->children[i], at, c, depth + 1);
        if (status != 0) return status;
      }
      wudf__text_append(t, "}", 1);
      return 0;
    }
    default:
      return wudf__unsupported(c, format);
  }
  /* Fixed-width values. */
  if (f.integer) {
    int64_t v = wudf__int_at(values, (int)f.byte_width, f.integer == 1, at);
    if (f.integer == 2 && f.byte_width == 8) wudf__text_printf(t, "%llu", (unsigned long long)v);
    else wudf__text_printf(t, "%lld", (long long)v);
    return 0;
  }
  if (format[1] == '\0' && (format[0] == 'e' || format[0] == 'f' || format[0] == 'g')) {
    double v;
    if (format[0] == 'g') {
      memcpy(&v, values + 8 * at, 8);
    } else if (format[0] == 'f') {
      float x;
      memcpy(&x, values + 4 * at, 4);
      v = x;
    } else {
      uint16_t h;
      memcpy(&h, values + 2 * at, 2);
      v = wudf__half_to_float(h);
    }
    if (isnan(v) || isinf(v)) {
      if (c->json) wudf__text_append(t, "null", 4);
      else wudf__text_printf(t, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    } else {
      /* The shortest of 6..17 (float: 6..9) significant digits that reads
       * back as the same value. */
      char buffer[64];
      int most = format[0] == 'g' ? 17 : 9;
      for (int digits = 6; digits <= most; digits++) {
        snprintf(buffer, sizeof buffer, "%.*g", digits, v);
        double back = strtod(buffer, NULL);
        if (format[0] == 'g' ? back == v : (float)back == (float)v) break;
      }
      wudf__text_append(t, buffer, strlen(buffer));
    }
    return 0;
  }
  int quote = c->json;
  if (format[0] == 'd') {
    __int128 v;
    if (f.byte_width > 16) return wudf__unsupported(c, format);
    int64_t low = wudf__int_at(values, (int)(f.byte_width > 8 ? 8 : f.byte_width), 1,
                               f.byte_width > 8 ? 2 * at : at);
    v = low;
    if (f.byte_width == 16) {
      int64_t high = wudf__int_at(values, 8, 1, 2 * at + 1);
      v = (__int128)(((unsigned __int128)(uint64_t)high << 64) | (uint64_t)low);
    }
    wudf__write_decimal(t, v, f.scale);
    return 0;
  }
  if (format[0] == 't') {
    int64_t v = wudf__int_at(values, (int)f.byte_width, 1, at);
    int64_t scale = f.unit == WUDF__UNIT_S ? 1 : f.unit == WUDF__UNIT_MS ? 1000
                    : f.unit == WUDF__UNIT_US ? 1000000 : 1000000000;
    int digits = f.unit == WUDF__UNIT_S ? 0 : f.unit == WUDF__UNIT_MS ? 3
                 : f.unit == WUDF__UNIT_US ? 6 : 9;
    if (quote && format[1] != 'D') wudf__text_append(t, "\"", 1);
    switch (format[1]) {
      case 'd':
        wudf__write_date(t, format[2] == 'D' ? v : wudf__floor_div(v, 86400000));
        break;
      case 't': wudf__write_clock(t, v, scale, digits); break;
      case 's': wudf__write_timestamp(t, v, scale, digits, format[4] != '\0'); break;
      case 'D': wudf__text_printf(t, "%lld", (long long)v); break;
      default: return wudf__unsupported(c, format);
    }
    if (quote && format[1] != 'D') wudf__text_append(t, "\"", 1);
    return 0;
  }
  return wudf__unsupported(c, format);
}

static int wudf__flush(int fd, struct wudf__text* t, const char* path, struct wudf_error* error) {
  size_t done = 0;
  while (done < t->size) {
    ssize_t n = write(fd, t->data + done, t->size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return wudf__set_error(error, EIO, "%s: write failed: %s", path, strerror(errno));
    }
    done += (size_t)n;
  }
  t->size = 0;
  return 0;
}

static int wudf__text_write_stream(struct ArrowArrayStream* stream, const char* path, int json,
                                   char delimiter, struct wudf_error* error) {
  if (stream == NULL || stream->release == NULL || path == NULL) {
    return wudf__set_error(error, EINVAL, "%s: invalid arguments",
                           json ? "wudf_jsonl_write_stream" : "wudf_csv_write_stream");
  }
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  int status = stream->get_schema(stream, &schema);
  if (status != 0) {
    const char* message = stream->get_last_error(stream);
    status = wudf__set_error(error, status, "%s: the input stream's schema: %s", path,
                             message ? message : strerror(status));
    stream->release(stream);
    return status;
  }
  int fd = 1, close_fd = 0;
  if (schema.format == NULL || strcmp(schema.format, "+s") != 0) {
    status = wudf__set_error(error, EINVAL, "%s: the stream's batches must be structs", path);
  } else if (strcmp(path, "-") != 0) {
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) status = wudf__set_error(error, errno, "%s: %s", path, strerror(errno));
    close_fd = fd >= 0;
  }
  struct wudf__text t = {0};
  struct wudf__text_context c = {json, delimiter ? delimiter : ',', "", error};
  if (status == 0 && !json) {
    for (int64_t i = 0; i < schema.n_children; i++) {
      if (i) wudf__text_append(&t, &c.delimiter, 1);
      const char* name = schema.children[i]->name ? schema.children[i]->name : "";
      wudf__write_csv_field(&t, (const uint8_t*)name, (int64_t)strlen(name), c.delimiter);
    }
    wudf__text_append(&t, "\n", 1);
  }
  while (status == 0) {
    struct ArrowArray batch;
    memset(&batch, 0, sizeof batch);
    status = stream->get_next(stream, &batch);
    if (status != 0) {
      const char* message = stream->get_last_error(stream);
      status = wudf__set_error(error, status, "%s: the input stream: %s", path,
                               message ? message : strerror(status));
      break;
    }
    if (batch.release == NULL) break;
    for (int64_t row = 0; status == 0 && row < batch.length; row++) {
      if (json) wudf__text_append(&t, "{", 1);
      for (int64_t i = 0; status == 0 && i < schema.n_children; i++) {
        const struct ArrowSchema* field = schema.children[i];
        c.column = field->name ? field->name : "";
        if (json) {
          if (i) wudf__text_append(&t, ",", 1);
          wudf__write_json_string(&t, (const uint8_t*)c.column, (int64_t)strlen(c.column));
          wudf__text_append(&t, ":", 1);
        } else if (i) {
          wudf__text_append(&t, &c.delimiter, 1);
        }
        status = wudf__write_value(&t, batch.children[i], field, batch.offset + row, &c, 0);
      }
      wudf__text_append(&t, json ? "}\n" : "\n", json ? 2 : 1);
      if (status == 0 && t.failed) status = wudf__set_error(error, ENOMEM, "out of memory");
      if (status == 0 && t.size > (1u << 20)) status = wudf__flush(fd, &t, path, error);
    }
    batch.release(&batch);
  }
  if (status == 0 && t.failed) status = wudf__set_error(error, ENOMEM, "out of memory");
  if (status == 0) status = wudf__flush(fd, &t, path, error);
  if (close_fd && close(fd) != 0 && status == 0) {
    status = wudf__set_error(error, EIO, "%s: close failed: %s", path, strerror(errno));
  }
  wudf__free(t.data);
  if (schema.release) schema.release(&schema);
  stream->release(stream);
  return status;
}

int wudf_csv_write_stream(struct ArrowArrayStream* stream, const char* path, char delimiter,
                          struct wudf_error* error) {
  return wudf__text_write_stream(stream, path, 0, delimiter, error);
}

int wudf_jsonl_write_stream(struct ArrowArrayStream* stream, const char* path,
                            struct wudf_error* error) {
  return wudf__text_write_stream(stream, path, 1, ',', error);
}
