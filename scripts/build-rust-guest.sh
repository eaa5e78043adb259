#!/usr/bin/env bash
# Builds the Rust guest example (examples/rust) into a wasm32 module for wasmudf, or the examples
# of the Rust guest crate (guest/rust/examples/*.rs) into one module each.
#
#   scripts/build-rust-guest.sh OUT.wasm
#   scripts/build-rust-guest.sh --examples OUT_DIR [NAME...]   (writes OUT_DIR/NAME.wasm)
#
# With names, only those examples are built (each module is linked with fat LTO, about half a
# minute of CPU each; `make check` builds only `all`, which holds every example).
#
# Debian bookworm has no Rust standard library for wasm32 that a recent `arrow` crate accepts
# (libstd-rust-dev-wasm32 belongs to rustc 1.63), and rustup cannot download one here, so this
# script builds the standard library from source: Debian's rustc-web 1.96 and cargo-web with
# rust-web-src, `-Zbuild-std` for wasm32-wasip1, linked by lld from the same LLVM release against
# Debian's wasi-libc. It installs the Debian packages that are missing, fetches the crates named by
# examples/rust/Cargo.lock and guest/rust/Cargo.lock (and those the standard library needs) into build/rust/cargo-home once,
# then builds offline into build/rust/target and copies the module to OUT.wasm. Nothing it
# downloads leaves build/. A second run with nothing changed takes under a second.
set -euo pipefail

die() {
  echo "build-rust-guest: error: $*" >&2
  exit 1
}

