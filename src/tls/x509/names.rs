//! Distinguished names (subject and issuer): their attributes under OpenSSL's short names,
//! the one-line form Node shows, the RFC 2253 form of a `DirName:` alt name, and attribute
//! values decoded as OpenSSL decodes strings.

use super::text::{hex, Text};
use x509_parser::asn1_rs::{Any, Class, ToDer};
use x509_parser::prelude::X509Name;

/// One attribute of a distinguished name.
#[derive(Debug)]
pub(super) struct Attr {
    pub(super) key: String,
    /// OpenSSL knows the attribute type (it dumps unknown ones in RFC 2253 form).
    known: bool,
    /// The value as UTF-8; None when it is no string OpenSSL converts.
    pub(super) value: Option<String>,
    /// OpenSSL's dump of the value: "#" and its DER in hex.
    dump: String,
    pub(super) text: Text,
    /// First attribute of its RDN (the others are joined with '+').
    new_rdn: bool,
}

/// A parsed name with its one-line form kept for C.
#[derive(Debug)]
pub(super) struct Name {
    pub(super) attrs: Vec<Attr>,
    pub(super) line: Text,
}

/// OpenSSL's short names, which Node uses as keys of `subject` and `issuer`.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.4", "SN"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "street"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "title"),
    ("2.5.4.13", "description"),
    ("2.5.4.14", "searchGuide"),
    ("2.5.4.15", "businessCategory"),
    ("2.5.4.16", "postalAddress"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.18", "postOfficeBox"),
    ("2.5.4.19", "physicalDeliveryOfficeName"),
    ("2.5.4.20", "telephoneNumber"),
    ("2.5.4.41", "name"),
    ("2.5.4.42", "GN"),
    ("2.5.4.43", "initials"),
    ("2.5.4.44", "generationQualifier"),
    ("2.5.4.45", "x500UniqueIdentifier"),
    ("2.5.4.46", "dnQualifier"),
    ("2.5.4.54", "dmdName"),
    ("2.5.4.65", "pseudonym"),
    ("2.5.4.72", "role"),
    ("2.5.4.97", "organizationIdentifier"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
    ("1.2.840.113549.1.9.2", "unstructuredName"),
    ("1.2.840.113549.1.9.8", "unstructuredAddress"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("0.9.2342.19200300.100.1.3", "mail"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
    ("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"),
];

/// A string attribute value as OpenSSL's `ASN1_STRING_to_UTF8` converts it.
fn decode_string(any: &Any<'_>) -> Option<String> {
    fn wide(data: &[u8], width: usize) -> Option<String> {
        if !data.len().is_multiple_of(width) {
            return None;
        }
        data.chunks(width).map(|c| char::from_u32(c.iter().fold(0, |a, b| a << 8 | u32::from(*b)))).collect()
    }
    if any.class() != Class::Universal {
        return None;
    }
    match any.tag().0 {
        12 => std::str::from_utf8(any.data).ok().map(str::to_owned),
        // Numeric, Printable, T61, IA5, UTC/GeneralizedTime, Visible: one byte per char.
        18 | 19 | 20 | 22 | 23 | 24 | 26 => Some(any.data.iter().map(|b| char::from(*b)).collect()),
        28 => wide(any.data, 4),
        30 => wide(any.data, 2),
        _ => None,
    }
}

impl Name {
    pub(super) fn parse(name: &X509Name<'_>) -> Name {
        let mut attrs = Vec::new();
        for rdn in name.iter() {
            for (i, atv) in rdn.iter().enumerate() {
                let oid = atv.attr_type().to_id_string();
                let short = SHORT_NAMES.iter().find(|(o, _)| *o == oid).map(|(_, s)| *s);
                let value = decode_string(atv.attr_value());
                let dump = format!("#{}", hex(&atv.attr_value().to_der_vec().unwrap_or_default(), ""));
                let text = Text::new(value.as_ref().unwrap_or(&dump));
                let key = short.map_or(oid, str::to_owned);
                attrs.push(Attr { key, known: short.is_some(), value, dump, text, new_rdn: i == 0 });
            }
        }
        let line = Text::new(&Name::oneline(&attrs));
        Name { attrs, line }
    }

    /// `openssl x509 -nameopt oneline,-space_eq,-esc_msb,utf8`: "C=US, O=x, CN=localhost".
    fn oneline(attrs: &[Attr]) -> String {
        let mut out = String::new();
        for (i, a) in attrs.iter().enumerate() {
            if i > 0 {
                out.push_str(if a.new_rdn { ", " } else { " + " });
            }
            out.push_str(&a.key);
            out.push('=');
            match &a.value {
                Some(v) => out.push_str(&oneline_value(v)),
                None => out.push_str(&a.dump),
            }
        }
        out
    }

    /// RFC 2253 (last RDN first), as Node prints a `DirName:` alt name.
    pub(super) fn rfc2253(&self) -> String {
        let mut out = String::new();
        for (i, a) in self.attrs.iter().enumerate().rev() {
            out.push_str(&a.key);
            out.push('=');
            match (&a.value, a.known) {
                (Some(v), true) => out.push_str(&rfc2253_value(v)),
                _ => out.push_str(&a.dump),
            }
            if i > 0 {
                out.push(if a.new_rdn { ',' } else { '+' });
            }
        }
        out
    }

    pub(super) fn field(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.key == key).map(|a| a.text.as_str())
    }
}

/// OpenSSL's oneline escaping: quotes around values with RFC 2253 specials, `\XX` for
/// control characters, backslash before '"' and '\'.
fn oneline_value(v: &str) -> String {
    let mut quote = v.starts_with(['#', ' ']) || v.ends_with(' ');
    let mut out = String::new();
    for c in v.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ',' | '+' | ';' | '<' | '>' => {
                quote = true;
                out.push(c);
            }
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    if quote {
        format!("\"{out}\"")
    } else {
        out
    }
}

/// RFC 2253 escaping without control or non-ASCII escapes (Node's DirName flags).
fn rfc2253_value(v: &str) -> String {
    let last = v.chars().count().saturating_sub(1);
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, '"' | '\\' | ',' | '+' | ';' | '<' | '>')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::asn1_rs::Tag;

    #[test]
    fn values_are_escaped_as_openssl_and_node_do() {
        assert_eq!(oneline_value("plain"), "plain");
        assert_eq!(oneline_value("Org, Inc."), "\"Org, Inc.\"");
        assert_eq!(oneline_value("a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(oneline_value("a\x01b\x7f"), "a\\01b\\7F");
        assert_eq!(oneline_value("#x"), "\"#x\"");
        assert_eq!(rfc2253_value("plain"), "plain");
        assert_eq!(rfc2253_value(" #a,b+c "), "\\ #a\\,b\\+c\\ ");
        assert_eq!(rfc2253_value("#a"), "\\#a");
        assert_eq!(rfc2253_value("é"), "é");
    }

    #[test]
    fn strings_decode_as_openssl_converts_them() {
        let decode = |tag: u32, data: &[u8]| decode_string(&Any::from_tag_and_data(Tag(tag), data));
        assert_eq!(decode(12, "café".as_bytes()).as_deref(), Some("café"));
        assert_eq!(decode(12, b"\xff").as_deref(), None);
        // T61String: each byte is the character of that code, as OpenSSL maps it.
        assert_eq!(decode(20, b"caf\xe9").as_deref(), Some("café"));
        assert_eq!(decode(30, &[0x4e, 0x2d, 0, b'x']).as_deref(), Some("中x"));
        assert_eq!(decode(30, &[0x4e, 0x2d, 0]).as_deref(), None);
        assert_eq!(decode(28, &[0, 1, 0xf6, 0]).as_deref(), Some("😀"));
        assert_eq!(decode(4, b"octets").as_deref(), None);
    }
}
