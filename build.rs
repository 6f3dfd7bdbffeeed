//! Gives the shared library a versioned SONAME, `libnodetls.so.MAJOR`, so that programs
//! record `libnodetls.so.0` (not the development name `libnodetls.so`) and an install can
//! lay out `libnodetls.so -> libnodetls.so.0 -> libnodetls.so.0.1.0` (CMakeLists.txt).
//!
//! The version comes from Cargo.toml. `cargo build` and the CMake build both get it, since
//! CMake runs cargo. Next to the built `libnodetls.so` this also makes the
//! `libnodetls.so.0 -> libnodetls.so` link, so a program linked against the build tree
//! (tests, `-L target/release -lnodetls`, the Go binding) finds the SONAME it records.
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let elf = !matches!(os.as_str(), "macos" | "ios" | "windows");
    if !elf {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    let soname = format!("libnodetls.so.{major}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    if let Some(dir) = artifact_dir() {
        link_soname(&dir.join(&soname));
    }
}

/// `<dir>/libnodetls.so.MAJOR -> libnodetls.so`: dangling until the linker writes the library.
#[cfg(unix)]
fn link_soname(link: &Path) {
    if std::fs::read_link(link).ok().as_deref() != Some(Path::new("libnodetls.so")) {
        let _ = std::fs::remove_file(link);
        if let Err(e) = std::os::unix::fs::symlink("libnodetls.so", link) {
            println!("cargo:warning=cannot link {} -> libnodetls.so: {e}", link.display());
        }
    }
}

#[cfg(not(unix))]
fn link_soname(_link: &Path) {}

/// Where cargo puts the crate's artifacts: OUT_DIR is `<target>/<profile>/build/<pkg>-<hash>/out`.
fn artifact_dir() -> Option<PathBuf> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR")?);
    let dir = out.ancestors().nth(3)?.to_path_buf();
    dir.is_dir().then_some(dir)
}
