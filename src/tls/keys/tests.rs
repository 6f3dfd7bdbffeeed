//! Key material from the files scripts/gen-certs.sh writes: every format loads and pairs
//! with its certificate, and every refusal says which one it is.

use super::*;
use rustls_pki_types::PrivateKeyDer;
use std::path::PathBuf;
use std::sync::OnceLock;

pub(super) const PASS: Option<&[u8]> = Some(b"secret");

/// A file of the test certificate set, which is generated on first use.
pub(crate) fn read(name: &str) -> Vec<u8> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs"));
        if !dir.join(".complete").exists() {
            let status = std::process::Command::new("bash")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-certs.sh"))
                .arg(&dir)
                .status()
                .expect("run scripts/gen-certs.sh");
            assert!(status.success(), "scripts/gen-certs.sh failed");
        }
        dir
    });
    // Not regenerated here: other tests may be reading the set at this moment.
    std::fs::read(dir.join(name)).unwrap_or_else(|e| {
        panic!("{}/{name}: {e}; a set from an older gen-certs.sh? delete the directory", dir.display())
    })
}

/// Checks the variant (by its Debug name) and words of an error; returns its text.
pub(super) fn expect<T>(r: Result<T, KeyError>, variant: &str, words: &str) -> String {
    let Err(e) = r else { panic!("expected {variant} '{words}', got Ok") };
    let (debug, text) = (format!("{e:?}"), e.to_string());
    assert!(debug.starts_with(&format!("{variant}(")), "expected {variant}, got {debug}");
    assert!(text.contains(words), "expected '{words}' in '{text}'");
    text
}

fn key(name: &str, passphrase: Option<&[u8]>) -> Result<super::SecretKey, KeyError> {
    parse_private_key(&read(name), passphrase, "key")
}

pub(super) fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    parse_certificates(&read(name), "cert").unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `pem` with `from` replaced by `to`, for damaged variants of good files.
fn edited(name: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(read(name)).unwrap();
    assert!(text.contains(from), "{name} lacks '{from}'");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn every_key_format_loads_and_matches_its_certificate() {
    let (rsa, ec, ed) = ("server-rsa-cert.pem", "server-ec-cert.pem", "server-ed25519-cert.pem");
    for (key_file, cert_file, passphrase) in [
        ("server-rsa-key.pem", rsa, None),
        ("server-rsa-key-pkcs1.pem", rsa, None),
        ("server-ec-key.pem", ec, None),
        ("server-ec-key-sec1.pem", ec, None),
        ("server-ed25519-key.pem", ed, None),
        ("server-rsa-key-enc.pem", rsa, PASS),
        ("server-ec-key-enc-sha1.pem", ec, PASS),
        ("server-ed25519-key-enc.pem", ed, PASS),
        ("server-rsa-key-legacy-aes256.pem", rsa, PASS),
        ("server-rsa-key-legacy-des3.pem", rsa, PASS),
        ("server-ec-key-legacy-aes128.pem", ec, PASS),
        ("server-ec-key-legacy-aes192.pem", ec, PASS),
        ("server-chained-key.pem", "server-chained-chain.pem", None),
    ] {
        let k = key(key_file, passphrase).unwrap_or_else(|e| panic!("{key_file}: {e}"));
        let chain = certs(cert_file);
        certified_key(chain.clone(), k).unwrap_or_else(|e| panic!("{key_file} + {cert_file}: {e}"));
        // A passphrase given for a plain key is ignored, as in Node.
        if passphrase.is_none() {
            key(key_file, PASS).unwrap_or_else(|e| panic!("{key_file} with passphrase: {e}"));
        }
    }
}

#[test]
fn decrypted_keys_equal_their_plain_form() {
    for (encrypted, plain) in [
        ("server-rsa-key-enc.pem", "server-rsa-key.pem"),
        ("server-ec-key-enc-sha1.pem", "server-ec-key.pem"),
        ("server-ed25519-key-enc.pem", "server-ed25519-key.pem"),
        ("server-rsa-key-legacy-aes256.pem", "server-rsa-key-pkcs1.pem"),
        ("server-rsa-key-legacy-des3.pem", "server-rsa-key-pkcs1.pem"),
        ("server-ec-key-legacy-aes128.pem", "server-ec-key-sec1.pem"),
        ("server-ec-key-legacy-aes192.pem", "server-ec-key-sec1.pem"),
    ] {
        let (d, p) = (key(encrypted, PASS).unwrap(), key(plain, None).unwrap());
        assert_eq!(
            std::mem::discriminant::<PrivateKeyDer<'_>>(&d),
            std::mem::discriminant::<PrivateKeyDer<'_>>(&p),
            "{encrypted}"
        );
        assert_eq!(d.secret_der(), p.secret_der(), "{encrypted}");
    }
}

#[test]
fn combined_files_and_crlf_line_ends() {
    let combined = [read("server-ec-cert.pem"), read("server-ec-key-legacy-aes128.pem")].concat();
    let chain = parse_certificates(&combined, "cert").unwrap();
    let k = parse_private_key(&combined, PASS, "key").unwrap();
    certified_key(chain, k).unwrap();
    let crlf = |name| String::from_utf8(read(name)).unwrap().replace('\n', "\r\n").into_bytes();
    let chain = parse_certificates(&crlf("server-rsa-cert.pem"), "cert").unwrap();
    for name in ["server-rsa-key-legacy-aes256.pem", "server-rsa-key-enc.pem", "server-rsa-key-pkcs1.pem"] {
        certified_key(chain.clone(), parse_private_key(&crlf(name), PASS, "key").unwrap()).unwrap();
    }
}

#[test]
fn certificates_keep_their_order() {
    let chain = certs("server-chained-chain.pem");
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0], certs("server-chained-cert.pem")[0]);
    assert_eq!(chain[1], certs("inter-cert.pem")[0]);
}

