//! A nodetls server fed arbitrary bytes as a client would send them, over a real loopback
//! TCP connection, so that they go through the reactor and the connection's whole state
//! machine (hello phase, handshake, reading, echoing, close), not rustls alone.
//!
//! Input: a mode byte, then the bytes. Mode even: the bytes are the client's first flight
//! and all that follows (seeded with ClientHellos of Node, openssl, curl, gnutls-cli and Go,
//! captured by scripts/fuzz-seeds.sh). Mode odd: a real TLS 1.3 handshake first (rustls),
//! then the bytes split in two: application data through the session, then raw bytes on the
//! socket, as a peer that turns to garbage after the handshake. Either way the client then
//! half-closes and reads until the server closes; the server must end every connection.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodetls_fuzz::server::{echo_server, wait_idle};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

fn client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            use rustls_pki_types::pem::PemObject;
            let ca = nodetls_fuzz::cert_file("ca-cert.pem");
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_pki_types::CertificateDer::pem_slice_iter(&ca) {
                roots.add(c.expect("the test CA")).expect("the test CA");
            }
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13])
                .expect("TLS 1.3")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// Completes a handshake over `tcp`, then writes `plain` through the session.
fn handshake_then_send(tcp: &mut TcpStream, plain: &[u8]) -> Option<()> {
    let name = rustls_pki_types::ServerName::try_from("localhost").ok()?;
    let mut conn = rustls::ClientConnection::new(client_config(), name).ok()?;
    while conn.is_handshaking() {
        conn.complete_io(tcp).ok()?;
    }
    conn.writer().write_all(plain).ok()?;
    while conn.wants_write() {
        conn.write_tls(tcp).ok()?;
    }
    Some(())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let server = echo_server();
    let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", server.port)) else { return };
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = tcp.set_write_timeout(Some(Duration::from_millis(500)));
    let raw = if mode & 1 == 1 {
        let split = bytes.len() * usize::from(mode >> 1) / 127;
        let (plain, raw) = bytes.split_at(split.min(bytes.len()));
        if handshake_then_send(&mut tcp, plain).is_none() {
            return;
        }
        raw
    } else {
        bytes
    };
    let _ = tcp.write_all(raw);
    let _ = tcp.shutdown(Shutdown::Write);
    let mut sink = [0u8; 16384];
    for _ in 0..64 {
        match tcp.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    drop(tcp);
    assert!(wait_idle(server.srv, Duration::from_secs(10)), "the server kept a connection 10 s after its client left");
});
