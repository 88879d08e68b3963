//! The Grafana dashboard: PRD §6.3's panels that real metrics can draw, over the same recording rules the
//! alerts use, with a datasource and an instance variable.

use serde_json::{json, Value};

use super::rules::{CACHE_HIT_RATIO, CONNECTIONS_RATIO, TRANSACTIONS_RATE, WAL_BYTES_RATE};
use crate::config::model::{Backend, Environment};

pub struct Panel {
    pub title: &'static str,
    pub unit: &'static str,
    /// (expression, legend)
    pub targets: Vec<(String, &'static str)>,
    /// Warning and critical lines, when the panel draws a thresholded value.
    pub thresholds: Option<(u64, u64)>,
}

/// `{instance=~"$instance"}`: every panel follows the instance variable.
const I: &str = "{instance=~\"$instance\"}";

pub fn panels(env: &Environment) -> Vec<Panel> {
    let t = &env.monitoring.thresholds;
    let p = |title, unit, targets: Vec<(String, &'static str)>, thresholds| Panel { title, unit, targets, thresholds };
    let mut out = vec![
        p(
            "Connections (% of max_connections)",
            "percent",
            vec![(format!("{CONNECTIONS_RATIO}{I} * 100"), "{{instance}}")],
            Some((t.connections_percent.warning, t.connections_percent.critical)),
        ),
        p(
            "Sessions by state",
            "short",
            vec![(format!("sum by (instance, state) (pg_stat_activity_count{I})"), "{{instance}} {{state}}")],
            None,
        ),
        p("Transaction rate", "tps", vec![(format!("{TRANSACTIONS_RATE}{I}"), "{{instance}}")], None),
        p(
            "Buffer cache hit ratio (over 10 minutes)",
            "percentunit",
            vec![(format!("{CACHE_HIT_RATIO}{I}"), "{{instance}} {{datname}}")],
            None,
        ),
        p(
            "Replication",
            "bytes",
            vec![
                (format!("glctl_replication_max_replay_lag_bytes{I}"), "{{instance}} replay lag"),
                (format!("glctl_replication_streaming_replicas{I}"), "{{instance}} streaming replicas"),
            ],
            Some((t.replication_lag_bytes.warning, t.replication_lag_bytes.critical)),
        ),
        p(
            "WAL written per minute",
            "bytes",
            vec![(format!("{WAL_BYTES_RATE}{I} * 60"), "{{instance}}")],
            Some((t.wal_bytes_per_minute.warning, t.wal_bytes_per_minute.critical)),
        ),
        p(
            "Longest running statement",
            "s",
            vec![(format!("glctl_activity_longest_query_seconds{I}"), "{{instance}}")],
            Some((t.long_running_query_seconds.warning, t.long_running_query_seconds.critical)),
        ),
        p(
            "Lock waits",
            "short",
            vec![(format!("glctl_activity_lock_waiting{I}"), "{{instance}}")],
            Some((t.lock_waits.warning, t.lock_waits.critical)),
        ),
        p(
            "Dead tuples (worst tables)",
            "short",
            vec![(format!("topk(10, glctl_table_dead_tuples{I})"), "{{schemaname}}.{{relname}}")],
            Some((t.dead_tuples.warning, t.dead_tuples.critical)),
        ),
        p(
            "Transactions and rollbacks",
            "tps",
            vec![
                (format!("sum by (instance) (rate(pg_stat_database_xact_commit{I}[$__rate_interval]))"), "commits"),
                (format!("sum by (instance) (rate(pg_stat_database_xact_rollback{I}[$__rate_interval]))"), "rollbacks"),
            ],
            None,
        ),
    ];
    match env.timeseries.backend {
        Backend::Native => {
            // pg_cron's exporter is another target: its metrics carry that target's instance label.
            out.push(p(
                "pg_cron: time since each job last succeeded",
                "s",
                vec![("glctl_cron_seconds_since_success".into(), "{{jobname}}")],
                None,
            ));
            out.push(p(
                "pg_cron: jobs whose last run failed",
                "short",
                vec![("glctl_cron_last_run_failed == 1".into(), "{{jobname}}")],
                None,
            ));
            out.push(p(
                "pg_partman: rows in default partitions",
                "short",
                vec![(format!("glctl_partman_default_rows{I}"), "{{default_table}}")],
                None,
            ));
            out.push(p(
                "pg_partman: hours of premade partitions ahead",
                "h",
                vec![(format!("glctl_partman_runway_hours{I}"), "{{parent_table}}")],
                Some((t.partition_runway_hours.warning, t.partition_runway_hours.critical)),
            ));
        }
        Backend::Timescaledb => out.push(p(
            "TimescaleDB: job failures",
            "short",
            vec![(format!("glctl_timescaledb_job_total_failures{I}"), "{{proc_name}} {{hypertable_name}}")],
            None,
        )),
    }
    out
}

/// The dashboard JSON (Grafana's JSON model, schemaVersion 39).
pub fn render(env: &Environment, name: &str, uid: &str) -> Value {
    let datasource = json!({ "type": "prometheus", "uid": "${datasource}" });
    let panels: Vec<Value> = panels(env)
        .iter()
        .enumerate()
        .map(|(i, panel)| {
            let targets: Vec<Value> = panel
                .targets
                .iter()
                .enumerate()
                .map(|(j, (expr, legend))| {
                    json!({
                        "datasource": datasource,
                        "expr": expr,
                        "legendFormat": legend,
                        "refId": ((b'A' + j as u8) as char).to_string(),
                    })
                })
                .collect();
            let mut steps = vec![json!({ "color": "green", "value": null })];
            if let Some((warning, critical)) = panel.thresholds {
                steps.push(json!({ "color": "orange", "value": warning }));
                steps.push(json!({ "color": "red", "value": critical }));
            }
            let id = i + 1;
            json!({
                "id": id,
                "type": "timeseries",
                "title": panel.title,
                "datasource": datasource,
                "gridPos": { "h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8 },
                "fieldConfig": {
                    "defaults": {
                        "unit": panel.unit,
                        "thresholds": { "mode": "absolute", "steps": steps },
                        "custom": { "thresholdsStyle": { "mode": if panel.thresholds.is_some() { "line" } else { "off" } } },
                    },
                    "overrides": [],
                },
                "options": { "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true } },
                "targets": targets,
            })
        })
        .collect();
    json!({
        "uid": uid,
        "title": format!("PostgreSQL {name}"),
        "tags": ["glctl", "postgresql", name],
        "timezone": "utc",
        "editable": false,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "1m",
        "time": { "from": "now-6h", "to": "now" },
        "annotations": { "list": [] },
        "links": [],
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "hide": 0,
                },
                {
                    "name": "instance",
                    "label": "Instance",
                    "type": "query",
                    "datasource": datasource,
                    "query": "label_values(pg_up, instance)",
                    "definition": "label_values(pg_up, instance)",
                    "includeAll": true,
                    "multi": true,
                    "allValue": ".*",
                    "refresh": 2,
                    "sort": 1,
                    "hide": 0,
                },
            ]
        },
        "panels": panels,
    })
}

/// Every expression of the dashboard, with where it is (for the metric-name check), including the
/// variable's query (its metric).
pub fn expressions(env: &Environment) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = panels(env)
        .into_iter()
        .flat_map(|p| p.targets.into_iter().map(move |(expr, _)| (format!("dashboard panel '{}'", p.title), expr)))
        .collect();
    out.push(("dashboard variable 'instance'".into(), "pg_up".into()));
    out
}

/// The dashboard as text: pretty-printed, but one panel a line, so the file stays short and a change to a
/// panel is a one-line diff.
pub fn to_text(dashboard: &Value) -> String {
    let Value::Object(fields) = dashboard else { return format!("{dashboard}\n") };
    let body: Vec<String> = fields
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Array(panels) if key == "panels" => {
                    format!("[\n{}\n  ]", panels.iter().map(|p| format!("    {p}")).collect::<Vec<_>>().join(",\n"))
                }
                other => serde_json::to_string_pretty(other).expect("json").replace('\n', "\n  "),
            };
            format!("  {}: {value}", Value::String(key.clone()))
        })
        .collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}
