/*
 * functions.c -- user-defined functions over Arrow data: the functions a
 * module declares (its "wasmudf" custom section), and calling them.
 *
 * A call checks the caller's arguments against the signature, splits the
 * rows into guest calls that fit the per-call limits, and for each one
 * writes an input block into guest memory (abi/marshal.c), calls the
 * function's export, cleans up whatever inputs the guest did not release,
 * validates the result and copies it into host columns (abi/import.c), and
 * releases the guest's result through the guest. For a strict function the
 * rows with a null argument are left out of the guest call and made null
 * here. See docs/abi.md for the contract.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../abi/import.h"
#include "../abi/marshal.h"
#include "../arrow/bits.h"
#include "../arrow/column.h"
#include "../engine/engine.h"
#include "signature.h"

#define WUDF__MAX_METADATA ((size_t)1 << 20)
#define WUDF__MAX_FUNCTIONS 4096u
#define WUDF__MAX_BATCH_ROWS ((int64_t)1 << 31)

struct wudf__udf {
  struct wudf__signature signature;
  char text[1024];  /* canonical signature */
  uint32_t export_index;
  const char* arg_formats[WUDF__MAX_ARGS];
  const char* field_names[WUDF__MAX_FIELDS];
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
  wudf__free(module->udf->functions);
  wudf__free(module->udf);
  module->udf = NULL;
}

/* Fills the derived fields of a parsed function. */
static void wudf__udf_describe(struct wudf__udf* udf) {
  const struct wudf__signature* signature = &udf->signature;
  wudf__signature_format(signature, udf->text, sizeof(udf->text));
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    udf->arg_formats[i] = wudf__type_format(signature->arg_types[i]);
  }
  for (uint32_t i = 0; i < signature->field_count; i++) {
    udf->field_names[i] = signature->fields[i].name;
    udf->field_formats[i] = wudf__type_format(signature->fields[i].type);
  }
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
    wudf__udf_describe(udf);
    table->count++;
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
  out->signature = udf->text;
  out->arg_count = signature->arg_count;
  out->arg_formats = udf->arg_formats;
  out->result_format = wudf__type_format(signature->result_type);
  out->field_count = signature->field_count;
  out->field_names = udf->field_names;
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

void wudf_call_options_init(struct wudf_call_options* options) {
  options->max_rows_per_call = 65536;
  options->max_block_bytes = (int64_t)64 << 20;
  options->timeout_ms = WUDF_TIMEOUT_DEFAULT;
}

/* ------------------------------------------------------- guest plumbing */

