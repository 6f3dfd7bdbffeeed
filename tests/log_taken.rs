//! A Rust program that set its own `log` logger before asking for nodetls's callback:
//! the call says `NTLS_EBUSY` and the program's logger keeps the records (a process holds
//! one `log` logger, and nodetls never replaces it).

use std::sync::atomic::{AtomicUsize, Ordering};

static RECORDS: AtomicUsize = AtomicUsize::new(0);

struct ProgramLogger;

impl log::Log for ProgramLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, _: &log::Record<'_>) {
        RECORDS.fetch_add(1, Ordering::SeqCst);
    }
    fn flush(&self) {}
}

static LOGGER: ProgramLogger = ProgramLogger;

unsafe extern "C" fn never(
    _: i32,
    _: *const std::ffi::c_char,
    _: *const std::ffi::c_char,
    _: *mut std::ffi::c_void,
) {
    panic!("nodetls's callback must not replace the program's logger");
}

#[test]
fn an_existing_logger_is_kept() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let status = unsafe {
        nodetls::ffi::logging::ntls_set_log_callback(
            nodetls::ffi::logging::NTLS_LOG_DEBUG,
            Some(never),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(status, nodetls::error::NTLS_EBUSY);
    log::warn!(target: "nodetls::test", "still the program's");
    assert_eq!(RECORDS.load(Ordering::SeqCst), 1);
    assert_eq!(log::max_level(), log::LevelFilter::Trace, "the program's level is left alone");
}
