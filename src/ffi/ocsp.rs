//! OCSP stapling through the C ABI: the `OCSPRequest` event (a server's, a wrapped server
//! socket's) and its answer, the client's `OCSPResponse` event (option `requestOCSP`). The
//! static `ocspResponse` option needs nothing here.

use super::callbacks::*;
use super::{c_bytes, guard, non_null};
use crate::error::*;
use crate::request::{Answer, Request};
use std::ffi::c_int;

/// `OCSPRequest`: a client asked for a stapled OCSP response; the handshake waits for
/// `ntls_request_ocsp_done` (or `ntls_request_fail`, which ends the connection as in Node:
/// `tlsClientError` with `ERR_TLS_OCSP_CALLBACK`, the client sees a reset). Called only
/// when the client sent `status_request`. Set it before `listen`.
#[no_mangle]
pub unsafe extern "C" fn ntls_server_on_ocsp_request(
    srv: *mut ntls_server,
    cb: ntls_server_ocsp_request_cb,
) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(srv, |t| t.ocsp_request = cb) })
}

/// `OCSPRequest` of a socket wrapped in the server role. Node emits `OCSPRequest` only on a
/// TLSSocket's `options.server`; a wrapped C socket has no server, so it takes the listener
/// itself, with the server's shape and answers: called on the loop thread when the client
/// asks for a stapled response, with the DER certificate about to be served (from the
/// context `ntls_socket_on_sni` chose) and its issuer (NULL and 0 when unknown), both
/// borrowed for the call. The program owns `req` until it finishes it once, from any
/// thread: `ntls_request_ocsp_done` (NULL and 0: staple none) or `ntls_request_fail` (the
/// connection is dropped; `error` gets `ERR_TLS_OCSP_CALLBACK`). Set it before
/// `ntls_socket_wrap_fd`; a client socket never calls it.
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_ocsp_request(
    s: *mut ntls_socket,
    cb: ntls_socket_ocsp_request_cb,
) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.ocsp_request = cb) })
}

/// Answers `OCSPRequest` with a DER OCSP response to staple (copied), or NULL and 0 to
/// staple none. Any thread; a second answer is `NTLS_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn ntls_request_ocsp_done(req: *mut Request, der: *const u8, len: usize) -> c_int {
    guard!(NTLS_EPANIC, {
        non_null!(req);
        // SAFETY: `len` readable bytes per the caller.
        let Some(bytes) = (unsafe { c_bytes(der, len) }) else { return NTLS_EINVAL };
        super::request::finish(req, Answer::Bytes((!bytes.is_empty()).then(|| bytes.to_vec())))
    })
}

/// `OCSPResponse` (client, with option `requestOCSP`): once per full handshake, before
/// `secureConnect`, with what the server stapled (NULL when nothing came).
#[no_mangle]
pub unsafe extern "C" fn ntls_socket_on_ocsp_response(s: *mut ntls_socket, cb: ntls_socket_ocsp_cb) -> c_int {
    guard!(NTLS_EPANIC, { set_callback(s, |t| t.ocsp_response = cb) })
}