examples=no
example_names=()
if [ "${1:-}" = "--examples" ] && [ $# -ge 2 ]; then
  examples=yes
  out=$2
  shift 2
  example_names=("$@")
elif [ $# -ne 1 ] || [ -z "$1" ] || [ "$1" = "--examples" ]; then
  echo "usage: $0 OUT.wasm | --examples OUT_DIR [NAME...]" >&2
  exit 2
else
  out=$1
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
crate=$repo/examples/rust
guest_crate=$repo/guest/rust
if [ "$examples" = yes ]; then
  crate=$guest_crate
fi
work=$repo/build/rust
target=wasm32-wasip1
wasi_sysroot=/usr/lib/wasm32-wasi
std_src=/usr/lib/rustlib/src/rust/library

for dir in "$repo/examples/rust" "$guest_crate"; do
  [ -f "$dir/Cargo.toml" ] && [ -f "$dir/Cargo.lock" ] || die "$dir/Cargo.toml or Cargo.lock is missing"
done

# Installs the Debian packages among "$@" that are not installed yet.
install_packages() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "the Debian packages ${missing[*]} are missing; install them as root"
    sudo="sudo"
  fi
  echo "build-rust-guest: installing ${missing[*]}"
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get install ${missing[*]} failed (rustc-web, cargo-web, rust-web-src and" \
                      "lld-N come from bookworm-security: is it in the APT sources?)"
}

command -v dpkg-query >/dev/null || die "this script needs Debian (dpkg-query not found)"

# The compiler, cargo and the standard library's source, which must be of one version; and
# wasi-libc, which the standard library links against on wasm32-wasip1.
install_packages rustc-web cargo-web rust-web-src wasi-libc
rustc_version=$(dpkg-query -W -f='${Version}' rustc-web)
src_version=$(dpkg-query -W -f='${Version}' rust-web-src)
[ "$rustc_version" = "$src_version" ] ||
  die "rustc-web $rustc_version and rust-web-src $src_version differ; upgrade both to one version"

# The linker must read the object files of the LLVM release that rustc-web was built with.
llvm_major=$(/usr/bin/rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
[ -n "$llvm_major" ] || die "cannot read the LLVM version of /usr/bin/rustc"
install_packages "lld-$llvm_major"
linker=/usr/bin/wasm-ld-$llvm_major

for file in /usr/bin/rustc /usr/bin/cargo "$linker" "$std_src/Cargo.lock" \
            "$wasi_sysroot/libc.a" "$wasi_sysroot/crt1-reactor.o"; do
  [ -e "$file" ] || die "$file is missing after installing the packages"
done

# Debian's toolchain, not rustup's (which comes first in PATH but has no wasm32 standard
# library), with the crates and the build kept under build/rust.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_TARGET
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_HOME=$work/cargo-home CARGO_TARGET_DIR=$work/target
# -Zbuild-std is unstable; RUSTC_BOOTSTRAP lets the stable compiler accept it.
export RUSTC_BOOTSTRAP=1
# Link with lld against Debian's wasi-libc rather than the self-contained copy that rustup's
# wasm32 standard library would bring. crt1-reactor.o makes the module a WASI reactor: it exports
# _initialize, which runs the constructors once, instead of wrapping every export in them.
export CARGO_TARGET_WASM32_WASIP1_LINKER=$linker
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C link-self-contained=no -L native=$wasi_sysroot \
-C link-arg=$wasi_sysroot/crt1-reactor.o"
cargo=(/usr/bin/cargo --quiet)
build_std=(--target "$target" -Zbuild-std=std,panic_abort)
manifest=(--manifest-path "$crate/Cargo.toml")

# Fetch the crates of both lockfiles once per lockfile and toolchain; the stamp records what was
# fetched.
stamp=$work/fetched.stamp
fetch_key=$(cat "$repo/examples/rust/Cargo.lock" "$guest_crate/Cargo.lock" "$std_src/Cargo.lock" |
  sha256sum | cut -d' ' -f1)-$rustc_version
if [ "$(cat "$stamp" 2>/dev/null)" != "$fetch_key" ]; then
  echo "build-rust-guest: fetching crates into $CARGO_HOME"
  mkdir -p "$work"
  # The crates of every platform (cargo build also wants some that only the host would use),
  # then those of the standard library, which only -Zbuild-std names.
  for dir in "$repo/examples/rust" "$guest_crate"; do
    { "${cargo[@]}" fetch --locked --manifest-path "$dir/Cargo.toml" &&
      "${cargo[@]}" fetch --locked --manifest-path "$dir/Cargo.toml" "${build_std[@]}"; } ||
      die "cannot fetch the crates from crates.io (see the message above)"
  done
  echo "$fetch_key" >"$stamp"
fi

if [ ! -d "$CARGO_TARGET_DIR/$target/release" ]; then
  echo "build-rust-guest: first build (the standard library and arrow): a few minutes"
fi
if [ "$examples" = yes ]; then
  # The crate's examples are cdylibs: one module each.
  if [ ${#example_names[@]} -eq 0 ]; then
    for source in "$guest_crate"/examples/*.rs; do
      example_names+=("$(basename "$source" .rs)")
    done
  fi
  selection=()
  for name in "${example_names[@]}"; do
    [ -f "$guest_crate/examples/$name.rs" ] || die "no example $name in $guest_crate/examples"
    selection+=(--example "$name")
  done
  "${cargo[@]}" build --release --locked --offline "${manifest[@]}" "${build_std[@]}" \
    "${selection[@]}" || die "cargo build failed (see the messages above)"
  mkdir -p "$out"
  for name in "${example_names[@]}"; do
    wasm=$CARGO_TARGET_DIR/$target/release/examples/$name.wasm
    [ -f "$wasm" ] || die "cargo did not produce $wasm"
    cp "$wasm" "$out/$name.wasm.tmp.$$"
    mv -f "$out/$name.wasm.tmp.$$" "$out/$name.wasm"
  done
  echo "build-rust-guest: wrote ${example_names[*]} of guest/rust/examples to $out"
  exit 0
fi
"${cargo[@]}" build --release --locked --offline "${manifest[@]}" "${build_std[@]}" ||
  die "cargo build failed (see the messages above)"

wasm=$CARGO_TARGET_DIR/$target/release/wasmudf_rust_example.wasm
[ -f "$wasm" ] || die "cargo did not produce $wasm"
mkdir -p "$(dirname "$out")"
cp "$wasm" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
echo "build-rust-guest: wrote $out ($(stat -c %s "$out") bytes)"
