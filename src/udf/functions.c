/*
 * functions.c -- the functions a module declares: its "wasmudf" custom
 * section read and checked when the module loads (every record parsed, its
 * export present with the wasm type of its kind, the ABI exports present),
 * and their descriptions for wudf_module_function: the UDF layer's
 * module_attach and module_detach (layer.c). The calls themselves are
 * in call.c and the kinds' files (scalar.c, table.c, aggregate.c). See
 * docs/abi.md, section 6.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "call.h"

#include "../arrow/format.h"

#define WUDF__MAX_METADATA ((size_t)1 << 20)
#define WUDF__MAX_FUNCTIONS 4096u

static const struct {
  const char* name;
  const char* signature; /* wasm types as in the glue: params ':' results */
} wudf__abi_exports[WUDF__ABI_EXPORT_COUNT] = {
    {"wudf_abi_version", ":i"},          {"wudf_alloc", "ii:i"},
    {"wudf_free", "i:"},                 {"wudf_input_array_release", ":i"},
    {"wudf_input_schema_release", ":i"}, {"wudf_release_array", "i:"},
    {"wudf_release_schema", "i:"},       {"wudf_error_message", ":i"},
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
      !wudf__export_matches(wudf__module_export_info(module, *index), signature)) {
    return wudf__set_error(error, EPROTO,
                           "the module declares functions but lacks the ABI export "
                           "%s with wasm type (%s) (see docs/abi.md)",
                           name, signature);
  }
  return 0;
}

