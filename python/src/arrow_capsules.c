/*
 * arrow_capsules.c -- the Arrow PyCapsule interface of the wasmudf Python
 * extension (see arrow_capsules.h): schema deep copies, shared array views
 * that keep their owner alive, capsules with the interface's names and
 * destructors, moves out of producers' capsules, and a stream over a tuple
 * of arrays.
 */
#include "arrow_capsules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct ArrowArray* (*wudf_py__array_of)(PyObject* object);

/* ------------------------------------------------------------ releases */

void wudf_py__release_schema(struct ArrowSchema* schema) {
  if (schema != NULL && schema->release != NULL) schema->release(schema);
}

void wudf_py__release_array(struct ArrowArray* array) {
  if (array != NULL && array->release != NULL) array->release(array);
}

void wudf_py__release_stream(struct ArrowArrayStream* stream) {
  if (stream != NULL && stream->release != NULL) stream->release(stream);
}

/* --------------------------------------------------------- schema copy */

/* What a copied schema node owns. */
struct wudf_py__schema_private {
  char* format;
  char* name;
  char* metadata;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
};

/* The size in bytes of C Data Interface metadata: an int32 pair count,
 * then per pair an int32 length and bytes for the key and the value. */
static size_t wudf_py__metadata_size(const char* metadata) {
  if (metadata == NULL) return 0;
  int32_t pairs;
  memcpy(&pairs, metadata, sizeof(pairs));
  size_t at = sizeof(int32_t);
  for (int32_t i = 0; i < pairs * 2; i++) {
    int32_t length;
    memcpy(&length, metadata + at, sizeof(length));
    at += sizeof(int32_t) + (size_t)length;
  }
  return at;
}

static void wudf_py__copied_schema_release(struct ArrowSchema* schema) {
  struct wudf_py__schema_private* owned = schema->private_data;
  for (int64_t i = 0; owned->children != NULL && i < schema->n_children; i++) {
    wudf_py__release_schema(owned->children[i]);
    free(owned->children[i]);
  }
  free(owned->children);
  if (owned->dictionary != NULL) {
    wudf_py__release_schema(owned->dictionary);
    free(owned->dictionary);
  }
  free(owned->format);
  free(owned->name);
  free(owned->metadata);
  free(owned);
  schema->release = NULL;
}

static char* wudf_py__strdup(const char* text) {
  if (text == NULL) return NULL;
  size_t size = strlen(text) + 1;
  char* copy = malloc(size);
  if (copy != NULL) memcpy(copy, text, size);
  return copy;
}

/* The copy without the Python error: 0 or ENOMEM (nothing to free then). */
static int wudf_py__schema_copy_tree(const struct ArrowSchema* source, struct ArrowSchema* out) {
  struct wudf_py__schema_private* owned = calloc(1, sizeof(*owned));
  if (owned == NULL) return ENOMEM;
  memset(out, 0, sizeof(*out));
  out->private_data = owned;
  out->release = wudf_py__copied_schema_release;
  out->flags = source->flags;
  size_t metadata_size = wudf_py__metadata_size(source->metadata);
  owned->format = wudf_py__strdup(source->format);
  owned->name = wudf_py__strdup(source->name);
  owned->metadata = metadata_size > 0 ? malloc(metadata_size) : NULL;
  owned->children = source->n_children > 0
                        ? calloc((size_t)source->n_children, sizeof(struct ArrowSchema*))
                        : NULL;
  out->format = owned->format;
  out->name = owned->name;
  out->metadata = owned->metadata;
  out->children = owned->children;
  if (owned->format == NULL || (source->name != NULL && owned->name == NULL) ||
      (metadata_size > 0 && owned->metadata == NULL) ||
      (source->n_children > 0 && owned->children == NULL)) {
    out->release(out);
    return ENOMEM;
  }
  if (metadata_size > 0) memcpy(owned->metadata, source->metadata, metadata_size);
  for (int64_t i = 0; i < source->n_children; i++) {
    owned->children[i] = malloc(sizeof(struct ArrowSchema));
    if (owned->children[i] == NULL ||
        wudf_py__schema_copy_tree(source->children[i], owned->children[i]) != 0) {
      free(owned->children[i]);
      owned->children[i] = NULL;
      out->release(out);
      return ENOMEM;
    }
    out->n_children = i + 1;
  }
  if (source->dictionary != NULL) {
    owned->dictionary = malloc(sizeof(struct ArrowSchema));
    if (owned->dictionary == NULL ||
        wudf_py__schema_copy_tree(source->dictionary, owned->dictionary) != 0) {
      free(owned->dictionary);
      owned->dictionary = NULL;
      out->release(out);
      return ENOMEM;
    }
    out->dictionary = owned->dictionary;
  }
  return 0;
}

