//! `tls.createSecurePair`, generalised: TLS over a transport the program drives itself
//! (its own loop, libuv, epoll, a pipe, a test harness), with no thread or reactor of ours.
//!
//! The program feeds ciphertext in (`feed`, `feed_end`), pulls ciphertext out (`pull`),
//! writes cleartext (`write`, `end`) and receives everything else as events, which run
//! only inside `dispatch` — never inside the call that caused them, as rule 4 of the C
//! API contract wants for handles driven by a loop. Every call takes the pair's lock and
//! events run without it, so any call may be made from inside any event.

mod engine;
pub mod events;
mod hello;

pub use events::{Discard, PairEvents};

use crate::last_error::LastError;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use crate::socket::info::{HasSecureInfo, SecureInfo};
use crate::tls::context::SecureContext;
use crate::tls::{client_config, server_config};
use engine::{Engine, Event, Refusal, Role};
use std::ffi::{c_int, CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// What the handshake established, kept outside the lock so getters can hand out pointers
/// that live as long as the pair.
#[derive(Default)]
pub(crate) struct Facts {
    /// The finished handshake's facts.
    pub info: OnceLock<SecureInfo>,
    /// The name a client asked for, known once its ClientHello is read.
    pub requested_name: OnceLock<CString>,
}

/// A TLS pair handle (`ntls_pair`).
pub struct Pair<E: PairEvents> {
    events: E,
    engine: Mutex<Engine>,
    facts: Facts,
    is_server: bool,
    closed: AtomicBool,
    dispatching: AtomicBool,
    last_error: LastError,
}

/// Clears the dispatching flag however dispatch ends.
struct Dispatching<'a>(&'a AtomicBool);

impl Drop for Dispatching<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl<E: PairEvents> Pair<E> {
    /// `tls.createSecurePair(context, isServer)` with the options of `tls.connect`
    /// (client) or `tls.createServer` (`isServer`): every option is checked here.
    pub fn new(o: &Options, events: E) -> Result<Arc<Pair<E>>, OptionError> {
        let is_server = o.bool_or(NTLS_OPT_IS_SERVER, false);
        // A pair has no keylog event: the flag rustls's key log looks at stays false.
        let no_keylog = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let role = if is_server {
            Role::Server { tls: Box::new(server_config::build(o, no_keylog)?), client_verifier: None }
        } else {
            let (server_name, sni) = crate::socket::connect::server_name(o)?;
            let ct = client_config::build(o, no_keylog)?;
            Role::Client { config: ct.config, verifier: ct.verifier, server_name, sni }
        };
        let hwm = o.non_negative(NTLS_OPT_HIGH_WATER_MARK)?.unwrap_or(crate::socket::DEFAULT_HIGH_WATER_MARK);
        let engine = Engine::new(role, o.bool_or(NTLS_OPT_ALLOW_HALF_OPEN, false), hwm);
        Ok(Arc::new(Pair {
            events,
            engine: Mutex::new(engine),
            facts: Facts::default(),
            is_server,
            closed: AtomicBool::new(false),
            dispatching: AtomicBool::new(false),
            last_error: LastError::default(),
        }))
    }

    /// The callbacks' owner.
    pub fn events(&self) -> &E {
        &self.events
    }

    /// Whether the pair plays the server's side.
    pub fn is_server(&self) -> bool {
        self.is_server
    }

    /// Whether `close` was emitted.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records words for `ntls_pair_last_error` and returns the status.
    pub fn fail_call(&self, status: c_int, message: &str) -> c_int {
        self.last_error.set(message);
        status
    }

    fn refused(&self, (status, words): Refusal) -> c_int {
        self.fail_call(status, words)
    }

    /// The words of the last failed call on this pair, valid as long as the pair.
    pub fn last_error_ptr(&self) -> *const std::ffi::c_char {
        self.last_error.as_ptr()
    }

    /// `server.addContext(hostname, context)` for a server pair, before it starts.
    pub fn add_context(&self, pattern: &str, ctx: Arc<SecureContext>) -> Result<(), c_int> {
        let engine = self.engine();
        let tls = engine.server_tls().map_err(|r| self.refused(r))?;
        tls.sni.add(pattern, ctx);
        Ok(())
    }

