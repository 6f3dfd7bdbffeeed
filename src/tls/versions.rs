//! Node's `secureProtocol`, `minVersion` and `maxVersion`: the TLS versions a context allows.
//! rustls speaks TLS 1.2 and 1.3; older versions are refused by name.

use crate::error::NTLS_ENOTSUP;
use crate::options::keys::{NTLS_OPT_MAX_VERSION, NTLS_OPT_MIN_VERSION, NTLS_OPT_SECURE_PROTOCOL};
use crate::options::{OptionError, Options};
use rustls::version::{TLS12, TLS13};
use rustls::{ProtocolVersion, SupportedProtocolVersion};
use std::fmt;

/// Why Node (or nodetls, which has only TLS 1.2 and 1.3) would refuse the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionError {
    /// A version nodetls cannot offer (TLSv1, TLSv1.1, SSLv3; their methods too).
    NotSupported(String),
    /// `ERR_TLS_INVALID_PROTOCOL_VERSION`: an unknown minVersion/maxVersion, or min above max.
    Invalid(String),
    /// `ERR_TLS_INVALID_PROTOCOL_METHOD`: an unknown `secureProtocol`.
    InvalidMethod(String),
    /// `ERR_TLS_PROTOCOL_VERSION_CONFLICT`: `secureProtocol` with minVersion or maxVersion.
    Conflict(String),
}

impl VersionError {
    /// Node's error code (nodetls's own for `NotSupported`).
    pub fn code(&self) -> &'static str {
        match self {
            VersionError::NotSupported(_) => "ERR_TLS_PROTOCOL_VERSION_NOT_SUPPORTED",
            VersionError::Invalid(_) => "ERR_TLS_INVALID_PROTOCOL_VERSION",
            VersionError::InvalidMethod(_) => "ERR_TLS_INVALID_PROTOCOL_METHOD",
            VersionError::Conflict(_) => "ERR_TLS_PROTOCOL_VERSION_CONFLICT",
        }
    }

    /// The message, worded as Node's.
    pub fn message(&self) -> &str {
        match self {
            VersionError::NotSupported(m)
            | VersionError::Invalid(m)
            | VersionError::InvalidMethod(m)
            | VersionError::Conflict(m) => m,
        }
    }
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for VersionError {}

/// The versions Node knows, oldest first, so that `<` compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Version {
    Ssl2,
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl Version {
    fn name(self) -> &'static str {
        match self {
            Version::Ssl2 => "SSLv2",
            Version::Ssl3 => "SSLv3",
            Version::Tls10 => "TLSv1",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }

    /// rustls has it.
    fn available(self) -> Result<Version, VersionError> {
        if self >= Version::Tls12 {
            return Ok(self);
        }
        Err(VersionError::NotSupported(format!(
            "{} is not supported; nodetls supports TLSv1.2 and TLSv1.3",
            self.name()
        )))
    }
}

/// Node's `DEFAULT_MIN_VERSION` and `DEFAULT_MAX_VERSION`.
const DEFAULT_RANGE: (Version, Version) = (Version::Tls12, Version::Tls13);

/// The versions the options allow, newest first (TLS 1.2 and 1.3 when none is given).
pub fn resolve_versions(
    secure_protocol: Option<&str>,
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'static SupportedProtocolVersion>, VersionError> {
    // Node checks these in this order, before it looks at the method's name.
    if let Some(method) = secure_protocol.filter(|m| !m.is_empty()) {
        if let Some(v) = min.or(max) {
            return Err(VersionError::Conflict(format!(
                "TLS protocol version {v:?} conflicts with secureProtocol {method:?}"
            )));
        }
    }
    let lo = min.map(|v| named("minimum", v)).transpose()?;
    let hi = max.map(|v| named("maximum", v)).transpose()?;
    let (lo, hi) = match secure_protocol {
        Some(method) => method_range(method)?,
        None => (lo.unwrap_or(DEFAULT_RANGE.0), hi.unwrap_or(DEFAULT_RANGE.1)),
    };
    let (lo, hi) = (lo.available()?, hi.available()?);
    if lo > hi {
        return Err(VersionError::Invalid(format!(
            "minVersion {:?} is higher than maxVersion {:?}",
            lo.name(),
            hi.name()
        )));
    }
    let mut versions = Vec::new();
    if hi == Version::Tls13 {
        versions.push(&TLS13);
    }
    if lo == Version::Tls12 {
        versions.push(&TLS12);
    }
    Ok(versions)
}

