//! The database stage shared by `migrate`, `plan` and `apply`: connect, check, migrate, reconcile. Returns
//! typed results; progress goes to the caller's `Progress`, never to the terminal directly.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::Client;

use super::connect::Target;
use super::lint::{self, Finding, Knowledge, LintReport};
use super::migrate::{self, Migration, Status};
use super::native;
use super::policies::{self, Change, PolicyPlan};
use super::target::{self, Source};
use super::{connect, indexes, logins, objects, preflight, refreshes, DatabaseError};
use crate::aws::AwsContext;
use crate::config::model::{Backend, Environment};
use crate::config::Loaded;
use crate::project::Project;

/// What the stage tells its caller while it works; every method defaults to saying nothing.
pub trait Progress {
    /// Another glctl holds the migration lock; told once.
    fn waiting_for_lock(&self) {}
    fn migrations_started(&self, _pending: usize) {}
    fn migration_applied(&self, _file: &str, _took: Duration) {}
    fn migrations_finished(&self) {}
}

/// What `apply` makes in the database for the pooler in front of it (PgBouncer's `auth_query` lookup, see
/// `pgbouncer::auth::setup`): given by the caller, so this stage imports nothing of the pooler's. It answers
/// what it made, or `None` when the environment needs nothing.
pub type PoolerSetup =
    for<'c> fn(&'c Client, &'c Environment) -> Pin<Box<dyn Future<Output = Result<Option<String>, String>> + 'c>>;

/// One environment's database: the migrations its backend runs and where they go.
pub struct DatabaseStage<'a> {
    loaded: &'a Loaded,
    source: Source<'a>,
    aws: &'a AwsContext,
    pooler_setup: Option<PoolerSetup>,
    pub migrations: Vec<Migration>,
}

impl<'a> DatabaseStage<'a> {
    /// Reads the migrations for the environment's backend: a misnamed file or a missing variant is a
    /// configuration error, found before anything connects.
    pub fn new(
        project: &Project,
        loaded: &'a Loaded,
        database_url: Option<&'a str>,
        work_dir: &Path,
        aws: &'a AwsContext,
    ) -> Result<Self, DatabaseError> {
        let migrations = migrate::discover(&project.migrations(), loaded.environment.timeseries.backend)
            .map_err(DatabaseError::Migrations)?;
        let source = match database_url {
            Some(url) => Source::Url(url),
            None => Source::Environment { work_dir: work_dir.to_path_buf() },
        };
        Ok(DatabaseStage { loaded, source, aws, pooler_setup: None, migrations })
    }

    /// The pooler's setup `apply` runs after the policies, before the baseline.
    pub fn with_pooler_setup(mut self, setup: PoolerSetup) -> Self {
        self.pooler_setup = Some(setup);
        self
    }

    pub async fn connect(&self) -> Result<Client, DatabaseError> {
        Ok(self.connect_with_target().await?.0)
    }

    pub(crate) async fn connect_with_target(&self) -> Result<(Client, Target), DatabaseError> {
        let target = target::resolve(self.loaded, &self.source, self.aws).await?;
        Ok((connect::connect(&target).await?, target))
    }

    /// On the native backend, a connection to pg_cron's database when that is not the application's
    /// (`cron.database_name`); jobs are created and read there.
    pub(crate) async fn cron_client(&self, app: &Client, target: &Target) -> Result<Option<Client>, DatabaseError> {
        if self.loaded.environment.timeseries.backend != Backend::Native {
            return Ok(None);
        }
        let row = app
            .query_one("SELECT current_setting('cron.database_name', true), current_database()::text", &[])
            .await
            .map_err(DatabaseError::query("cron.database_name"))?;
        match row.get::<_, Option<String>>(0) {
            Some(cron_database) if cron_database != row.get::<_, String>(1) => {
                let elsewhere = Target { database: cron_database, ..target.clone() };
                Ok(Some(connect::connect(&elsewhere).await?))
            }
            _ => Ok(None),
        }
    }

    /// The reconciler's diff for `app`, with pg_cron's database where that is another one.
    pub(crate) async fn policy_plan(&self, app: &Client, target: &Target) -> Result<PolicyPlan, DatabaseError> {
        let cron = self.cron_client(app, target).await?;
        self.policy_plan_using(app, cron.as_ref()).await
    }

