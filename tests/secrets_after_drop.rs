//! Secret material leaves nothing behind in the Rust heap: every block this process frees
//! while the test runs is searched, as it is freed, for the secrets the test handed in through
//! the C ABI (a key's passphrase, its PEM text, its decoded PKCS#8 bytes, and ticket keys given
//! as the `ticketKeys` option and to `ntls_server_set_ticket_keys`). A block that still holds
//! one when it is freed is a copy nobody wiped. What this proves and what it cannot: blocks
//! alive at the end (none here, once the handles are gone), copies on the stack or in
//! registers, and memory of the C crypto library (aws-lc, which wipes its own on free) are not
//! searched; nor is the base64 text of a PEM block, which rustls-pki-types's PEM decoder
//! gathers in a buffer of its own and frees without wiping (printed, not asserted: for an
//! unencrypted key that text is the key; see docs/reliability.md).

use nodetls::ffi::context::{ntls_context_new, ntls_context_unref};
use nodetls::ffi::options::{
    ntls_options_new, ntls_options_set_bytes, ntls_options_set_string, ntls_options_unref,
};
use nodetls::ffi::server::{
    ntls_server_close, ntls_server_new, ntls_server_set_ticket_keys, ntls_server_unref,
};
use nodetls::options::keys::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::CString;
use std::process::Command;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

struct Searching;
static ARMED: AtomicBool = AtomicBool::new(false);
static NEEDLES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
static HITS: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

fn search(p: *const u8, len: usize) {
    if !ARMED.load(Ordering::Relaxed) {
        return;
    }
    let Some(needles) = NEEDLES.get() else { return };
    // SAFETY: the block is still ours until System frees it after this call.
    let block = unsafe { std::slice::from_raw_parts(p, len) };
    for (i, (_, n)) in needles.iter().enumerate() {
        if block.len() >= n.len() && block.windows(n.len()).any(|w| w == &n[..]) {
            HITS[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: forwards to the system allocator; reads a block only before handing it back.
unsafe impl GlobalAlloc for Searching {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        search(p, l.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let q = unsafe { System.alloc(Layout::from_size_align_unchecked(n, l.align())) };
        if !q.is_null() {
            // SAFETY: both blocks are live and at least min(old, new) long.
            unsafe { ptr::copy_nonoverlapping(p, q, l.size().min(n)) };
            // SAFETY: same contract as the caller's.
            unsafe { self.dealloc(p, l) };
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Searching = Searching;

const PASSPHRASE: &str = "needle-Passphrase-7f3a9c51e0";

fn openssl(args: &[&str]) {
    let ok = Command::new("openssl").args(args).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "openssl {args:?}");
}

fn base64_body(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[test]
fn no_freed_block_holds_a_key_a_passphrase_or_ticket_keys() {
    let dir = std::env::temp_dir().join(format!("nodetls-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &path("ec.pem")]);
    openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", &path("ec.pem"), "-out", &path("key.pem")]);
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        &path("key.pem"),
        "-subj",
        "/CN=localhost",
        "-days",
        "2",
        "-out",
        &path("cert.pem"),
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        &path("key.pem"),
        "-passout",
        &format!("pass:{PASSPHRASE}"),
        "-out",
        &path("key-enc.pem"),
    ]);
    let plain_pem = std::fs::read_to_string(path("key.pem")).unwrap();
    let enc_pem = std::fs::read(path("key-enc.pem")).unwrap();
    let cert = std::fs::read(path("cert.pem")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let der = base64_body(&plain_pem);
    let enc_line = String::from_utf8_lossy(&enc_pem).lines().nth(3).unwrap().as_bytes().to_vec();
    let ticket_option: Vec<u8> = (0..48u8).map(|i| i.wrapping_mul(37).wrapping_add(101)).collect();
    let ticket_set: Vec<u8> = (0..48u8).map(|i| i.wrapping_mul(53).wrapping_add(7)).collect();
    NEEDLES
        .set(vec![
            ("the passphrase", PASSPHRASE.as_bytes().to_vec()),
            ("a line of the encrypted key's PEM", enc_line),
            // The private scalar sits inside the PKCS#8 bytes; 24 bytes of it are enough.
            ("the decoded private key", der[der.len() - 90..der.len() - 66].to_vec()),
            ("ticketKeys (option), secret part", ticket_option[16..].to_vec()),
            ("ntls_server_set_ticket_keys, secret part", ticket_set[16..].to_vec()),
        ])
        .unwrap();

    ARMED.store(true, Ordering::SeqCst);
    // SAFETY: the C API used as a C program would, with valid pointers throughout.
    unsafe {
        let mut o = ptr::null_mut();
        assert_eq!(ntls_options_new(&mut o), 0);
        assert_eq!(ntls_options_set_bytes(o, NTLS_OPT_KEY, enc_pem.as_ptr(), enc_pem.len()), 0);
        assert_eq!(ntls_options_set_bytes(o, NTLS_OPT_CERT, cert.as_ptr(), cert.len()), 0);
        let pass = CString::new(PASSPHRASE).unwrap();
        assert_eq!(ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, pass.as_ptr()), 0);
        assert_eq!(ntls_options_set_bytes(o, NTLS_OPT_TICKET_KEYS, ticket_option.as_ptr(), 48), 0);
        let mut ctx = ptr::null_mut();
        assert_eq!(ntls_context_new(o, &mut ctx), 0);
        let mut srv = ptr::null_mut();
        assert_eq!(ntls_server_new(ptr::null_mut(), o, &mut srv), 0);
        assert_eq!(ntls_server_set_ticket_keys(srv, ticket_set.as_ptr(), 48), 0);
        assert_eq!(ntls_server_close(srv, None), 0);
        ntls_server_unref(srv);
        ntls_context_unref(ctx);
        ntls_options_unref(o);
    }
    std::thread::sleep(Duration::from_millis(300)); // the loop thread lets go of the server
    ARMED.store(false, Ordering::SeqCst);

    let needles = NEEDLES.get().unwrap();
    let upstream = HITS[1].load(Ordering::SeqCst);
    println!(
        "the encrypted key's base64 text is in {upstream} freed blocks (rustls-pki-types's PEM decoder)"
    );
    let found: Vec<String> = needles
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1 && HITS[*i].load(Ordering::SeqCst) > 0)
        .map(|(i, (what, _))| format!("{what}: in {} freed blocks", HITS[i].load(Ordering::SeqCst)))
        .collect();
    assert!(found.is_empty(), "secrets left in freed memory:\n{}", found.join("\n"));
}
