#!/usr/bin/env bash
# Builds and runs every test: a Debug build (-Werror) with the pyarrow oracle
# tests (which also run the Rust guest of examples/rust and the Rust guest crate's
# examples), then the engine built alone (-DWUDF_ENGINE_ONLY=ON, its own
# tests; docs/architecture.md), then the Python
# package (its wheel built, installed and tested), then the C suite
# built with AddressSanitizer + UndefinedBehaviorSanitizer, then the C suite
# under valgrind's leak checker, then the thread stress test under
# ThreadSanitizer, then a 60-second libFuzzer run of the
# guest-result validator (FUZZ_SECONDS to change it) and a 30-second one of
# the Arrow IPC reader (FUZZ_IPC_SECONDS). Ends with one line
# "N passed, N failed" counting every test run of every configuration.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0

# stage NAME: the header of a stage, with the seconds since the start (the
# whole run should stay well under 20 minutes on 2 cores).
stage() {
  echo "== $1 (at ${SECONDS} s)"
}

# run_suite NAME BUILD_DIR CMAKE_ARGS... : configure, build, ctest; counts.
run_suite() {
  local name=$1 dir=$2
  shift 2
  stage "$name"
  if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"; failed=$((failed + 1)); return
  fi
  if ! cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
    tail -50 "$dir.build.log"; failed=$((failed + 1)); return
  fi
  local log="$dir.ctest.log"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" ${CTEST_ARGS:-} 2>&1 | tee "$log"
  local summary
  summary=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
  if [ -z "$summary" ]; then failed=$((failed + 1)); return; fi
  local total fail
  total=$(echo "$summary" | sed -E 's/.*out of ([0-9]+).*/\1/')
  fail=$(echo "$summary" | sed -E 's/.*tests passed, ([0-9]+) tests? failed.*/\1/')
  passed=$((passed + total - fail))
  failed=$((failed + fail))
}

# python_package: builds the wheel of python/ (libwasmudf linked in), installs
# it into build/venv and runs its tests (tests/python/package: pyarrow,
# polars, DuckDB, Spark); counts pytest's passed and failed tests.
python_package() {
  stage "Python package: wheel, install, tests"
  rm -rf build/wheel
  if ! { CFLAGS=-Werror "$python" -m pip wheel --no-build-isolation --no-deps ./python \
           -w build/wheel &&
         "$python" -m pip install --force-reinstall --no-deps build/wheel/wasmudf-*.whl; } \
       > build/wheel.log 2>&1; then
    tail -30 build/wheel.log; failed=$((failed + 1)); return
  fi
  local log=build/python-package.log
  WUDF_CLI=$PWD/build/debug/bin/wasmudf WASMUDF_CACHE_DIR=$PWD/build/python-cache \
    "$python" -m pytest -q -p no:cacheprovider tests/python/package 2>&1 | tee "$log"
  count_pytest "$log"
}

# count_pytest LOG: adds the passed and failed (and errored) tests of
# pytest's closing line to the totals; no such line counts as a failure.
count_pytest() {
  local log=$1 summary count
  summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed|errors?)" "$log" | tail -1)
  if [ -z "$summary" ]; then failed=$((failed + 1)); return; fi
  for count in $(echo "$summary" | grep -oE "[0-9]+ passed" | grep -oE "^[0-9]+"); do
    passed=$((passed + count))
  done
  for count in $(echo "$summary" | grep -oE "[0-9]+ (failed|errors?)" | grep -oE "^[0-9]+"); do
    failed=$((failed + count))
  done
}

