"""Python's manners: snake_case options (Node's camelCase too), key material as bytes, str
or a path, context managers, exceptions that are the built-ins users catch."""

import errno
import os
import re
import socket
import ssl
import struct
import subprocess
import threading
from pathlib import Path

import pytest

import nodetls
from nodetls import _loop
from nodetls.options import node_name
from helpers import ROOT, WAIT, cert_path, pem
from peers import SSLEchoServer, ssl_client


def header_option_names():
    """Node's option names, from the doc comments of include/nodetls.h's NTLS_OPT_* keys."""
    with open(os.path.join(ROOT, "include", "nodetls.h")) as f:
        text = f.read()
    return re.findall(r"\* `(\w+)`:[^\n]*\n \*/\n#define NTLS_OPT_\w+ \d+", text)


def snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def test_every_option_has_a_snake_case_spelling():
    names = header_option_names()
    assert len(names) >= 34 and "ALPNProtocols" in names and "minDHSize" in names
    for name in names:
        assert node_name(snake(name)) == name, (snake(name), name)
        assert node_name(name) == name
        # and the library agrees: the mapped name is an option it knows
        assert nodetls._lib.lib.ntls_option_by_name(node_name(snake(name)).encode()) > 0


def test_same_option_twice_is_a_type_error():
    with pytest.raises(TypeError, match="rejectUnauthorized.*given twice"):
        nodetls.connect(port=1, host="127.0.0.1", reject_unauthorized=False,
                        rejectUnauthorized=True)


def test_unknown_option_is_a_value_error_with_code():
    with pytest.raises(ValueError) as info:
        nodetls.connect(port=1, host="127.0.0.1", reject_unauthorised=False)
    assert info.value.code == "EINVAL" and "rejectUnauthorised" in str(info.value)
    assert isinstance(info.value, nodetls.TLSError)


def test_python_type_no_setter_takes_is_a_type_error():
    with pytest.raises(TypeError, match="option 'ca'"):
        nodetls.connect(port=1, host="127.0.0.1", ca=[3.5])


@pytest.mark.parametrize("form", ["bytes", "str", "path", "str-path-list", "os-pathlike"])
def test_key_material_as_bytes_str_or_path(form):
    key, cert, ca = (cert_path(n) for n in ("server-ec-key.pem", "server-ec-cert.pem",
                                            "ca-cert.pem"))
    as_form = {
        "bytes": lambda p: open(p, "rb").read(),
        "str": lambda p: open(p).read(),
        "path": Path,
        "str-path-list": lambda p: [Path(p)],
        "os-pathlike": lambda p: type("P", (), {"__fspath__": lambda self: p})(),
    }[form]
    os.PathLike.register(type(as_form(key))) if form == "os-pathlike" else None
    server = nodetls.create_server(key=as_form(key), cert=as_form(cert))
    server.on("secure_connection", lambda s: s.on("data", s.write))  # snake_case events too
    server.listen(0, "127.0.0.1").wait("listening", WAIT)
    try:
        got, version, _, _ = ssl_client(server.address()["port"], data=b"material")
        assert got == b"material"
        s = nodetls.connect(port=server.address()["port"], host="localhost", ca=as_form(ca))
        s.wait("secure_connect", WAIT)
        assert s.authorized
        s.destroy()
        s.wait("close", WAIT)
    finally:
        server.close()
        server.wait("close", WAIT)


def test_a_missing_key_file_is_file_not_found_naming_it(tmp_path):
    missing = tmp_path / "nope.pem"
    with pytest.raises(FileNotFoundError) as info:
        nodetls.create_server(key=missing, cert=Path(cert_path("server-ec-cert.pem")))
    assert info.value.code == "ENOENT" and info.value.errno == errno.ENOENT
    assert str(missing) in str(info.value)


def test_an_unreadable_key_file_is_permission_error(tmp_path):
    if os.geteuid() == 0:
        # root reads anything: make the path a directory instead, which nobody can read.
        bad = tmp_path / "dir.pem"
        bad.mkdir()
        with pytest.raises(nodetls.TLSError) as info:
            nodetls.create_server(key=bad, cert=Path(cert_path("server-ec-cert.pem")))
        assert str(bad) in str(info.value)
        return
    bad = tmp_path / "secret.pem"
    bad.write_bytes(pem("server-ec-key.pem"))
    bad.chmod(0)
    with pytest.raises(PermissionError):
        nodetls.create_server(key=bad, cert=Path(cert_path("server-ec-cert.pem")))


def test_bad_key_material_is_an_ssl_error():
    with pytest.raises(ssl.SSLError) as info:
        nodetls.create_server(key=pem("server-rsa-key.pem"), cert=pem("server-ec-cert.pem"))
    assert isinstance(info.value, nodetls.TLSError) and info.value.code
    assert "does not match" in str(info.value)


