"""
test_spark.py -- wasmudf.spark on a local Spark session (local[2]).

Scalar results are checked against numpy's gcd computed on the driver,
aggregates against Spark's own avg, sum and collect_list over the same
DataFrame. One session serves the whole file; its Python workers run this
interpreter, so they import the installed wasmudf package.
"""
import math
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

pytest.importorskip("pyspark")

from pyspark.errors import PythonException  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType  # noqa: E402

import wasmudf.spark  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def spark():
    """A local Spark session with two task threads, small memory, four
    shuffle partitions and no UI; stopped after the last test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        patch.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        java = shutil.which("java")
        if "JAVA_HOME" not in os.environ and java:
            patch.setenv("JAVA_HOME", str(pathlib.Path(os.path.realpath(java)).parents[1]))
        session = (SparkSession.builder.master("local[2]")
                   .appName("wasmudf-test-spark")
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.memory", "512m")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.default.parallelism", "4")
                   .getOrCreate())
        session.sparkContext.setLogLevel("FATAL")
        yield session
        session.stop()


def by_key(table, key, value):
    """Returns {key: value} of columns of a pyarrow table; `key` is a column
    name or a list of them (then the keys are tuples)."""
    if isinstance(key, str):
        keys = table.column(key).to_pylist()
    else:
        keys = list(zip(*(table.column(name).to_pylist() for name in key)))
    return dict(zip(keys, table.column(value).to_pylist()))


# -------------------------------------------------------------------- apply

def test_apply_gcd(spark, example_wasm):
    rng = np.random.default_rng(7)
    n = 300_000
    a = rng.integers(-10**6, 10**6, n)                   # int64: cast to gcd's int32
    b = rng.integers(-10**4, 10**4, n).astype(np.int32)
    a_null = rng.random(n) < 0.05
    b_null = rng.random(n) < 0.05
    df = spark.createDataFrame(pa.table({
        "id": np.arange(n),
        "a": pa.array(a, mask=a_null),
        "b": pa.array(b, mask=b_null),
    }))
    out = wasmudf.spark.apply(df, example_wasm("gcd"), "gcd", ["a", "b"], "g")
    assert out.columns == ["id", "a", "b", "g"]
    assert out.schema["g"].dataType == IntegerType()
    result = out.withColumn("partition", F.spark_partition_id()).toArrow().sort_by("id")

    assert len(set(result.column("partition").to_pylist())) >= 2

    assert result.column("id").to_numpy().tolist() == list(range(n))
    assert result.column("a").equals(pa.chunked_array([pa.array(a, mask=a_null)]))
    g = result.column("g").combine_chunks()
    null = a_null | b_null
    assert g.is_null().to_numpy(zero_copy_only=False).tolist() == null.tolist()
    expected = np.gcd(a, b.astype(np.int64))[~null]
    assert np.array_equal(g.drop_null().to_numpy(), expected)


def test_apply_strings_called_on_null_input(spark, example_wasm):
    df = spark.createDataFrame([("a", "b"), (None, "c"), ("d", None), (None, None)],
                               "x string, y string")
    out = wasmudf.spark.apply(df, example_wasm("strings"), "concat", ["x", "y"])
    assert out.schema["concat"].dataType == StringType()
    expected = [(x or "") + (y or "") if x is not None or y is not None else None
                for x, y in [("a", "b"), (None, "c"), ("d", None), (None, None)]]
    assert [row.concat for row in out.collect()] == expected


# ---------------------------------------------------------------- aggregate

@pytest.fixture(scope="module")
def measurements(spark):
    """200,000 rows in 1,000 groups (and a null key): float64 x and int64 v,
    5% of them null; every value of group 7 is null."""
    rng = np.random.default_rng(11)
    n = 200_000
    k = rng.integers(0, 1000, n)
    x = rng.normal(100.0, 25.0, n)
    v = rng.integers(-10**9, 10**9, n)
    k_null = rng.random(n) < 0.001
    x_null = (rng.random(n) < 0.05) | (k == 7)
    v_null = (rng.random(n) < 0.05) | (k == 7)
    return spark.createDataFrame(pa.table({
        "k": pa.array(k, mask=k_null),
        "x": pa.array(x, mask=x_null),
        "v": pa.array(v, mask=v_null),
    })).cache()


def test_aggregate_avg_and_sum_against_spark(measurements, example_wasm):
    wasm = example_wasm("aggregates")
    avg = wasmudf.spark.aggregate(measurements, wasm, "avg", ["x"], group_by=["k"],
                                  alias="avg_x")
    total = wasmudf.spark.aggregate(measurements, wasm, "sum", ["v"], group_by=["k"],
                                    alias="sum_v")
    assert avg.columns == ["k", "avg_x"] and total.columns == ["k", "sum_v"]
    assert avg.schema["avg_x"].dataType == DoubleType()
    assert total.schema["sum_v"].dataType == LongType()
    ours_avg = by_key(avg.toArrow(), "k", "avg_x")
    ours_sum = by_key(total.toArrow(), "k", "sum_v")
    spark_result = measurements.groupBy("k").agg(F.avg("x").alias("avg_x"),
                                                 F.sum("v").alias("sum_v")).toArrow()
    spark_avg = by_key(spark_result, "k", "avg_x")
    spark_sum = by_key(spark_result, "k", "sum_v")

    assert len(spark_avg) == 1001 and None in spark_avg
    assert ours_avg.keys() == spark_avg.keys() and ours_sum.keys() == spark_sum.keys()
    assert ours_sum == spark_sum
    assert ours_avg[7] is None and ours_sum[7] is None
    for key, expected in spark_avg.items():
        if expected is None:
            assert ours_avg[key] is None
        else:
            assert math.isclose(ours_avg[key], expected, rel_tol=1e-12), key


def test_aggregate_without_group_by(measurements, example_wasm):
    wasm = example_wasm("aggregates")
    ours = wasmudf.spark.aggregate(measurements, wasm, "avg", ["x"]).collect()
    expected = measurements.agg(F.avg("x")).collect()[0][0]
    assert len(ours) == 1 and math.isclose(ours[0].avg, expected, rel_tol=1e-12)
    empty = wasmudf.spark.aggregate(measurements.limit(0), wasm, "avg", ["x"]).collect()
    assert [row.avg for row in empty] == [None]


def test_aggregate_string_agg_states_as_bytes(spark, example_wasm):
    # string_agg's STATE has a large_utf8 field, which Spark hands back as
    # utf8: its states cross the shuffle as wasmudf.serialize bytes. Two
    # keys, one a timestamp.
    rng = np.random.default_rng(5)
    n = 20_000
    k = rng.integers(0, 100, n)
    day = (np.datetime64("2024-03-01", "us") + (k % 3) * np.timedelta64(1, "D")
           + rng.integers(0, 2, n) * np.timedelta64(1, "us"))
    df = spark.createDataFrame(pa.table({
        "k": pa.array(k),
        "day": pa.array(day, pa.timestamp("us", tz="UTC")),
        "word": pa.array([f"w{i}" for i in rng.integers(0, 10**6, n)]),
        "sep": pa.array(["|"] * n),
    }))
    out = wasmudf.spark.aggregate(df, example_wasm("aggregates"), "string_agg",
                                  ["word", "sep"], group_by=["k", "day"], alias="words")
    assert out.columns == ["k", "day", "words"]
    ours = by_key(out.toArrow(), ["k", "day"], "words")
    spark_lists = by_key(df.groupBy("k", "day").agg(F.collect_list("word").alias("words"))
                         .toArrow(), ["k", "day"], "words")
    assert ours.keys() == spark_lists.keys() and len(ours) == 200
    for key, words in spark_lists.items():
        assert sorted(ours[key].split("|")) == sorted(words), key


def test_aggregate_by_its_own_argument_column(measurements, example_wasm):
    out = wasmudf.spark.aggregate(measurements.where("k < 3"), example_wasm("aggregates"),
                                  "sum", ["k"], group_by=["k"])
    counts = by_key(measurements.where("k < 3").groupBy("k").count().toArrow(), "k", "count")
    assert by_key(out.toArrow(), "k", "sum") == {key: key * count for key, count in counts.items()}


def test_aggregate_without_arguments(measurements, tmp_path):
    # count_star() of the C suite's guest tests/udf_guests/kinds.c, built
    # with the CLI that conftest.py uses.
    cli = os.environ.get("WUDF_CLI", str(ROOT / "build" / "debug" / "bin" / "wasmudf"))
    wasm = tmp_path / "kinds.wasm"
    subprocess.run([cli, "build", str(ROOT / "tests" / "udf_guests" / "kinds.c"), "-o", str(wasm)],
                   check=True)
    out = wasmudf.spark.aggregate(measurements, str(wasm), "count_star", [], group_by=["k"],
                                  alias="n")
    counts = measurements.groupBy("k").count().toArrow()
    assert by_key(out.toArrow(), "k", "n") == by_key(counts, "k", "count")


# ------------------------------------------------------------------- errors

def test_unknown_function(spark, example_wasm):
    df = spark.createDataFrame([(1, 2)], "a int, b int")
    with pytest.raises(ValueError, match=r"has no function 'nope' \(its functions: gcd\)"):
        wasmudf.spark.apply(df, example_wasm("gcd"), "nope", ["a", "b"], "g")
    with pytest.raises(ValueError, match=r"has no function 'nope'"):
        wasmudf.spark.aggregate(df, example_wasm("gcd"), "nope", ["a"], group_by=["b"])


def test_plan_errors_name_function_and_column(spark, example_wasm):
    df = spark.createDataFrame([(1, 2, "x")], "a int, b int, s string")
    gcd, aggregates = example_wasm("gcd"), example_wasm("aggregates")
    with pytest.raises(ValueError, match=r"function 'gcd': column 's' \(string, Arrow string\) "
                                         r"cannot be argument 2 \(int32\)"):
        wasmudf.spark.apply(df, gcd, "gcd", ["a", "s"], "g")
    with pytest.raises(ValueError, match=r"function 'gcd': column 'c' is not a column"):
        wasmudf.spark.apply(df, gcd, "gcd", ["a", "c"], "g")
    with pytest.raises(ValueError, match=r"function 'gcd' takes 2 argument\(s\)"):
        wasmudf.spark.apply(df, gcd, "gcd", ["a"], "g")
    with pytest.raises(ValueError, match=r"function 'gcd': the DataFrame already has a "
                                         r"column 'b'"):
        wasmudf.spark.apply(df, gcd, "gcd", ["a", "b"], "b")
    with pytest.raises(ValueError, match=r"function 'avg' is an aggregate function"):
        wasmudf.spark.apply(df, aggregates, "avg", ["a"], "g")
    with pytest.raises(ValueError, match=r"function 'gcd' is a scalar function"):
        wasmudf.spark.aggregate(df, gcd, "gcd", ["a", "b"])


def test_value_out_of_range_fails_the_task(spark, example_wasm):
    df = spark.createDataFrame([(1, 2), (2**40, 3)], "a long, b long")
    out = wasmudf.spark.apply(df, example_wasm("gcd"), "gcd", ["a", "b"], "g")
    with pytest.raises(PythonException, match=r"function 'gcd': column 'a' \(int64\) has a "
                                              r"value that does not convert to int32"):
        out.collect()
