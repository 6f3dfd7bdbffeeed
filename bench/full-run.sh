#!/usr/bin/env bash
# Every figure of bench/RESULTS.md, in one go (about 15 minutes on 2 cores):
#   bench/full-run.sh > bench/results.log
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo; echo "\$ bench/run $*"; bench/run "$@"; }
run handshake --rounds 3 --duration 4 --no-ceilings
run handshake --resume --rounds 3 --duration 4 --no-ceilings
run handshake --cert rsa --rounds 3 --duration 4 --no-ceilings
run bulk --direction down --rounds 3 --no-ceilings
run bulk --direction up --rounds 3 --no-ceilings
run bulk --direction echo --rounds 3 --no-ceilings
run idle --connections 10000 --rounds 1 --no-ceilings
run latency --concurrency 64 --size 64 --rounds 3 --duration 4 --no-ceilings
run idle --connections 19000 --rounds 1 --servers nodetls --no-ceilings
run bulk --direction down --rounds 3 --servers nodetls --no-ceilings
run bulk --direction down --rounds 3 --servers nodetls --writer-thread --no-ceilings
run handshake --rounds 1 --duration 2 --servers nodetls,node   # with the openssl speed ceilings
