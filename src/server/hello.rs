//! A connection whose server must see the ClientHello before rustls does: several contexts
//! (`addContext`, or an SNICallback), or an external session store (`resumeSession`). One
//! phase serves both kinds of server connection: a server's (its `HelloHost` is the server)
//! and a socket wrapped in the server role (its host is the socket's own options). The
//! hello is read with rustls's `Acceptor` (and, for the store, kept raw, since `Accepted`
//! shows neither session ID nor PSK identities: `tls::client_hello` reads them); then the
//! program is asked, one question at a time, each an `ntls_request` the handshake waits on:
//! the context by server name (SNICallback, else `addContext`'s patterns), then the stored
//! session (`resumeSession`), then the OCSP response to staple (`OCSPRequest`, when the
//! client asked for one). The connection is then handed to the normal path with that
//! context's whole config — its certificate, trust store and CRLs — and, for the store, a
//! per-connection config whose session storage holds the program's answer.

use super::{Server, ServerEvents};
use crate::error::{NtlsError, NTLS_ETIMEDOUT, NTLS_ETLS};
use crate::options::keys::{NTLS_OPT_ALLOW_HALF_OPEN, NTLS_OPT_HANDSHAKE_TIMEOUT, NTLS_OPT_NO_DELAY};
use crate::options::{OptionError, Options, DEFAULT_HANDSHAKE_TIMEOUT_MS};
use crate::reactor::{Cx, Handler, Next, Ready};
use crate::request::{Answer, Request};
use crate::socket::no_sigpipe::NoSigPipe;
use crate::socket::transport::Stream;
use crate::socket::{start_connected, Role, ServerHooks, ServerSide, Socket, SocketEvents, State};
use crate::tls::client_hello::{self, ClientHello};
use crate::tls::context::SecureContext;
use crate::tls::ocsp;
use crate::tls::server_config::{self, ContextConfig, ServerTls};
use crate::tls::sessions::server_store::{ConnSessionStore, StoredSession};
use mio::Interest;
use rustls::server::{Accepted, AcceptedAlert, Acceptor};
use rustls::sign::CertifiedKey;
use std::io::{self, Read, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most raw hello bytes kept for `tls::client_hello` (a hello is at most 64 KiB).
const MAX_RAW_HELLO: usize = 0x10000 + 5 * 8;

/// Node's error for a client that went away before the handshake.
fn disconnected() -> NtlsError {
    NtlsError::from_status(
        crate::error::NTLS_ECONNRESET,
        "Client network socket disconnected before secure TLS connection was established",
    )
}

/// The questions asked about a hello, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Which context serves it.
    Context,
    /// Which stored session it resumes.
    Session,
    /// Which OCSP response is stapled.
    Ocsp,
    /// Nothing left to ask.
    Done,
}

/// What a server connection is served with besides its events, read from a server's
/// options or from those of a socket wrapped in the server role.
pub(crate) struct Serving {
    /// The contexts (the default one, `addContext`'s) and the server options.
    pub(crate) tls: ServerTls,
    /// `handshakeTimeout`, which bounds the ClientHello phase and the handshake after it.
    pub(crate) handshake_timeout: Duration,
    /// `noDelay`.
    pub(crate) no_delay: bool,
    /// `allowHalfOpen`.
    pub(crate) allow_half_open: bool,
}

impl Serving {
    /// Reads and checks the options; key-log lines are made while `keylog_wanted` is set.
    pub(crate) fn from_options(o: &Options, keylog_wanted: Arc<AtomicBool>) -> Result<Serving, OptionError> {
        let tls = server_config::build(o, keylog_wanted)?;
        let ms = o.non_negative(NTLS_OPT_HANDSHAKE_TIMEOUT)?.unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT_MS);
        Ok(Serving {
            tls,
            handshake_timeout: Duration::from_millis(ms),
            no_delay: o.bool_or(NTLS_OPT_NO_DELAY, true),
            allow_half_open: o.bool_or(NTLS_OPT_ALLOW_HALF_OPEN, false),
        })
    }
}

