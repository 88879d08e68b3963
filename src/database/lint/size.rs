//! Table sizes, read from the database when `migrate lint` has one, and the grading they allow: a finding
//! whose cost grows with the table is a warning on a small table and an error on a big one.

use std::collections::BTreeMap;

use pg_query::NodeEnum;

use super::normalize;
use super::rules::{relation_name, Raw};
use super::{Knowledge, Rule, Severity};

/// Below this size (a table with all its partitions and indexes) a build or rewrite under lock is short: its
/// findings are warnings. A plain index build on a 10 MB table took 100–133 ms on the stack's PostgreSQL 15
/// (measured): about 0.1 s of blocked writes, inside the 200 ms an application is asked to live through.
pub const SMALL_TABLE_BYTES: i64 = 10 * 1024 * 1024;

/// One table's size, its partitions (or hypertable chunks) and indexes included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSize {
    pub bytes: i64,
}

/// The size of every table, partitioned table and materialized view outside the system schemas, each with
/// its partitions or inheritance children (TimescaleDB's chunks) summed in, keyed as the lint names tables.
pub async fn read_sizes(client: &tokio_postgres::Client) -> Result<BTreeMap<String, TableSize>, tokio_postgres::Error> {
    let rows = client
        .query(
            "WITH RECURSIVE tree(root, relid) AS (
                 SELECT c.oid, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relkind IN ('r', 'p', 'm')
                    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                    AND n.nspname NOT LIKE '\\_timescaledb%'
                    AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
                 UNION ALL
                 SELECT t.root, i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid)
             SELECT CASE WHEN n.nspname = 'public' THEN r.relname::text ELSE n.nspname || '.' || r.relname END,
                    sum(pg_total_relation_size(t.relid))::bigint
               FROM tree t JOIN pg_class r ON r.oid = t.root JOIN pg_namespace n ON n.oid = r.relnamespace
              GROUP BY 1",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (normalize(&r.get::<_, String>(0)), TableSize { bytes: r.get(1) })).collect())
}

/// `48 kB`, `12.0 MB`, `3.4 GB` (powers of 1024, as PostgreSQL's pg_size_pretty).
pub fn human_bytes(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB * KB {
        format!("{} kB", (b / KB).round())
    } else if b < KB * KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else {
        format!("{:.1} GB", b / (KB * KB * KB))
    }
}

/// Rules whose cost grows with the table: a build or a rewrite under a lock that writes (or everything) wait
/// for, for as long as the table takes to read.
const GRADED: [Rule; 5] = [
    Rule::IndexNotConcurrent,
    Rule::IndexOnPartitioned,
    Rule::VolatileDefault,
    Rule::ConstraintScan,
    Rule::TypeRewrite,
];

/// With the table sizes read from the database: a graded finding on a table below `SMALL_TABLE_BYTES` (all its
/// partitions together) is a warning, on a bigger one an error; each says the size. A table the database
/// does not have yet keeps the rule's own severity.
pub(super) fn grade(node: &NodeEnum, raws: &mut [Raw], knowledge: &Knowledge) {
    let Some(sizes) = &knowledge.sizes else { return };
    let table = match node {
        NodeEnum::IndexStmt(s) => s.relation.as_ref().map(relation_name),
        NodeEnum::AlterTableStmt(s) => s.relation.as_ref().map(relation_name),
        _ => None,
    };
    let Some(size) = table.and_then(|t| sizes.get(&t)) else { return };
    for raw in raws.iter_mut().filter(|r| GRADED.contains(&r.rule)) {
        let small = size.bytes < SMALL_TABLE_BYTES;
        raw.severity = Some(if small { Severity::Warning } else { Severity::Error });
        raw.message.push_str(&format!(
            " [the table holds {} with its partitions and indexes: {}]",
            human_bytes(size.bytes),
            if small { "below 10 MiB, a short lock, so a warning" } else { "10 MiB or more, so an error" }
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_like_pg_size_pretty() {
        assert_eq!(human_bytes(8192), "8 kB");
        assert_eq!(human_bytes(14 * 1024 * 1024 + 512 * 1024), "14.5 MB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GB");
    }
}
