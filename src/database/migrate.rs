//! The migration engine: versioned SQL files applied once each, in order, recorded in a ledger.
//!
//! - `sql/migrations/NNNN_description.sql`, or one `NNNN_description.<backend>.sql` per time-series backend
//!   where TimescaleDB and native partitioning need different SQL; the ledger is `glctl.schema_migrations`.
//! - A session-level advisory lock on one dedicated connection keeps two appliers from interleaving (a
//!   transaction-level lock would deadlock against `CREATE INDEX CONCURRENTLY`).
//! - Each file runs in its own transaction with its ledger row. A file whose first lines say
//!   `-- glctl:no-transaction` runs statement by statement outside a transaction (continuous aggregates
//!   refreshed WITH DATA, CREATE INDEX CONCURRENTLY); its progress is recorded per statement, so a failure
//!   part-way is reported on the next run instead of being silently retried.
//! - A changed checksum, an applied version missing from disk, or a partial migration stops everything.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

pub use super::lockwait::LockWait;
use super::lockwait::{self, backoff, is_lock_timeout, jitter_seed, Blocked, Watch};
pub use super::statements::{located_statements, split_statements, Statement};
use crate::config::model::Backend;

pub const NO_TRANSACTION: &str = "-- glctl:no-transaction";
/// `-- glctl:requires-extension NAME`: the preflight checks the server offers NAME before anything runs.
pub const REQUIRES_EXTENSION: &str = "-- glctl:requires-extension";
/// Advisory lock key: "glctl" as bytes, so other tools' keys are unlikely to collide.
const LOCK_KEY: i64 = 0x676c_6374_6c00;

#[derive(Clone, Debug)]
pub struct Migration {
    pub version: i32,
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    pub checksum: String,
    pub no_transaction: bool,
    /// Extensions the file needs (its `-- glctl:requires-extension` lines).
    pub requires: Vec<String>,
    /// The checksums of this version's variants for the other backends, to recognise a database that ran
    /// one of them.
    pub other_variants: Vec<(Backend, String)>,
}

impl Migration {
    pub fn file_name(&self) -> String {
        self.path.file_name().unwrap().to_string_lossy().into_owned()
    }
}

/// One file as named on disk: `NNNN_description.sql` for every backend, or
/// `NNNN_description.<backend>.sql` for one backend only.
struct FileName {
    version: i32,
    name: String,
    backend: Option<Backend>,
}

fn parse_file_name(file: &str) -> Option<FileName> {
    let stem = file.strip_suffix(".sql")?;
    let (stem, backend) = match stem.rsplit_once('.') {
        Some((rest, "timescaledb")) => (rest, Some(Backend::Timescaledb)),
        Some((rest, "native")) => (rest, Some(Backend::Native)),
        Some(_) => return None,
        None => (stem, None),
    };
    let (number, name) = stem.split_once('_')?;
    let valid_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if number.len() != 4 || !number.chars().all(|c| c.is_ascii_digit()) || !valid_name {
        return None;
    }
    Some(FileName { version: number.parse().ok()?, name: name.to_string(), backend })
}

fn backend_suffix(backend: Backend) -> &'static str {
    match backend {
        Backend::Timescaledb => "timescaledb",
        Backend::Native => "native",
    }
}

