//! The flags of `glctl bench` (kept apart from the other commands': only shape and `--help`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{PoolerArgs, ReportFormat};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub env: super::EnvArg,
    /// Scenarios to run (repeatable): `ingest` (PB-01, PB-02), `queries` (PB-03…PB-06) and `connections`
    /// (PB-07 sessions held, PB-08 acquisition through the PgBouncers of --pooler-url).
    #[arg(long = "scenario", value_enum, value_name = "NAME", default_values_t = [BenchScenario::Ingest])]
    pub scenarios: Vec<BenchScenario>,
    /// Tables to ingest into (repeatable; default both).
    #[arg(long = "table", value_enum, value_name = "TABLE")]
    pub tables: Vec<BenchTable>,
    /// Seconds of ingest per table, and of each query scenario.
    #[arg(long, default_value_t = 20.0, value_name = "SECONDS")]
    pub duration: f64,
    /// Ingest exactly this many rows per table instead of running for --duration (no warm-up).
    #[arg(long, value_name = "N")]
    pub rows: Option<u64>,
    /// Worker connections (one per worker); default: the machine's cores.
    #[arg(long, value_name = "N")]
    pub connections: Option<usize>,
    /// Requests per second of each query scenario (open loop: requests start on schedule whatever happened
    /// before). Default: 20/s for PB-03 and PB-05, 1/s for PB-04, 5/s for PB-06.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Seed of the row generator: the same seed gives the same rows.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// `null`: generate and encode only, to measure the generator alone (no database).
    #[arg(long, value_enum, default_value_t = BenchSink::Database)]
    pub sink: BenchSink,
    /// Rows per COPY statement.
    #[arg(long, default_value_t = crate::bench::DEFAULT_BATCH_ROWS, value_name = "N")]
    pub batch_rows: u64,
    /// Seconds at the start of each timed ingest whose commits are not measured (default: 2, or a fifth of
    /// --duration when that is shorter). A --rows ingest is measured from its start.
    #[arg(long, value_name = "SECONDS")]
    pub warmup: Option<f64>,
    /// Rows of emission_measurements the query scenarios run on when no ingest runs before them.
    #[arg(long, default_value_t = 500_000, value_name = "N")]
    pub query_rows: u64,
    /// PB-07: sessions to open and hold (default: the acceptance target plus a tenth).
    #[arg(long, value_name = "N")]
    pub sessions: Option<u64>,
    #[command(flatten)]
    pub pooler: PoolerArgs,
    /// How rows are loaded: `auto` is binary COPY, or INSERT on a server that cannot take COPY (PGlite, which
    /// reports itself in version()); `insert` forces multi-row INSERTs. An INSERT load is not what PB-01/PB-02
    /// measure: its rows/s is labelled `method: insert` and never passes.
    #[arg(long, value_enum, default_value_t = BenchLoad::Auto)]
    pub load: BenchLoad,
    /// Allow running against a production environment.
    #[arg(long)]
    pub allow_production: bool,
    /// Write the rows (--rows of them) as CSV and binary COPY files, with the scratch table's DDL, into DIR
    /// and exit without connecting (for the benchmark script's `psql \copy` comparison).
    #[arg(long, value_name = "DIR", requires = "rows")]
    pub dump: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchScenario {
    Ingest,
    Queries,
    Connections,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchSink {
    Database,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum BenchTable {
    EmissionMeasurements,
    SensorReadings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchLoad {
    Auto,
    Copy,
    Insert,
}
