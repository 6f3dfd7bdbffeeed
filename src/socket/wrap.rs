//! `new tls.TLSSocket(socket, options)`: TLS over a connection (TCP or Unix) the program made.

use super::conn::{start_connected, Role, ServerHooks};
use super::transport::Stream;
use super::{connect, Socket, SocketEvents, State};
use crate::error::*;
use crate::options::keys::*;
use crate::options::Options;
use crate::request::Request;
use crate::server::hello::{serve_connection, HelloHost, Serving};
use crate::tls::client_config;
use std::ffi::c_int;
use std::sync::Arc;

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

/// A socket wrapped in the server role is its own server: its options give the contexts
/// and checks, its own callbacks are asked (SNICallback, OCSPRequest). It has no session
/// store: `newSession`/`resumeSession` are a server's.
struct OwnServer {
    serving: Serving,
    /// Whether the socket had an SNICallback and an OCSPRequest listener when it was
    /// wrapped (callbacks are set before the start).
    sni_callback: bool,
    ocsp_request: bool,
}

impl<E: SocketEvents> HelloHost<E> for OwnServer {
    fn serving(&self) -> &Serving {
        &self.serving
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
    /// A client's handshake.
    Client(Box<(rustls::Connection, Role<E>)>),
    /// As a server's connection: the ClientHello phase or the handshake.
    Server(Arc<OwnServer>),
}

impl<E: SocketEvents> Socket<E> {
    /// Starts TLS on a connected stream; `isServer` picks the side.
    pub fn wrap_stream(self: &Arc<Self>, stream: Stream, o: &Options) -> Result<(), c_int> {
        self.check_open()?;
        if self.state() != State::New {
            return Err(self.fail_call(NTLS_EALREADY, "socket already started"));
        }
        let fail = |e: crate::options::OptionError| self.option_failure(o, e);
        let start = if o.bool_or(NTLS_OPT_IS_SERVER, false) {
            Start::Server(Arc::new(OwnServer {
                serving: Serving::from_options(o, self.keylog_wanted.clone()).map_err(fail)?,
                sni_callback: self.events.has_sni_callback(),
                ocsp_request: self.events.has_ocsp_request(),
            }))
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
            Start::Client(Box::new((conn.into(), role)))
        };
        let no_delay = o.bool_or(NTLS_OPT_NO_DELAY, true);
        let half_open = o.bool_or(NTLS_OPT_ALLOW_HALF_OPEN, false);
        self.apply_stream_options(o).map_err(fail)?;
        self.begin()?;
        self.lp.handle_started();
        let me = self.clone();
        let cmd = Box::new(move |cx: &mut crate::reactor::Cx<'_>| match start {
            Start::Client(start) => {
                let (tls, role) = *start;
                start_connected(cx, me, stream, tls, role, no_delay, half_open)
            }
            Start::Server(host) => serve_connection(cx, host, Arc::new(OwnHooks(me.clone())), me, stream),
        });
        if let Err(status) = self.lp.submit(cmd) {
            return Err(self.unbegin(status));
        }
        Ok(())
    }
}
