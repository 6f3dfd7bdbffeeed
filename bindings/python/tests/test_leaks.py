"""10,000 connections through nodetls.asyncio leave no descriptor, handle or memory behind.

The library has no getter for its live handles, so the count comes from three places: the
process's descriptors (/proc/self/fd: every live socket holds one), the binding's id table
(every live TLSSocket, Server and pending write callback is in it), and the server's own
``connections``; plus RSS, which a leak of a few hundred bytes per connection would grow
by megabytes."""

import asyncio
import os
from pathlib import Path

from nodetls import _loop
from nodetls import asyncio as tls_asyncio
from helpers import cert_path

CONNECTIONS = 10_000
BATCH = 250  # concurrent connections per round


def fds():
    return len(os.listdir("/proc/self/fd"))


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


async def handler(reader, writer):
    writer.write(await reader.read(64))
    await writer.drain()
    writer.close()


def test_no_fd_handle_or_memory_leak_after_10000_connections():
    async def main():
        server = await tls_asyncio.start_server(handler, "127.0.0.1", 0,
                                                key=Path(cert_path("server-ec-key.pem")),
                                                cert=Path(cert_path("server-ec-cert.pem")))
        port = server.sockets[0].getsockname()[1]
        ca = Path(cert_path("ca-cert.pem")).read_bytes()

        async def one(i):
            reader, writer = await tls_asyncio.open_connection("localhost", port, ca=ca)
            writer.write(b"%d" % i)
            got = await reader.read()
            writer.close()
            await writer.wait_closed()
            return got == b"%d" % i

        async def rounds(n):
            ok = 0
            for start in range(0, n, BATCH):
                ok += sum(await asyncio.gather(*(one(i) for i in range(start, start + BATCH))))
            # The server's side closes a moment after the client's: wait for it, bounded.
            for _ in range(500):
                if server._tls.connections == 0:
                    break
                await asyncio.sleep(0.01)
            return ok

        assert await rounds(1000) == 1000  # warm-up: allocator arenas, caches
        base = fds(), _loop.pending(), rss_kib()
        assert await rounds(CONNECTIONS // 2) == CONNECTIONS // 2
        half = fds(), _loop.pending(), rss_kib()
        assert await rounds(CONNECTIONS // 2) == CONNECTIONS // 2
        end = fds(), _loop.pending(), rss_kib()
        assert server._tls.connections == 0
        server.close()
        await server.wait_closed()
        return base, half, end

    (fd0, table0, rss0), (fd1, table1, rss1), (fd2, table2, rss2) = asyncio.run(main())
    print(f"fds {fd0}/{fd1}/{fd2}, table {table0}/{table1}/{table2}, "
          f"RSS KiB {rss0}/{rss1}/{rss2}")
    assert fd2 == fd1 == fd0, (fd0, fd1, fd2)
    assert table2 == table1 == table0, (table0, table1, table2)
    # The second 5,000 connections may not grow RSS by 1 KiB per connection.
    assert rss2 - rss1 < 5000, (rss0, rss1, rss2)
