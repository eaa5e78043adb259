"""
test_types_oracle.py -- every Arrow type across the guest boundary, with
pyarrow as the oracle (issue 4).

The guest is tests/udf_guests/alltypes.c, written with the C guest SDK. For
every type pyarrow builds arrays with nulls, slices (offsets at the top and,
for nested types, inside: children that are slices themselves) and nesting;
they go through

  - id_NAME, which moves its argument into the result: the result, validated
    fully, must equal the input;
  - the transforms, which read every value with the SDK's accessors and
    build the result with its builders: the expected values are computed
    here by pyarrow, pyarrow.compute or plain Python from the input, never
    from the guest's output;
  - calls split into chunks of 7 rows (the host concatenates the results;
    dictionaries of several chunks may be concatenated, so those are
    compared decoded);
  - batch functions with columns of many types.

pyarrow has no Python array class for interval(months) and
interval(day_time): those columns cross the boundary as int32 / int64 arrays
exported under the interval's format string, and come back imported as the
same integers (their format string is checked).

Run by ctest with $WUDF_LIBRARY (libwasmudf.so) and $WUDF_TEST_MODULES set.
"""
import datetime
import decimal
import math
import struct

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from wudf_ctypes import Module, lib

N = 61  # rows of the samples

# Decimals of up to 76 digits, computed exactly (the default context rounds
# to 28 digits).
decimal.getcontext().prec = 100


@pytest.fixture(scope="module")
def guest():
    module = Module("alltypes")
    yield module
    module.close()


# --------------------------------------------------------------- samples


def with_nulls(values, every=7, phase=3):
    """values with None at every `every`-th row (from `phase`)."""
    return [None if i % every == phase else v for i, v in enumerate(values)]


def shapes(array):
    """The array whole and sliced: at an offset that is not a multiple of 8,
    at one that is, one row, and no rows."""
    yield array
    yield array.slice(5, len(array) - 9)
    yield array.slice(16, 20)
    yield array.slice(len(array) - 1, 1)
    yield array.slice(4, 0)


