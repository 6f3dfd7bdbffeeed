//! The listening socket: binds (with SO_REUSEPORT, for several loops on one port) and accepts.

use super::listen_socket::{ListenSocket, BACKLOG};
use super::reserve_fd;
use super::{Hooks, Server, ServerEvents, ServerState};
use crate::reactor::{Cx, Handler, Next, Ready};
use crate::socket::transport::Stream;
use crate::socket::Socket;
use mio::net::TcpListener;
use mio::Interest;
use socket2::{Domain, Protocol, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Binds a non-blocking listener; `::` also accepts IPv4, as Node's default does.
/// `reuse_port` lets several loops share the port (Node's `reusePort`).
pub fn bind(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let sock = socket2::Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(reuse_port)?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        sock.set_only_v6(false)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(BACKLOG)?;
    Ok(TcpListener::from_std(sock.into()))
}

/// A server's accept loop on its loop thread.
pub struct Listener<E: ServerEvents> {
    /// The server handle.
    pub server: Arc<Server<E>>,
    /// The bound socket.
    pub listener: ListenSocket,
}

impl<E: ServerEvents> Listener<E> {
    /// Registers the listener under a fresh token and installs it.
    pub fn install(mut self, cx: &mut Cx<'_>) -> io::Result<()> {
        let token = cx.reserve();
        if let Err(e) = cx.registry().register(&mut self.listener, Cx::token(token), Interest::READABLE) {
            cx.release(token);
            return Err(e);
        }
        self.server.listener_token.store(token, Ordering::SeqCst);
        reserve_fd::hold();
        // A second descriptor of the listening socket, so that `close` can stop it at
        // once from any thread, as Node's does (see Server::close).
        if let Ok(dup) = socket2::SockRef::from(&self.listener).try_clone() {
            *self.server.listening_socket.lock().unwrap_or_else(|e| e.into_inner()) = Some(dup);
        }
        cx.install(token, Box::new(self));
        Ok(())
    }

    fn accept_all(&mut self, cx: &mut Cx<'_>) {
        loop {
            match self.listener.accept() {
                Ok(stream) => serve(&self.server, cx, stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if reserve_fd::is_exhaustion(&e) => {
                    let listener = &self.listener;
                    match reserve_fd::refuse_waiting(|| listener.accept().map(drop)) {
                        Some(n) => log::warn!("nodetls: out of descriptors ({e}): refused {n} connections"),
                        None => log::warn!("nodetls: accept failed: {e}"),
                    }
                    return;
                }
                Err(e) => {
                    log::warn!("nodetls: accept failed: {e}");
                    return;
                }
            }
        }
    }
}

/// Serves one connection, accepted or handed over (`ntls_server_accept_fd`): limits,
/// `connection`, then the ClientHello phase or the handshake.
pub(super) fn serve<E: ServerEvents>(srv: &Arc<Server<E>>, cx: &mut Cx<'_>, stream: Stream) {
    if let Some(max) = srv.max_connections {
        if srv.connections.load(Ordering::SeqCst) as u64 >= max {
            return; // Over maxConnections: dropping the stream closes it, as Node does.
        }
    }
    let sock = Socket::new(srv.lp.clone(), srv.events.new_socket_events());
    sock.set_high_water_mark(srv.high_water_mark);
    if let Some(delay) = srv.keep_alive {
        let _ = sock.set_keep_alive(true, delay);
    }
    sock.note_addresses(&stream);
    srv.events.connection(srv, &sock);
    srv.connections.fetch_add(1, Ordering::SeqCst);
    srv.lp.handle_started();
    super::hello::serve_connection(cx, srv.clone(), Arc::new(Hooks(srv.clone())), sock, stream);
}

impl<E: ServerEvents> Handler for Listener<E> {
    fn ready(&mut self, cx: &mut Cx<'_>, _token: usize, _ready: Ready) -> Next {
        if self.server.state() != ServerState::Listening {
            return self.kick(cx, _token);
        }
        self.accept_all(cx);
        Next::Keep
    }

    fn kick(&mut self, cx: &mut Cx<'_>, _token: usize) -> Next {
        if self.server.state() == ServerState::Listening {
            return Next::Keep;
        }
        let _ = cx.registry().deregister(&mut self.listener);
        self.server.maybe_emit_close();
        Next::Remove
    }

    fn timer(&mut self, _cx: &mut Cx<'_>, _token: usize) -> Next {
        Next::Keep
    }

    fn abort(&mut self, cx: &mut Cx<'_>, _token: usize) {
        let _ = cx.registry().deregister(&mut self.listener);
        let err =
            crate::error::NtlsError::from_status(crate::error::NTLS_EPANIC, "internal error while accepting");
        self.server.events.error(&self.server, &err);
    }
}
