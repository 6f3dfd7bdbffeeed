//! rustls client configuration from a context and `tls.connect` options.

use super::context::SecureContext;
use super::handshake::keylog::NodeKeyLog;
use super::server_config::alpn_list;
use super::verify::NodeServerVerifier;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use rustls::client::ResolvesClientCert;
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
}

/// Presents the context's certificate when a server asks for one.
#[derive(Debug)]
struct ContextClientCert(Arc<SecureContext>);

impl ResolvesClientCert for ContextClientCert {
    fn resolve(&self, _hints: &[&[u8]], schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let key = self.0.choose_key(schemes)?;
        super::handshake::notes::own_cert(key.clone());
        Some(key)
    }

    fn has_certs(&self) -> bool {
        self.0.has_keys()
    }
}

/// Builds the client side of `tls.connect(options)`; key-log lines reach the socket's
/// `keylog` event while `keylog_wanted` is set.
pub fn build(o: &Options, keylog_wanted: Arc<AtomicBool>) -> Result<ClientTls, OptionError> {
    let ctx = SecureContext::from_options(o)?;
    let reject = o.bool_or(NTLS_OPT_REJECT_UNAUTHORIZED, true);
    let verifier =
        NodeServerVerifier::new(ctx.roots().clone(), ctx.ca().clone(), ctx.crls(), ctx.provider(), reject)
            .map_err(OptionError::invalid)?
            .with_identity_check(o.check_server_identity().cloned());
    let verifier = Arc::new(verifier);
    // No scheme fits, so this is the first key: what OpenSSL calls the current certificate.
    let default_cert = ctx.choose_key(&[]);
    let mut config = ClientConfig::builder_with_provider(ctx.provider().clone())
        .with_protocol_versions(ctx.versions())
        .map_err(|e| OptionError::invalid(format!("protocol versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_client_cert_resolver(Arc::new(ContextClientCert(ctx)));
    config.alpn_protocols = alpn_list(o)?;
    config.key_log = NodeKeyLog::new(keylog_wanted);
    Ok(ClientTls { config: Arc::new(config), verifier, default_cert })
}
