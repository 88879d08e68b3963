//! The custom queries postgres_exporter runs for glctl's rules (`--extend.query-path`, a queries file in
//! the exporter's YAML format: a metric is `<namespace>_<column>`). Deprecated upstream in favour of
//! sql_exporter, it still works in 0.11 (Debian 12) and every later release so far, and keeps one exporter
//! process per database for the built-in metrics and glctl's own.
//!
//! Two files, because pg_cron lives in its own database (`cron.database_name`, `postgres` by default on
//! RDS and Aurora) and a query can only read the database the exporter is connected to: `queries.yaml` for
//! the application database, `cron-queries.yaml` for pg_cron's.

use serde_json::{json, Map, Value};

use crate::config::model::{Backend, Environment};

/// How the exporter treats a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Label,
    Gauge,
}

/// One entry of a queries file.
pub struct Query {
    pub namespace: &'static str,
    pub sql: String,
    pub columns: Vec<(&'static str, Usage, &'static str)>,
}

impl Query {
    /// The metric names this query defines.
    pub fn metrics(&self) -> impl Iterator<Item = String> + '_ {
        self.columns.iter().filter(|(_, u, _)| *u != Usage::Label).map(|(c, _, _)| format!("{}_{c}", self.namespace))
    }
}

/// Queries for the application database.
pub fn app_queries(env: &Environment) -> Vec<Query> {
    let mut queries = vec![
        Query {
            namespace: "glctl_activity",
            // The exporter's own session is left out: it is always active while it asks.
            sql: "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock_waiting, \
                  coalesce(max(extract(epoch FROM now() - query_start)) FILTER (WHERE state = 'active' \
                  AND backend_type = 'client backend' AND pid <> pg_backend_pid()), 0)::float8 AS longest_query_seconds \
                  FROM pg_stat_activity"
                .into(),
            columns: vec![
                ("lock_waiting", Usage::Gauge, "Sessions waiting for a lock"),
                ("longest_query_seconds", Usage::Gauge, "Seconds the longest active client statement has run"),
            ],
        },
        Query {
            namespace: "glctl_table",
            // The worst tables only: a partitioned table has hundreds of partitions.
            sql: "SELECT current_database() AS datname, schemaname, relname, n_dead_tup AS dead_tuples \
                  FROM pg_stat_user_tables ORDER BY n_dead_tup DESC LIMIT 20"
                .into(),
            columns: vec![
                ("datname", Usage::Label, "Database"),
                ("schemaname", Usage::Label, "Schema"),
                ("relname", Usage::Label, "Table"),
                ("dead_tuples", Usage::Gauge, "Dead tuples not yet vacuumed (pg_stat_user_tables.n_dead_tup)"),
            ],
        },
        Query {
            namespace: "glctl_replication",
            // Only a primary answers (HAVING): a replica, or a replica that is down, has no series.
            sql: "SELECT count(*) FILTER (WHERE state = 'streaming') AS streaming_replicas, \
                  coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::float8 AS max_replay_lag_bytes \
                  FROM pg_stat_replication HAVING NOT pg_is_in_recovery()"
                .into(),
            columns: vec![
                ("streaming_replicas", Usage::Gauge, "Replicas streaming from this primary"),
                ("max_replay_lag_bytes", Usage::Gauge, "WAL bytes the furthest-behind replica has not replayed"),
            ],
        },
        Query {
            namespace: "glctl_wal",
            sql: "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS position_bytes WHERE NOT pg_is_in_recovery()"
                .into(),
            columns: vec![("position_bytes", Usage::Gauge, "Current WAL position in bytes (rate() gives WAL written)")],
        },
    ];
    match env.timeseries.backend {
        Backend::Native => {
            queries.push(Query {
                namespace: "glctl_partman_default",
                // check_default returns only default partitions that hold rows: an empty one has no series.
                sql: "SELECT default_table, count AS rows FROM partman.check_default(p_exact_count => true)".into(),
                columns: vec![
                    ("default_table", Usage::Label, "Default partition"),
                    ("rows", Usage::Gauge, "Rows in the default partition (no child table covers their time)"),
                ],
            });
            queries.push(Query {
                namespace: "glctl_partman",
                sql: "SELECT c.parent_table, (extract(epoch FROM max(i.child_end_time) - now()) / 3600)::float8 AS runway_hours \
                      FROM partman.part_config c \
                      CROSS JOIN LATERAL partman.show_partitions(c.parent_table) p \
                      CROSS JOIN LATERAL partman.show_partition_info(p.partition_schemaname || '.' || p.partition_tablename, \
                      c.partition_interval, c.parent_table) i \
                      GROUP BY c.parent_table"
                    .into(),
                columns: vec![
                    ("parent_table", Usage::Label, "Partitioned table"),
                    ("runway_hours", Usage::Gauge, "Hours until the newest partition ends"),
                ],
            });
        }
        Backend::Timescaledb => queries.push(Query {
            namespace: "glctl_timescaledb_job",
            sql: "SELECT j.job_id::text AS job_id, j.proc_name, coalesce(j.hypertable_name, '') AS hypertable_name, \
                  coalesce(s.total_failures, 0)::float8 AS total_failures, \
                  CASE WHEN s.last_run_status = 'Failed' THEN 1 ELSE 0 END::float8 AS last_run_failed \
                  FROM timescaledb_information.jobs j JOIN timescaledb_information.job_stats s USING (job_id)"
                .into(),
            columns: vec![
                ("job_id", Usage::Label, "TimescaleDB job"),
                ("proc_name", Usage::Label, "What the job runs"),
                ("hypertable_name", Usage::Label, "Hypertable or continuous aggregate"),
                ("total_failures", Usage::Gauge, "Failed runs of the job"),
                ("last_run_failed", Usage::Gauge, "1 when the job's last run failed"),
            ],
        }),
    }
    queries
}