/// Who a ClientHello phase asks and whose options it serves: a server, for each of its
/// connections, or a socket wrapped in the server role, for itself. The answers are the
/// same `ntls_request`s either way.
pub(crate) trait HelloHost<S: SocketEvents>: Send + Sync + 'static {
    /// The contexts, the server options and the connection's own.
    fn serving(&self) -> &Serving;
    /// Whether an SNICallback is set.
    fn has_sni_callback(&self) -> bool;
    /// `SNICallback(servername, cb)`: `req` must be finished once.
    fn sni_callback(&self, sock: &Socket<S>, req: Arc<Request>);
    /// Whether sessions live in the program's store (`newSession`/`resumeSession`).
    fn has_session_store(&self) -> bool {
        false
    }
    /// `resumeSession(id, cb)`: `req` must be finished once.
    fn resume_session(&self, _sock: &Socket<S>, _id: &[u8], req: Arc<Request>) {
        req.finish(Answer::Bytes(None));
    }
    /// Whether an `OCSPRequest` listener is set.
    fn has_ocsp_request(&self) -> bool;
    /// `OCSPRequest(certificate, issuer, cb)`: DER; `req` must be finished once.
    fn ocsp_request(&self, sock: &Socket<S>, cert: &[u8], issuer: Option<&[u8]>, req: Arc<Request>);
    /// Whether the ClientHello must be read before rustls sees it: something to choose by
    /// it or to ask about it.
    fn reads_hello_first(&self) -> bool {
        let sni = &self.serving().tls.sni;
        self.has_sni_callback() || !sni.is_empty() || self.has_session_store() || self.has_ocsp_request()
    }
}

/// Serves one server connection (the caller has counted the handle with `handle_started`,
/// and a server its connection): the ClientHello phase first when the host must see the
/// hello, else the handshake at once with the default context.
pub(crate) fn serve_connection<S: SocketEvents>(
    cx: &mut Cx<'_>,
    host: Arc<dyn HelloHost<S>>,
    hooks: Arc<dyn ServerHooks<S>>,
    sock: Arc<Socket<S>>,
    stream: Stream,
) {
    if host.reads_hello_first() {
        return HelloPhase::start(cx, host, hooks, sock, stream);
    }
    let serving = host.serving();
    let (config, client_verifier) = serving.tls.default_config();
    match rustls::ServerConnection::new(config) {
        Ok(tls) => {
            let deadline = Instant::now() + serving.handshake_timeout;
            let side = ServerSide::new(hooks, client_verifier, deadline, None);
            let (no_delay, half_open) = (serving.no_delay, serving.allow_half_open);
            start_connected(cx, sock, stream, tls.into(), Role::Server(side), no_delay, half_open);
        }
        Err(e) => abandon(&*hooks, &sock, crate::tls::alerts::tls_error(&e, &[], "")),
    }
}

/// Ends a server connection that never reached its handshake: `tlsClientError` (a wrapped
/// socket's `error`), the socket's close and the server's count. After `destroy()` nothing
/// is reported, and a socket whose unstarted destroy already closed it is not closed twice.
fn abandon<S: SocketEvents>(hooks: &dyn ServerHooks<S>, sock: &Socket<S>, err: NtlsError) {
    let destroyed = sock.is_destroyed();
    if !destroyed {
        hooks.client_error(&err, sock);
    }
    if sock.state() != State::Closed {
        sock.close_unstarted(!destroyed);
    }
    hooks.connection_closed();
    sock.event_loop().handle_closed();
}

