"""
host_wasmtime.py -- the wasmtime runner of the benchmark suite: a host of
the wasmudf guest ABI v1 (docs/abi.md) on wasmtime from PyPI, running the
same .wasm over the same data as the wasmudf runner.

  python host_wasmtime.py PLAN     (the plan format of bench/suite/runner.c)

The guest gets WASI preview1 from wasmtime (WasiConfig, no preopens). One
instance per module: `_initialize` runs once, the output slots and the
control block are allocated once. A call is what the ABI prescribes, as
the wasmudf host does it (section 3 and 4): wudf_alloc of the input block,
the batch copied in and relocated (abi_image.InputTemplate; its layout is
made once per data set, a head start wasmudf does not get), the export
called, the input's release and free, the result copied out into host bytes
(abi_image.copy_out) and released through wudf_release_array/_schema. A
table function is INPUT then CONTINUE until MORE is clear, every chunk
copied out; an aggregate is UPDATE, FINISH (copied out) and FREE. A failed
call (nonzero return or a trap) raises with the guest's message. Strict
functions are not given compacted rows: a batch with top-level nulls for a
strict function is refused (the suite's strict kernels have none). Results
are not validated (wasmudf validates every result; section 5).
"""
import ctypes
import struct
import sys
import time

import wasmtime

sys.path.insert(0, __import__("os").path.dirname(__file__))
import abi_image  # noqa: E402

OP_INPUT, OP_CONTINUE = 1, 2
OP_UPDATE, OP_FINISH, OP_FREE = 1, 4, 5
MORE = 1
MAX_OUTPUT_ROWS = 65536
# The least time of the warm-up calls of a task (bench/suite/runner.c).
WARM_UP_SECONDS = 0.3


