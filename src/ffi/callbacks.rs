//! The C callback tables behind the socket and server event traits.

use super::UserData;
use crate::error::NtlsError;
use crate::request::Request;
use crate::server::{Server, ServerEvents};
use crate::socket::{Socket, SocketEvents};
use crate::tls::sessions::client::ClientSession;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;
use std::sync::Mutex;

/// `ntls_socket`: a TLS socket (Node's `tls.TLSSocket`), whose events are C callbacks.
pub type ntls_socket = Socket<CSocketEvents>;
/// `ntls_server`: a TLS server (Node's `tls.Server`), whose events are C callbacks.
pub type ntls_server = Server<CServerEvents>;

/// `secureConnect`, `end`, `drain`, `timeout`: `(socket, data)`.
pub type ntls_socket_cb = Option<unsafe extern "C" fn(s: *mut ntls_socket, data: *mut c_void)>;
/// `data`: `(socket, bytes, length, data)`; the bytes are borrowed for the call.
pub type ntls_socket_data_cb =
    Option<unsafe extern "C" fn(s: *mut ntls_socket, buf: *const u8, len: usize, data: *mut c_void)>;
/// `close`: `(socket, had_error, data)`.
pub type ntls_socket_close_cb =
    Option<unsafe extern "C" fn(s: *mut ntls_socket, had_error: c_int, data: *mut c_void)>;
/// `error`: `(socket, error, data)`; the error is valid during the call.
pub type ntls_socket_error_cb =
    Option<unsafe extern "C" fn(s: *mut ntls_socket, err: *const NtlsError, data: *mut c_void)>;
/// `keylog`: `(socket, line, length, data)`; one NSS key-log line, newline included,
/// borrowed for the call.
pub type ntls_socket_keylog_cb =
    Option<unsafe extern "C" fn(s: *mut ntls_socket, line: *const u8, len: usize, data: *mut c_void)>;
/// A write's completion: `(socket, status, arg)`.
pub type ntls_write_cb = Option<unsafe extern "C" fn(s: *mut ntls_socket, status: c_int, arg: *mut c_void)>;

/// `session` (client): `(socket, session, data)`; the session is borrowed for the call
/// (take `ntls_session_ref` to keep it for a later connect's `ntls_options_set_session`).
pub type ntls_socket_session_cb =
    Option<unsafe extern "C" fn(s: *mut ntls_socket, session: *mut ClientSession, data: *mut c_void)>;
/// `OCSPResponse` (client with `requestOCSP`): `(socket, der, length, data)`, the DER OCSP
/// response the server stapled, borrowed for the call; NULL and 0 when it stapled none.
pub type ntls_socket_ocsp_cb =
    Option<unsafe extern "C" fn(s: *mut ntls_socket, der: *const u8, len: usize, data: *mut c_void)>;

/// The `SNICallback` of a socket wrapped in the server role: `(socket, servername, request,
/// data)`, the same shape as the server's; finish the request exactly once with
/// `ntls_request_sni_done` or `ntls_request_fail`, from any thread.
pub type ntls_socket_sni_cb = Option<
    unsafe extern "C" fn(
        s: *mut ntls_socket,
        servername: *const c_char,
        req: *mut Request,
        data: *mut c_void,
    ),
>;
/// The `OCSPRequest` of a socket wrapped in the server role: `(socket, cert, cert_len,
/// issuer, issuer_len, request, data)`, the same shape and answers as the server's.
pub type ntls_socket_ocsp_request_cb = Option<
    unsafe extern "C" fn(
        s: *mut ntls_socket,
        cert: *const u8,
        cert_len: usize,
        issuer: *const u8,
        issuer_len: usize,
        req: *mut Request,
        data: *mut c_void,
    ),
>;

