//! Node's certificate object as JSON (`ntls_cert_to_json`), keys in the order Node sets
//! them, which `preserve_order` keeps.

use super::names::Name;
use super::object::{Key, PeerCert};
use super::text::Text;
use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::map::Entry;
use serde_json::{Map, Value};

impl PeerCert {
    /// Node's object as JSON, keys in Node's order; `raw` and `pubkey` (Buffers in Node)
    /// are base64. `detailed` adds `issuerCertificate`; a self-signed last certificate
    /// (Node: a reference to itself) gets its own object once, without recursing.
    pub fn to_json(&self, detailed: bool) -> String {
        self.json(detailed).to_string()
    }

    fn json(&self, detailed: bool) -> Value {
        let mut o = Map::new();
        if let Some(s) = name_object(&self.subject) {
            o.insert("subject".into(), s);
        }
        if let Some(s) = name_object(&self.issuer_name) {
            o.insert("issuer".into(), s);
        }
        // Node shows an extension it cannot decode as null.
        if let Some(san) = &self.subjectaltname {
            o.insert("subjectaltname".into(), san.as_ref().map(Text::as_str).into());
        }
        if let Some(groups) = &self.info_access {
            let info = groups.as_ref().map(|groups| {
                groups.iter().map(|(k, vs)| (k.clone(), Value::from(vs.as_slice()))).collect::<Map<_, _>>()
            });
            o.insert("infoAccess".into(), info.into());
        }
        o.insert("ca".into(), self.ca().into());
        match &self.key {
            Key::Rsa { modulus, bits, exponent, pubkey } => {
                o.insert("modulus".into(), modulus.as_str().into());
                o.insert("bits".into(), (*bits).into());
                o.insert("exponent".into(), exponent.as_str().into());
                o.insert("pubkey".into(), BASE64_STANDARD.encode(pubkey).into());
            }
            Key::Ec { bits, pubkey, asn1_curve, nist_curve } => {
                o.insert("bits".into(), (*bits).into());
                o.insert("pubkey".into(), BASE64_STANDARD.encode(pubkey).into());
                o.insert("asn1Curve".into(), (*asn1_curve).into());
                if let Some(nist) = nist_curve {
                    o.insert("nistCurve".into(), (*nist).into());
                }
            }
            Key::Other => {}
        }
        o.insert("valid_from".into(), self.valid_from().into());
        o.insert("valid_to".into(), self.valid_to().into());
        o.insert("fingerprint".into(), self.fingerprint().into());
        o.insert("fingerprint256".into(), self.fingerprint256().into());
        o.insert("fingerprint512".into(), self.fingerprint512().into());
        if let Some(eku) = &self.ext_key_usage {
            o.insert("ext_key_usage".into(), eku.as_slice().into());
        }
        o.insert("serialNumber".into(), self.serial_number().into());
        o.insert("raw".into(), BASE64_STANDARD.encode(self.der()).into());
        if detailed {
            let issuer = match (self.issuer(), self.self_signed) {
                (Some(next), _) => Some(next.json(true)),
                (None, true) => Some(self.json(false)),
                (None, false) => None,
            };
            if let Some(issuer) = issuer {
                o.insert("issuerCertificate".into(), issuer);
            }
        }
        Value::Object(o)
    }
}

/// Node's object for a name: repeated keys become arrays; `None` (Node: undefined) if a
/// value is not a string.
fn name_object(name: &Name) -> Option<Value> {
    let mut o = Map::new();
    for a in &name.attrs {
        a.value.as_ref()?;
        let v = Value::from(a.text.as_str());
        match o.entry(a.key.as_str()) {
            Entry::Vacant(e) => {
                e.insert(v);
            }
            Entry::Occupied(mut e) => match e.get_mut() {
                Value::Array(vs) => vs.push(v),
                one => *one = Value::Array(vec![one.take(), v]),
            },
        }
    }
    Some(Value::Object(o))
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
