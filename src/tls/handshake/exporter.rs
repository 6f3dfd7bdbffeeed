//! `exportKeyingMaterial`: RFC 5705 (TLS 1.2) and RFC 8446 section 7.5 (TLS 1.3) keying
//! material exporters, from the secrets rustls gave our key log during the handshake.
//!
//! rustls computes exporters only through its live connection, which the loop thread
//! owns and is busy driving while the program's callbacks run, so a call from any
//! thread, or from inside the socket's own `secureConnect` callback, could not reach it.
//! The exporter therefore keeps what RFC 5705 and RFC 8446 need: the exporter master
//! secret (TLS 1.3), or the master secret and both hello randoms (TLS 1.2).

use aws_lc_rs::{digest, hkdf, hmac};
use zeroize::Zeroizing;

/// What one connection's exporter is computed from.
pub struct Exporter {
    sha384: bool,
    kind: Kind,
}

enum Kind {
    Tls13 { exporter_secret: Zeroizing<Vec<u8>> },
    Tls12 { master_secret: Zeroizing<Vec<u8>>, randoms: [u8; 64] },
}

/// Why no material could be made.
#[derive(Debug, PartialEq, Eq)]
pub enum ExportError {
    /// The length cannot be produced (0, or over TLS 1.3's 255 hash blocks).
    BadLength,
    /// A TLS 1.2 label that starts with one the PRF uses itself (RFC 5705 section 4),
    /// refused as OpenSSL refuses it (Node's `ERR_SSL_TLS_ILLEGAL_EXPORTER_LABEL`).
    ReservedLabel,
}

/// The labels TLS 1.2's own key schedule uses; OpenSSL refuses a label starting with any.
const TLS12_RESERVED_LABELS: [&[u8]; 5] =
    [b"client finished", b"server finished", b"master secret", b"extended master secret", b"key expansion"];

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exporter { .. }") // never the secrets
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Exporter {
    /// A TLS 1.3 exporter over the exporter master secret; `sha384` for SHA-384 suites.
    pub fn tls13(exporter_secret: Zeroizing<Vec<u8>>, sha384: bool) -> Exporter {
        Exporter { sha384, kind: Kind::Tls13 { exporter_secret } }
    }

    /// A TLS 1.2 exporter over the master secret and the client and server randoms.
    pub fn tls12(
        master_secret: Zeroizing<Vec<u8>>,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        sha384: bool,
    ) -> Exporter {
        let mut randoms = [0u8; 64];
        randoms[..32].copy_from_slice(client_random);
        randoms[32..].copy_from_slice(server_random);
        Exporter { sha384, kind: Kind::Tls12 { master_secret, randoms } }
    }

    /// Fills `out` with keying material for `label` and, if given, `context`.
    pub fn export(&self, out: &mut [u8], label: &[u8], context: Option<&[u8]>) -> Result<(), ExportError> {
        if out.is_empty() {
            return Err(ExportError::BadLength);
        }
        match &self.kind {
            Kind::Tls13 { exporter_secret } => {
                self.export13(exporter_secret, out, label, context.unwrap_or(&[]))
            }
            Kind::Tls12 { master_secret, randoms } => {
                if TLS12_RESERVED_LABELS.iter().any(|r| label.starts_with(r)) {
                    return Err(ExportError::ReservedLabel);
                }
                let mut seed = Vec::with_capacity(label.len() + 66 + context.map_or(0, <[u8]>::len));
                seed.extend_from_slice(label);
                seed.extend_from_slice(randoms);
                if let Some(c) = context {
                    let n = u16::try_from(c.len()).map_err(|_| ExportError::BadLength)?;
                    seed.extend_from_slice(&n.to_be_bytes());
                    seed.extend_from_slice(c);
                }
                self.p_hash(master_secret, &seed, out);
                Ok(())
            }
        }
    }

    fn export13(
        &self,
        secret: &[u8],
        out: &mut [u8],
        label: &[u8],
        context: &[u8],
    ) -> Result<(), ExportError> {
        let (alg, hash) = if self.sha384 {
            (hkdf::HKDF_SHA384, &digest::SHA384)
        } else {
            (hkdf::HKDF_SHA256, &digest::SHA256)
        };
        let hash_len = hash.output_len();
        // Derive-Secret(secret, label, "") then HKDF-Expand-Label(that, "exporter", Hash(context), L).
        let mut derived = Zeroizing::new(vec![0u8; hash_len]);
        expand_label(alg, secret, label, digest::digest(hash, &[]).as_ref(), &mut derived)?;
        expand_label(alg, &derived, b"exporter", digest::digest(hash, context).as_ref(), out)
    }

    /// TLS 1.2's PRF: P_hash(secret, seed), where seed already starts with the label.
    fn p_hash(&self, secret: &[u8], seed: &[u8], out: &mut [u8]) {
        let alg = if self.sha384 { hmac::HMAC_SHA384 } else { hmac::HMAC_SHA256 };
        let key = hmac::Key::new(alg, secret);
        let mut a = hmac::sign(&key, seed);
        for chunk in out.chunks_mut(alg.digest_algorithm().output_len()) {
            let mut ctx = hmac::Context::with_key(&key);
            ctx.update(a.as_ref());
            ctx.update(seed);
            let block = ctx.sign();
            chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
            a = hmac::sign(&key, a.as_ref());
        }
    }
}

