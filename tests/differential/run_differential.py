"""
run_differential.py -- differential testing of libwasmudf against wasmtime
(an independent implementation, from PyPI) on random valid modules made by
binaryen's translate-to-fuzz (`wasm-opt -ttf`, Debian package binaryen).

Each module is generated from seeded random bytes with the post-MVP features
the engine supports (sign extension, non-trapping float-to-int, bulk memory,
multi-value, mutable globals; not reference types: binaryen 108 types them
with a subtyping the final specification dropped, so its modules are invalid)
and binaryen's --denan (NaN payloads are not deterministic in WebAssembly).

ttf modules import four logging functions from "fuzzing-support". The engine
refuses every import but WASI, so the harness rewrites the binary (rewrite()
below): each imported function becomes a defined function at the same index
(the first defined functions), whose body folds its argument into a new
mutable i64 global with FNV-1a steps (NaNs folded as the canonical NaN), and a
new export "logHash" returns that global; a new export "memoryHash" returns
an FNV-1a hash of all of linear memory (ttf's own "hashMemory" export is
random code like the rest, so it is called as an ordinary export). Nothing
else moves, and what the module logs stays observable.

Both engines then run the same protocol on the module: for each function
export in order whose types are all numeric (hangLimitInitializer, logHash
and memoryHash are helpers), call hangLimitInitializer (binaryen's bound on
loops and recursion), call the export with zero arguments, and record its
results (bit for bit; NaN as NaN) or its trap (by kind), then after a normal
return memoryHash() and logHash(). A trap breaks a
wasmudf instance for good, so after a trap both engines continue in a fresh
instance into which the calls that returned so far are replayed. Every
recorded step must agree; a module either engine refuses, or that hangs in
either (wasmtime: fuel; wasmudf: deadline), is counted apart.

    python run_differential.py LIBWASMUDF.so WORK_DIR --count N [--seed S]
        [--jobs N] [--cflags FLAGS] [--wasm-opt ARGS] [--cases FILE.wasm ...]
        [--findings DIR]

Modules i = 0 .. N-1 come from seed S + i (deterministic). --cases runs saved
modules as well (the regression cases in tests/differential/cases, saved
after the rewrite: .wat files, made with wasm2wat and assembled here with
wat2wasm, since the repository keeps no .wasm files), and --findings saves
every module that disagrees (as .wasm and .wat). Prints one line per disagreement, then the counts and
"N passed, N failed" (a module that agrees passes).
"""
import argparse
import concurrent.futures
import math
import os
import random
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "spec"))
import wudf_engine as wudf  # noqa: E402
from link import leb_s, leb_u, read_u  # noqa: E402  (the LEB128 codec)

import wasmtime  # noqa: E402

FEATURES = ["--enable-sign-ext", "--enable-nontrapping-float-to-int", "--enable-bulk-memory",
            "--enable-multivalue", "--enable-mutable-globals"]
HELPERS = ("hangLimitInitializer", "logHash", "memoryHash")
FUEL = 2_000_000_000

# Value type bytes and the trap classes of both engines.
I32, I64, F32, F64 = 0x7F, 0x7E, 0x7D, 0x7C
OUR_TRAPS = {
    wudf.TRAP_OUT_OF_BOUNDS: {"out of bounds"},
    wudf.TRAP_INTEGER_OVERFLOW: {"integer overflow"},
    wudf.TRAP_DIVIDE_BY_ZERO: {"divide by zero"},
    wudf.TRAP_INVALID_CONVERSION: {"invalid conversion"},
    wudf.TRAP_UNREACHABLE: {"unreachable"},
    wudf.TRAP_BAD_INDIRECT_CALL: {"bad indirect call"},
    wudf.TRAP_STACK_EXHAUSTED: {"stack exhausted"},
}
WASMTIME_TRAPS = {
    "MEMORY_OUT_OF_BOUNDS": {"out of bounds"},
    "HEAP_MISALIGNED": {"out of bounds"},
    # call_indirect past the table's end: wasm2c reports a bad indirect call.
    "TABLE_OUT_OF_BOUNDS": {"out of bounds", "bad indirect call"},
    "INDIRECT_CALL_TO_NULL": {"bad indirect call"},
    "BAD_SIGNATURE": {"bad indirect call"},
    "INTEGER_OVERFLOW": {"integer overflow"},
    "INTEGER_DIVISION_BY_ZERO": {"divide by zero"},
    "BAD_CONVERSION_TO_INTEGER": {"invalid conversion"},
    "UNREACHABLE": {"unreachable"},
    "STACK_OVERFLOW": {"stack exhausted"},
}


