//! `ntls_cert_*`: the peer's certificate, as Node's `getPeerCertificate()` gives it.

use super::callbacks::ntls_socket;
use super::{guard, hand_out, handle, non_null, release_arc, try_ref};
use crate::error::*;
use crate::tls::x509::PeerCert;
use std::ffi::{c_char, c_int, CString};
use std::sync::{Arc, OnceLock};

/// `ntls_cert`: a certificate object; its strings live as long as the handle.
pub struct CertHandle {
    cert: PeerCert,
    detailed: bool,
    json: OnceLock<CString>,
}

/// `getPeerCertificate(detailed)` for a socket or a pair (one implementation for both).
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn peer_certificate<H: super::secure_info::Facts>(
    h: *const H,
    detailed: c_int,
    out: *mut *mut CertHandle,
) -> c_int {
    non_null!(out);
    let h = try_ref!(h);
    let Some(info) = h.info() else { return NTLS_ENOTCONN };
    let chain = &info.peer_chain;
    if chain.is_empty() {
        return NTLS_ENOENT;
    }
    let parsed = if detailed != 0 { PeerCert::from_chain(chain) } else { PeerCert::from_der(&chain[0]) };
    match parsed {
        // SAFETY: `out` is non-null and writable per the caller.
        Ok(cert) => unsafe { hand_out_cert(out, cert, detailed != 0) },
        Err(_) => NTLS_EKEY,
    }
}

/// `getPeerCertificate(detailed)`: the peer's leaf (with `detailed`, linked to its chain).
/// `NTLS_ENOENT` when the peer sent none, `NTLS_ENOTCONN` before the handshake.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_peer_certificate(
    s: *const ntls_socket,
    detailed: c_int,
    out: *mut *mut CertHandle,
) -> c_int {
    // SAFETY: `out` is NULL or writable, per the caller.
    guard!(NTLS_EPANIC, { unsafe { peer_certificate(s, detailed, out) } })
}

/// `getCertificate()`: the certificate we presented (leaf), or the one configured for a
/// client the server asked none of, as OpenSSL answers. `NTLS_ENOENT` when there is none
/// (a client without a certificate; a server's resumed session, where no certificate was
/// chosen), `NTLS_ENOTCONN` before the handshake and after close.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_get_certificate(
    s: *const ntls_socket,
    out: *mut *mut CertHandle,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        let s = try_ref!(s);
        let Some(info) = s.info() else { return NTLS_ENOTCONN };
        let Some(der) = info.own_cert.as_ref() else { return NTLS_ENOENT };
        match PeerCert::from_der(der) {
            // SAFETY: `out` is non-null and writable per the caller.
            Ok(cert) => unsafe { hand_out_cert(out, cert, false) },
            Err(_) => NTLS_EKEY,
        }
    })
}

/// Hands a new certificate handle to the caller.
///
/// # Safety
/// `out` is non-null and writable.
unsafe fn hand_out_cert(out: *mut *mut CertHandle, cert: PeerCert, detailed: bool) -> c_int {
    // SAFETY: per the caller.
    unsafe { hand_out(out, Arc::new(CertHandle { cert, detailed, json: OnceLock::new() })) };
    0
}

/// A certificate handle over a chain (leaf first), linked as `getPeerCertificate(true)`.
pub(crate) fn chain_handle(chain: &[rustls::pki_types::CertificateDer<'static>]) -> Option<CertHandle> {
    let cert = PeerCert::from_chain(chain).ok()?;
    Some(CertHandle { cert, detailed: true, json: OnceLock::new() })
}

impl CertHandle {
    /// The certificate object.
    pub(crate) fn cert(&self) -> &PeerCert {
        &self.cert
    }
}

/// Reads one string of a certificate (it lives as long as the handle); NULL for a pointer
/// that is no live certificate.
fn text(c: *const CertHandle, f: impl FnOnce(&PeerCert) -> Option<&str>) -> *const c_char {
    let h = handle(c);
    match h.as_deref().and_then(|h| f(&h.cert)) {
        // PeerCert stores each string with a NUL right after it and none inside.
        Some(s) => s.as_ptr().cast(),
        None => std::ptr::null(),
    }
}

/// The subject in one line: "C=US, O=example, CN=localhost".
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_subject(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), { text(c, |p| Some(p.subject())) })
}

