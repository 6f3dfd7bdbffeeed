//! Status codes, their names and texts, and the error objects delivered to callbacks.
//!
//! The constants are written out (cbindgen reads them literally) and `TABLE` names each
//! once; a unit test checks that every constant appears in the table.

use std::ffi::{c_char, c_int, CStr, CString};

/// Success.
pub const NTLS_OK: c_int = 0;
/// Operation not permitted.
pub const NTLS_EPERM: c_int = -1;
/// No such file or entry (e.g. no peer certificate).
pub const NTLS_ENOENT: c_int = -2;
/// I/O error.
pub const NTLS_EIO: c_int = -5;
/// Resource temporarily unavailable.
pub const NTLS_EAGAIN: c_int = -11;
/// Out of memory.
pub const NTLS_ENOMEM: c_int = -12;
/// Permission denied.
pub const NTLS_EACCES: c_int = -13;
/// Resource busy (a loop with open handles, or closed from its own thread).
pub const NTLS_EBUSY: c_int = -16;
/// Invalid argument.
pub const NTLS_EINVAL: c_int = -22;
/// Too many open files.
pub const NTLS_EMFILE: c_int = -24;
/// Broken pipe (write after end).
pub const NTLS_EPIPE: c_int = -32;
/// Operation not supported by nodetls (see the README's table of differences).
pub const NTLS_ENOTSUP: c_int = -95;
/// Address already in use.
pub const NTLS_EADDRINUSE: c_int = -98;
/// Address not available.
pub const NTLS_EADDRNOTAVAIL: c_int = -99;
/// Network is unreachable.
pub const NTLS_ENETUNREACH: c_int = -101;
/// Connection aborted.
pub const NTLS_ECONNABORTED: c_int = -103;
/// Connection reset by peer.
pub const NTLS_ECONNRESET: c_int = -104;
/// Socket is not connected.
pub const NTLS_ENOTCONN: c_int = -107;
/// Timed out.
pub const NTLS_ETIMEDOUT: c_int = -110;
/// Connection refused.
pub const NTLS_ECONNREFUSED: c_int = -111;
/// Host is unreachable.
pub const NTLS_EHOSTUNREACH: c_int = -113;
/// Operation already in progress (end/destroy/close twice).
pub const NTLS_EALREADY: c_int = -114;
/// Operation canceled (pending writes of a closed socket).
pub const NTLS_ECANCELED: c_int = -125;
/// Host name not found (Node's `ENOTFOUND`).
pub const NTLS_EAI_NONAME: c_int = -3008;
/// End of file.
pub const NTLS_EOF: c_int = -4095;
/// The handle is closed.
pub const NTLS_ECLOSED: c_int = -4200;
/// A panic was caught at the ABI boundary.
pub const NTLS_EPANIC: c_int = -4201;
/// TLS protocol failure (an alert, a malformed record).
pub const NTLS_ETLS: c_int = -4202;
/// Certificate verification failed.
pub const NTLS_ECERT: c_int = -4203;
/// Bad key or certificate material.
pub const NTLS_EKEY: c_int = -4204;
/// A cipher list selects no cipher suite.
pub const NTLS_ECIPHER: c_int = -4205;
/// A write after `end()` (Node's `ERR_STREAM_WRITE_AFTER_END`).
pub const NTLS_EWRITE_AFTER_END: c_int = -4206;

/// One row of the status table: code, `err.code`-style name, text.
struct Row(c_int, &'static CStr, &'static CStr);

