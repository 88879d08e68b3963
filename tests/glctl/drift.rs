//! `glctl drift` against the real stack: a clean database after apply is no drift; a retention changed by
//! hand, a disabled audit trigger and a revoked grant are each named; a partition pg_partman makes is not
//! drift; acknowledged drift does not count; an unreachable target is exit 3, never "no drift". And FA-08:
//! a summary apply just populated is fresh before pg_cron's first run.

use crate::migrate::Project;
use crate::support::glctl_in;
use crate::support::repo;

fn names(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["differences"].as_array().unwrap().clone())
        .filter(|d| d.get("acknowledged").is_none() && d.get("emulator").is_none())
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn drift_on_the_native_backend_names_hand_changes_and_not_new_partitions() {
    let p = Project::new("drift_native");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    // FA-08 right after apply: pg_cron has not run the refresh jobs yet, apply's populate counts.
    let out = p.root.path().to_str().unwrap().to_string();
    let fa08 = p.glctl_env("dev", &["verify", "--out", &out, "--only", "FA-08", "--format", "json"]);
    assert_eq!(fa08.code, 0, "{}\n{}", fa08.stdout, fa08.stderr);
    assert!(fa08.stdout.contains("by glctl apply"), "{}", fa08.stdout);

    let drift = |env: &str| p.glctl_env(env, &["drift", "--only", "database", "--output", "json"]);
    let clean = drift("dev");
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert!(names(&clean.stdout).is_empty(), "{}", clean.stdout);

    // A partition pg_partman makes is expected.
    p.query("SELECT partman.create_partition_time('public.sensor_readings', ARRAY[now() + interval '30 days'])");
    let still_clean = drift("dev");
    assert_eq!(still_clean.code, 0, "a new partition is not drift: {}", still_clean.stdout);

    p.query("UPDATE partman.part_config SET retention = '1 day' WHERE parent_table = 'public.sensor_readings'");
    p.query("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_immutable");
    p.query("REVOKE SELECT ON emission_measurements FROM analytics_read");
    let found = drift("dev");
    assert_eq!(found.code, 1, "{}\n{}", found.stdout, found.stderr);
    let found = names(&found.stdout);
    assert!(found.contains(&"policies: sensor_readings retention".to_string()), "{found:?}");
    assert!(
        found.iter().any(|n| n.starts_with("objects: trigger audit_logs.audit_logs_immutable (disabled)")),
        "{found:?}"
    );
    assert!(
        found.contains(&"objects: grant SELECT on emission_measurements to analytics_read revoked".to_string()),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "nothing else: {found:?}");

    // Acknowledged drift is listed with its reason and does not count.
    let envs = p.root.path().join("environments");
    std::fs::create_dir_all(&envs).unwrap();
    std::fs::copy(repo().join("environments/base.yaml"), envs.join("base.yaml")).unwrap();
    let dev = std::fs::read_to_string(repo().join("environments/dev.yaml")).unwrap();
    std::fs::write(
        envs.join("dev.yaml"),
        format!(
            "{dev}\ndrift:\n  acknowledged:\n    - {{ item: 'policies: sensor_readings retention', reason: 'a test', expires: '2099-12-31' }}\n    - {{ item: 'objects: *', reason: 'a test', expires: '2099-12-31' }}\n"
        ),
    )
    .unwrap();
    let acknowledged = drift(envs.join("dev.yaml").to_str().unwrap());
    assert_eq!(acknowledged.code, 0, "{}\n{}", acknowledged.stdout, acknowledged.stderr);
    assert!(acknowledged.stdout.contains("acknowledged until 2099-12-31: a test"), "{}", acknowledged.stdout);
}

#[test]
fn an_unreachable_target_is_incomplete_not_clean() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://x:y@127.0.0.1:{closed}/z?sslmode=disable");
    let dir = tempfile::tempdir().unwrap();
    let out = glctl_in(
        &repo(),
        &["drift", "-e", "dev", "--only", "database", "--out", dir.path().to_str().unwrap(), "--database-url", &url],
    );
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("NOT READ  migrations") && out.stdout.contains("3 layer(s) not read"),
        "{}",
        out.stdout
    );
}

/// TimescaleDB (PGlite): a chunk TimescaleDB makes is not drift; a retention policy replaced by hand is.
#[test]
fn drift_on_timescaledb_names_a_retention_changed_by_hand_and_not_a_new_chunk() {
    use crate::support::stack::{dedicated_timescaledb, timescaledb_connect_to};
    let port = dedicated_timescaledb();
    let url = format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let glctl = |args: &[&str]| {
        let mut all = vec!["-e", "local", "--database-url", &url];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", out]);
        glctl_in(&repo(), &all)
    };
    let apply = glctl(&["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let sql = |statement: &str| {
        crate::support::runtime().block_on(async {
            let (client, task) = timescaledb_connect_to(port).await;
            client.batch_execute(statement).await.unwrap();
            drop(client);
            let _ = task.await;
        })
    };
    sql("INSERT INTO sensor_readings (reading_time, organization_id, facility_id, device_id, metric_type, value, unit)
         VALUES (now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'kwh', 1, 'kWh')");
    let clean = glctl(&["drift", "--only", "database", "--output", "json"]);
    assert_eq!(clean.code, 0, "a new chunk is not drift: {}\n{}", clean.stdout, clean.stderr);

    sql("SELECT remove_retention_policy('sensor_readings'); SELECT add_retention_policy('sensor_readings', INTERVAL '5 days')");
    let found = glctl(&["drift", "--only", "database", "--output", "json"]);
    assert_eq!(found.code, 1, "{}\n{}", found.stdout, found.stderr);
    assert_eq!(names(&found.stdout), ["policies: sensor_readings retention"], "{}", found.stdout);
}
