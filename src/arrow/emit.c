/*
 * emit.c -- writing a gather's plan (see gather.h) out: into host memory as
 * an exported ArrowArray + ArrowSchema, or into a guest's linear memory as
 * wasm32 structs.
 *
 * One walker lays out the whole tree -- structs, pointer arrays, strings,
 * metadata, buffers -- in a single block, at positions it takes from a
 * cursor. It runs twice over the same tree: a dry run (no base address)
 * that only moves the cursor, which gives the size, then the real run,
 * which takes exactly the same positions and writes. Since both runs are
 * the same code, the size and the writes cannot disagree. Two targets
 * differ only in the widths of structs and pointers and in how a struct's
 * fields are stored (host structs, or little-endian wasm32 fields through
 * arrow/wasm32.h).
 *
 * Host export: the block is one allocation from the funnel, shared by every
 * ArrowArray and ArrowSchema of the tree through a reference count (one
 * reference per struct). Releasing a struct releases its children and
 * dictionary that are still unreleased (not moved out), marks it released
 * and drops its reference; the last one frees the block. Buffers are
 * 64-byte aligned.
 *
 * Guest write: the tree is laid out from the first 64-byte aligned guest
 * offset at or after `at`, so that buffers are 64-byte aligned in linear
 * memory; the size includes the worst-case padding, and the padding before
 * and after the tree is zeroed so the whole reported range is written.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "format.h"
#include "gather.h"

#define WUDF__NOWHERE UINT64_MAX   /* position of an absent (NULL) pointee */
#define WUDF__BUFFER_ALIGN 64u     /* every buffer, both targets */
#define WUDF__STRUCT_ALIGN 8u      /* structs, pointer arrays, strings, metadata */
#define WUDF__GUEST_SLACK 63u      /* room to move a guest tree to a 64-byte boundary */

/* The head of a host export block: shared by every struct of the tree. */
struct wudf__export_block {
  _Atomic int64_t references; /* structs not yet released */
  void* allocation;           /* what the funnel returned (the block is aligned inside it) */
};

/* One run of the walker. */
struct wudf__emitter {
  int guest;           /* target: wasm32 structs in guest memory, or host structs */
  int writing;         /* 0 on the dry run */
  uint64_t cursor;     /* next free position (bytes from the origin) */
  uint64_t limit;      /* largest size allowed */
  int overflowed;      /* the layout passed `limit` (dry run) */
  uint32_t structs;    /* ArrowArray + ArrowSchema structs laid out */
  /* Host target: the block (aligned), position 0 is its head. */
  uint8_t* block;
  /* Guest target. */
  const struct wudf__guest_memory* memory;
  uint64_t origin;     /* guest offset of position 0 */
  uint32_t array_release, schema_release, private_data;
};

/* The root schema's name: the text written and the bytes reserved for it
 * (the guest reserves a fixed slot so its size does not depend on the
 * rename; text longer than the slot is cut). */
struct wudf__root_name {
  const char* text; /* NULL: no name */
  uint64_t slot;    /* bytes reserved, NUL included (0 when none) */
};

static uint64_t wudf__pointer_width(const struct wudf__emitter* e) {
  return e->guest ? 4u : sizeof(void*);
}

/* Reserves `size` bytes aligned to `align` (a power of two) and returns
 * their position. Past the limit the emitter is marked overflowed and the
 * cursor stops moving (only a dry run can overflow: the real run repeats a
 * layout that fitted). The real run zeroes the alignment padding it skips. */
static uint64_t wudf__take(struct wudf__emitter* e, uint64_t size, uint64_t align) {
  uint64_t position = (e->cursor + align - 1) & ~(uint64_t)(align - 1);
  if (e->overflowed || position < e->cursor || position > e->limit ||
      size > e->limit - position) {
    e->overflowed = 1;
    return 0;
  }
  if (e->writing && position > e->cursor) {
    /* Alignment padding: zeroed, so every byte of the block is written. */
    memset(e->guest ? e->memory->base + e->origin + e->cursor : e->block + e->cursor, 0,
           (size_t)(position - e->cursor));
  }
  e->cursor = position + size;
  return position;
}

