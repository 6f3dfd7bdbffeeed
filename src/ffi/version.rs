//! Version macros and `ntls_version`, checked against Cargo.toml by a test.

use super::guard;
use std::ffi::c_char;

/// Major version.
pub const NTLS_VERSION_MAJOR: i32 = 0;
/// Minor version.
pub const NTLS_VERSION_MINOR: i32 = 1;
/// Patch version.
pub const NTLS_VERSION_PATCH: i32 = 0;

/// The library's version, "MAJOR.MINOR.PATCH".
#[no_mangle]
pub extern "C" fn ntls_version() -> *const c_char {
    guard!(std::ptr::null(), { concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_agree_with_cargo() {
        assert_eq!(NTLS_VERSION_MAJOR.to_string(), env!("CARGO_PKG_VERSION_MAJOR"));
        assert_eq!(NTLS_VERSION_MINOR.to_string(), env!("CARGO_PKG_VERSION_MINOR"));
        assert_eq!(NTLS_VERSION_PATCH.to_string(), env!("CARGO_PKG_VERSION_PATCH"));
        // SAFETY: ntls_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(ntls_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
