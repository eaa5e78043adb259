/*
 * aggregate_files.c -- `wasmudf run MODULE AGGREGATE INPUT [--group-by
 * COL]`: an aggregate function over the batches of a file through the
 * library's accumulator (wudf_aggregate_*). Without --group-by every row
 * folds into one group and the result is one row; with it, each distinct
 * value of COL (nulls one group of their own) is a group, numbered in the
 * order of first appearance, and the result has one row per group: the key
 * column, then the function's result.
 *
 * Keys are told apart by their text as the table prints them (so every
 * type, nested and dictionary columns included, can group), hashed in an
 * open-addressing table. The key column of the output keeps the input's
 * type for fixed-width primitive columns and bool-free numeric types; any
 * other key column comes out as utf8, its printed value.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "wasmudf/wasmudf.h"

/* The distinct keys and the output key column being built. */
struct groups {
  char** texts;     /* by group id; NULL for the null key */
  int64_t count;
  int64_t* slots;   /* hash table: group id + 1, 0 empty */
  int64_t slot_count;
  int null_group;   /* group id of the null key, or -1 */
  size_t width;     /* bytes of a fixed-width key, 0 for a text key */
  uint8_t* values;  /* fixed-width keys, or int32 offsets of text keys */
  char* data;       /* text keys' bytes */
  int64_t data_size;
  uint8_t* validity;
  int64_t capacity;
};

static uint64_t hash_text(const char* text) {
  uint64_t hash = 1469598103934665603ull;
  for (; *text; text++) hash = (hash ^ (uint8_t)*text) * 1099511628211ull;
  return hash;
}

static size_t fixed_width(const struct ArrowSchema* schema) {
  const char* f = schema->format;
  if (schema->dictionary != NULL || f[0] == '\0' || f[1] != '\0') return 0;
  switch (f[0]) {
    case 'c': case 'C': return 1;
    case 's': case 'S': case 'e': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'g': return 8;
  }
  return 0;
}

/* Makes room for one more group. 0 or ENOMEM. */
static int groups_grow(struct groups* g) {
  if (g->count < g->capacity) return 0;
  int64_t capacity = g->capacity ? g->capacity * 2 : 64;
  char** texts = realloc(g->texts, (size_t)capacity * sizeof(char*));
  if (texts == NULL) return ENOMEM;
  g->texts = texts;
  size_t value_size = g->width ? g->width : 4;
  uint8_t* values = realloc(g->values, (size_t)(capacity + 1) * value_size);
  if (values == NULL) return ENOMEM;
  g->values = values;
  uint8_t* validity = realloc(g->validity, (size_t)(capacity + 7) / 8);
  if (validity == NULL) return ENOMEM;
  memset(validity + (g->capacity + 7) / 8, 0,
         (size_t)((capacity + 7) / 8 - (g->capacity + 7) / 8));
  g->validity = validity;
  g->capacity = capacity;
  /* Rehash into a table of twice the capacity. */
  int64_t slot_count = capacity * 2;
  int64_t* slots = calloc((size_t)slot_count, sizeof(int64_t));
  if (slots == NULL) return ENOMEM;
  for (int64_t id = 0; id < g->count; id++) {
    if (g->texts[id] == NULL) continue;
    int64_t s = (int64_t)(hash_text(g->texts[id]) % (uint64_t)slot_count);
    while (slots[s]) s = (s + 1) % slot_count;
    slots[s] = id + 1;
  }
  free(g->slots);
  g->slots = slots;
  g->slot_count = slot_count;
  return 0;
}

/* The group id of row `index` of the key column; a new group (its key
 * appended to the output column) the first time. -1 when out of memory. */
