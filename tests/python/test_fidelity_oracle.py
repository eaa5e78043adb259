"""
test_fidelity_oracle.py -- what goes in comes back identical in type as well
as in values (issue 13, "fidelity"), with pyarrow as the oracle.

Every column of a broad generated corpus -- the identity corpus of
test_types_oracle.py (every type of the type language, nested, slices,
dictionaries, unions, run-end encoded) plus extension types and the types
of tests/udf_guests/fidelity.c -- is decorated the way real data is: list
items named "element", map keys and values renamed, children declared
`not null`, field metadata on every child, and on the column itself an
extension type (pyarrow's canonical arrow.uuid, a registered Python
extension type, or an extension pyarrow does not know, which pyarrow keeps
as field metadata). The column goes through an identity function (the
guest moves its argument into its result) whole, sliced, and in chunks of
7 rows; the result's field must equal the input's with
`equals(..., check_metadata=True)` and its values must be the input's.

Dictionary columns split into many guest calls: each call returns its own
copy of the dictionary, and when their concatenation overflows the index
type the host unifies them (a 3 M-row int8 dictionary column of 50 values
with default options used to fail).

Run by ctest with $WUDF_LIBRARY (libwasmudf.so) and $WUDF_TEST_MODULES set.
"""
import ctypes

import pyarrow as pa
import pytest

import test_types_oracle as corpus
from wudf_ctypes import (ArrowArray, ArrowSchema, Error, Module, check, lib, release_array,
                         release_schema)


@pytest.fixture(scope="module")
def alltypes():
    module = Module("alltypes")
    yield module
    module.close()


@pytest.fixture(scope="module")
def fidelity():
    module = Module("fidelity")
    yield module
    module.close()


def call_field(module, function, field, array, max_rows=None):
    """Calls `function` on `array` exported under `field` (its name,
    nullability and metadata); returns the result's field (imported from
    the result's own schema) and its array, validated fully."""
    c_array, c_schema = ArrowArray(), ArrowSchema()
    array._export_to_c(ctypes.addressof(c_array))
    field._export_to_c(ctypes.addressof(c_schema))
    arrays = (ctypes.POINTER(ArrowArray) * 1)(ctypes.pointer(c_array))
    schemas = (ctypes.POINTER(ArrowSchema) * 1)(ctypes.pointer(c_schema))
    options = Module._options(max_rows)
    out, out_schema, error = ArrowArray(), ArrowSchema(), Error()
    try:
        check(lib.wudf_function_call(module.instance, module.index(function), 1, arrays,
                                     schemas, ctypes.byref(options), ctypes.byref(out),
                                     ctypes.byref(out_schema), ctypes.byref(error)), error)
    finally:
        release_schema(c_schema)
        release_array(c_array)
    result_field = pa.Field._import_from_c(ctypes.addressof(out_schema))
    result = pa.Array._import_from_c(ctypes.addressof(out), result_field.type)
    result.validate(full=True)
    return result_field, result


# ------------------------------------------------------------ decorations


class Tagged(pa.ExtensionType):
    """A registered Python extension type over any storage type."""

    def __init__(self, storage, tag=b"t"):
        self.tag = tag
        super().__init__(storage, "wasmudf.test.tagged")

    def __arrow_ext_serialize__(self):
        return self.tag

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type, serialized):
        return Tagged(storage_type, serialized)


pa.register_extension_type(Tagged(pa.int32()))


def decorated_field(field, depth):
    """`field` with its type decorated, metadata naming its depth, and
    declared `not null` at odd depths (pyarrow does not check the data)."""
    return pa.field(field.name, decorate(field.type, depth + 1),
                    nullable=depth % 2 == 0 or pa.types.is_null(field.type),
                    metadata={"depth": str(depth), "name": field.name or "(empty)"})


