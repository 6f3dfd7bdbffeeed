//! `tls::client_hello::parse` on the ClientHellos real clients send, recorded live on
//! loopback (nothing captured is kept): Node's tls.connect, `openssl s_client`, curl,
//! gnutls-cli and Go's crypto/tls. Each client dials a plain TCP listener that reads its
//! first flight and parses it; the fields each client is known to send are checked.

use nodetls::tls::client_hello::{parse, ClientHello, ParseError};
use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Starts `cmd` (given the listener's port) and returns the hello it sent.
fn capture(make: impl FnOnce(u16) -> Command) -> ClientHello {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cmd = make(port);
    let mut child: Child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the client");
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60); // `go run` may compile first
    let mut stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                panic!("the client never connected: {e}");
            }
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut wire = Vec::new();
    let mut buf = [0u8; 4096];
    let result = loop {
        match parse(&wire) {
            Err(ParseError::Incomplete) => {}
            other => break other,
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break parse(&wire),
            Ok(n) => wire.extend_from_slice(&buf[..n]),
        }
    };
    drop(stream);
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap_or_else(|e| panic!("{e:?} after {} bytes", wire.len()))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn node_tls_connect() {
    let script = |ocsp: bool| {
        format!(
            "const c=require('tls').connect({{host:'127.0.0.1',port:+process.argv[1],servername:'localhost',requestOCSP:{ocsp}}});c.on('error',()=>{{}});setTimeout(()=>process.exit(0),10000)"
        )
    };
    let h = capture(|port| {
        let mut c = Command::new("node");
        c.args(["-e", &script(true), &port.to_string()]);
        c
    });
    assert!(h.offers_tls13() && h.status_request && h.psk_identities.is_empty());
    assert_eq!(h.session_id.len(), 32, "OpenSSL's compatibility-mode session ID");
    let h = capture(|port| {
        let mut c = Command::new("node");
        c.args(["-e", &script(false), &port.to_string()]);
        c
    });
    assert!(!h.status_request, "Node asks for OCSP only with requestOCSP");
}

#[test]
fn openssl_s_client() {
    let run = |extra: &'static [&'static str]| {
        capture(move |port| {
            let mut c = Command::new("openssl");
            c.args(["s_client", "-connect", &format!("127.0.0.1:{port}")]).args(extra);
            c
        })
    };
    let h = run(&["-status"]);
    assert!(h.offers_tls13() && h.status_request);
    assert_eq!(h.session_ticket.as_deref(), Some(&[][..]), "an empty ticket extension: tickets welcome");
    let h = run(&["-tls1_2", "-no_ticket"]);
    assert!(!h.offers_tls13() && h.supported_versions.is_empty() && h.session_ticket.is_none());
    assert!(!h.status_request);
}

#[test]
fn curl() {
    let h = capture(|port| {
        let mut c = Command::new("curl");
        c.args(["-sk", "--cert-status", "--max-time", "10", &format!("https://127.0.0.1:{port}/")]);
        c
    });
    assert!(h.offers_tls13() && h.status_request);
}

#[test]
fn gnutls_cli() {
    if !have("gnutls-cli") {
        panic!("gnutls-cli is missing: scripts/setup.sh installs gnutls-bin");
    }
    let h = capture(|port| {
        let mut c = Command::new("gnutls-cli");
        c.args(["--insecure", "-p", &port.to_string(), "127.0.0.1"]);
        c
    });
    assert!(h.offers_tls13() && h.status_request);
}

#[test]
fn go_crypto_tls() {
    let h = capture(|port| {
        let mut c = Command::new("go");
        c.args(["run", &format!("{ROOT}/tests/peers/hello_client.go"), &port.to_string()]);
        c
    });
    assert!(h.offers_tls13() && h.status_request, "Go's client always asks for OCSP stapling");
    assert!(h.session_ticket.is_none(), "no ClientSessionCache, no ticket extension");
    assert_eq!(h.session_id.len(), 32);
}
