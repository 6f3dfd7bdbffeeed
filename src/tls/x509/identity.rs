//! Node's `tls.checkServerIdentity`: a host name or IP address against the certificate's
//! alt names and, when it has no DNS name, its subject's CN, with Node's wildcard rules.

use super::object::PeerCert;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Node's `unfqdn`: one trailing dot removed.
fn unfqdn(host: &str) -> &str {
    host.strip_suffix('.').unwrap_or(host)
}

/// Node's `splitHost`: only A-Z are lowercased, as Node avoids locale rules.
fn split_host(host: &str) -> Vec<String> {
    unfqdn(host).to_ascii_lowercase().split('.').map(str::to_owned).collect()
}

/// Node's `check(hostParts, pattern, true)`.
fn check(host_parts: &[String], pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern_parts = split_host(pattern);
    if host_parts.len() != pattern_parts.len() || pattern_parts.iter().any(String::is_empty) {
        return false;
    }
    // U-labels, blanks and control characters are never matched.
    if pattern_parts.iter().any(|p| p.chars().any(|c| !('\u{21}'..='\u{7f}').contains(&c))) {
        return false;
    }
    if host_parts[1..] != pattern_parts[1..] {
        return false;
    }
    let (host_sub, pattern_sub) = (&host_parts[0], &pattern_parts[0]);
    let pieces: Vec<&str> = pattern_sub.split('*').collect();
    // No wildcard substitution inside A-labels (RFC 6125 6.4.3).
    if pieces.len() == 1 || pattern_sub.contains("xn--") {
        return host_sub == pattern_sub;
    }
    // One wildcard at most, and never directly under a top-level domain.
    if pieces.len() > 2 || pattern_parts.len() <= 2 {
        return false;
    }
    let (prefix, suffix) = (pieces[0], pieces[1]);
    prefix.len() + suffix.len() <= host_sub.encode_utf16().count()
        && host_sub.starts_with(prefix)
        && host_sub.ends_with(suffix)
}

/// Node's `net.isIP` (IPv6 may carry a zone) parsed the way `canonicalizeIP` does.
fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    let (addr, zone) = s.split_once('%').map_or((s, None), |(a, z)| (a, Some(z)));
    if zone
        .is_some_and(|z| z.is_empty() || !z.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b)))
    {
        return None;
    }
    addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// libuv's `inet_ntop`, which Node's `canonicalizeIP` uses for its error messages.
fn canonical_ip(ip: IpAddr) -> String {
    let v6 = match ip {
        IpAddr::V4(v4) => return v4.to_string(),
        IpAddr::V6(v6) => v6,
    };
    let w = v6.segments();
    let (mut best, mut cur) = ((0, 0), (0, 0));
    for (i, word) in w.iter().enumerate() {
        if *word != 0 {
            cur = (i + 1, 0);
            continue;
        }
        cur.1 += 1;
        if cur.1 > best.1 {
            best = cur;
        }
    }
    let join = |ws: &[u16]| ws.iter().map(|x| format!("{x:x}")).collect::<Vec<_>>().join(":");
    if best.0 == 0 && (best.1 == 6 || best.1 == 5 && w[5] == 0xffff) {
        let o = v6.octets();
        let ffff = if best.1 == 5 { "ffff:" } else { "" };
        return format!("::{ffff}{}", Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if best.1 < 2 {
        return join(&w);
    }
    format!("{}::{}", join(&w[..best.0]), join(&w[best.0 + best.1..]))
}

/// Length of the JSON string literal at the start of `s` (Node's `jsonStringPattern`).
fn json_literal_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => match b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                _ => return None,
            },
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
    None
}

