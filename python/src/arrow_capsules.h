/*
 * arrow_capsules.h -- the Arrow PyCapsule interface, both ways, for the
 * wasmudf Python extension: moving ArrowSchema / ArrowArray /
 * ArrowArrayStream structs out of a producer's capsules, and handing ours
 * out in capsules that consumers (pyarrow, polars, nanoarrow, DuckDB) import
 * without a copy.
 *
 * Data handed out is shared, not moved: an exported array is a tree of
 * small structs that point at the buffers of an array a Python object owns,
 * and every node holds a reference to that object, so the consumer may
 * keep, move or release any node in any order, on any thread (releases take
 * the GIL to drop their reference). Schemas are deep copies.
 */
#ifndef WASMUDF_PYTHON_ARROW_CAPSULES_H
#define WASMUDF_PYTHON_ARROW_CAPSULES_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <wasmudf/wasmudf.h>

/* Deep-copies `source` into `*out` (owned by the caller). 0, or -1 with
 * MemoryError set. */
int wudf_py__schema_copy(const struct ArrowSchema* source, struct ArrowSchema* out);

/* Fills `*out` with a shared view of `source` whose every node holds a
 * reference to `owner` (which keeps `source` alive). 0, or -1 with
 * MemoryError set. Needs the GIL. */
int wudf_py__array_share(const struct ArrowArray* source, PyObject* owner,
                         struct ArrowArray* out);

/* A new "arrow_schema" capsule holding a deep copy of `schema`. */
PyObject* wudf_py__schema_capsule(const struct ArrowSchema* schema);

/* A new "arrow_array" capsule holding a shared view of `array`, owned by
 * `owner`. */
PyObject* wudf_py__array_capsule(const struct ArrowArray* array, PyObject* owner);

/* A new "arrow_array_stream" capsule that takes `*stream` over (moved:
 * `stream->release` is NULL afterwards). */
PyObject* wudf_py__stream_capsule(struct ArrowArrayStream* stream);

/* Moves the structs out of a producer's capsules into `*schema` and
 * `*array` (either may be NULL when not wanted). 0, or -1 with an
 * exception set (a capsule of the wrong name, or already consumed). */
int wudf_py__take_schema(PyObject* capsule, struct ArrowSchema* schema);
int wudf_py__take_array(PyObject* capsule, struct ArrowArray* array);
int wudf_py__take_stream(PyObject* capsule, struct ArrowArrayStream* stream);

/* Releases a struct if it is not released yet. */
void wudf_py__release_schema(struct ArrowSchema* schema);
void wudf_py__release_array(struct ArrowArray* array);
void wudf_py__release_stream(struct ArrowArrayStream* stream);

/* A stream over `arrays` (a tuple of objects each exporting an array
 * through wudf_py__array_of) with `schema` (copied), handed to consumers
 * in a capsule. NULL with an exception set on failure. */
PyObject* wudf_py__tuple_stream_capsule(PyObject* arrays, const struct ArrowSchema* schema);

/* Resolves the ArrowArray an element of such a tuple owns: set by the
 * extension at start-up (the Array type's accessor). */
extern const struct ArrowArray* (*wudf_py__array_of)(PyObject* object);

#endif /* WASMUDF_PYTHON_ARROW_CAPSULES_H */
