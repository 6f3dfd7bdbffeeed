//! `ntls_server_*`: `tls.createServer` and the server's methods.

use super::callbacks::*;
use super::loops::loop_or_default;
use super::options::OptionsHandle;
use super::{address_out, borrow_arc, c_str, guard, hand_out, handle, non_null, release_arc, retain_arc};
use super::{try_arc, try_ref};
use crate::error::*;
use crate::reactor::LoopCore;
use crate::server::{CloseDone, ListenDone, Server, ServerState};
use crate::tls::context::SecureContext;
use std::ffi::{c_char, c_int, c_void};

/// `tls.createServer(options)` on `loop` (NULL: the default loop). Keys, certificates and
/// every option are checked now; words in `ntls_options_last_error(opts)` on failure.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_new(
    lp: *mut LoopCore,
    opts: *const OptionsHandle,
    out: *mut *mut ntls_server,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        let h = try_ref!(opts);
        let lp = match loop_or_default(lp) {
            Ok(l) => l,
            Err(s) => return s,
        };
        h.with(|o| match Server::new(lp, o, CServerEvents::default()) {
            Ok(srv) => {
                // SAFETY: `out` is non-null and writable per the caller.
                unsafe { hand_out(out, srv) };
                0
            }
            Err(e) => {
                o.set_last_error(&e.message);
                e.status
            }
        })
    })
}

/// `connection`: a TCP connection was accepted, before its handshake (Node's server emits
/// it with the raw socket); the socket is borrowed, and may be destroyed here.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_connection(
    srv: *mut ntls_server,
    cb: ntls_server_connection_cb,
) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.connection = cb) })
}

/// `secureConnection`: a client finished its handshake; the socket is borrowed.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_secure_connection(
    srv: *mut ntls_server,
    cb: ntls_server_connection_cb,
) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.secure_connection = cb) })
}
/// `tlsClientError`: a connection failed before it was secure.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_tls_client_error(
    srv: *mut ntls_server,
    cb: ntls_server_client_error_cb,
) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.tls_client_error = cb) })
}
/// `listening`.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_listening(srv: *mut ntls_server, cb: ntls_server_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.listening = cb) })
}
/// `close`: after `ntls_server_close`, once every connection has closed.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_close(srv: *mut ntls_server, cb: ntls_server_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.close = cb) })
}
/// `error`: `EADDRINUSE` and other listen failures.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_error(srv: *mut ntls_server, cb: ntls_server_error_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.error = cb) })
}

/// `SNICallback`: called with the client's server name (NULL when it sent none) before the
/// handshake goes on; answer with `ntls_request_sni_done` or `ntls_request_fail`.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_sni(srv: *mut ntls_server, cb: ntls_server_sni_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.sni = cb) })
}

/// `newSession`: a session was made; store it in the program's store (another process's
/// `resumeSession` may answer with it). Setting this or `resumeSession` replaces the
/// server's own session cache by the program's store. Set it before `listen`.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_new_session(
    srv: *mut ntls_server,
    cb: ntls_server_new_session_cb,
) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.new_session = cb) })
}

/// `resumeSession`: a client offers a stored session (a TLS 1.2 session ID; a TLS 1.3
/// stateful ticket, when `secureOptions` has `SSL_OP_NO_TICKET`); the handshake waits for
/// `ntls_request_session_done`. Set it before `listen`.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_resume_session(
    srv: *mut ntls_server,
    cb: ntls_server_resume_session_cb,
) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.resume_session = cb) })
}

/// Sets the pointer handed to every callback of this server. Unlike other calls it also
/// works after `close` (to clear a pointer before freeing what it points to).
#[no_mangle]
pub unsafe extern "C" fn ntls_server_set_data(srv: *mut ntls_server, data: *mut c_void) -> c_int {
    guard!(NTLS_EPANIC, { set_user_data(srv, data) })
}

/// The pointer set with `ntls_server_set_data`, or NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_get_data(srv: *const ntls_server) -> *mut c_void {
    guard!(std::ptr::null_mut(), {
        // SAFETY: live handle per the caller.
        user_data(srv)
    })
}

/// `server.listen(port, host, cb)`: binds on the loop (port 0: any free port; host NULL:
/// every address, IPv6 and IPv4). `cb(server, status, data)` gets 0 once listening or the
/// failure (which also fires `error`).
#[no_mangle]
pub unsafe extern "C" fn ntls_server_listen(
    srv: *mut ntls_server,
    host: *const c_char,
    port: c_int,
    cb: ntls_server_status_cb,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(srv);
        let srv = try_arc!(srv);
        // SAFETY: NUL-terminated per the caller.
        let host = unsafe { c_str(host) };
        let done: Option<ListenDone<CServerEvents>> = cb.map(|f| {
            Box::new(move |s: &ntls_server, status: i32| {
                let user = ntls_server_user(s);
                // SAFETY: the program's callback with a handle valid for the call.
                unsafe { f((s as *const ntls_server).cast_mut(), status, user) }
            }) as ListenDone<CServerEvents>
        });
        srv.listen(host, port, done).err().unwrap_or(0)
    })
}

