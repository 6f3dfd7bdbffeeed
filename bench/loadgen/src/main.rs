//! loadgen: rustls clients on one mio loop, measuring a TLS server on 127.0.0.1.
//! Every mode checks the bytes it gets back and gives up after `--timeout`.

mod args;
mod config;
mod conn;
mod limits;
mod modes;
mod pattern;
mod stats;

fn main() {
    let a = args::Args::parse();
    let limit = a.timeout;
    // A watchdog thread, so that no server behaviour can keep the run going forever.
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("loadgen: FAILED: timed out after {limit:?}");
        std::process::exit(3);
    });
    match a.mode {
        args::Mode::Handshake => modes::handshake::run(&a),
        args::Mode::Bulk => modes::bulk::run(&a),
        args::Mode::Idle => modes::idle::run(&a),
        args::Mode::Latency => modes::latency::run(&a),
    }
}