struct wudf__call {
  struct wudf_instance* instance;
  const struct wudf__udf_table* table;
  const struct wudf__udf* udf;
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
                               const struct wudf__marshal_result* placed) {
  int status = wudf__release_through_guest(call, placed->args, WUDF__ARRAY_RELEASE,
                                           WUDF__ABI_RELEASE_ARRAY);
  if (status == 0) {
    status = wudf__release_through_guest(call, placed->args_schema, WUDF__SCHEMA_RELEASE,
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

/* Receives the validated result of one guest call. */
typedef int (*wudf__import_fn)(struct wudf__call* call, const struct wudf__guest_memory* memory,
                               uint32_t out, uint32_t out_schema, void* context);

/* One guest call over `rows` of the arguments: marshal, call, clean up,
 * import through `import`, release the result. */
static int wudf__run_guest(struct wudf__call* call, const struct wudf__marshal_arg* args,
                           uint32_t arg_count, const struct wudf__marshal_rows* rows,
                           int64_t block_size, wudf__import_fn import, void* context) {
  struct wudf_instance* instance = call->instance;
  const char* name = call->udf->signature.name;
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
  struct wudf__marshal_result placed;
  wudf__marshal_write(&memory, block, args, arg_count, rows, instance->udf_array_release,
                      instance->udf_schema_release, &placed);
  uint32_t out = instance->udf_slots, out_schema = out + WUDF__ARRAY_SIZE;
  memset(memory.base + out, 0, WUDF__ARRAY_SIZE + WUDF__SCHEMA_SIZE);

  uint32_t call_args[4] = {placed.args, placed.args_schema, out, out_schema};
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
    status = import(call, &memory, out, out_schema, context);
  }
  /* Release the guest's result, whatever it was. */
  struct wudf_error release_error;
  struct wudf_error* saved = call->error;
  call->error = status == 0 ? saved : &release_error;
  int released = wudf__release_through_guest(call, out, WUDF__ARRAY_RELEASE,
                                             WUDF__ABI_RELEASE_ARRAY);
  if (released == 0) {
    released = wudf__release_through_guest(call, out_schema, WUDF__SCHEMA_RELEASE,
                                           WUDF__ABI_RELEASE_SCHEMA);
  }
  call->error = saved;
  return status != 0 ? status : released;
}

/* ------------------------------------------------------------- arguments */

/* Checks one caller argument against the signature. */
static int wudf__check_argument(const struct wudf__call* call, uint32_t index,
                                const struct ArrowArray* array,
                                const struct ArrowSchema* schema, int64_t rows) {
  const struct wudf__signature* signature = &call->udf->signature;
  uint8_t expected = signature->arg_types[index];
  if (array == NULL || schema == NULL || array->release == NULL ||
      schema->release == NULL || schema->format == NULL) {
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u is NULL or "
                           "released", signature->name, index + 1);
  }
  uint8_t given = wudf__type_from_format(schema->format);
  if (given != expected) {
    char format[16];
    snprintf(format, sizeof(format), "%s", schema->format);
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u has type %s "
                           "(format '%s'), expected %s (format '%s')", signature->name,
                           index + 1, given ? wudf__type_name(given) : "unsupported", format,
                           wudf__type_name(expected), wudf__type_format(expected));
  }
  int64_t n_buffers = wudf__type_is_variable(expected, NULL) ? 3 : 2;
  if (array->n_buffers != n_buffers || array->buffers == NULL || array->offset < 0 ||
      array->length < 0) {
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u is not a "
                           "valid %s array", signature->name, index + 1,
                           wudf__type_name(expected));
  }
  if (array->length != rows) {
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u has %" PRId64
                           " rows, argument 1 has %" PRId64, signature->name, index + 1,
                           array->length, rows);
  }
  if (rows > 0 && (array->buffers[1] == NULL || (n_buffers == 3 && array->buffers[2] == NULL))) {
    return wudf__set_error(call->error, EINVAL, "function '%s': argument %u has a null "
                           "data buffer", signature->name, index + 1);
  }
  return 0;
}

/* ------------------------------------------------------------------ scalar */

struct wudf__scalar_import {
  struct wudf__column* column;
  int64_t start;
  const int64_t* selection;
  int64_t rows;
};

static int wudf__import_scalar(struct wudf__call* call, const struct wudf__guest_memory* memory,
                               uint32_t out, uint32_t out_schema, void* context) {
  struct wudf__scalar_import* scalar = context;
  struct wudf__import_target target = {scalar->column, scalar->start, scalar->selection};
  int status = wudf__import_column(memory, out, out_schema, call->udf->signature.result_type,
                                   scalar->rows, 0, "result", &target, call->error);
  if (status != 0) {
    wudf__error_prefix(call->error, status, "function '%s' returned an invalid result",
                       call->udf->signature.name);
  }
  return status;
}

/* Nonzero when some argument has a null in rows [start, start + count). */
static int wudf__any_null(const struct wudf__marshal_arg* args, uint32_t arg_count,
                          int64_t start, int64_t count) {
  for (uint32_t i = 0; i < arg_count; i++) {
    const struct ArrowArray* a = args[i].array;
    if (a->buffers[0] == NULL || a->null_count == 0) continue;
    if (wudf__bits_count(a->buffers[0], a->offset + start, count) != count) return 1;
  }
  return 0;
}

/* Fills `selection` with the rows of [start, start + count) (relative to
 * start) where every argument is valid; returns how many. */
