"""Echo with Python's ``ssl`` module (OpenSSL) as the peer, in both directions."""

import ssl
import threading

import pytest

import nodetls
from helpers import WAIT, pem
from peers import SSLEchoServer, ssl_client


def collect(sock, until):
    """Gathers ``data`` until ``until`` bytes arrived; returns (event, chunks)."""
    chunks = []
    enough = threading.Event()

    def on_data(d):
        chunks.append(d)
        if sum(map(len, chunks)) >= until:
            enough.set()

    sock.on("data", on_data)
    return enough, chunks


def test_client_echo_against_python_ssl_server():
    payload = b"hello from nodetls " * 100
    with SSLEchoServer(alpn=["h2", "http/1.1"]) as peer:
        s = nodetls.connect(port=peer.port, host="127.0.0.1", servername="localhost",
                            ca=pem("ca-cert.pem"), ALPNProtocols=["http/1.1"])
        enough, chunks = collect(s, len(payload))
        s.wait("secureConnect", WAIT)
        assert s.write(payload) is True
        assert enough.wait(WAIT)
        assert b"".join(chunks) == payload

        assert s.authorized is True
        assert s.authorization_error is None
        assert s.alpn_protocol == "http/1.1"
        assert s.servername == "localhost"
        assert s.remote_address == "127.0.0.1" and s.remote_port == peer.port
        protocol, cipher = s.protocol, s.cipher
        s.end()
        (had_error,) = s.wait("close", WAIT)
        assert had_error is False

        assert peer.done.wait(WAIT)
        seen = peer.sessions[0]
        assert "error" not in seen, seen
        assert protocol == seen["version"] == "TLSv1.3"
        assert cipher["standardName"] == seen["cipher"]
        assert cipher["version"] == "TLSv1.3"
        assert seen["alpn"] == "http/1.1"
        # As in Node, getProtocol()/getCipher() answer null once closed; properties stay.
        assert s.protocol is None and s.cipher is None
        assert s.alpn_protocol == "http/1.1" and s.servername == "localhost"


def test_client_tls12_against_python_ssl_server():
    with SSLEchoServer(maximum_version=ssl.TLSVersion.TLSv1_2) as peer:
        s = nodetls.connect(port=peer.port, host="localhost", ca=pem("ca-cert.pem"))
        s.wait("secureConnect", WAIT)
        assert s.protocol == "TLSv1.2"
        assert s.alpn_protocol is False
        cipher = s.cipher
        s.destroy()
        s.wait("close", WAIT)
        assert peer.done.wait(WAIT)
        assert peer.sessions[0].get("version") == "TLSv1.2"
        # OpenSSL names TLS 1.2 suites its own way, which is getCipher()'s `name`.
        assert cipher["name"] == peer.sessions[0]["cipher"]


def test_client_max_version_option():
    with SSLEchoServer() as peer:
        s = nodetls.connect(port=peer.port, host="localhost", ca=pem("ca-cert.pem"),
                            maxVersion="TLSv1.2")
        try:
            s.wait("secureConnect", WAIT)
            assert s.protocol == "TLSv1.2"
        finally:
            s.destroy()
            s.wait("close", WAIT)


def test_server_echo_against_python_ssl_client():
    accepted = []
    server = nodetls.create_server(key=pem("server-ec-key.pem"), cert=pem("server-ec-cert.pem"),
                                   ALPNProtocols=["h2", "http/1.1"])

    def on_connection(sock):
        accepted.append((sock, sock.protocol, sock.cipher, sock.remote_address))
        sock.on("data", sock.write)

    server.on("secureConnection", on_connection)
    server.listen(0, "127.0.0.1").wait("listening", WAIT)
    addr = server.address()
    assert addr["address"] == "127.0.0.1" and addr["family"] == "IPv4" and addr["port"] > 0
    try:
        got, version, cipher, alpn = ssl_client(addr["port"], alpn=["http/1.1", "h2"],
                                                data=b"ping" * 1000)
        assert got == b"ping" * 1000
        assert version == "TLSv1.3"
        assert alpn == "h2"  # the server's preference wins

        sock, protocol, sock_cipher, remote = accepted[0]
        sock.wait("close", WAIT)
        assert protocol == version
        assert sock_cipher["standardName"] == cipher
        assert remote == "127.0.0.1"
        assert sock.alpn_protocol == "h2"
        assert sock.servername == "localhost"
        assert sock.protocol is None and sock.remote_address is None  # Node: null once closed
    finally:
        server.close()
        server.wait("close", WAIT)
    assert server.address() is None
