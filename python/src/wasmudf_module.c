/*
 * wasmudf_module.c -- wasmudf._wasmudf, the CPython extension that binds
 * libwasmudf: modules, instances, functions of every kind, accumulators and
 * table streams, with Arrow data in and out through the Arrow PyCapsule
 * interface (arrow_capsules.c). No Arrow library is needed: arguments are
 * any objects with __arrow_c_array__ or __arrow_c_stream__, results are
 * objects with those methods that pyarrow, polars or nanoarrow import
 * without a copy.
 *
 * Every call into the library releases the GIL and holds the instance's own
 * lock, so one instance serialises its callers (the library forbids
 * concurrent use) while different instances run in parallel threads.
 * Chunked arguments (streams) are matched up by zero-copy slices of their
 * chunks: each slice of rows that lies within one chunk of every argument
 * is one library call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <wasmudf/wasmudf.h>

#include "arrow_capsules.h"

/* --------------------------------------------------------------- errors */

static PyObject* wudf_py_Error;
static PyObject* wudf_py_ModuleError;
static PyObject* wudf_py_TrapError;
static PyObject* wudf_py_ExitError;
static PyObject* wudf_py_TimeoutError;
static PyObject* wudf_py_InvalidResultError;
static PyObject* wudf_py_GuestError;
static PyObject* wudf_py_ArgumentError;
static PyObject* wudf_py_BrokenInstanceError;
static PyObject* wudf_py_LimitError;
static PyObject* wudf_py_BusyError;

/* Where an error came from: loading decides differently from calling
 * (EPROTO at load is a bad module, in a call a lying result). */
enum wudf_py_context { WUDF_PY_LOADING, WUDF_PY_CALLING };

/* The exception class of a library error. */
static PyObject* wudf_py_error_class(const struct wudf_error* error,
                                     enum wudf_py_context context) {
  switch (error->code) {
    case ENOMEM:
      return PyExc_MemoryError;
    case EINVAL:
      return wudf_py_ArgumentError;
    case ETIMEDOUT:
      return wudf_py_TimeoutError;
    case EFAULT:
      return wudf_py_TrapError;
    case ECANCELED: /* proc_exit: the instance is broken */
      return wudf_py_ExitError;
    case EREMOTEIO: /* the UDF's own error: the instance stays usable */
      return wudf_py_GuestError;
    case ENOTRECOVERABLE:
      return wudf_py_BrokenInstanceError;
    case EPROTO:
      return context == WUDF_PY_LOADING ? wudf_py_ModuleError : wudf_py_InvalidResultError;
    case EFBIG:
    case EOVERFLOW:
      return context == WUDF_PY_LOADING ? wudf_py_ModuleError : wudf_py_LimitError;
    case EBUSY:
      return wudf_py_BusyError;
    case ENOENT:
    case ENOEXEC:
    case ENOTSUP:
    case EBADMSG: /* a damaged or tampered artifact */
    case EIO:
      return context == WUDF_PY_LOADING ? wudf_py_ModuleError : wudf_py_Error;
    default:
      return wudf_py_Error;
  }
}

/* Raises the exception of `error` (its message, code, trap and exit code,
 * and the function's name when there is one); returns NULL. */
static PyObject* wudf_py_raise(const struct wudf_error* error, enum wudf_py_context context,
                               const char* function) {
  PyObject* type = wudf_py_error_class(error, context);
  PyObject* message =
      PyUnicode_DecodeUTF8(error->message, (Py_ssize_t)strnlen(error->message,
                                                               sizeof(error->message)),
                           "replace");
  if (message == NULL) return NULL;
  PyObject* exception = PyObject_CallOneArg(type, message);
  if (exception == NULL) {
    Py_DECREF(message);
    return NULL;
  }
  if (PyObject_TypeCheck(exception, (PyTypeObject*)wudf_py_Error)) {
    PyObject* code = PyLong_FromLong(error->code);
    PyObject* trap = error->trap != WUDF_TRAP_NONE
                         ? PyUnicode_FromString(wudf_trap_name(error->trap))
                         : Py_NewRef(Py_None);
    PyObject* exit_code = error->trap == WUDF_TRAP_EXIT ? PyLong_FromLong(error->exit_code)
                                                        : Py_NewRef(Py_None);
    PyObject* name = function != NULL ? PyUnicode_FromString(function) : Py_NewRef(Py_None);
    if (code == NULL || trap == NULL || exit_code == NULL || name == NULL ||
        PyObject_SetAttrString(exception, "code", code) != 0 ||
        PyObject_SetAttrString(exception, "trap", trap) != 0 ||
        PyObject_SetAttrString(exception, "exit_code", exit_code) != 0 ||
        PyObject_SetAttrString(exception, "function", name) != 0 ||
        PyObject_SetAttrString(exception, "message", message) != 0) {
      Py_XDECREF(code);
      Py_XDECREF(trap);
      Py_XDECREF(exit_code);
      Py_XDECREF(name);
      Py_DECREF(message);
      Py_DECREF(exception);
      return NULL;
    }
    Py_DECREF(code);
    Py_DECREF(trap);
    Py_DECREF(exit_code);
    Py_DECREF(name);
  }
  Py_DECREF(message);
  PyErr_SetObject(type, exception);
  Py_DECREF(exception);
  return NULL;
}

/* Raises ArgumentError with a formatted message about function `name`. */
#define wudf_py_argument_error(...) PyErr_Format(wudf_py_ArgumentError, __VA_ARGS__)

/* --------------------------------------------------------------- engine */

/* The process's one engine: made at the first load, never freed (modules
 * may outlive any Python object that could own it). Its cache and tools
 * come from the environment (WASMUDF_CACHE_DIR, CC, WASMUDF_WASM2C). */
static struct wudf_engine* wudf_py_engine;
static pthread_mutex_t wudf_py_engine_mutex = PTHREAD_MUTEX_INITIALIZER;

static struct wudf_engine* wudf_py_get_engine(struct wudf_error* error) {
  pthread_mutex_lock(&wudf_py_engine_mutex);
  if (wudf_py_engine == NULL) wudf_engine_new(NULL, &wudf_py_engine, error);
  struct wudf_engine* engine = wudf_py_engine;
  pthread_mutex_unlock(&wudf_py_engine_mutex);
  return engine;
}

/* ---------------------------------------------------------------- types */

typedef struct {
  PyObject_HEAD
  struct ArrowSchema schema;
} wudf_py_Schema;

typedef struct {
  PyObject_HEAD
  struct ArrowArray array;
  struct ArrowSchema schema;
} wudf_py_Array;

typedef struct {
  PyObject_HEAD
  PyObject* chunks; /* a tuple of Array */
  struct ArrowSchema schema;
  int64_t length;
} wudf_py_ChunkedArray;

typedef struct wudf_py_Module wudf_py_Module;

typedef struct {
  PyObject_HEAD
  wudf_py_Module* module;
  struct wudf_instance* instance;
  pthread_mutex_t lock; /* held around every call into the instance */
} wudf_py_Instance;

struct wudf_py_Module {
  PyObject_HEAD
  struct wudf_module* module;
  struct wudf_instance_config config;
  wudf_py_Instance* instance; /* the default instance, replaced once broken */
  PyObject* source;           /* the path, or None for bytes */
};

typedef struct {
  PyObject_HEAD
  wudf_py_Module* module;
  wudf_py_Instance* instance; /* NULL: the module's default instance */
  uint32_t index;
} wudf_py_Function;

typedef struct {
  PyObject_HEAD
  wudf_py_Instance* instance;
  struct wudf_aggregate* aggregate;
  uint32_t index;
} wudf_py_Accumulator;

struct wudf_py_stream_core;

typedef struct {
  PyObject_HEAD
  struct wudf_py_stream_core* core; /* NULL once handed to a consumer */
} wudf_py_Stream;

static PyTypeObject wudf_py_SchemaType;
static PyTypeObject wudf_py_ArrayType;
static PyTypeObject wudf_py_ChunkedArrayType;
static PyTypeObject wudf_py_InstanceType;
static PyTypeObject wudf_py_ModuleType;
static PyTypeObject wudf_py_FunctionType;
static PyTypeObject wudf_py_AccumulatorType;
static PyTypeObject wudf_py_StreamType;

/* --------------------------------------------------------------- Schema */

/* A new Schema that takes `*schema` over. */
static PyObject* wudf_py_schema_new(struct ArrowSchema* schema) {
  wudf_py_Schema* self = PyObject_New(wudf_py_Schema, &wudf_py_SchemaType);
  if (self == NULL) {
    wudf_py__release_schema(schema);
    return NULL;
  }
  self->schema = *schema;
  schema->release = NULL;
  return (PyObject*)self;
}

static void wudf_py_schema_dealloc(wudf_py_Schema* self) {
  wudf_py__release_schema(&self->schema);
  PyObject_Free(self);
}

static PyObject* wudf_py_schema_capsule_method(wudf_py_Schema* self, PyObject* ignored) {
  return wudf_py__schema_capsule(&self->schema);
}

static PyObject* wudf_py_schema_repr(wudf_py_Schema* self) {
  return PyUnicode_FromFormat("<wasmudf.Schema '%s' format '%s'>",
                              self->schema.name != NULL ? self->schema.name : "",
                              self->schema.format);
}

static PyObject* wudf_py_schema_format(wudf_py_Schema* self, void* closure) {
  return PyUnicode_FromString(self->schema.format);
}

