#!/usr/bin/env bash
# Runs one of the pair examples (nodetls-pair-epoll, nodetls-pair-libuv) against Node's tls
# client: 4 connections at once each echoing 4 MiB with backpressure (checked byte for byte,
# with authorized/ALPN/protocol), Node's client that vanishes mid-echo, and plain HTTP to the
# port (ERR_SSL_HTTP_REQUEST on the example's stderr); then SIGTERM, a clean exit with no
# connection left open, and a peak RSS that shows the echo was bounded (printed).
# usage: test-pair-example.sh EXAMPLE_BINARY CERT_DIR PEERS_DIR
set -euo pipefail
bin=$1 certs=$2 peers=$3
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" "$certs/server-ec-key.pem" "$certs/server-ec-cert.pem" 0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -qs "^listening on" "$work/out" && break; sleep 0.05; done
port=$(awk '/^listening on/ {print $3}' "$work/out")
[ -n "$port" ] || { echo "no port"; cat "$work/err"; exit 1; }

timeout 60 node "$peers/bulk_echo_client.js" "$port" "$certs/ca-cert.pem" $((4 << 20)) 4 | tee "$work/bulk"
grep -q '"ok":true' "$work/bulk"

# A client that vanishes halfway through its echo: the example must drop that connection.
timeout 30 node -e '
  const tls = require("tls"), fs = require("fs");
  const s = tls.connect({ port: +process.argv[1], host: "127.0.0.1", servername: "localhost",
                          ca: fs.readFileSync(process.argv[2]) }, () => {
    s.write(Buffer.alloc(1 << 20, 7));
    s.once("data", () => { s.destroy(); console.log("vanished mid-echo"); });
    s.on("error", () => {});
  });' "$port" "$certs/ca-cert.pem"

# Plain HTTP to the TLS port: Node'"'"'s code on the pair's error event.
exec 3<>"/dev/tcp/127.0.0.1/$port"
# The server may close after the first line it reads: later writes must not kill this script.
(trap '' PIPE; printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' >&3) || true
timeout 5 cat <&3 >/dev/null || true
exec 3<&-
for _ in $(seq 100); do grep -q ERR_SSL_HTTP_REQUEST "$work/err" && break; sleep 0.05; done
grep -q ERR_SSL_HTTP_REQUEST "$work/err" || { echo "no ERR_SSL_HTTP_REQUEST"; cat "$work/err"; exit 1; }

sleep 0.2
kill -TERM "$pid"
wait "$pid"
cat "$work/out"
grep -q 'served 6 connections, 0 open at exit' "$work/out"
rss=$(sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$work/out")
echo "peak RSS ${rss} KiB for 16 MiB echoed through 4 pairs at once"
[ "$rss" -lt 65536 ] # an unbounded echo would hold the whole 16 MiB (and more) in memory
