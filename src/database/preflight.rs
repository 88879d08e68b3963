//! Checks made before any migration runs: the extensions the migrations need are offered by the server and,
//! for those that only work preloaded (TimescaleDB, pg_cron), loaded at server start. A missing TimescaleDB is
//! the usual case (Amazon RDS and Aurora do not offer it), so the message names the engine and the ways out
//! instead of letting a migration fail half-way.

use tokio_postgres::Client;

use super::migrate::Migration;
use super::DatabaseError;
use crate::config::model::{EngineKind, Environment};
use crate::engine::capabilities;

/// Extensions whose library must be in `shared_preload_libraries`, and a setting that exists exactly when
/// the library is loaded (some servers load it without listing it there, as PGlite does TimescaleDB).
const PRELOADED: &[(&str, &str)] = &[("timescaledb", "timescaledb."), ("pg_cron", "cron."), ("pgaudit", "pgaudit.")];

/// What the server says about one needed extension.
#[derive(Debug, PartialEq, Eq)]
struct Offered {
    name: String,
    available: bool,
    /// The library is loaded: listed in shared_preload_libraries or its settings exist.
    loaded: bool,
}

pub async fn check_extensions(
    client: &Client,
    migrations: &[&Migration],
    env: &Environment,
) -> Result<(), DatabaseError> {
    let needed = needed_by(migrations);
    if needed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = needed.iter().map(|(n, _)| n.as_str()).collect();
    let preload = client
        .query_one("SELECT current_setting('shared_preload_libraries')", &[])
        .await
        .map_err(DatabaseError::query("shared_preload_libraries"))?
        .get::<_, String>(0);
    let mut offered = Vec::new();
    for name in &names {
        let row = client
            .query_one("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1)", &[name])
            .await
            .map_err(DatabaseError::query("the server's extensions"))?;
        let loaded = match PRELOADED.iter().find(|(ext, _)| ext == name) {
            None => true,
            Some((_, prefix)) => {
                is_listed(&preload, name)
                    || client
                        .query_one("SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name LIKE $1 || '%')", &[prefix])
                        .await
                        .map_err(DatabaseError::query("the server's settings"))?
                        .get(0)
            }
        };
        offered.push(Offered { name: name.to_string(), available: row.get(0), loaded });
    }
    match verdict(&needed, &offered, env) {
        None => Ok(()),
        Some(message) => Err(DatabaseError::Preflight(message)),
    }
}

/// Each extension the migrations require, with the files that need it, in first-use order.
fn needed_by(migrations: &[&Migration]) -> Vec<(String, Vec<String>)> {
    let mut needed: Vec<(String, Vec<String>)> = Vec::new();
    for m in migrations {
        for ext in &m.requires {
            match needed.iter_mut().find(|(name, _)| name == ext) {
                Some((_, files)) => files.push(m.file_name()),
                None => needed.push((ext.clone(), vec![m.file_name()])),
            }
        }
    }
    needed
}

/// `shared_preload_libraries` is a comma-separated list, entries possibly quoted or with a path.
fn is_listed(preload: &str, library: &str) -> bool {
    preload
        .split(',')
        .map(|entry| entry.trim().trim_matches('"'))
        .any(|entry| entry == library || entry.rsplit('/').next() == Some(library))
}

