"""Certificate failures reach 'error' listeners with Node's codes, or, with
rejectUnauthorized=False, show up as authorized False and authorization_error."""

import socket
import ssl
import threading

import pytest

import nodetls
from helpers import WAIT, cert_path, pem
from peers import SSLEchoServer


def attempt(port, **opts):
    """Connects with the test CA; returns (socket, error or None, had_error)."""
    s = nodetls.connect(port=port, host="localhost", ca=pem("ca-cert.pem"), **opts)
    errors = []
    s.on("error", errors.append)
    # Without a data listener nothing is read, so resume() or the peer's close never arrives.
    s.on("secureConnect", lambda: (s.resume(), s.end()))
    (had_error,) = s.wait("close", WAIT)
    return s, (errors[0] if errors else None), had_error


@pytest.mark.parametrize("cert, code", [
    ("selfsigned", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    ("expired", "CERT_HAS_EXPIRED"),
    ("wronghost", "ERR_TLS_CERT_ALTNAME_INVALID"),
])
def test_rejected_with_node_code(cert, code):
    with SSLEchoServer(cert=cert) as peer:
        s, err, had_error = attempt(peer.port)
        assert isinstance(err, nodetls.TLSError)
        assert err.code == code
        assert err.status < 0
        assert str(err)
        assert had_error is True
        assert s.authorized is False
        assert peer.done.wait(WAIT)
        assert "error" in peer.sessions[0]  # OpenSSL saw our alert


def test_self_signed_accepted_but_unauthorized():
    with SSLEchoServer(cert="selfsigned") as peer:
        s, err, had_error = attempt(peer.port, rejectUnauthorized=False)
        assert err is None and had_error is False
        assert s.authorized is False
        assert s.authorization_error == "DEPTH_ZERO_SELF_SIGNED_CERT"
        assert s.protocol is None  # getProtocol() is null once closed, as in Node


def test_self_signed_trusted_through_ca():
    with SSLEchoServer(cert="selfsigned") as peer:
        s = nodetls.connect(port=peer.port, host="localhost", ca=[pem("selfsigned-cert.pem")])
        s.wait("secureConnect", WAIT)
        assert s.authorized is True and s.authorization_error is None
        s.resume()
        s.end()
        s.wait("close", WAIT)


def test_server_sees_client_rejection_as_tls_client_error():
    server = nodetls.create_server(key=pem("selfsigned-key.pem"), cert=pem("selfsigned-cert.pem"))
    client_errors = []
    seen = threading.Event()
    # Added before any client comes: tlsClientError can repeat, so it is not remembered.
    server.on("tlsClientError", lambda err: (client_errors.append(err), seen.set()))
    server.listen(0, "127.0.0.1").wait("listening", WAIT)
    try:
        ctx = ssl.create_default_context(cafile=cert_path("ca-cert.pem"))
        with socket.create_connection(("127.0.0.1", server.address()["port"]), timeout=WAIT) as raw:
            with pytest.raises(ssl.SSLCertVerificationError):
                ctx.wrap_socket(raw, server_hostname="localhost")
        assert seen.wait(WAIT)
        assert client_errors[0].code == "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"
    finally:
        server.close()
        server.wait("close", WAIT)
