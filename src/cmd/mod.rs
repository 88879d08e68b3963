//! One module per subcommand; each takes the resolved context and its own arguments.

pub mod apply;
pub mod database;
pub mod engines;
pub mod fields;
pub mod migrate;
pub mod plan;
pub mod render;
pub mod show;
pub mod validate;

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::config::{self, LoadFailure, Loaded};
use crate::error::Failure;
use crate::output::Style;

/// What every command needs, resolved once from the global flags.
pub struct Context {
    pub root: PathBuf,
    pub env: Option<String>,
    pub database_url: Option<String>,
    pub style: Style,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Self {
        Context {
            root: global.root,
            env: global.env,
            database_url: global.database_url,
            style: Style::for_stderr(global.no_color),
        }
    }

    pub fn env_name(&self) -> Result<&str, Failure> {
        self.env
            .as_deref()
            .ok_or_else(|| Failure::usage("no environment given; pass -e ENV (a name under environments/ or a path)"))
    }

    /// Loads the environment named by `-e`; an invalid one ends the command with every problem printed.
    pub fn load(&self) -> Result<Loaded, Failure> {
        let name = self.env_name()?;
        config::load(&self.root, name).map_err(|failure| self.describe(failure))
    }

    pub fn describe(&self, failure: LoadFailure) -> Failure {
        match failure {
            LoadFailure::NotFound(message) => Failure::usage(message),
            LoadFailure::Invalid { name, diagnostics } => {
                let mut text = String::new();
                for d in &diagnostics {
                    text.push_str(&self.diagnostic_line(d));
                    text.push('\n');
                }
                text.push_str(&summary_line(&name, &diagnostics));
                Failure::usage(text)
            }
        }
    }

    pub fn diagnostic_line(&self, d: &config::diagnostics::Diagnostic) -> String {
        let line = d.to_string();
        match d.severity {
            config::diagnostics::Severity::Error => {
                line.replacen(": error:", &format!(": {}", self.style.error("error:")), 1)
            }
            config::diagnostics::Severity::Warning => {
                line.replacen(": warning:", &format!(": {}", self.style.warning("warning:")), 1)
            }
        }
    }
}

pub fn summary_line(name: &str, diagnostics: &[config::diagnostics::Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity == config::diagnostics::Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!("{name}: invalid ({}, {})", plural(errors, "error"), plural(warnings, "warning"))
}
