//! The C ABI and nothing else: argument checks, handle <-> object, the panic boundary,
//! status codes. Every exported function's body is wrapped in `guard!`.

#![allow(non_camel_case_types)]
// The pointer rules every export shares (NULL or a live handle; a pointer with a length
// points to that many bytes; out-pointers NULL or writable) are stated once, at the top
// of the header, rather than as a Rust `# Safety` section repeated on each function.
#![allow(clippy::missing_safety_doc)]

pub mod callbacks;
pub mod cert;
pub mod ciphers;
pub mod context;
pub mod error;
pub(crate) mod handles;
pub mod identity;
pub mod logging;
pub mod loops;
pub mod ocsp;
pub mod options;
pub mod pair;
pub mod request;
pub mod secure_info;
pub mod server;
pub mod session;
pub mod socket;
pub mod version;

use std::ffi::{c_char, CStr};

/// Runs an exported function's body, turning a panic into `$on_panic`: panics never
/// cross the ABI.
macro_rules! guard {
    ($on_panic:expr, $body:block) => {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => $on_panic,
        }
    };
}
pub(crate) use guard;

/// Returns `NTLS_EINVAL` from the enclosing function when a pointer is NULL.
macro_rules! non_null {
    ($($p:expr),+) => {
        $(if $p.is_null() {
            return crate::error::NTLS_EINVAL;
        })+
    };
}
pub(crate) use non_null;

/// The object behind a handle, as a reference for the call; None for NULL and for any
/// pointer that is not a live handle of this type (see `handles`). Every export turns a
/// handle into its object this way, or with `try_ref!`.
pub(crate) fn handle<T: Send + Sync + 'static>(p: *const T) -> Option<std::sync::Arc<T>> {
    handles::get(p)
}

/// A handle pointer as `*const`, whichever way the export declares it.
pub(crate) trait ConstPtr<T> {
    /// The same pointer, `*const`.
    fn into_const(self) -> *const T;
}

impl<T> ConstPtr<T> for *const T {
    fn into_const(self) -> *const T {
        self
    }
}

impl<T> ConstPtr<T> for *mut T {
    fn into_const(self) -> *const T {
        self.cast_const()
    }
}

/// `let x = try_ref!(p);` — the object behind a live handle (a counted reference for the
/// call), or `return NTLS_EINVAL` for NULL, a freed handle or a pointer never given out.
macro_rules! try_ref {
    ($p:expr) => {
        match $crate::ffi::handle($crate::ffi::ConstPtr::into_const($p)) {
            Some(h) => h,
            None => return $crate::error::NTLS_EINVAL,
        }
    };
}
pub(crate) use try_ref;

/// The same as `try_ref!`, named for work that outlives the call (connect, destroy, listen...).
macro_rules! try_arc {
    ($p:expr) => {
        $crate::ffi::try_ref!($p)
    };
}
pub(crate) use try_arc;

/// A borrowed UTF-8 string from C; None for NULL or invalid UTF-8.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string alive for `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// A borrowed byte slice from C; an empty slice for `len == 0` (any pointer).
///
/// # Safety
/// `p` points to `len` readable bytes alive for `'a`, or `len` is 0.
pub(crate) unsafe fn c_bytes<'a>(p: *const u8, len: usize) -> Option<&'a [u8]> {
    match (p.is_null(), len) {
        (_, 0) => Some(&[]),
        (true, _) => None,
        // SAFETY: the caller promises `len` readable bytes.
        (false, _) => Some(unsafe { std::slice::from_raw_parts(p, len) }),
    }
}

/// Copies `text` into a caller's buffer, NUL-terminated; `NTLS_EINVAL` if it does not fit.
///
/// # Safety
/// `buf` is NULL or points to `len` writable bytes.
pub(crate) unsafe fn copy_out(text: &str, buf: *mut c_char, len: usize) -> std::ffi::c_int {
    if buf.is_null() {
        return 0;
    }
    if text.len() + 1 > len {
        return crate::error::NTLS_EINVAL;
    }
    // SAFETY: `buf` has room for the text and its NUL, checked above.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        *buf.add(text.len()) = 0;
    }
    0
}

