//! The objects the migrations made, as the catalog shows them: the triggers, indexes and table grants of
//! the tables and summaries in `public`. `apply` keeps a baseline of them in `glctl.object_baseline` after
//! it has migrated and reconciled, and `drift` compares the catalog with it, so a trigger disabled by hand,
//! a dropped index or a grant added or revoked is seen.
//!
//! Partitions and chunks are left out: pg_partman makes partitions (`relispartition`) and TimescaleDB
//! makes chunks (in `_timescaledb_internal`), and both are expected, never drift.

use std::collections::BTreeSet;

use tokio_postgres::Client;

use crate::config::model::Environment;

/// One object of the catalog, as `kind` and a name that says everything compared about it.
pub type Object = (String, String);

const SNAPSHOT: &str = "
    WITH managed AS (
        SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm', 'v') AND NOT c.relispartition
    )
    SELECT 'trigger', m.relname || '.' || t.tgname || CASE t.tgenabled WHEN 'D' THEN ' (disabled)' ELSE '' END
      FROM pg_trigger t JOIN managed m ON m.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'index', m.relname || '.' || i.relname
      FROM pg_index x JOIN managed m ON m.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
    UNION ALL
    SELECT 'grant', privilege_type || ' on ' || table_name || ' to ' || grantee
      FROM information_schema.role_table_grants g JOIN managed m ON m.relname = g.table_name
     WHERE g.table_schema = 'public' AND g.grantee <> g.grantor";

/// The catalog now.
pub async fn snapshot(client: &Client) -> Result<BTreeSet<Object>, tokio_postgres::Error> {
    Ok(client.query(SNAPSHOT, &[]).await?.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Keeps the catalog now as the baseline drift compares with, and the policies just applied (the
/// environment's hypertables and aggregates), so drift tells a hand change from a change of the file that
/// the next apply or promotion brings.
pub async fn save_baseline(client: &mut Client, env: &Environment) -> Result<(), tokio_postgres::Error> {
    let now = snapshot(client).await?;
    let policies = serde_json::json!({
        "hypertables": env.hypertables,
        "continuous_aggregates": env.continuous_aggregates,
    })
    .to_string();
    let tx = client.transaction().await?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS glctl;
         CREATE TABLE IF NOT EXISTS glctl.object_baseline (kind text NOT NULL, name text NOT NULL,
             recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, name));
         DELETE FROM glctl.object_baseline;",
    )
    .await?;
    for (kind, name) in &now {
        tx.execute("INSERT INTO glctl.object_baseline (kind, name) VALUES ($1, $2)", &[kind, name]).await?;
    }
    tx.execute("INSERT INTO glctl.object_baseline (kind, name) VALUES ('applied policies', $1)", &[&policies]).await?;
    tx.commit().await
}

/// The hypertables and aggregates of the last apply, as an environment to diff the live policies against.
pub fn applied_policies(baseline: &BTreeSet<Object>, env: &Environment) -> Option<Environment> {
    let (_, json) = baseline.iter().find(|(kind, _)| kind == "applied policies")?;
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut applied = env.clone();
    applied.hypertables = serde_json::from_value(value["hypertables"].clone()).ok()?;
    applied.continuous_aggregates = serde_json::from_value(value["continuous_aggregates"].clone()).ok()?;
    Some(applied)
}

/// The baseline `apply` kept; `None` when no apply of this glctl has run against the database.
pub async fn baseline(client: &Client) -> Result<Option<BTreeSet<Object>>, tokio_postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('glctl.object_baseline') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok(None);
    }
    let rows = client.query("SELECT kind, name FROM glctl.object_baseline", &[]).await?;
    Ok(Some(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
}

/// What changed from the baseline, one line each.
pub fn differences(baseline: &BTreeSet<Object>, now: &BTreeSet<Object>) -> Vec<String> {
    let baseline: BTreeSet<Object> = baseline.iter().filter(|(kind, _)| kind != "applied policies").cloned().collect();
    let baseline = &baseline;
    let mut out = Vec::new();
    for (kind, name) in baseline.difference(now) {
        let twin = now.iter().find(|(k, n)| k == kind && same_trigger(n, name));
        match (kind.as_str(), twin) {
            ("trigger", Some((_, n))) => out.push(format!("trigger {n}, was {name}")),
            ("grant", _) => out.push(format!("grant {name} revoked")),
            _ => out.push(format!("{kind} {name} dropped")),
        }
    }
    for (kind, name) in now.difference(baseline) {
        let twin = baseline.iter().any(|(k, n)| k == kind && same_trigger(n, name));
        match kind.as_str() {
            "trigger" if twin => {}
            "grant" => out.push(format!("grant {name} added")),
            _ => out.push(format!("{kind} {name} added")),
        }
    }
    out
}

/// The same trigger, enabled in one and disabled in the other.
fn same_trigger(a: &str, b: &str) -> bool {
    a != b && a.trim_end_matches(" (disabled)") == b.trim_end_matches(" (disabled)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[(&str, &str)]) -> BTreeSet<Object> {
        items.iter().map(|(k, n)| (k.to_string(), n.to_string())).collect()
    }

    #[test]
    fn a_disabled_trigger_a_dropped_index_and_changed_grants_are_named() {
        let base = set(&[
            ("trigger", "audit_logs.audit_logs_immutable"),
            ("index", "audit_logs.audit_logs_pkey"),
            ("grant", "SELECT on audit_logs to app_read"),
        ]);
        let now = set(&[
            ("trigger", "audit_logs.audit_logs_immutable (disabled)"),
            ("grant", "DELETE on audit_logs to app_write"),
        ]);
        assert_eq!(
            differences(&base, &now),
            [
                "grant SELECT on audit_logs to app_read revoked",
                "index audit_logs.audit_logs_pkey dropped",
                "trigger audit_logs.audit_logs_immutable (disabled), was audit_logs.audit_logs_immutable",
                "grant DELETE on audit_logs to app_write added",
            ]
        );
        assert!(differences(&base, &base).is_empty());
    }
}
