//! `secureProtocol`, `minVersion`, `maxVersion`: which TLS versions a context allows.
//! rustls speaks TLS 1.2 and 1.3; older versions are refused by name.

use super::option_keys::*;
use super::options::{OptionError, Options};
use crate::error::NTLS_ENOTSUP;
use rustls::version::{TLS12, TLS13};
use rustls::SupportedProtocolVersion;

fn unsupported(name: &str) -> OptionError {
    OptionError {
        status: NTLS_ENOTSUP,
        message: format!("{name} is not supported; nodetls supports TLSv1.2 and TLSv1.3"),
    }
}

/// A version name as minVersion/maxVersion spell it: 2 for TLSv1.2, 3 for TLSv1.3.
fn level(option: &str, name: &str) -> Result<u8, OptionError> {
    match name {
        "TLSv1.3" => Ok(3),
        "TLSv1.2" => Ok(2),
        "TLSv1.1" | "TLSv1" | "SSLv3" => Err(unsupported(name)),
        other => {
            Err(OptionError::invalid(format!("\"{other}\" is not a valid {option} TLS protocol version")))
        }
    }
}

/// The range a `secureProtocol` method names.
fn method_range(method: &str) -> Result<(u8, u8), OptionError> {
    let base = method.replace("_server_method", "_method").replace("_client_method", "_method");
    match base.as_str() {
        "TLS_method" | "SSLv23_method" => Ok((2, 3)),
        "TLSv1_2_method" => Ok((2, 2)),
        "TLSv1_3_method" => Ok((3, 3)),
        "SSLv3_method" => Err(unsupported("SSLv3")),
        "TLSv1_method" => Err(unsupported("TLSv1")),
        "TLSv1_1_method" => Err(unsupported("TLSv1.1")),
        _ => Err(OptionError::invalid(format!("Unknown method: {method}"))),
    }
}

/// The versions the options allow, in rustls's terms; every bad value is refused here.
pub fn resolve(o: &Options) -> Result<Vec<&'static SupportedProtocolVersion>, OptionError> {
    let (min, max) = (o.str(NTLS_OPT_MIN_VERSION), o.str(NTLS_OPT_MAX_VERSION));
    let (lo, hi) = match o.str(NTLS_OPT_SECURE_PROTOCOL) {
        Some(method) => {
            if let Some(v) = min.or(max) {
                return Err(OptionError::invalid(format!(
                    "TLS protocol version {v} conflicts with secureProtocol {method}"
                )));
            }
            method_range(method)?
        }
        None => {
            let lo = min.map(|m| level("minimum", m)).transpose()?.unwrap_or(2);
            let hi = max.map(|m| level("maximum", m)).transpose()?.unwrap_or(3);
            if lo > hi {
                return Err(OptionError::invalid(format!(
                    "minVersion {} is above maxVersion {}",
                    min.unwrap_or("TLSv1.2"),
                    max.unwrap_or("TLSv1.3")
                )));
            }
            (lo, hi)
        }
    };
    let mut out = Vec::new();
    if hi >= 3 {
        out.push(&TLS13);
    }
    if lo <= 2 {
        out.push(&TLS12);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::options::Value;

    fn versions(pairs: &[(std::ffi::c_int, &str)]) -> Result<Vec<u16>, OptionError> {
        let mut o = Options::new();
        for (k, v) in pairs {
            o.set(*k, Value::Str((*v).into()), false).unwrap();
        }
        resolve(&o).map(|v| v.iter().map(|x| u16::from(x.version)).collect())
    }

    #[test]
    fn table() {
        assert_eq!(versions(&[]).unwrap(), vec![0x0304, 0x0303]);
        assert_eq!(versions(&[(NTLS_OPT_SECURE_PROTOCOL, "TLSv1_2_method")]).unwrap(), vec![0x0303]);
        assert_eq!(versions(&[(NTLS_OPT_SECURE_PROTOCOL, "TLSv1_3_server_method")]).unwrap(), vec![0x0304]);
        assert_eq!(
            versions(&[(NTLS_OPT_SECURE_PROTOCOL, "TLS_client_method")]).unwrap(),
            vec![0x0304, 0x0303]
        );
        assert_eq!(versions(&[(NTLS_OPT_MAX_VERSION, "TLSv1.2")]).unwrap(), vec![0x0303]);
        assert_eq!(versions(&[(NTLS_OPT_MIN_VERSION, "TLSv1.3")]).unwrap(), vec![0x0304]);
        let e = versions(&[(NTLS_OPT_SECURE_PROTOCOL, "TLSv1_method")]).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (NTLS_ENOTSUP, "TLSv1 is not supported; nodetls supports TLSv1.2 and TLSv1.3")
        );
        assert_eq!(versions(&[(NTLS_OPT_MIN_VERSION, "TLSv1.1")]).unwrap_err().status, NTLS_ENOTSUP);
        assert_eq!(
            versions(&[(NTLS_OPT_SECURE_PROTOCOL, "bogus")]).unwrap_err().message,
            "Unknown method: bogus"
        );
        assert!(versions(&[(NTLS_OPT_MIN_VERSION, "TLSv1.3"), (NTLS_OPT_MAX_VERSION, "TLSv1.2")]).is_err());
        assert!(versions(&[(NTLS_OPT_SECURE_PROTOCOL, "TLS_method"), (NTLS_OPT_MIN_VERSION, "TLSv1.2")])
            .unwrap_err()
            .message
            .contains("conflicts"));
        assert!(versions(&[(NTLS_OPT_MAX_VERSION, "TLS1.2")])
            .unwrap_err()
            .message
            .contains("not a valid maximum"));
    }
}
