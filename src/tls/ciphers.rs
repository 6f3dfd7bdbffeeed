//! Node's `ciphers` option: OpenSSL 3.0's cipher-string rules, then the suites rustls has.
//!
//! The rules run over OpenSSL's whole suite list (CBC, plain RSA, DHE, PSK, ARIA ...), so
//! that `!RSA`, `-`, `+`, `@STRENGTH` and "selects nothing" mean what they mean to OpenSSL;
//! only the result is cut down to what rustls offers. Node's own step first splits the
//! `TLS_*` words (TLS 1.3 suites) from the rest.

pub(crate) mod rules;
pub(crate) mod table;

use rules::{allowed_at, min_bits};
use rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES;
use rustls::{CipherSuite, SupportedCipherSuite};
use std::fmt;
use std::sync::{OnceLock, RwLock};
use table::{SUITES, TLS13_SUITES};

/// Node 20's `tls.DEFAULT_CIPHERS`.
pub const NODE_DEFAULT_CIPHERS: &str = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:\
TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:\
ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:\
ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:\
ECDHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA256:HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:\
!SRP:!CAMELLIA";

/// The security level of a Node context that no `@SECLEVEL` changed.
const DEFAULT_SECLEVEL: u8 = 1;

/// The suites a Node `ciphers` string selects, in order. Either list can be empty where
/// Node accepts a string whose suites rustls lacks (`AES128-SHA`, `TLS_AES_128_CCM_SHA256`):
/// that version then cannot be negotiated, as with Node no suite of it could be.
#[derive(Debug, Clone, PartialEq)]
pub struct CipherSelection {
    /// TLS 1.3 suites: the string's `TLS_*` names, or rustls's three when it has none.
    pub tls13: Vec<SupportedCipherSuite>,
    /// TLS 1.2 suites; empty when the string selects none that rustls has.
    pub tls12: Vec<SupportedCipherSuite>,
    /// The string named TLS 1.3 suites itself.
    pub tls13_explicit: bool,
}

/// Why Node would refuse a `ciphers` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CipherError {
    /// `ERR_SSL_NO_CIPHER_MATCH`: the string selects no suite OpenSSL 3 offers.
    NoMatch(String),
    /// `ERR_SSL_INVALID_COMMAND`: a character or `@` command OpenSSL does not know.
    InvalidCommand(String),
    /// `ERR_INVALID_ARG_VALUE`: nothing but separators.
    InvalidValue(String),
}

impl CipherError {
    /// Node's error code.
    pub fn code(&self) -> &'static str {
        match self {
            CipherError::NoMatch(_) => "ERR_SSL_NO_CIPHER_MATCH",
            CipherError::InvalidCommand(_) => "ERR_SSL_INVALID_COMMAND",
            CipherError::InvalidValue(_) => "ERR_INVALID_ARG_VALUE",
        }
    }

    /// The message, worded as Node's.
    pub fn message(&self) -> &str {
        match self {
            CipherError::NoMatch(m) | CipherError::InvalidCommand(m) | CipherError::InvalidValue(m) => m,
        }
    }
}

impl fmt::Display for CipherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for CipherError {}

fn no_match() -> CipherError {
    CipherError::NoMatch("no cipher match".into())
}

static DEFAULT_OVERRIDE: RwLock<Option<String>> = RwLock::new(None);

/// Parses a Node/OpenSSL cipher string; "" means the current default, as in Node.
pub fn parse_cipher_list(s: &str) -> Result<CipherSelection, CipherError> {
    if s.is_empty() {
        return parse_node(&default_ciphers());
    }
    parse_node(s)
}

/// Process-wide default like `--tls-cipher-list`; refused if Node would refuse it.
pub fn set_default_ciphers(s: &str) -> Result<(), CipherError> {
    parse_node(s)?;
    *DEFAULT_OVERRIDE.write().unwrap_or_else(|e| e.into_inner()) = Some(s.to_owned());
    Ok(())
}

/// The current default cipher string.
pub fn default_ciphers() -> String {
    let guard = DEFAULT_OVERRIDE.read().unwrap_or_else(|e| e.into_inner());
    guard.clone().unwrap_or_else(|| NODE_DEFAULT_CIPHERS.to_owned())
}

