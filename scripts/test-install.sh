#!/usr/bin/env bash
# Installs nodetls from a built CMake tree into a temporary prefix and builds a small C
# program against it the ways a user would (c-tests/install/consumer.c), each linked with
# the shared and with the static library:
#   find_package(nodetls CONFIG), pkg-config (--static for the archive),
#   add_subdirectory and FetchContent of the source tree.
# Each program then echoes a line to `openssl s_client`. The library is not rebuilt: the
# install copies the built artifacts, and the subproject builds run cargo on the same target
# directory (a no-op).
#   scripts/test-install.sh [BUILD_DIR]     (default build/release, configured and built)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build/release}" && pwd)
CERTS=$ROOT/target/test-certs
CONSUMER=$ROOT/c-tests/install
[ -f "$BUILD/CMakeCache.txt" ] || { echo "test-install: configure and build $BUILD first" >&2; exit 1; }
[ -f "$CERTS/.complete" ] || bash "$ROOT/scripts/gen-certs.sh"
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
TARGET_DIR=$(cache NODETLS_CARGO_TARGET_DIR)
BUILD_TYPE=$(cache CMAKE_BUILD_TYPE)
GENERATOR=$(cache CMAKE_GENERATOR)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)
SONAME=libnodetls.so.${VERSION%%.*}

WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix
START=$(date +%s%N)
step() {
  local ms=$((($(date +%s%N) - START) / 1000000))
  printf '== %-52s %3d.%01d s\n' "$1" $((ms / 1000)) $((ms % 1000 / 100))
}
fail() { echo "test-install: $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$PREFIX" > "$WORK/install.log"
LIB=$PREFIX/lib
[ -d "$LIB" ] || fail "no $LIB (a libdir other than lib?)"
# (Outputs are read whole before grep: with pipefail, `grep -q` quitting early fails the pipe.)
dynamic=$(readelf -d "$LIB/libnodetls.so.$VERSION")
grep -q "Library soname: \[$SONAME\]" <<< "$dynamic" || fail "libnodetls.so.$VERSION has no SONAME $SONAME"
[ "$(readlink "$LIB/libnodetls.so")" = "$SONAME" ] || fail "libnodetls.so does not link to $SONAME"
[ "$(readlink "$LIB/$SONAME")" = "libnodetls.so.$VERSION" ] || fail "$SONAME does not link to libnodetls.so.$VERSION"
for f in include/nodetls.h include/nodetls.hpp lib/libnodetls.a lib/pkgconfig/nodetls.pc \
         lib/cmake/nodetls/nodetls-config.cmake lib/cmake/nodetls/nodetls-config-version.cmake; do
  [ -f "$PREFIX/$f" ] || fail "$f not installed"
done
step "installed into $PREFIX"

# run PROGRAM shared|static [LIBDIR]: the program's link is what it should be (the SONAME,
# found in LIBDIR; or no libnodetls at all), then one echo.
run() {
  local bin=$1 kind=$2 libdir=${3:-} needed
  needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  if [ "$kind" = shared ]; then
    [[ " $needed" == *" $SONAME "* ]] || fail "$bin does not need $SONAME (needs: $needed)"
    local loads
    loads=$(ldd "$bin")
    [ -z "$libdir" ] || grep -q "$SONAME => $libdir/$SONAME " <<< "$loads" ||
      fail "$bin does not load $libdir/$SONAME: $(grep nodetls <<< "$loads")"
  else
    [[ "$needed" != *libnodetls* ]] || fail "$bin, linked statically, needs $needed"
  fi
  local out=$bin.out
  : > "$out"  # exists, and empty, before the program starts writing it
  "$bin" "$CERTS/server-ec-key.pem" "$CERTS/server-ec-cert.pem" > "$out" 2>&1 &
  local pid=$! port=""
  for _ in $(seq 200); do
    port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  [ -n "$port" ] || { kill "$pid" 2>/dev/null; cat "$out" >&2; fail "$bin did not start"; }
  bash "$ROOT/scripts/s-client-echo.sh" "$port" "$CERTS/ca-cert.pem" "hello, $(basename "$bin")" > /dev/null ||
    { kill "$pid" 2>/dev/null; fail "$bin: no echo"; }
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && { kill "$pid"; fail "$bin did not exit within 15 s"; }
  wait "$pid" || { cat "$out" >&2; fail "$bin exited with $?"; }
  grep -q ': ok$' "$out" || fail "$bin: $(tail -1 "$out")"
}

# cmake_consumer HOW LIBDIR CMAKE-ARGS...: configure, build, run both programs (the shared one
# loading libnodetls from LIBDIR, unless empty).
cmake_consumer() {
  local how=$1 libdir=$2 dir=$WORK/$1
  shift 2
  cmake -S "$CONSUMER" -B "$dir" -G "$GENERATOR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DCONSUMER_NODETLS="$how" "$@" > "$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "$how: configure failed"; }
  cmake --build "$dir" >> "$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "$how: build failed"; }
  run "$dir/consumer_shared" shared "$libdir"
  run "$dir/consumer_static" static
}

