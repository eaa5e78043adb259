"""
suite.py -- the benchmark suite of issue 12 (docs/performance.md): every
kernel of bench/kernels at every batch size through five runners on the
same data, and the cold start of three modules, in one run.

  python bench/suite/suite.py [--quick] [--kernels a,b|none] [--sizes 1,1024]
                              [--runners native,wasmudf,wasmudf-view,wasmtime,v8]
                              [--samples N] [--no-cold] [--cold-modules c,rust,go]
                              [--cold-repeats N] [--build build/release]
                              [--out build/bench]

`make bench-suite` builds the library and runs it. Steps:

1. builds the kernels (bench/kernels/NAME.c, `wasmudf build`) and the
   cold-start modules: examples/c/gcd.c (`wasmudf build`), the Rust guest of
   examples/rust (scripts/build-rust-guest.sh) and the Go reactor of
   bench/guests/go (GOOS=wasip1 go build -buildmode=c-shared);
2. makes each kernel's argument batch per size (kernels.py, deterministic)
   as wudf_array_serialize bytes, once;
3. per kernel and size, runs each runner over those bytes in a process of
   its own (bench_suite native, wasmudf and wasmudf-view, host_wasmtime.py,
   host_node.mjs): one untimed call whose result is kept, warm-up calls
   (one sample's worth and at least 0.3 s), then SAMPLES samples; a sample is max(1, 65,536 /
   rows) calls (at most 1,000), timed together;
4. compares every runner's result with native's (wasmudf.deserialize
   validates it; pyarrow compares) and fails on any difference;
5. times first loads (wasmudf by default -- the fast tier -- and with
   fast_tier = 0, cc -O2 before the load returns; a fresh cache
   directory each) against wasmtime's Module(engine, bytes) (a fresh
   engine each);
6. prints the table and the targets of issue 12, writes OUT/suite.csv,
   OUT/cold.csv and OUT/suite.png.

Times are medians of the samples; the spread is (max - min) / median.
"""
import argparse
import csv
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import compare  # noqa: E402
import kernels  # noqa: E402

RUNNERS = ["native", "wasmudf", "wasmudf-view", "wasmtime", "v8"]
COLD_MODULES = ["c", "rust", "go"]


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    """Runs a command; its failure ends the suite with the command's output."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"suite: {' '.join(map(str, command))} failed ({result.returncode}):\n"
                 f"{result.stdout}{result.stderr}")
    return result.stdout


def newer(target, *sources):
    return target.exists() and all(target.stat().st_mtime >= s.stat().st_mtime
                                   for s in sources)


def build_modules(args, cli):
    """Builds the kernels and the cold-start modules; returns the kernel
    modules {name: path} and the cold modules {name: path} that could be
    built (a missing toolchain skips its module, with a note)."""
    kernel_dir = args.out / "kernels"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    # The guest SDK the CLI links into every kernel: a kernel older than it
    # is built again.
    sdk = [path for path in (cli.parent.parent / "share" / "wasmudf" / "wudf_guest.o",
                             ROOT / "include" / "wasmudf" / "guest.h") if path.exists()]
    for name in args.kernels:
        source = ROOT / "bench" / "kernels" / f"{name}.c"
        target = kernel_dir / f"{name}.wasm"
        if not newer(target, source, cli, *sdk):
            run([cli, "build", source, "-o", target])
        built[name] = target
    cold = {}
    if args.cold:
        modules = args.out / "modules"
        modules.mkdir(parents=True, exist_ok=True)
        if "c" in args.cold_modules:
            target = modules / "c_gcd.wasm"
            run([cli, "build", ROOT / "examples" / "c" / "gcd.c", "-o", target])
            cold["c"] = target
        if "rust" in args.cold_modules:
            target = modules / "rust_guest.wasm"
            log("suite: building the Rust guest (scripts/build-rust-guest.sh; minutes the "
                "first time)")
            run([ROOT / "scripts" / "build-rust-guest.sh", target])
            cold["rust"] = target
        if "go" in args.cold_modules:
            target = modules / "go_guest.wasm"
            if shutil.which("go") is None:
                log("suite: no `go` on PATH: the Go module's cold start is skipped")
            else:
                run(["go", "build", "-buildmode=c-shared", "-o", target, "."],
                    cwd=ROOT / "bench" / "guests" / "go",
                    env=dict(os.environ, GOOS="wasip1", GOARCH="wasm"))
                cold["go"] = target
    return built, cold


def calls_per_sample(rows):
    return max(1, min(1000, 65536 // rows))


def make_data(args):
    import wasmudf
    data_dir = args.out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in args.kernels:
        for rows in args.sizes:
            path = data_dir / f"{name}-{rows}.bin"
            path.write_bytes(wasmudf.serialize(kernels.make_args(name, rows)))
            paths[name, rows] = path
    return paths


def runner_command(runner, args, plan):
    if runner in ("native", "wasmudf", "wasmudf-view"):
        return [args.build / "bench" / "bench_suite", "run", runner, plan]
    if runner == "wasmtime":
        return [sys.executable, HERE / "host_wasmtime.py", plan]
    return ["node", "--no-warnings", HERE / "host_node.mjs", plan]


def run_kernels(args, modules, data):
    """Runs every runner over every kernel; returns {(kernel, rows, runner):
    [microseconds per call, one per sample]}, after checking every result
    against native's."""
    results_dir = args.out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    times = {}
    env = dict(os.environ, WASMUDF_CACHE_DIR=str(args.out / "cache"))
    for name in args.kernels:
        kind, function = kernels.KERNELS[name]
        started = time.time()
        for rows in args.sizes:
            # One process per cell: an earlier cell's allocations do not
            # shape this one's (malloc's thresholds, the guest's heap).
            for runner in args.runners:
                plan = args.out / f"plan-{runner}-{name}-{rows}.txt"
                plan.write_text(f"{name} {kind} {function} {kernels.groups_of(name, rows)} "
                                f"{rows} {modules[name]} {data[name, rows]} "
                                f"{results_dir / f'{runner}-{name}-{rows}.bin'} "
                                f"{args.samples} {calls_per_sample(rows)}\n")
                for line in run(runner_command(runner, args, plan), env=env).splitlines():
                    fields = line.split()
                    if fields and fields[0] == "RESULT":
                        times[name, int(fields[2]), runner] = [float(t) for t in fields[3:]]
        log(f"suite: {name:<10} {time.time() - started:6.1f} s")
        for rows in args.sizes:
            if "native" not in args.runners:
                break
            expected = compare.read_results(results_dir / f"native-{name}-{rows}.bin")
            for runner in args.runners:
                got = compare.read_results(results_dir / f"{runner}-{name}-{rows}.bin")
                if not compare.same(expected, got):
                    sys.exit(f"suite: {runner} computed a wrong result for {name} at {rows} "
                             f"rows:\n  expected {expected.type} {expected[:5]}\n"
                             f"  got {got.type} {got[:5]}")
    return times


