//! Node's certificate object (`getPeerCertificate()`) and `tls.checkServerIdentity`.
//!
//! Every string is computed once at parse time and kept with a NUL after it, because
//! the C API hands out pointers to them for as long as the object lives. The formats
//! copy Node 20 (which prints names and alt names itself rather than via OpenSSL).

use aws_lc_rs::digest;
use rustls_pki_types::CertificateDer;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use x509_parser::asn1_rs::{Any, Class, FromDer, Oid, Tag, ToDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::{ASN1Time, X509Name};
use x509_parser::public_key::PublicKey;

/// One certificate of a peer's chain, in the shape of Node's certificate object.
///
/// Every `&str` it returns is followed in memory by a NUL byte and holds none inside,
/// so `as_ptr()` of it is a C string valid for as long as the `PeerCert` lives.
#[derive(Debug)]
pub struct PeerCert {
    der: Vec<u8>,
    subject: Name,
    issuer_name: Name,
    /// `None`: no extension; `Some(None)`: present but undecodable (Node gives null).
    subjectaltname: Option<Option<Text>>,
    info_access: Option<Option<InfoAccess>>,
    ca: bool,
    key: Key,
    valid_from: Text,
    valid_to: Text,
    serial: Text,
    fingerprint: Text,
    fingerprint256: Text,
    fingerprint512: Text,
    ext_key_usage: Option<Vec<String>>,
    self_signed: bool,
    issuer: Option<Box<PeerCert>>,
}

/// `infoAccess`: each key ("OCSP - URI") with its values, in the order first seen.
type InfoAccess = Vec<(String, Vec<String>)>;

/// A string stored with a trailing NUL for C; NULs inside become '?'.
#[derive(Debug)]
struct Text(Box<str>);

impl Text {
    fn new(s: &str) -> Text {
        let mut t = s.replace('\0', "?");
        t.push('\0');
        Text(t.into())
    }

    fn as_str(&self) -> &str {
        &self.0[..self.0.len() - 1]
    }
}

#[derive(Debug)]
enum Key {
    Rsa { modulus: String, bits: usize, exponent: String, pubkey: Vec<u8> },
    Ec { bits: u32, pubkey: Vec<u8>, asn1_curve: &'static str, nist_curve: Option<&'static str> },
    Other,
}

/// One attribute of a distinguished name.
#[derive(Debug)]
struct Attr {
    key: String,
    /// OpenSSL knows the attribute type (it dumps unknown ones in RFC 2253 form).
    known: bool,
    /// The value as UTF-8; None when it is no string OpenSSL converts.
    value: Option<String>,
    /// OpenSSL's dump of the value: "#" and its DER in hex.
    dump: String,
    text: Text,
    /// First attribute of its RDN (the others are joined with '+').
    new_rdn: bool,
}

#[derive(Debug)]
struct Name {
    attrs: Vec<Attr>,
    line: Text,
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

/// Named curves: OID, OpenSSL's short name, NIST name, order bits.
const CURVES: &[(&str, &str, Option<&str>, u32)] = &[
    ("1.2.840.10045.3.1.7", "prime256v1", Some("P-256"), 256),
    ("1.3.132.0.34", "secp384r1", Some("P-384"), 384),
    ("1.3.132.0.35", "secp521r1", Some("P-521"), 521),
    ("1.3.132.0.33", "secp224r1", Some("P-224"), 224),
    ("1.2.840.10045.3.1.1", "prime192v1", Some("P-192"), 192),
    ("1.3.132.0.10", "secp256k1", None, 256),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", None, 256),
    ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", None, 384),
    ("1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1", None, 512),
];

/// otherName types Node prints: OID, label, UTF8String (else IA5String).
const OTHER_NAMES: &[(&str, &str, bool)] = &[
    ("1.3.6.1.5.5.7.8.9", "SmtpUTF8Mailbox", true),
    ("1.3.6.1.5.5.7.8.5", "XmppAddr", true),
    ("1.3.6.1.5.5.7.8.7", "SRVName", false),
    ("1.3.6.1.4.1.311.20.2.3", "UPN", true),
    ("1.3.6.1.5.5.7.8.8", "NAIRealm", true),
];

const OID_SAN: &str = "2.5.29.17";
const OID_EKU: &str = "2.5.29.37";
const OID_AIA: &str = "1.3.6.1.5.5.7.1.1";

fn hex(bytes: &[u8], sep: &str) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(sep)
}

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
    fn parse(name: &X509Name<'_>) -> Name {
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
    fn rfc2253(&self) -> String {
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

    /// Node's object: repeated keys become arrays; `None` (Node: undefined) if a value
    /// is not a string.
    fn json(&self) -> Option<String> {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for a in &self.attrs {
            a.value.as_ref()?;
            let v = a.text.as_str();
            match groups.iter_mut().find(|(k, _)| *k == a.key) {
                Some((_, vs)) => vs.push(v),
                None => groups.push((&a.key, vec![v])),
            }
        }
        let mut obj = JsonObject::new();
        for (k, vs) in groups {
            match vs.as_slice() {
                [one] => obj.field(k, *one),
                many => obj.field(k, many),
            }
        }
        Some(obj.finish())
    }

    fn field(&self, key: &str) -> Option<&str> {
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

fn subjectaltname(ext_value: &[u8]) -> Option<String> {
    let names = sequence(ext_value)?;
    Some(names.iter().map(general_name).collect::<Option<Vec<_>>>()?.join(", "))
}

/// `infoAccess` as Node builds it: "OCSP - URI:http://x" lines split at the first ':'.
fn info_access(ext_value: &[u8]) -> Option<InfoAccess> {
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

fn ext_key_usage(ext_value: &[u8]) -> Option<Vec<String>> {
    sequence(ext_value)?.iter().map(|o| Oid::try_from(o).ok().map(|o| o.to_id_string())).collect()
}

/// OpenSSL's `ASN1_TIME_print`: "Jan  1 00:00:00 2020 GMT".
fn openssl_time(t: &ASN1Time) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let d = t.to_datetime();
    let month = MONTHS[usize::from(u8::from(d.month())) - 1];
    format!("{month} {:>2} {:02}:{:02}:{:02} {} GMT", d.day(), d.hour(), d.minute(), d.second(), d.year())
}

/// `BN_bn2hex` of the serial: whole bytes, no leading zero bytes, "-" if negative.
fn serial_hex(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let mut mag = raw.to_vec();
    if negative {
        // Two's complement: invert, then add one from the right.
        mag.iter_mut().for_each(|b| *b = !*b);
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    let start = mag.iter().position(|b| *b != 0).unwrap_or(mag.len());
    match (start == mag.len(), negative) {
        (true, _) => "0".into(),
        (false, true) => format!("-{}", hex(&mag[start..], "")),
        (false, false) => hex(&mag[start..], ""),
    }
}

fn key_info(cert: &X509Certificate<'_>) -> Key {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let n = &rsa.modulus[rsa.modulus.iter().position(|b| *b != 0).unwrap_or(rsa.modulus.len())..];
            let bits = n.first().map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
            let e = &rsa.exponent[rsa.exponent.iter().position(|b| *b != 0).unwrap_or(rsa.exponent.len())..];
            // `BN_get_word` gives all ones when the exponent does not fit a word.
            let e = if e.len() > 8 { u64::MAX } else { e.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)) };
            // Node prints the modulus with `BN_print`: no leading zero digit.
            let modulus = hex(n, "").trim_start_matches('0').to_owned();
            Key::Rsa { modulus, bits, exponent: format!("0x{e:x}"), pubkey: spki.raw.to_vec() }
        }
        Ok(PublicKey::EC(point)) => {
            let curve =
                spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
            match CURVES.iter().find(|c| Some(c.0) == curve.as_deref()) {
                Some(&(_, asn1_curve, nist_curve, bits)) => {
                    Key::Ec { bits, pubkey: point.data().to_vec(), asn1_curve, nist_curve }
                }
                None => Key::Other,
            }
        }
        _ => Key::Other,
    }
}

/// `X509_check_ca() == 1`: basicConstraints says CA and keyUsage, if any, allows certSign.
fn is_ca(cert: &X509Certificate<'_>) -> bool {
    let bc = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    let ku = match cert.key_usage() {
        Ok(Some(ku)) => ku.value.key_cert_sign(),
        Ok(None) => true,
        Err(_) => false,
    };
    bc && ku
}

impl PeerCert {
    /// Parses one DER certificate; Err(message) if it is not a certificate.
    pub fn from_der(der: &[u8]) -> Result<PeerCert, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("not a certificate: {e}"))?;
        let ext = |oid: &str| cert.extensions().iter().find(|e| e.oid.to_id_string() == oid).map(|e| e.value);
        let fp = |alg| Text::new(&hex(digest::digest(alg, der).as_ref(), ":"));
        Ok(PeerCert {
            der: der.to_vec(),
            subject: Name::parse(cert.subject()),
            issuer_name: Name::parse(cert.issuer()),
            subjectaltname: ext(OID_SAN).map(|v| subjectaltname(v).map(|s| Text::new(&s))),
            info_access: ext(OID_AIA).map(info_access),
            ca: is_ca(&cert),
            key: key_info(&cert),
            valid_from: Text::new(&openssl_time(&cert.validity().not_before)),
            valid_to: Text::new(&openssl_time(&cert.validity().not_after)),
            serial: Text::new(&serial_hex(cert.raw_serial())),
            fingerprint: fp(&digest::SHA1_FOR_LEGACY_USE_ONLY),
            fingerprint256: fp(&digest::SHA256),
            fingerprint512: fp(&digest::SHA512),
            ext_key_usage: ext(OID_EKU).and_then(ext_key_usage),
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            issuer: None,
        })
    }

    /// Parses a chain (leaf first); `issuer()` links each to the next, as Node's detailed form does.
    pub fn from_chain(ders: &[CertificateDer<'_>]) -> Result<PeerCert, String> {
        let mut next: Option<Box<PeerCert>> = None;
        for der in ders.iter().rev() {
            let mut cert = PeerCert::from_der(der)?;
            cert.issuer = next.take();
            next = Some(Box::new(cert));
        }
        next.map(|b| *b).ok_or_else(|| "empty certificate chain".to_owned())
    }

    /// The subject in one line, as `openssl x509 -nameopt oneline` without spaces around '='.
    pub fn subject(&self) -> &str {
        self.subject.line.as_str()
    }

    /// The issuer's name in the same one-line form.
    pub fn issuer_name(&self) -> &str {
        self.issuer_name.line.as_str()
    }

    /// One subject attribute by Node's key (`"CN"`, `"O"`, ...); the first if repeated.
    pub fn subject_field(&self, key: &str) -> Option<&str> {
        self.subject.field(key)
    }

    /// One issuer attribute by Node's key; the first if repeated.
    pub fn issuer_field(&self, key: &str) -> Option<&str> {
        self.issuer_name.field(key)
    }

    /// Node's `subjectaltname`: "DNS:localhost, IP Address:127.0.0.1"; None without the extension.
    pub fn subjectaltname(&self) -> Option<&str> {
        self.subjectaltname.as_ref()?.as_ref().map(Text::as_str)
    }

    /// `valid_from`: "Jan  1 00:00:00 2020 GMT".
    pub fn valid_from(&self) -> &str {
        self.valid_from.as_str()
    }

    /// `valid_to`, in the same form.
    pub fn valid_to(&self) -> &str {
        self.valid_to.as_str()
    }

    /// `serialNumber`: uppercase hex without leading zero bytes.
    pub fn serial_number(&self) -> &str {
        self.serial.as_str()
    }

    /// `fingerprint`: SHA-1 of the DER, uppercase hex with ':'.
    pub fn fingerprint(&self) -> &str {
        self.fingerprint.as_str()
    }

    /// `fingerprint256`: SHA-256, same form.
    pub fn fingerprint256(&self) -> &str {
        self.fingerprint256.as_str()
    }

    /// `fingerprint512`: SHA-512, same form.
    pub fn fingerprint512(&self) -> &str {
        self.fingerprint512.as_str()
    }

    /// The certificate's DER bytes (`raw`).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `ca`: OpenSSL's `X509_check_ca() == 1`.
    pub fn ca(&self) -> bool {
        self.ca
    }

    /// The next certificate of the chain (`issuerCertificate`); None for the last or non-detailed.
    pub fn issuer(&self) -> Option<&PeerCert> {
        self.issuer.as_deref()
    }

    /// Node's object as JSON, keys in Node's order; `raw` and `pubkey` (Buffers in Node)
    /// are base64. `detailed` adds `issuerCertificate`; a self-signed last certificate
    /// (Node: a reference to itself) gets its own object once, without recursing.
    pub fn to_json(&self, detailed: bool) -> String {
        let mut o = JsonObject::new();
        if let Some(s) = self.subject.json() {
            o.raw("subject", &s);
        }
        if let Some(s) = self.issuer_name.json() {
            o.raw("issuer", &s);
        }
        match &self.subjectaltname {
            Some(Some(san)) => o.field("subjectaltname", san.as_str()),
            Some(None) => o.raw("subjectaltname", "null"),
            None => {}
        }
        match &self.info_access {
            Some(Some(groups)) => {
                let mut info = JsonObject::new();
                groups.iter().for_each(|(k, vs)| info.field(k, vs.as_slice()));
                o.raw("infoAccess", &info.finish());
            }
            Some(None) => o.raw("infoAccess", "null"),
            None => {}
        }
        o.field("ca", self.ca);
        match &self.key {
            Key::Rsa { modulus, bits, exponent, pubkey } => {
                o.field("modulus", modulus.as_str());
                o.field("bits", *bits);
                o.field("exponent", exponent.as_str());
                o.field("pubkey", base64(pubkey));
            }
            Key::Ec { bits, pubkey, asn1_curve, nist_curve } => {
                o.field("bits", *bits);
                o.field("pubkey", base64(pubkey));
                o.field("asn1Curve", *asn1_curve);
                if let Some(nist) = nist_curve {
                    o.field("nistCurve", *nist);
                }
            }
            Key::Other => {}
        }
        o.field("valid_from", self.valid_from());
        o.field("valid_to", self.valid_to());
        o.field("fingerprint", self.fingerprint());
        o.field("fingerprint256", self.fingerprint256());
        o.field("fingerprint512", self.fingerprint512());
        if let Some(eku) = &self.ext_key_usage {
            o.field("ext_key_usage", eku.as_slice());
        }
        o.field("serialNumber", self.serial_number());
        o.field("raw", base64(&self.der));
        if detailed {
            match (&self.issuer, self.self_signed) {
                (Some(next), _) => o.raw("issuerCertificate", &next.to_json(true)),
                (None, true) => o.raw("issuerCertificate", &self.to_json(false)),
                (None, false) => {}
            }
        }
        o.finish()
    }
}

