//! The one definition of glctl's Prometheus rules: recording rules that do the aggregation once, and
//! alerts at the level each condition means (instance, database, table, job), with `for:` durations,
//! severities and runbook text. The dashboard draws the same recording rules.
//!
//! One path pages for each condition: on RDS and Aurora, the conditions CloudWatch already alarms on
//! (CPU, memory, storage, connections, replica lag; `templates/modules/alarms`) are not alerted here.

use crate::config::interval::Interval;
use crate::config::model::{Backend, EngineKind, Environment, Tier};
use crate::database::native::job_name;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

pub struct Recording {
    pub record: &'static str,
    pub expr: String,
}

pub struct Alert {
    pub name: &'static str,
    pub severity: Severity,
    pub expr: String,
    pub for_: &'static str,
    pub summary: String,
    pub description: String,
    pub runbook: &'static str,
    /// Labels besides severity and environment, where one alert name covers several rules.
    pub labels: Vec<(&'static str, String)>,
}

pub const CONNECTIONS_RATIO: &str = "glctl:pg_connections:ratio";
pub const CONNECTIONS_SUM: &str = "glctl:pg_connections:sum";
pub const CACHE_HIT_RATIO: &str = "glctl:pg_cache_hit:ratio_rate10m";
pub const TRANSACTIONS_RATE: &str = "glctl:pg_transactions:rate5m";
pub const WAL_BYTES_RATE: &str = "glctl:pg_wal_bytes:rate5m";

pub fn recording_rules() -> Vec<Recording> {
    let rate = |m: &str| format!("sum by (instance, datname) (rate({m}[10m]))");
    vec![
        Recording { record: CONNECTIONS_SUM, expr: "sum by (instance) (pg_stat_activity_count)".into() },
        Recording {
            record: CONNECTIONS_RATIO,
            expr: format!("{CONNECTIONS_SUM} / on (instance) max by (instance) (pg_settings_max_connections)"),
        },
        // Over rates, not the raw counters (an average since the last stats reset); 0/0 on an idle database
        // is NaN, which no comparison matches, so an idle database does not alert.
        Recording {
            record: CACHE_HIT_RATIO,
            expr: format!(
                "{} / ({} + {})",
                rate("pg_stat_database_blks_hit"),
                rate("pg_stat_database_blks_hit"),
                rate("pg_stat_database_blks_read")
            ),
        },
        Recording {
            record: TRANSACTIONS_RATE,
            expr:
                "sum by (instance) (rate(pg_stat_database_xact_commit[5m]) + rate(pg_stat_database_xact_rollback[5m]))"
                    .into(),
        },
        Recording { record: WAL_BYTES_RATE, expr: "sum by (instance) (rate(glctl_wal_position_bytes[5m]))".into() },
    ]
}

/// Whether CloudWatch pages this engine's connection count and replica lag (the alarms module).
pub fn cloudwatch_pages(env: &Environment) -> bool {
    env.engine.kind != EngineKind::External
}

/// Replicas that stream from the primary, as `pg_stat_replication` shows them: RDS read replicas and an
/// external server's standbys. Aurora readers share the storage volume and do not appear there.
pub fn streaming_replicas(env: &Environment) -> usize {
    match env.engine.kind {
        EngineKind::AuroraPostgresql => 0,
        _ => env.engine.replicas.len(),
    }
}

fn both(
    name: &'static str,
    levels: (u64, u64),
    fors: (&'static str, &'static str),
    expr: impl Fn(u64) -> String,
    summary: &str,
    description: impl Fn(u64) -> String,
    runbook: &'static str,
) -> [Alert; 2] {
    let one = |severity: Severity, level: u64, for_: &'static str| Alert {
        name,
        severity,
        expr: expr(level),
        for_,
        summary: summary.to_string(),
        description: description(level),
        runbook,
        labels: vec![],
    };
    [one(Severity::Warning, levels.0, fors.0), one(Severity::Critical, levels.1, fors.1)]
}

