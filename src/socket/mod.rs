//! `tls.TLSSocket`: the handle every thread may use. Its state machine lives on the
//! loop thread (`conn`); the two meet through atomics, the write queue and kicks.

mod conn;
pub(crate) mod connect;
pub mod events;
pub mod info;
pub(crate) mod no_sigpipe;
pub mod transport;
mod wrap;
mod write_queue;

pub use conn::{start_connected, Conn, Role, ServerHooks, ServerSide};
pub use events::{SocketEvents, WriteDone};

use crate::error::*;
use crate::last_error::LastError;
use crate::options::{OptionError, Options};
use crate::reactor::{Loop, NO_TOKEN};
use crate::tls::sessions::client::ClientSession;
use info::{Addresses, SecureInfo};
use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use write_queue::WriteQueue;

/// `setMaxSendFragment`'s bounds (OpenSSL's: 512 up to a full 16 KiB record).
const MIN_SEND_FRAGMENT: usize = 512;
const MAX_SEND_FRAGMENT: usize = 16384;

/// Node's default `highWaterMark` for streams.
pub(crate) const DEFAULT_HIGH_WATER_MARK: u64 = 16 * 1024;

/// Where a socket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Created, not started.
    New = 0,
    /// Resolving, connecting or handshaking.
    Connecting = 1,
    /// Handshake done.
    Secure = 2,
    /// `close` has fired (or is about to).
    Closed = 3,
}

impl<E: SocketEvents> info::HasSecureInfo for Socket<E> {
    fn info(&self) -> Option<&SecureInfo> {
        Socket::info(self)
    }
    fn properties(&self) -> Option<&SecureInfo> {
        Socket::properties(self)
    }
    fn servername(&self) -> Option<&std::ffi::CStr> {
        Socket::servername(self)
    }
}

/// A TLS socket handle (`ntls_socket`).
pub struct Socket<E: SocketEvents> {
    lp: Loop,
    events: E,
    state: AtomicU8,
    token: AtomicUsize,
    kicked: AtomicBool,
    driving: AtomicBool,
    dirty: AtomicBool,
    queue: Mutex<WriteQueue<E>>,
    flushed: AtomicU64,
    high_water_mark: AtomicU64,
    need_drain: AtomicBool,
    paused: AtomicBool,
    resumed: AtomicBool,
    destroyed: AtomicBool,
    end_called: AtomicBool,
    timeout_ms: AtomicU64,
    no_delay_request: AtomicU8,
    /// A pending `setKeepAlive`: 0 none, else `1 | enable << 1 | seconds << 2`.
    keep_alive_request: AtomicU64,
    /// `destroySoon()`: close once the queued writes and the end are flushed.
    destroy_soon: AtomicBool,
    /// The peer's end was emitted (`readable` is false from then on).
    peer_ended: AtomicBool,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    info: OnceLock<SecureInfo>,
    addresses: OnceLock<Addresses>,
    /// The name a client asked for, known before the handshake ends (for `tlsClientError`).
    requested_name: OnceLock<std::ffi::CString>,
    /// Whether a `keylog` listener wants this connection's key-log lines.
    keylog_wanted: Arc<AtomicBool>,
    /// `setMaxSendFragment(n)`: records carry at most this much plaintext (0: 16384).
    max_send_fragment: AtomicUsize,
    /// The newest session the handshake saved (`getSession()`).
    session: Mutex<Option<Arc<ClientSession>>>,
    last_error: LastError,
}

impl<E: SocketEvents> Socket<E> {
    /// A new, unstarted socket on `lp`.
    pub fn new(lp: Loop, events: E) -> Arc<Socket<E>> {
        Arc::new(Socket {
            lp,
            events,
            state: AtomicU8::new(State::New as u8),
            token: AtomicUsize::new(NO_TOKEN),
            kicked: AtomicBool::new(false),
            driving: AtomicBool::new(false),
            dirty: AtomicBool::new(false),
            queue: Mutex::new(WriteQueue::default()),
            flushed: AtomicU64::new(0),
            high_water_mark: AtomicU64::new(DEFAULT_HIGH_WATER_MARK),
            need_drain: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            resumed: AtomicBool::new(false),
            destroyed: AtomicBool::new(false),
            end_called: AtomicBool::new(false),
            timeout_ms: AtomicU64::new(0),
            no_delay_request: AtomicU8::new(0),
            keep_alive_request: AtomicU64::new(0),
            destroy_soon: AtomicBool::new(false),
            peer_ended: AtomicBool::new(false),
            bytes_read: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            info: OnceLock::new(),
            addresses: OnceLock::new(),
            requested_name: OnceLock::new(),
            keylog_wanted: Arc::new(AtomicBool::new(false)),
            max_send_fragment: AtomicUsize::new(0),
            session: Mutex::new(None),
            last_error: LastError::default(),
        })
    }

