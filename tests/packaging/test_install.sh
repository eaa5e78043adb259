#!/usr/bin/env bash
# test_install.sh SOURCE_DIR WORK_DIR -- the installed package, as an engine
# builder gets it: configures, builds and installs the project (Release, no
# tests) into a staging prefix, moves the installed tree elsewhere and hides
# the build tree, then from the moved tree only:
#   - the installed CLI builds examples/c/gcd.c with its installed guest SDK
#     (found relative to the executable: no environment help, no build path),
#   - examples/embedding builds with find_package (wasmudf::wasmudf and
#     wasmudf::wasmudf_static) and with pkg-config (shared and --static),
#     and each binary runs gcd on its hand-built Arrow columns,
#   - no installed file holds the source, build or staging path, and the
#     version file accepts 0.x and refuses 1.0 (SameMajorVersion),
#   - the ABI: SONAME libwasmudf.so.1 (libwasmudf.so -> .so.1 -> .so.1.x.y),
#     only wudf_ functions exported, each at the version node WASMUDF_1,
#     and packaging/abi_app.c -- an application whose structs are older,
#     smaller versions -- built against the installed header binds to
#     WASMUDF_1 and runs.
# Everything happens under WORK_DIR (emptied first; kept for inspection).
# $CC, when set, is the C compiler of the build and of the examples.
set -u
src=$(cd "$1" && pwd)
work=$2
passed=0
failed=0

ok() { echo "ok     $1"; passed=$((passed + 1)); }
fail() { echo "FAILED $1"; failed=$((failed + 1)); }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
# step NAME COMMAND... -- runs the command with its output in WORK_DIR/NAME.log.
step() {
  local name=$1
  shift
  if "$@" >"$work/$name.log" 2>&1; then
    ok "$name"
  else
    fail "$name (exit $?): $*"
    tail -30 "$work/$name.log"
    return 1
  fi
}
# expect NAME EXPECTED COMMAND... -- the command succeeds and prints EXPECTED.
expect() {
  local name=$1 want=$2
  shift 2
  local out status
  out=$("$@" 2>"$work/$name.err")
  status=$?
  if [ "$status" = 0 ] && [ "$out" = "$want" ]; then
    ok "$name"
  else
    fail "$name: status $status, stdout [$out] (want [$want]), stderr [$(cat "$work/$name.err")]"
  fi
}

# A make or ctest around us must not hand its jobserver to the builds below.
unset MAKEFLAGS MFLAGS MAKELEVEL
jobs=$(nproc 2>/dev/null || echo 2)
rm -rf "$work"
mkdir -p "$work/home" "$work/cache"
build=$work/build
staging=$work/staging
prefix=$work/prefix

# 1. Build and install. The configured prefix is never used: the install
# goes to a staging prefix, which then moves.
step configure cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DWUDF_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/nonexistent/wasmudf-prefix || finish
step build cmake --build "$build" -j "$jobs" || finish
step install cmake --install "$build" --prefix "$staging" || finish
mv "$staging" "$prefix"
mv "$build" "$build-hidden"

missing=""
for file in bin/wasmudf include/wasmudf/wasmudf.h include/wasmudf/guest.h \
            share/wasmudf/wudf_guest.o lib/libwasmudf.a lib/libwasmudf.so \
            lib/cmake/wasmudf/wasmudfConfig.cmake lib/cmake/wasmudf/wasmudfConfigVersion.cmake \
            lib/cmake/wasmudf/wasmudfTargets.cmake lib/pkgconfig/wasmudf.pc; do
  [ -e "$prefix/$file" ] || missing="$missing $file"
done
if [ -z "$missing" ]; then ok installed_files; else fail "installed_files: missing$missing"; fi

leaks=$(grep -rlF -e "$build" -e "$src" -e "$staging" -e /nonexistent/wasmudf-prefix "$prefix")
if [ -z "$leaks" ]; then
  ok no_absolute_paths
else
  fail "no_absolute_paths: these installed files name a build, source or install path:"
  for file in $leaks; do
    echo "  $file: $(strings "$file" | grep -F -e "$build" -e "$src" -e "$staging" \
                       -e /nonexistent/wasmudf-prefix | head -3 | tr '\n' ' ')"
  done
fi

# 2. The installed CLI, in an environment that names nothing of the build.
clean=(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work/home"
       WASMUDF_CACHE_DIR="$work/cache")
[ -n "${CC:-}" ] && clean+=(CC="$CC")
wasm=$work/gcd.wasm
step cli_build "${clean[@]}" "$prefix/bin/wasmudf" build "$src/examples/c/gcd.c" -o "$wasm"
expect cli_list "scalar    gcd(int32, int32) -> int32" \
  "${clean[@]}" "$prefix/bin/wasmudf" list "$wasm"

# 3. The embedding example, four ways; each prints the same lines.
want="scalar    gcd(int32, int32) -> int32
gcd(12, 18) = 6
gcd(1071, 462) = 21
gcd(-7, 21) = 7
gcd(null, 5) = null"
example=$src/examples/embedding

