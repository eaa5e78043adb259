"""
wudf_ctypes.py -- the Python tests' binding of libwasmudf through ctypes: the
Arrow C Data Interface structs, the library's calls, and Module, an engine +
module + instance that calls UDFs on pyarrow arrays (exported with
_export_to_c, results imported with _import_from_c and validated fully).

The library is $WUDF_LIBRARY (libwasmudf.so); test modules are found in
$WUDF_TEST_MODULES. Used by test_pyarrow_udf.py and test_types_oracle.py.
"""
import ctypes
import os

import pyarrow as pa

from arrow_c import ARRAY_RELEASE, SCHEMA_RELEASE, ArrowArray, ArrowSchema  # noqa: F401


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("trap", ctypes.c_int),
                ("exit_code", ctypes.c_int), ("message", ctypes.c_char * 1024)]


class CallOptions(ctypes.Structure):
    """struct wudf_call_options."""
    _fields_ = [("max_rows_per_call", ctypes.c_int64),
                ("max_block_bytes", ctypes.c_int64),
                ("timeout_ms", ctypes.c_uint64),
                ("validation", ctypes.c_int),
                ("result", ctypes.c_int),
                ("max_output_rows", ctypes.c_int64)]


# wudf_result_mode: a zero-copy view of guest memory instead of a copy.
RESULT_VIEW = 1

lib = ctypes.CDLL(os.environ["WUDF_LIBRARY"])
lib.wudf_engine_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                ctypes.POINTER(Error)]
lib.wudf_module_load_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Error)]
lib.wudf_instance_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                  ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Error)]
lib.wudf_function_call.argtypes = [
    ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
    ctypes.POINTER(ctypes.POINTER(ArrowArray)), ctypes.POINTER(ctypes.POINTER(ArrowSchema)),
    ctypes.POINTER(CallOptions), ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
    ctypes.POINTER(Error)]
lib.wudf_function_call_batch.argtypes = [
    ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
    ctypes.POINTER(CallOptions), ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
    ctypes.POINTER(Error)]
lib.wudf_module_find_function.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(Error)]
lib.wudf_engine_free.argtypes = [ctypes.c_void_p]
lib.wudf_module_free.argtypes = [ctypes.c_void_p]
lib.wudf_instance_free.argtypes = [ctypes.c_void_p]
lib.wudf_call_options_init.argtypes = [ctypes.POINTER(CallOptions)]
lib.wudf_instance_memory_size.argtypes = [ctypes.c_void_p]
lib.wudf_instance_memory_size.restype = ctypes.c_uint64


def check(status, error):
    """Raises RuntimeError with the library's message unless status is 0."""
    if status != 0:
        raise RuntimeError(f"wasmudf error {status}: {error.message.decode()}")


def release_schema(schema):
    """Calls the release callback of a ctypes ArrowSchema that is not released."""
    if schema.release:
        SCHEMA_RELEASE(schema.release)(ctypes.pointer(schema))


def release_array(array):
    """Calls the release callback of a ctypes ArrowArray that is not released."""
    if array.release:
        ARRAY_RELEASE(array.release)(ctypes.pointer(array))


