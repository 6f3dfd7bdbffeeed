#!/usr/bin/env bash
# Starts nodetls-echo-server on a free port with the test certificates, runs nodetls-client
# against it, and stops the server. Argument: the CMake build directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
CERTS=$ROOT/target/test-certs
OUT=$(mktemp)
"$BUILD/examples-c/nodetls-echo-server" --port 0 --key "$CERTS/server-ec-key.pem" \
  --cert "$CERTS/server-ec-cert.pem" --alpn h2,http/1.1 > "$OUT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 100); do grep -q listening "$OUT" && break; sleep 0.05; done
PORT=$(sed -n 's/listening on .*:\([0-9]*\)/\1/p' "$OUT")
if [ -z "$PORT" ]; then
  echo "== nodetls-echo-server did not start (built? certificates in $CERTS?)" >&2
  exit 1
fi
echo "== nodetls-echo-server listening on 127.0.0.1:$PORT"
echo "== nodetls-client --host localhost --port $PORT --ca ca-cert.pem --alpn http/1.1"
"$BUILD/examples-c/nodetls-client" --host localhost --port "$PORT" --ca "$CERTS/ca-cert.pem" \
  --alpn http/1.1 --message "hello, TLS"
kill -TERM $SERVER
wait $SERVER
echo "== server stopped cleanly"
