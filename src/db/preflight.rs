//! Checks made before any migration runs: the extensions the migrations need are offered by the server.
//! A missing TimescaleDB is the usual case (Amazon RDS and Aurora do not offer it), so the message names
//! the engine and the ways out instead of letting a migration fail half-way.

use tokio_postgres::Client;

use super::migrate::Migration;
use crate::capabilities;
use crate::config::model::Environment;

/// Every extension `migrations` require that `pg_available_extensions` does not list, with the files
/// that need it; the error explains what to do.
pub async fn check_extensions(client: &Client, migrations: &[&Migration], env: &Environment) -> Result<(), String> {
    let mut needed: Vec<(&str, Vec<String>)> = Vec::new();
    for m in migrations {
        for ext in &m.requires {
            match needed.iter_mut().find(|(name, _)| name == ext) {
                Some((_, files)) => files.push(m.file_name()),
                None => needed.push((ext, vec![m.file_name()])),
            }
        }
    }
    if needed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = needed.iter().map(|(n, _)| *n).collect();
    let available: Vec<String> = client
        .query("SELECT name::text FROM pg_available_extensions WHERE name = ANY($1)", &[&names])
        .await
        .map_err(|e| format!("cannot list the server's extensions: {e}"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing: Vec<String> = needed
        .iter()
        .filter(|(name, _)| !available.iter().any(|a| a == name))
        .map(|(name, files)| format!("  {name}, needed by {}", files.join(", ")))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let engine = capabilities::engine_label(env.engine.kind);
    let options = if names.contains(&"timescaledb") {
        "\noptions: point the environment at a server with TimescaleDB (`engine.kind: external`), or use \
         `timeseries.backend: native` (pg_partman partitions, no compression), which RDS and Aurora support"
    } else {
        ""
    };
    Err(format!(
        "the database server ({engine}, timeseries.backend {}) does not offer these extensions; nothing was run:\n{}{options}",
        capabilities::backend_label(env.timeseries.backend),
        missing.join("\n")
    ))
}
