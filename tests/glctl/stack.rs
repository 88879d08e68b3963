//! The local stack is real: moto answers the RDS API, PostgreSQL takes TLS and refuses plaintext,
//! TimescaleDB creates hypertables; and the stack stops without leaving processes behind.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::support::stack::{stack, timescaledb_connect, timescaledb_lock};
use crate::support::{repo, runtime};

fn tls_with_ca(ca: &str) -> tokio_postgres_rustls::MakeRustlsConnect {
    let roots = glctl::load_roots(std::path::Path::new(ca)).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

fn pg_config(host: &str) -> tokio_postgres::Config {
    let s = stack();
    let mut config = tokio_postgres::Config::new();
    config
        .host(host)
        .port(s.var("GLCTL_PG_PORT").parse().unwrap())
        .user(s.var("GLCTL_PG_USER"))
        .password(s.var("GLCTL_PG_PASSWORD"))
        .dbname(s.var("GLCTL_PG_DATABASE"));
    config
}

#[test]
fn postgres_accepts_verified_tls_and_scram() {
    let s = stack();
    runtime().block_on(async {
        let mut config = pg_config("localhost");
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
        let (client, connection) = config.connect(tls_with_ca(s.var("GLCTL_PG_CA"))).await.expect("TLS connect");
        tokio::spawn(connection);
        let row =
            client.query_one("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await.unwrap();
        assert!(row.get::<_, bool>(0));
        assert_eq!(row.get::<_, String>(1), "TLSv1.3");
        let method: String = client
            .query_one("SELECT rolpassword FROM pg_authid WHERE rolname = current_user", &[])
            .await
            .unwrap()
            .get(0);
        assert!(method.starts_with("SCRAM-SHA-256$"), "password stored as SCRAM");
    });
}

#[test]
fn postgres_refuses_plaintext() {
    runtime().block_on(async {
        let mut config = pg_config("127.0.0.1");
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
        let err = config.connect(tokio_postgres::NoTls).await.err().expect("plaintext must be refused");
        assert!(format!("{err:?}").contains("no encryption"), "{err:?}");
    });
}

#[test]
fn postgres_certificate_does_not_verify_against_another_ca() {
    let other_ca = repo().join("tests/fixtures/tls/unrelated-ca.crt");
    runtime().block_on(async {
        let mut config = pg_config("localhost");
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
        let err = config.connect(tls_with_ca(other_ca.to_str().unwrap())).await.err().expect("wrong CA must fail");
        assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");
    });
}

#[test]
fn timescaledb_creates_a_hypertable() {
    let _one_client = timescaledb_lock();
    runtime().block_on(async {
        let (client, task) = timescaledb_connect().await;
        client
            .batch_execute(
                "CREATE EXTENSION IF NOT EXISTS timescaledb;
                 DROP TABLE IF EXISTS stack_probe;
                 CREATE TABLE stack_probe (at timestamptz NOT NULL, value double precision);
                 SELECT create_hypertable('stack_probe', by_range('at', INTERVAL '1 day'));",
            )
            .await
            .expect("hypertable");
        let row = client
            .query_one(
                "SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_name = 'stack_probe'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "stack_probe");
        client.batch_execute("DROP TABLE stack_probe").await.unwrap();
        drop(client);
        let _ = task.await;
    });
}

#[test]
fn moto_answers_the_rds_api() {
    let s = stack();
    runtime().block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(s.var("AWS_ENDPOINT_URL"))
            .region(aws_sdk_rds::config::Region::new(s.var("AWS_REGION").to_string()))
            .credentials_provider(aws_sdk_rds::config::Credentials::new("test", "test", None, None, "stack-test"))
            .load()
            .await;
        let rds = aws_sdk_rds::Client::new(&config);
        rds.create_db_parameter_group()
            .db_parameter_group_name("stack-probe")
            .db_parameter_group_family("postgres16")
            .description("stack probe")
            .send()
            .await
            .expect("create parameter group");
        let groups = rds.describe_db_parameter_groups().db_parameter_group_name("stack-probe").send().await.unwrap();
        assert_eq!(groups.db_parameter_groups().len(), 1);
        assert_eq!(groups.db_parameter_groups()[0].db_parameter_group_family(), Some("postgres16"));
        rds.delete_db_parameter_group().db_parameter_group_name("stack-probe").send().await.unwrap();
    });
}

/// A second, private stack: start, check every service listens, stop, and no process is left.
#[test]
fn a_stack_starts_and_stops_without_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo().join("scripts/stack");
    let start = std::process::Command::new(&script).args(["start", "--dir"]).arg(dir.path()).output().unwrap();
    assert!(start.status.success(), "{}", String::from_utf8_lossy(&start.stderr));
    let stdout = String::from_utf8_lossy(&start.stdout);
    assert!(stdout.contains("moto (AWS)") && stdout.contains("TimescaleDB"), "{stdout}");
    let env = std::fs::read_to_string(dir.path().join("env")).unwrap();
    assert!(
        !stdout.contains(env.lines().find(|l| l.contains("GLCTL_PG_PASSWORD")).unwrap().split('\'').nth(1).unwrap()),
        "the password is not printed"
    );
    let pids: Vec<i32> = ["moto.pid", "pglite.pid", "pg/postmaster.pid"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join(f)).unwrap().lines().next().unwrap().trim().parse().unwrap())
        .collect();
    for pid in &pids {
        assert!(alive(*pid), "pid {pid} should run");
    }
    // moto dies first; a new start in the same directory stops the PostgreSQL still running from it before
    // removing its files, instead of deleting a live cluster's data directory.
    assert!(std::process::Command::new("kill").args(["-KILL", &pids[0].to_string()]).status().unwrap().success());
    while alive(pids[0]) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The second stack watches a process of its own and must stop, private directory and all, when it ends.
    let mut watched = std::process::Command::new("sleep").arg("600").spawn().unwrap();
    let again = std::process::Command::new(&script)
        .args(["start", "--dir"])
        .arg(dir.path())
        .args(["--watch-pid", &watched.id().to_string()])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    for pid in &pids[1..] {
        assert!(!alive(*pid), "pid {pid} of the earlier stack still runs");
    }
    let new_pids: Vec<i32> = ["moto.pid", "pglite.pid", "pg/postmaster.pid"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join(f)).unwrap().lines().next().unwrap().trim().parse().unwrap())
        .collect();
    let pg_home = std::fs::read_to_string(dir.path().join("pg-home")).unwrap().trim().to_string();
    watched.kill().unwrap();
    watched.wait().unwrap();
    // A fail-safe, not a speed target: the watchdog looks once a second, then stops every service.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while (new_pids.iter().any(|p| alive(*p)) || Path::new(&pg_home).exists()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for pid in &new_pids {
        assert!(!alive(*pid), "pid {pid} survived the watchdog's stop");
    }
    assert!(!Path::new(&pg_home).exists(), "the watchdog's stop removes the private directory {pg_home}");
}

