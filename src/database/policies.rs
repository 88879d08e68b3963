//! The time-series policy reconcilers share one result: `PolicyPlan`, a list of `Change`s (each with the
//! statement that makes it), what is missing, what is left alone, and problems found on the way. This
//! module is the TimescaleDB one; `native` is the pg_partman + pg_cron one. Both read the live state, diff it
//! against the environment with a pure function (unit-tested without a server), and apply the changes.
//!
//! TimescaleDB: makes the live chunk intervals, compression settings, compression and retention policies
//! and continuous-aggregate refresh policies match the environment file.
//!
//! It reads the live state from `timescaledb_information.*`, compares it with the environment and returns
//! the differences as changes, each with the one statement that makes it. `add_*_policy(if_not_exists =>
//! true)` leaves an existing policy with other arguments as it is, so a changed policy is altered in
//! place with `alter_job` (keeping its job id and history). Applying runs every change in one transaction;
//! a second run finds nothing to do.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio_postgres::Client;

use crate::config::interval::Interval;
use crate::config::model::{Environment, Hypertable};

const SCHEMA: &str = "public";

/// One difference between the database and the environment file, and the statement that removes it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Change {
    /// The hypertable or continuous aggregate.
    pub object: String,
    /// What differs: `chunk_interval`, `compression`, `compress_after`, `retention` or `refresh`.
    pub setting: String,
    /// The live value (`None`: not set).
    pub from: Option<String>,
    /// The value from the environment file (`None`: to be removed).
    pub to: Option<String>,
    /// Something the reader should know (e.g. a chunk interval only applies to new chunks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Drops data sooner than the live policy does (a shorter retention): `apply` needs --allow-destroy.
    pub destructive: bool,
    #[serde(skip)]
    pub statement: String,
    /// The statement runs in pg_cron's database (`cron.database_name`), not the application's.
    #[serde(skip)]
    pub on_cron_database: bool,
}

impl Change {
    pub(crate) fn new(
        object: &str,
        setting: &str,
        from: Option<String>,
        to: Option<String>,
        statement: String,
    ) -> Change {
        Change {
            object: object.to_string(),
            setting: setting.to_string(),
            from,
            to,
            note: None,
            destructive: false,
            statement,
            on_cron_database: false,
        }
    }

    pub fn describe(&self) -> String {
        let sign = match (&self.from, &self.to) {
            (None, _) => "+",
            (_, None) => "-",
            _ => "~",
        };
        let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        let mut line = format!("{sign} {} {}: {} -> {}", self.object, self.setting, value(&self.from), value(&self.to));
        if let Some(note) = &self.note {
            line.push_str(&format!(" ({note})"));
        }
        if self.destructive {
            line.push_str(" DESTRUCTIVE");
        }
        line
    }
}

/// What the reconciler found.
#[derive(Debug, Default, Serialize)]
pub struct PolicyPlan {
    pub changes: Vec<Change>,
    /// Hypertables or aggregates in the database that the environment does not mention: left alone.
    pub unmanaged: Vec<String>,
    /// Declared objects the database does not have yet (a pending migration creates them).
    pub missing: Vec<String>,
    /// Findings that are not a difference from the file (rows stuck in a default partition, no scheduler).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// What the plan chose where the file is silent, and the state of scheduled jobs, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Declared settings the reconciler read and found as declared: what `verify` passes on. An empty diff
    /// alone proves nothing, since a setting that could not be compared shows no difference either. Not
    /// part of `plan`'s output (it lists differences).
    #[serde(skip)]
    pub matched: Vec<Compared>,
    /// Declared settings the reconciler could not compare, each with why (the table does not exist, is not
    /// partitioned, pg_partman is not installed or does not manage it). `plan` shows the cause under
    /// `missing` or as a change; `verify` fails the setting with this reason.
    #[serde(skip)]
    pub not_compared: Vec<Compared>,
}

/// One declared setting of one object, and what the reconciler found: the live value (in `matched`) or
/// why it could not compare it (in `not_compared`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compared {
    pub object: String,
    pub setting: String,
    pub detail: String,
}

impl Compared {
    pub(crate) fn new(object: &str, setting: &str, detail: impl Into<String>) -> Compared {
        Compared { object: object.to_string(), setting: setting.to_string(), detail: detail.into() }
    }
}

