//! `ntls_context_*`: `tls.createSecureContext`.

use super::options::OptionsHandle;
use super::{guard, hand_out, non_null, release_arc, retain_arc};
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
        non_null!(opts, out);
        // SAFETY: live handle per the caller.
        let h = unsafe { &*opts };
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

/// Adds a reference to a context.
#[no_mangle]
pub unsafe extern "C" fn ntls_context_ref(ctx: *mut SecureContext) {
    // SAFETY: live handle per the caller.
    guard!((), { unsafe { retain_arc(ctx.cast_const()) } })
}

/// Drops the caller's reference; servers and sockets using the context keep theirs.
#[no_mangle]
pub unsafe extern "C" fn ntls_context_unref(ctx: *mut SecureContext) {
    // SAFETY: the caller gives up its reference.
    guard!((), { unsafe { release_arc(ctx.cast_const()) } })
}
