//! The events a server emits, as a trait the C layer implements with its callbacks. The
//! server is generic over it, and names the event sink its accepted sockets get.

use super::Server;
use crate::error::NtlsError;
use crate::request::Request;
use crate::socket::{Socket, SocketEvents};
use std::sync::Arc;

/// Receives a server's events on the loop thread, one at a time.
pub trait ServerEvents: Send + Sync + Sized + 'static {
    /// The event sink of the server's accepted sockets.
    type Socket: SocketEvents;
    /// `connection`: a TCP connection was accepted; its handshake starts next.
    fn connection(&self, _srv: &Server<Self>, _s: &Socket<Self::Socket>) {}
    /// `secureConnection`: a client finished its handshake.
    fn secure_connection(&self, srv: &Server<Self>, s: &Socket<Self::Socket>);
    /// `tlsClientError`: a connection failed before it was secure.
    fn tls_client_error(&self, srv: &Server<Self>, err: &NtlsError, s: &Socket<Self::Socket>);
    /// `listening`.
    fn listening(&self, srv: &Server<Self>);
    /// `close`: stopped listening and every connection has closed.
    fn close(&self, srv: &Server<Self>);
    /// `error` (`EADDRINUSE`, ...).
    fn error(&self, srv: &Server<Self>, err: &NtlsError);
    /// Whether an SNICallback is set (connections then wait for its answer).
    fn has_sni_callback(&self) -> bool {
        false
    }
    /// `SNICallback(servername, cb)`: the request must be finished exactly once.
    fn sni_callback(&self, _srv: &Server<Self>, req: Arc<Request>) {
        req.finish(crate::request::Answer::Context(None));
    }
    /// Whether `newSession` or `resumeSession` is set: sessions then live in the program's
    /// store (as in Node, where either listener replaces OpenSSL's internal cache).
    fn has_session_store(&self) -> bool {
        false
    }
    /// `newSession(id, data, cb)`: the request must be finished exactly once.
    fn new_session(&self, _srv: &Server<Self>, _id: &[u8], _data: &[u8], req: Arc<Request>) {
        req.finish(crate::request::Answer::Session(None));
    }
    /// `resumeSession(id, cb)`: the request must be finished exactly once.
    fn resume_session(&self, _srv: &Server<Self>, _id: &[u8], req: Arc<Request>) {
        req.finish(crate::request::Answer::Session(None));
    }
    /// The event sink for an accepted connection's socket.
    fn new_socket_events(&self) -> Self::Socket;
}

/// `listen`'s callback: 0 once listening, or the failure's status.
pub type ListenDone<E> = Box<dyn FnOnce(&Server<E>, i32) + Send>;

/// `close`'s callback.
pub type CloseDone<E> = Box<dyn FnOnce(&Server<E>) + Send>;
