//! Handshakes per second of server CPU: connect, handshake (full or resumed), 1-byte
//! echo, close_notify, close — in `concurrency` slots, again and again.

use super::{fail, phase, server_addr};
use crate::args::Args;
use crate::net::{client_config, Conn};
use mio::{Events, Poll, Token};
use std::time::{Duration, Instant};

const WARMUP: u64 = 50;

struct Slot {
    conn: Conn,
    got: Vec<u8>,
}

/// Runs the handshake mode.
pub fn run(a: &Args) {
    let config = client_config(&a.ca, a.tls12, a.resume);
    let addr = server_addr(a.port);
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(1024);
    let mut slots: Vec<Option<Slot>> = (0..a.concurrency).map(|_| None).collect();
    let open = |poll: &Poll, i: usize| {
        let mut conn = Conn::open(poll.registry(), Token(i), addr, &config).unwrap_or_else(|e| fail(e));
        conn.write(&[crate::pattern::byte_at(0)]).unwrap_or_else(|e| fail(e));
        Slot { conn, got: Vec::with_capacity(16) }
    };
    for (i, s) in slots.iter_mut().enumerate() {
        *s = Some(open(&poll, i));
    }
    let (mut done, mut resumed, mut measured) = (0u64, 0u64, 0u64);
    let mut started: Option<Instant> = None;
    let mut stopping = false;
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(100))).expect("poll");
        for ev in events.iter() {
            let i = ev.token().0;
            let Some(slot) = slots[i].as_mut() else { continue };
            if let Err(e) = slot.conn.read(&mut slot.got).and_then(|_| slot.conn.flush().map(|_| ())) {
                fail(format!("handshake connection: {e}"));
            }
            if slot.got.is_empty() {
                if slot.conn.peer_closed {
                    fail("server closed before echoing");
                }
                continue;
            }
            if slot.got != [crate::pattern::byte_at(0)] {
                fail("wrong echo byte");
            }
            let reused = slot.conn.tls.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
            let _ = slot.conn.close();
            let mut old = slots[i].take().map(|s| s.conn.stream);
            if let Some(s) = old.as_mut() {
                let _ = poll.registry().deregister(s);
            }
            done += 1;
            if started.is_some() && !stopping {
                measured += 1;
                resumed += u64::from(reused);
            }
            if started.is_none() && done >= WARMUP {
                started = Some(Instant::now());
                phase("start");
            }
            let elapsed = started.map_or(Duration::ZERO, |s| s.elapsed());
            if started.is_some() && (elapsed >= a.duration || a.count.is_some_and(|c| measured >= c)) {
                if !stopping {
                    phase("end");
                    stopping = true;
                }
            } else {
                slots[i] = Some(open(&poll, i));
            }
        }
        if stopping && slots.iter().all(Option::is_none) {
            break;
        }
    }
    let secs = started.map_or(0.0, |s| s.elapsed().as_secs_f64());
    if a.resume && resumed * 2 < measured {
        fail(format!("only {resumed} of {measured} handshakes resumed"));
    }
    if !a.resume && resumed > 0 {
        fail("full handshakes were asked for, but sessions resumed");
    }
    println!("RESULT mode=handshake count={measured} resumed={resumed} seconds={secs:.3}");
}
