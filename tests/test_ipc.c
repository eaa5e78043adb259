/*
 * test_ipc.c -- the Arrow IPC reader and writer (src/io, wudf_ipc_*) in C:
 * round trips of a batch of many layouts through every format and codec
 * (sliced and not), and hostile input -- every truncation and a bit flip at
 * every byte of a small stream and file, limits on message and
 * decompressed sizes, a pipe -- which must give an error naming the input
 * or fewer rows, never a crash, a leak or an out-of-range read (this
 * program runs under ASan + UBSan and valgrind in make check). Every
 * allocation of a read and of a write is failed in turn. pyarrow checks
 * the values and types in depth (tests/python/io/test_ipc_pyarrow.py).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/flatbuf.h"
#include "io/ipc.h"
#include "wasmudf/wasmudf.h"
#include "counting_allocator.h"
#include "test.h"

#include "ipc_fixture.h"

/* ------------------------------------------------------------ helpers */

static char temp_dir[512];

static const char* temp_path(const char* name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/test_ipc_%ld_%s", temp_dir, (long)getpid(), name);
  return path;
}

/* Writes `batches` copies of the batch (the i-th starting at row
 * offsets[i] with lengths[i] rows) to `path`. */
static int write_file(const char* path, wudf_ipc_format format, wudf_ipc_compression codec,
                      int batches, const int64_t* offsets, const int64_t* lengths,
                      struct wudf_error* error) {
  struct wudf_ipc_write_options options;
  wudf_ipc_write_options_init(&options);
  options.format = format;
  options.compression = codec;
  struct wudf_ipc_writer* writer = NULL;
  int status = wudf_ipc_writer_open_path(path, &root_schema, &options, &writer, error);
  for (int i = 0; status == 0 && i < batches; i++) {
    struct ArrowArray batch = root_array;
    batch.offset = offsets ? offsets[i] : 0;
    batch.length = lengths ? lengths[i] : ROWS;
    status = wudf_ipc_writer_write(writer, &batch, error);
  }
  if (writer) {
    if (status == 0) status = wudf_ipc_writer_close(writer, error);
    else wudf_ipc_writer_abort(writer);
  }
  return status;
}

static unsigned char* slurp(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  if (file == NULL) return NULL;
  fseek(file, 0, SEEK_END);
  long n = ftell(file);
  fseek(file, 0, SEEK_SET);
  unsigned char* bytes = malloc((size_t)n + 1);
  if (fread(bytes, 1, (size_t)n, file) != (size_t)n) {
    free(bytes);
    bytes = NULL;
  }
  fclose(file);
  *size = (size_t)n;
  return bytes;
}

/* Reads everything of a stream, touching every buffer of every batch
 * (wudf_array_serialize reads each by its layout). Returns 0 or the error;
 * `*rows` counts the rows read. */
static int drain(struct ArrowArrayStream* stream, int64_t* rows, char* message, size_t size) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  int status = stream->get_schema(stream, &schema);
  *rows = 0;
  while (status == 0) {
    struct ArrowArray batch;
    status = stream->get_next(stream, &batch);
    if (status != 0) break;
    if (batch.release == NULL) break;
    uint8_t* bytes = NULL;
    size_t n = 0;
    struct wudf_error error;
    int serialized = wudf_array_serialize(&batch, &schema, &bytes, &n, &error);
    if (serialized == ENOMEM) {
      batch.release(&batch);
      status = ENOMEM;
      if (message) snprintf(message, size, "%s", error.message);
      break;
    }
    if (serialized != 0) {
      fprintf(stderr, "serialize of a batch read failed: %s\n", error.message);
      abort();
    }
    wudf_bytes_free(bytes);
    *rows += batch.length;
    batch.release(&batch);
  }
  if (status != 0 && status != ENOMEM && message) {
    const char* text = stream->get_last_error(stream);
    snprintf(message, size, "%s", text ? text : "");
  }
  if (schema.release) schema.release(&schema);
  stream->release(stream);
  return status;
}