/// Node's `toV`: the version strings it takes for minVersion / maxVersion.
fn named(which: &str, v: &str) -> Result<Version, VersionError> {
    match v {
        "TLSv1" => Ok(Version::Tls10),
        "TLSv1.1" => Ok(Version::Tls11),
        "TLSv1.2" => Ok(Version::Tls12),
        "TLSv1.3" => Ok(Version::Tls13),
        // Node calls it invalid; nodetls says why it cannot be had.
        "SSLv3" => Ok(Version::Ssl3),
        _ => Err(VersionError::Invalid(format!("{v:?} is not a valid {which} TLS protocol version"))),
    }
}

/// The range a `secureProtocol` method stands for, as Node's `SecureContext::Init` sets it.
fn method_range(method: &str) -> Result<(Version, Version), VersionError> {
    let base = method.strip_suffix("_server_method").or_else(|| method.strip_suffix("_client_method"));
    let base = base.or_else(|| method.strip_suffix("_method"));
    use Version::*;
    match base {
        Some("TLS") => Ok(DEFAULT_RANGE),
        // Node caps the SSLv23 methods at TLS 1.2 and keeps the default minimum.
        Some("SSLv23") => Ok((DEFAULT_RANGE.0, Tls12)),
        Some("TLSv1_3") => Ok((Tls13, Tls13)),
        Some("TLSv1_2") => Ok((Tls12, Tls12)),
        Some("TLSv1_1") => Ok((Tls11, Tls11)),
        Some("TLSv1") => Ok((Tls10, Tls10)),
        // Node says "SSLv3 methods disabled"; nodetls says what it has instead.
        Some("SSLv3") => Ok((Ssl3, Ssl3)),
        Some("SSLv2") => Ok((Ssl2, Ssl2)),
        _ => Err(VersionError::InvalidMethod(format!("Unknown method: {method}"))),
    }
}

/// [`resolve_versions`] over a context's options: what `SecureContext` uses.
pub fn resolve(o: &Options) -> Result<Vec<&'static SupportedProtocolVersion>, OptionError> {
    let (sp, min, max) =
        (o.str(NTLS_OPT_SECURE_PROTOCOL), o.str(NTLS_OPT_MIN_VERSION), o.str(NTLS_OPT_MAX_VERSION));
    resolve_versions(sp, min, max).map_err(|e| match e {
        VersionError::NotSupported(m) => OptionError { status: NTLS_ENOTSUP, message: m },
        other => OptionError::invalid(other.message()),
    })
}