/// HKDF-Expand-Label (RFC 8446 section 7.1).
fn expand_label(
    alg: hkdf::Algorithm,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), ExportError> {
    let length = u16::try_from(out.len()).map_err(|_| ExportError::BadLength)?.to_be_bytes();
    let full = 6 + label.len();
    let label_len = [u8::try_from(full).map_err(|_| ExportError::BadLength)?];
    let context_len = [u8::try_from(context.len()).map_err(|_| ExportError::BadLength)?];
    let info: [&[u8]; 6] = [&length, &label_len, b"tls13 ", label, &context_len, context];
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    let okm = prk.expand(&info, Len(out.len())).map_err(|_| ExportError::BadLength)?;
    okm.fill(out).map_err(|_| ExportError::BadLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls12_refuses_the_labels_its_key_schedule_uses() {
        let e = Exporter::tls12(Zeroizing::new(vec![7; 48]), &[1; 32], &[2; 32], false);
        let mut out = [0u8; 16];
        for label in [
            &b"client finished"[..],
            b"server finished",
            b"master secret",
            b"key expansion",
            b"client finishedX",
        ] {
            assert_eq!(e.export(&mut out, label, None), Err(ExportError::ReservedLabel), "{label:?}");
        }
        assert_eq!(e.export(&mut out, b"EXPORTER-test", None), Ok(()));
        // TLS 1.3 has no such rule (its labels go through HKDF-Expand-Label)
        let e13 = Exporter::tls13(Zeroizing::new(vec![7; 32]), false);
        assert_eq!(e13.export(&mut out, b"client finished", None), Ok(()));
    }

    #[test]
    fn tls12_prf_matches_a_known_vector() {
        // The widely used TLS 1.2 PRF SHA-256 test vector (secret, "test label" + seed).
        let secret = hex("9bbe436ba940f017b17652849a71db35");
        let mut seed = b"test label".to_vec();
        seed.extend(hex("a0ba9f936cda311827a6f796ffd5198c"));
        let mut out = [0u8; 100];
        let e = Exporter::tls12(Zeroizing::new(secret.clone()), &[0; 32], &[0; 32], false);
        e.p_hash(&secret, &seed, &mut out);
        assert_eq!(&out[..16], &hex("e3f229ba727be17b8d122620557cd453")[..]);
    }

    #[test]
    fn zero_and_huge_lengths_are_refused() {
        let e = Exporter::tls13(Zeroizing::new(vec![1; 32]), false);
        assert_eq!(e.export(&mut [], b"x", None), Err(ExportError::BadLength));
        assert_eq!(e.export(&mut vec![0; 255 * 32 + 1], b"x", None), Err(ExportError::BadLength));
        assert!(e.export(&mut [0; 64], b"x", None).is_ok());
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
