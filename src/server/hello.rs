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
                    // Node calls the SNICallback only for a client that sent a name.
                    if name.is_empty() || !self.server.events.has_sni_callback() {
                        let ctx = self.server.tls.sni.lookup(&name);
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
        let tls = &self.server.tls;
        if ctx.as_ref().is_some_and(|c| !c.has_keys()) {
            // A context without a certificate can sign nothing: OpenSSL answers with a
            // handshake_failure alert (rustls would send access_denied).
            if let Some(stream) = self.stream.as_ref() {
                let _ = NoSigPipe(stream).write_all(&crate::tls::alerts::HANDSHAKE_FAILURE_ALERT);
            }
            return self.fail(cx, crate::tls::alerts::ssl_error("no suitable signature algorithm"));
        }
        let (config, verifier) = match ctx {
            Some(ctx) => match tls.config_for(&ctx) {
                Ok(c) => c,
                Err(e) => return self.fail(cx, NtlsError::new(NTLS_ETLS, "ERR_TLS_SNI_CALLBACK", e.message)),
            },
            None => tls.default_config(),
        };
        // Anything noted now belongs to this connection (its Conn takes it at launch).
        let _ = crate::tls::handshake::notes::take();
        let conn = match accepted.into_connection(config) {
            Ok(c) => c,
            Err((e, alert)) => {
                let _ = crate::tls::handshake::notes::take();
                return self.fail_with_alert(cx, alert, crate::tls::alerts::tls_error(&e, &[], ""));
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
