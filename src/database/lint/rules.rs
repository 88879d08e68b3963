//! The rules, statement by statement, over libpg_query's parse tree; and what each statement teaches the
//! lint about the schema (tables made, partitioned, given a default partition, turned into hypertables).

use std::collections::BTreeSet;

use pg_query::protobuf::{
    a_const, AlterTableCmd, AlterTableType, ColumnDef, ConstrType, DropStmt, IndexStmt, ObjectType, RangeVar,
    TransactionStmtKind, TypeName, VariableSetKind,
};
use pg_query::{Node, NodeEnum};

use super::source::{self, Silence};
use super::{normalize, Finding, Kind, Knowledge, Relation, Rule, Schema, Severity};
use crate::config::model::Backend;

/// PostgreSQL's `AccessExclusiveLock` in `LOCK TABLE`'s mode.
const ACCESS_EXCLUSIVE: i32 = 8;

/// Functions whose value changes per row: a default calling one is computed for every existing row.
const VOLATILE: &[&str] = &[
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "nextval",
    "txid_current",
    "random_normal",
];

/// A column's type as written: its last name part and its modifiers (`varchar`, `[50]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ColumnType {
    name: String,
    mods: Vec<i64>,
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if !self.mods.is_empty() {
            let mods: Vec<String> = self.mods.iter().map(i64::to_string).collect();
            write!(f, "({})", mods.join(","))?;
        }
        Ok(())
    }
}

impl ColumnType {
    fn of(t: &TypeName) -> ColumnType {
        let name = t.names.last().and_then(string_of).unwrap_or_default().to_lowercase();
        let mods = t.typmods.iter().filter_map(integer_of).collect();
        ColumnType { name: canonical_type(&name).to_string(), mods }
    }
}

fn canonical_type(name: &str) -> &str {
    match name {
        "decimal" => "numeric",
        "character varying" => "varchar",
        "int" | "integer" => "int4",
        "bigint" => "int8",
        "smallint" => "int2",
        other => other,
    }
}

/// A change of type PostgreSQL makes without rewriting the table (and, for these, without a scan).
fn binary_compatible(old: &ColumnType, new: &ColumnType) -> bool {
    if old == new {
        return true;
    }
    match (old.name.as_str(), new.name.as_str()) {
        ("varchar", "text") => true,
        ("varchar", "varchar") => new.mods.is_empty() || (old.mods.first() <= new.mods.first() && !old.mods.is_empty()),
        ("numeric", "numeric") => {
            new.mods.is_empty()
                || (old.mods.len() == new.mods.len()
                    && old.mods.first() <= new.mods.first()
                    && old.mods.get(1) == new.mods.get(1))
        }
        _ => false,
    }
}

fn string_of(node: &Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::String(s) => Some(s.sval.clone()),
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            a_const::Val::Sval(s) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::TypeCast(c) => c.arg.as_deref().and_then(string_of),
        _ => None,
    }
}

fn integer_of(node: &Node) -> Option<i64> {
    match node.node.as_ref()? {
        NodeEnum::Integer(i) => Some(i.ival.into()),
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            a_const::Val::Ival(i) => Some(i.ival.into()),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn relation_name(r: &RangeVar) -> String {
    if r.schemaname.is_empty() {
        normalize(&r.relname)
    } else {
        normalize(&format!("{}.{}", r.schemaname, r.relname))
    }
}

/// Every function called anywhere inside `node` (by its last name part).
fn called_functions(node: &Node, out: &mut Vec<String>) {
    // The tree is walked generically through its serde form: defaults are small expressions.
    if let Ok(value) = serde_json::to_value(node) {
        collect_funcnames(&value, out);
    }
}

fn collect_funcnames(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Array(names)) = map.get("funcname") {
                if let Some(last) = names.last() {
                    if let Some(s) = last.pointer("/node/String/sval").and_then(|v| v.as_str()) {
                        out.push(s.to_lowercase());
                    }
                }
            }
            map.values().for_each(|v| collect_funcnames(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_funcnames(v, out)),
        _ => {}
    }
}

/// What a file's statements run in, followed statement by statement.
struct FileState<'c> {
    /// The runner wraps the whole file in one transaction (no `-- glctl:no-transaction`).
    wrapped: bool,
    /// An explicit `BEGIN` is open.
    explicit: bool,
    /// A non-zero `lock_timeout` is in force.
    lock_timeout: bool,
    /// It was set with `SET LOCAL` inside an explicit transaction (ends with it).
    lock_timeout_local: bool,
    /// Relations this file (or an earlier one of the same run) created: empty, and nobody else's yet.
    created: &'c mut BTreeSet<String>,
}

