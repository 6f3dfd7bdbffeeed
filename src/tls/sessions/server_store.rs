//! A server's external session store (Node's `newSession` / `resumeSession`) as rustls's
//! `StoresServerSessions`, one per connection. rustls asks its store synchronously while
//! Node's store answers later, so the ClientHello phase reads the session ID (TLS 1.2) or
//! PSK identity (TLS 1.3) from the raw hello (`tls::client_hello`), asks the program
//! (`resumeSession`) and pre-loads this store with the answer before rustls reads the
//! hello; what rustls saves (`put`) is queued for the connection to hand to `newSession`.
//! The bytes are rustls's own encoding of the session, the same in every process.

use rustls::server::StoresServerSessions;
use std::sync::Mutex;

/// A session: its ID (TLS 1.2) or ticket (TLS 1.3), and rustls's encoded state.
pub type StoredSession = (Vec<u8>, Vec<u8>);

/// One connection's view of the program's store.
#[derive(Debug, Default)]
pub struct ConnSessionStore {
    preloaded: Mutex<Option<StoredSession>>,
    saved: Mutex<Vec<StoredSession>>,
    ticket_issued: bool,
}

impl ConnSessionStore {
    /// A store holding what `resumeSession` answered for this connection's hello.
    /// `ticket_issued`: the client takes a TLS 1.2 ticket from this handshake; rustls still
    /// saves the session under an ID, but OpenSSL caches nothing then (its ServerHello names
    /// no session ID), so Node's `newSession` is not called: neither is ours.
    pub fn new(preloaded: Option<StoredSession>, ticket_issued: bool) -> ConnSessionStore {
        ConnSessionStore { preloaded: Mutex::new(preloaded), saved: Mutex::new(Vec::new()), ticket_issued }
    }

    /// Sessions rustls saved since the last call, for `newSession`.
    pub fn take_saved(&self) -> Vec<StoredSession> {
        std::mem::take(&mut *self.saved.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl StoresServerSessions for ConnSessionStore {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        if self.ticket_issued {
            return false;
        }
        self.saved.lock().unwrap_or_else(|e| e.into_inner()).push((key, value));
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let preloaded = self.preloaded.lock().unwrap_or_else(|e| e.into_inner());
        preloaded.as_ref().filter(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut preloaded = self.preloaded.lock().unwrap_or_else(|e| e.into_inner());
        match preloaded.take() {
            Some((k, v)) if k == key => Some(v),
            other => {
                *preloaded = other;
                None
            }
        }
    }

    fn can_cache(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_the_preloaded_key_and_queues_puts() {
        let s = ConnSessionStore::new(Some((b"id".to_vec(), b"state".to_vec())), false);
        assert_eq!(s.get(b"other"), None);
        assert_eq!(s.get(b"id").as_deref(), Some(&b"state"[..]));
        assert_eq!(s.take(b"other"), None);
        assert_eq!(s.take(b"id").as_deref(), Some(&b"state"[..]));
        assert_eq!(s.take(b"id"), None, "taken once");
        assert!(s.put(b"new".to_vec(), b"v".to_vec()));
        assert_eq!(s.take_saved(), vec![(b"new".to_vec(), b"v".to_vec())]);
        assert!(s.take_saved().is_empty());
    }

    #[test]
    fn saves_nothing_when_a_ticket_carries_the_session() {
        let s = ConnSessionStore::new(None, true);
        assert!(!s.put(b"id".to_vec(), b"state".to_vec()));
        assert!(s.take_saved().is_empty());
    }
}