static int64_t wudf__select_valid(const struct wudf__marshal_arg* args, uint32_t arg_count,
                                  int64_t start, int64_t count, int64_t* selection) {
  int64_t selected = 0;
  for (int64_t row = 0; row < count; row++) {
    int valid = 1;
    for (uint32_t i = 0; valid && i < arg_count; i++) {
      const struct ArrowArray* a = args[i].array;
      if (a->buffers[0] != NULL && a->null_count != 0 &&
          !wudf__bit_get(a->buffers[0], a->offset + start + row)) {
        valid = 0;
      }
    }
    if (valid) selection[selected++] = row;
  }
  return selected;
}

static int wudf__call_scalar(struct wudf__call* call, const struct wudf__marshal_arg* args,
                             uint32_t arg_count, int64_t total,
                             const struct wudf_call_options* options, struct ArrowArray* out,
                             struct ArrowSchema* out_schema) {
  const struct wudf__signature* signature = &call->udf->signature;
  struct wudf__column column;
  int status = wudf__column_init(&column, signature->result_type, total);
  if (status != 0) return wudf__set_error(call->error, status, "out of memory");
  int64_t max_rows = options->max_rows_per_call > 0 ? options->max_rows_per_call : 1;
  int64_t* selection = NULL;
  if (signature->strict && total > 0) {
    selection = wudf__malloc((size_t)(total < max_rows ? total : max_rows) * sizeof(int64_t));
    if (selection == NULL) status = wudf__set_error(call->error, ENOMEM, "out of memory");
  }
  for (int64_t start = 0; status == 0 && start < total;) {
    int64_t count = total - start < max_rows ? total - start : max_rows;
    struct wudf__marshal_rows rows;
    int64_t size;
    for (;;) {
      rows.start = start;
      rows.count = count;
      rows.selection = NULL;
      if (selection != NULL && wudf__any_null(args, arg_count, start, count)) {
        rows.count = wudf__select_valid(args, arg_count, start, count, selection);
        rows.selection = selection;
      }
      size = wudf__marshal_size(args, arg_count, &rows);
      if (size >= 0 && size <= options->max_block_bytes) break;
      if (count == 1) {
        status = wudf__set_error(call->error, EFBIG, "function '%s': row %" PRId64
                                 " alone needs more than the %" PRId64 " bytes one call "
                                 "may pass to the guest", signature->name, start,
                                 options->max_block_bytes);
        break;
      }
      count = (count + 1) / 2;
    }
    if (status != 0) break;
    if (rows.selection != NULL) {
      /* Strict: the rows left out are null. */
      int64_t next = 0;
      for (int64_t row = 0; status == 0 && row < count; row++) {
        if (next < rows.count && selection[next] == row) {
          next++;
        } else if (wudf__column_set_null(&column, start + row) != 0) {
          status = wudf__set_error(call->error, ENOMEM, "out of memory");
        }
      }
    }
    if (status == 0 && rows.count > 0) {
      struct wudf__scalar_import context = {&column, start, rows.selection, rows.count};
      status = wudf__run_guest(call, args, arg_count, &rows, size, wudf__import_scalar,
                               &context);
    }
    start += count;
  }
  wudf__free(selection);
  if (status == 0) {
    status = wudf__column_finish(&column, signature->name, out, out_schema);
    if (status != 0) wudf__set_error(call->error, status, "out of memory");
  }
  wudf__column_free(&column);
  return status;
}

/* ------------------------------------------------------------------- batch */

struct wudf__batch_import {
  struct ArrowArray result;
  struct ArrowSchema result_schema;
};

