/*
 * call.c -- one guest call of the guest ABI, shared by every function kind
 * (see call.h): the instance's first-call set-up, the input block written
 * from a plan, the export called with or without a control block, the
 * inputs the guest left released, the guest's error message read, the
 * result validated (abi/import.c) against the declared type and copied or
 * viewed; the caller's arguments checked and seen as one struct array; the
 * rows of one guest call planned; and the handles that table streams and
 * accumulators have in the guest, with the guest work their releases leave
 * for the instance's next call. docs/abi.md is the contract.
 */
#include "call.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../arrow/bits.h"
#include "../arrow/format.h"

/* ------------------------------------------------------- guest plumbing */

static struct wudf__guest_memory wudf__memory_of(const struct wudf_instance* instance) {
  struct wudf__guest_memory memory;
  memory.base = wudf__instance_memory(instance, &memory.size);
  return memory;
}

/* Calls an export of i32 arguments (at most 5) and at most one i32 result
 * (their types were checked at load) on the entered instance. */
static int wudf__guest_call(struct wudf__call* call, uint32_t export_index,
                            const uint32_t* args, size_t arg_count, uint32_t* result) {
  int status = wudf__instance_call_i32(call->instance, export_index, args, arg_count, result,
                                       call->timeout_ms, call->error);
  if (status != 0) {
    return wudf__error_prefix(call->error, status, "function '%s'",
                              call->udf->signature.name);
  }
  return 0;
}

/* The first call on an instance: check the ABI version, learn the release
 * callbacks, allocate the output slots and the control block. */
static int wudf__instance_prepare(struct wudf__call* call) {
  struct wudf_instance* instance = call->instance;
  struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
  if (udf_state->abi.ready) return 0;
  const uint32_t* abi = call->table->abi;
  uint32_t version = 0, slots = 0;
  int status = wudf__guest_call(call, abi[WUDF__ABI_VERSION_EXPORT], NULL, 0, &version);
  if (status != 0) return status;
  if (version != WUDF__ABI_VERSION) {
    return wudf__set_error(call->error, EPROTO, "the module speaks guest ABI version %u; "
                           "this library speaks version %d", version, WUDF__ABI_VERSION);
  }
  status = wudf__guest_call(call, abi[WUDF__ABI_INPUT_ARRAY_RELEASE], NULL, 0,
                            &udf_state->abi.array_release);
  if (status == 0) {
    status = wudf__guest_call(call, abi[WUDF__ABI_INPUT_SCHEMA_RELEASE], NULL, 0,
                              &udf_state->abi.schema_release);
  }
  uint32_t size = WUDF__ARRAY_SIZE + WUDF__SCHEMA_SIZE + WUDF__CONTROL_SIZE;
  uint32_t request[2] = {size, 8};
  if (status == 0) status = wudf__guest_call(call, abi[WUDF__ABI_ALLOC], request, 2, &slots);
  if (status != 0) return status;
  struct wudf__guest_memory memory = wudf__memory_of(instance);
  if (slots == 0 || (slots & 7) != 0 || !wudf__guest_range_ok(&memory, slots, size)) {
    return wudf__set_error(call->error, EPROTO, "wudf_alloc returned %u for the output "
                           "slots: not an aligned block inside linear memory", slots);
  }
  udf_state->abi.slots = slots;
  udf_state->abi.control = slots + WUDF__ARRAY_SIZE + WUDF__SCHEMA_SIZE;
  udf_state->abi.ready = 1;
  return 0;
}

/* Releases a guest-owned struct through the guest if its release is set. */
static int wudf__release_through_guest(struct wudf__call* call, uint32_t at,
                                       uint32_t release_field, int abi_export) {
  struct wudf__guest_memory memory = wudf__memory_of(call->instance);
  if (!wudf__guest_range_ok(&memory, at, release_field + 4)) return 0;
  if (wudf__load_u32(&memory, at + release_field) == 0) return 0;
  return wudf__guest_call(call, call->table->abi[abi_export], &at, 1, NULL);
}

/* Input blocks up to this size are kept by the host between calls and
 * reused (docs/abi.md, section 4); larger ones are freed after their call,
 * so that one large call does not hold guest memory for good. */
#define WUDF__BLOCK_KEEP_MAX ((uint32_t)1 << 20)

/* After a guest call: release the inputs the guest left, and drop the host's
 * reference to the input block of `capacity` bytes: kept for the next call
 * when nothing else holds it and it is small, freed when nothing else holds
 * it, left to the guest otherwise. */
static int wudf__finish_inputs(struct wudf__call* call, uint32_t block, uint32_t capacity,
                               const struct wudf__guest_placement* placed) {
  int status = wudf__release_through_guest(call, placed->array, WUDF__ARRAY_RELEASE,
                                           WUDF__ABI_RELEASE_ARRAY);
  if (status == 0) {
    status = wudf__release_through_guest(call, placed->schema, WUDF__SCHEMA_RELEASE,
                                         WUDF__ABI_RELEASE_SCHEMA);
  }
  if (status != 0) return status;
  struct wudf__guest_memory memory = wudf__memory_of(call->instance);
  uint32_t live = wudf__load_u32(&memory, block + WUDF__BLOCK_LIVE);
  uint32_t magic = wudf__load_u32(&memory, block + WUDF__BLOCK_MAGIC_OFFSET);
  if (magic != WUDF__BLOCK_MAGIC || live == 0 || live > placed->struct_count + 1) {
    return wudf__set_error(call->error, EPROTO,
                           "function '%s': the guest damaged the header of its input "
                           "block (live %u, magic 0x%08x)",
                           call->udf->signature.name, live, magic);
  }
  if (live == 1) {
    struct wudf_instance* instance = call->instance;
    struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
    if (capacity <= WUDF__BLOCK_KEEP_MAX && udf_state->abi.block == 0) {
      udf_state->abi.block = block;
      udf_state->abi.block_capacity = capacity;
      return 0;
    }
    return wudf__guest_call(call, call->table->abi[WUDF__ABI_FREE], &block, 1, NULL);
  }
  /* The guest kept some inputs (moved them): it frees the block when it
   * releases the last of them. */
  wudf__store_u32(&memory, block + WUDF__BLOCK_LIVE, live - 1);
  return 0;
}

/* ------------------------------------------------------------ type errors */

/* Writes the explanation of a type mismatch into `out`: the matcher's
 * message, which names both sides, and when the difference is below the
 * top (the message then starts with "at "), both whole types too. */
static void wudf__type_mismatch(const char* declared, const struct ArrowSchema* given,
                                const char* message, char* out, size_t size) {
  if (strncmp(message, "at ", 3) != 0) {
    snprintf(out, size, "%s", message);
    return;
  }
  char described[256];
  wudf__type_describe(given, described, sizeof(described));
  snprintf(out, size, "%.400s (declared %.200s, got %.200s)", message, declared, described);
}

/* ---------------------------------------------------------------- results */

void wudf__result_release(struct wudf__result* result) {
  if (!result->present) return;
  if (result->array.release != NULL) result->array.release(&result->array);
  if (result->schema.release != NULL) result->schema.release(&result->schema);
  result->present = 0;
}

/* The last release of a view: the instance may run guest code again. */
static void wudf__view_released(void* context) { wudf__instance_unpin(context); }

/* The nesting limit of `options` (0: the library's own). */
static int wudf__depth_limit(const struct wudf_call_options* options) {
  return options->nesting_depth_limit > 0 ? options->nesting_depth_limit : WUDF__MAX_DEPTH;
}

/* The bytes of the buffers of a planned array, children and dictionaries
 * included. */
