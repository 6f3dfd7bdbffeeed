//! One mio thread per loop: a poller, a waker, a command queue, kicks and timers.
//! Knows nothing of TLS or C.

mod handler;
pub mod resolve;
mod run;
mod timers;

pub use handler::{Cx, Handler, Next, Ready};

use crate::error::{NTLS_EBUSY, NTLS_ECLOSED, NTLS_EINVAL};
use crossbeam_channel::{Receiver, Sender};
use std::cell::Cell;
use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

/// Work sent to the loop thread.
pub type Command = Box<dyn FnOnce(&mut Cx<'_>) + Send>;

/// No token yet: the handle has not been installed on its loop.
pub(crate) const NO_TOKEN: usize = usize::MAX;

thread_local! {
    static CURRENT: Cell<*const LoopCore> = const { Cell::new(std::ptr::null()) };
}

/// State shared between the loop thread and every thread that calls into it (`ntls_loop`).
pub struct LoopCore {
    tx: Sender<Command>,
    waker: mio::Waker,
    wake_pending: AtomicBool,
    kicks: Mutex<Vec<usize>>,
    active: AtomicUsize,
    stopped: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

static DEFAULT: OnceLock<Option<Loop>> = OnceLock::new();

/// A loop handle; clones share the loop.
#[derive(Clone)]
pub struct Loop(Arc<LoopCore>);

impl Loop {
    /// Starts a loop and its reactor thread.
    pub fn new() -> std::io::Result<Loop> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), mio::Token(run::WAKER))?;
        let (tx, rx): (Sender<Command>, Receiver<Command>) = crossbeam_channel::unbounded();
        let shared = Arc::new(LoopCore {
            tx,
            waker,
            wake_pending: AtomicBool::new(false),
            kicks: Mutex::new(Vec::new()),
            active: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            thread: Mutex::new(None),
        });
        let for_thread = shared.clone();
        let handle = std::thread::Builder::new().name("nodetls-loop".into()).spawn(move || {
            CURRENT.with(|c| c.set(Arc::as_ptr(&for_thread)));
            run::Reactor::new(poll, rx, for_thread).run();
        })?;
        *shared.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        Ok(Loop(shared))
    }

    /// The process-wide loop, started on first use.
    pub fn default_loop() -> Option<&'static Loop> {
        DEFAULT.get_or_init(|| Loop::new().ok()).as_ref()
    }

    /// Whether `core` is the default loop's (which lives as long as the process).
    pub fn is_default(core: *const LoopCore) -> bool {
        matches!(DEFAULT.get(), Some(Some(l)) if Arc::as_ptr(&l.0) == core)
    }

    /// Whether the caller runs on this loop's thread (inside a callback).
    pub fn is_current(&self) -> bool {
        CURRENT.with(|c| c.get() == Arc::as_ptr(&self.0))
    }

    /// Whether the loop has been closed.
    pub fn is_closed(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Queues `cmd` to run on the loop thread; `NTLS_ECLOSED` once the loop is closed.
    pub fn submit(&self, cmd: Command) -> Result<(), c_int> {
        if self.is_closed() {
            return Err(NTLS_ECLOSED);
        }
        self.0.tx.send(cmd).map_err(|_| NTLS_ECLOSED)?;
        self.wake();
        Ok(())
    }

    /// Asks `token`'s handler to look at its shared state again. Cheap: no allocation,
    /// and one wake-up per batch of kicks.
    pub fn kick(&self, token: usize) {
        if token == NO_TOKEN {
            return;
        }
        self.0.kicks.lock().unwrap_or_else(|e| e.into_inner()).push(token);
        self.wake();
    }

    fn wake(&self) {
        if !self.is_current() && !self.0.wake_pending.swap(true, Ordering::SeqCst) {
            let _ = self.0.waker.wake();
        }
    }

    /// Counts a started handle (a listening server, a connecting socket).
    pub fn handle_started(&self) {
        self.0.active.fetch_add(1, Ordering::SeqCst);
    }

    /// Uncounts a handle whose close event has fired.
    pub fn handle_closed(&self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }

    /// Stops the reactor thread. `NTLS_EBUSY` from the loop's own thread or while
    /// handles are open; `NTLS_ECLOSED` when already closed.
    pub fn close(&self) -> Result<(), c_int> {
        if self.is_current() {
            return Err(NTLS_EBUSY);
        }
        if self.0.active.load(Ordering::SeqCst) > 0 {
            return Err(NTLS_EBUSY);
        }
        if self.0.stopped.swap(true, Ordering::SeqCst) {
            return Err(NTLS_ECLOSED);
        }
        let _ = self.0.tx.send(Box::new(|_| run::request_stop()));
        self.0.wake_pending.store(true, Ordering::SeqCst);
        let _ = self.0.waker.wake();
        let handle = self.0.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        match handle.map(JoinHandle::join) {
            Some(Err(_)) => Err(NTLS_EINVAL),
            _ => Ok(()),
        }
    }

    /// The shared core, for the C layer's handle.
    pub fn core(&self) -> &Arc<LoopCore> {
        &self.0
    }

    /// A loop from a core the C layer holds.
    pub fn from_core(core: Arc<LoopCore>) -> Loop {
        Loop(core)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_panicking_command_leaves_the_loop_running() {
        let lp = Loop::new().unwrap();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        lp.submit(Box::new(|_| panic!("a bug in a command"))).unwrap();
        let (tx, rx) = mpsc::channel();
        lp.submit(Box::new(move |_| tx.send(std::thread::current().name().map(str::to_owned)).unwrap()))
            .unwrap();
        let name = rx.recv_timeout(Duration::from_secs(5)).expect("the loop still runs commands");
        std::panic::set_hook(hook);
        assert_eq!(name.as_deref(), Some("nodetls-loop"));
        assert_eq!(lp.close(), Ok(()));
        assert_eq!(lp.close(), Err(NTLS_ECLOSED));
        assert_eq!(lp.submit(Box::new(|_| {})).err(), Some(NTLS_ECLOSED));
    }

    #[test]
    fn close_is_refused_while_handles_are_open() {
        let lp = Loop::new().unwrap();
        lp.handle_started();
        assert_eq!(lp.close(), Err(NTLS_EBUSY));
        lp.handle_closed();
        assert_eq!(lp.close(), Ok(()));
    }
}