/* Host address of position `at` (real host run). */
static uint8_t* wudf__host_at(const struct wudf__emitter* e, uint64_t at) {
  return e->block + at;
}

/* Writes `size` bytes at position `at` (real run only). */
static void wudf__put_bytes(const struct wudf__emitter* e, uint64_t at, const void* bytes,
                            uint64_t size) {
  if (!e->writing || size == 0) return;
  if (e->guest) {
    memcpy(e->memory->base + e->origin + at, bytes, (size_t)size);
  } else {
    memcpy(wudf__host_at(e, at), bytes, (size_t)size);
  }
}

/* Zeroes `size` bytes at position `at` (real run only). */
static void wudf__put_zeros(const struct wudf__emitter* e, uint64_t at, uint64_t size) {
  if (!e->writing || size == 0) return;
  memset(e->guest ? e->memory->base + e->origin + at : wudf__host_at(e, at), 0, (size_t)size);
}

/* The pointer value of position `target` in the target's terms. */
static uint64_t wudf__pointer_value(const struct wudf__emitter* e, uint64_t target) {
  if (target == WUDF__NOWHERE) return 0;
  return e->guest ? e->origin + target : (uint64_t)(uintptr_t)wudf__host_at(e, target);
}

/* Writes, at position `slot`, a pointer to position `target` (NULL or 0
 * for WUDF__NOWHERE). Real run only. */
static void wudf__put_pointer(const struct wudf__emitter* e, uint64_t slot, uint64_t target) {
  if (!e->writing) return;
  if (e->guest) {
    wudf__store_u32(e->memory, e->origin + slot, (uint32_t)wudf__pointer_value(e, target));
  } else {
    void* pointer = target == WUDF__NOWHERE ? NULL : wudf__host_at(e, target);
    memcpy(wudf__host_at(e, slot), &pointer, sizeof(pointer));
  }
}

/* Lays out a NUL-terminated copy of `text` in a slot of `slot` bytes
 * (text cut to slot - 1 bytes) and returns its position. */
static uint64_t wudf__emit_string(struct wudf__emitter* e, const char* text, uint64_t slot) {
  uint64_t at = wudf__take(e, slot, WUDF__STRUCT_ALIGN);
  if (e->writing) {
    size_t length = text == NULL ? 0 : strlen(text);
    if (length > slot - 1) length = (size_t)(slot - 1);
    wudf__put_zeros(e, at, slot);
    wudf__put_bytes(e, at, text, length);
  }
  return at;
}

/* Bytes of a metadata blob (int32 count, then int32 length + bytes for
 * each key and value), or 0 when it is absent or malformed. */
static uint64_t wudf__metadata_size(const char* metadata) {
  if (metadata == NULL) return 0;
  int32_t count;
  memcpy(&count, metadata, sizeof(count));
  if (count < 0) return 0;
  uint64_t size = 4;
  for (int64_t i = 0; i < (int64_t)count * 2; i++) {
    int32_t length;
    memcpy(&length, metadata + size, sizeof(length));
    if (length < 0) return 0;
    size += 4 + (uint64_t)length;
  }
  return size;
}

/* Nonzero when buffer `index` of `plan` is a validity bitmap that is
 * absent (its pointer is then NULL; every other buffer gets a pointer,
 * even when empty). */
static int wudf__absent_validity(const struct wudf__plan* plan, int32_t index) {
  struct wudf__format format;
  if (index != 0 || plan->buffers[0].data != NULL) return 0;
  return wudf__format_parse(plan->schema->format, &format) == 0 &&
         wudf__layout_has_validity(format.layout);
}

/* Stores the fields of an ArrowArray struct at position `at`. */
static void wudf__put_array(struct wudf__emitter* e, uint64_t at, const struct wudf__plan* plan,
                            uint64_t buffers, uint64_t children, uint64_t dictionary);

/* Host release of an exported ArrowSchema / ArrowArray (defined below). */
static void wudf__export_release_array(struct ArrowArray* array);
static void wudf__export_release_schema(struct ArrowSchema* schema);

