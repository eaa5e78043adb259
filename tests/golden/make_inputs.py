"""make_inputs.py DIR -- the inputs of the golden tests (tests/test_cli_golden.sh),
written by pyarrow: types.arrow (a column of every type of the type
language, with nulls, nested values and dictionaries), long.arrow
(1,000 rows, elided in the middle) and wide.arrow (a long string)."""
import datetime
import decimal
import sys

import pyarrow as pa
import pyarrow.ipc

out = sys.argv[1]

d = datetime.date
ts = datetime.datetime
columns = {
    "null": pa.array([None, None, None], pa.null()),
    "bool": pa.array([True, None, False]),
    "int8": pa.array([-128, None, 127], pa.int8()),
    "uint8": pa.array([0, None, 255], pa.uint8()),
    "int16": pa.array([-32768, None, 32767], pa.int16()),
    "uint16": pa.array([0, None, 65535], pa.uint16()),
    "int32": pa.array([-2147483648, None, 2147483647], pa.int32()),
    "uint32": pa.array([0, None, 4294967295], pa.uint32()),
    "int64": pa.array([-9223372036854775808, None, 9223372036854775807], pa.int64()),
    "uint64": pa.array([0, None, 18446744073709551615], pa.uint64()),
    "float16": pa.array([1.5, None, -2.0], pa.float32()).cast(pa.float16()),
    "float32": pa.array([1.5, None, -0.25], pa.float32()),
    "float64": pa.array([3.141592653589793, None, -1e300], pa.float64()),
    "utf8": pa.array(["héllo", None, "tab\there"]),
    "large_utf8": pa.array(["a", None, ""], pa.large_string()),
    "utf8_view": pa.array(["short", None, "a string longer than twelve"], pa.string_view()),
    "binary": pa.array([b"\x00\x01", None, b"ab"], pa.binary()),
    "large_binary": pa.array([b"\xff", None, b""], pa.large_binary()),
    "fixed_binary": pa.array([b"abc", None, b"xyz"], pa.binary(3)),
    "decimal128": pa.array([decimal.Decimal("123.45"), None, decimal.Decimal("-0.01")],
                           pa.decimal128(10, 2)),
    "decimal256": pa.array([decimal.Decimal("-12345678901234567890.5"), None,
                            decimal.Decimal("0.0")], pa.decimal256(40, 1)),
    "date32": pa.array([d(1970, 1, 1), None, d(2024, 2, 29)], pa.date32()),
    "date64": pa.array([d(1969, 12, 31), None, d(2000, 1, 1)], pa.date64()),
    "time32s": pa.array([datetime.time(0, 0, 1), None, datetime.time(23, 59, 59)],
                        pa.time32("s")),
    "time64us": pa.array([datetime.time(12, 30, 0, 250000), None, datetime.time(0, 0)],
                         pa.time64("us")),
    "timestamp_ms": pa.array([ts(2020, 1, 2, 3, 4, 5, 6000), None, ts(1900, 12, 31)],
                             pa.timestamp("ms")),
    "timestamp_tz": pa.array([ts(2020, 1, 1, 12), None, ts(1969, 12, 31, 23, 59, 59)],
                             pa.timestamp("us", tz="UTC")),
    "duration": pa.array([1500, None, -3], pa.duration("ms")),
    "interval": pa.array([pa.MonthDayNano([1, 2, 3]), None, pa.MonthDayNano([0, -1, 0])],
                         pa.month_day_nano_interval()),
    "list": pa.array([[1, None, 3], None, []], pa.list_(pa.int32())),
    "large_list": pa.array([["a", "b"], None, [None]], pa.large_list(pa.string())),
    "fixed_list": pa.array([[1.5, 2.5], None, [0.0, -1.0]], pa.list_(pa.float64(), 2)),
    "struct": pa.array([{"x": 1, "s": "one"}, None, {"x": None, "s": "it's"}],
                       pa.struct([("x", pa.int64()), ("s", pa.string())])),
    "map": pa.array([[("k", 1), ("l", None)], None, []], pa.map_(pa.string(), pa.int32())),
    "dense_union": pa.UnionArray.from_dense(pa.array([5, 9, 5], pa.int8()),
                                            pa.array([0, 0, 1], pa.int32()),
                                            [pa.array([7, 8]), pa.array(["u"])],
                                            ["i", "s"], [5, 9]),
    "sparse_union": pa.UnionArray.from_sparse(pa.array([1, 0, 1], pa.int8()),
                                              [pa.array([1, 2, 3]), pa.array(["p", "q", "r"])]),
    "dictionary": pa.array(["red", None, "blue"]).dictionary_encode(),
    "run_end": pa.RunEndEncodedArray.from_arrays(pa.array([2, 3], pa.int32()),
                                                 pa.array(["aa", "b"])),
    "nested": pa.array([[{"a": [1, 2]}], None, [{"a": None}]],
                       pa.list_(pa.struct([("a", pa.list_(pa.int8()))]))),
}
table = pa.table(columns)
# One file of the scalar types, one of the rest: a readable width each.
def write(name, t):
    with pa.ipc.new_file(f"{out}/{name}", t.schema) as writer:
        writer.write_table(t)

names = list(columns)
write("scalars.arrow", table.select(names[:13]))
write("strings.arrow", table.select(names[13:19]))
write("temporal.arrow", table.select(names[19:29]))
write("nested.arrow", table.select(names[29:]))
write("long.arrow", pa.table({"i": pa.array(range(1000), pa.int32()),
                               "s": pa.array([f"row {i}" for i in range(1000)])}))
write("wide.arrow", pa.table({"text": ["x" * 100, "short", "ünïcödé " * 10]}))
# A slice: the batch's offset applies.
write("sliced.arrow", pa.table({"v": pa.array(range(10), pa.int32())}).slice(3, 4))
# Groups: a utf8 and an int32 key with nulls, over two batches.
groups = pa.table({"g": pa.array(["a", "b", "a", None, "b", "a"]),
                   "k": pa.array([1, 2, 1, None, 2, 3], pa.int32()),
                   "x": pa.array([1.0, 2.0, 3.0, 4.0, None, 8.0])})
with pa.ipc.new_file(f"{out}/groups.arrow", groups.schema) as writer:
    writer.write_table(groups, max_chunksize=4)
# Names and values just over the cell width (the ellipsis needs more bytes
# than the character it replaces).
write("edge.arrow", pa.table({"c" * 41: ["x" * 41, "ab"], "y" * 63: ["é" * 63, None]}))