static PyMethodDef wudf_py_schema_methods[] = {
    {"__arrow_c_schema__", (PyCFunction)wudf_py_schema_capsule_method, METH_NOARGS,
     "The schema in an 'arrow_schema' PyCapsule (a copy)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wudf_py_schema_getset[] = {
    {"format", (getter)wudf_py_schema_format, NULL, "The Arrow format string of the root.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject wudf_py_SchemaType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.Schema",
    .tp_basicsize = sizeof(wudf_py_Schema),
    .tp_dealloc = (destructor)wudf_py_schema_dealloc,
    .tp_repr = (reprfunc)wudf_py_schema_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An Arrow schema (a field) that pyarrow.field/schema and polars import "
              "through __arrow_c_schema__.",
    .tp_methods = wudf_py_schema_methods,
    .tp_getset = wudf_py_schema_getset,
};

/* ---------------------------------------------------------------- Array */

/* A new Array that takes `*array` and `*schema` over. */
static PyObject* wudf_py_array_new(struct ArrowArray* array, struct ArrowSchema* schema) {
  wudf_py_Array* self = PyObject_New(wudf_py_Array, &wudf_py_ArrayType);
  if (self == NULL) {
    wudf_py__release_array(array);
    wudf_py__release_schema(schema);
    return NULL;
  }
  self->array = *array;
  self->schema = *schema;
  array->release = NULL;
  schema->release = NULL;
  return (PyObject*)self;
}

static const struct ArrowArray* wudf_py_array_of(PyObject* object) {
  return &((wudf_py_Array*)object)->array;
}

static void wudf_py_array_dealloc(wudf_py_Array* self) {
  wudf_py__release_array(&self->array);
  wudf_py__release_schema(&self->schema);
  PyObject_Free(self);
}

static PyObject* wudf_py_array_c_array(wudf_py_Array* self, PyObject* args, PyObject* kwargs) {
  static char* keywords[] = {"requested_schema", NULL};
  PyObject* requested = Py_None; /* may be ignored, as the interface allows */
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", keywords, &requested)) return NULL;
  PyObject* schema = wudf_py__schema_capsule(&self->schema);
  if (schema == NULL) return NULL;
  PyObject* array = wudf_py__array_capsule(&self->array, (PyObject*)self);
  if (array == NULL) {
    Py_DECREF(schema);
    return NULL;
  }
  return Py_BuildValue("(NN)", schema, array);
}

static PyObject* wudf_py_array_c_schema(wudf_py_Array* self, PyObject* ignored) {
  return wudf_py__schema_capsule(&self->schema);
}

static PyObject* wudf_py_array_c_stream(wudf_py_Array* self, PyObject* args,
                                        PyObject* kwargs) {
  static char* keywords[] = {"requested_schema", NULL};
  PyObject* requested = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", keywords, &requested)) return NULL;
  PyObject* chunks = PyTuple_Pack(1, (PyObject*)self);
  if (chunks == NULL) return NULL;
  PyObject* capsule = wudf_py__tuple_stream_capsule(chunks, &self->schema);
  Py_DECREF(chunks);
  return capsule;
}

static Py_ssize_t wudf_py_array_length(wudf_py_Array* self) {
  return (Py_ssize_t)self->array.length;
}

static PyObject* wudf_py_array_repr(wudf_py_Array* self) {
  return PyUnicode_FromFormat("<wasmudf.Array format '%s', %zd rows>", self->schema.format,
                              (Py_ssize_t)self->array.length);
}

static PyObject* wudf_py_array_null_count(wudf_py_Array* self, void* closure) {
  return PyLong_FromLongLong(self->array.null_count);
}

static PyObject* wudf_py_array_schema(wudf_py_Array* self, void* closure) {
  struct ArrowSchema copy;
  if (wudf_py__schema_copy(&self->schema, &copy) != 0) return NULL;
  return wudf_py_schema_new(&copy);
}

static PyMethodDef wudf_py_array_methods[] = {
    {"__arrow_c_array__", (PyCFunction)(void (*)(void))wudf_py_array_c_array,
     METH_VARARGS | METH_KEYWORDS,
     "The array in ('arrow_schema', 'arrow_array') PyCapsules, shared without a copy."},
    {"__arrow_c_schema__", (PyCFunction)wudf_py_array_c_schema, METH_NOARGS,
     "The array's schema in an 'arrow_schema' PyCapsule."},
    {"__arrow_c_stream__", (PyCFunction)(void (*)(void))wudf_py_array_c_stream,
     METH_VARARGS | METH_KEYWORDS, "The array as a one-chunk 'arrow_array_stream'."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wudf_py_array_getset[] = {
    {"null_count", (getter)wudf_py_array_null_count, NULL, "The number of nulls.", NULL},
    {"schema", (getter)wudf_py_array_schema, NULL, "The array's field, as a Schema.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods wudf_py_array_sequence = {
    .sq_length = (lenfunc)wudf_py_array_length,
};

static PyTypeObject wudf_py_ArrayType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.Array",
    .tp_basicsize = sizeof(wudf_py_Array),
    .tp_dealloc = (destructor)wudf_py_array_dealloc,
    .tp_repr = (reprfunc)wudf_py_array_repr,
    .tp_as_sequence = &wudf_py_array_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A result array in host memory. pyarrow.array(a) and polars import it "
              "without a copy through __arrow_c_array__ / __arrow_c_stream__.",
    .tp_methods = wudf_py_array_methods,
    .tp_getset = wudf_py_array_getset,
};

/* --------------------------------------------------------- ChunkedArray */

/* A new ChunkedArray of `chunks` (a list of Array, converted to a tuple)
 * with `*schema` taken over. */
static PyObject* wudf_py_chunked_new(PyObject* chunks, struct ArrowSchema* schema) {
  wudf_py_ChunkedArray* self = PyObject_New(wudf_py_ChunkedArray, &wudf_py_ChunkedArrayType);
  if (self == NULL) {
    wudf_py__release_schema(schema);
    return NULL;
  }
  self->schema = *schema;
  schema->release = NULL;
  self->chunks = PySequence_Tuple(chunks);
  self->length = 0;
  if (self->chunks == NULL) {
    Py_DECREF(self);
    return NULL;
  }
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(self->chunks); i++) {
    self->length += wudf_py_array_of(PyTuple_GET_ITEM(self->chunks, i))->length;
  }
  return (PyObject*)self;
}

static void wudf_py_chunked_dealloc(wudf_py_ChunkedArray* self) {
  Py_XDECREF(self->chunks);
  wudf_py__release_schema(&self->schema);
  PyObject_Free(self);
}

static PyObject* wudf_py_chunked_c_stream(wudf_py_ChunkedArray* self, PyObject* args,
                                          PyObject* kwargs) {
  static char* keywords[] = {"requested_schema", NULL};
  PyObject* requested = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", keywords, &requested)) return NULL;
  return wudf_py__tuple_stream_capsule(self->chunks, &self->schema);
}

static PyObject* wudf_py_chunked_c_schema(wudf_py_ChunkedArray* self, PyObject* ignored) {
  return wudf_py__schema_capsule(&self->schema);
}

static Py_ssize_t wudf_py_chunked_length(wudf_py_ChunkedArray* self) {
  return (Py_ssize_t)self->length;
}

static PyObject* wudf_py_chunked_iter(wudf_py_ChunkedArray* self) {
  return PyObject_GetIter(self->chunks);
}

static PyObject* wudf_py_chunked_repr(wudf_py_ChunkedArray* self) {
  return PyUnicode_FromFormat("<wasmudf.ChunkedArray format '%s', %zd rows in %zd chunks>",
                              self->schema.format, (Py_ssize_t)self->length,
                              PyTuple_GET_SIZE(self->chunks));
}

static PyMethodDef wudf_py_chunked_methods[] = {
    {"__arrow_c_stream__", (PyCFunction)(void (*)(void))wudf_py_chunked_c_stream,
     METH_VARARGS | METH_KEYWORDS,
     "The chunks in an 'arrow_array_stream' PyCapsule, shared without a copy."},
    {"__arrow_c_schema__", (PyCFunction)wudf_py_chunked_c_schema, METH_NOARGS,
     "The schema in an 'arrow_schema' PyCapsule."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef wudf_py_chunked_members[] = {
    {"chunks", T_OBJECT, offsetof(wudf_py_ChunkedArray, chunks), READONLY,
     "The chunks, a tuple of Array."},
    {NULL, 0, 0, 0, NULL},
};

static PySequenceMethods wudf_py_chunked_sequence = {
    .sq_length = (lenfunc)wudf_py_chunked_length,
};

static PyTypeObject wudf_py_ChunkedArrayType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.ChunkedArray",
    .tp_basicsize = sizeof(wudf_py_ChunkedArray),
    .tp_dealloc = (destructor)wudf_py_chunked_dealloc,
    .tp_repr = (reprfunc)wudf_py_chunked_repr,
    .tp_as_sequence = &wudf_py_chunked_sequence,
    .tp_iter = (getiterfunc)wudf_py_chunked_iter,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A result of chunked arguments: Arrays of one type. "
              "pyarrow.chunked_array(c) imports it through __arrow_c_stream__.",
    .tp_methods = wudf_py_chunked_methods,
    .tp_members = wudf_py_chunked_members,
};

/* -------------------------------------------------------------- columns */

/* One argument as imported: its schema and its chunks (an array argument
 * is one chunk). */
struct wudf_py_column {
  struct ArrowSchema schema;
  struct ArrowArray* chunks;
  int64_t chunk_count;
  int64_t length;
  int chunked; /* came from a stream */
};

/* The arguments of one call, kept alive (in a capsule) as long as a table
 * stream borrows them. */
struct wudf_py_columns {
  Py_ssize_t count;
  struct wudf_py_column column[];
};

static void wudf_py_columns_free(struct wudf_py_columns* columns) {
  if (columns == NULL) return;
  for (Py_ssize_t c = 0; c < columns->count; c++) {
    struct wudf_py_column* column = &columns->column[c];
    for (int64_t i = 0; i < column->chunk_count; i++) wudf_py__release_array(&column->chunks[i]);
    free(column->chunks);
    wudf_py__release_schema(&column->schema);
  }
  free(columns);
}

static void wudf_py_columns_capsule_free(PyObject* capsule) {
  wudf_py_columns_free(PyCapsule_GetPointer(capsule, "wasmudf.columns"));
}

/* Appends `*array` (taken over) to the column's chunks. */
static int wudf_py_column_append(struct wudf_py_column* column, struct ArrowArray* array) {
  struct ArrowArray* grown =
      realloc(column->chunks, (size_t)(column->chunk_count + 1) * sizeof(*grown));
  if (grown == NULL) {
    wudf_py__release_array(array);
    PyErr_NoMemory();
    return -1;
  }
  column->chunks = grown;
  column->chunks[column->chunk_count++] = *array;
  column->length += array->length;
  array->release = NULL;
  return 0;
}

static void wudf_py_column_free(struct wudf_py_column* column) {
  for (int64_t i = 0; i < column->chunk_count; i++) wudf_py__release_array(&column->chunks[i]);
  free(column->chunks);
  wudf_py__release_schema(&column->schema);
  memset(column, 0, sizeof(*column));
}

static int wudf_py_column_take(PyObject* object, Py_ssize_t position, const char* function,
                               PyObject* requested, struct wudf_py_column* column);

/* Imports `object` as argument `position` of function `function` through
 * the PyCapsule interface, asking for `requested` (an "arrow_schema"
 * capsule, or NULL for the producer's own type). 0, or -1 with an
 * exception set and nothing to free. */
static int wudf_py_column_import_as(PyObject* object, Py_ssize_t position,
                                    const char* function, PyObject* requested,
                                    struct wudf_py_column* column) {
  memset(column, 0, sizeof(*column));
  if (wudf_py_column_take(object, position, function, requested, column) != 0) {
    wudf_py_column_free(column);
    return -1;
  }
  return 0;
}

/* The names of the PyCapsule interface's export methods, interned when the
 * module is made: looked up on every argument of every call. */
static PyObject* wudf_py_name_c_array;  /* "__arrow_c_array__" */
static PyObject* wudf_py_name_c_stream; /* "__arrow_c_stream__" */

/* Calls export method `name` of `object` with `requested` (NULL: no
 * argument). Returns its result (a new reference); NULL with no exception
 * set when `object` has no such attribute; NULL with an exception set when
 * the lookup or the call failed otherwise. One attribute lookup: the bound
 * method is called, not looked up again. */
static PyObject* wudf_py_call_export(PyObject* object, PyObject* name, PyObject* requested) {
  PyObject* method = PyObject_GetAttr(object, name);
  if (method == NULL) {
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) PyErr_Clear();
    return NULL;
  }
  PyObject* exported = requested != NULL ? PyObject_CallOneArg(method, requested)
                                         : PyObject_CallNoArgs(method);
  Py_DECREF(method);
  return exported;
}

/* The import itself; on failure `column` holds what was taken so far. */
static int wudf_py_column_take(PyObject* object, Py_ssize_t position, const char* function,
                               PyObject* requested, struct wudf_py_column* column) {
  PyObject* exported = wudf_py_call_export(object, wudf_py_name_c_array, requested);
  if (exported == NULL && PyErr_Occurred()) return -1;
  if (exported != NULL) {
    struct ArrowArray array;
    if (!PyTuple_Check(exported) || PyTuple_GET_SIZE(exported) != 2) {
      Py_DECREF(exported);
      wudf_py_argument_error("%s: argument %zd: __arrow_c_array__ did not return a pair of "
                             "capsules", function, position);
      return -1;
    }
    if (wudf_py__take_schema(PyTuple_GET_ITEM(exported, 0), &column->schema) != 0 ||
        wudf_py__take_array(PyTuple_GET_ITEM(exported, 1), &array) != 0) {
      Py_DECREF(exported);
      return -1;
    }
    Py_DECREF(exported);
    return wudf_py_column_append(column, &array);
  }
  exported = wudf_py_call_export(object, wudf_py_name_c_stream, requested);
  if (exported == NULL && PyErr_Occurred()) return -1;
  if (exported != NULL) {
    struct ArrowArrayStream stream;
    int status = wudf_py__take_stream(exported, &stream);
    Py_DECREF(exported);
    if (status != 0) return -1;
    column->chunked = 1;
    if (stream.get_schema(&stream, &column->schema) != 0) {
      const char* message = stream.get_last_error(&stream);
      wudf_py_argument_error("%s: argument %zd: the stream's schema: %s", function, position,
                             message != NULL ? message : "unknown error");
      wudf_py__release_stream(&stream);
      return -1;
    }
    for (;;) {
      struct ArrowArray array;
      if (stream.get_next(&stream, &array) != 0) {
        const char* message = stream.get_last_error(&stream);
        wudf_py_argument_error("%s: argument %zd: the stream failed: %s", function, position,
                               message != NULL ? message : "unknown error");
        wudf_py__release_stream(&stream);
        return -1;
      }
      if (array.release == NULL) break;
      if (wudf_py_column_append(column, &array) != 0) {
        wudf_py__release_stream(&stream);
        return -1;
      }
    }
    wudf_py__release_stream(&stream);
    return 0;
  }
  wudf_py_argument_error("%s: argument %zd: expected Arrow data (an object with "
                         "__arrow_c_array__ or __arrow_c_stream__), got %s",
                         function, position, Py_TYPE(object)->tp_name);
  return -1;
}

static int wudf_py_column_import(PyObject* object, Py_ssize_t position, const char* function,
                                 struct wudf_py_column* column) {
  return wudf_py_column_import_as(object, position, function, NULL, column);
}

/* The family of a top-level format whose members hold the same values in
 * another layout: strings, binaries, lists (plain, large, view); 0 for
 * the rest. */
static int wudf_py_format_family(const char* format) {
  static const char* const families[][4] = {{"u", "U", "vu", NULL},
                                            {"z", "Z", "vz", NULL},
                                            {"+l", "+L", "+vl", "+vL"}};
  for (int family = 0; family < 3; family++) {
    for (int i = 0; i < 4 && families[family][i] != NULL; i++) {
      if (strcmp(format, families[family][i]) == 0) return family + 1;
    }
  }
  return 0;
}

/* Gives argument `position`, imported in another layout of the same values
 * than the declared one (polars hands out strings as views, for example),
 * a second chance: the producer is asked for the declared type (pyarrow
 * casts), and a producer that ignores the request is cast by pyarrow when
 * it is installed. Anything else is left for the library to refuse,
 * naming both types. 0, or -1 with an exception set. */
static int wudf_py_column_conform(PyObject* object, Py_ssize_t position, const char* function,
                                  const struct ArrowSchema* declared,
                                  struct wudf_py_column* column) {
  int family = wudf_py_format_family(column->schema.format);
  if (family == 0 || strcmp(column->schema.format, declared->format) == 0 ||
      family != wudf_py_format_family(declared->format)) {
    return 0;
  }
  PyObject* requested = wudf_py__schema_capsule(declared);
  if (requested == NULL) return -1;
  struct wudf_py_column again;
  if (wudf_py_column_import_as(object, position, function, requested, &again) == 0) {
    if (strcmp(again.schema.format, declared->format) == 0) {
      Py_DECREF(requested);
      wudf_py_column_free(column);
      *column = again;
      return 0;
    }
    wudf_py_column_free(&again);
  }
  PyErr_Clear();
  PyObject* pyarrow = PyImport_ImportModule("pyarrow");
  PyObject* cast = NULL;
  struct ArrowSchema copy;
  PyObject* schema = NULL;
  if (pyarrow != NULL && wudf_py__schema_copy(declared, &copy) == 0) {
    schema = wudf_py_schema_new(&copy);
  }
  if (schema != NULL) {
    PyObject* field = PyObject_CallMethod(pyarrow, "field", "O", schema);
    PyObject* type = field != NULL ? PyObject_GetAttrString(field, "type") : NULL;
    PyObject* chunked = PyObject_CallMethod(pyarrow, "chunked_array", "O", object);
    if (chunked == NULL) {
      PyErr_Clear();
      chunked = PyObject_CallMethod(pyarrow, "array", "O", object);
    }
    cast = type != NULL && chunked != NULL ? PyObject_CallMethod(chunked, "cast", "O", type)
                                           : NULL;
    Py_XDECREF(field);
    Py_XDECREF(type);
    Py_XDECREF(chunked);
  }
  Py_XDECREF(schema);
  Py_XDECREF(pyarrow);
  Py_DECREF(requested);
  PyErr_Clear();
  if (cast == NULL) return 0;
  int status = wudf_py_column_import(cast, position, function, &again);
  Py_DECREF(cast);
  if (status != 0) return -1;
  wudf_py_column_free(column);
  *column = again;
  column->chunked = 1;
  return 0;
}

/* Imports every object of `objects` (a tuple). NULL with an exception set
 * on failure. */
static struct wudf_py_columns* wudf_py_columns_import(PyObject* objects, const char* function) {
  Py_ssize_t count = PyTuple_GET_SIZE(objects);
  struct wudf_py_columns* columns =
      calloc(1, sizeof(*columns) + (size_t)count * sizeof(struct wudf_py_column));
  if (columns == NULL) {
    PyErr_NoMemory();
    return NULL;
  }
  for (Py_ssize_t i = 0; i < count; i++) {
    if (wudf_py_column_import(PyTuple_GET_ITEM(objects, i), i, function,
                              &columns->column[i]) != 0) {
      wudf_py_columns_free(columns);
      return NULL;
    }
    columns->count = i + 1;
  }
  return columns;
}

/* ---------------------------------------------------------------- plans */

/* How chunked columns are matched up: piece p covers rows start[p] ..
 * start[p] + length[p] - 1, which lie in chunk chunk[p * count + c] of
 * column c from row offset[p * count + c] of that chunk on. */
struct wudf_py_plan {
  Py_ssize_t count;
  int64_t piece_count;
  int64_t* start;
  int64_t* length;
  int64_t* chunk;
  int64_t* offset;
};

static void wudf_py_plan_free(struct wudf_py_plan* plan) {
  free(plan->start);
  free(plan->length);
  free(plan->chunk);
  free(plan->offset);
  memset(plan, 0, sizeof(*plan));
}

/* Plans the pieces of `columns`, whose lengths must be equal. Zero rows
 * are one empty piece when every column has a chunk, else no piece. 0, or
 * -1 with an exception set. */
static int wudf_py_plan_make(const struct wudf_py_columns* columns, const char* function,
                             struct wudf_py_plan* plan) {
  memset(plan, 0, sizeof(*plan));
  Py_ssize_t count = columns->count;
  plan->count = count;
  int64_t capacity = 1;
  for (Py_ssize_t c = 0; c < count; c++) {
    if (columns->column[c].length != columns->column[0].length) {
      wudf_py_argument_error("%s: argument %zd has %lld rows, argument 0 has %lld: the "
                             "arguments must have the same length", function, c,
                             (long long)columns->column[c].length,
                             (long long)columns->column[0].length);
      return -1;
    }
    capacity += columns->column[c].chunk_count;
  }
  size_t cells = (size_t)capacity * (size_t)(count > 0 ? count : 1);
  plan->start = malloc((size_t)capacity * sizeof(int64_t));
  plan->length = malloc((size_t)capacity * sizeof(int64_t));
  plan->chunk = malloc(cells * sizeof(int64_t));
  plan->offset = malloc(cells * sizeof(int64_t));
  if (plan->start == NULL || plan->length == NULL || plan->chunk == NULL ||
      plan->offset == NULL) {
    wudf_py_plan_free(plan);
    PyErr_NoMemory();
    return -1;
  }
  int64_t total = count > 0 ? columns->column[0].length : 0;
  int64_t* chunk = calloc((size_t)(count > 0 ? count : 1), sizeof(int64_t));
  int64_t* offset = calloc((size_t)(count > 0 ? count : 1), sizeof(int64_t));
  if (chunk == NULL || offset == NULL) {
    free(chunk);
    free(offset);
    wudf_py_plan_free(plan);
    PyErr_NoMemory();
    return -1;
  }
  int64_t row = 0;
  int empty_piece = total == 0 && count > 0;
  for (Py_ssize_t c = 0; c < count; c++) empty_piece &= columns->column[c].chunk_count > 0;
  if (empty_piece) { /* zero rows of arrays: one call still gives a typed result */
    plan->piece_count = 1;
    plan->start[0] = plan->length[0] = 0;
    for (Py_ssize_t c = 0; c < count; c++) plan->chunk[c] = plan->offset[c] = 0;
  }
  while (row < total) {
    int64_t piece = INT64_MAX;
    for (Py_ssize_t c = 0; c < count; c++) {
      const struct wudf_py_column* column = &columns->column[c];
      while (offset[c] >= column->chunks[chunk[c]].length) { /* skip empty chunks */
        chunk[c]++;
        offset[c] = 0;
      }
      int64_t left = column->chunks[chunk[c]].length - offset[c];
      if (left < piece) piece = left;
    }
    int64_t p = plan->piece_count++;
    plan->start[p] = row;
    plan->length[p] = piece;
    for (Py_ssize_t c = 0; c < count; c++) {
      plan->chunk[p * count + c] = chunk[c];
      plan->offset[p * count + c] = offset[c];
      offset[c] += piece;
    }
    row += piece;
  }
  free(chunk);
  free(offset);
  return 0;
}

/* Never called: slices are borrowed views of the caller's chunks. */
static void wudf_py_slice_release(struct ArrowArray* array) { array->release = NULL; }

/* Fills out[c] with the rows of piece `p` of column c, as borrowed
 * zero-copy slices (the library reads them, never releases them), and
 * args[c] / schemas[c] with what a library call takes for them. */
static void wudf_py_plan_slices(const struct wudf_py_plan* plan,
                                const struct wudf_py_columns* columns, int64_t p,
                                struct ArrowArray* out, const struct ArrowArray** args,
                                const struct ArrowSchema** schemas) {
  for (Py_ssize_t c = 0; c < plan->count; c++) {
    args[c] = &out[c];
    schemas[c] = &columns->column[c].schema;
    const struct ArrowArray* chunk = &columns->column[c].chunks[plan->chunk[p * plan->count + c]];
    int64_t offset = plan->offset[p * plan->count + c];
    out[c] = *chunk;
    out[c].release = wudf_py_slice_release;
    out[c].private_data = NULL;
    if (offset != 0 || plan->length[p] != chunk->length) {
      out[c].offset = chunk->offset + offset;
      out[c].length = plan->length[p];
      if (chunk->null_count != 0) out[c].null_count = -1;
    }
  }
}

/* ------------------------------------------------------------- Instance */

/* A new Instance of `module`. NULL with an exception set on failure. */
static wudf_py_Instance* wudf_py_instance_new(wudf_py_Module* module) {
  struct wudf_error error;
  struct wudf_instance* instance = NULL;
  int status;
  Py_BEGIN_ALLOW_THREADS
  status = wudf_instance_new(module->module, &module->config, &instance, &error);
  Py_END_ALLOW_THREADS
  if (status != 0) return (wudf_py_Instance*)wudf_py_raise(&error, WUDF_PY_LOADING, NULL);
  wudf_py_Instance* self = PyObject_GC_New(wudf_py_Instance, &wudf_py_InstanceType);
  if (self == NULL) {
    wudf_instance_free(instance);
    return NULL;
  }
  pthread_mutex_init(&self->lock, NULL);
  self->instance = instance;
  Py_INCREF(module);
  self->module = module;
  PyObject_GC_Track(self);
  return self;
}

/* An instance and its module refer to each other (the module keeps its
 * default instance): the cycle collector breaks that cycle. */
static int wudf_py_instance_traverse(wudf_py_Instance* self, visitproc visit, void* arg) {
  Py_VISIT(self->module);
  return 0;
}

static int wudf_py_instance_clear(wudf_py_Instance* self) {
  Py_CLEAR(self->module);
  return 0;
}

static void wudf_py_instance_dealloc(wudf_py_Instance* self) {
  /* Streams and accumulators hold the Python object, so no call runs here;
   * the library keeps the instance for its own holders (views) and its
   * module for the instance. */
  PyObject_GC_UnTrack(self);
  wudf_instance_free(self->instance);
  pthread_mutex_destroy(&self->lock);
  Py_XDECREF(self->module);
  PyObject_GC_Del(self);
}

static PyObject* wudf_py_function_bind(wudf_py_Module* module, wudf_py_Instance* instance,
                                       PyObject* key);

static PyObject* wudf_py_instance_getitem(wudf_py_Instance* self, PyObject* key) {
  return wudf_py_function_bind(self->module, self, key);
}

static PyObject* wudf_py_instance_memory_size(wudf_py_Instance* self, void* closure) {
  pthread_mutex_lock(&self->lock);
  uint64_t size = wudf_instance_memory_size(self->instance);
  pthread_mutex_unlock(&self->lock);
  return PyLong_FromUnsignedLongLong(size);
}

static PyObject* wudf_py_instance_broken(wudf_py_Instance* self, void* closure) {
  return PyBool_FromLong(wudf_instance_is_broken(self->instance));
}

static PyObject* wudf_py_instance_output(wudf_py_Instance* self, void* closure) {
  pthread_mutex_lock(&self->lock);
  size_t size = 0;
  const char* output = wudf_instance_output(self->instance, &size, NULL);
  PyObject* bytes = PyBytes_FromStringAndSize(output, (Py_ssize_t)size);
  pthread_mutex_unlock(&self->lock);
  return bytes;
}

static PyObject* wudf_py_instance_clear_output(wudf_py_Instance* self, PyObject* ignored) {
  pthread_mutex_lock(&self->lock);
  wudf_instance_output_clear(self->instance);
  pthread_mutex_unlock(&self->lock);
  Py_RETURN_NONE;
}

static PyMethodDef wudf_py_instance_methods[] = {
    {"clear_output", (PyCFunction)wudf_py_instance_clear_output, METH_NOARGS,
     "Empties the captured WASI output."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wudf_py_instance_getset[] = {
    {"memory_size", (getter)wudf_py_instance_memory_size, NULL,
     "The size of the instance's linear memory in bytes.", NULL},
    {"broken", (getter)wudf_py_instance_broken, NULL,
     "True once a trap has broken the instance (make a new one).", NULL},
    {"output", (getter)wudf_py_instance_output, NULL,
     "The guest's captured WASI stdout and stderr, as bytes.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods wudf_py_instance_mapping = {
    .mp_subscript = (binaryfunc)wudf_py_instance_getitem,
};

static int wudf_py_module_contains(wudf_py_Module* self, PyObject* key);

static int wudf_py_instance_contains(wudf_py_Instance* self, PyObject* key) {
  return wudf_py_module_contains(self->module, key);
}

static PySequenceMethods wudf_py_instance_sequence = {
    .sq_contains = (objobjproc)wudf_py_instance_contains,
};

static PyTypeObject wudf_py_InstanceType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.Instance",
    .tp_basicsize = sizeof(wudf_py_Instance),
    .tp_dealloc = (destructor)wudf_py_instance_dealloc,
    .tp_as_mapping = &wudf_py_instance_mapping,
    .tp_as_sequence = &wudf_py_instance_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)wudf_py_instance_traverse,
    .tp_clear = (inquiry)wudf_py_instance_clear,
    .tp_doc = "One sandbox of a module: its own linear memory. instance['f'] is function f "
              "bound to it. Calls from several threads are serialised.",
    .tp_methods = wudf_py_instance_methods,
    .tp_getset = wudf_py_instance_getset,
};

/* --------------------------------------------------------------- Module */

static int wudf_py_module_traverse(wudf_py_Module* self, visitproc visit, void* arg) {
  Py_VISIT(self->instance);
  return 0;
}

static int wudf_py_module_clear(wudf_py_Module* self) {
  Py_CLEAR(self->instance);
  return 0;
}

static void wudf_py_module_dealloc(wudf_py_Module* self) {
  PyObject_GC_UnTrack(self);
  Py_CLEAR(self->instance);
  wudf_module_free(self->module); /* instances still alive keep it loaded */
  Py_XDECREF(self->source);
  PyObject_GC_Del(self);
}

/* The module's default instance, a new one in place of a broken one; a new
 * reference. */
static wudf_py_Instance* wudf_py_module_default_instance(wudf_py_Module* self) {
  if (self->instance == NULL || wudf_instance_is_broken(self->instance->instance)) {
    wudf_py_Instance* fresh = wudf_py_instance_new(self);
    if (fresh == NULL) return NULL;
    Py_XSETREF(self->instance, fresh);
  }
  Py_INCREF(self->instance);
  return self->instance;
}

static PyObject* wudf_py_module_getitem(wudf_py_Module* self, PyObject* key) {
  return wudf_py_function_bind(self, NULL, key);
}

static int wudf_py_module_contains(wudf_py_Module* self, PyObject* key) {
  const char* name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
  if (name == NULL) {
    PyErr_Clear();
    return 0;
  }
  uint32_t index;
  return wudf_module_find_function(self->module, name, &index, NULL) == 0;
}

static PyObject* wudf_py_module_functions(wudf_py_Module* self, void* closure) {
  uint32_t count = wudf_module_function_count(self->module);
  PyObject* list = PyList_New(count);
  if (list == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    wudf_py_Function* function = PyObject_New(wudf_py_Function, &wudf_py_FunctionType);
    if (function == NULL) {
      Py_DECREF(list);
      return NULL;
    }
    Py_INCREF(self);
    function->module = self;
    function->instance = NULL;
    function->index = i;
    PyList_SET_ITEM(list, i, (PyObject*)function);
  }
  return list;
}

static PyObject* wudf_py_module_instance(wudf_py_Module* self, PyObject* ignored) {
  return (PyObject*)wudf_py_instance_new(self);
}

static PyObject* wudf_py_module_repr(wudf_py_Module* self) {
  return PyUnicode_FromFormat("<wasmudf.Module %R, %u functions>", self->source,
                              wudf_module_function_count(self->module));
}

static PyMethodDef wudf_py_module_methods[] = {
    {"instance", (PyCFunction)wudf_py_module_instance, METH_NOARGS,
     "A new Instance of the module (its own sandbox), e.g. one per thread."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wudf_py_module_getset[] = {
    {"functions", (getter)wudf_py_module_functions, NULL,
     "The functions the module declares, a list of Function.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef wudf_py_module_members[] = {
    {"source", T_OBJECT, offsetof(wudf_py_Module, source), READONLY,
     "The path the module was loaded from, or None."},
    {NULL, 0, 0, 0, NULL},
};

static PyMappingMethods wudf_py_module_mapping = {
    .mp_subscript = (binaryfunc)wudf_py_module_getitem,
};

static PySequenceMethods wudf_py_module_sequence = {
    .sq_contains = (objobjproc)wudf_py_module_contains,
};

static PyTypeObject wudf_py_ModuleType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.Module",
    .tp_basicsize = sizeof(wudf_py_Module),
    .tp_dealloc = (destructor)wudf_py_module_dealloc,
    .tp_repr = (reprfunc)wudf_py_module_repr,
    .tp_as_mapping = &wudf_py_module_mapping,
    .tp_as_sequence = &wudf_py_module_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)wudf_py_module_traverse,
    .tp_clear = (inquiry)wudf_py_module_clear,
    .tp_doc = "A loaded module. module['f'] is function f on the module's default instance "
              "(replaced by a fresh one after a trap breaks it).",
    .tp_methods = wudf_py_module_methods,
    .tp_getset = wudf_py_module_getset,
    .tp_members = wudf_py_module_members,
};

/* Parses a size in bytes or None into `*out` (unchanged for None). */
static int wudf_py_optional_u64(PyObject* value, const char* what, uint64_t* out) {
  if (value == NULL || value == Py_None) return 0;
  unsigned long long parsed = PyLong_AsUnsignedLongLong(value);
  if (parsed == (unsigned long long)-1 && PyErr_Occurred()) {
    PyErr_Format(PyExc_ValueError, "%s must be a non-negative integer or None", what);
    return -1;
  }
  *out = parsed;
  return 0;
}

/* The body of load (`artifact` 0) and load_artifact (`artifact` 1). */
static PyObject* wudf_py_load_any(PyObject* args, PyObject* kwargs, int artifact) {
  static char* keywords[] = {"source", "timeout_ms", "memory_limit", "output_limit",
                             "deterministic", NULL};
  PyObject *source, *timeout = Py_None, *memory = Py_None, *output = Py_None;
  int deterministic = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$OOOp", keywords, &source, &timeout,
                                   &memory, &output, &deterministic)) {
    return NULL;
  }
  struct wudf_error error;
  struct wudf_engine* engine = wudf_py_get_engine(&error);
  if (engine == NULL) return wudf_py_raise(&error, WUDF_PY_LOADING, NULL);
  struct wudf_instance_config config;
  wudf_instance_config_init(engine, &config);
  uint64_t output_limit = config.output_limit;
  if (wudf_py_optional_u64(timeout, "timeout_ms", &config.timeout_ms) != 0 ||
      wudf_py_optional_u64(memory, "memory_limit", &config.memory_limit) != 0 ||
      wudf_py_optional_u64(output, "output_limit", &output_limit) != 0) {
    return NULL;
  }
  config.output_limit = (size_t)output_limit;
  config.deterministic = deterministic;

  struct wudf_module* module = NULL;
  PyObject* name = Py_None;
  int status;
  Py_buffer bytes;
  if (PyObject_CheckBuffer(source)) {
    if (PyObject_GetBuffer(source, &bytes, PyBUF_SIMPLE) != 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    status = artifact ? wudf_module_load_artifact(engine, bytes.buf, (size_t)bytes.len,
                                                  &module, &error)
                      : wudf_module_load(engine, bytes.buf, (size_t)bytes.len, &module, &error);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&bytes);
    Py_INCREF(name);
  } else {
    PyObject* path = NULL;
    if (!PyUnicode_FSConverter(source, &path)) return NULL;
    const char* text = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    status = artifact ? wudf_module_load_artifact_file(engine, text, &module, &error)
                      : wudf_module_load_file(engine, text, &module, &error);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    name = PyOS_FSPath(source);
    if (name == NULL) {
      if (status == 0) wudf_module_free(module);
      return NULL;
    }
  }
  if (status != 0) {
    Py_DECREF(name);
    return wudf_py_raise(&error, WUDF_PY_LOADING, NULL);
  }
  wudf_py_Module* self = PyObject_GC_New(wudf_py_Module, &wudf_py_ModuleType);
  if (self == NULL) {
    Py_DECREF(name);
    wudf_module_free(module);
    return NULL;
  }
  self->module = module;
  self->config = config;
  self->instance = NULL;
  self->source = name;
  PyObject_GC_Track(self);
  /* The first instance now: a module that cannot be instantiated fails
   * its load, not its first call. */
  wudf_py_Instance* instance = wudf_py_module_default_instance(self);
  if (instance == NULL) {
    Py_DECREF(self);
    return NULL;
  }
  Py_DECREF(instance);
  return (PyObject*)self;
}

static PyObject* wudf_py_load(PyObject* unused, PyObject* args, PyObject* kwargs) {
  return wudf_py_load_any(args, kwargs, 0);
}

static PyObject* wudf_py_load_artifact(PyObject* unused, PyObject* args, PyObject* kwargs) {
  return wudf_py_load_any(args, kwargs, 1);
}

/* compile_artifact(bytes) -> bytes: the artifact of a module's bytes
 * (wudf_module_compile_artifact); the package's compile_artifact also takes
 * a path. */
static PyObject* wudf_py_compile_artifact(PyObject* unused, PyObject* source) {
  struct wudf_error error;
  struct wudf_engine* engine = wudf_py_get_engine(&error);
  if (engine == NULL) return wudf_py_raise(&error, WUDF_PY_LOADING, NULL);
  PyObject* data = PyBytes_FromObject(source);
  if (data == NULL) return NULL;
  uint8_t* artifact = NULL;
  size_t artifact_size = 0;
  int status;
  const uint8_t* bytes = (const uint8_t*)PyBytes_AS_STRING(data);
  size_t size = (size_t)PyBytes_GET_SIZE(data);
  Py_BEGIN_ALLOW_THREADS
  status = wudf_module_compile_artifact(engine, bytes, size, &artifact, &artifact_size, &error);
  Py_END_ALLOW_THREADS
  Py_DECREF(data);
  if (status != 0) return wudf_py_raise(&error, WUDF_PY_LOADING, NULL);
  PyObject* result = PyBytes_FromStringAndSize((const char*)artifact, (Py_ssize_t)artifact_size);
  wudf_artifact_free(artifact);
  return result;
}

/* ------------------------------------------------------------- Function */

static PyObject* wudf_py_function_bind(wudf_py_Module* module, wudf_py_Instance* instance,
                                       PyObject* key) {
  const char* name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
  if (name == NULL) {
    PyErr_Clear();
    PyErr_SetObject(PyExc_KeyError, key);
    return NULL;
  }
  uint32_t index;
  if (wudf_module_find_function(module->module, name, &index, NULL) != 0) {
    PyErr_SetObject(PyExc_KeyError, key);
    return NULL;
  }
  wudf_py_Function* self = PyObject_New(wudf_py_Function, &wudf_py_FunctionType);
  if (self == NULL) return NULL;
  Py_INCREF(module);
  self->module = module;
  Py_XINCREF(instance);
  self->instance = instance;
  self->index = index;
  return (PyObject*)self;
}

static void wudf_py_function_dealloc(wudf_py_Function* self) {
  Py_XDECREF(self->module);
  Py_XDECREF(self->instance);
  PyObject_Free(self);
}

/* The function's description (pointers owned by the module). */
static struct wudf_function_info wudf_py_function_info(const wudf_py_Function* self) {
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  wudf_module_function(self->module->module, self->index, &info, NULL);
  return info;
}

/* The instance the function runs on; a new reference. */
static wudf_py_Instance* wudf_py_function_instance(wudf_py_Function* self) {
  if (self->instance != NULL) {
    Py_INCREF(self->instance);
    return self->instance;
  }
  return wudf_py_module_default_instance(self->module);
}

static PyObject* wudf_py_function_name(wudf_py_Function* self, void* closure) {
  return PyUnicode_FromString(wudf_py_function_info(self).name);
}

static PyObject* wudf_py_function_kind(wudf_py_Function* self, void* closure) {
  return PyUnicode_FromString(wudf_function_kind_name(wudf_py_function_info(self).kind));
}

static PyObject* wudf_py_function_signature(wudf_py_Function* self, void* closure) {
  return PyUnicode_FromString(wudf_py_function_info(self).signature);
}

static PyObject* wudf_py_function_strict(wudf_py_Function* self, void* closure) {
  return PyBool_FromLong(wudf_py_function_info(self).strict);
}

static PyObject* wudf_py_function_deterministic(wudf_py_Function* self, void* closure) {
  return PyBool_FromLong(wudf_py_function_info(self).deterministic);
}

static PyObject* wudf_py_strings(const char* const* texts, uint32_t count) {
  PyObject* list = PyList_New(count);
  for (uint32_t i = 0; list != NULL && i < count; i++) {
    PyObject* text = PyUnicode_FromString(texts[i]);
    if (text == NULL) {
      Py_CLEAR(list);
      break;
    }
    PyList_SET_ITEM(list, i, text);
  }
  return list;
}

static PyObject* wudf_py_function_arg_names(wudf_py_Function* self, void* closure) {
  struct wudf_function_info info = wudf_py_function_info(self);
  return wudf_py_strings(info.arg_names, info.arg_count);
}

static PyObject* wudf_py_function_arg_types(wudf_py_Function* self, void* closure) {
  struct wudf_function_info info = wudf_py_function_info(self);
  return wudf_py_strings(info.arg_types, info.arg_count);
}

static PyObject* wudf_py_function_result_type(wudf_py_Function* self, void* closure) {
  return PyUnicode_FromString(wudf_py_function_info(self).result_type);
}

static PyObject* wudf_py_function_state_type(wudf_py_Function* self, void* closure) {
  struct wudf_function_info info = wudf_py_function_info(self);
  if (info.state_type == NULL) Py_RETURN_NONE;
  return PyUnicode_FromString(info.state_type);
}

static PyObject* wudf_py_function_schema_part(wudf_py_Function* self, wudf_schema_part part) {
  struct ArrowSchema schema;
  struct wudf_error error;
  if (wudf_function_schema(self->module->module, self->index, part, &schema, &error) != 0) {
    return wudf_py_raise(&error, WUDF_PY_CALLING, wudf_py_function_info(self).name);
  }
  return wudf_py_schema_new(&schema);
}

static PyObject* wudf_py_function_arg_schema(wudf_py_Function* self, void* closure) {
  return wudf_py_function_schema_part(self, WUDF_SCHEMA_ARGUMENTS);
}

static PyObject* wudf_py_function_result_schema(wudf_py_Function* self, void* closure) {
  return wudf_py_function_schema_part(self, WUDF_SCHEMA_RESULT);
}

static PyObject* wudf_py_function_state_schema(wudf_py_Function* self, void* closure) {
  if (wudf_py_function_info(self).state_type == NULL) Py_RETURN_NONE;
  return wudf_py_function_schema_part(self, WUDF_SCHEMA_STATE);
}

static PyObject* wudf_py_function_repr(wudf_py_Function* self) {
  struct wudf_function_info info = wudf_py_function_info(self);
  return PyUnicode_FromFormat("<wasmudf.Function %s %s>", wudf_function_kind_name(info.kind),
                              info.signature);
}

/* Reads the call options of keyword arguments `kwargs` (may be NULL). */
static int wudf_py_call_options(PyObject* kwargs, struct wudf_call_options* options) {
  wudf_call_options_init(options);
  if (kwargs == NULL) return 0;
  PyObject *key, *value;
  Py_ssize_t at = 0;
  while (PyDict_Next(kwargs, &at, &key, &value)) {
    const char* name = PyUnicode_AsUTF8(key);
    if (name == NULL) return -1;
    long long number = -1;
    if (strcmp(name, "validation") == 0) {
      const char* level = PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
      if (level != NULL && strcmp(level, "full") == 0) {
        options->validation = WUDF_VALIDATION_FULL;
      } else if (level != NULL && strcmp(level, "structure") == 0) {
        options->validation = WUDF_VALIDATION_STRUCTURE;
      } else {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "validation must be 'full' or 'structure'");
        return -1;
      }
      continue;
    }
    if (value != Py_None) {
      number = PyLong_AsLongLong(value);
      if (number == -1 && PyErr_Occurred()) return -1;
      if (number < 0) {
        PyErr_Format(PyExc_ValueError, "%s must not be negative", name);
        return -1;
      }
    }
    if (strcmp(name, "timeout_ms") == 0) {
      options->timeout_ms = value == Py_None ? WUDF_TIMEOUT_DEFAULT : (uint64_t)number;
    } else if (strcmp(name, "max_rows_per_call") == 0 && value != Py_None) {
      options->max_rows_per_call = number;
    } else if (strcmp(name, "max_output_rows") == 0 && value != Py_None) {
      options->max_output_rows = number;
    } else if (strcmp(name, "max_block_bytes") == 0 && value != Py_None) {
      options->max_block_bytes = number;
    } else if (strcmp(name, "result_row_limit") == 0 && value != Py_None) {
      options->result_row_limit = number;
    } else if (strcmp(name, "result_byte_limit") == 0 && value != Py_None) {
      options->result_byte_limit = number;
    } else if (strcmp(name, "nesting_depth_limit") == 0 && value != Py_None) {
      options->nesting_depth_limit = (int)number;
    } else if (strcmp(name, "chunk_bytes") == 0 && value != Py_None) {
      options->chunk_bytes = number;
    } else {
      PyErr_Format(PyExc_TypeError, "unexpected keyword argument '%s'", name);
      return -1;
    }
  }
  return 0;
}

/* Whether a call with these columns passes one record batch whose columns
 * are the arguments: one struct column, where the function does not take
 * exactly one struct argument. */
static int wudf_py_is_batch(const struct wudf_function_info* info,
                            const struct wudf_py_columns* columns) {
  if (columns->count != 1 || strcmp(columns->column[0].schema.format, "+s") != 0) return 0;
  return info->arg_count != 1 || strcmp(info->arg_formats[0], "+s") != 0;
}

/* Runs one scalar or batch library call on piece `p`, releasing the GIL.
 * 0 or the library's status. */
static int wudf_py_call_piece(wudf_py_Instance* instance, uint32_t index, int batch,
                              const struct wudf_py_plan* plan,
                              const struct wudf_py_columns* columns, int64_t p,
                              const struct wudf_call_options* options, struct ArrowArray* out,
                              struct ArrowSchema* out_schema, struct wudf_error* error) {
  struct ArrowArray slices[64];
  const struct ArrowArray* args[64];
  const struct ArrowSchema* schemas[64];
  Py_ssize_t count = columns->count;
  if (count > 64) {
    snprintf(error->message, sizeof(error->message), "more than 64 arguments");
    return error->code = EINVAL;
  }
  wudf_py_plan_slices(plan, columns, p, slices, args, schemas);
  int status;
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&instance->lock);
  if (batch) {
    status = wudf_function_call_batch(instance->instance, index, args[0], schemas[0], options,
                                      out, out_schema, error);
  } else {
    status = wudf_function_call(instance->instance, index, (uint32_t)count, args, schemas,
                                options, out, out_schema, error);
  }
  pthread_mutex_unlock(&instance->lock);
  Py_END_ALLOW_THREADS
  return status;
}

/* An empty ChunkedArray of the function's result type. */
static PyObject* wudf_py_empty_result(wudf_py_Function* self) {
  PyObject* chunks = PyList_New(0);
  if (chunks == NULL) return NULL;
  struct ArrowSchema schema;
  struct wudf_error error;
  if (wudf_function_schema(self->module->module, self->index, WUDF_SCHEMA_RESULT, &schema,
                           &error) != 0) {
    Py_DECREF(chunks);
    return wudf_py_raise(&error, WUDF_PY_CALLING, wudf_py_function_info(self).name);
  }
  PyObject* result = wudf_py_chunked_new(chunks, &schema);
  Py_DECREF(chunks);
  return result;
}

static PyObject* wudf_py_stream_new(wudf_py_Instance* instance, uint32_t index, int batch,
                                    PyObject* columns_capsule,
                                    const struct wudf_call_options* options);
static PyObject* wudf_py_aggregate_all(wudf_py_Function* self, wudf_py_Instance* instance,
                                       int batch, struct wudf_py_columns* columns,
                                       const struct wudf_call_options* options);

/* Scalar and batch calls: one Array for array arguments, a ChunkedArray
 * (one chunk per piece) when any argument is a stream. */
static PyObject* wudf_py_call_rows(wudf_py_Function* self, wudf_py_Instance* instance,
                                   const struct wudf_function_info* info, int batch,
                                   struct wudf_py_columns* columns,
                                   const struct wudf_call_options* options) {
  int chunked = 0;
  for (Py_ssize_t c = 0; c < columns->count; c++) chunked |= columns->column[c].chunked;
  struct wudf_py_plan plan;
  if (wudf_py_plan_make(columns, info->name, &plan) != 0) return NULL;
  if (plan.piece_count == 0) { /* no chunk at all: nothing to call the guest on */
    wudf_py_plan_free(&plan);
    return wudf_py_empty_result(self);
  }
  PyObject* results = PyList_New(0);
  struct ArrowSchema first_schema = {0};
  for (int64_t p = 0; results != NULL && p < plan.piece_count; p++) {
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    struct wudf_error error;
    if (wudf_py_call_piece(instance, self->index, batch, &plan, columns, p, options, &out,
                           &out_schema, &error) != 0) {
      Py_CLEAR(results);
      wudf_py_raise(&error, WUDF_PY_CALLING, info->name);
      break;
    }
    if (p == 0 && chunked && wudf_py__schema_copy(&out_schema, &first_schema) != 0) {
      out.release(&out);
      out_schema.release(&out_schema);
      Py_CLEAR(results);
      break;
    }
    PyObject* array = wudf_py_array_new(&out, &out_schema);
    if (array == NULL || PyList_Append(results, array) != 0) {
      Py_XDECREF(array);
      Py_CLEAR(results);
      break;
    }
    Py_DECREF(array);
  }
  wudf_py_plan_free(&plan);
  if (results == NULL) {
    wudf_py__release_schema(&first_schema);
    return NULL;
  }
  if (!chunked) {
    PyObject* only = Py_NewRef(PyList_GET_ITEM(results, 0));
    Py_DECREF(results);
    return only;
  }
  PyObject* chunked_result = wudf_py_chunked_new(results, &first_schema);
  Py_DECREF(results);
  return chunked_result;
}

/* wudf_py_column_conform for every argument of a call. */
static int wudf_py_columns_conform(wudf_py_Function* self, PyObject* objects,
                                   const char* function, struct wudf_py_columns* columns) {
  struct wudf_function_info info = wudf_py_function_info(self);
  int needed = 0;
  for (Py_ssize_t c = 0; c < columns->count && c < (Py_ssize_t)info.arg_count; c++) {
    needed |= strcmp(columns->column[c].schema.format, info.arg_formats[c]) != 0;
  }
  if (!needed) return 0;
  struct ArrowSchema declared;
  struct wudf_error error;
  if (wudf_function_schema(self->module->module, self->index, WUDF_SCHEMA_ARGUMENTS,
                           &declared, &error) != 0) {
    wudf_py_raise(&error, WUDF_PY_CALLING, function);
    return -1;
  }
  int status = 0;
  for (Py_ssize_t c = 0; status == 0 && c < columns->count && c < declared.n_children; c++) {
    status = wudf_py_column_conform(PyTuple_GET_ITEM(objects, c), c, function,
                                    declared.children[c], &columns->column[c]);
  }
  declared.release(&declared);
  return status;
}

static PyObject* wudf_py_function_call(wudf_py_Function* self, PyObject* args,
                                       PyObject* kwargs) {
  struct wudf_function_info info = wudf_py_function_info(self);
  struct wudf_call_options options;
  if (wudf_py_call_options(kwargs, &options) != 0) return NULL;
  struct wudf_py_columns* columns = wudf_py_columns_import(args, info.name);
  if (columns == NULL) return NULL;
  int batch = wudf_py_is_batch(&info, columns);
  if (!batch && wudf_py_columns_conform(self, args, info.name, columns) != 0) {
    wudf_py_columns_free(columns);
    return NULL;
  }
  wudf_py_Instance* instance = wudf_py_function_instance(self);
  if (instance == NULL) {
    wudf_py_columns_free(columns);
    return NULL;
  }
  PyObject* result = NULL;
  switch (info.kind) {
    case WUDF_FUNCTION_TABLE: {
      PyObject* capsule =
          PyCapsule_New(columns, "wasmudf.columns", wudf_py_columns_capsule_free);
      if (capsule == NULL) break; /* columns freed below */
      result = wudf_py_stream_new(instance, self->index, batch, capsule, &options);
      Py_DECREF(capsule);
      columns = NULL; /* owned by the capsule */
      break;
    }
    case WUDF_FUNCTION_AGGREGATE:
      result = wudf_py_aggregate_all(self, instance, batch, columns, &options);
      break;
    default:
      result = wudf_py_call_rows(self, instance, &info, batch, columns, &options);
      break;
  }
  wudf_py_columns_free(columns);
  Py_DECREF(instance);
  return result;
}

static PyObject* wudf_py_accumulator_new(wudf_py_Function* self, PyObject* ignored);

static PyMethodDef wudf_py_function_methods[] = {
    {"accumulator", (PyCFunction)wudf_py_accumulator_new, METH_NOARGS,
     "An empty Accumulator of this aggregate function (its groups' states live in the "
     "instance)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wudf_py_function_getset[] = {
    {"name", (getter)wudf_py_function_name, NULL, "The function's name.", NULL},
    {"kind", (getter)wudf_py_function_kind, NULL,
     "'scalar', 'batch', 'table' or 'aggregate'.", NULL},
    {"signature", (getter)wudf_py_function_signature, NULL, "The canonical signature.", NULL},
    {"strict", (getter)wudf_py_function_strict, NULL,
     "True: RETURNS NULL ON NULL INPUT; False: CALLED ON NULL INPUT.", NULL},
    {"deterministic", (getter)wudf_py_function_deterministic, NULL,
     "True when declared DETERMINISTIC.", NULL},
    {"arg_names", (getter)wudf_py_function_arg_names, NULL,
     "The declared argument names ('' when unnamed).", NULL},
    {"arg_types", (getter)wudf_py_function_arg_types, NULL,
     "The arguments' canonical type texts.", NULL},
    {"result_type", (getter)wudf_py_function_result_type, NULL,
     "The result's canonical type text.", NULL},
    {"state_type", (getter)wudf_py_function_state_type, NULL,
     "An aggregate's STATE type text, else None.", NULL},
    {"arg_schema", (getter)wudf_py_function_arg_schema, NULL,
     "A struct Schema whose children are the arguments (pyarrow.schema(f.arg_schema)).",
     NULL},
    {"result_schema", (getter)wudf_py_function_result_schema, NULL,
     "The Schema of what a call returns (pyarrow.field(f.result_schema)).", NULL},
    {"state_schema", (getter)wudf_py_function_state_schema, NULL,
     "An aggregate's STATE Schema, else None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject wudf_py_FunctionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.Function",
    .tp_basicsize = sizeof(wudf_py_Function),
    .tp_dealloc = (destructor)wudf_py_function_dealloc,
    .tp_repr = (reprfunc)wudf_py_function_repr,
    .tp_call = (ternaryfunc)wudf_py_function_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A function of a module. f(*columns) or f(record_batch) calls it: an Array "
              "(a ChunkedArray for stream arguments), a Stream for table functions, the "
              "one-group result for aggregates. Keywords: timeout_ms, max_rows_per_call, "
              "max_output_rows, max_block_bytes, result_row_limit, result_byte_limit, "
              "nesting_depth_limit, chunk_bytes, validation ('full' or 'structure').",
    .tp_methods = wudf_py_function_methods,
    .tp_getset = wudf_py_function_getset,
};

/* ---------------------------------------------------------- Accumulator */

static PyObject* wudf_py_accumulator_new(wudf_py_Function* self, PyObject* ignored) {
  wudf_py_Instance* instance = wudf_py_function_instance(self);
  if (instance == NULL) return NULL;
  struct wudf_aggregate* aggregate = NULL;
  struct wudf_error error;
  int status;
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&instance->lock);
  status = wudf_aggregate_new(instance->instance, self->index, &aggregate, &error);
  pthread_mutex_unlock(&instance->lock);
  Py_END_ALLOW_THREADS
  if (status != 0) {
    Py_DECREF(instance);
    return wudf_py_raise(&error, WUDF_PY_CALLING, wudf_py_function_info(self).name);
  }
  wudf_py_Accumulator* accumulator =
      PyObject_New(wudf_py_Accumulator, &wudf_py_AccumulatorType);
  if (accumulator == NULL) {
    wudf_aggregate_free(aggregate);
    Py_DECREF(instance);
    return NULL;
  }
  accumulator->instance = instance; /* the reference taken above */
  accumulator->aggregate = aggregate;
  accumulator->index = self->index;
  return (PyObject*)accumulator;
}

static void wudf_py_accumulator_dealloc(wudf_py_Accumulator* self) {
  if (self->aggregate != NULL) {
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&self->instance->lock);
    wudf_aggregate_free(self->aggregate);
    pthread_mutex_unlock(&self->instance->lock);
    Py_END_ALLOW_THREADS
  }
  Py_XDECREF(self->instance);
  PyObject_Free(self);
}

static const char* wudf_py_accumulator_name(const wudf_py_Accumulator* self) {
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  wudf_module_function(self->instance->module->module, self->index, &info, NULL);
  return info.name;
}

/* Group ids as one uint32 per row: `*ids` (malloc'd, owned by the caller)
 * and their largest value + 1 in `*needed`. `groups` is None (every row in
 * group 0: *ids = NULL), Arrow integer data, a buffer of integers (e.g. a
 * numpy array) or a sequence of ints. 0, or -1 with an exception set. */
static int wudf_py_group_ids(PyObject* groups, int64_t rows, const char* function,
                             uint32_t** ids, int64_t* needed) {
  *ids = NULL;
  *needed = rows > 0 ? 1 : 0;
  if (groups == NULL || groups == Py_None) return 0;
  uint32_t* values = malloc((size_t)(rows > 0 ? rows : 1) * sizeof(uint32_t));
  if (values == NULL) {
    PyErr_NoMemory();
    return -1;
  }
  int64_t count = 0;
  int bad = 0;
  long long bad_value = 0;
#define WUDF_PY_PUT(value_expression)                                   \
  do {                                                                  \
    long long value_ = (long long)(value_expression);                   \
    if (value_ < 0 || value_ > (long long)UINT32_MAX) {                 \
      bad = 1;                                                          \
      bad_value = value_;                                               \
    } else if (count < rows) {                                          \
      values[count] = (uint32_t)value_;                                 \
      if (value_ + 1 > *needed) *needed = value_ + 1;                   \
    }                                                                   \
    count++;                                                            \
  } while (0)
  if (PyObject_HasAttr(groups, wudf_py_name_c_array) ||
      PyObject_HasAttr(groups, wudf_py_name_c_stream)) {
    struct wudf_py_column column;
    if (wudf_py_column_import(groups, 0, function, &column) != 0) {
      free(values);
      return -1;
    }
    char format[8] = {0};
    snprintf(format, sizeof(format), "%s", column.schema.format);
    int width = strlen(format) != 1 ? 0
                : strchr("cC", format[0]) ? 1
                : strchr("sS", format[0]) ? 2
                : strchr("iI", format[0]) ? 4
                : strchr("lL", format[0]) ? 8 : 0;
    int is_signed = width != 0 && strchr("csil", format[0]) != NULL;
    for (int64_t i = 0; width != 0 && i < column.chunk_count; i++) {
      const struct ArrowArray* chunk = &column.chunks[i];
      if (chunk->null_count != 0 && chunk->buffers[0] != NULL) {
        width = -1;
        break;
      }
      const uint8_t* data = (const uint8_t*)chunk->buffers[1] + chunk->offset * width;
      for (int64_t r = 0; r < chunk->length; r++) {
        const uint8_t* at = data + r * width;
        switch (width * (is_signed ? -1 : 1)) {
          case 1: WUDF_PY_PUT(*at); break;
          case -1: WUDF_PY_PUT(*(const int8_t*)at); break;
          case 2: { uint16_t v; memcpy(&v, at, 2); WUDF_PY_PUT(v); break; }
          case -2: { int16_t v; memcpy(&v, at, 2); WUDF_PY_PUT(v); break; }
          case 4: { uint32_t v; memcpy(&v, at, 4); WUDF_PY_PUT(v); break; }
          case -4: { int32_t v; memcpy(&v, at, 4); WUDF_PY_PUT(v); break; }
          case 8: { uint64_t v; memcpy(&v, at, 8); WUDF_PY_PUT(v > (uint64_t)INT64_MAX ? -1 : (long long)v); break; }
          default: { int64_t v; memcpy(&v, at, 8); WUDF_PY_PUT(v); break; }
        }
      }
    }
    wudf_py_column_free(&column);
    if (width <= 0) {
      free(values);
      wudf_py_argument_error("%s: groups must be integers without nulls (got format '%s'%s)",
                             function, format, width < 0 ? " with nulls" : "");
      return -1;
    }
  } else if (PyObject_CheckBuffer(groups)) {
    Py_buffer view;
    if (PyObject_GetBuffer(groups, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) != 0) {
      free(values);
      return -1;
    }
    const char* format = view.format != NULL ? view.format : "B";
    if (strchr("@=<", format[0]) != NULL) format++;
    int known = view.ndim <= 1 && strlen(format) == 1 && strchr("bBhHiIlLqQn", format[0]);
    for (Py_ssize_t i = 0; known && i < view.len / view.itemsize; i++) {
      const char* at = (const char*)view.buf + i * view.itemsize;
      switch (format[0]) {
        case 'b': WUDF_PY_PUT(*(const signed char*)at); break;
        case 'B': WUDF_PY_PUT(*(const unsigned char*)at); break;
        case 'h': { short v; memcpy(&v, at, sizeof(v)); WUDF_PY_PUT(v); break; }
        case 'H': { unsigned short v; memcpy(&v, at, sizeof(v)); WUDF_PY_PUT(v); break; }
        case 'i': { int v; memcpy(&v, at, sizeof(v)); WUDF_PY_PUT(v); break; }
        case 'I': { unsigned v; memcpy(&v, at, sizeof(v)); WUDF_PY_PUT(v); break; }
        case 'l': case 'q': case 'n': { long long v; memcpy(&v, at, sizeof(v)); WUDF_PY_PUT(v); break; }
        default: { unsigned long long v; memcpy(&v, at, sizeof(v)); WUDF_PY_PUT(v > (unsigned long long)INT64_MAX ? -1 : (long long)v); break; }
      }
    }
    PyBuffer_Release(&view);
    if (!known) {
      free(values);
      wudf_py_argument_error("%s: groups must be a one-dimensional buffer of integers",
                             function);
      return -1;
    }
  } else {
    PyObject* sequence = PySequence_Fast(groups, "groups must be Arrow data, a buffer or a "
                                                 "sequence of integers");
    if (sequence == NULL) {
      free(values);
      return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
      long long value = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(sequence, i));
      if (value == -1 && PyErr_Occurred()) {
        Py_DECREF(sequence);
        free(values);
        return -1;
      }
      WUDF_PY_PUT(value);
    }
    Py_DECREF(sequence);
  }
#undef WUDF_PY_PUT
  if (bad) {
    free(values);
    wudf_py_argument_error("%s: group id %lld is out of range (0 .. 4294967295)", function,
                           bad_value);
    return -1;
  }
  if (count != rows) {
    free(values);
    wudf_py_argument_error("%s: %lld group ids for %lld rows", function, (long long)count,
                           (long long)rows);
    return -1;
  }
  *ids = values;
  return 0;
}

