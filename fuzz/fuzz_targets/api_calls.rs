//! Random sequences of C API calls on sockets and servers, from two threads at once, on
//! handles that are live, closed, lent to callbacks, released or never given out: every
//! call returns a status (or NULL/0), nothing panics, crashes or reads freed memory, and
//! once the program has destroyed, closed and released everything, every handle is gone.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nodetls::ffi::callbacks::{ntls_server, ntls_socket};
use nodetls::ffi::cert::*;
use nodetls::ffi::context::*;
use nodetls::ffi::options::*;
use nodetls::ffi::server::*;
use nodetls::ffi::socket::*;
use nodetls::options::keys::*;
use nodetls_fuzz::server::{echo_server, listen, new_echo_server, server_options};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Peer {
    /// The process's echo server.
    Echo,
    /// A server this input made (by index), wherever it listens.
    Made(u8),
    /// A port nothing listens on.
    Closed,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Reaction {
    Nothing,
    Write,
    End,
    Destroy,
    Pause,
    /// Keep the socket: `_ref` it and hand it to the program's table.
    Keep,
}

#[derive(Arbitrary, Debug, Clone)]
enum Call {
    SocketNew,
    Connect { s: u8, to: Peer, servername: bool, alpn: bool, reject: bool },
    Write { s: u8, len: u16, with_cb: bool },
    End(u8),
    Destroy(u8),
    Pause(u8),
    Resume(u8),
    SetTimeout(u8, u8),
    NoDelay(u8, bool),
    Renegotiate(u8),
    OnData(u8, Reaction),
    OnSecureConnect(u8, Reaction),
    OnClose(u8),
    OnError(u8),
    Getters(u8),
    PeerCert(u8, bool),
    SocketRef(u8),
    SocketUnref(u8),
    ServerNew,
    Listen(u8),
    ServerClose(u8),
    ServerOnSecure(u8, Reaction),
    SetTicketKeys(u8, Vec<u8>),
    GetTicketKeys(u8),
    AddContext(u8, String),
    ServerGetters(u8),
    ServerRef(u8),
    ServerUnref(u8),
    /// A socket passed where a server goes and the other way round.
    Crossed(u8),
    Sleep(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    first: Vec<Call>,
    second: Vec<Call>,
}

/// The program's handles: every pointer it ever had (stale ones stay, on purpose) and how
/// many references it holds on each.
#[derive(Default)]
struct Table {
    sockets: Vec<usize>,
    servers: Vec<usize>,
    refs: HashMap<usize, usize>,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

fn table<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    f(TABLE.lock().unwrap().get_or_insert_with(Table::default))
}

fn pick(list: &[usize], i: u8) -> usize {
    if list.is_empty() { 0x1000 } else { list[usize::from(i) % list.len()] }
}

fn socket(i: u8) -> *mut ntls_socket {
    table(|t| pick(&t.sockets, i)) as *mut ntls_socket
}

fn server(i: u8) -> *mut ntls_server {
    table(|t| pick(&t.servers, i)) as *mut ntls_server
}

fn gained(p: usize, sockets: bool) {
    table(|t| {
        let list = if sockets { &mut t.sockets } else { &mut t.servers };
        if !list.contains(&p) {
            list.push(p);
        }
        *t.refs.entry(p).or_default() += 1;
    })
}

fn lost(p: usize) {
    table(|t| {
        if let Some(n) = t.refs.get_mut(&p) {
            *n = n.saturating_sub(1);
        }
    })
}

/// The reaction a callback table slot stands for, kept in the socket's user data.
fn reaction_code(r: Reaction) -> *mut c_void {
    (r as usize + 1) as *mut c_void
}

unsafe fn react(s: *mut ntls_socket, code: *mut c_void) {
    // SAFETY: the socket lent to the calling callback.
    unsafe {
        match (code as usize).wrapping_sub(1) {
            1 => {
                ntls_socket_write(s, b"pong".as_ptr().cast(), 4, None, std::ptr::null_mut());
            }
            2 => {
                ntls_socket_end(s);
            }
            3 => {
                ntls_socket_destroy(s);
            }
            4 => {
                ntls_socket_pause(s);
            }
            5 => {
                if ntls_socket_ref(s) == 0 {
                    gained(s as usize, true);
                }
            }
            _ => {}
        }
    }
}

unsafe extern "C" fn on_data(s: *mut ntls_socket, _: *const u8, _: usize, d: *mut c_void) {
    // SAFETY: forwarded from the library's callback.
    unsafe { react(s, d) }
}
unsafe extern "C" fn on_secure(s: *mut ntls_socket, d: *mut c_void) {
    // SAFETY: forwarded from the library's callback.
    unsafe { react(s, d) }
}
unsafe extern "C" fn on_close(s: *mut ntls_socket, _: c_int, _: *mut c_void) {
    // SAFETY: a lent socket; calls after close are refused with a status.
    unsafe {
        assert!(ntls_socket_write(s, b"x".as_ptr().cast(), 1, None, std::ptr::null_mut()) < 0);
        assert_eq!(ntls_socket_destroy(s), nodetls::error::NTLS_EALREADY);
    }
}
unsafe extern "C" fn on_error(s: *mut ntls_socket, e: *const nodetls::error::NtlsError, _: *mut c_void) {
    // SAFETY: the error is valid during the callback.
    unsafe {
        assert!(!nodetls::ffi::error::ntls_error_code(e).is_null());
        assert!(nodetls::ffi::error::ntls_error_status(e) < 0);
        let _ = ntls_socket_last_error(s);
    }
}
unsafe extern "C" fn on_written(_: *mut ntls_socket, status: c_int, _: *mut c_void) {
    assert!(status <= 0);
}
unsafe extern "C" fn on_server_secure(_: *mut ntls_server, s: *mut ntls_socket, d: *mut c_void) {
    // SAFETY: the socket lent to the callback.
    unsafe {
        // A paused server socket would never see its client leave (as in Node): not here.
        let d = if d == reaction_code(Reaction::Pause) { reaction_code(Reaction::Nothing) } else { d };
        ntls_socket_on_data(s, Some(on_data));
        ntls_socket_set_data(s, d);
        react(s, d);
    }
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

unsafe fn connect(s: *mut ntls_socket, to: Peer, servername: bool, alpn: bool, reject: bool) -> c_int {
    let port = match to {
        Peer::Echo => echo_server().port,
        Peer::Made(i) => {
            let srv = server(i);
            let mut p: c_int = 0;
            // SAFETY: any pointer: the library checks it.
            if unsafe { ntls_server_address(srv, std::ptr::null_mut(), 0, &mut p, std::ptr::null_mut()) } != 0 {
                return 0;
            }
            p as u16
        }
        Peer::Closed => closed_port(),
    };
    let mut o = std::ptr::null_mut();
    // SAFETY: C API calls; `s` may be any pointer.
    unsafe {
        assert_eq!(ntls_options_new(&mut o), 0);
        ntls_options_set_string(o, NTLS_OPT_HOST, c"127.0.0.1".as_ptr());
        ntls_options_set_int(o, NTLS_OPT_PORT, i64::from(port));
        ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, c_int::from(reject));
        if servername {
            ntls_options_set_string(o, NTLS_OPT_SERVERNAME, c"localhost".as_ptr());
        }
        if alpn {
            ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, c"h2".as_ptr());
        }
        let ca = nodetls_fuzz::cert_file("ca-cert.pem");
        ntls_options_add_bytes(o, NTLS_OPT_CA, ca.as_ptr(), ca.len());
        let status = ntls_socket_connect(s, o);
        assert_eq!(ntls_options_unref(o), 0);
        status
    }
}

unsafe fn run(call: &Call) {
    let null = std::ptr::null_mut::<c_void>();
    // SAFETY: every pointer goes to the C API, which validates it.
    let status: c_int = unsafe {
        match call {
            Call::SocketNew => {
                let mut s = std::ptr::null_mut();
                let st = ntls_socket_new(std::ptr::null_mut(), &mut s);
                if st == 0 {
                    gained(s as usize, true);
                }
                st
            }
            Call::Connect { s, to, servername, alpn, reject } => connect(socket(*s), *to, *servername, *alpn, *reject),
            Call::Write { s, len, with_cb } => {
                let buf = vec![0x61u8; usize::from(*len)];
                let cb = if *with_cb { Some(on_written as _) } else { None };
                ntls_socket_write(socket(*s), buf.as_ptr().cast(), buf.len(), cb, null).min(0)
            }
            Call::End(s) => ntls_socket_end(socket(*s)),
            Call::Destroy(s) => ntls_socket_destroy(socket(*s)),
            Call::Pause(s) => ntls_socket_pause(socket(*s)),
            Call::Resume(s) => ntls_socket_resume(socket(*s)),
            Call::SetTimeout(s, ms) => ntls_socket_set_timeout(socket(*s), u64::from(*ms)),
            Call::NoDelay(s, on) => ntls_socket_set_no_delay(socket(*s), c_int::from(*on)),
            Call::Renegotiate(s) => ntls_socket_renegotiate(socket(*s)),
            Call::OnData(s, r) => {
                let s = socket(*s);
                ntls_socket_set_data(s, reaction_code(*r));
                ntls_socket_on_data(s, Some(on_data))
            }
            Call::OnSecureConnect(s, r) => {
                let s = socket(*s);
                ntls_socket_set_data(s, reaction_code(*r));
                ntls_socket_on_secure_connect(s, Some(on_secure))
            }
            Call::OnClose(s) => ntls_socket_on_close(socket(*s), Some(on_close)),
            Call::OnError(s) => ntls_socket_on_error(socket(*s), Some(on_error)),
            Call::Getters(s) => {
                let s = socket(*s);
                let _ = ntls_socket_get_protocol(s);
                let _ = ntls_socket_alpn_protocol(s);
                let _ = ntls_socket_servername(s);
                let _ = ntls_socket_authorization_error(s);
                assert!(ntls_socket_authorized(s) <= 1 && ntls_socket_encrypted(s) <= 1);
                let (mut a, mut b, mut c): (*const c_char, *const c_char, *const c_char) =
                    (std::ptr::null(), std::ptr::null(), std::ptr::null());
                let _ = ntls_socket_get_cipher(s, &mut a, &mut b, &mut c);
                let mut size = 0;
                let _ = ntls_socket_get_ephemeral_key_info(s, &mut a, &mut size);
                let mut host = [0 as c_char; 64];
                let _ = ntls_socket_remote_address(s, host.as_mut_ptr(), host.len(), &mut size, &mut size);
                let _ = ntls_socket_local_address(s, host.as_mut_ptr(), 2, &mut size, &mut size);
                let _ = (ntls_socket_bytes_read(s), ntls_socket_bytes_written(s), ntls_socket_get_data(s));
                assert!(!ntls_socket_last_error(s).is_null());
                0
            }
            Call::PeerCert(s, detailed) => {
                let mut c = std::ptr::null_mut();
                let st = ntls_socket_get_peer_certificate(socket(*s), c_int::from(*detailed), &mut c);
                if st == 0 {
                    assert!(!ntls_cert_to_json(c).is_null());
                    assert_eq!(ntls_cert_unref(c), 0);
                    assert_eq!(ntls_cert_unref(c), nodetls::error::NTLS_EINVAL);
                }
                st
            }
            Call::SocketRef(s) => {
                let s = socket(*s);
                let st = ntls_socket_ref(s);
                if st == 0 {
                    gained(s as usize, true);
                }
                st
            }
            Call::SocketUnref(s) => {
                let s = socket(*s);
                let st = ntls_socket_unref(s);
                if st == 0 {
                    lost(s as usize);
                }
                st
            }
            Call::ServerNew => {
                let srv = new_echo_server();
                gained(srv as usize, false);
                0
            }
            Call::Listen(i) => match listen(server(*i)) {
                Some(_) => 0,
                None => -1,
            },
            Call::ServerClose(i) => ntls_server_close(server(*i), None),
            Call::ServerOnSecure(i, r) => {
                let srv = server(*i);
                ntls_server_set_data(srv, reaction_code(*r));
                ntls_server_on_secure_connection(srv, Some(on_server_secure))
            }
            Call::SetTicketKeys(i, keys) => ntls_server_set_ticket_keys(server(*i), keys.as_ptr(), keys.len()),
            Call::GetTicketKeys(i) => {
                let mut keys = [0u8; 48];
                ntls_server_get_ticket_keys(server(*i), keys.as_mut_ptr(), keys.len())
            }
            Call::AddContext(i, pattern) => {
                let o = server_options();
                let mut ctx = std::ptr::null_mut();
                assert_eq!(ntls_context_new(o, &mut ctx), 0);
                let st = ntls_server_add_context(server(*i), nodetls_fuzz::c_string(pattern).as_ptr(), ctx);
                assert_eq!(ntls_context_unref(ctx), 0);
                assert_eq!(ntls_options_unref(o), 0);
                st
            }
            Call::ServerGetters(i) => {
                let srv = server(*i);
                let mut port = 0;
                let _ = ntls_server_address(srv, std::ptr::null_mut(), 0, &mut port, std::ptr::null_mut());
                assert!(ntls_server_connections(srv) >= 0);
                assert!(!ntls_server_last_error(srv).is_null());
                let _ = ntls_server_get_data(srv);
                0
            }
            Call::ServerRef(i) => {
                let srv = server(*i);
                let st = ntls_server_ref(srv);
                if st == 0 {
                    gained(srv as usize, false);
                }
                st
            }
            Call::ServerUnref(i) => {
                let srv = server(*i);
                let st = ntls_server_unref(srv);
                if st == 0 {
                    lost(srv as usize);
                }
                st
            }
            Call::Crossed(i) => {
                let (s, srv) = (socket(*i), server(*i));
                assert_eq!(ntls_server_close(s.cast(), None), nodetls::error::NTLS_EINVAL);
                assert_eq!(ntls_socket_destroy(srv.cast()), nodetls::error::NTLS_EINVAL);
                assert_eq!(ntls_socket_unref(srv.cast()), nodetls::error::NTLS_EINVAL);
                0
            }
            Call::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(u64::from(*ms % 8)));
                0
            }
        }
    };
    assert!(status <= 0, "{call:?}: status {status}");
}

