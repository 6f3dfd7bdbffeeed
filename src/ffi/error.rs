//! `ntls_strerror`, `ntls_err_name` and the `ntls_error` object's getters.

use super::guard;
use crate::error::{self, NtlsError, NTLS_EINVAL, NTLS_EPANIC};
use std::ffi::{c_char, c_int};

/// `ntls_error`: an error delivered to a callback, valid during the callback.
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

/// Node's `err.code` (`"CERT_HAS_EXPIRED"`); NULL only for a NULL error.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_code(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), {
        // SAFETY: the caller passes an error it was handed, during its callback.
        match unsafe { err.as_ref() } {
            Some(e) => e.code_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// Node-like `err.message`; NULL only for a NULL error.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_message(err: *const NtlsError) -> *const c_char {
    guard!(std::ptr::null(), {
        // SAFETY: as in ntls_error_code.
        match unsafe { err.as_ref() } {
            Some(e) => e.message_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The error's `NTLS_E*` status; `NTLS_EINVAL` for a NULL error.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_status(err: *const NtlsError) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: as in ntls_error_code.
        match unsafe { err.as_ref() } {
            Some(e) => e.status(),
            None => NTLS_EINVAL,
        }
    })
}