def decorate(arrow_type, depth=1):
    """The same physical type with every child renamed or annotated."""
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) or \
            pa.types.is_list_view(arrow_type) or pa.types.is_large_list_view(arrow_type):
        item = decorated_field(arrow_type.value_field.with_name("element"), depth)
        factory = {pa.types.is_list: pa.list_, pa.types.is_large_list: pa.large_list,
                   pa.types.is_list_view: pa.list_view,
                   pa.types.is_large_list_view: pa.large_list_view}
        for test, make in factory.items():
            if test(arrow_type):
                return make(item)
    if pa.types.is_fixed_size_list(arrow_type):
        return pa.list_(decorated_field(arrow_type.value_field.with_name("v"), depth),
                        arrow_type.list_size)
    if pa.types.is_map(arrow_type):
        key = arrow_type.key_field.with_name("the_key")
        key = pa.field("the_key", decorate(key.type, depth + 1), nullable=False,
                       metadata={"role": "key"})
        return pa.map_(key, decorated_field(arrow_type.item_field.with_name("the_value"), depth),
                       keys_sorted=arrow_type.keys_sorted)
    if pa.types.is_struct(arrow_type):
        return pa.struct([decorated_field(arrow_type.field(i), depth)
                          for i in range(arrow_type.num_fields)])
    if pa.types.is_union(arrow_type):
        fields = [decorated_field(arrow_type.field(i), depth)
                  for i in range(arrow_type.num_fields)]
        return pa.union(fields, arrow_type.mode, arrow_type.type_codes)
    if pa.types.is_dictionary(arrow_type):
        return pa.dictionary(arrow_type.index_type, decorate(arrow_type.value_type, depth + 1),
                             arrow_type.ordered)
    return arrow_type


def relabel(array, arrow_type):
    """`array`'s data under `arrow_type` (same layout, other names and
    metadata), through the C Data Interface."""
    c_array = ArrowArray()
    array._export_to_c(ctypes.addressof(c_array))
    return pa.Array._import_from_c(ctypes.addressof(c_array), arrow_type)


UNKNOWN_EXTENSION = {"ARROW:extension:name": "wasmudf.test.unknown",
                     "ARROW:extension:metadata": "opaque \x01 bytes", "origin": "test"}


def columns(name, array):
    """(field, array) pairs of one corpus column: decorated, then also under
    an extension type pyarrow does not know and under a registered one."""
    arrow_type = decorate(array.type)
    data = relabel(array, arrow_type)
    yield pa.field(name, arrow_type, metadata={"column": name}), data
    yield pa.field(name, arrow_type, nullable=pa.types.is_null(arrow_type),
                   metadata=UNKNOWN_EXTENSION), data
    tagged = Tagged(arrow_type, name.encode())
    yield pa.field(name, tagged), pa.ExtensionArray.from_storage(tagged, data)


def through_c(field):
    """`field` as pyarrow reads it back from its own C Data Interface export
    (pyarrow names a map's key and value fields "key" and "value" on import
    whatever they were: the names a result can be compared with)."""
    c_schema = ArrowSchema()
    field._export_to_c(ctypes.addressof(c_schema))
    return pa.Field._import_from_c(ctypes.addressof(c_schema))


def assert_identical(function, field, array, result_field, result, decoded=False):
    """The result has the input's type, field (metadata, nullability) and values."""
    field = through_c(field)
    assert result.type == field.type, (function, field.type, result.type)
    expected = pa.schema([field])
    got = pa.schema([result_field.with_name(field.name)])
    assert got.equals(expected, check_metadata=True), (function, expected, got)
    if decoded:
        assert result.to_pylist() == array.to_pylist(), function
    else:
        assert result.equals(array), (function, array.to_pylist(), result.to_pylist())


# -------------------------------------------------------------- the corpus


@pytest.mark.parametrize("name", sorted(corpus.CASES))
def test_corpus_identity_keeps_the_type(alltypes, name):
    for base in corpus.CASES[name]:
        for field, array in columns(name, base):
            for shape in corpus.shapes(array):
                result_field, result = call_field(alltypes, f"id_{name}", field, shape)
                assert_identical(name, field, shape, result_field, result)


@pytest.mark.parametrize("name", sorted(corpus.CASES))
def test_corpus_identity_in_chunks_keeps_the_type(alltypes, name):
    for base in corpus.CASES[name]:
        for field, array in columns(name, base.slice(1, len(base) - 2)):
            result_field, result = call_field(alltypes, f"id_{name}", field, array, max_rows=7)
            # Chunks may concatenate (or unify) dictionaries and cut runs.
            assert_identical(name, field, array, result_field, result,
                             decoded="dict" in name or "ree" in name)


def uuids(count):
    return pa.array([None if i % 5 == 2 else bytes((i * 7 + k) % 256 for k in range(16))
                     for i in range(count)], pa.binary(16))


