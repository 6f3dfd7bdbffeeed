//! libuv's answer to descriptor exhaustion: one descriptor held in reserve for the whole
//! process. When `accept` fails with EMFILE or ENFILE, the waiting connections would stay in
//! the backlog, their peers hanging, and an edge-triggered poll would not report them again;
//! instead the reserve is given up, every waiting connection is accepted and closed at once
//! (its peer sees the connection refused), and the reserve is taken back. Nothing is retried
//! in a loop: the next connection raises a new edge, and is served once descriptors are free.

use std::fs::File;
use std::io;
use std::sync::Mutex;

static RESERVE: Mutex<Option<File>> = Mutex::new(None);

fn open_reserve() -> Option<File> {
    File::open("/dev/null").ok()
}

/// Takes the reserve descriptor if none is held (each listener calls it when it starts).
pub fn hold() {
    let mut reserve = RESERVE.lock().unwrap_or_else(|e| e.into_inner());
    if reserve.is_none() {
        *reserve = open_reserve();
    }
}

/// Whether an accept failed for want of descriptors (process or system limit).
pub fn is_exhaustion(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Frees the reserve, then calls `accept_and_close` until it fails (the backlog is empty, or
/// descriptors ran out again), then takes the reserve back. Returns how many connections were
/// refused; `None` when no reserve was held, so nothing could be done.
pub fn refuse_waiting(mut accept_and_close: impl FnMut() -> io::Result<()>) -> Option<usize> {
    let mut reserve = RESERVE.lock().unwrap_or_else(|e| e.into_inner());
    reserve.take()?;
    let mut refused = 0;
    loop {
        match accept_and_close() {
            Ok(()) => refused += 1,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    *reserve = open_reserve();
    Some(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_until_the_backlog_is_empty_and_takes_the_reserve_back() {
        hold();
        let mut waiting = 3;
        let refused = refuse_waiting(|| {
            if waiting == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            waiting -= 1;
            Ok(())
        });
        assert_eq!(refused, Some(3));
        assert!(RESERVE.lock().unwrap().is_some(), "the reserve is held again");
        assert!(is_exhaustion(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(is_exhaustion(&io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!is_exhaustion(&io::Error::from_raw_os_error(libc::ECONNABORTED)));
    }
}