/* Folds `columns` (argument columns, one record batch when `batch`, or the
 * states when `merge`) into the accumulator, piece by piece. */
static int wudf_py_fold(wudf_py_Instance* instance, struct wudf_aggregate* aggregate,
                        const char* function, int batch, int merge,
                        struct wudf_py_columns* columns, PyObject* groups,
                        PyObject* group_count, const struct wudf_call_options* options) {
  struct wudf_py_plan plan;
  if (wudf_py_plan_make(columns, function, &plan) != 0) return -1;
  int64_t rows = columns->count > 0 ? columns->column[0].length : 0;
  uint32_t* ids = NULL;
  int64_t needed = 0;
  if (wudf_py_group_ids(groups, rows, function, &ids, &needed) != 0) {
    wudf_py_plan_free(&plan);
    return -1;
  }
  int64_t count = wudf_aggregate_group_count(aggregate);
  if (needed > count) count = needed;
  if (count < 1) count = 1;
  if (group_count != NULL && group_count != Py_None) {
    long long given = PyLong_AsLongLong(group_count);
    if (given == -1 && PyErr_Occurred()) {
      free(ids);
      wudf_py_plan_free(&plan);
      return -1;
    }
    count = given; /* the library checks it against the ids and the groups */
  }
  if (columns->count > 64) {
    free(ids);
    wudf_py_plan_free(&plan);
    wudf_py_argument_error("%s: more than 64 arguments", function);
    return -1;
  }
  int status = 0;
  struct wudf_error error;
  for (int64_t p = 0; status == 0 && p < plan.piece_count; p++) {
    struct ArrowArray slices[64];
    const struct ArrowArray* args[64];
    const struct ArrowSchema* schemas[64];
    wudf_py_plan_slices(&plan, columns, p, slices, args, schemas);
    const uint32_t* piece_ids = ids != NULL ? ids + plan.start[p] : NULL;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&instance->lock);
    if (merge) {
      status = wudf_aggregate_merge(aggregate, args[0], schemas[0], piece_ids, count, options,
                                    &error);
    } else if (batch) {
      status = wudf_aggregate_update_batch(aggregate, args[0], schemas[0], piece_ids, count,
                                           options, &error);
    } else {
      status = wudf_aggregate_update(aggregate, (uint32_t)columns->count, args, schemas,
                                     piece_ids, count, options, &error);
    }
    pthread_mutex_unlock(&instance->lock);
    Py_END_ALLOW_THREADS
  }
  free(ids);
  wudf_py_plan_free(&plan);
  if (status != 0) {
    wudf_py_raise(&error, WUDF_PY_CALLING, function);
    return -1;
  }
  return 0;
}

