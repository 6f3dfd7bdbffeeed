//! Command line: `loadgen MODE --port P --ca CA.pem [options]`.

use std::time::Duration;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Connect, handshake, 1-byte echo, close; again and again.
    Handshake,
    /// N bytes per connection in one direction or echoed.
    Bulk,
    /// Hold K established connections.
    Idle,
    /// Ping-pong of B bytes over C connections.
    Latency,
}

/// The direction of a bulk transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The server sends (it runs with `--source N`).
    Down,
    /// The client sends (the server runs with `--sink`).
    Up,
    /// The client sends and checks the echo.
    Echo,
}

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Args {
    /// The mode.
    pub mode: Mode,
    /// Server port on 127.0.0.1.
    pub port: u16,
    /// CA file the server's certificate chains to.
    pub ca: String,
    /// Concurrent connections.
    pub concurrency: usize,
    /// How long the measured phase runs (handshake, latency).
    pub duration: Duration,
    /// Stop after this many handshakes (handshake mode).
    pub count: Option<u64>,
    /// Resume sessions (tickets) instead of full handshakes.
    pub resume: bool,
    /// Offer only TLS 1.2.
    pub tls12: bool,
    /// Bytes per connection (bulk).
    pub bytes: u64,
    /// Bulk direction.
    pub direction: Direction,
    /// Connections to hold (idle).
    pub connections: usize,
    /// Seconds to hold them.
    pub hold: Duration,
    /// Ping-pong size (latency).
    pub size: usize,
    /// Give up (exit 3) after this long.
    pub timeout: Duration,
}

fn usage() -> ! {
    eprintln!(
        "usage: loadgen handshake|bulk|idle|latency --port P --ca CA.pem [--concurrency C] [--duration S]\n\
         \x20      [--count N] [--resume] [--tls12] [--bytes N] [--direction down|up|echo] [--connections K]\n\
         \x20      [--hold S] [--size B] [--timeout S]"
    );
    std::process::exit(2)
}

impl Args {
    /// Parses `std::env::args()`.
    pub fn parse() -> Args {
        let mut it = std::env::args().skip(1);
        let mode = match it.next().as_deref() {
            Some("handshake") => Mode::Handshake,
            Some("bulk") => Mode::Bulk,
            Some("idle") => Mode::Idle,
            Some("latency") => Mode::Latency,
            _ => usage(),
        };
        let mut a = Args {
            mode,
            port: 0,
            ca: String::new(),
            concurrency: 8,
            duration: Duration::from_secs(5),
            count: None,
            resume: false,
            tls12: false,
            bytes: 64 << 20,
            direction: Direction::Echo,
            connections: 1000,
            hold: Duration::from_secs(2),
            size: 64,
            timeout: Duration::from_secs(120),
        };
        let secs = |v: String| Duration::from_secs_f64(v.parse().unwrap_or_else(|_| usage()));
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--resume" => a.resume = true,
                "--tls12" => a.tls12 = true,
                _ => {
                    let v = it.next().unwrap_or_else(|| usage());
                    match flag.as_str() {
                        "--port" => a.port = v.parse().unwrap_or_else(|_| usage()),
                        "--ca" => a.ca = v,
                        "--concurrency" => a.concurrency = v.parse().unwrap_or_else(|_| usage()),
                        "--duration" => a.duration = secs(v),
                        "--count" => a.count = Some(v.parse().unwrap_or_else(|_| usage())),
                        "--bytes" => a.bytes = v.parse().unwrap_or_else(|_| usage()),
                        "--direction" => {
                            a.direction = match v.as_str() {
                                "down" => Direction::Down,
                                "up" => Direction::Up,
                                "echo" => Direction::Echo,
                                _ => usage(),
                            }
                        }
                        "--connections" => a.connections = v.parse().unwrap_or_else(|_| usage()),
                        "--hold" => a.hold = secs(v),
                        "--size" => a.size = v.parse().unwrap_or_else(|_| usage()),
                        "--timeout" => a.timeout = secs(v),
                        _ => usage(),
                    }
                }
            }
        }
        if a.port == 0 || a.ca.is_empty() || a.concurrency == 0 || a.size == 0 {
            usage();
        }
        a
    }
}
