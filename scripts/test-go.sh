#!/usr/bin/env bash
# The Go binding, built the way a user builds it: the library installed with
# `cmake --install` into a temporary prefix and found through pkg-config (nothing else
# tells cgo where it is). Then go vet, go test -race, and the two programs of
# bindings/go/README.md, copied out of it into a module of their own: the HTTPS server
# answering curl, the client asking openssl s_server.
#   scripts/test-go.sh [BUILD_DIR]     (default build/release, configured and built)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build/release}" && pwd)
CERTS=$ROOT/target/test-certs
[ -f "$BUILD/CMakeCache.txt" ] || { echo "test-go: configure and build $BUILD first" >&2; exit 1; }
[ -f "$CERTS/.complete" ] || bash "$ROOT/scripts/gen-certs.sh"

WORK=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "test-go: $*" >&2; exit 1; }
START=$(date +%s)
step() { echo "== $1 ($(($(date +%s) - START)) s)"; }

cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
export PKG_CONFIG_PATH=$WORK/prefix/lib/pkgconfig LD_LIBRARY_PATH=$WORK/prefix/lib
export GOFLAGS=-mod=mod
unset CGO_CFLAGS CGO_LDFLAGS
pkg-config --exists nodetls || fail "no nodetls.pc in $PKG_CONFIG_PATH"
step "installed into a temporary prefix; building through pkg-config"

cd "$ROOT/bindings/go"
[ -z "$(gofmt -l .)" ] || fail "gofmt: $(gofmt -l .)"
go vet ./...
step "go vet"
go test -race -count=1 -timeout 300s ./...
step "go test -race"

# block TITLE: the Go code block under "## TITLE" of the binding's README.
block() {
  awk -v t="## $1" '$0==t{h=1;next} h&&/^## /{exit} h&&/^```go$/{c=1;next} c&&/^```$/{exit} c{print}' "$ROOT/bindings/go/README.md"
}
# app NAME TITLE: a fresh module holding that block, built as the README's commands build it.
app() {
  local dir=$WORK/$1
  mkdir -p "$dir"
  block "$2" > "$dir/main.go"
  [ -s "$dir/main.go" ] || fail "no Go block under '## $2' in bindings/go/README.md"
  (cd "$dir" && go mod init "example.com/$1" >/dev/null 2>&1 &&
    go mod edit -replace github.com/nodetls/nodetls-go="$ROOT/bindings/go" && go mod tidy >/dev/null 2>&1 &&
    go build -o "$1" .) || fail "README's '$2' does not build"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

app server "An HTTPS server"
cp "$CERTS/server-ec-key.pem" "$WORK/server/key.pem"
cp "$CERTS/server-ec-cert.pem" "$WORK/server/cert.pem"
(cd "$WORK/server" && exec ./server -addr 127.0.0.1:0) > "$WORK/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "serving on" "$WORK/server.log" && break; sleep 0.05; done
port=$(sed -n 's/.*serving on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/server.log")
[ -n "$port" ] || { cat "$WORK/server.log" >&2; fail "the README's server did not start"; }
answer=$(curl -sS --max-time 10 --cacert "$CERTS/ca-cert.pem" --resolve "localhost:$port:127.0.0.1" "https://localhost:$port/")
[ "$answer" = "hello over HTTP/1.1" ] || fail "the README's server answered curl '$answer'"
step "README server: built through pkg-config, answered curl"

app client "A client"
sport=$(free_port)
openssl s_server -quiet -www -accept "$sport" -cert "$CERTS/server-ec-cert.pem" -key "$CERTS/server-ec-key.pem" \
  > "$WORK/s_server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && break; sleep 0.05; done
timeout 20 "$WORK/client/client" -addr "localhost:$sport" -ca "$CERTS/ca-cert.pem" > "$WORK/client.out" 2>&1 ||
  { cat "$WORK/client.out" >&2; fail "the README's client failed against openssl s_server"; }
head -1 "$WORK/client.out" | grep -q "^TLS 1.3, TLS_" || fail "client printed: $(head -1 "$WORK/client.out")"
grep -q "HTTP/1.0 200 ok" "$WORK/client.out" || fail "client did not get s_server's page: $(head -3 "$WORK/client.out")"
# And a certificate it must refuse: the error is the *CertificateError branch.
if timeout 20 "$WORK/client/client" -addr "localhost:$sport" > "$WORK/client.err" 2>&1; then
  fail "the client trusted a test certificate without -ca"
fi
grep -q "does not verify: UNABLE_TO_VERIFY_LEAF_SIGNATURE" "$WORK/client.err" || fail "client without -ca: $(cat "$WORK/client.err")"
step "README client: asked openssl s_server, refused an unknown CA with Node's code"
echo "Go binding: vet, race tests and the README's programs passed"
