//! The promote operation, in two steps with the user's yes between them. `prepare` takes the lock on DST and
//! checks every gate (order, verified, soak, checkout, drift, DST's plan, the environment diff) without
//! changing anything; `execute` applies to DST, verifies it and writes the promotion record. A refused
//! promotion is an `Error::Gate` (2) naming every gate; a gate that could not be checked `GateNotChecked` (3).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::apply::{self, ApplyObserver, ApplyOptions};
use super::drift::{self, DriftOptions};
use super::verify::{self, VerifyOptions};
use super::Session;
use crate::config::interval::Interval;
use crate::config::Loaded;
use crate::database::migrate;
use crate::database::policies::Change;
use crate::error::{Error, Exit};
use crate::infra::{self, PlanRecord};
use crate::project::Project;
use crate::promote::bundle::{self, Bundle};
use crate::promote::envdiff::{self, EnvironmentDiff};
use crate::promote::gates::{self, Passed, Refusal};
use crate::promote::history::{self, SavedRun};
use crate::promote::lock::{self, PromoteLock};
use crate::promote::{self, PromotionRecord};
use crate::verify::Status;

/// What to promote where, and what is allowed.
pub struct PromoteOptions {
    /// SRC and DST as `-e` would name them (a name under `environments/` or a path), as bundles record them.
    pub from_arg: String,
    pub to_arg: String,
    /// DST's work directory (default `.glctl/DST/`).
    pub out: Option<PathBuf>,
    /// SRC's work directory, where its verify runs are.
    pub source_out: Option<PathBuf>,
    pub allow_destroy: bool,
    /// Refuse unexplained environment differences instead of warning about them.
    pub strict: bool,
    /// How long to wait for another promotion into DST, or an applier's migration lock.
    pub lock_timeout: Duration,
    /// Where DST's SQL stage connects, when not its own endpoint.
    pub database_url: Option<String>,
}

/// Who watches a promotion: the command's printing, its question, and the apply inside it.
pub trait PromoteObserver: ApplyObserver {
    /// The bundle being promoted, before anything waits or is checked.
    fn promoting(&self, from: &str, to: &str, bundle: &Bundle);
    /// Another promotion into `environment` holds its lock.
    fn waiting_for_other_promotion(&self, environment: &str);
    /// That promotion ended; every gate is checked again.
    fn other_promotion_ended(&self);
}

/// What `prepare` found.
pub enum Prepared {
    /// While this run waited, another landed the same bundle in DST.
    AlreadyDone { environment: String, bundle: String, at: String },
    /// Every gate passed: what `execute` will do.
    Ready(Box<Ready>),
}

/// A promotion whose gates passed, holding DST's lock until it is executed or dropped.
pub struct Ready {
    _lock: PromoteLock,
    pub src: Loaded,
    /// DST, opened once for its plan, its apply and its verify.
    pub dst: Session,
    pub bundle: Bundle,
    pub passed: Vec<Passed>,
    /// DST's Terraform plan, and the migrations and policy changes its database would get.
    pub plan: PlanRecord,
    pub pending_migrations: Vec<String>,
    pub policy_changes: Vec<Change>,
    pub diff: EnvironmentDiff,
    /// With `strict` off: the unexplained differences, for a warning.
    pub unexplained: Option<String>,
    record: PromotionRecord,
}

/// A promotion that was applied: its record (saved), and DST's verify.
pub struct Promoted {
    pub record: PromotionRecord,
    pub record_path: PathBuf,
    /// DST's verify run, and what it warns about.
    pub verify: verify::VerifyOutcome,
    pub exit: Exit,
}

