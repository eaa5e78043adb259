"""
conftest.py -- fixtures of the Python package's tests (tests/python/package).

These tests use the installed `wasmudf` package (built from python/ into a
wheel and installed into build/venv by the test command), never a private
binding. Guest modules are built from examples/c with the CLI named by
$WUDF_CLI (default: build/debug/bin/wasmudf) into a per-session directory,
once per example. The compile cache is $WASMUDF_CACHE_DIR when set, so runs
after the first load modules without compiling them again.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]

# Under the sanitized run (scripts/check.sh) the sanitizer runtimes are
# preloaded into this Python for the package's extension. The compilers the
# library starts (wasm2c, cc) must not inherit them: ASan cannot reserve its
# shadow memory under the address-space limit they run with
# (compile_memory_limit), so wasm2c would abort.
if os.environ.get("WUDF_PY_SANITIZED"):
    os.environ.pop("LD_PRELOAD", None)


def _cli():
    return os.environ.get("WUDF_CLI", str(ROOT / "build" / "debug" / "bin" / "wasmudf"))


def _builder(directory, sources):
    built = {}

    def build(name):
        if name not in built:
            target = directory / f"{name}.wasm"
            subprocess.run([_cli(), "build", str(sources / f"{name}.c"), "-o", str(target)],
                           check=True)
            built[name] = str(target)
        return built[name]

    return build


@pytest.fixture(scope="session")
def example_wasm(tmp_path_factory):
    """example_wasm("gcd") -> the path of examples/c/gcd.c built for wasm32."""
    return _builder(tmp_path_factory.mktemp("examples"), ROOT / "examples" / "c")


@pytest.fixture(scope="session")
def guest_wasm(tmp_path_factory):
    """guest_wasm("faults") -> the path of tests/python/package/guests/faults.c
    built for wasm32."""
    return _builder(tmp_path_factory.mktemp("guests"), pathlib.Path(__file__).parent / "guests")
