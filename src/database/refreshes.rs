//! When `apply` itself populated a summary, so a fresh environment can pass its own verify.
//!
//! A summary is stale when its newest refresh is older than its schedule allows, and apply's own populate
//! is a refresh. Neither backend keeps that time where verify can read it: PostgreSQL records no refresh
//! time for a materialized view (pg_stat_* has none), and a TimescaleDB `refresh_continuous_aggregate` call
//! outside its policy job leaves `job_stats` empty. pg_cron's and TimescaleDB's job history hold only the
//! scheduler's runs, and writing into them would forge what the scheduler did. So glctl keeps its own row per
//! summary in `glctl.summary_refreshes`, next to its migration ledger (`glctl.schema_migrations`), written
//! in the same session right after the refresh succeeded; verify takes the newer of that and the job
//! history.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use crate::config::model::Environment;

pub async fn ensure_table(client: &Client) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS glctl;
             CREATE TABLE IF NOT EXISTS glctl.summary_refreshes (
                 summary text PRIMARY KEY,
                 refreshed_at timestamptz NOT NULL DEFAULT now(),
                 refreshed_by text NOT NULL
             );",
        )
        .await
}

/// Records that `summaries` were just refreshed by `by` (`glctl apply`).
pub async fn record(client: &Client, summaries: &[String], by: &str) -> Result<(), tokio_postgres::Error> {
    if summaries.is_empty() {
        return Ok(());
    }
    ensure_table(client).await?;
    for name in summaries {
        client
            .execute(
                "INSERT INTO glctl.summary_refreshes (summary, refreshed_at, refreshed_by) VALUES ($1, now(), $2)
                 ON CONFLICT (summary) DO UPDATE SET refreshed_at = now(), refreshed_by = excluded.refreshed_by",
                &[name, &by],
            )
            .await?;
    }
    Ok(())
}

/// Summary → seconds since glctl last refreshed it; empty when glctl never did.
pub async fn seconds_since(client: &Client) -> Result<BTreeMap<String, i64>, tokio_postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('glctl.summary_refreshes') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query("SELECT summary, extract(epoch FROM now() - refreshed_at)::bigint FROM glctl.summary_refreshes", &[])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// On TimescaleDB: refreshes once, over its policy's own window, every declared continuous aggregate that
/// has never been refreshed (no successful policy run and no glctl record), so it can be selected and
/// judged at once. What one run of the policy would do; returns the aggregates refreshed.
pub async fn populate_timescaledb(client: &Client, env: &Environment) -> Result<Vec<String>, String> {
    let reason = |e: tokio_postgres::Error| crate::database::connect::reason(&e);
    let recorded = seconds_since(client).await.map_err(reason)?;
    let mut done = Vec::new();
    for (name, aggregate) in &env.continuous_aggregates {
        if recorded.contains_key(name) {
            continue;
        }
        let succeeded: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM timescaledb_information.jobs j
                   JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
                   WHERE j.proc_name = 'policy_refresh_continuous_aggregate' AND j.hypertable_name = $1
                     AND s.last_successful_finish IS NOT NULL)",
                &[name],
            )
            .await
            .map_err(reason)?
            .get(0);
        if succeeded {
            continue;
        }
        // CALL cannot take bind parameters for a procedure's window here, and the values are checked
        // intervals from the model, not user text in SQL.
        let statement = format!(
            "CALL refresh_continuous_aggregate('{}', now() - interval '{}', now() - interval '{}')",
            name.replace('\'', "''"),
            aggregate.refresh.start_offset,
            aggregate.refresh.end_offset
        );
        client.batch_execute(&statement).await.map_err(|e| format!("populating {name}: {}", reason(e)))?;
        done.push(name.clone());
    }
    Ok(done)
}
