"""
test_signature_pyarrow.py -- pyarrow as the oracle of the type language
(src/udf/signature.c): for every type pyarrow can build, the schema pyarrow
exports through the C Data Interface must describe as the canonical text of
the type's spelling, match that text, and carry at its top the format string
decoding the text gives; a different type must not match, with a message
naming both sides.

Run by ctest with $WUDF_SIGNATURE_PROBE, the small shared library
tests/signature_probe.c (signature.c and nothing else of libwasmudf).
"""
import ctypes
import os

import pyarrow as pa
import pytest


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.POINTER(ArrowSchema)),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]


@pytest.fixture(scope="module")
def probe():
    library = ctypes.CDLL(os.environ["WUDF_SIGNATURE_PROBE"])
    library.wudf_probe_canonical.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    library.wudf_probe_format.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    library.wudf_probe_describe.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    library.wudf_probe_describe.restype = None
    library.wudf_probe_match.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_char_p,
                                         ctypes.c_size_t]
    return library


class Exported:
    """A pyarrow type exported to a C ArrowSchema, released on exit."""

    def __init__(self, data_type):
        self.schema = ArrowSchema()
        data_type._export_to_c(ctypes.addressof(self.schema))

    def __enter__(self):
        return self.schema

    def __exit__(self, *exc):
        # Importing the schema back releases it.
        pa.DataType._import_from_c(ctypes.addressof(self.schema))


def canonical(probe, spelling):
    out = ctypes.create_string_buffer(2048)
    status = probe.wudf_probe_canonical(spelling.encode(), out, len(out))
    assert status == 0, out.value.decode()
    return out.value.decode()


def top_format(probe, text):
    out = ctypes.create_string_buffer(256)
    assert probe.wudf_probe_format(text.encode(), out, len(out)) == 0
    return out.value.decode()


def describe(probe, schema):
    out = ctypes.create_string_buffer(4096)
    probe.wudf_probe_describe(ctypes.addressof(schema), out, len(out))
    return out.value.decode()


def match(probe, text, schema):
    out = ctypes.create_string_buffer(4096)
    status = probe.wudf_probe_match(text.encode(), ctypes.addressof(schema), out, len(out))
    return status, out.value.decode()


