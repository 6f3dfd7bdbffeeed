//! Command line, the same for every server under test:
//! `bare-server --port P --key KEY.pem --cert CERT.pem [--sink | --source N]`.

/// What the server does with a connection once the handshake is done.
#[derive(Debug, Clone, Copy)]
pub enum Job {
    /// Echo every byte back.
    Echo,
    /// Read and discard.
    Sink,
    /// Send this many bytes of the pattern, then close_notify.
    Source(u64),
}

/// Parsed options.
pub struct Args {
    /// Port on 127.0.0.1 (0: any; the listening line says which).
    pub port: u16,
    /// PEM private key.
    pub key: String,
    /// PEM certificate chain.
    pub cert: String,
    /// Echo, sink or source.
    pub job: Job,
}

fn usage(why: &str) -> ! {
    eprintln!(
        "bare-server: {why}\nusage: bare-server --port P --key KEY.pem --cert CERT.pem [--sink | --source N]"
    );
    std::process::exit(2)
}

impl Args {
    /// Parses `std::env::args()`.
    pub fn parse() -> Args {
        let mut it = std::env::args().skip(1);
        let mut a = Args { port: 0, key: String::new(), cert: String::new(), job: Job::Echo };
        while let Some(flag) = it.next() {
            let mut value = || it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
            match flag.as_str() {
                "--port" => a.port = value().parse().unwrap_or_else(|_| usage("--port: not a port")),
                "--key" => a.key = value(),
                "--cert" => a.cert = value(),
                "--sink" => a.job = Job::Sink,
                "--source" => {
                    a.job = Job::Source(value().parse().unwrap_or_else(|_| usage("--source: not a number")))
                }
                _ => usage(&format!("unknown option {flag}")),
            }
        }
        if a.key.is_empty() || a.cert.is_empty() {
            usage("--key and --cert are required");
        }
        a
    }
}
