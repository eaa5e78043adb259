#!/usr/bin/env python3
"""vectorize_cc.py -- an experiment, not part of the engine: a compiler the
engine can be pointed at (CC=bench/experiments/vectorize_cc.py) that rewrites
wasm2c's output before compiling it, to measure what keeps the module's loops
from vectorizing (docs/performance.md, "Why the compiled loops do not
vectorize").

The engine runs `$CC <flags> -I<work> -o <work>/module.so <work>/glue.c`;
glue.c includes <work>/module.c, wasm2c 1.0.32's output. When the module
defines exactly one memory and imports none, this script appends to the block
of wasm2c's load and store helpers (after `DEFINE_STORE(i64_store32, ...)`)
macros that replace every later call of them:

- the memory's base is read once per function, in FUNC_PROLOGUE, into a
  local (exact in this engine: a memory never moves, it grows in place inside
  one reservation), instead of from the instance after every store;
- loads end, depending on $WUDF_VEC_LOADS, in wasm2c's forced read with the
  constraint fixed for floats ("forced", the default), in nothing
  ("unforced": a dead load may be deleted, and with it an out-of-bounds
  trap; not conforming), or in an OR into a per-function sink that one asm
  consumes in FUNC_EPILOGUE ("sink": dead loads stay).

The helpers rely on guard pages (wasm2c's WASM_RT_MEMCHECK_SIGNAL_HANDLER,
the engine's only mode) and refuse to compile otherwise. Then it runs
$WUDF_VEC_COMPILER (default clang) with the engine's flags, less
-frounding-math when $WUDF_VEC_ROUNDING_MATH=0 (not conforming under clang:
docs/performance.md).

The engine's cache key knows this script by path, size and modification
time, not by its environment: give every setting its own WASMUDF_CACHE_DIR.
Example, poly with and without the rounding flag (from the repository root,
after `make bench-suite SUITE_ARGS="--kernels poly --sizes 1048576
--runners native,wasmudf --no-cold"` wrote the plans):

  for r in 1 0; do WUDF_VEC_LOADS=sink WUDF_VEC_ROUNDING_MATH=$r \\
    CC=$PWD/bench/experiments/vectorize_cc.py WASMUDF_CACHE_DIR=/tmp/vec-$r \\
    build/release/bench/bench_suite run wasmudf \\
    build/bench/plan-wasmudf-poly-1048576.txt; done
"""
import os
import re
import sys

ANCHOR = "DEFINE_STORE(i64_store32, u32, u64)\n"

# name: (type in memory, type it widens through, type returned)
LOADS = {
    "i32_load": ("u32", "u32", "u32"), "i64_load": ("u64", "u64", "u64"),
    "f32_load": ("f32", "f32", "f32"), "f64_load": ("f64", "f64", "f64"),
    "i32_load8_s": ("s8", "s32", "u32"), "i64_load8_s": ("s8", "s64", "u64"),
    "i32_load8_u": ("u8", "u32", "u32"), "i64_load8_u": ("u8", "u64", "u64"),
    "i32_load16_s": ("s16", "s32", "u32"), "i64_load16_s": ("s16", "s64", "u64"),
    "i32_load16_u": ("u16", "u32", "u32"), "i64_load16_u": ("u16", "u64", "u64"),
    "i64_load32_s": ("s32", "s64", "u64"), "i64_load32_u": ("u32", "u64", "u64"),
}
# name: (type in memory, type of the value stored)
STORES = {
    "i32_store": ("u32", "u32"), "i64_store": ("u64", "u64"),
    "f32_store": ("f32", "f32"), "f64_store": ("f64", "f64"),
    "i32_store8": ("u8", "u32"), "i32_store16": ("u16", "u32"),
    "i64_store8": ("u8", "u64"), "i64_store16": ("u16", "u64"),
    "i64_store32": ("u32", "u64"),
}
BITS = {"f32": "u32", "f64": "u64"}


