//! `glctl migrate rehearse` against PostgreSQL 15 + pg_partman on the stack: one target (the shipped schema
//! applied), one scratch copy measured. Merged into one test so the 1M-row copy is loaded once.

use std::time::{Duration, Instant};

use crate::migrate::Project;

/// Databases on the stack's server whose name starts with the rehearsal's prefix.
fn scratch_databases(p: &Project) -> Vec<String> {
    let names = p.query(
        "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'glctl\\_rehearse\\_%'",
    );
    names.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The scratch databases that appear besides `before`, waited for up to 60 s.
fn wait_for_scratch(p: &Project, before: &[String]) -> Vec<String> {
    let started = Instant::now();
    loop {
        let now: Vec<String> = scratch_databases(p).into_iter().filter(|d| !before.contains(d)).collect();
        if !now.is_empty() {
            return now;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no scratch database appeared within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The case end to end: on production without the flag nothing happens; a rehearsal interrupted
/// (SIGTERM) drops its own scratch copy; one killed mid-run
/// leaves its scratch copy, which the next run drops first; that run, on ≥ 1M rows over ≥ 12 partitions under
/// the workload, FAILs the blocking change (a volatile default rewrites every partition under ACCESS
/// EXCLUSIVE) naming it with the application's blocked time, passes its safe version (a column without a
/// default), records both for promote's gate and leaves nothing behind, the target unchanged.
#[test]
fn a_rehearsal_fails_a_blocking_change_passes_its_safe_version_and_cleans_up_after_a_killed_run() {
    let p = Project::new("rehearse");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let before = scratch_databases(&p);

    // Production without --allow-production: refused, naming the flag; nothing made.
    let refused = p.glctl_env("prod", &["migrate", "rehearse"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("prod is a production environment") && refused.stderr.contains("--allow-production"),
        "{}",
        refused.stderr
    );
    assert_eq!(scratch_databases(&p), before);

    // The budget: 1 s, clear of both the safe change (55–121 ms in the test's runs) and the rewrite of 1M
    // unlogged rows (5.5–17 s on the 2-core test machine; it rewrites ~200 MB and rebuilds three indexes).
    let env = p.root.path().join("dev-rehearse.yaml");
    let dev = crate::support::repo().join("environments/dev.yaml");
    std::fs::write(&env, format!("extends: {}\nmigrations:\n  max_blocking: 1 s\n", dev.display())).unwrap();
    let env = env.to_str().unwrap();
    std::fs::write(
        p.root.path().join("sql/migrations/0009_note.sql"),
        "ALTER TABLE emission_measurements ADD COLUMN note text;\n",
    )
    .unwrap();
    std::fs::write(
        p.root.path().join("sql/migrations/0010_sample.sql"),
        "ALTER TABLE emission_measurements ADD COLUMN sample float8 DEFAULT random();\n",
    )
    .unwrap();

    // Interrupted (SIGTERM, as Ctrl-C) once its scratch copy exists: it drops the copy itself, exit 3.
    let stopped = p
        .glctl_env_command(env, &["migrate", "rehearse", "--unlogged"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("glctl runs");
    let made = wait_for_scratch(&p, &before);
    std::thread::sleep(Duration::from_millis(500));
    let term = std::process::Command::new("kill").args(["-TERM", &stopped.id().to_string()]).status().unwrap();
    assert!(term.success());
    let out = stopped.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("interrupted; the scratch database {} was dropped", made[0])), "{stderr}");
    assert_eq!(scratch_databases(&p), before);

    // Killed mid-run (SIGKILL: no cleanup of its own) once its scratch copy exists.
    let mut killed = p
        .glctl_env_command(env, &["migrate", "rehearse", "--unlogged"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("glctl runs");
    let left = wait_for_scratch(&p, &before);
    std::thread::sleep(Duration::from_millis(500));
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert_eq!(scratch_databases(&p).into_iter().filter(|d| !before.contains(d)).collect::<Vec<_>>(), left);

    let took = Instant::now();
    let run = p.glctl_env(env, &["migrate", "rehearse", "--unlogged", "--duration", "1", "--output", "json"]);
    let took = took.elapsed();
    assert_eq!(run.code, 1, "FAIL: {}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["orphans_dropped"], serde_json::json!(left), "the killed run's copy went first");
    assert!(report["rows_loaded"].as_u64().unwrap() >= 1_000_000, "{}", report["rows_loaded"]);
    assert!(report["partitions_with_rows"].as_i64().unwrap() >= 12, "{}", report["partitions_with_rows"]);
    let j = &report["judgement"];
    assert_eq!(j["verdict"], "fail", "{j:#}");
    assert_eq!(j["budget_ms"], 1000);
    let failed = j["failed"].as_array().unwrap()[0].as_str().unwrap();
    assert!(
        failed.starts_with(
            "0010_sample.sql: ALTER TABLE emission_measurements ADD COLUMN sample float8 DEFAULT random()"
        ),
        "{failed}\n{:#}",
        j["statements"]
    );
    let statements = j["statements"].as_array().unwrap();
    let of = |file: &str| statements.iter().find(|s| s["file"] == file).unwrap_or_else(|| panic!("{file} in {j:#}"));
    let (safe, blocking) = (of("0009_note.sql"), of("0010_sample.sql"));
    assert_eq!(safe["within_budget"], true, "{safe:#}");
    assert_eq!(blocking["within_budget"], false, "{blocking:#}");
    assert!(blocking["longest_stall_ms"].as_f64().unwrap() > 1000.0, "{blocking:#}");
    assert!(safe["longest_stall_ms"].as_f64().unwrap() < 1000.0, "{safe:#}");
    let locks = blocking["locks"].as_array().unwrap();
    let exclusive =
        locks.iter().find(|l| l["mode"] == "AccessExclusiveLock" && l["state"] == "held").expect("its lock");
    assert_eq!(exclusive["relations"], serde_json::json!(["emission_measurements"]));
    assert!(exclusive["partitions"].as_u64().unwrap() >= 12, "{exclusive:#}");
    // What the application lived through: every session blocked, the throughput dipped.
    for s in j["sessions"].as_array().unwrap() {
        assert!(s["blocked_ms"].as_f64().unwrap() > 1000.0, "{s:#}");
    }
    assert!(j["stalls"]["max_ms"].as_f64().unwrap() > 1000.0, "{j:#}");
    assert!(j["throughput"]["during_over_baseline"].as_f64().unwrap() < 0.9, "{:#}", j["throughput"]);
    assert!(j["sample_gap"]["p50_ms"].as_f64().unwrap() <= 50.0, "{:#}", j["sample_gap"]);
    eprintln!(
        "rehearsal took {:.1} s (load {:.1} s); blocking p99 stall {} ms, safe longest stall {} ms",
        took.as_secs_f64(),
        report["load_seconds"],
        j["stalls"]["p99_ms"],
        safe["longest_stall_ms"]
    );

    // Recorded for promote's gate; nothing left behind; the target untouched.
    let record = report["record"].as_str().unwrap();
    assert!(record.contains("/.glctl/dev-rehearse/rehearsals/"), "{record}");
    assert_eq!(scratch_databases(&p), before);
    assert_eq!(p.query("SELECT max(version) FROM glctl.schema_migrations"), "8");
    assert_eq!(
        p.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'emission_measurements'::regclass AND attname IN ('note', 'sample')"),
        "0"
    );
}