# What rustc says libnodetls.a needs (cargo replays it: nothing is built) is what the .pc's
# Libs.private and the package's static target say.
profile=--release CARGO_OUT=$TARGET_DIR/release
[ "$BUILD_TYPE" = Debug ] && profile="" CARGO_OUT=$TARGET_DIR/debug
RUSTC_LIBS=$(cargo rustc --lib $profile --manifest-path "$ROOT/Cargo.toml" --target-dir "$TARGET_DIR" \
  -- --print native-static-libs 2>&1 | sed -n 's/.*native-static-libs: //p')
[ -n "$RUSTC_LIBS" ] || fail "cargo printed no native-static-libs"
PC_PRIVATE=$(sed -n 's/^Libs.private: //p' "$LIB/pkgconfig/nodetls.pc")
[ "$PC_PRIVATE" = "$RUSTC_LIBS" ] || fail "nodetls.pc Libs.private '$PC_PRIVATE', rustc says '$RUSTC_LIBS'"
CMAKE_LIBS=$(sed -n 's/^ *INTERFACE_LINK_LIBRARIES "\([^"]*\)")*$/\1/p' "$LIB/cmake/nodetls/nodetls-config.cmake")
[ "$CMAKE_LIBS" = "$(echo "$RUSTC_LIBS" | sed 's/-l//g; s/ /;/g')" ] ||
  fail "nodetls::nodetls_static links '$CMAKE_LIBS', rustc says '$RUSTC_LIBS'"
step "system libraries: $RUSTC_LIBS"

cmake_consumer find_package "$LIB" -DCMAKE_PREFIX_PATH="$PREFIX"
step "find_package(nodetls CONFIG), shared + static"

# pkg-config, as a Makefile would use it. The static link asks for the archive by name
# (-l:libnodetls.a): with both libraries in one directory, -lnodetls means the shared one.
# (PKG_CONFIG_PATH only for these calls: aws-lc-sys's build script reads it, and cargo
# would rebuild the library below if the environment changed.)
pc() { PKG_CONFIG_PATH=$LIB/pkgconfig pkg-config "$@"; }
CC=${CC:-cc}
CFLAGS=$(pc --cflags nodetls)
LIBS=$(pc --libs nodetls)
STATIC_LIBS=$(pc --static --libs nodetls)
# shellcheck disable=SC2086
$CC -Wall -Wextra -Werror -o "$WORK/pc_shared" "$CONSUMER/consumer.c" $CFLAGS $LIBS \
  -Wl,-rpath,"$(pc --variable=libdir nodetls)"
# shellcheck disable=SC2086
$CC -Wall -Wextra -Werror -o "$WORK/pc_static" "$CONSUMER/consumer.c" $CFLAGS ${STATIC_LIBS/-lnodetls/-l:libnodetls.a}
run "$WORK/pc_shared" shared "$LIB"
run "$WORK/pc_static" static
# The installed C++ header compiles from the same flags.
# shellcheck disable=SC2086
echo '#include <nodetls.hpp>' | ${CXX:-c++} -std=c++17 -Wall -Wextra -Werror -pedantic $CFLAGS -fsyntax-only -x c++ -
step "pkg-config nodetls (and --static), shared + static"

# The source tree as a subproject: nodetls's own tests and examples stay out of the build,
# cargo finds its target directory built (no recompilation), and the program runs with the
# library in it (build.rs's libnodetls.so.0 link).
for how in subdirectory fetchcontent; do
  cmake_consumer $how "$CARGO_OUT" -DNODETLS_DIR="$ROOT" -DNODETLS_CARGO_TARGET_DIR="$TARGET_DIR"
  ! grep -q 'test_misuse\|nodetls-echo-server' "$WORK/$how/build.ninja" 2>/dev/null ||
    fail "$how: nodetls's tests or examples are built in a subproject"
  grep -q 'Compiling nodetls' "$WORK/$how.log" && fail "$how: cargo rebuilt nodetls"
  step "$how, shared + static"
done
echo "install test passed"
