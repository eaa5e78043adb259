"""
wudf_engine.py -- a ctypes binding of libwasmudf's engine layer (engine,
module, instance, wudf_instance_call), for the harnesses that run WebAssembly
modules through the library: run_spec.py (the core specification tests) and
tests/differential/run_differential.py (random modules against wasmtime).

Values cross as raw bit patterns (i32/i64 as unsigned integers, f32/f64 as
the unsigned integers of their IEEE bits), so NaN payloads survive both ways.
ctypes releases the GIL during every library call, so threads load modules
in parallel.
"""
import ctypes

# wudf_valtype
I32, I64, F32, F64 = 0, 1, 2, 3
TYPE_NAMES = {"i32": I32, "i64": I64, "f32": F32, "f64": F64}

# wudf_trap
TRAP_NONE = 0
TRAP_OUT_OF_BOUNDS = 1
TRAP_INTEGER_OVERFLOW = 2
TRAP_DIVIDE_BY_ZERO = 3
TRAP_INVALID_CONVERSION = 4
TRAP_UNREACHABLE = 5
TRAP_BAD_INDIRECT_CALL = 6
TRAP_STACK_EXHAUSTED = 7
TRAP_TIMEOUT = 8
TRAP_OUT_OF_MEMORY = 9

# errno values of the status codes the harnesses tell apart (Linux)
ENOEXEC, EFAULT, ENOTSUP, ETIMEDOUT = 8, 14, 95, 110


class Error(ctypes.Structure):
    """struct wudf_error."""
    _fields_ = [("code", ctypes.c_int), ("trap", ctypes.c_int),
                ("exit_code", ctypes.c_int), ("message", ctypes.c_char * 1024)]

    def text(self):
        return self.message.decode(errors="replace")


class EngineConfig(ctypes.Structure):
    """struct wudf_engine_config (versioned: struct_size first)."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("cache_dir", ctypes.c_char_p), ("cc", ctypes.c_char_p),
                ("cflags", ctypes.c_char_p), ("wasm2c", ctypes.c_char_p),
                ("timeout_ms", ctypes.c_uint64), ("memory_limit", ctypes.c_uint64),
                ("max_module_size", ctypes.c_size_t), ("output_limit", ctypes.c_size_t),
                ("deterministic", ctypes.c_int), ("max_tables", ctypes.c_uint32),
                ("max_table_elements", ctypes.c_uint32), ("memory_budget", ctypes.c_uint64),
                ("compile_timeout_ms", ctypes.c_uint64),
                ("compile_cpu_seconds", ctypes.c_uint64),
                ("compile_memory_limit", ctypes.c_uint64),
                ("compile_file_limit", ctypes.c_uint64),
                ("lock_timeout_ms", ctypes.c_uint64), ("fast_tier", ctypes.c_int),
                ("fast_cc", ctypes.c_char_p)]


class InstanceConfig(ctypes.Structure):
    """struct wudf_instance_config (versioned: struct_size first)."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("timeout_ms", ctypes.c_uint64), ("memory_limit", ctypes.c_uint64),
                ("output_limit", ctypes.c_size_t), ("deterministic", ctypes.c_int)]


class _Of(ctypes.Union):
    _fields_ = [("i32", ctypes.c_uint32), ("i64", ctypes.c_uint64),
                ("f32", ctypes.c_float), ("f64", ctypes.c_double)]


class Value(ctypes.Structure):
    """struct wudf_value; the union is read and written through its unsigned
    integer members, which hold the bits of the float members."""
    _fields_ = [("type", ctypes.c_int), ("of", _Of)]


class ExportInfo(ctypes.Structure):
    """struct wudf_export_info (versioned: the caller sets struct_size)."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("name", ctypes.c_char_p), ("param_count", ctypes.c_uint32),
                ("result_count", ctypes.c_uint32), ("params", ctypes.POINTER(ctypes.c_int)),
                ("results", ctypes.POINTER(ctypes.c_int))]


class Library:
    """libwasmudf, with the prototypes of the engine layer's calls."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        vp, err = ctypes.c_void_p, ctypes.POINTER(Error)
        lib.wudf_engine_config_init.argtypes = [ctypes.POINTER(EngineConfig)]
        lib.wudf_engine_new.argtypes = [ctypes.POINTER(EngineConfig), ctypes.POINTER(vp), err]
        lib.wudf_engine_free.argtypes = [vp]
        lib.wudf_module_validate.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, err]
        lib.wudf_module_load.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t,
                                         ctypes.POINTER(vp), err]
        lib.wudf_module_free.argtypes = [vp]
        lib.wudf_module_export_count.argtypes = [vp]
        lib.wudf_module_export_count.restype = ctypes.c_uint32
        lib.wudf_module_export.argtypes = [vp, ctypes.c_uint32, ctypes.POINTER(ExportInfo), err]
        lib.wudf_module_find_export.argtypes = [vp, ctypes.c_char_p,
                                                ctypes.POINTER(ctypes.c_uint32), err]
        lib.wudf_instance_config_init.argtypes = [vp, ctypes.POINTER(InstanceConfig)]
        lib.wudf_instance_new.argtypes = [vp, ctypes.POINTER(InstanceConfig),
                                          ctypes.POINTER(vp), err]
        lib.wudf_instance_free.argtypes = [vp]
        lib.wudf_instance_call.argtypes = [vp, ctypes.c_uint32, ctypes.POINTER(Value),
                                           ctypes.c_size_t, ctypes.POINTER(Value),
                                           ctypes.c_size_t, ctypes.c_uint64, err]
        lib.wudf_set_signal_mode.argtypes = [ctypes.c_int]
        self.lib = lib

    def share_signals(self):
        """Lets another runtime in this process (wasmtime) install its own
        SIGSEGV handler after the engine: each guest call takes the signal
        back, and faults that are not a guest's go to the other handler
        (WUDF_SIGNALS_REINSTALL, docs/engine.md)."""
        self.lib.wudf_set_signal_mode(1)


