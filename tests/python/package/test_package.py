"""
test_package.py -- the wasmudf Python package on pyarrow and polars data.

Every expected value is computed here independently of wasmudf (Python's
math.gcd, str.upper, pyarrow's group_by, plain loops); pyarrow validates
what it imports from the package fully.
"""
import math
import os
import random
import threading
import time

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

import wasmudf


def gcd_or_none(a, b):
    return None if a is None or b is None else math.gcd(a, b)


@pytest.fixture(scope="module")
def gcd_module(example_wasm):
    return wasmudf.load(example_wasm("gcd"))


@pytest.fixture(scope="module")
def pairs():
    rng = random.Random(7)
    a = [None if rng.random() < 0.1 else rng.randrange(-10**6, 10**6) for _ in range(5000)]
    b = [None if rng.random() < 0.1 else rng.randrange(1, 10**6) for _ in range(5000)]
    return a, b


def imported(result):
    """The result imported into pyarrow and validated completely."""
    array = pa.array(result)
    array.validate(full=True)
    return array


# ------------------------------------------------------------------ loading

def test_load_from_path_and_bytes(example_wasm):
    path = example_wasm("gcd")
    from_path = wasmudf.load(path)
    with open(path, "rb") as file:
        from_bytes = wasmudf.load(file.read())
    assert from_path.source == path
    assert from_bytes.source is None
    assert [f.name for f in from_path.functions] == ["gcd"]
    assert "gcd" in from_bytes and "nope" not in from_bytes
    assert "gcd" in from_path.instance() and "nope" not in from_path.instance()
    with pytest.raises(KeyError):
        from_path["nope"]


def test_bad_modules_raise_module_error(tmp_path):
    with pytest.raises(wasmudf.ModuleError) as info:
        wasmudf.load(b"\0asm\x01\0\0\0\x99garbage")
    assert info.value.code != 0 and info.value.message
    with pytest.raises(wasmudf.ModuleError):
        wasmudf.load(str(tmp_path / "missing.wasm"))


def test_artifact_compile_and_load(example_wasm, tmp_path):
    path = example_wasm("gcd")
    artifact = wasmudf.compile_artifact(path)
    with open(path, "rb") as file:
        assert wasmudf.compile_artifact(file.read())[:19] == b"wasmudf artifact 1\n"
    target = tmp_path / "gcd.wudf"
    target.write_bytes(artifact)
    a = pa.array([12, 18, None, 7], pa.int32())
    b = pa.array([8, 27, 5, 0], pa.int32())
    expected = [gcd_or_none(x, y) for x, y in zip(a.to_pylist(), b.to_pylist())]
    for source in (artifact, str(target)):
        module = wasmudf.load_artifact(source)
        assert [f.name for f in module.functions] == ["gcd"]
        assert imported(module["gcd"](a, b)).to_pylist() == expected
    # Damaged: refused; a plain module is not an artifact.
    damaged = bytearray(artifact)
    damaged[-100] ^= 1
    with pytest.raises(wasmudf.ModuleError) as info:
        wasmudf.load_artifact(bytes(damaged))
    assert "tampered" in info.value.message
    with pytest.raises(wasmudf.ModuleError):
        wasmudf.load_artifact(path)


def test_metadata_and_schemas(example_wasm):
    tables = wasmudf.load(example_wasm("tables"))
    series = tables["series"]
    assert series.kind == "table"
    assert series.signature == "series(int32 start, int32 stop) -> setof int32"
    assert series.arg_names == ["start", "stop"]
    assert series.arg_types == ["int32", "int32"]
    assert pa.schema(series.arg_schema) == pa.schema([("start", pa.int32()), ("stop", pa.int32())])
    chunk = pa.field(series.result_schema)
    assert chunk.type == pa.struct([pa.field("input_row", pa.int64(), nullable=False),
                                    ("series", pa.int32())])
    assert series.state_schema is None

    aggregates = wasmudf.load(example_wasm("aggregates"))
    avg = aggregates["avg"]
    assert avg.kind == "aggregate" and avg.strict
    assert pa.field(avg.result_schema).type == pa.float64()
    assert pa.field(avg.state_schema).type == pa.struct([("sum", pa.float64()),
                                                         ("count", pa.int64())])
    strings = wasmudf.load(example_wasm("strings"))
    assert strings["concat"].strict is False and strings["upper"].strict is True
    batches = wasmudf.load(example_wasm("batches"))
    positive = batches["positive"]
    assert positive.kind == "batch"
    assert pa.field(positive.result_schema).type == pa.struct([("id", pa.int64()),
                                                               ("value", pa.float64())])


