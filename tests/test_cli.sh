#!/usr/bin/env bash
# test_cli.sh WASMUDF MODULES -- the command-line tool: `call` prints results
# and guest output, errors go to stderr with a non-zero status, usage errors
# exit 2, proc_exit's code becomes the exit status; `exports` lists
# signatures; `build` compiles a C guest with the SDK (found relative to
# the executable, or through WASMUDF_SDK_OBJECT / WASMUDF_SDK_INCLUDE),
# `list` shows its functions of every kind, `run` calls one on
# comma-separated columns (a table function's rows with their input row, an
# aggregate's one result).
set -u
wasmudf=$1
modules=$2
passed=0
failed=0

# check NAME EXPECTED_STATUS EXPECTED_STDOUT STDERR_PATTERN -- COMMAND...
check() {
  local name=$1 want_status=$2 want_out=$3 err_pattern=$4
  shift 5
  local out err status
  out=$("$@" 2>/tmp/wudf-cli-err.$$)
  status=$?
  err=$(cat /tmp/wudf-cli-err.$$)
  if [ "$status" != "$want_status" ] || [ "$out" != "$want_out" ] ||
     { [ -n "$err_pattern" ] && ! grep -qE -- "$err_pattern" <<<"$err"; }; then
    echo "FAILED $name: status $status (want $want_status), stdout [$out] (want [$want_out]), stderr [$err] (want /$err_pattern/)"
    failed=$((failed + 1))
  else
    echo "ok     $name"
    passed=$((passed + 1))
  fi
}

m=$modules/traps.wasm
g=$modules/wasi_guest.wasm
check add 0 "42" "" -- "$wasmudf" call "$m" add 40 2
check negative 0 "-7" "" -- "$wasmudf" call "$m" add -10 3
check hex_and_unsigned 0 "-1" "" -- "$wasmudf" call "$m" add 0xffffffff 0
check floats 0 "1099511627776.75" "" -- "$wasmudf" call "$m" types 1099511627776 0.5 0.25
check multi_value 0 $'-2.5\n-5' "" -- "$wasmudf" call "$m" swap -5 -2.5
check trap 1 "" "export 'div_s': trap: integer divide by zero" -- "$wasmudf" call "$m" div_s 1 0
check timeout 5 "" "timeout" -- "$wasmudf" call --timeout 50 "$m" spin
check memory_limit 0 "-1" "" -- "$wasmudf" call --memory-limit 65K "$m" grow 1
check memory_limit_tables 5 "" "table 0 of 4 funcref elements needs 96 bytes, over the instance's memory_limit of 65536 bytes" -- "$wasmudf" call --memory-limit 64K "$m" grow 1
check bad_size 2 "" "memory-limit" -- "$wasmudf" call --memory-limit lots "$m" grow 1
check arity 2 "" "takes 2 arguments" -- "$wasmudf" call "$m" add 1
check bad_number 2 "" "not a valid i32" -- "$wasmudf" call "$m" add 1 x
check out_of_range 2 "" "not a valid i32" -- "$wasmudf" call "$m" add 1 4294967296
check no_export 2 "" "no function export 'nope'" -- "$wasmudf" call "$m" nope
check no_file 4 "" "cannot open" -- "$wasmudf" call /nonexistent.wasm f
check guest_output 0 $'hello 5\nto stderr 10\n6' "" -- "$wasmudf" call "$g" hello 5
check proc_exit 3 "" "proc_exit\\(3\\)" -- "$wasmudf" call "$g" quit 3
check exports 0 "$(printf 'add(i32, i32) -> (i32)')" "" -- sh -c "'$wasmudf' exports '$m' | head -1"
check usage 2 "" "usage" -- "$wasmudf"

# User-defined functions: build a C guest with the SDK, list, run.
here=$(cd "$(dirname "$0")/.." && pwd)
built=$(mktemp -d)
check build 0 "" "" -- "$wasmudf" build "$here/examples/c/strings.c" -o "$built/strings.wasm"
check build_error 1 "" "clang failed" -- "$wasmudf" build "$here/tests/test_cli.sh" -o "$built/x.wasm"
check build_usage 2 "" "usage" -- "$wasmudf" build "$here/examples/c/strings.c"
# The SDK is found relative to the executable (BINDIR/../share/wasmudf and
# BINDIR/../include), or where the environment says; errors name the path.
mkdir -p "$built/alone/bin"
cp "$wasmudf" "$built/alone/bin/wasmudf"
check sdk_relative 1 "" "tried $built/alone/bin/\.\./share/wasmudf/wudf_guest\.o" \
  -- "$built/alone/bin/wasmudf" build "$here/examples/c/gcd.c" -o "$built/x.wasm"
check sdk_env_object 1 "" "tried /nonexistent/wudf_guest\.o \(WASMUDF_SDK_OBJECT\)" \
  -- env WASMUDF_SDK_OBJECT=/nonexistent/wudf_guest.o \
  "$wasmudf" build "$here/examples/c/gcd.c" -o "$built/x.wasm"
