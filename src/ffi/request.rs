//! `ntls_request_*`: finishing an answer Node takes as a callback (SNICallback,
//! newSession, resumeSession).

use super::{c_str, guard, non_null};
use crate::error::*;
use crate::request::{Answer, Request};
use crate::tls::context::SecureContext;
use std::ffi::{c_char, c_int};
use std::sync::Arc;

/// `ntls_request`: a question the handshake waits on; finish it exactly once.
pub type ntls_request = Request;

/// Keeps a request alive for the program (the handle registry holds the program's one
/// reference until it answers) and returns the pointer it gets.
pub(crate) fn hand_to_program(req: Arc<Request>) -> *mut Request {
    super::handles::hand_out(req)
}

/// Finishes a pending request with the program's answer: finishing twice is
/// `NTLS_EALREADY`, a pointer that was never a request `NTLS_EINVAL`.
fn finish(req: *mut Request, answer: Answer) -> c_int {
    match super::handles::take_back(req.cast_const()) {
        Ok(r) if r.finish(answer) => 0,
        Ok(_) => NTLS_EALREADY,
        Err(status) => status,
    }
}

/// Answers SNICallback with a context (NULL: the server's default context). Any thread;
/// a second answer is `NTLS_EALREADY`; a pointer that is no request, or a context pointer
/// that is no live context, `NTLS_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn ntls_request_sni_done(req: *mut Request, ctx: *mut SecureContext) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(req);
        let answer = super::borrow_arc(ctx.cast_const());
        if answer.is_none() && !ctx.is_null() {
            return NTLS_EINVAL;
        }
        finish(req, Answer::Context(answer))
    })
}

/// Answers `resumeSession` with the stored session's bytes (copied; NULL and 0: none, a
/// full handshake), or `newSession` (stored; pass NULL and 0). Any thread; a second answer
/// is `NTLS_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn ntls_request_session_done(
    req: *mut Request,
    session: *const u8,
    len: usize,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(req);
        // SAFETY: `len` readable bytes per the caller.
        let Some(bytes) = (unsafe { super::c_bytes(session, len) }) else { return NTLS_EINVAL };
        finish(req, Answer::Session((!bytes.is_empty()).then(|| bytes.to_vec())))
    })
}

/// Fails the handshake waiting on the request (`tlsClientError` gets `message`). Any thread.
#[no_mangle]
pub unsafe extern "C" fn ntls_request_fail(req: *mut Request, message: *const c_char) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(req);
        // SAFETY: NUL-terminated per the caller.
        let message = unsafe { c_str(message) }.unwrap_or("SNICallback failed").to_owned();
        finish(req, Answer::Error(message))
    })
}