const TABLE: &[Row] = &[
    Row(NTLS_OK, c"OK", c"success"),
    Row(NTLS_EPERM, c"EPERM", c"operation not permitted"),
    Row(NTLS_ENOENT, c"ENOENT", c"no such file or entry"),
    Row(NTLS_EIO, c"EIO", c"i/o error"),
    Row(NTLS_EAGAIN, c"EAGAIN", c"resource temporarily unavailable"),
    Row(NTLS_ENOMEM, c"ENOMEM", c"not enough memory"),
    Row(NTLS_EACCES, c"EACCES", c"permission denied"),
    Row(NTLS_EBUSY, c"EBUSY", c"resource busy or locked"),
    Row(NTLS_EINVAL, c"EINVAL", c"invalid argument"),
    Row(NTLS_EMFILE, c"EMFILE", c"too many open files"),
    Row(NTLS_EPIPE, c"EPIPE", c"broken pipe"),
    Row(NTLS_ENOTSUP, c"ENOTSUP", c"operation not supported"),
    Row(NTLS_EADDRINUSE, c"EADDRINUSE", c"address already in use"),
    Row(NTLS_EADDRNOTAVAIL, c"EADDRNOTAVAIL", c"address not available"),
    Row(NTLS_ENETUNREACH, c"ENETUNREACH", c"network is unreachable"),
    Row(NTLS_ECONNABORTED, c"ECONNABORTED", c"software caused connection abort"),
    Row(NTLS_ECONNRESET, c"ECONNRESET", c"connection reset by peer"),
    Row(NTLS_ENOTCONN, c"ENOTCONN", c"socket is not connected"),
    Row(NTLS_ETIMEDOUT, c"ETIMEDOUT", c"connection timed out"),
    Row(NTLS_ECONNREFUSED, c"ECONNREFUSED", c"connection refused"),
    Row(NTLS_EHOSTUNREACH, c"EHOSTUNREACH", c"host is unreachable"),
    Row(NTLS_EALREADY, c"EALREADY", c"operation already in progress"),
    Row(NTLS_ECANCELED, c"ECANCELED", c"operation canceled"),
    Row(NTLS_EAI_NONAME, c"ENOTFOUND", c"unknown node or service"),
    Row(NTLS_EOF, c"EOF", c"end of file"),
    Row(NTLS_ECLOSED, c"ECLOSED", c"handle is closed"),
    Row(NTLS_EPANIC, c"EPANIC", c"internal panic caught at the API boundary"),
    Row(NTLS_ETLS, c"ETLS", c"TLS protocol error"),
    Row(NTLS_ECERT, c"ECERT", c"certificate verification failed"),
    Row(NTLS_EKEY, c"EKEY", c"invalid key or certificate"),
    Row(NTLS_ECIPHER, c"ECIPHER", c"no cipher match"),
    Row(NTLS_EWRITE_AFTER_END, c"ERR_STREAM_WRITE_AFTER_END", c"write after end"),
];

fn row(status: c_int) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.0 == status)
}

/// The name of a status (`"ECONNREFUSED"`), `"UNKNOWN"` for codes not in the table.
pub fn err_name(status: c_int) -> &'static CStr {
    row(status).map_or(c"UNKNOWN", |r| r.1)
}

/// The text of a status, `"unknown error"` for codes not in the table.
pub fn strerror(status: c_int) -> &'static CStr {
    row(status).map_or(c"unknown error", |r| r.2)
}

/// Maps an OS error to a status code (libuv numbering: `-errno`).
pub fn from_io(e: &std::io::Error) -> c_int {
    match e.raw_os_error() {
        Some(n) if n > 0 => -n,
        _ => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => NTLS_ECONNREFUSED,
            std::io::ErrorKind::ConnectionReset => NTLS_ECONNRESET,
            std::io::ErrorKind::TimedOut => NTLS_ETIMEDOUT,
            std::io::ErrorKind::UnexpectedEof => NTLS_EOF,
            _ => NTLS_EIO,
        },
    }
}

/// An error as Node reports it: a status, `err.code`, `err.message`, and the extra
/// properties Node sets on some errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlsError {
    status: c_int,
    code: CString,
    message: CString,
    details: Option<Box<ErrorDetails>>,
}

/// Node's extra properties; each is there only where Node sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetails {
    /// `err.syscall`: `connect`, `read`, `write`, `getaddrinfo`.
    pub syscall: Option<CString>,
    /// `err.address` and `err.port` of a failed syscall.
    pub address: Option<CString>,
    /// `err.port` (0: none).
    pub port: u16,
    /// `err.host` of an identity failure, `err.hostname` of `ENOTFOUND`.
    pub host: Option<CString>,
    /// `err.library` of an OpenSSL error (`SSL routines`).
    pub library: Option<CString>,
    /// `err.reason`: OpenSSL's reason, or why the host name did not match.
    pub reason: Option<CString>,
    /// `err.cert`: the peer's certificate (DER) of an identity failure.
    pub cert: Option<Vec<u8>>,
}

