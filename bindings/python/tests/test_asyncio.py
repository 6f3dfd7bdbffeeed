"""nodetls.asyncio: asyncio's StreamReader/StreamWriter over nodetls, against itself and
against Python's asyncio+ssl (OpenSSL) in both directions, with backpressure."""

import asyncio
import errno
import os
import ssl

import pytest

import nodetls
from nodetls import _loop
from nodetls import asyncio as tls_asyncio
from helpers import WAIT, cert_path
from pathlib import Path

KEY = Path(cert_path("server-ec-key.pem"))
CERT = Path(cert_path("server-ec-cert.pem"))
CA = Path(cert_path("ca-cert.pem"))


def run(coro, timeout=WAIT * 4):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo_handler(reader, writer):
    """Reads to EOF, echoes it all, closes: a handler written for plain asyncio."""
    data = await reader.read()
    writer.write(data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def payload(i):
    """Distinct, non-repeating bytes per client, 1-9 KiB."""
    return (f"client {i}:".encode() + os.urandom(1024 * (1 + i % 9)))


def test_echo_1000_concurrent_clients():
    async def main():
        server = await tls_asyncio.start_server(echo_handler, "127.0.0.1", 0, key=KEY,
                                                cert=CERT)
        port = server.sockets[0].getsockname()[1]

        async def client(i):
            reader, writer = await tls_asyncio.open_connection("localhost", port, ca=CA)
            data = payload(i)
            writer.write(data)
            await writer.drain()
            writer.write_eof()  # half-close: the server still answers
            got = await reader.read()
            writer.close()
            await writer.wait_closed()
            return got == data, len(data)

        results = await asyncio.gather(*(client(i) for i in range(1000)))
        assert all(ok for ok, _ in results), sum(not ok for ok, _ in results)
        server.close()
        await server.wait_closed()
        return sum(n for _, n in results)

    total = run(main(), timeout=120)
    assert total > 1000 * 1024
    assert not [o for o in _loop.live_objects() if isinstance(o, (nodetls.TLSSocket,
                                                                   nodetls.Server))]


def test_drain_waits_for_the_librarys_drain():
    """A server that does not read: the client's writes pass the high-water mark, drain()
    blocks, and returns once the server reads. Every byte arrives, in order."""
    async def main():
        release = asyncio.Event()
        received = []

        async def slow(reader, writer):
            await release.wait()
            received.append(await reader.read())
            writer.close()

        server = await tls_asyncio.start_server(slow, "127.0.0.1", 0, key=KEY, cert=CERT)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await tls_asyncio.open_connection("localhost", port, ca=CA,
                                                          high_water_mark=16384)
        block = os.urandom(256 * 1024)
        sent = bytearray()
        drain = None
        for _ in range(64):  # up to 16 MiB: far beyond what the kernel buffers
            writer.write(block)
            sent += block
            drain = asyncio.ensure_future(writer.drain())
            await asyncio.sleep(0.05)
            if not drain.done():
                break
        assert not drain.done(), "drain() never waited"
        assert writer.transport.get_write_buffer_size() > 0
        await asyncio.sleep(0.3)
        assert not drain.done()  # still nobody reading
        release.set()
        await asyncio.wait_for(drain, WAIT)
        writer.write_eof()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        assert received[0] == bytes(sent)

    run(main())


def test_reader_backpressure_pauses_the_socket():
    """A client that does not read: its StreamReader fills, the transport pauses the
    TLSSocket (so TCP pushes back on the server), then resumes as the client reads."""
    async def main():
        total = 8 << 20
        done = asyncio.Event()

        async def flood(reader, writer):
            block = b"x" * 65536
            for _ in range(total // len(block)):
                writer.write(block)
                await writer.drain()
            writer.close()
            done.set()

        server = await tls_asyncio.start_server(flood, "127.0.0.1", 0, key=KEY, cert=CERT)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await tls_asyncio.open_connection("localhost", port, ca=CA,
                                                          limit=65536)
        await asyncio.sleep(0.5)
        assert not writer.transport.is_reading()
        assert not done.is_set()  # the server is held back by drain()
        got = 0
        while True:
            chunk = await reader.read(1 << 20)
            if not chunk:
                break
            got += len(chunk)
        assert got == total
        await asyncio.wait_for(done.wait(), WAIT)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    run(main())


async def stream_echo(reader, writer):
    """Echoes as data comes (asyncio's own SSL transport cannot half-close, so a peer using
    it never sends EOF before it has its echo)."""
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            break
        writer.write(chunk)
        await writer.drain()
    writer.close()


def test_our_server_with_python_asyncio_ssl_client():
    async def main():
        server = await tls_asyncio.start_server(stream_echo, "127.0.0.1", 0, key=KEY,
                                                cert=CERT, alpn_protocols=["h2", "http/1.1"])
        port = server.sockets[0].getsockname()[1]
        ctx = ssl.create_default_context(cafile=str(CA))
        ctx.set_alpn_protocols(["http/1.1"])
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                       server_hostname="localhost")
        data = os.urandom(200_000)
        writer.write(data)
        await writer.drain()
        assert await reader.readexactly(len(data)) == data
        tls = writer.get_extra_info("ssl_object")
        assert tls.version() == "TLSv1.3"
        assert tls.selected_alpn_protocol() == "http/1.1"
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()  # our side saw the close and released the connection

    run(main())


def test_python_asyncio_ssl_server_with_our_client():
    async def main():
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(CERT), str(KEY))
        ctx.set_alpn_protocols(["h2"])
        seen = {}

        async def handler(reader, writer):
            seen["version"] = writer.get_extra_info("ssl_object").version()
            await stream_echo(reader, writer)

        server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await tls_asyncio.open_connection(
            "127.0.0.1", port, servername="localhost", ca=CA, alpn_protocols=["h2"])
        assert writer.get_extra_info("alpn_protocol") == "h2"
        assert writer.get_extra_info("peername") == ("127.0.0.1", port)
        data = os.urandom(300_000)
        writer.write(data)
        await writer.drain()
        got = await reader.readexactly(len(data))
        assert got == data
        assert writer.get_extra_info("ssl_protocol") == seen["version"] == "TLSv1.3"
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    run(main())


