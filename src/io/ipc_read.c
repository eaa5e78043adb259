/*
 * ipc_read.c -- the Arrow IPC reader: streams and files of the Arrow IPC
 * format (the columnar format specification's "Serialization and
 * Interprocess Communication") become an ArrowArrayStream of record
 * batches.
 *
 * An input is a sequence of encapsulated messages -- a continuation marker
 * 0xFFFFFFFF, a 32-bit metadata size, a FlatBuffers Message (io/flatbuf.h)
 * padded to 8 bytes, then the message's body -- ending with a marker of
 * size 0 (or the end of the input). A file adds the magic "ARROW1" before
 * and, after the stream, a footer that lists where the dictionary and
 * record batch messages are.
 *
 * Nothing of the input is trusted. The schema is read into a tree of
 * ArrowSchema (formats built from the Type tables and checked by
 * arrow/format.c); each record batch is decoded field by field against it,
 * taking field nodes and buffers in depth-first order, and every buffer is
 * validated as it is taken (its range inside the body, its size for the
 * length, offsets monotone and inside their data or child, views inside
 * their data buffers, union type ids declared and dense offsets inside
 * their child, run ends increasing, dictionary indices inside the current
 * dictionary, UTF-8, null counts equal to the bitmaps) before an array is
 * handed out.
 *
 * Memory. Each message's bytes are read into an owner (struct
 * wudf__ipc_owner, reference-counted): a record batch's owner holds its
 * body, decompressed buffers and built structs, and references the
 * dictionaries the batch uses (also owners, so a replaced dictionary lives
 * until the last batch using it is released). Arrays handed out are views
 * (one allocation per node) that hold a reference to the batch's owner;
 * their release callbacks follow the C Data Interface (children and
 * dictionaries may be moved out and released in any order, from any
 * thread). Input from memory is not copied: arrays point into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../arrow/format.h"
#include "../arrow/gather.h"
#include "../common/common.h"
#include "flatbuf.h"
#include "ipc.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the IPC reader assumes a little-endian host"
#endif

#define WUDF__IPC_MAX_DEPTH 64

/* --------------------------------------------------------------- owners */

struct wudf__ipc_allocation {
  struct wudf__ipc_allocation* next;
  uint64_t padding; /* keeps what follows 16-byte aligned */
};

struct wudf__ipc_owner {
  atomic_long references;
  struct wudf__ipc_allocation* allocations;
  struct wudf__ipc_owner** dependencies;
  size_t dependency_count;
  size_t dependency_capacity;
  struct ArrowArray held; /* an array this owner releases (release may be NULL) */
};

static struct wudf__ipc_owner* wudf__owner_new(void) {
  struct wudf__ipc_owner* owner = wudf__calloc(1, sizeof *owner);
  if (owner) atomic_init(&owner->references, 1);
  return owner;
}

static void wudf__owner_unref(struct wudf__ipc_owner* owner) {
  if (owner == NULL || atomic_fetch_sub(&owner->references, 1) != 1) return;
  for (size_t i = 0; i < owner->dependency_count; i++) wudf__owner_unref(owner->dependencies[i]);
  wudf__free(owner->dependencies);
  if (owner->held.release) owner->held.release(&owner->held);
  struct wudf__ipc_allocation* at = owner->allocations;
  while (at) {
    struct wudf__ipc_allocation* next = at->next;
    wudf__free(at);
    at = next;
  }
  wudf__free(owner);
}

/* `size` bytes (16-byte aligned) owned by `owner`, zeroed when `zero`;
 * NULL on failure. Buffers about to be overwritten (message bytes,
 * decompressed data) are not zeroed: their pages are not touched before
 * they are filled. */
static void* wudf__owner_alloc_raw(struct wudf__ipc_owner* owner, size_t size, int zero) {
  size_t total;
  if (wudf__add_overflows(size, sizeof(struct wudf__ipc_allocation), &total)) return NULL;
  struct wudf__ipc_allocation* allocation = wudf__malloc(total);
  if (allocation == NULL) return NULL;
  if (zero) memset(allocation, 0, total);
  allocation->next = owner->allocations;
  owner->allocations = allocation;
  return allocation + 1;
}

static void* wudf__owner_alloc(struct wudf__ipc_owner* owner, size_t size) {
  return wudf__owner_alloc_raw(owner, size, 1);
}

/* Makes `owner` hold a reference to `dependency` (once). 0 or ENOMEM. */
static int wudf__owner_depend(struct wudf__ipc_owner* owner, struct wudf__ipc_owner* dependency) {
  for (size_t i = 0; i < owner->dependency_count; i++) {
    if (owner->dependencies[i] == dependency) return 0;
  }
  if (owner->dependency_count == owner->dependency_capacity) {
    size_t capacity = owner->dependency_capacity ? 2 * owner->dependency_capacity : 4;
    void* grown = wudf__realloc(owner->dependencies, capacity * sizeof *owner->dependencies);
    if (grown == NULL) return ENOMEM;
    owner->dependencies = grown;
    owner->dependency_capacity = capacity;
  }
  atomic_fetch_add(&dependency->references, 1);
  owner->dependencies[owner->dependency_count++] = dependency;
  return 0;
}

/* ------------------------------------------------------- exported views */

/* The private part of an exported array node. */
struct wudf__ipc_view {
  struct wudf__ipc_owner* owner;
  struct ArrowArray* dictionary;
  struct ArrowArray** children;
};

static void wudf__view_release(struct ArrowArray* array) {
  struct wudf__ipc_view* view = array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    if (view->children[i]->release) view->children[i]->release(view->children[i]);
  }
  if (view->dictionary && view->dictionary->release) view->dictionary->release(view->dictionary);
  wudf__owner_unref(view->owner);
  wudf__free(view);
  array->release = NULL;
}

/* Exports a view of the internal tree `source` (whose memory `owner`
 * keeps) into `out`. 0 or ENOMEM (nothing then to release). */
static int wudf__view_export(const struct ArrowArray* source, struct wudf__ipc_owner* owner,
                             struct ArrowArray* out) {
  size_t n_children = (size_t)source->n_children, n_buffers = (size_t)source->n_buffers;
  size_t size = sizeof(struct wudf__ipc_view) + n_children * sizeof(struct ArrowArray*) +
                n_children * sizeof(struct ArrowArray) + sizeof(struct ArrowArray) +
                n_buffers * sizeof(void*);
  struct wudf__ipc_view* view = wudf__malloc(size);
  if (view == NULL) return ENOMEM;
  memset(view, 0, size);
  struct ArrowArray* children = (struct ArrowArray*)(view + 1);
  struct ArrowArray* dictionary = children + n_children;
  view->children = (struct ArrowArray**)(dictionary + 1);
  const void** buffers = (const void**)(view->children + n_children);
  for (size_t i = 0; i < n_buffers; i++) buffers[i] = source->buffers[i];
  for (size_t i = 0; i < n_children; i++) {
    view->children[i] = &children[i];
    if (wudf__view_export(source->children[i], owner, &children[i]) != 0) {
      for (size_t k = 0; k < i; k++) children[k].release(&children[k]);
      wudf__free(view);
      return ENOMEM;
    }
  }
  if (source->dictionary) {
    view->dictionary = dictionary;
    if (wudf__view_export(source->dictionary, owner, dictionary) != 0) {
      for (size_t k = 0; k < n_children; k++) children[k].release(&children[k]);
      wudf__free(view);
      return ENOMEM;
    }
  }
  atomic_fetch_add(&owner->references, 1);
  view->owner = owner;
  out->length = source->length;
  out->null_count = source->null_count;
  out->offset = source->offset;
  out->n_buffers = source->n_buffers;
  out->n_children = source->n_children;
  out->buffers = buffers;
  out->children = view->children;
  out->dictionary = view->dictionary;
  out->release = wudf__view_release;
  out->private_data = view;
  return 0;
}

/* Release callback of internal (never exported) structs: marks them. */
static void wudf__internal_array_release(struct ArrowArray* array) { array->release = NULL; }
static void wudf__internal_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

/* Empty buffers point here, never at NULL (except absent validity). */
static const uint64_t wudf__empty_buffer[8];

/* ---------------------------------------------------------------- input */

struct wudf__ipc_input {
  const uint8_t* memory; /* memory input, or NULL */
  int fd;
  int close_fd;
  int seekable;          /* a regular file: pread at base + offset */
  uint64_t base;         /* the descriptor's position when it was given */
  int64_t size;          /* bytes of the input, -1 unknown */
  uint64_t position;     /* of the sequential reads */
  uint8_t peeked[8];     /* bytes a pipe gave before the format was known */
  size_t peeked_size, peeked_used;
  char name[256];
};

/* Fetches `n` bytes at `offset` (or, when `sequential`, at the current
 * position, which advances). Memory input gives a pointer into itself;
 * otherwise the bytes are read into an allocation of `owner`. `*got` is the
 * number of bytes available (less than n only at the end of the input).
 * 0, EIO (with errno's message), ENOMEM. */
static int wudf__input_fetch(struct wudf__ipc_input* in, int sequential, uint64_t offset,
                             size_t n, struct wudf__ipc_owner* owner, const uint8_t** out,
                             size_t* got, struct wudf_error* error) {
  uint64_t at = sequential ? in->position : offset;
  if (in->memory) {
    uint64_t available = at < (uint64_t)in->size ? (uint64_t)in->size - at : 0;
    *got = n < available ? n : (size_t)available;
    *out = in->memory + (*got ? at : 0);
    if (sequential) in->position += *got;
    return 0;
  }
  uint8_t* buffer = n ? wudf__owner_alloc_raw(owner, n, 0) : (uint8_t*)wudf__empty_buffer;
  if (buffer == NULL) {
    return wudf__set_error(error, ENOMEM, "%s: out of memory for a message of %zu bytes",
                           in->name, n);
  }
  size_t done = 0;
  if (!in->seekable) {
    while (done < n && in->peeked_used < in->peeked_size) {
      buffer[done++] = in->peeked[in->peeked_used++];
    }
  }
  while (done < n) {
    ssize_t step = in->seekable
                       ? pread(in->fd, buffer + done, n - done, (off_t)(in->base + at + done))
                       : read(in->fd, buffer + done, n - done);
    if (step < 0) {
      if (errno == EINTR) continue;
      return wudf__set_error(error, EIO, "%s: read failed: %s", in->name, strerror(errno));
    }
    if (step == 0) break;
    done += (size_t)step;
  }
  if (sequential) in->position += done;
  *out = buffer;
  *got = done;
  return 0;
}

/* ---------------------------------------------------------------- schema */

struct wudf__ipc_field {
  struct ArrowSchema* schema;      /* storage type: the index type of a dictionary */
  struct wudf__format format;      /* parsed schema->format */
  int64_t n_children;
  struct wudf__ipc_field* children;
  int is_dictionary;
  int64_t dictionary_id;
  struct wudf__ipc_field* value;   /* dictionaries: the value type's field */
};

struct wudf__ipc_dictionary {
  int64_t id;
  struct wudf__ipc_field* value;
  struct wudf__ipc_owner* owner;   /* NULL until its first batch */
  struct ArrowArray* array;        /* inside owner */
};