impl NtlsError {
    /// An error with an explicit Node code (`CERT_HAS_EXPIRED`, `ERR_TLS_...`).
    pub fn new(status: c_int, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: cstring(code), message: cstring(&message.into()), details: None }
    }

    /// The same error with Node's extra properties changed by `f`.
    pub fn with(mut self, f: impl FnOnce(&mut ErrorDetails)) -> Self {
        f(self.details.get_or_insert_with(Box::default));
        self
    }

    /// Node's extra properties, if the error has any.
    pub fn details(&self) -> Option<&ErrorDetails> {
        self.details.as_deref()
    }

    /// An error whose code is the status's name (`ECONNREFUSED`).
    pub fn from_status(status: c_int, message: impl Into<String>) -> Self {
        let code = err_name(status).to_str().unwrap_or("UNKNOWN");
        Self::new(status, code, message)
    }

    /// An OS error raised by `syscall` (Node: "connect ECONNREFUSED 127.0.0.1:443").
    pub fn from_io(e: &std::io::Error, syscall: &str, target: &str) -> Self {
        let status = from_io(e);
        let name = err_name(status).to_str().unwrap_or("UNKNOWN");
        let message = if target.is_empty() {
            format!("{syscall} {name}")
        } else {
            format!("{syscall} {name} {target}")
        };
        let (address, port) = match target.parse::<std::net::SocketAddr>() {
            Ok(a) => (Some(a.ip().to_string()), a.port()),
            Err(_) => (target.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string()), 0),
        };
        Self::new(status, name, message).with(|d| {
            d.syscall = Some(cstring(syscall));
            d.address = address.as_deref().map(cstring);
            d.port = port;
        })
    }

    /// `getaddrinfo ENOTFOUND host`, with Node's `syscall` and `hostname`.
    pub fn not_found(host: &str) -> Self {
        Self::new(NTLS_EAI_NONAME, "ENOTFOUND", format!("getaddrinfo ENOTFOUND {host}")).with(|d| {
            d.syscall = Some(cstring("getaddrinfo"));
            d.host = Some(cstring(host));
        })
    }

    /// The `NTLS_E*` status.
    pub fn status(&self) -> c_int {
        self.status
    }

    /// Node's `err.code`.
    pub fn code(&self) -> &str {
        self.code.to_str().unwrap_or("")
    }

    /// Node-like `err.message`.
    pub fn message(&self) -> &str {
        self.message.to_str().unwrap_or("")
    }

    /// `err.code` as a C string.
    pub fn code_ptr(&self) -> *const c_char {
        self.code.as_ptr()
    }

    /// `err.message` as a C string.
    pub fn message_ptr(&self) -> *const c_char {
        self.message.as_ptr()
    }
}

impl std::fmt::Display for NtlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message(), self.code())
    }
}

/// A C string from text that may hold NUL bytes (they become '?').
pub fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).expect("NULs were replaced")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constant_is_in_the_table() {
        let src = include_str!("error.rs");
        let consts: Vec<&str> = src
            .lines()
            .filter_map(|l| l.strip_prefix("pub const "))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert!(consts.len() > 25);
        let compact: String = src.chars().filter(|c| !c.is_whitespace()).collect();
        for name in consts {
            assert!(compact.contains(&format!("Row({name},")), "{name} missing from TABLE");
        }
    }

    #[test]
    fn codes_are_unique_and_named() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert_ne!(a.0, b.0);
            }
        }
        assert_eq!(err_name(NTLS_ECONNREFUSED), c"ECONNREFUSED");
        assert_eq!(err_name(-99999), c"UNKNOWN");
        assert_eq!(strerror(-99999), c"unknown error");
        assert_eq!(NTLS_EINVAL, -libc::EINVAL);
        assert_eq!(NTLS_ECONNREFUSED, -libc::ECONNREFUSED);
    }

    #[test]
    fn io_errors_map_to_statuses() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let err = NtlsError::from_io(&e, "connect", "127.0.0.1:1");
        assert_eq!(err.code(), "ECONNREFUSED");
        assert_eq!(err.message(), "connect ECONNREFUSED 127.0.0.1:1");
        assert_eq!(err.status(), NTLS_ECONNREFUSED);
    }
}
