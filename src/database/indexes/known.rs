//! What is known of a declared table besides the file: the columns and indexes its migrations make (read with
//! PostgreSQL's grammar), and the indexes on it that nobody declared or migrated (drift's extra ones).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use pg_query::NodeEnum;
use serde::Serialize;
use tokio_postgres::Client;

use super::ident;
use crate::config::diagnostics::{FieldPath, Finding};
use crate::config::model::{Backend, Environment};
use crate::database::migrate::Migration;

/// What the migrations make on the declared tables: each table's columns, and the indexes they create.
#[derive(Debug, Default)]
pub struct MigrationSchema {
    pub columns: BTreeMap<String, BTreeSet<String>>,
    pub indexes: BTreeMap<String, BTreeSet<String>>,
}

fn relname(rel: &pg_query::protobuf::RangeVar) -> String {
    rel.relname.clone()
}

/// Reads the migrations in order. A statement that does not parse is skipped here (`migrate lint` reports it).
pub fn migration_schema(migrations: &[Migration]) -> MigrationSchema {
    let mut schema = MigrationSchema::default();
    for m in migrations {
        let Ok(parsed) = pg_query::parse(&m.sql, pg_query::ParserOptions::DEFAULT) else { continue };
        for stmt in &parsed.protobuf.stmts {
            let Some(node) = stmt.stmt.as_ref().and_then(|s| s.node.as_ref()) else { continue };
            read_statement(node, &mut schema);
        }
    }
    schema
}

fn read_statement(node: &NodeEnum, schema: &mut MigrationSchema) {
    match node {
        NodeEnum::CreateStmt(s) => {
            let Some(rel) = s.relation.as_ref() else { return };
            let columns = s
                .table_elts
                .iter()
                .filter_map(|e| match e.node.as_ref() {
                    Some(NodeEnum::ColumnDef(c)) => Some(c.colname.clone()),
                    _ => None,
                })
                .collect();
            schema.columns.insert(relname(rel), columns);
        }
        NodeEnum::IndexStmt(s) => {
            let Some(rel) = s.relation.as_ref() else { return };
            let table = relname(rel);
            let name = if s.idxname.is_empty() {
                // PostgreSQL's own choice for an unnamed index: `<table>_<columns>_idx`.
                let columns: Vec<String> = s
                    .index_params
                    .iter()
                    .filter_map(|p| match p.node.as_ref() {
                        Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => Some(e.name.clone()),
                        Some(NodeEnum::IndexElem(_)) => Some("expr".into()),
                        _ => None,
                    })
                    .collect();
                let mut n = format!("{table}_{}_{}", columns.join("_"), if s.unique { "key" } else { "idx" });
                n.truncate(63);
                n
            } else {
                s.idxname.clone()
            };
            schema.indexes.entry(table).or_default().insert(name);
        }
        NodeEnum::AlterTableStmt(s) => {
            let Some(rel) = s.relation.as_ref() else { return };
            let Some(columns) = schema.columns.get_mut(&relname(rel)) else { return };
            for cmd in &s.cmds {
                let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else { continue };
                use pg_query::protobuf::AlterTableType as T;
                match T::try_from(cmd.subtype).unwrap_or(T::Undefined) {
                    T::AtAddColumn => {
                        if let Some(NodeEnum::ColumnDef(c)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
                            columns.insert(c.colname.clone());
                        }
                    }
                    T::AtDropColumn => {
                        columns.remove(&cmd.name);
                    }
                    _ => {}
                }
            }
        }
        NodeEnum::RenameStmt(s) if s.rename_type == pg_query::protobuf::ObjectType::ObjectColumn as i32 => {
            let Some(rel) = s.relation.as_ref() else { return };
            if let Some(columns) = schema.columns.get_mut(&relname(rel)) {
                if columns.remove(&s.subname) {
                    columns.insert(s.newname.clone());
                }
            }
        }
        _ => {}
    }
}

/// The validation rule `config::load_with` runs for the columns of declared indexes: the columns come from
/// the migrations in `dir` for the environment's backend. Migrations that cannot be read leave the columns
/// unchecked, which is said (a warning), never passed over.
pub fn column_rules(dir: &Path) -> impl Fn(&Environment) -> Vec<Finding> + '_ {
    move |env: &Environment| {
        if env.hypertables.values().all(|h| h.indexes.is_empty()) {
            return Vec::new();
        }
        match crate::database::migrate::discover(dir, env.timeseries.backend) {
            Ok(migrations) => crate::config::indexes::column_findings(env, &migration_schema(&migrations).columns),
            Err(why) => vec![Finding::warning(
                FieldPath::root().key("hypertables"),
                format!("the columns of declared indexes were not checked: {why}"),
            )],
        }
    }
}

/// An index on a declared table that is neither declared, nor made by a migration, nor backing a
/// constraint, nor TimescaleDB's own time index: one made by hand, which drift names.
#[derive(Clone, Debug, Serialize)]
pub struct ExtraIndex {
    pub table: String,
    pub index: String,
}

pub async fn extras(
    client: &Client,
    env: &Environment,
    schema: &MigrationSchema,
) -> Result<Vec<ExtraIndex>, tokio_postgres::Error> {
    let mut out = Vec::new();
    for (table, declared) in &env.hypertables {
        let rows = client
            .query(
                "SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                  WHERE x.indrelid = to_regclass($1)
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                  ORDER BY 1",
                &[&ident(table)],
            )
            .await?;
        let mut known: BTreeSet<String> = declared.indexes.iter().map(|i| i.name_on(table)).collect();
        known.extend(schema.indexes.get(table).into_iter().flatten().cloned());
        if env.timeseries.backend == Backend::Timescaledb {
            // create_hypertable's default index on the time column.
            known.insert(format!("{table}_{}_idx", declared.time_column));
        }
        for row in rows {
            let index: String = row.get(0);
            if !known.contains(&index) {
                out.push(ExtraIndex { table: table.clone(), index });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migrations_columns_and_indexes_are_read_in_order() {
        let sql = "CREATE TABLE t (a int, b text, PRIMARY KEY (a));
                   ALTER TABLE t ADD COLUMN c int, DROP COLUMN b;
                   ALTER TABLE t RENAME COLUMN c TO d;
                   CREATE INDEX t_named ON t (a);
                   CREATE INDEX ON t (a, d);";
        let m = Migration {
            version: 1,
            name: "x".into(),
            path: "0001_x.sql".into(),
            sql: sql.into(),
            checksum: String::new(),
            no_transaction: false,
            requires: vec![],
            other_variants: vec![],
        };
        let s = migration_schema(&[m]);
        assert_eq!(s.columns["t"], BTreeSet::from(["a".to_string(), "d".to_string()]));
        assert_eq!(s.indexes["t"], BTreeSet::from(["t_a_d_idx".to_string(), "t_named".to_string()]));
    }
}
