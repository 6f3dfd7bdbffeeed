//! rustls server configuration from a context and the server's own options.

use super::context::SecureContext;
use super::handshake::keylog::NodeKeyLog;
use super::sni::{NodeCertResolver, SniTable};
use super::tickets::{NodeTicketer, DEFAULT_SESSION_TIMEOUT, TICKET_KEYS_LEN};
use super::verify::NodeClientVerifier;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use rustls::server::NoClientAuth;
use rustls::ServerConfig;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

/// The server options that shape every config a server builds (the default one, and
/// one per context an SNICallback answers with).
#[derive(Debug, Clone)]
pub struct ServerParams {
    /// `requestCert`.
    pub request_cert: bool,
    /// `rejectUnauthorized`.
    pub reject_unauthorized: bool,
    /// `ALPNProtocols`, in the server's order of preference.
    pub alpn: Vec<Vec<u8>>,
    /// `honorCipherOrder`: the server's suite order wins over the client's.
    pub honor_cipher_order: bool,
    /// Session tickets: `ticketKeys` (or random ones) and `sessionTimeout`.
    pub ticketer: Arc<NodeTicketer>,
    /// The key log of every config the server builds (`keylog`, `SSLKEYLOGFILE`).
    pub keylog: Arc<NodeKeyLog>,
    /// Whether tickets are issued (not with `SSL_OP_NO_TICKET` in `secureOptions`: then
    /// TLS 1.2 resumes by session ID and TLS 1.3 by stateful tickets, from the store).
    pub tickets: bool,
}

impl ServerParams {
    /// Reads and checks the server options; key-log lines reach the `keylog` event while
    /// `keylog_wanted` is set.
    pub fn from_options(o: &Options, keylog_wanted: Arc<AtomicBool>) -> Result<Self, OptionError> {
        Ok(ServerParams {
            request_cert: o.bool_or(NTLS_OPT_REQUEST_CERT, false),
            reject_unauthorized: o.bool_or(NTLS_OPT_REJECT_UNAUTHORIZED, true),
            alpn: alpn_list(o)?,
            // Node's tls.Server defaults it to true (checked against Node 20).
            honor_cipher_order: o.bool_or(NTLS_OPT_HONOR_CIPHER_ORDER, true),
            ticketer: Arc::new(ticketer(o)?),
            keylog: NodeKeyLog::new(keylog_wanted),
            tickets: o.int(NTLS_OPT_SECURE_OPTIONS).unwrap_or(0) & NTLS_SSL_OP_NO_TICKET == 0,
        })
    }
}

/// OpenSSL's `SSL_OP_NO_TICKET` for `secureOptions` (Node's `crypto.constants`): no session
/// tickets; sessions resume by ID (TLS 1.2) and stateful tickets (TLS 1.3).
pub const NTLS_SSL_OP_NO_TICKET: i64 = 0x4000;

/// What a server needs per connection besides the rustls config.
#[derive(Debug)]
pub struct ServerTls {
    /// The server's own context and the config every accepted connection starts from
    /// (with its client-certificate checks); `setSecureContext` replaces them, and
    /// connections keep the ones they began with.
    default: RwLock<(Arc<SecureContext>, ContextConfig)>,
    /// Contexts added with `addContext`, chosen by the client's server name.
    pub sni: SniTable,
    /// The server options, for configs built later.
    pub params: ServerParams,
    /// Configs built for contexts chosen by name or by the SNICallback, by context.
    by_context: Mutex<Vec<(Arc<SecureContext>, ContextConfig)>>,
}

impl ServerTls {
    /// The config (and client verifier) a new connection without a chosen context uses.
    pub fn default_config(&self) -> ContextConfig {
        self.default.read().unwrap_or_else(|e| e.into_inner()).1.clone()
    }

    /// The server's own context (the one `default_config` serves).
    pub fn default_context(&self) -> Arc<SecureContext> {
        self.default.read().unwrap_or_else(|e| e.into_inner()).0.clone()
    }

    /// `server.setSecureContext(options)`: a new default context from `o`'s
    /// createSecureContext options, for the connections accepted from now on.
    pub fn set_secure_context(&self, o: &Options) -> Result<(), OptionError> {
        let ctx = SecureContext::from_options(o)?;
        let cfg = config(ctx.clone(), &self.params)?;
        *self.default.write().unwrap_or_else(|e| e.into_inner()) = (ctx, cfg);
        Ok(())
    }

