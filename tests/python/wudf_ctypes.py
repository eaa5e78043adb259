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
    """struct wudf_call_options (versioned: struct_size first)."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("max_rows_per_call", ctypes.c_int64),
                ("max_block_bytes", ctypes.c_int64),
                ("timeout_ms", ctypes.c_uint64),
                ("validation", ctypes.c_int),
                ("result", ctypes.c_int),
                ("max_output_rows", ctypes.c_int64),
                ("result_row_limit", ctypes.c_int64),
                ("result_byte_limit", ctypes.c_int64),
                ("nesting_depth_limit", ctypes.c_int)]


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


# ------------------------------------------------------ table and aggregate


class ArrowArrayStream(ctypes.Structure):
    """struct ArrowArrayStream (the Arrow C stream interface)."""
    _fields_ = [("get_schema", ctypes.c_void_p), ("get_next", ctypes.c_void_p),
                ("get_last_error", ctypes.c_void_p), ("release", ctypes.c_void_p),
                ("private_data", ctypes.c_void_p)]


lib.wudf_table_call.argtypes = [
    ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
    ctypes.POINTER(ctypes.POINTER(ArrowArray)), ctypes.POINTER(ctypes.POINTER(ArrowSchema)),
    ctypes.POINTER(CallOptions), ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(Error)]
lib.wudf_table_call_batch.argtypes = [
    ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
    ctypes.POINTER(CallOptions), ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(Error)]
lib.wudf_aggregate_new.argtypes = [ctypes.c_void_p, ctypes.c_uint32,
                                   ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Error)]
lib.wudf_aggregate_free.argtypes = [ctypes.c_void_p]
lib.wudf_aggregate_update.argtypes = [
    ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ctypes.POINTER(ArrowArray)),
    ctypes.POINTER(ctypes.POINTER(ArrowSchema)), ctypes.c_void_p, ctypes.c_int64,
    ctypes.POINTER(CallOptions), ctypes.POINTER(Error)]
lib.wudf_aggregate_merge.argtypes = [
    ctypes.c_void_p, ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema), ctypes.c_void_p,
    ctypes.c_int64, ctypes.POINTER(CallOptions), ctypes.POINTER(Error)]
for _name in ("wudf_aggregate_state", "wudf_aggregate_finish"):
    getattr(lib, _name).argtypes = [ctypes.c_void_p, ctypes.POINTER(CallOptions),
                                    ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
                                    ctypes.POINTER(Error)]
lib.wudf_aggregate_group_count.argtypes = [ctypes.c_void_p]
lib.wudf_aggregate_group_count.restype = ctypes.c_int64
lib.wudf_array_serialize.argtypes = [
    ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
    ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)), ctypes.POINTER(ctypes.c_size_t),
    ctypes.POINTER(Error)]
lib.wudf_array_deserialize.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                                       ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
                                       ctypes.POINTER(Error)]
lib.wudf_bytes_free.argtypes = [ctypes.POINTER(ctypes.c_uint8)]


class Exported:
    """pyarrow arrays exported through the C Data Interface, for a call that
    borrows them; release() gives them back."""

    def __init__(self, arrays):
        self.arrays = [ArrowArray() for _ in arrays]
        self.schemas = [ArrowSchema() for _ in arrays]
        for array, c_array, c_schema in zip(arrays, self.arrays, self.schemas):
            array._export_to_c(ctypes.addressof(c_array), ctypes.addressof(c_schema))
        count = len(arrays)
        self.array_pointers = (ctypes.POINTER(ArrowArray) * count)(
            *[ctypes.pointer(a) for a in self.arrays])
        self.schema_pointers = (ctypes.POINTER(ArrowSchema) * count)(
            *[ctypes.pointer(s) for s in self.schemas])

    def release(self):
        for c_array, c_schema in zip(self.arrays, self.schemas):
            release_schema(c_schema)
            release_array(c_array)


def _group_ids(groups, rows):
    """(pointer, keepalive) of uint32 group ids for `rows` rows: a list, a
    pyarrow uint32 array (used as it is), or None (NULL)."""
    if groups is None:
        return None, None
    ids = groups if isinstance(groups, pa.Array) else pa.array(groups, pa.uint32())
    assert ids.type == pa.uint32()
    assert len(ids) == rows and ids.offset == 0 and ids.null_count == 0
    return ids.buffers()[1].address, ids


def table(module, function, *arrays, max_rows=None, max_output_rows=None, validate=True):
    """Runs table function `function` through wudf_table_call and returns
    the pyarrow RecordBatches of its stream (each validated fully by
    pyarrow unless `validate` is false: benchmarks time what a user pays,
    and the library has validated the guest's output already)."""
    exported = Exported(arrays)
    options = module._options(max_rows)
    if max_output_rows is not None:
        options.max_output_rows = max_output_rows
    stream, error = ArrowArrayStream(), Error()
    try:
        check(lib.wudf_table_call(module.instance, module.index(function), len(arrays),
                                  exported.array_pointers, exported.schema_pointers,
                                  ctypes.byref(options), ctypes.byref(stream),
                                  ctypes.byref(error)), error)
        reader = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))
        batches = []
        for batch in reader:
            if validate:
                batch.validate(full=True)
            batches.append(batch)
        reader.close()
        del reader
    finally:
        # The stream borrowed the arguments until its release (above).
        exported.release()
    return batches


