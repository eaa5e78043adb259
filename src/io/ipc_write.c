/*
 * ipc_write.c -- the Arrow IPC writer: record batches of any schema become
 * an Arrow IPC stream or file (the columnar format specification's
 * "Serialization and Interprocess Communication").
 *
 * Each batch is first planned by the gatherer (arrow/gather.h) as one
 * segment of all its rows: the plan has offset 0 everywhere (slices
 * applied, offsets rebased, bitmaps shifted) and its buffers point into the
 * batch wherever the bytes can be used as they are, so nothing is copied
 * for an unsliced batch. The plan's nodes are then written depth-first as
 * the FieldNodes and Buffers of a RecordBatch message (io/flatbuf.h builds
 * the metadata), each buffer padded to 8 bytes and, when asked, compressed
 * (LZ4 frame or ZSTD, io/ipc_codec.c) with its uncompressed length in
 * front (or -1 when compression would not make it smaller).
 *
 * Dictionaries are numbered in the schema's depth-first order. Before each
 * batch, every dictionary the batch uses is compared with the one written
 * last for its id (by the bytes of its message): unchanged, it is not
 * written again; extended (its first values those written before), only
 * the new values go out as a delta; otherwise it is a replacement, which
 * only the stream format allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../arrow/format.h"
#include "../arrow/gather.h"
#include "../common/common.h"
#include "flatbuf.h"
#include "ipc.h"

struct wudf__ipc_dictionary_state {
  int64_t id;
  const struct ArrowSchema* value_schema; /* in the writer's schema copy */
  int written;
  int64_t length;
  uint8_t* image;       /* the bytes of its last full message */
  size_t image_size;
};

struct wudf__ipc_block {
  int64_t offset;
  int32_t metadata_size;
  int64_t body_size;
};

struct wudf_ipc_writer {
  int fd;
  int close_fd;
  char name[256];
  struct wudf_ipc_write_options options;
  struct ArrowSchema schema;
  uint64_t position;
  struct wudf__ipc_dictionary_state* dictionaries;
  size_t dictionary_count;
  struct wudf__ipc_block* blocks[2]; /* dictionaries, record batches */
  size_t block_count[2];
  size_t block_capacity[2];
};

/* ------------------------------------------------------------ output */

static int wudf__write_all(struct wudf_ipc_writer* w, const void* bytes, size_t size,
                           struct wudf_error* error) {
  const uint8_t* at = bytes;
  while (size > 0) {
    ssize_t step = write(w->fd, at, size);
    if (step < 0) {
      if (errno == EINTR) continue;
      return wudf__set_error(error, EIO, "%s: write failed: %s", w->name, strerror(errno));
    }
    at += step;
    size -= (size_t)step;
    w->position += (uint64_t)step;
  }
  return 0;
}

static const uint8_t wudf__zeros[64];

/* ------------------------------------------------------------ metadata */

/* Parses C Data Interface metadata into a vector of KeyValue tables. */
static wudf__fb_ref wudf__write_metadata(struct wudf__fb_builder* b, const char* metadata,
                                         int* present) {
  *present = 0;
  if (metadata == NULL) return 0;
  int32_t count;
  memcpy(&count, metadata, 4);
  if (count <= 0) return 0;
  wudf__fb_ref* pairs = wudf__malloc((size_t)count * sizeof *pairs);
  if (pairs == NULL) {
    b->failed = 1;
    return 0;
  }
  const char* at = metadata + 4;
  for (int32_t i = 0; i < count; i++) {
    int32_t key_length, value_length;
    memcpy(&key_length, at, 4);
    const char* key = at + 4;
    at = key + key_length;
    memcpy(&value_length, at, 4);
    const char* value = at + 4;
    at = value + value_length;
    wudf__fb_ref key_ref = wudf__fb_create_string(b, key, (size_t)key_length);
    wudf__fb_ref value_ref = wudf__fb_create_string(b, value, (size_t)value_length);
    wudf__fb_table_start(b);
    wudf__fb_add_ref(b, WUDF__KV_KEY, key_ref);
    wudf__fb_add_ref(b, WUDF__KV_VALUE, value_ref);
    pairs[i] = wudf__fb_table_end(b);
  }
  wudf__fb_ref vector = wudf__fb_create_ref_vector(b, pairs, (size_t)count);
  wudf__free(pairs);
  *present = 1;
  return vector;
}

static int wudf__unit_index(char letter) {
  switch (letter) {
    case 's': return 0;
    case 'm': return 1;
    case 'u': return 2;
    case 'n': return 3;
    default: return -1;
  }
}

/* Writes the Type table of `format` (already parsed into `f`); sets the
 * union tag. 0 or EINVAL. */
