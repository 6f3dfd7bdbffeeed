"""asyncio over nodetls: ``start_server`` and ``open_connection`` with asyncio's own
``StreamReader`` and ``StreamWriter``, so asyncio code moves to nodetls by changing one
import:

    from nodetls import asyncio as tls_asyncio

    async def handle(reader, writer):
        writer.write(await reader.read(1024))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await tls_asyncio.start_server(handle, "127.0.0.1", 0, key=key_path, cert=cert_path)
    reader, writer = await tls_asyncio.open_connection("localhost", port, ca=ca_path)

Under it is an ``asyncio.Transport`` over a TLSSocket. The library's events arrive on its
loop thread and are handed to the asyncio loop with ``call_soon_threadsafe``, in the
order they came; the protocol (asyncio's ``StreamReaderProtocol``) runs on the asyncio
loop only. Backpressure both ways: a ``write`` the library answers with "wait for drain"
pauses the protocol, so ``await writer.drain()`` waits for the library's ``drain``
event; a reader whose buffer is full pauses the TLSSocket, so TCP pushes back on the peer.

Half-close works as on plain TCP: ``allowHalfOpen`` is on unless the options say
otherwise, so after the peer's ``write_eof()`` our side can still write; ``write_eof()``
sends close_notify. ``close()`` ends the connection (close_notify after the queued data)
and destroys it if the peer has not closed within ``shutdown_timeout`` seconds, as
asyncio's SSL transport does.
"""

import asyncio
import socket as _socket
import threading
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, Union

from . import options as _options
from .errors import TLSError, make_error
from .server import Server as _EventServer
from .socket import TLSSocket

__all__ = ["Server", "open_connection", "start_server"]

_LIMIT = 2 ** 16  # asyncio's own default StreamReader limit
_SHUTDOWN_TIMEOUT = 30.0  # asyncio's ssl_shutdown_timeout
#: Seconds ``async with server`` left on an exception gives open connections to close.
CLIENTS_GRACE = 2.0

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Union[Awaitable[None], None]]


def _with_half_open(opts: Dict[str, Any]) -> Dict[str, Any]:
    opts = _options.normalize(opts)
    opts.setdefault("allowHalfOpen", True)
    return opts


