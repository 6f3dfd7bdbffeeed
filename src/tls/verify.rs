//! Certificate verification with Node's error codes, and the switch `rejectUnauthorized`
//! turns: a failed check either ends the handshake or only marks the peer unauthorized.

use crate::error::NtlsError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
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
    /// Why the host name did not match (Node's `err.reason`), for identity failures.
    pub reason: Option<String>,
    /// The certificate that did not match (Node's `err.cert`), for identity failures.
    pub cert: Option<Vec<u8>>,
    /// The error the program's `checkServerIdentity` returned, which the connection
    /// fails with as it is (Node's `socket.destroy(verifyError)`).
    pub program: Option<Box<NtlsError>>,
}

/// A program's `checkServerIdentity(hostname, cert)`: called with the host name and the
/// peer's chain (leaf first, linked up to its anchor as `getPeerCertificate(true)` shows
/// it) once the chain verified; an error fails the connection.
pub type IdentityCheck = Arc<dyn Fn(&str, &[CertificateDer<'static>]) -> Result<(), NtlsError> + Send + Sync>;

impl std::fmt::Display for NodeCertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NodeCertError {}

impl NodeCertError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), reason: None, cert: None, program: None }
    }

    /// The error a connection fails with: the program's own, else Node's (an identity
    /// error carries `reason`, `host` and `cert`).
    pub fn into_error(self, host: &str) -> NtlsError {
        if let Some(program) = self.program {
            return *program;
        }
        let err = NtlsError::new(crate::error::NTLS_ECERT, self.code, &self.message);
        match self.reason {
            Some(reason) => err.with(|d| {
                d.reason = Some(crate::error::cstring(&reason));
                d.host = Some(crate::error::cstring(host));
                d.cert = self.cert;
            }),
            None => err,
        }
    }

    /// Node's `authorizationError`: `verifyError.code || verifyError.message`.
    pub fn authorization_error(&self) -> &str {
        match &self.program {
            Some(p) if !p.code().is_empty() => p.code(),
            Some(p) => p.message(),
            None => self.code,
        }
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

/// The certificates of an explicit `ca`, as OpenSSL uses them: the self-signed ones are
/// trust anchors, the others only help build a chain.
#[derive(Debug, Clone)]
pub struct CaCerts {
    /// Self-signed certificates of `ca` (the anchors, as full certificates).
    pub roots: Arc<[CertificateDer<'static>]>,
    /// The other certificates of `ca`.
    pub intermediates: Arc<[CertificateDer<'static>]>,
}

impl Default for CaCerts {
    fn default() -> Self {
        CaCerts { roots: Vec::new().into(), intermediates: Vec::new().into() }
    }
}

impl CaCerts {
    /// Splits `certs` into anchors and intermediates.
    pub fn new(certs: Vec<CertificateDer<'static>>) -> CaCerts {
        let (roots, intermediates): (Vec<_>, Vec<_>) = certs.into_iter().partition(|c| is_self_signed(c));
        CaCerts { roots: roots.into(), intermediates: intermediates.into() }
    }

    /// `chain` with the issuers `ca` holds appended, as OpenSSL links a chain from its store:
    /// intermediates, and with `to_anchor` the self-signed root it ends at.
    pub fn complete(
        &self,
        chain: &[CertificateDer<'static>],
        to_anchor: bool,
    ) -> Vec<CertificateDer<'static>> {
        let mut chain = chain.to_vec();
        if self.intermediates.is_empty() && (!to_anchor || self.roots.is_empty()) {
            return chain; // nothing to link with (no explicit `ca`): no parsing
        }
        let pools: &[&[CertificateDer<'static>]] =
            if to_anchor { &[&self.intermediates, &self.roots] } else { &[&self.intermediates] };
        while let Some(last) = chain.last() {
            if is_self_signed(last) || chain.len() > 10 {
                break;
            }
            let next = pools.iter().flat_map(|p| p.iter()).find(|c| !chain.contains(c) && issued(c, last));
            match next {
                Some(issuer) => chain.push(issuer.clone()),
                None => break,
            }
        }
        chain
    }
}

/// The peer's chain with the non-root certificates of `ca` after it, for path building:
/// OpenSSL finds issuers in its store too.
fn with_ca<'a>(
    intermediates: &'a [CertificateDer<'a>],
    ca_intermediates: &'a [CertificateDer<'static>],
) -> std::borrow::Cow<'a, [CertificateDer<'a>]> {
    if ca_intermediates.is_empty() {
        return std::borrow::Cow::Borrowed(intermediates);
    }
    std::borrow::Cow::Owned(intermediates.iter().chain(ca_intermediates).cloned().collect())
}

/// A chain that ends at a certificate of `ca` that is no root (OpenSSL's partial chain,
/// which Node refuses by default): "unable to get issuer certificate", as OpenSSL says when
/// it found the last certificate's issuer in its store but not that one's.
fn partial_chain_error(
    e: Error,
    chain_end: &CertificateDer<'_>,
    ca_intermediates: &[CertificateDer<'static>],
) -> Error {
    if !matches!(e, Error::InvalidCertificate(CertificateError::UnknownIssuer)) || ca_intermediates.is_empty()
    {
        return e;
    }
    let found = ca_intermediates.iter().any(|c| c == chain_end || issued(c, chain_end));
    if !found {
        return e;
    }
    NodeCertError::new("UNABLE_TO_GET_ISSUER_CERT", "unable to get issuer certificate").into_rustls()
}

/// Whether `issuer`'s subject is the name `cert` gives as its issuer.
pub fn issued(issuer: &CertificateDer<'_>, cert: &CertificateDer<'_>) -> bool {
    let names = |der: &CertificateDer<'_>| {
        x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| {
            (c.tbs_certificate.subject.as_raw().to_vec(), c.tbs_certificate.issuer.as_raw().to_vec())
        })
    };
    matches!((names(issuer), names(cert)), (Some((subject, _)), Some((_, wanted))) if subject == wanted)
}

