//! What a finished handshake established; fixed once set, so C may keep the pointers.

use crate::error::cstring;
use rustls::pki_types::CertificateDer;
use std::ffi::{CStr, CString};
use std::net::SocketAddr;

/// The facts behind `getProtocol`, `getCipher`, `alpnProtocol`, `authorized`, ...
#[derive(Debug)]
pub struct SecureInfo {
    /// `"TLSv1.3"` or `"TLSv1.2"`.
    pub protocol: &'static CStr,
    /// OpenSSL's name of the suite.
    pub cipher_name: CString,
    /// IANA's name of the suite.
    pub standard_name: CString,
    /// `getCipher().version`: the protocol that defined the suite.
    pub cipher_version: &'static CStr,
    /// The agreed ALPN protocol, if any.
    pub alpn: Option<CString>,
    /// SNI: the name the client asked for (server) or sent (client).
    pub servername: Option<CString>,
    /// Whether the peer's certificate verified.
    pub authorized: bool,
    /// Node's code for why not.
    pub authorization_error: Option<CString>,
    /// The peer's chain, leaf first, linked through `ca` up to its anchor as OpenSSL's
    /// verified chain is (what `getPeerCertificate(true)` walks).
    pub peer_chain: Vec<CertificateDer<'static>>,
    /// Whether the session was resumed.
    pub session_reused: bool,
    /// The key-exchange group (`getEphemeralKeyInfo().name`), e.g. "X25519".
    pub kx_group: Option<CString>,
    /// Its size in bits (`getEphemeralKeyInfo().size`).
    pub kx_bits: u32,
    /// The certificate we presented (`getCertificate()`), leaf only.
    pub own_cert: Option<CertificateDer<'static>>,
    /// `exportKeyingMaterial`'s secrets.
    pub exporter: Option<crate::tls::handshake::exporter::Exporter>,
}

/// Local and remote ends of the TCP connection.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    /// Our end.
    pub local: SocketAddr,
    /// The peer's end.
    pub remote: SocketAddr,
}

fn protocol_name(v: rustls::ProtocolVersion) -> &'static CStr {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => c"TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => c"TLSv1.2",
        _ => c"unknown",
    }
}

/// Reads the handshake's facts off a connection.
pub fn from_connection(
    tls: &rustls::Connection,
    servername: Option<&str>,
    verdict: Option<Result<(), crate::tls::verify::NodeCertError>>,
    peer_chain: Vec<CertificateDer<'static>>,
) -> SecureInfo {
    let is_server = matches!(tls, rustls::Connection::Server(_));
    let version = tls.protocol_version().unwrap_or(rustls::ProtocolVersion::Unknown(0));
    let suite = tls.negotiated_cipher_suite();
    let (cipher_name, standard_name) = match suite {
        Some(s) => (crate::tls::ciphers::openssl_name(s), crate::tls::ciphers::standard_name(s)),
        None => ("", ""),
    };
    let cipher_version = match suite.map(|s| s.version().version) {
        Some(rustls::ProtocolVersion::TLSv1_3) => c"TLSv1.3",
        _ => c"TLSv1.2",
    };
    // None: nothing was checked (a server that did not request a certificate).
    let (authorized, authorization_error) = match verdict {
        Some(Ok(())) => (true, None),
        Some(Err(e)) => (false, Some(cstring(e.authorization_error()))),
        None => (false, None),
    };
    SecureInfo {
        protocol: protocol_name(version),
        cipher_name: cstring(cipher_name),
        standard_name: cstring(standard_name),
        cipher_version,
        alpn: tls.alpn_protocol().map(|p| cstring(&String::from_utf8_lossy(p))),
        servername: servername.map(cstring),
        authorized,
        authorization_error,
        peer_chain,
        session_reused: matches!(tls.handshake_kind(), Some(rustls::HandshakeKind::Resumed)),
        // Node's getEphemeralKeyInfo() is null on the server side.
        kx_group: (!is_server)
            .then(|| tls.negotiated_key_exchange_group())
            .flatten()
            .map(|g| cstring(crate::tls::curves::group_name(g.name()))),
        kx_bits: tls
            .negotiated_key_exchange_group()
            .and_then(|g| crate::tls::curves::group_bits(g.name()))
            .unwrap_or(0),
        own_cert: None,
        exporter: None,
    }
}