static int64_t wudf__plan_bytes(const struct wudf__plan* plan) {
  int64_t bytes = 0;
  for (int32_t i = 0; i < plan->n_buffers; i++) bytes += plan->buffers[i].size;
  for (int32_t i = 0; i < plan->n_children; i++) bytes += wudf__plan_bytes(plan->children[i]);
  if (plan->dictionary != NULL) bytes += wudf__plan_bytes(plan->dictionary);
  return bytes;
}

int wudf__count_output(struct wudf__call* call, int64_t rows, int64_t bytes) {
  const struct wudf_call_options* options = call->options;
  struct wudf__output_tally* tally = call->tally;
  tally->rows += rows;
  tally->bytes += bytes;
  const char* name = call->udf->signature.name;
  if (options->result_row_limit > 0 && tally->rows > options->result_row_limit) {
    return wudf__set_error(call->error, EFBIG, "function '%s': its output passed "
                           "result_row_limit (%" PRId64 " rows): %" PRId64 " rows so far, "
                           "%" PRId64 " bytes", name, options->result_row_limit,
                           tally->rows, tally->bytes);
  }
  if (options->result_byte_limit > 0 && tally->bytes > options->result_byte_limit) {
    return wudf__set_error(call->error, EFBIG, "function '%s': its output passed "
                           "result_byte_limit (%" PRId64 " bytes): %" PRId64 " bytes so far, "
                           "%" PRId64 " rows", name, options->result_byte_limit,
                           tally->bytes, tally->rows);
  }
  return 0;
}

/*
 * Validates the guest's result at `out`/`out_schema`: its schema, then its
 * type against `type` (`type_length` bytes), then its data (exactly
 * `length` rows, or any number when -1). Then copies it into `*result`,
 * or, when `view`, makes `*result` a view of guest memory.
 */
static int wudf__take_result(struct wudf__call* call, const struct wudf__guest_memory* memory,
                             uint32_t out, uint32_t out_schema, const char* type,
                             size_t type_length, const char* path, int64_t length, int view,
                             const struct wudf__result_sink* sink, struct wudf__result* result) {
  const struct wudf__signature* signature = &call->udf->signature;
  struct wudf__mirror* mirror = NULL;
  int status = wudf__mirror_schema_limited(memory, out_schema, path,
                                           wudf__depth_limit(call->options), &mirror,
                                           call->error);
  if (status == EFBIG) {
    wudf__error_prefix(call->error, status, "function '%s': its result is over "
                       "nesting_depth_limit", signature->name);
  }
  if (status == 0) {
    char message[512];
    if (wudf__type_match(type, type_length, wudf__mirror_root_schema(mirror), message,
                         sizeof(message)) != 0) {
      char whole[1024], declared[WUDF__MAX_SIGNATURE];
      snprintf(declared, sizeof(declared), "%.*s", (int)type_length, type);
      wudf__type_mismatch(declared, wudf__mirror_root_schema(mirror), message, whole,
                          sizeof(whole));
      status = wudf__set_error(call->error, EPROTO, "%s: type: %s", path, whole);
    }
  }
  if (status == 0) {
    status = wudf__mirror_array(mirror, memory, out, length, (int)call->options->validation,
                                path, call->error);
  }
  if (status == EPROTO) {
    wudf__error_prefix(call->error, status, "function '%s' returned an invalid %s",
                       signature->name, strcmp(path, "result") == 0 ? "result" : path);
  }
  if (status == 0 && view) {
    status = wudf__count_output(call, wudf__mirror_root_array(mirror)->length, 0);
  }
  if (status == 0 && view) {
    /* The instance is pinned by the caller (wudf__run_guest) once the
     * guest has released the result's schema. */
    status = wudf__schema_export(wudf__mirror_root_schema(mirror), signature->name,
                                 &result->schema, call->error);
    if (status == 0) {
      wudf__mirror_take_array(mirror, &result->array, wudf__view_released, call->instance);
      result->present = 1;
    }
  } else if (status == 0 && sink != NULL) {
    /* The sink counts the output (wudf__count_output) as it takes it. */
    status = sink->put(sink->context, wudf__mirror_root_array(mirror),
                       wudf__mirror_root_schema(mirror), call->error);
  } else if (status == 0) {
    const struct ArrowArray* array = wudf__mirror_root_array(mirror);
    struct wudf__segment all = {array, 0, array->length};
    struct wudf__gather* gather = NULL;
    status = wudf__gather_new(wudf__mirror_root_schema(mirror), &all, 1, &gather, call->error);
    if (status == 0) {
      /* Counted before the copy is made. */
      status = wudf__count_output(call, array->length,
                                  wudf__plan_bytes(wudf__gather_plan(gather)));
    }
    if (status == 0) {
      status = wudf__plan_export(wudf__gather_plan(gather), signature->name, &result->array,
                                 &result->schema, call->error);
    }
    wudf__gather_free(gather);
    if (status == 0) result->present = 1;
  }
  wudf__mirror_free(mirror);
  return status;
}

/* ------------------------------------------------------------ flat path */

/* Writes `length` rows of values (`width` bytes each) and their validity
 * (NULL: all valid; else bits from bit `bit` of `validity`) into the sink
 * at its row, which moves on. */
static void wudf__sink_write(struct wudf__flat_sink* sink, const uint8_t* values,
                             const uint8_t* validity, int64_t bit, int64_t length,
                             int64_t nulls) {
  memcpy(sink->values + sink->row * sink->width, values, (size_t)(length * sink->width));
  if (validity == NULL || nulls == 0) {
    wudf__bits_fill(sink->validity, sink->row, length, 1);
  } else {
    wudf__bits_copy(sink->validity, sink->row, validity, bit, length);
  }
  sink->row += length;
  sink->nulls += nulls;
}

/* Places a host array of the sink's type (a guest result the validator
 * took) into the sink, as the flat result check does with guest memory. */
static void wudf__sink_put(struct wudf__flat_sink* sink, const struct ArrowArray* array,
                           const struct ArrowSchema* schema) {
  const uint8_t* validity = array->null_count != 0 ? array->buffers[0] : NULL;
  if (!sink->flags_known) sink->flags = schema->flags;
  sink->flags_known = 1;
  wudf__sink_write(sink, (const uint8_t*)array->buffers[1] + array->offset * sink->width,
                   validity, array->offset, array->length,
                   validity != NULL ? array->null_count : 0);
}

/*
 * The flat result check: a scalar function's result of a flat declared
 * type (udf->flat_result_width) in the output slots, checked for what the
 * full validator (abi/import.c) would require of it, and taken without a
 * mirror or a gather: copied into one host array, or into `sink`. Accepts
 * only a strict subset of what the validator accepts -- the exact format
 * of the declared type, no metadata, no children, no dictionary, flags at
 * most NULLABLE, a validity bitmap at a byte boundary -- and returns 0 for
 * anything else, so that the caller runs the validator, which takes it or
 * names what is wrong. Returns 1 when it took the result, with `*status`
 * 0 or the error of counting the output or of the host allocation.
 */
