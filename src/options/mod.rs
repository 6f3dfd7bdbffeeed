//! The options store behind `ntls_options`: Node option names, typed values, words for
//! the last error. Shared by every layer (TLS, sockets, servers), so it belongs to none.

pub mod keys;

use crate::last_error::LastError;
use crate::tls::context::SecureContext;
use crate::tls::sessions::client::ClientSession;
use keys::*;
use std::collections::BTreeMap;
use std::ffi::c_int;
use std::sync::Arc;

/// Node's default `handshakeTimeout`, for servers and server-side wrapped sockets.
pub(crate) const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 120_000;

/// The type an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `_set_bool`.
    Bool,
    /// `_set_int`.
    Int,
    /// `_set_string`.
    Str,
    /// `_set_bytes` / `_add_bytes`.
    Bytes,
    /// A list of strings or byte strings (`_add_string`, `_add_bytes`, or a comma list).
    List,
    /// `_set_context`.
    Context,
    /// `ntls_options_set_session`.
    Session,
}

/// One row of the option table.
pub struct OptionDef {
    /// `NTLS_OPT_*`.
    pub key: c_int,
    /// Node's spelling.
    pub name: &'static str,
    /// The value's type.
    pub kind: Kind,
    /// Why nodetls refuses the option, if it does (DESIGN.md, "Where rustls differs").
    pub unsupported: Option<&'static str>,
}

const fn def(key: c_int, name: &'static str, kind: Kind) -> OptionDef {
    OptionDef { key, name, kind, unsupported: None }
}

/// Every option nodetls knows, in key order.
pub const OPTIONS: &[OptionDef] = &[
    def(NTLS_OPT_KEY, "key", Kind::Bytes),
    def(NTLS_OPT_CERT, "cert", Kind::Bytes),
    def(NTLS_OPT_CA, "ca", Kind::Bytes),
    def(NTLS_OPT_PASSPHRASE, "passphrase", Kind::Str),
    def(NTLS_OPT_HOST, "host", Kind::Str),
    def(NTLS_OPT_PORT, "port", Kind::Int),
    def(NTLS_OPT_SERVERNAME, "servername", Kind::Str),
    def(NTLS_OPT_REJECT_UNAUTHORIZED, "rejectUnauthorized", Kind::Bool),
    def(NTLS_OPT_REQUEST_CERT, "requestCert", Kind::Bool),
    def(NTLS_OPT_ALPN_PROTOCOLS, "ALPNProtocols", Kind::List),
    def(NTLS_OPT_HANDSHAKE_TIMEOUT, "handshakeTimeout", Kind::Int),
    def(NTLS_OPT_SECURE_CONTEXT, "secureContext", Kind::Context),
    def(NTLS_OPT_PFX, "pfx", Kind::Bytes),
    def(NTLS_OPT_CRL, "crl", Kind::Bytes),
    def(NTLS_OPT_CIPHERS, "ciphers", Kind::Str),
    def(NTLS_OPT_HONOR_CIPHER_ORDER, "honorCipherOrder", Kind::Bool),
    def(NTLS_OPT_ECDH_CURVE, "ecdhCurve", Kind::Str),
    def(NTLS_OPT_DHPARAM, "dhparam", Kind::Bytes),
    def(NTLS_OPT_MIN_DH_SIZE, "minDHSize", Kind::Int),
    def(NTLS_OPT_SECURE_PROTOCOL, "secureProtocol", Kind::Str),
    def(NTLS_OPT_MIN_VERSION, "minVersion", Kind::Str),
    def(NTLS_OPT_MAX_VERSION, "maxVersion", Kind::Str),
    def(NTLS_OPT_SECURE_OPTIONS, "secureOptions", Kind::Int),
    def(NTLS_OPT_SESSION_ID_CONTEXT, "sessionIdContext", Kind::Str),
    def(NTLS_OPT_TICKET_KEYS, "ticketKeys", Kind::Bytes),
    def(NTLS_OPT_SESSION_TIMEOUT, "sessionTimeout", Kind::Int),
    OptionDef {
        key: NTLS_OPT_NPN_PROTOCOLS,
        name: "NPNProtocols",
        kind: Kind::List,
        unsupported: Some("NPN is not supported; use ALPNProtocols"),
    },
    def(NTLS_OPT_MAX_CONNECTIONS, "maxConnections", Kind::Int),
    def(NTLS_OPT_ALLOW_HALF_OPEN, "allowHalfOpen", Kind::Bool),
    def(NTLS_OPT_HIGH_WATER_MARK, "highWaterMark", Kind::Int),
    def(NTLS_OPT_NO_DELAY, "noDelay", Kind::Bool),
    def(NTLS_OPT_TIMEOUT, "timeout", Kind::Int),
    def(NTLS_OPT_IS_SERVER, "isServer", Kind::Bool),
    def(NTLS_OPT_REUSE_PORT, "reusePort", Kind::Bool),
    def(NTLS_OPT_SESSION, "session", Kind::Session),
    def(NTLS_OPT_REQUEST_OCSP, "requestOCSP", Kind::Bool),
    def(NTLS_OPT_OCSP_RESPONSE, "ocspResponse", Kind::Bytes),
    def(NTLS_OPT_SIGALGS, "sigalgs", Kind::Str),
    def(NTLS_OPT_PATH, "path", Kind::Str),
    def(NTLS_OPT_FAMILY, "family", Kind::Int),
    def(NTLS_OPT_LOCAL_ADDRESS, "localAddress", Kind::Str),
    def(NTLS_OPT_LOCAL_PORT, "localPort", Kind::Int),
    def(NTLS_OPT_KEEP_ALIVE, "keepAlive", Kind::Bool),
    def(NTLS_OPT_KEEP_ALIVE_INITIAL_DELAY, "keepAliveInitialDelay", Kind::Int),
];

