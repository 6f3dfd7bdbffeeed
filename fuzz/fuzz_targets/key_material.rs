//! Key material as it is loaded: PEM private keys (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8,
//! OpenSSL's legacy `Proc-Type` encryption), PEM certificates, PKCS#12 and CRLs, each
//! alone and then together through `ntls_context_new` (key, cert, ca, pfx, crl options).
//!
//! Input: one byte choosing what the rest is (low 3 bits) and whether the passphrase is
//! the test files' "secret" (bit 3), then the bytes. scripts/fuzz.sh seeds it with every
//! file of target/test-certs under each choice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodetls::ffi::context::*;
use nodetls::ffi::options::*;
use nodetls::options::keys::*;
use nodetls::tls::keys::{parse_certificates, parse_crls, parse_pfx, parse_private_key};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else { return };
    let pass: Option<&[u8]> = if choice & 8 != 0 { Some(b"secret") } else { None };
    let option = match choice & 7 {
        0 => {
            let _ = parse_private_key(bytes, pass, "key");
            NTLS_OPT_KEY
        }
        1 => {
            let _ = parse_certificates(bytes, "cert");
            NTLS_OPT_CERT
        }
        2 => {
            let _ = parse_certificates(bytes, "ca");
            NTLS_OPT_CA
        }
        3 => {
            let _ = parse_pfx(bytes, pass);
            NTLS_OPT_PFX
        }
        4 => {
            let _ = parse_crls(bytes);
            NTLS_OPT_CRL
        }
        _ => {
            // A key and its certificate in one text, as a combined file: the pair check.
            let _ = parse_private_key(bytes, pass, "key").map(|_| parse_certificates(bytes, "cert"));
            NTLS_OPT_KEY
        }
    };
    let mut o = std::ptr::null_mut();
    // SAFETY: C API calls with valid arguments; every handle is released.
    unsafe {
        assert_eq!(ntls_options_new(&mut o), 0);
        if let Some(p) = pass {
            let p = std::ffi::CString::new(p).unwrap();
            assert_eq!(ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, p.as_ptr()), 0);
        }
        assert_eq!(ntls_options_add_bytes(o, option, bytes.as_ptr(), bytes.len()), 0);
        if choice & 7 >= 5 {
            assert_eq!(ntls_options_add_bytes(o, NTLS_OPT_CERT, bytes.as_ptr(), bytes.len()), 0);
        }
        let mut ctx = std::ptr::null_mut();
        if ntls_context_new(o, &mut ctx) == 0 {
            assert_eq!(ntls_context_unref(ctx), 0);
        } else {
            assert!(!std::ffi::CStr::from_ptr(ntls_options_last_error(o)).is_empty());
        }
        assert_eq!(ntls_options_unref(o), 0);
    }
});
