//! `glctl migrate rehearse`: builds the rehearsal's options, calls `ops::rehearse`, prints what the pending
//! migrations held and what the application lived through. Exit 0 within budget, 1 FAIL, 3 not measured.

use super::Context;
use crate::cli::{RehearseArgs, ReportFormat};
use crate::error::{Error, Exit};
use crate::ops::rehearse::{self, RehearsalReport, RehearseOptions};
use crate::verify::rehearsal::{Judgement, Verdict};

pub fn run(ctx: &Context, args: &RehearseArgs) -> Result<Exit, Error> {
    if !(args.rate.is_finite() && args.rate >= 0.0 && args.duration.is_finite() && args.duration > 0.0) {
        return Err(Error::Usage(format!(
            "--rate must be 0 or more (got {}) and --duration more than 0 seconds (got {})",
            args.rate, args.duration
        )));
    }
    let session = ctx.session(None, super::Warnings::Undecided)?;
    let options = RehearseOptions {
        allow_production: args.allow_production,
        rows: args.rows,
        partitions: args.partitions,
        sessions: usize::try_from(args.sessions).unwrap_or(1),
        rate: args.rate,
        baseline_seconds: args.duration,
        sample_every_ms: args.sample_ms,
        unlogged: args.unlogged,
    };
    let report = rehearse::rehearse(&session, &options)?;
    match args.output {
        ReportFormat::Json => super::json::print(&report),
        ReportFormat::Text => print_text(&report),
    }
    if let Some(why) = &report.not_measured {
        eprintln!("NOT MEASURED: {why}");
        return Ok(Exit::Incomplete);
    }
    Ok(match report.judgement.as_ref().map(|j| &j.verdict) {
        None | Some(Verdict::Pass) => Exit::Ok,
        Some(Verdict::Fail { .. }) => Exit::Problems,
        Some(Verdict::NotMeasured { .. }) => Exit::Incomplete,
    })
}

fn print_text(r: &RehearsalReport) {
    for orphan in &r.orphans_dropped {
        println!("dropped {orphan}, a scratch copy a killed rehearsal left");
    }
    if r.pending.is_empty() {
        println!("{}: no pending migration to rehearse", r.environment);
        return;
    }
    let Some(j) = &r.judgement else { return };
    let plan = r.plan.as_ref().expect("a judged rehearsal has its plan");
    println!(
        "rehearsal of {} pending migration(s) of {} on a scratch copy ({}): {} rows in {} partitions (loaded in {:.1} s)",
        r.pending.len(),
        r.environment,
        r.scratch_database.as_deref().unwrap_or("?"),
        r.rows_loaded,
        r.partitions_with_rows,
        r.load_seconds
    );
    let rate = if plan.rate > 0.0 { format!("{} ops/s each, open loop", plan.rate) } else { "closed loop".into() };
    println!(
        "workload: {} session(s), {rate}; locks sampled every {} ms ({} samples, gap p50 {:.0} ms, max {:.0} ms)",
        j.sessions.len(),
        plan.sample_every_ms,
        j.samples,
        j.sample_gap.p50_ms,
        j.sample_gap.max_ms
    );
    print_throughput(j);
    for s in &j.statements {
        println!();
        println!("{}: {}", s.file, one_line(&s.statement));
        println!("  took {:.0} ms, {} retr{}", s.duration_ms, s.retries, if s.retries == 1 { "y" } else { "ies" });
        for l in &s.locks {
            let mut on: Vec<String> = l.relations.clone();
            if l.partitions > 0 {
                on.push(format!("{} partition(s)", l.partitions));
            }
            println!("  {} {} on {}", l.state, l.mode, on.join(" and "));
        }
        let who = s
            .longest_stall_session
            .and_then(|i| j.sessions.get(i))
            .map(|x| format!(" (session {}, {})", x.session, x.kind))
            .unwrap_or_default();
        println!(
            "  application blocked {:.0} ms in {} stall(s), longest {:.0} ms{who}: {}",
            s.blocked_ms,
            s.stalls,
            s.longest_stall_ms,
            if s.within_budget { "within budget" } else { "OVER BUDGET" }
        );
    }
    println!();
    for s in &j.sessions {
        println!(
            "session {} {} (pid {}): blocked {:.0} ms in {} stall(s), longest {:.0} ms",
            s.session, s.kind, s.pid, s.blocked_ms, s.stalls, s.longest_stall_ms
        );
    }
    println!(
        "application stalls on the migrations' locks: {} — p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        j.stalls.count, j.stalls.p50_ms, j.stalls.p99_ms, j.stalls.max_ms
    );
    for e in &r.workload_errors {
        println!("application error: {e}");
    }
    match &j.verdict {
        Verdict::Pass => {
            println!("PASS: no statement stalled the application over migrations.max_blocking {} ms", j.budget_ms)
        }
        Verdict::Fail { failed } => {
            for s in failed {
                println!("FAIL: {} — over migrations.max_blocking {} ms", one_line(s), j.budget_ms);
            }
        }
        Verdict::NotMeasured { reason } => println!("NOT MEASURED: {reason}"),
    }
    if let Some(path) = &r.record {
        println!("recorded in {}", path.display());
    }
}

fn print_throughput(j: &Judgement) {
    let t = &j.throughput;
    let ratio = |x: Option<f64>| x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
    println!(
        "throughput: {:.0} ops/s alone, {:.0} ops/s with the sampler ({}), {:.0} ops/s during the migrations ({} of baseline)",
        t.without_sampler_ops_per_second,
        t.baseline_ops_per_second,
        ratio(t.sampler_ratio),
        t.during_migration_ops_per_second,
        ratio(t.during_over_baseline)
    );
    println!(
        "latency from due: baseline p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; during the migrations p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        t.baseline_latency.p50_ms,
        t.baseline_latency.p99_ms,
        t.baseline_latency.max_ms,
        t.during_migration_latency.p50_ms,
        t.during_migration_latency.p99_ms,
        t.during_migration_latency.max_ms
    );
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 160 {
        format!("{}…", flat.chars().take(160).collect::<String>())
    } else {
        flat
    }
}
