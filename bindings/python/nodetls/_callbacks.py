"""The C trampolines: one ctypes callback object per event type, alive for the process.

Each handle's user data is an id from ``_loop.register``, so a single set of trampolines
serves every handle, and no ctypes callback object can be garbage-collected while C might
still call it. The trampolines only find the Python object and hand over; they run on the
loop thread.
"""

import ctypes

from . import _lib, _loop
from .errors import from_c_error, from_status


# NULL function pointers: ctypes refuses None where a CFUNCTYPE argument is declared.
NO_WRITE_CB = _lib.WRITE_CB()
NO_SERVER_CB = _lib.SERVER_CB()
NO_SERVER_STATUS_CB = _lib.SERVER_STATUS_CB()


def _target(data):
    return _loop.lookup(data) if data else None


@_lib.SOCKET_CB
@_loop.entered
def socket_secure_connect(_s, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("secureConnect")


@_lib.SOCKET_DATA_CB
@_loop.entered
def socket_data(_s, buf, length, data):
    obj = _target(data)
    if obj is not None:
        # The buffer is borrowed for this call only: copy it before Python keeps it.
        obj.emit("data", ctypes.string_at(buf, length))


@_lib.SOCKET_CB
@_loop.entered
def socket_end(_s, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("end")


@_lib.SOCKET_CLOSE_CB
@_loop.entered
def socket_close(_s, had_error, data):
    obj = _target(data)
    if obj is not None:
        obj._closed(bool(had_error))


@_lib.SOCKET_ERROR_CB
@_loop.entered
def socket_error(_s, err, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("error", from_c_error(err))


@_lib.SOCKET_CB
@_loop.entered
def socket_drain(_s, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("drain")


@_lib.SOCKET_CB
@_loop.entered
def socket_timeout(_s, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("timeout")


@_lib.WRITE_CB
@_loop.entered
def write_done(_s, status, arg):
    fn = _loop.release(arg)
    if fn is not None:
        fn(None if status >= 0 else from_status(status))


@_lib.SERVER_CONNECTION_CB
@_loop.entered
def server_secure_connection(_srv, s, data):
    obj = _target(data)
    if obj is not None:
        obj._secure_connection(s)


@_lib.SERVER_CLIENT_ERROR_CB
@_loop.entered
def server_tls_client_error(_srv, err, _s, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("tlsClientError", from_c_error(err))


@_lib.SERVER_CB
@_loop.entered
def server_listening(_srv, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("listening")


@_lib.SERVER_CB
@_loop.entered
def server_close(_srv, data):
    obj = _target(data)
    if obj is not None:
        obj._closed()


@_lib.SERVER_ERROR_CB
@_loop.entered
def server_error(_srv, err, data):
    obj = _target(data)
    if obj is not None:
        obj.emit("error", from_c_error(err))


def install_socket(lib, ptr):
    """Sets every socket callback but ``data``, whose presence starts reading."""
    for setter, cb in ((lib.ntls_socket_on_secure_connect, socket_secure_connect),
                       (lib.ntls_socket_on_end, socket_end),
                       (lib.ntls_socket_on_close, socket_close),
                       (lib.ntls_socket_on_error, socket_error),
                       (lib.ntls_socket_on_drain, socket_drain),
                       (lib.ntls_socket_on_timeout, socket_timeout)):
        status = setter(ptr, cb)
        if status < 0:
            return status
    return 0


def install_server(lib, ptr):
    """Sets every server callback the package handles (SNICallback is not bound yet)."""
    for setter, cb in ((lib.ntls_server_on_secure_connection, server_secure_connection),
                       (lib.ntls_server_on_tls_client_error, server_tls_client_error),
                       (lib.ntls_server_on_listening, server_listening),
                       (lib.ntls_server_on_close, server_close),
                       (lib.ntls_server_on_error, server_error)):
        status = setter(ptr, cb)
        if status < 0:
            return status
    return 0
