//! `glctl migrate lint`: every statement of every migration parsed by PostgreSQL's own grammar (libpg_query,
//! through the `pg_query` crate) and judged against rules that know the environment: which tables are
//! hypertables or pg_partman parents, which have a default partition, the backend, and whether the
//! application version still running must keep working (`migrations.compatibility: previous`).
//!
//! Pure: migrations and what the environment says in, typed findings out. `plan` shows the findings of the
//! pending migrations; `apply` (and so `promote`) refuses to run them while one is an error.
//!
//! "Holds rows" without a database: a table created by an earlier migration, declared by the environment or
//! made outside the migrations is taken to hold rows; one created by the same migration is empty (nobody else
//! can see it before the migration commits).
//!
//! A finding is silenced for one statement only, by a comment on the lines before it:
//! `-- glctl:allow ML001: why this is safe here`. A silence without a reason is itself an error.

mod plpgsql;
mod rules;
mod size;
mod source;

pub use size::{read_sizes, TableSize};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::migrate::{discover, Migration};
use super::DatabaseError;
use crate::config::migrations::Compatibility;
use crate::config::model::{Backend, Environment};

/// How bad a finding is: an error stops `apply` and `promote`; a warning is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// The rules, each with a stable ID (what a silence names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Rule {
    /// SQL that PostgreSQL's grammar does not accept.
    ParseError,
    /// `CREATE INDEX` without `CONCURRENTLY` on a table that holds rows.
    IndexNotConcurrent,
    /// `CONCURRENTLY` (or TimescaleDB's `transaction_per_chunk`) inside a transaction.
    ConcurrentlyInTransaction,
    /// Any index on a partitioned parent or hypertable that holds rows.
    IndexOnPartitioned,
    /// `ADD COLUMN` whose default is volatile (or generated/identity): every row is rewritten.
    VolatileDefault,
    /// `ADD COLUMN … NOT NULL` without a default: fails on a table with rows.
    NotNullWithoutDefault,
    /// A constraint added with a full scan under lock: no `NOT VALID`, `SET NOT NULL`, a unique key built in place.
    ConstraintScan,
    /// `ALTER COLUMN … TYPE` that rewrites the table.
    TypeRewrite,
    /// `DETACH PARTITION` without `CONCURRENTLY`.
    DetachBlocking,
    /// `DETACH PARTITION CONCURRENTLY` where the parent has a default partition (PostgreSQL refuses it).
    DetachWithDefault,
    /// A drop or rename that breaks the application version still running.
    BreakingChange,
    /// A statement that takes an `ACCESS EXCLUSIVE` lock with no `SET lock_timeout` before it.
    UnboundedLockWait,
    /// `ALTER EXTENSION … UPDATE` in a migration.
    ExtensionUpdate,
    /// `-- glctl:allow RULE` without a reason.
    SilenceWithoutReason,
    /// `-- glctl:allow` naming no known rule.
    SilenceNamesNothing,
    /// A silence that silences nothing (the statement has no such finding).
    SilenceUnused,
}

impl Rule {
    pub const ALL: [Rule; 16] = [
        Rule::ParseError,
        Rule::IndexNotConcurrent,
        Rule::ConcurrentlyInTransaction,
        Rule::IndexOnPartitioned,
        Rule::VolatileDefault,
        Rule::NotNullWithoutDefault,
        Rule::ConstraintScan,
        Rule::TypeRewrite,
        Rule::DetachBlocking,
        Rule::DetachWithDefault,
        Rule::BreakingChange,
        Rule::UnboundedLockWait,
        Rule::ExtensionUpdate,
        Rule::SilenceWithoutReason,
        Rule::SilenceNamesNothing,
        Rule::SilenceUnused,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::ParseError => "ML000",
            Rule::IndexNotConcurrent => "ML001",
            Rule::ConcurrentlyInTransaction => "ML002",
            Rule::IndexOnPartitioned => "ML003",
            Rule::VolatileDefault => "ML004",
            Rule::NotNullWithoutDefault => "ML005",
            Rule::ConstraintScan => "ML006",
            Rule::TypeRewrite => "ML007",
            Rule::DetachBlocking => "ML008",
            Rule::DetachWithDefault => "ML009",
            Rule::BreakingChange => "ML010",
            Rule::UnboundedLockWait => "ML011",
            Rule::ExtensionUpdate => "ML012",
            Rule::SilenceWithoutReason => "ML090",
            Rule::SilenceNamesNothing => "ML091",
            Rule::SilenceUnused => "ML092",
        }
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id().eq_ignore_ascii_case(id))
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::SilenceUnused => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Whether a `-- glctl:allow` may silence it: not a parse error, not a problem with silences themselves.
    fn silenceable(self) -> bool {
        !matches!(self, Rule::ParseError | Rule::SilenceWithoutReason | Rule::SilenceNamesNothing | Rule::SilenceUnused)
    }
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Finding", 8)?;
        st.serialize_field("file", &self.file)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("column", &self.column)?;
        st.serialize_field("rule", self.rule.id())?;
        st.serialize_field("severity", &self.severity)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("recipe", &self.recipe)?;
        st.end()
    }
}

