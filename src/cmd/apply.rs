//! `glctl apply`: apply exactly the saved plan (re-planning only when it is stale) and record the
//! Terraform outputs; then the database stage: migrations, then the TimescaleDB policies.

use std::io::{IsTerminal, Write};

use super::plan::{self, PlanRecord, PLAN_FILE, PLAN_RECORD};
use super::{database, Context};
use crate::cli::{ApplyArgs, Stage};
use crate::config::Loaded;
use crate::error::{Exit, Failure};
use crate::terraform::runner::Terraform;
use crate::terraform::{self};

pub const OUTPUTS_FILE: &str = "outputs.json";

pub fn run(ctx: &Context, args: &ApplyArgs) -> Result<Exit, Failure> {
    let loaded = ctx.load()?;
    // Checked before anything is applied: a missing backend variant must not stop us half-way.
    let migrations = database::migrations(ctx, &loaded)?;
    // Each stage reports as it finishes, so a failing database stage still shows what Terraform did.
    if args.only != Some(Stage::Database) {
        print!("{}", apply_infra(ctx, &loaded, args)?);
    }
    if args.only != Some(Stage::Infra) {
        let options = database::ApplyOptions {
            lock_timeout: std::time::Duration::from_secs(args.lock_timeout),
            reconcile: true,
            allow_destroy: args.allow_destroy,
        };
        let outcome = database::runtime().block_on(database::apply(ctx, &loaded, &migrations, &options))?;
        print!("{}", outcome.render(&loaded.name));
    }
    Ok(Exit::Ok)
}

/// The Terraform stage; returns its summary line.
fn apply_infra(ctx: &Context, loaded: &Loaded, args: &ApplyArgs) -> Result<String, Failure> {
    let dir = terraform::work_dir(ctx, loaded, args.out.as_ref());
    let rendered = super::render::render_formatted(ctx, loaded)?;
    let saved: Option<PlanRecord> =
        std::fs::read_to_string(dir.join(PLAN_RECORD)).ok().and_then(|t| serde_json::from_str(&t).ok());
    let record = match saved {
        Some(record) if record.digest == rendered.digest() && dir.join(PLAN_FILE).is_file() => record,
        Some(_) => {
            eprintln!("The saved plan was made from different files; planning again.");
            replan(ctx, loaded, &dir)?
        }
        None => replan(ctx, loaded, &dir)?,
    };
    if record.summary.is_empty() {
        write_outputs(loaded, &dir)?;
        return Ok(format!("infrastructure: no changes, {} already matches its environment file\n", loaded.name));
    }
    let destructive = record.summary.destructive();
    if !destructive.is_empty() && !args.allow_destroy {
        let list: Vec<String> = destructive.iter().map(|c| format!("  {}", c.address)).collect();
        return Err(Failure::problems(format!(
            "refusing to apply: the plan replaces or destroys stateful resources:\n{}\nre-run with --allow-destroy if that is intended",
            list.join("\n")
        )));
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage("not on a terminal, so nobody can confirm; re-run with --yes to apply"));
        }
        eprint!("Apply {} change(s) to {}? [y/N] ", record.summary.changes.len(), loaded.name);
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).ok();
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(Failure::problems("not applied"));
        }
    }
    let tf = Terraform::new(&dir, terraform::plugin_dir(loaded));
    let applied = tf.apply(PLAN_FILE).map_err(|e| Failure::problems(e.to_string()))?;
    // A saved plan applies once; the record must not send the next apply to it.
    let _ = std::fs::remove_file(dir.join(PLAN_RECORD));
    write_outputs(loaded, &dir)?;
    let slowest = applied.iter().map(|a| a.seconds).fold(0.0, f64::max);
    Ok(format!(
        "infrastructure: applied {} resource operation(s) to {} (longest {slowest:.0}s); outputs in {}\n",
        applied.len(),
        loaded.name,
        dir.join(OUTPUTS_FILE).display()
    ))
}

fn replan(ctx: &Context, loaded: &crate::config::Loaded, dir: &std::path::Path) -> Result<PlanRecord, Failure> {
    let record = plan::make_plan(ctx, loaded, dir)?;
    eprint!("{}", plan::describe(&record, dir));
    Ok(record)
}

fn write_outputs(loaded: &crate::config::Loaded, dir: &std::path::Path) -> Result<(), Failure> {
    let tf = Terraform::new(dir, terraform::plugin_dir(loaded));
    let outputs = tf.output_json().map_err(|e| Failure::problems(e.to_string()))?;
    let text = serde_json::to_string_pretty(&outputs).expect("json");
    std::fs::write(dir.join(OUTPUTS_FILE), text).map_err(|e| Failure::problems(format!("cannot write outputs: {e}")))
}