void wudf__udf_module_detach(struct wudf_module* module) {
  struct wudf__udf_table* table = wudf__udf_table_of(module);
  if (table == NULL) return;
  for (uint32_t i = 0; table->functions != NULL && i < table->count; i++) {
    wudf__free(table->functions[i].strings);
  }
  wudf__free(table->functions);
  wudf__free(table);
  wudf__module_set_layer_state(module, NULL);
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

/* Adds the column descriptions of the struct type `node` (a batch result,
 * a table's chunk) to `udf`. 0 or -1 when a child does not decode. */
static int wudf__udf_fields(struct wudf__udf* udf, const struct wudf__type_node* node,
                            char** cursor) {
  udf->field_count = node->child_count;
  for (uint32_t i = 0; i < node->child_count && i < WUDF__MAX_FIELDS; i++) {
    const char *name, *type;
    size_t name_length, type_length;
    struct wudf__type_node field;
    if (wudf__type_child(node, i, &name, &name_length, &type, &type_length, NULL) != 0 ||
        wudf__type_decode(type, type_length, &field) != 0) {
      return -1;
    }
    udf->field_names[i] = wudf__pool_add(cursor, name, name_length);
    udf->field_types[i] = wudf__pool_add(cursor, type, type_length);
    udf->field_formats[i] = wudf__pool_add(cursor, field.format, strlen(field.format));
  }
  return 0;
}

/* Fills the derived texts of a parsed function: each argument's type text,
 * top-level format and name, the result's (a table's "setof T" or
 * "table<...>", with the chunk struct's format), the output type of one
 * guest call, an aggregate's state type, and the columns of a batch result
 * or of a table's chunks. 0 or ENOMEM (EPROTO if a type does not decode,
 * which the parser rules out). */
static int wudf__udf_describe(struct wudf__udf* udf, struct wudf_error* error) {
  const struct wudf__signature* signature = &udf->signature;
  /* Every text is a piece of the canonical signature (at most the whole of
   * it: arguments, names, result, state and the columns' names and types
   * together), the output type, or a format no longer than
   * WUDF__MAX_FORMAT; a map's entries text is not needed here. */
  size_t capacity = 4 * sizeof(signature->text) + 2 * WUDF__MAX_ARGS +
                    (size_t)(signature->arg_count + 2 + WUDF__MAX_FIELDS) * WUDF__MAX_FORMAT +
                    3 * WUDF__MAX_FIELDS;
  udf->strings = wudf__malloc(capacity);
  if (udf->strings == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  char* cursor = udf->strings;
  const char* text = signature->text;
  struct wudf__type_node node;
  for (uint32_t i = 0; i < signature->arg_count; i++) {
    const char* type = text + signature->args[i].start;
    size_t length = signature->args[i].length;
    if (wudf__type_decode(type, length, &node) != 0) goto broken;
    udf->arg_types[i] = wudf__pool_add(&cursor, type, length);
    udf->arg_formats[i] = wudf__pool_add(&cursor, node.format, strlen(node.format));
    udf->arg_names[i] = wudf__pool_add(&cursor, text + signature->arg_names[i].start,
                                       signature->arg_names[i].length);
    struct wudf__format format;
    struct ArrowSchema flat;
    memset(&flat, 0, sizeof(flat));
    flat.format = udf->arg_formats[i];
    flat.name = "";
    char message[256];
    udf->arg_flat[i] = wudf__format_parse(udf->arg_formats[i], &format) == 0 &&
                       format.layout == WUDF__LAYOUT_FIXED && format.byte_width > 0 &&
                       wudf__type_match(udf->arg_types[i], length, &flat, message,
                                        sizeof(message)) == 0;
    udf->arg_width[i] = udf->arg_flat[i] ? format.byte_width : 0;
  }
  char output[WUDF__MAX_SIGNATURE];
  int output_length = wudf__signature_output_type(signature, output, sizeof(output));
  if (output_length < 0 || wudf__type_decode(output, (size_t)output_length, &node) != 0) {
    goto broken;
  }
  udf->output_type = wudf__pool_add(&cursor, output, (size_t)output_length);
  udf->output_type_length = (size_t)output_length;
  /* Decode again from the pool: the node points into the text it read. */
  if (wudf__type_decode(udf->output_type, udf->output_type_length, &node) != 0) goto broken;
  size_t result_start = signature->result.start, result_length = signature->result.length;
  if (signature->kind == WUDF__KIND_TABLE && signature->setof) {
    result_start -= 6; /* "setof " */
    result_length += 6;
  }
  udf->result_type = wudf__pool_add(&cursor, text + result_start, result_length);
  udf->result_format = wudf__pool_add(&cursor, node.format, strlen(node.format));
  udf->flat_result_width = 0;
  udf->append_layout = 0;
  if (signature->kind == WUDF__KIND_SCALAR) {
    /* Flat when the declared type is exactly a childless, dictionary-free
     * schema of the result's format with a fixed width; appendable when it
     * is such a schema of a fixed width or of strings or binary. */
    struct wudf__format format;
    struct ArrowSchema flat;
    memset(&flat, 0, sizeof(flat));
    flat.format = udf->result_format;
    flat.name = "";
    char message[256];
    if (wudf__format_parse(udf->result_format, &format) == 0 &&
        ((format.layout == WUDF__LAYOUT_FIXED && format.byte_width > 0) ||
         format.layout == WUDF__LAYOUT_BINARY || format.layout == WUDF__LAYOUT_LARGE_BINARY) &&
        wudf__type_match(udf->output_type, udf->output_type_length, &flat, message,
                         sizeof(message)) == 0) {
      udf->append_layout = format.layout;
      if (format.layout == WUDF__LAYOUT_FIXED) udf->flat_result_width = format.byte_width;
    }
  }
  if ((signature->kind == WUDF__KIND_BATCH || signature->kind == WUDF__KIND_TABLE) &&
      wudf__udf_fields(udf, &node, &cursor) != 0) {
    goto broken;
  }
  if (signature->kind == WUDF__KIND_AGGREGATE) {
    const char* state = text + signature->state.start;
    if (wudf__type_decode(state, signature->state.length, &node) != 0) goto broken;
    udf->state_type = wudf__pool_add(&cursor, state, signature->state.length);
    udf->state_format = wudf__pool_add(&cursor, node.format, strlen(node.format));
  }
  return 0;
broken:
  return wudf__set_error(error, EPROTO, "function '%s': cannot decode its signature '%s'",
                         signature->name, signature->text);
}

int wudf__udf_module_attach(struct wudf_module* module, const uint8_t* bytes,
                            size_t module_size, struct wudf_error* error) {
  struct wudf__udf_table* table = wudf__calloc(1, sizeof(*table));
  if (table == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  wudf__module_set_layer_state(module, table);
  size_t offset = 0, size = 0;
  if (!wudf__module_custom_section(module, "wasmudf", &offset, &size) || size == 0) return 0;
  const char* payload = (const char*)bytes + offset;
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
    /* Scalar and batch exports take (args, args_schema, out, out_schema);
     * table and aggregate exports a control block too. */
    int controlled = udf->signature.kind == WUDF__KIND_TABLE ||
                     udf->signature.kind == WUDF__KIND_AGGREGATE;
    if (wudf_module_find_export(module, export_name, &udf->export_index, NULL) != 0 ||
        !wudf__export_matches(wudf__module_export_info(module, udf->export_index),
                              controlled ? "iiiii:i" : "iiii:i")) {
      return wudf__set_error(error, EPROTO,
                             "%s function '%s' is declared but the module has no export "
                             "%s with wasm type (i32, i32, i32, i32%s) -> i32",
                             wudf__kind_name(udf->signature.kind), udf->signature.name,
                             export_name, controlled ? ", i32" : "");
    }
    table->count++;
    int described = wudf__udf_describe(udf, error);
    if (described != 0) return described;
  }
  if (table->count > 0) {
    if (!wudf__module_has_memory(module)) {
      return wudf__set_error(error, EPROTO, "the module declares functions but has no "
                             "linear memory");
    }
    for (int i = 0; i < WUDF__ABI_EXPORT_COUNT; i++) {
      int status = wudf__find_abi_export(module, wudf__abi_exports[i].name,
                                         wudf__abi_exports[i].signature, &table->abi[i],
                                         error);
      if (status != 0) return status;
    }
    table->has_release_result =
        wudf_module_find_export(module, "wudf_release_result", &table->release_result,
                                NULL) == 0 &&
        wudf__export_matches(wudf__module_export_info(module, table->release_result), "ii:");
  }
  return 0;
}

uint32_t wudf_module_function_count(const struct wudf_module* module) {
  const struct wudf__udf_table* table = module != NULL ? wudf__udf_table_of(module) : NULL;
  return table != NULL ? table->count : 0;
}

/* Function `index` of `module` for a call that writes to `out`: NULL,
 * with EINVAL in `error`, when either is NULL or the index is out of
 * range. */
static const struct wudf__udf* wudf__function_at(const struct wudf_module* module,
                                                 uint32_t index, const void* out,
                                                 struct wudf_error* error) {
  if (module == NULL || out == NULL) {
    wudf__set_error(error, EINVAL, "module and out must not be NULL");
    return NULL;
  }
  if (index >= wudf_module_function_count(module)) {
    wudf__set_error(error, EINVAL, "function index %u out of range (%u functions)", index,
                    wudf_module_function_count(module));
    return NULL;
  }
  return &wudf__udf_table_of(module)->functions[index];
}

int wudf_module_function(const struct wudf_module* module, uint32_t index,
                         struct wudf_function_info* info, struct wudf_error* error) {
  const struct wudf__udf* udf = wudf__function_at(module, index, info, error);
  if (udf == NULL) return EINVAL;
  if (info->struct_size != 0 && info->struct_size < sizeof(size_t)) {
    return wudf__set_error(error, EINVAL, "wudf_module_function: info->struct_size is %zu: "
                           "set it to sizeof(struct wudf_function_info)", info->struct_size);
  }
  struct wudf_function_info full;
  struct wudf_function_info* out = &full;
  const struct wudf__signature* signature = &udf->signature;
  memset(out, 0, sizeof(*out));
  out->struct_size = sizeof(*out);
  out->name = signature->name;
  out->kind = (wudf_function_kind)signature->kind;
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
  out->arg_names = udf->arg_names;
  out->state_type = udf->state_type;
  out->state_format = udf->state_format;
  out->deterministic = signature->deterministic;
  wudf__versioned_write(info, &full, sizeof(full),
                        WUDF__SIZE_1(struct wudf_function_info, deterministic));
  return 0;
}

/* The release of the transient root below: never called (it is on the
 * stack and only read by the exporter). */
static void wudf__transient_schema_release(struct ArrowSchema* schema) {
  schema->release = NULL;
}

/* The argument struct of `udf`: each argument's declared schema under one
 * transient root, deep-copied by the exporter. */
static int wudf__arguments_schema(const struct wudf__udf* udf, struct ArrowSchema* out,
                                  struct wudf_error* error) {
  uint32_t count = udf->signature.arg_count;
  struct ArrowSchema arguments[WUDF__MAX_ARGS];
  struct ArrowSchema* children[WUDF__MAX_ARGS];
  int status = 0;
  uint32_t made = 0;
  for (; made < count && status == 0; made++) {
    char generated[16];
    const char* name = udf->arg_names[made];
    if (name[0] == '\0') {
      snprintf(generated, sizeof(generated), "arg%u", made);
      name = generated;
    }
    status = wudf__type_schema(udf->arg_types[made], strlen(udf->arg_types[made]), name,
                               &arguments[made], error);
    children[made] = &arguments[made];
  }
  if (status != 0) made--; /* the failed one made nothing */
  if (status == 0) {
    struct ArrowSchema root = {0};
    root.format = "+s";
    root.n_children = count;
    root.children = children;
    root.release = wudf__transient_schema_release;
    status = wudf__schema_export(&root, udf->signature.name, out, error);
  }
  for (uint32_t i = 0; i < made; i++) arguments[i].release(&arguments[i]);
  return status;
}

int wudf_function_schema(const struct wudf_module* module, uint32_t index,
                         wudf_schema_part part, struct ArrowSchema* out,
                         struct wudf_error* error) {
  const struct wudf__udf* udf = wudf__function_at(module, index, out, error);
  if (udf == NULL) return EINVAL;
  const char* name = udf->signature.name;
  switch (part) {
    case WUDF_SCHEMA_ARGUMENTS:
      return wudf__arguments_schema(udf, out, error);
    case WUDF_SCHEMA_RESULT:
      if (udf->signature.kind == WUDF_FUNCTION_TABLE) {
        return wudf__table_chunk_schema(udf, out, error);
      }
      return wudf__type_schema(udf->result_type, strlen(udf->result_type), name, out, error);
    case WUDF_SCHEMA_STATE:
      if (udf->state_type == NULL) {
        return wudf__set_error(error, EINVAL,
                               "function '%s' is a %s function: it has no STATE type", name,
                               wudf_function_kind_name((wudf_function_kind)udf->signature.kind));
      }
      return wudf__type_schema(udf->state_type, strlen(udf->state_type), name, out, error);
  }
  return wudf__set_error(error, EINVAL, "unknown schema part %d", (int)part);
}

int wudf_module_find_function(const struct wudf_module* module, const char* name,
                              uint32_t* index, struct wudf_error* error) {
  if (module == NULL || name == NULL || index == NULL) {
    return wudf__set_error(error, EINVAL, "module, name and index must not be NULL");
  }
  for (uint32_t i = 0; i < wudf_module_function_count(module); i++) {
    if (strcmp(wudf__udf_table_of(module)->functions[i].signature.name, name) == 0) {
      *index = i;
      return 0;
    }
  }
  return wudf__set_error(error, ENOENT, "the module has no function '%s'", name);
}


const char* wudf_function_kind_name(wudf_function_kind kind) {
  const char* name = wudf__kind_name((uint8_t)kind);
  return name != NULL ? name : "unknown";
}
