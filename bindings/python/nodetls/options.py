"""Node-style keyword arguments to an ``ntls_options`` handle."""

import contextlib
from ctypes import c_void_p, byref

from ._lib import NTLS_EINVAL, lib, text
from .errors import from_status


def _set_one(h, name, key, value):
    """Calls the setter the Python type selects; the library checks it against the key."""
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return lib.ntls_options_set_bool(h, key, int(value))
    if isinstance(value, int):
        return lib.ntls_options_set_int(h, key, value)
    if isinstance(value, str):
        return lib.ntls_options_set_string(h, key, value.encode())
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return lib.ntls_options_set_bytes(h, key, data, len(data))
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str):
                status = lib.ntls_options_add_string(h, key, item.encode())
            elif isinstance(item, (bytes, bytearray, memoryview)):
                data = bytes(item)
                status = lib.ntls_options_add_bytes(h, key, data, len(data))
            else:
                raise TypeError(f"option {name!r}: list items must be str or bytes, "
                                f"not {type(item).__name__}")
            if status < 0:
                return status
        return 0
    raise TypeError(f"option {name!r}: unsupported value type {type(value).__name__}")


def key_of(h, name):
    """The ``NTLS_OPT_*`` key of a Node option name; ValueError with the library's words
    ("unknown option 'rejectUnauthorised'") for an unknown name."""
    key = lib.ntls_options_key(h, name.encode())
    if key < 0:
        raise ValueError(text(lib.ntls_options_last_error(h)))
    return key


@contextlib.contextmanager
def build(options):
    """Yields an ``ntls_options`` handle holding ``options``, released on exit.

    The library copies options when they are used, so the handle need not outlive the call
    that consumes it. Failures raise ValueError (unknown or ill-typed option, with the
    library's words) or TLSError (an option nodetls refuses, e.g. ``NPNProtocols``).
    """
    h = c_void_p()
    status = lib.ntls_options_new(byref(h))
    if status < 0:
        raise from_status(status)
    try:
        for name, value in options.items():
            if value is None:
                continue  # Node treats an undefined option as absent
            status = _set_one(h, name, key_of(h, name), value)
            if status < 0:
                words = text(lib.ntls_options_last_error(h))
                if status == NTLS_EINVAL:  # the caller's mistake: Python's ValueError
                    raise ValueError(words)
                raise from_status(status, words)
        yield h
    finally:
        lib.ntls_options_unref(h)


def last_error(h):
    """The words of the last failure on an options handle."""
    return text(lib.ntls_options_last_error(h))
