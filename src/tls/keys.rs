//! Key material from PEM, PKCS#12 and CRL bytes: certificates, private keys (plain or
//! encrypted), and the check that a key belongs to its certificate. Every refusal is a
//! `KeyError` whose text names the option (and its index when there are several).

mod armor;
mod crl;
mod encrypted_pkcs8;
mod legacy_pem;
mod pfx;
mod private_key;
#[cfg(test)]
pub(crate) mod tests;

pub use crl::parse_crls;
pub use pfx::{parse_pfx, Pfx};
pub use private_key::parse_private_key;

/// A private key whose DER is wiped when it is dropped (rustls-pki-types zeroizes on request
/// only); rustls reads it by reference, so this is the one copy nodetls keeps.
pub type SecretKey = zeroize::Zeroizing<rustls_pki_types::PrivateKeyDer<'static>>;

use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// Why key material was refused; the Display text is what `ntls_options_last_error` shows.
#[derive(Debug)]
pub enum KeyError {
    /// A PEM block (or the DER inside it) is malformed.
    BadPem(String),
    /// No private key where one was expected.
    NoKey(String),
    /// No certificate where one was expected.
    NoCertificate(String),
    /// An encrypted key without the right passphrase.
    BadPassphrase(String),
    /// The key is not the certificate's.
    KeyMismatch(String),
    /// A key type or encryption that rustls or this library cannot use.
    Unsupported(String),
    /// A PKCS#12 file that cannot be read.
    BadPfx(String),
    /// A CRL that cannot be read.
    BadCrl(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (KeyError::BadPem(m)
        | KeyError::NoKey(m)
        | KeyError::NoCertificate(m)
        | KeyError::BadPassphrase(m)
        | KeyError::KeyMismatch(m)
        | KeyError::Unsupported(m)
        | KeyError::BadPfx(m)
        | KeyError::BadCrl(m)) = self;
        f.write_str(m)
    }
}

impl std::error::Error for KeyError {}

/// Every certificate in a PEM text, in order; `what` ("cert", "ca 2") names the option.
pub fn parse_certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, KeyError> {
    // Block by block, not PemObject over the whole text: a key block with Proc-Type headers
    // in the same file (a combined key and cert) would otherwise fail the certificates.
    // OpenSSL's PEM_read_bio_X509_AUX, which Node uses, also reads the old `X509
    // CERTIFICATE` label and `TRUSTED CERTIFICATE` (a certificate followed by its trust
    // settings, which we drop: OpenSSL's default verification ignores them too).
    const LABELS: [&str; 3] = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];
    let mut certs = Vec::new();
    for block in armor::blocks(pem).iter().filter(|b| LABELS.contains(&b.label)) {
        let mut der = block
            .decode("CERTIFICATE")
            .map_err(|e| KeyError::BadPem(format!("PEM: {} in {what} option", armor::words(&e, None))))?;
        if block.label == "TRUSTED CERTIFICATE" {
            let len = armor::first_der_len(&der).unwrap_or(der.len());
            der.truncate(len);
        }
        certs.push(CertificateDer::from(std::mem::take(&mut *der)));
    }
    if certs.is_empty() {
        let hint = armor::not_found_hint(pem, "certificate");
        return Err(KeyError::NoCertificate(format!("PEM: no certificate found in {what} option{hint}")));
    }
    for (i, cert) in certs.iter().enumerate() {
        if !armor::is_der_sequence(cert) {
            let n = i + 1;
            return Err(KeyError::BadPem(format!("PEM: certificate {n} in {what} option is not valid DER")));
        }
    }
    Ok(certs)
}

/// A signing key paired with its chain, after checking the key is the leaf's.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: SecretKey,
) -> Result<Arc<CertifiedKey>, KeyError> {
    if chain.is_empty() {
        return Err(KeyError::NoCertificate("no certificate given for the key".into()));
    }
    let signer = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| KeyError::Unsupported(format!("unsupported private key ({e})")))?;
    let ck = CertifiedKey::new(chain, signer);
    match ck.keys_match() {
        Ok(()) => Ok(Arc::new(ck)),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(KeyError::KeyMismatch("key does not match certificate".into()))
        }
        Err(rustls::Error::InconsistentKeys(_)) => {
            Err(KeyError::Unsupported("cannot tell whether the key matches the certificate".into()))
        }
        Err(e) => Err(KeyError::BadPem(format!("leaf certificate is not a valid X.509 certificate ({e})"))),
    }
}
