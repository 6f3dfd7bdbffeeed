#!/usr/bin/env bash
# Builds nodetls and its C examples, then runs the echo server and the client against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/gen-certs.sh >/dev/null
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release
bash examples-c/demo.sh build/release
