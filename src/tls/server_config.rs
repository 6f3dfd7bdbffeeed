//! rustls server configuration from a context and the server's own options.

use super::context::SecureContext;
use super::option_keys::*;
use super::options::{OptionError, Options};
use super::sni::{NodeCertResolver, SniTable};
use super::verify::NodeClientVerifier;
use rustls::server::NoClientAuth;
use rustls::ServerConfig;
use std::sync::Arc;

/// What a server needs per connection besides the rustls config.
#[derive(Debug)]
pub struct ServerTls {
    /// The config every accepted connection starts from.
    pub config: Arc<ServerConfig>,
    /// Client-certificate checks, when `requestCert` is set.
    pub client_verifier: Option<Arc<NodeClientVerifier>>,
    /// SNI contexts added after creation.
    pub sni: Arc<SniTable>,
}

/// Builds the server side of `tls.createServer(options)`.
pub fn build(o: &Options) -> Result<ServerTls, OptionError> {
    let ctx: Arc<SecureContext> = SecureContext::from_options(o)?;
    let request_cert = o.bool_or(NTLS_OPT_REQUEST_CERT, false);
    let reject = o.bool_or(NTLS_OPT_REJECT_UNAUTHORIZED, true);
    let sni = Arc::new(SniTable::default());
    let builder = ServerConfig::builder_with_provider(ctx.provider().clone())
        .with_protocol_versions(ctx.versions())
        .map_err(|e| OptionError::invalid(format!("protocol versions: {e}")))?;
    let client_verifier = if request_cert {
        Some(Arc::new(NodeClientVerifier::new(ctx.roots().clone(), reject).map_err(OptionError::invalid)?))
    } else {
        None
    };
    let builder = match &client_verifier {
        Some(v) => builder.with_client_cert_verifier(v.clone()),
        None => builder.with_client_cert_verifier(Arc::new(NoClientAuth)),
    };
    let mut config =
        builder.with_cert_resolver(Arc::new(NodeCertResolver { default: ctx, sni: sni.clone() }));
    config.alpn_protocols = alpn_list(o)?;
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new()
        .map_err(|e| OptionError::invalid(format!("session tickets: {e}")))?;
    config.send_tls13_tickets = 1;
    Ok(ServerTls { config: Arc::new(config), client_verifier, sni })
}

/// `ALPNProtocols`, checked: each name 1..=255 bytes.
pub fn alpn_list(o: &Options) -> Result<Vec<Vec<u8>>, OptionError> {
    let list = o.bytes(NTLS_OPT_ALPN_PROTOCOLS).to_vec();
    if let Some(bad) = list.iter().find(|p| p.is_empty() || p.len() > 255) {
        return Err(OptionError::invalid(format!(
            "ALPNProtocols: each protocol must be 1 to 255 bytes, got {}",
            bad.len()
        )));
    }
    Ok(list)
}