/* Reads `size` bytes (copied to an exact-size allocation, so any read past
 * them is caught) from memory. */
static int read_bytes(const unsigned char* data, size_t size, int64_t* rows,
                      const struct wudf_ipc_read_options* options, char* message) {
  unsigned char* copy = malloc(size ? size : 1);
  if (size) memcpy(copy, data, size);
  struct ArrowArrayStream stream;
  struct wudf_error error;
  error.message[0] = '\0';
  int status = wudf_ipc_read_memory(copy, size, options, &stream, &error);
  if (status == 0) {
    status = drain(&stream, rows, message, 1024);
  } else if (message) {
    snprintf(message, 1024, "%s", error.message);
  }
  free(copy);
  return status;
}

/* -------------------------------------------------------------- tests */

static void check_batch(const struct ArrowArray* batch, const struct ArrowSchema* schema,
                        int64_t first) {
  ASSERT_EQ(batch->n_children, COLUMNS);
  ASSERT_STR_EQ(schema->children[3]->name, "d");
  ASSERT_STR_EQ(schema->children[3]->dictionary->format, "u");
  ASSERT_STR_EQ(schema->children[5]->format, "+ud:3,9");
  ASSERT_STR_EQ(schema->children[7]->format, "+r");
  ASSERT_EQ(schema->children[1]->flags & ARROW_FLAG_NULLABLE, 0);
  const struct ArrowArray* ints = batch->children[0];
  const int32_t* values = ints->buffers[1];
  const uint8_t* validity = ints->buffers[0];
  for (int64_t row = 0; row < batch->length; row++) {
    int64_t source = first + row;
    int64_t at = ints->offset + row;
    int valid = validity == NULL || ((validity[at / 8] >> (at % 8)) & 1);
    ASSERT_EQ(valid, source != 2);
    if (valid) ASSERT_EQ(values[at], i_values[source]);
    /* Strings: the bytes of the source row. */
    const struct ArrowArray* strings = batch->children[1];
    const int32_t* offsets = strings->buffers[1];
    const char* data = strings->buffers[2];
    int64_t s = strings->offset + row;
    ASSERT_EQ(offsets[s + 1] - offsets[s], s_offsets[source + 1] - s_offsets[source]);
    ASSERT(memcmp(data + offsets[s], s_data + s_offsets[source],
                  (size_t)(offsets[s + 1] - offsets[s])) == 0);
    /* Dictionary: decoded value. */
    const struct ArrowArray* dict = batch->children[3];
    int8_t index = ((const int8_t*)dict->buffers[1])[dict->offset + row];
    const int32_t* dict_offsets = dict->dictionary->buffers[1];
    const char* dict_data = dict->dictionary->buffers[2];
    int8_t source_index = d_indices[source];
    ASSERT(dict_offsets[index + 1] - dict_offsets[index] ==
           d_offsets[source_index + 1] - d_offsets[source_index]);
    ASSERT(memcmp(dict_data + dict_offsets[index], d_data + d_offsets[source_index],
                  (size_t)(dict_offsets[index + 1] - dict_offsets[index])) == 0);
    /* The struct's child. */
    const struct ArrowArray* st = batch->children[6];
    ASSERT_EQ(((const int16_t*)st->children[0]->buffers[1])[st->children[0]->offset +
                                                            st->offset + row],
              st_x[source]);
  }
}

