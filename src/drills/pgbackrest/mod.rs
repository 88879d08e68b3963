//! `verify` on a pgBackRest-backed server: BR-01…BR-03 (`backup`) and, with `--drills`, the restore drills —
//! BR-04/BR-05 to a point in time (`point_in_time`), BR-06 the newest full set of `repo`, BR-07 the same from `dr_repo`,
//! BR-08 BR-06's measurement. Each drill runs under `backup.pgbackrest.restore_timeout_seconds` and is raced
//! against Ctrl-C/SIGTERM (`runtime::shutdown_signal`): either way its scratch copy is stopped and removed, and
//! the check says what was created and removed. Scratch copies left by a run that was killed outright are
//! found and removed first (`scratch::sweep`) and returned for the command to list.

mod listing;
pub mod point_in_time;
pub mod restore;

use std::cell::RefCell;
use std::time::Duration;

use serde_json::Value;

use crate::config::model::Environment;
use crate::config::pgbackrest::Pgbackrest;
use crate::config::pitr::PitrTarget;
use crate::database::stage::DatabaseStage;
use crate::drills::journal::Journal;
use crate::drills::scratch::{self, Leftover};
use crate::verify::backup::{self, PgbackrestFacts};
use crate::verify::restore_verdict::{judge_set, Restored};
use crate::verify::{set_result, CheckResult, Outcome};
use restore::Kind;

/// The server binaries' directory (pg_ctl, psql) for `env`.
pub fn bin_dir(env: &Environment, config: &Pgbackrest) -> String {
    let major = env.engine.version.split('.').next().unwrap_or_default();
    config.bin_dir.clone().unwrap_or_else(|| format!("/usr/lib/postgresql/{major}/bin"))
}

/// What the command shows besides the results.
#[derive(Debug, Default)]
pub struct BackupRun {
    /// Scratch copies of earlier, interrupted runs, found and removed (or not) before this one.
    pub leftovers: Vec<Leftover>,
    /// The drills were interrupted (Ctrl-C or SIGTERM).
    pub interrupted: bool,
}

/// The pgBackRest entry of `DRILLS`: the listing (and with `--drills` the restore drills) under one step.
pub(crate) fn step(
    scene: &super::Scene<'_>,
    results: &mut [CheckResult],
    progress: &dyn super::Progress,
) -> Vec<String> {
    let env = &scene.loaded.environment;
    let Some(config) = &env.backup.pgbackrest else { return vec![] };
    let what = if scene.drills { "backups and restore drills" } else { "backups" };
    let backups = super::step(progress, what, || {
        scene.runtime.block_on(run(results, env, config, scene.stage, scene.drills, scene.at))
    });
    let mut warnings: Vec<String> = backups.leftovers.iter().map(|l| format!("scratch restore {l}")).collect();
    if backups.interrupted {
        warnings.push("interrupted: the drills' scratch copies were removed (see BR-)".into());
    }
    warnings
}

