//! Engine and extension upgrades: `upgrade check` (is the live database ready to move to a version: PostgreSQL's
//! own pre-upgrade blockers, each extension's path, Blue/Green readiness) and `upgrade plan` (the ordered
//! steps, each with its effect and the way back). Nothing here changes a target: `facts` reads, `check` and
//! `plan` decide with pure functions, this module connects and hands them what was read.

pub mod check;
pub mod facts;
pub mod knowledge;
pub mod plan;

use serde::Serialize;

use crate::config::interval::Interval;
use crate::config::Loaded;
use crate::database::stage::DatabaseStage;
use crate::engine::kinds::EngineKind;
use crate::engine::versions;
use check::CheckReport;
use facts::Facts;
use plan::UpgradePlan;

/// A request that cannot be planned or checked; nothing was read or changed.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("--to {to}: {engine} has no version {to} in glctl's table (src/engine/versions.tsv); nearest known: {}", nearest.join(", "))]
    UnknownVersion { to: String, engine: &'static str, nearest: Vec<&'static str> },
    #[error("--to {to}: expected major.minor, a PostgreSQL version from {} to {} (e.g. 16.6)", known.first().unwrap_or(&0), known.last().unwrap_or(&0))]
    NotAVersion { to: String, known: Vec<u32> },
    #[error("--to {to} is a downgrade from {from} (engine.version of environment {env}): PostgreSQL cannot move back in place; restore a snapshot taken before the upgrade instead")]
    Downgrade { to: String, from: String, env: String },
    #[error("--to {to} is the version environment {env} already declares (engine.version {to}); name a newer version")]
    Same { to: String, env: String },
    #[error("engine.version {from} of environment {env} is not major.minor")]
    BadCurrent { from: String, env: String },
    #[error("--window {window}: expected a positive duration such as '1 day' or '12 hours' ({why})")]
    BadWindow { window: String, why: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The same major version: new binaries, a restart.
    Minor,
    /// pg_upgrade: a new catalog, a new parameter-group family, extensions to update.
    Major,
}

/// How the upgrade would run: which items of the check stop it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// A Blue/Green deployment (or, for an external server, logical replication to a new one).
    BlueGreen,
    /// The engine change on the running instances: a longer outage, no logical replication.
    InPlace,
}

/// From which version to which, on which engine; checked before anything connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub kind: EngineKind,
    pub from: String,
    pub to: String,
    pub to_major: u32,
    pub change: Change,
    /// The parameter-group families of both versions (RDS, Aurora).
    pub families: Option<(&'static str, &'static str)>,
}

/// Checks `to` against `from` on `kind` (pure): known, not a downgrade, not the same. `Same` and
/// `Downgrade` carry no environment name here; `resolve` adds it.
pub fn resolve_versions(kind: EngineKind, from: &str, to: &str) -> Result<Request, UpgradeError> {
    let current =
        versions::split(from).ok_or_else(|| UpgradeError::BadCurrent { from: from.into(), env: String::new() })?;
    let mut known_majors: Vec<u32> = versions::table().iter().map(|v| v.major).collect();
    known_majors.dedup();
    let target = match kind {
        EngineKind::External => versions::split(to)
            .filter(|(major, _)| known_majors.contains(major))
            .ok_or_else(|| UpgradeError::NotAVersion { to: to.into(), known: known_majors.clone() })?,
        _ => {
            let v = versions::find(kind, to).ok_or_else(|| UpgradeError::UnknownVersion {
                to: to.into(),
                engine: knowledge::engine_name(kind),
                nearest: versions::nearest(kind, to, 3),
            })?;
            (v.major, v.minor)
        }
    };
    if target == current {
        return Err(UpgradeError::Same { to: to.into(), env: String::new() });
    }
    if target < current {
        return Err(UpgradeError::Downgrade { to: to.into(), from: from.into(), env: String::new() });
    }
    let families = versions::find(kind, from).zip(versions::find(kind, to)).map(|(a, b)| (a.family, b.family));
    Ok(Request {
        kind,
        from: from.into(),
        to: to.into(),
        to_major: target.0,
        change: if target.0 == current.0 { Change::Minor } else { Change::Major },
        families,
    })
}

/// The request for `loaded`'s environment, its errors naming the environment.
pub fn resolve(loaded: &Loaded, to: &str) -> Result<Request, UpgradeError> {
    let engine = &loaded.environment.engine;
    let env = loaded.name.clone();
    resolve_versions(engine.kind, &engine.version, to).map_err(|e| match e {
        UpgradeError::Same { to, .. } => UpgradeError::Same { to, env },
        UpgradeError::Downgrade { to, from, .. } => UpgradeError::Downgrade { to, from, env },
        UpgradeError::BadCurrent { from, .. } => UpgradeError::BadCurrent { from, env },
        other => other,
    })
}

/// `--window`: a positive duration.
pub fn parse_window(text: &str) -> Result<i64, UpgradeError> {
    let bad = |why: String| UpgradeError::BadWindow { window: text.into(), why };
    let interval = Interval::parse(text).map_err(bad)?;
    match interval.approx_seconds() {
        s if s > 0 => Ok(s),
        _ => Err(bad("it is not positive".into())),
    }
}

