//! The extensions Node's object shows: `subjectaltname` (every GeneralName printed as
//! Node's `PrintGeneralName` does, IP addresses included), `infoAccess` and `ext_key_usage`.

use super::names::Name;
use std::borrow::Cow;
use std::net::Ipv4Addr;
use x509_parser::asn1_rs::{Any, Class, FromDer, Oid, Tag};
use x509_parser::prelude::X509Name;

/// otherName types Node prints: OID, label, UTF8String (else IA5String).
const OTHER_NAMES: &[(&str, &str, bool)] = &[
    ("1.3.6.1.5.5.7.8.9", "SmtpUTF8Mailbox", true),
    ("1.3.6.1.5.5.7.8.5", "XmppAddr", true),
    ("1.3.6.1.5.5.7.8.7", "SRVName", false),
    ("1.3.6.1.4.1.311.20.2.3", "UPN", true),
    ("1.3.6.1.5.5.7.8.8", "NAIRealm", true),
];

pub(super) const OID_SAN: &str = "2.5.29.17";
pub(super) const OID_EKU: &str = "2.5.29.37";
pub(super) const OID_AIA: &str = "1.3.6.1.5.5.7.1.1";

/// `infoAccess`: each key ("OCSP - URI") with its values, in the order first seen.
pub(super) type InfoAccess = Vec<(String, Vec<String>)>;

/// Node's `PrintAltName`: safe names verbatim, others as a JSON string with every byte
/// outside printable ASCII (and ',') as `\u00XX`; UTF-8 names keep non-ASCII bytes.
fn alt_name(data: &[u8], utf8: bool, prefix: Option<&str>) -> String {
    let safe = data.iter().all(|&b| match b {
        b'"' | b'\\' | b',' | b'\'' => false,
        _ if utf8 => b >= b' ' && b != 0x7f,
        _ => (b' '..=b'~').contains(&b),
    });
    let prefix = prefix.map(|p| format!("{p}:")).unwrap_or_default();
    if safe {
        return format!("{prefix}{}", String::from_utf8_lossy(data));
    }
    let mut out = format!("\"{prefix}").into_bytes();
    for &b in data {
        match b {
            b'"' | b'\\' => out.extend([b'\\', b]),
            _ if (b' '..=b'~').contains(&b) && b != b',' || utf8 && b >= 0x80 => out.push(b),
            _ => out.extend(format!("\\u{b:04x}").bytes()),
        }
    }
    out.push(b'"');
    String::from_utf8_lossy(&out).into_owned()
}

/// The DER objects one after another in `data`.
fn children(mut data: &[u8]) -> Option<Vec<Any<'_>>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (rest, any) = Any::from_der(data).ok()?;
        out.push(any);
        data = rest;
    }
    Some(out)
}

/// The elements of a DER SEQUENCE.
fn sequence(der: &[u8]) -> Option<Vec<Any<'_>>> {
    let (_, seq) = Any::from_der(der).ok()?;
    if seq.tag() != Tag::Sequence {
        return None;
    }
    children(seq.data)
}

/// One GeneralName as Node's `PrintGeneralName` writes it.
fn general_name(gn: &Any<'_>) -> Option<String> {
    if gn.class() != Class::ContextSpecific {
        return None;
    }
    let d = gn.data;
    Some(match gn.tag().0 {
        0 => {
            let (rest, oid) = Oid::from_der(d).ok()?;
            let (_, explicit) = Any::from_der(rest).ok()?;
            let (_, value) = Any::from_der(explicit.data).ok()?;
            let oid = oid.to_id_string();
            match OTHER_NAMES.iter().find(|(o, _, _)| *o == oid) {
                Some((_, label, utf8))
                    if value.tag() == if *utf8 { Tag::Utf8String } else { Tag::Ia5String } =>
                {
                    format!("othername:{}", alt_name(value.data, *utf8, Some(label)))
                }
                _ => "othername:<unsupported>".into(),
            }
        }
        1 => format!("email:{}", alt_name(d, false, None)),
        2 => format!("DNS:{}", alt_name(d, false, None)),
        3 => "X400Name:<unsupported>".into(),
        4 => {
            let (_, name) = X509Name::from_der(d).ok()?;
            format!("DirName:{}", alt_name(Name::parse(&name).rfc2253().as_bytes(), true, None))
        }
        5 => "EdiPartyName:<unsupported>".into(),
        6 => format!("URI:{}", alt_name(d, false, None)),
        7 => format!("IP Address:{}", san_ip(d)),
        8 => format!("Registered ID:{}", Oid::new(Cow::Borrowed(d)).to_id_string()),
        _ => return None,
    })
}

