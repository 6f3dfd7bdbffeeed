//! One TLS client connection on the shared mio loop, and the client configuration.

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

/// The client config every server is measured with: X25519 only, so Node (OpenSSL 3.0,
/// no ML-KEM) and rustls servers do the same key exchange.
pub fn client_config(ca: &str, tls12: bool, resume: bool) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(c.expect("CA certificate")).expect("usable CA");
    }
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519];
    let versions: &[&rustls::SupportedProtocolVersion] =
        if tls12 { &[&rustls::version::TLS12] } else { &[&rustls::version::TLS13] };
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !resume {
        config.resumption = rustls::client::Resumption::disabled();
    }
    Arc::new(config)
}

/// A client connection: TCP, rustls, and whether the server has closed.
pub struct Conn {
    /// The socket.
    pub stream: TcpStream,
    /// The TLS state.
    pub tls: ClientConnection,
    /// The server sent close_notify or FIN.
    pub peer_closed: bool,
}

impl Conn {
    /// Starts connecting to `addr` and registers under `token`.
    pub fn open(
        registry: &Registry,
        token: Token,
        addr: SocketAddr,
        config: &Arc<ClientConfig>,
    ) -> io::Result<Conn> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        let name = ServerName::try_from("localhost").expect("valid name");
        let mut tls = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
        // The modes pace themselves (they write only once the socket took the last chunk).
        tls.set_buffer_limit(None);
        Ok(Conn { stream, tls, peer_closed: false })
    }

    /// Reads what the socket has, decrypts, and appends plaintext to `out`.
    pub fn read(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        loop {
            match self.tls.read_tls(&mut self.stream) {
                Ok(0) => {
                    self.peer_closed = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            let state = self.tls.process_new_packets().map_err(io::Error::other)?;
            self.drain_plaintext(out, state.plaintext_bytes_to_read())?;
            if state.peer_has_closed() {
                self.peer_closed = true;
            }
        }
        let state = self.tls.process_new_packets().map_err(io::Error::other)?;
        self.drain_plaintext(out, state.plaintext_bytes_to_read())?;
        if state.peer_has_closed() {
            self.peer_closed = true;
        }
        Ok(())
    }

    fn drain_plaintext(&mut self, out: &mut Vec<u8>, n: usize) -> io::Result<()> {
        if n > 0 {
            let at = out.len();
            out.resize(at + n, 0);
            self.tls.reader().read_exact(&mut out[at..])?;
        }
        Ok(())
    }

    /// Queues plaintext (rustls buffers it until the handshake is done).
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.tls.writer().write_all(data)
    }

    /// Sends what rustls has queued; false if the socket is full.
    pub fn flush(&mut self) -> io::Result<bool> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.stream) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Sends close_notify.
    pub fn close(&mut self) -> io::Result<()> {
        self.tls.send_close_notify();
        self.flush().map(|_| ())
    }
}

/// Raises the open-file limit to its hard maximum (idle mode holds thousands of sockets).
pub fn raise_fd_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
