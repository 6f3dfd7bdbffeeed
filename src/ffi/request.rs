//! `ntls_request_*`: finishing an answer Node takes as a callback (SNICallback).

use super::{c_str, guard, non_null};
use crate::error::*;
use crate::request::{Answer, Request};
use crate::tls::context::SecureContext;
use std::ffi::{c_char, c_int};
use std::sync::Arc;

/// `ntls_request`: a question the handshake waits on; finish it exactly once.
pub type ntls_request = Request;

/// Finishes a request with the program's answer, giving up the program's reference.
///
/// # Safety
/// `req` is a request handed to a callback and not finished yet.
unsafe fn finish(req: *mut Request, answer: Answer) -> c_int {
    // SAFETY: the request is live: the program holds the reference the callback gave it.
    let r = unsafe { &*req };
    if !r.finish(answer) {
        return NTLS_EALREADY;
    }
    // SAFETY: the callback handed this reference to the program; finishing returns it.
    drop(unsafe { Arc::from_raw(req.cast_const()) });
    0
}

/// Answers SNICallback with a context (NULL: the server's default context). Any thread.
///
/// # Safety
/// `req` is an unfinished request; `ctx` NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn ntls_request_sni_done(req: *mut Request, ctx: *mut SecureContext) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(req);
        // SAFETY: live context per the caller.
        let ctx = unsafe { super::borrow_arc(ctx.cast_const()) };
        // SAFETY: forwarded from the caller.
        unsafe { finish(req, Answer::Context(ctx)) }
    })
}

/// Fails the handshake waiting on the request (`tlsClientError` gets `message`). Any thread.
///
/// # Safety
/// `req` is an unfinished request; `message` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ntls_request_fail(req: *mut Request, message: *const c_char) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(req);
        // SAFETY: NUL-terminated per the caller.
        let message = unsafe { c_str(message) }.unwrap_or("SNICallback failed").to_owned();
        // SAFETY: forwarded from the caller.
        unsafe { finish(req, Answer::Error(message)) }
    })
}
