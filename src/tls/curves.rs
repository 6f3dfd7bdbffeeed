//! Node's `ecdhCurve` option: OpenSSL's group names, mapped to rustls key-exchange groups.

use rustls::crypto::aws_lc_rs::{default_provider, ALL_KX_GROUPS};
use rustls::crypto::SupportedKxGroup;
use rustls::NamedGroup;

/// A group OpenSSL 3 takes in a curve list: its spellings (the name Node reports first),
/// TLS code point, and key size as `getEphemeralKeyInfo` gives it (left out for groups
/// nothing here can negotiate and whose size is not a round number).
struct Group {
    names: &'static [&'static str],
    code: u16,
    bits: Option<u32>,
}

const fn g(names: &'static [&'static str], code: u16, bits: Option<u32>) -> Group {
    Group { names, code, bits }
}

/// OpenSSL compares names exactly; X25519 and X448 are registered in both cases. The
/// ML-KEM names are OpenSSL 3.5's (Node 20's OpenSSL 3.0 has no ML-KEM).
#[rustfmt::skip]
static GROUPS: &[Group] = &[
    g(&["X25519", "x25519"], 0x001D, Some(253)),
    g(&["prime256v1", "P-256", "secp256r1"], 0x0017, Some(256)),
    g(&["secp384r1", "P-384"], 0x0018, Some(384)),
    g(&["secp521r1", "P-521"], 0x0019, Some(521)),
    g(&["X448", "x448"], 0x001E, Some(448)),
    g(&["X25519MLKEM768"], 0x11EC, None),
    g(&["SecP256r1MLKEM768"], 0x11EB, None),
    g(&["MLKEM768"], 0x0201, None),
    g(&["MLKEM1024"], 0x0202, None),
    g(&["ffdhe2048"], 0x0100, Some(2048)),
    g(&["ffdhe3072"], 0x0101, Some(3072)),
    g(&["ffdhe4096"], 0x0102, Some(4096)),
    g(&["ffdhe6144"], 0x0103, Some(6144)),
    g(&["ffdhe8192"], 0x0104, Some(8192)),
    g(&["brainpoolP256r1"], 0x001A, Some(256)),
    g(&["brainpoolP384r1"], 0x001B, Some(384)),
    g(&["brainpoolP512r1"], 0x001C, Some(512)),
    g(&["secp256k1"], 0x0016, Some(256)),
    g(&["secp224r1", "P-224"], 0x0015, Some(224)),
    g(&["secp224k1"], 0x0014, None),
    g(&["prime192v1", "secp192r1", "P-192"], 0x0013, Some(192)),
    g(&["secp192k1"], 0x0012, Some(192)),
    g(&["secp160r2"], 0x0011, None),
    g(&["secp160r1"], 0x0010, None),
    g(&["secp160k1"], 0x000F, None),
    g(&["sect571r1", "B-571"], 0x000E, None),
    g(&["sect571k1", "K-571"], 0x000D, None),
    g(&["sect409r1", "B-409"], 0x000C, None),
    g(&["sect409k1", "K-409"], 0x000B, None),
    g(&["sect283r1", "B-283"], 0x000A, None),
    g(&["sect283k1", "K-283"], 0x0009, None),
    g(&["sect239k1"], 0x0008, None),
    g(&["sect233r1", "B-233"], 0x0007, None),
    g(&["sect233k1", "K-233"], 0x0006, None),
    g(&["sect193r2"], 0x0005, None),
    g(&["sect193r1"], 0x0004, None),
    g(&["sect163r2", "B-163"], 0x0003, None),
    g(&["sect163r1"], 0x0002, None),
    g(&["sect163k1", "K-163"], 0x0001, None),
];

/// Parses `ecdhCurve`: `auto` or a colon list of group names; groups rustls lacks are
/// dropped, and the list is refused (as Node's "Failed to set ECDH curve") when a name is
/// unknown or repeated, or nothing rustls has is left.
pub fn parse_ecdh_curve(s: &str) -> Result<Vec<&'static dyn SupportedKxGroup>, String> {
    if s == "auto" {
        return Ok(default_provider().kx_groups);
    }
    let mut seen: Vec<u16> = Vec::new();
    let mut chosen = Vec::new();
    for name in s.split(':') {
        let group = GROUPS
            .iter()
            .find(|g| g.names.contains(&name))
            .ok_or_else(|| format!("Failed to set ECDH curve: unknown curve {name:?}"))?;
        if seen.contains(&group.code) {
            return Err(format!("Failed to set ECDH curve: {name:?} is listed twice"));
        }
        seen.push(group.code);
        chosen.extend(ALL_KX_GROUPS.iter().copied().find(|k| u16::from(k.name()) == group.code));
    }
    if chosen.is_empty() {
        let have: Vec<&str> = ALL_KX_GROUPS.iter().map(|k| group_name(k.name())).collect();
        return Err(format!(
            "Failed to set ECDH curve: nodetls supports none of {s:?} (it has {})",
            have.join(", ")
        ));
    }
    Ok(chosen)
}

