//! `ntls_socket_*`: `tls.connect`, `tls.TLSSocket` and the socket's methods and getters.

use super::callbacks::*;
use super::loops::loop_or_default;
use super::options::OptionsHandle;
use super::{address_out, borrow_arc, c_bytes, guard, hand_out, handle, non_null, release_arc, retain_arc};
use super::{secure_info, try_arc, try_ref, UserData};
use crate::error::*;
use crate::reactor::LoopCore;
use crate::socket::{Socket, State, WriteDone};
use crate::tls::handshake::exporter::ExportError;
use std::ffi::{c_char, c_int, c_void};

fn status(r: Result<(), c_int>) -> c_int {
    r.err().unwrap_or(0)
}

/// Makes an unstarted socket on `loop` (NULL: the default loop). Set callbacks, then
/// `ntls_socket_connect` or `ntls_socket_wrap_fd`.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_new(lp: *mut LoopCore, out: *mut *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        let lp = match loop_or_default(lp) {
            Ok(l) => l,
            Err(s) => return s,
        };
        // SAFETY: `out` is non-null and writable per the caller.
        unsafe { hand_out(out, Socket::new(lp, CSocketEvents::default())) };
        0
    })
}

/// `connect`: the client's TCP connection is up (before the handshake), as Node's socket
/// emits it.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_connect(s: *mut ntls_socket, cb: ntls_socket_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.connect = cb) })
}

/// `secureConnect`: the client's handshake finished.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_secure_connect(s: *mut ntls_socket, cb: ntls_socket_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.secure_connect = cb) })
}
/// `data`: decrypted bytes, borrowed for the call. Setting it starts reading.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_data(s: *mut ntls_socket, cb: ntls_socket_data_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.data = cb) })
}
/// `end`: the peer finished sending.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_end(s: *mut ntls_socket, cb: ntls_socket_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.end = cb) })
}
/// `close`: the socket's last event, exactly once.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_close(s: *mut ntls_socket, cb: ntls_socket_close_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.close = cb) })
}
/// `error`: followed by `close` with `had_error` set.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_error(s: *mut ntls_socket, cb: ntls_socket_error_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.error = cb) })
}
/// `drain`: the write buffer emptied after `ntls_socket_write` returned 0.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_drain(s: *mut ntls_socket, cb: ntls_socket_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.drain = cb) })
}
/// `timeout`: idle for the time set with `ntls_socket_set_timeout`.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_timeout(s: *mut ntls_socket, cb: ntls_socket_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.timeout = cb) })
}

/// `keylog`: each NSS key-log line of a client's handshake (`line` borrowed for the call,
/// newline included), before `secureConnect`; write them to a file for Wireshark. Set it
/// before `ntls_socket_connect`. A server's connections report to `ntls_server_on_keylog`.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_keylog(s: *mut ntls_socket, cb: ntls_socket_keylog_cb) -> c_int {
    guard!(NTLS_EPANIC, {
        let status = set_callback(s, |t| t.keylog = cb);
        if status == 0 && cb.is_some() {
            try_ref!(s).want_keylog();
        }
        status
    })
}

/// Sets the pointer handed to every callback of this socket. Unlike other calls it also
/// works after `close` (to clear a pointer before freeing what it points to).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_set_data(s: *mut ntls_socket, data: *mut c_void) -> c_int {
    guard!(NTLS_EPANIC, { set_user_data(s, data) })
}

/// The pointer set with `ntls_socket_set_data`, or NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_data(s: *const ntls_socket) -> *mut c_void {
    guard!(std::ptr::null_mut(), {
        // SAFETY: forwarded from the caller.
        user_data(s)
    })
}

/// `tls.connect(options)`: `host`, `port`, `servername`, `ca`, `rejectUnauthorized`, ...
/// Bad options fail here, with words in `ntls_options_last_error(opts)`.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_connect(s: *mut ntls_socket, opts: *const OptionsHandle) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(s, opts);
        // SAFETY: live handles per the caller.
        let (Some(s), Some(o)) = (borrow_arc(s.cast_const()), handle(opts)) else {
            return NTLS_EINVAL;
        };
        o.with(|o| status(s.connect(o)))
    })
}

