//! Stamps the binary with the commit it was built from and the build date, for `glctl --version`.
//! `git rev-parse --short HEAD` when the source is a git checkout; else GLCTL_BUILD_COMMIT (a release tarball's
//! builder sets it); else "unknown". The date honours SOURCE_DATE_EPOCH (reproducible builds).
//! Only `main.rs` reads these, so a new commit relinks the binary, not the library and tests.

// The same calendar arithmetic glctl uses (no dependency, so the build script can include it).
#[path = "src/clock/civil.rs"]
mod civil;

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=GLCTL_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"])
        .or_else(|| std::env::var("GLCTL_BUILD_COMMIT").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    // Rebuild when HEAD moves: the HEAD file (a branch switch) and the ref it points to (a new commit).
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &reference]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
    println!("cargo:rustc-env=GLCTL_COMMIT={commit}");
    println!("cargo:rustc-env=GLCTL_BUILD_DATE={}", civil::civil_date(i64::try_from(seconds / 86_400).unwrap_or(0)));
}
