//! `glctl bench`: the load generator behind PB-01…PB-06 (`verify --bench` calls this same engine).
//!
//! Everything it writes goes into a scratch schema made like the real tables (`scratch`) and dropped at the
//! end, on error and on Ctrl-C/SIGTERM; a production environment needs `allow_production`. Rows come from a
//! deterministic generator (`generator`), encoded as binary COPY by glctl (`copy`), sent by one worker per
//! connection (`ingest`); the query scenarios run open-loop at a fixed rate into HDR histograms (`queries`).
//! Results are typed figures with their targets from the environment's acceptance profile; nothing here prints.

pub mod connections;
pub mod copy;
pub mod dump;
pub mod generator;
pub mod ingest;
pub mod insert;
pub mod queries;
pub mod scratch;
pub mod server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::Client;

use crate::config::model::{Acceptance, Backend, Tier};
use crate::config::Loaded;
use crate::database::connect::{self, Target};
use crate::database::DatabaseError;
use generator::Table;
use ingest::{GeneratorFigures, IngestFigures, IngestPlan, Stop};
use queries::QueryFigures;
use server::{LoadMethod, LoadRequest, ServerKind};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// What was asked cannot be done as asked (`--dump` without `--rows`, a file that cannot be written).
    #[error("{0}")]
    Usage(String),
    /// A production environment without `--allow-production`, or another safety rule.
    #[error("{0}")]
    Refused(String),
    /// The database lacks what bench copies (the real tables, their partitioning).
    #[error("{0}")]
    NotReady(String),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("{what} failed: {reason}")]
    Sql { what: &'static str, reason: String },
    #[error("a bench worker failed: {0}")]
    Worker(String),
    /// Ctrl-C or SIGTERM: what was measured is lost; the scratch schema's fate is in `cleanup`.
    #[error("interrupted; {cleanup}")]
    Interrupted { cleanup: String },
}

impl BenchError {
    /// Whether the failure means "could not measure" (exit 3) rather than a problem found (exit 1).
    pub fn is_incomplete(&self) -> bool {
        match self {
            BenchError::Database(e) => e.is_unreachable(),
            BenchError::Refused(_) | BenchError::Usage(_) => false,
            _ => true,
        }
    }
}

/// What a run is told while it works; `Send + Sync` because workers run on several threads.
pub trait Reporter: Send + Sync {
    fn phase(&self, _what: &str) {}
    fn ingest_progress(&self, _table: Table, _rows: u64, _elapsed: Duration) {}
    fn queries_progress(&self, _check: &str, _done: u64, _planned: u64) {}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// PB-01 and PB-02.
    Ingest,
    /// PB-03…PB-06.
    Queries,
    /// PB-07 and PB-08 (`connections`): sessions held, and acquisition through the PgBouncers.
    Connections,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    Database,
    /// Generate and encode only: the generator's own speed.
    Null,
}

#[derive(Clone, Debug, Serialize)]
pub struct Options {
    pub scenarios: Vec<Scenario>,
    /// Seconds per ingest table (after which in-flight batches still commit), and per query scenario.
    pub duration_seconds: f64,
    /// Ingest exactly this many rows per table instead of running for a duration.
    pub rows: Option<u64>,
    pub connections: usize,
    /// Requests per second of every query scenario (open loop); `None`: each scenario's own rate.
    pub rate: Option<f64>,
    pub seed: u64,
    pub sink: Sink,
    pub batch_rows: u64,
    pub warmup_seconds: f64,
    /// Rows of each table the query scenarios run on when no ingest ran before them.
    pub query_rows: u64,
    pub allow_production: bool,
    pub tables: Vec<Table>,
    /// PB-07's sessions; `None`: the acceptance target plus a tenth.
    pub sessions: Option<u64>,
    /// The PgBouncers the connections scenario goes through (`--pooler-url`); `None`: straight to the server.
    #[serde(skip)]
    pub poolers: Option<crate::pgbouncer::Poolers>,
    /// How rows are loaded (`--load`): binary COPY unless the server cannot take it.
    pub load: LoadRequest,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scenarios: vec![Scenario::Ingest],
            duration_seconds: 20.0,
            rows: None,
            connections: cores(),
            rate: None,
            seed: 1,
            sink: Sink::Database,
            batch_rows: DEFAULT_BATCH_ROWS,
            warmup_seconds: 2.0,
            query_rows: 500_000,
            allow_production: false,
            tables: vec![Table::EmissionMeasurements, Table::SensorReadings],
            sessions: None,
            poolers: None,
            load: LoadRequest::Auto,
        }
    }
}