    /// The same diff with pg_cron's connection already open (`cron_client`), for a caller that reads more there.
    pub(crate) async fn policy_plan_using(
        &self,
        app: &Client,
        cron: Option<&Client>,
    ) -> Result<PolicyPlan, DatabaseError> {
        self.read_policies(app, cron).await.map_err(DatabaseError::query("the time-series policies"))
    }

    /// The time-series policies of the environment's backend against the database.
    async fn read_policies(&self, app: &Client, cron: Option<&Client>) -> Result<PolicyPlan, tokio_postgres::Error> {
        self.read_policies_of(&self.loaded.environment, app, cron).await
    }

    /// The same diff against `env` instead of the file (drift compares with what apply last made).
    pub(crate) async fn policy_plan_against(
        &self,
        env: &crate::config::model::Environment,
        app: &Client,
        target: &Target,
    ) -> Result<PolicyPlan, DatabaseError> {
        let cron = self.cron_client(app, target).await?;
        self.read_policies_of(env, app, cron.as_ref()).await.map_err(DatabaseError::query("the time-series policies"))
    }

    async fn read_policies_of(
        &self,
        env: &crate::config::model::Environment,
        app: &Client,
        cron: Option<&Client>,
    ) -> Result<PolicyPlan, tokio_postgres::Error> {
        match env.timeseries.backend {
            Backend::Timescaledb => policies::plan(app, env).await,
            Backend::Native => Ok(native::diff(env, &native::read_live(app, cron).await?)),
        }
    }

    /// The files on disk against the ledger in the database.
    pub async fn status(&self, client: &Client) -> Result<Status, DatabaseError> {
        let ledger = migrate::ledger(client).await.map_err(DatabaseError::query("the migration ledger"))?;
        Ok(migrate::compare(&self.migrations, &ledger))
    }

    /// Plans the database part. A database that cannot be reached or read is reported in the plan as not
    /// checked (never as "no changes"); only a configuration error fails.
    pub async fn plan(&self) -> Result<DatabasePlan, DatabaseError> {
        let planned = match self.connect_with_target().await {
            Ok((client, target)) => self.plan_with(&client, &target).await,
            Err(e) => Err(e),
        };
        match planned {
            Err(e) if e.is_unreachable() => Ok(DatabasePlan::not_checked(e.to_string())),
            other => other,
        }
    }

    async fn plan_with(&self, client: &Client, target: &Target) -> Result<DatabasePlan, DatabaseError> {
        let status = self.status(client).await?;
        let policies = Some(self.policy_plan(client, target).await?);
        Ok(DatabasePlan {
            not_checked: None,
            pending_migrations: status.pending.iter().map(Migration::file_name).collect(),
            blockers: status.blockers(false),
            policies,
            lint: self.lint_pending(&status).findings,
            indexes: Some(
                indexes::status(client, &self.loaded.environment)
                    .await
                    .map_err(DatabaseError::query("the declared indexes"))?,
            ),
        })
    }

    /// `migrate lint` over the pending migrations as the run that applies them together (the earlier ones
    /// teach it which tables exist).
    pub fn lint_pending(&self, status: &Status) -> LintReport {
        let pending: std::collections::BTreeSet<String> =
            status.pending.iter().map(|m| m.path.display().to_string()).collect();
        if pending.is_empty() {
            return LintReport::default();
        }
        lint::lint_run(&self.migrations, &Knowledge::of(&self.loaded.environment), &pending)
    }

    /// What `migrate apply --dry-run` would run; refuses like `apply` when something blocks.
    pub async fn pending(&self, allow_out_of_order: bool) -> Result<Vec<Migration>, DatabaseError> {
        let client = self.connect().await?;
        let status = self.status(&client).await?;
        refuse_blocked(&status, allow_out_of_order)?;
        Ok(status.pending)
    }

    /// Checks, migrates under the advisory lock, then (with `reconcile`) makes the policies match. Nothing
    /// runs when a check fails; a failure names what was applied before it.
    pub async fn apply(
        &self,
        options: &ApplyOptions,
        progress: &dyn Progress,
    ) -> Result<DatabaseOutcome, DatabaseError> {
        let (mut client, target) = self.connect_with_target().await?;
        let status = self.status(&client).await?;
        refuse_blocked(&status, options.allow_out_of_order)?;
        let lint_errors = lint::located(self.lint_pending(&status).findings.iter());
        if !lint_errors.is_empty() {
            return Err(DatabaseError::Lint(lint_errors));
        }
        let pending: Vec<&Migration> = status.pending.iter().collect();
        preflight::check_extensions(&client, &pending, &self.loaded.environment).await?;
        super::lockwait::refuse_transaction_pooler(&client, &self.loaded.environment, target.port)
            .await
            .map_err(|why| DatabaseError::Blocked(vec![why]))?;
        migrate::lock(&client, options.lock_timeout, || progress.waiting_for_lock())
            .await
            .map_err(DatabaseError::Lock)?;
        let result = self.migrate_and_reconcile(&mut client, &target, options, progress).await;
        migrate::unlock(&client).await;
        result
    }

