//! rustls from Node options. Knows nothing of sockets or C.

pub mod alerts;
pub mod ciphers;
pub mod client_config;
pub mod client_hello;
pub mod context;
pub mod curves;
pub mod dhparam;
pub mod handshake;
pub mod keys;
pub mod ocsp;
pub mod server_config;
pub mod sessions;
pub mod sigalgs;
pub mod sni;
pub mod tickets;
pub mod v1_leaf;
pub mod verify;
pub mod versions;
pub mod x509;
