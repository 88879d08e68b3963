//! Declared indexes (`hypertables.<table>.indexes`): what an index is in the environment file, and what
//! makes a declaration unbuildable — an empty column list, an ordering or `unique` the method cannot have, a
//! `where` that is not one SQL expression, a unique index without the time column (both backends refuse
//! it), and, on TimescaleDB, any unique index: its only non-blocking build (`transaction_per_chunk`) refuses
//! UNIQUE. Whether a column exists is known only from the migrations: `column_findings` judges that from
//! the columns its caller read there.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{did_you_mean, FieldPath, Finding};
use super::model::{Backend, Environment};

/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
const MAX_IDENTIFIER: usize = 63;

/// One index glctl builds on a declared table without blocking writes (`docs/indexes.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclaredIndex {
    /// Index name (default `<table>_<columns>_idx`); on the native backend each partition's index is named
    /// after it. Renaming a declared index makes a new one: the old name is then an extra index to drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Columns in key order, each `column [ASC|DESC] [NULLS FIRST|LAST]` (ordering: btree only).
    pub columns: Vec<String>,
    /// Access method: `btree` (default), `brin`, `gin`, `gist`, `hash` or `spgist`.
    #[serde(default)]
    pub method: IndexMethod,
    /// Partial index: only rows matching this SQL expression, e.g. `scope = 'scope_1'`.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// A unique index (btree only; must include the time column). The native backend only: TimescaleDB
    /// cannot build one without locking every chunk.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
}

/// The index access methods PostgreSQL ships.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IndexMethod {
    #[default]
    Btree,
    Brin,
    Gin,
    Gist,
    Hash,
    Spgist,
}

impl IndexMethod {
    pub fn sql(self) -> &'static str {
        match self {
            IndexMethod::Btree => "btree",
            IndexMethod::Brin => "brin",
            IndexMethod::Gin => "gin",
            IndexMethod::Gist => "gist",
            IndexMethod::Hash => "hash",
            IndexMethod::Spgist => "spgist",
        }
    }
}

/// One key column: its name and the ordering written after it (upper-cased, may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyColumn {
    pub column: String,
    pub ordering: String,
}

/// `column [ASC|DESC] [NULLS FIRST|LAST]`.
pub fn parse_column(entry: &str) -> Result<KeyColumn, String> {
    let mut words = entry.split_whitespace();
    let column = words.next().unwrap_or_default().to_string();
    let rest: Vec<String> = words.map(str::to_ascii_uppercase).collect();
    let rest_ref: Vec<&str> = rest.iter().map(String::as_str).collect();
    let valid = matches!(
        rest_ref.as_slice(),
        [] | ["ASC"] | ["DESC"] | ["NULLS", "FIRST" | "LAST"] | ["ASC" | "DESC", "NULLS", "FIRST" | "LAST"]
    );
    if column.is_empty() || !valid {
        return Err(format!("'{entry}' is not a key column; expected 'column [ASC|DESC] [NULLS FIRST|LAST]'"));
    }
    if !is_identifier(&column) {
        return Err(format!("'{column}' is not a plain SQL identifier; expected up to 63 of a-z, 0-9 and '_'"));
    }
    Ok(KeyColumn { column, ordering: rest.join(" ") })
}

