/*
 * fuzz_csv.c -- a libFuzzer target for the CSV reader and the text writers
 * (src/io/csv_read.c, src/io/text_write.c). An input is any bytes: its
 * first byte picks the delimiter, the header flag and whether a declared
 * schema (int16, utf8, timestamp[us], bool) is used; the rest is the CSV
 * text, read from an exact-size copy. Accepted tables are written as JSON
 * lines and as CSV to /dev/null, so every value is formatted; a rejection
 * must name the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmudf/wasmudf.h"

static void noop(struct ArrowSchema* schema) { (void)schema; }

static struct ArrowSchema f0 = {"s", "a", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL, noop, NULL};
static struct ArrowSchema f1 = {"u", "b", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL, noop, NULL};
static struct ArrowSchema f2 = {"tsu:UTC", "c", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL, noop,
                                NULL};
static struct ArrowSchema f3 = {"b", "d", NULL, 0, 0, NULL, NULL, noop, NULL};
static struct ArrowSchema* fields[4] = {&f0, &f1, &f2, &f3};
static struct ArrowSchema declared = {"+s", "", NULL, 0, 4, fields, NULL, noop, NULL};

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  char* copy = malloc(size - 1 ? size - 1 : 1);
  memcpy(copy, data + 1, size - 1);
  struct wudf_csv_read_options options;
  wudf_csv_read_options_init(&options);
  options.delimiter = (mode & 1) ? ';' : ',';
  options.has_header = (mode & 2) != 0;
  options.schema = (mode & 4) ? &declared : NULL;
  options.batch_rows = 1 + (mode >> 4);
  for (int format = 0; format < 2; format++) {
    struct ArrowArrayStream stream;
    struct wudf_error error;
    int status = wudf_csv_read_memory(copy, size - 1, &options, &stream, &error);
    if (status != 0) {
      if (status != ENOMEM && strstr(error.message, "<memory>") == NULL) {
        fprintf(stderr, "fuzz_csv: an error without the input's name: %s\n", error.message);
        abort();
      }
      break;
    }
    status = format ? wudf_csv_write_stream(&stream, "/dev/null", ',', &error)
                    : wudf_jsonl_write_stream(&stream, "/dev/null", &error);
    (void)status; /* ENOTSUP (binary in JSON) and the like are fine */
  }
  free(copy);
  return 0;
}
