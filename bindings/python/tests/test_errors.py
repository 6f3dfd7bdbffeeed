"""Failures at the call (options, key material) and later (ECONNREFUSED)."""

import pytest

import nodetls
from helpers import WAIT, pem


def test_econnrefused(closed_port):
    s = nodetls.connect(port=closed_port, host="127.0.0.1")
    err, = s.wait("error", WAIT)
    assert err.code == "ECONNREFUSED"
    assert err.status == -111
    assert s.wait("close", WAIT) == (True,)
    assert s.closed
    with pytest.raises(nodetls.TLSError) as info:
        s.write(b"late")
    assert info.value.code == "ECLOSED"


def test_unknown_option_keyword():
    with pytest.raises(ValueError, match="rejectUnauthorised"):
        nodetls.connect(port=1, host="127.0.0.1", rejectUnauthorised=False)


def test_option_of_wrong_type_has_library_words():
    with pytest.raises(ValueError, match="option 'port' takes"):
        nodetls.connect(port="443", host="127.0.0.1")


def test_refused_option_is_tls_error():
    with pytest.raises(nodetls.TLSError) as info:
        nodetls.connect(port=1, host="127.0.0.1", NPNProtocols=["h2"])
    assert info.value.code == "ENOTSUP"
    assert "ALPNProtocols" in str(info.value)


def test_bad_pem_at_create_server():
    with pytest.raises(nodetls.TLSError) as info:
        nodetls.create_server(key=b"-----BEGIN PRIVATE KEY-----\nnot base64\n", cert=pem(
            "server-ec-cert.pem"))
    assert info.value.status < 0
    assert "key" in str(info.value).lower()


def test_mismatched_key_at_create_server():
    with pytest.raises(nodetls.TLSError) as info:
        nodetls.create_server(key=pem("server-rsa-key.pem"), cert=pem("server-ec-cert.pem"))
    assert "does not match" in str(info.value)


def test_address_in_use_is_an_error_event():
    first = nodetls.create_server(key=pem("server-ec-key.pem"), cert=pem("server-ec-cert.pem"))
    first.listen(0, "127.0.0.1").wait("listening", WAIT)
    second = nodetls.create_server(key=pem("server-ec-key.pem"), cert=pem("server-ec-cert.pem"))
    try:
        second.listen(first.address()["port"], "127.0.0.1")
        err, = second.wait("error", WAIT)
        assert err.code == "EADDRINUSE"
    finally:
        for srv in (first, second):
            srv.close()
            srv.wait("close", WAIT)
