"""Server and create_server(): Node's ``tls.Server`` and ``tls.createServer``."""

import ctypes
from typing import Any, Callable, Dict, Optional

from . import _address, _callbacks, _loop, options
from ._handle import Handle
from ._lib import NTLS_EALREADY, NTLS_ECLOSED, lib
from .errors import from_status
from .events import EventEmitter
from .socket import TLSSocket


class Server(EventEmitter):
    """A TLS server. Events: ``secureConnection(TLSSocket)``, ``tlsClientError(TLSError)``,
    ``listening``, ``error(TLSError)``, ``close``; listeners run on the loop thread.

    ``listening``, ``error`` and ``close`` are remembered (a listener added after one
    still runs once, with its latest arguments), so ``server.listen(0,
    '127.0.0.1').wait('listening', 5)`` cannot miss it. The C handle is released at
    ``close``.
    """

    STICKY = frozenset({"listening", "error", "close"})

    def __init__(self, opts: Dict[str, Any]) -> None:
        """Checks every option and the key material now; see ``create_server``."""
        super().__init__()
        ptr = ctypes.c_void_p()
        with options.build(opts) as o:
            status = lib.ntls_server_new(None, o, ctypes.byref(ptr))
            if status < 0:
                raise from_status(status, options.last_error(o))
        ptr = ptr.value
        self._handle = Handle(ptr, lib.ntls_server_ref, lib.ntls_server_unref)
        self._id = _loop.register(self)
        status = lib.ntls_server_set_data(ptr, self._id)
        if status >= 0:
            status = _callbacks.install_server(lib, ptr)
        if status < 0:
            self._release()
            raise from_status(status)

    def listen(self, port: int = 0, host: Optional[str] = None,
               callback: Optional[Callable[[], Any]] = None) -> "Server":
        """``server.listen(port, host, cb)``: binds on the loop thread (port 0: any free one).

        ``callback`` becomes a ``listening`` listener; a bind failure (``EADDRINUSE``)
        arrives as an ``error`` event.
        """
        if callback is not None:
            self.once("listening", callback)
        with self._handle.borrow() as ptr:
            status = NTLS_ECLOSED if ptr is None else lib.ntls_server_listen(
                ptr, host.encode() if host else None, port, _callbacks.NO_SERVER_STATUS_CB)
            if status < 0:
                raise from_status(status)
        return self

    def address(self) -> Optional[Dict[str, Any]]:
        """``{'address', 'port', 'family'}`` once listening, else None."""
        with self._handle.borrow() as ptr:
            return _address.read(lib.ntls_server_address, ptr)

    @property
    def connections(self) -> int:
        """Open connections, handshaking ones included (0 once closed)."""
        with self._handle.borrow() as ptr:
            return 0 if ptr is None else max(lib.ntls_server_connections(ptr), 0)

    def close(self, callback: Optional[Callable[[], Any]] = None) -> "Server":
        """Stops accepting; ``close`` fires once every connection has closed. Idempotent."""
        if callback is not None:
            self.once("close", callback)
        with self._handle.borrow() as ptr:
            status = NTLS_ECLOSED if ptr is None else lib.ntls_server_close(ptr, _callbacks.NO_SERVER_CB)
            if status < 0 and status not in (NTLS_EALREADY, NTLS_ECLOSED):
                raise from_status(status)
        return self

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        """Stops accepting (``close()``); ``close`` fires once the connections are gone."""
        self.close()

    def _secure_connection(self, s):
        self.emit("secureConnection", TLSSocket(_accepted=s))

    def _closed(self):
        self._release()  # first: from close on, address() is None, as in Node
        self.emit("close")

    def _release(self):
        _loop.release(self._id)
        self._handle.release()


def create_server(listener: Optional[Callable[[TLSSocket], Any]] = None,
                  **opts: Any) -> Server:
    """``tls.createServer(options, secureConnectionListener)``.

    ``nodetls.create_server(key=pem, cert=path, alpn_protocols=['h2'])``: options by Node's
    name or its snake_case spelling; key material as bytes, str (PEM text) or a path. A
    broken key or certificate raises ``nodetls.SSLError`` (an ``ssl.SSLError``) here with
    the library's words (``.code`` ``"EKEY"``).
    """
    server = Server(opts)
    if listener is not None:
        server.on("secureConnection", listener)
    return server