# python_package_sanitized: the Python package's own tests again, its
# extension built with ASan + UBSan and linked to the sanitizer build's
# libwasmudf, in a Python that preloads the sanitizer runtimes.
python_package_sanitized() {
  stage "Python package: ASan + UBSan"
  local out=$PWD/build/python-sanitize
  rm -rf "$out"
  if ! (cd python && CFLAGS="-Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
          -fno-omit-frame-pointer" LDFLAGS="-fsanitize=address,undefined" \
        WASMUDF_LIBRARY=../build/sanitize/libwasmudf.a \
        "$python" setup.py -q build --build-base "$out/build" --build-lib "$out/lib") \
       > build/python-sanitize.log 2>&1; then
    tail -30 build/python-sanitize.log; failed=$((failed + 1)); return
  fi
  local log=build/python-sanitize.test.log
  PYTHONPATH=$out/lib PYTHONMALLOC=malloc WUDF_PY_SANITIZED=1 \
    LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)" \
    ASAN_OPTIONS=detect_leaks=0 WUDF_CLI=$PWD/build/debug/bin/wasmudf \
    WASMUDF_CACHE_DIR=$PWD/build/python-cache \
    "$python" -m pytest -q -p no:cacheprovider -p no:faulthandler \
    tests/python/package/test_package.py 2>&1 | tee "$log"
  count_pytest "$log"
}

# tsan_suite: the thread stress test (tests/test_stress.c) built with
# ThreadSanitizer; the other tests stop runaway guest code with signals,
# which TSan holds back (see that file).
tsan_suite() {
  stage "ThreadSanitizer: test_stress"
  local dir=build/tsan
  if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DWUDF_TSAN=ON &&
         cmake --build "$dir" -j "$jobs" --target test_stress wudf_test_modules; } \
       > "$dir.build.log" 2>&1; then
    tail -50 "$dir.build.log"; failed=$((failed + 1)); return
  fi
  local log="$dir.ctest.log"
  ctest --test-dir "$dir" --output-on-failure -R '^test_stress$' 2>&1 | tee "$log"
  if grep -qE "100% tests passed, 0 tests failed out of 1$" "$log"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
}

mkdir -p build
python=$(scripts/python-env.sh) || { echo "cannot set up the Python test environment"; exit 1; }
# The Rust guest (examples/rust), built with Debian's Rust toolchain.
rust_guest=$PWD/build/rust/wasmudf_rust_example.wasm
if ! scripts/build-rust-guest.sh "$rust_guest" > build/rust-guest.log 2>&1; then
  tail -30 build/rust-guest.log; echo "cannot build the Rust guest"; exit 1
fi
# The examples of the Rust guest crate (guest/rust), built the same way: the module `all`,
# which holds every example (one fat-LTO link instead of eight).
rust_examples=$PWD/build/rust/guest-examples
if ! scripts/build-rust-guest.sh --examples "$rust_examples" all > build/rust-examples.log 2>&1; then
  tail -30 build/rust-examples.log; echo "cannot build the Rust guest crate's examples"; exit 1
fi
# The Go guest example (guest/go), when Go 1.24 or later is installed.
go_guest=""
go_version=$(go env GOVERSION 2>/dev/null || true)   # e.g. go1.26.8; Debian's is older
if [[ "$go_version" =~ ^go1\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 24 ]; then
  go_guest=$PWD/build/go/example.wasm
  if ! scripts/build-go-guest.sh "$go_guest" > build/go-guest.log 2>&1; then
    tail -30 build/go-guest.log; echo "cannot build the Go guest"; exit 1
  fi
else
  echo "note: no Go 1.24 or later (${go_version:-none}): the Go guest test does not run"
fi
run_suite "debug build" build/debug -DWUDF_PYTHON="$python" -DWUDF_RUST_GUEST="$rust_guest" \
  -DWUDF_RUST_GUEST_EXAMPLES="$rust_examples" -DWUDF_GO_GUEST="$go_guest"
run_suite "engine alone (no UDF layer)" build/engine -DWUDF_ENGINE_ONLY=ON
python_package
run_suite "ASan + UBSan build" build/sanitize -DWUDF_SANITIZE=ON
python_package_sanitized
run_suite "valgrind (leaks)" build/valgrind -DWUDF_VALGRIND=ON
tsan_suite
stage "libFuzzer: the guest-result validator"
if scripts/fuzz-import.sh "${FUZZ_SECONDS:-60}"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

stage "libFuzzer: the Arrow IPC reader"
if scripts/fuzz-ipc.sh "${FUZZ_IPC_SECONDS:-30}"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "== done (${SECONDS} s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
