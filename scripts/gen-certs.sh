#!/usr/bin/env bash
# Generates every certificate the tests use, with the openssl CLI, into DIR
# (default: target/test-certs). Nothing here is committed: certificates expire.
# Idempotent: an existing complete set (marker file) is kept.
set -euo pipefail
DIR="${1:-$(cd "$(dirname "$0")/.." && pwd)/target/test-certs}"
mkdir -p "$DIR"
cd "$DIR"
[ -f .complete ] && exit 0
rm -rf ./* ./.complete 2>/dev/null || true

ossl() { openssl "$@" 2>/dev/null; }

# Extensions for a leaf: SANs given in $1.
leaf_ext() {
  cat > "$2" <<EXT
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$1
EXT
}

# Root CA (RSA 2048) and an intermediate (ECDSA P-256).
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca-cert.pem -days 3650 \
  -subj "/C=US/O=nodetls test/CN=nodetls Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# sign NAME SUBJECT SAN KEYTYPE [ISSUER]: NAME-key.pem (PKCS#8), NAME-cert.pem, NAME-chain.pem
sign() {
  local name=$1 subj=$2 san=$3 keytype=$4 issuer=${5:-ca}
  case $keytype in
    rsa) ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name-key.pem" ;;
    ec) ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name-key.pem" ;;
    ed25519) ossl genpkey -algorithm ED25519 -out "$name-key.pem" ;;
  esac
  ossl req -new -key "$name-key.pem" -subj "$subj" -out "$name.csr"
  leaf_ext "$san" "$name.ext"
  ossl x509 -req -in "$name.csr" -CA "$issuer-cert.pem" -CAkey "$issuer-key.pem" -CAcreateserial \
    -days 825 -sha256 -extfile "$name.ext" -out "$name-cert.pem"
  cat "$name-cert.pem" > "$name-chain.pem"
  [ "$issuer" = ca ] || cat "$issuer-cert.pem" >> "$name-chain.pem"
  rm -f "$name.csr" "$name.ext"
}

LOCAL_SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
sign server-rsa "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" rsa
sign server-ec "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ec
sign server-ed25519 "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ed25519
sign client "/C=US/O=nodetls test/CN=test client" "DNS:client.test" ec
sign wronghost "/C=US/O=nodetls test/CN=wrong.example.com" "DNS:wrong.example.com" ec

# The same RSA key in PKCS#1 and the EC key in SEC1 form.
ossl pkey -in server-rsa-key.pem -traditional -out server-rsa-key-pkcs1.pem
ossl ec -in server-ec-key.pem -out server-ec-key-sec1.pem

# Intermediate CA and a leaf it signs (chain = leaf + intermediate).
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out inter-key.pem
ossl req -new -key inter-key.pem -subj "/C=US/O=nodetls test/CN=nodetls Intermediate" -out inter.csr
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > inter.ext
ossl x509 -req -in inter.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 1825 \
  -extfile inter.ext -out inter-cert.pem
rm -f inter.csr inter.ext
sign server-chained "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ec inter

# Self-signed leaf for localhost.
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout selfsigned-key.pem \
  -out selfsigned-cert.pem -days 825 -subj "/CN=localhost" \
  -addext "subjectAltName=$LOCAL_SAN"

# Expired leaf, signed by the CA (openssl ca lets us set dates in the past).
mkdir -p ca-db && : > ca-db/index.txt && echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
dir = $DIR/ca-db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
[policy_any]
commonName = supplied
[leaf]
basicConstraints=CA:FALSE
subjectAltName=$LOCAL_SAN
CNF
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out expired-key.pem
ossl req -new -key expired-key.pem -subj "/CN=localhost" -out expired.csr
ossl ca -batch -config ca-db/ca.cnf -cert ca-cert.pem -keyfile ca-key.pem -in expired.csr \
  -startdate 20200101000000Z -enddate 20210101000000Z -extensions leaf -notext -out expired-cert.pem
rm -f expired.csr

# A key that belongs to no certificate here (mismatch tests) and a broken PEM.
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other-key.pem
head -c 200 server-ec-cert.pem > broken-cert.pem

touch .complete
echo "test certificates in $DIR"
