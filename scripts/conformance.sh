#!/usr/bin/env bash
# The long runs of the conformance harnesses, on a Debug build of the library
# (build/debug, configured as make check configures it, without the Rust
# guest). make check runs the short forms.
#
#   scripts/conformance.sh spec              every command of the core spec
#                                            tests, modules compiled with the
#                                            engine's default flags (-O2);
#                                            every exclusion listed
#   scripts/conformance.sh differential N [SEED [WASM_OPT_ARGS]]
#                                            N random binaryen -ttf modules
#                                            (seeds SEED .. SEED+N-1, default
#                                            1000; more wasm-opt arguments such
#                                            as --fuzz-passes) against
#                                            wasmtime; modules that disagree
#                                            are saved in
#                                            build/differential-findings
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/conformance.sh spec | differential N [SEED]}
mkdir -p build
python=$(scripts/python-env.sh)
dir=build/debug
if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DWUDF_PYTHON="$python" \
     >"$dir.configure.log" 2>&1; then
  cat "$dir.configure.log"; exit 1
fi
case "$mode" in
  spec)
    cmake --build "$dir" -j "$(nproc)" --target wasmudf wudf_spec_json >"$dir.build.log" 2>&1 ||
      { tail -50 "$dir.build.log"; exit 1; }
    exec "$python" tests/spec/run_spec.py "$dir/libwasmudf.so" "$dir/tests/spec" \
      build/conformance-cache --jobs "$(nproc)"
    ;;
  differential)
    count=${2:?usage: scripts/conformance.sh differential N [SEED]}
    cmake --build "$dir" -j "$(nproc)" --target wasmudf >"$dir.build.log" 2>&1 ||
      { tail -50 "$dir.build.log"; exit 1; }
    exec "$python" tests/differential/run_differential.py "$dir/libwasmudf.so" \
      build/differential --count "$count" --seed "${3:-1000}" --jobs "$(nproc)" \
      --wasm-opt="${4:-}" --findings build/differential-findings
    ;;
  *)
    echo "unknown mode $mode"; exit 2
    ;;
esac