/// `listening`, `close`: `(server, data)`.
pub type ntls_server_cb = Option<unsafe extern "C" fn(srv: *mut ntls_server, data: *mut c_void)>;
/// `listen`'s callback: `(server, status, data)`.
pub type ntls_server_status_cb =
    Option<unsafe extern "C" fn(srv: *mut ntls_server, status: c_int, data: *mut c_void)>;
/// `secureConnection`: `(server, socket, data)`; take `ntls_socket_ref` to keep the socket.
pub type ntls_server_connection_cb =
    Option<unsafe extern "C" fn(srv: *mut ntls_server, s: *mut ntls_socket, data: *mut c_void)>;
/// `tlsClientError`: `(server, error, socket, data)`.
pub type ntls_server_client_error_cb = Option<
    unsafe extern "C" fn(
        srv: *mut ntls_server,
        err: *const NtlsError,
        s: *mut ntls_socket,
        data: *mut c_void,
    ),
>;
/// `SNICallback`: `(server, servername, request, data)`; finish the request exactly once
/// with `ntls_request_sni_done` or `ntls_request_fail`, from any thread.
pub type ntls_server_sni_cb = Option<
    unsafe extern "C" fn(
        srv: *mut ntls_server,
        servername: *const c_char,
        req: *mut Request,
        data: *mut c_void,
    ),
>;
/// The server's `keylog`: `(server, socket, line, length, data)`; one NSS key-log line of
/// that connection's handshake, newline included, borrowed for the call.
pub type ntls_server_keylog_cb = Option<
    unsafe extern "C" fn(
        srv: *mut ntls_server,
        s: *mut ntls_socket,
        line: *const u8,
        len: usize,
        data: *mut c_void,
    ),
>;
/// `newSession`: `(server, id, id_len, session, session_len, request, data)`: store the
/// session's bytes under its ID (both borrowed for the call; the bytes are rustls's own
/// encoding, the same in every process of the same nodetls), then finish the request with
/// `ntls_request_session_done(req, NULL, 0)`; `secureConnection` waits for it.
/// `ntls_request_fail` ends the connection (`ERR_TLS_SESSION_STORE`).
pub type ntls_server_new_session_cb = Option<
    unsafe extern "C" fn(
        srv: *mut ntls_server,
        id: *const u8,
        id_len: usize,
        session: *const u8,
        session_len: usize,
        req: *mut Request,
        data: *mut c_void,
    ),
>;
/// `resumeSession`: `(server, id, id_len, request, data)`: the client offers the session
/// stored under `id` (borrowed for the call). Answer with `ntls_request_session_done(req,
/// bytes, len)`, or with NULL and 0 for none (a full handshake); `ntls_request_fail` ends
/// the connection (`tlsClientError` with `ERR_TLS_SESSION_STORE`).
pub type ntls_server_resume_session_cb = Option<
    unsafe extern "C" fn(
        srv: *mut ntls_server,
        id: *const u8,
        id_len: usize,
        req: *mut Request,
        data: *mut c_void,
    ),
>;
/// `OCSPRequest`: `(server, cert, cert_len, issuer, issuer_len, request, data)`: the DER
/// certificate about to be served and its issuer (NULL and 0 when the server has neither
/// in its chain nor in its `ca`), borrowed for the call. Answer with
/// `ntls_request_ocsp_done` or `ntls_request_fail`.
pub type ntls_server_ocsp_request_cb = Option<
    unsafe extern "C" fn(
        srv: *mut ntls_server,
        cert: *const u8,
        cert_len: usize,
        issuer: *const u8,
        issuer_len: usize,
        req: *mut Request,
        data: *mut c_void,
    ),
>;
/// `error`: `(server, error, data)`.
pub type ntls_server_error_cb =
    Option<unsafe extern "C" fn(srv: *mut ntls_server, err: *const NtlsError, data: *mut c_void)>;

