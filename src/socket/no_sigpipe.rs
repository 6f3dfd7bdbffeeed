//! Writes with MSG_NOSIGNAL: a peer that reset the connection must give an EPIPE error on
//! that socket, not a SIGPIPE that kills the program (Go and many C programs keep the
//! default signal action).

use socket2::SockRef;
use std::io::{self, IoSlice, Write};
use std::os::fd::AsFd;

/// A `Write` over a stream socket (TCP or Unix) that never raises SIGPIPE.
pub struct NoSigPipe<'a, S: AsFd>(pub &'a S);

impl<S: AsFd> Write for NoSigPipe<'_, S> {
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
