//! `tls.Server`: listen, accept, hand out secure sockets, close when all are gone.

pub mod activation;
pub mod events;
pub(crate) mod hello;
mod listen_socket;
mod listener;
mod reserve_fd;

pub use events::{CloseDone, ListenDone, ServerEvents};
pub use listen_socket::ListenAddr;

use crate::error::*;
use crate::last_error::LastError;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use crate::reactor::{resolve, Cx, Loop, NO_TOKEN};
use crate::socket::ServerHooks;
use crate::socket::Socket;
use crate::tls::context::SecureContext;
use listen_socket::ListenSocket;
use listener::{bind, Listener};
use std::ffi::c_int;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ServerState {
    /// Created, not listening.
    New = 0,
    /// Binding or accepting.
    Listening = 1,
    /// `close()` called; waiting for connections to end.
    Closing = 2,
    /// `close` has fired.
    Closed = 3,
}

/// A TLS server handle (`ntls_server`).
pub struct Server<E: ServerEvents> {
    lp: Loop,
    events: E,
    /// The contexts, the server options, `handshakeTimeout`, `noDelay`, `allowHalfOpen`.
    serving: hello::Serving,
    max_connections: Option<u64>,
    high_water_mark: Option<u64>,
    /// `keepAlive` (with `keepAliveInitialDelay`): applied to every connection.
    keep_alive: Option<u64>,
    reuse_port: bool,
    state: AtomicU8,
    connections: AtomicUsize,
    listener_token: AtomicUsize,
    address: OnceLock<ListenAddr>,
    close_emitted: AtomicBool,
    close_callbacks: Mutex<Vec<CloseDone<E>>>,
    listening_socket: Mutex<Option<socket2::Socket>>,
    keylog_wanted: Arc<AtomicBool>,
    last_error: LastError,
}

/// Connects a server's connections back to it.
struct Hooks<E: ServerEvents>(Arc<Server<E>>);

impl<E: ServerEvents> ServerHooks<E::Socket> for Hooks<E> {
    fn secure_connection(&self, s: &Socket<E::Socket>) {
        self.0.events.secure_connection(&self.0, s);
    }

    fn client_error(&self, err: &NtlsError, s: &Socket<E::Socket>) {
        self.0.events.tls_client_error(&self.0, err, s);
    }

    fn connection_closed(&self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
        self.0.maybe_emit_close();
    }

    fn keylog(&self, s: &Socket<E::Socket>, line: &[u8]) {
        self.0.events.keylog(&self.0, s, line);
    }

    fn new_session(&self, id: &[u8], data: &[u8], req: Arc<crate::request::Request>) {
        self.0.events.new_session(&self.0, id, data, req);
    }
}

impl<E: ServerEvents> Server<E> {
    /// `tls.createServer(options)`: every option is checked here.
    pub fn new(lp: Loop, o: &Options, events: E) -> Result<Arc<Server<E>>, OptionError> {
        let keylog_wanted = Arc::new(AtomicBool::new(false));
        let serving = hello::Serving::from_options(o, keylog_wanted.clone())?;
        Ok(Arc::new(Server {
            lp,
            events,
            serving,
            max_connections: o.non_negative(NTLS_OPT_MAX_CONNECTIONS)?,
            high_water_mark: o.non_negative(NTLS_OPT_HIGH_WATER_MARK)?,
            keep_alive: {
                let delay = o.non_negative(NTLS_OPT_KEEP_ALIVE_INITIAL_DELAY)?.unwrap_or(0);
                o.bool_or(NTLS_OPT_KEEP_ALIVE, false).then_some(delay)
            },
            reuse_port: o.bool_or(NTLS_OPT_REUSE_PORT, false),
            state: AtomicU8::new(ServerState::New as u8),
            connections: AtomicUsize::new(0),
            listener_token: AtomicUsize::new(NO_TOKEN),
            address: OnceLock::new(),
            close_emitted: AtomicBool::new(false),
            close_callbacks: Mutex::new(Vec::new()),
            listening_socket: Mutex::new(None),
            keylog_wanted,
            last_error: LastError::default(),
        }))
    }

