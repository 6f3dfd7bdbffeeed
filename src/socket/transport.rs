//! The byte stream under a TLS connection: TCP or a Unix-domain socket. Everything above
//! (`Conn`, the ClientHello phase, the listener) is written once against `Stream`; only
//! what differs (Nagle, keep-alive, addresses) asks which kind it is.

use super::info::Addresses;
use mio::event::Source;
use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};
use socket2::SockRef;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// A connected stream socket, registered with the loop.
#[derive(Debug)]
pub enum Stream {
    /// TCP (`tls.connect({host, port})`, `server.listen(port)`).
    Tcp(TcpStream),
    /// A Unix-domain stream socket (`tls.connect({path})`, `server.listen(path)`).
    Unix(UnixStream),
}

impl Stream {
    /// Adopts a connected descriptor of either kind (made non-blocking); `EINVAL` for a
    /// descriptor that is not a stream socket of a family we speak.
    pub fn from_fd(fd: OwnedFd) -> io::Result<Stream> {
        let kind = family_of(&fd)?;
        let sock = socket2::Socket::from(fd);
        sock.set_nonblocking(true)?;
        let fd = OwnedFd::from(sock);
        Ok(match kind {
            Family::Unix => Stream::Unix(UnixStream::from_std(fd.into())),
            Family::Ip => Stream::Tcp(TcpStream::from_std(fd.into())),
        })
    }

    /// Whether the peer has gone (its FIN or a reset is what a read would return next),
    /// without taking any byte: for a phase that is not reading yet still watches the
    /// connection, as Node's socket does while a callback's answer is pending.
    pub fn peer_gone(&self) -> bool {
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
        match SockRef::from(self).peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted),
        }
    }

    /// Whether this is a Unix-domain socket.
    pub fn is_unix(&self) -> bool {
        matches!(self, Stream::Unix(_))
    }

    /// TCP_NODELAY (nothing to do on a Unix socket, which has no Nagle).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nodelay(on),
            Stream::Unix(_) => Ok(()),
        }
    }

    /// Node's `setKeepAlive`, as libuv does it: SO_KEEPALIVE, and with a delay of a second
    /// or more TCP_KEEPIDLE (whole seconds), TCP_KEEPINTVL 1 and TCP_KEEPCNT 10. A Unix
    /// socket has no keep-alive probes: nothing to do.
    pub fn set_keep_alive(&self, on: bool, idle_secs: u32) -> io::Result<()> {
        let Stream::Tcp(s) = self else { return Ok(()) };
        let sock = SockRef::from(s);
        sock.set_keepalive(on)?;
        if on && idle_secs > 0 {
            let secs = |n| std::time::Duration::from_secs(n);
            let params = socket2::TcpKeepalive::new()
                .with_time(secs(u64::from(idle_secs)))
                .with_interval(secs(1))
                .with_retries(10);
            sock.set_tcp_keepalive(&params)?;
        }
        Ok(())
    }

    /// Shuts one or both directions.
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        }
    }

    /// A pending socket error (SO_ERROR), as a finished non-blocking connect reports it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Stream::Tcp(s) => s.take_error(),
            Stream::Unix(s) => s.take_error(),
        }
    }

    /// Whether a non-blocking connect has finished (Ok(false): not yet).
    pub fn is_connected(&self) -> io::Result<bool> {
        let peer = match self {
            Stream::Tcp(s) => s.peer_addr().map(drop),
            Stream::Unix(s) => s.peer_addr().map(drop),
        };
        match peer {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Both ends' IP addresses; None for a Unix socket (Node's `remoteAddress` is
    /// undefined there).
    pub fn addresses(&self) -> Option<Addresses> {
        match self {
            Stream::Tcp(s) => Some(Addresses { local: s.local_addr().ok()?, remote: s.peer_addr().ok()? }),
            Stream::Unix(_) => None,
        }
    }
}

/// The two families a stream may belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// AF_INET or AF_INET6.
    Ip,
    /// AF_UNIX.
    Unix,
}

/// The family of a stream socket; `EINVAL` when `fd` is no stream socket of IP or Unix
/// (`ENOTSOCK` when it is no socket at all).
pub fn family_of(fd: &impl AsFd) -> io::Result<Family> {
    let sock = SockRef::from(fd);
    if sock.r#type()? != socket2::Type::STREAM {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    match sock.domain()? {
        socket2::Domain::UNIX => Ok(Family::Unix),
        socket2::Domain::IPV4 | socket2::Domain::IPV6 => Ok(Family::Ip),
        _ => Err(io::Error::from_raw_os_error(libc::EINVAL)),
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Source for Stream {
    fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(registry, token, interests),
            Stream::Unix(s) => s.register(registry, token, interests),
        }
    }

    fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(registry, token, interests),
            Stream::Unix(s) => s.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s) => s.deregister(registry),
        }
    }
}
