/*
 * native.c -- the native twins of bench/kernels/ (one file per kernel) (see native.h). Each
 * twin reads the argument buffers in place, allocates its result buffers
 * with malloc and returns a standard ArrowArray whose release frees them,
 * as a native engine's kernel would. Written for speed the way a C
 * programmer would write the loop, not to mirror the SDK's calls; the
 * values are the guest's exactly (the suite compares them).
 */
#include "native.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Owned arrays                                                        */
/* ------------------------------------------------------------------ */

enum { MAX_BUFFERS = 3, MAX_CHILDREN = 2 };

/* Everything one native array owns: its buffers and children. */
struct owned {
  const void* buffers[MAX_BUFFERS];
  struct ArrowArray* children[MAX_CHILDREN];
  struct ArrowArray child_arrays[MAX_CHILDREN];
};

struct owned_schema {
  struct ArrowSchema* children[MAX_CHILDREN];
  struct ArrowSchema child_schemas[MAX_CHILDREN];
};

/* Frees the buffers and children of an owned array. */
static void owned_release(struct ArrowArray* array) {
  struct owned* owned = array->private_data;
  for (int64_t i = 0; i < array->n_buffers; i++) free((void*)owned->buffers[i]);
  for (int64_t i = 0; i < array->n_children; i++) {
    if (owned->children[i]->release != NULL) owned->children[i]->release(owned->children[i]);
  }
  free(owned);
  array->release = NULL;
}

/* Frees what a result schema owns (its children's pointers). */
static void owned_schema_release(struct ArrowSchema* schema) {
  free(schema->private_data);
  schema->release = NULL;
}

/* The schema of a result node: `format` (a static string), named `name`. */
static void make_schema(struct ArrowSchema* schema, const char* format, const char* name) {
  memset(schema, 0, sizeof(*schema));
  schema->format = format;
  schema->name = name;
  schema->flags = ARROW_FLAG_NULLABLE;
  schema->private_data = calloc(1, sizeof(struct owned_schema));
  schema->release = owned_schema_release;
}

/* Makes `array` own `n_buffers` malloc'd buffers. */
static void make_array(struct ArrowArray* array, int64_t length, int64_t null_count,
                       int n_buffers, void* b0, void* b1, void* b2) {
  struct owned* owned = calloc(1, sizeof(*owned));
  if (owned == NULL) {
    fprintf(stderr, "bench_suite: out of memory\n");
    exit(1);
  }
  owned->buffers[0] = b0;
  owned->buffers[1] = b1;
  owned->buffers[2] = b2;
  memset(array, 0, sizeof(*array));
  array->length = length;
  array->null_count = null_count;
  array->n_buffers = n_buffers;
  array->buffers = owned->buffers;
  array->children = owned->children;
  array->release = owned_release;
  array->private_data = owned;
}

/* malloc that ends the program when memory is out. */
static void* xmalloc(size_t size) {
  void* p = malloc(size > 0 ? size : 1);
  if (p == NULL) {
    fprintf(stderr, "bench_suite: out of memory\n");
    exit(1);
  }
  return p;
}

/* The zero bits among the first `length` of a validity bitmap (0 for none). */
static int64_t count_nulls(const uint8_t* validity, int64_t length) {
  if (validity == NULL) return 0;
  int64_t valid = 0;
  for (int64_t i = 0; i < length / 8; i++) valid += __builtin_popcount(validity[i]);
  for (int64_t i = length / 8 * 8; i < length; i++) valid += (validity[i / 8] >> (i % 8)) & 1;
  return length - valid;
}

/* Argument `i` of the batch. */
static const struct ArrowArray* arg(const struct ArrowArray* batch, int i) {
  return batch->children[i];
}

/* Hands a fixed-width or string result to the sink: `validity` (dropped when
 * no row is null), `values` and, for strings, `data`, all malloc'd and then
 * owned by the array. */
static void emit(native_sink sink, void* context, const char* format, int64_t length,
                 uint8_t* validity, void* values, void* data) {
  struct ArrowArray array;
  struct ArrowSchema schema;
  int64_t nulls = count_nulls(validity, length);
  if (nulls == 0) {
    free(validity);
    validity = NULL;
  }
  make_array(&array, length, nulls, data != NULL ? 3 : 2, validity, values, data);
  make_schema(&schema, format, "");
  sink(context, &array, &schema);
  schema.release(&schema);
}

