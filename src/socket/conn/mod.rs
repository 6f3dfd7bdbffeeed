//! The loop-thread half of a socket: TCP plus rustls, driven by readiness and kicks.
//!
//! `drive` is the one place a connection moves; the halves live beside it: `dial` (a
//! client's TCP connect), `reading` (ciphertext in, plaintext out), `writing` (plaintext
//! in, records out), `idle` (deadlines), `states` (where each half is).

mod dial;
pub use dial::{Dest, LocalBind};
mod handshake_notes;
mod idle;
mod new_session;
mod reading;
mod states;
mod writing;

use super::events::WriteDone;
use super::info;
use super::no_sigpipe::NoSigPipe;
use super::{Socket, SocketEvents, State};
use crate::error::{NtlsError, NTLS_ECERT, NTLS_ECONNRESET, NTLS_ETLS, NTLS_EWRITE_AFTER_END};
use crate::reactor::{Cx, Handler, Next, Ready, NO_TOKEN};
use crate::socket::transport::Stream;
use crate::tls::sessions::client::SocketSessions;
use crate::tls::sessions::server_store::ConnSessionStore;
use crate::tls::verify::{NodeClientVerifier, NodeServerVerifier};
use idle::IdleTimer;
use mio::Interest;
use rustls::pki_types::ServerName;
use states::{Inbound, Outbound, Phase};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// What the server layer does for its connections.
pub trait ServerHooks<E: SocketEvents>: Send + Sync {
    /// `secureConnection`.
    fn secure_connection(&self, s: &Socket<E>);
    /// `tlsClientError`: a connection failed before it was secure.
    fn client_error(&self, err: &NtlsError, s: &Socket<E>);
    /// A connection closed (for `connections` and the server's own `close`).
    fn connection_closed(&self);
    /// The server's `keylog` event: a key-log line of this connection's handshake.
    fn keylog(&self, s: &Socket<E>, line: &[u8]);
    /// `newSession`: the program stores a session rustls saved; finish `req` once stored.
    fn new_session(&self, _id: &[u8], _data: &[u8], req: Arc<crate::request::Request>) {
        req.finish(crate::request::Answer::Bytes(None));
    }
}

/// The server side of a connection.
pub struct ServerSide<E: SocketEvents> {
    /// The server's events.
    pub hooks: Arc<dyn ServerHooks<E>>,
    /// Client-certificate checks, when `requestCert` is set.
    pub client_verifier: Option<Arc<NodeClientVerifier>>,
    /// When an unfinished handshake is abandoned.
    pub handshake_deadline: Instant,
    /// The program's session store (`newSession`/`resumeSession`), seen by this connection.
    pub store: Option<Arc<ConnSessionStore>>,
    /// `newSession` answers still to come.
    new_sessions: Vec<Arc<crate::request::Request>>,
    /// `secureConnection` waits for them.
    secure_held: bool,
}

impl<E: SocketEvents> ServerSide<E> {
    /// The server side of a connection, with the program's store if it has one.
    pub fn new(
        hooks: Arc<dyn ServerHooks<E>>,
        client_verifier: Option<Arc<NodeClientVerifier>>,
        handshake_deadline: Instant,
        store: Option<Arc<ConnSessionStore>>,
    ) -> Self {
        ServerSide {
            hooks,
            client_verifier,
            handshake_deadline,
            store,
            new_sessions: Vec::new(),
            secure_held: false,
        }
    }
}

/// Which end of the connection we are.
pub enum Role<E: SocketEvents> {
    /// `tls.connect`.
    Client {
        /// Judges `authorized` when `rejectUnauthorized` is false.
        verifier: Arc<NodeServerVerifier>,
        /// Sessions offered and saved (`session` event, `getSession`).
        sessions: Arc<SocketSessions>,
        /// `requestOCSP`.
        request_ocsp: bool,
        /// The name checked against the certificate.
        server_name: ServerName<'static>,
        /// The SNI sent, if any.
        sni: Option<String>,
        /// Resolved addresses (or the `path`), tried in order.
        addrs: Vec<Dest>,
        /// Our certificate when the server asks for none (`getCertificate()`, as OpenSSL
        /// answers with the configured one).
        default_cert: Option<Arc<rustls::sign::CertifiedKey>>,
        /// The next address to try.
        next_addr: usize,
        /// `localAddress`/`localPort`, when given.
        local: Option<LocalBind>,
        /// The local end actually bound, for the words of a failed connect.
        bound: Option<SocketAddr>,
    },
    /// An accepted connection.
    Server(ServerSide<E>),
}

