//! One TLS client connection on the shared mio loop.

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

/// A client connection: TCP, rustls, and how the server ended it.
pub struct Conn {
    /// The socket.
    pub stream: TcpStream,
    /// The TLS state.
    pub tls: ClientConnection,
    /// The server sent FIN or close_notify: nothing more will come.
    pub peer_closed: bool,
    /// The server sent close_notify (a FIN alone could be a truncation).
    pub clean_close: bool,
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
        Ok(Conn { stream, tls, peer_closed: false, clean_close: false })
    }

    /// Reads until the socket would block, decrypts, and appends plaintext to `out`.
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
            self.process(out)?;
        }
        self.process(out)
    }

    fn process(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let state = self.tls.process_new_packets().map_err(io::Error::other)?;
        let n = state.plaintext_bytes_to_read();
        if n > 0 {
            let at = out.len();
            out.resize(at + n, 0);
            self.tls.reader().read_exact(&mut out[at..])?;
        }
        if state.peer_has_closed() {
            self.peer_closed = true;
            self.clean_close = true;
        }
        Ok(())
    }

    /// Queues plaintext (rustls holds it until the handshake is done).
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

    /// What was negotiated, as `key=value` words for the RESULT line.
    pub fn describe(&self) -> String {
        let version = self.tls.protocol_version().map_or("none".into(), |v| format!("{v:?}"));
        let suite = self.tls.negotiated_cipher_suite().map_or("none".into(), |s| format!("{:?}", s.suite()));
        let kx =
            self.tls.negotiated_key_exchange_group().map_or("none".into(), |g| format!("{:?}", g.name()));
        format!("version={version} suite={suite} kx={kx}")
    }
}