const uint8_t wudf__plan_unwritten[1];

/* Lays out the array tree of `plan`; returns the root struct's position. */
static uint64_t wudf__emit_array(struct wudf__emitter* e, const struct wudf__plan* plan) {
  uint64_t width = wudf__pointer_width(e);
  uint64_t self = wudf__take(e, e->guest ? WUDF__ARRAY_SIZE : sizeof(struct ArrowArray),
                             WUDF__STRUCT_ALIGN);
  e->structs++;
  uint64_t buffers = WUDF__NOWHERE, children = WUDF__NOWHERE, dictionary = WUDF__NOWHERE;
  if (plan->n_buffers > 0) {
    buffers = wudf__take(e, (uint64_t)plan->n_buffers * width, WUDF__STRUCT_ALIGN);
  }
  if (plan->n_children > 0) {
    children = wudf__take(e, (uint64_t)plan->n_children * width, WUDF__STRUCT_ALIGN);
  }
  for (int32_t i = 0; i < plan->n_buffers; i++) {
    const struct wudf__plan_buffer* buffer = &plan->buffers[i];
    uint64_t target = WUDF__NOWHERE;
    if (!wudf__absent_validity(plan, i)) {
      uint64_t size = buffer->size > 0 ? (uint64_t)buffer->size : 0;
      target = wudf__take(e, size, WUDF__BUFFER_ALIGN);
      if (buffer->data == wudf__plan_unwritten && !e->guest) {
        /* The caller writes it. */
      } else if (buffer->data != NULL) {
        wudf__put_bytes(e, target, buffer->data, size);
      } else {
        wudf__put_zeros(e, target, size); /* a plan gives no bytes only for empty buffers */
      }
    }
    if (buffers != WUDF__NOWHERE) wudf__put_pointer(e, buffers + (uint64_t)i * width, target);
  }
  for (int32_t i = 0; i < plan->n_children; i++) {
    uint64_t child = wudf__emit_array(e, plan->children[i]);
    wudf__put_pointer(e, children + (uint64_t)i * width, child);
  }
  if (plan->dictionary != NULL) dictionary = wudf__emit_array(e, plan->dictionary);
  if (e->writing) wudf__put_array(e, self, plan, buffers, children, dictionary);
  return self;
}

static void wudf__put_array(struct wudf__emitter* e, uint64_t at, const struct wudf__plan* plan,
                            uint64_t buffers, uint64_t children, uint64_t dictionary) {
  if (e->guest) {
    const struct wudf__guest_memory* memory = e->memory;
    uint64_t base = e->origin + at;
    wudf__put_zeros(e, at, WUDF__ARRAY_SIZE);
    wudf__store_i64(memory, base + WUDF__ARRAY_LENGTH, plan->length);
    wudf__store_i64(memory, base + WUDF__ARRAY_NULL_COUNT, plan->null_count);
    wudf__store_i64(memory, base + WUDF__ARRAY_OFFSET, 0);
    wudf__store_i64(memory, base + WUDF__ARRAY_N_BUFFERS, plan->n_buffers);
    wudf__store_i64(memory, base + WUDF__ARRAY_N_CHILDREN, plan->n_children);
    wudf__store_u32(memory, base + WUDF__ARRAY_BUFFERS, (uint32_t)wudf__pointer_value(e, buffers));
    wudf__store_u32(memory, base + WUDF__ARRAY_CHILDREN,
                    (uint32_t)wudf__pointer_value(e, children));
    wudf__store_u32(memory, base + WUDF__ARRAY_DICTIONARY,
                    (uint32_t)wudf__pointer_value(e, dictionary));
    wudf__store_u32(memory, base + WUDF__ARRAY_RELEASE, e->array_release);
    wudf__store_u32(memory, base + WUDF__ARRAY_PRIVATE_DATA, e->private_data);
    return;
  }
  struct ArrowArray array;
  memset(&array, 0, sizeof(array));
  array.length = plan->length;
  array.null_count = plan->null_count;
  array.offset = 0;
  array.n_buffers = plan->n_buffers;
  array.n_children = plan->n_children;
  array.buffers = buffers == WUDF__NOWHERE ? NULL : (const void**)(void*)wudf__host_at(e, buffers);
  array.children =
      children == WUDF__NOWHERE ? NULL : (struct ArrowArray**)(void*)wudf__host_at(e, children);
  array.dictionary =
      dictionary == WUDF__NOWHERE ? NULL : (struct ArrowArray*)(void*)wudf__host_at(e, dictionary);
  array.release = wudf__export_release_array;
  array.private_data = e->block;
  memcpy(wudf__host_at(e, at), &array, sizeof(array));
}

