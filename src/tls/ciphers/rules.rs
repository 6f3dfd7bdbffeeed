//! OpenSSL 3.0's cipher-string rules (`ssl_create_cipher_list`), over its whole suite list.
//!
//! A port of OpenSSL's algorithm, quirks included, so that `!`, `-`, `+`, `A+B`,
//! `@STRENGTH`, `@SECLEVEL=n`, `DEFAULT` and `SUITEB*` order and select suites as OpenSSL
//! does; checked against `openssl ciphers` on some 1,500 strings.

use super::table::{self as t, Suite, ALIASES, SUITES};
use std::sync::OnceLock;

/// OpenSSL's list when a rule string starts with `DEFAULT`.
const OPENSSL_DEFAULT: &str = "ALL:!COMPLEMENTOFDEFAULT:!eNULL";

/// A rule string OpenSSL refuses (`SSL_R_INVALID_COMMAND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidCommand;

/// What a rule string selects: indices into `SUITES`, in order, and its `@SECLEVEL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The active suites, best first.
    pub suites: Vec<usize>,
    /// The last `@SECLEVEL=n`, if any.
    pub seclevel: Option<u8>,
}

/// Runs a rule string (the part Node hands to `SSL_CTX_set_cipher_list`).
pub fn run(rule_str: &str) -> Result<Selected, InvalidCommand> {
    static PREORDERED: OnceLock<Vec<usize>> = OnceLock::new();
    let list = PREORDERED.get_or_init(|| Rules::preordered().list).clone();
    let mut r = Rules { list, active: vec![false; SUITES.len()], seclevel: None };
    let mut rest = rule_str;
    let suiteb = [
        ("SUITEB128ONLY", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("SUITEB128C2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("SUITEB128", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("SUITEB192", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ];
    // A leading SUITEB word replaces the whole string, as in OpenSSL (whose Suite B curve
    // and signature limits are not modelled here).
    if let Some((_, list)) = suiteb.iter().find(|(p, _)| rest.starts_with(p)) {
        rest = list;
    }
    let mut ok = true;
    // Only a leading DEFAULT means OpenSSL's default; elsewhere it is an unknown word.
    if let Some(after) = rest.strip_prefix("DEFAULT") {
        ok = r.process(OPENSSL_DEFAULT.as_bytes());
        rest = after.strip_prefix(':').unwrap_or(after);
    }
    if ok && !rest.is_empty() {
        ok = r.process(rest.as_bytes());
    }
    if !ok {
        return Err(InvalidCommand);
    }
    let suites = r.list.iter().copied().filter(|&i| r.active[i]).collect();
    Ok(Selected { suites, seclevel: r.seclevel })
}

/// The least security bits a suite needs at a security level.
pub fn min_bits(level: u8) -> u16 {
    [0, 80, 112, 128, 192, 256][usize::from(level.min(5))]
}

/// OpenSSL's default security callback for a TLS 1.2 suite: what `@SECLEVEL` takes away.
pub fn allowed_at(level: u8, c: &Suite) -> bool {
    if level == 0 {
        return true;
    }
    let min = min_bits(level);
    let forward_secret = c.mkey & (t::K_DHE | t::K_ECDHE | t::K_DHEPSK | t::K_ECDHEPSK) != 0;
    c.bits >= min
        && c.auth & t::A_NULL == 0
        && c.mac & t::M_MD5 == 0
        && !(min > 160 && c.mac & t::M_SHA1 != 0)
        && (level < 3 || forward_secret)
}

/// What a rule does to the suites it matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Plain word: append the inactive ones.
    Add,
    /// `-`: deactivate, keep them at the front for a later add.
    Del,
    /// `+`: move the active ones to the end.
    Ord,
    /// `!`: remove for good.
    Kill,
    /// Not from the string: move the active ones to the front.
    Bump,
    /// `@`: a command.
    Special,
}

/// The suites one rule matches, built like OpenSSL from a word or `A+B+...`.
#[derive(Default, Clone, Copy)]
struct Pattern {
    id: Option<u16>,
    mkey: u32,
    auth: u32,
    enc: u32,
    mac: u32,
    min_tls: u16,
    strength: u8,
}

impl Pattern {
    fn matches(&self, c: &Suite) -> bool {
        let any = |want: u32, have: u32| want == 0 || want & have != 0;
        let strong = self.strength & t::STRONG_MASK;
        self.id.is_none_or(|id| id == c.id)
            && any(self.mkey, c.mkey)
            && any(self.auth, c.auth)
            && any(self.enc, c.enc)
            && any(self.mac, c.mac)
            && (self.min_tls == 0 || self.min_tls == c.min_tls)
            && (strong == 0 || strong & c.strength != 0)
            && (self.strength & t::NOT_DEFAULT == 0 || c.strength & t::NOT_DEFAULT != 0)
    }

    /// Narrows by one more word of an `A+B` rule; false when nothing can match any more.
    fn and(&mut self, w: &Word) -> bool {
        fn narrow(acc: &mut u32, v: u32) -> bool {
            if v != 0 {
                *acc = if *acc != 0 { *acc & v } else { v };
                return *acc != 0;
            }
            true
        }
        if !(narrow(&mut self.mkey, w.mkey)
            && narrow(&mut self.auth, w.auth)
            && narrow(&mut self.enc, w.enc)
            && narrow(&mut self.mac, w.mac))
        {
            return false;
        }
        let strong = w.strength & t::STRONG_MASK;
        if strong != 0 {
            if self.strength & t::STRONG_MASK != 0 {
                self.strength &= strong | !t::STRONG_MASK;
                if self.strength & t::STRONG_MASK == 0 {
                    return false;
                }
            } else {
                // As OpenSSL: this drops a NOT_DEFAULT set by an earlier word.
                self.strength = strong;
            }
        }
        self.strength |= w.strength & t::NOT_DEFAULT;
        // Only the last word's explicit suite counts, and a suite's version is no filter.
        self.id = w.id;
        if w.id.is_none() && w.min_tls != 0 {
            if self.min_tls != 0 && self.min_tls != w.min_tls {
                return false;
            }
            self.min_tls = w.min_tls;
        }
        true
    }
}

/// A suite name or an alias, as the fields OpenSSL combines.
struct Word {
    id: Option<u16>,
    mkey: u32,
    auth: u32,
    enc: u32,
    mac: u32,
    min_tls: u16,
    strength: u8,
}

fn lookup(word: &[u8]) -> Option<Word> {
    if let Some(c) = SUITES.iter().find(|c| c.name.as_bytes() == word || c.std_name.as_bytes() == word) {
        let (mkey, auth, enc, mac, strength) = (c.mkey, c.auth, c.enc, c.mac, c.strength);
        return Some(Word { id: Some(c.id), mkey, auth, enc, mac, min_tls: c.min_tls, strength });
    }
    ALIASES.iter().find(|a| a.name.as_bytes() == word).map(|a| Word {
        id: None,
        mkey: a.mkey,
        auth: a.auth,
        enc: a.enc,
        mac: a.mac,
        min_tls: a.min_tls,
        strength: a.strength,
    })
}

fn is_sep(b: u8) -> bool {
    matches!(b, b':' | b' ' | b';' | b',')
}

fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'=')
}

