/*
 * make_ipc_seeds.c -- writes the seed corpus of fuzz_ipc: the batch of
 * tests/ipc_fixture.h (twice, the second time sliced) as an IPC stream and
 * file, uncompressed, LZ4 and ZSTD, through libwasmudf's writer. Generated
 * at build time (scripts/fuzz-ipc.sh) rather than committed.
 *
 *   make_ipc_seeds DIRECTORY
 */
#include <stdio.h>
#include <stdlib.h>

#include "ipc_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_ipc_seeds DIRECTORY\n");
    return 2;
  }
  make_views();
  static const char* codecs[3] = {"none", "lz4", "zstd"};
  for (int format = 0; format < 2; format++) {
    for (int codec = 0; codec < 3; codec++) {
      char path[1024];
      snprintf(path, sizeof path, "%s/%s-%s.%s", argv[1], format ? "file" : "stream",
               codecs[codec], format ? "arrow" : "arrows");
      struct wudf_ipc_write_options options;
      wudf_ipc_write_options_init(&options);
      options.format = (wudf_ipc_format)format;
      options.compression = (wudf_ipc_compression)codec;
      struct wudf_ipc_writer* writer = NULL;
      struct wudf_error error;
      struct ArrowArray sliced = root_array;
      sliced.offset = 1;
      sliced.length = 3;
      if (wudf_ipc_writer_open_path(path, &root_schema, &options, &writer, &error) != 0 ||
          wudf_ipc_writer_write(writer, &root_array, &error) != 0 ||
          wudf_ipc_writer_write(writer, &sliced, &error) != 0 ||
          wudf_ipc_writer_close(writer, &error) != 0) {
        fprintf(stderr, "make_ipc_seeds: %s\n", error.message);
        return 1;
      }
    }
  }
  return 0;
}