/// Rows per COPY statement (see docs/bench.md for the measurement behind it).
pub const DEFAULT_BATCH_ROWS: u64 = 10_000;

pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// A figure against its target from the acceptance profile.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub check: &'static str,
    pub target: String,
    pub observed: String,
    pub pass: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct IngestResult {
    pub verdict: Verdict,
    pub figures: IngestFigures,
}

#[derive(Clone, Debug, Serialize)]
pub struct GeneratorResult {
    pub figures: GeneratorFigures,
    /// Generator rows/s over the table's target rows/s.
    pub headroom: f64,
    pub target_rows_per_second: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueryResult {
    pub verdict: Verdict,
    pub figures: QueryFigures,
}

/// Everything a run measured, and what is needed to repeat it.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub environment: String,
    pub options: Options,
    pub cores: usize,
    pub server_version: Option<String>,
    /// A PostgreSQL server, or PGlite (one connection, no COPY): every figure is that server's.
    pub server: Option<ServerKind>,
    /// How rows were loaded: `insert` only where the server cannot take COPY (never a PB-01/PB-02 figure).
    pub load_method: Option<LoadMethod>,
    pub backend: Backend,
    /// The scratch schema used (and dropped), and each table's chunk or partition interval.
    pub scratch_schema: Option<String>,
    pub intervals: Vec<(Table, String)>,
    /// Scratch schemas of killed earlier runs, dropped before this one started.
    pub orphans_dropped: Vec<String>,
    pub generator: Vec<GeneratorResult>,
    pub ingest: Vec<IngestResult>,
    pub queries: Vec<QueryResult>,
    /// PB-07 and PB-08 figures, when the connections scenario ran.
    pub connections: Option<connections::ConnectionFigures>,
    pub connection_verdicts: Vec<Verdict>,
    /// Why the connections scenario was selected but not run (it would have locked the server's other
    /// clients out): PB-07 and PB-08 are then undecided, never passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections_not_run: Option<String>,
}

impl BenchReport {
    /// The server the figures are from, as people read it ("PostgreSQL 15.18", "PGlite (…)").
    pub fn server_label(&self) -> String {
        let version = self.server_version.as_deref().unwrap_or("?");
        self.server.unwrap_or(ServerKind::Postgresql).label(version)
    }

    pub fn verdicts(&self) -> impl Iterator<Item = &Verdict> {
        self.ingest
            .iter()
            .map(|r| &r.verdict)
            .chain(self.queries.iter().map(|r| &r.verdict))
            .chain(self.connection_verdicts.iter())
    }

    pub fn all_pass(&self) -> bool {
        self.verdicts().all(|v| v.pass)
    }

    /// Checks this run could not decide: an ingest loaded with INSERT is not what PB-01/PB-02 measure, and
    /// the connections scenario was not run. They are never a PASS, nor a problem found.
    pub fn undecided(&self) -> Vec<&'static str> {
        let mut checks: Vec<&'static str> =
            self.ingest.iter().filter(|r| r.figures.method == LoadMethod::Insert).map(|r| r.verdict.check).collect();
        if self.connections_not_run.is_some() && self.options.scenarios.contains(&Scenario::Connections) {
            checks.extend(["PB-07", "PB-08"]);
        }
        checks
    }
}

pub fn target_rows_per_second(acceptance: &Acceptance, table: Table) -> (&'static str, u32) {
    match table {
        Table::EmissionMeasurements => ("PB-01", acceptance.emission_insert_rows_per_second),
        Table::SensorReadings => ("PB-02", acceptance.sensor_insert_rows_per_second),
    }
}

