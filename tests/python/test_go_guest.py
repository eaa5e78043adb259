"""
test_go_guest.py -- the Go guest example (guest/go/example, built by scripts/build-go-guest.sh
into $WUDF_GO_GUEST) through libwasmudf, with pyarrow as the oracle: gcd (row-wise, guest.Map2),
gcd_columnar (guest.Scalar over Int32s), upper (strings, guest.Map1) and the seed's sum (a
batch function).

A Go module is about 2.7 MB of wasm (the Go runtime), which wasm2c turns into 33 MB of C that
`cc -O2` needs many minutes to compile (docs/guests.md); ctest runs this test with the fast
tier (tcc, $WASMUDF_FAST_TIER=1) and CC=false, so the optimised build in the background fails at
once instead of holding the engine for minutes.
"""
import math
import os

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from wudf_ctypes import Module

GUEST = os.environ.get("WUDF_GO_GUEST")
pytestmark = pytest.mark.skipif(not GUEST, reason="WUDF_GO_GUEST is not set")


@pytest.fixture(scope="module")
def go():
    module = Module("go", GUEST)
    yield module
    module.close()


def test_gcd_row_wise_and_columnar(go):
    a = pa.array([12, None, 1071, -7, 0, 0, -2147483648] + list(range(1, 500)), pa.int32())
    b = pa.array([8, 5, 462, 21, 0, 9, 6] + list(range(500, 1, -1)), pa.int32())
    expected = pa.array([None if x is None else math.gcd(x, y) for x, y in
                         zip(a.to_pylist(), b.to_pylist())], pa.int32())
    for function in ("gcd", "gcd_columnar"):
        assert go.call(function, a, b).equals(expected)
        assert go.call(function, a.slice(3, 100), b.slice(3, 100), max_rows=7).equals(
            expected.slice(3, 100))


def test_upper(go):
    words = pa.array(["hello", None, "wasm", "", "ümlaut", "é" * 100])
    assert go.call("upper", words).equals(pc.utf8_upper(words))


def test_seed_sum(go):
    assert go.call("sum", pa.array([1, None, 3], pa.int32())).to_pylist() == [{"sum": 4}]
    values = pa.array([(i * 7919) % 100003 - 50000 for i in range(5000)], pa.int32())
    assert go.call("sum", values).field("sum")[0].as_py() == pc.sum(values).as_py()


def test_memory_stays_flat(go):
    from wudf_ctypes import lib
    words = pa.array(["x" * (i % 40) for i in range(2000)])
    for _ in range(50):
        go.call("upper", words)
    warm = lib.wudf_instance_memory_size(go.instance)
    for _ in range(500):
        go.call("upper", words.slice(0, 50))
    assert lib.wudf_instance_memory_size(go.instance) == warm