class Hang(Exception):
    """A call that ran out of fuel or time: the module proves nothing."""


# -- the binary rewrite ------------------------------------------------------

def sections_of(data):
    """The module's sections as a list of [id, payload]."""
    if data[:8] != b"\0asm\1\0\0\0":
        raise ValueError("not a WebAssembly module")
    pos, out = 8, []
    while pos < len(data):
        section = data[pos]
        size, pos = read_u(data, pos + 1)
        out.append([section, data[pos:pos + size]])
        pos += size
    return out


def vector(payload):
    """Splits a vector section's payload into (count, the entries' bytes)."""
    count, pos = read_u(payload, 0)
    return count, payload[pos:]


def param_types(type_payload):
    """Each function type's (params, results) as bytes."""
    count, pos = read_u(type_payload, 0)
    types = []
    for _ in range(count):
        assert type_payload[pos] == 0x60
        params_count, pos = read_u(type_payload, pos + 1)
        params = type_payload[pos:pos + params_count]
        pos += params_count
        results_count, pos = read_u(type_payload, pos)
        results = type_payload[pos:pos + results_count]
        pos += results_count
        types.append((params, results))
    return types


def log_body(kind, hash_global):
    """The body of a logging function taking one value of `kind`: hash =
    (hash * FNV prime) ^ value bits (NaN: the canonical NaN's bits)."""
    g = leb_u(hash_global)
    code = b"\x23" + g + b"\x42" + leb_s(1099511628211) + b"\x7e"  # hash * prime
    if kind == I32:
        code += b"\x20\x00\xad"                                      # extend_i32_u
    elif kind == I64:
        code += b"\x20\x00"
    elif kind == F32:
        code += (b"\x20\x00\xbc\x41" + leb_s(0x7FC00000) +
                 b"\x20\x00\x20\x00\x5b\x1b\xad")                    # x==x ? bits : nan
    else:
        code += (b"\x20\x00\xbd\x42" + leb_s(0x7FF8000000000000) +
                 b"\x20\x00\x20\x00\x61\x1b")
    code += b"\x85\x24" + g + b"\x0b"                                # xor, global.set
    body = b"\x00" + code
    return leb_u(len(body)) + body


