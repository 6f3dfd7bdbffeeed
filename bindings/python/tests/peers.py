"""Python ``ssl`` peers (OpenSSL underneath) for interoperability tests, loopback only."""

import socket
import ssl
import threading

from helpers import WAIT, cert_path


class SSLEchoServer:
    """A Python ``ssl`` server in a thread: echoes each connection until the peer's EOF.

    ``sessions`` collects what OpenSSL saw per connection (version, cipher, ALPN) or the
    handshake failure; ``done`` is set after each connection ends.
    """

    def __init__(self, cert="server-ec", alpn=None, maximum_version=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if maximum_version:
            self.ctx.maximum_version = maximum_version
        self.ctx.load_cert_chain(cert_path(f"{cert}-cert.pem"), cert_path(f"{cert}-key.pem"))
        if alpn:
            self.ctx.set_alpn_protocols(alpn)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)  # so the accept loop sees `stop` promptly
        self.stop = threading.Event()
        self.port = self.sock.getsockname()[1]
        self.sessions = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(WAIT)
        self.sock.close()

    def _serve(self):
        while not self.stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(raw,), daemon=True).start()

    def _echo(self, raw):
        raw.settimeout(WAIT)
        info = {}
        try:
            with self.ctx.wrap_socket(raw, server_side=True) as tls:
                info.update(version=tls.version(), cipher=tls.cipher()[0],
                            alpn=tls.selected_alpn_protocol())
                while True:
                    try:
                        chunk = tls.recv(65536)
                    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                        break
                    if not chunk:
                        break
                    tls.sendall(chunk)
                try:
                    tls.unwrap()
                except (OSError, ssl.SSLError):
                    pass  # the peer may already be gone
        except (OSError, ssl.SSLError) as e:
            info["error"] = e
        finally:
            self.sessions.append(info)
            self.done.set()


def ssl_client(port, alpn=None, data=b"hello", hostname="localhost"):
    """A Python ``ssl`` client trusting the test CA, with hostname checks on: sends ``data``,
    half-closes, and returns (echo, version, cipher, alpn)."""
    ctx = ssl.create_default_context(cafile=cert_path("ca-cert.pem"))
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        with ctx.wrap_socket(raw, server_hostname=hostname) as tls:
            tls.sendall(data)
            got = b""
            while len(got) < len(data):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                got += chunk
            return got, tls.version(), tls.cipher()[0], tls.selected_alpn_protocol()