struct wudf__ipc_reader {
  struct wudf__ipc_input input;
  struct wudf_ipc_read_options options;
  struct wudf__ipc_owner* schema_owner; /* the schema tree's memory */
  struct ArrowSchema* schema;           /* root struct */
  struct wudf__ipc_field root;
  struct wudf__ipc_dictionary* dictionaries;
  size_t dictionary_count;
  int64_t field_budget;                 /* Field tables still allowed */
  int file;                             /* file format */
  struct wudf__fb_vector file_batches;  /* Blocks of the footer */
  size_t next_file_batch;
  struct wudf__ipc_owner* footer_owner;
  int64_t message_index;                /* messages read, for errors */
  int64_t batch_index;
  int done;
  int failed_code;
  struct wudf_error failure;
};

/* Context of an error: the input and message. */
static int wudf__reader_fail(struct wudf__ipc_reader* r, struct wudf_error* error, int code,
                             const char* format, ...) WUDF__PRINTF(4, 5);
static int wudf__reader_fail(struct wudf__ipc_reader* r, struct wudf_error* error, int code,
                             const char* format, ...) {
  char detail[900];
  va_list args;
  va_start(args, format);
  vsnprintf(detail, sizeof detail, format, args);
  va_end(args);
  return wudf__set_error(error, code, "%s: message %lld: %s", r->input.name,
                         (long long)r->message_index, detail);
}

/* A copy of `length` bytes at `text` as a NUL-terminated string in the
 * schema owner; NULL on failure. Embedded NULs are refused by callers. */
static char* wudf__schema_string(struct wudf__ipc_reader* r, const char* text, size_t length) {
  char* copy = wudf__owner_alloc(r->schema_owner, length + 1);
  if (copy) memcpy(copy, text, length);
  return copy;
}

/* Reads a vector of KeyValue tables (slot `slot` of `table`) into C Data
 * Interface metadata (NULL when absent or empty). 0, EPROTO, ENOMEM. */
static int wudf__read_metadata(struct wudf__ipc_reader* r, const struct wudf__fb_table* table,
                               int slot, const char* where, const char** out,
                               struct wudf_error* error) {
  struct wudf__fb_vector pairs;
  *out = NULL;
  int found = wudf__fb_vector_field(table, slot, 4, &pairs);
  if (found < 0) return wudf__reader_fail(r, error, EPROTO, "%s: malformed metadata", where);
  if (found == 0 || pairs.count == 0) return 0;
  if (pairs.count > INT32_MAX / 8) {
    return wudf__reader_fail(r, error, EPROTO, "%s: too many metadata entries", where);
  }
  /* Two passes: sizes, then the bytes. */
  size_t total = 4;
  for (int pass = 0; pass < 2; pass++) {
    uint8_t* bytes = NULL;
    size_t at = 4;
    if (pass == 1) {
      if (total > INT32_MAX) {
        return wudf__reader_fail(r, error, EPROTO, "%s: metadata too large", where);
      }
      bytes = wudf__owner_alloc(r->schema_owner, total);
      if (bytes == NULL) return wudf__set_error(error, ENOMEM, "out of memory for metadata");
      int32_t count = (int32_t)pairs.count;
      memcpy(bytes, &count, 4);
    }
    for (size_t i = 0; i < pairs.count; i++) {
      struct wudf__fb_table pair;
      const char *key = "", *value = "";
      size_t key_length = 0, value_length = 0;
      if (wudf__fb_vector_table(&pairs, i, &pair) != 0 ||
          wudf__fb_string(&pair, WUDF__KV_KEY, &key, &key_length) < 0 ||
          wudf__fb_string(&pair, WUDF__KV_VALUE, &value, &value_length) < 0) {
        return wudf__reader_fail(r, error, EPROTO, "%s: malformed metadata entry %zu", where, i);
      }
      if (pass == 0) {
        total += 8 + key_length + value_length;
        continue;
      }
      int32_t n = (int32_t)key_length;
      memcpy(bytes + at, &n, 4);
      memcpy(bytes + at + 4, key, key_length);
      at += 4 + key_length;
      n = (int32_t)value_length;
      memcpy(bytes + at, &n, 4);
      memcpy(bytes + at + 4, value, value_length);
      at += 4 + value_length;
    }
    if (pass == 1) *out = (const char*)bytes;
  }
  return 0;
}

static const char wudf__unit_letters[] = "smun";

/* Builds the C Data Interface format of the Type table `type` (union tag
 * `tag`) into `out` (`size` bytes); `children` is the Field's child count.
 * 0 or EPROTO. */
static int wudf__type_format(struct wudf__ipc_reader* r, uint8_t tag,
                             const struct wudf__fb_table* type, int found, const char* where,
                             char* out, size_t size, struct wudf_error* error) {
  int16_t unit = 0, precision_enum = 0;
  int32_t bits = 0, precision = 0, scale = 0, width = 0;
  uint8_t is_signed = 0;
  const char* text;
  size_t length;
  if (tag != WUDF__TYPE_NULL && tag != WUDF__TYPE_BINARY && tag != WUDF__TYPE_UTF8 &&
      tag != WUDF__TYPE_BOOL && tag != WUDF__TYPE_LIST && tag != WUDF__TYPE_STRUCT &&
      tag != WUDF__TYPE_LARGE_BINARY && tag != WUDF__TYPE_LARGE_UTF8 &&
      tag != WUDF__TYPE_LARGE_LIST && tag != WUDF__TYPE_RUN_END &&
      tag != WUDF__TYPE_BINARY_VIEW && tag != WUDF__TYPE_UTF8_VIEW &&
      tag != WUDF__TYPE_LIST_VIEW && tag != WUDF__TYPE_LARGE_LIST_VIEW && tag != WUDF__TYPE_MAP &&
      !found) {
    return wudf__reader_fail(r, error, EPROTO, "%s: the type table (%d) is missing", where, tag);
  }
  switch (tag) {
    case WUDF__TYPE_NULL: snprintf(out, size, "n"); return 0;
    case WUDF__TYPE_BOOL: snprintf(out, size, "b"); return 0;
    case WUDF__TYPE_BINARY: snprintf(out, size, "z"); return 0;
    case WUDF__TYPE_UTF8: snprintf(out, size, "u"); return 0;
    case WUDF__TYPE_LARGE_BINARY: snprintf(out, size, "Z"); return 0;
    case WUDF__TYPE_LARGE_UTF8: snprintf(out, size, "U"); return 0;
    case WUDF__TYPE_BINARY_VIEW: snprintf(out, size, "vz"); return 0;
    case WUDF__TYPE_UTF8_VIEW: snprintf(out, size, "vu"); return 0;
    case WUDF__TYPE_LIST: snprintf(out, size, "+l"); return 0;
    case WUDF__TYPE_LARGE_LIST: snprintf(out, size, "+L"); return 0;
    case WUDF__TYPE_LIST_VIEW: snprintf(out, size, "+vl"); return 0;
    case WUDF__TYPE_LARGE_LIST_VIEW: snprintf(out, size, "+vL"); return 0;
    case WUDF__TYPE_STRUCT: snprintf(out, size, "+s"); return 0;
    case WUDF__TYPE_MAP: snprintf(out, size, "+m"); return 0;
    case WUDF__TYPE_RUN_END: snprintf(out, size, "+r"); return 0;
    case WUDF__TYPE_INT: {
      if (wudf__fb_i32(type, 0, 0, &bits) != 0 || wudf__fb_u8(type, 1, 0, &is_signed) != 0) break;
      const char* letters = is_signed ? "csil" : "CSIL";
      int index = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : bits == 64 ? 3 : -1;
      if (index < 0) {
        return wudf__reader_fail(r, error, EPROTO, "%s: integer width %d", where, (int)bits);
      }
      snprintf(out, size, "%c", letters[index]);
      return 0;
    }
    case WUDF__TYPE_FLOAT:
      if (wudf__fb_i16(type, 0, 0, &precision_enum) != 0) break;
      if (precision_enum < 0 || precision_enum > 2) {
        return wudf__reader_fail(r, error, EPROTO, "%s: float precision %d", where,
                                 (int)precision_enum);
      }
      snprintf(out, size, "%c", "efg"[precision_enum]);
      return 0;
    case WUDF__TYPE_DECIMAL:
      if (wudf__fb_i32(type, 0, 0, &precision) != 0 || wudf__fb_i32(type, 1, 0, &scale) != 0 ||
          wudf__fb_i32(type, 2, 128, &bits) != 0) {
        break;
      }
      if (bits == 128) snprintf(out, size, "d:%d,%d", (int)precision, (int)scale);
      else snprintf(out, size, "d:%d,%d,%d", (int)precision, (int)scale, (int)bits);
      return 0;
    case WUDF__TYPE_DATE:
      if (wudf__fb_i16(type, 0, 1, &unit) != 0) break;
      if (unit != 0 && unit != 1) {
        return wudf__reader_fail(r, error, EPROTO, "%s: date unit %d", where, (int)unit);
      }
      snprintf(out, size, unit == 0 ? "tdD" : "tdm");
      return 0;
    case WUDF__TYPE_TIME:
      if (wudf__fb_i16(type, 0, 1, &unit) != 0 || wudf__fb_i32(type, 1, 32, &bits) != 0) break;
      if (unit < 0 || unit > 3 || bits != (unit < 2 ? 32 : 64)) {
        return wudf__reader_fail(r, error, EPROTO, "%s: time unit %d with %d bits", where,
                                 (int)unit, (int)bits);
      }
      snprintf(out, size, "tt%c", wudf__unit_letters[unit]);
      return 0;
    case WUDF__TYPE_TIMESTAMP: {
      if (wudf__fb_i16(type, 0, 0, &unit) != 0) break;
      text = "";
      length = 0;
      if (wudf__fb_string(type, 1, &text, &length) < 0) break;
      if (unit < 0 || unit > 3) {
        return wudf__reader_fail(r, error, EPROTO, "%s: timestamp unit %d", where, (int)unit);
      }
      if (memchr(text, '\0', length) != NULL || length + 5 > size) {
        return wudf__reader_fail(r, error, EPROTO, "%s: malformed time zone", where);
      }
      snprintf(out, size, "ts%c:%.*s", wudf__unit_letters[unit], (int)length, text);
      return 0;
    }
    case WUDF__TYPE_DURATION:
      if (wudf__fb_i16(type, 0, 1, &unit) != 0) break;
      if (unit < 0 || unit > 3) {
        return wudf__reader_fail(r, error, EPROTO, "%s: duration unit %d", where, (int)unit);
      }
      snprintf(out, size, "tD%c", wudf__unit_letters[unit]);
      return 0;
    case WUDF__TYPE_INTERVAL:
      if (wudf__fb_i16(type, 0, 0, &unit) != 0) break;
      if (unit < 0 || unit > 2) {
        return wudf__reader_fail(r, error, EPROTO, "%s: interval unit %d", where, (int)unit);
      }
      snprintf(out, size, "ti%c", "MDn"[unit]);
      return 0;
    case WUDF__TYPE_FIXED_BINARY:
      if (wudf__fb_i32(type, 0, 0, &width) != 0) break;
      snprintf(out, size, "w:%d", (int)width);
      return 0;
    case WUDF__TYPE_FIXED_LIST:
      if (wudf__fb_i32(type, 0, 0, &width) != 0) break;
      snprintf(out, size, "+w:%d", (int)width);
      return 0;
    case WUDF__TYPE_UNION: {
      int16_t mode;
      struct wudf__fb_vector ids;
      if (wudf__fb_i16(type, 0, 0, &mode) != 0) break;
      int has_ids = wudf__fb_vector_field(type, 1, 4, &ids);
      if (has_ids < 0) break;
      if (mode != 0 && mode != 1) {
        return wudf__reader_fail(r, error, EPROTO, "%s: union mode %d", where, (int)mode);
      }
      /* The ids; absent means 0 .. children - 1, which the caller fills. */
      size_t at = (size_t)snprintf(out, size, "+u%c:", mode ? 'd' : 's');
      if (has_ids) {
        if (ids.count > WUDF__MAX_UNION_TYPES) {
          return wudf__reader_fail(r, error, EPROTO, "%s: %zu union type ids", where, ids.count);
        }
        for (size_t i = 0; i < ids.count && at + 8 < size; i++) {
          int32_t id = wudf__le_i32(wudf__fb_vector_element(&ids, i, 4));
          if (id < 0 || id >= WUDF__MAX_UNION_TYPES) {
            return wudf__reader_fail(r, error, EPROTO, "%s: union type id %d", where, (int)id);
          }
          at += (size_t)snprintf(out + at, size - at, i ? ",%d" : "%d", (int)id);
        }
      } else {
        out[at - 1] = '?'; /* marks "ids to fill in" for the caller */
      }
      return 0;
    }
    default:
      return wudf__reader_fail(r, error, EPROTO, "%s: unknown type %d", where, tag);
  }
  return wudf__reader_fail(r, error, EPROTO, "%s: malformed type table (%d)", where, tag);
}

