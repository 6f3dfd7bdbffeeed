//! `ntls_pair_*`: `tls.createSecurePair`, generalised — TLS over a transport the program
//! drives, on the program's own thread; the events come from `ntls_pair_dispatch`.

use super::callbacks::{set_callback, set_user_data, user_data, HasCallbacks};
use super::options::OptionsHandle;
use super::{borrow_arc, c_bytes, c_str, guard, hand_out, handle, non_null, release_arc, retain_arc};
use super::{cert, secure_info, try_ref, UserData};
use crate::error::*;
use crate::pair::{Pair, PairEvents};
use crate::request::Request;
use crate::tls::context::SecureContext;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// `ntls_pair`: TLS over a transport the program drives (Node's `tls.createSecurePair`).
pub type ntls_pair = Pair<CPairEvents>;

/// `secure`, `end`, `drain`: `(pair, data)`.
pub type ntls_pair_cb = Option<unsafe extern "C" fn(p: *mut ntls_pair, data: *mut c_void)>;
/// Cleartext from the peer: `(pair, bytes, length, data)`; the bytes are borrowed for the call.
pub type ntls_pair_data_cb =
    Option<unsafe extern "C" fn(p: *mut ntls_pair, buf: *const u8, len: usize, data: *mut c_void)>;
/// `close`: `(pair, had_error, data)`.
pub type ntls_pair_close_cb =
    Option<unsafe extern "C" fn(p: *mut ntls_pair, had_error: c_int, data: *mut c_void)>;
/// `error`: `(pair, error, data)`; the error is valid during the call.
pub type ntls_pair_error_cb =
    Option<unsafe extern "C" fn(p: *mut ntls_pair, err: *const NtlsError, data: *mut c_void)>;
/// SNICallback of a server pair: `(pair, servername, request, data)`; finish the request
/// exactly once with `ntls_request_sni_done` or `ntls_request_fail`, then dispatch again.
pub type ntls_pair_sni_cb = Option<
    unsafe extern "C" fn(p: *mut ntls_pair, servername: *const c_char, req: *mut Request, data: *mut c_void),
>;

/// A pair's C callbacks and user data.
#[derive(Default, Clone, Copy)]
pub struct PairCallbacks {
    pub secure: ntls_pair_cb,
    pub data: ntls_pair_data_cb,
    pub end: ntls_pair_cb,
    pub close: ntls_pair_close_cb,
    pub error: ntls_pair_error_cb,
    pub drain: ntls_pair_cb,
    pub sni: ntls_pair_sni_cb,
    pub user: UserData,
}

/// The pair event sink the C layer installs.
#[derive(Default)]
pub struct CPairEvents {
    table: Mutex<PairCallbacks>,
    has_data: AtomicBool,
}

