"""A hostile TLS client for the fault suite: `hostile.py SCENARIO PORT`.

Connects to 127.0.0.1:PORT and misbehaves in one way (see SCENARIOS), then prints one line,
"peer: ...", saying what it saw of the server (an echo's size, an alert, EOF or a reset).
Python's ssl (through a memory BIO, so every byte sent is ours to cut) makes the honest
parts; tlslite-ng, whose record layer can be driven by hand, sends data after close_notify.
"""
import random
import socket
import ssl
import struct
import sys
import time


def raw(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def outcome(s, limit=10.0):
    """Reads until EOF or reset; returns 'eof N', 'reset N' or 'open N' (N bytes read)."""
    got = 0
    s.settimeout(limit)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return "eof %d" % got
            got += len(b)
    except ConnectionResetError:
        return "reset %d" % got
    except socket.timeout:
        return "open %d" % got


class Memory:
    """A TLS client over a memory BIO, on a plain socket."""

    def __init__(self, port, version=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if version:
            ctx.minimum_version = ctx.maximum_version = version
        self.sock = raw(port)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost")

    def pending(self):
        return self.out.read()

    def handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                self.sock.sendall(self.pending())
                return
            except ssl.SSLWantReadError:
                self.sock.sendall(self.pending())
                b = self.sock.recv(65536)
                if not b:
                    raise ConnectionError("server closed during the handshake")
                self.inc.write(b)

    def records(self, data):
        self.tls.write(data)
        return self.pending()

    def read_plain(self, want, limit=10.0):
        got = b""
        self.sock.settimeout(limit)
        while len(got) < want:
            try:
                got += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                break
            b = self.sock.recv(65536)
            if not b:
                self.inc.write_eof()
                break
            self.inc.write(b)
        return got


def client_hello(port):
    m = Memory(port)
    try:
        m.tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return m, m.pending()


def payload(n, seed):
    return random.Random(seed).randbytes(n)


def reset_mid_record(port):
    m = Memory(port)
    m.handshake()
    rec = m.records(payload(12000, 1))
    m.sock.sendall(rec[: len(rec) // 2])
    time.sleep(0.1)
    reset(m.sock)
    return "reset after %d of %d bytes of a record" % (len(rec) // 2, len(rec))


def truncated_handshake(port):
    m, hello = client_hello(port)
    m.sock.sendall(hello[:60])
    m.sock.shutdown(socket.SHUT_WR)
    return outcome(m.sock)


def garbage(port):
    s = raw(port)
    junk = payload(4096, 2)
    s.sendall(b"\x9c" + junk)
    return outcome(s)


def huge_message(port):
    s = raw(port)
    # A handshake record whose ClientHello announces 16 MiB - 1 bytes, then the first 16 KiB.
    body = b"\x01\xff\xff\xff" + bytes(16380)
    try:
        s.sendall(b"\x16\x03\x01" + struct.pack(">H", len(body)) + body)
    except OSError:
        pass
    return outcome(s)


def huge_record(port):
    s = raw(port)
    # A record header announcing 65,535 bytes (the limit is 16 KiB plus expansion).
    try:
        s.sendall(b"\x16\x03\x01\xff\xff" + bytes(65535))
    except OSError:
        pass
    return outcome(s)


def repeated_hello(port):
    m, hello = client_hello(port)
    m.sock.sendall(hello + hello)
    return outcome(m.sock)


def half_close(port):
    m = Memory(port)
    m.handshake()
    data = payload(100000, 3)
    m.sock.sendall(m.records(data))
    m.sock.shutdown(socket.SHUT_WR)  # FIN without close_notify
    echo = m.read_plain(len(data))
    return "echoed %d of %d bytes%s, then %s" % (
        len(echo), len(data), "" if echo == data[: len(echo)] else " (CORRUPT)", outcome(m.sock))


def close_notify_then_data(port):
    from tlslite.api import TLSConnection, HandshakeSettings
    from tlslite.messages import Alert
    from tlslite.constants import AlertDescription, AlertLevel, ContentType
    s = raw(port)
    c = TLSConnection(s)
    settings = HandshakeSettings()
    c.handshakeClientCert(settings=settings, serverName="localhost")
    c.write(b"before")
    for _ in c._sendMsg(Alert().create(AlertDescription.close_notify, AlertLevel.warning)):
        pass
    # Application data after close_notify, through the record layer itself (write() would refuse).
    from tlslite.messages import ApplicationData
    for _ in c._sendMsg(ApplicationData().create(bytearray(b"after"))):
        pass
    s.settimeout(5)
    seen = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            seen += b
    except (ConnectionResetError, socket.timeout):
        pass
    return "sent 'before', close_notify, 'after'; %d bytes came back before the server closed" % len(seen)


SCENARIOS = {f.__name__: f for f in (reset_mid_record, truncated_handshake, garbage, huge_message,
                                    huge_record, repeated_hello, half_close, close_notify_then_data)}

if __name__ == "__main__":
    name, port = sys.argv[1], int(sys.argv[2])
    print("peer: " + SCENARIOS[name](port), flush=True)