/// Whether a certificate names itself as its issuer (a root, or a self-signed leaf).
pub fn is_self_signed(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.tbs_certificate.subject.as_raw() == c.tbs_certificate.issuer.as_raw())
        .unwrap_or(false)
}

/// A certificate's notBefore/notAfter at `now`, as rustls names a failure.
pub(super) fn check_dates(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    now: UnixTime,
) -> Result<(), Error> {
    let at = x509_parser::time::ASN1Time::from_timestamp(now.as_secs() as i64)
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
    if cert.validity().is_valid_at(at) {
        return Ok(());
    }
    let expired = at > cert.validity().not_after;
    Err(Error::InvalidCertificate(if expired {
        CertificateError::Expired
    } else {
        CertificateError::NotValidYet
    }))
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
        C::Other(OtherError(inner)) => {
            match (inner.downcast_ref::<NodeCertError>(), inner.downcast_ref::<webpki::Error>(), chain) {
                (Some(n), _, _) => n.clone(),
                // webpki refuses a CA certificate as the leaf before it looks for an issuer;
                // OpenSSL first finds that nothing trusts it.
                (None, _, [leaf]) if is_self_signed(leaf) => {
                    NodeCertError::new("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")
                }
                // webpki's own reasons, which rustls passes through: OpenSSL's names for them.
                (None, Some(w), _) => webpki_error(w, chain),
                (None, None, _) => NodeCertError::new("UNABLE_TO_VERIFY_LEAF_SIGNATURE", inner.to_string()),
            }
        }
        other => NodeCertError::new("UNABLE_TO_VERIFY_LEAF_SIGNATURE", format!("{other:?}")),
    }
}

