"""Keyword arguments to an ``ntls_options`` handle.

Names are Node's (``rejectUnauthorized``) or their snake_case spelling
(``reject_unauthorized``); ``node_name`` maps one to the other and the library does the
rest: it knows every option and its type, and says in words what is wrong.
"""

import contextlib
import functools
import itertools
import os
from ctypes import byref, c_void_p
from typing import Any, Dict, Iterator, Mapping

from ._lib import NTLS_EINVAL, lib, text
from .errors import from_status

@functools.lru_cache(maxsize=None)
def node_name(name: str) -> str:
    """Node's spelling of a snake_case name: ``reject_unauthorized`` ->
    ``rejectUnauthorized``, ``alpn_protocols`` -> ``ALPNProtocols``, ``request_ocsp`` ->
    ``requestOCSP``. A name without underscores is taken as Node's already.

    Node capitalizes acronyms inconsistently (``ALPNProtocols`` but ``ocspResponse``), so
    no rule derives them: of the spellings with each word Capitalized or in CAPITALS, the
    one the library knows as an option wins (it is the authority on option names), else
    plain camelCase (an event name, or an unknown option the library will name)."""
    if "_" not in name.strip("_"):
        return name
    words = [w.lower() for w in name.split("_")]
    first = (words[0], words[0].upper())
    rest = [(w[:1].upper() + w[1:], w.upper()) for w in words[1:]]
    candidates = ["".join(parts) for parts in itertools.product(first, *rest)]
    for candidate in candidates:
        if lib.ntls_option_by_name(candidate.encode()) > 0:
            return candidate
    return candidates[0]


def normalize(options: Mapping[str, Any]) -> Dict[str, Any]:
    """The options under Node's names; the same option given twice is a TypeError."""
    out: Dict[str, Any] = {}
    given: Dict[str, str] = {}
    for name, value in options.items():
        node = node_name(name)
        if node in out:
            raise TypeError(f"option {node!r} given twice (as {given[node]!r} and {name!r})")
        out[node] = value
        given[node] = name
    return out


def _is_bytes(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview))


def _add_item(h, name: str, key: int, item: Any) -> int:
    """One element of a list option, or a single key-material value."""
    if isinstance(item, str):
        return lib.ntls_options_add_string(h, key, item.encode())
    if _is_bytes(item):
        data = bytes(item)
        return lib.ntls_options_add_bytes(h, key, data, len(data))
    if isinstance(item, os.PathLike):
        return lib.ntls_options_add_file(h, key, os.fsencode(item))
    if isinstance(item, Mapping) and "pem" in item:
        # Node's key: [{pem, passphrase}]: a key with its own passphrase.
        pem = item["pem"]
        pem = pem.encode() if isinstance(pem, str) else bytes(pem)
        passphrase = item.get("passphrase")
        return lib.ntls_options_add_key(h, pem, len(pem),
                                        passphrase.encode() if passphrase is not None else None)
    raise TypeError(f"option {name!r}: items must be str, bytes, a path or "
                    f"{{'pem': ..., 'passphrase': ...}}, not {type(item).__name__}")


def _set_one(h, name: str, key: int, value: Any) -> int:
    """Calls the setter the Python type selects; the library checks it against the key."""
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return lib.ntls_options_set_bool(h, key, int(value))
    if isinstance(value, int):
        return lib.ntls_options_set_int(h, key, value)
    if isinstance(value, str):
        status = lib.ntls_options_set_string(h, key, value.encode())
        if status == NTLS_EINVAL:
            # Not a string option: maybe one that takes bytes, such as PEM text for `key`.
            # The library decides; if it refuses that too, its first words stand.
            words = text(lib.ntls_options_last_error(h))
            if lib.ntls_options_add_string(h, key, value.encode()) >= 0:
                return 0
            raise from_status(status, words)
        return status
    if _is_bytes(value):
        data = bytes(value)
        return lib.ntls_options_set_bytes(h, key, data, len(data))
    if isinstance(value, (os.PathLike, Mapping)):
        return _add_item(h, name, key, value)
    if isinstance(value, (list, tuple)):
        for item in value:
            status = _add_item(h, name, key, item)
            if status < 0:
                return status
        return 0
    raise TypeError(f"option {name!r}: unsupported value type {type(value).__name__}")


def key_of(h: Any, name: str) -> int:
    """The ``NTLS_OPT_*`` key of a Node option name; ``InvalidArgument`` (a ValueError) with
    the library's words ("unknown option 'rejectUnauthorised'") for an unknown name."""
    key = lib.ntls_options_key(h, name.encode())
    if key < 0:
        raise from_status(key, text(lib.ntls_options_last_error(h)))
    return key


@contextlib.contextmanager
def build(options: Mapping[str, Any]) -> Iterator[Any]:
    """Yields an ``ntls_options`` handle holding ``options``, released on exit.

    The library copies options when they are used, so the handle need not outlive the call
    that consumes it. Failures raise ``InvalidArgument`` (a ValueError: unknown or
    ill-typed option, with the library's words), ``FileNotFoundError``/``PermissionError``
    for a path that cannot be read, ``TypeError`` for a Python type no setter takes, or
    ``TLSError`` (an option nodetls refuses, e.g. ``NPNProtocols``: ``ENOTSUP``).
    """
    options = normalize(options)
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
                raise from_status(status, text(lib.ntls_options_last_error(h)))
        yield h
    finally:
        lib.ntls_options_unref(h)


def last_error(h: Any) -> str:
    """The words of the last failure on an options handle."""
    return text(lib.ntls_options_last_error(h)) or ""