static int wudf__take_flat_result(struct wudf__call* call,
                                  const struct wudf__guest_memory* memory, uint32_t out,
                                  uint32_t out_schema, int64_t length,
                                  struct wudf__flat_sink* sink, struct wudf__result* result,
                                  int* status) {
  const struct wudf__udf* udf = call->udf;
  int64_t width = udf->flat_result_width;
  if (width <= 0 || length < 0) return 0;
  /* The schema. */
  const char* expected = udf->result_format;
  size_t format_size = strlen(expected) + 1;
  uint32_t format_at = wudf__load_u32(memory, out_schema + WUDF__SCHEMA_FORMAT);
  if (format_at == 0 || !wudf__guest_range_ok(memory, format_at, format_size) ||
      memcmp(memory->base + format_at, expected, format_size) != 0) {
    return 0;
  }
  uint32_t name_at = wudf__load_u32(memory, out_schema + WUDF__SCHEMA_NAME);
  if (name_at != 0) {
    if (name_at >= memory->size) return 0;
    size_t room = memory->size - name_at < 4096 ? memory->size - name_at : 4096;
    if (memchr(memory->base + name_at, 0, room) == NULL) return 0;
  }
  int64_t flags = wudf__load_i64(memory, out_schema + WUDF__SCHEMA_FLAGS);
  if (wudf__load_u32(memory, out_schema + WUDF__SCHEMA_METADATA) != 0 ||
      (flags & ~(int64_t)ARROW_FLAG_NULLABLE) != 0 ||
      wudf__load_i64(memory, out_schema + WUDF__SCHEMA_N_CHILDREN) != 0 ||
      wudf__load_u32(memory, out_schema + WUDF__SCHEMA_DICTIONARY) != 0 ||
      wudf__load_u32(memory, out_schema + WUDF__SCHEMA_RELEASE) == 0) {
    return 0;
  }
  /* The array. */
  int64_t null_count = wudf__load_i64(memory, out + WUDF__ARRAY_NULL_COUNT);
  int64_t offset = wudf__load_i64(memory, out + WUDF__ARRAY_OFFSET);
  if (wudf__load_i64(memory, out + WUDF__ARRAY_LENGTH) != length ||
      wudf__load_i64(memory, out + WUDF__ARRAY_N_BUFFERS) != 2 ||
      wudf__load_i64(memory, out + WUDF__ARRAY_N_CHILDREN) != 0 ||
      wudf__load_u32(memory, out + WUDF__ARRAY_DICTIONARY) != 0 ||
      wudf__load_u32(memory, out + WUDF__ARRAY_RELEASE) == 0 || offset < 0 ||
      offset > ((int64_t)1 << 40) || length > ((int64_t)1 << 40) || null_count < -1 ||
      null_count > length) {
    return 0;
  }
  int64_t end = offset + length;
  uint32_t buffers = wudf__load_u32(memory, out + WUDF__ARRAY_BUFFERS);
  if (buffers == 0 || !wudf__guest_range_ok(memory, buffers, 8)) return 0;
  uint32_t validity_at = wudf__load_u32(memory, buffers);
  uint32_t values_at = wudf__load_u32(memory, buffers + 4);
  uint64_t value_bytes = (uint64_t)end * (uint64_t)width;
  if (value_bytes > 0 && (values_at == 0 || !wudf__guest_range_ok(memory, values_at,
                                                                  value_bytes))) {
    return 0;
  }
  int64_t nulls = 0;
  const uint8_t* validity = NULL;
  if (validity_at == 0) {
    if (null_count > 0) return 0;
  } else {
    if (offset % 8 != 0 || !wudf__guest_range_ok(memory, validity_at, ((uint64_t)end + 7) / 8)) {
      return 0;
    }
    validity = memory->base + validity_at;
    if (null_count >= 0 && call->options->validation != WUDF_VALIDATION_FULL) {
      nulls = null_count;
    } else {
      nulls = length - wudf__bits_count(validity, offset, length);
      if (null_count >= 0 && nulls != null_count) return 0;
    }
    if (nulls == 0) validity = NULL;
  }
  const uint8_t* values = memory->base + values_at + offset * width;
  *status = wudf__count_output(call, length, length * width + (nulls > 0 ? (length + 7) / 8 : 0));
  if (*status != 0) return 1;
  if (sink != NULL) {
    if (!sink->flags_known) sink->flags = flags;
    sink->flags_known = 1;
    wudf__sink_write(sink, values, validity, offset, length, nulls);
    return 1;
  }
  /* One host array of the rows, named after the function. */
  *status = wudf__flat_export(expected, udf->signature.name, flags, length, nulls,
                              validity != NULL ? validity + offset / 8 : NULL, values, width,
                              &result->array, &result->schema, call->error);
  if (*status == 0) result->present = 1;
  return 1;
}

/* Reads the guest's message of a failed call into an EREMOTEIO error. */
static int wudf__guest_failure(struct wudf__call* call, uint32_t returned) {
  char message[1024] = "";
  uint32_t at = 0;
  int status = wudf__guest_call(call, call->table->abi[WUDF__ABI_ERROR_MESSAGE], NULL, 0, &at);
  if (status != 0) return status;
  struct wudf__guest_memory memory = wudf__memory_of(call->instance);
  if (at == 0 || wudf__guest_string(&memory, at, message, sizeof(message)) != 0 ||
      message[0] == '\0') {
    snprintf(message, sizeof(message), "no message (code %d)", (int)returned);
  }
  return wudf__set_error(call->error, EREMOTEIO, "function '%s' failed: %s",
                         call->udf->signature.name, message);
}

/* ------------------------------------------------------ flat input block */

static uint64_t wudf__align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

/* Writes a string and its NUL at `at` (when writing); returns the next
 * 8-byte aligned position. */
static uint64_t wudf__flat_string(const struct wudf__guest_memory* memory, uint64_t at,
                                  const char* text) {
  size_t size = strlen(text) + 1;
  if (memory != NULL) memcpy(memory->base + at, text, size);
  return wudf__align_up(at + size, 8);
}

/* Writes an ArrowArray or ArrowSchema's release and private data. */
static void wudf__flat_struct_tail(const struct wudf__guest_memory* memory, uint64_t at,
                                   uint32_t release_field, uint32_t release,
                                   uint32_t private_data) {
  wudf__store_u32(memory, at + release_field, release);
  wudf__store_u32(memory, at + release_field + 4, private_data);
}