/// The refusal, or `None` when every extension can be created.
fn verdict(needed: &[(String, Vec<String>)], offered: &[Offered], env: &Environment) -> Option<String> {
    let files = |name: &str| needed.iter().find(|(n, _)| n == name).map(|(_, f)| f.join(", ")).unwrap_or_default();
    let engine = capabilities::engine_label(env.engine.kind);
    let backend = capabilities::backend_label(env.timeseries.backend);
    let missing: Vec<&Offered> = offered.iter().filter(|o| !o.available).collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|o| format!("  {}, needed by {}", o.name, files(&o.name))).collect();
        let options = if missing.iter().any(|o| o.name == "timescaledb") {
            "\noptions: point the environment at a server with TimescaleDB (`engine.kind: external`), or use \
             `timeseries.backend: native` (pg_partman partitions, no compression), which RDS and Aurora support"
        } else {
            ""
        };
        return Some(format!(
            "the database server ({engine}, timeseries.backend {backend}) does not offer these extensions; nothing was run:\n{}{options}",
            list.join("\n")
        ));
    }
    // Even an extension created earlier fails in every session where its library is not loaded.
    let unloaded: Vec<&Offered> = offered.iter().filter(|o| !o.loaded).collect();
    if unloaded.is_empty() {
        return None;
    }
    let names: Vec<&str> = unloaded.iter().map(|o| o.name.as_str()).collect();
    let list: Vec<String> = unloaded.iter().map(|o| format!("  {}, needed by {}", o.name, files(&o.name))).collect();
    let how = match env.engine.kind {
        EngineKind::External => format!(
            "add {} to shared_preload_libraries in the server's postgresql.conf and restart it",
            names.join(", ")
        ),
        _ => format!(
            "add {} to `parameters.shared_preload_libraries` in the environment file, `glctl apply` it, and reboot \
             the instances (the parameter is static)",
            names.join(", ")
        ),
    };
    Some(format!(
        "the database server ({engine}) offers these extensions but has not loaded them at start, and they only \
         work preloaded; nothing was run:\n{}\nto fix: {how}",
        list.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::{is_listed, verdict, Offered};
    use crate::config::model::Environment;

    fn env(kind: &str, backend: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\nengine: {{ kind: {kind}, version: '16.6' }}\ntimeseries: {{ backend: {backend} }}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn offered(name: &str, available: bool, loaded: bool) -> Offered {
        Offered { name: name.into(), available, loaded }
    }

    fn needs(name: &str) -> Vec<(String, Vec<String>)> {
        vec![(name.to_string(), vec!["0002_timeseries_tables.timescaledb.sql".into()])]
    }

    #[test]
    fn a_library_is_listed_with_or_without_quotes_and_paths() {
        assert!(is_listed("pg_stat_statements, timescaledb", "timescaledb"));
        assert!(is_listed("\"$libdir/pg_cron\"", "pg_cron"));
        assert!(!is_listed("", "pg_cron"));
        assert!(!is_listed("pg_cronx", "pg_cron"));
    }

    #[test]
    fn an_extension_the_server_lacks_names_the_files_and_the_ways_out() {
        let message =
            verdict(&needs("timescaledb"), &[offered("timescaledb", false, false)], &env("external", "timescaledb"))
                .unwrap();
        assert!(message.contains("does not offer these extensions"), "{message}");
        assert!(message.contains("timescaledb, needed by 0002_timeseries_tables.timescaledb.sql"), "{message}");
        assert!(message.contains("timeseries.backend: native"), "{message}");
    }

    #[test]
    fn an_installed_package_that_is_not_preloaded_says_what_to_set() {
        let message =
            verdict(&needs("timescaledb"), &[offered("timescaledb", true, false)], &env("external", "timescaledb"))
                .unwrap();
        assert!(message.contains("has not loaded them at start"), "{message}");
        assert!(
            message.contains("add timescaledb to shared_preload_libraries in the server's postgresql.conf"),
            "{message}"
        );
    }

    #[test]
    fn on_rds_the_fix_is_the_parameter_group() {
        let message =
            verdict(&needs("pg_cron"), &[offered("pg_cron", true, false)], &env("rds-postgresql", "native")).unwrap();
        assert!(message.contains("`parameters.shared_preload_libraries`"), "{message}");
    }

    #[test]
    fn an_offered_and_loaded_extension_passes() {
        let e = env("external", "timescaledb");
        assert_eq!(verdict(&needs("timescaledb"), &[offered("timescaledb", true, true)], &e), None);
    }
}
