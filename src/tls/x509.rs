//! Node's certificate object (`getPeerCertificate()`) and `tls.checkServerIdentity`.
//! Every string is computed once at parse time: the C API hands out pointers to them.

use aws_lc_rs::digest;
use rustls_pki_types::CertificateDer;
use serde_json::{json, Map, Value};
use std::ffi::CString;
use std::net::IpAddr;
use x509_parser::prelude::*;

/// One certificate of a peer's chain, in the shape of Node's certificate object.
#[derive(Debug)]
pub struct PeerCert {
    der: Vec<u8>,
    subject: Vec<(String, String)>,
    issuer_fields: Vec<(String, String)>,
    subject_line: CString,
    issuer_line: CString,
    subjectaltname: Option<CString>,
    valid_from: CString,
    valid_to: CString,
    serial: CString,
    fingerprint: CString,
    fingerprint256: CString,
    fingerprint512: CString,
    ca: bool,
    key: Map<String, Value>,
    ext_key_usage: Vec<String>,
    self_signed: bool,
    issuer: Option<Box<PeerCert>>,
}

fn cstr(s: &str) -> CString {
    crate::error::cstring(s)
}

fn short_name(oid: &x509_parser::oid_registry::Oid<'_>) -> String {
    use x509_parser::oid_registry as r;
    let known = [
        (r::OID_X509_COMMON_NAME, "CN"),
        (r::OID_X509_COUNTRY_NAME, "C"),
        (r::OID_X509_LOCALITY_NAME, "L"),
        (r::OID_X509_STATE_OR_PROVINCE_NAME, "ST"),
        (r::OID_X509_ORGANIZATION_NAME, "O"),
        (r::OID_X509_ORGANIZATIONAL_UNIT, "OU"),
        (r::OID_PKCS9_EMAIL_ADDRESS, "emailAddress"),
    ];
    known.iter().find(|(o, _)| o == oid).map_or_else(|| oid.to_id_string(), |(_, n)| (*n).to_owned())
}

fn name_fields(name: &X509Name<'_>) -> Vec<(String, String)> {
    name.iter_attributes()
        .map(|a| (short_name(a.attr_type()), a.as_str().map(str::to_owned).unwrap_or_else(|_| "?".into())))
        .collect()
}

fn one_line(fields: &[(String, String)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

fn hex_colon(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// OpenSSL's time format, as Node prints it: "Jan  1 00:00:00 2020 GMT".
fn openssl_time(t: &ASN1Time) -> String {
    let d = t.to_datetime();
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{} {:>2} {:02}:{:02}:{:02} {} GMT",
        MONTHS[usize::from(u8::from(d.month())) - 1],
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.year()
    )
}

fn san_string(cert: &X509Certificate<'_>) -> Option<String> {
    let san = cert.subject_alternative_name().ok().flatten()?;
    let parts: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|g| match g {
            GeneralName::DNSName(d) => format!("DNS:{d}"),
            GeneralName::RFC822Name(e) => format!("email:{e}"),
            GeneralName::URI(u) => format!("URI:{u}"),
            GeneralName::IPAddress(ip) => format!("IP Address:{}", ip_text(ip)),
            other => format!("othername:{other:?}"),
        })
        .collect();
    Some(parts.join(", "))
}

/// OpenSSL prints IPv6 SANs uncompressed, without leading zeros.
fn ip_text(raw: &[u8]) -> String {
    match raw.len() {
        4 => format!("{}.{}.{}.{}", raw[0], raw[1], raw[2], raw[3]),
        16 => raw
            .chunks(2)
            .map(|c| format!("{:X}", u16::from_be_bytes([c[0], c[1]])))
            .collect::<Vec<_>>()
            .join(":"),
        _ => "<invalid>".into(),
    }
}

fn key_info(cert: &X509Certificate<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            let modulus: Vec<u8> = rsa.modulus.iter().copied().skip_while(|b| *b == 0).collect();
            let exp = rsa.exponent.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            m.insert("bits".into(), json!(modulus.len() * 8));
            m.insert("modulus".into(), json!(modulus.iter().map(|b| format!("{b:02X}")).collect::<String>()));
            m.insert("exponent".into(), json!(format!("0x{exp:x}")));
        }
        Ok(x509_parser::public_key::PublicKey::EC(point)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
            let (asn1, nist, bits) = match curve.map(|o| o.to_id_string()).as_deref() {
                Some("1.2.840.10045.3.1.7") => ("prime256v1", "P-256", 256),
                Some("1.3.132.0.34") => ("secp384r1", "P-384", 384),
                Some("1.3.132.0.35") => ("secp521r1", "P-521", 521),
                _ => ("unknown", "unknown", point.key_size()),
            };
            m.insert("bits".into(), json!(bits));
            m.insert("asn1Curve".into(), json!(asn1));
            m.insert("nistCurve".into(), json!(nist));
        }
        _ => {}
    }
    m
}

