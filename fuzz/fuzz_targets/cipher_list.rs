//! The OpenSSL cipher-string parser (`ciphers` option): any text is a selection or one of
//! Node's three errors, never a panic; a context made with it through the C API agrees.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodetls::ffi::context::*;
use nodetls::ffi::options::*;
use nodetls::options::keys::NTLS_OPT_CIPHERS;
use nodetls::tls::ciphers::parse_cipher_list;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse_cipher_list(text);
    if text.contains('\0') {
        return;
    }
    let c = nodetls_fuzz::c_string(text);
    let mut o = std::ptr::null_mut();
    // SAFETY: C API calls with valid arguments; every handle is released.
    unsafe {
        assert_eq!(ntls_options_new(&mut o), 0);
        assert_eq!(ntls_options_set_string(o, NTLS_OPT_CIPHERS, c.as_ptr()), 0);
        let mut ctx = std::ptr::null_mut();
        let made = ntls_context_new(o, &mut ctx);
        assert_eq!(made == 0, parsed.is_ok(), "{text:?}: context {made}, parser {parsed:?}");
        if made == 0 {
            assert_eq!(ntls_context_unref(ctx), 0);
        }
        assert_eq!(ntls_options_unref(o), 0);
    }
});
