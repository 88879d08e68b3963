//! Declared indexes (`hypertables.<table>.indexes`), built without blocking writes, per backend:
//!
//! - native (pg_partman parents): `CREATE INDEX IF NOT EXISTS … ON ONLY parent` (instant, INVALID), then per
//!   partition — the default partition included — `CREATE INDEX CONCURRENTLY` and `ALTER INDEX parent_idx
//!   ATTACH PARTITION child_idx`; PostgreSQL marks the parent's index valid when the last one is attached,
//!   and from then on clones it onto every partition pg_partman makes. The same index goes on pg_partman's
//!   template table (`part_config.template_table`) too.
//! - TimescaleDB: `CREATE INDEX … WITH (timescaledb.transaction_per_chunk)`: one transaction per chunk.
//!
//! A build that fails leaves no INVALID index behind: the half-built one is dropped (concurrently on a
//! partition), tried once more, then the error names the partition and what was built before it.
//!
//! What the migrations say about the declared tables (their columns, for validation; the indexes they
//! create, so drift can tell an extra index from one a migration made) is in `known`.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_postgres::Client;

use super::connect;
use crate::config::indexes::DeclaredIndex;

mod known;
use crate::config::model::{Backend, Environment};
pub use known::{column_rules, extras, migration_schema};

/// Where one declared index stands in the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not there: `apply` builds it.
    Create,
    /// Valid, on every partition or chunk.
    Present,
    /// There but INVALID (a build that stopped): `apply` drops and rebuilds it.
    Invalid,
    /// Native: on some partitions only (a build that stopped): `apply` builds the rest.
    Incomplete,
    /// Its table is not in the database yet (the pending migrations create it).
    NoTable,
}

/// One declared index against the database.
#[derive(Clone, Debug, Serialize)]
pub struct IndexStatus {
    pub table: String,
    pub index: String,
    pub state: State,
    /// Native: partitions (the default one included) and how many carry the index, valid and attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<(usize, usize)>,
    /// Partitions whose index is there but INVALID.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_on: Vec<String>,
}

impl IndexStatus {
    pub fn describe(&self) -> String {
        let what = format!("{}.{}", self.table, self.index);
        let on = match self.partitions {
            Some((all, with)) => format!(" ({with} of {all} partitions)"),
            None => String::new(),
        };
        let invalid = if self.invalid_on.is_empty() {
            String::new()
        } else {
            format!(", INVALID on {}", self.invalid_on.join(", "))
        };
        match self.state {
            State::Create => format!("+ {what}: to create{on}"),
            State::Present => format!("= {what}: present{on}"),
            State::Invalid => format!("! {what}: INVALID{on}{invalid}: apply drops and rebuilds it"),
            State::Incomplete => format!("~ {what}: incomplete{on}{invalid}: apply builds the rest"),
            State::NoTable => format!("+ {what}: to create after the migrations make {}", self.table),
        }
    }

    /// Apply has something to do.
    pub fn is_change(&self) -> bool {
        self.state != State::Present
    }
}

