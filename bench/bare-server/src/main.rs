//! bare-server: a rustls + mio echo server with no nodetls in it — the ceiling for what
//! nodetls's layers may cost. Single-threaded, edge-triggered, buffers reused; session
//! tickets and the session cache on, so resumed handshakes work in TLS 1.3 and 1.2.

mod args;
mod client;

use client::Client;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LISTENER: Token = Token(usize::MAX);
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn die(why: String) -> ! {
    eprintln!("bare-server: {why}");
    std::process::exit(1)
}

/// Raises the open-file soft limit to the hard one: the idle benchmark holds ~19,000.
fn raise_fd_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit are given a valid, initialised struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn config(a: &args::Args) -> Arc<ServerConfig> {
    let chain: Vec<CertificateDer> = CertificateDer::pem_file_iter(&a.cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .unwrap_or_else(|e| die(format!("{}: {e}", a.cert)));
    let key = PrivateKeyDer::from_pem_file(&a.key).unwrap_or_else(|e| die(format!("{}: {e}", a.key)));
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap_or_else(|e| die(format!("key pair: {e}")));
    // Both ways to resume: tickets (TLS 1.3, and TLS 1.2 clients that ask) and session ids.
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().expect("ticketer");
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(4096);
    Arc::new(config)
}

fn main() {
    let a = args::Args::parse();
    // SAFETY: the handlers only store to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    raise_fd_limit();
    let config = config(&a);
    let mut listener = TcpListener::bind(([127, 0, 0, 1], a.port).into())
        .unwrap_or_else(|e| die(format!("bind 127.0.0.1:{}: {e}", a.port)));
    let mut poll = Poll::new().expect("poll");
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE).expect("register");
    println!("listening on 127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let _ = io::stdout().flush();

    let pattern = client::pattern();
    // A slab: the token is the index, freed slots are reused.
    let mut clients: Vec<Option<Client>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    while !STOP.load(Ordering::SeqCst) {
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_millis(200))) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            die(format!("poll: {e}"));
        }
        for ev in events.iter() {
            if ev.token() == LISTENER {
                // Edge-triggered: accept until the queue is empty.
                while let Ok((mut stream, _)) = listener.accept() {
                    let _ = stream.set_nodelay(true);
                    let id = free.pop().unwrap_or_else(|| {
                        clients.push(None);
                        clients.len() - 1
                    });
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if poll.registry().register(&mut stream, Token(id), interest).is_err() {
                        free.push(id);
                        continue;
                    }
                    let tls = ServerConnection::new(config.clone()).expect("connection");
                    clients[id] = Some(Client::new(stream, tls, a.job));
                }
                continue;
            }
            let id = ev.token().0;
            let Some(c) = clients[id].as_mut() else { continue };
            if !c.serve(a.job, &mut buf, &pattern) {
                if let Some(mut c) = clients[id].take() {
                    let _ = poll.registry().deregister(&mut c.stream);
                }
                free.push(id);
            }
        }
    }
}