impl FileState<'_> {
    fn in_transaction(&self) -> bool {
        self.wrapped || self.explicit
    }
}

/// One finding before it is located and checked against silences.
pub(super) struct Raw {
    pub rule: Rule,
    /// Set when the table's size graded it (`size::grade`); else the rule's own.
    pub severity: Option<Severity>,
    pub offset: usize,
    pub message: String,
    pub recipe: String,
}

/// Lints one file into `schema`; returns how many statements it had and the findings.
pub(super) fn lint_file(
    file: &str,
    sql: &str,
    no_transaction: bool,
    knowledge: &Knowledge,
    schema: &mut Schema,
    created: &mut BTreeSet<String>,
) -> (usize, Vec<Finding>) {
    let finding = |rule: Rule, offset: usize, message: String, recipe: String| {
        let (line, column) = source::line_col(sql, offset);
        Finding { file: file.to_string(), line, column, rule, severity: rule.severity(), message, recipe }
    };
    let parsed = match pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) {
        Ok(parsed) => parsed,
        Err(e) => {
            let (offset, message) = source::locate_parse_error(sql, &source::error_message(&e));
            let recipe = "fix the SQL; nothing of this file runs until it parses".to_string();
            return (0, vec![finding(Rule::ParseError, offset, format!("does not parse: {message}"), recipe)]);
        }
    };
    let mut state = FileState {
        wrapped: !no_transaction,
        explicit: false,
        // The runner sets `lock_timeout` for every migration when the environment says so.
        lock_timeout: knowledge.runner_bounds_lock_wait,
        lock_timeout_local: false,
        created,
    };
    let mut findings = Vec::new();
    let stmts = &parsed.protobuf.stmts;
    let mut comments_from = 0usize;
    for raw in stmts {
        let location = usize::try_from(raw.stmt_location).unwrap_or(0).max(comments_from);
        let start = source::first_token(sql, location);
        let end = if raw.stmt_len > 0 { location + raw.stmt_len as usize } else { sql.len() };
        let silences = source::silences(sql, comments_from.min(start), start);
        comments_from = end;
        let Some(node) = raw.stmt.as_deref().and_then(|n| n.node.as_ref()) else { continue };
        let mut raws = Vec::new();
        check(node, start, &state, knowledge, schema, &mut raws);
        super::size::grade(node, &mut raws, knowledge);
        if let NodeEnum::DoStmt(block) = node {
            check_do_block(sql, start, end, block, &mut state, knowledge, schema, &mut raws);
        }
        learn(node, &mut state, schema, knowledge);
        apply_silences(raws, &silences, &finding, &mut findings);
    }
    // A silence after the last statement silences nothing.
    for silence in source::silences(sql, comments_from.min(sql.len()), sql.len()) {
        apply_silences(Vec::new(), &[silence], &finding, &mut findings);
    }
    findings.sort_by_key(|f| (f.line, f.column));
    (stmts.len(), findings)
}

/// The statements inside a DO block, judged and learnt from like the file's own, located where they are; a
/// silence before the DO statement covers them.
#[allow(clippy::too_many_arguments)]
fn check_do_block(
    sql: &str,
    start: usize,
    end: usize,
    block: &pg_query::protobuf::DoStmt,
    state: &mut FileState,
    knowledge: &Knowledge,
    schema: &mut Schema,
    raws: &mut Vec<Raw>,
) {
    match super::plpgsql::embedded(sql, start, end, block) {
        Ok(statements) => {
            for embedded in statements {
                for raw in &embedded.parsed.protobuf.stmts {
                    let Some(inner) = raw.stmt.as_deref().and_then(|n| n.node.as_ref()) else { continue };
                    let before = raws.len();
                    check(inner, embedded.offset, state, knowledge, schema, raws);
                    super::size::grade(inner, &mut raws[before..], knowledge);
                    for found in &mut raws[before..] {
                        found.message.push_str(" (inside a DO block)");
                    }
                    learn(inner, state, schema, knowledge);
                }
            }
        }
        Err(message) => raws.push(Raw {
            rule: Rule::ParseError,
            severity: None,
            offset: start,
            message: format!("the DO block's body does not parse as PL/pgSQL: {message}"),
            recipe: "fix the block; nothing of this file runs until it parses".into(),
        }),
    }
}