def test_errors_are_the_builtins_asyncio_code_catches(closed_port):
    async def main():
        with pytest.raises(ConnectionRefusedError) as refused:
            await tls_asyncio.open_connection("127.0.0.1", closed_port)
        assert refused.value.code == "ECONNREFUSED" and refused.value.errno == errno.ECONNREFUSED

        self_signed = await tls_asyncio.start_server(
            echo_handler, "127.0.0.1", 0, key=Path(cert_path("selfsigned-key.pem")),
            cert=Path(cert_path("selfsigned-cert.pem")))
        port = self_signed.sockets[0].getsockname()[1]
        with pytest.raises(ssl.SSLCertVerificationError) as bad_cert:
            await tls_asyncio.open_connection("localhost", port, ca=CA)
        assert bad_cert.value.code == "DEPTH_ZERO_SELF_SIGNED_CERT"
        assert isinstance(bad_cert.value, nodetls.TLSError)

        with pytest.raises(OSError) as in_use:
            await tls_asyncio.start_server(echo_handler, "127.0.0.1", port, key=KEY,
                                           cert=CERT)
        assert in_use.value.errno == errno.EADDRINUSE and in_use.value.code == "EADDRINUSE"
        self_signed.close()
        await self_signed.wait_closed()

    run(main())


def test_cancelled_open_connection_destroys_the_attempt():
    async def main():
        server = await tls_asyncio.start_server(echo_handler, "127.0.0.1", 0, key=KEY,
                                                cert=CERT)
        port = server.sockets[0].getsockname()[1]
        attempt = asyncio.ensure_future(tls_asyncio.open_connection("localhost", port, ca=CA))
        await asyncio.sleep(0)
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt
        server.close()
        await asyncio.wait_for(server.wait_closed(), WAIT)  # no connection left behind

    run(main())
    assert not [o for o in _loop.live_objects() if isinstance(o, nodetls.TLSSocket)]


def test_serve_forever_and_async_with():
    async def main():
        server = await tls_asyncio.start_server(echo_handler, "127.0.0.1", 0, key=KEY,
                                                cert=CERT)
        async with server:
            assert server.is_serving()
            task = asyncio.ensure_future(server.serve_forever())
            port = server.sockets[0].getsockname()[1]
            reader, writer = await tls_asyncio.open_connection("localhost", port, ca=CA)
            writer.write(b"once")
            writer.write_eof()
            assert await reader.read() == b"once"
            writer.close()
            await writer.wait_closed()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not server.is_serving()
        assert server.sockets == ()

    run(main())


def test_wait_closed_waits_for_open_connections_and_close_clients_ends_them():
    async def main():
        server = await tls_asyncio.start_server(stream_echo, "127.0.0.1", 0, key=KEY,
                                                cert=CERT)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await tls_asyncio.open_connection("localhost", port, ca=CA)
        writer.write(b"x")
        assert await reader.readexactly(1) == b"x"
        server.close()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 0.3)  # a connection is open
        with pytest.raises(ConnectionRefusedError):  # but nothing new is accepted
            await tls_asyncio.open_connection("127.0.0.1", port)
        server.close_clients()  # close_notify to our client, whose reader then ends
        assert await asyncio.wait_for(reader.read(), WAIT) == b""
        writer.close()
        await asyncio.wait_for(server.wait_closed(), WAIT)

    run(main())


def test_the_same_asyncio_code_runs_over_plain_tcp_and_nodetls():
    """Code written against asyncio's streams, given the module to use: only the import
    (and the TLS options) change."""
    async def app(streams, host, server_tls, client_tls):
        async def shout(reader, writer):
            line = await reader.readline()
            writer.write(line.upper())
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        server = await streams.start_server(shout, "127.0.0.1", 0, **server_tls)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await streams.open_connection(host, port, **client_tls)
            writer.write(b"hello\n")
            await writer.drain()
            got = await reader.readline()
            writer.close()
            await writer.wait_closed()
        return got

    assert run(app(asyncio, "127.0.0.1", {}, {})) == b"HELLO\n"
    assert run(app(tls_asyncio, "localhost", dict(key=KEY, cert=CERT), dict(ca=CA))) == b"HELLO\n"