static int wudf__write_type(struct wudf__fb_builder* b, const struct ArrowSchema* schema,
                            const char* format, const struct wudf__format* f, uint8_t* tag,
                            wudf__fb_ref* out) {
  wudf__fb_ref timezone = 0, ids = 0;
  int has_timezone = 0;
  if (format[0] == 't' && format[1] == 's' && format[4] != '\0') {
    timezone = wudf__fb_create_string(b, format + 4, strlen(format + 4));
    has_timezone = 1;
  }
  if (f->layout == WUDF__LAYOUT_SPARSE_UNION || f->layout == WUDF__LAYOUT_DENSE_UNION) {
    int32_t values[WUDF__MAX_UNION_TYPES];
    for (int i = 0; i < f->type_id_count; i++) values[i] = f->type_ids[i];
    ids = wudf__fb_create_vector(b, values, (size_t)f->type_id_count, 4, 4);
  }
  wudf__fb_table_start(b);
  char c = format[0];
  if (format[1] == '\0') {
    switch (c) {
      case 'n': *tag = WUDF__TYPE_NULL; break;
      case 'b': *tag = WUDF__TYPE_BOOL; break;
      case 'c': case 'C': case 's': case 'S': case 'i': case 'I': case 'l': case 'L':
        *tag = WUDF__TYPE_INT;
        wudf__fb_add_scalar(b, 0, 4, (uint64_t)(f->byte_width * 8));
        wudf__fb_add_scalar(b, 1, 1, f->integer == 1);
        break;
      case 'e': case 'f': case 'g':
        *tag = WUDF__TYPE_FLOAT;
        wudf__fb_add_scalar(b, 0, 2, c == 'e' ? 0 : c == 'f' ? 1 : 2);
        break;
      case 'z': *tag = WUDF__TYPE_BINARY; break;
      case 'u': *tag = WUDF__TYPE_UTF8; break;
      case 'Z': *tag = WUDF__TYPE_LARGE_BINARY; break;
      case 'U': *tag = WUDF__TYPE_LARGE_UTF8; break;
      default: return EINVAL;
    }
  } else if (strcmp(format, "vz") == 0) {
    *tag = WUDF__TYPE_BINARY_VIEW;
  } else if (strcmp(format, "vu") == 0) {
    *tag = WUDF__TYPE_UTF8_VIEW;
  } else if (c == 'd') {
    *tag = WUDF__TYPE_DECIMAL;
    wudf__fb_add_scalar(b, 0, 4, (uint32_t)f->precision);
    wudf__fb_add_scalar(b, 1, 4, (uint32_t)f->scale);
    wudf__fb_add_scalar(b, 2, 4, (uint64_t)(f->byte_width * 8));
  } else if (c == 'w') {
    *tag = WUDF__TYPE_FIXED_BINARY;
    wudf__fb_add_scalar(b, 0, 4, (uint64_t)f->byte_width);
  } else if (c == 't') {
    switch (format[1]) {
      case 'd':
        *tag = WUDF__TYPE_DATE;
        wudf__fb_add_scalar(b, 0, 2, format[2] == 'D' ? 0 : 1);
        break;
      case 't':
        *tag = WUDF__TYPE_TIME;
        wudf__fb_add_scalar(b, 0, 2, (uint64_t)wudf__unit_index(format[2]));
        wudf__fb_add_scalar(b, 1, 4, (uint64_t)(f->byte_width * 8));
        break;
      case 's':
        *tag = WUDF__TYPE_TIMESTAMP;
        wudf__fb_add_scalar(b, 0, 2, (uint64_t)wudf__unit_index(format[2]));
        if (has_timezone) wudf__fb_add_ref(b, 1, timezone);
        break;
      case 'D':
        *tag = WUDF__TYPE_DURATION;
        wudf__fb_add_scalar(b, 0, 2, (uint64_t)wudf__unit_index(format[2]));
        break;
      case 'i':
        *tag = WUDF__TYPE_INTERVAL;
        wudf__fb_add_scalar(b, 0, 2, format[2] == 'M' ? 0 : format[2] == 'D' ? 1 : 2);
        break;
      default: return EINVAL;
    }
  } else {
    switch (f->layout) {
      case WUDF__LAYOUT_LIST: *tag = WUDF__TYPE_LIST; break;
      case WUDF__LAYOUT_LARGE_LIST: *tag = WUDF__TYPE_LARGE_LIST; break;
      case WUDF__LAYOUT_LIST_VIEW: *tag = WUDF__TYPE_LIST_VIEW; break;
      case WUDF__LAYOUT_LARGE_LIST_VIEW: *tag = WUDF__TYPE_LARGE_LIST_VIEW; break;
      case WUDF__LAYOUT_STRUCT: *tag = WUDF__TYPE_STRUCT; break;
      case WUDF__LAYOUT_RUN_END: *tag = WUDF__TYPE_RUN_END; break;
      case WUDF__LAYOUT_FIXED_LIST:
        *tag = WUDF__TYPE_FIXED_LIST;
        wudf__fb_add_scalar(b, 0, 4, (uint64_t)f->list_size);
        break;
      case WUDF__LAYOUT_MAP:
        *tag = WUDF__TYPE_MAP;
        wudf__fb_add_scalar(b, 0, 1, (schema->flags & ARROW_FLAG_MAP_KEYS_SORTED) != 0);
        break;
      case WUDF__LAYOUT_SPARSE_UNION:
      case WUDF__LAYOUT_DENSE_UNION:
        *tag = WUDF__TYPE_UNION;
        wudf__fb_add_scalar(b, 0, 2, f->layout == WUDF__LAYOUT_DENSE_UNION);
        wudf__fb_add_ref(b, 1, ids);
        break;
      default: return EINVAL;
    }
  }
  *out = wudf__fb_table_end(b);
  return 0;
}

/* Writes the Field table of `schema`; `next_id` numbers dictionaries in
 * depth-first order (recorded in the writer when `w` is not NULL). */