int64_t wudf__flat_input_write(const struct wudf__plan* root,
                               const struct wudf__guest_memory* memory, uint32_t at,
                               uint32_t array_release, uint32_t schema_release,
                               uint32_t private_data, struct wudf__guest_placement* placed) {
  /* The layout of wudf__plan_guest_write's, simplified for a struct of
   * childless fixed-width columns: structs and pointer arrays first, the
   * strings, then the buffers, each 64-byte aligned. The dry run (memory
   * NULL) starts at 0 and adds the worst alignment of `at`. */
  uint64_t start = memory != NULL ? at : 0;
  uint64_t n = (uint64_t)root->n_children;
  uint64_t root_array = wudf__align_up(start, WUDF__BLOCK_ALIGN);
  uint64_t root_buffers = root_array + WUDF__ARRAY_SIZE;
  uint64_t root_children = root_buffers + 8;
  uint64_t arrays = wudf__align_up(root_children + 4 * n, 8);
  uint64_t buffer_pointers = arrays + WUDF__ARRAY_SIZE * n;
  uint64_t root_schema = buffer_pointers + 8 * n;
  uint64_t schema_children = root_schema + WUDF__SCHEMA_SIZE;
  uint64_t schemas = wudf__align_up(schema_children + 4 * n, 8);
  uint64_t cursor = schemas + WUDF__SCHEMA_SIZE * n;
  if (memory != NULL) {
    memset(memory->base + root_array, 0, cursor - root_array);
    wudf__store_i64(memory, root_array + WUDF__ARRAY_LENGTH, root->length);
    wudf__store_i64(memory, root_array + WUDF__ARRAY_N_BUFFERS, 1);
    wudf__store_i64(memory, root_array + WUDF__ARRAY_N_CHILDREN, (int64_t)n);
    wudf__store_u32(memory, root_array + WUDF__ARRAY_BUFFERS, (uint32_t)root_buffers);
    wudf__store_u32(memory, root_array + WUDF__ARRAY_CHILDREN, (uint32_t)root_children);
    wudf__flat_struct_tail(memory, root_array, WUDF__ARRAY_RELEASE, array_release,
                           private_data);
    wudf__store_i64(memory, root_schema + WUDF__SCHEMA_N_CHILDREN, (int64_t)n);
    wudf__store_u32(memory, root_schema + WUDF__SCHEMA_CHILDREN, (uint32_t)schema_children);
    wudf__flat_struct_tail(memory, root_schema, WUDF__SCHEMA_RELEASE, schema_release,
                           private_data);
  }
  const struct wudf__guest_memory* writing = memory;
  if (memory != NULL) {
    wudf__store_u32(memory, root_schema + WUDF__SCHEMA_FORMAT, (uint32_t)cursor);
  }
  cursor = wudf__flat_string(writing, cursor, "+s");
  if (memory != NULL) wudf__store_u32(memory, root_schema + WUDF__SCHEMA_NAME, (uint32_t)cursor);
  cursor = wudf__flat_string(writing, cursor, "args");
  for (uint64_t i = 0; i < n; i++) {
    const struct wudf__plan* column = root->children[i];
    uint64_t array = arrays + WUDF__ARRAY_SIZE * i, schema = schemas + WUDF__SCHEMA_SIZE * i;
    if (memory != NULL) {
      wudf__store_u32(memory, root_children + 4 * i, (uint32_t)array);
      wudf__store_u32(memory, schema_children + 4 * i, (uint32_t)schema);
      wudf__store_u32(memory, schema + WUDF__SCHEMA_FORMAT, (uint32_t)cursor);
    }
    cursor = wudf__flat_string(writing, cursor, column->schema->format);
    if (column->schema->name != NULL) {
      if (memory != NULL) wudf__store_u32(memory, schema + WUDF__SCHEMA_NAME, (uint32_t)cursor);
      cursor = wudf__flat_string(writing, cursor, column->schema->name);
    }
    if (memory != NULL) {
      wudf__store_i64(memory, schema + WUDF__SCHEMA_FLAGS, column->schema->flags);
      wudf__flat_struct_tail(memory, schema, WUDF__SCHEMA_RELEASE, schema_release,
                             private_data);
      wudf__store_i64(memory, array + WUDF__ARRAY_LENGTH, column->length);
      wudf__store_i64(memory, array + WUDF__ARRAY_NULL_COUNT, column->null_count);
      wudf__store_i64(memory, array + WUDF__ARRAY_N_BUFFERS, 2);
      wudf__store_u32(memory, array + WUDF__ARRAY_BUFFERS,
                      (uint32_t)(buffer_pointers + 8 * i));
      wudf__flat_struct_tail(memory, array, WUDF__ARRAY_RELEASE, array_release, private_data);
    }
    for (int b = 0; b < 2; b++) {
      const struct wudf__plan_buffer* buffer = &column->buffers[b];
      if (b == 0 && buffer->data == NULL) continue; /* no nulls: no validity */
      cursor = wudf__align_up(cursor, WUDF__BLOCK_ALIGN);
      if (memory != NULL) {
        wudf__store_u32(memory, buffer_pointers + 8 * i + 4 * (uint64_t)b, (uint32_t)cursor);
        if (buffer->size > 0) memcpy(memory->base + cursor, buffer->data, (size_t)buffer->size);
      }
      cursor += (uint64_t)buffer->size;
    }
  }
  if (memory == NULL) return (int64_t)(cursor + WUDF__BLOCK_ALIGN - 1);
  placed->array = (uint32_t)root_array;
  placed->schema = (uint32_t)root_schema;
  placed->struct_count = (uint32_t)(2 + 2 * n);
  placed->size = (uint32_t)(cursor - start);
  return (int64_t)(cursor - start);
}

/* Writes the input of `request` at `at` of the block: its flat plan with
 * wudf__flat_input_write, any other with the general writer. */
static void wudf__write_plan(const struct wudf__call* call,
                             const struct wudf__guest_request* request,
                             const struct wudf__guest_memory* memory, uint32_t block,
                             struct wudf__guest_placement* placed) {
  const struct wudf__udf_instance* udf_state = wudf__udf_of(call->instance);
  if (request->flat_input) {
    wudf__flat_input_write(request->plan, memory, block + WUDF__BLOCK_HEADER_SIZE,
                           udf_state->abi.array_release, udf_state->abi.schema_release, block,
                           placed);
  } else {
    wudf__plan_guest_write(request->plan, "args", memory, block + WUDF__BLOCK_HEADER_SIZE,
                           udf_state->abi.array_release, udf_state->abi.schema_release, block,
                           placed);
  }
}

/* Writes the plan into a new input block; fills `*block` and `*placed`. */
static int wudf__write_input(struct wudf__call* call, const struct wudf__guest_request* request,
                             uint32_t* block, uint32_t* capacity,
                             struct wudf__guest_placement* placed) {
  struct wudf_instance* instance = call->instance;
  struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
  const char* name = call->udf->signature.name;
  int64_t block_size = WUDF__BLOCK_HEADER_SIZE + request->plan_size;
  if (udf_state->abi.block != 0 && block_size <= udf_state->abi.block_capacity) {
    /* The block the host kept from an earlier call: no guest call. */
    *block = udf_state->abi.block;
    *capacity = udf_state->abi.block_capacity;
    udf_state->abi.block = 0;
    struct wudf__guest_memory memory = wudf__memory_of(instance);
    if (!wudf__guest_range_ok(&memory, *block, (uint64_t)block_size)) {
      return wudf__set_error(call->error, EPROTO, "function '%s': the kept input block at "
                             "%u is no longer inside linear memory", name, *block);
    }
    wudf__write_plan(call, request, &memory, *block, placed);
    wudf__store_u32(&memory, *block + WUDF__BLOCK_LIVE, placed->struct_count + 1);
    wudf__store_u32(&memory, *block + WUDF__BLOCK_MAGIC_OFFSET, WUDF__BLOCK_MAGIC);
    return 0;
  }
  if (udf_state->abi.block != 0) {
    /* Too small for this input: give it back to the guest. */
    uint32_t kept = udf_state->abi.block;
    udf_state->abi.block = 0;
    int status = wudf__guest_call(call, call->table->abi[WUDF__ABI_FREE], &kept, 1, NULL);
    if (status != 0) return status;
  }
  /* Small blocks are rounded up to 1 KiB, so that inputs of a few rows
   * more can reuse them. */
  if (block_size < (int64_t)WUDF__BLOCK_KEEP_MAX) block_size = (block_size + 1023) & ~1023;
  *capacity = (uint32_t)block_size;
  uint32_t alloc_args[2] = {(uint32_t)block_size, WUDF__BLOCK_ALIGN};
  int status = wudf__guest_call(call, call->table->abi[WUDF__ABI_ALLOC], alloc_args, 2, block);
  if (status != 0) return status;
  struct wudf__guest_memory memory = wudf__memory_of(instance);
  if (*block == 0) {
    return wudf__set_error(call->error, ENOMEM, "function '%s': the guest could not "
                           "allocate %" PRId64 " bytes for the arguments (wudf_alloc "
                           "returned 0)", name, block_size);
  }
  if ((*block & (WUDF__BLOCK_ALIGN - 1)) != 0 ||
      !wudf__guest_range_ok(&memory, *block, (uint64_t)block_size)) {
    return wudf__set_error(call->error, EPROTO, "function '%s': wudf_alloc returned %u, "
                           "not a 64-byte aligned block of %" PRId64 " bytes inside "
                           "linear memory", name, *block, block_size);
  }
  wudf__write_plan(call, request, &memory, *block, placed);
  wudf__store_u32(&memory, *block + WUDF__BLOCK_LIVE, placed->struct_count + 1);
  wudf__store_u32(&memory, *block + WUDF__BLOCK_MAGIC_OFFSET, WUDF__BLOCK_MAGIC);
  return 0;
}

