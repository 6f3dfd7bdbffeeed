//! The four measurements. Each prints `PHASE ...` lines around its measured work (so the
//! harness reads the server's counters exactly there) and one `RESULT` line at the end.

pub mod bulk;
pub mod handshake;
pub mod idle;
pub mod latency;

use std::io::Write;
use std::net::SocketAddr;

/// Tells the harness where the measured phase starts or ends; flushed at once because the
/// harness reads the server's counters the moment the line arrives.
pub fn phase(name: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "PHASE {name}");
    let _ = out.flush();
}

/// Prints the machine-readable summary: `RESULT mode=M key=value ...`.
pub fn result(mode: &str, fields: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "RESULT mode={mode} {fields}");
    let _ = out.flush();
}

/// The server under test: loopback only, by design.
pub fn server_addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Fails the run (exit 1): bytes did not check out, or a connection broke.
pub fn fail(why: impl std::fmt::Display) -> ! {
    eprintln!("loadgen: FAILED: {why}");
    std::process::exit(1)
}
