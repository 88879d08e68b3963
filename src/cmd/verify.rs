//! `glctl verify`: the acceptance checks against the environment's target (`ops::verify`), printed and saved.

use std::sync::Arc;

use super::progress::with_spinner;
use super::Context;
use crate::cli::{VerifyArgs, VerifyFormat};
use crate::error::{Error, Exit};
use crate::ops::verify::{self, VerifyOptions};
use crate::verify::{checks::CHECKS, report, Status, VerifyRun};

pub fn run(ctx: &Context, args: &VerifyArgs) -> Result<Exit, Error> {
    if args.list {
        return list(args.output);
    }
    let mut opts = VerifyOptions {
        only: args.only.clone(),
        skip: args.skip.clone(),
        drills: args.drills,
        bench: args.bench,
        allow_production: args.allow_production,
        poolers: None,
        env_arg: String::new(),
    };
    opts.check()?;
    let reports = args.reports.iter().map(|r| parse_report(r)).collect::<Result<Vec<_>, _>>()?;
    opts.poolers = args
        .pooler
        .url
        .as_deref()
        .map(|url| crate::pgbouncer::Poolers::from_urls(url, args.pooler.admin_url.as_deref()))
        .transpose()
        .map_err(Error::Usage)?;
    let session = ctx.session(args.out.as_deref(), super::Warnings::Undecided)?;
    opts.env_arg = ctx.env_name()?.to_string();
    let outcome = verify::run(&session, &opts, &Spinners)?;
    for warning in &outcome.warnings {
        eprintln!("{}", ctx.style.warning(warning));
    }
    print!("{}", render(&outcome.run, args.output, ctx));
    for (format, file) in &reports {
        std::fs::write(file, render(&outcome.run, *format, ctx))
            .map_err(|e| Error::Usage(format!("cannot write the report {}: {e}", file.display())))?;
    }
    Ok(outcome.run.exit())
}

/// `--list`: the check table as text or JSON; the report formats describe runs, not the list.
fn list(output: VerifyFormat) -> Result<Exit, Error> {
    match output {
        VerifyFormat::Text => {
            for c in CHECKS {
                println!("{:<6} §{:<6} {:<13} {}", c.id, c.section, c.category(), c.title);
            }
        }
        VerifyFormat::Json => {
            let checks: Vec<_> = CHECKS
                .iter()
                .map(|c| {
                    serde_json::json!({ "id": c.id, "section": c.section, "category": c.category(), "title": c.title })
                })
                .collect();
            super::json::print(serde_json::json!({ "checks": checks }));
        }
        other => {
            return Err(Error::Usage(format!(
                "--list prints text or json, not {}",
                format!("{other:?}").to_lowercase()
            )))
        }
    }
    Ok(Exit::Ok)
}

/// The operation's steps as spinners on stderr, the benchmark's as its progress bar (promote's too).
pub(crate) struct Spinners;

impl crate::drills::Progress for Spinners {
    fn step(&self, what: &str, work: &mut dyn FnMut()) {
        with_spinner(what, work);
    }
}

impl verify::Progress for Spinners {
    fn bench(&self) -> Arc<dyn crate::bench::Reporter> {
        Arc::new(super::bench::Bar::default())
    }
}

pub(crate) fn render(run: &VerifyRun, format: VerifyFormat, ctx: &Context) -> String {
    match format {
        VerifyFormat::Text => report::table(run, &|status, text| match status {
            Status::Pass => ctx.stdout_style.ok(text),
            Status::Fail => ctx.stdout_style.error(text),
            Status::Error => ctx.stdout_style.warning(text),
            Status::Skip => ctx.stdout_style.quiet(text),
        }),
        VerifyFormat::Json => super::json::text(run),
        VerifyFormat::Junit => report::junit(run),
        VerifyFormat::Markdown => report::markdown(run),
    }
}

/// `FORMAT=FILE` of `--report`.
pub(crate) fn parse_report(text: &str) -> Result<(VerifyFormat, std::path::PathBuf), Error> {
    let bad = || Error::Usage(format!("--report '{text}': expected FORMAT=FILE with FORMAT json, junit or markdown"));
    let (format, file) = text.split_once('=').ok_or_else(bad)?;
    let format = match format {
        "json" => VerifyFormat::Json,
        "junit" => VerifyFormat::Junit,
        "markdown" | "md" => VerifyFormat::Markdown,
        "table" | "text" => VerifyFormat::Text,
        _ => return Err(bad()),
    };
    if file.is_empty() {
        return Err(bad());
    }
    Ok((format, file.into()))
}
