//! bare-server: a rustls + mio echo server with no nodetls in it — the ceiling for what
//! nodetls's layers may cost. Same command line as the other servers under test:
//! `bare-server --port P --key KEY.pem --cert CERT.pem [--sink | --source N]`.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const LISTENER: Token = Token(usize::MAX);
static STOP: AtomicBool = AtomicBool::new(false);

enum Job {
    Echo,
    Sink,
    Source(u64),
}

struct Client {
    stream: TcpStream,
    tls: ServerConnection,
    left: u64,
    ending: bool,
}

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn pattern_chunk() -> Vec<u8> {
    (0..(65536 + 251)).map(|i: u64| ((i * 31 + 7) % 251) as u8).collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut port, mut key, mut cert, mut job) = (0u16, String::new(), String::new(), Job::Echo);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|v| v.parse().ok()).expect("--port N"),
            "--key" => key = args.next().expect("--key FILE"),
            "--cert" => cert = args.next().expect("--cert FILE"),
            "--sink" => job = Job::Sink,
            "--source" => job = Job::Source(args.next().and_then(|v| v.parse().ok()).expect("--source N")),
            _ => {
                eprintln!("usage: bare-server --port P --key KEY.pem --cert CERT.pem [--sink | --source N]");
                std::process::exit(2);
            }
        }
    }
    // SAFETY: installing a handler that only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    let chain: Vec<CertificateDer> =
        CertificateDer::pem_file_iter(&cert).expect("cert").map(|c| c.expect("cert")).collect();
    let key = PrivateKeyDer::from_pem_file(&key).expect("key");
    let mut config =
        ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key).expect("key pair");
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().expect("ticketer");
    let config = Arc::new(config);

    let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into()).expect("bind");
    let mut poll = Poll::new().expect("poll");
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE).expect("register");
    println!("listening on 127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let _ = io::stdout().flush();

    let pattern = pattern_chunk();
    let mut clients: HashMap<usize, Client> = HashMap::new();
    let mut next = 0usize;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    while !STOP.load(Ordering::SeqCst) {
        if let Err(e) = poll.poll(&mut events, Some(std::time::Duration::from_millis(200))) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            panic!("poll: {e}");
        }
        for ev in events.iter() {
            if ev.token() == LISTENER {
                while let Ok((mut stream, _)) = listener.accept() {
                    let _ = stream.set_nodelay(true);
                    next += 1;
                    poll.registry()
                        .register(&mut stream, Token(next), Interest::READABLE | Interest::WRITABLE)
                        .expect("register");
                    let mut tls = ServerConnection::new(config.clone()).expect("connection");
                    // Echo hands rustls everything it reads; TCP pushes back on the client.
                    tls.set_buffer_limit(None);
                    let left = if let Job::Source(n) = job { n } else { 0 };
                    clients.insert(next, Client { stream, tls, left, ending: false });
                }
                continue;
            }
            let id = ev.token().0;
            let Some(c) = clients.get_mut(&id) else { continue };
            if !serve(c, &job, &mut buf, &pattern) {
                let mut c = clients.remove(&id).expect("present");
                let _ = poll.registry().deregister(&mut c.stream);
            }
        }
    }
}

/// Reads, echoes (or sinks, or sources), writes; false once the connection is over.
fn serve(c: &mut Client, job: &Job, buf: &mut [u8], pattern: &[u8]) -> bool {
    let mut peer_done = false;
    loop {
        match c.tls.read_tls(&mut c.stream) {
            Ok(0) => {
                peer_done = true;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
        let Ok(state) = c.tls.process_new_packets() else {
            let _ = c.tls.write_tls(&mut c.stream);
            return false;
        };
        loop {
            match c.tls.reader().read(buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Job::Echo = job {
                        let _ = c.tls.writer().write_all(&buf[..n]);
                    }
                }
                Err(_) => break,
            }
        }
        if state.peer_has_closed() {
            peer_done = true;
        }
    }
    if !c.tls.is_handshaking() {
        // Write the next chunk only once the socket took the last one: the edge-triggered
        // poller wakes us again when it has room.
        loop {
            match flush(c) {
                Err(_) => return false,
                Ok(false) => break,
                Ok(true) if c.left == 0 => break,
                Ok(true) => {}
            }
            let n = c.left.min(65536) as usize;
            let sent = match job {
                Job::Source(total) => total - c.left,
                _ => 0,
            };
            let start = (sent % 251) as usize;
            let _ = c.tls.writer().write_all(&pattern[start..start + n]);
            c.left -= n as u64;
        }
        if matches!(job, Job::Source(_)) && c.left == 0 && !c.ending {
            c.tls.send_close_notify();
            c.ending = true;
        }
    }
    if peer_done && !c.ending {
        c.tls.send_close_notify();
        c.ending = true;
    }
    match flush(c) {
        Err(_) => false,
        Ok(all) => !(all && c.ending && peer_done),
    }
}

/// Writes pending TLS; Ok(true) when everything went out.
fn flush(c: &mut Client) -> io::Result<bool> {
    while c.tls.wants_write() {
        match c.tls.write_tls(&mut c.stream) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
