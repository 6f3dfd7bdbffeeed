//! `tls.createSecureContext`: keys, certificates and trust, checked once, shared by
//! every connection that uses them.

use super::keys::{self, KeyError};
use super::verify::CaCerts;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, SignatureScheme, SupportedProtocolVersion};
use std::sync::Arc;

/// A secure context: what Node's `SecureContext` holds, in rustls's terms.
#[derive(Debug)]
pub struct SecureContext {
    keys: Vec<Arc<CertifiedKey>>,
    roots: Arc<RootCertStore>,
    ca: CaCerts,
    crls: Vec<CertificateRevocationListDer<'static>>,
    provider: Arc<CryptoProvider>,
    versions: Vec<&'static SupportedProtocolVersion>,
    /// The signature schemes it signs with and accepts (`sigalgs`, or all rustls has).
    sigalgs: Vec<SignatureScheme>,
}

fn key_error(e: KeyError) -> OptionError {
    OptionError { status: crate::error::NTLS_EKEY, message: e.to_string() }
}

impl SecureContext {
    /// Builds a context from `key`, `cert`, `ca`, `passphrase`; every problem is found here,
    /// never later at handshake time.
    pub fn from_options(o: &Options) -> Result<Arc<SecureContext>, OptionError> {
        if let Some(ctx) = o.context() {
            return Ok(ctx.clone());
        }
        super::dhparam::check(o)?;
        let (mut roots, ca) = load_roots(o.bytes(NTLS_OPT_CA))?;
        let mut keys = load_keys(o)?;
        for (der, extra_ca) in load_pfx(o)? {
            keys.push(der);
            // Node adds a PFX's other certificates to the context's store, as trusted.
            for c in extra_ca {
                let _ = roots.add(c);
            }
        }
        let crls = load_crls(o)?;
        let versions = super::versions::resolve(o)?;
        let mut provider = provider(o)?;
        let sigalgs = match o.str(NTLS_OPT_SIGALGS) {
            Some(list) => {
                let list = super::sigalgs::parse(list).map_err(OptionError::invalid)?;
                provider.signature_verification_algorithms =
                    super::sigalgs::narrow(provider.signature_verification_algorithms, &list);
                let allowed: Arc<[SignatureScheme]> = list.clone().into();
                keys = keys.into_iter().map(|k| narrowed(k, &allowed)).collect();
                list
            }
            None => super::sigalgs::default_list(&provider.signature_verification_algorithms),
        };
        // Offer only suites of the versions we speak, as OpenSSL does: a TLS 1.2-only client
        // that listed TLS 1.3 suites would keep a two-key server from choosing by suite.
        provider.cipher_suites.retain(|s| versions.contains(&s.version()));
        let provider = Arc::new(provider);
        // OpenSSL completes a chain that stops short from the context's own `ca`.
        let keys = keys.into_iter().map(|k| complete_chain(k, &ca)).collect();
        let keys = super::ocsp::attach_static(keys, o)?;
        Ok(Arc::new(SecureContext { keys, roots: Arc::new(roots), ca, crls, provider, versions, sigalgs }))
    }

    /// The key (and chain) to present to a peer that verifies `schemes`; None when the
    /// context has no key the peer can use.
    pub fn choose_key(&self, schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        // With no usable key, still offer one: the handshake then fails on the suites, with
        // OpenSSL's "no shared cipher", instead of rustls's "no certificate" (access_denied).
        self.keys.iter().find(|k| k.key.choose_scheme(schemes).is_some()).or(self.keys.first()).cloned()
    }

    /// The signature schemes the context signs with and accepts, in its order of preference.
    pub fn sigalgs(&self) -> &[SignatureScheme] {
        &self.sigalgs
    }

    /// Whether the context holds at least one key and certificate.
    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Trusted roots: the `ca` option, or Mozilla's list when it is unset (as Node).
    pub fn roots(&self) -> &Arc<RootCertStore> {
        &self.roots
    }

    /// The certificates of an explicit `ca`: the self-signed ones are the trust anchors; the
    /// others OpenSSL uses to build a peer's chain but never trusts as its end (Node's
    /// default: no partial chains).
    pub fn ca(&self) -> &CaCerts {
        &self.ca
    }

    /// Certificate revocation lists (`crl`), checked for every certificate of a peer's chain.
    pub fn crls(&self) -> &[CertificateRevocationListDer<'static>] {
        &self.crls
    }

