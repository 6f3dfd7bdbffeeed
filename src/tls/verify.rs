//! Certificate verification with Node's error codes, and the switch `rejectUnauthorized`
//! turns: a failed check either ends the handshake or only marks the peer unauthorized.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, OtherError, SignatureScheme,
};
use std::sync::Arc;

/// A verification failure as Node names it (`CERT_HAS_EXPIRED`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCertError {
    /// Node's `err.code` / `authorizationError`.
    pub code: &'static str,
    /// OpenSSL's words for it, as Node shows them.
    pub message: String,
}

impl std::fmt::Display for NodeCertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NodeCertError {}

impl NodeCertError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// Finds our error inside a rustls error, if rustls carried one.
    pub fn from_rustls(e: &Error) -> Option<NodeCertError> {
        match e {
            Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
                inner.downcast_ref::<NodeCertError>().cloned()
            }
            _ => None,
        }
    }

    fn into_rustls(self) -> Error {
        Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(self))))
    }
}

fn is_self_signed(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.tbs_certificate.subject.as_raw() == c.tbs_certificate.issuer.as_raw())
        .unwrap_or(false)
}

/// Maps a rustls verification error to Node's code, looking at the chain as OpenSSL would.
pub fn node_error(e: &Error, chain: &[CertificateDer<'_>], host: &str) -> NodeCertError {
    let ce = match e {
        Error::InvalidCertificate(ce) => ce,
        other => return NodeCertError::new("UNABLE_TO_VERIFY_LEAF_SIGNATURE", other.to_string()),
    };
    use CertificateError as C;
    match ce {
        C::UnknownIssuer => match chain {
            [leaf] if is_self_signed(leaf) => {
                NodeCertError::new("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")
            }
            [_] => NodeCertError::new(
                "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
                "unable to verify the first certificate",
            ),
            [.., last] if is_self_signed(last) => NodeCertError::new(
                "SELF_SIGNED_CERT_IN_CHAIN",
                "self-signed certificate in certificate chain",
            ),
            _ => NodeCertError::new(
                "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
                "unable to get local issuer certificate",
            ),
        },
        C::Expired | C::ExpiredContext { .. } => {
            NodeCertError::new("CERT_HAS_EXPIRED", "certificate has expired")
        }
        C::NotValidYet | C::NotValidYetContext { .. } => {
            NodeCertError::new("CERT_NOT_YET_VALID", "certificate is not yet valid")
        }
        C::Revoked => NodeCertError::new("CERT_REVOKED", "certificate revoked"),
        C::UnknownRevocationStatus => {
            NodeCertError::new("UNABLE_TO_GET_CRL", "unable to get certificate CRL")
        }
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            NodeCertError::new("CRL_HAS_EXPIRED", "CRL has expired")
        }
        C::BadSignature => NodeCertError::new("CERT_SIGNATURE_FAILURE", "certificate signature failure"),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            NodeCertError::new("INVALID_PURPOSE", "unsupported certificate purpose")
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => altname_error(chain, host),
        C::Other(OtherError(inner)) => match (inner.downcast_ref::<NodeCertError>(), chain) {
            (Some(n), _) => n.clone(),
            // webpki refuses a CA certificate as the leaf before it looks for an issuer;
            // OpenSSL first finds that nothing trusts it.
            (None, [leaf]) if is_self_signed(leaf) => {
                NodeCertError::new("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")
            }
            (None, _) => NodeCertError::new("UNABLE_TO_VERIFY_LEAF_SIGNATURE", inner.to_string()),
        },
        other => NodeCertError::new("UNABLE_TO_VERIFY_LEAF_SIGNATURE", format!("{other:?}")),
    }
}

