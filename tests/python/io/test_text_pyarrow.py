"""
test_text_pyarrow.py -- pyarrow as the oracle of libwasmudf's CSV reader
(wudf_csv_read_*: type inference and an explicit schema) and its CSV and
JSON-lines writers (wudf_csv_write_stream, wudf_jsonl_write_stream): what
libwasmudf reads equals pyarrow.csv.read_csv of the same text (types and
values); what it writes, read back by pyarrow.csv / pyarrow.json with the
table's own types, equals the table.

The library is $WUDF_LIBRARY (libwasmudf.so), loaded with ctypes.
"""
import ctypes
import datetime
import decimal
import io
import os

import pyarrow as pa
import pyarrow.csv as csv
import pyarrow.json as json
import pytest

lib = ctypes.CDLL(os.environ["WUDF_LIBRARY"])
STREAM_SIZE = 40


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("trap", ctypes.c_int),
                ("exit_code", ctypes.c_int), ("message", ctypes.c_char * 1024)]


class CsvReadOptions(ctypes.Structure):
    """struct wudf_csv_read_options (versioned: struct_size first)."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("delimiter", ctypes.c_char), ("has_header", ctypes.c_int),
                ("schema", ctypes.c_void_p), ("batch_rows", ctypes.c_int64),
                ("max_input_bytes", ctypes.c_int64)]


lib.wudf_csv_read_memory.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                     ctypes.POINTER(CsvReadOptions), ctypes.c_void_p,
                                     ctypes.POINTER(Error)]
lib.wudf_csv_write_stream.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char,
                                      ctypes.POINTER(Error)]
lib.wudf_jsonl_write_stream.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                        ctypes.POINTER(Error)]


def wudf_read_csv(text, schema=None, batch_rows=0, header=True, delimiter=b","):
    options = CsvReadOptions(ctypes.sizeof(CsvReadOptions), delimiter, 1 if header else 0, None,
                             batch_rows, 0)
    schema_c = None
    if schema is not None:
        schema_c = ctypes.create_string_buffer(72)  # struct ArrowSchema
        schema._export_to_c(ctypes.addressof(schema_c))
        options.schema = ctypes.addressof(schema_c)
    stream = ctypes.create_string_buffer(STREAM_SIZE)
    error = Error()
    data = text.encode() if isinstance(text, str) else text
    status = lib.wudf_csv_read_memory(data, len(data), ctypes.byref(options), stream,
                                      ctypes.byref(error))
    if schema_c is not None:  # release the exported schema
        release = ctypes.cast(ctypes.addressof(schema_c) + 56, ctypes.POINTER(ctypes.c_void_p))
        if release[0]:
            ctypes.CFUNCTYPE(None, ctypes.c_void_p)(release[0])(ctypes.addressof(schema_c))
    if status != 0:
        raise RuntimeError(error.message.decode())
    return pa.RecordBatchReader._import_from_c(ctypes.addressof(stream)).read_all()


def wudf_write_text(table, path, json_lines=False):
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=3))
    stream = ctypes.create_string_buffer(STREAM_SIZE)
    reader._export_to_c(ctypes.addressof(stream))
    error = Error()
    if json_lines:
        status = lib.wudf_jsonl_write_stream(stream, str(path).encode(), ctypes.byref(error))
    else:
        status = lib.wudf_csv_write_stream(stream, str(path).encode(), b",", ctypes.byref(error))
    if status != 0:
        raise RuntimeError(error.message.decode())


INFERRED = '''i,f,b,s,d,ts,tms,tz,t,empty,mixed,word,nulls
1,1.5,true,plain,2020-01-31,2020-01-31 12:34:56,2020-01-31T12:34:56.123,2021-06-01 00:00:00Z,12:00:01,,1,x,NA
-2,-0.25,False,"quoted, with comma",1969-12-31,1969-12-31 23:59:59,1969-12-31 23:59:59.5,1970-01-01 00:00:01Z,00:00:00,,2.5,,
,1e10,TRUE,"multi
line ""quote""",2000-02-29,2000-02-29 00:00:00,2000-02-29 00:00:00.001,1999-12-31 23:59:59Z,23:59:59,,3,y,null
9223372036854775807,,false,,,,,,,,,"",N/A
'''


def test_inference_matches_pyarrow():
    got = wudf_read_csv(INFERRED)
    expected = csv.read_csv(io.BytesIO(INFERRED.encode()))
    assert got.schema == expected.schema, f"\n{got.schema}\n---\n{expected.schema}"
    assert got.equals(expected), f"\n{got.to_pydict()}\n---\n{expected.to_pydict()}"


def test_batches_and_no_header():
    rows = "\n".join(f"{i},{i * 0.5},name{i}" for i in range(100)) + "\n"
    got = wudf_read_csv(rows, batch_rows=7, header=False)
    expected = csv.read_csv(io.BytesIO(rows.encode()),
                            read_options=csv.ReadOptions(autogenerate_column_names=True))
    assert len(got.to_batches()) == 15
    assert got.schema == expected.schema and got.equals(expected)


def test_explicit_schema_matches_pyarrow():
    text = "a,b,c,d,e,f,g\n1,2,x,2020-01-01,2020-01-01 00:00:01.5Z,true,3.25\n,255,,,,,\n"
    schema = pa.schema([("a", pa.int8()), ("b", pa.uint8()), ("c", pa.large_string()),
                        ("d", pa.date32()), ("e", pa.timestamp("ms", tz="UTC")),
                        ("f", pa.bool_()), ("g", pa.float32())])
    got = wudf_read_csv(text, schema=schema)
    expected = csv.read_csv(io.BytesIO(text.encode()),
                            convert_options=csv.ConvertOptions(column_types=schema))
    assert got.schema == schema
    assert got.equals(expected), f"\n{got.to_pydict()}\n---\n{expected.to_pydict()}"


def test_errors_name_line_and_column():
    schema = pa.schema([("a", pa.int8()), ("b", pa.string())])
    with pytest.raises(RuntimeError, match=r"line 3, column 'a': '300' is not a value"):
        wudf_read_csv("a,b\n1,x\n300,y\n", schema=schema)
    with pytest.raises(RuntimeError, match=r"line 2: 3 fields, expected 2"):
        wudf_read_csv("a,b\n1,2,3\n")
    with pytest.raises(RuntimeError, match=r"line 2: a quote that is never closed"):
        wudf_read_csv('a,b\n1,"open\n')
    not_null = pa.schema([pa.field("a", pa.int32(), nullable=False)])
    with pytest.raises(RuntimeError, match="declared not null"):
        wudf_read_csv("a\n1\n\n2\nNA\n", schema=not_null)


def flat_table():
    n = 7
    ints = [None if i == 3 else i * 37 - 100 for i in range(n)]
    return pa.table({
        "i8": pa.array([None if v is None else v % 100 for v in ints], pa.int8()),
        "i64": pa.array(ints, pa.int64()),
        "u64": pa.array([None if v is None else 2**64 - 1 - i for i, v in enumerate(ints)],
                        pa.uint64()),
        "f32": pa.array([None if v is None else v / 3 for v in ints], pa.float32()),
        "f64": pa.array([None if v is None else v / 7 for v in ints], pa.float64()),
        "b": pa.array([None if v is None else v % 2 == 0 for v in ints]),
        "s": pa.array(["plain", "", None, 'quote " and, comma', "line\nbreak", "é", "x"]),
        "ls": pa.array(["a", None, "b", "c", "", "d", "e"], pa.large_string()),
        "d32": pa.array([None if v is None else datetime.date(1960, 1, 1) +
                         datetime.timedelta(days=v * 30) for v in ints], pa.date32()),
        "t32": pa.array([None if v is None else abs(v) * 97 for v in ints],
                        pa.int32()).cast(pa.time32("s")),
        "t64": pa.array([None if v is None else abs(v) * 12345678 for v in ints],
                        pa.int64()).cast(pa.time64("us")),
        "ts_s": pa.array([None if v is None else v * 86400 * 300 + 7 for v in ints],
                         pa.int64()).cast(pa.timestamp("s")),
        "ts_ms": pa.array([None if v is None else v * 1000003 for v in ints],
                          pa.int64()).cast(pa.timestamp("ms")),
        "ts_ns_utc": pa.array([None if v is None else v * 10**15 + 123 for v in ints],
                              pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
        "dec": pa.array([None if v is None else decimal.Decimal(v) / 100 for v in ints],
                        pa.decimal128(12, 2)),
    })


def test_csv_written_reads_back_in_pyarrow(tmp_path):
    table = flat_table()
    path = tmp_path / "out.csv"
    wudf_write_text(table, path)
    options = csv.ConvertOptions(column_types=table.schema, strings_can_be_null=True,
                                 quoted_strings_can_be_null=False)
    got = csv.read_csv(path, convert_options=options)
    for name in table.column_names:
        assert got[name].equals(table[name]), f"{name}: {got[name]} != {table[name]}"
    # And through libwasmudf's own reader with the same schema (no decimals).
    table = table.drop_columns(["dec"])
    wudf_write_text(table, path)
    ours = wudf_read_csv(path.read_bytes(), schema=table.schema)
    for name in ours.column_names:
        expected = table[name]
        if pa.types.is_string(expected.type) or pa.types.is_large_string(expected.type):
            expected = pa.chunked_array([pa.array([("" if v is None else v)
                                                   for v in expected.to_pylist()],
                                                  expected.type)])
        assert ours[name].equals(expected), f"{name}: {ours[name]} != {expected}"


def test_csv_writes_dictionaries_as_values(tmp_path):
    table = pa.table({"d": pa.array(["x", "y", None, "x"]).dictionary_encode()})
    path = tmp_path / "dict.csv"
    wudf_write_text(table, path)
    assert path.read_text() == 'd\nx\ny\n\nx\n'


def test_json_lines_written_read_back_by_pyarrow(tmp_path):
    table = pa.table({
        "i": pa.array([1, None, -3]),
        "f": pa.array([0.1, 2.5, None]),
        "b": pa.array([True, None, False]),
        "s": pa.array(['tab\t"quote"\\', None, "é\u0001"]),
        "l": pa.array([[1, 2], None, []], pa.list_(pa.int64())),
        "st": pa.array([{"x": 1, "y": "a"}, None, {"x": None, "y": "c"}],
                       pa.struct([("x", pa.int64()), ("y", pa.string())])),
        "ts": pa.array([0, 1, None], pa.int64()).cast(pa.timestamp("s")),
        "dict": pa.array(["p", "q", "p"]).dictionary_encode(),
    })
    path = tmp_path / "out.jsonl"
    wudf_write_text(table, path, json_lines=True)
    schema = table.schema.set(table.schema.get_field_index("dict"),
                              pa.field("dict", pa.string()))
    got = json.read_json(path, parse_options=json.ParseOptions(explicit_schema=schema))
    expected = table.set_column(table.schema.get_field_index("dict"), "dict",
                                table["dict"].cast(pa.string()))
    assert got.equals(expected), f"\n{got.to_pydict()}\n---\n{expected.to_pydict()}"
    assert len(path.read_text().splitlines()) == 3


def test_unsupported_types_are_named(tmp_path):
    table = pa.table({"u": pa.UnionArray.from_sparse(pa.array([0], pa.int8()),
                                                     [pa.array([1])])})
    with pytest.raises(RuntimeError, match="column 'u'"):
        wudf_write_text(table, tmp_path / "u.csv")
    nested = pa.table({"l": pa.array([[1]])})
    with pytest.raises(RuntimeError, match="column 'l'.*CSV"):
        wudf_write_text(nested, tmp_path / "l.csv")