/// A handle whose events are C callbacks: one way to change them for sockets and servers.
pub(crate) trait HasCallbacks: Send + Sync + 'static {
    /// The handle's table of callbacks (and user data).
    type Table: Copy;
    /// The table, behind the lock every event takes to read it.
    fn table(&self) -> &Mutex<Self::Table>;
    /// The user data in a table.
    fn user(table: &Self::Table) -> *mut c_void;
    /// Replaces the user data in a table.
    fn set_user(table: &mut Self::Table, data: *mut c_void);
    /// Whether the handle closed: its callbacks can no longer be changed.
    fn closed(&self) -> bool;
    /// Called with the lock held after a change (a socket notes whether `data` is set).
    fn changed(&self, _table: &Self::Table) {}
}

impl HasCallbacks for ntls_socket {
    type Table = SocketCallbacks;
    fn table(&self) -> &Mutex<SocketCallbacks> {
        &self.events().table
    }
    fn user(table: &SocketCallbacks) -> *mut c_void {
        table.user.0
    }
    fn set_user(table: &mut SocketCallbacks, data: *mut c_void) {
        table.user = UserData(data);
    }
    fn closed(&self) -> bool {
        self.state() == crate::socket::State::Closed
    }
    fn changed(&self, table: &SocketCallbacks) {
        let had = self.events().has_data.swap(table.data.is_some(), std::sync::atomic::Ordering::AcqRel);
        if table.data.is_some() && !had {
            // A listener that starts the flow (Node's on('data')): bytes already waiting
            // must be read now, not on the connection's next readiness.
            self.kick();
        }
    }
}

impl HasCallbacks for ntls_server {
    type Table = ServerCallbacks;
    fn table(&self) -> &Mutex<ServerCallbacks> {
        &self.events().table
    }
    fn user(table: &ServerCallbacks) -> *mut c_void {
        table.user.0
    }
    fn set_user(table: &mut ServerCallbacks, data: *mut c_void) {
        table.user = UserData(data);
    }
    fn closed(&self) -> bool {
        self.state() == crate::server::ServerState::Closed
    }
}

/// Changes one entry of a handle's callback table: `NTLS_EINVAL` for NULL or a pointer that
/// is no live handle, `NTLS_ECLOSED` once the handle closed.
pub(crate) fn set_callback<H: HasCallbacks>(h: *const H, f: impl FnOnce(&mut H::Table)) -> c_int {
    let Some(h) = super::handle(h) else {
        return crate::error::NTLS_EINVAL;
    };
    if h.closed() {
        return crate::error::NTLS_ECLOSED;
    }
    let mut table = h.table().lock().unwrap_or_else(|e| e.into_inner());
    f(&mut table);
    h.changed(&table);
    0
}

/// Sets a handle's user data (`_set_data`); allowed after close too, so that a program or
/// binding can clear a pointer it is about to free.
pub(crate) fn set_user_data<H: HasCallbacks>(h: *const H, data: *mut c_void) -> c_int {
    let Some(h) = super::handle(h) else {
        return crate::error::NTLS_EINVAL;
    };
    H::set_user(&mut h.table().lock().unwrap_or_else(|e| e.into_inner()), data);
    0
}

/// The user data of a handle (`_set_data`), NULL for a pointer that is no live handle.
pub(crate) fn user_data<H: HasCallbacks>(h: *const H) -> *mut c_void {
    super::handle(h)
        .map_or(std::ptr::null_mut(), |h| H::user(&h.table().lock().unwrap_or_else(|e| e.into_inner())))
}

/// A socket's C callbacks and user data.
#[derive(Default, Clone, Copy)]
pub struct SocketCallbacks {
    pub connect: ntls_socket_cb,
    pub secure_connect: ntls_socket_cb,
    pub data: ntls_socket_data_cb,
    pub end: ntls_socket_cb,
    pub close: ntls_socket_close_cb,
    pub error: ntls_socket_error_cb,
    pub drain: ntls_socket_cb,
    pub timeout: ntls_socket_cb,
    pub keylog: ntls_socket_keylog_cb,
    pub session: ntls_socket_session_cb,
    pub ocsp_response: ntls_socket_ocsp_cb,
    pub sni: ntls_socket_sni_cb,
    pub ocsp_request: ntls_socket_ocsp_request_cb,
    pub user: UserData,
}