    /// The config for a context other than the server's own (built once per context): its
    /// certificates, trust store and CRLs, with the server's `requestCert`,
    /// `rejectUnauthorized`, ALPN and tickets (as OpenSSL's `SSL_set_SSL_CTX` keeps the
    /// verify mode of the connection but takes the new context's store).
    pub fn config_for(&self, ctx: &Arc<SecureContext>) -> Result<ContextConfig, OptionError> {
        let mut cache = self.by_context.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, cfg)) = cache.iter().find(|(c, _)| Arc::ptr_eq(c, ctx)) {
            return Ok(cfg.clone());
        }
        let cfg = config(ctx.clone(), &self.params)?;
        cache.push((ctx.clone(), cfg.clone()));
        Ok(cfg)
    }
}

/// Builds the server side of `tls.createServer(options)`.
pub fn build(o: &Options, keylog_wanted: Arc<AtomicBool>) -> Result<ServerTls, OptionError> {
    let ctx: Arc<SecureContext> = SecureContext::from_options(o)?;
    let params = ServerParams::from_options(o, keylog_wanted)?;
    let default = config(ctx.clone(), &params)?;
    Ok(ServerTls {
        default: RwLock::new((ctx, default)),
        sni: SniTable::default(),
        params,
        by_context: Mutex::new(Vec::new()),
    })
}

/// A rustls config and the client-certificate verifier inside it.
pub type ContextConfig = (Arc<ServerConfig>, Option<Arc<NodeClientVerifier>>);

fn config(ctx: Arc<SecureContext>, p: &ServerParams) -> Result<ContextConfig, OptionError> {
    let builder = ServerConfig::builder_with_provider(ctx.provider().clone())
        .with_protocol_versions(ctx.versions())
        .map_err(|e| OptionError::invalid(format!("protocol versions: {e}")))?;
    let client_verifier = if p.request_cert {
        let v = NodeClientVerifier::new(
            ctx.roots().clone(),
            ctx.ca().clone(),
            ctx.crls(),
            ctx.provider(),
            p.reject_unauthorized,
        )
        .map_err(OptionError::invalid)?;
        Some(Arc::new(v))
    } else {
        None
    };
    let builder = match &client_verifier {
        Some(v) => builder.with_client_cert_verifier(v.clone()),
        None => builder.with_client_cert_verifier(Arc::new(NoClientAuth)),
    };
    let mut config =
        builder.with_cert_resolver(Arc::new(NodeCertResolver { ctx, own_order: p.honor_cipher_order }));
    config.alpn_protocols = p.alpn.clone();
    config.ignore_client_order = p.honor_cipher_order;
    if p.tickets {
        config.ticketer = p.ticketer.clone();
    }
    config.key_log = p.keylog.clone();
    // OpenSSL (and so Node) sends two TLS 1.3 tickets after a full handshake.
    config.send_tls13_tickets = 2;
    Ok((Arc::new(config), client_verifier))
}

/// `ticketKeys` (exactly 48 bytes, as Node demands) and `sessionTimeout` (seconds).
fn ticketer(o: &Options) -> Result<NodeTicketer, OptionError> {
    let keys = match o.bytes(NTLS_OPT_TICKET_KEYS) {
        [] => None,
        [k] if k.len() == TICKET_KEYS_LEN => {
            let mut a = [0u8; TICKET_KEYS_LEN];
            a.copy_from_slice(k);
            Some(a)
        }
        [k, ..] => {
            return Err(OptionError::invalid(format!(
                "ticketKeys must be a {TICKET_KEYS_LEN}-byte buffer, got {} bytes",
                k.len()
            )))
        }
    };
    let timeout = o.non_negative(NTLS_OPT_SESSION_TIMEOUT)?.unwrap_or(u64::from(DEFAULT_SESSION_TIMEOUT));
    let timeout = u32::try_from(timeout).map_err(|_| OptionError::invalid("sessionTimeout is too large"))?;
    let scope = o.str(NTLS_OPT_SESSION_ID_CONTEXT).unwrap_or("");
    NodeTicketer::new(keys, timeout, scope.as_bytes()).map_err(OptionError::invalid)
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