class _Transport(asyncio.Transport):
    """An asyncio transport over a TLSSocket; every method runs on the asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tls: TLSSocket,
                 protocol: asyncio.BaseProtocol, shutdown_timeout: float,
                 on_lost: Optional[Callable[["_Transport"], None]] = None) -> None:
        super().__init__()
        self._loop = loop
        self._tls = tls
        self._protocol = protocol
        self._shutdown_timeout = shutdown_timeout
        self._on_lost = on_lost
        self._connected = False
        self._closing = False
        self._eof_sent = False
        self._lost = False
        self._reading = True
        self._write_paused = False
        self._exc: Optional[BaseException] = None
        self._pending = 0  # bytes written but not yet taken by the kernel
        self._pending_lock = threading.Lock()
        self._shutdown_timer: Optional[asyncio.TimerHandle] = None
        tls.on("data", lambda data: self._post(self._data, data))
        tls.on("end", lambda: self._post(self._end))
        tls.on("drain", lambda: self._post(self._drain))
        tls.on("error", lambda err: self._post(self._error, err))
        tls.on("close", lambda had_error: self._post(self._close, had_error))

    # --- from the library's thread ----------------------------------------------------

    def _post(self, fn, *args):
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the asyncio loop is closed: nobody is left to read this
            self._tls.destroy()

    def _written(self, n):
        def done(_err):
            with self._pending_lock:
                self._pending -= n
        return done

    # --- events, on the asyncio loop --------------------------------------------------

    def _start(self):
        """The handshake finished: the protocol gets the transport."""
        info = self._tls.info()
        remote, local, cipher = info["remote"] or {}, info["local"] or {}, info["cipher"]
        self._extra = {
            "peername": (remote.get("address"), remote.get("port")),
            "sockname": (local.get("address"), local.get("port")),
            "cipher": None if cipher is None else (cipher["name"], cipher["version"], None),
            "ssl_protocol": info["protocol"],
            "alpn_protocol": info["alpn_protocol"] or None,
            "servername": info["servername"],
            "peer_authorized": info["authorized"],
            "nodetls_socket": self._tls,
        }
        self._connected = True
        self._protocol.connection_made(self)

    def _data(self, data):
        if self._connected and not self._lost and not self._closing:
            self._protocol.data_received(data)

    def _end(self):
        if not self._connected or self._lost:
            return
        keep_open = self._protocol.eof_received()
        if not keep_open:
            self.close()

    def _drain(self):
        if self._write_paused and not self._lost:
            self._write_paused = False
            self._protocol.resume_writing()

    def _error(self, err):
        self._exc = err

    def _close(self, had_error):
        if self._lost:
            return
        self._lost = True
        if self._shutdown_timer is not None:
            self._shutdown_timer.cancel()
        if self._on_lost is not None:
            self._on_lost(self)
        if self._connected:
            self._protocol.connection_lost(self._exc if had_error else None)

    # --- asyncio.Transport ------------------------------------------------------------

    def write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, not "
                            f"{type(data).__name__!r}")
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._lost or not data:
            return  # as asyncio's transports: writes after the connection is lost vanish
        data = bytes(data)
        with self._pending_lock:
            self._pending += len(data)
        try:
            ok = self._tls.write(data, self._written(len(data)))
        except TLSError:
            with self._pending_lock:
                self._pending -= len(data)
            return  # closed under us: its close event is on the way
        if not ok and not self._write_paused:
            self._write_paused = True
            self._protocol.pause_writing()

    def write_eof(self) -> None:
        if self._eof_sent or self._lost:
            return
        self._eof_sent = True
        self._tls.end()

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        if self._closing or self._lost:
            return
        self._closing = True
        if not self._reading:
            self.resume_reading()  # to see the peer's close_notify
        self.write_eof()
        if not self._lost:
            self._shutdown_timer = self._loop.call_later(self._shutdown_timeout, self.abort)

    def abort(self) -> None:
        self._closing = True
        self._tls.destroy()

    def is_closing(self) -> bool:
        return self._closing or self._lost

    def pause_reading(self) -> None:
        if self._reading and not self._lost:
            self._reading = False
            self._tls.pause()

    def resume_reading(self) -> None:
        if not self._reading and not self._lost:
            self._reading = True
            self._tls.resume()

    def is_reading(self) -> bool:
        return self._reading and not self._lost

    def get_write_buffer_size(self) -> int:
        with self._pending_lock:
            return self._pending

    def set_write_buffer_limits(self, high: Optional[int] = None,
                                low: Optional[int] = None) -> None:
        raise NotImplementedError("nodetls sets the write buffer's limit per connection: pass "
                                  "high_water_mark= to open_connection or start_server")

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol


class _Listening:
    """What ``Server.sockets`` lists: the listening address, as ``getsockname()``."""

    def __init__(self, address: Dict[str, Any]) -> None:
        self._address = address

    def getsockname(self) -> Tuple[str, int]:
        return (self._address["address"], self._address["port"])

    @property
    def family(self) -> int:
        return _socket.AF_INET6 if self._address["family"] == "IPv6" else _socket.AF_INET


class Server:
    """``asyncio.Server``'s interface over a nodetls server: ``close``, ``wait_closed``
    (returns once the server and every connection closed), ``serve_forever``,
    ``is_serving``, ``sockets``, ``close_clients``, ``abort_clients``, ``async with``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, handler: Handler, limit: int,
                 shutdown_timeout: float, opts: Dict[str, Any]) -> None:
        """Made by ``start_server``, which then listens."""
        self._loop = loop
        self._handler = handler
        self._limit = limit
        self._shutdown_timeout = shutdown_timeout
        self._transports = set()
        self._serving = False
        self._serve_forever_fut: Optional[asyncio.Future] = None
        self._closed = loop.create_future()
        self._tls = _EventServer(_with_half_open(opts))
        self._tls.on("secureConnection", self._from_library)
        self._tls.on("close", lambda: self._post(self._library_closed))
        self._address: Optional[Dict[str, Any]] = None

    def _post(self, fn, *args):
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass  # the asyncio loop is gone; the library closes everything at exit

    def _from_library(self, tls):
        try:
            self._loop.call_soon_threadsafe(self._accept, tls)
        except RuntimeError:
            tls.destroy()

    def _accept(self, tls):
        if not self._serving:
            tls.destroy()
            return
        reader = asyncio.StreamReader(limit=self._limit, loop=self._loop)
        protocol = asyncio.StreamReaderProtocol(reader, self._handler, loop=self._loop)
        transport = _Transport(self._loop, tls, protocol, self._shutdown_timeout,
                               on_lost=self._transports.discard)
        self._transports.add(transport)
        transport._start()

    def _library_closed(self):
        if not self._closed.done():
            self._closed.set_result(None)

    async def _listen(self, host, port):
        loop = self._loop
        done = loop.create_future()

        def settle(err=None):
            if not done.done():
                done.set_exception(err) if err else done.set_result(None)

        self._tls.once("listening", lambda: self._post(settle))
        self._tls.once("error", lambda err: self._post(settle, err))
        self._tls.listen(port or 0, host)
        await done
        self._address = self._tls.address()
        self._serving = True

    # --- asyncio.Server's interface ----------------------------------------------------

    @property
    def sockets(self) -> Tuple[_Listening, ...]:
        return (_Listening(self._address),) if self._serving and self._address else ()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving

    async def start_serving(self) -> None:
        """The server serves from ``start_server`` on; kept for asyncio's interface."""

    def close(self) -> None:
        """Stops accepting; connections already open go on."""
        self._serving = False
        self._tls.close()
        if self._serve_forever_fut is not None and not self._serve_forever_fut.done():
            self._serve_forever_fut.cancel()

    def close_clients(self) -> None:
        """Closes every open connection (close_notify after its queued data)."""
        for t in list(self._transports):
            t.close()

    def abort_clients(self) -> None:
        """Destroys every open connection now."""
        for t in list(self._transports):
            t.abort()

    async def wait_closed(self) -> None:
        """Waits until the server is closed and its last connection is gone."""
        await asyncio.shield(self._closed)

    async def serve_forever(self) -> None:
        """Serves until cancelled; then closes the server (not its connections)."""
        if self._serve_forever_fut is not None:
            raise RuntimeError(f"server {self!r} is already being awaited on serve_forever()")
        if not self._serving:
            raise RuntimeError(f"server {self!r} is closed")
        self._serve_forever_fut = self._loop.create_future()
        try:
            await self._serve_forever_fut
        finally:
            self.close()
            self._serve_forever_fut = None

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        """Closes and waits for the last connection. Leaving on an exception (Ctrl-C
        cancels ``serve_forever``) also closes the open connections, and destroys those
        whose peer has not closed within ``CLIENTS_GRACE`` seconds, so the stop is prompt."""
        self.close()
        if exc_type is not None:
            self.close_clients()
            try:
                await asyncio.wait_for(asyncio.shield(self._closed), CLIENTS_GRACE)
            except asyncio.TimeoutError:
                self.abort_clients()
        await self.wait_closed()

    def __repr__(self) -> str:
        return f"<nodetls.asyncio.Server sockets={[s.getsockname() for s in self.sockets]}>"


