//! `ntls_set_log_callback`: the library's and rustls's `log` records, handed to the
//! program. The library never installs a logger by itself and never prints; the first
//! call of this function installs ours, and only if the process has none yet.

use super::{guard, UserData};
use crate::error::{NTLS_EBUSY, NTLS_EINVAL, NTLS_EPANIC};
use std::ffi::{c_char, c_int, c_void};
use std::sync::{Mutex, OnceLock};

/// Log level: no records.
pub const NTLS_LOG_OFF: c_int = 0;
/// Log level: errors only.
pub const NTLS_LOG_ERROR: c_int = 1;
/// Log level: warnings and errors.
pub const NTLS_LOG_WARN: c_int = 2;
/// Log level: information and above.
pub const NTLS_LOG_INFO: c_int = 3;
/// Log level: debugging records (rustls's handshake steps) and above.
pub const NTLS_LOG_DEBUG: c_int = 4;
/// Log level: everything.
pub const NTLS_LOG_TRACE: c_int = 5;

/// A log record: `(level, target, message, data)`; `target` names the module that logged
/// (`"rustls::client::hs"`, `"nodetls::reactor::run"`), both strings valid during the call.
pub type ntls_log_cb = Option<
    unsafe extern "C" fn(level: c_int, target: *const c_char, message: *const c_char, data: *mut c_void),
>;

type LogFn = unsafe extern "C" fn(c_int, *const c_char, *const c_char, *mut c_void);

/// The program's callback, copied out for each record so that it is never called with
/// the lock held (a callback may log, or change the callback, itself).
static SINK: Mutex<Option<(LogFn, UserData)>> = Mutex::new(None);

/// Whether our logger is the process's `log` logger (decided once, on the first call).
static INSTALLED: OnceLock<bool> = OnceLock::new();

struct CallbackLogger;

static LOGGER: CallbackLogger = CallbackLogger;

fn level_number(l: log::Level) -> c_int {
    match l {
        log::Level::Error => NTLS_LOG_ERROR,
        log::Level::Warn => NTLS_LOG_WARN,
        log::Level::Info => NTLS_LOG_INFO,
        log::Level::Debug => NTLS_LOG_DEBUG,
        log::Level::Trace => NTLS_LOG_TRACE,
    }
}

fn level_filter(level: c_int) -> log::LevelFilter {
    match level {
        NTLS_LOG_ERROR => log::LevelFilter::Error,
        NTLS_LOG_WARN => log::LevelFilter::Warn,
        NTLS_LOG_INFO => log::LevelFilter::Info,
        NTLS_LOG_DEBUG => log::LevelFilter::Debug,
        NTLS_LOG_TRACE => log::LevelFilter::Trace,
        _ => log::LevelFilter::Off,
    }
}

impl log::Log for CallbackLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        SINK.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    fn log(&self, record: &log::Record<'_>) {
        let Some((f, data)) = *SINK.lock().unwrap_or_else(|e| e.into_inner()) else { return };
        let target = crate::error::cstring(record.target());
        let message = crate::error::cstring(&record.args().to_string());
        // SAFETY: the program's callback, with strings valid for the call.
        unsafe { f(level_number(record.level()), target.as_ptr(), message.as_ptr(), data.0) }
    }

    fn flush(&self) {}
}

/// Sends log records up to `level` (`NTLS_LOG_ERROR` … `NTLS_LOG_TRACE`) to `cb`, from
/// nodetls and from rustls; `NTLS_LOG_OFF` or a NULL `cb` stops them. Without this call
/// nothing is logged and nothing is ever printed. The callback runs on whichever thread
/// logs (mostly a loop thread, sometimes the caller's), possibly on several at once, and
/// must not block. Records go through Rust's `log` crate: the first call installs the
/// library's logger there, which a process can hold only one of; in a Rust program that
/// already set its own `log` logger, this returns `NTLS_EBUSY` and records keep going to
/// that logger. A level outside 0…5 is `NTLS_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn ntls_set_log_callback(level: c_int, cb: ntls_log_cb, data: *mut c_void) -> c_int {
    guard!(NTLS_EPANIC, {
        if !(NTLS_LOG_OFF..=NTLS_LOG_TRACE).contains(&level) {
            return NTLS_EINVAL;
        }
        if !*INSTALLED.get_or_init(|| log::set_logger(&LOGGER).is_ok()) {
            return NTLS_EBUSY;
        }
        let filter = if cb.is_some() { level_filter(level) } else { log::LevelFilter::Off };
        *SINK.lock().unwrap_or_else(|e| e.into_inner()) =
            cb.filter(|_| filter != log::LevelFilter::Off).map(|f| (f, UserData(data)));
        log::set_max_level(filter);
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_both_ways() {
        for n in NTLS_LOG_ERROR..=NTLS_LOG_TRACE {
            let filter = level_filter(n);
            assert_eq!(filter.to_level().map(level_number), Some(n));
        }
        assert_eq!(level_filter(NTLS_LOG_OFF), log::LevelFilter::Off);
    }
}
