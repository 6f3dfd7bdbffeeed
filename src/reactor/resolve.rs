//! Host-name resolution off the reactor thread, so a slow DNS server never stalls a loop.

use super::{Cx, Loop};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// The addresses of `host:port`, handed to `done` on the loop thread. IP literals are
/// answered without a thread.
pub fn resolve<F>(lp: &Loop, cx: &mut Cx<'_>, host: &str, port: u16, done: F)
where
    F: FnOnce(&mut Cx<'_>, std::io::Result<Vec<SocketAddr>>) + Send + 'static,
{
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        done(cx, Ok(vec![SocketAddr::new(ip, port)]));
        return;
    }
    let (lp, host) = (lp.clone(), host.to_owned());
    // Shared so that a failed spawn can still answer instead of losing the callback.
    let done = std::sync::Arc::new(std::sync::Mutex::new(Some(done)));
    let for_thread = done.clone();
    let spawned = std::thread::Builder::new().name("nodetls-dns".into()).spawn(move || {
        let result = (host.as_str(), port).to_socket_addrs().map(|a| a.collect::<Vec<_>>());
        let taken = for_thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(done) = taken {
            let _ = lp.submit(Box::new(move |cx| done(cx, result)));
        }
    });
    if let Err(e) = spawned {
        let taken = done.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(done) = taken {
            done(cx, Err(e));
        }
    }
}
