//! The byte stream every server sends and every check expects: byte i is (i*31+7) % 251.

/// The pattern's byte at stream offset `i`.
pub fn byte_at(i: u64) -> u8 {
    ((i.wrapping_mul(31).wrapping_add(7)) % 251) as u8
}

/// Fills `buf` with the pattern starting at stream offset `from`.
pub fn fill(buf: &mut [u8], from: u64) {
    for (k, b) in buf.iter_mut().enumerate() {
        *b = byte_at(from + k as u64);
    }
}

/// Whether `buf` is the pattern starting at stream offset `from`.
pub fn check(buf: &[u8], from: u64) -> bool {
    buf.iter().enumerate().all(|(k, b)| *b == byte_at(from + k as u64))
}

#[cfg(test)]
mod tests {
    #[test]
    fn periodic_and_checked() {
        let mut a = vec![0; 600];
        super::fill(&mut a, 5);
        assert!(super::check(&a, 5));
        assert!(!super::check(&a, 6));
        assert_eq!(super::byte_at(0), super::byte_at(251));
    }
}
