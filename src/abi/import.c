/*
 * import.c -- validation of a guest's result in linear memory and its
 * mirror as host structs (see import.h and docs/abi.md, section 5).
 *
 * Two walks over guest memory, both recursive and both bounded: the schema
 * walk (wudf__mirror_schema) checks every ArrowSchema node and builds host
 * ArrowSchema nodes whose strings point into guest memory; the array walk
 * (wudf__mirror_array) checks every ArrowArray node against its mirrored
 * schema node and builds host ArrowArray nodes whose buffers point into
 * guest memory. Layouts come from arrow/format.h; this file never switches
 * on format strings.
 *
 * Every node of the array tree is validated over its own whole extent,
 * [offset, offset + length), not only over the rows its parent reaches:
 * a zero-copy view hands children to consumers that may read them whole
 * (pyarrow's ListArray.values ignores the parent's offsets), so an
 * unchecked row of a child would be an out-of-memory read waiting to
 * happen. Parents then check that their children are long enough for
 * what they reach ("child length", "union offset", "run ends").
 *
 * A guest may share a node between several parents (a DAG): the mirror is
 * always a tree (shared nodes are mirrored once per parent, so children can
 * be moved out and released independently), and the total number of nodes
 * visited is bounded (WUDF__MAX_NODES), so sharing cannot blow up memory. A
 * node that is its own ancestor is a cycle. Time is bounded too: every loop
 * over guest bytes is charged to a budget of 4 x the memory size + 64 MiB
 * (a tree without sharing needs about 2 x at most), so neither a node
 * shared ten thousand times nor a million views of the same megabyte make
 * the host read more than that.
 *
 * Messages are "PATH: RULE: detail". RULE is one of these fixed names:
 *
 *   struct in memory  an ArrowSchema/ArrowArray pointer is null, or its 48/64
 *                     bytes are not inside linear memory
 *   released          a struct's release callback is null
 *   format            the format string is null, not NUL-terminated inside
 *                     memory within 127 bytes, or not a known format
 *   name              the name is not NUL-terminated inside memory within
 *                     4096 bytes
 *   metadata          the metadata blob is malformed, outside memory, or the
 *                     tree's metadata exceeds 1 MiB in total
 *   flags             unknown flag bits, DICTIONARY_ORDERED without a
 *                     dictionary, MAP_KEYS_SORTED on a non-map
 *   n_children        the child count differs from the type's (schema), or
 *                     from the schema's (array); a struct has more than 64
 *   children          the children pointer array is outside memory, or a
 *                     child pointer is null
 *   dictionary        a dictionary on a non-integer field (schema); an
 *                     array's dictionary present/absent unlike its schema's
 *   map entries       a map's child is not a struct of exactly two fields,
 *                     or has nulls
 *   depth             nesting deeper than WUDF__MAX_DEPTH (32; the root is
 *                     level 1, a dictionary is one more level)
 *   cycle             a struct is its own ancestor
 *   nodes             more than WUDF__MAX_NODES (10,000) nodes in the tree
 *   length            a negative or too large length, or not the length the
 *                     caller requires
 *   offset            a negative offset, or offset + length too large
 *   null_count        outside [-1, length]; positive without a validity
 *                     buffer; different from the bitmap's count; a null
 *                     array's count not its length
 *   n_buffers         not the buffer count the layout has (views: at least
 *                     3), or too many variadic buffers in the tree
 *   buffer            the buffers pointer array or a buffer is outside
 *                     memory, or a needed buffer is null
 *   offsets           an offset (or list-view size) is negative, offsets
 *                     decrease, or offset + size overflows
 *   utf8              a non-null value of a utf8 type is not valid UTF-8
 *   view              a binary/utf8 view has a negative length, a buffer
 *                     index or offset out of range, or a wrong prefix
 *   variadic sizes    a variadic buffer's declared size is negative
 *   union type id     a type id that the union's format does not declare
 *   union offset      a dense union offset is negative or not below its
 *                     child's length
 *   dictionary index  a valid index outside [0, dictionary length)
 *   run ends          run ends have nulls, are not positive and strictly
 *                     increasing, or end before offset + length; or the
 *                     run ends field is not int16/int32/int64
 *   child length      a child is shorter than the rows its parent reaches
 *   map keys          a map key is null
 *   size overflow     a size computation would overflow 64 bits
 *   budget            checking the tree would read more than 4 x the memory
 *                     size + 64 MiB (nodes shared many times, or views
 *                     overlapping the same bytes many times)
 */
#include "import.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../arrow/bits.h"
#include "../arrow/format.h"

/* Rule names (see the table above). */
#define WUDF__RULE_STRUCT "struct in memory"
#define WUDF__RULE_RELEASED "released"
#define WUDF__RULE_FORMAT "format"
#define WUDF__RULE_NAME "name"
#define WUDF__RULE_METADATA "metadata"
#define WUDF__RULE_FLAGS "flags"
#define WUDF__RULE_N_CHILDREN "n_children"
#define WUDF__RULE_CHILDREN "children"
#define WUDF__RULE_DICTIONARY "dictionary"
#define WUDF__RULE_MAP_ENTRIES "map entries"
#define WUDF__RULE_DEPTH "depth"
#define WUDF__RULE_CYCLE "cycle"
#define WUDF__RULE_NODES "nodes"
#define WUDF__RULE_LENGTH "length"
#define WUDF__RULE_OFFSET "offset"
#define WUDF__RULE_NULL_COUNT "null_count"
#define WUDF__RULE_N_BUFFERS "n_buffers"
#define WUDF__RULE_BUFFER "buffer"
#define WUDF__RULE_OFFSETS "offsets"
#define WUDF__RULE_UTF8 "utf8"
#define WUDF__RULE_VIEW "view"
#define WUDF__RULE_VARIADIC_SIZES "variadic sizes"
#define WUDF__RULE_UNION_TYPE_ID "union type id"
#define WUDF__RULE_UNION_OFFSET "union offset"
#define WUDF__RULE_DICTIONARY_INDEX "dictionary index"
#define WUDF__RULE_RUN_ENDS "run ends"
#define WUDF__RULE_CHILD_LENGTH "child length"
#define WUDF__RULE_MAP_KEYS "map keys"
#define WUDF__RULE_SIZE_OVERFLOW "size overflow"
#define WUDF__RULE_BUDGET "budget"

/* Bounds on what a guest may make the host walk. */
#define WUDF__MAX_NODES 10000                 /* schema nodes visited */
#define WUDF__MAX_NAME_BYTES 4096             /* a field name, NUL excluded */
#define WUDF__MAX_METADATA_BYTES (1u << 20)   /* metadata of a whole tree */
#define WUDF__MAX_INDEX ((int64_t)1 << 48)    /* offset + length of an array */
#define WUDF__MAX_VARIADIC (1 << 16)          /* variadic buffers of a tree */
#define WUDF__PATH_CAPACITY 400               /* bytes of a path in messages */
#define WUDF__PATH_COMPONENT 64               /* bytes of one name in a path */
#define WUDF__WORK_SLACK ((uint64_t)64 << 20) /* budget: bytes beyond 4 x memory */

/* ----------------------------------------------------------------- arena */

/* A chunk of the bump allocator below; `bytes` follows the header. */
struct wudf__arena_chunk {
  struct wudf__arena_chunk* next;
  size_t used;
  size_t capacity;
  _Alignas(16) unsigned char bytes[];
};

/* A bump allocator over funnel chunks: nodes get stable addresses as a walk
 * goes, and everything is freed at once. */
struct wudf__arena {
  struct wudf__arena_chunk* head;
};

/* Returns `size` zeroed bytes aligned to 16 from the arena, or NULL when out
 * of memory. Chunks grow geometrically up to 1 MiB, so a tree of n nodes
 * takes O(log n) allocations. */
static void* wudf__arena_alloc(struct wudf__arena* arena, size_t size) {
  size_t rounded;
  if (wudf__add_overflows(size, 15, &rounded)) return NULL;
  rounded &= ~(size_t)15;
  struct wudf__arena_chunk* chunk = arena->head;
  if (chunk == NULL || chunk->capacity - chunk->used < rounded) {
    size_t capacity = chunk == NULL ? 4096 : chunk->capacity * 2;
    if (capacity > ((size_t)1 << 20)) capacity = (size_t)1 << 20;
    if (capacity < rounded) capacity = rounded;
    size_t total;
    if (wudf__add_overflows(sizeof(struct wudf__arena_chunk), capacity, &total)) return NULL;
    struct wudf__arena_chunk* fresh = wudf__malloc(total);
    if (fresh == NULL) return NULL;
    fresh->next = chunk;
    fresh->used = 0;
    fresh->capacity = capacity;
    arena->head = fresh;
    chunk = fresh;
  }
  void* result = chunk->bytes + chunk->used;
  chunk->used += rounded;
  memset(result, 0, size);
  return result;
}

/* Frees every chunk of the arena and empties it. */
static void wudf__arena_free(struct wudf__arena* arena) {
  struct wudf__arena_chunk* chunk = arena->head;
  while (chunk != NULL) {
    struct wudf__arena_chunk* next = chunk->next;
    wudf__free(chunk);
    chunk = next;
  }
  arena->head = NULL;
}

/* ---------------------------------------------------------------- mirror */

/* A mirrored schema node: the host struct (first, so a struct ArrowSchema
 * pointer of the mirror is a pointer to its node) and its parsed format. */
struct wudf__mirror_schema_node {
  struct ArrowSchema schema;
  struct wudf__format format;
};

/* The mirrored arrays, shared by every node of a (taken) view: `live`
 * counts the nodes not yet released. */
struct wudf__mirror_arrays {
  atomic_llong live;
  void (*on_release)(void* context);
  void* context;
  struct wudf__arena arena;
  struct ArrowArray* root;
};

