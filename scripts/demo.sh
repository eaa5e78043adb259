#!/usr/bin/env bash
# demo.sh WASMUDF -- the engine end to end on a built-in sample: compile a C
# guest to wasm32, list its exports, call it (first load compiles through
# wasm2c and cc, the second comes from the cache), and show that a trap, a
# runaway loop and a memory cap are errors, not crashes.
set -uo pipefail
wasmudf=$1
here=$(cd "$(dirname "$0")/.." && pwd)
work=$here/build/demo
mkdir -p "$work"
export WASMUDF_CACHE_DIR=$work/cache
rm -rf "$WASMUDF_CACHE_DIR"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; echo "[exit status $?]"; }

clang --target=wasm32-wasi -O2 -mexec-model=reactor \
  "$here/examples/engine/gcd.c" -o "$work/gcd.wasm"
echo "built $work/gcd.wasm ($(stat -c %s "$work/gcd.wasm") bytes) from examples/engine/gcd.c"

start=$(date +%s%N)
step "$wasmudf" exports "$work/gcd.wasm"
echo "(first load: validated, translated by wasm2c, compiled by cc, cached: $(( ($(date +%s%N) - start) / 1000000 )) ms)"
start=$(date +%s%N)
step "$wasmudf" call "$work/gcd.wasm" gcd 1071 462
echo "(a new process, the module from the compile cache: $(( ($(date +%s%N) - start) / 1000000 )) ms in all)"
step "$wasmudf" call "$work/gcd.wasm" gcd_sum 100000
step "$wasmudf" call "$work/gcd.wasm" greet 3
step "$wasmudf" call "$work/gcd.wasm" divide 1 0
step "$wasmudf" call --timeout 200 "$work/gcd.wasm" forever
step "$wasmudf" call --memory-limit 64K "$work/gcd.wasm" gcd 1 1
echo
echo "demo done: every failure above was reported by the sandbox; the host process never crashed."
