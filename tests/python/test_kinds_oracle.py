"""
test_kinds_oracle.py -- table, aggregate and batch functions (issue 5), and
arrays as bytes, with pyarrow and pyarrow.compute as the oracle.

The guests are the examples: examples/c/tables.c (series, split),
examples/c/aggregates.c (sum, avg, string_agg, variance) and
examples/c/batches.c (positive, explode). Every expected value is computed
here from the input -- by pyarrow.compute's hash aggregations, or by plain
Python -- never from a guest's output.

Run by ctest with $WUDF_LIBRARY (libwasmudf.so) and $WUDF_TEST_MODULES set.
"""
import math
import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from test_types_oracle import CASES, shapes
from wudf_ctypes import Aggregate, Module, deserialize, serialize, table


@pytest.fixture(scope="module")
def tables():
    module = Module("example_tables")
    yield module
    module.close()


@pytest.fixture(scope="module")
def batches():
    module = Module("example_batches")
    yield module
    module.close()


def instances(count):
    """`count` independent instances (each its own engine and module) of the
    aggregates example."""
    return [Module("example_aggregates") for _ in range(count)]


# ---------------------------------------------------------------- tables


def rows_of(batches_list):
    """(input_row, value) pairs of a table function's batches."""
    pairs = []
    for batch in batches_list:
        assert batch.schema.names[0] == "input_row"
        assert batch.column(0).null_count == 0
        pairs.extend(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))
    return pairs


def series_expected(starts, stops):
    return [(i, v) for i, (a, b) in enumerate(zip(starts.to_pylist(), stops.to_pylist()))
            if a is not None and b is not None for v in range(a, b + 1)]


def series_inputs():
    rng = random.Random(5)
    starts = [None if i % 9 == 4 else rng.randint(-20, 20) for i in range(300)]
    stops = [None if i % 13 == 6 else s + rng.randint(-3, 25) if s is not None else 1
             for i, s in enumerate(starts)]
    return pa.array(starts, pa.int32()), pa.array(stops, pa.int32())


@pytest.mark.parametrize("max_output_rows,max_rows", [(None, None), (7, None), (1, 5),
                                                      (100, 3), (64, 1)])
def test_series_in_chunks(tables, max_output_rows, max_rows):
    starts, stops = series_inputs()
    for a, b in [(starts, stops), (starts.slice(17, 200), stops.slice(17, 200)),
                 (starts.slice(299, 1), stops.slice(299, 1)), (starts.slice(3, 0), stops.slice(3, 0))]:
        result = table(tables, "series", a, b, max_rows=max_rows, max_output_rows=max_output_rows)
        for batch in result:
            assert 0 < batch.num_rows <= (max_output_rows or 65536)
            assert batch.schema == pa.schema([pa.field("input_row", pa.int64(), False),
                                              pa.field("series", pa.int32())])
        assert rows_of(result) == series_expected(a, b)


def test_one_row_yielding_far_more_than_a_chunk(tables):
    a, b = pa.array([5, 0, 7], pa.int32()), pa.array([4, 100000, 9], pa.int32())
    result = table(tables, "series", a, b, max_output_rows=1000)
    assert len(result) == math.ceil(100004 / 1000)
    assert all(batch.num_rows == 1000 for batch in result[:-1])
    assert rows_of(result) == series_expected(a, b)


def test_series_extremes(tables):
    top = 2**31 - 1
    a, b = pa.array([top - 2, -2**31], pa.int32()), pa.array([top, -2**31 + 1], pa.int32())
    assert rows_of(table(tables, "series", a, b, max_output_rows=2)) == [
        (0, top - 2), (0, top - 1), (0, top), (1, -2**31), (1, -2**31 + 1)]


def split_expected(texts, separators):
    out = []
    for i, (text, sep) in enumerate(zip(texts.to_pylist(), separators.to_pylist())):
        if text is None or sep is None:
            continue
        out.extend((i, piece) for piece in (text.split(sep) if sep else [text]))
    return out


