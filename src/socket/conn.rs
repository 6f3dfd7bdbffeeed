//! The loop-thread half of a socket: TCP plus rustls, driven by readiness and kicks.

use super::events::WriteDone;
use super::info::{self, Addresses};
use super::no_sigpipe::NoSigPipe;
use super::{Socket, SocketEvents, State};
use crate::error::{NtlsError, NTLS_ECONNRESET, NTLS_ETIMEDOUT};
use crate::reactor::{Cx, Handler, Next, Ready, NO_TOKEN};
use crate::tls::alerts::tls_error;
use crate::tls::verify::{NodeCertError, NodeClientVerifier, NodeServerVerifier};
use mio::net::TcpStream;
use mio::Interest;
use rustls::pki_types::ServerName;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One read syscall's worth: large, so bulk transfers need few syscalls, and shared by
/// every connection of the loop, so idle connections hold no read buffer.
const READ_CHUNK: usize = 64 * 1024;

/// Reads per readiness event before other connections get a turn.
const READS_PER_TURN: usize = 16;

/// Write buffers above this are freed after use rather than kept: small writes (the
/// steady state of interactive traffic) reuse their buffer, while a connection that once
/// wrote in bulk does not keep a large buffer when it goes idle.
const KEEP_SPARE: usize = 16 * 1024;

thread_local! {
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);
}

/// What the server layer does for its connections.
pub trait ServerHooks<E: SocketEvents>: Send + Sync {
    /// `secureConnection`.
    fn secure_connection(&self, s: &Socket<E>);
    /// `tlsClientError`: a connection failed before it was secure.
    fn client_error(&self, err: &NtlsError, s: &Socket<E>);
    /// A connection closed (for `connections` and the server's own `close`).
    fn connection_closed(&self);
}

/// The server side of a connection.
pub struct ServerSide<E: SocketEvents> {
    /// The server's events.
    pub hooks: Arc<dyn ServerHooks<E>>,
    /// Client-certificate checks, when `requestCert` is set.
    pub client_verifier: Option<Arc<NodeClientVerifier>>,
    /// When an unfinished handshake is abandoned.
    pub handshake_deadline: Instant,
}

/// Which end of the connection we are.
pub enum Role<E: SocketEvents> {
    /// `tls.connect`.
    Client {
        /// Judges `authorized` when `rejectUnauthorized` is false.
        verifier: Arc<NodeServerVerifier>,
        /// The name checked against the certificate.
        server_name: ServerName<'static>,
        /// The SNI sent, if any.
        sni: Option<String>,
        /// Resolved addresses, tried in order.
        addrs: Vec<SocketAddr>,
        /// The next address to try.
        next_addr: usize,
    },
    /// An accepted connection.
    Server(ServerSide<E>),
}

/// A TLS connection being driven by the loop.
pub struct Conn<E: SocketEvents> {
    sock: Arc<Socket<E>>,
    stream: Option<TcpStream>,
    tls: rustls::Connection,
    role: Role<E>,
    connected: bool,
    secure: bool,
    eof: bool,
    peer_ended: bool,
    close_notify_sent: bool,
    write_shut: bool,
    want_read: bool,
    fin_pending: bool,
    first_bytes: [u8; 4],
    stash: Vec<u8>,
    accepted: u64,
    flushed: u64,
    callbacks: VecDeque<(u64, WriteDone<E>)>,
    spare: Vec<u8>,
    allow_half_open: bool,
    no_delay: bool,
    last_activity: Instant,
    timeout_fired: bool,
    timer_at: Option<Instant>,
    timeout_ms: u64,
}

