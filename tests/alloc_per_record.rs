//! Counts heap allocations per echoed record: nodetls's own layers (reactor, queues,
//! callbacks) must add none on top of what rustls itself does for a record. The same
//! echo runs against a bare rustls server in this process as the baseline.

use nodetls::error::NtlsError;
use nodetls::options::keys::*;
use nodetls::options::{Options, Value};
use nodetls::reactor::Loop;
use nodetls::server::{Server, ServerEvents};
use nodetls::socket::{Socket, SocketEvents};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARMUP: usize = 300;
const ROUNDS: usize = 3000;
const RECORD: usize = 1024;

fn certs() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs");
    if !std::path::Path::new(dir).join(".complete").exists() {
        let ok = std::process::Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-certs.sh"))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    dir.to_owned()
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Echoes `WARMUP + ROUNDS` records through `port`; returns allocations per measured echo.
fn client_echo(port: u16, ca: &[u8]) -> f64 {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let out = vec![7u8; RECORD];
    let mut back = vec![0u8; RECORD];
    let mut before = 0;
    for i in 0..WARMUP + ROUNDS {
        if i == WARMUP {
            before = ALLOCS.load(Ordering::SeqCst);
        }
        tls.write_all(&out).unwrap();
        tls.read_exact(&mut back).unwrap();
        assert_eq!(back, out);
    }
    let per = (ALLOCS.load(Ordering::SeqCst) - before) as f64 / ROUNDS as f64;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    per
}

fn bare_server(key: &[u8], cert: &[u8]) -> u16 {
    let chain: Vec<_> = CertificateDer::pem_slice_iter(cert).map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_slice(key).unwrap();
    let config =
        Arc::new(rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(config).unwrap(), tcp);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => tls.write_all(&buf[..n]).unwrap(),
            }
        }
    });
    port
}

struct Echo;
impl SocketEvents for Echo {
    fn secure_connect(&self, _: &Socket<Echo>) {}
    fn data(&self, s: &Socket<Echo>, buf: &[u8]) {
        let _ = s.write(buf, None);
    }
    fn has_data_listener(&self) -> bool {
        true
    }
    fn end(&self, _: &Socket<Echo>) {}
    fn close(&self, _: &Socket<Echo>, _: bool) {}
    fn error(&self, _: &Socket<Echo>, _: &NtlsError) {}
    fn drain(&self, _: &Socket<Echo>) {}
    fn timeout(&self, _: &Socket<Echo>) {}
}

struct Events(Mutex<Option<std::sync::mpsc::Sender<()>>>);
impl ServerEvents for Events {
    type Socket = Echo;
    fn secure_connection(&self, _: &Server<Events>, _: &Socket<Echo>) {}
    fn tls_client_error(&self, _: &Server<Events>, _: &NtlsError, _: &Socket<Echo>) {}
    fn listening(&self, _: &Server<Events>) {
        if let Some(tx) = self.0.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }
    fn close(&self, _: &Server<Events>) {}
    fn error(&self, _: &Server<Events>, e: &NtlsError) {
        panic!("server error {e}");
    }
    fn new_socket_events(&self) -> Echo {
        Echo
    }
}

fn nodetls_server(lp: &Loop, key: &[u8], cert: &[u8]) -> (Arc<Server<Events>>, u16) {
    let mut o = Options::new();
    o.set(NTLS_OPT_KEY, Value::Bytes(vec![key.to_vec()]), false).unwrap();
    o.set(NTLS_OPT_CERT, Value::Bytes(vec![cert.to_vec()]), false).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let srv = Server::new(lp.clone(), &o, Events(Mutex::new(Some(tx)))).unwrap();
    srv.listen(Some("127.0.0.1"), 0, None).unwrap();
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let port = srv.address().unwrap().port();
    (srv, port)
}

#[test]
fn nodetls_adds_no_allocation_per_record() {
    let dir = certs();
    let (key, cert, ca) = (
        read(&format!("{dir}/server-ec-key.pem")),
        read(&format!("{dir}/server-ec-cert.pem")),
        read(&format!("{dir}/ca-cert.pem")),
    );
    let baseline = client_echo(bare_server(&key, &cert), &ca);
    let lp = Loop::new().unwrap();
    let (srv, port) = nodetls_server(&lp, &key, &cert);
    let ours = client_echo(port, &ca);
    println!("allocations per echoed record: bare rustls {baseline:.3}, nodetls {ours:.3}");
    assert!(ours <= baseline + 0.05, "nodetls adds allocations per record: {ours:.3} vs bare {baseline:.3}");
    srv.close(None).unwrap();
}
