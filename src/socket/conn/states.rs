//! Where each part of a connection is: the handshake, the read half, the write half.
//! One enum per part instead of a flag per fact, so that impossible combinations (a FIN
//! sent before close_notify, `end` emitted twice) cannot be written down.

/// How far the connection has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A client waiting for its TCP connect.
    Dialing,
    /// TCP is up; the TLS handshake runs.
    Handshaking,
    /// The handshake finished (`secureConnect` / `secureConnection` were emitted).
    Secure,
}

/// The read half: what the peer may still send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    /// Reading. `more`: the socket may hold unread bytes (readiness is edge-triggered, so
    /// a short read clears it); `fin`: the kernel reported the peer's FIN, so read on to EOF
    /// whatever the read sizes, since no later event will come.
    Open { more: bool, fin: bool },
    /// TCP said EOF; decrypted bytes may still wait for a paused socket.
    Eof,
    /// `end` was emitted: the peer sent close_notify, or EOF once its data was delivered.
    Ended,
}

impl Inbound {
    /// Whether TCP has nothing more to give (EOF read, or `end` already emitted).
    pub fn finished(self) -> bool {
        !matches!(self, Inbound::Open { .. })
    }
}

/// The write half: what we may still send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbound {
    /// Writing.
    Open,
    /// `end()` taken: close_notify follows the queued data.
    Closing,
    /// close_notify flushed and FIN sent (`shutdown(SHUT_WR)`).
    Shut,
}