/// OpenSSL's ordered suite list with active flags, as `ssl_create_cipher_list` keeps it.
struct Rules {
    /// Indices into `SUITES`; killed suites are gone.
    list: Vec<usize>,
    active: Vec<bool>,
    seclevel: Option<u8>,
}

impl Rules {
    /// Every suite, inactive, in OpenSSL's order of preference: the order a plain `ALL`
    /// keeps, and the one every later rule moves suites within.
    fn preordered() -> Rules {
        let n = SUITES.len();
        let mut r = Rules { list: (0..n).collect(), active: vec![false; n], seclevel: None };
        let p =
            |mkey, auth, enc, mac, min_tls| Pattern { mkey, auth, enc, mac, min_tls, ..Pattern::default() };
        let all = Pattern::default();
        r.apply(&p(t::K_ECDHE, t::A_ECDSA, 0, 0, 0), Op::Add);
        r.apply(&p(t::K_ECDHE, 0, 0, 0, 0), Op::Add);
        r.apply(&p(t::K_ECDHE, 0, 0, 0, 0), Op::Del);
        r.apply(&p(0, 0, t::E_AESGCM, 0, 0), Op::Add);
        r.apply(&p(0, 0, t::E_CHACHA20, 0, 0), Op::Add);
        r.apply(&p(0, 0, t::E_AES ^ t::E_AESGCM, 0, 0), Op::Add);
        r.apply(&all, Op::Add);
        r.apply(&p(0, 0, 0, t::M_MD5, 0), Op::Ord);
        r.apply(&p(0, t::A_NULL, 0, 0, 0), Op::Ord);
        r.apply(&p(t::K_RSA, 0, 0, 0, 0), Op::Ord);
        r.apply(&p(t::K_PSK, 0, 0, 0, 0), Op::Ord);
        r.apply(&p(0, 0, t::E_RC4, 0, 0), Op::Ord);
        r.strength_sort();
        r.apply(&p(0, 0, 0, 0, t::TLS1_2), Op::Bump);
        r.apply(&p(0, 0, 0, t::M_AEAD, 0), Op::Bump);
        r.apply(&p(t::K_DHE | t::K_ECDHE, 0, 0, 0, 0), Op::Bump);
        r.apply(&p(t::K_DHE | t::K_ECDHE, 0, 0, t::M_AEAD, 0), Op::Bump);
        r.apply(&all, Op::Del);
        r
    }

