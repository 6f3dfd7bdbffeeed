//! `new tls.TLSSocket(socket, options)`: TLS over a connection (TCP or Unix) the program made.

use super::conn::{start_connected, Role, ServerHooks, ServerSide};
use super::transport::Stream;
use super::{connect, Socket, SocketEvents, State};
use crate::error::*;
use crate::options::keys::*;
use crate::options::Options;
use crate::request::Request;
use crate::server::hello::{HelloHost, HelloPhase};
use crate::tls::client_config;
use crate::tls::server_config::{self, ServerTls};
use std::ffi::c_int;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A wrapped server-side socket reports to itself: `secure` is its `secureConnect`
/// callback and a failed handshake its `error`.
struct OwnHooks<E: SocketEvents>(Arc<Socket<E>>);

impl<E: SocketEvents> ServerHooks<E> for OwnHooks<E> {
    fn secure_connection(&self, s: &Socket<E>) {
        self.0.events.secure_connect(s);
    }

    fn client_error(&self, err: &NtlsError, s: &Socket<E>) {
        self.0.events.error(s, err);
    }

    fn connection_closed(&self) {}

    fn keylog(&self, s: &Socket<E>, line: &[u8]) {
        self.0.events.keylog(s, line);
    }
}

/// A socket wrapped in the server role is its own server in the ClientHello phase: its
/// options give the contexts and checks, its own callbacks are asked (SNICallback,
/// OCSPRequest). It has no session store: `newSession`/`resumeSession` are a server's.
struct OwnServer {
    tls: ServerTls,
    handshake_timeout: Duration,
    no_delay: bool,
    allow_half_open: bool,
    /// Whether the socket had an SNICallback and an OCSPRequest listener when it was
    /// wrapped (callbacks are set before the start).
    sni_callback: bool,
    ocsp_request: bool,
}

impl<E: SocketEvents> HelloHost<E> for OwnServer {
    fn tls(&self) -> &ServerTls {
        &self.tls
    }
    fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }
    fn stream_flags(&self) -> (bool, bool) {
        (self.no_delay, self.allow_half_open)
    }
    fn has_sni_callback(&self) -> bool {
        self.sni_callback
    }
    fn sni_callback(&self, s: &Socket<E>, req: Arc<Request>) {
        s.events.sni_callback(s, req);
    }
    fn has_ocsp_request(&self) -> bool {
        self.ocsp_request
    }
    fn ocsp_request(&self, s: &Socket<E>, cert: &[u8], issuer: Option<&[u8]>, req: Arc<Request>) {
        s.events.ocsp_request(s, cert, issuer, req);
    }
}

/// How a wrapped socket starts on the loop.
enum Start<E: SocketEvents> {
    /// The handshake at once.
    Handshake(Box<(rustls::Connection, Role<E>)>),
    /// The ClientHello phase first (server role, with an SNICallback or OCSPRequest).
    Hello(Arc<dyn HelloHost<E>>),
}

impl<E: SocketEvents> Socket<E> {
    /// Starts TLS on a connected stream; `isServer` picks the side.
    pub fn wrap_stream(self: &Arc<Self>, stream: Stream, o: &Options) -> Result<(), c_int> {
        self.check_open()?;
        if self.state() != State::New {
            return Err(self.fail_call(NTLS_EALREADY, "socket already started"));
        }
        let fail = |e: crate::options::OptionError| self.option_failure(o, e);
        let no_delay = o.bool_or(NTLS_OPT_NO_DELAY, true);
        let half_open = o.bool_or(NTLS_OPT_ALLOW_HALF_OPEN, false);
        let start = if o.bool_or(NTLS_OPT_IS_SERVER, false) {
            let tls = server_config::build(o, self.keylog_wanted.clone()).map_err(fail)?;
            let ms = o.non_negative(NTLS_OPT_HANDSHAKE_TIMEOUT).map_err(fail)?;
            let ms = ms.unwrap_or(crate::options::DEFAULT_HANDSHAKE_TIMEOUT_MS);
            let handshake_timeout = Duration::from_millis(ms);
            let host = OwnServer {
                tls,
                handshake_timeout,
                no_delay,
                allow_half_open: half_open,
                sni_callback: self.events.has_sni_callback(),
                ocsp_request: self.events.has_ocsp_request(),
            };
            if HelloHost::<E>::reads_hello_first(&host) {
                Start::Hello(Arc::new(host))
            } else {
                let (config, client_verifier) = host.tls.default_config();
                let conn = rustls::ServerConnection::new(config)
                    .map_err(|e| self.fail_call(NTLS_ETLS, &e.to_string()))?;
                let hooks = Arc::new(OwnHooks(self.clone()));
                let side = ServerSide::new(hooks, client_verifier, Instant::now() + handshake_timeout, None);
                Start::Handshake(Box::new((conn.into(), Role::Server(side))))
            }
        } else {
            let (server_name, sni) = connect::server_name(o).map_err(fail)?;
            let ct = client_config::build(o, self.keylog_wanted.clone()).map_err(fail)?;
            let conn = rustls::ClientConnection::new(ct.config.clone(), server_name.clone())
                .map_err(|e| self.fail_call(NTLS_ETLS, &e.to_string()))?;
            let role = Role::Client {
                verifier: ct.verifier,
                sessions: ct.sessions,
                request_ocsp: ct.request_ocsp,
                server_name,
                sni,
                addrs: Vec::new(),
                next_addr: 0,
                local: None,
                bound: None,
                default_cert: ct.default_cert,
            };
            Start::Handshake(Box::new((conn.into(), role)))
        };
        self.apply_stream_options(o).map_err(fail)?;
        self.begin()?;
        self.lp.handle_started();
        let me = self.clone();
        let cmd = Box::new(move |cx: &mut crate::reactor::Cx<'_>| match start {
            Start::Handshake(start) => {
                let (tls, role) = *start;
                start_connected(cx, me, stream, tls, role, no_delay, half_open)
            }
            Start::Hello(host) => {
                let hooks = Arc::new(OwnHooks(me.clone()));
                HelloPhase::start(cx, host, hooks, me, stream)
            }
        });
        if let Err(status) = self.lp.submit(cmd) {
            return Err(self.unbegin(status));
        }
        Ok(())
    }
}
