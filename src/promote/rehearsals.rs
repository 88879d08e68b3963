//! The rehearsals a promotion's `rehearsed` gate reads: `glctl migrate rehearse -e ENV` writes one record per
//! set of migrations rehearsed, `.glctl/ENV/rehearsals/<key>.json`, keyed by the migrations' versions and
//! checksums (a changed file is a migration that was never rehearsed). A later rehearsal of the same set
//! replaces the earlier one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One migration as a rehearsal measured it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RehearsedMigration {
    pub file: String,
    pub version: i32,
    pub checksum: String,
    /// The longest an application session stalled on this migration's locks.
    pub longest_stall_ms: f64,
    /// It applied in the scratch copy and its statements stayed within the budget.
    pub within_budget: bool,
}

/// A rehearsal, as written under the environment's work directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RehearsalRecord {
    pub environment: String,
    pub at: String,
    pub budget_ms: u64,
    /// `pass`, `fail` or `not_measured`.
    pub verdict: String,
    pub rows: u64,
    pub partitions: i64,
    pub migrations: Vec<RehearsedMigration>,
}

/// The record's file name for a set of migrations: the SHA-256 of their `version checksum` lines.
pub fn key(migrations: &[(i32, String)]) -> String {
    let mut lines: Vec<String> = migrations.iter().map(|(v, c)| format!("{v:04} {c}\n")).collect();
    lines.sort();
    format!("{:x}", Sha256::digest(lines.concat().as_bytes()))
}

pub fn dir(work_dir: &Path) -> PathBuf {
    work_dir.join("rehearsals")
}

/// Writes `record` (replacing a rehearsal of the same migrations); returns its path.
pub fn save(work_dir: &Path, record: &RehearsalRecord) -> Result<PathBuf, String> {
    let set: Vec<(i32, String)> = record.migrations.iter().map(|m| (m.version, m.checksum.clone())).collect();
    let dir = dir(work_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{}.json", key(&set)));
    let text = serde_json::to_string_pretty(record).expect("a record serializes");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Every readable record of the environment, oldest first; a file that does not read is named in `Err`.
pub fn load_all(work_dir: &Path) -> Result<Vec<RehearsalRecord>, String> {
    let dir = dir(work_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
    let mut records = Vec::new();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let record: RehearsalRecord =
            serde_json::from_str(&text).map_err(|e| format!("{} is not a rehearsal record: {e}", path.display()))?;
        records.push(record);
    }
    records.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_set_of_versions_and_checksums_in_any_order() {
        let a = (9, "aa".to_string());
        let b = (10, "bb".to_string());
        assert_eq!(key(&[a.clone(), b.clone()]), key(&[b.clone(), a.clone()]));
        assert_ne!(key(std::slice::from_ref(&a)), key(&[(9, "changed".to_string())]));
    }

    #[test]
    fn a_saved_record_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let record = RehearsalRecord {
            environment: "dev".into(),
            at: "2026-12-08T00:00:00Z".into(),
            budget_ms: 200,
            verdict: "pass".into(),
            rows: 10,
            partitions: 12,
            migrations: vec![RehearsedMigration {
                file: "0009_x.sql".into(),
                version: 9,
                checksum: "c".into(),
                longest_stall_ms: 12.0,
                within_budget: true,
            }],
        };
        let path = save(dir.path(), &record).unwrap();
        assert!(path.starts_with(dir.path().join("rehearsals")));
        let back = load_all(dir.path()).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].migrations, record.migrations);
        assert!(load_all(&dir.path().join("none")).unwrap().is_empty());
    }
}
