//! The rehearse operation (`glctl migrate rehearse`): the target's ledger says which migrations are applied
//! (the scratch copy's schema) and which are pending (rehearsed); the drill (`drills::rehearse`) acts on a
//! scratch copy; `verify::rehearsal` judges; the result is recorded for promote's `rehearsed` gate.

use std::path::PathBuf;

use serde::Serialize;

use super::Session;
use crate::config::migrations::DEFAULT_MAX_BLOCKING_MS;
use crate::config::model::Tier;
use crate::database::migrate::{LockWait, Migration};
use crate::drills::rehearse::{self, Plan, RehearseError};
use crate::error::Error;
use crate::promote::rehearsals::{self, RehearsalRecord, RehearsedMigration};
use crate::verify::rehearsal::{self, Judgement, Verdict};

pub struct RehearseOptions {
    pub allow_production: bool,
    pub rows: u64,
    pub partitions: u32,
    pub sessions: usize,
    pub rate: f64,
    pub baseline_seconds: f64,
    pub sample_every_ms: u64,
    pub unlogged: bool,
}

/// What a rehearsal did and found.
#[derive(Debug, Serialize)]
pub struct RehearsalReport {
    pub environment: String,
    /// The pending migrations rehearsed, in order.
    pub pending: Vec<String>,
    pub plan: Option<Plan>,
    pub scratch_database: Option<String>,
    /// Scratch databases of killed earlier rehearsals, dropped before this one.
    pub orphans_dropped: Vec<String>,
    /// What the drill created, did and removed, with seconds since it began.
    pub journal: Vec<String>,
    pub rows_loaded: u64,
    pub load_seconds: f64,
    pub partitions_with_rows: i64,
    pub judgement: Option<Judgement>,
    /// Errors the application's sessions met (a migration that broke the application shows here).
    pub workload_errors: Vec<String>,
    /// Why nothing was judged (exit 3), when so.
    pub not_measured: Option<String>,
    /// The record promote's `rehearsed` gate reads.
    pub record: Option<PathBuf>,
}

impl RehearsalReport {
    fn empty(environment: &str, pending: Vec<String>) -> Self {
        RehearsalReport {
            environment: environment.to_string(),
            pending,
            plan: None,
            scratch_database: None,
            orphans_dropped: Vec::new(),
            journal: Vec::new(),
            rows_loaded: 0,
            load_seconds: 0.0,
            partitions_with_rows: 0,
            judgement: None,
            workload_errors: Vec::new(),
            not_measured: None,
            record: None,
        }
    }
}

pub fn rehearse(session: &Session, options: &RehearseOptions) -> Result<RehearsalReport, Error> {
    let env = &session.loaded.environment;
    if env.tier == Tier::Production && !options.allow_production {
        return Err(Error::Refused(format!(
            "{} is a production environment: a rehearsal creates a scratch database on its server and loads it with \
             generated rows and an application workload (dropped afterwards); pass --allow-production to run it anyway",
            session.loaded.name
        )));
    }
    let stage = session.database_stage()?;
    let target = match session.target() {
        Ok(t) => t,
        Err(e) if e.is_unreachable() => {
            let mut report = RehearsalReport::empty(&session.loaded.name, Vec::new());
            report.not_measured = Some(e.to_string());
            return Ok(report);
        }
        Err(e) => return Err(e.into()),
    };
    let status = session.runtime.block_on(async {
        let client = stage.connect().await?;
        stage.status(&client).await
    });
    let status = match status {
        Ok(s) => s,
        Err(e) if e.is_unreachable() => {
            let mut report = RehearsalReport::empty(&session.loaded.name, Vec::new());
            report.not_measured = Some(e.to_string());
            return Ok(report);
        }
        Err(e) => return Err(e.into()),
    };
    crate::database::stage::refuse_blocked(&status, false)?;
    let pending: Vec<Migration> = status.pending.clone();
    let mut report = RehearsalReport::empty(&session.loaded.name, pending.iter().map(Migration::file_name).collect());
    if pending.is_empty() {
        return Ok(report);
    }
    let settings = env.migrations.clone().unwrap_or_default();
    let (timeout, retries) = settings.lock_wait();
    let lock_wait = LockWait { timeout: Some(timeout), retries };
    let budget_ms = env.migrations.as_ref().map_or(DEFAULT_MAX_BLOCKING_MS, |m| m.max_blocking_ms());
    let plan = Plan {
        rows: options.rows,
        partitions: options.partitions,
        sessions: options.sessions,
        rate: options.rate,
        baseline_seconds: options.baseline_seconds,
        sample_every_ms: options.sample_every_ms,
        unlogged: options.unlogged,
        lock_wait,
        seed: 1,
    };
    report.plan = Some(plan.clone());
    let observed = match rehearse::run(&target, &status.applied, &pending, &plan) {
        Ok(o) => o,
        Err(e @ (RehearseError::NotMeasured(_) | RehearseError::Interrupted { .. })) => {
            report.not_measured = Some(e.to_string());
            return Ok(report);
        }
    };
    let judgement = rehearsal::judge(
        &observed.samples,
        &observed.sessions,
        &observed.ops,
        &observed.windows,
        budget_ms,
        observed.failure.as_deref(),
    );
    report.scratch_database = Some(observed.scratch_database.clone());
    report.orphans_dropped = observed.orphans_dropped.clone();
    report.journal = observed.journal.clone();
    report.rows_loaded = observed.rows_loaded;
    report.load_seconds = observed.load_seconds;
    report.partitions_with_rows = observed.partitions_with_rows;
    report.workload_errors = observed.workload_errors.clone();
    if !matches!(judgement.verdict, Verdict::NotMeasured { .. }) {
        let record = record(&session.loaded.name, &pending, &observed.applied, &judgement, &observed);
        report.record = Some(rehearsals::save(&session.dir, &record).map_err(Error::Refused)?);
    }
    report.judgement = Some(judgement);
    Ok(report)
}

/// Each pending migration's outcome: applied in the scratch copy and every statement of it within budget.
fn record(
    environment: &str,
    pending: &[Migration],
    applied: &[String],
    judgement: &Judgement,
    observed: &rehearse::Observed,
) -> RehearsalRecord {
    let migrations = pending
        .iter()
        .map(|m| {
            let file = m.file_name();
            let mine: Vec<_> = judgement.statements.iter().filter(|s| s.file == file).collect();
            RehearsedMigration {
                version: m.version,
                checksum: m.checksum.clone(),
                longest_stall_ms: mine.iter().map(|s| s.longest_stall_ms).fold(0.0, f64::max),
                within_budget: applied.contains(&file) && mine.iter().all(|s| s.within_budget),
                file,
            }
        })
        .collect();
    RehearsalRecord {
        environment: environment.to_string(),
        at: crate::clock::now().0,
        budget_ms: judgement.budget_ms,
        verdict: match judgement.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::NotMeasured { .. } => "not_measured",
        }
        .to_string(),
        rows: observed.rows_loaded,
        partitions: observed.partitions_with_rows,
        migrations,
    }
}