struct wudf__mirror {
  struct wudf__arena schema_arena;
  struct wudf__mirror_schema_node* root_schema;
  struct wudf__mirror_arrays* arrays; /* NULL until mirrored, or once taken */
  int taken;
};

/* The release callback of mirrored schema nodes. The nodes belong to the
 * mirror; releasing one only marks it released. */
static void wudf__mirror_schema_release(struct ArrowSchema* schema) { schema->release = NULL; }

/* Frees the shared array state and its nodes, without calling on_release. */
static void wudf__mirror_arrays_free(struct wudf__mirror_arrays* arrays) {
  if (arrays == NULL) return;
  wudf__arena_free(&arrays->arena);
  wudf__free(arrays);
}

/* The release callback of every mirrored array node (C Data Interface):
 * releases the children and dictionary still in place (those moved out
 * have release == NULL here), marks the node released, and when it was
 * the last live node of the view calls on_release and frees everything. */
static void wudf__mirror_array_release(struct ArrowArray* array) {
  struct wudf__mirror_arrays* arrays = array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    struct ArrowArray* child = array->children[i];
    if (child->release != NULL) child->release(child);
  }
  if (array->dictionary != NULL && array->dictionary->release != NULL) {
    array->dictionary->release(array->dictionary);
  }
  array->release = NULL;
  if (atomic_fetch_sub(&arrays->live, 1) == 1) {
    if (arrays->on_release != NULL) arrays->on_release(arrays->context);
    wudf__mirror_arrays_free(arrays);
  }
}

/* ------------------------------------------------------------------ walks */

/* The state of one walk (schema or array) over guest memory. */
struct wudf__walk {
  const struct wudf__guest_memory* memory;
  struct wudf_error* error;
  struct wudf__arena* arena;
  struct wudf__mirror_arrays* arrays; /* array walk: the shared state */
  int level;                          /* enum wudf__validation_level */
  int64_t nodes;                      /* nodes visited so far */
  uint64_t metadata_bytes;            /* metadata bytes read so far */
  int64_t variadic_buffers;           /* variadic buffers seen so far */
  uint64_t work;                      /* bytes the content checks read */
  uint64_t work_limit;                /* the budget of `work` */
  int depth;                          /* nodes on the current path */
  int max_depth;                      /* a caller's lower limit, or 0 */
  uint32_t ancestors[WUDF__MAX_DEPTH + 1];
  size_t path_length;
  char path[WUDF__PATH_CAPACITY];
};

/* Child labels besides child indices, for path components. */
#define WUDF__LABEL_ROOT (-2)
#define WUDF__LABEL_DICTIONARY (-1)

/* Fails the walk with EPROTO and "PATH: RULE: detail". */
static int wudf__reject(struct wudf__walk* walk, const char* rule, const char* format, ...)
    WUDF__PRINTF(3, 4);

static int wudf__reject(struct wudf__walk* walk, const char* rule, const char* format, ...) {
  if (walk->error == NULL) return EPROTO;
  char detail[512];
  va_list args;
  va_start(args, format);
  vsnprintf(detail, sizeof(detail), format, args);
  va_end(args);
  return wudf__set_error(walk->error, EPROTO, "%s: %s: %s", walk->path, rule, detail);
}

/* Fails the walk with ENOMEM. */
static int wudf__out_of_memory(struct wudf__walk* walk) {
  return wudf__set_error(walk->error, ENOMEM, "%s: out of memory mirroring the result",
                         walk->path);
}

/* Charges `bytes` of reading to the walk's budget; rejects past it. */
static int wudf__charge(struct wudf__walk* walk, uint64_t bytes) {
  if (bytes > walk->work_limit - walk->work) {
    return wudf__reject(walk, WUDF__RULE_BUDGET, "checking the result would read more than %"
                        PRIu64 " bytes (4 x linear memory + 64 MiB): nodes shared too often, "
                        "or views overlapping too much", walk->work_limit);
  }
  walk->work += bytes;
  return 0;
}

/* Returns the NUL-terminated string at guest offset `at` if its NUL lies
 * inside memory within `max_bytes` + 1 bytes (storing its length), else
 * NULL. `at` must not be 0. */
static const char* wudf__guest_cstring(const struct wudf__guest_memory* memory, uint32_t at,
                                       size_t max_bytes, size_t* length) {
  if (at == 0 || at >= memory->size) return NULL;
  uint64_t available = memory->size - at;
  size_t scan = available < (uint64_t)max_bytes + 1 ? (size_t)available : max_bytes + 1;
  const uint8_t* start = memory->base + at;
  const uint8_t* nul = memchr(start, 0, scan);
  if (nul == NULL) return NULL;
  *length = (size_t)(nul - start);
  return (const char*)start;
}

/* Appends `text` (`length` bytes) to the walk's path, for messages: at most
 * WUDF__PATH_COMPONENT bytes of it (cut at a character boundary, "..."
 * marking the cut), with bytes of invalid UTF-8 replaced by '?'. The path
 * itself stops growing at its capacity. */
static void wudf__path_append(struct wudf__walk* walk, const char* text, size_t length) {
  size_t cut = length;
  int truncated = 0;
  if (cut > WUDF__PATH_COMPONENT) {
    cut = WUDF__PATH_COMPONENT;
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--;
    truncated = 1;
  }
  size_t bad;
  int valid = wudf__utf8_valid((const uint8_t*)text, cut, &bad);
  for (size_t i = 0; i < cut && walk->path_length + 1 < sizeof(walk->path); i++) {
    unsigned char c = (unsigned char)text[i];
    walk->path[walk->path_length++] = (char)(!valid && c >= 0x80 ? '?' : c);
  }
  for (int i = 0; truncated && i < 3 && walk->path_length + 1 < sizeof(walk->path); i++) {
    walk->path[walk->path_length++] = '.';
  }
  walk->path[walk->path_length] = '\0';
}

/* Adds the component of a child to the path: ".NAME" when the child has a
 * non-empty name, else ".children[i]", or ".dictionary". Returns the path's
 * previous length, for wudf__path_pop. */
static size_t wudf__path_push(struct wudf__walk* walk, int64_t label, const char* name,
                              size_t name_length) {
  size_t saved = walk->path_length;
  if (label == WUDF__LABEL_ROOT) return saved;
  wudf__path_append(walk, ".", 1);
  if (label == WUDF__LABEL_DICTIONARY) {
    wudf__path_append(walk, "dictionary", 10);
  } else if (name != NULL && name_length > 0) {
    wudf__path_append(walk, name, name_length);
  } else {
    char text[40];
    int written = snprintf(text, sizeof(text), "children[%" PRId64 "]", label);
    wudf__path_append(walk, text, (size_t)written);
  }
  return saved;
}

static void wudf__path_pop(struct wudf__walk* walk, size_t saved) {
  walk->path_length = saved;
  walk->path[saved] = '\0';
}

/* Starts a walk's path with the caller's root name. */
static void wudf__path_start(struct wudf__walk* walk, const char* path) {
  walk->path_length = 0;
  walk->path[0] = '\0';
  if (path == NULL) path = "result";
  wudf__path_append(walk, path, strlen(path));
}

/* Checks that the struct of `size` bytes at `at` is inside memory, is not
 * an ancestor of itself and does not nest too deeply, then makes it the
 * innermost ancestor. `what` names the struct in messages. */
static int wudf__enter_node(struct wudf__walk* walk, uint32_t at, uint32_t size,
                            const char* what) {
  if (at == 0) return wudf__reject(walk, WUDF__RULE_STRUCT, "the %s pointer is null", what);
  if (!wudf__guest_range_ok(walk->memory, at, size)) {
    return wudf__reject(walk, WUDF__RULE_STRUCT, "the %s at %" PRIu32 " (%" PRIu32
                        " bytes) is outside linear memory (%" PRIu64 " bytes)",
                        what, at, size, walk->memory->size);
  }
  for (int i = 0; i < walk->depth; i++) {
    if (walk->ancestors[i] == at) {
      return wudf__reject(walk, WUDF__RULE_CYCLE, "the %s at %" PRIu32
                          " is its own ancestor (%d levels up)", what, at, walk->depth - i);
    }
  }
  if (walk->max_depth > 0 && walk->depth >= walk->max_depth) {
    /* Not a broken rule but the caller's limit. */
    return wudf__set_error(walk->error, EFBIG, "%s: nesting deeper than the caller's limit "
                           "of %d levels", walk->path, walk->max_depth);
  }
  if (walk->depth >= WUDF__MAX_DEPTH) {
    return wudf__reject(walk, WUDF__RULE_DEPTH, "nesting deeper than %d levels",
                        WUDF__MAX_DEPTH);
  }
  walk->ancestors[walk->depth++] = at;
  return 0;
}

/* ------------------------------------------------------------ schema walk */

/* Checks the metadata blob at `at` (not 0): int32 n >= 0, then n pairs of
 * (int32 length >= 0, bytes) for key and value, all inside memory and
 * within the tree's metadata budget. */
