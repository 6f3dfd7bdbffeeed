//! Bytes written by any thread, waiting for the loop thread to encrypt them.

use super::events::WriteDone;
use super::SocketEvents;
use std::collections::VecDeque;

/// The queue behind `ntls_socket_write`; the loop swaps its buffer out, so steady-state
/// writing allocates nothing.
pub struct WriteQueue<E: SocketEvents> {
    /// Plaintext not yet handed to rustls.
    pub buf: Vec<u8>,
    /// Callbacks with the total byte count at which each write is complete.
    pub callbacks: VecDeque<(u64, WriteDone<E>)>,
    /// Bytes ever queued.
    pub total: u64,
    /// `end()` was called: nothing more may be written.
    pub ended: bool,
    /// A write came after `end()`: the loop reports ERR_STREAM_WRITE_AFTER_END, completing
    /// these callbacks with it, and destroys the socket, as Node does.
    pub after_end: Option<Vec<WriteDone<E>>>,
}

impl<E: SocketEvents> Default for WriteQueue<E> {
    fn default() -> Self {
        WriteQueue { buf: Vec::new(), callbacks: VecDeque::new(), total: 0, ended: false, after_end: None }
    }
}

impl<E: SocketEvents> WriteQueue<E> {
    /// Appends a write; its callback fires once its last byte reached the kernel.
    pub fn push(&mut self, data: &[u8], done: Option<WriteDone<E>>) {
        self.buf.extend_from_slice(data);
        self.total += data.len() as u64;
        if let Some(done) = done {
            self.callbacks.push_back((self.total, done));
        }
    }
}
