//! One run's hold on an environment's target: the loaded environment, its work directory, a runtime and the
//! AWS context pinned to its account and region. Built once per environment a command reaches.

use std::path::{Path, PathBuf};

use crate::aws::AwsContext;
use crate::config::Loaded;
use crate::database::connect::Target;
use crate::database::stage::DatabaseStage;
use crate::database::target::{self, Source};
use crate::database::DatabaseError;
use crate::error::Error;
use crate::project::Project;

pub struct Session {
    pub project: Project,
    pub loaded: Loaded,
    pub dir: PathBuf,
    pub runtime: tokio::runtime::Runtime,
    pub aws: AwsContext,
    /// Where the SQL stage connects when not the environment's own endpoint (`--database-url`).
    pub database_url: Option<String>,
}

impl Session {
    /// The environment's work directory (`out` or `.glctl/ENV`), a runtime, and its AWS context.
    pub fn open(project: &Project, loaded: Loaded, out: Option<&Path>, database_url: Option<String>) -> Session {
        let dir = project.work_dir(&loaded, out);
        let runtime = crate::runtime::current_thread();
        let aws = runtime.block_on(AwsContext::for_environment(&loaded));
        Session { project: project.clone(), loaded, dir, runtime, aws, database_url }
    }

    /// Where a direct connection goes (bench, verify's benchmark): `--database-url`, or the environment's
    /// endpoint and credentials.
    pub fn target(&self) -> Result<Target, DatabaseError> {
        let source = match self.database_url.as_deref() {
            Some(url) => Source::Url(url),
            None => Source::Environment { work_dir: self.dir.clone() },
        };
        self.runtime.block_on(target::resolve(&self.loaded, &source, &self.aws))
    }

    /// The database stage of the environment: its migrations read (and checked) before anything connects, and
    /// PgBouncer's auth lookup for `apply` to make.
    pub fn database_stage(&self) -> Result<DatabaseStage<'_>, Error> {
        Ok(DatabaseStage::new(&self.project, &self.loaded, self.database_url.as_deref(), &self.dir, &self.aws)?
            .with_pooler_setup(crate::pgbouncer::auth::setup))
    }
}
