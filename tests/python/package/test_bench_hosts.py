"""
test_bench_hosts.py -- the guest ABI hosts of the benchmark suite
(bench/suite/host_wasmtime.py on wasmtime, bench/suite/host_node.mjs on
Node.js's V8) compute what pyarrow says, so the suite's comparisons of
wasmudf against wasmtime and V8 stay honest.

Kernels of bench/kernels at a few rows: gcd (fixed-width), concat (strings
with nulls, called on null input), groupsum (an aggregate: UPDATE, FINISH,
FREE), series (a table function: INPUT, CONTINUE across chunks); inputs
are written with wasmudf.serialize and results read back with
wasmudf.deserialize (which validates them), then compared with values
computed in Python from the pyarrow inputs. A guest's error, a strict
function given nulls and a group id past the count (which the C SDK checks
when the host does not say it has) fail loudly.
"""
import math
import pathlib
import shutil
import subprocess
import sys

import pyarrow as pa
import pytest
import wasmudf

from conftest import ROOT, _builder

sys.path.insert(0, str(ROOT / "bench" / "suite"))
import abi_image  # noqa: E402
import compare  # noqa: E402
import host_wasmtime  # noqa: E402


@pytest.fixture(scope="module")
def kernel_wasm(tmp_path_factory):
    return _builder(tmp_path_factory.mktemp("kernels"), ROOT / "bench" / "kernels")


def cases():
    """(kernel, kind, groups, argument batch, expected pyarrow result)."""
    a = [12, 7, 0, -9, 100, 1 << 20]
    b = [18, 0, 5, 6, 75, 3 << 10]
    gcd = pa.StructArray.from_arrays([pa.array(a, pa.int32()), pa.array(b, pa.int32())],
                                     names=["arg0", "arg1"])
    gcd_expected = pa.array([math.gcd(x, y) for x, y in zip(a, b)], pa.int32())
    left = ["ab", None, "", None, "xyz", "q"]
    right = ["cd", "e", None, None, "", "ü"]
    concat = pa.StructArray.from_arrays([pa.array(left), pa.array(right)],
                                        names=["arg0", "arg1"])
    concat_expected = pa.array([None if x is None and y is None else (x or "") + (y or "")
                                for x, y in zip(left, right)])
    values = [5, -3, 10, 7, 1 << 40, 2]
    groups = [0, 2, 0, 2, 2, 0]
    groupsum = pa.StructArray.from_arrays([pa.array(values, pa.int64()),
                                           pa.array(groups, pa.uint32())],
                                          names=["arg0", "group"])
    sums = [sum(v for v, g in zip(values, groups) if g == k) for k in range(4)]
    groupsum_expected = pa.array([s if k in groups else None for k, s in enumerate(sums)],
                                 pa.int64())
    # 70,000 rows from two inputs: more than one 65,536-row chunk.
    starts, stops = [5, -2], [40004, 29997]
    series = pa.StructArray.from_arrays([pa.array(starts, pa.int32()),
                                         pa.array(stops, pa.int32())], names=["arg0", "arg1"])
    rows = [(i, v) for i, (s, e) in enumerate(zip(starts, stops)) for v in range(s, e + 1)]
    series_expected = pa.StructArray.from_arrays(
        [pa.array([r for r, _ in rows], pa.int64()), pa.array([v for _, v in rows], pa.int32())],
        fields=[pa.field("input_row", pa.int64(), nullable=False),
                pa.field("series", pa.int32())])
    return [("gcd", "scalar", 0, gcd, gcd_expected),
            ("concat", "scalar", 0, concat, concat_expected),
            ("groupsum", "aggregate", 4, groupsum, groupsum_expected),
            ("series", "table", 0, series, series_expected)]


def result_of(images):
    arrays = [pa.array(wasmudf.deserialize(image)) for image in images]
    return arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)


@pytest.mark.parametrize("case", cases(), ids=lambda case: case[0])
def test_wasmtime_host(kernel_wasm, case):
    name, kind, groups, batch, expected = case
    host = host_wasmtime.AbiHost(pathlib.Path(kernel_wasm(name)).read_bytes())
    template = abi_image.InputTemplate(wasmudf.serialize(batch))
    for _ in range(3):  # the instance is reused call after call
        got = result_of(host.call(kind, name, template, groups))
        assert compare.same(got, expected), f"{name}: {got} != {expected}"


@pytest.mark.skipif(shutil.which("node") is None, reason="no node (scripts/install-deps.sh)")
def test_node_host(kernel_wasm, tmp_path):
    plan = tmp_path / "plan.txt"
    expected = {}
    with open(plan, "w") as out:
        for name, kind, groups, batch, result in cases():
            data = tmp_path / f"{name}.bin"
            data.write_bytes(wasmudf.serialize(batch))
            out.write(f"{name} {kind} {name} {groups} {len(batch)} {kernel_wasm(name)} {data} "
                      f"{tmp_path / (name + '.out')} 1 2\n")
            expected[name] = result
    run = subprocess.run(["node", "--no-warnings", ROOT / "bench" / "suite" / "host_node.mjs",
                          plan], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("RESULT") == len(expected)
    for name, result in expected.items():
        got = compare.read_results(tmp_path / f"{name}.out")
        assert compare.same(got, result), f"{name}: {got} != {result}"


def test_failures_are_loud(example_wasm, kernel_wasm):
    host = host_wasmtime.AbiHost(pathlib.Path(example_wasm("checked_divide")).read_bytes())
    batch = pa.StructArray.from_arrays([pa.array([6, 1], pa.int64()),
                                        pa.array([3, 0], pa.int64())], names=["arg0", "arg1"])
    template = abi_image.InputTemplate(wasmudf.serialize(batch))
    with pytest.raises(host_wasmtime.GuestError, match="division by zero in row 1"):
        host.call("scalar", "checked_divide", template)
    # The instance stays usable after the guest's error.
    ok = pa.StructArray.from_arrays([pa.array([6], pa.int64()), pa.array([3], pa.int64())],
                                    names=["arg0", "arg1"])
    got = result_of(host.call("scalar", "checked_divide",
                              abi_image.InputTemplate(wasmudf.serialize(ok))))
    assert got.to_pylist() == [2]
    # gcd is strict: these hosts do not compact null rows, so they refuse.
    gcd = host_wasmtime.AbiHost(pathlib.Path(kernel_wasm("gcd")).read_bytes())
    nulls = pa.StructArray.from_arrays([pa.array([1, None], pa.int32()),
                                        pa.array([2, 3], pa.int32())], names=["arg0", "arg1"])
    with pytest.raises(host_wasmtime.GuestError, match="strict"):
        gcd.call("scalar", "gcd", abi_image.InputTemplate(wasmudf.serialize(nulls)))
    # These hosts do not check group ids (nor set GROUPS_CHECKED in the
    # control block's flags): the C SDK checks them itself.
    groupsum = host_wasmtime.AbiHost(pathlib.Path(kernel_wasm("groupsum")).read_bytes())
    update = pa.StructArray.from_arrays([pa.array([1, 2], pa.int64()),
                                         pa.array([0, 5], pa.uint32())], names=["arg0", "group"])
    with pytest.raises(host_wasmtime.GuestError, match="row 1 has group 5 of 4"):
        groupsum.call("aggregate", "groupsum", abi_image.InputTemplate(wasmudf.serialize(update)),
                      4)
