//! Handshakes: connect, handshake (full or resumed), 1-byte echo, close_notify, close — in
//! `concurrency` slots, again and again, until `duration` or `count`.

use super::{fail, phase, result, server_addr};
use crate::args::Args;
use crate::config::client_config;
use crate::conn::Conn;
use crate::pattern;
use mio::{Events, Poll, Token};
use rustls::HandshakeKind;
use std::time::{Duration, Instant};

/// Handshakes before the measured phase: the first ones fill the session cache, and the
/// server's allocator and caches reach their steady state.
const WARMUP: u64 = 50;

struct Slot {
    conn: Conn,
    got: Vec<u8>,
}

fn open(poll: &Poll, i: usize, a: &Args, config: &std::sync::Arc<rustls::ClientConfig>) -> Slot {
    let mut conn = Conn::open(poll.registry(), Token(i), server_addr(a.port), config)
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    conn.write(&[pattern::byte_at(0)]).unwrap_or_else(|e| fail(e));
    Slot { conn, got: Vec::with_capacity(16) }
}

/// Runs the handshake mode.
pub fn run(a: &Args) {
    let config = client_config(&a.ca, a.tls12, a.resume);
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(1024);
    let mut slots: Vec<Option<Slot>> = (0..a.concurrency).map(|i| Some(open(&poll, i, a, &config))).collect();
    let (mut done, mut resumed, mut measured) = (0u64, 0u64, 0u64);
    let mut started: Option<Instant> = None;
    let mut ended: Option<Duration> = None;
    let mut negotiated = String::new();
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(100))).expect("poll");
        for ev in events.iter() {
            let i = ev.token().0;
            let Some(slot) = slots[i].as_mut() else { continue };
            if let Err(e) = slot.conn.read(&mut slot.got).and_then(|_| slot.conn.flush()) {
                fail(format!("handshake connection: {e}"));
            }
            if slot.got.is_empty() {
                if slot.conn.peer_closed {
                    fail("server closed before echoing");
                }
                continue;
            }
            if slot.got != [pattern::byte_at(0)] {
                fail(format!("wrong echo: {:?}", slot.got));
            }
            let kind = slot.conn.tls.handshake_kind();
            if negotiated.is_empty() {
                negotiated = slot.conn.describe();
            }
            let _ = slot.conn.close();
            if let Some(mut old) = slots[i].take() {
                let _ = poll.registry().deregister(&mut old.conn.stream);
            }
            done += 1;
            if started.is_some() && ended.is_none() {
                measured += 1;
                resumed += u64::from(kind == Some(HandshakeKind::Resumed));
            }
            if started.is_none() && done >= WARMUP {
                started = Some(Instant::now());
                phase("start");
            }
            let elapsed = started.map_or(Duration::ZERO, |s| s.elapsed());
            let enough = elapsed >= a.duration || a.count.is_some_and(|c| measured >= c);
            if ended.is_none() && started.is_some() && enough {
                phase("end");
                ended = Some(elapsed);
            }
            if ended.is_none() {
                slots[i] = Some(open(&poll, i, a, &config));
            }
        }
        if ended.is_some() && slots.iter().all(Option::is_none) {
            break;
        }
    }
    // Half is the floor: a server that issues no ticket after a resumption (OpenSSL, so
    // Node) still resumes two handshakes in three with clients that use a ticket once.
    if a.resume && resumed * 2 < measured {
        fail(format!("only {resumed} of {measured} handshakes resumed"));
    }
    if !a.resume && resumed > 0 {
        fail("full handshakes were asked for, but sessions resumed");
    }
    let secs = ended.unwrap_or_default().as_secs_f64();
    result(
        "handshake",
        &format!(
            "count={measured} resumed={resumed} full={} seconds={secs:.3} per_second={:.0} {negotiated}",
            measured - resumed,
            measured as f64 / secs.max(1e-9)
        ),
    );
}
