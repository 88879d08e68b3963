//! The local stack, shared by every test in this binary: started once, stopped when the process exits.
//!
//! `scripts/test` starts the stack itself and exports GLCTL_STACK_DIR; a bare `cargo test` starts one here
//! with `--watch-pid`, so the stack's own watchdog stops it when this process ends, however it ends.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::{in_ci, repo};

pub struct Stack {
    vars: HashMap<String, String>,
}

impl Stack {
    pub fn var(&self, name: &str) -> &str {
        self.vars.get(name).unwrap_or_else(|| panic!("the stack's env file has no {name}"))
    }
}

pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let dir = match std::env::var_os("GLCTL_STACK_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => start_own(),
        };
        let text = std::fs::read_to_string(dir.join("env"))
            .unwrap_or_else(|e| panic!("no stack settings in {}: {e}", dir.display()));
        Stack { vars: parse_env(&text) }
    })
}

fn start_own() -> PathBuf {
    let dir = repo().join("target").join(format!("test-stack-{}", std::process::id()));
    let status = Command::new(repo().join("scripts/stack"))
        .args(["start", "--dir"])
        .arg(&dir)
        .args(["--watch-pid", &std::process::id().to_string()])
        .status()
        .expect("scripts/stack runs");
    assert!(
        status.success(),
        "the local stack did not start{}; run scripts/setup first",
        if in_ci() { " in CI" } else { "" }
    );
    dir
}

fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// PGlite serves one connection at a time: tests that talk to TimescaleDB hold this for their duration.
pub fn timescaledb_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
