//! The PRD schema and the policy reconciler against a real TimescaleDB (PGlite, one fresh server per test):
//! what the catalog shows after `glctl apply --only database`, compressed data, jobs run on demand, the
//! append-only audit log, and a retention change that plans and applies exactly one change.

use std::path::{Path, PathBuf};

use crate::support::stack::{dedicated_timescaledb, timescaledb_connect_to};
use crate::support::{glctl_in, repo, runtime, Output};

pub(crate) struct Database {
    port: u16,
    url: String,
}

impl Database {
    /// A fresh TimescaleDB with the repository's migrations and local's policies applied.
    pub(crate) fn migrated() -> Database {
        let port = dedicated_timescaledb();
        let db =
            Database { port, url: format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable") };
        let out = db.glctl(&repo().join("environments/local.yaml"), &["apply", "--only", "database"]);
        assert_eq!(out.code, 0, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
        db
    }

    fn glctl(&self, env: &Path, args: &[&str]) -> Output {
        let env = env.to_str().unwrap();
        let mut all = vec!["-e", env, "--database-url", &self.url];
        all.extend_from_slice(args);
        glctl_in(&repo(), &all)
    }

    /// Rows of `sql` as text, columns joined with `|`.
    pub(crate) fn rows(&self, sql: &str) -> Vec<String> {
        runtime().block_on(async {
            let (client, task) = timescaledb_connect_to(self.port).await;
            let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            drop(client);
            let _ = task.await;
            messages
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len()).map(|i| row.get(i).unwrap_or("NULL").to_string()).collect::<Vec<_>>().join("|"),
                    ),
                    _ => None,
                })
                .collect()
        })
    }

    /// Runs `sql` (after `setup`, in one session) and returns the server's error message, if any.
    fn error_of(&self, setup: &str, sql: &str) -> Option<String> {
        runtime().block_on(async {
            let (client, task) = timescaledb_connect_to(self.port).await;
            client.batch_execute(setup).await.unwrap();
            let result = client.batch_execute(sql).await;
            let _ = client.batch_execute("ROLLBACK; RESET ROLE").await;
            drop(client);
            let _ = task.await;
            result.err().map(|e| e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string()))
        })
    }
}

const INSERT_EMISSIONS: &str =
    "INSERT INTO emission_measurements (measurement_time, organization_id, facility_id, scope, \
     activity_type, activity_value, activity_unit, co2_equivalent_kg, emission_factor_id, emission_factor_value, \
     emission_factor_unit, calculation_method, lineage_hash) \
     SELECT now() - make_interval(hours => i), '00000000-0000-0000-0000-000000000001', \
     ('00000000-0000-0000-0000-00000000000' || (i % 3))::uuid, 'scope_1', 'diesel', i, 'l', i * 2.5, \
     '00000000-0000-0000-0000-0000000000ef', 2.68, 'kg/l', 'tier_1', 'h' FROM generate_series(1, 1500) AS i";

const INSERT_AUDIT: &str = "INSERT INTO audit_logs (organization_id, event_type, event_category, resource_type, \
     actor_type, action, hash) VALUES ('00000000-0000-0000-0000-000000000001', 'report.viewed', 'access', 'report', \
     'user', 'VIEW', 'h1')";

