//! GL-06 against a real PostgreSQL 15 (issue 28): a static parameter changed with `ALTER SYSTEM` and a reload
//! shows `pending_restart`, and `verify --only GL-06` FAILs naming it; after a restart it passes. The server
//! is a throwaway cluster of this test's own: the stack's primary serves other tests and is never restarted.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::{glctl_command, repo, runtime, without_aws_credentials};

const BIN: &str = "/usr/lib/postgresql/15/bin";

fn is_root() -> bool {
    crate::backup::is_root()
}

/// `program args` as the `postgres` OS user when the test runs as root (initdb refuses root).
fn as_server_user(program: &str, args: &[&str]) -> Output {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    };
    command.current_dir("/").args(args).output().unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL 15 cluster in a temporary directory on a free loopback port, trust authentication, no TLS.
/// Dropping it stops the server (immediately) and removes the directory, also when the test panicked.
struct Throwaway {
    /// Removed when dropped, after `Drop::drop` stopped the server.
    _dir: tempfile::TempDir,
    data: PathBuf,
    port: u16,
}

impl Throwaway {
    fn start() -> Throwaway {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("pg");
        std::fs::create_dir(&home).unwrap();
        if is_root() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            ok(&Command::new("chown").arg("postgres:postgres").arg(&home).output().unwrap(), "chown");
        }
        let data = home.join("data");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let data_str = data.to_str().unwrap().to_string();
        let data_str = data_str.as_str();
        ok(
            &as_server_user(
                &format!("{BIN}/initdb"),
                &["-D", data_str, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
            ),
            "initdb",
        );
        let cluster = Throwaway { _dir: dir, data, port };
        let options = format!("-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off");
        let log = home.join("server.log");
        ok(
            &as_server_user(
                &format!("{BIN}/pg_ctl"),
                &["-D", data_str, "-l", log.to_str().unwrap(), "-o", &options, "-w", "-t", "20", "start"],
            ),
            "pg_ctl start",
        );
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable", self.port)
    }

    fn restart(&self) {
        // pg_ctl restarts with the options of the last start (postmaster.opts); the log file again, or the
        // server would hold this test's output pipe open.
        let data = self.data.to_str().unwrap();
        let log = self.data.with_file_name("server.log");
        ok(
            &as_server_user(
                &format!("{BIN}/pg_ctl"),
                &["-D", data, "-l", log.to_str().unwrap(), "-m", "fast", "-w", "-t", "20", "restart"],
            ),
            "restart",
        );
    }

    fn sql(&self, statements: &[&str]) -> Vec<String> {
        runtime().block_on(async {
            let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls).await.unwrap();
            let task = tokio::spawn(connection);
            let mut last = Vec::new();
            for s in statements {
                last = client
                    .simple_query(s)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                        _ => None,
                    })
                    .collect();
            }
            drop(client);
            let _ = task.await;
            last
        })
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap();
        let _ = as_server_user(&format!("{BIN}/pg_ctl"), &["-D", data, "-m", "immediate", "-w", "stop"]);
    }
}

/// `verify -e local --only GL-06` against `url`: exit code and GL-06's result. No AWS credentials: an
/// external server's GL-06 reads PostgreSQL alone.
fn gl06(url: &str, home: &Path) -> (i32, serde_json::Value, String) {
    let out = home.join("out");
    let mut command = glctl_command(
        &repo(),
        &[
            "verify",
            "-e",
            "local",
            "--only",
            "GL-06",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
            "--database-url",
            url,
        ],
    );
    without_aws_credentials(&mut command, home);
    let o = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let run: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let result = run["results"].as_array().unwrap().iter().find(|r| r["id"] == "GL-06").cloned().unwrap();
    (o.status.code().unwrap_or(-1), result, stderr)
}

#[test]
fn a_static_parameter_changed_and_reloaded_fails_gl06_by_name_until_a_restart() {
    let started = Instant::now();
    let server = Throwaway::start();
    let home = tempfile::tempdir().unwrap();

    server.sql(&["ALTER SYSTEM SET shared_buffers = '32MB'", "SELECT pg_reload_conf()"]);
    // The reload is asynchronous: the postmaster rereads the file after the call returns.
    let deadline = Instant::now() + Duration::from_secs(10);
    let pending = loop {
        let pending = server.sql(&["SELECT name FROM pg_settings WHERE pending_restart"]);
        if !pending.is_empty() || Instant::now() > deadline {
            break pending;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(pending, ["shared_buffers"]);

    let (code, result, stderr) = gl06(&server.url(), home.path());
    assert_eq!(result["status"], "FAIL", "{result:#}\n{stderr}");
    assert_eq!(code, 1, "{result:#}\n{stderr}");
    let reason = result["reason"].as_str().unwrap();
    assert!(reason.starts_with("needs a restart to take effect: shared_buffers (running with 16384)"), "{reason}");
    assert!(result["evidence"].to_string().contains("pg_settings WHERE pending_restart"), "{result:#}");

    server.restart();
    assert_eq!(server.sql(&["SHOW shared_buffers"]), ["32MB"]);
    let (code, result, stderr) = gl06(&server.url(), home.path());
    assert_eq!(result["status"], "PASS", "{result:#}\n{stderr}");
    assert_eq!(code, 0, "{result:#}\n{stderr}");
    assert!(result["evidence"].to_string().contains("no setting pending a restart"), "{result:#}");
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}