fn ntls_server_user(s: &ntls_server) -> *mut c_void {
    s.events().table.lock().unwrap_or_else(|e| e.into_inner()).user.0
}

/// `server.address()`: host text, port and family (4 or 6); `NTLS_ENOTCONN` before listening.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_address(
    srv: *const ntls_server,
    host: *mut c_char,
    host_len: usize,
    port: *mut c_int,
    family: *mut c_int,
) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: live handle per the caller.
        match handle(srv).map(|s| s.address()) {
            // SAFETY: forwarded from the caller.
            Some(Some(a)) => unsafe { address_out(a, host, host_len, port, family) },
            Some(None) => NTLS_ENOTCONN,
            None => NTLS_EINVAL,
        }
    })
}

/// `server.connections`: open connections, handshaking ones included; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_connections(srv: *const ntls_server) -> c_int {
    guard!(0, {
        // SAFETY: live handle per the caller.
        handle(srv).map_or(0, |s| c_int::try_from(s.connections()).unwrap_or(c_int::MAX))
    })
}

/// `server.close(cb)`: stops accepting; `close` (and `cb`) fire once every connection has
/// closed. Twice: `NTLS_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_close(srv: *mut ntls_server, cb: ntls_server_cb) -> c_int {
    guard!(NTLS_EPANIC, {
        let srv = try_arc!(srv);
        let done: Option<CloseDone<CServerEvents>> = cb.map(|f| {
            Box::new(move |s: &ntls_server| {
                let user = ntls_server_user(s);
                // SAFETY: the program's callback with a handle valid for the call.
                unsafe { f((s as *const ntls_server).cast_mut(), user) }
            }) as CloseDone<CServerEvents>
        });
        srv.close(done).err().unwrap_or(0)
    })
}

/// `server.addContext(hostname, context)`: `*` stands for one label; the latest match wins.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_add_context(
    srv: *mut ntls_server,
    hostname: *const c_char,
    ctx: *mut SecureContext,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(srv, hostname, ctx);
        // SAFETY: live handles per the caller.
        let (Some(s), Some(name), Some(ctx)) =
            (handle(srv), unsafe { c_str(hostname) }, borrow_arc(ctx.cast_const()))
        else {
            return NTLS_EINVAL;
        };
        if name.is_empty() {
            return s.fail_call(NTLS_EINVAL, "addContext: hostname is empty");
        }
        s.add_context(name, ctx).err().unwrap_or(0)
    })
}

/// `server.getTicketKeys()`: copies the 48 bytes of ticket keys into `out`.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_get_ticket_keys(
    srv: *const ntls_server,
    out: *mut u8,
    len: usize,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(srv, out);
        let srv = try_ref!(srv);
        if srv.state() == ServerState::Closed {
            return srv.fail_call(NTLS_ECLOSED, "server is closed");
        }
        if len < 48 {
            return srv.fail_call(NTLS_EINVAL, "getTicketKeys needs a 48-byte buffer");
        }
        // SAFETY: `out` has `len` >= 48 writable bytes, per the caller.
        unsafe { std::ptr::copy_nonoverlapping(srv.ticket_keys().as_ptr(), out, 48) };
        0
    })
}

/// `server.setTicketKeys(keys)`: exactly 48 bytes; sessions under the old keys no longer resume.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_set_ticket_keys(
    srv: *mut ntls_server,
    keys: *const u8,
    len: usize,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(srv, keys);
        let srv = try_ref!(srv);
        if srv.state() == ServerState::Closed {
            return srv.fail_call(NTLS_ECLOSED, "server is closed");
        }
        if len != 48 {
            return srv
                .fail_call(NTLS_EINVAL, &format!("ticketKeys must be a 48-byte buffer, got {len} bytes"));
        }
        let mut k = [0u8; 48];
        // SAFETY: `keys` has 48 readable bytes, per the caller.
        unsafe { std::ptr::copy_nonoverlapping(keys, k.as_mut_ptr(), 48) };
        srv.set_ticket_keys(k).err().unwrap_or(0)
    })
}

/// The words of the last failed call on this server; "" if none. Like every string the
/// API returns, the pointer stays valid (and its text unchanged) for the server's life.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_last_error(srv: *const ntls_server) -> *const c_char {
    guard!(c"".as_ptr(), {
        // SAFETY: live handle per the caller.
        match handle(srv) {
            Some(s) => s.last_error_ptr(),
            None if srv.is_null() => c"server is NULL".as_ptr(),
            None => c"server is not a live handle".as_ptr(),
        }
    })
}

/// Adds a reference to a server; `NTLS_EINVAL` for a pointer that is no live server.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_ref(srv: *mut ntls_server) -> c_int {
    guard!(NTLS_EPANIC, { retain_arc(srv.cast_const()) })
}

/// Drops a reference; a listening server keeps running until closed. `NTLS_EINVAL` when
/// the caller holds none (a second `_unref`).
#[no_mangle]
pub unsafe extern "C" fn ntls_server_unref(srv: *mut ntls_server) -> c_int {
    guard!(NTLS_EPANIC, { release_arc(srv.cast_const()) })
}