#[test]
fn the_prd_schema_and_local_policies_apply_and_a_second_apply_changes_nothing() {
    let db = Database::migrated();
    let dims = db.rows(
        "SELECT hypertable_name, column_name, time_interval FROM timescaledb_information.dimensions \
         WHERE hypertable_schema = 'public' ORDER BY 1",
    );
    assert_eq!(
        dims,
        [
            "audit_logs|event_time|1 day",
            "calculation_results|calculation_time|7 days",
            "emission_measurements|measurement_time|7 days",
            "sensor_readings|reading_time|1 day"
        ]
    );
    let compression = db.rows(
        "SELECT hypertable::text, segmentby, orderby FROM timescaledb_information.hypertable_compression_settings \
         WHERE hypertable::text NOT LIKE '\\_timescaledb%' ORDER BY 1",
    );
    assert_eq!(
        compression,
        [
            "audit_logs|organization_id,event_category|event_time DESC",
            "calculation_results|organization_id,report_type|calculation_time DESC",
            "emission_measurements|organization_id,facility_id,scope|measurement_time DESC",
            "sensor_readings|organization_id,facility_id,device_id|reading_time DESC"
        ]
    );
    // local.yaml keeps days to a year where the PRD (and prod) keep years.
    let policies = db.rows(
        "SELECT hypertable_name, proc_name, coalesce(config->>'compress_after', config->>'drop_after') \
         FROM timescaledb_information.jobs WHERE proc_name IN ('policy_compression', 'policy_retention') ORDER BY 1, 2",
    );
    assert_eq!(
        policies,
        [
            "audit_logs|policy_compression|7 days",
            "audit_logs|policy_retention|1 year",
            "calculation_results|policy_compression|30 days",
            "calculation_results|policy_retention|90 days",
            "emission_measurements|policy_compression|30 days",
            "emission_measurements|policy_retention|1 year",
            "sensor_readings|policy_compression|7 days",
            "sensor_readings|policy_retention|30 days"
        ]
    );
    let aggregates = db.rows(
        "SELECT a.view_name, j.config->>'start_offset', j.config->>'end_offset', j.schedule_interval \
         FROM timescaledb_information.continuous_aggregates a \
         JOIN timescaledb_information.jobs j ON j.hypertable_name = a.view_name ORDER BY 1",
    );
    assert_eq!(
        aggregates,
        [
            "emissions_daily_summary|3 days|1 day|00:15:00",
            "emissions_hourly_summary|03:00:00|01:00:00|01:00:00",
            "emissions_quarterly_report|7 mons|1 day|01:00:00"
        ]
    );

    // PRD §4.5's real-time hourly summary (local.yaml `real_time: true`); the others materialized only.
    let real_time =
        db.rows("SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates ORDER BY 1");
    assert_eq!(real_time, ["emissions_daily_summary|t", "emissions_hourly_summary|f", "emissions_quarterly_report|t"]);

    // The heartbeat (0008) is a TimescaleDB job every minute; its procedure appends one row.
    assert_eq!(
        db.rows("SELECT schedule_interval FROM timescaledb_information.jobs WHERE proc_name = 'glctl_heartbeat_beat'"),
        ["00:01:00"]
    );

    let again = db.glctl(&repo().join("environments/local.yaml"), &["apply", "--only", "database"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("migrations: none to apply (8 already applied)"), "{}", again.stdout);
    assert!(again.stdout.contains("policies: no changes"), "{}", again.stdout);
    let plan =
        db.glctl(&repo().join("environments/local.yaml"), &["plan", "--only", "database", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "a second plan has nothing to do:\n{}", plan.stdout);
    assert!(plan.stdout.contains("policies: match the environment file"), "{}", plan.stdout);
}

#[test]
fn compressed_data_stays_queryable_and_policy_jobs_run_on_demand() {
    let db = Database::migrated();
    db.rows(INSERT_EMISSIONS);
    let before = db.rows("SELECT count(*), sum(co2_equivalent_kg) FROM emission_measurements");
    // 1500 hourly rows reach back about 62 days: chunks older than 30 days exist to compress.
    let compressed = db
        .rows("SELECT compress_chunk(c) FROM show_chunks('emission_measurements', older_than => INTERVAL '30 days') c");
    assert!(!compressed.is_empty(), "no chunk old enough to compress");
    assert_eq!(db.rows("SELECT count(*), sum(co2_equivalent_kg) FROM emission_measurements"), before);
    let by_facility = db.rows(
        "SELECT facility_id, count(*) FROM emission_measurements WHERE measurement_time < now() - INTERVAL '40 days' \
         GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(by_facility.len(), 3, "{by_facility:?}");

    // No background workers in PGlite: run each policy's job by hand, as the scheduler would.
    let job = |proc: &str, target: &str| {
        db.rows(&format!(
            "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = '{proc}' AND hypertable_name = '{target}'"
        ))
        .pop()
        .unwrap_or_else(|| panic!("no {proc} job for {target}"))
    };
    db.rows(&format!("CALL run_job({})", job("policy_refresh_continuous_aggregate", "emissions_daily_summary")));
    let daily = db.rows("SELECT count(*) > 0, sum(measurement_count) > 0 FROM emissions_daily_summary");
    assert_eq!(daily, ["t|t"], "the refresh job filled the daily summary for its 3-day window");

    // local keeps sensor readings for 30 days: the retention job drops the 40-day-old chunk.
    db.rows(
        "INSERT INTO sensor_readings (reading_time, organization_id, facility_id, device_id, metric_type, value, unit) \
         SELECT now() - make_interval(days => d), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), \
         'electricity', d, 'kWh' FROM generate_series(1, 40) AS d",
    );
    db.rows(&format!("CALL run_job({})", job("policy_compression", "sensor_readings")));
    let compressed_chunks = db.rows(
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'sensor_readings' AND is_compressed",
    );
    assert_ne!(compressed_chunks, ["0"], "the compression job compressed chunks older than 7 days");
    db.rows(&format!("CALL run_job({})", job("policy_retention", "sensor_readings")));
    let oldest = db.rows("SELECT min(reading_time) > now() - INTERVAL '31 days', count(*) FROM sensor_readings");
    assert_eq!(oldest.len(), 1);
    assert!(oldest[0].starts_with("t|"), "rows older than the 30-day retention remain: {oldest:?}");
}

#[test]
fn audit_logs_are_append_only_whatever_command_the_application_tries() {
    let db = Database::migrated();
    db.rows(INSERT_AUDIT);
    let as_app = "SET ROLE app_service";
    assert_eq!(db.error_of(as_app, INSERT_AUDIT), None, "the application can append");
    let attempts = [
        "UPDATE audit_logs SET hash = 'forged'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
        "INSERT INTO audit_logs (id, event_time, organization_id, event_type, event_category, resource_type, actor_type, \
         action, hash) SELECT id, event_time, organization_id, 'x', 'x', 'x', 'x', 'x', 'x' FROM audit_logs \
         ON CONFLICT (event_time, id) DO UPDATE SET hash = 'forged'",
        "MERGE INTO audit_logs a USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE",
        "SELECT drop_chunks('audit_logs', older_than => now() + INTERVAL '1 day')",
        "ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_immutable",
        "DROP TABLE audit_logs",
    ];
    for sql in attempts {
        let error = db.error_of(as_app, sql);
        assert!(error.is_some(), "the application role ran: {sql}");
    }
    // The triggers stop the owner too; only disabling them (break-glass, logged DDL) would let it through.
    for sql in ["UPDATE audit_logs SET hash = 'forged'", "DELETE FROM audit_logs", "TRUNCATE audit_logs"] {
        let error = db.error_of("RESET ROLE", sql).unwrap_or_else(|| panic!("the owner ran: {sql}"));
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(db.rows("SELECT count(*), count(*) FILTER (WHERE hash = 'h1') FROM audit_logs"), ["2|2"]);
    // Least privilege elsewhere: analytics reads the summaries, not the audit trail.
    assert_eq!(db.error_of("SET ROLE readonly_analytics", "SELECT count(*) FROM emissions_daily_summary"), None);
    assert!(db.error_of("SET ROLE readonly_analytics", "SELECT count(*) FROM audit_logs").is_some());
}

/// local.yaml with one hypertable's retention changed.
fn with_retention(dir: &Path, table: &str, retention: &str) -> PathBuf {
    let file = dir.join("local-retention.yaml");
    let text = format!(
        "extends: {}\nhypertables:\n  {table}:\n    retention: {retention}\n",
        repo().join("environments/local.yaml").display()
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn a_retention_change_plans_and_applies_exactly_one_change_and_shortening_needs_allow_destroy() {
    let db = Database::migrated();
    let dir = tempfile::tempdir().unwrap();
    let longer = with_retention(dir.path(), "sensor_readings", "60 days");
    let plan = db.glctl(&longer, &["plan", "--only", "database", "--output", "json", "--detailed-exitcode"]);
    assert_eq!(plan.code, 1, "changes make --detailed-exitcode exit 1: {}", plan.stderr);
    let json: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let changes = json["database"]["policies"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["object"], "sensor_readings");
    assert_eq!(changes[0]["setting"], "retention");
    assert_eq!(changes[0]["from"], "30 days");
    assert_eq!(changes[0]["to"], "60 days");
    let job_before = db.rows("SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'sensor_readings'");

    let apply = db.glctl(&longer, &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(apply.stdout.contains("policies: 1 change(s) applied"), "{}", apply.stdout);
    let live = db.rows(
        "SELECT job_id, config->>'drop_after' FROM timescaledb_information.jobs \
         WHERE proc_name = 'policy_retention' AND hypertable_name = 'sensor_readings'",
    );
    assert_eq!(live, [format!("{}|60 days", job_before[0])], "altered in place, same job");
    let again = db.glctl(&longer, &["apply", "--only", "database"]);
    assert!(again.stdout.contains("policies: no changes"), "{}", again.stdout);

    // Back to 30 days drops data sooner: refused without --allow-destroy, and nothing changes.
    let shorter = with_retention(dir.path(), "sensor_readings", "30 days");
    let refused = db.glctl(&shorter, &["apply", "--only", "database"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(refused.stderr.contains("--allow-destroy"), "{}", refused.stderr);
    assert!(db.rows("SELECT config->>'drop_after' FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'sensor_readings'") == ["60 days"]);
    let allowed = db.glctl(&shorter, &["apply", "--only", "database", "--allow-destroy"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(allowed.stdout.contains("DESTRUCTIVE"), "{}", allowed.stdout);
}

#[test]
fn every_kind_of_policy_change_is_applied_in_place_and_can_be_undone() {
    let db = Database::migrated();
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("local-changed.yaml");
    let text = format!(
        "extends: {}\ncontinuous_aggregates:\n  emissions_daily_summary:\n    refresh: {{ start_offset: 4 days, end_offset: 1 day, schedule_interval: 30 minutes }}\n\
         hypertables:\n  sensor_readings:\n    chunk_interval: 2 days\n    compression: {{ segment_by: [organization_id, device_id], order_by: [reading_time DESC], after: 14 days }}\n\
         \x20 calculation_results:\n    retention: null\n",
        repo().join("environments/local.yaml").display()
    );
    std::fs::write(&changed, text).unwrap();
    let refresh_job = "SELECT job_id, schedule_interval, config->>'start_offset' FROM timescaledb_information.jobs \
                       WHERE hypertable_name = 'emissions_daily_summary'";
    let job_before = db.rows(refresh_job);
    let apply = db.glctl(&changed, &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    for expected in [
        "- calculation_results retention: 90 days -> (none)",
        "~ sensor_readings chunk_interval: 1 day -> 2 days",
        "~ sensor_readings compression:",
        "~ sensor_readings compress_after: 7 days -> 14 days",
        "~ emissions_daily_summary refresh: 3 days to 1 day every 15 minutes -> 4 days to 1 day every 30 minutes",
    ] {
        assert!(apply.stdout.contains(expected), "missing '{expected}' in:\n{}", apply.stdout);
    }
    assert!(apply.stdout.contains("policies: 5 change(s) applied"), "{}", apply.stdout);
    let id = job_before[0].split('|').next().unwrap();
    assert_eq!(db.rows(refresh_job), [format!("{id}|00:30:00|4 days")], "the refresh job was altered, not replaced");
    assert_eq!(
        db.rows("SELECT segmentby FROM timescaledb_information.hypertable_compression_settings WHERE hypertable::text = 'sensor_readings'"),
        ["organization_id,device_id"]
    );
    let plan = db.glctl(&changed, &["plan", "--only", "database", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);

    let back = db.glctl(&repo().join("environments/local.yaml"), &["apply", "--only", "database"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(back.stdout.contains("policies: 5 change(s) applied"), "{}", back.stdout);
    assert_eq!(db.rows(refresh_job), job_before);
}
