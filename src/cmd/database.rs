//! The database stage shared by `migrate`, `plan` and `apply`: connect, check, migrate, reconcile.

use std::time::Duration;

use serde::Serialize;
use tokio_postgres::Client;

use super::Context;
use crate::config::model::Backend;
use crate::config::Loaded;
use crate::db::migrate::{self, Migration, Status};
use crate::db::policies::{self, PolicyPlan};
use crate::db::{connect, preflight, target};
use crate::error::Failure;

/// The migrations this environment's backend runs; a misnamed file or a missing variant is a
/// configuration error, found before anything connects.
pub fn migrations(ctx: &Context, loaded: &Loaded) -> Result<Vec<Migration>, Failure> {
    migrate::discover(&ctx.root.join("sql/migrations"), loaded.env.timeseries.backend).map_err(Failure::usage)
}

/// The SQL stage talks to one database at a time: a single-threaded runtime is enough.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

pub async fn connect(ctx: &Context, loaded: &Loaded) -> Result<Client, String> {
    let work_dir = crate::terraform::work_dir(ctx, loaded, None);
    let target = target::resolve(loaded, ctx.database_url.as_deref(), &work_dir).await?;
    connect::connect(&target).await.map_err(|e| e.to_string())
}

/// The database part of a plan.
#[derive(Debug, Default, Serialize)]
pub struct DatabasePlan {
    /// Why the database part was not planned (not reachable, no host yet), if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub pending_migrations: Vec<String>,
    /// Problems that stop every migration (a changed or missing file, a partial migration).
    pub blockers: Vec<String>,
    /// `None` where glctl does not reconcile policies (the native backend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<PolicyPlan>,
}

impl DatabasePlan {
    pub fn has_changes(&self) -> bool {
        !self.pending_migrations.is_empty()
            || !self.blockers.is_empty()
            || self.policies.as_ref().is_some_and(|p| !p.changes.is_empty())
    }

    pub fn render(&self) -> String {
        let mut out = String::from("Database:\n");
        if let Some(why) = &self.skipped {
            out.push_str(&format!("  not planned: {why}\n"));
            return out;
        }
        for problem in &self.blockers {
            out.push_str(&format!("  PROBLEM {problem}\n"));
        }
        if self.pending_migrations.is_empty() {
            out.push_str("  migrations: up to date\n");
        } else {
            out.push_str(&format!("  migrations: {} pending\n", self.pending_migrations.len()));
            for file in &self.pending_migrations {
                out.push_str(&format!("    + {file}\n"));
            }
        }
        match &self.policies {
            None => out.push_str("  policies: not managed by glctl on the native backend (pg_partman's part_config)\n"),
            Some(p) if p.changes.is_empty() => out.push_str("  policies: match the environment file\n"),
            Some(p) => {
                out.push_str(&format!("  policies: {} change(s)\n", p.changes.len()));
                for change in &p.changes {
                    out.push_str(&format!("    {}\n", change.describe()));
                }
                if !p.missing.is_empty() {
                    out.push_str(&format!(
                        "    (not in the database yet, created by the migrations: {})\n",
                        p.missing.join(", ")
                    ));
                }
            }
        }
        if let Some(p) = &self.policies {
            if !p.unmanaged.is_empty() {
                out.push_str(&format!("  left alone (not in the environment file): {}\n", p.unmanaged.join(", ")));
            }
        }
        out
    }
}

/// Plans the database part; an unreachable database is reported in the plan, not as a failure.
pub async fn plan(ctx: &Context, loaded: &Loaded, migrations: &[Migration]) -> DatabasePlan {
    let client = match connect(ctx, loaded).await {
        Ok(client) => client,
        Err(why) => return DatabasePlan { skipped: Some(why), ..DatabasePlan::default() },
    };
    match plan_with(&client, loaded, migrations).await {
        Ok(plan) => plan,
        Err(e) => {
            DatabasePlan { skipped: Some(format!("reading the database failed: {e}")), ..DatabasePlan::default() }
        }
    }
}

/// The files on disk against the ledger in the database.
pub async fn status(client: &Client, migrations: &[Migration]) -> Result<Status, String> {
    let ledger = migrate::ledger(client).await.map_err(|e| e.to_string())?;
    Ok(migrate::compare(migrations, &ledger))
}

/// Fails, naming every problem, when an applied file changed or is missing or one stopped part-way.
pub fn refuse_blocked(status: &Status) -> Result<(), Failure> {
    match status.blockers() {
        blockers if blockers.is_empty() => Ok(()),
        blockers => Err(Failure::problems(format!("nothing was run:\n{}", blockers.join("\n")))),
    }
}

async fn plan_with(client: &Client, loaded: &Loaded, migrations: &[Migration]) -> Result<DatabasePlan, String> {
    let status = status(client, migrations).await?;
    let policies = match loaded.env.timeseries.backend {
        Backend::Timescaledb => Some(policies::plan(client, &loaded.env).await.map_err(|e| e.to_string())?),
        Backend::Native => None,
    };
    Ok(DatabasePlan {
        skipped: None,
        pending_migrations: status.pending.iter().map(Migration::file_name).collect(),
        blockers: status.blockers(),
        policies,
    })
}