# (spelling in the type language, the pyarrow type, its canonical text)
CASES = [
    ("null", pa.null(), "null"),
    ("boolean", pa.bool_(), "bool"),
    ("int8", pa.int8(), "int8"),
    ("int16", pa.int16(), "int16"),
    ("int32", pa.int32(), "int32"),
    ("int64", pa.int64(), "int64"),
    ("uint8", pa.uint8(), "uint8"),
    ("uint16", pa.uint16(), "uint16"),
    ("uint32", pa.uint32(), "uint32"),
    ("uint64", pa.uint64(), "uint64"),
    ("halffloat", pa.float16(), "float16"),
    ("float", pa.float32(), "float32"),
    ("double", pa.float64(), "float64"),
    ("string", pa.string(), "utf8"),
    ("large_string", pa.large_string(), "large_utf8"),
    ("string_view", pa.string_view(), "utf8_view"),
    ("binary", pa.binary(), "binary"),
    ("large_binary", pa.large_binary(), "large_binary"),
    ("binary_view", pa.binary_view(), "binary_view"),
    ("date32", pa.date32(), "date32"),
    ("date64", pa.date64(), "date64"),
    ("time32(s)", pa.time32("s"), "time32(s)"),
    ("time32(ms)", pa.time32("ms"), "time32(ms)"),
    ("time64(us)", pa.time64("us"), "time64(us)"),
    ("time64(ns)", pa.time64("ns"), "time64(ns)"),
    ("timestamp(s)", pa.timestamp("s"), "timestamp(s)"),
    ("timestamp(ms)", pa.timestamp("ms"), "timestamp(ms)"),
    ("timestamp(us)", pa.timestamp("us"), "timestamp(us)"),
    ("timestamp(ns)", pa.timestamp("ns"), "timestamp(ns)"),
    ("timestamp(us, 'UTC')", pa.timestamp("us", tz="UTC"), 'timestamp(us, "UTC")'),
    ("timestamp(ns, 'America/New_York')", pa.timestamp("ns", tz="America/New_York"),
     'timestamp(ns, "America/New_York")'),
    ("timestamp(s, '+05:30')", pa.timestamp("s", tz="+05:30"), 'timestamp(s, "+05:30")'),
    ("duration(s)", pa.duration("s"), "duration(s)"),
    ("duration(ms)", pa.duration("ms"), "duration(ms)"),
    ("duration(us)", pa.duration("us"), "duration(us)"),
    ("duration(ns)", pa.duration("ns"), "duration(ns)"),
    ("interval(month_day_nano)", pa.month_day_nano_interval(), "interval(month_day_nano)"),
    ("decimal32(9, 2)", pa.decimal32(9, 2), "decimal32(9, 2)"),
    ("decimal64(18, -3)", pa.decimal64(18, -3), "decimal64(18, -3)"),
    ("decimal(38, 10)", pa.decimal128(38, 10), "decimal128(38, 10)"),
    ("decimal128(5, 7)", pa.decimal128(5, 7), "decimal128(5, 7)"),
    ("decimal256(76, 0)", pa.decimal256(76, 0), "decimal256(76, 0)"),
    ("fixed_size_binary(16)", pa.binary(16), "fixed_size_binary(16)"),
    ("list<int32>", pa.list_(pa.int32()), "list<int32>"),
    ("large_list<string>", pa.large_list(pa.string()), "large_list<utf8>"),
    ("list_view<bool>", pa.list_view(pa.bool_()), "list_view<bool>"),
    ("large_list_view<binary>", pa.large_list_view(pa.binary()), "large_list_view<binary>"),
    ("fixed_size_list<double, 3>", pa.list_(pa.float64(), 3), "fixed_size_list<float64, 3>"),
    ("struct<>", pa.struct([]), "struct<>"),
    ("struct<a: int32, b: string>", pa.struct([("a", pa.int32()), ("b", pa.string())]),
     "struct<a: int32, b: utf8>"),
    ("map<string, int32>", pa.map_(pa.string(), pa.int32()), "map<utf8, int32>"),
    ("map<int64, list<struct<x: int8>>>",
     pa.map_(pa.int64(), pa.list_(pa.struct([("x", pa.int8())]))),
     "map<int64, list<struct<x: int8>>>"),
    ("sparse_union<a: int32, b: string>",
     pa.sparse_union([pa.field("a", pa.int32()), pa.field("b", pa.string())]),
     "sparse_union<a: int32, b: utf8>"),
    ("dense_union<x: float, y: list<int8>>",
     pa.dense_union([pa.field("x", pa.float32()), pa.field("y", pa.list_(pa.int8()))]),
     "dense_union<x: float32, y: list<int8>>"),
    ("dictionary<int32, string>", pa.dictionary(pa.int32(), pa.string()),
     "dictionary<int32, utf8>"),
    ("dictionary<uint8, binary, ordered>", pa.dictionary(pa.uint8(), pa.binary(), ordered=True),
     "dictionary<uint8, binary, ordered>"),
    ("dictionary<int64, list<int8>>", pa.dictionary(pa.int64(), pa.list_(pa.int8())),
     "dictionary<int64, list<int8>>"),
    ("run_end_encoded<int32, string>", pa.run_end_encoded(pa.int32(), pa.string()),
     "run_end_encoded<int32, utf8>"),
    ("run_end_encoded<int16, list<double>>", pa.run_end_encoded(pa.int16(), pa.list_(pa.float64())),
     "run_end_encoded<int16, list<float64>>"),
    ("list<struct<a: decimal(38, 10), b: timestamp(us, 'UTC')>>",
     pa.list_(pa.struct([("a", pa.decimal128(38, 10)), ("b", pa.timestamp("us", tz="UTC"))])),
     'list<struct<a: decimal128(38, 10), b: timestamp(us, "UTC")>>'),
    ("struct<m: map<string, dictionary<int16, string>>, r: run_end_encoded<int64, int8>>",
     pa.struct([("m", pa.map_(pa.string(), pa.dictionary(pa.int16(), pa.string()))),
                ("r", pa.run_end_encoded(pa.int64(), pa.int8()))]),
     "struct<m: map<utf8, dictionary<int16, utf8>>, r: run_end_encoded<int64, int8>>"),
]


