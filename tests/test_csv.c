/*
 * test_csv.c -- CSV input and CSV / JSON-lines output (src/io/csv_read.c,
 * src/io/text_write.c) in C: inferred types and values of a small file,
 * every truncation and a change at every byte of it (with inference and
 * with a declared schema) giving a table or an error that names the input,
 * never a crash or a leak (this program runs under ASan + UBSan and
 * valgrind), CSV read back into JSON lines and CSV, and every allocation of
 * a read and of a write failed in turn. pyarrow checks types and values in
 * depth (tests/python/io/test_text_pyarrow.py).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasmudf/wasmudf.h"
#include "counting_allocator.h"
#include "test.h"

static const char sample[] =
    "id,score,ok,name,day,at\r\n"
    "1,1.5,true,\"Smith, \"\"J\"\"\",2020-02-29,2020-02-29 10:00:00\r\n"
    "2,,false,\"two\nlines\",1969-12-31,1969-12-31 23:59:59.25\r\n"
    "\r\n"
    "3,-2e3,TRUE,,2000-01-01,\r\n";

static char temp_dir[512];

/* Reads `size` bytes (an exact-size copy) and drains the stream; 0 or the
 * error, `*rows` read. */
static int read_csv(const char* text, size_t size, const struct ArrowSchema* schema,
                    int64_t* rows, char* message) {
  char* copy = malloc(size ? size : 1);
  if (size) memcpy(copy, text, size);
  struct wudf_csv_read_options options;
  wudf_csv_read_options_init(&options);
  options.schema = schema;
  options.batch_rows = 2;
  struct ArrowArrayStream stream;
  struct wudf_error error;
  error.message[0] = '\0';
  *rows = 0;
  int status = wudf_csv_read_memory(copy, size, &options, &stream, &error);
  free(copy);
  if (status != 0) {
    snprintf(message, 1024, "%s", error.message);
    return status;
  }
  struct ArrowSchema out_schema;
  memset(&out_schema, 0, sizeof out_schema);
  status = stream.get_schema(&stream, &out_schema);
  while (status == 0) {
    struct ArrowArray batch;
    status = stream.get_next(&stream, &batch);
    if (status != 0 || batch.release == NULL) break;
    *rows += batch.length;
    batch.release(&batch);
  }
  if (status != 0) snprintf(message, 1024, "%s", stream.get_last_error(&stream) ? stream.get_last_error(&stream) : "");
  if (out_schema.release) out_schema.release(&out_schema);
  stream.release(&stream);
  return status;
}

TEST(infers_types_and_values) {
  struct wudf_csv_read_options options;
  wudf_csv_read_options_init(&options);
  struct ArrowArrayStream stream;
  struct wudf_error error;
  ASSERT_EQ(wudf_csv_read_memory(sample, sizeof sample - 1, &options, &stream, &error), 0);
  struct ArrowSchema schema;
  ASSERT_EQ(stream.get_schema(&stream, &schema), 0);
  ASSERT_EQ(schema.n_children, 6);
  static const char* formats[6] = {"l", "g", "b", "u", "tdD", "tsn:"};
  static const char* names[6] = {"id", "score", "ok", "name", "day", "at"};
  for (int i = 0; i < 6; i++) {
    ASSERT_STR_EQ(schema.children[i]->format, formats[i]);
    ASSERT_STR_EQ(schema.children[i]->name, names[i]);
  }
  struct ArrowArray batch;
  ASSERT_EQ(stream.get_next(&stream, &batch), 0);
  ASSERT_EQ(batch.length, 3);
  const int64_t* ids = batch.children[0]->buffers[1];
  ASSERT_EQ(ids[2], 3);
  ASSERT_EQ(batch.children[1]->null_count, 1);
  const int32_t* offsets = batch.children[3]->buffers[1];
  const char* data = batch.children[3]->buffers[2];
  ASSERT_EQ(offsets[1], 10);
  ASSERT(memcmp(data, "Smith, \"J\"", 10) == 0);
  ASSERT(memcmp(data + offsets[1], "two\nlines", 9) == 0);
  const int32_t* days = batch.children[4]->buffers[1];
  ASSERT_EQ(days[0], 18321);
  ASSERT_EQ(days[1], -1);
  const int64_t* at = batch.children[5]->buffers[1];
  ASSERT_EQ(at[1], -750000000);
  ASSERT_EQ(batch.children[5]->null_count, 1);
  batch.release(&batch);
  ASSERT_EQ(stream.get_next(&stream, &batch), 0);
  ASSERT(batch.release == NULL);
  schema.release(&schema);
  stream.release(&stream);
}

