//! rustls client configuration from a context and `tls.connect` options.

use super::context::SecureContext;
use super::handshake::keylog::NodeKeyLog;
use super::server_config::alpn_list;
use super::sessions::client::{ResumeIdentity, SocketSessions};
use super::verify::NodeServerVerifier;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use rustls::client::{ResolvesClientCert, Resumption};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, SignatureScheme};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A client's TLS settings and the verifier that also judges `authorized` afterwards.
#[derive(Debug)]
pub struct ClientTls {
    /// The connection's config.
    pub config: Arc<ClientConfig>,
    /// Chain and host-name checks.
    pub verifier: Arc<NodeServerVerifier>,
    /// The certificate `getCertificate()` shows when the server asks for none.
    pub default_cert: Option<Arc<CertifiedKey>>,
    /// The connection's session store: the `session` option offered, the saved ones.
    pub sessions: Arc<SocketSessions>,
    /// `requestOCSP`: emit `OCSPResponse` with what the server stapled.
    pub request_ocsp: bool,
}

/// Presents the context's certificate when a server asks for one.
#[derive(Debug)]
struct ContextClientCert(Arc<SecureContext>);

impl ResolvesClientCert for ContextClientCert {
    fn resolve(&self, _hints: &[&[u8]], schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        // A client knows the server's list only from its CertificateRequest, and OpenSSL's
        // client orders the shared list by it.
        super::handshake::notes::shared_sigalgs(super::sigalgs::shared(self.0.sigalgs(), schemes, false));
        let key = self.0.choose_key(schemes)?;
        super::handshake::notes::own_cert(key.clone());
        Some(key)
    }

    fn has_certs(&self) -> bool {
        self.0.has_keys()
    }
}

/// Builds the client side of `tls.connect(options)`; key-log lines reach the socket's
/// `keylog` event while `keylog_wanted` is set. A `session` whose handshake judged
/// servers as these options do is offered (rustls resumes only under that handshake's
/// verifier and resolver, so the connection adopts them); another one is ignored, and the
/// connection makes a full handshake, as it would with a session the server forgot.
pub fn build(o: &Options, keylog_wanted: Arc<AtomicBool>) -> Result<ClientTls, OptionError> {
    let ctx = SecureContext::from_options(o)?;
    let reject = o.bool_or(NTLS_OPT_REJECT_UNAUTHORIZED, true);
    let offered = o.session().filter(|s| s.identity().admits(&ctx, reject)).cloned();
    let identity = match &offered {
        Some(s) => s.identity().clone(),
        None => {
            let verifier = NodeServerVerifier::new(
                ctx.roots().clone(),
                ctx.ca().clone(),
                ctx.crls(),
                ctx.provider(),
                reject,
            )
            .map_err(OptionError::invalid)?
            .with_identity_check(o.check_server_identity().cloned());
            let resolver: Arc<dyn ResolvesClientCert> = Arc::new(ContextClientCert(ctx.clone()));
            Arc::new(ResumeIdentity { verifier: Arc::new(verifier), resolver, ctx: ctx.clone(), reject })
        }
    };
    let sessions = Arc::new(SocketSessions::new(identity.clone(), offered));
    // No scheme fits, so this is the first key: what OpenSSL calls the current certificate.
    let default_cert = ctx.choose_key(&[]);
    let mut config = ClientConfig::builder_with_provider(ctx.provider().clone())
        .with_protocol_versions(ctx.versions())
        .map_err(|e| OptionError::invalid(format!("protocol versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(identity.verifier.clone())
        .with_client_cert_resolver(identity.resolver.clone());
    config.alpn_protocols = alpn_list(o)?;
    config.resumption = Resumption::store(sessions.clone());
    config.key_log = NodeKeyLog::new(keylog_wanted);
    Ok(ClientTls {
        config: Arc::new(config),
        verifier: identity.verifier.clone(),
        default_cert,
        sessions,
        request_ocsp: o.bool_or(NTLS_OPT_REQUEST_OCSP, false),
    })
}