static PyObject* wudf_py_accumulator_update(wudf_py_Accumulator* self, PyObject* args,
                                            PyObject* kwargs) {
  const char* name = wudf_py_accumulator_name(self);
  PyObject* groups = NULL;
  PyObject* group_count = NULL;
  struct wudf_call_options options;
  PyObject* rest = NULL;
  if (kwargs != NULL) {
    rest = PyDict_Copy(kwargs);
    if (rest == NULL) return NULL;
    groups = PyDict_GetItemString(rest, "groups");
    group_count = PyDict_GetItemString(rest, "group_count");
    Py_XINCREF(groups);
    Py_XINCREF(group_count);
    if ((groups != NULL && PyDict_DelItemString(rest, "groups") != 0) ||
        (group_count != NULL && PyDict_DelItemString(rest, "group_count") != 0)) {
      Py_XDECREF(groups);
      Py_XDECREF(group_count);
      Py_DECREF(rest);
      return NULL;
    }
  }
  int status = wudf_py_call_options(rest, &options);
  Py_XDECREF(rest);
  struct wudf_py_columns* columns = status == 0 ? wudf_py_columns_import(args, name) : NULL;
  if (columns != NULL) {
    struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
    wudf_module_function(self->instance->module->module, self->index, &info, NULL);
    status = wudf_py_fold(self->instance, self->aggregate, name, wudf_py_is_batch(&info, columns),
                          0, columns, groups, group_count, &options);
    wudf_py_columns_free(columns);
  } else {
    status = -1;
  }
  Py_XDECREF(groups);
  Py_XDECREF(group_count);
  if (status != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* wudf_py_accumulator_merge(wudf_py_Accumulator* self, PyObject* args,
                                           PyObject* kwargs) {
  static char* keywords[] = {"states", "groups", "group_count", NULL};
  PyObject *states, *groups = Py_None, *group_count = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO", keywords, &states, &groups,
                                   &group_count)) {
    return NULL;
  }
  const char* name = wudf_py_accumulator_name(self);
  PyObject* tuple = PyTuple_Pack(1, states);
  if (tuple == NULL) return NULL;
  struct wudf_py_columns* columns = wudf_py_columns_import(tuple, name);
  Py_DECREF(tuple);
  if (columns == NULL) return NULL;
  struct wudf_call_options options;
  wudf_call_options_init(&options);
  int status = wudf_py_fold(self->instance, self->aggregate, name, 0, 1, columns, groups,
                            group_count, &options);
  wudf_py_columns_free(columns);
  if (status != 0) return NULL;
  Py_RETURN_NONE;
}

