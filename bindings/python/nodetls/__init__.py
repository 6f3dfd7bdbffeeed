"""nodetls: Node.js's ``tls`` module for Python, over libnodetls (Rust, rustls) via ctypes.

    import nodetls
    server = nodetls.create_server(key=key_path, cert=cert_path)
    server.on('secureConnection', lambda s: s.on('data', s.write))
    server.listen(0, '127.0.0.1').wait('listening', timeout=5)

    sock = nodetls.connect(port=server.address()['port'], host='localhost', ca=ca_path)
    sock.on('data', print)
    sock.wait('secureConnect', timeout=5)
    sock.write(b'hello')

Three ways in: this event API (Node's, listeners on the library's thread),
``nodetls.asyncio`` (``start_server``/``open_connection`` with asyncio's own
StreamReader/StreamWriter), and ``nodetls.create_connection`` (a blocking socket-like
object for scripts).

Threads: the library runs its own loop thread, and every listener runs there, one at a
time, never inside the call that caused it. Listeners must not block that thread; use
``emitter.wait(event, timeout)`` (or your own ``threading.Event``) from other threads to
wait for events. Every method may be called from any thread, listeners included.

Options are Node's names (``rejectUnauthorized``) or snake_case (``reject_unauthorized``)
as keyword arguments; the Python type picks the C setter (bool, int, str, bytes, a path,
or a list of those). Key material may be bytes, str (PEM text) or a path
(``pathlib.Path``). Errors are ``TLSError`` subclasses of the built-ins users catch
(``ConnectionRefusedError``, ``ssl.SSLCertVerificationError``, ``TimeoutError``,
``ValueError`` for a bad option...) with Node's ``.code``.

The library is ``$NODETLS_LIB`` if set, else the copy inside the installed wheel, else
``libnodetls.so.0`` from the system loader.
"""

from . import _shutdown  # noqa: F401 - registers the exit hook
from ._lib import version
from .blocking import TLSStream, create_connection
from .errors import (BrokenPipe, CertificateError, ConnectionAborted, ConnectionRefused,
                     ConnectionReset, FileNotFound, InvalidArgument, NameNotFound,
                     PermissionDenied, SSLError, TimedOut, TLSError, err_name, strerror)
from .events import EventEmitter
from .server import Server, create_server
from .socket import TLSSocket, connect

__all__ = ["BrokenPipe", "CertificateError", "ConnectionAborted", "ConnectionRefused",
           "ConnectionReset", "EventEmitter", "FileNotFound", "InvalidArgument",
           "NameNotFound", "PermissionDenied", "SSLError", "Server", "TLSError", "TLSSocket",
           "TLSStream", "TimedOut", "connect", "create_connection", "create_server",
           "err_name", "strerror", "version"]