impl<E: ServerEvents> HelloHost<E::Socket> for Server<E> {
    fn serving(&self) -> &Serving {
        &self.serving
    }
    fn has_sni_callback(&self) -> bool {
        self.events.has_sni_callback()
    }
    fn sni_callback(&self, _sock: &Socket<E::Socket>, req: Arc<Request>) {
        self.events.sni_callback(self, req);
    }
    fn has_session_store(&self) -> bool {
        self.events.has_session_store()
    }
    fn resume_session(&self, _sock: &Socket<E::Socket>, id: &[u8], req: Arc<Request>) {
        self.events.resume_session(self, id, req);
    }
    fn has_ocsp_request(&self) -> bool {
        self.events.has_ocsp_request()
    }
    fn ocsp_request(&self, _sock: &Socket<E::Socket>, cert: &[u8], issuer: Option<&[u8]>, req: Arc<Request>) {
        self.events.ocsp_request(self, cert, issuer, req);
    }
}

/// The ClientHello phase of one connection.
pub struct HelloPhase<S: SocketEvents> {
    host: Arc<dyn HelloHost<S>>,
    /// Where the connection reports (`secureConnection`, `tlsClientError`, its close).
    hooks: Arc<dyn ServerHooks<S>>,
    sock: Arc<Socket<S>>,
    stream: Option<Stream>,
    acceptor: Acceptor,
    /// The bytes read so far, while the store needs the fields `Accepted` lacks.
    raw: Option<Vec<u8>>,
    accepted: Option<Accepted>,
    hello: Option<ClientHello>,
    stage: Stage,
    waiting: Option<Arc<Request>>,
    ctx: Option<Arc<SecureContext>>,
    /// The session ID or PSK identity asked about, and `resumeSession`'s answer.
    resumed: Option<StoredSession>,
    /// The key `OCSPRequest` was asked about, stapling its answer once there is one.
    stapled: Option<Arc<CertifiedKey>>,
    deadline: Instant,
}

impl<S: SocketEvents> HelloPhase<S> {
    /// Registers the stream and waits for the ClientHello. The caller has counted the
    /// handle with `handle_started` (and, for a server, the connection).
    fn start(
        cx: &mut Cx<'_>,
        host: Arc<dyn HelloHost<S>>,
        hooks: Arc<dyn ServerHooks<S>>,
        sock: Arc<Socket<S>>,
        mut stream: Stream,
    ) {
        let token = cx.reserve();
        let deadline = Instant::now() + host.serving().handshake_timeout;
        let raw = (host.has_session_store() || host.has_ocsp_request()).then(Vec::new);
        let registered = cx.registry().register(&mut stream, Cx::token(token), Interest::READABLE);
        // `destroy()` and the answers reach this phase through the socket's token.
        sock.serve_at(token);
        let mut me = HelloPhase {
            host,
            hooks,
            sock,
            stream: Some(stream),
            acceptor: Acceptor::default(),
            raw,
            accepted: None,
            hello: None,
            stage: Stage::Context,
            waiting: None,
            ctx: None,
            resumed: None,
            stapled: None,
            deadline,
        };
        if let Err(e) = registered {
            cx.release(token);
            me.stream = None;
            me.fail(cx, NtlsError::from_io(&e, "accept", ""));
            return;
        }
        cx.set_timer(token, deadline);
        cx.install(token, Box::new(me));
    }

