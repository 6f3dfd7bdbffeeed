//! A client's sessions: what rustls saves after a handshake (a TLS 1.2 session, each TLS
//! 1.3 ticket) becomes a `ClientSession` the program gets from the `session` event or
//! `getSession()` and may hand to a later connect as its `session` option.
//!
//! rustls 0.23 keeps a session's fields private and gives them no codec, so a session
//! cannot leave the process as bytes: it is an opaque handle, and the server side (shared
//! `ticketKeys`, the `newSession`/`resumeSession` store) is what crosses processes. rustls
//! also resumes a session only under the very verifier and client-certificate resolver
//! that made it, so a session carries them (`ResumeIdentity`); a later connect adopts them
//! when its own trust options are the same, and otherwise makes a full handshake.

use super::super::context::SecureContext;
use super::super::verify::NodeServerVerifier;
use rustls::client::{
    ClientSessionStore, ResolvesClientCert, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::pki_types::ServerName;
use rustls::{NamedGroup, ProtocolVersion};
use std::ffi::CStr;
use std::sync::{Arc, Mutex};

/// What rustls resumes a session under, and what decides whether a connect may adopt it.
#[derive(Debug)]
pub struct ResumeIdentity {
    /// The server-certificate verifier of the connection that made the session.
    pub verifier: Arc<NodeServerVerifier>,
    /// Its client-certificate resolver.
    pub resolver: Arc<dyn ResolvesClientCert>,
    /// Its context (trust store, CRLs, own certificate).
    pub ctx: Arc<SecureContext>,
    /// Its `rejectUnauthorized`.
    pub reject: bool,
}

impl ResumeIdentity {
    /// Whether a connect with `ctx` and `reject` judges servers exactly as this identity
    /// does, so a session made under it may be resumed there.
    pub fn admits(&self, ctx: &SecureContext, reject: bool) -> bool {
        self.reject == reject && (std::ptr::eq(&*self.ctx, ctx) || self.ctx.same_trust(ctx))
    }
}

enum Value {
    Tls12(Tls12ClientSessionValue),
    /// rustls hands a TLS 1.3 ticket out once (RFC 8446 C.4: a client should not reuse
    /// one), so it is None once a connect took it.
    Tls13(Option<Tls13ClientSessionValue>),
}

/// `ntls_session`: one resumable session, valid in this process.
pub struct ClientSession {
    value: Mutex<Value>,
    protocol: ProtocolVersion,
    kx_hint: Option<NamedGroup>,
    identity: Arc<ResumeIdentity>,
}

impl std::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSession").field("protocol", &self.protocol).finish_non_exhaustive()
    }
}

impl ClientSession {
    /// `"TLSv1.3"` or `"TLSv1.2"`: the protocol of the handshake that made the session.
    pub fn protocol(&self) -> &'static CStr {
        match self.protocol {
            ProtocolVersion::TLSv1_3 => c"TLSv1.3",
            _ => c"TLSv1.2",
        }
    }

    /// Whether a connect can still offer it (a TLS 1.3 ticket is offered once).
    pub fn is_resumable(&self) -> bool {
        match &*self.value.lock().unwrap_or_else(|e| e.into_inner()) {
            Value::Tls12(_) => true,
            Value::Tls13(t) => t.is_some(),
        }
    }

    /// The identity it resumes under.
    pub fn identity(&self) -> &Arc<ResumeIdentity> {
        &self.identity
    }
}

/// One connection's session store: offers the session given as the `session` option (if
/// its identity was adopted), and collects what the handshake saves for the `session` event.
#[derive(Debug)]
pub struct SocketSessions {
    offered: Option<Arc<ClientSession>>,
    identity: Arc<ResumeIdentity>,
    arrived: Mutex<Vec<Arc<ClientSession>>>,
    kx_hint: Mutex<Option<NamedGroup>>,
}

impl SocketSessions {
    /// A store for a connection under `identity`, offering `offered`.
    pub fn new(identity: Arc<ResumeIdentity>, offered: Option<Arc<ClientSession>>) -> SocketSessions {
        let kx_hint = offered.as_ref().and_then(|s| s.kx_hint);
        SocketSessions { offered, identity, arrived: Mutex::new(Vec::new()), kx_hint: Mutex::new(kx_hint) }
    }

    /// The newest session saved and not yet taken, if any.
    pub fn newest_arrived(&self) -> Option<Arc<ClientSession>> {
        self.arrived.lock().unwrap_or_else(|e| e.into_inner()).last().cloned()
    }

    /// Sessions saved since the last call, oldest first.
    pub fn take_arrived(&self) -> Vec<Arc<ClientSession>> {
        std::mem::take(&mut *self.arrived.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn arrive(&self, protocol: ProtocolVersion, value: Value) {
        let kx_hint = *self.kx_hint.lock().unwrap_or_else(|e| e.into_inner());
        let s =
            ClientSession { value: Mutex::new(value), protocol, kx_hint, identity: self.identity.clone() };
        self.arrived.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::new(s));
    }
}

// The server name is not checked: as in Node, the program chooses which session to offer
// where, and rustls still checks the server's certificate name on a full handshake.
impl ClientSessionStore for SocketSessions {
    fn set_kx_hint(&self, _server_name: ServerName<'static>, group: NamedGroup) {
        *self.kx_hint.lock().unwrap_or_else(|e| e.into_inner()) = Some(group);
    }

    fn kx_hint(&self, _server_name: &ServerName<'_>) -> Option<NamedGroup> {
        *self.kx_hint.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_tls12_session(&self, _server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.arrive(ProtocolVersion::TLSv1_2, Value::Tls12(value));
    }

    fn tls12_session(&self, _server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        match &*self.offered.as_ref()?.value.lock().unwrap_or_else(|e| e.into_inner()) {
            Value::Tls12(v) => Some(v.clone()),
            Value::Tls13(_) => None,
        }
    }

    fn remove_tls12_session(&self, _server_name: &ServerName<'static>) {}

    fn insert_tls13_ticket(&self, _server_name: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.arrive(ProtocolVersion::TLSv1_3, Value::Tls13(Some(value)));
    }

    fn take_tls13_ticket(&self, _server_name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        match &mut *self.offered.as_ref()?.value.lock().unwrap_or_else(|e| e.into_inner()) {
            Value::Tls13(t) => t.take(),
            Value::Tls12(_) => None,
        }
    }
}