static int wudf__write_field(struct wudf_ipc_writer* w, struct wudf__fb_builder* b,
                             const struct ArrowSchema* schema, int64_t* next_id, int depth,
                             wudf__fb_ref* out, struct wudf_error* error) {
  const struct ArrowSchema* value = schema->dictionary ? schema->dictionary : schema;
  struct wudf__format f, index;
  if (depth > 64) return wudf__set_error(error, EINVAL, "the schema nests deeper than 64 levels");
  if (wudf__format_parse(value->format, &f) != 0) {
    return wudf__set_error(error, EINVAL, "field '%s': unknown format '%s'",
                           schema->name ? schema->name : "", value->format);
  }
  int64_t id = -1;
  if (schema->dictionary) {
    if (wudf__format_parse(schema->format, &index) != 0 || index.integer == 0) {
      return wudf__set_error(error, EINVAL, "field '%s': dictionary index format '%s'",
                             schema->name ? schema->name : "", schema->format);
    }
    id = (*next_id)++;
    if (w) {
      void* grown = wudf__realloc(w->dictionaries,
                                  (w->dictionary_count + 1) * sizeof *w->dictionaries);
      if (grown == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
      w->dictionaries = grown;
      struct wudf__ipc_dictionary_state* d = &w->dictionaries[w->dictionary_count++];
      memset(d, 0, sizeof *d);
      d->id = id;
      d->value_schema = schema->dictionary;
    }
  }
  wudf__fb_ref* children = NULL;
  if (value->n_children > 0) {
    children = wudf__malloc((size_t)value->n_children * sizeof *children);
    if (children == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
    for (int64_t i = 0; i < value->n_children; i++) {
      int status = wudf__write_field(w, b, value->children[i], next_id, depth + 1, &children[i],
                                     error);
      if (status != 0) {
        wudf__free(children);
        return status;
      }
    }
  }
  wudf__fb_ref children_vector =
      wudf__fb_create_ref_vector(b, children, children ? (size_t)value->n_children : 0);
  wudf__free(children);
  int has_metadata;
  wudf__fb_ref metadata = wudf__write_metadata(b, schema->metadata, &has_metadata);
  wudf__fb_ref name = wudf__fb_create_string(b, schema->name ? schema->name : "",
                                             schema->name ? strlen(schema->name) : 0);
  uint8_t tag = 0;
  wudf__fb_ref type;
  if (wudf__write_type(b, value, value->format, &f, &tag, &type) != 0) {
    return wudf__set_error(error, EINVAL, "field '%s': format '%s' has no IPC type",
                           schema->name ? schema->name : "", value->format);
  }
  wudf__fb_ref encoding = 0;
  if (id >= 0) {
    wudf__fb_table_start(b);
    wudf__fb_add_scalar(b, 0, 4, (uint64_t)(index.byte_width * 8));
    wudf__fb_add_scalar(b, 1, 1, index.integer == 1);
    wudf__fb_ref index_type = wudf__fb_table_end(b);
    wudf__fb_table_start(b);
    wudf__fb_add_scalar(b, WUDF__ENCODING_ID, 8, (uint64_t)id);
    wudf__fb_add_ref(b, WUDF__ENCODING_INDEX_TYPE, index_type);
    wudf__fb_add_scalar(b, WUDF__ENCODING_ORDERED, 1,
                        (schema->flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0);
    encoding = wudf__fb_table_end(b);
  }
  wudf__fb_table_start(b);
  wudf__fb_add_ref(b, WUDF__FIELD_NAME, name);
  wudf__fb_add_scalar(b, WUDF__FIELD_NULLABLE, 1, (schema->flags & ARROW_FLAG_NULLABLE) != 0);
  wudf__fb_add_scalar(b, WUDF__FIELD_TYPE_TYPE, 1, tag);
  wudf__fb_add_ref(b, WUDF__FIELD_TYPE, type);
  if (id >= 0) wudf__fb_add_ref(b, WUDF__FIELD_DICTIONARY, encoding);
  wudf__fb_add_ref(b, WUDF__FIELD_CHILDREN, children_vector);
  if (has_metadata) wudf__fb_add_ref(b, WUDF__FIELD_METADATA, metadata);
  *out = wudf__fb_table_end(b);
  return 0;
}

/* Writes the Schema table of the writer's schema. */
static int wudf__write_schema_table(struct wudf_ipc_writer* w, struct wudf__fb_builder* b,
                                    int record, wudf__fb_ref* out, struct wudf_error* error) {
  const struct ArrowSchema* root = &w->schema;
  int64_t next_id = 0;
  wudf__fb_ref* fields = wudf__malloc((size_t)(root->n_children + 1) * sizeof *fields);
  if (fields == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  for (int64_t i = 0; i < root->n_children; i++) {
    int status = wudf__write_field(record ? w : NULL, b, root->children[i], &next_id, 1,
                                   &fields[i], error);
    if (status != 0) {
      wudf__free(fields);
      return status;
    }
  }
  wudf__fb_ref vector = wudf__fb_create_ref_vector(b, fields, (size_t)root->n_children);
  wudf__free(fields);
  int has_metadata;
  wudf__fb_ref metadata = wudf__write_metadata(b, root->metadata, &has_metadata);
  wudf__fb_table_start(b);
  wudf__fb_add_scalar(b, WUDF__SCHEMA_ENDIANNESS, 2, 0);
  wudf__fb_add_ref(b, WUDF__SCHEMA_FIELDS, vector);
  if (has_metadata) wudf__fb_add_ref(b, WUDF__SCHEMA_METADATA_SLOT, metadata);
  *out = wudf__fb_table_end(b);
  return 0;
}

/* ------------------------------------------------------------ bodies */

struct wudf__body_piece {
  const uint8_t* data;
  int64_t size;     /* bytes written (before padding) */
  uint8_t* owned;   /* a compressed copy to free, or NULL */
  int64_t prefix;   /* compressed: the uncompressed length (or -1) */
  int has_prefix;
};

struct wudf__body {
  struct { int64_t length, null_count; } *nodes;
  size_t node_count, node_capacity;
  struct wudf__body_piece* pieces;
  size_t piece_count, piece_capacity;
  int64_t* variadic;
  size_t variadic_count, variadic_capacity;
  int has_views;
  int64_t size; /* body bytes, padded */
  int codec;    /* -1: none */
  int level;
};

static void wudf__body_free(struct wudf__body* body) {
  for (size_t i = 0; i < body->piece_count; i++) wudf__free(body->pieces[i].owned);
  wudf__free(body->nodes);
  wudf__free(body->pieces);
  wudf__free(body->variadic);
  memset(body, 0, sizeof *body);
}

#define WUDF__GROW(array, count, capacity)                                         \
  do {                                                                             \
    if ((count) == (capacity)) {                                                   \
      size_t grown_capacity = (capacity) ? 2 * (capacity) : 16;                    \
      void* grown = wudf__realloc((array), grown_capacity * sizeof *(array));      \
      if (grown == NULL) return ENOMEM;                                            \
      (array) = grown;                                                             \
      (capacity) = grown_capacity;                                                 \
    }                                                                              \
  } while (0)

static int wudf__body_node(struct wudf__body* body, int64_t length, int64_t null_count) {
  WUDF__GROW(body->nodes, body->node_count, body->node_capacity);
  body->nodes[body->node_count].length = length;
  body->nodes[body->node_count].null_count = null_count;
  body->node_count++;
  return 0;
}

static int wudf__body_buffer(struct wudf__body* body, const uint8_t* data, int64_t size) {
  WUDF__GROW(body->pieces, body->piece_count, body->piece_capacity);
  struct wudf__body_piece* piece = &body->pieces[body->piece_count++];
  memset(piece, 0, sizeof *piece);
  piece->data = data;
  piece->size = data ? size : 0;
  if (body->codec >= 0 && piece->size > 0) {
    uint8_t* compressed;
    size_t compressed_size;
    int status = wudf__ipc_compress(body->codec, body->level, data, (size_t)size, &compressed,
                                    &compressed_size);
    if (status != 0) return status;
    piece->has_prefix = 1;
    if ((int64_t)compressed_size < size) {
      piece->owned = compressed;
      piece->data = compressed;
      piece->prefix = size;
      piece->size = (int64_t)compressed_size;
    } else {
      wudf__free(compressed);
      piece->prefix = -1;
    }
  }
  body->size += ((piece->size + (piece->has_prefix ? 8 : 0)) + 7) & ~(int64_t)7;
  return 0;
}

/* Adds the nodes and buffers of `plan` (of `schema`) depth-first; the
 * dictionaries met are listed in `dictionaries` (plans, in id order). */
static int wudf__body_plan(struct wudf__body* body, const struct wudf__plan* plan,
                           const struct ArrowSchema* schema, const struct wudf__plan** dictionaries,
                           int64_t* next_id, int64_t dictionary_limit) {
  struct wudf__format f;
  if (wudf__format_parse(schema->format, &f) != 0) return EINVAL;
  if (schema->dictionary) {
    int64_t id = (*next_id)++;
    if (id < dictionary_limit && dictionaries) {
      dictionaries[id] = plan->dictionary;
      /* A dictionary no row uses (an empty batch) is not re-sent. */
      if (plan->length == 0) dictionaries[id] = NULL;
    }
    /* The dictionary's own nested dictionaries are numbered after it. */
    int64_t skip = 0;
    struct wudf_ipc_writer counter;
    (void)counter;
    /* Count dictionary fields below the value type to keep numbering. */
    const struct ArrowSchema* stack[128];
    int top = 0;
    for (int64_t i = 0; i < schema->dictionary->n_children && top < 128; i++) {
      stack[top++] = schema->dictionary->children[i];
    }
    while (top > 0) {
      const struct ArrowSchema* node = stack[--top];
      const struct ArrowSchema* value = node->dictionary ? node->dictionary : node;
      if (node->dictionary) skip++;
      for (int64_t i = 0; i < value->n_children && top < 128; i++) stack[top++] = value->children[i];
    }
    *next_id += skip;
  }
  int status = wudf__body_node(body, plan->length,
                               f.layout == WUDF__LAYOUT_NULL ? plan->length : plan->null_count);
  if (status != 0) return status;
  switch (f.layout) {
    case WUDF__LAYOUT_NULL:
    case WUDF__LAYOUT_RUN_END:
      break;
    case WUDF__LAYOUT_VIEW: {
      int32_t data_buffers = plan->n_buffers - 3;
      for (int32_t i = 0; i < plan->n_buffers - 1; i++) {
        status = wudf__body_buffer(body, plan->buffers[i].data, plan->buffers[i].size);
        if (status != 0) return status;
      }
      WUDF__GROW(body->variadic, body->variadic_count, body->variadic_capacity);
      body->variadic[body->variadic_count++] = data_buffers;
      body->has_views = 1;
      break;
    }
    default:
      for (int32_t i = 0; i < plan->n_buffers; i++) {
        status = wudf__body_buffer(body, plan->buffers[i].data, plan->buffers[i].size);
        if (status != 0) return status;
      }
  }
  for (int32_t i = 0; i < plan->n_children; i++) {
    status = wudf__body_plan(body, plan->children[i], schema->children[i], dictionaries, next_id,
                             dictionary_limit);
    if (status != 0) return status;
  }
  return 0;
}

/* The RecordBatch table of `body` for `length` rows. */
static wudf__fb_ref wudf__write_batch_table(struct wudf__fb_builder* b,
                                            const struct wudf__body* body, int64_t length) {
  int64_t* nodes = wudf__malloc((body->node_count + 1) * 16);
  int64_t* buffers = wudf__malloc((body->piece_count + 1) * 16);
  if (nodes == NULL || buffers == NULL) {
    wudf__free(nodes);
    wudf__free(buffers);
    b->failed = 1;
    return 0;
  }
  for (size_t i = 0; i < body->node_count; i++) {
    nodes[2 * i] = body->nodes[i].length;
    nodes[2 * i + 1] = body->nodes[i].null_count;
  }
  int64_t at = 0;
  for (size_t i = 0; i < body->piece_count; i++) {
    int64_t size = body->pieces[i].size + (body->pieces[i].has_prefix ? 8 : 0);
    buffers[2 * i] = at;
    buffers[2 * i + 1] = size;
    at += (size + 7) & ~(int64_t)7;
  }
  wudf__fb_ref variadic = 0;
  if (body->has_views) {
    variadic = wudf__fb_create_vector(b, body->variadic, body->variadic_count, 8, 8);
  }
  wudf__fb_ref compression = 0;
  if (body->codec >= 0) {
    wudf__fb_table_start(b);
    wudf__fb_add_scalar(b, WUDF__COMPRESSION_CODEC, 1, (uint64_t)body->codec);
    wudf__fb_add_scalar(b, WUDF__COMPRESSION_METHOD, 1, 0);
    compression = wudf__fb_table_end(b);
  }
  wudf__fb_ref node_vector = wudf__fb_create_vector(b, nodes, body->node_count, 16, 8);
  wudf__fb_ref buffer_vector = wudf__fb_create_vector(b, buffers, body->piece_count, 16, 8);
  wudf__free(nodes);
  wudf__free(buffers);
  wudf__fb_table_start(b);
  wudf__fb_add_scalar(b, WUDF__BATCH_LENGTH, 8, (uint64_t)length);
  wudf__fb_add_ref(b, WUDF__BATCH_NODES, node_vector);
  wudf__fb_add_ref(b, WUDF__BATCH_BUFFERS, buffer_vector);
  if (body->codec >= 0) wudf__fb_add_ref(b, WUDF__BATCH_COMPRESSION, compression);
  if (body->has_views) wudf__fb_add_ref(b, WUDF__BATCH_VARIADIC_COUNTS, variadic);
  return wudf__fb_table_end(b);
}

/* Finishes a Message around `header` and the body size; `*metadata` and
 * `*metadata_size` are the FlatBuffer inside `b`. */
static int wudf__finish_message(struct wudf__fb_builder* b, uint8_t header_type,
                                wudf__fb_ref header, int64_t body_size, const uint8_t** metadata,
                                size_t* metadata_size) {
  wudf__fb_table_start(b);
  wudf__fb_add_scalar(b, WUDF__MESSAGE_VERSION, 2, WUDF__VERSION_V5);
  wudf__fb_add_scalar(b, WUDF__MESSAGE_HEADER_TYPE, 1, header_type);
  wudf__fb_add_ref(b, WUDF__MESSAGE_HEADER, header);
  wudf__fb_add_scalar(b, WUDF__MESSAGE_BODY_LENGTH, 8, (uint64_t)body_size);
  wudf__fb_ref message = wudf__fb_table_end(b);
  return wudf__fb_finish(b, message, metadata, metadata_size);
}

/* A message in memory: prefix + metadata + body, or written out. */
static int wudf__emit_message(struct wudf_ipc_writer* w, const uint8_t* metadata,
                              size_t metadata_size, const struct wudf__body* body,
                              int block_kind, uint8_t** image, size_t* image_size,
                              struct wudf_error* error) {
  uint8_t prefix[8] = {0xFF, 0xFF, 0xFF, 0xFF};
  uint32_t length = (uint32_t)metadata_size;
  memcpy(prefix + 4, &length, 4);
  int64_t body_size = body ? body->size : 0;
  if (image) { /* into memory, for comparisons */
    size_t total = 8 + metadata_size + (size_t)body_size;
    uint8_t* bytes = wudf__malloc(total);
    if (bytes == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
    memcpy(bytes, prefix, 8);
    memcpy(bytes + 8, metadata, metadata_size);
    size_t at = 8 + metadata_size;
    for (size_t i = 0; body && i < body->piece_count; i++) {
      const struct wudf__body_piece* piece = &body->pieces[i];
      if (piece->has_prefix) {
        memcpy(bytes + at, &piece->prefix, 8);
        at += 8;
      }
      if (piece->size) memcpy(bytes + at, piece->data, (size_t)piece->size);
      at += (size_t)piece->size;
      size_t pad = (8 - at % 8) % 8;
      memset(bytes + at, 0, pad);
      at += pad;
    }
    *image = bytes;
    *image_size = total;
    return 0;
  }
  uint64_t start = w->position;
  int status = wudf__write_all(w, prefix, 8, error);
  if (status == 0) status = wudf__write_all(w, metadata, metadata_size, error);
  for (size_t i = 0; status == 0 && body && i < body->piece_count; i++) {
    const struct wudf__body_piece* piece = &body->pieces[i];
    if (piece->has_prefix) status = wudf__write_all(w, &piece->prefix, 8, error);
    if (status == 0 && piece->size) {
      status = wudf__write_all(w, piece->data, (size_t)piece->size, error);
    }
    size_t pad = (size_t)((8 - (piece->size + (piece->has_prefix ? 8 : 0)) % 8) % 8);
    if (status == 0 && pad) status = wudf__write_all(w, wudf__zeros, pad, error);
  }
  if (status != 0 || block_kind < 0) return status;
  WUDF__GROW(w->blocks[block_kind], w->block_count[block_kind], w->block_capacity[block_kind]);
  struct wudf__ipc_block* block = &w->blocks[block_kind][w->block_count[block_kind]++];
  block->offset = (int64_t)start;
  block->metadata_size = (int32_t)(8 + metadata_size);
  block->body_size = body_size;
  return 0;
}

/* Encodes the rows [start, start + count) of dictionary `plan` as a
 * DictionaryBatch message with `id` and `delta`: written, or into
 * `*image` when `image` is not NULL. */
static int wudf__dictionary_message(struct wudf_ipc_writer* w,
                                    const struct wudf__ipc_dictionary_state* d,
                                    const struct wudf__plan* plan, int64_t start, int64_t count,
                                    int delta, uint8_t** image, size_t* image_size,
                                    struct wudf_error* error) {
  /* Export the plan's rows as a host array, then plan that again (the
   * segment machinery slices): simple and exact. */
  struct ArrowArray array;
  struct ArrowSchema schema;
  int status = wudf__plan_export(plan, NULL, &array, &schema, error);
  if (status != 0) return status;
  struct wudf__segment segment = {&array, start, count};
  struct wudf__gather* gather = NULL;
  status = wudf__gather_new(d->value_schema, &segment, 1, &gather, error);
  struct wudf__body body;
  memset(&body, 0, sizeof body);
  body.codec = w->options.compression == WUDF_IPC_UNCOMPRESSED ? -1
               : w->options.compression == WUDF_IPC_LZ4_FRAME ? WUDF__CODEC_LZ4_FRAME
                                                              : WUDF__CODEC_ZSTD;
  body.level = w->options.compression_level;
  int64_t next_id = d->id + 1; /* nested dictionaries are not re-sent here */
  if (status == 0) {
    status = wudf__body_plan(&body, wudf__gather_plan(gather), d->value_schema, NULL, &next_id, 0);
    if (status != 0) status = wudf__set_error(error, status, "%s: encoding dictionary %lld",
                                              w->name, (long long)d->id);
  }
  if (status == 0) {
    struct wudf__fb_builder b;
    wudf__fb_builder_init(&b);
    wudf__fb_ref data = wudf__write_batch_table(&b, &body, count);
    wudf__fb_table_start(&b);
    wudf__fb_add_scalar(&b, WUDF__DICTIONARY_ID, 8, (uint64_t)d->id);
    wudf__fb_add_ref(&b, WUDF__DICTIONARY_DATA, data);
    wudf__fb_add_scalar(&b, WUDF__DICTIONARY_DELTA, 1, delta != 0);
    wudf__fb_ref header = wudf__fb_table_end(&b);
    const uint8_t* metadata;
    size_t metadata_size;
    if (wudf__finish_message(&b, WUDF__HEADER_DICTIONARY_BATCH, header, body.size, &metadata,
                             &metadata_size) != 0) {
      status = wudf__set_error(error, ENOMEM, "%s: out of memory for a dictionary message",
                               w->name);
    } else {
      status = wudf__emit_message(w, metadata, metadata_size, &body, 0, image, image_size,
                                  error);
    }
    wudf__fb_builder_free(&b);
  }
  wudf__body_free(&body);
  wudf__gather_free(gather);
  array.release(&array);
  schema.release(&schema);
  return status;
}

/* Lists the dictionaries of `plan` (of `schema`) and below, numbered as
 * wudf__write_field numbers them, into `out` (indexed by id). */
static void wudf__collect_dictionaries(const struct wudf__plan* plan,
                                       const struct ArrowSchema* schema,
                                       const struct wudf__plan** out, int64_t* next_id,
                                       int64_t limit) {
  const struct wudf__plan* values = plan;
  const struct ArrowSchema* value_schema = schema;
  if (schema->dictionary) {
    int64_t id = (*next_id)++;
    if (id < limit) out[id] = plan->dictionary;
    values = plan->dictionary;
    value_schema = schema->dictionary;
  }
  for (int64_t i = 0; values && i < value_schema->n_children && i < values->n_children; i++) {
    wudf__collect_dictionaries(values->children[i], value_schema->children[i], out, next_id,
                               limit);
  }
}

static int wudf__send_dictionary(struct wudf_ipc_writer* w, struct wudf__ipc_dictionary_state* d,
                                 const struct wudf__plan* plan, struct wudf_error* error);

/* Sends the dictionaries nested in the values of dictionary `d` (they
 * must precede it: reading it resolves their indices). */
static int wudf__send_nested(struct wudf_ipc_writer* w, struct wudf__ipc_dictionary_state* d,
                             const struct wudf__plan* plan, struct wudf_error* error) {
  int64_t limit = (int64_t)w->dictionary_count, next_id = d->id + 1;
  const struct wudf__plan** nested = wudf__calloc((size_t)limit + 1, sizeof *nested);
  if (nested == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  for (int64_t i = 0; i < d->value_schema->n_children && i < plan->n_children; i++) {
    wudf__collect_dictionaries(plan->children[i], d->value_schema->children[i], nested, &next_id,
                               limit);
  }
  int status = 0;
  for (int64_t id = d->id + 1; status == 0 && id < next_id && id < limit; id++) {
    if (nested[id]) status = wudf__send_dictionary(w, &w->dictionaries[id], nested[id], error);
  }
  wudf__free(nested);
  return status;
}

/* Writes dictionary `d` for `plan` as needed (unchanged: nothing), after
 * the dictionaries nested in it. */
static int wudf__send_dictionary(struct wudf_ipc_writer* w, struct wudf__ipc_dictionary_state* d,
                                 const struct wudf__plan* plan, struct wudf_error* error) {
  uint8_t* image;
  size_t image_size;
  int status = wudf__send_nested(w, d, plan, error);
  if (status != 0) return status;
  status = wudf__dictionary_message(w, d, plan, 0, plan->length, 0, &image, &image_size,
                                        error);
  if (status != 0) return status;
  if (d->written && image_size == d->image_size && memcmp(image, d->image, image_size) == 0) {
    wudf__free(image);
    return 0;
  }
  if (d->written && plan->length > d->length) {
    uint8_t* prefix;
    size_t prefix_size;
    status = wudf__dictionary_message(w, d, plan, 0, d->length, 0, &prefix, &prefix_size, error);
    if (status != 0) {
      wudf__free(image);
      return status;
    }
    int extends = prefix_size == d->image_size && memcmp(prefix, d->image, prefix_size) == 0;
    wudf__free(prefix);
    if (extends) {
      status = wudf__dictionary_message(w, d, plan, d->length, plan->length - d->length, 1, NULL,
                                        NULL, error);
      if (status != 0) {
        wudf__free(image);
        return status;
      }
      wudf__free(d->image);
      d->image = image;
      d->image_size = image_size;
      d->length = plan->length;
      return 0;
    }
  }
  if (d->written && w->options.format == WUDF_IPC_FILE) {
    wudf__free(image);
    return wudf__set_error(error, EINVAL,
                           "%s: dictionary %lld changes between batches, which the file format "
                           "does not allow (only deltas); use the stream format",
                           w->name, (long long)d->id);
  }
  uint8_t* written_image = NULL;
  (void)written_image;
  status = wudf__dictionary_message(w, d, plan, 0, plan->length, 0, NULL, NULL, error);
  if (status != 0) {
    wudf__free(image);
    return status;
  }
  wudf__free(d->image);
  d->image = image;
  d->image_size = image_size;
  d->length = plan->length;
  d->written = 1;
  return 0;
}

/* Writes an empty dictionary for `d` (a batch that uses none of it, before
 * any was written). */
static int wudf__send_empty_dictionary(struct wudf_ipc_writer* w,
                                       struct wudf__ipc_dictionary_state* d,
                                       struct wudf_error* error) {
  struct wudf__segment nothing = {NULL, 0, 0};
  struct wudf__gather* gather = NULL;
  int status = wudf__gather_new(d->value_schema, &nothing, 0, &gather, error);
  if (status == 0) status = wudf__send_dictionary(w, d, wudf__gather_plan(gather), error);
  wudf__gather_free(gather);
  return status;
}

/* ------------------------------------------------------------ the API */

void wudf_ipc_write_options_init(struct wudf_ipc_write_options* options) {
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof(*options);
}

static const struct wudf__field wudf__ipc_write_fields[] = {
    WUDF__FIELD(struct wudf_ipc_write_options, format),
    WUDF__FIELD(struct wudf_ipc_write_options, compression),
    WUDF__FIELD(struct wudf_ipc_write_options, compression_level)};

static void wudf__writer_free(struct wudf_ipc_writer* w) {
  if (w == NULL) return;
  for (size_t i = 0; i < w->dictionary_count; i++) wudf__free(w->dictionaries[i].image);
  wudf__free(w->dictionaries);
  wudf__free(w->blocks[0]);
  wudf__free(w->blocks[1]);
  if (w->schema.release) w->schema.release(&w->schema);
  if (w->close_fd && w->fd >= 0) close(w->fd);
  wudf__free(w);
}

void wudf_ipc_writer_abort(struct wudf_ipc_writer* writer) { wudf__writer_free(writer); }

static int wudf__writer_open(int fd, int close_fd, const char* name,
                             const struct ArrowSchema* schema,
                             const struct wudf_ipc_write_options* options,
                             struct wudf_ipc_writer** out, struct wudf_error* error) {
  struct wudf_ipc_writer* w = wudf__calloc(1, sizeof *w);
  if (w == NULL) {
    if (close_fd) close(fd);
    return wudf__set_error(error, ENOMEM, "%s: out of memory", name);
  }
  w->fd = fd;
  w->close_fd = close_fd;
  snprintf(w->name, sizeof w->name, "%s", name);
  wudf_ipc_write_options_init(&w->options);
  int status = 0;
  if (options) {
    status = wudf__versioned_read(&w->options, options, sizeof(w->options),
                                  wudf__ipc_write_fields,
                                  sizeof(wudf__ipc_write_fields) / sizeof(wudf__ipc_write_fields[0]),
                                  "struct wudf_ipc_write_options", error);
  }
  if (status != 0) {
    /* A struct_size the library cannot read: the message is set. */
  } else if (w->options.compression < WUDF_IPC_UNCOMPRESSED ||
             w->options.compression > WUDF_IPC_ZSTD ||
             (w->options.format != WUDF_IPC_STREAM && w->options.format != WUDF_IPC_FILE)) {
    status = wudf__set_error(error, EINVAL, "%s: unknown format or compression", name);
  } else if (schema == NULL || schema->release == NULL || schema->format == NULL ||
             strcmp(schema->format, "+s") != 0) {
    status = wudf__set_error(error, EINVAL,
                             "%s: the schema of record batches must be a struct (\"+s\")", name);
  } else {
    status = wudf__schema_export(schema, NULL, &w->schema, error);
  }
  if (status == 0 && w->options.format == WUDF_IPC_FILE) {
    static const uint8_t magic[8] = {'A', 'R', 'R', 'O', 'W', '1', 0, 0};
    status = wudf__write_all(w, magic, 8, error);
  }
  if (status == 0) {
    struct wudf__fb_builder b;
    wudf__fb_builder_init(&b);
    wudf__fb_ref table;
    status = wudf__write_schema_table(w, &b, 1, &table, error);
    const uint8_t* metadata;
    size_t metadata_size;
    if (status == 0 && wudf__finish_message(&b, WUDF__HEADER_SCHEMA, table, 0, &metadata,
                                            &metadata_size) != 0) {
      status = wudf__set_error(error, ENOMEM, "%s: out of memory for the schema", name);
    }
    if (status == 0) status = wudf__emit_message(w, metadata, metadata_size, NULL, -1, NULL, NULL,
                                                 error);
    wudf__fb_builder_free(&b);
  }
  if (status != 0) {
    wudf__writer_free(w);
    return status;
  }
  *out = w;
  return 0;
}

int wudf_ipc_writer_open_fd(int fd, const struct ArrowSchema* schema,
                            const struct wudf_ipc_write_options* options,
                            struct wudf_ipc_writer** out, struct wudf_error* error) {
  if (fd < 0 || out == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_ipc_writer_open_fd: invalid arguments");
  }
  char name[32];
  snprintf(name, sizeof name, "fd %d", fd);
  return wudf__writer_open(fd, 0, name, schema, options, out, error);
}

int wudf_ipc_writer_open_path(const char* path, const struct ArrowSchema* schema,
                              const struct wudf_ipc_write_options* options,
                              struct wudf_ipc_writer** out, struct wudf_error* error) {
  if (path == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_ipc_writer_open_path: invalid arguments");
  }
  if (strcmp(path, "-") == 0) return wudf__writer_open(1, 0, "<stdout>", schema, options, out, error);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return wudf__set_error(error, errno, "%s: %s", path, strerror(errno));
  return wudf__writer_open(fd, 1, path, schema, options, out, error);
}

int wudf_ipc_writer_write(struct wudf_ipc_writer* w, const struct ArrowArray* batch,
                          struct wudf_error* error) {
  if (w == NULL || batch == NULL || batch->release == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_ipc_writer_write: invalid arguments");
  }
  if (batch->n_children != w->schema.n_children || batch->null_count > 0) {
    return wudf__set_error(error, EINVAL,
                           "%s: the batch has %lld columns (schema: %lld) or struct-level nulls",
                           w->name, (long long)batch->n_children,
                           (long long)w->schema.n_children);
  }
  struct wudf__segment segment = {batch, 0, batch->length};
  struct wudf__gather* gather = NULL;
  int status = wudf__gather_new(&w->schema, &segment, 1, &gather, error);
  if (status != 0) return wudf__error_prefix(error, status, "%s: planning a batch", w->name);
  const struct wudf__plan* plan = wudf__gather_plan(gather);
  const struct wudf__plan** dictionaries = NULL;
  struct wudf__body body;
  memset(&body, 0, sizeof body);
  body.codec = w->options.compression == WUDF_IPC_UNCOMPRESSED ? -1
               : w->options.compression == WUDF_IPC_LZ4_FRAME ? WUDF__CODEC_LZ4_FRAME
                                                              : WUDF__CODEC_ZSTD;
  body.level = w->options.compression_level;
  if (w->dictionary_count) {
    dictionaries = wudf__calloc(w->dictionary_count, sizeof *dictionaries);
    if (dictionaries == NULL) status = wudf__set_error(error, ENOMEM, "out of memory");
  }
  int64_t next_id = 0;
  for (int32_t i = 0; status == 0 && i < plan->n_children; i++) {
    status = wudf__body_plan(&body, plan->children[i], w->schema.children[i], dictionaries,
                             &next_id, (int64_t)w->dictionary_count);
    if (status != 0) {
      status = wudf__set_error(error, status, "%s: encoding column '%s'", w->name,
                               w->schema.children[i]->name ? w->schema.children[i]->name : "");
    }
  }
  for (size_t i = 0; status == 0 && i < w->dictionary_count; i++) {
    struct wudf__ipc_dictionary_state* d = &w->dictionaries[i];
    if (dictionaries[i]) {
      status = wudf__send_dictionary(w, d, dictionaries[i], error);
    } else if (!d->written) {
      /* Every dictionary precedes the first batch, even an unused one. */
      status = wudf__send_empty_dictionary(w, d, error);
    }
  }
  if (status == 0) {
    struct wudf__fb_builder b;
    wudf__fb_builder_init(&b);
    wudf__fb_ref table = wudf__write_batch_table(&b, &body, plan->length);
    const uint8_t* metadata;
    size_t metadata_size;
    if (wudf__finish_message(&b, WUDF__HEADER_RECORD_BATCH, table, body.size, &metadata,
                             &metadata_size) != 0) {
      status = wudf__set_error(error, ENOMEM, "%s: out of memory for a batch message", w->name);
    } else {
      status = wudf__emit_message(w, metadata, metadata_size, &body, 1, NULL, NULL, error);
    }
    wudf__fb_builder_free(&b);
  }
  wudf__free(dictionaries);
  wudf__body_free(&body);
  wudf__gather_free(gather);
  return status;
}

int wudf_ipc_writer_close(struct wudf_ipc_writer* w, struct wudf_error* error) {
  if (w == NULL) return wudf__set_error(error, EINVAL, "wudf_ipc_writer_close: no writer");
  static const uint8_t end[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  int status = wudf__write_all(w, end, 8, error);
  if (status == 0 && w->options.format == WUDF_IPC_FILE) {
    struct wudf__fb_builder b;
    wudf__fb_builder_init(&b);
    wudf__fb_ref schema;
    status = wudf__write_schema_table(w, &b, 0, &schema, error);
    wudf__fb_ref vectors[2];
    for (int kind = 0; kind < 2; kind++) {
      size_t n = w->block_count[kind];
      uint8_t* packed = wudf__calloc(n + 1, WUDF__BLOCK_SIZE);
      if (packed == NULL) {
        b.failed = 1;
        continue;
      }
      for (size_t i = 0; i < n; i++) {
        memcpy(packed + 24 * i, &w->blocks[kind][i].offset, 8);
        memcpy(packed + 24 * i + 8, &w->blocks[kind][i].metadata_size, 4);
        memcpy(packed + 24 * i + 16, &w->blocks[kind][i].body_size, 8);
      }
      vectors[kind] = wudf__fb_create_vector(&b, packed, n, WUDF__BLOCK_SIZE, 8);
      wudf__free(packed);
    }
    wudf__fb_table_start(&b);
    wudf__fb_add_scalar(&b, WUDF__FOOTER_VERSION, 2, WUDF__VERSION_V5);
    wudf__fb_add_ref(&b, WUDF__FOOTER_SCHEMA, schema);
    wudf__fb_add_ref(&b, WUDF__FOOTER_DICTIONARIES, vectors[0]);
    wudf__fb_add_ref(&b, WUDF__FOOTER_BATCHES, vectors[1]);
    wudf__fb_ref footer = wudf__fb_table_end(&b);
    const uint8_t* bytes;
    size_t size;
    if (status == 0 && wudf__fb_finish(&b, footer, &bytes, &size) != 0) {
      status = wudf__set_error(error, ENOMEM, "%s: out of memory for the footer", w->name);
    }
    if (status == 0) status = wudf__write_all(w, bytes, size, error);
    if (status == 0) {
      uint8_t trailer[10];
      uint32_t n = (uint32_t)size;
      memcpy(trailer, &n, 4);
      memcpy(trailer + 4, WUDF__IPC_MAGIC, 6);
      status = wudf__write_all(w, trailer, 10, error);
    }
    wudf__fb_builder_free(&b);
  }
  if (status == 0 && w->close_fd) {
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) status = wudf__set_error(error, EIO, "%s: close failed: %s", w->name,
                                                 strerror(errno));
  }
  wudf__writer_free(w);
  return status;
}

int wudf_ipc_write_stream(struct ArrowArrayStream* stream, const char* path,
                          const struct wudf_ipc_write_options* options,
                          struct wudf_error* error) {
  if (stream == NULL || stream->release == NULL || path == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_ipc_write_stream: invalid arguments");
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
  struct wudf_ipc_writer* w = NULL;
  status = wudf_ipc_writer_open_path(path, &schema, options, &w, error);
  schema.release(&schema);
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
    status = wudf_ipc_writer_write(w, &batch, error);
    batch.release(&batch);
  }
  if (w) {
    if (status == 0) status = wudf_ipc_writer_close(w, error);
    else wudf_ipc_writer_abort(w);
  }
  stream->release(stream);
  return status;
}
