//! One module per subcommand; each parses nothing itself, calls one stage and prints its result.

pub mod apply;
pub mod bench;
pub mod completions;
pub mod drift;
pub mod engines;
pub mod fields;
pub mod init;
pub mod json;
pub mod migrate;
pub mod plan;
pub mod progress;
pub mod promote;
pub mod rehearse;
pub mod render;
pub mod schema;
pub mod show;
pub mod upgrade;
pub mod validate;
pub mod verify;

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::config::diagnostics::{Diagnostic, Severity};
use crate::config::{self, Loaded};
use crate::error::Error;
pub use crate::ops::Session;
use crate::output::Style;
use crate::project::Project;

/// The environment of this command line: `-e` after the subcommand, else `-e` before it, else GLCTL_ENV.
/// `-e` typed for a command that takes no environment is bad usage rather than silently ignored.
pub fn environment(before: Option<&str>, after: Option<Option<&str>>) -> Result<Option<String>, Error> {
    match (before, after) {
        (Some(_), None) => {
            Err(Error::Usage("this command takes no environment: drop -e (promote takes --from and --to)".into()))
        }
        (Some(b), Some(Some(a))) if a != b => {
            Err(Error::Usage(format!("-e given twice, as '{b}' and '{a}': give it once")))
        }
        (_, None) => Ok(None),
        (before, Some(after)) => Ok(after
            .or(before)
            .map(str::to_string)
            .or_else(|| std::env::var("GLCTL_ENV").ok().filter(|v| !v.is_empty()))),
    }
}

/// Which of an environment's warnings a command shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warnings {
    /// Every warning, accepted risks included (validate, plan).
    All,
    /// What still needs a person's decision; not the accepted risks.
    Undecided,
}

/// What every command needs, resolved once from the global flags.
pub struct Context {
    pub project: Project,
    /// What `-e` named: an environment under `environments/` or a path to a file.
    pub env_arg: Option<String>,
    pub database_url: Option<String>,
    /// `database_url` came from `--database-url`, not from GLCTL_DATABASE_URL.
    pub database_url_from_flag: bool,
    pub style: Style,
    /// Colours for what goes to stdout (verify's table).
    pub stdout_style: Style,
}

impl Context {
    /// `env`: the environment the command line chose (see `environment`).
    pub fn new(global: GlobalArgs, env: Option<String>) -> Self {
        let root = global.root.unwrap_or_else(|| {
            std::env::current_dir().ok().and_then(|cwd| Project::find_root(&cwd)).unwrap_or_else(|| ".".into())
        });
        Context {
            project: Project::new(root),
            env_arg: env,
            database_url: global.database_url,
            database_url_from_flag: global.database_url_from_flag,
            style: Style::for_stderr(global.no_color),
            stdout_style: Style::for_stdout(global.no_color),
        }
    }

    /// The same context for another environment (promote works on two).
    pub fn for_env(&self, env: &str) -> Context {
        Context {
            project: self.project.clone(),
            env_arg: Some(env.to_string()),
            database_url: self.database_url.clone(),
            database_url_from_flag: self.database_url_from_flag,
            style: self.style,
            stdout_style: self.stdout_style,
        }
    }

    pub fn env_name(&self) -> Result<&str, Error> {
        self.env_arg.as_deref().ok_or_else(|| {
            Error::Usage("no environment given; pass -e ENV (a name under environments/ or a path)".into())
        })
    }

    /// Loads the environment named by `-e`; an invalid one ends the command with every problem.
    pub fn load(&self) -> Result<Loaded, Error> {
        let migrations = self.project.migrations();
        let columns = crate::database::indexes::column_rules(&migrations);
        Ok(config::load_with(&self.project.root, self.env_name()?, &columns)?)
    }

    /// Loads the environment and shows the warnings it passed with. Accepted risks are decisions the file
    /// already made: only `validate` and `plan` repeat them, or every run of a shipped file would warn.
    pub fn load_with_warnings(&self, warnings: Warnings) -> Result<Loaded, Error> {
        let loaded = self.load()?;
        for warning in &loaded.warnings {
            if warnings == Warnings::All || !warning.accepted_risk {
                eprintln!("{}", self.diagnostic_line(warning));
            }
        }
        Ok(loaded)
    }

    /// The environment (its warnings shown), its work directory, a runtime and its AWS context: what every
    /// command that reaches the environment's target starts from.
    pub fn session(&self, out: Option<&Path>, warnings: Warnings) -> Result<Session, Error> {
        let loaded = self.load_with_warnings(warnings)?;
        Ok(Session::open(&self.project, loaded, out, self.database_url.clone()))
    }

    pub fn diagnostic_line(&self, d: &Diagnostic) -> String {
        let line = d.to_string();
        match d.severity {
            Severity::Error => line.replacen(": error:", &format!(": {}", self.style.error("error:")), 1),
            Severity::Warning => line.replacen(": warning:", &format!(": {}", self.style.warning("warning:")), 1),
        }
    }
}