fn altname_error(chain: &[CertificateDer<'_>], host: &str) -> NodeCertError {
    let reason = chain
        .first()
        .and_then(|leaf| super::x509::PeerCert::from_der(leaf).ok())
        .and_then(|cert| super::x509::check_server_identity(host, &cert).err())
        .unwrap_or_else(|| format!("Host: {host}. is not in the cert's altnames"));
    NodeCertError::new(
        "ERR_TLS_CERT_ALTNAME_INVALID",
        format!("Hostname/IP does not match certificate's altnames: {reason}"),
    )
}

/// Checks a server's chain and name; with `reject` false a failure only marks the peer.
#[derive(Debug)]
pub struct NodeServerVerifier {
    inner: Arc<WebPkiServerVerifier>,
    roots: Arc<rustls::RootCertStore>,
    reject: bool,
}

impl NodeServerVerifier {
    /// A verifier over `inner`'s roots and CRLs.
    pub fn new(inner: Arc<WebPkiServerVerifier>, roots: Arc<rustls::RootCertStore>, reject: bool) -> Self {
        Self { inner, roots, reject }
    }

    /// A leaf that is itself in `ca` (Node's usual way to trust a self-signed server):
    /// OpenSSL accepts it as trusted; webpki would refuse a CA:TRUE leaf. Checks dates and
    /// name. None when the leaf is not a trusted root.
    fn directly_trusted(
        &self,
        ee: &CertificateDer<'_>,
        name: &ServerName<'_>,
        now: UnixTime,
    ) -> Option<Result<(), Error>> {
        let anchor = webpki::anchor_from_trusted_cert(ee).ok()?;
        let trusted = self.roots.roots.iter().any(|r| {
            r.subject.as_ref() == anchor.subject.as_ref()
                && r.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
        });
        if !trusted {
            return None;
        }
        let (_, cert) = x509_parser::parse_x509_certificate(ee).ok()?;
        let at = x509_parser::time::ASN1Time::from_timestamp(now.as_secs() as i64).ok()?;
        if !cert.validity().is_valid_at(at) {
            let expired = at > cert.validity().not_after;
            let e = if expired { CertificateError::Expired } else { CertificateError::NotValidYet };
            return Some(Err(Error::InvalidCertificate(e)));
        }
        let parsed = rustls::server::ParsedCertificate::try_from(ee).ok()?;
        Some(rustls::client::verify_server_name(&parsed, name))
    }

    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<(), Error> {
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Ok(_) => Ok(()),
            Err(e) => self.directly_trusted(end_entity, server_name, now).unwrap_or(Err(e)),
        }
    }

    /// Whether a failed check ends the handshake (`rejectUnauthorized`).
    pub fn rejects(&self) -> bool {
        self.reject
    }

    /// The verdict for a finished handshake's chain: `authorized` / `authorizationError`.
    pub fn check(&self, chain: &[CertificateDer<'_>], name: &ServerName<'_>) -> Result<(), NodeCertError> {
        let (leaf, rest) = chain
            .split_first()
            .ok_or_else(|| NodeCertError::new("UNABLE_TO_GET_ISSUER_CERT", "peer sent no certificate"))?;
        self.verify(leaf, rest, name, &[], UnixTime::now()).map_err(|e| node_error(&e, chain, &name.to_str()))
    }
}

impl ServerCertVerifier for NodeServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.verify(end_entity, intermediates, server_name, ocsp_response, now) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(_) if !self.reject => Ok(ServerCertVerified::assertion()),
            Err(e) => {
                let mut chain = vec![end_entity.clone()];
                chain.extend(intermediates.iter().cloned());
                Err(node_error(&e, &chain, &server_name.to_str()).into_rustls())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Checks client certificates for a server with `requestCert`.
#[derive(Debug)]
pub struct NodeClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    reject: bool,
}

impl NodeClientVerifier {
    /// Asks for a certificate; demands one only when `reject` is set (OpenSSL's FAIL_IF_NO_PEER_CERT).
    pub fn new(
        roots: Arc<rustls::RootCertStore>,
        crls: &[rustls::pki_types::CertificateRevocationListDer<'static>],
        reject: bool,
    ) -> Result<Self, String> {
        let inner = WebPkiClientVerifier::builder(roots)
            .with_crls(crls.iter().cloned())
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("cannot verify client certificates: {e}"))?;
        Ok(Self { inner, reject })
    }

    /// The verdict for a client's chain: `authorized` / `authorizationError`.
    pub fn check(&self, chain: &[CertificateDer<'_>]) -> Result<(), NodeCertError> {
        let (leaf, rest) = chain.split_first().ok_or_else(|| {
            NodeCertError::new("UNABLE_TO_GET_ISSUER_CERT", "peer did not return a certificate")
        })?;
        self.inner
            .verify_client_cert(leaf, rest, UnixTime::now())
            .map(|_| ())
            .map_err(|e| node_error(&e, chain, ""))
    }
}

impl ClientCertVerifier for NodeClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.reject
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        match self.inner.verify_client_cert(end_entity, intermediates, now) {
            Ok(v) => Ok(v),
            Err(_) if !self.reject => Ok(ClientCertVerified::assertion()),
            Err(e) => {
                let mut chain = vec![end_entity.clone()];
                chain.extend(intermediates.iter().cloned());
                Err(node_error(&e, &chain, "").into_rustls())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
