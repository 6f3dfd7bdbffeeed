//! Round trips: `concurrency` connections each ping-pong `size` bytes (the next message
//! leaves when the last one is fully back); p50/p99/p99.9 of the round-trip time.

use super::{fail, phase, result, server_addr};
use crate::args::Args;
use crate::config::client_config;
use crate::conn::Conn;
use crate::pattern;
use crate::stats::percentile;
use mio::{Events, Poll, Token};
use std::time::{Duration, Instant};

/// Round trips before the measured phase: handshakes are done and caches are warm.
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
    pattern::fill(&mut msg, 0);
    let mut pingers: Vec<Pinger> = (0..a.concurrency)
        .map(|i| {
            let mut conn = Conn::open(poll.registry(), Token(i), server_addr(a.port), &config)
                .unwrap_or_else(|e| fail(format!("connect: {e}")));
            conn.write(&msg).unwrap_or_else(|e| fail(e));
            let got = Vec::with_capacity(a.size * 2);
            Pinger { conn, sent_at: Instant::now(), offset: 0, got, done: false }
        })
        .collect();
    let begin = Instant::now();
    let mut started: Option<Instant> = None;
    let mut ended: Option<Duration> = None;
    let mut samples: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut finished = 0;
    while finished < pingers.len() {
        poll.poll(&mut events, Some(Duration::from_millis(50))).expect("poll");
        if started.is_none() && begin.elapsed() >= WARMUP {
            started = Some(Instant::now());
            phase("start");
        }
        if ended.is_none() && started.is_some_and(|s| s.elapsed() >= a.duration) {
            ended = started.map(|s| s.elapsed());
            phase("end");
        }
        for ev in events.iter() {
            let i = ev.token().0;
            let p = &mut pingers[i];
            if p.done {
                continue;
            }
            p.conn.read(&mut p.got).unwrap_or_else(|e| fail(format!("latency connection {i}: {e}")));
            p.conn.flush().unwrap_or_else(|e| fail(e));
            if p.got.len() > a.size {
                fail(format!("latency connection {i}: {} bytes came back for {}", p.got.len(), a.size));
            }
            if let Some(k) = pattern::mismatch(&p.got, p.offset) {
                fail(format!("latency connection {i}: wrong byte at offset {}", p.offset + k as u64));
            }
            if p.got.len() < a.size {
                if p.conn.peer_closed {
                    fail(format!("latency connection {i}: closed by the server at offset {}", p.offset));
                }
                continue;
            }
            let rtt = p.sent_at.elapsed();
            p.got.clear();
            p.offset += a.size as u64;
            if started.is_some() && ended.is_none() {
                samples.push(rtt.as_nanos() as u64);
            }
            if ended.is_some() {
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
    let secs = ended.unwrap_or_default().as_secs_f64();
    result(
        "latency",
        &format!(
            "round_trips={} seconds={secs:.3} per_second={:.0} p50_us={:.1} p99_us={:.1} p999_us={:.1} {}",
            samples.len(),
            samples.len() as f64 / secs.max(1e-9),
            us(50.0),
            us(99.0),
            us(99.9),
            pingers[0].conn.describe()
        ),
    );
}
