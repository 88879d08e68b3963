//! The RDS / Aurora restore drills of one `verify --drills` run, in order: BR-04/BR-05 (point in time,
//! `point_in_time`), BR-06 (the newest automated snapshot, `snapshot`, run once also for BR-08),
//! BR-07 (AWS Backup's DR copy in the DR region, `dr`), BR-08 (BR-06's restore measured,
//! `restore_size`). Each drill runs under `DRILL_LIMIT` and is raced against Ctrl-C/SIGTERM; whatever
//! happened, what it created is deleted (in the DR region for BR-07), and scratch copies of earlier runs are
//! listed, not deleted.

use aws_sdk_rds::Client as Rds;

pub mod dr;
pub mod point_in_time;
pub mod scratch;
pub mod snapshot;

use self::point_in_time::drill;
use self::scratch::{delete, leftovers, Created, DRILL_LIMIT};
use crate::aws::AwsContext;
use crate::config::Loaded;
use crate::database::stage::DatabaseStage;
use crate::drills::journal::Journal;
use crate::verify::{set_result, CheckResult, Outcome, Skip};

/// What the command shows besides the results.
#[derive(Debug, Default)]
pub struct RdsRun {
    pub interrupted: bool,
    /// Scratch copies of earlier runs still in RDS (see `leftovers`), or why they could not be listed.
    pub leftovers: Vec<String>,
}

/// The RDS and Aurora entry of `DRILLS`.
pub(crate) fn step(
    scene: &super::Scene<'_>,
    results: &mut [CheckResult],
    progress: &dyn super::Progress,
) -> Vec<String> {
    let drills = super::step(progress, "restore drills", || {
        scene.runtime.block_on(run(results, scene.loaded, scene.aws, scene.dir, scene.stage, scene.at))
    });
    let mut warnings: Vec<String> = drills.leftovers.iter().map(|l| format!("scratch restore {l}")).collect();
    if drills.interrupted {
        warnings.push("interrupted: the drills' scratch copies were deleted (see BR-04…BR-08)".into());
    }
    warnings
}

/// BR-04/BR-05 (`point_in_time`), BR-06 (`snapshot`), BR-07 (`dr`) and BR-08 (BR-06 measured,
/// `restore_size`) on RDS or Aurora into `results` (unless waived or not applicable).
pub async fn run(
    results: &mut [CheckResult],
    loaded: &Loaded,
    aws: &AwsContext,
    work_dir: &std::path::Path,
    stage: &DatabaseStage<'_>,
    at: &str,
) -> RdsRun {
    let env = &loaded.environment;
    let mut interrupted = false;
    let mut found = Vec::new();
    if let Ok(config) = aws.config().await {
        match leftovers(&Rds::new(config)).await {
            Ok(l) => found = l,
            Err(e) => found.push(format!("earlier drills' scratch copies could not be listed: {e}")),
        }
    }
    // Not waived, and applicable (BR-07 is not without `backup.cross_region_copy`).
    let selected: Vec<&'static str> =
        results.iter().filter(|r| !r.waived() && r.skip != Some(Skip::NotApplicable)).map(|r| r.id).collect();
    let wanted = |id: &str| selected.contains(&id);
    // BR-07's scratch copies live in the DR region: earlier ones are listed from there too.
    if let (true, Some(region)) = (wanted("BR-07"), env.aws.dr_region.as_deref()) {
        if let Ok(config) = aws.in_region(region).await {
            match leftovers(&Rds::new(&config)).await {
                Ok(l) => found.extend(l.into_iter().map(|l| format!("{l} (in {region}: add `--region {region}`)"))),
                Err(e) => found.push(format!("earlier drills' scratch copies in {region} could not be listed: {e}")),
            }
        }
    }
    // BR-08 is BR-06's restore measured: selecting it runs BR-06's drill once for both.
    let br08 = wanted("BR-08");
    let measured = std::sync::Mutex::new(None);
    let mut br06_failed = None;
    for (id, setting, text) in [
        ("BR-04", "acceptance.pitr_targets.br04", env.acceptance.pitr_targets.br04.clone()),
        ("BR-05", "acceptance.pitr_targets.br05", env.acceptance.pitr_targets.br05.clone()),
        ("BR-06", "", String::new()),
        ("BR-07", "", String::new()),
    ] {
        if !(wanted(id) || (id == "BR-06" && br08)) {
            continue;
        }
        let outcome = if interrupted {
            Outcome::Error("interrupted (Ctrl-C or SIGTERM) before this drill ran".into())
        } else {
            let (journal, created) = (Journal::default(), Created::default());
            let config = aws.config().await;
            // BR-07 restores in the DR region: a second client of the run's one context (same account).
            let dr = match (id, env.aws.dr_region.as_deref()) {
                ("BR-07", Some(region)) => Some(aws.in_region(region).await.map_err(|e| e.to_string())),
                ("BR-07", None) => Some(Err("aws.dr_region is not set: there is no DR region to restore in".into())),
                _ => None,
            };
            let account = aws.verify().await.map(|a| a.account_id.clone()).unwrap_or_default();
            let drill = async {
                let config = config.as_ref().map_err(|e| e.to_string())?;
                let rds = Rds::new(config);
                Ok::<Outcome, String>(match id {
                    "BR-06" => snapshot::drill(&rds, loaded, work_dir, stage, &journal, &created, &measured).await,
                    "BR-07" => {
                        let dr = dr.as_ref().expect("BR-07's region").as_ref().map_err(String::clone)?;
                        let (work, acct) = (work_dir, account.as_str());
                        dr::drill(&rds, dr, acct, loaded, work, stage, &journal, &created).await
                    }
                    _ => drill(&rds, loaded, work_dir, stage, id, setting, &text, &journal, &created).await,
                })
            };
            let outcome = tokio::select! {
                o = tokio::time::timeout(DRILL_LIMIT, drill) => match o {
                    Ok(o) => o.unwrap_or_else(Outcome::Error),
                    Err(_) => Outcome::Error(format!("timed out after {} s", DRILL_LIMIT.as_secs())),
                },
                () = crate::runtime::shutdown_signal() => {
                    interrupted = true;
                    Outcome::Error("interrupted (Ctrl-C or SIGTERM)".into())
                }
            };
            // Whatever happened, delete what was created, and say so.
            match (&dr, &config) {
                (Some(Ok(dr)), _) => delete(&Rds::new(dr), &created, &journal).await,
                (None, Ok(config)) => delete(&Rds::new(config), &created, &journal).await,
                _ => {}
            }
            match outcome {
                Outcome::Error(why) if !created.all().is_empty() => {
                    Outcome::Error(format!("{why}; {}", journal.text()))
                }
                other => other,
            }
        };
        if id == "BR-06" {
            if let Outcome::Error(why) | Outcome::Fail(why, _) = &outcome {
                br06_failed = Some(why.clone());
            }
            if !wanted("BR-06") {
                continue;
            }
        }
        set_result(results, id, outcome, at);
    }
    if br08 {
        let outcome = match (measured.into_inner().expect("measured"), br06_failed) {
            (Some(m), _) => crate::verify::restore_size::judge(
                &env.acceptance,
                &m,
                "BR-06's snapshot restore (restore_rds_snapshot)",
            ),
            (None, Some(why)) => {
                Outcome::Error(format!("BR-06's restore did not complete, so there is nothing to measure: {why}"))
            }
            (None, _) => Outcome::Error("BR-06's restore did not complete, so there is nothing to measure".into()),
        };
        set_result(results, "BR-08", outcome, at);
    }
    RdsRun { interrupted, leftovers: found }
}
