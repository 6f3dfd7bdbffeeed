//! The events a socket emits, as a trait the C layer implements with its callbacks.

use super::Socket;
use crate::error::NtlsError;

/// Receives a socket's events on the loop thread, one at a time.
pub trait SocketEvents: Send + Sync {
    /// `secureConnect` (client) — the handshake finished.
    fn secure_connect(&self, s: &Socket);
    /// `data`: plaintext, borrowed for the call.
    fn data(&self, s: &Socket, buf: &[u8]);
    /// Whether a `data` listener is set (a socket reads nothing until it has one or is resumed).
    fn has_data_listener(&self) -> bool;
    /// `end`: the peer finished sending.
    fn end(&self, s: &Socket);
    /// `close`: the last event.
    fn close(&self, s: &Socket, had_error: bool);
    /// `error`.
    fn error(&self, s: &Socket, err: &NtlsError);
    /// `drain`: the write buffer emptied after `write` returned 0.
    fn drain(&self, s: &Socket);
    /// `timeout`: idle for the time set with `set_timeout`.
    fn timeout(&self, s: &Socket);
    /// Downcasting, for the C layer to reach its own callback table.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A finished write's callback: the status is 0 or a negative `NTLS_E*`.
pub type WriteDone = Box<dyn FnOnce(&Socket, i32) + Send>;
