//! Session tickets under Node's `ticketKeys`: 48 bytes, the first 16 naming the key, the
//! other 32 an AES-256-GCM key. Servers (in other processes or on other machines) given the
//! same 48 bytes resume each other's sessions. Node's own layout (16 name, 16 HMAC, 16 AES
//! key, AES-128-CBC) is OpenSSL's; tickets are only ever read by the server kind that made
//! them, so the layout is ours: name, nonce, then sealed (issue time, session state), with
//! the name and the `sessionIdContext` as associated data. A ticket older than
//! `sessionTimeout`, or made under another `sessionIdContext`, does not open: the client
//! gets a full handshake, as OpenSSL gives it.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rustls::server::ProducesTickets;
use std::sync::RwLock;
use zeroize::Zeroizing;

/// The length of `ticketKeys`.
pub(crate) const TICKET_KEYS_LEN: usize = 48;

/// Node's default `sessionTimeout`, in seconds.
pub(crate) const DEFAULT_SESSION_TIMEOUT: u32 = 300;

struct Keys {
    raw: Zeroizing<[u8; TICKET_KEYS_LEN]>,
    aead: LessSafeKey,
}

impl Keys {
    fn new(raw: [u8; TICKET_KEYS_LEN]) -> Option<Keys> {
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw[16..]).ok()?);
        Some(Keys { raw: Zeroizing::new(raw), aead })
    }
}

/// The keys tickets are made under, and the retired ones that still open theirs.
struct KeyRing {
    current: Keys,
    /// Keys replaced by `rotate`, each with when it was retired (Unix seconds).
    retired: Vec<(Keys, u64)>,
}

/// A server's ticket keys, replaceable while it runs (`setTicketKeys`, `rotate`).
pub struct NodeTicketer {
    keys: RwLock<KeyRing>,
    lifetime: u32,
    /// SHA-256 of `sessionIdContext` (of nothing when unset).
    scope: [u8; 32],
}

impl std::fmt::Debug for NodeTicketer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeTicketer").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

impl NodeTicketer {
    /// Tickets under `keys`, or under fresh random keys (Node's default), valid `lifetime` s,
    /// opened only by servers with the same `sessionIdContext`.
    pub fn new(
        keys: Option<[u8; TICKET_KEYS_LEN]>,
        lifetime: u32,
        session_id_context: &[u8],
    ) -> Result<NodeTicketer, String> {
        let raw = match keys {
            Some(k) => k,
            None => {
                let mut k = [0u8; TICKET_KEYS_LEN];
                SystemRandom::new().fill(&mut k).map_err(|_| "no randomness for ticket keys".to_string())?;
                k
            }
        };
        let keys = Keys::new(raw).ok_or("unusable ticket keys")?;
        let mut scope = [0u8; 32];
        scope.copy_from_slice(digest::digest(&digest::SHA256, session_id_context).as_ref());
        Ok(NodeTicketer {
            keys: RwLock::new(KeyRing { current: keys, retired: Vec::new() }),
            lifetime,
            scope,
        })
    }

    fn aad(&self, name: &[u8]) -> [u8; 48] {
        let mut aad = [0u8; 48];
        aad[..16].copy_from_slice(name);
        aad[16..].copy_from_slice(&self.scope);
        aad
    }