fn apply_silences(
    raws: Vec<Raw>,
    silences: &[Silence],
    finding: &impl Fn(Rule, usize, String, String) -> Finding,
    out: &mut Vec<Finding>,
) {
    let mut used = vec![false; silences.len()];
    for raw in raws {
        let silenced =
            silences.iter().position(|s| s.problem.is_none() && raw.rule.silenceable() && s.rules.contains(&raw.rule));
        match silenced {
            Some(i) => used[i] = true,
            None => {
                let mut found = finding(raw.rule, raw.offset, raw.message, raw.recipe);
                found.severity = raw.severity.unwrap_or(found.severity);
                out.push(found)
            }
        }
    }
    for (silence, used) in silences.iter().zip(used) {
        match &silence.problem {
            Some((rule, message)) => out.push(finding(
                *rule,
                silence.offset,
                message.clone(),
                "write `-- glctl:allow ML0NN: why this statement is safe here` on the line before it".into(),
            )),
            None if !used => {
                let ids: Vec<&str> = silence.rules.iter().map(|r| r.id()).collect();
                out.push(finding(
                    Rule::SilenceUnused,
                    silence.offset,
                    format!(
                        "`-- glctl:allow {}` silences nothing: the next statement has no such finding",
                        ids.join(", ")
                    ),
                    "remove the silence, or move it to the line before the statement it is for".into(),
                ))
            }
            None => {}
        }
    }
}

/// The relation as far as the lint knows it.
fn relation<'a>(schema: &'a Schema, name: &str) -> Option<&'a Relation> {
    schema.relations.get(name)
}

fn is_partitioned(name: &str, schema: &Schema, knowledge: &Knowledge) -> bool {
    relation(schema, name).is_some_and(|r| r.partitioned) || knowledge.partitioned.contains(name)
}

fn has_default_partition(name: &str, schema: &Schema, knowledge: &Knowledge) -> bool {
    relation(schema, name).is_some_and(|r| r.has_default) || knowledge.default_partition.contains(name)
}

/// Rows, readers and writers: anything this file did not create.
fn in_use(name: &str, state: &FileState) -> bool {
    !state.created.contains(name)
}

const LOCK_RECIPE: &str = "put `SET lock_timeout = '2s';` before it (`SET LOCAL` inside a transaction) so it gives up \
     instead of queueing every later query behind it, and retry the migration when it does";

