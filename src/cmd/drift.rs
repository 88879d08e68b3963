//! `glctl drift -e ENV`: what changed outside glctl, layer by layer.

use std::time::Duration;

use super::progress::with_spinner;
use super::Context;
use crate::cli::{DriftArgs, ReportFormat, Stage};
use crate::drift::{self, DriftOptions, DriftReport};
use crate::error::{Error, Exit};

pub fn run(ctx: &Context, args: &DriftArgs) -> Result<Exit, Error> {
    let report = detect(ctx, args)?;
    match args.output {
        ReportFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&report).expect("the report serialises"))
        }
        ReportFormat::Text => print!("{}", text(&report, ctx)),
    }
    Ok(report.exit())
}

/// The drift report of `ctx`'s environment (also the drift gate of `promote`).
pub fn detect(ctx: &Context, args: &DriftArgs) -> Result<DriftReport, Error> {
    let session = ctx.session(args.out.as_deref(), super::Warnings::Undecided)?;
    let stage = session.database_stage(ctx)?;
    let options = DriftOptions {
        infrastructure: args.only != Some(Stage::Database),
        database: args.only != Some(Stage::Infra),
        lock_timeout: Duration::from_secs(args.lock_timeout),
    };
    let (now, _) = crate::verify::facts::now();
    let today = now.get(..10).unwrap_or_default().to_string();
    Ok(with_spinner(&format!("reading drift of {}", session.loaded.name), || {
        session.runtime.block_on(drift::detect(&session.loaded, &stage, &session.dir, &options, &today))
    }))
}

pub fn text(report: &DriftReport, ctx: &Context) -> String {
    let style = &ctx.stdout_style;
    let mut out = String::new();
    for layer in &report.layers {
        match &layer.not_read {
            Some(why) => out.push_str(&format!("{}  {}: {why}\n", style.warning("NOT READ"), layer.layer)),
            None if layer.differences.is_empty() => out.push_str(&format!("{}  {}\n", style.ok("clean"), layer.layer)),
            None => {}
        }
        for d in &layer.differences {
            let (label, why) = match (&d.acknowledged, &d.emulator) {
                (Some(a), _) => (style.quiet("ack"), format!(" ({a})")),
                (None, Some(e)) => (style.quiet("emulator"), format!(" ({e})")),
                _ => (style.error("DRIFT"), String::new()),
            };
            out.push_str(&format!("{label}  {}: {}{why}\n", d.name, d.detail));
        }
        for note in &layer.notes {
            out.push_str(&format!("      {}: {note}\n", layer.layer));
        }
    }
    let unread: Vec<&str> = report.unread().iter().map(|l| l.layer).collect();
    out.push_str(&format!(
        "{}: {} drift, {} layer(s) not read{}\n",
        report.environment,
        report.drift().len(),
        unread.len(),
        if unread.is_empty() { String::new() } else { format!(" ({})", unread.join(", ")) }
    ));
    out
}