/// The ingest verdict: faster than the target, and every committed row is in the table.
pub fn judge_ingest(acceptance: &Acceptance, figures: IngestFigures) -> IngestResult {
    let (check, target) = target_rows_per_second(acceptance, figures.table);
    let counted_ok = figures.counted == figures.rows_committed as i64;
    let by_insert = figures.method == LoadMethod::Insert;
    let mut observed = String::new();
    if by_insert {
        observed
            .push_str(&format!("method: insert (this server cannot take COPY), not a {check} figure, never a PASS: "));
    }
    observed.push_str(&format!(
        "{:.0} rows/s ({} rows in {:.1} s after a {:.1} s warm-up; {} committed, count(*) {})",
        figures.rows_per_second,
        figures.measured_rows,
        figures.measured_seconds,
        figures.wall_seconds - figures.measured_seconds,
        figures.rows_committed,
        figures.counted
    ));
    if !counted_ok {
        observed.push_str(": count(*) differs from the committed rows");
    }
    IngestResult {
        verdict: Verdict {
            check,
            target: format!("> {target} rows/s"),
            pass: !by_insert && counted_ok && figures.rows_per_second > f64::from(target),
            observed,
        },
        figures,
    }
}

/// Runs the benchmark on a multi-threaded runtime of its own (one worker thread per core): the caller's
/// runtime may be single-threaded. `target` is resolved by the caller (it may need AWS).
pub fn run(
    loaded: &Loaded,
    target: &Target,
    options: &Options,
    reporter: Arc<dyn Reporter>,
) -> Result<BenchReport, BenchError> {
    let env = &loaded.environment;
    if env.tier == Tier::Production && !options.allow_production && options.sink == Sink::Database {
        return Err(BenchError::Refused(format!(
            "{} is a production environment: bench would load it with generated rows (in a scratch schema, dropped \
             afterwards); pass --allow-production to run it anyway",
            loaded.name
        )));
    }
    let mut report = BenchReport {
        environment: loaded.name.clone(),
        options: options.clone(),
        cores: cores(),
        server_version: None,
        server: None,
        load_method: None,
        backend: env.timeseries.backend,
        scratch_schema: None,
        intervals: Vec::new(),
        orphans_dropped: Vec::new(),
        generator: Vec::new(),
        ingest: Vec::new(),
        queries: Vec::new(),
        connections: None,
        connection_verdicts: Vec::new(),
        connections_not_run: None,
    };
    if options.sink == Sink::Null {
        for table in &options.tables {
            reporter.phase(&format!("generating {} rows (no sink)", table.name()));
            let figures = ingest::generator_only(*table, options.seed, options.batch_rows, options.duration_seconds);
            let (_, target) = target_rows_per_second(&env.acceptance, *table);
            report.generator.push(GeneratorResult {
                headroom: figures.rows_per_second / f64::from(target.max(1)),
                target_rows_per_second: target,
                figures,
            });
        }
        return Ok(report);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores().max(2))
        .enable_all()
        .build()
        .map_err(|e| BenchError::Worker(format!("cannot start the bench runtime: {e}")))?;
    runtime.block_on(run_database(loaded, target, options, reporter, report))
}

