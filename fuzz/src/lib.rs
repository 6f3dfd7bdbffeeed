//! What the fuzz targets share: the test certificates, a DER writer for made-up
//! certificates, and a server on the default loop that echoes what it is sent.

pub mod der;
pub mod server;

use std::path::PathBuf;

/// The certificates `scripts/gen-certs.sh` makes (`NODETLS_CERTS` overrides the place).
pub fn certs_dir() -> PathBuf {
    std::env::var_os("NODETLS_CERTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-certs")))
}

/// The bytes of one test certificate file.
pub fn cert_file(name: &str) -> Vec<u8> {
    let path = certs_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/gen-certs.sh)", path.display()))
}

/// A NUL-terminated copy of `s` for the C API, cut at its first NUL.
pub fn c_string(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s.split('\0').next().unwrap_or("")).unwrap_or_default()
}
