//! `sigalgs`: OpenSSL's signature-algorithm lists (`ECDSA+SHA256:rsa_pss_rsae_sha256`), which
//! narrow what a context signs with and accepts, and `getSharedSigalgs()` in Node's names.

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme as S};
use std::ffi::CStr;
use std::sync::{Arc, Mutex};

/// The schemes rustls has, in OpenSSL's default order: the TLS 1.3 name, the `SIG+HASH`
/// form of the list syntax, and the name Node's `getSharedSigalgs()` shows.
const SCHEMES: &[(S, &str, &str, &CStr)] = &[
    (S::ECDSA_NISTP256_SHA256, "ecdsa_secp256r1_sha256", "ECDSA+SHA256", c"ECDSA+SHA256"),
    (S::ECDSA_NISTP384_SHA384, "ecdsa_secp384r1_sha384", "ECDSA+SHA384", c"ECDSA+SHA384"),
    (S::ECDSA_NISTP521_SHA512, "ecdsa_secp521r1_sha512", "ECDSA+SHA512", c"ECDSA+SHA512"),
    (S::ED25519, "ed25519", "", c"Ed25519+UNDEF"),
    (S::RSA_PSS_SHA256, "rsa_pss_rsae_sha256", "RSA-PSS+SHA256", c"RSA-PSS+SHA256"),
    (S::RSA_PSS_SHA384, "rsa_pss_rsae_sha384", "RSA-PSS+SHA384", c"RSA-PSS+SHA384"),
    (S::RSA_PSS_SHA512, "rsa_pss_rsae_sha512", "RSA-PSS+SHA512", c"RSA-PSS+SHA512"),
    (S::RSA_PKCS1_SHA256, "rsa_pkcs1_sha256", "RSA+SHA256", c"RSA+SHA256"),
    (S::RSA_PKCS1_SHA384, "rsa_pkcs1_sha384", "RSA+SHA384", c"RSA+SHA384"),
    (S::RSA_PKCS1_SHA512, "rsa_pkcs1_sha512", "RSA+SHA512", c"RSA+SHA512"),
];

/// Names OpenSSL accepts for schemes rustls lacks: dropped from a list, as `ecdhCurve`
/// drops groups rustls lacks.
const ABSENT: &[&str] = &[
    "ed448",
    "ecdsa_sha224",
    "ecdsa_sha1",
    "rsa_pkcs1_sha224",
    "rsa_pkcs1_sha1",
    "rsa_pss_pss_sha256",
    "rsa_pss_pss_sha384",
    "rsa_pss_pss_sha512",
    "ecdsa_brainpoolP256r1_sha256",
    "ecdsa_brainpoolP384r1_sha384",
    "ecdsa_brainpoolP512r1_sha512",
];

/// Reads a `sigalgs` list: the schemes in its order. Entries rustls lacks are dropped; an
/// unknown entry, or a list with nothing rustls has, is an error.
pub fn parse(list: &str) -> Result<Vec<S>, String> {
    let mut out = Vec::new();
    for entry in list.split(':') {
        match lookup(entry)? {
            Some(s) if !out.contains(&s) => out.push(s),
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(format!("sigalgs: no signature algorithm rustls supports in {list:?}"));
    }
    Ok(out)
}

/// One entry: Some(scheme), None for one OpenSSL knows and rustls lacks.
fn lookup(entry: &str) -> Result<Option<S>, String> {
    let unknown = || format!("sigalgs: unknown signature algorithm {entry:?}");
    if let Some((sig, hash)) = entry.split_once('+') {
        let sig = match sig {
            "RSA" => "RSA",
            "RSA-PSS" | "PSS" => "RSA-PSS",
            "ECDSA" => "ECDSA",
            "DSA" => return known_hash(hash).map(|_| None).ok_or_else(unknown),
            _ => return Err(unknown()),
        };
        let hash = known_hash(hash).ok_or_else(unknown)?;
        let form = format!("{sig}+{hash}");
        return Ok(SCHEMES.iter().find(|(_, _, f, _)| *f == form).map(|(s, ..)| *s));
    }
    if let Some((s, ..)) = SCHEMES.iter().find(|(_, name, ..)| *name == entry) {
        return Ok(Some(*s));
    }
    ABSENT.contains(&entry).then_some(None).ok_or_else(unknown)
}

/// A hash name as OpenSSL reads it (its short or long name), in the short form.
fn known_hash(hash: &str) -> Option<&'static str> {
    ["SHA1", "SHA224", "SHA256", "SHA384", "SHA512"]
        .into_iter()
        .find(|h| *h == hash || h.to_lowercase() == hash)
}

/// The schemes a context uses when `sigalgs` is unset: every one rustls verifies, in
/// OpenSSL's order.
pub fn default_list(algorithms: &WebPkiSupportedAlgorithms) -> Vec<S> {
    let have = algorithms.supported_schemes();
    SCHEMES.iter().map(|(s, ..)| *s).filter(|s| have.contains(s)).collect()
}

/// `getSharedSigalgs()`'s list, kept inline (rows of `SCHEMES`): an idle connection
/// holds it for its whole life, so it allocates nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shared {
    rows: [u8; SCHEMES.len()],
    len: u8,
}