async fn run_database(
    loaded: &Loaded,
    target: &Target,
    options: &Options,
    reporter: Arc<dyn Reporter>,
    mut report: BenchReport,
) -> Result<BenchReport, BenchError> {
    let control = Arc::new(connect::connect(target).await.map_err(DatabaseError::from)?);
    let row = control
        .query_one("SELECT current_setting('server_version'), version()", &[])
        .await
        .map_err(|e| BenchError::Sql { what: "the server's version", reason: connect::reason(&e) })?;
    let (version, full): (String, String) = (row.get(0), row.get(1));
    let server = ServerKind::from_version(&full);
    let method = server::load_method(options.load, server).map_err(BenchError::Refused)?;
    report.server_version = Some(version);
    report.server = Some(server);
    report.load_method = Some(method);
    if server == ServerKind::Pglite {
        // PGlite serves one connection at a time: the control connection is the only worker.
        report.options.connections = 1;
    }
    report.orphans_dropped = scratch::drop_orphans(&control).await?;
    let name = format!("{:x}_{}", std::process::id(), generator::mix(now_nanos(), 1) & 0xffff_ffff);
    let schema = format!("{}{name}", scratch::PREFIX);
    report.scratch_schema = Some(schema.clone());
    let backend = loaded.environment.timeseries.backend;
    let workers: Arc<Mutex<Vec<i32>>> = Arc::default();

    reporter.phase(&format!("creating the scratch schema {schema}"));
    let work = async {
        let scratch = scratch::create(&control, backend, &options.tables, &name).await?;
        report.intervals = scratch.intervals.clone();
        let run = Run { control: &control, server, method, extension: scratch.extension_schema.as_deref() };
        measure(loaded, target, options, &reporter, &scratch.schema, &workers, &run, &mut report).await
    };
    let outcome = tokio::select! {
        r = work => r.map_err(Some),
        _ = crate::runtime::shutdown_signal() => Err(None),
    };
    // Cleanup always runs: stop our own backends (a COPY in flight holds locks), then drop the schema.
    reporter.phase(&format!("dropping the scratch schema {schema}"));
    let pids = workers.lock().expect("worker pids").clone();
    let cleanup = cleanup(&control, &schema, &pids, backend).await;
    // Close the control connection cleanly before the runtime goes: a dropped prepared statement is closed
    // by a message whose answer nobody waits for, and a socket closed with that answer unread is reset
    // (RST), which makes PGlite's socket server exit (seen: `read ECONNRESET`, the Node process gone). One
    // more round trip reads every answer before it; then the connection task gets to send Terminate.
    let _ = control.batch_execute("").await;
    drop(control);
    tokio::time::sleep(Duration::from_millis(20)).await;
    match (outcome, cleanup) {
        (Ok(()), Ok(())) => Ok(report),
        (Ok(()), Err(e)) => Err(e),
        (Err(Some(e)), _) => Err(e),
        (Err(None), Ok(())) => {
            Err(BenchError::Interrupted { cleanup: format!("the scratch schema {schema} was dropped") })
        }
        (Err(None), Err(e)) => Err(BenchError::Interrupted {
            cleanup: format!("dropping the scratch schema {schema} failed ({e}); the next bench run drops it"),
        }),
    }
}

/// Stops the run's own backends, drops the scratch schema, and on TimescaleDB checks that nothing of it is
/// left anywhere: TimescaleDB keeps chunks and materializations outside the schema, listed before the drop.
async fn cleanup(control: &Client, schema: &str, pids: &[i32], backend: Backend) -> Result<(), BenchError> {
    if !pids.is_empty() {
        control
            .query("SELECT pg_terminate_backend(pid) FROM unnest($1::int4[]) AS pid", &[&pids])
            .await
            .map_err(|e| BenchError::Sql { what: "stopping the bench's connections", reason: connect::reason(&e) })?;
    }
    // An interrupt can land between a transaction's BEGIN and its end on this very connection (on PGlite it
    // is also the worker): end it, or the drop would run inside it and never commit.
    let _ = control.batch_execute("ROLLBACK").await;
    let objects = match backend {
        Backend::Timescaledb => scratch::timescaledb_objects(control, schema).await?,
        Backend::Native => Vec::new(),
    };
    control
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", scratch::quote(schema)))
        .await
        .map_err(|e| BenchError::Sql { what: "dropping the scratch schema", reason: connect::reason(&e) })?;
    let _ = control.query("SELECT pg_advisory_unlock_all()", &[]).await;
    if backend == Backend::Timescaledb {
        let left = scratch::timescaledb_leftovers(control, schema, &objects).await?;
        if !left.is_empty() {
            return Err(BenchError::Sql {
                what: "dropping the scratch schema",
                reason: format!("TimescaleDB kept {} after the drop: {}", left.len(), left.join(", ")),
            });
        }
    }
    Ok(())
}

/// What `measure` works with besides the options: the control connection, the server, the load method and
/// TimescaleDB's schema.
struct Run<'a> {
    control: &'a Arc<Client>,
    server: ServerKind,
    method: LoadMethod,
    extension: Option<&'a str>,
}

