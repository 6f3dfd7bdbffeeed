//! Bulk transfer: `bytes` per connection over `concurrency` connections, down (server
//! sends), up (client sends) or echo; every byte received is checked against the pattern,
//! and each connection must end with the server's close_notify.

use super::{fail, phase, result, server_addr};
use crate::args::{Args, Direction};
use crate::config::client_config;
use crate::conn::Conn;
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
}

/// Moves a flow forward: checks what arrived, sends the next chunks while the socket takes
/// them, and sends close_notify once everything is done.
fn progress(f: &mut Flow, a: &Args, got: &[u8], out: &mut [u8], sending: bool) {
    let sends = a.direction != Direction::Down;
    let expects = a.direction != Direction::Up;
    if !got.is_empty() {
        if !expects {
            fail(format!("bulk up: the server sent {} bytes to a sink client", got.len()));
        }
        if f.received + got.len() as u64 > a.bytes {
            fail(format!("bulk: more than {} bytes came back", a.bytes));
        }
        if let Some(k) = pattern::mismatch(got, f.received) {
            fail(format!("bulk: wrong byte at offset {}", f.received + k as u64));
        }
        f.received += got.len() as u64;
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
            fail(format!("server closed early: received {} and sent {} of {}", f.received, f.sent, a.bytes));
        }
        if !f.conn.clean_close {
            fail("server closed without close_notify");
        }
        f.done = true;
    }
}

/// Runs the bulk mode.
pub fn run(a: &Args) {
    let config = client_config(&a.ca, a.tls12, false);
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(1024);
    // A source server sends as soon as its handshake is done, so for `down` the measured
    // phase must already be running then: it includes the handshakes (under 1% of the
    // work at the default sizes). Otherwise it starts once every handshake is done.
    let mut started: Option<Instant> = None;
    if a.direction == Direction::Down {
        phase("start");
        started = Some(Instant::now());
    }
    let mut flows: Vec<Flow> = (0..a.concurrency)
        .map(|i| Flow {
            conn: Conn::open(poll.registry(), Token(i), server_addr(a.port), &config)
                .unwrap_or_else(|e| fail(format!("connect: {e}"))),
            sent: 0,
            received: 0,
            closing: false,
            done: false,
        })
        .collect();
    let mut out = vec![0u8; CHUNK];
    let mut got = Vec::with_capacity(4 * CHUNK);
    let mut negotiated = String::new();
    while flows.iter().any(|f| !f.done) {
        poll.poll(&mut events, Some(Duration::from_millis(100))).expect("poll");
        for ev in events.iter() {
            let f = &mut flows[ev.token().0];
            if f.done {
                continue;
            }
            got.clear();
            f.conn.read(&mut got).unwrap_or_else(|e| fail(format!("bulk read: {e}")));
            progress(f, a, &got, &mut out, started.is_some());
        }
        if started.is_none() && flows.iter().all(|f| !f.conn.tls.is_handshaking()) {
            started = Some(Instant::now());
            phase("start");
            // Nothing was sent before the measured phase: start every flow now.
            for f in flows.iter_mut().filter(|f| !f.done) {
                progress(f, a, &[], &mut out, true);
            }
        }
        if negotiated.is_empty() && !flows[0].conn.tls.is_handshaking() {
            negotiated = flows[0].conn.describe();
        }
    }
    phase("end");
    let secs = started.map_or(0.0, |s| s.elapsed().as_secs_f64());
    let moved: u64 = flows.iter().map(|f| f.sent + f.received).sum();
    result(
        "bulk",
        &format!(
            "direction={} bytes={moved} seconds={secs:.3} mb_per_second={:.1} {negotiated}",
            match a.direction {
                Direction::Down => "down",
                Direction::Up => "up",
                Direction::Echo => "echo",
            },
            moved as f64 / 1e6 / secs.max(1e-9)
        ),
    );
}