impl CPairEvents {
    fn get(&self) -> PairCallbacks {
        *self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn pp(p: &ntls_pair) -> *mut ntls_pair {
    (p as *const ntls_pair).cast_mut()
}

impl PairEvents for CPairEvents {
    fn secure(&self, p: &ntls_pair) {
        let t = self.get();
        if let Some(f) = t.secure {
            // SAFETY: the program's callback, with a handle valid for the call.
            unsafe { f(pp(p), t.user.0) }
        }
    }

    fn data(&self, p: &ntls_pair, buf: &[u8]) {
        let t = self.get();
        if let Some(f) = t.data {
            // SAFETY: the buffer is valid for the duration of the call, as documented.
            unsafe { f(pp(p), buf.as_ptr(), buf.len(), t.user.0) }
        }
    }

    fn has_data_listener(&self) -> bool {
        self.has_data.load(Ordering::Acquire)
    }

    fn end(&self, p: &ntls_pair) {
        let t = self.get();
        if let Some(f) = t.end {
            // SAFETY: as in secure.
            unsafe { f(pp(p), t.user.0) }
        }
    }

    fn close(&self, p: &ntls_pair, had_error: bool) {
        let t = self.get();
        if let Some(f) = t.close {
            // SAFETY: as in secure.
            unsafe { f(pp(p), c_int::from(had_error), t.user.0) }
        }
    }

    fn error(&self, p: &ntls_pair, err: &NtlsError) {
        let t = self.get();
        if let Some(f) = t.error {
            // SAFETY: the error outlives the call, and is known to the registry during it.
            super::handles::lend_during(err, |err| unsafe { f(pp(p), err, t.user.0) })
        }
    }

    fn drain(&self, p: &ntls_pair) {
        let t = self.get();
        if let Some(f) = t.drain {
            // SAFETY: as in secure.
            unsafe { f(pp(p), t.user.0) }
        }
    }

    fn has_sni_callback(&self) -> bool {
        self.get().sni.is_some()
    }

    fn sni_callback(&self, p: &ntls_pair, req: Arc<Request>) {
        let t = self.get();
        match t.sni {
            Some(f) => {
                let name =
                    if req.servername().is_empty() { std::ptr::null() } else { req.servername().as_ptr() };
                let req = super::request::hand_to_program(req);
                // SAFETY: the program's callback; it owns `req` until it finishes it.
                unsafe { f(pp(p), name, req, t.user.0) }
            }
            None => {
                req.finish(crate::request::Answer::Context(None));
            }
        }
    }
}

impl HasCallbacks for ntls_pair {
    type Table = PairCallbacks;
    fn table(&self) -> &Mutex<PairCallbacks> {
        &self.events().table
    }
    fn user(table: &PairCallbacks) -> *mut c_void {
        table.user.0
    }
    fn set_user(table: &mut PairCallbacks, data: *mut c_void) {
        table.user = UserData(data);
    }
    fn closed(&self) -> bool {
        self.is_closed()
    }
    fn changed(&self, table: &PairCallbacks) {
        self.events().has_data.store(table.data.is_some(), Ordering::Release);
    }
}

fn status(r: Result<(), c_int>) -> c_int {
    r.err().unwrap_or(0)
}

/// A count for C: at most `INT_MAX` (a feed or pull of more takes that much).
fn count(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// Makes a pair from `tls.connect`'s options (client, the default) or `tls.createServer`'s
/// (`NTLS_OPT_IS_SERVER`): `secureContext`/`key`/`cert`/`ca`, `servername` (or `host`) of a
/// client, `requestCert`, `rejectUnauthorized`, `ALPNProtocols`, `highWaterMark`,
/// `allowHalfOpen`, ... Bad options fail here, with words in `ntls_options_last_error`.
/// `handshakeTimeout` and `timeout` do not apply: a pair has no timers (the program owns
/// time and destroys a pair it gave up on). Set callbacks, then `ntls_pair_start`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_new(opts: *const OptionsHandle, out: *mut *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(opts, out);
        let h = try_ref!(opts);
        h.with(|o| match Pair::new(o, CPairEvents::default()) {
            Ok(p) => {
                // SAFETY: `out` is non-null and writable per the caller.
                unsafe { hand_out(out, p) };
                0
            }
            Err(e) => {
                o.set_last_error(&e.message);
                e.status
            }
        })
    })
}

/// `server.addContext(hostname, context)` on a server pair, before `ntls_pair_start`
/// (`NTLS_EALREADY` after it, `NTLS_EINVAL` on a client pair). The context is referenced.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_add_context(
    p: *mut ntls_pair,
    hostname: *const c_char,
    ctx: *mut SecureContext,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(p, hostname, ctx);
        // SAFETY: live handles per the caller.
        let (Some(p), Some(name), Some(ctx)) =
            (handle(p), unsafe { c_str(hostname) }, borrow_arc(ctx.cast_const()))
        else {
            return NTLS_EINVAL;
        };
        if name.is_empty() {
            return p.fail_call(NTLS_EINVAL, "addContext: hostname is empty");
        }
        status(p.add_context(name, ctx))
    })
}

/// `secure`: the handshake finished (Node's `secure` event of a SecurePair).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_on_secure(p: *mut ntls_pair, cb: ntls_pair_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(p, |t| t.secure = cb) })
}
/// Cleartext from the peer, borrowed for the call. A pair delivers nothing until it has
/// this callback or is resumed.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_on_data(p: *mut ntls_pair, cb: ntls_pair_data_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(p, |t| t.data = cb) })
}
/// `end`: the peer finished sending (close_notify, or the transport's end after the handshake).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_on_end(p: *mut ntls_pair, cb: ntls_pair_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(p, |t| t.end = cb) })
}
/// `close`: the last event, exactly once — both sides ended, an error, or `destroy`.
/// Ciphertext may still wait (the last alert or close_notify): pull it, send it, then
/// close the transport.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_on_close(p: *mut ntls_pair, cb: ntls_pair_close_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(p, |t| t.close = cb) })
}
/// `error`, with Node's `err.code` (the same codes as a socket's); `close` follows.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_on_error(p: *mut ntls_pair, cb: ntls_pair_error_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(p, |t| t.error = cb) })
}
/// `drain`: after `ntls_pair_write` returned 0, the program pulled everything waiting.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_on_drain(p: *mut ntls_pair, cb: ntls_pair_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(p, |t| t.drain = cb) })
}
/// SNICallback of a server pair (set before `ntls_pair_start`): called for a client that
/// sent a name; the handshake waits (feed takes nothing more) until the request is
/// finished — from any thread — and the program calls `ntls_pair_dispatch` or feeds again.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_on_sni(p: *mut ntls_pair, cb: ntls_pair_sni_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(p, |t| t.sni = cb) })
}