/// Writes an address's parts to optional out-pointers.
///
/// # Safety
/// Each pointer is NULL or valid for writing.
pub(crate) unsafe fn address_out(
    addr: std::net::SocketAddr,
    host: *mut c_char,
    host_len: usize,
    port: *mut std::ffi::c_int,
    family: *mut std::ffi::c_int,
) -> std::ffi::c_int {
    let fam = if addr.is_ipv4() { 4 } else { 6 };
    // SAFETY: forwarded from the caller's promise.
    unsafe { endpoint_out(&addr.ip().to_string(), addr.port().into(), fam, host, host_len, port, family) }
}

/// Writes a Unix socket's path as an address: the path as host, port 0, family 0.
///
/// # Safety
/// Each pointer is NULL or valid for writing.
pub(crate) unsafe fn path_out(
    path: &std::path::Path,
    host: *mut c_char,
    host_len: usize,
    port: *mut std::ffi::c_int,
    family: *mut std::ffi::c_int,
) -> std::ffi::c_int {
    // SAFETY: forwarded from the caller's promise.
    unsafe { endpoint_out(&path.to_string_lossy(), 0, 0, host, host_len, port, family) }
}

/// # Safety
/// Each pointer is NULL or valid for writing (`host` for `host_len` bytes).
unsafe fn endpoint_out(
    text: &str,
    port_value: std::ffi::c_int,
    family_value: std::ffi::c_int,
    host: *mut c_char,
    host_len: usize,
    port: *mut std::ffi::c_int,
    family: *mut std::ffi::c_int,
) -> std::ffi::c_int {
    // SAFETY: forwarded from the caller's promise.
    let status = unsafe { copy_out(text, host, host_len) };
    if status != 0 {
        return status;
    }
    for (out, value) in [(port, port_value), (family, family_value)] {
        if !out.is_null() {
            // SAFETY: non-null and writable, per the caller.
            unsafe { *out = value };
        }
    }
    0
}

/// A new reference to the object behind a handle, leaving the caller's reference alone;
/// None for NULL or a pointer that is not a live handle (`handle` under its older name).
pub(crate) fn borrow_arc<T: Send + Sync + 'static>(p: *const T) -> Option<std::sync::Arc<T>> {
    handles::get(p)
}

/// `_unref`: drops one of the program's references; `NTLS_EINVAL` when it holds none.
pub(crate) fn release_arc<T: Send + Sync + 'static>(p: *const T) -> std::ffi::c_int {
    handles::unref(p)
}

/// `_ref`: adds a reference to a live handle; `NTLS_EINVAL` for anything else.
pub(crate) fn retain_arc<T: Send + Sync + 'static>(p: *const T) -> std::ffi::c_int {
    handles::add_ref(p)
}

/// Stores a new handle, with the program's one reference, in a caller's out-pointer.
///
/// # Safety
/// `out` is a valid pointer for writing.
pub(crate) unsafe fn hand_out<T: Send + Sync + 'static>(out: *mut *mut T, obj: std::sync::Arc<T>) {
    // SAFETY: the caller checked `out` is non-null and writable.
    unsafe { *out = handles::hand_out(obj) };
}

/// A `void *` passed through to C callbacks untouched.
#[derive(Clone, Copy)]
pub struct UserData(pub *mut std::ffi::c_void);

// SAFETY: nodetls never dereferences user data; it only hands it back to the
// program's own callbacks, which the C API documents run on the loop thread.
unsafe impl Send for UserData {}
// SAFETY: as above: the pointer is opaque to us.
unsafe impl Sync for UserData {}

impl Default for UserData {
    fn default() -> Self {
        UserData(std::ptr::null_mut())
    }
}

#[cfg(test)]
mod tests {
    use crate::error::NTLS_EPANIC;

    fn boom() -> std::ffi::c_int {
        guard!(NTLS_EPANIC, {
            if std::hint::black_box(true) {
                panic!("a bug behind the ABI");
            }
            0
        })
    }

    #[test]
    fn a_panic_becomes_a_status() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        assert_eq!(boom(), NTLS_EPANIC);
        std::panic::set_hook(hook);
    }
}