/// The name Node's `getProtocol()` gives a version (`TLSv1.2`, `TLSv1.3`).
pub fn protocol_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        ProtocolVersion::TLSv1_1 => "TLSv1.1",
        ProtocolVersion::TLSv1_0 => "TLSv1",
        ProtocolVersion::SSLv3 => "SSLv3",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sp: Option<&str>, min: Option<&str>, max: Option<&str>) -> Result<Vec<&'static str>, String> {
        resolve_versions(sp, min, max)
            .map(|v| v.iter().map(|v| protocol_name(v.version)).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_ranges() {
        for (min, max, want) in [
            (None, None, vec!["TLSv1.3", "TLSv1.2"]),
            (Some("TLSv1.2"), None, vec!["TLSv1.3", "TLSv1.2"]),
            (Some("TLSv1.3"), None, vec!["TLSv1.3"]),
            (None, Some("TLSv1.2"), vec!["TLSv1.2"]),
            (None, Some("TLSv1.3"), vec!["TLSv1.3", "TLSv1.2"]),
            (Some("TLSv1.2"), Some("TLSv1.2"), vec!["TLSv1.2"]),
            (Some("TLSv1.3"), Some("TLSv1.3"), vec!["TLSv1.3"]),
        ] {
            assert_eq!(names(None, min, max).unwrap(), want, "{min:?} {max:?}");
        }
    }

    #[test]
    fn secure_protocol_methods() {
        for (m, want) in [
            ("TLS_method", vec!["TLSv1.3", "TLSv1.2"]),
            ("TLS_server_method", vec!["TLSv1.3", "TLSv1.2"]),
            ("TLS_client_method", vec!["TLSv1.3", "TLSv1.2"]),
            ("TLSv1_2_method", vec!["TLSv1.2"]),
            ("TLSv1_2_server_method", vec!["TLSv1.2"]),
            ("TLSv1_2_client_method", vec!["TLSv1.2"]),
            ("TLSv1_3_method", vec!["TLSv1.3"]),
            ("TLSv1_3_server_method", vec!["TLSv1.3"]),
            ("SSLv23_method", vec!["TLSv1.2"]),
            ("SSLv23_client_method", vec!["TLSv1.2"]),
        ] {
            assert_eq!(names(Some(m), None, None).unwrap(), want, "{m}");
        }
    }

    #[test]
    fn old_versions_are_not_supported() {
        let msg = "TLSv1.1 is not supported; nodetls supports TLSv1.2 and TLSv1.3";
        for (sp, min, max) in [
            (None, Some("TLSv1.1"), None),
            (None, None, Some("TLSv1.1")),
            (Some("TLSv1_1_method"), None, None),
            (Some("TLSv1_1_server_method"), None, None),
        ] {
            let e = resolve_versions(sp, min, max).unwrap_err();
            assert_eq!(e, VersionError::NotSupported(msg.into()), "{sp:?} {min:?} {max:?}");
        }
        for (sp, min) in [
            (None, Some("TLSv1")),
            (Some("TLSv1_method"), None),
            (None, Some("SSLv3")),
            (Some("SSLv3_method"), None),
            (Some("SSLv2_client_method"), None),
        ] {
            let e = resolve_versions(sp, min, None).unwrap_err();
            assert!(matches!(e, VersionError::NotSupported(_)), "{e}");
            assert!(e.message().ends_with("is not supported; nodetls supports TLSv1.2 and TLSv1.3"));
        }
    }

    #[test]
    fn node_wording_for_bad_values() {
        let cases = [
            ((Some("foo"), None, None), "ERR_TLS_INVALID_PROTOCOL_METHOD: Unknown method: foo"),
            ((Some(""), None, None), "ERR_TLS_INVALID_PROTOCOL_METHOD: Unknown method: "),
            (
                (None, Some("foo"), None),
                "ERR_TLS_INVALID_PROTOCOL_VERSION: \"foo\" is not a valid minimum TLS protocol version",
            ),
            (
                (None, Some("TLSv1.3"), Some("tlsv1.2")),
                "ERR_TLS_INVALID_PROTOCOL_VERSION: \"tlsv1.2\" is not a valid maximum TLS protocol version",
            ),
            (
                (None, Some("TLSv1.3"), Some("TLSv1.2")),
                "ERR_TLS_INVALID_PROTOCOL_VERSION: minVersion \"TLSv1.3\" is higher than maxVersion \"TLSv1.2\"",
            ),
            (
                (Some("TLS_method"), Some("TLSv1.2"), None),
                "ERR_TLS_PROTOCOL_VERSION_CONFLICT: TLS protocol version \"TLSv1.2\" conflicts with secureProtocol \"TLS_method\"",
            ),
            (
                (Some("foo"), None, Some("TLSv1.3")),
                "ERR_TLS_PROTOCOL_VERSION_CONFLICT: TLS protocol version \"TLSv1.3\" conflicts with secureProtocol \"foo\"",
            ),
            // An empty method is no method to Node's conflict check, but still unknown.
            ((Some(""), Some("TLSv1.2"), None), "ERR_TLS_INVALID_PROTOCOL_METHOD: Unknown method: "),
            ((Some(""), Some("bad"), None), "ERR_TLS_INVALID_PROTOCOL_VERSION: \"bad\" is not a valid minimum TLS protocol version"),
        ];
        for ((sp, min, max), want) in cases {
            assert_eq!(names(sp, min, max).unwrap_err(), want);
        }
    }

    #[test]
    fn from_context_options() {
        use crate::options::Value;
        let opts = |pairs: &[(std::ffi::c_int, &str)]| {
            let mut o = Options::new();
            for (k, v) in pairs {
                o.set(*k, Value::Str((*v).into()), false).unwrap();
            }
            resolve(&o)
        };
        let v = opts(&[(NTLS_OPT_MIN_VERSION, "TLSv1.3")]).unwrap();
        assert_eq!(v.iter().map(|v| protocol_name(v.version)).collect::<Vec<_>>(), ["TLSv1.3"]);
        assert_eq!(opts(&[]).unwrap().len(), 2);
        let e = opts(&[(NTLS_OPT_SECURE_PROTOCOL, "TLSv1_method")]).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (NTLS_ENOTSUP, "TLSv1 is not supported; nodetls supports TLSv1.2 and TLSv1.3")
        );
        let e = opts(&[(NTLS_OPT_SECURE_PROTOCOL, "bogus")]).unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (crate::error::NTLS_EINVAL, "Unknown method: bogus"));
        let e = opts(&[(NTLS_OPT_SECURE_PROTOCOL, "TLS_method"), (NTLS_OPT_MAX_VERSION, "TLSv1.3")]);
        assert!(e.unwrap_err().message.contains("conflicts"));
    }

    #[test]
    fn protocol_names() {
        assert_eq!(protocol_name(ProtocolVersion::TLSv1_3), "TLSv1.3");
        assert_eq!(protocol_name(ProtocolVersion::TLSv1_2), "TLSv1.2");
        assert_eq!(protocol_name(ProtocolVersion::TLSv1_0), "TLSv1");
        assert_eq!(protocol_name(ProtocolVersion::Unknown(0x0a0a)), "unknown");
    }
}
