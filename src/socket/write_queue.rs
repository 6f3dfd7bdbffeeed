//! Bytes written by any thread, waiting for the loop thread to encrypt them.

use super::events::WriteDone;
use std::collections::VecDeque;

/// The queue behind `ntls_socket_write`; the loop swaps its buffer out, so steady-state
/// writing allocates nothing.
#[derive(Default)]
pub struct WriteQueue {
    /// Plaintext not yet handed to rustls.
    pub buf: Vec<u8>,
    /// Callbacks with the total byte count at which each write is complete.
    pub callbacks: VecDeque<(u64, WriteDone)>,
    /// Bytes ever queued.
    pub total: u64,
    /// `end()` was called: nothing more may be written.
    pub ended: bool,
}

impl WriteQueue {
    /// Appends a write; its callback fires once its last byte reached the kernel.
    pub fn push(&mut self, data: &[u8], done: Option<WriteDone>) {
        self.buf.extend_from_slice(data);
        self.total += data.len() as u64;
        if let Some(done) = done {
            self.callbacks.push_back((self.total, done));
        }
    }
}