def _leb(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def metadata(wasm):
    """The records of the module's "wasmudf" custom sections: {name: record}."""
    records = {}
    at = 8
    while at < len(wasm):
        section, at = wasm[at], at + 1
        size, at = _leb(wasm, at)
        end = at + size
        if section == 0:
            name_size, body = _leb(wasm, at)
            if wasm[body:body + name_size] == b"wasmudf":
                for record in wasm[body + name_size:end].split(b"\0"):
                    if record:
                        text = record.decode()
                        name = text.split(" ", 2)[2].split("(", 1)[0]
                        records[name] = text
        at = end
    return records


class GuestError(RuntimeError):
    pass


class AbiHost:
    """One module, one instance, the guest ABI's call protocol."""

    def __init__(self, wasm_bytes, engine=None):
        self.engine = engine or wasmtime.Engine()
        self.records = metadata(wasm_bytes)
        module = wasmtime.Module(self.engine, wasm_bytes)
        self.store = wasmtime.Store(self.engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        self.instance = linker.instantiate(self.store, module)
        exports = self.instance.exports(self.store)
        self.exports = exports
        self.memory = exports["memory"]
        self._view_key = None
        if "_initialize" in exports:
            exports["_initialize"](self.store)
        if self._f("wudf_abi_version")() != 1:
            raise GuestError("wudf_abi_version is not 1")
        self.alloc = self._f("wudf_alloc")
        self.free = self._f("wudf_free")
        self.release_array = self._f("wudf_release_array")
        self.release_schema = self._f("wudf_release_schema")
        self.array_release = self._f("wudf_input_array_release")()
        self.schema_release = self._f("wudf_input_schema_release")()
        self.out = self._allocate(abi_image.ARRAY_SIZE, 8)
        self.out_schema = self._allocate(abi_image.SCHEMA_SIZE, 8)
        self.control = self._allocate(32, 8)

    def _f(self, name):
        function = self.exports[name]
        store = self.store
        return lambda *args: function(store, *args)

    def _allocate(self, size, align):
        at = self.alloc(size, align)
        if at == 0:
            raise GuestError(f"wudf_alloc({size}, {align}) failed")
        return at

    def mem(self):
        """A writable view of the guest's memory as it is now (it moves when
        memory grows, so take it again after every guest call)."""
        length = self.memory.data_len(self.store)
        address = ctypes.addressof(self.memory.data_ptr(self.store).contents)
        if self._view_key != (address, length):
            self._view = memoryview((ctypes.c_ubyte * length).from_address(address)).cast("B")
            self._view_key = (address, length)
        return self._view

    def _fail(self, function, status):
        at = self._f("wudf_error_message")()
        message = abi_image._cstr(self.mem(), at) if at else "no message"
        raise GuestError(f"wudf_fn_{function} returned {status}: {message}")

    def _clear_slots(self):
        mem = self.mem()
        mem[self.out:self.out + 64] = bytes(64)
        mem[self.out_schema:self.out_schema + 48] = bytes(48)

    def _release_slots(self):
        mem = self.mem()
        if abi_image._u(mem, self.out + 52):
            self.release_array(self.out)
        if abi_image._u(self.mem(), self.out_schema + 40):
            self.release_schema(self.out_schema)

    def _take_result(self):
        image = abi_image.copy_out(self.mem(), self.out, self.out_schema)
        self.release_array(self.out)
        self.release_schema(self.out_schema)
        return image

    def _control(self, op, count):
        struct.pack_into("<IIqI12x", self.mem(), self.control, op, 1, count, 0)

    def _call_with_input(self, export, template, *extra):
        """Allocates and writes the input block, calls `export`, then releases
        the host's part of the input (section 4); returns the status."""
        block = self._allocate(len(template.data), 64)
        args, args_schema = template.place(self.mem(), block, self.array_release,
                                           self.schema_release)
        status = export(args, args_schema, self.out, self.out_schema, *extra)
        mem = self.mem()
        if abi_image._u(mem, args + 52):
            self.release_array(args)
        if abi_image._u(self.mem(), args_schema + 40):
            self.release_schema(args_schema)
        mem = self.mem()
        live = abi_image._u(mem, block)
        if abi_image._u(mem, block + 4) != abi_image.MAGIC or live == 0:
            raise GuestError("the guest damaged the input block's header")
        if live == 1:
            self.free(block)
        else:
            struct.pack_into("<I", mem, block, live - 1)
        return status

    def _check_strict(self, function, template):
        record = self.records.get(function, "")
        if template.top_nulls and "CALLED ON NULL INPUT" not in record:
            raise GuestError(f"{function} is strict and the batch has nulls: this host "
                             "does not compact rows")

    def call(self, kind, function, template, groups=0):
        """One call of `function` (scalar, aggregate or table) over the batch
        of `template`; returns the result images (a list: a table function's
        chunks, one array otherwise)."""
        self._check_strict(function, template)
        export = self._f("wudf_fn_" + function)
        self._clear_slots()
        if kind == "scalar":
            status = self._call_with_input(export, template)
            if status != 0:
                self._release_slots()
                self._fail(function, status)
            return [self._take_result()]
        if kind == "aggregate":
            self._control(OP_UPDATE, groups)
            status = self._call_with_input(export, template, self.control)
            self._release_slots()
            if status != 0:
                self._fail(function, status)
            self._control(OP_FINISH, groups)
            status = export(0, 0, self.out, self.out_schema, self.control)
            if status != 0:
                self._release_slots()
                self._fail(function, status)
            result = self._take_result()
            self._control(OP_FREE, groups)
            status = export(0, 0, 0, 0, self.control)
            if status != 0:
                self._fail(function, status)
            return [result]
        if kind == "table":
            chunks = []
            self._control(OP_INPUT, MAX_OUTPUT_ROWS)
            status = self._call_with_input(export, template, self.control)
            while True:
                if status != 0:
                    self._release_slots()
                    self._fail(function, status)
                more = abi_image._u(self.mem(), self.control + 16) & MORE
                chunks.append(self._take_result())
                if not more:
                    return chunks
                self._clear_slots()
                self._control(OP_CONTINUE, MAX_OUTPUT_ROWS)
                status = export(0, 0, self.out, self.out_schema, self.control)
        raise ValueError(f"unknown kind {kind}")


def write_results(path, images):
    with open(path, "wb") as out:
        for image in images:
            out.write(struct.pack("<Q", len(image)))
            out.write(image)


def run_plan(path):
    hosts = {}
    engine = wasmtime.Engine()
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        (kernel, kind, function, groups, rows, module, data, result, samples,
         calls) = line.split()
        groups, samples, calls = int(groups), int(samples), int(calls)
        if module not in hosts:
            hosts.clear()
            hosts[module] = AbiHost(open(module, "rb").read(), engine)
        host = hosts[module]
        template = abi_image.InputTemplate(open(data, "rb").read())
        write_results(result, host.call(kind, function, template, groups))
        warm_up, start = 0, time.perf_counter()  # as bench/suite/runner.c
        while warm_up < calls or time.perf_counter() - start < WARM_UP_SECONDS:
            host.call(kind, function, template, groups)
            warm_up += 1
        times = []
        for _ in range(samples):
            start = time.perf_counter_ns()
            for _ in range(calls):
                host.call(kind, function, template, groups)
            times.append((time.perf_counter_ns() - start) / 1000 / calls)
        print("RESULT", kernel, rows, " ".join(f"{t:.4f}" for t in times), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: host_wasmtime.py PLAN")
    run_plan(sys.argv[1])