/// Node prints IPv6 alt names uncompressed, uppercase, without leading zeros.
fn san_ip(raw: &[u8]) -> String {
    match raw.len() {
        4 => Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]).to_string(),
        16 => raw
            .chunks(2)
            .map(|c| format!("{:X}", u16::from_be_bytes([c[0], c[1]])))
            .collect::<Vec<_>>()
            .join(":"),
        n => format!("<invalid length={n}>"),
    }
}

/// Node's `subjectaltname` text; None when a name cannot be decoded.
pub(super) fn subjectaltname(ext_value: &[u8]) -> Option<String> {
    let names = sequence(ext_value)?;
    Some(names.iter().map(general_name).collect::<Option<Vec<_>>>()?.join(", "))
}

/// `infoAccess` as Node builds it: "OCSP - URI:http://x" lines split at the first ':'.
pub(super) fn info_access(ext_value: &[u8]) -> Option<InfoAccess> {
    let mut groups = InfoAccess::new();
    for desc in sequence(ext_value)? {
        let [method, location] = children(desc.data)?.try_into().ok()?;
        let method = Oid::try_from(&method).ok()?.to_id_string();
        let method = match method.as_str() {
            "1.3.6.1.5.5.7.48.1" => "OCSP",
            "1.3.6.1.5.5.7.48.2" => "CA Issuers",
            "1.3.6.1.5.5.7.48.3" => "AD Time Stamping",
            "1.3.6.1.5.5.7.48.5" => "CA Repository",
            other => other,
        };
        let line = format!("{method} - {}", general_name(&location)?);
        let (key, value) = line.split_once(':')?;
        // Node JSON-decodes values it had to quote.
        let value = if value.starts_with('"') { serde_json::from_str(value).ok()? } else { value.to_owned() };
        match groups.iter_mut().find(|(k, _)| k == key) {
            Some((_, vs)) => vs.push(value),
            None => groups.push((key.to_owned(), vec![value])),
        }
    }
    Some(groups)
}

/// The purposes of `extendedKeyUsage` as dotted OIDs, in order.
pub(super) fn ext_key_usage(ext_value: &[u8]) -> Option<Vec<String>> {
    sequence(ext_value)?.iter().map(|o| Oid::try_from(o).ok().map(|o| o.to_id_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_and_quoted_names_print_as_node_does() {
        assert_eq!(san_ip(&[127, 0, 0, 1]), "127.0.0.1");
        assert_eq!(
            san_ip(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            "2001:DB8:0:0:0:0:0:1"
        );
        assert_eq!(san_ip(&[1, 2, 3, 4, 5]), "<invalid length=5>");
        assert_eq!(alt_name(b"a.example", false, None), "a.example");
        assert_eq!(alt_name(b"a,b", false, None), "\"a\\u002cb\"");
        assert_eq!(alt_name(b"x\"y", false, Some("UPN")), "\"UPN:x\\\"y\"");
        assert_eq!(alt_name("é".as_bytes(), true, None), "é");
        assert_eq!(alt_name("é".as_bytes(), false, None), "\"\\u00c3\\u00a9\"");
    }
}
