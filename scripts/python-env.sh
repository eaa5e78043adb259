#!/usr/bin/env bash
# Makes build/venv, a Python virtual environment with the test suite's Python
# packages from PyPI (pyarrow, the oracle of the Arrow tests, and pytest), and
# prints its interpreter's path. Does nothing when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/venv
if ! "$venv/bin/python" -c "import pyarrow, pytest" >/dev/null 2>&1; then
  echo "python-env: installing pyarrow and pytest into $venv" >&2
  rm -rf "$venv"
  mkdir -p build
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pyarrow>=14" "pytest>=7" >&2
fi
echo "$PWD/$venv/bin/python"