/// Node's `splitEscapedAltNames`: ", "-separated, with JSON strings where names needed quoting.
fn split_alt_names(s: &str) -> Option<Vec<String>> {
    if !s.contains('"') {
        return Some(s.split(", ").map(str::to_owned).collect());
    }
    let (mut out, mut token, mut rest) = (Vec::new(), String::new(), s);
    while !rest.is_empty() {
        let (sep, quote) = (rest.find(','), rest.find('"'));
        match (sep, quote) {
            (_, Some(q)) if sep.is_none_or(|c| q < c) => {
                token.push_str(&rest[..q]);
                let len = json_literal_len(&rest[q..])?;
                token.push_str(&serde_json::from_str::<String>(&rest[q..q + len]).ok()?);
                rest = &rest[q + len..];
            }
            (Some(c), _) => {
                token.push_str(&rest[..c]);
                out.push(std::mem::take(&mut token));
                rest = rest.get(c + 2..).unwrap_or("");
            }
            (None, _) => {
                token.push_str(rest);
                rest = "";
            }
        }
    }
    out.push(token);
    Some(out)
}

/// Node's `checkServerIdentity` on a subject's CN values and a `subjectaltname` string.
fn identity(hostname: &str, cns: &[&str], alt_names: Option<&str>) -> Result<(), String> {
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    if let Some(alt) = alt_names.filter(|a| !a.is_empty()) {
        let names = split_alt_names(alt).ok_or("Invalid subject alternative name string")?;
        for name in names {
            if let Some(d) = name.strip_prefix("DNS:") {
                dns.push(d.to_owned());
            } else if let Some(ip) = name.strip_prefix("IP Address:") {
                ips.push(parse_ip(ip));
            }
        }
    }
    let host = unfqdn(hostname);
    // Node's `subject.CN` is a string (truthy unless empty) or, when repeated, an array.
    let has_cn = cns.len() > 1 || cns.first().is_some_and(|c| !c.is_empty());
    if let Some(ip) = parse_ip(host) {
        if ips.contains(&Some(ip)) {
            return Ok(());
        }
        let list: Vec<String> = ips.iter().map(|i| i.map(canonical_ip).unwrap_or_default()).collect();
        return Err(format!("IP: {host} is not in the cert's list: {}", list.join(", ")));
    }
    if dns.is_empty() && !has_cn {
        return Err("Cert does not contain a DNS name".into());
    }
    let host_parts = split_host(host);
    if !dns.is_empty() {
        if dns.iter().any(|d| check(&host_parts, d)) {
            return Ok(());
        }
        return Err(format!("Host: {host}. is not in the cert's altnames: {}", alt_names.unwrap_or("")));
    }
    if cns.iter().any(|cn| check(&host_parts, cn)) {
        return Ok(());
    }
    Err(format!("Host: {host}. is not cert's CN: {}", cns.join(",")))
}