/// Writes bytes (copied). Returns 1 while under the high-water mark, 0 when the caller
/// should wait for `drain`; `cb(socket, status, arg)` fires once the bytes reached the kernel.
/// After `end`, as Node: returns 0, then `cb` gets `NTLS_EWRITE_AFTER_END` and `error` fires
/// with `ERR_STREAM_WRITE_AFTER_END` before the socket closes; once closed, that status at once.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_write(
    s: *mut ntls_socket,
    buf: *const c_void,
    len: usize,
    cb: ntls_write_cb,
    arg: *mut c_void,
) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: forwarded from the caller.
        let s = try_ref!(s);
        // SAFETY: `len` readable bytes, per the caller.
        let Some(data) = (unsafe { c_bytes(buf.cast(), len) }) else { return NTLS_EINVAL };
        let done: Option<WriteDone<CSocketEvents>> = cb.map(|f| {
            let arg = UserData(arg);
            Box::new(move |s: &ntls_socket, status: i32| {
                let arg = arg;
                // SAFETY: the program's callback, with a handle valid for the call.
                unsafe { f(sp(s), status, arg.0) }
            }) as WriteDone<CSocketEvents>
        });
        match s.write(data, done) {
            Ok(below) => c_int::from(below),
            Err(e) => e,
        }
    })
}

/// `socket.end()`: close_notify after queued data, then FIN. Twice: `NTLS_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_end(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(s).end()) })
}
/// `socket.destroy()`: close now; pending writes complete with `NTLS_ECANCELED`.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_destroy(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, { status(try_arc!(s).destroy()) })
}
/// `socket.pause()`: stop reading, so TCP pushes back.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_pause(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(s).pause()) })
}
/// `socket.resume()`: read again.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_resume(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(s).resume()) })
}

/// `socket.setTimeout(ms)`: the `timeout` event after `ms` idle milliseconds; 0 disables.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_set_timeout(s: *mut ntls_socket, ms: u64) -> c_int {
    guard!(NTLS_EPANIC, {
        let s = try_ref!(s);
        status(s.set_timeout(ms))
    })
}

/// `socket.renegotiate()`: not supported (rustls never renegotiates, and refuses a peer's
/// request); always `NTLS_ENOTSUP`, with words on the socket.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_renegotiate(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, {
        let s = try_ref!(s);
        s.fail_call(NTLS_ENOTSUP, "renegotiation is not supported (TLS 1.3 has none; use a new connection)")
    })
}

/// `socket.setNoDelay(enable)`: turns Nagle's algorithm off (non-zero) or on.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_set_no_delay(s: *mut ntls_socket, enable: c_int) -> c_int {
    guard!(NTLS_EPANIC, {
        let s = try_ref!(s);
        status(s.set_no_delay(enable != 0))
    })
}

/// `socket.setKeepAlive(enable, initialDelay)`: SO_KEEPALIVE on (non-zero) or off; with a
/// delay of 1000 ms or more, TCP_KEEPIDLE of the delay in whole seconds, TCP_KEEPINTVL 1 s and
/// TCP_KEEPCNT 10, as libuv sets them (a shorter delay leaves the system's idle time). Called
/// before the connection is up, it applies once it is. No effect on a Unix socket.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_set_keep_alive(
    s: *mut ntls_socket,
    enable: c_int,
    initial_delay_ms: u64,
) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(s).set_keep_alive(enable != 0, initial_delay_ms)) })
}

/// `socket.destroySoon()`: ends the socket (`ntls_socket_end`, unless already called), then
/// closes it once the queued writes and close_notify have reached the kernel and the peer
/// has finished too (or 1 s later at most), dropping what the peer sends meanwhile: closing
/// earlier would let a late byte of the peer reset the connection and destroy our last
/// records on the wire. `end` is not emitted (unless the peer's end came before the call),
/// `close` reports no error, and write callbacks complete with 0 as their bytes are flushed.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_destroy_soon(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(s).destroy_soon()) })
}

/// `socket.bufferSize` (`writableLength`): bytes written and not yet handed to the kernel
/// (0 before any write); `NTLS_EINVAL` for NULL, `NTLS_ECLOSED` after close (Node's
/// `undefined`).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_buffer_size(s: *const ntls_socket) -> i64 {
    guard!(i64::from(NTLS_EPANIC), {
        match handle(s) {
            None => i64::from(NTLS_EINVAL),
            Some(s) if s.state() == State::Closed => i64::from(NTLS_ECLOSED),
            Some(s) => i64::try_from(s.buffer_size()).unwrap_or(i64::MAX),
        }
    })
}

