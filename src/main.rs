use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = glctl::cli::Cli::parse();
    let verbose = cli.global.verbose;
    match glctl::run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            eprintln!("{error}");
            if let Some(detail) = error.detail().filter(|_| verbose) {
                eprintln!("{detail}");
            }
            ExitCode::from(error.exit() as u8)
        }
    }
}
