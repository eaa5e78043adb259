"""
bench_kinds_peers.py -- grouped aggregates and a table function through
wasmudf, against the engines users would otherwise run them in, measured in
the same run on the same data, each on one thread:

  - GROUP BY sum(int64) and avg(float64), 1 M rows into 1,000 and 100,000
    groups: wasmudf (examples/c/aggregates.c: wudf_aggregate_update + finish,
    through the ctypes binding of the tests), pyarrow's hash aggregation
    (Table.group_by), and DuckDB (SQL over the same Arrow table);
    The peers hash the key column into groups as part of their GROUP BY;
    wasmudf is handed group ids the engine computed (its API's shape, as
    DataFusion's GroupsAccumulator), so it does less: compare with that in
    mind.
  - series(): 100 input rows yielding 10 M rows, read through wasmudf's
    ArrowArrayStream into pyarrow, against DuckDB's generate_series unnested
    per row.

  WUDF_LIBRARY=.../libwasmudf.so python bench_kinds_peers.py AGGREGATES.wasm TABLES.wasm

Medians of several runs. Not a test: it checks only that the engines agree;
`make bench` runs it when the Python environment of the tests is there.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))

import pyarrow as pa  # noqa: E402

from wudf_ctypes import Aggregate, Module, table  # noqa: E402

try:
    import duckdb
except ImportError:  # DuckDB is optional: `make bench` installs it
    duckdb = None

ROWS, RUNS = 1_000_000, 7


def timed(function):
    """The median milliseconds of RUNS calls of `function`, and its last result."""
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main(aggregates_path, tables_path):
    aggregates = Module(None, aggregates_path)
    tables = Module(None, tables_path)
    ints = pa.array([(i * 7919) % 1000003 - 500000 for i in range(ROWS)], pa.int64())
    floats = pa.array([((i * 104729) % 100003) * 0.25 for i in range(ROWS)], pa.float64())
    connection = duckdb.connect() if duckdb is not None else None
    if connection is not None:
        connection.execute("SET threads TO 1")
    print(f"GROUP BY over {ROWS} rows, median of {RUNS}, one thread each (the peers also hash "
          f"the keys; wasmudf gets group ids):", flush=True)
    for group_count in (1000, 100000):
        groups = [(i * 2654435761) % group_count for i in range(ROWS)]
        data = pa.table({"g": pa.array(groups, pa.uint32()), "i": ints, "f": floats})
        for name, column, peer in (("sum", "i", "sum"), ("avg", "f", "mean")):
            # The group ids cross as a uint32 array made once, as an engine
            # holds them.
            ids = pa.array(groups, pa.uint32())

            def wasm_prepared():
                aggregate = Aggregate(aggregates, name)
                aggregate.update(data[column].combine_chunks(), groups=ids,
                                 group_count=group_count)
                result = aggregate.finish()
                aggregate.close()
                return result

            wasm_ms, result = timed(wasm_prepared)
            arrow_ms, expected = timed(lambda: data.group_by("g", use_threads=False)
                                       .aggregate([(column, peer)]))
            by_group = dict(zip(expected["g"].to_pylist(), expected[f"{column}_{peer}"].to_pylist()))
            got = result.to_pylist()
            assert all(abs(got[g] - v) <= 1e-9 * max(1.0, abs(v)) for g, v in by_group.items())
            line = (f"  {group_count:6d} groups: {name}  wasmudf {wasm_ms:7.2f} ms, "
                    f"pyarrow {arrow_ms:7.2f} ms ({wasm_ms / arrow_ms:.2f}x)")
            if connection is not None:
                connection.register("data", data)
                sql = f"SELECT g, {'sum' if name == 'sum' else 'avg'}({column}) FROM data GROUP BY g"
                duck_ms, _ = timed(lambda: connection.sql(sql).to_arrow_table())
                line += f", DuckDB {duck_ms:7.2f} ms ({wasm_ms / duck_ms:.2f}x)"
            print(line)

    starts = pa.array([i * 1000 for i in range(100)], pa.int32())
    stops = pa.array([i * 1000 + 99999 for i in range(100)], pa.int32())
    # Not validated again by pyarrow (the tests do that): DuckDB's result is
    # not either, and the library has checked every chunk of the guest's.
    wasm_ms, batches = timed(lambda: table(tables, "series", starts, stops, validate=False))
    rows = sum(batch.num_rows for batch in batches)
    assert rows == 10_000_000
    line = f"series(): 100 input rows -> {rows} rows: wasmudf stream into pyarrow {wasm_ms:7.2f} ms"
    if connection is not None:
        connection.register("bounds", pa.table({"s": starts, "e": stops}))
        sql = "SELECT unnest(generate_series(s, e)) FROM bounds"
        duck_ms, result = timed(lambda: connection.sql(sql).to_arrow_table())
        assert result.num_rows == rows
        line += f", DuckDB {duck_ms:7.2f} ms ({wasm_ms / duck_ms:.2f}x)"
    print(line)
    aggregates.close()
    tables.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: bench_kinds_peers.py AGGREGATES.wasm TABLES.wasm")
    main(sys.argv[1], sys.argv[2])