#[test]
fn openssls_other_certificate_labels_load() {
    let plain = certs("ca-cert.pem");
    let old =
        String::from_utf8(read("ca-cert.pem")).unwrap().replace("CERTIFICATE-----", "X509 CERTIFICATE-----");
    assert_eq!(parse_certificates(old.as_bytes(), "ca").unwrap(), plain);
    // `openssl x509 -addtrust` writes TRUSTED CERTIFICATE: the certificate, then trust settings.
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(["x509", "-addtrust", "serverAuth", "-trustout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&read("ca-cert.pem")).unwrap();
    let out = child.wait_with_output().unwrap();
    let trusted = String::from_utf8(out.stdout).unwrap();
    assert!(trusted.contains("BEGIN TRUSTED CERTIFICATE"), "{trusted}");
    assert_eq!(parse_certificates(trusted.as_bytes(), "ca").unwrap(), plain);
}

/// Every refusal, with its variant and words; the texts must all differ.
#[test]
fn every_failure_has_its_own_error() {
    let cert_der = certs("server-ec-cert.pem")[0].to_vec();
    let legacy = "server-rsa-key-legacy-aes256.pem";
    let no_end = b"-----BEGIN PRIVATE KEY-----\nnot base64\n".as_slice();
    let texts = [
        // Keys: what is in the text.
        expect(key("server-ec-cert.pem", None), "NoKey", "PEM: no private key found in key option"),
        expect(parse_private_key(&cert_der, None, "key"), "NoKey", "(DER given, PEM expected)"),
        expect(parse_private_key(no_end, None, "key"), "BadPem", "missing '-----END PRIVATE KEY-----'"),
        expect(
            parse_private_key(b"-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n", None, "key"),
            "BadPem",
            "PEM: malformed base64 in key option",
        ),
        expect(
            parse_private_key(b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n", None, "key"),
            "BadPem",
            "key: PKCS#8 private key is corrupt",
        ),
        expect(
            parse_private_key(
                b"-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n",
                None,
                "k",
            ),
            "BadPem",
            "k: RSA private key is corrupt",
        ),
        expect(key("dsa-key.pem", None), "Unsupported", "key: unsupported key type DSA"),
        expect(key("ed448-key.pem", None), "Unsupported", "key: unsupported key type Ed448"),
        expect(
            parse_private_key(&edited("dsa-key-traditional.pem", "DSA", "OPENSSH"), None, "key"),
            "Unsupported",
            "OpenSSH private key format",
        ),
        // Encrypted keys.
        expect(
            key("server-rsa-key-enc.pem", None),
            "BadPassphrase",
            "key: encrypted private key needs a passphrase",
        ),
        expect(
            key("server-rsa-key-enc.pem", Some(b"wrong")),
            "BadPassphrase",
            "key: bad decrypt (wrong passphrase?)",
        ),
        expect(
            parse_private_key(&read(legacy), Some(b"wrong"), "key 2"),
            "BadPassphrase",
            "key 2: bad decrypt (wrong passphrase?)",
        ),
        expect(
            parse_private_key(&read(legacy), None, "key 2"),
            "BadPassphrase",
            "key 2: encrypted private key needs",
        ),
        expect(
            key("server-ec-key-enc-pbes1.pem", PASS),
            "Unsupported",
            "key: unsupported private key encryption",
        ),
        expect(
            parse_private_key(&edited(legacy, "AES-256-CBC", "CAMELLIA-256-CBC"), PASS, "key"),
            "Unsupported",
            "key: unsupported PEM encryption CAMELLIA-256-CBC",
        ),
        expect(
            parse_private_key(&edited(legacy, "AES-256-CBC,", "AES-256-CBC,00"), PASS, "key"),
            "BadPem",
            "PEM: malformed DEK-Info IV in key option",
        ),
        expect(
            parse_private_key(&edited(legacy, "DEK-Info", "X-Info"), PASS, "key"),
            "BadPem",
            "PEM: encrypted key without DEK-Info header in key option",
        ),
        // Certificates.
        expect(
            parse_certificates(&read("broken-cert.pem"), "cert"),
            "BadPem",
            "PEM: missing '-----END CERTIFICATE-----' line in cert option",
        ),
        expect(
            parse_certificates(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n", "ca"),
            "BadPem",
            "PEM: malformed base64 in ca option",
        ),
        expect(
            parse_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cert"),
            "BadPem",
            "PEM: certificate 1 in cert option is not valid DER",
        ),
        expect(
            parse_certificates(&edited("ca-cert.pem", "CERTIFICATE-----\n", "CERTIFICATE----\n"), "ca"),
            "BadPem",
            "PEM: malformed BEGIN line '-----BEGIN CERTIFICATE----' in ca option",
        ),
        expect(
            parse_certificates(&read("server-ec-key.pem"), "cert"),
            "NoCertificate",
            "PEM: no certificate found in cert option (it holds a private key)",
        ),
        expect(
            parse_certificates(b"", "ca 2"),
            "NoCertificate",
            "PEM: no certificate found in ca 2 option (no PEM block)",
        ),
        // Pairing.
        expect(
            certified_key(certs("server-ec-cert.pem"), key("other-key.pem", None).unwrap()),
            "KeyMismatch",
            "key does not match certificate",
        ),
        expect(
            certified_key(Vec::new(), key("other-key.pem", None).unwrap()),
            "NoCertificate",
            "no certificate given",
        ),
        expect(
            certified_key(vec![CertificateDer::from(vec![0x30, 0])], key("other-key.pem", None).unwrap()),
            "BadPem",
            "leaf certificate is not a valid X.509 certificate",
        ),
    ];
    for (i, a) in texts.iter().enumerate() {
        for b in &texts[i + 1..] {
            assert_ne!(a, b, "two failures share one message");
        }
    }
}

#[test]
fn every_encrypted_key_refuses_a_wrong_or_missing_passphrase() {
    for name in [
        "server-rsa-key-enc.pem",
        "server-ec-key-enc-sha1.pem",
        "server-ed25519-key-enc.pem",
        "server-rsa-key-legacy-aes256.pem",
        "server-rsa-key-legacy-des3.pem",
        "server-ec-key-legacy-aes128.pem",
        "server-ec-key-legacy-aes192.pem",
    ] {
        expect(key(name, None), "BadPassphrase", "key: encrypted private key needs a passphrase");
        for wrong in [b"Secret".as_slice(), b"", b"secret\n"] {
            expect(key(name, Some(wrong)), "BadPassphrase", "key: bad decrypt (wrong passphrase?)");
        }
    }
}

#[test]
fn rsa_key_with_ec_certificate_is_a_mismatch() {
    let k = key("server-rsa-key.pem", None).unwrap();
    expect(certified_key(certs("server-ec-cert.pem"), k), "KeyMismatch", "key does not match certificate");
}

#[test]
fn a_small_rsa_key_is_refused_as_too_small_not_corrupt() {
    expect(key("server-rsa1024-key.pem", None), "Unsupported", "key: key too small: RSA keys need 2048 bits");
}
