//! How the certificate's strings are kept and written: with a NUL after each, because
//! the C API hands out pointers to them, and hex as OpenSSL prints it.

/// A string stored with a trailing NUL for C; NULs inside become '?'.
#[derive(Debug)]
pub(super) struct Text(Box<str>);

impl Text {
    pub(super) fn new(s: &str) -> Text {
        let mut t = s.replace('\0', "?");
        t.push('\0');
        Text(t.into())
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0[..self.0.len() - 1]
    }
}

/// Uppercase hex of `bytes`, two digits a byte, joined with `sep`.
pub(super) fn hex(bytes: &[u8], sep: &str) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(sep)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{edge_certs, load};
    use super::*;

    #[test]
    fn strings_end_in_nul_for_c() {
        let t = Text::new("a\0b");
        assert_eq!(t.as_str(), "a?b");
        assert_eq!(t.0.as_bytes(), b"a?b\0");
        assert_eq!(hex(&[0x0a, 0xff], ":"), "0A:FF");
    }

    #[test]
    fn a_certificates_strings_are_handed_out_with_their_nul() {
        let c = load(&edge_certs()[1]);
        let stored =
            [(c.subject(), &c.subject.line), (c.valid_to(), &c.valid_to), (c.fingerprint(), &c.fingerprint)];
        for (s, text) in stored {
            assert_eq!(s.as_ptr(), text.0.as_ptr());
            assert_eq!(text.0.as_bytes()[s.len()], 0);
        }
    }
}
