//! The getters of a handshake's facts, shared by `ntls_socket_*` and `ntls_pair_*`: one
//! implementation over `HasSecureInfo`, so both handles answer the same way (NULL, closed,
//! before the handshake).

use super::handle;
use crate::error::*;
use crate::socket::info::{HasSecureInfo, SecureInfo};
use std::ffi::{c_char, c_int, CStr};

/// Reads one string property of the handshake (they outlive the connection, as Node's
/// `authorizationError`, `alpnProtocol` and `servername` do); NULL before it or when absent.
///
/// # Safety
/// `h` is NULL or a live handle.
unsafe fn property_str<H: HasSecureInfo>(
    h: *const H,
    f: impl FnOnce(&SecureInfo) -> *const c_char,
) -> *const c_char {
    // SAFETY: forwarded from the caller.
    match unsafe { handle(h) }.and_then(H::properties) {
        Some(i) => f(i),
        None => std::ptr::null(),
    }
}

/// `authorized`: 1 if the peer's certificate verified, else 0 (also for NULL).
///
/// # Safety
/// `h` is NULL or a live handle.
pub(crate) unsafe fn authorized<H: HasSecureInfo>(h: *const H) -> c_int {
    // SAFETY: forwarded from the caller.
    c_int::from(unsafe { handle(h) }.and_then(H::properties).is_some_and(|i| i.authorized))
}

/// `authorizationError`: Node's code, NULL when authorized.
///
/// # Safety
/// `h` is NULL or a live handle.
pub(crate) unsafe fn authorization_error<H: HasSecureInfo>(h: *const H) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { property_str(h, |i| i.authorization_error.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())) }
}

/// `alpnProtocol`: the agreed protocol, NULL when none.
///
/// # Safety
/// `h` is NULL or a live handle.
pub(crate) unsafe fn alpn_protocol<H: HasSecureInfo>(h: *const H) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { property_str(h, |i| i.alpn.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())) }
}

/// `servername`, NULL when none.
///
/// # Safety
/// `h` is NULL or a live handle.
pub(crate) unsafe fn servername<H: HasSecureInfo>(h: *const H) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { handle(h) }.and_then(H::servername).map_or(std::ptr::null(), CStr::as_ptr)
}

/// `getProtocol()`: NULL before the handshake and after close.
///
/// # Safety
/// `h` is NULL or a live handle.
pub(crate) unsafe fn protocol<H: HasSecureInfo>(h: *const H) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { handle(h) }.and_then(H::info).map_or(std::ptr::null(), |i| i.protocol.as_ptr())
}

/// `isSessionReused()`: 1 or 0.
///
/// # Safety
/// `h` is NULL or a live handle.
pub(crate) unsafe fn session_reused<H: HasSecureInfo>(h: *const H) -> c_int {
    // SAFETY: forwarded from the caller.
    c_int::from(unsafe { handle(h) }.and_then(H::info).is_some_and(|i| i.session_reused))
}

/// `getCipher()`: OpenSSL name, IANA name and version; out-pointers may be NULL.
///
/// # Safety
/// `h` is NULL or a live handle; each out-pointer NULL or writable.
pub(crate) unsafe fn cipher<H: HasSecureInfo>(
    h: *const H,
    name: *mut *const c_char,
    standard_name: *mut *const c_char,
    version: *mut *const c_char,
) -> c_int {
    // SAFETY: forwarded from the caller.
    let Some(h) = (unsafe { handle(h) }) else { return NTLS_EINVAL };
    let Some(i) = h.info() else { return NTLS_ENOTCONN };
    for (out, value) in [
        (name, i.cipher_name.as_ptr()),
        (standard_name, i.standard_name.as_ptr()),
        (version, i.cipher_version.as_ptr()),
    ] {
        if !out.is_null() {
            // SAFETY: non-null and writable per the caller.
            unsafe { *out = value };
        }
    }
    0
}

/// `getEphemeralKeyInfo()`: group name and bits; `NTLS_ENOENT` on a server's side.
///
/// # Safety
/// `h` is NULL or a live handle; each out-pointer NULL or writable.
pub(crate) unsafe fn ephemeral_key_info<H: HasSecureInfo>(
    h: *const H,
    name: *mut *const c_char,
    size: *mut c_int,
) -> c_int {
    // SAFETY: forwarded from the caller.
    let Some(h) = (unsafe { handle(h) }) else { return NTLS_EINVAL };
    let Some(i) = h.info() else { return NTLS_ENOTCONN };
    let group = i.kx_group.as_ref();
    if !name.is_null() {
        // SAFETY: non-null and writable per the caller.
        unsafe { *name = group.map_or(std::ptr::null(), |c| c.as_ptr()) };
    }
    if !size.is_null() {
        // SAFETY: non-null and writable per the caller.
        unsafe { *size = group.map_or(0, |_| c_int::try_from(i.kx_bits).unwrap_or(0)) };
    }
    if group.is_none() {
        return NTLS_ENOENT;
    }
    0
}