# ------------------------------------------------------------ scalar calls

def test_scalar_on_pyarrow_arrays(gcd_module, pairs):
    a, b = pairs
    result = gcd_module["gcd"](pa.array(a, pa.int32()), pa.array(b, pa.int32()))
    assert isinstance(result, wasmudf.Array)
    assert len(result) == len(a)
    array = imported(result)
    assert array.type == pa.int32()
    assert array.to_pylist() == [gcd_or_none(x, y) for x, y in zip(a, b)]


def test_scalar_on_slices(gcd_module, pairs):
    a, b = pairs
    left = pa.array(a, pa.int32()).slice(17, 1000)
    right = pa.array(b, pa.int32()).slice(3001, 1000)
    result = imported(gcd_module["gcd"](left, right))
    assert result.to_pylist() == [gcd_or_none(x, y) for x, y in zip(a[17:1017], b[3001:4001])]


def test_results_are_shared_not_copied(gcd_module):
    result = gcd_module["gcd"](pa.array([4, 9], pa.int32()), pa.array([6, 6], pa.int32()))
    first = pa.array(result)
    second = pa.array(result)
    assert first.buffers()[1].address == second.buffers()[1].address
    del result  # the imports keep the data alive
    assert first.to_pylist() == [2, 3] and second.to_pylist() == [2, 3]


def test_chunked_arguments_with_different_chunking(gcd_module, pairs):
    a, b = pairs
    left = pa.chunked_array([pa.array(a[:100], pa.int32()), pa.array([], pa.int32()),
                             pa.array(a[100:2500], pa.int32()),
                             pa.array(a[2500:], pa.int32())])
    right = pa.chunked_array([pa.array(b[:1234], pa.int32()), pa.array(b[1234:], pa.int32())])
    result = gcd_module["gcd"](left, right)
    assert isinstance(result, wasmudf.ChunkedArray)
    chunked = pa.chunked_array(result)
    chunked.validate(full=True)
    assert [len(chunk) for chunk in result] == [100, 1134, 1266, 2500]
    assert chunked.to_pylist() == [gcd_or_none(x, y) for x, y in zip(a, b)]


def test_record_batches_and_tables(gcd_module, pairs):
    a, b = pairs
    batch = pa.record_batch({"x": pa.array(a, pa.int32()), "y": pa.array(b, pa.int32())})
    expected = [gcd_or_none(x, y) for x, y in zip(a, b)]
    assert imported(gcd_module["gcd"](batch)).to_pylist() == expected
    table = pa.Table.from_batches([batch.slice(0, 3000), batch.slice(3000)])
    assert pa.chunked_array(gcd_module["gcd"](table)).to_pylist() == expected


def test_zero_rows(gcd_module):
    empty = pa.array([], pa.int32())
    result = imported(gcd_module["gcd"](empty, empty))
    assert result.type == pa.int32() and len(result) == 0
    no_chunks = pa.chunked_array([], pa.int32())
    chunked = pa.chunked_array(gcd_module["gcd"](no_chunks, no_chunks))
    assert chunked.type == pa.int32() and len(chunked) == 0


def test_strings_and_null_handling(example_wasm):
    strings = wasmudf.load(example_wasm("strings"))
    words = ["hello", None, "wasm", "", "ünïcödé", "x" * 10000]
    upper = imported(strings["upper"](pa.array(words)))
    assert upper.to_pylist() == [None if w is None else
                                 "".join(c.upper() if "a" <= c <= "z" else c for c in w)
                                 for w in words]
    left = pa.array(["a", None, "c", None])
    right = pa.array(["x", "y", None, None])
    # CALLED ON NULL INPUT: the guest sees null rows; its rule is that a null
    # counts as empty and only two nulls give null (examples/c/strings.c).
    concat = imported(strings["concat"](left, right)).to_pylist()
    assert concat == ["ax", "y", "c", None]


def test_batch_function(example_wasm):
    batches = wasmudf.load(example_wasm("batches"))
    ids = pa.array([1, 2, 3, 4], pa.int64())
    values = pa.array([1.5, -2.0, None, 4.0])
    result = pa.record_batch(batches["positive"](ids, values))
    result.validate(full=True)
    expected = [(i, v) for i, v in zip(ids.to_pylist(), values.to_pylist())
                if v is not None and v > 0]
    assert list(zip(result.column("id").to_pylist(), result.column("value").to_pylist())) \
        == expected


# ------------------------------------------------------------------ polars

