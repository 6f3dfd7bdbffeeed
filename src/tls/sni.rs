//! Server name indication: contexts added with `addContext`, looked up as Node does.

use super::context::SecureContext;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::{Arc, RwLock};

/// Whether `name` matches Node's host-name pattern: `*` stands for exactly one label.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let n: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    p.len() == n.len()
        && p.iter().zip(&n).all(|(p, n)| *p == "*" && !n.is_empty() || p.eq_ignore_ascii_case(n))
}

/// The contexts a server added with `ntls_server_add_context`.
#[derive(Debug, Default)]
pub struct SniTable {
    entries: RwLock<Vec<(String, Arc<SecureContext>)>>,
}

impl SniTable {
    /// Adds a pattern; later additions win over earlier ones, as in Node.
    pub fn add(&self, pattern: &str, ctx: Arc<SecureContext>) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).push((pattern.to_owned(), ctx));
    }

    /// Whether no context was added (every connection uses the server's own).
    pub fn is_empty(&self) -> bool {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// The most recently added context whose pattern matches `name`.
    pub fn lookup(&self, name: &str) -> Option<Arc<SecureContext>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.iter().rev().find(|(p, _)| pattern_matches(p, name)).map(|(_, c)| c.clone())
    }
}

/// Picks the key of one context that the client can verify (Node's key arrays). The
/// context was chosen before the handshake began (`SniTable::lookup` or the SNICallback),
/// so certificate and client-certificate checks always come from the same context.
#[derive(Debug)]
pub struct NodeCertResolver(pub Arc<SecureContext>);

impl ResolvesServerCert for NodeCertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.choose_key(hello.signature_schemes())
    }
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(pattern_matches("*.example.com", "a.example.com"));
        assert!(pattern_matches("*.example.com", "A.EXAMPLE.com"));
        assert!(!pattern_matches("*.example.com", "example.com"));
        assert!(!pattern_matches("*.example.com", "a.b.example.com"));
        assert!(pattern_matches("*", "localhost"));
        assert!(!pattern_matches("*", "a.b"));
        assert!(pattern_matches("exact.org", "exact.org"));
    }
}