/// Escapes a label value for a PromQL string.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn alerts(env: &Environment) -> Vec<Alert> {
    let t = &env.monitoring.thresholds;
    let l = |x: crate::config::monitoring::Levels| (x.warning, x.critical);
    let mut out = vec![Alert {
        name: "PostgreSQLDown",
        severity: Severity::Critical,
        expr: "pg_up == 0".into(),
        for_: "1m",
        summary: "postgres_exporter cannot connect to {{ $labels.instance }}".into(),
        description: "pg_up is 0: the server is down, refuses the exporter's login, or TLS fails.".into(),
        runbook: "Check the instance's state (RDS console / `aws rds describe-db-instances`), then the exporter's \
                  log for the connection error.",
        labels: vec![],
    }];
    out.push(Alert {
        name: "PostgreSQLMetricsAbsent",
        severity: Severity::Warning,
        expr: "absent(pg_up)".into(),
        for_: "10m",
        summary: "No postgres_exporter is scraped".into(),
        description: "No pg_up series at all: every other PostgreSQL alert is blind.".into(),
        runbook: "Check the exporter's pod and the Prometheus scrape configuration (ServiceMonitor).",
        labels: vec![],
    });
    out.push(Alert {
        name: "PostgresExporterQueriesFailing",
        severity: Severity::Warning,
        expr: "max by (instance) (pg_exporter_last_scrape_error) > 0 or max by (instance) \
               (pg_exporter_user_queries_load_error) > 0"
            .into(),
        for_: "10m",
        summary: "postgres_exporter on {{ $labels.instance }} cannot run all of its queries".into(),
        description: "A query failed or the queries file did not load: the alerts that need its metrics are blind."
            .into(),
        runbook: "Read the exporter's log (\"Error running query\"): a missing extension, schema or privilege.",
        labels: vec![],
    });
    if !cloudwatch_pages(env) {
        out.extend(both(
            "PostgreSQLConnections",
            l(t.connections_percent),
            ("5m", "2m"),
            |v| format!("{CONNECTIONS_RATIO} * 100 > {v}"),
            "Client sessions on {{ $labels.instance }} near max_connections",
            |v| format!("{{{{ $value | humanize }}}}% of max_connections in use (threshold {v}%)."),
            "Find who holds sessions (`SELECT usename, application_name, state, count(*) FROM pg_stat_activity \
             GROUP BY 1, 2, 3`); check the pooler and idle-in-transaction sessions.",
        ));
        out.extend(both(
            "PostgreSQLReplicationLag",
            l(t.replication_lag_bytes),
            ("5m", "1m"),
            |v| format!("max by (instance) (glctl_replication_max_replay_lag_bytes) > {v}"),
            "A replica of {{ $labels.instance }} is behind",
            |v| format!("{{{{ $value | humanize1024 }}}}B of WAL not replayed (threshold {v} bytes)."),
            "Look at pg_stat_replication on the primary (write_lag, replay_lag) and the replica's I/O.",
        ));
    }
    let replicas = streaming_replicas(env);
    if replicas > 0 {
        out.push(Alert {
            name: "PostgreSQLReplicaNotStreaming",
            severity: Severity::Critical,
            expr: format!("max by (instance) (glctl_replication_streaming_replicas) < {replicas}"),
            for_: "1m",
            summary: "{{ $labels.instance }} streams to fewer replicas than declared".into(),
            description: format!(
                "{{{{ $value }}}} of {replicas} replicas stream from the primary (pg_stat_replication)."
            ),
            runbook: "Find the missing replica (pg_stat_replication on the primary, the replica's state and log); \
                      a stopped replica serves no reads and is no failover target.",
            labels: vec![],
        });
    }
    out.extend(both(
        "PostgreSQLCacheHitRatioLow",
        l(t.cache_hit_ratio_percent),
        ("15m", "15m"),
        |v| format!("{CACHE_HIT_RATIO} * 100 < {v}"),
        "Buffer cache hit ratio of {{ $labels.datname }} on {{ $labels.instance }} is low",
        |v| format!("{{{{ $value | humanize }}}}% of block reads hit the cache over 10 minutes (threshold {v}%)."),
        "Look for new sequential scans (pg_stat_user_tables.seq_scan) and the working set against shared_buffers.",
    ));
    if env.tier == Tier::Production {
        out.extend(both(
            "PostgreSQLTransactionRateDropped",
            l(t.transactions_per_second),
            ("10m", "10m"),
            // Primaries only (they have a WAL position): a quiet reader is not a drop.
            |v| format!("{TRANSACTIONS_RATE} < {v} and on (instance) glctl_wal_position_bytes"),
            "Transaction rate on {{ $labels.instance }} dropped",
            |v| format!("{{{{ $value | humanize }}}} transactions/s (threshold {v}/s)."),
            "Check the applications and the pooler: a drop usually means clients cannot reach the database.",
        ));
    }
    out.extend(both(
        "PostgreSQLWalGenerationHigh",
        l(t.wal_bytes_per_minute),
        ("10m", "5m"),
        |v| format!("{WAL_BYTES_RATE} * 60 > {v}"),
        "{{ $labels.instance }} writes WAL fast",
        |v| format!("{{{{ $value | humanize1024 }}}}B of WAL per minute (threshold {v} bytes)."),
        "Find the writer (pg_stat_statements by wal_bytes); replicas and backups must keep up.",
    ));
    out.extend(both(
        "PostgreSQLDeadTuples",
        l(t.dead_tuples),
        ("30m", "30m"),
        |v| format!("max by (instance, datname, schemaname, relname) (glctl_table_dead_tuples) > {v}"),
        "{{ $labels.schemaname }}.{{ $labels.relname }} has many dead tuples",
        |v| format!("{{{{ $value | humanize }}}} dead tuples (threshold {v}): autovacuum is behind or blocked."),
        "Check pg_stat_user_tables.last_autovacuum and long transactions holding back the xmin horizon.",
    ));
    out.extend(both(
        "PostgreSQLLockWaits",
        l(t.lock_waits),
        ("2m", "1m"),
        |v| format!("max by (instance) (glctl_activity_lock_waiting) > {v}"),
        "Sessions wait for locks on {{ $labels.instance }}",
        |v| format!("{{{{ $value }}}} sessions wait for a lock (threshold {v})."),
        "Find the blocker: `SELECT pid, pg_blocking_pids(pid), query FROM pg_stat_activity WHERE wait_event_type = \
         'Lock'`.",
    ));
    out.extend(both(
        "PostgreSQLLongRunningQuery",
        l(t.long_running_query_seconds),
        ("1m", "1m"),
        |v| format!("max by (instance) (glctl_activity_longest_query_seconds) > {v}"),
        "A statement on {{ $labels.instance }} runs long",
        |v| format!("The longest active statement has run {{{{ $value | humanizeDuration }}}} (threshold {v}s)."),
        "Find it in pg_stat_activity (state = 'active', oldest query_start); cancel with pg_cancel_backend if safe.",
    ));
    match env.timeseries.backend {
        Backend::Native => out.extend(native_alerts(env)),
        Backend::Timescaledb => out.push(Alert {
            name: "TimescaleDBJobFailing",
            severity: Severity::Warning,
            expr: "max by (instance, job_id, proc_name, hypertable_name) (glctl_timescaledb_job_last_run_failed) == 1"
                .into(),
            for_: "1m",
            summary: "TimescaleDB job {{ $labels.job_id }} ({{ $labels.proc_name }}) failed".into(),
            description: "The last run of the job on {{ $labels.hypertable_name }} failed \
                          (timescaledb_information.job_stats)."
                .into(),
            runbook: "Read the error in timescaledb_information.job_errors; run it once with CALL run_job(id).",
            labels: vec![],
        }),
    }
    out
}

