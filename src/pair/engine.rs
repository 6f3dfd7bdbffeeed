//! The TLS state of a pair, behind its lock: rustls (or, for a server with contexts to
//! choose from, its ClientHello phase), the ciphertext waiting to be pulled, the cleartext
//! waiting for the handshake, and the events waiting for the next dispatch.

use super::hello::Hello;
use super::Facts;
use crate::error::*;
use crate::request::{Answer, Request};
use crate::server::hello::{choose, config_for_choice, Choice};
use crate::socket::info::{judge, Judge};
use crate::tls::alerts::{connection_error, openssl_alert, tls_error};
use crate::tls::context::SecureContext;
use crate::tls::server_config::ServerTls;
use crate::tls::verify::{NodeClientVerifier, NodeServerVerifier};
use rustls::pki_types::ServerName;
use rustls::server::Accepted;
use rustls::ClientConfig;
use std::io::{self, BufRead, Write};
use std::sync::Arc;

/// Cleartext handed to one `data` event at most (one TLS record's worth).
const DATA_CHUNK: usize = 16 * 1024;

/// An output buffer larger than this is given back once the program has pulled it all,
/// so a pair that once sent in bulk does not keep a large buffer while idle.
const KEEP_OUT: usize = 64 * 1024;

/// Node's words for a transport that ended before the handshake did.
const DISCONNECTED: &str = "Client network socket disconnected before secure TLS connection was established";

/// Where the TLS connection is.
pub(super) enum Tls {
    /// `ntls_pair_start` not called yet.
    Unstarted,
    /// A server with contexts to choose from, reading the ClientHello.
    Hello(Box<Hello>),
    /// The TLS connection.
    Conn(Box<rustls::Connection>),
    /// Closed, destroyed or failed: nothing more is processed.
    Done,
}

/// The side a pair plays, and who judges the peer.
pub(super) enum Role {
    /// `tls.connect`'s side.
    Client {
        /// The client config.
        config: Arc<ClientConfig>,
        /// Chain and host-name checks.
        verifier: Arc<NodeServerVerifier>,
        /// The name checked against the certificate.
        server_name: ServerName<'static>,
        /// The SNI sent, if any.
        sni: Option<String>,
    },
    /// `tls.createServer`'s side.
    Server {
        /// The server's configs, contexts (`addContext`) and parameters.
        tls: Box<ServerTls>,
        /// Client-certificate checks of the chosen context.
        client_verifier: Option<Arc<NodeClientVerifier>>,
    },
}

/// An event for the program, taken by dispatch one at a time.
pub(super) enum Event {
    /// `secure`.
    Secure,
    /// Cleartext (the pair's reusable buffer, given back after the call).
    Data(Vec<u8>),
    /// `end`.
    End,
    /// `drain`.
    Drain,
    /// `error`.
    Error(NtlsError),
    /// SNICallback.
    Sni(Arc<Request>),
    /// `close(had_error)`.
    Close(bool),
}

