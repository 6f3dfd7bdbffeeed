//! Node's certificate object as JSON (`ntls_cert_to_json`), keys in the order Node sets
//! them.

use super::names::Name;
use super::object::{Key, PeerCert};

impl PeerCert {
    /// Node's object as JSON, keys in Node's order; `raw` and `pubkey` (Buffers in Node)
    /// are base64. `detailed` adds `issuerCertificate`; a self-signed last certificate
    /// (Node: a reference to itself) gets its own object once, without recursing.
    pub fn to_json(&self, detailed: bool) -> String {
        let mut o = JsonObject::new();
        if let Some(s) = name_object(&self.subject) {
            o.raw("subject", &s);
        }
        if let Some(s) = name_object(&self.issuer_name) {
            o.raw("issuer", &s);
        }
        match &self.subjectaltname {
            Some(Some(san)) => o.field("subjectaltname", san.as_str()),
            Some(None) => o.raw("subjectaltname", "null"),
            None => {}
        }
        match &self.info_access {
            Some(Some(groups)) => {
                let mut info = JsonObject::new();
                groups.iter().for_each(|(k, vs)| info.field(k, vs.as_slice()));
                o.raw("infoAccess", &info.finish());
            }
            Some(None) => o.raw("infoAccess", "null"),
            None => {}
        }
        o.field("ca", self.ca());
        match &self.key {
            Key::Rsa { modulus, bits, exponent, pubkey } => {
                o.field("modulus", modulus.as_str());
                o.field("bits", *bits);
                o.field("exponent", exponent.as_str());
                o.field("pubkey", base64(pubkey));
            }
            Key::Ec { bits, pubkey, asn1_curve, nist_curve } => {
                o.field("bits", *bits);
                o.field("pubkey", base64(pubkey));
                o.field("asn1Curve", *asn1_curve);
                if let Some(nist) = nist_curve {
                    o.field("nistCurve", *nist);
                }
            }
            Key::Other => {}
        }
        o.field("valid_from", self.valid_from());
        o.field("valid_to", self.valid_to());
        o.field("fingerprint", self.fingerprint());
        o.field("fingerprint256", self.fingerprint256());
        o.field("fingerprint512", self.fingerprint512());
        if let Some(eku) = &self.ext_key_usage {
            o.field("ext_key_usage", eku.as_slice());
        }
        o.field("serialNumber", self.serial_number());
        o.field("raw", base64(self.der()));
        if detailed {
            match (self.issuer(), self.self_signed) {
                (Some(next), _) => o.raw("issuerCertificate", &next.to_json(true)),
                (None, true) => o.raw("issuerCertificate", &self.to_json(false)),
                (None, false) => {}
            }
        }
        o.finish()
    }
}

/// Node's object for a name: repeated keys become arrays; `None` (Node: undefined) if a value
/// is not a string.
fn name_object(name: &Name) -> Option<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for a in &name.attrs {
        a.value.as_ref()?;
        let v = a.text.as_str();
        match groups.iter_mut().find(|(k, _)| *k == a.key) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((&a.key, vec![v])),
        }
    }
    let mut obj = JsonObject::new();
    for (k, vs) in groups {
        match vs.as_slice() {
            [one] => obj.field(k, *one),
            many => obj.field(k, many),
        }
    }
    Some(obj.finish())
}

/// A JSON object written in insertion order (serde_json's map would sort the keys).
struct JsonObject(String);

impl JsonObject {
    fn new() -> Self {
        JsonObject(String::from("{"))
    }

    fn raw(&mut self, key: &str, json: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&serde_json::Value::from(key).to_string());
        self.0.push(':');
        self.0.push_str(json);
    }

    fn field(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.raw(key, &value.into().to_string());
    }

    fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= c.len() { char::from(T[(n >> (18 - 6 * i) & 63) as usize]) } else { '=' });
        }
    }
    out
}
#[cfg(test)]
mod tests {
    use super::super::tests::{all_files, certs, chain, load, node};
    use super::*;

    /// Node's own object for each file: `toLegacyObject()` is what `getPeerCertificate()` returns.
    const NODE_OBJECT: &str = "const {X509Certificate} = require('crypto'), fs = require('fs');
        for (const p of process.argv.slice(1)) {
          const o = new X509Certificate(fs.readFileSync(p)).toLegacyObject();
          for (const k of ['pubkey', 'raw']) if (o[k]) o[k] = o[k].toString('base64');
          console.log(JSON.stringify(o));
        }";

    #[test]
    fn json_is_nodes_object() {
        let files = all_files();
        let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
        let out = node(NODE_OBJECT, &paths);
        let node_lines: Vec<&str> = out.lines().collect();
        assert_eq!(node_lines.len(), files.len());
        for (path, expected) in files.iter().zip(node_lines) {
            assert_eq!(load(path).to_json(false), expected, "{path:?}");
        }
    }

    #[test]
    fn chain_links_like_nodes_detailed_form() {
        let dir = certs();
        let served = dir.join("server-chained-chain.pem");
        let c = PeerCert::from_chain(&chain(&[&served])).unwrap();
        assert_eq!(c.issuer().unwrap().subject_field("CN"), Some("nodetls Intermediate"));
        assert!(c.issuer().unwrap().issuer().is_none());
        assert!(PeerCert::from_chain(&[]).is_err());
        assert!(PeerCert::from_der(b"\x30\x03\x02\x01\x01").is_err());

        // A self-signed certificate is its own issuer in Node: given once here.
        let own = PeerCert::from_chain(&chain(&[&dir.join("selfsigned-cert.pem")])).unwrap();
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(parse(&own.to_json(true))["issuerCertificate"], parse(&own.to_json(false)));

        // Node's detailed object over a real connection: leaf, intermediate, CA, then the CA again.
        let script = "const tls = require('tls'), fs = require('fs'), d = process.argv[1];
            const plain = (o) => {
              const c = { ...o };
              for (const k of ['pubkey', 'raw']) if (c[k]) c[k] = c[k].toString('base64');
              if (o.issuerCertificate === o) c.issuerCertificate = plain({ ...o, issuerCertificate: undefined });
              else if (o.issuerCertificate) c.issuerCertificate = plain(o.issuerCertificate);
              return c;
            };
            const key = fs.readFileSync(d + '/server-chained-key.pem');
            const srv = tls.createServer({ key, cert: fs.readFileSync(d + '/server-chained-chain.pem') }, (s) => s.end());
            srv.listen(0, '127.0.0.1', () => {
              const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', servername: 'localhost',
                                      ca: fs.readFileSync(d + '/ca-cert.pem') }, () => {
                console.log(JSON.stringify(plain(c.getPeerCertificate(true))));
                c.destroy(); srv.close();
              });
            });";
        let expected = node(script, &[dir.to_str().unwrap()]);
        let full = PeerCert::from_chain(&chain(&[&served, &dir.join("ca-cert.pem")])).unwrap();
        assert_eq!(full.to_json(true), expected.trim_end());
    }
}
