//! What the reactor drives: one `Handler` per token, woken by readiness, kicks and timers.

use super::timers::Timers;
use mio::{Registry, Token};
use slab::Slab;
use std::time::Instant;

/// Whether a handler stays after an event.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Next {
    /// Keep it registered.
    Keep,
    /// It is done: drop it and free its token.
    Remove,
}

/// Readiness as the handler sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ready {
    /// Bytes (or a FIN, or an error) to read.
    pub readable: bool,
    /// Room to write.
    pub writable: bool,
    /// The peer shut down its side (or the socket failed): read until EOF, never stop at a
    /// short read, since no later event will report what is already there.
    pub read_closed: bool,
}

/// A state machine living on the loop thread.
pub trait Handler {
    /// The OS reported readiness on this handler's token.
    fn ready(&mut self, cx: &mut Cx<'_>, token: usize, ready: Ready) -> Next;
    /// Another thread (or a callback) changed the handle's shared state.
    fn kick(&mut self, cx: &mut Cx<'_>, token: usize) -> Next;
    /// A deadline this handler set may have passed.
    fn timer(&mut self, cx: &mut Cx<'_>, token: usize) -> Next;
    /// The handler panicked in one of the calls above: report and clean up, no more.
    fn abort(&mut self, cx: &mut Cx<'_>, token: usize);
}

/// One slot of the handler table; `None` while its handler runs or before it is installed.
pub type Slot = Option<Box<dyn Handler>>;

/// The reactor's services, lent to a handler or command while it runs.
pub struct Cx<'a> {
    pub(super) registry: &'a Registry,
    pub(super) timers: &'a mut Timers,
    pub(super) slots: &'a mut Slab<Slot>,
}

impl Cx<'_> {
    /// mio's registry, to register sources under a reserved token.
    pub fn registry(&self) -> &Registry {
        self.registry
    }

    /// Reserves a token for a handler about to be installed.
    pub fn reserve(&mut self) -> usize {
        self.slots.insert(None)
    }

    /// Installs a handler under a reserved token.
    pub fn install(&mut self, token: usize, handler: Box<dyn Handler>) {
        if let Some(slot) = self.slots.get_mut(token) {
            *slot = Some(handler);
        }
    }

    /// Frees a reserved token that never got a handler.
    pub fn release(&mut self, token: usize) {
        if matches!(self.slots.get(token), Some(None)) {
            self.slots.remove(token);
        }
    }

    /// Wakes `token`'s handler at `at`.
    pub fn set_timer(&mut self, token: usize, at: Instant) {
        self.timers.add(at, token);
    }

    /// The mio token of a slot.
    pub fn token(index: usize) -> Token {
        Token(index)
    }
}
