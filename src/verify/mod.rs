//! `verify`: the acceptance criteria of PRD §10 (and a reviewer's additions) as checks decided against the
//! target, each with the evidence it was decided on. Facts are gathered once (`facts`), every check is a
//! pure decision over them (`checks`), and one result model is rendered four ways (`report`). Verify judges
//! and never acts: the drills (`crate::drills`) restore, fail over and stop, and hand their observations to
//! the pure judgements here (`restore_verdict`, `point_in_time`, `failover_verdict`, `restore_size`); every
//! later decision goes in through `set_result`, where a waiver holds.

pub mod backup;
pub mod backup_rds;
pub mod backup_retention;
pub mod bench_checks;
pub mod checks;
pub mod emulator;
pub mod facts;
pub mod failover_verdict;
pub mod pgbouncer_checks;
pub mod point_in_time;
pub mod poll;
pub mod rds_source;
pub mod rehearsal;
pub mod replication;
pub mod report;
pub mod restore_size;
pub mod restore_verdict;
pub mod rotation_verdict;

use serde::Serialize;

use crate::config::model::Environment;
use crate::error::Exit;
use checks::{Check, CHECKS};
use facts::Facts;

/// What a check observed, against what, from where, and when.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    pub observed: String,
    pub expected: String,
    /// The API call or SQL that produced `observed`.
    pub source: String,
    pub at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skip {
    /// Does not apply to this engine or backend (the reason says why).
    NotApplicable,
    /// Waived in the environment file (or an accepted risk) until its expiry.
    Waived,
    NeedsDrills,
    NeedsBench,
    /// Against an AWS emulator, whose invented values would decide it (`emulator`): neither a PASS nor a
    /// FAIL; the reason names the emulator and what it reported.
    Emulated,
}

/// A check's decision.
#[derive(Debug)]
pub enum Outcome {
    Pass(Vec<Evidence>),
    Fail(String, Vec<Evidence>),
    Skip(Skip, String),
    /// Could not be decided; the reason says why.
    Error(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    Skip,
    Error,
}

impl Status {
    /// As every report prints it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
            Status::Error => "ERROR",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub section: &'static str,
    pub category: &'static str,
    pub title: &'static str,
    pub method: &'static str,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
    /// Why it failed, was skipped or could not be decided; on a PASS, what stood in for the real thing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub evidence: Vec<Evidence>,
    /// Set where the result comes from an AWS emulator, saying which and what that means for it
    /// (`emulator::apply`); every report shows it on the result's line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emulated: Option<String>,
}

/// One verify run: what was verified and every result.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyRun {
    pub environment: String,
    pub at: String,
    pub git_commit: Option<String>,
    /// SHA-256 of the effective configuration (as `glctl show --output json` prints it).
    pub configuration_hash: String,
    /// SHA-256 of the rendered Terraform root module.
    pub terraform_hash: Option<String>,
    /// Migration file → checksum, as verified.
    pub migrations: Vec<(String, String)>,
    /// The bundle verified (`promote::bundle`): what a promotion from this environment carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<crate::promote::bundle::Bundle>,
    /// The AWS emulator the run talked to instead of AWS (`emulator`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_emulator: Option<emulator::Emulator>,
    pub results: Vec<CheckResult>,
}

impl VerifyRun {
    /// A run of `results` with placeholder provenance, for tests of what is decided and rendered from them.
    #[cfg(test)]
    pub(crate) fn of(results: Vec<CheckResult>) -> VerifyRun {
        VerifyRun {
            environment: "e".into(),
            at: "t".into(),
            git_commit: None,
            configuration_hash: "h".into(),
            terraform_hash: None,
            migrations: vec![],
            bundle: None,
            aws_emulator: None,
            results,
        }
    }

    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// 0 when nothing failed and everything was decided, 1 when something failed, 3 when nothing failed but
    /// something could not be decided.
    pub fn exit(&self) -> Exit {
        if self.count(Status::Fail) > 0 {
            Exit::Problems
        } else if self.count(Status::Error) > 0 {
            Exit::Incomplete
        } else {
            Exit::Ok
        }
    }
}

/// Which checks run: `--only`/`--skip` by ID or prefix (`ST-`), and whether drills and benchmarks may.
#[derive(Debug, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub drills: bool,
    pub bench: bool,
}