/// `socket.readable`: 1 from the start (connect or wrap) until the peer's end is emitted,
/// the socket is destroyed or it closes; else 0 (also before the start and for NULL).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_readable(s: *const ntls_socket) -> c_int {
    guard!(0, { c_int::from(handle(s).is_some_and(|s| s.readable())) })
}

/// `socket.writable`: 1 from the start until `end` or `destroy` is called, or the socket
/// ends itself after the peer's end (without `allowHalfOpen`, once the `end` callback has
/// returned), or it closes; else 0 (also before the start and for NULL).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_writable(s: *const ntls_socket) -> c_int {
    guard!(0, { c_int::from(handle(s).is_some_and(|s| s.writable())) })
}

/// The words of the last failed call on this socket; "" if none. Like every string the
/// API returns, the pointer stays valid (and its text unchanged) for the socket's life.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_last_error(s: *const ntls_socket) -> *const c_char {
    guard!(c"".as_ptr(), {
        // SAFETY: forwarded from the caller.
        match handle(s) {
            Some(h) => h.last_error_ptr(),
            None if s.is_null() => c"socket is NULL".as_ptr(),
            None => c"socket is not a live handle".as_ptr(),
        }
    })
}

/// `socket.authorized`: 1 if the peer's certificate verified, else 0 (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_authorized(s: *const ntls_socket) -> c_int {
    guard!(0, { secure_info::authorized(s) })
}

/// `socket.authorizationError`: Node's code (`"CERT_HAS_EXPIRED"`), NULL when authorized.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_authorization_error(s: *const ntls_socket) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::authorization_error(s) })
}

/// `getProtocol()`: `"TLSv1.3"` or `"TLSv1.2"`; NULL before the handshake and after close.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_protocol(s: *const ntls_socket) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::protocol(s) })
}

/// `getCipher()`: OpenSSL name, IANA name and version; each out-pointer may be NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_cipher(
    s: *const ntls_socket,
    name: *mut *const c_char,
    standard_name: *mut *const c_char,
    version: *mut *const c_char,
) -> c_int {
    // SAFETY: the out-pointers are NULL or writable, per the caller.
    guard!(NTLS_EPANIC, { unsafe { secure_info::cipher(s, name, standard_name, version) } })
}

/// `getEphemeralKeyInfo()`: the key exchange's group name ("X25519", "prime256v1") and its
/// size in bits; `NTLS_ENOTCONN` before the handshake and after close, `NTLS_ENOENT` (name
/// NULL, size 0) on a server socket, where Node answers null. Out-pointers may be NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_ephemeral_key_info(
    s: *const ntls_socket,
    name: *mut *const c_char,
    size: *mut c_int,
) -> c_int {
    // SAFETY: the out-pointers are NULL or writable, per the caller.
    guard!(NTLS_EPANIC, { unsafe { secure_info::ephemeral_key_info(s, name, size) } })
}

/// `alpnProtocol`: the agreed protocol; NULL when none was agreed (Node's `false`) and before
/// the handshake finished (Node's `null`: `ntls_socket_get_cipher` failing tells which).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_alpn_protocol(s: *const ntls_socket) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::alpn_protocol(s) })
}

/// `servername`: the SNI name (asked for by the client, or sent by us); NULL when none. Set
/// also on a server socket whose handshake failed after the ClientHello (`tlsClientError`).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_servername(s: *const ntls_socket) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::servername(s) })
}

/// `encrypted`: 1 for a socket, 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_encrypted(s: *const ntls_socket) -> c_int {
    // SAFETY: forwarded from the caller.
    guard!(0, { c_int::from(handle(s).is_some()) })
}

/// `isSessionReused()`: 1 if the handshake resumed a session, else 0 (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_is_session_reused(s: *const ntls_socket) -> c_int {
    guard!(0, { secure_info::session_reused(s) })
}

/// `remoteAddress`, `remotePort`, `remoteFamily` (4 or 6); `NTLS_ENOTCONN` before connecting.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_remote_address(
    s: *const ntls_socket,
    host: *mut c_char,
    host_len: usize,
    port: *mut c_int,
    family: *mut c_int,
) -> c_int {
    guard!(NTLS_EPANIC, {
        match try_ref!(s).addresses() {
            // SAFETY: the out-pointers are NULL or writable, per the caller.
            Some(a) => unsafe { address_out(a.remote, host, host_len, port, family) },
            None => NTLS_ENOTCONN,
        }
    })
}

