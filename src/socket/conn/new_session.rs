//! Node's `newSession` on a server connection with an external store: each session rustls
//! saved is handed to the program, and `secureConnection` waits until every one is stored,
//! as Node's server holds its `secure` event while a `newSession` callback is pending.

use super::{Conn, Role};
use crate::error::{NtlsError, NTLS_ETLS};
use crate::request::{Answer, Request};
use crate::socket::SocketEvents;
use std::sync::atomic::Ordering;

impl<E: SocketEvents> Conn<E> {
    /// Hands what rustls saved to `newSession`; true while an answer is outstanding.
    pub(super) fn store_new_sessions(&mut self) -> bool {
        let Role::Server(side) = &mut self.role else { return false };
        if let Some(store) = &side.store {
            for (id, state) in store.take_saved() {
                let req = Request::new(self.sock.lp.clone(), self.sock.token.load(Ordering::SeqCst), "");
                side.new_sessions.push(req.clone());
                side.hooks.new_session(&id, &state, req);
            }
        }
        !side.new_sessions.is_empty()
    }

    /// Collects `newSession`'s answers; the held `secureConnection` fires once all are in.
    /// A failed answer ends the connection with the program's words.
    pub(super) fn settle_new_sessions(&mut self) -> Result<(), NtlsError> {
        self.store_new_sessions();
        let Role::Server(side) = &mut self.role else { return Ok(()) };
        let mut failed = None;
        side.new_sessions.retain(|req| match req.take_answer() {
            None => true,
            Some(Answer::Error(message)) => {
                failed = Some(message);
                false
            }
            Some(_) => false,
        });
        if let Some(message) = failed {
            return Err(NtlsError::new(NTLS_ETLS, "ERR_TLS_SESSION_STORE", message));
        }
        if side.new_sessions.is_empty() && std::mem::take(&mut side.secure_held) {
            if !self.sock.is_destroyed() {
                side.hooks.secure_connection(&self.sock);
            }
            self.take_writes();
        }
        Ok(())
    }

    /// The connection ends: answers still to come wake nothing.
    pub(super) fn abandon_new_sessions(&mut self) {
        if let Role::Server(side) = &mut self.role {
            for req in side.new_sessions.drain(..) {
                req.abandon();
            }
        }
    }
}
