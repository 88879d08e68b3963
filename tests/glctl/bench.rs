//! `glctl bench` against the stack's PostgreSQL 15 (the native backend, as RDS and Aurora run it): committed
//! counts, the binary encoding against the server's own CSV parsing, the query scenarios, production refused,
//! and nothing left behind, also when interrupted or killed. Correctness only: speed is the benchmark's
//! (scripts/bench), never a test's.

use std::time::{Duration, Instant};

use crate::migrate::Project;

fn applied(name: &str) -> Project {
    let p = Project::new(name);
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    p
}

fn scratch_schemas(p: &Project) -> String {
    p.query("SELECT coalesce(string_agg(nspname, ','), '') FROM pg_namespace WHERE nspname LIKE 'glctl_bench_%'")
}

fn json(out: &crate::support::Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr))
}

#[test]
fn ingest_commits_exactly_the_rows_counted_and_leaves_no_schema_or_row_behind() {
    let p = applied("bench_ingest");
    let out = p.glctl_env("dev", &["bench", "--rows", "25000", "--batch-rows", "4000", "--output", "json"]);
    let report = json(&out);
    for ingest in report["ingest"].as_array().unwrap() {
        let f = &ingest["figures"];
        assert_eq!(f["rows_committed"], 25000, "{f}");
        assert_eq!(f["counted"], 25000, "{f}");
        assert_eq!(f["batches"], 7, "six full batches of 4000 and one of 1000: {f}");
    }
    assert_eq!(report["ingest"].as_array().unwrap().len(), 2, "both tables by default");
    assert!(report["server_version"].as_str().unwrap().starts_with("15."), "{report}");
    assert_eq!(report["options"]["seed"], 1);
    assert_eq!(scratch_schemas(&p), "");
    assert_eq!(p.query("SELECT count(*) FROM emission_measurements"), "0", "the real tables are untouched");
    assert_eq!(p.query("SELECT count(*) FROM sensor_readings"), "0");
    assert_eq!(p.query("SELECT count(*) FROM audit_logs"), "0");
    assert!(out.code == 0 || out.code == 1, "a verdict, not an error: {}", out.stderr);
}