def test_polars_in_and_out(gcd_module, pairs):
    a, b = pairs
    left = pl.Series("a", a, dtype=pl.Int32)
    right = pl.Series("b", b, dtype=pl.Int32)
    result = gcd_module["gcd"](left, right)
    series = pl.Series(result)
    assert series.dtype == pl.Int32
    assert series.to_list() == [gcd_or_none(x, y) for x, y in zip(a, b)]
    # A stream in (a polars Series), chunks out; polars imports them without
    # a copy: the same buffer as pyarrow's import.
    assert isinstance(result, wasmudf.ChunkedArray)
    assert series.to_arrow().buffers()[1].address == \
        pa.chunked_array(result).chunk(0).buffers()[1].address
    frame = pl.DataFrame({"a": left, "b": right})
    from_frame = pl.Series(gcd_module["gcd"](frame))
    assert from_frame.to_list() == series.to_list()


def test_polars_strings(example_wasm):
    strings = wasmudf.load(example_wasm("strings"))
    words = pl.Series("w", ["polars", None, "Arrow"])
    assert pl.Series(strings["upper"](words)).to_list() == ["POLARS", None, "ARROW"]


# ------------------------------------------------------------------ tables

def test_table_function_stream(example_wasm):
    series = wasmudf.load(example_wasm("tables"))["series"]
    starts = [1, 5, None, 10, 7]
    stops = [3, 4, 9, 12, 7]
    stream = series(pa.array(starts, pa.int32()), pa.array(stops, pa.int32()),
                    max_output_rows=2)
    assert isinstance(stream, wasmudf.Stream)
    reader = pa.RecordBatchReader.from_stream(stream)
    table = reader.read_all()
    table.validate(full=True)
    expected = [(row, value) for row, (start, stop) in enumerate(zip(starts, stops))
                if start is not None for value in range(start, stop + 1)]
    assert list(zip(table["input_row"].to_pylist(), table["series"].to_pylist())) == expected
    assert max(batch.num_rows for batch in table.to_batches()) <= 2
    with pytest.raises(ValueError):
        stream.__arrow_c_stream__()  # handed over once


def test_table_function_over_chunks_numbers_rows_across_chunks(example_wasm):
    series = wasmudf.load(example_wasm("tables"))["series"]
    starts = pa.chunked_array([[0, 10], [20], [30, 40]], pa.int32())
    stops = pa.chunked_array([[1], [11, 21, 31], [41]], pa.int32())
    rows = []
    for chunk in series(starts, stops):
        batch = pa.record_batch(chunk)
        rows += list(zip(batch["input_row"].to_pylist(), batch["series"].to_pylist()))
    assert rows == [(r, v) for r, s in enumerate([0, 10, 20, 30, 40]) for v in (s, s + 1)]


def test_table_function_many_rows(example_wasm):
    series = wasmudf.load(example_wasm("tables"))["series"]
    reader = pa.RecordBatchReader.from_stream(
        series(pa.array([0], pa.int32()), pa.array([299_999], pa.int32())))
    values = reader.read_all()["series"]
    assert len(values) == 300_000
    assert pa.compute.sum(values).as_py() == sum(range(300_000))


# -------------------------------------------------------------- aggregates

def test_aggregates_against_pyarrow_group_by(example_wasm):
    aggregates = wasmudf.load(example_wasm("aggregates"))
    rng = np.random.default_rng(3)
    rows, groups = 50_000, 300
    keys = rng.integers(0, groups, rows).astype(np.uint32)
    values = pa.array(rng.normal(size=rows)).to_pylist()
    for i in range(0, rows, 17):
        values[i] = None
    values = pa.array(values, pa.float64())
    accumulator = aggregates["avg"].accumulator()
    half = rows // 2
    accumulator.update(values.slice(0, half), groups=keys[:half])       # numpy ids
    accumulator.update(values.slice(half), groups=pa.array(keys[half:]))  # Arrow ids
    assert accumulator.group_count == groups
    result = pa.array(accumulator.finish()).to_pylist()
    expected = pa.table({"k": keys, "v": values}).group_by("k").aggregate([("v", "mean")])
    by_key = dict(zip(expected["k"].to_pylist(), expected["v_mean"].to_pylist()))
    for key in range(groups):
        assert result[key] == pytest.approx(by_key[key], rel=1e-12)


def test_partial_states_merge_across_instances(example_wasm):
    path = example_wasm("aggregates")
    module = wasmudf.load(path)
    values = pa.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    first = module["avg"].accumulator()
    first.update(values.slice(0, 3), groups=[0, 1, 0])
    second = module.instance()["avg"].accumulator()
    second.update(values.slice(3), groups=[1, 1, 0])
    merged = wasmudf.load(path).instance()["avg"].accumulator()
    merged.merge(first.state(), groups=[0, 1])
    merged.merge(wasmudf.deserialize(wasmudf.serialize(second.state())), groups=[0, 1])
    assert pa.array(merged.finish()).to_pylist() == [(1 + 3 + 6) / 3, (2 + 4 + 5) / 3]


