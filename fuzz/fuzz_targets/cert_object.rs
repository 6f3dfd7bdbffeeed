//! The certificate object (`getPeerCertificate()`): any DER, or a chain of them, is either
//! refused or gives every getter and `ntls_cert_to_json` a NUL-terminated string, the JSON
//! parses, and the handle is released once.
//!
//! Input: DER certificates, each after a 2-byte big-endian length (a lone DER without
//! prefix is tried as one certificate too). scripts/fuzz.sh seeds it with the test
//! certificates, one and several at a time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodetls::ffi::cert::*;
use nodetls::tls::x509::PeerCert;
use rustls_pki_types::CertificateDer;
use std::ffi::CStr;

fn chain(data: &[u8]) -> Vec<CertificateDer<'static>> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && out.len() < 8 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        let take = len.min(body.len());
        out.push(CertificateDer::from(body[..take].to_vec()));
        rest = &body[take..];
    }
    out
}

fn check(cert: &PeerCert, detailed: bool) {
    for s in [cert.subject(), cert.issuer_name(), cert.valid_from(), cert.valid_to(), cert.serial_number()] {
        assert!(!s.contains('\0'));
    }
    let json = cert.to_json(detailed);
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
        panic!("to_json is not JSON ({e}): {json}");
    }
}

/// The same through the C API: a handle, its getters, the JSON, one release.
fn check_handle(ders: &[CertificateDer<'_>], detailed: bool) {
    let Some(h) = fuzzing_cert_handle(ders, detailed) else { return };
    // SAFETY: a live certificate handle; each string is NUL-terminated while it lives.
    unsafe {
        for get in [ntls_cert_subject, ntls_cert_issuer, ntls_cert_valid_from, ntls_cert_valid_to] {
            let p = get(h);
            assert!(!p.is_null());
            let _ = CStr::from_ptr(p).to_bytes().len();
        }
        let json = ntls_cert_to_json(h);
        assert!(!json.is_null());
        let json = CStr::from_ptr(json).to_str().expect("UTF-8 JSON");
        assert!(serde_json::from_str::<serde_json::Value>(json).is_ok(), "{json}");
        let (mut der, mut len) = (std::ptr::null(), 0usize);
        assert_eq!(ntls_cert_der(h, &mut der, &mut len), 0);
        assert_eq!(std::slice::from_raw_parts(der, len), ders[0].as_ref());
        assert_eq!(ntls_cert_unref(h), 0);
        assert!(ntls_cert_subject(h).is_null(), "a freed handle is refused");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = PeerCert::from_der(data) {
        check(&cert, false);
        check_handle(&[CertificateDer::from(data.to_vec())], false);
    }
    let ders = chain(data);
    if ders.is_empty() {
        return;
    }
    if let Ok(cert) = PeerCert::from_chain(&ders) {
        check(&cert, true);
        check_handle(&ders, true);
    }
});