int wudf__run_guest(struct wudf__call* call, struct wudf__guest_request* request,
                    struct wudf__result* result) {
  struct wudf_instance* instance = call->instance;
  struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
  uint32_t block = 0, capacity = 0;
  struct wudf__guest_placement placed;
  memset(&placed, 0, sizeof(placed));
  int status = 0;
  if (request->plan != NULL) {
    status = wudf__write_input(call, request, &block, &capacity, &placed);
    if (status != 0) return status;
  }
  struct wudf__guest_memory memory = wudf__memory_of(instance);
  uint32_t out = udf_state->abi.slots, out_schema = out + WUDF__ARRAY_SIZE;
  uint32_t control = udf_state->abi.control;
  memset(memory.base + out, 0, WUDF__ARRAY_SIZE + WUDF__SCHEMA_SIZE + WUDF__CONTROL_SIZE);
  uint32_t call_args[5] = {placed.array, placed.schema, out, out_schema, control};
  size_t arg_count = 4;
  if (request->op != 0) {
    wudf__store_u32(&memory, control + WUDF__CONTROL_OP, request->op);
    wudf__store_u32(&memory, control + WUDF__CONTROL_HANDLE, request->handle);
    wudf__store_i64(&memory, control + WUDF__CONTROL_COUNT, request->count);
    wudf__store_u32(&memory, control + WUDF__CONTROL_FLAGS, request->control_flags);
    arg_count = 5;
  }
  uint32_t returned = 0;
  status = wudf__guest_call(call, call->udf->export_index, call_args, arg_count, &returned);
  if (status != 0) return status; /* a trap: the instance is broken */
  if (request->plan != NULL) {
    status = wudf__finish_inputs(call, block, capacity, &placed);
    if (status != 0) return status;
  }
  memory = wudf__memory_of(instance);
  request->flags = request->op != 0 ? wudf__load_u32(&memory, control + WUDF__CONTROL_FLAGS)
                                    : 0;
  int view = request->wants_result && request->view;
  if (returned != 0) {
    status = wudf__guest_failure(call, returned);
  } else if (request->wants_result) {
    int taken = request->flat && !view &&
                wudf__take_flat_result(call, &memory, out, out_schema, request->length,
                                       request->sink, result, &status);
    if (!taken) {
      const char* type = request->result_type != NULL ? request->result_type
                                                      : call->udf->output_type;
      size_t type_length = request->result_type != NULL ? request->result_type_length
                                                        : call->udf->output_type_length;
      status = wudf__take_result(call, &memory, out, out_schema, type, type_length,
                                 request->result_path != NULL ? request->result_path
                                                              : "result",
                                 request->length, view, request->result_sink, result);
      if (status == 0 && request->sink != NULL) {
        wudf__sink_put(request->sink, &result->array, &result->schema);
        wudf__result_release(result);
      }
    }
  }
  /* Release the guest's result, whatever it was -- except the array a view
   * still reads. */
  struct wudf_error release_error;
  struct wudf_error* saved = call->error;
  call->error = status == 0 ? saved : &release_error;
  int released = 0;
  int release_array = !(status == 0 && view);
  memory = wudf__memory_of(instance);
  if (release_array && call->table->has_release_result) {
    /* Both slots in one guest call (wudf_release_result), when either is
     * set. */
    if (wudf__load_u32(&memory, out + WUDF__ARRAY_RELEASE) != 0 ||
        wudf__load_u32(&memory, out_schema + WUDF__SCHEMA_RELEASE) != 0) {
      uint32_t slots[2] = {out, out_schema};
      released = wudf__guest_call(call, call->table->release_result, slots, 2, NULL);
    }
  } else {
    if (release_array) {
      released = wudf__release_through_guest(call, out, WUDF__ARRAY_RELEASE,
                                             WUDF__ABI_RELEASE_ARRAY);
    }
    if (released == 0) {
      released = wudf__release_through_guest(call, out_schema, WUDF__SCHEMA_RELEASE,
                                             WUDF__ABI_RELEASE_SCHEMA);
    }
  }
  call->error = saved;
  if (status == 0 && released != 0) wudf__result_release(result);
  if (status == 0 && released == 0 && view) {
    /* From here until the view's last release no guest code may run; the
     * guest's array stays until then, and the next function call releases
     * it. The pin cannot be taken already: calls check it first. */
    wudf__instance_pin(instance);
    udf_state->release_pending = 1;
  }
  return status != 0 ? status : released;
}

/* ------------------------------------------------------- handles, deferred */

int wudf__handle_acquire(struct wudf_instance* instance, uint32_t* handle,
                         struct wudf_error* error) {
  struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
  pthread_mutex_lock(&udf_state->handle_lock);
  uint32_t found = 0;
  for (uint32_t i = 1; i < udf_state->handle_capacity; i++) {
    if (udf_state->handles[i].state == WUDF__HANDLE_FREE) {
      found = i;
      break;
    }
  }
  if (found == 0) {
    uint32_t capacity = udf_state->handle_capacity ? 2 * udf_state->handle_capacity : 8;
    struct wudf__handle_slot* grown =
        wudf__realloc(udf_state->handles, capacity * sizeof(*grown));
    if (grown == NULL) {
      pthread_mutex_unlock(&udf_state->handle_lock);
      return wudf__set_error(error, ENOMEM, "out of memory");
    }
    uint32_t old = udf_state->handle_capacity;
    memset(grown + old, 0, (capacity - old) * sizeof(*grown));
    udf_state->handles = grown;
    udf_state->handle_capacity = capacity;
    found = old > 0 ? old : 1;
  }
  udf_state->handles[found].state = WUDF__HANDLE_TAKEN;
  pthread_mutex_unlock(&udf_state->handle_lock);
  *handle = found;
  return 0;
}

/* Runs `op` on `handle` of function `function` in the guest; the guest
 * then has forgotten it. Failures are not reported (the handle's owner is
 * gone); a trap breaks the instance as usual. */
static void wudf__handle_run(struct wudf_instance* instance, uint32_t function,
                             uint32_t handle, uint32_t op) {
  struct wudf_error ignored;
  struct wudf__call call;
  memset(&call, 0, sizeof(call));
  call.instance = instance;
  call.table = wudf__udf_table_of(wudf__instance_module(instance));
  call.udf = &call.table->functions[function];
  wudf_call_options_init(&call.defaults);
  call.options = &call.defaults;
  call.timeout_ms = WUDF_TIMEOUT_DEFAULT;
  call.error = &ignored;
  struct wudf__guest_request request;
  memset(&request, 0, sizeof(request));
  request.op = op;
  request.handle = handle;
  struct wudf__result none;
  memset(&none, 0, sizeof(none));
  wudf__run_guest(&call, &request, &none);
}

/* Whether guest code may run on the instance now. */
static int wudf__instance_runnable(const struct wudf_instance* instance) {
  return wudf__udf_of(instance)->abi.ready && !wudf__instance_broken(instance) &&
         !wudf__instance_pinned(instance);
}

void wudf__handle_finish(struct wudf_instance* instance, uint32_t function, uint32_t handle,
                         uint32_t op, int now) {
  struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
  if (op == 0 || (now && wudf__instance_broken(instance))) {
    /* Nothing for the guest to forget (or no guest left to tell). */
    pthread_mutex_lock(&udf_state->handle_lock);
    udf_state->handles[handle].state = WUDF__HANDLE_FREE;
    pthread_mutex_unlock(&udf_state->handle_lock);
    return;
  }
  /* Running it now needs the instance: when another thread is in a call
   * on it, the work waits for the next call like a release's. */
  if (now && wudf__instance_enter(instance) == 0) {
    int ran = wudf__instance_runnable(instance);
    if (ran) wudf__handle_run(instance, function, handle, op);
    wudf__instance_leave(instance);
    if (ran) {
      pthread_mutex_lock(&udf_state->handle_lock);
      udf_state->handles[handle].state = WUDF__HANDLE_FREE;
      pthread_mutex_unlock(&udf_state->handle_lock);
      return;
    }
  }
  pthread_mutex_lock(&udf_state->handle_lock);
  struct wudf__handle_slot* slot = &udf_state->handles[handle];
  slot->function = function;
  slot->op = (uint8_t)op;
  slot->state = WUDF__HANDLE_PENDING;
  atomic_fetch_add(&udf_state->handles_pending, 1);
  pthread_mutex_unlock(&udf_state->handle_lock);
}