/// The row of a key, if the key exists.
pub fn lookup(key: c_int) -> Option<&'static OptionDef> {
    OPTIONS.iter().find(|d| d.key == key)
}

/// The key of Node's option name (`"rejectUnauthorized"`).
pub fn key_by_name(name: &str) -> Option<c_int> {
    OPTIONS.iter().find(|d| d.name == name).map(|d| d.key)
}

/// A stored option value.
#[derive(Clone)]
pub enum Value {
    /// A bool.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// One or more byte strings (PEM blocks, ALPN names, ...).
    Bytes(Vec<Vec<u8>>),
    /// A secure context.
    Context(Arc<SecureContext>),
    /// A client session to resume.
    Session(Arc<ClientSession>),
}

/// A failed option call: the status and the words left on the options object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// `NTLS_EINVAL`, `NTLS_ENOTSUP`, ...
    pub status: c_int,
    /// What went wrong, for `ntls_options_last_error`.
    pub message: String,
}

impl OptionError {
    /// An `NTLS_EINVAL` error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { status: crate::error::NTLS_EINVAL, message: message.into() }
    }
}

/// `ntls_options`: Node options by key. Copied when used, so it can be reused.
#[derive(Default)]
pub struct Options {
    values: BTreeMap<c_int, Value>,
    key_passphrases: Vec<Option<String>>,
    check_server_identity: Option<crate::tls::verify::IdentityCheck>,
    last_error: LastError,
}

impl Options {
    /// An empty set: every option at Node's default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a value after checking the key and its type. `append` adds to a list.
    pub fn set(&mut self, key: c_int, value: Value, append: bool) -> Result<(), OptionError> {
        let def = lookup(key).ok_or_else(|| OptionError::invalid(format!("unknown option key {key}")))?;
        if let Some(why) = def.unsupported {
            return Err(OptionError { status: crate::error::NTLS_ENOTSUP, message: why.into() });
        }
        let fits = matches!(
            (def.kind, &value),
            (Kind::Bool, Value::Bool(_))
                | (Kind::Int, Value::Int(_))
                | (Kind::Str, Value::Str(_))
                | (Kind::Bytes | Kind::List, Value::Bytes(_))
                | (Kind::List, Value::Str(_))
                | (Kind::Context, Value::Context(_))
                | (Kind::Session, Value::Session(_))
        );
        if !fits {
            return Err(OptionError::invalid(format!(
                "option '{}' takes {}, not {}",
                def.name,
                kind_words(def.kind),
                value_words(&value)
            )));
        }
        let value = match (def.kind, value) {
            (Kind::List, Value::Str(s)) => Value::Bytes(split_list(&s)),
            (_, v) => v,
        };
        match (append, self.values.get_mut(&key), value) {
            (true, Some(Value::Bytes(list)), Value::Bytes(more)) => list.extend(more),
            (_, _, value) => {
                if let Some(mut old) = self.values.insert(key, value) {
                    old.wipe();
                }
            }
        }
        Ok(())
    }

    /// Appends a key with its own passphrase (Node's `{pem, passphrase}` in `key`).
    pub fn add_key(&mut self, pem: Vec<u8>, passphrase: Option<String>) -> Result<(), OptionError> {
        let index = self.bytes(NTLS_OPT_KEY).len();
        self.set(NTLS_OPT_KEY, Value::Bytes(vec![pem]), true)?;
        self.key_passphrases.resize(index, None);
        self.key_passphrases.push(passphrase);
        Ok(())
    }

    /// `checkServerIdentity`: the program's host-name check (None: Node's own).
    pub fn set_check_server_identity(&mut self, check: Option<crate::tls::verify::IdentityCheck>) {
        self.check_server_identity = check;
    }

    /// The program's `checkServerIdentity`, if it set one.
    pub fn check_server_identity(&self) -> Option<&crate::tls::verify::IdentityCheck> {
        self.check_server_identity.as_ref()
    }

    /// Each key's own passphrase, by position in `key` (None: use `passphrase`).
    pub fn key_passphrases(&self) -> &[Option<String>] {
        &self.key_passphrases
    }

    /// Records the words of a failure for `ntls_options_last_error`.
    pub fn set_last_error(&self, message: &str) {
        self.last_error.set(message);
    }

    /// The words of the last failure, "" when none; valid as long as these options.
    pub fn last_error_ptr(&self) -> *const std::ffi::c_char {
        self.last_error.as_ptr()
    }

