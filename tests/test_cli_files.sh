#!/usr/bin/env bash
# test_cli_files.sh WASMUDF MODULES -- `wasmudf run` over files: CSV input
# (argument columns read as the function's types), Arrow IPC files and
# streams in and out (standard input as "-"), --args by name, JSON-lines and
# CSV output, a table function's input_row across batches, and the errors
# of a missing column, an aggregate, an unknown output and a broken input.
set -u
wasmudf=$1
modules=$2
tmp=${WUDF_TEST_TMP:-/tmp}/cli-files.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# check NAME EXPECTED_STATUS EXPECTED_STDOUT STDERR_PATTERN -- COMMAND...
check() {
  local name=$1 want_status=$2 want_out=$3 err_pattern=$4
  shift 5
  local out err status
  out=$("$@" 2>"$tmp/err")
  status=$?
  err=$(cat "$tmp/err")
  if [ "$status" != "$want_status" ] || [ "$out" != "$want_out" ] ||
     { [ -n "$err_pattern" ] && ! grep -qE -- "$err_pattern" <<<"$err"; }; then
    echo "FAILED $name: status $status (want $want_status), stdout [$out] (want [$want_out]), stderr [$err] (want /$err_pattern/)"
    failed=$((failed + 1))
  else
    echo "ok     $name"
    passed=$((passed + 1))
  fi
}

gcd=$modules/example_gcd.wasm
tables=$modules/example_tables.wasm
printf 'a,b,name\n12,8,x\n7,21,y\n,5,z\n' > "$tmp/in.csv"
check csv_to_stdout 0 $'gcd\n4\n7' "" -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --format csv
check csv_to_arrow 0 "" "" -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" -o "$tmp/g.arrow"
check arrow_file_in 0 $'gcd\n4\n7' "" -- "$wasmudf" run "$gcd" gcd "$tmp/g.arrow" --args gcd,gcd --format csv
check csv_to_stream 0 "" "" -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --args b,a -o "$tmp/g.arrows"
check stream_on_stdin 0 $'{"gcd":4}\n{"gcd":7}\n{"gcd":null}' "" -- \
  sh -c "'$wasmudf' run '$gcd' gcd - --args gcd,gcd -o '$tmp/g.jsonl' < '$tmp/g.arrows' && cat '$tmp/g.jsonl'"
printf 'start,stop\n1,3\n2,2\n3,5\n' > "$tmp/ranges.csv"
check table_function 0 $'input_row,series\n0,1\n0,2\n0,3\n1,2\n2,3\n2,4\n2,5' "" -- \
  sh -c "'$wasmudf' run '$tables' series '$tmp/ranges.csv' -o '$tmp/s.csv' && cat '$tmp/s.csv'"
check missing_column 2 "" "has no column 'nope'" -- \
  "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --args nope,a
check aggregate 0 $'avg\n11.333333333333334' "" -- \
  "$wasmudf" run "$modules/example_aggregates.wasm" avg "$tmp/in.csv" --args b --format csv
check aggregate_group_by 0 $'name,avg\nx,12\ny,7\nz,' "" -- \
  "$wasmudf" run "$modules/example_aggregates.wasm" avg "$tmp/in.csv" --group-by name --format csv
check unknown_output 2 "" "unknown output format" -- \
  "$wasmudf" run "$gcd" gcd "$tmp/in.csv" -o "$tmp/out.parquet"
head -c 100 "$tmp/g.arrow" > "$tmp/broken.arrow"
check broken_input 3 "" "broken.arrow" -- "$wasmudf" run "$gcd" gcd "$tmp/broken.arrow"
printf 'a,b\n1,x\n' > "$tmp/bad.csv"
check bad_csv_value 3 "" "line 2, column 'b'" -- "$wasmudf" run "$gcd" gcd "$tmp/bad.csv"

# --threads N over a file: each batch's rows split over N threads (a pool),
# the output the same as on one thread, in input order.
{ echo a,b; for i in $(seq 1 3000); do echo "$((i * 6)),$((i % 97 + 1))"; done; echo ",5"; } \
  > "$tmp/many.csv"
one=$("$wasmudf" run "$gcd" gcd "$tmp/many.csv" --format jsonl)
check threads_file 0 "$one" "" -- "$wasmudf" run --threads 3 "$gcd" gcd "$tmp/many.csv" --format jsonl
check threads_file_lines 0 3001 "" -- \
  sh -c "'$wasmudf' run --threads 4 '$gcd' gcd '$tmp/many.csv' --format jsonl | wc -l"
check threads_file_table 2 "" "--threads applies to scalar functions" -- \
  "$wasmudf" run --threads 2 "$tables" series "$tmp/ranges.csv"
# The progress line: nothing when standard error is not a terminal (here a
# pipe), lines of rows and rows/s with WASMUDF_PROGRESS=always; a CSV
# input's total rows are known (wudf_csv_read_progress).
check progress_silent 0 0 "" -- \
  sh -c "'$wasmudf' run '$gcd' gcd '$tmp/many.csv' -o '$tmp/p.arrow' 2>&1 >/dev/null | wc -c"
check progress_always 0 "3001 rows of 3001 (100%)" "" -- \
  sh -c "WASMUDF_PROGRESS=always '$wasmudf' run '$gcd' gcd '$tmp/many.csv' -o '$tmp/p.arrow' 2>&1 >/dev/null | tail -1 | grep -o '^3001 rows of 3001 (100%)'"
check limits_accepted 0 $'gcd\n4\n7' "" -- \
  "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --timeout 5000 --memory-limit 64M --format csv
check bad_timeout 2 "" "--timeout takes milliseconds" -- \
  "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --timeout soon
check tiny_memory_limit 5 "" "memory_limit" -- \
  "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --memory-limit 1K

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