def split_inputs():
    rng = random.Random(11)
    alphabet = ["a", "é", ",", ";", "∑", "ab", ",,", ""]
    texts = [None if i % 10 == 7 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
             for i in range(400)]
    separators = [None if i % 17 == 3 else [",", ";", ",,", "é", ""][i % 5] for i in range(400)]
    return pa.array(texts, pa.utf8()), pa.array(separators, pa.utf8())


@pytest.mark.parametrize("max_output_rows,max_rows", [(None, None), (3, None), (1, 7)])
def test_split_in_chunks(tables, max_output_rows, max_rows):
    texts, separators = split_inputs()
    for a, b in [(texts, separators), (texts.slice(33, 300), separators.slice(33, 300))]:
        result = table(tables, "split", a, b, max_rows=max_rows, max_output_rows=max_output_rows)
        assert rows_of(result) == split_expected(a, b)


def test_split_matches_pyarrow_split_pattern(tables):
    texts, _ = split_inputs()
    separators = pa.array([","] * len(texts), pa.utf8())
    pieces = pc.split_pattern(texts, pattern=",")
    expected = list(zip(pc.list_parent_indices(pieces).to_pylist(),
                        pc.list_flatten(pieces).to_pylist()))
    assert rows_of(table(tables, "split", texts, separators, max_output_rows=50)) == expected


def test_table_through_function_call_concatenates(tables):
    starts, stops = series_inputs()
    result = tables.call("series", starts, stops, max_rows=10)
    assert isinstance(result, pa.StructArray)
    assert result.type.names == ["input_row", "series"]
    pairs = list(zip(result.field(0).to_pylist(), result.field(1).to_pylist()))
    assert pairs == series_expected(starts, stops)
    empty = tables.call("series", pa.array([3], pa.int32()), pa.array([1], pa.int32()))
    assert len(empty) == 0 and empty.type.names == ["input_row", "series"]


# ------------------------------------------------------------ aggregates


def grouped_data(rows=120000, groups=1000, seed=3):
    rng = random.Random(seed)
    keys = [rng.randrange(groups) for _ in range(rows)]
    ints = [None if i % 11 == 5 else rng.randint(-10**9, 10**9) for i in range(rows)]
    floats = [None if i % 13 == 2 else rng.uniform(-1000, 1000) for i in range(rows)]
    words = [None if i % 7 == 1 else rng.choice(["x", "yy", "é", "", "zzz"]) for i in range(rows)]
    seps = [None if i % 97 == 9 else rng.choice([",", "-", ""]) for i in range(rows)]
    # Every row of group 7 is null: a group with rows but no values.
    for i, key in enumerate(keys):
        if key == 7:
            ints[i] = floats[i] = words[i] = None
    return pa.table({"g": pa.array(keys, pa.uint32()), "i": pa.array(ints, pa.int64()),
                     "f": pa.array(floats, pa.float64()), "w": pa.array(words, pa.utf8()),
                     "s": pa.array(seps, pa.utf8())})


def oracle(data, group_count):
    """Per group (0 .. group_count - 1): sum, mean, variance (ddof 1) by
    pyarrow.compute's hash aggregations; string_agg by Python."""
    grouped = data.group_by("g", use_threads=False).aggregate([
        ("i", "sum"), ("f", "mean"), ("f", "variance", pc.VarianceOptions(ddof=1))])
    by_key = {k: row for k, row in zip(grouped["g"].to_pylist(), grouped.to_pylist())}
    expected = {"sum": [None] * group_count, "avg": [None] * group_count,
                "variance": [None] * group_count, "string_agg": [None] * group_count}
    for key, row in by_key.items():
        expected["sum"][key] = row["i_sum"]
        expected["avg"][key] = row["f_mean"]
        expected["variance"][key] = row["f_variance"]
    pieces = {}
    for key, word, sep in zip(data["g"].to_pylist(), data["w"].to_pylist(), data["s"].to_pylist()):
        if word is not None and sep is not None:
            pieces.setdefault(key, []).append((sep, word))
    for key, items in pieces.items():
        expected["string_agg"][key] = items[0][1] + "".join(s + w for s, w in items[1:])
    return expected


