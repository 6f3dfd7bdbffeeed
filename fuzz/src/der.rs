//! Just enough DER to write an X.509 certificate whose names and alt names come from the
//! fuzzer (x509-parser does not check signatures, so none is made).

/// A tag, a length and the content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded parts.
pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A SET of already encoded parts.
pub fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

/// An OBJECT IDENTIFIER from its encoded arcs.
pub fn oid(encoded: &[u8]) -> Vec<u8> {
    tlv(0x06, encoded)
}

/// A distinguished name: one RDN per attribute, each (type OID arcs, string tag, value).
pub fn name(attrs: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> =
        attrs.iter().map(|(o, tag, value)| set(&[seq(&[oid(o), tlv(*tag, value)])])).collect();
    seq(&rdns)
}

/// The commonName attribute type (2.5.4.3).
pub const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
/// The organizationName attribute type (2.5.4.10).
pub const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
/// subjectAltName (2.5.29.17).
pub const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
/// ecdsa-with-SHA256 (1.2.840.10045.4.3.2).
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

/// A P-256 SubjectPublicKeyInfo: the curve's base point, a valid public key.
const SPKI_P256: &str = "3059301306072a8648ce3d020106082a8648ce3d03010703420004\
    6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\
    4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
}

/// A v3 certificate with these subject attributes and extensions (each: OID arcs,
/// critical, DER value), issued by "fuzz CA", valid 2025 to 2035, an empty signature.
pub fn certificate(subject: &[(&[u8], u8, &[u8])], extensions: &[(&[u8], bool, Vec<u8>)]) -> Vec<u8> {
    let alg = seq(&[oid(OID_ECDSA_SHA256)]);
    let validity = seq(&[tlv(0x17, b"250101000000Z"), tlv(0x17, b"350101000000Z")]);
    let exts: Vec<Vec<u8>> = extensions
        .iter()
        .map(|(o, critical, value)| {
            let mut parts = vec![oid(o)];
            if *critical {
                parts.push(tlv(0x01, &[0xff]));
            }
            parts.push(tlv(0x04, value));
            seq(&parts)
        })
        .collect();
    let mut tbs = vec![
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &[0x01, 0x23, 0x45]),
        alg.clone(),
        name(&[(OID_CN, 0x0c, b"fuzz CA")]),
        validity,
        name(subject),
        hex(SPKI_P256),
    ];
    if !exts.is_empty() {
        tbs.push(tlv(0xa3, &seq(&exts)));
    }
    seq(&[seq(&tbs), alg, tlv(0x03, &[0x00])])
}
