"""
test_duckdb.py -- wasmudf.duckdb: WebAssembly scalar functions as DuckDB
functions, table functions as relations, aggregates through the helper,
each checked against DuckDB's own functions (gcd, upper, concat,
generate_series, avg, sum) over a million rows or more; the types DuckDB
gives every declared type, through identity functions; errors, traps and
deadlines of guests inside queries; and the examples of docs/duckdb.md,
run as doctests.
"""
import datetime
import decimal
import doctest
import os
import pathlib
import shutil
import subprocess

import pytest

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")

import wasmudf  # noqa: E402
import wasmudf.duckdb  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def alltypes_wasm(tmp_path_factory):
    """tests/udf_guests/alltypes.c (an identity function of every type) built
    for wasm32 with the CLI of conftest.py."""
    cli = os.environ.get("WUDF_CLI", str(ROOT / "build" / "debug" / "bin" / "wasmudf"))
    target = tmp_path_factory.mktemp("alltypes") / "alltypes.wasm"
    subprocess.run([cli, "build", str(ROOT / "tests" / "udf_guests" / "alltypes.c"),
                    "-o", str(target)], check=True)
    return str(target)


def test_doc_examples(example_wasm, tmp_path, monkeypatch):
    """Every >>> example of docs/duckdb.md runs and prints what the page shows."""
    for name in ["gcd", "strings", "tables", "aggregates", "checked_divide"]:
        shutil.copy(example_wasm(name), tmp_path / f"{name}.wasm")
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(ROOT / "docs" / "duckdb.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted >= 20


def _one(con, query):
    """The only row of `query`'s result, read to its end (DuckDB keeps a
    connection busy until then)."""
    rows = con.execute(query).fetchall()
    assert len(rows) == 1
    return rows[0]


def test_gcd_over_a_million_rows_with_nulls(con, example_wasm):
    assert wasmudf.duckdb.register(con, example_wasm("gcd"), prefix="wasm_") == ["wasm_gcd"]
    con.execute("""
        CREATE TABLE t AS SELECT
          CASE WHEN i % 97 = 0 THEN NULL ELSE (hash(i) % 2000001)::INTEGER - 1000000 END AS a,
          CASE WHEN i % 89 = 0 THEN NULL ELSE (hash(i + 7) % 200001)::INTEGER - 100000 END AS b
        FROM range(1200000) r(i)""")
    differing, nulls, total = _one(con, """
        SELECT count(*) FILTER (WHERE wasm_gcd(a, b) IS DISTINCT FROM gcd(a, b)),
               count(*) FILTER (WHERE wasm_gcd(a, b) IS NULL),
               sum(wasm_gcd(a, b)) FROM t""")
    expected_nulls, expected_total = _one(
        con, "SELECT count(*) FILTER (WHERE a IS NULL OR b IS NULL), sum(gcd(a, b)) FROM t")
    assert differing == 0
    assert nulls == expected_nulls > 20000
    assert total == expected_total
    described = _one(con, """
        SELECT parameter_types, return_type, has_side_effects FROM duckdb_functions()
        WHERE function_name = 'wasm_gcd'""")
    assert described == (["INTEGER", "INTEGER"], "INTEGER", True)


def test_upper_and_concat_called_on_null_input(con, example_wasm):
    assert wasmudf.duckdb.register(con, example_wasm("strings"), prefix="wasm_") == [
        "wasm_upper", "wasm_concat"]
    con.execute("""
        CREATE TABLE s AS SELECT
          CASE WHEN i % 7 = 0 THEN NULL ELSE 'word ' || md5(i::VARCHAR) END AS l,
          CASE WHEN i % 5 = 0 THEN NULL ELSE repeat('xY', i % 9) END AS r
        FROM range(200000) t(i)""")
    upper_differing, concat_differing, concat_nulls, both_null = _one(con, """
        SELECT count(*) FILTER (WHERE wasm_upper(l) IS DISTINCT FROM upper(l)),
               count(*) FILTER (WHERE wasm_concat(l, r) IS DISTINCT FROM
                                CASE WHEN l IS NULL AND r IS NULL THEN NULL
                                     ELSE concat(l, r) END),
               count(*) FILTER (WHERE wasm_concat(l, r) IS NULL),
               count(*) FILTER (WHERE l IS NULL AND r IS NULL)
        FROM s""")
    assert (upper_differing, concat_differing) == (0, 0)
    assert concat_nulls == both_null > 1000
    # The guest's upper is ASCII-only: other UTF-8 passes through unchanged.
    assert _one(con, "SELECT wasm_upper('straße'), wasm_concat(NULL, 'é')") == ("STRAßE", "é")


def test_series_relation_over_a_million_rows(con, example_wasm):
    con.execute("""
        CREATE TABLE ranges AS SELECT i AS id,
          CASE WHEN i % 100 = 99 THEN NULL ELSE (i * 3000)::INTEGER END AS start,
          (i * 3000 + (CASE WHEN i % 50 = 7 THEN -2 ELSE 999 + i % 2 END))::INTEGER AS stop
        FROM range(1100) t(i)""")
    numbers = wasmudf.duckdb.table(con, example_wasm("tables"), "series",
                                   "SELECT start, stop, id FROM ranges ORDER BY id",
                                   keep=["id"], view="numbers")
    assert numbers.columns == ["input_row", "id", "series"]
    assert [str(t) for t in numbers.types] == ["BIGINT", "BIGINT", "INTEGER"]
    expected = """
        SELECT id AS input_row, id, unnest(generate_series(start, stop))::INTEGER AS series
        FROM ranges"""
    count = _one(con, "SELECT count(*) FROM numbers")
    assert count == _one(con, f"SELECT count(*) FROM ({expected})")
    assert count[0] > 1000000
    missing = _one(con, f"SELECT count(*) FROM (({expected}) EXCEPT ALL FROM numbers)")
    extra = _one(con, f"SELECT count(*) FROM (FROM numbers EXCEPT ALL ({expected}))")
    assert missing == extra == (0,)
    # The relation is scanned again by every query, here twice in one.
    assert _one(con, "SELECT count(*) FROM numbers a JOIN numbers b USING (input_row, series) "
                     "WHERE a.input_row < 3") == (1000 + 1001 + 1000,)


def test_split_relation_keeps_columns(con, example_wasm):
    words = wasmudf.duckdb.table(
        con, example_wasm("tables"), "split",
        "SELECT * FROM (VALUES (10, 'a b', ' '), (11, NULL, ' '), (12, 'c', ' ')) "
        "v(id, text, sep)", keep=["id"])
    assert words.order("input_row, split").fetchall() == [
        (0, 10, "a"), (0, 10, "b"), (2, 12, "c")]


def test_avg_and_sum_match_group_by(con, example_wasm):
    con.execute("""
        CREATE TABLE m AS SELECT
          CASE WHEN i % 1000 = 3 THEN NULL ELSE (hash(i) % 5000)::INTEGER END AS k,
          (i % 3)::VARCHAR AS k2,
          CASE WHEN i % 13 = 0 THEN NULL ELSE (hash(i + 1) % 1000)::DOUBLE / 8 END AS x,
          CASE WHEN i % 17 = 0 THEN NULL ELSE (hash(i + 2) % 1000000)::BIGINT - 500000 END AS n
        FROM range(1000000) t(i)""")
    aggregates = example_wasm("aggregates")
    averages = wasmudf.duckdb.aggregate(con, aggregates, "avg", "SELECT k, x FROM m",
                                        args=["x"], group_by=["k"], view="averages")
    assert averages.columns == ["k", "avg"]
    keys = averages.to_arrow_table().column("k").to_pylist()
    assert keys == sorted(keys[:-1]) + [None] and len(keys) == 5001
    differing = _one(con, """
        SELECT count(*) FROM (SELECT k, avg(x) AS expected FROM m GROUP BY k) e
        FULL JOIN averages a ON a.k IS NOT DISTINCT FROM e.k
        WHERE a.avg IS DISTINCT FROM e.expected
          AND NOT abs(a.avg - e.expected) <= 1e-12 * abs(e.expected)""")
    assert differing == (0,)
    sums = wasmudf.duckdb.aggregate(con, aggregates, "sum", "SELECT k2, k, n FROM m",
                                    args=["n"], group_by=["k2", "k"])
    expected = con.execute("SELECT k2, k, sum(n)::BIGINT FROM m GROUP BY k2, k "
                           "ORDER BY k2, k NULLS LAST").fetchall()
    assert sums.fetchall() == expected
    total = wasmudf.duckdb.aggregate(con, aggregates, "sum", "SELECT n FROM m", args=["n"])
    assert total.fetchall() == con.execute("SELECT sum(n)::BIGINT AS sum FROM m").fetchall()


def test_aggregate_of_no_rows(con, example_wasm):
    aggregates = example_wasm("aggregates")
    query = "SELECT 1 AS k, 2.0::DOUBLE AS x WHERE false"
    assert wasmudf.duckdb.aggregate(con, aggregates, "avg", query, args=["x"]).fetchall() == [
        (None,)]
    assert wasmudf.duckdb.aggregate(con, aggregates, "avg", query, args=["x"],
                                    group_by=["k"]).fetchall() == []


def test_guest_error_surfaces_from_the_query(con, example_wasm):
    wasmudf.duckdb.register(con, example_wasm("checked_divide"))
    con.execute("CREATE TABLE d AS SELECT i AS a, 10 - i % 11 AS b FROM range(5000) t(i)")
    with pytest.raises(duckdb.Error) as raised:
        con.execute("SELECT sum(checked_divide(a, b)) FROM d").fetchall()
    message = str(raised.value)
    assert "GuestError" in message and "function 'checked_divide' failed" in message
    assert "division by zero in row" in message
    assert _one(con, "SELECT sum(checked_divide(a, b)) FROM d WHERE b <> 0") == (
        _one(con, "SELECT sum(a // b) FROM d WHERE b <> 0"))


def test_traps_and_deadlines_inside_queries(con, guest_wasm):
    module = wasmudf.load(guest_wasm("faults"), timeout_ms=200)
    wasmudf.duckdb.register(con, module, prefix="f_", functions=["crash", "spin", "positive"])
    with pytest.raises(duckdb.Error, match="TrapError: function 'crash'"):
        con.execute("SELECT f_crash(1)").fetchall()
    with pytest.raises(duckdb.Error, match="TimeoutError: function 'spin'.*200 ms"):
        con.execute("SELECT f_spin(1)").fetchall()
    # A trap breaks the module's default instance; the next call gets a new one.
    assert _one(con, "SELECT sum(f_positive(i::INTEGER)) FROM range(10) t(i)") == (45,)


def test_register_errors(con, example_wasm):
    strings = example_wasm("strings")
    with pytest.raises(duckdb.CatalogException, match=r"upper\(utf8\) -> utf8 as 'upper'"):
        wasmudf.duckdb.register(con, strings)
    con.create_function("x_concat", lambda a, b: a, ["VARCHAR", "VARCHAR"], "VARCHAR",
                        type="arrow")
    with pytest.raises(duckdb.Error, match="'x_concat'"):
        wasmudf.duckdb.register(con, strings, prefix="x_")
    # x_upper, registered before x_concat failed, is gone again.
    assert _one(con, "SELECT count(*) FROM duckdb_functions() "
                     "WHERE function_name = 'x_upper'") == (0,)
    with pytest.raises(TypeError, match="series.* is a table function, not a scalar one"):
        wasmudf.duckdb.register(con, example_wasm("tables"), functions=["series"])
    with pytest.raises(KeyError, match="no function 'nope'"):
        wasmudf.duckdb.table(con, example_wasm("tables"), "nope", "SELECT 1")
    with pytest.raises(ValueError, match=r"takes 2 arguments, got the columns \['a'\]"):
        wasmudf.duckdb.table(con, example_wasm("tables"), "series", "SELECT 1 AS a")
    with pytest.raises(ValueError, match="the query has no column 'y'"):
        wasmudf.duckdb.aggregate(con, example_wasm("aggregates"), "avg", "SELECT 1.0 AS x",
                                 args=["y"])
    module = wasmudf.load(example_wasm("gcd"))
    with pytest.raises(ValueError, match="options of loading"):
        wasmudf.duckdb.register(con, module, timeout_ms=5)


DATES = [datetime.date(2024, 2, 29), None, datetime.date(1969, 7, 20)]
# Declared type -> (the DuckDB type it gets, values that go through the
# identity function of alltypes.c and back): docs/duckdb.md's table of types.
TYPES = {
    "null": ('"NULL"', [None, None]),
    "bool": ("BOOLEAN", [True, None, False]),
    "int8": ("TINYINT", [-128, None, 127]),
    "int16": ("SMALLINT", [-3, None, 300]),
    "int32": ("INTEGER", [-3, None, 1 << 30]),
    "int64": ("BIGINT", [-3, None, 1 << 60]),
    "uint8": ("UTINYINT", [0, None, 255]),
    "uint16": ("USMALLINT", [0, None, 65535]),
    "uint32": ("UINTEGER", [0, None, (1 << 32) - 1]),
    "uint64": ("UBIGINT", [0, None, (1 << 64) - 1]),
    "float32": ("FLOAT", [1.5, None, -0.25]),
    "float64": ("DOUBLE", [1.5, None, 1e300]),
    "decimal32(9, 2)": ("DECIMAL(9,2)", [decimal.Decimal("-1.25"), None, decimal.Decimal("9.99")]),
    "decimal64(18, 3)": ("DECIMAL(18,3)", [decimal.Decimal("123456789012.345"), None]),
    "decimal128(38, 10)": ("DECIMAL(38,10)", [decimal.Decimal("-1234567890123.0123456789"), None]),
    "date32": ("DATE", DATES),
    "date64": ("DATE", DATES),
    "time32(s)": ("TIME", [datetime.time(1, 2, 3), None]),
    "time32(ms)": ("TIME", [datetime.time(1, 2, 3, 456000), None]),
    "time64(us)": ("TIME", [datetime.time(1, 2, 3, 456789), None]),
    "time64(ns)": ("TIME_NS", [datetime.time(1, 2, 3, 456789), None]),
    "timestamp(s)": ("TIMESTAMP_S", [datetime.datetime(2024, 1, 2, 3, 4, 5), None]),
    "timestamp(ms)": ("TIMESTAMP_MS", [datetime.datetime(2024, 1, 2, 3, 4, 5, 6000), None]),
    "timestamp(us)": ("TIMESTAMP", [datetime.datetime(2024, 1, 2, 3, 4, 5, 6007), None]),
    "timestamp(ns)": ("TIMESTAMP_NS", [datetime.datetime(2024, 1, 2, 3, 4, 5, 6007), None]),
    'timestamp(us, "UTC")': ("TIMESTAMP WITH TIME ZONE", [1_700_000_000_123_456, None]),
    'timestamp(ns, "Europe/Paris")': ("TIMESTAMPTZ_NS", [1_700_000_000_123_456_789, None]),
    'timestamp(ms, "+05:30")': ("TIMESTAMP WITH TIME ZONE", [1_700_000_000_123, None]),
    "interval(month_day_nano)": ("INTERVAL", [pa.MonthDayNano([1, 2, 3000]), None]),
    "fixed_size_binary(5)": ("BLOB", [b"ab\x00cd", None]),
    "utf8": ("VARCHAR", ["añb", None, ""]),
    "large_utf8": ("VARCHAR", ["añb", None, ""]),
    "utf8_view": ("VARCHAR", ["a string longer than twelve bytes", None, "short"]),
    "binary": ("BLOB", [b"\x00\xff", None]),
    "large_binary": ("BLOB", [b"\x00\xff", None]),
    "binary_view": ("BLOB", [b"\x00\xff" * 10, None]),
    "list<int32>": ("INTEGER[]", [[1, None, 3], None, []]),
    "large_list<utf8>": ("VARCHAR[]", [["a", None], None, []]),
    "fixed_size_list<int16, 3>": ("SMALLINT[3]", [[1, None, 3], None]),
    "list<list<int64>>": ("BIGINT[][]", [[[1], [], None], None]),
    "list<struct<x: int32, y: int32>>": ("STRUCT(x INTEGER, y INTEGER)[]",
                                         [[{"x": 1, "y": None}], None]),
    "struct<a: int32, b: utf8, c: list<float64>>": (
        "STRUCT(a INTEGER, b VARCHAR, c DOUBLE[])", [{"a": 1, "b": "x", "c": [0.5]}, None]),
    "struct<s: struct<x: int8, y: bool>, m: map<int32, utf8>>": (
        "STRUCT(s STRUCT(x TINYINT, y BOOLEAN), m MAP(INTEGER, VARCHAR))",
        [{"s": {"x": 1, "y": True}, "m": [(1, "one")]}, None]),
    "struct<>": ("STRUCT", [{}, None]),
    "map<utf8, int32>": ("MAP(VARCHAR, INTEGER)", [[("a", 1), ("b", None)], None, []]),
    "map<int64, list<utf8>>": ("MAP(BIGINT, VARCHAR[])", [[(1, ["x", None])], None]),
    "sparse_union<i: int32, s: utf8>": ("UNION(i INTEGER, s VARCHAR)", None),
    "dictionary<int8, utf8>": ("VARCHAR", ["a", None, "a", "b"]),
    "dictionary<uint64, utf8>": ("VARCHAR", ["a", None, "a"]),
    "dictionary<uint32, int64>": ("BIGINT", [5, None, 5, 6]),
    "dictionary<int64, large_utf8, ordered>": ("VARCHAR", ["b", "a", None]),
    "dictionary<uint8, binary_view>": ("BLOB", [b"x", None, b"x"]),
    "struct<d: dictionary<int32, utf8>>": ("STRUCT(d VARCHAR)", [{"d": "a"}, None]),
    "run_end_encoded<int32, int64>": ("BIGINT", [7, 7, None, 8]),
    "run_end_encoded<int16, utf8>": ("VARCHAR", ["a", "a", None]),
    "run_end_encoded<int64, float64>": ("DOUBLE", [1.5, None, None]),
}
# Declared types DuckDB cannot pass -> what the error says.
UNSUPPORTED = {
    "float16": "DuckDB cannot take Arrow type halffloat",
    "decimal256(76, 20)": "DuckDB cannot take Arrow type decimal256(76, 20)",
    "duration(s)": "pyarrow cannot convert to the declared duration",
    "interval(months)": "pyarrow cannot convert to the declared month_interval",
    "interval(day_time)": "pyarrow cannot convert to the declared day_time_interval",
    "list_view<int32>": "pyarrow cannot convert to the declared list_view",
    "dense_union<i: int32, s: utf8, f: float64>": "DuckDB cannot take Arrow type dense_union",
    "dictionary<int8, dictionary<int8, utf8>>": "must not be or hold dictionaries",
}


def _sample(arrow_type, values):
    """An array of `arrow_type` holding `values` (None: a sparse union's own)."""
    if pa.types.is_union(arrow_type):
        return pa.UnionArray.from_sparse(pa.array([0, 1, 0], pa.int8()),
                                         [pa.array([1, None, 3], pa.int32()),
                                          pa.array(["x", "y", None])], ["i", "s"])
    if pa.types.is_run_end_encoded(arrow_type):
        return pc.run_end_encode(pa.array(values, arrow_type.value_type),
                                 run_end_type=arrow_type.run_end_type)
    if pa.types.is_dictionary(arrow_type):
        return pc.dictionary_encode(pa.array(values, arrow_type.value_type)).cast(arrow_type)
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is not None:
        return pa.array(values, pa.int64()).cast(arrow_type)
    return pa.array(values, arrow_type)


def _identities(alltypes_wasm):
    module = wasmudf.load(alltypes_wasm)
    return module, {f.arg_types[0]: f for f in module.functions
                    if f.name.startswith("id_") and f.name != "id_deep"}


def test_types_round_trip(con, alltypes_wasm):
    module, identities = _identities(alltypes_wasm)
    for declared, (sql, values) in TYPES.items():
        function = identities[declared]
        assert wasmudf.duckdb.register(con, module, functions=[function.name]) == [function.name]
        described = con.execute(f"SELECT parameter_types, return_type FROM duckdb_functions() "
                            f"WHERE function_name = '{function.name}'").fetchall()
        assert described == [([sql], sql)], declared
        sample = _sample(pa.schema(function.arg_schema).field(0).type, values)
        rows = con.from_arrow(pa.table({"v": sample}))
        same = rows.aggregate(f"bool_and({function.name}(v) IS NOT DISTINCT FROM v), count(*)")
        assert same.fetchall() == [(True, len(sample))], declared


def test_types_duckdb_cannot_take(con, alltypes_wasm):
    module, identities = _identities(alltypes_wasm)
    for declared, reason in UNSUPPORTED.items():
        function = identities[declared]
        with pytest.raises(TypeError) as raised:
            wasmudf.duckdb.register(con, module, functions=["id_int32", function.name])
        assert function.signature in str(raised.value) and reason in str(raised.value)
    # Types are checked before anything is registered.
    assert _one(con, "SELECT count(*) FROM duckdb_functions() "
                     "WHERE function_name = 'id_int32'") == (0,)
