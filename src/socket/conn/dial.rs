//! A client's TCP connect: each resolved address in turn, as Node tries them.

use super::states::Phase;
use super::{Conn, Role};
use crate::error::{NtlsError, NTLS_ECONNRESET};
use crate::reactor::Cx;
use crate::socket::info::Addresses;
use crate::socket::SocketEvents;
use mio::net::TcpStream;
use mio::Interest;
use std::io;

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
        let Role::Client { addrs, next_addr, .. } = &mut self.role else {
            return Err(NtlsError::from_status(NTLS_ECONNRESET, "not a client"));
        };
        let mut last = last;
        while let Some(addr) = addrs.get(*next_addr).copied() {
            *next_addr += 1;
            match TcpStream::connect(addr) {
                Ok(mut s) => {
                    cx.registry()
                        .register(&mut s, Cx::token(token), Interest::READABLE | Interest::WRITABLE)
                        .map_err(|e| NtlsError::from_io(&e, "connect", &node_target(addr)))?;
                    self.stream = Some(s);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        let target = addrs.last().map(|a| node_target(*a)).unwrap_or_default();
        let e = last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ECONNREFUSED));
        Err(NtlsError::from_io(&e, "connect", &target))
    }

    /// Whether the TCP connect finished; tries the next address on failure.
    pub(super) fn check_connected(&mut self, cx: &mut Cx<'_>, token: usize) -> Result<bool, NtlsError> {
        let Some(stream) = self.stream.as_ref() else {
            return Ok(false);
        };
        let failure = match stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match stream.peer_addr() {
                Ok(remote) => {
                    let local = stream.local_addr().unwrap_or(remote);
                    let _ = self.sock.addresses.set(Addresses { local, remote });
                    let _ = stream.set_nodelay(self.no_delay);
                    self.phase = Phase::Handshaking;
                    if !self.sock.is_destroyed() {
                        self.sock.events.connect(&self.sock);
                    }
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(false),
                Err(e) => Some(e),
            },
        };
        self.dial_next(cx, token, failure)?;
        Ok(false)
    }
}

/// The address in Node's error message: `127.0.0.1:8443`, and no port when it is 0.
fn node_target(addr: std::net::SocketAddr) -> String {
    match addr.port() {
        0 => addr.ip().to_string(),
        _ => addr.to_string(),
    }
}
