"""
kernels.py -- the kernels of the benchmark suite and their data.

Each kernel is a C SDK guest in bench/kernels/NAME.c (built with `wasmudf
build`) with a native twin in bench/suite/native.c. make_args(name, rows)
gives the kernel's arguments for a batch of `rows` rows as one pyarrow
StructArray (fields arg0, arg1, ...; an aggregate's batch ends with its
`group` column, a table function's batch has rows / 16 input rows); the
data is deterministic (a fixed seed per kernel and size), so every runner
and every run sees the same values.
"""
import numpy as np
import pyarrow as pa

# name: (kind, function)
KERNELS = {
    "gcd": ("scalar", "gcd"),
    "poly": ("scalar", "poly"),
    "nulladd": ("scalar", "nulladd"),
    "upper": ("scalar", "upper"),
    "concat": ("scalar", "concat"),
    "decmul": ("scalar", "decmul"),
    "listsum": ("scalar", "listsum"),
    "dictlookup": ("scalar", "dictlookup"),
    "groupsum": ("aggregate", "groupsum"),
    "series": ("table", "series"),
}

SIZES = [1, 1024, 65536, 1048576]

# Values each input row of series() yields.
SERIES_PER_INPUT = 16
# Most groups of groupsum.
GROUPS = 1000

_LETTERS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789 -_,.ABCXYZ", dtype=np.uint8)


def groups_of(name, rows):
    """The group count of an aggregate kernel's batch (0 for others)."""
    return min(GROUPS, rows) if KERNELS[name][0] == "aggregate" else 0


def _strings(rng, rows, low=0, high=24):
    lengths = rng.integers(low, high + 1, size=rows)
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = _LETTERS[rng.integers(0, len(_LETTERS), size=int(offsets[-1]))]
    return pa.Array.from_buffers(pa.utf8(), rows, [None, pa.py_buffer(offsets.tobytes()),
                                                   pa.py_buffer(data.tobytes())])


def _decimals(rng, rows):
    """decimal128(18, 2) values of at most 9 digits (unscaled, as 16-byte
    little-endian two's complement)."""
    unscaled = rng.integers(-10**9, 10**9, rows)
    limbs = np.stack([unscaled, unscaled >> 63], axis=1)
    return pa.Array.from_buffers(pa.decimal128(18, 2), rows,
                                 [None, pa.py_buffer(limbs.tobytes())])


def _nulls(rng, array, fraction):
    mask = rng.random(len(array)) < fraction
    return pa.array(array.to_numpy(zero_copy_only=False), type=array.type, mask=mask) \
        if not pa.types.is_string(array.type) else \
        pa.compute.if_else(pa.array(mask), pa.scalar(None, array.type), array)


def make_args(name, rows):
    """The argument batch of kernel `name` for `rows` rows (see the module)."""
    rng = np.random.default_rng(sum(map(ord, name)) * 1000003 + rows)
    if name == "gcd":
        cols = [pa.array(rng.integers(1, 1 << 20, rows, dtype=np.int32)),
                pa.array(rng.integers(1, 1 << 20, rows, dtype=np.int32))]
    elif name == "poly":
        cols = [pa.array(rng.uniform(-1.0, 1.0, rows))]
    elif name == "nulladd":
        cols = [_nulls(rng, pa.array(rng.integers(-1 << 40, 1 << 40, rows)), 0.5),
                _nulls(rng, pa.array(rng.integers(-1 << 40, 1 << 40, rows)), 0.5)]
    elif name == "upper":
        cols = [_strings(rng, rows)]
    elif name == "concat":
        cols = [_nulls(rng, _strings(rng, rows, 0, 12), 0.1),
                _nulls(rng, _strings(rng, rows, 0, 12), 0.1)]
    elif name == "decmul":
        cols = [_decimals(rng, rows), _decimals(rng, rows)]
    elif name == "listsum":
        lengths = rng.integers(0, 9, rows)
        offsets = np.zeros(rows + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        values = pa.array(rng.integers(-1 << 40, 1 << 40, int(offsets[-1])))
        cols = [pa.ListArray.from_arrays(pa.array(offsets), values)]
    elif name == "dictlookup":
        words = _strings(rng, 1000, 3, 16)
        cols = [pa.DictionaryArray.from_arrays(
            pa.array(rng.integers(0, 1000, rows, dtype=np.int32)), words)]
    elif name == "groupsum":
        groups = groups_of(name, rows)
        cols = [pa.array(rng.integers(-1 << 40, 1 << 40, rows)),
                pa.array(rng.integers(0, groups, rows, dtype=np.uint32))]
        return pa.StructArray.from_arrays(cols, names=["arg0", "group"])
    elif name == "series":
        inputs = (rows + SERIES_PER_INPUT - 1) // SERIES_PER_INPUT
        starts = (np.arange(inputs, dtype=np.int64) * 1000).astype(np.int32)
        stops = starts + SERIES_PER_INPUT - 1
        stops[-1] = starts[-1] + (rows - (inputs - 1) * SERIES_PER_INPUT) - 1
        cols = [pa.array(starts), pa.array(stops.astype(np.int32))]
    else:
        raise ValueError(f"unknown kernel {name}")
    return pa.StructArray.from_arrays(cols, names=[f"arg{i}" for i in range(len(cols))])