/// A TLS connection being driven by the loop.
pub struct Conn<E: SocketEvents> {
    sock: Arc<Socket<E>>,
    stream: Option<Stream>,
    tls: rustls::Connection,
    role: Role<E>,
    phase: Phase,
    inbound: Inbound,
    outbound: Outbound,
    /// The first bytes the peer sent (plain HTTP on a TLS port; a ServerHello's random).
    hello_in: handshake_notes::HelloPrefix,
    /// The first bytes we sent (our ServerHello's random).
    hello_out: handshake_notes::HelloPrefix,
    /// The exporter's secrets, noted by the key log until the handshake ends.
    secrets: Vec<crate::tls::handshake::notes::Secret>,
    /// The certificate a resolver chose for us.
    own_cert: Option<Arc<rustls::sign::CertifiedKey>>,
    /// `getSharedSigalgs()`, as the resolver saw the peer's list.
    shared_sigalgs: Option<crate::tls::sigalgs::Shared>,
    /// Bytes read from TCP (`bytesRead` counts plaintext, as Node's TLSSocket does).
    wire_read: u64,
    /// Ciphertext read but not yet fed to rustls, kept while the socket is paused.
    stash: Vec<u8>,
    /// Plaintext bytes handed to rustls, and those of them known to be on the wire.
    accepted: u64,
    flushed: u64,
    callbacks: VecDeque<(u64, WriteDone<E>)>,
    spare: Vec<u8>,
    allow_half_open: bool,
    no_delay: bool,
    idle: IdleTimer,
    /// `destroySoon`: when the wait for the peer's end gives up.
    linger_until: Option<Instant>,
}

/// How long a `destroySoon` socket whose end is flushed waits for the peer's.
const DESTROY_SOON_LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts driving an already-connected stream (an accepted or a wrapped one).
/// The caller has counted the handle with `handle_started`.
pub fn start_connected<E: SocketEvents>(
    cx: &mut Cx<'_>,
    sock: Arc<Socket<E>>,
    stream: Stream,
    tls: rustls::Connection,
    role: Role<E>,
    no_delay: bool,
    allow_half_open: bool,
) {
    let _ = stream.set_nodelay(no_delay);
    sock.note_addresses(&stream);
    sock.set_state(State::Connecting);
    let token = cx.reserve();
    if let Role::Server(side) = &role {
        cx.set_timer(token, side.handshake_deadline);
    }
    let mut conn = Conn::new(sock, Some(stream), tls, role, true, allow_half_open);
    let registered = match conn.stream.as_mut() {
        Some(s) => cx.registry().register(s, Cx::token(token), Interest::READABLE | Interest::WRITABLE),
        None => Ok(()),
    };
    if let Err(e) = registered {
        conn.stream = None;
        conn.sock.token.store(token, Ordering::SeqCst);
        conn.fail(cx, NtlsError::from_io(&e, "accept", ""));
        cx.release(token);
        return;
    }
    conn.launch(cx, token);
}

impl<E: SocketEvents> Conn<E> {
    fn new(
        sock: Arc<Socket<E>>,
        stream: Option<Stream>,
        mut tls: rustls::Connection,
        role: Role<E>,
        connected: bool,
        allow_half_open: bool,
    ) -> Conn<E> {
        tls.set_buffer_limit(None);
        Conn {
            sock,
            stream,
            tls,
            role,
            phase: if connected { Phase::Handshaking } else { Phase::Dialing },
            inbound: Inbound::Open { more: true, fin: false },
            outbound: Outbound::Open,
            hello_in: Default::default(),
            hello_out: Default::default(),
            secrets: Vec::new(),
            own_cert: None,
            shared_sigalgs: None,
            wire_read: 0,
            stash: Vec::new(),
            accepted: 0,
            flushed: 0,
            callbacks: VecDeque::new(),
            spare: Vec::new(),
            allow_half_open,
            no_delay: true,
            idle: IdleTimer::new(),
            linger_until: None,
        }
    }

