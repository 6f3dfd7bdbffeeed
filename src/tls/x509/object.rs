//! `PeerCert`, Node's certificate object: its fields, computed once at parse time
//! (names, extensions, key, validity, serial, fingerprints), and the chain of issuers.

use super::extensions::{ext_key_usage, info_access, subjectaltname, InfoAccess, OID_AIA, OID_EKU, OID_SAN};
use super::names::Name;
use super::text::{hex, Text};
use aws_lc_rs::digest;
use rustls_pki_types::CertificateDer;
use x509_parser::asn1_rs::FromDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::ASN1Time;
use x509_parser::public_key::PublicKey;

/// One certificate of a peer's chain, in the shape of Node's certificate object.
///
/// Every `&str` it returns is followed in memory by a NUL byte and holds none inside,
/// so `as_ptr()` of it is a C string valid for as long as the `PeerCert` lives.
#[derive(Debug)]
pub struct PeerCert {
    der: Vec<u8>,
    pub(super) subject: Name,
    pub(super) issuer_name: Name,
    /// `None`: no extension; `Some(None)`: present but undecodable (Node gives null).
    pub(super) subjectaltname: Option<Option<Text>>,
    pub(super) info_access: Option<Option<InfoAccess>>,
    ca: bool,
    pub(super) key: Key,
    valid_from: Text,
    pub(super) valid_to: Text,
    serial: Text,
    pub(super) fingerprint: Text,
    fingerprint256: Text,
    fingerprint512: Text,
    pub(super) ext_key_usage: Option<Vec<String>>,
    pub(super) self_signed: bool,
    issuer: Option<Box<PeerCert>>,
}

/// The public key's fields that Node's object shows.
#[derive(Debug)]
pub(super) enum Key {
    Rsa { modulus: String, bits: usize, exponent: String, pubkey: Vec<u8> },
    Ec { bits: u32, pubkey: Vec<u8>, asn1_curve: &'static str, nist_curve: Option<&'static str> },
    Other,
}

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
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all_files, certs, load, openssl, FILES};
    use super::*;
    use rustls_pki_types::pem::PemObject;

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
}
