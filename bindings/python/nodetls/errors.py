"""TLSError and its subclasses: the library's failures with Node's ``err.code``, as the
exceptions Python users already catch.

Every error is a ``TLSError`` (an ``OSError``, like ``ssl.SSLError``) carrying ``.code``
(Node's ``err.code``), ``.status`` (the negative ``NTLS_E*``) and, for the errno-style
statuses, ``.errno``. The class follows the status, so ``except ConnectionRefusedError``,
``except ssl.SSLCertVerificationError`` or ``except TimeoutError`` catch what they would
catch from the standard library's ``socket`` and ``ssl``.
"""

import errno as _errno
import socket as _socket
import ssl as _ssl
from typing import Dict, Optional, Type

from ._lib import lib, text

#: The library's statuses with a meaning of their own (nodetls.h names them).
NTLS_EAI_NONAME = -3008
NTLS_ETLS = -4202
NTLS_ECERT = -4203
NTLS_EKEY = -4204
NTLS_ECIPHER = -4205
NTLS_EWRITE_AFTER_END = -4206
#: Statuses above this are -errno (libuv's numbering on Linux; its getaddrinfo codes
#: start at -3000).
_ERRNO_FLOOR = -3000


class TLSError(OSError):
    """A nodetls failure, raised by a call or delivered to an ``'error'`` listener.

    ``code`` is Node's ``err.code`` (``"ECONNREFUSED"``, ``"CERT_HAS_EXPIRED"``,
    ``"ERR_TLS_CERT_ALTNAME_INVALID"``...), ``status`` the negative ``NTLS_E*`` number,
    ``errno`` the matching errno (or None), and ``str(err)`` (or ``.message``) the
    library's words. Errors that came with an event also carry Node's extra properties
    where the library gives them: ``syscall``, ``address``, ``port``, ``host``,
    ``library``, ``reason`` (None otherwise).
    """

    code: Optional[str]
    message: str
    status: int
    syscall: Optional[str] = None
    address: Optional[str] = None
    port: Optional[int] = None
    host: Optional[str] = None
    library: Optional[str] = None
    reason: Optional[str] = None

    def __init__(self, code: Optional[str], message: str, status: int) -> None:
        number = -status if _ERRNO_FLOOR < status < 0 else None
        super().__init__(number, message)
        self.code = code
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
                f"status={self.status})")

    def __reduce__(self):  # picklable despite the three-argument constructor
        return (_rebuild, (type(self), self.code, self.message, self.status, self.__dict__))


def _rebuild(cls, code, message, status, state):
    err = cls(code, message, status)
    err.__dict__.update(state)
    return err


class ConnectionRefused(TLSError, ConnectionRefusedError):
    """``ECONNREFUSED``."""


class ConnectionReset(TLSError, ConnectionResetError):
    """``ECONNRESET``."""


class ConnectionAborted(TLSError, ConnectionAbortedError):
    """``ECONNABORTED``."""


class BrokenPipe(TLSError, BrokenPipeError):
    """``EPIPE``, and a write after ``end()`` (``ERR_STREAM_WRITE_AFTER_END``)."""


class TimedOut(TLSError, TimeoutError):
    """``ETIMEDOUT`` (a handshake or connect that took too long)."""


class FileNotFound(TLSError, FileNotFoundError):
    """``ENOENT``: a key or certificate path that does not exist."""


class PermissionDenied(TLSError, PermissionError):
    """``EACCES``, ``EPERM``."""


class InvalidArgument(TLSError, ValueError):
    """``EINVAL``: an unknown option name, a value of the wrong type, a bad argument."""


class NameNotFound(TLSError, _socket.gaierror):
    """``ENOTFOUND``: the host name did not resolve (``errno`` is ``socket.EAI_NONAME``,
    as ``socket.getaddrinfo`` would say)."""

    def __init__(self, code: Optional[str], message: str, status: int) -> None:
        super().__init__(code, message, status)
        self.errno = _socket.EAI_NONAME


class SSLError(TLSError, _ssl.SSLError):
    """A TLS protocol failure (``ERR_SSL_*``: an alert, no shared cipher), or key material
    or a cipher list the library refuses; an ``ssl.SSLError``."""


class CertificateError(TLSError, _ssl.SSLCertVerificationError):
    """The peer's certificate did not verify (``CERT_HAS_EXPIRED``,
    ``DEPTH_ZERO_SELF_SIGNED_CERT``, ``ERR_TLS_CERT_ALTNAME_INVALID``...); an
    ``ssl.SSLCertVerificationError``, whose ``verify_message`` is the library's words."""

    def __init__(self, code: Optional[str], message: str, status: int) -> None:
        super().__init__(code, message, status)
        self.verify_message = message
        self.verify_code = None  # OpenSSL's X509_V_ERR number: nodetls has Node's code instead


_BY_STATUS: Dict[int, Type[TLSError]] = {
    -_errno.ECONNREFUSED: ConnectionRefused,
    -_errno.ECONNRESET: ConnectionReset,
    -_errno.ECONNABORTED: ConnectionAborted,
    -_errno.EPIPE: BrokenPipe,
    NTLS_EWRITE_AFTER_END: BrokenPipe,
    -_errno.ETIMEDOUT: TimedOut,
    -_errno.ENOENT: FileNotFound,
    -_errno.EACCES: PermissionDenied,
    -_errno.EPERM: PermissionDenied,
    -_errno.EINVAL: InvalidArgument,
    NTLS_EAI_NONAME: NameNotFound,
    NTLS_ETLS: SSLError,
    NTLS_EKEY: SSLError,
    NTLS_ECIPHER: SSLError,
    NTLS_ECERT: CertificateError,
}


def error_class(status: int) -> Type[TLSError]:
    """The TLSError subclass raised for a status."""
    return _BY_STATUS.get(status, TLSError)


def make_error(code: Optional[str], message: str, status: int) -> TLSError:
    """A TLSError of the class ``status`` selects."""
    return error_class(status)(code, message, status)


def err_name(status: int) -> Optional[str]:
    """The name of a status code (``"ECONNREFUSED"``)."""
    return text(lib.ntls_err_name(status))


def strerror(status: int) -> Optional[str]:
    """The text of a status code."""
    return text(lib.ntls_strerror(status))


def from_status(status: int, words: Optional[str] = None) -> TLSError:
    """The error for a failed call; ``words`` are the handle's last-error text, if any."""
    return make_error(err_name(status), words or strerror(status) or "", status)


def from_c_error(err: Optional[int]) -> TLSError:
    """Copies a borrowed ``const ntls_error *``, valid only during its callback."""
    e = make_error(text(lib.ntls_error_code(err)), text(lib.ntls_error_message(err)) or "",
                   lib.ntls_error_status(err))
    e.syscall = text(lib.ntls_error_syscall(err))
    e.address = text(lib.ntls_error_address(err))
    e.port = lib.ntls_error_port(err) or None
    e.host = text(lib.ntls_error_host(err))
    e.library = text(lib.ntls_error_library(err))
    e.reason = text(lib.ntls_error_reason(err))
    return e