def spread(i, low, high):
    """A deterministic value in [low, high] for row i, extremes included."""
    if i % 11 == 0:
        return [low, high, 0 if low <= 0 <= high else low][(i // 11) % 3]
    return low + (i * 7919 * 104729) % (high - low + 1)


INTEGERS = {"int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
            "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(),
            "uint64": pa.uint64()}


def integer_range(arrow_type):
    bits = arrow_type.bit_width
    if pa.types.is_unsigned_integer(arrow_type):
        return 0, 2**bits - 1
    return -2**(bits - 1), 2**(bits - 1) - 1


def integers(arrow_type, low=None, high=None, every=7):
    type_low, type_high = integer_range(arrow_type) if pa.types.is_integer(arrow_type) \
        else (-2**62, 2**62)
    low = type_low if low is None else low
    high = type_high if high is None else high
    return with_nulls([spread(i, low, high) for i in range(N)], every)


FLOAT16_VALUES = [0.5, -2.0, 65504.0, -65504.0, float("inf"), float("-inf"), -0.0, 2**-24,
                  6.1e-5, 1.0009765625, 32768.0, 3.140625]


def floats(name):
    if name == "float16":
        values = [FLOAT16_VALUES[i % len(FLOAT16_VALUES)] * (1 if i < 20 else 0.25)
                  for i in range(N)]
    elif name == "float32":
        values = [[float("inf"), -0.0, 1e-30, 3.4e38][i % 4] if i % 13 == 0
                  else struct.unpack("<f", struct.pack("<f", i * 1.25 - 40.1))[0]
                  for i in range(N)]
    else:
        values = [[float("inf"), -0.0, 1e-300, 1.7e308][i % 4] if i % 13 == 0
                  else i * 1.25 - 40.1 for i in range(N)]
    return with_nulls(values)


DECIMALS = {"decimal32": (pa.decimal32, 9, 2), "decimal64": (pa.decimal64, 18, 3),
            "decimal128": (pa.decimal128, 38, 10), "decimal256": (pa.decimal256, 76, 20)}


def decimal_unscaled(precision):
    top = 10**precision - 1
    return with_nulls([spread(i, -top, top) for i in range(N)])


def decimal_array(name, unscaled):
    factory, precision, scale = DECIMALS[name]
    values = [None if u is None else decimal.Decimal(u).scaleb(-scale) for u in unscaled]
    return pa.array(values, factory(precision, scale))


def texts(utf8, every=7):
    """Short (inline in views) and long values, empty ones, non-ASCII ones."""
    words = ["", "a", "wasm", "exactly12byt", "thirteen byte", "é∑z", "a longer value, past 12",
             "Mixed Case Words", "ü"]
    values = [words[i % len(words)] + ("x" * (i % 5) if i % 3 == 0 else "") for i in range(N)]
    values = with_nulls(values, every)
    return values if utf8 else [None if v is None else v.encode() for v in values]


def views_over_buffers(values, arrow_type, buffer_count=3):
    """A utf8_view or binary_view array whose long values are spread over
    `buffer_count` variadic data buffers (pyarrow's builders make one)."""
    data = [bytearray() for _ in range(buffer_count)]
    views, validity = bytearray(), bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is None:
            views += bytes(16)
            continue
        validity[i // 8] |= 1 << (i % 8)
        raw = value.encode() if isinstance(value, str) else value
        if len(raw) <= 12:
            views += struct.pack("<i", len(raw)) + raw.ljust(12, b"\0")
        else:
            k = i % buffer_count
            views += struct.pack("<i", len(raw)) + raw[:4] + struct.pack("<ii", k, len(data[k]))
            data[k] += raw
    buffers = [pa.py_buffer(bytes(validity)), pa.py_buffer(bytes(views))]
    buffers += [pa.py_buffer(bytes(d)) for d in data]
    array = pa.Array.from_buffers(arrow_type, len(values), buffers,
                                  null_count=sum(v is None for v in values))
    array.validate(full=True)
    return array


def int_lists(every=5, item_every=6):
    lists = []
    for i in range(N):
        items = [None if (i + k) % item_every == 1 else (i * 31 + k * 7) % 2000 - 1000
                 for k in range(i % 5)]
        lists.append(items)
    return with_nulls(lists, every)


def string_lists():
    lists = []
    for i in range(N):
        lists.append([None if (i + k) % 4 == 2 else f"w{i}-{k}" + "z" * (k * 5)
                      for k in range(i % 4)])
    return with_nulls(lists, 6)


def sliced_child_list(factory, lists, item_type, lead=3):
    """A list array of `factory` (ListArray, LargeListArray) whose values
    array is itself a slice (offset `lead`)."""
    flat = [None] * lead + [item for items in lists if items is not None for item in items]
    child = pa.array(flat, item_type).slice(lead)
    offsets, at = [0], 0
    for items in lists:
        at += len(items) if items is not None else 0
        offsets.append(at)
    offset_type = pa.int64() if factory is pa.LargeListArray else pa.int32()
    return factory.from_arrays(pa.array(offsets, offset_type), child,
                               mask=pa.array([items is None for items in lists]))


def list_view_out_of_order(lists, item_type, large=False):
    """A list view whose rows point into its values backwards and share
    nothing, over a sliced values array."""
    flat, offsets, sizes = [None, None], [], []
    starts = []
    for items in reversed(lists):
        starts.append(len(flat) - 2)
        flat.extend(items or [])
    starts.reverse()
    for items, start in zip(lists, starts):
        offsets.append(start)
        sizes.append(len(items) if items is not None else 0)
    child = pa.array(flat, item_type).slice(2)
    index_type = pa.int64() if large else pa.int32()
    factory = pa.LargeListViewArray if large else pa.ListViewArray
    return factory.from_arrays(pa.array(offsets, index_type), pa.array(sizes, index_type), child,
                               mask=pa.array([items is None for items in lists]))


def struct_sample():
    a = pa.array(integers(pa.int32(), -1000, 1000, every=5), pa.int32())
    b = pa.array(texts(True, every=4))
    c = pa.array(with_nulls([[k * 0.5 for k in range(i % 3)] for i in range(N)], 6),
                 pa.list_(pa.float64()))
    mask = pa.array([i % 9 == 2 for i in range(N)])
    return a, b, c, mask


STRUCT_TYPE = pa.struct([("a", pa.int32()), ("b", pa.utf8()), ("c", pa.list_(pa.float64()))])


def struct_array(sliced_children=False):
    a, b, c, mask = struct_sample()
    if sliced_children:
        lead = 3
        a = pa.concat_arrays([pa.array([7] * lead, pa.int32()), a]).slice(lead)
        b = pa.concat_arrays([pa.array(["junk"] * lead), b]).slice(lead)
        c = pa.concat_arrays([pa.array([[1.0]] * lead, c.type), c]).slice(lead)
    return pa.StructArray.from_arrays([a, b, c], fields=list(STRUCT_TYPE), mask=mask)


def map_entries():
    rows = []
    for i in range(N):
        rows.append([(f"k{i}-{k}", None if (i + k) % 5 == 0 else i * 10 + k)
                     for k in range(i % 4)])
    return with_nulls(rows, 8)


def map_array(sliced_children=False):
    rows = map_entries()
    lead = 2 if sliced_children else 0
    keys = ["junk"] * lead + [k for row in rows if row is not None for k, _ in row]
    items = [0] * lead + [v for row in rows if row is not None for _, v in row]
    offsets, at = [0], 0
    for row in rows:
        at += len(row) if row is not None else 0
        offsets.append(at)
    return pa.MapArray.from_arrays(pa.array(offsets, pa.int32()),
                                   pa.array(keys).slice(lead),
                                   pa.array(items, pa.int32()).slice(lead),
                                   mask=pa.array([row is None for row in rows]))


def sparse_union(lead=0):
    type_ids = [(i * 5) % 3 % 2 for i in range(N + lead)]
    ints = pa.array(with_nulls([i * 3 - 50 for i in range(N + lead)], 5), pa.int32())
    strs = pa.array(with_nulls([f"s{i}" for i in range(N + lead)], 4))
    union = pa.UnionArray.from_sparse(pa.array(type_ids, pa.int8()), [ints, strs], ["i", "s"])
    return union.slice(lead) if lead else union


def dense_union(lead=0, fields=3):
    """A dense union of i: int32, s: utf8 (and f: float64 with fields=3)
    whose children start with a row no union row points at."""
    type_ids, offsets, counts = [], [], [0] * fields
    for i in range(N + lead):
        t = (i * 7) % 3 % fields
        type_ids.append(t)
        offsets.append(counts[t] + 1)
        counts[t] += 1
    children = [pa.array([0] + with_nulls([k * 11 - 300 for k in range(counts[0])], 4),
                         pa.int32()),
                pa.array(["unused"] + with_nulls(["t" * (k % 6) for k in range(counts[1])], 5))]
    if fields == 3:
        children.append(pa.array([0.0] + with_nulls([k * 0.25 - 3 for k in range(counts[2])],
                                                     3)))
    union = pa.UnionArray.from_dense(pa.array(type_ids, pa.int8()), pa.array(offsets, pa.int32()),
                                     children, ["i", "s", "f"][:fields])
    return union.slice(lead) if lead else union


def dictionary(index_type, values, ordered=False, lead=0, every=7):
    size = len(values)
    indices = with_nulls([(i * 5 + 1) % size for i in range(N + lead)], every)
    array = pa.DictionaryArray.from_arrays(pa.array(indices, index_type), values,
                                           ordered=ordered)
    return array.slice(lead) if lead else array


def dict_values_utf8():
    return pa.array(["red", "green", None, "blue", "a long colour name", "é"])


def nested_dictionary():
    inner = pa.DictionaryArray.from_arrays(
        pa.array(with_nulls([i % 3 for i in range(40)], 6), pa.int8()),
        pa.array(["x", "yy", "zzz"]))
    lists = pa.ListArray.from_arrays(pa.array([0, 2, 2, 5, 9, 12, 20, 40], pa.int32()), inner,
                                     mask=pa.array([False, False, True, False, False, False,
                                                    False]))
    return pa.DictionaryArray.from_arrays(
        pa.array(with_nulls([(i * 3) % 7 for i in range(N)], 9), pa.int16()), lists)


def dictionary_of_dictionary():
    inner = pa.DictionaryArray.from_arrays(pa.array([2, 0, None, 1, 1], pa.int8()),
                                           pa.array(["p", "q", "r"]))
    return pa.DictionaryArray.from_arrays(
        pa.array(with_nulls([(i * 2) % 5 for i in range(N)], 8), pa.int8()), inner)


def run_end_encoded(run_end_type, value_type, values):
    return pc.run_end_encode(pa.array(values, value_type), run_end_type=run_end_type)


def run_values(i_values):
    """Runs of equal values (and of nulls) of various lengths."""
    out = []
    for run in range(30):
        value = None if run % 6 == 4 else i_values(run)
        out.extend([value] * (1 + run % 4))
    return out[:N]


def ree_with_sliced_children(run_end_type):
    runs = pa.array([2, 5, 6, 10, 20, 30, 45, 61, 70], run_end_type)
    values = pa.array([0, 1, None, 3, -4, 5, None, 7, 8, 9], pa.int64())
    return pa.RunEndEncodedArray.from_arrays(runs.slice(1), values.slice(1)).slice(1, 55)


def interval_months():
    """interval(months) values as int32 (the layout of the type)."""
    return pa.array(integers(pa.int32(), -100000, 100000), pa.int32())


def interval_day_time_pairs():
    return with_nulls([(spread(i, -10**6, 10**6), spread(i * 3, -86400000, 86400000))
                       for i in range(N)])


def day_time_as_int64(pairs):
    """interval(day_time) values as int64: days in the low 32 bits, ms above."""
    return pa.array([None if p is None else
                     struct.unpack("<q", struct.pack("<ii", p[0], p[1]))[0] for p in pairs],
                    pa.int64())


def month_day_nano():
    return pa.array(with_nulls([pa.MonthDayNano([spread(i, -1000, 1000), i - 30,
                                                 spread(i, -2**62, 2**62)])
                                for i in range(N)]), pa.month_day_nano_interval())


# The identity cases: function suffix -> a list of arrays (of one type).
def identity_cases():
    cases = {"null": [pa.nulls(N), pa.nulls(N).slice(3, 10)],
             "bool": [pa.array(with_nulls([i % 3 == 0 for i in range(N)]))]}
    for name, arrow_type in INTEGERS.items():
        cases[name] = [pa.array(integers(arrow_type), arrow_type)]
    for name, arrow_type in {"float16": pa.float16(), "float32": pa.float32(),
                             "float64": pa.float64()}.items():
        cases[name] = [pa.array(floats(name), arrow_type)]
    for name, (_, precision, _) in DECIMALS.items():
        cases[name] = [decimal_array(name, decimal_unscaled(precision))]
    cases["date32"] = [pa.array(integers(pa.int32(), -700000, 2900000), pa.int32())
                       .cast(pa.date32())]
    cases["date64"] = [pa.array([None if d is None else d * 86400000
                                 for d in integers(pa.int32(), -700000, 2900000)],
                                pa.int64()).cast(pa.date64())]
    for unit, bits, top in (("s", 32, 86399), ("ms", 32, 86399999), ("us", 64, 86399999999),
                            ("ns", 64, 86399999999999)):
        factory = pa.time32 if bits == 32 else pa.time64
        cases[f"time{bits}_{unit}"] = [pa.array(integers(pa.int64(), 0, top - 1), factory(unit))]
    for unit in ("s", "ms", "us", "ns"):
        cases[f"ts_{unit}"] = [pa.array(integers(pa.int64(), -2**62, 2**62), pa.timestamp(unit))]
        cases[f"dur_{unit}"] = [pa.array(integers(pa.int64(), -2**62, 2**62), pa.duration(unit))]
    cases["ts_us_utc"] = [pa.array(integers(pa.int64(), -2**62, 2**62),
                                   pa.timestamp("us", "UTC"))]
    cases["ts_ns_paris"] = [pa.array(integers(pa.int64(), -2**62, 2**62),
                                     pa.timestamp("ns", "Europe/Paris"))]
    cases["ts_ms_offset"] = [pa.array(integers(pa.int64(), -2**62, 2**62),
                                      pa.timestamp("ms", "+05:30"))]
    cases["interval_mdn"] = [month_day_nano()]
    cases["fsb"] = [pa.array(with_nulls([bytes([(i * 7 + k) % 256 for k in range(5)])
                                         for i in range(N)]), pa.binary(5))]
    for name, arrow_type, utf8 in (("utf8", pa.utf8(), True), ("large_utf8", pa.large_utf8(), True),
                                   ("utf8_view", pa.string_view(), True),
                                   ("binary", pa.binary(), False),
                                   ("large_binary", pa.large_binary(), False),
                                   ("binary_view", pa.binary_view(), False)):
        cases[name] = [pa.array(texts(utf8), arrow_type)]
        if name.endswith("_view"):
            cases[name].append(views_over_buffers(texts(utf8), arrow_type))
    lists = int_lists()
    cases["list_int32"] = [pa.array(lists, pa.list_(pa.int32())),
                           sliced_child_list(pa.ListArray, lists, pa.int32()),
                           sliced_child_list(pa.ListArray, lists, pa.int32()).slice(7, 30)]
    strings = string_lists()
    cases["large_list_utf8"] = [pa.array(strings, pa.large_list(pa.utf8())),
                                sliced_child_list(pa.LargeListArray, strings, pa.utf8())]
    triples = with_nulls([[None if (i + k) % 5 == 0 else i * 3 + k - 90 for k in range(3)]
                          for i in range(N)], 6)
    flat = [v for t in triples for v in (t or [0, 0, 0])]
    cases["fsl_int16"] = [pa.array(triples, pa.list_(pa.int16(), 3)),
                          pa.FixedSizeListArray.from_arrays(
                              pa.array([9, 9, 9] + flat, pa.int16()).slice(3), 3,
                              mask=pa.array([t is None for t in triples])).slice(2, 50)]
    cases["list_view_int32"] = [pa.array(lists, pa.list_view(pa.int32())),
                                list_view_out_of_order(lists, pa.int32()).slice(3, 40)]
    cases["large_list_view_utf8"] = [pa.array(strings, pa.large_list_view(pa.utf8())),
                                     list_view_out_of_order(strings, pa.utf8(), large=True)]
    nested_lists = with_nulls([with_nulls([[i * k + j for j in range(k % 3)] for k in range(i % 4)],
                                          3, 1) for i in range(N)], 5)
    cases["list_list_int64"] = [pa.array(nested_lists, pa.list_(pa.list_(pa.int64())))]
    cases["list_struct"] = [list_of_structs(), list_of_structs().slice(5, 40)]
    cases["struct"] = [struct_array(), struct_array(sliced_children=True),
                       struct_array(sliced_children=True).slice(3, 41)]
    inner = pa.StructArray.from_arrays(
        [pa.array(integers(pa.int8(), every=4), pa.int8()),
         pa.array(with_nulls([i % 2 == 0 for i in range(N)], 5))],
        names=["x", "y"], mask=pa.array([i % 6 == 1 for i in range(N)]))
    small_map = pa.array(with_nulls([[(k, f"v{k}" * (k % 3)) for k in range(i % 3)]
                                     for i in range(N)], 7), pa.map_(pa.int32(), pa.utf8()))
    nested_struct = pa.StructArray.from_arrays([inner.slice(0), small_map], names=["s", "m"],
                                               mask=pa.array([i % 10 == 9 for i in range(N)]))
    cases["struct_nested"] = [nested_struct, nested_struct.slice(9, 30)]
    cases["struct_empty"] = [pa.array(with_nulls([{}] * N), pa.struct([]))]
    cases["map"] = [map_array(), map_array(sliced_children=True),
                    map_array(sliced_children=True).slice(6, 33)]
    cases["map_nested"] = [pa.array(with_nulls([[(k * 100 + i, [f"{k}"] * k) for k in range(i % 3)]
                                                for i in range(N)], 9),
                                    pa.map_(pa.int64(), pa.list_(pa.utf8())))]
    cases["sparse_union"] = [sparse_union(), sparse_union(lead=5), sparse_union().slice(9, 30)]
    cases["dense_union"] = [dense_union(), dense_union(lead=3), dense_union().slice(10, 31)]
    struct_union = pa.StructArray.from_arrays(
        [sparse_union(), pa.array(integers(pa.int64()), pa.int64())], names=["u", "n"],
        mask=pa.array([i % 8 == 5 for i in range(N)]))
    cases["struct_union"] = [struct_union, struct_union.slice(3, 44)]
    union_lists = pa.ListArray.from_arrays(
        pa.array([min(N, (i * 3) // 2) for i in range(41)], pa.int32()),
        dense_union(lead=2, fields=2),
        mask=pa.array([i % 9 == 4 for i in range(40)]))
    cases["list_dense_union"] = [union_lists, union_lists.slice(4, 30)]
    cases["dict_int8_utf8"] = [dictionary(pa.int8(), dict_values_utf8()),
                               dictionary(pa.int8(), dict_values_utf8(), lead=5),
                               dictionary(pa.int8(), dict_values_utf8().slice(1))]
    cases["dict_uint64_utf8"] = [dictionary(pa.uint64(), dict_values_utf8(), lead=1)]
    cases["dict_uint32_int64"] = [dictionary(pa.uint32(),
                                             pa.array([5, None, -7, 2**40, 0], pa.int64()))]
    cases["dict_int64_large_utf8"] = [dictionary(pa.int64(),
                                                 pa.array(["a", "b", "c"], pa.large_utf8()),
                                                 ordered=True, lead=2)]
    cases["dict_uint8_binary_view"] = [dictionary(pa.uint8(),
                                                  pa.array([b"short", b"a value past twelve",
                                                            b""], pa.binary_view()))]
    cases["dict_nested"] = [nested_dictionary(), nested_dictionary().slice(3, 30)]
    cases["dict_dict"] = [dictionary_of_dictionary()]
    struct_dict = pa.StructArray.from_arrays(
        [dictionary(pa.int32(), dict_values_utf8())], names=["d"],
        mask=pa.array([i % 7 == 6 for i in range(N)]))
    cases["struct_dict"] = [struct_dict, struct_dict.slice(2, 50)]
    deep = [None if i % 5 == 2 else deep_value(i) if i % 3 else deep_value(None, 30 - i % 30)
            for i in range(N)]
    cases["deep"] = [pa.array(deep, deep_type())]
    ree_ints = run_values(lambda run: run * 1000 - 7)
    cases["ree_int32_int64"] = [run_end_encoded(pa.int32(), pa.int64(), ree_ints),
                                ree_with_sliced_children(pa.int32())]
    cases["ree_int16_utf8"] = [run_end_encoded(pa.int16(), pa.utf8(),
                                               run_values(lambda run: f"run {run}" * (run % 3)))]
    cases["ree_int64_float64"] = [run_end_encoded(pa.int64(), pa.float64(),
                                                  run_values(lambda run: run * 0.5))]
    return cases


def deep_type(levels=31):
    arrow_type = pa.int32()
    for _ in range(levels):
        arrow_type = pa.list_(arrow_type)
    return arrow_type


def deep_value(value, levels=31):
    for _ in range(levels):
        value = [value]
    return value


def list_of_structs():
    x = pa.array(integers(pa.int32(), -500, 500, every=6)[:50], pa.int32())
    y = pa.array(integers(pa.int32(), -500, 500, every=4)[:50], pa.int32())
    items = pa.StructArray.from_arrays([x, y], names=["x", "y"],
                                       mask=pa.array([k % 9 == 8 for k in range(50)]))
    offsets = [min(50, (i * 5) // 6) for i in range(N + 1)]
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items.slice(0),
                                    mask=pa.array([i % 10 == 3 for i in range(N)]))


CASES = identity_cases()


# ------------------------------------------------------------ identities


@pytest.mark.parametrize("name", sorted(CASES))
def test_identity_returns_the_argument(guest, name):
    for base in CASES[name]:
        for array in shapes(base):
            result = guest.call(f"id_{name}", array)
            assert result.type == array.type, (name, result.type, array.type)
            assert result.equals(array), (name, array.offset, array.to_pylist(),
                                          result.to_pylist())


def decoded(array):
    """A dictionary (or run-end encoded) array as plain values, recursively."""
    return array.to_pylist()


@pytest.mark.parametrize("name", sorted(CASES))
def test_identity_in_chunks_of_7_rows(guest, name):
    for base in CASES[name]:
        array = base.slice(1, len(base) - 2)
        result = guest.call(f"id_{name}", array, max_rows=7)
        assert result.type == array.type
        if "dict" in name or "ree" in name:
            # Chunks may concatenate dictionaries and cut runs.
            assert decoded(result) == decoded(array), name
        else:
            assert result.equals(array), (name, array.to_pylist(), result.to_pylist())


@pytest.mark.parametrize("name,format,int_type,values", [
    ("interval_months", "tiM", pa.int32(), interval_months()),
    ("interval_day_time", "tiD", pa.int64(), day_time_as_int64(interval_day_time_pairs())),
])
def test_identity_of_intervals_without_a_pyarrow_array_class(guest, name, format, int_type,
                                                              values):
    for array in shapes(values):
        for max_rows in (None, 7):
            result = guest.call(f"id_{name}", array, formats=[format], result_type=int_type,
                                max_rows=max_rows)
            assert guest.last_format == format
            assert result.equals(array)


# ------------------------------------------------------------ transforms


def strict(function, array):
    """Applies `function` to every non-null value; None stays None."""
    return [None if v is None else function(v) for v in array.to_pylist()]


def wrap(value, arrow_type):
    low, high = integer_range(arrow_type)
    return (value - low) % (high - low + 1) + low


@pytest.mark.parametrize("name", list(INTEGERS))
def test_integers_plus_one_wrap(guest, name):
    arrow_type = INTEGERS[name]
    for array in shapes(CASES[name][0]):
        expected = pa.array(strict(lambda v: wrap(v + 1, arrow_type), array), arrow_type)
        assert guest.call(f"inc_{name}", array).equals(expected), name


def half(value):
    """The float16 nearest to a float (overflow to infinity)."""
    try:
        return struct.unpack("<e", struct.pack("<e", value))[0]
    except OverflowError:
        return math.copysign(float("inf"), value)


def single(value):
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(float("inf"), value)


@pytest.mark.parametrize("name,round_to", [("float16", half), ("float32", single),
                                            ("float64", float)])
def test_floats_times_two(guest, name, round_to):
    for array in shapes(CASES[name][0]):
        result = guest.call(f"dbl_{name}", array)
        assert result.type == array.type
        expected = strict(lambda v: round_to(v * 2), array)
        assert result.to_pylist() == expected, name
        signs = [None if v is None else math.copysign(1, v) for v in expected]
        assert [None if v is None else math.copysign(1, v) for v in result.to_pylist()] == signs


def test_bool_not_and_null_flags(guest):
    for array in shapes(CASES["bool"][0]):
        assert guest.call("not_bool", array).equals(pc.invert(array))
    for array in shapes(pa.nulls(N)):
        assert guest.call("null_flags", array).equals(pa.array([1] * len(array), pa.int64()))


@pytest.mark.parametrize("name", list(DECIMALS))
def test_decimals_negated(guest, name):
    for array in shapes(CASES[name][0]):
        result = guest.call(f"neg_{name}", array)
        assert result.type == array.type
        assert result.equals(pa.array(strict(lambda v: v.copy_negate(), array), array.type)), name


def decimal_text(unscaled, scale):
    """The decimal text of an unscaled integer (e.g. -12345, 2 -> "-123.45")."""
    sign, digits = ("-" if unscaled < 0 else ""), str(abs(unscaled))
    if scale <= 0:
        return sign + digits + "0" * -scale
    digits = digits.rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


@pytest.mark.parametrize("name", ["decimal128", "decimal256"])
def test_decimals_formatted(guest, name):
    _, precision, scale = DECIMALS[name]
    unscaled = decimal_unscaled(precision)
    array = decimal_array(name, unscaled)
    expected = pa.array([None if u is None else decimal_text(u, scale) for u in unscaled])
    assert guest.call(f"fmt_{name}", array).equals(expected)
    assert guest.call(f"fmt_{name}", array.slice(7, 20)).equals(expected.slice(7, 20))


def test_decimals_from_int64(guest):
    array = pa.array(integers(pa.int64()), pa.int64())
    for shape in shapes(array):
        expected = []
        for x in shape.to_pylist():
            if x is None or x > 2**63 // 100 - 2 or x < -2**63 // 100 + 2:
                expected.append(None)
                continue
            unscaled = x * 100 + (-5 if x < 0 else 5)
            value = decimal.Decimal(unscaled).scaleb(-2)
            expected.append({"d128": value, "d256": value, "back": unscaled})
        result = guest.call("dec_from_int", shape)
        assert result.type == pa.struct([("d128", pa.decimal128(22, 2)),
                                         ("d256", pa.decimal256(40, 2)), ("back", pa.int64())])
        assert result.to_pylist() == expected


def test_temporal_plus_one(guest):
    checks = [("next_day_date32", "date32", 1), ("next_day_date64", "date64", 86400000),
              ("inc_time32_s", "time32_s", 1), ("inc_time32_ms", "time32_ms", 1),
              ("inc_time64_us", "time64_us", 1), ("inc_time64_ns", "time64_ns", 1),
              ("inc_ts_s", "ts_s", 1), ("inc_ts_us_utc", "ts_us_utc", 1),
              ("inc_ts_ns_paris", "ts_ns_paris", 1),
              ("inc_dur_s", "dur_s", 1), ("inc_dur_ns", "dur_ns", 1)]
    for function, case, delta in checks:
        for array in shapes(CASES[case][0]):
            storage = pa.int32() if array.type.bit_width == 32 else pa.int64()
            ints = array.view(storage)
            expected = pa.array(strict(lambda v: v + delta, ints), storage).view(array.type)
            result = guest.call(function, array)
            assert result.type == array.type, function
            assert result.equals(expected), (function, array, result)


def test_timestamp_zone_is_read(guest):
    array = CASES["ts_ms_offset"][0]
    expected = ["+05:30" if valid else None for valid in array.is_valid().to_pylist()]
    assert guest.call("ts_zone", array).to_pylist() == expected


def test_intervals_plus_one(guest):
    months = interval_months()
    for array in shapes(months):
        result = guest.call("inc_months", array, formats=["tiM"], result_type=pa.int32())
        assert guest.last_format == "tiM"
        assert result.equals(pa.array(strict(lambda v: v + 1, array), pa.int32()))
    pairs = interval_day_time_pairs()
    expected = day_time_as_int64([None if p is None else (p[0] + 1, p[1]) for p in pairs])
    result = guest.call("inc_day_time", day_time_as_int64(pairs), formats=["tiD"],
                        result_type=pa.int64())
    assert guest.last_format == "tiD"
    assert result.equals(expected)
    for array in shapes(month_day_nano()):
        expected = pa.array(strict(lambda v: pa.MonthDayNano([v.months + 1, v.days,
                                                              v.nanoseconds]), array),
                            pa.month_day_nano_interval())
        assert guest.call("inc_mdn", array).equals(expected)


def ascii_upper(text):
    return "".join(c.upper() if "a" <= c <= "z" else c for c in text)


@pytest.mark.parametrize("name", ["fsb", "binary", "large_binary", "binary_view"])
def test_binary_reversed(guest, name):
    for base in CASES[name]:
        for array in shapes(base):
            result = guest.call(f"reverse_{name}", array)
            assert result.equals(pa.array(strict(lambda v: v[::-1], array), array.type)), name


@pytest.mark.parametrize("name", ["utf8", "large_utf8", "utf8_view"])
def test_strings_upper_cased(guest, name):
    for base in CASES[name]:
        for array in shapes(base):
            for max_rows in (None, 7):
                result = guest.call(f"upper_{name}", array, max_rows=max_rows)
                assert result.equals(pa.array(strict(ascii_upper, array), array.type)), name


def reversed_items(items):
    return list(reversed(items))


def test_lists_reversed_and_doubled(guest):
    for base in CASES["list_int32"]:
        for array in shapes(base):
            for max_rows in (None, 7):
                result = guest.call("reverse_list_int32", array, max_rows=max_rows)
                assert result.equals(pa.array(strict(reversed_items, array), array.type))
    for base in CASES["list_view_int32"]:
        for array in shapes(base):
            result = guest.call("reverse_list_view", array)
            assert result.equals(pa.array(strict(reversed_items, array), pa.list_(pa.int32())))
    big = pa.array(with_nulls([[None if k == 2 else ((i * 2**58 + k) % 2**64) - 2**63
                                for k in range(i % 4)] for i in range(N)]),
                   pa.large_list(pa.int64()))
    for array in shapes(big):
        expected = strict(lambda items: [None if v is None else wrap(v * 2, pa.int64())
                                         for v in items], array)
        assert guest.call("double_large_list", array).equals(pa.array(expected, array.type))
    for base in CASES["large_list_view_utf8"]:
        for array in shapes(base):
            expected = strict(lambda items: [None if v is None else ascii_upper(v)
                                             for v in items], array)
            result = guest.call("upper_large_list_view", array)
            assert result.equals(pa.array(expected, pa.large_list(pa.utf8())))
    for base in CASES["fsl_int16"]:
        for array in shapes(base):
            result = guest.call("reverse_fsl_int16", array)
            assert result.equals(pa.array(strict(reversed_items, array), array.type))


def test_list_of_structs_summed(guest):
    for base in CASES["list_struct"]:
        for array in shapes(base):
            def total(items):
                return sum((item["x"] or 0) + (item["y"] or 0) for item in items
                           if item is not None)
            result = guest.call("list_struct_sum", array)
            assert result.equals(pa.array(strict(total, array), pa.int64()))


def test_struct_fields_swapped(guest):
    narrow = [pa.StructArray.from_arrays([s.field("a"), s.field("b")], names=["a", "b"],
                                         mask=s.is_null())
              for s in CASES["struct"][:2]]
    narrow.append(narrow[1].slice(3, 40))
    for base in narrow:
        for array in shapes(base):
            for max_rows in (None, 7):
                result = guest.call("swap_struct", array, max_rows=max_rows)
                assert result.type == pa.struct([("b", pa.utf8()), ("a", pa.int32())])
                expected = [None if row is None else {"b": row["b"], "a": row["a"]}
                            for row in array.to_pylist()]
                assert result.to_pylist() == expected


def test_map_values_doubled(guest):
    for base in CASES["map"]:
        for array in shapes(base):
            for max_rows in (None, 7):
                result = guest.call("double_map_values", array, max_rows=max_rows)
                assert result.type == pa.map_(pa.utf8(), pa.int64())
                expected = strict(lambda entries: [(k, None if v is None else 2 * v)
                                                   for k, v in entries], array)
                assert result.to_pylist() == expected


def test_nested_results_built_from_flat_arguments(guest):
    numbers = pa.array(integers(pa.int32(), -100000, 100000), pa.int32())
    words = pa.array(with_nulls([" ".join(f"w{i}" for _ in range(i % 4)) +
                                 (" " if i % 5 == 0 else "") for i in range(N)], 6))
    expected_type = pa.struct([("n", pa.int32()), ("words", pa.list_(pa.utf8())),
                               ("pair", pa.list_(pa.int32(), 2)),
                               ("tag", pa.dictionary(pa.int8(), pa.utf8())),
                               ("when", pa.date32())])
    for start, length in ((0, N), (5, 40), (13, 1)):
        a, b = numbers.slice(start, length), words.slice(start, length)
        for max_rows in (None, 7):
            result = guest.call("make_nested", a, b, max_rows=max_rows)
            assert result.type == expected_type
            expected = []
            for x, s in zip(a.to_pylist(), b.to_pylist()):
                if x is None or s is None:
                    expected.append(None)
                    continue
                expected.append({"n": x, "words": [w for w in s.split(" ") if w],
                                 "pair": [x, -x], "tag": "even" if x % 2 == 0 else "odd",
                                 "when": datetime.date(1970, 1, 1) + datetime.timedelta(days=x)})
            assert result.to_pylist() == expected


def test_arguments_moved_into_struct_fields(guest):
    lists = CASES["list_int32"][1]
    strings = pa.array(texts(True))
    for start, length in ((0, N), (6, 37)):
        a, b = lists.slice(start, length), strings.slice(start, length)
        for max_rows in (None, 7):
            result = guest.call("wrap_struct", a, b, max_rows=max_rows)
            assert result.type == pa.struct([("l", pa.list_(pa.int32())), ("s", pa.utf8())])
            assert result.null_count == 0
            assert result.field("l").equals(a)
            assert result.field("s").equals(b)


def test_results_built_without_values(guest):
    for array in shapes(pa.array(integers(pa.int32()), pa.int32())):
        assert guest.call("nothing", array).equals(pa.nulls(len(array)))
        result = guest.call("empty_struct", array)
        assert result.type == pa.struct([])
        assert result.to_pylist() == [None if v is None else {} for v in array.to_pylist()]


def test_types_nested_as_deep_as_allowed(guest):
    for array in shapes(pa.array(integers(pa.int32()), pa.int32())):
        result = guest.call("deep_wrap", array)
        assert result.type == deep_type()
        assert result.to_pylist() == strict(deep_value, array)


def union_values(array):
    """(field name, value) of each row of a union array (from the scalars:
    UnionArray.type_codes ignores the array's offset)."""
    names = [array.type.field(i).name for i in range(array.type.num_fields)]
    codes = list(array.type.type_codes)
    return [(names[codes.index(scalar.type_code)], scalar.as_py()) for scalar in array]


def test_unions_read(guest):
    for base in CASES["sparse_union"]:
        for array in shapes(base):
            expected = [None if v is None else f"{n}:{v}" for n, v in union_values(array)]
            assert guest.call("describe_sparse", array).to_pylist() == expected
    for base in CASES["dense_union"]:
        for array in shapes(base):
            expected = [None if v is None else float(len(v)) if n == "s" else float(v)
                        for n, v in union_values(array)]
            assert guest.call("dense_to_float", array).equals(pa.array(expected, pa.float64()))


def test_dictionaries(guest):
    for base in CASES["dict_int8_utf8"]:
        for array in shapes(base):
            result = guest.call("upper_dict", array)
            assert result.type == array.type
            assert result.indices.equals(array.indices)
            if len(array) > 0:  # (the host need not call the guest for no rows)
                assert result.dictionary.to_pylist() == strict(ascii_upper, array.dictionary)
            assert result.to_pylist() == strict(ascii_upper, array)
            chunked = guest.call("upper_dict", array, max_rows=7)
            assert chunked.to_pylist() == strict(ascii_upper, array)
    strings = pa.array(texts(True))
    for array in shapes(strings):
        result = guest.call("dedup_dict", array)
        assert result.type == pa.dictionary(pa.int32(), pa.utf8())
        assert result.to_pylist() == array.to_pylist()
        assert len(set(result.dictionary.to_pylist())) == len(result.dictionary)
        assert guest.call("dedup_dict", array, max_rows=7).to_pylist() == array.to_pylist()
    values = pa.array([5, None, -7, 2**40, 0, 99], pa.int64())
    for array in shapes(dictionary(pa.uint16(), values, every=8)):
        expected = pa.array(array.to_pylist(), pa.int64())
        assert guest.call("decode_dict", array).equals(expected)


def test_run_end_encoded_decoded(guest):
    for base in CASES["ree_int32_int64"]:
        for array in shapes(base):
            for max_rows in (None, 7):
                result = guest.call("ree_inc", array, max_rows=max_rows)
                assert result.equals(pa.array(strict(lambda v: v + 1, array), pa.int64()))


# ------------------------------------------------------------------ batch


def test_batch_with_columns_of_many_types(guest):
    x = pa.array(integers(pa.int32(), -1000, 1000, every=5), pa.int32())
    s = pa.array(texts(True, every=4))
    lists = pa.array(int_lists(every=6), pa.list_(pa.int32()))
    tags = dictionary(pa.int8(), dict_values_utf8(), every=9)
    when = pa.array(integers(pa.int64(), -2**40, 2**40, every=8), pa.timestamp("ms", "UTC"))
    batch = pa.RecordBatch.from_arrays([x, s, lists, tags, when],
                                       names=["x", "s", "l", "d", "t"])
    expected_type = pa.struct([("total", pa.int64()), ("text", pa.string_view()),
                               ("items", pa.large_list(pa.int32())),
                               ("tag", pa.dictionary(pa.int16(), pa.utf8())),
                               ("when", pa.timestamp("ms", "UTC")),
                               ("amount", pa.decimal128(12, 2)),
                               ("same", pa.list_(pa.int32()))])
    for shape in (batch, batch.slice(3, 40), batch.slice(60, 1)):
        result = guest.call_batch("mixed_batch", shape)
        assert result.type == expected_type
        rows = shape.to_pylist()
        assert len(result) == len(rows)
        columns = {name: result.field(name) for name in expected_type.names}
        expected_when = [None if r["t"] is None else
                         r["t"] + datetime.timedelta(seconds=1) for r in rows]
        assert columns["total"].to_pylist() == [
            None if r["x"] is None or r["l"] is None else r["x"] + len(r["l"]) for r in rows]
        assert columns["text"].to_pylist() == [r["s"] for r in rows]
        assert columns["items"].to_pylist() == [r["l"] for r in rows]
        assert columns["tag"].to_pylist() == [r["d"] for r in rows]
        assert len(set(columns["tag"].dictionary.to_pylist())) == len(columns["tag"].dictionary)
        assert columns["when"].to_pylist() == expected_when
        assert columns["amount"].to_pylist() == [
            None if r["x"] is None else
            decimal.Decimal(r["x"] * 100 + (-5 if r["x"] < 0 else 5)).scaleb(-2) for r in rows]
        assert columns["same"].equals(shape.column(2))


def test_batch_with_fewer_rows_than_its_input(guest):
    x = pa.array(integers(pa.int32(), -1000, 1000, every=5), pa.int32())
    s = pa.array(texts(True, every=4))
    lists = sliced_child_list(pa.ListArray, int_lists(every=6), pa.int32())
    batch = pa.RecordBatch.from_arrays([x, s, lists], names=["x", "s", "l"])
    for shape in (batch, batch.slice(7, 33)):
        result = guest.call_batch("even_rows", shape)
        assert result.type == pa.struct([("x", pa.int32()), ("s", pa.large_utf8()),
                                         ("l", pa.list_(pa.int32()))])
        expected = [{"x": r["x"], "s": r["s"], "l": r["l"]} for r in shape.to_pylist()
                    if r["x"] is not None and r["x"] % 2 == 0]
        assert result.to_pylist() == expected


# ------------------------------------------------ views and memory use


@pytest.mark.parametrize("name", ["int32", "utf8_view", "list_int32", "struct", "map",
                                  "dense_union", "dict_nested", "ree_int16_utf8"])
def test_identity_viewed_in_guest_memory(guest, name):
    """A moved argument returned as a zero-copy view: its buffers are the
    input block the host wrote, kept alive until the view is released."""
    for array in CASES[name]:
        result = guest.call(f"id_{name}", array, view=True)
        assert result.equals(array)
        del result  # the view pins the instance until it is released


def test_built_results_viewed_in_guest_memory(guest):
    # Strict functions: a view needs arguments without nulls (one guest call).
    a = pa.array([spread(i, -1000, 1000) for i in range(N)], pa.int32())
    b = pa.array(texts(True)).fill_null("a b")
    result = guest.call("make_nested", a, b, view=True)
    assert result.field("n").equals(a)
    assert result.field("tag").to_pylist() == ["even" if x % 2 == 0 else "odd"
                                               for x in a.to_pylist()]
    del result
    lists = pa.array([items or [] for items in int_lists()], pa.list_(pa.int32()))
    result = guest.call("reverse_list_int32", lists, view=True)
    assert result.to_pylist() == strict(reversed_items, lists)
    del result


def test_memory_stays_flat(guest):
    """Moved arguments and built results are released call after call."""
    cases = [("id_struct", [CASES["struct"][1]]), ("id_dict_nested", [CASES["dict_nested"][0]]),
             ("make_nested", [pa.array(integers(pa.int32(), -1000, 1000), pa.int32()),
                              pa.array(texts(True))]),
             ("double_map_values", [CASES["map"][0]]), ("upper_utf8_view", [CASES["utf8_view"][0]])]
    for function, arrays in cases:
        for _ in range(20):
            guest.call(function, *arrays)
    warm = lib.wudf_instance_memory_size(guest.instance)
    for _ in range(300):
        for function, arrays in cases:
            guest.call(function, *arrays)
            guest.call(function, *arrays, max_rows=7)
    assert lib.wudf_instance_memory_size(guest.instance) == warm


# -------------------------------------------------------- inline setters


def test_inline_setters_take_the_checked_path_where_they_must(guest):
    """guest.h's inline setters write rows in place and leave null rows,
    appends past the room and gaps to the checked setters."""
    x = pa.array(range(-5, 10), pa.int64())
    result = guest.call("setter_paths", x)
    expected = pa.array([None if r % 3 == 1 else 2 * v for r, v in enumerate(x.to_pylist())],
                        pa.int64())
    assert result.equals(expected), result
    assert result.null_count == 5
    appended = guest.call("setter_appends", x)
    values = x.to_pylist()
    assert appended.field("v").to_pylist() == values + [0, 0, -1]
    assert appended.field("f").to_pylist() == [v / 2 for v in values] + [0.0, 0.0, 0.0]
    assert appended.null_count == 0 and appended.field("v").null_count == 0


# ---------------------------------------------------------------- misuse


@pytest.mark.parametrize("function,message", [
    ("build_union", "cannot be built"),
    ("wrong_setter", "a setter for another type was used"),
    ("wrong_float_setter", "a setter for another type was used"),
    ("wrong_width_setter", "a setter for another type was used"),
    ("take_wrong_type", "does not have the output's type"),
])
def test_unsupported_builders_fail_the_call(guest, function, message):
    with pytest.raises(RuntimeError, match=message):
        guest.call(function, pa.array([1, 2, 3], pa.int32()))
    # The instance is still usable.
    assert guest.call("id_int32", pa.array([1, None], pa.int32())).to_pylist() == [1, None]
