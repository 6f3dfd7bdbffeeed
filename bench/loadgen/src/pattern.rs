//! The byte stream every server sends and every check expects: byte i is (i*31+7) % 251.
//! The period (251) is prime, so no power-of-two record or buffer size lines up with it and
//! a dropped, repeated or reordered chunk shows.

use std::sync::OnceLock;

const PERIOD: usize = 251;
const SPAN: usize = 64 * 1024;

/// The pattern's byte at stream offset `i`.
pub fn byte_at(i: u64) -> u8 {
    (((i % PERIOD as u64) * 31 + 7) % PERIOD as u64) as u8
}

/// One period plus a span, so any run of up to `SPAN` bytes is one slice of it (memcmp and
/// memcpy speed: the client must stay cheaper than the server it measures).
fn table() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| (0..(PERIOD + SPAN) as u64).map(byte_at).collect())
}

/// Fills `buf` with the pattern starting at stream offset `from`.
pub fn fill(buf: &mut [u8], from: u64) {
    for (k, chunk) in buf.chunks_mut(SPAN).enumerate() {
        let start = ((from + (k * SPAN) as u64) % PERIOD as u64) as usize;
        chunk.copy_from_slice(&table()[start..start + chunk.len()]);
    }
}

/// The index of the first byte of `buf` that is not the pattern at stream offset `from`.
pub fn mismatch(buf: &[u8], from: u64) -> Option<usize> {
    for (k, chunk) in buf.chunks(SPAN).enumerate() {
        let start = ((from + (k * SPAN) as u64) % PERIOD as u64) as usize;
        if chunk != &table()[start..start + chunk.len()] {
            let at = chunk.iter().zip(&table()[start..]).position(|(a, b)| a != b).unwrap_or(0);
            return Some(k * SPAN + at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_and_period() {
        assert_eq!(byte_at(0), 7);
        assert_eq!(byte_at(1), 38);
        assert_eq!(byte_at(9), ((9u32 * 31 + 7) % 251) as u8);
        assert_eq!(byte_at(0), byte_at(251));
        assert_eq!(byte_at(1_000_003), ((1_000_003u64 * 31 + 7) % 251) as u8);
    }

    #[test]
    fn fill_and_check_across_spans() {
        let mut a = vec![0; 3 * SPAN + 17];
        fill(&mut a, 5);
        assert!(a.iter().enumerate().all(|(k, b)| *b == byte_at(5 + k as u64)));
        assert_eq!(mismatch(&a, 5), None);
        assert_eq!(mismatch(&a, 6), Some(0));
        a[2 * SPAN + 3] ^= 1;
        assert_eq!(mismatch(&a, 5), Some(2 * SPAN + 3));
    }
}