if step cmake_example_configure "${clean[@]}" cmake -S "$example" -B "$work/cmake-example" \
     -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release &&
   step cmake_example_build "${clean[@]}" cmake --build "$work/cmake-example" -j "$jobs"; then
  expect find_package_shared "$want" "${clean[@]}" "$work/cmake-example/embed" "$wasm" gcd
  expect find_package_static "$want" "${clean[@]}" "$work/cmake-example/embed_static" "$wasm"
fi

mkdir -p "$work/make-example"
if step pkg_config_build "${clean[@]}" PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
     make -C "$work/make-example" -f "$example/Makefile"; then
  expect pkg_config_shared "$want" "${clean[@]}" "$work/make-example/embed" "$wasm"
  expect pkg_config_static "$want" "${clean[@]}" "$work/make-example/embed-static" "$wasm" gcd
fi

# The shared builds load libwasmudf.so; the static ones do not.
for binary in cmake-example/embed make-example/embed; do
  if readelf -d "$work/$binary" 2>/dev/null | grep -q 'NEEDED.*libwasmudf\.so'; then
    ok "linked_shared $binary"
  else
    fail "linked_shared $binary: no libwasmudf.so in its dynamic section"
  fi
done
for binary in cmake-example/embed_static make-example/embed-static; do
  if [ -x "$work/$binary" ] && ! readelf -d "$work/$binary" | grep -q 'libwasmudf'; then
    ok "linked_static $binary"
  else
    fail "linked_static $binary: missing, or it needs libwasmudf.so"
  fi
done

# 4. The version file: SameMajorVersion.
cat >"$work/version.cmake" <<'SCRIPT'
set(PACKAGE_FIND_NAME wasmudf)
set(CMAKE_SIZEOF_VOID_P 8)
string(REPLACE "." ";" parts "${PACKAGE_FIND_VERSION}")
list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
set(PACKAGE_FIND_VERSION_COUNT 2)
include("${FILE}")
message("${PACKAGE_VERSION} ${PACKAGE_VERSION_COMPATIBLE}")
SCRIPT
version_of() {
  cmake -DFILE="$prefix/lib/cmake/wasmudf/wasmudfConfigVersion.cmake" \
        -DPACKAGE_FIND_VERSION="$1" -P "$work/version.cmake" 2>&1
}
expect version_0_1 "0.1.0 TRUE" version_of 0.1
expect version_1_0 "0.1.0 FALSE" version_of 1.0

# 5. The ABI of the shared library.
lib=$prefix/lib
soname=$(readelf -d "$lib/libwasmudf.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
expect soname "libwasmudf.so.1" echo "$soname"
chain="$(readlink "$lib/libwasmudf.so") $(readlink "$lib/libwasmudf.so.1")"
case $chain in
  "libwasmudf.so.1 libwasmudf.so.1."[0-9]*.[0-9]*) ok "symlinks $chain" ;;
  *) fail "symlinks: libwasmudf.so -> .so.1 -> .so.1.x.y expected, got [$chain]" ;;
esac
# Every defined dynamic symbol but the version node's own: wudf_NAME@@WASMUDF_1.
exported=$(readelf --dyn-syms -W "$lib/libwasmudf.so" |
           awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") { print $8 }' |
           grep -v '^WASMUDF_1$')
strays=$(echo "$exported" | grep -v '^wudf_[a-z0-9][a-z0-9_]*@@WASMUDF_1$')
count=$(echo "$exported" | grep -c .)
if [ -z "$strays" ] && [ "$count" -gt 50 ]; then
  ok "exported_symbols ($count, all wudf_*@@WASMUDF_1)"
else
  fail "exported_symbols: $count exported; not wudf_*@@WASMUDF_1: $(echo $strays | head -c 500)"
fi
if readelf -V "$lib/libwasmudf.so" | grep -q 'Name: WASMUDF_1'; then
  ok version_node
else
  fail "version_node: no WASMUDF_1 in the version definitions"
fi
if step abi_app_build "${clean[@]}" ${CC:-cc} -std=c11 -Wall -Wextra -Werror \
     -I"$prefix/include" "$src/tests/packaging/abi_app.c" -o "$work/abi_app" \
     -L"$lib" -lwasmudf -Wl,-rpath,"$lib"; then
  unversioned=$(nm -D --undefined-only "$work/abi_app" | awk '/wudf_/ { print $2 }' |
                grep -v '@WASMUDF_1$')
  if [ -z "$unversioned" ] && readelf -d "$work/abi_app" | grep -q 'NEEDED.*libwasmudf\.so\.1\]'; then
    ok abi_app_binds_to_WASMUDF_1
  else
    fail "abi_app_binds_to_WASMUDF_1: needs [$(readelf -d "$work/abi_app" | grep NEEDED | tr '\n' ' ')], unversioned: $unversioned"
  fi
  expect abi_app_runs "scalar gcd
gcd(12, 18) = 6
gcd(1071, 462) = 21
gcd(-7, 21) = 7
gcd(12, 18) = 6
gcd(12, 462) = 6
gcd(12, 21) = 3" "${clean[@]}" "$work/abi_app" "$wasm"
fi

finish
