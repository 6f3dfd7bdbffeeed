//! `new tls.TLSSocket(socket, options)`: TLS over a TCP connection the program made.

use super::conn::{start_connected, Role, ServerHooks, ServerSide};
use super::{connect, Socket, SocketEvents, State};
use crate::error::*;
use crate::options::keys::*;
use crate::options::Options;
use crate::tls::{client_config, server_config};
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
}

impl<E: SocketEvents> Socket<E> {
    /// Starts TLS on a connected stream; `isServer` picks the side.
    pub fn wrap_stream(self: &Arc<Self>, stream: std::net::TcpStream, o: &Options) -> Result<(), c_int> {
        self.check_open()?;
        if self.state() != State::New {
            return Err(self.fail_call(NTLS_EALREADY, "socket already started"));
        }
        let fail = |e: crate::options::OptionError| self.option_failure(o, e);
        let (tls, role): (rustls::Connection, Role<E>) = if o.bool_or(NTLS_OPT_IS_SERVER, false) {
            let st = server_config::build(o).map_err(fail)?;
            let ms = o.non_negative(NTLS_OPT_HANDSHAKE_TIMEOUT).map_err(fail)?;
            let ms = ms.unwrap_or(crate::options::DEFAULT_HANDSHAKE_TIMEOUT_MS);
            let conn = rustls::ServerConnection::new(st.config.clone())
                .map_err(|e| self.fail_call(NTLS_ETLS, &e.to_string()))?;
            let side = ServerSide::new(
                Arc::new(OwnHooks(self.clone())),
                st.client_verifier,
                Instant::now() + Duration::from_millis(ms),
                None,
            );
            (conn.into(), Role::Server(side))
        } else {
            let (server_name, sni) = connect::server_name(o).map_err(fail)?;
            let ct = client_config::build(o).map_err(fail)?;
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
            };
            (conn.into(), role)
        };
        self.apply_stream_options(o).map_err(fail)?;
        stream.set_nonblocking(true).map_err(|e| self.fail_call(from_io(&e), &e.to_string()))?;
        let stream = mio::net::TcpStream::from_std(stream);
        let no_delay = o.bool_or(NTLS_OPT_NO_DELAY, true);
        let half_open = o.bool_or(NTLS_OPT_ALLOW_HALF_OPEN, false);
        self.begin()?;
        self.lp.handle_started();
        let me = self.clone();
        let cmd = Box::new(move |cx: &mut crate::reactor::Cx<'_>| {
            start_connected(cx, me, stream, tls, role, no_delay, half_open)
        });
        if let Err(status) = self.lp.submit(cmd) {
            return Err(self.unbegin(status));
        }
        Ok(())
    }
}