class Module:
    """An engine, a module and one instance of it."""

    def __init__(self, name, path=None):
        error = Error()
        self.engine, self.module, self.instance = (ctypes.c_void_p(), ctypes.c_void_p(),
                                                   ctypes.c_void_p())
        check(lib.wudf_engine_new(None, ctypes.byref(self.engine), ctypes.byref(error)), error)
        if path is None:
            path = os.path.join(os.environ["WUDF_TEST_MODULES"], name + ".wasm")
        check(lib.wudf_module_load_file(self.engine, path.encode(), ctypes.byref(self.module),
                                        ctypes.byref(error)), error)
        check(lib.wudf_instance_new(self.module, None, ctypes.byref(self.instance),
                                    ctypes.byref(error)), error)

    def close(self):
        lib.wudf_instance_free(self.instance)
        lib.wudf_module_free(self.module)
        lib.wudf_engine_free(self.engine)

    def index(self, function):
        error, index = Error(), ctypes.c_uint32()
        check(lib.wudf_module_find_function(self.module, function.encode(), ctypes.byref(index),
                                            ctypes.byref(error)), error)
        return index.value

    @staticmethod
    def _options(max_rows, view=False):
        options = CallOptions()
        lib.wudf_call_options_init(ctypes.byref(options))
        if max_rows is not None:
            options.max_rows_per_call = max_rows
        if view:
            options.result = RESULT_VIEW
        return options

    def _import_result(self, out, out_schema, result_type):
        """The pyarrow array of a result, validated fully. With `result_type`
        the result's own schema is only read for its format (kept in
        self.last_format) and the array is imported as `result_type`
        instead: for types pyarrow has no Python array class for (month and
        day-time intervals), read as integers of the same width."""
        self.last_format = out_schema.format.decode()
        if result_type is None:
            result = pa.Array._import_from_c(ctypes.addressof(out), ctypes.addressof(out_schema))
        else:
            release_schema(out_schema)
            result = pa.Array._import_from_c(ctypes.addressof(out), result_type)
        result.validate(full=True)
        return result

    def call(self, function, *arrays, max_rows=None, formats=None, result_type=None,
             view=False):
        """Calls scalar `function` on pyarrow arrays; returns the pyarrow result.

        `formats` optionally replaces the exported format string of each
        argument (None keeps it): an int32 array exported as "tiM" is an
        interval(months) column. `result_type`: see _import_result. `view`:
        the result is a zero-copy view of guest memory (release it -- drop
        every reference -- before the next call on the instance)."""
        count = len(arrays)
        c_arrays = [ArrowArray() for _ in arrays]
        c_schemas = [ArrowSchema() for _ in arrays]
        kept_formats = []
        for i, (array, c_array, c_schema) in enumerate(zip(arrays, c_arrays, c_schemas)):
            array._export_to_c(ctypes.addressof(c_array), ctypes.addressof(c_schema))
            if formats is not None and formats[i] is not None:
                kept_formats.append(ctypes.create_string_buffer(formats[i].encode()))
                c_schema.format = ctypes.cast(kept_formats[-1], ctypes.c_char_p)
        array_pointers = (ctypes.POINTER(ArrowArray) * count)(
            *[ctypes.pointer(a) for a in c_arrays])
        schema_pointers = (ctypes.POINTER(ArrowSchema) * count)(
            *[ctypes.pointer(s) for s in c_schemas])
        options = self._options(max_rows, view)
        out, out_schema, error = ArrowArray(), ArrowSchema(), Error()
        try:
            check(lib.wudf_function_call(self.instance, self.index(function), count,
                                         array_pointers, schema_pointers, ctypes.byref(options),
                                         ctypes.byref(out), ctypes.byref(out_schema),
                                         ctypes.byref(error)), error)
        finally:
            # The library borrows its inputs: release them ourselves.
            for c_array, c_schema in zip(c_arrays, c_schemas):
                release_schema(c_schema)
                release_array(c_array)
        return self._import_result(out, out_schema, result_type)

    def call_batch(self, function, batch, max_rows=None):
        """Calls batch `function` on a pyarrow RecordBatch; returns the struct
        array it returns."""
        c_array, c_schema = ArrowArray(), ArrowSchema()
        batch._export_to_c(ctypes.addressof(c_array), ctypes.addressof(c_schema))
        options = self._options(max_rows)
        out, out_schema, error = ArrowArray(), ArrowSchema(), Error()
        try:
            check(lib.wudf_function_call_batch(self.instance, self.index(function),
                                               ctypes.byref(c_array), ctypes.byref(c_schema),
                                               ctypes.byref(options), ctypes.byref(out),
                                               ctypes.byref(out_schema), ctypes.byref(error)),
                  error)
        finally:
            pa.RecordBatch._import_from_c(ctypes.addressof(c_array), ctypes.addressof(c_schema))
        return self._import_result(out, out_schema, None)
