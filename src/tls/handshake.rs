//! What rustls tells our hooks during a handshake, carried to the one connection it
//! concerns: key-log lines (`keylog`, `SSLKEYLOGFILE`), the secrets behind
//! `exportKeyingMaterial`, and the certificate we presented (`getCertificate`).

pub mod exporter;
pub mod keylog;
pub mod notes;
