//! One accepted connection: read until the socket would block, echo / sink / source, and
//! write only as fast as the socket takes it.

use crate::args::Job;
use mio::net::TcpStream;
use rustls::ServerConnection;
use std::io::{self, Read, Write};

/// Bytes handed to rustls per write when sourcing.
const CHUNK: usize = 64 * 1024;

/// A connection and how far its job got.
pub struct Client {
    /// The socket.
    pub stream: TcpStream,
    tls: ServerConnection,
    /// Source bytes not yet handed to rustls.
    left: u64,
    /// Source bytes handed to rustls so far (the pattern's offset).
    sent: u64,
    /// close_notify was queued.
    ending: bool,
}

impl Client {
    /// Wraps an accepted socket.
    pub fn new(stream: TcpStream, mut tls: ServerConnection, job: Job) -> Client {
        // Echo hands rustls everything it reads; TCP pushes back on the client instead.
        tls.set_buffer_limit(None);
        let left = if let Job::Source(n) = job { n } else { 0 };
        Client { stream, tls, left, sent: 0, ending: false }
    }

    /// Does all the work the socket allows; false once the connection is over.
    pub fn serve(&mut self, job: Job, buf: &mut [u8], pattern: &[u8]) -> bool {
        let mut peer_done = false;
        loop {
            match self.tls.read_tls(&mut self.stream) {
                Ok(0) => {
                    peer_done = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
            let state = match self.tls.process_new_packets() {
                Ok(state) => state,
                Err(_) => {
                    // Send the alert rustls queued, then give up on the connection.
                    let _ = self.tls.write_tls(&mut self.stream);
                    return false;
                }
            };
            if state.peer_has_closed() {
                peer_done = true;
            }
            while let Ok(n @ 1..) = self.tls.reader().read(buf) {
                if let Job::Echo = job {
                    let _ = self.tls.writer().write_all(&buf[..n]);
                }
            }
        }
        if matches!(job, Job::Source(_)) && !self.tls.is_handshaking() && !self.ending {
            // The next chunk goes to rustls only once the socket took the last one; the
            // edge-triggered poller wakes us again when the socket has room.
            while self.left > 0 {
                match self.flush() {
                    Err(_) => return false,
                    Ok(false) => break,
                    Ok(true) => {}
                }
                let n = self.left.min(CHUNK as u64) as usize;
                let start = (self.sent % 251) as usize;
                let _ = self.tls.writer().write_all(&pattern[start..start + n]);
                self.left -= n as u64;
                self.sent += n as u64;
            }
            if self.left == 0 {
                self.tls.send_close_notify();
                self.ending = true;
            }
        }
        if peer_done && !self.ending {
            self.tls.send_close_notify();
            self.ending = true;
        }
        match self.flush() {
            Err(_) => false,
            Ok(all_out) => !(all_out && self.ending && peer_done),
        }
    }

    /// Writes pending TLS records; Ok(true) when everything went out.
    fn flush(&mut self) -> io::Result<bool> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.stream) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// One period of the pattern (byte i is (i*31+7) % 251) plus a chunk, so that any chunk
/// at any offset is one slice of it.
pub fn pattern() -> Vec<u8> {
    (0..(CHUNK + 251) as u64).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}
