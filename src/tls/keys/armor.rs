//! What `PemObject` does not show: a block's label and its RFC 1421 headers
//! (`Proc-Type`, `DEK-Info`), which decide how a key is decrypted. The base64 itself is
//! always decoded by `PemObject`.

use rustls_pki_types::pem::{self, PemObject, SectionKind};
use zeroize::Zeroizing;

/// One `-----BEGIN <label>-----` block, as written.
pub(super) struct Block<'a> {
    /// The label between `BEGIN ` and the dashes, e.g. `RSA PRIVATE KEY`.
    pub label: &'a str,
    /// `(name, value)` header lines after the BEGIN line.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The text from the BEGIN line to the end of the input.
    text: &'a [u8],
}

impl Block<'_> {
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    /// Decodes the block's base64 with `PemObject`, presenting it under `as_label` (which must
    /// be a label `PemObject` knows) and without its headers, which `PemObject` refuses.
    /// A private key's base64 is the key: `PemObject` gathers it in a buffer it frees without
    /// wiping, so for a key block `PemObject` judges a copy whose base64 letters are masked
    /// (the same lines, the same errors and words) and the real base64 is decoded here, into
    /// memory that is wiped.
    pub fn decode(&self, as_label: &str) -> Result<Zeroizing<Vec<u8>>, pem::Error> {
        let secret = self.label.ends_with("PRIVATE KEY");
        // Rebuilt text may hold an unencrypted key's base64: wiped like the key.
        let mut text = Zeroizing::new(Vec::with_capacity(self.text.len() + 32));
        let mut masked = Vec::with_capacity(if secret { self.text.len() + 32 } else { 0 });
        let mut base64 = Zeroizing::new(Vec::with_capacity(if secret { self.text.len() } else { 0 }));
        let mut body = lines(self.text);
        let begin = body.next().unwrap_or_default();
        // A BEGIN or END line goes to both texts as it is.
        let frame = |text: &mut Vec<u8>, masked: &mut Vec<u8>, line: &[u8]| {
            push_line(text, line.iter().copied());
            if secret {
                push_line(masked, line.iter().copied());
            }
        };
        if as_label == self.label {
            // As written, so PemObject judges the BEGIN line itself.
            frame(&mut text, &mut masked, begin);
        } else {
            frame(&mut text, &mut masked, format!("-----BEGIN {as_label}-----").as_bytes());
        }
        let end = format!("-----END {}-----", self.label);
        for line in body.skip(self.header_lines()) {
            if line.starts_with(end.as_bytes()) {
                frame(&mut text, &mut masked, format!("-----END {as_label}-----").as_bytes());
                break;
            }
            if line.starts_with(b"-----") {
                break; // another block begins: PemObject reports the missing END
            }
            push_line(&mut text, line.iter().copied());
            if secret {
                push_line(&mut masked, line.iter().map(|&b| if is_base64_letter(b) { b'A' } else { b }));
                base64.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
            }
        }
        if !secret {
            let (_, der) = <(SectionKind, Vec<u8>)>::from_pem_slice(&text)?;
            return Ok(Zeroizing::new(der));
        }
        <(SectionKind, Vec<u8>)>::from_pem_slice(&masked)?;
        match decode_base64(&base64) {
            Some(der) => Ok(der),
            // Base64 that PemObject's decoder takes and the base64 crate's refuses (stray bits
            // after the last symbol): PemObject decodes it, unwiped, rather than fail.
            None => <(SectionKind, Vec<u8>)>::from_pem_slice(&text).map(|(_, der)| Zeroizing::new(der)),
        }
    }

    fn header_lines(&self) -> usize {
        lines(self.text).skip(1).take_while(|l| is_header_line(l)).count()
    }
}

fn push_line(out: &mut Vec<u8>, line: impl Iterator<Item = u8>) {
    out.extend(line);
    out.push(b'\n');
}

fn is_base64_letter(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Standard base64 decoded straight into wiped memory (no intermediate buffer).
fn decode_base64(text: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let mut der = Zeroizing::new(vec![0u8; text.len() / 4 * 3 + 3]);
    let n = base64::engine::general_purpose::STANDARD.decode_slice(text, &mut der[..]).ok()?;
    der.truncate(n);
    Some(der)
}

/// Every block in `pem`, in order.
pub(super) fn blocks(pem: &[u8]) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in pem.split(|&b| b == b'\n') {
        let start = offset;
        offset += line.len() + 1;
        let Some(rest) = line.strip_prefix(b"-----BEGIN ") else { continue };
        let label = std::str::from_utf8(rest).unwrap_or("").trim_end().trim_end_matches('-');
        let text = &pem[start..];
        let headers = lines(text)
            .skip(1)
            .take_while(|l| is_header_line(l))
            .filter_map(|l| std::str::from_utf8(l).ok()?.split_once(':'))
            .map(|(n, v)| (n.trim(), v.trim()))
            .collect();
        out.push(Block { label, headers, text });
    }
    out
}

/// Whether `bytes` holds any PEM block at all.
pub(super) fn has_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// A hint for "no <wanted> found": what the input holds instead.
pub(super) fn not_found_hint(bytes: &[u8], wanted: &str) -> &'static str {
    if !has_pem(bytes) {
        return if is_der_sequence(bytes) { " (DER given, PEM expected)" } else { " (no PEM block)" };
    }
    let labels: Vec<&str> = blocks(bytes).iter().map(|b| b.label).collect();
    if wanted != "private key" && labels.iter().any(|l| l.ends_with("PRIVATE KEY")) {
        " (it holds a private key)"
    } else if wanted != "certificate" && labels.contains(&"CERTIFICATE") {
        " (it holds a certificate)"
    } else {
        ""
    }
}

/// Plain words for a PEM syntax error; `label` overrides the one `PemObject` saw when the
/// block was presented under another label.
pub(super) fn words(e: &pem::Error, label: Option<&str>) -> String {
    use pem::Error as E;
    match e {
        E::MissingSectionEnd { end_marker } => {
            let l = label.map_or_else(|| String::from_utf8_lossy(end_marker).into_owned(), str::to_owned);
            format!("missing '-----END {l}-----' line")
        }
        E::IllegalSectionStart { line } => {
            format!("malformed BEGIN line '{}'", String::from_utf8_lossy(line))
        }
        E::Base64Decode(_) => "malformed base64".to_owned(),
        E::NoItemsFound => "no PEM block".to_owned(),
        other => other.to_string(),
    }
}

/// Whether `der` is exactly one complete ASN.1 SEQUENCE: catches truncated or junk blocks
/// whose base64 was fine.
/// The length of the first DER element in `der` (tag, length and contents), if it parses.
pub(super) fn first_der_len(der: &[u8]) -> Option<usize> {
    use pkcs8::der::{asn1::AnyRef, Decode, Reader, SliceReader};
    let mut reader = SliceReader::new(der).ok()?;
    AnyRef::decode(&mut reader).ok()?;
    usize::try_from(u32::from(reader.position())).ok()
}

pub(super) fn is_der_sequence(der: &[u8]) -> bool {
    use pkcs8::der::{asn1::AnyRef, Decode, Tag, Tagged};
    AnyRef::from_der(der).is_ok_and(|any| any.tag() == Tag::Sequence)
}

fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// RFC 1421 header lines hold a colon, which base64 never does. (OpenSSL never folds them.)
fn is_header_line(line: &[u8]) -> bool {
    line.contains(&b':')
}
