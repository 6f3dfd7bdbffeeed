"""Loads libnodetls and declares the C prototypes the package uses.

Every handle is an opaque pointer, so handles travel as ``c_void_p`` (Python ints);
declaring ``argtypes`` everywhere keeps 64-bit pointers from being truncated to C int.
"""

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_int, c_int64, c_size_t, c_uint64,
                    c_void_p)

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load():
    """The library named by NODETLS_LIB, else the repo's release build, else the system's."""
    env = os.environ.get("NODETLS_LIB")
    if env:
        # An explicit choice that fails must fail loudly, not fall back to another build.
        return ctypes.CDLL(env)
    local = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "target", "release",
                                          "libnodetls.so"))
    if os.path.exists(local):
        return ctypes.CDLL(local)
    found = ctypes.util.find_library("nodetls")
    if found:
        return ctypes.CDLL(found)
    raise OSError("libnodetls not found: set NODETLS_LIB, or run `cargo build --release`")


lib = _load()

# Callback types, as in nodetls.h. Pointers are c_void_p so Python sees plain ints.
SOCKET_CB = CFUNCTYPE(None, c_void_p, c_void_p)
SOCKET_DATA_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_void_p)
SOCKET_CLOSE_CB = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
SOCKET_ERROR_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)
WRITE_CB = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
SERVER_CB = CFUNCTYPE(None, c_void_p, c_void_p)
SERVER_CONNECTION_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)
SERVER_CLIENT_ERROR_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p, c_void_p)
SERVER_ERROR_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)
SERVER_STATUS_CB = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
LOOP_FN = CFUNCTYPE(None, c_void_p)

_P = c_void_p
_OUT = POINTER(c_void_p)
_STR_OUT = POINTER(c_char_p)

_PROTOTYPES = {
    # errors
    "ntls_strerror": (c_char_p, [c_int]),
    "ntls_err_name": (c_char_p, [c_int]),
    "ntls_error_code": (c_char_p, [_P]),
    "ntls_error_message": (c_char_p, [_P]),
    "ntls_error_status": (c_int, [_P]),
    "ntls_version": (c_char_p, []),
    # loop
    "ntls_loop_call": (c_int, [_P, LOOP_FN, _P]),
    # options
    "ntls_options_new": (c_int, [_OUT]),
    "ntls_options_unref": (c_int, [_P]),
    "ntls_options_set_bool": (c_int, [_P, c_int, c_int]),
    "ntls_options_set_int": (c_int, [_P, c_int, c_int64]),
    "ntls_options_set_string": (c_int, [_P, c_int, c_char_p]),
    "ntls_options_add_string": (c_int, [_P, c_int, c_char_p]),
    "ntls_options_set_bytes": (c_int, [_P, c_int, c_char_p, c_size_t]),
    "ntls_options_add_bytes": (c_int, [_P, c_int, c_char_p, c_size_t]),
    "ntls_options_last_error": (c_char_p, [_P]),
    "ntls_option_by_name": (c_int, [c_char_p]),
    "ntls_options_key": (c_int, [c_void_p, c_char_p]),
    # server
    "ntls_server_new": (c_int, [_P, _P, _OUT]),
    "ntls_server_on_secure_connection": (c_int, [_P, SERVER_CONNECTION_CB]),
    "ntls_server_on_tls_client_error": (c_int, [_P, SERVER_CLIENT_ERROR_CB]),
    "ntls_server_on_listening": (c_int, [_P, SERVER_CB]),
    "ntls_server_on_close": (c_int, [_P, SERVER_CB]),
    "ntls_server_on_error": (c_int, [_P, SERVER_ERROR_CB]),
    "ntls_server_set_data": (c_int, [_P, _P]),
    "ntls_server_listen": (c_int, [_P, c_char_p, c_int, SERVER_STATUS_CB]),
    "ntls_server_address": (c_int, [_P, c_char_p, c_size_t, POINTER(c_int), POINTER(c_int)]),
    "ntls_server_connections": (c_int, [_P]),
    "ntls_server_close": (c_int, [_P, SERVER_CB]),
    "ntls_server_ref": (c_int, [_P]),
    "ntls_server_unref": (c_int, [_P]),
    # socket
    "ntls_socket_new": (c_int, [_P, _OUT]),
    "ntls_socket_on_secure_connect": (c_int, [_P, SOCKET_CB]),
    "ntls_socket_on_data": (c_int, [_P, SOCKET_DATA_CB]),
    "ntls_socket_on_end": (c_int, [_P, SOCKET_CB]),
    "ntls_socket_on_close": (c_int, [_P, SOCKET_CLOSE_CB]),
    "ntls_socket_on_error": (c_int, [_P, SOCKET_ERROR_CB]),
    "ntls_socket_on_drain": (c_int, [_P, SOCKET_CB]),
    "ntls_socket_on_timeout": (c_int, [_P, SOCKET_CB]),
    "ntls_socket_set_data": (c_int, [_P, _P]),
    "ntls_socket_connect": (c_int, [_P, _P]),
    "ntls_socket_write": (c_int, [_P, c_char_p, c_size_t, WRITE_CB, _P]),
    "ntls_socket_end": (c_int, [_P]),
    "ntls_socket_destroy": (c_int, [_P]),
    "ntls_socket_pause": (c_int, [_P]),
    "ntls_socket_resume": (c_int, [_P]),
    "ntls_socket_set_timeout": (c_int, [_P, c_uint64]),
    "ntls_socket_last_error": (c_char_p, [_P]),
    "ntls_socket_authorized": (c_int, [_P]),
    "ntls_socket_authorization_error": (c_char_p, [_P]),
    "ntls_socket_get_protocol": (c_char_p, [_P]),
    "ntls_socket_get_cipher": (c_int, [_P, _STR_OUT, _STR_OUT, _STR_OUT]),
    "ntls_socket_alpn_protocol": (c_char_p, [_P]),
    "ntls_socket_servername": (c_char_p, [_P]),
    "ntls_socket_remote_address": (c_int, [_P, c_char_p, c_size_t, POINTER(c_int),
                                           POINTER(c_int)]),
    "ntls_socket_local_address": (c_int, [_P, c_char_p, c_size_t, POINTER(c_int),
                                          POINTER(c_int)]),
    "ntls_socket_bytes_read": (c_uint64, [_P]),
    "ntls_socket_bytes_written": (c_uint64, [_P]),
    "ntls_socket_ref": (c_int, [_P]),
    "ntls_socket_unref": (c_int, [_P]),
}

for _name, (_res, _args) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args

# Status codes the package tests for by value (nodetls.h has the full table).
NTLS_EINVAL = -22
NTLS_EALREADY = -114
NTLS_ECLOSED = -4200


def text(ptr):
    """A C string (bytes or None) as str; the library's strings are UTF-8."""
    return None if ptr is None else ptr.decode("utf-8", "replace")


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return text(lib.ntls_version())