def wasmtime_compile_ms(path, repeats):
    import wasmtime
    wasm = pathlib.Path(path).read_bytes()
    out = []
    for _ in range(repeats):
        engine = wasmtime.Engine()
        start = time.perf_counter()
        wasmtime.Module(engine, wasm)
        out.append((time.perf_counter() - start) * 1000)
    return out


def run_cold(args, modules):
    """{(module, runner): [milliseconds]} for runners wasmudf (the default
    configuration: the fast tier), wasmudf-o2 (fast_tier = 0) and wasmtime."""
    cold = {}
    for name, path in modules.items():
        gcd_export = ["gcd"] if name == "go" else []
        for tier, runner in (("default", "wasmudf"), ("o2", "wasmudf-o2")):
            samples = []
            for _ in range(args.cold_repeats):
                out = run([args.build / "bench" / "bench_suite", "cold", path, tier]
                          + gcd_export)
                samples.append(float(out.split()[1]))
            cold[name, runner] = samples
            log(f"suite: cold {name:<5} {runner:<13} {statistics.median(samples):9.1f} ms")
        cold[name, "wasmtime"] = wasmtime_compile_ms(path, max(args.cold_repeats, 5))
        log(f"suite: cold {name:<5} wasmtime      "
            f"{statistics.median(cold[name, 'wasmtime']):9.1f} ms")
        cold[name, "size"] = [pathlib.Path(path).stat().st_size]
    return cold


def summary(samples):
    median = statistics.median(samples)
    spread = (max(samples) - min(samples)) / median * 100 if median > 0 else 0.0
    return median, min(samples), max(samples), spread


def format_time(us):
    if us >= 10000:
        return f"{us / 1000:.1f} ms"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.2f} us" if us < 100 else f"{us:.0f} us"


