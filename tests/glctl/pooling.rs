//! PgBouncer on the local stack, run from the file glctl renders (`support::poolers`): the two instances run
//! that file with only the listen port changed, and `verify` decides FA-09 (reuse), PB-07 (sessions held,
//! counted on the PgBouncers and in pg_stat_activity), PB-08 (acquisition) and HA-05 (one PgBouncer stopped,
//! clients back through the other) through them. Correctness, not speed: the figures' verdicts are the
//! benchmark's business, except where a test says why.

use crate::support::poolers::{glctl_pooled, poolers, poolers_lock};

fn results(out: &crate::support::Output) -> Vec<serde_json::Value> {
    let run: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    run["results"].as_array().unwrap().clone()
}

fn by_id<'a>(results: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    results.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id} in {results:#?}"))
}

#[test]
fn both_pgbouncers_run_the_rendered_file_and_fa09_sees_server_connections_reused() {
    let _one = poolers_lock();
    let p = poolers();
    let rendered = std::fs::read_to_string(&p.rendered).unwrap();
    assert!(rendered.contains("server_tls_sslmode = verify-full"), "{rendered}");
    assert!(rendered.contains("auth_query = SELECT uname, phash FROM pgbouncer.user_lookup($1)"), "{rendered}");
    for (running, port) in p.running.iter().zip(&p.ports) {
        let running = std::fs::read_to_string(running).unwrap();
        let differ: Vec<(&str, &str)> = rendered.lines().zip(running.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(differ, [("listen_port = 6432", format!("listen_port = {port}").as_str())]);
        assert_eq!(rendered.lines().count(), running.lines().count());
    }
    let out = glctl_pooled(&[
        "verify",
        "-e",
        "local-native",
        "--only",
        "FA-09",
        "--format",
        "json",
        "--out",
        "target/pooling-verify",
    ]);
    let results = results(&out);
    let fa09 = by_id(&results, "FA-09");
    assert_eq!(fa09["status"], "PASS", "{fa09:#}\n{}", out.stderr);
    let evidence = fa09["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2, "one per PgBouncer: {fa09:#}");
    for (e, port) in evidence.iter().zip(&p.ports) {
        let observed = e["observed"].as_str().unwrap();
        assert!(observed.starts_with(&format!("127.0.0.1:{port}: 40 clients ran 160 transactions")), "{observed}");
    }
}

#[test]
fn pb07_holds_every_session_through_the_pgbouncers_and_pb08_times_acquisition() {
    let _one = poolers_lock();
    let out = glctl_pooled(&[
        "bench",
        "-e",
        "local-native",
        "--scenario",
        "connections",
        "--duration",
        "2",
        "--output",
        "json",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    let s = &report["connections"]["sessions"];
    assert_eq!(s["sessions"], 551, "the target 500 plus a tenth, plus one: {s:#}");
    assert_eq!(s["opened"], 551, "{s:#}");
    assert_eq!((s["connect_failures"].as_u64(), s["query_failures"].as_u64()), (Some(0), Some(0)), "{s:#}");
    let held: u64 = s["pooler_clients"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(held, 551, "SHOW POOLS counts every session on the two PgBouncers: {s:#}");
    assert_eq!(s["pooler_clients"].as_array().unwrap().len(), 2, "{s:#}");
    let servers = s["server_backends"].as_i64().unwrap();
    assert!(
        servers > 0 && servers <= 2 * 40 + 2,
        "at most max_db_connections per PgBouncer (+ the bench's own): {s:#}"
    );
    assert!(s["max_connections"].as_i64().unwrap() < 551, "more sessions than the server could take directly");
    let pb07 = report["connection_verdicts"].as_array().unwrap().iter().find(|v| v["check"] == "PB-07").unwrap();
    assert_eq!(pb07["pass"], true, "{pb07:#}");
    let a = &report["connections"]["acquire"];
    assert!(a["samples"].as_u64().unwrap() >= 20, "{a:#}");
    assert_eq!(a["errors"], 0, "{a:#}");
    assert!(a["connect"]["p99_ms"].as_f64().unwrap() > 0.0 && a["first_query"]["p50_ms"].as_f64().unwrap() > 0.0);
    assert!(a["mean_wait_us"].is_number(), "SHOW STATS accounted the wait: {a:#}");
    assert!(report["connection_verdicts"].as_array().unwrap().iter().any(|v| v["check"] == "PB-08"));

    // verify --bench decides both from the same engine.
    let out = glctl_pooled(&[
        "verify",
        "-e",
        "local-native",
        "--bench",
        "--only",
        "PB-07,PB-08",
        "--format",
        "json",
        "--out",
        "target/pooling-verify",
    ]);
    let results = results(&out);
    assert_eq!(by_id(&results, "PB-07")["status"], "PASS", "{results:#?}\n{}", out.stderr);
    let pb08 = by_id(&results, "PB-08");
    assert!(pb08["status"] == "PASS" || pb08["status"] == "FAIL", "decided, with evidence: {pb08:#}");
    assert!(pb08["evidence"][0]["observed"].as_str().unwrap().contains("SHOW POOLS max cl_waiting"), "{pb08:#}");
}

#[test]
fn ha05_stops_a_pgbouncer_clients_come_back_through_the_other_and_it_is_started_again() {
    let _one = poolers_lock();
    let p = poolers();
    let out = glctl_pooled(&[
        "verify",
        "-e",
        "local-native",
        "--drills",
        "--only",
        "HA-05",
        "--format",
        "json",
        "--out",
        "target/pooling-verify",
    ]);
    let results = results(&out);
    let ha05 = by_id(&results, "HA-05");
    assert_eq!(ha05["status"], "PASS", "{ha05:#}\n{}", out.stderr);
    let observed = ha05["evidence"][0]["observed"].as_str().unwrap();
    assert!(observed.contains(&format!("PgBouncer 127.0.0.1:{} stopped", p.ports[0])), "{observed}");
    assert!(observed.contains("answering again"), "{observed}");
    // It really runs again: a client reaches the first PgBouncer alone.
    let first = p.url.replacen(&format!(",127.0.0.1:{}", p.ports[1]), "", 1);
    let psql = std::process::Command::new("psql").args([first.as_str(), "-Atc", "SELECT 1"]).output().unwrap();
    assert!(psql.status.success(), "{}", String::from_utf8_lossy(&psql.stderr));
}