/// One problem, located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The migration file as discovered (`sql/migrations/0002_….sql`).
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub rule: Rule,
    pub severity: Severity,
    /// What the statement does and why that hurts.
    pub message: String,
    /// The safe way to do it.
    pub recipe: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.file,
            self.line,
            self.column,
            self.severity,
            self.rule.id(),
            self.message
        )?;
        if !self.recipe.is_empty() {
            write!(f, "\n  safe: {}", self.recipe)?;
        }
        Ok(())
    }
}

/// The errors among `findings`, one line each: `FILE:LINE:COL RULE: message`.
pub fn located<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<String> {
    findings
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}:{}:{} {}: {}", f.file, f.line, f.column, f.rule.id(), f.message))
        .collect()
}

/// What the environment tells the rules.
#[derive(Clone, Debug, Default)]
pub struct Knowledge {
    pub backend: Option<Backend>,
    /// Time-series tables of the environment: hypertables on TimescaleDB, pg_partman parents on native.
    pub partitioned: BTreeSet<String>,
    /// Parents with a default partition (pg_partman makes one for each parent glctl sets up).
    pub default_partition: BTreeSet<String>,
    /// `migrations.compatibility: previous`: the application version still running must keep working.
    pub compatibility_previous: bool,
    /// The runner bounds the lock wait of every statement (`migrations.lock_timeout`, 2 s by default): only a
    /// file's own `SET lock_timeout = 0` makes a wait unbounded.
    pub runner_bounds_lock_wait: bool,
    /// Table sizes read from the database (`migrate lint` with a database URL), by table: grade the findings
    /// whose cost grows with the table. `None`: not read, every existing table is taken to hold rows.
    pub sizes: Option<BTreeMap<String, TableSize>>,
}

impl Knowledge {
    pub fn of(env: &Environment) -> Knowledge {
        let backend = env.timeseries.backend;
        let partitioned: BTreeSet<String> = env.hypertables.keys().map(|t| normalize(t)).collect();
        let default_partition = if backend == Backend::Native { partitioned.clone() } else { BTreeSet::new() };
        let compatibility_previous =
            env.migrations.as_ref().is_some_and(|m| m.compatibility == Compatibility::Previous);
        // The runner always bounds the lock wait (migrations.lock_timeout, 2 s by default).
        let runner_bounds_lock_wait = true;
        Knowledge {
            backend: Some(backend),
            partitioned,
            default_partition,
            compatibility_previous,
            runner_bounds_lock_wait,
            sizes: None,
        }
    }
}

/// `public.x` and `x` are the same table; identifiers as PostgreSQL folds them.
fn normalize(name: &str) -> String {
    let name = name.trim().to_lowercase();
    name.strip_prefix("public.").map(str::to_string).unwrap_or(name)
}

/// What the lint saw.
#[derive(Debug, Default, Serialize)]
pub struct LintReport {
    pub files: usize,
    pub statements: usize,
    pub findings: Vec<Finding>,
    /// `migrate lint`: whether table sizes were read to grade the findings, and if not why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_sizes: Option<String>,
}

impl LintReport {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Table,
    MaterializedView,
    View,
}

/// A relation the migrations made, as far as the lint follows it.
#[derive(Clone, Debug)]
struct Relation {
    kind: Kind,
    partitioned: bool,
    has_default: bool,
    /// Column → its type as written (`varchar(50)`, `numeric(20,6)`), for type changes.
    columns: BTreeMap<String, rules::ColumnType>,
}

