"""
abi_image.py -- the wasm32 images of Arrow arrays that the benchmark's ABI
hosts move across the guest boundary (docs/abi.md, sections 2, 4 and 9),
shared by host_wasmtime.py (and mirrored in host_node.mjs).

Input: the argument batch comes as wudf_array_serialize bytes -- already the
ABI's wasm32 layout, with every pointer an offset from the start of the
bytes. `InputTemplate` walks it once and lists the pointer fields and
structs; `place` copies it into a block the guest allocated and relocates it
there: pointers + the block's offset, each struct's release and
private_data as section 4 prescribes, and the block's 16-byte header (live
count, magic) over the serialized header.

Output: `copy_out` walks a result in guest memory (any array the suite's
kernels return: fixed-width, bool, decimals, utf8/binary, lists, structs,
dictionaries) and copies it into host bytes in the same serialized format,
so that wudf_array_deserialize (wasmudf.deserialize) can read it back and
the suite can compare every runner's results.
"""
import struct

ARRAY_SIZE = 64
SCHEMA_SIZE = 48
MAGIC = 0x46445557  # "WUDF"

_u32 = struct.Struct("<I")
_i32 = struct.Struct("<i")
_i64 = struct.Struct("<q")

# Bytes per value of the fixed-width formats (bool: bits).
_WIDTHS = {"c": 1, "C": 1, "s": 2, "S": 2, "i": 4, "I": 4, "l": 8, "L": 8,
           "e": 2, "f": 4, "g": 8, "tdD": 4, "tdm": 8}


def _u(mem, at):
    return _u32.unpack_from(mem, at)[0]


def _q(mem, at):
    return _i64.unpack_from(mem, at)[0]


def _cstr(mem, at):
    end = at
    while mem[end] != 0:
        end += 1
    return bytes(mem[at:end]).decode()


class InputTemplate:
    """The serialized bytes of an argument batch, walked once: `pointers`
    (positions of nonzero pointer fields), `arrays` and `schemas` (positions
    of the structs), `array_at`/`schema_at` (the roots), and `top_nulls`
    (whether any argument -- a child of the root -- has nulls)."""

    def __init__(self, data):
        if data[:7] != b"WUDFARR":
            raise ValueError("not wudf_array_serialize bytes")
        self.data = bytes(data)
        self.array_at = _u(data, 8)
        self.schema_at = _u(data, 12)
        self.pointers, self.arrays, self.schemas = [], [], []
        self._walk_array(data, self.array_at)
        self._walk_schema(data, self.schema_at)
        children = _u(data, self.array_at + 44)
        self.top_nulls = any(
            _q(data, _u(data, children + 4 * i) + 8) != 0
            for i in range(_q(data, self.array_at + 32)))

    def _pointer(self, data, at):
        if _u(data, at) != 0:
            self.pointers.append(at)
        return _u(data, at)

    def _walk_array(self, data, at):
        self.arrays.append(at)
        n_buffers, n_children = _q(data, at + 24), _q(data, at + 32)
        buffers = self._pointer(data, at + 40)
        for i in range(n_buffers):
            self._pointer(data, buffers + 4 * i)
        children = self._pointer(data, at + 44)
        for i in range(n_children):
            self._walk_array(data, self._pointer(data, children + 4 * i))
        dictionary = self._pointer(data, at + 48)
        if dictionary:
            self._walk_array(data, dictionary)

    def _walk_schema(self, data, at):
        self.schemas.append(at)
        for field in (0, 4, 8):
            self._pointer(data, at + field)
        children = self._pointer(data, at + 32)
        for i in range(_q(data, at + 24)):
            self._walk_schema(data, self._pointer(data, children + 4 * i))
        dictionary = self._pointer(data, at + 36)
        if dictionary:
            self._walk_schema(data, dictionary)

    def place(self, mem, block, array_release, schema_release):
        """Writes the batch into guest memory `mem` (a writable buffer) at
        `block` (from wudf_alloc(len(data), 64)) as an input block of
        section 4; returns the guest offsets of the root array and schema."""
        size = len(self.data)
        mem[block:block + size] = self.data
        pack = _u32.pack_into
        for at in self.pointers:
            pack(mem, block + at, _u32.unpack_from(self.data, at)[0] + block)
        for at in self.arrays:
            struct.pack_into("<II", mem, block + at + 52, array_release, block)
        for at in self.schemas:
            struct.pack_into("<II", mem, block + at + 40, schema_release, block)
        live = len(self.arrays) + len(self.schemas) + 1
        struct.pack_into("<IIII", mem, block, live, MAGIC, 0, 0)
        return block + self.array_at, block + self.schema_at


