#!/usr/bin/env bash
# The C++ examples against each other (C++17 server with the C++20 client and the other
# way round) and against openssl s_client; each server then stops cleanly on SIGTERM.
#   examples-cpp/test.sh BUILD_DIR CERT_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$1 CERTS=$2
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

start_server() {  # STD OUTFILE: starts the server, sets PORT and SERVER
  : > "$2"
  : > "$2.err"
  "$BIN/nodetls-cpp-echo-server-cxx$1" --port 0 --key "$CERTS/server-ec-key.pem" \
    --cert "$CERTS/server-ec-cert.pem" --verbose > "$2" 2> "$2.err" &
  SERVER=$!
  pids+=("$SERVER")
  PORT=""
  for _ in $(seq 200); do
    PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$2")
    [ -n "$PORT" ] && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$PORT" ] || { echo "nodetls-cpp-echo-server-cxx$1 did not start" >&2; exit 1; }
}

stop_server() {  # SERVER: SIGTERM, then it must exit 0 within 10 s
  kill -TERM "$SERVER"
  for _ in $(seq 200); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$SERVER" 2>/dev/null; then
    echo "server $SERVER did not stop within 10 s" >&2; exit 1
  fi
  wait "$SERVER" || { echo "server exited with status $?" >&2; exit 1; }
}

OUT=$(mktemp -d)
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$OUT"' EXIT
for pair in "17 20" "20 17"; do
  set -- $pair
  start_server "$1" "$OUT/server$1"
  echo "== C++$2 client -> C++$1 echo server on port $PORT"
  timeout 30 "$BIN/nodetls-cpp-client-cxx$2" --host localhost --port "$PORT" --ca "$CERTS/ca-cert.pem" \
    --message "hello from C++$2" | tee "$OUT/client"
  grep -qx "echo:          hello from C++$2" "$OUT/client"
  grep -qx "authorized:    yes" "$OUT/client"
  echo "== openssl s_client -> C++$1 echo server"
  bash "$ROOT/scripts/s-client-echo.sh" "$PORT" "$CERTS/ca-cert.pem"
  # SIGTERM with a connection still open: the server ends it and waits for its close.
  secure=$(grep -c '^secure:' "$OUT/server$1.err" || true)
  # (-quiet ignores the end of input: s_client stays until the server closes.)
  timeout 30 openssl s_client -connect "127.0.0.1:$PORT" -quiet </dev/null >/dev/null 2>&1 &
  pids+=("$!")
  for _ in $(seq 200); do
    [ "$(grep -c '^secure:' "$OUT/server$1.err" || true)" -gt "$secure" ] && break
    sleep 0.05
  done
  stop_server
  echo "== C++$1 server stopped cleanly, with a connection open"
done
