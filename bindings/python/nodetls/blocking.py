"""A blocking, socket-like TLS connection for scripts: ``create_connection``.

    with nodetls.create_connection(("localhost", 8443), timeout=5, ca=ca_path) as s:
        s.sendall(b"ping")
        print(s.recv(4096))

It is a TLSSocket underneath; the events fill a buffer that ``recv`` drains, under one
condition variable. Reading pauses the TLSSocket once ``limit`` bytes wait unread (so
TCP pushes back on the peer) and resumes when ``recv`` made room; ``sendall`` waits for
``drain`` when ``write`` says so. Timeouts raise ``TimeoutError`` (``socket.timeout``)
and leave the connection usable, as a socket's do.
"""

import io
import socket as _socket
import threading
import time
from typing import Any, Optional, Tuple, Union

from .errors import TLSError, TimedOut, make_error
from .socket import TLSSocket

_ETIMEDOUT = -110
_EBADF = -9
#: Unread bytes at which reading pauses (like asyncio's StreamReader limit).
DEFAULT_LIMIT = 1 << 16
#: How long ``close()`` waits, without a timeout set, for queued data to reach the kernel.
CLOSE_FLUSH_SECONDS = 30.0

Bytes = Union[bytes, bytearray, memoryview]


class TLSStream:
    """A connected TLS client with ``socket.socket``'s blocking methods: ``recv``,
    ``recv_into``, ``send``, ``sendall``, ``makefile``, ``settimeout``, ``shutdown``,
    ``close`` and ``with``; and ``ssl.SSLSocket``'s ``version``, ``cipher``,
    ``selected_alpn_protocol``. ``tls`` is the TLSSocket underneath (its properties and
    events). It has no ``fileno()``: the descriptor belongs to the library's loop.
    """

    def __init__(self, timeout: Optional[float] = None, limit: int = DEFAULT_LIMIT) -> None:
        self._cond = threading.Condition()
        self._buf = bytearray()
        self._limit = limit
        self._paused = False
        self._eof = False
        self._error: Optional[TLSError] = None
        self._secure = False
        self._closed = False  # the close event came
        self._local_close = False  # close() was called
        self._must_drain = False
        self._timeout = timeout
        self.tls = TLSSocket()
        t = self.tls
        t.on("secureConnect", lambda: self._update(_secure=True))
        t.on("data", self._on_data)
        t.on("end", lambda: self._update(_eof=True))
        t.on("drain", lambda: self._update(_must_drain=False))
        t.on("error", lambda err: self._update(_error=err))
        t.on("close", lambda had_error: self._update(_closed=True))

    # --- events (on the library's thread) ---------------------------------------------

    def _update(self, **state):
        with self._cond:
            for k, v in state.items():
                setattr(self, k, v)
            self._cond.notify_all()

    def _on_data(self, data):
        with self._cond:
            self._buf += data
            if len(self._buf) >= self._limit and not self._paused:
                self._paused = True
                self.tls.pause()
            self._cond.notify_all()

    # --- waiting ----------------------------------------------------------------------

    def _wait(self, ready, what, timeout=None):
        """Waits (holding the condition) until ``ready()``; TimeoutError after the timeout."""
        timeout = self._timeout if timeout is None else timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ready():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimedOut("ETIMEDOUT", f"timed out ({what})", _ETIMEDOUT)
            self._cond.wait(left)

    def _check_open(self):
        if self._local_close:
            raise make_error("EBADF", "the stream is closed", _EBADF)

    def _connect(self, timeout, **opts):
        self.tls.connect(**opts)
        with self._cond:
            try:
                self._wait(lambda: self._secure or self._error or self._closed, "connect",
                           timeout)
            except TimeoutError:
                self.tls.destroy()
                raise
            if self._error is not None:
                raise self._error
            if not self._secure:
                raise make_error("ECONNRESET", "closed before the handshake finished", -104)

    # --- reading ----------------------------------------------------------------------

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes; b"" once the peer ended. Raises the connection's error
        (a TLSError subclass), or TimeoutError after the timeout."""
        if flags:
            raise ValueError("recv() flags are not supported")
        with self._cond:
            self._check_open()
            self._wait(lambda: self._buf or self._eof or self._error or self._closed, "recv")
            if self._buf:
                data = bytes(self._buf[:bufsize])
                del self._buf[:bufsize]
                if self._paused and len(self._buf) < self._limit // 2:
                    self._paused = False
                    self.tls.resume()
                return data
            if self._error is not None:
                raise self._error
            return b""

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """``recv`` into a writable buffer; returns the number of bytes stored."""
        view = memoryview(buffer).cast("B")
        data = self.recv(nbytes or len(view), flags)
        view[:len(data)] = data
        return len(data)

    # --- writing ----------------------------------------------------------------------

    def sendall(self, data: Bytes, flags: int = 0) -> None:
        """Queues all of ``data``; waits for ``drain`` when the library's buffer is over its
        high-water mark, so a slow peer slows the sender (TimeoutError after the timeout)."""
        if flags:
            raise ValueError("send() flags are not supported")
        with self._cond:
            self._check_open()
            if self._error is not None:
                raise self._error
            self._must_drain = True
        if self.tls.write(bytes(data)):
            self._update(_must_drain=False)
        with self._cond:
            self._wait(lambda: not self._must_drain or self._error or self._closed, "send")
            if self._error is not None:
                raise self._error

    def send(self, data: Bytes, flags: int = 0) -> int:
        """``sendall`` (the library takes the whole buffer); returns ``len(data)``."""
        self.sendall(data, flags)
        return len(data)

    def makefile(self, mode: str = "r", buffering: Optional[int] = None, *,
                 encoding: Optional[str] = None, errors: Optional[str] = None,
                 newline: Optional[str] = None) -> Any:
        """A file object over the stream, as ``socket.makefile``: ``"rb"``, ``"wb"``,
        ``"r"``/``"w"`` for text. Closing the file leaves the stream open."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b)")
        reading, writing, binary = "r" in mode, "w" in mode, "b" in mode
        raw = _RawStream(self, reading, writing)
        if buffering is None:
            buffering = -1
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        size = io.DEFAULT_BUFFER_SIZE if buffering < 0 else buffering
        if reading and writing:
            buffered = io.BufferedRWPair(raw, raw, size)
        elif reading:
            buffered = io.BufferedReader(raw, size)
        else:
            buffered = io.BufferedWriter(raw, size)
        if binary:
            return buffered
        text = io.TextIOWrapper(buffered, encoding, errors, newline)
        text.mode = mode
        return text

    # --- timeouts, closing ------------------------------------------------------------

    def settimeout(self, value: Optional[float]) -> None:
        """Seconds each blocking call may take (None: forever), as ``socket.settimeout``."""
        if value is not None and value < 0:
            raise ValueError("Timeout value out of range")
        self._timeout = value

    def gettimeout(self) -> Optional[float]:
        """The timeout set with ``settimeout``."""
        return self._timeout

    def shutdown(self, how: int) -> None:
        """``SHUT_WR``/``SHUT_RDWR``: ``end()`` (close_notify after the queued data);
        ``SHUT_RD`` stops nothing (the peer's bytes are still read, as TCP does)."""
        if how in (_socket.SHUT_WR, _socket.SHUT_RDWR):
            self.tls.end()

    def close(self) -> None:
        """Ends the connection once the queued data reached the kernel (waiting at most the
        timeout, or CLOSE_FLUSH_SECONDS; then it is destroyed). Idempotent."""
        with self._cond:
            if self._local_close:
                return
            self._local_close = True
            if self._closed:
                return
        flushed = threading.Event()
        try:
            self.tls.write(b"", lambda err: flushed.set())  # completes after every queued write
            self.tls.end()
        except TLSError:
            return  # already closed under us
        wait = self._timeout if self._timeout is not None else CLOSE_FLUSH_SECONDS
        if not flushed.wait(wait):
            self.tls.destroy()

    def __enter__(self) -> "TLSStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- what the connection is -------------------------------------------------------

    def getpeername(self) -> Tuple[str, int]:
        """``(address, port)`` of the peer."""
        return (self.tls.remote_address, self.tls.remote_port)

    def getsockname(self) -> Tuple[str, int]:
        """``(address, port)`` of our end."""
        local = self.tls.address() or {}
        return (local.get("address"), local.get("port"))

    def version(self) -> Optional[str]:
        """``"TLSv1.3"`` or ``"TLSv1.2"``, as ``SSLSocket.version()``."""
        return self.tls.protocol

    def cipher(self) -> Optional[Tuple[str, str, None]]:
        """``(OpenSSL name, protocol version, None)``: ``SSLSocket.cipher()``'s shape; the
        library does not report secret bits."""
        c = self.tls.cipher
        return None if c is None else (c["name"], c["version"], None)

    def selected_alpn_protocol(self) -> Optional[str]:
        """The agreed ALPN protocol, or None."""
        return self.tls.alpn_protocol or None


class _RawStream(io.RawIOBase):
    """The raw layer of ``makefile``."""

    def __init__(self, stream, reading, writing):
        super().__init__()
        self._stream, self._reading, self._writing = stream, reading, writing

    def readable(self):
        return self._reading

    def writable(self):
        return self._writing

    def readinto(self, b):
        return self._stream.recv_into(b)

    def write(self, b):
        return self._stream.send(b)


def create_connection(address: Tuple[str, int], timeout: Optional[float] = None, *,
                      limit: int = DEFAULT_LIMIT, **opts: Any) -> TLSStream:
    """``socket.create_connection((host, port), timeout)`` over TLS: returns once the
    handshake finished. Keyword arguments are TLS options (``ca``, ``servername``,
    ``reject_unauthorized``, ``alpn_protocols``...). Failures raise the connection's
    error: ``ConnectionRefusedError``, ``ssl.SSLCertVerificationError``, ``TimeoutError``
    (the connect and handshake took longer than ``timeout``)..."""
    host, port = address
    stream = TLSStream(timeout, limit)
    stream._connect(timeout, host=host, port=port, **opts)
    return stream
