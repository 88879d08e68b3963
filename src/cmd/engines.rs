//! `glctl engines [KIND]`: the capability table that validate, plan and verify consult, as text (one block per
//! engine, within 100 columns), JSON or the Markdown of docs/reference/engines.md.

use serde::Serialize;

use crate::cli::{EnginesArgs, ReferenceFormat};
use crate::engine::capabilities::{self, BACKENDS, TABLE};
use crate::error::{Error, Exit};
use crate::output::wrap;

/// One engine, as printed.
#[derive(Serialize)]
struct EngineRow {
    engine: String,
    timescaledb: &'static str,
    pg_partman: &'static str,
    pg_cron: &'static str,
    backends: Vec<&'static str>,
    storage: Vec<String>,
    /// `None` where glctl does not provision the server.
    max_replicas: Option<usize>,
    max_backup_retention_days: Option<u32>,
    documented_failover_seconds: Option<u32>,
}

/// One time-series backend, as printed.
#[derive(Serialize)]
struct BackendRow {
    backend: &'static str,
    partitioning: &'static str,
    compression: bool,
    retention: &'static str,
    continuous_aggregates: &'static str,
    needs: Vec<&'static str>,
}

fn name_of(value: impl Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn engines() -> Vec<EngineRow> {
    TABLE
        .iter()
        .map(|caps| EngineRow {
            engine: name_of(caps.engine),
            timescaledb: caps.timescaledb.label(),
            pg_partman: caps.pg_partman.label(),
            pg_cron: caps.pg_cron.label(),
            backends: BACKENDS
                .iter()
                .filter(|b| capabilities::supports(caps.engine, b.backend).is_ok())
                .map(|b| capabilities::backend_label(b.backend))
                .collect(),
            storage: caps.storage_types.iter().map(name_of).collect(),
            max_replicas: caps.provisioned.then_some(caps.max_replicas),
            max_backup_retention_days: caps.provisioned.then_some(caps.max_backup_retention_days),
            documented_failover_seconds: caps.documented_failover_seconds,
        })
        .collect()
}

fn backends() -> Vec<BackendRow> {
    BACKENDS
        .iter()
        .map(|b| BackendRow {
            backend: capabilities::backend_label(b.backend),
            partitioning: b.partitioning,
            compression: b.compression,
            retention: b.retention,
            continuous_aggregates: b.continuous_aggregates,
            needs: b.needs.to_vec(),
        })
        .collect()
}

pub fn run(args: &EnginesArgs) -> Result<Exit, Error> {
    let mut engines = engines();
    let mut backends = backends();
    if let Some(kind) = &args.kind {
        engines.retain(|e| e.engine == *kind);
        backends.retain(|b| b.backend == kind);
        if engines.is_empty() && backends.is_empty() {
            let known: Vec<String> = self::engines()
                .into_iter()
                .map(|e| e.engine)
                .chain(self::backends().iter().map(|b| b.backend.to_string()))
                .collect();
            return Err(Error::Usage(format!("no engine or backend '{kind}'; known: {}", known.join(", "))));
        }
    }
    match args.output {
        ReferenceFormat::Markdown => print!("{}", markdown_of(&engines, &backends)),
        ReferenceFormat::Json => super::json::print(serde_json::json!({ "engines": engines, "backends": backends })),
        ReferenceFormat::Text => print!("{}", text(&engines, &backends)),
    }
    Ok(Exit::Ok)
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".into())
}

fn text(engines: &[EngineRow], backends: &[BackendRow]) -> String {
    let mut out = String::new();
    for e in engines {
        out.push_str(&format!("{}\n", e.engine));
        out.push_str(&format!(
            "  extensions: TimescaleDB {}, pg_partman {}, pg_cron {}\n",
            e.timescaledb, e.pg_partman, e.pg_cron
        ));
        out.push_str(&format!("  time-series backends: {}\n", e.backends.join(", ")));
        out.push_str(&wrap(
            &format!("storage: {}", if e.storage.is_empty() { "—".into() } else { e.storage.join(", ") }),
            100,
            "  ",
        ));
        out.push_str(&format!(
            "  max replicas: {}; backup retention: {}; failover (AWS documented): {}\n\n",
            or_dash(e.max_replicas.map(|r| r.to_string())),
            or_dash(e.max_backup_retention_days.map(|d| format!("1–{d} days"))),
            or_dash(e.documented_failover_seconds.map(|s| format!("up to {s} s"))),
        ));
    }
    for b in backends {
        out.push_str(&format!("backend {}\n", b.backend));
        out.push_str(&wrap(&format!("partitioning: {}", b.partitioning), 100, "  "));
        out.push_str(&format!("  compression: {}\n", if b.compression { "yes" } else { "no" }));
        out.push_str(&wrap(&format!("retention: {}", b.retention), 100, "  "));
        out.push_str(&wrap(&format!("continuous aggregates: {}", b.continuous_aggregates), 100, "  "));
        out.push_str(&wrap(&format!("needs: {}", b.needs.join(", ")), 100, "  "));
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

/// The capability table as Markdown (docs/reference/engines.md embeds it).
fn markdown_of(engines: &[EngineRow], backends: &[BackendRow]) -> String {
    let mut out = String::from(
        "| engine | TimescaleDB | pg_partman | pg_cron | time-series backends | storage | max replicas | backup retention | failover (AWS documented) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for e in engines {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            e.engine,
            e.timescaledb,
            e.pg_partman,
            e.pg_cron,
            e.backends.join(", "),
            if e.storage.is_empty() { "—".into() } else { e.storage.join(", ") },
            or_dash(e.max_replicas.map(|r| r.to_string())),
            or_dash(e.max_backup_retention_days.map(|d| format!("1–{d} days"))),
            or_dash(e.documented_failover_seconds.map(|s| format!("up to {s} s"))),
        ));
    }
    out.push_str("\n| backend | partitioning | compression | retention | continuous aggregates | needs |\n|---|---|---|---|---|---|\n");
    for b in backends {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            b.backend,
            b.partitioning,
            if b.compression { "yes" } else { "no" },
            b.retention,
            b.continuous_aggregates,
            b.needs.join(", ")
        ));
    }
    out
}