/// The live state of one hypertable.
#[derive(Debug, Default)]
struct LiveHypertable {
    chunk_interval: Option<String>,
    compression_enabled: bool,
    segment_by: String,
    order_by: String,
    compress_job: Option<Job>,
    retention_job: Option<Job>,
}

#[derive(Clone, Debug)]
struct Job {
    id: i32,
    config: serde_json::Value,
    schedule_interval: String,
}

#[derive(Debug, Default)]
struct Live {
    hypertables: BTreeMap<String, LiveHypertable>,
    aggregates: BTreeMap<String, Option<Job>>,
    /// `materialized_only` of each continuous aggregate (false: real-time).
    materialized_only: BTreeMap<String, bool>,
}

/// Whether the server has TimescaleDB installed in this database.
async fn timescaledb_installed(client: &Client) -> Result<bool, tokio_postgres::Error> {
    Ok(client.query_opt("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'", &[]).await?.is_some())
}

async fn read_live(client: &Client) -> Result<Live, tokio_postgres::Error> {
    let mut live = Live::default();
    if !timescaledb_installed(client).await? {
        return Ok(live);
    }
    for row in client
        .query(
            "SELECT hypertable_name::text, compression_enabled FROM timescaledb_information.hypertables
             WHERE hypertable_schema = $1",
            &[&SCHEMA],
        )
        .await?
    {
        let entry = live.hypertables.entry(row.get(0)).or_default();
        entry.compression_enabled = row.get(1);
    }
    for row in client
        .query(
            "SELECT hypertable_name::text, time_interval::text FROM timescaledb_information.dimensions
             WHERE hypertable_schema = $1 AND dimension_number = 1",
            &[&SCHEMA],
        )
        .await?
    {
        if let Some(h) = live.hypertables.get_mut(row.get::<_, &str>(0)) {
            h.chunk_interval = row.get(1);
        }
    }
    for row in client
        .query(
            "SELECT c.relname::text, coalesce(s.segmentby, ''), coalesce(s.orderby, '')
             FROM timescaledb_information.hypertable_compression_settings s
             JOIN pg_class c ON c.oid = s.hypertable JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1",
            &[&SCHEMA],
        )
        .await?
    {
        if let Some(h) = live.hypertables.get_mut(row.get::<_, &str>(0)) {
            h.segment_by = row.get(1);
            h.order_by = row.get(2);
        }
    }
    for row in client
        .query(
            "SELECT view_name::text, materialized_only FROM timescaledb_information.continuous_aggregates
             WHERE view_schema = $1",
            &[&SCHEMA],
        )
        .await?
    {
        live.aggregates.insert(row.get(0), None);
        live.materialized_only.insert(row.get(0), row.get(1));
    }
    for row in client
        .query(
            "SELECT job_id, proc_name::text, hypertable_name::text, config::text, schedule_interval::text
             FROM timescaledb_information.jobs
             WHERE hypertable_schema = $1
               AND proc_name IN ('policy_compression', 'policy_retention', 'policy_refresh_continuous_aggregate')
             ORDER BY job_id",
            &[&SCHEMA],
        )
        .await?
    {
        let config: Option<String> = row.get(3);
        let job = Job {
            id: row.get(0),
            config: config.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or(serde_json::Value::Null),
            schedule_interval: row.get(4),
        };
        let target: String = row.get(2);
        match row.get::<_, &str>(1) {
            "policy_compression" => live.hypertables.entry(target).or_default().compress_job = Some(job),
            "policy_retention" => live.hypertables.entry(target).or_default().retention_job = Some(job),
            _ => {
                live.aggregates.insert(target, Some(job));
            }
        }
    }
    Ok(live)
}

/// Reads the database and lists what differs from `env`.
pub async fn plan(client: &Client, env: &Environment) -> Result<PolicyPlan, tokio_postgres::Error> {
    let live = read_live(client).await?;
    Ok(diff(env, &live))
}

/// Runs every change in one transaction.
pub async fn apply(client: &mut Client, changes: &[&Change]) -> Result<(), String> {
    if changes.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await.map_err(|e| e.to_string())?;
    for change in changes {
        tx.batch_execute(&change.statement).await.map_err(|e| {
            let reason = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string());
            format!("{}: {reason}; no policy was changed", change.describe())
        })?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}