async def start_server(client_connected_cb: Handler, host: Optional[str] = None,
                       port: Optional[int] = None, *, limit: int = _LIMIT,
                       shutdown_timeout: float = _SHUTDOWN_TIMEOUT, **opts: Any) -> Server:
    """``asyncio.start_server`` over TLS: ``client_connected_cb(reader, writer)`` runs (as a
    task if it is a coroutine function) for each connection whose handshake finished.

    Keyword arguments are the server's TLS options (``key``, ``cert``, ``ca``,
    ``alpn_protocols``, ``request_cert``...; Node's names work too). Returns once
    listening; a bind failure raises (``OSError`` with errno ``EADDRINUSE``...).
    """
    loop = asyncio.get_running_loop()
    server = Server(loop, client_connected_cb, limit, shutdown_timeout, opts)
    try:
        await server._listen(host, port)
    except BaseException:
        server._tls.close()
        raise
    return server


async def open_connection(host: Optional[str] = None, port: Optional[int] = None, *,
                          limit: int = _LIMIT, shutdown_timeout: float = _SHUTDOWN_TIMEOUT,
                          **opts: Any) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` over TLS: returns ``(reader, writer)`` once the handshake
    finished. Keyword arguments are TLS options (``ca``, ``servername``,
    ``reject_unauthorized``, ``alpn_protocols``...). Failures raise the connection's error:
    ``ConnectionRefusedError``, ``ssl.SSLCertVerificationError``... (TLSError subclasses
    with Node's ``.code``). Cancelling the call destroys the attempt."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    tls = TLSSocket()
    transport = _Transport(loop, tls, protocol, shutdown_timeout)
    ready = loop.create_future()

    def secure():
        if not ready.done():
            transport._start()  # here, so the protocol has it before the first data
            ready.set_result(None)

    def failed(err):
        if not ready.done():
            ready.set_exception(err)

    def closed(_had_error):
        failed(transport._exc or make_error("ECONNRESET", "closed before the handshake "
                                            "finished", -104))

    tls.once("secureConnect", lambda: transport._post(secure))
    tls.once("error", lambda err: transport._post(failed, err))
    tls.once("close", lambda had_error: transport._post(closed, had_error))
    try:
        tls.connect(port, host, **_with_half_open(opts))
    except BaseException:
        tls._abandon()
        raise
    try:
        await ready
    except BaseException:
        tls.destroy()
        raise
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)