    /// The callbacks' owner.
    pub fn events(&self) -> &E {
        &self.events
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        match self.state.load(Ordering::SeqCst) {
            0 => ServerState::New,
            1 => ServerState::Listening,
            2 => ServerState::Closing,
            _ => ServerState::Closed,
        }
    }

    fn set_state(&self, s: ServerState) {
        self.state.store(s as u8, Ordering::SeqCst);
    }

    /// Records words for `ntls_server_last_error` and returns the status.
    pub fn fail_call(&self, status: c_int, message: &str) -> c_int {
        self.last_error.set(message);
        status
    }

    /// The words of the last failed call on this server, valid as long as the server.
    pub fn last_error_ptr(&self) -> *const std::ffi::c_char {
        self.last_error.as_ptr()
    }

    /// `server.listen(port, host, cb)`: binds on the loop; `done` gets 0 or the failure.
    pub fn listen(
        self: &Arc<Self>,
        host: Option<&str>,
        port: i32,
        done: Option<ListenDone<E>>,
    ) -> Result<(), c_int> {
        let port = u16::try_from(port)
            .map_err(|_| self.fail_call(NTLS_EINVAL, &format!("port must be 0 to 65535, got {port}")))?;
        let (me, lp, host) = (self.clone(), self.lp.clone(), host.map(str::to_owned));
        self.start_listening(Box::new(move |cx| {
            let name = host.clone().unwrap_or_else(|| "::".to_owned());
            resolve::resolve(&lp, cx, &name, port, move |cx, addrs| {
                me.bind_and_install(cx, host, port, addrs, done)
            })
        }))
    }

    /// `server.listen(path, cb)`: a Unix-domain socket at `path`. An existing file is
    /// `EADDRINUSE` (as with Node, a stale socket file is not removed); the file we create
    /// is removed when the server closes.
    pub fn listen_path(self: &Arc<Self>, path: &str, done: Option<ListenDone<E>>) -> Result<(), c_int> {
        if path.is_empty() {
            return Err(self.fail_call(NTLS_EINVAL, "path must not be empty"));
        }
        let (me, path) = (self.clone(), std::path::PathBuf::from(path));
        self.start_listening(Box::new(move |cx| {
            let shown = path.display().to_string();
            me.finish_listen(cx, ListenSocket::bind_path(&path), false, &shown, done)
        }))
    }

    /// `server.listen(handle)`: accepts on a listening descriptor the program (or systemd)
    /// made, TCP or Unix; the server owns it from here and closes it with the server.
    pub fn listen_fd(
        self: &Arc<Self>,
        fd: std::os::fd::OwnedFd,
        done: Option<ListenDone<E>>,
    ) -> Result<(), c_int> {
        let listener = ListenSocket::adopt(fd).map_err(|e| {
            self.fail_call(from_io(&e), "listen_fd: the descriptor is not a listening TCP or Unix socket")
        })?;
        let me = self.clone();
        self.start_listening(Box::new(move |cx| me.finish_listen(cx, Ok(listener), false, "fd", done)))
    }

    /// `server.emit('connection', socket)`: serves a connection the program accepted (or
    /// got otherwise) as if this server had accepted it: its contexts, SNI, ALPN, limits and
    /// events. Works whether or not the server listens; refused once it closes.
    pub fn accept_stream(self: &Arc<Self>, stream: crate::socket::transport::Stream) -> Result<(), c_int> {
        if matches!(self.state(), ServerState::Closing | ServerState::Closed) {
            return Err(self.fail_call(NTLS_ECLOSED, "server is closed"));
        }
        let me = self.clone();
        self.lp
            .submit(Box::new(move |cx| {
                // A close() that came in meanwhile wins: the stream is dropped (closed).
                if !matches!(me.state(), ServerState::Closing | ServerState::Closed) {
                    listener::serve(&me, cx, stream);
                }
            }))
            .map_err(|status| self.fail_call(status, "loop is closed"))
    }

