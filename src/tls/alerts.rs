//! rustls errors as Node reports them: `ERR_SSL_*` codes and OpenSSL-like words.

use super::verify::{node_error, NodeCertError};
use crate::error::{NtlsError, NTLS_ECERT, NTLS_ETLS};
use rustls::{AlertDescription, Error, InvalidMessage, PeerIncompatible, PeerMisbehaved};

/// A fatal handshake_failure alert record (TLS 1.2 record version, as OpenSSL sends it
/// before any key is agreed).
pub(crate) const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// The alert OpenSSL sends where rustls's differs and is still unencrypted, so ours can be
/// sent instead: a TLS 1.2 client that withholds a required certificate gets
/// handshake_failure (rustls sends TLS 1.3's certificate_required even over TLS 1.2).
pub(crate) fn openssl_alert(tls: &rustls::Connection, err: &NtlsError) -> Option<&'static [u8]> {
    let tls12_server = matches!(tls, rustls::Connection::Server(_))
        && tls.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2);
    (tls12_server && err.code() == "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE")
        .then_some(&HANDSHAKE_FAILURE_ALERT)
}

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
        A::Unknown(_) => return ("tlsv1 alert", "unknown".to_owned()),
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

/// OpenSSL's reason for a peer whose hello cannot work with ours. A client older than
/// TLS 1.2 lacks the signature_algorithms and supported_versions extensions: OpenSSL calls
/// that "unsupported protocol", which is what Node users see (and grep for).
fn incompatible_reason(p: &PeerIncompatible) -> &'static str {
    use PeerIncompatible as P;
    match p {
        // A TLS 1.2 client with only RSA key exchange offers no group: for OpenSSL that is
        // no shared cipher, as every suite it could pick is ECDHE.
        P::NoCipherSuitesInCommon | P::NoKxGroupsInCommon => "no shared cipher",
        P::NamedGroupsExtensionRequired => "no shared groups",
        P::KeyShareExtensionRequired => "no suitable key share",
        P::NoSignatureSchemesInCommon | P::NoCertificateRequestSignatureSchemesInCommon => {
            "no suitable signature algorithm"
        }
        P::SignatureAlgorithmsExtensionRequired
        | P::SupportedVersionsExtensionRequired
        | P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled
        | P::Tls13RequiredForQuic
        | P::ServerTlsVersionIsDisabledByOurConfig
        | P::ServerDoesNotSupportTls12Or13 => "unsupported protocol",
        P::NullCompressionRequired => "no compression specified",
        P::EcPointsExtensionRequired | P::NoEcPointFormatsInCommon | P::UncompressedEcPointsRequired => {
            "bad ecpoint"
        }
        P::ServerRejectedEncryptedClientHello(_) => "ech required",
        _ => "bad extension",
    }
}

/// An OpenSSL-style error (`ERR_SSL_*`, `SSL routines::<reason>`).
pub(crate) fn ssl_error(reason: &str) -> NtlsError {
    let code = format!("ERR_SSL_{}", reason.to_uppercase().replace([' ', '-'], "_"));
    NtlsError::new(NTLS_ETLS, &code, format!("SSL routines::{reason}")).with(|d| {
        d.library = Some(crate::error::cstring("SSL routines"));
        d.reason = Some(crate::error::cstring(reason));
    })
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
            n.into_error(host)
        }
        Error::NoApplicationProtocol => ssl_error("no application protocol"),
        Error::PeerIncompatible(p) => ssl_error(incompatible_reason(p)),
        // A handshake message announcing more than rustls takes (64 KiB) is refused before
        // it is buffered, as OpenSSL refuses one over its own limit; so is a record over
        // the 16 KiB (plus expansion) that TLS allows.
        Error::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge) => {
            ssl_error("excessive message size")
        }
        Error::InvalidMessage(InvalidMessage::MessageTooLarge) => ssl_error("packet length too long"),
        Error::InvalidMessage(_)
        | Error::InappropriateMessage { .. }
        | Error::InappropriateHandshakeMessage { .. } => ssl_error("wrong version number"),
        Error::DecryptError => ssl_error("decryption failed or bad record mac"),
        Error::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol) => {
            ssl_error("no application protocol")
        }
        // rustls's many kinds of misbehaviour are what OpenSSL reports as a bad value in a
        // message (and rustls answers with the illegal_parameter alert).
        Error::PeerMisbehaved(_) => ssl_error("illegal parameter"),
        Error::NoCertificatesPresented => NtlsError::new(
            NTLS_ECERT,
            "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE",
            "SSL routines::peer did not return a certificate",
        ),
        other => NtlsError::new(NTLS_ETLS, "ERR_SSL_INTERNAL_ERROR", other.to_string()),
    }
}