static int wudf__check_metadata(struct wudf__walk* walk, uint32_t at) {
  const struct wudf__guest_memory* memory = walk->memory;
  uint64_t cursor = at;
  if (!wudf__guest_range_ok(memory, cursor, 4)) {
    return wudf__reject(walk, WUDF__RULE_METADATA, "the metadata at %" PRIu32
                        " is outside linear memory", at);
  }
  int32_t pairs;
  memcpy(&pairs, memory->base + cursor, 4);
  cursor += 4;
  if (pairs < 0) {
    return wudf__reject(walk, WUDF__RULE_METADATA, "negative pair count %" PRId32, pairs);
  }
  uint64_t budget = WUDF__MAX_METADATA_BYTES - walk->metadata_bytes;
  for (int64_t i = 0; i < 2 * (int64_t)pairs; i++) {
    if (cursor - at > budget) break;
    if (!wudf__guest_range_ok(memory, cursor, 4)) {
      return wudf__reject(walk, WUDF__RULE_METADATA, "%s %" PRId64
                          " runs past the end of linear memory", i % 2 ? "value" : "key",
                          i / 2);
    }
    int32_t length;
    memcpy(&length, memory->base + cursor, 4);
    cursor += 4;
    if (length < 0) {
      return wudf__reject(walk, WUDF__RULE_METADATA, "%s %" PRId64 " has negative length %"
                          PRId32, i % 2 ? "value" : "key", i / 2, length);
    }
    if (!wudf__guest_range_ok(memory, cursor, (uint64_t)length)) {
      return wudf__reject(walk, WUDF__RULE_METADATA, "%s %" PRId64
                          " runs past the end of linear memory", i % 2 ? "value" : "key",
                          i / 2);
    }
    cursor += (uint64_t)length;
  }
  if (cursor - at > budget) {
    return wudf__reject(walk, WUDF__RULE_METADATA, "the tree's metadata exceeds %u bytes",
                        WUDF__MAX_METADATA_BYTES);
  }
  walk->metadata_bytes += cursor - at;
  return 0;
}

static int wudf__visit_schema(struct wudf__walk* walk, uint32_t at, int64_t label,
                              struct wudf__mirror_schema_node** out);

/* The checks of one schema node (its path component already pushed); see
 * wudf__visit_schema. */
static int wudf__visit_schema_node(struct wudf__walk* walk, uint32_t at,
                                   struct wudf__mirror_schema_node** out) {
  const struct wudf__guest_memory* memory = walk->memory;
  if (++walk->nodes > WUDF__MAX_NODES) {
    return wudf__reject(walk, WUDF__RULE_NODES, "more than %d schema nodes in the tree",
                        WUDF__MAX_NODES);
  }
  int status = wudf__enter_node(walk, at, WUDF__SCHEMA_SIZE, "ArrowSchema");
  if (status != 0) return status;
  if (wudf__load_u32(memory, at + WUDF__SCHEMA_RELEASE) == 0) {
    return wudf__reject(walk, WUDF__RULE_RELEASED, "the schema's release is null (no "
                        "result, or already released)");
  }

  /* Strings. */
  uint32_t format_at = wudf__load_u32(memory, at + WUDF__SCHEMA_FORMAT);
  size_t format_length = 0;
  const char* format = wudf__guest_cstring(memory, format_at, WUDF__MAX_FORMAT - 1,
                                           &format_length);
  if (format_at == 0) return wudf__reject(walk, WUDF__RULE_FORMAT, "the format is null");
  if (format == NULL) {
    return wudf__reject(walk, WUDF__RULE_FORMAT, "the format at %" PRIu32 " is not a "
                        "NUL-terminated string of at most %d bytes inside linear memory",
                        format_at, WUDF__MAX_FORMAT - 1);
  }
  struct wudf__format parsed;
  if (wudf__format_parse(format, &parsed) != 0) {
    char shown[WUDF__MAX_FORMAT];
    size_t bad;
    memcpy(shown, format, format_length + 1);
    if (!wudf__utf8_valid((const uint8_t*)shown, format_length, &bad)) {
      for (size_t i = 0; i < format_length; i++) {
        if ((unsigned char)shown[i] >= 0x80) shown[i] = '?';
      }
    }
    return wudf__reject(walk, WUDF__RULE_FORMAT, "unknown or malformed format '%s'", shown);
  }
  uint32_t name_at = wudf__load_u32(memory, at + WUDF__SCHEMA_NAME);
  size_t name_length = 0;
  const char* name = NULL;
  if (name_at != 0) {
    name = wudf__guest_cstring(memory, name_at, WUDF__MAX_NAME_BYTES, &name_length);
    if (name == NULL) {
      return wudf__reject(walk, WUDF__RULE_NAME, "the name at %" PRIu32 " is not a "
                          "NUL-terminated string of at most %d bytes inside linear memory",
                          name_at, WUDF__MAX_NAME_BYTES);
    }
  }
  uint32_t metadata_at = wudf__load_u32(memory, at + WUDF__SCHEMA_METADATA);
  if (metadata_at != 0) {
    status = wudf__check_metadata(walk, metadata_at);
    if (status != 0) return status;
  }

  /* Flags, children, dictionary. */
  uint32_t dictionary_at = wudf__load_u32(memory, at + WUDF__SCHEMA_DICTIONARY);
  int64_t flags = wudf__load_i64(memory, at + WUDF__SCHEMA_FLAGS);
  const int64_t known_flags =
      ARROW_FLAG_DICTIONARY_ORDERED | ARROW_FLAG_NULLABLE | ARROW_FLAG_MAP_KEYS_SORTED;
  if ((flags & ~known_flags) != 0) {
    return wudf__reject(walk, WUDF__RULE_FLAGS, "unknown flag bits 0x%" PRIx64,
                        (uint64_t)(flags & ~known_flags));
  }
  if ((flags & ARROW_FLAG_DICTIONARY_ORDERED) && dictionary_at == 0) {
    return wudf__reject(walk, WUDF__RULE_FLAGS, "DICTIONARY_ORDERED on a field that is "
                        "not dictionary-encoded");
  }
  if ((flags & ARROW_FLAG_MAP_KEYS_SORTED) && parsed.layout != WUDF__LAYOUT_MAP) {
    return wudf__reject(walk, WUDF__RULE_FLAGS, "MAP_KEYS_SORTED on a %s field",
                        wudf__layout_name(parsed.layout));
  }
  int64_t n_children = wudf__load_i64(memory, at + WUDF__SCHEMA_N_CHILDREN);
  if (parsed.n_children >= 0 ? n_children != parsed.n_children
                             : n_children < 0 || n_children > WUDF__MAX_FIELDS) {
    if (parsed.n_children >= 0) {
      return wudf__reject(walk, WUDF__RULE_N_CHILDREN, "%" PRId64 " children, a %s field "
                          "has %" PRId32, n_children, wudf__layout_name(parsed.layout),
                          parsed.n_children);
    }
    return wudf__reject(walk, WUDF__RULE_N_CHILDREN, "%" PRId64 " children, a struct has "
                        "0 to %d", n_children, WUDF__MAX_FIELDS);
  }
  uint32_t children_at = wudf__load_u32(memory, at + WUDF__SCHEMA_CHILDREN);
  if (n_children > 0 &&
      (children_at == 0 ||
       !wudf__guest_range_ok(memory, children_at, 4 * (uint64_t)n_children))) {
    return wudf__reject(walk, WUDF__RULE_CHILDREN, "the array of %" PRId64 " child "
                        "pointers at %" PRIu32 " is outside linear memory", n_children,
                        children_at);
  }
  for (int64_t i = 0; i < n_children; i++) {
    if (wudf__load_u32(memory, children_at + 4 * (uint64_t)i) == 0) {
      return wudf__reject(walk, WUDF__RULE_CHILDREN, "child %" PRId64 " is null", i);
    }
  }
  if (dictionary_at != 0 &&
      (parsed.layout != WUDF__LAYOUT_FIXED || parsed.integer == 0)) {
    return wudf__reject(walk, WUDF__RULE_DICTIONARY, "a dictionary on a field of format "
                        "'%s' (dictionary indices are integers)", format);
  }

  /* The mirror node, then its children and dictionary. */
  size_t bytes = sizeof(struct wudf__mirror_schema_node) +
                 (size_t)n_children * sizeof(struct ArrowSchema*);
  struct wudf__mirror_schema_node* node = wudf__arena_alloc(walk->arena, bytes);
  if (node == NULL) return wudf__out_of_memory(walk);
  node->format = parsed;
  struct ArrowSchema* schema = &node->schema;
  schema->format = format;
  schema->name = name;
  schema->metadata = metadata_at != 0 ? (const char*)memory->base + metadata_at : NULL;
  schema->flags = flags;
  schema->n_children = n_children;
  schema->children = n_children > 0 ? (struct ArrowSchema**)(node + 1) : NULL;
  schema->release = wudf__mirror_schema_release;
  for (int64_t i = 0; i < n_children; i++) {
    struct wudf__mirror_schema_node* child = NULL;
    status = wudf__visit_schema(walk, wudf__load_u32(memory, children_at + 4 * (uint64_t)i),
                                i, &child);
    if (status != 0) return status;
    schema->children[i] = &child->schema;
  }
  if (parsed.layout == WUDF__LAYOUT_MAP) {
    const struct wudf__mirror_schema_node* entries =
        (const struct wudf__mirror_schema_node*)schema->children[0];
    if (entries->format.layout != WUDF__LAYOUT_STRUCT || entries->schema.n_children != 2) {
      return wudf__reject(walk, WUDF__RULE_MAP_ENTRIES, "a map's child must be a struct of "
                          "2 fields (key, value), not format '%s' with %" PRId64 " children",
                          entries->schema.format, entries->schema.n_children);
    }
  }
  if (parsed.layout == WUDF__LAYOUT_RUN_END) {
    const struct wudf__mirror_schema_node* run_ends =
        (const struct wudf__mirror_schema_node*)schema->children[0];
    const struct wudf__format* f = &run_ends->format;
    if (f->layout != WUDF__LAYOUT_FIXED || f->integer != 1 || f->byte_width < 2 ||
        run_ends->schema.dictionary != NULL) {
      return wudf__reject(walk, WUDF__RULE_RUN_ENDS, "the run ends field must be int16, "
                          "int32 or int64, not format '%s'%s", run_ends->schema.format,
                          run_ends->schema.dictionary != NULL ? " with a dictionary" : "");
    }
  }
  if (dictionary_at != 0) {
    struct wudf__mirror_schema_node* dictionary = NULL;
    status = wudf__visit_schema(walk, dictionary_at, WUDF__LABEL_DICTIONARY, &dictionary);
    if (status != 0) return status;
    schema->dictionary = &dictionary->schema;
  }
  walk->depth--;
  *out = node;
  return 0;
}

