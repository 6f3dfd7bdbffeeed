//! `ENCRYPTED PRIVATE KEY`: PKCS#8 under PBES2 (PBKDF2 or scrypt, AES-CBC or 3DES), as
//! `openssl pkcs8 -topk8 -v2 ...` and `openssl genpkey -aes256` write it.

use super::armor::Block;
use super::private_key::{bad_decrypt, bad_pem, needs_passphrase};
use super::KeyError;
use pkcs8::{pkcs5, EncryptedPrivateKeyInfoRef};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Decrypts an `ENCRYPTED PRIVATE KEY` block to its PKCS#8 key.
pub(super) fn decrypt(
    block: &Block<'_>,
    passphrase: Option<&[u8]>,
    what: &str,
) -> Result<PrivateKeyDer<'static>, KeyError> {
    // PemObject knows no ENCRYPTED PRIVATE KEY label; the base64 is the same under another.
    let der = block.decode("PRIVATE KEY").map_err(|e| bad_pem(&e, block.label, what))?;
    let info = EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(e) => unsupported(&e, what),
        // pkcs5 fails to parse schemes it does not know (PKCS#12 PBE, PBES1 with RC2, ...).
        e => match scheme_oid(&der) {
            Some(oid) => unsupported(&format!("algorithm {oid}"), what),
            None => KeyError::BadPem(format!("{what}: encrypted private key is corrupt ({e})")),
        },
    })?;
    let passphrase = passphrase.ok_or_else(|| needs_passphrase(what))?;
    // SecretDocument wipes the plaintext when dropped.
    let doc = info.decrypt(passphrase).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::DecryptFailed) => bad_decrypt(what),
        pkcs8::Error::EncryptedPrivateKey(e) => unsupported(&e, what),
        // Decrypted to something that is not DER: a wrong passphrase that met valid padding.
        _ => bad_decrypt(what),
    })?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(doc.as_bytes().to_vec())))
}

/// The encryption algorithm of a well-formed `EncryptedPrivateKeyInfo`, whatever it is.
fn scheme_oid(der: &[u8]) -> Option<pkcs8::ObjectIdentifier> {
    use pkcs8::der::{asn1::OctetStringRef, Decode, Reader, SliceReader};
    let mut reader = SliceReader::new(der).ok()?;
    let oid = reader
        .sequence(|r| {
            let algorithm = pkcs8::AlgorithmIdentifierRef::decode(r)?;
            <&OctetStringRef>::decode(r)?;
            Ok::<_, pkcs8::der::Error>(algorithm.oid)
        })
        .ok()?;
    reader.finish().ok()?;
    Some(oid)
}

fn unsupported(e: &dyn std::fmt::Display, what: &str) -> KeyError {
    KeyError::Unsupported(format!(
        "{what}: unsupported private key encryption ({e}); PBES2 with AES-CBC or DES-EDE3-CBC is supported"
    ))
}