/// Starts driving an already-connected TCP stream (an accepted or a wrapped one).
/// The caller has counted the handle with `handle_started`.
pub fn start_connected<E: SocketEvents>(
    cx: &mut Cx<'_>,
    sock: Arc<Socket<E>>,
    stream: TcpStream,
    tls: rustls::Connection,
    role: Role<E>,
    no_delay: bool,
    allow_half_open: bool,
) {
    let _ = stream.set_nodelay(no_delay);
    if let (Ok(local), Ok(remote)) = (stream.local_addr(), stream.peer_addr()) {
        let _ = sock.addresses.set(Addresses { local, remote });
    }
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
        stream: Option<TcpStream>,
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
            connected,
            secure: false,
            eof: false,
            peer_ended: false,
            close_notify_sent: false,
            write_shut: false,
            want_read: true,
            fin_pending: false,
            first_bytes: [0; 4],
            stash: Vec::new(),
            accepted: 0,
            flushed: 0,
            callbacks: VecDeque::new(),
            spare: Vec::new(),
            allow_half_open,
            no_delay: true,
            last_activity: Instant::now(),
            timeout_fired: false,
            timer_at: None,
            timeout_ms: 0,
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
        match self.drive(cx, token, Ready::default()) {
            Next::Keep => cx.install(token, Box::new(self)),
            Next::Remove => cx.release(token),
        }
    }
}

impl<E: SocketEvents> Conn<E> {
    /// Connects to the next resolved address (clients try each in turn, as Node does).
    fn dial_next(&mut self, cx: &mut Cx<'_>, token: usize, last: Option<io::Error>) -> Result<(), NtlsError> {
        if let Some(mut old) = self.stream.take() {
            let _ = cx.registry().deregister(&mut old);
        }
        let Role::Client { addrs, next_addr, .. } = &mut self.role else {
            return Err(NtlsError::from_status(NTLS_ECONNRESET, "not a client"));
        };
        let mut last = last;
        while let Some(addr) = addrs.get(*next_addr).copied() {
            *next_addr += 1;
            match TcpStream::connect(addr) {
                Ok(mut s) => {
                    cx.registry()
                        .register(&mut s, Cx::token(token), Interest::READABLE | Interest::WRITABLE)
                        .map_err(|e| NtlsError::from_io(&e, "connect", &addr.to_string()))?;
                    self.stream = Some(s);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        let target = addrs.last().map(|a| a.to_string()).unwrap_or_default();
        let e = last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ECONNREFUSED));
        Err(NtlsError::from_io(&e, "connect", &target))
    }

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
        if self.sock.destroyed.load(Ordering::SeqCst) {
            return self.close(cx, false);
        }
        if ready.readable {
            self.want_read = true;
        }
        if ready.read_closed {
            self.fin_pending = true;
        }
        match self.step(cx, token, ready) {
            Err(err) => self.fail(cx, err),
            Ok(()) if self.sock.destroyed.load(Ordering::SeqCst) => self.close(cx, false),
            Ok(()) if self.write_shut && self.peer_ended => self.close(cx, false),
            Ok(()) if self.eof && !self.secure => self.fail(
                cx,
                NtlsError::from_status(
                    NTLS_ECONNRESET,
                    "Client network socket disconnected before secure TLS connection was established",
                ),
            ),
            Ok(()) => {
                self.arm_timers(cx, token);
                Next::Keep
            }
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, token: usize, ready: Ready) -> Result<(), NtlsError> {
        if !self.connected && (!(ready.writable || ready.readable) || !self.check_connected(cx, token)?) {
            return Ok(());
        }
        if let (Some(enable), Some(stream)) = (self.sock.take_no_delay_request(), self.stream.as_ref()) {
            let _ = stream.set_nodelay(enable);
        }
        self.take_writes();
        let more = self.read()?;
        self.take_writes();
        self.flush()?;
        if more {
            // Fairness: come back after the other ready connections had their turn.
            self.sock.lp.kick(token);
        }
        Ok(())
    }

    /// Whether the TCP connect finished; tries the next address on failure.
    fn check_connected(&mut self, cx: &mut Cx<'_>, token: usize) -> Result<bool, NtlsError> {
        let Some(stream) = self.stream.as_ref() else {
            return Ok(false);
        };
        let failure = match stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match stream.peer_addr() {
                Ok(remote) => {
                    let local = stream.local_addr().unwrap_or(remote);
                    let _ = self.sock.addresses.set(Addresses { local, remote });
                    let _ = stream.set_nodelay(self.no_delay);
                    self.connected = true;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(false),
                Err(e) => Some(e),
            },
        };
        self.dial_next(cx, token, failure)?;
        Ok(false)
    }

    /// Moves queued plaintext into rustls; turns `end()` into close_notify once secure.
    fn take_writes(&mut self) {
        let ended = {
            let mut q = self.sock.queue.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut q.buf, &mut self.spare);
            self.callbacks.extend(q.callbacks.drain(..));
            q.ended
        };
        if !self.spare.is_empty() {
            // Unlimited buffer: the writer takes everything; backpressure is our queue's.
            let _ = self.tls.writer().write_all(&self.spare);
            self.accepted += self.spare.len() as u64;
            self.touch();
            self.spare.clear();
            if self.spare.capacity() > KEEP_SPARE {
                self.spare = Vec::new();
            }
        }
        if ended && self.secure && !self.close_notify_sent {
            self.tls.send_close_notify();
            self.close_notify_sent = true;
        }
    }