    fn apply(&mut self, pat: &Pattern, op: Op) {
        self.apply_where(|c| pat.matches(c), op);
    }

    fn apply_where(&mut self, hit: impl Fn(&Suite) -> bool, op: Op) {
        let active = &mut self.active;
        let moved: Vec<usize> = match op {
            Op::Kill => {
                self.list.retain(|&i| {
                    let h = hit(&SUITES[i]);
                    if h {
                        active[i] = false;
                    }
                    !h
                });
                return;
            }
            Op::Add => self.list.iter().copied().filter(|&i| !active[i] && hit(&SUITES[i])).collect(),
            _ => self.list.iter().copied().filter(|&i| active[i] && hit(&SUITES[i])).collect(),
        };
        for &i in &moved {
            active[i] = op != Op::Del;
        }
        let rest = self.list.iter().copied().filter(|i| !moved.contains(i));
        self.list = match op {
            Op::Del | Op::Bump => moved.iter().copied().chain(rest).collect(),
            _ => rest.chain(moved.iter().copied()).collect(),
        };
    }

    /// `@STRENGTH`: active suites by descending bits, earlier order kept within a size.
    fn strength_sort(&mut self) {
        let max = self.list.iter().filter(|&&i| self.active[i]).map(|&i| SUITES[i].bits).max();
        for bits in (0..=max.unwrap_or(0)).rev() {
            self.apply_where(|c| c.bits == bits, Op::Ord);
        }
    }

    /// `ssl_cipher_process_rulestr`, quirks included; false on an invalid command.
    fn process(&mut self, s: &[u8]) -> bool {
        let mut ok = true;
        let mut l = 0;
        while let Some(&ch) = s.get(l) {
            let op = match ch {
                b'-' => Op::Del,
                b'+' => Op::Ord,
                b'!' => Op::Kill,
                b'@' => Op::Special,
                _ => Op::Add,
            };
            if op != Op::Add {
                l += 1;
            }
            if is_sep(ch) {
                l += 1;
                continue;
            }
            let mut pat = Pattern::default();
            let mut found = false;
            let mut word: &[u8];
            loop {
                let start = l;
                while s.get(l).is_some_and(|&b| is_word_char(b)) {
                    l += 1;
                }
                word = &s[start..l];
                if let Some(end) = iana_name_end(s, start, l) {
                    // An IANA name has '_', which OpenSSL would stop at; we take it whole.
                    l = end;
                    word = &s[start..l];
                }
                if word.is_empty() {
                    ok = false;
                    found = false;
                    l += 1;
                    break;
                }
                if op == Op::Special {
                    break;
                }
                let multi = s.get(l) == Some(&b'+');
                if multi {
                    l += 1;
                }
                found = lookup(word).is_some_and(|w| pat.and(&w));
                if !found || !multi {
                    break;
                }
            }
            if op == Op::Special {
                ok &= self.command(word);
            } else if found {
                self.apply(&pat, op);
            }
            if op == Op::Special || !found {
                while s.get(l).is_some_and(|&b| !is_sep(b)) {
                    l += 1;
                }
            }
        }
        ok
    }

    /// `@STRENGTH` or `@SECLEVEL=n`.
    fn command(&mut self, word: &[u8]) -> bool {
        match word {
            b"STRENGTH" => {
                self.strength_sort();
                true
            }
            [b'S', b'E', b'C', b'L', b'E', b'V', b'E', b'L', b'=', d @ b'0'..=b'5'] => {
                self.seclevel = Some(d - b'0');
                true
            }
            _ => false,
        }
    }
}

