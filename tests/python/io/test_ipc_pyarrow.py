"""
test_ipc_pyarrow.py -- pyarrow as the oracle of the Arrow IPC reader and
writer of libwasmudf (src/io, wudf_ipc_*), both ways:

  * files and streams written by pyarrow (every type of the type language,
    nested, extension types, schema and field metadata, slices, several
    batches, dictionaries with deltas and replacements; uncompressed, LZ4
    and ZSTD) read by libwasmudf equal pyarrow's own reading, schema
    metadata included;
  * files and streams written by libwasmudf from pyarrow data (exported
    through the C stream interface, slices included) read back by pyarrow
    equal the table that went in, `schema.equals(..., check_metadata=True)`.

The library is $WUDF_LIBRARY (libwasmudf.so), loaded with ctypes.
"""
import ctypes
import datetime
import decimal
import os
import uuid

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

lib = ctypes.CDLL(os.environ["WUDF_LIBRARY"])


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("trap", ctypes.c_int),
                ("exit_code", ctypes.c_int), ("message", ctypes.c_char * 1024)]


class WriteOptions(ctypes.Structure):
    """struct wudf_ipc_write_options (versioned: struct_size first)."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("format", ctypes.c_int),
                ("compression", ctypes.c_int), ("compression_level", ctypes.c_int)]


STREAM_SIZE = 40  # struct ArrowArrayStream: five pointers
CODECS = {None: 0, "lz4": 1, "zstd": 2}

lib.wudf_ipc_read_path.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.POINTER(Error)]
lib.wudf_ipc_read_memory.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                     ctypes.c_void_p, ctypes.POINTER(Error)]
lib.wudf_ipc_write_stream.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(WriteOptions), ctypes.POINTER(Error)]


def wudf_read(path):
    """Reads `path` with libwasmudf into a pyarrow Table."""
    stream = ctypes.create_string_buffer(STREAM_SIZE)
    error = Error()
    if lib.wudf_ipc_read_path(str(path).encode(), None, stream, ctypes.byref(error)) != 0:
        raise RuntimeError(error.message.decode())
    reader = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))
    return reader.read_all()


def wudf_read_memory(data):
    stream = ctypes.create_string_buffer(STREAM_SIZE)
    error = Error()
    buffer = ctypes.create_string_buffer(bytes(data), len(data))
    if lib.wudf_ipc_read_memory(buffer, len(data), None, stream, ctypes.byref(error)) != 0:
        raise RuntimeError(error.message.decode())
    reader = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))
    table = reader.read_all()
    # Arrays point into `buffer`: keep it alive as long as the table.
    return table, buffer


def wudf_write(batches_or_table, path, file_format=False, codec=None, schema=None):
    """Writes batches (or a table) with libwasmudf's writer."""
    if isinstance(batches_or_table, pa.Table):
        reader = pa.RecordBatchReader.from_batches(batches_or_table.schema,
                                                   batches_or_table.to_batches())
    else:
        reader = pa.RecordBatchReader.from_batches(schema, batches_or_table)
    stream = ctypes.create_string_buffer(STREAM_SIZE)
    reader._export_to_c(ctypes.addressof(stream))
    options = WriteOptions(ctypes.sizeof(WriteOptions), 1 if file_format else 0, CODECS[codec], 0)
    error = Error()
    if lib.wudf_ipc_write_stream(stream, str(path).encode(), ctypes.byref(options),
                                 ctypes.byref(error)) != 0:
        raise RuntimeError(error.message.decode())


class Rgb(pa.ExtensionType):
    """An extension type with metadata (its serialization)."""

    def __init__(self):
        super().__init__(pa.list_(pa.uint8(), 3), "wasmudf.test.rgb")

    def __arrow_ext_serialize__(self):
        return b"space=srgb"

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type, serialized):
        return Rgb()


pa.register_extension_type(Rgb())