/// Takes DST's lock and checks every gate; changes nothing.
pub fn prepare(
    project: &Project,
    src: Loaded,
    dst: Loaded,
    options: &PromoteOptions,
    observer: &mut dyn PromoteObserver,
) -> Result<Prepared, Error> {
    let bundle = source_bundle(project, &src, &options.from_arg)?;
    observer.promoting(&src.name, &dst.name, &bundle);
    let src_dir = project.work_dir(&src, options.source_out.as_deref());
    let dst_dir = project.work_dir(&dst, options.out.as_deref());

    let (guard, waited) =
        lock::acquire(&dst_dir, options.lock_timeout, || observer.waiting_for_other_promotion(&dst.name))
            .map_err(Error::GateNotChecked)?;
    if waited {
        observer.other_promotion_ended();
        if let Some(done) = history::latest_promotion(&dst_dir).map_err(|e| Error::Gate(e.to_string()))? {
            if done.bundle == bundle.digest && done.outcome == "promoted" {
                return Ok(Prepared::AlreadyDone { environment: dst.name, bundle: bundle.short().into(), at: done.at });
            }
        }
    }

    // The cheap gates first, all of them, so one run names every refusal.
    let (now, now_secs) = crate::clock::now();
    let promotion = dst.environment.promotion.clone();
    let max_age = promotion.as_ref().map(|p| p.max_age).unwrap_or(Interval { months: 0, days: 7, seconds: 0 });
    let (run, verified_gate) = match history::latest_run(&src_dir) {
        Ok(run) => {
            let checks: Vec<&str> = crate::verify::checks::CHECKS.iter().map(|c| c.id).collect();
            let gate = gates::verified(&src.name, run.as_ref(), &bundle, &max_age, now_secs, &checks);
            (run, gate)
        }
        Err(e) => (
            None,
            Err(Refusal {
                gate: "verified",
                saw: e.to_string(),
                needs: format!("run `glctl verify -e {}` again", src.name),
            }),
        ),
    };
    let applied_at = history::latest_apply(&src_dir).ok().flatten().and_then(|t| promote::parse_time(&t));
    let seen = promote::checkout(&project.root, run.as_ref().and_then(|r| r.git_commit.as_deref()));
    let mut passed: Vec<Passed> = Vec::new();
    let mut refused: Vec<Refusal> = Vec::new();
    for gate in [
        gates::order(&src.name, &dst),
        verified_gate,
        gates::soak(&src.name, promotion.as_ref().and_then(|p| p.min_soak.as_ref()), applied_at, now_secs),
        gates::checkout(run.as_ref(), &seen),
    ] {
        match gate {
            Ok(p) => passed.push(p),
            Err(r) => refused.push(r),
        }
    }
    if !refused.is_empty() {
        return Err(refusal(&passed, &refused, "drift and the target's plan were not checked"));
    }

    // DST has no drift: a hand change must be seen before a promotion lands on it.
    let session = Session::open(project, dst, options.out.as_deref(), options.database_url.clone());
    observer.working(Some(&format!("reading drift of {}", session.loaded.name)));
    let report = drift::run(
        &session,
        &DriftOptions { infrastructure: true, database: true, lock_timeout: options.lock_timeout },
    );
    observer.working(None);
    match gates::drift(&session.loaded.name, &report?) {
        Ok(Ok(p)) => passed.push(p),
        Ok(Err(r)) => {
            refused.push(r);
            return Err(refusal(&passed, &refused, "the target's plan was not checked"));
        }
        Err(unread) => {
            return Err(Error::GateNotChecked(format!(
                "{}\ngate `drift` could not be checked: {unread}; nothing was changed",
                passed_lines(&passed)
            )))
        }
    }

    // DST's plan: nothing destructive unless allow_destroy.
    let dst_name = session.loaded.name.clone();
    let account = session.runtime.block_on(session.aws.verify())?;
    observer.working(Some(&format!("terraform plan for {dst_name}")));
    let record = infra::plan(project, &session.loaded, account, &session.dir);
    observer.working(None);
    let record = record?;
    let database = {
        let stage = session.database_stage()?;
        session.runtime.block_on(stage.plan())?
    };
    if let Some(why) = &database.not_checked {
        return Err(Error::GateNotChecked(format!(
            "{}\ngate `plan` could not be checked: the database of {dst_name}: {why}; nothing was changed",
            passed_lines(&passed),
        )));
    }
    let mut plan_lines: Vec<String> =
        record.summary.changes.iter().map(|c| format!("{} {:?}", c.address, c.action)).collect();
    plan_lines.extend(database.pending_migrations.iter().map(|m| format!("migration {m}")));
    let policy_changes = database.policies.as_ref().map(|p| p.changes.clone()).unwrap_or_default();
    plan_lines.extend(policy_changes.iter().map(|c| c.describe()));
    let mut destructive: Vec<String> = record.summary.destructive().iter().map(|c| c.address.clone()).collect();
    destructive.extend(policy_changes.iter().filter(|c| c.destructive).map(|c| c.describe()));
    if !destructive.is_empty() && !options.allow_destroy {
        refused.push(Refusal {
            gate: "plan",
            saw: format!("the plan of {dst_name} destroys or drops data: {}", destructive.join("; ")),
            needs: "re-run with --allow-destroy if that is intended".into(),
        });
        return Err(refusal(&passed, &refused, ""));
    }
    let lint_errors = crate::database::lint::located(database.lint.iter());
    if !lint_errors.is_empty() {
        refused.push(Refusal {
            gate: "plan",
            saw: format!("the pending migrations of {dst_name} have lint errors: {}", lint_errors.join("; ")),
            needs: format!("fix them or silence each with a reason (`glctl migrate lint -e {dst_name}` shows why and the safe recipe)"),
        });
        return Err(refusal(&passed, &refused, ""));
    }
    passed.push(Passed {
        gate: "plan",
        saw: format!("{} change(s), {} destructive", plan_lines.len(), destructive.len()),
    });

    // The migrations carried to DST were rehearsed on SRC's shape within DST's budget, or block nothing.
    let carried = carried(&session.database_stage()?.migrations, &database.pending_migrations, &session.loaded);
    let budget_ms = session
        .loaded
        .environment
        .migrations
        .as_ref()
        .map_or(crate::config::migrations::DEFAULT_MAX_BLOCKING_MS, |m| m.max_blocking_ms());
    let gate = match crate::promote::rehearsals::load_all(&src_dir) {
        Ok(records) => gates::rehearsed(&src.name, &dst_name, &carried, &records, budget_ms),
        Err(e) => Err(Refusal {
            gate: "rehearsed",
            saw: e,
            needs: format!("remove it and run `glctl migrate rehearse -e {}` again", src.name),
        }),
    };
    match gate {
        Ok(p) => passed.push(p),
        Err(r) => {
            refused.push(r);
            return Err(refusal(&passed, &refused, ""));
        }
    }

    // The environment diff: declared differences are expected; others refuse only when strict.
    let diff = envdiff::diff(&src.environment, &session.loaded.environment);
    let mut unexplained = None;
    if !diff.unexplained.is_empty() {
        let what = format!(
            "{} difference(s) {} → {dst_name} are not in {dst_name}'s promotion.differs",
            diff.unexplained.len(),
            src.name,
        );
        if options.strict {
            refused.push(Refusal {
                gate: "environment diff",
                saw: what,
                needs: "declare them in promotion.differs, or make the files agree".into(),
            });
            return Err(refusal(&passed, &refused, ""));
        }
        unexplained = Some(what);
    }

    let src_run: SavedRun = run.expect("the verified gate passed");
    let line = |d: &envdiff::FieldDifference| format!("{}: {} → {}", d.path, d.from, d.to);
    let record_draft = PromotionRecord {
        from: src.name.clone(),
        to: dst_name,
        actor: promote::actor(&project.root),
        at: now,
        git_commit: seen.head.clone(),
        bundle: bundle.digest.clone(),
        source_verify_run: src_run.path.display().to_string(),
        source_verified_at: src_run.at.clone(),
        gates: passed.iter().map(|p| format!("{}: {}", p.gate, p.saw)).collect(),
        plan: plan_lines,
        declared_differences: diff.declared.iter().map(line).collect(),
        unexplained_differences: diff.unexplained.iter().map(line).collect(),
        outcome: String::new(),
        target_verify_run: None,
        target_verify: None,
    };
    Ok(Prepared::Ready(Box::new(Ready {
        _lock: guard,
        src,
        dst: session,
        bundle,
        passed,
        plan: record,
        pending_migrations: database.pending_migrations.clone(),
        policy_changes,
        diff,
        unexplained,
        record: record_draft,
    })))
}

