"""
wasmudf -- run user-defined functions compiled to WebAssembly over Apache
Arrow data, from Python.

    import wasmudf, pyarrow as pa
    m = wasmudf.load("gcd.wasm", timeout_ms=1000, memory_limit=64 << 20)
    m["gcd"](pa.array([12, 7]), pa.array([18, 21]))     # -> wasmudf.Array
    pa.array(m["gcd"](a, b))                             # imported without a copy

Arrow data goes in and out through the Arrow PyCapsule interface
(__arrow_c_array__, __arrow_c_schema__, __arrow_c_stream__), so pyarrow,
polars, nanoarrow and DuckDB data work without this package depending on
any of them. The binding is a C extension over libwasmudf (see
docs/python.md); this file only re-exports it and adds `map`, which runs a
function over many batches on a pool of threads, one instance per thread.
"""
import concurrent.futures
import threading

from ._wasmudf import (  # noqa: F401
    Accumulator,
    Array,
    ArgumentError,
    BrokenInstanceError,
    BusyError,
    ChunkedArray,
    Error,
    ExitError,
    Function,
    GuestError,
    Instance,
    InvalidResultError,
    LimitError,
    Module,
    ModuleError,
    Schema,
    Stream,
    TimeoutError,
    TrapError,
    deserialize,
    library_version,
    load,
    load_artifact,
    serialize,
)

__version__ = "0.1.0"


def compile_artifact(source):
    """compile_artifact(source) -> bytes: compiles a module (a path, or its
    bytes) into an artifact -- its optimised native code with a manifest --
    that load_artifact loads with no wasm2c and no C compiler
    (docs/embedding.md, "Artifacts"). Needs wasm2c and a C compiler."""
    from ._wasmudf import compile_artifact as _compile_artifact

    if not isinstance(source, (bytes, bytearray, memoryview)):
        with open(source, "rb") as file:
            source = file.read()
    return _compile_artifact(source)


def map(module, function, batches, threads=2, **options):
    """Calls `function` (a name) of `module` on every item of `batches` and
    yields the results in order.

    Each item is a record batch whose columns are the arguments, or a tuple
    of argument columns. The calls run on `threads` threads, each with its
    own instance of the module (its own sandbox), so they run in parallel:
    calls release the GIL. At most 2 * threads items are in flight, so an
    endless iterable is fine. `options` are the call's keywords
    (timeout_ms, max_rows_per_call, ...).
    """
    if threads < 1:
        raise ValueError("threads must be at least 1")
    local = threading.local()

    def call(item):
        bound = getattr(local, "function", None)
        if bound is None:
            bound = local.function = module.instance()[function]
        arguments = item if isinstance(item, tuple) else (item,)
        return bound(*arguments, **options)

    module[function]  # an unknown name fails here, before any thread starts
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        pending = []
        for item in batches:
            pending.append(pool.submit(call, item))
            if len(pending) >= 2 * threads:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
