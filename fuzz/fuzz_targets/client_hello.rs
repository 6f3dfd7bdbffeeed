//! The raw ClientHello parser (`tls::client_hello::parse`, which the hello phase runs on a
//! client's first records for the session store and OCSP): any bytes are a hello, "read
//! more" or "malformed", never a panic; bytes after a complete hello change nothing; and a
//! hello rustls accepts is one the parser reads too (else the session store would miss it).
//! Seeded with the ClientHellos of fuzz/seeds/server_conn (Node, openssl, curl, gnutls, Go).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodetls::tls::client_hello::{parse, ParseError};

fn rustls_accepts(data: &[u8]) -> bool {
    let mut acceptor = rustls::server::Acceptor::default();
    let mut rest = data;
    while !rest.is_empty() {
        match acceptor.read_tls(&mut rest) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    matches!(acceptor.accept(), Ok(Some(_)))
}

fuzz_target!(|data: &[u8]| {
    // The server_conn seeds start with a mode byte: skip it when it is there.
    let wire = match data.first() {
        Some(0) => &data[1..],
        _ => data,
    };
    let parsed = parse(wire);
    if let Ok(hello) = &parsed {
        let mut longer = wire.to_vec();
        longer.extend_from_slice(b"\x17\x03\x03\x00\x01\x00");
        assert_eq!(parse(&longer).as_ref(), Ok(hello), "bytes after the hello changed it");
    }
    if rustls_accepts(wire) {
        assert!(
            !matches!(parsed, Err(ParseError::Invalid(_))),
            "rustls accepts a hello the parser refuses: {parsed:?}"
        );
    }
});