/* Runs the guest work released handles left (at the start of a call). */
static void wudf__handles_run_pending(struct wudf_instance* instance) {
  struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
  while (atomic_load(&udf_state->handles_pending) > 0 && wudf__instance_runnable(instance)) {
    uint32_t handle = 0, function = 0, op = 0;
    pthread_mutex_lock(&udf_state->handle_lock);
    for (uint32_t i = 1; i < udf_state->handle_capacity; i++) {
      struct wudf__handle_slot* slot = &udf_state->handles[i];
      if (slot->state == WUDF__HANDLE_PENDING) {
        handle = i;
        function = slot->function;
        op = slot->op;
        slot->state = WUDF__HANDLE_TAKEN; /* until the guest has run it */
        atomic_fetch_sub(&udf_state->handles_pending, 1);
        break;
      }
    }
    pthread_mutex_unlock(&udf_state->handle_lock);
    if (handle == 0) return;
    wudf__handle_run(instance, function, handle, op);
    pthread_mutex_lock(&udf_state->handle_lock);
    udf_state->handles[handle].state = WUDF__HANDLE_FREE;
    pthread_mutex_unlock(&udf_state->handle_lock);
  }
}

/* --------------------------------------------------------------- a call */

/* The next function call on an instance whose view was released: let the
 * guest free the result the view was reading. */
static int wudf__release_pending_result(struct wudf__call* call) {
  struct wudf_instance* instance = call->instance;
  struct wudf__udf_instance* udf_state = wudf__udf_of(instance);
  if (!udf_state->release_pending) return 0;
  udf_state->release_pending = 0;
  return wudf__release_through_guest(call, udf_state->abi.slots, WUDF__ARRAY_RELEASE,
                                     WUDF__ABI_RELEASE_ARRAY);
}

/* The public names of the kinds' calls, for messages. */
static const char* wudf__kind_api(uint8_t kind) {
  switch (kind) {
    case WUDF__KIND_TABLE: return "wudf_table_call";
    case WUDF__KIND_AGGREGATE: return "wudf_aggregate_new";
    default: return "wudf_function_call";
  }
}

#define WUDF__OPTION_FIELD(member) WUDF__FIELD(struct wudf_call_options, member)
static const struct wudf__field wudf__call_options_fields[] = {
    WUDF__OPTION_FIELD(max_rows_per_call), WUDF__OPTION_FIELD(max_block_bytes),
    WUDF__OPTION_FIELD(timeout_ms),        WUDF__OPTION_FIELD(validation),
    WUDF__OPTION_FIELD(result),            WUDF__OPTION_FIELD(max_output_rows),
    WUDF__OPTION_FIELD(result_row_limit),  WUDF__OPTION_FIELD(result_byte_limit),
    WUDF__OPTION_FIELD(nesting_depth_limit), WUDF__OPTION_FIELD(chunk_bytes)};

int wudf__call_options_read(struct wudf_call_options* out,
                            const struct wudf_call_options* options,
                            struct wudf_error* error) {
  wudf_call_options_init(out);
  if (options == NULL) return 0;
  return wudf__versioned_read(
      out, options, sizeof(*out), wudf__call_options_fields,
      sizeof(wudf__call_options_fields) / sizeof(wudf__call_options_fields[0]),
      "struct wudf_call_options", error);
}

int wudf__call_check(struct wudf__call* call, struct wudf_instance* instance,
                     uint32_t function, uint8_t kind,
                     const struct wudf_call_options* options, struct wudf_error* error) {
  const struct wudf_module* module = wudf__instance_module(instance);
  memset(call, 0, sizeof(*call));
  call->error = error;
  if (function >= wudf_module_function_count(module)) {
    return wudf__set_error(error, EINVAL, "function index %u out of range (%u functions)",
                           function, wudf_module_function_count(module));
  }
  call->instance = instance;
  call->table = wudf__udf_table_of(module);
  call->udf = &wudf__udf_table_of(module)->functions[function];
  const struct wudf__signature* signature = &call->udf->signature;
  if (kind != WUDF__KIND_NONE && signature->kind != kind) {
    const char* kind_name = wudf__kind_name(signature->kind);
    return wudf__set_error(error, EINVAL, "function '%s' is %s %s function: call it with %s",
                           signature->name, kind_name[0] == 'a' ? "an" : "a", kind_name,
                           wudf__kind_api(signature->kind));
  }
  /* The caller's options read over the defaults, as far as their
   * struct_size goes (wasmudf.h, "Versioned structs"). */
  int status = wudf__call_options_read(&call->defaults, options, error);
  if (status != 0) return status;
  options = &call->defaults;
  call->options = options;
  call->timeout_ms = options->timeout_ms;
  call->tally = &call->own_tally;
  if (options->nesting_depth_limit < 0 || options->nesting_depth_limit > WUDF__MAX_DEPTH) {
    return wudf__set_error(error, EINVAL, "function '%s': nesting_depth_limit %d is outside "
                           "1 to %d", signature->name, options->nesting_depth_limit,
                           WUDF__MAX_DEPTH);
  }
  if (options->validation != WUDF_VALIDATION_FULL &&
      options->validation != WUDF_VALIDATION_STRUCTURE) {
    return wudf__set_error(error, EINVAL, "unknown validation level %d",
                           (int)options->validation);
  }
  if (options->result != WUDF_RESULT_COPY && options->result != WUDF_RESULT_VIEW) {
    return wudf__set_error(error, EINVAL, "unknown result mode %d", (int)options->result);
  }
  return 0;
}

int wudf__call_usable(const struct wudf__call* call) {
  const char* name = call->udf->signature.name;
  if (wudf__instance_pinned(call->instance)) {
    return wudf__set_error(call->error, EBUSY, "function '%s': a zero-copy result view of "
                           "this instance's memory is still alive; release it first", name);
  }
  if (wudf__instance_broken(call->instance)) {
    return wudf__set_error(call->error, ENOTRECOVERABLE, "function '%s': the instance is "
                           "broken by an earlier trap; create a new instance", name);
  }
  return 0;
}

int wudf__check_columns(uint32_t count, const struct ArrowArray* const* arrays,
                        const struct ArrowSchema* const* schemas, const char* batch_api,
                        struct wudf_error* error) {
  if (count > 0 && (arrays == NULL || schemas == NULL)) {
    return wudf__set_error(error, EINVAL, "the argument arrays and schemas must not be NULL");
  }
  if (count == 0) {
    return wudf__set_error(error, EINVAL, "a call without arguments has no row count: use "
                           "%s with an empty struct of N rows", batch_api);
  }
  if (count > WUDF__MAX_ARGS) {
    return wudf__set_error(error, EINVAL, "%u arguments, more than the limit of %d", count,
                           WUDF__MAX_ARGS);
  }
  if (arrays[0] == NULL) return wudf__set_error(error, EINVAL, "argument 1 is NULL");
  return 0;
}

