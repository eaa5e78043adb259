"""
bench_python.py -- what a WebAssembly UDF costs from Python, in one run:

  (a) the overhead of one call of the `wasmudf` package, m["gcd"](a, b) on
      pyarrow int32 arrays of 1 and 1,024 rows: the median of many calls, in
      microseconds, alone and with pyarrow.array() importing the result;
  (b) DuckDB: SELECT sum(gcd(a, b)) over 10,000,000 rows with the wasm UDF
      (wasmudf.duckdb.register) against the same query with DuckDB's native
      gcd, on DuckDB's default number of threads and on one, with the ratio.

  build/venv/bin/python bench/bench_python.py [GCD.wasm]

Without an argument it builds examples/c/gcd.c with the CLI named by
$WUDF_CLI (default: build/release/bin/wasmudf, else build/debug/bin/wasmudf).
Needs the installed wasmudf package, pyarrow and DuckDB (with numpy). Not a
test: it checks only that the two queries agree.
"""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb
import pyarrow as pa

import wasmudf
import wasmudf.duckdb

ROOT = pathlib.Path(__file__).resolve().parents[1]
CALLS = 2000          # calls per row count in (a), in blocks of BLOCK
BLOCK = 20
DUCKDB_ROWS = 10_000_000
RUNS = 5              # runs per query in (b)


def build_gcd(directory):
    """Builds examples/c/gcd.c with the CLI and returns the module's path."""
    cli = os.environ.get("WUDF_CLI")
    if cli is None:
        candidates = [ROOT / "build" / kind / "bin" / "wasmudf" for kind in ("release", "debug")]
        cli = str(next((path for path in candidates if path.exists()), candidates[0]))
    target = os.path.join(directory, "gcd.wasm")
    subprocess.run([cli, "build", str(ROOT / "examples" / "c" / "gcd.c"), "-o", target],
                   check=True)
    return target


def per_call_us(call):
    """The median microseconds of one call of `call`, over CALLS calls timed
    in blocks of BLOCK (after a warm-up block)."""
    for _ in range(BLOCK):
        call()
    blocks = []
    for _ in range(CALLS // BLOCK):
        start = time.perf_counter()
        for _ in range(BLOCK):
            call()
        blocks.append((time.perf_counter() - start) / BLOCK * 1e6)
    return statistics.median(blocks)


def call_overhead(module):
    """Prints (a): the cost of one call on 1 and 1,024 rows."""
    gcd = module["gcd"]
    print(f"(a) m['gcd'](a, b) on pyarrow int32 arrays, median of {CALLS} calls")
    print(f"    {'rows':>6}  {'call (us)':>10}  {'+ pa.array (us)':>16}  {'per row (ns)':>13}")
    for rows in (1, 1024):
        a = pa.array([(i * 7919) % 100000 + 1 for i in range(rows)], pa.int32())
        b = pa.array([(i * 104729) % 100000 + 1 for i in range(rows)], pa.int32())
        alone = per_call_us(lambda: gcd(a, b))
        imported = per_call_us(lambda: pa.array(gcd(a, b)))
        print(f"    {rows:>6}  {alone:>10.2f}  {imported:>16.2f}  {imported * 1000 / rows:>13.1f}")


def timed_query(con, query):
    """The median seconds of RUNS runs of `query`, and its result."""
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = con.execute(query).fetchall()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def duckdb_queries(module):
    """Prints (b): the wasm UDF against DuckDB's native gcd in SQL."""
    con = duckdb.connect()
    wasmudf.duckdb.register(con, module, prefix="wasm_")
    con.execute(f"""
        CREATE TABLE t AS SELECT (hash(i) % 1000000)::INTEGER AS a,
                                 (hash(i + 1) % 1000000)::INTEGER AS b
        FROM range({DUCKDB_ROWS}) r(i)""")
    default_threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    print(f"(b) DuckDB {duckdb.__version__}: SELECT sum(gcd(a, b)) FROM t, {DUCKDB_ROWS:,} rows, "
          f"median of {RUNS} runs")
    print(f"    {'threads':>7}  {'wasm UDF (s)':>12}  {'native (s)':>10}  {'wasm / native':>13}"
          f"  {'wasm (ns/row)':>13}")
    for threads in sorted({default_threads, 1}, reverse=True):
        con.execute(f"SET threads = {threads}")
        wasm, wasm_result = timed_query(con, "SELECT sum(wasm_gcd(a, b)) FROM t")
        native, native_result = timed_query(con, "SELECT sum(gcd(a, b)) FROM t")
        if wasm_result != native_result:
            sys.exit(f"bench_python: the results differ: {wasm_result} != {native_result}")
        print(f"    {threads:>7}  {wasm:>12.3f}  {native:>10.3f}  {wasm / native:>13.1f}"
              f"  {wasm * 1e9 / DUCKDB_ROWS:>13.1f}")


def main(arguments):
    with tempfile.TemporaryDirectory() as directory:
        path = arguments[0] if arguments else build_gcd(directory)
        module = wasmudf.load(path)
        call_overhead(module)
        duckdb_queries(module)


if __name__ == "__main__":
    main(sys.argv[1:])
