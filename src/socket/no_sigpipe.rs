//! Writes with MSG_NOSIGNAL: a peer that reset the connection must give an EPIPE error on
//! that socket, not a SIGPIPE that kills the program (Go and many C programs keep the
//! default signal action).

use mio::net::TcpStream;
use socket2::SockRef;
use std::io::{self, IoSlice, Write};

/// A `Write` over a TCP stream that never raises SIGPIPE.
pub struct NoSigPipe<'a>(pub &'a TcpStream);

impl Write for NoSigPipe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        SockRef::from(self.0).send_with_flags(buf, libc::MSG_NOSIGNAL)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        SockRef::from(self.0).send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
