#!/usr/bin/env bash
# Makes build/venv, a Python virtual environment with the test suite's Python
# packages from PyPI, and prints its interpreter's path. Installs only what is
# missing:
#   pyarrow, pytest      the oracle of the Arrow tests and the test runner
#   polars, duckdb       peers the Python package is tested with (PyCapsule
#                        data from polars, SQL UDFs in DuckDB, which needs
#                        numpy for Python UDFs)
#   pyspark, pandas      Spark in local mode (runs on the machine's Java);
#                        pyspark's mapInArrow needs pandas
#   setuptools, wheel    to build the wasmudf wheel (python/)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/venv
# module name=pip requirement
requirements=(
  "pyarrow=pyarrow>=14"
  "pytest=pytest>=7"
  "polars=polars>=1.0"
  "numpy=numpy"
  "duckdb=duckdb>=1.5"
  "pandas=pandas>=2.2,<3"
  "pyspark=pyspark>=4.0"
  "setuptools=setuptools>=64"
  "wheel=wheel"
  "wasmtime=wasmtime"
)
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p build
  python3 -m venv "$venv" >&2
fi
missing=()
for requirement in "${requirements[@]}"; do
  module=${requirement%%=*}
  if ! "$venv/bin/python" -c "import $module" >/dev/null 2>&1; then
    missing+=("${requirement#*=}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "python-env: installing ${missing[*]} into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}" >&2
fi
echo "$PWD/$venv/bin/python"