def report(args, times, cold):
    """Prints the tables and the targets; writes the CSV files."""
    rows_out = []
    header = f"{'kernel':<11}{'rows':>9}" + "".join(f"{r:>25}" for r in args.runners)
    print("\nKernels: median time per call (spread), ratio to native C")
    print(header)
    print("-" * len(header))
    for name in args.kernels:
        for rows in args.sizes:
            native = statistics.median(times[name, rows, "native"]) \
                if (name, rows, "native") in times else None
            line = f"{name:<11}{rows:>9}"
            for runner in args.runners:
                median, low, high, spread = summary(times[name, rows, runner])
                ratio = median / native if native else float("nan")
                cell = f"{format_time(median)} ±{spread / 2:.0f}%"
                if runner != "native":
                    cell += f" {ratio:5.2f}x"
                line += f"{cell:>25}"
                rows_out.append({"kernel": name, "rows": rows, "runner": runner,
                                 "median_us": f"{median:.4f}", "min_us": f"{low:.4f}",
                                 "max_us": f"{high:.4f}", "spread_pct": f"{spread:.1f}",
                                 "ratio_to_native": f"{ratio:.3f}",
                                 "samples": len(times[name, rows, runner]),
                                 "calls_per_sample": calls_per_sample(rows)})
            print(line)
    if rows_out:
        with open(args.out / "suite.csv", "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows_out[0]))
            writer.writeheader()
            writer.writerows(rows_out)
    cold_rows = []
    if cold:
        print("\nCold start: first load (fresh cache) against wasmtime's compile of the same "
              "bytes, median (spread)")
        print(f"{'module':<8}{'bytes':>10}{'wasmudf (default)':>22}{'wasmudf -O2 only':>22}"
              f"{'wasmtime':>18}   target <= 3x")
        for name in [m for m in COLD_MODULES if (m, "wasmtime") in cold]:
            wt = statistics.median(cold[name, "wasmtime"])
            line = f"{name:<8}{cold[name, 'size'][0]:>10}"
            verdicts = []
            for runner in ("wasmudf", "wasmudf-o2", "wasmtime"):
                median, low, high, spread = summary(cold[name, runner])
                ratio = median / wt
                cell = f"{median:.0f} ms ±{spread / 2:.0f}%"
                if runner != "wasmtime":
                    cell += f" {ratio:.1f}x"
                    verdicts.append(f"{'default' if runner == 'wasmudf' else '-O2 only'} "
                                    f"{'met' if ratio <= 3 else 'missed'}")
                line += f"{cell:>22}" if runner != "wasmtime" else f"{cell:>18}"
                cold_rows.append({"module": name, "bytes": cold[name, "size"][0],
                                  "runner": runner, "median_ms": f"{median:.3f}",
                                  "min_ms": f"{low:.3f}", "max_ms": f"{high:.3f}",
                                  "spread_pct": f"{spread:.1f}",
                                  "ratio_to_wasmtime": f"{ratio:.3f}"})
            print(line + "   " + ", ".join(verdicts))
        with open(args.out / "cold.csv", "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(cold_rows[0]))
            writer.writeheader()
            writer.writerows(cold_rows)
    targets(args, times)
    return rows_out, cold_rows


def targets(args, times):
    """The kernel targets of issue 12 that this run measures, met or not."""
    def ratio(name, rows, runner="wasmudf", against="native"):
        key, base = (name, rows, runner), (name, rows, against)
        if key not in times or base not in times:
            return None
        return statistics.median(times[key]) / statistics.median(times[base])

    if not args.kernels:
        return
    print("\nTargets of issue 12 (wasmudf, default options; ratios of medians in this run)")
    checks = []
    big = max(args.sizes)
    bounds = {"gcd": 1.10, "upper": 1.3, "groupsum": 1.3, "series": 2.0}
    for name in args.kernels:
        bound = bounds.get(name, 1.10)
        checks.append((f"{name} at {big} rows <= {bound:.2f}x native", ratio(name, big), bound,
                       ratio(name, big, "wasmudf-view")))
    checks.append(("gcd at 1,024 rows <= 1.3x native", ratio("gcd", 1024), 1.3,
                   ratio("gcd", 1024, "wasmudf-view")))
    if ("gcd", 1, "wasmudf") in times:
        us = statistics.median(times["gcd", 1, "wasmudf"])
        print(f"  {'1-row scalar call (gcd) < 1 us':<44} {us:8.2f} us   "
              f"{'met' if us < 1 else f'missed ({us:.1f}x the target)'}")
    for text, value, bound, view in checks:
        if value is None:
            continue
        verdict = "met" if value <= bound else f"missed by {(value / bound - 1) * 100:.0f}%"
        if view is not None:
            verdict += f" (zero-copy result: {view:.2f}x)"
        print(f"  {text:<44} {value:8.2f}x   {verdict}")
    for peer in ("wasmtime", "v8"):
        if peer not in args.runners or "wasmudf" not in args.runners or not args.kernels:
            continue
        behind = [f"{n}@{r} ({ratio(n, r, 'wasmudf', peer):.2f}x)" for n in args.kernels
                  for r in args.sizes if ratio(n, r, "wasmudf", peer) > 1]
        print(f"  {'ahead of ' + peer + ' on every kernel and size':<44} "
              f"{'met' if not behind else 'missed: ' + ', '.join(behind)}")


def plot(args, rows, cold_rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = len(args.kernels) + (1 if cold_rows else 0)
    columns = 4
    lines = (panels + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(4 * columns, 3.2 * lines),
                                squeeze=False)
    for index, name in enumerate(args.kernels):
        axis = axes[index // columns][index % columns]
        for runner in args.runners:
            points = [(int(r["rows"]), float(r["ratio_to_native"])) for r in rows
                      if r["kernel"] == name and r["runner"] == runner]
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                      label=runner)
        axis.axhline(1.10, color="grey", linestyle=":", linewidth=1)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_title(name)
        axis.set_xlabel("rows per call")
        axis.set_ylabel("time / native")
        if index == 0:
            axis.legend(fontsize=7)
    if cold_rows:
        axis = axes[len(args.kernels) // columns][len(args.kernels) % columns]
        modules = sorted({r["module"] for r in cold_rows}, key=COLD_MODULES.index)
        for offset, runner in enumerate(("wasmudf", "wasmudf-o2", "wasmtime")):
            values = [float(r["median_ms"]) for m in modules for r in cold_rows
                      if r["module"] == m and r["runner"] == runner]
            axis.bar([i + offset * 0.27 for i in range(len(modules))], values, width=0.27,
                     label=runner)
        axis.set_xticks([i + 0.27 for i in range(len(modules))], modules)
        axis.set_yscale("log")
        axis.set_ylabel("first load, ms")
        axis.set_title("cold start")
        axis.legend(fontsize=7)
    for index in range(panels, lines * columns):
        axes[index // columns][index % columns].axis("off")
    figure.suptitle("wasmudf benchmark suite (issue 12): per-call time relative to native C")
    figure.tight_layout()
    figure.savefig(args.out / "suite.png", dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--quick", action="store_true",
                        help="3 samples, sizes 1,1024,65536, one cold load each of the C "
                             "and Rust modules (also QUICK=1)")
    parser.add_argument("--kernels", default=",".join(kernels.KERNELS),
                        help="a,b,... or none (the cold start alone)")
    parser.add_argument("--sizes", default=None)
    parser.add_argument("--runners", default=",".join(RUNNERS))
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--no-cold", dest="cold", action="store_false")
    parser.add_argument("--cold-modules", default=None,
                        help="c,rust,go (QUICK: c,rust -- the Go module's default-tier "
                             "load takes minutes)")
    parser.add_argument("--cold-repeats", type=int, default=None)
    parser.add_argument("--build", default=str(ROOT / "build" / "release"))
    parser.add_argument("--out", default=str(ROOT / "build" / "bench"))
    args = parser.parse_args()
    quick = args.quick or os.environ.get("QUICK") == "1"
    args.kernels = [k for k in args.kernels.split(",") if k and k != "none"]
    for name in args.kernels:
        if name not in kernels.KERNELS:
            sys.exit(f"suite: unknown kernel '{name}' (one of {', '.join(kernels.KERNELS)})")
    args.sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        (kernels.SIZES[:3] if quick else kernels.SIZES)
    args.runners = [r for r in args.runners.split(",") if r]
    args.samples = args.samples or (3 if quick else 7)
    args.cold_modules = [m for m in (args.cold_modules or ",".join(
        COLD_MODULES[:2] if quick else COLD_MODULES)).split(",") if m]
    for name in args.cold_modules:
        if name not in COLD_MODULES:
            sys.exit(f"suite: unknown cold-start module '{name}' (one of c, rust, go)")
    args.cold_repeats = args.cold_repeats or (1 if quick else 3)
    args.build = pathlib.Path(args.build).resolve()
    args.out = pathlib.Path(args.out).resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    cli = args.build / "bin" / "wasmudf"
    print(f"wasmudf benchmark suite: {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{args.samples} samples" + (" (QUICK)" if quick else ""))
    modules, cold_modules = build_modules(args, cli)
    data = make_data(args)
    times = run_kernels(args, modules, data)
    cold = run_cold(args, cold_modules) if args.cold else {}
    print(f"(load average after the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    rows, cold_rows = report(args, times, cold)
    if not rows:  # --kernels none: the cold start alone
        return
    try:
        plot(args, rows, cold_rows)
        print(f"\nwrote {args.out / 'suite.csv'}, {args.out / 'suite.png'}"
              + (f", {args.out / 'cold.csv'}" if cold_rows else ""))
    except ImportError:
        print(f"\nwrote {args.out / 'suite.csv'} (no matplotlib: no plot)")


if __name__ == "__main__":
    main()