fn check(node: &NodeEnum, at: usize, state: &FileState, knowledge: &Knowledge, schema: &Schema, out: &mut Vec<Raw>) {
    let mut push = |rule: Rule, message: String, recipe: &str| {
        out.push(Raw { rule, severity: None, offset: at, message, recipe: recipe.to_string() })
    };
    let mut access_exclusive: Option<String> = None;
    match node {
        NodeEnum::IndexStmt(s) => check_index(s, state, knowledge, schema, &mut push),
        NodeEnum::DropStmt(s) => check_drop(s, state, knowledge, schema, &mut push, &mut access_exclusive),
        NodeEnum::AlterTableStmt(s) => {
            let Some(rel) = s.relation.as_ref() else { return };
            let table = relation_name(rel);
            if !in_use(&table, state) {
                return;
            }
            for cmd in &s.cmds {
                if let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() {
                    check_alter(&table, cmd, state, knowledge, schema, &mut push);
                    if takes_access_exclusive(cmd) {
                        access_exclusive.get_or_insert_with(|| table.clone());
                    }
                }
            }
        }
        NodeEnum::RenameStmt(s) => {
            let table = s.relation.as_ref().map(relation_name).unwrap_or_default();
            let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
            let relational = matches!(
                kind,
                ObjectType::ObjectTable | ObjectType::ObjectColumn | ObjectType::ObjectView | ObjectType::ObjectMatview
            );
            if relational && !table.is_empty() && in_use(&table, state) {
                access_exclusive = Some(table.clone());
                if knowledge.compatibility_previous {
                    let what = if kind == ObjectType::ObjectColumn {
                        format!("column {table}.{}", s.subname)
                    } else {
                        table.clone()
                    };
                    push(
                        Rule::BreakingChange,
                        format!(
                            "renames {what} to {}, which the application version still running (migrations.compatibility: previous) uses by its old name",
                            s.newname
                        ),
                        "expand and contract: add the new name (a new column kept in step, or a view), release the application that uses it, and drop the old name in a later migration",
                    );
                }
            }
        }
        NodeEnum::AlterExtensionStmt(s) => push(
            Rule::ExtensionUpdate,
            format!(
                "ALTER EXTENSION {} UPDATE in a migration: it locks every object the extension owns (for timescaledb every hypertable, and it must be the first command of its session), and the extension's version belongs to the engine upgrade, not to a schema change",
                s.extname
            ),
            "update the extension as its own planned step of an engine upgrade in the maintenance window, alone; if this migration is that step, say so with `-- glctl:allow ML012: …`",
        ),
        NodeEnum::TruncateStmt(s) => {
            access_exclusive = s.relations.iter().find_map(range_var).map(|r| relation_name(&r)).filter(|t| in_use(t, state))
        }
        NodeEnum::LockStmt(s) if s.mode == ACCESS_EXCLUSIVE && !s.nowait => {
            access_exclusive = s.relations.iter().find_map(range_var).map(|r| relation_name(&r)).filter(|t| in_use(t, state))
        }
        NodeEnum::RefreshMatViewStmt(s) if !s.concurrent => {
            access_exclusive = s.relation.as_ref().map(relation_name).filter(|t| in_use(t, state))
        }
        NodeEnum::ClusterStmt(s) => access_exclusive = s.relation.as_ref().map(relation_name).filter(|t| in_use(t, state)),
        NodeEnum::VacuumStmt(s) => {
            let full = s.options.iter().any(|o| matches!(o.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "full"));
            if full {
                access_exclusive = s
                    .rels
                    .iter()
                    .find_map(|r| match r.node.as_ref() {
                        Some(NodeEnum::VacuumRelation(v)) => v.relation.as_ref().map(relation_name),
                        _ => None,
                    })
                    .filter(|t| in_use(t, state));
            }
        }
        _ => {}
    }
    if let Some(table) = access_exclusive {
        if !state.lock_timeout {
            push(
                Rule::UnboundedLockWait,
                format!(
                    "takes an ACCESS EXCLUSIVE lock on {table} with no bounded wait: queued behind one long read, it blocks every query on {table} that arrives after it"
                ),
                LOCK_RECIPE,
            );
        }
    }
}

fn range_var(node: &Node) -> Option<RangeVar> {
    match node.node.as_ref()? {
        NodeEnum::RangeVar(r) => Some(r.clone()),
        _ => None,
    }
}

fn with_option(s: &IndexStmt, name: &str) -> bool {
    s.options.iter().any(|o| matches!(o.node.as_ref(), Some(NodeEnum::DefElem(d)) if format!("{}.{}", d.defnamespace, d.defname) == name || d.defname == name))
}