/// A webpki path-building failure as OpenSSL reports it.
fn webpki_error(e: &webpki::Error, chain: &[CertificateDer<'_>]) -> NodeCertError {
    use webpki::Error as W;
    match e {
        W::PathLenConstraintViolated => {
            NodeCertError::new("PATH_LENGTH_EXCEEDED", "path length constraint exceeded")
        }
        // An issuer without CA:TRUE: OpenSSL's purpose check refuses it first.
        W::EndEntityUsedAsCa => NodeCertError::new("INVALID_PURPOSE", "unsupported certificate purpose"),
        W::CaUsedAsEndEntity => NodeCertError::new("INVALID_PURPOSE", "unsupported certificate purpose"),
        W::UnsupportedCertVersion if chain.len() > 1 => {
            NodeCertError::new("INVALID_CA", "invalid CA certificate")
        }
        W::MaximumPathDepthExceeded => {
            NodeCertError::new("CERT_CHAIN_TOO_LONG", "certificate chain too long")
        }
        other => NodeCertError::new("UNABLE_TO_VERIFY_LEAF_SIGNATURE", other.to_string()),
    }
}

/// Node's `tls.checkServerIdentity(host, cert)` on a leaf: None when the name matches,
/// else `ERR_TLS_CERT_ALTNAME_INVALID` with `reason`, `host` and `cert`.
pub fn check_identity(host: &str, cert: &super::x509::PeerCert) -> Option<NtlsError> {
    let reason = super::x509::check_server_identity(host, cert).err()?;
    Some(altname(reason, Some(cert.der().to_vec())).into_error(host))
}

fn altname_error(chain: &[CertificateDer<'_>], host: &str) -> NodeCertError {
    let reason = chain
        .first()
        .and_then(|leaf| super::x509::PeerCert::from_der(leaf).ok())
        .and_then(|cert| super::x509::check_server_identity(host, &cert).err())
        .unwrap_or_else(|| format!("Host: {host}. is not in the cert's altnames"));
    altname(reason, chain.first().map(|c| c.to_vec()))
}

/// `ERR_TLS_CERT_ALTNAME_INVALID` for `reason`, carrying the certificate (DER).
fn altname(reason: String, cert: Option<Vec<u8>>) -> NodeCertError {
    let message = format!("Hostname/IP does not match certificate's altnames: {reason}");
    NodeCertError {
        reason: Some(reason),
        cert,
        ..NodeCertError::new("ERR_TLS_CERT_ALTNAME_INVALID", message)
    }
}

/// The host-name check of Node's `tls.checkServerIdentity`, which differs from webpki's:
/// the subject CN counts when the certificate has no DNS name (also with only IP SANs), and
/// a wildcard may be part of a label (`a*.example.org`).
fn node_identity(leaf: &CertificateDer<'_>, name: &ServerName<'_>) -> Result<(), Error> {
    let host = name.to_str();
    let cert = super::x509::PeerCert::from_der(leaf)
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
    super::x509::check_server_identity(&host, &cert)
        .map_err(|_| Error::InvalidCertificate(CertificateError::NotValidForName))
}

/// Checks a server's chain and name; with `reject` false a failure only marks the peer.
pub struct NodeServerVerifier {
    /// webpki's chain checks; None for an empty trust store (Node's `ca: []`), where every
    /// chain fails as it would in OpenSSL with nothing trusted.
    inner: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    roots: Arc<rustls::RootCertStore>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    ca: CaCerts,
    reject: bool,
    /// What servers stapled, by leaf (the few latest), for `OCSPResponse`.
    stapled: std::sync::Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
    identity: Option<IdentityCheck>,
}

impl std::fmt::Debug for IdentityCheckSlot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "program's checkServerIdentity"
        } else {
            "Node's checkServerIdentity"
        })
    }
}

/// How a verifier's identity check shows in `Debug`.
struct IdentityCheckSlot<'a>(&'a Option<IdentityCheck>);

impl std::fmt::Debug for NodeServerVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeServerVerifier")
            .field("reject", &self.reject)
            .field("identity", &IdentityCheckSlot(&self.identity))
            .finish_non_exhaustive()
    }
}

impl NodeServerVerifier {
    /// Replaces the host-name check with the program's `checkServerIdentity`.
    pub fn with_identity_check(mut self, check: Option<IdentityCheck>) -> Self {
        self.identity = check;
        self
    }