/// What `upgrade check` and `upgrade plan` are asked, checked (`resolve`, `parse_window`) before anything connects.
/// What an upgrade report is about: the environment, the engine and versions, the method and the window (the
/// same head on `check` and `plan`).
#[derive(Clone, Debug, Serialize)]
pub struct Subject {
    pub environment: String,
    pub engine: &'static str,
    pub from: String,
    pub to: String,
    pub change: Change,
    pub method: Method,
    /// The declared window, as typed.
    pub window: String,
}

impl Subject {
    pub fn new(environment: &str, options: &Options) -> Self {
        let request = &options.request;
        Subject {
            environment: environment.to_string(),
            engine: knowledge::engine_name(request.kind),
            from: request.from.clone(),
            to: request.to.clone(),
            change: request.change,
            method: options.method,
            window: options.window.clone(),
        }
    }
}

pub struct Options {
    pub request: Request,
    /// The declared window as typed, and in seconds.
    pub window: String,
    pub window_seconds: i64,
    pub method: Method,
    /// The project's `sql/migrations/`, read for what an extension update means for them.
    pub migrations: std::path::PathBuf,
}

/// Connects (as every database command does: `--database-url` or the environment's endpoint) and reads the
/// facts; a database that cannot be reached leaves every fact unread, with why.
fn read_facts(stage: &DatabaseStage<'_>, target: &Target<'_>, options: &Options) -> Facts {
    let mut facts = target.runtime.block_on(async {
        let (app, target) = match stage.connect_with_target().await {
            Ok(connected) => connected,
            Err(e) => return Facts::unread(&e.to_string()),
        };
        let cron = match stage.cron_client(&app, &target).await {
            Ok(cron) => cron,
            Err(e) => return Facts::unread(&format!("pg_cron's database: {e}")),
        };
        facts::read(&app, cron.as_ref()).await
    });
    facts.native_create_parent = facts::native_create_parent(&options.migrations);
    facts.aws = target.runtime.block_on(facts::read_aws(target.loaded, target.aws, target.work_dir));
    facts
}

/// The environment an upgrade is checked or planned for, and how to reach its AWS side.
pub struct Target<'a> {
    pub loaded: &'a Loaded,
    pub aws: &'a crate::aws::AwsContext,
    /// Where `apply` wrote the Terraform outputs (they name the RDS instance).
    pub work_dir: &'a std::path::Path,
    pub runtime: &'a tokio::runtime::Runtime,
}

/// `glctl upgrade check`: the facts read, each item decided.
pub fn run_check(target: &Target<'_>, stage: &DatabaseStage<'_>, options: &Options) -> CheckReport {
    let loaded = target.loaded;
    let facts = read_facts(stage, target, options);
    let request = &options.request;
    CheckReport {
        subject: Subject::new(&loaded.name, options),
        window_seconds: options.window_seconds,
        items: check::decide(request, options.window_seconds, &facts),
    }
}

/// `glctl upgrade plan`: the same facts, turned into ordered steps.
pub fn run_plan(target: &Target<'_>, stage: &DatabaseStage<'_>, options: &Options) -> UpgradePlan {
    let facts = read_facts(stage, target, options);
    plan::plan(target.loaded, options, &facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_newer_version_is_a_minor_or_major_change_with_both_families() {
        let r = resolve_versions(EngineKind::RdsPostgresql, "16.6", "17.4").unwrap();
        assert_eq!((r.change, r.to_major, r.families), (Change::Major, 17, Some(("postgres16", "postgres17"))));
        let r = resolve_versions(EngineKind::AuroraPostgresql, "16.6", "16.8").unwrap();
        assert_eq!((r.change, r.families), (Change::Minor, Some(("aurora-postgresql16", "aurora-postgresql16"))));
        let r = resolve_versions(EngineKind::External, "15.18", "16.6").unwrap();
        assert_eq!((r.change, r.families), (Change::Major, None));
    }

    #[test]
    fn an_unknown_version_a_downgrade_and_the_same_version_are_refused_with_what_would_do() {
        let e = resolve_versions(EngineKind::RdsPostgresql, "16.6", "16.99").unwrap_err().to_string();
        assert_eq!(
            e,
            "--to 16.99: rds-postgresql has no version 16.99 in glctl's table (src/engine/versions.tsv); nearest known: 16.11, 16.12, 16.13"
        );
        let e = resolve_versions(EngineKind::RdsPostgresql, "16.6", "15.4").unwrap_err();
        assert!(matches!(e, UpgradeError::Downgrade { .. }), "{e}");
        assert!(matches!(resolve_versions(EngineKind::RdsPostgresql, "16.6", "16.6"), Err(UpgradeError::Same { .. })));
        let e = resolve_versions(EngineKind::External, "15.18", "sixteen").unwrap_err().to_string();
        assert_eq!(e, "--to sixteen: expected major.minor, a PostgreSQL version from 13 to 17 (e.g. 16.6)");
        assert!(resolve_versions(EngineKind::External, "15.18", "15.2").is_err(), "a minor downgrade");
    }

    #[test]
    fn the_window_is_a_positive_duration() {
        assert_eq!(parse_window("10 days").unwrap(), 864_000);
        assert_eq!(parse_window("12h").unwrap(), 43_200);
        assert!(parse_window("0 days").unwrap_err().to_string().contains("not positive"));
        assert!(parse_window("soon").is_err());
    }
}