    /// Starts the handshake: a client's ClientHello is then waiting to be pulled.
    pub fn start(&self) -> Result<(), c_int> {
        let has_sni = self.events.has_sni_callback();
        self.engine().start(has_sni).map_err(|r| self.refused(r))
    }

    /// Ciphertext from the transport; returns how much was taken (see `Engine::feed`).
    pub fn feed(&self, data: &[u8]) -> Result<usize, c_int> {
        let has_sni = self.events.has_sni_callback();
        self.engine().feed(data, &self.facts, has_sni).map_err(|r| self.refused(r))
    }

    /// The transport's end of input (EOF).
    pub fn feed_end(&self) -> Result<(), c_int> {
        self.engine().feed_end(&self.facts).map_err(|r| self.refused(r))
    }

    /// Ciphertext for the transport, copied into `buf`; the count copied.
    pub fn pull(&self, buf: &mut [u8]) -> usize {
        self.engine().pull(buf)
    }

    /// Ciphertext waiting to be pulled.
    pub fn pending(&self) -> usize {
        self.engine().pending_out()
    }

    /// `write(data)`: copies; `Ok(true)` while under the high-water mark.
    pub fn write(&self, data: &[u8]) -> Result<bool, c_int> {
        self.engine().write(data).map_err(|r| self.refused(r))
    }

    /// `end()`: close_notify after the cleartext written so far.
    pub fn end(&self) -> Result<(), c_int> {
        self.engine().end().map_err(|r| self.refused(r))
    }

    /// `destroy()`: only `close` follows, at the next dispatch.
    pub fn destroy(&self) -> Result<(), c_int> {
        self.engine().destroy().map_err(|r| self.refused(r))
    }

    /// `pause()`: no `data` events until `resume()`; `feed` then takes only what fits
    /// rustls's cleartext buffer, so the program stops reading its transport.
    pub fn pause(&self) -> Result<(), c_int> {
        let mut e = self.engine();
        e.check_open().map_err(|r| self.refused(r))?;
        e.paused = true;
        Ok(())
    }

    /// `resume()`: deliver again (and without a data listener, let cleartext be dropped
    /// on the floor as a resumed Node stream does).
    pub fn resume(&self) -> Result<(), c_int> {
        let mut e = self.engine();
        e.check_open().map_err(|r| self.refused(r))?;
        e.paused = false;
        e.resumed = true;
        Ok(())
    }

    /// `bytesRead`, `bytesWritten`: cleartext delivered to `data` and taken by `write`.
    pub fn byte_counts(&self) -> (u64, u64) {
        let e = self.engine();
        (e.bytes_read, e.bytes_written)
    }

    /// Emits every event due, one at a time, on the caller's thread; returns how many.
    /// A dispatch called from inside an event (or while another thread dispatches) returns
    /// 0 at once: the running dispatch emits what the event caused before it returns.
    pub fn dispatch(&self) -> usize {
        if self.dispatching.swap(true, Ordering::SeqCst) {
            return 0;
        }
        let _flag = Dispatching(&self.dispatching);
        let mut count = 0;
        loop {
            let event = {
                let mut e = self.engine();
                let flowing = e.resumed || self.events.has_data_listener();
                let event = e.next_event(flowing, &self.facts);
                if e.closed() {
                    self.closed.store(true, Ordering::SeqCst);
                }
                event
            };
            let Some(event) = event else { break };
            count += 1;
            match event {
                Event::Secure => self.events.secure(self),
                Event::Data(buf) => {
                    self.events.data(self, &buf);
                    self.engine().give_back(buf);
                }
                Event::End => self.events.end(self),
                Event::Drain => self.events.drain(self),
                Event::Error(err) => self.events.error(self, &err),
                Event::Sni(req) => self.events.sni_callback(self, req),
                Event::Close(had_error) => self.events.close(self, had_error),
            }
        }
        count
    }
}

impl<E: PairEvents> HasSecureInfo for Pair<E> {
    fn info(&self) -> Option<&SecureInfo> {
        self.facts.info.get().filter(|_| !self.is_closed())
    }

    fn properties(&self) -> Option<&SecureInfo> {
        self.facts.info.get()
    }

    fn servername(&self) -> Option<&CStr> {
        match self.facts.info.get() {
            Some(i) => i.servername.as_deref(),
            None => self.facts.requested_name.get().map(CString::as_c_str),
        }
    }
}

#[cfg(test)]
mod tests;
