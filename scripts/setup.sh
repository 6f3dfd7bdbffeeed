#!/usr/bin/env bash
# Installs what a fresh machine lacks for building and testing nodetls, checking first
# what is there: Debian packages through apt-get (testssl.sh among them), cbindgen through
# cargo, pytest, sslyze and tlslite-ng through pip.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have cmake || need_apt+=(cmake)
have ninja || need_apt+=(ninja-build)
have g++ || need_apt+=(g++)
have nm || need_apt+=(binutils)
have pkg-config || need_apt+=(pkg-config)
have openssl || need_apt+=(openssl)
have curl || need_apt+=(curl)
have gnutls-cli || need_apt+=(gnutls-bin)
have taskset || need_apt+=(util-linux)
have valgrind || need_apt+=(valgrind)
have systemd-socket-activate || need_apt+=(systemd)
have node || need_apt+=(nodejs)
have go || need_apt+=(golang-go)
have python3 || need_apt+=(python3 python3-pip)
have redis-server || need_apt+=(redis-server)
# tshark decrypts captured sessions with the SSLKEYLOGFILE lines (c-tests/wire.c); its
# debconf question (may non-root users capture?) is answered "no" so the install never asks.
have tshark || need_apt+=(tshark)
have testssl || need_apt+=(testssl.sh)
# The Python binding's packaging test makes a venv (Debian ships venv's ensurepip apart).
have python3 && ! python3 -c "import ensurepip, venv" 2>/dev/null && need_apt+=(python3-venv)
# libuv for the pair example that runs TLS inside a libuv loop (examples-c/pair_libuv.c).
dpkg -s libuv1-dev >/dev/null 2>&1 || need_apt+=(libuv1-dev)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# cbindgen >= 0.29 (older ones cannot parse the crate's Rust 2021 syntax).
cb_ok=0
if have cbindgen; then
  v=$(cbindgen --version | awk '{print $2}')
  minor=$(echo "$v" | cut -d. -f2)
  [ "$(echo "$v" | cut -d. -f1)" -gt 0 ] || [ "$minor" -ge 29 ] && cb_ok=1
fi
if [ $cb_ok -eq 0 ]; then
  echo "setup: installing cbindgen 0.29.4"
  cargo install cbindgen --version 0.29.4 --locked --quiet
fi

# bindings/go's go.mod says go 1.26.0 (golang.org/x/net v0.62.0, for the HTTP/2 tests,
# needs it): Go 1.21 or newer fetches that toolchain from the module proxy by itself;
# Debian's older golang-go cannot.
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ "${go_minor:-0}" -lt 21 ]; then
  echo "setup: bindings/go needs Go 1.21 or newer (1.26 is used); this is $(go env GOVERSION)" >&2
  exit 1
fi

# The fuzz targets and the sanitizer runs (scripts/fuzz.sh, asan.sh, miri.sh): the nightly
# toolchain with rust-src (-Zbuild-std) and miri, and cargo-fuzz.
if have rustup; then
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  installed=$(rustup component list --toolchain nightly --installed)
  for c in rust-src miri; do
    echo "$installed" | grep -q "^$c" || rustup component add "$c" --toolchain nightly
  done
fi
have cargo-fuzz || { echo "setup: installing cargo-fuzz"; cargo install cargo-fuzz --locked --quiet; }

python3 -c "import pytest" 2>/dev/null || python3 -m pip install --quiet pytest
# The scanner and the independent TLS peer of the fault suite (c-tests/faults/scanners.py).
py_need=()
python3 -c "import sslyze" 2>/dev/null || py_need+=(sslyze)
python3 -c "import tlslite" 2>/dev/null || py_need+=(tlslite-ng)
if [ ${#py_need[@]} -gt 0 ]; then
  echo "setup: installing ${py_need[*]} (pip)"
  python3 -m pip install --quiet "${py_need[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "${py_need[@]}"
fi
echo "setup: ready"
