#!/usr/bin/env bash
# Generates every certificate the tests use, with the openssl CLI, into DIR
# (default: target/test-certs). Nothing here is committed: certificates expire.
# Idempotent: an existing complete set (marker file, and every file in REQUIRED) is kept;
# a set made by an older version of this script, which lacks some, is made again.
set -euo pipefail
DIR="${1:-$(cd "$(dirname "$0")/.." && pwd)/target/test-certs}"
mkdir -p "$DIR"
cd "$DIR"
# Files added after the first version: their absence means an old set.
REQUIRED=(ca-cert.pem server-ec-cert.pem ca-crl.der
  ca2-cert.pem client2-cert.pem server-ca2-cert.pem client-ca2-cert.pem client-chained-chain.pem
  client-selfsigned-cert.pem cn-only-cert.pem ip-only-cert.pem wildcard-cert.pem
  sni-a-cert.pem test-wild-cert.pem v1-cert.pem pathlen-chain.pem notca-chain.pem
  utf8-cert.pem selfsigned-nokcs-cert.pem nul-san-cert.pem server-ec-cert-nonl.pem ca-cert-x509.pem server-ec.pfx
  server-ec-ocsp.der server-rsa1024-cert.pem)
complete() {
  [ -f .complete ] || return 1
  for f in "${REQUIRED[@]}"; do [ -f "$f" ] || return 1; done
}
complete && exit 0
rm -rf ./* ./.complete 2>/dev/null || true

ossl() { openssl "$@" 2>/dev/null; }

# Extensions for a leaf: SANs given in $1 (none when empty).
leaf_ext() {
  cat > "$2" <<EXT
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
EXT
  [ -z "$1" ] || echo "subjectAltName=$1" >> "$2"
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
    rsa1024) ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$name-key.pem" ;;
    ec) ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name-key.pem" ;;
    ed25519) ossl genpkey -algorithm ED25519 -out "$name-key.pem" ;;
  esac
  ossl req -new -utf8 -key "$name-key.pem" -subj "$subj" -out "$name.csr"
  leaf_ext "$san" "$name.ext"
  ossl x509 -req -in "$name.csr" -CA "$issuer-cert.pem" -CAkey "$issuer-key.pem" -CAcreateserial \
    -days 825 -sha256 -extfile "$name.ext" -out "$name-cert.pem"
  cat "$name-cert.pem" > "$name-chain.pem"
  [ "$issuer" = ca ] || [ "$issuer" = ca2 ] || cat "$issuer-chain.pem" >> "$name-chain.pem" 2>/dev/null \
    || cat "$issuer-cert.pem" >> "$name-chain.pem"
  rm -f "$name.csr" "$name.ext"
}

LOCAL_SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
sign server-rsa "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" rsa
# A 1024-bit RSA key: below OpenSSL 3's default security level (test-tls-reduced-SECLEVEL-in-cipher).
sign server-rsa1024 "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" rsa1024
sign server-ec "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ec
sign server-ed25519 "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ed25519
sign client "/C=US/O=nodetls test/CN=test client" "DNS:client.test" ec
sign wronghost "/C=US/O=nodetls test/CN=wrong.example.com" "DNS:wrong.example.com" ec

# A second, unrelated root CA and a client certificate it signs (SNI contexts with their own ca).
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca2-key.pem -out ca2-cert.pem \
  -days 3650 -subj "/C=US/O=nodetls test/CN=nodetls Test CA 2" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
sign client2 "/C=US/O=nodetls test/CN=test client 2" "DNS:client2.test" ec ca2

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

# ---- Encrypted keys, PKCS#12 and CRLs (key-material tests: src/tls/keys*) ----
# Passphrase everywhere: "secret".
# Encrypted PKCS#8 (PBES2): AES-256-CBC with OpenSSL 3's default PRF (HMAC-SHA256), one with
# the HMAC-SHA1 PRF older OpenSSL wrote, and one PBES1 (PKCS#12 3DES) that is refused.
ossl pkcs8 -topk8 -v2 aes-256-cbc -in server-rsa-key.pem -passout pass:secret -out server-rsa-key-enc.pem
ossl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA1 -in server-ec-key.pem -passout pass:secret \
  -out server-ec-key-enc-sha1.pem
ossl pkcs8 -topk8 -v2 aes-128-cbc -in server-ed25519-key.pem -passout pass:secret \
  -out server-ed25519-key-enc.pem
ossl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in server-ec-key.pem -passout pass:secret -out server-ec-key-enc-pbes1.pem
# Legacy OpenSSL PEM encryption (Proc-Type/DEK-Info headers) of PKCS#1 and SEC1 keys.
ossl rsa -in server-rsa-key.pem -aes256 -traditional -passout pass:secret -out server-rsa-key-legacy-aes256.pem
ossl rsa -in server-rsa-key.pem -des3 -traditional -passout pass:secret -out server-rsa-key-legacy-des3.pem
ossl ec -in server-ec-key.pem -aes128 -passout pass:secret -out server-ec-key-legacy-aes128.pem
ossl ec -in server-ec-key.pem -aes192 -passout pass:secret -out server-ec-key-legacy-aes192.pem
# Key types rustls cannot sign with: DSA (traditional and PKCS#8) and Ed448.
ossl dsaparam -out dsa.param 1024
ossl gendsa -out dsa-key.pem dsa.param
ossl pkey -in dsa-key.pem -traditional -out dsa-key-traditional.pem
ossl genpkey -algorithm ED448 -out ed448-key.pem
rm -f dsa.param
# PKCS#12: OpenSSL 3's default (PBES2/AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC), the -legacy
# one (RC2/3DES, SHA-1 MAC), one with an empty passphrase, and one with no key.
ossl pkcs12 -export -inkey server-rsa-key.pem -in server-rsa-cert.pem -certfile ca-cert.pem \
  -passout pass:secret -out server-rsa.pfx
ossl pkcs12 -export -legacy -inkey server-ec-key.pem -in server-ec-cert.pem -certfile ca-cert.pem \
  -passout pass:secret -out server-ec-legacy.pfx
ossl pkcs12 -export -inkey server-ec-key.pem -in server-ec-cert.pem -passout pass: -out server-ec-nopass.pfx
ossl pkcs12 -export -inkey server-ec-key.pem -in server-ec-cert.pem -passout pass:secret -out server-ec.pfx
ossl pkcs12 -export -nokeys -in ca-cert.pem -passout pass:secret -out ca-only.pfx
# A leaf the CA revokes, and the CA's CRLs (v2, with a CRL number) before and after revoking it.
cat > ca-db/crl.cnf <<CNF
[ca]
default_ca = crl_ca
[crl_ca]
dir = $DIR/ca-db
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
default_md = sha256
default_days = 825
default_crl_days = 3650
policy = policy_any
unique_subject = no
copy_extensions = copy
crl_extensions = crl_ext
[policy_any]
commonName = supplied
[crl_ext]
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$LOCAL_SAN
CNF
echo 1000 > ca-db/crlnumber
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out revoked-key.pem
ossl req -new -key revoked-key.pem -subj "/C=US/O=nodetls test/CN=localhost" -out revoked.csr
ossl ca -batch -config ca-db/crl.cnf -cert ca-cert.pem -keyfile ca-key.pem -in revoked.csr \
  -extensions leaf -notext -out revoked-cert.pem
rm -f revoked.csr
ossl ca -config ca-db/crl.cnf -cert ca-cert.pem -keyfile ca-key.pem -gencrl -out ca-crl-empty.pem
ossl ca -config ca-db/crl.cnf -cert ca-cert.pem -keyfile ca-key.pem -revoke revoked-cert.pem
ossl ca -config ca-db/crl.cnf -cert ca-cert.pem -keyfile ca-key.pem -gencrl -out ca-crl.pem
ossl crl -in ca-crl.pem -outform DER -out ca-crl.der

# ---- Certificates of the Node conformance scenarios (conformance/scenarios.txt) ----
# Under the second root CA (made above): a leaf for localhost and a client certificate.
sign server-ca2 "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ec ca2
sign client-ca2 "/C=US/O=nodetls test/CN=ca2 client" "DNS:client.test" ec ca2
# A client certificate under the intermediate (chain = leaf + intermediate).
sign client-chained "/C=US/O=nodetls test/CN=chained client" "DNS:client.test" ec inter
# self_signed NAME SUBJECT EXTENSIONS: a self-signed EC leaf with exactly these extensions.
self_signed() {
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1-key.pem"
  ossl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr"
  printf '%b' "$3" > "$1.ext"
  ossl x509 -req -in "$1.csr" -signkey "$1-key.pem" -days 825 -sha256 -extfile "$1.ext" -out "$1-cert.pem"
  rm -f "$1.csr" "$1.ext"
}
# A self-signed client certificate with a URI alt name (Node's foafssl test).
self_signed client-selfsigned "/CN=self-signed client" \
  'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:http://example.com/\\#me\n'
# Host-name identity: only a CN, only an IP alt name, a wildcard, SNI names.
sign cn-only "/C=US/O=nodetls test/CN=localhost" "" ec
sign ip-only "/C=US/O=nodetls test/CN=ip-only.test" "IP:127.0.0.1" ec
sign wildcard "/C=US/O=nodetls test/CN=*.example.com" "DNS:*.example.com" ec
sign sni-a "/C=US/O=nodetls test/CN=a.example.com" "DNS:a.example.com" ec
sign test-wild "/C=US/O=nodetls test/CN=*.test.com" "DNS:*.test.com" ec
# An X.509 v1 leaf (no extensions at all), CN=localhost.
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out v1-key.pem
ossl req -new -key v1-key.pem -subj "/C=US/O=nodetls test/CN=localhost" -out v1.csr
ossl x509 -req -in v1.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 825 -sha256 -out v1-cert.pem
rm -f v1.csr
# sub_ca NAME SUBJECT ISSUER BASIC_CONSTRAINTS: an intermediate with the given constraints.
sub_ca() {
  local name=$1 subj=$2 issuer=$3 bc=$4
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name-key.pem"
  ossl req -new -key "$name-key.pem" -subj "$subj" -out "$name.csr"
  printf 'basicConstraints=%s\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' "$bc" > "$name.ext"
  ossl x509 -req -in "$name.csr" -CA "$issuer-cert.pem" -CAkey "$issuer-key.pem" -CAcreateserial -days 1825 \
    -sha256 -extfile "$name.ext" -out "$name-cert.pem"
  cat "$name-cert.pem" > "$name-chain.pem"
  [ "$issuer" = ca ] || cat "$issuer-chain.pem" >> "$name-chain.pem"
  rm -f "$name.csr" "$name.ext"
}
# A path-length violation: root -> pl-inter (pathlen:0) -> pl-sub -> leaf.
sub_ca pl-inter "/C=US/O=nodetls test/CN=pathlen 0 intermediate" ca "critical,CA:TRUE,pathlen:0"
sub_ca pl-sub "/C=US/O=nodetls test/CN=below pathlen 0" pl-inter "critical,CA:TRUE"
sign pathlen "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ec pl-sub
# An intermediate that is not a CA (CA:FALSE) signing a leaf.
sub_ca notca-inter "/C=US/O=nodetls test/CN=not a CA" ca "critical,CA:FALSE"
sign notca "/C=US/O=nodetls test/CN=localhost" "$LOCAL_SAN" ec notca-inter
# A subject in UTF-8 with two OUs and an email address.
sign utf8 "/C=US/O=nodetls test/OU=Test TLS Certificate/OU=Engineering/CN=Ádám Lippai/emailAddress=adam@example.com" \
  "$LOCAL_SAN" ec
# A self-signed leaf without keyCertSign and without basicConstraints (Node's #37889).
self_signed selfsigned-nokcs "/CN=localhost" \
  'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n'
# A DNS alt name with an embedded NUL (CVE-2009-2408, Node's 0-dns test), written as DER.
cat > nul-san.asn <<ASN
asn1=SEQUENCE:names
[names]
n1=IMPLICIT:2,FORMAT:HEX,OCTETSTRING:676f6f642e6578616d706c652e6f7267002e6576696c2e6578616d706c652e636f6d
n2=IMPLICIT:2,IA5STRING:just-another.example.com
n3=IMPLICIT:7,FORMAT:HEX,OCTETSTRING:08080808
n4=IMPLICIT:7,FORMAT:HEX,OCTETSTRING:08080404
n5=IMPLICIT:2,IA5STRING:last.example.com
ASN
ossl asn1parse -genconf nul-san.asn -noout -out nul-san.der
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n2.5.29.17=DER:%s\n' \
  "$(od -An -v -tx1 nul-san.der | tr -s ' \n' ':' | sed 's/^://;s/:$//')" > nul-san.ext
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out nul-san-key.pem
ossl req -new -key nul-san-key.pem -subj "/C=US/O=nodetls test/CN=nul-san.test" -out nul-san.csr
ossl x509 -req -in nul-san.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 825 -sha256 \
  -extfile nul-san.ext -out nul-san-cert.pem
rm -f nul-san.asn nul-san.der nul-san.ext nul-san.csr
# PEM text variants: no final newline (Node's test-tls-cert-regression), other labels for the
# same certificate (test-tls-client-auth: "TRUSTED CERTIFICATE", "X509 CERTIFICATE").
head -c -1 server-ec-cert.pem > server-ec-cert-nonl.pem
head -c -1 server-ec-key.pem > server-ec-key-nonl.pem
sed 's/CERTIFICATE/TRUSTED CERTIFICATE/' ca-cert.pem > ca-cert-trusted.pem
sed 's/CERTIFICATE/X509 CERTIFICATE/' ca-cert.pem > ca-cert-x509.pem

# OCSP: a "good" response for server-ec's certificate, signed by the test CA with openssl's
# own responder over an index of just that certificate; DER copies for byte comparisons.
ossl x509 -in server-ec-cert.pem -outform der -out server-ec-cert.der
ossl x509 -in ca-cert.pem -outform der -out ca-cert.der
mkdir -p ocsp-db
printf 'V\t%s\t\t%s\tunknown\t%s\n' "$(date -u -d '+825 days' +%y%m%d%H%M%SZ)" \
  "$(openssl x509 -in server-ec-cert.pem -noout -serial | cut -d= -f2)" \
  "$(openssl x509 -in server-ec-cert.pem -noout -subject -nameopt compat | sed 's/^subject=//')" > ocsp-db/index.txt
ossl ocsp -issuer ca-cert.pem -cert server-ec-cert.pem -no_nonce -reqout ocsp-db/req.der
ossl ocsp -index ocsp-db/index.txt -rsigner ca-cert.pem -rkey ca-key.pem -CA ca-cert.pem \
  -reqin ocsp-db/req.der -ndays 825 -respout server-ec-ocsp.der

touch .complete
echo "test certificates in $DIR"
