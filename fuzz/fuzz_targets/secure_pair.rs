//! The SecurePair (`ntls_pair_*`, no reactor) fed arbitrary ciphertext through its Rust
//! entry points: `Pair::new`, `start`, `feed`, `feed_end`, `pull`, `dispatch`, with writes,
//! `end`, `pause` and `resume` between the feeds.
//!
//! Input: a mode byte, then the bytes. Mode % 3 == 0: a server pair, the bytes are a client's
//! first flight and all that follows (seeded with the ClientHellos of Node, openssl, curl,
//! gnutls-cli and Go). 1: a client pair that has sent its ClientHello, the bytes are the
//! server's answer. 2: a client and a server pair finish a real TLS 1.3 handshake first, then
//! the server is fed the bytes as a client turning to garbage. The bytes go in chunks whose
//! sizes the mode byte's high bits choose. Whatever came in, the pair never panics, takes
//! every byte or refuses the call, and after the transport's end it is closed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodetls::options::keys::*;
use nodetls::options::{Options, Value};
use nodetls::pair::{Discard, Pair};
use nodetls::socket::info::HasSecureInfo;
use std::sync::{Arc, OnceLock};

fn options(server: bool) -> &'static Options {
    static SERVER: OnceLock<Options> = OnceLock::new();
    static CLIENT: OnceLock<Options> = OnceLock::new();
    let make = move || {
        let mut o = Options::new();
        let set = |o: &mut Options, key, value| o.set(key, value, false).expect("a valid option");
        if server {
            set(&mut o, NTLS_OPT_KEY, Value::Bytes(vec![nodetls_fuzz::cert_file("server-ec-key.pem")]));
            set(&mut o, NTLS_OPT_CERT, Value::Bytes(vec![nodetls_fuzz::cert_file("server-ec-cert.pem")]));
            set(&mut o, NTLS_OPT_IS_SERVER, Value::Bool(true));
        } else {
            set(&mut o, NTLS_OPT_CA, Value::Bytes(vec![nodetls_fuzz::cert_file("ca-cert.pem")]));
            set(&mut o, NTLS_OPT_SERVERNAME, Value::Str("localhost".into()));
        }
        o
    };
    if server {
        SERVER.get_or_init(make)
    } else {
        CLIENT.get_or_init(make)
    }
}

/// Feeds `data` in chunks of `chunk` bytes, dispatching and draining the output after each.
/// A feed that takes nothing asks for a dispatch (or, on a paused pair, a resume) first;
/// after that it must take bytes or refuse, so this ends.
fn feed(p: &Pair<Discard>, data: &[u8], chunk: usize, out: &mut [u8]) {
    let mut rest = data;
    let mut stalled = 0;
    while !rest.is_empty() {
        let take = rest.len().min(chunk);
        match p.feed(&rest[..take]) {
            Ok(0) => {
                stalled += 1;
                assert!(stalled < 3, "feed took nothing after a dispatch and a resume");
                if p.dispatch() == 0 {
                    let _ = p.resume();
                }
            }
            Ok(n) => {
                rest = &rest[n..];
                stalled = 0;
            }
            Err(_) => return,
        }
        p.dispatch();
        while p.pull(out) > 0 {}
    }
}

/// Moves ciphertext between two pairs until neither has more to say.
fn shuttle(a: &Pair<Discard>, b: &Pair<Discard>, buf: &mut [u8]) {
    for _ in 0..32 {
        let n = a.pull(buf);
        if n > 0 {
            feed(b, &buf[..n].to_vec(), usize::MAX, &mut []);
        }
        let m = b.pull(buf);
        if m > 0 {
            feed(a, &buf[..m].to_vec(), usize::MAX, &mut []);
        }
        a.dispatch();
        b.dispatch();
        if n == 0 && m == 0 {
            return;
        }
    }
}

fn start(server: bool) -> Arc<Pair<Discard>> {
    let p = Pair::new(options(server), Discard).expect("the test options");
    p.start().expect("a new pair starts");
    p
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let chunk = [usize::MAX, 1, 5, 100, 517, 4096, 16389, 3][(mode >> 2) as usize % 8];
    let mut out = vec![0u8; 20_000];
    let target = match mode % 3 {
        0 => start(true),
        1 => {
            let client = start(false);
            while client.pull(&mut out) > 0 {}
            client
        }
        _ => {
            let server = start(true);
            let client = start(false);
            shuttle(&client, &server, &mut out);
            assert!(server.info().is_some(), "two pairs finish a handshake");
            let _ = server.write(b"early words");
            server
        }
    };
    // The high bit: calls of the program between the feeds, which must not change the rule.
    if mode & 0x80 != 0 {
        let _ = target.pause();
        let _ = target.write(bytes.get(..16).unwrap_or(bytes));
    }
    feed(&target, bytes, chunk, &mut out);
    if mode & 0x80 != 0 {
        let _ = target.resume();
        let _ = target.end();
    }
    let _ = target.feed_end();
    for _ in 0..4 {
        target.dispatch();
        while target.pull(&mut out) > 0 {}
    }
    assert!(target.is_closed(), "a pair whose transport ended closes");
});
