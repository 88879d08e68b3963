//! `glctl plan`: render, init, plan, and summarise by module.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{database, Context};
use crate::cli::{PlanArgs, ReportFormat, Stage};
use crate::config::diagnostics::Severity;
use crate::config::Loaded;
use crate::error::{Exit, Failure};
use crate::terraform::plan_summary::PlanSummary;
use crate::terraform::runner::Terraform;
use crate::terraform::{self};

pub const PLAN_FILE: &str = "plan.tfplan";
pub const PLAN_RECORD: &str = "plan.json";

/// What a saved plan was made from and what it does; `apply` reads it back.
#[derive(Serialize, Deserialize)]
pub struct PlanRecord {
    pub environment: String,
    /// Digest of the rendered files the plan was made from.
    pub digest: String,
    pub summary: PlanSummary,
    /// Safe defaults this environment gives up on purpose (its accepted risks), shown with every plan.
    pub accepted_risks: Vec<String>,
}

pub fn run(ctx: &Context, args: &PlanArgs) -> Result<Exit, Failure> {
    let loaded = ctx.load()?;
    let dir = terraform::work_dir(ctx, &loaded, args.out.as_ref());
    // Migration files are checked first: a missing backend variant is a plan-time problem.
    let migrations = database::migrations(ctx, &loaded)?;
    let record = match args.only {
        Some(Stage::Database) => None,
        _ => Some(make_plan(ctx, &loaded, &dir)?),
    };
    let database = match args.only {
        Some(Stage::Infra) => None,
        _ => {
            let spinner = crate::output::spinner(&format!("reading the database of {}", loaded.name));
            let plan = database::runtime().block_on(database::plan(ctx, &loaded, &migrations));
            spinner.finish_and_clear();
            Some(plan)
        }
    };
    match args.output {
        ReportFormat::Json => {
            let mut json = match &record {
                Some(record) => serde_json::to_value(record).expect("json"),
                None => serde_json::json!({ "environment": loaded.name }),
            };
            if let Some(db) = &database {
                json["database"] = serde_json::to_value(db).expect("json");
            }
            println!("{}", serde_json::to_string_pretty(&json).expect("json"));
        }
        ReportFormat::Text => {
            if let Some(record) = &record {
                print!("{}", describe(record, &dir));
            }
            if let Some(db) = &database {
                print!("{}", db.render());
            }
        }
    }
    let changes =
        record.as_ref().is_some_and(|r| !r.summary.is_empty()) || database.as_ref().is_some_and(|d| d.has_changes());
    Ok(if args.detailed_exitcode && changes { Exit::Problems } else { Exit::Ok })
}

/// Renders into `dir`, runs init and plan, and saves the plan and its record there.
pub fn make_plan(ctx: &Context, loaded: &Loaded, dir: &Path) -> Result<PlanRecord, Failure> {
    for w in &loaded.warnings {
        eprintln!("{}", ctx.diagnostic_line(w));
    }
    let rendered = super::render::render_formatted(ctx, loaded)?;
    std::fs::create_dir_all(dir).map_err(|e| Failure::usage(format!("cannot create {}: {e}", dir.display())))?;
    rendered.write(dir).map_err(|e| Failure::usage(format!("cannot write {}: {e}", dir.display())))?;
    let _ = std::fs::remove_file(dir.join(PLAN_RECORD));
    let tf = Terraform::new(dir, terraform::plugin_dir(loaded));
    let spinner = crate::output::spinner(&format!("terraform init and plan for {}", loaded.name));
    let result = tf.init().and_then(|_| tf.plan(PLAN_FILE)).and_then(|_| tf.show_json(PLAN_FILE));
    spinner.finish_and_clear();
    let plan = result.map_err(|e| Failure::usage(e.to_string()))?;
    let record = PlanRecord {
        environment: loaded.name.clone(),
        digest: rendered.digest(),
        summary: PlanSummary::from_show_json(&plan, terraform::emulator::in_use()),
        accepted_risks: loaded
            .warnings
            .iter()
            .filter(|w| w.severity == Severity::Warning && w.message.contains("(accepted risk"))
            .map(|w| format!("{}: {}", w.field, w.message))
            .collect(),
    };
    let text = serde_json::to_string_pretty(&record).expect("json");
    std::fs::write(dir.join(PLAN_RECORD), text)
        .map_err(|e| Failure::usage(format!("cannot write plan record: {e}")))?;
    Ok(record)
}

pub fn describe(record: &PlanRecord, dir: &Path) -> String {
    let mut out = format!("Plan for {} ({}):\n", record.environment, dir.join(PLAN_FILE).display());
    out.push_str(&record.summary.render());
    for risk in &record.accepted_risks {
        out.push_str(&format!("Weakened on purpose: {risk}\n"));
    }
    out
}
