//! The read half: ciphertext from TCP into rustls, plaintext out to `data`, the peer's end.
//!
//! `pump` is the one place plaintext reaches the program: every pass — resumed stash,
//! fresh reads, EOF — goes through it, so pausing and resuming are decided in one spot.

use super::states::{Inbound, Phase};
use super::{Conn, Role};
use crate::error::NtlsError;
use crate::socket::transport::Stream;
use crate::socket::SocketEvents;
use crate::tls::alerts::connection_error;
use std::cell::RefCell;
use std::io::{self, BufRead, Read};
use std::sync::atomic::Ordering;

/// One read syscall's worth: large, so bulk transfers need few syscalls, and shared by
/// every connection of the loop, so idle connections hold no read buffer.
const READ_CHUNK: usize = 64 * 1024;

/// Reads per readiness event before other connections get a turn.
const READS_PER_TURN: usize = 16;

thread_local! {
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);
}

impl<E: SocketEvents> Conn<E> {
    /// Reads and decrypts while the socket flows; true if there may be more to read now.
    pub(super) fn read(&mut self) -> Result<bool, NtlsError> {
        // Ciphertext kept from a pause goes first, so bytes stay in order; with none, this
        // still hands out plaintext rustls decrypted before the pause.
        let mut stash = std::mem::take(&mut self.stash);
        let rest = self.pump(&stash)?;
        // Keep the unfed tail in the same buffer: no new allocation per resume.
        stash.drain(..stash.len() - rest);
        self.stash = stash;
        if !self.stash.is_empty() {
            return Ok(false);
        }
        let Some(mut stream) = self.stream.take() else {
            return Ok(false);
        };
        let result = READ_BUF.with(|b| self.read_from(&mut stream, &mut b.borrow_mut()));
        self.stream = Some(stream);
        result
    }

    fn read_from(&mut self, stream: &mut Stream, buf: &mut [u8]) -> Result<bool, NtlsError> {
        for _ in 0..READS_PER_TURN {
            let Inbound::Open { more, fin } = self.inbound else { return Ok(false) };
            if !(more || fin) || !self.may_read() {
                return Ok(false);
            }
            match stream.read(buf) {
                Ok(0) => {
                    self.inbound = Inbound::Eof;
                    let _ = self.tls.read_tls(&mut io::empty());
                    self.process()?;
                    self.pump(&[])?;
                    return Ok(false);
                }
                Ok(n) => {
                    if self.phase != Phase::Secure && !self.hello_in.full() {
                        self.hello_in.add(&buf[..n]);
                    }
                    self.wire_read += n as u64;
                    self.touch();
                    if n < buf.len() && !fin {
                        // A short read drained the socket: the next arrival raises a new
                        // edge, so the read that would only say EAGAIN is skipped.
                        self.inbound = Inbound::Open { more: false, fin };
                    }
                    let rest = self.pump(&buf[..n])?;
                    if rest > 0 {
                        self.stash.extend_from_slice(&buf[n - rest..n]);
                        return Ok(false);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.inbound = Inbound::Open { more: false, fin };
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NtlsError::from_io(&e, "read", "")),
            }
        }
        Ok(true)
    }

    /// Reads and drops what the peer sent and nobody will read (a socket closing through
    /// `destroySoon`); true once the peer has finished (EOF or a failed read).
    pub(super) fn discard_input(&mut self) -> bool {
        let Some(stream) = self.stream.as_mut() else { return true };
        READ_BUF.with(|b| {
            let mut buf = b.borrow_mut();
            for _ in 0..READS_PER_TURN {
                match stream.read(&mut buf) {
                    Ok(0) => return true,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return e.kind() != io::ErrorKind::WouldBlock,
                }
            }
            false
        })
    }

    /// Whether reading is allowed now: always while handshaking, then only while flowing.
    fn may_read(&self) -> bool {
        self.phase != Phase::Secure || self.sock.flowing()
    }

    /// Feeds ciphertext to rustls and hands what it decrypts to `data`, for as long as the
    /// socket flows; returns how many bytes it could not feed yet (paused or destroyed).
    fn pump(&mut self, data: &[u8]) -> Result<usize, NtlsError> {
        let mut rest = data;
        let mut refused = false;
        while self.deliver()? && !rest.is_empty() {
            match self.tls.read_tls(&mut rest) {
                Ok(_) => refused = false,
                // rustls's plaintext buffer is full: deliver drains it on the next turn,
                // unless nothing could be drained, which would loop forever.
                Err(e) if refused => return Err(NtlsError::from_io(&e, "read", "")),
                Err(_) => refused = true,
            }
            self.process()?;
        }
        Ok(rest.len())
    }

    /// Processes records; notices the end of the handshake.
    fn process(&mut self) -> Result<(), NtlsError> {
        let processed = self.tls.process_new_packets();
        if self.phase != Phase::Secure {
            self.take_notes();
        }
        if let Err(e) = processed {
            let host = match &self.role {
                Role::Client { server_name, .. } => server_name.to_str().into_owned(),
                Role::Server(_) => String::new(),
            };
            let err =
                connection_error(&e, &self.tls, self.phase != Phase::Secure, &self.hello_in.first4(), &host);
            return Err(crate::tls::sigalgs::refine(err, &e, self.shared_sigalgs));
        }
        if self.phase != Phase::Secure && !self.tls.is_handshaking() {
            self.on_secure();
        }
        self.emit_sessions();
        Ok(())
    }

    /// Hands decrypted bytes to `data`, borrowed from rustls; false if it stopped early.
    fn deliver(&mut self) -> Result<bool, NtlsError> {
        loop {
            if self.phase != Phase::Secure || self.inbound == Inbound::Ended {
                return Ok(true);
            }
            if !self.sock.flowing() || self.sock.is_destroyed() {
                return Ok(false);
            }
            let Conn { tls, sock, .. } = self;
            let mut reader = tls.reader();
            match reader.fill_buf() {
                Ok([]) => {
                    self.on_peer_end();
                    return Ok(true);
                }
                Ok(buf) => {
                    let n = buf.len();
                    sock.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
                    sock.events.data(sock, buf);
                    reader.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.on_peer_end();
                    return Ok(true);
                }
                Err(e) => return Err(NtlsError::from_io(&e, "read", "")),
            }
        }
    }

    /// `end`: the peer is done; without `allowHalfOpen` we end too.
    fn on_peer_end(&mut self) {
        if self.inbound == Inbound::Ended {
            return;
        }
        self.inbound = Inbound::Ended;
        self.sock.peer_ended.store(true, Ordering::SeqCst);
        if !self.sock.is_destroyed() {
            self.sock.events.end(&self.sock);
        }
        if !self.allow_half_open {
            self.sock.queue.lock().unwrap_or_else(|e| e.into_inner()).ended = true;
            self.take_writes();
        }
    }
}
