"""
test_gather.py -- pyarrow as the oracle of the gatherer (src/arrow/gather.c,
emit.c): pyarrow builds arrays of every Arrow type (nulls, sliced parents,
children with their own offsets, several variadic buffers, dictionaries of
every index type, nested dictionaries, run-end encoding), exports them
through the C Data Interface, the test shim (tests/gather_shim.c) gathers
seeded random segments of them -- rows of two different arrays mixed with
runs of null rows, empty segments, no segments at all -- and exports the
result, directly or after a round trip through a fake wasm32 guest memory.
pyarrow imports the result, validates it fully and compares it with the
concatenation of the same slices that pyarrow builds itself.

The shim counts the library's allocations: every result must be exactly
one host allocation, freed when pyarrow releases the imported array.

Run by ctest with $WUDF_GATHER_SHIM set to the shim's path.

Types pyarrow cannot build are tested in tests/test_gather.c instead:
interval(months) ("tiM") and interval(day_time) ("tiD") -- pyarrow has no
factory for them. Everything else listed in issue 4 is here.
"""
import ctypes
import decimal
import gc
import os
import random

import pyarrow as pa
import pytest

from arrow_c import ArrowArray, ArrowSchema
from arrow_c import ARRAY_RELEASE as RELEASE_ARRAY
from arrow_c import SCHEMA_RELEASE as RELEASE_SCHEMA

EINVAL = 22
EOVERFLOW = 75


def load_shim():
    path = os.environ.get("WUDF_GATHER_SHIM")
    if not path:
        pytest.skip("WUDF_GATHER_SHIM is not set (run through ctest)")
    lib = ctypes.CDLL(path)
    i64p = ctypes.POINTER(ctypes.c_int64)
    common = [ctypes.POINTER(ArrowSchema), ctypes.POINTER(ctypes.POINTER(ArrowArray)),
              ctypes.c_size_t, i64p, i64p, i64p, ctypes.c_size_t, ctypes.c_char_p]
    lib.wudf_test_gather.argtypes = common + [
        ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema), ctypes.c_char_p]
    lib.wudf_test_gather.restype = ctypes.c_int
    lib.wudf_test_gather_guest.argtypes = common + [
        ctypes.c_uint32, ctypes.POINTER(ArrowArray), ctypes.POINTER(ArrowSchema),
        ctypes.c_char_p]
    lib.wudf_test_gather_guest.restype = ctypes.c_int
    lib.wudf_test_live_allocations.argtypes = []
    lib.wudf_test_live_allocations.restype = ctypes.c_long
    return lib


@pytest.fixture(scope="module")
def shim():
    return load_shim()


# ------------------------------------------------------------ generators

def make_strings(rng, n, binary=False):
    """Random strings, some inline in a view (<= 12 bytes), some not."""
    out = []
    for _ in range(n):
        length = rng.choice([0, 1, 5, 12, 13, 20, 40])
        text = "".join(rng.choice("abcdefghijé€") for _ in range(length))
        out.append(text.encode() if binary else text)
    return out


def with_nulls(rng, values, rate=0.2):
    return [None if rng.random() < rate else v for v in values]


def mask_of(rng, n, rate=0.2):
    return pa.array([rng.random() < rate for _ in range(n)], pa.bool_())


def gen(t, n, rng, depth=0):
    """An array of type `t` and length `n` with nulls, whose children (if
    any) are slices with their own offsets. A little longer, then sliced, so
    the parent has an offset too."""
    extra = rng.randint(0, 3)
    array = gen_whole(t, n + extra, rng, depth)
    return array.slice(extra, n)


