#!/usr/bin/env bash
# test_cli_golden.sh WASMUDF MODULES PYTHON -- golden tests of the CLI's
# output: the table printing (`wasmudf show` over files pyarrow writes at
# test time with every type of the type language, nulls, nested values,
# dictionaries, a long and a wide column, a slice; `wasmudf run` over
# literals and files), the help texts of every command, and the main error
# messages with their exit codes. Each case's standard output, standard
# error and exit status, with the temporary and module directories written
# as TMP and MODULES, are compared byte for byte with tests/golden/NAME.txt;
# the cells of the scalar, string and temporal tables are also checked
# against the values pyarrow reads, and the progress line on a pty.
# WUDF_UPDATE_GOLDEN=1 rewrites the golden files instead (review the diff).
set -u
wasmudf=$1
modules=$2
python=$3
golden=$(cd "$(dirname "$0")" && pwd)/golden
tmp=${WUDF_TEST_TMP:-/tmp}/cli-golden.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

if ! "$python" "$golden/make_inputs.py" "$tmp"; then
  echo "FAILED make_inputs.py (pyarrow)"
  echo "0 passed, 1 failed"
  exit 1
fi
printf 'a,b,name\n12,8,x\n7,21,y\n,5,z\n' > "$tmp/in.csv"
head -c 100 "$tmp/long.arrow" > "$tmp/broken.arrow"

