//! `ntls_request_*`: finishing an answer Node takes as a callback (SNICallback,
//! newSession, resumeSession).

use super::{c_str, guard, non_null};
use crate::error::*;
use crate::request::{Answer, Request};
use crate::tls::context::SecureContext;
use std::ffi::{c_char, c_int};
use std::sync::{Arc, Mutex};

/// `ntls_request`: a question the handshake waits on; finish it exactly once.
pub type ntls_request = Request;

/// Requests handed to the program and not finished yet, by address. The program's pointer
/// is only ever looked up here, never dereferenced, so finishing twice (or finishing a
/// stale pointer) is `NTLS_EALREADY` rather than a use-after-free.
static PENDING: Mutex<Vec<Arc<Request>>> = Mutex::new(Vec::new());

/// Keeps a request alive for the program and returns the pointer it gets.
pub(crate) fn hand_to_program(req: Arc<Request>) -> *mut Request {
    let ptr = Arc::as_ptr(&req).cast_mut();
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(req);
    ptr
}

/// Finishes a pending request with the program's answer.
fn finish(req: *mut Request, answer: Answer) -> c_int {
    let taken = {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        let at = pending.iter().position(|r| std::ptr::eq(Arc::as_ptr(r), req));
        at.map(|i| pending.swap_remove(i))
    };
    match taken {
        Some(r) if r.finish(answer) => 0,
        _ => NTLS_EALREADY,
    }
}

/// Answers SNICallback with a context (NULL: the server's default context). Any thread;
/// a second answer is `NTLS_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn ntls_request_sni_done(req: *mut Request, ctx: *mut SecureContext) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(req);
        // SAFETY: live context per the caller.
        let ctx = unsafe { super::borrow_arc(ctx.cast_const()) };
        finish(req, Answer::Context(ctx))
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
