//! Command-line surface: what the user can type. Only shape and `--help`; meaning lives in `cmd/` and the stages.
//! `bench`'s flags are in `bench`; flag groups two commands share are declared once here and flattened
//! (`PoolerArgs`).

pub mod bench;
pub mod examples;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "glctl",
    version,
    about = "Stands up and keeps honest the time-series PostgreSQL database of the GreenLang platform",
    long_about = None,
    after_help = examples::GLCTL
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The process's command line, parsed (exits with clap's message on bad usage), noting whether
    /// `--database-url` was typed or came from GLCTL_DATABASE_URL.
    /// `version` is what `--version` prints (main.rs stamps the commit and build date in).
    pub fn parse_command_line(version: &'static str) -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().version(version).get_matches();
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
    /// Environment, for the commands that take one (also accepted after the subcommand; GLCTL_ENV when
    /// neither is given): a name under `environments/` or a path to a YAML file.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Option<String>,
    /// Project directory holding `environments/`, `templates/` and `sql/` [default: the nearest folder
    /// holding `environments/`, from here upwards, as git and cargo find theirs; else `.`].
    #[arg(long, global = true, env = "GLCTL_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
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
    #[command(after_help = examples::VALIDATE)]
    Validate(ValidateArgs),
    /// Print the effective (merged, defaulted) configuration of an environment, secrets redacted.
    #[command(after_help = examples::SHOW)]
    Show(ShowArgs),
    /// Render the environment's Terraform into a directory (default `.glctl/ENV/`) without running it.
    #[command(after_help = examples::RENDER)]
    Render(RenderArgs),
    /// Render, `terraform init` and `terraform plan`, then summarise what would change, by module; then the
    /// pending migrations and the policy changes, when the database is reachable.
    ///
    /// Replacing or destroying a stateful resource (cluster, instance, KMS key, secret) is flagged and makes
    /// `apply` refuse unless it is given --allow-destroy.
    #[command(after_help = examples::PLAN)]
    Plan(PlanArgs),
    /// Apply the saved plan (re-planning only when it is stale), then the migrations and the time-series
    /// policies.
    #[command(after_help = examples::APPLY)]
    Apply(ApplyArgs),
    /// Versioned SQL migrations (`sql/migrations/`): their status, apply the pending ones, lint them, or rehearse
    /// them under an application workload.
    #[command(after_help = examples::MIGRATE)]
    Migrate(MigrateArgs),
    /// Check the environment against the acceptance criteria of PRD §10, each with its evidence.
    ///
    /// Exit 0 when nothing failed, 1 when a check failed, 3 when nothing failed but a check could not be
    /// decided. Every run is saved under `.glctl/ENV/verify/`.
    #[command(after_help = examples::VERIFY)]
    Verify(VerifyArgs),
    /// Promote what was verified in SRC to DST: the gates, DST's plan and the environment diff, then
    /// apply, verify DST and write a promotion record.
    ///
    /// Exit 2 when a gate refuses (naming it; nothing is changed), 3 when a gate could not be checked, 1
    /// when DST's verify fails after the apply.
    #[command(after_help = examples::PROMOTE)]
    Promote(PromoteArgs),
    /// What changed outside glctl: infrastructure, migration ledger, policies and the objects the
    /// migrations made, each a list of named differences.
    ///
    /// Exit 0 no drift, 1 drift found, 3 a layer could not be read. Acknowledged drift (the file's
    /// `drift.acknowledged`) is listed and does not count.
    #[command(after_help = examples::DRIFT)]
    Drift(DriftArgs),
    /// Measure ingest throughput, query latency and sessions through the pooler (PB-01…PB-08) in a scratch
    /// schema that is dropped afterwards, also on Ctrl-C; a production environment needs --allow-production.
    #[command(after_help = examples::BENCH)]
    Bench(bench::BenchArgs),
    /// Engine and extension upgrades: check the live database's readiness for a version, or plan the steps.
    #[command(after_help = examples::UPGRADE)]
    Upgrade(UpgradeArgs),
    /// Print what each engine and time-series backend can do (the capability table).
    #[command(after_help = examples::ENGINES)]
    Engines(EnginesArgs),
    /// Print the reference of every environment field (generated from the model), or the fields under PATH.
    #[command(after_help = examples::FIELDS)]
    Fields(FieldsArgs),
    /// Print a shell completion script for bash, zsh or fish.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print glctl's man page (roff); the same page is checked in as docs/man/glctl.1.
    #[command(after_help = examples::MAN)]
    Man,
    /// Print the JSON Schema of an environment file, for editors (yaml-language-server) and CI.
    ///
    /// Generated from the same model as `validate` and `fields`. A file that extends another need not be
    /// complete, so only a file without `extends` must hold the required fields.
    #[command(after_help = examples::SCHEMA)]
    Schema(SchemaArgs),
    /// Write a new environment file `environments/NAME.yaml` that extends ENV's layer, with the fields that
    /// must differ marked, and validate it. Never overwrites.
    #[command(after_help = examples::INIT)]
    Init(InitArgs),
}

impl Command {
    /// What `-e` this command was given after its name (`Some(None)`: it takes an environment, none was
    /// typed there); `None` for the commands that take no environment.
    pub fn env_arg(&self) -> Option<Option<&str>> {
        let env = match self {
            Command::Validate(a) => &a.env.env,
            Command::Show(a) => &a.env.env,
            Command::Render(a) => &a.env.env,
            Command::Plan(a) => &a.env.env,
            Command::Apply(a) => &a.env.env,
            Command::Migrate(a) => &a.env,
            Command::Upgrade(a) => &a.env,
            Command::Verify(a) => &a.env.env,
            Command::Drift(a) => &a.env.env,
            Command::Bench(a) => &a.env.env,
            Command::Promote(_)
            | Command::Engines(_)
            | Command::Fields(_)
            | Command::Completions(_)
            | Command::Man
            | Command::Schema(_)
            | Command::Init(_) => return None,
        };
        Some(env.as_deref())
    }
}

