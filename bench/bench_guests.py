"""
bench_guests.py -- what the guest languages' convenience forms cost per row: gcd over
1,000,000 int32 rows (no nulls), through the `wasmudf` Python package, for

  - the Rust guest crate (guest/rust): the row-wise form (`fn gcd(a: i32, b: i32) -> i32`,
    export `gcd` of all.wasm) against the vectorized form (arrow's `binary` kernel,
    `gcd_vectorized`), and
  - the Go guest package (guest/go), when its module is given: guest.Map2 (`gcd`) against the
    columnar guest.Scalar (`gcd_columnar`),

as the median of RUNS calls after a warm-up (the Go module on tcc's code: see main), in CPU milliseconds per call and nanoseconds per row.
Both forms of a language pay the same host-side copies, so their difference is the cost of the
form itself.

  build/venv/bin/python bench/bench_guests.py RUST_ALL.wasm [GO_EXAMPLE.wasm]     (make bench-guests)

RUST_ALL.wasm comes from scripts/build-rust-guest.sh --examples DIR (DIR/all.wasm),
GO_EXAMPLE.wasm from scripts/build-go-guest.sh. Not a test: it checks only that both forms
agree. A first run compiles the modules (the Go module with the fast tier: see docs/guests.md).
"""
import os
import statistics
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc

import wasmudf

ROWS = 1_000_000
RUNS = 9


def measure(function, a, b):
    """The median CPU time of one call (the process's, which on a shared machine varies less
    than wall time), in seconds, and the result."""
    result = pa.array(function(a, b))
    times = []
    for _ in range(RUNS):
        start = time.process_time()
        pa.array(function(a, b))
        times.append(time.process_time() - start)
    return statistics.median(times), result


def compare(label, path, row_wise, columnar, a, b):
    module = wasmudf.load(path)
    rows = {}
    for name in (row_wise, columnar):
        seconds, result = measure(module[name], a, b)
        rows[name] = (seconds, result)
        print(f"{label:5} {name:15} {seconds * 1e3:9.2f} ms/call {seconds * 1e9 / ROWS:8.2f} ns/row")
    assert rows[row_wise][1].equals(rows[columnar][1]), f"{label}: the two forms disagree"
    difference = rows[row_wise][0] - rows[columnar][0]
    print(f"{label:5} row-wise minus columnar: {difference * 1e9 / ROWS:+.2f} ns/row")


def main():
    a = pa.array([(i * 7919) % 1_000_003 + 1 for i in range(ROWS)], pa.int32())
    b = pa.array([(i * 104_729) % 65_537 + 1 for i in range(ROWS)], pa.int32())
    if sys.argv[1:2] == ["--go"]:
        compare("go", sys.argv[2], "gcd", "gcd_columnar", a, b)
        return
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    print(f"gcd over {ROWS:,} int32 rows, median of {RUNS} calls (after a warm-up)")
    compare("rust", sys.argv[1], "gcd", "gcd_vectorized", a, b)
    if len(sys.argv) == 3:
        # The package's engine is made once per process, from the environment: the Go module
        # runs in a process of its own, on the fast tier (tcc) without the background cc -O2
        # build, which would take many minutes (docs/guests.md).
        env = dict(os.environ, WASMUDF_FAST_TIER="1", CC="false")
        subprocess.run([sys.executable, __file__, "--go", sys.argv[2]], env=env, check=True)


if __name__ == "__main__":
    main()