check sdk_env_include 1 "" "tried /nonexistent/wasmudf/guest\.h \(WASMUDF_SDK_INCLUDE\)" \
  -- env WASMUDF_SDK_INCLUDE=/nonexistent \
  "$wasmudf" build "$here/examples/c/gcd.c" -o "$built/x.wasm"
check sdk_env 0 "" "" -- env WASMUDF_SDK_OBJECT="$(dirname "$wasmudf")/../share/wasmudf/wudf_guest.o" \
  WASMUDF_SDK_INCLUDE="$here/include" \
  "$built/alone/bin/wasmudf" build "$here/examples/c/gcd.c" -o "$built/x.wasm"
check list 0 $'scalar    upper(utf8) -> utf8\nscalar    concat(utf8, utf8) -> utf8 CALLED ON NULL INPUT' "" \
  -- "$wasmudf" list "$built/strings.wasm"
check list_kinds 0 "$(printf '%s\n' \
  'table     series(int32 start, int32 stop) -> setof int32' \
  'table     split(utf8 text, utf8 separator) -> setof utf8')" "" \
  -- "$wasmudf" list "$modules/example_tables.wasm"
check list_aggregates 0 \
  "aggregate avg(float64) -> float64 STATE struct<sum: float64, count: int64>" "" \
  -- sh -c "'$wasmudf' list '$modules/example_aggregates.wasm' | grep avg"
check run_series 0 $'input_row,series\n0,1\n0,2\n0,3\n2,7' "" \
  -- "$wasmudf" run "$modules/example_tables.wasm" series 1,5,7,null 3,4,7,1 --format csv
check run_avg 0 '{"avg":3}' "" -- "$wasmudf" run --format jsonl "$modules/example_aggregates.wasm" avg 1,2,null,6
check run_positive 0 $'id,value\n2,2.5\n4,3' "" \
  -- "$wasmudf" run "$modules/example_batches.wasm" positive 1,2,3,4 -1.5,2.5,null,3 --format csv
check run_upper 0 $'{"upper":"HELLO"}\n{"upper":null}\n{"upper":"WASM"}' "" -- "$wasmudf" run --format jsonl "$built/strings.wasm" upper hello,null,wasm
check run_sum 0 '{"sum":4}' "" -- "$wasmudf" run --format jsonl "$modules/example_sum.wasm" sum 1,null,3
check run_gcd 0 $'{"gcd":4}\n{"gcd":null}' "" -- "$wasmudf" run --format jsonl "$modules/example_gcd.wasm" gcd 12,null 8,5
# The row-wise form (examples/c/rowwise.c, docs/guests.md): built by the
# CLI, listed with the argument names its declaration gives, run.
check build_rowwise 0 "" "" -- "$wasmudf" build "$here/examples/c/rowwise.c" -o "$built/rowwise.wasm"
check list_rowwise 0 $'scalar    gcd(int32 a, int32 b) -> int32\nscalar    fahrenheit(float64 celsius) -> float64 DETERMINISTIC' "" \
  -- "$wasmudf" list "$built/rowwise.wasm"
check run_rowwise 0 $'{"gcd":6}\n{"gcd":null}\n{"gcd":7}' "" -- "$wasmudf" run --format jsonl "$built/rowwise.wasm" gcd 12,null,7 18,5,21
check run_rowwise_float 0 $'{"fahrenheit":212}\n{"fahrenheit":-40}\n{"fahrenheit":null}' "" -- "$wasmudf" run --format jsonl "$built/rowwise.wasm" fahrenheit 100,-40,null
# --threads N: the rows split over N threads (an instance each, from one
# pool), printed in input order: the same output as one thread.
many=$(seq -s, -40 3 250)
nulls=$(seq -s, 1 97 | sed 's/,1[0-9],/,null,/g')
one=$("$wasmudf" run "$modules/example_gcd.wasm" gcd "$many" "$many")
check run_threads 0 "$one" "" -- "$wasmudf" run --threads 3 "$modules/example_gcd.wasm" gcd "$many" "$many"
one=$("$wasmudf" run "$modules/example_gcd.wasm" gcd "$nulls" "$many")
check run_threads_nulls 0 "$one" "" -- "$wasmudf" run --threads=4 "$modules/example_gcd.wasm" gcd "$nulls" "$many"
check run_threads_more_than_rows 0 $'{"gcd":4}\n{"gcd":null}' "" -- "$wasmudf" run --threads 8 --format jsonl "$modules/example_gcd.wasm" gcd 12,null 8,5
one=$("$wasmudf" run "$built/strings.wasm" upper "a,bc,null,def,g,hij,k")
check run_threads_strings 0 "$one" "" -- "$wasmudf" run --threads 2 "$built/strings.wasm" upper "a,bc,null,def,g,hij,k"
check run_threads_error 1 "" "checked_divide.* failed: division by zero in row" \
  -- "$wasmudf" run --threads 2 "$modules/example_checked_divide.wasm" checked_divide 1,2,3 1,1,0
check run_threads_bad 2 "" "--threads takes a number" -- "$wasmudf" run --threads 0 "$modules/example_gcd.wasm" gcd 1 1
check run_failure 1 "" "division by zero in row 1" \
  -- "$wasmudf" run "$modules/example_checked_divide.wasm" checked_divide 1,2 1,0