# golden NAME -- COMMAND...: runs COMMAND (stdin from /dev/null) and
# compares what it printed with tests/golden/NAME.txt.
golden() {
  local name=$1
  shift 2
  "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  local status=$?
  {
    cat "$tmp/out"
    if [ -s "$tmp/err" ]; then
      echo "[stderr]"
      cat "$tmp/err"
    fi
    echo "[exit $status]"
  } | sed -e "s#$tmp#TMP#g" -e "s#$modules#MODULES#g" >"$tmp/got"
  if [ "${WUDF_UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$tmp/got" "$golden/$name.txt"
  fi
  if cmp -s "$tmp/got" "$golden/$name.txt"; then
    echo "ok     $name"
    passed=$((passed + 1))
  else
    echo "FAILED $name: the output differs from tests/golden/$name.txt:"
    diff -u "$golden/$name.txt" "$tmp/got" | head -40
    failed=$((failed + 1))
  fi
}

gcd=$modules/example_gcd.wasm
# Tables of every type.
for input in scalars strings temporal nested long wide sliced; do
  golden "show_$input" -- "$wasmudf" show "$tmp/$input.arrow"
done
golden show_long_max_rows -- "$wasmudf" show "$tmp/long.arrow" --max-rows 5
# The last rows taken across batches (groups.arrow: batches of 4 and 2).
golden show_batches_3 -- "$wasmudf" show "$tmp/groups.arrow" --max-rows 3
golden show_batches_5 -- "$wasmudf" show "$tmp/groups.arrow" --max-rows 5
golden show_batches_6 -- "$wasmudf" show "$tmp/groups.arrow" --max-rows 6
golden show_csv -- "$wasmudf" show "$tmp/in.csv"
golden show_sliced_jsonl -- "$wasmudf" show "$tmp/sliced.arrow" --format jsonl
# run: literals and files, each kind of function.
golden run_literals -- "$wasmudf" run "$gcd" gcd 12,18,null,-7 8,27,5,21
golden run_threads -- "$wasmudf" run --threads 2 "$gcd" gcd 12,18,null,-7 8,27,5,21
golden run_strings -- "$wasmudf" run "$modules/example_strings.wasm" upper "hello,null,wasm"
golden run_table -- "$wasmudf" run "$modules/example_tables.wasm" series 1,5,7,null 3,4,7,1
golden run_aggregate -- "$wasmudf" run "$modules/example_aggregates.wasm" avg 1,2,null,6
golden run_batch -- "$wasmudf" run "$modules/example_batches.wasm" positive 1,2,3,4 -1.5,2.5,null,3
golden run_file -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv"
golden run_file_long -- "$wasmudf" run "$gcd" gcd "$tmp/long.arrow" --args i,i
golden run_file_table -- "$wasmudf" run "$modules/example_tables.wasm" series "$tmp/long.arrow" \
  --args i,i --max-rows 6
golden run_file_csv -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --format csv
# Results from a guest printed as values: identity functions of
# tests/udf_guests (alltypes.wasm) over the pyarrow columns, a function that
# returns a dictionary and one that returns nested values.
all=$modules/alltypes.wasm
golden guest_large_list -- "$wasmudf" run "$all" id_large_list_utf8 "$tmp/nested.arrow" --args large_list
golden guest_map -- "$wasmudf" run "$all" id_map "$tmp/nested.arrow" --args map
golden guest_utf8_view -- "$wasmudf" run "$all" id_utf8_view "$tmp/strings.arrow" --args utf8_view
golden guest_binary -- "$wasmudf" run "$all" id_binary "$tmp/strings.arrow" --args binary
golden guest_date32 -- "$wasmudf" run "$all" id_date32 "$tmp/temporal.arrow" --args date32
golden guest_timestamp_tz -- "$wasmudf" run "$all" id_ts_us_utc "$tmp/temporal.arrow" --args timestamp_tz
golden guest_duration -- "$wasmudf" run "$all" id_dur_ms "$tmp/temporal.arrow" --args duration
golden guest_interval -- "$wasmudf" run "$all" id_interval_mdn "$tmp/temporal.arrow" --args interval
golden guest_dictionary -- "$wasmudf" run "$all" dedup_dict "$tmp/long.arrow" --args s --max-rows 4
golden guest_nested -- "$wasmudf" run "$all" make_nested "$tmp/long.arrow" --args i,s --max-rows 4
golden guest_nested_wide -- "$wasmudf" run "$all" make_nested "$tmp/long.arrow" --args i,s \
  --max-rows 2 --max-width 0
golden show_wide_narrow -- "$wasmudf" show "$tmp/wide.arrow" --max-width 8
golden show_edge -- "$wasmudf" show "$tmp/edge.arrow"
golden show_edge_62 -- "$wasmudf" show "$tmp/edge.arrow" --max-width 62
golden error_bad_width -- "$wasmudf" show "$tmp/wide.arrow" --max-width 1

# Aggregates over files: one group, --group-by a utf8 and an int32 key
# (nulls a group of their own; groups in order of first appearance).
agg=$modules/example_aggregates.wasm
golden run_aggregate_file -- "$wasmudf" run "$agg" avg "$tmp/groups.arrow" --args x
golden run_group_by -- "$wasmudf" run "$agg" avg "$tmp/groups.arrow" --args x --group-by g
golden run_group_by_int -- "$wasmudf" run "$agg" variance "$tmp/groups.arrow" --args x \
  --group-by k
golden run_group_by_csv -- "$wasmudf" run "$agg" string_agg "$tmp/in.csv" --args name,name \
  --group-by b --format csv
# Help texts.
golden help -- "$wasmudf" --help
for command in run show call exports list build compile; do
  golden "help_$command" -- "$wasmudf" "$command" --help
done
# Errors: one message naming the file, column or function, one exit status
# per class.
golden error_usage -- "$wasmudf" run "$gcd"
golden error_unknown_command -- "$wasmudf" frobnicate
golden error_unknown_option -- "$wasmudf" run "$gcd" gcd 1 1 --bogus
golden error_bad_format -- "$wasmudf" run "$gcd" gcd 1 1 --format xml
golden error_no_function -- "$wasmudf" run "$gcd" nope 1 1
golden error_arity -- "$wasmudf" run "$gcd" gcd 1
golden error_bad_value -- "$wasmudf" run "$gcd" gcd x 1
golden error_column_type -- "$wasmudf" run "$gcd" gcd "$tmp/scalars.arrow" --args int64,int8
golden error_group_by_scalar -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --group-by a
golden error_group_by_column -- "$wasmudf" run "$agg" avg "$tmp/groups.arrow" --args x \
  --group-by nope
golden error_args_count -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --args a
golden error_no_column -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" --args nope,a
golden error_no_input -- "$wasmudf" run "$gcd" gcd "$tmp/missing.arrow"
golden error_broken_input -- "$wasmudf" run "$gcd" gcd "$tmp/broken.arrow"
golden error_no_module -- "$wasmudf" run "$tmp/missing.wasm" gcd 1 1
golden error_not_wasm -- "$wasmudf" run "$tmp/in.csv" gcd 1 1
golden error_guest -- "$wasmudf" run "$modules/example_checked_divide.wasm" checked_divide 1,2 1,0
golden error_memory_limit -- "$wasmudf" run --memory-limit 1K "$gcd" gcd 1 1
golden error_timeout -- "$wasmudf" run --timeout 100 "$modules/hostile_infinite_loop.wasm" spin 1
golden run_limits_accepted -- "$wasmudf" run "$gcd" gcd 12 8 --timeout 5000 --memory-limit 64M
golden error_bad_timeout -- "$wasmudf" run "$gcd" gcd 12 8 --timeout soon
golden error_unknown_output -- "$wasmudf" run "$gcd" gcd "$tmp/in.csv" -o "$tmp/out.parquet"

# pyarrow as the oracle of the cells: every shown cell of the scalar,
# string and temporal files against the value pyarrow reads, written the
# way docs/cli.md says (NULL, decimals as str(Decimal), dates and times in
# ISO form, timestamps with a space and Z for a time zone).
if "$python" - "$wasmudf" "$tmp" <<'PY'
import datetime, decimal, subprocess, sys
import pyarrow as pa
wasmudf, tmp = sys.argv[1:3]

def expected(value, type_):
    if value is None:
        return "NULL"
    if pa.types.is_boolean(type_):
        return "true" if value else "false"
    if pa.types.is_floating(type_):
        return None  # the shortest round trip: checked by the golden files
    if pa.types.is_timestamp(type_):
        text = value.isoformat(sep=" ")
        if type_.tz:
            text = text.replace("+00:00", "") + "Z"
        return text
    if pa.types.is_time(type_) or pa.types.is_date(type_):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, str):
        return value.replace("\t", "\\t")
    return str(value)