/* Stores the fields of an ArrowSchema struct at position `at`. */
static void wudf__put_schema(struct wudf__emitter* e, uint64_t at, const struct ArrowSchema* schema,
                             uint64_t format, uint64_t name, uint64_t metadata, uint64_t children,
                             uint64_t dictionary) {
  if (e->guest) {
    const struct wudf__guest_memory* memory = e->memory;
    uint64_t base = e->origin + at;
    wudf__put_zeros(e, at, WUDF__SCHEMA_SIZE);
    wudf__store_u32(memory, base + WUDF__SCHEMA_FORMAT, (uint32_t)wudf__pointer_value(e, format));
    wudf__store_u32(memory, base + WUDF__SCHEMA_NAME, (uint32_t)wudf__pointer_value(e, name));
    wudf__store_u32(memory, base + WUDF__SCHEMA_METADATA,
                    (uint32_t)wudf__pointer_value(e, metadata));
    wudf__store_i64(memory, base + WUDF__SCHEMA_FLAGS, schema->flags);
    wudf__store_i64(memory, base + WUDF__SCHEMA_N_CHILDREN, schema->n_children);
    wudf__store_u32(memory, base + WUDF__SCHEMA_CHILDREN,
                    (uint32_t)wudf__pointer_value(e, children));
    wudf__store_u32(memory, base + WUDF__SCHEMA_DICTIONARY,
                    (uint32_t)wudf__pointer_value(e, dictionary));
    wudf__store_u32(memory, base + WUDF__SCHEMA_RELEASE, e->schema_release);
    wudf__store_u32(memory, base + WUDF__SCHEMA_PRIVATE_DATA, e->private_data);
    return;
  }
  struct ArrowSchema out;
  memset(&out, 0, sizeof(out));
  out.format = (const char*)wudf__host_at(e, format);
  out.name = name == WUDF__NOWHERE ? NULL : (const char*)wudf__host_at(e, name);
  out.metadata = metadata == WUDF__NOWHERE ? NULL : (const char*)wudf__host_at(e, metadata);
  out.flags = schema->flags;
  out.n_children = schema->n_children;
  out.children =
      children == WUDF__NOWHERE ? NULL : (struct ArrowSchema**)(void*)wudf__host_at(e, children);
  out.dictionary =
      dictionary == WUDF__NOWHERE ? NULL : (struct ArrowSchema*)(void*)wudf__host_at(e, dictionary);
  out.release = wudf__export_release_schema;
  out.private_data = e->block;
  memcpy(wudf__host_at(e, at), &out, sizeof(out));
}

/*
 * Lays out the schema tree of `schema`; returns the root struct's position.
 * `root` (non-NULL for the root only) gives the root's name and its slot;
 * other nodes keep their names.
 */
