/*
 * functions.c -- user-defined functions over Arrow data: the functions a
 * module declares (its "wasmudf" custom section), and calling them.
 *
 * A call checks the caller's arguments against the signature's types,
 * splits the rows into guest calls that fit the per-call limits, and for
 * each one plans the rows (arrow/gather.c), writes them as an input block
 * into guest memory, calls the function's export, cleans up whatever inputs
 * the guest did not release, validates the result (abi/import.c) against
 * the declared type, and either copies it out or hands out a zero-copy view
 * of it. Results of several guest calls, and the null rows of a strict
 * function (whose rows with a null argument are left out of the guest call),
 * are assembled by one more gather. See docs/abi.md for the contract.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../abi/import.h"
#include "../arrow/bits.h"
#include "../arrow/format.h"
#include "../arrow/gather.h"
#include "../engine/engine.h"
#include "signature.h"

#define WUDF__MAX_METADATA ((size_t)1 << 20)
#define WUDF__MAX_FUNCTIONS 4096u

/* A declared function and the texts its description points to. */
struct wudf__udf {
  struct wudf__signature signature;
  uint32_t export_index;
  char* strings; /* the NUL-terminated texts below point into it */
  const char* arg_types[WUDF__MAX_ARGS];
  const char* arg_formats[WUDF__MAX_ARGS];
  const char* result_type;
  const char* result_format;
  uint32_t field_count;
  const char* field_names[WUDF__MAX_FIELDS];
  const char* field_types[WUDF__MAX_FIELDS];
  const char* field_formats[WUDF__MAX_FIELDS];
};

/* The ABI exports every module with functions has (docs/abi.md, section 1). */
enum {
  WUDF__ABI_VERSION_EXPORT,
  WUDF__ABI_ALLOC,
  WUDF__ABI_FREE,
  WUDF__ABI_INPUT_ARRAY_RELEASE,
  WUDF__ABI_INPUT_SCHEMA_RELEASE,
  WUDF__ABI_RELEASE_ARRAY,
  WUDF__ABI_RELEASE_SCHEMA,
  WUDF__ABI_ERROR_MESSAGE,
  WUDF__ABI_EXPORT_COUNT
};

static const struct {
  const char* name;
  const char* signature; /* wasm types as in the glue: params ':' results */
} wudf__abi_exports[WUDF__ABI_EXPORT_COUNT] = {
    {"wudf_abi_version", ":i"},          {"wudf_alloc", "ii:i"},
    {"wudf_free", "i:"},                 {"wudf_input_array_release", ":i"},
    {"wudf_input_schema_release", ":i"}, {"wudf_release_array", "i:"},
    {"wudf_release_schema", "i:"},       {"wudf_error_message", ":i"},
};

struct wudf__udf_table {
  uint32_t count;
  struct wudf__udf* functions;
  uint32_t abi[WUDF__ABI_EXPORT_COUNT];
};

/* ------------------------------------------------------------ the module */

/* Nonzero when the export has exactly the wasm types of `signature`. */
static int wudf__export_matches(const struct wudf_export_info* export,
                                const char* signature) {
  const char* colon = strchr(signature, ':');
  uint32_t params = (uint32_t)(colon - signature);
  uint32_t results = (uint32_t)strlen(colon + 1);
  if (export->param_count != params || export->result_count != results) return 0;
  for (uint32_t i = 0; i < params; i++) {
    if (export->params[i] != WUDF_I32) return 0;
  }
  for (uint32_t i = 0; i < results; i++) {
    if (export->results[i] != WUDF_I32) return 0;
  }
  return 1;
}

static int wudf__find_abi_export(const struct wudf_module* module, const char* name,
                                 const char* signature, uint32_t* index,
                                 struct wudf_error* error) {
  if (wudf_module_find_export(module, name, index, NULL) != 0 ||
      !wudf__export_matches(&module->exports[*index], signature)) {
    return wudf__set_error(error, EPROTO,
                           "the module declares functions but lacks the ABI export "
                           "%s with wasm type (%s) (see docs/abi.md)",
                           name, signature);
  }
  return 0;
}

void wudf__udf_module_free(struct wudf_module* module) {
  if (module->udf == NULL) return;
  for (uint32_t i = 0; module->udf->functions != NULL && i < module->udf->count; i++) {
    wudf__free(module->udf->functions[i].strings);
  }
  wudf__free(module->udf->functions);
  wudf__free(module->udf);
  module->udf = NULL;
}

/* Appends `length` bytes of `text` and a NUL to the string pool at
 * `*cursor`; returns where they went. */
static const char* wudf__pool_add(char** cursor, const char* text, size_t length) {
  char* at = *cursor;
  memcpy(at, text, length);
  at[length] = '\0';
  *cursor = at + length + 1;
  return at;
}

/* Fills the derived texts of a parsed function: each argument's and the
 * result's type text and top-level format, and a batch result's columns.
 * 0 or ENOMEM (EPROTO if a type does not decode, which the parser rules
 * out). */
