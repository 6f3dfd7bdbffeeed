//! X.509 v1 leaves, which OpenSSL accepts and webpki refuses (`UnsupportedCertVersion`).
//!
//! A v1 certificate has no extensions, so there is no path policy to apply: a v1 leaf is
//! trusted here when a trust anchor's key verifies its signature, its dates hold, and no CRL
//! of that anchor lists it. Its key then verifies the handshake's signature. Longer chains
//! under a v1 leaf stay refused (webpki cannot take a CA certificate as the leaf of a path).

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime,
};
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError};
use x509_parser::asn1_rs::{Any, FromDer};
use x509_parser::prelude::X509Version;

/// Whether `der` is an X.509 v1 certificate.
pub fn is_v1(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der).is_ok_and(|(_, c)| c.tbs_certificate.version == X509Version::V1)
}

/// Whether webpki refused a certificate for its version: the one case looked at here, so
/// other certificates are never parsed twice.
pub fn is_version_refusal(e: &Error) -> bool {
    matches!(e, Error::InvalidCertificate(CertificateError::Other(OtherError(inner)))
        if matches!(inner.downcast_ref::<webpki::Error>(), Some(webpki::Error::UnsupportedCertVersion)))
}

/// webpki's verdict `e`, reconsidered when it refused a lone v1 leaf (see the module's doc).
pub fn retry(
    e: Error,
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    roots: &rustls::RootCertStore,
    crls: &[CertificateRevocationListDer<'_>],
    algs: &WebPkiSupportedAlgorithms,
    now: UnixTime,
) -> Result<(), Error> {
    if !intermediates.is_empty() || !is_version_refusal(&e) || !is_v1(leaf) {
        return Err(e);
    }
    verify(leaf, &roots.roots, crls, algs, now)
}

/// What is signed, how, and the signature, of a certificate or a CRL (the same shape).
struct Signed<'a> {
    tbs: &'a [u8],
    algorithm: &'a [u8],
    signature: &'a [u8],
}

/// The contents of one DER element and the bytes after it.
fn element(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (rest, any) = Any::from_der(der).ok()?;
    Some((any.data, rest))
}

/// The whole DER of the first element of `der`.
fn element_bytes(der: &[u8]) -> Option<&[u8]> {
    let (_, rest) = element(der)?;
    der.get(..der.len() - rest.len())
}

fn signed(der: &[u8]) -> Option<Signed<'_>> {
    let (body, _) = element(der)?;
    let tbs = element_bytes(body)?;
    let (algorithm, rest) = element(&body[tbs.len()..])?;
    let (bits, _) = element(rest)?;
    let (&unused, signature) = bits.split_first()?;
    (unused == 0).then_some(Signed { tbs, algorithm, signature })
}

/// A SubjectPublicKeyInfo's contents split into its algorithm (contents) and key bytes.
fn split_spki(spki_contents: &[u8]) -> Option<(&[u8], &[u8])> {
    let (algorithm, rest) = element(spki_contents)?;
    let (bits, _) = element(rest)?;
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then_some((algorithm, key))
}

/// Whether one of `algs` for the key in `spki_contents` verifies `signature` over `message`.
fn verifies(
    algs: &[&dyn SignatureVerificationAlgorithm],
    spki_contents: &[u8],
    sig_alg: Option<&[u8]>,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Some((key_alg, key)) = split_spki(spki_contents) else { return false };
    algs.iter().any(|a| {
        a.public_key_alg_id().as_ref() == key_alg
            && sig_alg.is_none_or(|s| a.signature_alg_id().as_ref() == s)
            && a.verify_signature(key, message, signature).is_ok()
    })
}

