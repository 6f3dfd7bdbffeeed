//! `ntls_options_*`: the options builder (curl_easy_setopt's model: the ABI only grows).

use super::{borrow_arc, c_bytes, c_str, guard, hand_out, handle, non_null, release_arc, retain_arc};
use crate::error::*;
use crate::options::{key_by_name, OptionError, Options, Value};
use crate::tls::context::SecureContext;
use std::ffi::{c_char, c_int};
use std::sync::{Arc, Mutex};

/// `ntls_options`: Node options by `NTLS_OPT_*` key.
pub struct OptionsHandle {
    inner: Mutex<Options>,
}

impl OptionsHandle {
    /// A snapshot of the options (they are copied when used).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Options) -> R) -> R {
        f(&self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Runs `f` on the options behind a handle, leaving words on it when it fails.
pub(crate) fn update(
    opts: *mut OptionsHandle,
    f: impl FnOnce(&mut Options) -> Result<(), OptionError>,
) -> c_int {
    let Some(h) = handle(opts) else {
        return NTLS_EINVAL;
    };
    let mut o = h.inner.lock().unwrap_or_else(|e| e.into_inner());
    match f(&mut o) {
        Ok(()) => 0,
        Err(e) => {
            o.set_last_error(&e.message);
            e.status
        }
    }
}

/// Makes an options object with every option at Node's default.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_new(out: *mut *mut OptionsHandle) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        // SAFETY: `out` is non-null and writable per the caller.
        unsafe { hand_out(out, Arc::new(OptionsHandle { inner: Mutex::new(Options::new()) })) };
        0
    })
}

/// Adds a reference to an options object; `NTLS_EINVAL` for a pointer that is no live one.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_ref(opts: *mut OptionsHandle) -> c_int {
    guard!(NTLS_EPANIC, { retain_arc(opts.cast_const()) })
}

/// Drops a reference to an options object; `NTLS_EINVAL` when the caller holds none.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_unref(opts: *mut OptionsHandle) -> c_int {
    guard!(NTLS_EPANIC, { release_arc(opts.cast_const()) })
}

/// Sets a bool option (`NTLS_OPT_REJECT_UNAUTHORIZED`, ...).
#[no_mangle]
pub unsafe extern "C" fn ntls_options_set_bool(opts: *mut OptionsHandle, key: c_int, value: c_int) -> c_int {
    guard!(NTLS_EPANIC, { update(opts, |o| o.set(key, Value::Bool(value != 0), false)) })
}

/// Sets an integer option (`NTLS_OPT_PORT`, `NTLS_OPT_HANDSHAKE_TIMEOUT`, ...).
#[no_mangle]
pub unsafe extern "C" fn ntls_options_set_int(opts: *mut OptionsHandle, key: c_int, value: i64) -> c_int {
    guard!(NTLS_EPANIC, { update(opts, |o| o.set(key, Value::Int(value), false)) })
}

/// Sets a string option (`NTLS_OPT_HOST`, `NTLS_OPT_CIPHERS`, ...); a list option takes
/// a comma-separated list.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_set_string(
    opts: *mut OptionsHandle,
    key: c_int,
    value: *const c_char,
) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: NUL-terminated per the caller.
        let v = unsafe { c_str(value) }.map(str::to_owned);
        update(opts, |o| match v {
            Some(v) => o.set(key, Value::Str(v), false),
            None => Err(OptionError::invalid("value is NULL or not UTF-8")),
        })
    })
}

/// Appends one string to a list option (`NTLS_OPT_ALPN_PROTOCOLS`, `NTLS_OPT_CA` as PEM text).
#[no_mangle]
pub unsafe extern "C" fn ntls_options_add_string(
    opts: *mut OptionsHandle,
    key: c_int,
    value: *const c_char,
) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: NUL-terminated per the caller.
        let v = unsafe { c_str(value) }.map(|s| s.as_bytes().to_vec());
        update(opts, |o| match v {
            Some(v) => o.set(key, Value::Bytes(vec![v]), true),
            None => Err(OptionError::invalid("value is NULL or not UTF-8")),
        })
    })
}

/// Sets a bytes option to one value (`NTLS_OPT_KEY` PEM, `NTLS_OPT_TICKET_KEYS`, ...).
#[no_mangle]
pub unsafe extern "C" fn ntls_options_set_bytes(
    opts: *mut OptionsHandle,
    key: c_int,
    data: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: forwarded from the caller.
    guard!(NTLS_EPANIC, { unsafe { set_bytes(opts, key, data, len, false) } })
}

