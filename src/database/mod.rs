//! The database stage: where to connect, with which credentials, over which TLS; the extension preflight,
//! the migrations and the time-series policies applied there (`stage` orchestrates them for the commands).

pub mod connect;
pub mod indexes;
pub mod lint;
pub mod lockwait;
pub mod logins;
pub mod migrate;
pub mod native;
pub mod objects;
pub mod policies;
pub mod preflight;
pub mod refreshes;
pub mod stage;
pub mod statements;
pub mod target;
pub mod tls;

use crate::aws::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// `sql/migrations/` holds a misnamed file, a taken version or a missing backend variant.
    #[error("{0}")]
    Migrations(String),
    /// The environment does not say where or as whom to connect (yet).
    #[error("{0}")]
    NoTarget(String),
    #[error("--database-url {0}")]
    BadUrl(String),
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The credentials secret cannot be read or holds no credentials.
    #[error("{0}")]
    Secret(String),
    #[error(transparent)]
    Connect(#[from] connect::ConnectError),
    #[error("reading {what} failed: {reason}")]
    Query { what: &'static str, reason: String },
    /// An applied file changed or is missing, or a no-transaction file stopped part-way.
    #[error("nothing was run:\n{}", .0.join("\n"))]
    Blocked(Vec<String>),
    /// The server cannot run the pending migrations (an extension missing or not preloaded).
    #[error("{0}")]
    Preflight(String),
    #[error("{0}")]
    Lock(String),
    /// `migrate lint` found errors in the pending migrations (each `FILE:LINE:COL RULE: message`).
    #[error("nothing was run: the pending migrations have lint errors (`glctl migrate lint` shows why and the safe recipe):\n{}", .0.join("\n"))]
    Lint(Vec<String>),
    #[error(transparent)]
    Migrate(#[from] migrate::MigrateError),
    /// The migrations committed; then the policies could not be made to match.
    #[error("{message}\nmigrations applied before this: {}", if applied.is_empty() { "none".to_string() } else { applied.join(", ") })]
    Policies { applied: Vec<String>, message: String },
}

impl DatabaseError {
    /// The database (or the secret that says how to reach it) could not be reached or read: a checking
    /// command reports that part as not checked, rather than as a finding about the database.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            DatabaseError::NoTarget(_)
                | DatabaseError::Secret(_)
                | DatabaseError::Connect(_)
                | DatabaseError::Query { .. }
                | DatabaseError::Aws(AwsError::Unreachable { .. })
        )
    }

    pub(crate) fn query(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> DatabaseError {
        move |e| DatabaseError::Query { what, reason: connect::reason(&e) }
    }
}
