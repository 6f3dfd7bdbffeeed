#!/usr/bin/env bash
# Captures the first flight (the ClientHello) of real TLS clients — Node, openssl s_client
# (TLS 1.3, TLS 1.2, with ALPN), curl, gnutls-cli and Go's crypto/tls — on a loopback
# listener that records the bytes of each connection's first record and closes, and writes
# them as seeds of the server_conn fuzz target (fuzz/seeds/server_conn, committed: they
# hold no secret). Rerun it when a client's hello should be refreshed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/seeds/server_conn
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${listener:-}" ] && kill "$listener" 2>/dev/null || true' EXIT

python3 - "$tmp/port" "$out" <<'PY' &
import socket, sys
port_file, out = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
open(port_file, "w").write(str(srv.getsockname()[1]))
srv.settimeout(60)
while True:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    conn.settimeout(5)
    name = conn.recv(64).decode().strip()  # the runner says who comes next
    conn.close()
    conn, _ = srv.accept()
    conn.settimeout(5)
    data = b""
    try:
        while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    conn.close()
    if data:
        # Mode byte 0: raw bytes from the first one on (see fuzz_targets/server_conn.rs).
        open(f"{out}/seed-{name}.bin", "wb").write(b"\x00" + data)
        print(f"fuzz-seeds: {name}: {len(data)} bytes", flush=True)
PY
listener=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")

capture() {
  local name=$1; shift
  printf '%s\n' "$name" | python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$port)); s.sendall(sys.stdin.buffer.read()); s.close()"
  timeout 10 "$@" >/dev/null 2>&1 </dev/null || true
}

capture node node -e "require('tls').connect({host:'127.0.0.1',port:$port,servername:'localhost',rejectUnauthorized:false,ALPNProtocols:['h2','http/1.1']}).on('error',()=>{})"
capture openssl-tls13 openssl s_client -connect "127.0.0.1:$port" -servername localhost
capture openssl-tls12 openssl s_client -connect "127.0.0.1:$port" -servername localhost -tls1_2
capture openssl-alpn openssl s_client -connect "127.0.0.1:$port" -servername localhost -alpn h2,http/1.1
capture curl curl -sk --max-time 5 --resolve "localhost:$port:127.0.0.1" "https://localhost:$port/"
capture gnutls gnutls-cli --insecure -p "$port" 127.0.0.1
cat > "$tmp/hello.go" <<GO
package main

import (
	"crypto/tls"
	"net"
	"time"
)

func main() {
	config := &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:$port", config)
	if err == nil {
		c.Close()
	}
}
GO
(cd "$tmp" && go mod init hello >/dev/null 2>&1 && go build -o hello hello.go) && capture go "$tmp/hello"
wait "$listener" 2>/dev/null || true
ls -l "$out"