/* Checks the schema node at `at` and its subtree and mirrors them into
 * `*out`. `label` is the node's index in its parent, or WUDF__LABEL_ROOT or
 * WUDF__LABEL_DICTIONARY; the path component is the node's name when it has
 * a readable non-empty one. */
static int wudf__visit_schema(struct wudf__walk* walk, uint32_t at, int64_t label,
                              struct wudf__mirror_schema_node** out) {
  const char* name = NULL;
  size_t name_length = 0;
  if (at != 0 && wudf__guest_range_ok(walk->memory, at, WUDF__SCHEMA_SIZE)) {
    uint32_t name_at = wudf__load_u32(walk->memory, at + WUDF__SCHEMA_NAME);
    name = wudf__guest_cstring(walk->memory, name_at, WUDF__MAX_NAME_BYTES, &name_length);
  }
  size_t saved = wudf__path_push(walk, label, name, name_length);
  int status = wudf__visit_schema_node(walk, at, out);
  if (status == 0) wudf__path_pop(walk, saved);
  return status;
}

int wudf__mirror_schema(const struct wudf__guest_memory* memory, uint32_t schema,
                        const char* path, struct wudf__mirror** out, struct wudf_error* error) {
  return wudf__mirror_schema_limited(memory, schema, path, WUDF__MAX_DEPTH, out, error);
}

int wudf__mirror_schema_limited(const struct wudf__guest_memory* memory, uint32_t schema,
                                const char* path, int max_depth, struct wudf__mirror** out,
                                struct wudf_error* error) {
  *out = NULL;
  struct wudf__mirror* mirror = wudf__calloc(1, sizeof(*mirror));
  if (mirror == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  struct wudf__walk* walk = wudf__calloc(1, sizeof(*walk));
  if (walk == NULL) {
    wudf__free(mirror);
    return wudf__set_error(error, ENOMEM, "out of memory");
  }
  walk->memory = memory;
  walk->error = error;
  walk->arena = &mirror->schema_arena;
  walk->max_depth = max_depth > 0 && max_depth < WUDF__MAX_DEPTH ? max_depth : 0;
  wudf__path_start(walk, path);
  int status = wudf__visit_schema(walk, schema, WUDF__LABEL_ROOT, &mirror->root_schema);
  wudf__free(walk);
  if (status != 0) {
    wudf__mirror_free(mirror);
    return status;
  }
  *out = mirror;
  return 0;
}

/* ------------------------------------------------------------- array walk */

/* The fields of a guest ArrowArray, as read from memory. */
struct wudf__array_fields {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  uint32_t buffers;
  uint32_t children;
  uint32_t dictionary;
};

/* Computes `rows` * `width` into `*bytes`; rejects with "size overflow". */
static int wudf__size_of(struct wudf__walk* walk, int64_t rows, int64_t width,
                         const char* what, uint64_t* bytes) {
  if (__builtin_mul_overflow((uint64_t)rows, (uint64_t)width, bytes)) {
    return wudf__reject(walk, WUDF__RULE_SIZE_OVERFLOW, "%s: %" PRId64 " x %" PRId64
                        " bytes overflows", what, rows, width);
  }
  return 0;
}

/* Resolves buffer `index` of the array whose buffer pointers are at
 * `buffers` in guest memory: it must hold `bytes` bytes inside memory, and
 * may be null only when `bytes` is 0. Stores the host address (or NULL).
 *
 * Sizes follow from offset + length even when length is 0: consumers such
 * as Arrow C++ compute a buffer's size that way (and read offsets[offset]
 * of an empty array, or refuse a null buffer of nonzero size). */
static int wudf__buffer(struct wudf__walk* walk, uint32_t buffers, int64_t index,
                        uint64_t bytes, const char* what, const uint8_t** out) {
  uint32_t at = wudf__load_u32(walk->memory, buffers + 4 * (uint64_t)index);
  if (at == 0) {
    if (bytes != 0) {
      return wudf__reject(walk, WUDF__RULE_BUFFER, "buffers[%" PRId64 "] (%s) is null but %"
                          PRIu64 " bytes are needed", index, what, bytes);
    }
    *out = NULL;
    return 0;
  }
  if (!wudf__guest_range_ok(walk->memory, at, bytes)) {
    return wudf__reject(walk, WUDF__RULE_BUFFER, "buffers[%" PRId64 "] (%s): %" PRIu64
                        " bytes at %" PRIu32 " are outside linear memory (%" PRIu64
                        " bytes)", index, what, bytes, at, walk->memory->size);
  }
  *out = walk->memory->base + at;
  return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* wudf__bits_count compiled with the POPCNT instruction (the x86-64
 * baseline lacks it, and the library routine the builtin falls back to is
 * several times slower); used when the CPU has it. */
__attribute__((target("popcnt"))) static int64_t wudf__bits_count_popcnt(const uint8_t* bits,
                                                                          int64_t start,
                                                                          int64_t count) {
  return wudf__bits_count(bits, start, count);
}
#endif

/* The number of nulls the validity bitmap `bits` (NULL: none) has over
 * [offset, offset + length). */
static int64_t wudf__bitmap_nulls(const uint8_t* bits, int64_t offset, int64_t length) {
  if (bits == NULL) return 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("popcnt")) {
    return length - wudf__bits_count_popcnt(bits, offset, length);
  }
#endif
  return length - wudf__bits_count(bits, offset, length);
}

/* Counts into `*nulls` the nulls of a mirrored array as its buffers say
 * (not its null_count, which STRUCTURE level does not check): the bitmap's
 * for layouts with one, every row of a null array, none for unions and
 * run-end arrays (whose nulls live in their children). */
static int wudf__physical_nulls(struct wudf__walk* walk, const struct ArrowArray* array,
                                uint8_t layout, int64_t* nulls) {
  *nulls = 0;
  if (layout == WUDF__LAYOUT_NULL) {
    *nulls = array->length;
  } else if (wudf__layout_has_validity(layout) && array->buffers[0] != NULL) {
    int status = wudf__charge(walk, ((uint64_t)array->length + 7) / 8);
    if (status != 0) return status;
    *nulls = wudf__bitmap_nulls(array->buffers[0], array->offset, array->length);
  }
  return 0;
}

/* Nonzero when some entry in (start, stop] of the offsets buffer is less
 * than the entry before it. Each comparison reads both entries, so there is
 * no dependency between iterations and compilers vectorize the loop. */
static int wudf__any_decrease(const uint8_t* offsets, int large, int64_t start, int64_t stop) {
  int decreased = 0;
  if (large) {
    for (int64_t i = start; i < stop; i++) {
      int64_t a, b;
      memcpy(&a, offsets + 8 * i, 8);
      memcpy(&b, offsets + 8 * i + 8, 8);
      decreased |= b < a;
    }
  } else {
    for (int64_t i = start; i < stop; i++) {
      int32_t a, b;
      memcpy(&a, offsets + 4 * i, 4);
      memcpy(&b, offsets + 4 * i + 4, 4);
      decreased |= b < a;
    }
  }
  return decreased;
}

/* Index of the first entry in (from, to] of the offsets buffer that is less
 * than the entry before it, or -1. Scans in blocks without branches, the
 * common case being "no decrease". */
static int64_t wudf__first_decrease(const uint8_t* offsets, int large, int64_t from,
                                    int64_t to) {
  const int64_t block = 4096;
  for (int64_t start = from; start < to; start += block) {
    int64_t stop = to - start > block ? start + block : to;
    if (!wudf__any_decrease(offsets, large, start, stop)) continue;
    for (int64_t i = start + 1; i <= stop; i++) {
      if (wudf__offset_get(offsets, large, i) < wudf__offset_get(offsets, large, i - 1)) {
        return i;
      }
    }
  }
  return -1;
}

/* Nonzero when the `size` bytes at `bytes` are all ASCII (word at a time). */
static int wudf__all_ascii(const uint8_t* bytes, uint64_t size) {
  uint64_t high = 0, i = 0;
  for (; i + 32 <= size; i += 32) {
    uint64_t w0, w1, w2, w3;
    memcpy(&w0, bytes + i, 8);
    memcpy(&w1, bytes + i + 8, 8);
    memcpy(&w2, bytes + i + 16, 8);
    memcpy(&w3, bytes + i + 24, 8);
    high |= w0 | w1 | w2 | w3;
  }
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    memcpy(&word, bytes + i, 8);
    high |= word;
  }
  for (; i < size; i++) high |= bytes[i];
  return (high & 0x8080808080808080ull) == 0;
}

/* Checks an offsets buffer of `length` + 1 entries from entry `offset`:
 * the first is >= 0 and none decreases. Stores the first and last. */
static int wudf__check_offsets(struct wudf__walk* walk, const uint8_t* offsets, int large,
                               int64_t offset, int64_t length, int64_t* first,
                               int64_t* last) {
  int status = wudf__charge(walk, ((uint64_t)length + 1) * (large ? 8 : 4));
  if (status != 0) return status;
  *first = wudf__offset_get(offsets, large, offset);
  if (*first < 0) {
    return wudf__reject(walk, WUDF__RULE_OFFSETS, "offsets[%" PRId64 "] = %" PRId64
                        " is negative", offset, *first);
  }
  int64_t decrease = wudf__first_decrease(offsets, large, offset, offset + length);
  if (decrease >= 0) {
    return wudf__reject(walk, WUDF__RULE_OFFSETS, "offsets[%" PRId64 "] = %" PRId64
                        " is less than offsets[%" PRId64 "] = %" PRId64, decrease,
                        wudf__offset_get(offsets, large, decrease), decrease - 1,
                        wudf__offset_get(offsets, large, decrease - 1));
  }
  *last = wudf__offset_get(offsets, large, offset + length);
  return 0;
}

