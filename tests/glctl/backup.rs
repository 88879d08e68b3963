//! Backups on the local stack (issue 20): the stack's PostgreSQL 15 archives its WAL through pgBackRest into
//! two repositories (repo1 the stack's, repo2 standing for the DR copy), with the stanza made at start.

use crate::support::stack::stack;

/// The backup tests share the stack's stanza (backups, an archive segment moved aside, the archiver
/// broken on purpose): one at a time.
pub(crate) fn backups_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs pgbackrest with the stack's configuration as the server's OS user (the postgres user when root:
/// its lock and log files must stay writable by archive-push, which the server runs).
pub(crate) fn pgbackrest(args: &[&str]) -> std::process::Output {
    let s = stack();
    let mut command = if is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--", "pgbackrest"]);
        c.current_dir("/tmp");
        c
    } else {
        std::process::Command::new("pgbackrest")
    };
    command
        .env("PGBACKREST_CONFIG", s.var("PGBACKREST_CONFIG"))
        .env("PGBACKREST_STANZA", s.var("PGBACKREST_STANZA"))
        .args(args)
        .output()
        .expect("pgbackrest runs (scripts/setup installs it)")
}

pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

pub(crate) fn psql(sql: &str) -> String {
    let s = stack();
    let conninfo = format!(
        "host=localhost port={} user={} password={} dbname=glctl sslmode=require",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD")
    );
    let out = std::process::Command::new("psql").args([conninfo.as_str(), "-At", "-c", sql]).output().unwrap();
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_stack_archives_wal_through_pgbackrest_into_both_repositories() {
    let _one = backups_lock();
    let check = pgbackrest(&["check"]);
    assert!(check.status.success(), "pgbackrest check: {}", String::from_utf8_lossy(&check.stderr));
    assert_eq!(psql("SELECT failed_count = 0 AND archived_count > 0 FROM pg_stat_archiver"), "t");
    assert!(psql("SHOW archive_command").contains("archive-push %p"));
    let info = pgbackrest(&["info", "--output=json"]);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let stanza = &info[0];
    assert_eq!(stanza["name"], stack().var("PGBACKREST_STANZA"));
    let repos: Vec<i64> =
        stanza["archive"].as_array().unwrap().iter().map(|a| a["database"]["repo-key"].as_i64().unwrap()).collect();
    assert_eq!(repos, [1, 2], "WAL reaches the stack's repository and the DR one: {stanza:#}");
    for archive in stanza["archive"].as_array().unwrap() {
        assert!(archive["max"].as_str().is_some_and(|m| m.len() == 24), "{archive:#}");
    }
}

/// `glctl verify -e local-native ARGS` against the stack's PostgreSQL 15 and moto, its runs saved in `out`.
/// Bounded (`output_within`): a drill that hangs fails the test instead of stalling the suite.
fn verify_local_native(out: &std::path::Path, args: &[&str]) -> crate::support::Output {
    verify_local_native_with_pid(out, args).0
}

/// The same, with the pid of the glctl that ran (its scratch copies are named after it).
fn verify_local_native_with_pid(out: &std::path::Path, args: &[&str]) -> (crate::support::Output, u32) {
    let (out, pid) = output_within(verify_command("local-native", out, args), std::time::Duration::from_secs(180));
    let out = crate::support::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (out, pid)
}

/// Runs `command` (stdout and stderr piped) for at most `limit`: past it the run is stopped (SIGTERM, so
/// glctl removes its scratch copies; SIGKILL 30 s later) and the test fails saying so, with what it printed.
/// Returns its output and its pid.
pub(crate) fn output_within(
    mut command: std::process::Command,
    limit: std::time::Duration,
) -> (std::process::Output, u32) {
    use std::time::{Duration, Instant};
    let mut child = command.spawn().unwrap();
    let pid = child.id();
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let started = Instant::now();
    let mut hung = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if !hung && started.elapsed() > limit {
            hung = true;
            let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        if hung && started.elapsed() > limit + Duration::from_secs(30) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::process::Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    assert!(
        !hung,
        "still running after {limit:?}: stopped (a wait without an end?)\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, pid)
}

/// The command `glctl verify -e ENV --format json ARGS` against the stack (ENV a name or a path).
pub(crate) fn verify_command(env: &str, out: &std::path::Path, args: &[&str]) -> std::process::Command {
    let s = stack();
    let url = format!(
        "postgres://{}:{}@localhost:{}/glctl?sslmode=require",
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        s.var("GLCTL_PG_PORT")
    );
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"));
    command
        .args(["verify", "-e", env, "--out", out.to_str().unwrap(), "--format", "json"])
        .args(args)
        .current_dir(crate::support::repo())
        .env("NO_COLOR", "1")
        .env("GLCTL_DATABASE_URL", url);
    for var in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "PGBACKREST_CONFIG"] {
        command.env(var, s.var(var));
    }
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    command
}

/// (id, status, reason) of each result in verify's JSON.
pub(crate) fn statuses(json: &str) -> Vec<(String, String, String)> {
    let run: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Puts a WAL file moved out of the repository back, also when the test fails.
pub(crate) struct PutBack(std::path::PathBuf, std::path::PathBuf);
impl Drop for PutBack {
    fn drop(&mut self) {
        let _ = std::fs::rename(&self.1, &self.0);
    }
}

/// BR-01…BR-03 from pgBackRest: a full and an incremental backup pass BR-01/BR-02, the archive passes BR-03;
/// a WAL segment removed from the repository fails BR-03 naming it.
#[test]
fn verify_decides_br01_to_br03_from_pgbackrest_and_names_a_missing_wal_segment() {
    let _one = backups_lock();
    for kind in ["full", "incr"] {
        let out = pgbackrest(&[&format!("--type={kind}"), "backup"]);
        assert!(out.status.success(), "{kind} backup: {}", String::from_utf8_lossy(&out.stderr));
    }
    // A few more segments, so one can go missing from the middle.
    for _ in 0..3 {
        psql("SELECT pg_switch_wal() FROM (SELECT txid_current()) t");
    }
    let check = pgbackrest(&["check"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let out_dir = tempfile::tempdir().unwrap();
    let run = verify_local_native(out_dir.path(), &["--only", "BR-01,BR-02,BR-03"]);
    let results = statuses(&run.stdout);
    assert_eq!(
        results.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect::<Vec<_>>(),
        [("BR-01", "PASS"), ("BR-02", "PASS"), ("BR-03", "PASS")],
        "{results:#?}\n{}",
        run.stderr
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    // BR-06/BR-07: the database half applied (migration 0008's heartbeat), a beat, a full backup in each
    // repository, then the drills restore each into a scratch cluster and remove it; BR-08 is never PASS on
    // a small restore's extrapolation.
    let s = stack();
    let url = format!(
        "postgres://{}:{}@localhost:{}/glctl?sslmode=require",
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        s.var("GLCTL_PG_PORT")
    );
    let apply = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(["apply", "-e", "local-native", "--only", "database", "--out", out_dir.path().to_str().unwrap()])
        .current_dir(crate::support::repo())
        .env("GLCTL_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(apply.status.success(), "{}", String::from_utf8_lossy(&apply.stderr));
    psql("INSERT INTO glctl_heartbeat (source) VALUES ('test')");
    for repo in ["--repo=1", "--repo=2"] {
        let out = pgbackrest(&[repo, "--type=full", "backup"]);
        assert!(out.status.success(), "{repo}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (run, pid) = verify_local_native_with_pid(out_dir.path(), &["--drills", "--only", "BR-06,BR-07,BR-08"]);
    let results = statuses(&run.stdout);
    let by_id = |id: &str| results.iter().find(|r| r.0 == id).unwrap().clone();
    assert_eq!(by_id("BR-06").1, "PASS", "{results:#?}");
    assert_eq!(by_id("BR-07").1, "PASS", "{results:#?}");
    assert_eq!(by_id("BR-08").1, "ERROR", "{results:#?}");
    assert!(by_id("BR-08").2.contains("extrapolation"), "{results:#?}");
    assert!(run.stdout.contains("from repo2"), "BR-07 restored from the DR repository: {}", run.stdout);
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        // This run's copies only: another glctl on the machine (a second checkout's suite) has its own.
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("glctl-drill.glctl.{pid}.")))
        .collect();
    assert!(left.is_empty(), "scratch clusters left behind: {left:?}");

    // Remove the second-newest segment of repo1's archive.
    let (name, _put_back) = remove_second_newest_segment();
    // BR-03 names it; the point-in-time restore to now (from the newest backup, which needs every segment
    // since) fails at the gap instead of passing on what came before it.
    let run = verify_local_native(out_dir.path(), &["--drills", "--only", "BR-03,BR-04"]);
    let results = statuses(&run.stdout);
    assert_eq!(results[0].1, "FAIL", "{results:#?}");
    assert!(results[0].2.contains(&name), "BR-03 names the missing segment {name}: {}", results[0].2);
    assert_eq!(results[1].1, "FAIL", "{results:#?}");
    assert!(results[1].2.contains("stopped short"), "{}", results[1].2);
    assert!(results[1].2.contains(&format!("repo1's archive lacks {name}")), "{}", results[1].2);
    assert!(results[1].2.contains("removed /tmp/glctl-drill."), "{}", results[1].2);
    assert_eq!(run.code, 1);
}

/// Moves the second-newest segment of repo1's archive aside (in the archive's top directory: same file
/// system, not where pgBackRest looks for segments); it is put back when the guard drops.
pub(crate) fn remove_second_newest_segment() -> (String, PutBack) {
    let home = std::fs::read_to_string(std::path::Path::new(stack().var("GLCTL_STACK_DIR")).join("pg-home")).unwrap();
    let archive = std::path::Path::new(home.trim()).join("pgbackrest/repo1/archive/glctl");
    let mut segments: Vec<std::path::PathBuf> = walk(&archive)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().chars().nth(24) == Some('-'))
        .collect();
    segments.sort_by_key(|p| p.file_name().unwrap().to_owned());
    assert!(segments.len() >= 3, "{segments:?}");
    let victim = segments[segments.len() - 2].clone();
    let name = victim.file_name().unwrap().to_string_lossy()[..24].to_string();
    let aside = archive.join(format!("{name}.aside"));
    std::fs::rename(&victim, &aside).unwrap();
    (name, PutBack(victim, aside))
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
