//! The key log every config carries: lines for the `keylog` event when the program
//! listens, the file `SSLKEYLOGFILE` names (appended, as curl, Python and Firefox do), and
//! the secrets `exportKeyingMaterial` is computed from.

use super::notes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// rustls's labels for the secrets an exporter needs: TLS 1.3's exporter master secret
/// and TLS 1.2's master secret.
pub const EXPORTER_SECRET: &str = "EXPORTER_SECRET";
/// TLS 1.2's master secret label (NSS's name).
pub const MASTER_SECRET: &str = "CLIENT_RANDOM";

/// Our `rustls::KeyLog`.
#[derive(Debug)]
pub struct NodeKeyLog {
    /// Whether a `keylog` listener wants lines (set by the socket or server that owns it).
    wanted: Arc<AtomicBool>,
    /// `SSLKEYLOGFILE`, opened (for appending) when the config was built.
    file: Option<rustls::KeyLogFile>,
}

impl NodeKeyLog {
    /// A key log whose lines go to the `keylog` event while `wanted` is set, and to the
    /// file `SSLKEYLOGFILE` names if the variable is set now.
    pub fn new(wanted: Arc<AtomicBool>) -> Arc<NodeKeyLog> {
        let file =
            std::env::var_os("SSLKEYLOGFILE").filter(|p| !p.is_empty()).map(|_| rustls::KeyLogFile::new());
        Arc::new(NodeKeyLog { wanted, file })
    }
}

/// One NSS key-log line: `LABEL <client_random hex> <secret hex>\n`.
pub fn line(label: &str, client_random: &[u8], secret: &[u8]) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
    s.push_str(label);
    s.push(' ');
    for b in client_random {
        let _ = write!(s, "{b:02x}");
    }
    s.push(' ');
    for b in secret {
        let _ = write!(s, "{b:02x}");
    }
    s.push('\n');
    s.into_bytes()
}

impl rustls::KeyLog for NodeKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        match label {
            EXPORTER_SECRET => notes::secret(EXPORTER_SECRET, client_random, secret),
            MASTER_SECRET => notes::secret(MASTER_SECRET, client_random, secret),
            _ => {}
        }
        if let Some(f) = &self.file {
            f.log(label, client_random, secret);
        }
        if self.wanted.load(Ordering::Relaxed) {
            notes::keylog_line(line(label, client_random, secret));
        }
    }

    fn will_log(&self, label: &str) -> bool {
        // The exporter's secrets are always kept (per connection, wiped on drop).
        label == EXPORTER_SECRET
            || label == MASTER_SECRET
            || self.file.is_some()
            || self.wanted.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_nss_format() {
        assert_eq!(super::line("CLIENT_RANDOM", &[0xab, 1], &[0xff]), b"CLIENT_RANDOM ab01 ff\n".to_vec());
    }
}