fn check_index(
    s: &IndexStmt,
    state: &FileState,
    knowledge: &Knowledge,
    schema: &Schema,
    push: &mut impl FnMut(Rule, String, &str),
) {
    let Some(rel) = s.relation.as_ref() else { return };
    let table = relation_name(rel);
    let per_chunk = with_option(s, "timescaledb.transaction_per_chunk");
    if (s.concurrent || per_chunk) && state.in_transaction() {
        let what = if s.concurrent { "CREATE INDEX CONCURRENTLY" } else { "timescaledb.transaction_per_chunk" };
        push(
            Rule::ConcurrentlyInTransaction,
            format!("{what} cannot run inside a transaction, and this file runs in one"),
            "put the statement in a migration of its own whose first line is `-- glctl:no-transaction`",
        );
    }
    if !in_use(&table, state) {
        return;
    }
    let name = if s.idxname.is_empty() { String::from("an index") } else { format!("index {}", s.idxname) };
    if is_partitioned(&table, schema, knowledge) {
        match knowledge.backend {
            Some(Backend::Timescaledb) if !per_chunk => push(
                Rule::IndexOnPartitioned,
                format!("{name} on hypertable {table} is built chunk by chunk in one transaction, holding a SHARE lock on every chunk (writes wait) until the last one is done"),
                "CREATE INDEX … WITH (timescaledb.transaction_per_chunk) in a `-- glctl:no-transaction` migration: one chunk locked at a time (a failure leaves INVALID chunk indexes to drop and rebuild); or declare it under `hypertables.<table>.indexes` and `glctl apply` builds it so (docs/indexes.md)",
            ),
            Some(Backend::Native) | None if rel.inh => push(
                Rule::IndexOnPartitioned,
                format!(
                    "{name} on partitioned table {table} is built on every partition under a lock that stops writes until the last one is done{}",
                    if s.concurrent { " (and PostgreSQL refuses CONCURRENTLY on a partitioned table)" } else { "" }
                ),
                "CREATE INDEX … ON ONLY the parent (instant, INVALID), then CREATE INDEX CONCURRENTLY on each partition (default partition included) in `-- glctl:no-transaction` migrations, ALTER INDEX parent_index ATTACH PARTITION each one (the parent's becomes valid), and add it to pg_partman's template table so future partitions have it; or declare it under `hypertables.<table>.indexes` and `glctl apply` does all of this (docs/indexes.md)",
            ),
            _ => {}
        }
        return;
    }
    let kind = relation(schema, &table).map_or(Kind::Table, |r| r.kind);
    // A materialized view has no writers but its refresh: the SHARE lock of a plain build blocks only that.
    if !s.concurrent && kind == Kind::Table {
        push(
            Rule::IndexNotConcurrent,
            format!("{name} on {table} is built without CONCURRENTLY: writes to {table} wait for the whole build"),
            "CREATE INDEX CONCURRENTLY in a migration of its own whose first line is `-- glctl:no-transaction`",
        );
    }
}

fn check_drop(
    s: &DropStmt,
    state: &FileState,
    knowledge: &Knowledge,
    schema: &Schema,
    push: &mut impl FnMut(Rule, String, &str),
    access_exclusive: &mut Option<String>,
) {
    let kind = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
    let names: Vec<String> = s
        .objects
        .iter()
        .filter_map(|o| match o.node.as_ref()? {
            NodeEnum::List(l) => Some(normalize(&l.items.iter().filter_map(string_of).collect::<Vec<_>>().join("."))),
            _ => None,
        })
        .collect();
    match kind {
        ObjectType::ObjectIndex => {
            if s.concurrent && state.in_transaction() {
                push(
                    Rule::ConcurrentlyInTransaction,
                    "DROP INDEX CONCURRENTLY cannot run inside a transaction, and this file runs in one".into(),
                    "put the statement in a migration of its own whose first line is `-- glctl:no-transaction`",
                );
            }
            if !s.concurrent {
                if let Some(index) = names.iter().find(|n| in_use(n, state)) {
                    *access_exclusive = Some(format!("the table of index {index}"));
                }
            }
        }
        ObjectType::ObjectTable | ObjectType::ObjectView | ObjectType::ObjectMatview => {
            let existing: Vec<&String> = names
                .iter()
                .filter(|n| in_use(n, state) && (schema.relations.contains_key(*n) || kind == ObjectType::ObjectTable))
                .collect();
            if let Some(first) = existing.first() {
                if kind == ObjectType::ObjectTable {
                    *access_exclusive = Some(first.to_string());
                }
                if knowledge.compatibility_previous {
                    push(
                        Rule::BreakingChange,
                        format!("drops {first}, which the application version still running (migrations.compatibility: previous) may still use"),
                        "release an application that no longer uses it first; drop it in a later migration",
                    );
                }
            }
        }
        _ => {}
    }
}

fn column_def(cmd: &AlterTableCmd) -> Option<&ColumnDef> {
    match cmd.def.as_deref()?.node.as_ref()? {
        NodeEnum::ColumnDef(c) => Some(c),
        _ => None,
    }
}

