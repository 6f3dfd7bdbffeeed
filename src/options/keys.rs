//! The `NTLS_OPT_*` keys: one per Node option, its name in upper snake case.
//!
//! The numbers are ABI: a key keeps its number forever and new keys are appended.

use std::ffi::c_int;

/// `key`: PEM private key(s); `_add_bytes` once per key (bytes).
pub const NTLS_OPT_KEY: c_int = 1;
/// `cert`: PEM certificate chain(s), leaf first; `_add_bytes` once per chain (bytes).
pub const NTLS_OPT_CERT: c_int = 2;
/// `ca`: PEM CA certificates replacing the default Mozilla list (bytes, several).
pub const NTLS_OPT_CA: c_int = 3;
/// `passphrase`: for encrypted keys and PFX (string).
pub const NTLS_OPT_PASSPHRASE: c_int = 4;
/// `host`: the host to connect to, default "localhost" (string).
pub const NTLS_OPT_HOST: c_int = 5;
/// `port`: the port to connect to (int).
pub const NTLS_OPT_PORT: c_int = 6;
/// `servername`: SNI and the name checked against the certificate (string).
pub const NTLS_OPT_SERVERNAME: c_int = 7;
/// `rejectUnauthorized`: refuse peers whose certificate does not verify, default true (bool).
pub const NTLS_OPT_REJECT_UNAUTHORIZED: c_int = 8;
/// `requestCert`: a server asks clients for a certificate (bool).
pub const NTLS_OPT_REQUEST_CERT: c_int = 9;
/// `ALPNProtocols`: `_add_string` per protocol, or `_set_string` with a comma list.
pub const NTLS_OPT_ALPN_PROTOCOLS: c_int = 10;
/// `handshakeTimeout`: milliseconds a server waits for a handshake, default 120000 (int).
pub const NTLS_OPT_HANDSHAKE_TIMEOUT: c_int = 11;
/// `secureContext`: a context made by `ntls_context_new` (context).
pub const NTLS_OPT_SECURE_CONTEXT: c_int = 12;
/// `pfx`: PKCS#12 key and chain (bytes, several).
pub const NTLS_OPT_PFX: c_int = 13;
/// `crl`: PEM certificate revocation lists (bytes, several).
pub const NTLS_OPT_CRL: c_int = 14;
/// `ciphers`: OpenSSL cipher-list string (string).
pub const NTLS_OPT_CIPHERS: c_int = 15;
/// `honorCipherOrder`: the server's cipher order wins (bool).
pub const NTLS_OPT_HONOR_CIPHER_ORDER: c_int = 16;
/// `ecdhCurve`: "auto" or a colon list of groups (string).
pub const NTLS_OPT_ECDH_CURVE: c_int = 17;
/// `dhparam`: PEM DH parameters; checked, no effect (every suite is ECDHE) (bytes).
pub const NTLS_OPT_DHPARAM: c_int = 18;
/// `minDHSize`: checked, no effect (int).
pub const NTLS_OPT_MIN_DH_SIZE: c_int = 19;
/// `secureProtocol`: "TLS_method", "TLSv1_2_method", ... (string).
pub const NTLS_OPT_SECURE_PROTOCOL: c_int = 20;
/// `minVersion`: "TLSv1.2" or "TLSv1.3" (string).
pub const NTLS_OPT_MIN_VERSION: c_int = 21;
/// `maxVersion`: "TLSv1.2" or "TLSv1.3" (string).
pub const NTLS_OPT_MAX_VERSION: c_int = 22;
/// `secureOptions`: OpenSSL option bits; accepted, no effect (int).
pub const NTLS_OPT_SECURE_OPTIONS: c_int = 23;
/// `sessionIdContext`: accepted (string).
pub const NTLS_OPT_SESSION_ID_CONTEXT: c_int = 24;
/// `ticketKeys`: 48 bytes of session-ticket keys (bytes).
pub const NTLS_OPT_TICKET_KEYS: c_int = 25;
/// `sessionTimeout`: seconds a session stays resumable (int).
pub const NTLS_OPT_SESSION_TIMEOUT: c_int = 26;
/// `NPNProtocols`: not supported; use ALPNProtocols.
pub const NTLS_OPT_NPN_PROTOCOLS: c_int = 27;
/// `maxConnections`: a server closes connections over this count (int).
pub const NTLS_OPT_MAX_CONNECTIONS: c_int = 28;
/// `allowHalfOpen`: keep our side open after the peer's end, default false (bool).
pub const NTLS_OPT_ALLOW_HALF_OPEN: c_int = 29;
/// `highWaterMark`: bytes buffered before `write` returns 0, default 16384 (int).
pub const NTLS_OPT_HIGH_WATER_MARK: c_int = 30;
/// `noDelay`: disable Nagle's algorithm, default true (bool).
pub const NTLS_OPT_NO_DELAY: c_int = 31;
/// `timeout`: idle milliseconds before the `timeout` event, 0 = never (int).
pub const NTLS_OPT_TIMEOUT: c_int = 32;
/// `isServer`: `ntls_socket_wrap_fd` plays the server side (bool).
pub const NTLS_OPT_IS_SERVER: c_int = 33;
/// `reusePort`: listen with SO_REUSEPORT so several loops (or processes) share a port (bool).
pub const NTLS_OPT_REUSE_PORT: c_int = 34;
/// `session`: a session from `ntls_socket_get_session` or the `session` event to resume
/// (`ntls_options_set_session`).
pub const NTLS_OPT_SESSION: c_int = 40;
/// `requestOCSP`: a client asks for the server's stapled OCSP response (bool).
pub const NTLS_OPT_REQUEST_OCSP: c_int = 41;
/// `ocspResponse`: a DER OCSP response a server staples for its certificate, one per `cert`
/// in order (bytes, several).
pub const NTLS_OPT_OCSP_RESPONSE: c_int = 42;
/// `sigalgs`: the signature algorithms a context signs with and accepts, OpenSSL's colon
/// list (`ECDSA+SHA256:rsa_pss_rsae_sha256`) (string).
pub const NTLS_OPT_SIGALGS: c_int = 43;
/// `path`: connect to this Unix-domain socket instead of `host`/`port` (string).
pub const NTLS_OPT_PATH: c_int = 60;
/// `family`: the IP family to resolve `host` to: 0 (either, the default), 4 or 6 (int).
pub const NTLS_OPT_FAMILY: c_int = 61;
/// `localAddress`: the local IP address to bind before connecting (string).
pub const NTLS_OPT_LOCAL_ADDRESS: c_int = 62;
/// `localPort`: the local port to bind before connecting (int).
pub const NTLS_OPT_LOCAL_PORT: c_int = 63;
/// `keepAlive`: SO_KEEPALIVE on the connection, as `setKeepAlive(true)` (bool).
pub const NTLS_OPT_KEEP_ALIVE: c_int = 64;
/// `keepAliveInitialDelay`: milliseconds idle before the first probe, with `keepAlive` (int).
pub const NTLS_OPT_KEEP_ALIVE_INITIAL_DELAY: c_int = 65;