/// Opens `n` worker connections and records their backend pids for the cleanup.
async fn open_workers(target: &Target, n: usize, pids: &Mutex<Vec<i32>>) -> Result<Vec<Arc<Client>>, BenchError> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let client = connect::connect(target).await.map_err(DatabaseError::from)?;
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .map_err(|e| BenchError::Sql { what: "pg_backend_pid()", reason: connect::reason(&e) })?
            .get(0);
        pids.lock().expect("worker pids").push(pid);
        clients.push(Arc::new(client));
    }
    Ok(clients)
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    loaded: &Loaded,
    target: &Target,
    options: &Options,
    reporter: &Arc<dyn Reporter>,
    schema: &str,
    pids: &Mutex<Vec<i32>>,
    run: &Run<'_>,
    report: &mut BenchReport,
) -> Result<(), BenchError> {
    let acceptance = &loaded.environment.acceptance;
    let clients = match run.server {
        // A second connection would wait for the first to close: the control connection does the work, and
        // no backend of ours is terminated at the cleanup (it would be the control connection's own).
        ServerKind::Pglite => vec![run.control.clone()],
        ServerKind::Postgresql => open_workers(target, options.connections.max(1), pids).await?,
    };
    let control = &clients[0];
    let ingest_first = options.scenarios.contains(&Scenario::Ingest);
    let needs_queries = options.scenarios.contains(&Scenario::Queries);
    for table in &options.tables {
        let feeds_queries = needs_queries && *table == Table::EmissionMeasurements;
        if !(ingest_first || feeds_queries) {
            continue;
        }
        let stop = match (ingest_first, options.rows) {
            (true, Some(rows)) => Stop::Rows(rows),
            (true, None) => Stop::Seconds(options.duration_seconds),
            (false, _) => Stop::Rows(options.query_rows),
        };
        let (_, target_rate) = target_rows_per_second(acceptance, *table);
        // One pass over the time range at the expected row count, so the run's rows span the range.
        let rows_per_pass = match stop {
            Stop::Rows(n) => n,
            Stop::Seconds(s) => (f64::from(target_rate) * s).max(1.0) as u64,
        };
        let batch_rows = match run.server {
            // PGlite's socket server crashes on a message it reads in two parts: small INSERTs only.
            ServerKind::Pglite => {
                let gen = generator::Generator::new(*table, options.seed, rows_per_pass);
                let fits = insert::rows_per_message(&gen, table.columns().len(), insert::PGLITE_MESSAGE_BYTES);
                options.batch_rows.clamp(1, fits)
            }
            ServerKind::Postgresql => options.batch_rows.max(1),
        };
        let plan = IngestPlan {
            table: *table,
            connections: clients.len(),
            batch_rows,
            stop,
            warmup_seconds: if matches!(stop, Stop::Rows(_)) { 0.0 } else { options.warmup_seconds },
            seed: options.seed,
            rows_per_pass,
            method: run.method,
        };
        reporter.phase(&format!("ingesting into {schema}.{}", table.name()));
        let mut figures = ingest::run(clients.clone(), schema, &plan, reporter).await?;
        figures.counted = control
            .query_one(&format!("SELECT count(*) FROM {}.{}", scratch::quote(schema), table.name()), &[])
            .await
            .map_err(|e| BenchError::Sql { what: "the final count(*)", reason: connect::reason(&e) })?
            .get(0);
        if loaded.environment.timeseries.backend == Backend::Timescaledb {
            figures.chunks = Some(
                control
                    .query_one(
                        "SELECT count(*) FROM timescaledb_information.chunks
                         WHERE hypertable_schema = $1::text AND hypertable_name = $2::text",
                        &[&schema, &table.name()],
                    )
                    .await
                    .map_err(|e| BenchError::Sql {
                        what: "the scratch hypertable's chunks",
                        reason: connect::reason(&e),
                    })?
                    .get(0),
            );
        }
        if ingest_first {
            report.ingest.push(judge_ingest(acceptance, figures));
        }
    }
    if needs_queries {
        let mut results = queries::run_all(&clients, schema, run.extension, loaded, options, reporter).await?;
        if run.server == ServerKind::Pglite {
            for r in &mut results {
                r.verdict.observed.push_str(" (PGlite's latency: PostgreSQL in WebAssembly on one connection)");
            }
        }
        report.queries.extend(results);
    }
    if options.scenarios.contains(&Scenario::Connections) {
        let target_sessions = u64::from(acceptance.concurrent_connections);
        let sessions = options.sessions.unwrap_or(target_sessions + target_sessions / 10 + 1);
        let duration = Duration::from_secs_f64(options.duration_seconds);
        let room = match run.server {
            ServerKind::Pglite => Err(format!(
                "this server is PGlite, which serves one connection at a time: {sessions} sessions cannot be held"
            )),
            ServerKind::Postgresql => connections::room_for(control, options.poolers.as_ref(), sessions).await?,
        };
        match room {
            Err(why) => report.connections_not_run = Some(why),
            Ok(()) => {
                let (figures, verdicts) = connections::run(
                    control,
                    target,
                    options.poolers.as_ref(),
                    sessions,
                    duration,
                    acceptance,
                    reporter,
                )
                .await?;
                report.connections = Some(figures);
                report.connection_verdicts = verdicts;
            }
        }
    }
    Ok(())
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// The run `verify --bench` decides PB-01…PB-08 on: both ingest tables for 5 s each (after a 1 s warm-up),
/// then 5 s of each query scenario over the rows ingested, at the default rates, then 5 s of sessions held
/// (through the PgBouncers of `poolers`, when given); a failure (`target`'s included) is the reason the checks
/// cannot be decided.
pub fn for_verify(
    loaded: &Loaded,
    target: Result<Target, String>,
    poolers: Option<crate::pgbouncer::Poolers>,
    allow_production: bool,
    wanted: &dyn Fn(&str) -> bool,
    reporter: Arc<dyn Reporter>,
) -> Result<BenchReport, String> {
    // Only the scenarios of the checks selected (`--only PB-07,PB-08` runs the connections scenario alone).
    let scenarios: Vec<Scenario> = [
        (Scenario::Ingest, &["PB-01", "PB-02"][..]),
        (Scenario::Queries, &["PB-03", "PB-04", "PB-05", "PB-06"][..]),
        (Scenario::Connections, &["PB-07", "PB-08"][..]),
    ]
    .into_iter()
    .filter(|(_, ids)| ids.iter().any(|id| wanted(id)))
    .map(|(s, _)| s)
    .collect();
    let options = Options {
        scenarios,
        duration_seconds: 5.0,
        warmup_seconds: 1.0,
        poolers,
        allow_production,
        ..Options::default()
    };
    run(loaded, &target?, &options, reporter).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_figures(method: LoadMethod) -> IngestFigures {
        let plan = IngestPlan {
            table: Table::EmissionMeasurements,
            connections: 1,
            batch_rows: 1000,
            stop: Stop::Rows(2_000_000),
            warmup_seconds: 0.0,
            seed: 1,
            rows_per_pass: 2_000_000,
            method,
        };
        // 2 000 000 rows in 2 s: far above the 50 000 rows/s target.
        let mut f = ingest::figures(&plan, &[(1.0, 1_000_000), (2.0, 1_000_000)], 2.0, 0);
        f.counted = 2_000_000;
        f
    }

    #[test]
    fn an_insert_load_is_never_a_pass_however_fast_and_says_why() {
        let acceptance = Acceptance::default();
        let by_copy = judge_ingest(&acceptance, fast_figures(LoadMethod::Copy));
        assert!(by_copy.verdict.pass, "{:?}", by_copy.verdict);
        let by_insert = judge_ingest(&acceptance, fast_figures(LoadMethod::Insert));
        assert!(!by_insert.verdict.pass, "{:?}", by_insert.verdict);
        assert!(
            by_insert.verdict.observed.starts_with("method: insert (this server cannot take COPY), not a PB-01 figure"),
            "{}",
            by_insert.verdict.observed
        );
    }

    #[test]
    fn an_insert_load_leaves_its_check_undecided_and_a_copy_load_does_not() {
        let acceptance = Acceptance::default();
        let mut report = BenchReport {
            environment: "local".into(),
            options: Options::default(),
            cores: 2,
            server_version: Some("17.5".into()),
            server: Some(ServerKind::Pglite),
            load_method: Some(LoadMethod::Insert),
            backend: Backend::Timescaledb,
            scratch_schema: Some("glctl_bench_x".into()),
            intervals: Vec::new(),
            orphans_dropped: Vec::new(),
            generator: Vec::new(),
            ingest: vec![judge_ingest(&acceptance, fast_figures(LoadMethod::Insert))],
            queries: Vec::new(),
            connections: None,
            connection_verdicts: Vec::new(),
            connections_not_run: None,
        };
        assert_eq!(report.undecided(), ["PB-01"]);
        assert_eq!(report.server_label(), "PGlite (PostgreSQL 17.5 in WebAssembly)");
        report.ingest = vec![judge_ingest(&acceptance, fast_figures(LoadMethod::Copy))];
        assert!(report.undecided().is_empty());
    }
}
