//! The drift operation: what changed outside glctl in an environment, layer by layer (also promote's drift
//! gate).

use std::time::Duration;

use super::Session;
use crate::drift::{self, DriftOptions as LayerOptions, DriftReport, InfraTarget};
use crate::error::Error;

/// Which layers to read, and how long to wait for an applier's lock.
pub struct DriftOptions {
    pub infrastructure: bool,
    pub database: bool,
    pub lock_timeout: Duration,
}

pub fn run(session: &Session, options: &DriftOptions) -> Result<DriftReport, Error> {
    let stage = session.database_stage()?;
    let layers = LayerOptions {
        infrastructure: options.infrastructure,
        database: options.database,
        lock_timeout: options.lock_timeout,
    };
    let infra = InfraTarget { project: &session.project, aws: &session.aws, work_dir: &session.dir };
    let (now, _) = crate::clock::now();
    let today = now.get(..10).unwrap_or_default().to_string();
    Ok(session.runtime.block_on(drift::detect(&session.loaded, &infra, &stage, &layers, &today)))
}