/// Applies the prepared promotion to DST, verifies DST and saves the promotion record (also when the apply
/// or the verify fails, saying so).
pub fn execute<P: verify::Progress>(
    ready: Ready,
    options: &PromoteOptions,
    observer: &mut dyn PromoteObserver,
    progress: &P,
) -> Result<Promoted, Error> {
    let Ready { _lock, dst, mut record, .. } = ready;
    let apply_options = ApplyOptions {
        infrastructure: true,
        database: true,
        allow_destroy: options.allow_destroy,
        lock_timeout: options.lock_timeout,
        allow_out_of_order: false,
        // A promotion never changes a production engine version: that is `glctl apply --allow-engine-upgrade`.
        allow_engine_upgrade: false,
    };
    if let Err(e) = apply::run(&dst, &apply_options, observer) {
        record.outcome = format!("apply failed: {e}");
        save_record(&dst.dir, &record)?;
        return Err(e);
    }
    // GLCTL_POOLER_URL names one environment's PgBouncers, not necessarily the target's: FA-09 stays
    // undecided in a promotion's verify (no poolers, no drills, no bench).
    let verify_options = VerifyOptions { env_arg: options.to_arg.clone(), ..VerifyOptions::default() };
    let outcome = match verify::run(&dst, &verify_options, progress) {
        Err(e) => {
            record.outcome = format!("target verify could not run: {e}");
            save_record(&dst.dir, &record)?;
            return Err(e);
        }
        Ok(outcome) => outcome,
    };
    let run = &outcome.run;
    record.target_verify_run = Some(outcome.saved.display().to_string());
    let count = |s: Status| run.results.iter().filter(|r| r.status == s).count();
    record.target_verify = Some(format!(
        "{} passed, {} failed, {} skipped, {} could not be decided",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skip),
        count(Status::Error)
    ));
    let exit = run.exit();
    record.outcome = match exit {
        Exit::Ok => "promoted".into(),
        Exit::Incomplete => "applied; the target's verify could not decide everything".into(),
        _ => "applied; the target's verify FAILED".into(),
    };
    let record_path = save_record(&dst.dir, &record)?;
    Ok(Promoted { record, record_path, verify: outcome, exit })
}