def test_key_with_its_own_passphrase_mapping(tmp_path):
    """Node's key: [{pem, passphrase}] goes to ntls_options_add_key; a wrong one fails."""
    encrypted = tmp_path / "key-encrypted.pem"
    subprocess.run(["openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in",
                    cert_path("server-ec-key.pem"), "-passout", "pass:secret", "-out",
                    str(encrypted)], check=True, capture_output=True, timeout=30)
    cert = Path(cert_path("server-ec-cert.pem"))
    server = nodetls.create_server(key=[{"pem": encrypted.read_bytes(), "passphrase": "secret"}],
                                   cert=cert)
    server.on("secureConnection", lambda s: s.on("data", s.write))
    server.listen(0, "127.0.0.1").wait("listening", WAIT)
    try:
        assert ssl_client(server.address()["port"], data=b"unlocked")[0] == b"unlocked"
    finally:
        server.close()
        server.wait("close", WAIT)
    with pytest.raises(ssl.SSLError) as info:
        nodetls.create_server(key=[{"pem": encrypted.read_bytes(), "passphrase": "wrong"}],
                              cert=cert)
    assert info.value.code


def test_refused_connection_is_connection_refused_error(closed_port):
    s = nodetls.connect(port=closed_port, host="127.0.0.1")
    err, = s.wait("error", WAIT)
    assert isinstance(err, ConnectionRefusedError) and isinstance(err, nodetls.TLSError)
    assert (err.code, err.errno, err.syscall, err.address, err.port) == (
        "ECONNREFUSED", errno.ECONNREFUSED, "connect", "127.0.0.1", closed_port)


@pytest.mark.parametrize("cert, code", [("expired", "CERT_HAS_EXPIRED"),
                                        ("wronghost", "ERR_TLS_CERT_ALTNAME_INVALID")])
def test_certificate_failures_are_ssl_cert_verification_errors(cert, code):
    with SSLEchoServer(cert=cert) as peer:
        s = nodetls.connect(port=peer.port, host="localhost", ca=Path(cert_path("ca-cert.pem")))
        err, = s.wait("error", WAIT)
        assert isinstance(err, ssl.SSLCertVerificationError)
        assert isinstance(err, ssl.SSLError) and err.code == code
        assert err.verify_message == str(err)
        s.wait("close", WAIT)


def test_wait_timeout_is_timeout_error():
    s = nodetls.TLSSocket()
    with pytest.raises(TimeoutError):
        s.wait("secureConnect", 0.05)
    s.destroy()
    s.wait("close", WAIT)


def test_context_managers_close_server_and_socket():
    accepted = []
    with nodetls.create_server(key=pem("server-ec-key.pem"),
                               cert=pem("server-ec-cert.pem")) as server:
        server.on("secureConnection", lambda s: (accepted.append(s), s.on("data", s.write)))
        server.listen(0, "127.0.0.1").wait("listening", WAIT)
        got = []
        ended = threading.Event()
        with nodetls.connect(port=server.address()["port"], host="localhost",
                             ca=pem("ca-cert.pem")) as s:
            s.on("data", got.append)
            s.on("end", ended.set)
            s.wait("secureConnect", WAIT)
            s.write(b"bye")  # queued data still goes out: __exit__ ends, not destroys
        assert s.wait("close", WAIT) == (False,)
        assert b"".join(got) == b"bye"
    assert server.wait("close", WAIT) == ()  # __exit__ closed it
    with pytest.raises(RuntimeError):
        with nodetls.TLSSocket() as unstarted:
            raise RuntimeError("inside")
    assert unstarted.wait("close", WAIT) == (False,)  # an exception destroys
    assert not [o for o in _loop.live_objects() if isinstance(o, nodetls.TLSSocket)]


def test_a_str_is_pem_text_never_a_path():
    with pytest.raises(ssl.SSLError) as info:
        nodetls.create_server(key=cert_path("server-ec-key.pem"),
                              cert=Path(cert_path("server-ec-cert.pem")))
    assert "PEM" in str(info.value)


def test_unknown_host_is_socket_gaierror():
    s = nodetls.connect(port=443, host="nodetls-test.invalid")
    err, = s.wait("error", WAIT)
    assert isinstance(err, socket.gaierror) and isinstance(err, nodetls.TLSError)
    assert (err.code, err.errno) == ("ENOTFOUND", socket.EAI_NONAME)
    s.wait("close", WAIT)


def test_write_after_end_is_broken_pipe_error():
    with SSLEchoServer() as peer:
        s = nodetls.connect(port=peer.port, host="localhost", ca=pem("ca-cert.pem"))
        s.resume()
        s.wait("secureConnect", WAIT)
        s.end()
        assert s.write(b"late") is False  # as Node: false, then the error event
        err, = s.wait("error", WAIT)
        assert isinstance(err, BrokenPipeError) and err.code == "ERR_STREAM_WRITE_AFTER_END"
        s.wait("close", WAIT)


def test_peer_reset_is_connection_reset_error():
    """A Python ssl peer that finishes the handshake, then closes with SO_LINGER 0 (RST)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path("server-ec-cert.pem"), cert_path("server-ec-key.pem"))
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)

    def reset():
        raw, _ = lsock.accept()
        tls = ctx.wrap_socket(raw, server_side=True)
        tls.recv(4)  # the client's first bytes: the handshake is done on both sides
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        tls.close()

    t = threading.Thread(target=reset, daemon=True)
    t.start()
    try:
        s = nodetls.connect(port=lsock.getsockname()[1], host="localhost", ca=pem("ca-cert.pem"))
        s.on("data", lambda d: None)
        s.wait("secureConnect", WAIT)
        s.write(b"ping")
        err, = s.wait("error", WAIT)
        assert isinstance(err, ConnectionResetError) and err.code == "ECONNRESET"
        assert err.errno == errno.ECONNRESET
        s.wait("close", WAIT)
    finally:
        t.join(WAIT)
        lsock.close()
