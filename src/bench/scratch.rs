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
    /// The schema TimescaleDB's functions live in (`pg_extension`), quoted as needed: every call of one is
    /// qualified with it, so nothing depends on the session's search_path (PGlite's single backend keeps
    /// whatever an earlier client left there).
    pub extension_schema: Option<String>,
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
    let extension_schema = match backend {
        Backend::Timescaledb => Some(extension_schema(control).await?),
        Backend::Native => None,
    };
    control.batch_execute(&format!("CREATE SCHEMA {}", quote(&schema))).await.map_err(bench_error("CREATE SCHEMA"))?;
    let mut scratch = Scratch { schema, backend, extension_schema, intervals: Vec::new() };
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

/// The schema the timescaledb extension is installed in, as an identifier ready for SQL.
pub async fn extension_schema(control: &Client) -> Result<String, BenchError> {
    control
        .query_opt("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'timescaledb'", &[])
        .await
        .map_err(bench_error("the timescaledb extension's schema"))?
        .map(|r| r.get(0))
        .ok_or_else(|| {
            BenchError::NotReady(
                "the timescaledb extension is not installed in this database; run `glctl apply --only database` first"
                    .into(),
            )
        })
}

/// The DDL of one scratch table for a given interval; `extension` is TimescaleDB's schema.
pub fn table_ddl(
    schema: &str,
    backend: Backend,
    extension: &str,
    table: Table,
    interval: &str,
    bounds: &[String],
) -> String {
    let (s, t, time) = (quote(schema), table.name(), table.time_column());
    match backend {
        // The chunks are made by the inserts themselves, as on the real table.
        Backend::Timescaledb => format!(
            "CREATE TABLE {s}.{t} (LIKE public.{t} INCLUDING ALL);\n\
             SELECT {extension}.create_hypertable('{s}.{t}'::regclass, \
             {extension}.by_range('{time}', INTERVAL '{interval}'), create_default_indexes => false);\n"
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
    let extension = scratch.extension_schema.as_deref().unwrap_or("public");
    let ddl = table_ddl(&scratch.schema, scratch.backend, extension, table, &interval, &bounds);
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

/// TimescaleDB's objects of a scratch schema, including those it keeps elsewhere: the hypertables and
/// continuous aggregates of the schema, their chunks, the aggregates' materialization hypertables and their
/// partial and direct views (all in `_timescaledb_internal`), as `schema.name` (quoted). Listed before the drop, checked after it.
pub async fn timescaledb_objects(control: &Client, schema: &str) -> Result<Vec<String>, BenchError> {
    let rows = control
        .query(
            "WITH caggs AS (
                 SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS n
                 FROM timescaledb_information.continuous_aggregates WHERE view_schema = $1::text),
             hypertables AS (
                 SELECT hypertable_schema AS s, hypertable_name AS n FROM timescaledb_information.hypertables
                 WHERE hypertable_schema = $1::text UNION SELECT s, n FROM caggs)
             SELECT format('%I.%I', s, n) FROM hypertables
             UNION SELECT format('%I.%I', c.chunk_schema, c.chunk_name)
                   FROM timescaledb_information.chunks c JOIN hypertables h ON (c.hypertable_schema, c.hypertable_name) = (h.s, h.n)
             UNION SELECT format('%I.%I', view_schema, view_name) FROM timescaledb_information.continuous_aggregates
                   WHERE view_schema = $1::text
             UNION SELECT format('%I.%I', v.s, v.n) FROM _timescaledb_catalog.continuous_agg a,
                   LATERAL (VALUES (a.partial_view_schema, a.partial_view_name),
                                   (a.direct_view_schema, a.direct_view_name)) AS v(s, n)
                   WHERE a.user_view_schema = $1::text
             ORDER BY 1",
            &[&schema],
        )
        .await
        .map_err(bench_error("the scratch schema's TimescaleDB objects"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Which of `objects` (from `timescaledb_objects`) still exist, as relations or in TimescaleDB's catalog.
pub async fn timescaledb_leftovers(
    control: &Client,
    schema: &str,
    objects: &[String],
) -> Result<Vec<String>, BenchError> {
    let rows = control
        .query(
            "SELECT o FROM unnest($1::text[]) AS o WHERE to_regclass(o) IS NOT NULL
             UNION SELECT format('%I.%I', hypertable_schema, hypertable_name) FROM timescaledb_information.hypertables
                   WHERE hypertable_schema = $2::text
             UNION SELECT format('%I.%I', view_schema, view_name) FROM timescaledb_information.continuous_aggregates
                   WHERE view_schema = $2::text
             ORDER BY 1",
            &[&objects, &schema],
        )
        .await
        .map_err(bench_error("checking for TimescaleDB leftovers of the scratch schema"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// A schema name is made by glctl from the prefix and hex digits; quoting keeps that true whatever it is.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
