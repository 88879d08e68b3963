//! `glctl plan`: the Terraform plan by module, then the pending migrations and policy changes.

use std::path::Path;

use super::progress::with_spinner;
use super::Context;
use crate::cli::{PlanArgs, ReportFormat, Stage};
use crate::database::stage::DatabasePlan;
use crate::error::{Error, Exit};
use crate::infra::{self, PlanRecord, PLAN_FILE};

pub fn run(ctx: &Context, args: &PlanArgs) -> Result<Exit, Error> {
    let session = ctx.session(args.out.as_deref(), super::Warnings::All)?;
    let (loaded, dir, runtime, aws) = (&session.loaded, &session.dir, &session.runtime, &session.aws);
    // Migration files are checked first: a missing backend variant is a plan-time problem.
    let database = match args.only {
        Some(Stage::Infra) => None,
        _ => Some(session.database_stage()?),
    };
    let record = match args.only {
        Some(Stage::Database) => None,
        _ => {
            let account = runtime.block_on(aws.verify())?;
            let message = format!("terraform init and plan for {}", loaded.name);
            Some(with_spinner(&message, || infra::plan(&ctx.project, loaded, account, dir))?)
        }
    };
    let database = match database {
        Some(stage) => {
            let message = format!("reading the database of {}", loaded.name);
            Some(with_spinner(&message, || runtime.block_on(stage.plan()))?)
        }
        None => None,
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
            json["not_checked"] = serde_json::json!(not_checked(database.as_ref()));
            super::json::print(&json);
        }
        ReportFormat::Text => {
            if let Some(record) = &record {
                print!("{}", describe(record, dir));
            }
            if let Some(db) = &database {
                print!("{}", describe_database(db));
            }
        }
    }
    let changes =
        record.as_ref().is_some_and(|r| !r.summary.is_empty()) || database.as_ref().is_some_and(|d| d.has_changes());
    let mut exit = if args.detailed_exitcode && changes { Exit::Problems } else { Exit::Ok };
    // A lint error in a pending migration: apply and promote will refuse it (2, like a bad migration file).
    if database.as_ref().is_some_and(|d| !crate::database::lint::located(d.lint.iter()).is_empty()) {
        exit = exit.worst(Exit::Usage);
    }
    // An engine change AWS would refuse (a downgrade, a major change without its field): the file is wrong.
    if record.as_ref().is_some_and(|r| !r.summary.engine.blockers().is_empty()) {
        exit = exit.worst(Exit::Usage);
    }
    if !not_checked(database.as_ref()).is_empty() {
        exit = exit.worst(Exit::Incomplete);
    }
    Ok(exit)
}

/// The parts of the plan that could not be checked, each with why.
fn not_checked(database: Option<&DatabasePlan>) -> Vec<String> {
    database.and_then(|d| d.not_checked.as_ref()).map(|why| format!("database: {why}")).into_iter().collect()
}

pub fn describe(record: &PlanRecord, dir: &Path) -> String {
    let mut out = format!(
        "Plan for {} in AWS account {} ({}) ({}):\n",
        record.environment,
        record.account_id,
        record.region,
        dir.join(PLAN_FILE).display()
    );
    out.push_str(&record.summary.describe());
    for risk in &record.accepted_risks {
        out.push_str(&format!("Weakened on purpose: {risk}\n"));
    }
    out
}

fn describe_database(plan: &DatabasePlan) -> String {
    let mut out = String::from("Database:\n");
    if let Some(why) = &plan.not_checked {
        out.push_str(&format!("  NOT CHECKED: {why}\n  (pending migrations and policy changes are unknown; exit 3)\n"));
        return out;
    }
    for problem in &plan.blockers {
        out.push_str(&format!("  PROBLEM {problem}\n"));
    }
    for finding in &plan.lint {
        out.push_str(&format!("  LINT {}\n", finding.to_string().replace('\n', "\n  ")));
    }
    if plan.pending_migrations.is_empty() {
        out.push_str("  migrations: up to date\n");
    } else {
        out.push_str(&format!("  migrations: {} pending\n", plan.pending_migrations.len()));
        for file in &plan.pending_migrations {
            out.push_str(&format!("    + {file}\n"));
        }
    }
    if let Some(p) = &plan.policies {
        if p.changes.is_empty() && p.missing.is_empty() {
            out.push_str("  policies: match the environment file\n");
        } else if !p.changes.is_empty() {
            out.push_str(&format!("  policies: {} change(s)\n", p.changes.len()));
            for change in &p.changes {
                out.push_str(&format!("    {}\n", change.describe()));
            }
        }
        if !p.missing.is_empty() {
            out.push_str(&format!(
                "  not in the database yet (the migrations create them): {}\n",
                p.missing.join(", ")
            ));
        }
    }
    if let Some(indexes) = plan.indexes.as_ref().filter(|i| !i.is_empty()) {
        out.push_str("  declared indexes:\n");
        for index in indexes {
            out.push_str(&format!("    {}\n", index.describe()));
        }
    }
    if let Some(p) = &plan.policies {
        if !p.unmanaged.is_empty() {
            out.push_str(&format!("  left alone (not in the environment file): {}\n", p.unmanaged.join(", ")));
        }
        for problem in &p.problems {
            out.push_str(&format!("  PROBLEM {problem}\n"));
        }
        for note in &p.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
    }
    out
}