/// `-e` on the commands that act on one environment (flattened), so the others do not offer it.
#[derive(Debug, Default, Args)]
pub struct EnvArg {
    /// Environment: a name under `environments/` (dev, staging, prod, local) or a path to a YAML file.
    /// Default: GLCTL_ENV.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Option<String>,
}

/// `text` for people, `json` for programs (docs/output.md: one versioned shape per command).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReferenceFormat {
    Text,
    Json,
    /// The Markdown table of docs/reference/.
    Markdown,
}

#[derive(Debug, Args)]
pub struct EnginesArgs {
    /// Only this engine kind (e.g. `aurora-postgresql`, `rds-postgresql`) or time-series backend.
    #[arg(value_name = "KIND")]
    pub kind: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReferenceFormat::Text)]
    pub output: ReferenceFormat,
}

#[derive(Debug, Args)]
pub struct FieldsArgs {
    /// Only the fields at or under this dotted path (`engine`, `hypertables.<name>.compression`).
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReferenceFormat::Text)]
    pub output: ReferenceFormat,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of the new environment (`environments/NAME.yaml`): lowercase letters, digits and `-`.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The environment the new one is modelled on: the new file extends what ENV extends (its layer).
    #[arg(long = "from", value_name = "ENV")]
    pub from: String,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Validate every environment under `environments/` instead of `-e`.
    #[arg(long, conflicts_with = "env")]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Directory to render into.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output format of what was written.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub env: EnvArg,
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
    /// SQL migrations, then the time-series policies: TimescaleDB's, or pg_partman's partition upkeep and
    /// retention run by pg_cron (the native backend).
    Database,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub env: EnvArg,
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
    /// Allow the plan to change a production environment's engine version (`glctl plan` names the change).
    #[arg(long)]
    pub allow_engine_upgrade: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub action: MigrateAction,
    /// Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV.
    #[arg(short = 'e', long = "env", global = true, value_name = "ENV")]
    pub env: Option<String>,
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
    #[command(after_help = examples::MIGRATE_STATUS)]
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        output: ReportFormat,
    },
    /// Apply the pending migrations in order, each in its own transaction.
    #[command(after_help = examples::MIGRATE_APPLY)]
    Apply {
        /// Print what would run, run nothing.
        #[arg(long)]
        dry_run: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        output: ReportFormat,
    },
    /// Parse every migration with PostgreSQL's grammar and report statements that would block the
    /// application (located FILE:LINE:COL, with a rule ID and the safe recipe); exit 2 on an error.
    /// Needs no database.
    #[command(after_help = examples::MIGRATE_LINT)]
    Lint {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        output: ReportFormat,
    },
    /// Apply the pending migrations to a scratch copy of the target (its schema, generated rows over N
    /// partitions) under an application workload, sampling locks every few ms: per statement the locks, its
    /// duration and retries, and how long the application was blocked. Exit 1 when a statement stalls the
    /// application longer than `migrations.max_blocking`, 3 when it could not be measured.
    #[command(after_help = examples::MIGRATE_REHEARSE)]
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
    #[command(flatten)]
    pub env: EnvArg,
    /// Directory holding the environment's Terraform outputs (default `.glctl/ENV/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout (with --list: text or json). `--format` is the old name, still accepted
    /// (hidden) until glctl 0.2.
    #[arg(long = "output", alias = "format", value_enum, default_value_t = VerifyFormat::Text)]
    pub output: VerifyFormat,
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
    /// The table (`table` is the old name, still accepted).
    #[value(alias = "table")]
    Text,
    Json,
    Junit,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub env: EnvArg,
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
    #[command(flatten)]
    pub env: EnvArg,
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
    /// Output format: `json` prints one document at the end (the progress goes to stderr).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(subcommand)]
    pub action: UpgradeAction,
    /// Environment: a name under `environments/` or a path to a YAML file. Default: GLCTL_ENV.
    #[arg(short = 'e', long = "env", global = true, value_name = "ENV")]
    pub env: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UpgradeAction {
    /// Read the live database and say, item by item (PASS/FAIL/UNKNOWN with evidence), what stands in the way
    /// of VERSION: PostgreSQL's pre-upgrade blockers, each extension's path, Blue/Green readiness.
    ///
    /// Exit 0 ready, 1 a blocker found, 2 a bad request (unknown version, downgrade, same version), 3 something
    /// could not be read. Changes nothing.
    #[command(after_help = examples::UPGRADE_CHECK)]
    Check(UpgradeCommon),
    /// The ordered steps of the upgrade to VERSION, each with its expected effect and how to undo it, and the
    /// rollback point. Runs nothing.
    #[command(after_help = examples::UPGRADE_PLAN)]
    Plan(UpgradeCommon),
}

#[derive(Debug, Args)]
pub struct UpgradeCommon {
    /// The engine version to move to (`17.4`); on RDS and Aurora one AWS offers (src/engine/versions.tsv).
    #[arg(long, value_name = "VERSION")]
    pub to: String,
    /// How long the upgrade may last: premade partitions must outlast it while maintenance is paused.
    #[arg(long, default_value = "1 day", value_name = "DURATION")]
    pub window: String,
    /// `blue-green` (logical replication; its limits block) or `in-place` (they do not).
    #[arg(long, value_enum, default_value_t = UpgradeMethod::BlueGreen)]
    pub method: UpgradeMethod,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UpgradeMethod {
    BlueGreen,
    InPlace,
}