static int wudf__udf_describe(struct wudf__udf* udf, struct wudf_error* error) {
  const struct wudf__signature* signature = &udf->signature;
  /* Every text is a piece of the canonical signature or a format no longer
   * than WUDF__MAX_FORMAT; a map's entries text is not needed here. */
  size_t capacity = 2 * sizeof(signature->text) +
                    (size_t)(signature->arg_count + 1 + WUDF__MAX_FIELDS) * WUDF__MAX_FORMAT;
  udf->strings = wudf__malloc(capacity);
  if (udf->strings == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  char* cursor = udf->strings;
  struct wudf__type_node node;
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    const char* text = signature->text + signature->args[i].start;
    size_t length = signature->args[i].length;
    if (wudf__type_decode(text, length, &node) != 0) goto broken;
    udf->arg_types[i] = wudf__pool_add(&cursor, text, length);
    udf->arg_formats[i] = wudf__pool_add(&cursor, node.format, strlen(node.format));
  }
  const char* result = signature->text + signature->result.start;
  if (wudf__type_decode(result, signature->result.length, &node) != 0) goto broken;
  udf->result_type = wudf__pool_add(&cursor, result, signature->result.length);
  udf->result_format = wudf__pool_add(&cursor, node.format, strlen(node.format));
  if (signature->kind == WUDF__KIND_BATCH) {
    udf->field_count = node.child_count;
    for (uint32_t i = 0; i < node.child_count && i < WUDF__MAX_FIELDS; i++) {
      const char *name, *type;
      size_t name_length, type_length;
      struct wudf__type_node field;
      if (wudf__type_child(&node, i, &name, &name_length, &type, &type_length, NULL) != 0 ||
          wudf__type_decode(type, type_length, &field) != 0) {
        goto broken;
      }
      udf->field_names[i] = wudf__pool_add(&cursor, name, name_length);
      udf->field_types[i] = wudf__pool_add(&cursor, type, type_length);
      udf->field_formats[i] = wudf__pool_add(&cursor, field.format, strlen(field.format));
    }
  }
  return 0;
broken:
  return wudf__set_error(error, EPROTO, "function '%s': cannot decode its signature '%s'",
                         signature->name, signature->text);
}

