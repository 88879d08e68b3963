//! `glctl validate`: check environments offline and report every problem at once.

use serde::Serialize;

use super::Context;
use crate::cli::{ReportFormat, ValidateArgs};
use crate::config::diagnostics::{Diagnostic, Severity};
use crate::config::{self, loader, ConfigError, Loaded};
use crate::engine::capabilities;
use crate::error::{Error, Exit};

#[derive(Serialize)]
struct Report {
    environment: String,
    valid: bool,
    summary: String,
    diagnostics: Vec<Diagnostic>,
}

pub fn run(ctx: &Context, args: &ValidateArgs) -> Result<Exit, Error> {
    let names: Vec<String> = if args.all {
        loader::list(&ctx.project.root).into_iter().filter(|n| n != "base").collect()
    } else {
        vec![ctx.env_name()?.to_string()]
    };
    if names.is_empty() {
        return Err(Error::Usage(format!("no environments under {}", ctx.project.root.join("environments").display())));
    }
    let mut reports = Vec::new();
    for name in &names {
        let migrations = ctx.project.migrations();
        let columns = crate::database::indexes::column_rules(&migrations);
        reports.push(match config::load_with(&ctx.project.root, name, &columns) {
            Ok(loaded) => Report {
                environment: loaded.name.clone(),
                valid: true,
                summary: valid_summary(&loaded),
                diagnostics: loaded.warnings,
            },
            Err(e @ ConfigError::NotFound(_)) => return Err(e.into()),
            Err(ConfigError::Invalid { name, diagnostics }) => Report {
                summary: config::summary_line(&name, &diagnostics),
                environment: name,
                valid: false,
                diagnostics,
            },
        });
    }
    match args.output {
        ReportFormat::Json => {
            // One environment: its report; --all: `{"environments": [...]}` (docs/output.md).
            if args.all {
                super::json::print(serde_json::json!({ "environments": reports }));
            } else {
                super::json::print(&reports[0]);
            }
        }
        ReportFormat::Text => {
            for report in &reports {
                for d in &report.diagnostics {
                    eprintln!("{}", ctx.diagnostic_line(d));
                }
                if report.valid {
                    println!("{}", report.summary);
                } else {
                    eprintln!("{}", report.summary);
                }
            }
        }
    }
    Ok(if reports.iter().all(|r| r.valid) { Exit::Ok } else { Exit::Usage })
}

fn valid_summary(loaded: &Loaded) -> String {
    let env = &loaded.environment;
    let warnings = loaded.warnings.iter().filter(|d| d.severity == Severity::Warning).count();
    let engine =
        serde_json::to_value(env.engine.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    format!(
        "{}: valid ({engine} {}, {} backend, {} hypertables, {} continuous aggregates, {warnings} warning{})",
        loaded.name,
        env.engine.version,
        capabilities::backend_label(env.timeseries.backend),
        env.hypertables.len(),
        env.continuous_aggregates.len(),
        if warnings == 1 { "" } else { "s" }
    )
}