#[test]
fn the_binary_rows_are_the_rows_the_server_parses_from_the_csv() {
    let p = applied("bench_encoding");
    let dir = p.root.path().join("dump");
    let out = p.glctl_env("dev", &["bench", "--rows", "3000", "--seed", "9", "--dump", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for table in ["emission_measurements", "sensor_readings"] {
        p.query(&format!("CREATE TABLE csv_{table} (LIKE {table}); CREATE TABLE bin_{table} (LIKE {table})"));
        let csv = dir.join(format!("{table}.csv"));
        let bin = dir.join(format!("{table}.bin"));
        p.query(&format!("\\copy csv_{table} FROM '{}' (FORMAT csv)", csv.display()));
        p.query(&format!("\\copy bin_{table} FROM '{}' (FORMAT binary)", bin.display()));
        assert_eq!(p.query(&format!("SELECT count(*) FROM bin_{table}")), "3000");
        assert_eq!(
            p.query(&format!(
                "SELECT count(*) FROM ((TABLE csv_{table} EXCEPT ALL TABLE bin_{table}) UNION ALL
                                       (TABLE bin_{table} EXCEPT ALL TABLE csv_{table})) d"
            )),
            "0",
            "{table}: every value decodes to what its text says"
        );
    }
    // Constraints the server checks that the types alone do not: the times land in the generator's range.
    assert_eq!(
        p.query("SELECT min(reading_time)::date || ' ' || max(reading_time)::date FROM bin_sensor_readings"),
        "2025-01-01 2025-01-31"
    );
}

#[test]
fn the_query_scenarios_run_open_loop_on_the_ingested_rows() {
    let p = applied("bench_queries");
    let out = p.glctl_env(
        "dev",
        &[
            "bench",
            "--scenario",
            "queries",
            "--query-rows",
            "20000",
            "--duration",
            "1",
            "--rate",
            "4",
            "--output",
            "json",
        ],
    );
    let report = json(&out);
    let queries = report["queries"].as_array().unwrap();
    let checks: Vec<&str> = queries.iter().map(|q| q["verdict"]["check"].as_str().unwrap()).collect();
    assert_eq!(checks, ["PB-03", "PB-04", "PB-05", "PB-06"]);
    for q in queries {
        let l = &q["figures"]["latency"];
        assert_eq!(l["requests"], 4, "{q}");
        assert_eq!(l["errors"], 0, "{q}");
        assert!(l["p50_ms"].as_f64().unwrap() > 0.0 && l["max_ms"].as_f64() >= l["p99_ms"].as_f64(), "{q}");
        assert_eq!(q["figures"]["table_rows"], 20000);
    }
    assert!(queries[3]["figures"]["sql"].as_str().unwrap().contains("date_trunc('quarter'"), "native quarters");
    assert_eq!(report["ingest"].as_array().unwrap().len(), 0, "the data load is not an ingest verdict");
    assert_eq!(scratch_schemas(&p), "");
}

#[test]
fn a_production_environment_is_refused_without_allow_production() {
    let p = Project::new("bench_prod");
    let out = p.glctl_env("prod", &["bench", "--rows", "10"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("prod is a production environment") && out.stderr.contains("--allow-production"));
    assert_eq!(scratch_schemas(&p), "", "refused before anything was made");
}

/// Starts a long bench in the background and waits until its scratch schema exists.
fn start_long_bench(p: &Project) -> std::process::Child {
    let mut command = p.glctl_env_command("dev", &["bench", "--duration", "120", "--table", "sensor_readings"]);
    let child = command.spawn().unwrap();
    let started = Instant::now();
    while scratch_schemas(p).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "bench never made its scratch schema");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let it ingest for a moment: COPYs are in flight when the signal comes.
    std::thread::sleep(Duration::from_secs(2));
    child
}

#[test]
fn bench_interrupted_with_ctrl_c_drops_its_scratch_schema() {
    let p = applied("bench_sigint");
    let child = start_long_bench(&p);
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "interrupted: not everything was measured; {stderr}");
    assert!(
        stderr.contains("interrupted; the scratch schema glctl_bench_") && stderr.contains("was dropped"),
        "{stderr}"
    );
    assert_eq!(scratch_schemas(&p), "");
}

