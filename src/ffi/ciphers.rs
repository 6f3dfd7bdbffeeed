//! `tls.getCiphers()` and the process-wide default cipher list (`--tls-cipher-list`).

use super::{c_str, guard};
use crate::error::*;
use crate::tls::ciphers;
use std::ffi::{c_char, c_int, CString};
use std::sync::OnceLock;

fn names() -> &'static [CString] {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    NAMES.get_or_init(|| ciphers::get_ciphers().into_iter().map(cstring).collect())
}

/// `tls.getCiphers()`: stores up to `cap` static, lowercase suite names in `names` and
/// returns how many there are in all (call with `cap` 0 to size the array).
#[no_mangle]
pub unsafe extern "C" fn ntls_get_ciphers(names_out: *mut *const c_char, cap: usize) -> c_int {
    guard!(NTLS_EPANIC, {
        let all = names();
        if !names_out.is_null() {
            for (i, name) in all.iter().take(cap).enumerate() {
                // SAFETY: the caller gave room for `cap` pointers.
                unsafe { *names_out.add(i) = name.as_ptr() };
            }
        }
        c_int::try_from(all.len()).unwrap_or(c_int::MAX)
    })
}

/// Sets the default `ciphers` of contexts made afterwards (Node's `--tls-cipher-list`);
/// a list Node would refuse is refused (`NTLS_ECIPHER`, `NTLS_EINVAL`) and changes nothing.
#[no_mangle]
pub unsafe extern "C" fn ntls_set_default_ciphers(list: *const c_char) -> c_int {
    guard!(NTLS_EPANIC, {
        // SAFETY: NUL-terminated per the caller.
        let Some(list) = (unsafe { c_str(list) }) else { return NTLS_EINVAL };
        match ciphers::set_default_ciphers(list) {
            Ok(()) => 0,
            Err(ciphers::CipherError::NoMatch(_)) => NTLS_ECIPHER,
            Err(_) => NTLS_EINVAL,
        }
    })
}
