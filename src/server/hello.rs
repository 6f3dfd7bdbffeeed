//! A connection whose server has several contexts (`addContext`, or an SNICallback): read
//! the ClientHello with rustls's `Acceptor`, choose the context by the server name (asking
//! the program when it set an SNICallback), then hand over to the normal path with that
//! context's whole config — its certificate, trust store and CRLs.

use super::{Hooks, Server, ServerEvents};
use crate::error::{NtlsError, NTLS_ETIMEDOUT, NTLS_ETLS};
use crate::reactor::{Cx, Handler, Next, Ready};
use crate::request::{Answer, Request};
use crate::socket::no_sigpipe::NoSigPipe;
use crate::socket::{start_connected, Role, ServerSide, Socket};
use crate::tls::context::SecureContext;
use crate::tls::server_config::{ContextConfig, ServerTls};
use mio::net::TcpStream;
use mio::Interest;
use rustls::server::{Accepted, AcceptedAlert, Acceptor};
use std::io::Write;

use std::io;
use std::sync::Arc;
use std::time::Instant;

/// The ClientHello phase of one connection.
pub struct HelloPhase<E: ServerEvents> {
    server: Arc<Server<E>>,
    sock: Arc<Socket<E::Socket>>,
    stream: Option<TcpStream>,
    acceptor: Acceptor,
    pending: Option<(Accepted, Arc<Request>)>,
    deadline: Instant,
}

impl<E: ServerEvents> HelloPhase<E> {
    /// Registers the stream and waits for the ClientHello.
    pub fn start(
        cx: &mut Cx<'_>,
        server: Arc<Server<E>>,
        sock: Arc<Socket<E::Socket>>,
        mut stream: TcpStream,
    ) {
        let token = cx.reserve();
        let deadline = Instant::now() + server.handshake_timeout;
        if let Err(e) = cx.registry().register(&mut stream, Cx::token(token), Interest::READABLE) {
            cx.release(token);
            let mut me = HelloPhase {
                server,
                sock,
                stream: None,
                acceptor: Acceptor::default(),
                pending: None,
                deadline,
            };
            me.fail(cx, NtlsError::from_io(&e, "accept", ""));
            return;
        }
        cx.set_timer(token, deadline);
        let me = HelloPhase {
            server,
            sock,
            stream: Some(stream),
            acceptor: Acceptor::default(),
            pending: None,
            deadline,
        };
        cx.install(token, Box::new(me));
    }

    fn step(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        if Instant::now() >= self.deadline {
            let err = NtlsError::new(NTLS_ETIMEDOUT, "ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake timeout");
            return self.fail(cx, err);
        }
        if self.pending.is_none() {
            match self.read_hello() {
                Ok(Some(accepted)) => {
                    let name = accepted.client_hello().server_name().unwrap_or("").to_owned();
                    self.sock.note_requested_name(&name);
                    if let Choice::Context(ctx) =
                        choose(&self.server.tls, &name, self.server.events.has_sni_callback())
                    {
                        return self.hand_over(cx, accepted, ctx);
                    }
                    let req = Request::new(self.sock.event_loop().clone(), token, &name);
                    self.pending = Some((accepted, req.clone()));
                    self.server.events.sni_callback(&self.server, req);
                }
                Ok(None) => return Next::Keep,
                Err(err) => return self.fail(cx, err),
            }
        }
        let answer = match &self.pending {
            Some((_, req)) => req.take_answer(),
            None => None,
        };
        match (answer, self.pending.take()) {
            (Some(Answer::Error(message)), _) => {
                self.fail(cx, NtlsError::new(NTLS_ETLS, "ERR_TLS_SNI_CALLBACK", message))
            }
            (Some(Answer::Context(ctx)), Some((accepted, _))) => self.hand_over(cx, accepted, ctx),
            (_, pending) => {
                self.pending = pending;
                Next::Keep
            }
        }
    }

    /// Reads until a whole ClientHello is in; Ok(None) while more is needed.
    fn read_hello(&mut self) -> Result<Option<Accepted>, NtlsError> {
        let Some(stream) = self.stream.as_mut() else { return Ok(None) };
        loop {
            match self.acceptor.read_tls(stream) {
                Ok(0) => {
                    return Err(NtlsError::from_status(
                        crate::error::NTLS_ECONNRESET,
                        "Client network socket disconnected before secure TLS connection was established",
                    ))
                }
                Ok(_) => {}
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

    fn hand_over(
        &mut self,
        cx: &mut Cx<'_>,
        accepted: Accepted,
        ctx: Option<Arc<crate::tls::context::SecureContext>>,
    ) -> Next {
        let (config, verifier) = match config_for_choice(&self.server.tls, ctx) {
            Ok(c) => c,
            Err((err, alert)) => {
                if let (Some(stream), Some(alert)) = (self.stream.as_ref(), alert) {
                    let _ = NoSigPipe(stream).write_all(alert);
                }
                return self.fail(cx, err);
            }
        };
        let conn = match accepted.into_connection(config) {
            Ok(c) => c,
            Err((e, alert)) => {
                return self.fail_with_alert(cx, alert, crate::tls::alerts::tls_error(&e, &[], ""))
            }
        };
        let Some(mut stream) = self.stream.take() else { return Next::Remove };
        let _ = cx.registry().deregister(&mut stream);
        let side = ServerSide {
            hooks: Arc::new(Hooks(self.server.clone())),
            client_verifier: verifier,
            handshake_deadline: self.deadline,
        };
        let srv = &self.server;
        start_connected(
            cx,
            self.sock.clone(),
            stream,
            conn.into(),
            Role::Server(side),
            srv.no_delay,
            srv.allow_half_open,
        );
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

    /// `tlsClientError`, then the socket's close and the server's count, as a Conn would.
    fn fail(&mut self, cx: &mut Cx<'_>, err: NtlsError) -> Next {
        if let Some(mut stream) = self.stream.take() {
            let _ = cx.registry().deregister(&mut stream);
        }
        if let Some((_, req)) = self.pending.take() {
            req.abandon();
        }
        self.server.events.tls_client_error(&self.server, &err, &self.sock);
        self.sock.close_unstarted(true);
        Hooks(self.server.clone()).connection_closed_now();
        self.sock.event_loop().handle_closed();
        Next::Remove
    }
}

/// Where a ClientHello's server name leads.
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
        None => Ok((tls.config.clone(), tls.client_verifier.clone())),
    }
}

impl<E: ServerEvents> Handler for HelloPhase<E> {
    fn ready(&mut self, cx: &mut Cx<'_>, token: usize, _ready: Ready) -> Next {
        self.step(cx, token)
    }

    fn kick(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        self.step(cx, token)
    }

    fn timer(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        self.step(cx, token)
    }

    fn abort(&mut self, cx: &mut Cx<'_>, _token: usize) {
        self.fail(cx, NtlsError::from_status(crate::error::NTLS_EPANIC, "internal error during SNICallback"));
    }
}