    /// The callbacks' owner.
    pub fn events(&self) -> &E {
        &self.events
    }

    /// The socket's loop.
    pub fn event_loop(&self) -> &Loop {
        &self.lp
    }

    /// The current state.
    pub fn state(&self) -> State {
        match self.state.load(Ordering::SeqCst) {
            0 => State::New,
            1 => State::Connecting,
            2 => State::Secure,
            _ => State::Closed,
        }
    }

    fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::SeqCst);
    }

    /// Moves an unstarted socket to `Connecting`, atomically against a `destroy` on
    /// another thread: exactly one of the two wins.
    fn begin(&self) -> Result<(), c_int> {
        match self.state.compare_exchange(
            State::New as u8,
            State::Connecting as u8,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            // A destroy() that sees `Connecting` leaves the close to the start command.
            Ok(_) => Ok(()),
            Err(s) if s == State::Closed as u8 => Err(self.fail_call(NTLS_ECLOSED, "socket is closed")),
            Err(_) => Err(self.fail_call(NTLS_EALREADY, "socket already started")),
        }
    }

    /// Undoes `begin` when the start command could not be queued (the loop is closed).
    fn unbegin(&self, status: c_int) -> c_int {
        self.set_state(State::New);
        self.lp.handle_closed();
        self.fail_call(status, "loop is closed")
    }

    /// Records words for `ntls_socket_last_error` and returns the status, for `?`-style use.
    pub fn fail_call(&self, status: c_int, message: &str) -> c_int {
        self.last_error.set(message);
        status
    }

    /// The words of the last failed call on this socket, valid as long as the socket.
    pub fn last_error_ptr(&self) -> *const std::ffi::c_char {
        self.last_error.as_ptr()
    }

    fn check_open(&self) -> Result<(), c_int> {
        if self.state() == State::Closed || self.destroyed.load(Ordering::SeqCst) {
            return Err(self.fail_call(NTLS_ECLOSED, "socket is closed"));
        }
        Ok(())
    }

    /// `tls.connect(options)`: checks every option now, then connects on the loop.
    pub fn connect(self: &Arc<Self>, opts: &Options) -> Result<(), c_int> {
        self.check_open()?;
        if self.state() != State::New {
            return Err(self.fail_call(NTLS_EALREADY, "socket already started"));
        }
        let plan = connect::Plan::from_options(opts, self.keylog_wanted.clone())
            .map_err(|e| self.option_failure(opts, e))?;
        self.apply_stream_options(opts).map_err(|e| self.option_failure(opts, e))?;
        self.begin()?;
        self.lp.handle_started();
        let me = self.clone();
        let lp = self.lp.clone();
        if let Err(status) = self.lp.submit(Box::new(move |cx| connect::start(me, lp, plan, cx))) {
            return Err(self.unbegin(status));
        }
        Ok(())
    }

    fn option_failure(&self, opts: &Options, e: OptionError) -> c_int {
        opts.set_last_error(&e.message);
        self.fail_call(e.status, &e.message)
    }

    /// Socket-level options shared by clients and server-side sockets.
    pub fn apply_stream_options(&self, o: &Options) -> Result<(), OptionError> {
        use crate::options::keys::*;
        if let Some(h) = o.non_negative(NTLS_OPT_HIGH_WATER_MARK)? {
            self.high_water_mark.store(h, Ordering::SeqCst);
        }
        if let Some(t) = o.non_negative(NTLS_OPT_TIMEOUT)? {
            self.timeout_ms.store(t, Ordering::SeqCst);
        }
        let delay = o.non_negative(NTLS_OPT_KEEP_ALIVE_INITIAL_DELAY)?.unwrap_or(0);
        if o.bool_or(NTLS_OPT_KEEP_ALIVE, false) {
            self.request_keep_alive(true, delay);
        }
        Ok(())
    }

    /// Queues `setKeepAlive(enable, delay_ms)` for the loop (applied once connected).
    fn request_keep_alive(&self, enable: bool, delay_ms: u64) {
        let secs = (delay_ms / 1000).min(u64::from(u32::MAX));
        self.keep_alive_request.store(1 | u64::from(enable) << 1 | secs << 2, Ordering::SeqCst);
    }

    /// A pending `setKeepAlive` request: Some((enable, seconds)) once, then None.
    fn take_keep_alive_request(&self) -> Option<(bool, u32)> {
        match self.keep_alive_request.swap(0, Ordering::SeqCst) {
            0 => None,
            v => Some((v & 2 != 0, u32::try_from(v >> 2).unwrap_or(u32::MAX))),
        }
    }

    /// `socket.setKeepAlive(enable, initialDelay)`: SO_KEEPALIVE, with TCP_KEEPIDLE of the
    /// delay in whole seconds when it is at least one (libuv's rule); before the connection
    /// is up it is kept and applied then. No effect on a Unix socket.
    pub fn set_keep_alive(&self, enable: bool, delay_ms: u64) -> Result<(), c_int> {
        self.check_open()?;
        self.request_keep_alive(enable, delay_ms);
        self.kick();
        Ok(())
    }

    /// `socket.destroySoon()`: `end()` (if not yet called), then close as soon as the queued
    /// writes and close_notify are flushed, without waiting for the peer's end.
    pub fn destroy_soon(&self) -> Result<(), c_int> {
        self.check_open()?;
        self.destroy_soon.store(true, Ordering::SeqCst);
        match self.end() {
            Ok(()) | Err(NTLS_EALREADY) => {}
            Err(e) => return Err(e),
        }
        self.kick();
        Ok(())
    }

    /// Whether `destroySoon()` was called.
    fn destroying_soon(&self) -> bool {
        self.destroy_soon.load(Ordering::SeqCst)
    }

    /// `bufferSize` (`writableLength`): bytes written but not yet handed to the kernel.
    pub fn buffer_size(&self) -> u64 {
        let total = self.queue.lock().unwrap_or_else(|e| e.into_inner()).total;
        total.saturating_sub(self.flushed.load(Ordering::SeqCst))
    }

    /// `readable`: started, not closed or destroyed, and the peer's end not yet emitted.
    pub fn readable(&self) -> bool {
        self.is_live() && !self.peer_ended.load(Ordering::SeqCst)
    }

    /// `writable`: started, not closed or destroyed, and not ended (by `end()`, or after the
    /// peer's end without `allowHalfOpen`).
    pub fn writable(&self) -> bool {
        self.is_live() && !self.queue.lock().unwrap_or_else(|e| e.into_inner()).ended
    }

    fn is_live(&self) -> bool {
        matches!(self.state(), State::Connecting | State::Secure) && !self.is_destroyed()
    }

    /// Sets `highWaterMark` (a server passes its option to each accepted socket).
    pub fn set_high_water_mark(&self, hwm: Option<u64>) {
        if let Some(h) = hwm {
            self.high_water_mark.store(h, Ordering::SeqCst);
        }
    }

    /// Asks the loop to look at this socket's shared state.
    pub(crate) fn kick(&self) {
        if self.driving.load(Ordering::Relaxed) && self.lp.is_current() {
            // A callback of this very connection: the drive in progress looks again before
            // it returns, so no second visit (and no kick queue entry) is needed.
            self.dirty.store(true, Ordering::Relaxed);
            return;
        }
        if !self.kicked.swap(true, Ordering::SeqCst) {
            let token = self.token.load(Ordering::SeqCst);
            if token == NO_TOKEN {
                self.kicked.store(false, Ordering::SeqCst);
            } else {
                self.lp.kick(token);
            }
        }
    }

    /// Where the socket's kicks go from now: the loop handler serving it before its
    /// connection does (a server's ClientHello phase), or none. A kick on the way to the
    /// handler before counts as seen.
    pub(crate) fn serve_at(&self, token: usize) {
        self.token.store(token, Ordering::SeqCst);
        self.kicked.store(false, Ordering::SeqCst);
    }

    /// `socket.write(data, cb)`: copies; `Ok(true)` while under the high-water mark.
    pub fn write(&self, data: &[u8], done: Option<WriteDone<E>>) -> Result<bool, c_int> {
        if self.end_called.load(Ordering::SeqCst) {
            return self.write_after_end(done);
        }
        self.check_open()?;
        let total = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.ended {
                drop(q);
                return self.write_after_end(done);
            }
            q.push(data, done);
            q.total
        };
        self.bytes_written.fetch_add(data.len() as u64, Ordering::Relaxed);
        self.kick();
        let below = total - self.flushed.load(Ordering::SeqCst) < self.high_water_mark.load(Ordering::SeqCst);
        if !below {
            self.need_drain.store(true, Ordering::SeqCst);
        }
        Ok(below)
    }

    /// Node's write after `end()`: `write` answers false, then on a later turn the callback
    /// and an `error` event get ERR_STREAM_WRITE_AFTER_END and the socket is destroyed
    /// (`close` with `had_error`). A socket that is closed, or was never started, can emit
    /// nothing more: `NTLS_EWRITE_AFTER_END` at once.
    fn write_after_end(&self, done: Option<WriteDone<E>>) -> Result<bool, c_int> {
        let words = self.fail_call(NTLS_EWRITE_AFTER_END, "write after end");
        if matches!(self.state(), State::New | State::Closed) || self.is_destroyed() {
            return Err(words);
        }
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .after_end
            .get_or_insert_with(Vec::new)
            .extend(done);
        self.kick();
        Ok(false)
    }

    /// `socket.end()`: close_notify once queued data is sent, then FIN.
    pub fn end(&self) -> Result<(), c_int> {
        // "Twice" wins over "closed": a second end() is EALREADY even if the first one
        // already led to the close.
        if self.end_called.swap(true, Ordering::SeqCst) {
            return Err(self.fail_call(NTLS_EALREADY, "end already called"));
        }
        self.check_open()?;
        {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.ended {
                return Err(self.fail_call(NTLS_EALREADY, "end already called"));
            }
            q.ended = true;
        }
        self.kick();
        Ok(())
    }

    /// `socket.destroy()`: close now; pending writes fail with `NTLS_ECANCELED`.
    pub fn destroy(self: &Arc<Self>) -> Result<(), c_int> {
        if self.state() == State::Closed || self.destroyed.swap(true, Ordering::SeqCst) {
            return Err(self.fail_call(NTLS_EALREADY, "socket already destroyed or closed"));
        }
        let never_started = self
            .state
            .compare_exchange(State::New as u8, State::Closed as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if never_started {
            // Nothing on the loop owns it, so the loop only reports the close.
            let me = self.clone();
            let _ = self.lp.submit(Box::new(move |_| me.finish_close(false)));
            return Ok(());
        }
        // Started (or starting on another thread right now): whichever loop step holds the
        // socket next sees `destroyed` and closes it, quietly.
        self.kick();
        Ok(())
    }

    /// Whether `destroy()` was called: the close that follows reports no error.
    pub fn is_destroyed(&self) -> bool {
        self.destroyed.load(Ordering::SeqCst)
    }

    /// `socket.pause()`: stop reading, so TCP pushes back on the peer.
    pub fn pause(&self) -> Result<(), c_int> {
        self.check_open()?;
        self.paused.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// `socket.resume()`: read again (and start reading, without a data listener).
    pub fn resume(&self) -> Result<(), c_int> {
        self.check_open()?;
        self.paused.store(false, Ordering::SeqCst);
        self.resumed.store(true, Ordering::SeqCst);
        self.kick();
        Ok(())
    }

    /// `socket.setTimeout(ms)`; 0 disables.
    pub fn set_timeout(&self, ms: u64) -> Result<(), c_int> {
        self.check_open()?;
        self.timeout_ms.store(ms, Ordering::SeqCst);
        self.kick();
        Ok(())
    }

    /// A `keylog` listener was set: from now on the handshake's key-log lines are made.
    pub fn want_keylog(&self) {
        self.keylog_wanted.store(true, Ordering::SeqCst);
    }

    /// `setMaxSendFragment(n)`: true for 512…16384, and records written from now on
    /// carry at most `n` bytes of plaintext; false (nothing changed) for other sizes.
    pub fn set_max_send_fragment(&self, n: usize) -> Result<bool, c_int> {
        self.check_open()?;
        if !(MIN_SEND_FRAGMENT..=MAX_SEND_FRAGMENT).contains(&n) {
            return Ok(false);
        }
        let n = if n == MAX_SEND_FRAGMENT { 0 } else { n };
        self.max_send_fragment.store(n, Ordering::SeqCst);
        Ok(true)
    }

    /// `socket.setNoDelay(enable)`: TCP_NODELAY, applied on the loop.
    pub fn set_no_delay(&self, enable: bool) -> Result<(), c_int> {
        self.check_open()?;
        self.no_delay_request.store(if enable { 2 } else { 1 }, Ordering::SeqCst);
        self.kick();
        Ok(())
    }

    /// A pending `setNoDelay` request: Some(enable) once, then None.
    fn take_no_delay_request(&self) -> Option<bool> {
        match self.no_delay_request.swap(0, Ordering::SeqCst) {
            0 => None,
            v => Some(v == 2),
        }
    }

    /// Whether the socket reads: it has a data listener or was resumed, and is not paused.
    fn flowing(&self) -> bool {
        !self.paused.load(Ordering::SeqCst)
            && (self.resumed.load(Ordering::SeqCst) || self.events.has_data_listener())
    }

    /// The handshake's facts while the connection is open: Node's `getProtocol()`,
    /// `getCipher()`, `getPeerCertificate()`... answer null once it has closed.
    pub fn info(&self) -> Option<&SecureInfo> {
        self.info.get().filter(|_| self.state() != State::Closed)
    }

    /// The handshake's facts that stay after close, as Node's properties do
    /// (`authorized`, `authorizationError`, `alpnProtocol`, `servername`).
    pub fn properties(&self) -> Option<&SecureInfo> {
        self.info.get()
    }

    /// `getSession()`: the newest session of the connection; None before one was saved
    /// and after close (Node answers null once the handle is gone).
    pub fn session(&self) -> Option<Arc<ClientSession>> {
        if self.state() == State::Closed {
            return None;
        }
        self.session.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_session(&self, session: Arc<ClientSession>) {
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(session);
    }

    /// Records a connected stream's addresses (once; a Unix socket has none).
    pub fn note_addresses(&self, stream: &transport::Stream) {
        if let Some(a) = stream.addresses() {
            let _ = self.addresses.set(a);
        }
    }

    /// Notes the server name a client asked for, so that a socket handed to
    /// `tlsClientError` carries it as Node's does.
    pub fn note_requested_name(&self, name: &str) {
        if !name.is_empty() {
            let _ = self.requested_name.set(crate::error::cstring(name));
        }
    }

    /// `servername`: the SNI name of the handshake, or the one a client asked for in a
    /// handshake that failed.
    pub fn servername(&self) -> Option<&std::ffi::CStr> {
        match self.properties() {
            Some(i) => i.servername.as_deref(),
            None => self.requested_name.get().map(|c| c.as_c_str()),
        }
    }

    /// The TCP addresses while connected (Node's `remoteAddress` is undefined after close).
    pub fn addresses(&self) -> Option<&Addresses> {
        self.addresses.get().filter(|_| self.state() != State::Closed)
    }

    /// `bytesRead`: plaintext bytes handed to `data` (Node's TLSSocket counts these).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// `bytesWritten`: plaintext bytes taken by `write`, as Node counts them.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }

    /// Closes a socket that never reached the TLS stage (a failed SNICallback phase).
    pub fn close_unstarted(&self, had_error: bool) {
        self.finish_close(had_error);
    }

    /// Marks the socket closed and emits `close` once: the end of every path.
    fn finish_close(&self, had_error: bool) {
        self.set_state(State::Closed);
        self.token.store(NO_TOKEN, Ordering::SeqCst);
        let cancelled: Vec<WriteDone<E>> = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.ended = true;
            q.buf = Vec::new();
            let late = q.after_end.take().unwrap_or_default();
            q.callbacks.drain(..).map(|(_, cb)| cb).chain(late).collect()
        };
        for cb in cancelled {
            cb(self, NTLS_ECANCELED);
        }
        self.events.close(self, had_error);
    }
}