impl Selection {
    fn matches(pattern: &str, id: &str) -> bool {
        id.eq_ignore_ascii_case(pattern) || (pattern.ends_with('-') && id.starts_with(&pattern.to_ascii_uppercase()))
    }

    pub fn includes(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| Self::matches(p, id)))
            && !self.skip.iter().any(|p| Self::matches(p, id))
    }

    /// Patterns that name no check (a typo would silently verify nothing).
    pub fn unknown_patterns(&self) -> Vec<String> {
        self.only.iter().chain(&self.skip).filter(|p| !CHECKS.iter().any(|c| Self::matches(p, c.id))).cloned().collect()
    }
}

/// Decides every selected check over `facts`. Waivers in the environment file hold until their expiry date.
pub fn decide(env: &Environment, facts: &Facts, selection: &Selection, today: &str) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .filter(|c| selection.includes(c.id))
        .map(|check| {
            let waiver = env
                .acceptance
                .waivers
                .iter()
                .find(|w| w.check.eq_ignore_ascii_case(check.id) && w.expires.as_str() >= today);
            let outcome = match waiver {
                Some(w) => Outcome::Skip(Skip::Waived, format!("waived until {}: {}", w.expires, w.reason)),
                None => match (check.decide)(env, facts) {
                    Outcome::Skip(Skip::NeedsDrills, _) if selection.drills => {
                        Outcome::Error("--drills was given, but glctl has no drill for this check yet".into())
                    }
                    Outcome::Skip(Skip::NeedsBench, _) if selection.bench => {
                        Outcome::Error("--bench was given, but glctl has no benchmark for this check yet".into())
                    }
                    other => other,
                },
            };
            let mut result = result(check, outcome, &facts.at);
            if let Some(note) = bench_checks::stand_in(facts, check.id) {
                result.stand_in(&note);
            }
            result
        })
        .collect()
}

/// The one production gate of the drills (every one: failover, restores, the PgBouncer drill), decided before
/// anything is gathered. A drill on a production tier needs `--allow-production` or the file's `acceptance.drills: allowed`.
pub fn drills_permitted(env: &Environment, allow_production: bool) -> Result<(), String> {
    let allowed = env.acceptance.drills == Some(crate::config::drills::DrillPermission::Allowed);
    if env.tier == crate::config::model::Tier::Production && !allow_production && !allowed {
        return Err("drills change a production target (a failover moves its writer, a restore drill creates scratch \
                    instances that cost money, the PgBouncer drill stops a pooler its clients use): pass \
                    --allow-production, or declare `acceptance.drills: allowed` in the environment file"
            .into());
    }
    Ok(())
}

/// The one waiver rule: puts `outcome` into the result of check `id`, as `decide` would have — unless the
/// check is waived. Every later stage (a drill, a backup listing, the PgBouncer checks) decides through this,
/// and none overrides a waiver.
pub fn set_result(results: &mut [CheckResult], id: &str, outcome: Outcome, at: &str) {
    if let Some(result) = results.iter_mut().find(|r| r.id == id && !r.waived()) {
        result.set(outcome, at);
    }
}

/// The last step before a run is reported, after the drills, the backup listings and the PgBouncer checks
/// have put their results in: the emulator rule (`emulator::apply`) over every result.
pub fn conclude(results: &mut [CheckResult], env: &Environment, facts: &Facts) {
    emulator::apply(results, env, facts.aws_emulator.as_ref());
}

fn result(check: &Check, outcome: Outcome, at: &str) -> CheckResult {
    let mut result = CheckResult {
        id: check.id,
        section: check.section,
        category: check.category(),
        title: check.title,
        method: check.method,
        status: Status::Error,
        skip: None,
        reason: None,
        evidence: Vec::new(),
        emulated: None,
    };
    result.set(outcome, at);
    result
}

impl CheckResult {
    /// Waived in the environment file (until its expiry): nothing after `decide` decides it (`set_result`).
    pub fn waived(&self) -> bool {
        self.skip == Some(Skip::Waived)
    }