    /// Moves `New → Listening`, counts the handle and queues the bind (`start`).
    fn start_listening(&self, start: crate::reactor::Command) -> Result<(), c_int> {
        match self.state() {
            ServerState::New => {}
            ServerState::Listening => {
                return Err(self.fail_call(NTLS_EALREADY, "server is already listening"))
            }
            _ => return Err(self.fail_call(NTLS_ECLOSED, "server is closed")),
        }
        if self.state.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return Err(self.fail_call(NTLS_EALREADY, "server is already listening"));
        }
        self.lp.handle_started();
        if let Err(status) = self.lp.submit(start) {
            self.set_state(ServerState::New);
            self.lp.handle_closed();
            return Err(self.fail_call(status, "loop is closed"));
        }
        Ok(())
    }

    fn bind_and_install(
        self: Arc<Self>,
        cx: &mut Cx<'_>,
        host: Option<String>,
        port: u16,
        addrs: std::io::Result<Vec<SocketAddr>>,
        done: Option<ListenDone<E>>,
    ) {
        let unresolved = addrs.is_err();
        let result = addrs.and_then(|addrs| {
            let mut last = std::io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
            for addr in addrs {
                match bind(addr, self.reuse_port) {
                    Ok(l) => return Ok(l),
                    Err(e) => last = e,
                }
            }
            if host.is_none() {
                // No IPv6 on this machine: Node falls back to 0.0.0.0.
                return bind(SocketAddr::from(([0, 0, 0, 0], port)), self.reuse_port).map_err(|_| last);
            }
            Err(last)
        });
        let shown = format!("{}:{port}", host.as_deref().unwrap_or("::"));
        self.finish_listen(cx, result.map(ListenSocket::Tcp), unresolved, &shown, done);
    }

    /// Installs a bound listener and emits `listening`, or reports the failure (`error`, and
    /// `close` after it when close() came meanwhile). `shown` names the address in words.
    fn finish_listen(
        self: Arc<Self>,
        cx: &mut Cx<'_>,
        bound: std::io::Result<ListenSocket>,
        unresolved: bool,
        shown: &str,
        done: Option<ListenDone<E>>,
    ) {
        let result = bound.and_then(|listener| {
            let addr = listener.local_addr()?;
            Listener { server: self.clone(), listener }.install(cx).map(|()| addr)
        });
        match result {
            Ok(addr) if self.state() == ServerState::Listening => {
                let _ = self.address.set(addr);
                self.events.listening(&self);
                if let Some(done) = done {
                    done(&self, 0);
                }
            }
            Ok(_) => {
                // Closed while binding: the listener's kick removes it and emits close.
                self.lp.kick(self.listener_token.load(Ordering::SeqCst));
            }
            Err(e) => {
                let err = if unresolved {
                    NtlsError::not_found(shown.rsplit_once(':').map_or(shown, |(h, _)| h))
                } else {
                    let status = from_io(&e);
                    let (name, words) =
                        (err_name(status).to_string_lossy(), strerror(status).to_string_lossy());
                    // Node: "listen EADDRINUSE: address already in use 127.0.0.1:8443"
                    NtlsError::new(status, &name, format!("listen {name}: {words} {shown}"))
                };
                // close() while binding: the close it asked for still fires, after the error
                // (maybe_emit_close gives the loop back the handle count).
                let closing = self.state() == ServerState::Closing;
                if !closing {
                    self.set_state(ServerState::New);
                    self.lp.handle_closed();
                }
                self.events.error(&self, &err);
                if let Some(done) = done {
                    done(&self, err.status());
                }
                if closing {
                    self.maybe_emit_close();
                }
            }
        }
    }

    /// `server.close(cb)`: stop accepting; `close` fires once every connection has closed.
    pub fn close(self: &Arc<Self>, done: Option<CloseDone<E>>) -> Result<(), c_int> {
        let previous = self.state();
        match previous {
            ServerState::Closing | ServerState::Closed => {
                return Err(self.fail_call(NTLS_EALREADY, "server is already closing or closed"))
            }
            _ => self.set_state(ServerState::Closing),
        }
        if let Some(done) = done {
            self.close_callbacks.lock().unwrap_or_else(|e| e.into_inner()).push(done);
        }
        // Stop listening now, not on the loop's next turn: a connection attempted after
        // close() returns is refused, as with Node (shutdown unhashes the listening socket).
        if let Some(sock) = self.listening_socket.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = sock.shutdown(std::net::Shutdown::Read);
        }
        let token = self.listener_token.load(Ordering::SeqCst);
        if previous == ServerState::New {
            // Never listened: nothing holds the loop, but close still fires on a later turn.
            self.lp.handle_started();
            let me = self.clone();
            return self
                .lp
                .submit(Box::new(move |_| me.maybe_emit_close()))
                .inspect_err(|_| self.lp.handle_closed());
        }
        if token == NO_TOKEN {
            return Ok(()); // Still binding: bind_and_install sees Closing and cleans up.
        }
        self.lp.kick(token);
        Ok(())
    }

    /// Emits `close` once: after `close()` and when no connection is left.
    fn maybe_emit_close(&self) {
        if self.state() != ServerState::Closing || self.connections.load(Ordering::SeqCst) > 0 {
            return;
        }
        if self.close_emitted.swap(true, Ordering::SeqCst) {
            return;
        }
        self.set_state(ServerState::Closed);
        let callbacks = std::mem::take(&mut *self.close_callbacks.lock().unwrap_or_else(|e| e.into_inner()));
        // Node adds close(cb)'s callback as one more `close` listener: after the listener
        // the program set up front.
        self.events.close(self);
        for cb in callbacks {
            cb(self);
        }
        self.lp.handle_closed();
    }

    /// `server.addContext(hostname, context)`.
    pub fn add_context(&self, pattern: &str, ctx: Arc<SecureContext>) -> Result<(), c_int> {
        if self.state() == ServerState::Closed {
            return Err(self.fail_call(NTLS_ECLOSED, "server is closed"));
        }
        self.serving.tls.sni.add(pattern, ctx);
        Ok(())
    }

    /// A `keylog` listener was set: from now on the handshakes' key-log lines are made.
    pub fn want_keylog(&self) {
        self.keylog_wanted.store(true, Ordering::SeqCst);
    }

    /// `server.setSecureContext(options)`: new connections get the certificate (and
    /// the rest of the context) from `o`; open ones keep theirs.
    pub fn set_secure_context(&self, o: &Options) -> Result<(), c_int> {
        if self.state() == ServerState::Closed {
            return Err(self.fail_call(NTLS_ECLOSED, "server is closed"));
        }
        self.serving.tls.set_secure_context(o).map_err(|e| {
            o.set_last_error(&e.message);
            self.fail_call(e.status, &e.message)
        })
    }

    /// `server.getTicketKeys()`.
    pub fn ticket_keys(&self) -> [u8; 48] {
        self.serving.tls.params.ticketer.get()
    }

    /// `server.setTicketKeys(keys)`.
    pub fn rotate_ticket_keys(&self, keys: [u8; 48]) -> Result<(), c_int> {
        if self.state() == ServerState::Closed {
            return Err(self.fail_call(NTLS_ECLOSED, "server is closed"));
        }
        self.serving.tls.params.ticketer.rotate(keys).map_err(|e| self.fail_call(NTLS_EINVAL, &e))
    }

    /// `server.setTicketKeys(keys)`.
    pub fn set_ticket_keys(&self, keys: [u8; 48]) -> Result<(), c_int> {
        if self.state() == ServerState::Closed {
            return Err(self.fail_call(NTLS_ECLOSED, "server is closed"));
        }
        self.serving.tls.params.ticketer.set(keys).map_err(|e| self.fail_call(NTLS_EINVAL, &e))
    }

    /// The bound address while listening (None before, and after `close`, as Node's null).
    pub fn address(&self) -> Option<&ListenAddr> {
        match self.state() {
            ServerState::Listening => self.address.get(),
            _ => None,
        }
    }

    /// Open connections, handshaking ones included (Node's `server.connections`).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
