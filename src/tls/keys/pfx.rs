//! PKCS#12 (`pfx` option): OpenSSL 3's default files (PBES2 AES-256-CBC, PBKDF2-SHA256,
//! SHA-256 MAC) and `-legacy` ones (RC2/3DES, SHA-1 MAC), read as OpenSSL's PKCS12_parse
//! reads them: the first key, the certificate that is its, and every other certificate.

use super::{KeyError, SecretKey};
use p12_keystore::error::Error as P12Error;
use p12_keystore::Pkcs12Archive;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// PKCS#12 contents: leaf chain (leaf first, then the other certs in the bag), key, and extra CA certs.
pub struct Pfx {
    /// The certificate that matches the key, then the file's other certificates in order.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key (PKCS#8), wiped on drop.
    pub key: SecretKey,
    /// The file's certificates other than the leaf, which Node also trusts.
    pub ca: Vec<CertificateDer<'static>>,
}

impl std::fmt::Debug for Pfx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Pfx").field("chain", &self.chain.len()).field("ca", &self.ca.len()).finish()
    }
}

/// Reads a PKCS#12 file; no passphrase means the empty one, as OpenSSL tries.
pub fn parse_pfx(der: &[u8], passphrase: Option<&[u8]>) -> Result<Pfx, KeyError> {
    let passphrase = std::str::from_utf8(passphrase.unwrap_or_default())
        .map_err(|_| KeyError::BadPassphrase("pfx: passphrase is not valid UTF-8".into()))?;
    let archive =
        Pkcs12Archive::from_pkcs12(der, passphrase).map_err(|e| refused(e, passphrase.is_empty()))?;
    let Some(bag) = archive.keys.first() else {
        return Err(KeyError::NoKey("pfx: no private key in the PKCS#12 file".into()));
    };
    let key = SecretKey::new(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(bag.key.as_der().to_vec())));
    let signer = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| KeyError::Unsupported(format!("pfx: unsupported private key ({e})")))?;
    let certs: Vec<CertificateDer<'static>> =
        archive.certs.iter().map(|c| CertificateDer::from(c.cert.as_der().to_vec())).collect();
    if certs.is_empty() {
        return Err(KeyError::NoCertificate("pfx: no certificate in the PKCS#12 file".into()));
    }
    // The public key decides, not localKeyId, which some writers leave out.
    let leaf = certs
        .iter()
        .position(|c| CertifiedKey::new(vec![c.clone()], signer.clone()).keys_match().is_ok())
        .ok_or_else(|| {
            KeyError::KeyMismatch("pfx: key does not match any certificate in the PKCS#12 file".into())
        })?;
    let mut ca = certs;
    let leaf = ca.remove(leaf);
    let chain = std::iter::once(leaf).chain(ca.iter().cloned()).collect();
    Ok(Pfx { chain, key, ca })
}

fn refused(e: P12Error, no_passphrase: bool) -> KeyError {
    let wrong = if no_passphrase {
        "pfx: the PKCS#12 file needs a passphrase (MAC check failed without one)"
    } else {
        "pfx: wrong passphrase (MAC check failed)"
    };
    match e {
        P12Error::MacError(_) => KeyError::BadPassphrase(wrong.into()),
        // Files without a MAC show a wrong passphrase only when decryption fails.
        P12Error::UnpadError => KeyError::BadPassphrase("pfx: bad decrypt (wrong passphrase?)".into()),
        P12Error::Pkcs5Error(m) if m.contains("decryption failed") => {
            KeyError::BadPassphrase("pfx: bad decrypt (wrong passphrase?)".into())
        }
        e @ (P12Error::UnsupportedEncryptionScheme
        | P12Error::UnsupportedMacAlgorithm
        | P12Error::UnsupportedContentType
        | P12Error::Pkcs5Error(_)) => KeyError::Unsupported(format!("pfx: {e}")),
        e => KeyError::BadPfx(format!("pfx: not a valid PKCS#12 file ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{expect, read, PASS};
    use super::*;

    fn cert(name: &str) -> CertificateDer<'static> {
        super::super::parse_certificates(&read(name), "cert").unwrap().remove(0)
    }

    #[test]
    fn openssl3_default_pfx_gives_leaf_chain_key_and_ca() {
        let pfx = parse_pfx(&read("server-rsa.pfx"), PASS).unwrap();
        assert_eq!(pfx.chain, [cert("server-rsa-cert.pem"), cert("ca-cert.pem")]);
        assert_eq!(pfx.ca, [cert("ca-cert.pem")]);
        super::super::certified_key(pfx.chain, pfx.key).unwrap();
    }

    #[test]
    fn legacy_and_passphraseless_pfx() {
        let pfx = parse_pfx(&read("server-ec-legacy.pfx"), PASS).unwrap();
        assert_eq!(pfx.chain[0], cert("server-ec-cert.pem"));
        super::super::certified_key(pfx.chain, pfx.key).unwrap();
        for passphrase in [None, Some(b"".as_slice())] {
            let pfx = parse_pfx(&read("server-ec-nopass.pfx"), passphrase).unwrap();
            assert_eq!((pfx.chain.len(), pfx.ca.len()), (1, 0));
            super::super::certified_key(pfx.chain, pfx.key).unwrap();
        }
    }

    #[test]
    fn pfx_failures_each_say_what_is_wrong() {
        let good = read("server-rsa.pfx");
        let texts = [
            expect(parse_pfx(&good, Some(b"wrong")), "BadPassphrase", "pfx: wrong passphrase"),
            expect(parse_pfx(&good, None), "BadPassphrase", "pfx: the PKCS#12 file needs a passphrase"),
            expect(parse_pfx(&good, Some(&[0xff])), "BadPassphrase", "pfx: passphrase is not valid UTF-8"),
            expect(parse_pfx(&good[..good.len() / 2], PASS), "BadPfx", "pfx: not a valid PKCS#12 file"),
            expect(parse_pfx(&read("server-rsa-cert.pem"), PASS), "BadPfx", "pfx: not a valid PKCS#12 file"),
            expect(parse_pfx(&read("ca-only.pfx"), PASS), "NoKey", "pfx: no private key in the PKCS#12 file"),
        ];
        assert_eq!(texts.iter().collect::<std::collections::HashSet<_>>().len(), texts.len());
    }
}
