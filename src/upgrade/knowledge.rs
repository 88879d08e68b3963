//! What glctl knows of extensions across engine versions (`extensions.tsv`, with its sources and date), the
//! minimum source versions AWS documents for Blue/Green's logical replication, and what moving an
//! extension from one version to another changes. Pure.

use std::cmp::Ordering;
use std::sync::OnceLock;

use crate::engine::kinds::EngineKind;
use crate::engine::versions;

/// One row of `extensions.tsv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub engine: EngineKind,
    pub major: u32,
    pub from_minor: u32,
    pub extension: &'static str,
    pub version: &'static str,
    pub source: &'static str,
}

const TABLE: &str = include_str!("extensions.tsv");

/// The table's engine name: `external` too (its rows hold upstream's minimum, not what a server offers).
pub fn engine_name(kind: EngineKind) -> &'static str {
    versions::engine_name(kind).unwrap_or("external")
}

fn parse(text: &'static str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    match lines.next() {
        Some((_, "engine\tfrom\textension\tversion\tsource")) => {}
        other => {
            return Err(format!("the header line is not `engine\\tfrom\\textension\\tversion\\tsource`: {other:?}"))
        }
    }
    let sources: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("#   "))
        .filter_map(|l| l.split_once(": http").map(|(name, _)| name))
        .collect();
    lines
        .map(|(i, line)| {
            let at = |why: String| format!("extensions.tsv line {}: {why}", i + 1);
            let fields: Vec<&'static str> = line.split('\t').collect();
            let [engine, from, extension, version, source] = fields[..] else {
                return Err(at(format!("expected 5 tab-separated fields, found {}", fields.len())));
            };
            let engine = [EngineKind::RdsPostgresql, EngineKind::AuroraPostgresql, EngineKind::External]
                .into_iter()
                .find(|k| engine_name(*k) == engine)
                .ok_or_else(|| at(format!("unknown engine {engine:?}")))?;
            let (major, from_minor) =
                versions::split(from).ok_or_else(|| at(format!("{from:?} is not major.minor")))?;
            if split_version(version).is_empty() {
                return Err(at(format!("{version:?} is not a dotted version")));
            }
            if !sources.contains(&source) {
                return Err(at(format!("source {source:?} is not named in the header's Sources")));
            }
            Ok(Row { engine, major, from_minor, extension, version, source })
        })
        .collect()
}

/// Every row (parsed once; a test keeps the file parseable).
pub fn table() -> &'static [Row] {
    static PARSED: OnceLock<Vec<Row>> = OnceLock::new();
    PARSED.get_or_init(|| parse(TABLE).unwrap_or_else(|why| panic!("src/upgrade/extensions.tsv: {why}")))
}

/// What the table says of `extension` on `kind` at `version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// The table does not track this extension for this engine at all.
    Untracked,
    /// Tracked, but no row covers this major version: the engine does not offer it (RDS, Aurora).
    NotOffered,
    /// The row that holds for this version.
    Version(&'static Row),
}

pub fn lookup(kind: EngineKind, version: &str, extension: &str) -> Known {
    let (major, minor) = versions::split(version).unwrap_or((0, 0));
    let rows: Vec<&Row> = table().iter().filter(|r| r.engine == kind && r.extension == extension).collect();
    if rows.is_empty() {
        return Known::Untracked;
    }
    rows.into_iter()
        .filter(|r| r.major == major && r.from_minor <= minor)
        .max_by_key(|r| r.from_minor)
        .map_or(Known::NotOffered, Known::Version)
}

/// `4.7.0` → `[4, 7, 0]`; non-numeric parts end the list (`1.6.4-beta` → `[1, 6]`).
pub fn split_version(version: &str) -> Vec<u64> {
    version.split(['.', '-']).map_while(|p| p.parse().ok()).collect()
}

/// Compares dotted versions numerically (`1.10` after `1.9`).
pub fn compare(a: &str, b: &str) -> Ordering {
    split_version(a).cmp(&split_version(b))
}

/// The oldest minor version of each major from which AWS's Blue/Green Deployments replicate a major-version
/// upgrade logically (RDS for PostgreSQL and Aurora PostgreSQL, "Limitations for blue/green deployments"
/// in the RDS and Aurora user guides, read 2026-12-08). Majors above the last listed have no minimum.
pub const LOGICAL_REPLICATION_MINIMUM: &[(u32, u32)] = &[(11, 21), (12, 16), (13, 12), (14, 9), (15, 4), (16, 1)];

/// The minimum `major.minor` for logical replication from `major`, if there is one.
pub fn logical_replication_minimum(major: u32) -> Option<(u32, u32)> {
    LOGICAL_REPLICATION_MINIMUM.iter().find(|(m, _)| *m == major).copied()
}