    fn step(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        if self.sock.is_destroyed() {
            return self.fail(cx, NtlsError::from_status(crate::error::NTLS_ECANCELED, "destroyed"));
        }
        if Instant::now() >= self.deadline {
            let err = NtlsError::new(NTLS_ETIMEDOUT, "ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake timeout");
            return self.fail(cx, err);
        }
        if self.accepted.is_none() {
            match self.read_hello() {
                Ok(Some(accepted)) => {
                    let name = accepted.client_hello().server_name().unwrap_or("").to_owned();
                    self.sock.note_requested_name(&name);
                    self.hello = self.raw.take().and_then(|raw| client_hello::parse(&raw).ok());
                    self.accepted = Some(accepted);
                }
                Ok(None) => return Next::Keep,
                Err(err) => return self.fail(cx, err),
            }
        }
        loop {
            let answer = match &self.waiting {
                Some(req) => match req.take_answer() {
                    Some(a) => a,
                    // A client gone while the program thinks: reported now, as Node does.
                    None if self.stream.as_ref().is_some_and(Stream::peer_gone) => {
                        return self.fail(cx, disconnected());
                    }
                    None => return Next::Keep,
                },
                None => match self.ask(token) {
                    Some(req) => {
                        self.waiting = Some(req);
                        return Next::Keep;
                    }
                    None if self.stage == Stage::Done => return self.hand_over(cx),
                    None => continue,
                },
            };
            self.waiting = None;
            let code = match self.stage {
                Stage::Context => "ERR_TLS_SNI_CALLBACK",
                Stage::Session => "ERR_TLS_SESSION_STORE",
                _ => "ERR_TLS_OCSP_CALLBACK",
            };
            match answer {
                Answer::Error(message) => return self.fail(cx, NtlsError::new(NTLS_ETLS, code, message)),
                Answer::Context(ctx) => self.ctx = ctx,
                Answer::Bytes(bytes) if self.stage == Stage::Ocsp => {
                    self.stapled = match (self.stapled.take(), bytes) {
                        (Some(key), Some(der)) => Some(ocsp::with_response(&key, der)),
                        _ => None,
                    }
                }
                Answer::Bytes(state) => {
                    self.resumed = match (self.resumed.take(), state) {
                        (Some((id, _)), Some(state)) => Some((id, state)),
                        _ => None,
                    }
                }
            }
            self.stage = next(self.stage);
        }
    }

    /// The question of the current stage, handed to the program; None when the stage has
    /// none to ask (it is then settled and the stage moves on).
    fn ask(&mut self, token: usize) -> Option<Arc<Request>> {
        let name = self.accepted.as_ref()?.client_hello().server_name().unwrap_or("").to_owned();
        let host = &self.host;
        match self.stage {
            Stage::Context => match choose(&host.serving().tls, &name, host.has_sni_callback()) {
                Choice::AskProgram => {
                    let req = Request::new(self.sock.event_loop().clone(), token, &name);
                    host.sni_callback(&self.sock, req.clone());
                    return Some(req);
                }
                Choice::Context(ctx) => self.ctx = ctx,
            },
            Stage::Session => {
                if let Some(id) = self.session_key() {
                    let req = Request::new(self.sock.event_loop().clone(), token, &name);
                    self.resumed = Some((id.clone(), Vec::new()));
                    host.resume_session(&self.sock, &id, req.clone());
                    return Some(req);
                }
            }
            Stage::Ocsp => {
                let asked = self.hello.as_ref().is_some_and(|h| h.status_request);
                let ctx = self.ctx.clone().unwrap_or_else(|| host.serving().tls.default_context());
                let schemes = self.accepted.as_ref()?.client_hello().signature_schemes().to_vec();
                if let (true, true, Some(key)) = (asked, host.has_ocsp_request(), ctx.choose_key(&schemes)) {
                    let req = Request::new(self.sock.event_loop().clone(), token, &name);
                    let issuer = ocsp::issuer(&ctx, &key);
                    let cert = key.cert.first().map_or(&[][..], |c| c.as_ref());
                    host.ocsp_request(&self.sock, cert, issuer.as_deref(), req.clone());
                    self.stapled = Some(key);
                    return Some(req);
                }
            }
            Stage::Done => return None,
        }
        self.stage = next(self.stage);
        None
    }

