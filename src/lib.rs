//! glctl: one declarative YAML file per environment drives the Terraform, the SQL and the acceptance checks
//! of the GreenLang time-series PostgreSQL database.
//!
//! The flow is one way: `config` (YAML → checked model) → stages (`infra`, `database`, with `aws` for the
//! account they run in) → `cmd` (one module per subcommand: call a stage, print its result). Nothing below
//! `cmd` prints or imports it; every failure is an `error::Error` whose exit code is chosen in one place.

pub(crate) mod aws;
pub(crate) mod bench;
pub mod cli;
pub(crate) mod clock;
pub mod closed_stdout;
pub(crate) mod cmd;
pub(crate) mod config;
pub(crate) mod database;
pub(crate) mod drift;
pub(crate) mod drills;
pub(crate) mod engine;
pub mod error;
pub(crate) mod git;
pub(crate) mod infra;
pub(crate) mod monitoring;
pub(crate) mod ops;
pub(crate) mod output;
// Public until `glctl` runs PgBouncer from it (issue 18 part f): the rendering is library-only so far.
pub mod pgbouncer;
pub(crate) mod process;
pub(crate) mod project;
pub(crate) mod promote;
pub(crate) mod runtime;
pub(crate) mod upgrade;
pub(crate) mod verify;

use cli::{Cli, Command};

// What the integration tests drive directly, besides the binary: the SQL stage's connection.
pub use config::model::TlsMode;
pub use database::connect::{connect, ConnectError, Password, Target};
pub use database::tls::load_roots;
use error::{Error, Exit};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    let env = cmd::environment(cli.global.env.as_deref(), cli.command.env_arg())?;
    let ctx = cmd::Context::new(cli.global, env);
    match &cli.command {
        Command::Validate(args) => cmd::validate::run(&ctx, args),
        Command::Show(args) => cmd::show::run(&ctx, args),
        Command::Render(args) => cmd::render::run(&ctx, args),
        Command::Plan(args) => cmd::plan::run(&ctx, args),
        Command::Apply(args) => cmd::apply::run(&ctx, args),
        Command::Migrate(args) => cmd::migrate::run(&ctx, args),
        Command::Verify(args) => cmd::verify::run(&ctx, args),
        Command::Drift(args) => cmd::drift::run(&ctx, args),
        Command::Promote(args) => cmd::promote::run(&ctx, args),
        Command::Bench(args) => cmd::bench::run(&ctx, args),
        Command::Upgrade(args) => cmd::upgrade::run(&ctx, args),
        Command::Engines(args) => cmd::engines::run(args),
        Command::Fields(args) => cmd::fields::run(args),
        Command::Completions(args) => cmd::completions::run(args),
        Command::Man => cmd::completions::man(),
        Command::Schema(args) => cmd::schema::run(args),
        Command::Init(args) => cmd::init::run(&ctx, args),
    }
}
