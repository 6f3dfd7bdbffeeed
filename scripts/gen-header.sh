#!/usr/bin/env bash
# Regenerates include/nodetls.h from the Rust sources.
set -euo pipefail
cd "$(dirname "$0")/.."
cbindgen --config cbindgen.toml --quiet --output include/nodetls.h
