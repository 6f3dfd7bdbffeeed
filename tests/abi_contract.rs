//! Checks the C ABI's own rules: every exported function goes through the panic guard,
//! the exported symbols are exactly the header's functions, and the header is fresh.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// (function name, first statement of its body) for every `extern "C" fn` in src/ffi.
fn exported_functions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(Path::new(ROOT).join("src/ffi")).unwrap() {
        let path = entry.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        let mut rest = src.as_str();
        while let Some(at) = rest.find("extern \"C\" fn ") {
            let after = &rest[at + "extern \"C\" fn ".len()..];
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let body_start = after.find("{\n").map(|i| i + 2).unwrap_or(0);
            let body = after[body_start..]
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("//"))
                .unwrap_or("")
                .to_owned();
            // Skip function-pointer types such as `Option<unsafe extern "C" fn(...)>`.
            if !name.is_empty() {
                out.push((name, body));
            }
            rest = &after[body_start..];
        }
    }
    out
}

#[test]
fn every_export_is_guarded() {
    let fns = exported_functions();
    assert!(fns.len() > 60, "found only {} exports", fns.len());
    for (name, first) in &fns {
        assert!(name.starts_with("ntls_"), "export {name} lacks the ntls_ prefix");
        assert!(first.starts_with("guard!("), "{name} does not start with guard!: {first}");
    }
}

fn header_functions(header: &str) -> BTreeSet<String> {
    header
        .lines()
        .filter(|l| {
            !l.starts_with(' ') && !l.starts_with("typedef") && l.contains("ntls_") && l.contains('(')
        })
        .filter_map(|l| {
            let before = &l[..l.find('(')?];
            let name = before.rsplit([' ', '*']).next()?;
            name.starts_with("ntls_").then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn header_declares_every_export() {
    let header = std::fs::read_to_string(Path::new(ROOT).join("include/nodetls.h")).unwrap();
    let declared = header_functions(&header);
    let exported: BTreeSet<String> = exported_functions().into_iter().map(|(n, _)| n).collect();
    assert_eq!(declared, exported);
}

#[test]
fn header_is_fresh() {
    let fresh = std::env::temp_dir().join(format!("nodetls-header-{}.h", std::process::id()));
    let status = Command::new("cbindgen")
        .current_dir(ROOT)
        .args(["--config", "cbindgen.toml", "--quiet", "--output"])
        .arg(&fresh)
        .status()
        .expect("cbindgen is installed by scripts/setup.sh");
    assert!(status.success());
    let committed = std::fs::read_to_string(Path::new(ROOT).join("include/nodetls.h")).unwrap();
    let generated = std::fs::read_to_string(&fresh).unwrap();
    let _ = std::fs::remove_file(&fresh);
    assert!(committed == generated, "include/nodetls.h is stale: run scripts/gen-header.sh");
}

#[test]
fn shared_library_exports_exactly_the_api() {
    let lib = Path::new(ROOT).join("target/debug/libnodetls.so");
    // `cargo test` links tests against the rlib; make sure the shared library is current.
    let ok = Command::new(env!("CARGO")).current_dir(ROOT).args(["build", "--lib"]).status().unwrap();
    assert!(ok.success());
    let out = Command::new("nm").args(["-D", "--defined-only"]).arg(&lib).output().expect("nm (binutils)");
    let symbols: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| s.starts_with("ntls_"))
        .map(str::to_owned)
        .collect();
    let exported: BTreeSet<String> = exported_functions().into_iter().map(|(n, _)| n).collect();
    assert_eq!(symbols, exported);
}
