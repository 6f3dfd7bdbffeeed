//! Command line: `loadgen MODE --port P --ca CA.pem [options]`.

use std::time::Duration;

const USAGE: &str = "\
usage: loadgen MODE --port P --ca CA.pem [options]
  handshake  [--concurrency C] [--duration S] [--count N] [--resume] [--tls12]
  bulk       --direction down|up|echo [--bytes N] [--concurrency C] [--tls12]
  idle       [--connections K] [--hold S] [--tls12]
  latency    [--size B] [--concurrency C] [--duration S] [--tls12]
  every mode: [--timeout S] (exit 3 past it; default 120)";

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
    /// Stop after this many measured handshakes (handshake mode).
    pub count: Option<u64>,
    /// Resume sessions (tickets or session ids) instead of full handshakes.
    pub resume: bool,
    /// Offer only TLS 1.2 (else only TLS 1.3).
    pub tls12: bool,
    /// Bytes per connection (bulk).
    pub bytes: u64,
    /// Bulk direction.
    pub direction: Direction,
    /// Connections to hold (idle).
    pub connections: usize,
    /// How long to hold them.
    pub hold: Duration,
    /// Ping-pong size (latency).
    pub size: usize,
    /// Give up (exit 3) after this long.
    pub timeout: Duration,
}

/// Prints why the command line is wrong, and the usage; exits 2.
fn usage(why: &str) -> ! {
    eprintln!("loadgen: {why}\n{USAGE}");
    std::process::exit(2)
}

fn num<T: std::str::FromStr>(flag: &str, v: &str) -> T {
    v.parse().unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")))
}

fn secs(flag: &str, v: &str) -> Duration {
    let s: f64 = num(flag, v);
    if !(s.is_finite() && s >= 0.0) {
        usage(&format!("{flag}: not a duration: {v}"));
    }
    Duration::from_secs_f64(s)
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
            Some(m) => usage(&format!("unknown mode {m}")),
            None => usage("no mode"),
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
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--resume" => a.resume = true,
                "--tls12" => a.tls12 = true,
                _ => {
                    let v = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
                    let f = flag.as_str();
                    match f {
                        "--port" => a.port = num(f, &v),
                        "--ca" => a.ca = v,
                        "--concurrency" => a.concurrency = num(f, &v),
                        "--duration" => a.duration = secs(f, &v),
                        "--count" => a.count = Some(num(f, &v)),
                        "--bytes" => a.bytes = num(f, &v),
                        "--direction" => {
                            a.direction = match v.as_str() {
                                "down" => Direction::Down,
                                "up" => Direction::Up,
                                "echo" => Direction::Echo,
                                _ => usage("--direction is down, up or echo"),
                            }
                        }
                        "--connections" => a.connections = num(f, &v),
                        "--hold" => a.hold = secs(f, &v),
                        "--size" => a.size = num(f, &v),
                        "--timeout" => a.timeout = secs(f, &v),
                        _ => usage(&format!("unknown option {flag}")),
                    }
                }
            }
        }
        if a.port == 0 || a.ca.is_empty() {
            usage("--port and --ca are required");
        }
        if a.concurrency == 0 || a.size == 0 || a.bytes == 0 || a.connections == 0 {
            usage("--concurrency, --size, --bytes and --connections must be positive");
        }
        a
    }
}
