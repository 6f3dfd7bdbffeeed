//! The few ClientHello fields rustls's `Accepted` view leaves out and a server's external
//! session store and OCSP stapling need before rustls consumes the hello: the legacy
//! session ID, the TLS 1.2 ticket, the TLS 1.3 PSK identities, the offered versions and
//! whether the client asked for a stapled OCSP response. Pure (bytes in, fields out, no
//! I/O), so it can be fuzzed on its own.

/// What `parse` read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_session_id` (a TLS 1.2 session to resume; random in a TLS 1.3 hello).
    pub session_id: Vec<u8>,
    /// The `session_ticket` extension (RFC 5077): None when absent, empty when offered.
    pub session_ticket: Option<Vec<u8>>,
    /// The identities of `pre_shared_key` (RFC 8446 4.2.11), in order.
    pub psk_identities: Vec<Vec<u8>>,
    /// `supported_versions` (0x0304 is TLS 1.3); empty when absent (a TLS 1.2 client).
    pub supported_versions: Vec<u16>,
    /// Whether `status_request` (RFC 6066 8) asked for an OCSP response.
    pub status_request: bool,
}

impl ClientHello {
    /// Whether the client offers TLS 1.3.
    pub fn offers_tls13(&self) -> bool {
        self.supported_versions.contains(&0x0304)
    }
}

/// Why `parse` gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The records so far hold only part of the ClientHello: read more.
    Incomplete,
    /// Not a well-formed ClientHello; the words say where.
    Invalid(&'static str),
}

const RECORD_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// A ClientHello larger than this is refused (rustls's own limit on a handshake message
/// is 64 KiB; real ones are under 2 KiB, 16 KiB with a long PSK list).
const MAX_HELLO: usize = 0xffff;

/// Reads the ClientHello from the first TLS records a client sent (`wire`: the raw bytes,
/// possibly several records, possibly more than the hello).
pub fn parse(wire: &[u8]) -> Result<ClientHello, ParseError> {
    let message = handshake_message(wire)?;
    let mut r = Reader(&message);
    if r.u8()? != HANDSHAKE_CLIENT_HELLO {
        return Err(ParseError::Invalid("first handshake message is not a ClientHello"));
    }
    let len = r.u24()?;
    let mut body = Reader(r.take(len)?);
    hello_body(&mut body).map_err(|e| match e {
        // The whole message is in: running out inside it is malformed, not incomplete.
        ParseError::Incomplete => ParseError::Invalid("ClientHello is truncated inside"),
        e => e,
    })
}

/// The handshake bytes carried by the leading handshake records, joined (a ClientHello
/// may be fragmented across records), as soon as they hold the first whole message.
fn handshake_message(wire: &[u8]) -> Result<Vec<u8>, ParseError> {
    let mut joined = Vec::new();
    let mut r = Reader(wire);
    loop {
        if let Some(len) = message_len(&joined) {
            if len > MAX_HELLO {
                return Err(ParseError::Invalid("ClientHello is too large"));
            }
            if joined.len() >= len {
                joined.truncate(len);
                return Ok(joined);
            }
        }
        if r.0.len() < 5 {
            return Err(ParseError::Incomplete);
        }
        if r.u8()? != RECORD_HANDSHAKE {
            return Err(ParseError::Invalid("not a TLS handshake record"));
        }
        let version = r.u16()?;
        if version >> 8 != 3 {
            return Err(ParseError::Invalid("not a TLS record version"));
        }
        let len = r.u16()? as usize;
        if len == 0 || len > 16384 + 2048 {
            return Err(ParseError::Invalid("record length out of range"));
        }
        joined.extend_from_slice(r.take(len)?);
    }
}

/// The length of the first handshake message (header included), once its header is in.
fn message_len(joined: &[u8]) -> Option<usize> {
    (joined.len() >= 4)
        .then(|| 4 + (usize::from(joined[1]) << 16 | usize::from(joined[2]) << 8 | usize::from(joined[3])))
}

fn hello_body(r: &mut Reader<'_>) -> Result<ClientHello, ParseError> {
    let mut hello = ClientHello::default();
    r.take(2 + 32)?; // legacy_version, random
    let sid = r.u8()? as usize;
    if sid > 32 {
        return Err(ParseError::Invalid("session ID longer than 32 bytes"));
    }
    hello.session_id = r.take(sid)?.to_vec();
    let suites = r.u16()? as usize;
    if !suites.is_multiple_of(2) {
        return Err(ParseError::Invalid("odd cipher suite list"));
    }
    r.take(suites)?;
    let compressions = r.u8()? as usize;
    r.take(compressions)?;
    if r.0.is_empty() {
        return Ok(hello); // no extensions at all (allowed before TLS 1.3)
    }
    let ext_len = r.u16()? as usize;
    let mut exts = Reader(r.take(ext_len)?);
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let len = exts.u16()? as usize;
        let mut data = Reader(exts.take(len)?);
        match kind {
            0x0005 => hello.status_request = data.u8()? == 1,
            0x0023 => hello.session_ticket = Some(data.0.to_vec()),
            0x002b => {
                let n = data.u8()? as usize;
                let mut list = Reader(data.take(n)?);
                while !list.0.is_empty() {
                    hello.supported_versions.push(list.u16()?);
                }
            }
            0x0029 => {
                let n = data.u16()? as usize;
                let mut ids = Reader(data.take(n)?);
                while !ids.0.is_empty() {
                    let id = ids.u16()? as usize;
                    hello.psk_identities.push(ids.take(id)?.to_vec());
                    ids.take(4)?; // obfuscated_ticket_age
                }
                if hello.psk_identities.is_empty() {
                    return Err(ParseError::Invalid("pre_shared_key without identities"));
                }
            }
            _ => {}
        }
    }
    Ok(hello)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        if self.0.len() < n {
            return Err(ParseError::Incomplete);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, ParseError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Result<usize, ParseError> {
        let b = self.take(3)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
}

#[cfg(test)]
mod tests;
