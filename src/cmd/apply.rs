//! `glctl apply`: the saved Terraform plan (planned again only when stale), then the migrations and the
//! time-series policies. Each stage reports as it finishes, so a failing database stage still shows what
//! Terraform did.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::ProgressBar;

use super::progress::{spinner, MigrationBar, ResourceSpinners};
use super::{plan, Context};
use crate::cli::{ApplyArgs, Stage};
use crate::database::stage::{DatabaseOutcome, Progress};
use crate::error::{Error, Exit};
use crate::infra::terraform::runner::ApplyEvent;
use crate::infra::{InfraApplied, PlanRecord};
use crate::ops::apply::{self, ApplyObserver, ApplyOptions};

pub fn run(ctx: &Context, args: &ApplyArgs) -> Result<Exit, Error> {
    let session = ctx.session(args.out.as_deref(), super::Warnings::Undecided)?;
    let options = ApplyOptions {
        infrastructure: args.only != Some(Stage::Database),
        database: args.only != Some(Stage::Infra),
        allow_destroy: args.allow_destroy,
        lock_timeout: Duration::from_secs(args.lock_timeout),
        allow_out_of_order: args.allow_out_of_order,
        allow_engine_upgrade: args.allow_engine_upgrade,
    };
    apply::run(&session, &options, &mut Printer::new(args.yes))?;
    Ok(Exit::Ok)
}

/// How an apply looks on the terminal (also a promotion's apply).
pub(super) struct Printer {
    yes: bool,
    spinner: Option<ProgressBar>,
    resources: ResourceSpinners,
    migrations: MigrationBar,
    /// Where the outcome lines go: stdout, or stderr when stdout carries one JSON document (promote's).
    to_stderr: bool,
}

impl Printer {
    pub(super) fn new(yes: bool) -> Self {
        Printer {
            yes,
            spinner: None,
            resources: ResourceSpinners::default(),
            migrations: MigrationBar::default(),
            to_stderr: false,
        }
    }

    /// The same printer with its outcome lines on stderr.
    pub(super) fn on_stderr(mut self) -> Self {
        self.to_stderr = true;
        self
    }

    pub(super) fn say(&self, text: &str) {
        if self.to_stderr {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
}

impl ApplyObserver for Printer {
    fn working(&mut self, what: Option<&str>) {
        if let Some(done) = self.spinner.take() {
            done.finish_and_clear();
        }
        self.spinner = what.map(spinner);
    }

    fn replanned(&self, record: &PlanRecord, dir: &Path) {
        eprintln!("No saved plan for these files; planned again:");
        eprint!("{}", plan::describe(record, dir));
    }

    fn confirm(&self, question: &str) -> Result<(), Error> {
        confirm(self.yes, question)
    }

    fn resource(&mut self, event: ApplyEvent) {
        self.resources.on_event(event)
    }

    fn infrastructure_done(&mut self, environment: &str, changes: usize, applied: &InfraApplied) {
        if changes == 0 {
            self.say(&format!("infrastructure: no changes, {environment} already matches its environment file\n"));
        } else {
            self.say(&format!(
                "infrastructure: applied {} resource operation(s) to {environment} (longest {:.0}s); outputs in {}\n",
                applied.operations.len(),
                applied.longest_seconds(),
                applied.outputs_file.display()
            ));
        }
    }

    fn database_done(&mut self, environment: &str, outcome: &DatabaseOutcome) {
        self.say(&describe(outcome, environment));
    }

    fn migrations(&self) -> &dyn Progress {
        &self.migrations
    }
}

/// Asks on a terminal; elsewhere nobody can answer, so only `--yes` goes ahead.
pub(super) fn confirm(yes: bool, question: &str) -> Result<(), Error> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage("not on a terminal, so nobody can confirm; re-run with --yes to apply".into()));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok();
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Error::Refused("not applied".into()))
    }
}

fn describe(outcome: &DatabaseOutcome, environment: &str) -> String {
    let mut out = if outcome.migrations_applied.is_empty() {
        format!("migrations: none to apply ({} already applied)\n", outcome.migrations_already_applied)
    } else {
        format!(
            "migrations: {} applied ({}); {} already applied\n",
            outcome.migrations_applied.len(),
            outcome.migrations_applied.join(", "),
            outcome.migrations_already_applied
        )
    };
    if !outcome.policies_reconciled {
        return out;
    }
    for problem in &outcome.policy_problems {
        out.push_str(&format!("PROBLEM {problem}\n"));
    }
    match &outcome.logins {
        None => out.push_str(
            "logins: not managed with --database-url (glctl sets them over the environment's own connection)\n",
        ),
        Some(done) if done.is_empty() => out.push_str("logins: as the environment file says\n"),
        Some(done) => {
            out.push_str(&format!("logins: {} change(s)\n", done.len()));
            for line in done {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    for note in &outcome.login_notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    if let Some(lookup) = &outcome.pooler_lookup {
        out.push_str(&format!("pooling: {lookup}\n"));
    }
    if !outcome.indexes_built.is_empty() {
        out.push_str(&format!(
            "indexes: {} built without blocking writes in {:.1} s\n",
            outcome.indexes_built.len(),
            outcome.indexes_took.as_secs_f64()
        ));
        for line in &outcome.indexes_built {
            out.push_str(&format!("  + {line}\n"));
        }
    }
    if outcome.policy_changes.is_empty() {
        out.push_str(&format!("policies: no changes, {environment} matches its environment file\n"));
    } else {
        out.push_str(&format!("policies: {} change(s) applied\n", outcome.policy_changes.len()));
        for change in &outcome.policy_changes {
            out.push_str(&format!("  {change}\n"));
        }
    }
    out
}