int wudf__udf_module_init(struct wudf_module* module, const uint8_t* bytes,
                          struct wudf_error* error) {
  struct wudf__udf_table* table = wudf__calloc(1, sizeof(*table));
  if (table == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  module->udf = table;
  const struct wudf__wasm_custom* custom = wudf__wasm_find_custom(&module->info, "wasmudf");
  if (custom == NULL || custom->size == 0) return 0;
  const char* payload = (const char*)bytes + custom->offset;
  size_t size = custom->size;
  if (size > WUDF__MAX_METADATA) {
    return wudf__set_error(error, EPROTO, "the wasmudf metadata section has %zu bytes, "
                           "more than the limit of %zu", size, WUDF__MAX_METADATA);
  }
  if (payload[size - 1] != '\0') {
    return wudf__set_error(error, EPROTO, "the last wasmudf metadata record is not "
                           "NUL-terminated");
  }
  uint32_t count = 0;
  for (size_t i = 0; i < size; i++) {
    if (payload[i] == '\0' && i > 0 && payload[i - 1] != '\0') count++;
  }
  if (count > WUDF__MAX_FUNCTIONS) {
    return wudf__set_error(error, EPROTO, "%u functions declared, more than the limit of "
                           "%u", count, WUDF__MAX_FUNCTIONS);
  }
  table->functions = wudf__calloc(count ? count : 1, sizeof(*table->functions));
  if (table->functions == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  for (size_t at = 0; at < size;) {
    const char* record = payload + at;
    size_t length = strlen(record);
    at += length + 1;
    if (length == 0) continue;
    struct wudf__udf* udf = &table->functions[table->count];
    char message[256];
    if (wudf__record_parse(record, &udf->signature, message, sizeof(message)) != 0) {
      return wudf__set_error(error, EPROTO, "wasmudf metadata record %u ('%.200s'): %s",
                             table->count + 1, record, message);
    }
    for (uint32_t i = 0; i < table->count; i++) {
      if (strcmp(table->functions[i].signature.name, udf->signature.name) == 0) {
        return wudf__set_error(error, EPROTO, "function '%s' is declared twice",
                               udf->signature.name);
      }
    }
    char export_name[sizeof(WUDF__EXPORT_PREFIX) + WUDF__MAX_NAME];
    snprintf(export_name, sizeof(export_name), WUDF__EXPORT_PREFIX "%s",
             udf->signature.name);
    if (wudf_module_find_export(module, export_name, &udf->export_index, NULL) != 0 ||
        !wudf__export_matches(&module->exports[udf->export_index], "iiii:i")) {
      return wudf__set_error(error, EPROTO,
                             "function '%s' is declared but the module has no export "
                             "%s with wasm type (i32, i32, i32, i32) -> i32",
                             udf->signature.name, export_name);
    }
    table->count++;
    int described = wudf__udf_describe(udf, error);
    if (described != 0) return described;
  }
  if (table->count > 0) {
    if (!module->info.has_memory) {
      return wudf__set_error(error, EPROTO, "the module declares functions but has no "
                             "linear memory");
    }
    for (int i = 0; i < WUDF__ABI_EXPORT_COUNT; i++) {
      int status = wudf__find_abi_export(module, wudf__abi_exports[i].name,
                                         wudf__abi_exports[i].signature, &table->abi[i],
                                         error);
      if (status != 0) return status;
    }
  }
  return 0;
}

uint32_t wudf_module_function_count(const struct wudf_module* module) {
  return module != NULL && module->udf != NULL ? module->udf->count : 0;
}

int wudf_module_function(const struct wudf_module* module, uint32_t index,
                         struct wudf_function_info* out, struct wudf_error* error) {
  if (module == NULL || out == NULL) {
    return wudf__set_error(error, EINVAL, "module and out must not be NULL");
  }
  if (index >= wudf_module_function_count(module)) {
    return wudf__set_error(error, EINVAL, "function index %u out of range (%u functions)",
                           index, wudf_module_function_count(module));
  }
  const struct wudf__udf* udf = &module->udf->functions[index];
  const struct wudf__signature* signature = &udf->signature;
  memset(out, 0, sizeof(*out));
  out->name = signature->name;
  out->kind = signature->kind == WUDF__KIND_BATCH ? WUDF_FUNCTION_BATCH : WUDF_FUNCTION_SCALAR;
  out->signature = signature->text;
  out->arg_count = signature->arg_count;
  out->arg_types = udf->arg_types;
  out->arg_formats = udf->arg_formats;
  out->result_type = udf->result_type;
  out->result_format = udf->result_format;
  out->field_count = udf->field_count;
  out->field_names = udf->field_names;
  out->field_types = udf->field_types;
  out->field_formats = udf->field_formats;
  out->strict = signature->strict;
  return 0;
}

int wudf_module_find_function(const struct wudf_module* module, const char* name,
                              uint32_t* index, struct wudf_error* error) {
  if (module == NULL || name == NULL || index == NULL) {
    return wudf__set_error(error, EINVAL, "module, name and index must not be NULL");
  }
  for (uint32_t i = 0; i < wudf_module_function_count(module); i++) {
    if (strcmp(module->udf->functions[i].signature.name, name) == 0) {
      *index = i;
      return 0;
    }
  }
  return wudf__set_error(error, ENOENT, "the module has no function '%s'", name);
}

/* ------------------------------------------------------- guest plumbing */

struct wudf__call {
  struct wudf_instance* instance;
  const struct wudf__udf_table* table;
  const struct wudf__udf* udf;
  const struct wudf_call_options* options;
  uint64_t timeout_ms;
  struct wudf_error* error;
};

static struct wudf__guest_memory wudf__memory_of(const struct wudf_instance* instance) {
  struct wudf__guest_memory memory = {NULL, 0};
  if (instance->runtime.memory != NULL) {
    memory.base = instance->runtime.memory->data;
    memory.size = instance->runtime.memory->size;
  }
  return memory;
}

/* Calls an export of i32 arguments and at most one i32 result. */
static int wudf__guest_call(struct wudf__call* call, uint32_t export_index,
                            const uint32_t* args, size_t arg_count, uint32_t* result) {
  struct wudf_value values[4];
  for (size_t i = 0; i < arg_count; i++) {
    values[i].type = WUDF_I32;
    values[i].of.i32 = (int32_t)args[i];
  }
  struct wudf_value out;
  int status = wudf_instance_call(call->instance, export_index, values, arg_count, &out,
                                  result != NULL ? 1 : 0, call->timeout_ms, call->error);
  if (status != 0) {
    return wudf__error_prefix(call->error, status, "function '%s'",
                              call->udf->signature.name);
  }
  if (result != NULL) *result = (uint32_t)out.of.i32;
  return 0;
}

/* The first call on an instance: check the ABI version, learn the release
 * callbacks, allocate the output slots. */
static int wudf__instance_prepare(struct wudf__call* call) {
  struct wudf_instance* instance = call->instance;
  if (instance->udf_ready) return 0;
  const uint32_t* abi = call->table->abi;
  uint32_t version = 0, slots = 0;
  int status = wudf__guest_call(call, abi[WUDF__ABI_VERSION_EXPORT], NULL, 0, &version);
  if (status != 0) return status;
  if (version != WUDF__ABI_VERSION) {
    return wudf__set_error(call->error, EPROTO, "the module speaks guest ABI version %u; "
                           "this library speaks version %d", version, WUDF__ABI_VERSION);
  }
  status = wudf__guest_call(call, abi[WUDF__ABI_INPUT_ARRAY_RELEASE], NULL, 0,
                            &instance->udf_array_release);
  if (status == 0) {
    status = wudf__guest_call(call, abi[WUDF__ABI_INPUT_SCHEMA_RELEASE], NULL, 0,
                              &instance->udf_schema_release);
  }
  uint32_t request[2] = {WUDF__ARRAY_SIZE + WUDF__SCHEMA_SIZE, 8};
  if (status == 0) status = wudf__guest_call(call, abi[WUDF__ABI_ALLOC], request, 2, &slots);
  if (status != 0) return status;
  struct wudf__guest_memory memory = wudf__memory_of(instance);
  if (slots == 0 || (slots & 7) != 0 ||
      !wudf__guest_range_ok(&memory, slots, WUDF__ARRAY_SIZE + WUDF__SCHEMA_SIZE)) {
    return wudf__set_error(call->error, EPROTO, "wudf_alloc returned %u for the output "
                           "slots: not an aligned block inside linear memory", slots);
  }
  instance->udf_slots = slots;
  instance->udf_ready = 1;
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

/* After a guest call: release the inputs the guest left, and drop the host's
 * reference to the input block (freeing it when nothing else holds it). */
static int wudf__finish_inputs(struct wudf__call* call, uint32_t block,
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
    return wudf__guest_call(call, call->table->abi[WUDF__ABI_FREE], &block, 1, NULL);
  }
  /* The guest kept some inputs (moved children): it frees the block when it
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

/* What one guest call produced, once validated: a host copy, or a view. */
struct wudf__result {
  struct ArrowArray array;
  struct ArrowSchema schema;
  int present;
};

static void wudf__result_release(struct wudf__result* result) {
  if (!result->present) return;
  if (result->array.release != NULL) result->array.release(&result->array);
  if (result->schema.release != NULL) result->schema.release(&result->schema);
  result->present = 0;
}

/* The last release of a view: the instance may run guest code again. */
static void wudf__view_released(void* context) { wudf__instance_unpin(context); }

/*
 * Validates the guest's result at `out`/`out_schema`: its schema, then its
 * type against the declaration, then its data (exactly `length` rows, or
 * any number when -1). Then copies it into `*result`, or, when `view`,
 * makes `*result` a view of guest memory and pins the instance.
 */
static int wudf__take_result(struct wudf__call* call, const struct wudf__guest_memory* memory,
                             uint32_t out, uint32_t out_schema, int64_t length, int view,
                             struct wudf__result* result) {
  const struct wudf__signature* signature = &call->udf->signature;
  struct wudf__mirror* mirror = NULL;
  int status = wudf__mirror_schema(memory, out_schema, "result", &mirror, call->error);
  if (status == 0) {
    char message[512];
    if (wudf__type_match(signature->text + signature->result.start, signature->result.length,
                         wudf__mirror_root_schema(mirror), message, sizeof(message)) != 0) {
      char whole[1024];
      wudf__type_mismatch(call->udf->result_type, wudf__mirror_root_schema(mirror), message,
                          whole, sizeof(whole));
      status = wudf__set_error(call->error, EPROTO, "result: type: %s", whole);
    }
  }
  if (status == 0) {
    status = wudf__mirror_array(mirror, memory, out, length, (int)call->options->validation,
                                "result", call->error);
  }
  if (status == EPROTO) {
    wudf__error_prefix(call->error, status, "function '%s' returned an invalid result",
                       signature->name);
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
  } else if (status == 0) {
    const struct ArrowArray* array = wudf__mirror_root_array(mirror);
    struct wudf__segment all = {array, 0, array->length};
    struct wudf__gather* gather = NULL;
    status = wudf__gather_new(wudf__mirror_root_schema(mirror), &all, 1, &gather, call->error);
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

/* The next function call on an instance whose view was released: let the
 * guest free the result the view was reading. */
static int wudf__release_pending_result(struct wudf__call* call) {
  struct wudf_instance* instance = call->instance;
  if (!instance->udf_release_pending) return 0;
  instance->udf_release_pending = 0;
  return wudf__release_through_guest(call, instance->udf_slots, WUDF__ARRAY_RELEASE,
                                     WUDF__ABI_RELEASE_ARRAY);
}

/* One guest call over the rows planned in `plan` (a struct of the
 * arguments): write the input block, call, clean up the inputs, take the
 * result (`length` rows, -1 for any; a view when `view`), release what the
 * guest still owns of it. */
static int wudf__run_guest(struct wudf__call* call, const struct wudf__plan* plan,
                           int64_t plan_size, int64_t length, int view,
                           struct wudf__result* result) {
  struct wudf_instance* instance = call->instance;
  const char* name = call->udf->signature.name;
  int64_t block_size = WUDF__BLOCK_HEADER_SIZE + plan_size;
  uint32_t block = 0;
  uint32_t request[2] = {(uint32_t)block_size, WUDF__BLOCK_ALIGN};
  int status = wudf__guest_call(call, call->table->abi[WUDF__ABI_ALLOC], request, 2, &block);
  if (status != 0) return status;
  struct wudf__guest_memory memory = wudf__memory_of(instance);
  if (block == 0) {
    return wudf__set_error(call->error, ENOMEM, "function '%s': the guest could not "
                           "allocate %" PRId64 " bytes for the arguments (wudf_alloc "
                           "returned 0)", name, block_size);
  }
  if ((block & (WUDF__BLOCK_ALIGN - 1)) != 0 ||
      !wudf__guest_range_ok(&memory, block, (uint64_t)block_size)) {
    return wudf__set_error(call->error, EPROTO, "function '%s': wudf_alloc returned %u, "
                           "not a 64-byte aligned block of %" PRId64 " bytes inside "
                           "linear memory", name, block, block_size);
  }
  struct wudf__guest_placement placed;
  wudf__plan_guest_write(plan, "args", &memory, block + WUDF__BLOCK_HEADER_SIZE,
                         instance->udf_array_release, instance->udf_schema_release, block,
                         &placed);
  wudf__store_u32(&memory, block + WUDF__BLOCK_LIVE, placed.struct_count + 1);
  wudf__store_u32(&memory, block + WUDF__BLOCK_MAGIC_OFFSET, WUDF__BLOCK_MAGIC);
  uint32_t out = instance->udf_slots, out_schema = out + WUDF__ARRAY_SIZE;
  memset(memory.base + out, 0, WUDF__ARRAY_SIZE + WUDF__SCHEMA_SIZE);

  uint32_t call_args[4] = {placed.array, placed.schema, out, out_schema};
  uint32_t returned = 0;
  status = wudf__guest_call(call, call->udf->export_index, call_args, 4, &returned);
  if (status != 0) return status; /* a trap: the instance is broken */
  status = wudf__finish_inputs(call, block, &placed);
  if (status != 0) return status;

  if (returned != 0) {
    char message[1024] = "";
    uint32_t at = 0;
    status = wudf__guest_call(call, call->table->abi[WUDF__ABI_ERROR_MESSAGE], NULL, 0, &at);
    if (status != 0) return status;
    memory = wudf__memory_of(instance);
    if (at == 0 || wudf__guest_string(&memory, at, message, sizeof(message)) != 0 ||
        message[0] == '\0') {
      snprintf(message, sizeof(message), "no message (code %d)", (int)returned);
    }
    status = wudf__set_error(call->error, ECANCELED, "function '%s' failed: %s", name,
                             message);
  } else {
    memory = wudf__memory_of(instance);
    status = wudf__take_result(call, &memory, out, out_schema, length, view, result);
  }
  /* Release the guest's result, whatever it was -- except the array a view
   * still reads. */
  struct wudf_error release_error;
  struct wudf_error* saved = call->error;
  call->error = status == 0 ? saved : &release_error;
  int released = 0;
  if (!(status == 0 && view)) {
    released = wudf__release_through_guest(call, out, WUDF__ARRAY_RELEASE,
                                           WUDF__ABI_RELEASE_ARRAY);
  }
  if (released == 0) {
    released = wudf__release_through_guest(call, out_schema, WUDF__SCHEMA_RELEASE,
                                           WUDF__ABI_RELEASE_SCHEMA);
  }
  call->error = saved;
  if (status == 0 && released != 0) wudf__result_release(result);
  if (status == 0 && released == 0 && view) {
    /* From here until the view's last release no guest code may run; the
     * guest's array stays until then, and the next function call releases
     * it. The pin cannot be taken already: calls check it first. */
    wudf__instance_pin(instance);
    instance->udf_release_pending = 1;
  }
  return status != 0 ? status : released;
}

/* ------------------------------------------------------------- arguments */

/* The caller's arguments seen as one struct array, so that one gather
 * plans every column of a guest call. */
struct wudf__arguments {
  uint32_t count;
  int64_t rows;
  uint8_t layouts[WUDF__MAX_ARGS]; /* enum wudf__layout of each argument */
  struct ArrowArray* arrays[WUDF__MAX_ARGS];
  struct ArrowSchema* schemas[WUDF__MAX_ARGS];
  /* Shallow copies of the caller's schemas, renamed "arg0", "arg1", ... as
   * docs/abi.md promises the guest. */
  struct ArrowSchema renamed[WUDF__MAX_ARGS];
  const void* no_buffers[1];
  struct ArrowArray array;
  struct ArrowSchema schema;
};

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

static void wudf__arguments_init(struct wudf__arguments* arguments, int64_t rows) {
  arguments->rows = rows;
  arguments->no_buffers[0] = NULL;
  memset(&arguments->array, 0, sizeof(arguments->array));
  memset(&arguments->schema, 0, sizeof(arguments->schema));
  arguments->array.length = rows;
  arguments->array.n_buffers = 1;
  arguments->array.buffers = arguments->no_buffers;
  arguments->array.n_children = arguments->count;
  arguments->array.children = arguments->arrays;
  arguments->array.release = wudf__arguments_array_release;
  arguments->schema.format = "+s";
  arguments->schema.name = "args";
  arguments->schema.n_children = arguments->count;
  arguments->schema.children = arguments->schemas;
  arguments->schema.release = wudf__arguments_schema_release;
}

/* Checks that a caller's array has the shape its schema's format requires
 * (buffer and child counts, a dictionary where the schema has one), so the
 * gatherer can walk it; `depth` bounds recursion. Buffer contents are the
 * caller's responsibility. Returns 0 or -1 with the path in `where`. */
static int wudf__check_shape(const struct ArrowArray* array, const struct ArrowSchema* schema,
                             int depth, char* where, size_t size) {
  struct wudf__format format;
  if (array == NULL || schema == NULL || schema->format == NULL || depth > WUDF__MAX_DEPTH ||
      wudf__format_parse(schema->format, &format) != 0 || array->length < 0 ||
      array->offset < 0 || array->n_children != schema->n_children ||
      (format.n_children >= 0 && array->n_children != format.n_children) ||
      (format.layout == WUDF__LAYOUT_VIEW ? array->n_buffers < 3
                                          : array->n_buffers != format.n_buffers) ||
      (array->n_buffers > 0 && array->buffers == NULL) ||
      (array->n_children > 0 && (array->children == NULL || schema->children == NULL)) ||
      ((schema->dictionary == NULL) != (array->dictionary == NULL))) {
    snprintf(where, size, "%s", schema != NULL && schema->name != NULL ? schema->name : "?");
    return -1;
  }
  for (int64_t i = 0; i < array->n_children; i++) {
    if (wudf__check_shape(array->children[i], schema->children[i], depth + 1, where, size)) {
      return -1;
    }
  }
  if (schema->dictionary != NULL &&
      wudf__check_shape(array->dictionary, schema->dictionary, depth + 1, where, size) != 0) {
    return -1;
  }
  return 0;
}

/* Checks one caller argument against the signature and records it. */
static int wudf__check_argument(const struct wudf__call* call, uint32_t index,
                                const struct ArrowArray* array,
                                const struct ArrowSchema* schema,
                                struct wudf__arguments* arguments) {
  const struct wudf__signature* signature = &call->udf->signature;
  if (array == NULL || schema == NULL || array->release == NULL ||
      schema->release == NULL || schema->format == NULL) {
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u is NULL or "
                           "released", signature->name, index + 1);
  }
  char message[512];
  if (wudf__type_match(signature->text + signature->args[index].start,
                       signature->args[index].length, schema, message, sizeof(message)) != 0) {
    char whole[1024];
    wudf__type_mismatch(call->udf->arg_types[index], schema, message, whole, sizeof(whole));
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u: %s",
                           signature->name, index + 1, whole);
  }
  char where[128];
  if (wudf__check_shape(array, schema, 1, where, sizeof(where)) != 0) {
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u is not a "
                           "well-formed %s array (at '%s': buffer or child counts, offset, "
                           "length or dictionary)", signature->name, index + 1,
                           call->udf->arg_types[index], where);
  }
  if (array->length != arguments->rows) {
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u has %" PRId64
                           " rows, argument 1 has %" PRId64, signature->name, index + 1,
                           array->length, arguments->rows);
  }
  struct wudf__format format;
  wudf__format_parse(schema->format, &format); /* checked by wudf__check_shape */
  arguments->layouts[index] = format.layout;
  arguments->arrays[index] = (struct ArrowArray*)array;
  arguments->renamed[index] = *schema;
  arguments->renamed[index].name = wudf__arg_names[index];
  arguments->schemas[index] = &arguments->renamed[index];
  return 0;
}

/* Nonzero when row `row` of argument `index` is null at the top level (a
 * null-type column is all null; unions and run-end encoded columns have no
 * top-level nulls). */
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

/* Nonzero when some argument may have a null in rows [start, start + count). */
static int wudf__any_null(const struct wudf__arguments* arguments, int64_t start,
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

/* ------------------------------------------------------------------ scalar */

/* A growable list of segments. */
struct wudf__segments {
  struct wudf__segment* items;
  size_t count;
  size_t capacity;
};

/* Appends rows [start, start + count) of `array` (NULL: null rows), merging
 * with the previous segment when it continues it. 0 or ENOMEM. */
static int wudf__segments_add(struct wudf__segments* list, const struct ArrowArray* array,
                              int64_t start, int64_t count) {
  if (count == 0) return 0;
  if (list->count > 0) {
    struct wudf__segment* last = &list->items[list->count - 1];
    if (last->array == array && (array == NULL || last->start + last->count == start)) {
      last->count += count;
      return 0;
    }
  }
  if (list->count == list->capacity) {
    size_t capacity = list->capacity ? 2 * list->capacity : 16;
    struct wudf__segment* grown = wudf__realloc(list->items, capacity * sizeof(*grown));
    if (grown == NULL) return ENOMEM;
    list->items = grown;
    list->capacity = capacity;
  }
  list->items[list->count++] = (struct wudf__segment){array, start, count};
  return 0;
}

/* The rows of [start, start + count) in which every argument is valid, as
 * segments of the arguments struct. */
static int wudf__select_valid(const struct wudf__arguments* arguments, int64_t start,
                              int64_t count, struct wudf__segments* selected,
                              int64_t* selected_rows) {
  selected->count = 0;
  *selected_rows = 0;
  for (int64_t row = start; row < start + count; row++) {
    int valid = 1;
    for (uint32_t i = 0; valid && i < arguments->count; i++) {
      if (wudf__argument_null(arguments, i, row)) valid = 0;
    }
    if (!valid) continue;
    if (wudf__segments_add(selected, &arguments->array, row, 1) != 0) return ENOMEM;
    (*selected_rows)++;
  }
  return 0;
}

/* The guest calls of one scalar function call, and how their results make
 * up the final column. */
struct wudf__scalar_parts {
  struct wudf__result** results; /* one per guest call that ran; segments of
                                    `output` point into them */
  size_t count;
  size_t capacity;
  struct wudf__segments output;  /* rows of the final column, in order */
};

static void wudf__scalar_parts_free(struct wudf__scalar_parts* parts) {
  for (size_t i = 0; i < parts->count; i++) {
    wudf__result_release(parts->results[i]);
    wudf__free(parts->results[i]);
  }
  wudf__free(parts->results);
  wudf__free(parts->output.items);
}

/* Plans the rows `rows` of the arguments into a new gather; stores the
 * guest size of the plan in `*size` (-1 past 32 bits). */
static int wudf__plan_rows(struct wudf__call* call, const struct wudf__arguments* arguments,
                           const struct wudf__segments* rows, struct wudf__gather** gather,
                           int64_t* size) {
  int status = wudf__gather_new(&arguments->schema, rows->items, rows->count, gather,
                                call->error);
  if (status != 0) return status;
  *size = wudf__plan_guest_size(wudf__gather_plan(*gather));
  return 0;
}

static int wudf__call_scalar(struct wudf__call* call, const struct wudf__arguments* arguments,
                             struct ArrowArray* out, struct ArrowSchema* out_schema) {
  const struct wudf__signature* signature = &call->udf->signature;
  const struct wudf_call_options* options = call->options;
  int64_t total = arguments->rows;
  int64_t max_rows = options->max_rows_per_call > 0 ? options->max_rows_per_call : 1;
  int view = options->result == WUDF_RESULT_VIEW;
  if (view && total > max_rows) {
    return wudf__set_error(call->error, ENOTSUP, "function '%s': a zero-copy view needs the "
                           "result of one guest call, but %" PRId64 " rows exceed "
                           "max_rows_per_call (%" PRId64 ")", signature->name, total,
                           max_rows);
  }
  struct wudf__scalar_parts parts;
  memset(&parts, 0, sizeof(parts));
  struct wudf__segments rows = {NULL, 0, 0};
  int status = 0;
  int64_t start = 0;
  do {
    int64_t count = total - start < max_rows ? total - start : max_rows;
    int64_t selected_rows = count, size = -1;
    struct wudf__gather* gather = NULL;
    for (;;) {
      int strict_nulls = signature->strict && wudf__any_null(arguments, start, count);
      rows.count = 0;
      if (strict_nulls) {
        if (view) {
          status = wudf__set_error(call->error, ENOTSUP, "function '%s': a zero-copy view "
                                   "cannot hold the null rows of a strict function; its "
                                   "arguments have nulls", signature->name);
          break;
        }
        status = wudf__select_valid(arguments, start, count, &rows, &selected_rows);
      } else {
        selected_rows = count;
        status = wudf__segments_add(&rows, &arguments->array, start, count);
      }
      if (status == ENOMEM) status = wudf__set_error(call->error, ENOMEM, "out of memory");
      if (status == 0) status = wudf__plan_rows(call, arguments, &rows, &gather, &size);
      if (status != 0) break;
      if (size >= 0 && WUDF__BLOCK_HEADER_SIZE + size <= options->max_block_bytes) break;
      wudf__gather_free(gather);
      gather = NULL;
      if (count == 1 || view) {
        status = wudf__set_error(call->error, EFBIG, "function '%s': %s %" PRId64
                                 " %s more than the %" PRId64 " bytes one call may pass "
                                 "to the guest", signature->name,
                                 count == 1 ? "row" : "the rows from", start,
                                 count == 1 ? "alone needs" : "need", options->max_block_bytes);
        break;
      }
      count = (count + 1) / 2;
    }
    /* A guest call runs for the selected rows, and once for a result
     * schema when no row at all has been selected yet. */
    struct wudf__result* result = NULL;
    if (status == 0 && (selected_rows > 0 || parts.count == 0)) {
      if (parts.count == parts.capacity) {
        size_t capacity = parts.capacity ? 2 * parts.capacity : 4;
        struct wudf__result** grown = wudf__realloc(parts.results, capacity * sizeof(*grown));
        if (grown == NULL) {
          status = wudf__set_error(call->error, ENOMEM, "out of memory");
        } else {
          parts.results = grown;
          parts.capacity = capacity;
        }
      }
      if (status == 0) {
        result = wudf__calloc(1, sizeof(*result));
        if (result == NULL) status = wudf__set_error(call->error, ENOMEM, "out of memory");
      }
      if (status == 0) {
        parts.results[parts.count++] = result;
        status = wudf__run_guest(call, wudf__gather_plan(gather), size, selected_rows, view,
                                 result);
      }
    }
    wudf__gather_free(gather);
    /* The final column: the guest's rows where selected, nulls elsewhere. */
    int64_t next = 0; /* row of the guest's result */
    if (status == 0) {
      int64_t row = start;
      for (size_t i = 0; status == 0 && i < rows.count; i++) {
        const struct wudf__segment* taken = &rows.items[i];
        status = wudf__segments_add(&parts.output, NULL, 0, taken->start - row);
        if (status == 0) {
          status = wudf__segments_add(&parts.output, &result->array, next, taken->count);
        }
        next += taken->count;
        row = taken->start + taken->count;
      }
      if (status == 0) status = wudf__segments_add(&parts.output, NULL, 0, start + count - row);
      if (status != 0) status = wudf__set_error(call->error, ENOMEM, "out of memory");
    }
    start += count;
  } while (status == 0 && start < total);
  wudf__free(rows.items);

  if (status == 0) {
    struct wudf__result* first = parts.results[0];
    int whole = parts.count == 1 && parts.output.count <= 1 &&
                (parts.output.count == 0 || parts.output.items[0].array == &first->array);
    if (whole) {
      /* One guest call gave every row: its result is the column. */
      *out = first->array;
      *out_schema = first->schema;
      first->present = 0;
    } else {
      struct wudf__gather* gather = NULL;
      status = wudf__gather_new(&first->schema, parts.output.items, parts.output.count,
                                &gather, call->error);
      if (status == 0) {
        status = wudf__plan_export(wudf__gather_plan(gather), signature->name, out,
                                   out_schema, call->error);
      }
      wudf__gather_free(gather);
      if (status != 0) {
        wudf__error_prefix(call->error, status, "function '%s': assembling the result",
                           signature->name);
      }
    }
  }
  wudf__scalar_parts_free(&parts);
  return status;
}

/* ------------------------------------------------------------------- batch */

static int wudf__call_batch(struct wudf__call* call, const struct wudf__arguments* arguments,
                            struct ArrowArray* out, struct ArrowSchema* out_schema) {
  const struct wudf_call_options* options = call->options;
  struct wudf__segments rows = {NULL, 0, 0};
  struct wudf__gather* gather = NULL;
  int64_t size = -1;
  int status = wudf__segments_add(&rows, &arguments->array, 0, arguments->rows);
  if (status != 0) status = wudf__set_error(call->error, ENOMEM, "out of memory");
  if (status == 0) status = wudf__plan_rows(call, arguments, &rows, &gather, &size);
  wudf__free(rows.items);
  if (status == 0 && (size < 0 || WUDF__BLOCK_HEADER_SIZE + size > options->max_block_bytes)) {
    status = wudf__set_error(call->error, EFBIG, "function '%s': a batch function sees its "
                             "whole input in one call, and these %" PRId64 " rows need more "
                             "than the %" PRId64 " bytes one call may pass",
                             call->udf->signature.name, arguments->rows,
                             options->max_block_bytes);
  }
  struct wudf__result result;
  memset(&result, 0, sizeof(result));
  if (status == 0) {
    status = wudf__run_guest(call, wudf__gather_plan(gather), size, -1,
                             options->result == WUDF_RESULT_VIEW, &result);
  }
  wudf__gather_free(gather);
  if (status != 0) return status;
  *out = result.array;
  *out_schema = result.schema;
  return 0;
}

/* ----------------------------------------------------------------- entry */

void wudf_call_options_init(struct wudf_call_options* options) {
  memset(options, 0, sizeof(*options));
  options->max_rows_per_call = (int64_t)1 << 20;
  options->max_block_bytes = (int64_t)64 << 20;
  options->timeout_ms = WUDF_TIMEOUT_DEFAULT;
  options->validation = WUDF_VALIDATION_FULL;
  options->result = WUDF_RESULT_COPY;
}

static int wudf__call_function(struct wudf_instance* instance, uint32_t function,
                               uint32_t arg_count, const struct ArrowArray* const* arrays,
                               const struct ArrowSchema* const* schemas, int64_t rows,
                               const struct wudf_call_options* options,
                               struct ArrowArray* out, struct ArrowSchema* out_schema,
                               struct wudf_error* error) {
  const struct wudf_module* module = instance->module;
  if (function >= wudf_module_function_count(module)) {
    return wudf__set_error(error, EINVAL, "function index %u out of range (%u functions)",
                           function, wudf_module_function_count(module));
  }
  struct wudf_call_options defaults;
  if (options == NULL) {
    wudf_call_options_init(&defaults);
    options = &defaults;
  }
  struct wudf__call call = {instance, module->udf, &module->udf->functions[function],
                            options, options->timeout_ms, error};
  const struct wudf__signature* signature = &call.udf->signature;
  if (options->validation != WUDF_VALIDATION_FULL &&
      options->validation != WUDF_VALIDATION_STRUCTURE) {
    return wudf__set_error(error, EINVAL, "unknown validation level %d",
                           (int)options->validation);
  }
  if (options->result != WUDF_RESULT_COPY && options->result != WUDF_RESULT_VIEW) {
    return wudf__set_error(error, EINVAL, "unknown result mode %d", (int)options->result);
  }
  if (arg_count != signature->arg_count) {
    return wudf__set_error(error, EINVAL, "function '%s' takes %u arguments, %u given",
                           signature->name, signature->arg_count, arg_count);
  }
  struct wudf__arguments* arguments = wudf__malloc(sizeof(*arguments));
  if (arguments == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  arguments->count = arg_count;
  wudf__arguments_init(arguments, rows);
  int status = 0;
  for (uint32_t i = 0; status == 0 && i < arg_count; i++) {
    status = wudf__check_argument(&call, i, arrays[i], schemas[i], arguments);
  }
  if (status == 0 && (atomic_load(&instance->view_state) & WUDF__PINNED)) {
    status = wudf__set_error(error, EBUSY, "function '%s': a zero-copy result view of this "
                             "instance's memory is still alive; release it first",
                             signature->name);
  }
  if (status == 0 && instance->broken) {
    status = wudf__set_error(error, ENOTRECOVERABLE, "function '%s': the instance is broken "
                             "by an earlier trap; create a new instance", signature->name);
  }
  if (status == 0) status = wudf__instance_prepare(&call);
  if (status == 0) status = wudf__release_pending_result(&call);
  if (status == 0) {
    status = signature->kind == WUDF__KIND_BATCH
                 ? wudf__call_batch(&call, arguments, out, out_schema)
                 : wudf__call_scalar(&call, arguments, out, out_schema);
  }
  wudf__free(arguments);
  return status;
}

int wudf_function_call(struct wudf_instance* instance, uint32_t function,
                       uint32_t arg_count, const struct ArrowArray* const* args,
                       const struct ArrowSchema* const* arg_schemas,
                       const struct wudf_call_options* options,
                       struct ArrowArray* out, struct ArrowSchema* out_schema,
                       struct wudf_error* error) {
  if (instance == NULL || out == NULL || out_schema == NULL ||
      (arg_count > 0 && (args == NULL || arg_schemas == NULL))) {
    return wudf__set_error(error, EINVAL, "instance, args, out and out_schema must not be "
                           "NULL");
  }
  if (arg_count == 0) {
    return wudf__set_error(error, EINVAL, "a call without arguments has no row count: use "
                           "wudf_function_call_batch with an empty struct of N rows");
  }
  if (arg_count > WUDF__MAX_ARGS) {
    return wudf__set_error(error, EINVAL, "%u arguments, more than the limit of %d",
                           arg_count, WUDF__MAX_ARGS);
  }
  if (args[0] == NULL) return wudf__set_error(error, EINVAL, "argument 1 is NULL");
  return wudf__call_function(instance, function, arg_count, args, arg_schemas,
                             args[0]->length, options, out, out_schema, error);
}

int wudf_function_call_batch(struct wudf_instance* instance, uint32_t function,
                             const struct ArrowArray* batch,
                             const struct ArrowSchema* batch_schema,
                             const struct wudf_call_options* options,
                             struct ArrowArray* out, struct ArrowSchema* out_schema,
                             struct wudf_error* error) {
  if (instance == NULL || batch == NULL || batch_schema == NULL || out == NULL ||
      out_schema == NULL) {
    return wudf__set_error(error, EINVAL, "instance, batch, batch_schema, out and "
                           "out_schema must not be NULL");
  }
  if (batch->release == NULL || batch_schema->release == NULL ||
      batch_schema->format == NULL || strcmp(batch_schema->format, "+s") != 0 ||
      batch->n_children != batch_schema->n_children || batch->n_children < 0 ||
      batch->n_children > WUDF__MAX_ARGS || batch->length < 0 || batch->offset < 0) {
    return wudf__set_error(error, EINVAL, "the batch must be a struct array (format '+s') "
                           "with at most %d columns", WUDF__MAX_ARGS);
  }
  if (batch->null_count != 0 && batch->n_buffers > 0 && batch->buffers != NULL &&
      batch->buffers[0] != NULL) {
    return wudf__set_error(error, EINVAL, "the batch has struct-level nulls; only its "
                           "columns may have nulls");
  }
  /* Each column seen through the batch's own offset and length. */
  struct ArrowArray columns[WUDF__MAX_ARGS];
  const struct ArrowArray* arrays[WUDF__MAX_ARGS];
  const struct ArrowSchema* schemas[WUDF__MAX_ARGS];
  uint32_t count = (uint32_t)batch->n_children;
  for (uint32_t i = 0; i < count; i++) {
    const struct ArrowArray* child = batch->children[i];
    if (child == NULL || batch_schema->children[i] == NULL ||
        child->length < batch->offset + batch->length) {
      return wudf__set_error(error, EINVAL, "column %u of the batch is missing or shorter "
                             "than the batch", i + 1);
    }
    columns[i] = *child;
    columns[i].offset = child->offset + batch->offset;
    columns[i].length = batch->length;
    if (child->null_count != 0) columns[i].null_count = -1; /* of a window: unknown */
    arrays[i] = &columns[i];
    schemas[i] = batch_schema->children[i];
  }
  return wudf__call_function(instance, function, count, arrays, schemas, batch->length,
                             options, out, out_schema, error);
}
