//! The getters of a handshake's facts, shared by `ntls_socket_*` and `ntls_pair_*`: one
//! implementation over `HasSecureInfo`, so both handles answer the same way (NULL, closed,
//! before the handshake).

use super::handle;
use crate::error::*;
use crate::socket::info::{HasSecureInfo, SecureInfo};
use std::ffi::{c_char, c_int, CStr};

/// A handle type whose facts the getters read.
pub(crate) trait Facts: HasSecureInfo + Send + Sync + 'static {}
impl<T: HasSecureInfo + Send + Sync + 'static> Facts for T {}

/// Reads one string property of the handshake (they outlive the connection, as Node's
/// `authorizationError`, `alpnProtocol` and `servername` do); NULL before it or when absent.
fn property_str<H: Facts>(h: *const H, f: impl FnOnce(&SecureInfo) -> *const c_char) -> *const c_char {
    match handle(h).as_deref().and_then(H::properties) {
        Some(i) => f(i),
        None => std::ptr::null(),
    }
}

/// `authorized`: 1 if the peer's certificate verified, else 0 (also for NULL).
pub(crate) fn authorized<H: Facts>(h: *const H) -> c_int {
    c_int::from(handle(h).as_deref().and_then(H::properties).is_some_and(|i| i.authorized))
}

/// `authorizationError`: Node's code, NULL when authorized.
pub(crate) fn authorization_error<H: Facts>(h: *const H) -> *const c_char {
    property_str(h, |i| i.authorization_error.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()))
}

/// `alpnProtocol`: the agreed protocol, NULL when none.
pub(crate) fn alpn_protocol<H: Facts>(h: *const H) -> *const c_char {
    property_str(h, |i| i.alpn.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()))
}

/// `servername`, NULL when none.
pub(crate) fn servername<H: Facts>(h: *const H) -> *const c_char {
    handle(h).as_deref().and_then(H::servername).map_or(std::ptr::null(), CStr::as_ptr)
}

/// `getProtocol()`: NULL before the handshake and after close.
pub(crate) fn protocol<H: Facts>(h: *const H) -> *const c_char {
    handle(h).as_deref().and_then(H::info).map_or(std::ptr::null(), |i| i.protocol.as_ptr())
}

/// `isSessionReused()`: 1 or 0.
pub(crate) fn session_reused<H: Facts>(h: *const H) -> c_int {
    c_int::from(handle(h).as_deref().and_then(H::info).is_some_and(|i| i.session_reused))
}

/// `getCipher()`: OpenSSL name, IANA name and version; out-pointers may be NULL.
///
/// # Safety
/// Each out-pointer is NULL or writable.
pub(crate) unsafe fn cipher<H: Facts>(
    h: *const H,
    name: *mut *const c_char,
    standard_name: *mut *const c_char,
    version: *mut *const c_char,
) -> c_int {
    let Some(h) = handle(h) else { return NTLS_EINVAL };
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
/// Each out-pointer is NULL or writable.
pub(crate) unsafe fn ephemeral_key_info<H: Facts>(
    h: *const H,
    name: *mut *const c_char,
    size: *mut c_int,
) -> c_int {
    let Some(h) = handle(h) else { return NTLS_EINVAL };
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

/// `getSharedSigalgs()`: up to `cap` names into `out` (NULL with `cap` 0 to size), and the
/// count of all.
pub(crate) unsafe fn shared_sigalgs<H: Facts>(h: *const H, out: *mut *const c_char, cap: usize) -> c_int {
    let Some(h) = handle(h) else { return NTLS_EINVAL };
    let Some(i) = h.info() else { return NTLS_ENOTCONN };
    let mut count = 0;
    for (k, name) in i.shared_sigalgs.names().enumerate() {
        if !out.is_null() && k < cap {
            // SAFETY: the caller gave room for `cap` pointers.
            unsafe { *out.add(k) = name.as_ptr() };
        }
        count += 1;
    }
    count
}
