//! The client side of `tls.connect`: options checked on the caller's thread, then
//! resolution and the connect (TCP, or the Unix socket at `path`) on the loop.

use super::conn::{Conn, Dest, LocalBind, Role};
use super::{Socket, SocketEvents};
use crate::error::NtlsError;
use crate::options::keys::*;
use crate::options::{OptionError, Options};
use crate::reactor::{resolve, Cx, Loop};
use crate::tls::client_config::{self, ClientTls};
use rustls::pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything a connect needs, validated before the call returns.
pub struct Plan {
    host: String,
    port: u16,
    /// `path`: a Unix socket instead of `host`/`port`.
    path: Option<PathBuf>,
    /// `family`: 0, 4 or 6.
    family: u8,
    local: Option<LocalBind>,
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
    pub fn from_options(
        o: &Options,
        keylog_wanted: Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<Plan, OptionError> {
        let host = o.str(NTLS_OPT_HOST).unwrap_or("localhost").to_owned();
        // With `path`, Node ignores host and port (the name checked is still `host`'s).
        let path = o.str(NTLS_OPT_PATH).map(PathBuf::from);
        if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(OptionError::invalid("path must not be empty"));
        }
        let port = match o.int(NTLS_OPT_PORT) {
            // Port 0 is accepted, as Node's net.connect does: the connect then fails on the
            // loop (ECONNREFUSED), as an error event.
            Some(p @ 0..=65535) => p as u16,
            Some(p) => return Err(OptionError::invalid(format!("port must be 0 to 65535, got {p}"))),
            None if path.is_some() => 0,
            None => return Err(OptionError::invalid("port is required")),
        };
        let family = match o.int(NTLS_OPT_FAMILY) {
            None => 0,
            Some(f @ (0 | 4 | 6)) => f as u8,
            Some(f) => {
                return Err(OptionError::invalid(format!(
                    "The property 'options.family' must be one of: 0, 4, 6. Received {f}"
                )))
            }
        };
        let (server_name, sni) = server_name(o)?;
        let tls = client_config::build(o, keylog_wanted)?;
        Ok(Plan {
            host,
            port,
            path,
            family,
            local: local_bind(o)?,
            server_name,
            sni,
            tls,
            no_delay: o.bool_or(NTLS_OPT_NO_DELAY, true),
            allow_half_open: o.bool_or(NTLS_OPT_ALLOW_HALF_OPEN, false),
        })
    }
}

/// `localAddress` (an IP literal, Node's ERR_INVALID_IP_ADDRESS otherwise) and `localPort`.
fn local_bind(o: &Options) -> Result<Option<LocalBind>, OptionError> {
    let ip = match o.str(NTLS_OPT_LOCAL_ADDRESS) {
        None => None,
        Some(a) => {
            Some(a.parse::<IpAddr>().map_err(|_| OptionError::invalid(format!("Invalid IP address: {a}")))?)
        }
    };
    let port = match o.int(NTLS_OPT_LOCAL_PORT) {
        None => None,
        Some(p @ 0..=65535) => Some(p as u16),
        Some(p) => {
            return Err(OptionError::invalid(format!("localPort must be 0 to 65535, got {p}")));
        }
    };
    Ok((ip.is_some() || port.is_some()).then(|| LocalBind { ip, port: port.unwrap_or(0) }))
}

/// Resolves the host and hands the addresses to `dial`; runs on the loop thread.
pub fn start<E: SocketEvents>(sock: Arc<Socket<E>>, lp: Loop, plan: Plan, cx: &mut Cx<'_>) {
    if sock.is_destroyed() {
        return give_up(&sock, None);
    }
    if let Some(path) = plan.path.clone() {
        return dial(sock, plan, vec![Dest::Path(path)], cx);
    }
    let host = plan.host.clone();
    resolve::resolve(&lp, cx, &host, plan.port, move |cx, result| match result {
        Ok(_) if sock.is_destroyed() => give_up(&sock, None),
        Ok(addrs) => {
            // An IP literal is not looked up, so Node ignores `family` for it.
            let literal = plan.host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok();
            let wanted = |a: &SocketAddr| match plan.family {
                _ if literal => true,
                4 => a.is_ipv4(),
                6 => a.is_ipv6(),
                _ => true,
            };
            let addrs: Vec<Dest> = addrs.into_iter().filter(wanted).map(Dest::Ip).collect();
            if addrs.is_empty() {
                return give_up(&sock, Some(NtlsError::not_found(&plan.host)));
            }
            dial(sock, plan, addrs, cx)
        }
        Err(_) => give_up(&sock, Some(NtlsError::not_found(&plan.host))),
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

fn dial<E: SocketEvents>(sock: Arc<Socket<E>>, plan: Plan, addrs: Vec<Dest>, cx: &mut Cx<'_>) {
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
        local: plan.local,
        bound: None,
        default_cert: plan.tls.default_cert,
    };
    Conn::start_client(sock, tls.into(), role, plan.no_delay, plan.allow_half_open, cx);
}