    /// The crypto provider with the context's suites and groups.
    pub fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// The protocol versions the context allows.
    pub fn versions(&self) -> &[&'static SupportedProtocolVersion] {
        &self.versions
    }

    /// Whether `other` trusts the same servers and presents the same certificates: the
    /// same anchors, `ca`, CRLs and chains (a resumed session adopts the verdict of the
    /// handshake that made it, so it may only move between contexts that would agree).
    pub fn same_trust(&self, other: &SecureContext) -> bool {
        let chains = |c: &SecureContext| c.keys.iter().map(|k| k.cert.clone()).collect::<Vec<_>>();
        self.roots.roots == other.roots.roots
            && self.ca.roots == other.ca.roots
            && self.ca.intermediates == other.ca.intermediates
            && self.crls == other.crls
            && chains(self) == chains(other)
    }
}

/// The crypto provider narrowed to `ciphers` (Node's default list when unset) and `ecdhCurve`.
fn provider(o: &Options) -> Result<CryptoProvider, OptionError> {
    let selection =
        super::ciphers::parse_cipher_list(o.str(NTLS_OPT_CIPHERS).unwrap_or("")).map_err(|e| {
            let status = match e {
                super::ciphers::CipherError::NoMatch(_) => crate::error::NTLS_ECIPHER,
                _ => crate::error::NTLS_EINVAL,
            };
            OptionError { status, message: format!("ciphers: {} ({})", e.message(), e.code()) }
        })?;
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites = selection.tls13.into_iter().chain(selection.tls12).collect();
    if let Some(curve) = o.str(NTLS_OPT_ECDH_CURVE) {
        provider.kx_groups = super::curves::parse_ecdh_curve(curve).map_err(OptionError::invalid)?;
    }
    Ok(provider)
}

/// A key that signs only with `allowed` (the context's `sigalgs`).
fn narrowed(key: Arc<CertifiedKey>, allowed: &Arc<[SignatureScheme]>) -> Arc<CertifiedKey> {
    let signer = Arc::new(super::sigalgs::Narrowed::new(key.key.clone(), allowed.clone()));
    Arc::new(CertifiedKey { cert: key.cert.clone(), key: signer, ocsp: key.ocsp.clone() })
}

/// A key's chain with the issuers `ca` holds appended (intermediates only: the peer has the
/// root), as OpenSSL completes a certificate chain from its store.
fn complete_chain(key: Arc<CertifiedKey>, ca: &CaCerts) -> Arc<CertifiedKey> {
    let chain = ca.complete(&key.cert, false);
    if chain.len() == key.cert.len() {
        return key;
    }
    Arc::new(CertifiedKey { cert: chain, key: key.key.clone(), ocsp: key.ocsp.clone() })
}

/// `ca` unset: Mozilla's list (Node bundles the same) plus `NODE_EXTRA_CA_CERTS`; `ca`
/// given only as empty buffers: Node's `ca: []`, trust nothing; else exactly the given CAs:
/// the self-signed ones as trust anchors, the others as intermediates only.
fn load_roots(cas: &[Vec<u8>]) -> Result<(RootCertStore, CaCerts), OptionError> {
    if cas.is_empty() {
        let mut store = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        store.roots.extend(extra_ca_certs().iter().cloned());
        return Ok((store, CaCerts::default()));
    }
    let mut store = RootCertStore::empty();
    let mut all = Vec::new();
    for (i, pem) in cas.iter().enumerate().filter(|(_, pem)| !pem.is_empty()) {
        let what = if cas.len() > 1 { format!("ca {}", i + 1) } else { "ca".to_owned() };
        for cert in keys::parse_certificates(pem, &what).map_err(key_error)? {
            if !super::verify::is_self_signed(&cert) {
                all.push(cert);
                continue;
            }
            all.push(cert.clone());
            store.add(cert).map_err(|e| OptionError {
                status: crate::error::NTLS_EKEY,
                message: format!("{what}: unusable CA certificate ({e})"),
            })?;
        }
    }
    Ok((store, CaCerts::new(all)))
}