    /// The OCSP response stapled with `leaf` in the latest full handshake that presented it.
    pub fn stapled_for(&self, leaf: &[u8]) -> Option<Vec<u8>> {
        let stapled = self.stapled.lock().unwrap_or_else(|e| e.into_inner());
        stapled.iter().rev().find(|(l, _)| l == leaf).map(|(_, r)| r.clone())
    }

    fn note_stapled(&self, leaf: &[u8], response: &[u8]) {
        let mut stapled = self.stapled.lock().unwrap_or_else(|e| e.into_inner());
        stapled.retain(|(l, _)| l != leaf);
        if !response.is_empty() {
            // A verifier is shared only by connections resuming one session: a few suffice.
            if stapled.len() >= 8 {
                stapled.remove(0);
            }
            stapled.push((leaf.to_vec(), response.to_vec()));
        }
    }

    /// A verifier over `roots` (and the non-root certificates of `ca`, for path building)
    /// and `crls`, with `provider`'s signature algorithms.
    pub fn new(
        roots: Arc<rustls::RootCertStore>,
        ca: CaCerts,
        crls: &[CertificateRevocationListDer<'static>],
        provider: &Arc<CryptoProvider>,
        reject: bool,
    ) -> Result<Self, String> {
        // An empty store (Node's `ca: []`) trusts nothing: no webpki verifier at all.
        let inner = (!roots.is_empty())
            .then(|| {
                let builder = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone());
                builder.with_crls(crls.iter().cloned()).build()
            })
            .transpose()
            .map_err(|e| format!("cannot verify servers: {e}"))?;
        Ok(Self {
            inner,
            algorithms: provider.signature_verification_algorithms,
            roots,
            crls: crls.to_vec(),
            ca,
            reject,
            stapled: Default::default(),
            identity: None,
        })
    }

