//! The client configuration every server is measured with.

use rustls::crypto::aws_lc_rs::{self as provider, cipher_suite as cs, kx_group};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::ClientConfig;
use std::sync::Arc;

/// One cipher (AES-128-GCM, the one `openssl speed` gives the ceiling for) and X25519 first,
/// so Node (OpenSSL 3.0, no ML-KEM) and rustls servers do the same work. P-256 is offered
/// too only because OpenSSL refuses a TLS 1.2 ECDSA P-256 certificate to a client that
/// does not list that curve; X25519 still wins the key exchange.
pub fn client_config(ca: &str, tls12: bool, resume: bool) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(ca).unwrap_or_else(|e| crate::modes::fail(format!("{ca}: {e}")));
    for c in certs {
        let c = c.unwrap_or_else(|e| crate::modes::fail(format!("{ca}: {e}")));
        roots.add(c).unwrap_or_else(|e| crate::modes::fail(format!("{ca}: {e}")));
    }
    let mut p = provider::default_provider();
    p.kx_groups = vec![kx_group::X25519, kx_group::SECP256R1];
    p.cipher_suites = vec![
        cs::TLS13_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ];
    let versions: &[&rustls::SupportedProtocolVersion] =
        if tls12 { &[&rustls::version::TLS12] } else { &[&rustls::version::TLS13] };
    let mut config = ClientConfig::builder_with_provider(Arc::new(p))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !resume {
        config.resumption = rustls::client::Resumption::disabled();
    }
    Arc::new(config)
}