static int wudf__import_batch(struct wudf__call* call, const struct wudf__guest_memory* memory,
                              uint32_t out, uint32_t out_schema, void* context) {
  struct wudf__batch_import* batch = context;
  const struct wudf__signature* signature = &call->udf->signature;
  uint32_t count = signature->field_count;
  uint8_t types[WUDF__MAX_FIELDS] = {0};
  uint32_t children[WUDF__MAX_FIELDS], child_schemas[WUDF__MAX_FIELDS];
  for (uint32_t i = 0; i < count; i++) types[i] = signature->fields[i].type;
  int64_t length = 0, offset = 0;
  int status = wudf__import_struct(memory, out, out_schema, count, types, "result",
                                   WUDF__MAX_BATCH_ROWS, &length, &offset, children,
                                   child_schemas, call->error);
  struct wudf__column columns[WUDF__MAX_FIELDS];
  struct ArrowArray arrays[WUDF__MAX_FIELDS];
  struct ArrowSchema schemas[WUDF__MAX_FIELDS];
  uint32_t built = 0, finished = 0;
  for (; status == 0 && built < count; built++) {
    status = wudf__column_init(&columns[built], types[built], length);
    if (status != 0) {
      wudf__set_error(call->error, status, "out of memory");
      break;
    }
    char path[64];
    snprintf(path, sizeof(path), "result.children[%u]", built);
    struct wudf__import_target target = {&columns[built], 0, NULL};
    status = wudf__import_column(memory, children[built], 0, types[built], length, offset,
                                 path, &target, call->error);
  }
  for (; status == 0 && finished < count; finished++) {
    status = wudf__column_finish(&columns[finished], signature->fields[finished].name,
                                 &arrays[finished], &schemas[finished]);
    if (status != 0) wudf__set_error(call->error, status, "out of memory");
  }
  if (status == 0) {
    status = wudf__struct_finish(length, count, arrays, schemas, &batch->result,
                                 &batch->result_schema);
    if (status != 0) wudf__set_error(call->error, status, "out of memory");
  }
  if (status != 0) {
    for (uint32_t i = 0; i < finished; i++) {
      if (arrays[i].release != NULL) arrays[i].release(&arrays[i]);
      if (schemas[i].release != NULL) schemas[i].release(&schemas[i]);
    }
    if (status == EPROTO) {
      wudf__error_prefix(call->error, status, "function '%s' returned an invalid result",
                         signature->name);
    }
  }
  for (uint32_t i = 0; i < built && i < count; i++) wudf__column_free(&columns[i]);
  return status;
}

static int wudf__call_batch(struct wudf__call* call, const struct wudf__marshal_arg* args,
                            uint32_t arg_count, int64_t total,
                            const struct wudf_call_options* options, struct ArrowArray* out,
                            struct ArrowSchema* out_schema) {
  struct wudf__marshal_rows rows = {0, total, NULL};
  int64_t size = wudf__marshal_size(args, arg_count, &rows);
  if (size < 0 || size > options->max_block_bytes) {
    return wudf__set_error(call->error, EFBIG, "function '%s': a batch function sees its "
                           "whole input in one call, and these %" PRId64 " rows need more "
                           "than the %" PRId64 " bytes one call may pass",
                           call->udf->signature.name, total, options->max_block_bytes);
  }
  struct wudf__batch_import batch;
  memset(&batch, 0, sizeof(batch));
  int status = wudf__run_guest(call, args, arg_count, &rows, size, wudf__import_batch, &batch);
  if (status != 0) {
    if (batch.result.release != NULL) batch.result.release(&batch.result);
    if (batch.result_schema.release != NULL) batch.result_schema.release(&batch.result_schema);
    return status;
  }
  *out = batch.result;
  *out_schema = batch.result_schema;
  return 0;
}

/* ----------------------------------------------------------------- entry */

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
                            options->timeout_ms, error};
  const struct wudf__signature* signature = &call.udf->signature;
  if (arg_count != signature->arg_count) {
    return wudf__set_error(error, EINVAL, "function '%s' takes %u arguments, %u given",
                           signature->name, signature->arg_count, arg_count);
  }
  struct wudf__marshal_arg args[WUDF__MAX_ARGS];
  for (uint32_t i = 0; i < arg_count; i++) {
    int status = wudf__check_argument(&call, i, arrays[i], schemas[i], rows);
    if (status != 0) return status;
    args[i].type = signature->arg_types[i];
    args[i].array = arrays[i];
  }
  if (instance->broken) {
    return wudf__set_error(error, ENOTRECOVERABLE, "function '%s': the instance is broken "
                           "by an earlier trap; create a new instance", signature->name);
  }
  int status = wudf__instance_prepare(&call);
  if (status != 0) return status;
  if (signature->kind == WUDF__KIND_BATCH) {
    return wudf__call_batch(&call, args, arg_count, rows, options, out, out_schema);
  }
  return wudf__call_scalar(&call, args, arg_count, rows, options, out, out_schema);
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
