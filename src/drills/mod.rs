//! Drills act: they restore backups into scratch copies, fail the writer over, stop a PgBouncer — on a
//! target or a copy of it — journal every step (`journal`), clean up also on Ctrl-C/SIGTERM, and hand what
//! they observed to verify, whose pure judgements (`verify::restore_verdict`, `verify::point_in_time`,
//! `verify::failover_verdict`, `verify::restore_size`) decide the checks. Drills import verify; verify never
//! imports drills.

pub mod failover;
pub mod journal;
pub mod pgbackrest;
pub mod pgbouncer;
pub mod point_in_time;
pub mod rds;
pub mod rehearse;
pub mod rotation;
pub mod scratch;
pub mod wait;

use std::path::Path;

use crate::aws::AwsContext;
use crate::config::Loaded;
use crate::database::stage::DatabaseStage;
use crate::pgbouncer::Poolers;
use crate::verify::CheckResult;

/// How a run shows its steps: `step` runs `work` while saying `what` (the command draws a spinner).
pub trait Progress {
    fn step(&self, what: &str, work: &mut dyn FnMut());
}

/// Runs `work` as one step of `progress`, and returns what it returned.
pub fn step<T>(progress: &dyn Progress, what: &str, work: impl FnOnce() -> T) -> T {
    let (mut work, mut out) = (Some(work), None);
    progress.step(what, &mut || out = work.take().map(|w| w()));
    out.expect("a step runs its work")
}

/// What a drill may use: the environment's target, the run's selection, and when its results are stamped.
pub struct Scene<'a> {
    pub loaded: &'a Loaded,
    /// The environment's work directory (`outputs.json`).
    pub dir: &'a Path,
    /// The project's root, where the file's commands (failover, PgBouncer restart) run.
    pub root: &'a Path,
    pub runtime: &'a tokio::runtime::Runtime,
    pub aws: &'a AwsContext,
    pub stage: &'a DatabaseStage<'a>,
    /// The PgBouncers' addresses (`--pooler-url`, `--pooler-admin-url`).
    pub poolers: Option<&'a Poolers>,
    /// `--drills` was given (and the production gate, `verify::drills_permitted`, let it through).
    pub drills: bool,
    pub at: &'a str,
}

/// What a drill needs before it runs at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// `--drills`.
    DrillsFlag,
    /// `backup.pgbackrest` in the environment file.
    Pgbackrest,
    /// An engine glctl provisions (RDS, Aurora).
    Provisioned,
}

impl Need {
    fn met(self, scene: &Scene<'_>) -> bool {
        let env = &scene.loaded.environment;
        match self {
            Need::DrillsFlag => scene.drills,
            Need::Pgbackrest => env.backup.pgbackrest.is_some(),
            Need::Provisioned => crate::engine::capabilities::of(env.engine.kind).provisioned,
        }
    }
}

/// A drill, registered once: the checks it decides, what it needs, and how it runs. It puts its results in
/// through `verify::set_result` (a waiver holds) and returns what the command must warn about (scratch
/// copies an earlier run left, an interruption).
pub struct Drill {
    /// What it is, for a reader of the table and the test over it.
    #[allow(dead_code)]
    pub name: &'static str,
    pub checks: &'static [&'static str],
    pub needs: &'static [Need],
    pub run: fn(&Scene<'_>, &mut [CheckResult], &dyn Progress) -> Vec<String>,
}

impl Drill {
    /// Whether it runs in this scene: what it needs is there, and one of its checks was selected.
    pub fn applies(&self, scene: &Scene<'_>, results: &[CheckResult]) -> bool {
        self.needs.iter().all(|n| n.met(scene)) && results.iter().any(|r| self.checks.contains(&r.id))
    }
}

/// Every drill, in the order a run goes through them.
pub const DRILLS: &[Drill] = &[
    Drill {
        name: "pgBackRest backups and restores",
        // BR-01…BR-03 are the listing (`verify::backup`), also without --drills: the drill's runner reads it
        // after removing the scratch copies an earlier run left.
        checks: &["BR-01", "BR-02", "BR-03", "BR-04", "BR-05", "BR-06", "BR-07", "BR-08"],
        needs: &[Need::Pgbackrest],
        run: pgbackrest::step,
    },
    Drill {
        name: "RDS and Aurora restores",
        checks: &["BR-04", "BR-05", "BR-06", "BR-07", "BR-08"],
        needs: &[Need::DrillsFlag, Need::Provisioned],
        run: rds::step,
    },
    Drill {
        name: "secret rotation",
        // Before the failover, which leaves the file's writer a standby (where ALTER ROLE cannot run).
        checks: &["ST-06"],
        needs: &[Need::DrillsFlag],
        run: rotation::step,
    },
    Drill {
        name: "failover",
        checks: &["HA-01", "HA-02", "HA-03", "HA-04", "HA-06"],
        needs: &[Need::DrillsFlag],
        run: failover::step,
    },
    Drill {
        name: "PgBouncer",
        // FA-09 is the PgBouncers' steady state (`verify::pgbouncer_checks`), read whenever their addresses
        // are given; HA-05 stops one of them, with --drills.
        checks: &["FA-09", "HA-05"],
        needs: &[],
        run: pgbouncer::step,
    },
];

/// Runs every drill that applies, in order; what the command must warn about.
pub fn run_all(scene: &Scene<'_>, results: &mut [CheckResult], progress: &dyn Progress) -> Vec<String> {
    let mut warnings = Vec::new();
    for drill in DRILLS {
        if drill.applies(scene, results) {
            warnings.extend((drill.run)(scene, results, progress));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_a_drill_names_is_one_verify_decides() {
        for drill in DRILLS {
            for id in drill.checks {
                assert!(crate::verify::checks::CHECKS.iter().any(|c| c.id == *id), "{}: {id}", drill.name);
            }
        }
    }
}
