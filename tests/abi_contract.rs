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

/// The header with comments removed (block and line comments; no string literal in it holds
/// a comment marker).
fn strip_comments(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut rest = header;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            out.push(' ');
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn ident_at_end(s: &str) -> Option<String> {
    let s = s.trim_end();
    let start = s.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let name = &s[start..];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then(|| name.to_owned())
}

fn ident_at_start(s: &str) -> Option<String> {
    let name: String = s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// Every name nodetls.h puts into a program's namespace, as (kind, name): macros (the include
/// guard too), struct/enum/union tags, typedefs, enum constants, functions and variables.
fn header_names(header: &str) -> Vec<(&'static str, String)> {
    let text = strip_comments(header);
    let mut names = Vec::new();
    let mut code = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(directive) = t.strip_prefix('#') {
            let directive = directive.trim_start();
            if let Some(def) = directive.strip_prefix("define") {
                if let Some(name) = ident_at_start(def) {
                    names.push(("macro", name));
                }
            }
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    // `extern "C" {` ... `}` only wraps declarations: drop the wrapper.
    let code = code.replace("extern \"C\" {", " ");
    let mut depth = 0i32;
    let mut statement = String::new();
    let mut statements = Vec::new();
    for c in code.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            // The closing brace of the extern "C" block.
            depth = 0;
            continue;
        }
        if c == ';' && depth == 0 {
            statements.push(std::mem::take(&mut statement));
        } else {
            statement.push(c);
        }
    }
    for st in statements {
        let st = st.split_whitespace().collect::<Vec<_>>().join(" ");
        if st.is_empty() {
            continue;
        }
        let (head, body, tail) = match (st.find('{'), st.rfind('}')) {
            (Some(open), Some(close)) => (&st[..open], Some(&st[open + 1..close]), &st[close + 1..]),
            _ => (st.as_str(), None, ""),
        };
        let is_typedef = head.starts_with("typedef ");
        let head_rest = head.strip_prefix("typedef ").unwrap_or(head);
        for kw in ["struct ", "enum ", "union "] {
            if let Some(after) = head_rest.trim_start().strip_prefix(kw) {
                if let Some(tag) = ident_at_start(after) {
                    names.push(("tag", tag));
                }
                if kw == "enum " {
                    for item in body.unwrap_or("").split(',') {
                        if let Some(c) = ident_at_start(item) {
                            names.push(("enum constant", c));
                        }
                    }
                }
            }
        }
        if is_typedef {
            let declarator = if body.is_some() { tail } else { head_rest };
            let name = match declarator.find("(*") {
                Some(at) => ident_at_start(&declarator[at + 2..]),
                None => ident_at_end(declarator),
            };
            if let Some(n) = name {
                names.push(("typedef", n));
            }
        } else if body.is_none() {
            match head.find('(') {
                Some(at) => {
                    if let Some(n) = ident_at_end(&head[..at]) {
                        names.push(("function", n));
                    }
                }
                None => {
                    if let Some(n) = ident_at_end(head.split('=').next().unwrap_or(head)) {
                        names.push(("variable", n));
                    }
                }
            }
        }
    }
    names
}

#[test]
fn header_names_carry_the_prefix() {
    let header = std::fs::read_to_string(Path::new(ROOT).join("include/nodetls.h")).unwrap();
    let names = header_names(&header);
    // The parser must see the header's real contents, or an empty list would pass.
    let count = |kind: &str| names.iter().filter(|(k, _)| *k == kind).count();
    assert!(count("function") > 60, "parsed only {} functions: {names:?}", count("function"));
    assert!(count("typedef") >= 7, "parsed only {} typedefs: {names:?}", count("typedef"));
    assert!(count("macro") > 30, "parsed only {} macros: {names:?}", count("macro"));
    assert!(names.iter().any(|(k, n)| *k == "function" && n == "ntls_socket_connect"));
    assert!(names.iter().any(|(k, n)| *k == "typedef" && n == "ntls_write_cb"));
    let bad: Vec<String> = names
        .iter()
        .filter(|(kind, name)| match *kind {
            "macro" | "enum constant" => !name.starts_with("NTLS_"),
            "variable" => !(name.starts_with("ntls_") || name.starts_with("NTLS_")),
            _ => !name.starts_with("ntls_"),
        })
        .map(|(kind, name)| format!("{kind} {name}"))
        .collect();
    assert!(
        bad.is_empty(),
        "include/nodetls.h defines {} name(s) without the NTLS_/ntls_ prefix, which clash with \
         a program's own: {}",
        bad.len(),
        bad.join(", ")
    );
}

#[test]
fn header_name_parser_sees_every_kind() {
    let sample = "#ifndef GUARD_H\n#define GUARD_H\n#define NTLS_A 1 /* x; y */\n\
        typedef struct ntls_x ntls_x;\ntypedef enum bad_tag { NTLS_ONE = 1, TWO, } ntls_e;\n\
        typedef void (*ntls_cb)(int a, int b);\nstruct lone { int x; };\n\
        #ifdef __cplusplus\nextern \"C\" {\n#endif\n// a comment\nint ntls_f(const char *s);\n\
        const char *other(void);\nextern const int ntls_v;\nextern int bad_v;\n\
        #ifdef __cplusplus\n}\n#endif\n#endif\n";
    let mut got: Vec<String> = header_names(sample).into_iter().map(|(k, n)| format!("{k} {n}")).collect();
    got.sort();
    let mut want = vec![
        "macro GUARD_H",
        "macro NTLS_A",
        "tag ntls_x",
        "typedef ntls_x",
        "tag bad_tag",
        "enum constant NTLS_ONE",
        "enum constant TWO",
        "typedef ntls_e",
        "typedef ntls_cb",
        "tag lone",
        "function ntls_f",
        "function other",
        "variable ntls_v",
        "variable bad_v",
    ];
    want.sort();
    assert_eq!(got, want);
}