/// Appends one value to a bytes option (several keys, certificates, CAs, ALPN names).
#[no_mangle]
pub unsafe extern "C" fn ntls_options_add_bytes(
    opts: *mut OptionsHandle,
    key: c_int,
    data: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: forwarded from the caller.
    guard!(NTLS_EPANIC, { unsafe { set_bytes(opts, key, data, len, true) } })
}

/// # Safety
/// As `ntls_options_set_bytes`.
unsafe fn set_bytes(
    opts: *mut OptionsHandle,
    key: c_int,
    data: *const u8,
    len: usize,
    append: bool,
) -> c_int {
    // SAFETY: `len` readable bytes per the caller.
    let bytes = unsafe { c_bytes(data, len) }.map(<[u8]>::to_vec);
    update(opts, |o| match bytes {
        Some(b) => o.set(key, Value::Bytes(vec![b]), append),
        None => Err(OptionError::invalid("data is NULL")),
    })
}

/// Appends the contents of the file at `path` to a bytes option (`NTLS_OPT_KEY`,
/// `NTLS_OPT_CERT`, `NTLS_OPT_CA`, `NTLS_OPT_PFX` ...), read now; a file that cannot be read
/// is its errno status (`NTLS_ENOENT`, `NTLS_EACCES` ...) with words naming it on `opts`.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_add_file(
    opts: *mut OptionsHandle,
    key: c_int,
    path: *const c_char,
) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: NUL-terminated per the caller.
        let path = unsafe { c_str(path) }.map(str::to_owned);
        update(opts, |o| {
            let path = path.ok_or_else(|| OptionError::invalid("path is NULL or not UTF-8"))?;
            let data = std::fs::read(&path).map_err(|e| OptionError {
                status: from_io(&e),
                message: format!("cannot read '{path}': {e}"),
            })?;
            o.set(key, Value::Bytes(vec![data]), true)
        })
    })
}

/// Appends a PEM key with its own passphrase (Node's `key: [{pem, passphrase}]`); NULL
/// passphrase: the context-wide `passphrase` applies.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_add_key(
    opts: *mut OptionsHandle,
    pem: *const u8,
    len: usize,
    passphrase: *const c_char,
) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: `len` readable bytes and a NUL-terminated passphrase per the caller.
        let (pem, pass) = (unsafe { c_bytes(pem, len) }.map(<[u8]>::to_vec), unsafe { c_str(passphrase) });
        let pass = pass.map(str::to_owned);
        update(opts, |o| match pem {
            Some(pem) => o.add_key(pem, pass),
            None => Err(OptionError::invalid("key is NULL")),
        })
    })
}

/// Sets `NTLS_OPT_SECURE_CONTEXT`; the options keep their own reference to the context.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_set_context(
    opts: *mut OptionsHandle,
    key: c_int,
    ctx: *mut SecureContext,
) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: live context per the caller.
        let ctx = borrow_arc(ctx.cast_const());
        update(opts, |o| match ctx {
            Some(c) => o.set(key, Value::Context(c), false),
            None => Err(OptionError::invalid("context is NULL")),
        })
    })
}

/// The words of the last failure on these options (or on a handle made from them); "" if
/// none. Like every string the API returns, valid (and unchanged) for the options' life.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_last_error(opts: *const OptionsHandle) -> *const c_char {
    guard!(c"".as_ptr(), {
        // SAFETY: live handle per the caller.
        match handle(opts) {
            Some(h) => h.inner.lock().unwrap_or_else(|e| e.into_inner()).last_error_ptr(),
            None if opts.is_null() => c"options is NULL".as_ptr(),
            None => c"options is not a live handle".as_ptr(),
        }
    })
}

/// The key of Node's option name, or `NTLS_EINVAL` with words on `opts` ("unknown option
/// 'rejectUnauthorised'") — for bindings that take Node-style keyword arguments.
#[no_mangle]
pub unsafe extern "C" fn ntls_options_key(opts: *mut OptionsHandle, name: *const c_char) -> c_int {
    guard!(NTLS_EPANIC, {
        if handle(opts).is_none() {
            return NTLS_EINVAL;
        }
        // SAFETY: NUL-terminated per the caller.
        let name = unsafe { c_str(name) };
        match name.and_then(key_by_name) {
            Some(key) => key,
            None => {
                let words = format!("unknown option '{}'", name.unwrap_or("(null)"));
                update(opts, |_| Err(OptionError::invalid(words)))
            }
        }
    })
}

/// The key of Node's option name (`"rejectUnauthorized"`), or `NTLS_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn ntls_option_by_name(name: *const c_char) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: NUL-terminated per the caller.
        unsafe { c_str(name) }.and_then(key_by_name).unwrap_or(NTLS_EINVAL)
    })
}