/// Sets the pointer handed to every callback of this pair; works after `close` too.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_set_data(p: *mut ntls_pair, data: *mut c_void) -> c_int {
    // SAFETY: forwarded from the caller.
    guard!(NTLS_EPANIC, { set_user_data(p, data) })
}

/// The pointer set with `ntls_pair_set_data`, or NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_get_data(p: *const ntls_pair) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    guard!(std::ptr::null_mut(), { user_data(p) })
}

/// Starts the handshake. A client's ClientHello is then waiting for `ntls_pair_pull`; a
/// server waits for ciphertext. Twice: `NTLS_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_start(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(p).start()) })
}

/// Feeds ciphertext read from the transport; returns how many bytes it took (0..len, at
/// most INT_MAX). Fewer than `len` means the pair holds as much cleartext as it may
/// (rustls's 16 KiB buffer plus the records in hand: about 32 KiB of ciphertext taken
/// before a dispatch) or waits for the SNICallback: dispatch, then
/// feed the rest; while a paused pair takes nothing, stop reading the transport. What the
/// bytes cause (secure, data, error...) is emitted by the next `ntls_pair_dispatch`, never
/// here. After the peer's close_notify, further bytes are taken and ignored. On a pair
/// that closed or failed: `NTLS_ECLOSED`; before `ntls_pair_start`: `NTLS_ENOTCONN`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_feed(p: *mut ntls_pair, buf: *const c_void, len: usize) -> c_int {
    guard!(NTLS_EPANIC, {
        let p = try_ref!(p);
        // SAFETY: `len` readable bytes, per the caller.
        let Some(data) = (unsafe { c_bytes(buf.cast(), len) }) else { return NTLS_EINVAL };
        let data = &data[..data.len().min(c_int::MAX as usize)];
        match p.feed(data) {
            Ok(n) => count(n),
            Err(e) => e,
        }
    })
}

/// The transport ended (EOF from the peer). After the handshake: `end` once the cleartext
/// is delivered; before it: `error` `ECONNRESET`, as Node's socket reports it.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_feed_end(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(p).feed_end()) })
}

/// Copies ciphertext for the transport into `buf`; returns the count (0: nothing waits).
/// Allowed after `close` too, so the last alert or close_notify reaches the peer.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_pull(p: *mut ntls_pair, buf: *mut c_void, len: usize) -> c_int {
    guard!(NTLS_EPANIC, {
        let p = try_ref!(p);
        if buf.is_null() && len > 0 {
            return NTLS_EINVAL;
        }
        if len == 0 {
            return 0;
        }
        let len = len.min(c_int::MAX as usize);
        // SAFETY: `len` writable bytes, per the caller.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
        count(p.pull(out))
    })
}

/// Bytes of ciphertext waiting for `ntls_pair_pull` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_pending(p: *const ntls_pair) -> usize {
    // SAFETY: forwarded from the caller.
    guard!(0, { handle(p).map_or(0, |p| p.pending()) })
}

/// Writes cleartext (copied). Returns 1 while the ciphertext waiting to be pulled (and the
/// cleartext waiting for the handshake) is under `highWaterMark`, 0 when the caller should
/// wait for `drain` (Node's `write()` true/false). After `end`, as Node: 0, then `error`
/// `ERR_STREAM_WRITE_AFTER_END` and `close`; once closed, that status at once.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_write(p: *mut ntls_pair, buf: *const c_void, len: usize) -> c_int {
    guard!(NTLS_EPANIC, {
        let p = try_ref!(p);
        // SAFETY: `len` readable bytes, per the caller.
        let Some(data) = (unsafe { c_bytes(buf.cast(), len) }) else { return NTLS_EINVAL };
        match p.write(data) {
            Ok(below) => c_int::from(below),
            Err(e) => e,
        }
    })
}

/// `end()`: close_notify after the cleartext written so far. Twice: `NTLS_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_end(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(p).end()) })
}
/// `destroy()`: stop now, dropping what waits; the next dispatch emits only `close`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_destroy(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(p).destroy()) })
}
/// `pause()`: no cleartext events until `ntls_pair_resume`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_pause(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(p).pause()) })
}
/// `resume()`: deliver again (also without a data callback, which then drops the bytes).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_resume(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { status(try_ref!(p).resume()) })
}

