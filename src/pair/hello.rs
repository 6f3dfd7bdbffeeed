//! A server pair's ClientHello phase: rustls's `Acceptor` reads the hello from the fed
//! ciphertext, so the context can be chosen by its server name (the same choice a
//! server's connection makes, `server::hello::choose`).

use crate::error::NtlsError;
use crate::tls::alerts::tls_error;
use rustls::server::{Accepted, Acceptor};

/// The ClientHello being read.
#[derive(Default)]
pub(super) struct Hello {
    acceptor: Acceptor,
}

impl Hello {
    /// Reads from `rest` until a whole ClientHello is in (then stops, leaving the rest for
    /// the connection); a refused hello writes rustls's alert to `out`.
    pub fn feed(&mut self, rest: &mut &[u8], out: &mut Vec<u8>) -> Result<Option<Accepted>, NtlsError> {
        while !rest.is_empty() {
            if let Err(e) = self.acceptor.read_tls(rest) {
                return Err(NtlsError::from_io(&e, "read", ""));
            }
            match self.acceptor.accept() {
                Ok(Some(accepted)) => return Ok(Some(accepted)),
                Ok(None) => {}
                Err((e, mut alert)) => {
                    let _ = alert.write_all(out);
                    return Err(tls_error(&e, &[], ""));
                }
            }
        }
        Ok(None)
    }
}