/* The 'i' (int32) ... format of an Int table, for dictionary indices. */
static int wudf__index_format(struct wudf__ipc_reader* r, const struct wudf__fb_table* encoding,
                              const char* where, char* out, struct wudf_error* error) {
  struct wudf__fb_table index_type;
  int found = wudf__fb_table_field(encoding, WUDF__ENCODING_INDEX_TYPE, &index_type);
  if (found < 0) return wudf__reader_fail(r, error, EPROTO, "%s: malformed index type", where);
  if (found == 0) {
    strcpy(out, "i");
    return 0;
  }
  return wudf__type_format(r, WUDF__TYPE_INT, &index_type, 1, where, out, 8, error);
}

static int wudf__read_field(struct wudf__ipc_reader* r, const struct wudf__fb_table* table,
                            int depth, const char* parent, struct wudf__ipc_field* out,
                            struct ArrowSchema* schema, struct wudf_error* error);

/* Reads the children of Field `table` into `out` (its value field when
 * dictionary-encoded) and `schema`. */
static int wudf__read_children(struct wudf__ipc_reader* r, const struct wudf__fb_vector* list,
                               int depth, const char* where, struct wudf__ipc_field* out,
                               struct ArrowSchema* schema, struct wudf_error* error) {
  size_t n = list ? list->count : 0;
  if ((int64_t)n > r->field_budget) {
    return wudf__reader_fail(r, error, EPROTO, "%s: more fields than the schema's bytes hold",
                             where);
  }
  out->n_children = (int64_t)n;
  schema->n_children = (int64_t)n;
  if (n == 0) return 0;
  out->children = wudf__owner_alloc(r->schema_owner, n * sizeof *out->children);
  schema->children = wudf__owner_alloc(r->schema_owner, n * sizeof *schema->children);
  struct ArrowSchema* nodes = wudf__owner_alloc(r->schema_owner, n * sizeof *nodes);
  if (!out->children || !schema->children || !nodes) {
    return wudf__set_error(error, ENOMEM, "out of memory for the schema");
  }
  for (size_t i = 0; i < n; i++) {
    struct wudf__fb_table child;
    schema->children[i] = &nodes[i];
    if (wudf__fb_vector_table(list, i, &child) != 0) {
      return wudf__reader_fail(r, error, EPROTO, "%s: malformed child %zu", where, i);
    }
    int status = wudf__read_field(r, &child, depth + 1, where, &out->children[i], &nodes[i], error);
    if (status != 0) return status;
  }
  return 0;
}

static int wudf__read_field(struct wudf__ipc_reader* r, const struct wudf__fb_table* table,
                            int depth, const char* parent, struct wudf__ipc_field* out,
                            struct ArrowSchema* schema, struct wudf_error* error) {
  const char* name = "";
  size_t name_length = 0;
  char where[512];
  if (--r->field_budget < 0) {
    return wudf__reader_fail(r, error, EPROTO, "%s: more fields than the schema's bytes hold",
                             parent);
  }
  if (wudf__fb_string(table, WUDF__FIELD_NAME, &name, &name_length) < 0) {
    return wudf__reader_fail(r, error, EPROTO, "%s: malformed field name", parent);
  }
  snprintf(where, sizeof where, "%s%s%.*s", parent, *parent ? "." : "field ",
           (int)(name_length > 200 ? 200 : name_length), name);
  if (depth > WUDF__IPC_MAX_DEPTH) {
    return wudf__reader_fail(r, error, EPROTO, "%s: nesting deeper than %d levels", where,
                             WUDF__IPC_MAX_DEPTH);
  }
  if (memchr(name, '\0', name_length) != NULL) {
    return wudf__reader_fail(r, error, EPROTO, "%s: a NUL byte in the field name", where);
  }
  uint8_t nullable = 0, tag = 0;
  struct wudf__fb_table type, encoding;
  struct wudf__fb_vector children;
  int has_type, has_encoding, has_children;
  if (wudf__fb_u8(table, WUDF__FIELD_NULLABLE, 0, &nullable) != 0 ||
      wudf__fb_u8(table, WUDF__FIELD_TYPE_TYPE, 0, &tag) != 0 ||
      (has_type = wudf__fb_table_field(table, WUDF__FIELD_TYPE, &type)) < 0 ||
      (has_encoding = wudf__fb_table_field(table, WUDF__FIELD_DICTIONARY, &encoding)) < 0 ||
      (has_children = wudf__fb_vector_field(table, WUDF__FIELD_CHILDREN, 4, &children)) < 0) {
    return wudf__reader_fail(r, error, EPROTO, "%s: malformed Field table", where);
  }
  char format[1024]; /* the longest: a union of 128 ids, or a 1000-byte zone */
  int status = wudf__type_format(r, tag, &type, has_type, where, format, sizeof format, error);
  if (status != 0) return status;
  size_t n_children = has_children ? children.count : 0;
  char* question = strchr(format, '?');
  if (question) { /* a union without type ids: 0 .. n - 1 */
    *question = ':';
    size_t at = strlen(format);
    for (size_t i = 0; i < n_children && i < WUDF__MAX_UNION_TYPES && at + 8 < sizeof format;
         i++) {
      at += (size_t)snprintf(format + at, sizeof format - at, i ? ",%zu" : "%zu", i);
    }
  }
  const char* metadata;
  status = wudf__read_metadata(r, table, WUDF__FIELD_METADATA, where, &metadata, error);
  if (status != 0) return status;

  memset(out, 0, sizeof *out);
  memset(schema, 0, sizeof *schema);
  out->schema = schema;
  schema->name = wudf__schema_string(r, name, name_length);
  schema->metadata = metadata;
  schema->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  schema->release = wudf__internal_schema_release;
  if (schema->name == NULL) return wudf__set_error(error, ENOMEM, "out of memory for the schema");
  if (tag == WUDF__TYPE_MAP) {
    uint8_t sorted = 0;
    if (wudf__fb_u8(&type, 0, 0, &sorted) != 0) {
      return wudf__reader_fail(r, error, EPROTO, "%s: malformed Map table", where);
    }
    if (sorted) schema->flags |= ARROW_FLAG_MAP_KEYS_SORTED;
  }

  /* The value type: this field's own, or the dictionary's. */
  struct wudf__ipc_field* value = out;
  struct ArrowSchema* value_schema = schema;
  if (has_encoding) {
    char index_format[8];
    uint8_t ordered = 0;
    status = wudf__index_format(r, &encoding, where, index_format, error);
    if (status != 0) return status;
    if (wudf__fb_i64(&encoding, WUDF__ENCODING_ID, 0, &out->dictionary_id) != 0 ||
        wudf__fb_u8(&encoding, WUDF__ENCODING_ORDERED, 0, &ordered) != 0) {
      return wudf__reader_fail(r, error, EPROTO, "%s: malformed DictionaryEncoding", where);
    }
    if (index_format[0] == 'C' || index_format[0] == 'S' || index_format[0] == 'I' ||
        index_format[0] == 'L') {
      /* Unsigned indices are allowed by the format; they are read as they
       * are (and checked against the dictionary's length). */
    }
    out->is_dictionary = 1;
    if (ordered) schema->flags |= ARROW_FLAG_DICTIONARY_ORDERED;
    schema->format = wudf__schema_string(r, index_format, strlen(index_format));
    value = wudf__owner_alloc(r->schema_owner, sizeof *value);
    value_schema = wudf__owner_alloc(r->schema_owner, sizeof *value_schema);
    if (schema->format == NULL || value == NULL || value_schema == NULL) {
      return wudf__set_error(error, ENOMEM, "out of memory for the schema");
    }
    value_schema->name = "";
    value_schema->flags = ARROW_FLAG_NULLABLE;
    value_schema->release = wudf__internal_schema_release;
    value->schema = value_schema;
    out->value = value;
    schema->dictionary = value_schema;
    if (wudf__format_parse(schema->format, &out->format) != 0 ||
        out->format.integer == 0 || out->format.byte_width > 8) {
      return wudf__reader_fail(r, error, EPROTO, "%s: dictionary index type '%s'", where,
                               schema->format);
    }
  }
  value_schema->format = wudf__schema_string(r, format, strlen(format));
  if (value_schema->format == NULL) {
    return wudf__set_error(error, ENOMEM, "out of memory for the schema");
  }
  value->schema = value_schema;
  if (wudf__format_parse(value_schema->format, &value->format) != 0) {
    return wudf__reader_fail(r, error, EPROTO, "%s: invalid type '%s'", where, format);
  }
  if (value->format.n_children >= 0 && (size_t)value->format.n_children != n_children) {
    return wudf__reader_fail(r, error, EPROTO, "%s: type '%s' with %zu children", where, format,
                             n_children);
  }
  if ((value->format.layout == WUDF__LAYOUT_SPARSE_UNION ||
       value->format.layout == WUDF__LAYOUT_DENSE_UNION) &&
      (size_t)value->format.type_id_count != n_children) {
    return wudf__reader_fail(r, error, EPROTO, "%s: %d union type ids for %zu children", where,
                             (int)value->format.type_id_count, n_children);
  }
  if (!has_encoding) out->format = value->format;
  status = wudf__read_children(r, has_children ? &children : NULL, depth, where, value,
                               value_schema, error);
  if (status != 0) return status;
  /* Layout rules on the children. */
  if (value->format.layout == WUDF__LAYOUT_MAP) {
    const struct wudf__ipc_field* entries = &value->children[0];
    if (entries->is_dictionary || entries->format.layout != WUDF__LAYOUT_STRUCT ||
        entries->n_children != 2) {
      return wudf__reader_fail(r, error, EPROTO, "%s: a map's child must be a struct of 2",
                               where);
    }
  }
  if (value->format.layout == WUDF__LAYOUT_RUN_END) {
    const struct wudf__ipc_field* ends = &value->children[0];
    if (ends->is_dictionary || ends->format.integer != 1 || ends->format.byte_width < 2) {
      return wudf__reader_fail(r, error, EPROTO, "%s: run ends must be int16, int32 or int64",
                               where);
    }
  }
  if (has_encoding) {
    for (size_t i = 0; i < r->dictionary_count; i++) {
      if (r->dictionaries[i].id == out->dictionary_id) {
        return wudf__reader_fail(r, error, EPROTO, "%s: dictionary id %lld used twice", where,
                                 (long long)out->dictionary_id);
      }
    }
    void* grown = wudf__realloc(r->dictionaries, (r->dictionary_count + 1) *
                                                     sizeof *r->dictionaries);
    if (grown == NULL) return wudf__set_error(error, ENOMEM, "out of memory for the schema");
    r->dictionaries = grown;
    struct wudf__ipc_dictionary* d = &r->dictionaries[r->dictionary_count++];
    memset(d, 0, sizeof *d);
    d->id = out->dictionary_id;
    d->value = value;
  }
  return 0;
}