/// Checks a v1 `leaf` against `anchors`, `crls` and the time `now` (see the module's doc).
pub fn verify(
    leaf: &CertificateDer<'_>,
    anchors: &[TrustAnchor<'_>],
    crls: &[CertificateRevocationListDer<'_>],
    algs: &WebPkiSupportedAlgorithms,
    now: UnixTime,
) -> Result<(), Error> {
    let bad = |e| Error::InvalidCertificate(e);
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf).map_err(|_| bad(CertificateError::BadEncoding))?;
    let data = signed(leaf).ok_or(bad(CertificateError::BadEncoding))?;
    let issuer = element(cert.tbs_certificate.issuer.as_raw()).map(|(c, _)| c);
    let anchor = anchors
        .iter()
        .filter(|a| Some(a.subject.as_ref()) == issuer)
        .find(|a| {
            let spki = a.subject_public_key_info.as_ref();
            verifies(algs.all, spki, Some(data.algorithm), data.tbs, data.signature)
        })
        .ok_or(bad(CertificateError::UnknownIssuer))?;
    super::verify::check_dates(&cert, now)?;
    revocation(&cert, anchor, crls, algs)
}

/// The anchor's CRLs (signed by it) decide; with CRLs given and none from this anchor the
/// status is unknown, which rustls's verifiers refuse too.
fn revocation(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    anchor: &TrustAnchor<'_>,
    crls: &[CertificateRevocationListDer<'_>],
    algs: &WebPkiSupportedAlgorithms,
) -> Result<(), Error> {
    if crls.is_empty() {
        return Ok(());
    }
    let mut known = false;
    for der in crls {
        let Ok((_, crl)) = x509_parser::revocation_list::CertificateRevocationList::from_der(der) else {
            continue;
        };
        let from_anchor = element(crl.issuer().as_raw()).is_some_and(|(c, _)| c == anchor.subject.as_ref())
            && signed(der).is_some_and(|s| {
                verifies(
                    algs.all,
                    anchor.subject_public_key_info.as_ref(),
                    Some(s.algorithm),
                    s.tbs,
                    s.signature,
                )
            });
        if !from_anchor {
            continue;
        }
        known = true;
        if crl.iter_revoked_certificates().any(|r| r.raw_serial() == cert.raw_serial()) {
            return Err(Error::InvalidCertificate(CertificateError::Revoked));
        }
    }
    if known {
        Ok(())
    } else {
        Err(Error::InvalidCertificate(CertificateError::UnknownRevocationStatus))
    }
}

/// A handshake signature made with a v1 certificate's key (rustls's own check parses the
/// certificate with webpki, which refuses v1).
fn handshake_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    scheme: rustls::SignatureScheme,
    signature: &[u8],
    algs: &WebPkiSupportedAlgorithms,
) -> Option<()> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert).ok()?;
    let (spki, _) = element(parsed.public_key().raw)?;
    let candidates = algs.mapping.iter().find(|(s, _)| *s == scheme).map(|(_, a)| *a)?;
    verifies(candidates, spki, None, message, signature).then_some(())
}

/// `rustls::crypto::verify_tls12_signature`, also for v1 certificates.
pub fn tls12_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<rustls::client::danger::HandshakeSignatureValid, Error> {
    rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
        .or_else(|e| fallback(e, message, cert, dss, algs))
}

/// `rustls::crypto::verify_tls13_signature`, also for v1 certificates.
pub fn tls13_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<rustls::client::danger::HandshakeSignatureValid, Error> {
    rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
        .or_else(|e| fallback(e, message, cert, dss, algs))
}