int wudf_py__schema_copy(const struct ArrowSchema* source, struct ArrowSchema* out) {
  if (wudf_py__schema_copy_tree(source, out) != 0) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------- shared arrays */

/* What a shared array node owns: a reference to the owner and its own
 * child and dictionary nodes. */
struct wudf_py__shared_private {
  PyObject* owner;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
};

static void wudf_py__shared_release(struct ArrowArray* array) {
  struct wudf_py__shared_private* shared = array->private_data;
  for (int64_t i = 0; shared->children != NULL && i < array->n_children; i++) {
    wudf_py__release_array(shared->children[i]);
    free(shared->children[i]);
  }
  free(shared->children);
  if (shared->dictionary != NULL) {
    wudf_py__release_array(shared->dictionary);
    free(shared->dictionary);
  }
  PyObject* owner = shared->owner;
  free(shared);
  array->release = NULL;
  /* The consumer may release on any thread, with or without the GIL. An
   * interpreter that is gone has nothing left to free. */
  if (owner != NULL && Py_IsInitialized()) {
    PyGILState_STATE state = PyGILState_Ensure();
    Py_DECREF(owner);
    PyGILState_Release(state);
  }
}

/* The share without the Python error: 0 or ENOMEM. Needs the GIL. */
static int wudf_py__array_share_tree(const struct ArrowArray* source, PyObject* owner,
                                     struct ArrowArray* out) {
  struct wudf_py__shared_private* shared = calloc(1, sizeof(*shared));
  if (shared == NULL) return ENOMEM;
  *out = *source;
  out->n_children = 0;
  out->children = NULL;
  out->dictionary = NULL;
  out->private_data = shared;
  out->release = wudf_py__shared_release;
  Py_INCREF(owner);
  shared->owner = owner;
  if (source->n_children > 0) {
    shared->children = calloc((size_t)source->n_children, sizeof(struct ArrowArray*));
    if (shared->children == NULL) {
      out->release(out);
      return ENOMEM;
    }
    out->children = shared->children;
    for (int64_t i = 0; i < source->n_children; i++) {
      shared->children[i] = malloc(sizeof(struct ArrowArray));
      if (shared->children[i] == NULL ||
          wudf_py__array_share_tree(source->children[i], owner, shared->children[i]) != 0) {
        free(shared->children[i]);
        shared->children[i] = NULL;
        out->release(out);
        return ENOMEM;
      }
      out->n_children = i + 1;
    }
  }
  if (source->dictionary != NULL) {
    shared->dictionary = malloc(sizeof(struct ArrowArray));
    if (shared->dictionary == NULL ||
        wudf_py__array_share_tree(source->dictionary, owner, shared->dictionary) != 0) {
      free(shared->dictionary);
      shared->dictionary = NULL;
      out->release(out);
      return ENOMEM;
    }
    out->dictionary = shared->dictionary;
  }
  return 0;
}

int wudf_py__array_share(const struct ArrowArray* source, PyObject* owner,
                         struct ArrowArray* out) {
  if (wudf_py__array_share_tree(source, owner, out) != 0) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ capsules */

static void wudf_py__schema_capsule_free(PyObject* capsule) {
  struct ArrowSchema* schema = PyCapsule_GetPointer(capsule, "arrow_schema");
  if (schema == NULL) {
    PyErr_WriteUnraisable(capsule);
    return;
  }
  wudf_py__release_schema(schema);
  free(schema);
}

static void wudf_py__array_capsule_free(PyObject* capsule) {
  struct ArrowArray* array = PyCapsule_GetPointer(capsule, "arrow_array");
  if (array == NULL) {
    PyErr_WriteUnraisable(capsule);
    return;
  }
  wudf_py__release_array(array);
  free(array);
}

static void wudf_py__stream_capsule_free(PyObject* capsule) {
  struct ArrowArrayStream* stream = PyCapsule_GetPointer(capsule, "arrow_array_stream");
  if (stream == NULL) {
    PyErr_WriteUnraisable(capsule);
    return;
  }
  wudf_py__release_stream(stream);
  free(stream);
}

PyObject* wudf_py__schema_capsule(const struct ArrowSchema* schema) {
  struct ArrowSchema* copy = malloc(sizeof(*copy));
  if (copy == NULL) return PyErr_NoMemory();
  if (wudf_py__schema_copy(schema, copy) != 0) {
    free(copy);
    return NULL;
  }
  PyObject* capsule = PyCapsule_New(copy, "arrow_schema", wudf_py__schema_capsule_free);
  if (capsule == NULL) {
    copy->release(copy);
    free(copy);
  }
  return capsule;
}

PyObject* wudf_py__array_capsule(const struct ArrowArray* array, PyObject* owner) {
  struct ArrowArray* shared = malloc(sizeof(*shared));
  if (shared == NULL) return PyErr_NoMemory();
  if (wudf_py__array_share(array, owner, shared) != 0) {
    free(shared);
    return NULL;
  }
  PyObject* capsule = PyCapsule_New(shared, "arrow_array", wudf_py__array_capsule_free);
  if (capsule == NULL) {
    shared->release(shared);
    free(shared);
  }
  return capsule;
}

PyObject* wudf_py__stream_capsule(struct ArrowArrayStream* stream) {
  struct ArrowArrayStream* moved = malloc(sizeof(*moved));
  if (moved == NULL) return PyErr_NoMemory();
  *moved = *stream;
  stream->release = NULL;
  PyObject* capsule =
      PyCapsule_New(moved, "arrow_array_stream", wudf_py__stream_capsule_free);
  if (capsule == NULL) {
    moved->release(moved);
    free(moved);
  }
  return capsule;
}

/* The struct in a producer's capsule named `name`, not yet consumed; NULL
 * with an exception set otherwise. */
static void* wudf_py__capsule_struct(PyObject* capsule, const char* name) {
  if (!PyCapsule_CheckExact(capsule)) {
    PyErr_Format(PyExc_TypeError, "expected a PyCapsule named '%s', got %s", name,
                 Py_TYPE(capsule)->tp_name);
    return NULL;
  }
  return PyCapsule_GetPointer(capsule, name);
}

int wudf_py__take_schema(PyObject* capsule, struct ArrowSchema* schema) {
  struct ArrowSchema* source = wudf_py__capsule_struct(capsule, "arrow_schema");
  if (source == NULL) return -1;
  if (source->release == NULL) {
    PyErr_SetString(PyExc_ValueError, "the producer's ArrowSchema is already released");
    return -1;
  }
  *schema = *source;
  source->release = NULL;
  return 0;
}

int wudf_py__take_array(PyObject* capsule, struct ArrowArray* array) {
  struct ArrowArray* source = wudf_py__capsule_struct(capsule, "arrow_array");
  if (source == NULL) return -1;
  if (source->release == NULL) {
    PyErr_SetString(PyExc_ValueError, "the producer's ArrowArray is already released");
    return -1;
  }
  *array = *source;
  source->release = NULL;
  return 0;
}

int wudf_py__take_stream(PyObject* capsule, struct ArrowArrayStream* stream) {
  struct ArrowArrayStream* source = wudf_py__capsule_struct(capsule, "arrow_array_stream");
  if (source == NULL) return -1;
  if (source->release == NULL) {
    PyErr_SetString(PyExc_ValueError, "the producer's ArrowArrayStream is already released");
    return -1;
  }
  *stream = *source;
  source->release = NULL;
  return 0;
}

/* ------------------------------------------------- a stream of a tuple */

struct wudf_py__tuple_stream {
  PyObject* arrays; /* a tuple, one reference */
  Py_ssize_t next;
  struct ArrowSchema schema;
  char error[128];
};

static int wudf_py__tuple_stream_schema(struct ArrowArrayStream* stream,
                                        struct ArrowSchema* out) {
  struct wudf_py__tuple_stream* state = stream->private_data;
  if (wudf_py__schema_copy_tree(&state->schema, out) != 0) {
    snprintf(state->error, sizeof(state->error), "out of memory");
    return ENOMEM;
  }
  return 0;
}

static int wudf_py__tuple_stream_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct wudf_py__tuple_stream* state = stream->private_data;
  if (state->next >= PyTuple_GET_SIZE(state->arrays)) {
    memset(out, 0, sizeof(*out));
    return 0;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* item = PyTuple_GET_ITEM(state->arrays, state->next);
  int status = wudf_py__array_share_tree(wudf_py__array_of(item), item, out);
  PyGILState_Release(gil);
  if (status != 0) {
    snprintf(state->error, sizeof(state->error), "out of memory");
    return status;
  }
  state->next++;
  return 0;
}

static const char* wudf_py__tuple_stream_error(struct ArrowArrayStream* stream) {
  struct wudf_py__tuple_stream* state = stream->private_data;
  return state->error[0] != '\0' ? state->error : NULL;
}

static void wudf_py__tuple_stream_release(struct ArrowArrayStream* stream) {
  struct wudf_py__tuple_stream* state = stream->private_data;
  wudf_py__release_schema(&state->schema);
  if (Py_IsInitialized()) {
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_DECREF(state->arrays);
    PyGILState_Release(gil);
  }
  free(state);
  stream->release = NULL;
}

PyObject* wudf_py__tuple_stream_capsule(PyObject* arrays, const struct ArrowSchema* schema) {
  struct wudf_py__tuple_stream* state = calloc(1, sizeof(*state));
  if (state == NULL) return PyErr_NoMemory();
  if (wudf_py__schema_copy(schema, &state->schema) != 0) {
    free(state);
    return NULL;
  }
  Py_INCREF(arrays);
  state->arrays = arrays;
  struct ArrowArrayStream stream = {
      .get_schema = wudf_py__tuple_stream_schema,
      .get_next = wudf_py__tuple_stream_next,
      .get_last_error = wudf_py__tuple_stream_error,
      .release = wudf_py__tuple_stream_release,
      .private_data = state,
  };
  PyObject* capsule = wudf_py__stream_capsule(&stream);
  if (capsule == NULL) wudf_py__release_stream(&stream);
  return capsule;
}