static uint64_t wudf__emit_schema(struct wudf__emitter* e, const struct ArrowSchema* schema,
                                  const struct wudf__root_name* root) {
  uint64_t width = wudf__pointer_width(e);
  uint64_t self = wudf__take(e, e->guest ? WUDF__SCHEMA_SIZE : sizeof(struct ArrowSchema),
                             WUDF__STRUCT_ALIGN);
  e->structs++;
  uint64_t format = wudf__emit_string(e, schema->format, strlen(schema->format) + 1);
  uint64_t name = WUDF__NOWHERE, metadata = WUDF__NOWHERE;
  uint64_t children = WUDF__NOWHERE, dictionary = WUDF__NOWHERE;
  if (root != NULL) {
    if (root->slot > 0) {
      uint64_t slot = wudf__emit_string(e, root->text, root->slot);
      if (root->text != NULL) name = slot;
    }
  } else if (schema->name != NULL) {
    name = wudf__emit_string(e, schema->name, strlen(schema->name) + 1);
  }
  uint64_t metadata_size = wudf__metadata_size(schema->metadata);
  if (metadata_size > 0) {
    metadata = wudf__take(e, metadata_size, WUDF__STRUCT_ALIGN);
    wudf__put_bytes(e, metadata, schema->metadata, metadata_size);
  }
  int64_t n_children = schema->n_children > 0 ? schema->n_children : 0;
  if (n_children > 0) {
    children = wudf__take(e, (uint64_t)n_children * width, WUDF__STRUCT_ALIGN);
  }
  for (int64_t i = 0; i < n_children && !e->overflowed; i++) {
    uint64_t child = wudf__emit_schema(e, schema->children[i], NULL);
    wudf__put_pointer(e, children + (uint64_t)i * width, child);
  }
  if (schema->dictionary != NULL) dictionary = wudf__emit_schema(e, schema->dictionary, NULL);
  if (e->writing) wudf__put_schema(e, self, schema, format, name, metadata, children, dictionary);
  return self;
}

/* ------------------------------------------------------------------ host */

/* Drops one reference to an export block; the last frees it. */
static void wudf__export_unref(void* private_data) {
  struct wudf__export_block* block = private_data;
  if (atomic_fetch_sub_explicit(&block->references, 1, memory_order_acq_rel) == 1) {
    wudf__free(block->allocation);
  }
}

static void wudf__export_release_array(struct ArrowArray* array) {
  for (int64_t i = 0; i < array->n_children; i++) {
    struct ArrowArray* child = array->children[i];
    if (child->release != NULL) child->release(child);
  }
  if (array->dictionary != NULL && array->dictionary->release != NULL) {
    array->dictionary->release(array->dictionary);
  }
  void* block = array->private_data;
  array->release = NULL;
  wudf__export_unref(block);
}

static void wudf__export_release_schema(struct ArrowSchema* schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    struct ArrowSchema* child = schema->children[i];
    if (child->release != NULL) child->release(child);
  }
  if (schema->dictionary != NULL && schema->dictionary->release != NULL) {
    schema->dictionary->release(schema->dictionary);
  }
  void* block = schema->private_data;
  schema->release = NULL;
  wudf__export_unref(block);
}

/* Lays out a host export: the block head, then the array tree of `plan`
 * (if not NULL), then the schema tree. */
static void wudf__emit_host(struct wudf__emitter* e, const struct wudf__plan* plan,
                            const struct ArrowSchema* schema, const struct wudf__root_name* root,
                            uint64_t* array_at, uint64_t* schema_at) {
  wudf__take(e, sizeof(struct wudf__export_block), WUDF__BUFFER_ALIGN);
  *array_at = plan != NULL ? wudf__emit_array(e, plan) : WUDF__NOWHERE;
  *schema_at = wudf__emit_schema(e, schema, root);
}

/*
 * Exports `plan` (NULL: the schema only) and `schema` into one host block:
 * a dry run for the size, one allocation, the real run. Fills `out` (if
 * `plan`) and `out_schema`. ENOMEM, or EOVERFLOW for a size past size_t.
 */