static int64_t group_of(struct groups* g, const struct ArrowArray* keys,
                        const struct ArrowSchema* key_schema, int64_t index) {
  const uint8_t* validity = keys->n_buffers > 0 ? keys->buffers[0] : NULL;
  int64_t i = keys->offset + index;
  int is_null = key_schema->format[0] == 'n' ||
                (keys->null_count != 0 && validity != NULL && !((validity[i >> 3] >> (i & 7)) & 1) &&
                 strncmp(key_schema->format, "+u", 2) != 0 && strcmp(key_schema->format, "+r") != 0);
  if (is_null && g->null_group >= 0) return g->null_group;
  char* text = is_null ? NULL : cli_value_text(keys, key_schema, index);
  if (!is_null && text == NULL) return -1;
  if (!is_null) {
    int64_t s = g->slot_count ? (int64_t)(hash_text(text) % (uint64_t)g->slot_count) : 0;
    while (g->slot_count && g->slots[s]) {
      if (strcmp(g->texts[g->slots[s] - 1], text) == 0) {
        free(text);
        return g->slots[s] - 1;
      }
      s = (s + 1) % g->slot_count;
    }
  }
  if (groups_grow(g) != 0) {
    free(text);
    return -1;
  }
  int64_t id = g->count++;
  g->texts[id] = text;
  if (is_null) {
    g->null_group = (int)id;
  } else {
    int64_t s = (int64_t)(hash_text(text) % (uint64_t)g->slot_count);
    while (g->slots[s]) s = (s + 1) % g->slot_count;
    g->slots[s] = id + 1;
    g->validity[id >> 3] |= (uint8_t)(1u << (id & 7));
  }
  if (g->width) {
    if (is_null) memset(g->values + (size_t)id * g->width, 0, g->width);
    else memcpy(g->values + (size_t)id * g->width,
                (const uint8_t*)keys->buffers[1] + (size_t)i * g->width, g->width);
  } else {
    size_t n = is_null ? 0 : strlen(text);
    char* data = realloc(g->data, (size_t)g->data_size + n + 1);
    if (data == NULL) return -1;
    g->data = data;
    memcpy(g->data + g->data_size, text ? text : "", n);
    g->data_size += (int64_t)n;
    int32_t end = (int32_t)g->data_size;
    if (id == 0) memset(g->values, 0, 4);
    memcpy(g->values + (size_t)(id + 1) * 4, &end, 4);
  }
  return id;
}

static void groups_free(struct groups* g) {
  for (int64_t id = 0; id < g->count; id++) free(g->texts[id]);
  free(g->texts);
  free(g->slots);
  free(g->values);
  free(g->data);
  free(g->validity);
}

/* The output batch: the key column (buffers taken from the groups) and
 * the result column, as a struct batch owning both; its schema likewise. */
struct keyed_array {
  struct ArrowArray key, result, *children[2];
  const void* key_buffers[3];
  const void* buffers[1];
  uint8_t *values, *validity;
  char* data;
};
struct keyed_schema {
  struct ArrowSchema key, result, *children[2];
  char name[256], format[8];
};

static void keyed_array_release(struct ArrowArray* array) {
  struct keyed_array* k = array->private_data;
  if (k->result.release) k->result.release(&k->result);
  free(k->values);
  free(k->validity);
  free(k->data);
  free(k);
  array->release = NULL;
}

static void keyed_schema_release(struct ArrowSchema* schema) {
  struct keyed_schema* k = schema->private_data;
  if (k->result.release) k->result.release(&k->result);
  free(k);
  schema->release = NULL;
}

static void noop_array_release(struct ArrowArray* array) { array->release = NULL; }
static void noop_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