/// A pair's TLS state and its pending events.
pub(super) struct Engine {
    tls: Tls,
    role: Role,
    /// Ciphertext for the transport; `out[out_pos..]` is still to be pulled.
    out: Vec<u8>,
    out_pos: usize,
    /// Cleartext written before the handshake finished.
    queued: Vec<u8>,
    /// The first ciphertext bytes, to recognise plain HTTP sent to a TLS server.
    first_bytes: [u8; 4],
    fed: u64,
    secure: bool,
    end_called: bool,
    close_notify_sent: bool,
    transport_ended: bool,
    inbound_ended: bool,
    allow_half_open: bool,
    high_water_mark: u64,
    need_drain: bool,
    /// `pause()` / `resume()`.
    pub paused: bool,
    pub resumed: bool,
    destroyed: bool,
    closed: bool,
    /// An error was emitted: `close` follows.
    failed: bool,
    /// The error was TLS's after the handshake: `end`, then `close(false)`.
    clean_close: bool,
    /// The SNICallback's question, waiting for its answer.
    waiting: Option<(Accepted, Arc<Request>)>,
    pending_secure: bool,
    /// A client's `end` before its `error` when the transport ends mid-handshake (Node's order).
    pending_early_end: bool,
    pending_drain: bool,
    pending_error: Option<NtlsError>,
    pending_sni: Option<Arc<Request>>,
    /// Cleartext buffer lent to `data` events.
    scratch: Vec<u8>,
    /// `bytesRead` / `bytesWritten`: cleartext delivered and taken.
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// Why a call was refused: the status and the words for `ntls_pair_last_error`.
pub(super) type Refusal = (std::ffi::c_int, &'static str);

impl Engine {
    /// A new, unstarted engine.
    pub fn new(role: Role, allow_half_open: bool, high_water_mark: u64) -> Engine {
        Engine {
            tls: Tls::Unstarted,
            role,
            out: Vec::new(),
            out_pos: 0,
            queued: Vec::new(),
            first_bytes: [0; 4],
            fed: 0,
            secure: false,
            end_called: false,
            close_notify_sent: false,
            transport_ended: false,
            inbound_ended: false,
            allow_half_open,
            high_water_mark,
            need_drain: false,
            paused: false,
            resumed: false,
            destroyed: false,
            closed: false,
            failed: false,
            clean_close: false,
            waiting: None,
            pending_secure: false,
            pending_early_end: false,
            pending_drain: false,
            pending_error: None,
            pending_sni: None,
            scratch: Vec::new(),
            bytes_read: 0,
            bytes_written: 0,
        }
    }

    /// Refuses calls on a pair that closed, was destroyed or failed.
    pub fn check_open(&self) -> Result<(), Refusal> {
        if self.closed || self.destroyed || self.failed || self.pending_error.is_some() {
            return Err((NTLS_ECLOSED, "pair is closed"));
        }
        Ok(())
    }

    /// Whether `close` was emitted.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// The server's contexts, for `addContext` before the ClientHello is read.
    pub fn server_tls(&self) -> Result<&ServerTls, Refusal> {
        match (&self.role, &self.tls) {
            (Role::Server { tls, .. }, Tls::Unstarted) => Ok(tls),
            (Role::Server { .. }, _) => Err((NTLS_EALREADY, "addContext after the pair started")),
            (Role::Client { .. }, _) => Err((NTLS_EINVAL, "addContext on a client pair")),
        }
    }

    /// `ntls_pair_start`: a client makes its ClientHello; a server waits for the peer's,
    /// through the ClientHello phase when it has contexts or an SNICallback to choose with.
    pub fn start(&mut self, has_sni_callback: bool) -> Result<(), Refusal> {
        self.check_open()?;
        if !matches!(self.tls, Tls::Unstarted) {
            return Err((NTLS_EALREADY, "pair already started"));
        }
        let made = match &self.role {
            Role::Client { config, server_name, .. } => {
                rustls::ClientConnection::new(config.clone(), server_name.clone()).map(|c| (c.into(), None))
            }
            Role::Server { tls, .. } if has_sni_callback || !tls.sni.is_empty() => {
                self.tls = Tls::Hello(Box::default());
                return Ok(());
            }
            Role::Server { tls, .. } => {
                let (config, verifier) = tls.default_config();
                rustls::ServerConnection::new(config).map(|c| (c.into(), verifier))
            }
        };
        let (conn, verifier) = made.map_err(|_| (NTLS_ETLS, "TLS connection could not be made"))?;
        self.set_connection(conn, verifier);
        self.flush_out();
        Ok(())
    }

    fn set_connection(&mut self, mut conn: rustls::Connection, verifier: Option<Arc<NodeClientVerifier>>) {
        // Unlimited: backpressure is the pair's own (`write` answers false above highWaterMark).
        conn.set_buffer_limit(None);
        if let Role::Server { client_verifier, .. } = &mut self.role {
            *client_verifier = verifier;
        }
        self.tls = Tls::Conn(Box::new(conn));
    }

    /// Takes ciphertext from the transport; returns how much it took. Less than all of it
    /// means: dispatch (so the cleartext is delivered, or the SNICallback answered), then
    /// feed the rest.
    pub fn feed(&mut self, data: &[u8], facts: &Facts, has_sni_callback: bool) -> Result<usize, Refusal> {
        self.check_open()?;
        if self.transport_ended {
            return Err((NTLS_EINVAL, "ciphertext fed after the transport's end"));
        }
        if matches!(self.tls, Tls::Unstarted) {
            return Err((NTLS_ENOTCONN, "pair not started (ntls_pair_start)"));
        }
        if self.fed < 4 {
            let at = self.fed as usize;
            let k = data.len().min(4 - at);
            self.first_bytes[at..at + k].copy_from_slice(&data[..k]);
        }
        let mut rest = data;
        self.poll_sni_answer(facts);
        if let Tls::Hello(hello) = &mut self.tls {
            if self.waiting.is_none() {
                match hello.feed(&mut rest, &mut self.out) {
                    Ok(Some(accepted)) => self.accepted(accepted, facts, has_sni_callback),
                    Ok(None) => {}
                    Err(e) => self.fail(e),
                }
            }
        }
        while !rest.is_empty() && self.pending_error.is_none() {
            let Tls::Conn(conn) = &mut self.tls else { break };
            match conn.read_tls(&mut rest) {
                // After the peer's close_notify TLS takes nothing more: the rest is dropped.
                Ok(0) => rest = &[],
                Ok(_) => {
                    if let Err(e) = self.process(facts) {
                        self.fail(e);
                        break;
                    }
                }
                // rustls's cleartext buffer is full: dispatch delivers it first.
                Err(_) => break,
            }
        }
        let taken = data.len() - rest.len();
        self.fed += taken as u64;
        self.flush_out();
        Ok(taken)
    }

    /// The transport ended (EOF): `end` once the cleartext is delivered, or, before the
    /// handshake finished, Node's `ECONNRESET`.
    pub fn feed_end(&mut self, facts: &Facts) -> Result<(), Refusal> {
        if self.transport_ended {
            return Err((NTLS_EALREADY, "the transport's end was already fed"));
        }
        self.check_open()?;
        if matches!(self.tls, Tls::Unstarted) {
            return Err((NTLS_ENOTCONN, "pair not started (ntls_pair_start)"));
        }
        self.transport_ended = true;
        if let Tls::Conn(conn) = &mut self.tls {
            let _ = conn.read_tls(&mut io::empty());
            if let Err(e) = self.process(facts) {
                self.fail(e);
                return Ok(());
            }
        }
        if !self.secure {
            self.pending_early_end = matches!(self.role, Role::Client { .. });
            self.fail(NtlsError::from_status(NTLS_ECONNRESET, DISCONNECTED));
        }
        Ok(())
    }

    /// A ClientHello is in: choose the context by its name, or ask the SNICallback.
    fn accepted(&mut self, accepted: Accepted, facts: &Facts, has_sni_callback: bool) {
        let Role::Server { tls, .. } = &self.role else { return };
        let name = accepted.client_hello().server_name().unwrap_or("").to_owned();
        if !name.is_empty() {
            let _ = facts.requested_name.set(cstring(&name));
        }
        match choose(tls, &name, has_sni_callback) {
            Choice::Context(ctx) => self.hand_over(accepted, ctx, facts),
            Choice::AskProgram => {
                let req = Request::detached(&name);
                self.waiting = Some((accepted, req.clone()));
                self.pending_sni = Some(req);
            }
        }
    }

    /// Takes the SNICallback's answer, once given.
    fn poll_sni_answer(&mut self, facts: &Facts) {
        let answer = match &self.waiting {
            Some((_, req)) => req.take_answer(),
            None => return,
        };
        let Some(answer) = answer else { return };
        let Some((accepted, _)) = self.waiting.take() else { return };
        match answer {
            Answer::Context(ctx) => self.hand_over(accepted, ctx, facts),
            Answer::Error(message) => self.fail(NtlsError::new(NTLS_ETLS, "ERR_TLS_SNI_CALLBACK", message)),
            // A session store's or OCSPRequest's answer to the SNICallback's question.
            Answer::Bytes(_) => self.fail(NtlsError::new(
                NTLS_ETLS,
                "ERR_TLS_SNI_CALLBACK",
                "SNICallback answered with bytes, not a context",
            )),
        }
    }

    /// Builds the server connection from the chosen context, as a server's connection does.
    fn hand_over(&mut self, accepted: Accepted, ctx: Option<Arc<SecureContext>>, facts: &Facts) {
        let Role::Server { tls, .. } = &self.role else { return };
        let (config, verifier) = match config_for_choice(tls, ctx) {
            Ok(c) => c,
            Err((err, alert)) => {
                self.out.extend_from_slice(alert.unwrap_or_default());
                return self.fail(err);
            }
        };
        match accepted.into_connection(config) {
            Ok(conn) => {
                self.set_connection(conn.into(), verifier);
                if let Err(e) = self.process(facts) {
                    self.fail(e);
                }
                self.flush_out();
            }
            Err((e, mut alert)) => {
                let shared = crate::tls::handshake::notes::take().and_then(|n| n.shared_sigalgs);
                let _ = alert.write_all(&mut self.out);
                self.fail(crate::tls::sigalgs::refine(tls_error(&e, &[], ""), &e, shared));
            }
        }
    }

    /// Processes the records read; notices the end of the handshake.
    fn process(&mut self, facts: &Facts) -> Result<(), NtlsError> {
        let Tls::Conn(conn) = &mut self.tls else { return Ok(()) };
        let processed = conn.process_new_packets();
        // What rustls's hooks noted for this handshake (secrets, our certificate): a pair
        // has no use for them, and on the caller's thread nobody else would take them.
        let _ = crate::tls::handshake::notes::take();
        if let Err(e) = processed {
            let host = match &self.role {
                Role::Client { server_name, .. } => server_name.to_str().into_owned(),
                Role::Server { .. } => String::new(),
            };
            return Err(connection_error(&e, conn, !self.secure, &self.first_bytes, &host));
        }
        if !self.secure && !conn.is_handshaking() {
            let j = match &self.role {
                Role::Client { verifier, server_name, sni, .. } => {
                    Judge::Client { verifier, server_name, sni: sni.as_deref() }
                }
                Role::Server { client_verifier, .. } => {
                    Judge::Server { client_verifier: client_verifier.as_deref() }
                }
            };
            let _ = facts.info.set(judge(conn, j));
            self.secure = true;
            self.pending_secure = true;
            self.push_cleartext();
        }
        Ok(())
    }

    /// Hands queued cleartext to rustls once secure, then close_notify after `end`.
    fn push_cleartext(&mut self) {
        let Tls::Conn(conn) = &mut self.tls else { return };
        if !self.secure {
            return;
        }
        if !self.queued.is_empty() {
            let _ = conn.writer().write_all(&self.queued);
            self.queued = Vec::new();
        }
        if self.end_called && !self.close_notify_sent {
            conn.send_close_notify();
            self.close_notify_sent = true;
        }
    }

    /// Moves rustls's records into the output buffer.
    fn flush_out(&mut self) {
        let Tls::Conn(conn) = &mut self.tls else { return };
        if self.out_pos > 0 && conn.wants_write() {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        while conn.wants_write() {
            if conn.write_tls(&mut self.out).is_err() {
                break;
            }
        }
    }

    /// Reports an error at the next dispatch (unless destroyed), after flushing rustls's
    /// alert so the peer learns why.
    fn fail(&mut self, err: NtlsError) {
        // The alert for the peer: OpenSSL's where rustls's differs (as a socket sends it).
        match &mut self.tls {
            Tls::Conn(conn) => match openssl_alert(conn, &err) {
                Some(alert) => {
                    let _ = conn.write_tls(&mut io::sink());
                    self.out.extend_from_slice(alert);
                }
                None => self.flush_out(),
            },
            _ => self.flush_out(),
        }
        // The connection stays until `close`: cleartext it decrypted before the failure is
        // still delivered ahead of the error, so nothing the peer sent intact is lost.
        if !matches!(self.tls, Tls::Conn(_)) {
            self.tls = Tls::Done;
        }
        self.queued = Vec::new();
        if !self.destroyed && !self.failed && self.pending_error.is_none() {
            self.pending_error = Some(err);
        }
    }

    /// Ciphertext waiting to be pulled.
    pub fn pending_out(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// Copies waiting ciphertext out; allowed after close too, so the last alert or
    /// close_notify reaches the peer.
    pub fn pull(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.pending_out());
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.out.capacity() > KEEP_OUT {
                self.out = Vec::new();
            }
        }
        self.note_drained();
        n
    }

    fn backlog(&self) -> u64 {
        (self.pending_out() + self.queued.len()) as u64
    }

    fn note_drained(&mut self) {
        if self.need_drain && self.secure && self.backlog() == 0 && !self.destroyed {
            self.need_drain = false;
            self.pending_drain = true;
        }
    }

    /// `write(data)`: copies; true while the output waiting is under the high-water mark.
    /// After `end()`, as Node: false, then `error` (ERR_STREAM_WRITE_AFTER_END) and `close`.
    pub fn write(&mut self, data: &[u8]) -> Result<bool, Refusal> {
        if self.end_called {
            if self.closed || self.destroyed || self.failed || self.pending_error.is_some() {
                return Err((NTLS_EWRITE_AFTER_END, "write after end"));
            }
            self.fail(NtlsError::new(NTLS_EWRITE_AFTER_END, "ERR_STREAM_WRITE_AFTER_END", "write after end"));
            return Ok(false);
        }
        self.check_open()?;
        match &mut self.tls {
            Tls::Conn(conn) if self.secure => {
                let _ = conn.writer().write_all(data);
            }
            _ => self.queued.extend_from_slice(data),
        }
        self.bytes_written += data.len() as u64;
        self.flush_out();
        let below = self.backlog() < self.high_water_mark;
        if !below {
            self.need_drain = true;
        }
        Ok(below)
    }

    /// `end()`: close_notify after the cleartext written so far.
    pub fn end(&mut self) -> Result<(), Refusal> {
        if self.end_called {
            return Err((NTLS_EALREADY, "end already called"));
        }
        self.check_open()?;
        self.end_called = true;
        self.push_cleartext();
        self.flush_out();
        Ok(())
    }

    /// `destroy()`: stop now; only `close` follows.
    pub fn destroy(&mut self) -> Result<(), Refusal> {
        if self.closed || self.destroyed {
            return Err((NTLS_EALREADY, "pair already destroyed or closed"));
        }
        self.destroyed = true;
        self.tls = Tls::Done;
        self.queued = Vec::new();
        self.out = Vec::new();
        self.out_pos = 0;
        if let Some((_, req)) = self.waiting.take() {
            req.abandon();
        }
        Ok(())
    }

    /// The next event, in Node's order; None when there is nothing to emit now.
    pub fn next_event(&mut self, flowing: bool, facts: &Facts) -> Option<Event> {
        if self.closed {
            return None;
        }
        if self.destroyed {
            return Some(self.close(false));
        }
        if let Some(req) = self.pending_sni.take() {
            return Some(Event::Sni(req));
        }
        self.poll_sni_answer(facts);
        if std::mem::take(&mut self.pending_early_end) {
            return Some(Event::End);
        }
        if self.pending_error.is_some() {
            if flowing && !self.paused {
                if let Some(data @ Event::Data(_)) = self.read_cleartext() {
                    return Some(data);
                }
            }
            self.failed = true;
            self.tls = Tls::Done;
            let err = self.pending_error.take()?;
            // As a socket (and Node): after the handshake a TLS error ends the stream, which
            // then closes cleanly; any other error closes with had_error.
            self.clean_close = self.secure && matches!(err.status(), NTLS_ETLS | NTLS_ECERT);
            return Some(Event::Error(err));
        }
        if self.failed {
            if self.clean_close && !self.inbound_ended {
                self.inbound_ended = true;
                return Some(Event::End);
            }
            return Some(self.close(!self.clean_close));
        }
        if std::mem::take(&mut self.pending_secure) {
            return Some(Event::Secure);
        }
        if flowing && !self.paused {
            if let Some(ev) = self.read_cleartext() {
                return Some(ev);
            }
        }
        if std::mem::take(&mut self.pending_drain) {
            return Some(Event::Drain);
        }
        if self.inbound_ended && self.close_notify_sent {
            return Some(self.close(false));
        }
        None
    }

    fn close(&mut self, had_error: bool) -> Event {
        self.closed = true;
        self.tls = Tls::Done;
        Event::Close(had_error)
    }

    /// Cleartext for a `data` event (copied out of rustls into the lent buffer, so that the
    /// event runs without the pair's lock), or `end` once the peer finished.
    fn read_cleartext(&mut self) -> Option<Event> {
        if !self.secure || self.inbound_ended {
            return None;
        }
        let Tls::Conn(conn) = &mut self.tls else { return None };
        let mut reader = conn.reader();
        match reader.fill_buf() {
            Ok([]) => Some(self.peer_ended()),
            Ok(chunk) => {
                let n = chunk.len().min(DATA_CHUNK);
                let mut buf = std::mem::take(&mut self.scratch);
                buf.clear();
                buf.extend_from_slice(&chunk[..n]);
                reader.consume(n);
                self.bytes_read += n as u64;
                Some(Event::Data(buf))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            Err(_) => Some(self.peer_ended()),
        }
    }

    /// Gives the lent buffer back after a `data` event.
    pub fn give_back(&mut self, buf: Vec<u8>) {
        if self.scratch.capacity() < buf.capacity() {
            self.scratch = buf;
        }
    }

    /// The peer finished: `end`, and without `allowHalfOpen` our end too.
    fn peer_ended(&mut self) -> Event {
        self.inbound_ended = true;
        if !self.allow_half_open && !self.end_called {
            self.end_called = true;
            self.push_cleartext();
            self.flush_out();
        }
        Event::End
    }
}