/* Validity: buffer 0 of the layouts that have one. Checks it, the declared
 * null count against it (FULL) and fills the node's null_count. */
static int wudf__check_validity(struct wudf__walk* walk, const struct wudf__array_fields* f,
                                struct ArrowArray* node) {
  uint64_t bytes = ((uint64_t)(f->offset + f->length) + 7) / 8;
  uint32_t at = wudf__load_u32(walk->memory, f->buffers);
  if (at == 0) {
    if (f->null_count > 0) {
      return wudf__reject(walk, WUDF__RULE_NULL_COUNT, "%" PRId64 " nulls but no validity "
                          "buffer", f->null_count);
    }
    node->buffers[0] = NULL;
    node->null_count = 0;
    return 0;
  }
  const uint8_t* bits = NULL;
  int status = wudf__buffer(walk, f->buffers, 0, bytes, "validity", &bits);
  if (status != 0) return status;
  node->buffers[0] = bits;
  if (f->null_count >= 0 && walk->level != WUDF__VALIDATE_FULL) {
    node->null_count = f->null_count;
    return 0;
  }
  status = wudf__charge(walk, ((uint64_t)f->length + 7) / 8);
  if (status != 0) return status;
  int64_t nulls = wudf__bitmap_nulls(bits, f->offset, f->length);
  if (f->null_count >= 0 && nulls != f->null_count) {
    return wudf__reject(walk, WUDF__RULE_NULL_COUNT, "null_count is %" PRId64 " but the "
                        "validity bitmap has %" PRId64 " nulls", f->null_count, nulls);
  }
  node->null_count = nulls;
  return 0;
}

/* One zero offset: the offsets of an empty array whose guest left them null
 * (the C Data Interface wants one entry, and Arrow C++ reads it). */
static const int64_t wudf__zero_offsets = 0;

/* Resolves buffer 1, the offsets of binary, list and map layouts: offset +
 * length + 1 entries of `width` bytes. A null buffer is accepted for an
 * empty array at offset 0, and mirrored as wudf__zero_offsets. */
static int wudf__offsets_buffer(struct wudf__walk* walk, const struct wudf__array_fields* f,
                                int64_t width, const uint8_t** out) {
  uint64_t bytes;
  int status = wudf__size_of(walk, f->offset + f->length + 1, width, "offsets", &bytes);
  if (status != 0) return status;
  if (f->length == 0 && f->offset == 0 && wudf__load_u32(walk->memory, f->buffers + 4) == 0) {
    *out = (const uint8_t*)&wudf__zero_offsets;
    return 0;
  }
  return wudf__buffer(walk, f->buffers, 1, bytes, "offsets", out);
}

/* Checks that the `size` bytes of value `row` (at `bytes`) are UTF-8. */
static int wudf__check_utf8_value(struct wudf__walk* walk, const uint8_t* bytes,
                                  uint64_t size, int64_t row) {
  size_t bad;
  if (wudf__all_ascii(bytes, size) || wudf__utf8_valid(bytes, (size_t)size, &bad)) return 0;
  return wudf__reject(walk, WUDF__RULE_UTF8, "value %" PRId64 " is not valid UTF-8 (byte %zu"
                      " of %" PRIu64 ")", row, bad, size);
}

/* Binary and utf8, 32- or 64-bit offsets: validity, offsets, data. */
static int wudf__check_binary(struct wudf__walk* walk, const struct wudf__format* format,
                              const struct wudf__array_fields* f, struct ArrowArray* node) {
  int large = format->layout == WUDF__LAYOUT_LARGE_BINARY;
  int64_t width = large ? 8 : 4;
  const uint8_t* offsets = NULL;
  int status = wudf__offsets_buffer(walk, f, width, &offsets);
  if (status != 0) return status;
  node->buffers[1] = offsets;
  int64_t first = 0, last = 0;
  if (f->length > 0) {
    status = wudf__check_offsets(walk, offsets, large, f->offset, f->length, &first, &last);
    if (status != 0) return status;
  }
  const uint8_t* data = NULL;
  /* The data holds the bytes up to the last offset (Arrow C++ sizes it so). */
  status = wudf__buffer(walk, f->buffers, 2, (uint64_t)last, "data", &data);
  if (status != 0) return status;
  node->buffers[2] = data;
  if (!format->utf8 || walk->level != WUDF__VALIDATE_FULL || last == first) return 0;
  status = wudf__charge(walk, (uint64_t)(last - first));
  if (status != 0) return status;
  if (wudf__all_ascii(data + first, (uint64_t)(last - first))) return 0;
  status = wudf__charge(walk, (uint64_t)(last - first) + ((uint64_t)f->length + 1) * width);
  if (status != 0) return status;
  const uint8_t* bits = node->buffers[0];
  for (int64_t i = 0; i < f->length; i++) {
    int64_t row = f->offset + i;
    if (bits != NULL && !wudf__bit_get(bits, row)) continue;
    int64_t start = wudf__offset_get(offsets, large, row);
    int64_t stop = wudf__offset_get(offsets, large, row + 1);
    status = wudf__check_utf8_value(walk, data + start, (uint64_t)(stop - start), i);
    if (status != 0) return status;
  }
  return 0;
}

/* Nonzero for a UTF-8 continuation byte (10xxxxxx). */
static int wudf__continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

/* Checks that out-of-line view value `row`, `length` bytes at `offset` of
 * variadic buffer `index`, is UTF-8. Each buffer is checked as a whole once
 * (`states`, see wudf__check_views); when it is valid UTF-8, a value in it
 * is valid exactly when it starts and ends on character boundaries, so
 * views overlapping the same bytes cost O(1) each. Otherwise the value is
 * checked by itself, charged to the budget. */
static int wudf__check_view_utf8(struct wudf__walk* walk, const struct ArrowArray* node,
                                 const uint8_t* sizes, uint8_t* states, int32_t index,
                                 int32_t offset, int32_t length, int64_t row) {
  const uint8_t* data = node->buffers[2 + index];
  int64_t size;
  memcpy(&size, sizes + 8 * (int64_t)index, 8);
  size_t bad;
  if (states[index] == 0) {
    int status = wudf__charge(walk, (uint64_t)size);
    if (status != 0) return status;
    states[index] = wudf__all_ascii(data, (uint64_t)size) ||
                    wudf__utf8_valid(data, (size_t)size, &bad) ? 1 : 2;
  }
  if (states[index] == 1) {
    int64_t end = (int64_t)offset + length;
    if (wudf__continuation(data[offset]) || (end < size && wudf__continuation(data[end]))) {
      return wudf__reject(walk, WUDF__RULE_UTF8, "value %" PRId64 " is not valid UTF-8 (it "
                          "%s inside a character)", row,
                          wudf__continuation(data[offset]) ? "starts" : "ends");
    }
    return 0;
  }
  int status = wudf__charge(walk, (uint64_t)length);
  if (status != 0) return status;
  return wudf__check_utf8_value(walk, data + offset, (uint64_t)length, row);
}

/* The rows of a view array (see wudf__check_views): lengths, buffer indices
 * and ranges, and at FULL prefixes and UTF-8. */
static int wudf__check_view_rows(struct wudf__walk* walk, const struct wudf__format* format,
                                 const struct wudf__array_fields* f,
                                 const struct ArrowArray* node, uint8_t* buffer_states) {
  const uint8_t* views = node->buffers[1];
  const uint8_t* sizes = node->buffers[f->n_buffers - 1];
  int64_t variadic = f->n_buffers - 3;
  const uint8_t* bits = node->buffers[0];
  int full = walk->level == WUDF__VALIDATE_FULL;
  int status;
  for (int64_t i = 0; i < f->length; i++) {
    const uint8_t* view = views + 16 * (f->offset + i);
    int32_t length;
    memcpy(&length, view, 4);
    if (length < 0) {
      return wudf__reject(walk, WUDF__RULE_VIEW, "view %" PRId64 " has negative length %"
                          PRId32, i, length);
    }
    int check_utf8 = full && format->utf8 && (bits == NULL || wudf__bit_get(bits, f->offset + i));
    if (length <= 12) {
      if (check_utf8) {
        status = wudf__check_utf8_value(walk, view + 4, (uint64_t)length, i);
        if (status != 0) return status;
      }
      continue;
    }
    int32_t index, offset;
    memcpy(&index, view + 8, 4);
    memcpy(&offset, view + 12, 4);
    if (index < 0 || index >= variadic) {
      return wudf__reject(walk, WUDF__RULE_VIEW, "view %" PRId64 " refers to variadic "
                          "buffer %" PRId32 " of %" PRId64, i, index, variadic);
    }
    int64_t size;
    memcpy(&size, sizes + 8 * (int64_t)index, 8);
    if (offset < 0 || (int64_t)offset + length > size) {
      return wudf__reject(walk, WUDF__RULE_VIEW, "view %" PRId64 " covers bytes [%" PRId32
                          ", %" PRId64 ") of variadic buffer %" PRId32 ", which has %"
                          PRId64, i, offset, (int64_t)offset + length, index, size);
    }
    if (full && memcmp(view + 4, (const uint8_t*)node->buffers[2 + index] + offset, 4) != 0) {
      return wudf__reject(walk, WUDF__RULE_VIEW, "view %" PRId64 ": the prefix differs "
                          "from the data's first 4 bytes", i);
    }
    if (check_utf8) {
      status = wudf__check_view_utf8(walk, node, sizes, buffer_states, index, offset, length,
                                     i);
      if (status != 0) return status;
    }
  }
  return 0;
}

