//! rustls from Node options. Knows nothing of sockets or C.

pub mod alerts;
pub mod ciphers;
pub mod client_config;
pub mod client_hello;
pub mod context;
pub mod curves;
pub mod dhparam;
pub mod keys;
pub mod server_config;
pub mod sessions;
pub mod sni;
pub mod tickets;
pub mod verify;
pub mod versions;
pub mod x509;