def assert_close(got, expected, name):
    assert len(got) == len(expected), name
    for g, (a, b) in enumerate(zip(got, expected)):
        if b is None:
            assert a is None, (name, g, a)
        else:
            assert a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), (name, g, a, b)


def check_results(results, expected):
    assert results["sum"] == expected["sum"]
    assert results["string_agg"] == expected["string_agg"]
    assert_close(results["avg"], expected["avg"], "avg")
    assert_close(results["variance"], expected["variance"], "variance")


COLUMNS = {"sum": ("i",), "avg": ("f",), "variance": ("f",), "string_agg": ("w", "s")}


def test_grouped_aggregates_over_many_groups_with_empty_groups():
    data = grouped_data()
    group_count = 1050  # groups 1000 .. 1049 get no row at all
    expected = oracle(data, group_count)
    (module,) = instances(1)
    try:
        results = {}
        for name, columns in COLUMNS.items():
            aggregate = Aggregate(module, name)
            # Three batches, one of them sliced; the middle one in guest
            # calls of 7,000 rows.
            for start, length, max_rows in ((0, 50000, None), (50000, 40000, 7000),
                                            (90000, 30000, None)):
                part = data.slice(start, length)
                aggregate.update(*[part[c].combine_chunks() for c in columns],
                                 groups=part["g"].to_pylist(), group_count=group_count,
                                 max_rows=max_rows)
            assert aggregate.group_count() == group_count
            results[name] = aggregate.finish().to_pylist()
            # Finishing keeps the states.
            assert aggregate.finish().to_pylist() == results[name]
            aggregate.close()
        check_results(results, expected)
        assert all(results[name][1000:] == [None] * 50 for name in COLUMNS)
        assert all(results[name][7] is None for name in COLUMNS)
    finally:
        module.close()


def test_partial_states_from_two_instances_merge_in_a_third():
    data = grouped_data(rows=60000, groups=400, seed=8)
    expected = oracle(data, 400)
    a, b, c = instances(3)
    try:
        results = {}
        half = 25000
        first, second = data.slice(0, half), data.slice(half)
        # Instance b numbers its groups differently: local group = 399 - g.
        local = [399 - g for g in second["g"].to_pylist()]
        for name, columns in COLUMNS.items():
            left, right = Aggregate(a, name), Aggregate(b, name)
            left.update(*[first[col].combine_chunks() for col in columns],
                        groups=first["g"].to_pylist(), group_count=400)
            right.update(*[second[col].combine_chunks() for col in columns],
                         groups=local, group_count=400)
            left_states, right_states = left.state(), right.state()
            assert len(left_states) == len(right_states) == 400
            # The states cross as bytes, as between workers.
            right_states = deserialize(serialize(right_states))
            total = Aggregate(c, name)
            total.merge(left_states, groups=list(range(400)), group_count=400)
            total.merge(right_states, groups=[399 - g for g in range(400)], group_count=400)
            results[name] = total.finish().to_pylist()
            # Merging in slices of rows, and an update after a merge, agree.
            again = Aggregate(c, name)
            again.merge(left_states.slice(0, 200), groups=list(range(200)), group_count=200)
            again.merge(left_states.slice(200), groups=list(range(200, 400)), group_count=400)
            again.update(*[second[col].combine_chunks() for col in columns],
                         groups=second["g"].to_pylist(), group_count=400)
            if name in ("sum", "string_agg"):
                assert again.finish().to_pylist() == results[name]
            else:
                assert_close(again.finish().to_pylist(), results[name], name)
            for aggregate in (left, right, total, again):
                aggregate.close()
        check_results(results, expected)
    finally:
        for module in (a, b, c):
            module.close()