/// Reads `dir` and returns the migrations `backend` runs, in version order. A version is either one file
/// for every backend or one variant per backend (same description); a misnamed file, a repeated version,
/// or a version without a variant for `backend` is an error, reported before anything runs.
pub fn discover(dir: &Path, backend: Backend) -> Result<Vec<Migration>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<(FileName, PathBuf)> = Vec::new();
    let mut problems = Vec::new();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_none_or(|x| x != "sql") {
            continue;
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        match parse_file_name(&file) {
            Some(parsed) => files.push((parsed, path)),
            None => problems.push(format!(
                "{}: expected a name like 0001_description.sql or 0001_description.timescaledb.sql (or .native.sql)",
                path.display()
            )),
        }
    }
    files.sort_by(|a, b| (a.0.version, &a.1).cmp(&(b.0.version, &b.1)));
    let mut chosen = Vec::new();
    for group in files.chunk_by(|a, b| a.0.version == b.0.version) {
        let list = || group.iter().map(|(_, p)| p.display().to_string()).collect::<Vec<_>>().join(", ");
        let version = group[0].0.version;
        let common = group.iter().filter(|(f, _)| f.backend.is_none()).count();
        if group.iter().any(|(f, _)| f.name != group[0].0.name) || common > 1 || (common == 1 && group.len() > 1) {
            problems.push(format!(
                "version {version:04} is taken by more than one migration ({}); a version is one file, or one \
                 variant per backend with the same description",
                list()
            ));
            continue;
        }
        match group.iter().find(|(f, _)| f.backend.is_none() || f.backend == Some(backend)) {
            Some((_, path)) => {
                let others: Vec<(Backend, PathBuf)> = group
                    .iter()
                    .filter_map(|(f, p)| f.backend.filter(|b| *b != backend).map(|b| (b, p.clone())))
                    .collect();
                chosen.push((version, group[0].0.name.clone(), path.clone(), others))
            }
            None => problems.push(format!(
                "version {version:04} ({}) has no variant for the {b} backend: add {:04}_{}.{b}.sql next to {}",
                group[0].0.name,
                version,
                group[0].0.name,
                list(),
                b = backend_suffix(backend)
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let mut migrations = Vec::new();
    for (version, name, path, others) in chosen {
        let read =
            |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
        let sql = read(&path)?;
        let other_variants =
            others.iter().map(|(b, p)| Ok((*b, checksum(&read(p)?)))).collect::<Result<Vec<_>, String>>()?;
        let header: Vec<&str> = sql.lines().take_while(|l| l.trim().is_empty() || l.starts_with("--")).collect();
        let no_transaction = header.iter().any(|l| l.trim() == NO_TRANSACTION);
        let requires = header
            .iter()
            .filter_map(|l| l.trim().strip_prefix(REQUIRES_EXTENSION))
            .flat_map(|rest| rest.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_string))
            .collect();
        migrations.push(Migration {
            version,
            name,
            checksum: checksum(&sql),
            path,
            sql,
            no_transaction,
            requires,
            other_variants,
        });
    }
    Ok(migrations)
}

/// The SHA-256 of a migration with CRLF line endings read as LF, so a Windows checkout
/// (`core.autocrlf`) of an applied file is the same file, not a changed one.
pub fn checksum(sql: &str) -> String {
    format!("{:x}", Sha256::digest(sql.replace("\r\n", "\n").as_bytes()))
}

/// One row of the ledger.
#[derive(Clone, Debug)]
pub struct LedgerRow {
    pub version: i32,
    pub name: String,
    pub checksum: String,
    pub complete: bool,
    pub statements_done: i32,
    /// Why a partial no-transaction file stopped: its failed statement and the error.
    pub stopped_by: Option<String>,
}

#[derive(Debug, Default)]
pub struct Status {
    pub applied: Vec<Migration>,
    pub pending: Vec<Migration>,
    /// Applied, but the file on disk has a different checksum.
    pub changed: Vec<Migration>,
    /// In the ledger, not on disk.
    pub missing: Vec<LedgerRow>,
    /// No-transaction migrations that stopped part-way, with how many statements ran. One whose file is
    /// unchanged is also in `pending`: the next apply resumes it after those statements.
    pub partial: Vec<(Migration, i32)>,
    /// Partial migrations whose file changed since they stopped: resuming could run statements that never
    /// followed the ones that ran.
    pub partial_changed: Vec<Migration>,
    /// Why each partial migration stopped, by version, as its ledger row says.
    pub stopped_by: Vec<(i32, String)>,
    /// Pending migrations numbered below the highest applied version: running them now would run them out
    /// of order (they are also in `pending`).
    pub out_of_order: Vec<Migration>,
    /// The highest applied version.
    pub last_applied: Option<i32>,
    /// Applied as another backend's variant: the database was set up for that backend.
    pub other_backend: Vec<(Migration, Backend)>,
}

impl Status {
    pub fn is_up_to_date(&self) -> bool {
        self.pending.is_empty() && self.blockers(false).is_empty()
    }

    /// Problems that stop every apply, one line each, naming the file. A migration numbered below the last
    /// applied one is one of them unless `allow_out_of_order` (Flyway's `outOfOrder`) says it may run now.
    pub fn blockers(&self, allow_out_of_order: bool) -> Vec<String> {
        let mut out = Vec::new();
        for (m, ran) in &self.other_backend {
            let ran = crate::engine::capabilities::backend_label(*ran);
            out.push(format!(
                "version {:04} ({}) ran here as its `{ran}` variant: this database was set up for the `{ran}` \
                 time-series backend and the environment now says otherwise. Switching backends after migrations \
                 ran is refused, since the tables and summaries have another shape; keep `timeseries.backend: {ran}` \
                 for this database, or move the data into a new database set up for the new backend",
                m.version, m.name
            ));
        }
        if !allow_out_of_order {
            for m in &self.out_of_order {
                out.push(format!(
                    "{} is numbered below {:04}, the last applied migration, so it would run out of order; renumber \
                     it after {:04}, or pass --allow-out-of-order if it is right to run it now",
                    m.path.display(),
                    self.last_applied.unwrap_or_default(),
                    self.last_applied.unwrap_or_default()
                ));
            }
        }
        for m in &self.changed {
            out.push(format!("{} was applied but has been modified since (checksum differs)", m.path.display()));
        }
        for row in &self.missing {
            out.push(format!("version {:04} ({}) was applied but its file is missing", row.version, row.name));
        }
        for m in &self.partial_changed {
            let done = self.partial.iter().find(|(p, _)| p.version == m.version).map_or(0, |(_, d)| *d);
            out.push(format!(
                "{} stopped part-way ({done} statement(s) ran outside a transaction) and has been modified since, so \
                 it cannot be resumed: restore the file as it ran and apply again to resume it, or finish or undo \
                 it by hand and fix its ledger row (glctl.schema_migrations, version {})",
                m.path.display(),
                m.version
            ));
        }
        out
    }

    /// One line per partial migration the next apply resumes: how far it got and why it stopped.
    pub fn resumable(&self) -> Vec<String> {
        self.partial
            .iter()
            .filter(|(m, _)| !self.partial_changed.iter().any(|c| c.version == m.version))
            .map(|(m, done)| {
                let why = self.stopped_by.iter().find(|(v, _)| *v == m.version).map(|(_, w)| w.as_str());
                format!(
                    "{} stopped part-way: {done} of {} statement(s) ran outside a transaction; apply resumes at statement {}{}",
                    m.path.display(),
                    located_statements(&m.sql).len(),
                    done + 1,
                    why.map(|w| format!(" (it stopped at {w})")).unwrap_or_default()
                )
            })
            .collect()
    }
}

pub async fn ensure_ledger(client: &Client) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS glctl;
             CREATE TABLE IF NOT EXISTS glctl.schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 checksum text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now(),
                 applied_by text NOT NULL DEFAULT current_user,
                 duration_ms bigint,
                 glctl_version text NOT NULL,
                 complete boolean NOT NULL DEFAULT true,
                 statements_done integer NOT NULL DEFAULT 0
             );
             -- A ledger made by an earlier glctl gets the columns that say how far a partial file got.
             ALTER TABLE glctl.schema_migrations ADD COLUMN IF NOT EXISTS statements_total integer;
             ALTER TABLE glctl.schema_migrations ADD COLUMN IF NOT EXISTS stopped_by text;",
        )
        .await
}