/// `tls.getCiphers()`: lowercase OpenSSL names of every suite rustls offers, sorted.
pub fn get_ciphers() -> Vec<&'static str> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut v: Vec<String> =
            ALL_CIPHER_SUITES.iter().map(|s| openssl_name(*s).to_ascii_lowercase()).collect();
        v.sort();
        v
    });
    names.iter().map(String::as_str).collect()
}

/// OpenSSL name of a suite (`ECDHE-RSA-AES128-GCM-SHA256`, `TLS_AES_128_GCM_SHA256`).
pub fn openssl_name(suite: SupportedCipherSuite) -> &'static str {
    names_of(suite.suite()).0
}

/// IANA name of a suite (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
pub fn standard_name(suite: SupportedCipherSuite) -> &'static str {
    names_of(suite.suite()).1
}

fn names_of(suite: CipherSuite) -> (&'static str, &'static str) {
    let id = u16::from(suite);
    if let Some(c) = SUITES.iter().find(|c| c.id == id) {
        return (c.name, c.std_name);
    }
    if let Some(&(_, name, _)) = TLS13_SUITES.iter().find(|(i, _, _)| *i == id) {
        return (name, name);
    }
    let name = suite.as_str().unwrap_or("UNKNOWN");
    (name, name)
}

/// Node's `processCiphers`, then OpenSSL's `SSL_CTX_set_ciphersuites` and
/// `SSL_CTX_set_cipher_list`, in that order.
fn parse_node(s: &str) -> Result<CipherSelection, CipherError> {
    // Node splits on ':' alone: "A,TLS_X" is one OpenSSL rule string, not a TLS 1.3 name.
    let parts: Vec<&str> = s.split(':').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(CipherError::InvalidValue(format!(
            "The property 'options.ciphers' is invalid. Received '{s}'"
        )));
    }
    let (tls_words, rules): (Vec<&str>, Vec<&str>) = parts.iter().partition(|p| p.starts_with("TLS_"));
    let (explicit13, named12) = tls_names(&tls_words)?;
    let rule_str = rules.join(":");
    // Without rules Node turns TLS 1.2 off (OpenSSL then has no list to complain about);
    // only TLS 1.2 suites named in IANA spelling are left.
    let (selected, seclevel) = match rule_str.as_str() {
        "" => (Vec::new(), None),
        r => {
            let sel = rules::run(r).map_err(|_| CipherError::InvalidCommand("invalid command".into()))?;
            (sel.suites, sel.seclevel)
        }
    };
    if !rule_str.is_empty() && selected.is_empty() && named12.is_empty() {
        return Err(no_match());
    }
    let level = seclevel.unwrap_or(DEFAULT_SECLEVEL);
    let mut order12 = named12;
    for i in selected {
        if !order12.contains(&i) {
            order12.push(i);
        }
    }
    let tls12 = order12
        .into_iter()
        .map(|i| &SUITES[i])
        .filter(|c| allowed_at(level, c))
        .filter_map(|c| rustls_suite(c.id))
        .collect();
    let tls13_explicit = explicit13.is_some();
    let ids13 = explicit13.unwrap_or_else(|| {
        ALL_CIPHER_SUITES.iter().filter(|s| s.tls13().is_some()).map(|s| u16::from(s.suite())).collect()
    });
    let tls13 = ids13
        .into_iter()
        .filter(|id| TLS13_SUITES.iter().any(|(i, _, bits)| i == id && *bits >= min_bits(level)))
        .filter_map(rustls_suite)
        .collect();
    Ok(CipherSelection { tls13, tls12, tls13_explicit })
}

/// What `SSL_CTX_set_ciphersuites` makes of the `TLS_*` words: the TLS 1.3 suites (None
/// when none is named), and TLS 1.2 suites named in IANA spelling. OpenSSL looks these
/// words up among all suites and puts a TLS 1.2 one first in the TLS 1.2 list, which is
/// what a user naming it means; unknown words are skipped unless all are unknown.
fn tls_names(words: &[&str]) -> Result<(Option<Vec<u16>>, Vec<usize>), CipherError> {
    let mut tls13: Option<Vec<u16>> = None;
    let mut named12 = Vec::new();
    for w in words {
        if let Some(&(id, _, _)) = TLS13_SUITES.iter().find(|(_, n, _)| n == w) {
            let v = tls13.get_or_insert_with(Vec::new);
            if !v.contains(&id) {
                v.push(id);
            }
        } else if let Some(i) = SUITES.iter().position(|c| c.std_name == *w) {
            named12.push(i);
        }
    }
    if !words.is_empty() && tls13.is_none() && named12.is_empty() {
        return Err(no_match());
    }
    Ok((tls13, named12))
}