/// The relations made by the migrations so far.
#[derive(Debug, Default)]
struct Schema {
    relations: BTreeMap<String, Relation>,
}

/// Lints `migrations` (one backend's, in version order), each as if it ran on its own against a database in
/// use: a table an earlier migration made holds rows.
pub fn lint(migrations: &[Migration], knowledge: &Knowledge) -> LintReport {
    lint_run(migrations, knowledge, &BTreeSet::new())
}

/// Lints `migrations` for one run of `apply` that applies the files in `pending` together, in order: a table
/// made by one of them is still empty (nobody had a release to write to it) when a later one of the same run
/// indexes or alters it. Findings are reported for `pending` only (or for every file when it is empty); the
/// files before them still teach the rules which tables exist.
pub fn lint_run(migrations: &[Migration], knowledge: &Knowledge, pending: &BTreeSet<String>) -> LintReport {
    let mut schema = Schema::default();
    let mut report = LintReport::default();
    let mut made_in_this_run = BTreeSet::new();
    for m in migrations {
        let file = m.path.display().to_string();
        let in_run = pending.contains(&file);
        let mut made_here = BTreeSet::new();
        let created = if in_run { &mut made_in_this_run } else { &mut made_here };
        let (statements, findings) = rules::lint_file(&file, &m.sql, m.no_transaction, knowledge, &mut schema, created);
        if pending.is_empty() || in_run {
            report.files += 1;
            report.statements += statements;
            report.findings.extend(findings);
        }
    }
    report
}

/// Lints the migrations `dir` holds for `env`'s backend, with what `env` says of its tables and, when read,
/// their sizes.
pub fn lint_environment(
    dir: &Path,
    env: &Environment,
    sizes: Result<BTreeMap<String, TableSize>, String>,
) -> Result<LintReport, DatabaseError> {
    let migrations = discover(dir, env.timeseries.backend).map_err(DatabaseError::Migrations)?;
    let table_sizes = match &sizes {
        Ok(read) => {
            format!("read from the database ({} tables); below 10 MiB a graded finding is a warning", read.len())
        }
        Err(why) => format!("not read ({why}): every table an earlier migration made is taken to hold rows"),
    };
    let mut report = lint(&migrations, &Knowledge { sizes: sizes.ok(), ..Knowledge::of(env) });
    report.table_sizes = Some(table_sizes);
    Ok(report)
}

/// The tables and views a migration names (as PostgreSQL's grammar reads it), `schema.name` or `name`; empty
/// when it does not parse. The runner asks who holds locks on them when it gave up waiting.
pub fn relations_named(sql: &str) -> Vec<String> {
    let mut names: Vec<String> = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT)
        .map(|parsed| parsed.tables().iter().map(|t| normalize(t)).collect())
        .unwrap_or_default();
    names.sort();
    names.dedup();
    names
}

/// `CREATE INDEX CONCURRENTLY [schema.]name …`: its schema (empty when not given) and name.
pub fn concurrent_index_name(sql: &str) -> Option<(String, String)> {
    let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).ok()?;
    let stmt = parsed.protobuf.stmts.first()?.stmt.as_deref()?.node.as_ref()?;
    match stmt {
        pg_query::NodeEnum::IndexStmt(s) if s.concurrent && !s.idxname.is_empty() => {
            let schema = s.relation.as_ref().map(|r| r.schemaname.clone()).unwrap_or_default();
            Some((schema, s.idxname.clone()))
        }
        _ => None,
    }
}

/// Lints one SQL text as if it were the only migration (tests, and a quick check of a file).
#[cfg(test)]
fn lint_sql(sql: &str, no_transaction: bool, knowledge: &Knowledge, earlier: &str) -> Vec<Finding> {
    let mut schema = Schema::default();
    if !earlier.is_empty() {
        let _ = rules::lint_file("earlier.sql", earlier, false, knowledge, &mut schema, &mut BTreeSet::new());
    }
    rules::lint_file("m.sql", sql, no_transaction, knowledge, &mut schema, &mut BTreeSet::new()).1
}

#[cfg(test)]
mod tests;