pub async fn ledger(client: &Client) -> Result<Vec<LedgerRow>, tokio_postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('glctl.schema_migrations') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok(vec![]);
    }
    // Through to_jsonb: a ledger of an earlier glctl (no stopped_by yet) reads as well.
    let rows = client
        .query(
            "SELECT version, name, checksum, complete, statements_done, to_jsonb(m) ->> 'stopped_by'
               FROM glctl.schema_migrations m ORDER BY version",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| LedgerRow {
            version: r.get(0),
            name: r.get(1),
            checksum: r.get(2),
            complete: r.get(3),
            statements_done: r.get(4),
            stopped_by: r.get(5),
        })
        .collect())
}

pub fn compare(migrations: &[Migration], ledger: &[LedgerRow]) -> Status {
    let mut status = Status::default();
    for m in migrations {
        match ledger.iter().find(|r| r.version == m.version) {
            None => status.pending.push(m.clone()),
            Some(row) if !row.complete => {
                status.partial.push((m.clone(), row.statements_done));
                if let Some(why) = &row.stopped_by {
                    status.stopped_by.push((m.version, why.clone()));
                }
                if row.checksum == m.checksum {
                    status.pending.push(m.clone());
                } else {
                    status.partial_changed.push(m.clone());
                }
            }
            Some(row) if row.checksum != m.checksum && m.other_variants.iter().any(|(_, c)| *c == row.checksum) => {
                let (backend, _) = m.other_variants.iter().find(|(_, c)| *c == row.checksum).expect("found above");
                status.other_backend.push((m.clone(), *backend));
            }
            Some(row) if row.checksum != m.checksum => status.changed.push(m.clone()),
            Some(_) => status.applied.push(m.clone()),
        }
    }
    for row in ledger {
        if !migrations.iter().any(|m| m.version == row.version) {
            status.missing.push(row.clone());
        }
    }
    status.last_applied = ledger.iter().map(|r| r.version).max();
    if let Some(last) = status.last_applied {
        // A partial migration to resume is in the ledger already: not out of order.
        let partial = |m: &Migration| status.partial.iter().any(|(p, _)| p.version == m.version);
        status.out_of_order = status.pending.iter().filter(|m| m.version < last && !partial(m)).cloned().collect();
    }
    status
}