/// The group's name as Node's `getEphemeralKeyInfo().name` gives it (`X25519`, `prime256v1`).
pub fn group_name(group: NamedGroup) -> &'static str {
    match find(group) {
        Some(g) => g.names[0],
        None => group.as_str().unwrap_or("unknown"),
    }
}

/// The key size `getEphemeralKeyInfo().size` gives (253 for X25519); None where unknown (ML-KEM).
pub fn group_bits(group: NamedGroup) -> Option<u32> {
    find(group).and_then(|g| g.bits)
}

fn find(group: NamedGroup) -> Option<&'static Group> {
    let code = u16::from(group);
    GROUPS.iter().find(|g| g.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Result<Vec<&'static str>, String> {
        parse_ecdh_curve(s).map(|v| v.iter().map(|k| group_name(k.name())).collect())
    }

    #[test]
    fn auto_is_the_providers_default_order() {
        let want: Vec<NamedGroup> = default_provider().kx_groups.iter().map(|k| k.name()).collect();
        let got: Vec<NamedGroup> = parse_ecdh_curve("auto").unwrap().iter().map(|k| k.name()).collect();
        assert_eq!(got, want);
        assert!(got.contains(&NamedGroup::X25519MLKEM768) && got.contains(&NamedGroup::X25519));
    }

    #[test]
    fn openssl_and_nist_spellings() {
        for (s, want) in [
            ("prime256v1", vec!["prime256v1"]),
            ("P-256", vec!["prime256v1"]),
            ("secp256r1", vec!["prime256v1"]),
            ("secp384r1", vec!["secp384r1"]),
            ("P-384", vec!["secp384r1"]),
            ("X25519", vec!["X25519"]),
            ("x25519", vec!["X25519"]),
            ("X25519MLKEM768", vec!["X25519MLKEM768"]),
            ("P-384:X25519:P-256", vec!["secp384r1", "X25519", "prime256v1"]),
            ("X25519MLKEM768:X25519", vec!["X25519MLKEM768", "X25519"]),
        ] {
            assert_eq!(names(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn groups_rustls_lacks_are_dropped_unless_nothing_is_left() {
        assert_eq!(names("P-521:X448:P-256:ffdhe2048").unwrap(), ["prime256v1"]);
        for s in ["P-521", "secp521r1", "X448", "brainpoolP256r1:ffdhe3072"] {
            let e = parse_ecdh_curve(s).unwrap_err();
            assert!(e.starts_with("Failed to set ECDH curve: nodetls supports none of"), "{e}");
            assert!(e.contains("X25519"), "{e}");
        }
    }

    #[test]
    fn refused_as_node_refuses() {
        for s in [
            "foo",
            "P-256:foo",
            "p-256",
            "PRIME256V1",
            "AUTO",
            "auto:P-256",
            "",
            "X25519:",
            ":X25519",
            "X25519,P-256",
        ] {
            let e = parse_ecdh_curve(s).unwrap_err();
            assert!(e.starts_with("Failed to set ECDH curve: unknown curve"), "{s:?}: {e}");
        }
        assert!(parse_ecdh_curve("foo").unwrap_err().contains("\"foo\""));
        for s in ["X25519:X25519", "x25519:X25519", "P-256:prime256v1"] {
            assert!(parse_ecdh_curve(s).unwrap_err().contains("listed twice"), "{s}");
        }
    }

    #[test]
    fn names_and_sizes_for_ephemeral_key_info() {
        assert_eq!(group_name(NamedGroup::X25519), "X25519");
        assert_eq!(group_name(NamedGroup::secp256r1), "prime256v1");
        assert_eq!(group_name(NamedGroup::secp384r1), "secp384r1");
        assert_eq!(group_name(NamedGroup::secp521r1), "secp521r1");
        assert_eq!(group_name(NamedGroup::X25519MLKEM768), "X25519MLKEM768");
        assert_eq!(group_name(NamedGroup::Unknown(0xfefe)), "unknown");
        assert_eq!(group_bits(NamedGroup::X25519), Some(253));
        assert_eq!(group_bits(NamedGroup::secp256r1), Some(256));
        assert_eq!(group_bits(NamedGroup::X25519MLKEM768), None);
    }
}
