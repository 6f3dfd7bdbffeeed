//! Node's certificate object (`getPeerCertificate()`) and `tls.checkServerIdentity`.
//!
//! Every string is computed once at parse time and kept with a NUL after it, because
//! the C API hands out pointers to them for as long as the object lives. The formats
//! copy Node 20 (which prints names and alt names itself rather than via OpenSSL).

mod extensions;
mod identity;
mod json;
mod names;
mod object;
#[cfg(test)]
mod tests;
mod text;

/// Host-name check with Node's `tls.checkServerIdentity` rules.
pub use identity::check_server_identity;
/// One certificate of a peer's chain, in the shape of Node's certificate object.
pub use object::PeerCert;