    /// Starts a client connection: dials the first address.
    pub fn start_client(
        sock: Arc<Socket<E>>,
        tls: rustls::Connection,
        role: Role<E>,
        no_delay: bool,
        allow_half_open: bool,
        cx: &mut Cx<'_>,
    ) {
        let token = cx.reserve();
        let mut conn = Conn::new(sock, None, tls, role, false, allow_half_open);
        conn.no_delay = no_delay;
        if let Err(err) = conn.dial_next(cx, token, None) {
            conn.sock.token.store(token, Ordering::SeqCst);
            conn.fail(cx, err);
            cx.release(token);
            return;
        }
        conn.launch(cx, token);
    }

    fn launch(mut self, cx: &mut Cx<'_>, token: usize) {
        self.sock.token.store(token, Ordering::SeqCst);
        // An accepted ClientHello may already have made keys (`Accepted::into_connection`).
        self.take_notes();
        match self.drive(cx, token, Ready::default()) {
            Next::Keep => cx.install(token, Box::new(self)),
            Next::Remove => cx.release(token),
        }
    }
}

impl<E: SocketEvents> Conn<E> {
    /// Runs every step that may have become possible; the one place a connection moves.
    /// Calls made by this connection's own callbacks meanwhile are picked up before it returns.
    fn drive(&mut self, cx: &mut Cx<'_>, token: usize, ready: Ready) -> Next {
        self.sock.driving.store(true, Ordering::Relaxed);
        let mut next = self.drive_once(cx, token, ready);
        for _ in 0..8 {
            if next != Next::Keep || !self.sock.dirty.swap(false, Ordering::Relaxed) {
                break;
            }
            next = self.drive_once(cx, token, Ready::default());
        }
        self.sock.driving.store(false, Ordering::Relaxed);
        if next == Next::Keep && self.sock.dirty.swap(false, Ordering::Relaxed) {
            // Still busy after several passes: let the other connections in first.
            self.sock.lp.kick(token);
        }
        next
    }

