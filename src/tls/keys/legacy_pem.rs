//! OpenSSL's legacy PEM encryption (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: <cipher>,<iv>`), as
//! `openssl genrsa -aes256` and `openssl rsa|ec -aes256 -traditional` still write it: the key
//! is EVP_BytesToKey(MD5, one round, salt = first 8 bytes of the IV) and the cipher is CBC.

use super::armor::Block;
use super::private_key::{bad_decrypt, bad_pem, needs_passphrase};
use super::KeyError;
use cbc::cipher::{block_padding::Pkcs7, BlockCipherDecrypt, BlockModeDecrypt, KeyIvInit};
use md5::{Digest, Md5};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivateSec1KeyDer};
use zeroize::Zeroizing;

#[derive(Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl Cipher {
    fn from_name(name: &str) -> Option<Cipher> {
        match name.to_ascii_uppercase().as_str() {
            "AES-128-CBC" => Some(Cipher::Aes128),
            "AES-192-CBC" => Some(Cipher::Aes192),
            "AES-256-CBC" => Some(Cipher::Aes256),
            "DES-EDE3-CBC" => Some(Cipher::DesEde3),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 | Cipher::DesEde3 => 24,
            Cipher::Aes256 => 32,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            Cipher::DesEde3 => 8,
            _ => 16,
        }
    }

    /// Decrypts `buf` in place; the plaintext length, or None when the padding is wrong.
    fn decrypt(self, key: &[u8], iv: &[u8], buf: &mut [u8]) -> Option<usize> {
        fn run<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Option<usize>
        where
            C: BlockCipherDecrypt,
            cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
        {
            let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
            dec.decrypt_padded::<Pkcs7>(buf).ok().map(<[u8]>::len)
        }
        match self {
            Cipher::Aes128 => run::<aes::Aes128>(key, iv, buf),
            Cipher::Aes192 => run::<aes::Aes192>(key, iv, buf),
            Cipher::Aes256 => run::<aes::Aes256>(key, iv, buf),
            Cipher::DesEde3 => run::<des::TdesEde3>(key, iv, buf),
        }
    }
}

/// Decrypts a `Proc-Type: 4,ENCRYPTED` RSA (PKCS#1) or EC (SEC1) key block.
pub(super) fn decrypt(
    block: &Block<'_>,
    passphrase: Option<&[u8]>,
    what: &str,
) -> Result<PrivateKeyDer<'static>, KeyError> {
    match block.header("Proc-Type") {
        Some(v) if v.replace(' ', "") == "4,ENCRYPTED" => {}
        _ => return Err(KeyError::BadPem(format!("PEM: unexpected Proc-Type header in {what} option"))),
    }
    let dek = block.header("DEK-Info").ok_or_else(|| {
        KeyError::BadPem(format!("PEM: encrypted key without DEK-Info header in {what} option"))
    })?;
    let (name, iv_hex) = dek.split_once(',').unwrap_or((dek, ""));
    let cipher = Cipher::from_name(name.trim()).ok_or_else(|| {
        KeyError::Unsupported(format!(
            "{what}: unsupported PEM encryption {name} (AES-128/192/256-CBC and DES-EDE3-CBC are supported)"
        ))
    })?;
    let iv = hex(iv_hex.trim())
        .filter(|iv| iv.len() == cipher.iv_len())
        .ok_or_else(|| KeyError::BadPem(format!("PEM: malformed DEK-Info IV in {what} option")))?;
    let passphrase = passphrase.ok_or_else(|| needs_passphrase(what))?;
    let mut buf = block.decode(block.label).map_err(|e| bad_pem(&e, block.label, what))?;
    let key = bytes_to_key(passphrase, &iv[..8], cipher.key_len());
    let len = cipher.decrypt(&key, &iv, &mut buf).ok_or_else(|| bad_decrypt(what))?;
    buf.truncate(len);
    // One padding byte of 0x01 passes by chance 1 time in 256 with a wrong passphrase.
    if !super::armor::is_der_sequence(&buf) {
        return Err(bad_decrypt(what));
    }
    let der = std::mem::take(&mut *buf);
    Ok(match block.label {
        "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
        _ => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)),
    })
}

/// OpenSSL's EVP_BytesToKey with MD5 and one iteration: D_i = MD5(D_{i-1} || pass || salt).
fn bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 16));
    while out.len() < len {
        let mut md5 = Md5::new();
        md5.update(&out[out.len().saturating_sub(16)..]);
        md5.update(passphrase);
        md5.update(salt);
        out.extend_from_slice(&md5.finalize());
    }
    out.truncate(len);
    out
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let pairs = s.as_bytes().chunks_exact(2);
    // from_str_radix alone would take a sign ("+f").
    if !pairs.remainder().is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    pairs.map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -pass pass:secret -S 0001020304050607`
        let key = bytes_to_key(b"secret", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        assert_eq!(hex(OPENSSL_KEY).unwrap(), *key);
    }

    const OPENSSL_KEY: &str = "035FB8145B73CF111570DC936112BE9C375A5D3D8B915BC213BDBEF9DBFB7851";

    #[test]
    fn hex_rejects_odd_and_non_hex() {
        assert_eq!(hex("0aFF"), Some(vec![0x0a, 0xff]));
        assert_eq!(hex("0"), None);
        assert_eq!(hex("zz"), None);
        assert_eq!(hex("+f"), None);
    }
}
