#!/usr/bin/env bash
# The README's "Hello, TLS" program, compiled exactly as written (-Wall -Wextra -Werror,
# C11), run, echoed through openssl s_client, and stopped with SIGTERM: it must exit 0.
#   scripts/test-readme.sh   (after the library is built: target/release/libnodetls.so)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$OUT"' EXIT
pid=""
awk '/^## Hello, TLS/{h=1} h&&/^```c$/{c=1;next} c&&/^```$/{exit} c{print}' README.md > "$OUT/hello.c"
[ -s "$OUT/hello.c" ] || { echo "test-readme: no C block under 'Hello, TLS'" >&2; exit 1; }
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -I"$ROOT/include" "$OUT/hello.c" -o "$OUT/hello" \
  -L"$ROOT/target/release" -lnodetls -Wl,-rpath,"$ROOT/target/release"
bash scripts/gen-certs.sh >/dev/null
CERTS=$ROOT/target/test-certs
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$OUT/hello" "$CERTS/server-ec-key.pem" "$CERTS/server-ec-cert.pem" "$port" > "$OUT/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "serving on" "$OUT/out" 2>/dev/null && break; sleep 0.05; done
grep -q "serving on 127.0.0.1:$port" "$OUT/out" || { cat "$OUT/out" >&2; exit 1; }
bash scripts/s-client-echo.sh "$port" "$CERTS/ca-cert.pem" "hello, README"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid"   # exits with the program's status: 0 after a clean stop
# A missing key file: the words name it, the exit status is 1.
if "$OUT/hello" /nonexistent.pem "$CERTS/server-ec-cert.pem" "$port" 2> "$OUT/err"; then exit 1; fi
grep -q "cannot read '/nonexistent.pem'" "$OUT/err" || { cat "$OUT/err" >&2; exit 1; }
echo "README program: built as written, echoed, stopped on SIGTERM"
