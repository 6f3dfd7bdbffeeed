#!/usr/bin/env bash
# The `cargo` that scripts/asan.sh gives CMake: the library's build with AddressSanitizer
# (nightly, -Zsanitizer=address, for the target only so that build scripts and proc macros
# stay plain), its outputs copied to where CMake's build expects them (TARGET_DIR/release).
# CMake calls: cargo rustc --lib --release --manifest-path M --target-dir T -- <rustc args>
set -euo pipefail
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
args=() target_dir="" profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --target-dir) target_dir=$2; args+=("$1" "$2"); shift 2 ;;
    --) args+=(--target "$triple" -Zbuild-std "$@"); break ;;
    *) args+=("$1"); shift ;;
  esac
done
export RUSTFLAGS="-Zsanitizer=address ${RUSTFLAGS:-}"
export RUSTDOCFLAGS="-Zsanitizer=address"
cargo +nightly "${args[@]}"
mkdir -p "$target_dir/$profile"
for f in libnodetls.so libnodetls.a; do
  cp -p "$target_dir/$triple/$profile/$f" "$target_dir/$profile/$f.tmp"
  mv "$target_dir/$profile/$f.tmp" "$target_dir/$profile/$f"
done
# The SONAME link build.rs makes beside the library (in the target triple's directory here).
ln -sfn libnodetls.so "$target_dir/$profile/libnodetls.so.0"