/// The socket event sink the C layer installs.
#[derive(Default)]
pub struct CSocketEvents {
    pub table: Mutex<SocketCallbacks>,
    /// Whether the socket is known to the handle registry (lent to callbacks), asked on
    /// every event so that the registry is searched once per socket.
    pub lent: std::sync::atomic::AtomicBool,
    /// Whether `table.data` is set, readable without the lock (asked on every read).
    pub has_data: std::sync::atomic::AtomicBool,
}

impl CSocketEvents {
    fn get(&self) -> SocketCallbacks {
        *self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The program's pointer to a socket handed to a callback: the socket becomes known to the
/// handle registry (a socket a server accepted has not been until now).
pub(crate) fn sp(s: &ntls_socket) -> *mut ntls_socket {
    let ptr = (s as *const ntls_socket).cast_mut();
    if !s.events().lent.swap(true, std::sync::atomic::Ordering::AcqRel) {
        // SAFETY: a socket only ever exists inside an `Arc` (`Socket::new` is its one
        // constructor), and `s` borrows a live one, so its count is at least one.
        let arc = unsafe {
            Arc::increment_strong_count(ptr.cast_const());
            Arc::from_raw(ptr.cast_const())
        };
        super::handles::lend(&arc);
    }
    ptr
}

impl SocketEvents for CSocketEvents {
    fn connect(&self, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: calling the program's callback with a handle valid for the call.
        if let Some(f) = t.connect {
            unsafe { f(sp(s), t.user.0) }
        }
    }

    fn secure_connect(&self, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: calling the program's callback with a handle valid for the call.
        if let Some(f) = t.secure_connect {
            unsafe { f(sp(s), t.user.0) }
        }
    }

    fn data(&self, s: &ntls_socket, buf: &[u8]) {
        let t = self.get();
        // SAFETY: the buffer is valid for the duration of the call, as documented.
        if let Some(f) = t.data {
            unsafe { f(sp(s), buf.as_ptr(), buf.len(), t.user.0) }
        }
    }

    fn has_data_listener(&self) -> bool {
        self.has_data.load(std::sync::atomic::Ordering::Acquire)
    }

    fn end(&self, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: as in secure_connect.
        if let Some(f) = t.end {
            unsafe { f(sp(s), t.user.0) }
        }
    }

    fn close(&self, s: &ntls_socket, had_error: bool) {
        let t = self.get();
        // SAFETY: as in secure_connect.
        if let Some(f) = t.close {
            unsafe { f(sp(s), c_int::from(had_error), t.user.0) }
        }
    }

    fn error(&self, s: &ntls_socket, err: &NtlsError) {
        let t = self.get();
        // SAFETY: the error outlives the call.
        if let Some(f) = t.error {
            super::handles::lend_during(err, |err| unsafe { f(sp(s), err, t.user.0) })
        }
    }

    fn drain(&self, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: as in secure_connect.
        if let Some(f) = t.drain {
            unsafe { f(sp(s), t.user.0) }
        }
    }

    fn timeout(&self, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: as in secure_connect.
        if let Some(f) = t.timeout {
            unsafe { f(sp(s), t.user.0) }
        }
    }

    fn keylog(&self, s: &ntls_socket, line: &[u8]) {
        let t = self.get();
        // SAFETY: the line is valid for the duration of the call, as documented.
        if let Some(f) = t.keylog {
            unsafe { f(sp(s), line.as_ptr(), line.len(), t.user.0) }
        }
    }

    fn session(&self, s: &ntls_socket, session: &Arc<ClientSession>) {
        let t = self.get();
        // SAFETY: the session is kept alive by `session` for the call, as documented.
        if let Some(f) = t.session {
            unsafe { f(sp(s), super::handles::lend(session), t.user.0) }
        }
    }

    fn ocsp_response(&self, s: &ntls_socket, response: Option<&[u8]>) {
        let t = self.get();
        let (p, len) = response.map_or((std::ptr::null(), 0), |r| (r.as_ptr(), r.len()));
        // SAFETY: the bytes are valid for the duration of the call, as documented.
        if let Some(f) = t.ocsp_response {
            unsafe { f(sp(s), p, len, t.user.0) }
        }
    }

    fn has_sni_callback(&self) -> bool {
        self.get().sni.is_some()
    }

    fn sni_callback(&self, s: &ntls_socket, req: Arc<Request>) {
        let t = self.get();
        ask_sni(t.sni, sp(s), req, t.user.0);
    }

    fn has_ocsp_request(&self) -> bool {
        self.get().ocsp_request.is_some()
    }

    fn ocsp_request(&self, s: &ntls_socket, cert: &[u8], issuer: Option<&[u8]>, req: Arc<Request>) {
        let t = self.get();
        ask_ocsp(t.ocsp_request, sp(s), cert, issuer, req, t.user.0);
    }
}

/// Hands an SNICallback its request, for a server and a wrapped socket alike (the same C
/// shape on either handle); none set: the default context.
fn ask_sni<H>(
    f: Option<unsafe extern "C" fn(*mut H, *const c_char, *mut Request, *mut c_void)>,
    h: *mut H,
    req: Arc<Request>,
    user: *mut c_void,
) {
    let Some(f) = f else {
        req.finish(crate::request::Answer::Context(None));
        return;
    };
    let name = if req.servername().is_empty() { std::ptr::null() } else { req.servername().as_ptr() };
    let req = super::request::hand_to_program(req);
    // SAFETY: the program's callback with a handle valid for the call; it owns `req` until
    // it finishes it.
    unsafe { f(h, name, req, user) }
}

/// The C shape of `OCSPRequest`, on a server or a wrapped socket.
type OcspRequestFn<H> =
    Option<unsafe extern "C" fn(*mut H, *const u8, usize, *const u8, usize, *mut Request, *mut c_void)>;

/// Hands an `OCSPRequest` listener its request (server or wrapped socket); none set: nothing
/// stapled.
fn ask_ocsp<H>(
    f: OcspRequestFn<H>,
    h: *mut H,
    cert: &[u8],
    issuer: Option<&[u8]>,
    req: Arc<Request>,
    user: *mut c_void,
) {
    let Some(f) = f else {
        req.finish(crate::request::Answer::Bytes(None));
        return;
    };
    let (ip, il) = issuer.map_or((std::ptr::null(), 0), |i| (i.as_ptr(), i.len()));
    let req = super::request::hand_to_program(req);
    // SAFETY: the program's callback; the bytes outlive the call, and it owns `req` until
    // it finishes it.
    unsafe { f(h, cert.as_ptr(), cert.len(), ip, il, req, user) }
}

/// A server's C callbacks and user data.
#[derive(Default, Clone, Copy)]
pub struct ServerCallbacks {
    pub connection: ntls_server_connection_cb,
    pub secure_connection: ntls_server_connection_cb,
    pub tls_client_error: ntls_server_client_error_cb,
    pub listening: ntls_server_cb,
    pub close: ntls_server_cb,
    pub error: ntls_server_error_cb,
    pub sni: ntls_server_sni_cb,
    pub keylog: ntls_server_keylog_cb,
    pub new_session: ntls_server_new_session_cb,
    pub resume_session: ntls_server_resume_session_cb,
    pub ocsp_request: ntls_server_ocsp_request_cb,
    pub user: UserData,
}

/// The server event sink the C layer installs.
#[derive(Default)]
pub struct CServerEvents {
    pub table: Mutex<ServerCallbacks>,
}

impl CServerEvents {
    fn get(&self) -> ServerCallbacks {
        *self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn srvp(s: &ntls_server) -> *mut ntls_server {
    (s as *const ntls_server).cast_mut()
}

impl ServerEvents for CServerEvents {
    type Socket = CSocketEvents;

    fn connection(&self, srv: &ntls_server, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: handles valid for the call.
        if let Some(f) = t.connection {
            unsafe { f(srvp(srv), sp(s), t.user.0) }
        }
    }

    fn secure_connection(&self, srv: &ntls_server, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: handles valid for the call.
        if let Some(f) = t.secure_connection {
            unsafe { f(srvp(srv), sp(s), t.user.0) }
        }
    }

    fn tls_client_error(&self, srv: &ntls_server, err: &NtlsError, s: &ntls_socket) {
        let t = self.get();
        // SAFETY: handles and error valid for the call.
        if let Some(f) = t.tls_client_error {
            super::handles::lend_during(err, |err| unsafe { f(srvp(srv), err, sp(s), t.user.0) })
        }
    }

    fn listening(&self, srv: &ntls_server) {
        let t = self.get();
        // SAFETY: handle valid for the call.
        if let Some(f) = t.listening {
            unsafe { f(srvp(srv), t.user.0) }
        }
    }

    fn close(&self, srv: &ntls_server) {
        let t = self.get();
        // SAFETY: handle valid for the call.
        if let Some(f) = t.close {
            unsafe { f(srvp(srv), t.user.0) }
        }
    }

    fn error(&self, srv: &ntls_server, err: &NtlsError) {
        let t = self.get();
        // SAFETY: handle and error valid for the call.
        if let Some(f) = t.error {
            super::handles::lend_during(err, |err| unsafe { f(srvp(srv), err, t.user.0) })
        }
    }

    fn keylog(&self, srv: &ntls_server, s: &ntls_socket, line: &[u8]) {
        let t = self.get();
        // SAFETY: handles and line valid for the call.
        if let Some(f) = t.keylog {
            unsafe { f(srvp(srv), sp(s), line.as_ptr(), line.len(), t.user.0) }
        }
    }

    fn has_sni_callback(&self) -> bool {
        self.get().sni.is_some()
    }

    fn sni_callback(&self, srv: &ntls_server, req: Arc<Request>) {
        let t = self.get();
        ask_sni(t.sni, srvp(srv), req, t.user.0);
    }

    fn has_session_store(&self) -> bool {
        let t = self.get();
        t.new_session.is_some() || t.resume_session.is_some()
    }

    fn new_session(&self, srv: &ntls_server, id: &[u8], session: &[u8], req: Arc<Request>) {
        let t = self.get();
        match t.new_session {
            Some(f) => {
                let req = super::request::hand_to_program(req);
                // SAFETY: the program's callback; the bytes outlive the call, and it owns
                // `req` until it finishes it.
                unsafe { f(srvp(srv), id.as_ptr(), id.len(), session.as_ptr(), session.len(), req, t.user.0) }
            }
            None => {
                req.finish(crate::request::Answer::Bytes(None));
            }
        }
    }

    fn resume_session(&self, srv: &ntls_server, id: &[u8], req: Arc<Request>) {
        let t = self.get();
        match t.resume_session {
            Some(f) => {
                let req = super::request::hand_to_program(req);
                // SAFETY: as in new_session.
                unsafe { f(srvp(srv), id.as_ptr(), id.len(), req, t.user.0) }
            }
            None => {
                req.finish(crate::request::Answer::Bytes(None));
            }
        }
    }

    fn has_ocsp_request(&self) -> bool {
        self.get().ocsp_request.is_some()
    }

    fn ocsp_request(&self, srv: &ntls_server, cert: &[u8], issuer: Option<&[u8]>, req: Arc<Request>) {
        let t = self.get();
        ask_ocsp(t.ocsp_request, srvp(srv), cert, issuer, req, t.user.0);
    }

    fn new_socket_events(&self) -> CSocketEvents {
        CSocketEvents::default()
    }
}
