//! `glctl bench` on TimescaleDB, run on the stack's PGlite (TimescaleDB 2.23's own code in WebAssembly): the
//! scratch hypertables with the live chunk interval and chunks made by the inserts, the scratch continuous
//! aggregate from the real one's definition, `time_bucket('3 months', …)`, and nothing left behind — neither
//! in the scratch schema nor in `_timescaledb_internal` or TimescaleDB's catalog — also when interrupted.
//! PGlite cannot take COPY, so rows go in with INSERT: that ingest figure is labelled and never a PASS.
//! PGlite serves one client at a time: each test holds `timescaledb_lock()` throughout and never holds a
//! connection of its own while glctl runs. Correctness only: PGlite's figures are not a benchmark.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::stack::{stack, timescaledb_connect_to, timescaledb_lock, timescaledb_reset_ledger};
use crate::support::{repo, runtime, Output};

fn url() -> String {
    stack().var("GLCTL_DATABASE_URL").to_string()
}

/// The first column of the first row of `sql` on PGlite, as text (simple protocol: no prepared statement
/// outlives this client in PGlite's single backend). Bounded: PGlite runs no statement_timeout timer, so the
/// whole exchange has a deadline of its own (which starts after the stack is up: a bare `cargo test` starts
/// it on first use).
fn pglite(sql: &str) -> String {
    let port: u16 = stack().var("GLCTL_TSDB_PORT").parse().expect("a port");
    runtime().block_on(async {
        let exchange = async {
            let (client, task) = timescaledb_connect_to(port).await;
            let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            drop(client);
            let _ = task.await;
            messages
                .into_iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("").to_string()),
                    _ => None,
                })
                .unwrap_or_default()
        };
        tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .unwrap_or_else(|_| panic!("PGlite did not answer within 30 s: {sql}"))
    })
}

/// glctl in the repository against PGlite as `local`, killed after `seconds`.
fn glctl_local(args: &[&str], seconds: u64) -> Output {
    let url = url();
    let mut all = vec!["-e", "local", "--database-url", url.as_str()];
    all.extend_from_slice(args);
    let out = Command::new("timeout")
        .args(["--kill-after=5", &seconds.to_string(), env!("CARGO_BIN_EXE_glctl")])
        .args(&all)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("GLCTL_DATABASE_URL")
        .env_remove("GLCTL_ENV")
        .env_remove("GLCTL_ROOT")
        .output()
        .expect("glctl runs");
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_ne!(out.code, 124, "glctl {args:?} did not finish within {seconds} s: {}", out.stderr);
    out
}

/// The PRD schema on the shared PGlite (other tests there reset the ledger, so apply only when the tables
/// are missing). The caller holds `timescaledb_lock()`.
fn prd_schema() {
    if pglite("SELECT (to_regclass('public.emissions_daily_summary') IS NOT NULL)::text") == "true" {
        return;
    }
    timescaledb_reset_ledger().expect("the ledger is reset");
    let out_dir = tempfile::tempdir().unwrap();
    let apply = glctl_local(&["apply", "--only", "database", "--yes", "--out", out_dir.path().to_str().unwrap()], 120);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
}

/// Everything a bench run could leave behind or disturb on TimescaleDB, as one text to compare.
fn footprint() -> String {
    pglite(
        "SELECT concat_ws(E'\\n',
           'scratch schemas: ' || coalesce((SELECT string_agg(nspname, ',') FROM pg_namespace
                                            WHERE nspname LIKE 'glctl_bench_%'), ''),
           'hypertables: ' || (SELECT string_agg(format('%s.%s', hypertable_schema, hypertable_name), ','
                                                 ORDER BY hypertable_schema, hypertable_name)
                               FROM timescaledb_information.hypertables),
           'continuous aggregates: ' || (SELECT string_agg(format('%s.%s', view_schema, view_name), ','
                                                           ORDER BY view_schema, view_name)
                                         FROM timescaledb_information.continuous_aggregates),
           '_timescaledb_internal: ' || (SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
                                         WHERE relnamespace = '_timescaledb_internal'::regnamespace),
           'catalog: ' || (SELECT count(*) FROM _timescaledb_catalog.hypertable) || ' hypertables, '
                       || (SELECT count(*) FROM _timescaledb_catalog.chunk) || ' chunks, '
                       || (SELECT count(*) FROM _timescaledb_catalog.dimension_slice) || ' slices, '
                       || (SELECT count(*) FROM _timescaledb_catalog.continuous_agg) || ' continuous aggregates',
           'real rows: ' || (SELECT count(*) FROM public.emission_measurements) || ' emission, '
                         || (SELECT count(*) FROM public.sensor_readings) || ' sensor, '
                         || (SELECT count(*) FROM public.audit_logs) || ' audit',
           'search_path: ' || current_setting('search_path'))",
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr))
}