/// The live processes that hold a file under `dir` open (their logs, for the stack's services).
fn processes_with_files_in(dir: &Path) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        let holds = fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target.starts_with(dir)));
        if holds && alive(pid) && pid != std::process::id() as i32 {
            pids.push(pid);
        }
    }
    pids
}

fn alive(pid: i32) -> bool {
    // A zombie is not alive: check /proc state rather than signalling.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'))
        .unwrap_or(false)
}

/// `src/engine/pg_settings.tsv` is PostgreSQL's own parameter table: regenerated from the stack's server,
/// it is the same (the header names the minor version, which may differ from machine to machine).
#[test]
fn the_parameter_table_is_what_postgresql_reports() {
    let s = stack();
    let conninfo = format!(
        "host=localhost port={} user={} password={} dbname={} sslmode=require",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        s.var("GLCTL_PG_DATABASE")
    );
    let out = std::process::Command::new(repo().join("scripts/pg-settings")).arg(conninfo).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let body = |text: &str| text.lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect::<Vec<_>>();
    let generated = body(&String::from_utf8_lossy(&out.stdout));
    let committed = body(&std::fs::read_to_string(repo().join("src/engine/pg_settings.tsv")).unwrap());
    assert!(generated.len() > 300, "pg_settings has {} core parameters", generated.len());
    assert_eq!(generated, committed, "regenerate with scripts/pg-settings");
}

