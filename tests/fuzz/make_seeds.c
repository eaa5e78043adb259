/*
 * make_seeds.c -- writes the seed corpus of fuzz_import: one file per valid
 * result tree of tests/import_builder.h (every layout, a null array, int32
 * dictionary indices, lists nested to the depth limit, and all the layouts
 * nested in one struct), each at FULL and at STRUCTURE level, in the input
 * format fuzz_import.c describes (16-byte header, then the memory image).
 * Generated at build time (scripts/fuzz-import.sh) rather than committed,
 * so the seeds follow the builder when it changes.
 *
 *   make_seeds DIRECTORY
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_builder.h"

static uint8_t seed_memory[1 << 16];

/* Writes DIRECTORY/NAME-LEVEL with the result and the memory written so far. */
static int write_seed(const char* directory, const char* name, struct ib_result result,
                      int level) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s-%s", directory, name, level ? "structure" : "full");
  FILE* file = fopen(path, "wb");
  if (file == NULL) {
    perror(path);
    return -1;
  }
  uint8_t header[16] = {0};
  uint32_t any_length = UINT32_MAX;
  memcpy(header, &result.array, 4);
  memcpy(header + 4, &result.schema, 4);
  memcpy(header + 8, &any_length, 4);
  header[12] = (uint8_t)level;
  int failed = fwrite(header, 1, sizeof(header), file) != sizeof(header) ||
               fwrite(ib_memory.base, 1, ib_used, file) != ib_used;
  failed |= fclose(file) != 0;
  if (failed) perror(path);
  return failed ? -1 : 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds DIRECTORY\n");
    return 2;
  }
  static const struct {
    const char* name;
    struct ib_result (*make)(void);
  } seeds[] = {
      {"int32", ib_int32_result},          {"utf8", ib_utf8_result},
      {"view", ib_view_result},            {"list", ib_list_result},
      {"struct", ib_struct_result},        {"map", ib_map_result},
      {"dense_union", ib_dense_union_result}, {"sparse_union", ib_sparse_union_result},
      {"dictionary", ib_dictionary_result}, {"run_end", ib_run_end_result},
      {"fixed_list", ib_fixed_list_result}, {"list_view", ib_list_view_result},
  };
  enum { N = sizeof(seeds) / sizeof(seeds[0]) };
  int failed = 0;
  for (int level = 0; level < 2; level++) {
    for (int i = 0; i < N; i++) {
      ib_start(seed_memory, sizeof(seed_memory));
      failed |= write_seed(argv[1], seeds[i].name, seeds[i].make(), level);
    }
    /* A null array; int32 indices into a dictionary of int64 values; lists
     * nested 32 deep (the depth limit). */
    ib_start(seed_memory, sizeof(seed_memory));
    struct ib_result nulls = {ib_array(3, 3, 0, IB_NONE, IB_NONE, 0),
                              ib_schema("n", "z", IB_NONE, 0)};
    failed |= write_seed(argv[1], "null", nulls, level);
    ib_start(seed_memory, sizeof(seed_memory));
    struct ib_result indices = {
        ib_array(3, 0, 0, IB_LIST(0, IB_I32(1, 0, 1)), IB_NONE,
                 ib_array(2, 0, 0, IB_LIST(0, IB_I64(7, 8)), IB_NONE, 0)),
        ib_schema("i", "d", IB_NONE, ib_schema("l", NULL, IB_NONE, 0))};
    failed |= write_seed(argv[1], "dictionary_int32", indices, level);
    ib_start(seed_memory, sizeof(seed_memory));
    struct ib_result deep = {ib_array(1, 0, 0, IB_LIST(0, IB_I32(5)), IB_NONE, 0),
                             ib_schema("i", "item", IB_NONE, 0)};
    for (int depth = 1; depth < 32; depth++) {
      deep.schema = ib_schema("+l", "item", IB_LIST(deep.schema), 0);
      deep.array = ib_array(1, 0, 0, IB_LIST(0, IB_I32(0, 1)), IB_LIST(deep.array), 0);
    }
    failed |= write_seed(argv[1], "deep", deep, level);
    /* All of them as the fields of one struct of 2 rows. */
    ib_start(seed_memory, sizeof(seed_memory));
    uint32_t arrays[N], schemas[N];
    for (int i = 0; i < N; i++) {
      struct ib_result part = seeds[i].make();
      arrays[i] = part.array;
      schemas[i] = part.schema;
    }
    struct ib_result all = {ib_array(2, 0, 0, IB_LIST(0), N, arrays, 0),
                            ib_schema("+s", "all", N, schemas, 0)};
    failed |= write_seed(argv[1], "all", all, level);
  }
  return failed ? 1 : 0;
}