/// Host-name check with Node's `tls.checkServerIdentity` rules; Err is Node's `reason`
/// (its message is "Hostname/IP does not match certificate's altnames: " + reason).
pub fn check_server_identity(hostname: &str, cert: &PeerCert) -> Result<(), String> {
    // Node sees no subject at all when a value is not a string.
    let attrs = &cert.subject.attrs;
    let cns: Vec<&str> = if attrs.iter().all(|a| a.value.is_some()) {
        attrs.iter().filter(|a| a.key == "CN").map(|a| a.text.as_str()).collect()
    } else {
        Vec::new()
    };
    identity(hostname, &cns, cert.subjectaltname())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all_files, certs, load, node};
    use super::*;

    /// Node's own test table (test/parallel/test-tls-check-server-identity.js, Node 20), the
    /// cases with a string host: host, subject CN values, subjectaltname, Node's `reason`.
    type Case = (&'static str, &'static [&'static str], Option<&'static str>, Option<&'static str>);
    const NODE_TABLE: &[Case] = &[
        ("a.com", &["a.com"], None, None),
        ("a.com", &["A.COM"], None, None),
        ("a.com", &["b.com"], None, Some("Host: a.com. is not cert's CN: b.com")),
        ("a.com", &["a.com."], None, None),
        ("a.com", &[".a.com"], None, Some("Host: a.com. is not cert's CN: .a.com")),
        ("8.8.8.8", &["8.8.8.8"], None, Some("IP: 8.8.8.8 is not in the cert's list: ")),
        ("8.8.8.8", &["8.8.8.8"], Some("DNS:8.8.8.8"), Some("IP: 8.8.8.8 is not in the cert's list: ")),
        (
            "8.8.8.8",
            &["8.8.8.8"],
            Some("URI:http://8.8.8.8/"),
            Some("IP: 8.8.8.8 is not in the cert's list: "),
        ),
        ("8.8.8.8", &["8.8.8.8"], Some("IP Address:8.8.8.8"), None),
        (
            "8.8.8.8",
            &["8.8.8.8"],
            Some("IP Address:8.8.8.0/24"),
            Some("IP: 8.8.8.8 is not in the cert's list: "),
        ),
        ("b.a.com", &["*.a.com"], None, None),
        ("ba.com", &["*.a.com"], None, Some("Host: ba.com. is not cert's CN: *.a.com")),
        ("\n.b.com", &["*n.b.com"], None, Some("Host: \n.b.com. is not cert's CN: *n.b.com")),
        (
            "b.a.com",
            &["*.a.com"],
            Some("DNS:omg.com"),
            Some("Host: b.a.com. is not in the cert's altnames: DNS:omg.com"),
        ),
        ("b.a.com", &["b*b.a.com"], None, Some("Host: b.a.com. is not cert's CN: b*b.a.com")),
        ("a.com", &[], None, Some("Cert does not contain a DNS name")),
        ("a.com", &[], Some("DNS:a.com"), None),
        ("a.b.a.com", &[], Some("URI:http://a.b.a.com/"), Some("Cert does not contain a DNS name")),
        ("foo.com", &["foo.com", "bar.com"], None, None),
        ("a.com", &["b.com"], Some("DNS:*"), Some("Host: a.com. is not in the cert's altnames: DNS:*")),
        (
            "a.com",
            &["b.com"],
            Some("DNS:*.com"),
            Some("Host: a.com. is not in the cert's altnames: DNS:*.com"),
        ),
        ("a.co.uk", &["b.com"], Some("DNS:*.co.uk"), None),
        (
            "a.com",
            &["a.com"],
            Some("DNS:*.a.com"),
            Some("Host: a.com. is not in the cert's altnames: DNS:*.a.com"),
        ),
        (
            "a.com",
            &["b.com"],
            Some("DNS:*.a.com"),
            Some("Host: a.com. is not in the cert's altnames: DNS:*.a.com"),
        ),
        ("a.com", &["b.com"], Some("DNS:a.com"), None),
        ("a.com", &["b.com"], Some("DNS:A.COM"), None),
        ("a.com", &[], Some("DNS:*.a.com"), Some("Host: a.com. is not in the cert's altnames: DNS:*.a.com")),
        ("b.a.com", &[], Some("DNS:*.a.com"), None),
        (
            "c.b.a.com",
            &[],
            Some("DNS:*.a.com"),
            Some("Host: c.b.a.com. is not in the cert's altnames: DNS:*.a.com"),
        ),
        ("b.a.com", &[], Some("DNS:*b.a.com"), None),
        ("a-cb.a.com", &[], Some("DNS:*b.a.com"), None),
        (
            "a.b.a.com",
            &[],
            Some("DNS:*b.a.com"),
            Some("Host: a.b.a.com. is not in the cert's altnames: DNS:*b.a.com"),
        ),
        ("a.b.a.com", &[], Some("DNS:*b.a.com, DNS:a.b.a.com"), None),
        ("a.b.a.com", &[], Some("URI:http://*.b.a.com/"), Some("Cert does not contain a DNS name")),
        ("a.b.a.com", &[], Some("IP Address:127.0.0.1"), Some("Cert does not contain a DNS name")),
        ("127.0.0.1", &[], Some("IP Address:127.0.0.1"), None),
        (
            "127.0.0.2",
            &[],
            Some("IP Address:127.0.0.1"),
            Some("IP: 127.0.0.2 is not in the cert's list: 127.0.0.1"),
        ),
        ("127.0.0.1", &[], Some("DNS:a.com"), Some("IP: 127.0.0.1 is not in the cert's list: ")),
        (
            "localhost",
            &["localhost"],
            Some("DNS:a.com"),
            Some("Host: localhost. is not in the cert's altnames: DNS:a.com"),
        ),
        ("xn--bcher-kva.example.com", &["*.example.com"], None, None),
        (
            "xn--bcher-kva.example.com",
            &["xn--*.example.com"],
            None,
            Some("Host: xn--bcher-kva.example.com. is not cert's CN: xn--*.example.com"),
        ),
    ];

    /// More corners, whose answers come from Node itself.
    const MORE_CASES: &[(&str, &[&str], Option<&str>)] = &[
        ("LOCALHOST.", &[], Some("DNS:localhost")),
        ("localhost..", &[], Some("DNS:localhost")),
        ("::1", &[], Some("IP Address:0:0:0:0:0:0:0:1")),
        ("0:0::1", &[], Some("IP Address:0:0:0:0:0:0:0:1")),
        ("fe80::1%eth0", &[], Some("IP Address:FE80:0:0:0:0:0:0:1")),
        ("fe80::1%", &["fe80::1%"], Some("IP Address:FE80:0:0:0:0:0:0:1")),
        ("[::1]", &[], Some("IP Address:0:0:0:0:0:0:0:1")),
        (
            "::2",
            &[],
            Some(
                "IP Address:0:0:0:0:0:0:0:1, IP Address:1.2.3.4, IP Address:0:0:0:0:0:FFFF:102:304, \
            IP Address:2001:DB8:0:0:0:0:0:0, IP Address:<invalid length=5>, IP Address:0:0:0:0:0:0:102:304, \
            IP Address:1:0:0:2:0:0:0:3, IP Address:1:0:2:0:3:0:4:0, IP Address:0:0:1:0:0:0:0:0",
            ),
        ),
        ("::ffff:1.2.3.4", &[], Some("IP Address:1.2.3.4")),
        ("::1.2.3.4", &[], Some("IP Address:0:0:0:0:0:0:102:304")),
        ("01.2.3.4", &["01.2.3.4"], None),
        ("1.2.3", &["1.2.3"], None),
        ("1.2.3.4.", &[], Some("IP Address:1.2.3.4")),
        ("a.example.com", &[], Some("DNS:\"evil\\u002c DNS:a.example.com\"")),
        ("x.com", &[], Some("DNS:\"a\\u002cb\", DNS:x.com")),
        ("a.com", &[""], None),
        ("a.com", &["", ""], None),
        ("é.example.com", &["*.example.com"], None),
        ("ab.example.com", &["a*b.example.com"], None),
        ("ab.example.com", &["ab*b.example.com"], None),
        ("foo.example.com", &["f*.example.com"], None),
        ("foo.example.com", &["*o.example.com"], None),
        ("bar.example.com", &["f*.example.com"], None),
        ("a.example.com", &["**.example.com"], None),
        ("a.example.com", &["a..example.com"], None),
        ("xn--a.example.com", &[], Some("DNS:xn--a.example.com")),
        ("A.EXAMPLE.COM", &[], Some("DNS:*.Example.Com")),
        ("a.example.com", &[], Some("DNS:*.exämple.com")),
        ("a b.example.com", &[], Some("DNS:*.example.com")),
        ("", &[], Some("DNS:a.com")),
        ("a.com", &[], Some("")),
        ("a.com", &[], Some("DNS:")),
        ("a.com", &["a.com"], Some("email:a@a.com, URI:http://a.com/")),
        ("1.2.3.4", &[], Some("IP Address:1.2.3.4, DNS:x")),
        ("foo.com", &["bar.com", "foo.com"], None),
        ("KEY.example.com", &["*.EXAMPLE.COM"], None),
    ];

    fn node_subject(cns: &[&str]) -> serde_json::Value {
        match cns {
            [] => serde_json::Value::Null,
            [one] => serde_json::json!({ "CN": one }),
            many => serde_json::json!({ "CN": many }),
        }
    }

    #[test]
    fn server_identity_follows_nodes_table() {
        for (host, cns, alt, reason) in NODE_TABLE {
            assert_eq!(identity(host, cns, *alt).err().as_deref(), *reason, "{host} {cns:?} {alt:?}");
        }
        // The same table and more corners, through Node's tls.checkServerIdentity.
        let cases: Vec<(&str, &[&str], Option<&str>)> =
            NODE_TABLE.iter().map(|c| (c.0, c.1, c.2)).chain(MORE_CASES.iter().copied()).collect();
        let input: Vec<serde_json::Value> =
            cases.iter().map(|(h, cns, alt)| serde_json::json!([h, node_subject(cns), alt])).collect();
        let script = "const tls = require('tls');
            const out = JSON.parse(process.argv[1]).map(([host, subject, subjectaltname]) => {
              const err = tls.checkServerIdentity(host, { subject, subjectaltname });
              return err ? err.reason : null;
            });
            console.log(JSON.stringify(out));";
        let out = node(script, &[&serde_json::Value::from(input).to_string()]);
        let expected: Vec<Option<String>> = serde_json::from_str(&out).unwrap();
        assert_eq!(expected.len(), cases.len());
        for ((host, cns, alt), want) in cases.iter().zip(expected) {
            assert_eq!(identity(host, cns, *alt).err(), want, "{host:?} {cns:?} {alt:?}");
        }
    }

    #[test]
    fn server_identity_of_real_certificates_follows_node() {
        let hosts = [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "::1",
            "0:0::1",
            "127.0.0.2",
            "::2",
            "example.com",
            "wrong.example.com",
            "x.wrong.example.com",
            "client.test",
            "a",
            "b",
            "edge",
            "a.example.com",
        ];
        let files = all_files();
        let mut pairs = Vec::new();
        for f in &files {
            for h in hosts {
                pairs.push(serde_json::json!([f, h]));
            }
        }
        let script = "const tls = require('tls'), fs = require('fs'), { X509Certificate } = require('crypto');
            const out = JSON.parse(process.argv[1]).map(([path, host]) => {
              const err = tls.checkServerIdentity(host, new X509Certificate(fs.readFileSync(path)).toLegacyObject());
              return err ? err.reason : null;
            });
            console.log(JSON.stringify(out));";
        let out = node(script, &[&serde_json::Value::from(pairs).to_string()]);
        let mut expected = serde_json::from_str::<Vec<Option<String>>>(&out).unwrap().into_iter();
        for f in &files {
            let cert = load(f);
            for h in hosts {
                assert_eq!(check_server_identity(h, &cert).err(), expected.next().unwrap(), "{f:?} {h}");
            }
        }
        let rsa = load(&certs().join("server-rsa-cert.pem"));
        assert_eq!(check_server_identity("localhost", &rsa), Ok(()));
        assert_eq!(check_server_identity("::1", &rsa), Ok(()));
        assert_eq!(
            check_server_identity("127.0.0.2", &rsa),
            Err("IP: 127.0.0.2 is not in the cert's list: 127.0.0.1, ::1".into())
        );
        let wrong = load(&certs().join("wronghost-cert.pem"));
        assert_eq!(
            check_server_identity("localhost", &wrong),
            Err("Host: localhost. is not in the cert's altnames: DNS:wrong.example.com".into())
        );
    }
}
