#!/usr/bin/env bash
# cargo fuzz on nodetls (nightly toolchain), targets in fuzz/fuzz_targets.
#
#   scripts/fuzz.sh smoke [SECONDS]          every target SECONDS (default 15): the test command's
#   scripts/fuzz.sh run [SECONDS] [TARGET..] long runs (default 300 s per target)
#   scripts/fuzz.sh seeds                    only (re)make the seeds drawn from target/test-certs
#
# Each target starts from its committed seeds (fuzz/seeds/TARGET; the ClientHellos that
# scripts/fuzz-seeds.sh captured, in seeds/server_conn, seed client_hello and secure_pair
# too) and its working corpus (fuzz/corpus/TARGET, not committed), where key files and
# certificates of target/test-certs are added as seeds (key material is never committed). A crash stops the run with a non-zero status and leaves
# the input in fuzz/artifacts/TARGET; each becomes a regression test beside the code it
# broke. The table printed at the end (also in target/fuzz-report.txt) gives, per target,
# the executions, libFuzzer's coverage (cov: edges, ft: features) and the crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
mode=${1:-smoke}
seconds=${2:-}
shift $(( $# > 2 ? 2 : $# ))
case "$mode" in
  smoke) seconds=${seconds:-15} ;;
  run) seconds=${seconds:-300} ;;
  seeds) ;;
  *) echo "usage: scripts/fuzz.sh smoke|run [SECONDS] [TARGET...] | seeds" >&2; exit 2 ;;
esac

bash scripts/gen-certs.sh >/dev/null
CERTS="$ROOT/target/test-certs"
export NODETLS_CERTS="$CERTS"

# Seeds from the test certificates: key material under each of its meanings, certificates
# as DER, alone and as chains (2-byte length before each).
python3 - "$CERTS" fuzz/corpus <<'PY'
import base64, os, re, sys
certs, out = sys.argv[1], sys.argv[2]
def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)
def ders(pem):
    return [base64.b64decode(b) for b in re.findall(rb"-----BEGIN [A-Z0-9 ]*CERTIFICATE-----(.*?)-----END", pem, re.S)]
for name in sorted(os.listdir(certs)):
    path = os.path.join(certs, name)
    if not os.path.isfile(path):
        continue
    data = open(path, "rb").read()
    if name.endswith(".pfx"):
        for choice in (3, 11):
            write("key_material", f"{choice}-{name}", bytes([choice]) + data)
    elif name.endswith(".der"):
        write("key_material", f"4-{name}", b"\x04" + data)
    elif name.endswith(".pem"):
        if b"PRIVATE KEY" in data:
            for choice in (0, 8):
                write("key_material", f"{choice}-{name}", bytes([choice]) + data)
            cert = re.sub(r"-key.*\.pem$", "-cert.pem", path)
            if os.path.exists(cert) and cert != path:
                write("key_material", f"5-{name}", b"\x05" + data + open(cert, "rb").read())
        if b"X509 CRL" in data:
            write("key_material", f"4-{name}", b"\x04" + data)
        found = ders(data)
        if found:
            write("key_material", f"1-{name}", b"\x01" + data)
            write("cert_object", name, found[0])
            if len(found) > 1:
                write("cert_object", "chain-" + name, b"".join(len(d).to_bytes(2, "big") + d for d in found))
PY
[ "$mode" = seeds ] && exit 0

cd fuzz
cargo fmt --check
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
echo "== fuzz: building ${#targets[@]} targets (nightly, ASan)"
cargo +nightly fuzz build -O >/dev/null

report="$ROOT/target/fuzz-report.txt"
printf '%-16s %8s %12s %8s %8s %8s  %s\n' target seconds executions cov ft crashes result > "$report"
failed=0
# Targets whose input is a client's first flight share the captured ClientHellos.
declare -A hello_seeded=([client_hello]=1 [secure_pair]=1)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t" "artifacts/$t"
  seeds=("seeds/$t")
  [ -n "${hello_seeded[$t]:-}" ] && seeds+=(seeds/server_conn)
  log="$ROOT/target/fuzz-$t.log"
  echo "== fuzz: $t for ${seconds}s"
  status=0
  # -timeout: an input that takes 20 s is a hang; -rss_limit_mb bounds memory; leaks of the
  # library's long-lived objects (the default loop, the registry) are not per input.
  cargo +nightly fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
    -close_fd_mask=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  line=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$line" | grep -o 'cov: [0-9]*' | awk '{print $2}')
  ft=$(echo "$line" | grep -o 'ft: [0-9]*' | awk '{print $2}')
  crashes=$(find "artifacts/$t" -type f | wc -l)
  result=ok
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    result="FAILED (log: target/fuzz-$t.log)"
    failed=1
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -5 || true
  fi
  printf '%-16s %8s %12s %8s %8s %8s  %s\n' "$t" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$result" | tee -a "$report"
done
cat "$report"
exit $failed
