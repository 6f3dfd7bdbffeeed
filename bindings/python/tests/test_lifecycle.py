"""Life-cycle rules of the binding: late listeners, backpressure, closing, releasing."""

import threading

import pytest

import nodetls
from nodetls import _loop
from helpers import WAIT, pem


@pytest.fixture
def echo_server():
    """Our own echo server on 127.0.0.1; yields (server, accepted sockets)."""
    accepted = []
    server = nodetls.create_server(key=pem("server-ec-key.pem"), cert=pem("server-ec-cert.pem"))

    def on_connection(sock):
        accepted.append(sock)
        sock.on("data", sock.write)

    server.on("secureConnection", on_connection)
    server.listen(0, "127.0.0.1").wait("listening", WAIT)
    yield server, accepted
    server.close()
    server.wait("close", WAIT)


def client(server, **opts):
    return nodetls.connect(port=server.address()["port"], host="localhost",
                           ca=pem("ca-cert.pem"), **opts)


def test_late_listeners_still_run_once(echo_server):
    server, _ = echo_server
    s = client(server)
    s.wait("secureConnect", WAIT)
    s.destroy()
    s.wait("close", WAIT)
    calls = []
    done = threading.Event()
    s.on("secureConnect", lambda: calls.append("secureConnect"))
    s.on("close", lambda had_error: (calls.append(("close", had_error)),
                                     calls.append(threading.current_thread()), done.set()))
    assert done.wait(WAIT)
    assert calls[:2] == ["secureConnect", ("close", False)]
    assert calls[2] is not threading.current_thread()  # replayed on the loop thread


def test_big_echo_with_backpressure(echo_server):
    server, _ = echo_server
    total = 4 << 20
    block = bytes(range(256)) * 256  # 64 KiB
    received = bytearray()
    got_all = threading.Event()
    s = client(server, highWaterMark=65536)

    def on_data(d):
        received.extend(d)
        if len(received) >= total:
            got_all.set()

    s.on("data", on_data)
    drained = threading.Event()
    s.on("drain", drained.set)  # before writing: a drain is never replayed
    s.wait("secureConnect", WAIT)
    saw_false = False
    sent = 0
    while sent < total:
        drained.clear()
        ok = s.write(block)
        sent += len(block)
        if not ok:
            saw_false = True
            assert drained.wait(WAIT)
    assert got_all.wait(WAIT)
    assert bytes(received) == block * (total // len(block))
    assert saw_false, "write() never asked to wait for drain"
    s.end()
    s.wait("close", WAIT)


def test_write_callback_and_ordering(echo_server):
    server, _ = echo_server
    s = client(server)
    done = []
    finished = threading.Event()
    s.write(b"one", lambda err: done.append(("one", err)))
    s.write("two", lambda err: (done.append(("two", err)), finished.set()))
    assert finished.wait(WAIT)
    assert done == [("one", None), ("two", None)]
    s.destroy()
    s.wait("close", WAIT)


def test_pause_and_resume(echo_server):
    server, accepted = echo_server
    s = client(server)
    chunks = []
    arrived = threading.Event()
    s.on("data", lambda d: (chunks.append(d), arrived.set()))
    s.wait("secureConnect", WAIT)
    s.pause()
    s.write(b"held")
    # Nothing may be delivered while paused; there is no event for "nothing", so wait a bit.
    assert not arrived.wait(0.3)
    s.resume()
    assert arrived.wait(WAIT)
    assert b"".join(chunks) == b"held"
    s.end()
    s.wait("close", WAIT)


def test_destroy_from_inside_a_listener_and_twice(echo_server):
    server, _ = echo_server
    s = client(server)
    s.on("secureConnect", s.destroy)
    assert s.wait("close", WAIT) == (False,)
    s.destroy()  # idempotent, as in Node
    s.end()


def test_unstarted_socket_closes_on_destroy():
    s = nodetls.TLSSocket()
    s.destroy()
    assert s.wait("close", WAIT) == (False,)


def test_server_close_waits_for_connections(echo_server):
    server, accepted = echo_server
    s = client(server)
    s.on("data", lambda d: None)
    s.wait("secureConnect", WAIT)
    closed = threading.Event()
    server.close(closed.set)
    assert not closed.wait(0.2)  # a connection is still open
    assert server.connections == 1
    s.end()
    assert closed.wait(WAIT)


def test_handles_released_after_close(echo_server):
    server, accepted = echo_server
    s = client(server)
    s.on("data", lambda d: None)
    s.wait("secureConnect", WAIT)
    s.end()
    s.wait("close", WAIT)
    accepted[0].wait("close", WAIT)
    # The id table is how C finds Python objects; a closed socket must have left it.
    live = [o for o in _loop.live_objects() if isinstance(o, nodetls.TLSSocket)]
    assert s not in live and accepted[0] not in live
    assert accepted[0].protocol is None  # getProtocol() is null once closed, as in Node
    assert accepted[0].servername == "localhost"  # properties stay, as Node's do