fn fallback(
    e: Error,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<rustls::client::danger::HandshakeSignatureValid, Error> {
    if !is_version_refusal(&e) || !is_v1(cert) {
        return Err(e);
    }
    handshake_signature(message, cert, dss.scheme, dss.signature(), algs)
        .map(|()| rustls::client::danger::HandshakeSignatureValid::assertion())
        .ok_or(Error::InvalidCertificate(CertificateError::BadSignature))
}

/// Whether `key`'s public half is the one in the certificate `cert` (any version).
pub fn same_key(
    cert: &CertificateDer<'_>,
    key: &rustls::pki_types::SubjectPublicKeyInfoDer<'_>,
) -> Option<bool> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert).ok()?;
    Some(parsed.public_key().raw == key.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    fn openssl(dir: &Path, args: &str) {
        let out = Command::new("openssl").current_dir(dir).args(args.split(' ')).output().unwrap();
        assert!(out.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Two CAs, a v1 leaf of the first and another it revoked, and CRLs before and after.
    fn fixtures(test: &str) -> PathBuf {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/v1-leaf-tests"))
            .join(format!("{test}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("db")).unwrap();
        std::fs::write(dir.join("db/index.txt"), "").unwrap();
        std::fs::write(dir.join("db/crlnumber"), "1000\n").unwrap();
        std::fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca=c\n[c]\ndatabase=db/index.txt\ncrlnumber=db/crlnumber\ndefault_md=sha256\n\
             default_crl_days=30\n",
        )
        .unwrap();
        for ca in ["ca", "other-ca"] {
            openssl(&dir, &format!("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN={ca} -addext basicConstraints=critical,CA:TRUE -keyout {ca}-key.pem -out {ca}-cert.pem"));
        }
        for leaf in ["v1", "v1-revoked"] {
            openssl(&dir, &format!("req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -keyout {leaf}-key.pem -out {leaf}.csr"));
            openssl(&dir, &format!("x509 -req -in {leaf}.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 30 -out {leaf}-cert.pem"));
        }
        openssl(&dir, "ca -config ca.cnf -cert ca-cert.pem -keyfile ca-key.pem -gencrl -out crl-none.pem");
        openssl(&dir, "ca -config ca.cnf -cert ca-cert.pem -keyfile ca-key.pem -revoke v1-revoked-cert.pem");
        openssl(&dir, "ca -config ca.cnf -cert ca-cert.pem -keyfile ca-key.pem -gencrl -out crl.pem");
        dir
    }

    fn cert(dir: &Path, name: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(dir.join(name)).unwrap()
    }

    fn crl(dir: &Path, name: &str) -> CertificateRevocationListDer<'static> {
        CertificateRevocationListDer::from_pem_file(dir.join(name)).unwrap()
    }

    #[test]
    fn v1_leaves_are_judged_by_their_anchor_dates_and_crls() {
        let dir = fixtures("judged");
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        let anchor = |name| webpki::anchor_from_trusted_cert(&cert(&dir, name)).unwrap().to_owned();
        let (ca, other) = (anchor("ca-cert.pem"), anchor("other-ca-cert.pem"));
        let (just_ca, just_other) = (std::slice::from_ref(&ca), std::slice::from_ref(&other));
        let v1 = cert(&dir, "v1-cert.pem");
        let revoked = cert(&dir, "v1-revoked-cert.pem");
        assert!(is_v1(&v1) && !is_v1(&cert(&dir, "ca-cert.pem")));
        let now = UnixTime::now();
        let code = |r: Result<(), Error>| match r {
            Ok(()) => "ok".to_owned(),
            Err(Error::InvalidCertificate(e)) => format!("{e:?}"),
            Err(e) => format!("{e}"),
        };
        assert_eq!(code(verify(&v1, just_ca, &[], &algs, now)), "ok");
        assert_eq!(code(verify(&v1, just_other, &[], &algs, now)), "UnknownIssuer");
        let later = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.as_secs() + 400 * 86400));
        assert_eq!(code(verify(&v1, just_ca, &[], &algs, later)), "Expired");
        let before = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.as_secs() - 86400));
        assert_eq!(code(verify(&v1, just_ca, &[], &algs, before)), "NotValidYet");
        // One byte of the signed part changed: the anchor's key no longer verifies it.
        let mut forged = v1.to_vec();
        let at = forged.len() / 2;
        forged[at] ^= 1;
        assert_eq!(code(verify(&CertificateDer::from(forged), just_ca, &[], &algs, now)), "UnknownIssuer");
        // CRLs: listed is revoked, unlisted passes, and with no CRL of this anchor it is unknown.
        let (listed, unlisted) = (crl(&dir, "crl.pem"), crl(&dir, "crl-none.pem"));
        assert_eq!(code(verify(&revoked, just_ca, std::slice::from_ref(&listed), &algs, now)), "Revoked");
        assert_eq!(code(verify(&revoked, just_ca, &[unlisted], &algs, now)), "ok");
        assert_eq!(code(verify(&v1, just_ca, std::slice::from_ref(&listed), &algs, now)), "ok");
        // Among several anchors, the one whose key verifies it is its issuer.
        assert_eq!(code(verify(&v1, &[other, ca], &[], &algs, now)), "ok");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_v1_key_verifies_handshake_signatures_and_matches_its_certificate() {
        let dir = fixtures("key");
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        let v1 = cert(&dir, "v1-cert.pem");
        let key = PrivateKeyDer::from_pem_file(dir.join("v1-key.pem")).unwrap();
        let signer = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key).unwrap();
        let scheme = rustls::SignatureScheme::ECDSA_NISTP256_SHA256;
        let signature = signer.choose_scheme(&[scheme]).unwrap().sign(b"transcript").unwrap();
        assert!(handshake_signature(b"transcript", &v1, scheme, &signature, &algs).is_some());
        assert!(handshake_signature(b"another transcript", &v1, scheme, &signature, &algs).is_none());
        let rsa = rustls::SignatureScheme::RSA_PSS_SHA256;
        assert!(handshake_signature(b"transcript", &v1, rsa, &signature, &algs).is_none());
        assert_eq!(same_key(&v1, &signer.public_key().unwrap()), Some(true));
        let other = PrivateKeyDer::from_pem_file(dir.join("v1-revoked-key.pem")).unwrap();
        let other = rustls::crypto::aws_lc_rs::sign::any_supported_type(&other).unwrap();
        assert_eq!(same_key(&v1, &other.public_key().unwrap()), Some(false));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
