//! `glctl engines`: the capability table that validate, plan and verify consult.

use crate::engine::capabilities::{self, BACKENDS, TABLE};
use crate::error::{Error, Exit};

pub fn run() -> Result<Exit, Error> {
    print!("{}", markdown());
    Ok(Exit::Ok)
}

/// The capability table as Markdown (also embedded in docs/reference/engines.md).
pub fn markdown() -> String {
    let mut out = String::from(
        "| engine | TimescaleDB | pg_partman | pg_cron | time-series backends | storage | max replicas | backup retention | failover (AWS documented) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for caps in TABLE {
        let backends: Vec<&str> = BACKENDS
            .iter()
            .filter(|b| capabilities::supports(caps.engine, b.backend).is_ok())
            .map(|b| capabilities::backend_label(b.backend))
            .collect();
        let storage: Vec<String> = caps
            .storage_types
            .iter()
            .map(|t| serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
            .collect();
        let engine =
            serde_json::to_value(caps.engine).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        out.push_str(&format!(
            "| `{engine}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            caps.timescaledb.label(),
            caps.pg_partman.label(),
            caps.pg_cron.label(),
            backends.join(", "),
            if storage.is_empty() { "—".into() } else { storage.join(", ") },
            if caps.provisioned { caps.max_replicas.to_string() } else { "—".into() },
            if caps.provisioned { format!("1–{} days", caps.max_backup_retention_days) } else { "—".into() },
            caps.documented_failover_seconds.map_or("—".into(), |s| format!("up to {s} s")),
        ));
    }
    out.push_str("\n| backend | partitioning | compression | retention | continuous aggregates | needs |\n|---|---|---|---|---|---|\n");
    for b in BACKENDS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            capabilities::backend_label(b.backend),
            b.partitioning,
            if b.compression { "yes" } else { "no" },
            b.retention,
            b.continuous_aggregates,
            b.needs.join(", ")
        ));
    }
    out
}