TEST(round_trips_every_format_and_codec) {
  static const int64_t offsets[3] = {0, 1, 4};
  static const int64_t lengths[3] = {ROWS, 3, 1};
  for (int format = 0; format < 2; format++) {
    for (int codec = 0; codec < 3; codec++) {
      struct wudf_error error;
      const char* path = temp_path("round_trip");
      int status = write_file(path, (wudf_ipc_format)format, (wudf_ipc_compression)codec, 3,
                              offsets, lengths, &error);
      if (status != 0) TEST_FAIL("write: %s", error.message);
      struct ArrowArrayStream stream;
      status = wudf_ipc_read_path(path, NULL, &stream, &error);
      if (status != 0) TEST_FAIL("read: %s", error.message);
      struct ArrowSchema schema;
      ASSERT_EQ(stream.get_schema(&stream, &schema), 0);
      for (int i = 0; i < 3; i++) {
        struct ArrowArray batch;
        ASSERT_EQ(stream.get_next(&stream, &batch), 0);
        ASSERT(batch.release != NULL);
        ASSERT_EQ(batch.length, lengths[i]);
        check_batch(&batch, &schema, offsets[i]);
        /* Children moved out and released after their parent. */
        struct ArrowArray moved = *batch.children[3];
        batch.children[3]->release = NULL;
        batch.release(&batch);
        moved.release(&moved);
      }
      struct ArrowArray end;
      ASSERT_EQ(stream.get_next(&stream, &end), 0);
      ASSERT(end.release == NULL);
      schema.release(&schema);
      stream.release(&stream);
      unlink(path);
    }
  }
}

TEST(reads_from_a_pipe_and_limits_messages) {
  struct wudf_error error;
  const char* path = temp_path("pipe");
  ASSERT_EQ(write_file(path, WUDF_IPC_STREAM, WUDF_IPC_ZSTD, 2, NULL, NULL, &error), 0);
  size_t size;
  unsigned char* bytes = slurp(path, &size);
  ASSERT(bytes != NULL && size < 60000); /* fits a pipe's buffer */
  for (int limited = 0; limited < 2; limited++) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    ASSERT_EQ(write(fds[1], bytes, size), (ssize_t)size);
    close(fds[1]);
    struct wudf_ipc_read_options options;
    wudf_ipc_read_options_init(&options);
    if (limited) options.max_message_bytes = 64;
    struct ArrowArrayStream stream;
    int status = wudf_ipc_read_fd(fds[0], &options, &stream, &error);
    if (limited) {
      ASSERT_EQ(status, EFBIG);
      ASSERT(strstr(error.message, "max_message_bytes") != NULL);
    } else {
      ASSERT_EQ(status, 0);
      int64_t rows;
      ASSERT_EQ(drain(&stream, &rows, NULL, 0), 0);
      ASSERT_EQ(rows, 2 * ROWS);
    }
    close(fds[0]);
  }
  /* The file format needs a seekable input. */
  ASSERT_EQ(write_file(path, WUDF_IPC_FILE, WUDF_IPC_UNCOMPRESSED, 1, NULL, NULL, &error), 0);
  free(bytes);
  bytes = slurp(path, &size);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], bytes, size), (ssize_t)size);
  close(fds[1]);
  struct ArrowArrayStream stream;
  ASSERT_EQ(wudf_ipc_read_fd(fds[0], NULL, &stream, &error), ENOTSUP);
  ASSERT(strstr(error.message, "seekable") != NULL);
  close(fds[0]);
  free(bytes);
  unlink(path);
}

/* wudf_ipc_read_progress: bytes through the last batch read, of the
 * input's size; the whole input at the end; ESPIPE on a pipe; EINVAL for a
 * stream of another producer. */
