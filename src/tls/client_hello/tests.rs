use super::*;
use crate::options::keys::*;
use crate::options::{Options, Value};
use crate::tls::keys::tests::read;
use rustls::pki_types::ServerName;
use std::sync::Arc;

/// A hand-made ClientHello with every field the parser reads.
fn synthetic() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([7u8; 32]); // random
    body.push(4);
    body.extend([1, 2, 3, 4]); // session ID
    body.extend([0, 2, 0x13, 0x01]); // one suite
    body.extend([1, 0]); // null compression
    let mut exts = Vec::new();
    let mut ext = |kind: u16, data: &[u8]| {
        exts.extend(kind.to_be_bytes());
        exts.extend((data.len() as u16).to_be_bytes());
        exts.extend(data);
    };
    ext(0x0005, &[1, 0, 0, 0, 0]);
    ext(0x0023, b"tick");
    ext(0x002b, &[4, 3, 4, 3, 3]);
    ext(0x0029, &[0, 15, 0, 2, b'a', b'b', 0, 0, 0, 9, 0, 1, b'z', 0, 0, 0, 0, 0, 0]); // binders follow
    body.extend((exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut msg = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
    msg.extend(body);
    records(&msg, 16384)
}

/// `msg` in handshake records of at most `size` bytes each.
fn records(msg: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in msg.chunks(size) {
        out.extend([22, 3, 1, (chunk.len() >> 8) as u8, chunk.len() as u8]);
        out.extend(chunk);
    }
    out
}

#[test]
fn reads_every_field() {
    let h = parse(&synthetic()).unwrap();
    assert_eq!(h.session_id, [1, 2, 3, 4]);
    assert_eq!(h.session_ticket.as_deref(), Some(&b"tick"[..]));
    assert_eq!(h.supported_versions, [0x0304, 0x0303]);
    assert!(h.offers_tls13() && h.status_request);
    assert_eq!(h.psk_identities, [b"ab".to_vec(), b"z".to_vec()]);
}

#[test]
fn fragments_and_prefixes() {
    let wire = synthetic();
    let msg: Vec<u8> = wire[5..].to_vec();
    let fragmented = records(&msg, 7);
    assert_eq!(parse(&fragmented), parse(&wire), "a hello split over many records");
    for n in 0..wire.len() {
        assert_eq!(parse(&wire[..n]), Err(ParseError::Incomplete), "prefix of {n} bytes");
    }
    // Bytes after the hello (the client's next records) are left alone.
    let mut more = wire.clone();
    more.extend([23, 3, 3, 0, 1, 0]);
    assert_eq!(parse(&more), parse(&wire));
}

#[test]
fn broken_input_is_an_error_never_a_panic() {
    assert!(matches!(parse(&[23, 3, 3, 0, 1, 0]), Err(ParseError::Invalid(_))));
    assert!(matches!(parse(b"GET / HTTP/1.1\r\n\r\n"), Err(ParseError::Invalid(_))));
    let wire = synthetic();
    for i in 0..wire.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut w = wire.clone();
            w[i] ^= flip;
            let _ = parse(&w);
        }
    }
    // A length field that claims more than its container.
    let mut w = wire.clone();
    w[5 + 4 + 34] = 33;
    assert!(matches!(parse(&w), Err(ParseError::Invalid(_))));
}

fn options(pairs: &[(i32, &str)]) -> Options {
    let mut o = Options::new();
    for (key, file) in pairs {
        o.set(*key, Value::Bytes(vec![read(file)]), true).unwrap();
    }
    o
}

/// The first flight of a rustls client with `config`.
fn hello_of(config: Arc<rustls::ClientConfig>) -> (rustls::ClientConnection, Vec<u8>) {
    let mut c = rustls::ClientConnection::new(config, ServerName::try_from("localhost").unwrap()).unwrap();
    let mut wire = Vec::new();
    c.write_tls(&mut wire).unwrap();
    (c, wire)
}

/// Runs a handshake in memory until both sides are idle.
fn pump(c: &mut rustls::ClientConnection, s: &mut rustls::ServerConnection) {
    for _ in 0..10 {
        let mut buf = Vec::new();
        c.write_tls(&mut buf).unwrap();
        if !buf.is_empty() {
            s.read_tls(&mut &buf[..]).unwrap();
            s.process_new_packets().unwrap();
        }
        let mut back = Vec::new();
        s.write_tls(&mut back).unwrap();
        if !back.is_empty() {
            c.read_tls(&mut &back[..]).unwrap();
            c.process_new_packets().unwrap();
        }
        if buf.is_empty() && back.is_empty() {
            break;
        }
    }
}

/// A rustls client's real hellos: a fresh one, then one resuming a TLS 1.3 ticket (its
/// PSK identity is the ticket the server sent) and a TLS 1.2 session ID.
#[test]
fn rustls_hellos_fresh_and_resuming() {
    let server = crate::tls::server_config::build(&options(&[
        (NTLS_OPT_KEY, "server-ec-key.pem"),
        (NTLS_OPT_CERT, "server-ec-cert.pem"),
    ]))
    .unwrap();
    for version in ["TLSv1.3", "TLSv1.2"] {
        let mut co = options(&[(NTLS_OPT_CA, "ca-cert.pem")]);
        co.set(NTLS_OPT_MAX_VERSION, Value::Str(version.into()), false).unwrap();
        let client = crate::tls::client_config::build(&co).unwrap();
        let (mut c, wire) = hello_of(client.config.clone());
        let fresh = parse(&wire).unwrap();
        assert_eq!(fresh.offers_tls13(), version == "TLSv1.3");
        assert!(fresh.psk_identities.is_empty());
        assert!(fresh.status_request, "rustls always asks for OCSP");
        let mut s = rustls::ServerConnection::new(server.config.clone()).unwrap();
        s.read_tls(&mut &wire[..]).unwrap();
        s.process_new_packets().unwrap();
        pump(&mut c, &mut s);
        let session = client.sessions.take_arrived().pop().expect("a saved session");
        co.set(NTLS_OPT_SESSION, Value::Session(session), false).unwrap();
        let again = crate::tls::client_config::build(&co).unwrap();
        let resuming = parse(&hello_of(again.config.clone()).1).unwrap();
        if version == "TLSv1.3" {
            assert_eq!(resuming.psk_identities.len(), 1, "the ticket as PSK identity");
            assert!(resuming.psk_identities[0].len() > 32, "a sealed ticket");
        } else {
            assert!(resuming.session_ticket.as_ref().is_some_and(|t| !t.is_empty()), "the TLS 1.2 ticket");
        }
    }
}