/// Every declared index of `env`, in file order.
fn declared(env: &Environment) -> Vec<(&str, &DeclaredIndex)> {
    env.hypertables.iter().flat_map(|(t, h)| h.indexes.iter().map(move |i| (t.as_str(), i))).collect()
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `[UNIQUE] INDEX {concurrently}IF NOT EXISTS name ON {only}table USING method (columns) [WHERE …]`, the
/// part after `CREATE ` shared by every form.
fn create_sql(index: &DeclaredIndex, name: &str, table: &str, only: bool, concurrently: bool) -> String {
    let columns: Vec<String> = index
        .key_columns()
        .iter()
        .map(|k| if k.ordering.is_empty() { ident(&k.column) } else { format!("{} {}", ident(&k.column), k.ordering) })
        .collect();
    let mut sql = format!(
        "CREATE {}INDEX {}IF NOT EXISTS {} ON {}{} USING {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        ident(name),
        if only { "ONLY " } else { "" },
        table,
        index.method.sql(),
        columns.join(", ")
    );
    if let Some(predicate) = &index.predicate {
        sql.push_str(&format!(" WHERE ({predicate})"));
    }
    sql
}

/// The statements the native backend runs, for the docs and the plan: on the parent, then per partition.
pub fn native_parent_sql(index: &DeclaredIndex, name: &str, table: &str) -> String {
    create_sql(index, name, &ident(table), true, false)
}

pub fn native_partition_sql(index: &DeclaredIndex, name: &str, partition: &str) -> String {
    create_sql(index, name, &ident(partition), false, true)
}

pub fn timescaledb_sql(index: &DeclaredIndex, name: &str, table: &str) -> String {
    format!("{} WITH (timescaledb.transaction_per_chunk)", create_sql(index, name, &ident(table), false, false))
}

/// The index on one partition: `<index>_<partition suffix>` (pg_partman names partitions `<parent>_p…`), cut
/// to PostgreSQL's 63 bytes with a hash of the whole so two partitions never share a name.
pub fn partition_index_name(index: &str, parent: &str, partition: &str) -> String {
    let suffix = partition.strip_prefix(parent).map(|s| s.trim_start_matches('_')).unwrap_or(partition);
    let full = format!("{index}_{suffix}");
    if full.len() <= 63 {
        return full;
    }
    let hash = format!("{:08x}", fnv1a(&full) as u32);
    let mut cut = 63 - hash.len() - 1;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &full[..cut])
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

/// One index of the catalog: its oid, name, table and validity.
#[derive(Clone, Debug)]
struct LiveIndex {
    oid: u32,
    name: String,
    valid: bool,
}

async fn index_on(client: &Client, table: &str, name: &str) -> Result<Option<LiveIndex>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT x.indexrelid::oid, i.relname::text, x.indisvalid FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid
              WHERE x.indrelid = to_regclass($1) AND i.relname = $2",
            &[&ident(table), &name],
        )
        .await?;
    Ok(row.map(|r| LiveIndex { oid: r.get(0), name: r.get(1), valid: r.get(2) }))
}

async fn table_exists(client: &Client, table: &str) -> Result<bool, tokio_postgres::Error> {
    Ok(client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&ident(table)]).await?.get(0))
}

/// A native parent's partitions (the default one included), and for each the index attached to `parent_index`
/// (when there is one) with its validity.
async fn partitions(
    client: &Client,
    table: &str,
    parent_index: Option<u32>,
) -> Result<Vec<(String, Option<LiveIndex>)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT c.relname::text,
                    ci.oid, ci.relname::text, cx.indisvalid
               FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
               LEFT JOIN pg_inherits hi ON hi.inhparent = $2::oid
                    AND hi.inhrelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = c.oid)
               LEFT JOIN pg_class ci ON ci.oid = hi.inhrelid
               LEFT JOIN pg_index cx ON cx.indexrelid = ci.oid
              WHERE h.inhparent = to_regclass($1)
              ORDER BY c.relname",
            &[&ident(table), &parent_index.unwrap_or(0)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let child = r.get::<_, Option<u32>>(1).map(|oid| LiveIndex { oid, name: r.get(2), valid: r.get(3) });
            (r.get(0), child)
        })
        .collect())
}

/// Where every declared index stands.
pub async fn status(client: &Client, env: &Environment) -> Result<Vec<IndexStatus>, tokio_postgres::Error> {
    let mut out = Vec::new();
    for (table, index) in declared(env) {
        out.push(status_of(client, env.timeseries.backend, table, index).await?);
    }
    Ok(out)
}

async fn status_of(
    client: &Client,
    backend: Backend,
    table: &str,
    index: &DeclaredIndex,
) -> Result<IndexStatus, tokio_postgres::Error> {
    let name = index.name_on(table);
    let mut status = IndexStatus {
        table: table.into(),
        index: name.clone(),
        state: State::Create,
        partitions: None,
        invalid_on: vec![],
    };
    if !table_exists(client, table).await? {
        status.state = State::NoTable;
        return Ok(status);
    }
    let parent = index_on(client, table, &name).await?;
    if backend == Backend::Native {
        let parts = partitions(client, table, parent.as_ref().map(|p| p.oid)).await?;
        let with = parts.iter().filter(|(_, c)| c.as_ref().is_some_and(|c| c.valid)).count();
        for (partition, attached) in &parts {
            let invalid = match attached {
                Some(c) => !c.valid,
                // A concurrent build that was stopped leaves its index INVALID and unattached.
                None => index_on(client, partition, &partition_index_name(&name, table, partition))
                    .await?
                    .is_some_and(|i| !i.valid),
            };
            if invalid {
                status.invalid_on.push(partition.clone());
            }
        }
        status.partitions = Some((parts.len(), with));
    }
    status.state = match &parent {
        None => State::Create,
        Some(p) if p.valid => State::Present,
        // A native parent index stays INVALID until every partition has its index attached.
        Some(_) if backend == Backend::Native => State::Incomplete,
        Some(_) => State::Invalid,
    };
    if status.state == State::Present && !status.invalid_on.is_empty() {
        status.state = State::Incomplete;
    }
    Ok(status)
}