/// Issue 16: a checkout inside a private folder (a home directory, `mktemp -d`, both 0700): the stack starts
/// and stops from there although PostgreSQL runs as another user, and that user can read none of the stack's
/// secrets, during the run or after it.
#[test]
fn a_stack_starts_from_a_clone_in_a_private_folder() {
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let clone = private.path().join("clone");
    let git = Command::new("git").args(["clone", "--quiet"]).arg(repo()).arg(&clone).output().unwrap();
    assert!(git.status.success(), "{}", String::from_utf8_lossy(&git.stderr));
    // The working tree's scripts (what is under test, committed or not), and the tools setup installed here.
    for script in ["stack", "setup"] {
        std::fs::copy(repo().join("scripts").join(script), clone.join("scripts").join(script)).unwrap();
    }
    std::os::unix::fs::symlink(repo().join(".tools"), clone.join(".tools")).unwrap();
    std::os::unix::fs::symlink(
        repo().join("tools/pglite-server/node_modules"),
        clone.join("tools/pglite-server/node_modules"),
    )
    .unwrap();

    let dir = clone.join(".stack/private");
    let start = Command::new(clone.join("scripts/stack")).args(["start", "--dir"]).arg(&dir).output().unwrap();
    assert!(start.status.success(), "start from a private folder: {}", String::from_utf8_lossy(&start.stderr));
    let pg_home = std::fs::read_to_string(dir.join("pg-home")).unwrap().trim().to_string();
    assert!(!pg_home.starts_with(private.path().to_str().unwrap()), "the server's files are outside the checkout");
    let vars = std::fs::read_to_string(dir.join("env")).unwrap();
    let port = vars.lines().find_map(|l| l.strip_prefix("export GLCTL_PG_PORT=")).unwrap().trim_matches('\'');
    assert!(std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_ok(), "PostgreSQL listens");
    assert!(!Path::new(&pg_home).join("pw").exists(), "initdb's password file is removed once read");

    let as_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if as_root {
        for secret in ["env", "tls/ca.key"] {
            let read =
                Command::new("runuser").args(["-u", "postgres", "--", "cat"]).arg(dir.join(secret)).output().unwrap();
            assert!(!read.status.success(), "the postgres user can read {secret}");
        }
    }
    let stop = Command::new(clone.join("scripts/stack")).args(["stop", "--dir"]).arg(&dir).output().unwrap();
    assert!(stop.status.success(), "{}", String::from_utf8_lossy(&stop.stderr));
    assert!(!Path::new(&pg_home).exists(), "stop removes the server's private directory {pg_home}");
    assert!(dir.join("postgres.log").metadata().unwrap().len() > 0, "the server's log stays for inspection");
}

/// Issue 16: a start that fails says so on the terminal, naming the service and showing its log's last lines,
/// and leaves nothing running.
#[test]
fn a_failed_start_names_the_service_and_shows_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let start = Command::new(repo().join("scripts/stack"))
        .args(["start", "--dir"])
        .arg(dir.path())
        .args(["--pg-setting", "shared_buffers=bogus"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&start.stderr);
    assert_eq!(start.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("start failed: PostgreSQL start"), "names the step: {stderr}");
    assert!(stderr.contains("invalid value for parameter \"shared_buffers\""), "shows the log: {stderr}");
    // moto (and PostgreSQL, had it started) write their logs in DIR: no live process holds one open.
    assert_eq!(processes_with_files_in(dir.path()), Vec::<i32>::new(), "processes left after the failure");
    assert!(!dir.path().join("pg-home").exists(), "the failed server's private directory is removed");
}

/// A client that resets its connection while PGlite is still answering (a test that panicked mid-query)
/// must not take the TimescaleDB server away from the clients after it: the next client is served.
#[test]
fn timescaledb_serves_the_next_client_after_one_resets_its_connection() {
    let port = crate::support::stack::dedicated_timescaledb();
    // Startup, a query with a 10 MB answer, then a close with SO_LINGER 0 (a TCP reset) before it is read.
    let reset = r#"
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
params = b"user\0postgres\0database\0postgres\0\0"
s.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
time.sleep(0.5)
q = b"SELECT repeat('x', 10000000)\0"
s.sendall(b"Q" + struct.pack("!i", 4 + len(q)) + q)
time.sleep(0.05)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
time.sleep(1)
"#;
    let out = Command::new("python3").args(["-c", reset, &port.to_string()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer = runtime().block_on(async {
        let (client, task) = crate::support::stack::timescaledb_connect_to(port).await;
        let row = tokio::time::timeout(std::time::Duration::from_secs(30), client.query_one("SELECT 42", &[]))
            .await
            .expect("PGlite answers within 30 s")
            .expect("PGlite still serves clients");
        drop(client);
        let _ = task.await;
        row.get::<_, i32>(0)
    });
    assert_eq!(answer, 42);
}
