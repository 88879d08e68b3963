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
        let sizes = if ctx.database_url.is_some() {
            let session = ctx.session(None, super::Warnings::Undecided)?;
            let stage = session.database_stage()?;
            session.runtime.block_on(async {
                let client = stage.connect().await.map_err(|e| e.to_string())?;
                lint::read_sizes(&client).await.map_err(|e| format!("reading pg_class failed: {e}"))
            })
        } else {
            Err("no --database-url".to_string())
        };
        let loaded = ctx.load_with_warnings(super::Warnings::Undecided)?;
        let report = lint::lint_environment(&ctx.project.migrations(), &loaded.environment, sizes)?;
        print_lint(&report, output);
        // An error is a migration that must not run as written: like a misnamed migration, a bad input (2).
        return Ok(if report.has_errors() { Exit::Usage } else { Exit::Ok });
    }
    let session = ctx.session(None, super::Warnings::Undecided)?;
    let stage = session.database_stage()?;
    session.runtime.block_on(async {
        match args.action {
            MigrateAction::Status { output } => {
                let client = match stage.connect().await {
                    Ok(client) => client,
                    Err(e) if e.is_unreachable() => {
                        eprintln!("NOT CHECKED: {e}");
                        if output == ReportFormat::Json {
                            // Not checked is never "up to date": the document says so, and exit 3.
                            super::json::print(serde_json::json!({
                                "environment": session.loaded.name,
                                "checked": false,
                                "up_to_date": null,
                                "reason": e.to_string(),
                            }));
                        }
                        return Ok(Exit::Incomplete);
                    }
                    Err(e) => return Err(e.into()),
                };
                let status = stage.status(&client).await?;
                let problems = status.blockers(false);
                match output {
                    ReportFormat::Json => {
                        let applied: Vec<String> =
                            status.applied.iter().map(|m| m.path.display().to_string()).collect();
                        let pending: Vec<String> =
                            status.pending.iter().map(|m| m.path.display().to_string()).collect();
                        super::json::print(serde_json::json!({
                            "environment": session.loaded.name,
                            "checked": true,
                            "up_to_date": status.is_up_to_date(),
                            "applied": applied,
                            "pending": pending,
                            "partial": status.resumable(),
                            "problems": problems,
                        }));
                    }
                    ReportFormat::Text => {
                        for m in &status.applied {
                            println!("applied  {}", m.path.display());
                        }
                        for m in &status.pending {
                            println!("pending  {}", m.path.display());
                        }
                        for note in status.resumable() {
                            println!("PARTIAL  {note}");
                        }
                        for problem in &problems {
                            println!("PROBLEM  {problem}");
                        }
                    }
                }
                Ok(if status.is_up_to_date() { Exit::Ok } else { Exit::Problems })
            }
            MigrateAction::Apply { dry_run: true, output } => {
                let pending = stage.pending(args.allow_out_of_order).await?;
                match output {
                    ReportFormat::Json => {
                        let would: Vec<_> = pending
                            .iter()
                            .map(|m| serde_json::json!({ "path": m.path, "in_transaction": !m.no_transaction }))
                            .collect();
                        super::json::print(
                            serde_json::json!({ "environment": session.loaded.name, "would_apply": would }),
                        );
                    }
                    ReportFormat::Text => {
                        for m in &pending {
                            let how = if m.no_transaction { "outside a transaction" } else { "in one transaction" };
                            println!("would apply {} ({how})", m.path.display());
                        }
                    }
                }
                Ok(Exit::Ok)
            }
            MigrateAction::Lint { .. } => unreachable!("handled above: lint needs no database"),
            MigrateAction::Rehearse(_) => unreachable!("handled above: its own command module"),
            MigrateAction::Apply { dry_run: false, output } => {
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
                match output {
                    ReportFormat::Json => super::json::print(serde_json::json!({
                        "environment": session.loaded.name,
                        "applied": outcome.migrations_applied,
                        "already_applied": outcome.migrations_already_applied,
                    })),
                    ReportFormat::Text => println!(
                        "{} migration(s) applied; {} already applied",
                        outcome.migrations_applied.len(),
                        outcome.migrations_already_applied
                    ),
                }
                Ok(Exit::Ok)
            }
        }
    })
}

fn print_lint(report: &LintReport, output: ReportFormat) {
    match output {
        ReportFormat::Json => super::json::print(report),
        ReportFormat::Text => {
            for finding in &report.findings {
                println!("{finding}");
            }
            if let Some(sizes) = &report.table_sizes {
                println!("table sizes: {sizes}");
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