/// A JSON object written in insertion order (serde_json's map would sort the keys).
struct JsonObject(String);

impl JsonObject {
    fn new() -> Self {
        JsonObject(String::from("{"))
    }

    fn raw(&mut self, key: &str, json: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&serde_json::Value::from(key).to_string());
        self.0.push(':');
        self.0.push_str(json);
    }

    fn field(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.raw(key, &value.into().to_string());
    }

    fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= c.len() { char::from(T[(n >> (18 - 6 * i) & 63) as usize]) } else { '=' });
        }
    }
    out
}

/// Node's `unfqdn`: one trailing dot removed.
fn unfqdn(host: &str) -> &str {
    host.strip_suffix('.').unwrap_or(host)
}

/// Node's `splitHost`: only A-Z are lowercased, as Node avoids locale rules.
fn split_host(host: &str) -> Vec<String> {
    unfqdn(host).to_ascii_lowercase().split('.').map(str::to_owned).collect()
}

/// Node's `check(hostParts, pattern, true)`.
fn check(host_parts: &[String], pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern_parts = split_host(pattern);
    if host_parts.len() != pattern_parts.len() || pattern_parts.iter().any(String::is_empty) {
        return false;
    }
    // U-labels, blanks and control characters are never matched.
    if pattern_parts.iter().any(|p| p.chars().any(|c| !('\u{21}'..='\u{7f}').contains(&c))) {
        return false;
    }
    if host_parts[1..] != pattern_parts[1..] {
        return false;
    }
    let (host_sub, pattern_sub) = (&host_parts[0], &pattern_parts[0]);
    let pieces: Vec<&str> = pattern_sub.split('*').collect();
    // No wildcard substitution inside A-labels (RFC 6125 6.4.3).
    if pieces.len() == 1 || pattern_sub.contains("xn--") {
        return host_sub == pattern_sub;
    }
    // One wildcard at most, and never directly under a top-level domain.
    if pieces.len() > 2 || pattern_parts.len() <= 2 {
        return false;
    }
    let (prefix, suffix) = (pieces[0], pieces[1]);
    prefix.len() + suffix.len() <= host_sub.encode_utf16().count()
        && host_sub.starts_with(prefix)
        && host_sub.ends_with(suffix)
}

