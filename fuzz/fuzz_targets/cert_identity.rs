//! Host-name identity (`tls.checkServerIdentity`): a host name or address against a
//! certificate whose subject CNs and alt names come from the fuzzer (made as DER, so the
//! names go through x509-parser and the object's own decoding first), plus the object's
//! JSON for the same certificate. Never a panic; an IP host never matches a DNS name.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nodetls::tls::x509::{check_server_identity, PeerCert};
use nodetls_fuzz::der;

#[derive(Arbitrary, Debug)]
enum StringKind {
    Utf8,
    Printable,
    Ia5,
    Teletex,
    Bmp,
}

#[derive(Arbitrary, Debug)]
enum AltName {
    Dns(Vec<u8>),
    Ip(Vec<u8>),
    Uri(Vec<u8>),
    Email(Vec<u8>),
    DirName(String),
    Other(u8, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    host: String,
    cns: Vec<(StringKind, Vec<u8>)>,
    alt_names: Option<Vec<AltName>>,
    critical: bool,
}

fn tag(kind: &StringKind) -> u8 {
    match kind {
        StringKind::Utf8 => 0x0c,
        StringKind::Printable => 0x13,
        StringKind::Ia5 => 0x16,
        StringKind::Teletex => 0x14,
        StringKind::Bmp => 0x1e,
    }
}

fn general_name(n: &AltName) -> Vec<u8> {
    match n {
        AltName::Dns(b) => der::tlv(0x82, b),
        AltName::Ip(b) => der::tlv(0x87, b),
        AltName::Uri(b) => der::tlv(0x86, b),
        AltName::Email(b) => der::tlv(0x81, b),
        AltName::DirName(cn) => der::tlv(0xa4, &der::name(&[(der::OID_CN, 0x0c, cn.as_bytes())])),
        AltName::Other(t, b) => der::tlv(0x80 | (t & 0x3f), b),
    }
}

fuzz_target!(|input: Input| {
    let cns: Vec<(&[u8], u8, &[u8])> =
        input.cns.iter().take(4).map(|(k, v)| (der::OID_CN, tag(k), v.as_slice())).collect();
    let mut subject = vec![(der::OID_O, 0x0c, &b"fuzz"[..])];
    subject.extend(cns);
    let mut extensions = Vec::new();
    if let Some(names) = &input.alt_names {
        let value: Vec<Vec<u8>> = names.iter().take(8).map(general_name).collect();
        extensions.push((der::OID_SAN, input.critical, der::seq(&value)));
    }
    let cert_der = der::certificate(&subject, &extensions);
    let cert = match PeerCert::from_der(&cert_der) {
        Ok(c) => c,
        Err(_) => return,
    };
    let json = cert.to_json(false);
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok(), "{json}");
    let verdict = check_server_identity(&input.host, &cert);
    let only_dns = input.alt_names.as_ref().is_some_and(|n| n.iter().all(|n| matches!(n, AltName::Dns(_))));
    if verdict.is_ok() && only_dns && input.host.parse::<std::net::IpAddr>().is_ok() {
        panic!("IP host {:?} matched DNS names only: {:?}", input.host, cert.subjectaltname());
    }
});
