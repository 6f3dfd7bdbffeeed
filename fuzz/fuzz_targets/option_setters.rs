//! Every option setter with arbitrary keys and bytes, then everything that reads options:
//! `ntls_context_new` and `ntls_server_new` (no listen, no connect: nothing leaves the
//! process). Each call returns a status, leaves words, never panics or leaks.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nodetls::ffi::context::*;
use nodetls::ffi::options::*;
use nodetls::ffi::server::*;
use nodetls::options::OPTIONS;
use std::ffi::CStr;

#[derive(Arbitrary, Debug)]
enum Key {
    /// One of the keys nodetls knows, by index.
    Known(u8),
    /// Any integer, known or not.
    Any(i32),
}

#[derive(Arbitrary, Debug)]
enum Setter {
    Bool(Key, i32),
    Int(Key, i64),
    Str(Key, String),
    AddStr(Key, String),
    Bytes(Key, Vec<u8>),
    AddBytes(Key, Vec<u8>),
    AddKey(Vec<u8>, Option<String>),
    ByName(String),
    /// The options' own context, made from what was set so far.
    Context(Key),
}

#[derive(Arbitrary, Debug)]
struct Input {
    setters: Vec<Setter>,
    server: bool,
}

fn key(k: &Key) -> i32 {
    match k {
        Key::Known(i) => OPTIONS[*i as usize % OPTIONS.len()].key,
        Key::Any(k) => *k,
    }
}

fuzz_target!(|input: Input| {
    let mut o = std::ptr::null_mut();
    // SAFETY: C API calls with valid arguments; every handle made is released.
    unsafe {
        assert_eq!(ntls_options_new(&mut o), 0);
        for s in input.setters.iter().take(64) {
            let status = match s {
                Setter::Bool(k, v) => ntls_options_set_bool(o, key(k), *v),
                Setter::Int(k, v) => ntls_options_set_int(o, key(k), *v),
                Setter::Str(k, v) => ntls_options_set_string(o, key(k), nodetls_fuzz::c_string(v).as_ptr()),
                Setter::AddStr(k, v) => ntls_options_add_string(o, key(k), nodetls_fuzz::c_string(v).as_ptr()),
                Setter::Bytes(k, v) => ntls_options_set_bytes(o, key(k), v.as_ptr(), v.len()),
                Setter::AddBytes(k, v) => ntls_options_add_bytes(o, key(k), v.as_ptr(), v.len()),
                Setter::AddKey(pem, pass) => {
                    let pass = pass.as_deref().map(nodetls_fuzz::c_string);
                    ntls_options_add_key(o, pem.as_ptr(), pem.len(), pass.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()))
                }
                Setter::ByName(name) => {
                    let k = ntls_options_key(o, nodetls_fuzz::c_string(name).as_ptr());
                    if k < 0 { k } else { 0 }
                }
                Setter::Context(k) => {
                    let mut ctx = std::ptr::null_mut();
                    let made = ntls_context_new(o, &mut ctx);
                    if made == 0 {
                        let s = ntls_options_set_context(o, key(k), ctx);
                        assert_eq!(ntls_context_unref(ctx), 0);
                        s
                    } else {
                        made
                    }
                }
            };
            assert!(status <= 0, "{s:?}: status {status}");
            let words = CStr::from_ptr(ntls_options_last_error(o));
            assert!(status == 0 || !words.is_empty() || matches!(s, Setter::ByName(_)), "{s:?}: no words");
        }
        let mut ctx = std::ptr::null_mut();
        if ntls_context_new(o, &mut ctx) == 0 {
            assert_eq!(ntls_context_unref(ctx), 0);
        } else {
            assert!(!CStr::from_ptr(ntls_options_last_error(o)).is_empty());
        }
        if input.server {
            let mut srv = std::ptr::null_mut();
            if ntls_server_new(std::ptr::null_mut(), o, &mut srv) == 0 {
                assert_eq!(ntls_server_close(srv, None), 0);
                assert_eq!(ntls_server_unref(srv), 0);
            }
        }
        assert_eq!(ntls_options_unref(o), 0);
    }
});