/// Emits the pair's due events, one at a time, on the calling thread, and returns how many
/// it emitted. This is the only function that calls the pair's callbacks: feeding,
/// writing, ending and destroying only record what is due, so they are safe to call while
/// the program holds its own locks, and the program decides when events run (a pair has no
/// loop whose later turn could run them). Any pair function, this pair's `_unref` and
/// `_destroy` included, may be called from inside those events; a dispatch called from
/// inside one returns 0 at once, and the running dispatch emits what the event caused
/// before it returns. Call it after each feed, and after finishing an SNICallback request.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_dispatch(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(p);
        // A counted reference for the whole dispatch: an event may drop the program's own.
        let Some(p) = borrow_arc(p.cast_const()) else { return NTLS_EINVAL };
        count(p.dispatch())
    })
}

/// The words of the last failed call on this pair; "" if none. Valid for the pair's life.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_last_error(p: *const ntls_pair) -> *const c_char {
    guard!(c"".as_ptr(), {
        // SAFETY: forwarded from the caller.
        handle(p).map_or(c"pair is NULL".as_ptr(), |p| p.last_error_ptr())
    })
}

/// `authorized`: 1 if the peer's certificate verified, else 0 (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_authorized(p: *const ntls_pair) -> c_int {
    guard!(0, { secure_info::authorized(p) })
}

/// `authorizationError`: Node's code (`"DEPTH_ZERO_SELF_SIGNED_CERT"`), NULL when authorized.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_authorization_error(p: *const ntls_pair) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::authorization_error(p) })
}

/// `getProtocol()`: `"TLSv1.3"` or `"TLSv1.2"`; NULL before the handshake and after close.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_get_protocol(p: *const ntls_pair) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::protocol(p) })
}

/// `getCipher()`: OpenSSL name, IANA name and version; each out-pointer may be NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_get_cipher(
    p: *const ntls_pair,
    name: *mut *const c_char,
    standard_name: *mut *const c_char,
    version: *mut *const c_char,
) -> c_int {
    // SAFETY: forwarded from the caller.
    guard!(NTLS_EPANIC, { unsafe { secure_info::cipher(p, name, standard_name, version) } })
}

/// `getEphemeralKeyInfo()`: as `ntls_socket_get_ephemeral_key_info` (`NTLS_ENOENT` on a
/// server pair, where Node answers null).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_get_ephemeral_key_info(
    p: *const ntls_pair,
    name: *mut *const c_char,
    size: *mut c_int,
) -> c_int {
    // SAFETY: forwarded from the caller.
    guard!(NTLS_EPANIC, { unsafe { secure_info::ephemeral_key_info(p, name, size) } })
}

/// `alpnProtocol`: the agreed protocol, NULL when none (Node's `false`).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_alpn_protocol(p: *const ntls_pair) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::alpn_protocol(p) })
}

/// `servername`: the SNI name (asked for by the client, or sent by us); NULL when none.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_servername(p: *const ntls_pair) -> *const c_char {
    guard!(std::ptr::null(), { secure_info::servername(p) })
}

/// `isSessionReused()`: 1 if the handshake resumed a session, else 0 (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_is_session_reused(p: *const ntls_pair) -> c_int {
    guard!(0, { secure_info::session_reused(p) })
}

/// `getPeerCertificate(detailed)`: as `ntls_socket_get_peer_certificate`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_get_peer_certificate(
    p: *const ntls_pair,
    detailed: c_int,
    out: *mut *mut cert::CertHandle,
) -> c_int {
    // SAFETY: forwarded from the caller.
    guard!(NTLS_EPANIC, { unsafe { cert::peer_certificate(p, detailed, out) } })
}

/// `bytesRead`: cleartext bytes delivered to the data callback.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_bytes_read(p: *const ntls_pair) -> u64 {
    // SAFETY: forwarded from the caller.
    guard!(0, { handle(p).map_or(0, |p| p.byte_counts().0) })
}

/// `bytesWritten`: cleartext bytes taken by `ntls_pair_write`.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_bytes_written(p: *const ntls_pair) -> u64 {
    // SAFETY: forwarded from the caller.
    guard!(0, { handle(p).map_or(0, |p| p.byte_counts().1) })
}

/// Adds a reference; 0, or `NTLS_EINVAL` for a pointer that is no live pair.
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_ref(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { retain_arc(p.cast_const()) })
}

/// Drops one of the program's references (`NTLS_EINVAL` when it holds none); the last one
/// frees the pair (inside an event, once the dispatch that runs it returns).
#[no_mangle]
pub unsafe extern "C" fn ntls_pair_unref(p: *mut ntls_pair) -> c_int {
    guard!(NTLS_EPANIC, { release_arc(p.cast_const()) })
}
