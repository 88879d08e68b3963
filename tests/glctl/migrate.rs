//! The migration engine against the stack's real PostgreSQL 15 (TLS verify-full): ledger, checksum drift,
//! a missing file, rollback of a failing migration, concurrent appliers, and the no-transaction path.

use std::path::PathBuf;
use std::time::Duration;

use tempfile::TempDir;

use crate::native::in_cron_database;
use crate::support::stack::stack;
use crate::support::{glctl_command, glctl_in, repo, Output};

/// A project root with its own `sql/migrations/` and a database of its own on the stack's PostgreSQL.
pub(crate) struct Project {
    pub(crate) root: TempDir,
    url: String,
    pub(crate) database: String,
}

impl Project {
    pub(crate) fn new(name: &str) -> Project {
        let s = stack();
        let database = format!("mig_{name}_{}", std::process::id());
        let admin = format!(
            "host=localhost port={} user={} password={} dbname=postgres sslmode=require",
            s.var("GLCTL_PG_PORT"),
            s.var("GLCTL_PG_USER"),
            s.var("GLCTL_PG_PASSWORD")
        );
        let psql = std::process::Command::new("psql")
            .args([
                admin.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {database}"),
                "-c",
                &format!("CREATE DATABASE {database}"),
            ])
            .output()
            .expect("psql runs");
        assert!(psql.status.success(), "{}", String::from_utf8_lossy(&psql.stderr));
        let url = format!(
            "postgres://{}:{}@localhost:{}/{database}?sslmode=verify-full&sslrootcert={}",
            s.var("GLCTL_PG_USER"),
            s.var("GLCTL_PG_PASSWORD"),
            s.var("GLCTL_PG_PORT"),
            s.var("GLCTL_PG_CA")
        );
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("sql/migrations")).unwrap();
        Project { root, url, database }
    }

    fn write(&self, file: &str, sql: &str) -> PathBuf {
        let path = self.root.path().join("sql/migrations").join(file);
        std::fs::write(&path, sql).unwrap();
        path
    }

    fn glctl(&self, args: &[&str]) -> Output {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        self.glctl_env("local", &all)
    }

    /// glctl with `-e ENV` (from the repository's environments) against this project's database.
    /// `env` is a name under the repository's environments or a path.
    pub(crate) fn glctl_env(&self, env: &str, args: &[&str]) -> Output {
        let out = self.glctl_env_command(env, args).output().expect("glctl runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The command `glctl_env` runs, for a test that signals the process.
    pub(crate) fn glctl_env_command(&self, env: &str, args: &[&str]) -> std::process::Command {
        let env = if env.contains('/') { PathBuf::from(env) } else { repo().join(format!("environments/{env}.yaml")) };
        let root = self.root.path().to_str().unwrap();
        let mut all = vec!["--root", root, "-e", env.to_str().unwrap(), "--database-url", &self.url];
        all.extend_from_slice(args);
        glctl_command(self.root.path(), &all)
    }

    /// Copies the repository's own migrations into this project.
    pub(crate) fn use_repository_migrations(&self) {
        for entry in std::fs::read_dir(repo().join("sql/migrations")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, self.root.path().join("sql/migrations").join(path.file_name().unwrap())).unwrap();
        }
    }

    pub(crate) fn query(&self, sql: &str) -> String {
        let out = std::process::Command::new("psql").args([self.libpq().as_str(), "-At", "-c", sql]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn libpq(&self) -> String {
        let s = stack();
        let database = &self.database;
        format!(
            "host=localhost port={} user={} password={} dbname={database} sslmode=require",
            s.var("GLCTL_PG_PORT"),
            s.var("GLCTL_PG_USER"),
            s.var("GLCTL_PG_PASSWORD")
        )
    }
}

fn assert_ok(out: &Output) {
    assert_eq!(out.code, 0, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
}

#[test]
fn migrations_apply_in_order_once_and_are_recorded_in_the_ledger() {
    let p = Project::new("ledger");
    p.write("0001_create.sql", "CREATE TABLE readings (at timestamptz NOT NULL, v int);");
    p.write("0002_index.sql", "CREATE INDEX readings_at ON readings (at);");
    assert_eq!(p.glctl(&["status"]).code, 1, "pending migrations: not up to date");
    let dry = p.glctl(&["apply", "--dry-run"]);
    assert_ok(&dry);
    assert!(dry.stdout.contains("would apply") && dry.stdout.contains("0002_index.sql"), "{}", dry.stdout);
    assert_eq!(p.query("SELECT to_regclass('readings') IS NULL"), "t", "dry run runs nothing");
    let first = p.glctl(&["apply"]);
    assert_ok(&first);
    assert!(first.stdout.contains("2 migration(s) applied"), "{}", first.stdout);
    assert_eq!(
        p.query("SELECT string_agg(version || ':' || name || ':' || length(checksum) || ':' || glctl_version, ',' ORDER BY version) FROM glctl.schema_migrations"),
        format!("1:create:64:{v},2:index:64:{v}", v = env!("CARGO_PKG_VERSION"))
    );
    let second = p.glctl(&["apply"]);
    assert_ok(&second);
    assert!(second.stdout.contains("0 migration(s) applied; 2 already applied"), "{}", second.stdout);
    assert_ok(&p.glctl(&["status"]));
}

#[test]
fn a_changed_applied_file_stops_everything_and_names_the_file() {
    let p = Project::new("drift");
    let first = p.write("0001_create.sql", "CREATE TABLE a (x int);");
    assert_ok(&p.glctl(&["apply"]));
    std::fs::write(&first, "CREATE TABLE a (x bigint);").unwrap();
    p.write("0002_more.sql", "CREATE TABLE b (x int);");
    let status = p.glctl(&["status"]);
    assert_eq!(status.code, 1);
    assert!(status.stdout.contains("0001_create.sql was applied but has been modified"), "{}", status.stdout);
    let apply = p.glctl(&["apply"]);
    assert_eq!(apply.code, 1);
    assert!(apply.stderr.contains("nothing was run") && apply.stderr.contains("0001_create.sql"), "{}", apply.stderr);
    assert_eq!(p.query("SELECT to_regclass('b') IS NULL"), "t", "the pending migration did not run");
}

#[test]
fn an_applied_version_missing_from_disk_stops_everything() {
    let p = Project::new("missing");
    let first = p.write("0001_create.sql", "CREATE TABLE a (x int);");
    assert_ok(&p.glctl(&["apply"]));
    std::fs::remove_file(first).unwrap();
    let apply = p.glctl(&["apply"]);
    assert_eq!(apply.code, 1);
    assert!(apply.stderr.contains("version 0001 (create) was applied but its file is missing"), "{}", apply.stderr);
}

#[test]
fn a_failing_migration_rolls_back_completely_and_leaves_no_ledger_row() {
    let p = Project::new("rollback");
    p.write("0001_good.sql", "CREATE TABLE good (x int);");
    p.write("0002_bad.sql", "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nSELECT no_such_function();");
    let apply = p.glctl(&["apply"]);
    assert_eq!(apply.code, 1);
    assert!(apply.stderr.contains("0002_bad.sql") && apply.stderr.contains("rolled back"), "{}", apply.stderr);
    assert!(apply.stderr.contains("applied before the failure: 0001_good.sql"), "{}", apply.stderr);
    assert_eq!(p.query("SELECT to_regclass('half') IS NULL"), "t", "nothing of the failed file remains");
    assert_eq!(p.query("SELECT string_agg(version::text, ',') FROM glctl.schema_migrations"), "1");
}

/// The order is made, not hoped for: the first applier's migration waits on a lock the test holds, so the
/// first is known to hold glctl's lock before the second starts, and the gate opens only once the second has
/// said that it waits. Every wait here has a deadline and says what it waited for.
#[test]
fn two_concurrent_appliers_serialise_on_the_advisory_lock() {
    use std::io::{BufRead, Write};
    const GATE: i64 = 424_242;
    let p = Project::new("concurrent");
    p.write("0001_slow.sql", &format!("CREATE TABLE slow (x int);\nSELECT pg_advisory_xact_lock({GATE});"));
    let mut gate = std::process::Command::new("psql")
        .args([p.libpq().as_str(), "-XAtq", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("psql runs");
    let mut gate_in = gate.stdin.take().unwrap();
    writeln!(gate_in, "SELECT pg_advisory_lock({GATE});\nSELECT 'held';").unwrap();
    let mut gate_out = std::io::BufReader::new(gate.stdout.take().unwrap());
    let mut line = String::new();
    gate_out.read_line(&mut line).unwrap();
    gate_out.read_line(&mut line).unwrap();
    assert!(line.contains("held"), "the test holds the gate: {line:?}");

    let applier = || {
        let mut command = p.glctl_env_command("local", &["migrate", "apply"]);
        command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        command.spawn().expect("glctl runs")
    };
    let first = applier();
    wait_for(Duration::from_secs(60), "the first applier's migration to wait on the test's gate", || {
        p.query(&format!(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = {GATE} AND NOT granted"
        )) == "1"
    });
    let mut second = applier();
    let (said, heard) = std::sync::mpsc::channel();
    let second_err = second.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(second_err).lines().map_while(Result::ok) {
            if line.contains("waiting for another glctl") {
                let _ = said.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    heard.recv_timeout(Duration::from_secs(60)).expect("the second applier says it waits for the first within 60 s");
    drop(gate_in);
    assert!(gate.wait().unwrap().success(), "the gate's session ended");

    let first = first.wait_with_output().unwrap();
    let second_out = second.wait_with_output().unwrap();
    let second_err = reader.join().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(second_out.status.success(), "{second_err}");
    assert!(String::from_utf8_lossy(&second_out.stdout).contains("0 migration(s) applied; 1 already applied"));
    assert_eq!(p.query("SELECT count(*) FROM glctl.schema_migrations"), "1");
}

/// Polls `ready` every 100 ms until it holds; past `limit`, fails naming what it waited for.
fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "waited {} s for {what}", limit.as_secs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn no_transaction_migrations_run_statement_by_statement_and_a_partial_one_is_reported() {
    let p = Project::new("notx");
    p.write("0001_table.sql", "CREATE TABLE t (x int);");
    // CREATE INDEX CONCURRENTLY fails inside a transaction block: this only passes outside one.
    p.write(
        "0002_concurrent.sql",
        "-- glctl:no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\nCREATE INDEX CONCURRENTLY t_x2 ON t (x);",
    );
    assert_ok(&p.glctl(&["apply"]));
    assert_eq!(p.query("SELECT count(*) FROM pg_indexes WHERE tablename = 't'"), "2");
    p.write("0003_half.sql", "-- glctl:no-transaction\nCREATE TABLE done_first (x int);\nSELECT no_such_function();");
    let failed = p.glctl(&["apply"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed.stderr.contains("statement 2 of 2 (line 3) failed: function no_such_function() does not exist"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("the ledger records it as partial: 1 of 2 statement(s) ran outside a transaction (statements 1–1); the next apply resumes at statement 2"),
        "{}",
        failed.stderr
    );
    let status = p.glctl(&["status"]);
    assert_eq!(status.code, 1);
    assert!(
        status.stdout.contains("PARTIAL  ")
            && status.stdout.contains("0003_half.sql stopped part-way: 1 of 2 statement(s) ran outside a transaction; apply resumes at statement 2 (it stopped at statement 2 of 2 (line 3): function no_such_function() does not exist"),
        "{}",
        status.stdout
    );
    // The next apply resumes at statement 2: statement 1 is not run again (it would fail: the table exists).
    let again = p.glctl(&["apply"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("statement 2 of 2 (line 3) failed: function no_such_function()"), "{}", again.stderr);
    assert_eq!(p.query("SELECT complete, statements_done FROM glctl.schema_migrations WHERE version = 3"), "f|1");
    // Edited after it stopped: resuming is refused, saying why.
    p.write("0003_half.sql", "-- glctl:no-transaction\nCREATE TABLE done_first (x int);\nSELECT 1;");
    let edited = p.glctl(&["apply"]);
    assert_eq!(edited.code, 1);
    assert!(edited.stderr.contains("has been modified since, so it cannot be resumed"), "{}", edited.stderr);
}

/// The same engine against TimescaleDB (PGlite): a migration creates a hypertable, the ledger records it,
/// and a second client process (PGlite keeps the first one's prepared statements) sees it applied.
#[test]
fn migrations_apply_to_timescaledb_and_a_later_client_sees_them() {
    let _one_client = crate::support::stack::timescaledb_lock();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sql/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    let table = format!("probe_{}", std::process::id());
    std::fs::write(
        dir.join("0001_hypertable.sql"),
        format!(
            "CREATE EXTENSION IF NOT EXISTS timescaledb;\nCREATE TABLE {table} (at timestamptz NOT NULL, v double precision);\nSELECT create_hypertable('{table}', by_range('at', INTERVAL '1 day'));"
        ),
    )
    .unwrap();
    let url = stack().var("GLCTL_DATABASE_URL").to_string();
    let env = repo().join("environments/local.yaml");
    let run = |action: &str| {
        glctl_in(
            root.path(),
            &[
                "--root",
                root.path().to_str().unwrap(),
                "-e",
                env.to_str().unwrap(),
                "--database-url",
                &url,
                "migrate",
                action,
            ],
        )
    };
    // PGlite is shared by every run of this binary: start from no ledger.
    let reset = crate::support::stack::timescaledb_reset_ledger();
    assert!(reset.is_ok(), "{reset:?}");
    assert_ok(&run("apply"));
    assert_ok(&run("status"));
    let status = run("status");
    assert!(status.stdout.contains("applied") && status.stdout.contains("0001_hypertable.sql"), "{}", status.stdout);
}

/// PostgreSQL 15 here has no TimescaleDB, like RDS and Aurora: the preflight says so, naming the engine,
/// the files that need it and the options, before anything runs.
/// Whether the server offers TimescaleDB is the machine's (a laptop's PostgreSQL may have it), so the test
/// reads it first and asserts the refusal for that case; an extension that no server has makes "does not
/// offer" certain in the next test.
#[test]
fn a_timescaledb_the_server_cannot_run_is_reported_before_anything_runs() {
    let p = Project::new("preflight");
    p.use_repository_migrations();
    let offered = p.query("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'") == "1";
    let out = p.glctl(&["apply"]);
    assert_eq!(out.code, 1, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    let why = if offered { "offers these extensions but has not loaded them" } else { "does not offer" };
    for expected in [why, "timescaledb, needed by 0002_timeseries_tables.timescaledb.sql", "nothing was run"] {
        assert!(out.stderr.contains(expected), "missing '{expected}' in:\n{}", out.stderr);
    }
    if !offered {
        for expected in ["an external PostgreSQL server", "timeseries.backend: native"] {
            assert!(out.stderr.contains(expected), "missing '{expected}' in:\n{}", out.stderr);
        }
    }
    assert_eq!(
        p.query("SELECT to_regclass('glctl.schema_migrations') IS NULL, to_regclass('public.audit_logs') IS NULL"),
        "t|t"
    );
}

#[test]
fn an_extension_the_server_does_not_offer_is_reported_before_anything_runs() {
    let p = Project::new("absent");
    p.write("0001_first.sql", "CREATE TABLE first_one (id int);\n");
    p.write(
        "0002_absent.sql",
        "-- glctl:requires-extension glctl_no_such_extension\nCREATE EXTENSION glctl_no_such_extension;\n",
    );
    let out = p.glctl(&["apply"]);
    assert_eq!(out.code, 1, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    for expected in
        ["does not offer these extensions", "glctl_no_such_extension, needed by 0002_absent.sql", "nothing was run"]
    {
        assert!(out.stderr.contains(expected), "missing '{expected}' in:\n{}", out.stderr);
    }
    assert_eq!(p.query("SELECT to_regclass('public.first_one') IS NULL"), "t", "0001 did not run either");
}

/// The native backend's variants (pg_partman partitions, materialized views) on PostgreSQL 15 with
/// Debian's pg_partman 4.7, through `glctl apply --only database` for a database glctl does not provision.
#[test]
fn the_native_schema_applies_with_pg_partman_and_keeps_the_audit_log_append_only() {
    let p = Project::new("native");
    p.use_repository_migrations();
    let out = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(out.code, 0, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stdout.contains("migrations: 8 applied"), "{}", out.stdout);
    assert_eq!(
        p.query("SELECT string_agg(parent_table || ' ' || partition_interval, ', ' ORDER BY parent_table) FROM partman.part_config"),
        "public.audit_logs 1 day, public.calculation_results 7 days, public.emission_measurements 7 days, public.sensor_readings 1 day"
    );
    p.query("INSERT INTO audit_logs (organization_id, event_type, event_category, resource_type, actor_type, action, hash) VALUES (gen_random_uuid(), 'login', 'auth', 'user', 'user', 'VIEW', 'h')");
    for sql in ["UPDATE audit_logs SET hash = 'x'", "DELETE FROM audit_logs", "TRUNCATE audit_logs"] {
        let denied = std::process::Command::new("psql").args([p.libpq().as_str(), "-c", sql]).output().unwrap();
        assert!(!denied.status.success(), "{sql} was allowed");
        assert!(String::from_utf8_lossy(&denied.stderr).contains("append-only"), "{sql}");
    }
    assert_eq!(p.query("SELECT count(*) FROM audit_logs"), "1");
    // The heartbeat (0008): pg_cron's job writes it (run here by hand: the job's own command); append-only.
    let heartbeat = in_cron_database(&format!(
        "SELECT command FROM cron.job WHERE jobname = 'glctl:{}:heartbeat' AND schedule = '* * * * *'",
        p.database
    ));
    p.query(&heartbeat);
    assert_eq!(p.query("SELECT count(*) || ' ' || min(seq) || ' ' || min(source) FROM glctl_heartbeat"), "1 1 pg_cron");
    for sql in ["UPDATE glctl_heartbeat SET source = 'x'", "DELETE FROM glctl_heartbeat", "TRUNCATE glctl_heartbeat"] {
        let denied = std::process::Command::new("psql").args([p.libpq().as_str(), "-c", sql]).output().unwrap();
        assert!(String::from_utf8_lossy(&denied.stderr).contains("glctl_heartbeat is append-only"), "{sql}");
    }
    let status = p.glctl_env("dev", &["migrate", "status"]);
    assert_eq!(status.code, 0, "{}", status.stdout);
}

/// pgaudit is installed on the stack's PostgreSQL but not in shared_preload_libraries (the common
/// self-managed mistake): the preflight says what to set before the first migration runs.
#[test]
fn an_extension_that_is_installed_but_not_preloaded_is_reported_before_anything_runs() {
    let p = Project::new("preload");
    p.write("0001_first.sql", "CREATE TABLE first_one (id int);\n");
    p.write("0002_audit.sql", "-- glctl:requires-extension pgaudit\nCREATE EXTENSION IF NOT EXISTS pgaudit;\n");
    assert_eq!(
        p.query("SELECT count(*) FROM pg_available_extensions WHERE name = 'pgaudit'"),
        "1",
        "pgaudit installed"
    );
    let out = p.glctl(&["apply"]);
    assert_eq!(out.code, 1, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    for expected in [
        "has not loaded them at start",
        "pgaudit, needed by 0002_audit.sql",
        "add pgaudit to shared_preload_libraries in the server's postgresql.conf and restart it",
        "nothing was run",
    ] {
        assert!(out.stderr.contains(expected), "missing '{expected}' in:\n{}", out.stderr);
    }
    assert_eq!(p.query("SELECT to_regclass('public.first_one') IS NULL"), "t", "0001 did not run either");
}

/// A database that cannot be reached is never reported as "no changes": the plan says what it could not
/// check and exits 3, with or without --detailed-exitcode, in text and in JSON.
#[test]
fn an_unreachable_database_makes_plan_exit_incomplete() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://nobody:pw@127.0.0.1:{closed}/nothing?sslmode=disable");
    let env = repo().join("environments/local.yaml");
    let env = env.to_str().unwrap();
    for extra in [&["--detailed-exitcode"][..], &[][..]] {
        let mut args = vec!["plan", "-e", env, "--only", "database", "--database-url", &url];
        args.extend_from_slice(extra);
        let out = glctl_in(&repo(), &args);
        assert_eq!(out.code, 3, "{extra:?}: stdout: {}\nstderr: {}", out.stdout, out.stderr);
        assert!(out.stdout.contains("NOT CHECKED: cannot connect to 127.0.0.1"), "{}", out.stdout);
        assert!(!out.stdout.contains("pw"), "the password is not shown: {}", out.stdout);
    }
    let json =
        glctl_in(&repo(), &["plan", "-e", env, "--only", "database", "--database-url", &url, "--output", "json"]);
    assert_eq!(json.code, 3);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(value["not_checked"][0].as_str().unwrap().starts_with("database: cannot connect"), "{value}");
}

/// A Windows checkout (`core.autocrlf`) of an applied migration is the same migration, not a changed one.
#[test]
fn crlf_line_endings_do_not_make_an_applied_migration_changed() {
    let p = Project::new("crlf");
    p.write("0001_first.sql", "CREATE TABLE first_one (id int);\nCREATE TABLE second_one (id int);\n");
    assert_ok(&p.glctl(&["apply"]));
    p.write("0001_first.sql", "CREATE TABLE first_one (id int);\r\nCREATE TABLE second_one (id int);\r\n");
    let status = p.glctl(&["status"]);
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert!(status.stdout.contains("applied  ") && !status.stdout.contains("PROBLEM"), "{}", status.stdout);
}

/// A migration numbered below the last applied one (a branch merged late) is refused by default, naming the
/// file, and runs with --allow-out-of-order.
#[test]
fn a_migration_numbered_below_the_last_applied_is_refused_unless_allowed() {
    let p = Project::new("order");
    p.write("0001_first.sql", "CREATE TABLE first_one (id int);\n");
    p.write("0003_third.sql", "CREATE TABLE third_one (id int);\n");
    assert_ok(&p.glctl(&["apply"]));
    p.write("0002_second.sql", "CREATE TABLE second_one (id int);\n");
    let refused = p.glctl(&["apply"]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("0002_second.sql is numbered below 0003"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-out-of-order"), "{}", refused.stderr);
    assert_eq!(p.query("SELECT to_regclass('public.second_one') IS NULL"), "t", "nothing ran");
    assert_eq!(p.glctl(&["status"]).code, 1);
    assert_ok(&p.glctl(&["apply", "--allow-out-of-order"]));
    assert_eq!(p.query("SELECT to_regclass('public.second_one') IS NOT NULL"), "t");
}

/// A retention beyond PostgreSQL's interval range (which once wrapped to '8 months' in release builds) is
/// refused by validate before any connection: the database at the URL is never asked anything.
#[test]
fn an_overflowing_retention_never_reaches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("huge.yaml");
    let local = std::fs::read_to_string(repo().join("environments/local.yaml")).unwrap();
    let text = local.replacen("retention: 30 days", "retention: 1537228672809129302 years", 1);
    assert_ne!(text, local);
    std::fs::write(&env, text).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://x:y@127.0.0.1:{closed}/z?sslmode=disable");
    let out =
        glctl_in(dir.path(), &["apply", "-e", env.to_str().unwrap(), "--only", "database", "--database-url", &url]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("retention: expected an interval PostgreSQL can hold"), "{}", out.stderr);
    assert!(!out.stderr.contains("cannot connect"), "nothing was connected to: {}", out.stderr);
}

/// Through one of the stack's PgBouncers (local-native declares them in transaction pooling) `migrate apply`
/// is refused before anything runs: the session lock and a no-transaction statement's lock_timeout would be
/// lost when the pooler hands the next statement another server connection.
#[test]
fn apply_through_a_transaction_pooling_pgbouncer_is_refused_before_anything_runs() {
    use crate::support::poolers::{database_url, poolers, poolers_lock};
    let _one_at_a_time = poolers_lock();
    let pooled = poolers();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sql/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(repo().join("sql/migrations")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("0009_pooled_probe.sql"), "CREATE TABLE pooled_probe (x int);\n").unwrap();
    // One PgBouncer of the two the multi-host URL names.
    let (head, rest) = pooled.url.split_once('@').unwrap();
    let (_, tail) = rest.split_once('/').unwrap();
    let port = pooled.ports[0];
    let url = format!("{head}@127.0.0.1:{port}/{tail}");
    let env = repo().join("environments/local-native.yaml");
    let out = glctl_in(
        root.path(),
        &[
            "--root",
            root.path().to_str().unwrap(),
            "-e",
            env.to_str().unwrap(),
            "--database-url",
            &url,
            "migrate",
            "apply",
        ],
    );
    assert_eq!(out.code, 1, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    let server = stack().var("GLCTL_PG_PORT").to_string();
    for expected in [
        "nothing was run:",
        "refusing to migrate through a transaction-pooling PgBouncer",
        &format!("glctl connected to port {port} but the server listens on {server}: something sits in between"),
        "Connect to the database itself",
    ] {
        assert!(out.stderr.contains(expected), "missing {expected:?} in:\n{}", out.stderr);
    }
    let probe = std::process::Command::new("psql")
        .args([database_url().as_str(), "-At", "-c", "SELECT to_regclass('public.pooled_probe') IS NULL"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "t", "{}", String::from_utf8_lossy(&probe.stderr));
}
