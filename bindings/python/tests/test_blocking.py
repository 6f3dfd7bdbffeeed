"""nodetls.create_connection: the blocking socket-like object, against Python's ssl."""

import socket
import ssl
import threading
import time

import pytest

import nodetls
from helpers import WAIT, cert_path
from pathlib import Path
from peers import SSLEchoServer

CA = Path(cert_path("ca-cert.pem"))


def recv_exactly(s, n):
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def tls_listener():
    """A Python ssl server context and a bound, listening loopback socket for it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path("server-ec-cert.pem"), cert_path("server-ec-key.pem"))
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    return ctx, lsock


def test_echo_with_python_ssl_server_and_socket_manners():
    data = bytes(range(256)) * 4000  # 1 MB, every byte value
    with SSLEchoServer(alpn=["h2", "http/1.1"]) as peer:
        with nodetls.create_connection(("localhost", peer.port), timeout=WAIT, ca=CA,
                                       alpn_protocols=["http/1.1"]) as s:
            s.sendall(data)
            assert recv_exactly(s, len(data)) == data
            assert s.version() == "TLSv1.3"
            assert s.selected_alpn_protocol() == "http/1.1"
            assert s.getpeername() == ("127.0.0.1", peer.port)
            assert s.gettimeout() == WAIT
            name, version, _bits = s.cipher()
            s.shutdown(socket.SHUT_WR)  # close_notify: the echo server's recv ends
            assert s.recv(10) == b""
        assert peer.done.wait(WAIT)
        seen = peer.sessions[0]
        assert "error" not in seen and seen["alpn"] == "http/1.1"
        assert (name, version) == (seen["cipher"], "TLSv1.3")


def test_makefile_lines_both_ways():
    with SSLEchoServer() as peer:
        with nodetls.create_connection(("localhost", peer.port), timeout=WAIT, ca=CA) as s:
            w = s.makefile("w", encoding="utf-8")
            r = s.makefile("r", encoding="utf-8", newline="\n")
            for i in range(50):
                w.write(f"line {i} \u00e9\n")
            w.flush()
            assert [r.readline() for _ in range(50)] == [f"line {i} \u00e9\n" for i in range(50)]
            rb = s.makefile("rb", buffering=0)
            s.sendall(b"raw")
            assert rb.read(3) == b"raw"


def test_timeout_raises_and_leaves_the_connection_usable():
    with SSLEchoServer() as peer:
        s = nodetls.create_connection(("localhost", peer.port), ca=CA)
        s.settimeout(0.2)
        start = time.monotonic()
        with pytest.raises(socket.timeout) as info:  # socket.timeout is TimeoutError
            s.recv(10)
        assert 0.15 < time.monotonic() - start < 2
        assert isinstance(info.value, nodetls.TLSError) and info.value.code == "ETIMEDOUT"
        s.sendall(b"still here")
        assert recv_exactly(s, 10) == b"still here"
        s.close()
        s.close()  # idempotent
        with pytest.raises(OSError):
            s.recv(1)


def test_sendall_waits_for_a_peer_that_does_not_read():
    """A raw TLS peer that never reads: sendall blocks on the library's drain and times
    out, rather than buffering without bound."""
    ctx, lsock = tls_listener()
    held = []
    stop = threading.Event()

    def accept():
        raw, _ = lsock.accept()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        held.append(ctx.wrap_socket(raw, server_side=True))
        stop.wait(WAIT)

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        s = nodetls.create_connection(("localhost", lsock.getsockname()[1]), timeout=WAIT,
                                      ca=CA, high_water_mark=16384)
        s.settimeout(0.5)
        block = b"y" * 65536
        with pytest.raises(TimeoutError):
            for _ in range(1024):  # 64 MiB if nothing ever pushed back
                s.sendall(block)
        assert s.tls.bytes_written < 64 << 20
        s.tls.destroy()
    finally:
        stop.set()
        t.join(WAIT)
        lsock.close()


def test_errors_are_socket_and_ssl_exceptions(closed_port):
    with pytest.raises(ConnectionRefusedError) as refused:
        nodetls.create_connection(("127.0.0.1", closed_port), timeout=WAIT)
    assert refused.value.code == "ECONNREFUSED"
    with SSLEchoServer(cert="expired") as peer:
        with pytest.raises(ssl.SSLCertVerificationError) as expired:
            nodetls.create_connection(("localhost", peer.port), timeout=WAIT, ca=CA)
        assert expired.value.code == "CERT_HAS_EXPIRED"
        assert expired.value.verify_message


def test_connect_timeout(closed_port):
    """A listener that never accepts nor answers the handshake: the timeout covers it."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    try:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            nodetls.create_connection(("localhost", lsock.getsockname()[1]), timeout=0.3,
                                      ca=CA)
        assert time.monotonic() - start < 3
    finally:
        lsock.close()


def test_close_returns_once_queued_data_reached_the_kernel():
    """sendall then close then destroy at once (what the exit hook does): a peer that reads
    everything still gets every byte, because close() waited for the flush."""
    ctx, lsock = tls_listener()
    got = []

    def sink():
        raw, _ = lsock.accept()
        raw.settimeout(WAIT)
        with ctx.wrap_socket(raw, server_side=True) as tls:
            n = 0
            try:
                while True:
                    chunk = tls.recv(1 << 16)
                    if not chunk:
                        break
                    n += len(chunk)
            except (ssl.SSLError, OSError):
                pass
            got.append(n)

    t = threading.Thread(target=sink, daemon=True)
    t.start()
    data = b"z" * (8 << 20)
    # A high-water mark above the data: sendall returns with all of it still queued.
    s = nodetls.create_connection(("localhost", lsock.getsockname()[1]), timeout=WAIT, ca=CA,
                                  high_water_mark=64 << 20)
    s.sendall(data)
    s.close()
    s.tls.destroy()
    t.join(WAIT)
    lsock.close()
    assert got == [len(data)]
