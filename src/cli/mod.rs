//! Command-line surface: what the user can type. Only shape and `--help`; meaning lives in `cmd/` and the stages.
//! `bench`'s flags are in `bench`; flag groups two commands share are declared once here and flattened
//! (`PoolerArgs`).

pub mod bench;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "glctl", version, about = "Stands up and keeps honest the time-series PostgreSQL database of the GreenLang platform", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The process's command line, parsed (exits with clap's message on bad usage), noting whether
    /// `--database-url` was typed or came from GLCTL_DATABASE_URL.
    pub fn parse_command_line() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let typed =
            |m: &clap::ArgMatches| m.value_source("database_url") == Some(clap::parser::ValueSource::CommandLine);
        // A global flag typed after the subcommand is recorded in the subcommand's matches.
        cli.global.database_url_from_flag = typed(&matches) || matches.subcommand().is_some_and(|(_, sub)| typed(sub));
        cli
    }
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file.
    #[arg(short = 'e', long = "env", global = true, env = "GLCTL_ENV", value_name = "ENV")]
    pub env: Option<String>,
    /// Project directory holding `environments/`, `templates/` and `sql/`.
    #[arg(long, global = true, env = "GLCTL_ROOT", default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// Connect the SQL stage here instead of the environment's endpoint (postgres://user@host:port/db).
    /// Prefer the GLCTL_DATABASE_URL variable: a flag is visible to other users in the process list.
    #[arg(long, global = true, env = "GLCTL_DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Whether `database_url` was given as `--database-url` (promote takes DST's database only from the flag).
    #[arg(skip)]
    pub database_url_from_flag: bool,
    /// Never colour output (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// On a failure, also print its full account (e.g. what each AWS credential source said).
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an environment file (and what it extends) without touching AWS or a database.
    ///
    /// Reports every problem at once as FILE:LINE:COL and exits 2 when there is an error.
    Validate(ValidateArgs),
    /// Print the effective (merged, defaulted) configuration of an environment, secrets redacted.
    Show(ShowArgs),
    /// Render the environment's Terraform into a directory (default `.glctl/ENV/`) without running it.
    Render(RenderArgs),
    /// Render, `terraform init` and `terraform plan`, then summarise what would change, by module; then the
    /// pending migrations and the policy changes, when the database is reachable.
    ///
    /// Replacing or destroying a stateful resource (cluster, instance, KMS key, secret) is flagged and makes
    /// `apply` refuse unless it is given --allow-destroy.
    Plan(PlanArgs),
    /// Apply the saved plan (re-planning only when it is stale), then the migrations and the time-series
    /// policies.
    Apply(ApplyArgs),
    /// Versioned SQL migrations (`sql/migrations/`): show their status or apply the pending ones.
    Migrate(MigrateArgs),
    /// Check the environment against the acceptance criteria of PRD §10, each with its evidence.
    ///
    /// Exit 0 when nothing failed, 1 when a check failed, 3 when nothing failed but a check could not be
    /// decided. Every run is saved under `.glctl/ENV/verify/`.
    Verify(VerifyArgs),
    /// Promote what was verified in SRC to DST: the gates, DST's plan and the environment diff, then
    /// apply, verify DST and write a promotion record.
    ///
    /// Exit 2 when a gate refuses (naming it; nothing is changed), 3 when a gate could not be checked, 1
    /// when DST's verify fails after the apply.
    Promote(PromoteArgs),
    /// What changed outside glctl: infrastructure, migration ledger, policies and the objects the
    /// migrations made, each a list of named differences.
    ///
    /// Exit 0 no drift, 1 drift found, 3 a layer could not be read. Acknowledged drift (the file's
    /// `drift.acknowledged`) is listed and does not count.
    Drift(DriftArgs),
    /// Measure ingest throughput, query latency and sessions through the pooler (PB-01…PB-08) in a scratch
    /// schema that is dropped afterwards, also on Ctrl-C; a production environment needs --allow-production.
    Bench(bench::BenchArgs),
    /// Print what each engine and time-series backend can do (the capability table).
    Engines,
    /// Print the reference of every environment field as Markdown (generated from the model).
    Fields,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Validate every environment under `environments/` instead of `-e`.
    #[arg(long, conflicts_with = "env")]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Directory to render into.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Directory to render and plan in.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// Exit 1 when the plan has changes and 0 when it has none. (glctl's codes, not terraform's: 2 is a
    /// configuration error, and 3 says part of the plan could not be checked, with or without this flag.)
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan one stage only: `infra` (Terraform) or `database` (migrations and policies).
    #[arg(long, value_enum)]
    pub only: Option<Stage>,
}

/// The two stages of `plan` and `apply`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// Terraform: the cluster, keys, secrets, network access, alarms, backups.
    Infra,
    /// SQL migrations, then the TimescaleDB policies.
    Database,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Directory holding the rendered module and saved plan.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Apply without asking (required when not on a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Allow replacing or destroying stateful resources (cluster, instances, KMS key, secrets).
    #[arg(long)]
    pub allow_destroy: bool,
    /// Run one stage only: `infra` (Terraform) or `database` (migrations, then policies; with
    /// `--database-url` also for a database glctl does not provision).
    #[arg(long, value_enum)]
    pub only: Option<Stage>,
    /// Seconds to wait for another glctl applying migrations to the same database.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub lock_timeout: u64,
    /// Run a new migration even though it is numbered below the last applied one.
    #[arg(long)]
    pub allow_out_of_order: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub action: MigrateAction,
    /// With `apply`: print what would run, run nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Seconds to wait for another glctl applying migrations to the same database.
    #[arg(long, global = true, default_value_t = 120, value_name = "SECONDS")]
    pub lock_timeout: u64,
    /// With `apply`: run a new migration even though it is numbered below the last applied one.
    #[arg(long, global = true)]
    pub allow_out_of_order: bool,
}

