"""bench_cold.py -- cold start against wasmtime, in one run (docs/engine.md, "Tiers").

    python bench_cold.py BENCH_TIERS [--runs N] [--modes tcc-only,...] MODULE.wasm...

For each module: wasmtime's compile of its bytes (PyPI `wasmtime`,
`wasmtime.Module(engine, bytes)` with a new Engine each time, so nothing is
reused) and wasmudf's first load (bench_tiers MODE: validate, wasm2c,
compile, dlopen into an empty cache directory, a new process each time), N
runs each, interleaved so that both see the same machine load; prints the
medians, the spread (min-max) and the ratio of the medians. The default mode,
tcc-only, is the first load the default configuration makes (the fast tier)
without queueing a background cc -O2 build after each run (that build starts
only once the load has returned).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import wasmtime


def wasmtime_compile_ms(data):
    engine = wasmtime.Engine()
    start = time.perf_counter()
    wasmtime.Module(engine, data)
    return (time.perf_counter() - start) * 1000


def wasmudf_load_ms(bench_tiers, mode, path):
    out = subprocess.run([bench_tiers, mode, path, "-"], check=True, capture_output=True,
                         text=True).stdout
    match = re.search(r"first load\s+([0-9.]+) ms", out)
    if not match:
        sys.exit(f"bench_cold: unexpected output of bench_tiers: {out!r}")
    return float(match.group(1))


def spread(values):
    return f"{statistics.median(values):8.1f} ({min(values):.0f}-{max(values):.0f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench_tiers")
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default="tcc-only")
    options = parser.parse_args()
    modes = options.modes.split(",")
    print(f"cold start, median (min-max) of {options.runs} runs, ms; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    header = f"{'module':44} {'KB':>6} {'wasmtime compile':>22}"
    for mode in modes:
        header += f" {'wasmudf ' + mode:>24} {'ratio':>6}"
    print(header)
    for path in options.modules:
        data = open(path, "rb").read()
        times = {"wasmtime": []}
        times.update({mode: [] for mode in modes})
        for _ in range(options.runs):
            times["wasmtime"].append(wasmtime_compile_ms(data))
            for mode in modes:
                times[mode].append(wasmudf_load_ms(options.bench_tiers, mode, path))
        line = f"{path[-44:]:44} {len(data) / 1024:6.0f} {spread(times['wasmtime']):>22}"
        base = statistics.median(times["wasmtime"])
        for mode in modes:
            ratio = statistics.median(times[mode]) / base
            line += f" {spread(times[mode]):>24} {ratio:5.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
