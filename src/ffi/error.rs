//! `ntls_strerror`, `ntls_err_name` and the `ntls_error` object's getters.

use super::{guard, handles};
use crate::error::{self, ErrorDetails, NtlsError, NTLS_EINVAL, NTLS_EPANIC};
use std::ffi::{c_char, c_int, CStr};

/// `ntls_error`: an error delivered to a callback, valid during the callback; its getters
/// answer NULL (or `NTLS_EINVAL`, 0) for it afterwards, as for any pointer that is no error.
pub type ntls_error = NtlsError;

/// The text of a status code; static, never NULL.
#[no_mangle]
pub extern "C" fn ntls_strerror(status: c_int) -> *const c_char {
    guard!(c"internal error".as_ptr(), { error::strerror(status).as_ptr() })
}

/// The name of a status code (`"ECONNREFUSED"`); static, never NULL.
#[no_mangle]
pub extern "C" fn ntls_err_name(status: c_int) -> *const c_char {
    guard!(c"EPANIC".as_ptr(), { error::err_name(status).as_ptr() })
}

/// Node's `err.code` (`"CERT_HAS_EXPIRED"`); NULL for NULL or an error whose callback has returned.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_code(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), { handles::with_lent(err, |e| e.code_ptr()).unwrap_or(std::ptr::null()) })
}

/// Node-like `err.message`; NULL for NULL or an error whose callback has returned.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_message(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), { handles::with_lent(err, |e| e.message_ptr()).unwrap_or(std::ptr::null()) })
}

/// The error's `NTLS_E*` status; `NTLS_EINVAL` for NULL or an error whose callback has returned.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_status(err: *const NtlsError) -> c_int {
    guard!(NTLS_EPANIC, { handles::with_lent(err, |e| e.status()).unwrap_or(NTLS_EINVAL) })
}

/// One of Node's extra string properties of an error (it lives as long as the error), NULL
/// when the error has none.
fn detail(err: *const NtlsError, f: impl FnOnce(&ErrorDetails) -> Option<&CStr>) -> *const c_char {
    let text = handles::with_lent(err, |e| e.details().and_then(f).map(CStr::as_ptr));
    text.flatten().unwrap_or(std::ptr::null())
}

/// Node's `err.syscall` (`"connect"`, `"read"`, `"write"`, `"getaddrinfo"`); NULL when none.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_syscall(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), { detail(err, |d| d.syscall.as_deref()) })
}

/// Node's `err.address` of a failed syscall (`"127.0.0.1"`); NULL when none.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_address(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), { detail(err, |d| d.address.as_deref()) })
}

/// Node's `err.port` of a failed syscall; 0 when none.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_port(err: *const NtlsError) -> c_int {
    guard!(0, { handles::with_lent(err, |e| e.details().map_or(0, |d| c_int::from(d.port))).unwrap_or(0) })
}

/// Node's `err.host` of a host-name mismatch (`ERR_TLS_CERT_ALTNAME_INVALID`), or
/// `err.hostname` of `ENOTFOUND`; NULL when none.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_host(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), { detail(err, |d| d.host.as_deref()) })
}

/// Node's `err.library` of an OpenSSL-style error (`"SSL routines"`); NULL when none.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_library(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), { detail(err, |d| d.library.as_deref()) })
}

/// Node's `err.reason`: OpenSSL's reason (`"no shared cipher"`), or why the host name did
/// not match the certificate; NULL when none.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_reason(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), { detail(err, |d| d.reason.as_deref()) })
}