#[test]
fn a_scratch_schema_of_a_killed_bench_is_dropped_by_the_next_run() {
    let p = applied("bench_sigkill");
    let mut child = start_long_bench(&p);
    child.kill().unwrap(); // SIGKILL: no cleanup can run
    child.wait().unwrap();
    let orphan = scratch_schemas(&p);
    assert!(orphan.starts_with("glctl_bench_"), "{orphan}");
    // The killed run's server sessions end once the server notices; its advisory lock goes with them.
    let started = Instant::now();
    loop {
        let out = p.glctl_env("dev", &["bench", "--rows", "100", "--table", "sensor_readings", "--output", "json"]);
        let report = json(&out);
        if report["orphans_dropped"].as_array().unwrap().iter().any(|s| s == orphan.as_str()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the orphan {orphan} was never dropped: {report}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(scratch_schemas(&p), "");
}

#[test]
fn verify_with_bench_decides_pb01_to_pb06_from_a_bench_run_with_its_figures() {
    let p = applied("bench_verify");
    let out = p.glctl_env("dev", &["verify", "--only", "PB-", "--bench", "--format", "json"]);
    let run = json(&out);
    let results = run["results"].as_array().unwrap();
    for r in results {
        let id = r["id"].as_str().unwrap();
        let status = r["status"].as_str().unwrap();
        if id <= "PB-06" {
            assert!(status == "PASS" || status == "FAIL", "{id} is decided: {r}");
            let evidence = &r["evidence"][0];
            assert!(evidence["source"].as_str().unwrap().starts_with("glctl bench (seed 1"), "{r}");
            assert!(evidence["expected"].as_str().unwrap().starts_with(if id <= "PB-02" { "> " } else { "p99 < " }));
        } else if id == "PB-07" {
            // No PgBouncer given: 551 sessions straight to the stack's server (max_connections 200) would lock
            // every other client out, so bench refuses to open them and PB-07 is undecided.
            assert_eq!(status, "ERROR", "{id}: {r}");
            assert!(r.to_string().contains("would exhaust it"), "{id}: {r}");
        } else {
            assert_ne!(status, "PASS", "{id}: dev declares no pooler: {r}");
        }
    }
    assert_eq!(scratch_schemas(&p), "");
    let without = p.glctl_env("dev", &["verify", "--only", "PB-01", "--format", "json"]);
    assert_eq!(json(&without)["results"][0]["skip"], "needs-bench");
}

/// Runs `scripts/bench-compare ARGS` with `stdin`, its results directory `results`.
fn bench_compare(results: &std::path::Path, args: &[&str], stdin: &str) -> crate::support::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(crate::support::repo().join("scripts/bench-compare"))
        .args(args)
        .env("BENCH_RESULTS", results)
        .env_remove("THRESHOLD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("scripts/bench-compare runs (python3)");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    crate::support::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The regression guard's file format (no timing asserted): every results file checked in reads back, a
/// recorded run compares with another figure by figure, a figure worse beyond the threshold makes exit 1,
/// and a damaged file is named with its line.
#[test]
fn benchmark_results_files_keep_their_format_and_two_runs_compare_figure_by_figure() {
    let repo = crate::support::repo();
    let committed: Vec<String> = std::fs::read_dir(repo.join("bench-results"))
        .expect("bench-results/ is checked in")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with("-ingest.tsv") || p.to_str().unwrap().ends_with("-plan.tsv"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    assert!(committed.iter().any(|p| p.ends_with("-plan.tsv")), "a plan run is checked in: {committed:?}");
    let args: Vec<&str> = std::iter::once("--check").chain(committed.iter().map(String::as_str)).collect();
    let check = bench_compare(&repo, &args, "");
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);

    let dir = tempfile::tempdir().unwrap();
    let glctl = env!("CARGO_BIN_EXE_glctl");
    let record = |figures: &str| {
        let out = bench_compare(dir.path(), &["--record", "ingest", glctl, "test"], figures);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout.trim().to_string()
    };
    let old = record("t.glctl\t400000\trows/s\thigher\nt.plan_wall\t3.0\ts\tlower\nt.gone\t1\tcount\tnone\n");
    let new = record("t.glctl\t500000\trows/s\thigher\nt.plan_wall\t3.6\ts\tlower\nt.added\t2\tcount\tnone\n");
    assert_ne!(old, new, "two runs in one second are two files");
    let text = std::fs::read_to_string(&new).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(header, "name\tvalue\tunit\tbetter\tcommit\tglctl_sha256\thost\tcpus\tdate_utc\tlabel\tload1");
    assert!(text.lines().skip(1).all(|l| l.split('\t').count() == 11 && l.contains("\ttest\t")), "{text}");

    let cmp = bench_compare(dir.path(), &[&old, &new], "");
    assert_eq!(cmp.code, 1, "a figure got worse: {}{}", cmp.stdout, cmp.stderr);
    let line = |name: &str| cmp.stdout.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or("").to_string();
    assert!(line("t.glctl").contains("+25.0%") && line("t.glctl").ends_with("better"), "{}", cmp.stdout);
    assert!(line("t.plan_wall").contains("+20.0%") && line("t.plan_wall").ends_with("WORSE"), "{}", cmp.stdout);
    assert!(line("t.gone").ends_with("(gone)") && line("t.added").ends_with("(new)"), "{}", cmp.stdout);
    let latest = bench_compare(dir.path(), &["--latest", "ingest"], "");
    assert_eq!(latest.stdout, cmp.stdout, "--latest compares the two newest runs");

    std::fs::write(dir.path().join("bad.tsv"), format!("{header}\nt.x\tfast\trows/s\thigher\ta\tb\tc\t2\td\t-\t1\n"))
        .unwrap();
    let bad = bench_compare(dir.path(), &["--check", dir.path().join("bad.tsv").to_str().unwrap()], "");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("bad.tsv:2: value 'fast' of t.x is not a number"), "{}", bad.stderr);
}
