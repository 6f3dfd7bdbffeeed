//! The events a server emits, as a trait the C layer implements with its callbacks.

use super::Server;
use crate::error::NtlsError;
use crate::request::Request;
use crate::socket::{Socket, SocketEvents};
use std::sync::Arc;

/// Receives a server's events on the loop thread, one at a time.
pub trait ServerEvents: Send + Sync {
    /// `secureConnection`: a client finished its handshake.
    fn secure_connection(&self, srv: &Server, s: &Socket);
    /// `tlsClientError`: a connection failed before it was secure.
    fn tls_client_error(&self, srv: &Server, err: &NtlsError, s: &Socket);
    /// `listening`.
    fn listening(&self, srv: &Server);
    /// `close`: stopped listening and every connection has closed.
    fn close(&self, srv: &Server);
    /// `error` (`EADDRINUSE`, ...).
    fn error(&self, srv: &Server, err: &NtlsError);
    /// Whether an SNICallback is set (connections then wait for its answer).
    fn has_sni_callback(&self) -> bool {
        false
    }
    /// `SNICallback(servername, cb)`: the request must be finished exactly once.
    fn sni_callback(&self, _srv: &Server, req: Arc<Request>) {
        req.finish(crate::request::Answer::Context(None));
    }
    /// The event sink for an accepted connection's socket.
    fn new_socket_events(&self) -> Box<dyn SocketEvents>;
    /// Downcasting, for the C layer to reach its own callback table.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// `listen`'s callback: 0 once listening, or the failure's status.
pub type ListenDone = Box<dyn FnOnce(&Server, i32) + Send>;

/// `close`'s callback.
pub type CloseDone = Box<dyn FnOnce(&Server) + Send>;
