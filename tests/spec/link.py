"""
link.py -- links a spec test module to "spectest" and to registered modules
by rewriting its binary, for run_spec.py. The engine links nothing but WASI
(docs/engine.md, Imports), so the harness turns imports into definitions
where that keeps the meaning exactly:

  - "spectest" (the testsuite's host module): its print functions become
    empty functions, its globals (global_i32 666, global_i64 666,
    global_f32 666.6, global_f64 666.6) immutable globals of the same value,
    its table (10..20 funcref) and memory (1..2 pages) a table and a memory
    of those limits;
  - a registered module's function whose body touches no state of its
    module (only locals, constants, numeric and control instructions, no
    calls, globals, memory or tables): a copy of that function.

Imports take the first indexes of their index space, so each import becomes
a definition placed first among the definitions of its kind, and no index
of the module moves. Constant expressions may read only imported globals,
so where one reads a spectest global, its value is written in instead. A module is linked only if every import can be; one
that imports anything else (a registered module's memory, table, global, or
a function that uses its module's state) is left to the caller to exclude.
One approximation remains: spectest's table and memory are one instance per
module here, where a host shares them between all the modules that import
them.
"""
import struct

FUNC, TABLE, MEMORY, GLOBAL = 0, 1, 2, 3
SECTION_ORDER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11]


class Unlinkable(Exception):
    """An import the rewrite cannot bind."""


