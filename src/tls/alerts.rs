//! rustls errors as Node reports them: `ERR_SSL_*` codes and OpenSSL-like words.

use super::verify::{node_error, NodeCertError};
use crate::error::{NtlsError, NTLS_ECERT, NTLS_ETLS};
use rustls::{AlertDescription, Error, PeerIncompatible, PeerMisbehaved};

/// OpenSSL's reason for an alert a peer sent: its prefix names the protocol that defined it.
fn alert_reason(a: AlertDescription) -> (&'static str, String) {
    use AlertDescription as A;
    let prefix = match a {
        A::CloseNotify
        | A::UnexpectedMessage
        | A::BadRecordMac
        | A::DecompressionFailure
        | A::HandshakeFailure
        | A::NoCertificate
        | A::BadCertificate
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::CertificateUnknown
        | A::IllegalParameter => "sslv3 alert",
        A::CertificateRequired | A::MissingExtension => "tlsv13 alert",
        A::UnrecognisedName => "tlsv1",
        _ => "tlsv1 alert",
    };
    let words = format!("{a:?}")
        .chars()
        .fold((String::new(), false), |(mut s, prev_lower), c| {
            if c.is_uppercase() && prev_lower {
                s.push(' ');
            }
            s.push(c.to_ascii_lowercase());
            (s, c.is_lowercase())
        })
        .0
        .replace("unrecognised", "unrecognized");
    (prefix, words)
}

fn ssl_error(reason: &str) -> NtlsError {
    let code = format!("ERR_SSL_{}", reason.to_uppercase().replace([' ', '-'], "_"));
    NtlsError::new(NTLS_ETLS, &code, format!("SSL routines::{reason}"))
}

/// Node's error for a failed TLS connection; `chain` and `host` refine certificate errors.
pub fn tls_error(e: &Error, chain: &[rustls::pki_types::CertificateDer<'_>], host: &str) -> NtlsError {
    match e {
        Error::AlertReceived(a) => {
            let (prefix, words) = alert_reason(*a);
            ssl_error(&format!("{prefix} {words}"))
        }
        Error::InvalidCertificate(_) => {
            let n: NodeCertError =
                NodeCertError::from_rustls(e).unwrap_or_else(|| node_error(e, chain, host));
            NtlsError::new(NTLS_ECERT, n.code, n.message)
        }
        Error::NoApplicationProtocol => ssl_error("no application protocol"),
        Error::PeerIncompatible(p) => match p {
            PeerIncompatible::NoCipherSuitesInCommon => ssl_error("no shared cipher"),
            PeerIncompatible::NoKxGroupsInCommon | PeerIncompatible::NoSignatureSchemesInCommon => {
                ssl_error("no suitable signature algorithm")
            }
            PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::Tls13RequiredForQuic
            | PeerIncompatible::SupportedVersionsExtensionRequired => ssl_error("unsupported protocol"),
            PeerIncompatible::ServerDoesNotSupportTls12Or13 => ssl_error("unsupported protocol"),
            other => ssl_error(&format!("peer incompatible {other:?}").to_lowercase()),
        },
        Error::InvalidMessage(_)
        | Error::InappropriateMessage { .. }
        | Error::InappropriateHandshakeMessage { .. } => ssl_error("wrong version number"),
        Error::DecryptError => ssl_error("decryption failed or bad record mac"),
        Error::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol) => {
            ssl_error("no application protocol")
        }
        Error::PeerMisbehaved(m) => ssl_error(&format!("peer misbehaved {m:?}").to_lowercase()),
        Error::NoCertificatesPresented => NtlsError::new(
            NTLS_ECERT,
            "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE",
            "SSL routines::peer did not return a certificate",
        ),
        other => NtlsError::new(NTLS_ETLS, "ERR_SSL_INTERNAL_ERROR", other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_get_openssl_names() {
        let e = tls_error(&Error::AlertReceived(AlertDescription::HandshakeFailure), &[], "");
        assert_eq!(e.code(), "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
        let e = tls_error(&Error::AlertReceived(AlertDescription::NoApplicationProtocol), &[], "");
        assert_eq!(e.code(), "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
        let e = tls_error(&Error::AlertReceived(AlertDescription::UnknownCA), &[], "");
        assert_eq!(e.code(), "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA");
        let e = tls_error(&Error::AlertReceived(AlertDescription::CertificateRequired), &[], "");
        assert_eq!(e.code(), "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
        let e = tls_error(&Error::NoApplicationProtocol, &[], "");
        assert_eq!(e.code(), "ERR_SSL_NO_APPLICATION_PROTOCOL");
        let e = tls_error(&Error::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon), &[], "");
        assert_eq!(e.code(), "ERR_SSL_NO_SHARED_CIPHER");
    }
}
