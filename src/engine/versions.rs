//! The engine versions AWS offers for RDS for PostgreSQL and Aurora PostgreSQL, each with its DB parameter
//! group family: `versions.tsv`, whose header names its sources and the date they were read. `validate`
//! refuses a version the table does not know and names the nearest known ones; what an engine change means
//! (the family a major version moves to) is read from here too.

use std::sync::OnceLock;

use super::kinds::EngineKind;

/// One version of one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub engine: EngineKind,
    /// As AWS spells it (`16.6`).
    pub version: &'static str,
    pub major: u32,
    pub minor: u32,
    /// The DB parameter group family (`postgres16`, `aurora-postgresql16`).
    pub family: &'static str,
}

const TABLE: &str = include_str!("versions.tsv");

/// The table's name for `kind`; `None` for a server glctl does not provision.
pub fn engine_name(kind: EngineKind) -> Option<&'static str> {
    match kind {
        EngineKind::RdsPostgresql => Some("rds-postgresql"),
        EngineKind::AuroraPostgresql => Some("aurora-postgresql"),
        EngineKind::External => None,
    }
}

/// `major.minor` as numbers.
pub fn split(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn parse(text: &'static str) -> Result<Vec<Version>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    match lines.next() {
        Some((_, "engine\tversion\tfamily")) => {}
        other => return Err(format!("the header line is not `engine\\tversion\\tfamily`: {other:?}")),
    }
    lines
        .map(|(i, line)| {
            let at = |why: String| format!("versions.tsv line {}: {why}", i + 1);
            let fields: Vec<&'static str> = line.split('\t').collect();
            let [engine, version, family] = fields[..] else {
                return Err(at(format!("expected 3 tab-separated fields, found {}", fields.len())));
            };
            let engine = [EngineKind::RdsPostgresql, EngineKind::AuroraPostgresql]
                .into_iter()
                .find(|k| engine_name(*k) == Some(engine))
                .ok_or_else(|| at(format!("unknown engine {engine:?}")))?;
            let (major, minor) = split(version).ok_or_else(|| at(format!("{version:?} is not major.minor")))?;
            let expected = format!(
                "{}{major}",
                if engine == EngineKind::RdsPostgresql { "postgres" } else { "aurora-postgresql" }
            );
            if family != expected {
                return Err(at(format!("{version} of {engine:?} has family {family}, expected {expected}")));
            }
            Ok(Version { engine, version, major, minor, family })
        })
        .collect()
}

/// Every version in the table (parsed once; a test keeps the file parseable).
pub fn table() -> &'static [Version] {
    static PARSED: OnceLock<Vec<Version>> = OnceLock::new();
    PARSED.get_or_init(|| parse(TABLE).unwrap_or_else(|why| panic!("src/engine/versions.tsv: {why}")))
}

/// `version` of `kind`, if the table knows it.
pub fn find(kind: EngineKind, version: &str) -> Option<&'static Version> {
    table().iter().find(|v| v.engine == kind && v.version == version)
}

/// Up to `n` versions of `kind` nearest to `version` (the same major version first, then the closest minor),
/// in ascending order.
pub fn nearest(kind: EngineKind, version: &str, n: usize) -> Vec<&'static str> {
    let (major, minor) = split(version).unwrap_or((0, 0));
    let mut known: Vec<&Version> = table().iter().filter(|v| v.engine == kind).collect();
    known.sort_by_key(|v| (v.major.abs_diff(major), v.minor.abs_diff(minor), v.major, v.minor));
    known.truncate(n);
    known.sort_by_key(|v| (v.major, v.minor));
    known.into_iter().map(|v| v.version).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_names_each_version_once() {
        let table = parse(TABLE).unwrap();
        assert!(table.len() > 100, "{} versions", table.len());
        let mut seen = std::collections::BTreeSet::new();
        for v in &table {
            assert!(seen.insert((engine_name(v.engine), v.version)), "{v:?} twice");
            assert!((13..=17).contains(&v.major), "{v:?}: glctl supports PostgreSQL 13 to 17");
        }
        assert!(TABLE.lines().take(12).any(|l| l.starts_with("# ") && l.contains("Read 20")), "the date it was read");
        assert!(TABLE.lines().any(|l| l.contains("https://docs.aws.amazon.com/")), "its source");
    }

    #[test]
    fn the_versions_glctl_s_environments_use_are_known_with_their_family() {
        assert_eq!(find(EngineKind::RdsPostgresql, "16.6").map(|v| v.family), Some("postgres16"));
        assert_eq!(find(EngineKind::AuroraPostgresql, "16.6").map(|v| v.family), Some("aurora-postgresql16"));
        assert_eq!(find(EngineKind::AuroraPostgresql, "17.4").map(|v| v.family), Some("aurora-postgresql17"));
        assert_eq!(find(EngineKind::RdsPostgresql, "16.99"), None);
        assert_eq!(find(EngineKind::External, "16.6"), None, "no table for a server glctl does not provision");
    }

    #[test]
    fn the_nearest_versions_share_the_major_version_first() {
        assert_eq!(nearest(EngineKind::RdsPostgresql, "16.99", 3), ["16.11", "16.12", "16.13"]);
        assert_eq!(nearest(EngineKind::AuroraPostgresql, "16.5", 2), ["16.4", "16.6"]);
        assert_eq!(nearest(EngineKind::AuroraPostgresql, "17.1", 1), ["17.4"]);
    }

    #[test]
    fn a_malformed_table_is_refused_with_its_line() {
        let bad = "# c\nengine\tversion\tfamily\nrds-postgresql\t16.6\tpostgres15\n";
        assert_eq!(
            parse(bad).unwrap_err(),
            "versions.tsv line 3: 16.6 of RdsPostgresql has family postgres15, expected postgres16"
        );
        assert!(parse("engine\tversion\nx\n").unwrap_err().contains("header line"));
        assert!(parse("engine\tversion\tfamily\nmysql\t8.0\tmysql8.0\n").unwrap_err().contains("unknown engine"));
    }
}