def leb_u(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def leb_s(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte | (0 if done else 0x80))
        if done:
            return bytes(out)


def read_u(data, pos):
    """Reads an unsigned LEB128; returns (value, next position)."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def skip_leb(data, pos):
    while data[pos] & 0x80:
        pos += 1
    return pos + 1


def read_name(data, pos):
    length, pos = read_u(data, pos)
    return data[pos:pos + length].decode("utf-8", "surrogateescape"), pos + length


def read_limits(data, pos):
    flags, pos = read_u(data, pos)
    low, pos = read_u(data, pos)
    high = None
    if flags & 1:
        high, pos = read_u(data, pos)
    return (low, high), pos


class Binary:
    """A module's sections, with the entries link() needs decoded."""

    def __init__(self, data):
        if data[:8] != b"\0asm\1\0\0\0":
            raise Unlinkable("not a module")
        self.sections = {}
        self.customs = []
        pos = 8
        while pos < len(data):
            section = data[pos]
            size, pos = read_u(data, pos + 1)
            payload = data[pos:pos + size]
            if section == 0:
                self.customs.append(payload)
            else:
                self.sections[section] = payload
            pos += size
        self.types = self._types()
        self.imports = self._imports()

    def entries(self, section):
        """(count, bytes of the entries) of a vector section."""
        if section not in self.sections:
            return 0, b""
        count, pos = read_u(self.sections[section], 0)
        return count, self.sections[section][pos:]

    def _types(self):
        count, data = self.entries(1)
        types, pos = [], 0
        for _ in range(count):
            start = pos
            n, pos = read_u(data, pos + 1)
            pos += n
            n, pos = read_u(data, pos)
            pos += n
            types.append(data[start:pos])
        return types

    def _imports(self):
        count, data = self.entries(2)
        imports, pos = [], 0
        for _ in range(count):
            module, pos = read_name(data, pos)
            name, pos = read_name(data, pos)
            kind, pos = data[pos], pos + 1
            if kind == FUNC:
                desc, pos = read_u(data, pos)
            elif kind == TABLE:
                element = data[pos]
                limits, pos = read_limits(data, pos + 1)
                desc = (element, limits)
            elif kind == MEMORY:
                desc, pos = read_limits(data, pos)
            else:
                desc, pos = (data[pos], data[pos + 1]), pos + 2
            imports.append((module, name, kind, desc))
        return imports

    def function_count_imported(self):
        return sum(1 for i in self.imports if i[2] == FUNC)

    def export(self, name):
        """(kind, index) of export `name`, or None."""
        count, data = self.entries(7)
        pos = 0
        for _ in range(count):
            export_name, pos = read_name(data, pos)
            kind, pos = data[pos], pos + 1
            index, pos = read_u(data, pos)
            if export_name == name:
                return kind, index
        return None

    def function(self, index):
        """(type bytes, body bytes with its size) of defined function
        `index` (in the function index space)."""
        defined = index - self.function_count_imported()
        if defined < 0:
            raise Unlinkable("the export is itself an import")
        count, data = self.entries(3)
        pos = 0
        for _ in range(defined + 1):
            type_index, pos = read_u(data, pos)
        count, code = self.entries(10)
        pos = 0
        for _ in range(defined + 1):
            start = pos
            size, pos = read_u(code, pos)
            pos += size
        return self.types[type_index], code[start:pos]


def code_range(body):
    """Where a function body's instructions are: (start, end) past its size
    prefix and its local declarations."""
    size, pos = read_u(body, 0)
    end = pos + size
    groups, pos = read_u(body, pos)
    for _ in range(groups):
        _, pos = read_u(body, pos)
        pos += 1
    return pos, end


def stateless(body):
    """Whether a function body (size prefix included) uses only its locals,
    constants, and numeric, parametric and control instructions with inline
    block types: then a copy of it in another module means the same."""
    pos, end = code_range(body)
    while pos < end:
        op = body[pos]
        pos += 1
        if op in (0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B) or 0x45 <= op <= 0xC4:
            continue
        if op in (0x02, 0x03, 0x04):            # blocktype: empty or a value type
            if body[pos] != 0x40 and body[pos] not in (0x7F, 0x7E, 0x7D, 0x7C):
                return False
            pos += 1
        elif op in (0x0C, 0x0D, 0x20, 0x21, 0x22, 0x41, 0x42):
            pos = skip_leb(body, pos)
        elif op == 0x0E:
            count, pos = read_u(body, pos)
            for _ in range(count + 1):
                pos = skip_leb(body, pos)
        elif op == 0x43:
            pos += 4
        elif op == 0x44:
            pos += 8
        elif op == 0xFC and body[pos] <= 7:     # saturating truncations
            pos += 1
        else:
            return False
    return True


def may_write(body):
    """Whether a function body (size prefix included) may change its
    instance's state: it calls a function, or writes a global, memory or a
    table, or drops a segment, or holds an instruction this walker does not
    know. A body that only reads cannot."""
    pos, end = code_range(body)
    while pos < end:
        op = body[pos]
        pos += 1
        if op in (0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B, 0xD1) or 0x45 <= op <= 0xC4:
            continue
        if op in (0x02, 0x03, 0x04):
            pos = skip_leb(body, pos)            # block type: s33 or one byte
        elif op in (0x0C, 0x0D, 0x20, 0x21, 0x22, 0x23, 0x25, 0x41, 0x42, 0xD2):
            pos = skip_leb(body, pos)
        elif op == 0x0E:
            count, pos = read_u(body, pos)
            for _ in range(count + 1):
                pos = skip_leb(body, pos)
        elif op == 0x1C:
            count, pos = read_u(body, pos)
            pos += count
        elif 0x28 <= op <= 0x35:                 # loads
            pos = skip_leb(body, skip_leb(body, pos))
        elif op == 0x3F:                         # memory.size
            pos += 1
        elif op == 0x43:
            pos += 4
        elif op == 0x44:
            pos += 8
        elif op == 0xD0:
            pos += 1
        elif op == 0xFC:
            subop, pos = read_u(body, pos)
            if subop <= 7:
                continue
            if subop != 16:                      # only table.size reads
                return True
            pos = skip_leb(body, pos)
        else:
            return True
    return False


def export_may_write(data, name):
    """may_write() of the function a module exports as `name` (True when it
    cannot be told)."""
    try:
        module = Binary(data)
        export = module.export(name)
        if export is None or export[0] != FUNC:
            return True
        return may_write(module.function(export[1])[1])
    except (Unlinkable, IndexError):
        return True


SPECTEST_GLOBALS = {
    "global_i32": (0x7F, b"\x41" + leb_s(666)),
    "global_i64": (0x7E, b"\x42" + leb_s(666)),
    "global_f32": (0x7D, b"\x43" + struct.pack("<f", 666.6)),
    "global_f64": (0x7C, b"\x44" + struct.pack("<d", 666.6)),
}
SPECTEST_FUNCTIONS = ("print", "print_i32", "print_i64", "print_f32", "print_f64",
                      "print_i32_f32", "print_f64_f64")
EMPTY_BODY = b"\x02\x00\x0b"


def substitute_expr(data, pos, constants):
    """Copies the constant expression at `pos`, writing the value of a global
    it reads from `constants` (initializers by global index) instead.
    Returns (bytes, next position)."""
    start = pos
    op = data[pos]
    if op == 0x23:
        index, after = read_u(data, pos + 1)
        if index < len(constants) and data[after] == 0x0B:
            return constants[index] + b"\x0b", after + 1
    while data[pos] != 0x0B:                     # one instruction, then end
        op, pos = data[pos], pos + 1
        if op in (0x41, 0x42, 0x23, 0xD2):
            pos = skip_leb(data, pos)
        elif op == 0x43:
            pos += 4
        elif op == 0x44:
            pos += 8
        elif op == 0xD0:
            pos += 1
        else:
            raise Unlinkable(f"constant instruction 0x{op:02x}")
    return data[start:pos + 1], pos + 1


def substitute_globals(module, constants):
    """The global, element and data sections of `module` with every read of
    a global of `constants` in a constant expression replaced by its value
    (spec 2.0: constant expressions read only imported globals)."""
    out = {}
    if 6 in module.sections:
        count, data = module.entries(6)
        new, pos = bytearray(leb_u(count)), 0
        for _ in range(count):
            new += data[pos:pos + 2]
            expr, pos = substitute_expr(data, pos + 2, constants)
            new += expr
        out[6] = bytes(new)
    if 9 in module.sections:
        count, data = module.entries(9)
        new, pos = bytearray(leb_u(count)), 0
        for _ in range(count):
            start = pos
            flags, pos = read_u(data, pos)
            if flags & 2 and not flags & 1:
                pos = skip_leb(data, pos)
            new += data[start:pos]
            if not flags & 1:
                expr, pos = substitute_expr(data, pos, constants)
                new += expr
            if flags & 3:
                new += data[pos:pos + 1]
                pos += 1
            elements, after = read_u(data, pos)
            new += data[pos:after]
            pos = after
            for _ in range(elements):
                if flags & 4:
                    expr, pos = substitute_expr(data, pos, constants)
                    new += expr
                else:
                    after = skip_leb(data, pos)
                    new += data[pos:after]
                    pos = after
        out[9] = bytes(new)
    if 11 in module.sections:
        count, data = module.entries(11)
        new, pos = bytearray(leb_u(count)), 0
        for _ in range(count):
            start = pos
            flags, pos = read_u(data, pos)
            if flags == 2:
                pos = skip_leb(data, pos)
            new += data[start:pos]
            if flags != 1:
                expr, pos = substitute_expr(data, pos, constants)
                new += expr
            length, after = read_u(data, pos)
            new += data[pos:after + length]
            pos = after + length
        out[11] = bytes(new)
    return out


def link(data, registered):
    """Returns the bytes of `data` with every import turned into a
    definition, or raises Unlinkable. `registered` maps the names of
    registered modules to their bytes."""
    module = Binary(data)
    if not module.imports:
        return data
    functions, bodies, tables, memories, globals, constants = [], [], [], [], [], []
    for source, name, kind, desc in module.imports:
        where = f"{source}.{name}"
        if source == "spectest":
            if kind == FUNC and name in SPECTEST_FUNCTIONS:
                functions.append(desc)
                bodies.append(EMPTY_BODY)
            elif kind == GLOBAL and name in SPECTEST_GLOBALS and desc[1] == 0:
                value_type, init = SPECTEST_GLOBALS[name]
                if desc[0] != value_type:
                    raise Unlinkable(f"{where} has another type")
                globals.append(bytes([value_type, 0]) + init + b"\x0b")
                constants.append(init)
            elif kind == TABLE and name == "table" and desc[0] == 0x70:
                tables.append(b"\x70\x01" + leb_u(10) + leb_u(20))
            elif kind == MEMORY and name == "memory":
                memories.append(b"\x01" + leb_u(1) + leb_u(2))
            else:
                raise Unlinkable(f"spectest has no {where} of that kind")
        elif source in registered and kind == FUNC:
            exporter = Binary(registered[source])
            export = exporter.export(name)
            if export is None or export[0] != FUNC:
                raise Unlinkable(f"{where} is not a function export")
            exported_type, body = exporter.function(export[1])
            if exported_type != module.types[desc]:
                raise Unlinkable(f"{where} has another type")
            if not stateless(body):
                raise Unlinkable(f"{where} uses its module's state")
            functions.append(desc)
            bodies.append(body)
        else:
            raise Unlinkable(f"{where} is not a spectest import or a registered function")

    def prepend(section, entries):
        count, rest = module.entries(section)
        if not entries and section not in module.sections:
            return None
        return leb_u(count + len(entries)) + b"".join(entries) + rest

    new = dict(module.sections)
    new.pop(2)
    if constants:
        new.update(substitute_globals(module, constants))
        module.sections.update(new)
    for section, entries in ((3, [leb_u(t) for t in functions]), (4, tables), (5, memories),
                             (6, globals), (10, bodies)):
        payload = prepend(section, entries)
        if payload is not None:
            new[section] = payload
    out = bytearray(b"\0asm\1\0\0\0")
    for section in SECTION_ORDER:
        if section in new:
            out += bytes([section]) + leb_u(len(new[section])) + new[section]
    return bytes(out)