/* state() and finish(): the states or the results of every group. */
static PyObject* wudf_py_accumulator_take(wudf_py_Accumulator* self, int finish) {
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  struct wudf_error error;
  int status;
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&self->instance->lock);
  status = finish ? wudf_aggregate_finish(self->aggregate, NULL, &out, &out_schema, &error)
                  : wudf_aggregate_state(self->aggregate, NULL, &out, &out_schema, &error);
  pthread_mutex_unlock(&self->instance->lock);
  Py_END_ALLOW_THREADS
  if (status != 0) return wudf_py_raise(&error, WUDF_PY_CALLING, wudf_py_accumulator_name(self));
  return wudf_py_array_new(&out, &out_schema);
}

static PyObject* wudf_py_accumulator_state(wudf_py_Accumulator* self, PyObject* ignored) {
  return wudf_py_accumulator_take(self, 0);
}

static PyObject* wudf_py_accumulator_finish(wudf_py_Accumulator* self, PyObject* ignored) {
  return wudf_py_accumulator_take(self, 1);
}

static PyObject* wudf_py_accumulator_group_count(wudf_py_Accumulator* self, void* closure) {
  return PyLong_FromLongLong(wudf_aggregate_group_count(self->aggregate));
}

static PyMethodDef wudf_py_accumulator_methods[] = {
    {"update", (PyCFunction)(void (*)(void))wudf_py_accumulator_update,
     METH_VARARGS | METH_KEYWORDS,
     "update(*columns, groups=None, group_count=None): folds rows into their groups "
     "(groups: one id per row; None puts every row into group 0)."},
    {"merge", (PyCFunction)(void (*)(void))wudf_py_accumulator_merge,
     METH_VARARGS | METH_KEYWORDS,
     "merge(states, groups=None, group_count=None): merges partial states (of state())."},
    {"state", (PyCFunction)wudf_py_accumulator_state, METH_NOARGS,
     "The partial states of every group, an Array of the STATE type."},
    {"finish", (PyCFunction)wudf_py_accumulator_finish, METH_NOARGS,
     "The result of every group, an Array (row g: group g)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wudf_py_accumulator_getset[] = {
    {"group_count", (getter)wudf_py_accumulator_group_count, NULL,
     "The number of groups.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject wudf_py_AccumulatorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.Accumulator",
    .tp_basicsize = sizeof(wudf_py_Accumulator),
    .tp_dealloc = (destructor)wudf_py_accumulator_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The states of an aggregate function for groups 0 .. group_count - 1.",
    .tp_methods = wudf_py_accumulator_methods,
    .tp_getset = wudf_py_accumulator_getset,
};

/* A whole aggregation in one group: an accumulator over every piece. */
static PyObject* wudf_py_aggregate_all(wudf_py_Function* self, wudf_py_Instance* instance,
                                       int batch, struct wudf_py_columns* columns,
                                       const struct wudf_call_options* options) {
  const char* name = wudf_py_function_info(self).name;
  struct wudf_aggregate* aggregate = NULL;
  struct wudf_error error;
  int status;
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&instance->lock);
  status = wudf_aggregate_new(instance->instance, self->index, &aggregate, &error);
  pthread_mutex_unlock(&instance->lock);
  Py_END_ALLOW_THREADS
  if (status != 0) return wudf_py_raise(&error, WUDF_PY_CALLING, name);
  PyObject* one = PyLong_FromLong(1);
  PyObject* result = NULL;
  if (one != NULL &&
      wudf_py_fold(instance, aggregate, name, batch, 0, columns, NULL, one, options) == 0) {
    struct ArrowArray out;
    struct ArrowSchema out_schema;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&instance->lock);
    status = wudf_aggregate_finish(aggregate, options, &out, &out_schema, &error);
    pthread_mutex_unlock(&instance->lock);
    Py_END_ALLOW_THREADS
    result = status == 0 ? wudf_py_array_new(&out, &out_schema)
                         : wudf_py_raise(&error, WUDF_PY_CALLING, name);
  }
  Py_XDECREF(one);
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&instance->lock);
  wudf_aggregate_free(aggregate);
  pthread_mutex_unlock(&instance->lock);
  Py_END_ALLOW_THREADS
  return result;
}