/* wudf_csv_read_progress: rows returned of the rows after the header,
 * batch by batch; EINVAL for a stream of another producer. */
TEST(reports_progress_in_rows) {
  static const char text[] = "x\n1\n2\n3\n4\n5\n";
  struct wudf_csv_read_options options;
  wudf_csv_read_options_init(&options);
  options.batch_rows = 2;
  struct ArrowArrayStream stream;
  struct wudf_error error;
  ASSERT_EQ(wudf_csv_read_memory(text, sizeof text - 1, &options, &stream, &error), 0);
  int64_t done = -1, total = -1;
  ASSERT_EQ(wudf_csv_read_progress(&stream, &done, &total, &error), 0);
  ASSERT_EQ(done, 0);
  ASSERT_EQ(total, 5);
  static const int64_t expected[] = {2, 4, 5, 5};
  for (int i = 0; i < 4; i++) {
    struct ArrowArray batch;
    ASSERT_EQ(stream.get_next(&stream, &batch), 0);
    ASSERT_EQ(batch.release == NULL, i == 3);
    if (batch.release) batch.release(&batch);
    ASSERT_EQ(wudf_csv_read_progress(&stream, &done, &total, &error), 0);
    ASSERT_EQ(done, expected[i]);
    ASSERT_EQ(total, 5);
  }
  ASSERT_EQ(wudf_ipc_read_progress(&stream, &done, &total, &error), EINVAL);
  ASSERT_EQ(wudf_csv_read_progress(&stream, NULL, &total, &error), EINVAL);
  stream.release(&stream);
  ASSERT_EQ(wudf_csv_read_progress(&stream, &done, &total, &error), EINVAL);
}

static void hostile(const struct ArrowSchema* schema) {
  char text[sizeof sample];
  memcpy(text, sample, sizeof sample);
  size_t size = sizeof sample - 1;
  int64_t rows;
  char message[1024];
  for (size_t n = 0; n <= size; n++) {
    message[0] = '\0';
    int status = read_csv(text, n, schema, &rows, message);
    if (status != 0 && status != ENOMEM && strstr(message, "<memory>") == NULL) {
      TEST_FAIL("truncation at %zu: %s", n, message);
    }
    if (status == 0) ASSERT(rows <= 3);
  }
  for (size_t i = 0; i < size; i++) {
    char saved = text[i];
    static const char replacements[] = {'"', ',', '\n', '\r', 'x', '\0', (char)0xC3};
    text[i] = replacements[i % sizeof replacements];
    message[0] = '\0';
    int status = read_csv(text, size, schema, &rows, message);
    if (status != 0 && status != ENOMEM && strstr(message, "<memory>") == NULL) {
      TEST_FAIL("change at %zu: %s", i, message);
    }
    text[i] = saved;
  }
}

static void noop_schema_release(struct ArrowSchema* schema) { (void)schema; }

#define DECLARED(var, fmt, nm) \
  static struct ArrowSchema var = {fmt, nm, NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL, noop_schema_release, NULL}
DECLARED(c_id, "s", "id");
DECLARED(c_score, "f", "score");
DECLARED(c_ok, "b", "ok");
DECLARED(c_name, "U", "name");
DECLARED(c_day, "tdm", "day");
DECLARED(c_at, "tsu:", "at");
static struct ArrowSchema* declared_children[6] = {&c_id, &c_score, &c_ok, &c_name, &c_day, &c_at};
static struct ArrowSchema declared = {"+s", "", NULL, 0, 6, declared_children, NULL,
                                      noop_schema_release, NULL};