/// What the database stage of `apply` did.
#[derive(Debug, Default)]
pub struct DatabaseOutcome {
    pub migrations_applied: Vec<String>,
    pub migrations_already_applied: usize,
    pub policy_changes: Vec<String>,
    /// False on the native backend and for `migrate apply`.
    pub policies_reconciled: bool,
}

/// Checks, migrates under the advisory lock, then (with `reconcile`) makes the policies match. Nothing runs when a check
/// fails; a failing migration stops the stage with what was applied before it.
pub struct ApplyOptions {
    /// How long to wait for another applier's advisory lock.
    pub lock_timeout: Duration,
    /// Make the policies match the environment after migrating (`apply`; not `migrate apply`).
    pub reconcile: bool,
    /// Allow policy changes that drop data sooner (a shorter retention).
    pub allow_destroy: bool,
}

pub async fn apply(
    ctx: &Context,
    loaded: &Loaded,
    migrations: &[Migration],
    options: &ApplyOptions,
) -> Result<DatabaseOutcome, Failure> {
    let mut client = connect(ctx, loaded).await.map_err(Failure::problems)?;
    let status = status(&client, migrations).await.map_err(Failure::problems)?;
    refuse_blocked(&status)?;
    let pending: Vec<&Migration> = status.pending.iter().collect();
    preflight::check_extensions(&client, &pending, &loaded.env).await.map_err(Failure::problems)?;
    migrate::lock(&client, options.lock_timeout, || {
        eprintln!("waiting for another glctl to finish applying migrations…")
    })
    .await
    .map_err(Failure::problems)?;
    let result = migrate_and_reconcile(&mut client, loaded, migrations, options).await;
    migrate::unlock(&client).await;
    result
}

async fn migrate_and_reconcile(
    client: &mut Client,
    loaded: &Loaded,
    migrations: &[Migration],
    options: &ApplyOptions,
) -> Result<DatabaseOutcome, Failure> {
    migrate::ensure_ledger(client).await.map_err(|e| Failure::problems(e.to_string()))?;
    // Re-read under the lock: another applier may have done the work meanwhile.
    let status = status(client, migrations).await.map_err(Failure::problems)?;
    let bar = indicatif::ProgressBar::new(status.pending.len() as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} migrations {msg}").expect("template"));
    let applied = migrate::apply_pending(client, &status.pending, |m, took| {
        bar.inc(1);
        bar.println(format!("applied {} ({} ms)", m.file_name(), took.as_millis()));
    })
    .await;
    bar.finish_and_clear();
    let migrations_applied = applied.map_err(|e| Failure::problems(e.to_string()))?;
    let mut outcome = DatabaseOutcome {
        migrations_applied,
        migrations_already_applied: status.applied.len(),
        policy_changes: Vec::new(),
        policies_reconciled: options.reconcile && loaded.env.timeseries.backend == Backend::Timescaledb,
    };
    if outcome.policies_reconciled {
        let plan = policies::plan(client, &loaded.env).await.map_err(|e| Failure::problems(e.to_string()))?;
        if !plan.missing.is_empty() {
            return Err(Failure::problems(format!(
                "the environment declares {} but the database has no such hypertable or continuous aggregate; \
                 a migration must create it",
                plan.missing.join(", ")
            )));
        }
        let destructive: Vec<String> = plan.changes.iter().filter(|c| c.destructive).map(|c| c.describe()).collect();
        if !destructive.is_empty() && !options.allow_destroy {
            return Err(Failure::problems(format!(
                "{}refusing to change policies: these drop data sooner than now:\n  {}\nre-run with --allow-destroy if that is intended",
                outcome.render_migrations(),
                destructive.join("\n  ")
            )));
        }
        policies::apply(client, &plan.changes).await.map_err(Failure::problems)?;
        outcome.policy_changes = plan.changes.iter().map(|c| c.describe()).collect();
    }
    Ok(outcome)
}

impl DatabaseOutcome {
    pub fn render(&self, environment: &str) -> String {
        let mut out = self.render_migrations();
        if !self.policies_reconciled {
            return out;
        }
        if self.policy_changes.is_empty() {
            out.push_str(&format!("policies: no changes, {environment} matches its environment file\n"));
        } else {
            out.push_str(&format!("policies: {} change(s) applied\n", self.policy_changes.len()));
            for change in &self.policy_changes {
                out.push_str(&format!("  {change}\n"));
            }
        }
        out
    }

    fn render_migrations(&self) -> String {
        let mut out = String::new();
        if self.migrations_applied.is_empty() {
            out.push_str(&format!("migrations: none to apply ({} already applied)\n", self.migrations_already_applied));
        } else {
            out.push_str(&format!(
                "migrations: {} applied ({}); {} already applied\n",
                self.migrations_applied.len(),
                self.migrations_applied.join(", "),
                self.migrations_already_applied
            ));
        }
        out
    }
}
