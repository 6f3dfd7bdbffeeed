//! The events a pair emits, as a trait the C layer implements with its callbacks (as
//! sockets do): dispatched statically, each from `Pair::dispatch` on the caller's thread.

use super::Pair;
use crate::error::NtlsError;
use crate::request::Request;
use std::sync::Arc;

/// Receives a pair's events, one at a time, from inside `Pair::dispatch`.
pub trait PairEvents: Send + Sync + Sized + 'static {
    /// `secure`: the handshake finished.
    fn secure(&self, p: &Pair<Self>);
    /// Cleartext from the peer, borrowed for the call.
    fn data(&self, p: &Pair<Self>, buf: &[u8]);
    /// Whether a data listener is set (a pair delivers nothing until it has one or is resumed).
    fn has_data_listener(&self) -> bool;
    /// `end`: the peer finished sending.
    fn end(&self, p: &Pair<Self>);
    /// `close`: the last event, exactly once.
    fn close(&self, p: &Pair<Self>, had_error: bool);
    /// `error`, followed by `close` with `had_error`.
    fn error(&self, p: &Pair<Self>, err: &NtlsError);
    /// `drain`: the output a `write` that answered false was waiting on has all been pulled.
    fn drain(&self, p: &Pair<Self>);
    /// Whether an SNICallback is set (a server pair then asks it for a context).
    fn has_sni_callback(&self) -> bool;
    /// SNICallback: the program finishes `req` (from any thread), then dispatches again.
    fn sni_callback(&self, p: &Pair<Self>, req: Arc<Request>);
}

/// Events that go nowhere, but with a data listener so cleartext is consumed: what a fuzz
/// target needs to drive a pair with `Pair::new`, `start`, `feed` and `dispatch` alone.
#[derive(Debug, Default)]
pub struct Discard;

impl PairEvents for Discard {
    fn secure(&self, _p: &Pair<Self>) {}
    fn data(&self, _p: &Pair<Self>, _buf: &[u8]) {}
    fn has_data_listener(&self) -> bool {
        true
    }
    fn end(&self, _p: &Pair<Self>) {}
    fn close(&self, _p: &Pair<Self>, _had_error: bool) {}
    fn error(&self, _p: &Pair<Self>, _err: &NtlsError) {}
    fn drain(&self, _p: &Pair<Self>) {}
    fn has_sni_callback(&self) -> bool {
        false
    }
    fn sni_callback(&self, _p: &Pair<Self>, req: Arc<Request>) {
        req.finish(crate::request::Answer::Context(None));
    }
}
