/*
 * type_schema.c -- the ArrowSchema tree of a declared type: what a table
 * stream's get_schema and an empty result are described by before any
 * guest code has run.
 *
 * The canonical type text is decoded node by node (signature.c) into a
 * transient tree of borrowed strings, which the exporter of arrow/emit.c
 * then deep-copies into an ordinary host schema with release callbacks.
 * Names are those the C Data Interface conventions give unnamed children
 * ("item", "entries", "key", "value", "run_ends", "values"); every field is
 * nullable except a map's entries and keys and a run-end array's run ends.
 */
#include <errno.h>
#include <string.h>

#include "call.h"

/* One node of the transient tree. */
struct wudf__type_schema_node {
  struct ArrowSchema schema;
  struct ArrowSchema* children[WUDF__MAX_FIELDS];
  struct ArrowSchema* dictionary;
  char format[WUDF__MAX_FORMAT];
  char name[WUDF__MAX_NAME + 16];
  char* scratch; /* a map's entries text */
};

/* Never called: the transient tree is freed by wudf__type_schema_free. */
static void wudf__transient_release(struct ArrowSchema* schema) { schema->release = NULL; }

/* Frees a transient tree. */
static void wudf__type_schema_free(struct ArrowSchema* schema) {
  if (schema == NULL) return;
  struct wudf__type_schema_node* node = (struct wudf__type_schema_node*)schema;
  for (int64_t i = 0; i < schema->n_children; i++) wudf__type_schema_free(node->children[i]);
  wudf__type_schema_free(node->dictionary);
  wudf__free(node->scratch);
  wudf__free(node);
}

/* Builds the transient node of type `text` (`length` bytes) named `name`.
 * NULL on ENOMEM or a text that does not decode (which declared types
 * always do). */
static struct ArrowSchema* wudf__type_schema_build(const char* text, size_t length,
                                                   const char* name, size_t name_length,
                                                   int64_t flags, int depth) {
  if (depth > WUDF__MAX_DEPTH + 1) return NULL;
  struct wudf__type_schema_node* node = wudf__calloc(1, sizeof(*node));
  if (node == NULL) return NULL;
  struct ArrowSchema* schema = &node->schema;
  schema->release = wudf__transient_release;
  struct wudf__type_node decoded;
  if (wudf__type_decode(text, length, &decoded) != 0 || name_length >= sizeof(node->name)) {
    wudf__type_schema_free(schema);
    return NULL;
  }
  memcpy(node->format, decoded.format, sizeof(node->format));
  memcpy(node->name, name, name_length);
  schema->format = node->format;
  schema->name = node->name;
  schema->flags = flags | (decoded.ordered ? ARROW_FLAG_DICTIONARY_ORDERED : 0);
  schema->children = node->children;
  int is_map = strcmp(decoded.format, "+m") == 0;
  int is_run_end = strcmp(decoded.format, "+r") == 0;
  if (is_map) {
    node->scratch = wudf__malloc(WUDF__MAX_SIGNATURE);
    if (node->scratch == NULL) {
      wudf__type_schema_free(schema);
      return NULL;
    }
  }
  for (uint32_t i = 0; i < decoded.child_count && i < WUDF__MAX_FIELDS; i++) {
    const char *child_name, *child_text;
    size_t child_name_length, child_length;
    if (wudf__type_child(&decoded, i, &child_name, &child_name_length, &child_text,
                         &child_length, node->scratch) != 0) {
      wudf__type_schema_free(schema);
      return NULL;
    }
    int64_t child_flags = (is_map || is_run_end) && i == 0 ? 0 : ARROW_FLAG_NULLABLE;
    node->children[i] = wudf__type_schema_build(child_text, child_length, child_name,
                                                child_name_length, child_flags, depth + 1);
    if (node->children[i] == NULL) {
      wudf__type_schema_free(schema);
      return NULL;
    }
    schema->n_children = i + 1;
    if (is_map && node->children[i]->n_children > 0) {
      node->children[i]->children[0]->flags = 0; /* map keys are never null */
    }
  }
  if (decoded.dictionary) {
    const char* values;
    size_t values_length;
    if (wudf__type_dictionary(&decoded, &values, &values_length) != 0 ||
        (node->dictionary = wudf__type_schema_build(values, values_length, "", 0,
                                                    ARROW_FLAG_NULLABLE, depth + 1)) == NULL) {
      wudf__type_schema_free(schema);
      return NULL;
    }
    schema->dictionary = node->dictionary;
  }
  return schema;
}

int wudf__type_schema(const char* text, size_t length, const char* name,
                      struct ArrowSchema* out, struct wudf_error* error) {
  struct ArrowSchema* transient =
      wudf__type_schema_build(text, length, "", 0, ARROW_FLAG_NULLABLE, 1);
  if (transient == NULL) return wudf__set_error(error, ENOMEM, "out of memory");
  int status = wudf__schema_export(transient, name, out, error);
  wudf__type_schema_free(transient);
  return status;
}
