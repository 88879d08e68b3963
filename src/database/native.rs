//! The native time-series backend's reconciler (RDS and Aurora, which offer no TimescaleDB): pg_partman keeps
//! each declared table's range partitions made ahead and drops those past retention; pg_cron runs partman's
//! maintenance and refreshes each summary (a materialized view) on the environment's schedule.
//!
//! Like the TimescaleDB reconciler it reads the live state (`partman.part_config`, `check_default()`,
//! `pg_matviews`, `cron.job`), diffs it against the environment with a pure function and returns a
//! `PolicyPlan`. The pg_partman version is read from the server (4.x takes `p_type => 'native'`, 5.x does
//! not); pg_cron's jobs live in its own database (`cron.database_name`) and are created there with
//! `cron.schedule_in_database`, named `glctl:<database>:…` so jobs glctl did not create are left alone.
//!
//! Partitions are made ahead of *now* (`infinite_time_partitions = true`), not of the newest row: with
//! `false`, pg_partman 4.7's `run_maintenance` premakes only ahead of the newest data, so a quiet week of
//! uploads leaves no partition for the next row, which lands in the default partition. What makes a
//! far-future row create partitions for years is the default partition's newest row, which maintenance
//! uses unless `ignore_default_data = true` (5.x's default); glctl sets it, and `plan` reports rows in a
//! default partition as a problem instead.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Client;

use super::policies::{ident, literal, qualified, same_interval, shown, Change, Compared, PolicyPlan};
use crate::config::interval::Interval;
use crate::config::model::Environment;

/// Partitions made ahead must outlast this much time without maintenance (a weekend of failed runs and a
/// margin): premake is at least this long, and never less than pg_partman's default of 4.
pub const PREMAKE_HORIZON_DAYS: i64 = 7;
/// Maintenance runs hourly, at this minute (off the hour, when many other jobs start).
pub const MAINTENANCE_SCHEDULE: &str = "7 * * * *";
/// The heartbeat (migration 0008) is written every minute: a restore's exactness is checked against it.
pub const HEARTBEAT_SCHEDULE: &str = "* * * * *";

/// Partitions ahead for `interval`: enough to cover `PREMAKE_HORIZON_DAYS`, at least 4.
pub fn premake_for(interval: &Interval) -> i32 {
    let horizon = PREMAKE_HORIZON_DAYS * 86_400;
    let each = interval.approx_seconds().max(1);
    let needed = (horizon + each - 1) / each;
    i32::try_from(needed.max(4)).unwrap_or(i32::MAX)
}

/// pg_partman as installed in the application database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partman {
    pub schema: String,
    pub version: String,
}

impl Partman {
    fn major(&self) -> u32 {
        self.version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0)
    }
}

