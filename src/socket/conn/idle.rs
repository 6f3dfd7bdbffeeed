//! The deadlines of a connection: the server's handshake timeout and the idle `timeout`
//! event (`setTimeout`), which fires once per idle spell and is re-armed by activity.

use super::states::Phase;
use super::{Conn, Role};
use crate::error::{NtlsError, NTLS_ETIMEDOUT};
use crate::reactor::{Cx, Next, Ready};
use crate::socket::SocketEvents;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The idle clock behind `setTimeout`.
pub struct IdleTimer {
    last_activity: Instant,
    fired: bool,
    armed_at: Option<Instant>,
    ms: u64,
}

impl IdleTimer {
    /// A clock with no timeout set.
    pub fn new() -> IdleTimer {
        IdleTimer { last_activity: Instant::now(), fired: false, armed_at: None, ms: 0 }
    }
}

impl<E: SocketEvents> Conn<E> {
    /// Notes activity for the idle timeout; free when no timeout is set (the common case).
    pub(super) fn touch(&mut self) {
        if self.sock.timeout_ms.load(Ordering::Relaxed) > 0 {
            self.idle.last_activity = Instant::now();
            self.idle.fired = false;
        }
    }

    /// Sets the timer for the next deadline: the handshake's, or the idle timeout's.
    pub(super) fn arm_timers(&mut self, cx: &mut Cx<'_>, token: usize) {
        let ms = self.sock.timeout_ms.load(Ordering::SeqCst);
        let idle = &mut self.idle;
        if ms != idle.ms {
            // setTimeout restarts the idle clock.
            *idle = IdleTimer { ms, ..IdleTimer::new() };
        }
        let due = (ms > 0 && !idle.fired).then(|| idle.last_activity + Duration::from_millis(ms));
        if let Some(at) = due.filter(|at| Some(*at) != idle.armed_at) {
            idle.armed_at = Some(at);
            cx.set_timer(token, at);
        }
    }

    pub(super) fn on_timer(&mut self, cx: &mut Cx<'_>, token: usize) -> Next {
        let now = Instant::now();
        if let Role::Server(side) = &self.role {
            if self.phase != Phase::Secure && now >= side.handshake_deadline {
                let err =
                    NtlsError::new(NTLS_ETIMEDOUT, "ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake timeout");
                return self.fail(cx, err);
            }
        }
        let ms = self.sock.timeout_ms.load(Ordering::SeqCst);
        let due = now >= self.idle.last_activity + Duration::from_millis(ms);
        if ms > 0 && !self.idle.fired && due && !self.sock.is_destroyed() {
            self.idle.fired = true;
            self.idle.armed_at = None;
            self.sock.events.timeout(&self.sock);
        }
        self.drive(cx, token, Ready::default())
    }
}
