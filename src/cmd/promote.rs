//! `glctl promote --from SRC --to DST`: the gates, then DST's plan and the environment diff, then apply,
//! verify and a promotion record. A refused promotion changes nothing and exits 2 (3 when a gate could not
//! be checked); a failed verify of DST leaves the record saying so and exits 1.

use std::time::Duration;

use super::apply::{confirm, Printer};
use super::{plan, verify, Context};
use crate::cli::{PromoteArgs, ReportFormat, VerifyFormat};
use crate::error::{Error, Exit};
use crate::ops::promote::{self, passed_lines, Prepared, PromoteObserver, PromoteOptions};
use crate::promote::bundle::Bundle;

pub fn run(ctx: &Context, args: &PromoteArgs) -> Result<Exit, Error> {
    // --database-url is where DST's SQL stage connects (SRC is not connected to: its verify run speaks for it).
    // Only as a flag: GLCTL_DATABASE_URL is usually set for another environment (the stack's env file sets
    // local's), and promoting into that database instead of DST's would be silent and wrong.
    if ctx.database_url.is_some() && !ctx.database_url_from_flag {
        return Err(Error::Usage(format!(
            "GLCTL_DATABASE_URL is set, but promote takes {}'s database only from --database-url (the variable \
             may name another environment's database); pass --database-url, or unset the variable to use {}'s \
             own connection",
            args.to, args.to
        )));
    }
    let reports = args.reports.iter().map(|r| verify::parse_report(r)).collect::<Result<Vec<_>, _>>()?;
    let src = ctx.for_env(&args.from).load()?;
    let dst = ctx.for_env(&args.to).load_with_warnings(super::Warnings::Undecided)?;
    let options = PromoteOptions {
        from_arg: args.from.clone(),
        to_arg: args.to.clone(),
        out: args.out.clone(),
        source_out: args.source_out.clone(),
        allow_destroy: args.allow_destroy,
        strict: args.strict,
        lock_timeout: Duration::from_secs(args.lock_timeout),
        database_url: ctx.database_url.clone(),
    };
    // With --output json, stdout carries one document at the end; everything said on the way goes to stderr.
    let json = args.output == ReportFormat::Json;
    let say = |text: String| if json { eprint!("{text}") } else { print!("{text}") };
    let mut printer = if json { Printer::new(true).on_stderr() } else { Printer::new(true) };
    let ready = match promote::prepare(&ctx.project, src, dst, &options, &mut printer)? {
        Prepared::AlreadyDone { environment, bundle, at } => {
            if json {
                super::json::print(serde_json::json!({
                    "from": args.from, "to": args.to, "outcome": "already promoted",
                    "environment": environment, "bundle": bundle.to_string(), "at": at.to_string(),
                }));
            } else {
                println!("nothing left to do: {environment} was promoted to bundle {bundle} at {at}");
            }
            return Ok(Exit::Ok);
        }
        Prepared::Ready(ready) => ready,
    };

    // What will happen, and the environment diff.
    eprintln!("{}", passed_lines(&ready.passed));
    say(plan::describe(&ready.plan, &ready.dst.dir));
    for m in &ready.pending_migrations {
        say(format!("  + migration {m}\n"));
    }
    for c in &ready.policy_changes {
        say(format!("  {}\n", c.describe()));
    }
    let (src_name, dst_name) = (ready.src.name.clone(), ready.dst.loaded.name.clone());
    say(format!("Environment diff {src_name} → {dst_name}:\n"));
    for d in &ready.diff.declared {
        say(format!("  declared     {}: {} → {}\n", d.path, d.from, d.to));
    }
    for d in &ready.diff.unexplained {
        say(format!("  {} {}: {} → {}\n", ctx.style.warning("UNEXPLAINED"), d.path, d.from, d.to));
    }
    if let Some(what) = &ready.unexplained {
        eprintln!("{}: {what}", ctx.style.warning("warning"));
    }
    confirm(args.yes, &format!("Promote {src_name} to {dst_name} (bundle {})?", ready.bundle.short()))?;

    let promoted = promote::execute(*ready, &options, &mut printer, &verify::Spinners)?;
    let target = &promoted.verify;
    for warning in &target.warnings {
        eprintln!("{}", ctx.style.warning(warning));
    }
    if json {
        super::json::print(serde_json::json!({
            "from": src_name,
            "to": dst_name,
            "outcome": promoted.record.outcome.to_string(),
            "record_path": promoted.record_path,
            "record": promoted.record,
            "verify": target.run,
        }));
    } else {
        print!("{}", verify::render(&target.run, VerifyFormat::Text, ctx));
    }
    for (format, file) in &reports {
        std::fs::write(file, verify::render(&target.run, *format, ctx))
            .map_err(|e| Error::Usage(format!("cannot write the report {}: {e}", file.display())))?;
    }
    if !json {
        println!(
            "promotion {src_name} → {dst_name}: {} (record {})",
            promoted.record.outcome,
            promoted.record_path.display()
        );
    }
    Ok(promoted.exit)
}

/// A promotion's own notices; its apply shows as `glctl apply --yes` would.
impl PromoteObserver for Printer {
    fn promoting(&self, from: &str, to: &str, bundle: &Bundle) {
        self.say(&format!("Promoting {from} → {to}: bundle {}\n", bundle.digest));
    }

    fn waiting_for_other_promotion(&self, environment: &str) {
        eprintln!("another promotion into {environment} is running; waiting for it")
    }

    fn other_promotion_ended(&self) {
        eprintln!("the other promotion ended; checking every gate again");
    }
}