impl DeclaredIndex {
    /// The name in the database: the declared one, or `<table>_<columns>_idx`.
    pub fn name_on(&self, table: &str) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let columns: Vec<String> = self.columns.iter().filter_map(|c| parse_column(c).ok()).map(|c| c.column).collect();
        format!("{table}_{}_idx", columns.join("_"))
    }

    /// The key columns, as far as they parse.
    pub fn key_columns(&self) -> Vec<KeyColumn> {
        self.columns.iter().filter_map(|c| parse_column(c).ok()).collect()
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_IDENTIFIER
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every problem of every declared index, at once.
pub fn findings(env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    let backend = env.timeseries.backend;
    let mut names: BTreeMap<String, FieldPath> = BTreeMap::new();
    for (table, declared) in &env.hypertables {
        for (i, index) in declared.indexes.iter().enumerate() {
            let at = FieldPath::root().key("hypertables").key(table).key("indexes").index(i);
            let name = index.name_on(table);
            match &index.name {
                Some(n) if !is_identifier(n) => out.push(Finding::error(
                    at.key("name"),
                    format!("'{n}' is not a plain SQL identifier; expected up to 63 of a-z, 0-9 and '_'"),
                )),
                None if name.len() > MAX_IDENTIFIER => out.push(Finding::error(
                    at.clone(),
                    format!(
                        "the default name '{name}' is {} characters, PostgreSQL keeps 63: give the index a `name`",
                        name.len()
                    ),
                )),
                _ => {}
            }
            if let Some(first) = names.insert(name.clone(), at.clone()) {
                out.push(Finding::error(
                    at.clone(),
                    format!("the index name '{name}' is also used at {first}; index names are unique in a schema"),
                ));
            }
            if index.columns.is_empty() {
                out.push(Finding::error(at.key("columns"), "no columns; expected at least one key column"));
            }
            let mut seen = BTreeSet::new();
            for (c, entry) in index.columns.iter().enumerate() {
                let c_at = at.key("columns").index(c);
                match parse_column(entry) {
                    Err(e) => out.push(Finding::error(c_at, e)),
                    Ok(key) => {
                        if !seen.insert(key.column.clone()) {
                            out.push(Finding::error(c_at.clone(), format!("'{}' is listed twice", key.column)));
                        }
                        if !key.ordering.is_empty() && index.method != IndexMethod::Btree {
                            out.push(Finding::error(
                                c_at,
                                format!(
                                    "'{entry}': a {} index has no key order (PostgreSQL: access method does not \
                                     support ASC/DESC options); expected the column alone",
                                    index.method.sql()
                                ),
                            ));
                        }
                    }
                }
            }
            if index.method == IndexMethod::Hash && index.columns.len() > 1 {
                out.push(Finding::error(
                    at.key("columns"),
                    "a hash index has exactly one column (PostgreSQL refuses multicolumn hash indexes)",
                ));
            }
            if let Some(predicate) = &index.predicate {
                if let Err(why) = check_predicate(predicate) {
                    out.push(Finding::error(at.key("where"), why));
                }
            }
            if index.unique {
                unique(&mut out, &at, index, table, &declared.time_column, backend);
            }
        }
    }
    out
}

fn unique(out: &mut Vec<Finding>, at: &FieldPath, index: &DeclaredIndex, table: &str, time: &str, backend: Backend) {
    if index.method != IndexMethod::Btree {
        out.push(Finding::error(
            at.key("unique"),
            format!("a {} index cannot be unique; only btree indexes can", index.method.sql()),
        ));
    }
    if !index.key_columns().iter().any(|k| k.column == time) {
        let why = match backend {
            Backend::Native => format!(
                "a unique index on partitioned table {table} must include its partition key '{time}': PostgreSQL \
                 checks uniqueness per partition, so it refuses one without it"
            ),
            Backend::Timescaledb => format!(
                "a unique index on hypertable {table} must include its time column '{time}': TimescaleDB checks \
                 uniqueness per chunk, so it refuses one without it"
            ),
        };
        out.push(Finding::error(at.key("columns"), why));
    }
    if backend == Backend::Timescaledb {
        out.push(Finding::error(
            at.key("unique"),
            format!(
                "TimescaleDB cannot build a unique index on hypertable {table} without blocking writes: its \
                 per-chunk build (`WITH (timescaledb.transaction_per_chunk)`) refuses UNIQUE, and the plain build \
                 locks every chunk until the last is done; build it in a migration in a maintenance window"
            ),
        ));
    }
}

/// A `where` is one boolean SQL expression: parsed by PostgreSQL's grammar as the WHERE of a query, so a
/// second statement or a stray `;` is refused before it reaches a database.
fn check_predicate(predicate: &str) -> Result<(), String> {
    if predicate.trim().is_empty() {
        return Err("empty; expected an SQL expression such as `scope = 'scope_1'`, or no `where`".into());
    }
    let wrapped = format!("SELECT 1 WHERE {predicate}");
    let parsed = pg_query::parse(&wrapped, pg_query::ParserOptions::DEFAULT)
        .map_err(|e| format!("'{predicate}' is not an SQL expression: {e}"))?;
    let one_query = parsed.protobuf.stmts.len() == 1
        && matches!(
            parsed.protobuf.stmts[0].stmt.as_ref().and_then(|s| s.node.as_ref()),
            Some(pg_query::NodeEnum::SelectStmt(s)) if s.where_clause.is_some() && s.limit_count.is_none()
                && s.sort_clause.is_empty() && s.group_clause.is_empty() && s.having_clause.is_none()
        );
    if !one_query || predicate.contains(';') {
        return Err(format!("'{predicate}' is not one SQL expression; expected e.g. `scope = 'scope_1'`"));
    }
    Ok(())
}

/// Columns a declared index names that its table does not have, given the columns each table has after
/// the environment's migrations (`columns`, read from them by the caller). A table the migrations do not
/// create is said so: its columns were not checked.
pub fn column_findings(env: &Environment, columns: &BTreeMap<String, BTreeSet<String>>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, declared) in &env.hypertables {
        if declared.indexes.is_empty() {
            continue;
        }
        let at = FieldPath::root().key("hypertables").key(table).key("indexes");
        let Some(known) = columns.get(table) else {
            out.push(Finding::warning(
                at,
                format!("no migration creates table {table}: the columns of its indexes were not checked"),
            ));
            continue;
        };
        for (i, index) in declared.indexes.iter().enumerate() {
            for (c, entry) in index.columns.iter().enumerate() {
                let Ok(key) = parse_column(entry) else { continue };
                if known.contains(&key.column) {
                    continue;
                }
                let hint = did_you_mean(&key.column, known.iter().map(String::as_str))
                    .map(|k| format!("; did you mean '{k}'?"))
                    .unwrap_or_default();
                out.push(Finding::error(
                    at.index(i).key("columns").index(c),
                    format!("table {table} has no column '{}' (after the migrations){hint}", key.column),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(backend: &str, indexes: &str) -> Environment {
        let mut env: Environment = serde_yaml_ng::from_str(include_str!("../../environments/local.yaml")).unwrap();
        env.timeseries.backend = serde_yaml_ng::from_str(backend).unwrap();
        let table = env.hypertables.get_mut("emission_measurements").unwrap();
        table.indexes = serde_yaml_ng::from_str(indexes).unwrap();
        env
    }

    fn messages(env: &Environment) -> Vec<String> {
        findings(env).iter().map(|f| format!("{}: {}", f.path, f.message)).collect()
    }

    #[test]
    fn a_plain_declaration_passes_and_gets_the_postgresql_style_name() {
        let e = env("native", "- columns: [facility_id, measurement_time DESC]\n  where: scope = 'scope_1'");
        assert_eq!(messages(&e), Vec::<String>::new());
        let index = &e.hypertables["emission_measurements"].indexes[0];
        assert_eq!(index.name_on("emission_measurements"), "emission_measurements_facility_id_measurement_time_idx");
    }

    #[test]
    fn every_problem_of_every_index_is_found_at_once() {
        let e = env(
            "native",
            "- columns: []\n- name: Bad-Name\n  columns: [a DESC]\n  method: brin\n- columns: [x y]\n  where: '1=1; DROP TABLE t'\n- columns: [facility_id]\n  unique: true\n  method: gin",
        );
        let m = messages(&e);
        assert!(m.iter().any(|m| m.contains("indexes[0].columns: no columns")), "{m:#?}");
        assert!(m.iter().any(|m| m.contains("indexes[1].name: 'Bad-Name' is not a plain SQL identifier")), "{m:#?}");
        assert!(m.iter().any(|m| m.contains("indexes[1].columns[0]: 'a DESC': a brin index has no key order")));
        assert!(m.iter().any(|m| m.contains("indexes[2].columns[0]: 'x y' is not a key column")), "{m:#?}");
        assert!(m.iter().any(|m| m.contains("indexes[2].where: '1=1; DROP TABLE t' is not one SQL expression")));
        assert!(m.iter().any(|m| m.contains("indexes[3].unique: a gin index cannot be unique")), "{m:#?}");
        assert!(m.iter().any(|m| m.contains("indexes[3].columns: a unique index on partitioned table")), "{m:#?}");
    }

    #[test]
    fn timescaledb_refuses_any_unique_index_and_says_why() {
        let e = env("timescaledb", "- columns: [facility_id, measurement_time]\n  unique: true");
        let m = messages(&e);
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(m[0].contains("transaction_per_chunk") && m[0].contains("refuses UNIQUE"), "{m:#?}");
        let e = env("timescaledb", "- columns: [facility_id]\n  unique: true");
        assert!(messages(&e).iter().any(|m| m.contains("must include its time column 'measurement_time'")));
    }

    #[test]
    fn unknown_columns_are_named_with_a_suggestion_and_an_unknown_table_is_not_called_checked() {
        let e = env("native", "- columns: [facilty_id, measurement_time]");
        let columns = BTreeMap::from([(
            "emission_measurements".to_string(),
            BTreeSet::from(["facility_id".to_string(), "measurement_time".to_string()]),
        )]);
        let f = column_findings(&e, &columns);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path.to_string(), "hypertables.emission_measurements.indexes[0].columns[0]");
        assert!(f[0].message.contains("did you mean 'facility_id'"), "{}", f[0].message);
        let f = column_findings(&e, &BTreeMap::new());
        assert!(f[0].message.contains("were not checked"), "{}", f[0].message);
    }

    #[test]
    fn predicates_must_be_one_expression() {
        assert!(check_predicate("scope = 'scope_1' AND co2_kg > 0").is_ok());
        assert!(check_predicate("").is_err());
        assert!(check_predicate("x = 1 ORDER BY 1").is_err());
        assert!(check_predicate("x = 1) UNION (SELECT 1").is_err());
    }
}
