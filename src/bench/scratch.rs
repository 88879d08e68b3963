//! The scratch schema bench writes into: tables made like the real ones (`LIKE … INCLUDING ALL`: columns,
//! defaults, constraints, indexes), partitioned as the real ones are (the live chunk interval of the
//! hypertable, or pg_partman's partition interval with a default partition), in the environment's own
//! database, so the same extensions and settings apply. It is dropped at the end, on error and on Ctrl-C.
//!
//! A run holds a session advisory lock on its schema's name for as long as it lives; a schema whose lock
//! nobody holds belongs to a run that was killed (SIGKILL, a lost machine) and is dropped by the next run.

use tokio_postgres::Client;

use super::generator::{Table, RANGE_START};
use super::BenchError;
use crate::config::model::Backend;

/// Prefix of every scratch schema; nothing else is ever dropped.
pub const PREFIX: &str = "glctl_bench_";
/// The first key of the advisory lock (the second is the schema name's hash): "glb\0".
const LOCK_CLASS: i32 = 0x676c_6200;

pub struct Scratch {
    pub schema: String,
    pub backend: Backend,
    /// The real table's chunk or partition interval, as the server prints it.
    pub intervals: Vec<(Table, String)>,
}

fn bench_error(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> BenchError {
    move |e| BenchError::Sql { what, reason: crate::database::connect::reason(&e) }
}

/// Drops the scratch schemas of runs that no longer exist; returns their names.
pub async fn drop_orphans(control: &Client) -> Result<Vec<String>, BenchError> {
    let rows = control
        .query("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1::text) ORDER BY 1", &[&PREFIX])
        .await
        .map_err(bench_error("the scratch schemas of earlier runs"))?;
    let mut dropped = Vec::new();
    for row in rows {
        let schema: String = row.get(0);
        let free: bool = control
            .query_one("SELECT pg_try_advisory_lock($1, hashtext($2))", &[&LOCK_CLASS, &schema])
            .await
            .map_err(bench_error("the advisory lock of a scratch schema"))?
            .get(0);
        if free {
            control
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", quote(&schema)))
                .await
                .map_err(bench_error("dropping an orphaned scratch schema"))?;
            control
                .query_one("SELECT pg_advisory_unlock($1, hashtext($2))", &[&LOCK_CLASS, &schema])
                .await
                .map_err(bench_error("the advisory lock of a scratch schema"))?;
            dropped.push(schema);
        }
    }
    Ok(dropped)
}

/// Creates the scratch schema and its tables. On failure whatever was made is dropped again.
pub async fn create(control: &Client, backend: Backend, tables: &[Table], name: &str) -> Result<Scratch, BenchError> {
    let schema = format!("{PREFIX}{name}");
    control
        .query_one("SELECT pg_advisory_lock($1, hashtext($2))", &[&LOCK_CLASS, &schema])
        .await
        .map_err(bench_error("the scratch schema's advisory lock"))?;
    control.batch_execute(&format!("CREATE SCHEMA {}", quote(&schema))).await.map_err(bench_error("CREATE SCHEMA"))?;
    let mut scratch = Scratch { schema, backend, intervals: Vec::new() };
    for table in tables {
        match create_table(control, &scratch, *table).await {
            Ok(interval) => scratch.intervals.push((*table, interval)),
            Err(e) => {
                let _ = drop(control, &scratch).await;
                return Err(e);
            }
        }
    }
    Ok(scratch)
}

/// The DDL of one scratch table for a given interval (public so the benchmark script's `psql` runs can make
/// the very same table: `glctl bench --dump`).
pub fn table_ddl(schema: &str, backend: Backend, table: Table, interval: &str, bounds: &[String]) -> String {
    let (s, t, time) = (quote(schema), table.name(), table.time_column());
    match backend {
        Backend::Timescaledb => format!(
            "CREATE TABLE {s}.{t} (LIKE public.{t} INCLUDING ALL);\n\
             SELECT create_hypertable('{s}.{t}'::regclass, by_range('{time}', INTERVAL '{interval}'), \
             create_default_indexes => false);\n"
        ),
        Backend::Native => {
            let mut ddl =
                format!("CREATE TABLE {s}.{t} (LIKE public.{t} INCLUDING ALL) PARTITION BY RANGE ({time});\n");
            for pair in bounds.windows(2) {
                let suffix: String = pair[0].chars().filter(char::is_ascii_digit).take(14).collect();
                ddl.push_str(&format!(
                    "CREATE TABLE {s}.{t}_p{suffix} PARTITION OF {s}.{t} FOR VALUES FROM ('{}') TO ('{}');\n",
                    pair[0], pair[1]
                ));
            }
            ddl.push_str(&format!("CREATE TABLE {s}.{t}_default PARTITION OF {s}.{t} DEFAULT;\n"));
            ddl
        }
    }
}

/// The real table's interval, and the partition bounds covering the generator's range on `native`.
pub async fn layout(control: &Client, backend: Backend, table: Table) -> Result<(String, Vec<String>), BenchError> {
    let interval: Option<String> = match backend {
        Backend::Timescaledb => control
            .query_opt(
                "SELECT time_interval::text FROM timescaledb_information.dimensions
                 WHERE hypertable_schema = 'public' AND hypertable_name = $1 AND dimension_number = 1",
                &[&table.name()],
            )
            .await
            .map_err(bench_error("the hypertable's chunk interval"))?
            .map(|r| r.get(0)),
        Backend::Native => control
            .query_opt(
                "SELECT partition_interval FROM partman.part_config WHERE parent_table = $1",
                &[&format!("public.{}", table.name())],
            )
            .await
            .map_err(bench_error("pg_partman's partition interval"))?
            .map(|r| r.get(0)),
    };
    let interval = interval.ok_or_else(|| {
        BenchError::NotReady(format!(
            "public.{} is not partitioned by {} yet; run `glctl apply --only database` first",
            table.name(),
            match backend {
                Backend::Timescaledb => "TimescaleDB",
                Backend::Native => "pg_partman",
            }
        ))
    })?;
    if backend == Backend::Timescaledb {
        return Ok((interval, Vec::new()));
    }
    // Partition bounds from the start of the range to past its end, computed by the server from the interval
    // (a month is not 30 days), aligned as pg_partman aligns: to the interval's own boundary (weeks on Monday).
    let start_micros = RANGE_START;
    let end_micros = RANGE_START + table.range_micros();
    let rows = control
        .query(
            "WITH r AS (SELECT TIMESTAMPTZ '2000-01-01 00:00:00+00' + make_interval(secs => $1::float8 / 1e6) AS s,
                               TIMESTAMPTZ '2000-01-01 00:00:00+00' + make_interval(secs => $2::float8 / 1e6) AS e)
             SELECT to_char(b AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'
             FROM r, generate_series(date_trunc(CASE WHEN $3::text::interval >= interval '7 days' AND $3::text::interval < interval '1 month' THEN 'week' ELSE 'day' END, r.s, 'UTC'),
                                     r.e + $3::text::interval, $3::text::interval) AS b",
            &[&(start_micros as f64), &(end_micros as f64), &interval],
        )
        .await
        .map_err(bench_error("the scratch partitions' bounds"))?;
    Ok((interval, rows.iter().map(|r| r.get(0)).collect()))
}

async fn create_table(control: &Client, scratch: &Scratch, table: Table) -> Result<String, BenchError> {
    let (interval, bounds) = layout(control, scratch.backend, table).await?;
    let ddl = table_ddl(&scratch.schema, scratch.backend, table, &interval, &bounds);
    control.batch_execute(&ddl).await.map_err(bench_error("creating a scratch table"))?;
    Ok(interval)
}

/// Drops the scratch schema with everything in it and releases its lock.
pub async fn drop(control: &Client, scratch: &Scratch) -> Result<(), BenchError> {
    control
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", quote(&scratch.schema)))
        .await
        .map_err(bench_error("dropping the scratch schema"))?;
    control
        .query_one("SELECT pg_advisory_unlock($1, hashtext($2))", &[&LOCK_CLASS, &scratch.schema])
        .await
        .map_err(bench_error("the scratch schema's advisory lock"))?;
    Ok(())
}

/// A schema name is made by glctl from the prefix and hex digits; quoting keeps that true whatever it is.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
