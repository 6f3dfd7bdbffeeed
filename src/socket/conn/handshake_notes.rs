//! What the handshake's hooks noted for this connection (`tls::handshake::notes`):
//! key-log lines become `keylog` events, the secrets and the hellos' first bytes become
//! the exporter, the chosen certificate becomes `getCertificate()`.

use super::{Conn, Role};
use crate::socket::SocketEvents;
use crate::tls::handshake::exporter::Exporter;
use crate::tls::handshake::keylog::{EXPORTER_SECRET, MASTER_SECRET};
use crate::tls::handshake::notes;
use std::io::{self, IoSlice, Write};
use zeroize::Zeroizing;

/// Record header (5) + handshake header (4) + version (2), then the 32-byte random.
const RANDOM_AT: usize = 11;
const PREFIX_LEN: usize = RANDOM_AT + 32;

/// The first bytes one direction carried: the hello's random (TLS 1.2's exporter needs
/// the server's, which rustls does not expose) and the bytes plain HTTP is told by.
pub(super) struct HelloPrefix {
    buf: [u8; PREFIX_LEN],
    len: usize,
}

impl Default for HelloPrefix {
    fn default() -> Self {
        HelloPrefix { buf: [0; PREFIX_LEN], len: 0 }
    }
}

impl HelloPrefix {
    /// Keeps the start of `data` while the prefix is not full.
    pub(super) fn add(&mut self, data: &[u8]) {
        let n = (PREFIX_LEN - self.len).min(data.len());
        self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
        self.len += n;
    }

    /// Whether nothing more is kept.
    pub(super) fn full(&self) -> bool {
        self.len == PREFIX_LEN
    }

    /// The first four bytes (zero-padded).
    pub(super) fn first4(&self) -> [u8; 4] {
        let mut b = [0; 4];
        b.copy_from_slice(&self.buf[..4]);
        b
    }

    /// The random of a ServerHello that starts these bytes in its own record.
    fn server_random(&self) -> Option<[u8; 32]> {
        let is_server_hello = self.full() && self.buf[0] == 22 && self.buf[5] == 2;
        is_server_hello.then(|| self.buf[RANDOM_AT..].try_into().unwrap_or([0; 32]))
    }
}

/// A writer that keeps the first bytes it passes on (the handshake's own hello).
pub(super) struct Capture<'a, W: Write> {
    pub(super) inner: W,
    pub(super) prefix: &'a mut HelloPrefix,
}

impl<W: Write> Write for Capture<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.prefix.add(&buf[..n]);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = self.inner.write_vectored(bufs)?;
        let mut left = n;
        for b in bufs {
            let k = left.min(b.len());
            self.prefix.add(&b[..k]);
            left -= k;
            if left == 0 {
                break;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<E: SocketEvents> Conn<E> {
    /// Takes the notes rustls's hooks made during the call that just returned.
    pub(super) fn take_notes(&mut self) {
        let Some(n) = notes::take() else { return };
        if n.own_cert.is_some() {
            self.own_cert = n.own_cert;
        }
        if n.shared_sigalgs.is_some() {
            self.shared_sigalgs = n.shared_sigalgs;
        }
        self.secrets.extend(n.secrets);
        if self.sock.is_destroyed() {
            return;
        }
        for line in &n.keylog {
            match &self.role {
                Role::Client { .. } => self.sock.events.keylog(&self.sock, line),
                Role::Server(side) => side.hooks.keylog(&self.sock, line),
            }
        }
    }

    /// The exporter of a finished handshake, from the secrets it noted.
    pub(super) fn exporter(&mut self) -> Option<Exporter> {
        let suite = self.tls.negotiated_cipher_suite()?;
        let sha384 = format!("{:?}", suite.suite()).ends_with("SHA384");
        let secrets = std::mem::take(&mut self.secrets);
        let find = |label: &str| secrets.iter().find(|(l, _, _)| *l == label);
        match self.tls.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => {
                let (_, _, secret) = find(EXPORTER_SECRET)?;
                Some(Exporter::tls13(Zeroizing::new(secret.to_vec()), sha384))
            }
            _ => {
                let (_, client_random, secret) = find(MASTER_SECRET)?;
                let client_random: [u8; 32] = client_random.as_slice().try_into().ok()?;
                let server_random = match &self.role {
                    Role::Client { .. } => self.hello_in.server_random()?,
                    Role::Server(_) => self.hello_out.server_random()?,
                };
                Some(Exporter::tls12(Zeroizing::new(secret.to_vec()), &client_random, &server_random, sha384))
            }
        }
    }
}
