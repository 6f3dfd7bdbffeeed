#!/usr/bin/env bash
# The Rust library built with AddressSanitizer (nightly, -Zsanitizer=address, std rebuilt
# with it: -Zbuild-std) and the C and C++ tests run against it, compiled with
# -fsanitize=address themselves; any report fails the run.
#
#   scripts/asan.sh            every CTest test but the valgrind ones (memcheck_*: valgrind
#                              cannot run ASan binaries) and the long soak
#   scripts/asan.sh smoke      the misuse, handle and close-path tests only
#
# A separate cargo target dir (target/asan) and CMake build (build/asan). Leak checking is
# on: the library's process-wide objects (the default loop, the handle registry) are still
# reachable at exit, so they are not reported.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/gen-certs.sh >/dev/null
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCARGO="$ROOT/scripts/asan-cargo.sh" -DNODETLS_CARGO_TARGET_DIR="$ROOT/target/asan" \
  -DCMAKE_C_FLAGS="-fsanitize=address -fno-omit-frame-pointer" \
  -DCMAKE_CXX_FLAGS="-fsanitize=address -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address" >/dev/null
echo "== asan: building the library (nightly, -Zsanitizer=address, -Zbuild-std) and the tests"
cmake --build build/asan >/dev/null
# halt_on_error: the first report fails the test. detect_leaks: definite leaks only matter;
# LSan reports nothing still reachable. The suppressions file names what is not ours.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=23:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/asan.supp:print_suppressions=0"
exclude='^memcheck_|soak'
select=()
if [ "${1:-}" = smoke ]; then
  select=(-R '^(misuse|handles|server_close|sni|error_words|null_getters|loops|write_callbacks|econnrefused)$')
fi
cd build/asan
ctest --output-on-failure --timeout 180 -E "$exclude" "${select[@]}"