impl Shared {
    /// Whether no scheme is shared.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The schemes, in order.
    pub fn schemes(&self) -> impl Iterator<Item = S> + '_ {
        self.rows[..self.len as usize].iter().map(|&r| SCHEMES[r as usize].0)
    }

    /// Node's names, in order (static strings).
    pub fn names(&self) -> impl Iterator<Item = &'static CStr> + '_ {
        self.rows[..self.len as usize].iter().map(|&r| SCHEMES[r as usize].3)
    }
}

/// `getSharedSigalgs()`: the schemes both lists hold, in the preferred side's order (a
/// server that honours its own order uses its list, as OpenSSL does).
pub fn shared(own: &[S], peer: &[S], own_order: bool) -> Shared {
    let (pref, allow) = if own_order { (own, peer) } else { (peer, own) };
    let mut out = Shared::default();
    for s in pref.iter().filter(|s| allow.contains(s)) {
        let Some(row) = SCHEMES.iter().position(|(x, ..)| x == s) else { continue };
        if (out.len as usize) < SCHEMES.len() && !out.rows[..out.len as usize].contains(&(row as u8)) {
            out.rows[out.len as usize] = row as u8;
            out.len += 1;
        }
    }
    out
}

/// OpenSSL tells "no shared signature algorithms" (no scheme in both lists) from "no
/// suitable signature algorithm" (shared ones, none fit for the key); rustls says the
/// second for both, so the list the resolver noted decides.
pub fn refine(
    err: crate::error::NtlsError,
    e: &rustls::Error,
    shared: Option<Shared>,
) -> crate::error::NtlsError {
    use rustls::PeerIncompatible::NoSignatureSchemesInCommon;
    match (e, shared) {
        (rustls::Error::PeerIncompatible(NoSignatureSchemesInCommon), Some(s)) if s.is_empty() => {
            super::alerts::ssl_error("no shared signature algorithms")
        }
        _ => err,
    }
}

/// The verification algorithms narrowed to `schemes`, in their order (what a verifier
/// then advertises: the ClientHello's and the CertificateRequest's lists). rustls wants
/// the table `'static`; each distinct list is built once for the process.
pub fn narrow(base: WebPkiSupportedAlgorithms, schemes: &[S]) -> WebPkiSupportedAlgorithms {
    type Mapping =
        &'static [(S, &'static [&'static dyn rustls::pki_types::SignatureVerificationAlgorithm])];
    static BUILT: Mutex<Vec<(Vec<S>, Mapping)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let mapping = match built.iter().find(|(k, _)| k == schemes) {
        Some((_, m)) => *m,
        None => {
            let m: Vec<_> =
                schemes.iter().filter_map(|s| base.mapping.iter().find(|(x, _)| x == s).copied()).collect();
            let m: Mapping = Box::leak(m.into_boxed_slice());
            built.push((schemes.to_vec(), m));
            m
        }
    };
    WebPkiSupportedAlgorithms { all: base.all, mapping }
}

/// A signing key that signs only with the context's `sigalgs`.
#[derive(Debug)]
pub struct Narrowed {
    inner: Arc<dyn SigningKey>,
    allowed: Arc<[S]>,
}

impl Narrowed {
    /// `inner`, limited to `allowed`.
    pub fn new(inner: Arc<dyn SigningKey>, allowed: Arc<[S]>) -> Narrowed {
        Narrowed { inner, allowed }
    }
}

impl SigningKey for Narrowed {
    fn choose_scheme(&self, offered: &[S]) -> Option<Box<dyn Signer>> {
        let offered: Vec<S> = offered.iter().copied().filter(|s| self.allowed.contains(s)).collect();
        self.inner.choose_scheme(&offered)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_openssl_reads_them() {
        assert_eq!(parse("RSA-PSS+SHA384").unwrap(), [S::RSA_PSS_SHA384]);
        assert_eq!(
            parse("PSS+SHA256:ecdsa_secp384r1_sha384:ed25519:RSA+sha512").unwrap(),
            [S::RSA_PSS_SHA256, S::ECDSA_NISTP384_SHA384, S::ED25519, S::RSA_PKCS1_SHA512]
        );
        // Known to OpenSSL, absent from rustls: dropped, unless nothing is left.
        assert_eq!(parse("ed448:DSA+SHA256:ECDSA+SHA256").unwrap(), [S::ECDSA_NISTP256_SHA256]);
        assert!(parse("ed448").is_err());
        for bad in ["BOGUS", "ECDSA+MD5", "Ed25519+SHA256", "", "ECDSA+SHA256:"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shared_follows_the_preferred_side() {
        let own = [S::ECDSA_NISTP256_SHA256, S::RSA_PSS_SHA256];
        let peer = [S::RSA_PSS_SHA256, S::RSA_PSS_SHA512, S::ECDSA_NISTP256_SHA256];
        assert_eq!(shared(&own, &peer, true).schemes().collect::<Vec<_>>(), own);
        let by_peer = shared(&own, &peer, false);
        assert_eq!(by_peer.schemes().collect::<Vec<_>>(), [S::RSA_PSS_SHA256, S::ECDSA_NISTP256_SHA256]);
        assert_eq!(by_peer.names().collect::<Vec<_>>(), [c"RSA-PSS+SHA256", c"ECDSA+SHA256"]);
        assert!(shared(&own, &[S::ED25519], true).is_empty());
        assert_eq!(
            shared(&[S::ED25519], &[S::ED25519], true).names().collect::<Vec<_>>(),
            [c"Ed25519+UNDEF"]
        );
    }
}