@pytest.mark.parametrize("spelling,data_type,text", CASES, ids=[case[2] for case in CASES])
def test_pyarrow_schema_describes_and_matches(probe, spelling, data_type, text):
    assert canonical(probe, spelling) == text
    assert canonical(probe, text) == text
    with Exported(data_type) as schema:
        assert top_format(probe, text) == schema.format.decode()
        assert describe(probe, schema) == text
        status, message = match(probe, text, schema)
        assert status == 0, message


# (declared canonical text, pyarrow type, the message)
MISMATCHES = [
    ("int64", pa.int32(), "expected int64 (format 'l'), got int32 (format 'i')"),
    ('timestamp(us, "UTC")', pa.timestamp("us"),
     "expected timestamp(us, \"UTC\") (format 'tsu:UTC'), got timestamp(us) (format 'tsu:')"),
    ("list<int32>", pa.list_(pa.int64()),
     "at .item: expected int32 (format 'i'), got int64 (format 'l')"),
    ("struct<a: int32, c: utf8>", pa.struct([("a", pa.int32()), ("b", pa.string())]),
     "expected field 2 to be named 'c', got 'b'"),
    ("map<utf8, int64>", pa.map_(pa.string(), pa.int32()),
     "at .entries.value: expected int64 (format 'l'), got int32 (format 'i')"),
    ("dictionary<int32, utf8>", pa.dictionary(pa.int8(), pa.string()),
     "expected dictionary<int32, utf8> (format 'i' with a dictionary), got "
     "dictionary<int8, utf8> (format 'c' with a dictionary)"),
    ("dictionary<int32, utf8>", pa.dictionary(pa.int32(), pa.large_string()),
     "at .dictionary: expected utf8 (format 'u'), got large_utf8 (format 'U')"),
    ("utf8", pa.dictionary(pa.int32(), pa.string()),
     "expected utf8 (format 'u'), got dictionary<int32, utf8> (format 'i' with a dictionary)"),
    ("run_end_encoded<int32, utf8>", pa.run_end_encoded(pa.int64(), pa.string()),
     "at .run_ends: expected int32 (format 'i'), got int64 (format 'l')"),
    ("sparse_union<a: int32>", pa.dense_union([pa.field("a", pa.int32())]),
     "expected sparse_union<a: int32> (format '+us:0'), got dense_union<a: int32> "
     "(format '+ud:0')"),
    ("sparse_union<a: int32, b: int8>",
     pa.sparse_union([pa.field("a", pa.int32()), pa.field("b", pa.int8())], type_codes=[3, 7]),
     "expected sparse_union<a: int32, b: int8> (format '+us:0,1'), got sparse_union<a: "
     "int32 = 3, b: int8 = 7> (format '+us:3,7')"),
    ("decimal128(38, 10)", pa.decimal128(38, 9),
     "expected decimal128(38, 10) (format 'd:38,10'), got decimal128(38, 9) (format 'd:38,9')"),
]


@pytest.mark.parametrize("text,data_type,expected", MISMATCHES,
                         ids=[case[0] for case in MISMATCHES])
def test_pyarrow_schema_mismatches(probe, text, data_type, expected):
    with Exported(data_type) as schema:
        status, message = match(probe, text, schema)
        assert status == -1
        assert message == expected
