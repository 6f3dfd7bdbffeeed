//! `ntls_loop_*`: event loops (one reactor thread each).

use super::{borrow_arc, guard, hand_out, non_null, release_arc, retain_arc, UserData};
use crate::error::*;
use crate::reactor::{Loop, LoopCore};
use std::ffi::{c_int, c_void};

/// `ntls_loop`: an event loop.
pub type ntls_loop = LoopCore;

/// A function run on a loop's thread by `ntls_loop_call`.
pub type ntls_loop_fn = Option<unsafe extern "C" fn(arg: *mut c_void)>;

/// The loop behind a handle, or the default loop for NULL; `NTLS_EINVAL` for a pointer
/// that is no live loop.
pub(crate) fn loop_or_default(lp: *const LoopCore) -> Result<Loop, c_int> {
    let lp = match borrow_arc(lp) {
        Some(core) => Loop::from_core(core),
        None if lp.is_null() || Loop::is_default(lp) => Loop::default_loop().cloned().ok_or(NTLS_ENOMEM)?,
        None => return Err(NTLS_EINVAL),
    };
    if lp.is_closed() {
        return Err(NTLS_ECLOSED);
    }
    Ok(lp)
}

/// The process-wide loop, started on first use; never closed, never freed.
#[no_mangle]
pub extern "C" fn ntls_default_loop() -> *mut LoopCore {
    guard!(std::ptr::null_mut(), {
        match Loop::default_loop() {
            Some(l) => super::handles::lend(l.core()),
            None => std::ptr::null_mut(),
        }
    })
}

/// Starts a new loop with its own thread; release it with `ntls_loop_close` then `ntls_loop_unref`.
#[no_mangle]
pub unsafe extern "C" fn ntls_loop_new(out: *mut *mut LoopCore) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        match Loop::new() {
            // SAFETY: `out` is non-null and writable per the caller.
            Ok(l) => unsafe { hand_out(out, l.core().clone()) },
            Err(e) => return from_io(&e),
        }
        0
    })
}

/// Stops a loop's thread. `NTLS_EBUSY` while handles are open or from the loop's own
/// thread; `NTLS_EPERM` for the default loop; `NTLS_ECLOSED` the second time.
#[no_mangle]
pub unsafe extern "C" fn ntls_loop_close(lp: *mut LoopCore) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(lp);
        if Loop::is_default(lp) {
            return NTLS_EPERM;
        }
        let Some(core) = borrow_arc(lp.cast_const()) else {
            return NTLS_EINVAL;
        };
        match Loop::from_core(core).close() {
            Ok(()) => 0,
            Err(status) => status,
        }
    })
}

/// Runs `fn(arg)` on the loop's thread, on a later turn.
#[no_mangle]
pub unsafe extern "C" fn ntls_loop_call(lp: *mut LoopCore, func: ntls_loop_fn, arg: *mut c_void) -> c_int {
    guard!(NTLS_EPANIC, {
        let Some(func) = func else { return NTLS_EINVAL };
        let lp = match loop_or_default(lp) {
            Ok(l) => l,
            Err(s) => return s,
        };
        let arg = UserData(arg);
        let call = move |_: &mut crate::reactor::Cx<'_>| {
            let arg = arg;
            // SAFETY: the program gave us this function and argument to call on the loop.
            unsafe { func(arg.0) }
        };
        match lp.submit(Box::new(call)) {
            Ok(()) => 0,
            Err(s) => s,
        }
    })
}

/// Adds a reference to a loop handle (the default loop ignores this); `NTLS_EINVAL` for a
/// pointer that is no live loop.
#[no_mangle]
pub unsafe extern "C" fn ntls_loop_ref(lp: *mut LoopCore) -> c_int {
    guard!(NTLS_EPANIC, {
        if Loop::is_default(lp) {
            return 0;
        }
        retain_arc(lp.cast_const())
    })
}

/// Drops a reference to a loop handle (the default loop ignores this); `NTLS_EINVAL` when
/// the caller holds none.
#[no_mangle]
pub unsafe extern "C" fn ntls_loop_unref(lp: *mut LoopCore) -> c_int {
    guard!(NTLS_EPANIC, {
        if Loop::is_default(lp) {
            return 0;
        }
        release_arc(lp.cast_const())
    })
}