    async fn migrate_and_reconcile(
        &self,
        client: &mut Client,
        target: &Target,
        options: &ApplyOptions,
        progress: &dyn Progress,
    ) -> Result<DatabaseOutcome, DatabaseError> {
        migrate::ensure_ledger(client).await.map_err(DatabaseError::query("the migration ledger"))?;
        // Re-read under the lock: another applier may have done the work meanwhile.
        let status = self.status(client).await?;
        progress.migrations_started(status.pending.len());
        let (timeout, retries) = crate::config::migrations::lock_wait(&self.loaded.environment);
        let lock_wait = migrate::LockWait { timeout: Some(timeout), retries };
        let observer = super::lockwait::observer(client, target).await;
        let applied = migrate::apply_pending(client, observer.as_ref(), &status.pending, lock_wait, |m, took| {
            progress.migration_applied(&m.file_name(), took)
        })
        .await;
        progress.migrations_finished();
        let mut outcome = DatabaseOutcome {
            migrations_applied: applied?,
            migrations_already_applied: status.applied.len(),
            policy_changes: Vec::new(),
            policy_problems: Vec::new(),
            policies_reconciled: options.reconcile,
            logins: None,
            login_notes: Vec::new(),
            summaries_populated: Vec::new(),
            pooler_lookup: None,
            indexes_built: Vec::new(),
            indexes_took: Duration::ZERO,
        };
        if outcome.policies_reconciled {
            let fail =
                |message: String| DatabaseError::Policies { applied: outcome.migrations_applied.clone(), message };
            let mut cron = self.cron_client(client, target).await.map_err(|e| fail(e.to_string()))?;
            let plan = self.read_policies(client, cron.as_ref()).await.map_err(|e| fail(connect::reason(&e)))?;
            if !plan.missing.is_empty() {
                return Err(fail(format!(
                    "the environment declares {} but the database has no such hypertable or continuous aggregate; \
                     a migration must create it",
                    plan.missing.join(", ")
                )));
            }
            let destructive: Vec<String> =
                plan.changes.iter().filter(|c| c.destructive).map(|c| c.describe()).collect();
            if !destructive.is_empty() && !options.allow_destroy {
                return Err(fail(format!(
                    "refusing to change policies: these drop data sooner than now:\n  {}\nre-run with --allow-destroy if that is intended",
                    destructive.join("\n  ")
                )));
            }
            let (on_cron, on_app): (Vec<&Change>, Vec<&Change>) = plan.changes.iter().partition(|c| c.on_cron_database);
            policies::apply(client, &on_app).await.map_err(fail)?;
            // The schedule is pg_cron's, in its own database: after the tables it maintains are in place.
            policies::apply(cron.as_mut().unwrap_or(client), &on_cron)
                .await
                .map_err(|e| fail(format!("{e} (the partition and summary changes before it were applied)")))?;
            // apply's own populate is a refresh: recorded so verify judges a fresh summary as fresh.
            let populated = match self.loaded.environment.timeseries.backend {
                Backend::Native => {
                    plan.changes.iter().filter(|c| c.setting == "populated").map(|c| c.object.clone()).collect()
                }
                Backend::Timescaledb => {
                    refreshes::populate_timescaledb(client, &self.loaded.environment).await.map_err(fail)?
                }
            };
            refreshes::record(client, &populated, "glctl apply").await.map_err(|e| fail(connect::reason(&e)))?;
            outcome.summaries_populated = populated;
            // Declared indexes after the migrations made their tables; before the baseline, so drift counts
            // them as glctl's.
            let built = indexes::build(client, &self.loaded.environment).await.map_err(|e| fail(e.to_string()))?;
            outcome.indexes_built = built.done;
            outcome.indexes_took = built.took;
            // PgBouncer's auth_query lookup, before the baseline: drift counts it as glctl's.
            if let Some(setup) = self.pooler_setup {
                outcome.pooler_lookup = setup(client, &self.loaded.environment).await.map_err(fail)?;
            }
            // What the migrations and policies made, as drift will compare it.
            objects::save_baseline(client, &self.loaded.environment).await.map_err(|e| fail(connect::reason(&e)))?;
            outcome.policy_changes = plan.changes.iter().map(|c| c.describe()).collect();
            outcome.policy_problems = plan.problems.clone();
            match self.source {
                Source::Environment { .. } => {
                    let (done, notes) = logins::reconcile(client, &self.loaded.environment, self.aws)
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    outcome.logins = Some(done);
                    outcome.login_notes = notes;
                }
                Source::Url(_) => {}
            }
        }
        Ok(outcome)
    }
}

