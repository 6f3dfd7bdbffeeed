//! The client side of `tls.connect`: options checked on the caller's thread, then
//! resolution and TCP connect on the loop.

use super::conn::{Conn, Role};
use super::{Socket, SocketEvents};
use crate::error::NtlsError;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use crate::reactor::{resolve, Cx, Loop};
use crate::tls::client_config::{self, ClientTls};
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;

/// Everything a connect needs, validated before the call returns.
pub struct Plan {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    sni: Option<String>,
    tls: ClientTls,
    no_delay: bool,
    allow_half_open: bool,
}

/// The name checked against the certificate (`servername`, else `host`) and the SNI sent.
pub fn server_name(o: &Options) -> Result<(ServerName<'static>, Option<String>), OptionError> {
    let host = o.str(NTLS_OPT_HOST).unwrap_or("localhost");
    let name = o.str(NTLS_OPT_SERVERNAME).filter(|s| !s.is_empty()).unwrap_or(host);
    let name = name.trim_start_matches('[').trim_end_matches(']').to_owned();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| OptionError::invalid(format!("invalid servername '{name}'")))?;
    // Node sends no SNI for an IP address.
    let sni = matches!(server_name, ServerName::DnsName(_)).then_some(name);
    Ok((server_name, sni))
}

impl Plan {
    /// Checks `host`, `port`, `servername` and the TLS options.
    pub fn from_options(o: &Options) -> Result<Plan, OptionError> {
        let host = o.str(NTLS_OPT_HOST).unwrap_or("localhost").to_owned();
        let port = match o.int(NTLS_OPT_PORT) {
            // Port 0 is accepted, as Node's net.connect does: the connect then fails on the
            // loop (ECONNREFUSED), as an error event.
            Some(p @ 0..=65535) => p as u16,
            Some(p) => return Err(OptionError::invalid(format!("port must be 0 to 65535, got {p}"))),
            None => return Err(OptionError::invalid("port is required")),
        };
        let (server_name, sni) = server_name(o)?;
        let tls = client_config::build(o)?;
        Ok(Plan {
            host,
            port,
            server_name,
            sni,
            tls,
            no_delay: o.bool_or(NTLS_OPT_NO_DELAY, true),
            allow_half_open: o.bool_or(NTLS_OPT_ALLOW_HALF_OPEN, false),
        })
    }
}

/// Resolves the host and hands the addresses to `dial`; runs on the loop thread.
pub fn start<E: SocketEvents>(sock: Arc<Socket<E>>, lp: Loop, plan: Plan, cx: &mut Cx<'_>) {
    if sock.is_destroyed() {
        return give_up(&sock, None);
    }
    let host = plan.host.clone();
    resolve::resolve(&lp, cx, &host, plan.port, move |cx, result| match result {
        Ok(_) if sock.is_destroyed() => give_up(&sock, None),
        Ok(addrs) if !addrs.is_empty() => dial(sock, plan, addrs, cx),
        _ => {
            give_up(&sock, Some(NtlsError::not_found(&plan.host)));
        }
    });
}

/// Ends a connect that never got a connection: `error` (unless destroyed), then `close`.
fn give_up<E: SocketEvents>(sock: &Socket<E>, err: Option<NtlsError>) {
    let err = err.filter(|_| !sock.is_destroyed());
    if let Some(err) = &err {
        sock.events.error(sock, err);
    }
    sock.finish_close(err.is_some());
    sock.lp.handle_closed();
}

fn dial<E: SocketEvents>(sock: Arc<Socket<E>>, plan: Plan, addrs: Vec<SocketAddr>, cx: &mut Cx<'_>) {
    let tls = match rustls::ClientConnection::new(plan.tls.config.clone(), plan.server_name.clone()) {
        Ok(t) => t,
        Err(e) => {
            return give_up(&sock, Some(crate::tls::alerts::tls_error(&e, &[], &plan.host)));
        }
    };
    let role = Role::Client {
        verifier: plan.tls.verifier,
        sessions: plan.tls.sessions,
        request_ocsp: plan.tls.request_ocsp,
        server_name: plan.server_name,
        sni: plan.sni,
        addrs,
        next_addr: 0,
    };
    Conn::start_client(sock, tls.into(), role, plan.no_delay, plan.allow_half_open, cx);
}