int wudf__call_enter(struct wudf__call* call) {
  struct wudf_instance* instance = call->instance;
  if (wudf__instance_enter(instance) != 0) {
    char what[WUDF__MAX_NAME + 32];
    snprintf(what, sizeof(what), "function '%s'", call->udf->signature.name);
    return wudf__instance_busy_error(call->error, what);
  }
  call->entered = 1;
  /* The signal checks of the call's export runs, made once for all. */
  call->batched = wudf__rt_batch_enter();
  int status = wudf__call_usable(call);
  if (status == 0) status = wudf__instance_prepare(call);
  if (status == 0) status = wudf__release_pending_result(call);
  if (status == 0) wudf__handles_run_pending(instance);
  if (status == 0 && wudf__instance_broken(instance)) {
    status = wudf__set_error(call->error, ENOTRECOVERABLE, "function '%s': the instance broke "
                             "while releasing a closed stream or accumulator; create a new "
                             "instance", call->udf->signature.name);
  }
  if (status != 0) wudf__call_end(call);
  return status;
}

void wudf__call_end(struct wudf__call* call) {
  if (!call->entered) return;
  call->entered = 0;
  if (call->batched) {
    call->batched = 0;
    wudf__rt_batch_leave();
  }
  wudf__instance_leave(call->instance);
}

int wudf__call_begin(struct wudf__call* call, struct wudf_instance* instance, uint32_t function,
                     uint8_t kind, const struct wudf_call_options* options,
                     struct wudf_error* error) {
  int status = wudf__call_check(call, instance, function, kind, options, error);
  return status != 0 ? status : wudf__call_enter(call);
}

/* ------------------------------------------------------------- arguments */