#[derive(Clone, Copy, Debug, Subcommand)]
pub enum MigrateAction {
    /// Applied, pending, changed and missing migrations; exit 1 when not up to date.
    Status,
    /// Apply the pending migrations in order, each in its own transaction.
    Apply,
    /// Parse every migration with PostgreSQL's grammar and report statements that would block the
    /// application (located FILE:LINE:COL, with a rule ID and the safe recipe); exit 2 on an error.
    /// Needs no database.
    Lint {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        output: ReportFormat,
    },
    /// Apply the pending migrations to a scratch copy of the target (its schema, generated rows over N
    /// partitions) under an application workload, sampling locks every few ms: per statement the locks, its
    /// duration and retries, and how long the application was blocked. Exit 1 when a statement stalls the
    /// application longer than `migrations.max_blocking`, 3 when it could not be measured.
    Rehearse(RehearseArgs),
}

/// `glctl migrate rehearse`.
#[derive(Clone, Copy, Debug, Args)]
pub struct RehearseArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// Run it against a production-tier environment (a scratch database on its server, dropped afterwards).
    #[arg(long)]
    pub allow_production: bool,
    /// Rows of emission_measurements generated into the scratch copy.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub rows: u64,
    /// Partitions the rows are spread over (besides the target's own and its default partition).
    #[arg(long, default_value_t = 12, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub partitions: u32,
    /// Application sessions (even ones ingest, odd ones query).
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub sessions: u64,
    /// Operations per second of each session, open loop; 0: as fast as each can (closed loop).
    #[arg(long, default_value_t = 50.0, value_name = "OPS")]
    pub rate: f64,
    /// Seconds of each baseline window before the migrations (the workload alone, then with the sampler).
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub duration: f64,
    /// Milliseconds between lock samples (at most 50).
    #[arg(long, default_value_t = 20, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=50))]
    pub sample_ms: u64,
    /// Make the scratch copy's data partitions UNLOGGED: a faster load and rewrite (no WAL, no replication),
    /// the same locks, shorter durations than the target would see.
    #[arg(long)]
    pub unlogged: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Directory holding the environment's Terraform outputs (default `.glctl/ENV/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Table)]
    pub format: VerifyFormat,
    /// Also write a report, e.g. `--report junit=verify.xml --report markdown=signoff.md` (repeatable).
    #[arg(long = "report", value_name = "FORMAT=FILE")]
    pub reports: Vec<String>,
    /// Run only these checks: IDs or prefixes, comma-separated (`ST-,FA-01`).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub only: Vec<String>,
    /// Leave these checks out: IDs or prefixes, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub skip: Vec<String>,
    /// Run the drills that change the target (failover, restore).
    #[arg(long)]
    pub drills: bool,
    /// Let drills and benchmarks run against a production tier (a failover moves its writer; a restore drill
    /// costs money but never touches the source; bench loads it). Drills also run where the file declares
    /// `acceptance.drills: allowed`.
    #[arg(long)]
    pub allow_production: bool,
    /// Run the performance benchmarks (PB-*).
    #[arg(long)]
    pub bench: bool,
    #[command(flatten)]
    pub pooler: PoolerArgs,
    /// List the checks and exit.
    #[arg(long)]
    pub list: bool,
}

/// Where the PgBouncers are (`verify` and `bench`), like `--database-url`; the local stack exports both.
#[derive(Debug, Default, Args)]
pub struct PoolerArgs {
    /// The PgBouncers (FA-09, PB-07, PB-08, HA-05), as one multi-host URL (postgres://user:pw@h1:p1,h2:p2/db);
    /// bench's connections scenario goes through them. Prefer the variable: a flag is visible in the process
    /// list.
    #[arg(long = "pooler-url", env = "GLCTL_POOLER_URL", hide_env_values = true, value_name = "URL")]
    pub url: Option<String>,
    /// The PgBouncers' admin console (the same hosts, an admin user, database pgbouncer), for SHOW
    /// POOLS/STATS.
    #[arg(long = "pooler-admin-url", env = "GLCTL_POOLER_ADMIN_URL", hide_env_values = true, value_name = "URL")]
    pub admin_url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Table,
    Json,
    Junit,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = DataFormat::Yaml)]
    pub output: DataFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Directory holding the environment's rendered module and Terraform state (default `.glctl/ENV/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// Read one stage only: `infra` (Terraform) or `database` (ledger, policies, objects).
    #[arg(long, value_enum)]
    pub only: Option<Stage>,
    /// Seconds to wait for a glctl applying migrations to the same database.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub lock_timeout: u64,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The environment whose verified bundle is promoted.
    #[arg(long, value_name = "SRC")]
    pub from: String,
    /// The environment promoted into (its `promotion.from` must be SRC).
    #[arg(long, value_name = "DST")]
    pub to: String,
    /// DST's work directory (default `.glctl/DST/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// SRC's work directory, where its verify runs are (default `.glctl/SRC/`).
    #[arg(long, value_name = "DIR")]
    pub source_out: Option<PathBuf>,
    /// Promote without asking (required when not on a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Allow a DST plan that replaces or destroys stateful resources or drops data sooner.
    #[arg(long)]
    pub allow_destroy: bool,
    /// Refuse when SRC and DST differ in a field DST's `promotion.differs` does not declare.
    #[arg(long)]
    pub strict: bool,
    /// Seconds to wait for another promotion into DST, or a glctl applying migrations there.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub lock_timeout: u64,
    /// Reports of DST's verify, as `glctl verify --report` (repeatable).
    #[arg(long = "report", value_name = "FORMAT=FILE")]
    pub reports: Vec<String>,
}
