"""
test_rust_guest_crate.py -- the examples of the Rust guest crate (guest/rust/examples, built
for wasm32 by scripts/build-rust-guest.sh --examples into $WUDF_RUST_GUEST_EXAMPLES) through
libwasmudf, with pyarrow as the oracle: row-wise scalar functions (scalar.rs), nullable
arguments and results (nullable.rs), errors (erroring.rs), vectorized functions
(vectorized.rs), table functions (table.rs), an aggregate (aggregate.rs) and the seed's sum
(sum.rs), each checked against what pyarrow or plain Python computes.

The examples are loaded from all.wasm, which holds all of them (each file is a module of
all.rs): the host compiles a module in about 15 s of CPU (mostly arrow-rs's code), so one
module instead of seven keeps the test fast. The seed's sum (sum.rs, 9 lines) is tested there.
"""
import math
import os

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from wudf_ctypes import Aggregate, Module, table

EXAMPLES = os.environ.get("WUDF_RUST_GUEST_EXAMPLES")
pytestmark = pytest.mark.skipif(not EXAMPLES, reason="WUDF_RUST_GUEST_EXAMPLES is not set")


@pytest.fixture(scope="module")
def examples():
    module = Module("all", os.path.join(EXAMPLES, "all.wasm"))
    yield module
    module.close()


def gcd_pairs():
    a = pa.array([12, None, 1071, -7, 0, 0, -2147483648] + list(range(1, 500)), pa.int32())
    b = pa.array([8, 5, 462, 21, 0, 9, 6] + list(range(500, 1, -1)), pa.int32())
    expected = pa.array([None if x is None else math.gcd(x, y) for x, y in
                         zip(a.to_pylist(), b.to_pylist())], pa.int32())
    return a, b, expected


def test_seed_sum(examples):
    values = pa.array([(i * 7919) % 100003 - 50000 for i in range(5000)], pa.int32())
    assert examples.call("sum", pa.array([1, None, 3], pa.int32())).to_pylist() == [{"sum": 4}]
    assert examples.call("sum", values).field("sum")[0].as_py() == pc.sum(values).as_py()


def test_row_wise_scalars(examples):
    module = examples
    a, b, expected = gcd_pairs()
    assert module.call("gcd", a, b).equals(expected)
    # Sliced input and calls of a few rows each.
    assert module.call("gcd", a.slice(3, 100), b.slice(3, 100), max_rows=7).equals(
        expected.slice(3, 100))
    words = pa.array(["hello", None, "wasm", "", "ümlaut", "straße"])
    # Rust's to_uppercase is Unicode's full mapping, as Python's (ß becomes SS).
    assert module.call("upper", words).to_pylist() == [w and w.upper() for w in words.to_pylist()]
    values = pa.array([1, None, -3, 2**40], pa.int64())
    assert module.call("half", values).equals(pc.divide(pc.cast(values, pa.float64()), 2.0))


def test_nullable_arguments_and_results(examples):
    module = examples
    a = pa.array([1, None, None, 4], pa.int64())
    b = pa.array([10, 20, None, None], pa.int64())
    assert module.call("coalesce2", a, b).equals(pc.coalesce(a, b))
    texts = pa.array(["abc", None, "", "é"])
    assert module.call("describe", texts).to_pylist() == ["3 bytes", "(null)", None, "2 bytes"]


def test_errors_reach_the_host(examples):
    module = examples
    a = pa.array([10, None, -9, 7], pa.int32())
    b = pa.array([3, 0, 2, 7], pa.int32())
    assert module.call("checked_div", a, b).to_pylist() == [3, None, -4, 1]
    # The strict function never sees the null row; row 2 of the call is the one with 0.
    with pytest.raises(RuntimeError, match="checked_div: cannot divide 5 by 0 at row 2"):
        module.call("checked_div", pa.array([1, 2, 5], pa.int32()), pa.array([1, 1, 0], pa.int32()))
    assert module.call("parse_int", pa.array([" 42", None, "-7"])).to_pylist() == [42, None, -7]
    with pytest.raises(RuntimeError, match="parse_int: invalid digit found in string at row 1"):
        module.call("parse_int", pa.array(["1", "x"]))
    # The instance stays usable after a failed call.
    assert module.call("checked_div", pa.array([8], pa.int32()), pa.array([2], pa.int32())).to_pylist() == [4]


def test_vectorized(examples):
    module = examples
    a, b, expected = gcd_pairs()
    assert module.call("gcd_vectorized", a, b).equals(expected)
    texts = pa.array(["héllo", None, "", "✓✓"])
    assert module.call("char_length", texts).equals(pc.utf8_length(texts))