/* ------------------------------------------------------------------ */
/* The twins                                                           */
/* ------------------------------------------------------------------ */

/* Twin of bench/kernels/gcd.c. */
static void native_gcd(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const int32_t* a = arg(batch, 0)->buffers[1];
  const int32_t* b = arg(batch, 1)->buffers[1];
  int32_t* result = xmalloc((size_t)n * 4);
  for (int64_t row = 0; row < n; row++) {
    int64_t x = a[row], y = b[row];
    while (y != 0) {
      int64_t t = x % y;
      x = y;
      y = t;
    }
    result[row] = (int32_t)(x < 0 ? -x : x);
  }
  emit(sink, context, "i", n, NULL, result, NULL);
}

/* Twin of bench/kernels/poly.c. */
static void native_poly(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const double* x = arg(batch, 0)->buffers[1];
  double* result = xmalloc((size_t)n * 8);
  for (int64_t row = 0; row < n; row++) {
    double v = x[row];
    double p = 1.0 / 8;
    p = p * v - 1.0 / 7;
    p = p * v + 1.0 / 6;
    p = p * v - 1.0 / 5;
    p = p * v + 1.0 / 4;
    p = p * v - 1.0 / 3;
    p = p * v + 1.0 / 2;
    p = p * v + 1.0;
    result[row] = p;
  }
  emit(sink, context, "g", n, NULL, result, NULL);
}

/* The AND (`and`) or OR of two validity bitmaps of n rows; NULL when every
 * row is valid. */
static uint8_t* combine_validity(const uint8_t* a, const uint8_t* b, int64_t n, bool and) {
  size_t bytes = (size_t)(n + 7) / 8;
  if (and ? (a == NULL && b == NULL) : (a == NULL || b == NULL)) return NULL;
  uint8_t* out = xmalloc(bytes);
  if (a == NULL || b == NULL) {
    memcpy(out, a != NULL ? a : b, bytes);
  } else if (and) {
    for (size_t i = 0; i < bytes; i++) out[i] = a[i] & b[i];
  } else {
    for (size_t i = 0; i < bytes; i++) out[i] = a[i] | b[i];
  }
  return out;
}

/* Twin of bench/kernels/nulladd.c. */
static void native_nulladd(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const uint64_t* x = arg(batch, 0)->buffers[1];
  const uint64_t* y = arg(batch, 1)->buffers[1];
  int64_t* result = xmalloc((size_t)n * 8);
  for (int64_t row = 0; row < n; row++) result[row] = (int64_t)(x[row] + y[row]);
  uint8_t* validity = combine_validity(arg(batch, 0)->buffers[0], arg(batch, 1)->buffers[0],
                                       n, true);
  emit(sink, context, "l", n, validity, result, NULL);
}

