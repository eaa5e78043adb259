"""
test_pyarrow_udf.py -- pyarrow, the reference implementation of Arrow, as the
oracle of the guest ABI: pyarrow builds arrays (nulls, slices, empty,
all-null), exports them through the C Data Interface, libwasmudf runs a wasm
UDF on them, and pyarrow imports the result, validates it fully and compares
it with the value pyarrow (or plain Python) computes itself.

Run by ctest with $WUDF_LIBRARY (libwasmudf.so) and $WUDF_TEST_MODULES set;
the ctypes binding is tests/python/wudf_ctypes.py.
"""
import math
import os

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from wudf_ctypes import Aggregate, Module, lib, table


@pytest.fixture(scope="module")
def types():
    module = Module("types")
    yield module
    module.close()


INTEGERS = {"int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
            "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(),
            "uint64": pa.uint64()}
FLOATS = {"float32": pa.float32(), "float64": pa.float64()}
STRINGS = {"utf8": pa.utf8(), "large_utf8": pa.large_utf8(), "binary": pa.binary(),
           "large_binary": pa.large_binary()}


def sample(name, arrow_type, length=300):
    """Values with nulls at every 7th row; extremes of integer types included."""
    values = []
    for i in range(length):
        if i % 7 == 3:
            values.append(None)
        elif name in INTEGERS:
            bits = arrow_type.bit_width
            low, high = (0, 2**bits - 1) if name.startswith("u") else (-2**(bits - 1), 2**(bits - 1) - 1)
            values.append([low, high, 0][i % 3] if i % 11 == 0 else low + (i * 7919) % (high - low))
        elif name in FLOATS:
            values.append([float("inf"), -0.0, 1e-30][i % 3] if i % 13 == 0 else i * 1.25 - 99)
        elif name == "bool":
            values.append(i % 3 == 0)
        else:
            text = "".join(["é", "ab", "∑", "z"][(i + k) % 4] for k in range(i % 6))
            values.append(text if "utf8" in name else text.encode())
    return pa.array(values, type=arrow_type)


def shapes(array):
    """The array whole, sliced at offsets that are and are not multiples of 8,
    a one-row slice, an empty slice, all null, and without nulls."""
    yield array
    yield array.slice(5, 250)
    yield array.slice(16, 100)
    yield array.slice(len(array) - 1, 1)
    yield array.slice(4, 0)
    yield pa.nulls(40, type=array.type)
    yield pc.drop_null(array)


def wrapping_negate(array, bits):
    return pa.array([None if v is None else (-v) % (2**bits) for v in array.to_pylist()],
                    type=array.type)


@pytest.mark.parametrize("name", list(INTEGERS) + list(FLOATS) + ["bool"] + list(STRINGS))
def test_identity_round_trips(types, name):
    arrow_type = {**INTEGERS, **FLOATS, **STRINGS, "bool": pa.bool_()}[name]
    for array in shapes(sample(name, arrow_type)):
        result = types.call(f"id_{name}", array)
        assert result.type == arrow_type
        assert result.equals(array), (name, array, result)


@pytest.mark.parametrize("name", list(INTEGERS) + list(FLOATS))
def test_negation(types, name):
    arrow_type = {**INTEGERS, **FLOATS}[name]
    for array in shapes(sample(name, arrow_type)):
        result = types.call(f"neg_{name}", array)
        if name.startswith("u"):
            expected = wrapping_negate(array, arrow_type.bit_width)
        else:
            expected = pc.negate(array)  # wraps for signed integers too
        assert result.equals(expected), (name, array, result)


def test_not(types):
    for array in shapes(sample("bool", pa.bool_())):
        assert types.call("not", array).equals(pc.invert(array))


@pytest.mark.parametrize("name", list(STRINGS))
def test_string_transforms(types, name):
    # ASCII, so that reversing the bytes keeps utf8 valid.
    texts = [None if i % 7 == 3 else "".join("abcz"[(i + k) % 4] for k in range(i % 6))
             for i in range(300)]
    values = texts if "utf8" in name else [None if t is None else t.encode() for t in texts]
    for array in shapes(pa.array(values, type=STRINGS[name])):
        expected = pa.array([None if v is None else v[::-1] for v in array.to_pylist()],
                            type=STRINGS[name])
        assert types.call(f"reverse_{name}", array).equals(expected), (name, array)
        lengths = pc.binary_length(array).cast(pa.int64())
        assert types.call(f"len_{name}", array).equals(lengths)


def test_invalid_utf8_result_is_rejected(types):
    # Reversing the two bytes of "é" gives invalid UTF-8: the host refuses it.
    with pytest.raises(RuntimeError, match="utf8: value 1 is not valid UTF-8"):
        types.call("reverse_utf8", pa.array(["ok", "é"]))
    # The same bytes as binary are fine.
    assert types.call("reverse_binary", pa.array([b"\xc3\xa9"])).to_pylist() == [b"\xa9\xc3"]


def test_chunked_calls_give_the_same_result(types):
    array = sample("utf8", pa.utf8(), 1000).slice(3, 990)
    assert types.call("id_utf8", array, max_rows=7).equals(array)
    rows = types.call("call_rows", pa.array(range(990), pa.int32()), max_rows=7)
    assert rows.to_pylist() == [7] * 987 + [3] * 3


def test_strict_function_over_a_record_batch(types):
    batch = pa.RecordBatch.from_arrays(
        [pa.array([1, None, 3, 4, 5], pa.int32()), pa.array(["a", "b", None, "d", "e"]),
         pa.array([0.5, 1.5, 2.5, None, 4.5]), pa.array([True, False, True, False, None])],
        names=["i", "s", "f", "b"]).slice(0, 5)
    result = types.call_batch("mix", batch)
    assert result.to_pylist() == ["1:a:0.5:1", None, None, None, None]
    result = types.call_batch("mix", batch.slice(0, 1))
    assert result.to_pylist() == ["1:a:0.5:1"]


