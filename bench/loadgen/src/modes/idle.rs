//! Idle connections: open `connections`, prove each works with a 1-byte echo, hold them
//! while the harness reads the server's memory, check they still echo, then close.

use super::{fail, phase, server_addr};
use crate::args::Args;
use crate::net::{client_config, raise_fd_limit, Conn};
use crate::pattern;
use mio::{Events, Poll, Token};
use std::time::Duration;

const BATCH: usize = 200;

/// Echoes one byte on each connection in `range`; returns when all came back.
fn echo_all(poll: &mut Poll, conns: &mut [Conn], range: std::ops::Range<usize>, round: u64) {
    let mut events = Events::with_capacity(1024);
    let byte = pattern::byte_at(round);
    let mut pending = range.len();
    let mut got = vec![false; conns.len()];
    for c in &mut conns[range.clone()] {
        c.write(&[byte]).unwrap_or_else(|e| fail(e));
        c.flush().unwrap_or_else(|e| fail(e));
    }
    let mut buf = Vec::new();
    while pending > 0 {
        poll.poll(&mut events, Some(Duration::from_millis(200))).expect("poll");
        for ev in events.iter() {
            let i = ev.token().0;
            if !range.contains(&i) || got[i] {
                continue;
            }
            buf.clear();
            let c = &mut conns[i];
            c.read(&mut buf).unwrap_or_else(|e| fail(format!("idle connection {i}: {e}")));
            c.flush().unwrap_or_else(|e| fail(e));
            match buf.as_slice() {
                [] if c.peer_closed => fail(format!("idle connection {i} closed by the server")),
                [] => {}
                [b] if *b == byte => {
                    got[i] = true;
                    pending -= 1;
                }
                _ => fail(format!("idle connection {i}: wrong echo")),
            }
        }
    }
}

/// Runs the idle mode.
pub fn run(a: &Args) {
    raise_fd_limit();
    let config = client_config(&a.ca, a.tls12, false);
    let mut poll = Poll::new().expect("poll");
    let mut conns: Vec<Conn> = Vec::with_capacity(a.connections);
    while conns.len() < a.connections {
        let start = conns.len();
        let end = (start + BATCH).min(a.connections);
        for i in start..end {
            let c = Conn::open(poll.registry(), Token(i), server_addr(a.port), &config)
                .unwrap_or_else(|e| fail(format!("opening connection {i}: {e}")));
            conns.push(c);
        }
        echo_all(&mut poll, &mut conns, start..end, 0);
    }
    phase("held");
    std::thread::sleep(a.hold);
    phase("check");
    for start in (0..a.connections).step_by(BATCH) {
        echo_all(&mut poll, &mut conns, start..(start + BATCH).min(a.connections), 1);
    }
    phase("end");
    for c in &mut conns {
        let _ = c.close();
    }
    println!("RESULT mode=idle connections={}", a.connections);
}