/* Reads a Schema table into the reader's root field and schema. */
static int wudf__read_schema(struct wudf__ipc_reader* r, const struct wudf__fb_table* table,
                             size_t metadata_size, struct wudf_error* error) {
  int16_t endianness = 0;
  struct wudf__fb_vector fields;
  int has_fields;
  if (wudf__fb_i16(table, WUDF__SCHEMA_ENDIANNESS, 0, &endianness) != 0 ||
      (has_fields = wudf__fb_vector_field(table, WUDF__SCHEMA_FIELDS, 4, &fields)) < 0) {
    return wudf__reader_fail(r, error, EPROTO, "malformed Schema table");
  }
  if (endianness != 0) {
    return wudf__reader_fail(r, error, ENOTSUP,
                             "big-endian data is not supported (this host is little-endian)");
  }
  r->field_budget = (int64_t)(metadata_size / 4) + 1;
  r->schema = wudf__owner_alloc(r->schema_owner, sizeof *r->schema);
  if (r->schema == NULL) return wudf__set_error(error, ENOMEM, "out of memory for the schema");
  r->schema->format = "+s";
  r->schema->name = "";
  r->schema->release = wudf__internal_schema_release;
  wudf__format_parse("+s", &r->root.format);
  r->root.schema = r->schema;
  int status = wudf__read_metadata(r, table, WUDF__SCHEMA_METADATA_SLOT, "schema",
                                   &r->schema->metadata, error);
  if (status != 0) return status;
  return wudf__read_children(r, has_fields ? &fields : NULL, 0, "", &r->root, r->schema, error);
}

/* -------------------------------------------------------------- messages */

struct wudf__ipc_message {
  struct wudf__ipc_owner* owner; /* holds the bytes (none for memory input) */
  struct wudf__fb_table header;
  uint8_t header_type;
  int16_t version;
  const uint8_t* body;
  int64_t body_length;
  size_t metadata_size;
  size_t prefix_size;            /* 8, or 4 before the continuation marker */
  int end;                       /* the end-of-stream marker (or input end) */
};

static int wudf__message_limit_check(struct wudf__ipc_reader* r, uint64_t at, uint64_t bytes,
                                     const char* what, struct wudf_error* error) {
  if (r->input.size >= 0) {
    if (at > (uint64_t)r->input.size || bytes > (uint64_t)r->input.size - at) {
      return wudf__reader_fail(r, error, EPROTO,
                               "truncated: the %s needs %llu bytes, the input has %llu left",
                               what, (unsigned long long)bytes,
                               (unsigned long long)(at > (uint64_t)r->input.size
                                                        ? 0
                                                        : (uint64_t)r->input.size - at));
    }
  } else if (bytes > (uint64_t)r->options.max_message_bytes) {
    return wudf__reader_fail(r, error, EFBIG,
                             "the %s of %llu bytes is over the limit of %lld "
                             "(max_message_bytes)",
                             what, (unsigned long long)bytes,
                             (long long)r->options.max_message_bytes);
  }
  return 0;
}

/* Fetches exactly `n` bytes (sequentially, or at `at`). */
static int wudf__fetch_exact(struct wudf__ipc_reader* r, int sequential, uint64_t at, size_t n,
                             struct wudf__ipc_owner* owner, const uint8_t** out,
                             const char* what, struct wudf_error* error) {
  size_t got = 0;
  int status = wudf__input_fetch(&r->input, sequential, at, n, owner, out, &got, error);
  if (status != 0) return status;
  if (got < n) {
    return wudf__reader_fail(r, error, EPROTO,
                             "truncated: the %s needs %zu bytes, the input has %zu", what, n,
                             got);
  }
  return 0;
}

/* Reads the encapsulated message at the current position (sequential) or
 * at `at` (file blocks). `message->owner` is a new owner the caller
 * releases (also on failure). */