def test_ungrouped_aggregate_through_function_call():
    (module,) = instances(1)
    try:
        values = pa.array([1.5, None, 2.5, 4.0], pa.float64())
        assert module.call("avg", values).to_pylist() == [pc.mean(values).as_py()]
        assert module.call("sum", pa.array([None, None], pa.int64())).to_pylist() == [None]
        assert module.call("variance", pa.array([], pa.float64())).to_pylist() == [None]
        words = pa.array(["a", "b", None, "c"]).slice(1)
        assert module.call("string_agg", words, pa.array(["-", "+", "*", "/"]).slice(1)).to_pylist() \
            == ["b/c"]
    finally:
        module.close()


def test_errors_name_the_function_and_cause():
    (module,) = instances(1)
    try:
        aggregate = Aggregate(module, "sum")
        with pytest.raises(RuntimeError, match="sum: int64 overflow"):
            aggregate.update(pa.array([2**62, 2**62], pa.int64()))
        with pytest.raises(RuntimeError, match=r"function 'sum': argument 1: expected int64"):
            aggregate.update(pa.array([1.0]))
        with pytest.raises(RuntimeError, match="row 1 has group id 5, not below the group count 2"):
            aggregate.update(pa.array([1, 2], pa.int64()), groups=[0, 5], group_count=2)
        with pytest.raises(RuntimeError, match="not of its STATE type int64"):
            aggregate.merge(pa.array([1], pa.int32()))
        aggregate.update(pa.array([1, 2], pa.int64()), groups=[0, 1], group_count=2)
        with pytest.raises(RuntimeError, match="group count 1 must be at least 1, at least "
                                               "the accumulator's 2"):
            aggregate.update(pa.array([1], pa.int64()), groups=[0], group_count=1)
        aggregate.close()
    finally:
        module.close()


# --------------------------------------------------------------- batches


def test_filter_batch(batches):
    rng = random.Random(2)
    ids = pa.array([None if i % 19 == 0 else i * 10 for i in range(500)], pa.int64())
    values = pa.array([None if i % 7 == 3 else rng.uniform(-5, 5) for i in range(500)])
    for batch in [pa.RecordBatch.from_arrays([ids, values], ["id", "value"]),
                  pa.RecordBatch.from_arrays([ids, values], ["id", "value"]).slice(13, 400)]:
        result = batches.call_batch("positive", batch)
        expected = batch.filter(pc.fill_null(pc.greater(batch["value"], 0), False))
        assert result.field(0).equals(expected["id"])
        assert result.field(1).equals(expected["value"])


def test_explode_batch(batches):
    rng = random.Random(4)
    lists = [None if i % 8 == 5 else [None if k % 5 == 4 else f"w{i}.{k}"
                                      for k in range(rng.randint(0, 6))] for i in range(300)]
    ids = pa.array(range(300), pa.int64())
    batch = pa.RecordBatch.from_arrays([ids, pa.array(lists, pa.list_(pa.utf8()))],
                                       ["id", "items"])
    for part in (batch, batch.slice(41, 200)):
        result = batches.call_batch("explode", part)
        items = part["items"]
        parents = pc.list_parent_indices(items)
        assert result.field(0).equals(pc.take(part["id"], parents))
        assert result.field(2).equals(pc.list_flatten(items))
        positions = [k for row in items.to_pylist() if row for k in range(len(row))]
        assert result.field(1).to_pylist() == positions


# ---------------------------------------------------------- arrays as bytes


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_type_round_trips_as_bytes(name):
    for base in CASES[name]:
        for array in shapes(base):
            result = deserialize(serialize(array))
            assert result.type == array.type
            assert result.equals(array), (name, array.to_pylist(), result.to_pylist())


def test_corrupt_bytes_are_refused_or_valid():
    rng = random.Random(9)
    data = serialize(pa.array([["a", None, "bc"], None, ["é" * 20]], pa.list_(pa.utf8())))
    refused = 0
    for _ in range(3000):
        corrupt = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        if rng.random() < 0.1:
            corrupt = corrupt[:rng.randrange(len(corrupt))]
        try:
            deserialize(bytes(corrupt))  # validates fully, as pyarrow does
        except RuntimeError as error:
            assert "wasmudf error" in str(error)
            refused += 1
    assert refused > 100
