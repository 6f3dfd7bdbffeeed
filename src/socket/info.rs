//! What a finished handshake established; fixed once set, so C may keep the pointers.

use crate::error::cstring;
use crate::tls::verify::{NodeCertError, NodeClientVerifier, NodeServerVerifier};
use rustls::pki_types::{CertificateDer, ServerName};
use std::ffi::{CStr, CString};
use std::net::SocketAddr;

/// A handle that holds a handshake's facts (sockets and pairs): one getter implementation
/// serves both in the C layer.
pub trait HasSecureInfo {
    /// The facts while the connection is open; None before the handshake and after close
    /// (Node's `getProtocol()`, `getCipher()`, `getPeerCertificate()` answer null then).
    fn info(&self) -> Option<&SecureInfo>;
    /// The facts that stay after close, as Node's properties do (`authorized`,
    /// `authorizationError`, `alpnProtocol`, `servername`).
    fn properties(&self) -> Option<&SecureInfo>;
    /// `servername`: the SNI name of the handshake, or the one a client asked for in a
    /// handshake that failed.
    fn servername(&self) -> Option<&CStr>;
}

/// Who judges the peer once the handshake is done.
pub enum Judge<'a> {
    /// A client: its verifier, the name checked against the certificate, the SNI sent.
    Client {
        /// Chain and host-name checks (again, when `rejectUnauthorized` is false).
        verifier: &'a NodeServerVerifier,
        /// The name checked against the certificate.
        server_name: &'a ServerName<'static>,
        /// The SNI sent, if any.
        sni: Option<&'a str>,
    },
    /// A server: its client-certificate verifier, when `requestCert` is set.
    Server {
        /// Client-certificate checks.
        client_verifier: Option<&'a NodeClientVerifier>,
    },
}

/// The finished handshake's facts, the peer judged: `authorized`, `authorizationError`,
/// the chain `getPeerCertificate(true)` links up to its anchor, the server name.
pub fn judge(tls: &rustls::Connection, judge: Judge<'_>) -> SecureInfo {
    let chain = tls.peer_certificates().unwrap_or(&[]);
    type Facts = (Option<Result<(), NodeCertError>>, Option<String>, Vec<CertificateDer<'static>>);
    let (verdict, servername, shown): Facts = match (judge, tls) {
        (Judge::Client { verifier, server_name, sni }, _) => {
            // A resumed session was judged when it was made; the program's identity check
            // does not run again (Node does not call checkServerIdentity on resumption).
            let resumed = matches!(tls.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
            let v = if verifier.rejects() { Ok(()) } else { verifier.check(chain, server_name, resumed) };
            (Some(v), sni.map(str::to_owned), verifier.chain_for_display(chain))
        }
        (Judge::Server { client_verifier }, rustls::Connection::Server(s)) => {
            let v = client_verifier.map(|cv| cv.check(chain));
            let shown = client_verifier.map_or_else(|| chain.to_vec(), |cv| cv.chain_for_display(chain));
            (v, s.server_name().map(str::to_owned), shown)
        }
        (Judge::Server { .. }, _) => (None, None, chain.to_vec()),
    };
    from_connection(tls, servername.as_deref(), verdict, shown)
}

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
    /// `getSharedSigalgs()`, in Node's names.
    pub shared_sigalgs: crate::tls::sigalgs::Shared,
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
    verdict: Option<Result<(), NodeCertError>>,
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
        shared_sigalgs: Default::default(),
    }
}