fn check_alter(
    table: &str,
    cmd: &AlterTableCmd,
    state: &FileState,
    knowledge: &Knowledge,
    schema: &Schema,
    push: &mut impl FnMut(Rule, String, &str),
) {
    let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
    match subtype {
        AlterTableType::AtAddColumn => {
            let Some(col) = column_def(cmd) else { return };
            let constraints: Vec<&pg_query::protobuf::Constraint> = col
                .constraints
                .iter()
                .filter_map(|c| match c.node.as_ref() {
                    Some(NodeEnum::Constraint(c)) => Some(&**c),
                    _ => None,
                })
                .collect();
            let has = |t: ConstrType| constraints.iter().any(|c| c.contype == t as i32);
            let default = constraints
                .iter()
                .find(|c| c.contype == ConstrType::ConstrDefault as i32)
                .and_then(|c| c.raw_expr.as_deref())
                .or(col.raw_default.as_deref());
            let type_name = col.type_name.as_ref().map(ColumnType::of).map(|t| t.name).unwrap_or_default();
            let serial = matches!(type_name.as_str(), "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2");
            let mut functions = Vec::new();
            if let Some(expr) = default {
                called_functions(expr, &mut functions);
            }
            let volatile = functions.iter().find(|f| VOLATILE.contains(&f.as_str()));
            let why = if let Some(f) = volatile {
                Some(format!("a volatile default ({f}())"))
            } else if serial {
                Some(format!("type {type_name} (a nextval() default)"))
            } else if has(ConstrType::ConstrGenerated) {
                Some("a stored generated value".to_string())
            } else if has(ConstrType::ConstrIdentity) {
                Some("an identity".to_string())
            } else {
                None
            };
            if let Some(why) = &why {
                push(
                    Rule::VolatileDefault,
                    format!("ADD COLUMN {} to {table} with {why}: every row of {table} is rewritten under an ACCESS EXCLUSIVE lock", col.colname),
                    "add the column with no default (or a constant one), set the default for new rows with ALTER COLUMN … SET DEFAULT, and fill existing rows in batches",
                );
            }
            if (has(ConstrType::ConstrNotnull) || col.is_not_null) && default.is_none() && why.is_none() {
                push(
                    Rule::NotNullWithoutDefault,
                    format!("ADD COLUMN {} NOT NULL without a default fails on {table} as soon as it holds a row", col.colname),
                    "add it with a constant DEFAULT (no rewrite since PostgreSQL 11), or add it nullable, backfill, then add CHECK (… IS NOT NULL) NOT VALID, VALIDATE it and SET NOT NULL",
                );
            }
        }
        AlterTableType::AtAddConstraint => {
            let Some(NodeEnum::Constraint(c)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) else { return };
            let contype = ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined);
            let name = if c.conname.is_empty() { "a constraint".to_string() } else { format!("constraint {}", c.conname) };
            match contype {
                ConstrType::ConstrCheck | ConstrType::ConstrForeign if !c.skip_validation => push(
                    Rule::ConstraintScan,
                    format!("adds {name} to {table} without NOT VALID: every row is checked while the lock is held"),
                    "ADD CONSTRAINT … NOT VALID (instant; new rows are checked), then ALTER TABLE … VALIDATE CONSTRAINT in a later statement (a weaker lock that lets reads and writes go on)",
                ),
                ConstrType::ConstrPrimary | ConstrType::ConstrUnique | ConstrType::ConstrExclusion
                    if c.indexname.is_empty() =>
                {
                    push(
                        Rule::ConstraintScan,
                        format!("adds {name} to {table} by building its index in place under an ACCESS EXCLUSIVE lock"),
                        "CREATE UNIQUE INDEX CONCURRENTLY first (a `-- glctl:no-transaction` migration), then ADD CONSTRAINT … USING INDEX",
                    )
                }
                _ => {}
            }
        }
        AlterTableType::AtSetNotNull => push(
            Rule::ConstraintScan,
            format!("SET NOT NULL on {table}.{} scans every row under an ACCESS EXCLUSIVE lock", cmd.name),
            "ADD CONSTRAINT … CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL (PostgreSQL uses the valid check and skips the scan) and drop the check",
        ),
        AlterTableType::AtAlterColumnType => {
            let Some(col) = column_def(cmd) else { return };
            let new = col.type_name.as_ref().map(ColumnType::of);
            let old = relation(schema, table).and_then(|r| r.columns.get(&cmd.name));
            let safe = col.raw_default.is_none() && matches!((old, &new), (Some(old), Some(new)) if binary_compatible(old, new));
            if !safe {
                let to = new.map(|t| t.to_string()).unwrap_or_default();
                push(
                    Rule::TypeRewrite,
                    format!("changes the type of {table}.{} to {to}: the table and its indexes are rewritten under an ACCESS EXCLUSIVE lock", cmd.name),
                    "add a new column of the new type, keep it in step (trigger or application), backfill in batches, switch readers, then drop the old column; only varchar(n) to a longer varchar or text, and numeric to a wider precision, change without a rewrite",
                );
            }
        }
        AlterTableType::AtDetachPartition => {
            let Some(NodeEnum::PartitionCmd(p)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) else { return };
            let part = p.name.as_ref().map(relation_name).unwrap_or_default();
            if !p.concurrent {
                push(
                    Rule::DetachBlocking,
                    format!("DETACH PARTITION {part} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on {table}: every query on it waits"),
                    if has_default_partition(table, schema, knowledge) {
                        "CONCURRENTLY is refused while a default partition exists: let pg_partman's retention detach or drop old partitions (its maintenance), or detach in the maintenance window with a short lock_timeout and retries"
                    } else {
                        "DETACH PARTITION … CONCURRENTLY in a `-- glctl:no-transaction` migration"
                    },
                );
            } else {
                if state.in_transaction() {
                    push(
                        Rule::ConcurrentlyInTransaction,
                        "DETACH PARTITION CONCURRENTLY cannot run inside a transaction, and this file runs in one".into(),
                        "put the statement in a migration of its own whose first line is `-- glctl:no-transaction`",
                    );
                }
                if has_default_partition(table, schema, knowledge) {
                    push(
                        Rule::DetachWithDefault,
                        format!("DETACH PARTITION {part} CONCURRENTLY on {table}, which has a default partition: PostgreSQL refuses it (\"cannot detach partitions concurrently when a default partition exists\")"),
                        "let pg_partman's retention detach or drop old partitions (its maintenance), or detach without CONCURRENTLY in the maintenance window with a short lock_timeout and retries",
                    );
                }
            }
        }
        AlterTableType::AtDropColumn if knowledge.compatibility_previous => push(
            Rule::BreakingChange,
            format!("drops column {table}.{}, which the application version still running (migrations.compatibility: previous) may still read or write", cmd.name),
            "release an application that no longer uses the column first; drop it in a later migration",
        ),
        _ => {}
    }
}

