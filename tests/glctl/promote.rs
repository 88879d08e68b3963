//! `glctl promote` against the real stack: two environments on PostgreSQL 15 (the native backend, as RDS
//! runs it) with their Terraform against moto, in a git checkout of their own. The happy path leaves a
//! record whose bundle is the one the source's verify run recorded; every gate refuses by name with the
//! target unchanged; two promotions at once serialise and the second finds nothing left to do.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::support::stack::{dedicated_moto, stack};
use crate::support::{glctl_aws, repo, Output};

struct Lifecycle {
    root: TempDir,
    endpoint: String,
    databases: [String; 2],
}

fn admin(database: &str) -> String {
    let s = stack();
    format!(
        "host=localhost port={} user={} password={} dbname={database} sslmode=require",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD")
    )
}

pub(crate) fn psql(database: &str, sql: &str) -> String {
    let out = Command::new("psql").args([admin(database).as_str(), "-At", "-c", sql]).output().expect("psql runs");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// local.yaml on the native backend, connecting to `database` on the stack's PostgreSQL 15.
pub(crate) fn environment(database: &str, stage: &str, extra: &str) -> String {
    let s = stack();
    let local = std::fs::read_to_string(repo().join("environments/local.yaml")).unwrap();
    let start = local.find("\nconnection:").unwrap();
    let end = local.find("\nsecrets:").unwrap();
    let connection = format!(
        "\nconnection:\n  host: localhost\n  port: {}\n  database: {database}\n  tls_mode: verify-full\n  ca_bundle: {}\n  credentials_secret: app\n",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_CA")
    );
    let text = format!("{}{connection}{}", &local[..start], &local[end..])
        .replace("backend: timescaledb", "backend: native")
        .replace("version: \"17.5\" # PGlite's PostgreSQL", "version: \"15.8\"")
        .replace("greenlang/local/", &format!("greenlang/{stage}/"));
    let text: String =
        text.lines().filter(|l| !l.trim_start().starts_with("compression:")).map(|l| format!("{l}\n")).collect();
    format!("{text}{extra}")
}

impl Lifecycle {
    fn new(name: &str) -> Lifecycle {
        let databases =
            [format!("pro_{name}_a_{}", std::process::id()), format!("pro_{name}_b_{}", std::process::id())];
        for db in &databases {
            psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
            psql("postgres", &format!("CREATE DATABASE {db}"));
        }
        let root = tempfile::tempdir().unwrap();
        let envs = root.path().join("environments");
        std::fs::create_dir_all(&envs).unwrap();
        copy_dir(&repo().join("sql"), &root.path().join("sql"));
        copy_dir(&repo().join("templates"), &root.path().join("templates"));
        std::fs::write(envs.join("stage-a.yaml"), environment(&databases[0], "stage-a", "")).unwrap();
        let b = "promotion:\n  from: stage-a\n  differs: [connection, secrets]\n";
        std::fs::write(envs.join("stage-b.yaml"), environment(&databases[1], "stage-b", b)).unwrap();
        let c = "promotion:\n  from: stage-b\n";
        std::fs::write(envs.join("stage-c.yaml"), environment(&databases[1], "stage-c", c)).unwrap();
        let l = Lifecycle { root, endpoint: dedicated_moto(), databases };
        l.git(&["init", "-q"]);
        l.git(&["config", "user.name", "glctl tests"]);
        l.git(&["config", "user.email", "tests@example.invalid"]);
        l.commit("the environments");
        l
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git").args(args).current_dir(self.root.path()).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn commit(&self, message: &str) {
        std::fs::write(self.root.path().join(".gitignore"), ".glctl/\n").unwrap();
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", message]);
    }

    fn url(&self, i: usize) -> String {
        let s = stack();
        format!(
            "postgres://{}:{}@localhost:{}/{}?sslmode=verify-full&sslrootcert={}",
            s.var("GLCTL_PG_USER"),
            s.var("GLCTL_PG_PASSWORD"),
            s.var("GLCTL_PG_PORT"),
            self.databases[i],
            s.var("GLCTL_PG_CA")
        )
    }

    fn glctl(&self, url: &str, args: &[&str]) -> Output {
        let mut all = vec!["--database-url", url];
        all.extend_from_slice(args);
        glctl_aws(&self.endpoint, self.root.path(), &all)
    }

    fn apply_and_verify_source(&self) {
        let apply = self.glctl(&self.url(0), &["apply", "-e", "stage-a", "--yes"]);
        assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
        self.verify_source(0);
    }

    fn verify_source(&self, expected: i32) {
        let verify = self.glctl(&self.url(0), &["verify", "-e", "stage-a"]);
        assert_eq!(verify.code, expected, "{}\n{}", verify.stdout, verify.stderr);
    }

    fn promote(&self, to: &str) -> Output {
        self.glctl(&self.url(1), &["promote", "--from", "stage-a", "--to", to, "--yes"])
    }

    fn target(&self, sql: &str) -> String {
        psql(&self.databases[1], sql)
    }

    /// The target was not touched: no ledger, so no migration and no policy.
    fn assert_target_untouched(&self) {
        assert_eq!(self.target("SELECT to_regclass('glctl.schema_migrations') IS NULL"), "t");
        assert_eq!(self.target("SELECT count(*) FROM pg_extension WHERE extname = 'pg_partman'"), "0");
    }

    fn work(&self, env: &str) -> PathBuf {
        self.root.path().join(".glctl").join(env)
    }
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn refused(out: &Output, gate: &str, saw: &str) {
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(&format!("gate `{gate}` refused")), "{gate}: {}", out.stderr);
    assert!(out.stderr.contains(saw), "{saw}: {}", out.stderr);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
}

fn newest_json(dir: &Path) -> serde_json::Value {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    serde_json::from_str(&std::fs::read_to_string(files.last().unwrap()).unwrap()).unwrap()
}

#[test]
fn a_verified_bundle_is_promoted_with_a_record_and_hand_changes_and_destructive_plans_are_refused() {
    let l = Lifecycle::new("happy");
    l.apply_and_verify_source();
    refused(&l.promote("stage-c"), "order", "stage-c is promoted from stage-b, not stage-a");

    let promoted = l.promote("stage-b");
    assert_eq!(promoted.code, 0, "{}\n{}", promoted.stdout, promoted.stderr);
    assert!(promoted.stdout.contains("promotion stage-a → stage-b: promoted"), "{}", promoted.stdout);
    let record = newest_json(&l.work("stage-b").join("promotions"));
    let source_run = newest_json(&l.work("stage-a").join("verify"));
    assert_eq!(record["bundle"], source_run["bundle"]["digest"], "{record:#}");
    assert_eq!(record["outcome"], "promoted");
    assert!(record["actor"].as_str().is_some_and(|a| a.contains("glctl tests")), "{record:#}");
    assert!(record["target_verify"].as_str().unwrap().contains("0 failed"), "{record:#}");
    assert_eq!(l.target("SELECT count(*) FROM glctl.schema_migrations"), "8");

    // A truncated promotion record is an error naming the file, never "nothing left to do": a promotion that
    // waited for another (here a live process holding the lock) reads the newest record.
    let records = l.work("stage-b").join("promotions");
    let record_file = std::fs::read_dir(&records)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let whole = std::fs::read_to_string(&record_file).unwrap();
    std::fs::write(&record_file, &whole[..whole.len() / 2]).unwrap();
    let mut holder = Command::new("sleep").arg("4").spawn().unwrap();
    std::fs::write(l.work("stage-b").join("promote.lock"), format!("{}\n", holder.id())).unwrap();
    // Reaped as soon as it ends: a zombie still has its /proc entry, so the lock would look held for ever.
    let reaper = std::thread::spawn(move || holder.wait());
    let truncated = l.promote("stage-b");
    reaper.join().unwrap().unwrap();
    assert_eq!(truncated.code, 2, "{}\n{}", truncated.stdout, truncated.stderr);
    let named = format!("{} does not match its checksum", record_file.file_name().unwrap().to_string_lossy());
    assert!(truncated.stderr.contains(&named), "{}", truncated.stderr);
    assert!(!truncated.stdout.contains("nothing left to do"), "{}", truncated.stdout);
    std::fs::write(&record_file, &whole).unwrap();

    // A retention changed by hand in the target is drift: refused, and left as it was.
    l.target("UPDATE partman.part_config SET retention = '2 days' WHERE parent_table = 'public.sensor_readings'");
    refused(&l.promote("stage-b"), "drift", "policies: sensor_readings retention");
    assert_eq!(
        l.target("SELECT retention FROM partman.part_config WHERE parent_table = 'public.sensor_readings'"),
        "2 days"
    );
    l.target("UPDATE partman.part_config SET retention = '30 days' WHERE parent_table = 'public.sensor_readings'");

    // A target plan that replaces a secret is destructive.
    let b = l.root.path().join("environments/stage-b.yaml");
    let text = std::fs::read_to_string(&b)
        .unwrap()
        .replace("greenlang/stage-b/database/app", "greenlang/stage-b/database/app2");
    std::fs::write(&b, text).unwrap();
    l.commit("rename the target's secret");
    refused(&l.promote("stage-b"), "plan", "destroys or drops data");
    assert_eq!(l.target("SELECT count(*) FROM glctl.schema_migrations"), "8", "the target's ledger as it was");
    assert_eq!(
        l.target("SELECT retention FROM partman.part_config WHERE parent_table = 'public.sensor_readings'"),
        "30 days",
        "the target's policies as they were"
    );
    assert_eq!(
        std::fs::read_dir(l.work("stage-b").join("promotions")).unwrap().count(),
        2,
        "one record, with its checksum"
    );
}

#[test]
fn unverified_failed_stale_or_changed_bundles_and_dirty_checkouts_are_refused_naming_the_gate() {
    let l = Lifecycle::new("gates");
    refused(&l.promote("stage-b"), "verified", "stage-a has no saved verify run");
    l.apply_and_verify_source();

    // A tampered run is an error naming the file.
    let runs = l.work("stage-a").join("verify");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let original = std::fs::read_to_string(&run).unwrap();
    std::fs::write(&run, original.replacen("\"PASS\"", "\"SKIP\"", 1)).unwrap();
    refused(
        &l.promote("stage-b"),
        "verified",
        &format!("{} does not match its checksum", run.file_name().unwrap().to_string_lossy()),
    );
    // A truncated one too.
    std::fs::write(&run, &original[..original.len() / 2]).unwrap();
    refused(
        &l.promote("stage-b"),
        "verified",
        &format!("{} does not match its checksum", run.file_name().unwrap().to_string_lossy()),
    );
    std::fs::write(&run, &original).unwrap();

    // A migration added after the verify: uncommitted, then committed.
    let added = l.root.path().join("sql/migrations/0009_extra.sql");
    std::fs::write(&added, "CREATE TABLE extra (x int);\n").unwrap();
    let dirty = l.promote("stage-b");
    refused(&dirty, "checkout", "0009_extra.sql");
    refused(&dirty, "verified", "migration 0009_extra.sql was added");
    l.commit("a migration after the verify");
    refused(&l.promote("stage-b"), "verified", "migration 0009_extra.sql was added");
    std::fs::remove_file(&added).unwrap();
    l.commit("no extra migration");

    // A later failed run revokes the pass.
    psql(&l.databases[0], "ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_immutable");
    l.verify_source(1);
    refused(&l.promote("stage-b"), "verified", "GL-07 FAIL");
    psql(&l.databases[0], "ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_immutable");
    l.verify_source(0);

    // A run older than promotion.max_age is stale.
    let b = l.root.path().join("environments/stage-b.yaml");
    let text =
        std::fs::read_to_string(&b).unwrap().replace("  from: stage-a\n", "  from: stage-a\n  max_age: 1 second\n");
    std::fs::write(&b, text).unwrap();
    l.commit("a short max_age");
    std::thread::sleep(std::time::Duration::from_secs(2));
    refused(&l.promote("stage-b"), "verified", "older than promotion.max_age 1 second");
    l.assert_target_untouched();

    // An unreachable target: its drift cannot be read, which is exit 3, never a promotion.
    let text = std::fs::read_to_string(&b).unwrap().replace("  max_age: 1 second\n", "");
    std::fs::write(&b, text).unwrap();
    l.commit("the default max_age");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://x:y@127.0.0.1:{closed}/z?sslmode=disable");
    let unreachable = l.glctl(&url, &["promote", "--from", "stage-a", "--to", "stage-b", "--yes"]);
    assert_eq!(unreachable.code, 3, "{}\n{}", unreachable.stdout, unreachable.stderr);
    assert!(unreachable.stderr.contains("gate `drift` could not be checked"), "{}", unreachable.stderr);
    l.assert_target_untouched();
}

#[test]
fn two_promotions_at_once_serialise_and_the_second_finds_nothing_left_to_do() {
    let l = Lifecycle::new("twice");
    l.apply_and_verify_source();
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| l.promote("stage-b"));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let b = s.spawn(|| l.promote("stage-b"));
        (a.join().unwrap(), b.join().unwrap())
    });
    for out in [&first, &second] {
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    }
    let both = format!("{}{}", first.stdout, second.stdout);
    assert_eq!(both.matches("nothing left to do").count(), 1, "{both}");
    assert!(format!("{}{}", first.stderr, second.stderr).contains("another promotion into stage-b is running"));
    let records = std::fs::read_dir(l.work("stage-b").join("promotions")).unwrap().count();
    assert_eq!(records, 2, "one record and its checksum");
}

/// GLCTL_DATABASE_URL usually names another environment's database (the stack's env file sets local's):
/// promote takes the target's only from the flag.
#[test]
fn promote_does_not_take_the_targets_database_from_the_environment_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(["promote", "--from", "local", "--to", "local-staging", "--yes"])
        .current_dir(repo())
        .env("GLCTL_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:1/postgres?sslmode=disable")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("promote takes local-staging's database only from --database-url"), "{stderr}");
}