    fn seal(&self, plain: &[u8], issued: u64) -> Option<Vec<u8>> {
        let ring = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let keys = &ring.current;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(16 + NONCE_LEN + 8 + plain.len() + 16);
        out.extend_from_slice(&keys.raw[..16]);
        out.extend_from_slice(&nonce);
        let mut body = Vec::with_capacity(8 + plain.len() + 16);
        body.extend_from_slice(&issued.to_be_bytes());
        body.extend_from_slice(plain);
        let aad = self.aad(&keys.raw[..16]);
        keys.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&aad), &mut body)
            .ok()?;
        out.extend_from_slice(&body);
        Some(out)
    }

    fn open(&self, cipher: &[u8], now: u64) -> Option<Vec<u8>> {
        let ring = self.keys.read().unwrap_or_else(|e| e.into_inner());
        // A retired key opens only tickets it made: none is older than the lifetime once
        // that much time has passed since it was retired.
        let lifetime = u64::from(self.lifetime);
        std::iter::once(&ring.current)
            .chain(ring.retired.iter().filter(|(_, retired)| now < retired + lifetime).map(|(k, _)| k))
            .find_map(|keys| self.open_with(keys, cipher, now))
    }

    fn open_with(&self, keys: &Keys, cipher: &[u8], now: u64) -> Option<Vec<u8>> {
        if cipher.len() < 16 + NONCE_LEN + 8 + 16 || cipher[..16] != keys.raw[..16] {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&cipher[16..16 + NONCE_LEN]).ok()?;
        let mut body = cipher[16 + NONCE_LEN..].to_vec();
        let aad = self.aad(&keys.raw[..16]);
        let plain = keys.aead.open_in_place(nonce, Aad::from(&aad), &mut body).ok()?;
        let (issued, state) = plain.split_at(8);
        let issued = u64::from_be_bytes(issued.try_into().ok()?);
        // sessionTimeout ends resumption, not only the lifetime the ticket advertises.
        (now >= issued && now - issued < u64::from(self.lifetime)).then(|| state.to_vec())
    }

    /// `server.getTicketKeys()`.
    pub fn get(&self) -> [u8; TICKET_KEYS_LEN] {
        *self.keys.read().unwrap_or_else(|e| e.into_inner()).current.raw
    }

    /// `server.setTicketKeys(keys)`: tickets made under the old keys no longer resume.
    pub fn set(&self, raw: [u8; TICKET_KEYS_LEN]) -> Result<(), String> {
        let keys = Keys::new(raw).ok_or("unusable ticket keys")?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) =
            KeyRing { current: keys, retired: Vec::new() };
        Ok(())
    }

    /// Key rotation for a fleet: new tickets are made under `raw`, and tickets made under
    /// the keys it replaces still open until `sessionTimeout` has passed (every server of
    /// the fleet can rotate at its own moment without refusing a live ticket).
    pub fn rotate(&self, raw: [u8; TICKET_KEYS_LEN]) -> Result<(), String> {
        self.rotate_at(raw, unix_now())
    }

    fn rotate_at(&self, raw: [u8; TICKET_KEYS_LEN], now: u64) -> Result<(), String> {
        let keys = Keys::new(raw).ok_or("unusable ticket keys")?;
        let mut ring = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let old = std::mem::replace(&mut ring.current, keys);
        let lifetime = u64::from(self.lifetime);
        ring.retired.retain(|(_, retired)| now < retired + lifetime);
        ring.retired.push((old, now));
        Ok(())
    }
}

impl ProducesTickets for NodeTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.lifetime
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.seal(plain, unix_now())
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.open(cipher, unix_now())
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_keys_open_each_others_tickets() {
        let keys = [7u8; TICKET_KEYS_LEN];
        let (a, b) = (
            NodeTicketer::new(Some(keys), 300, b"").unwrap(),
            NodeTicketer::new(Some(keys), 300, b"").unwrap(),
        );
        let t = a.encrypt(b"session state").unwrap();
        assert_eq!(b.decrypt(&t).unwrap(), b"session state");
        let other = NodeTicketer::new(None, 300, b"").unwrap();
        assert!(other.decrypt(&t).is_none());
        b.set([9u8; TICKET_KEYS_LEN]).unwrap();
        assert!(b.decrypt(&t).is_none());
        assert_eq!(b.get(), [9u8; TICKET_KEYS_LEN]);
        let mut bad = t.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(a.decrypt(&bad).is_none());
    }

    #[test]
    fn rotation_keeps_old_tickets_for_their_lifetime() {
        let a = NodeTicketer::new(Some([1u8; TICKET_KEYS_LEN]), 300, b"").unwrap();
        let old = a.seal(b"old", 1_000).unwrap();
        a.rotate_at([2u8; TICKET_KEYS_LEN], 1_100).unwrap();
        assert_eq!(a.get(), [2u8; TICKET_KEYS_LEN]);
        assert_eq!(a.open(&old, 1_200).unwrap(), b"old", "a retired key still opens its tickets");
        let new = a.seal(b"new", 1_200).unwrap();
        assert_eq!(&new[..16], &[2u8; 16], "new tickets under the new key");
        assert!(a.open(&old, 1_300).is_none(), "past sessionTimeout");
        a.rotate_at([3u8; TICKET_KEYS_LEN], 1_500).unwrap();
        a.rotate_at([4u8; TICKET_KEYS_LEN], 1_900).unwrap();
        assert!(a.keys.read().unwrap().retired.len() <= 2, "retired keys are dropped after the lifetime");
        a.set([5u8; TICKET_KEYS_LEN]).unwrap();
        assert!(a.open(&new, 1_901).is_none(), "setTicketKeys keeps Node's meaning: old tickets end");
    }

    #[test]
    fn session_timeout_and_session_id_context_end_resumption() {
        let keys = [7u8; TICKET_KEYS_LEN];
        let a = NodeTicketer::new(Some(keys), 300, b"app one").unwrap();
        let t = a.seal(b"state", 1_000).unwrap();
        assert_eq!(a.open(&t, 1_299).unwrap(), b"state");
        assert!(a.open(&t, 1_300).is_none(), "past sessionTimeout");
        assert!(a.open(&t, 999).is_none(), "issued in the future");
        let other_context = NodeTicketer::new(Some(keys), 300, b"app two").unwrap();
        assert!(other_context.open(&t, 1_001).is_none(), "another sessionIdContext");
        let same = NodeTicketer::new(Some(keys), 300, b"app one").unwrap();
        assert_eq!(same.open(&t, 1_001).unwrap(), b"state");
    }
}
