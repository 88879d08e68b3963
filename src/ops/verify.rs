//! TEMPORARY seam (issue 26): the verify operation is moving here from `cmd/verify.rs` on another branch.

use super::Session;
use crate::error::Error;
use crate::verify::VerifyRun;

pub struct VerifyOptions {}

impl VerifyOptions {
    /// A promotion's verify of its target: no drills, no bench, no PgBouncer addresses.
    pub fn for_promotion() -> Self {
        VerifyOptions {}
    }
}

pub fn run(session: &Session, _options: &VerifyOptions) -> Result<VerifyRun, Error> {
    let ctx = crate::cmd::Context {
        project: session.project.clone(),
        env_arg: Some(session.loaded.name.clone()),
        database_url: session.database_url.clone(),
        database_url_from_flag: true,
        style: crate::output::Style::for_stderr(true),
        stdout_style: crate::output::Style::for_stdout(true),
    };
    let args = crate::cli::VerifyArgs {
        out: Some(session.dir.clone()),
        format: crate::cli::VerifyFormat::Table,
        reports: vec![],
        only: vec![],
        skip: vec![],
        drills: false,
        bench: false,
        list: false,
        allow_production: false,
        pooler: Default::default(),
    };
    crate::cmd::verify::verify_run(&ctx, &args).map(|run| run.expect("not --list"))
}