/// Node's `net.isIP` (IPv6 may carry a zone) parsed the way `canonicalizeIP` does.
fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    let (addr, zone) = s.split_once('%').map_or((s, None), |(a, z)| (a, Some(z)));
    if zone
        .is_some_and(|z| z.is_empty() || !z.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b)))
    {
        return None;
    }
    addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// libuv's `inet_ntop`, which Node's `canonicalizeIP` uses for its error messages.
fn canonical_ip(ip: IpAddr) -> String {
    let v6 = match ip {
        IpAddr::V4(v4) => return v4.to_string(),
        IpAddr::V6(v6) => v6,
    };
    let w = v6.segments();
    let (mut best, mut cur) = ((0, 0), (0, 0));
    for (i, word) in w.iter().enumerate() {
        if *word != 0 {
            cur = (i + 1, 0);
            continue;
        }
        cur.1 += 1;
        if cur.1 > best.1 {
            best = cur;
        }
    }
    let join = |ws: &[u16]| ws.iter().map(|x| format!("{x:x}")).collect::<Vec<_>>().join(":");
    if best.0 == 0 && (best.1 == 6 || best.1 == 5 && w[5] == 0xffff) {
        let o = v6.octets();
        let ffff = if best.1 == 5 { "ffff:" } else { "" };
        return format!("::{ffff}{}", Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if best.1 < 2 {
        return join(&w);
    }
    format!("{}::{}", join(&w[..best.0]), join(&w[best.0 + best.1..]))
}

/// Length of the JSON string literal at the start of `s` (Node's `jsonStringPattern`).
fn json_literal_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => match b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                _ => return None,
            },
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
    None
}