class Engine:
    """An engine with its own cache directory and compiler flags."""

    def __init__(self, library, cache_dir, cflags=None, timeout_ms=None):
        self.lib = library.lib
        config = EngineConfig()
        self.lib.wudf_engine_config_init(ctypes.byref(config))
        config.cache_dir = cache_dir.encode()
        if cflags:
            config.cflags = cflags.encode()
        if timeout_ms is not None:
            config.timeout_ms = timeout_ms
        config.memory_limit = 0  # the module's own maximum
        self.handle = ctypes.c_void_p()
        error = Error()
        if self.lib.wudf_engine_new(ctypes.byref(config), ctypes.byref(self.handle),
                                    ctypes.byref(error)) != 0:
            raise RuntimeError("wudf_engine_new: " + error.text())

    def validate(self, data):
        """Returns (status, message) of wudf_module_validate."""
        error = Error()
        status = self.lib.wudf_module_validate(self.handle, data, len(data), ctypes.byref(error))
        return status, error.text() if status else ""

    def load(self, data):
        """Returns (Module or None, status, message) of wudf_module_load."""
        error = Error()
        handle = ctypes.c_void_p()
        status = self.lib.wudf_module_load(self.handle, data, len(data), ctypes.byref(handle),
                                           ctypes.byref(error))
        if status != 0:
            return None, status, error.text()
        return Module(self.lib, self.handle, handle), 0, ""

    def free(self):
        self.lib.wudf_engine_free(self.handle)


class Module:
    """A loaded module and its callable exports."""

    def __init__(self, lib, engine, handle):
        self.lib = lib
        self.engine = engine
        self.handle = handle
        self.exports = {}
        for index in range(lib.wudf_module_export_count(handle)):
            info = ExportInfo(struct_size=ctypes.sizeof(ExportInfo))
            if lib.wudf_module_export(handle, index, ctypes.byref(info), None) == 0:
                params = [info.params[i] for i in range(info.param_count)]
                results = [info.results[i] for i in range(info.result_count)]
                self.exports[info.name.decode("utf-8", "surrogateescape")] = (index, params,
                                                                            results)

    def instantiate(self):
        """Returns (Instance or None, status, error) of wudf_instance_new."""
        config = InstanceConfig()
        self.lib.wudf_instance_config_init(self.engine, ctypes.byref(config))
        config.memory_limit = 0
        error = Error()
        handle = ctypes.c_void_p()
        status = self.lib.wudf_instance_new(self.handle, ctypes.byref(config),
                                            ctypes.byref(handle), ctypes.byref(error))
        if status != 0:
            return None, status, error
        return Instance(self.lib, handle), 0, error

    def free(self):
        self.lib.wudf_module_free(self.handle)


class Instance:
    """An instance; call() takes and returns raw bit patterns."""

    def __init__(self, lib, handle):
        self.lib = lib
        self.handle = handle

    def call(self, index, param_types, args, result_count):
        """Calls export `index` with `args` (bits, typed by `param_types`).
        Returns (status, results as bits, error)."""
        values = (Value * max(1, len(args)))()
        for i, (kind, bits) in enumerate(zip(param_types, args)):
            values[i].type = kind
            if kind in (I32, F32):
                values[i].of.i32 = bits & 0xFFFFFFFF
            else:
                values[i].of.i64 = bits & 0xFFFFFFFFFFFFFFFF
        results = (Value * max(1, result_count))()
        error = Error()
        status = self.lib.wudf_instance_call(self.handle, index, values, len(args), results,
                                             result_count, 0xFFFFFFFFFFFFFFFF,
                                             ctypes.byref(error))
        out = []
        if status == 0:
            for i in range(result_count):
                kind = results[i].type
                out.append(results[i].of.i32 if kind in (I32, F32) else results[i].of.i64)
        return status, out, error

    def free(self):
        self.lib.wudf_instance_free(self.handle)