/// Why a build stopped, with what was built before it.
#[derive(Debug, thiserror::Error)]
#[error("building index {index} on {on} failed: {reason}{}\nbuilt before this: {}", if *.cleaned { " (its half-built INVALID index was dropped)" } else { "" }, if .built.is_empty() { "nothing".to_string() } else { .built.join(", ") })]
pub struct BuildError {
    pub index: String,
    pub on: String,
    pub reason: String,
    pub cleaned: bool,
    pub built: Vec<String>,
}

/// What `apply` did to the declared indexes: one line per index and partition built, and the time taken.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Built {
    pub done: Vec<String>,
    pub took: Duration,
}

/// Builds every declared index that is not present and valid, without blocking writes.
pub async fn build(client: &Client, env: &Environment) -> Result<Built, BuildError> {
    let started = Instant::now();
    let mut built = Built::default();
    let (lock_timeout, retries) = crate::config::migrations::lock_wait(env);
    let fail = |index: &str, on: &str, e: &tokio_postgres::Error, built: &Built| BuildError {
        index: index.into(),
        on: on.into(),
        reason: connect::reason(e),
        cleaned: false,
        built: built.done.clone(),
    };
    // Session settings: a bounded lock wait; no statement timeout (a build on a big partition is long).
    client
        .batch_execute(&format!("SET lock_timeout = '{}ms'", lock_timeout.as_millis()))
        .await
        .map_err(|e| fail("(all)", "the session", &e, &built))?;
    let result = build_all(client, env, retries, &mut built).await;
    let _ = client.batch_execute("RESET lock_timeout").await;
    result?;
    built.took = started.elapsed();
    Ok(built)
}

async fn build_all(client: &Client, env: &Environment, retries: u32, built: &mut Built) -> Result<(), BuildError> {
    for (table, index) in declared(env) {
        let name = index.name_on(table);
        let err = |on: &str, e: &tokio_postgres::Error, built: &Built| BuildError {
            index: name.clone(),
            on: on.into(),
            reason: connect::reason(e),
            cleaned: false,
            built: built.done.clone(),
        };
        let status =
            status_of(client, env.timeseries.backend, table, index).await.map_err(|e| err(table, &e, built))?;
        match (status.state.clone(), env.timeseries.backend) {
            (State::Present, _) | (State::NoTable, _) => continue,
            (_, Backend::Timescaledb) => {
                build_timescaledb(client, table, index, &name, status.state, retries, built).await?
            }
            (_, Backend::Native) => build_native(client, table, index, &name, retries, built).await?,
        }
        if env.timeseries.backend == Backend::Native {
            template(client, table, index, &name, retries, built)
                .await
                .map_err(|e| err("the template table", &e, built))?;
        }
    }
    Ok(())
}

async fn build_timescaledb(
    client: &Client,
    table: &str,
    index: &DeclaredIndex,
    name: &str,
    state: State,
    retries: u32,
    built: &mut Built,
) -> Result<(), BuildError> {
    let drop = format!("DROP INDEX IF EXISTS {}", ident(name));
    if state == State::Invalid {
        brief(client, &drop, retries).await.map_err(|e| BuildError {
            index: name.into(),
            on: table.into(),
            reason: format!("dropping its INVALID index: {}", connect::reason(&e)),
            cleaned: false,
            built: built.done.clone(),
        })?;
    }
    // PGlite (PostgreSQL in WebAssembly, one backend) cannot commit in the middle of a statement: a per-chunk
    // build fails ("tuple concurrently deleted") and leaves a catalog that refuses even DROP INDEX. It serves
    // one connection at a time, so while glctl is connected no writer exists to wait: one transaction there.
    let single_backend: bool =
        client.query_one("SELECT version() LIKE '%Emscripten%'", &[]).await.map(|r| r.get(0)).map_err(|e| {
            BuildError {
                index: name.into(),
                on: table.into(),
                reason: connect::reason(&e),
                cleaned: false,
                built: built.done.clone(),
            }
        })?;
    let sql = if single_backend {
        create_sql(index, name, &ident(table), false, false)
    } else {
        timescaledb_sql(index, name, table)
    };
    if let Err(e) = client.batch_execute(&sql).await {
        // transaction_per_chunk leaves the hypertable's index INVALID when a chunk fails.
        let cleaned = client.batch_execute(&drop).await.is_ok();
        return Err(BuildError {
            index: name.into(),
            on: table.into(),
            reason: connect::reason(&e),
            cleaned,
            built: built.done.clone(),
        });
    }
    built.done.push(if single_backend {
        format!("{table}.{name} (one transaction: a single-backend server, PGlite, has no other writer to block)")
    } else {
        format!("{table}.{name} (per chunk)")
    });
    Ok(())
}