static int wudf__export(const struct wudf__plan* plan, const struct ArrowSchema* schema,
                        const char* name, struct ArrowArray* out, struct ArrowSchema* out_schema,
                        struct wudf_error* error) {
  if (schema == NULL) return wudf__set_error(error, EINVAL, "export: no schema");
  struct wudf__root_name root;
  root.text = name != NULL ? name : schema->name;
  root.slot = root.text != NULL ? strlen(root.text) + 1 : 0;
  struct wudf__emitter e;
  memset(&e, 0, sizeof(e));
  e.limit = SIZE_MAX / 2;
  uint64_t array_at, schema_at;
  wudf__emit_host(&e, plan, schema, &root, &array_at, &schema_at);
  if (e.overflowed) {
    return wudf__set_error(error, EOVERFLOW, "export: the array does not fit host memory");
  }
  uint64_t size = e.cursor;
  void* allocation = wudf__malloc((size_t)size + WUDF__BUFFER_ALIGN - 1);
  if (allocation == NULL) {
    return wudf__set_error(error, ENOMEM, "export: out of memory (%llu bytes)",
                           (unsigned long long)size);
  }
  uintptr_t aligned = ((uintptr_t)allocation + WUDF__BUFFER_ALIGN - 1) &
                      ~(uintptr_t)(WUDF__BUFFER_ALIGN - 1);
  memset(&e, 0, sizeof(e));
  e.limit = size;
  e.writing = 1;
  e.block = (uint8_t*)aligned;
  wudf__emit_host(&e, plan, schema, &root, &array_at, &schema_at);
  struct wudf__export_block* head = (struct wudf__export_block*)(void*)e.block;
  head->allocation = allocation;
  atomic_init(&head->references, (int64_t)e.structs);
  if (plan != NULL) memcpy(out, wudf__host_at(&e, array_at), sizeof(*out));
  memcpy(out_schema, wudf__host_at(&e, schema_at), sizeof(*out_schema));
  return 0;
}

int wudf__plan_export(const struct wudf__plan* plan, const char* name, struct ArrowArray* out,
                      struct ArrowSchema* out_schema, struct wudf_error* error) {
  if (plan == NULL) return wudf__set_error(error, EINVAL, "export: no plan");
  return wudf__export(plan, plan->schema, name, out, out_schema, error);
}

int wudf__flat_export(const char* format, const char* name, int64_t flags, int64_t length,
                      int64_t null_count, const uint8_t* validity, const uint8_t* values,
                      int64_t width, struct ArrowArray* out, struct ArrowSchema* out_schema,
                      struct wudf_error* error) {
  /* The block: head, array, its two buffer pointers, schema, format, name,
   * then the buffers, each 64-byte aligned, as wudf__export lays them. */
  size_t format_size = strlen(format) + 1, name_size = strlen(name) + 1;
  size_t validity_size = validity != NULL ? (size_t)(length + 7) / 8 : 0;
  size_t values_size = (size_t)(length * width);
  size_t at_array = (sizeof(struct wudf__export_block) + 7) & ~(size_t)7;
  size_t at_buffers = at_array + sizeof(struct ArrowArray);
  size_t at_schema = at_buffers + 2 * sizeof(void*);
  size_t at_format = at_schema + sizeof(struct ArrowSchema);
  size_t at_name = at_format + format_size;
  size_t at_validity = (at_name + name_size + WUDF__BUFFER_ALIGN - 1) &
                       ~(size_t)(WUDF__BUFFER_ALIGN - 1);
  size_t at_values = (at_validity + validity_size + WUDF__BUFFER_ALIGN - 1) &
                     ~(size_t)(WUDF__BUFFER_ALIGN - 1);
  size_t size = at_values + values_size;
  void* allocation = wudf__malloc(size + WUDF__BUFFER_ALIGN - 1);
  if (allocation == NULL) {
    return wudf__set_error(error, ENOMEM, "export: out of memory (%zu bytes)", size);
  }
  uint8_t* block = (uint8_t*)(((uintptr_t)allocation + WUDF__BUFFER_ALIGN - 1) &
                              ~(uintptr_t)(WUDF__BUFFER_ALIGN - 1));
  struct wudf__export_block* head = (struct wudf__export_block*)(void*)block;
  head->allocation = allocation;
  atomic_init(&head->references, 2);
  const void** buffers = (const void**)(void*)(block + at_buffers);
  buffers[0] = validity != NULL ? block + at_validity : NULL;
  buffers[1] = block + at_values;
  if (validity != NULL) memcpy(block + at_validity, validity, validity_size);
  if (values_size > 0) memcpy(block + at_values, values, values_size);
  memcpy(block + at_format, format, format_size);
  memcpy(block + at_name, name, name_size);
  struct ArrowArray* array = (struct ArrowArray*)(void*)(block + at_array);
  memset(array, 0, sizeof(*array));
  array->length = length;
  array->null_count = validity != NULL ? null_count : 0;
  array->n_buffers = 2;
  array->buffers = buffers;
  array->release = wudf__export_release_array;
  array->private_data = block;
  struct ArrowSchema* schema = (struct ArrowSchema*)(void*)(block + at_schema);
  memset(schema, 0, sizeof(*schema));
  schema->format = (const char*)(block + at_format);
  schema->name = (const char*)(block + at_name);
  schema->flags = flags;
  schema->release = wudf__export_release_schema;
  schema->private_data = block;
  *out = *array;
  *out_schema = *schema;
  return 0;
}

