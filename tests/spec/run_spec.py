"""
run_spec.py -- runs every command of the WebAssembly core specification tests
(../shared/wasm-spec-testsuite, converted by wabt's wast2json at build time)
through libwasmudf, and checks each against the specification:

  module               the module loads (validate, wasm2c, cc) and instantiates
  assert_return        the invoked export returns exactly the expected values
                       (floats bit for bit; nan:canonical and nan:arithmetic as
                       the specification defines them)
  action               the invoked export returns without trapping
  assert_trap          the export traps, with the trap kind its message names
  assert_exhaustion    the export traps with WUDF_TRAP_STACK_EXHAUSTED
  assert_invalid,      the engine's own validator (wudf_module_validate)
  assert_malformed     refuses the binary module, before any tool runs
  assert_unlinkable    loading refuses the module's imports
  assert_uninstantiable  the module loads and its instantiation traps
  register             the module it names was loaded

What the engine does not offer by design is excluded, command by command,
with the reason (EXCLUSIONS below); the run prints every exclusion, the pass
count of each command kind, every failure, and "N passed, N failed".

Two differences of design are bridged rather than excluded. The engine links
nothing but WASI imports: link.py binds a module's imports from "spectest"
and the stateless functions it imports from registered modules by rewriting
its binary (imports become definitions at the same indexes). And a trap
breaks an instance for good (docs/engine.md), where the specification's
instance lives on: after a trap the harness makes a fresh instance of the
module and replays the calls that succeeded on the old one, in order, before
the next command.

    python run_spec.py LIBWASMUDF.so JSON_DIR CACHE_DIR [--cflags FLAGS]
                       [--jobs N] [--files NAME,NAME,...] [--quiet]

--files limits the run to those .wast names (the subset make check runs);
--jobs runs that many files at once (module loads compile in parallel).
"""
import argparse
import concurrent.futures
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import link  # noqa: E402
import wudf_engine as wudf  # noqa: E402

# Why commands are excluded. Every excluded command is printed with one of
# these reasons.
EXCLUSIONS = {
    "text": "assert_malformed of the text format: the engine reads binary modules only "
            "(the malformation is in .wat syntax, which wast2json leaves as text)",
    "import": "the module imports what link.py cannot bind by copying (a registered "
              "module's memory, table or global, or a function that uses its module's state, "
              "or something spectest lacks): UDF modules may import only WASI preview1 "
              "functions (docs/engine.md, Imports), so the engine has no cross-module linking",
    "excluded module": "the command uses a module that was excluded (see its reason)",
    "reference": "the export takes or returns externref/funcref: wudf_instance_call "
                 "carries i32, i64, f32 and f64 only, so such exports are not callable",
    "global": "the command reads an exported global: the API gives no access to globals",
    "nul": "a name contains a NUL character: refused by design (names are C strings; "
           "docs/engine.md)",
    "state": "the module's state may depend on an excluded command: a call with references "
             "to an export that may write state (calls, or writes a global, memory or table), "
             "or a module excluded for its imports that imports this module's memory, table or "
             "globals, or has a start function (so it could have written them)",
}

# The trap kinds that satisfy each trap message of the testsuite.
TRAP_KINDS = {
    "integer divide by zero": {wudf.TRAP_DIVIDE_BY_ZERO},
    "integer overflow": {wudf.TRAP_INTEGER_OVERFLOW},
    "invalid conversion to integer": {wudf.TRAP_INVALID_CONVERSION},
    "unreachable": {wudf.TRAP_UNREACHABLE},
    "out of bounds memory access": {wudf.TRAP_OUT_OF_BOUNDS},
    "out of bounds table access": {wudf.TRAP_OUT_OF_BOUNDS},
    "undefined element": {wudf.TRAP_BAD_INDIRECT_CALL},
    "uninitialized element": {wudf.TRAP_BAD_INDIRECT_CALL},
    "indirect call type mismatch": {wudf.TRAP_BAD_INDIRECT_CALL},
    "call stack exhausted": {wudf.TRAP_STACK_EXHAUSTED},
}

REFERENCE_TYPES = ("externref", "funcref")
CANONICAL_NAN = {"f32": 0x7FC00000, "f64": 0x7FF8000000000000}
QUIET_BIT = {"f32": 0x00400000, "f64": 0x0008000000000000}
EXPONENT = {"f32": 0x7F800000, "f64": 0x7FF0000000000000}
SIGN = {"f32": 0x80000000, "f64": 0x8000000000000000}