def test_batch_function_returns_a_struct(types):
    strings = pa.array(["x", None, "yy", None, "zzz"])
    result = types.call("non_null", strings)
    assert result.type == pa.struct([("position", pa.int64()), ("value", pa.utf8())])
    assert result.to_pylist() == [{"position": 0, "value": "x"}, {"position": 2, "value": "yy"},
                                  {"position": 4, "value": "zzz"}]


def test_examples():
    module = Module("example_sum")
    result = module.call("sum", pa.array([1, None, 3], pa.int32()))
    assert result.to_pylist() == [{"sum": 4}]
    values = pa.array([(i * 7919) % 100003 - 50000 for i in range(5000)], pa.int32())
    assert module.call("sum", values).field("sum")[0].as_py() == pc.sum(values).as_py()
    module.close()
    module = Module("example_gcd")
    a = pa.array([12, None, 1071, -7, 0, 0] + list(range(1, 500)), pa.int32())
    b = pa.array([8, 5, 462, 21, 0, 9] + list(range(500, 1, -1)), pa.int32())
    expected = pa.array([None if x is None else math.gcd(x, y)
                         for x, y in zip(a.to_pylist(), b.to_pylist())], pa.int32())
    assert module.call("gcd", a, b).equals(expected)
    module.close()
    module = Module("example_strings")
    words = pa.array(["hello", None, "wasm", "", "ümlaut"])
    assert module.call("upper", words).to_pylist() == ["HELLO", None, "WASM", "", "üMLAUT"]
    module.close()


@pytest.fixture(scope="module")
def rust():
    path = os.environ.get("WUDF_RUST_GUEST")
    if not path:
        pytest.skip("WUDF_RUST_GUEST is not set (scripts/check.sh sets it)")
    module = Module("rust", path)
    yield module
    module.close()


def test_rust_guest_seed_sum(rust):
    """The seed's sum, in Rust with arrow's from_ffi, releasing its inputs."""
    assert rust.call("sum", pa.array([1, None, 3], pa.int32())).to_pylist() == [{"sum": 4}]
    values = pa.array([None if i % 5 == 0 else i * 31 - 700 for i in range(10000)], pa.int32())
    for array in (values, values.slice(3, 9000), pa.nulls(10, pa.int32())):
        assert rust.call("sum", array).field("sum")[0].as_py() == (pc.sum(array).as_py() or 0)


def test_rust_guest_strings_and_errors(rust):
    strings = pa.array(["a", "bb", None, "", "wasm ✓"])
    for array in (strings, strings.slice(1, 3)):
        assert rust.call("str_len", array).equals(pc.binary_length(array).cast(pa.int64()))
    assert rust.call("fail_on_negative", pa.array([1, 2, None], pa.int32())).to_pylist() == [1, 2, None]
    with pytest.raises(RuntimeError, match="negative value -5 at row 2"):
        rust.call("fail_on_negative", pa.array([1, 2, -5], pa.int32()))


def test_rust_guest_memory_stays_flat(rust):
    array = pa.array(["x" * (i % 40) for i in range(2000)])
    for _ in range(100):
        rust.call("str_len", array)
    warm = lib.wudf_instance_memory_size(rust.instance)
    for _ in range(10000):
        rust.call("str_len", array.slice(0, 50))
    assert lib.wudf_instance_memory_size(rust.instance) == warm


def test_rust_guest_table_function_in_chunks(rust):
    """chars(), a table function written against the raw ABI in Rust: the
    characters of each text, resumed across chunks of a few rows."""
    texts = pa.array(["héllo", None, "", "✓✓", "wasm" * 20, None, "z"])
    for array in (texts, texts.slice(1, 5)):
        expected = [(row, position, character)
                    for row, text in enumerate(array.to_pylist()) if text is not None
                    for position, character in enumerate(text)]
        for max_output_rows in (1, 3, 1000):
            batches = table(rust, "chars", array, max_output_rows=max_output_rows)
            assert all(0 < batch.num_rows <= max_output_rows for batch in batches)
            got = [row for batch in batches for row in zip(*(c.to_pylist() for c in batch.columns))]
            assert got == expected
    # One text spans several chunks, and chunks span texts.
    batches = table(rust, "chars", pa.array(["abcde"] * 3), max_output_rows=2)
    assert [batch.column(0).to_pylist() for batch in batches][2:4] == [[0, 1], [1, 1]]


def test_rust_guest_grouped_mean_with_merge(rust):
    """mean(), an aggregate in Rust: grouped updates, partial states merged
    from another accumulator, against pyarrow's hash mean."""
    keys = [(i * 7) % 50 for i in range(5000)]
    values = pa.array([None if i % 9 == 0 else i * 0.5 - 300 for i in range(5000)], pa.float64())
    data = pa.table({"g": pa.array(keys, pa.uint32()), "v": values})
    expected = dict(zip(*data.group_by("g").aggregate([("v", "mean")]).to_pydict().values()))
    left, right = Aggregate(rust, "mean"), Aggregate(rust, "mean")
    left.update(values.slice(0, 3000), groups=keys[:3000], group_count=60)
    right.update(values.slice(3000), groups=keys[3000:], group_count=60)
    left.merge(right.state(), groups=list(range(60)), group_count=60)
    result = left.finish().to_pylist()
    for group in range(60):
        if group in expected and expected[group] is not None:
            assert math.isclose(result[group], expected[group], rel_tol=1e-12)
        else:
            assert result[group] is None  # groups 50 .. 59 are empty
    left.close()
    right.close()
