"""TLSSocket and connect(): Node's ``tls.TLSSocket`` and ``tls.connect``."""

import ctypes
import threading
from typing import Any, Callable, Dict, Optional, Union

from . import _address, _callbacks, _loop, options
from ._handle import Handle
from ._lib import NTLS_EALREADY, NTLS_ECLOSED, lib, text
from .errors import from_status
from .events import EventEmitter


class TLSSocket(EventEmitter):
    """A TLS connection: ``tls.connect``'s result or a server's ``secureConnection``.

    Events: ``secureConnect``, ``data(bytes)``, ``end``, ``drain``, ``timeout``,
    ``error(TLSError)``, ``close(had_error)``. Listeners run on the library's loop thread.
    ``secureConnect``, ``end``, ``error`` and ``close`` happen at most once and are
    remembered, so a listener added after the fact is still called. Reading starts with
    the first ``data`` listener (or ``resume()``), as in Node.

    The C handle is released at ``close``; afterwards the properties keep their last
    values and calls raise ``TLSError`` with code ``ECLOSED``.
    """

    STICKY = frozenset({"secureConnect", "end", "error", "close"})

    def __init__(self, _accepted: Optional[int] = None) -> None:
        """An unstarted client socket; call ``connect(**options)`` once listeners are set."""
        super().__init__()
        if _accepted is None:
            ptr = ctypes.c_void_p()
            status = lib.ntls_socket_new(None, ctypes.byref(ptr))
            if status < 0:
                raise from_status(status)
            ptr = ptr.value
        else:
            # Borrowed from the secureConnection callback: take a reference of our own.
            ptr = _accepted
            lib.ntls_socket_ref(ptr)
        self._handle = Handle(ptr, lib.ntls_socket_ref, lib.ntls_socket_unref)
        self._data_lock = threading.Lock()
        self._data_set = False
        self._user_paused = False
        self._started = _accepted is not None
        self._last = {}
        self._id = _loop.register(self)
        status = lib.ntls_socket_set_data(ptr, self._id)
        if status >= 0:
            status = _callbacks.install_socket(lib, ptr)
        if status < 0:
            self._release()
            raise from_status(status)

    # --- starting ---------------------------------------------------------------------

    def connect(self, port: Optional[int] = None, host: Optional[str] = None,
                callback: Optional[Callable[[], Any]] = None, **opts: Any) -> "TLSSocket":
        """``tls.connect``: starts the handshake; bad options raise here, at once.

        ``callback`` becomes a ``secureConnect`` listener. Keyword arguments are Node's
        option names (``ca``, ``servername``, ``rejectUnauthorized``, ``ALPNProtocols``...).
        Failures after this call arrive as ``error`` events.
        """
        if callback is not None:
            self.once("secureConnect", callback)
        opts = dict(opts, port=port, host=host)
        with options.build(opts) as o, self._handle.borrow() as ptr:
            if ptr is None:
                raise from_status(NTLS_ECLOSED)
            status = lib.ntls_socket_connect(ptr, o)
            if status < 0:
                raise from_status(status, text(lib.ntls_socket_last_error(ptr)))
            self._started = True
        return self

    # --- writing and closing ----------------------------------------------------------

    def write(self, data: Union[bytes, bytearray, memoryview, str],
              callback: Optional[Callable[[Optional[Exception]], Any]] = None) -> bool:
        """Queues ``data`` (bytes-like, or str as UTF-8); False means wait for ``drain``.

        ``callback(err_or_None)`` runs on the loop thread once the bytes reached the kernel.
        """
        if isinstance(data, str):
            data = data.encode()
        data = bytes(data)
        arg = _loop.register(callback) if callback is not None else None
        with self._handle.borrow() as ptr:
            if ptr is None:
                status = NTLS_ECLOSED
            else:
                status = lib.ntls_socket_write(ptr, data, len(data),
                                               _callbacks.write_done if arg else _callbacks.NO_WRITE_CB,
                                               arg)
            if status < 0:
                if arg:
                    _loop.release(arg)  # a failed call never calls its callback
                raise from_status(status, self._words(ptr))
        return status == 1

    def end(self, data: Union[bytes, bytearray, memoryview, str, None] = None) -> "TLSSocket":
        """``socket.end([data])``: close_notify after the queued data. Idempotent, as in Node."""
        if data is not None:
            self.write(data)
        self._simple(lib.ntls_socket_end, quiet=(NTLS_EALREADY, NTLS_ECLOSED))
        return self

    def destroy(self) -> "TLSSocket":
        """Closes now; pending writes fail with ``ECANCELED``. Idempotent, as in Node."""
        self._simple(lib.ntls_socket_destroy, quiet=(NTLS_EALREADY, NTLS_ECLOSED))
        return self

    def pause(self) -> "TLSSocket":
        """Stops reading, so TCP pushes back on the peer."""
        self._user_paused = True
        self._simple(lib.ntls_socket_pause)
        return self

    def resume(self) -> "TLSSocket":
        """Reads again (and starts reading, even without a ``data`` listener)."""
        self._user_paused = False
        self._simple(lib.ntls_socket_resume)
        return self

    def set_timeout(self, ms: int, callback: Optional[Callable[[], Any]] = None) -> "TLSSocket":
        """``socket.setTimeout``: a ``timeout`` event after ``ms`` idle milliseconds; 0 disables."""
        if callback is not None:
            self.once("timeout", callback)
        with self._handle.borrow() as ptr:
            status = NTLS_ECLOSED if ptr is None else lib.ntls_socket_set_timeout(ptr, ms)
            if status < 0:
                raise from_status(status, self._words(ptr))
        return self

    # --- properties -------------------------------------------------------------------

    @property
    def authorized(self) -> bool:
        """True if the peer's certificate verified."""
        return self._get("authorized")

    @property
    def authorization_error(self) -> Optional[str]:
        """Node's code for why it did not (``"DEPTH_ZERO_SELF_SIGNED_CERT"``), else None."""
        return self._get("authorization_error")

    @property
    def protocol(self) -> Optional[str]:
        """``"TLSv1.3"`` or ``"TLSv1.2"``; None before the handshake."""
        return self._get("protocol")

    @property
    def cipher(self) -> Optional[Dict[str, Optional[str]]]:
        """``{'name', 'standardName', 'version'}``, or None before the handshake."""
        return self._get("cipher")

    @property
    def alpn_protocol(self) -> Union[str, bool]:
        """The agreed ALPN protocol, or False when none (Node's ``false``)."""
        return self._get("alpn_protocol")

    @property
    def servername(self) -> Optional[str]:
        """The SNI name (asked for by the client, or sent by us), or None."""
        return self._get("servername")

    @property
    def remote_address(self) -> Optional[str]:
        """The peer's IP address as text, or None before connecting."""
        return (self._get("remote") or {}).get("address")

    @property
    def remote_port(self) -> Optional[int]:
        """The peer's port, or None before connecting."""
        return (self._get("remote") or {}).get("port")

    @property
    def remote_family(self) -> Optional[str]:
        """``"IPv4"`` or ``"IPv6"``, or None before connecting."""
        return (self._get("remote") or {}).get("family")

    def address(self) -> Optional[Dict[str, Any]]:
        """``socket.address()``: the local ``{'address', 'port', 'family'}``, or None."""
        return self._get("local")

    @property
    def bytes_read(self) -> int:
        """Bytes received from the network, TLS records included."""
        return self._get("bytes_read")

    @property
    def bytes_written(self) -> int:
        """Bytes sent to the network, TLS records included."""
        return self._get("bytes_written")

    @property
    def closed(self) -> bool:
        """True once the ``close`` event fired."""
        return self._handle.released

    def info(self) -> Dict[str, Any]:
        """Every property at once, read in one pass (``authorized``, ``protocol``,
        ``cipher``, ``alpn_protocol``, ``servername``, ``remote``, ``local``...)."""
        with self._handle.borrow() as ptr:
            return dict(self._last) if ptr is None else self._read_all(ptr)

    def __enter__(self) -> "TLSSocket":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """``end()`` (queued data is still sent), or ``destroy()`` if the block raised."""
        if exc_type is None:
            self.end()
        else:
            self.destroy()

    # --- internals --------------------------------------------------------------------

    @staticmethod
    def _read_all(ptr):
        name, std, ver = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_char_p()
        has_cipher = lib.ntls_socket_get_cipher(ptr, ctypes.byref(name), ctypes.byref(std),
                                                ctypes.byref(ver)) >= 0 and name.value
        return {
            "authorized": bool(lib.ntls_socket_authorized(ptr)),
            "authorization_error": text(lib.ntls_socket_authorization_error(ptr)),
            "protocol": text(lib.ntls_socket_get_protocol(ptr)),
            "cipher": {"name": text(name.value), "standardName": text(std.value),
                       "version": text(ver.value)} if has_cipher else None,
            "alpn_protocol": text(lib.ntls_socket_alpn_protocol(ptr)) or False,
            "servername": text(lib.ntls_socket_servername(ptr)),
            "remote": _address.read(lib.ntls_socket_remote_address, ptr),
            "local": _address.read(lib.ntls_socket_local_address, ptr),
            "bytes_read": lib.ntls_socket_bytes_read(ptr),
            "bytes_written": lib.ntls_socket_bytes_written(ptr),
        }

    def _get(self, key):
        with self._handle.borrow() as ptr:
            if ptr is None:
                return self._last.get(key)
            return self._read_all(ptr)[key]

    def _words(self, ptr):
        return text(lib.ntls_socket_last_error(ptr)) if ptr else None

    def _simple(self, fn, quiet=()):
        with self._handle.borrow() as ptr:
            status = NTLS_ECLOSED if ptr is None else fn(ptr)
            if status < 0 and status not in quiet:
                raise from_status(status, self._words(ptr))

    def _listener_added(self, event):
        if event != "data":
            return
        with self._data_lock:
            if self._data_set:
                return
            self._data_set = True
        with self._handle.borrow() as ptr:
            if ptr is not None:
                lib.ntls_socket_on_data(ptr, _callbacks.socket_data)
                # As in Node, a data listener puts a stream not explicitly paused into
                # flowing mode. resume() also wakes the loop: setting the callback alone
                # does not, so bytes already waiting in the kernel (a socket handed over
                # by secureConnection, listened to later from another thread) would wait
                # for the next readiness edge, which may never come.
                if not self._user_paused:
                    lib.ntls_socket_resume(ptr)

    def _closed(self, had_error):
        """The ``close`` callback: the last event, so the handle goes with it."""
        with self._handle.borrow() as ptr:
            if ptr is not None:
                self._last = self._read_all(ptr)
        # Released before the listeners run, so that from the close event on every call
        # reports ECLOSED, deterministically.
        self._release()
        self.emit("close", had_error)

    def _release(self):
        _loop.release(self._id)
        self._handle.release()

    def _abandon(self):
        """Drops a socket that never started (no ``close`` will come)."""
        if not self._started:
            self._release()


def connect(port: Optional[int] = None, host: Optional[str] = None,
            callback: Optional[Callable[[], Any]] = None, **opts: Any) -> TLSSocket:
    """``tls.connect(options, callback)``: a started TLSSocket.

    ``nodetls.connect(port=8443, host='localhost', ca=pem_or_path, alpn_protocols=['h2'])``.
    Listeners may be added to the result right away: the one-shot events are remembered.
    """
    s = TLSSocket()
    try:
        return s.connect(port, host, callback, **opts)
    except BaseException:
        s._abandon()
        raise