/* Twin of bench/kernels/upper.c. */
static void native_upper(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const int32_t* offsets = arg(batch, 0)->buffers[1];
  const char* data = arg(batch, 0)->buffers[2];
  int32_t* out_offsets = xmalloc((size_t)(n + 1) * 4);
  char* out_data = xmalloc((size_t)(offsets[n] - offsets[0]));
  for (int64_t row = 0; row <= n; row++) out_offsets[row] = offsets[row] - offsets[0];
  int64_t size = offsets[n] - offsets[0];
  const char* in = data + offsets[0];
  for (int64_t i = 0; i < size; i++) {
    char c = in[i];
    out_data[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  emit(sink, context, "u", n, NULL, out_offsets, out_data);
}

/* Whether `row` is valid in a bitmap (NULL: every row is). */
static bool valid(const uint8_t* validity, int64_t row) {
  return validity == NULL || ((validity[row >> 3] >> (row & 7)) & 1);
}

/* Twin of bench/kernels/concat.c. */
static void native_concat(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const uint8_t* va = arg(batch, 0)->buffers[0];
  const uint8_t* vb = arg(batch, 1)->buffers[0];
  const int32_t* oa = arg(batch, 0)->buffers[1];
  const int32_t* ob = arg(batch, 1)->buffers[1];
  const char* da = arg(batch, 0)->buffers[2];
  const char* db = arg(batch, 1)->buffers[2];
  int32_t* offsets = xmalloc((size_t)(n + 1) * 4);
  int32_t total = 0;
  offsets[0] = 0;
  for (int64_t row = 0; row < n; row++) {
    if (valid(va, row)) total += oa[row + 1] - oa[row];
    if (valid(vb, row)) total += ob[row + 1] - ob[row];
    offsets[row + 1] = total;
  }
  char* out = xmalloc((size_t)total);
  for (int64_t row = 0; row < n; row++) {
    char* at = out + offsets[row];
    if (valid(va, row)) {
      memcpy(at, da + oa[row], (size_t)(oa[row + 1] - oa[row]));
      at += oa[row + 1] - oa[row];
    }
    if (valid(vb, row)) memcpy(at, db + ob[row], (size_t)(ob[row + 1] - ob[row]));
  }
  emit(sink, context, "u", n, combine_validity(va, vb, n, false), offsets, out);
}

/* Twin of bench/kernels/decmul.c. */
static void native_decmul(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const int64_t* a = arg(batch, 0)->buffers[1]; /* limb pairs */
  const int64_t* b = arg(batch, 1)->buffers[1];
  __int128* result = xmalloc((size_t)n * 16);
  for (int64_t row = 0; row < n; row++) result[row] = (__int128)a[2 * row] * b[2 * row];
  emit(sink, context, "d:38,4", n, NULL, result, NULL);
}

/* Twin of bench/kernels/listsum.c. */
static void native_listsum(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const int32_t* offsets = arg(batch, 0)->buffers[1];
  const struct ArrowArray* child = arg(batch, 0)->children[0];
  const uint64_t* values = (const uint64_t*)child->buffers[1] + child->offset;
  int64_t* result = xmalloc((size_t)n * 8);
  for (int64_t row = 0; row < n; row++) {
    uint64_t sum = 0;
    for (int32_t i = offsets[row]; i < offsets[row + 1]; i++) sum += values[i];
    result[row] = (int64_t)sum;
  }
  emit(sink, context, "l", n, NULL, result, NULL);
}

/* Twin of bench/kernels/dictlookup.c. */
static void native_dictlookup(const struct ArrowArray* batch, native_sink sink,
                              void* context) {
  int64_t n = batch->length;
  const int32_t* indices = arg(batch, 0)->buffers[1];
  const struct ArrowArray* words = arg(batch, 0)->dictionary;
  const int32_t* word_offsets = (const int32_t*)words->buffers[1] + words->offset;
  const char* word_data = words->buffers[2];
  int32_t* offsets = xmalloc((size_t)(n + 1) * 4);
  int32_t total = 0;
  offsets[0] = 0;
  for (int64_t row = 0; row < n; row++) {
    int32_t i = indices[row];
    total += word_offsets[i + 1] - word_offsets[i];
    offsets[row + 1] = total;
  }
  char* out = xmalloc((size_t)total);
  for (int64_t row = 0; row < n; row++) {
    int32_t i = indices[row];
    memcpy(out + offsets[row], word_data + word_offsets[i],
           (size_t)(word_offsets[i + 1] - word_offsets[i]));
  }
  emit(sink, context, "u", n, NULL, offsets, out);
}

/* Twin of bench/kernels/groupsum.c: UPDATE then FINISH. */
static void native_groupsum(const struct ArrowArray* batch, int64_t groups, native_sink sink,
                            void* context) {
  int64_t n = batch->length;
  const uint64_t* values = arg(batch, 0)->buffers[1];
  const uint32_t* group = arg(batch, 1)->buffers[1];
  uint64_t* sums = calloc((size_t)groups + 1, 8);
  uint8_t* validity = calloc((size_t)(groups + 7) / 8 + 1, 1);
  if (sums == NULL || validity == NULL) exit(1);
  for (int64_t row = 0; row < n; row++) {
    uint32_t g = group[row];
    sums[g] += values[row];
    validity[g >> 3] |= (uint8_t)(1u << (g & 7));
  }
  emit(sink, context, "l", groups, validity, sums, NULL);
}

/* Hands a chunk of series() rows to the sink: struct<input_row: int64,
 * series: int32>, owning both buffers. */
static void emit_series_chunk(int64_t* input_rows, int32_t* values, int64_t rows,
                              native_sink sink, void* context) {
  struct ArrowArray chunk;
  struct ArrowSchema schema;
  make_array(&chunk, rows, 0, 1, NULL, NULL, NULL);
  struct owned* owned = chunk.private_data;
  make_array(&owned->child_arrays[0], rows, 0, 2, NULL, input_rows, NULL);
  make_array(&owned->child_arrays[1], rows, 0, 2, NULL, values, NULL);
  owned->children[0] = &owned->child_arrays[0];
  owned->children[1] = &owned->child_arrays[1];
  chunk.n_children = 2;
  make_schema(&schema, "+s", "");
  schema.flags = 0;
  struct owned_schema* children = schema.private_data;
  make_schema(&children->child_schemas[0], "l", "input_row");
  children->child_schemas[0].flags = 0;
  make_schema(&children->child_schemas[1], "i", "series");
  children->children[0] = &children->child_schemas[0];
  children->children[1] = &children->child_schemas[1];
  schema.n_children = 2;
  schema.children = children->children;
  sink(context, &chunk, &schema);
  schema.release(&schema);
}

enum { CHUNK_ROWS = 65536 };

/* Twin of bench/kernels/series.c: the chunks the host streams, of at most
 * 65,536 rows each. */
static void native_series(const struct ArrowArray* batch, native_sink sink, void* context) {
  int64_t n = batch->length;
  const int32_t* starts = arg(batch, 0)->buffers[1];
  const int32_t* stops = arg(batch, 1)->buffers[1];
  int64_t* input_rows = xmalloc(CHUNK_ROWS * 8);
  int32_t* values = xmalloc(CHUNK_ROWS * 4);
  int64_t filled = 0;
  for (int64_t row = 0; row < n; row++) {
    for (int64_t v = starts[row]; v <= stops[row]; v++) {
      if (filled == CHUNK_ROWS) {
        emit_series_chunk(input_rows, values, filled, sink, context);
        input_rows = xmalloc(CHUNK_ROWS * 8);
        values = xmalloc(CHUNK_ROWS * 4);
        filled = 0;
      }
      input_rows[filled] = row;
      values[filled] = (int32_t)v;
      filled++;
    }
  }
  if (filled > 0) {
    emit_series_chunk(input_rows, values, filled, sink, context);
  } else {
    free(input_rows);
    free(values);
  }
}

int native_run(const char* name, const struct ArrowArray* batch, int64_t groups,
               native_sink sink, void* context) {
  for (int64_t i = 0; i < batch->n_children; i++) {
    if (batch->children[i]->offset != 0) {
      fprintf(stderr, "bench_suite: native %s: argument %lld has an offset\n", name,
              (long long)i);
      return -1;
    }
  }
  if (strcmp(name, "gcd") == 0) native_gcd(batch, sink, context);
  else if (strcmp(name, "poly") == 0) native_poly(batch, sink, context);
  else if (strcmp(name, "nulladd") == 0) native_nulladd(batch, sink, context);
  else if (strcmp(name, "upper") == 0) native_upper(batch, sink, context);
  else if (strcmp(name, "concat") == 0) native_concat(batch, sink, context);
  else if (strcmp(name, "decmul") == 0) native_decmul(batch, sink, context);
  else if (strcmp(name, "listsum") == 0) native_listsum(batch, sink, context);
  else if (strcmp(name, "dictlookup") == 0) native_dictlookup(batch, sink, context);
  else if (strcmp(name, "groupsum") == 0) native_groupsum(batch, groups, sink, context);
  else if (strcmp(name, "series") == 0) native_series(batch, sink, context);
  else {
    fprintf(stderr, "bench_suite: no native twin of kernel '%s'\n", name);
    return -1;
  }
  return 0;
}