check run_liar 1 "" "not valid UTF-8" -- "$wasmudf" run "$modules/liars.wasm" bad_utf8 1
# A literal longer than 4,095 bytes comes through whole (it used to be cut,
# inside a UTF-8 character, and the guest blamed): 3,000 two-byte
# characters, 6,000 bytes, and one line of CSV output.
long=$(printf 'é%.0s' $(seq 1 3000))
check run_long_literal 0 6000 "" -- \
  sh -c "'$wasmudf' run --format csv '$built/strings.wasm' upper '$long' | tail -1 | tr -d '\n' | wc -c"
check run_bad_value 2 "" "not a valid value" -- "$wasmudf" run "$modules/example_gcd.wasm" gcd x 1
check run_arity 2 "" "takes 2 columns" -- "$wasmudf" run "$modules/example_gcd.wasm" gcd 1
check list_none 0 "" "declares no functions" -- "$wasmudf" list "$m"
# list reads the metadata without compiling: no wasm2c, no compiler, no cache.
nocache=$(mktemp -d)
check list_no_compile 0 "scalar    gcd(int32, int32) -> int32" "" \
  -- env WASMUDF_WASM2C=/bin/false CC=/bin/false WASMUDF_CACHE_DIR="$nocache/cache" \
  "$wasmudf" list "$modules/example_gcd.wasm"
check list_no_compile_cache 0 "" "" -- test ! -e "$nocache/cache"
check list_invalid 1 "" "malformed|magic" \
  -- env WASMUDF_WASM2C=/bin/false "$wasmudf" list "$here/tests/test_cli.sh"
# The fast tier, on by default: tcc's code answers, cc -O2 follows.
check fast_tier_call 0 "42" "" \
  -- env -u WASMUDF_FAST_TIER WASMUDF_CACHE_DIR="$nocache/tiers" "$wasmudf" call "$m" add 40 2
# Only the fast tier is in the cache: the CLI cancels the background cc -O2
# build when it exits instead of waiting for it (wudf_engine_cancel_builds).
check fast_tier_cached 0 "1" "" -- sh -c "ls '$nocache'/tiers/v1/*/*.manifest | wc -l"
# WASMUDF_FAST_TIER=0 turns it off: one compile, with cc -O2.
check fast_tier_off_call 0 "42" "" \
  -- env WASMUDF_FAST_TIER=0 WASMUDF_CACHE_DIR="$nocache/off" "$wasmudf" call "$m" add 40 2
check fast_tier_off_cached 0 "1" "" -- sh -c "ls '$nocache'/off/v1/*/*.manifest | wc -l"
rm -rf "$nocache"
# `compile` makes an artifact that call, exports and run load in an
# environment with no compiler and no wasm2c (PATH=/nonexistent, the tools
# pointing nowhere, an empty cache that is never created).
check compile_help 0 "$("$wasmudf" compile --help)" "" -- "$wasmudf" compile --help
check compile_usage 2 "" "compile needs" -- "$wasmudf" compile "$m"
check compile 0 "" "" -- "$wasmudf" compile "$modules/example_gcd.wasm" -o "$built/gcd.wudf"
check compile_traps 0 "" "" -- "$wasmudf" compile "$m" -o "$built/traps.wudf"
no_tools=(env -i PATH=/nonexistent CC=/nonexistent/cc WASMUDF_WASM2C=/nonexistent/wasm2c
          WASMUDF_FAST_CC=/nonexistent/tcc WASMUDF_CACHE_DIR="$built/no-cache")
check artifact_run 0 $'gcd\n4\n9' "" \
  -- "${no_tools[@]}" "$wasmudf" run "$built/gcd.wudf" gcd 12,18,null 8,27,5 --format csv
check artifact_call 0 "42" "" -- "${no_tools[@]}" "$wasmudf" call "$built/traps.wudf" add 40 2
check artifact_trap 1 "" "integer divide by zero" \
  -- "${no_tools[@]}" "$wasmudf" call "$built/traps.wudf" div_s 1 0
check artifact_exports 0 "$(printf 'add(i32, i32) -> (i32)')" "" \
  -- sh -c "env -i PATH=/nonexistent '$wasmudf' exports '$built/traps.wudf' | head -1"
check artifact_no_cache 1 "" "" -- test -e "$built/no-cache"
# The same module without its artifact needs the tools.
check wasm_needs_tools 4 "" "nonexistent" -- "${no_tools[@]}" "$wasmudf" call "$m" add 40 2
# A changed byte (the "i" of the manifest's "library" line): refused.
cp "$built/traps.wudf" "$built/bad.wudf"
printf 'X' | dd of="$built/bad.wudf" bs=1 seek=20 conv=notrunc status=none
check artifact_tampered 4 "" "damaged or was tampered with" \
  -- "${no_tools[@]}" "$wasmudf" call "$built/bad.wudf" add 40 2
rm -rf "$built"
check version 0 "wasmudf 0.1.0" "" -- "$wasmudf" --version

rm -f /tmp/wudf-cli-err.$$
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