fn rustls_suite(id: u16) -> Option<SupportedCipherSuite> {
    ALL_CIPHER_SUITES.iter().copied().find(|s| u16::from(s.suite()) == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shorthand for the nine rustls suites: `e`/`r` = ECDSA/RSA, `a128`/`a256`/`c` = AES-GCM
    /// or ChaCha20; `t…` = TLS 1.3.
    const SHORT: &[(&str, &str)] = &[
        ("ea128", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("ea256", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("ec", "ECDHE-ECDSA-CHACHA20-POLY1305"),
        ("ra128", "ECDHE-RSA-AES128-GCM-SHA256"),
        ("ra256", "ECDHE-RSA-AES256-GCM-SHA384"),
        ("rc", "ECDHE-RSA-CHACHA20-POLY1305"),
        ("t128", "TLS_AES_128_GCM_SHA256"),
        ("t256", "TLS_AES_256_GCM_SHA384"),
        ("tc", "TLS_CHACHA20_POLY1305_SHA256"),
    ];

    fn short(s: SupportedCipherSuite) -> &'static str {
        SHORT.iter().find(|(_, n)| *n == openssl_name(s)).map(|(k, _)| *k).unwrap()
    }

    /// `"<TLS 1.2> | <TLS 1.3>"`, `*` for the default TLS 1.3 suites, or the error code.
    fn describe(s: &str) -> String {
        match parse_cipher_list(s) {
            Err(e) => e.code().to_string(),
            Ok(sel) => {
                let t12: Vec<&str> = sel.tls12.iter().map(|c| short(*c)).collect();
                let t13: Vec<&str> = sel.tls13.iter().map(|c| short(*c)).collect();
                let t13 = if sel.tls13_explicit { t13.join(" ") } else { format!("* {}", t13.join(" ")) };
                format!("{} | {}", t12.join(" "), t13).trim().to_string()
            }
        }
    }

    /// String → what it selects, checked against Node 20 / OpenSSL 3.0.19 where Node agrees
    /// (see tests/ciphers_vs_node.rs); the IANA-name rows are nodetls's own reading.
    #[rustfmt::skip]
    const TABLE: &[(&str, &str)] = &[
        (NODE_DEFAULT_CIPHERS, "ra128 ea128 ra256 ea256 ec rc | t256 tc t128"),
        ("DEFAULT", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("HIGH", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("MEDIUM", "ERR_SSL_NO_CIPHER_MATCH"),
        ("LOW", "ERR_SSL_NO_CIPHER_MATCH"),
        ("ALL", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("COMPLEMENTOFDEFAULT", "| * t256 t128 tc"),
        ("ECDHE", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("EECDH", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("kEECDH", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("kECDHE", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("AESGCM", "ea256 ra256 ea128 ra128 | * t256 t128 tc"),
        ("AES", "ea256 ra256 ea128 ra128 | * t256 t128 tc"),
        ("AES128", "ea128 ra128 | * t256 t128 tc"),
        ("AES256", "ea256 ra256 | * t256 t128 tc"),
        ("CHACHA20", "ec rc | * t256 t128 tc"),
        ("ECDSA", "ea256 ec ea128 | * t256 t128 tc"),
        ("aECDSA", "ea256 ec ea128 | * t256 t128 tc"),
        ("RSA", "| * t256 t128 tc"),
        ("aRSA", "ra256 rc ra128 | * t256 t128 tc"),
        ("kRSA", "| * t256 t128 tc"),
        ("SHA256", "| * t256 t128 tc"),
        ("SHA384", "| * t256 t128 tc"),
        ("aNULL", "| * t256 t128 tc"),
        ("eNULL", "| * t256 t128 tc"),
        ("NULL", "| * t256 t128 tc"),
        ("EXPORT", "ERR_SSL_NO_CIPHER_MATCH"),
        ("DES", "ERR_SSL_NO_CIPHER_MATCH"),
        ("3DES", "ERR_SSL_NO_CIPHER_MATCH"),
        ("RC4", "ERR_SSL_NO_CIPHER_MATCH"),
        ("MD5", "| * t256 t128 tc"),
        ("PSK", "| * t256 t128 tc"),
        ("SRP", "| * t256 t128 tc"),
        ("DHE", "| * t256 t128 tc"),
        ("EDH", "| * t256 t128 tc"),
        ("kDHE", "| * t256 t128 tc"),
        ("CBC", "| * t256 t128 tc"),
        ("!ALL", "ERR_SSL_NO_CIPHER_MATCH"),
        ("foo", "ERR_SSL_NO_CIPHER_MATCH"),
        ("ECDHE+AESGCM", "ea256 ra256 ea128 ra128 | * t256 t128 tc"),
        ("HIGH:!RSA", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("HIGH:!aRSA", "ea256 ec ea128 | * t256 t128 tc"),
        ("HIGH:!kRSA", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("HIGH:-ECDHE:ECDHE", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("HIGH:!ECDHE:ECDHE", "| * t256 t128 tc"),
        ("HIGH:+AES128", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("HIGH:+ECDSA", "ra256 rc ra128 ea256 ec ea128 | * t256 t128 tc"),
        ("ECDHE:+AES256:@STRENGTH", "ec rc ea256 ra256 ea128 ra128 | * t256 t128 tc"),
        ("AES128:AES256:@STRENGTH", "ea256 ra256 ea128 ra128 | * t256 t128 tc"),
        ("HIGH:@SECLEVEL=4", "ea256 ra256 ec rc | * t256 tc"),
        ("HIGH:@SECLEVEL=9", "ERR_SSL_INVALID_COMMAND"),
        ("HIGH:%", "ERR_SSL_INVALID_COMMAND"),
        (":", "ERR_INVALID_ARG_VALUE"),
        ("ECDHE-RSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES128-GCM-SHA256", "ra128 ea128 | * t256 t128 tc"),
        ("ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES128-GCM-SHA256", "ra128 ea128 | * t256 t128 tc"),
        ("ECDHE-RSA-AES128-GCM-SHA256;ECDHE-ECDSA-AES128-GCM-SHA256", "ra128 ea128 | * t256 t128 tc"),
        ("AES128-GCM-SHA256", "| * t256 t128 tc"),
        ("ECDHE-RSA-AES128-SHA", "| * t256 t128 tc"),
        ("AES128-SHA256", "| * t256 t128 tc"),
        ("DES-CBC3-SHA", "ERR_SSL_NO_CIPHER_MATCH"),
        ("TLS_AES_128_GCM_SHA256", "| t128"),
        ("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE+AESGCM", "ea256 ra256 ea128 ra128 | tc t128"),
        ("TLS_AES_128_CCM_SHA256", "|"),
        ("TLS_FOO", "ERR_SSL_NO_CIPHER_MATCH"),
        ("TLS_FOO:HIGH", "ERR_SSL_NO_CIPHER_MATCH"),
        ("TLS_AES_128_GCM_SHA256:TLS_FOO", "| t128"),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ra128 | * t256 t128 tc"),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256", "ra128 ea128 | * t256 t128 tc"),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384", "ra128 | t256"),
        ("ECDHE+AESGCM:!TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ea256 ra256 ea128 | * t256 t128 tc"),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", "| * t256 t128 tc"),
        ("HIGH,TLS_AES_128_GCM_SHA256", "ea256 ra256 ec rc ea128 ra128 | * t256 t128 tc"),
        ("-ALL:ECDHE+CHACHA20", "ec rc | * t256 t128 tc"),
        ("ALL:-ALL:ECDHE-RSA-AES128-GCM-SHA256", "ra128 | * t256 t128 tc"),
        ("ECDHE+AESGCM:ECDHE+CHACHA20", "ea256 ra256 ea128 ra128 ec rc | * t256 t128 tc"),
        ("ECDHE+CHACHA20:ECDHE+AESGCM", "ec rc ea256 ra256 ea128 ra128 | * t256 t128 tc"),
        ("SUITEB128", "ea128 ea256 | * t256 t128 tc"),
        ("SUITEB192", "ea256 | * t256 t128 tc"),
        ("DEFAULT:!ECDSA", "ra256 rc ra128 | * t256 t128 tc"),
        ("kEECDH+ECDSA+AES128:kEECDH+AES128:kEECDH:!aNULL", "ea128 ra128 ea256 ra256 ec rc | * t256 t128 tc"),
        ("ecdhe-rsa-aes128-gcm-sha256", "ERR_SSL_NO_CIPHER_MATCH"),
        ("HIGH+ECDSA+AES256", "ea256 | * t256 t128 tc"),
        ("ECDHE+AESGCM:@SECLEVEL=5", "ea256 ra256 | * t256 tc"),
        ("TLS_AES_128_GCM_SHA256:@SECLEVEL=4:ECDHE+AESGCM", "ea256 ra256 |"),
    ];

    #[test]
    fn strings_select_as_openssl_does() {
        let wrong: Vec<String> = TABLE
            .iter()
            .filter(|(s, want)| describe(s) != *want)
            .map(|(s, want)| format!("{s:?}: want {want:?}, got {:?}", describe(s)))
            .collect();
        assert!(TABLE.len() >= 40);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn only_tls_names_turn_tls12_off() {
        let sel = parse_cipher_list("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256").unwrap();
        assert!(sel.tls13_explicit && sel.tls12.is_empty());
        assert_eq!(sel.tls13.iter().map(|c| short(*c)).collect::<Vec<_>>(), ["t128", "tc"]);
    }

    #[test]
    fn errors_carry_node_codes() {
        let e = parse_cipher_list("RC4").unwrap_err();
        assert_eq!((e.code(), e.message()), ("ERR_SSL_NO_CIPHER_MATCH", "no cipher match"));
        assert_eq!(parse_cipher_list("HIGH:@BOGUS").unwrap_err().code(), "ERR_SSL_INVALID_COMMAND");
        assert_eq!(parse_cipher_list("::").unwrap_err().code(), "ERR_INVALID_ARG_VALUE");
        assert!(parse_cipher_list("RC4").unwrap_err().to_string().starts_with("ERR_SSL_NO_CIPHER_MATCH: "));
    }

    #[test]
    fn names_of_every_rustls_suite() {
        for s in ALL_CIPHER_SUITES {
            assert_ne!(openssl_name(*s), "UNKNOWN");
            assert!(standard_name(*s).starts_with("TLS_"));
        }
        let rsa = rustls_suite(0xC02F).unwrap();
        assert_eq!(openssl_name(rsa), "ECDHE-RSA-AES128-GCM-SHA256");
        assert_eq!(standard_name(rsa), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        let t13 = rustls_suite(0x1301).unwrap();
        assert_eq!(
            (openssl_name(t13), standard_name(t13)),
            ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256")
        );
    }

    #[test]
    fn get_ciphers_lists_rustls_suites_as_node_spells_them() {
        let names = get_ciphers();
        assert_eq!(names.len(), ALL_CIPHER_SUITES.len());
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.contains(&"ecdhe-rsa-aes128-gcm-sha256"));
        assert!(names.contains(&"ecdhe-ecdsa-chacha20-poly1305"));
        assert!(names.contains(&"tls_aes_256_gcm_sha384"));
    }

    /// The only test that touches the process-wide default, so parallel tests stay stable.
    #[test]
    fn default_can_be_overridden() {
        assert_eq!(default_ciphers(), NODE_DEFAULT_CIPHERS);
        assert_eq!(describe(""), "ra128 ea128 ra256 ea256 ec rc | t256 tc t128");
        assert_eq!(set_default_ciphers("RC4").unwrap_err().code(), "ERR_SSL_NO_CIPHER_MATCH");
        assert_eq!(set_default_ciphers("").unwrap_err().code(), "ERR_INVALID_ARG_VALUE");
        set_default_ciphers("ECDHE+CHACHA20").unwrap();
        assert_eq!(default_ciphers(), "ECDHE+CHACHA20");
        assert_eq!(describe(""), "ec rc | * t256 t128 tc");
        set_default_ciphers(NODE_DEFAULT_CIPHERS).unwrap();
    }
}
