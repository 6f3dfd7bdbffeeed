//! Bulk transfer: `bytes` per connection over `concurrency` connections, down (server
//! sends), up (client sends) or echo; every byte checked against the pattern.

use super::{fail, phase, server_addr};
use crate::args::{Args, Direction};
use crate::net::{client_config, Conn};
use crate::pattern;
use mio::{Events, Poll, Token};
use std::time::{Duration, Instant};

const CHUNK: usize = 64 * 1024;

struct Flow {
    conn: Conn,
    sent: u64,
    received: u64,
    closing: bool,
    done: bool,
    buf: Vec<u8>,
}

/// Moves a flow forward: checks what arrived, sends the next chunks while the socket takes
/// them, and sends close_notify once everything is done.
fn progress(f: &mut Flow, a: &Args, out: &mut [u8], sending: bool) {
    let sends = a.direction != Direction::Down;
    let expects = a.direction != Direction::Up;
    if expects && !f.buf.is_empty() {
        if !pattern::check(&f.buf, f.received) {
            fail(format!("bulk: wrong bytes at offset {}", f.received));
        }
        f.received += f.buf.len() as u64;
    }
    // Keep rustls's queue short: write more only once the socket took the last chunk.
    while sends && sending && f.sent < a.bytes && f.conn.flush().unwrap_or_else(|e| fail(e)) {
        let n = (a.bytes - f.sent).min(CHUNK as u64) as usize;
        pattern::fill(&mut out[..n], f.sent);
        f.conn.write(&out[..n]).unwrap_or_else(|e| fail(e));
        f.sent += n as u64;
    }
    let all_in = !expects || f.received >= a.bytes;
    let all_out = !sends || f.sent >= a.bytes;
    if all_in && all_out && !f.closing {
        f.conn.close().unwrap_or_else(|e| fail(e));
        f.closing = true;
    }
    f.conn.flush().unwrap_or_else(|e| fail(e));
    if f.conn.peer_closed {
        if !(all_in && all_out) {
            fail(format!("server closed early: received {} of {}", f.received, a.bytes));
        }
        f.done = true;
    }
}

/// Runs the bulk mode.
pub fn run(a: &Args) {
    let config = client_config(&a.ca, a.tls12, false);
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(1024);
    let mut flows: Vec<Flow> = (0..a.concurrency)
        .map(|i| Flow {
            conn: Conn::open(poll.registry(), Token(i), server_addr(a.port), &config)
                .unwrap_or_else(|e| fail(e)),
            sent: 0,
            received: 0,
            closing: false,
            done: false,
            buf: Vec::with_capacity(CHUNK * 2),
        })
        .collect();
    let mut out = vec![0u8; CHUNK];
    let mut started: Option<Instant> = None;
    while flows.iter().any(|f| !f.done) {
        poll.poll(&mut events, Some(Duration::from_millis(100))).expect("poll");
        for ev in events.iter() {
            let f = &mut flows[ev.token().0];
            if f.done {
                continue;
            }
            f.buf.clear();
            f.conn.read(&mut f.buf).unwrap_or_else(|e| fail(format!("bulk read: {e}")));
            progress(f, a, &mut out, started.is_some());
        }
        if started.is_none() && flows.iter().all(|f| !f.conn.tls.is_handshaking()) {
            started = Some(Instant::now());
            phase("start");
            // Nothing was sent before the measured phase: start every flow now.
            for f in flows.iter_mut().filter(|f| !f.done) {
                f.buf.clear();
                progress(f, a, &mut out, true);
            }
        }
    }
    phase("end");
    let secs = started.map_or(0.0, |s| s.elapsed().as_secs_f64());
    let moved = a.bytes * a.concurrency as u64 * if a.direction == Direction::Echo { 2 } else { 1 };
    println!("RESULT mode=bulk bytes={moved} seconds={secs:.3}");
}