/* --------------------------------------------------------------- Stream */

/* A table function's output over all pieces of its arguments: one library
 * stream per piece, input_row shifted by the piece's first row. Shared by
 * the Stream object and, once exported, the consumer's ArrowArrayStream. */
struct wudf_py_stream_core {
  wudf_py_Instance* instance; /* a reference */
  PyObject* columns;          /* the "wasmudf.columns" capsule, a reference */
  const struct wudf_py_columns* arguments; /* what it holds */
  uint32_t index;
  int batch;
  struct wudf_call_options options;
  struct wudf_py_plan plan;
  int64_t piece;              /* the next piece to start */
  int64_t piece_start;        /* the first row of the running piece */
  struct ArrowArray slices[64];
  const struct ArrowArray* args[64];
  const struct ArrowSchema* schemas[64];
  struct ArrowArrayStream running; /* release NULL between pieces */
  struct wudf_error error;
  int failed;
};

static void wudf_py_core_free(struct wudf_py_stream_core* core) {
  wudf_py__release_stream(&core->running); /* runs no guest code */
  wudf_py_plan_free(&core->plan);
  if (Py_IsInitialized()) {
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_XDECREF(core->instance);
    Py_XDECREF(core->columns);
    PyGILState_Release(gil);
  }
  free(core);
}