def helpers(field, loads):
    """The C text that replaces the load and store helpers of a module whose
    one memory is the instance member `field`."""
    prologue = f"u8* const wudf__base = instance->{field}.data"
    lines = ["#if !WASM_RT_MEMCHECK_SIGNAL_HANDLER",
             "#error \"vectorize_cc.py: the helpers assume guard pages\"",
             "#endif",
             "#undef FUNC_PROLOGUE"]
    if loads == "sink":
        lines += [f"#define FUNC_PROLOGUE {prologue}; u64 wudf__sink = 0",
                  "#undef FUNC_EPILOGUE",
                  '#define FUNC_EPILOGUE wasm_asm("" ::"r"(wudf__sink))']
    else:
        lines.append(f"#define FUNC_PROLOGUE {prologue}")
    lines.append(f"#define WUDF__AT(mem, addr) "
                 f"(((mem) == &instance->{field} ? wudf__base : (mem)->data) + (addr))")
    for name, (stored, wide, result) in LOADS.items():
        if loads == "sink":
            bits = BITS.get(stored, stored)
            lines.append(
                f"static inline {result} wudf__{name}(const u8* p, u64* sink) {{ "
                f"{bits} b; wasm_rt_memcpy(&b, p, sizeof(b)); *sink |= (u64)b; "
                f"{stored} v; wasm_rt_memcpy(&v, &b, sizeof(v)); return ({result})({wide})v; }}")
            lines.append(f"#define {name}(mem, addr) wudf__{name}(WUDF__AT(mem, addr), &wudf__sink)")
            continue
        force = ""
        if loads == "forced":
            constraint = "x" if stored.startswith("f") else "r"
            force = f'wasm_asm("" ::"{constraint}"(v)); '
        lines.append(
            f"static inline {result} wudf__{name}(const u8* p) {{ "
            f"{stored} r; wasm_rt_memcpy(&r, p, sizeof(r)); "
            f"{result} v = ({result})({wide})r; {force}return v; }}")
        lines.append(f"#define {name}(mem, addr) wudf__{name}(WUDF__AT(mem, addr))")
    for name, (stored, value) in STORES.items():
        lines.append(
            f"static inline void wudf__{name}(u8* p, {value} value) {{ "
            f"{stored} w = ({stored})value; wasm_rt_memcpy(p, &w, sizeof(w)); }}")
        lines.append(f"#define {name}(mem, addr, value) wudf__{name}(WUDF__AT(mem, addr), value)")
    return "\n".join(lines) + "\n"


def rewrite(work, loads):
    """Rewrites work/module.c in place; leaves modules with no memory, an
    imported one or several as they are."""
    source = os.path.join(work, "module.c")
    header = os.path.join(work, "module.h")
    if not (os.path.exists(source) and os.path.exists(header)):
        return
    with open(header) as f:
        fields = re.findall(r"wasm_rt_memory_t(\*?) (w2c_\w+);", f.read())
    if len(fields) != 1 or fields[0][0] == "*":
        return
    with open(source) as f:
        text = f.read()
    if ANCHOR not in text:
        sys.exit("vectorize_cc.py: wasm2c's output is not the one this script knows (1.0.32)")
    text = text.replace(ANCHOR, ANCHOR + helpers(fields[0][1], loads), 1)
    with open(source, "w") as f:
        f.write(text)


def main():
    args = sys.argv[1:]
    loads = os.environ.get("WUDF_VEC_LOADS", "forced")
    if loads not in ("forced", "unforced", "sink"):
        sys.exit(f"vectorize_cc.py: WUDF_VEC_LOADS={loads}: forced, unforced or sink")
    work = next((a[2:] for a in args if a.startswith("-I")), None)
    if work is not None:
        rewrite(work, loads)
    if os.environ.get("WUDF_VEC_ROUNDING_MATH", "1") == "0":
        args = [a for a in args if a != "-frounding-math"]
    compiler = os.environ.get("WUDF_VEC_COMPILER", "clang")
    os.execvp(compiler, [compiler] + args)


if __name__ == "__main__":
    main()
