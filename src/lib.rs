//! nodetls: Node.js's `tls` module as a C library, on rustls.
//!
//! Layers (calls flow down, events flow up): `ffi` (the C ABI) → `server`/`socket`
//! (Node semantics) → `reactor` (one mio thread per loop) → `tls` (rustls from Node options).

pub mod error;
pub mod ffi;
pub mod last_error;
pub mod options;
pub mod pair;
pub mod reactor;
pub mod request;
pub mod server;
pub mod socket;
pub mod tls;
