"""TLSError: the library's failures with Node's ``err.code``."""

from ._lib import lib, text


class TLSError(Exception):
    """A nodetls failure, raised by a call or delivered to an ``'error'`` listener.

    ``code`` is Node's ``err.code`` (``"ECONNREFUSED"``, ``"CERT_HAS_EXPIRED"``,
    ``"ERR_TLS_CERT_ALTNAME_INVALID"``...), ``status`` the negative ``NTLS_E*`` number,
    and ``str(err)`` (or ``.message``) the library's words.
    """

    def __init__(self, code, message, status):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self):
        return f"TLSError(code={self.code!r}, message={self.message!r}, status={self.status})"


def err_name(status):
    """The name of a status code (``"ECONNREFUSED"``)."""
    return text(lib.ntls_err_name(status))


def strerror(status):
    """The text of a status code."""
    return text(lib.ntls_strerror(status))


def from_status(status, words=None):
    """A TLSError for a failed call; ``words`` are the handle's last-error text, if any."""
    return TLSError(err_name(status), words or strerror(status), status)


def from_c_error(err):
    """Copies a borrowed ``const ntls_error *``, valid only during its callback."""
    return TLSError(text(lib.ntls_error_code(err)), text(lib.ntls_error_message(err)),
                    lib.ntls_error_status(err))
