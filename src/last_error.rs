//! The words of a handle's last failed call (`ntls_*_last_error`).
//!
//! A pointer the API hands out must never dangle, also while another thread makes the
//! next call fail: every distinct text is kept until the handle is freed, and the last
//! one is what the getter points to. Repeated failures with the same words reuse one
//! copy, so memory grows only with the number of different messages a handle sees.

use std::ffi::{c_char, CString};
use std::sync::Mutex;

/// A handle's error words; each text returned stays valid for the handle's life.
#[derive(Default)]
pub struct LastError {
    words: Mutex<Words>,
}

#[derive(Default)]
struct Words {
    seen: Vec<CString>,
    current: Option<usize>,
}

impl LastError {
    /// Makes `message` the last error's words.
    pub fn set(&self, message: &str) {
        let text = crate::error::cstring(message);
        let mut w = self.words.lock().unwrap_or_else(|e| e.into_inner());
        let index = match w.seen.iter().position(|s| *s == text) {
            Some(i) => i,
            None => {
                w.seen.push(text);
                w.seen.len() - 1
            }
        };
        w.current = Some(index);
    }

    /// The last words as a C string ("" when none), valid as long as `self`.
    pub fn as_ptr(&self) -> *const c_char {
        let w = self.words.lock().unwrap_or_else(|e| e.into_inner());
        // A CString's bytes live on the heap: growing `seen` moves the CString, not them.
        w.current.map_or(c"".as_ptr(), |i| w.seen[i].as_ptr())
    }

    /// The last words as Rust text.
    pub fn text(&self) -> String {
        let w = self.words.lock().unwrap_or_else(|e| e.into_inner());
        w.current.map(|i| w.seen[i].to_string_lossy().into_owned()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::LastError;
    use std::ffi::CStr;

    #[test]
    fn earlier_words_stay_readable_after_later_failures() {
        let e = LastError::default();
        // SAFETY: the pointers come from `e`, which outlives every read below.
        let read = |p| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
        assert_eq!(read(e.as_ptr()), "");
        e.set("first");
        let first = e.as_ptr();
        for i in 0..100 {
            e.set(&format!("failure {i}"));
        }
        assert_eq!(read(first), "first");
        assert_eq!(read(e.as_ptr()), "failure 99");
        e.set("first");
        assert_eq!(e.as_ptr(), first, "the same words share one copy");
        assert_eq!(e.text(), "first");
    }
}