/// Node's `splitEscapedAltNames`: ", "-separated, with JSON strings where names needed quoting.
fn split_alt_names(s: &str) -> Option<Vec<String>> {
    if !s.contains('"') {
        return Some(s.split(", ").map(str::to_owned).collect());
    }
    let (mut out, mut token, mut rest) = (Vec::new(), String::new(), s);
    while !rest.is_empty() {
        let (sep, quote) = (rest.find(','), rest.find('"'));
        match (sep, quote) {
            (_, Some(q)) if sep.is_none_or(|c| q < c) => {
                token.push_str(&rest[..q]);
                let len = json_literal_len(&rest[q..])?;
                token.push_str(&serde_json::from_str::<String>(&rest[q..q + len]).ok()?);
                rest = &rest[q + len..];
            }
            (Some(c), _) => {
                token.push_str(&rest[..c]);
                out.push(std::mem::take(&mut token));
                rest = rest.get(c + 2..).unwrap_or("");
            }
            (None, _) => {
                token.push_str(rest);
                rest = "";
            }
        }
    }
    out.push(token);
    Some(out)
}

/// Node's `checkServerIdentity` on a subject's CN values and a `subjectaltname` string.
fn identity(hostname: &str, cns: &[&str], alt_names: Option<&str>) -> Result<(), String> {
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    if let Some(alt) = alt_names.filter(|a| !a.is_empty()) {
        let names = split_alt_names(alt).ok_or("Invalid subject alternative name string")?;
        for name in names {
            if let Some(d) = name.strip_prefix("DNS:") {
                dns.push(d.to_owned());
            } else if let Some(ip) = name.strip_prefix("IP Address:") {
                ips.push(parse_ip(ip));
            }
        }
    }
    let host = unfqdn(hostname);
    // Node's `subject.CN` is a string (truthy unless empty) or, when repeated, an array.
    let has_cn = cns.len() > 1 || cns.first().is_some_and(|c| !c.is_empty());
    if let Some(ip) = parse_ip(host) {
        if ips.contains(&Some(ip)) {
            return Ok(());
        }
        let list: Vec<String> = ips.iter().map(|i| i.map(canonical_ip).unwrap_or_default()).collect();
        return Err(format!("IP: {host} is not in the cert's list: {}", list.join(", ")));
    }
    if dns.is_empty() && !has_cn {
        return Err("Cert does not contain a DNS name".into());
    }
    let host_parts = split_host(host);
    if !dns.is_empty() {
        if dns.iter().any(|d| check(&host_parts, d)) {
            return Ok(());
        }
        return Err(format!("Host: {host}. is not in the cert's altnames: {}", alt_names.unwrap_or("")));
    }
    if cns.iter().any(|cn| check(&host_parts, cn)) {
        return Ok(());
    }
    Err(format!("Host: {host}. is not cert's CN: {}", cns.join(",")))
}