/* Binary and utf8 views: validity, views, variadic buffers, their sizes. */
static int wudf__check_views(struct wudf__walk* walk, const struct wudf__format* format,
                             const struct wudf__array_fields* f, struct ArrowArray* node) {
  uint64_t views_bytes = 0;
  int status = wudf__size_of(walk, f->offset + f->length, 16, "views", &views_bytes);
  const uint8_t* views = NULL;
  if (status == 0) status = wudf__buffer(walk, f->buffers, 1, views_bytes, "views", &views);
  if (status != 0) return status;
  node->buffers[1] = views;
  int64_t variadic = f->n_buffers - 3;
  const uint8_t* sizes = NULL;
  status = wudf__buffer(walk, f->buffers, f->n_buffers - 1, 8 * (uint64_t)variadic,
                        "variadic sizes", &sizes);
  if (status != 0) return status;
  node->buffers[f->n_buffers - 1] = sizes;
  for (int64_t i = 0; i < variadic; i++) {
    int64_t size;
    memcpy(&size, sizes + 8 * i, 8);
    if (size < 0) {
      return wudf__reject(walk, WUDF__RULE_VARIADIC_SIZES, "variadic buffer %" PRId64
                          " has negative size %" PRId64, i, size);
    }
    const uint8_t* data = NULL;
    status = wudf__buffer(walk, f->buffers, 2 + i, (uint64_t)size, "variadic data", &data);
    if (status != 0) return status;
    node->buffers[2 + i] = data;
  }
  status = wudf__charge(walk, 16 * (uint64_t)f->length);
  if (status != 0) return status;
  /* UTF-8 of out-of-line values: per variadic buffer, 0 not checked yet,
   * 1 valid UTF-8 as a whole, 2 not (see wudf__check_view_utf8). */
  uint8_t* buffer_states = NULL;
  if (walk->level == WUDF__VALIDATE_FULL && format->utf8 && variadic > 0) {
    buffer_states = wudf__calloc((size_t)variadic, 1);
    if (buffer_states == NULL) return wudf__out_of_memory(walk);
  }
  status = wudf__check_view_rows(walk, format, f, node, buffer_states);
  wudf__free(buffer_states);
  return status;
}

static int wudf__visit_array(struct wudf__walk* walk,
                             const struct wudf__mirror_schema_node* schema, uint32_t at,
                             int64_t label, int64_t expected_length, int64_t min_length,
                             struct ArrowArray** out);

/* Visits child `index` of the node being checked, whose guest children
 * pointers are at `children`, requiring `min_length` rows of it. */
static int wudf__visit_child(struct wudf__walk* walk,
                             const struct wudf__mirror_schema_node* schema, uint32_t children,
                             int64_t index, int64_t min_length, struct ArrowArray* node) {
  const struct wudf__mirror_schema_node* child_schema =
      (const struct wudf__mirror_schema_node*)schema->schema.children[index];
  uint32_t child_at = wudf__load_u32(walk->memory, children + 4 * (uint64_t)index);
  return wudf__visit_array(walk, child_schema, child_at, index, -1, min_length,
                           &node->children[index]);
}

/* Lists, large lists and maps: validity, offsets, then the child, which
 * must reach the last offset; a map's keys must have no nulls. */
static int wudf__check_list(struct wudf__walk* walk,
                            const struct wudf__mirror_schema_node* schema,
                            const struct wudf__array_fields* f, struct ArrowArray* node) {
  int large = schema->format.layout == WUDF__LAYOUT_LARGE_LIST;
  const uint8_t* offsets = NULL;
  int status = wudf__offsets_buffer(walk, f, large ? 8 : 4, &offsets);
  if (status != 0) return status;
  node->buffers[1] = offsets;
  int64_t first = 0, last = 0;
  if (f->length > 0) {
    status = wudf__check_offsets(walk, offsets, large, f->offset, f->length, &first, &last);
    if (status != 0) return status;
  }
  status = wudf__visit_child(walk, schema, f->children, 0, last, node);
  if (status != 0) return status;
  if (schema->format.layout == WUDF__LAYOUT_MAP) {
    /* Neither the entries nor the keys may be null (Arrow C++ aborts on
     * importing a map whose entries have nulls). */
    int64_t nulls;
    status = wudf__physical_nulls(walk, node->children[0], WUDF__LAYOUT_STRUCT, &nulls);
    if (status != 0) return status;
    if (nulls > 0 || node->children[0]->null_count != 0) {
      return wudf__reject(walk, WUDF__RULE_MAP_ENTRIES, "the entries have nulls");
    }
    const struct ArrowArray* keys = node->children[0]->children[0];
    const struct wudf__mirror_schema_node* keys_schema =
        (const struct wudf__mirror_schema_node*)schema->schema.children[0]->children[0];
    status = wudf__physical_nulls(walk, keys, keys_schema->format.layout, &nulls);
    if (status != 0) return status;
    if (nulls > 0 || keys->null_count != 0) {
      if (nulls == 0) nulls = keys->null_count;
      return wudf__reject(walk, WUDF__RULE_MAP_KEYS, "the keys have %" PRId64 " null%s",
                          nulls, nulls == 1 ? "" : "s");
    }
  }
  return 0;
}

/* List views (32- and 64-bit): validity, offsets, sizes; every row's
 * [offset, offset + size) lies inside the child. */
static int wudf__check_list_view(struct wudf__walk* walk,
                                 const struct wudf__mirror_schema_node* schema,
                                 const struct wudf__array_fields* f, struct ArrowArray* node) {
  int large = schema->format.layout == WUDF__LAYOUT_LARGE_LIST_VIEW;
  uint64_t bytes = 0;
  int status = wudf__size_of(walk, f->offset + f->length, large ? 8 : 4, "offsets", &bytes);
  const uint8_t *offsets = NULL, *sizes = NULL;
  if (status == 0) status = wudf__buffer(walk, f->buffers, 1, bytes, "offsets", &offsets);
  if (status == 0) status = wudf__buffer(walk, f->buffers, 2, bytes, "sizes", &sizes);
  if (status != 0) return status;
  node->buffers[1] = offsets;
  node->buffers[2] = sizes;
  status = wudf__charge(walk, 2 * (uint64_t)f->length * (large ? 8 : 4));
  if (status != 0) return status;
  int64_t reach = 0;
  for (int64_t i = 0; i < f->length; i++) {
    int64_t offset = wudf__offset_get(offsets, large, f->offset + i);
    int64_t size = wudf__offset_get(sizes, large, f->offset + i);
    int64_t end;
    if (offset < 0 || size < 0 || __builtin_add_overflow(offset, size, &end)) {
      return wudf__reject(walk, WUDF__RULE_OFFSETS, "row %" PRId64 ": offset %" PRId64
                          ", size %" PRId64 " (both must be >= 0, their sum in range)",
                          i, offset, size);
    }
    if (end > reach) reach = end;
  }
  return wudf__visit_child(walk, schema, f->children, 0, reach, node);
}

/* Unions: type ids (declared by the format), dense offsets inside their
 * children; sparse children at least offset + length long. */
static int wudf__check_union(struct wudf__walk* walk,
                             const struct wudf__mirror_schema_node* schema,
                             const struct wudf__array_fields* f, struct ArrowArray* node) {
  const struct wudf__format* format = &schema->format;
  int dense = format->layout == WUDF__LAYOUT_DENSE_UNION;
  int64_t end = f->offset + f->length;
  const uint8_t *type_ids = NULL, *offsets = NULL;
  int status = wudf__buffer(walk, f->buffers, 0, (uint64_t)end, "type ids", &type_ids);
  if (status != 0) return status;
  node->buffers[0] = type_ids;
  if (dense) {
    uint64_t bytes = 0;
    status = wudf__size_of(walk, end, 4, "offsets", &bytes);
    if (status == 0) status = wudf__buffer(walk, f->buffers, 1, bytes, "offsets", &offsets);
    if (status != 0) return status;
    node->buffers[1] = offsets;
  }
  int16_t child_of_id[WUDF__MAX_UNION_TYPES];
  for (int i = 0; i < WUDF__MAX_UNION_TYPES; i++) child_of_id[i] = -1;
  for (int32_t k = 0; k < format->type_id_count; k++) {
    child_of_id[(uint8_t)format->type_ids[k]] = (int16_t)k;
  }
  int64_t reach[WUDF__MAX_UNION_TYPES] = {0};
  status = wudf__charge(walk, (uint64_t)f->length * (dense ? 5 : 1));
  if (status != 0) return status;
  for (int64_t i = 0; i < f->length; i++) {
    int8_t id = (int8_t)type_ids[f->offset + i];
    if (id < 0 || child_of_id[id] < 0) {
      return wudf__reject(walk, WUDF__RULE_UNION_TYPE_ID, "row %" PRId64 " has type id %d, "
                          "which the format '%s' does not declare", i, id,
                          schema->schema.format);
    }
    if (dense) {
      int32_t offset;
      memcpy(&offset, offsets + 4 * (f->offset + i), 4);
      if (offset < 0) {
        return wudf__reject(walk, WUDF__RULE_UNION_OFFSET, "row %" PRId64 " has negative "
                            "offset %" PRId32, i, offset);
      }
      int16_t child = child_of_id[id];
      if (offset + (int64_t)1 > reach[child]) reach[child] = offset + (int64_t)1;
    }
  }
  for (int64_t k = 0; k < f->n_children; k++) {
    /* Sparse children: offset + length rows even when length is 0, as
     * Arrow C++ requires. */
    status = wudf__visit_child(walk, schema, f->children, k,
                               dense ? 0 : f->offset + f->length, node);
    if (status != 0) return status;
    if (dense && reach[k] > node->children[k]->length) {
      for (int64_t i = 0; i < f->length; i++) {
        int8_t id = (int8_t)type_ids[f->offset + i];
        int32_t offset;
        memcpy(&offset, offsets + 4 * (f->offset + i), 4);
        if (child_of_id[id] == k && offset >= node->children[k]->length) {
          return wudf__reject(walk, WUDF__RULE_UNION_OFFSET, "row %" PRId64 " has offset %"
                              PRId32 " into child %" PRId64 ", which has length %" PRId64,
                              i, offset, k, node->children[k]->length);
        }
      }
    }
  }
  return 0;
}