/* "arg0" .. "arg63", the names of the arguments in the input block. */
#define WUDF__ARG_NAME(n) "arg" #n
#define WUDF__ARG_NAMES8(n)                                                       \
  WUDF__ARG_NAME(n##0), WUDF__ARG_NAME(n##1), WUDF__ARG_NAME(n##2), WUDF__ARG_NAME(n##3), \
  WUDF__ARG_NAME(n##4), WUDF__ARG_NAME(n##5), WUDF__ARG_NAME(n##6), WUDF__ARG_NAME(n##7)
static const char* const wudf__arg_names[WUDF__MAX_ARGS] = {
    "arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7",
    WUDF__ARG_NAMES8(1), WUDF__ARG_NAMES8(2), WUDF__ARG_NAMES8(3),
    WUDF__ARG_NAMES8(4), WUDF__ARG_NAMES8(5), WUDF__ARG_NAMES8(6), WUDF__ARG_NAMES8(7)};

/* Never called: the struct is the library's own and never released. */
static void wudf__arguments_schema_release(struct ArrowSchema* schema) {
  schema->release = NULL;
}
static void wudf__arguments_array_release(struct ArrowArray* array) { array->release = NULL; }

void wudf__arguments_init(struct wudf__arguments* arguments, int64_t rows) {
  arguments->count = 0;
  arguments->rows = rows;
  arguments->no_buffers[0] = NULL;
  memset(&arguments->array, 0, sizeof(arguments->array));
  memset(&arguments->schema, 0, sizeof(arguments->schema));
  arguments->array.length = rows;
  arguments->array.n_buffers = 1;
  arguments->array.buffers = arguments->no_buffers;
  arguments->array.children = arguments->arrays;
  arguments->array.release = wudf__arguments_array_release;
  arguments->schema.format = "+s";
  arguments->schema.name = "args";
  arguments->schema.children = arguments->schemas;
  arguments->schema.release = wudf__arguments_schema_release;
}

/* wudf__arguments_add of a column whose format's layout and width (FIXED;
 * 0 for others) the caller knows. */
static void wudf__arguments_put(struct wudf__arguments* arguments, const struct ArrowArray* array,
                                const struct ArrowSchema* schema, const char* name,
                                uint8_t layout, int64_t width) {
  uint32_t index = arguments->count++;
  arguments->layouts[index] = layout;
  arguments->widths[index] = layout == WUDF__LAYOUT_FIXED ? width : 0;
  arguments->arrays[index] = (struct ArrowArray*)array;
  arguments->renamed[index] = *schema;
  arguments->renamed[index].name = name;
  arguments->schemas[index] = &arguments->renamed[index];
  arguments->array.n_children = arguments->count;
  arguments->schema.n_children = arguments->count;
}

void wudf__arguments_add(struct wudf__arguments* arguments, const struct ArrowArray* array,
                         const struct ArrowSchema* schema, const char* name) {
  struct wudf__format format;
  wudf__format_parse(schema->format, &format); /* checked by the caller */
  wudf__arguments_put(arguments, array, schema, name, format.layout, format.byte_width);
}

/* The nesting depth of a schema tree (the root is 1; a dictionary is a
 * level below its indices), counted up to `cap`. */
static int wudf__schema_depth(const struct ArrowSchema* schema, int cap) {
  if (schema == NULL || cap <= 1) return 1;
  int deepest = 0;
  for (int64_t i = 0; i < schema->n_children && schema->children != NULL; i++) {
    int depth = wudf__schema_depth(schema->children[i], cap - 1);
    if (depth > deepest) deepest = depth;
  }
  if (schema->dictionary != NULL) {
    int depth = wudf__schema_depth(schema->dictionary, cap - 1);
    if (depth > deepest) deepest = depth;
  }
  return 1 + deepest;
}

/* "argument 2", or "argument 2 (stop)" when it is named, into `out`
 * (WUDF__MAX_NAME + 32 bytes); returns `out`. */
static const char* wudf__argument_label(const struct wudf__udf* udf, uint32_t index,
                                        char* out) {
  if (udf->arg_names[index][0] != '\0') {
    snprintf(out, WUDF__MAX_NAME + 32, "argument %u (%s)", index + 1, udf->arg_names[index]);
  } else {
    snprintf(out, WUDF__MAX_NAME + 32, "argument %u", index + 1);
  }
  return out;
}

/* The error of an argument whose buffers or children do not have the shape
 * its format requires (at the node named `where`). */
static int wudf__shape_error(const struct wudf__call* call, uint32_t index, const char* where) {
  const struct wudf__udf* udf = call->udf;
  char which[WUDF__MAX_NAME + 32];
  return wudf__set_error(call->error, EINVAL, "function '%s': %s is not a well-formed %s "
                         "array (at '%s': buffer or child counts, offset, length or "
                         "dictionary)", udf->signature.name,
                         wudf__argument_label(udf, index, which), udf->arg_types[index],
                         where);
}

int wudf__arguments_check(const struct wudf__call* call, uint32_t index,
                          const struct ArrowArray* array, const struct ArrowSchema* schema,
                          struct wudf__arguments* arguments) {
  const struct wudf__udf* udf = call->udf;
  const struct wudf__signature* signature = &udf->signature;
  char which[WUDF__MAX_NAME + 32];
  if (array == NULL || schema == NULL || array->release == NULL ||
      schema->release == NULL || schema->format == NULL) {
    return wudf__set_error(call->error, EINVAL, "function '%s': %s is NULL or released",
                           signature->name, wudf__argument_label(udf, index, which));
  }
  char message[512];
  int flat_match = udf->arg_flat[index] && schema->n_children == 0 &&
                   schema->dictionary == NULL && strcmp(schema->format,
                                                        udf->arg_formats[index]) == 0;
  if (!flat_match &&
      wudf__type_match(signature->text + signature->args[index].start,
                       signature->args[index].length, schema, message, sizeof(message)) != 0) {
    char whole[1024];
    wudf__type_mismatch(udf->arg_types[index], schema, message, whole, sizeof(whole));
    return wudf__set_error(call->error, EINVAL, "function '%s': %s: %s", signature->name,
                           wudf__argument_label(udf, index, which), whole);
  }
  if (flat_match) {
    /* The declared fixed-width format exactly: the shape check of
     * wudf__check_shape without parsing the format again (one level, two
     * buffers, no children, no dictionary). */
    if (array->length < 0 || array->offset < 0 || array->n_children != 0 ||
        array->n_buffers != 2 || array->buffers == NULL || array->dictionary != NULL) {
      return wudf__shape_error(call, index, schema->name != NULL ? schema->name : "?");
    }
  } else {
    int limit = wudf__depth_limit(call->options);
    int depth = wudf__schema_depth(schema, limit + 1);
    if (depth > limit) {
      return wudf__set_error(call->error, EFBIG, "function '%s': %s nests deeper than "
                             "nesting_depth_limit (%d levels)", signature->name,
                             wudf__argument_label(udf, index, which), limit);
    }
    char where[128];
    if (wudf__check_shape(array, schema, 1, where, sizeof(where)) != 0) {
      return wudf__shape_error(call, index, where);
    }
  }
  if (array->length != arguments->rows) {
    return wudf__set_error(call->error, EINVAL, "function '%s': %s has %" PRId64
                           " rows, argument 1 has %" PRId64, signature->name,
                           wudf__argument_label(udf, index, which), array->length,
                           arguments->rows);
  }
  if (flat_match) {
    wudf__arguments_put(arguments, array, schema, wudf__arg_names[index], WUDF__LAYOUT_FIXED,
                        udf->arg_width[index]);
  } else {
    wudf__arguments_add(arguments, array, schema, wudf__arg_names[index]);
  }
  return 0;
}

/* Nonzero when row `row` of column `index` is null at the top level. */
static int wudf__argument_null(const struct wudf__arguments* arguments, uint32_t index,
                               int64_t row) {
  const struct ArrowArray* a = arguments->arrays[index];
  uint8_t layout = arguments->layouts[index];
  if (layout == WUDF__LAYOUT_NULL) return 1;
  if (!wudf__layout_has_validity(layout) || a->null_count == 0 || a->buffers[0] == NULL) {
    return 0;
  }
  return !wudf__bit_get(a->buffers[0], a->offset + row);
}

int wudf__arguments_any_null(const struct wudf__arguments* arguments, int64_t start,
                             int64_t count) {
  for (uint32_t i = 0; i < arguments->count; i++) {
    const struct ArrowArray* a = arguments->arrays[i];
    uint8_t layout = arguments->layouts[i];
    if (layout == WUDF__LAYOUT_NULL && count > 0) return 1;
    if (!wudf__layout_has_validity(layout) || a->null_count == 0 || a->buffers[0] == NULL) {
      continue;
    }
    if (wudf__bits_count(a->buffers[0], a->offset + start, count) != count) return 1;
  }
  return 0;
}

int64_t wudf__rows_per_call(const struct wudf_call_options* options, int64_t row_bytes) {
  int64_t max_rows = options->max_rows_per_call > 0 ? options->max_rows_per_call : 1;
  if (options->chunk_bytes <= 0 || row_bytes <= 0 || options->result != WUDF_RESULT_COPY) {
    return max_rows;
  }
  int64_t rows = options->chunk_bytes / row_bytes;
  rows -= rows % 64;
  if (rows < WUDF__MIN_CHUNK_ROWS) rows = WUDF__MIN_CHUNK_ROWS;
  return rows < max_rows ? rows : max_rows;
}

int wudf__batch_columns(const struct ArrowArray* batch, const struct ArrowSchema* batch_schema,
                        struct wudf__batch_columns* out, struct wudf_error* error) {
  if (batch->release == NULL || batch_schema->release == NULL ||
      batch_schema->format == NULL || strcmp(batch_schema->format, "+s") != 0 ||
      batch->n_children != batch_schema->n_children || batch->n_children < 0 ||
      batch->n_children > WUDF__MAX_ARGS || batch->length < 0 || batch->offset < 0 ||
      (batch->n_children > 0 && (batch->children == NULL || batch_schema->children == NULL))) {
    return wudf__set_error(error, EINVAL, "the batch must be a struct array (format '+s') "
                           "with at most %d columns", WUDF__MAX_ARGS);
  }
  if (batch->null_count != 0 && batch->n_buffers > 0 && batch->buffers != NULL &&
      batch->buffers[0] != NULL) {
    return wudf__set_error(error, EINVAL, "the batch has struct-level nulls; only its "
                           "columns may have nulls");
  }
  out->count = (uint32_t)batch->n_children;
  for (uint32_t i = 0; i < out->count; i++) {
    const struct ArrowArray* child = batch->children[i];
    if (child == NULL || batch_schema->children[i] == NULL ||
        child->length < batch->offset + batch->length) {
      return wudf__set_error(error, EINVAL, "column %u of the batch is missing or shorter "
                             "than the batch", i + 1);
    }
    out->columns[i] = *child;
    out->columns[i].offset = child->offset + batch->offset;
    out->columns[i].length = batch->length;
    if (child->null_count != 0) out->columns[i].null_count = -1; /* of a window: unknown */
    out->arrays[i] = &out->columns[i];
    out->schemas[i] = batch_schema->children[i];
  }
  return 0;
}

/* ------------------------------------------------------------- segments */

/* The rows of [start, start + count) in which every column is valid, as
 * segments of the arguments struct. */
static int wudf__select_valid(const struct wudf__arguments* arguments, int64_t start,
                              int64_t count, struct wudf__segment_list* selected,
                              int64_t* selected_rows) {
  selected->count = 0;
  *selected_rows = 0;
  for (int64_t row = start; row < start + count; row++) {
    int valid = 1;
    for (uint32_t i = 0; valid && i < arguments->count; i++) {
      if (wudf__argument_null(arguments, i, row)) valid = 0;
    }
    if (!valid) continue;
    if (wudf__segment_push(selected, &arguments->array, row, 1) != 0) return ENOMEM;
    (*selected_rows)++;
  }
  return 0;
}

int wudf__plan_chunk(struct wudf__call* call, const struct wudf__arguments* arguments,
                     int64_t start, int64_t count, int strict, int whole,
                     struct wudf__chunk* chunk) {
  const struct wudf_call_options* options = call->options;
  chunk->start = start;
  chunk->gather = NULL;
  for (;;) {
    chunk->count = count;
    chunk->compacted = strict && wudf__arguments_any_null(arguments, start, count);
    chunk->rows.count = 0;
    int status;
    if (chunk->compacted) {
      status = wudf__select_valid(arguments, start, count, &chunk->rows, &chunk->selected);
    } else {
      chunk->selected = count;
      status = wudf__segment_push(&chunk->rows, &arguments->array, start, count);
    }
    if (status != 0) return wudf__set_error(call->error, ENOMEM, "out of memory");
    status = wudf__gather_new(&arguments->schema, chunk->rows.items, chunk->rows.count,
                              &chunk->gather, call->error);
    if (status != 0) return status;
    chunk->size = wudf__plan_guest_size(wudf__gather_plan(chunk->gather));
    if (chunk->size >= 0 && WUDF__BLOCK_HEADER_SIZE + chunk->size <= options->max_block_bytes) {
      return 0;
    }
    wudf__gather_free(chunk->gather);
    chunk->gather = NULL;
    if (count <= 1 || whole) {
      const char* name = call->udf->signature.name;
      if (whole && count > 1) {
        return wudf__set_error(call->error, EFBIG, "function '%s': the %" PRId64 " rows "
                               "from %" PRId64 " need more than the %" PRId64 " bytes one "
                               "call may pass to the guest, and this call cannot be split",
                               name, count, start, options->max_block_bytes);
      }
      return wudf__set_error(call->error, EFBIG, "function '%s': row %" PRId64 " alone "
                             "needs more than the %" PRId64 " bytes one call may pass to "
                             "the guest", name, start, options->max_block_bytes);
    }
    count = (count + 1) / 2;
  }
}

void wudf__chunk_free(struct wudf__chunk* chunk) {
  wudf__gather_free(chunk->gather);
  chunk->gather = NULL;
  wudf__segment_list_free(&chunk->rows);
}