def every_type_table(n=7):
    """A table of every type of the type language, nulls included."""
    ints = [None if i % 3 == 1 else i - 3 for i in range(n)]
    strs = [None if i % 4 == 2 else "é" * i + str(i) + "x" * (i * 3) for i in range(n)]
    lists = [None if i % 5 == 3 else list(range(i % 4)) for i in range(n)]
    columns = {
        "null": pa.nulls(n),
        "bool": pa.array([None if i % 3 == 0 else i % 2 == 0 for i in range(n)]),
        "int8": pa.array(ints, pa.int8()),
        "int16": pa.array(ints, pa.int16()),
        "int32": pa.array(ints, pa.int32()),
        "int64": pa.array(ints, pa.int64()),
        "uint8": pa.array([None if v is None else abs(v) for v in ints], pa.uint8()),
        "uint16": pa.array([None if v is None else abs(v) for v in ints], pa.uint16()),
        "uint32": pa.array([None if v is None else abs(v) for v in ints], pa.uint32()),
        "uint64": pa.array([None if v is None else 2**63 + abs(v) for v in ints], pa.uint64()),
        "float16": pa.array([None if v is None else v / 2 for v in ints], pa.float16()),
        "float32": pa.array([None if v is None else v / 4 for v in ints], pa.float32()),
        "float64": pa.array([None if v is None else v / 8 for v in ints], pa.float64()),
        "decimal32": pa.array([None if v is None else decimal.Decimal(v) / 100 for v in ints],
                              pa.decimal32(7, 2)),
        "decimal64": pa.array([None if v is None else decimal.Decimal(v) / 100 for v in ints],
                              pa.decimal64(15, 2)),
        "decimal128": pa.array([None if v is None else decimal.Decimal(v) / 100 for v in ints],
                               pa.decimal128(20, 2)),
        "decimal256": pa.array([None if v is None else decimal.Decimal(v) * 10**30 for v in ints],
                               pa.decimal256(60, -3)),
        "date32": pa.array([None if v is None else datetime.date(2020, 1, 1) + datetime.timedelta(days=i)
                            for i, v in enumerate(ints)], pa.date32()),
        "date64": pa.array([None if v is None else datetime.date(1960, 2, 1) + datetime.timedelta(days=3 * i)
                            for i, v in enumerate(ints)], pa.date64()),
        "time32s": pa.array(ints, pa.int32()).cast(pa.time32("s")),
        "time32ms": pa.array(ints, pa.int32()).cast(pa.time32("ms")),
        "time64us": pa.array(ints, pa.int64()).cast(pa.time64("us")),
        "time64ns": pa.array(ints, pa.int64()).cast(pa.time64("ns")),
        "ts_s": pa.array(ints, pa.int64()).cast(pa.timestamp("s")),
        "ts_ms_utc": pa.array(ints, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "ts_us_paris": pa.array(ints, pa.int64()).cast(pa.timestamp("us", tz="Europe/Paris")),
        "ts_ns_offset": pa.array(ints, pa.int64()).cast(pa.timestamp("ns", tz="+05:30")),
        "dur_s": pa.array(ints, pa.int64()).cast(pa.duration("s")),
        "dur_ms": pa.array(ints, pa.int64()).cast(pa.duration("ms")),
        "dur_us": pa.array(ints, pa.int64()).cast(pa.duration("us")),
        "dur_ns": pa.array(ints, pa.int64()).cast(pa.duration("ns")),
        "interval_mdn": pa.array([None if v is None else pa.MonthDayNano([v, -v, v * 1000])
                                  for v in ints], pa.month_day_nano_interval()),
        "binary": pa.array([None if s is None else s.encode() for s in strs], pa.binary()),
        "string": pa.array(strs, pa.string()),
        "large_binary": pa.array([None if s is None else s.encode() for s in strs],
                                 pa.large_binary()),
        "large_string": pa.array(strs, pa.large_string()),
        "binary_view": pa.array([None if s is None else s.encode() for s in strs],
                                pa.binary_view()),
        "string_view": pa.array(strs, pa.string_view()),
        "fixed_binary": pa.array([None if v is None else bytes([abs(v)] * 3) for v in ints],
                                 pa.binary(3)),
        "list": pa.array(lists, pa.list_(pa.int32())),
        "large_list": pa.array([None if x is None else [str(v) for v in x] for x in lists],
                               pa.large_list(pa.string())),
        "fixed_list": pa.array([None if v is None else [v, -v] for v in ints],
                               pa.list_(pa.int16(), 2)),
        "list_view": pa.array(lists, pa.list_view(pa.int64())),
        "large_list_view": pa.array(lists, pa.large_list_view(pa.string())) if False else
        pa.array([None if x is None else [str(v) for v in x] for x in lists],
                 pa.large_list_view(pa.string())),
        "struct": pa.array([None if v is None else {"x": v, "y": str(v)} for v in ints],
                           pa.struct([pa.field("x", pa.int32()),
                                      pa.field("y", pa.string(), nullable=False)])),
        "map": pa.array([None if x is None else [(str(v), v) for v in x] for x in lists],
                        pa.map_(pa.string(), pa.int32())),
        "map_sorted": pa.array([None if x is None else [(str(v), v) for v in x] for x in lists],
                               pa.map_(pa.string(), pa.int32(), keys_sorted=True)),
        "fixed_list_of_struct": pa.array(
            [None if v is None else [{"p": v}, {"p": None}] for v in ints],
            pa.list_(pa.struct([pa.field("p", pa.int8())]), 2)),
        "ordered_dict": pa.DictionaryArray.from_arrays(
            pa.array([i % 2 for i in range(n)], pa.int32()), pa.array(["lo", "hi"]),
            ordered=True),
        "empty_names": pa.StructArray.from_arrays(
            [pa.array(range(n)), pa.array([str(i) for i in range(n)]), pa.array(range(n))],
            ["", "dup", "dup"]),
        "dense_union": pa.UnionArray.from_dense(
            pa.array([5, 7] * (n // 2) + [5] * (n % 2), pa.int8()),
            pa.array([i // 2 for i in range(n)], pa.int32()),
            [pa.array(range(n), pa.int64()), pa.array([str(i) for i in range(n)])],
            ["i", "s"], [5, 7]),
        "sparse_union": pa.UnionArray.from_sparse(
            pa.array([0, 3] * (n // 2) + [0] * (n % 2), pa.int8()),
            [pa.array([None if v is None else float(v) for v in ints]),
             pa.array([None if v is None else v % 2 == 0 for v in ints])],
            ["f", "b"], [0, 3]),
        "dictionary": pa.array([["red", "green", None, "red", "blue", "green", "red"][i % 7]
                                for i in range(n)]).dictionary_encode(),
        "dict_int64_idx": pa.DictionaryArray.from_arrays(
            pa.array([None if v is None else abs(v) % 3 for v in ints], pa.int64()),
            pa.array([1.5, 2.5, -1.0])),
        "list_of_dict": pa.ListArray.from_arrays(
            pa.array([0, 1, 1, 3] + [3] * (n - 3), pa.int32()),
            pa.DictionaryArray.from_arrays(pa.array([1, 0, 1], pa.int16()),
                                           pa.array(["lo", "hi"]))),
        "struct_of_dict": pa.StructArray.from_arrays(
            [pa.DictionaryArray.from_arrays(pa.array([i % 2 for i in range(n)], pa.int8()),
                                            pa.array([b"p", b"q"]))], ["k"]),
        "ree": pa.RunEndEncodedArray.from_arrays(
            pa.array([1, 2, n], pa.int32()), pa.array(["a", None, "c"])),
        "ree16": pa.RunEndEncodedArray.from_arrays(
            pa.array([n], pa.int16()), pa.array([3.5])),
        "extension": pa.ExtensionArray.from_storage(
            Rgb(), pa.array([None if v is None else [abs(v)] * 3 for v in ints],
                            pa.list_(pa.uint8(), 3))),
        "uuid": pa.ExtensionArray.from_storage(
            pa.uuid(), pa.array([uuid.UUID(int=i).bytes for i in range(n)], pa.binary(16))),
    }
    table = pa.table(columns)
    # Field metadata and a not-null field, schema metadata.
    fields = []
    for field in table.schema:
        if field.name == "int64":
            field = field.with_metadata({"unit": "metres", "note": "field metadata"})
        if field.name == "float64":
            field = field.with_nullable(False)
        fields.append(field)
    schema = pa.schema(fields, metadata={"origin": "test_ipc_pyarrow", "empty": ""})
    float64 = pa.array([float(i) for i in range(n)])
    table = table.set_column(table.schema.get_field_index("float64"), "float64", float64)
    return pa.Table.from_arrays(table.columns, schema=schema)


def pyarrow_write(table, path, file_format, codec, batch_size=None, **options):
    write_options = ipc.IpcWriteOptions(compression=codec, **options)
    new = ipc.new_file if file_format else ipc.new_stream
    with new(path, table.schema, options=write_options) as writer:
        writer.write_table(table, max_chunksize=batch_size)


def pyarrow_read(path, file_format):
    if file_format:
        return ipc.open_file(path).read_all()
    return ipc.open_stream(path).read_all()


def assert_tables_equal(got, expected):
    assert got.schema.equals(expected.schema, check_metadata=True), \
        f"schemas differ:\n{got.schema}\n---\n{expected.schema}"
    for name in expected.column_names:
        assert got[name].equals(expected[name]), \
            f"column {name} differs:\n{got[name]}\n---\n{expected[name]}"
    assert got.equals(expected, check_metadata=True)


@pytest.mark.parametrize("codec", [None, "lz4", "zstd"])
@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
def test_pyarrow_written_every_type(tmp_path, file_format, codec):
    table = every_type_table(7)
    path = tmp_path / "data.arrow"
    pyarrow_write(table, path, file_format, codec, batch_size=3)
    got = wudf_read(path)
    expected = pyarrow_read(path, file_format)
    assert_tables_equal(got, expected)
    assert_tables_equal(got.combine_chunks(), table.combine_chunks())


@pytest.mark.parametrize("codec", [None, "lz4", "zstd"])
@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
def test_wasmudf_written_every_type(tmp_path, file_format, codec):
    table = every_type_table(9)
    path = tmp_path / "out.arrow"
    wudf_write(table.to_batches(max_chunksize=4), path, file_format, codec, schema=table.schema)
    got = pyarrow_read(path, file_format)
    assert_tables_equal(got.combine_chunks(), table.combine_chunks())
    # And back through the reader.
    assert_tables_equal(wudf_read(path).combine_chunks(), table.combine_chunks())


@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
def test_wasmudf_writes_slices(tmp_path, file_format):
    table = every_type_table(23)
    whole = table.combine_chunks().to_batches()[0]
    batches = [whole.slice(3, 9), whole.slice(13, 7), whole.slice(22, 1), whole.slice(5, 0)]
    assert batches[0].column(0).offset == 3
    path = tmp_path / "slices.arrow"
    wudf_write(batches, path, file_format, "zstd", schema=table.schema)
    got = pyarrow_read(path, file_format)
    expected = pa.Table.from_batches(batches, schema=table.schema)
    assert_tables_equal(got.combine_chunks(), expected.combine_chunks())


def test_pyarrow_written_slices_and_empty(tmp_path):
    table = every_type_table(11)
    path = tmp_path / "slices.arrows"
    with ipc.new_stream(path, table.schema) as writer:
        writer.write_table(table.slice(4, 5))
        writer.write_table(table.slice(0, 0))
        writer.write_table(table.slice(10, 1))
    assert_tables_equal(wudf_read(path), pyarrow_read(path, False))


@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
def test_dictionary_deltas_read(tmp_path, file_format):
    schema = pa.schema([pa.field("d", pa.dictionary(pa.int16(), pa.string())),
                        pa.field("n", pa.dictionary(pa.int8(), pa.list_(pa.int32())))])
    dictionary = ["a", "b"]
    lists = pa.array([[1], [2, 3]], pa.list_(pa.int64()))
    batches = []
    for k in range(4):
        dictionary = dictionary + [f"v{k}", f"w{k}"]
        lists = pa.concat_arrays([lists, pa.array([[k] * k], pa.list_(pa.int64()))])
        d = pa.DictionaryArray.from_arrays(
            pa.array([len(dictionary) - 1, 0, None, len(dictionary) - 2], pa.int16()),
            pa.array(dictionary))
        m = pa.DictionaryArray.from_arrays(
            pa.array([len(lists) - 1, None, 0, 1], pa.int8()), lists)
        batches.append(pa.record_batch([d, m], schema=schema))
    path = tmp_path / "deltas.arrow"
    options = ipc.IpcWriteOptions(emit_dictionary_deltas=True)
    new = ipc.new_file if file_format else ipc.new_stream
    with new(path, schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
    raw = path.read_bytes()
    if not file_format:
        assert raw.count(b"\xff\xff\xff\xff") >= 9  # schema, 2 dictionaries + deltas, batches
    got = wudf_read(path)
    assert_tables_equal(got, pyarrow_read(path, file_format))
    # The decoded values, which do not depend on how dictionaries were sent.
    assert got.column("d").to_pylist() == pa.Table.from_batches(batches).column("d").to_pylist()
    assert got.column("n").to_pylist() == pa.Table.from_batches(batches).column("n").to_pylist()


def test_dictionary_replacements_read(tmp_path):
    schema = pa.schema([pa.field("d", pa.dictionary(pa.int32(), pa.string()))])
    batches = [pa.record_batch([pa.array(words).dictionary_encode()], schema=schema)
               for words in (["x", "y", "x"], ["p", "q"], ["only"], ["x", None])]
    path = tmp_path / "replacements.arrows"
    with ipc.new_stream(path, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    got = wudf_read(path)
    assert_tables_equal(got, pyarrow_read(path, False))
    assert got.column("d").to_pylist() == ["x", "y", "x", "p", "q", "only", "x", None]


def test_dictionaries_written_as_deltas_and_replacements(tmp_path):
    schema = pa.schema([pa.field("d", pa.dictionary(pa.int32(), pa.string()))])
    values = ["a", "b"]
    batches = []
    for k in range(3):  # growing: deltas
        values = values + [f"n{k}"]
        batches.append(pa.record_batch([pa.DictionaryArray.from_arrays(
            pa.array([len(values) - 1, 0]), pa.array(values))], schema=schema))
    batches.append(batches[-1])  # unchanged: nothing re-sent
    path = tmp_path / "deltas.arrow"
    wudf_write(batches, path, True, None, schema=schema)
    assert ipc.open_file(path).num_record_batches == 4
    got = pyarrow_read(path, True)
    assert got.column("d").to_pylist() == ["n0", "a", "n1", "a", "n2", "a", "n2", "a"]
    # A replacement: fine in a stream, refused by the file format.
    replaced = batches + [pa.record_batch([pa.array(["z"]).dictionary_encode()], schema=schema)]
    stream_path = tmp_path / "replaced.arrows"
    wudf_write(replaced, stream_path, False, None, schema=schema)
    assert pyarrow_read(stream_path, False).column("d").to_pylist()[-1] == "z"
    with pytest.raises(RuntimeError, match="file format does not allow"):
        wudf_write(replaced, tmp_path / "replaced.arrow", True, None, schema=schema)


def test_read_memory_and_many_batches():
    table = every_type_table(50)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=7)
    got, keep = wudf_read_memory(sink.getvalue())
    assert got.num_rows == 50 and len(got.to_batches()) == 8
    assert_tables_equal(got.combine_chunks(), table.combine_chunks())
    del got, keep


def test_empty_schema_and_no_batches(tmp_path):
    schema = pa.schema([], metadata={"k": "v"})
    path = tmp_path / "empty.arrows"
    with ipc.new_stream(path, schema):
        pass
    got = wudf_read(path)
    assert got.schema.equals(schema, check_metadata=True) and got.num_rows == 0
    out = tmp_path / "empty-out.arrow"
    wudf_write([], out, True, None, schema=pa.schema([pa.field("a", pa.int8())]))
    assert ipc.open_file(out).num_record_batches == 0


def test_errors_name_the_input(tmp_path):
    path = tmp_path / "not-arrow.arrows"
    path.write_bytes(b"hello, this is not arrow at all")
    with pytest.raises(RuntimeError, match="not-arrow.arrows"):
        wudf_read(path)
    with pytest.raises(RuntimeError, match="No such file"):
        wudf_read(tmp_path / "missing.arrow")
    table = every_type_table(5)
    good = tmp_path / "good.arrow"
    pyarrow_write(table, good, True, "lz4")
    data = good.read_bytes()
    truncated = tmp_path / "truncated.arrow"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match="truncated.arrow"):
        wudf_read(truncated)


@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
def test_dictionaries_nested_in_dictionaries(tmp_path, file_format):
    inner = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int8()), pa.array(["a", "b"]))
    values = pa.StructArray.from_arrays([inner], ["in"])
    outer = pa.DictionaryArray.from_arrays(pa.array([2, 0, None, 1, 2], pa.int32()), values)
    table = pa.table({"o": outer, "plain": pa.array(range(5))})
    source = tmp_path / "nested.arrow"
    pyarrow_write(table, source, file_format, None)
    assert_tables_equal(wudf_read(source), table)
    out = tmp_path / "nested-out.arrow"
    wudf_write(table, out, file_format, "lz4")
    assert_tables_equal(pyarrow_read(out, file_format), table)
