//! `ciphers` strings against Node 20 itself: whether `tls.createSecureContext` throws (and
//! with which code), and which suites a Node client with that string offers, cut down to
//! the suites rustls has. Node runs once for all strings; without `node` the test is skipped.

use nodetls::tls::ciphers::{parse_cipher_list, NODE_DEFAULT_CIPHERS};
use rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES;
use std::collections::BTreeSet;
use std::process::Command;

/// Strings whose meaning we share with Node. IANA names of TLS 1.2 suites are left out on
/// purpose: Node hands `TLS_*` words to `SSL_CTX_set_ciphersuites` and ignores them in
/// rules, where nodetls takes them as the TLS 1.2 suites they name.
const STRINGS: &[&str] = &[
    NODE_DEFAULT_CIPHERS,
    "",
    "DEFAULT",
    "DEFAULT:!ECDSA",
    "HIGH",
    "ALL",
    "ECDHE+AESGCM",
    "EECDH+AESGCM:EDH+AESGCM",
    "kEECDH+ECDSA+AES128:kEECDH+AES128:kEECDH:!aNULL",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES128-GCM-SHA256",
    "HIGH:!RSA",
    "HIGH:!aRSA",
    "HIGH:!kRSA",
    "HIGH:!aNULL:!MD5",
    "HIGH:-ECDHE:ECDHE",
    "HIGH:+AES128",
    "HIGH:+CHACHA20",
    "HIGH:@STRENGTH",
    "AES128:AES256:@STRENGTH",
    "ECDHE:+AES256:@STRENGTH",
    "CHACHA20",
    "ECDSA",
    "aRSA",
    "AES256",
    "SHA256",
    "AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-SHA",
    "PSK",
    "-ALL:ECDHE",
    "ALL:-ALL:ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE:!ECDHE-RSA-AES128-GCM-SHA256",
    "SUITEB128",
    "HIGH,TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:ECDHE+AESGCM",
    "TLS_AES_128_CCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_AES_128_GCM_SHA256:TLS_FOO",
    "TLS_AES_128_GCM_SHA256:@SECLEVEL=4:ECDHE+AESGCM",
    "HIGH:@SECLEVEL=4",
    "ECDHE+AESGCM:@SECLEVEL=5",
    "@SECLEVEL=0:ECDHE+AESGCM",
    "RC4",
    "3DES",
    "DES-CBC3-SHA",
    "!ALL",
    "foo",
    "ecdhe-rsa-aes128-gcm-sha256",
    "TLS_FOO",
    "TLS_FOO:HIGH",
    "HIGH:@SECLEVEL=9",
    "HIGH:%",
    ":",
];

/// Per string: `code` or `ok|<TLS 1.2 ids>|<TLS 1.3 ids>` (comma-separated, as offered).
const NODE_SCRIPT: &str = r#"
const tls = require('tls'), net = require('net');
function hello(buf) {
  if (buf[0] !== 22) return [];  // an alert: nothing offered
  let p = 5 + 4 + 2 + 32; p += 1 + buf[p];
  const n = buf.readUInt16BE(p); p += 2; const out = [];
  for (let i = 0; i < n; i += 2) out.push(buf.readUInt16BE(p + i));
  return out;
}
function offered(ciphers, extra) {
  return new Promise((resolve) => {
    const srv = net.createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          c.destroy(); srv.close(); resolve(hello(buf));
        }
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const cl = tls.connect({ port: srv.address().port, host: '127.0.0.1', ciphers,
                               rejectUnauthorized: false, ...extra });
      // No suite for the version asked for: the client refuses before sending anything.
      cl.on('error', (e) => { if (e.code !== 'ECONNRESET') { srv.close(); resolve([]); } });
    });
  });
}
(async () => {
  for (const s of JSON.parse(process.argv[1])) {
    try { tls.createSecureContext({ ciphers: s }); }
    catch (e) { console.log(e.code); continue; }
    // Node turns TLS 1.2 off when the string has nothing but TLS_ names.
    const rules = (s || tls.DEFAULT_CIPHERS).split(':').filter((c) => c && !c.startsWith('TLS_'));
    const t12 = rules.length ? await offered(s, { maxVersion: 'TLSv1.2' }) : [];
    const t13 = await offered(s, { minVersion: 'TLSv1.3' });
    console.log(['ok', t12.join(','), t13.join(',')].join('|'));
  }
})();
"#;

fn json_array(items: &[&str]) -> String {
    let quoted: Vec<String> =
        items.iter().map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))).collect();
    format!("[{}]", quoted.join(","))
}

fn rustls_ids() -> BTreeSet<u16> {
    ALL_CIPHER_SUITES.iter().map(|s| u16::from(s.suite())).collect()
}

fn ids(list: &str, keep: &BTreeSet<u16>) -> Vec<u16> {
    list.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| x.parse().unwrap())
        .filter(|x| keep.contains(x))
        .collect()
}

#[test]
fn cipher_strings_select_what_node_selects() {
    let out = match Command::new("node").arg("-e").arg(NODE_SCRIPT).arg(json_array(STRINGS)).output() {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout).unwrap(),
        Ok(out) => panic!("node failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("node is needed (scripts/setup.sh installs it): {e}"),
    };
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), STRINGS.len(), "node printed:\n{out}");
    let keep = rustls_ids();
    let mut failures = Vec::new();
    for (s, line) in STRINGS.iter().zip(&lines) {
        let ours = parse_cipher_list(s);
        let (node12, node13) = match line.split('|').collect::<Vec<_>>()[..] {
            ["ok", t12, t13] => (ids(t12, &keep), ids(t13, &keep)),
            [code] => {
                if ours.as_ref().map_err(|e| e.code()) != Err(code) {
                    failures.push(format!("{s:?}: node throws {code}, we give {ours:?}"));
                }
                continue;
            }
            _ => panic!("bad line {line:?}"),
        };
        let sel = match ours {
            Ok(sel) => sel,
            Err(e) => {
                failures.push(format!("{s:?}: node accepts, we give {e}"));
                continue;
            }
        };
        let our12: Vec<u16> = sel.tls12.iter().map(|c| u16::from(c.suite())).collect();
        let mut our13: Vec<u16> = sel.tls13.iter().map(|c| u16::from(c.suite())).collect();
        let mut node13 = node13;
        if !sel.tls13_explicit {
            // Without TLS_ names both keep their own default order (rustls's, OpenSSL's).
            our13.sort();
            node13.sort();
        }
        if our12 != node12 || our13 != node13 {
            failures.push(format!(
                "{s:?}: node offers 1.2 {node12:x?} 1.3 {node13:x?}, we {our12:x?} {our13:x?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), STRINGS.len(), failures.join("\n"));
}
