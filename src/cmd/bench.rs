//! `glctl bench`: runs the load generator (`bench`) against the environment's database and prints figures,
//! targets and verdicts; progress on a terminal only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use crate::bench::generator::Table;
use crate::bench::server::LoadRequest;
use crate::bench::{self, BenchReport, Options, Reporter, Scenario, Sink};
use crate::cli::bench::{BenchArgs, BenchLoad, BenchScenario, BenchSink, BenchTable};
use crate::cli::ReportFormat;
use crate::error::{Error, Exit};

pub fn options(args: &BenchArgs) -> Result<Options, Error> {
    let positive = |v: f64, flag: &str| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(Error::Usage(format!("{flag} must be a positive number of seconds or requests; got {v}")))
        }
    };
    positive(args.duration, "--duration")?;
    if let Some(rate) = args.rate {
        positive(rate, "--rate")?;
    }
    let warmup = args.warmup.unwrap_or_else(|| (args.duration / 5.0).min(2.0));
    if !(warmup.is_finite() && warmup >= 0.0 && warmup < args.duration) {
        return Err(Error::Usage(format!(
            "--warmup must be at least 0 and shorter than --duration ({}); got {warmup}",
            args.duration
        )));
    }
    if args.batch_rows == 0 || args.connections == Some(0) || args.rows == Some(0) {
        return Err(Error::Usage("--batch-rows, --connections and --rows must be at least 1".into()));
    }
    let mut scenarios = Vec::new();
    for s in &args.scenarios {
        let s = match s {
            BenchScenario::Ingest => Scenario::Ingest,
            BenchScenario::Queries => Scenario::Queries,
            BenchScenario::Connections => Scenario::Connections,
        };
        if !scenarios.contains(&s) {
            scenarios.push(s);
        }
    }
    let mut tables: Vec<Table> = args
        .tables
        .iter()
        .map(|t| match t {
            BenchTable::EmissionMeasurements => Table::EmissionMeasurements,
            BenchTable::SensorReadings => Table::SensorReadings,
        })
        .collect();
    tables.sort();
    tables.dedup();
    if tables.is_empty() {
        tables = vec![Table::EmissionMeasurements, Table::SensorReadings];
    }
    if scenarios.contains(&Scenario::Queries) && !tables.contains(&Table::EmissionMeasurements) {
        // The query scenarios read emission_measurements.
        tables.insert(0, Table::EmissionMeasurements);
    }
    Ok(Options {
        scenarios,
        duration_seconds: args.duration,
        rows: args.rows,
        connections: args.connections.unwrap_or_else(bench::cores),
        rate: args.rate,
        seed: args.seed,
        sink: match args.sink {
            BenchSink::Database => Sink::Database,
            BenchSink::Null => Sink::Null,
        },
        batch_rows: args.batch_rows,
        warmup_seconds: warmup,
        query_rows: args.query_rows,
        allow_production: args.allow_production,
        load: match args.load {
            BenchLoad::Auto => LoadRequest::Auto,
            BenchLoad::Copy => LoadRequest::Copy,
            BenchLoad::Insert => LoadRequest::Insert,
        },
        tables,
        sessions: args.sessions,
        poolers: args
            .pooler
            .url
            .as_deref()
            .map(|url| crate::pgbouncer::Poolers::from_urls(url, args.pooler.admin_url.as_deref()))
            .transpose()
            .map_err(Error::Usage)?,
    })
}