/// BR-01…BR-03 into `results`, then with `drills` the restore drills. Never touches the source except for
/// the markers a `now` target writes into its heartbeat.
pub async fn run(
    results: &mut [CheckResult],
    env: &Environment,
    config: &Pgbackrest,
    stage: &DatabaseStage<'_>,
    drills: bool,
    at: &str,
) -> BackupRun {
    let bin = bin_dir(env, config);
    let leftovers = scratch::sweep(config, &bin);
    let connected = stage.connect_with_target().await.map_err(|e| format!("the source database: {e}"));
    // The copy is read in the database the source is read in: the one glctl was told to use (`--database-url`'s,
    // else connection.database). When the source cannot be reached, the environment's is all there is.
    let database = match &connected {
        Ok((_, target)) => target.database.clone(),
        Err(_) => env.connection.database.clone(),
    };
    let client = connected.map(|(client, _)| client);
    let archiver = match &client {
        Ok(c) => backup::archiver(c).await,
        Err(e) => Err(e.clone()),
    };
    let facts = listing::gather(config, archiver);
    backup::apply(results, config, &facts, at);
    let retention = listing::retention(config);
    crate::verify::set_result(
        results,
        "GL-04",
        crate::verify::backup_retention::gl04(env.backup.retention_days, &retention),
        at,
    );
    let mut run = BackupRun { leftovers, interrupted: false };
    if !drills {
        return run;
    }
    let wanted: Vec<&'static str> =
        results.iter().filter(|r| !r.waived() && DRILLS.contains(&r.id)).map(|r| r.id).collect();
    let done: RefCell<Vec<(&'static str, Outcome)>> = RefCell::default();
    let current: RefCell<Option<(&'static str, Journal)>> = RefCell::default();
    let work = drills_in_order(&wanted, env, config, &facts, client.as_ref().ok(), &bin, &database, &done, &current);
    tokio::select! {
        () = work => {}
        () = crate::runtime::shutdown_signal() => run.interrupted = true,
    }
    // `work` is dropped here: an interrupted drill's scratch guard has stopped and removed its copy.
    let mut outcomes = done.into_inner();
    if run.interrupted {
        if let Some((id, journal)) = current.into_inner() {
            outcomes.push((id, Outcome::Error(format!("interrupted (Ctrl-C or SIGTERM): {}", journal.text()))));
        }
        for id in &wanted {
            if !outcomes.iter().any(|(done, _)| done == id) {
                outcomes.push((id, Outcome::Error("interrupted (Ctrl-C or SIGTERM) before this drill ran".into())));
            }
        }
    }
    for (id, outcome) in outcomes {
        set_result(results, id, outcome, at);
    }
    run
}

const DRILLS: [&str; 5] = ["BR-04", "BR-05", "BR-06", "BR-07", "BR-08"];

#[allow(clippy::too_many_arguments)]
async fn drills_in_order(
    wanted: &[&'static str],
    env: &Environment,
    config: &Pgbackrest,
    facts: &PgbackrestFacts,
    client: Option<&tokio_postgres::Client>,
    bin: &str,
    database: &str,
    done: &RefCell<Vec<(&'static str, Outcome)>>,
    current: &RefCell<Option<(&'static str, Journal)>>,
) {
    let limit = Duration::from_secs(u64::from(config.restore_timeout_seconds));
    let timed_out = |journal: &Journal| {
        Outcome::Error(format!(
            "timed out after {} s (backup.pgbackrest.restore_timeout_seconds); {}",
            config.restore_timeout_seconds,
            journal.text()
        ))
    };
    for (id, setting, text) in [
        ("BR-04", "acceptance.pitr_targets.br04", &env.acceptance.pitr_targets.br04),
        ("BR-05", "acceptance.pitr_targets.br05", &env.acceptance.pitr_targets.br05),
    ] {
        if !wanted.contains(&id) {
            continue;
        }
        let journal = Journal::default();
        current.replace(Some((id, journal.clone())));
        let outcome = match (PitrTarget::parse(text), client, &facts.info) {
            (Err(e), _, _) => Outcome::Error(format!("{setting}: {e}")),
            (_, None, _) => Outcome::Error("the source database could not be reached: its heartbeat decides".into()),
            (_, _, Err(e)) => Outcome::Error(e.clone()),
            (Ok(target), Some(client), Ok(info)) => {
                let start = oldest_stop(info, config.repo).map(|s| s as f64 + 1.0);
                let gaps: Vec<String> = facts
                    .wal
                    .as_ref()
                    .map(|wal| wal.values().flat_map(|names| backup::missing_segments(names)).collect())
                    .unwrap_or_default();
                let drill = point_in_time::drill(
                    client, config, id, setting, target, start, &gaps, bin, database, limit, &journal,
                );
                tokio::time::timeout(limit, drill).await.unwrap_or_else(|_| timed_out(&journal))
            }
        };
        done.borrow_mut().push((id, with_target(outcome, setting, text)));
    }
    let mut measured = None;
    if wanted.contains(&"BR-06") || wanted.contains(&"BR-08") {
        let journal = Journal::default();
        current.replace(Some(("BR-06", journal.clone())));
        let drill = set_restore(config, facts, config.repo, "BR-06", bin, database, limit, &journal);
        let (outcome, restored) =
            tokio::time::timeout(limit, drill).await.unwrap_or_else(|_| (timed_out(&journal), None));
        measured = restored;
        done.borrow_mut().push(("BR-06", outcome));
    }
    if wanted.contains(&"BR-07") {
        let journal = Journal::default();
        current.replace(Some(("BR-07", journal.clone())));
        let drill = set_restore(config, facts, config.dr_repo, "BR-07", bin, database, limit, &journal);
        let outcome = tokio::time::timeout(limit, drill).await.map_or_else(|_| timed_out(&journal), |r| r.0);
        done.borrow_mut().push(("BR-07", outcome));
    }
    current.replace(None);
    if wanted.contains(&"BR-08") {
        let outcome = match &measured {
            Some(restored) => br08(env, restored),
            None => Outcome::Error("BR-06's restore did not complete, so there is nothing to measure".into()),
        };
        done.borrow_mut().push(("BR-08", outcome));
    }
}

/// Names the target's setting in a decision's evidence.
fn with_target(outcome: Outcome, setting: &str, text: &str) -> Outcome {
    match outcome {
        Outcome::Pass(mut e) => {
            for e in &mut e {
                e.expected = format!("{} ({setting}: {text})", e.expected);
            }
            Outcome::Pass(e)
        }
        other => other,
    }
}

/// The newest full backup of `repo`: (label, stop time in Unix seconds).
fn latest_full(info: &Value, repo: u32) -> Option<(String, i64)> {
    info["backup"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| {
            b["database"]["repo-key"].as_u64() == Some(u64::from(repo)) && b["type"] == "full" && b["error"] != true
        })
        .filter_map(|b| Some((b["label"].as_str()?.to_string(), b["timestamp"]["stop"].as_i64()?)))
        .next_back()
}

/// When the oldest backup of `repo` stopped (Unix seconds): the restore window's start.
fn oldest_stop(info: &Value, repo: u32) -> Option<i64> {
    info["backup"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["database"]["repo-key"].as_u64() == Some(u64::from(repo)) && b["error"] != true)
        .filter_map(|b| b["timestamp"]["stop"].as_i64())
        .min()
}

#[allow(clippy::too_many_arguments)]
async fn set_restore(
    config: &Pgbackrest,
    f: &PgbackrestFacts,
    repo: u32,
    check: &str,
    bin: &str,
    database: &str,
    limit: Duration,
    journal: &Journal,
) -> (Outcome, Option<Restored>) {
    let info = match &f.info {
        Ok(info) => info,
        Err(why) => return (Outcome::Error(why.clone()), None),
    };
    let Some((label, stop)) = latest_full(info, repo) else {
        return (Outcome::Fail(format!("repo{repo} holds no full backup to restore"), vec![]), None);
    };
    match restore::restore(config, check, repo, &Kind::Set(label.clone()), bin, database, limit, journal).await {
        Ok(restored) => (judge_set(&restored, stop), Some(restored)),
        Err(why) => {
            (Outcome::Error(format!("the restore of {label} from repo{repo} failed: {why}; {}", journal.text())), None)
        }
    }
}

/// BR-08 from a measured restore: the time and bytes, and an extrapolation to `restore_size_gb`, labelled
/// (`restore_size::judge`, shared with RDS and Aurora).
fn br08(env: &Environment, restored: &Restored) -> Outcome {
    let measured = crate::verify::restore_size::Measured {
        what: restored.what.clone(),
        bytes: restored.bytes,
        bytes_from: "restored".into(),
        restore_seconds: restored.restore_seconds,
        start_seconds: restored.start_seconds,
        start_label: "start and recovery",
        not_a_restore: None,
    };
    crate::verify::restore_size::judge(&env.acceptance, &measured, "BR-06's restore")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_starts_at_the_oldest_backup_of_the_repository() {
        let info = serde_json::json!({"backup": [
            {"label": "F1", "type": "full", "database": {"repo-key": 1}, "timestamp": {"start": 5, "stop": 10}},
            {"label": "F1_I", "type": "incr", "database": {"repo-key": 1}, "timestamp": {"start": 15, "stop": 20}},
            {"label": "F2", "type": "full", "database": {"repo-key": 2}, "timestamp": {"start": 1, "stop": 3}},
        ]});
        assert_eq!(oldest_stop(&info, 1), Some(10));
        assert_eq!(oldest_stop(&info, 2), Some(3));
        assert_eq!(oldest_stop(&info, 3), None);
        assert_eq!(latest_full(&info, 1), Some(("F1".into(), 10)));
    }
}
