//! Round trips: `concurrency` connections each ping-pong `size` bytes; p50/p99/p99.9.

use super::{fail, phase, server_addr};
use crate::args::Args;
use crate::net::{client_config, Conn};
use crate::pattern;
use crate::stats::percentile;
use mio::{Events, Poll, Token};
use std::time::{Duration, Instant};

const WARMUP: Duration = Duration::from_millis(500);

struct Pinger {
    conn: Conn,
    sent_at: Instant,
    offset: u64,
    got: Vec<u8>,
    done: bool,
}

/// Runs the latency mode.
pub fn run(a: &Args) {
    let config = client_config(&a.ca, a.tls12, false);
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(1024);
    let mut msg = vec![0u8; a.size];
    let mut pingers: Vec<Pinger> = (0..a.concurrency)
        .map(|i| {
            let mut conn = Conn::open(poll.registry(), Token(i), server_addr(a.port), &config)
                .unwrap_or_else(|e| fail(e));
            pattern::fill(&mut msg, 0);
            conn.write(&msg).unwrap_or_else(|e| fail(e));
            Pinger {
                conn,
                sent_at: Instant::now(),
                offset: 0,
                got: Vec::with_capacity(a.size * 2),
                done: false,
            }
        })
        .collect();
    let begin = Instant::now();
    let mut started: Option<Instant> = None;
    let mut samples: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut stopping = false;
    let mut finished = 0;
    while finished < pingers.len() {
        poll.poll(&mut events, Some(Duration::from_millis(100))).expect("poll");
        if started.is_none() && begin.elapsed() >= WARMUP {
            started = Some(Instant::now());
            phase("start");
        }
        if !stopping && started.is_some_and(|s| s.elapsed() >= a.duration) {
            stopping = true;
            phase("end");
        }
        for ev in events.iter() {
            let p = &mut pingers[ev.token().0];
            if p.done {
                continue;
            }
            p.conn.read(&mut p.got).unwrap_or_else(|e| fail(format!("latency read: {e}")));
            p.conn.flush().unwrap_or_else(|e| fail(e));
            if p.got.len() < a.size {
                if p.conn.peer_closed {
                    fail(format!(
                        "server closed during ping-pong (connection {}, offset {}, {} bytes pending, handshaking {})",
                        ev.token().0,
                        p.offset,
                        p.got.len(),
                        p.conn.tls.is_handshaking()
                    ));
                }
                continue;
            }
            if p.got.len() > a.size || !pattern::check(&p.got, p.offset) {
                fail("latency: wrong echo");
            }
            p.got.clear();
            p.offset += a.size as u64;
            if started.is_some() && !stopping {
                samples.push(p.sent_at.elapsed().as_nanos() as u64);
            }
            if stopping {
                let _ = p.conn.close();
                p.done = true;
                finished += 1;
                continue;
            }
            pattern::fill(&mut msg, p.offset);
            p.sent_at = Instant::now();
            p.conn.write(&msg).unwrap_or_else(|e| fail(e));
            p.conn.flush().unwrap_or_else(|e| fail(e));
        }
    }
    samples.sort_unstable();
    let us = |p: f64| percentile(&samples, p) as f64 / 1000.0;
    println!(
        "RESULT mode=latency round_trips={} p50_us={:.1} p99_us={:.1} p999_us={:.1}",
        samples.len(),
        us(50.0),
        us(99.0),
        us(99.9)
    );
}