/// One row of `part_config`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartConfig {
    pub interval: String,
    pub premake: i32,
    pub retention: Option<String>,
    pub retention_keep_table: bool,
    pub infinite_time_partitions: bool,
    pub ignore_default_data: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronJob {
    pub id: i64,
    pub name: String,
    pub schedule: String,
    pub command: String,
    pub database: String,
    /// Status and start time of the most recent run, if any.
    pub last_run: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cron {
    /// pg_cron is not in shared_preload_libraries: nothing can be scheduled.
    NotLoaded,
    /// Loaded, but `CREATE EXTENSION pg_cron` has not run in its database yet.
    NotCreated {
        database: String,
    },
    Ready {
        database: String,
        jobs: Vec<CronJob>,
    },
}

/// The live state the native reconciler compares.
#[derive(Clone, Debug)]
pub struct NativeLive {
    pub database: String,
    pub partman: Option<Partman>,
    /// Partitioned tables in the schema.
    pub partitioned: BTreeSet<String>,
    pub configs: BTreeMap<String, PartConfig>,
    /// Rows in each table's default partition.
    pub default_rows: BTreeMap<String, i64>,
    /// Materialized views: populated?
    pub summaries: BTreeMap<String, bool>,
    pub cron: Cron,
}

const SCHEMA: &str = "public";

/// Reads the live state: `app` is the application database, `cron_db` a connection to pg_cron's database
/// when that is another one.
pub async fn read_live(app: &Client, cron_db: Option<&Client>) -> Result<NativeLive, tokio_postgres::Error> {
    let row =
        app.query_one("SELECT current_database()::text, current_setting('cron.database_name', true)", &[]).await?;
    let database: String = row.get(0);
    let cron_name: Option<String> = row.get(1);
    let partman = app
        .query_opt(
            "SELECT n.nspname::text, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
             WHERE e.extname = 'pg_partman'",
            &[],
        )
        .await?
        .map(|r| Partman { schema: r.get(0), version: r.get(1) });
    let partitioned = app
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'p' AND n.nspname = $1",
            &[&SCHEMA],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut configs = BTreeMap::new();
    let mut default_rows = BTreeMap::new();
    if let Some(p) = &partman {
        let schema = ident(&p.schema);
        for r in app
            .query(
                &format!(
                    "SELECT parent_table, partition_interval, premake, retention, retention_keep_table,
                            infinite_time_partitions, ignore_default_data FROM {schema}.part_config"
                ),
                &[],
            )
            .await?
        {
            let parent: String = r.get(0);
            let Some(table) = parent.strip_prefix(&format!("{SCHEMA}.")) else { continue };
            configs.insert(
                table.to_string(),
                PartConfig {
                    interval: r.get(1),
                    premake: r.get(2),
                    retention: r.get(3),
                    retention_keep_table: r.get(4),
                    infinite_time_partitions: r.get(5),
                    ignore_default_data: r.get(6),
                },
            );
        }
        for r in app
            .query(&format!("SELECT default_table, count FROM {schema}.check_default(p_exact_count => true)"), &[])
            .await?
        {
            let default_table: String = r.get(0);
            let table =
                default_table.trim_start_matches(&format!("{SCHEMA}.")).trim_end_matches("_default").to_string();
            default_rows.insert(table, r.get::<_, i64>(1));
        }
    }
    let summaries = app
        .query("SELECT matviewname::text, ispopulated FROM pg_matviews WHERE schemaname = $1", &[&SCHEMA])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let cron = match cron_name {
        None => Cron::NotLoaded,
        Some(cron_database) => {
            let client = if cron_database == database { app } else { cron_db.unwrap_or(app) };
            read_cron(client, cron_database).await?
        }
    };
    Ok(NativeLive { database, partman, partitioned, configs, default_rows, summaries, cron })
}

async fn read_cron(client: &Client, database: String) -> Result<Cron, tokio_postgres::Error> {
    let created = client.query_opt("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'", &[]).await?.is_some();
    if !created {
        return Ok(Cron::NotCreated { database });
    }
    let jobs = client
        .query(
            "SELECT j.jobid, coalesce(j.jobname, '')::text, j.schedule, j.command, j.database,
                    d.status, d.start_time::text
             FROM cron.job j
             LEFT JOIN LATERAL (SELECT status, start_time FROM cron.job_run_details r WHERE r.jobid = j.jobid
                                ORDER BY start_time DESC NULLS LAST LIMIT 1) d ON true
             ORDER BY j.jobid",
            &[],
        )
        .await?
        .iter()
        .map(|r| CronJob {
            id: r.get(0),
            name: r.get(1),
            schedule: r.get(2),
            command: r.get(3),
            database: r.get(4),
            last_run: r
                .get::<_, Option<String>>(5)
                .map(|status| (status, r.get::<_, Option<String>>(6).unwrap_or_default())),
        })
        .collect();
    Ok(Cron::Ready { database, jobs })
}

/// A job glctl wants pg_cron to run.
#[derive(Debug, PartialEq, Eq)]
struct WantedJob {
    name: String,
    schedule: String,
    command: String,
}

fn wanted_jobs(env: &Environment, live: &NativeLive, partman_schema: &str) -> Vec<WantedJob> {
    let mut jobs = vec![WantedJob {
        name: job_name(&live.database, "partman-maintenance"),
        schedule: MAINTENANCE_SCHEDULE.into(),
        command: format!("CALL {}.run_maintenance_proc()", ident(partman_schema)),
    }];
    jobs.push(WantedJob {
        name: job_name(&live.database, "heartbeat"),
        schedule: HEARTBEAT_SCHEDULE.into(),
        command: "INSERT INTO \"public\".glctl_heartbeat (source) VALUES ('pg_cron')".into(),
    });
    for (name, cagg) in &env.continuous_aggregates {
        // Validate refuses a schedule with no cron equivalent; a stray one is skipped rather than guessed.
        let Ok(schedule) = cagg.refresh.schedule_interval.as_cron_schedule() else { continue };
        jobs.push(WantedJob {
            name: job_name(&live.database, &format!("refresh:{name}")),
            schedule,
            command: format!("REFRESH MATERIALIZED VIEW CONCURRENTLY {}", qualified(name)),
        });
    }
    jobs
}

/// `glctl:<database>:<what>`, at most 63 bytes (pg_cron keeps job names as `name`, which truncates): a
/// longer one is cut and ends in a hash of the whole, so it stays unique and the same on every run.
pub(crate) fn job_name(database: &str, what: &str) -> String {
    const MAX: usize = 63;
    let full = format!("glctl:{database}:{what}");
    if full.len() <= MAX {
        return full;
    }
    let hash = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(full.as_bytes()));
    let mut cut = MAX - 9;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{}", &full[..cut], &hash[..8])
}