def test_aggregate_call_is_one_group(example_wasm):
    aggregates = wasmudf.load(example_wasm("aggregates"))
    values = pa.chunked_array([[1, None], [2, 3, 4]], pa.int64())
    assert pa.array(aggregates["sum"](values)).to_pylist() == [10]


def test_group_ids_are_checked(example_wasm):
    accumulator = wasmudf.load(example_wasm("aggregates"))["avg"].accumulator()
    with pytest.raises(wasmudf.ArgumentError, match="group id -1"):
        accumulator.update(pa.array([1.0]), groups=[-1])
    with pytest.raises(wasmudf.ArgumentError, match="2 group ids for 1 rows"):
        accumulator.update(pa.array([1.0]), groups=[0, 1])


# ------------------------------------------------------------------ errors

def test_argument_errors(gcd_module):
    gcd = gcd_module["gcd"]
    with pytest.raises(wasmudf.ArgumentError, match="gcd"):
        gcd(pa.array([1, 2], pa.int64()), pa.array([1, 2], pa.int64()))
    with pytest.raises(TypeError, match="__arrow_c_array__"):
        gcd([1, 2], [3, 4])
    with pytest.raises(ValueError, match="same length"):
        gcd(pa.array([1], pa.int32()), pa.array([1, 2], pa.int32()))


def test_a_producers_own_failure_is_raised(gcd_module):
    """An export method that fails raises its own exception; an object with
    only __arrow_c_stream__ is read as a stream."""
    class Failing:
        def __arrow_c_array__(self, requested_schema=None):
            raise ZeroDivisionError("the producer failed")

    class StreamOnly:
        def __init__(self, values):
            self.values = values

        def __arrow_c_stream__(self, requested_schema=None):
            return self.values.__arrow_c_stream__(requested_schema)

    gcd = gcd_module["gcd"]
    with pytest.raises(ZeroDivisionError, match="the producer failed"):
        gcd(Failing(), pa.array([1], pa.int32()))
    result = gcd(StreamOnly(pa.chunked_array([[12], [7]], pa.int32())),
                 pa.array([18, 21], pa.int32()))
    assert pa.chunked_array(result).to_pylist() == [6, 7]


def test_guest_error_carries_the_guests_message(guest_wasm):
    faults = wasmudf.load(guest_wasm("faults"))
    with pytest.raises(wasmudf.GuestError) as info:
        faults["positive"](pa.array([1, -5], pa.int32()))
    assert "positive: row 1 is -5" in str(info.value)
    assert info.value.function == "positive"
    assert pa.array(faults["positive"](pa.array([3], pa.int32()))).to_pylist() == [3]


def test_trap_exit_and_timeout(guest_wasm):
    faults = wasmudf.load(guest_wasm("faults"), timeout_ms=200)
    one = pa.array([1], pa.int32())
    with pytest.raises(wasmudf.TrapError) as trap:
        faults["crash"](one)
    assert trap.value.trap == "unreachable executed" or "unreachable" in trap.value.trap
    with pytest.raises(wasmudf.ExitError) as exit_info:
        faults["quit"](one)
    assert exit_info.value.exit_code == 3
    started = time.monotonic()
    with pytest.raises(wasmudf.TimeoutError) as timeout:
        faults["spin"](one)
    assert isinstance(timeout.value, TimeoutError)
    assert time.monotonic() - started < 5
    # The module's default instance is replaced after a trap broke it.
    assert pa.array(faults["positive"](one)).to_pylist() == [1]


def test_call_limits(example_wasm):
    series = wasmudf.load(example_wasm("tables"))["series"]
    args = (pa.array([0], pa.int32()), pa.array([99_999], pa.int32()))
    with pytest.raises(wasmudf.LimitError, match="result_row_limit"):
        list(series(*args, max_output_rows=1000, result_row_limit=500))
    # A stream's chunks are limited one by one, not in total.
    rows = sum(len(chunk) for chunk in series(*args, max_output_rows=1000,
                                               result_row_limit=1000))
    assert rows == 100_000


