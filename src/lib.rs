//! glctl: one declarative YAML file per environment drives the Terraform, the SQL and the acceptance checks
//! of the GreenLang time-series PostgreSQL database.

pub mod capabilities;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod db;
pub mod error;
pub mod output;
pub mod terraform;

use cli::{Cli, Command};
use error::{Exit, Failure};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<Exit, Failure> {
    let ctx = cmd::Context::new(cli.global);
    match &cli.command {
        Command::Validate(args) => cmd::validate::run(&ctx, args),
        Command::Show(args) => cmd::show::run(&ctx, args),
        Command::Render(args) => cmd::render::run(&ctx, args),
        Command::Plan(args) => cmd::plan::run(&ctx, args),
        Command::Apply(args) => cmd::apply::run(&ctx, args),
        Command::Migrate(args) => cmd::migrate::run(&ctx, args),
        Command::Engines => cmd::engines::run(),
        Command::Fields => cmd::fields::run(),
    }
}