    fn drive_once(&mut self, cx: &mut Cx<'_>, token: usize, ready: Ready) -> Next {
        if self.sock.is_destroyed() {
            return self.close(cx, false);
        }
        let late = self.sock.queue.lock().unwrap_or_else(|e| e.into_inner()).after_end.take();
        if let Some(callbacks) = late {
            for cb in callbacks {
                cb(&self.sock, NTLS_EWRITE_AFTER_END);
            }
            let err = NtlsError::new(NTLS_EWRITE_AFTER_END, "ERR_STREAM_WRITE_AFTER_END", "write after end");
            return self.fail(cx, err);
        }
        if let Inbound::Open { more, fin } = &mut self.inbound {
            *more |= ready.readable;
            *fin |= ready.read_closed;
        }
        match self.step(cx, token, ready) {
            Err(err) => self.fail(cx, err),
            Ok(()) if self.sock.is_destroyed() => self.close(cx, false),
            Ok(()) if self.outbound == Outbound::Shut && self.inbound == Inbound::Ended => {
                self.close(cx, false)
            }
            // destroySoon(): everything queued and the end are on the wire.
            Ok(()) if self.outbound == Outbound::Shut && self.sock.destroying_soon() => {
                self.linger(cx, token)
            }
            Ok(()) if self.inbound.finished() && self.phase != Phase::Secure => {
                // Node's client sees the stream end first, then the error.
                if matches!(self.role, Role::Client { .. }) && !self.sock.is_destroyed() {
                    self.sock.events.end(&self.sock);
                }
                let words = "Client network socket disconnected before secure TLS connection was established";
                self.fail(cx, NtlsError::from_status(NTLS_ECONNRESET, words))
            }
            Ok(()) => {
                self.arm_timers(cx, token);
                Next::Keep
            }
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, token: usize, ready: Ready) -> Result<(), NtlsError> {
        if self.phase == Phase::Dialing
            && (!(ready.writable || ready.readable) || !self.check_connected(cx, token)?)
        {
            return Ok(());
        }
        if let (Some(enable), Some(stream)) = (self.sock.take_no_delay_request(), self.stream.as_ref()) {
            let _ = stream.set_nodelay(enable);
        }
        if let (Some((on, secs)), Some(stream)) = (self.sock.take_keep_alive_request(), self.stream.as_ref())
        {
            let _ = stream.set_keep_alive(on, secs);
        }
        self.take_writes();
        let more = self.read()?;
        self.settle_new_sessions()?;
        self.take_writes();
        self.flush()?;
        if more {
            // Fairness: come back after the other ready connections had their turn.
            self.sock.lp.kick(token);
        }
        Ok(())
    }

    /// `destroySoon()` once our end is flushed: close when the peer has finished too, or
    /// after `DESTROY_SOON_LINGER`, dropping what it sends meanwhile. Closing at once would
    /// let any byte the peer sends afterwards (a session ticket, its close_notify) meet a
    /// closed socket, whose reset makes the kernel throw away our records still queued for
    /// the wire (Node then saw 144 KiB of a 1 MiB write).
    fn linger(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        let peer_done = self.inbound.finished() || self.discard_input();
        let now = Instant::now();
        let until = match self.linger_until {
            Some(at) => at,
            None => {
                let at = now + DESTROY_SOON_LINGER;
                cx.set_timer(token, at);
                self.linger_until = Some(at);
                at
            }
        };
        if peer_done || now >= until {
            return self.close(cx, false);
        }
        Next::Keep
    }

    /// The handshake finished: judge the peer, record the facts, emit the secure event.
    fn on_secure(&mut self) {
        self.phase = Phase::Secure;
        let judge = match &self.role {
            Role::Client { verifier, server_name, sni, .. } => {
                info::Judge::Client { verifier, server_name, sni: sni.as_deref() }
            }
            Role::Server(side) => info::Judge::Server { client_verifier: side.client_verifier.as_deref() },
        };
        let own_cert = match (&self.own_cert, &self.role) {
            (Some(k), _) => Some(k.clone()),
            (None, Role::Client { default_cert, .. }) => default_cert.clone(),
            (None, Role::Server(_)) => None,
        };
        let mut info = info::judge(&self.tls, judge);
        info.own_cert = own_cert.and_then(|k| k.cert.first().cloned());
        info.shared_sigalgs = self.shared_sigalgs.unwrap_or_default();
        info.exporter = self.exporter();
        let _ = self.sock.info.set(info);
        self.sock.set_state(State::Secure);
        // A destroy() from another thread may land while the handshake completes: after it
        // returned, no event but `close` may reach the program.
        self.emit_ocsp_response();
        // A TLS 1.2 session is saved during the handshake: getSession() inside secureConnect
        // answers it, as Node's does; the `session` event still follows secureConnect.
        if let Role::Client { sessions, .. } = &self.role {
            if let Some(session) = sessions.newest_arrived() {
                self.sock.set_session(session);
            }
        }
        let held = self.store_new_sessions();
        match &mut self.role {
            _ if self.sock.is_destroyed() => {}
            Role::Client { .. } => self.sock.events.secure_connect(&self.sock),
            Role::Server(side) if held => side.secure_held = true,
            Role::Server(side) => side.hooks.secure_connection(&self.sock),
        }
        self.take_writes();
    }

    /// `OCSPResponse` (a client with `requestOCSP`), before `secureConnect` as in Node: what
    /// the server stapled in this full handshake, or None. A resumed handshake carries no
    /// certificate and so no response, and emits nothing.
    fn emit_ocsp_response(&self) {
        let Role::Client { verifier, request_ocsp: true, .. } = &self.role else { return };
        if matches!(self.tls.handshake_kind(), Some(rustls::HandshakeKind::Resumed))
            || self.sock.is_destroyed()
        {
            return;
        }
        let leaf = self.tls.peer_certificates().and_then(|c| c.first());
        let response = leaf.and_then(|l| verifier.stapled_for(l.as_ref()));
        self.sock.events.ocsp_response(&self.sock, response.as_deref());
    }

    /// Hands the sessions rustls saved to `getSession()` and the `session` event, after
    /// `secureConnect` as in Node. A resumed TLS 1.2 handshake saves its session again;
    /// Node (OpenSSL) emits nothing for it, so neither do we.
    fn emit_sessions(&mut self) {
        let Role::Client { sessions, .. } = &self.role else { return };
        if self.phase != Phase::Secure {
            return;
        }
        let resumed = matches!(self.tls.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
        for session in sessions.take_arrived() {
            self.sock.set_session(session.clone());
            let again = resumed && session.protocol() == c"TLSv1.2";
            if !again && !self.sock.is_destroyed() {
                self.sock.events.session(&self.sock, &session);
            }
        }
    }

    /// Reports an error (to the socket, or to the server before the handshake finished).
    /// After `destroy()` nothing is reported: the program asked for the close, and a
    /// failure it caused (a reset connect, a cut handshake) is no news to it.
    fn fail(&mut self, cx: &mut Cx<'_>, err: NtlsError) -> Next {
        if self.sock.is_destroyed() {
            return self.close(cx, false);
        }
        if let Some(stream) = self.stream.as_mut() {
            // Best effort: let the peer see the alert (OpenSSL's where it differs).
            match crate::tls::alerts::openssl_alert(&self.tls, &err) {
                Some(alert) => {
                    let _ = self.tls.write_tls(&mut io::sink());
                    let _ = NoSigPipe(stream).write_all(alert);
                }
                None => {
                    let _ = self.tls.write_tls(&mut NoSigPipe(stream));
                }
            }
        }
        if let rustls::Connection::Server(s) = &self.tls {
            self.sock.note_requested_name(s.server_name().unwrap_or(""));
        }
        match &self.role {
            Role::Server(side) if self.phase != Phase::Secure => side.hooks.client_error(&err, &self.sock),
            _ => self.sock.events.error(&self.sock, &err),
        }
        if self.phase == Phase::Secure && matches!(err.status(), NTLS_ETLS | NTLS_ECERT) {
            // Node destroys a secure socket only for a transport error: after a TLS error
            // (a bad record, the peer's alert) OpenSSL's reads return 0, so the stream ends
            // and closes cleanly (`end`, then `close` with had_error false).
            if self.inbound != Inbound::Ended && !self.sock.is_destroyed() {
                self.inbound = Inbound::Ended;
                self.sock.events.end(&self.sock);
            }
            return self.close(cx, false);
        }
        self.close(cx, true)
    }

    /// Releases the connection and emits `close`; every path ends here exactly once.
    fn close(&mut self, cx: &mut Cx<'_>, had_error: bool) -> Next {
        if let Some(mut stream) = self.stream.take() {
            let _ = cx.registry().deregister(&mut stream);
        }
        for (_, cb) in self.callbacks.drain(..) {
            cb(&self.sock, crate::error::NTLS_ECANCELED);
        }
        self.abandon_new_sessions();
        self.sock.finish_close(had_error);
        if let Role::Server(side) = &self.role {
            side.hooks.connection_closed();
        }
        self.sock.lp.handle_closed();
        self.sock.token.store(NO_TOKEN, Ordering::SeqCst);
        Next::Remove
    }
}

impl<E: SocketEvents> Handler for Conn<E> {
    fn ready(&mut self, cx: &mut Cx<'_>, token: usize, ready: Ready) -> Next {
        self.drive(cx, token, ready)
    }

    fn kick(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        self.sock.kicked.store(false, Ordering::SeqCst);
        self.drive(cx, token, Ready::default())
    }

    fn timer(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        self.on_timer(cx, token)
    }

    fn abort(&mut self, cx: &mut Cx<'_>, _token: usize) {
        let err =
            NtlsError::from_status(crate::error::NTLS_EPANIC, "internal error while serving this socket");
        self.fail(cx, err);
    }
}
