"""nodetls: Node.js's ``tls`` module for Python, over libnodetls (Rust, rustls) via ctypes.

    import nodetls
    server = nodetls.create_server(key=key_pem, cert=cert_pem)
    server.on('secureConnection', lambda s: s.on('data', s.write))
    server.listen(0, '127.0.0.1').wait('listening', timeout=5)

    sock = nodetls.connect(port=server.address()['port'], host='127.0.0.1', ca=ca_pem)
    sock.on('data', print)
    sock.wait('secureConnect', timeout=5)
    sock.write(b'hello')

Threads: the library runs its own loop thread, and every listener runs there, one at a
time, never inside the call that caused it. Listeners must not block that thread; use
``emitter.wait(event, timeout)`` (or your own ``threading.Event``) from other threads to
wait for events. Every method may be called from any thread, listeners included.

Options are Node's names as keyword arguments; the Python type picks the C setter (bool,
int, str, bytes, or a list of str/bytes). An unknown name or a wrong type raises
ValueError; other failures raise ``TLSError`` (``.code``, ``.status``, message).

The library is found through ``NODETLS_LIB``, else the repository's
``target/release/libnodetls.so``, else the system's library path.
"""

from . import _shutdown  # noqa: F401 - registers the exit hook
from ._lib import version
from .errors import TLSError, err_name, strerror
from .events import EventEmitter
from .server import Server, create_server
from .socket import TLSSocket, connect

__all__ = ["EventEmitter", "Server", "TLSError", "TLSSocket", "connect", "create_server",
           "err_name", "strerror", "version"]