    /// A leaf that is itself in `ca` (Node's usual way to trust a self-signed server):
    /// OpenSSL accepts it as trusted; webpki would refuse a CA:TRUE leaf. Checks dates
    /// (the name is checked by the caller). None when the leaf is not a trusted root.
    fn directly_trusted(&self, ee: &CertificateDer<'_>, now: UnixTime) -> Option<Result<(), Error>> {
        let anchor = webpki::anchor_from_trusted_cert(ee).ok()?;
        let trusted = self.roots.roots.iter().any(|r| {
            r.subject.as_ref() == anchor.subject.as_ref()
                && r.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
        });
        if !trusted {
            return None;
        }
        let (_, cert) = x509_parser::parse_x509_certificate(ee).ok()?;
        Some(check_dates(&cert, now))
    }

    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
        check_identity: bool,
    ) -> Result<(), Error> {
        let path = with_ca(intermediates, &self.ca.intermediates);
        let chain = match &self.inner {
            Some(v) => v.verify_server_cert(end_entity, &path, server_name, ocsp_response, now).map(|_| ()),
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
        .or_else(|e| {
            super::v1_leaf::retry(
                e,
                end_entity,
                intermediates,
                &self.roots,
                &self.crls,
                &self.algorithms,
                now,
            )
        });
        let chain_end = intermediates.last().unwrap_or(end_entity);
        let chain = chain.map_err(|e| partial_chain_error(e, chain_end, &self.ca.intermediates));
        match chain {
            Ok(()) => {}
            // webpki checks the name only once the chain verified: the chain is good, and
            // the name is judged below by Node's rules rather than webpki's.
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => {}
            Err(e) => self.directly_trusted(end_entity, now).unwrap_or(Err(e))?,
        }
        if !check_identity {
            return Ok(());
        }
        let Some(check) = &self.identity else { return node_identity(end_entity, server_name) };
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        let shown = self.ca.complete(&chain, true);
        check(&server_name.to_str(), &shown).map_err(|program| {
            let mut e = NodeCertError::new("ERR_TLS_CERT_ALTNAME_INVALID", program.message().to_owned());
            e.program = Some(Box::new(program));
            e.into_rustls()
        })
    }

    /// The peer's chain as `getPeerCertificate(true)` shows it: linked through `ca` up to the
    /// anchor, as OpenSSL's verified chain is.
    pub fn chain_for_display(&self, peer: &[CertificateDer<'static>]) -> Vec<CertificateDer<'static>> {
        self.ca.complete(peer, true)
    }

    /// Whether a failed check ends the handshake (`rejectUnauthorized`).
    pub fn rejects(&self) -> bool {
        self.reject
    }

    /// The verdict for a finished handshake's chain: `authorized` / `authorizationError`.
    /// A resumed session's name is not checked again (Node calls no `checkServerIdentity`
    /// when the server resumed the session).
    pub fn check(
        &self,
        chain: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        resumed: bool,
    ) -> Result<(), NodeCertError> {
        let (leaf, rest) = chain
            .split_first()
            .ok_or_else(|| NodeCertError::new("UNABLE_TO_GET_ISSUER_CERT", "peer sent no certificate"))?;
        self.verify(leaf, rest, name, &[], UnixTime::now(), !resumed)
            .map_err(|e| node_error(&e, chain, &name.to_str()))
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
        self.note_stapled(end_entity.as_ref(), ocsp_response);
        if !self.reject {
            // Only marks the peer: `check` judges it once the handshake is done (so the
            // program's checkServerIdentity runs once, as in Node).
            return Ok(ServerCertVerified::assertion());
        }
        match self.verify(end_entity, intermediates, server_name, ocsp_response, now, true) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
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
        super::v1_leaf::tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        super::v1_leaf::tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Checks client certificates for a server with `requestCert`.
#[derive(Debug)]
pub struct NodeClientVerifier {
    /// webpki's chain checks; None for an empty trust store (Node's `ca: []`).
    inner: Option<Arc<dyn ClientCertVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    roots: Arc<rustls::RootCertStore>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    ca: CaCerts,
    reject: bool,
}

impl NodeClientVerifier {
    /// Asks for a certificate; demands one only when `reject` is set (OpenSSL's FAIL_IF_NO_PEER_CERT).
    pub fn new(
        roots: Arc<rustls::RootCertStore>,
        ca: CaCerts,
        crls: &[CertificateRevocationListDer<'static>],
        provider: &Arc<CryptoProvider>,
        reject: bool,
    ) -> Result<Self, String> {
        let inner = (!roots.is_empty())
            .then(|| {
                let builder = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
                builder.with_crls(crls.iter().cloned()).allow_unauthenticated().build()
            })
            .transpose()
            .map_err(|e| format!("cannot verify client certificates: {e}"))?;
        let (algorithms, crls) = (provider.signature_verification_algorithms, crls.to_vec());
        Ok(Self { inner, algorithms, roots, crls, ca, reject })
    }

    fn verify_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let path = with_ca(intermediates, &self.ca.intermediates);
        let chain_end = intermediates.last().unwrap_or(end_entity);
        match &self.inner {
            Some(v) => v.verify_client_cert(end_entity, &path, now),
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
        .or_else(|e| {
            super::v1_leaf::retry(
                e,
                end_entity,
                intermediates,
                &self.roots,
                &self.crls,
                &self.algorithms,
                now,
            )
            .map(|()| ClientCertVerified::assertion())
        })
        .map_err(|e| partial_chain_error(e, chain_end, &self.ca.intermediates))
    }

    /// The client's chain as `getPeerCertificate(true)` shows it, linked up to the anchor.
    pub fn chain_for_display(&self, peer: &[CertificateDer<'static>]) -> Vec<CertificateDer<'static>> {
        self.ca.complete(peer, true)
    }

    /// The verdict for a client's chain: `authorized` / `authorizationError`.
    pub fn check(&self, chain: &[CertificateDer<'_>]) -> Result<(), NodeCertError> {
        let (leaf, rest) = chain.split_first().ok_or_else(|| {
            NodeCertError::new("UNABLE_TO_GET_ISSUER_CERT", "peer did not return a certificate")
        })?;
        self.verify_chain(leaf, rest, UnixTime::now()).map(|_| ()).map_err(|e| node_error(&e, chain, ""))
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
        self.inner.as_ref().map_or(&[], |v| v.root_hint_subjects())
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        match self.verify_chain(end_entity, intermediates, now) {
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
        super::v1_leaf::tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        super::v1_leaf::tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs");

    /// A leaf signed by gen-certs.sh's CA with the given subject and extensions.
    fn leaf(dir: &Path, name: &str, subj: &str, ext: &str) -> CertificateDer<'static> {
        let ca = Path::new(CERTS);
        if !ca.join(".complete").exists() {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-certs.sh");
            assert!(Command::new("bash").args([script, CERTS]).status().unwrap().success());
        }
        let [key, csr, ext_file, cert] =
            [".key", ".csr", ".ext", ".pem"].map(|s| dir.join(format!("{name}{s}")));
        std::fs::write(&ext_file, format!("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n{ext}\n"))
            .unwrap();
        let run = |args: &[&std::ffi::OsStr]| {
            let out = Command::new("openssl").args(args).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        };
        let os = |s: &'static str| std::ffi::OsStr::new(s);
        run(&[
            os("req"),
            os("-new"),
            os("-newkey"),
            os("ec"),
            os("-pkeyopt"),
            os("ec_paramgen_curve:P-256"),
            os("-nodes"),
            os("-keyout"),
            key.as_os_str(),
            os("-out"),
            csr.as_os_str(),
            os("-subj"),
            subj.as_ref(),
        ]);
        let (ca_cert, ca_key) = (ca.join("ca-cert.pem"), ca.join("ca-key.pem"));
        run(&[
            os("x509"),
            os("-req"),
            os("-in"),
            csr.as_os_str(),
            os("-CA"),
            ca_cert.as_os_str(),
            os("-CAkey"),
            ca_key.as_os_str(),
            os("-set_serial"),
            os("7"),
            os("-days"),
            os("30"),
            os("-extfile"),
            ext_file.as_os_str(),
            os("-out"),
            cert.as_os_str(),
        ]);
        CertificateDer::from_pem_file(&cert).unwrap()
    }

    fn verifier() -> NodeServerVerifier {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(Path::new(CERTS).join("ca-cert.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        NodeServerVerifier::new(roots, CaCerts::default(), &[], &provider, true).unwrap()
    }

    fn verdict(
        v: &NodeServerVerifier,
        cert: &CertificateDer<'static>,
        host: &str,
    ) -> Result<(), &'static str> {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        v.check(std::slice::from_ref(cert), &name, false).map_err(|e| e.code)
    }

    #[test]
    fn host_names_follow_nodes_check_server_identity() {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/verify-identity-certs"))
            .join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let v = verifier();
        // No SAN at all: Node 20 falls back to the subject CN.
        let cn_only = leaf(&dir, "cn-only", "/CN=localhost", "");
        assert_eq!(verdict(&v, &cn_only, "localhost"), Ok(()));
        assert_eq!(verdict(&v, &cn_only, "other.example"), Err("ERR_TLS_CERT_ALTNAME_INVALID"));
        // Only IP SANs: no DNS name, so the CN counts for a host name; the IP for an IP.
        let ip_only = leaf(&dir, "ip-only", "/CN=localhost", "subjectAltName=IP:127.0.0.1");
        assert_eq!(verdict(&v, &ip_only, "localhost"), Ok(()));
        assert_eq!(verdict(&v, &ip_only, "127.0.0.1"), Ok(()));
        assert_eq!(verdict(&v, &ip_only, "127.0.0.2"), Err("ERR_TLS_CERT_ALTNAME_INVALID"));
        // A DNS SAN present: the CN no longer counts.
        let dns = leaf(&dir, "dns", "/CN=localhost", "subjectAltName=DNS:a.example.org");
        assert_eq!(verdict(&v, &dns, "localhost"), Err("ERR_TLS_CERT_ALTNAME_INVALID"));
        // A wildcard inside a label, which Node accepts and webpki does not.
        let partial = leaf(&dir, "partial", "/CN=x", "subjectAltName=DNS:ab*.example.org");
        assert_eq!(verdict(&v, &partial, "abc.example.org"), Ok(()));
        assert_eq!(verdict(&v, &partial, "xbc.example.org"), Err("ERR_TLS_CERT_ALTNAME_INVALID"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