/* The chunk schema: the function's declared one (the same for every
 * piece). */
static int wudf_py_core_schema(struct wudf_py_stream_core* core, struct ArrowSchema* out) {
  int status = wudf_function_schema(core->instance->module->module, core->index,
                                    WUDF_SCHEMA_RESULT, out, &core->error);
  if (status != 0) core->failed = 1;
  return status;
}

/* The next chunk into `*out` (released at the end). Takes no GIL: runs the
 * guest under the instance's lock. */
static int wudf_py_core_next(struct wudf_py_stream_core* core, struct ArrowArray* out) {
  if (core->failed) return core->error.code;
  const struct wudf_py_columns* columns = core->arguments;
  for (;;) {
    if (core->running.release == NULL) {
      if (core->piece >= core->plan.piece_count) {
        memset(out, 0, sizeof(*out));
        return 0;
      }
      int64_t p = core->piece++;
      core->piece_start = core->plan.start[p];
      wudf_py_plan_slices(&core->plan, columns, p, core->slices, core->args, core->schemas);
      pthread_mutex_lock(&core->instance->lock);
      int status =
          core->batch
              ? wudf_table_call_batch(core->instance->instance, core->index, core->args[0],
                                      core->schemas[0], &core->options, &core->running,
                                      &core->error)
              : wudf_table_call(core->instance->instance, core->index,
                                (uint32_t)columns->count, core->args, core->schemas,
                                &core->options, &core->running, &core->error);
      pthread_mutex_unlock(&core->instance->lock);
      if (status != 0) {
        core->failed = 1;
        return status;
      }
    }
    pthread_mutex_lock(&core->instance->lock);
    int status = core->running.get_next(&core->running, out);
    if (status != 0) {
      const char* message = core->running.get_last_error(&core->running);
      core->error.code = status;
      core->error.trap = WUDF_TRAP_NONE;
      snprintf(core->error.message, sizeof(core->error.message), "%s",
               message != NULL ? message : "the table function failed");
    }
    pthread_mutex_unlock(&core->instance->lock);
    if (status != 0) {
      core->failed = 1;
      return status;
    }
    if (out->release != NULL) {
      if (core->piece_start != 0) { /* input_row counts rows of all pieces */
        struct ArrowArray* input_row = out->children[0];
        int64_t* rows = (int64_t*)(uintptr_t)input_row->buffers[1] + input_row->offset;
        for (int64_t r = 0; r < input_row->length; r++) rows[r] += core->piece_start;
      }
      return 0;
    }
    wudf_py__release_stream(&core->running);
  }
}

static int wudf_py_exported_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  return wudf_py_core_schema(stream->private_data, out);
}

static int wudf_py_exported_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  return wudf_py_core_next(stream->private_data, out);
}

static const char* wudf_py_exported_error(struct ArrowArrayStream* stream) {
  struct wudf_py_stream_core* core = stream->private_data;
  return core->failed ? core->error.message : NULL;
}

static void wudf_py_exported_release(struct ArrowArrayStream* stream) {
  wudf_py_core_free(stream->private_data);
  stream->release = NULL;
}

static PyObject* wudf_py_stream_new(wudf_py_Instance* instance, uint32_t index, int batch,
                                    PyObject* columns_capsule,
                                    const struct wudf_call_options* options) {
  struct wudf_py_columns* columns = PyCapsule_GetPointer(columns_capsule, "wasmudf.columns");
  struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
  wudf_module_function(instance->module->module, index, &info, NULL);
  if (columns->count > 64) return wudf_py_argument_error("%s: more than 64 arguments", info.name);
  struct wudf_py_stream_core* core = calloc(1, sizeof(*core));
  if (core == NULL) return PyErr_NoMemory();
  if (wudf_py_plan_make(columns, info.name, &core->plan) != 0) {
    free(core);
    return NULL;
  }
  Py_INCREF(instance);
  core->instance = instance;
  Py_INCREF(columns_capsule);
  core->columns = columns_capsule;
  core->arguments = columns;
  core->index = index;
  core->batch = batch;
  core->options = *options;
  wudf_py_Stream* self = PyObject_New(wudf_py_Stream, &wudf_py_StreamType);
  if (self == NULL) {
    wudf_py_core_free(core);
    return NULL;
  }
  self->core = core;
  return (PyObject*)self;
}