pub fn run(ctx: &Context, args: &BenchArgs) -> Result<Exit, Error> {
    let options = options(args)?;
    if let Some(dir) = &args.dump {
        let written = crate::bench::dump::write(dir, &options)?;
        for file in written {
            eprintln!("wrote {}", file.display());
        }
        return Ok(Exit::Ok);
    }
    let report = if options.sink == Sink::Null {
        let loaded = ctx.load_with_warnings(super::Warnings::Undecided)?;
        bench::run(&loaded, &placeholder_target(), &options, Arc::new(Bar::default()))?
    } else {
        let session = ctx.session(None, super::Warnings::Undecided)?;
        let target = session.target()?;
        bench::run(&session.loaded, &target, &options, Arc::new(Bar::default()))?
    };
    match args.output {
        ReportFormat::Json => super::json::print(&report),
        ReportFormat::Text => print!("{}", text(&report, ctx)),
    }
    Ok(if !report.undecided().is_empty() {
        Exit::Incomplete
    } else if report.all_pass() {
        Exit::Ok
    } else {
        Exit::Problems
    })
}

/// `--sink null` connects nowhere.
fn placeholder_target() -> crate::database::connect::Target {
    crate::database::connect::Target::from_url("postgres://nobody@localhost/none?sslmode=disable").expect("a URL")
}

pub fn text(report: &BenchReport, ctx: &Context) -> String {
    let mut out = String::new();
    let verdict = |pass: bool| if pass { ctx.stdout_style.ok("PASS") } else { ctx.stdout_style.error("FAIL") };
    out.push_str(&format!(
        "bench {}: seed {}, {} connection(s), {} core(s){}\n",
        report.environment,
        report.options.seed,
        report.options.connections,
        report.cores,
        report.server_version.as_ref().map(|_| format!(", {}", report.server_label())).unwrap_or_default()
    ));
    for g in &report.generator {
        out.push_str(&format!(
            "generator {:<22} {:>10.0} rows/s on one thread ({:.0} bytes/row): {:.1}× the {} rows/s target\n",
            g.figures.table.name(),
            g.figures.rows_per_second,
            g.figures.bytes_per_row,
            g.headroom,
            g.target_rows_per_second
        ));
    }
    let undecided = report.undecided();
    for r in &report.ingest {
        out.push_str(&format!(
            "{} {}  ingest {:<22} {}  target {}\n",
            if undecided.contains(&r.verdict.check) {
                ctx.stdout_style.warning("UNDECIDED")
            } else {
                verdict(r.verdict.pass)
            },
            r.verdict.check,
            r.figures.table.name(),
            r.verdict.observed,
            r.verdict.target
        ));
        let rates: Vec<String> = r.figures.per_second.iter().map(|n| n.to_string()).collect();
        out.push_str(&format!("          rows per second: {}\n", rates.join(" ")));
    }
    for q in &report.queries {
        out.push_str(&format!(
            "{} {}  {}  target {}\n",
            verdict(q.verdict.pass),
            q.verdict.check,
            q.verdict.observed,
            q.verdict.target
        ));
    }
    for v in &report.connection_verdicts {
        out.push_str(&format!("{} {}  {}  target {}\n", verdict(v.pass), v.check, v.observed, v.target));
    }
    if let Some(why) = &report.connections_not_run {
        out.push_str(&format!("{} PB-07, PB-08  not measured: {why}\n", ctx.stdout_style.warning("NOT RUN")));
    }
    if let Some(schema) = &report.scratch_schema {
        out.push_str(&format!("scratch schema {schema} dropped\n"));
    }
    out
}

/// Progress on stderr (indicatif hides it when stderr is not a terminal).
#[derive(Default)]
pub(crate) struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        let mut slot = self.bar.lock().expect("progress bar");
        let bar = slot.get_or_insert_with(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        f(bar);
    }
}

impl Reporter for Bar {
    fn phase(&self, what: &str) {
        self.with_bar(|b| b.set_message(what.to_string()));
    }

    fn ingest_progress(&self, table: Table, rows: u64, elapsed: Duration) {
        let rate = rows as f64 / elapsed.as_secs_f64().max(1e-9);
        self.with_bar(|b| b.set_message(format!("{}: {rows} rows, {rate:.0} rows/s", table.name())));
    }

    fn queries_progress(&self, check: &str, done: u64, planned: u64) {
        self.with_bar(|b| b.set_message(format!("{check}: {done}/{planned} requests")));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }
}