/// glctl's jobs for this database: named `glctl:…` and running in it.
fn is_ours(job: &CronJob, database: &str) -> bool {
    job.name.starts_with("glctl:") && job.database == database
}

/// Lists what differs between `env` and `live`, each with its statement.
pub fn diff(env: &Environment, live: &NativeLive) -> PolicyPlan {
    let mut plan = PolicyPlan::default();
    let Some(partman) = &live.partman else {
        plan.missing.push("pg_partman (created by migration 0002)".into());
        // Nothing can be compared, and nothing is as declared: say so for every declared setting.
        for (name, table) in &env.hypertables {
            let why = "pg_partman is not installed (migration 0002 creates it)";
            not_compared(&mut plan, name, table, why);
        }
        return plan;
    };
    let schema = ident(&partman.schema);
    for (name, table) in &env.hypertables {
        if !live.partitioned.contains(name) {
            plan.missing.push(name.clone());
            not_compared(&mut plan, name, table, &format!("{name} does not exist or is not a partitioned table"));
            continue;
        }
        let premake = premake_for(&table.chunk_interval);
        plan.notes.push(format!(
            "{name}: premake {premake} ({premake} × {} ahead covers at least {PREMAKE_HORIZON_DAYS} days without maintenance; maintenance runs hourly)",
            table.chunk_interval
        ));
        let parent = literal(&format!("{SCHEMA}.{name}"));
        let run_maintenance = format!("SELECT {schema}.run_maintenance(p_parent_table => {parent});");
        let retention_sql = match &table.retention {
            Some(r) => format!("retention = {}, retention_keep_table = false", literal(&r.to_string())),
            None => "retention = NULL".to_string(),
        };
        let Some(config) = live.configs.get(name) else {
            not_compared(
                &mut plan,
                name,
                table,
                &format!("pg_partman does not manage {name} yet (no part_config row)"),
            );
            let p_type = if partman.major() < 5 { ", p_type => 'native'" } else { "" };
            plan.changes.push(Change::new(
                name,
                "partitioning",
                None,
                Some(format!("every {}, premake {premake}", table.chunk_interval)),
                format!(
                    "SELECT {schema}.create_parent(p_parent_table => {parent}, p_control => {}{p_type}, p_interval => {}, p_premake => {premake});
                     UPDATE {schema}.part_config SET infinite_time_partitions = true, ignore_default_data = true, {retention_sql} WHERE parent_table = {parent};
                     {run_maintenance}",
                    literal(&table.time_column),
                    literal(&table.chunk_interval.to_string())
                ),
            ));
            continue;
        };
        let update = |set: String| {
            format!("UPDATE {schema}.part_config SET {set} WHERE parent_table = {parent}; {run_maintenance}")
        };
        if same_interval(Some(&config.interval), &table.chunk_interval) {
            plan.matched.push(Compared::new(name, "partition_interval", format!("every {}", table.chunk_interval)));
        } else {
            let mut c = Change::new(
                name,
                "partition_interval",
                Some(shown(Some(&config.interval))),
                Some(table.chunk_interval.to_string()),
                update(format!("partition_interval = {}", literal(&table.chunk_interval.to_string()))),
            );
            c.note = Some("applies to partitions created from now on".into());
            plan.changes.push(c);
        }
        if config.premake != premake {
            plan.changes.push(Change::new(
                name,
                "premake",
                Some(config.premake.to_string()),
                Some(premake.to_string()),
                update(format!("premake = {premake}")),
            ));
        }
        if !config.infinite_time_partitions {
            let mut c = Change::new(
                name,
                "infinite_time_partitions",
                Some("false".into()),
                Some("true".into()),
                update("infinite_time_partitions = true".into()),
            );
            c.note = Some(
                "partitions are made ahead of now, not of the newest row, so a quiet spell leaves none missing".into(),
            );
            plan.changes.push(c);
        }
        if !config.ignore_default_data {
            let mut c = Change::new(
                name,
                "ignore_default_data",
                Some("false".into()),
                Some("true".into()),
                update("ignore_default_data = true".into()),
            );
            c.note = Some(
                "a far-future row in the default partition must not make maintenance create partitions for years"
                    .into(),
            );
            plan.changes.push(c);
        }
        let live_retention = config.retention.as_deref().filter(|r| !r.is_empty());
        let retention_differs = match (live_retention, &table.retention) {
            (None, None) => false,
            (Some(live), Some(want)) => !same_interval(Some(live), want) || config.retention_keep_table,
            _ => true,
        };
        if !retention_differs {
            let value = table.retention.map_or_else(|| "(none)".to_string(), |r| r.to_string());
            plan.matched.push(Compared::new(name, "retention", value));
        } else {
            let mut c = Change::new(
                name,
                "retention",
                live_retention.map(|r| shown(Some(r))),
                table.retention.map(|r| r.to_string()),
                update(retention_sql.clone()),
            );
            let live_length = live_retention.and_then(|t| Interval::parse_postgres(t).ok());
            if let (Some(live), Some(want)) = (live_length, &table.retention) {
                if want.approx_seconds() < live.approx_seconds() {
                    c.destructive = true;
                    c.note = Some(format!("drops partitions older than {want} at the next maintenance"));
                } else if config.retention_keep_table && same_interval(Some(&config.interval), want) {
                    c.note = Some("old partitions are dropped, not kept detached".into());
                }
            }
            if config.retention_keep_table && c.note.is_none() {
                c.note = Some("old partitions are dropped, not kept detached".into());
            }
            plan.changes.push(c);
        }
    }
    for (table, rows) in &live.default_rows {
        if *rows > 0 {
            plan.problems.push(format!(
                "{rows} row(s) of {table} are in its default partition (no partition covers their time), which blocks \
                 creating partitions for those times; move them with CALL {schema}.partition_data_proc('{SCHEMA}.{table}')"
            ));
        }
    }
    for name in env.continuous_aggregates.keys() {
        match live.summaries.get(name) {
            None => plan.missing.push(name.clone()),
            Some(false) => plan.changes.push(Change::new(
                name,
                "populated",
                Some("no".into()),
                Some("yes".into()),
                format!("REFRESH MATERIALIZED VIEW {};", qualified(name)),
            )),
            Some(true) => {}
        }
    }
    if !env.continuous_aggregates.is_empty() {
        plan.notes.push(
            "summaries are materialized views refreshed in full on their schedule: no real-time rows, and \
             refresh.start_offset/end_offset are not used"
                .into(),
        );
    }
    for name in live.partitioned.iter().chain(live.summaries.keys()) {
        if !env.hypertables.contains_key(name) && !env.continuous_aggregates.contains_key(name) {
            plan.unmanaged.push(name.clone());
        }
    }
    cron_changes(env, live, &partman.schema, &mut plan);
    plan
}