async fn build_native(
    client: &Client,
    table: &str,
    index: &DeclaredIndex,
    name: &str,
    retries: u32,
    built: &mut Built,
) -> Result<(), BuildError> {
    let err = |on: &str, reason: String, cleaned: bool, built: &Built| BuildError {
        index: name.into(),
        on: on.into(),
        reason,
        cleaned,
        built: built.done.clone(),
    };
    brief(client, &native_parent_sql(index, name, table), retries)
        .await
        .map_err(|e| err(table, connect::reason(&e), false, built))?;
    let parent = index_on(client, table, name)
        .await
        .map_err(|e| err(table, connect::reason(&e), false, built))?
        .ok_or_else(|| err(table, "the parent's index is not there after CREATE INDEX".into(), false, built))?;
    let parts =
        partitions(client, table, Some(parent.oid)).await.map_err(|e| err(table, connect::reason(&e), false, built))?;
    for (partition, attached) in parts {
        match attached {
            Some(child) if child.valid => continue,
            // Attached but INVALID: never happens from a concurrent build (only valid ones are attached), but
            // an index attached by hand may be; rebuilding it is the same path.
            Some(child) => {
                drop_concurrently(client, &child.name).await.map_err(|e| err(&partition, e, false, built))?
            }
            None => {}
        }
        let child = partition_index_name(name, table, &partition);
        build_partition(client, index, &child, &partition)
            .await
            .map_err(|(reason, cleaned)| err(&partition, reason, cleaned, built))?;
        brief(client, &format!("ALTER INDEX {} ATTACH PARTITION {}", ident(name), ident(&child)), retries)
            .await
            .map_err(|e| err(&partition, format!("attaching {child}: {}", connect::reason(&e)), false, built))?;
        built.done.push(format!("{partition}.{child}"));
    }
    let now = index_on(client, table, name).await.map_err(|e| err(table, connect::reason(&e), false, built))?;
    if !now.is_some_and(|p| p.valid) {
        return Err(err(
            table,
            "every partition has its index attached, yet the parent's is still INVALID".into(),
            false,
            built,
        ));
    }
    built.done.push(format!("{table}.{name}"));
    Ok(())
}

/// One partition's concurrent build; a leftover of an earlier run is reused when valid, dropped when not. A
/// failed build is dropped and tried once more; `Err((reason, cleaned))` after that.
async fn build_partition(
    client: &Client,
    index: &DeclaredIndex,
    child: &str,
    partition: &str,
) -> Result<(), (String, bool)> {
    let mut last = String::new();
    for _attempt in 0..2 {
        match index_on(client, partition, child).await.map_err(|e| (connect::reason(&e), false))? {
            Some(existing) if existing.valid => return Ok(()),
            Some(_) => drop_concurrently(client, child).await.map_err(|e| (e, false))?,
            None => {}
        }
        match client.batch_execute(&native_partition_sql(index, child, partition)).await {
            Ok(()) => return Ok(()),
            Err(e) => last = connect::reason(&e),
        }
    }
    // Leave no INVALID index behind the failure.
    let cleaned = match index_on(client, partition, child).await {
        Ok(Some(i)) if !i.valid => drop_concurrently(client, child).await.is_ok(),
        _ => true,
    };
    Err((last, cleaned))
}