/// Host-name check with Node's `tls.checkServerIdentity` rules; Err is Node's `reason`
/// (its message is "Hostname/IP does not match certificate's altnames: " + reason).
pub fn check_server_identity(hostname: &str, cert: &PeerCert) -> Result<(), String> {
    // Node sees no subject at all when a value is not a string.
    let attrs = &cert.subject.attrs;
    let cns: Vec<&str> = if attrs.iter().all(|a| a.value.is_some()) {
        attrs.iter().filter(|a| a.key == "CN").map(|a| a.text.as_str()).collect()
    } else {
        Vec::new()
    };
    identity(hostname, &cns, cert.subjectaltname())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::OnceLock;

    const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs");
    const GEN_CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-certs.sh");

    /// The certificates of gen-certs.sh this module reads.
    const FILES: &[&str] = &[
        "ca-cert.pem",
        "server-rsa-cert.pem",
        "server-ec-cert.pem",
        "server-ed25519-cert.pem",
        "client-cert.pem",
        "wronghost-cert.pem",
        "inter-cert.pem",
        "server-chained-cert.pem",
        "selfsigned-cert.pem",
        "expired-cert.pem",
    ];

    fn certs() -> &'static Path {
        static DONE: OnceLock<()> = OnceLock::new();
        DONE.get_or_init(|| {
            if !Path::new(CERTS).join(".complete").exists() {
                let ok = Command::new("bash").args([GEN_CERTS, CERTS]).status().expect("bash runs");
                assert!(ok.success(), "gen-certs.sh failed");
            }
        });
        Path::new(CERTS)
    }

    fn run(cmd: &mut Command) -> String {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn openssl(args: &[&str]) -> String {
        run(Command::new("openssl").args(args))
    }

    fn node(script: &str, args: &[&str]) -> String {
        run(Command::new("node").arg("-e").arg(script).arg("--").args(args))
    }

    fn load(path: &Path) -> PeerCert {
        let der = CertificateDer::from_pem_file(path).unwrap_or_else(|e| panic!("{path:?}: {e:?}"));
        PeerCert::from_der(&der).unwrap()
    }

    fn chain(paths: &[&Path]) -> Vec<CertificateDer<'static>> {
        paths.iter().flat_map(|p| CertificateDer::pem_file_iter(p).unwrap().map(Result::unwrap)).collect()
    }

    /// A SAN extension (DER) with every kind of GeneralName and every escape Node makes:
    /// DNS names with quotes, backslash, control and non-ASCII bytes; email and URI with
    /// commas; a 5-byte IP; an IPv4-compatible IPv6; otherNames known, unknown and of the
    /// wrong string type; a registered ID; a DirName needing RFC 2253 escapes and a dump;
    /// X400 and EDI party names; an empty DNS name.
    const ODD_SAN: &str =
        "3082011e820761276222635c64820963746c017fc3a92e788105782c79407a860c687474703a2f2f61\
        2f622c6387050102030405871000000000000000000000000001020304a01506082b06010505070805a0090c07636166c3\
        a92c78a01806082b06010505070807a00c160a5f782e6578616d706c65a00a06022a03a0040c027a7aa013060a2b060104\
        018237140203a005160375706ea015060a2b060104018237140203a0070c05752270026e88062a864886f70da44a304831\
        0b3009060355040613025553311b300c060355040a0c05612c622b63300b060355040b0c04206f7523310c300a06032a03\
        040c0376c3a9310e300c06035504030c052378017920a3023000a505a1030c0170871020010db800000000000000000000\
        00008200";

    /// Unusual certificates made with openssl, kept in target/ like gen-certs.sh's.
    fn edge_certs() -> &'static [PathBuf] {
        static PATHS: OnceLock<Vec<PathBuf>> = OnceLock::new();
        PATHS.get_or_init(|| {
            let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/target/x509-edge-certs-v1"));
            let all_attrs = "/CN=c/SN=sur/serialNumber=1/C=US/L=l/ST=st/street=s/O=o/OU=ou/title=t/description=d\
                /businessCategory=b/postalCode=p/postOfficeBox=1/telephoneNumber=1/name=n/GN=g/initials=i\
                /generationQualifier=q/dnQualifier=dq/pseudonym=ps/role=r/organizationIdentifier=oi\
                /emailAddress=e@x/unstructuredName=un/UID=u/DC=dc/jurisdictionC=US/jurisdictionST=js\
                /jurisdictionL=jl/x500UniqueIdentifier=xu/mail=m@x/postalAddress=pa\
                /physicalDeliveryOfficeName=pdo/searchGuide=sg/dmdName=dm/unstructuredAddress=ua";
            let san = format!("subjectAltName=DER:{ODD_SAN}");
            let mask = "MASK";
            let cases: Vec<(&str, Vec<&str>)> = vec![
                ("edge", vec![
                    "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-multivalue-rdn",
                    "-subj", "/C=DE/ST=Bayern/L=München/O=Org, Inc./OU=a/OU=b/CN=edge+UID=u1/emailAddress=x@y.z",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=digitalSignature",
                    "-addext", "extendedKeyUsage=clientAuth,serverAuth,codeSigning,1.2.3.4.5",
                    "-addext", "subjectAltName=DNS:*.example.com,IP:10.0.0.1,IP:2001:db8::1,email:a@b.c,URI:https://u/",
                    "-addext", "authorityInfoAccess=OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/c.crt,\
                        OCSP;URI:http://ocsp2.example/,1.3.6.1.5.5.7.48.5;URI:http://repo.example/,\
                        1.3.6.1.5.5.7.48.3;URI:http://ts.example/,1.2.3.4;IP:1.2.3.4,OCSP;email:o@example",
                ]),
                ("odd-san", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", "/CN=san",
                    "-addext", &san, "-set_serial", "0x80"]),
                ("tricky", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-multivalue-rdn",
                    "-subj", "/O=a\"b/OU=x\\\\y/OU= lead/L=#hash/ST=semi;colon<>/CN=a+CN=b/title=trail /C=ZZ",
                    "-set_serial", "0"]),
                // T61String, BMPString and control characters in names.
                ("strings", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-config", mask,
                    "-subj", "/CN=café/O=中x/OU=😀/L=a\x01b\x7fc/ST=plain"]),
                ("attrs", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", all_attrs]),
                ("rsa1025", vec!["-newkey", "rsa:1025", "-pkeyopt", "rsa_keygen_pubexp:3", "-subj", "/CN=r",
                    "-set_serial", "-5"]),
                ("k1", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-subj", "/CN=k",
                    "-addext", "extendedKeyUsage=serverAuth", "-addext", "subjectAltName=DNS:x,DNS:y"]),
            ];
            if !dir.join(".complete").exists() {
                // Made aside and renamed into place, so a concurrent run never sees half a set.
                let tmp = dir.with_extension(std::process::id().to_string());
                std::fs::create_dir_all(&tmp).unwrap();
                let mask_file = tmp.join("mask.cnf");
                std::fs::write(&mask_file, "[req]\ndistinguished_name=dn\nstring_mask=default\n[dn]\n").unwrap();
                for (name, args) in &cases {
                    let mut cmd = Command::new("openssl");
                    cmd.args(["req", "-x509", "-nodes", "-days", "3650", "-utf8", "-keyout"])
                        .arg(tmp.join(format!("{name}-key.pem")))
                        .arg("-out")
                        .arg(tmp.join(format!("{name}.pem")));
                    for a in args {
                        if *a == mask { cmd.arg(&mask_file) } else { cmd.arg(a) };
                    }
                    run(&mut cmd);
                }
                std::fs::write(tmp.join(".complete"), "").unwrap();
                if !dir.join(".complete").exists() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                if std::fs::rename(&tmp, dir).is_err() {
                    std::fs::remove_dir_all(&tmp).unwrap();
                }
            }
            cases.iter().map(|(name, _)| dir.join(format!("{name}.pem"))).collect()
        })
    }

    fn all_files() -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = FILES.iter().map(|f| certs().join(f)).collect();
        files.extend(edge_certs().iter().cloned());
        files
    }

    #[test]
    fn fields_match_openssl() {
        for path in all_files() {
            let p = path.to_str().unwrap();
            let c = load(&path);
            let show = |args: &[&str]| {
                let mut a = vec!["x509", "-in", p, "-noout", "-nameopt", "oneline,-space_eq,-esc_msb,utf8"];
                a.extend(args);
                openssl(&a).trim_end().to_owned()
            };
            assert_eq!(show(&["-subject"]), format!("subject={}", c.subject()), "{p}");
            assert_eq!(show(&["-issuer"]), format!("issuer={}", c.issuer_name()), "{p}");
            assert_eq!(show(&["-startdate"]), format!("notBefore={}", c.valid_from()), "{p}");
            assert_eq!(show(&["-enddate"]), format!("notAfter={}", c.valid_to()), "{p}");
            // OpenSSL writes a zero serial as "00", Node as "0".
            let serial = show(&["-serial"]).replace("serial=00", "serial=0");
            assert_eq!(serial, format!("serial={}", c.serial_number()), "{p}");
            assert_eq!(show(&["-fingerprint", "-sha1"]), format!("sha1 Fingerprint={}", c.fingerprint()));
            assert_eq!(
                show(&["-fingerprint", "-sha256"]),
                format!("sha256 Fingerprint={}", c.fingerprint256())
            );
            assert_eq!(
                show(&["-fingerprint", "-sha512"]),
                format!("sha512 Fingerprint={}", c.fingerprint512())
            );
            if FILES.iter().any(|f| p.ends_with(f)) {
                // OpenSSL's own text equals Node's for ordinary names.
                let san = show(&["-ext", "subjectAltName"]);
                assert_eq!(san.lines().nth(1).map(str::trim), c.subjectaltname(), "{p}");
            }
            assert_eq!(c.der(), CertificateDer::from_pem_file(&path).unwrap().as_ref());
        }
        let rsa = load(&certs().join("server-rsa-cert.pem"));
        assert_eq!(rsa.subject(), "C=US, O=nodetls test, CN=localhost");
        assert_eq!(rsa.issuer_name(), "C=US, O=nodetls test, CN=nodetls Test CA");
        assert_eq!(rsa.subject_field("CN"), Some("localhost"));
        assert_eq!(rsa.subject_field("OU"), None);
        assert_eq!(rsa.issuer_field("O"), Some("nodetls test"));
        assert_eq!(
            rsa.subjectaltname(),
            Some("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1")
        );
        assert!(!rsa.ca() && load(&certs().join("ca-cert.pem")).ca());
        assert_eq!(load(&certs().join("ca-cert.pem")).subjectaltname(), None);
        assert_eq!(load(&certs().join("expired-cert.pem")).valid_from(), "Jan  1 00:00:00 2020 GMT");
    }

    /// Node's own object for each file: `toLegacyObject()` is what `getPeerCertificate()` returns.
    const NODE_OBJECT: &str = "const {X509Certificate} = require('crypto'), fs = require('fs');
        for (const p of process.argv.slice(1)) {
          const o = new X509Certificate(fs.readFileSync(p)).toLegacyObject();
          for (const k of ['pubkey', 'raw']) if (o[k]) o[k] = o[k].toString('base64');
          console.log(JSON.stringify(o));
        }";

    #[test]
    fn json_is_nodes_object() {
        let files = all_files();
        let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
        let out = node(NODE_OBJECT, &paths);
        let node_lines: Vec<&str> = out.lines().collect();
        assert_eq!(node_lines.len(), files.len());
        for (path, expected) in files.iter().zip(node_lines) {
            assert_eq!(load(path).to_json(false), expected, "{path:?}");
        }
    }

    #[test]
    fn chain_links_like_nodes_detailed_form() {
        let dir = certs();
        let served = dir.join("server-chained-chain.pem");
        let c = PeerCert::from_chain(&chain(&[&served])).unwrap();
        assert_eq!(c.issuer().unwrap().subject_field("CN"), Some("nodetls Intermediate"));
        assert!(c.issuer().unwrap().issuer().is_none());
        assert!(PeerCert::from_chain(&[]).is_err());
        assert!(PeerCert::from_der(b"\x30\x03\x02\x01\x01").is_err());

        // A self-signed certificate is its own issuer in Node: given once here.
        let own = PeerCert::from_chain(&chain(&[&dir.join("selfsigned-cert.pem")])).unwrap();
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(parse(&own.to_json(true))["issuerCertificate"], parse(&own.to_json(false)));

        // Node's detailed object over a real connection: leaf, intermediate, CA, then the CA again.
        let script = "const tls = require('tls'), fs = require('fs'), d = process.argv[1];
            const plain = (o) => {
              const c = { ...o };
              for (const k of ['pubkey', 'raw']) if (c[k]) c[k] = c[k].toString('base64');
              if (o.issuerCertificate === o) c.issuerCertificate = plain({ ...o, issuerCertificate: undefined });
              else if (o.issuerCertificate) c.issuerCertificate = plain(o.issuerCertificate);
              return c;
            };
            const key = fs.readFileSync(d + '/server-chained-key.pem');
            const srv = tls.createServer({ key, cert: fs.readFileSync(d + '/server-chained-chain.pem') }, (s) => s.end());
            srv.listen(0, '127.0.0.1', () => {
              const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', servername: 'localhost',
                                      ca: fs.readFileSync(d + '/ca-cert.pem') }, () => {
                console.log(JSON.stringify(plain(c.getPeerCertificate(true))));
                c.destroy(); srv.close();
              });
            });";
        let expected = node(script, &[dir.to_str().unwrap()]);
        let full = PeerCert::from_chain(&chain(&[&served, &dir.join("ca-cert.pem")])).unwrap();
        assert_eq!(full.to_json(true), expected.trim_end());
    }

    #[test]
    fn strings_end_in_nul_for_c() {
        let t = Text::new("a\0b");
        assert_eq!(t.as_str(), "a?b");
        assert_eq!(t.0.as_bytes(), b"a?b\0");
        let c = load(&edge_certs()[1]);
        let stored =
            [(c.subject(), &c.subject.line), (c.valid_to(), &c.valid_to), (c.fingerprint(), &c.fingerprint)];
        for (s, text) in stored {
            assert_eq!(s.as_ptr(), text.0.as_ptr());
            assert_eq!(text.0.as_bytes()[s.len()], 0);
        }
    }

    /// Node's own test table (test/parallel/test-tls-check-server-identity.js, Node 20), the
    /// cases with a string host: host, subject CN values, subjectaltname, Node's `reason`.
    type Case = (&'static str, &'static [&'static str], Option<&'static str>, Option<&'static str>);
    const NODE_TABLE: &[Case] = &[
        ("a.com", &["a.com"], None, None),
        ("a.com", &["A.COM"], None, None),
        ("a.com", &["b.com"], None, Some("Host: a.com. is not cert's CN: b.com")),
        ("a.com", &["a.com."], None, None),
        ("a.com", &[".a.com"], None, Some("Host: a.com. is not cert's CN: .a.com")),
        ("8.8.8.8", &["8.8.8.8"], None, Some("IP: 8.8.8.8 is not in the cert's list: ")),
        ("8.8.8.8", &["8.8.8.8"], Some("DNS:8.8.8.8"), Some("IP: 8.8.8.8 is not in the cert's list: ")),
        (
            "8.8.8.8",
            &["8.8.8.8"],
            Some("URI:http://8.8.8.8/"),
            Some("IP: 8.8.8.8 is not in the cert's list: "),
        ),
        ("8.8.8.8", &["8.8.8.8"], Some("IP Address:8.8.8.8"), None),
        (
            "8.8.8.8",
            &["8.8.8.8"],
            Some("IP Address:8.8.8.0/24"),
            Some("IP: 8.8.8.8 is not in the cert's list: "),
        ),
        ("b.a.com", &["*.a.com"], None, None),
        ("ba.com", &["*.a.com"], None, Some("Host: ba.com. is not cert's CN: *.a.com")),
        ("\n.b.com", &["*n.b.com"], None, Some("Host: \n.b.com. is not cert's CN: *n.b.com")),
        (
            "b.a.com",
            &["*.a.com"],
            Some("DNS:omg.com"),
            Some("Host: b.a.com. is not in the cert's altnames: DNS:omg.com"),
        ),
        ("b.a.com", &["b*b.a.com"], None, Some("Host: b.a.com. is not cert's CN: b*b.a.com")),
        ("a.com", &[], None, Some("Cert does not contain a DNS name")),
        ("a.com", &[], Some("DNS:a.com"), None),
        ("a.b.a.com", &[], Some("URI:http://a.b.a.com/"), Some("Cert does not contain a DNS name")),
        ("foo.com", &["foo.com", "bar.com"], None, None),
        ("a.com", &["b.com"], Some("DNS:*"), Some("Host: a.com. is not in the cert's altnames: DNS:*")),
        (
            "a.com",
            &["b.com"],
            Some("DNS:*.com"),
            Some("Host: a.com. is not in the cert's altnames: DNS:*.com"),
        ),
        ("a.co.uk", &["b.com"], Some("DNS:*.co.uk"), None),
        (
            "a.com",
            &["a.com"],
            Some("DNS:*.a.com"),
            Some("Host: a.com. is not in the cert's altnames: DNS:*.a.com"),
        ),
        (
            "a.com",
            &["b.com"],
            Some("DNS:*.a.com"),
            Some("Host: a.com. is not in the cert's altnames: DNS:*.a.com"),
        ),
        ("a.com", &["b.com"], Some("DNS:a.com"), None),
        ("a.com", &["b.com"], Some("DNS:A.COM"), None),
        ("a.com", &[], Some("DNS:*.a.com"), Some("Host: a.com. is not in the cert's altnames: DNS:*.a.com")),
        ("b.a.com", &[], Some("DNS:*.a.com"), None),
        (
            "c.b.a.com",
            &[],
            Some("DNS:*.a.com"),
            Some("Host: c.b.a.com. is not in the cert's altnames: DNS:*.a.com"),
        ),
        ("b.a.com", &[], Some("DNS:*b.a.com"), None),
        ("a-cb.a.com", &[], Some("DNS:*b.a.com"), None),
        (
            "a.b.a.com",
            &[],
            Some("DNS:*b.a.com"),
            Some("Host: a.b.a.com. is not in the cert's altnames: DNS:*b.a.com"),
        ),
        ("a.b.a.com", &[], Some("DNS:*b.a.com, DNS:a.b.a.com"), None),
        ("a.b.a.com", &[], Some("URI:http://*.b.a.com/"), Some("Cert does not contain a DNS name")),
        ("a.b.a.com", &[], Some("IP Address:127.0.0.1"), Some("Cert does not contain a DNS name")),
        ("127.0.0.1", &[], Some("IP Address:127.0.0.1"), None),
        (
            "127.0.0.2",
            &[],
            Some("IP Address:127.0.0.1"),
            Some("IP: 127.0.0.2 is not in the cert's list: 127.0.0.1"),
        ),
        ("127.0.0.1", &[], Some("DNS:a.com"), Some("IP: 127.0.0.1 is not in the cert's list: ")),
        (
            "localhost",
            &["localhost"],
            Some("DNS:a.com"),
            Some("Host: localhost. is not in the cert's altnames: DNS:a.com"),
        ),
        ("xn--bcher-kva.example.com", &["*.example.com"], None, None),
        (
            "xn--bcher-kva.example.com",
            &["xn--*.example.com"],
            None,
            Some("Host: xn--bcher-kva.example.com. is not cert's CN: xn--*.example.com"),
        ),
    ];

    /// More corners, whose answers come from Node itself.
    const MORE_CASES: &[(&str, &[&str], Option<&str>)] = &[
        ("LOCALHOST.", &[], Some("DNS:localhost")),
        ("localhost..", &[], Some("DNS:localhost")),
        ("::1", &[], Some("IP Address:0:0:0:0:0:0:0:1")),
        ("0:0::1", &[], Some("IP Address:0:0:0:0:0:0:0:1")),
        ("fe80::1%eth0", &[], Some("IP Address:FE80:0:0:0:0:0:0:1")),
        ("fe80::1%", &["fe80::1%"], Some("IP Address:FE80:0:0:0:0:0:0:1")),
        ("[::1]", &[], Some("IP Address:0:0:0:0:0:0:0:1")),
        (
            "::2",
            &[],
            Some(
                "IP Address:0:0:0:0:0:0:0:1, IP Address:1.2.3.4, IP Address:0:0:0:0:0:FFFF:102:304, \
            IP Address:2001:DB8:0:0:0:0:0:0, IP Address:<invalid length=5>, IP Address:0:0:0:0:0:0:102:304, \
            IP Address:1:0:0:2:0:0:0:3, IP Address:1:0:2:0:3:0:4:0, IP Address:0:0:1:0:0:0:0:0",
            ),
        ),
        ("::ffff:1.2.3.4", &[], Some("IP Address:1.2.3.4")),
        ("::1.2.3.4", &[], Some("IP Address:0:0:0:0:0:0:102:304")),
        ("01.2.3.4", &["01.2.3.4"], None),
        ("1.2.3", &["1.2.3"], None),
        ("1.2.3.4.", &[], Some("IP Address:1.2.3.4")),
        ("a.example.com", &[], Some("DNS:\"evil\\u002c DNS:a.example.com\"")),
        ("x.com", &[], Some("DNS:\"a\\u002cb\", DNS:x.com")),
        ("a.com", &[""], None),
        ("a.com", &["", ""], None),
        ("é.example.com", &["*.example.com"], None),
        ("ab.example.com", &["a*b.example.com"], None),
        ("ab.example.com", &["ab*b.example.com"], None),
        ("foo.example.com", &["f*.example.com"], None),
        ("foo.example.com", &["*o.example.com"], None),
        ("bar.example.com", &["f*.example.com"], None),
        ("a.example.com", &["**.example.com"], None),
        ("a.example.com", &["a..example.com"], None),
        ("xn--a.example.com", &[], Some("DNS:xn--a.example.com")),
        ("A.EXAMPLE.COM", &[], Some("DNS:*.Example.Com")),
        ("a.example.com", &[], Some("DNS:*.exämple.com")),
        ("a b.example.com", &[], Some("DNS:*.example.com")),
        ("", &[], Some("DNS:a.com")),
        ("a.com", &[], Some("")),
        ("a.com", &[], Some("DNS:")),
        ("a.com", &["a.com"], Some("email:a@a.com, URI:http://a.com/")),
        ("1.2.3.4", &[], Some("IP Address:1.2.3.4, DNS:x")),
        ("foo.com", &["bar.com", "foo.com"], None),
        ("KEY.example.com", &["*.EXAMPLE.COM"], None),
    ];

    fn node_subject(cns: &[&str]) -> serde_json::Value {
        match cns {
            [] => serde_json::Value::Null,
            [one] => serde_json::json!({ "CN": one }),
            many => serde_json::json!({ "CN": many }),
        }
    }

    #[test]
    fn server_identity_follows_nodes_table() {
        for (host, cns, alt, reason) in NODE_TABLE {
            assert_eq!(identity(host, cns, *alt).err().as_deref(), *reason, "{host} {cns:?} {alt:?}");
        }
        // The same table and more corners, through Node's tls.checkServerIdentity.
        let cases: Vec<(&str, &[&str], Option<&str>)> =
            NODE_TABLE.iter().map(|c| (c.0, c.1, c.2)).chain(MORE_CASES.iter().copied()).collect();
        let input: Vec<serde_json::Value> =
            cases.iter().map(|(h, cns, alt)| serde_json::json!([h, node_subject(cns), alt])).collect();
        let script = "const tls = require('tls');
            const out = JSON.parse(process.argv[1]).map(([host, subject, subjectaltname]) => {
              const err = tls.checkServerIdentity(host, { subject, subjectaltname });
              return err ? err.reason : null;
            });
            console.log(JSON.stringify(out));";
        let out = node(script, &[&serde_json::Value::from(input).to_string()]);
        let expected: Vec<Option<String>> = serde_json::from_str(&out).unwrap();
        assert_eq!(expected.len(), cases.len());
        for ((host, cns, alt), want) in cases.iter().zip(expected) {
            assert_eq!(identity(host, cns, *alt).err(), want, "{host:?} {cns:?} {alt:?}");
        }
    }

    #[test]
    fn server_identity_of_real_certificates_follows_node() {
        let hosts = [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "::1",
            "0:0::1",
            "127.0.0.2",
            "::2",
            "example.com",
            "wrong.example.com",
            "x.wrong.example.com",
            "client.test",
            "a",
            "b",
            "edge",
            "a.example.com",
        ];
        let files = all_files();
        let mut pairs = Vec::new();
        for f in &files {
            for h in hosts {
                pairs.push(serde_json::json!([f, h]));
            }
        }
        let script = "const tls = require('tls'), fs = require('fs'), { X509Certificate } = require('crypto');
            const out = JSON.parse(process.argv[1]).map(([path, host]) => {
              const err = tls.checkServerIdentity(host, new X509Certificate(fs.readFileSync(path)).toLegacyObject());
              return err ? err.reason : null;
            });
            console.log(JSON.stringify(out));";
        let out = node(script, &[&serde_json::Value::from(pairs).to_string()]);
        let mut expected = serde_json::from_str::<Vec<Option<String>>>(&out).unwrap().into_iter();
        for f in &files {
            let cert = load(f);
            for h in hosts {
                assert_eq!(check_server_identity(h, &cert).err(), expected.next().unwrap(), "{f:?} {h}");
            }
        }
        let rsa = load(&certs().join("server-rsa-cert.pem"));
        assert_eq!(check_server_identity("localhost", &rsa), Ok(()));
        assert_eq!(check_server_identity("::1", &rsa), Ok(()));
        assert_eq!(
            check_server_identity("127.0.0.2", &rsa),
            Err("IP: 127.0.0.2 is not in the cert's list: 127.0.0.1, ::1".into())
        );
        let wrong = load(&certs().join("wronghost-cert.pem"));
        assert_eq!(
            check_server_identity("localhost", &wrong),
            Err("Host: localhost. is not in the cert's altnames: DNS:wrong.example.com".into())
        );
    }
}
