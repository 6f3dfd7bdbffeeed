//! A client's connect: each resolved address in turn, as Node tries them, or the Unix
//! socket at `path`; bound first to `localAddress`/`localPort` when asked.

use super::states::Phase;
use super::{Conn, Role};
use crate::error::{NtlsError, NTLS_ECONNRESET};
use crate::reactor::Cx;
use crate::socket::transport::Stream;
use crate::socket::SocketEvents;
use mio::net::{TcpStream, UnixStream};
use mio::Interest;
use socket2::{Domain, Protocol, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

/// Where a client connects.
#[derive(Debug, Clone)]
pub enum Dest {
    /// A resolved IP address and port.
    Ip(SocketAddr),
    /// A Unix-domain socket (Node's `path`).
    Path(PathBuf),
}

/// `localAddress` / `localPort`: the local end to bind before connecting. Node binds when
/// either is given, with the unspecified address of the peer's family by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalBind {
    /// `localAddress`.
    pub ip: Option<IpAddr>,
    /// `localPort` (0: any).
    pub port: u16,
}

impl LocalBind {
    fn address_for(&self, peer: SocketAddr) -> SocketAddr {
        let unspecified = if peer.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        SocketAddr::new(self.ip.unwrap_or(unspecified), self.port)
    }
}

/// Why an address could not be dialed.
enum DialError {
    /// The connect failed: the next address is tried.
    Retry(io::Error),
    /// The local bind was refused: no address will do (Node: `bind EINVAL ::1`).
    Fatal(NtlsError),
}

impl From<io::Error> for DialError {
    fn from(e: io::Error) -> Self {
        DialError::Retry(e)
    }
}

/// Starts a non-blocking TCP connect from a bound local end; returns the bound address too,
/// for the error's words.
fn connect_bound(peer: SocketAddr, local: LocalBind) -> Result<(TcpStream, SocketAddr), DialError> {
    let want = local.address_for(peer);
    if want.is_ipv4() != peer.is_ipv4() {
        // libuv refuses the mix itself (the kernel would say EAFNOSUPPORT): Node's EINVAL.
        let e = io::Error::from_raw_os_error(libc::EINVAL);
        return Err(DialError::Fatal(NtlsError::from_io(&e, "bind", &want.ip().to_string())));
    }
    let sock = socket2::Socket::new(Domain::for_address(peer), Type::STREAM, Some(Protocol::TCP))?;
    // libuv sets SO_REUSEADDR before a client's bind too.
    sock.set_reuse_address(true)?;
    sock.bind(&want.into())
        .map_err(|e| DialError::Fatal(NtlsError::from_io(&e, "bind", &want.ip().to_string())))?;
    sock.set_nonblocking(true)?;
    let bound = sock.local_addr().ok().and_then(|a| a.as_socket()).unwrap_or(want);
    match sock.connect(&peer.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    Ok((TcpStream::from_std(sock.into()), bound))
}

impl<E: SocketEvents> Conn<E> {
    /// Connects to the next resolved address.
    pub(super) fn dial_next(
        &mut self,
        cx: &mut Cx<'_>,
        token: usize,
        last: Option<io::Error>,
    ) -> Result<(), NtlsError> {
        if let Some(mut old) = self.stream.take() {
            let _ = cx.registry().deregister(&mut old);
        }
        let Role::Client { addrs, next_addr, local, bound, .. } = &mut self.role else {
            return Err(NtlsError::from_status(NTLS_ECONNRESET, "not a client"));
        };
        let mut last = last;
        while let Some(dest) = addrs.get(*next_addr).cloned() {
            *next_addr += 1;
            let opened = match (&dest, *local) {
                (Dest::Path(p), _) => UnixStream::connect(p).map(Stream::Unix).map_err(DialError::from),
                (Dest::Ip(a), None) => TcpStream::connect(*a).map(Stream::Tcp).map_err(DialError::from),
                (Dest::Ip(a), Some(l)) => connect_bound(*a, l).map(|(s, b)| {
                    *bound = Some(b);
                    Stream::Tcp(s)
                }),
            };
            match opened {
                Ok(mut s) => {
                    cx.registry()
                        .register(&mut s, Cx::token(token), Interest::READABLE | Interest::WRITABLE)
                        .map_err(|e| NtlsError::from_io(&e, "connect", &node_target(&dest, None)))?;
                    self.stream = Some(s);
                    return Ok(());
                }
                Err(DialError::Retry(e)) => last = Some(e),
                Err(DialError::Fatal(e)) => return Err(e),
            }
        }
        let target = addrs.last().map(|a| node_target(a, *bound)).unwrap_or_default();
        let e = last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ECONNREFUSED));
        Err(NtlsError::from_io(&e, "connect", &target))
    }

    /// Whether the connect finished; tries the next address on failure.
    pub(super) fn check_connected(&mut self, cx: &mut Cx<'_>, token: usize) -> Result<bool, NtlsError> {
        let Some(stream) = self.stream.as_ref() else {
            return Ok(false);
        };
        let failure = match stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match stream.is_connected() {
                Ok(true) => {
                    self.sock.note_addresses(stream);
                    let _ = stream.set_nodelay(self.no_delay);
                    self.phase = Phase::Handshaking;
                    if !self.sock.is_destroyed() {
                        self.sock.events.connect(&self.sock);
                    }
                    return Ok(true);
                }
                Ok(false) => return Ok(false),
                Err(e) => Some(e),
            },
        };
        self.dial_next(cx, token, failure)?;
        Ok(false)
    }
}

/// The target in Node's error message: `127.0.0.1:8443` (no port when it is 0), the path,
/// and ` - Local (127.0.0.1:5000)` when the client bound its end.
fn node_target(dest: &Dest, bound: Option<SocketAddr>) -> String {
    let peer = match dest {
        Dest::Path(p) => return p.display().to_string(),
        Dest::Ip(a) if a.port() == 0 => a.ip().to_string(),
        Dest::Ip(a) => a.to_string(),
    };
    match bound {
        Some(b) => format!("{peer} - Local ({b})"),
        None => peer,
    }
}