impl PeerCert {
    /// Parses one DER certificate; Err(message) if it is not a certificate.
    pub fn from_der(der: &[u8]) -> Result<PeerCert, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("not a certificate: {e}"))?;
        let subject = name_fields(cert.subject());
        let issuer_fields = name_fields(cert.issuer());
        let fp = |alg: &'static digest::Algorithm| hex_colon(digest::digest(alg, der).as_ref());
        let ext_key_usage = match cert.extended_key_usage() {
            Ok(Some(eku)) => {
                let e = &eku.value;
                let mut v = Vec::new();
                for (on, oid) in [
                    (e.server_auth, "1.3.6.1.5.5.7.3.1"),
                    (e.client_auth, "1.3.6.1.5.5.7.3.2"),
                    (e.code_signing, "1.3.6.1.5.5.7.3.3"),
                    (e.email_protection, "1.3.6.1.5.5.7.3.4"),
                    (e.time_stamping, "1.3.6.1.5.5.7.3.8"),
                    (e.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
                ] {
                    if on {
                        v.push(oid.to_owned());
                    }
                }
                v.extend(e.other.iter().map(|o| o.to_id_string()));
                v
            }
            _ => Vec::new(),
        };
        Ok(PeerCert {
            der: der.to_vec(),
            subject_line: cstr(&one_line(&subject)),
            issuer_line: cstr(&one_line(&issuer_fields)),
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            subject,
            issuer_fields,
            subjectaltname: san_string(&cert).map(|s| cstr(&s)),
            valid_from: cstr(&openssl_time(&cert.validity().not_before)),
            valid_to: cstr(&openssl_time(&cert.validity().not_after)),
            serial: cstr(&cert.raw_serial().iter().map(|b| format!("{b:02X}")).collect::<String>()),
            fingerprint: cstr(&fp(&digest::SHA1_FOR_LEGACY_USE_ONLY)),
            fingerprint256: cstr(&fp(&digest::SHA256)),
            fingerprint512: cstr(&fp(&digest::SHA512)),
            ca: cert.is_ca(),
            key: key_info(&cert),
            ext_key_usage,
            issuer: None,
        })
    }

    /// Parses a chain (leaf first); `issuer()` links each to the next, as Node's detailed form.
    pub fn from_chain(ders: &[CertificateDer<'_>]) -> Result<PeerCert, String> {
        let mut next: Option<Box<PeerCert>> = None;
        for der in ders.iter().rev() {
            let mut c = PeerCert::from_der(der)?;
            c.issuer = next.take();
            next = Some(Box::new(c));
        }
        next.map(|b| *b).ok_or_else(|| "empty chain".to_owned())
    }

    /// The subject in one line: "C=US, O=nodetls test, CN=localhost".
    pub fn subject_line(&self) -> &CString {
        &self.subject_line
    }

    /// The issuer's name in one line.
    pub fn issuer_line(&self) -> &CString {
        &self.issuer_line
    }

    /// One field of the subject (`"CN"`, `"O"`, ...), the first if repeated.
    pub fn subject_field(&self, key: &str) -> Option<&str> {
        self.subject.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `subjectaltname`: "DNS:localhost, IP Address:127.0.0.1".
    pub fn subjectaltname(&self) -> Option<&CString> {
        self.subjectaltname.as_ref()
    }

    /// `valid_from`.
    pub fn valid_from(&self) -> &CString {
        &self.valid_from
    }

    /// `valid_to`.
    pub fn valid_to(&self) -> &CString {
        &self.valid_to
    }

    /// `serialNumber`, uppercase hex.
    pub fn serial_number(&self) -> &CString {
        &self.serial
    }

    /// `fingerprint` (SHA-1).
    pub fn fingerprint(&self) -> &CString {
        &self.fingerprint
    }

    /// `fingerprint256`.
    pub fn fingerprint256(&self) -> &CString {
        &self.fingerprint256
    }

    /// `fingerprint512`.
    pub fn fingerprint512(&self) -> &CString {
        &self.fingerprint512
    }

    /// The DER bytes (`raw`).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `ca`.
    pub fn ca(&self) -> bool {
        self.ca
    }

    /// The next certificate of the chain (`issuerCertificate`), in the detailed form.
    pub fn issuer(&self) -> Option<&PeerCert> {
        self.issuer.as_deref()
    }

    /// Node's object as JSON; `detailed` adds `issuerCertificate` recursively (a
    /// self-signed root refers to itself in Node; here it is given once, without recursing).
    pub fn to_json(&self, detailed: bool) -> String {
        self.to_value(detailed).to_string()
    }

    fn to_value(&self, detailed: bool) -> Value {
        let name_obj = |fields: &[(String, String)]| {
            let mut m = Map::new();
            for (k, v) in fields {
                match m.get_mut(k) {
                    Some(Value::Array(a)) => a.push(json!(v)),
                    Some(prev) => *prev = json!([prev.clone(), v]),
                    None => {
                        m.insert(k.clone(), json!(v));
                    }
                }
            }
            Value::Object(m)
        };
        let mut m = Map::new();
        m.insert("subject".into(), name_obj(&self.subject));
        m.insert("issuer".into(), name_obj(&self.issuer_fields));
        if let Some(san) = &self.subjectaltname {
            m.insert("subjectaltname".into(), json!(san.to_string_lossy()));
        }
        m.insert("ca".into(), json!(self.ca));
        m.extend(self.key.clone());
        m.insert("valid_from".into(), json!(self.valid_from.to_string_lossy()));
        m.insert("valid_to".into(), json!(self.valid_to.to_string_lossy()));
        m.insert("fingerprint".into(), json!(self.fingerprint.to_string_lossy()));
        m.insert("fingerprint256".into(), json!(self.fingerprint256.to_string_lossy()));
        m.insert("fingerprint512".into(), json!(self.fingerprint512.to_string_lossy()));
        if !self.ext_key_usage.is_empty() {
            m.insert("ext_key_usage".into(), json!(self.ext_key_usage));
        }
        m.insert("serialNumber".into(), json!(self.serial.to_string_lossy()));
        m.insert("raw".into(), json!(base64(&self.der)));
        if detailed {
            match (&self.issuer, self.self_signed) {
                (Some(next), _) => {
                    m.insert("issuerCertificate".into(), next.to_value(true));
                }
                (None, true) => {
                    m.insert("issuerCertificate".into(), self.to_value(false));
                }
                (None, false) => {}
            }
        }
        Value::Object(m)
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unfqdn(host: &str) -> &str {
    host.strip_suffix('.').unwrap_or(host)
}

fn split_host(host: &str) -> Vec<String> {
    unfqdn(host).to_lowercase().split('.').map(str::to_owned).collect()
}

/// Node's `check(hostParts, pattern, wildcards)` from lib/tls.js.
fn matches(host_parts: &[String], pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern_parts = split_host(pattern);
    if host_parts.len() != pattern_parts.len() || pattern_parts.iter().any(String::is_empty) {
        return false;
    }
    if pattern_parts.iter().any(|p| p.chars().any(|c| !('\u{21}'..='\u{7f}').contains(&c))) {
        return false;
    }
    if (1..host_parts.len()).rev().any(|i| host_parts[i] != pattern_parts[i]) {
        return false;
    }
    let (host_sub, pattern_sub) = (&host_parts[0], &pattern_parts[0]);
    let pieces: Vec<&str> = pattern_sub.split('*').collect();
    if pieces.len() == 1 || pattern_sub.contains("xn--") {
        return host_sub == pattern_sub;
    }
    if pieces.len() > 2 || pattern_parts.len() <= 2 {
        return false;
    }
    let (prefix, suffix) = (pieces[0], pieces[1]);
    prefix.len() + suffix.len() <= host_sub.len()
        && host_sub.starts_with(prefix)
        && host_sub.ends_with(suffix)
}

/// Host-name check with Node's `tls.checkServerIdentity` rules; Err is Node's reason text.
pub fn check_server_identity(hostname: &str, cert: &PeerCert) -> Result<(), String> {
    let alt = cert.subjectaltname.as_ref().map(|s| s.to_string_lossy().into_owned());
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    for name in alt.as_deref().unwrap_or("").split(", ") {
        if let Some(d) = name.strip_prefix("DNS:") {
            dns.push(d.to_owned());
        } else if let Some(ip) = name.strip_prefix("IP Address:") {
            ips.push(ip.to_owned());
        }
    }
    let hostname = unfqdn(hostname);
    if let Ok(ip) = hostname.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        if ips.iter().any(|i| i.parse::<IpAddr>().ok() == Some(ip)) {
            return Ok(());
        }
        return Err(format!("IP: {hostname} is not in the cert's list: {}", ips.join(", ")));
    }
    let host_parts = split_host(hostname);
    if !dns.is_empty() {
        if dns.iter().any(|d| matches(&host_parts, d)) {
            return Ok(());
        }
        return Err(format!("Host: {hostname}. is not in the cert's altnames: {}", alt.unwrap_or_default()));
    }
    let cns: Vec<&str> = cert.subject.iter().filter(|(k, _)| k == "CN").map(|(_, v)| v.as_str()).collect();
    if cns.is_empty() {
        return Err("Cert does not contain a DNS name".into());
    }
    if cns.iter().any(|cn| matches(&host_parts, cn)) {
        return Ok(());
    }
    Err(format!("Host: {hostname}. is not cert's CN: {}", cns.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;

    fn cert(name: &str) -> PeerCert {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs");
        if !std::path::Path::new(dir).join(".complete").exists() {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-certs.sh");
            assert!(std::process::Command::new("bash").arg(script).status().unwrap().success());
        }
        let der = CertificateDer::from_pem_file(format!("{dir}/{name}")).unwrap();
        PeerCert::from_der(&der).unwrap()
    }

    fn openssl(name: &str, args: &[&str]) -> String {
        let path = format!("{}/target/test-certs/{name}", env!("CARGO_MANIFEST_DIR"));
        let out =
            std::process::Command::new("openssl").args(["x509", "-in", &path, "-noout"]).args(args).output();
        String::from_utf8(out.unwrap().stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn fields_agree_with_openssl() {
        let c = cert("server-rsa-cert.pem");
        assert_eq!(c.subject_field("CN"), Some("localhost"));
        assert_eq!(c.subject_line().to_str().unwrap(), "C=US, O=nodetls test, CN=localhost");
        assert_eq!(
            format!("notAfter={}", c.valid_to().to_str().unwrap()),
            openssl("server-rsa-cert.pem", &["-enddate"])
        );
        assert_eq!(
            format!("notBefore={}", c.valid_from().to_str().unwrap()),
            openssl("server-rsa-cert.pem", &["-startdate"])
        );
        assert_eq!(
            format!("sha256 Fingerprint={}", c.fingerprint256().to_str().unwrap()),
            openssl("server-rsa-cert.pem", &["-fingerprint", "-sha256"])
        );
        assert_eq!(
            format!("serial={}", c.serial_number().to_str().unwrap()),
            openssl("server-rsa-cert.pem", &["-serial"])
        );
        assert_eq!(
            c.subjectaltname().unwrap().to_str().unwrap(),
            "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
        );
        let json: Value = serde_json::from_str(&c.to_json(false)).unwrap();
        assert_eq!(json["bits"], 2048);
        assert_eq!(json["exponent"], "0x10001");
        assert_eq!(json["subject"]["O"], "nodetls test");
        let ec: Value = serde_json::from_str(&cert("server-ec-cert.pem").to_json(false)).unwrap();
        assert_eq!(ec["asn1Curve"], "prime256v1");
        assert_eq!(ec["nistCurve"], "P-256");
    }

    #[test]
    fn json_matches_nodes_own_object() {
        let path = format!("{}/target/test-certs/server-ec-cert.pem", env!("CARGO_MANIFEST_DIR"));
        let _ = cert("server-ec-cert.pem");
        let script = format!(
            "const c=new (require('crypto').X509Certificate)(require('fs').readFileSync('{path}')).toLegacyObject();\
             console.log(JSON.stringify({{subject:c.subject,issuer:c.issuer,subjectaltname:c.subjectaltname,\
             valid_from:c.valid_from,valid_to:c.valid_to,fingerprint:c.fingerprint,fingerprint256:c.fingerprint256,\
             fingerprint512:c.fingerprint512,serialNumber:c.serialNumber,bits:c.bits,asn1Curve:c.asn1Curve,\
             nistCurve:c.nistCurve,ca:c.ca,ext_key_usage:c.ext_key_usage}}))"
        );
        let out =
            std::process::Command::new("node").args(["-e", &script]).output().expect("node is installed");
        let node: Value = serde_json::from_slice(&out.stdout).expect("node printed JSON");
        let ours: Value = serde_json::from_str(&cert("server-ec-cert.pem").to_json(false)).unwrap();
        for key in node.as_object().unwrap().keys() {
            assert_eq!(ours[key], node[key], "field {key}");
        }
    }

    #[test]
    fn detailed_form_links_the_chain() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs");
        let _ = cert("ca-cert.pem");
        let chain: Vec<_> = CertificateDer::pem_file_iter(format!("{dir}/server-chained-chain.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let c = PeerCert::from_chain(&chain).unwrap();
        assert_eq!(c.issuer().unwrap().subject_field("CN"), Some("nodetls Intermediate"));
        let json: Value = serde_json::from_str(&c.to_json(true)).unwrap();
        assert_eq!(json["issuerCertificate"]["subject"]["CN"], "nodetls Intermediate");
    }

    #[test]
    fn server_identity_follows_node() {
        let c = cert("server-rsa-cert.pem");
        assert!(check_server_identity("localhost", &c).is_ok());
        assert!(check_server_identity("LOCALHOST.", &c).is_ok());
        assert!(check_server_identity("127.0.0.1", &c).is_ok());
        assert!(check_server_identity("::1", &c).is_ok());
        assert_eq!(
            check_server_identity("127.0.0.2", &c).unwrap_err(),
            "IP: 127.0.0.2 is not in the cert's list: 127.0.0.1, 0:0:0:0:0:0:0:1"
        );
        assert_eq!(
            check_server_identity("example.com", &c).unwrap_err(),
            "Host: example.com. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
        );
        let parts = |h: &str| split_host(h);
        assert!(matches(&parts("a.example.com"), "*.example.com"));
        assert!(!matches(&parts("example.com"), "*.example.com"));
        assert!(!matches(&parts("a.b.example.com"), "*.example.com"));
        assert!(!matches(&parts("a.com"), "*.com"));
        assert!(matches(&parts("foo.example.com"), "f*.example.com"));
        assert!(matches(&parts("foo.example.com"), "*o.example.com"));
        assert!(!matches(&parts("bar.example.com"), "f*.example.com"));
        assert!(!matches(&parts("a.example.com"), "**.example.com"));
        assert!(!matches(&parts("xn--a.example.com"), "xn--*.example.com"));
        assert!(!matches(&parts("a.example.com"), "a..example.com"));
        assert!(matches(&parts("A.Example.COM"), "a.example.com"));
    }
}