TEST(reports_progress_in_bytes) {
  struct wudf_error error;
  const char* path = temp_path("progress");
  for (int file = 0; file < 2; file++) {
    ASSERT_EQ(write_file(path, file ? WUDF_IPC_FILE : WUDF_IPC_STREAM, WUDF_IPC_UNCOMPRESSED, 4,
                         NULL, NULL, &error), 0);
    size_t size;
    unsigned char* bytes = slurp(path, &size);
    ASSERT(bytes != NULL);
    struct ArrowArrayStream stream;
    ASSERT_EQ(wudf_ipc_read_path(path, NULL, &stream, &error), 0);
    int64_t done = -1, total = -1, last = 0, step = 0;
    ASSERT_EQ(wudf_ipc_read_progress(&stream, &done, &total, &error), 0);
    ASSERT_EQ(total, (int64_t)size);
    ASSERT_LT(done, total / 4); /* the schema (or nothing, for a file) */
    for (int i = 0; i < 4; i++) {
      struct ArrowArray batch;
      ASSERT_EQ(stream.get_next(&stream, &batch), 0);
      ASSERT(batch.release != NULL);
      batch.release(&batch);
      ASSERT_EQ(wudf_ipc_read_progress(&stream, &done, &total, &error), 0);
      /* Four equal batches: after the first (which carries the schema
       * before it), each moves the position by the same message size. */
      if (i == 0) ASSERT_LT(last, done);
      if (i >= 2) ASSERT_EQ(done - last, step);
      step = done - last;
      last = done;
    }
    struct ArrowArray end;
    ASSERT_EQ(stream.get_next(&stream, &end), 0);
    ASSERT(end.release == NULL);
    ASSERT_EQ(wudf_ipc_read_progress(&stream, &done, &total, &error), 0);
    ASSERT_EQ(done, (int64_t)size);
    ASSERT_LT(last, done); /* the end of stream, or the footer */
    ASSERT_EQ(wudf_csv_read_progress(&stream, &done, &total, &error), EINVAL);
    stream.release(&stream);
    ASSERT_EQ(wudf_ipc_read_progress(&stream, &done, &total, &error), EINVAL);
    if (!file) {
      int fds[2];
      ASSERT_EQ(pipe(fds), 0);
      ASSERT(size < 60000); /* fits a pipe's buffer */
      ASSERT_EQ(write(fds[1], bytes, size), (ssize_t)size);
      close(fds[1]);
      ASSERT_EQ(wudf_ipc_read_fd(fds[0], NULL, &stream, &error), 0);
      ASSERT_EQ(wudf_ipc_read_progress(&stream, &done, &total, &error), ESPIPE);
      ASSERT_CONTAINS(error.message, "size is not known");
      stream.release(&stream);
      close(fds[0]);
    }
    free(bytes);
  }
  unlink(path);
}

TEST(limits_decompressed_bytes) {
  struct wudf_error error;
  const char* path = temp_path("decompressed");
  ASSERT_EQ(write_file(path, WUDF_IPC_STREAM, WUDF_IPC_LZ4_FRAME, 1, NULL, NULL, &error), 0);
  size_t size;
  unsigned char* bytes = slurp(path, &size);
  struct wudf_ipc_read_options options;
  wudf_ipc_read_options_init(&options);
  options.max_decompressed_bytes = 8;
  char message[1024];
  int64_t rows;
  /* Small buffers stay uncompressed (-1); the long view data is not. */
  int status = read_bytes(bytes, size, &rows, &options, message);
  if (status == 0) {
    ASSERT_EQ(rows, ROWS);
  } else {
    ASSERT_EQ(status, EFBIG);
    ASSERT(strstr(message, "max_decompressed_bytes") != NULL);
  }
  free(bytes);
  unlink(path);
}

