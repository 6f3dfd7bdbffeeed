//! The four measurements. Each prints `PHASE start`/`PHASE end` around its measured work
//! (so the harness reads the server's CPU counters exactly there) and one `RESULT` line.

pub mod bulk;
pub mod handshake;
pub mod idle;
pub mod latency;

use std::io::Write;
use std::net::SocketAddr;

/// Tells the harness where the measured phase starts or ends.
pub fn phase(name: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "PHASE {name}");
    let _ = out.flush();
}

/// The server under test.
pub fn server_addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Fails the run: bytes did not check out, or a connection broke.
pub fn fail(why: impl std::fmt::Display) -> ! {
    eprintln!("loadgen: FAILED: {why}");
    std::process::exit(1)
}
