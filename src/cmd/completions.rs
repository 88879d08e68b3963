//! `glctl completions SHELL` and `glctl man`: generated from the clap command tree, so they never list a flag
//! glctl does not have. The checked-in copies (docs/completions/, docs/man/glctl.1) are compared by a test.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, Shell};
use crate::error::{Error, Exit};

pub fn run(args: &CompletionsArgs) -> Result<Exit, Error> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut Cli::command(), "glctl", &mut std::io::stdout());
    Ok(Exit::Ok)
}

pub fn man() -> Result<Exit, Error> {
    // The plain package version: the page must not change with every commit (a test compares it).
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .map_err(|e| Error::Usage(format!("cannot write the man page: {e}")))?;
    Ok(Exit::Ok)
}