def gen_whole(t, n, rng, depth):
    types = pa.types
    if types.is_null(t):
        return pa.nulls(n)
    if types.is_boolean(t):
        return pa.array(with_nulls(rng, [rng.random() < 0.5 for _ in range(n)]), t)
    if types.is_integer(t):
        bits = t.bit_width
        low, high = (0, 2 ** bits - 1) if types.is_unsigned_integer(t) else (
            -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return pa.array(with_nulls(rng, [rng.randint(low, high) for _ in range(n)]), t)
    if types.is_floating(t):
        return pa.array(with_nulls(rng, [rng.randint(-1000, 1000) / 8 for _ in range(n)]), t)
    if types.is_decimal(t):
        digits = min(t.precision, 15)
        values = [decimal.Decimal(rng.randint(-(10 ** digits) + 1, 10 ** digits - 1)).scaleb(
            -t.scale) for _ in range(n)]
        return pa.array(with_nulls(rng, values), t)
    if types.is_date32(t):
        return pa.array(with_nulls(rng, [rng.randint(-10000, 30000) for _ in range(n)]),
                        pa.int32()).cast(t)
    if types.is_date64(t):
        return pa.array(with_nulls(rng, [rng.randint(-10000, 30000) * 86400000
                                         for _ in range(n)]), pa.int64()).cast(t)
    if types.is_time32(t) or types.is_time64(t):
        per_second = {"s": 1, "ms": 1000, "us": 10 ** 6, "ns": 10 ** 9}[t.unit]
        storage = pa.int32() if types.is_time32(t) else pa.int64()
        return pa.array(with_nulls(rng, [rng.randint(0, 86400 * per_second - 1) // 1000 * 1000
                                         if t.unit == "ns" else
                                         rng.randint(0, 86400 * per_second - 1)
                                         for _ in range(n)]), storage).cast(t)
    if types.is_timestamp(t) or types.is_duration(t):
        # Within datetime's range, whole microseconds (to_pylist needs both).
        scale = {"s": 1, "ms": 1000, "us": 10 ** 6, "ns": 10 ** 9}[t.unit]
        return pa.array(with_nulls(rng, [rng.randint(-10 ** 9, 10 ** 9) * scale + (
            rng.randint(0, scale - 1) // 1000 * 1000 if scale > 1000 else 0)
            for _ in range(n)]), pa.int64()).cast(t)
    if t == pa.month_day_nano_interval():
        return pa.array(with_nulls(rng, [pa.MonthDayNano([rng.randint(-50, 50),
                                                          rng.randint(-50, 50),
                                                          rng.randint(-10 ** 12, 10 ** 12)])
                                         for _ in range(n)]), t)
    if types.is_fixed_size_binary(t):
        return pa.array(with_nulls(rng, [bytes(rng.randrange(256) for _ in range(t.byte_width))
                                         for _ in range(n)]), t)
    if types.is_string_view(t) or types.is_binary_view(t):
        # Several chunks concatenated: several variadic buffers.
        binary = types.is_binary_view(t)
        parts, left = [], n
        while left > 0 or not parts:
            size = min(left, rng.randint(1, 8))
            parts.append(pa.array(with_nulls(rng, make_strings(rng, size, binary)), t))
            left -= size
        return pa.concat_arrays(parts)
    if (types.is_string(t) or types.is_binary(t) or types.is_large_string(t)
            or types.is_large_binary(t)):
        binary = types.is_binary(t) or types.is_large_binary(t)
        return pa.array(with_nulls(rng, make_strings(rng, n, binary)), t)
    if types.is_list(t) or types.is_large_list(t) or types.is_map(t):
        sizes = [rng.randint(0, 3) for _ in range(n)]
        offsets = [0]
        for size in sizes:
            offsets.append(offsets[-1] + size)
        offset_type = pa.int64() if types.is_large_list(t) else pa.int32()
        if types.is_map(t):
            keys = gen_nonnull(t.key_type, offsets[-1], rng)
            items = gen(t.item_type, offsets[-1], rng, depth + 1)
            return pa.MapArray.from_arrays(pa.array(offsets, offset_type), keys, items,
                                           type=t, mask=mask_of(rng, n))
        values = gen(t.value_type, offsets[-1], rng, depth + 1)
        factory = pa.LargeListArray if types.is_large_list(t) else pa.ListArray
        return factory.from_arrays(pa.array(offsets, offset_type), values, type=t,
                                   mask=mask_of(rng, n))
    if types.is_list_view(t) or types.is_large_list_view(t):
        child_length = rng.randint(0, 3 * n + 1)
        values = gen(t.value_type, child_length, rng, depth + 1)
        offsets, sizes = [], []
        for _ in range(n):
            start = rng.randint(0, child_length)
            size = rng.randint(0, min(3, child_length - start))
            offsets.append(start if size > 0 or rng.random() < 0.5 else rng.randint(0, child_length))
            sizes.append(size)
        offset_type = pa.int64() if types.is_large_list_view(t) else pa.int32()
        factory = pa.LargeListViewArray if types.is_large_list_view(t) else pa.ListViewArray
        return factory.from_arrays(pa.array(offsets, offset_type), pa.array(sizes, offset_type),
                                   values, type=t, mask=mask_of(rng, n))
    if types.is_fixed_size_list(t):
        values = gen(t.value_type, n * t.list_size, rng, depth + 1)
        if t.list_size == 0:  # from_arrays divides by the list size
            validity = pa.array([rng.random() >= 0.2 for _ in range(n)], pa.bool_())
            return pa.Array.from_buffers(t, n, [validity.buffers()[1]], children=[values])
        return pa.FixedSizeListArray.from_arrays(values, type=t, mask=mask_of(rng, n))
    if types.is_struct(t):
        children = [gen(field.type, n, rng, depth + 1) for field in t]
        return pa.StructArray.from_arrays(children, fields=list(t), mask=mask_of(rng, n))
    if types.is_union(t):
        codes = list(t.type_codes)
        ids = [rng.randrange(len(codes)) for _ in range(n)]
        type_ids = pa.array([codes[i] for i in ids], pa.int8())
        names = [field.name for field in t]
        if t.mode == "sparse":
            children = [gen(field.type, n, rng, depth + 1) for field in t]
            return pa.UnionArray.from_sparse(type_ids, children, names, codes)
        counts = [ids.count(c) for c in range(len(codes))]
        children = [gen(field.type, counts[c] + rng.randint(0, 2), rng, depth + 1)
                    for c, field in enumerate(t)]
        # Offsets in any order (not necessarily increasing), some shared.
        offsets = [rng.randrange(len(children[i])) for i in ids]
        return pa.UnionArray.from_dense(type_ids, pa.array(offsets, pa.int32()), children,
                                        names, codes)
    if types.is_dictionary(t):
        size = rng.randint(1, 6)
        dictionary = gen(t.value_type, size, rng, depth + 1)
        indices = with_nulls(rng, [rng.randrange(size) for _ in range(n)])
        return pa.DictionaryArray.from_arrays(pa.array(indices, t.index_type), dictionary)
    if isinstance(t, pa.RunEndEncodedType):
        ends, total = [], 0
        while total < n:
            total = min(n, total + rng.randint(1, 4))
            ends.append(total)
        values = gen(t.value_type, len(ends), rng, depth + 1)
        return pa.RunEndEncodedArray.from_arrays(pa.array(ends, t.run_end_type), values, type=t)
    raise AssertionError(f"no generator for {t}")


def gen_nonnull(t, n, rng):
    """Map keys: no nulls."""
    if pa.types.is_string(t):
        return pa.array(make_strings(rng, n), t)
    return pa.array([rng.randint(-100, 100) for _ in range(n)], t)


def fields(*pairs):
    return [pa.field(name, t) for name, t in pairs]


# Every Arrow type of issue 4, and nestings of them.
TYPES = [
    pa.null(), pa.bool_(),
    pa.int8(), pa.int16(), pa.int32(), pa.int64(),
    pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64(),
    pa.float16(), pa.float32(), pa.float64(),
    pa.decimal32(9, 2), pa.decimal64(18, 3), pa.decimal128(38, 10), pa.decimal256(76, 20),
    pa.date32(), pa.date64(),
    pa.time32("s"), pa.time32("ms"), pa.time64("us"), pa.time64("ns"),
    pa.timestamp("s"), pa.timestamp("ms"), pa.timestamp("us"), pa.timestamp("ns"),
    pa.timestamp("s", "UTC"), pa.timestamp("ms", "Europe/Paris"), pa.timestamp("us", "+07:00"),
    pa.timestamp("ns", "America/New_York"),
    pa.duration("s"), pa.duration("ms"), pa.duration("us"), pa.duration("ns"),
    pa.month_day_nano_interval(),
    pa.binary(1), pa.binary(7), pa.binary(16),
    pa.string(), pa.binary(), pa.large_string(), pa.large_binary(),
    pa.string_view(), pa.binary_view(),
    pa.list_(pa.int32()), pa.large_list(pa.string()), pa.list_(pa.int16(), 3),
    pa.list_(pa.bool_(), 0),
    pa.list_view(pa.int32()), pa.large_list_view(pa.string()),
    pa.struct(fields(("a", pa.int32()), ("b", pa.string()), ("c", pa.list_(pa.bool_())))),
    pa.struct([]),
    pa.map_(pa.string(), pa.int32()), pa.map_(pa.int16(), pa.list_(pa.string())),
    pa.sparse_union(fields(("i", pa.int32()), ("s", pa.string()))),
    pa.sparse_union(fields(("i", pa.int64()), ("l", pa.list_(pa.int8()))), type_codes=[5, 2]),
    pa.dense_union(fields(("i", pa.int64()), ("s", pa.string()), ("l", pa.list_(pa.int8())))),
    pa.dense_union(fields(("b", pa.bool_()), ("v", pa.string_view())), type_codes=[9, 3]),
    pa.dictionary(pa.int8(), pa.string()), pa.dictionary(pa.int16(), pa.int64()),
    pa.dictionary(pa.int32(), pa.binary_view()), pa.dictionary(pa.int64(), pa.float64()),
    pa.dictionary(pa.uint8(), pa.string()), pa.dictionary(pa.uint16(), pa.large_string()),
    pa.dictionary(pa.uint32(), pa.int32()), pa.dictionary(pa.uint64(), pa.string()),
    pa.dictionary(pa.int16(), pa.dictionary(pa.int8(), pa.string())),
    pa.dictionary(pa.int32(), pa.struct(fields(("d", pa.dictionary(pa.uint8(), pa.string())),
                                              ("l", pa.list_(pa.int32()))))),
    pa.list_(pa.dictionary(pa.int8(), pa.string())),
    pa.run_end_encoded(pa.int16(), pa.int32()), pa.run_end_encoded(pa.int32(), pa.string()),
    pa.run_end_encoded(pa.int64(), pa.struct(fields(("x", pa.float64()), ("y", pa.string())))),
]

# Deep nestings mixing every kind of layout.
_union = pa.dense_union(fields(("m", pa.map_(pa.string(), pa.binary(3))), ("n", pa.null())))
_mixed = pa.struct(fields(("v", pa.list_view(pa.dictionary(pa.int16(), pa.string_view()))),
                          ("r", pa.run_end_encoded(pa.int32(), pa.decimal128(20, 4))),
                          ("u", _union)))
_deep = pa.int8()
for _level in range(9):
    _deep = pa.list_(_deep, 2) if _level == 4 else (pa.large_list(_deep) if _level % 3 == 0
                                                   else pa.list_(_deep))
_nested_structs = pa.struct(fields(
    ("s", pa.struct(fields(("t", pa.struct(fields(("b", pa.bool_()),))),))),
    ("f", pa.list_(pa.struct(fields(("g", pa.large_binary()),)), 2))))
_union_of_unions = pa.sparse_union(fields(
    ("d", pa.dense_union(fields(("x", pa.int8()), ("y", pa.string())))),
    ("s", pa.struct(fields(("z", pa.time64("ns")),)))))
# 32 levels (the most a signature or a guest result may nest): lists,
# structs, list views, fixed-size lists and a dictionary in turn.
_deepest = pa.dictionary(pa.int8(), pa.string())
for _level in range(31):
    _deepest = [lambda t: pa.list_(t), lambda t: pa.struct([pa.field("f", t)]),
                lambda t: pa.list_view(t), lambda t: pa.list_(t, 1)][_level % 4](_deepest)
TYPES += [pa.list_(_mixed), _deep, _nested_structs, _union_of_unions, _deepest]


def has_dictionary(t):
    if pa.types.is_dictionary(t):
        return True
    if isinstance(t, pa.RunEndEncodedType):
        return has_dictionary(t.value_type)
    if hasattr(t, "value_type") and not isinstance(t, pa.DictionaryType):
        if has_dictionary(t.value_type):
            return True
    if pa.types.is_map(t):
        return has_dictionary(t.key_type) or has_dictionary(t.item_type)
    if pa.types.is_struct(t) or pa.types.is_union(t):
        return any(has_dictionary(field.type) for field in t)
    return False


# ------------------------------------------------------------- the calls

def gather(lib, field, sources, segments, mode="host", name=None, at=8):
    """Gathers `segments` ((source index or -1, start, count)) of `sources`
    (pyarrow arrays of `field`'s type) through the shim. Returns (status,
    message, result field, result array)."""
    schema = ArrowSchema()
    field._export_to_c(ctypes.addressof(schema))
    arrays = (ArrowArray * max(1, len(sources)))()
    for i, source in enumerate(sources):
        source._export_to_c(ctypes.addressof(arrays[i]))
    pointers = (ctypes.POINTER(ArrowArray) * max(1, len(sources)))(
        *[ctypes.pointer(arrays[i]) for i in range(len(sources))])
    n = len(segments)
    seg_source = (ctypes.c_int64 * max(1, n))(*[s[0] for s in segments])
    seg_start = (ctypes.c_int64 * max(1, n))(*[s[1] for s in segments])
    seg_count = (ctypes.c_int64 * max(1, n))(*[s[2] for s in segments])
    out = ArrowArray()
    out_schema = ArrowSchema()
    message = ctypes.create_string_buffer(1024)
    encoded_name = name.encode() if name is not None else None
    if mode == "host":
        status = lib.wudf_test_gather(ctypes.byref(schema), pointers, len(sources), seg_source,
                                      seg_start, seg_count, n, encoded_name, ctypes.byref(out),
                                      ctypes.byref(out_schema), message)
    else:
        status = lib.wudf_test_gather_guest(ctypes.byref(schema), pointers, len(sources),
                                            seg_source, seg_start, seg_count, n, encoded_name,
                                            at, ctypes.byref(out), ctypes.byref(out_schema),
                                            message)
    for i in range(len(sources)):
        RELEASE_ARRAY(arrays[i].release)(ctypes.byref(arrays[i]))
    RELEASE_SCHEMA(schema.release)(ctypes.byref(schema))
    if status != 0:
        return status, message.value.decode(errors="replace"), None, None
    assert out.release and out_schema.release
    assert out.offset == 0
    result_field = pa.Field._import_from_c(ctypes.addressof(out_schema))
    assert not out_schema.release, "importing the schema released it"
    result = pa.Array._import_from_c(ctypes.addressof(out), result_field.type)
    assert not out.release, "importing the array moved it"
    return 0, "", result_field, result


def random_segments(rng, lengths):
    segments = []
    for _ in range(rng.randint(0, 7)):
        if rng.random() < 0.2:
            segments.append((-1, 0, rng.randint(0, 4)))
        else:
            source = rng.randrange(len(lengths))
            start = rng.randint(0, lengths[source])
            segments.append((source, start, rng.randint(0, lengths[source] - start)))
    return segments


def expected_parts(t, sources, segments):
    return [pa.nulls(count, t) if source < 0 else sources[source].slice(start, count)
            for source, start, count in segments]


def check(lib, t, sources, segments, mode, name=None, at=8, source_field=None):
    """Gathers and compares with pyarrow's own concatenation."""
    field = source_field or pa.field("column", t, metadata={b"key": b"value", b"k2": b""})
    before = lib.wudf_test_live_allocations()
    status, message, result_field, result = gather(lib, field, sources, segments, mode, name, at)
    assert status == 0, message
    # One host allocation holds the whole exported tree (the shim checks it
    # is exactly one); pyarrow may already have released a tree with no
    # buffers to keep.
    assert lib.wudf_test_live_allocations() <= before + 1
    try:
        result.validate(full=True)
        assert result.type == t
        assert result_field.name == (name if name is not None else field.name)
        assert result_field.metadata == field.metadata
        assert result_field.nullable == field.nullable
        parts = expected_parts(t, sources, segments)
        assert len(result) == sum(count for _, _, count in segments)
        assert result.null_count == sum(part.null_count for part in parts)
        expected_list = [row for part in parts for row in part.to_pylist()]
        assert result.to_pylist() == expected_list
        if not has_dictionary(t):
            expected = pa.concat_arrays(parts) if parts else pa.nulls(0, t)
            assert result.equals(expected), (result, expected)
        elif pa.types.is_dictionary(t):
            # The dictionary is the distinct source dictionaries, whole, in
            # first-use order; decoded, the rows are the slices' rows.
            used = []
            for source, start, count in segments:
                if source >= 0 and count > 0 and source not in used:
                    used.append(source)
            dictionaries = [sources[s].dictionary for s in used]
            assert result.dictionary.to_pylist() == [
                value for dictionary in dictionaries for value in dictionary.to_pylist()]
            if not has_dictionary(t.value_type):  # pyarrow cannot concatenate those
                expected_dictionary = (pa.concat_arrays(dictionaries) if dictionaries
                                       else pa.nulls(0, t.value_type))
                assert result.dictionary.equals(expected_dictionary)
            # (pyarrow has no take kernel for view types: no decoding there.)
            decodable = not (has_dictionary(t.value_type) or pa.types.is_binary_view(t.value_type)
                             or pa.types.is_string_view(t.value_type))
            if parts and decodable:
                decoded = pa.concat_arrays([part.dictionary_decode() for part in parts])
                assert result.dictionary_decode().equals(decoded)
            if len(used) == 1 and all(source >= 0 for source, _, _ in segments):
                # One source: its indices as they are, its dictionary.
                indices = pa.concat_arrays([part.indices for part in parts])
                expected = pa.DictionaryArray.from_arrays(indices, sources[used[0]].dictionary)
                assert result.equals(expected)
    finally:
        del result
        gc.collect()
    # Releasing the imported array freed the block.
    assert lib.wudf_test_live_allocations() == before


def type_id(t):
    return str(t).replace(" ", "")[:80]


@pytest.mark.parametrize("mode", ["host", "guest"])
@pytest.mark.parametrize("t", TYPES, ids=type_id)
def test_random_segments(shim, t, mode):
    for seed in range(4):
        rng = random.Random(hash((str(t), seed)) & 0xffffffff)
        a = gen(t, rng.randint(0, 30), rng)
        b = gen(t, rng.randint(1, 20), rng)
        sources = [a, b]
        segments = random_segments(rng, [len(a), len(b)])
        check(shim, t, sources, segments, mode, at=8 * rng.randint(0, 20))


@pytest.mark.parametrize("mode", ["host", "guest"])
@pytest.mark.parametrize("t", TYPES, ids=type_id)
def test_fixed_shapes(shim, t, mode):
    rng = random.Random(len(str(t)))
    a = gen(t, 25, rng)
    b = gen(t, 9, rng)
    shapes = [
        [(0, 0, 25)],                         # one whole (sliced) array
        [(0, 3, 11)],                         # one slice
        [],                                   # no segments: length 0
        [(0, 4, 0), (1, 9, 0), (-1, 0, 0)],   # only empty segments
        [(-1, 0, 5)],                         # only nulls
        [(0, 2, 3), (0, 5, 4), (0, 9, 1)],    # adjacent runs of one array
        [(1, 0, 9), (-1, 0, 2), (0, 20, 5), (1, 1, 3), (0, 0, 1)],
        [(0, 7, 1)] * 3,                      # the same row three times
    ]
    for segments in shapes:
        check(shim, t, [a, b], segments, mode)


def test_root_rename_and_flags(shim):
    t = pa.struct([pa.field("inner", pa.int32(), nullable=False, metadata={b"m": b"1"})])
    rng = random.Random(5)
    a = gen(t, 10, rng)
    field = pa.field("source", t, nullable=False, metadata={b"a": b"b"})
    for mode in ["host", "guest"]:
        check(shim, t, [a], [(0, 2, 5)], mode, name="renamed", source_field=field)
        check(shim, t, [a], [(0, 2, 5)], mode, name=None, source_field=field)
        check(shim, t, [a], [(0, 0, 10)], mode, name="", source_field=field)
    # The child field keeps its name, flags and metadata.
    status, message, result_field, result = gather(shim, field, [a], [(0, 0, 10)])
    assert status == 0, message
    inner = result_field.type.field(0)
    assert inner.name == "inner" and not inner.nullable and inner.metadata == {b"m": b"1"}


def test_guest_long_rename_is_cut(shim):
    t = pa.int32()
    a = pa.array([1, 2, 3], t)
    long_name = "n" * 100
    status, message, result_field, result = gather(shim, pa.field("x", t), [a], [(0, 0, 3)],
                                                   mode="guest", name=long_name)
    assert status == 0, message
    assert result_field.name == "n" * 64
    status, message, result_field, result = gather(shim, pa.field("x", t), [a], [(0, 0, 3)],
                                                   mode="host", name=long_name)
    assert result_field.name == long_name


@pytest.mark.parametrize("mode", ["host", "guest"])
def test_guest_alignment_any_at(shim, mode):
    rng = random.Random(11)
    t = pa.struct(fields(("a", pa.decimal128(30, 2)), ("b", pa.string_view())))
    a = gen(t, 20, rng)
    for at in [0, 8, 16, 56, 64, 72, 4096 + 24]:
        check(shim, t, [a], [(0, 1, 17), (-1, 0, 2)], mode, at=at)


def test_dictionary_index_overflow(shim):
    """Two dictionaries of 100 values: concatenated when the index type holds
    200 values; unified (equal values once) when it does not but the
    distinct values fit; EOVERFLOW only when even those do not fit."""
    values = pa.array([f"v{i}" for i in range(100)])
    others = pa.array([f"v{i}" for i in range(100, 200)])
    for index_type, second, expected, size in [
            (pa.int8(), values, 0, 100), (pa.int8(), values.slice(50).cast(pa.large_string())
                                          .cast(pa.string()), 0, 100),
            (pa.int8(), others, EOVERFLOW, 0), (pa.uint8(), values, 0, 200),
            (pa.int16(), others, 0, 200)]:
        t = pa.dictionary(index_type, pa.string())
        a = pa.DictionaryArray.from_arrays(pa.array([99, 0], index_type), values)
        b = pa.DictionaryArray.from_arrays(pa.array([1, 48], index_type), second)
        status, message, _, result = gather(shim, pa.field("d", t), [a, b],
                                            [(0, 0, 2), (1, 0, 2)])
        assert status == expected, message
        if expected == 0:
            result.validate(full=True)
            assert result.to_pylist() == ["v99", "v0"] + b.to_pylist()
            assert len(result.dictionary) == size
        else:
            assert "distinct values are too many for 8-bit signed indices" in message
    # The same values exported twice, and one dictionary used twice.
    t = pa.dictionary(pa.int8(), pa.string())
    a = pa.DictionaryArray.from_arrays(pa.array([99, 0], pa.int8()), values)
    status, message, _, result = gather(shim, pa.field("d", t), [a, a], [(0, 0, 2), (1, 1, 1)])
    assert status == 0, message  # two exported arrays' equal dictionaries: unified
    assert result.to_pylist() == ["v99", "v0", "v0"] and len(result.dictionary) == 100
    status, message, _, result = gather(shim, pa.field("d", t), [a], [(0, 0, 2), (0, 1, 1)])
    assert status == 0, message
    assert result.to_pylist() == ["v99", "v0", "v0"] and len(result.dictionary) == 100


def test_run_end_overflow(shim):
    t = pa.run_end_encoded(pa.int16(), pa.int32())
    a = pa.RunEndEncodedArray.from_arrays(pa.array([20000], pa.int16()), pa.array([7]), type=t)
    status, message, _, result = gather(shim, pa.field("r", t), [a], [(0, 0, 20000), (0, 0, 12767)])
    assert status == 0, message
    assert len(result) == 32767 and result.to_pylist() == [7] * 32767
    del result
    status, message, _, _ = gather(shim, pa.field("r", t), [a], [(0, 0, 20000), (0, 0, 12768)])
    assert status == EOVERFLOW and "run ends" in message, message


def test_segment_outside_array(shim):
    a = pa.array([1, 2, 3], pa.int32())
    for segment in [(0, 2, 2), (0, -1, 1), (0, 0, -1), (0, 4, 0)]:
        status, message, _, _ = gather(shim, pa.field("x", pa.int32()), [a], [segment])
        assert status == EINVAL, segment
    # Nested: a list source whose rows are fine.
    t = pa.list_(pa.int32())
    lists = pa.array([[1], [2, 3]], t)
    status, message, _, result = gather(shim, pa.field("l", t), [lists], [(0, 1, 1)])
    assert status == 0 and result.to_pylist() == [[2, 3]]


def test_views_compacted(shim):
    """Views point into one data buffer holding only the out-of-line rows."""
    strings = ["short", "x" * 13, None, "y" * 40, "inline12byte", "z" * 20]
    parts = [pa.array(strings[i:i + 2], pa.string_view()) for i in range(0, 6, 2)]
    source = pa.concat_arrays(parts)
    assert len(source.buffers()) > 4  # several variadic buffers
    for segments, data_bytes in [([(0, 0, 6)], 13 + 40 + 20), ([(0, 3, 2)], 40),
                                 ([(0, 0, 1), (0, 4, 1)], None)]:
        status, message, _, result = gather(shim, pa.field("v", pa.string_view()), [source],
                                            segments)
        assert status == 0, message
        buffers = result.buffers()
        if data_bytes is None:
            assert len(buffers) == 2  # validity, views: no data buffer at all
        else:
            assert len(buffers) == 3 and buffers[2].size == data_bytes
        result.validate(full=True)
