//! The private key in a PEM text: which format it is in, decrypting it when needed, and
//! proving rustls can sign with it before any handshake does.

use super::armor::{self, Block};
use super::{encrypted_pkcs8, legacy_pem, KeyError, SecretKey};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

/// The first private key in a PEM text: PKCS#8 (RSA, ECDSA, Ed25519), PKCS#1 RSA, SEC1 EC,
/// PKCS#8 encrypted with PBES2, or OpenSSL's legacy `Proc-Type` encryption of PKCS#1/SEC1.
/// `what` ("key", "key 2") names the option in messages.
pub fn parse_private_key(pem: &[u8], passphrase: Option<&[u8]>, what: &str) -> Result<SecretKey, KeyError> {
    let blocks = armor::blocks(pem);
    let Some(block) = blocks.iter().find(|b| b.label.ends_with("PRIVATE KEY")) else {
        let hint = armor::not_found_hint(pem, "private key");
        return Err(KeyError::NoKey(format!("PEM: no private key found in {what} option{hint}")));
    };
    let key = match block.label {
        "PRIVATE KEY" => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain(block, what)?)),
        "RSA PRIVATE KEY" | "EC PRIVATE KEY" if block.header("Proc-Type").is_some() => {
            legacy_pem::decrypt(block, passphrase, what)?
        }
        "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(plain(block, what)?)),
        "EC PRIVATE KEY" => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(plain(block, what)?)),
        "ENCRYPTED PRIVATE KEY" => encrypted_pkcs8::decrypt(block, passphrase, what)?,
        "DSA PRIVATE KEY" => return Err(unsupported_type(what, "DSA")),
        "OPENSSH PRIVATE KEY" => {
            return Err(KeyError::Unsupported(format!(
                "{what}: OpenSSH private key format is not supported (convert with ssh-keygen -p -m PEM)"
            )))
        }
        other => return Err(KeyError::Unsupported(format!("{what}: unsupported PEM block '{other}'"))),
    };
    let key = SecretKey::new(key);
    check_usable(&key, what)?;
    Ok(key)
}

/// The DER of an unencrypted key block.
fn plain(block: &Block<'_>, what: &str) -> Result<Vec<u8>, KeyError> {
    let mut der = block.decode(block.label).map_err(|e| bad_pem(&e, block.label, what))?;
    Ok(std::mem::take(&mut *der))
}

/// A PEM syntax error in key block `label` of option `what`.
pub(super) fn bad_pem(e: &rustls_pki_types::pem::Error, label: &str, what: &str) -> KeyError {
    KeyError::BadPem(format!("PEM: {} in {what} option", armor::words(e, Some(label))))
}

/// An encrypted key and no passphrase.
pub(super) fn needs_passphrase(what: &str) -> KeyError {
    KeyError::BadPassphrase(format!("{what}: encrypted private key needs a passphrase"))
}

/// Decryption failed: with these formats that is almost always the passphrase.
pub(super) fn bad_decrypt(what: &str) -> KeyError {
    KeyError::BadPassphrase(format!("{what}: bad decrypt (wrong passphrase?)"))
}

fn unsupported_type(what: &str, name: &str) -> KeyError {
    KeyError::Unsupported(format!(
        "{what}: unsupported key type {name} (use RSA, ECDSA P-256/P-384/P-521 or Ed25519)"
    ))
}

/// Loads the key as rustls will, so a key it cannot sign with fails here, naming the option,
/// and says whether the key is of a type rustls lacks or is damaged.
fn check_usable(key: &PrivateKeyDer<'_>, what: &str) -> Result<(), KeyError> {
    if rustls::crypto::aws_lc_rs::sign::any_supported_type(key).is_ok() {
        return Ok(());
    }
    let corrupt = |kind: &str| KeyError::BadPem(format!("{what}: {kind} private key is corrupt"));
    if rsa_too_small(key) {
        return Err(KeyError::Unsupported(format!(
            "{what}: key too small: RSA keys need 2048 bits or more (aws-lc-rs signs with no smaller ones)"
        )));
    }
    match key {
        PrivateKeyDer::Pkcs1(_) => Err(corrupt("RSA")),
        PrivateKeyDer::Sec1(_) => Err(KeyError::Unsupported(format!(
            "{what}: EC private key is corrupt or on an unsupported curve (P-256, P-384, P-521 are supported)"
        ))),
        PrivateKeyDer::Pkcs8(der) => match pkcs8_algorithm(der.secret_pkcs8_der()).as_deref() {
            None => Err(corrupt("PKCS#8")),
            Some(name @ ("RSA" | "Ed25519")) => Err(corrupt(name)),
            Some("EC") => Err(KeyError::Unsupported(format!(
                "{what}: EC private key is corrupt or on an unsupported curve (P-256, P-384, P-521 are supported)"
            ))),
            Some(name) => Err(unsupported_type(what, name)),
        },
        _ => Err(KeyError::Unsupported(format!("{what}: unsupported private key format"))),
    }
}

/// Whether the key is a well-formed RSA key under 2048 bits, which aws-lc-rs refuses to sign
/// with (OpenSSL takes 1024 bits at its security level 1, Node 20's default).
fn rsa_too_small(key: &PrivateKeyDer<'_>) -> bool {
    use aws_lc_rs::rsa::KeyPair;
    let parsed = match key {
        PrivateKeyDer::Pkcs1(der) => KeyPair::from_der(der.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(der) => KeyPair::from_pkcs8(der.secret_pkcs8_der()),
        _ => return false,
    };
    matches!(parsed, Err(e) if e.description_() == "TooSmall")
}

/// The key algorithm a PKCS#8 structure names, in words; None when it is not PKCS#8.
fn pkcs8_algorithm(der: &[u8]) -> Option<String> {
    use pkcs8::ObjectIdentifier as Oid;
    const NAMES: [(Oid, &str); 9] = [
        (Oid::new_unwrap("1.2.840.113549.1.1.1"), "RSA"),
        (Oid::new_unwrap("1.2.840.113549.1.1.10"), "RSA-PSS"),
        (Oid::new_unwrap("1.2.840.10045.2.1"), "EC"),
        (Oid::new_unwrap("1.3.101.112"), "Ed25519"),
        (Oid::new_unwrap("1.3.101.113"), "Ed448"),
        (Oid::new_unwrap("1.3.101.110"), "X25519"),
        (Oid::new_unwrap("1.3.101.111"), "X448"),
        (Oid::new_unwrap("1.2.840.10040.4.1"), "DSA"),
        (Oid::new_unwrap("1.2.840.113549.1.3.1"), "DH"),
    ];
    let info = pkcs8::PrivateKeyInfoRef::try_from(der).ok()?;
    let oid = info.algorithm.oid;
    let name = NAMES.iter().find(|(o, _)| *o == oid).map(|(_, n)| n.to_string());
    Some(name.unwrap_or_else(|| format!("with OID {oid}")))
}