def _buffer_sizes(mem, fmt, array):
    """The byte sizes of a guest array's buffers, from its format."""
    length, offset = _q(mem, array), _q(mem, array + 16)
    end = offset + length
    n_buffers = _q(mem, array + 24)
    buffers = _u(mem, array + 40)
    validity = (end + 7) // 8
    if fmt == "b":
        return [validity, validity]
    if fmt in _WIDTHS:
        return [validity, end * _WIDTHS[fmt]]
    if fmt.startswith("d:"):
        bits = fmt.split(",")[2] if fmt.count(",") == 2 else "128"
        return [validity, end * int(bits) // 8]
    if fmt in ("u", "z"):
        offsets = _u(mem, buffers + 4)
        data_end = _i32.unpack_from(mem, offsets + 4 * end)[0] if length or offsets else 0
        return [validity, (end + 1) * 4, data_end]
    if fmt in ("U", "Z"):
        offsets = _u(mem, buffers + 4)
        return [validity, (end + 1) * 8, _q(mem, offsets + 8 * end)]
    if fmt == "+l":
        return [validity, (end + 1) * 4]
    if fmt == "+L":
        return [validity, (end + 1) * 8]
    if fmt == "+s" or fmt.startswith("+w:"):
        return [validity] + [0] * (n_buffers - 1)
    raise ValueError(f"copy_out: format '{fmt}' is not supported by this host")


class _Writer:
    """Lays out the serialized image: structs and strings 8-byte aligned,
    buffers 64-byte aligned, offsets from the image's start."""

    def __init__(self):
        self.size = 16
        self.copies = []   # (image offset, guest offset, size)
        self.writes = []   # (image offset, bytes)

    def reserve(self, size, align):
        at = (self.size + align - 1) & ~(align - 1)
        self.size = at + size
        return at

    def put(self, data, align=8):
        at = self.reserve(len(data), align)
        self.writes.append((at, data))
        return at


def copy_out(mem, array, schema):
    """Copies the result at guest offsets `array`/`schema` into host bytes
    (the serialized format of docs/abi.md, section 9)."""
    writer = _Writer()
    schema_at = _copy_schema(mem, schema, writer)
    array_at = _copy_array(mem, array, schema, writer)
    image = bytearray(writer.size)
    image[0:16] = b"WUDFARR\x01" + _u32.pack(array_at) + _u32.pack(schema_at)
    for at, data in writer.writes:
        image[at:at + len(data)] = data
    for at, source, size in writer.copies:
        image[at:at + size] = mem[source:source + size]
    return bytes(image)


def _copy_schema(mem, schema, writer):
    fmt = _cstr(mem, _u(mem, schema))
    name_ptr = _u(mem, schema + 4)
    n_children = _q(mem, schema + 24)
    children = [_copy_schema(mem, _u(mem, _u(mem, schema + 32) + 4 * i), writer)
                for i in range(n_children)]
    dictionary = _u(mem, schema + 36)
    dictionary_at = _copy_schema(mem, dictionary, writer) if dictionary else 0
    format_at = writer.put(fmt.encode() + b"\0")
    name_at = writer.put(_cstr(mem, name_ptr).encode() + b"\0") if name_ptr else 0
    children_at = writer.put(b"".join(_u32.pack(c) for c in children)) if children else 0
    return writer.put(struct.pack("<IIIIqqIIII", format_at, name_at, 0, 0,
                                  _q(mem, schema + 16), n_children, children_at,
                                  dictionary_at, 1, 0))


def _copy_array(mem, array, schema, writer):
    fmt = _cstr(mem, _u(mem, schema))
    sizes = _buffer_sizes(mem, fmt, array)
    n_buffers = _q(mem, array + 24)
    if len(sizes) != n_buffers:
        raise ValueError(f"copy_out: '{fmt}' with {n_buffers} buffers")
    buffers = _u(mem, array + 40)
    buffer_ats = []
    for i, size in enumerate(sizes):
        source = _u(mem, buffers + 4 * i)
        if source == 0:
            buffer_ats.append(0)
            continue
        at = writer.reserve(size, 64)
        writer.copies.append((at, source, size))
        buffer_ats.append(at)
    n_children = _q(mem, array + 32)
    child_schemas = _u(mem, schema + 32)
    child_arrays = _u(mem, array + 44)
    children = [_copy_array(mem, _u(mem, child_arrays + 4 * i),
                            _u(mem, child_schemas + 4 * i), writer)
                for i in range(n_children)]
    dictionary = _u(mem, array + 48)
    dictionary_at = _copy_array(mem, dictionary, _u(mem, schema + 36), writer) \
        if dictionary else 0
    buffers_at = writer.put(b"".join(_u32.pack(b) for b in buffer_ats)) if n_buffers else 0
    children_at = writer.put(b"".join(_u32.pack(c) for c in children)) if children else 0
    return writer.put(struct.pack("<qqqqqIIIII4x", _q(mem, array), _q(mem, array + 8),
                                  _q(mem, array + 16), n_buffers, n_children, buffers_at,
                                  children_at, dictionary_at, 1, 0))