fn diff(env: &Environment, live: &Live) -> PolicyPlan {
    let mut plan = PolicyPlan::default();
    for (name, wanted) in &env.hypertables {
        let present = live.hypertables.get(name).filter(|h| h.chunk_interval.is_some());
        if present.is_none() {
            plan.missing.push(name.clone());
        }
        let empty = LiveHypertable::default();
        hypertable_changes(name, wanted, present.unwrap_or(&empty), present.is_some(), &mut plan.changes);
        if present.is_none() {
            continue;
        }
        // What was read and left unchanged is as declared.
        let declared = [
            ("chunk_interval", Some(wanted.chunk_interval.to_string())),
            (
                "compression",
                wanted
                    .compression
                    .as_ref()
                    .map(|c| format!("segment_by [{}] order_by [{}]", c.segment_by.join(","), c.order_by.join(","))),
            ),
            ("compress_after", wanted.compression.as_ref().map(|c| c.after.to_string())),
            ("retention", Some(wanted.retention.map_or_else(|| "(none)".to_string(), |r| r.to_string()))),
        ];
        for (setting, value) in declared {
            let Some(value) = value else { continue };
            if !plan.changes.iter().any(|c| c.object == *name && c.setting == setting) {
                plan.matched.push(Compared::new(name, setting, value));
            }
        }
    }
    for (name, wanted) in &env.continuous_aggregates {
        let job = match live.aggregates.get(name) {
            Some(job) => job.as_ref(),
            None => {
                plan.missing.push(name.clone());
                None
            }
        };
        if let Some(materialized_only) = live.materialized_only.get(name) {
            if *materialized_only == wanted.real_time {
                let shown = |real: bool| if real { "real-time" } else { "materialized only" }.to_string();
                plan.changes.push(Change::new(
                    name,
                    "real_time",
                    Some(shown(!*materialized_only)),
                    Some(shown(wanted.real_time)),
                    format!(
                        "ALTER MATERIALIZED VIEW {} SET (timescaledb.materialized_only = {});",
                        qualified(name),
                        !wanted.real_time
                    ),
                ));
            }
        }
        let r = &wanted.refresh;
        let want = format!("{} to {} every {}", r.start_offset, r.end_offset, r.schedule_interval);
        let regclass = literal(&qualified(name));
        match job {
            None => plan.changes.push(Change::new(
                name,
                "refresh",
                None,
                Some(want),
                format!(
                    "SELECT add_continuous_aggregate_policy({regclass}, start_offset => INTERVAL '{}', end_offset => INTERVAL '{}', schedule_interval => INTERVAL '{}');",
                    r.start_offset, r.end_offset, r.schedule_interval
                ),
            )),
            Some(job) => {
                let same = same_interval(job.config["start_offset"].as_str(), &r.start_offset)
                    && same_interval(job.config["end_offset"].as_str(), &r.end_offset)
                    && same_interval(Some(&job.schedule_interval), &r.schedule_interval);
                if !same {
                    let mut config = job.config.clone();
                    config["start_offset"] = r.start_offset.to_string().into();
                    config["end_offset"] = r.end_offset.to_string().into();
                    let from = format!(
                        "{} to {} every {}",
                        shown(job.config["start_offset"].as_str()),
                        shown(job.config["end_offset"].as_str()),
                        shown(Some(&job.schedule_interval))
                    );
                    plan.changes.push(Change::new(
                        name,
                        "refresh",
                        Some(from),
                        Some(want),
                        format!(
                            "SELECT alter_job({}, schedule_interval => INTERVAL '{}', config => {}::jsonb);",
                            job.id,
                            r.schedule_interval,
                            literal(&config.to_string())
                        ),
                    ));
                }
            }
        }
    }
    for name in live.hypertables.keys().chain(live.aggregates.keys()) {
        if !env.hypertables.contains_key(name) && !env.continuous_aggregates.contains_key(name) {
            plan.unmanaged.push(name.clone());
        }
    }
    plan
}