    /// The last failure's words as Rust text.
    pub fn last_error(&self) -> String {
        self.last_error.text()
    }

    /// The raw value of a key.
    pub fn get(&self, key: c_int) -> Option<&Value> {
        self.values.get(&key)
    }

    /// A bool option, or its default.
    pub fn bool_or(&self, key: c_int, default: bool) -> bool {
        match self.values.get(&key) {
            Some(Value::Bool(b)) => *b,
            _ => default,
        }
    }

    /// An int option, if set.
    pub fn int(&self, key: c_int) -> Option<i64> {
        match self.values.get(&key) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// A string option, if set.
    pub fn str(&self, key: c_int) -> Option<&str> {
        match self.values.get(&key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A bytes or list option, empty when unset.
    pub fn bytes(&self, key: c_int) -> &[Vec<u8>] {
        match self.values.get(&key) {
            Some(Value::Bytes(b)) => b,
            _ => &[],
        }
    }

    /// The `secureContext` option, if set.
    pub fn context(&self) -> Option<&Arc<SecureContext>> {
        match self.values.get(&NTLS_OPT_SECURE_CONTEXT) {
            Some(Value::Context(c)) => Some(c),
            _ => None,
        }
    }

    /// The `session` option, if set.
    pub fn session(&self) -> Option<&Arc<ClientSession>> {
        match self.values.get(&NTLS_OPT_SESSION) {
            Some(Value::Session(s)) => Some(s),
            _ => None,
        }
    }

    /// A non-negative int option, checked; `Ok(None)` when unset.
    pub fn non_negative(&self, key: c_int) -> Result<Option<u64>, OptionError> {
        match self.int(key) {
            None => Ok(None),
            Some(v) if v >= 0 => Ok(Some(v as u64)),
            Some(v) => Err(OptionError::invalid(format!(
                "option '{}' must be >= 0, got {v}",
                lookup(key).map_or("?", |d| d.name)
            ))),
        }
    }
}

impl Value {
    /// Overwrites the bytes of strings and byte strings with zeros: options carry keys,
    /// passphrases and ticket keys, and the heap they leave must not keep them.
    fn wipe(&mut self) {
        use zeroize::Zeroize;
        match self {
            Value::Str(s) => s.zeroize(),
            Value::Bytes(list) => list.iter_mut().for_each(|b| b.zeroize()),
            _ => {}
        }
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.values.values_mut().for_each(Value::wipe);
        self.key_passphrases.iter_mut().flatten().for_each(|p| p.zeroize());
    }
}

impl Clone for Options {
    fn clone(&self) -> Self {
        Self {
            values: self.values.clone(),
            key_passphrases: self.key_passphrases.clone(),
            check_server_identity: self.check_server_identity.clone(),
            last_error: LastError::default(),
        }
    }
}

fn split_list(s: &str) -> Vec<Vec<u8>> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| p.as_bytes().to_vec()).collect()
}

fn kind_words(k: Kind) -> &'static str {
    match k {
        Kind::Bool => "a bool",
        Kind::Int => "an int",
        Kind::Str => "a string",
        Kind::Bytes => "bytes",
        Kind::List => "a list (strings or bytes)",
        Kind::Context => "a secure context",
        Kind::Session => "a session",
    }
}

fn value_words(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Str(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::Context(_) => "a secure context",
        Value::Session(_) => "a session",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_keys() {
        assert_eq!(key_by_name("rejectUnauthorized"), Some(NTLS_OPT_REJECT_UNAUTHORIZED));
        assert_eq!(key_by_name("ALPNProtocols"), Some(NTLS_OPT_ALPN_PROTOCOLS));
        assert_eq!(key_by_name("minDHSize"), Some(NTLS_OPT_MIN_DH_SIZE));
        assert_eq!(key_by_name("rejectUnauthorised"), None);
        // Dense within each helper's range (BRIEF: 1-39 shared, then ranges of ten).
        for w in OPTIONS.windows(2) {
            assert!(w[0].key < w[1].key, "keys are ordered");
        }
    }

    #[test]
    fn types_are_checked() {
        let mut o = Options::new();
        let e = o.set(NTLS_OPT_HOST, Value::Bool(true), false).unwrap_err();
        assert_eq!(e.message, "option 'host' takes a string, not a bool");
        assert!(o.set(9999, Value::Int(1), false).is_err());
        let e = o.set(NTLS_OPT_NPN_PROTOCOLS, Value::Str("h2".into()), false).unwrap_err();
        assert_eq!(e.status, crate::error::NTLS_ENOTSUP);
    }

    #[test]
    fn lists_accept_comma_strings_and_append() {
        let mut o = Options::new();
        o.set(NTLS_OPT_ALPN_PROTOCOLS, Value::Str("h2, http/1.1".into()), false).unwrap();
        o.set(NTLS_OPT_ALPN_PROTOCOLS, Value::Bytes(vec![b"x".to_vec()]), true).unwrap();
        assert_eq!(o.bytes(NTLS_OPT_ALPN_PROTOCOLS), &[b"h2".to_vec(), b"http/1.1".to_vec(), b"x".to_vec()]);
    }
}