/// What moving `extension` from `from` to `to` changes, as far as glctl knows; empty for a plain update.
pub fn path_notes(extension: &str, from: &str, to: &str) -> Vec<String> {
    let major = |v: &str| split_version(v).first().copied().unwrap_or(0);
    let mut notes = Vec::new();
    match extension {
        "pg_partman" if major(from) < 5 && major(to) >= 5 => notes.extend([
            "pg_partman 4 → 5 changes its configuration table and functions: part_config's partition_type \
             'native' becomes 'range', trigger-based partition sets are no longer supported, create_parent \
             takes no p_type 'native' (its argument order changed) and the quarterly and ISO-weekly intervals \
             are gone; ignore_default_data defaults to true"
                .to_string(),
            "glctl's reconciler reads the installed version and calls create_parent the 5.x way by itself; \
             after the update glctl must re-read part_config (`glctl apply --only database`, which must find \
             nothing to change), and a migration that passes p_type 'native' without reading the installed \
             version must be migrated (it fails on 5.x)"
                .to_string(),
            "the update is known to fail on RDS in the wild (pg_partman issue #599): rehearse it on a restored \
             snapshot before production"
                .to_string(),
        ]),
        "pg_cron" if compare(from, to) == Ordering::Less => notes.push(format!(
            "ALTER EXTENSION pg_cron UPDATE runs in pg_cron's database (cron.database_name); jobs and their \
             history are kept; pg_cron {to} keeps cron.schedule_in_database, which glctl's jobs use"
        )),
        "timescaledb" => notes.push(
            "ALTER EXTENSION timescaledb UPDATE must be the first command of a fresh session (psql -X), and \
             every session opened before it must be recycled (PgBouncer RECONNECT, application restarts): an \
             old session keeps the old library loaded"
                .to_string(),
        ),
        _ => {}
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_names_its_sources_and_the_date_it_was_read() {
        let rows = parse(TABLE).unwrap();
        assert!(rows.len() >= 30, "{} rows", rows.len());
        assert!(TABLE.lines().take(3).any(|l| l.contains("Read 20")), "the date it was read");
        let mut seen = std::collections::BTreeSet::new();
        for r in &rows {
            assert!(seen.insert((engine_name(r.engine), r.major, r.from_minor, r.extension)), "{r:?} twice");
            if r.engine != EngineKind::External {
                let first = format!("{}.{}", r.major, r.from_minor);
                assert!(versions::find(r.engine, &first).is_some(), "{r:?}: {first} is not in versions.tsv");
            }
        }
    }

    #[test]
    fn a_malformed_table_is_refused_with_its_line() {
        let head = "#   aws-rds: https://x\nengine\tfrom\textension\tversion\tsource\n";
        let bad = format!("{head}rds-postgresql\t16\tpg_cron\t1.6\taws-rds\n");
        assert_eq!(
            parse(Box::leak(bad.into_boxed_str())).unwrap_err(),
            "extensions.tsv line 3: \"16\" is not major.minor"
        );
        let bad = format!("{head}rds-postgresql\t16.1\tpg_cron\t1.6\tmemory\n");
        assert!(parse(Box::leak(bad.into_boxed_str())).unwrap_err().contains("not named in the header"));
        assert!(parse("engine\tversion\n").unwrap_err().contains("header line"));
    }

    #[test]
    fn the_row_for_a_version_is_the_latest_of_its_major_at_or_before_it() {
        let at = |kind, v, e| match lookup(kind, v, e) {
            Known::Version(r) => r.version.to_string(),
            other => format!("{other:?}"),
        };
        assert_eq!(at(EngineKind::RdsPostgresql, "16.2", "pg_partman"), "4.7.3");
        assert_eq!(at(EngineKind::RdsPostgresql, "16.6", "pg_partman"), "5.0.1");
        assert_eq!(at(EngineKind::AuroraPostgresql, "17.4", "pg_partman"), "5.1.0");
        assert_eq!(at(EngineKind::RdsPostgresql, "18.1", "pg_cron"), "NotOffered");
        assert_eq!(at(EngineKind::RdsPostgresql, "17.1", "timescaledb"), "Untracked");
        assert_eq!(at(EngineKind::External, "16.1", "timescaledb"), "2.13.0");
    }

    #[test]
    fn versions_compare_by_number_and_the_partman_major_change_says_what_glctl_must_migrate() {
        assert_eq!(compare("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare("4.7.0", "5.0.1"), Ordering::Less);
        let notes = path_notes("pg_partman", "4.7.0", "5.1.0").join(" ");
        assert!(notes.contains("configuration table") && notes.contains("must be migrated"), "{notes}");
        assert!(notes.contains("#599"), "{notes}");
        assert!(path_notes("pg_partman", "5.0.1", "5.1.0").is_empty());
        assert!(path_notes("timescaledb", "2.13.0", "2.17.0")[0].contains("first command of a fresh session"));
        assert_eq!(logical_replication_minimum(15), Some((15, 4)));
        assert_eq!(logical_replication_minimum(17), None);
    }
}
