//! Monitoring as code: from the environment's thresholds, the Prometheus rules (a plain rules file and a
//! `PrometheusRule`), postgres_exporter's custom queries and settings, Alertmanager's PagerDuty routing and
//! a Grafana dashboard, written by `glctl render` into `monitoring/` of the rendered directory.
//!
//! Everything comes from one definition (`rules.rs`, `queries.rs`, `dashboard.rs`), and every metric an
//! expression reads must exist: in `exporter_metrics.txt` (what postgres_exporter 0.11 exports, captured
//! from a real run by `scripts/exporter-metrics`), in glctl's own queries, or as a recording rule. Anything
//! else is a render error, not an alert that silently never fires.

pub mod alertmanager;
pub mod dashboard;
pub mod promql;
pub mod queries;
pub mod rules;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::model::{Backend, Environment, TlsMode};
use crate::config::Loaded;

/// What postgres_exporter 0.11 exports against PostgreSQL 15, one metric name a line (`scripts/exporter-metrics`).
pub const EXPORTER_METRICS: &str = include_str!("exporter_metrics.txt");

#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    /// A rule or panel reads a metric nothing exports (a defect of glctl's definition, caught at render).
    #[error(
        "the monitoring definition uses metrics that nothing exports (not postgres_exporter 0.11, not glctl's \
         queries, not a recording rule):\n  {}",
        .0.join("\n  ")
    )]
    UnknownMetrics(Vec<String>),
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// One rendered file: its path under `monitoring/` and its text.
pub struct File {
    pub path: &'static str,
    pub text: String,
}

/// Every metric name a rule or panel may use.
pub fn known_metrics(env: &Environment) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = EXPORTER_METRICS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    known.extend(queries::app_queries(env).iter().flat_map(|q| q.metrics().collect::<Vec<_>>()));
    if env.timeseries.backend == Backend::Native {
        known.extend(queries::cron_queries().iter().flat_map(|q| q.metrics().collect::<Vec<_>>()));
    }
    known.extend(rules::recording_rules().into_iter().map(|r| r.record.to_string()));
    known
}

/// Every expression glctl renders, with where it is.
pub fn expressions(env: &Environment) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        rules::recording_rules().into_iter().map(|r| (format!("recording rule {}", r.record), r.expr)).collect();
    out.extend(rules::alerts(env).into_iter().map(|a| (format!("alert {} ({})", a.name, a.severity.as_str()), a.expr)));
    out.extend(dashboard::expressions(env));
    out
}

fn check_metrics(env: &Environment) -> Result<(), MonitoringError> {
    let unknown = unknown_metrics(expressions(env), &known_metrics(env));
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(MonitoringError::UnknownMetrics(unknown))
    }
}