fn native_alerts(env: &Environment) -> Vec<Alert> {
    let t = &env.monitoring.thresholds;
    let mut out = vec![Alert {
        name: "PgCronJobFailed",
        severity: Severity::Warning,
        expr: "max by (instance, jobname, database) (glctl_cron_last_run_failed) == 1".into(),
        for_: "1m",
        summary: "pg_cron job {{ $labels.jobname }} failed".into(),
        description: "The job's last finished run in {{ $labels.database }} failed (cron.job_run_details).".into(),
        runbook: "Read the error: `SELECT status, return_message FROM cron.job_run_details WHERE jobid = (SELECT \
                  jobid FROM cron.job WHERE jobname = '…') ORDER BY start_time DESC LIMIT 5`.",
        labels: vec![],
    }];
    // Staleness per job glctl schedules: three missed runs.
    let database = &env.connection.database;
    let mut jobs = vec![(job_name(database, "partman-maintenance"), 3_600_i64, "partition maintenance".to_string())];
    for (name, cagg) in &env.continuous_aggregates {
        jobs.push((
            job_name(database, &format!("refresh:{name}")),
            interval_seconds(&cagg.refresh.schedule_interval),
            format!("the refresh of summary {name}"),
        ));
    }
    for (job, every, what) in jobs {
        let Some(stale) = every.checked_mul(3) else { continue };
        out.push(Alert {
            name: "PgCronJobStale",
            severity: Severity::Warning,
            expr: format!(
                "max by (instance, jobname, database) (glctl_cron_seconds_since_success{{jobname={}}}) > {stale}",
                quoted(&job)
            ),
            for_: "5m",
            summary: format!("pg_cron has not completed {what} for three of its runs"),
            description: format!(
                "{job} last succeeded {{{{ $value | humanizeDuration }}}} ago; it runs every {every} s."
            ),
            runbook:
                "Check that the job is active (cron.job) and why it fails or does not start (cron.job_run_details, \
                      cron.max_running_jobs, the server log).",
            labels: vec![("jobname", job.clone())],
        });
    }
    out.push(Alert {
        name: "PartmanDefaultPartitionRows",
        severity: Severity::Warning,
        expr: "max by (instance, default_table) (glctl_partman_default_rows) > 0".into(),
        for_: "1m",
        summary: "Rows landed in {{ $labels.default_table }}".into(),
        description: "{{ $value }} rows have a time no partition covers; they block creating that partition.".into(),
        runbook: "Move them with `CALL partman.partition_data_proc('<parent table>')` (glctl plan prints the call).",
        labels: vec![],
    });
    out.extend(both(
        "PartmanPartitionRunwayLow",
        (t.partition_runway_hours.warning, t.partition_runway_hours.critical),
        ("15m", "5m"),
        |v| format!("min by (instance, parent_table) (glctl_partman_runway_hours) < {v}"),
        "Few partitions premade ahead for {{ $labels.parent_table }}",
        |v| format!("The newest partition ends in {{{{ $value | humanize }}}} hours (threshold {v} h)."),
        "Partition maintenance is not running: check the pg_cron job glctl:…:partman-maintenance and run \
         `CALL partman.run_maintenance_proc()`.",
    ));
    out
}

fn interval_seconds(interval: &Interval) -> i64 {
    interval.approx_seconds().max(60)
}