/// Fails, naming every problem, when an applied file changed or is missing or one stopped part-way.
pub fn refuse_blocked(status: &Status, allow_out_of_order: bool) -> Result<(), DatabaseError> {
    match status.blockers(allow_out_of_order) {
        blockers if blockers.is_empty() => Ok(()),
        blockers => Err(DatabaseError::Blocked(blockers)),
    }
}

/// The database part of a plan.
#[derive(Debug, Default, Serialize)]
pub struct DatabasePlan {
    /// Why the database part was not checked (not reachable, no host yet), if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
    pub pending_migrations: Vec<String>,
    /// Problems that stop every migration (a changed or missing file, a partial migration).
    pub blockers: Vec<String>,
    /// The time-series policies (TimescaleDB or native), when the database was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<PolicyPlan>,
    /// `migrate lint`'s findings in the pending migrations: errors make `apply` and `promote` refuse.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lint: Vec<Finding>,
    /// The declared indexes (`hypertables.<table>.indexes`): to create, present, INVALID or incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexes: Option<Vec<indexes::IndexStatus>>,
}

impl DatabasePlan {
    pub fn not_checked(why: String) -> Self {
        DatabasePlan { not_checked: Some(why), ..DatabasePlan::default() }
    }

    pub fn has_changes(&self) -> bool {
        !self.pending_migrations.is_empty()
            || !self.blockers.is_empty()
            || self.policies.as_ref().is_some_and(|p| !p.changes.is_empty() || !p.problems.is_empty())
            || self.indexes.iter().flatten().any(indexes::IndexStatus::is_change)
    }
}

/// How `apply` runs the database stage.
pub struct ApplyOptions {
    /// How long to wait for another applier's advisory lock.
    pub lock_timeout: Duration,
    /// Make the policies match the environment after migrating (`apply`; not `migrate apply`).
    pub reconcile: bool,
    /// Allow policy changes that drop data sooner (a shorter retention).
    pub allow_destroy: bool,
    /// Run migrations numbered below the last applied one.
    pub allow_out_of_order: bool,
}

/// What the database stage of `apply` did.
#[derive(Debug, Default)]
pub struct DatabaseOutcome {
    pub migrations_applied: Vec<String>,
    pub migrations_already_applied: usize,
    pub policy_changes: Vec<String>,
    /// What the reconciler found that applying does not change (rows in a default partition).
    pub policy_problems: Vec<String>,
    /// False for `migrate apply`.
    pub policies_reconciled: bool,
    /// What was done to the application's logins; `None` when glctl did not manage them (`--database-url`,
    /// or `migrate apply`).
    pub logins: Option<Vec<String>>,
    pub login_notes: Vec<String>,
    /// Summaries apply refreshed itself (never refreshed before), recorded in `glctl.summary_refreshes`.
    pub summaries_populated: Vec<String>,
    /// PgBouncer's auth_query lookup, made for `pooling.kind: pgbouncer` (`pgbouncer::auth`).
    pub pooler_lookup: Option<String>,
    /// Declared indexes (and their partitions) apply built.
    pub indexes_built: Vec<String>,
    /// How long building them took.
    pub indexes_took: Duration,
}

#[cfg(test)]
mod tests {
    use super::DatabasePlan;

    #[test]
    fn an_unchecked_database_has_no_changes_but_is_not_clean() {
        let plan = DatabasePlan::not_checked("cannot connect".into());
        assert!(!plan.has_changes());
        assert_eq!(plan.not_checked.as_deref(), Some("cannot connect"));
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["not_checked"], "cannot connect");
    }

    #[test]
    fn pending_migrations_and_blockers_are_changes() {
        let plan = DatabasePlan { pending_migrations: vec!["0001_roles.sql".into()], ..Default::default() };
        assert!(plan.has_changes());
        let plan = DatabasePlan { blockers: vec!["changed".into()], ..Default::default() };
        assert!(plan.has_changes());
    }
}