def linking_effects(data):
    """For a module the engine refuses for its imports: the names of the
    modules it imports a memory, table or global from (all it imports from
    when it has a start function), whose state it could change."""
    pos, stateful, every, has_start = 8, set(), set(), False
    while pos < len(data):
        section, pos = data[pos], pos + 1
        size, pos = link.read_u(data, pos)
        end = pos + size
        if section == 8:
            has_start = True
        if section == 2:
            count, pos = link.read_u(data, pos)
            for _ in range(count):
                names = []
                for _ in range(2):
                    length, pos = link.read_u(data, pos)
                    names.append(data[pos:pos + length].decode("utf-8", "replace"))
                    pos += length
                kind, pos = data[pos], pos + 1
                every.add(names[0])
                if kind == 0:
                    _, pos = link.read_u(data, pos)
                    continue
                stateful.add(names[0])
                if kind == 1:
                    pos += 1
                if kind in (1, 2):
                    flags, pos = link.read_u(data, pos)
                    _, pos = link.read_u(data, pos)
                    if flags & 1:
                        _, pos = link.read_u(data, pos)
                else:
                    pos += 2
        pos = end
    return every if has_start else stateful


def trap_kinds(text):
    """The trap kinds acceptable for an expected trap message."""
    for prefix, kinds in TRAP_KINDS.items():
        if text.startswith(prefix):
            return kinds
    return set()


def value_matches(expected, bits):
    """Compares a result's bits with an expected value of wast2json's JSON."""
    kind, value = expected["type"], expected["value"]
    if kind in ("f32", "f64") and value.startswith("nan:"):
        magnitude = bits & ~SIGN[kind]
        if value == "nan:canonical":
            return magnitude == CANONICAL_NAN[kind]
        # nan:arithmetic: any NaN with the quiet bit set.
        return (magnitude & EXPONENT[kind]) == EXPONENT[kind] and bits & QUIET_BIT[kind] != 0
    return bits == int(value)


def show(kind, bits):
    """A result for messages: the bits, and the float they stand for."""
    if kind == "f32":
        return f"{bits:#x} ({struct.unpack('<f', struct.pack('<I', bits))[0]!r})"
    if kind == "f64":
        return f"{bits:#x} ({struct.unpack('<d', struct.pack('<Q', bits))[0]!r})"
    return str(bits)


class Loaded:
    """A module of a .wast file: the loaded module, its current instance and
    the calls that succeeded on it (replayed into a fresh instance after a
    trap), or the reason it is excluded."""

    def __init__(self, module=None, excluded=None, failed=None, data=None):
        self.module = module
        self.data = data
        self.instance = None
        self.log = []
        self.broken = False
        self.excluded = excluded
        self.failed = failed
        self.tainted = False

    def ready_instance(self):
        """The instance to call: a fresh one with the log replayed if the
        last one trapped. Returns (instance or None, problem)."""
        if self.instance is not None and not self.broken:
            return self.instance, None
        if self.instance is not None:
            self.instance.free()
            self.instance = None
        instance, status, error = self.module.instantiate()
        if instance is None:
            return None, f"re-instantiation failed: {error.text()}"
        for index, types, args, result_count in self.log:
            status, _, error = instance.call(index, types, args, result_count)
            if status != 0:
                instance.free()
                return None, f"replay after a trap failed: {error.text()}"
        self.instance = instance
        self.broken = False
        return instance, None

    def free(self):
        if self.instance is not None:
            self.instance.free()
        if self.module is not None:
            self.module.free()