/// `localAddress`, `localPort` and family; `NTLS_ENOTCONN` before connecting.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_local_address(
    s: *const ntls_socket,
    host: *mut c_char,
    host_len: usize,
    port: *mut c_int,
    family: *mut c_int,
) -> c_int {
    guard!(NTLS_EPANIC, {
        match try_ref!(s).addresses() {
            // SAFETY: the out-pointers are NULL or writable, per the caller.
            Some(a) => unsafe { address_out(a.local, host, host_len, port, family) },
            None => NTLS_ENOTCONN,
        }
    })
}

/// `bytesRead`: plaintext bytes delivered to `data`, as Node's TLSSocket counts them.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_bytes_read(s: *const ntls_socket) -> u64 {
    // SAFETY: forwarded from the caller.
    guard!(0, { handle(s).map_or(0, |s| s.bytes_read()) })
}

/// `bytesWritten`: plaintext bytes taken by `ntls_socket_write` (queued ones included), as Node counts them.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_bytes_written(s: *const ntls_socket) -> u64 {
    // SAFETY: forwarded from the caller.
    guard!(0, { handle(s).map_or(0, |s| s.bytes_written()) })
}

/// Adds a reference (keep a socket handed to a callback); `NTLS_EINVAL` for a pointer that
/// is no live socket.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_ref(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, { retain_arc(s.cast_const()) })
}

/// Drops a reference; a live connection keeps its own until `close`. `NTLS_EINVAL` when the
/// caller holds none (a second `_unref`, or a socket only lent to a callback).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_unref(s: *mut ntls_socket) -> c_int {
    guard!(NTLS_EPANIC, { release_arc(s.cast_const()) })
}

/// `new tls.TLSSocket(socket, options)`: TLS over a connected TCP descriptor, which the
/// socket then owns (and closes, also when its options are refused). With a NULL socket or
/// options, or a socket already started (`NTLS_EALREADY`), the descriptor stays the caller's.
/// `NTLS_OPT_IS_SERVER` picks the side; in the server role the socket has what a server's
/// connection has (`requestCert`, `rejectUnauthorized`, `ca`, ALPN, `handshakeTimeout`,
/// `ntls_socket_on_sni`, `ntls_socket_on_ocsp_request`), and reports to its own callbacks:
/// `secureConnect` when secure, `error` then `close` for a failed handshake.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_wrap_fd(
    s: *mut ntls_socket,
    fd: c_int,
    opts: *const OptionsHandle,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(s, opts);
        if fd < 0 {
            return NTLS_EINVAL;
        }
        // SAFETY: live handles per the caller.
        let (Some(s), Some(o)) = (borrow_arc(s.cast_const()), handle(opts)) else {
            return NTLS_EINVAL;
        };
        // Refuse a started or closed socket before taking the descriptor, so that it is never
        // closed under a wrap that is already using it.
        match s.state() {
            State::New => {}
            State::Closed => return NTLS_ECLOSED,
            _ => return NTLS_EALREADY,
        }
        // SAFETY: the caller promises `fd` is an open descriptor for the call.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if let Err(e) = crate::socket::transport::family_of(&borrowed) {
            return s.fail_call(from_io(&e), "wrap_fd: the descriptor is not a TCP or Unix stream socket");
        }
        // SAFETY: the caller hands over a connected stream socket; from here we own it, and a
        // failed wrap closes it (the stream is dropped).
        let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let stream = match crate::socket::transport::Stream::from_fd(fd) {
            Ok(st) => st,
            Err(e) => return s.fail_call(from_io(&e), &e.to_string()),
        };
        o.with(|o| status(s.wrap_stream(stream, o)))
    })
}

/// `SNICallback(servername, cb)` of a socket wrapped in the server role: called on the
/// loop thread with the ClientHello's server name (borrowed for the call) before anything
/// is sent, and not at all for a client that sent no name (it gets the socket's own
/// context), as in Node. The program owns `req` until it finishes it, exactly once, from
/// any thread, inside or after the callback: `ntls_request_sni_done(req, ctx)` serves the
/// handshake with `ctx`'s certificate, `ca` and CRLs (NULL: the socket's own options),
/// keeping the socket's `requestCert` and `rejectUnauthorized`; `ntls_request_fail(req,
/// words)` drops the connection before any TLS reply (the client sees a reset) and the
/// socket's `error` gets `ERR_TLS_SNI_CALLBACK` with the words, then `close`. The wait is
/// bounded by `handshakeTimeout`; an answer after the socket closed is accepted and
/// ignored. Set it before `ntls_socket_wrap_fd`; a client socket never calls it.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_sni(s: *mut ntls_socket, cb: ntls_socket_sni_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.sni = cb) })
}

