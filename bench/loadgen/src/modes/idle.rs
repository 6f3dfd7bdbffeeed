//! Idle connections: open `connections` in batches, prove each works with a 1-byte echo,
//! hold them (`PHASE held` .. `PHASE check`, while the harness reads the server's memory),
//! check that each still echoes, then close them all.

use super::{fail, phase, result, server_addr};
use crate::args::Args;
use crate::config::client_config;
use crate::conn::Conn;
use crate::limits::raise_fd_limit;
use crate::pattern;
use mio::{Events, Poll, Token};
use std::time::{Duration, Instant};

/// Connections opened at once: well under any accept backlog (Node's is 511).
const BATCH: usize = 200;

/// The connections and the echo each one still owes.
struct Pool {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    owed: Vec<Option<u8>>,
    buf: Vec<u8>,
}

impl Pool {
    /// Reads whatever came in; fails on a closed connection or bytes nobody asked for.
    fn pump(&mut self, wait: Duration) -> usize {
        self.poll.poll(&mut self.events, Some(wait)).expect("poll");
        let mut answered = 0;
        for ev in self.events.iter() {
            let i = ev.token().0;
            let c = &mut self.conns[i];
            self.buf.clear();
            c.read(&mut self.buf).unwrap_or_else(|e| fail(format!("idle connection {i}: {e}")));
            c.flush().unwrap_or_else(|e| fail(format!("idle connection {i}: {e}")));
            match (self.buf.as_slice(), self.owed[i]) {
                ([], _) => {}
                ([b], Some(want)) if *b == want => {
                    self.owed[i] = None;
                    answered += 1;
                }
                (got, want) => fail(format!("idle connection {i}: got {got:?}, expected {want:?}")),
            }
            if c.peer_closed {
                fail(format!("idle connection {i} closed by the server"));
            }
        }
        answered
    }

    /// Sends one byte on each connection in `range` and waits for every echo.
    fn echo(&mut self, range: std::ops::Range<usize>, round: u64) {
        let byte = pattern::byte_at(round);
        for i in range.clone() {
            self.conns[i].write(&[byte]).unwrap_or_else(|e| fail(e));
            self.conns[i].flush().unwrap_or_else(|e| fail(e));
            self.owed[i] = Some(byte);
        }
        let mut pending = range.len();
        while pending > 0 {
            pending -= self.pump(Duration::from_millis(200));
        }
    }
}

/// Runs the idle mode.
pub fn run(a: &Args) {
    let limit = raise_fd_limit();
    if a.connections as libc::rlim_t + 64 > limit {
        fail(format!("{} connections need more file descriptors than the limit ({limit})", a.connections));
    }
    let config = client_config(&a.ca, a.tls12, false);
    let mut pool = Pool {
        poll: Poll::new().expect("poll"),
        events: Events::with_capacity(1024),
        conns: Vec::with_capacity(a.connections),
        owed: vec![None; a.connections],
        buf: Vec::with_capacity(1024),
    };
    let opening = Instant::now();
    while pool.conns.len() < a.connections {
        let start = pool.conns.len();
        let end = (start + BATCH).min(a.connections);
        for i in start..end {
            let c = Conn::open(pool.poll.registry(), Token(i), server_addr(a.port), &config)
                .unwrap_or_else(|e| fail(format!("opening connection {i}: {e}")));
            pool.conns.push(c);
        }
        pool.echo(start..end, 0);
    }
    let opened = opening.elapsed().as_secs_f64();
    let negotiated = pool.conns[0].describe();
    // Watch the held connections rather than sleep: a server that drops one fails the run.
    phase("held");
    let held = Instant::now();
    while held.elapsed() < a.hold {
        pool.pump(a.hold.saturating_sub(held.elapsed()).min(Duration::from_millis(200)));
    }
    phase("check");
    for start in (0..a.connections).step_by(BATCH) {
        pool.echo(start..(start + BATCH).min(a.connections), 1);
    }
    phase("end");
    for c in &mut pool.conns {
        let _ = c.close();
    }
    result("idle", &format!("connections={} open_seconds={opened:.3} {negotiated}", a.connections));
}
