//! The pair through its Rust entry points alone (`new`, `start`, `feed`, `dispatch`), as a
//! fuzz target drives it: arbitrary ciphertext never panics, never hangs, and ends in an
//! `error` with a Node code or in waiting for more.

use super::*;
use crate::error::NtlsError;
use crate::options::Value;
use std::sync::Mutex;

const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs");

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl PairEvents for Recorder {
    fn secure(&self, _p: &Pair<Self>) {
        self.0.lock().unwrap().push("secure".into());
    }
    fn data(&self, _p: &Pair<Self>, buf: &[u8]) {
        self.0.lock().unwrap().push(format!("data {}", buf.len()));
    }
    fn has_data_listener(&self) -> bool {
        true
    }
    fn end(&self, _p: &Pair<Self>) {
        self.0.lock().unwrap().push("end".into());
    }
    fn close(&self, _p: &Pair<Self>, had_error: bool) {
        self.0.lock().unwrap().push(format!("close {had_error}"));
    }
    fn error(&self, _p: &Pair<Self>, err: &NtlsError) {
        self.0.lock().unwrap().push(format!("error {}", err.code()));
    }
    fn drain(&self, _p: &Pair<Self>) {}
    fn has_sni_callback(&self) -> bool {
        false
    }
    fn sni_callback(&self, _p: &Pair<Self>, _req: Arc<crate::request::Request>) {}
}

fn server_options() -> Options {
    let mut o = Options::new();
    for (key, file) in [(NTLS_OPT_KEY, "server-ec-key.pem"), (NTLS_OPT_CERT, "server-ec-cert.pem")] {
        let pem = std::fs::read(format!("{CERTS}/{file}"))
            .expect("scripts/gen-certs.sh made the test certificates");
        o.set(key, Value::Bytes(vec![pem]), false).unwrap();
    }
    o.set(NTLS_OPT_IS_SERVER, Value::Bool(true), false).unwrap();
    o
}

/// A deterministic stream of bytes (xorshift), so a failure can be replayed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn feed_all<E: PairEvents>(p: &Pair<E>, data: &[u8]) {
    let mut rest = data;
    for _ in 0..10_000 {
        if rest.is_empty() {
            return;
        }
        match p.feed(rest) {
            Ok(n) => rest = &rest[n..],
            Err(_) => return,
        }
        p.dispatch();
    }
    panic!("feed took nothing 10,000 times");
}

#[test]
fn arbitrary_ciphertext_ends_in_a_node_error_or_waits() {
    let o = server_options();
    // Records that look like TLS (a handshake header, then noise) and plain noise.
    for seed in 0..300u64 {
        let mut bytes = noise(seed, (seed as usize * 37) % 3000 + 1);
        if seed % 2 == 0 {
            bytes.splice(0..0, [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
        }
        let p = Pair::new(&o, Recorder::default()).unwrap();
        p.start().unwrap();
        feed_all(&p, &bytes);
        p.dispatch();
        let events = p.events().0.lock().unwrap().clone();
        match events.as_slice() {
            [] => assert!(!p.is_closed()),
            [e, c] => {
                assert!(e.starts_with("error ERR_SSL_") || e == "error ECONNRESET", "{seed}: {e}");
                assert_eq!(c, "close true");
                let mut alert = [0u8; 64];
                let n = p.pull(&mut alert);
                assert!(n == 0 || alert[0] == 0x15, "{seed}: not an alert record");
            }
            other => panic!("seed {seed}: {other:?}"),
        }
        // The transport's end settles every pair that was still waiting.
        let _ = p.feed_end();
        p.dispatch();
        assert!(p.is_closed(), "seed {seed}");
    }
}

/// A client pair's options: the test CA, servername localhost.
fn client_options() -> Options {
    let mut co = Options::new();
    let ca = std::fs::read(format!("{CERTS}/ca-cert.pem")).unwrap();
    co.set(NTLS_OPT_CA, Value::Bytes(vec![ca]), false).unwrap();
    co.set(NTLS_OPT_SERVERNAME, Value::Str("localhost".into()), false).unwrap();
    co
}

/// Moves ciphertext between two started pairs until neither has more to send.
fn shuttle<A: PairEvents, B: PairEvents>(client: &Pair<A>, server: &Pair<B>) {
    let mut buf = vec![0u8; 32 * 1024];
    for _ in 0..20 {
        let n = client.pull(&mut buf);
        feed_all(server, &buf[..n]);
        let m = server.pull(&mut buf);
        feed_all(client, &buf[..m]);
        client.dispatch();
        if n == 0 && m == 0 {
            break;
        }
    }
}

#[test]
fn a_pair_with_discarded_events_handshakes_with_another() {
    let server = Pair::new(&server_options(), Discard).unwrap();
    let client = Pair::new(&client_options(), Recorder::default()).unwrap();
    client.start().unwrap();
    server.start().unwrap();
    server.write(b"hello").unwrap();
    shuttle(&client, &server);
    let events = client.events().0.lock().unwrap().clone();
    assert_eq!(events, ["secure", "data 5"]);
    assert_eq!(client.info().map(|i| i.protocol.to_str().unwrap()), Some("TLSv1.3"));
}

#[test]
fn a_pair_leaves_no_secret_on_its_threads_note_pad() {
    // The key log notes each handshake's secrets on the thread running rustls; a socket
    // takes them at once, and a pair (which has no exporter) must drop them, or a thread
    // driving pairs would keep every session's secrets, unwiped, for its whole life.
    let server = Pair::new(&server_options(), Discard).unwrap();
    let client = Pair::new(&client_options(), Discard).unwrap();
    client.start().unwrap();
    server.start().unwrap();
    shuttle(&client, &server);
    assert!(client.info().is_some() && server.info().is_some());
    assert!(crate::tls::handshake::notes::take().is_none(), "notes were left on the pad");
}