def rewrite(data):
    """Replaces the "fuzzing-support" function imports of a ttf module by
    defined logging functions at the same indexes and adds the logHash
    export (see the file's comment). Returns the new bytes."""
    sections = sections_of(data)
    by_id = {s[0]: s for s in sections if s[0] != 0}
    types = param_types(by_id[1][1]) if 1 in by_id else []
    imports = []
    if 2 in by_id:
        count, pos = read_u(by_id[2][1], 0)
        payload = by_id[2][1]
        for _ in range(count):
            names = []
            for _ in range(2):
                length, pos = read_u(payload, pos)
                names.append(payload[pos:pos + length].decode())
                pos += length
            kind = payload[pos]
            type_index, pos = read_u(payload, pos + 1)
            params, results = types[type_index]
            if names[0] != "fuzzing-support" or kind != 0 or len(params) != 1 or results:
                raise ValueError(f"unexpected import {names}")
            imports.append((type_index, params[0]))
    global_count = vector(by_id[6][1])[0] if 6 in by_id else 0
    defined = vector(by_id[3][1])[0] if 3 in by_id else 0
    getter_type = len(types)
    getter_index = len(imports) + defined
    # memoryHash (when there is a memory): FNV-1a over every 8 bytes of it.
    has_memory = 5 in by_id and vector(by_id[5][1])[0] > 0
    memory_hash = (b"\x02\x02\x7f\x01\x7e"                      # locals i32 i32 i64
                   b"\x3f\x00\x41\x10\x74\x21\x01"              # end = size << 16
                   b"\x42" + leb_s(0xCBF29CE484222325 - (1 << 64)) + b"\x21\x02"
                   b"\x02\x40\x03\x40"                          # block loop
                   b"\x20\x00\x20\x01\x4f\x0d\x01"              # addr >= end: out
                   b"\x20\x02\x20\x00\x29\x03\x00\x85"          # h ^ load64(addr)
                   b"\x42" + leb_s(1099511628211) + b"\x7e\x21\x02"  # * prime
                   b"\x20\x00\x41\x08\x6a\x21\x00\x0c\x00"      # addr += 8
                   b"\x0b\x0b\x20\x02\x0b")
    extra_functions = 2 if has_memory else 1

    def with_entries(section, before=b"", after=b"", extra=0):
        count, entries = vector(by_id[section][1]) if section in by_id else (0, b"")
        return leb_u(count + extra) + before + entries + after

    new = {
        1: with_entries(1, after=b"\x60\x00\x01\x7e", extra=1),
        3: with_entries(3, before=b"".join(leb_u(t) for t, _ in imports),
                        after=leb_u(getter_type) * extra_functions,
                        extra=len(imports) + extra_functions),
        6: with_entries(6, after=b"\x7e\x01\x42\x00\x0b", extra=1),
        7: with_entries(7, after=leb_u(7) + b"logHash\x00" + leb_u(getter_index) +
                        (leb_u(10) + b"memoryHash\x00" + leb_u(getter_index + 1)
                         if has_memory else b""), extra=extra_functions),
        10: with_entries(10, before=b"".join(log_body(k, global_count) for _, k in imports),
                         after=b"\x04\x00\x23" + leb_u(global_count) + b"\x0b" +
                         (leb_u(len(memory_hash)) + memory_hash if has_memory else b""),
                         extra=len(imports) + extra_functions),
    }
    order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11]
    present = {s[0] for s in sections if s[0] != 0} | set(new)
    present.discard(2)
    out = bytearray(b"\0asm\1\0\0\0")
    for section in order:
        if section not in present:
            continue
        payload = new.get(section, by_id.get(section, [None, None])[1])
        out += bytes([section]) + leb_u(len(payload)) + payload
    return bytes(out)