/* Every truncation and a bit flip at every byte: errors or fewer rows. */
static void hostile_bytes(wudf_ipc_format format, wudf_ipc_compression codec) {
  struct wudf_error error;
  const char* path = temp_path("hostile");
  ASSERT_EQ(write_file(path, format, codec, 1, NULL, NULL, &error), 0);
  size_t size;
  unsigned char* bytes = slurp(path, &size);
  ASSERT(bytes != NULL);
  int64_t rows;
  char message[1024];
  ASSERT_EQ(read_bytes(bytes, size, &rows, NULL, message), 0);
  ASSERT_EQ(rows, ROWS);
  int errors = 0;
  for (size_t n = 0; n < size; n++) {
    message[0] = '\0';
    int status = read_bytes(bytes, n, &rows, NULL, message);
    if (status != 0) {
      errors++;
      if (status != ENOMEM && strstr(message, "<memory>") == NULL) {
        TEST_FAIL("truncation at %zu: message without the input's name: %s", n, message);
      }
    } else {
      ASSERT(rows <= ROWS);
      /* A file must be whole; a stream may end after any message. */
      if (format == WUDF_IPC_FILE) TEST_FAIL("truncated file at %zu read without error", n);
    }
  }
  ASSERT(errors > 0);
  /* One change per byte: a flipped bit (which bit rotates), all ones, or
   * the top bit flipped (lengths and offsets turn huge or negative). */
  for (size_t i = 0; i < size; i++) {
    unsigned char saved = bytes[i];
    int variant = (int)(i % 3);
    bytes[i] = variant == 0 ? (unsigned char)(saved ^ (1u << (i / 3 % 8)))
               : variant == 1 ? 0xFF : (unsigned char)(saved ^ 0x80);
    if (bytes[i] == saved) bytes[i] = (unsigned char)~saved;
    message[0] = '\0';
    (void)read_bytes(bytes, size, &rows, NULL, message);
    bytes[i] = saved;
  }
  free(bytes);
  unlink(path);
}

TEST(hostile_stream_uncompressed) { hostile_bytes(WUDF_IPC_STREAM, WUDF_IPC_UNCOMPRESSED); }
TEST(hostile_file_lz4) { hostile_bytes(WUDF_IPC_FILE, WUDF_IPC_LZ4_FRAME); }
TEST(hostile_stream_zstd) { hostile_bytes(WUDF_IPC_STREAM, WUDF_IPC_ZSTD); }