static void wudf_py_stream_dealloc(wudf_py_Stream* self) {
  if (self->core != NULL) wudf_py_core_free(self->core);
  PyObject_Free(self);
}

static int wudf_py_stream_usable(wudf_py_Stream* self) {
  if (self->core == NULL) {
    PyErr_SetString(PyExc_ValueError, "the stream was handed to a consumer already");
    return 0;
  }
  return 1;
}

static PyObject* wudf_py_stream_c_stream(wudf_py_Stream* self, PyObject* args,
                                         PyObject* kwargs) {
  static char* keywords[] = {"requested_schema", NULL};
  PyObject* requested = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", keywords, &requested)) return NULL;
  if (!wudf_py_stream_usable(self)) return NULL;
  struct ArrowArrayStream stream = {
      .get_schema = wudf_py_exported_schema,
      .get_next = wudf_py_exported_next,
      .get_last_error = wudf_py_exported_error,
      .release = wudf_py_exported_release,
      .private_data = self->core,
  };
  PyObject* capsule = wudf_py__stream_capsule(&stream);
  if (stream.release == NULL) self->core = NULL; /* moved (and freed, on failure) */
  return capsule;
}

static PyObject* wudf_py_stream_schema(wudf_py_Stream* self, void* closure) {
  if (!wudf_py_stream_usable(self)) return NULL;
  struct ArrowSchema schema;
  if (wudf_py_core_schema(self->core, &schema) != 0) {
    return wudf_py_raise(&self->core->error, WUDF_PY_CALLING, NULL);
  }
  return wudf_py_schema_new(&schema);
}

static PyObject* wudf_py_stream_next(wudf_py_Stream* self) {
  if (!wudf_py_stream_usable(self)) return NULL;
  struct ArrowArray out;
  int status;
  Py_BEGIN_ALLOW_THREADS
  status = wudf_py_core_next(self->core, &out);
  Py_END_ALLOW_THREADS
  if (status != 0) {
    struct wudf_function_info info = {.struct_size = sizeof(struct wudf_function_info)};
    wudf_module_function(self->core->instance->module->module, self->core->index, &info, NULL);
    return wudf_py_raise(&self->core->error, WUDF_PY_CALLING, info.name);
  }
  if (out.release == NULL) return NULL; /* StopIteration */
  struct ArrowSchema schema;
  if (wudf_py_core_schema(self->core, &schema) != 0) {
    out.release(&out);
    return wudf_py_raise(&self->core->error, WUDF_PY_CALLING, NULL);
  }
  return wudf_py_array_new(&out, &schema);
}

static PyMethodDef wudf_py_stream_methods[] = {
    {"__arrow_c_stream__", (PyCFunction)(void (*)(void))wudf_py_stream_c_stream,
     METH_VARARGS | METH_KEYWORDS,
     "Hands the stream to a consumer (once) in an 'arrow_array_stream' PyCapsule: "
     "pyarrow.RecordBatchReader.from_stream(s)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wudf_py_stream_getset[] = {
    {"schema", (getter)wudf_py_stream_schema, NULL,
     "The chunks' struct Schema (input_row: int64, then the columns).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject wudf_py_StreamType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wasmudf.Stream",
    .tp_basicsize = sizeof(wudf_py_Stream),
    .tp_dealloc = (destructor)wudf_py_stream_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A table function's output: iterate for struct Arrays (input_row, columns), "
              "or hand it to a consumer through __arrow_c_stream__. Nothing runs in the "
              "guest until the first chunk is asked for.",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)wudf_py_stream_next,
    .tp_methods = wudf_py_stream_methods,
    .tp_getset = wudf_py_stream_getset,
};

/* ------------------------------------------------------ arrays as bytes */

static PyObject* wudf_py_serialize(PyObject* unused, PyObject* object) {
  PyObject* tuple = PyTuple_Pack(1, object);
  if (tuple == NULL) return NULL;
  struct wudf_py_columns* columns = wudf_py_columns_import(tuple, "serialize");
  Py_DECREF(tuple);
  if (columns == NULL) return NULL;
  struct wudf_py_column* column = &columns->column[0];
  if (column->chunk_count != 1) {
    long long chunks = (long long)column->chunk_count;
    wudf_py_columns_free(columns);
    return wudf_py_argument_error("serialize: expected one array, got %lld chunks", chunks);
  }
  uint8_t* bytes = NULL;
  size_t size = 0;
  struct wudf_error error;
  int status;
  Py_BEGIN_ALLOW_THREADS
  status = wudf_array_serialize(&column->chunks[0], &column->schema, &bytes, &size, &error);
  Py_END_ALLOW_THREADS
  wudf_py_columns_free(columns);
  if (status != 0) return wudf_py_raise(&error, WUDF_PY_CALLING, NULL);
  PyObject* result = PyBytes_FromStringAndSize((const char*)bytes, (Py_ssize_t)size);
  wudf_bytes_free(bytes);
  return result;
}

static PyObject* wudf_py_deserialize(PyObject* unused, PyObject* object) {
  Py_buffer view;
  if (PyObject_GetBuffer(object, &view, PyBUF_SIMPLE) != 0) return NULL;
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  struct wudf_error error;
  int status;
  Py_BEGIN_ALLOW_THREADS
  status = wudf_array_deserialize(view.buf, (size_t)view.len, WUDF_VALIDATION_FULL, &out,
                                  &out_schema, &error);
  Py_END_ALLOW_THREADS
  PyBuffer_Release(&view);
  if (status != 0) return wudf_py_raise(&error, WUDF_PY_CALLING, NULL);
  return wudf_py_array_new(&out, &out_schema);
}

/* --------------------------------------------------------------- module */

static PyMethodDef wudf_py_functions[] = {
    {"load", (PyCFunction)(void (*)(void))wudf_py_load, METH_VARARGS | METH_KEYWORDS,
     "load(source, *, timeout_ms=None, memory_limit=None, output_limit=None, "
     "deterministic=False) -> Module\n\nLoads a module from a path or from bytes: "
     "validated, compiled once (cached on disk) and instantiated. timeout_ms (0: none) "
     "and memory_limit (bytes) default to the engine's (10 s, 1 GiB)."},
    {"load_artifact", (PyCFunction)(void (*)(void))wudf_py_load_artifact,
     METH_VARARGS | METH_KEYWORDS,
     "load_artifact(source, *, timeout_ms=None, memory_limit=None, output_limit=None, "
     "deterministic=False) -> Module\n\nLoads a module from an artifact (a path or bytes) "
     "made by compile_artifact or `wasmudf compile`: verified, then loaded with no wasm2c "
     "and no compiler. An artifact is native code: load only artifacts you trust."},
    {"compile_artifact", (PyCFunction)wudf_py_compile_artifact, METH_O,
     "compile_artifact(module_bytes) -> bytes\n\nCompiles a module's bytes into an "
     "artifact, its optimised native code with a manifest, for load_artifact (needs wasm2c "
     "and a C compiler)."},
    {"serialize", (PyCFunction)wudf_py_serialize, METH_O,
     "serialize(array) -> bytes: any Arrow array (e.g. aggregate states) as bytes."},
    {"deserialize", (PyCFunction)wudf_py_deserialize, METH_O,
     "deserialize(bytes) -> Array: bytes of serialize() back, validated completely."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef wudf_py_module_def = {
    PyModuleDef_HEAD_INIT, "wasmudf._wasmudf",
    "The C extension of the wasmudf package (use the package, not this module).", -1,
    wudf_py_functions, NULL, NULL, NULL, NULL,
};

/* Makes exception class `name` with bases `bases` (a tuple, stolen) and
 * adds it to `module`. */
static PyObject* wudf_py_exception(PyObject* module, const char* name, PyObject* bases,
                                   const char* doc) {
  if (bases == NULL) return NULL;
  char qualified[96];
  snprintf(qualified, sizeof(qualified), "wasmudf.%s", name);
  PyObject* type = PyErr_NewExceptionWithDoc(qualified, doc, bases, NULL);
  Py_DECREF(bases);
  if (type == NULL || PyModule_AddObjectRef(module, name, type) != 0) return NULL;
  return type;
}

PyMODINIT_FUNC PyInit__wasmudf(void) {
  wudf_py__array_of = wudf_py_array_of;
  /* A Python process loads other native code that installs SIGSEGV
   * handlers after ours (faulthandler.enable(), wasmtime, a JVM bridge):
   * each guest call takes the signal back, and faults that are not a
   * guest's go on to the handler that displaced ours (docs/engine.md). */
  wudf_set_signal_mode(WUDF_SIGNALS_REINSTALL);
  PyTypeObject* types[] = {&wudf_py_SchemaType,   &wudf_py_ArrayType,
                           &wudf_py_ChunkedArrayType, &wudf_py_InstanceType,
                           &wudf_py_ModuleType,   &wudf_py_FunctionType,
                           &wudf_py_AccumulatorType, &wudf_py_StreamType};
  /* Each name on its own: a re-import after a failed one fills what is
   * missing. */
  if (wudf_py_name_c_array == NULL &&
      (wudf_py_name_c_array = PyUnicode_InternFromString("__arrow_c_array__")) == NULL) {
    return NULL;
  }
  if (wudf_py_name_c_stream == NULL &&
      (wudf_py_name_c_stream = PyUnicode_InternFromString("__arrow_c_stream__")) == NULL) {
    return NULL;
  }
  PyObject* module = PyModule_Create(&wudf_py_module_def);
  if (module == NULL) return NULL;
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    if (PyType_Ready(types[i]) != 0 ||
        PyModule_AddObjectRef(module, strchr(types[i]->tp_name, '.') + 1,
                              (PyObject*)types[i]) != 0) {
      Py_DECREF(module);
      return NULL;
    }
  }
  if ((wudf_py_Error = wudf_py_exception(module, "Error", PyTuple_Pack(1, PyExc_Exception),
                                         "Any failure of wasmudf: .code (errno), .message, "
                                         ".function, .trap, .exit_code.")) == NULL ||
      (wudf_py_ModuleError = wudf_py_exception(
           module, "ModuleError", PyTuple_Pack(1, wudf_py_Error),
           "The module could not be loaded: malformed, unsupported, too large, "
           "bad metadata, or its compilation failed.")) == NULL ||
      (wudf_py_TrapError = wudf_py_exception(
           module, "TrapError", PyTuple_Pack(1, wudf_py_Error),
           "The guest trapped (.trap says why); its instance is broken.")) == NULL ||
      (wudf_py_ExitError = wudf_py_exception(
           module, "ExitError", PyTuple_Pack(1, wudf_py_TrapError),
           "The guest called WASI proc_exit (.exit_code).")) == NULL ||
      (wudf_py_TimeoutError = wudf_py_exception(
           module, "TimeoutError", PyTuple_Pack(2, wudf_py_TrapError, PyExc_TimeoutError),
           "The call exceeded its deadline.")) == NULL ||
      (wudf_py_InvalidResultError = wudf_py_exception(
           module, "InvalidResultError", PyTuple_Pack(1, wudf_py_Error),
           "The guest returned a result that breaks the ABI (the message names the "
           "rule).")) == NULL ||
      (wudf_py_GuestError = wudf_py_exception(
           module, "GuestError", PyTuple_Pack(1, wudf_py_Error),
           "The function reported an error; the message is the guest's.")) == NULL ||
      (wudf_py_ArgumentError = wudf_py_exception(
           module, "ArgumentError",
           PyTuple_Pack(3, wudf_py_Error, PyExc_TypeError, PyExc_ValueError),
           "The arguments do not fit the function (count, types, lengths).")) == NULL ||
      (wudf_py_BrokenInstanceError = wudf_py_exception(
           module, "BrokenInstanceError", PyTuple_Pack(1, wudf_py_Error),
           "An earlier trap broke the instance; use a new one.")) == NULL ||
      (wudf_py_LimitError = wudf_py_exception(
           module, "LimitError", PyTuple_Pack(1, wudf_py_Error),
           "The input or the result exceeds a limit.")) == NULL ||
      (wudf_py_BusyError = wudf_py_exception(
           module, "BusyError", PyTuple_Pack(1, wudf_py_Error),
           "The instance is pinned by a live zero-copy view.")) == NULL ||
      PyModule_AddStringConstant(module, "library_version", WUDF_VERSION) != 0) {
    Py_DECREF(module);
    return NULL;
  }
  return module;
}