def read_case(path):
    """The bytes of a saved case: a .wasm file, or a .wat file assembled by
    wat2wasm."""
    if path.endswith(".wat"):
        return subprocess.run(["wat2wasm", path, "--output=-"], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as file:
        return file.read()


def generate(seed, work_dir, extra=()):
    """Makes module `seed`: random bytes -> wasm-opt -ttf (with the `extra`
    wasm-opt arguments, e.g. --fuzz-passes) -> rewrite()."""
    rng = random.Random(seed)
    raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(1000, 16000)))
    source = os.path.join(work_dir, f"seed-{seed}.bin")
    target = os.path.join(work_dir, f"ttf-{seed}.wasm")
    with open(source, "wb") as file:
        file.write(raw)
    subprocess.run(["wasm-opt", source, "-ttf", *FEATURES, *extra, "--denan", "-o", target],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(target, "rb") as file:
        data = rewrite(file.read())
    os.unlink(source)
    os.unlink(target)
    return data


# -- the two engines ---------------------------------------------------------

def normalize(kind, bits):
    """A result for comparison: integers as unsigned bits, floats as bits or
    "nan"."""
    if kind in (wudf.I32, "i32"):
        return bits & 0xFFFFFFFF
    if kind in (wudf.I64, "i64"):
        return bits & 0xFFFFFFFFFFFFFFFF
    if kind in (wudf.F32, "f32"):
        return "nan" if (bits & 0x7FFFFFFF) > 0x7F800000 else bits
    return "nan" if (bits & 0x7FFFFFFFFFFFFFFF) > 0x7FF0000000000000 else bits


class Ours:
    """The module in libwasmudf."""

    def __init__(self, engine, data):
        self.module, status, message = engine.load(data)
        if self.module is None:
            raise RuntimeError(f"wasmudf refuses the module ({status}): {message}")
        self.instance = None

    def fresh(self):
        if self.instance is not None:
            self.instance.free()
        self.instance, status, error = self.module.instantiate()
        if self.instance is None:
            raise RuntimeError(f"wasmudf instantiation failed: {error.text()}")

    def callable(self, name):
        return name in self.module.exports

    def call(self, name):
        index, params, results = self.module.exports[name]
        status, out, error = self.instance.call(index, params, [0] * len(params), len(results))
        if status == wudf.ETIMEDOUT:
            raise Hang(name)
        if status == wudf.EFAULT:
            return ("trap", OUR_TRAPS.get(error.trap, {f"trap {error.trap}"}))
        if status != 0:
            return ("error", error.text())
        return ("return", [normalize(k, b) for k, b in zip(results, out)])

    def free(self):
        if self.instance is not None:
            self.instance.free()
        self.module.free()


class Theirs:
    """The module in wasmtime."""

    def __init__(self, engine, data):
        self.engine = engine
        self.module = wasmtime.Module(engine, data)
        self.store = self.instance = None

    def fresh(self):
        self.store = wasmtime.Store(self.engine)
        self.store.set_fuel(FUEL)
        self.instance = wasmtime.Instance(self.store, self.module, [])
        self.exports = self.instance.exports(self.store)

    def call(self, name):
        function = self.exports[name]
        kind = function.type(self.store)
        args = [0.0 if str(p) in ("f32", "f64") else 0 for p in kind.params]
        try:
            out = function(self.store, *args)
        except wasmtime.Trap as trap:
            code = trap.trap_code
            if code is not None and code.name == "OUT_OF_FUEL":
                raise Hang(name)
            return ("trap", WASMTIME_TRAPS.get(code.name if code else "", {str(code)}))
        results = [str(r) for r in kind.results]
        if len(results) == 0:
            out = []
        elif len(results) == 1:
            out = [out]
        values = []
        for kind_name, value in zip(results, out):
            if kind_name in ("f32", "f64"):
                if math.isnan(value):
                    values.append("nan")
                    continue
                value = struct.unpack("<I", struct.pack("<f", value))[0] if kind_name == "f32" \
                    else struct.unpack("<Q", struct.pack("<d", value))[0]
            values.append(normalize(kind_name, value))
        return ("return", values)


def same(a, b):
    """Whether two recorded outcomes agree (trap classes overlap)."""
    if a[0] == "trap" and b[0] == "trap":
        return bool(a[1] & b[1])
    return a == b


def function_exports(module):
    """The module's function exports with numeric types only, in order."""
    names = []
    for export in module.exports:
        kind = export.type
        if isinstance(kind, wasmtime.FuncType):
            types = [str(t) for t in list(kind.params) + list(kind.results)]
            if all(t in ("i32", "i64", "f32", "f64") for t in types):
                names.append(export.name)
    return names


def run_module(name, data, ours_engine, theirs_engine):
    """Runs the protocol on both engines. Returns ("agree"|"differ"|"hang"|
    "refused", detail lines, compared steps, traps)."""
    try:
        theirs = Theirs(theirs_engine, data)
    except Exception as error:  # wasmtime refuses: binaryen made an invalid module
        return ("refused", [f"{name}: wasmtime refuses the module: {error}"], 0, 0)
    try:
        ours = Ours(ours_engine, data)
    except RuntimeError as error:
        return ("differ", [f"{name}: {error}"], 0, 0)
    exports = function_exports(theirs.module)
    missing = [e for e in exports if not ours.callable(e)]
    if missing:
        ours.free()
        return ("differ", [f"{name}: wasmudf lacks exports {missing}"], 0, 0)
    steps, traps, details, replay = 0, 0, [], []
    try:
        for engine in (ours, theirs):
            engine.fresh()
        for export in exports:
            if export in HELPERS:
                continue
            outcomes = []
            for engine in (ours, theirs):
                if "hangLimitInitializer" in exports:
                    engine.call("hangLimitInitializer")
                outcomes.append(engine.call(export))
            steps += 1
            if not same(*outcomes):
                details.append(f"{name}: {export}: wasmudf {outcomes[0]}, wasmtime {outcomes[1]}")
                break
            if outcomes[0][0] == "trap":
                traps += 1
                for engine in (ours, theirs):
                    engine.fresh()
                    for done in replay:
                        if "hangLimitInitializer" in exports:
                            engine.call("hangLimitInitializer")
                        engine.call(done)
                continue
            replay.append(export)
            for helper in ("memoryHash", "logHash"):
                if helper in exports:
                    a, b = ours.call(helper), theirs.call(helper)
                    steps += 1
                    if not same(a, b):
                        details.append(f"{name}: {helper} after {export}: wasmudf {a}, "
                                       f"wasmtime {b}")
                        break
            if details:
                break
    except Hang as hang:
        ours.free()
        return ("hang", [f"{name}: {hang} runs out of fuel or time"], steps, traps)
    ours.free()
    return ("differ" if details else "agree", details, steps, traps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library")
    parser.add_argument("work_dir")
    parser.add_argument("--count", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cflags", default=None)
    parser.add_argument("--cases", nargs="*", default=[])
    parser.add_argument("--wasm-opt", default="",
                        help="more wasm-opt arguments for the generated modules, e.g. "
                             "\"--fuzz-passes\" (random optimizations) or \"-O3\"")
    parser.add_argument("--findings", default=None,
                        help="directory where modules that disagree are saved")
    options = parser.parse_args()

    started = time.monotonic()
    os.makedirs(options.work_dir, exist_ok=True)
    library = wudf.Library(options.library)
    library.share_signals()  # wasmtime, in this process too, takes SIGSEGV
    ours_engine = wudf.Engine(library, os.path.join(options.work_dir, "cache"), options.cflags,
                              timeout_ms=20000)
    config = wasmtime.Config()
    config.consume_fuel = True
    theirs_engine = wasmtime.Engine(config)

    extra = options.wasm_opt.split()
    jobs = [(f"seed {options.seed + i}",
             lambda s=options.seed + i: generate(s, options.work_dir, extra))
            for i in range(options.count)]
    jobs += [(os.path.basename(p), lambda p=p: read_case(p)) for p in options.cases]

    def one(job):
        name, make = job
        data = make()
        outcome = run_module(name, data, ours_engine, theirs_engine)
        if outcome[0] == "differ" and options.findings:
            os.makedirs(options.findings, exist_ok=True)
            safe = name.replace(" ", "-")
            path = os.path.join(options.findings, f"{safe}.wasm")
            with open(path, "wb") as file:
                file.write(data)
            subprocess.run(["wasm2wat", path, "-o", path[:-5] + ".wat"], check=False)
        return name, outcome

    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        results = list(pool.map(one, jobs))
    ours_engine.free()

    counts = {"agree": 0, "differ": 0, "hang": 0, "refused": 0}
    steps = traps = 0
    for name, (kind, details, count, trapped) in results:
        counts[kind] += 1
        steps += count
        traps += trapped
        for line in details:
            print(("DIFFERS " if kind == "differ" else "note: ") + line)
    print(f"differential: {len(results)} modules ({options.count} generated from seed "
          f"{options.seed}, {len(options.cases)} saved cases), {steps} compared steps "
          f"({traps} of them traps), "
          f"{counts['agree']} agree, {counts['differ']} differ, {counts['hang']} hang "
          f"(inconclusive), {counts['refused']} refused by wasmtime (inconclusive), "
          f"{time.monotonic() - started:.0f} s")
    print(f"{counts['agree'] + counts['hang'] + counts['refused']} passed, "
          f"{counts['differ']} failed")
    sys.exit(1 if counts["differ"] else 0)


if __name__ == "__main__":
    main()
