#!/usr/bin/env bash
# Installs what building and testing wasmudf needs on Debian bookworm, and
# nothing that is already there. Run as root (or with sudo available).
#
#   scripts/install-deps.sh          build + test dependencies
#
# Debian packages: the C toolchain and CMake for the library; clang, lld,
# wasi-libc and the wasm32 compiler runtime to build guests; wabt for wasm2c
# and wat2wasm; valgrind for the leak checks; Python's venv module for the
# pyarrow oracle tests (scripts/python-env.sh installs pyarrow from PyPI);
# python3-dev for the Python package's extension; pkg-config for the
# installed-package test; a Java runtime for Spark's tests (pyspark); tcc, the
# fast first-tier compiler (docs/engine.md, "Tiers"); Node.js, the V8 host of
# the benchmark suite and its ABI test (bench/suite/host_node.mjs); liblz4-dev
# and libzstd-dev for the Arrow IPC layer's body compression (docs/io.md).
set -euo pipefail

packages=(build-essential cmake clang lld wasi-libc libclang-rt-14-dev-wasm32
          libclang-rt-14-dev wabt valgrind python3 python3-venv python3-dev
          pkg-config openjdk-17-jre-headless binaryen tcc nodejs liblz4-dev libzstd-dev)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
