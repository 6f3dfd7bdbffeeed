//! `ntls_request`: an answer Node takes as a callback (SNICallback, newSession,
//! resumeSession, OCSPRequest), finished exactly once
//! from any thread, inside or long after the event; the handshake waits for it.

use crate::reactor::{Loop, NO_TOKEN};
use crate::tls::context::SecureContext;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the program answered.
#[derive(Debug)]
pub enum Answer {
    /// Use this context (None: the server's default context).
    Context(Option<Arc<SecureContext>>),
    /// Fail the handshake with this message.
    Error(String),
    /// The program's bytes: `resumeSession`'s stored session, `OCSPRequest`'s response to
    /// staple (None: none; a full handshake, nothing stapled); `newSession`: stored.
    Bytes(Option<Vec<u8>>),
}

/// A pending question to the program (`ntls_request`).
pub struct Request {
    /// The loop to wake when answered; None for a pair, whose program dispatches itself.
    lp: Option<Loop>,
    token: AtomicUsize,
    finished: AtomicBool,
    answer: Mutex<Option<Answer>>,
    servername: std::ffi::CString,
}

impl Request {
    /// A request that wakes the handler at `token` when answered.
    pub fn new(lp: Loop, token: usize, servername: &str) -> Arc<Request> {
        Arc::new(Request {
            lp: Some(lp),
            token: AtomicUsize::new(token),
            finished: AtomicBool::new(false),
            answer: Mutex::new(None),
            servername: crate::error::cstring(servername),
        })
    }

    /// A request that wakes nothing: a pair's handshake looks for the answer when its
    /// program next calls it (`ntls_pair_dispatch`).
    pub fn detached(servername: &str) -> Arc<Request> {
        Arc::new(Request {
            lp: None,
            token: AtomicUsize::new(NO_TOKEN),
            finished: AtomicBool::new(false),
            answer: Mutex::new(None),
            servername: crate::error::cstring(servername),
        })
    }

    /// The server name the client asked for ("" when it sent none).
    pub fn servername(&self) -> &std::ffi::CStr {
        &self.servername
    }

    /// Records the answer once; false if the request was already finished.
    pub fn finish(&self, answer: Answer) -> bool {
        if self.finished.swap(true, Ordering::SeqCst) {
            return false;
        }
        *self.answer.lock().unwrap_or_else(|e| e.into_inner()) = Some(answer);
        if let Some(lp) = &self.lp {
            lp.kick(self.token.load(Ordering::SeqCst));
        }
        true
    }

    /// The answer, once given (taken by the waiting handshake).
    pub fn take_answer(&self) -> Option<Answer> {
        self.answer.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// The handshake gave up waiting: later answers wake nothing.
    pub fn abandon(&self) {
        self.token.store(NO_TOKEN, Ordering::SeqCst);
    }
}