#[test]
fn bench_on_pglite_runs_the_hypertable_path_end_to_end_labels_its_insert_load_and_leaves_nothing_behind() {
    let _one_client = timescaledb_lock();
    prd_schema();
    let interval = pglite(
        "SELECT time_interval::text FROM timescaledb_information.dimensions
         WHERE hypertable_schema = 'public' AND hypertable_name = 'emission_measurements'",
    );
    let before = footprint();
    assert!(before.contains("search_path: public"), "{before}");

    let started = Instant::now();
    let out = glctl_local(
        &[
            "bench",
            "--scenario",
            "ingest",
            "--scenario",
            "queries",
            "--rows",
            "600",
            "--duration",
            "1",
            "--rate",
            "4",
            "--output",
            "json",
        ],
        180,
    );
    let took = started.elapsed();
    let report = json(&out);
    assert_eq!(out.code, 3, "an INSERT load leaves PB-01/PB-02 undecided, not passed nor failed: {}", out.stderr);
    assert_eq!(report["server"], "pglite", "PGlite is recognised by its version(): {}", report["server"]);
    assert_eq!(report["backend"], "timescaledb");
    assert_eq!(report["load_method"], "insert");
    assert_eq!(report["options"]["connections"], 1, "PGlite serves one connection");
    assert_eq!(report["intervals"][0], serde_json::json!(["emission_measurements", interval]), "{report}");

    let ingest = report["ingest"].as_array().unwrap();
    assert_eq!(ingest.len(), 2, "{report}");
    for r in ingest {
        let f = &r["figures"];
        assert_eq!(f["method"], "insert", "{r}");
        assert_eq!((f["rows_committed"].as_u64(), f["counted"].as_i64()), (Some(600), Some(600)), "{r}");
        assert!(f["chunks"].as_i64().unwrap() > 1, "the inserts made the scratch hypertable's chunks: {r}");
        assert_eq!(r["verdict"]["pass"], false, "{r}");
        let observed = r["verdict"]["observed"].as_str().unwrap();
        assert!(observed.starts_with("method: insert") && observed.contains("never a PASS"), "{observed}");
    }

    let queries = report["queries"].as_array().unwrap();
    let checks: Vec<&str> = queries.iter().map(|q| q["verdict"]["check"].as_str().unwrap()).collect();
    assert_eq!(checks, ["PB-03", "PB-04", "PB-05", "PB-06"]);
    for q in queries {
        let l = &q["figures"]["latency"];
        assert_eq!((l["requests"].as_u64(), l["errors"].as_u64()), (Some(4), Some(0)), "{q}");
        assert!(l["p50_ms"].as_f64().unwrap() > 0.0 && l["max_ms"].as_f64() >= l["p99_ms"].as_f64(), "{q}");
        assert_eq!(q["figures"]["table_rows"], 600, "{q}");
        assert!(q["verdict"]["observed"].as_str().unwrap().contains("PGlite's latency"), "{q}");
    }
    let pb06 = queries[3]["figures"]["sql"].as_str().unwrap();
    assert!(pb06.contains(".time_bucket(INTERVAL '3 months', measurement_time)"), "{pb06}");

    assert_eq!(footprint(), before, "bench left something behind or changed the server's session");
    eprintln!("bench on PGlite (600 rows per table, 4 query scenarios of 1 s): {:.1} s", took.as_secs_f64());
}

#[test]
fn bench_on_pglite_interrupted_drops_the_hypertable_its_chunks_and_the_continuous_aggregate() {
    let _one_client = timescaledb_lock();
    prd_schema();
    let before = footprint();
    let url = url();
    let mut child = Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(["-e", "local", "--database-url", &url])
        .args(["bench", "--scenario", "queries", "--query-rows", "300", "--duration", "60", "--rate", "2"])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("GLCTL_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("glctl runs");
    // No second client can look while bench holds PGlite's one connection: give it the time to load its rows
    // and make the continuous aggregate (about 3 s here). Earlier, the interrupt still has a hypertable with
    // chunks to drop; the assertions hold either way.
    std::thread::sleep(Duration::from_secs(8));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("bench did not end within 60 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "interrupted: not everything was measured; {stderr}");
    assert!(
        stderr.contains("interrupted; the scratch schema glctl_bench_") && stderr.contains("was dropped"),
        "{stderr}"
    );
    assert_eq!(footprint(), before, "the interrupted bench left something behind");
}

#[test]
fn copy_on_pglite_is_refused_before_anything_is_made() {
    let _one_client = timescaledb_lock();
    prd_schema();
    let before = footprint();
    let out = glctl_local(&["bench", "--load", "copy", "--rows", "10"], 60);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("this server is PGlite, whose COPY FROM STDIN crashes it"), "{}", out.stderr);
    assert_eq!(footprint(), before);
}

/// The INSERT load on PostgreSQL 15 too (several connections, the casts of PostgreSQL 15 rather than PGlite's
/// 17): every row committed and counted, labelled, never a PASS, nothing left behind.
#[test]
fn the_insert_load_on_postgresql_commits_every_row_and_is_never_a_pass() {
    let p = crate::migrate::Project::new("bench_insert");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let out = p.glctl_env(
        "dev",
        &[
            "bench",
            "--load",
            "insert",
            "--rows",
            "3000",
            "--batch-rows",
            "700",
            "--connections",
            "2",
            "--output",
            "json",
        ],
    );
    let report = json(&out);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!((report["server"].as_str(), report["load_method"].as_str()), (Some("postgresql"), Some("insert")));
    for r in report["ingest"].as_array().unwrap() {
        let f = &r["figures"];
        assert_eq!(
            (f["rows_committed"].as_u64(), f["counted"].as_i64(), f["batches"].as_u64()),
            (Some(3000), Some(3000), Some(5)),
            "{r}"
        );
        assert_eq!(r["verdict"]["pass"], false, "{r}");
    }
    assert_eq!(
        p.query("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'glctl_bench_%'"),
        "0",
        "the scratch schema is gone"
    );
    assert_eq!(p.query("SELECT count(*) FROM emission_measurements"), "0", "the real table is untouched");
}
