//! A nodetls server on the default loop, started once per fuzzing process: its sockets echo
//! what they receive, so a connection goes through the real `Conn` state machine (handshake,
//! reading, writing, close) for whatever a client sends.

use nodetls::ffi::callbacks::{ntls_server, ntls_socket};
use nodetls::ffi::options::*;
use nodetls::ffi::server::*;
use nodetls::ffi::socket::*;
use nodetls::options::keys::*;
use std::ffi::{c_int, c_void};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The echo server: its handle and port.
pub struct EchoServer {
    /// The server handle (never released: it lives as long as the process).
    pub srv: usize,
    /// The loopback port it listens on.
    pub port: u16,
}

unsafe extern "C" fn echo(s: *mut ntls_socket, buf: *const u8, len: usize, _: *mut c_void) {
    // SAFETY: the socket and bytes the library hands to its data callback.
    unsafe { ntls_socket_write(s, buf.cast(), len, None, std::ptr::null_mut()) };
}

unsafe extern "C" fn on_secure(_: *mut ntls_server, s: *mut ntls_socket, _: *mut c_void) {
    // SAFETY: the socket lent to the callback.
    unsafe { ntls_socket_on_data(s, Some(echo)) };
}

/// Options of a server with the test EC certificate, ALPN, and a short handshake timeout.
pub fn server_options() -> *mut OptionsHandle {
    let mut o = std::ptr::null_mut();
    let key = crate::cert_file("server-ec-key.pem");
    let cert = crate::cert_file("server-ec-cert.pem");
    // SAFETY: C API calls with valid arguments.
    unsafe {
        assert_eq!(ntls_options_new(&mut o), 0);
        assert_eq!(ntls_options_add_bytes(o, NTLS_OPT_KEY, key.as_ptr(), key.len()), 0);
        assert_eq!(ntls_options_add_bytes(o, NTLS_OPT_CERT, cert.as_ptr(), cert.len()), 0);
        assert_eq!(ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, c"h2,http/1.1".as_ptr()), 0);
        assert_eq!(ntls_options_set_int(o, NTLS_OPT_HANDSHAKE_TIMEOUT, 2000), 0);
    }
    o
}

/// Makes a server that echoes once secure (not listening yet).
pub fn new_echo_server() -> *mut ntls_server {
    let o = server_options();
    let mut srv = std::ptr::null_mut();
    // SAFETY: C API calls with valid arguments.
    unsafe {
        assert_eq!(ntls_server_new(std::ptr::null_mut(), o, &mut srv), 0);
        assert_eq!(ntls_server_on_secure_connection(srv, Some(on_secure)), 0);
        ntls_options_unref(o);
    }
    srv
}

/// Listens on 127.0.0.1, port 0, and waits for the port.
pub fn listen(srv: *mut ntls_server) -> Option<u16> {
    // SAFETY: C API calls with valid arguments.
    unsafe {
        if ntls_server_listen(srv, c"127.0.0.1".as_ptr(), 0, None) != 0 {
            return None;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let mut port: c_int = 0;
            if ntls_server_address(srv, std::ptr::null_mut(), 0, &mut port, std::ptr::null_mut()) == 0 {
                return u16::try_from(port).ok();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    None
}

/// The process's echo server, started on first use.
pub fn echo_server() -> &'static EchoServer {
    static SERVER: OnceLock<EchoServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let srv = new_echo_server();
        let port = listen(srv).expect("the echo server listens");
        EchoServer { srv: srv as usize, port }
    })
}

/// Waits (bounded) until the server has no connection left, so that one input's work does
/// not spill into the next; false if some is still open after `limit`.
pub fn wait_idle(srv: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    // SAFETY: a live server handle.
    while unsafe { ntls_server_connections(srv as *const ntls_server) } > 0 {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    true
}
