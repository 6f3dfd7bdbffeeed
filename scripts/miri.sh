#!/usr/bin/env bash
# Miri (nightly) on the library's unit tests of the modules with no FFI and no I/O: the
# handle registry (its unsafe reads of lent objects, its locks from two threads), the option
# table, the OpenSSL cipher-string rules, the raw ClientHello parser, TLS versions, curves,
# SNI patterns, error codes and words, and host-name identity's string rules. Anything that
# reaches aws-lc (C: every signature, digest and certificate fingerprint, so PeerCert and
# key loading), a socket, a file or a child process (the tests that compare with Node or
# openssl) cannot run under Miri and is skipped by name below.
#
#   scripts/miri.sh            the modules below
#   scripts/miri.sh FILTER...  only tests whose path contains a FILTER
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(ffi::handles options:: tls::ciphers tls::client_hello tls::versions tls::curves
  tls::sni error:: last_error tls::dhparam tls::x509::text)
# Tests of those modules that call aws-lc, read files or start a peer.
skip=(
  --skip ciphers_vs_node           # starts node
  --skip dhparam                   # parses DH parameters with aws-lc
  --skip a_certificates_strings    # reads and parses a certificate (files, aws-lc digests)
  --skip lookup_cost               # a measurement, not a check
  --skip patterns_agree_with_nodes # starts node
  --skip rustls_hellos             # makes hellos with a rustls client (aws-lc)
)
[ $# -gt 0 ] && modules=("$@")
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
cargo +nightly miri test --lib --target-dir target/miri -- "${modules[@]}" "${skip[@]}"