def test_traps_still_work_after_faulthandler_takes_sigsegv(guest_wasm):
    import faulthandler
    faults = wasmudf.load(guest_wasm("faults"))
    was_enabled = faulthandler.is_enabled()
    faulthandler.disable()
    faulthandler.enable()  # installs its SIGSEGV handler after the engine's
    try:
        with pytest.raises(wasmudf.TrapError, match="out of bounds"):
            faults["segv"](pa.array([1], pa.int32()))
        assert pa.array(faults["positive"](pa.array([2], pa.int32()))).to_pylist() == [2]
    finally:
        if not was_enabled:
            faulthandler.disable()


def test_broken_instance_stays_broken(guest_wasm):
    instance = wasmudf.load(guest_wasm("faults")).instance()
    with pytest.raises(wasmudf.TrapError):
        instance["crash"](pa.array([1], pa.int32()))
    assert instance.broken
    with pytest.raises(wasmudf.BrokenInstanceError):
        instance["positive"](pa.array([1], pa.int32()))


# ----------------------------------------------------------------- threads

def test_calls_release_the_gil(gcd_module):
    big = pa.array(np.arange(1, 3_000_001, dtype=np.int32))
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.0005)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        before = len(ticks)
        gcd_module["gcd"](big, big)
        during = len(ticks) - before
    finally:
        stop.set()
        ticker.join()
    assert during > 0


def test_map_on_a_thread_pool_keeps_order(gcd_module):
    rng = np.random.default_rng(11)
    batches = [pa.record_batch({"a": pa.array(rng.integers(1, 1000, 2000, dtype=np.int32)),
                                "b": pa.array(rng.integers(1, 1000, 2000, dtype=np.int32))})
               for _ in range(12)]
    results = list(wasmudf.map(gcd_module, "gcd", batches, threads=3))
    assert len(results) == 12
    for batch, result in zip(batches, results):
        expected = np.gcd(batch["a"].to_numpy(), batch["b"].to_numpy())
        assert pa.array(result).to_numpy().tolist() == expected.tolist()


def test_one_instance_serialises_threads(gcd_module):
    gcd = gcd_module["gcd"]
    a = pa.array(np.arange(1, 20001, dtype=np.int32))
    b = pa.array(np.full(20000, 360, dtype=np.int32))
    expected = np.gcd(a.to_numpy(), b.to_numpy()).tolist()
    failures = []

    def work():
        for _ in range(20):
            if pa.array(gcd(a, b)).to_numpy().tolist() != expected:
                failures.append("wrong result")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# ------------------------------------------------------------------ leaks

def resident_kib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 // 1024


@pytest.mark.skipif(bool(os.environ.get("WUDF_PY_SANITIZED")),
                    reason="AddressSanitizer's quarantine holds freed memory")
def test_no_growth_over_many_calls(example_wasm):
    gcd = wasmudf.load(example_wasm("gcd"))["gcd"]
    series = wasmudf.load(example_wasm("tables"))["series"]
    avg = wasmudf.load(example_wasm("aggregates"))["avg"]
    x = pa.array(range(1000), pa.int32())

    def round_trip():
        pa.array(gcd(x, x))
        pa.chunked_array(gcd(pa.chunked_array([x, x]), pa.chunked_array([x.slice(1), x[:1], x])))
        pa.RecordBatchReader.from_stream(series(x.slice(0, 3), x.slice(2, 3))).read_all()
        list(series(x.slice(0, 3), x.slice(5, 3)))
        series(x.slice(0, 3), x.slice(5, 3))  # never read
        accumulator = avg.accumulator()
        accumulator.update(pa.array([1.0, 2.0]), groups=[0, 1])
        pa.array(wasmudf.deserialize(wasmudf.serialize(accumulator.state())))
        pa.array(accumulator.finish())
        with pytest.raises(wasmudf.ArgumentError):
            gcd(x, pa.array([1], pa.int32()))

    for _ in range(300):  # warm-up: allocator pools, caches
        round_trip()
    before = resident_kib()
    for _ in range(1500):
        round_trip()
    grown = resident_kib() - before
    assert grown < 4096, f"resident memory grew by {grown} KiB over 1,500 rounds"


# ------------------------------------------------------------------- docs

def test_the_examples_of_docs_python_md(example_wasm, tmp_path, monkeypatch):
    """Runs every ```python block of docs/python.md, in order, in one
    namespace, in a directory holding the example modules it names."""
    import pathlib
    import re
    import shutil

    for name in ("gcd", "tables", "aggregates", "checked_divide"):
        shutil.copy(example_wasm(name), tmp_path / f"{name}.wasm")
    monkeypatch.chdir(tmp_path)
    text = (pathlib.Path(__file__).resolve().parents[3] / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 7
    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/python.md", "exec"), namespace)