fn source_bundle(project: &Project, src: &Loaded, env_arg: &str) -> Result<Bundle, Error> {
    let migrations = migrate::discover(&project.migrations(), src.environment.timeseries.backend)
        .map_err(|e| Error::Usage(e.to_string()))?;
    bundle::compute(project, src, env_arg, &migrations).map_err(|e| Error::Usage(e.to_string()))
}

fn save_record(dir: &Path, record: &PromotionRecord) -> Result<PathBuf, Error> {
    let text = serde_json::to_string_pretty(record).expect("the record serialises");
    history::save(dir, history::PROMOTIONS_DIR, &record.at, &text)
        .map_err(|e| Error::Usage(format!("cannot write the promotion record: {e}")))
}

/// `gate `NAME` passed: …`, one line per gate that passed.
pub fn passed_lines(passed: &[Passed]) -> String {
    passed.iter().map(|p| format!("gate `{}` passed: {}", p.gate, p.saw)).collect::<Vec<_>>().join("\n")
}

fn refusal(passed: &[Passed], refused: &[Refusal], unchecked: &str) -> Error {
    let mut lines: Vec<String> = passed.iter().map(|p| format!("gate `{}` passed: {}", p.gate, p.saw)).collect();
    lines.extend(refused.iter().map(|r| r.to_string()));
    if !unchecked.is_empty() {
        lines.push(format!("not checked: {unchecked}"));
    }
    lines.push("promotion refused; nothing was changed".into());
    Error::Gate(lines.join("\n"))
}

/// Lint rules whose finding means a statement takes a lock that blocks the application's reads or writes.
const BLOCKING_RULES: [&str; 7] = ["ML001", "ML003", "ML004", "ML006", "ML007", "ML008", "ML011"];

/// The pending migrations of DST (`pending` file names) with the blocking-lock rules lint finds in them, read
/// with their `-- glctl:allow` silences blanked out (a silence is a reason, not a measurement).
fn carried(all: &[migrate::Migration], pending: &[String], dst: &Loaded) -> Vec<gates::Carried> {
    use crate::database::lint::{self, Knowledge};
    let unsilenced: Vec<migrate::Migration> = all
        .iter()
        .map(|m| {
            let sql: Vec<&str> =
                m.sql.lines().map(|l| if l.trim_start().starts_with("-- glctl:allow") { "" } else { l }).collect();
            migrate::Migration { sql: sql.join("\n"), ..m.clone() }
        })
        .collect();
    let in_run: std::collections::BTreeSet<String> =
        unsilenced.iter().filter(|m| pending.contains(&m.file_name())).map(|m| m.path.display().to_string()).collect();
    let findings = if in_run.is_empty() {
        Vec::new()
    } else {
        lint::lint_run(&unsilenced, &Knowledge::of(&dst.environment), &in_run).findings
    };
    all.iter()
        .filter(|m| pending.contains(&m.file_name()))
        .map(|m| {
            let path = m.path.display().to_string();
            let mut blocking: Vec<String> = findings
                .iter()
                .filter(|f| f.file == path && BLOCKING_RULES.contains(&f.rule.id()))
                .map(|f| f.rule.id().to_string())
                .collect();
            blocking.sort();
            blocking.dedup();
            gates::Carried { file: m.file_name(), version: m.version, checksum: m.checksum.clone(), blocking }
        })
        .collect()
}
