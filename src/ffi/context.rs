//! `ntls_context_*`: `tls.createSecureContext`.

use super::options::OptionsHandle;
use super::{guard, hand_out, non_null, release_arc, retain_arc, try_ref};
use crate::error::*;
use crate::tls::context::SecureContext;
use std::ffi::c_int;

/// `ntls_context`: a secure context.
pub type ntls_context = SecureContext;

/// `tls.createSecureContext(options)`: keys, certificates and CAs are checked now; on
/// failure the words are in `ntls_options_last_error(opts)`.
#[no_mangle]
pub unsafe extern "C" fn ntls_context_new(opts: *const OptionsHandle, out: *mut *mut SecureContext) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        let h = try_ref!(opts);
        h.with(|o| match SecureContext::from_options(o) {
            Ok(ctx) => {
                // SAFETY: `out` is non-null and writable per the caller.
                unsafe { hand_out(out, ctx) };
                0
            }
            Err(e) => {
                o.set_last_error(&e.message);
                e.status
            }
        })
    })
}

/// Adds a reference to a context; `NTLS_EINVAL` for a pointer that is no live context.
#[no_mangle]
pub unsafe extern "C" fn ntls_context_ref(ctx: *mut SecureContext) -> c_int {
    guard!(NTLS_EPANIC, { retain_arc(ctx.cast_const()) })
}

/// Drops the caller's reference; servers and sockets using the context keep theirs.
/// `NTLS_EINVAL` when the caller holds none (a second `_unref`).
#[no_mangle]
pub unsafe extern "C" fn ntls_context_unref(ctx: *mut SecureContext) -> c_int {
    guard!(NTLS_EPANIC, { release_arc(ctx.cast_const()) })
}