/// `exportKeyingMaterial(length, label, context)`: `length` bytes of keying material
/// (RFC 5705 for TLS 1.2, RFC 8446 section 7.5 for TLS 1.3) into `out`. `context` NULL means
/// none (different from an empty one, in TLS 1.2). `NTLS_ENOTCONN` before the handshake
/// and after close; `NTLS_EINVAL` for a NULL label or `out`, a length of 0 or one TLS
/// cannot make (over 255 hash blocks in TLS 1.3), a context over 65535 bytes, or in TLS 1.2
/// a label starting with one its key schedule uses (`client finished`, `server finished`,
/// `master secret`, `extended master secret`, `key expansion`), which OpenSSL refuses too.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_export_keying_material(
    s: *const ntls_socket,
    out: *mut u8,
    length: usize,
    label: *const c_char,
    context: *const u8,
    context_len: usize,
) -> c_int {
    guard!(NTLS_EPANIC, {
        let s = try_ref!(s);
        non_null!(out, label);
        let Some(info) = s.info() else { return NTLS_ENOTCONN };
        let Some(exporter) = info.exporter.as_ref() else {
            return s.fail_call(NTLS_ENOTSUP, "this handshake left no exporter secret");
        };
        // SAFETY: a NUL-terminated label, per the caller.
        let label = unsafe { std::ffi::CStr::from_ptr(label) }.to_bytes();
        // SAFETY: `context_len` readable bytes when non-NULL, per the caller.
        let context = if context.is_null() { None } else { unsafe { c_bytes(context, context_len) } };
        if length == 0 {
            return s.fail_call(NTLS_EINVAL, "length must be at least 1");
        }
        // SAFETY: `length` writable bytes, per the caller.
        let out = unsafe { std::slice::from_raw_parts_mut(out, length) };
        match exporter.export(out, label, context) {
            Ok(()) => 0,
            Err(ExportError::ReservedLabel) => {
                s.fail_call(NTLS_EINVAL, "TLS 1.2 reserves that exporter label (RFC 5705)")
            }
            Err(ExportError::BadLength) => {
                s.fail_call(NTLS_EINVAL, "TLS cannot export that length or context")
            }
        }
    })
}

/// `getFinished()` / `getPeerFinished()`: not available, rustls does not expose the
/// Finished messages. Always `NTLS_ENOTSUP`, with words on the socket.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_finished(
    s: *const ntls_socket,
    peer: c_int,
    out: *mut *const u8,
    len: *mut usize,
) -> c_int {
    guard!(NTLS_EPANIC, {
        let s = try_ref!(s);
        let _ = (peer, out, len);
        s.fail_call(NTLS_ENOTSUP, "getFinished/getPeerFinished: rustls does not expose the Finished messages")
    })
}

/// `getSharedSigalgs()`: the signature algorithms in both sides' lists, in Node's names
/// ("ECDSA+SHA256", "RSA-PSS+SHA256", "Ed25519+UNDEF"), static strings. Stores up to `cap`
/// in `names_out` (NULL with `cap` 0 to size the array) and returns how many there are:
/// a server reads the client's list in its ClientHello, a client the server's
/// CertificateRequest (none without one: 0, as Node's `[]`). 0 also on a resumed server
/// session (no certificate is chosen). `NTLS_ENOTCONN` before the handshake and after close.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_shared_sigalgs(
    s: *const ntls_socket,
    names_out: *mut *const c_char,
    cap: usize,
) -> c_int {
    // SAFETY: the out-array is NULL or has room for `cap` pointers, per the caller.
    guard!(NTLS_EPANIC, { unsafe { secure_info::shared_sigalgs(s, names_out, cap) } })
}

/// `setMaxSendFragment(size)`: 1 (true) for 512…16384, after which every record written
/// carries at most `size` bytes of plaintext; 0 (false, nothing changed) for other sizes,
/// as Node answers. `NTLS_ECLOSED` after close.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_set_max_send_fragment(s: *mut ntls_socket, size: usize) -> c_int {
    guard!(NTLS_EPANIC, {
        match try_ref!(s).set_max_send_fragment(size) {
            Ok(ok) => c_int::from(ok),
            Err(e) => e,
        }
    })
}
