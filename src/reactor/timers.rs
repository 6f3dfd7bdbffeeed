//! Deadlines by token. A fired timer only wakes its handler, which checks its own
//! deadlines, so stale entries (a reset timeout, a reused token) cost nothing but a look.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// A min-heap of (deadline, token).
#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
}

impl Timers {
    /// Wakes `token` at `at`.
    pub fn add(&mut self, at: Instant, token: usize) {
        self.heap.push(Reverse((at, token)));
    }

    /// How long the poller may sleep.
    pub fn timeout(&self, now: Instant) -> Option<Duration> {
        self.heap.peek().map(|Reverse((at, _))| at.saturating_duration_since(now))
    }

    /// Removes and returns the next token due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<usize> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, t))| t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_order() {
        let mut t = Timers::default();
        let now = Instant::now();
        t.add(now + Duration::from_millis(20), 2);
        t.add(now, 1);
        assert_eq!(t.pop_due(now), Some(1));
        assert_eq!(t.pop_due(now), None);
        assert!(t.timeout(now).unwrap() <= Duration::from_millis(20));
        assert_eq!(t.pop_due(now + Duration::from_millis(25)), Some(2));
    }
}
