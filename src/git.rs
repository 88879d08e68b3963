//! The one way glctl asks git about a checkout (the commit verify records, promote's checkout gate, who
//! promotes): `git ARGS` in the checkout, through `process`.

use std::path::Path;

use crate::process::Program;

/// `git args` run in `root`: what it printed on stdout when it succeeded; None when git is missing or failed.
pub fn output(root: &Path, args: &[&str]) -> Option<String> {
    let mut git = Program::new("git");
    // git's own settings (GIT_DIR, GIT_CONFIG_*…) and its XDG configuration file; no credential of glctl's.
    git.args(args).current_dir(root).pass_prefixed("GIT_").pass("XDG_CONFIG_HOME");
    let out = git.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The commit checked out at `root` (`git rev-parse HEAD`); None outside a checkout.
pub fn head(root: &Path) -> Option<String> {
    output(root, &["rev-parse", "HEAD"]).map(|o| o.trim().to_string())
}
