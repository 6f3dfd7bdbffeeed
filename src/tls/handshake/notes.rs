//! A per-thread note pad between rustls's hooks and the connection being driven.
//!
//! The key log and the certificate resolvers belong to a rustls config that many
//! connections share, and rustls calls them with no word of which connection it is
//! serving. It calls them synchronously, though, inside the one `process_new_packets`
//! (or `Accepted::into_connection`) that a loop thread is running for one connection: so
//! the hooks write here, and that connection takes the notes as soon as the call returns.

use rustls::sign::CertifiedKey;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// A secret rustls logged: (label, client_random, secret), wiped when dropped.
pub type Secret = (&'static str, Vec<u8>, zeroize::Zeroizing<Vec<u8>>);

/// What the hooks saw during the last rustls call on this thread.
#[derive(Default)]
pub struct Notes {
    /// NSS key-log lines, each ending in a newline.
    pub keylog: Vec<Vec<u8>>,
    /// Secrets for `exportKeyingMaterial`: (label, client_random, secret).
    pub secrets: Vec<Secret>,
    /// The certificate a resolver chose for us.
    pub own_cert: Option<Arc<CertifiedKey>>,
    /// `getSharedSigalgs()`: the schemes of the peer's list ours hold too.
    pub shared_sigalgs: Option<crate::tls::sigalgs::Shared>,
}

thread_local! {
    static NOTES: RefCell<Notes> = RefCell::new(Notes::default());
    static ANY: Cell<bool> = const { Cell::new(false) };
}

fn with(f: impl FnOnce(&mut Notes)) {
    NOTES.with(|n| f(&mut n.borrow_mut()));
    ANY.with(|a| a.set(true));
}

/// A key-log line for the connection being driven.
pub fn keylog_line(line: Vec<u8>) {
    with(|n| n.keylog.push(line));
}

/// A secret for the connection's exporter.
pub fn secret(label: &'static str, client_random: &[u8], secret: &[u8]) {
    with(|n| n.secrets.push((label, client_random.to_vec(), zeroize::Zeroizing::new(secret.to_vec()))));
}

/// The certificate chosen for the connection being driven.
pub fn own_cert(key: Arc<CertifiedKey>) {
    with(|n| n.own_cert = Some(key));
}

/// The signature schemes both sides share, seen by a resolver in the peer's list.
pub fn shared_sigalgs(schemes: crate::tls::sigalgs::Shared) {
    with(|n| n.shared_sigalgs = Some(schemes));
}

/// Takes the notes made since the last take; None (without touching the pad) when none.
pub fn take() -> Option<Notes> {
    if !ANY.with(|a| a.replace(false)) {
        return None;
    }
    Some(NOTES.with(|n| std::mem::take(&mut *n.borrow_mut())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn notes_are_taken_once() {
        assert!(super::take().is_none());
        super::keylog_line(b"CLIENT_RANDOM 00 11\n".to_vec());
        let n = super::take().unwrap();
        assert_eq!(n.keylog.len(), 1);
        assert!(super::take().is_none());
    }
}
