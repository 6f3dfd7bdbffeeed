#!/usr/bin/env bash
# Sends one line to a TLS echo server through `openssl s_client` (certificate verified for
# localhost against CA) and checks that the same line comes back; then ends the session.
#   scripts/s-client-echo.sh PORT CA.pem [LINE]
# Bounded: 10 s for the echo, 5 s for s_client to finish. Exit 0 on a verified echo.
set -euo pipefail
PORT=$1 CA=$2 LINE=${3:-"hello from openssl s_client"}
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT
coproc SCLIENT { exec timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CA" \
  -verify_hostname localhost -verify_return_error -quiet -no_ign_eof 2>"$ERR"; }
pid=$SCLIENT_PID
# Our own copies of the pipes (bash drops SCLIENT[] as soon as s_client exits), and the
# originals closed, so that closing `to` below is the end of s_client's input.
exec {to}>&"${SCLIENT[1]}" {from}<&"${SCLIENT[0]}"
eval "exec ${SCLIENT[1]}>&- ${SCLIENT[0]}<&-"
printf '%s\n' "$LINE" >&"$to" 2>/dev/null || true
got=""
read -r -t 10 got <&"$from" || true
exec {to}>&-   # end of input: s_client sends close_notify and exits
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ "$got" != "$LINE" ]; then
  echo "s_client: expected '$LINE' back from 127.0.0.1:$PORT, got '$got'; s_client said:" >&2
  sed 's/^/  /' "$ERR" >&2
  exit 1
fi
echo "s_client: '$got' echoed by 127.0.0.1:$PORT"