    /// What the client resumes from the program's store, as rustls will look it up: a TLS
    /// 1.3 PSK identity (stateful tickets, when tickets are off), else a TLS 1.2 session ID
    /// (unless a ticket it sent will be used instead). None: nothing to look up.
    fn session_key(&self) -> Option<Vec<u8>> {
        let hello = self.hello.as_ref()?;
        if !self.host.has_session_store() {
            return None;
        }
        let tickets = self.host.serving().tls.params.tickets;
        let own = self.host.serving().tls.default_context();
        let ctx = self.ctx.as_ref().unwrap_or(&own);
        let tls13 = hello.offers_tls13() && ctx.versions().contains(&&rustls::version::TLS13);
        if tls13 {
            return (!tickets).then(|| hello.psk_identities.first().cloned()).flatten();
        }
        let ticket_used = tickets && hello.session_ticket.as_ref().is_some_and(|t| !t.is_empty());
        (!ticket_used && !hello.session_id.is_empty()).then(|| hello.session_id.clone())
    }

    /// Whether a TLS 1.2 handshake of this hello carries its session in a ticket: the server
    /// issues tickets and the client offered the extension (rustls then sends one). TLS 1.3
    /// with tickets never asks the store to save.
    fn tls12_ticket_issued(&self) -> bool {
        self.host.serving().tls.params.tickets
            && self.hello.as_ref().is_some_and(|h| h.session_ticket.is_some())
    }

    /// Reads until a whole ClientHello is in; Ok(None) while more is needed.
    fn read_hello(&mut self) -> Result<Option<Accepted>, NtlsError> {
        let Some(stream) = self.stream.as_mut() else { return Ok(None) };
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Err(disconnected()),
                Ok(n) => {
                    if let Some(raw) = self.raw.as_mut().filter(|r| r.len() + n <= MAX_RAW_HELLO) {
                        raw.extend_from_slice(&buf[..n]);
                    }
                    let mut fed = &buf[..n];
                    while !fed.is_empty() {
                        match self.acceptor.read_tls(&mut fed) {
                            Ok(0) => return Err(crate::tls::alerts::ssl_error("ClientHello too large")),
                            Ok(_) => {}
                            Err(e) => return Err(NtlsError::from_io(&e, "read", "")),
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NtlsError::from_io(&e, "read", "")),
            }
        }
        match self.acceptor.accept() {
            Ok(a) => Ok(a),
            Err((e, mut alert)) => {
                if let Some(stream) = self.stream.as_ref() {
                    let _ = alert.write_all(&mut NoSigPipe(stream));
                }
                Err(crate::tls::alerts::tls_error(&e, &[], ""))
            }
        }
    }

    fn hand_over(&mut self, cx: &mut Cx<'_>) -> Next {
        let Some(accepted) = self.accepted.take() else { return Next::Remove };
        let (mut config, verifier) = match config_for_choice(&self.host.serving().tls, self.ctx.clone()) {
            Ok(c) => c,
            Err((err, alert)) => {
                if let (Some(stream), Some(alert)) = (self.stream.as_ref(), alert) {
                    let _ = NoSigPipe(stream).write_all(alert);
                }
                return self.fail(cx, err);
            }
        };
        // Anything noted now belongs to this connection (its Conn takes it at launch).
        let _ = crate::tls::handshake::notes::take();
        // The program's store: this connection's own config, whose storage holds the
        // answer to `resumeSession` and collects what `newSession` is told.
        let store = self.host.has_session_store().then(|| {
            let store = Arc::new(ConnSessionStore::new(self.resumed.take(), self.tls12_ticket_issued()));
            let mut own = (*config).clone();
            own.session_storage = store.clone();
            config = Arc::new(own);
            store
        });
        // The answer to `OCSPRequest`: this connection staples it on the key it was asked for.
        if let Some(key) = self.stapled.take().filter(|k| k.ocsp.is_some()) {
            let mut own = (*config).clone();
            own.cert_resolver = Arc::new(ocsp::Stapled(key));
            config = Arc::new(own);
        }
        let conn = match accepted.into_connection(config) {
            Ok(c) => c,
            Err((e, alert)) => {
                let shared = crate::tls::handshake::notes::take().and_then(|n| n.shared_sigalgs);
                let err = crate::tls::alerts::tls_error(&e, &[], "");
                let err = crate::tls::sigalgs::refine(err, &e, shared);
                return self.fail_with_alert(cx, alert, err);
            }
        };
        let Some(mut stream) = self.stream.take() else { return Next::Remove };
        let _ = cx.registry().deregister(&mut stream);
        let side = ServerSide::new(self.hooks.clone(), verifier, self.deadline, store);
        let serving = self.host.serving();
        let (no_delay, half_open) = (serving.no_delay, serving.allow_half_open);
        // The connection takes the socket's kicks from here (it gets its own token).
        self.sock.serve_at(crate::reactor::NO_TOKEN);
        start_connected(cx, self.sock.clone(), stream, conn.into(), Role::Server(side), no_delay, half_open);
        Next::Remove
    }

