#!/usr/bin/env bash
# The soak: nodetls-echo-server (examples-c) and CONNECTIONS nodetls clients
# (c-tests/faults/soak_client.c) echoing messages of random size, every byte checked, for
# SECONDS; the server's RSS is sampled every SECONDS/12 s and printed.
#
#   bash scripts/soak.sh [SECONDS [CONNECTIONS [SERVER_BIN CLIENT_BIN]]]   (600 2000: the long run)
#
# Fails on any byte lost or corrupted, any error, or a server RSS that grows after warm-up
# (the first quarter of the run): the last sample may exceed the first after warm-up by at most
# 10% + 8 MiB. The test command runs `soak.sh 60 2000` (CTest faults_soak_60s).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_=${1:-600}
CONNS=${2:-2000}
SERVER=${3:-build/release/examples-c/nodetls-echo-server}
CLIENT=${4:-build/release/c-tests/faults/fault_soak_client}
CERTS=target/test-certs
[ -x "$SERVER" ] && [ -x "$CLIENT" ] || { echo "soak: build first (cmake --build build/release)" >&2; exit 2; }
ulimit -n "$(( $(ulimit -Hn) < 20000 ? $(ulimit -Hn) : 20000 ))" 2>/dev/null || true

out=$(mktemp)
"$SERVER" --port 0 --key "$CERTS/server-ec-key.pem" --cert "$CERTS/server-ec-cert.pem" >"$out" &
srv=$!
trap 'kill $srv 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
[ -n "$port" ] || { echo "soak: server did not start" >&2; exit 1; }

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$srv/status"; }
echo "soak: ${SECONDS_} s, ${CONNS} connections, server pid $srv on port $port; idle RSS $(rss_kib) KiB"
"$CLIENT" "$port" "$SECONDS_" "$CONNS" &
cli=$!
step=$(( SECONDS_ / 12 > 0 ? SECONDS_ / 12 : 1 ))
samples=()
for ((t = step; t <= SECONDS_; t += step)); do
  sleep "$step"
  kill -0 $cli 2>/dev/null || break
  r=$(rss_kib); samples+=("$t:$r")
  echo "soak: t=${t}s server RSS ${r} KiB"
done
rc=0; wait $cli || rc=$?
echo "soak: after the clients closed, server RSS $(rss_kib) KiB"
kill -TERM $srv; wait $srv || { echo "soak: the server did not stop cleanly" >&2; rc=1; }
trap - EXIT; rm -f "$out"

# RSS flat after warm-up: the first sample past the first quarter against the last one.
warm=$(( SECONDS_ / 4 ))
first=""; last=""
for s in "${samples[@]}"; do
  t=${s%%:*}; r=${s##*:}
  if [ "$t" -ge "$warm" ] && [ -z "$first" ]; then first=$r; fi
  last=$r
done
if [ -n "$first" ] && [ "$last" -gt $(( first + first / 10 + 8192 )) ]; then
  echo "soak: RSS grew after warm-up: $first KiB -> $last KiB" >&2; rc=1
fi
[ -n "$first" ] && echo "soak: RSS after warm-up $first KiB, at the end $last KiB"
[ $rc -eq 0 ] && echo "soak: passed" || echo "soak: FAILED" >&2
exit $rc