int cli_run_aggregate(struct wudf_instance* instance, uint32_t function,
                      const struct wudf_function_info* info, struct ArrowArrayStream* in,
                      int in_csv,
                      const struct ArrowSchema* in_schema, const int* columns,
                      int group_column, const char* input, const char* output_path,
                      enum cli_format format, int64_t max_rows) {
  struct wudf_error error;
  struct wudf_aggregate* aggregate = NULL;
  struct groups groups = {0};
  groups.null_group = -1;
  uint32_t* ids = NULL;
  int exit_status = CLI_EXIT_GUEST;
  const struct ArrowSchema* key_schema =
      group_column >= 0 ? in_schema->children[group_column] : NULL;
  if (key_schema) groups.width = fixed_width(key_schema);
  struct cli_progress progress;
  cli_progress_start(&progress, in, in_csv);
  if (wudf_aggregate_new(instance, function, &aggregate, &error) != 0) {
    return cli_fail(&error, CLI_EXIT_GUEST);
  }
  struct ArrowArray batch;
  int status;
  int64_t rows = 0;
  while ((status = in->get_next(in, &batch)) == 0 && batch.release != NULL) {
    rows += batch.length;
    cli_progress_update(&progress, rows);
    struct ArrowArray sliced[64];
    const struct ArrowArray* args[64];
    const struct ArrowSchema* arg_schemas[64];
    for (uint32_t a = 0; a < info->arg_count; a++) {
      sliced[a] = *batch.children[columns[a]];
      sliced[a].offset += batch.offset;
      sliced[a].length = batch.length;
      args[a] = &sliced[a];
      arg_schemas[a] = in_schema->children[columns[a]];
    }
    const uint32_t* group_ids = NULL;
    if (key_schema) {
      uint32_t* grown = realloc(ids, (size_t)(batch.length ? batch.length : 1) * sizeof *ids);
      if (grown == NULL) {
        batch.release(&batch);
        fprintf(stderr, "wasmudf: out of memory\n");
        goto done;
      }
      ids = grown;
      const struct ArrowArray* keys = batch.children[group_column];
      for (int64_t r = 0; r < batch.length; r++) {
        int64_t id = group_of(&groups, keys, key_schema, batch.offset + r);
        if (id < 0 || id > UINT32_MAX) {
          batch.release(&batch);
          fprintf(stderr, "wasmudf: out of memory grouping by '%s'\n", key_schema->name);
          goto done;
        }
        ids[r] = (uint32_t)id;
      }
      group_ids = ids;
    }
    int64_t group_count = key_schema ? (groups.count ? groups.count : 1) : 1;
    if (batch.length > 0 &&
        wudf_aggregate_update(aggregate, info->arg_count, args, arg_schemas, group_ids,
                              group_count, NULL, &error) != 0) {
      batch.release(&batch);
      exit_status = cli_fail(&error, error.code == EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_GUEST);
      goto done;
    }
    batch.release(&batch);
  }
  cli_progress_end(&progress);
  if (status != 0) {
    const char* message = in->get_last_error(in);
    fprintf(stderr, "wasmudf: %s: %s\n", input, message ? message : strerror(status));
    exit_status = CLI_EXIT_INPUT;
    goto done;
  }
  struct ArrowArray result;
  struct ArrowSchema result_schema;
  if (wudf_aggregate_finish(aggregate, NULL, &result, &result_schema, &error) != 0) {
    exit_status = cli_fail(&error, CLI_EXIT_GUEST);
    goto done;
  }
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  if (key_schema == NULL) {
    if (cli_wrap_column(&result, &result_schema, &out, &out_schema) != 0) {
      result.release(&result);
      result_schema.release(&result_schema);
      fprintf(stderr, "wasmudf: out of memory\n");
      goto done;
    }
  } else {
    struct keyed_array* k = calloc(1, sizeof *k);
    struct keyed_schema* ks = calloc(1, sizeof *ks);
    if (k == NULL || ks == NULL) {
      free(k);
      free(ks);
      result.release(&result);
      result_schema.release(&result_schema);
      fprintf(stderr, "wasmudf: out of memory\n");
      goto done;
    }
    int64_t n = groups.count;
    k->values = groups.values;
    k->validity = groups.validity;
    k->data = groups.data;
    groups.values = NULL;
    groups.validity = NULL;
    groups.data = NULL;
    if (k->values == NULL) k->values = calloc(1, 8); /* no groups: an empty column */
    k->key_buffers[0] = groups.null_group >= 0 ? k->validity : NULL;
    k->key_buffers[1] = k->values;
    k->key_buffers[2] = k->data ? k->data : "";
    k->key.length = n;
    k->key.null_count = groups.null_group >= 0 ? 1 : 0;
    k->key.n_buffers = groups.width ? 2 : 3;
    k->key.buffers = k->key_buffers;
    k->key.release = noop_array_release;
    k->result = result;
    k->children[0] = &k->key;
    k->children[1] = &k->result;
    memset(&out, 0, sizeof out);
    out.length = n;
    out.n_buffers = 1;
    out.buffers = k->buffers;
    out.n_children = 2;
    out.children = k->children;
    out.release = keyed_array_release;
    out.private_data = k;
    snprintf(ks->format, sizeof ks->format, "%s", groups.width ? key_schema->format : "u");
    snprintf(ks->name, sizeof ks->name, "%s", key_schema->name ? key_schema->name : "");
    ks->key.format = ks->format;
    ks->key.name = ks->name;
    ks->key.flags = ARROW_FLAG_NULLABLE;
    ks->key.release = noop_schema_release;
    ks->result = result_schema;
    ks->children[0] = &ks->key;
    ks->children[1] = &ks->result;
    memset(&out_schema, 0, sizeof out_schema);
    out_schema.format = "+s";
    out_schema.name = "";
    out_schema.n_children = 2;
    out_schema.children = ks->children;
    out_schema.release = keyed_schema_release;
    out_schema.private_data = ks;
  }
  struct ArrowArrayStream stream;
  if (cli_batches_stream(&out, 1, &out_schema, &stream) != 0) {
    fprintf(stderr, "wasmudf: out of memory\n");
    goto done;
  }
  status = cli_write_stream(&stream, output_path, format, max_rows, &error);
  if (status != 0) {
    fprintf(stderr, "wasmudf: %s\n", error.message);
    exit_status = CLI_EXIT_INPUT;
    goto done;
  }
  exit_status = CLI_EXIT_OK;
done:
  cli_progress_end(&progress);
  free(ids);
  groups_free(&groups);
  wudf_aggregate_free(aggregate);
  return exit_status;
}