checked = 0
for name in ["scalars", "strings", "temporal", "long"]:
    table = pa.ipc.open_file(f"{tmp}/{name}.arrow").read_all()
    out = subprocess.run([wasmudf, "show", f"{tmp}/{name}.arrow", "--max-rows", "0"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line for line in out[4:] if line.startswith("│")]
    assert len(rows) == table.num_rows, (name, len(rows))
    for r, line in enumerate(rows):
        cells = [c.strip() for c in line.strip("│").split("│")]
        for c, column in enumerate(table.columns):
            if pa.types.is_duration(column.type):
                raw = column.cast(pa.int64())[r].as_py()
                want = "NULL" if raw is None else f"{raw} {column.type.unit}"
            elif pa.types.is_interval(column.type):
                continue  # written out in docs/cli.md, checked by the golden file
            else:
                want = expected(column[r].as_py(), column.type)
            if want is None or pa.types.is_timestamp(column.type) and "." in want:
                continue
            assert cells[c] == want, (name, table.schema.names[c], r, cells[c], want)
            checked += 1
print(f"{checked} cells equal to pyarrow's values")
PY
then
  echo "ok     cells_equal_pyarrow"
  passed=$((passed + 1))
else
  echo "FAILED cells_equal_pyarrow"
  failed=$((failed + 1))
fi

# The progress line on a terminal (a pty): drawn over itself with
# "\r ESC[K" and erased at the end (WASMUDF_PROGRESS=always skips the
# one-second wait); the table still goes to standard output.
if "$python" - "$wasmudf" "$gcd" "$tmp/long.arrow" <<'PY'
import os, pty, sys
wasmudf, module, data = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.environ["WASMUDF_PROGRESS"] = "always"
    os.execv(wasmudf, [wasmudf, "run", module, "gcd", data, "--args", "i,i", "--max-rows", "2"])
chunks = []
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    chunks.append(chunk)
_, status = os.waitpid(pid, 0)
text = b"".join(chunks)
assert os.waitstatus_to_exitcode(status) == 0, status
assert b"\r\x1b[K1000 rows" in text, text
assert b"rows/s" in text, text
assert b"1000 rows (2 shown)" in text, text
assert text.count(b"\r\x1b[K") >= 2, text  # drawn, then erased
# Erased before the table starts: the table's first line begins a line.
assert b"\r\x1b[K\xe2\x94\x8c" in text, text

# An IPC file of four batches: the first line (drawn after the first
# batch) shows how much of the file is done and the ETA
# (wudf_ipc_read_progress, by bytes).
import pyarrow as pa, pyarrow.ipc as ipc, re, subprocess, tempfile
with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "four.arrow")
    table = pa.table({"i": pa.array(range(4000), pa.int32())})
    with ipc.new_file(path, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=1000):
            writer.write_batch(batch)
    run = subprocess.run([wasmudf, "run", module, "gcd", path, "--args", "i,i", "-o",
                          os.path.join(directory, "out.arrow")],
                         env=dict(os.environ, WASMUDF_PROGRESS="always"),
                         capture_output=True, text=True, check=True)
    first = run.stderr.splitlines()[0]
    match = re.match(r"^([123])000 rows \((\d+)%\)  \d+ rows/s  [\d.]+ s  ETA [\d.]+ s$", first)
    assert match, run.stderr
    # Bytes read, so a little ahead of the rows: within 15 points.
    done = int(match.group(1)) * 25
    assert done <= int(match.group(2)) <= done + 15, run.stderr
PY
then
  echo "ok     progress_terminal"
  passed=$((passed + 1))
else
  echo "FAILED progress_terminal"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