fn hypertable_changes(name: &str, wanted: &Hypertable, live: &LiveHypertable, exists: bool, out: &mut Vec<Change>) {
    let regclass = literal(&qualified(name));
    let change = |setting: &str, from, to, statement| Change::new(name, setting, from, to, statement);
    // A new hypertable gets its interval from the migration that creates it; only compare existing ones.
    if exists && !same_interval(live.chunk_interval.as_deref(), &wanted.chunk_interval) {
        let mut c = change(
            "chunk_interval",
            live.chunk_interval.clone(),
            Some(wanted.chunk_interval.to_string()),
            format!("SELECT set_chunk_time_interval({regclass}, INTERVAL '{}');", wanted.chunk_interval),
        );
        c.note = Some("applies to chunks created from now on".into());
        out.push(c);
    }
    match &wanted.compression {
        Some(compression) => {
            let segment_by = compression.segment_by.iter().map(|c| normalise_column(c)).collect::<Vec<_>>().join(",");
            let order_by = compression.order_by.iter().map(|c| normalise_order(c)).collect::<Vec<_>>().join(",");
            let live_order = live.order_by.split(',').map(normalise_order).collect::<Vec<_>>().join(",");
            let live_segment = live.segment_by.split(',').map(normalise_column).collect::<Vec<_>>().join(",");
            if !live.compression_enabled || live_segment != segment_by || live_order != order_by {
                let shown_settings = |seg: &str, ord: &str| format!("segment_by [{seg}] order_by [{ord}]");
                out.push(change(
                    "compression",
                    live.compression_enabled.then(|| shown_settings(&live.segment_by, &live.order_by)),
                    Some(shown_settings(&compression.segment_by.join(","), &compression.order_by.join(","))),
                    format!(
                        "ALTER TABLE {} SET (timescaledb.compress, timescaledb.compress_segmentby = {}, timescaledb.compress_orderby = {});",
                        qualified(name),
                        literal(&compression.segment_by.join(", ")),
                        literal(&compression.order_by.join(", "))
                    ),
                ));
            }
            policy_change(
                name,
                "compress_after",
                live.compress_job.as_ref(),
                "compress_after",
                Some(&compression.after),
                &format!("SELECT add_compression_policy({regclass}, INTERVAL '{}');", compression.after),
                &format!("SELECT remove_compression_policy({regclass});"),
                out,
            );
        }
        None => policy_change(
            name,
            "compress_after",
            live.compress_job.as_ref(),
            "compress_after",
            None,
            "",
            &format!("SELECT remove_compression_policy({regclass});"),
            out,
        ),
    }
    let add_retention = wanted
        .retention
        .map(|r| format!("SELECT add_retention_policy({regclass}, INTERVAL '{r}');"))
        .unwrap_or_default();
    policy_change(
        name,
        "retention",
        live.retention_job.as_ref(),
        "drop_after",
        wanted.retention.as_ref(),
        &add_retention,
        &format!("SELECT remove_retention_policy({regclass});"),
        out,
    );
}

/// A policy whose one interval lives in `config[key]`: added, altered in place, or removed.
#[allow(clippy::too_many_arguments)]
fn policy_change(
    object: &str,
    setting: &str,
    live: Option<&Job>,
    key: &str,
    wanted: Option<&Interval>,
    add: &str,
    remove: &str,
    out: &mut Vec<Change>,
) {
    let change = |from, to, statement| Change::new(object, setting, from, to, statement);
    match (live, wanted) {
        (None, None) => {}
        (None, Some(want)) => out.push(change(None, Some(want.to_string()), add.to_string())),
        (Some(job), None) => out.push(change(Some(shown(job.config[key].as_str())), None, remove.to_string())),
        (Some(job), Some(want)) => {
            if !same_interval(job.config[key].as_str(), want) {
                let mut config = job.config.clone();
                config[key] = want.to_string().into();
                let mut c = change(
                    Some(shown(job.config[key].as_str())),
                    Some(want.to_string()),
                    format!("SELECT alter_job({}, config => {}::jsonb);", job.id, literal(&config.to_string())),
                );
                let live = job.config[key].as_str().and_then(|t| Interval::parse_postgres(t).ok());
                if setting == "retention" && live.is_some_and(|l| want.approx_seconds() < l.approx_seconds()) {
                    c.destructive = true;
                    c.note = Some(format!("drops data older than {want} at the next run"));
                }
                out.push(c);
            }
        }
    }
}

/// The diff of a database with nothing in it (no TimescaleDB, no hypertables): what `verify` sees on a
/// readable but empty database.
#[cfg(test)]
pub(crate) fn diff_of_an_empty_database(env: &Environment) -> PolicyPlan {
    diff(env, &Live::default())
}

/// Compares a catalog interval with the environment's exactly (a month is not 30 days to TimescaleDB).
pub(crate) fn same_interval(live: Option<&str>, wanted: &Interval) -> bool {
    live.and_then(|text| Interval::parse_postgres(text).ok()).is_some_and(|i| i == *wanted)
}

