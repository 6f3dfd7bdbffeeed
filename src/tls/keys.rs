//! Key material from PEM: certificates, private keys, and their pairing.

use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// Why key material was refused; the text is what `ntls_options_last_error` shows.
#[derive(Debug)]
pub enum KeyError {
    /// A PEM block is malformed.
    BadPem(String),
    /// No private key where one was expected.
    NoKey(String),
    /// No certificate where one was expected.
    NoCertificate(String),
    /// An encrypted key without the right passphrase.
    BadPassphrase(String),
    /// The key is not the certificate's.
    KeyMismatch(String),
    /// A key type rustls cannot sign with.
    Unsupported(String),
    /// A PKCS#12 file that cannot be used.
    BadPfx(String),
    /// A CRL that cannot be parsed.
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

/// Plain words for a PEM syntax error.
pub fn pem_words(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { end_marker } => {
            format!("missing '-----END {}-----' line", String::from_utf8_lossy(end_marker))
        }
        E::IllegalSectionStart { line } => {
            format!("malformed BEGIN line '{}'", String::from_utf8_lossy(line))
        }
        E::Base64Decode(why) => format!("bad base64 ({why})"),
        E::NoItemsFound => "no PEM block found".to_owned(),
        other => other.to_string(),
    }
}

/// Every certificate in a PEM text; `what` names the option in messages.
pub fn parse_certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, KeyError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| KeyError::BadPem(format!("{what}: malformed PEM certificate: {}", pem_words(&e))))?;
    if certs.is_empty() {
        return Err(KeyError::NoCertificate(format!("{what}: no PEM certificate found")));
    }
    Ok(certs)
}

/// The private key in a PEM text (PKCS#8, PKCS#1 RSA, SEC1 EC).
pub fn parse_private_key(
    pem: &[u8],
    _passphrase: Option<&[u8]>,
    what: &str,
) -> Result<PrivateKeyDer<'static>, KeyError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => {
            KeyError::NoKey(format!("{what}: no private key found"))
        }
        e => KeyError::BadPem(format!("{what}: malformed PEM private key: {}", pem_words(&e))),
    })
}

/// A signing key paired with its chain, after checking the key is the leaf's.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>, KeyError> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| KeyError::Unsupported(format!("unsupported private key ({e})")))?;
    let ck = CertifiedKey::new(chain, signer);
    ck.keys_match().map_err(|_| KeyError::KeyMismatch("key does not match certificate".into()))?;
    Ok(Arc::new(ck))
}
