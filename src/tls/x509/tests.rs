//! The certificates the x509 tests read (gen-certs.sh's set and unusual ones made here
//! with openssl), and the openssl and node commands they compare with.

use super::PeerCert;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-certs");
const GEN_CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-certs.sh");

/// The certificates of gen-certs.sh this module reads.
pub(super) const FILES: &[&str] = &[
    "ca-cert.pem",
    "server-rsa-cert.pem",
    "server-ec-cert.pem",
    "server-ed25519-cert.pem",
    "client-cert.pem",
    "wronghost-cert.pem",
    "inter-cert.pem",
    "server-chained-cert.pem",
    "selfsigned-cert.pem",
    "expired-cert.pem",
];

pub(super) fn certs() -> &'static Path {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if !Path::new(CERTS).join(".complete").exists() {
            let ok = Command::new("bash").args([GEN_CERTS, CERTS]).status().expect("bash runs");
            assert!(ok.success(), "gen-certs.sh failed");
        }
    });
    Path::new(CERTS)
}

pub(super) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub(super) fn openssl(args: &[&str]) -> String {
    run(Command::new("openssl").args(args))
}

pub(super) fn node(script: &str, args: &[&str]) -> String {
    run(Command::new("node").arg("-e").arg(script).arg("--").args(args))
}

pub(super) fn load(path: &Path) -> PeerCert {
    let der = CertificateDer::from_pem_file(path).unwrap_or_else(|e| panic!("{path:?}: {e:?}"));
    PeerCert::from_der(&der).unwrap()
}

pub(super) fn chain(paths: &[&Path]) -> Vec<CertificateDer<'static>> {
    paths.iter().flat_map(|p| CertificateDer::pem_file_iter(p).unwrap().map(Result::unwrap)).collect()
}

/// A SAN extension (DER) with every kind of GeneralName and every escape Node makes:
/// DNS names with quotes, backslash, control and non-ASCII bytes; email and URI with
/// commas; a 5-byte IP; an IPv4-compatible IPv6; otherNames known, unknown and of the
/// wrong string type; a registered ID; a DirName needing RFC 2253 escapes and a dump;
/// X400 and EDI party names; an empty DNS name.
const ODD_SAN: &str = "3082011e820761276222635c64820963746c017fc3a92e788105782c79407a860c687474703a2f2f61\
    2f622c6387050102030405871000000000000000000000000001020304a01506082b06010505070805a0090c07636166c3\
    a92c78a01806082b06010505070807a00c160a5f782e6578616d706c65a00a06022a03a0040c027a7aa013060a2b060104\
    018237140203a005160375706ea015060a2b060104018237140203a0070c05752270026e88062a864886f70da44a304831\
    0b3009060355040613025553311b300c060355040a0c05612c622b63300b060355040b0c04206f7523310c300a06032a03\
    040c0376c3a9310e300c06035504030c052378017920a3023000a505a1030c0170871020010db800000000000000000000\
    00008200";

/// Unusual certificates made with openssl, kept in target/ like gen-certs.sh's.
pub(super) fn edge_certs() -> &'static [PathBuf] {
    static PATHS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/target/x509-edge-certs-v1"));
        let all_attrs = "/CN=c/SN=sur/serialNumber=1/C=US/L=l/ST=st/street=s/O=o/OU=ou/title=t/description=d\
            /businessCategory=b/postalCode=p/postOfficeBox=1/telephoneNumber=1/name=n/GN=g/initials=i\
            /generationQualifier=q/dnQualifier=dq/pseudonym=ps/role=r/organizationIdentifier=oi\
            /emailAddress=e@x/unstructuredName=un/UID=u/DC=dc/jurisdictionC=US/jurisdictionST=js\
            /jurisdictionL=jl/x500UniqueIdentifier=xu/mail=m@x/postalAddress=pa\
            /physicalDeliveryOfficeName=pdo/searchGuide=sg/dmdName=dm/unstructuredAddress=ua";
        let san = format!("subjectAltName=DER:{ODD_SAN}");
        let mask = "MASK";
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("edge", vec![
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-multivalue-rdn",
                "-subj", "/C=DE/ST=Bayern/L=München/O=Org, Inc./OU=a/OU=b/CN=edge+UID=u1/emailAddress=x@y.z",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=digitalSignature",
                "-addext", "extendedKeyUsage=clientAuth,serverAuth,codeSigning,1.2.3.4.5",
                "-addext", "subjectAltName=DNS:*.example.com,IP:10.0.0.1,IP:2001:db8::1,email:a@b.c,URI:https://u/",
                "-addext", "authorityInfoAccess=OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/c.crt,\
                    OCSP;URI:http://ocsp2.example/,1.3.6.1.5.5.7.48.5;URI:http://repo.example/,\
                    1.3.6.1.5.5.7.48.3;URI:http://ts.example/,1.2.3.4;IP:1.2.3.4,OCSP;email:o@example",
            ]),
            ("odd-san", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", "/CN=san",
                "-addext", &san, "-set_serial", "0x80"]),
            ("tricky", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-multivalue-rdn",
                "-subj", "/O=a\"b/OU=x\\\\y/OU= lead/L=#hash/ST=semi;colon<>/CN=a+CN=b/title=trail /C=ZZ",
                "-set_serial", "0"]),
            // T61String, BMPString and control characters in names.
            ("strings", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-config", mask,
                "-subj", "/CN=café/O=中x/OU=😀/L=a\x01b\x7fc/ST=plain"]),
            ("attrs", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", all_attrs]),
            ("rsa1025", vec!["-newkey", "rsa:1025", "-pkeyopt", "rsa_keygen_pubexp:3", "-subj", "/CN=r",
                "-set_serial", "-5"]),
            ("k1", vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-subj", "/CN=k",
                "-addext", "extendedKeyUsage=serverAuth", "-addext", "subjectAltName=DNS:x,DNS:y"]),
        ];
        if !dir.join(".complete").exists() {
            // Made aside and renamed into place, so a concurrent run never sees half a set.
            let tmp = dir.with_extension(std::process::id().to_string());
            std::fs::create_dir_all(&tmp).unwrap();
            let mask_file = tmp.join("mask.cnf");
            std::fs::write(&mask_file, "[req]\ndistinguished_name=dn\nstring_mask=default\n[dn]\n").unwrap();
            for (name, args) in &cases {
                let mut cmd = Command::new("openssl");
                cmd.args(["req", "-x509", "-nodes", "-days", "3650", "-utf8", "-keyout"])
                    .arg(tmp.join(format!("{name}-key.pem")))
                    .arg("-out")
                    .arg(tmp.join(format!("{name}.pem")));
                for a in args {
                    if *a == mask { cmd.arg(&mask_file) } else { cmd.arg(a) };
                }
                run(&mut cmd);
            }
            std::fs::write(tmp.join(".complete"), "").unwrap();
            if !dir.join(".complete").exists() {
                let _ = std::fs::remove_dir_all(dir);
            }
            if std::fs::rename(&tmp, dir).is_err() {
                std::fs::remove_dir_all(&tmp).unwrap();
            }
        }
        cases.iter().map(|(name, _)| dir.join(format!("{name}.pem"))).collect()
    })
}

pub(super) fn all_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = FILES.iter().map(|f| certs().join(f)).collect();
    files.extend(edge_certs().iter().cloned());
    files
}