/// Destroys every socket and closes every server the program ever had (a live connection
/// keeps itself alive after the program's last `_unref`), releases the references it still
/// holds, and waits until every one of those handles is gone: `encrypted` answers 0 and
/// `_ref` is refused once a handle is freed. Callbacks may hand over more sockets meanwhile
/// (`Reaction::Keep`): those are cleaned up the same way.
fn clean_up() {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (sockets, servers, refs) =
            table(|t| (std::mem::take(&mut t.sockets), std::mem::take(&mut t.servers), std::mem::take(&mut t.refs)));
        if sockets.is_empty() && servers.is_empty() {
            return;
        }
        // SAFETY: C API calls on pointers the library validates.
        unsafe {
            for &s in &sockets {
                let _ = ntls_socket_destroy(s as *mut ntls_socket);
            }
            for &srv in &servers {
                let _ = ntls_server_close(srv as *mut ntls_server, None);
            }
            for (&p, &n) in &refs {
                for _ in 0..n {
                    let st = if sockets.contains(&p) {
                        ntls_socket_unref(p as *mut ntls_socket)
                    } else {
                        ntls_server_unref(p as *mut ntls_server)
                    };
                    assert_eq!(st, 0, "the program's own reference was refused");
                }
            }
            let server_alive = |srv: usize| {
                let live = ntls_server_ref(srv as *mut ntls_server) == 0;
                if live {
                    ntls_server_unref(srv as *mut ntls_server);
                }
                live
            };
            let alive = || {
                sockets.iter().filter(|&&s| ntls_socket_encrypted(s as *const ntls_socket) != 0).count()
                    + servers.iter().filter(|&&s| server_alive(s)).count()
            };
            while alive() > 0 {
                assert!(Instant::now() < deadline, "{} handles alive 10 s after everything was released", alive());
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let _ = echo_server();
    std::thread::scope(|scope| {
        for calls in [&input.first, &input.second] {
            scope.spawn(move || {
                for call in calls.iter().take(48) {
                    // SAFETY: see `run`.
                    unsafe { run(call) };
                }
            });
        }
    });
    clean_up();
});
