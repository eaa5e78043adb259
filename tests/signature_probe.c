/*
 * signature_probe.c -- a small shared library over the type language
 * (src/udf/signature.c) for tests/python/test_signature_pyarrow.py, which
 * hands it ArrowSchema trees exported by pyarrow: pyarrow is the oracle for
 * the format strings decoding produces and for the schema trees describing
 * and matching read. Test code only; never installed.
 */
#include <stdio.h>
#include <string.h>

#include "udf/signature.h"
#include "wasmudf/wasmudf.h"

#define WUDF_PROBE_EXPORT __attribute__((visibility("default")))

/* Parses `type` as the argument of a scalar signature and writes its
 * canonical text (or the parse error) into `out`. Returns 0 or -1. */
WUDF_PROBE_EXPORT int wudf_probe_canonical(const char* type, char* out, size_t size);
int wudf_probe_canonical(const char* type, char* out, size_t size) {
  char text[4096];
  struct wudf__signature signature;
  snprintf(text, sizeof(text), "f(%s) -> null", type);
  if (wudf__signature_parse(text, WUDF__KIND_SCALAR, &signature, out, size) != 0) return -1;
  wudf__signature_arg(&signature, 0, out, size);
  return 0;
}

/* Writes the format of the top node of the canonical type `text` into
 * `out`. Returns 0 or -1. */
WUDF_PROBE_EXPORT int wudf_probe_format(const char* text, char* out, size_t size);
int wudf_probe_format(const char* text, char* out, size_t size) {
  struct wudf__type_node node;
  if (wudf__type_decode(text, strlen(text), &node) != 0) return -1;
  snprintf(out, size, "%s", node.format);
  return 0;
}

/* wudf__type_describe. */
WUDF_PROBE_EXPORT void wudf_probe_describe(const struct ArrowSchema* schema, char* out,
                                           size_t size);
void wudf_probe_describe(const struct ArrowSchema* schema, char* out, size_t size) {
  wudf__type_describe(schema, out, size);
}

/* wudf__type_match of the canonical type `text`. */
WUDF_PROBE_EXPORT int wudf_probe_match(const char* text, const struct ArrowSchema* schema,
                                       char* message, size_t size);
int wudf_probe_match(const char* text, const struct ArrowSchema* schema, char* message,
                     size_t size) {
  if (size > 0) message[0] = '\0';
  return wudf__type_match(text, strlen(text), schema, message, size);
}
