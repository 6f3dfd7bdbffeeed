//! The listening socket under a server: TCP (`listen(port)`) or Unix (`listen(path)`), bound
//! by us or adopted (`listen_fd`, socket activation). A Unix socket file we bound is removed
//! when the listener goes, as libuv does on `uv_close`; an adopted one is left alone.

use crate::socket::transport::{family_of, Family, Stream};
use mio::event::Source;
use mio::net::{TcpListener, UnixListener};
use mio::{Interest, Registry, Token};
use socket2::{Domain, SockAddr, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

/// Node's default backlog.
pub(crate) const BACKLOG: i32 = 511;

/// What `server.address()` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// An IP address and port.
    Ip(SocketAddr),
    /// The path of a Unix socket (Node answers the string).
    Path(PathBuf),
}

impl ListenAddr {
    /// The TCP port; 0 for a Unix socket.
    pub fn port(&self) -> u16 {
        match self {
            ListenAddr::Ip(a) => a.port(),
            ListenAddr::Path(_) => 0,
        }
    }
}

/// A bound, listening, non-blocking socket.
#[derive(Debug)]
pub enum ListenSocket {
    /// TCP.
    Tcp(TcpListener),
    /// Unix; the path to remove on drop, when we created the file.
    Unix(UnixListener, Option<PathBuf>),
}

impl ListenSocket {
    /// Binds a Unix socket at `path`. An existing file, even a stale socket nobody listens
    /// on, is `EADDRINUSE`, as with Node: it is never removed for the caller.
    pub fn bind_path(path: &std::path::Path) -> io::Result<ListenSocket> {
        let sock = socket2::Socket::new(Domain::UNIX, Type::STREAM, None)?;
        sock.set_nonblocking(true)?;
        sock.bind(&SockAddr::unix(path)?)?;
        if let Err(e) = sock.listen(BACKLOG) {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        let fd = OwnedFd::from(sock);
        Ok(ListenSocket::Unix(UnixListener::from_std(fd.into()), Some(path.to_owned())))
    }

    /// Adopts a listening descriptor (TCP or Unix); `EINVAL` when it is not listening.
    pub fn adopt(fd: OwnedFd) -> io::Result<ListenSocket> {
        let family = family_of(&fd)?;
        let sock = socket2::Socket::from(fd);
        if !sock.is_listener()? {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        sock.set_nonblocking(true)?;
        let fd = OwnedFd::from(sock);
        Ok(match family {
            Family::Ip => ListenSocket::Tcp(TcpListener::from_std(fd.into())),
            Family::Unix => ListenSocket::Unix(UnixListener::from_std(fd.into()), None),
        })
    }

    /// Accepts one connection.
    pub fn accept(&self) -> io::Result<Stream> {
        match self {
            ListenSocket::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            ListenSocket::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
        }
    }

    /// The bound address: IP and port, or the socket's path.
    pub fn local_addr(&self) -> io::Result<ListenAddr> {
        match self {
            ListenSocket::Tcp(l) => l.local_addr().map(ListenAddr::Ip),
            ListenSocket::Unix(l, _) => {
                let a = l.local_addr()?;
                Ok(ListenAddr::Path(a.as_pathname().map(PathBuf::from).unwrap_or_default()))
            }
        }
    }
}

impl Drop for ListenSocket {
    fn drop(&mut self) {
        if let ListenSocket::Unix(_, Some(path)) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl AsFd for ListenSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            ListenSocket::Tcp(l) => l.as_fd(),
            ListenSocket::Unix(l, _) => l.as_fd(),
        }
    }
}

impl Source for ListenSocket {
    fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        match self {
            ListenSocket::Tcp(l) => l.register(registry, token, interests),
            ListenSocket::Unix(l, _) => l.register(registry, token, interests),
        }
    }

    fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        match self {
            ListenSocket::Tcp(l) => l.reregister(registry, token, interests),
            ListenSocket::Unix(l, _) => l.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            ListenSocket::Tcp(l) => l.deregister(registry),
            ListenSocket::Unix(l, _) => l.deregister(registry),
        }
    }
}
