#!/usr/bin/env bash
# Builds the libFuzzer targets of the Arrow IPC reader (tests/fuzz/fuzz_ipc.c)
# and of the CSV reader and text writers (tests/fuzz/fuzz_csv.c), with
# AddressSanitizer and UBSan, and runs the first for SECONDS seconds (default
# 30) and the second for a third of that (at least 5) on one core; the IPC
# target starts starting from seeds written by tests/fuzz/make_ipc_seeds.c
# (streams and files, uncompressed, LZ4 and ZSTD) plus the corpus kept in
# build/fuzz-ipc/corpus from earlier runs. Prints the number of executions;
# exits nonzero on a crash, leaving the input in build/fuzz-ipc/crash-*
# (replay: build/fuzz-ipc/fuzz_ipc FILE). `make fuzz-ipc SECONDS=3600` runs
# it longer.
#
#   scripts/fuzz-ipc.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
out=build/fuzz-ipc
mkdir -p "$out/corpus" "$out/seeds"
clang=$(command -v clang-14 || command -v clang || true)
if [ -z "$clang" ]; then echo "fuzz-ipc: clang is required" >&2; exit 1; fi
reader="src/io/flatbuf.c src/io/ipc_codec.c src/io/ipc_read.c src/arrow/format.c
        src/arrow/bits.c src/arrow/gather.c src/arrow/emit.c src/common/alloc.c
        src/common/error.c src/common/utf8.c src/common/versioned.c"
writer="$reader src/io/ipc_write.c"
flags="-std=gnu11 -g -O1 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
       -Werror -Isrc -Iinclude -Itests"
# shellcheck disable=SC2086
"$clang" $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer tests/fuzz/fuzz_ipc.c $reader -llz4 -lzstd -lpthread \
  -o "$out/fuzz_ipc"
# shellcheck disable=SC2086
"$clang" $flags tests/fuzz/make_ipc_seeds.c $writer -llz4 -lzstd -lpthread \
  -o "$out/make_ipc_seeds"
# shellcheck disable=SC2086
"$clang" $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer tests/fuzz/fuzz_csv.c src/io/csv_read.c src/io/text_write.c \
  src/arrow/format.c src/arrow/bits.c src/arrow/gather.c src/arrow/emit.c src/common/alloc.c \
  src/common/error.c src/common/utf8.c src/common/versioned.c -lpthread -lm -o "$out/fuzz_csv"
rm -f "$out"/seeds/*
"$out/make_ipc_seeds" "$out/seeds"
mkdir -p "$out/csv-corpus" "$out/csv-seeds"
printf '\006a,b,c,d\n1,"x,""y""",2020-01-01 00:00:00.5Z,true\n,,,false\n' > "$out/csv-seeds/declared"
printf '\002i,f,s\r\n1,2.5,"multi\nline"\r\n-3,1e9,\r\n' > "$out/csv-seeds/inferred"

log=$out/fuzz.log
status=0
"$out/fuzz_ipc" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" >"$log" 2>&1 \
  || status=$?
executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ "$status" -ne 0 ]; then
  grep -E "ERROR|SUMMARY|broken promise|runtime error|Test unit written" "$log" | head -20
  echo "fuzz_ipc: FAILED after ${executions:-?} executions (log: $log)"
  exit 1
fi
echo "fuzz_ipc: ${executions:-?} executions in ${seconds} s, no crash" \
     "(corpus: $(ls "$out/corpus" | wc -l) inputs)"

csv_seconds=$((seconds / 3 > 5 ? seconds / 3 : 5))
log=$out/fuzz-csv.log
status=0
"$out/fuzz_csv" -max_total_time="$csv_seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/csv-" "$out/csv-corpus" "$out/csv-seeds" \
  >"$log" 2>&1 || status=$?
executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ "$status" -ne 0 ]; then
  grep -E "ERROR|SUMMARY|fuzz_csv:|runtime error|Test unit written" "$log" | head -20
  echo "fuzz_csv: FAILED after ${executions:-?} executions (log: $log)"
  exit 1
fi
echo "fuzz_csv: ${executions:-?} executions in ${csv_seconds} s, no crash" \
     "(corpus: $(ls "$out/csv-corpus" | wc -l) inputs)"