/// `WHERE: METRIC` for every metric an expression reads that is not `known`.
fn unknown_metrics(expressions: Vec<(String, String)>, known: &BTreeSet<String>) -> Vec<String> {
    expressions
        .into_iter()
        .flat_map(|(at, expr)| {
            promql::metric_names(&expr)
                .into_iter()
                .filter(|m| !known.contains(m))
                .map(move |m| format!("{at}: {m}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn header(name: &str, what: &str) -> String {
    format!("# {what} for the {name} database, rendered by glctl from its environment file; do not edit.\n")
}

fn yaml(value: &Value) -> String {
    serde_yaml_ng::to_string(value).expect("a JSON value is YAML")
}

/// The rule groups, as both the plain rules file and the PrometheusRule carry them.
pub fn rule_groups(env: &Environment, name: &str) -> Value {
    let records: Vec<Value> =
        rules::recording_rules().into_iter().map(|r| json!({ "record": r.record, "expr": r.expr })).collect();
    let alerts: Vec<Value> = rules::alerts(env)
        .into_iter()
        .map(|a| {
            let mut labels = serde_json::Map::new();
            labels.insert("severity".into(), a.severity.as_str().into());
            labels.insert("environment".into(), name.into());
            for (label, value) in a.labels {
                labels.insert(label.into(), value.into());
            }
            json!({
                "alert": a.name,
                "expr": a.expr,
                "for": a.for_,
                "labels": labels,
                "annotations": { "summary": a.summary, "description": a.description, "runbook": a.runbook },
            })
        })
        .collect();
    json!([
        { "name": format!("glctl-{name}-postgresql-records"), "rules": records },
        { "name": format!("glctl-{name}-postgresql-alerts"), "rules": alerts },
    ])
}

/// The exporter's settings: environment variables postgres_exporter 0.11 reads. The password comes from a
/// file (`DATA_SOURCE_PASS_FILE`) mounted from a secret, never from this file.
fn exporter_env(env: &Environment, name: &str, database: &str, queries: &str, only_queries: bool) -> String {
    let c = &env.connection;
    let host = c.host.clone().unwrap_or_else(|| "INSTANCE_ENDPOINT".into());
    let sslmode = match c.tls_mode {
        TlsMode::Disable => "disable".to_string(),
        TlsMode::Require => "require".to_string(),
        mode => format!(
            "{}&sslrootcert=/etc/postgres-exporter/ca/ca-bundle.pem",
            if mode == TlsMode::VerifyCa { "verify-ca" } else { "verify-full" }
        ),
    };
    format!(
        "{}# One exporter per instance (writer and each replica): INSTANCE_ENDPOINT is the instance's endpoint\n\
         # (`terraform output`, or the RDS console). The login needs the pg_monitor role; reading\n\
         # cron.job_run_details needs the job owner or rds_superuser.\n\
         DATA_SOURCE_URI={host}:{}/{database}?sslmode={sslmode}\n\
         DATA_SOURCE_USER=postgres_exporter\n\
         DATA_SOURCE_PASS_FILE=/etc/postgres-exporter/secrets/password\n\
         PG_EXPORTER_EXTEND_QUERY_PATH=/etc/postgres-exporter/{queries}\n{}",
        header(name, "postgres_exporter 0.11 settings"),
        c.port,
        if only_queries {
            "# Only glctl's queries: the built-in metrics come from the application database's exporter.\n\
             PG_EXPORTER_DISABLE_DEFAULT_METRICS=true\nPG_EXPORTER_DISABLE_SETTINGS_METRICS=true\n"
        } else {
            ""
        }
    )
}

/// pg_cron's database: `cron.database_name` from the parameters, PostgreSQL's default `postgres` otherwise.
pub fn cron_database(env: &Environment) -> String {
    env.parameters.get("cron.database_name").map(|v| v.0.clone()).unwrap_or_else(|| "postgres".into())
}

/// Renders every monitoring file of the environment, after checking every metric name.
pub fn render(loaded: &Loaded) -> Result<Vec<File>, MonitoringError> {
    let env = &loaded.environment;
    let name = loaded.name.as_str();
    check_metrics(env)?;
    let groups = rule_groups(env, name);
    let rule = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": format!("{}-{name}-postgresql", env.project),
            "labels": { "app.kubernetes.io/managed-by": "glctl", "glctl.environment": name },
        },
        "spec": { "groups": groups },
    });
    let app_db = env.connection.database.clone();
    let mut files = vec![
        File {
            path: "prometheus/rules.yaml",
            text: header(name, "Prometheus rules") + &yaml(&json!({ "groups": groups })),
        },
        File { path: "prometheus/prometheusrule.yaml", text: header(name, "PrometheusRule") + &yaml(&rule) },
        File {
            path: "exporter/queries.yaml",
            text: header(name, "postgres_exporter queries (application database)")
                + &yaml(&queries::render(&queries::app_queries(env))),
        },
        File { path: "exporter/exporter.env", text: exporter_env(env, name, &app_db, "queries.yaml", false) },
        File {
            path: "alertmanager/alertmanager.yaml",
            text: header(name, "Alertmanager routing") + &yaml(&alertmanager::render(env, name)),
        },
        File {
            path: "grafana/postgresql.json",
            text: dashboard::to_text(&dashboard::render(env, name, &format!("glctl-{name}-pg"))),
        },
    ];
    if env.timeseries.backend == Backend::Native {
        files.push(File {
            path: "exporter/cron-queries.yaml",
            text: header(name, "postgres_exporter queries (pg_cron's database)")
                + &yaml(&queries::render(&queries::cron_queries())),
        });
        files.push(File {
            path: "exporter/cron-exporter.env",
            text: exporter_env(env, name, &cron_database(env), "cron-queries.yaml", true),
        });
        // The collectors have command-line flags only (no variables): one flag a line.
        files.push(File {
            path: "exporter/cron-exporter.args",
            text: header(name, "postgres_exporter 0.11 flags of pg_cron's exporter")
                + "--no-collector.database\n--no-collector.bgwriter\n",
        });
    }
    Ok(files)
}

/// Writes the monitoring files into `dir` (replacing what an earlier render left there); returns how many.
pub fn write(loaded: &Loaded, dir: &Path) -> Result<usize, MonitoringError> {
    let files = render(loaded)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MonitoringError::Io { path, source }
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    for file in &files {
        let path = dir.join(file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &file.text).map_err(io(&path))?;
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(file: &str) -> Environment {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        crate::config::load(root, file).unwrap().environment
    }

    #[test]
    fn the_prd_s_metrics_that_nothing_exports_are_named_with_where_they_are_used() {
        let env = env("dev");
        let known = known_metrics(&env);
        let prd = vec![
            ("alert PostgreSQLReplicationLag".to_string(), "pg_replication_lag_bytes > 1048576".to_string()),
            ("alert PostgreSQLReplicaDown".to_string(), "pg_replication_is_replica == 0 and pg_up == 1".to_string()),
            (
                "panel Disk".to_string(),
                "node_filesystem_avail_bytes{mountpoint=\"/data\"} / node_filesystem_size_bytes".to_string(),
            ),
            ("alert Compression".to_string(), "increase(timescaledb_compression_errors_total[1h]) > 0".to_string()),
        ];
        assert_eq!(
            unknown_metrics(prd, &known),
            [
                "alert PostgreSQLReplicationLag: pg_replication_lag_bytes",
                "alert PostgreSQLReplicaDown: pg_replication_is_replica",
                "panel Disk: node_filesystem_avail_bytes",
                "panel Disk: node_filesystem_size_bytes",
                "alert Compression: timescaledb_compression_errors_total",
            ]
        );
    }

    #[test]
    fn every_shipped_environment_s_definition_uses_only_existing_metrics() {
        for name in ["dev", "staging", "prod", "local"] {
            let env = env(name);
            assert_eq!(unknown_metrics(expressions(&env), &known_metrics(&env)), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn the_list_holds_the_exporter_s_built_in_metrics_and_glctl_s_queries_add_theirs() {
        let env = env("dev");
        let known = known_metrics(&env);
        for m in ["pg_up", "pg_stat_activity_count", "pg_settings_max_connections", "pg_stat_database_blks_hit"] {
            assert!(known.contains(m), "{m}");
        }
        for m in ["glctl_cron_last_run_failed", "glctl_partman_default_rows", "glctl:pg_connections:ratio"] {
            assert!(known.contains(m), "{m}");
        }
        assert!(!known.contains("glctl_timescaledb_job_last_run_failed"), "dev is native");
    }

    #[test]
    fn connections_and_replica_lag_page_through_cloudwatch_on_rds_and_aurora_only() {
        let names = |file: &str| rules::alerts(&env(file)).into_iter().map(|a| a.name).collect::<Vec<_>>();
        for provisioned in ["dev", "staging", "prod"] {
            assert!(!names(provisioned).contains(&"PostgreSQLConnections"), "{provisioned}");
            assert!(!names(provisioned).contains(&"PostgreSQLReplicationLag"), "{provisioned}");
        }
        assert!(names("local").contains(&"PostgreSQLConnections"));
        // staging's RDS read replica streams; Aurora's readers (prod) do not appear in pg_stat_replication.
        assert!(names("staging").contains(&"PostgreSQLReplicaNotStreaming"));
        assert!(!names("prod").contains(&"PostgreSQLReplicaNotStreaming"));
    }

    #[test]
    fn no_rendered_file_holds_a_routing_key_only_the_file_it_is_read_from() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let loaded = crate::config::load(root, "prod").unwrap();
        let files = render(&loaded).unwrap();
        let am = files.iter().find(|f| f.path == "alertmanager/alertmanager.yaml").unwrap();
        assert!(am.text.contains("routing_key_file: /etc/alertmanager/secrets/pagerduty/routing-key"));
        assert!(!am.text.contains("routing_key:"), "{}", am.text);
        assert!(files.iter().all(|f| f.text.lines().count() < 700), "every file stays short");
    }
}