/// ALTER TABLE forms that take less than ACCESS EXCLUSIVE (PostgreSQL's AlterTableGetLockLevel).
fn takes_access_exclusive(cmd: &AlterTableCmd) -> bool {
    let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
    let weaker = match subtype {
        AlterTableType::AtSetStatistics
        | AlterTableType::AtSetOptions
        | AlterTableType::AtClusterOn
        | AlterTableType::AtDropCluster
        | AlterTableType::AtValidateConstraint
        | AlterTableType::AtAttachPartition
        | AlterTableType::AtDetachPartitionFinalize
        | AlterTableType::AtEnableTrig
        | AlterTableType::AtEnableAlwaysTrig
        | AlterTableType::AtEnableReplicaTrig
        | AlterTableType::AtEnableTrigAll
        | AlterTableType::AtEnableTrigUser
        | AlterTableType::AtDisableTrig
        | AlterTableType::AtDisableTrigAll
        | AlterTableType::AtDisableTrigUser => true,
        AlterTableType::AtDetachPartition => {
            matches!(cmd.def.as_deref().and_then(|d| d.node.as_ref()), Some(NodeEnum::PartitionCmd(p)) if p.concurrent)
        }
        AlterTableType::AtAddConstraint => matches!(
            cmd.def.as_deref().and_then(|d| d.node.as_ref()),
            Some(NodeEnum::Constraint(c)) if c.contype == ConstrType::ConstrForeign as i32
        ),
        _ => false,
    };
    !weaker
}

