//! `glctl apply`: the saved Terraform plan (planned again only when stale), then the migrations and the
//! time-series policies. Each stage reports as it finishes, so a failing database stage still shows what
//! Terraform did.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::progress::{with_spinner, MigrationBar, ResourceSpinners};
use super::{plan, Context};
use crate::cli::{ApplyArgs, Stage};
use crate::database::stage::{ApplyOptions, DatabaseOutcome};
use crate::error::{Error, Exit};
use crate::infra;

pub fn run(ctx: &Context, args: &ApplyArgs) -> Result<Exit, Error> {
    let session = ctx.session(args.out.as_deref(), super::Warnings::Undecided)?;
    let (loaded, dir, runtime, aws) = (&session.loaded, &session.dir, &session.runtime, &session.aws);
    // Checked before anything is applied: a missing backend variant must not stop us half-way.
    let database = match args.only {
        Some(Stage::Infra) => None,
        _ => Some(session.database_stage()?),
    };
    if args.only != Some(Stage::Database) {
        let account = runtime.block_on(aws.verify())?;
        let ready = with_spinner(&format!("checking the saved plan of {}", loaded.name), || {
            infra::ready_plan(&ctx.project, loaded, account, dir, args.allow_destroy)
        })?;
        if ready.replanned {
            eprintln!("No saved plan for these files; planned again:");
            eprint!("{}", plan::describe(&ready.record, dir));
        }
        let changes = ready.record.summary.changes.len();
        if changes == 0 {
            infra::apply(loaded, ready, |_| {})?;
            println!("infrastructure: no changes, {} already matches its environment file", loaded.name);
        } else {
            confirm(args.yes, &format!("Apply {changes} change(s) to {}?", loaded.name))?;
            let mut spinners = ResourceSpinners::default();
            let applied = infra::apply(loaded, ready, |event| spinners.on_event(event))?;
            println!(
                "infrastructure: applied {} resource operation(s) to {} (longest {:.0}s); outputs in {}",
                applied.operations.len(),
                loaded.name,
                applied.longest_seconds(),
                applied.outputs_file.display()
            );
        }
    }
    if let Some(stage) = database {
        let options = ApplyOptions {
            lock_timeout: Duration::from_secs(args.lock_timeout),
            reconcile: true,
            allow_destroy: args.allow_destroy,
            allow_out_of_order: args.allow_out_of_order,
        };
        let outcome = runtime.block_on(stage.apply(&options, &MigrationBar::default()))?;
        print!("{}", describe(&outcome, &loaded.name));
    }
    // When it was applied, for a promotion's soak time.
    let (now, _) = crate::verify::facts::now();
    crate::promote::history::record_apply(dir, &loaded.name, &now)
        .map_err(|e| Error::Usage(format!("applied, but cannot record it: {e}")))?;
    Ok(Exit::Ok)
}

/// Asks on a terminal; elsewhere nobody can answer, so only `--yes` goes ahead.
pub(crate) fn confirm(yes: bool, question: &str) -> Result<(), Error> {
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
