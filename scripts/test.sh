#!/usr/bin/env bash
# Runs every test of nodetls on a fresh machine: setup, Rust (cargo test), C and C++
# (CTest), the install and its consumers, Python, Go, and the benchmark's smoke run.
# Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/setup.sh
bash scripts/gen-certs.sh

echo "== cargo fmt / clippy"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

echo "== cargo test"
cargo test --quiet 2>&1 | tee target/cargo-test.log
grep -q "test result: ok" target/cargo-test.log

echo "== CTest (C and C++)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release
(cd build/release && ctest --output-on-failure --timeout 120)

echo "== install: cmake --install, then find_package, pkg-config, add_subdirectory, FetchContent consumers"
bash scripts/test-install.sh build/release

echo "== the README's Hello, TLS program, built as written and run"
bash scripts/test-readme.sh

if [ -d bindings/python ]; then
  echo "== Python"
  NODETLS_LIB="$ROOT/target/release/libnodetls.so" python3 -m pytest -q bindings/python
fi

if [ -d bindings/go ]; then
  echo "== Go: through pkg-config from an install prefix; vet, race tests, the README's programs"
  bash scripts/test-go.sh build/release
fi

echo "== benchmark: fmt, clippy, unit tests, smoke run of every mode against every server"
(cd bench && cargo fmt --check && cargo clippy --release --all-targets --quiet -- -D warnings && cargo test --release --quiet)
bench/run smoke
echo "all tests passed"
