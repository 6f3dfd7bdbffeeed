//! `ntls_session_*` and the socket's session calls: Node's `session` event,
//! `getSession()`, the `session` option and `getTLSTicket()`.
//!
//! A session is an opaque handle valid inside this process: rustls 0.23 gives its saved
//! sessions no encoding, so there is no bytes form to export (see `tls::sessions::client`).

use super::callbacks::*;
use super::options::{update, OptionsHandle};
use super::{borrow_arc, guard, hand_out, handle, non_null, release_arc, retain_arc, try_ref};
use crate::error::*;
use crate::options::keys::NTLS_OPT_SESSION;
use crate::options::{OptionError, Value};
use crate::tls::sessions::client::ClientSession;
use std::ffi::{c_char, c_int};

/// `session` (client): each session the server gives after the handshake (every TLS 1.3
/// ticket; the TLS 1.2 session of a full handshake), after `secureConnect` as in Node.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_session(s: *mut ntls_socket, cb: ntls_socket_session_cb) -> c_int {
    guard!(NTLS_EPANIC, { super::callbacks::set_callback(s, |t| t.session = cb) })
}

/// `getSession()`: the connection's newest session as a new reference the caller releases
/// with `ntls_session_unref`. `NTLS_ENOENT` when the server gave none (yet: TLS 1.3
/// tickets arrive after `secureConnect`), `NTLS_ENOTCONN` after close.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_session(
    s: *const ntls_socket,
    out: *mut *mut ClientSession,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        let s = try_ref!(s);
        if s.state() == crate::socket::State::Closed {
            return NTLS_ENOTCONN;
        }
        match s.session() {
            // SAFETY: `out` is non-null and writable per the caller.
            Some(session) => unsafe { hand_out(out, session) },
            None => return NTLS_ENOENT,
        }
        0
    })
}

/// `getTLSTicket()`: always `NTLS_ENOTSUP`. rustls keeps the ticket bytes of a session
/// private, so they cannot be shown.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_tls_ticket(
    s: *const ntls_socket,
    buf: *mut u8,
    len: usize,
) -> c_int {
    guard!(NTLS_EPANIC, {
        let _ = (buf, len);
        let s = try_ref!(s);
        s.fail_call(NTLS_ENOTSUP, "getTLSTicket is not supported: rustls does not expose session tickets")
    })
}

/// The `session` option of `tls.connect`: offer `session` for resumption. The options keep
/// their own reference. A session is offered only where its handshake judged servers as
/// the new options do (same `ca`, `crl`, `rejectUnauthorized`, certificate); elsewhere, and
/// once a TLS 1.3 ticket was offered, the connect makes a full handshake.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_set_session(
    opts: *mut OptionsHandle,
    session: *mut ClientSession,
) -> c_int {
    guard!(NTLS_EPANIC, {
        let live = borrow_arc(session.cast_const());
        update(opts, |o| match live {
            Some(sess) => o.set(NTLS_OPT_SESSION, Value::Session(sess), false),
            None if session.is_null() => Err(OptionError::invalid("session is NULL")),
            None => Err(OptionError::invalid("session is not a live handle")),
        })
    })
}

/// Adds a reference to a session; `NTLS_EINVAL` for a pointer that is no live session.
#[no_mangle]
pub unsafe extern "C" fn ntls_session_ref(session: *mut ClientSession) -> c_int {
    guard!(NTLS_EPANIC, { retain_arc(session.cast_const()) })
}

/// Drops a reference to a session (from `ntls_socket_get_session` or `ntls_session_ref`);
/// `NTLS_EINVAL` when the caller holds none (a second `_unref`, a session only lent to the
/// `session` callback).
#[no_mangle]
pub unsafe extern "C" fn ntls_session_unref(session: *mut ClientSession) -> c_int {
    guard!(NTLS_EPANIC, { release_arc(session.cast_const()) })
}

/// `"TLSv1.3"` or `"TLSv1.2"`: the protocol of the handshake that made the session; NULL
/// for NULL. Static.
#[no_mangle]
pub unsafe extern "C" fn ntls_session_protocol(session: *const ClientSession) -> *const c_char {
    guard!(std::ptr::null(), { handle(session).map_or(std::ptr::null(), |s| s.protocol().as_ptr()) })
}

/// 1 while a connect can still offer the session: always for TLS 1.2; for a TLS 1.3 ticket
/// until one connect offered it (a ticket is single-use). 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_session_is_resumable(session: *const ClientSession) -> c_int {
    guard!(0, { c_int::from(handle(session).is_some_and(|s| s.is_resumable())) })
}