    /// Replaces the result with `outcome`, its evidence stamped `at`: how `decide` fills a result, and how
    /// a later stage (a drill, a backup listing, the PgBouncer checks) decides one `decide` left open.
    pub fn set(&mut self, outcome: Outcome, at: &str) {
        let stamp = |mut evidence: Vec<Evidence>| {
            for e in &mut evidence {
                e.at = at.to_string();
            }
            evidence
        };
        let (status, skip, reason, evidence) = match outcome {
            Outcome::Pass(e) => (Status::Pass, None, None, stamp(e)),
            Outcome::Fail(why, e) => (Status::Fail, None, Some(why), stamp(e)),
            Outcome::Skip(kind, why) => (Status::Skip, Some(kind), Some(why), vec![]),
            Outcome::Error(why) => (Status::Error, None, Some(why), vec![]),
        };
        (self.status, self.skip, self.reason, self.evidence) = (status, skip, reason, evidence);
    }

    /// Says in the one-line reason that the result was decided on a stand-in (`note`: what stood in for
    /// what), not only in its evidence. Only a PASS or FAIL is decided on anything.
    pub fn stand_in(&mut self, note: &str) {
        let prefix = format!("stand-in: {note}");
        self.reason = match (self.status, self.reason.take()) {
            (Status::Pass, None) => Some(prefix),
            (Status::Pass | Status::Fail, Some(why)) if !why.starts_with("stand-in: ") => {
                Some(format!("{prefix}; {why}"))
            }
            (_, reason) => reason,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use facts::{AwsFacts, DbFacts};

    fn env(waivers: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\n\
             acceptance:\n  waivers: [{waivers}]\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn unreachable() -> Facts {
        Facts::unread("down")
    }

    #[test]
    fn only_and_skip_take_ids_and_prefixes() {
        let s =
            Selection { only: vec!["st-".into(), "FA-01".into()], skip: vec!["ST-03".into()], ..Default::default() };
        assert!(s.includes("ST-01") && s.includes("FA-01"));
        assert!(!s.includes("ST-03") && !s.includes("FA-02"));
        let typo = Selection { only: vec!["SX-".into()], ..Default::default() };
        assert_eq!(typo.unknown_patterns(), ["SX-"]);
    }

    #[test]
    fn a_waiver_holds_until_its_expiry_then_the_check_runs_again() {
        let e = env("{ check: ST-01, reason: 'PGlite speaks no TLS', expires: '2027-03-31' }");
        let only = Selection { only: vec!["ST-01".into()], ..Default::default() };
        let before = decide(&e, &unreachable(), &only, "2027-03-31");
        assert_eq!((before[0].status, before[0].skip), (Status::Skip, Some(Skip::Waived)));
        assert!(before[0].reason.as_deref().unwrap().contains("PGlite speaks no TLS"));
        let after = decide(&e, &unreachable(), &only, "2027-04-01");
        assert_eq!(after[0].status, Status::Error, "runs again, and cannot decide without a database");
    }

    #[test]
    fn waivers_name_exactly_the_checks_verify_decides() {
        let decided: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        assert_eq!(decided, crate::config::waivers::CRITERIA);
    }

    #[test]
    fn exit_is_problems_on_a_failure_and_incomplete_when_only_undecided() {
        let e = env("");
        let results = decide(&e, &unreachable(), &Selection::default(), "2026-11-26");
        let run = VerifyRun::of;
        let unreachable_run = run(results);
        assert_eq!(unreachable_run.count(Status::Pass), 0, "nothing passes without facts");
        assert_eq!(unreachable_run.exit(), Exit::Incomplete);
        let mut facts = unreachable();
        facts.database = Ok(DbFacts::default());
        facts.aws = Ok(AwsFacts { account: "999999999999".into(), ..AwsFacts::default() });
        assert_eq!(run(decide(&e, &facts, &Selection::default(), "2026-11-26")).exit(), Exit::Problems);
    }

    #[test]
    fn drills_and_benchmarks_never_pretend() {
        let e = env("");
        let with =
            Selection { only: vec!["HA-01".into(), "PB-01".into()], drills: true, bench: true, ..Default::default() };
        let results = decide(&e, &unreachable(), &with, "2026-11-26");
        assert!(results.iter().all(|r| r.status == Status::Error), "{results:?}");
        let without = Selection { only: vec!["HA-01".into(), "PB-01".into()], ..Default::default() };
        let results = decide(&e, &unreachable(), &without, "2026-11-26");
        assert_eq!(results[0].skip, Some(Skip::NeedsBench));
        assert_eq!(results[1].skip, Some(Skip::NeedsDrills));
    }
}
