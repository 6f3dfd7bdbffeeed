//! Certificate revocation lists (`crl` option): PEM "X509 CRL" blocks or one DER CRL. Their
//! signatures and contents are checked by rustls when a verifier is built with them.

use super::{armor, KeyError};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateRevocationListDer;

/// The CRLs in "X509 CRL" PEM blocks, or one CRL given as raw DER.
pub fn parse_crls(pem: &[u8]) -> Result<Vec<CertificateRevocationListDer<'static>>, KeyError> {
    if !armor::has_pem(pem) {
        // Node accepts a DER CRL too: one ASN.1 SEQUENCE (tag 0x30).
        return match pem.first() {
            Some(0x30) if armor::is_der_sequence(pem) => {
                Ok(vec![CertificateRevocationListDer::from(pem.to_vec())])
            }
            Some(0x30) => Err(KeyError::BadCrl("crl: DER CRL is truncated or malformed".into())),
            _ => Err(KeyError::BadCrl("crl: neither PEM nor a DER CRL".into())),
        };
    }
    let crls = CertificateRevocationListDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| KeyError::BadCrl(format!("crl: PEM: {}", armor::words(&e, None))))?;
    if crls.is_empty() {
        return Err(KeyError::BadCrl("crl: no X509 CRL block found".into()));
    }
    if let Some(i) = crls.iter().position(|crl| !armor::is_der_sequence(crl)) {
        return Err(KeyError::BadCrl(format!("crl: CRL {} is not valid DER", i + 1)));
    }
    Ok(crls)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{certs, expect, read};
    use super::*;
    use std::sync::Arc;

    #[test]
    fn crls_from_pem_and_der() {
        let der = read("ca-crl.der");
        let pem = parse_crls(&read("ca-crl.pem")).unwrap();
        assert_eq!(pem.len(), 1);
        assert_eq!(pem[0].as_ref(), der.as_slice());
        assert_eq!(parse_crls(&der).unwrap()[0].as_ref(), der.as_slice());
        assert_eq!(parse_crls(&read("ca-crl-empty.pem")).unwrap().len(), 1);
        let both = [read("ca-crl.pem"), read("ca-crl-empty.pem")].concat();
        assert_eq!(parse_crls(&both).unwrap().len(), 2);
    }

    #[test]
    fn crl_failures() {
        let texts = [
            expect(parse_crls(&read("ca-cert.pem")), "BadCrl", "crl: no X509 CRL block found"),
            expect(parse_crls(b"not a crl"), "BadCrl", "crl: neither PEM nor a DER CRL"),
            expect(
                parse_crls(b"-----BEGIN X509 CRL-----\n!!\n-----END X509 CRL-----\n"),
                "BadCrl",
                "crl: PEM: malformed base64",
            ),
            expect(
                parse_crls(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
                "BadCrl",
                "crl: CRL 1 is not valid DER",
            ),
            expect(
                parse_crls(&read("ca-crl.der")[..100]),
                "BadCrl",
                "crl: DER CRL is truncated or malformed",
            ),
        ];
        assert_eq!(texts.iter().collect::<std::collections::HashSet<_>>().len(), texts.len());
    }

    /// The CRL files do what their names say when rustls checks a client certificate.
    #[test]
    fn crls_revoke_the_revoked_leaf_only() {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certs("ca-cert.pem")[0].clone()).unwrap();
        let roots = Arc::new(roots);
        let verify = |crl: &str, leaf: &str| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.clone(), provider)
                    .with_crls(parse_crls(&read(crl)).unwrap())
                    .build()
                    .unwrap();
            verifier.verify_client_cert(&certs(leaf)[0], &[], rustls_pki_types::UnixTime::now())
        };
        let revoked = verify("ca-crl.pem", "revoked-cert.pem").unwrap_err();
        assert!(
            matches!(revoked, rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked)),
            "{revoked:?}"
        );
        verify("ca-crl.pem", "server-rsa-cert.pem").unwrap();
        verify("ca-crl-empty.pem", "revoked-cert.pem").unwrap();
    }
}
