//! The apply operation: the saved Terraform plan (planned again only when stale), then the migrations and the
//! time-series policies, then the time it was applied (a promotion's soak time counts from it). What happens
//! along the way (a new plan, the question before changes, each resource, each stage's end) goes to an
//! observer, so the command shows a failing database stage after what Terraform already did.

use std::path::Path;
use std::time::Duration;

use super::Session;
use crate::database::stage::{self, DatabaseOutcome, Progress};
use crate::error::Error;
use crate::infra::terraform::runner::ApplyEvent;
use crate::infra::{self, InfraApplied, PlanRecord};

/// What to apply, and what is allowed.
pub struct ApplyOptions {
    /// The Terraform stage.
    pub infrastructure: bool,
    /// The migrations and the policies.
    pub database: bool,
    /// Replacing or destroying stateful resources, or policies that drop data sooner.
    pub allow_destroy: bool,
    /// How long to wait for another applier's migration lock.
    pub lock_timeout: Duration,
    /// Run a migration numbered below the last applied one.
    pub allow_out_of_order: bool,
    /// Change a production environment's engine version.
    pub allow_engine_upgrade: bool,
}

/// Who watches an apply: the command's printing and questions.
pub trait ApplyObserver {
    /// Work of unknown length began (`Some`: what it is) or ended (`None`).
    fn working(&mut self, what: Option<&str>);
    /// There was no saved plan made from these files; `record` was planned just now in `dir`.
    fn replanned(&self, record: &PlanRecord, dir: &Path);
    /// Asked once before the infrastructure changes: an `Err` stops the apply with nothing changed.
    fn confirm(&self, question: &str) -> Result<(), Error>;
    /// One resource operation started or finished.
    fn resource(&mut self, event: ApplyEvent);
    /// The infrastructure stage ended; `changes` is 0 when the plan had none.
    fn infrastructure_done(&mut self, environment: &str, changes: usize, applied: &InfraApplied);
    /// The database stage ended.
    fn database_done(&mut self, environment: &str, outcome: &DatabaseOutcome);
    /// Progress of the migrations.
    fn migrations(&self) -> &dyn Progress;
}

/// What the apply did.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub infrastructure: Option<InfraApplied>,
    pub database: Option<DatabaseOutcome>,
}

pub fn run(session: &Session, options: &ApplyOptions, observer: &mut dyn ApplyObserver) -> Result<ApplyOutcome, Error> {
    let (loaded, dir) = (&session.loaded, &session.dir);
    // Checked before anything is applied: a missing backend variant must not stop us half-way.
    let database = if options.database { Some(session.database_stage()?) } else { None };
    let mut outcome = ApplyOutcome::default();
    if options.infrastructure {
        let account = session.runtime.block_on(session.aws.verify())?;
        observer.working(Some(&format!("checking the saved plan of {}", loaded.name)));
        let ready = infra::ready_plan(
            &session.project,
            loaded,
            account,
            dir,
            infra::Allowed { destroy: options.allow_destroy, engine_upgrade: options.allow_engine_upgrade },
        );
        observer.working(None);
        let ready = ready?;
        if ready.replanned {
            observer.replanned(&ready.record, dir);
        }
        let changes = ready.record.summary.changes.len();
        if changes > 0 {
            observer.confirm(&format!("Apply {changes} change(s) to {}?", loaded.name))?;
        }
        let applied = infra::apply(loaded, ready, |event| observer.resource(event))?;
        observer.infrastructure_done(&loaded.name, changes, &applied);
        outcome.infrastructure = Some(applied);
    }
    if let Some(stage) = database {
        let stage_options = stage::ApplyOptions {
            lock_timeout: options.lock_timeout,
            reconcile: true,
            allow_destroy: options.allow_destroy,
            allow_out_of_order: options.allow_out_of_order,
        };
        let done = session.runtime.block_on(stage.apply(&stage_options, observer.migrations()))?;
        observer.database_done(&loaded.name, &done);
        outcome.database = Some(done);
    }
    let (now, _) = crate::clock::now();
    crate::promote::history::record_apply(dir, &loaded.name, &now)
        .map_err(|e| Error::Usage(format!("applied, but cannot record it: {e}")))?;
    Ok(outcome)
}
