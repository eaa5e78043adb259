"""
compare.py -- reads the result files of the suite's runners (each result
array as a little-endian uint64 size and wudf_array_serialize bytes) back
into pyarrow, through wasmudf.deserialize, which validates them completely.
"""
import struct

import pyarrow as pa
import wasmudf


def read_results(path):
    """The result of one runner's task as one pyarrow array (a table
    function's chunks concatenated)."""
    data = open(path, "rb").read()
    arrays, at = [], 0
    while at < len(data):
        (size,) = struct.unpack_from("<Q", data, at)
        arrays.append(pa.array(wasmudf.deserialize(data[at + 8:at + 8 + size])))
        at += 8 + size
    if not arrays:
        raise ValueError(f"{path}: no result")
    return arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)


def same(a, b):
    """Whether two results are the same values (types, nulls, values)."""
    return a.type == b.type and len(a) == len(b) and a.equals(b)