TEST(hostile_headers) {
  int64_t rows;
  char message[1024];
  /* A huge metadata length: refused before any allocation. */
  static const unsigned char huge[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFF, 0x7F};
  ASSERT_EQ(read_bytes(huge, sizeof huge, &rows, NULL, message), EPROTO);
  ASSERT(strstr(message, "truncated") != NULL);
  /* An empty input, an end marker alone, garbage. */
  ASSERT_EQ(read_bytes(huge, 0, &rows, NULL, message), EPROTO);
  static const unsigned char end[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  ASSERT_EQ(read_bytes(end, sizeof end, &rows, NULL, message), EPROTO);
  ASSERT(strstr(message, "no schema") != NULL);
  static const unsigned char magic_only[] = "ARROW1\0\0ARROW1";
  ASSERT_EQ(read_bytes(magic_only, sizeof magic_only - 1, &rows, NULL, message), EPROTO);
  ASSERT_EQ(wudf_ipc_read_path(temp_path("does-not-exist"), NULL, NULL, NULL), EINVAL);
  struct ArrowArrayStream stream;
  struct wudf_error error;
  ASSERT_EQ(wudf_ipc_read_path(temp_path("does-not-exist"), NULL, &stream, &error), ENOENT);
  ASSERT(strstr(error.message, "does-not-exist") != NULL);
}

TEST(writer_refuses_bad_schemas) {
  struct wudf_error error;
  struct wudf_ipc_writer* writer = NULL;
  ASSERT_EQ(wudf_ipc_writer_open_path(temp_path("bad"), &i_schema, NULL, &writer, &error),
            EINVAL);
  ASSERT(strstr(error.message, "struct") != NULL);
  ASSERT(writer == NULL);
  unlink(temp_path("bad"));
}

TEST(every_allocation_failing) {
  struct wudf_error error;
  const char* path = temp_path("allocations");
  ASSERT_EQ(write_file(path, WUDF_IPC_FILE, WUDF_IPC_ZSTD, 2, NULL, NULL, &error), 0);
  size_t size;
  unsigned char* bytes = slurp(path, &size);
  long base = atomic_load(&live_allocations);
  int succeeded = 0;
  for (long fail_at = 0; fail_at < 2000 && !succeeded; fail_at++) {
    int64_t rows = 0;
    char message[1024];
    atomic_store(&allocations_left, fail_at);
    int status = read_bytes(bytes, size, &rows, NULL, message);
    atomic_store(&allocations_left, -1);
    ASSERT_EQ(atomic_load(&live_allocations), base);
    if (status == 0) succeeded = 1;
    else if (status != ENOMEM) TEST_FAIL("allocation %ld: %d %s", fail_at, status, message);
  }
  ASSERT(succeeded);
  succeeded = 0;
  for (long fail_at = 0; fail_at < 2000 && !succeeded; fail_at++) {
    atomic_store(&allocations_left, fail_at);
    int status = write_file(path, WUDF_IPC_STREAM, WUDF_IPC_LZ4_FRAME, 2, NULL, NULL, &error);
    atomic_store(&allocations_left, -1);
    ASSERT_EQ(atomic_load(&live_allocations), base);
    if (status == 0) succeeded = 1;
    else if (status != ENOMEM) TEST_FAIL("allocation %ld: %d %s", fail_at, status, error.message);
  }
  ASSERT(succeeded);
  free(bytes);
  unlink(path);
}

/* Types pyarrow cannot build from Python (year-month and day-time
 * intervals), with a decimal256, a half float, a time64 and a zoned
 * timestamp: written and read back byte for byte, formats unchanged. */
TEST(round_trips_intervals_and_wide_types) {
  static int32_t months[3] = {1, -2, 300};
  static int32_t day_time[6] = {1, 1000, -5, -86400000, 0, 7};
  static uint8_t decimals[3 * 32];
  static uint16_t halves[3] = {0x3C00, 0xC000, 0x7BFF};
  static int64_t times[3] = {0, 86399999999999, 1};
  static int64_t stamps[3] = {-1, 0, 1700000000};
  for (int i = 0; i < 3 * 32; i++) decimals[i] = (uint8_t)(i * 37);
  static const void* months_buffers[2] = {NULL, months};
  static const void* day_time_buffers[2] = {NULL, day_time};
  static const void* decimal_buffers[2] = {NULL, decimals};
  static const void* half_buffers[2] = {NULL, halves};
  static const void* time_buffers[2] = {NULL, times};
  static const void* stamp_buffers[2] = {NULL, stamps};
  static const void* const* all_buffers[6] = {months_buffers, day_time_buffers, decimal_buffers,
                                               half_buffers, time_buffers, stamp_buffers};
  static const char* formats[6] = {"tiM", "tiD", "d:70,-3,256", "e", "ttn", "tsm:Asia/Tokyo"};
  static const char* names[6] = {"months", "day_time", "dec256", "half", "time", "stamp"};
  static const int widths[6] = {4, 8, 32, 2, 8, 8};
  struct ArrowArray columns[6], *column_pointers[6];
  struct ArrowSchema fields[6], *field_pointers[6];
  for (int i = 0; i < 6; i++) {
    struct ArrowArray a = {3, 0, 0, 2, 0, (const void**)all_buffers[i], NULL, NULL,
                           borrowed_array_release, NULL};
    struct ArrowSchema f = {formats[i], names[i], NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL,
                            borrowed_schema_release, NULL};
    columns[i] = a;
    fields[i] = f;
    column_pointers[i] = &columns[i];
    field_pointers[i] = &fields[i];
  }
  struct ArrowArray batch = {3, 0, 0, 1, 6, root_buffers, column_pointers, NULL,
                             borrowed_array_release, NULL};
  struct ArrowSchema schema = {"+s", "", NULL, 0, 6, field_pointers, NULL,
                               borrowed_schema_release, NULL};
  for (int format = 0; format < 2; format++) {
    const char* path = temp_path("wide");
    struct wudf_error error;
    struct wudf_ipc_write_options options;
    wudf_ipc_write_options_init(&options);
    options.format = (wudf_ipc_format)format;
    options.compression = WUDF_IPC_ZSTD;
    struct wudf_ipc_writer* writer = NULL;
    if (wudf_ipc_writer_open_path(path, &schema, &options, &writer, &error) != 0 ||
        wudf_ipc_writer_write(writer, &batch, &error) != 0 ||
        wudf_ipc_writer_close(writer, &error) != 0) {
      TEST_FAIL("write: %s", error.message);
    }
    struct ArrowArrayStream stream;
    if (wudf_ipc_read_path(path, NULL, &stream, &error) != 0) TEST_FAIL("read: %s", error.message);
    struct ArrowSchema got_schema;
    struct ArrowArray got;
    ASSERT_EQ(stream.get_schema(&stream, &got_schema), 0);
    ASSERT_EQ(stream.get_next(&stream, &got), 0);
    ASSERT_EQ(got.length, 3);
    for (int i = 0; i < 6; i++) {
      ASSERT_STR_EQ(got_schema.children[i]->format, formats[i]);
      ASSERT_STR_EQ(got_schema.children[i]->name, names[i]);
      ASSERT(memcmp(got.children[i]->buffers[1], all_buffers[i][1], (size_t)(3 * widths[i])) == 0);
    }
    got.release(&got);
    got_schema.release(&got_schema);
    stream.release(&stream);
    unlink(path);
  }
}

/* ---------------------------------------------- hand-made hostile schemas */

/* A Field of type `tag` (an empty type table unless `type` is given) with
 * `n` children. */
static wudf__fb_ref make_field(struct wudf__fb_builder* b, uint8_t tag, wudf__fb_ref type,
                               const wudf__fb_ref* children, size_t n) {
  wudf__fb_ref kids = wudf__fb_create_ref_vector(b, children, n);
  if (type == 0) {
    wudf__fb_table_start(b);
    type = wudf__fb_table_end(b);
  }
  wudf__fb_ref name = wudf__fb_create_string(b, "f", 1);
  wudf__fb_table_start(b);
  wudf__fb_add_ref(b, WUDF__FIELD_NAME, name);
  wudf__fb_add_scalar(b, WUDF__FIELD_NULLABLE, 1, 1);
  wudf__fb_add_scalar(b, WUDF__FIELD_TYPE_TYPE, 1, tag);
  wudf__fb_add_ref(b, WUDF__FIELD_TYPE, type);
  wudf__fb_add_ref(b, WUDF__FIELD_CHILDREN, kids);
  return wudf__fb_table_end(b);
}

/* A stream of one schema message (fields: `field`) and the end marker, in
 * `out` (malloc'd). */
static size_t schema_stream(struct wudf__fb_builder* b, wudf__fb_ref field, unsigned char** out) {
  wudf__fb_ref fields = wudf__fb_create_ref_vector(b, &field, 1);
  wudf__fb_table_start(b);
  wudf__fb_add_ref(b, WUDF__SCHEMA_FIELDS, fields);
  wudf__fb_ref schema = wudf__fb_table_end(b);
  wudf__fb_table_start(b);
  wudf__fb_add_scalar(b, WUDF__MESSAGE_VERSION, 2, WUDF__VERSION_V5);
  wudf__fb_add_scalar(b, WUDF__MESSAGE_HEADER_TYPE, 1, WUDF__HEADER_SCHEMA);
  wudf__fb_add_ref(b, WUDF__MESSAGE_HEADER, schema);
  wudf__fb_ref message = wudf__fb_table_end(b);
  const uint8_t* bytes;
  size_t size;
  if (wudf__fb_finish(b, message, &bytes, &size) != 0) TEST_FAIL("cannot build the schema");
  *out = malloc(size + 16);
  uint32_t marker = 0xFFFFFFFFu, length = (uint32_t)size, zero = 0;
  memcpy(*out, &marker, 4);
  memcpy(*out + 4, &length, 4);
  memcpy(*out + 8, bytes, size);
  memcpy(*out + 8 + size, &marker, 4);
  memcpy(*out + 12 + size, &zero, 4);
  wudf__fb_builder_free(b);
  return size + 16;
}

TEST(hostile_schemas) {
  /* A union of 128 null children without type ids (ids 0..127): valid. The
   * fuzzer once found the format string of such a union overflowing. */
  for (int children = 128; children <= 129; children++) {
    struct wudf__fb_builder b;
    wudf__fb_builder_init(&b);
    wudf__fb_ref kids[129];
    for (int i = 0; i < children; i++) kids[i] = make_field(&b, WUDF__TYPE_NULL, 0, NULL, 0);
    wudf__fb_table_start(&b);
    wudf__fb_add_scalar(&b, 0, 2, 0); /* sparse */
    wudf__fb_ref type = wudf__fb_table_end(&b);
    wudf__fb_ref field = make_field(&b, WUDF__TYPE_UNION, type, kids, (size_t)children);
    unsigned char* bytes;
    size_t size = schema_stream(&b, field, &bytes);
    int64_t rows;
    char message[1024];
    int status = read_bytes(bytes, size, &rows, NULL, message);
    if (children == 128) {
      if (status != 0) TEST_FAIL("%s", message);
      ASSERT_EQ(rows, 0);
    } else {
      ASSERT_EQ(status, EPROTO);
      ASSERT(strstr(message, "field f") != NULL);
    }
    free(bytes);
  }
  /* Structs nested 100 deep: refused by the depth limit. */
  struct wudf__fb_builder b;
  wudf__fb_builder_init(&b);
  wudf__fb_ref field = make_field(&b, WUDF__TYPE_INT, 0, NULL, 0);
  for (int depth = 0; depth < 100; depth++) field = make_field(&b, WUDF__TYPE_STRUCT, 0, &field, 1);
  unsigned char* bytes;
  size_t size = schema_stream(&b, field, &bytes);
  int64_t rows;
  char message[1024];
  ASSERT_EQ(read_bytes(bytes, size, &rows, NULL, message), EPROTO);
  ASSERT(strstr(message, "nesting deeper than 64") != NULL);
  free(bytes);
  /* A field listed 60 times at each of 20 levels (a DAG of 60^20 paths in
   * a few kilobytes): refused by the field budget, quickly. */
  wudf__fb_builder_init(&b);
  field = make_field(&b, WUDF__TYPE_NULL, 0, NULL, 0);
  for (int depth = 0; depth < 20; depth++) {
    wudf__fb_ref same[60];
    for (int i = 0; i < 60; i++) same[i] = field;
    field = make_field(&b, WUDF__TYPE_STRUCT, 0, same, 60);
  }
  size = schema_stream(&b, field, &bytes);
  ASSERT_EQ(read_bytes(bytes, size, &rows, NULL, message), EPROTO);
  ASSERT(strstr(message, "more fields than the schema's bytes hold") != NULL);
  free(bytes);
}

int main(void) {
  const char* tmp = getenv("WUDF_TEST_TMP");
  snprintf(temp_dir, sizeof temp_dir, "%s", tmp && *tmp ? tmp : "/tmp");
  make_views();
  static const struct wudf_allocator counting = {counting_malloc, counting_realloc,
                                                 counting_free, NULL};
  if (wudf_set_allocator(&counting) != 0) TEST_FAIL("cannot install the allocator");
  RUN_TEST(round_trips_every_format_and_codec);
  RUN_TEST(round_trips_intervals_and_wide_types);
  RUN_TEST(reads_from_a_pipe_and_limits_messages);
  RUN_TEST(reports_progress_in_bytes);
  RUN_TEST(limits_decompressed_bytes);
  RUN_TEST(hostile_headers);
  RUN_TEST(writer_refuses_bad_schemas);
  RUN_TEST(hostile_schemas);
  RUN_TEST(hostile_stream_uncompressed);
  RUN_TEST(hostile_file_lz4);
  RUN_TEST(hostile_stream_zstd);
  RUN_TEST(every_allocation_failing);
  return TEST_SUMMARY();
}