/// The certificates of the file `NODE_EXTRA_CA_CERTS` names, read once, as Node reads it at
/// startup; added to the default store only, never to an explicit `ca`. A file that cannot
/// be read or parsed adds nothing (Node warns and goes on; the words go to the log).
fn extra_ca_certs() -> &'static [rustls::pki_types::TrustAnchor<'static>] {
    static EXTRA: std::sync::OnceLock<Vec<rustls::pki_types::TrustAnchor<'static>>> =
        std::sync::OnceLock::new();
    EXTRA.get_or_init(|| {
        let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) else {
            return Vec::new();
        };
        let read = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|pem| keys::parse_certificates(&pem, "NODE_EXTRA_CA_CERTS").map_err(|e| e.to_string()));
        match read {
            Ok(certs) => certs
                .iter()
                .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok().map(|a| a.to_owned()))
                .collect(),
            Err(e) => {
                log::warn!("nodetls: ignoring extra certs from {}: {e}", path.to_string_lossy());
                Vec::new()
            }
        }
    })
}

/// A PFX's key with its chain, and the file's other certificates.
type PfxEntry = (Arc<CertifiedKey>, Vec<CertificateDer<'static>>);

/// `pfx` entries.
fn load_pfx(o: &Options) -> Result<Vec<PfxEntry>, OptionError> {
    let passphrase = o.str(NTLS_OPT_PASSPHRASE).map(str::as_bytes);
    let mut out = Vec::new();
    for der in o.bytes(NTLS_OPT_PFX) {
        let pfx = keys::parse_pfx(der, passphrase).map_err(key_error)?;
        let ck = keys::certified_key(pfx.chain, pfx.key).map_err(key_error)?;
        out.push((ck, pfx.ca));
    }
    Ok(out)
}

/// `crl` entries, each PEM (several blocks) or DER.
fn load_crls(o: &Options) -> Result<Vec<CertificateRevocationListDer<'static>>, OptionError> {
    let mut out = Vec::new();
    for pem in o.bytes(NTLS_OPT_CRL) {
        out.extend(keys::parse_crls(pem).map_err(key_error)?);
    }
    Ok(out)
}

fn load_keys(o: &Options) -> Result<Vec<Arc<CertifiedKey>>, OptionError> {
    let (key_pems, cert_pems) = (o.bytes(NTLS_OPT_KEY), o.bytes(NTLS_OPT_CERT));
    match (key_pems.is_empty(), cert_pems.is_empty()) {
        (true, true) => return Ok(Vec::new()),
        (false, true) if !o.bytes(NTLS_OPT_PFX).is_empty() => {
            return Err(key_error(KeyError::NoCertificate(
                "key given without cert (pfx carries its own)".into(),
            )))
        }
        (false, true) => return Err(key_error(KeyError::NoCertificate("key given without cert".into()))),
        (true, false) => return Err(key_error(KeyError::NoKey("cert given without key".into()))),
        _ => {}
    }
    let passphrase = o.str(NTLS_OPT_PASSPHRASE).map(str::as_bytes);
    let key_passphrases = o.key_passphrases();
    let mut chains = Vec::new();
    for (i, pem) in cert_pems.iter().enumerate() {
        let what = if cert_pems.len() > 1 { format!("cert {}", i + 1) } else { "cert".to_owned() };
        chains.push(keys::parse_certificates(pem, &what).map_err(key_error)?);
    }
    let mut out = Vec::new();
    for (i, pem) in key_pems.iter().enumerate() {
        let what = if key_pems.len() > 1 { format!("key {}", i + 1) } else { "key".to_owned() };
        // Node's {pem, passphrase}: a key's own passphrase, else the context's.
        let own = key_passphrases.get(i).and_then(|p| p.as_deref()).map(str::as_bytes);
        let key = keys::parse_private_key(pem, own.or(passphrase), &what).map_err(key_error)?;
        let mut last = None;
        let found = chains.iter().find_map(|chain| {
            match keys::certified_key(chain.clone(), keys::SecretKey::new(key.clone_key())) {
                Ok(ck) => Some(ck),
                Err(e) => {
                    last = Some(e);
                    None
                }
            }
        });
        match (found, last) {
            (Some(ck), _) => out.push(ck),
            (None, Some(KeyError::KeyMismatch(_))) | (None, None) => {
                let msg = if key_pems.len() > 1 {
                    format!("{what} does not match any certificate")
                } else {
                    "key does not match certificate".to_owned()
                };
                return Err(key_error(KeyError::KeyMismatch(msg)));
            }
            (None, Some(e)) => return Err(key_error(e)),
        }
    }
    Ok(out)
}