    /// Reads and decrypts while the socket flows; true if there may be more to read now.
    fn read(&mut self) -> Result<bool, NtlsError> {
        if !self.deliver()? {
            return Ok(false);
        }
        if !self.stash.is_empty() {
            let mut stash = std::mem::take(&mut self.stash);
            let rest = self.feed(&stash)?;
            // Keep the unfed tail in the same buffer: no new allocation per resume.
            stash.drain(..stash.len() - rest);
            self.stash = stash;
            if !self.stash.is_empty() {
                return Ok(false);
            }
        }
        let Some(mut stream) = self.stream.take() else {
            return Ok(false);
        };
        let result = READ_BUF.with(|b| self.read_from(&mut stream, &mut b.borrow_mut()));
        self.stream = Some(stream);
        result
    }

    fn read_from(&mut self, stream: &mut TcpStream, buf: &mut [u8]) -> Result<bool, NtlsError> {
        for _ in 0..READS_PER_TURN {
            if !self.want_read || self.eof || !self.may_read() {
                return Ok(false);
            }
            match stream.read(buf) {
                Ok(0) => {
                    self.eof = true;
                    let _ = self.tls.read_tls(&mut io::empty());
                    self.process()?;
                    self.deliver()?;
                    if self.secure && !self.peer_ended {
                        self.on_peer_end();
                    }
                    return Ok(false);
                }
                Ok(n) => {
                    if self.sock.bytes_read.fetch_add(n as u64, Ordering::Relaxed) == 0 {
                        let k = n.min(4);
                        self.first_bytes[..k].copy_from_slice(&buf[..k]);
                    }
                    self.touch();
                    if n < buf.len() && !self.fin_pending {
                        // A short read drained the socket: the next arrival raises a new
                        // edge, so the read that would only say EAGAIN is skipped.
                        self.want_read = false;
                    }
                    let rest = self.feed(&buf[..n])?;
                    if rest > 0 {
                        self.stash.extend_from_slice(&buf[n - rest..n]);
                        return Ok(false);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.want_read = false;
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NtlsError::from_io(&e, "read", "")),
            }
        }
        Ok(true)
    }

    /// Whether reading is allowed now: always while handshaking, then only while flowing.
    fn may_read(&self) -> bool {
        !self.secure || self.sock.flowing()
    }

    /// Feeds ciphertext to rustls; returns how many bytes it could not take yet (paused).
    fn feed(&mut self, data: &[u8]) -> Result<usize, NtlsError> {
        let mut rest = data;
        while !rest.is_empty() {
            if !self.may_read() {
                break;
            }
            match self.tls.read_tls(&mut rest) {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(_) => break,
            }
            self.process()?;
            if !self.deliver()? {
                break;
            }
        }
        Ok(rest.len())
    }

    /// Processes records; notices the end of the handshake.
    fn process(&mut self) -> Result<(), NtlsError> {
        if let Err(e) = self.tls.process_new_packets() {
            if let (false, Some((code, words))) = (self.secure, plaintext_protocol(&self.first_bytes)) {
                return Err(NtlsError::new(crate::error::NTLS_ETLS, code, words));
            }
            let chain = self.tls.peer_certificates().map(<[_]>::to_vec).unwrap_or_default();
            let host = match &self.role {
                Role::Client { server_name, .. } => server_name.to_str().into_owned(),
                Role::Server(_) => String::new(),
            };
            return Err(tls_error(&e, &chain, &host));
        }
        if !self.secure && !self.tls.is_handshaking() {
            self.on_secure();
        }
        Ok(())
    }

    fn on_secure(&mut self) {
        self.secure = true;
        let chain = self.tls.peer_certificates().unwrap_or(&[]);
        let (verdict, servername): (Option<Result<(), NodeCertError>>, Option<String>) =
            match (&self.role, &self.tls) {
                (Role::Client { verifier, server_name, sni, .. }, _) => {
                    let v = if verifier.rejects() { Ok(()) } else { verifier.check(chain, server_name) };
                    (Some(v), sni.clone())
                }
                (Role::Server(side), rustls::Connection::Server(s)) => {
                    let v = side.client_verifier.as_ref().map(|cv| cv.check(chain));
                    (v, s.server_name().map(str::to_owned))
                }
                (Role::Server(_), _) => (None, None),
            };
        let info = info::from_connection(&self.tls, servername.as_deref(), verdict);
        let _ = self.sock.info.set(info);
        self.sock.set_state(State::Secure);
        match &self.role {
            Role::Client { .. } => self.sock.events.secure_connect(&self.sock),
            Role::Server(side) => side.hooks.secure_connection(&self.sock),
        }
        self.take_writes();
    }

    /// Hands decrypted bytes to `data`, borrowed from rustls; false if it stopped early.
    fn deliver(&mut self) -> Result<bool, NtlsError> {
        loop {
            if !self.secure {
                return Ok(true);
            }
            if !self.sock.flowing() || self.sock.destroyed.load(Ordering::SeqCst) {
                return Ok(false);
            }
            let Conn { tls, sock, .. } = self;
            let mut reader = tls.reader();
            match reader.fill_buf() {
                Ok([]) => {
                    self.on_peer_end();
                    return Ok(true);
                }
                Ok(buf) => {
                    let n = buf.len();
                    sock.events.data(sock, buf);
                    reader.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.on_peer_end();
                    return Ok(true);
                }
                Err(e) => return Err(NtlsError::from_io(&e, "read", "")),
            }
        }
    }

    /// `end`: the peer is done; without `allowHalfOpen` we end too.
    fn on_peer_end(&mut self) {
        if self.peer_ended {
            return;
        }
        self.peer_ended = true;
        self.sock.events.end(&self.sock);
        if !self.allow_half_open {
            self.sock.queue.lock().unwrap_or_else(|e| e.into_inner()).ended = true;
            self.take_writes();
        }
    }

    /// Writes TLS records (one writev for several), completes writes, shuts down after end.
    fn flush(&mut self) -> Result<(), NtlsError> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut NoSigPipe(stream)) {
                Ok(n) => {
                    self.sock.bytes_written.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NtlsError::from_io(&e, "write", "")),
            }
        }
        if self.tls.wants_write() || !self.secure {
            return Ok(());
        }
        if self.flushed != self.accepted {
            self.flushed = self.accepted;
            self.sock.flushed.store(self.flushed, Ordering::SeqCst);
            while self.callbacks.front().is_some_and(|(end, _)| *end <= self.flushed) {
                if let Some((_, cb)) = self.callbacks.pop_front() {
                    cb(&self.sock, 0);
                }
            }
        }
        if self.sock.need_drain.load(Ordering::SeqCst) {
            let idle = self.sock.queue.lock().unwrap_or_else(|e| e.into_inner()).total == self.flushed;
            if idle && self.sock.need_drain.swap(false, Ordering::SeqCst) {
                self.sock.events.drain(&self.sock);
            }
        }
        if self.close_notify_sent && !self.write_shut {
            let _ = stream.shutdown(std::net::Shutdown::Write);
            self.write_shut = true;
        }
        Ok(())
    }

    /// Notes activity for the idle timeout; free when no timeout is set (the common case).
    fn touch(&mut self) {
        if self.sock.timeout_ms.load(Ordering::Relaxed) > 0 {
            self.last_activity = Instant::now();
            self.timeout_fired = false;
        }
    }

    /// Sets the timer for the next deadline: the handshake's, or the idle timeout's.
    fn arm_timers(&mut self, cx: &mut Cx<'_>, token: usize) {
        let ms = self.sock.timeout_ms.load(Ordering::SeqCst);
        if ms != self.timeout_ms {
            // setTimeout restarts the idle clock.
            self.timeout_ms = ms;
            self.last_activity = Instant::now();
            self.timeout_fired = false;
            self.timer_at = None;
        }
        let idle_at = (ms > 0 && !self.timeout_fired).then(|| self.last_activity + Duration::from_millis(ms));
        if idle_at.is_some() && idle_at != self.timer_at {
            self.timer_at = idle_at;
            cx.set_timer(token, idle_at.unwrap_or_else(Instant::now));
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        let now = Instant::now();
        if let Role::Server(side) = &self.role {
            if !self.secure && now >= side.handshake_deadline {
                let err =
                    NtlsError::new(NTLS_ETIMEDOUT, "ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake timeout");
                return self.fail(cx, err);
            }
        }
        let ms = self.sock.timeout_ms.load(Ordering::SeqCst);
        if ms > 0 && !self.timeout_fired && now >= self.last_activity + Duration::from_millis(ms) {
            self.timeout_fired = true;
            self.timer_at = None;
            self.sock.events.timeout(&self.sock);
        }
        self.drive(cx, token, Ready::default())
    }

    /// Reports an error (to the socket, or to the server before the handshake finished).
    /// After `destroy()` nothing is reported: the program asked for the close, and a
    /// failure it caused (a reset connect, a cut handshake) is no news to it.
    fn fail(&mut self, cx: &mut Cx<'_>, err: NtlsError) -> Next {
        if self.sock.is_destroyed() {
            return self.close(cx, false);
        }
        if let Some(stream) = self.stream.as_mut() {
            // Best effort: let the peer see rustls's alert.
            let _ = self.tls.write_tls(&mut NoSigPipe(stream));
        }
        match &self.role {
            Role::Server(side) if !self.secure => side.hooks.client_error(&err, &self.sock),
            _ => self.sock.events.error(&self.sock, &err),
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
        self.sock.finish_close(had_error);
        if let Role::Server(side) = &self.role {
            side.hooks.connection_closed();
        }
        self.sock.lp.handle_closed();
        self.sock.token.store(NO_TOKEN, Ordering::SeqCst);
        Next::Remove
    }
}

/// OpenSSL's diagnosis of plain HTTP sent to a TLS port, which Node reports as is.
fn plaintext_protocol(first: &[u8; 4]) -> Option<(&'static str, &'static str)> {
    match first {
        b"GET " | b"POST" | b"HEAD" | b"PUT " => Some(("ERR_SSL_HTTP_REQUEST", "SSL routines::http request")),
        b"CONN" => Some(("ERR_SSL_HTTPS_PROXY_REQUEST", "SSL routines::https proxy request")),
        _ => None,
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