TEST(hostile_inferred) { hostile(NULL); }
TEST(hostile_declared) { hostile(&declared); }

/* CSV -> JSON lines and CSV files; the output's lines. */
static int convert(int json, const char* path, struct wudf_error* error) {
  struct ArrowArrayStream stream;
  int status = wudf_csv_read_memory(sample, sizeof sample - 1, NULL, &stream, error);
  if (status != 0) return status;
  return json ? wudf_jsonl_write_stream(&stream, path, error)
              : wudf_csv_write_stream(&stream, path, ',', error);
}

TEST(writes_json_lines_and_csv) {
  char path[1024];
  snprintf(path, sizeof path, "%s/test_csv_%ld.jsonl", temp_dir, (long)getpid());
  struct wudf_error error;
  if (convert(1, path, &error) != 0) TEST_FAIL("%s", error.message);
  FILE* file = fopen(path, "r");
  char line[512];
  ASSERT(fgets(line, sizeof line, file) != NULL);
  ASSERT_STR_EQ(line, "{\"id\":1,\"score\":1.5,\"ok\":true,\"name\":\"Smith, \\\"J\\\"\","
                      "\"day\":\"2020-02-29\",\"at\":\"2020-02-29 10:00:00.000000000\"}\n");
  ASSERT(fgets(line, sizeof line, file) != NULL);
  ASSERT_STR_EQ(line, "{\"id\":2,\"score\":null,\"ok\":false,\"name\":\"two\\nlines\","
                      "\"day\":\"1969-12-31\",\"at\":\"1969-12-31 23:59:59.250000000\"}\n");
  fclose(file);
  if (convert(0, path, &error) != 0) TEST_FAIL("%s", error.message);
  file = fopen(path, "r");
  ASSERT(fgets(line, sizeof line, file) != NULL);
  ASSERT_STR_EQ(line, "id,score,ok,name,day,at\n");
  ASSERT(fgets(line, sizeof line, file) != NULL);
  ASSERT_STR_EQ(line, "1,1.5,true,\"Smith, \"\"J\"\"\",2020-02-29,2020-02-29 10:00:00.000000000\n");
  fclose(file);
  unlink(path);
}

TEST(every_allocation_failing) {
  char path[1024];
  snprintf(path, sizeof path, "%s/test_csv_alloc_%ld.jsonl", temp_dir, (long)getpid());
  long base = atomic_load(&live_allocations);
  for (int json = 0; json < 2; json++) {
    int succeeded = 0;
    for (long fail_at = 0; fail_at < 1000 && !succeeded; fail_at++) {
      struct wudf_error error;
      int64_t rows;
      char message[1024];
      atomic_store(&allocations_left, fail_at);
      int status = json ? convert(1, path, &error)
                        : read_csv(sample, sizeof sample - 1, &declared, &rows, message);
      atomic_store(&allocations_left, -1);
      ASSERT_EQ(atomic_load(&live_allocations), base);
      if (status == 0) succeeded = 1;
      else ASSERT_EQ(status, ENOMEM);
    }
    ASSERT(succeeded);
  }
  unlink(path);
}

int main(void) {
  const char* tmp = getenv("WUDF_TEST_TMP");
  snprintf(temp_dir, sizeof temp_dir, "%s", tmp && *tmp ? tmp : "/tmp");
  static const struct wudf_allocator counting = {counting_malloc, counting_realloc,
                                                 counting_free, NULL};
  if (wudf_set_allocator(&counting) != 0) TEST_FAIL("cannot install the allocator");
  RUN_TEST(infers_types_and_values);
  RUN_TEST(reports_progress_in_rows);
  RUN_TEST(hostile_inferred);
  RUN_TEST(hostile_declared);
  RUN_TEST(writes_json_lines_and_csv);
  RUN_TEST(every_allocation_failing);
  return TEST_SUMMARY();
}
