//! `glctl migrate status|apply|lint`: the versioned SQL in `sql/migrations/` against the environment's database.

use std::time::Duration;

use super::progress::MigrationBar;
use super::Context;
use crate::cli::{MigrateAction, MigrateArgs, ReportFormat};
use crate::database::lint::{self, LintReport};
use crate::database::stage::ApplyOptions;
use crate::error::{Error, Exit};

pub fn run(ctx: &Context, args: &MigrateArgs) -> Result<Exit, Error> {
    if let MigrateAction::Rehearse(rehearse) = args.action {
        return super::rehearse::run(ctx, &rehearse);
    }
    if let MigrateAction::Lint { output } = args.action {
        let loaded = ctx.load_with_warnings(super::Warnings::Undecided)?;
        let report = lint::lint_environment(&ctx.project.migrations(), &loaded.environment)?;
        print_lint(&report, output);
        // An error is a migration that must not run as written: like a misnamed migration, a bad input (2).
        return Ok(if report.has_errors() { Exit::Usage } else { Exit::Ok });
    }
    let session = ctx.session(None, super::Warnings::Undecided)?;
    let stage = session.database_stage()?;
    session.runtime.block_on(async {
        match args.action {
            MigrateAction::Status => {
                let client = match stage.connect().await {
                    Ok(client) => client,
                    Err(e) if e.is_unreachable() => {
                        eprintln!("NOT CHECKED: {e}");
                        return Ok(Exit::Incomplete);
                    }
                    Err(e) => return Err(e.into()),
                };
                let status = stage.status(&client).await?;
                for m in &status.applied {
                    println!("applied  {}", m.path.display());
                }
                for m in &status.pending {
                    println!("pending  {}", m.path.display());
                }
                for problem in status.blockers(false) {
                    println!("PROBLEM  {problem}");
                }
                Ok(if status.is_up_to_date() { Exit::Ok } else { Exit::Problems })
            }
            MigrateAction::Apply if args.dry_run => {
                for m in stage.pending(args.allow_out_of_order).await? {
                    let how = if m.no_transaction { "outside a transaction" } else { "in one transaction" };
                    println!("would apply {} ({how})", m.path.display());
                }
                Ok(Exit::Ok)
            }
            MigrateAction::Lint { .. } => unreachable!("handled above: lint needs no database"),
            MigrateAction::Rehearse(_) => unreachable!("handled above: its own command module"),
            MigrateAction::Apply => {
                let options = ApplyOptions {
                    lock_timeout: Duration::from_secs(args.lock_timeout),
                    reconcile: false,
                    allow_destroy: false,
                    allow_out_of_order: args.allow_out_of_order,
                };
                let outcome = stage.apply(&options, &MigrationBar::default()).await?;
                for file in &outcome.migrations_applied {
                    eprintln!("applied {file}");
                }
                println!(
                    "{} migration(s) applied; {} already applied",
                    outcome.migrations_applied.len(),
                    outcome.migrations_already_applied
                );
                Ok(Exit::Ok)
            }
        }
    })
}

fn print_lint(report: &LintReport, output: ReportFormat) {
    match output {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(report).expect("json")),
        ReportFormat::Text => {
            for finding in &report.findings {
                println!("{finding}");
            }
            let errors = report.errors().count();
            println!(
                "{} statement(s) in {} migration(s): {errors} error(s), {} warning(s)",
                report.statements,
                report.files,
                report.findings.len() - errors
            );
        }
    }
}