/// The end of a TLS 1.2 suite's IANA name starting at `start`, if one is there.
fn iana_name_end(s: &[u8], start: usize, stop: usize) -> Option<usize> {
    if s.get(stop) != Some(&b'_') {
        return None;
    }
    let mut end = stop;
    while s.get(end).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_') {
        end += 1;
    }
    SUITES.iter().any(|c| c.std_name.as_bytes() == &s[start..end]).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(rule_str: &str) -> Vec<&'static str> {
        run(rule_str).unwrap().suites.into_iter().map(|i| SUITES[i].name).collect()
    }

    /// Checked by hand against `openssl ciphers` of OpenSSL 3.0.19.
    #[test]
    fn whole_openssl_list_in_openssl_order() {
        let default = names("DEFAULT");
        assert_eq!(default.len(), 57);
        assert_eq!(
            default[..8],
            [
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-RSA-AES256-GCM-SHA384",
                "DHE-RSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-CHACHA20-POLY1305",
                "ECDHE-RSA-CHACHA20-POLY1305",
                "DHE-RSA-CHACHA20-POLY1305",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-RSA-AES128-GCM-SHA256",
            ]
        );
        assert_eq!(
            default[53..],
            ["DHE-PSK-AES128-CBC-SHA", "AES128-SHA", "PSK-AES128-CBC-SHA256", "PSK-AES128-CBC-SHA"]
        );
        assert_eq!(names("ALL:COMPLEMENTOFALL").len(), SUITES.len());
        let no_rsa = names("HIGH:!RSA");
        assert!(no_rsa.contains(&"ECDHE-RSA-AES128-GCM-SHA256") && !no_rsa.contains(&"AES128-GCM-SHA256"));
        assert_eq!(names("ALL:@STRENGTH").last(), Some(&"PSK-CAMELLIA128-SHA256"));
    }

    #[test]
    fn operators() {
        let ecdhe_gcm = ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"];
        assert_eq!(names("ECDHE+AES256+AESGCM"), ecdhe_gcm);
        assert_eq!(names("ECDHE+AES256+AESGCM:-ECDSA"), ecdhe_gcm[1..]);
        assert_eq!(names("ECDHE+AES256+AESGCM:-ECDSA:ECDSA+AES256+AESGCM"), [ecdhe_gcm[1], ecdhe_gcm[0]]);
        assert_eq!(names("ECDHE+AES256+AESGCM:!ECDSA:ECDSA+AES256+AESGCM"), ecdhe_gcm[1..]);
        assert_eq!(names("ECDHE+AES256+AESGCM:+ECDSA"), [ecdhe_gcm[1], ecdhe_gcm[0]]);
        assert_eq!(names("ECDHE+AESGCM:@STRENGTH")[..2], ecdhe_gcm);
        assert_eq!(run("HIGH:@SECLEVEL=3").unwrap().seclevel, Some(3));
        assert_eq!(run("HIGH:@SECLEVEL=6"), Err(InvalidCommand));
        assert_eq!(run("HIGH:@STRENGTHS"), Err(InvalidCommand));
        assert_eq!(run("HIGH:$"), Err(InvalidCommand));
        assert!(names("RC4:3DES:foo").is_empty());
    }

    #[test]
    fn iana_names_are_suite_names_too() {
        assert_eq!(names("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), ["ECDHE-RSA-AES128-GCM-SHA256"]);
        assert_eq!(
            names("ECDHE+AESGCM+AES128:!TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            ["ECDHE-ECDSA-AES128-GCM-SHA256"]
        );
        // As in OpenSSL, TLS 1.3 names mean nothing here.
        assert!(names("TLS_AES_128_GCM_SHA256").is_empty());
    }

    #[test]
    fn security_levels() {
        let suite = |name: &str| SUITES.iter().find(|c| c.name == name).unwrap();
        let (gcm128, cbc, plain_rsa) =
            (suite("ECDHE-RSA-AES128-GCM-SHA256"), suite("ECDHE-RSA-AES256-SHA"), suite("AES256-GCM-SHA384"));
        assert!(allowed_at(3, gcm128) && !allowed_at(4, gcm128));
        assert!(allowed_at(3, cbc) && !allowed_at(4, cbc));
        assert!(allowed_at(2, plain_rsa) && !allowed_at(3, plain_rsa));
        assert!(
            !allowed_at(1, suite("ADH-AES256-GCM-SHA384")) && allowed_at(0, suite("ADH-AES256-GCM-SHA384"))
        );
    }
}