class FileRun:
    """Runs the commands of one converted .wast file."""

    def __init__(self, engine, json_dir, json_path):
        self.engine = engine
        self.json_dir = json_dir
        self.name = os.path.basename(json_path)[:-len(".json")]
        with open(json_path) as file:
            self.commands = json.load(file)["commands"]
        self.named = {}        # $name -> Loaded
        self.registered = {}   # name given by register -> Loaded
        self.current = None    # the last module
        self.all = []
        self.results = []      # (kind, outcome, where, detail)
        self.linked = 0        # modules whose imports link.py bound

    def record(self, command, outcome, detail=""):
        where = f"{self.name}.wast:{command['line']}"
        self.results.append((command["type"], outcome, where, detail))

    def read(self, filename):
        with open(os.path.join(self.json_dir, filename), "rb") as file:
            return file.read()

    def run(self):
        for command in self.commands:
            handler = getattr(self, "do_" + command["type"])
            handler(command)
        for loaded in self.all:
            loaded.free()
        return self.results, self.linked

    # -- modules ---------------------------------------------------------

    def link(self, data):
        """The module's bytes with its imports bound by link.py, or None
        (after marking the registered modules it could have changed) when
        they cannot be."""
        registered = {name: loaded.data for name, loaded in self.registered.items()
                      if loaded.data is not None}
        try:
            linked = link.link(data, registered)
        except link.Unlinkable:
            self.taint_exporters(data)
            return None
        if linked is not data:
            self.linked += 1
        return linked

    def load(self, command):
        """Loads and instantiates a command's module (its imports bound by
        link.py). Returns a Loaded, which may be excluded or failed."""
        data = self.link(self.read(command["filename"]))
        if data is None:
            return Loaded(excluded="import")
        module, status, message = self.engine.load(data)
        if module is None:
            if status == wudf.ENOTSUP and "unsupported import" in message:
                self.taint_exporters(data)
                return Loaded(excluded="import")
            if status == wudf.ENOTSUP and "NUL in names" in message:
                return Loaded(excluded="nul")
            self.record(command, "fail", f"load refused: {message}")
            return Loaded(failed=f"line {command['line']}: load refused")
        loaded = Loaded(module, data=data)
        self.all.append(loaded)
        instance, status, error = module.instantiate()
        if instance is None:
            self.record(command, "fail", f"instantiation failed: {error.text()}")
            loaded.failed = f"line {command['line']}: instantiation failed"
            return loaded
        loaded.instance = instance
        return loaded

    def taint_exporters(self, data):
        """Marks the registered modules whose state a module excluded for its
        imports could have changed."""
        for name in linking_effects(data):
            if name in self.registered:
                self.registered[name].tainted = True

    def do_module(self, command):
        loaded = self.load(command)
        self.current = loaded
        if "name" in command:
            self.named[command["name"]] = loaded
        if loaded.excluded:
            self.record(command, "excluded", loaded.excluded)
        elif not loaded.failed:
            self.record(command, "pass")

    def target(self, name):
        if name is None:
            return self.current
        return self.named.get(name)

    def do_register(self, command):
        loaded = self.target(command.get("name"))
        if loaded is None or loaded.failed:
            self.record(command, "fail", "no such module, or it failed")
        elif loaded.excluded:
            self.record(command, "excluded", "excluded module")
        else:
            self.registered[command["as"]] = loaded
            self.record(command, "pass")

    def do_assert_invalid(self, command):
        self.refused_by_validator(command)

    def do_assert_malformed(self, command):
        if command.get("module_type") != "binary":
            self.record(command, "excluded", "text")
            return
        self.refused_by_validator(command)

    def refused_by_validator(self, command):
        status, message = self.engine.validate(self.read(command["filename"]))
        if status != 0:
            self.record(command, "pass")
        else:
            self.record(command, "fail",
                        f"the validator accepts a module that is {command['text']!r}")

    def do_assert_unlinkable(self, command):
        module, status, message = self.engine.load(self.read(command["filename"]))
        if module is None and status == wudf.ENOTSUP and "import" in message:
            self.record(command, "pass")
        else:
            if module is not None:
                module.free()
            self.record(command, "fail", f"expected an import refusal, got {status}: {message}")

    def do_assert_uninstantiable(self, command):
        data = self.link(self.read(command["filename"]))
        if data is None:
            self.record(command, "excluded", "import")
            return
        module, status, message = self.engine.load(data)
        if module is None:
            if status == wudf.ENOTSUP and "unsupported import" in message:
                self.taint_exporters(data)
                self.record(command, "excluded", "import")
            else:
                self.record(command, "fail", f"load refused: {message}")
            return
        instance, status, error = module.instantiate()
        kinds = trap_kinds(command["text"])
        if instance is not None:
            instance.free()
            self.record(command, "fail", "instantiation succeeded")
        elif status == wudf.EFAULT and error.trap in kinds:
            self.record(command, "pass")
        else:
            self.record(command, "fail", f"expected trap {command['text']!r}, got {status}: "
                                         f"{error.text()}")
        module.free()

    # -- actions ---------------------------------------------------------

    def invoke(self, command):
        """Runs the command's action. Returns ("done", status, results,
        error, result_types) or ("excluded", reason) or ("fail", detail)."""
        action = command["action"]
        loaded = self.target(action.get("module"))
        if loaded is None:
            return ("fail", "no module to invoke")
        if loaded.failed:
            return ("fail", f"its module failed ({loaded.failed})")
        if loaded.excluded:
            return ("excluded", "excluded module")
        if action["type"] == "get":
            return ("excluded", "global")
        args = action.get("args", [])
        expected = command.get("expected", [])
        if any(v["type"] in REFERENCE_TYPES for v in args + expected):
            if link.export_may_write(loaded.data, action["field"]):
                loaded.tainted = True
            return ("excluded", "reference")
        if loaded.tainted:
            return ("excluded", "state")
        name = action["field"]
        if name not in loaded.module.exports:
            return ("fail", f"no callable export {name!r}")
        index, params, results = loaded.module.exports[name]
        instance, problem = loaded.ready_instance()
        if instance is None:
            return ("fail", problem)
        bits = [int(v["value"]) for v in args]
        status, out, error = instance.call(index, params, bits, len(results))
        if status == 0:
            loaded.log.append((index, params, bits, len(results)))
        else:
            loaded.broken = True
        return ("done", status, out, error, results)

    def do_action(self, command):
        outcome = self.invoke(command)
        if outcome[0] != "done":
            self.record(command, *outcome)
        elif outcome[1] != 0:
            self.record(command, "fail", outcome[3].text())
        else:
            self.record(command, "pass")

    def do_assert_return(self, command):
        outcome = self.invoke(command)
        if outcome[0] != "done":
            self.record(command, *outcome)
            return
        _, status, out, error, _ = outcome
        if status != 0:
            self.record(command, "fail", error.text())
            return
        expected = command.get("expected", [])
        if len(out) != len(expected):
            self.record(command, "fail", f"{len(out)} results, expected {len(expected)}")
            return
        for value, bits in zip(expected, out):
            if not value_matches(value, bits):
                self.record(command, "fail",
                            f"{command['action']['field']} returned {show(value['type'], bits)},"
                            f" expected {value['value']}")
                return
        self.record(command, "pass")

    def do_assert_trap(self, command):
        self.expect_trap(command, trap_kinds(command["text"]))

    def do_assert_exhaustion(self, command):
        self.expect_trap(command, {wudf.TRAP_STACK_EXHAUSTED})

    def expect_trap(self, command, kinds):
        outcome = self.invoke(command)
        if outcome[0] != "done":
            self.record(command, *outcome)
            return
        _, status, out, error, _ = outcome
        if status == wudf.EFAULT and error.trap in kinds:
            self.record(command, "pass")
        elif status == 0:
            self.record(command, "fail", f"returned {out}, expected trap {command['text']!r}")
        else:
            self.record(command, "fail", f"expected trap {command['text']!r}, got {status}: "
                                         f"{error.text()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library")
    parser.add_argument("json_dir")
    parser.add_argument("cache_dir")
    parser.add_argument("--cflags", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--files", default=None)
    parser.add_argument("--quiet", action="store_true",
                        help="list exclusions by reason and file, not one line each")
    options = parser.parse_args()

    started = time.monotonic()
    library = wudf.Library(options.library)
    engine = wudf.Engine(library, options.cache_dir, options.cflags)
    paths = sorted(os.path.join(options.json_dir, name)
                   for name in os.listdir(options.json_dir) if name.endswith(".json"))
    if options.files:
        wanted = set(options.files.split(","))
        missing = wanted - {os.path.basename(p)[:-5] for p in paths}
        if missing:
            sys.exit(f"no such spec files: {', '.join(sorted(missing))}")
        paths = [p for p in paths if os.path.basename(p)[:-5] in wanted]
    # The largest files first, so that the jobs end together.
    paths.sort(key=os.path.getsize, reverse=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        runs = list(pool.map(lambda p: FileRun(engine, options.json_dir, p).run(), paths))
    engine.free()
    results = sorted((r for run, _ in runs for r in run), key=lambda r: r[2])
    linked = sum(count for _, count in runs)

    kinds = sorted({r[0] for r in results})
    print(f"spec tests: {len(paths)} files, {len(results)} commands, "
          f"{time.monotonic() - started:.0f} s; {linked} modules linked by link.py")
    print(f"{'command':24} {'total':>6} {'passed':>6} {'failed':>6} {'excluded':>8}")
    for kind in kinds:
        of_kind = [r for r in results if r[0] == kind]
        counts = {o: sum(1 for r in of_kind if r[1] == o) for o in ("pass", "fail", "excluded")}
        print(f"{kind:24} {len(of_kind):6} {counts['pass']:6} {counts['fail']:6} "
              f"{counts['excluded']:8}")
    excluded = [r for r in results if r[1] == "excluded"]
    print(f"\nexclusions: {len(excluded)}")
    for reason, text in EXCLUSIONS.items():
        of_reason = [r for r in excluded if r[3] == reason]
        if not of_reason:
            continue
        print(f"  {len(of_reason)} x {reason}: {text}")
        if options.quiet:
            per_file = {}
            for r in of_reason:
                per_file.setdefault(r[2].split(":")[0], []).append(r[0])
            for name, commands in sorted(per_file.items()):
                print(f"      {name}: {len(commands)} ({', '.join(sorted(set(commands)))})")
        else:
            for r in of_reason:
                print(f"      {r[2]} {r[0]}")
    failures = [r for r in results if r[1] == "fail"]
    for r in failures:
        print(f"FAILED {r[2]} {r[0]}: {r[3]}")
    passed = sum(1 for r in results if r[1] == "pass")
    print(f"excluded: {len(excluded)} (listed above with their reasons)")
    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