def fidelity_cases():
    """Columns of the types of tests/udf_guests/fidelity.c."""
    n = corpus.N
    ints = pa.array(corpus.integers(pa.int32()), pa.int32())
    texts = pa.array(corpus.texts(True), pa.utf8())
    stamps = pa.array(corpus.integers(pa.int64(), -2**50, 2**50), pa.int64())
    uuid = pa.ExtensionArray.from_storage(pa.uuid(), uuids(n))
    structs = pa.StructArray.from_arrays([pa.array(range(n), pa.int64()), texts],
                                         names=["a", "b"])
    lists = pa.LargeListArray.from_arrays(pa.array([i // 2 for i in range(n + 1)], pa.int64()),
                                          structs)
    dense = pa.UnionArray.from_dense(pa.array([i % 2 for i in range(n)], pa.int8()),
                                     pa.array([i // 2 for i in range(n)], pa.int32()),
                                     [ints, pa.array([i * 0.5 for i in range(n)])], ["i", "f"])
    deep = pa.StructArray.from_arrays(
        [pa.StructArray.from_arrays([pa.array([[i] * (i % 3) for i in range(n)],
                                              pa.list_(pa.int32())), dense], names=["l", "u"])],
        names=["s"])
    small = pa.array([i % 9 for i in range(n)], pa.int8())
    sparse_odd = pa.UnionArray.from_sparse(
        pa.array([[5, 7][i % 2] for i in range(n)], pa.int8()),
        [ints, texts], ["i", "s"], [5, 7])
    dense_odd = pa.UnionArray.from_dense(
        pa.array([[2, 0, 1][i % 3] for i in range(n)], pa.int8()),
        pa.array([i // 3 for i in range(n)], pa.int32()),
        [ints, pa.array([i * 0.25 for i in range(n)]), texts], ["a", "b", "c"], [2, 0, 1])
    named = pa.StructArray.from_arrays(
        [ints, texts, small, pa.array([[i % 5] * (i % 3) for i in range(n)], pa.list_(pa.int8())),
         pa.array([i % 2 == 0 for i in range(n)]),
         pa.StructArray.from_arrays([pa.array(range(n), pa.int64())], names=[""])],
        names=["", "", "dup", "dup", 'with "quotes"', "a b"],
        mask=pa.array([i % 6 == 1 for i in range(n)]))
    return [
        ("id_sparse_odd", pa.field("u", sparse_odd.type, metadata={"codes": "5,7"}), sparse_odd),
        ("id_dense_odd", pa.field("u", decorate(dense_odd.type)),
         relabel(dense_odd, decorate(dense_odd.type))),
        ("id_struct_names", pa.field("s", named.type), named),
        ("id_struct_names", pa.field("s", decorate(named.type)), relabel(named, decorate(named.type))),
        ("id_fsb16", pa.field("id", pa.uuid()), uuid),
        ("id_fsb16", pa.field("raw", pa.binary(16), False), uuids(n).fill_null(b"0" * 16)),
        ("id_ts_us_paris", pa.field("t", pa.timestamp("us", "Europe/Paris")),
         stamps.cast(pa.timestamp("us", "Europe/Paris"))),
        ("id_ts_ns_utc", pa.field("t", pa.timestamp("ns", "UTC"), metadata={"unit": "ns"}),
         stamps.cast(pa.timestamp("ns", "UTC"))),
        ("id_list_ts", pa.field("l", pa.list_(pa.field("stamp", pa.timestamp(
            "ms", "America/New_York"), False))), relabel(pa.ListArray.from_arrays(
                pa.array([min(n, i * 2) for i in range(n // 2)], pa.int32()),
                stamps.cast(pa.timestamp("ms", "America/New_York")).fill_null(0)),
                pa.list_(pa.field("stamp", pa.timestamp("ms", "America/New_York"), False)))),
        ("id_large_list_struct", pa.field("ls", lists.type), lists),
        ("id_fsl_fsb16", pa.field("pair", pa.list_(pa.field("u", pa.uuid()), 2)),
         pa.FixedSizeListArray.from_arrays(pa.ExtensionArray.from_storage(
             pa.uuid(), uuids(2 * n)), 2)),
        ("id_map_list", pa.field("m", pa.map_(pa.field("key", pa.utf8(), False),
                                              pa.field("vals", pa.list_(pa.int32()))),
                                 metadata={"m": "1"}),
         pa.array([[(f"k{i}", [i, i + 1])] * (i % 3) for i in range(n)],
                  pa.map_(pa.field("key", pa.utf8(), False),
                          pa.field("vals", pa.list_(pa.int32()))))),
        ("id_struct_deep", pa.field("d", decorate(deep.type)), relabel(deep, decorate(deep.type))),
        ("id_dict_int8_int32", pa.field("d", pa.dictionary(pa.int8(), pa.int32())),
         pa.DictionaryArray.from_arrays(small, pa.array([i * 3 for i in range(9)], pa.int32()))),
        ("id_dict_uint8_fsb4", pa.field("d", pa.dictionary(pa.uint8(), pa.binary(4))),
         pa.DictionaryArray.from_arrays(small.cast(pa.uint8()),
                                        pa.array([b"%4d" % i for i in range(9)], pa.binary(4)))),
        ("id_dict_int8_bool", pa.field("d", pa.dictionary(pa.int8(), pa.bool_())),
         pa.DictionaryArray.from_arrays(pa.array([i % 3 for i in range(n)], pa.int8()),
                                        pa.array([True, False, None]))),
        ("id_dict_int16_large_binary", pa.field("d", pa.dictionary(pa.int16(), pa.large_binary())),
         pa.DictionaryArray.from_arrays(small.cast(pa.int16()),
                                        pa.array([b"v%d" % i for i in range(9)],
                                                 pa.large_binary()))),
        ("id_int32", pa.field("n", Tagged(pa.int32(), b"\x00meta")),
         pa.ExtensionArray.from_storage(Tagged(pa.int32(), b"\x00meta"), ints)),
        ("id_utf8", pa.field("s", pa.utf8(), False, metadata=UNKNOWN_EXTENSION), texts),
    ]


@pytest.mark.parametrize("case", fidelity_cases(), ids=lambda case: f"{case[0]}-{case[1].name}")
def test_fidelity_guest_identity_keeps_the_type(fidelity, case):
    function, field, array = case
    for shape in corpus.shapes(array):
        result_field, result = call_field(fidelity, function, field, shape)
        assert_identical(function, field, shape, result_field, result)
    result_field, result = call_field(fidelity, function, field, array, max_rows=5)
    assert_identical(function, field, array, result_field, result,
                     decoded=pa.types.is_dictionary(array.type))


# ---------------------------------------------------------- dictionaries


def test_dictionary_column_of_3m_rows_in_default_chunks(alltypes):
    """3 M rows of an int8 dictionary of 50 values: the guest calls'
    dictionaries (150 values concatenated) are unified, not an overflow."""
    rows = 3_000_000
    indices = pa.array([i % 50 for i in range(rows)], pa.int8())
    values = pa.array([f"value {i}" for i in range(50)])
    array = pa.DictionaryArray.from_arrays(indices, values)
    field, result = call_field(alltypes, "id_dict_int8_utf8", pa.field("d", array.type), array)
    assert result.type == array.type
    assert result.dictionary.to_pylist() == values.to_pylist()
    assert result.indices.equals(indices)


def test_dictionary_chunks_unified_with_nulls_and_duplicates(fidelity):
    """A dictionary with null and repeated values over many chunks: the
    unified dictionary keeps each value (and null) once; the values read
    the same."""
    values = pa.array([i % 7 if i % 13 else None for i in range(120)], pa.int32())
    array = pa.DictionaryArray.from_arrays(
        pa.array([None if i % 11 == 4 else (i * 7) % 120 for i in range(1000)], pa.int8()),
        values)
    field = pa.field("d", array.type, metadata={"k": "v"})
    result_field, result = call_field(fidelity, "id_dict_int8_int32", field, array, max_rows=3)
    assert_identical("id_dict_int8_int32", field, array, result_field, result, decoded=True)
    assert len(result.dictionary) == len(set(values.to_pylist()))


def test_dictionary_chunks_at_the_index_limit(fidelity):
    """128 distinct values in an int8 dictionary over 4 chunks: unified into
    exactly 128 entries, the most int8 indices address."""
    many = pa.DictionaryArray.from_arrays(pa.array([i % 128 for i in range(256)], pa.int8()),
                                          pa.array(range(128), pa.int32()))
    field, result = call_field(fidelity, "id_dict_int8_int32", pa.field("d", many.type), many,
                               max_rows=64)
    assert result.type == many.type
    assert len(result.dictionary) == 128
    assert result.to_pylist() == many.to_pylist()
