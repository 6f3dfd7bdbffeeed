//! `dhparam` and `minDHSize`: checked as Node checks them, with no effect on the
//! handshake, since every suite nodetls offers is ECDHE (forward secrecy holds anyway).

use crate::options::keys::*;
use crate::options::{OptionError, Options};

/// The smallest prime Node accepts in `dhparam`.
const MIN_DHPARAM_BITS: usize = 1024;

/// Checks `dhparam` (PEM "DH PARAMETERS", or "auto") and `minDHSize` (a positive integer).
pub fn check(o: &Options) -> Result<(), OptionError> {
    if let Some(size) = o.int(NTLS_OPT_MIN_DH_SIZE) {
        if size <= 0 {
            return Err(OptionError::invalid(format!("minDHSize must be a positive number, got {size}")));
        }
    }
    match o.bytes(NTLS_OPT_DHPARAM) {
        [] => Ok(()),
        [one] if one.as_slice() == b"auto" => Ok(()),
        [one] => {
            let bits = prime_bits(one).map_err(OptionError::invalid)?;
            if bits < MIN_DHPARAM_BITS {
                return Err(OptionError::invalid(format!(
                    "DH parameter is less than {MIN_DHPARAM_BITS} bits"
                )));
            }
            Ok(())
        }
        _ => Err(OptionError::invalid("dhparam takes one PEM value")),
    }
}

/// The bit length of the prime in PEM DH parameters.
fn prime_bits(text: &[u8]) -> Result<usize, String> {
    // rustls-pki-types knows no DH PARAMETERS section, so x509-parser's generic PEM reader.
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(text).map_err(|_| "dhparam: no PEM block found".to_string())?;
    if pem.label != "DH PARAMETERS" && pem.label != "X9.42 DH PARAMETERS" {
        return Err(format!("dhparam: expected DH PARAMETERS, found {}", pem.label));
    }
    let (_, seq) =
        x509_parser::der_parser::parse_der(&pem.contents).map_err(|_| "dhparam: invalid DER".to_string())?;
    let prime = seq
        .as_sequence()
        .ok()
        .and_then(|items| items.first())
        .and_then(|p| p.as_slice().ok())
        .ok_or("dhparam: not a DHParameter sequence")?;
    let significant: Vec<u8> = prime.iter().copied().skip_while(|b| *b == 0).collect();
    Ok(significant.first().map_or(0, |top| (significant.len() - 1) * 8 + (8 - top.leading_zeros() as usize)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Value;

    fn dh(bits: u32) -> Vec<u8> {
        let out = std::process::Command::new("openssl")
            .args(["dhparam", "-dsaparam", &bits.to_string()])
            .stderr(std::process::Stdio::null())
            .output()
            .expect("openssl CLI");
        out.stdout
    }

    #[test]
    fn sizes_are_checked_like_node() {
        let mut o = Options::new();
        o.set(NTLS_OPT_DHPARAM, Value::Bytes(vec![dh(2048)]), false).unwrap();
        assert!(check(&o).is_ok());
        o.set(NTLS_OPT_DHPARAM, Value::Bytes(vec![dh(512)]), false).unwrap();
        assert_eq!(check(&o).unwrap_err().message, "DH parameter is less than 1024 bits");
        o.set(NTLS_OPT_DHPARAM, Value::Bytes(vec![b"garbage".to_vec()]), false).unwrap();
        assert!(check(&o).unwrap_err().message.starts_with("dhparam:"));
        o.set(NTLS_OPT_DHPARAM, Value::Bytes(vec![b"auto".to_vec()]), false).unwrap();
        o.set(NTLS_OPT_MIN_DH_SIZE, Value::Int(0), false).unwrap();
        assert!(check(&o).unwrap_err().message.contains("minDHSize"));
    }
}
