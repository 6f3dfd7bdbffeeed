//! The reactor thread: poll, dispatch readiness, fire timers, drain commands and kicks.

use super::handler::{Cx, Next, Ready, Slot};
use super::timers::Timers;
use super::{Command, LoopCore};
use crossbeam_channel::Receiver;
use slab::Slab;
use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The waker's token; handler tokens are slab indices, far below it.
pub(crate) const WAKER: usize = usize::MAX - 1;

/// Rounds of command draining per turn before the poller gets a look in again.
const MAX_DRAIN_ROUNDS: usize = 64;

thread_local! {
    static STOP: Cell<bool> = const { Cell::new(false) };
}

/// Called by the stop command on the loop thread.
pub fn request_stop() {
    STOP.with(|s| s.set(true));
}

/// The loop thread's state.
pub struct Reactor {
    poll: mio::Poll,
    rx: Receiver<Command>,
    shared: Arc<LoopCore>,
    slots: Slab<Slot>,
    timers: Timers,
    kicks: Vec<usize>,
}

impl Reactor {
    /// A reactor over a fresh poller.
    pub fn new(poll: mio::Poll, rx: Receiver<Command>, shared: Arc<LoopCore>) -> Self {
        Self { poll, rx, shared, slots: Slab::new(), timers: Timers::default(), kicks: Vec::new() }
    }

    /// Runs until the stop command.
    pub fn run(mut self) {
        let mut events = mio::Events::with_capacity(1024);
        let mut busy = false;
        while !STOP.with(Cell::get) {
            let now = Instant::now();
            let timeout = if busy { Some(Duration::ZERO) } else { self.timers.timeout(now) };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    log::error!("nodetls: poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            for ev in events.iter() {
                let token = ev.token().0;
                if token == WAKER {
                    continue;
                }
                let ready = Ready {
                    readable: ev.is_readable() || ev.is_read_closed() || ev.is_error(),
                    writable: ev.is_writable() || ev.is_write_closed() || ev.is_error(),
                    read_closed: ev.is_read_closed() || ev.is_error(),
                };
                self.dispatch(token, |h, cx| h.ready(cx, token, ready));
            }
            let now = Instant::now();
            while let Some(token) = self.timers.pop_due(now) {
                self.dispatch(token, |h, cx| h.timer(cx, token));
            }
            busy = !self.drain();
        }
    }

    /// Runs queued commands and kicks until none are left; false if it gave up early.
    fn drain(&mut self) -> bool {
        for _ in 0..MAX_DRAIN_ROUNDS {
            self.shared.wake_pending.store(false, Ordering::SeqCst);
            let mut did = false;
            while let Ok(cmd) = self.rx.try_recv() {
                did = true;
                let mut cx =
                    Cx { registry: self.poll.registry(), timers: &mut self.timers, slots: &mut self.slots };
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cmd(&mut cx))).is_err() {
                    log::error!("nodetls: a loop command panicked");
                }
            }
            {
                let mut shared = self.shared.kicks.lock().unwrap_or_else(|e| e.into_inner());
                std::mem::swap(&mut *shared, &mut self.kicks);
            }
            let mut kicks = std::mem::take(&mut self.kicks);
            for &token in &kicks {
                did = true;
                self.dispatch(token, |h, cx| h.kick(cx, token));
            }
            kicks.clear();
            self.kicks = kicks;
            if !did {
                return true;
            }
        }
        false
    }

    /// Lends the handler at `token` the reactor's services; drops it if it is done.
    fn dispatch(&mut self, token: usize, f: impl FnOnce(&mut dyn super::Handler, &mut Cx<'_>) -> Next) {
        let Some(mut handler) = self.slots.get_mut(token).and_then(Option::take) else {
            return;
        };
        let mut cx = Cx { registry: self.poll.registry(), timers: &mut self.timers, slots: &mut self.slots };
        let next =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(handler.as_mut(), &mut cx))) {
                Ok(next) => next,
                Err(_) => {
                    log::error!("nodetls: a handler panicked; its handle gets an error and closes");
                    let abort = std::panic::AssertUnwindSafe(|| handler.abort(&mut cx, token));
                    let _ = std::panic::catch_unwind(abort);
                    Next::Remove
                }
            };
        match next {
            Next::Keep => {
                if let Some(slot) = self.slots.get_mut(token) {
                    *slot = Some(handler);
                }
            }
            Next::Remove => {
                if self.slots.contains(token) {
                    self.slots.remove(token);
                }
            }
        }
    }
}