class Aggregate:
    """An accumulator of aggregate function `function` on module.instance."""

    def __init__(self, module, function):
        self.module = module
        self.handle = ctypes.c_void_p()
        error = Error()
        check(lib.wudf_aggregate_new(module.instance, module.index(function),
                                     ctypes.byref(self.handle), ctypes.byref(error)), error)

    def close(self):
        lib.wudf_aggregate_free(self.handle)
        self.handle = None

    def update(self, *arrays, groups=None, group_count=1, max_rows=None):
        exported = Exported(arrays)
        ids, keep = _group_ids(groups, len(arrays[0]))
        options, error = self.module._options(max_rows), Error()
        try:
            check(lib.wudf_aggregate_update(self.handle, len(arrays), exported.array_pointers,
                                            exported.schema_pointers, ids, group_count,
                                            ctypes.byref(options), ctypes.byref(error)), error)
        finally:
            exported.release()
        del keep

    def merge(self, states, groups=None, group_count=1, max_rows=None):
        exported = Exported([states])
        ids, keep = _group_ids(groups, len(states))
        options, error = self.module._options(max_rows), Error()
        try:
            check(lib.wudf_aggregate_merge(self.handle, exported.array_pointers[0],
                                           exported.schema_pointers[0], ids, group_count,
                                           ctypes.byref(options), ctypes.byref(error)), error)
        finally:
            exported.release()
        del keep

    def _result(self, call):
        options, error = self.module._options(None), Error()
        out, out_schema = ArrowArray(), ArrowSchema()
        check(call(self.handle, ctypes.byref(options), ctypes.byref(out),
                   ctypes.byref(out_schema), ctypes.byref(error)), error)
        return self.module._import_result(out, out_schema, None)

    def state(self):
        return self._result(lib.wudf_aggregate_state)

    def finish(self):
        return self._result(lib.wudf_aggregate_finish)

    def group_count(self):
        return lib.wudf_aggregate_group_count(self.handle)


def serialize(array):
    """The bytes of wudf_array_serialize for a pyarrow array."""
    exported = Exported([array])
    data, size, error = ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_size_t(), Error()
    try:
        check(lib.wudf_array_serialize(exported.array_pointers[0], exported.schema_pointers[0],
                                       ctypes.byref(data), ctypes.byref(size),
                                       ctypes.byref(error)), error)
        return ctypes.string_at(data, size.value)
    finally:
        lib.wudf_bytes_free(data)
        exported.release()


def deserialize(data, validation=0):
    """The pyarrow array of wudf_array_deserialize (validated fully)."""
    out, out_schema, error = ArrowArray(), ArrowSchema(), Error()
    check(lib.wudf_array_deserialize(data, len(data), validation, ctypes.byref(out),
                                     ctypes.byref(out_schema), ctypes.byref(error)), error)
    array = pa.Array._import_from_c(ctypes.addressof(out), ctypes.addressof(out_schema))
    array.validate(full=True)
    return array