/// A statement whose lock is held for an instant (the parent's `ON ONLY` index, an ATTACH, the template's
/// index, a DROP): while it waits in the lock queue every writer behind it waits too, so it waits briefly
/// (`lock_timeout`) and often — after a lock timeout it is tried again after a backoff from 0.5 s, doubling,
/// `retries` times.
async fn brief(client: &Client, sql: &str, retries: u32) -> Result<(), tokio_postgres::Error> {
    let mut backoff = Duration::from_millis(500);
    let mut attempt = 0;
    loop {
        match client.batch_execute(sql).await {
            Err(e) if attempt < retries && e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn drop_concurrently(client: &Client, name: &str) -> Result<(), String> {
    client
        .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {}", ident(name)))
        .await
        .map_err(|e| format!("dropping the INVALID index {name}: {}", connect::reason(&e)))
}

/// pg_partman's template table for `table`, when pg_partman keeps one.
async fn template_table(client: &Client, table: &str) -> Result<Option<String>, tokio_postgres::Error> {
    let schema: Option<String> = client
        .query_opt("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_partman'", &[])
        .await?
        .map(|r| r.get(0));
    let Some(schema) = schema else { return Ok(None) };
    let row = client
        .query_opt(
            &format!(
                "SELECT template_table::text FROM {}.part_config WHERE parent_table IN ($1, 'public.' || $1)",
                ident(&schema)
            ),
            &[&table],
        )
        .await?;
    Ok(row.and_then(|r| r.get::<_, Option<String>>(0)))
}

/// The same index on pg_partman's template table (empty, so a plain build), so a partition pg_partman makes
/// from the template has it too.
async fn template(
    client: &Client,
    table: &str,
    index: &DeclaredIndex,
    name: &str,
    retries: u32,
    built: &mut Built,
) -> Result<(), tokio_postgres::Error> {
    let Some(template) = template_table(client, table).await? else { return Ok(()) };
    let relname = template.rsplit('.').next().unwrap_or(&template).trim_matches('"').to_string();
    let child = partition_index_name(name, table, &relname);
    if index_on(client, &template, &child).await.ok().flatten().is_some() {
        return Ok(());
    }
    // The template's name comes from pg_partman's catalog, already qualified and quoted as needed.
    brief(client, &create_sql(index, &child, &template, false, false), retries).await?;
    built.done.push(format!("{template}.{child} (pg_partman's template)"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(yaml: &str) -> DeclaredIndex {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn each_backend_gets_its_non_blocking_form() {
        let i = index("columns: [facility_id, measurement_time DESC]\nwhere: scope = 'scope_1'");
        let name = i.name_on("emission_measurements");
        assert_eq!(
            native_parent_sql(&i, &name, "emission_measurements"),
            "CREATE INDEX IF NOT EXISTS \"emission_measurements_facility_id_measurement_time_idx\" ON ONLY \
             \"emission_measurements\" USING btree (\"facility_id\", \"measurement_time\" DESC) WHERE (scope = 'scope_1')"
        );
        assert!(native_partition_sql(&i, "c", "emission_measurements_p2026w01").starts_with(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"c\" ON \"emission_measurements_p2026w01\" USING btree"
        ));
        let brin = index("columns: [measurement_time]\nmethod: brin\nname: em_time_brin");
        assert_eq!(
            timescaledb_sql(&brin, "em_time_brin", "emission_measurements"),
            "CREATE INDEX IF NOT EXISTS \"em_time_brin\" ON \"emission_measurements\" USING brin (\"measurement_time\") \
             WITH (timescaledb.transaction_per_chunk)"
        );
    }

    #[test]
    fn partition_index_names_fit_63_bytes_and_stay_distinct() {
        assert_eq!(
            partition_index_name("em_org", "emission_measurements", "emission_measurements_p20261207"),
            "em_org_p20261207"
        );
        assert_eq!(
            partition_index_name("em_org", "emission_measurements", "emission_measurements_default"),
            "em_org_default"
        );
        let long = "emission_measurements_facility_id_measurement_time_idx";
        let a = partition_index_name(long, "emission_measurements", "emission_measurements_p20261207");
        let b = partition_index_name(long, "emission_measurements", "emission_measurements_p20261214");
        assert!(a.len() <= 63 && b.len() <= 63, "{a} {b}");
        assert_ne!(a, b);
    }

    #[test]
    fn statuses_describe_what_apply_does() {
        let s = IndexStatus {
            table: "t".into(),
            index: "i".into(),
            state: State::Incomplete,
            partitions: Some((14, 12)),
            invalid_on: vec!["t_p1".into()],
        };
        assert_eq!(s.describe(), "~ t.i: incomplete (12 of 14 partitions), INVALID on t_p1: apply builds the rest");
        assert!(s.is_change());
    }
}