/// What the statement changes in the schema and in the file's session.
fn learn(node: &NodeEnum, state: &mut FileState, schema: &mut Schema, knowledge: &Knowledge) {
    let _ = knowledge;
    match node {
        NodeEnum::CreateStmt(s) => {
            let Some(rel) = s.relation.as_ref() else { return };
            let name = relation_name(rel);
            let columns = s
                .table_elts
                .iter()
                .filter_map(|e| match e.node.as_ref() {
                    Some(NodeEnum::ColumnDef(c)) => {
                        Some((c.colname.clone(), c.type_name.as_ref().map(ColumnType::of)?))
                    }
                    _ => None,
                })
                .collect();
            if let Some(bound) = &s.partbound {
                if bound.is_default {
                    if let Some(parent) = s.inh_relations.iter().find_map(range_var) {
                        if let Some(p) = schema.relations.get_mut(&relation_name(&parent)) {
                            p.has_default = true;
                        }
                    }
                }
            }
            state.created.insert(name.clone());
            schema.relations.insert(
                name,
                Relation { kind: Kind::Table, partitioned: s.partspec.is_some(), has_default: false, columns },
            );
        }
        NodeEnum::CreateTableAsStmt(s) => {
            let Some(rel) = s.into.as_ref().and_then(|i| i.rel.as_ref()) else { return };
            let name = relation_name(rel);
            let kind = if s.objtype == ObjectType::ObjectMatview as i32 { Kind::MaterializedView } else { Kind::Table };
            state.created.insert(name.clone());
            schema
                .relations
                .insert(name, Relation { kind, partitioned: false, has_default: false, columns: Default::default() });
        }
        NodeEnum::ViewStmt(s) => {
            let Some(rel) = s.view.as_ref() else { return };
            let name = relation_name(rel);
            state.created.insert(name.clone());
            schema.relations.insert(
                name,
                Relation { kind: Kind::View, partitioned: false, has_default: false, columns: Default::default() },
            );
        }
        NodeEnum::IndexStmt(s) if !s.idxname.is_empty() => {
            let index = normalize(&s.idxname);
            if s.relation.as_ref().is_some_and(|r| state.created.contains(&relation_name(r))) {
                state.created.insert(index);
            }
        }
        NodeEnum::SelectStmt(s) => {
            // SELECT create_hypertable('table', …): the table is a hypertable from here on.
            for target in &s.target_list {
                let Some(NodeEnum::ResTarget(t)) = target.node.as_ref() else { continue };
                let Some(NodeEnum::FuncCall(f)) = t.val.as_deref().and_then(|v| v.node.as_ref()) else { continue };
                let name = f.funcname.last().and_then(string_of).unwrap_or_default();
                if name == "create_hypertable" {
                    if let Some(table) = f.args.first().and_then(string_of) {
                        if let Some(r) = schema.relations.get_mut(&normalize(&table)) {
                            r.partitioned = true;
                        }
                    }
                }
            }
        }
        NodeEnum::AlterTableStmt(s) => {
            let Some(rel) = s.relation.as_ref() else { return };
            let table = relation_name(rel);
            for cmd in &s.cmds {
                let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else { continue };
                let Some(r) = schema.relations.get_mut(&table) else { continue };
                match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
                    AlterTableType::AtAddColumn | AlterTableType::AtAlterColumnType => {
                        if let Some(col) = column_def(cmd) {
                            let name = if col.colname.is_empty() { cmd.name.clone() } else { col.colname.clone() };
                            if let Some(t) = col.type_name.as_ref() {
                                r.columns.insert(name, ColumnType::of(t));
                            }
                        }
                    }
                    AlterTableType::AtDropColumn => {
                        r.columns.remove(&cmd.name);
                    }
                    _ => {}
                }
            }
        }
        NodeEnum::VariableSetStmt(s) if s.name == "lock_timeout" || s.kind == VariableSetKind::VarResetAll as i32 => {
            let kind = VariableSetKind::try_from(s.kind).unwrap_or(VariableSetKind::Undefined);
            let zero = s.args.iter().any(|a| integer_of(a) == Some(0) || string_of(a).is_some_and(|v| v.trim() == "0"));
            let bounded = kind == VariableSetKind::VarSetValue && !zero;
            // SET LOCAL outside a transaction block ends with its own statement.
            if s.is_local && !state.in_transaction() {
                return;
            }
            state.lock_timeout = bounded;
            state.lock_timeout_local = bounded && s.is_local && state.explicit && !state.wrapped;
        }
        NodeEnum::TransactionStmt(s) => {
            match TransactionStmtKind::try_from(s.kind).unwrap_or(TransactionStmtKind::Undefined) {
                TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart => state.explicit = true,
                TransactionStmtKind::TransStmtCommit | TransactionStmtKind::TransStmtRollback => {
                    state.explicit = false;
                    if state.lock_timeout_local {
                        state.lock_timeout = false;
                        state.lock_timeout_local = false;
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}
