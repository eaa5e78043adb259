#!/usr/bin/env bash
# Builds the Go guest example (guest/go/example) into a wasm32 module for wasmudf.
#
#   scripts/build-go-guest.sh OUT.wasm
#
# Go 1.24 or later builds a WASI reactor with exports (`GOOS=wasip1 GOARCH=wasm go build
# -buildmode=c-shared`, functions marked //go:wasmexport); Go's linker cannot write custom
# sections, so guest/go/cmd/wudf-embed then appends the "wasmudf" metadata section from the
# //wasmudf: directives of the sources. The Go build cache is kept in build/go/cache; no module
# is downloaded (the package has no dependencies). A second run with nothing changed takes about
# a second.
set -euo pipefail

die() {
  echo "build-go-guest: error: $*" >&2
  exit 1
}

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUT.wasm" >&2
  exit 2
fi
out=$(realpath -m "$1")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
package=$repo/guest/go
work=$repo/build/go

command -v go >/dev/null || die "go is not installed (Go 1.24 or later is needed for //go:wasmexport)"
export GOCACHE=$work/cache GOPATH=$work/path GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off
mkdir -p "$work" "$(dirname "$out")"
cd "$package"
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o "$work/example.raw.wasm" ./example ||
  die "go build failed (see the messages above)"
go run ./cmd/wudf-embed -o "$out.tmp.$$" "$work/example.raw.wasm" example/*.go ||
  die "wudf-embed failed"
mv -f "$out.tmp.$$" "$out"
echo "build-go-guest: wrote $out ($(stat -c %s "$out") bytes)"
