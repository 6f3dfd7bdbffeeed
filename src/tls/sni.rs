//! Server name indication: contexts added with `addContext`, looked up as Node does.

use super::context::SecureContext;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::{Arc, RwLock};

/// Whether `name` matches Node's `addContext` pattern, where `*` stands for any run of
/// characters within one label (Node turns it into the regular expression `[^.]*`), so
/// `*.example.org` and `a*.example.org` both match `abc.example.org`. Case-insensitive, as
/// RFC 6066 asks (Node's own match is case-sensitive: the README lists the difference).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    fn glob(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => {
                // Try every length of the run, stopping at the label's end.
                let run = n.iter().take_while(|c| **c != b'.').count();
                (0..=run).any(|k| glob(rest, &n[k..]))
            }
            Some((c, rest)) => n.first().is_some_and(|d| d.eq_ignore_ascii_case(c)) && glob(rest, &n[1..]),
        }
    }
    glob(pattern.as_bytes(), name.trim_end_matches('.').as_bytes())
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
pub struct NodeCertResolver {
    /// The context chosen for the connection.
    pub ctx: Arc<SecureContext>,
    /// `honorCipherOrder`: the server's own order also orders `getSharedSigalgs()`.
    pub own_order: bool,
}

impl ResolvesServerCert for NodeCertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let shared = super::sigalgs::shared(self.ctx.sigalgs(), hello.signature_schemes(), self.own_order);
        super::handshake::notes::shared_sigalgs(shared);
        let key = self.ctx.choose_key(hello.signature_schemes())?;
        super::handshake::notes::own_cert(key.clone());
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn wildcards_cover_a_run_within_one_label() {
        assert!(pattern_matches("*.example.com", "a.example.com"));
        assert!(pattern_matches("*.example.com", "A.EXAMPLE.com"));
        assert!(!pattern_matches("*.example.com", "example.com"));
        assert!(!pattern_matches("*.example.com", "a.b.example.com"));
        assert!(pattern_matches("*", "localhost"));
        assert!(!pattern_matches("*", "a.b"));
        assert!(pattern_matches("exact.org", "exact.org"));
        // Node's `[^.]*`: inside a label, and possibly empty.
        assert!(pattern_matches("a*.example.org", "abc.example.org"));
        assert!(pattern_matches("a*.example.org", "a.example.org"));
        assert!(!pattern_matches("a*.example.org", "ba.example.org"));
        assert!(pattern_matches("*c.example.org", "abc.example.org"));
        assert!(pattern_matches("x.*.org", "x.y.org"));
        assert!(!pattern_matches("a*.example.org", "ab.c.example.org"));
    }

    #[test]
    fn patterns_agree_with_nodes_regular_expression() {
        // The same cases through Node's own conversion (server.addContext in _tls_wrap.js).
        let cases = [
            ("*.example.com", "a.example.com"),
            ("*.example.com", "example.com"),
            ("a*.example.org", "abc.example.org"),
            ("a*.example.org", "ba.example.org"),
            ("*", "localhost"),
            ("*", "a.b"),
            ("*c.example.org", "abc.example.org"),
            ("x.*.org", "x.y.org"),
            ("*.example.com", ".example.com"),
            ("a*b*c.d", "aXbYc.d"),
        ];
        let script = "const [p, n] = process.argv.slice(-2); \
            const re = new RegExp('^' + p.replace(/([.^$+?\\-\\\\[\\]{}])/g, '\\\\$1').replace(/\\*/g, '[^.]*') + '$'); \
            process.stdout.write(String(re.test(n)))";
        for (p, n) in cases {
            let out = std::process::Command::new("node").args(["-e", script, "--", p, n]).output().unwrap();
            let node = String::from_utf8(out.stdout).unwrap();
            assert_eq!(node, pattern_matches(p, n).to_string(), "pattern {p:?} against {n:?}");
        }
    }
}