/// The issuer's name in one line.
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_issuer(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), { text(c, |p| Some(p.issuer_name())) })
}

/// `subjectaltname`: "DNS:localhost, IP Address:127.0.0.1"; NULL when absent.
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_subjectaltname(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), { text(c, PeerCert::subjectaltname) })
}

/// `valid_from`: "Jan  1 00:00:00 2025 GMT".
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_valid_from(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), { text(c, |p| Some(p.valid_from())) })
}

/// `valid_to`.
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_valid_to(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), { text(c, |p| Some(p.valid_to())) })
}

/// `fingerprint256`: SHA-256, uppercase hex with colons.
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_fingerprint256(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), { text(c, |p| Some(p.fingerprint256())) })
}

/// `serialNumber`: uppercase hex.
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_serial_number(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), { text(c, |p| Some(p.serial_number())) })
}

/// Node's certificate object as JSON (with `issuerCertificate` when obtained detailed).
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_to_json(c: *const CertHandle) -> *const c_char {
    guard!(std::ptr::null(), {
        match handle(c) {
            Some(h) => h.json.get_or_init(|| cstring(&h.cert.to_json(h.detailed))).as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The certificate's DER bytes (`raw`), valid as long as the handle.
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_der(c: *const CertHandle, der: *mut *const u8, len: *mut usize) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(der, len);
        let c = try_ref!(c);
        // SAFETY: writable out-pointers per the caller.
        unsafe {
            let raw = c.cert.der();
            *der = raw.as_ptr();
            *len = raw.len();
        }
        0
    })
}

/// Releases a certificate handle; `NTLS_EINVAL` when the caller holds no reference to it.
#[no_mangle]
pub unsafe extern "C" fn ntls_cert_unref(c: *mut CertHandle) -> c_int {
    guard!(NTLS_EPANIC, { release_arc(c.cast_const()) })
}

/// A certificate handle made from DER (the first certificate, linked to the rest when
/// `detailed`), as `ntls_socket_get_peer_certificate` would make it: for the fuzz targets,
/// which call the `ntls_cert_*` getters on certificates no handshake produced.
#[cfg(feature = "fuzzing")]
pub fn fuzzing_cert_handle(
    ders: &[rustls::pki_types::CertificateDer<'_>],
    detailed: bool,
) -> Option<*mut CertHandle> {
    let cert = if detailed { PeerCert::from_chain(ders) } else { PeerCert::from_der(ders.first()?) }.ok()?;
    Some(super::handles::hand_out(Arc::new(CertHandle { cert, detailed, json: OnceLock::new() })))
}

/// Node's `err.cert`: the peer's certificate of a host-name mismatch
/// (`ERR_TLS_CERT_ALTNAME_INVALID`), as a new handle the caller releases with
/// `ntls_cert_unref`; `NTLS_ENOENT` when the error carries none.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_cert(
    err: *const crate::error::NtlsError,
    out: *mut *mut CertHandle,
) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(out);
        let der = super::error::with_error(err, |e| e.details().and_then(|d| d.cert.clone()));
        let Some(der) = der else { return NTLS_EINVAL };
        let Some(der) = der else { return NTLS_ENOENT };
        match PeerCert::from_der(&rustls::pki_types::CertificateDer::from(der)) {
            // SAFETY: `out` is non-null and writable per the caller.
            Ok(cert) => unsafe { hand_out_cert(out, cert, false) },
            Err(_) => NTLS_EKEY,
        }
    })
}
