//! PB-01…PB-06 decided from a `glctl bench` run (the same engine, called by `verify --bench`): each check
//! takes its verdict and figures from the run's report. Without `--bench` there is no run and they stay
//! SKIP; a run that failed makes them ERROR with its reason.

use super::facts::Facts;
use super::{Evidence, Outcome, Skip};
use crate::bench::BenchReport;

/// The bench run `verify --bench` made, or why it could not be made.
pub type BenchFacts = Result<BenchReport, String>;

/// The outcome of bench check `id` over the facts.
pub fn decide(f: &Facts, id: &str) -> Outcome {
    let report = match &f.bench {
        None => {
            return Outcome::Skip(Skip::NeedsBench, "a benchmark loads the target; run with `--bench`".into());
        }
        Some(Err(why)) => return Outcome::Error(format!("the benchmark could not run: {why}")),
        Some(Ok(report)) => report,
    };
    if let (Some(why), "PB-07" | "PB-08") = (&report.connections_not_run, id) {
        return Outcome::Error(format!("not measured: {why}"));
    }
    let Some(verdict) = report.verdicts().find(|v| v.check == id) else {
        return Outcome::Error(format!("the benchmark run has no figure for {id}"));
    };
    // Rows loaded with INSERT (the server cannot take COPY) are not what PB-01/PB-02 measure: undecided.
    if report.undecided().contains(&verdict.check) {
        return Outcome::Error(format!("not measured: {}", verdict.observed));
    }
    let settings = format!(
        "glctl bench (seed {}, {} connection(s), {} core(s), {}, scratch schema {})",
        report.options.seed,
        report.options.connections,
        report.cores,
        report.server_label(),
        report.scratch_schema.as_deref().unwrap_or("?")
    );
    let evidence = Evidence {
        observed: verdict.observed.clone(),
        expected: verdict.target.clone(),
        source: settings,
        at: String::new(),
    };
    if verdict.pass {
        Outcome::Pass(vec![evidence])
    } else {
        Outcome::Fail(format!("{} is not {}", verdict.observed, verdict.target), vec![evidence])
    }
}

/// What stood in for the target when bench check `id` was measured: PGlite (PostgreSQL in WebAssembly on
/// one connection) stands in for a TimescaleDB server, so its figures say how PGlite did, not the target.
pub fn stand_in(f: &Facts, id: &str) -> Option<String> {
    let Some(Ok(report)) = &f.bench else { return None };
    if !id.starts_with("PB-") || report.server != Some(crate::bench::server::ServerKind::Pglite) {
        return None;
    }
    Some(format!("measured on {}, the local stand-in for the target's engine", report.server_label()))
}
