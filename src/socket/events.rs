//! The events a socket emits, as a trait the C layer implements with its callbacks. The
//! socket is generic over it, so events are dispatched statically and the C layer reaches
//! its own callback table through `Socket::events` with no downcast.

use super::Socket;
use crate::error::NtlsError;
use crate::request::{Answer, Request};
use crate::tls::sessions::client::ClientSession;
use std::sync::Arc;

/// Receives a socket's events on the loop thread, one at a time.
pub trait SocketEvents: Send + Sync + Sized + 'static {
    /// `connect` (client): the TCP connection is up; the handshake starts.
    fn connect(&self, _s: &Socket<Self>) {}
    /// `secureConnect` (client) — the handshake finished.
    fn secure_connect(&self, s: &Socket<Self>);
    /// `data`: plaintext, borrowed for the call.
    fn data(&self, s: &Socket<Self>, buf: &[u8]);
    /// Whether a `data` listener is set (a socket reads nothing until it has one or is resumed).
    fn has_data_listener(&self) -> bool;
    /// `end`: the peer finished sending.
    fn end(&self, s: &Socket<Self>);
    /// `close`: the last event.
    fn close(&self, s: &Socket<Self>, had_error: bool);
    /// `error`.
    fn error(&self, s: &Socket<Self>, err: &NtlsError);
    /// `drain`: the write buffer emptied after `write` returned 0.
    fn drain(&self, s: &Socket<Self>);
    /// `timeout`: idle for the time set with `set_timeout`.
    fn timeout(&self, s: &Socket<Self>);
    /// `keylog`: one NSS key-log line (ending in a newline) of a client's handshake.
    fn keylog(&self, _s: &Socket<Self>, _line: &[u8]) {}
    /// `session` (client): a session the server gave, resumable by a later connect.
    fn session(&self, _s: &Socket<Self>, _session: &Arc<ClientSession>) {}
    /// `OCSPResponse` (client with `requestOCSP`): the stapled response, None when none came.
    fn ocsp_response(&self, _s: &Socket<Self>, _response: Option<&[u8]>) {}
    /// Whether an SNICallback is set (a socket wrapped in the server role then reads the
    /// ClientHello first and waits for the answer).
    fn has_sni_callback(&self) -> bool {
        false
    }
    /// `SNICallback(servername, cb)` of a socket wrapped in the server role: the request
    /// must be finished exactly once.
    fn sni_callback(&self, _s: &Socket<Self>, req: Arc<Request>) {
        req.finish(Answer::Context(None));
    }
    /// Whether an `OCSPRequest` listener is set (a socket wrapped in the server role).
    fn has_ocsp_request(&self) -> bool {
        false
    }
    /// `OCSPRequest(certificate, issuer, cb)` of a socket wrapped in the server role: DER;
    /// the request must be finished exactly once.
    fn ocsp_request(&self, _s: &Socket<Self>, _cert: &[u8], _issuer: Option<&[u8]>, req: Arc<Request>) {
        req.finish(Answer::Bytes(None));
    }
}

/// A finished write's callback: the status is 0 or a negative `NTLS_E*`.
pub type WriteDone<E> = Box<dyn FnOnce(&Socket<E>, i32) + Send>;