/// Node's error for records a connection could not process: plain HTTP sent to a TLS
/// port during the handshake is named as OpenSSL names it; anything else as `tls_error`
/// maps it, with the peer's chain and the host refining certificate errors.
pub fn connection_error(
    e: &Error,
    tls: &rustls::Connection,
    handshaking: bool,
    first_bytes: &[u8; 4],
    host: &str,
) -> NtlsError {
    if let (true, Some((code, words))) = (handshaking, plaintext_protocol(first_bytes)) {
        return NtlsError::new(NTLS_ETLS, code, words);
    }
    let chain = tls.peer_certificates().map(<[_]>::to_vec).unwrap_or_default();
    tls_error(e, &chain, host)
}

/// OpenSSL's diagnosis of plain HTTP sent to a TLS port, which Node reports as is.
fn plaintext_protocol(first: &[u8; 4]) -> Option<(&'static str, &'static str)> {
    match first {
        b"GET " | b"POST" | b"HEAD" | b"PUT " => Some(("ERR_SSL_HTTP_REQUEST", "SSL routines::http request")),
        b"CONN" => Some(("ERR_SSL_HTTPS_PROXY_REQUEST", "SSL routines::https proxy request")),
        _ => None,
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
        let e = tls_error(&Error::AlertReceived(AlertDescription::Unknown(200)), &[], "");
        assert_eq!(e.code(), "ERR_SSL_TLSV1_ALERT_UNKNOWN");
        let e = tls_error(&Error::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge), &[], "");
        assert_eq!(e.code(), "ERR_SSL_EXCESSIVE_MESSAGE_SIZE");
        let e = tls_error(&Error::InvalidMessage(InvalidMessage::MessageTooLarge), &[], "");
        assert_eq!(e.code(), "ERR_SSL_PACKET_LENGTH_TOO_LONG");
    }

    #[test]
    fn a_client_older_than_tls_1_2_is_an_unsupported_protocol() {
        let incompatible = PeerIncompatible::SignatureAlgorithmsExtensionRequired;
        let e = tls_error(&Error::PeerIncompatible(incompatible), &[], "");
        assert_eq!(e.code(), "ERR_SSL_UNSUPPORTED_PROTOCOL");
        assert_eq!(e.message(), "SSL routines::unsupported protocol");
    }

    #[test]
    fn codes_are_never_rust_debug_text() {
        use PeerIncompatible as P;
        let all = [
            P::EcPointsExtensionRequired,
            P::ExtendedMasterSecretExtensionRequired,
            P::IncorrectCertificateTypeExtension,
            P::KeyShareExtensionRequired,
            P::NamedGroupsExtensionRequired,
            P::NoCertificateRequestSignatureSchemesInCommon,
            P::NoCipherSuitesInCommon,
            P::NoEcPointFormatsInCommon,
            P::NoKxGroupsInCommon,
            P::NoSignatureSchemesInCommon,
            P::NullCompressionRequired,
            P::ServerDoesNotSupportTls12Or13,
            P::ServerSentHelloRetryRequestWithUnknownExtension,
            P::ServerTlsVersionIsDisabledByOurConfig,
            P::SignatureAlgorithmsExtensionRequired,
            P::SupportedVersionsExtensionRequired,
            P::Tls12NotOffered,
            P::Tls12NotOfferedOrEnabled,
            P::Tls13RequiredForQuic,
            P::UncompressedEcPointsRequired,
            P::UnsolicitedCertificateTypeExtension,
        ];
        for p in all {
            let code = tls_error(&Error::PeerIncompatible(p), &[], "").code().to_owned();
            assert!(code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{code}");
            assert!(
                !code.contains("INCOMPATIBLE") && !code.contains("REQUIRED"),
                "{code} reads like rustls's name"
            );
        }
        let e = tls_error(&Error::PeerMisbehaved(PeerMisbehaved::IllegalMiddleboxChangeCipherSpec), &[], "");
        assert_eq!(e.code(), "ERR_SSL_ILLEGAL_PARAMETER");
    }
}