/// A migration failed; the ones before it were applied and committed.
#[derive(Debug, thiserror::Error)]
#[error("{message}\napplied before the failure: {}", if applied.is_empty() { "none".to_string() } else { applied.join(", ") })]
pub struct MigrateError {
    /// Migrations that were applied (and committed) before the failure.
    pub applied: Vec<String>,
    pub message: String,
}

/// The message of a statement that gave up waiting for a lock: the error, how long and how often it waited,
/// the statement, the lock it wanted and who held it (`who`).
fn gave_up(e: &tokio_postgres::Error, attempts: u32, lock_wait: LockWait, statement: &Statement, who: &str) -> String {
    format!(
        "{}; it waited {} ms for a lock {attempts} time(s) (migrations.lock_timeout; lock_retries: {}) and gave up\n  statement: {}\n{who}",
        db_error(e),
        lock_wait.timeout.unwrap_or_default().as_millis(),
        lock_wait.retries,
        statement.shown()
    )
}

/// Who blocked `statement`: what the watcher saw, or (no watcher, or it saw nothing) who holds locks on the
/// tables it names now.
async fn who_blocked(client: &Client, statement: &Statement, seen: Option<Blocked>) -> String {
    match seen {
        Some(blocked) if !blocked.holders.is_empty() => blocked.to_string(),
        seen => {
            let wanted = seen.map(|b| format!("  it wanted: {} on {}\n", b.mode, b.object)).unwrap_or_default();
            format!("{wanted}{}", lockwait::holders_now(client, &super::lint::relations_named(&statement.text)).await)
        }
    }
}