    /// Sends rustls's alert for a refused ClientHello (so the peer sees why, not a reset),
    /// then fails.
    fn fail_with_alert(&mut self, cx: &mut Cx<'_>, mut alert: AcceptedAlert, err: NtlsError) -> Next {
        if let Some(stream) = self.stream.as_ref() {
            let _ = alert.write_all(&mut NoSigPipe(stream));
        }
        self.fail(cx, err)
    }

    /// Ends the connection (`abandon`), with the request it waited on.
    fn fail(&mut self, cx: &mut Cx<'_>, err: NtlsError) -> Next {
        if let Some(mut stream) = self.stream.take() {
            let _ = cx.registry().deregister(&mut stream);
        }
        if let Some(req) = self.waiting.take() {
            req.abandon();
        }
        abandon(&*self.hooks, &self.sock, err);
        Next::Remove
    }
}

/// Where a ClientHello's server name leads (for a server's connection and a server pair).
pub(crate) enum Choice {
    /// Use this context now (addContext's patterns; None: the server's own).
    Context(Option<Arc<SecureContext>>),
    /// Ask the program's SNICallback.
    AskProgram,
}

/// Chooses by the name a client sent: Node calls the SNICallback only for a client that
/// sent a name, and the addContext patterns otherwise.
pub(crate) fn choose(tls: &ServerTls, name: &str, has_sni_callback: bool) -> Choice {
    if name.is_empty() || !has_sni_callback {
        return Choice::Context(tls.sni.lookup(name));
    }
    Choice::AskProgram
}

/// The config (and client verifier) for the chosen context. A context without a
/// certificate can sign nothing: refused with the raw alert OpenSSL sends (rustls would
/// send access_denied), to be written to the peer first.
pub(crate) fn config_for_choice(
    tls: &ServerTls,
    ctx: Option<Arc<SecureContext>>,
) -> Result<ContextConfig, (NtlsError, Option<&'static [u8]>)> {
    match ctx {
        Some(ctx) if !ctx.has_keys() => Err((
            crate::tls::alerts::ssl_error("no suitable signature algorithm"),
            Some(&crate::tls::alerts::HANDSHAKE_FAILURE_ALERT[..]),
        )),
        Some(ctx) => tls
            .config_for(&ctx)
            .map_err(|e| (NtlsError::new(NTLS_ETLS, "ERR_TLS_SNI_CALLBACK", e.message), None)),
        None => Ok(tls.default_config()),
    }
}

fn next(stage: Stage) -> Stage {
    match stage {
        Stage::Context => Stage::Session,
        Stage::Session => Stage::Ocsp,
        Stage::Ocsp | Stage::Done => Stage::Done,
    }
}

impl<S: SocketEvents> Handler for HelloPhase<S> {
    fn ready(&mut self, cx: &mut Cx<'_>, token: usize, _ready: Ready) -> Next {
        self.step(cx, token)
    }

    fn kick(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        self.sock.serve_at(token);
        self.step(cx, token)
    }

    fn timer(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        self.step(cx, token)
    }

    fn abort(&mut self, cx: &mut Cx<'_>, _token: usize) {
        self.fail(
            cx,
            NtlsError::from_status(crate::error::NTLS_EPANIC, "internal error during the ClientHello"),
        );
    }
}
