//! `checkServerIdentity`: the program's host-name check on a client, and Node's default
//! one, exported so that a program's check can call it and add to it.

use super::cert::{chain_handle, CertHandle};
use super::options::OptionsHandle;
use super::{c_str, guard, handles, UserData};
use crate::error::{NtlsError, NTLS_ECERT, NTLS_EPANIC};
use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

/// `checkServerIdentity(hostname, cert)`: return NULL to accept the server, or an error
/// (from `ntls_error_new` or `ntls_check_server_identity`), which the library takes over
/// and frees. `cert` is `getPeerCertificate(true)`'s object, borrowed for the call.
pub type ntls_check_server_identity_cb = Option<
    unsafe extern "C" fn(
        hostname: *const c_char,
        cert: *const CertHandle,
        data: *mut c_void,
    ) -> *mut NtlsError,
>;

/// Replaces a client's host-name check with `cb` (NULL: Node's own again). As in Node, it
/// runs once the certificate chain verified (not for a resumed session), on the loop
/// thread during the handshake; it must not block. An error it returns fails the
/// connection: with `rejectUnauthorized` the socket's `error` event carries that very
/// error (its code, message, reason) and the socket closes; without, the handshake
/// completes with `authorized` 0 and `authorizationError` set to the error's code, or
/// its message when the code is empty (Node's `err.code || err.message`).
#[no_mangle]
pub unsafe extern "C" fn ntls_options_set_check_server_identity(
    opts: *mut OptionsHandle,
    cb: ntls_check_server_identity_cb,
    data: *mut c_void,
) -> c_int {
    guard!(NTLS_EPANIC, {
        let check = cb.map(|f| {
            let data = UserData(data);
            Arc::new(move |host: &str, chain: &[rustls::pki_types::CertificateDer<'static>]| {
                let data = data;
                let Some(cert) = chain_handle(chain) else {
                    return Err(NtlsError::new(
                        NTLS_ECERT,
                        "ERR_TLS_CERT_ALTNAME_INVALID",
                        "unreadable certificate",
                    ));
                };
                let cert = Arc::new(cert);
                let host = crate::error::cstring(host);
                // SAFETY: the program's callback, with a certificate lent for the call.
                let err = unsafe { f(host.as_ptr(), handles::lend(&cert), data.0) };
                if err.is_null() {
                    return Ok(());
                }
                // The program gives its error up by returning it; anything that is no error
                // of ours fails the connection all the same.
                Err(match handles::take_back(err.cast_const()) {
                    Ok(e) => Arc::unwrap_or_clone(e),
                    Err(_) => NtlsError::new(
                        NTLS_ECERT,
                        "ERR_TLS_CERT_ALTNAME_INVALID",
                        "checkServerIdentity returned no error of nodetls",
                    ),
                })
            }) as crate::tls::verify::IdentityCheck
        });
        super::options::update(opts, |o| {
            o.set_check_server_identity(check);
            Ok(())
        })
    })
}

/// Node's default `tls.checkServerIdentity(hostname, cert)`: NULL when `hostname` matches
/// the certificate (its DNS and IP alt names, else its CN; Node's wildcard rules), else a
/// new `ERR_TLS_CERT_ALTNAME_INVALID` error with Node's message, `reason`, `host` and
/// `cert`, which the caller owns: return it from a check callback or free it with
/// `ntls_error_free`. NULL arguments give NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_check_server_identity(
    hostname: *const c_char,
    cert: *const CertHandle,
) -> *mut NtlsError {
    guard!(std::ptr::null_mut(), {
        // SAFETY: a NUL-terminated string, per the caller.
        let (Some(host), Some(cert)) = (unsafe { c_str(hostname) }, handles::get(cert)) else {
            return std::ptr::null_mut();
        };
        match crate::tls::verify::check_identity(host, cert.cert()) {
            Some(e) => handles::hand_out(Arc::new(e)),
            None => std::ptr::null_mut(),
        }
    })
}

/// A new error, as Node's `new Error(message)` with `err.code = code` (NULL or "": no
/// code, so `authorizationError` shows the message); status `NTLS_ECERT`. The caller owns
/// it: return it from a check callback or free it with `ntls_error_free`. NULL message: NULL.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_new(code: *const c_char, message: *const c_char) -> *mut NtlsError {
    guard!(std::ptr::null_mut(), {
        // SAFETY: NUL-terminated strings, per the caller.
        let (code, message) = (unsafe { c_str(code) }.unwrap_or(""), unsafe { c_str(message) });
        match message {
            Some(m) => handles::hand_out(Arc::new(NtlsError::new(NTLS_ECERT, code, m))),
            None => std::ptr::null_mut(),
        }
    })
}

/// Frees an error made by `ntls_error_new` or `ntls_check_server_identity`: 0, or
/// `NTLS_EINVAL` for anything else (an error handed to a callback, one freed already, one a
/// check callback returned). NULL is `NTLS_EINVAL` too.
#[no_mangle]
pub unsafe extern "C" fn ntls_error_free(err: *mut NtlsError) -> c_int {
    guard!(NTLS_EPANIC, { handles::unref(err.cast_const()) })
}