/// Queries for pg_cron's database (native backend).
pub fn cron_queries() -> Vec<Query> {
    vec![Query {
        namespace: "glctl_cron",
        // Finished runs only; a job that never succeeded counts from the server's start.
        sql: "SELECT j.jobname, j.database, \
              CASE WHEN last.status = 'failed' THEN 1 ELSE 0 END::float8 AS last_run_failed, \
              extract(epoch FROM now() - coalesce(ok.end_time, pg_postmaster_start_time()))::float8 AS seconds_since_success \
              FROM cron.job j \
              LEFT JOIN LATERAL (SELECT status FROM cron.job_run_details r WHERE r.jobid = j.jobid \
              AND r.status IN ('succeeded', 'failed') ORDER BY r.start_time DESC LIMIT 1) last ON true \
              LEFT JOIN LATERAL (SELECT max(end_time) AS end_time FROM cron.job_run_details r WHERE r.jobid = j.jobid \
              AND r.status = 'succeeded') ok ON true \
              WHERE j.active AND j.jobname IS NOT NULL"
            .into(),
        columns: vec![
            ("jobname", Usage::Label, "pg_cron job"),
            ("database", Usage::Label, "Database the job runs in"),
            ("last_run_failed", Usage::Gauge, "1 when the job's last finished run failed"),
            ("seconds_since_success", Usage::Gauge, "Seconds since the job last succeeded"),
        ],
    }]
}

/// A queries file in postgres_exporter's format.
pub fn render(queries: &[Query]) -> Value {
    let mut file = Map::new();
    for q in queries {
        let metrics: Vec<Value> = q
            .columns
            .iter()
            .map(|(column, usage, description)| {
                let usage = match usage {
                    Usage::Label => "LABEL",
                    Usage::Gauge => "GAUGE",
                };
                json!({ *column: { "usage": usage, "description": description } })
            })
            .collect();
        file.insert(q.namespace.into(), json!({ "query": q.sql, "metrics": metrics }));
    }
    Value::Object(file)
}
