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
        let stack = Stack { vars: parse_env(&text) };
        watch_replication(&dir, &stack);
        stack
    })
}

/// The shared primary's commits wait for its synchronous standby, and PostgreSQL waits for it forever: a
/// standby that stopped streaming would hang every test that writes, silently, until CI's clock runs out.
/// A thread of this process asks the primary every 10 s; after 120 s without `standby_sync` streaming it
/// prints the stack's state (scripts/stack status) to the process's real stderr and aborts the test run.
fn watch_replication(dir: &std::path::Path, stack: &Stack) {
    let conninfo = format!(
        "host=127.0.0.1 port={} user={} dbname=postgres sslmode=require connect_timeout=5",
        stack.var("GLCTL_PG_PORT"),
        stack.var("GLCTL_PG_USER")
    );
    let password = stack.var("GLCTL_PG_PASSWORD").to_string();
    let dir = dir.to_path_buf();
    let streams = move || {
        Command::new("timeout")
            .args(["15", "psql", "-XAt", &conninfo, "-c"])
            .arg("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby_sync' AND state = 'streaming' AND sync_state = 'sync'")
            .env("PGPASSWORD", &password)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "1")
            .unwrap_or(false)
    };
    std::thread::spawn(move || {
        let mut since_last_seen = std::time::Instant::now();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(10));
            if streams() {
                since_last_seen = std::time::Instant::now();
                continue;
            }
            if since_last_seen.elapsed() < std::time::Duration::from_secs(120) {
                continue;
            }
            let status = Command::new(repo().join("scripts/stack"))
                .args(["status", "--dir"])
                .arg(&dir)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            // Not eprintln!: the harness captures a test thread's output (and this thread inherits it).
            use std::io::Write;
            let mut stderr = std::fs::OpenOptions::new().write(true).open("/dev/stderr").ok();
            if let Some(err) = stderr.as_mut() {
                let _ = writeln!(
                    err,
                    "\nthe shared stack's standby_sync has not streamed for 120 s: every commit on the primary \
                     waits for it forever, so the test run stops here.\n{status}"
                );
            }
            std::process::abort();
        }
    });
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
        // Values are single-quoted; anything after the closing quote is a comment.
        .map(|(k, v)| (k.to_string(), v.split('\'').nth(1).unwrap_or(v).to_string()))
        .collect()
}

/// An AWS SDK configuration pointed at the moto at `endpoint`.
pub async fn aws_config(endpoint: &str) -> aws_config::SdkConfig {
    let s = stack();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_rds::config::Region::new(s.var("AWS_REGION").to_string()))
        .credentials_provider(aws_sdk_rds::config::Credentials::new("test", "test", None, None, "glctl-tests"))
        .load()
        .await
}

/// What INFRA-001 would provide, created in moto by `tests/moto/seed.py`.
#[derive(serde::Deserialize, Debug)]
pub struct Seed {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub eks_nodes_sg: String,
    pub rotation_lambda_arn: String,
}

pub fn seed(endpoint: &str) -> Seed {
    let python = repo().join(".tools/venv/bin/python");
    let out = Command::new(python)
        .arg(repo().join("tests/moto/seed.py"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("seed runs");
    assert!(out.status.success(), "seed failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("seed prints JSON")
}

/// Starts the shell `command` in the background under a watchdog that kills it, then runs `cleanup`, once
/// this test process exits, however it ends. `setsid -f` forks the watchdog into its own session and
/// returns at once.
fn run_while_tests_live(command: &str, cleanup: &str) {
    let script = format!(
        "{command} & child=$!; \
         while kill -0 {} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill $child 2>/dev/null; {cleanup}",
        std::process::id()
    );
    let started = Command::new("setsid").args(["-f", "bash", "-c", &script]).status().expect("setsid runs");
    assert!(started.success(), "could not start: {command}");
}

/// A moto server of one test's own, for work that moto cannot share (see its users). It lives until this
/// process exits: a shell watchdog stops it then, however the process ends.
pub fn dedicated_moto() -> String {
    dedicated_moto_for_account("123456789012")
}

/// A moto of one test's own that answers as AWS account `account` (MOTO_ACCOUNT_ID).
pub fn dedicated_moto_for_account(account: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let moto = repo().join(".tools/venv/bin/moto_server");
    run_while_tests_live(
        &format!(
            "MOTO_ACCOUNT_ID={account} MOTO_IAM_LOAD_MANAGED_POLICIES=true '{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1",
            moto.display()
        ),
        "",
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return endpoint;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("dedicated moto did not listen on {endpoint}");
}

/// Connects to the TimescaleDB (PGlite) server. PGlite is a single backend, so prepared statements of an
/// earlier client outlive its connection and collide with this client's (`prepared statement "s2" already
/// exists`): drop them first. Hold `timescaledb_lock()` for as long as the client lives.
pub async fn timescaledb_connect() -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    timescaledb_connect_to(stack().var("GLCTL_TSDB_PORT").parse().expect("a port")).await
}

/// Drops glctl's ledger schema in the TimescaleDB server, so a test starts from an unmigrated database.
/// The caller holds `timescaledb_lock()`.
pub fn timescaledb_reset_ledger() -> Result<(), String> {
    super::runtime().block_on(async {
        let (client, task) = timescaledb_connect().await;
        let result = client.batch_execute("DROP SCHEMA IF EXISTS glctl CASCADE").await.map_err(|e| e.to_string());
        drop(client);
        let _ = task.await;
        result
    })
}

/// PGlite serves one connection at a time: tests that talk to TimescaleDB hold this for their duration.
pub fn timescaledb_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A TimescaleDB (PGlite) server of one test's own, on a fresh data directory, for tests that need an
/// unmigrated database (the shared one is migrated by other tests, and PGlite has a single database).
/// It lives until this process exits, like `dedicated_moto`. Returns its port.
pub fn dedicated_timescaledb() -> u16 {
    // One start at a time: several WebAssembly servers booting at once starve the 2-core CI machine.
    static STARTING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = STARTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().unwrap().keep();
    let log = dir.join("pglite.log");
    run_while_tests_live(
        &format!(
            "node '{}' --port 0 --data-dir '{}' >'{}' 2>&1",
            repo().join("tools/pglite-server/server.mjs").display(),
            dir.join("data").display(),
            log.display()
        ),
        &format!("rm -rf '{}'", dir.display()),
    );
    for _ in 0..600 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(port) = text.lines().find_map(|l| l.strip_prefix("READY ")) {
            return port.trim().parse().expect("a port after READY");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("dedicated TimescaleDB did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
}

/// A client of the PGlite server on `port` (see `timescaledb_connect` for DEALLOCATE ALL).
pub async fn timescaledb_connect_to(port: u16) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    let url = format!("host=127.0.0.1 port={port} user=postgres password=postgres dbname=postgres sslmode=disable");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect to PGlite");
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    client.batch_execute("DEALLOCATE ALL").await.expect("deallocate");
    (client, task)
}