/// Runs one statement of a `-- glctl:no-transaction` file under a session `lock_timeout` (reset after it;
/// such a file must not go through a transaction pooler, which may run the SET and the statement on
/// different servers: `stage` refuses one), and tries one that timed out again after a backoff. A concurrent
/// index build that failed leaves an INVALID index: the next try first drops it (under the same bound: the
/// drop waits for the same older transactions the build did), and on giving up it is dropped with a longer
/// bound, so nothing half-built stays behind.
async fn run_alone(
    client: &Client,
    watch: Option<&Watch<'_>>,
    statement: &Statement,
    lock_wait: LockWait,
) -> Result<(), String> {
    let mut attempt = 0u32;
    // An INVALID index this statement's failed build left, still to drop.
    let mut leftover: Option<String> = None;
    loop {
        if let Some(timeout) = lock_wait.timeout {
            client
                .batch_execute(&format!("SET lock_timeout = '{}ms'", timeout.as_millis()))
                .await
                .map_err(|e| db_error(&e))?;
        }
        let (result, seen) = match &leftover {
            Some(index) => {
                let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {index}");
                match lockwait::watched(watch, client.batch_execute(&drop)).await {
                    (Ok(()), _) => {
                        leftover = None;
                        lockwait::watched(watch, client.batch_execute(&statement.text)).await
                    }
                    failed => failed,
                }
            }
            None => lockwait::watched(watch, client.batch_execute(&statement.text)).await,
        };
        if lock_wait.timeout.is_some() {
            client.batch_execute("RESET lock_timeout").await.map_err(|e| db_error(&e))?;
        }
        let Err(e) = result else { return Ok(()) };
        if leftover.is_none() {
            leftover = invalid_index_left(client, &statement.text, &e).await?;
        }
        if is_lock_timeout(&e) && attempt < lock_wait.retries {
            attempt += 1;
            tokio::time::sleep(backoff(attempt, jitter_seed())).await;
            continue;
        }
        let mut message = if is_lock_timeout(&e) {
            gave_up(&e, attempt + 1, lock_wait, statement, &who_blocked(client, statement, seen).await)
        } else {
            format!("{}\n  statement: {}", db_error(&e), statement.shown())
        };
        if let Some(index) = leftover {
            match drop_index(client, &index, DROP_INVALID_WAIT).await {
                Ok(()) => message.push_str(&format!("\n  the INVALID index {index} it left was dropped")),
                Err(why) => message.push_str(&format!(
                    "\n  its INVALID index {index} could not be dropped within {} s ({why}): run DROP INDEX \
                     CONCURRENTLY {index} once the sessions named above have ended",
                    DROP_INVALID_WAIT.as_secs()
                )),
            }
        }
        return Err(message);
    }
}

/// After `statement` failed with `e`: when it was `CREATE INDEX CONCURRENTLY name` and left `name` INVALID,
/// its schema-qualified name. Not when the name was taken before (that index is not ours).
async fn invalid_index_left(
    client: &Client,
    statement: &str,
    e: &tokio_postgres::Error,
) -> Result<Option<String>, String> {
    const DUPLICATE: &str = "42P07";
    let Some((schema, name)) = super::lint::concurrent_index_name(statement) else { return Ok(None) };
    if e.as_db_error().is_some_and(|db| db.code().code() == DUPLICATE) {
        return Ok(None);
    }
    let invalid = client
        .query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE NOT i.indisvalid AND c.relname = $1 AND ($2 = '' OR n.nspname = $2)",
            &[&name, &schema],
        )
        .await
        .map_err(|e| db_error(&e))?;
    Ok(invalid.first().map(|row| row.get(0)))
}

/// `DROP INDEX CONCURRENTLY index`, waiting at most `wait` for the transactions older than it.
async fn drop_index(client: &Client, index: &str, wait: Duration) -> Result<(), String> {
    // Separate round trips: in one string they would run as one implicit transaction, which DROP … CONCURRENTLY
    // refuses.
    client.batch_execute(&format!("SET lock_timeout = '{}ms'", wait.as_millis())).await.map_err(|e| db_error(&e))?;
    let dropped = client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}")).await;
    let _ = client.batch_execute("RESET lock_timeout").await;
    dropped.map_err(|e| db_error(&e))
}

/// How long dropping a failed concurrent build's INVALID index may wait on giving up: longer than a retry's
/// bound, since leaving it INVALID costs every write to the table; past it the user is told the name to drop.
const DROP_INVALID_WAIT: Duration = Duration::from_secs(60);

fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Takes the advisory lock, waiting up to `wait`; tells `on_wait` once when another applier holds it.
pub async fn lock(client: &Client, wait: Duration, on_wait: impl Fn()) -> Result<(), String> {
    let started = Instant::now();
    let mut told = false;
    loop {
        let got: bool =
            client.query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY]).await.map_err(|e| db_error(&e))?.get(0);
        if got {
            return Ok(());
        }
        if !told {
            on_wait();
            told = true;
        }
        if started.elapsed() >= wait {
            return Err(format!("another glctl is applying migrations; gave up after {} s", wait.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The same lock taken shared, by a reader (`drift`) that must not see an apply half-way: it waits for an
/// applier and lets other readers in.
pub async fn lock_shared(client: &Client, wait: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock_shared($1)", &[&LOCK_KEY])
            .await
            .map_err(|e| db_error(&e))?
            .get(0);
        if got {
            return Ok(());
        }
        if started.elapsed() >= wait {
            return Err(format!("another glctl is applying migrations; gave up waiting after {} s", wait.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn unlock_shared(client: &Client) {
    let _ = client.query_one("SELECT pg_advisory_unlock_shared($1)", &[&LOCK_KEY]).await;
}

pub async fn unlock(client: &Client) {
    let _ = client.query_one("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
}

/// Applies `pending` in order under the lock the caller holds. Every statement waits at most
/// `lock_wait.timeout` for a lock and is tried again after a backoff; `observer`, a second connection, watches
/// what it waits for, so one that gives up names the lock and its holder (without one, the holders are read
/// after giving up). Stops at the first failure. A `-- glctl:no-transaction` file that stopped part-way
/// before (its ledger row incomplete, its checksum unchanged) resumes after the statements that ran.
pub async fn apply_pending(
    client: &mut Client,
    observer: Option<&Client>,
    pending: &[Migration],
    lock_wait: LockWait,
    mut progress: impl FnMut(&Migration, Duration),
) -> Result<Vec<String>, MigrateError> {
    let watch = match observer {
        Some(observer) => Watch::new(client, observer).await,
        None => None,
    };
    let mut applied = Vec::new();
    for m in pending {
        let started = Instant::now();
        let label = m.file_name();
        let fail = |applied: &Vec<String>, what: String| MigrateError {
            applied: applied.clone(),
            message: format!("{}: {what}", m.path.display()),
        };
        let statements = located_statements(&m.sql);
        let total = statements.len();
        if m.no_transaction {
            let resume_at = resume_point(client, m).await.map_err(|e| fail(&applied, db_error(&e)))?;
            if resume_at.is_none() {
                record(client, m, total).await.map_err(|e| fail(&applied, db_error(&e)))?;
            }
            for (i, statement) in statements.iter().enumerate().skip(resume_at.unwrap_or(0)) {
                if let Err(message) = run_alone(client, watch.as_ref(), statement, lock_wait).await {
                    let stopped = format!("{}: {}", statement.label(i, total), first_line(&message));
                    let _ = client
                        .execute(
                            "UPDATE glctl.schema_migrations SET stopped_by = $2 WHERE version = $1",
                            &[&m.version, &stopped],
                        )
                        .await;
                    return Err(fail(
                        &applied,
                        format!(
                            "{} failed: {message}\nthe ledger records it as partial: {i} of {total} statement(s) ran \
                             outside a transaction{}; the next apply resumes at statement {}",
                            statement.label(i, total),
                            if i == 0 { String::new() } else { format!(" (statements 1–{i})") },
                            i + 1
                        ),
                    ));
                }
                client
                    .execute(
                        "UPDATE glctl.schema_migrations SET statements_done = $2, stopped_by = NULL WHERE version = $1",
                        &[&m.version, &(i as i32 + 1)],
                    )
                    .await
                    .map_err(|e| fail(&applied, db_error(&e)))?;
            }
            let ms = started.elapsed().as_millis() as i64;
            client
                .execute(
                    "UPDATE glctl.schema_migrations SET complete = true, duration_ms = $2 WHERE version = $1",
                    &[&m.version, &ms],
                )
                .await
                .map_err(|e| fail(&applied, db_error(&e)))?;
        } else {
            let mut attempt = 0u32;
            loop {
                let tx = client.transaction().await.map_err(|e| fail(&applied, db_error(&e)))?;
                if let Some(timeout) = lock_wait.timeout {
                    // LOCAL: it ends with this transaction, so it cannot leak into a later one on this connection
                    // (and a transaction pooler keeps it, as it keeps the transaction on one server).
                    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{}ms'", timeout.as_millis()))
                        .await
                        .map_err(|e| fail(&applied, db_error(&e)))?;
                }
                // Statement by statement, so a failure names its statement and the watcher sees which one waits.
                let mut failed = None;
                for (i, statement) in statements.iter().enumerate() {
                    let (result, seen) = lockwait::watched(watch.as_ref(), tx.batch_execute(&statement.text)).await;
                    if let Err(e) = result {
                        failed = Some((i, e, seen));
                        break;
                    }
                }
                match failed {
                    None => {}
                    Some((_, e, _)) if is_lock_timeout(&e) && attempt < lock_wait.retries => {
                        drop(tx); // rolls back
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt, jitter_seed())).await;
                        continue;
                    }
                    Some((i, e, seen)) => {
                        drop(tx); // rolls back
                        let statement = &statements[i];
                        let what = if is_lock_timeout(&e) {
                            gave_up(&e, attempt + 1, lock_wait, statement, &who_blocked(client, statement, seen).await)
                        } else {
                            format!("{}\n  statement: {}", db_error(&e), statement.shown())
                        };
                        return Err(fail(
                            &applied,
                            format!(
                                "{} failed: {what}\nrolled back, nothing of it applied (the ledger has no row for it)",
                                statement.label(i, total)
                            ),
                        ));
                    }
                }
                let ms = started.elapsed().as_millis() as i64;
                tx.execute(
                    "INSERT INTO glctl.schema_migrations (version, name, checksum, duration_ms, glctl_version) VALUES ($1, $2, $3, $4, $5)",
                    &[&m.version, &m.name, &m.checksum, &ms, &env!("CARGO_PKG_VERSION")],
                )
                .await
                .map_err(|e| fail(&applied, db_error(&e)))?;
                tx.commit().await.map_err(|e| fail(&applied, db_error(&e)))?;
                break;
            }
        }
        progress(m, started.elapsed());
        applied.push(label);
    }
    Ok(applied)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Where a no-transaction migration starts: `Some(n)` when its ledger row says it stopped after `n`
/// statements of this very file (resume after them), `None` when it has no row yet.
async fn resume_point(client: &Client, m: &Migration) -> Result<Option<usize>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT statements_done FROM glctl.schema_migrations WHERE version = $1 AND NOT complete AND checksum = $2",
            &[&m.version, &m.checksum],
        )
        .await?;
    Ok(row.map(|r| usize::try_from(r.get::<_, i32>(0)).unwrap_or(0)))
}

/// The ledger row of a no-transaction migration before its first statement runs: incomplete, none done.
async fn record(client: &Client, m: &Migration, total: usize) -> Result<u64, tokio_postgres::Error> {
    let total = i32::try_from(total).unwrap_or(i32::MAX);
    client
        .execute(
            "INSERT INTO glctl.schema_migrations (version, name, checksum, glctl_version, complete, statements_done, statements_total)
             VALUES ($1, $2, $3, $4, false, 0, $5)",
            &[&m.version, &m.name, &m.checksum, &env!("CARGO_PKG_VERSION"), &total],
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::{checksum, compare, LedgerRow, Migration};

    fn migration(version: i32, sql: &str) -> Migration {
        Migration {
            version,
            name: format!("m{version}"),
            path: format!("sql/migrations/{version:04}_m{version}.sql").into(),
            sql: sql.into(),
            checksum: checksum(sql),
            no_transaction: false,
            requires: vec![],
            other_variants: vec![],
        }
    }

    fn applied(m: &Migration) -> LedgerRow {
        LedgerRow {
            version: m.version,
            name: m.name.clone(),
            checksum: m.checksum.clone(),
            complete: true,
            statements_done: 0,
            stopped_by: None,
        }
    }

    #[test]
    fn crlf_line_endings_do_not_change_the_checksum() {
        assert_eq!(
            checksum("CREATE TABLE a (id int);\r\nSELECT 1;\r\n"),
            checksum("CREATE TABLE a (id int);\nSELECT 1;\n")
        );
        assert_ne!(checksum("SELECT 1;"), checksum("SELECT 2;"));
    }

    #[test]
    fn a_new_migration_numbered_below_the_last_applied_is_refused_unless_allowed() {
        let (one, three, two) = (migration(1, "a"), migration(3, "c"), migration(2, "b"));
        let status = compare(&[one.clone(), two, three.clone()], &[applied(&one), applied(&three)]);
        assert_eq!(status.out_of_order.len(), 1);
        let blockers = status.blockers(false);
        assert_eq!(blockers.len(), 1, "{blockers:?}");
        assert!(blockers[0].contains("0002_m2.sql is numbered below 0003, the last applied migration"), "{blockers:?}");
        assert!(status.blockers(true).is_empty());
        assert!(!status.is_up_to_date());
    }

    #[test]
    fn a_database_set_up_for_the_other_backend_is_refused_with_an_explanation() {
        let mut native = migration(2, "CREATE TABLE t () PARTITION BY RANGE (x);");
        native.other_variants =
            vec![(crate::config::model::Backend::Timescaledb, checksum("SELECT create_hypertable();"))];
        let ran_timescaledb = LedgerRow { checksum: checksum("SELECT create_hypertable();"), ..applied(&native) };
        let status = compare(&[native], &[ran_timescaledb]);
        assert!(status.changed.is_empty(), "not reported as an edited file");
        let blockers = status.blockers(false);
        assert!(blockers[0].contains("ran here as its `timescaledb` variant"), "{blockers:?}");
        assert!(blockers[0].contains("keep `timeseries.backend: timescaledb`"), "{blockers:?}");
    }

    #[test]
    fn changed_missing_and_pending_are_told_apart() {
        let (one, two) = (migration(1, "a"), migration(2, "b"));
        let mut changed = applied(&one);
        changed.checksum = "other".into();
        let gone = LedgerRow { version: 9, name: "gone".into(), ..applied(&migration(9, "x")) };
        let status = compare(&[one, two], &[changed, gone]);
        assert_eq!((status.changed.len(), status.missing.len(), status.pending.len()), (1, 1, 1));
        assert_eq!(status.out_of_order.len(), 1, "0002 is below the missing 0009");
        assert_eq!(status.blockers(true).len(), 2);
    }

    #[test]
    fn a_partial_file_unchanged_is_resumed_and_a_changed_one_blocks() {
        let (one, two) = (migration(1, "a"), migration(2, "-- glctl:no-transaction\nb; c; d"));
        let partial = LedgerRow {
            complete: false,
            statements_done: 1,
            stopped_by: Some("statement 2 of 3 (line 2): lock timeout".into()),
            ..applied(&two)
        };
        let status = compare(&[one.clone(), two.clone()], &[applied(&one), partial.clone()]);
        assert_eq!(status.pending.len(), 1, "resumed by the next apply");
        assert!(status.blockers(false).is_empty(), "{:?}", status.blockers(false));
        assert!(status.out_of_order.is_empty(), "in the ledger already, not out of order");
        assert_eq!(
            status.resumable(),
            ["sql/migrations/0002_m2.sql stopped part-way: 1 of 3 statement(s) ran outside a transaction; apply resumes \
              at statement 2 (it stopped at statement 2 of 3 (line 2): lock timeout)"]
        );
        let edited = migration(2, "-- glctl:no-transaction\nb; other");
        let status = compare(&[one.clone(), edited], &[applied(&one), partial]);
        assert!(status.pending.is_empty() && status.resumable().is_empty());
        let blockers = status.blockers(false);
        assert!(blockers[0].contains("has been modified since, so it cannot be resumed"), "{blockers:?}");
    }
}