int wudf__schema_export(const struct ArrowSchema* schema, const char* name,
                        struct ArrowSchema* out, struct wudf_error* error) {
  return wudf__export(NULL, schema, name, NULL, out, error);
}

/* ----------------------------------------------------------------- guest */

/* The guest's root name slot: room for the source name or a rename of up
 * to WUDF__PLAN_MAX_NAME bytes, whichever is longer. */
static uint64_t wudf__guest_name_slot(const struct wudf__plan* plan) {
  uint64_t source = plan->schema->name != NULL ? strlen(plan->schema->name) : 0;
  return (source > WUDF__PLAN_MAX_NAME ? source : WUDF__PLAN_MAX_NAME) + 1;
}

/* Lays out a guest copy: the array tree, then the schema tree. */
static void wudf__emit_guest(struct wudf__emitter* e, const struct wudf__plan* plan,
                             const struct wudf__root_name* root, uint64_t* array_at,
                             uint64_t* schema_at) {
  *array_at = wudf__emit_array(e, plan);
  *schema_at = wudf__emit_schema(e, plan->schema, root);
}

int64_t wudf__plan_guest_size(const struct wudf__plan* plan) {
  struct wudf__root_name root = {plan->schema->name, wudf__guest_name_slot(plan)};
  struct wudf__emitter e;
  memset(&e, 0, sizeof(e));
  e.guest = 1;
  e.limit = UINT32_MAX - WUDF__GUEST_SLACK;
  uint64_t array_at, schema_at;
  wudf__emit_guest(&e, plan, &root, &array_at, &schema_at);
  if (e.overflowed) return -1;
  return (int64_t)(e.cursor + WUDF__GUEST_SLACK);
}

void wudf__plan_guest_write(const struct wudf__plan* plan, const char* name,
                            const struct wudf__guest_memory* memory, uint32_t at,
                            uint32_t array_release, uint32_t schema_release,
                            uint32_t private_data, struct wudf__guest_placement* out) {
  struct wudf__root_name root = {name != NULL ? name : plan->schema->name,
                                 wudf__guest_name_slot(plan)};
  struct wudf__emitter e;
  memset(&e, 0, sizeof(e));
  e.guest = 1;
  e.writing = 1;
  e.limit = UINT32_MAX - WUDF__GUEST_SLACK; /* as in the dry run of wudf__plan_guest_size */
  e.memory = memory;
  e.origin = ((uint64_t)at + WUDF__BUFFER_ALIGN - 1) & ~(uint64_t)(WUDF__BUFFER_ALIGN - 1);
  e.array_release = array_release;
  e.schema_release = schema_release;
  e.private_data = private_data;
  uint64_t array_at, schema_at;
  wudf__emit_guest(&e, plan, &root, &array_at, &schema_at);
  /* The size is the tree plus WUDF__GUEST_SLACK: zero the padding before
   * the tree and the rest of the slack after it. */
  uint64_t end = (uint64_t)at + e.cursor + WUDF__GUEST_SLACK, tree_end = e.origin + e.cursor;
  memset(memory->base + at, 0, (size_t)(e.origin - at));
  memset(memory->base + tree_end, 0, (size_t)(end - tree_end));
  out->array = (uint32_t)(e.origin + array_at);
  out->schema = (uint32_t)(e.origin + schema_at);
  out->struct_count = e.structs;
  out->size = (uint32_t)(end - at);
}