def test_table_functions(examples):
    module = examples
    starts = pa.array([0, 5, None, 3, -2], pa.int32())
    stops = pa.array([3, 5, 4, 10, 1], pa.int32())
    for max_output_rows in (1, 4, 1000):
        batches = table(module, "series", starts, stops, max_output_rows=max_output_rows)
        assert all(0 < batch.num_rows <= max_output_rows for batch in batches)
        got = [row for batch in batches for row in zip(*(c.to_pylist() for c in batch.columns))]
        expected = [(row, value) for row, (start, stop) in
                    enumerate(zip(starts.to_pylist(), stops.to_pylist()))
                    if start is not None for value in range(start, stop)]
        assert got == expected
    texts = pa.array(["héllo", None, "", "✓✓", "wasm" * 20, "z"])
    expected = [(row, position, character) for row, text in enumerate(texts.to_pylist())
                if text is not None for position, character in enumerate(text)]
    for max_output_rows in (1, 3, 1000):
        batches = table(module, "chars", texts, max_output_rows=max_output_rows)
        assert batches[0].schema.names[1:] == ["position", "character"]
        got = [row for batch in batches for row in zip(*(c.to_pylist() for c in batch.columns))]
        assert got == expected


def test_aggregate_with_merge(examples):
    module = examples
    keys = [(i * 7) % 50 for i in range(5000)]
    values = pa.array([None if i % 9 == 0 else i * 0.5 - 300 for i in range(5000)], pa.float64())
    data = pa.table({"g": pa.array(keys, pa.uint32()), "v": values})
    expected = dict(zip(*data.group_by("g").aggregate([("v", "mean")]).to_pydict().values()))
    left, right = Aggregate(module, "mean"), Aggregate(module, "mean")
    left.update(values.slice(0, 3000), groups=keys[:3000], group_count=60)
    right.update(values.slice(3000), groups=keys[3000:], group_count=60)
    left.merge(right.state(), groups=list(range(60)), group_count=60)
    result = left.finish().to_pylist()
    for group in range(60):
        if group in expected and expected[group] is not None:
            assert math.isclose(result[group], expected[group], rel_tol=1e-12)
        else:
            assert result[group] is None
    left.close()
    right.close()


COMPILE_FAIL = {
    "wrong_argument": "f: argument 0 is int32 in the signature, so its Rust type must be i32 "
                      "or Option<i32>, not i64",
    "wrong_result": "f: the result is int64 in the signature, so the Rust result must be one "
                    "of i64 (or an Option or Result of one), not String",
    "wrong_count": "f: the signature has 2 argument(s), the Rust function 1",
    "strict_option": "f: an Option argument sees nulls, but RETURNS NULL ON NULL INPUT never "
                     "passes any",
    "table_column": "t: column t is utf8 in the signature, so its Rust type must be one of "
                    "String, &str, Box<str> (or an Option of one), not i32",
    "vectorized_argument": "v: argument 0 is int32 in the signature, so its Rust type must be "
                           "&Int32Array (or &ArrayRef), not &Int64Array",
    "row_wise_unsupported": "f: argument 0 is list<int32>, which the row-wise form does not "
                            "support",
    "table_borrowed_rows": "words: a table function's rows must own their values (String, "
                           "Vec<u8>)",
}


@pytest.mark.skipif(not os.path.exists("/usr/bin/cargo"), reason="Debian's cargo is not installed")
def test_signature_mismatches_do_not_compile():
    """The macro compares the signature's types with the Rust types at compile time
    (guest/rust/compile-fail, one mismatch per feature, checked natively)."""
    import subprocess
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    env = dict(os.environ, RUSTC="/usr/bin/rustc",
               CARGO_HOME=os.path.join(root, "build", "rust", "cargo-home"),
               CARGO_TARGET_DIR=os.path.join(root, "build", "rust", "native-target"))
    for key in ("RUSTFLAGS", "CARGO_BUILD_TARGET", "RUSTC_WRAPPER"):
        env.pop(key, None)

    def check(feature):
        return subprocess.run(
            ["/usr/bin/cargo", "check", "--offline", "--locked", "--quiet",
             "--manifest-path", os.path.join(root, "guest", "rust", "Cargo.toml"),
             "-p", "wasmudf-guest-compile-fail", "--features", feature],
            env=env, capture_output=True, text=True)

    valid = check("valid")
    assert valid.returncode == 0, valid.stderr
    for feature, message in COMPILE_FAIL.items():
        result = check(feature)
        assert result.returncode != 0, feature
        assert "error: " + message in result.stderr, (feature, result.stderr)