pub(crate) fn shown(live: Option<&str>) -> String {
    match live.map(|t| (t, Interval::parse_postgres(t))) {
        Some((_, Ok(interval))) => interval.to_string(),
        Some((text, Err(_))) => text.to_string(),
        None => "(none)".into(),
    }
}

fn normalise_column(column: &str) -> String {
    column.trim().trim_matches('"').to_string()
}

/// `time DESC`, `time desc nulls first` and `"time" DESC` are the same order (DESC puts nulls first).
fn normalise_order(item: &str) -> String {
    let words: Vec<String> = item.split_whitespace().map(|w| w.to_string()).collect();
    let Some((column, rest)) = words.split_first() else {
        return String::new();
    };
    let rest = rest.iter().map(|w| w.to_ascii_uppercase()).collect::<Vec<_>>().join(" ");
    let descending = rest.starts_with("DESC");
    let nulls = if rest.ends_with("NULLS FIRST") {
        "NULLS FIRST"
    } else if rest.ends_with("NULLS LAST") {
        "NULLS LAST"
    } else if descending {
        "NULLS FIRST"
    } else {
        "NULLS LAST"
    };
    format!("{} {} {nulls}", column.trim_matches('"'), if descending { "DESC" } else { "ASC" })
}

pub(crate) fn qualified(name: &str) -> String {
    format!("{}.{}", ident(SCHEMA), ident(name))
}

pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::{diff, normalise_order, same_interval, Job, Live, LiveHypertable};
    use crate::config::interval::Interval;
    use crate::config::model::Environment;

    fn env(retention: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '17.5' }}\ntimeseries: {{ backend: timescaledb }}\n\
             hypertables:\n  readings:\n    time_column: t\n    chunk_interval: 1 day\n\
             \x20   compression: {{ segment_by: [device], order_by: [t DESC], after: 7 days }}\n{retention}\
             continuous_aggregates:\n  hourly:\n    source: readings\n    bucket: 1 hour\n\
             \x20   refresh: {{ start_offset: 3 hours, end_offset: 1 hour, schedule_interval: 1 hour }}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn job(id: i32, config: serde_json::Value, schedule: &str) -> Option<Job> {
        Some(Job { id, config, schedule_interval: schedule.into() })
    }

    /// The database exactly as `env("    retention: 30 days\n")` declares it.
    fn matching_live() -> Live {
        let mut live = Live::default();
        live.hypertables.insert(
            "readings".into(),
            LiveHypertable {
                chunk_interval: Some("1 day".into()),
                compression_enabled: true,
                segment_by: "device".into(),
                order_by: "t DESC".into(),
                compress_job: job(1000, serde_json::json!({"compress_after": "7 days"}), "12:00:00"),
                retention_job: job(1001, serde_json::json!({"drop_after": "30 days"}), "1 day"),
            },
        );
        live.aggregates.insert(
            "hourly".into(),
            job(1002, serde_json::json!({"start_offset": "03:00:00", "end_offset": "01:00:00"}), "01:00:00"),
        );
        live.materialized_only.insert("hourly".into(), true);
        live
    }

    #[test]
    fn a_real_time_aggregate_is_switched_in_place() {
        let mut real_time = env("    retention: 30 days\n");
        real_time.continuous_aggregates.get_mut("hourly").unwrap().real_time = true;
        let plan = diff(&real_time, &matching_live());
        assert_eq!(plan.changes.len(), 1, "{:#?}", plan.changes);
        assert_eq!(plan.changes[0].describe(), "~ hourly real_time: materialized only -> real-time");
        assert_eq!(
            plan.changes[0].statement,
            "ALTER MATERIALIZED VIEW \"public\".\"hourly\" SET (timescaledb.materialized_only = false);"
        );
    }

    #[test]
    fn a_database_that_matches_has_no_changes() {
        let plan = diff(&env("    retention: 30 days\n"), &matching_live());
        assert!(plan.changes.is_empty(), "{:#?}", plan.changes);
        assert!(plan.missing.is_empty() && plan.unmanaged.is_empty());
        let matched: Vec<String> = plan.matched.iter().map(|c| format!("{} {}", c.object, c.setting)).collect();
        assert_eq!(
            matched,
            ["readings chunk_interval", "readings compression", "readings compress_after", "readings retention"],
            "what verify passes on"
        );
        let empty = diff(&env("    retention: 30 days\n"), &Live::default());
        assert!(empty.matched.is_empty(), "nothing read, nothing matched");
    }

    #[test]
    fn an_empty_database_lists_what_is_missing_and_adds_every_policy() {
        let plan = diff(&env("    retention: 30 days\n"), &Live::default());
        assert_eq!(plan.missing, ["readings", "hourly"]);
        let described: Vec<String> = plan.changes.iter().map(|c| c.describe()).collect();
        assert_eq!(
            described,
            [
                "+ readings compression: (none) -> segment_by [device] order_by [t DESC]",
                "+ readings compress_after: (none) -> 7 days",
                "+ readings retention: (none) -> 30 days",
                "+ hourly refresh: (none) -> 3 hours to 1 hour every 1 hour",
            ]
        );
        assert!(plan.changes[2].statement.starts_with("SELECT add_retention_policy('\"public\".\"readings\"'"));
    }

    #[test]
    fn a_shorter_retention_is_altered_in_place_and_destructive() {
        let plan = diff(&env("    retention: 7 days\n"), &matching_live());
        assert_eq!(plan.changes.len(), 1, "{:#?}", plan.changes);
        let change = &plan.changes[0];
        assert!(change.destructive);
        assert_eq!(
            change.describe(),
            "~ readings retention: 30 days -> 7 days (drops data older than 7 days at the next run) DESTRUCTIVE"
        );
        assert_eq!(change.statement, "SELECT alter_job(1001, config => '{\"drop_after\":\"7 days\"}'::jsonb);");
    }

    #[test]
    fn a_longer_retention_is_not_destructive() {
        let plan = diff(&env("    retention: 1 year\n"), &matching_live());
        assert_eq!(plan.changes.len(), 1);
        assert!(!plan.changes[0].destructive);
    }

    #[test]
    fn a_retention_the_file_no_longer_declares_is_removed() {
        let plan = diff(&env(""), &matching_live());
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].describe(), "- readings retention: 30 days -> (none)");
        assert_eq!(plan.changes[0].statement, "SELECT remove_retention_policy('\"public\".\"readings\"');");
    }

    #[test]
    fn a_changed_refresh_window_keeps_the_job_and_its_other_settings() {
        let mut live = matching_live();
        live.aggregates.insert(
            "hourly".into(),
            job(
                1002,
                serde_json::json!({"start_offset": "02:00:00", "end_offset": "01:00:00", "mat_hypertable_id": 3}),
                "01:00:00",
            ),
        );
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert_eq!(plan.changes.len(), 1);
        let statement = &plan.changes[0].statement;
        assert!(statement.starts_with("SELECT alter_job(1002, schedule_interval => INTERVAL '1 hour'"), "{statement}");
        assert!(
            statement.contains("\"mat_hypertable_id\":3") && statement.contains("\"start_offset\":\"3 hours\""),
            "{statement}"
        );
    }

    #[test]
    fn objects_the_file_does_not_name_are_listed_and_left_alone() {
        let mut live = matching_live();
        live.hypertables
            .insert("legacy".into(), LiveHypertable { chunk_interval: Some("7 days".into()), ..Default::default() });
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert_eq!(plan.unmanaged, ["legacy"]);
        assert!(plan.changes.is_empty());
    }

    #[test]
    fn a_changed_chunk_interval_says_it_applies_to_new_chunks() {
        let mut live = matching_live();
        live.hypertables.get_mut("readings").unwrap().chunk_interval = Some("7 days".into());
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert_eq!(
            plan.changes[0].describe(),
            "~ readings chunk_interval: 7 days -> 1 day (applies to chunks created from now on)"
        );
    }

    #[test]
    fn catalog_intervals_compare_exactly() {
        let hour = Interval::parse("1 hour").unwrap();
        assert!(same_interval(Some("01:00:00"), &hour));
        assert!(same_interval(Some("7 years"), &Interval::parse("7 years").unwrap()));
        assert!(same_interval(Some("7 mons"), &Interval::parse("7 months").unwrap()));
        assert!(!same_interval(Some("30 days"), &Interval::parse("1 month").unwrap()));
        assert!(!same_interval(None, &hour));
    }

    #[test]
    fn order_by_spellings_that_mean_the_same_compare_equal() {
        assert_eq!(normalise_order("event_time DESC"), normalise_order("\"event_time\" desc nulls first"));
        assert_ne!(normalise_order("event_time DESC"), normalise_order("event_time"));
    }
}
