//! Resumption: a client's sessions (the `session` event, `getSession()`, the `session`
//! option) and a server's external store (`newSession` / `resumeSession`).

pub mod client;
pub mod server_store;