/* Run-end encoded: run ends without nulls, positive, strictly increasing,
 * reaching offset + length; values at least as long as the run ends. */
static int wudf__check_run_end(struct wudf__walk* walk,
                               const struct wudf__mirror_schema_node* schema,
                               const struct wudf__array_fields* f, struct ArrowArray* node) {
  int status = wudf__visit_child(walk, schema, f->children, 0, 0, node);
  if (status != 0) return status;
  const struct ArrowArray* run_ends = node->children[0];
  int64_t nulls;
  status = wudf__physical_nulls(walk, run_ends, WUDF__LAYOUT_FIXED, &nulls);
  if (status != 0) return status;
  if (run_ends->null_count != 0 || nulls != 0) {
    return wudf__reject(walk, WUDF__RULE_RUN_ENDS, "the run ends have nulls");
  }
  const struct wudf__mirror_schema_node* run_ends_schema =
      (const struct wudf__mirror_schema_node*)schema->schema.children[0];
  int64_t width = run_ends_schema->format.byte_width;
  status = wudf__charge(walk, (uint64_t)run_ends->length * (uint64_t)width);
  if (status != 0) return status;
  const uint8_t* values = run_ends->buffers[1];
  int64_t previous = 0;
  for (int64_t j = 0; j < run_ends->length; j++) {
    const uint8_t* at = values + width * (run_ends->offset + j);
    int64_t end;
    if (width == 2) {
      int16_t v;
      memcpy(&v, at, 2);
      end = v;
    } else if (width == 4) {
      int32_t v;
      memcpy(&v, at, 4);
      end = v;
    } else {
      memcpy(&end, at, 8);
    }
    if (end <= previous) {
      return wudf__reject(walk, WUDF__RULE_RUN_ENDS, j == 0
                          ? "run_ends[%" PRId64 "] = %" PRId64 " is not positive"
                          : "run_ends[%" PRId64 "] = %" PRId64 " does not exceed the one "
                            "before", j, end);
    }
    previous = end;
  }
  if (f->length > 0 && previous < f->offset + f->length) {
    return wudf__reject(walk, WUDF__RULE_RUN_ENDS, "the runs end at %" PRId64 ", before "
                        "offset + length = %" PRId64, previous, f->offset + f->length);
  }
  return wudf__visit_child(walk, schema, f->children, 1, run_ends->length, node);
}

/* Dictionary indices (FULL): every valid index in [0, dictionary length). */
static int wudf__check_indices(struct wudf__walk* walk, const struct wudf__format* format,
                               const struct wudf__array_fields* f, struct ArrowArray* node) {
  const uint8_t* bits = node->buffers[0];
  const uint8_t* values = node->buffers[1];
  int64_t limit = node->dictionary->length;
  int64_t width = format->byte_width;
  int is_signed = format->integer == 1;
  int status = wudf__charge(walk, (uint64_t)f->length * (uint64_t)width);
  if (status != 0) return status;
  for (int64_t i = 0; i < f->length; i++) {
    int64_t row = f->offset + i;
    if (bits != NULL && !wudf__bit_get(bits, row)) continue;
    const uint8_t* at = values + width * row;
    uint64_t index;
    int negative = 0;
    switch (width) {
      case 1: {
        uint8_t v = at[0];
        negative = is_signed && (v & 0x80);
        index = v;
        break;
      }
      case 2: {
        uint16_t v;
        memcpy(&v, at, 2);
        negative = is_signed && (v & 0x8000);
        index = v;
        break;
      }
      case 4: {
        uint32_t v;
        memcpy(&v, at, 4);
        negative = is_signed && (v & 0x80000000u);
        index = v;
        break;
      }
      default:
        memcpy(&index, at, 8);
        negative = is_signed && (index >> 63);
        break;
    }
    if (negative || index >= (uint64_t)limit) {
      return wudf__reject(walk, WUDF__RULE_DICTIONARY_INDEX, "row %" PRId64 " has index %s%"
                          PRIu64 ", the dictionary has %" PRId64 " values", i,
                          negative ? "(negative) " : "", index, limit);
    }
  }
  return 0;
}

/* Reads and checks the fields every array has: length, offset, null count
 * range, buffer and child counts and pointer arrays, dictionary presence. */
static int wudf__read_fields(struct wudf__walk* walk,
                             const struct wudf__mirror_schema_node* schema, uint32_t at,
                             int64_t expected_length, int64_t min_length,
                             struct wudf__array_fields* f) {
  const struct wudf__guest_memory* memory = walk->memory;
  const struct wudf__format* format = &schema->format;
  if (wudf__load_u32(memory, at + WUDF__ARRAY_RELEASE) == 0) {
    return wudf__reject(walk, WUDF__RULE_RELEASED, "the array's release is null (no result, "
                        "or already released)");
  }
  f->length = wudf__load_i64(memory, at + WUDF__ARRAY_LENGTH);
  f->null_count = wudf__load_i64(memory, at + WUDF__ARRAY_NULL_COUNT);
  f->offset = wudf__load_i64(memory, at + WUDF__ARRAY_OFFSET);
  f->n_buffers = wudf__load_i64(memory, at + WUDF__ARRAY_N_BUFFERS);
  f->n_children = wudf__load_i64(memory, at + WUDF__ARRAY_N_CHILDREN);
  f->buffers = wudf__load_u32(memory, at + WUDF__ARRAY_BUFFERS);
  f->children = wudf__load_u32(memory, at + WUDF__ARRAY_CHILDREN);
  f->dictionary = wudf__load_u32(memory, at + WUDF__ARRAY_DICTIONARY);
  if (f->length < 0 || f->length > WUDF__MAX_INDEX) {
    return wudf__reject(walk, WUDF__RULE_LENGTH, "length %" PRId64 " is outside [0, 2^48]",
                        f->length);
  }
  if (expected_length >= 0 && f->length != expected_length) {
    return wudf__reject(walk, WUDF__RULE_LENGTH, "length is %" PRId64 ", expected %" PRId64,
                        f->length, expected_length);
  }
  if (f->offset < 0 || f->offset > WUDF__MAX_INDEX - f->length) {
    return wudf__reject(walk, WUDF__RULE_OFFSET, "offset %" PRId64 " is negative or offset "
                        "+ length exceeds 2^48", f->offset);
  }
  if (f->length < min_length) {
    return wudf__reject(walk, WUDF__RULE_CHILD_LENGTH, "length %" PRId64 " is less than the %"
                        PRId64 " rows the parent reaches", f->length, min_length);
  }
  if (f->null_count < -1 || f->null_count > f->length) {
    return wudf__reject(walk, WUDF__RULE_NULL_COUNT, "null_count %" PRId64 " is outside [-1, "
                        "%" PRId64 "]", f->null_count, f->length);
  }
  if (format->layout == WUDF__LAYOUT_VIEW) {
    if (f->n_buffers < 3 || f->n_buffers - 3 > WUDF__MAX_VARIADIC - walk->variadic_buffers) {
      return wudf__reject(walk, WUDF__RULE_N_BUFFERS, "%" PRId64 " buffers, a view array has "
                          "3 + its variadic buffers (at most %d in a tree)", f->n_buffers,
                          WUDF__MAX_VARIADIC);
    }
    walk->variadic_buffers += f->n_buffers - 3;
  } else if (f->n_buffers != format->n_buffers) {
    return wudf__reject(walk, WUDF__RULE_N_BUFFERS, "%" PRId64 " buffers, a %s array has %"
                        PRId32, f->n_buffers, wudf__layout_name(format->layout),
                        format->n_buffers);
  }
  if (f->n_children != schema->schema.n_children) {
    return wudf__reject(walk, WUDF__RULE_N_CHILDREN, "%" PRId64 " children, the schema has %"
                        PRId64, f->n_children, schema->schema.n_children);
  }
  if (f->n_children > 0) {
    if (f->children == 0 ||
        !wudf__guest_range_ok(memory, f->children, 4 * (uint64_t)f->n_children)) {
      return wudf__reject(walk, WUDF__RULE_CHILDREN, "the array of %" PRId64 " child "
                          "pointers at %" PRIu32 " is outside linear memory", f->n_children,
                          f->children);
    }
    for (int64_t i = 0; i < f->n_children; i++) {
      if (wudf__load_u32(memory, f->children + 4 * (uint64_t)i) == 0) {
        return wudf__reject(walk, WUDF__RULE_CHILDREN, "child %" PRId64 " is null", i);
      }
    }
  }
  if ((f->dictionary != 0) != (schema->schema.dictionary != NULL)) {
    return wudf__reject(walk, WUDF__RULE_DICTIONARY, f->dictionary != 0
                        ? "the array has a dictionary, its schema has none"
                        : "the schema is dictionary-encoded, the array has no dictionary");
  }
  if (f->n_buffers > 0 &&
      (f->buffers == 0 ||
       !wudf__guest_range_ok(memory, f->buffers, 4 * (uint64_t)f->n_buffers))) {
    return wudf__reject(walk, WUDF__RULE_BUFFER, "the array of %" PRId64 " buffer pointers "
                        "at %" PRIu32 " is outside linear memory", f->n_buffers, f->buffers);
  }
  return 0;
}

/* The buffers and children of one array node, per layout (the node's
 * fields checked; its host node allocated). */