/// A declared table whose partitioning and retention could not be compared, and why.
fn not_compared(plan: &mut PolicyPlan, name: &str, table: &crate::config::model::Hypertable, why: &str) {
    plan.not_compared.push(Compared::new(name, "partition_interval", why));
    if table.retention.is_some() {
        plan.not_compared.push(Compared::new(name, "retention", why));
    }
}

fn cron_changes(env: &Environment, live: &NativeLive, partman_schema: &str, plan: &mut PolicyPlan) {
    let wanted = wanted_jobs(env, live, partman_schema);
    let (cron_database, jobs) = match &live.cron {
        Cron::NotLoaded => {
            plan.problems.push(
                "pg_cron is not loaded (shared_preload_libraries), so partition maintenance and summary refreshes \
                 cannot be scheduled: partitions run out after the premade ones and summaries go stale; load pg_cron \
                 (the parameter group glctl renders does) and set cron.database_name"
                    .into(),
            );
            return;
        }
        Cron::NotCreated { database } => {
            let mut c = Change::new(
                "pg_cron",
                "extension",
                None,
                Some(format!("in database {database}")),
                "CREATE EXTENSION IF NOT EXISTS pg_cron;".into(),
            );
            c.on_cron_database = true;
            plan.changes.push(c);
            (database, &[][..])
        }
        Cron::Ready { database, jobs } => (database, jobs.as_slice()),
    };
    for want in &wanted {
        let target = format!("{} every '{}'", want.command, want.schedule);
        let change = match jobs.iter().find(|j| j.name == want.name) {
            None => Change::new(
                &want.name,
                "cron job",
                None,
                Some(target),
                format!(
                    "SELECT cron.schedule_in_database({}, {}, {}, {});",
                    literal(&want.name),
                    literal(&want.schedule),
                    literal(&want.command),
                    literal(&live.database)
                ),
            ),
            Some(job)
                if job.schedule != want.schedule || job.command != want.command || job.database != live.database =>
            {
                Change::new(
                    &want.name,
                    "cron job",
                    Some(format!("{} every '{}'", job.command, job.schedule)),
                    Some(target),
                    format!(
                        "SELECT cron.alter_job({}, schedule => {}, command => {}, database => {});",
                        job.id,
                        literal(&want.schedule),
                        literal(&want.command),
                        literal(&live.database)
                    ),
                )
            }
            Some(job) => {
                let last = match &job.last_run {
                    Some((status, at)) => format!("last run {status} at {at}"),
                    None => "has not run yet".into(),
                };
                plan.notes.push(format!("cron job {} (every '{}' in {cron_database}): {last}", job.name, job.schedule));
                if job.last_run.as_ref().is_some_and(|(status, _)| status == "failed") {
                    plan.problems.push(format!("cron job {}: its last run failed (cron.job_run_details)", job.name));
                }
                continue;
            }
        };
        let mut change = change;
        change.on_cron_database = true;
        plan.changes.push(change);
    }
    for job in jobs {
        if is_ours(job, &live.database) && !wanted.iter().any(|w| w.name == job.name) {
            let mut c = Change::new(
                &job.name,
                "cron job",
                Some(format!("{} every '{}'", job.command, job.schedule)),
                None,
                format!("SELECT cron.unschedule({});", job.id),
            );
            c.on_cron_database = true;
            plan.changes.push(c);
        } else if !is_ours(job, &live.database) && job.database == live.database {
            plan.unmanaged.push(format!(
                "cron job {} ({})",
                job.id,
                if job.name.is_empty() { "unnamed" } else { &job.name }
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(retention: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\n\
             hypertables:\n  readings:\n    time_column: t\n    chunk_interval: 1 day\n{retention}\
             continuous_aggregates:\n  hourly:\n    source: readings\n    bucket: 1 hour\n\
             \x20   refresh: {{ start_offset: 3 hours, end_offset: 1 hour, schedule_interval: 15 minutes }}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn job(id: i64, name: &str, schedule: &str, command: &str) -> CronJob {
        CronJob {
            id,
            name: name.into(),
            schedule: schedule.into(),
            command: command.into(),
            database: "app".into(),
            last_run: Some(("succeeded".into(), "2026-11-26 10:07:00+00".into())),
        }
    }

    /// The database exactly as `env("    retention: 30 days\n")` declares it.
    fn matching() -> NativeLive {
        NativeLive {
            database: "app".into(),
            partman: Some(Partman { schema: "partman".into(), version: "4.7.2".into() }),
            partitioned: ["readings".to_string()].into(),
            configs: [(
                "readings".to_string(),
                PartConfig {
                    interval: "1 day".into(),
                    premake: 7,
                    retention: Some("30 days".into()),
                    retention_keep_table: false,
                    infinite_time_partitions: true,
                    ignore_default_data: true,
                },
            )]
            .into(),
            default_rows: [("readings".to_string(), 0)].into(),
            summaries: [("hourly".to_string(), true)].into(),
            cron: Cron::Ready {
                database: "glctl".into(),
                jobs: vec![
                    job(1, "glctl:app:partman-maintenance", "7 * * * *", "CALL \"partman\".run_maintenance_proc()"),
                    job(
                        2,
                        "glctl:app:refresh:hourly",
                        "*/15 * * * *",
                        "REFRESH MATERIALIZED VIEW CONCURRENTLY \"public\".\"hourly\"",
                    ),
                    job(
                        6,
                        "glctl:app:heartbeat",
                        "* * * * *",
                        "INSERT INTO \"public\".glctl_heartbeat (source) VALUES ('pg_cron')",
                    ),
                ],
            },
        }
    }

    #[test]
    fn job_names_fit_pg_cron_s_63_bytes_and_stay_unique() {
        assert_eq!(job_name("app", "refresh:hourly"), "glctl:app:refresh:hourly");
        let long = job_name("mig_native_staging_9405", "refresh:emissions_quarterly_report");
        assert_eq!(long.len(), 63, "{long}");
        assert_ne!(long, job_name("mig_native_staging_9405", "refresh:emissions_quarterly_reporx"));
        assert_eq!(long, job_name("mig_native_staging_9405", "refresh:emissions_quarterly_report"), "stable");
    }

    #[test]
    fn premake_covers_a_week_and_never_fewer_than_four() {
        assert_eq!(premake_for(&Interval::parse("1 day").unwrap()), 7);
        assert_eq!(premake_for(&Interval::parse("7 days").unwrap()), 4);
        assert_eq!(premake_for(&Interval::parse("1 hour").unwrap()), 168);
        assert_eq!(premake_for(&Interval::parse("1 month").unwrap()), 4);
    }

    #[test]
    fn a_database_that_matches_has_no_changes_and_reports_its_jobs() {
        let plan = diff(&env("    retention: 30 days\n"), &matching());
        assert!(plan.changes.is_empty(), "{:#?}", plan.changes);
        assert!(plan.problems.is_empty(), "{:?}", plan.problems);
        assert!(plan.notes.iter().any(|n| n.starts_with("readings: premake 7")), "{:?}", plan.notes);
        assert!(
            plan.notes.iter().any(|n| n.contains("glctl:app:refresh:hourly") && n.contains("last run succeeded")),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn a_table_without_partman_config_is_created_with_the_environment_s_interval_for_the_installed_version() {
        let mut live = matching();
        live.configs.clear();
        let plan = diff(&env("    retention: 30 days\n"), &live);
        let statement = &plan.changes[0].statement;
        assert!(statement.contains("p_type => 'native', p_interval => '1 day', p_premake => 7"), "{statement}");
        assert!(statement.contains(
            "infinite_time_partitions = true, ignore_default_data = true, retention = '30 days', retention_keep_table = false"
        ));
        live.partman = Some(Partman { schema: "partman".into(), version: "5.2.4".into() });
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert!(plan.changes[0].statement.contains("p_control => 't', p_interval => '1 day'"), "5.x takes no p_type");
    }

    #[test]
    fn a_shorter_retention_is_destructive_and_a_removed_one_is_set_null() {
        let plan = diff(&env("    retention: 7 days\n"), &matching());
        assert_eq!(plan.changes.len(), 1, "{:#?}", plan.changes);
        assert!(plan.changes[0].destructive);
        assert!(plan.changes[0].describe().starts_with("~ readings retention: 30 days -> 7 days"));
        let plan = diff(&env(""), &matching());
        assert_eq!(plan.changes[0].describe(), "- readings retention: 30 days -> (none)");
        assert!(plan.changes[0].statement.contains("SET retention = NULL"));
    }

    #[test]
    fn premake_and_infinite_partitions_are_corrected() {
        let mut live = matching();
        let config = live.configs.get_mut("readings").unwrap();
        config.premake = 4;
        config.infinite_time_partitions = false;
        config.ignore_default_data = false;
        let plan = diff(&env("    retention: 30 days\n"), &live);
        let settings: Vec<&str> = plan.changes.iter().map(|c| c.setting.as_str()).collect();
        assert_eq!(settings, ["premake", "infinite_time_partitions", "ignore_default_data"]);
        assert!(plan
            .changes
            .iter()
            .all(|c| c.statement.contains("run_maintenance(p_parent_table => 'public.readings')")));
    }

    #[test]
    fn rows_in_a_default_partition_are_a_problem_with_the_way_out() {
        let mut live = matching();
        live.default_rows.insert("readings".into(), 3);
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert_eq!(plan.problems.len(), 1);
        assert!(
            plan.problems[0].starts_with("3 row(s) of readings are in its default partition"),
            "{:?}",
            plan.problems
        );
        assert!(plan.problems[0].contains("partition_data_proc('public.readings')"));
    }

    #[test]
    fn an_unpopulated_summary_is_refreshed_once() {
        let mut live = matching();
        live.summaries.insert("hourly".into(), false);
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert_eq!(plan.changes[0].statement, "REFRESH MATERIALIZED VIEW \"public\".\"hourly\";");
    }

    #[test]
    fn jobs_are_added_altered_in_place_and_removed_by_name_and_others_left_alone() {
        let mut live = matching();
        let Cron::Ready { jobs, .. } = &mut live.cron else { unreachable!() };
        jobs[1].schedule = "0 * * * *".into();
        jobs.push(job(3, "glctl:app:refresh:gone", "0 0 * * *", "REFRESH MATERIALIZED VIEW CONCURRENTLY x"));
        jobs.push(job(4, "nightly-vacuum", "0 3 * * *", "VACUUM"));
        jobs.push(CronJob {
            database: "other_db".into(),
            ..job(5, "glctl:other_db:partman-maintenance", "7 * * * *", "CALL x()")
        });
        jobs.remove(0);
        let plan = diff(&env("    retention: 30 days\n"), &live);
        let described: Vec<String> =
            plan.changes.iter().map(|c| format!("{} {}", c.describe(), c.on_cron_database)).collect();
        assert!(described[0].starts_with("+ glctl:app:partman-maintenance cron job"), "{described:#?}");
        assert!(plan.changes[0]
            .statement
            .starts_with("SELECT cron.schedule_in_database('glctl:app:partman-maintenance', '7 * * * *'"));
        assert!(
            plan.changes[1].statement.starts_with("SELECT cron.alter_job(2, schedule => '*/15 * * * *'"),
            "{described:#?}"
        );
        assert_eq!(plan.changes[2].statement, "SELECT cron.unschedule(3);");
        assert!(plan.changes.iter().all(|c| c.on_cron_database));
        assert_eq!(plan.unmanaged, ["cron job 4 (nightly-vacuum)"], "another database's glctl jobs are not this one's");
    }

    #[test]
    fn without_pg_cron_the_plan_says_nothing_can_be_scheduled() {
        let mut live = matching();
        live.cron = Cron::NotLoaded;
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert!(plan.problems.iter().any(|p| p.starts_with("pg_cron is not loaded")), "{:?}", plan.problems);
        live.cron = Cron::NotCreated { database: "glctl".into() };
        let plan = diff(&env("    retention: 30 days\n"), &live);
        assert_eq!(plan.changes[0].statement, "CREATE EXTENSION IF NOT EXISTS pg_cron;");
        assert_eq!(plan.changes.len(), 4, "the extension, then the three jobs (maintenance, heartbeat, refresh)");
    }

    /// What `verify` passes FA-05/FA-07 on: the settings read and found as declared; and what it fails them
    /// on: a declared setting that could not be compared, with why. `plan`'s part (changes, missing) is as
    /// before.
    #[test]
    fn a_declared_retention_that_cannot_be_compared_is_said_so_and_one_read_as_declared_is_matched() {
        let e = env("    retention: 30 days\n");
        let plan = diff(&e, &matching());
        let matched: Vec<String> =
            plan.matched.iter().map(|c| format!("{} {} {}", c.object, c.setting, c.detail)).collect();
        assert_eq!(matched, ["readings partition_interval every 1 day", "readings retention 30 days"]);
        assert!(plan.not_compared.is_empty());

        let why = |plan: &PolicyPlan| -> Vec<String> {
            plan.not_compared.iter().map(|c| format!("{} {}: {}", c.object, c.setting, c.detail)).collect()
        };
        let mut live = matching();
        live.partman = None;
        let plan = diff(&e, &live);
        assert_eq!(plan.missing, ["pg_partman (created by migration 0002)"]);
        assert!(plan.changes.is_empty() && plan.matched.is_empty());
        assert_eq!(why(&plan)[1], "readings retention: pg_partman is not installed (migration 0002 creates it)");

        let mut live = matching();
        live.partitioned.clear();
        let plan = diff(&e, &live);
        assert_eq!(plan.missing, ["readings"]);
        assert_eq!(why(&plan)[1], "readings retention: readings does not exist or is not a partitioned table");

        let mut live = matching();
        live.configs.clear();
        let plan = diff(&e, &live);
        assert_eq!(plan.changes[0].setting, "partitioning");
        assert_eq!(why(&plan)[1], "readings retention: pg_partman does not manage readings yet (no part_config row)");
        assert!(diff(&env(""), &live).not_compared.iter().all(|c| c.setting != "retention"), "none declared");
    }
}
