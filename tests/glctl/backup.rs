//! Backups on the local stack (issue 20): the stack's PostgreSQL 15 archives its WAL through pgBackRest into
//! two repositories (repo1 the stack's, repo2 standing for the DR copy), with the stanza made at start.

use crate::support::stack::stack;

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

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

fn psql(sql: &str) -> String {
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
