//! OCSP stapling on the server: the static `ocspResponse` of each certificate, the issuer
//! handed to `OCSPRequest`, and the resolver that staples the program's answer for one
//! connection. (The client's side, `requestOCSP` and `OCSPResponse`, reads what rustls
//! hands its verifier: `tls::verify::NodeServerVerifier::stapled_for`.)

use super::context::SecureContext;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use rustls::pki_types::CertificateDer;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::Arc;

/// `ocspResponse`: the i-th response is stapled for the i-th `cert`'s leaf.
pub fn attach_static(
    keys: Vec<Arc<CertifiedKey>>,
    o: &Options,
) -> Result<Vec<Arc<CertifiedKey>>, OptionError> {
    let responses = o.bytes(NTLS_OPT_OCSP_RESPONSE);
    if responses.is_empty() {
        return Ok(keys);
    }
    let certs = o.bytes(NTLS_OPT_CERT);
    if responses.len() > certs.len() {
        return Err(OptionError::invalid(format!(
            "ocspResponse: {} responses for {} certificates",
            responses.len(),
            certs.len()
        )));
    }
    if let Some(i) = responses.iter().position(Vec::is_empty) {
        return Err(OptionError::invalid(format!("ocspResponse {} is empty", i + 1)));
    }
    let mut leaves = Vec::new();
    for pem in &certs[..responses.len()] {
        let chain =
            super::keys::parse_certificates(pem, "cert").map_err(|e| OptionError::invalid(e.to_string()))?;
        leaves.push(chain.into_iter().next());
    }
    Ok(keys
        .into_iter()
        .map(|k| match leaves.iter().position(|l| l.as_ref() == k.cert.first()) {
            Some(i) => with_response(&k, responses[i].clone()),
            None => k,
        })
        .collect())
}

/// `key` stapling `response`.
pub fn with_response(key: &CertifiedKey, response: Vec<u8>) -> Arc<CertifiedKey> {
    Arc::new(CertifiedKey { cert: key.cert.clone(), key: key.key.clone(), ocsp: Some(response) })
}

/// The issuer of `key`'s leaf, as `OCSPRequest` gets it: the next certificate of its chain,
/// else the context's `ca` certificate that issued it; None when neither holds it.
pub fn issuer(ctx: &SecureContext, key: &CertifiedKey) -> Option<CertificateDer<'static>> {
    if let Some(next) = key.cert.get(1) {
        return Some(next.clone());
    }
    let leaf = key.cert.first()?;
    ctx.ca().complete(std::slice::from_ref(leaf), true).get(1).cloned()
}

/// A connection's own resolver: the key chosen for `OCSPRequest`, with its answer stapled.
#[derive(Debug)]
pub struct Stapled(pub Arc<CertifiedKey>);

impl ResolvesServerCert for Stapled {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
