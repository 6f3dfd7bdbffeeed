//! The write half: queued plaintext into rustls, records onto the wire with one `sendmsg`
//! for several (MSG_NOSIGNAL: a vanished peer never raises SIGPIPE), write callbacks,
//! `drain`, and close_notify then FIN after `end()`.

use super::states::{Outbound, Phase};
use super::Conn;
use crate::error::NtlsError;
use crate::socket::no_sigpipe::NoSigPipe;
use crate::socket::SocketEvents;
use std::io::{self, Write};
use std::sync::atomic::Ordering;

/// Write buffers above this are freed after use rather than kept: small writes (the
/// steady state of interactive traffic) reuse their buffer, while a connection that once
/// wrote in bulk does not keep a large buffer when it goes idle.
const KEEP_SPARE: usize = 16 * 1024;

impl<E: SocketEvents> Conn<E> {
    /// Moves queued plaintext into rustls; turns `end()` into close_notify once secure.
    pub(super) fn take_writes(&mut self) {
        let ended = {
            let mut q = self.sock.queue.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut q.buf, &mut self.spare);
            self.callbacks.extend(q.callbacks.drain(..));
            q.ended
        };
        if !self.spare.is_empty() {
            // Unlimited buffer: the writer takes everything; backpressure is our queue's.
            match self.sock.max_send_fragment.load(Ordering::Relaxed) {
                0 => {
                    let _ = self.tls.writer().write_all(&self.spare);
                }
                // rustls fixes its fragment size per config; each write smaller than that
                // becomes records of its own, so n-byte writes make records of n bytes.
                n => {
                    let mut writer = self.tls.writer();
                    for chunk in self.spare.chunks(n) {
                        let _ = writer.write_all(chunk);
                    }
                }
            }
            self.accepted += self.spare.len() as u64;
            self.touch();
            self.spare.clear();
            if self.spare.capacity() > KEEP_SPARE {
                self.spare = Vec::new();
            }
        }
        if ended && self.phase == Phase::Secure && self.outbound == Outbound::Open {
            self.tls.send_close_notify();
            self.outbound = Outbound::Closing;
        }
    }

    /// Writes TLS records, completes writes, shuts down after end.
    pub(super) fn flush(&mut self) -> Result<(), NtlsError> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        while self.tls.wants_write() {
            let written = if self.hello_out.full() {
                self.tls.write_tls(&mut NoSigPipe(stream))
            } else {
                let mut w =
                    super::handshake_notes::Capture { inner: NoSigPipe(stream), prefix: &mut self.hello_out };
                self.tls.write_tls(&mut w)
            };
            match written {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NtlsError::from_io(&e, "write", "")),
            }
        }
        if self.tls.wants_write() || self.phase != Phase::Secure || self.sock.is_destroyed() {
            // Write callbacks of a destroyed socket complete with NTLS_ECANCELED at close.
            return Ok(());
        }
        if self.flushed != self.accepted {
            self.flushed = self.accepted;
            self.sock.flushed.store(self.flushed, Ordering::SeqCst);
            while self.callbacks.front().is_some_and(|(end, _)| *end <= self.flushed) {
                if let Some((_, cb)) = self.callbacks.pop_front() {
                    cb(&self.sock, 0);
                }
            }
        }
        if self.sock.need_drain.load(Ordering::SeqCst) {
            let idle = self.sock.queue.lock().unwrap_or_else(|e| e.into_inner()).total == self.flushed;
            if idle && self.sock.need_drain.swap(false, Ordering::SeqCst) {
                self.sock.events.drain(&self.sock);
            }
        }
        if self.outbound == Outbound::Closing {
            let _ = stream.shutdown(std::net::Shutdown::Write);
            self.outbound = Outbound::Shut;
        }
        Ok(())
    }
}