static int wudf__check_layout(struct wudf__walk* walk,
                              const struct wudf__mirror_schema_node* schema,
                              const struct wudf__array_fields* f, struct ArrowArray* node) {
  const struct wudf__format* format = &schema->format;
  uint8_t layout = format->layout;
  int status;
  if (wudf__layout_has_validity(layout)) {
    status = wudf__check_validity(walk, f, node);
    if (status != 0) return status;
  } else if (layout == WUDF__LAYOUT_NULL) {
    if (f->null_count != -1 && f->null_count != f->length) {
      return wudf__reject(walk, WUDF__RULE_NULL_COUNT, "null_count %" PRId64 " in a null "
                          "array of length %" PRId64, f->null_count, f->length);
    }
    node->null_count = f->length;
  } else {
    if (f->null_count > 0) {
      return wudf__reject(walk, WUDF__RULE_NULL_COUNT, "null_count %" PRId64 ", a %s array "
                          "has no validity buffer", f->null_count, wudf__layout_name(layout));
    }
    node->null_count = 0;
  }
  int64_t end = f->offset + f->length;
  /* Fixed-size list children: N rows per row up to offset + length (none
   * for an empty array, as Arrow C++ has it). */
  int64_t extent = f->length == 0 ? 0 : end;
  uint64_t bytes = 0;
  const uint8_t* buffer = NULL;
  switch (layout) {
    case WUDF__LAYOUT_NULL:
      return 0;
    case WUDF__LAYOUT_BOOL:
      status = wudf__buffer(walk, f->buffers, 1, ((uint64_t)end + 7) / 8, "values", &buffer);
      node->buffers[1] = buffer;
      return status;
    case WUDF__LAYOUT_FIXED:
      status = wudf__size_of(walk, end, format->byte_width, "values", &bytes);
      if (status == 0) status = wudf__buffer(walk, f->buffers, 1, bytes, "values", &buffer);
      node->buffers[1] = buffer;
      return status;
    case WUDF__LAYOUT_BINARY:
    case WUDF__LAYOUT_LARGE_BINARY:
      return wudf__check_binary(walk, format, f, node);
    case WUDF__LAYOUT_VIEW:
      return wudf__check_views(walk, format, f, node);
    case WUDF__LAYOUT_LIST:
    case WUDF__LAYOUT_LARGE_LIST:
    case WUDF__LAYOUT_MAP:
      return wudf__check_list(walk, schema, f, node);
    case WUDF__LAYOUT_LIST_VIEW:
    case WUDF__LAYOUT_LARGE_LIST_VIEW:
      return wudf__check_list_view(walk, schema, f, node);
    case WUDF__LAYOUT_FIXED_LIST: {
      int64_t child_rows;
      if (__builtin_mul_overflow(extent, format->list_size, &child_rows)) {
        return wudf__reject(walk, WUDF__RULE_SIZE_OVERFLOW, "(offset + length) x list size "
                            "= %" PRId64 " x %" PRId64 " overflows", extent, format->list_size);
      }
      return wudf__visit_child(walk, schema, f->children, 0, child_rows, node);
    }
    case WUDF__LAYOUT_STRUCT:
      for (int64_t i = 0; i < f->n_children; i++) {
        /* offset + length rows even when length is 0, as Arrow C++ requires. */
        status = wudf__visit_child(walk, schema, f->children, i, f->offset + f->length, node);
        if (status != 0) return status;
      }
      return 0;
    case WUDF__LAYOUT_SPARSE_UNION:
    case WUDF__LAYOUT_DENSE_UNION:
      return wudf__check_union(walk, schema, f, node);
    case WUDF__LAYOUT_RUN_END:
      return wudf__check_run_end(walk, schema, f, node);
    default:
      return wudf__reject(walk, WUDF__RULE_FORMAT, "no layout for format '%s'",
                          schema->schema.format);
  }
}

/* The checks of one array node (its path component already pushed); see
 * wudf__visit_array. */
static int wudf__visit_array_node(struct wudf__walk* walk,
                                  const struct wudf__mirror_schema_node* schema, uint32_t at,
                                  int64_t expected_length, int64_t min_length,
                                  struct ArrowArray** out) {
  int status = wudf__enter_node(walk, at, WUDF__ARRAY_SIZE, "ArrowArray");
  if (status != 0) return status;
  struct wudf__array_fields f;
  status = wudf__read_fields(walk, schema, at, expected_length, min_length, &f);
  if (status != 0) return status;
  /* The host node: the struct, its buffer pointers (at least one slot, so
   * `buffers` is never NULL), its child pointers. */
  size_t buffer_slots = f.n_buffers > 0 ? (size_t)f.n_buffers : 1;
  size_t bytes = sizeof(struct ArrowArray) +
                 (buffer_slots + (size_t)f.n_children) * sizeof(void*);
  struct ArrowArray* node = wudf__arena_alloc(walk->arena, bytes);
  if (node == NULL) return wudf__out_of_memory(walk);
  walk->nodes++;
  const void** buffers = (const void**)(node + 1);
  node->length = f.length;
  node->null_count = f.null_count;
  node->offset = f.offset;
  node->n_buffers = f.n_buffers;
  node->n_children = f.n_children;
  node->buffers = buffers;
  node->children = f.n_children > 0 ? (struct ArrowArray**)(buffers + buffer_slots) : NULL;
  node->dictionary = NULL;
  node->release = wudf__mirror_array_release;
  node->private_data = walk->arrays;
  status = wudf__check_layout(walk, schema, &f, node);
  if (status != 0) return status;
  if (f.dictionary != 0) {
    const struct wudf__mirror_schema_node* dictionary_schema =
        (const struct wudf__mirror_schema_node*)schema->schema.dictionary;
    status = wudf__visit_array(walk, dictionary_schema, f.dictionary, WUDF__LABEL_DICTIONARY,
                               -1, 0, &node->dictionary);
    if (status != 0) return status;
    if (walk->level == WUDF__VALIDATE_FULL) {
      status = wudf__check_indices(walk, &schema->format, &f, node);
      if (status != 0) return status;
    }
  }
  walk->depth--;
  *out = node;
  return 0;
}

/* Checks the array node at `at` against its mirrored schema node and
 * mirrors it with its subtree into `*out`. `label` as for schemas (the path
 * component comes from the schema's name); `expected_length` >= 0 requires
 * that length; the length must be at least `min_length` (what the parent
 * reaches). */
static int wudf__visit_array(struct wudf__walk* walk,
                             const struct wudf__mirror_schema_node* schema, uint32_t at,
                             int64_t label, int64_t expected_length, int64_t min_length,
                             struct ArrowArray** out) {
  const char* name = schema->schema.name;
  size_t saved = wudf__path_push(walk, label, name, name != NULL ? strlen(name) : 0);
  int status = wudf__visit_array_node(walk, schema, at, expected_length, min_length, out);
  if (status == 0) wudf__path_pop(walk, saved);
  return status;
}

int wudf__mirror_array(struct wudf__mirror* mirror, const struct wudf__guest_memory* memory,
                       uint32_t array, int64_t length, int level, const char* path,
                       struct wudf_error* error) {
  if (mirror->taken) {
    return wudf__set_error(error, EINVAL, "the mirror's array was already taken");
  }
  wudf__mirror_arrays_free(mirror->arrays);
  mirror->arrays = NULL;
  struct wudf__mirror_arrays* arrays = wudf__calloc(1, sizeof(*arrays));
  struct wudf__walk* walk = wudf__calloc(1, sizeof(*walk));
  if (arrays == NULL || walk == NULL) {
    wudf__free(arrays);
    wudf__free(walk);
    return wudf__set_error(error, ENOMEM, "out of memory");
  }
  walk->memory = memory;
  walk->error = error;
  walk->arena = &arrays->arena;
  walk->arrays = arrays;
  walk->level = level == WUDF__VALIDATE_STRUCTURE ? WUDF__VALIDATE_STRUCTURE
                                                  : WUDF__VALIDATE_FULL;
  walk->work_limit = memory->size > (UINT64_MAX - WUDF__WORK_SLACK) / 4
                         ? UINT64_MAX
                         : 4 * memory->size + WUDF__WORK_SLACK;
  wudf__path_start(walk, path);
  int status = wudf__visit_array(walk, mirror->root_schema, array, WUDF__LABEL_ROOT, length,
                                 0, &arrays->root);
  if (status != 0) {
    wudf__free(walk);
    wudf__mirror_arrays_free(arrays);
    return status;
  }
  atomic_init(&arrays->live, walk->nodes);
  wudf__free(walk);
  mirror->arrays = arrays;
  return 0;
}

/* ------------------------------------------------------------- accessors */

const struct ArrowSchema* wudf__mirror_root_schema(const struct wudf__mirror* mirror) {
  return mirror->root_schema != NULL ? &mirror->root_schema->schema : NULL;
}

const struct ArrowArray* wudf__mirror_root_array(const struct wudf__mirror* mirror) {
  return mirror->arrays != NULL ? mirror->arrays->root : NULL;
}

void wudf__mirror_take_array(struct wudf__mirror* mirror, struct ArrowArray* out,
                             void (*on_release)(void* context), void* context) {
  struct wudf__mirror_arrays* arrays = mirror->arrays;
  if (arrays == NULL) { /* no array mirrored: a released struct */
    memset(out, 0, sizeof(*out));
    return;
  }
  arrays->on_release = on_release;
  arrays->context = context;
  *out = *arrays->root;
  /* The root's struct in the arena is now the consumer's copy's: mark the
   * arena one released so nothing walks it twice. */
  arrays->root->release = NULL;
  mirror->arrays = NULL;
  mirror->taken = 1;
}

void wudf__mirror_free(struct wudf__mirror* mirror) {
  if (mirror == NULL) return;
  wudf__mirror_arrays_free(mirror->arrays);
  wudf__arena_free(&mirror->schema_arena);
  wudf__free(mirror);
}

int wudf__guest_string(const struct wudf__guest_memory* memory, uint32_t at, char* out,
                       size_t size) {
  if (size == 0) return -1;
  out[0] = '\0';
  if (at == 0 || at >= memory->size) return -1;
  size_t i = 0;
  while (i + 1 < size && at + i < memory->size && memory->base[at + i] != 0) {
    out[i] = (char)memory->base[at + i];
    i++;
  }
  out[i] = '\0';
  return 0;
}