static int wudf__read_message(struct wudf__ipc_reader* r, int sequential, uint64_t at,
                              struct wudf__ipc_message* message, struct wudf_error* error) {
  memset(message, 0, sizeof *message);
  message->owner = wudf__owner_new();
  if (message->owner == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  r->message_index++;
  const uint8_t* prefix;
  size_t got = 0;
  uint64_t start = sequential ? r->input.position : at;
  int status = wudf__input_fetch(&r->input, sequential, at, 4, message->owner, &prefix, &got,
                                 error);
  if (status != 0) return status;
  if (got == 0 && sequential) { /* the input ends without a marker */
    message->end = 1;
    return 0;
  }
  if (got < 4) return wudf__reader_fail(r, error, EPROTO, "truncated message prefix");
  uint32_t length = (uint32_t)wudf__le_i32(prefix);
  size_t prefix_size = 4;
  if (length == WUDF__IPC_CONTINUATION) {
    status = wudf__fetch_exact(r, sequential, at + 4, 4, message->owner, &prefix,
                               "message length", error);
    if (status != 0) return status;
    length = (uint32_t)wudf__le_i32(prefix);
    prefix_size = 8;
  }
  if (length == 0) {
    message->end = 1;
    return 0;
  }
  if (length > INT32_MAX) {
    return wudf__reader_fail(r, error, EPROTO, "metadata size %u", (unsigned)length);
  }
  status = wudf__message_limit_check(r, start + prefix_size, length, "message metadata", error);
  if (status != 0) return status;
  const uint8_t* metadata;
  status = wudf__fetch_exact(r, sequential, at + prefix_size, length, message->owner, &metadata,
                             "message metadata", error);
  if (status != 0) return status;
  message->metadata_size = length;
  message->prefix_size = prefix_size;

  struct wudf__fb_table root;
  if (wudf__fb_root(metadata, length, &root) != 0 ||
      wudf__fb_i16(&root, WUDF__MESSAGE_VERSION, 0, &message->version) != 0 ||
      wudf__fb_u8(&root, WUDF__MESSAGE_HEADER_TYPE, 0, &message->header_type) != 0 ||
      wudf__fb_i64(&root, WUDF__MESSAGE_BODY_LENGTH, 0, &message->body_length) != 0 ||
      wudf__fb_table_field(&root, WUDF__MESSAGE_HEADER, &message->header) != 1) {
    return wudf__reader_fail(r, error, EPROTO, "malformed Message flatbuffer");
  }
  if (message->version < WUDF__VERSION_V4 || message->version > WUDF__VERSION_V5) {
    return wudf__reader_fail(r, error, ENOTSUP,
                             "metadata version %d (only V4 and V5 are supported)",
                             message->version + 1);
  }
  if (message->body_length < 0) {
    return wudf__reader_fail(r, error, EPROTO, "negative body length");
  }
  uint64_t body_at = start + prefix_size + length;
  status = wudf__message_limit_check(r, body_at, (uint64_t)message->body_length,
                                     "message body", error);
  if (status != 0) return status;
  if ((uint64_t)message->body_length > SIZE_MAX / 2) {
    return wudf__reader_fail(r, error, EFBIG, "body too large");
  }
  return wudf__fetch_exact(r, sequential, body_at, (size_t)message->body_length, message->owner,
                           &message->body, "message body", error);
}

/* ---------------------------------------------------------- record batches */

struct wudf__decode {
  struct wudf__ipc_reader* r;
  struct wudf__ipc_owner* owner;
  struct wudf__fb_vector nodes, buffers, variadic;
  int has_variadic;
  size_t node_index, buffer_index, variadic_index;
  const uint8_t* body;
  int64_t body_length;
  int codec; /* -1: uncompressed */
  int version;
  int64_t decompressed_budget;
  char path[512];
};

static int wudf__decode_fail(struct wudf__decode* d, struct wudf_error* error, int code,
                             const char* format, ...) WUDF__PRINTF(4, 5);
static int wudf__decode_fail(struct wudf__decode* d, struct wudf_error* error, int code,
                             const char* format, ...) {
  char detail[700];
  va_list args;
  va_start(args, format);
  vsnprintf(detail, sizeof detail, format, args);
  va_end(args);
  return wudf__reader_fail(d->r, error, code, "%s: %s", d->path, detail);
}

static int wudf__next_node(struct wudf__decode* d, int64_t* length, int64_t* null_count,
                           struct wudf_error* error) {
  if (d->node_index >= d->nodes.count) {
    return wudf__decode_fail(d, error, EPROTO, "fewer field nodes than fields");
  }
  const uint8_t* node = wudf__fb_vector_element(&d->nodes, d->node_index++, 16);
  *length = wudf__le_i64(node);
  *null_count = wudf__le_i64(node + 8);
  if (*length < 0 || *null_count < 0 || *null_count > *length) {
    return wudf__decode_fail(d, error, EPROTO, "field node length %lld, null count %lld",
                             (long long)*length, (long long)*null_count);
  }
  return 0;
}

/* Takes the next buffer: `*data` (never NULL) and `*size`. Decompresses
 * and realigns as needed. */
static int wudf__next_buffer(struct wudf__decode* d, const uint8_t** data, int64_t* size,
                             const char* what, struct wudf_error* error) {
  if (d->buffer_index >= d->buffers.count) {
    return wudf__decode_fail(d, error, EPROTO, "fewer buffers than the types need (%s)", what);
  }
  const uint8_t* entry = wudf__fb_vector_element(&d->buffers, d->buffer_index++, 16);
  int64_t offset = wudf__le_i64(entry), length = wudf__le_i64(entry + 8);
  if (offset < 0 || length < 0 || offset > d->body_length || length > d->body_length - offset) {
    return wudf__decode_fail(d, error, EPROTO,
                             "%s buffer [%lld, +%lld) outside the body of %lld bytes", what,
                             (long long)offset, (long long)length, (long long)d->body_length);
  }
  const uint8_t* bytes = d->body + offset;
  if (length == 0) {
    *data = (const uint8_t*)wudf__empty_buffer;
    *size = 0;
    return 0;
  }
  if (d->codec >= 0) {
    if (length < 8) {
      return wudf__decode_fail(d, error, EPROTO, "compressed %s buffer of %lld bytes", what,
                               (long long)length);
    }
    int64_t plain = wudf__le_i64(bytes);
    bytes += 8;
    length -= 8;
    if (plain != -1) {
      if (plain < 0) {
        return wudf__decode_fail(d, error, EPROTO, "%s buffer: uncompressed length %lld", what,
                                 (long long)plain);
      }
      if (plain > d->decompressed_budget) {
        return wudf__decode_fail(d, error, EFBIG,
                                 "%s buffer: decompresses to %lld bytes, over the limit "
                                 "(max_decompressed_bytes)",
                                 what, (long long)plain);
      }
      d->decompressed_budget -= plain;
      if (plain == 0) {
        *data = (const uint8_t*)wudf__empty_buffer;
        *size = 0;
        return 0;
      }
      const char* why = "";
      if (wudf__ipc_check_frame(d->codec, bytes, (size_t)length, (size_t)plain, &why) != 0) {
        return wudf__decode_fail(d, error, EPROTO, "%s buffer: %s", what, why);
      }
      uint8_t* out = wudf__owner_alloc_raw(d->owner, (size_t)plain, 0);
      if (out == NULL) {
        return wudf__set_error(error, ENOMEM, "out of memory decompressing %lld bytes",
                               (long long)plain);
      }
      if (wudf__ipc_decompress(d->codec, bytes, (size_t)length, out, (size_t)plain, &why) != 0) {
        return wudf__decode_fail(d, error, EPROTO, "%s buffer: %s decompression failed: %s",
                                 what, d->codec == WUDF__CODEC_ZSTD ? "ZSTD" : "LZ4", why);
      }
      *data = out;
      *size = plain;
      return 0;
    }
  }
  if (((uintptr_t)bytes & 7) != 0) { /* misaligned: copy */
    uint8_t* copy = wudf__owner_alloc_raw(d->owner, (size_t)length, 0);
    if (copy == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
    memcpy(copy, bytes, (size_t)length);
    bytes = copy;
  }
  *data = bytes;
  *size = length;
  return 0;
}

static int64_t wudf__count_nulls(const uint8_t* bits, int64_t length) {
  int64_t set = 0, i = 0;
  for (; i + 8 <= length; i += 8) set += __builtin_popcount(bits[i / 8]);
  for (; i < length; i++) set += (bits[i / 8] >> (i % 8)) & 1;
  return length - set;
}

static int wudf__is_valid(const struct ArrowArray* a, int64_t i) {
  const uint8_t* bits = a->buffers[0];
  return bits == NULL || ((bits[i / 8] >> (i % 8)) & 1);
}

/* Bytes needed for `count` items of `width` bytes: -1 on overflow. */
static int64_t wudf__bytes_for(int64_t count, int64_t width) {
  int64_t bytes;
  if (__builtin_mul_overflow(count, width, &bytes)) return -1;
  return bytes;
}

/* Takes a buffer of at least `need` bytes (with its name in messages). */
static int wudf__sized_buffer(struct wudf__decode* d, int64_t need, const char* what,
                              const uint8_t** data, int64_t* size, struct wudf_error* error) {
  int status = wudf__next_buffer(d, data, size, what, error);
  if (status != 0) return status;
  if (need < 0 || *size < need) {
    return wudf__decode_fail(d, error, EPROTO, "%s buffer of %lld bytes, %lld needed", what,
                             (long long)*size, (long long)need);
  }
  return 0;
}

static int64_t wudf__offset_at(const uint8_t* offsets, int large, int64_t i) {
  return large ? wudf__le_i64(offsets + 8 * i) : wudf__le_i32(offsets + 4 * i);
}

/* Checks offsets[0..length] non-decreasing, starting at >= 0 and ending
 * at <= `limit`. */
static int wudf__check_offsets(struct wudf__decode* d, const uint8_t* offsets, int large,
                               int64_t length, int64_t limit, const char* limit_name,
                               struct wudf_error* error) {
  int64_t previous = wudf__offset_at(offsets, large, 0);
  if (previous < 0) {
    return wudf__decode_fail(d, error, EPROTO, "offsets: first offset %lld is negative",
                             (long long)previous);
  }
  for (int64_t i = 1; i <= length; i++) {
    int64_t next = wudf__offset_at(offsets, large, i);
    if (next < previous) {
      return wudf__decode_fail(d, error, EPROTO, "offsets: offset %lld (%lld) decreases from %lld",
                               (long long)i, (long long)next, (long long)previous);
    }
    previous = next;
  }
  if (previous > limit) {
    return wudf__decode_fail(d, error, EPROTO, "offsets: last offset %lld past the %s (%lld)",
                             (long long)previous, limit_name, (long long)limit);
  }
  return 0;
}

static int wudf__decode_array(struct wudf__decode* d, const struct wudf__ipc_field* field,
                              int depth, struct ArrowArray* out, struct wudf_error* error);

/* Allocates the pointer arrays of `out` in the owner. */
static int wudf__shape(struct wudf__decode* d, struct ArrowArray* out, int64_t n_buffers,
                       int64_t n_children, struct wudf_error* error) {
  out->n_buffers = n_buffers;
  out->n_children = n_children;
  out->buffers = wudf__owner_alloc(d->owner, (size_t)(n_buffers + 1) * sizeof(void*));
  out->children = wudf__owner_alloc(d->owner, (size_t)(n_children + 1) * sizeof(void*));
  struct ArrowArray* nodes =
      wudf__owner_alloc(d->owner, (size_t)(n_children + 1) * sizeof(struct ArrowArray));
  if (out->buffers == NULL || out->children == NULL || nodes == NULL) {
    return wudf__set_error(error, ENOMEM, "out of memory decoding a record batch");
  }
  for (int64_t i = 0; i < n_children; i++) out->children[i] = &nodes[i];
  out->release = wudf__internal_array_release;
  return 0;
}

static int wudf__decode_children(struct wudf__decode* d, const struct wudf__ipc_field* field,
                                 int depth, struct ArrowArray* out, struct wudf_error* error) {
  size_t saved = strlen(d->path);
  for (int64_t i = 0; i < field->n_children; i++) {
    const char* name = field->children[i].schema->name;
    snprintf(d->path + saved, sizeof d->path - saved, ".%s", *name ? name : "[child]");
    int status = wudf__decode_array(d, &field->children[i], depth + 1, out->children[i], error);
    if (status != 0) return status;
    d->path[saved] = '\0';
  }
  return 0;
}

/* Decodes the value (non-dictionary) layout of `field`. */
static int wudf__decode_layout(struct wudf__decode* d, const struct wudf__ipc_field* field,
                               int depth, int64_t length, int64_t null_count,
                               struct ArrowArray* out, struct wudf_error* error) {
  const struct wudf__format* f = &field->format;
  const uint8_t *validity = NULL, *data, *offsets;
  int64_t size, offsets_size;
  int status;
  int large = f->layout == WUDF__LAYOUT_LARGE_BINARY || f->layout == WUDF__LAYOUT_LARGE_LIST ||
              f->layout == WUDF__LAYOUT_LARGE_LIST_VIEW;
  int union_layout = f->layout == WUDF__LAYOUT_SPARSE_UNION || f->layout == WUDF__LAYOUT_DENSE_UNION;
  out->length = length;
  out->null_count = null_count;
  if (f->layout == WUDF__LAYOUT_NULL) {
    out->null_count = length;
    return wudf__shape(d, out, 0, 0, error);
  }
  if (f->layout == WUDF__LAYOUT_RUN_END) {
    if (null_count != 0) {
      return wudf__decode_fail(d, error, EPROTO, "run-end encoded null count %lld",
                               (long long)null_count);
    }
    status = wudf__shape(d, out, 0, 2, error);
    if (status == 0) status = wudf__decode_children(d, field, depth, out, error);
    if (status != 0) return status;
    const struct ArrowArray* ends = out->children[0];
    if (ends->null_count != 0) {
      return wudf__decode_fail(d, error, EPROTO, "run ends: nulls in the run ends");
    }
    if (out->children[1]->length < ends->length) {
      return wudf__decode_fail(d, error, EPROTO, "run ends: %lld runs, %lld values",
                               (long long)ends->length, (long long)out->children[1]->length);
    }
    if (length > 0 && ends->length == 0) {
      return wudf__decode_fail(d, error, EPROTO, "run ends: no runs for %lld rows",
                               (long long)length);
    }
    int64_t width = field->children[0].format.byte_width, previous = 0;
    const uint8_t* ends_data = ends->buffers[1];
    for (int64_t i = 0; i < ends->length; i++) {
      int64_t end = width == 2 ? wudf__le_i16(ends_data + 2 * i)
                  : width == 4 ? wudf__le_i32(ends_data + 4 * i)
                               : wudf__le_i64(ends_data + 8 * i);
      if (end <= previous) {
        return wudf__decode_fail(d, error, EPROTO,
                                 "run ends: run end %lld (%lld) not above the previous (%lld)",
                                 (long long)i, (long long)end, (long long)previous);
      }
      previous = end;
    }
    if (length > 0 && previous < length) {
      return wudf__decode_fail(d, error, EPROTO, "run ends: the runs end at %lld of %lld rows",
                               (long long)previous, (long long)length);
    }
    return 0;
  }
  /* Unions have no validity bitmap since V5; V4 wrote an unused one. */
  if (!union_layout || d->version < WUDF__VERSION_V5) {
    status = wudf__next_buffer(d, &validity, &size, "validity", error);
    if (status != 0) return status;
    if (union_layout) {
      validity = NULL;
    } else if (null_count > 0) {
      if (size < (length + 7) / 8) {
        return wudf__decode_fail(d, error, EPROTO,
                                 "validity buffer of %lld bytes for %lld rows", (long long)size,
                                 (long long)length);
      }
      int64_t counted = wudf__count_nulls(validity, length);
      if (counted != null_count) {
        return wudf__decode_fail(d, error, EPROTO,
                                 "null count: the node says %lld, the bitmap has %lld",
                                 (long long)null_count, (long long)counted);
      }
    } else {
      validity = NULL;
    }
  }
  if (union_layout && null_count != 0) {
    return wudf__decode_fail(d, error, EPROTO, "union null count %lld (unions have none)",
                             (long long)null_count);
  }
  switch (f->layout) {
    case WUDF__LAYOUT_BOOL:
    case WUDF__LAYOUT_FIXED: {
      int64_t need = f->layout == WUDF__LAYOUT_BOOL ? (length + 7) / 8
                                                    : wudf__bytes_for(length, f->byte_width);
      status = wudf__sized_buffer(d, need, "values", &data, &size, error);
      if (status != 0) return status;
      status = wudf__shape(d, out, 2, 0, error);
      if (status != 0) return status;
      out->buffers[0] = validity;
      out->buffers[1] = data;
      return 0;
    }
    case WUDF__LAYOUT_BINARY:
    case WUDF__LAYOUT_LARGE_BINARY: {
      status = wudf__sized_buffer(d, length == 0 ? 0 : wudf__bytes_for(length + 1, large ? 8 : 4),
                                  "offsets", &offsets, &offsets_size, error);
      if (status == 0) status = wudf__next_buffer(d, &data, &size, "data", error);
      if (status != 0) return status;
      if (length > 0) {
        status = wudf__check_offsets(d, offsets, large, length, size, "data buffer", error);
        if (status != 0) return status;
        if (f->utf8) {
          int64_t first = wudf__offset_at(offsets, large, 0);
          for (int64_t i = 0; i < length; i++) {
            int64_t end = wudf__offset_at(offsets, large, i + 1);
            size_t bad;
            if (!wudf__utf8_valid(data + first, (size_t)(end - first), &bad)) {
              return wudf__decode_fail(d, error, EPROTO, "utf8: row %lld is not valid UTF-8",
                                       (long long)i);
            }
            first = end;
          }
        }
      }
      status = wudf__shape(d, out, 3, 0, error);
      if (status != 0) return status;
      out->buffers[0] = validity;
      out->buffers[1] = offsets;
      out->buffers[2] = data;
      return 0;
    }
    case WUDF__LAYOUT_VIEW: {
      const uint8_t* views;
      status = wudf__sized_buffer(d, wudf__bytes_for(length, 16), "views", &views, &size, error);
      if (status != 0) return status;
      if (!d->has_variadic || d->variadic_index >= d->variadic.count) {
        return wudf__decode_fail(d, error, EPROTO, "no variadic buffer count for a view column");
      }
      int64_t count = wudf__le_i64(
          wudf__fb_vector_element(&d->variadic, d->variadic_index++, 8));
      if (count < 0 || (uint64_t)count > d->buffers.count - d->buffer_index) {
        return wudf__decode_fail(d, error, EPROTO, "variadic buffer count %lld", (long long)count);
      }
      status = wudf__shape(d, out, 3 + count, 0, error);
      if (status != 0) return status;
      int64_t* sizes = wudf__owner_alloc(d->owner, (size_t)(count + 1) * 8);
      if (sizes == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
      out->buffers[0] = validity;
      out->buffers[1] = views;
      for (int64_t k = 0; k < count; k++) {
        const uint8_t* bytes;
        status = wudf__next_buffer(d, &bytes, &sizes[k], "variadic data", error);
        if (status != 0) return status;
        out->buffers[2 + k] = bytes;
      }
      out->buffers[2 + count] = sizes;
      for (int64_t i = 0; i < length; i++) {
        const uint8_t* view = views + 16 * i;
        int32_t n = wudf__le_i32(view);
        const uint8_t* bytes = view + 4;
        if (n < 0) return wudf__decode_fail(d, error, EPROTO, "views: row %lld has length %d",
                                            (long long)i, (int)n);
        if (n > 12) {
          int32_t index = wudf__le_i32(view + 8), offset = wudf__le_i32(view + 12);
          if (index < 0 || index >= count || offset < 0 || n > sizes[index] - offset) {
            return wudf__decode_fail(d, error, EPROTO,
                                     "views: row %lld points outside its data buffer",
                                     (long long)i);
          }
          bytes = (const uint8_t*)out->buffers[2 + index] + offset;
          if (memcmp(bytes, view + 4, 4) != 0) {
            return wudf__decode_fail(d, error, EPROTO,
                                     "views: row %lld's prefix differs from its data",
                                     (long long)i);
          }
        }
        size_t bad;
        if (f->utf8 && wudf__is_valid(out, i) && !wudf__utf8_valid(bytes, (size_t)n, &bad)) {
          return wudf__decode_fail(d, error, EPROTO, "utf8: row %lld is not valid UTF-8",
                                   (long long)i);
        }
      }
      return 0;
    }
    case WUDF__LAYOUT_LIST:
    case WUDF__LAYOUT_LARGE_LIST:
    case WUDF__LAYOUT_MAP: {
      status = wudf__sized_buffer(d, length == 0 ? 0 : wudf__bytes_for(length + 1, large ? 8 : 4),
                                  "offsets", &offsets, &offsets_size, error);
      if (status == 0) status = wudf__shape(d, out, 2, 1, error);
      if (status == 0) status = wudf__decode_children(d, field, depth, out, error);
      if (status != 0) return status;
      if (length > 0) {
        status = wudf__check_offsets(d, offsets, large, length, out->children[0]->length,
                                     "child's length", error);
        if (status != 0) return status;
      }
      if (f->layout == WUDF__LAYOUT_MAP && out->children[0]->n_children == 2 &&
          out->children[0]->children[0]->null_count != 0) {
        return wudf__decode_fail(d, error, EPROTO, "map keys: null keys");
      }
      out->buffers[0] = validity;
      out->buffers[1] = offsets;
      return 0;
    }
    case WUDF__LAYOUT_LIST_VIEW:
    case WUDF__LAYOUT_LARGE_LIST_VIEW: {
      const uint8_t* sizes;
      int64_t need = wudf__bytes_for(length, large ? 8 : 4);
      status = wudf__sized_buffer(d, need, "offsets", &offsets, &offsets_size, error);
      if (status == 0) status = wudf__sized_buffer(d, need, "sizes", &sizes, &size, error);
      if (status == 0) status = wudf__shape(d, out, 3, 1, error);
      if (status == 0) status = wudf__decode_children(d, field, depth, out, error);
      if (status != 0) return status;
      out->buffers[0] = validity;
      out->buffers[1] = offsets;
      out->buffers[2] = sizes;
      int64_t child_length = out->children[0]->length;
      /* Every row, null or not: consumers (the gatherer too) follow them. */
      for (int64_t i = 0; i < length; i++) {
        int64_t start = wudf__offset_at(offsets, large, i), n = wudf__offset_at(sizes, large, i);
        if (start < 0 || n < 0 || start > child_length || n > child_length - start) {
          return wudf__decode_fail(d, error, EPROTO,
                                   "list view: row %lld [%lld, +%lld) outside the child of %lld",
                                   (long long)i, (long long)start, (long long)n,
                                   (long long)child_length);
        }
      }
      return 0;
    }
    case WUDF__LAYOUT_FIXED_LIST:
    case WUDF__LAYOUT_STRUCT: {
      status = wudf__shape(d, out, 1, field->n_children, error);
      if (status == 0) status = wudf__decode_children(d, field, depth, out, error);
      if (status != 0) return status;
      out->buffers[0] = validity;
      int64_t need = f->layout == WUDF__LAYOUT_STRUCT ? length
                                                      : wudf__bytes_for(length, f->list_size);
      for (int64_t i = 0; i < field->n_children; i++) {
        if (need < 0 || out->children[i]->length < need) {
          return wudf__decode_fail(d, error, EPROTO, "child %lld has %lld rows, %lld needed",
                                   (long long)i, (long long)out->children[i]->length,
                                   (long long)need);
        }
      }
      return 0;
    }
    case WUDF__LAYOUT_SPARSE_UNION:
    case WUDF__LAYOUT_DENSE_UNION: {
      int dense = f->layout == WUDF__LAYOUT_DENSE_UNION;
      const uint8_t* types;
      status = wudf__sized_buffer(d, length, "type ids", &types, &size, error);
      if (status == 0 && dense) {
        status = wudf__sized_buffer(d, wudf__bytes_for(length, 4), "offsets", &offsets,
                                    &offsets_size, error);
      }
      if (status == 0) status = wudf__shape(d, out, dense ? 2 : 1, field->n_children, error);
      if (status == 0) status = wudf__decode_children(d, field, depth, out, error);
      if (status != 0) return status;
      out->buffers[0] = types;
      if (dense) out->buffers[1] = offsets;
      int8_t child_of[WUDF__MAX_UNION_TYPES];
      memset(child_of, -1, sizeof child_of);
      for (int k = 0; k < f->type_id_count; k++) child_of[f->type_ids[k]] = (int8_t)k;
      for (int64_t i = 0; i < length; i++) {
        int8_t id = (int8_t)types[i];
        if (id < 0 || child_of[id] < 0) {
          return wudf__decode_fail(d, error, EPROTO, "union type id: row %lld has id %d",
                                   (long long)i, (int)id);
        }
        const struct ArrowArray* child = out->children[child_of[id]];
        if (dense) {
          int32_t at = wudf__le_i32(offsets + 4 * i);
          if (at < 0 || at >= child->length) {
            return wudf__decode_fail(d, error, EPROTO,
                                     "union offsets: row %lld offset %d outside child of %lld",
                                     (long long)i, (int)at, (long long)child->length);
          }
        } else if (child->length < length) {
          return wudf__decode_fail(d, error, EPROTO, "sparse union child shorter than the union");
        }
      }
      return 0;
    }
    default:
      return wudf__decode_fail(d, error, EPROTO, "unsupported layout %s",
                               wudf__layout_name(f->layout));
  }
}

static struct wudf__ipc_dictionary* wudf__find_dictionary(struct wudf__ipc_reader* r, int64_t id) {
  for (size_t i = 0; i < r->dictionary_count; i++) {
    if (r->dictionaries[i].id == id) return &r->dictionaries[i];
  }
  return NULL;
}

static int wudf__decode_array(struct wudf__decode* d, const struct wudf__ipc_field* field,
                              int depth, struct ArrowArray* out, struct wudf_error* error) {
  int64_t length = 0, null_count = 0;
  if (depth > WUDF__IPC_MAX_DEPTH) {
    return wudf__decode_fail(d, error, EPROTO, "nesting deeper than %d", WUDF__IPC_MAX_DEPTH);
  }
  int status = wudf__next_node(d, &length, &null_count, error);
  if (status != 0) return status;
  status = wudf__decode_layout(d, field, depth, length, null_count, out, error);
  if (status != 0 || !field->is_dictionary) return status;
  struct wudf__ipc_dictionary* dictionary = wudf__find_dictionary(d->r, field->dictionary_id);
  if (dictionary == NULL || dictionary->array == NULL) {
    return wudf__decode_fail(d, error, EPROTO, "no dictionary with id %lld before this batch",
                             (long long)field->dictionary_id);
  }
  int64_t limit = dictionary->array->length, width = field->format.byte_width;
  const uint8_t* indices = out->buffers[1];
  for (int64_t i = 0; i < length; i++) {
    if (!wudf__is_valid(out, i)) continue;
    uint64_t index;
    switch (width) {
      case 1: index = field->format.integer == 1 ? (uint64_t)(int64_t)(int8_t)indices[i] : indices[i]; break;
      case 2: index = field->format.integer == 1 ? (uint64_t)(int64_t)wudf__le_i16(indices + 2 * i)
                                                 : (uint16_t)wudf__le_i16(indices + 2 * i); break;
      case 4: index = field->format.integer == 1 ? (uint64_t)(int64_t)wudf__le_i32(indices + 4 * i)
                                                 : (uint32_t)wudf__le_i32(indices + 4 * i); break;
      default: index = (uint64_t)wudf__le_i64(indices + 8 * i); break;
    }
    if (index >= (uint64_t)limit) {
      return wudf__decode_fail(d, error, EPROTO,
                               "dictionary index: row %lld has index %lld, the dictionary %lld "
                               "values", (long long)i, (long long)index, (long long)limit);
    }
  }
  if (wudf__owner_depend(d->owner, dictionary->owner) != 0) {
    return wudf__set_error(error, ENOMEM, "out of memory");
  }
  out->dictionary = dictionary->array;
  return 0;
}

/* Prepares `d` for the RecordBatch table `batch` of `message`. */
static int wudf__decode_start(struct wudf__ipc_reader* r, const struct wudf__fb_table* batch,
                              const struct wudf__ipc_message* message, struct wudf__decode* d,
                              int64_t* length, struct wudf_error* error) {
  memset(d, 0, sizeof *d);
  d->r = r;
  d->owner = message->owner;
  d->body = message->body;
  d->body_length = message->body_length;
  d->version = message->version;
  d->codec = -1;
  d->decompressed_budget = r->options.max_decompressed_bytes;
  struct wudf__fb_table compression;
  int has_compression;
  if (wudf__fb_i64(batch, WUDF__BATCH_LENGTH, 0, length) != 0 ||
      wudf__fb_vector_field(batch, WUDF__BATCH_NODES, WUDF__FIELD_NODE_SIZE, &d->nodes) < 0 ||
      wudf__fb_vector_field(batch, WUDF__BATCH_BUFFERS, WUDF__BUFFER_SIZE, &d->buffers) < 0 ||
      (has_compression = wudf__fb_table_field(batch, WUDF__BATCH_COMPRESSION, &compression)) < 0 ||
      (d->has_variadic = wudf__fb_vector_field(batch, WUDF__BATCH_VARIADIC_COUNTS, 8,
                                               &d->variadic)) < 0) {
    return wudf__reader_fail(r, error, EPROTO, "malformed RecordBatch table");
  }
  if (*length < 0) return wudf__reader_fail(r, error, EPROTO, "negative batch length");
  if (has_compression) {
    uint8_t codec = 0, method = 0;
    if (wudf__fb_u8(&compression, WUDF__COMPRESSION_CODEC, 0, &codec) != 0 ||
        wudf__fb_u8(&compression, WUDF__COMPRESSION_METHOD, 0, &method) != 0) {
      return wudf__reader_fail(r, error, EPROTO, "malformed BodyCompression table");
    }
    if (codec > WUDF__CODEC_ZSTD || method != 0) {
      return wudf__reader_fail(r, error, ENOTSUP, "compression codec %d, method %d",
                               (int)codec, (int)method);
    }
    d->codec = codec;
  }
  return 0;
}

/* Decodes a DictionaryBatch message and installs it. Takes the message's
 * owner either way. */
static int wudf__apply_dictionary(struct wudf__ipc_reader* r, struct wudf__ipc_message* message,
                                  struct wudf_error* error) {
  int64_t id = 0, length;
  uint8_t delta = 0;
  struct wudf__fb_table data;
  struct wudf__decode d;
  if (wudf__fb_i64(&message->header, WUDF__DICTIONARY_ID, 0, &id) != 0 ||
      wudf__fb_u8(&message->header, WUDF__DICTIONARY_DELTA, 0, &delta) != 0 ||
      wudf__fb_table_field(&message->header, WUDF__DICTIONARY_DATA, &data) != 1) {
    return wudf__reader_fail(r, error, EPROTO, "malformed DictionaryBatch table");
  }
  struct wudf__ipc_dictionary* dictionary = wudf__find_dictionary(r, id);
  if (dictionary == NULL) {
    return wudf__reader_fail(r, error, EPROTO, "dictionary batch for unknown id %lld",
                             (long long)id);
  }
  int status = wudf__decode_start(r, &data, message, &d, &length, error);
  if (status != 0) return status;
  snprintf(d.path, sizeof d.path, "dictionary %lld", (long long)id);
  struct ArrowArray* array = wudf__owner_alloc(message->owner, sizeof *array);
  if (array == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  status = wudf__decode_array(&d, dictionary->value, 1, array, error);
  if (status != 0) return status;
  if (array->length != length) {
    return wudf__reader_fail(r, error, EPROTO, "dictionary %lld: length %lld, node says %lld",
                             (long long)id, (long long)length, (long long)array->length);
  }
  if (delta && dictionary->array != NULL) {
    /* Concatenate the old values and the delta into a new owner. */
    struct wudf__segment segments[2] = {{dictionary->array, 0, dictionary->array->length},
                                        {array, 0, array->length}};
    struct wudf__gather* gather = NULL;
    struct ArrowSchema schema_copy;
    struct wudf__ipc_owner* merged = wudf__owner_new();
    if (merged == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
    status = wudf__gather_new(dictionary->value->schema, segments, 2, &gather, error);
    if (status == 0) {
      status = wudf__plan_export(wudf__gather_plan(gather), NULL, &merged->held, &schema_copy,
                                 error);
      if (status == 0) schema_copy.release(&schema_copy);
    }
    wudf__gather_free(gather);
    if (status != 0) {
      wudf__owner_unref(merged);
      return wudf__error_prefix(error, status, "%s: message %lld: dictionary %lld delta",
                                r->input.name, (long long)r->message_index, (long long)id);
    }
    wudf__owner_unref(dictionary->owner);
    dictionary->owner = merged;
    dictionary->array = &merged->held;
    return 0;
  }
  wudf__owner_unref(dictionary->owner);
  dictionary->owner = message->owner;
  message->owner = NULL;
  dictionary->array = array;
  return 0;
}

/* Decodes a RecordBatch message into `out` (an exported struct array). */
static int wudf__decode_batch(struct wudf__ipc_reader* r, struct wudf__ipc_message* message,
                              struct ArrowArray* out, struct wudf_error* error) {
  struct wudf__decode d;
  int64_t length;
  int status = wudf__decode_start(r, &message->header, message, &d, &length, error);
  if (status != 0) return status;
  struct ArrowArray* root = wudf__owner_alloc(message->owner, sizeof *root);
  if (root == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  root->length = length;
  status = wudf__shape(&d, root, 1, r->root.n_children, error);
  if (status != 0) return status;
  snprintf(d.path, sizeof d.path, "record batch %lld: field", (long long)r->batch_index);
  size_t saved = strlen(d.path);
  for (int64_t i = 0; i < r->root.n_children; i++) {
    snprintf(d.path + saved, sizeof d.path - saved, " %s", r->root.children[i].schema->name);
    status = wudf__decode_array(&d, &r->root.children[i], 1, root->children[i], error);
    if (status != 0) return status;
    if (root->children[i]->length != length) {
      return wudf__decode_fail(&d, error, EPROTO, "column of %lld rows in a batch of %lld",
                               (long long)root->children[i]->length, (long long)length);
    }
  }
  r->batch_index++;
  if (wudf__view_export(root, message->owner, out) != 0) {
    return wudf__set_error(error, ENOMEM, "out of memory exporting a record batch");
  }
  return 0;
}

/* --------------------------------------------------------------- stream */

static void wudf__reader_free(struct wudf__ipc_reader* r) {
  if (r == NULL) return;
  for (size_t i = 0; i < r->dictionary_count; i++) wudf__owner_unref(r->dictionaries[i].owner);
  wudf__free(r->dictionaries);
  wudf__owner_unref(r->schema_owner);
  wudf__owner_unref(r->footer_owner);
  if (r->input.close_fd && r->input.fd >= 0) close(r->input.fd);
  wudf__free(r);
}

/* Reads the next record batch of the stream format: 0 with `out` set, or
 * 0 with out->release NULL at the end. */
static int wudf__stream_next(struct wudf__ipc_reader* r, struct ArrowArray* out,
                             struct wudf_error* error) {
  for (;;) {
    struct wudf__ipc_message message;
    int status = wudf__read_message(r, 1, 0, &message, error);
    if (status == 0 && message.end) {
      r->done = 1;
      wudf__owner_unref(message.owner);
      return 0;
    }
    if (status == 0) {
      switch (message.header_type) {
        case WUDF__HEADER_DICTIONARY_BATCH:
          status = wudf__apply_dictionary(r, &message, error);
          wudf__owner_unref(message.owner);
          if (status != 0) return status;
          continue;
        case WUDF__HEADER_RECORD_BATCH:
          status = wudf__decode_batch(r, &message, out, error);
          break;
        case WUDF__HEADER_SCHEMA:
          status = wudf__reader_fail(r, error, EPROTO, "a second schema message");
          break;
        default:
          status = wudf__reader_fail(r, error, ENOTSUP, "message type %d (tensors are not "
                                     "supported)", (int)message.header_type);
      }
    }
    wudf__owner_unref(message.owner);
    return status;
  }
}

/* Checks that the message read at a footer block is the one the block
 * describes (its metadata and body sizes), so blocks cannot make the
 * reader decode more bytes than the file holds. */
static int wudf__check_block(struct wudf__ipc_reader* r, const uint8_t* block,
                             const struct wudf__ipc_message* message, const char* what,
                             size_t index, struct wudf_error* error) {
  int32_t metadata_length = wudf__le_i32(block + 8);
  int64_t body_length = wudf__le_i64(block + 16);
  if ((int64_t)(message->prefix_size + message->metadata_size) != metadata_length ||
      message->body_length != body_length) {
    return wudf__reader_fail(r, error, EPROTO,
                             "footer %s block %zu says %d + %lld bytes, the message there has "
                             "%zu + %lld", what, index, (int)metadata_length,
                             (long long)body_length, message->prefix_size + message->metadata_size,
                             (long long)message->body_length);
  }
  return 0;
}

/* Reads the record batch of the file's next block. */
static int wudf__file_next(struct wudf__ipc_reader* r, struct ArrowArray* out,
                           struct wudf_error* error) {
  if (r->next_file_batch >= r->file_batches.count) {
    r->done = 1;
    return 0;
  }
  const uint8_t* block = wudf__fb_vector_element(&r->file_batches, r->next_file_batch++,
                                                 WUDF__BLOCK_SIZE);
  int64_t offset = wudf__le_i64(block);
  if (offset < 0) return wudf__reader_fail(r, error, EPROTO, "footer block offset %lld",
                                           (long long)offset);
  struct wudf__ipc_message message;
  int status = wudf__read_message(r, 0, (uint64_t)offset, &message, error);
  if (status == 0 && (message.end || message.header_type != WUDF__HEADER_RECORD_BATCH)) {
    status = wudf__reader_fail(r, error, EPROTO, "footer block %zu is not a record batch",
                               r->next_file_batch - 1);
  }
  if (status == 0) {
    status = wudf__check_block(r, block, &message, "record batch", r->next_file_batch - 1, error);
  }
  if (status == 0) status = wudf__decode_batch(r, &message, out, error);
  wudf__owner_unref(message.owner);
  return status;
}

static int wudf__stream_get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  struct wudf__ipc_reader* r = stream->private_data;
  if (r->failed_code) return r->failed_code;
  int status = wudf__schema_export(r->schema, NULL, out, &r->failure);
  return status;
}

static int wudf__stream_get_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct wudf__ipc_reader* r = stream->private_data;
  if (r->failed_code) return r->failed_code;
  memset(out, 0, sizeof *out);
  if (r->done) return 0;
  int status = r->file ? wudf__file_next(r, out, &r->failure)
                       : wudf__stream_next(r, out, &r->failure);
  if (status != 0) {
    r->failed_code = status;
    memset(out, 0, sizeof *out);
  }
  return status;
}

int wudf_ipc_read_progress(const struct ArrowArrayStream* stream, int64_t* done,
                           int64_t* total, struct wudf_error* error) {
  if (stream == NULL || stream->release == NULL || stream->get_next != wudf__stream_get_next ||
      done == NULL || total == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_ipc_read_progress: not an open stream of "
                                         "wudf_ipc_read_*, or a NULL out pointer");
  }
  const struct wudf__ipc_reader* r = stream->private_data;
  if (r->input.size < 0) {
    return wudf__set_error(error, ESPIPE, "%s: the input's size is not known", r->input.name);
  }
  int64_t at = (int64_t)r->input.position; /* the stream format reads in order */
  if (r->done) {
    at = r->input.size;
  } else if (r->file) {
    at = 0;
    if (r->next_file_batch > 0) {
      /* Blocks were checked against their messages when they were read. */
      const uint8_t* block = wudf__fb_vector_element(&r->file_batches, r->next_file_batch - 1,
                                                     WUDF__BLOCK_SIZE);
      at = wudf__le_i64(block) + wudf__le_i32(block + 8) + wudf__le_i64(block + 16);
    }
  }
  *total = r->input.size;
  *done = at < 0 ? 0 : at > r->input.size ? r->input.size : at;
  return 0;
}

static const char* wudf__stream_last_error(struct ArrowArrayStream* stream) {
  struct wudf__ipc_reader* r = stream->private_data;
  return r->failure.message[0] ? r->failure.message : NULL;
}

static void wudf__stream_release(struct ArrowArrayStream* stream) {
  wudf__reader_free(stream->private_data);
  stream->release = NULL;
}

/* Reads the footer of a file (its size known) and the dictionaries it
 * lists. */
static int wudf__open_file(struct wudf__ipc_reader* r, struct wudf_error* error) {
  int64_t size = r->input.size;
  const uint8_t* tail = NULL;
  if (size < 8 + 4 + 6) return wudf__reader_fail(r, error, EPROTO, "truncated file (%lld bytes)",
                                                 (long long)size);
  r->footer_owner = wudf__owner_new();
  if (r->footer_owner == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  int status = wudf__fetch_exact(r, 0, (uint64_t)size - 10, 10, r->footer_owner, &tail,
                                 "file trailer", error);
  if (status != 0) return status;
  if (memcmp(tail + 4, WUDF__IPC_MAGIC, 6) != 0) {
    return wudf__reader_fail(r, error, EPROTO, "the file does not end with ARROW1 (truncated?)");
  }
  int32_t footer_size = wudf__le_i32(tail);
  if (footer_size <= 0 || footer_size > size - 18) {
    return wudf__reader_fail(r, error, EPROTO, "footer size %d in a file of %lld bytes",
                             (int)footer_size, (long long)size);
  }
  const uint8_t* footer_bytes;
  status = wudf__fetch_exact(r, 0, (uint64_t)(size - 10 - footer_size), (size_t)footer_size,
                             r->footer_owner, &footer_bytes, "footer", error);
  if (status != 0) return status;
  struct wudf__fb_table footer, schema;
  struct wudf__fb_vector dictionaries;
  int has_dictionaries, has_batches;
  if (wudf__fb_root(footer_bytes, (size_t)footer_size, &footer) != 0 ||
      wudf__fb_table_field(&footer, WUDF__FOOTER_SCHEMA, &schema) != 1 ||
      (has_dictionaries = wudf__fb_vector_field(&footer, WUDF__FOOTER_DICTIONARIES,
                                                WUDF__BLOCK_SIZE, &dictionaries)) < 0 ||
      (has_batches = wudf__fb_vector_field(&footer, WUDF__FOOTER_BATCHES, WUDF__BLOCK_SIZE,
                                           &r->file_batches)) < 0) {
    return wudf__reader_fail(r, error, EPROTO, "malformed footer");
  }
  if (!has_batches) r->file_batches.count = 0;
  /* Blocks describe distinct messages: together they fit in the file. */
  uint64_t described = 0;
  for (int kind = 0; kind < 2; kind++) {
    const struct wudf__fb_vector* blocks = kind ? &r->file_batches : &dictionaries;
    for (size_t i = 0; (kind || has_dictionaries) && i < blocks->count; i++) {
      const uint8_t* block = wudf__fb_vector_element(blocks, i, WUDF__BLOCK_SIZE);
      int32_t metadata_length = wudf__le_i32(block + 8);
      int64_t body_length = wudf__le_i64(block + 16);
      if (metadata_length < 0 || body_length < 0 || body_length > size) {
        return wudf__reader_fail(r, error, EPROTO, "footer block sizes %d + %lld",
                                 (int)metadata_length, (long long)body_length);
      }
      described += (uint64_t)metadata_length + (uint64_t)body_length;
    }
  }
  if (described > (uint64_t)size) {
    return wudf__reader_fail(r, error, EPROTO,
                             "the footer's blocks describe %llu bytes, more than the file's %lld "
                             "(blocks overlap)", (unsigned long long)described, (long long)size);
  }
  status = wudf__read_schema(r, &schema, (size_t)footer_size, error);
  if (status != 0) return wudf__error_prefix(error, status, "footer schema");
  for (size_t i = 0; has_dictionaries && i < dictionaries.count; i++) {
    const uint8_t* block = wudf__fb_vector_element(&dictionaries, i, WUDF__BLOCK_SIZE);
    int64_t offset = wudf__le_i64(block);
    if (offset < 0) return wudf__reader_fail(r, error, EPROTO, "dictionary block offset %lld",
                                             (long long)offset);
    struct wudf__ipc_message message;
    status = wudf__read_message(r, 0, (uint64_t)offset, &message, error);
    if (status == 0 && (message.end || message.header_type != WUDF__HEADER_DICTIONARY_BATCH)) {
      status = wudf__reader_fail(r, error, EPROTO, "footer block %zu is not a dictionary", i);
    }
    if (status == 0) status = wudf__check_block(r, block, &message, "dictionary", i, error);
    if (status == 0) status = wudf__apply_dictionary(r, &message, error);
    wudf__owner_unref(message.owner);
    if (status != 0) return status;
  }
  return 0;
}

/* Opens the reader over its input: recognises the format and reads the
 * schema. Frees `r` on failure. */
static const struct wudf__field wudf__ipc_read_fields[] = {
    WUDF__FIELD(struct wudf_ipc_read_options, max_message_bytes),
    WUDF__FIELD(struct wudf_ipc_read_options, max_decompressed_bytes)};

static int wudf__reader_open(struct wudf__ipc_reader* r, const struct wudf_ipc_read_options* options,
                             struct ArrowArrayStream* out, struct wudf_error* error) {
  wudf_ipc_read_options_init(&r->options);
  if (options) {
    struct wudf_ipc_read_options given;
    wudf_ipc_read_options_init(&given);
    int status = wudf__versioned_read(&given, options, sizeof(given), wudf__ipc_read_fields,
                                      sizeof(wudf__ipc_read_fields) /
                                          sizeof(wudf__ipc_read_fields[0]),
                                      "struct wudf_ipc_read_options", error);
    if (status != 0) {
      wudf__reader_free(r);
      return status;
    }
    if (given.max_message_bytes > 0) r->options.max_message_bytes = given.max_message_bytes;
    if (given.max_decompressed_bytes > 0) {
      r->options.max_decompressed_bytes = given.max_decompressed_bytes;
    }
  }
  r->schema_owner = wudf__owner_new();
  if (r->schema_owner == NULL) {
    int status = wudf__set_error(error, ENOMEM, "out of memory opening %s", r->input.name);
    wudf__reader_free(r);
    return status;
  }
  /* The file magic: "ARROW1" and two bytes of padding. */
  const uint8_t* head = NULL;
  size_t got = 0;
  int status = 0;
  int magic = 0;
  if (r->input.memory || r->input.seekable) {
    status = wudf__input_fetch(&r->input, 0, 0, 8, r->schema_owner, &head, &got, error);
    magic = status == 0 && got >= 6 && memcmp(head, WUDF__IPC_MAGIC, 6) == 0;
  } else {
    /* A pipe: peek at the first bytes; later reads take them first. */
    uint8_t* peeked = r->input.peeked;
    while (r->input.peeked_size < 8) {
      ssize_t step = read(r->input.fd, peeked + r->input.peeked_size, 8 - r->input.peeked_size);
      if (step < 0 && errno == EINTR) continue;
      if (step < 0) {
        status = wudf__set_error(error, EIO, "%s: read failed: %s", r->input.name,
                                 strerror(errno));
        break;
      }
      if (step == 0) break;
      r->input.peeked_size += (size_t)step;
    }
    magic = status == 0 && r->input.peeked_size >= 6 && memcmp(peeked, WUDF__IPC_MAGIC, 6) == 0;
  }
  if (status == 0 && magic) {
    if (r->input.size < 0) {
      status = wudf__reader_fail(r, error, ENOTSUP,
                                 "the Arrow file format needs a seekable input (use the "
                                 "stream format for pipes)");
    } else {
      r->file = 1;
      status = wudf__open_file(r, error);
    }
  } else if (status == 0) {
    struct wudf__ipc_message message;
    status = wudf__read_message(r, 1, 0, &message, error);
    if (status == 0 && (message.end || message.header_type != WUDF__HEADER_SCHEMA)) {
      status = wudf__reader_fail(r, error, EPROTO,
                                 message.end ? "empty stream (no schema message)"
                                             : "the first message is not a schema (not an "
                                               "Arrow IPC stream?)");
    }
    if (status == 0) status = wudf__read_schema(r, &message.header, message.metadata_size, error);
    wudf__owner_unref(message.owner);
  }
  if (status != 0) {
    wudf__reader_free(r);
    return status;
  }
  out->get_schema = wudf__stream_get_schema;
  out->get_next = wudf__stream_get_next;
  out->get_last_error = wudf__stream_last_error;
  out->release = wudf__stream_release;
  out->private_data = r;
  return 0;
}

void wudf_ipc_read_options_init(struct wudf_ipc_read_options* options) {
  options->struct_size = sizeof(*options);
  options->max_message_bytes = WUDF_IPC_DEFAULT_MAX_MESSAGE;
  options->max_decompressed_bytes = WUDF_IPC_DEFAULT_MAX_DECOMPRESSED;
}

static struct wudf__ipc_reader* wudf__reader_new(const char* name) {
  struct wudf__ipc_reader* r = wudf__calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->input.fd = -1;
  r->input.size = -1;
  snprintf(r->input.name, sizeof r->input.name, "%s", name);
  return r;
}

int wudf_ipc_read_memory(const uint8_t* data, size_t size,
                         const struct wudf_ipc_read_options* options,
                         struct ArrowArrayStream* out, struct wudf_error* error) {
  if ((data == NULL && size) || out == NULL || size > INT64_MAX) {
    return wudf__set_error(error, EINVAL, "wudf_ipc_read_memory: invalid arguments");
  }
  struct wudf__ipc_reader* r = wudf__reader_new("<memory>");
  if (r == NULL) return wudf__set_error(error, ENOMEM, "wudf_ipc_read_memory: out of memory");
  static const uint8_t nothing[8];
  r->input.memory = data ? data : nothing;
  r->input.size = (int64_t)size;
  return wudf__reader_open(r, options, out, error);
}

/* Opens over a descriptor (`name` for messages); closes it on failure
 * when `close_fd`. */
static int wudf__read_descriptor(int fd, int close_fd, const char* name,
                                 const struct wudf_ipc_read_options* options,
                                 struct ArrowArrayStream* out, struct wudf_error* error) {
  struct wudf__ipc_reader* r = wudf__reader_new(name);
  if (r == NULL) {
    if (close_fd) close(fd);
    return wudf__set_error(error, ENOMEM, "%s: out of memory", name);
  }
  r->input.fd = fd;
  r->input.close_fd = close_fd;
  struct stat info;
  off_t here = lseek(fd, 0, SEEK_CUR);
  if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && here >= 0 && here <= info.st_size) {
    /* A regular file: random access from its current position. */
    r->input.seekable = 1;
    r->input.base = (uint64_t)here;
    r->input.size = (int64_t)info.st_size - here;
  }
  return wudf__reader_open(r, options, out, error);
}

int wudf_ipc_read_fd(int fd, const struct wudf_ipc_read_options* options,
                     struct ArrowArrayStream* out, struct wudf_error* error) {
  if (fd < 0 || out == NULL) return wudf__set_error(error, EINVAL, "wudf_ipc_read_fd: invalid arguments");
  char name[32];
  snprintf(name, sizeof name, "fd %d", fd);
  return wudf__read_descriptor(fd, 0, name, options, out, error);
}

int wudf_ipc_read_path(const char* path, const struct wudf_ipc_read_options* options,
                       struct ArrowArrayStream* out, struct wudf_error* error) {
  if (path == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "wudf_ipc_read_path: invalid arguments");
  }
  if (strcmp(path, "-") == 0) return wudf__read_descriptor(0, 0, "<stdin>", options, out, error);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wudf__set_error(error, errno, "%s: %s", path, strerror(errno));
  return wudf__read_descriptor(fd, 1, path, options, out, error);
}
